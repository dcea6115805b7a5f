// Small DOM helpers. Text from the API is always set as text (never as HTML), so a gateway
// or account name cannot inject markup into the console.

// h('button', { type: 'button', onclick: f, 'aria-label': 'Hang up call 7' }, 'Hang up')
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replaces a container's content, keeping the keyboard focus on the element with the same
// data-key (a refresh every 2 s must not throw a keyboard user out of the table).
export function replace(container, ...children) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.key : undefined;
  container.replaceChildren();
  append(container, children);
  if (key) container.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

// 65 -> "1:05", 3725 -> "1:02:05"
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n) => String(n).padStart(2, '0');
  const hours = Math.floor(s / 3600);
  const rest = `${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
  return hours ? `${hours}:${rest}` : rest.replace(/^0/, '');
}

// UTC like every other time the console and trunkctl show (CDRs, packages): a browser's
// locale format would mix zones and orders on one page.
export const time = (ms) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

// A status line; `announce`: role=status, read out by screen readers when it changes (not
// for a line rewritten by every 2 s refresh).
export function statusLine(id, { announce = true } = {}) {
  const el = h('p', { id, class: 'status', role: announce ? 'status' : undefined });
  return {
    el,
    ok(text) { el.className = 'status'; el.textContent = text; },
    error(text) { el.className = 'status error'; el.textContent = text; },
  };
}

// Forms built from a list of fields, read into an API body, and the API's refusal shown next
// to the field it names ({"error": "...", "field": "port"} of a 400 or 422), so every form
// says what the server checked, in the server's words.
//
//   const f = apiForm({ id: 'vendor-form', fields: [{ name: 'port', label: 'Port', type: 'int' }],
//                       submit: 'Save', onsubmit: async (body) => ... });
//   f.showError(err);   // an ApiError: next to its field, or above the form
import { h } from './dom.js';

// type: text | int | list (comma separated -> array of strings) | bool | select (options:
// strings, or { value, label })
function input(form, f) {
  const id = `${form}-${f.name}`;
  const common = { id, name: f.name, 'aria-describedby': `${id}-error${f.hint ? ` ${id}-hint` : ''}` };
  if (f.type === 'bool') return h('input', { ...common, type: 'checkbox' });
  if (f.type === 'select')
    return h('select', common, f.options.map((o) => (typeof o === 'string'
      ? h('option', { value: o }, o) : h('option', { value: o.value }, o.label))));
  // int as text: the server, not the browser, decides what a good number is (and says so)
  return h('input', { ...common, type: 'text', autocomplete: 'off',
    inputmode: f.type === 'int' ? 'numeric' : undefined, required: f.required });
}

export function apiForm({ id, fields, submit, onsubmit, extra = [] }) {
  const message = h('p', { id: `${id}-message`, class: 'form-message', role: 'alert' });
  const rows = fields.map((f) => {
    const control = input(id, f);
    const label = h('label', { for: control.id }, f.label);
    return h('div', { class: `field ${f.type === 'bool' ? 'check' : ''}` },
      f.type === 'bool' ? [control, label] : [label, control],
      f.hint ? h('span', { id: `${control.id}-hint`, class: 'hint' }, f.hint) : null,
      h('span', { id: `${control.id}-error`, class: 'field-error' }));
  });
  const button = h('button', { type: 'submit', id: `${id}-submit` }, submit);
  const el = h('form', { id, class: 'api-form', novalidate: true }, message, rows,
    h('div', { class: 'actions' }, button, extra));
  const control = (name) => el.elements.namedItem(name);
  const api = {
    el,
    clear() {
      message.textContent = '';
      el.querySelectorAll('.field-error').forEach((e) => { e.textContent = ''; });
      el.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
    },
    // Fills the controls from an API object (lists joined with commas).
    fill(obj) {
      for (const f of fields) {
        const c = control(f.name);
        const v = obj[f.name];
        if (f.type === 'bool') c.checked = Boolean(v);
        else if (f.type === 'select') c.value = v || (f.options[0].value ?? f.options[0]);  // the server's default first
        else c.value = Array.isArray(v) ? v.join(', ') : v ?? '';
        c.disabled = Boolean(obj.name) && f.createOnly === true;
      }
    },
    // The body: empty text left out unless `all` (an edit may clear a text field).
    values({ all = false } = {}) {
      const body = {};
      for (const f of fields) {
        const c = control(f.name);
        if (c.disabled) continue;
        const text = f.type === 'bool' ? '' : c.value.trim();
        if (f.type === 'bool') body[f.name] = c.checked;
        else if (f.type === 'list') body[f.name] = text.split(',').map((s) => s.trim()).filter(Boolean);
        else if (f.type === 'int') {
          if (text !== '') body[f.name] = /^-?\d+$/.test(text) ? Number(text) : text;
        } else if (text !== '' || all) body[f.name] = text;
      }
      return body;
    },
    showError(err) {
      const c = err.field ? control(err.field) : null;
      if (c && c.id) {
        c.setAttribute('aria-invalid', 'true');
        document.getElementById(`${c.id}-error`).textContent = err.message;
        c.focus();
      } else {
        message.textContent = err.message;
      }
    },
    say(text) { message.textContent = text; },
  };
  el.addEventListener('submit', async (e) => {
    e.preventDefault();
    api.clear();
    button.disabled = true;
    try {
      await onsubmit(api);
    } catch (err) {
      if (err.status !== 401) api.showError(err);
    } finally {
      button.disabled = false;
    }
  });
  return api;
}

// Trace: on-demand SIP traces (VOS3000's debug trace). Start one for a caller, a callee or a
// gateway (POST /api/traces); the traces with their state and counts (GET /api/traces, every
// 2 s); a trace's messages as a ladder diagram (GET /api/traces/{id}: inline SVG, a column a
// host, an arrow a SIP message with its first line); its pcap downloaded with the token in the
// request's header (an object URL, never the token in a URL); Remove (DELETE).
import * as api from './api.js';
import { h, replace, time, statusLine } from './dom.js';
import { apiForm } from './form.js';
import { dataTable } from './table.js';

const REFRESH_MS = 2000;
const LADDER_MAX = 400;  // messages drawn; the pcap has them all
const SVG = 'http://www.w3.org/2000/svg';

const FIELDS = [
  { name: 'callee', label: 'Callee (prefix)', type: 'text', hint: 'the To user part: a whole number, or a prefix' },
  { name: 'caller', label: 'Caller (prefix)', type: 'text' },
  { name: 'gateway', label: 'Gateway', type: 'text', hint: 'a customer or vendor gateway' },
  { name: 'duration_s', label: 'Duration (s)', type: 'int', hint: 'default 600' },
];

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const short = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

// The ladder of a trace's messages: the hosts (ADDR:PORT) in the order they first appear.
export function ladder(t) {
  const msgs = t.messages.slice(0, LADDER_MAX);
  const hosts = [];
  for (const m of msgs) for (const a of [m.src, m.dst]) if (!hosts.includes(a)) hosts.push(a);
  const left = 90;
  const colW = 260;
  const top = 40;
  const rowH = 30;
  const x = (a) => left + colW / 2 + hosts.indexOf(a) * colW;
  const width = left + hosts.length * colW;
  const height = top + msgs.length * rowH + 10;
  const t0 = msgs.length ? msgs[0].time_us : 0;
  const title = `Ladder of trace ${t.id}: ${msgs.length} SIP messages between ${hosts.length} hosts`;
  return svg('svg', { id: 'trace-ladder', class: 'ladder', role: 'img', 'aria-label': title,
    viewBox: `0 0 ${width} ${height}`, width, height },
  svg('title', {}, title),
  hosts.map((a) => svg('g', { class: 'host' },
    svg('text', { x: x(a), y: 16, 'text-anchor': 'middle', class: 'host-label' }, a),
    svg('line', { x1: x(a), x2: x(a), y1: 24, y2: height, class: 'lifeline' }))),
  msgs.map((m, i) => {
    const y = top + i * rowH + 18;
    const x1 = x(m.src);
    const x2 = x(m.dst);
    const dir = x2 >= x1 ? 1 : -1;
    const request = !m.first_line.startsWith('SIP/');
    return svg('g', { class: `arrow ${request ? 'request' : 'response'}`, 'data-first-line': m.first_line },
      svg('title', {}, `${m.first_line}\n${m.src} → ${m.dst} (${m.transport}, ${m.size} bytes, ${m.direction})\nCall-ID ${m.call_id}`),
      svg('text', { x: 4, y: y + 4, class: 'time' }, `+${((m.time_us - t0) / 1e6).toFixed(3)} s`),
      svg('line', { x1, x2: x2 - dir * 8, y1: y, y2: y }),
      svg('polygon', { points: `${x2},${y} ${x2 - dir * 9},${y - 5} ${x2 - dir * 9},${y + 5}` }),
      svg('text', { x: (x1 + x2) / 2, y: y - 5, 'text-anchor': 'middle', class: 'first-line' },
        short(m.first_line, 44)));
  }));
}

export function show(main) {
  let alive = true;
  let timer = 0;
  let openId = null;  // the trace whose ladder is shown
  let openCount = -1;  // its message count when last read
  const objectUrls = [];
  const status = statusLine('trace-status', { announce: false });  // the refresh
  const notice = statusLine('trace-notice');  // the operator's last action
  const gatewayNames = h('datalist', { id: 'trace-gateways' });
  const detail = h('section', { id: 'trace-detail', 'aria-live': 'polite' });
  const link = h('a', { id: 'trace-pcap-link', hidden: true });

  const form = apiForm({
    id: 'trace-form', fields: FIELDS, submit: 'Start trace',
    onsubmit: async (f) => {
      const body = f.values();
      if (!body.callee && !body.caller && !body.gateway) {
        f.say('Give a callee, a caller or a gateway.');
        return;
      }
      const { data } = await api.request('POST', '/api/traces', { body });
      notice.ok(`Trace ${data.id} started.`);
      refresh();
    },
  });
  form.el.elements.namedItem('gateway').setAttribute('list', 'trace-gateways');

  const filter = (t) => [t.callee && `callee ${t.callee}`, t.caller && `caller ${t.caller}`,
    t.gateway && `gateway ${t.gateway}`].filter(Boolean).join(', ');
  const table = dataTable({
    id: 'traces', caption: 'Traces', rowKey: (t) => t.id, empty: 'No traces.', sort: 0, dir: -1,
    columns: [
      { label: 'ID', value: (t) => t.id },
      { label: 'Filter', value: filter },
      { label: 'State', value: (t) => (t.end_reason ? `${t.state} (${t.end_reason.replaceAll('_', ' ')})` : t.state) },
      { label: 'Messages', value: (t) => t.message_count },
      { label: 'Calls', value: (t) => t.calls,
        render: (t) => (t.calls_not_followed ? `${t.calls} (+${t.calls_not_followed} not followed)` : String(t.calls)) },
      { label: 'Bytes', value: (t) => t.bytes },
      { label: 'Started', value: (t) => t.started_ms, render: (t) => time(t.started_ms) },
      { label: 'Ends', value: (t) => t.ends_ms, render: (t) => time(t.ends_ms) },
      { label: 'Actions', value: () => '', sortable: false,
        render: (t) => h('span', { class: 'row-actions' },
          h('button', { type: 'button', 'data-key': `show-trace-${t.id}`, 'aria-label': `Show trace ${t.id}`,
            onclick: () => { openId = t.id; openCount = -1; readDetail(); } }, 'Ladder'), ' ',
          h('button', { type: 'button', 'data-key': `pcap-${t.id}`, 'aria-label': `Download the pcap of trace ${t.id}`,
            onclick: () => pcap(t.id) }, 'pcap'), ' ',
          h('button', { type: 'button', 'data-key': `remove-trace-${t.id}`, 'aria-label': `Remove trace ${t.id}`,
            onclick: () => remove(t.id) }, 'Remove')) },
    ],
  });

  async function readDetail() {
    if (openId === null) return;
    const id = openId;
    try {
      const t = await api.get(`/api/traces/${id}`);
      if (!alive || openId !== id) return;
      openCount = t.message_count;
      replace(detail,
        h('h2', {}, `Trace ${t.id}: ${filter(t)}`),
        h('p', { id: 'trace-detail-summary' }, `${t.messages.length} messages, ${t.calls} calls, ${t.state}`,
          t.messages.length > LADDER_MAX ? ` (the first ${LADDER_MAX} drawn; the pcap has them all)` : ''),
        t.messages.length ? h('div', { class: 'ladder-wrap' }, ladder(t))
          : h('p', { class: 'empty' }, 'No messages captured yet.'));
    } catch (err) {
      if (err.status === 404) { openId = null; replace(detail); return; }
      if (err.status !== 401 && alive) notice.error(`Cannot read trace ${id}: ${err.message}`);
    }
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const d = await api.get('/api/traces');
      if (!alive) return;
      table.update(d.traces);
      status.ok(`Updated ${new Date().toLocaleTimeString()}.`);
      const open = d.traces.find((t) => t.id === openId);
      if (open && open.message_count !== openCount) readDetail();
    } catch (err) {
      if (err.status === 401 || !alive) return;
      status.error(`Cannot read the traces: ${err.message}`);
    }
    if (alive) timer = setTimeout(refresh, REFRESH_MS);
  }

  async function pcap(id) {
    try {
      const { blob } = await api.download(`/api/traces/${id}/pcap`);
      if (!alive) return;
      const url = URL.createObjectURL(blob);
      objectUrls.push(url);
      const name = `trace-${id}.pcap`;
      link.href = url;
      link.download = name;
      link.textContent = `Save ${name} again (${blob.size} bytes)`;
      link.hidden = false;
      link.click();  // the browser saves it
      notice.ok(`${name} downloaded (${blob.size} bytes).`);
    } catch (err) {
      if (err.status !== 401 && alive) notice.error(`Cannot download trace ${id}'s pcap: ${err.message}`);
    }
  }

  async function remove(id) {
    try {
      await api.request('DELETE', `/api/traces/${id}`);
      notice.ok(`Trace ${id} removed.`);
      if (openId === id) { openId = null; replace(detail); }
    } catch (err) {
      if (err.status !== 401 && alive) notice.error(`Trace ${id}: ${err.message}`);
    }
    refresh();
  }

  Promise.all([api.get('/api/gateways/customers'), api.get('/api/gateways/vendors')]).then(([c, v]) => {
    if (alive) replace(gatewayNames, [...c.customers, ...v.vendors].map((g) => h('option', { value: g.name })));
  }).catch(() => {});  // typing still works

  main.append(h('h1', {}, 'Trace'), status.el, notice.el, form.el, gatewayNames,
    h('div', { class: 'toolbar' }, link), table.el, detail);
  refresh();
  return () => {
    alive = false;
    clearTimeout(timer);
    for (const u of objectUrls) URL.revokeObjectURL(u);
  };
}

// Live: the running calls (GET /api/calls) with a hang-up per call (DELETE, confirmed by a
// second press), the last hour's CPS, ASR, ACD and concurrent calls as small charts (GET
// /api/stats/history: a bucket a minute; inline SVG made here, no chart library) and the
// active alerts (GET /api/alerts, acknowledge = DELETE), every 2 s.
import * as api from './api.js';
import { h, replace, duration, time, statusLine } from './dom.js';
import { dataTable } from './table.js';

const REFRESH_MS = 2000;
const CONFIRM_MS = 5000;
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

// The four charts: what each shows of a bucket (null: no value that minute, a gap in a
// line), how, and how a value reads. `now`: the value the label calls the latest (else the
// last minute's; a line's: the last minute with a value).
const CHARTS = [
  { id: 'chart-cps', name: 'Calls per second', kind: 'bar', value: (b) => b.cps,
    text: (v) => v.toFixed(v >= 10 ? 1 : 3) },
  { id: 'chart-asr', name: 'ASR', kind: 'line', value: (b) => b.asr, max: 1,
    text: (v) => `${Math.round(v * 1000) / 10} %` },
  { id: 'chart-acd', name: 'ACD', kind: 'line', value: (b) => b.acd_s,
    text: (v) => duration(v) },
  { id: 'chart-concurrent', name: 'Concurrent calls', kind: 'bar', value: (b) => b.concurrent,
    now: (b) => b.concurrent_last, text: (v) => String(v) },
];
const W = 300;       // the plot's width (viewBox units): 5 a minute
const PLOT_H = 70;   // its height; the labels below
const H = PLOT_H + 18;

// One chart of the hour: bars (a minute each) or a line broken where a minute has no value;
// role=img with the latest and the peak value in its label (and in the visible caption).
function sparkChart(c, buckets) {
  const values = buckets.map((b) => c.value(b) ?? null);
  const known = values.filter((v) => v !== null);
  const peak = known.length ? Math.max(...known) : null;
  const latest = c.now ? c.now(buckets[buckets.length - 1])
    : c.kind === 'line' ? known[known.length - 1] ?? null : values[values.length - 1];
  const summary = latest === null || latest === undefined
    ? (c.kind === 'line' ? 'no calls ended in the last hour' : 'no data')
    : `latest ${c.text(latest)}, peak ${c.text(peak)}`;
  const label = `${c.name}, last hour: ${summary}`;
  const top = c.max ?? (peak > 0 ? peak : 1);
  const step = W / Math.max(1, values.length);
  const y = (v) => PLOT_H - (Math.min(v, top) / top) * (PLOT_H - 4);
  const marks = [];
  if (c.kind === 'bar') {
    values.forEach((v, i) => {
      if (!v) return;
      marks.push(svg('rect', { x: (i * step + 0.5).toFixed(1), y: y(v).toFixed(1),
        width: (step - 1).toFixed(1), height: Math.max(1, PLOT_H - y(v)).toFixed(1), class: 'bar' }));
    });
  } else {
    let run = [];
    const flush = () => {
      if (run.length === 1) marks.push(svg('circle', { cx: run[0][0], cy: run[0][1], r: 2, class: 'dot' }));
      else if (run.length) marks.push(svg('polyline', { points: run.map((p) => p.join(',')).join(' '), class: 'line' }));
      run = [];
    };
    values.forEach((v, i) => {
      if (v === null) flush();
      else run.push([(i * step + step / 2).toFixed(1), y(v).toFixed(1)]);
    });
    flush();
  }
  const chart = svg('svg', { id: c.id, role: 'img', 'aria-label': label, viewBox: `0 0 ${W} ${H}`,
    width: W, height: H, 'data-latest': latest ?? '' },
  svg('title', {}, label),
  svg('line', { x1: 0, x2: W, y1: PLOT_H, y2: PLOT_H, class: 'axis' }),
  svg('text', { x: 2, y: 10, class: 'scale' }, c.text(top)),
  ...marks,
  svg('text', { x: 0, y: H - 3, class: 'scale' }, '60 min ago'),
  svg('text', { x: W, y: H - 3, 'text-anchor': 'end', class: 'scale' }, 'now'));
  return h('figure', { class: 'chart spark' }, chart,
    h('figcaption', { 'aria-hidden': 'true' }, h('strong', {}, c.name), ` ${summary}`));
}

export function show(main) {
  let alive = true;
  let timer = 0;
  let confirming = null;  // the call whose hang-up waits for its second press
  const status = statusLine('live-status', { announce: false });  // the refresh
  const notice = statusLine('live-notice');  // the operator's last action
  const alerts = h('div', { id: 'alerts' });
  const charts = h('div', { id: 'live-charts', class: 'charts' });

  const hangupButton = (c) => h('button', {
    type: 'button', class: confirming === c.id ? 'danger' : '', 'data-key': `hangup-${c.id}`,
    'aria-label': confirming === c.id ? `Confirm hang-up of call ${c.id}` : `Hang up call ${c.id}`,
    onclick: () => hangUp(c),
  }, confirming === c.id ? 'Confirm hang-up' : 'Hang up');

  const since = (c) => (api.serverNow() - (c.answer_ms ?? c.setup_ms)) / 1000;
  const calls = dataTable({
    id: 'calls', caption: 'Active calls', rowKey: (c) => c.id, empty: 'No calls.',
    columns: [
      { label: 'Id', value: (c) => c.id },
      { label: 'Customer', value: (c) => c.customer },
      { label: 'Vendor gateway', value: (c) => c.vendor_gateway || '—' },
      { label: 'Caller', value: (c) => c.caller },
      { label: 'Callee', value: (c) => c.callee },
      { label: 'State', value: (c) => c.state },
      // talk time once answered, time since the INVITE before
      { label: 'Duration', value: (c) => since(c), render: (c) => duration(since(c)) },
      { label: 'Action', value: () => '', sortable: false, render: hangupButton },
    ],
  });

  async function hangUp(c) {
    if (confirming !== c.id) {
      confirming = c.id;
      calls.render();
      // an unconfirmed press expires, so a later stray Enter cannot end the call
      setTimeout(() => {
        if (alive && confirming === c.id) {
          confirming = null;
          calls.render();
        }
      }, CONFIRM_MS);
      return;
    }
    confirming = null;
    try {
      await api.request('DELETE', `/api/calls/${c.id}`);
      notice.ok(`Call ${c.id} hung up.`);
    } catch (err) {
      if (err.status !== 401) notice.error(`Call ${c.id}: ${err.message}`);
    }
    refresh();
  }

  async function acknowledge(a) {
    try {
      await api.request('DELETE', `/api/alerts/${a.id}`);
    } catch (err) {
      if (err.status !== 401) notice.error(`Alert ${a.id}: ${err.message}`);
    }
    refresh();
  }

  const alertList = (active) => active.length === 0 ? h('p', { class: 'empty' }, 'No active alerts.')
    : h('ul', { class: 'alerts' }, active.map((a) => h('li', { 'data-alert': a.id },
      h('strong', {}, a.kind.replaceAll('_', ' ')), ` ${a.subject}: ${a.message} `,
      h('span', { class: 'hint' }, `since ${time(a.raised_ms)}`), ' ',
      h('button', { type: 'button', 'data-key': `ack-${a.id}`, onclick: () => acknowledge(a),
        'aria-label': `Acknowledge alert ${a.id}` }, 'Acknowledge'))));

  async function refresh() {
    clearTimeout(timer);
    try {
      const [c, a, s] = await Promise.all([api.get('/api/calls'), api.get('/api/alerts'),
        api.get('/api/stats/history')]);
      if (!alive) return;
      calls.update(c.calls);
      replace(charts, CHARTS.map((x) => sparkChart(x, s.buckets)));
      replace(alerts, alertList(a.active));
      status.ok(`${c.count} call${c.count === 1 ? '' : 's'} · updated ${new Date().toLocaleTimeString()}`);
    } catch (err) {
      if (!alive || err.status === 401) return;
      status.error(`Cannot refresh: ${err.message}`);
    }
    if (alive) timer = setTimeout(refresh, REFRESH_MS);
  }

  main.append(h('h1', {}, 'Live'), status.el, notice.el, calls.el, h('h2', {}, 'Last hour'), charts,
    h('h2', {}, 'Alerts'), alerts);
  refresh();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}

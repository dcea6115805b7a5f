// Reports: revenue, clearing and profit over a period, and commitments of one month (GET
// /api/reports/{kind}, what `trunkctl report KIND` prints) as a sortable table with its total,
// and a bar chart of the amount that report is about (inline SVG made here: no chart library).
import * as api from './api.js';
import { h, replace, statusLine } from './dom.js';
import { apiForm } from './form.js';
import { dataTable } from './table.js';
import { reconcileSection } from './reconcile.js';

const SVG = 'http://www.w3.org/2000/svg';
const BARS = 20;  // the chart shows the largest 20 rows
// the amount each report is about (its chart)
const AMOUNT = { revenue: 'revenue', clearing: 'cost', profit: 'profit', commitments: 'discount' };
// the parameters a kind takes (the API refuses the others, naming them)
const MONTHLY = new Set(['commitments']);
const takes = (kind, name) => (MONTHLY.has(kind) ? name === 'month' : name !== 'month');

const FIELDS = [
  { name: 'kind', label: 'Report', type: 'select', options: ['revenue', 'clearing', 'profit', 'commitments'] },
  { name: 'by', label: 'By', type: 'select',
    options: [{ value: '', label: 'the report\'s default' }, 'gateway', 'area', 'customer'],
    hint: 'clearing: gateway; profit: area (default) or customer' },
  { name: 'from', label: 'From', type: 'text', required: true,
    hint: 'UTC: YYYY-MM-DD[THH:MM]; profit by area: at most 7 days' },
  { name: 'until', label: 'Until', type: 'text', hint: 'empty: now' },
  { name: 'month', label: 'Month', type: 'text', hint: 'commitments: YYYY-MM, the local month (instead of from and until)' },
];

const isNumber = (s) => typeof s === 'number' || /^-?\d+(\.\d+)?%?$/.test(String(s));
const num = (s) => Number(String(s).replace('%', ''));

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

// Horizontal bars, one per row (label, value), negatives to the left of the zero line.
function chart(rows, label, value, title) {
  const data = rows.map((r) => ({ label: label(r), v: num(value(r)), text: String(value(r)) }))
    .sort((a, b) => Math.abs(b.v) - Math.abs(a.v)).slice(0, BARS);
  if (!data.length) return null;
  const labelW = 160;
  const barW = 480;
  const rowH = 22;
  const lo = Math.min(0, ...data.map((d) => d.v));
  const hi = Math.max(0, ...data.map((d) => d.v));
  const span = hi - lo || 1;
  const x = (v) => labelW + ((v - lo) / span) * barW;
  const height = data.length * rowH + 10;
  const bars = data.map((d, i) => {
    const y = 5 + i * rowH;
    const x0 = x(Math.min(0, d.v));
    const w = Math.max(1, Math.abs(x(d.v) - x(0)));
    return svg('g', {},
      svg('text', { x: labelW - 8, y: y + 15, 'text-anchor': 'end', class: 'chart-label' }, d.label),
      svg('rect', { x: x0, y: y + 3, width: w, height: rowH - 6,
        class: d.v < 0 ? 'bar negative' : 'bar' }),
      svg('text', { x: x(Math.max(0, d.v)) + 6, y: y + 15, class: 'chart-value' }, d.text));
  });
  return svg('svg', { id: 'report-chart', role: 'img', 'aria-label': title,
    viewBox: `0 0 ${labelW + barW + 120} ${height}`, width: labelW + barW + 120, height },
  svg('title', {}, title),
  svg('line', { x1: x(0), x2: x(0), y1: 0, y2: height, class: 'axis' }),
  ...bars);
}

function dayBefore() {
  return new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 16);
}

export function show(main) {
  let alive = true;
  const status = statusLine('reports-status');
  const out = h('section', { id: 'report-result', 'aria-live': 'polite' });

  const form = apiForm({
    id: 'report-form', fields: FIELDS, submit: 'Show',
    onsubmit: async (f) => {
      const v = f.values();
      const kind = v.kind;
      const query = Object.entries(v).filter(([k]) => k !== 'kind' && takes(kind, k))
        .map(([k, x]) => `${k}=${api.q(x)}`).join('&');
      const r = await api.get(`/api/reports/${api.q(kind)}?${query}`);
      if (alive) render(kind, r);
    },
  });
  form.fill({ from: dayBefore(), month: new Date().toISOString().slice(0, 7) });

  function render(kind, r) {
    const rows = r.rows || [];
    const names = Object.keys(r.total || rows[0] || {});
    // the row's key columns: those before the figures (customer; gateway and its account, ...)
    const keys = kind === 'commitments' ? ['account', 'prefix']
      : names.slice(0, Math.max(1, names.indexOf('calls')));
    const label = (x) => keys.map((n) => x[n]).filter(Boolean).join(' ');
    const amount = AMOUNT[kind];
    const table = dataTable({
      id: 'report-table', caption: `${kind} report`, rowKey: label,
      empty: kind === 'commitments' ? 'No commitments.' : 'No traffic in this period.', pageSize: 50,
      columns: names.map((n) => ({
        label: n.replaceAll('_', ' '),
        value: (x) => (isNumber(x[n]) && !keys.includes(n) ? num(x[n]) : x[n]),
        render: (x) => String(x[n] ?? ''),
      })),
    });
    table.update(rows);
    const total = r.total ? h('dl', { class: 'summary', id: 'report-total' },
      names.filter((n) => !keys.includes(n) && r.total[n] !== '').flatMap((n) => [
        h('dt', {}, n.replaceAll('_', ' ')), h('dd', {}, String(r.total[n]))])) : null;
    const pic = amount && names.includes(amount)
      ? chart(rows, label, (x) => x[amount], `${amount} by ${keys.join(' and ')}`)
      : null;
    replace(out, h('h2', {}, `Total (${kind})`), total,
      pic ? h('figure', { class: 'chart' }, pic,
        h('figcaption', {}, `${amount} by ${keys.join(' and ')}, the largest ${BARS}`)) : null,
      table.el);
    status.ok(rows.length === 1 ? '1 row.' : `${rows.length} rows.`);
  }

  main.append(h('h1', {}, 'Reports'), status.el, form.el, out,
    reconcileSection(() => alive, dayBefore()));  // reconcile.js: a vendor's CDR file
  return () => { alive = false; };
}

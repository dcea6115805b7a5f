// Reconciliation on the Reports page: a vendor's CDR file (chosen, or pasted) sent to POST
// /api/reconcile (what `trunkctl reconcile FILE --vendor ID` computes), the summary and every
// difference in one sortable table: the matched calls whose duration or amount differs, the
// calls only in ours and only in theirs. The API's refusals show next to their field; a bad
// file's lines are listed.
import * as api from './api.js';
import { h, replace } from './dom.js';
import { apiForm } from './form.js';
import { dataTable } from './table.js';

const FIELDS = [
  { name: 'vendor', label: 'Vendor account', type: 'text', required: true },
  { name: 'from', label: 'From', type: 'text', required: true,
    hint: 'UTC: YYYY-MM-DD[THH:MM]; our CDRs ending from then; at most 7 days' },
  { name: 'until', label: 'Until', type: 'text', hint: 'empty: now' },
  { name: 'tolerance', label: 'Start tolerance (s)', type: 'int', hint: 'empty: 5' },
  { name: 'map', label: 'Columns', type: 'text',
    hint: 'empty: callee,start,duration,amount; or callee=Called,start=Start,duration=Secs,amount=Cost' },
];

const KIND = { differs: 'differs', ours: 'only ours', theirs: 'only theirs' };
const num = (s) => (s === '' || s === undefined ? '' : Number(s));

// One row per difference: { key, kind, callee, start, ours, theirs, duration_diff, amount_diff }
function rows(d) {
  const out = [];
  for (const p of d.differing || [])
    out.push({ key: `differs-${p.ours.cdr_id}`, kind: KIND.differs, callee: p.ours.callee, start: p.ours.start,
      ours: p.ours, theirs: p.theirs, duration_diff: p.duration_diff_s, amount_diff: p.amount_diff });
  for (const c of d.only_ours || [])
    out.push({ key: `ours-${c.cdr_id}`, kind: KIND.ours, callee: c.callee, start: c.start, ours: c, theirs: null,
      duration_diff: '', amount_diff: '' });
  for (const c of d.only_theirs || [])
    out.push({ key: `theirs-${c.line}`, kind: KIND.theirs, callee: c.callee, start: c.start, ours: null, theirs: c,
      duration_diff: '', amount_diff: '' });
  return out;
}

const columns = () => [
  { label: 'Status', value: (r) => r.kind },
  { label: 'Called number', value: (r) => r.callee },
  { label: 'Start (UTC)', value: (r) => r.start },
  { label: 'Our CDR', value: (r) => (r.ours ? r.ours.cdr_id : '') },
  { label: 'Their line', value: (r) => (r.theirs ? r.theirs.line : '') },
  { label: 'Our duration (s)', value: (r) => (r.ours ? r.ours.duration_s : '') },
  { label: 'Their duration (s)', value: (r) => (r.theirs ? r.theirs.duration_s : '') },
  { label: 'Duration difference (s)', value: (r) => r.duration_diff },
  { label: 'Our amount', value: (r) => (r.ours ? num(r.ours.amount) : ''), render: (r) => (r.ours ? r.ours.amount : '') },
  { label: 'Their amount', value: (r) => (r.theirs ? num(r.theirs.amount) : ''),
    render: (r) => (r.theirs ? r.theirs.amount : '') },
  { label: 'Amount difference', value: (r) => num(r.amount_diff), render: (r) => String(r.amount_diff) },
];

function summary(d) {
  const item = (id, label, value) => [h('dt', {}, label), h('dd', { 'data-key': id }, String(value))];
  return h('dl', { class: 'summary', id: 'reconcile-summary' },
    item('matched', 'Matched', d.matched),
    item('differing', 'Differing', (d.differing || []).length),
    item('only_ours', 'Only ours (missing at the vendor)', (d.only_ours || []).length),
    item('only_theirs', 'Only theirs (missing in our CDRs)', (d.only_theirs || []).length),
    item('our_duration', 'Our duration (s)', d.our_duration_s),
    item('their_duration', 'Their duration (s)', d.their_duration_s),
    item('our_amount', 'Our amount', d.our_amount),
    item('their_amount', 'Their amount', d.their_amount),
    item('deviation', 'Amount deviation (theirs − ours)', d.amount_deviation));
}

function lineErrors(err) {
  const b = err.body || {};
  const list = b.errors || [];
  return [
    h('p', { class: 'error' }, err.message, b.error_count > list.length ? ` (the first ${list.length} listed)` : ''),
    h('table', { id: 'reconcile-errors' },
      h('caption', {}, 'Errors in the vendor file'),
      h('thead', {}, h('tr', {}, ['Line', 'Column', 'Error'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, list.map((e) => h('tr', { 'data-row': e.line ?? '' },
        h('td', {}, e.line ?? '—'), h('td', {}, e.column ?? '—'), h('td', {}, e.message))))),
  ];
}

// The section; `alive()` says whether the page is still shown.
export function reconcileSection(alive, from) {
  const result = h('section', { id: 'reconcile-result', 'aria-live': 'polite' });
  const table = dataTable({ id: 'reconcile-differences', caption: 'Differences', rowKey: (r) => r.key,
    empty: 'No differences: every call matches.', pageSize: 50, columns: columns() });
  const file = h('input', { id: 'reconcile-form-file', name: 'file', type: 'file', accept: '.csv,.txt,text/csv',
    'aria-describedby': 'reconcile-form-file-error reconcile-form-file-hint' });
  const text = h('textarea', { id: 'reconcile-form-text', name: 'text', rows: 5, spellcheck: 'false',
    'aria-describedby': 'reconcile-form-text-hint' });

  const form = apiForm({
    id: 'reconcile-form', fields: FIELDS, submit: 'Reconcile',
    onsubmit: async (f) => {
      const chosen = file.files[0];
      const body = chosen ? await chosen.text() : text.value;
      if (!body.trim()) throw new api.ApiError(0, { error: 'Choose the vendor\'s CDR file or paste it.', field: 'file' });
      const query = Object.entries(f.values()).map(([k, x]) => `${k}=${api.q(x)}`).join('&');
      let data;
      try {
        ({ data } = await api.request('POST', `/api/reconcile?${query}`, { raw: body }));
      } catch (err) {
        if (alive()) replace(result, err.body?.errors ? lineErrors(err) : null);
        throw err;  // the form shows it next to its field
      }
      if (!alive()) return;
      table.update(rows(data));
      replace(result, h('h3', {}, 'Summary'), summary(data), table.el);
      f.say('');
    },
  });
  form.el.insertBefore(h('div', { class: 'field-group' },
    h('div', { class: 'field' }, h('label', { for: file.id }, 'Vendor\'s CDR file (CSV)'), file,
      h('span', { id: 'reconcile-form-file-hint', class: 'hint' }, 'or paste it below'),
      h('span', { id: 'reconcile-form-file-error', class: 'field-error' })),
    h('div', { class: 'field' }, h('label', { for: text.id }, 'CDR file text'), text,
      h('span', { id: 'reconcile-form-text-hint', class: 'hint' },
        'a header line (callee,start,duration,amount), then one call a line'))),
  form.el.querySelector('.actions'));
  form.fill({ from });
  return h('section', { id: 'reconcile' }, h('h2', {}, 'Reconcile a vendor\'s CDR file'), form.el, result);
}

// Route explain: where a number from a customer would go now (GET /api/routes/explain, the
// running router and book): the customer's rate, then each vendor gateway in order with the
// reason it would be skipped (profit guard, max rate, no rate, limit, down).
import * as api from './api.js';
import { h, replace, statusLine } from './dom.js';
import { apiForm } from './form.js';

const FIELDS = [
  { name: 'number', label: 'Number (callee)', type: 'text', required: true, hint: 'as the customer sends it: 4420...' },
  { name: 'customer', label: 'Customer gateway', type: 'text', required: true },
  { name: 'caller', label: 'Caller (optional)', type: 'text' },
];

function result(r) {
  const rate = r.customer_rate
    ? `${r.customer_rate.per_minute} per minute (prefix ${r.customer_rate.prefix}, ${r.customer_rate.type})`
    : 'no rate: the call would be refused';
  const rows = r.gateways.map((g) => h('tr', { 'data-row': g.gateway, class: g.skip ? 'skipped' : '' },
    h('td', {}, g.skip ? '—' : String(g.order)),
    h('td', {}, g.gateway),
    h('td', {}, g.prefix),
    h('td', {}, g.vendor_per_minute ?? 'no rate'),
    h('td', {}, g.skip ? `skipped: ${g.skip.replaceAll('_', ' ')}` : 'candidate'),
    h('td', {}, g.detail)));
  return [
    h('dl', { class: 'summary' },
      h('dt', {}, 'Routed number'), h('dd', {}, r.routed),
      h('dt', {}, 'Account'), h('dd', {}, r.account),
      h('dt', {}, 'Customer rate'), h('dd', {}, rate),
      r.enabled ? null : [h('dt', {}, 'Customer'), h('dd', {}, 'disabled: its calls are refused')]),
    h('table', { id: 'explain-table' },
      h('caption', {}, `Vendor gateways for ${r.number} from ${r.customer}`),
      h('thead', {}, h('tr', {}, ['Order', 'Gateway', 'Prefix', 'Vendor rate', 'Decision', 'Detail']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.length ? rows
        : h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No vendor gateway has a matching prefix.')))),
  ];
}

export function show(main) {
  const status = statusLine('explain-status');
  const out = h('section', { id: 'explain-result', 'aria-live': 'polite' });
  const form = apiForm({
    id: 'explain-form', fields: FIELDS, submit: 'Explain',
    onsubmit: async (f) => {
      const v = f.values();
      const query = Object.entries(v).map(([k, x]) => `${k}=${api.q(x)}`).join('&');
      const r = await api.get(`/api/routes/explain?${query}`);
      replace(out, result(r));
    },
  });
  // the customers to choose from (a datalist: typing still works with 1,000 of them)
  const names = h('datalist', { id: 'explain-customers' });
  form.el.elements.namedItem('customer').setAttribute('list', 'explain-customers');
  api.get('/api/gateways/customers').then((c) => {
    replace(names, c.customers.map((g) => h('option', { value: g.name })));
  }).catch((err) => {
    if (err.status !== 401) status.error(`Cannot list the customers: ${err.message}`);
  });
  main.append(h('h1', {}, 'Route explain'), status.el, form.el, names, out);
  form.el.querySelector('input')?.focus();
  return () => {};
}

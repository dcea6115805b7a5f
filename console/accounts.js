// Accounts: the billing accounts (GET /api/accounts, every page of its cursor read, then
// sorted and paged in the browser), an "Add account" form (POST /api/accounts: the API's
// refusal next to the field it names), and for the one chosen its top-up form (POST
// /api/accounts/{id}/topup with If-Match: the API's refusal next to the amount, nothing
// stored; a top-up made elsewhere since the account was opened is refused), a customer's
// packages with the minutes used and left (GET /api/reports/packages), its volume tiers this
// month ("tiers" of GET /api/accounts/{id}: minutes counted, the price in force, the next
// threshold) and its recent CDRs (GET /api/cdrs?customer= or ?vendor=).
import * as api from './api.js';
import { h, replace, duration, statusLine } from './dom.js';
import { apiForm } from './form.js';
import { dataTable } from './table.js';

const PAGE = 1000;       // accounts per request
const MAX_PAGES = 20;    // 20,000 accounts at most in the table
const RECENT = 50;       // the chosen account's latest CDRs

// Money is an exact decimal string: sorted as a number, shown as the API wrote it.
const amount = (s) => Number(s);
const num = (x) => Number(x);

// The members POST /api/accounts accepts (api_accounts.cpp), in the order it checks them.
const ACCOUNT_FIELDS = [
  { name: 'id', label: 'Id', type: 'text', required: true, hint: '1..64 characters, such as 2001' },
  { name: 'kind', label: 'Kind', type: 'select', options: ['customer', 'vendor', 'agent'] },
  { name: 'name', label: 'Name', type: 'text' },
  { name: 'balance', label: 'Opening balance', type: 'text', hint: 'a decimal such as 50.00; empty: 0' },
  { name: 'credit_limit', label: 'Credit limit', type: 'text', hint: 'how far below zero it may go; empty: 0' },
  { name: 'rate_group', label: 'Rate group', type: 'text',
    hint: 'customer: the prices it pays; vendor: what its calls cost' },
  { name: 'agent', label: 'Agent account', type: 'text' },
  { name: 'memo', label: 'Memo', type: 'text' },
];

export function cdrColumns() {
  return [
    { label: 'Id', value: (c) => c.id },
    { label: 'End (UTC)', value: (c) => c.end_time },
    { label: 'Caller', value: (c) => c.caller },
    { label: 'Callee', value: (c) => c.callee },
    { label: 'Customer', value: (c) => `${c.customer} / ${c.customer_gateway}` },
    { label: 'Vendor', value: (c) => (c.vendor ? `${c.vendor} / ${c.vendor_gateway}` : '—') },
    { label: 'Talk', value: (c) => c.duration_s, render: (c) => duration(c.duration_s) },
    { label: 'SIP', value: (c) => c.sip_code },
    { label: 'Charge', value: (c) => amount(c.charge), render: (c) => c.charge },
    { label: 'Cost', value: (c) => amount(c.cost), render: (c) => c.cost },
  ];
}

export function show(main) {
  let alive = true;
  const status = statusLine('accounts-status');
  const detail = h('section', { id: 'account-detail', class: 'editor', hidden: true });
  let chosen = null;  // the id shown in detail

  const table = dataTable({
    id: 'accounts', caption: 'Accounts', rowKey: (a) => a.id, empty: 'No accounts.',
    columns: [
      { label: 'Id', value: (a) => a.id },
      { label: 'Name', value: (a) => a.name },
      { label: 'Kind', value: (a) => a.kind },
      { label: 'Balance', value: (a) => amount(a.balance), render: (a) => a.balance },
      { label: 'Credit', value: (a) => amount(a.credit_limit), render: (a) => a.credit_limit },
      { label: 'Available', value: (a) => amount(a.available), render: (a) => a.available },
      { label: 'Rate group', value: (a) => a.rate_group },
      { label: 'Actions', value: () => '', sortable: false,
        render: (a) => h('button', { type: 'button', 'data-key': `open-${a.id}`,
          'aria-label': `Top up and CDRs of account ${a.id}`, onclick: () => open(a.id) }, 'Open') },
    ],
  });

  async function load() {
    try {
      const all = [];
      let after = null;
      for (let i = 0; i < MAX_PAGES; i += 1) {
        const from = after ? `&after=${api.q(after)}` : '';
        const page = await api.get(`/api/accounts?limit=${PAGE}${from}`);
        all.push(...page.accounts);
        after = page.next;
        if (!after) break;
      }
      if (!alive) return;
      table.update(all);
      if (after) status.ok(`The first ${all.length} accounts are shown.`);
    } catch (err) {
      if (err.status !== 401) status.error(`Cannot load the accounts: ${err.message}`);
    }
  }

  // One account: its figures, the top-up form and its latest CDRs.
  async function open(id) {
    closeAdd();
    chosen = id;
    let account;
    let etag = '';  // the top-up is refused (409) if another top-up came in since
    try {
      ({ data: account, etag } = await api.request('GET', `/api/accounts/${api.q(id)}`));
    } catch (err) {
      if (err.status !== 401) status.error(`Account ${id}: ${err.message}`);
      return;
    }
    if (!alive || chosen !== id) return;
    const summary = h('dl', { class: 'summary', id: 'account-summary' },
      h('dt', {}, 'Balance'), h('dd', { id: 'account-balance' }, account.balance),
      h('dt', {}, 'Credit limit'), h('dd', {}, account.credit_limit),
      h('dt', {}, 'Available'), h('dd', {}, account.available),
      h('dt', {}, 'Rate group'), h('dd', {}, account.rate_group || '—'),
      account.agent ? [h('dt', {}, 'Agent'), h('dd', {}, account.agent)] : null);
    const form = apiForm({
      id: 'topup-form', submit: 'Top up',
      fields: [
        { name: 'amount', label: 'Amount', type: 'text', required: true,
          hint: 'a decimal such as 25.00; negative to adjust down' },
        { name: 'memo', label: 'Memo', type: 'text' },
      ],
      extra: [' ', h('button', { type: 'button', onclick: close }, 'Close')],
      onsubmit: async (f) => {
        const body = f.values();
        const { data } = await api.request('POST', `/api/accounts/${api.q(id)}/topup`,
          { body, ifMatch: etag });
        status.ok(`Account ${id} topped up by ${body.amount}: balance ${data.balance}.`);
        load();
        open(id);
      },
    });
    const packages = dataTable({ id: 'account-packages', caption: `Packages of account ${id}`,
      rowKey: (p) => p.name, empty: 'No packages.', pageSize: 10,
      columns: [
        { label: 'Name', value: (p) => p.name },
        { label: 'Prefixes', value: (p) => (p.prefixes || []).join(', ') },
        { label: 'Valid from (UTC)', value: (p) => p.valid_from },
        { label: 'Until', value: (p) => p.valid_until },
        { label: 'Minutes', value: (p) => num(p.minutes) },
        { label: 'Used', value: (p) => num(p.used_min) },
        { label: 'Left', value: (p) => num(p.left_min) },
        { label: 'Fee', value: (p) => num(p.fee), render: (p) => String(p.fee) },
      ] });
    packages.update([]);
    // the volume tiers by prefix, with this month's minutes: shown when the account has some
    const tierList = account.tiers || [];
    const tiers = dataTable({ id: 'account-tiers', caption: 'Volume tiers this month',
      rowKey: (t) => t.prefix, empty: 'No volume tiers.', pageSize: 10,
      columns: [
        { label: 'Prefix', value: (t) => t.prefix },
        { label: 'Month', value: (t) => t.month },
        { label: 'Used (min)', value: (t) => num(t.used_s) / 60, render: (t) => (num(t.used_s) / 60).toFixed(2) },
        { label: 'Current price', value: (t) => (t.current ? num(t.current.price) : -1),
          render: (t) => (t.current ? `${t.current.price}/min` : 'the rate\'s price') },
        { label: 'Next threshold', value: (t) => (t.next ? t.next.from_minutes : Infinity),
          render: (t) => (t.next ? `from ${t.next.from_minutes} min: ${t.next.price}/min`
            + `${t.next.bonus_minutes ? ` + ${t.next.bonus_minutes} bonus min` : ''}` : 'none (last tier)') },
      ] });
    tiers.update(tierList);
    const cdrs = dataTable({ id: 'account-cdrs', caption: `Latest CDRs of account ${id}`,
      rowKey: (c) => c.id, empty: 'No CDRs in the last 24 hours.', columns: cdrColumns(),
      pageSize: 10, dir: -1 });
    cdrs.update([]);
    replace(detail,
      h('h2', { id: 'account-title' },
        `Account ${account.id}${account.name ? ` · ${account.name}` : ''} (${account.kind})`),
      summary, h('h3', {}, 'Top-up'), form.el,
      account.kind === 'customer' ? packages.el : null, tierList.length ? tiers.el : null, cdrs.el);
    detail.setAttribute('aria-labelledby', 'account-title');
    detail.hidden = false;
    form.el.querySelector('input')?.focus();
    if (account.kind === 'customer') {
      // the packages (minutes sold for a fee) with their use: GET /api/reports/packages
      api.get('/api/reports/packages').then((r) => {
        if (alive && chosen === id) packages.update((r.packages || []).filter((p) => p.account === id));
      }).catch((err) => {
        if (err.status !== 401) status.error(`Packages of account ${id}: ${err.message}`);
      });
    }
    const by = account.kind === 'vendor' ? 'vendor' : 'customer';
    try {
      const page = await api.get(`/api/cdrs?${by}=${api.q(id)}&limit=${RECENT}`);
      if (alive && chosen === id) cdrs.update(page.cdrs);
    } catch (err) {
      if (err.status !== 401) status.error(`CDRs of account ${id}: ${err.message}`);
    }
  }

  function close() {
    chosen = null;
    detail.hidden = true;
    detail.replaceChildren();
  }

  // --- Add account: POST /api/accounts ---
  const groupNames = h('datalist', { id: 'account-rate-groups' });
  const adder = h('section', { id: 'account-editor', class: 'editor', hidden: true });
  function closeAdd() {
    adder.hidden = true;
    adder.replaceChildren();
  }
  function add() {
    close();
    const form = apiForm({
      id: 'account-form', fields: ACCOUNT_FIELDS, submit: 'Add',
      extra: [' ', h('button', { type: 'button', onclick: closeAdd }, 'Cancel')],
      onsubmit: async (f) => {
        const { data } = await api.request('POST', '/api/accounts', { body: f.values() });
        closeAdd();
        await load();
        status.ok(`Account ${data.id} (${data.kind}) added: balance ${data.balance}, credit limit ${data.credit_limit}.`);
      },
    });
    form.fill({ kind: 'customer' });
    form.el.elements.namedItem('rate_group').setAttribute('list', 'account-rate-groups');
    replace(adder, h('h2', { id: 'account-editor-title' }, 'Add an account'), form.el);
    adder.setAttribute('aria-labelledby', 'account-editor-title');
    adder.hidden = false;
    form.el.querySelector('input')?.focus();
    // the rate groups an account may name (it must exist): offered as suggestions
    api.get('/api/rate-groups').then((d) => {
      if (alive) replace(groupNames, d.rate_groups.map((g) => h('option', { value: g.name })));
    }).catch(() => {});
  }

  main.append(h('h1', {}, 'Accounts'), status.el,
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', id: 'add-account', onclick: add }, 'Add account')),
    groupNames, adder, detail, table.el);
  load();
  return () => { alive = false; };
}

// Rates: the rate groups (GET /api/rate-groups), a group's rates by prefix (GET /api/rates,
// paged by its cursor), a CSV deck upload (POST /api/rate-groups/{g}/deck: a dry run first,
// which lists each bad line the API found; "Store" only after a clean dry run, and it stores
// exactly the deck that was checked), customer rates auto-created from vendor groups with a
// margin or a markup (POST /api/rate-groups/{g}/autocreate: "Dry run" lists the rates it
// would create, "Create" stores exactly what was dry-run; the API's refusal next to its
// field) and the negative-margin routes (the active negative_margin alerts of GET /api/alerts).
import * as api from './api.js';
import { h, replace, time, statusLine } from './dom.js';
import { apiForm } from './form.js';
import { dataTable } from './table.js';

const PAGE = 10000;  // the API's largest page: the API pages, not the browser

const SEARCH_FIELDS = [
  { name: 'group', label: 'Rate group', type: 'text', required: true },
  { name: 'prefix', label: 'Prefix', type: 'text', hint: 'this prefix and the longer ones; empty: all' },
  { name: 'limit', label: 'Per page', type: 'int', hint: '100 by default' },
];

const AUTOCREATE_FIELDS = [
  { name: 'group', label: 'Customer rate group', type: 'text', required: true, hint: 'created if new' },
  { name: 'from', label: 'Vendor rate groups', type: 'list', required: true, hint: 'comma separated: v9001, v9002' },
  { name: 'margin', label: 'Margin', type: 'text', hint: 'such as 15% or 0.15: price = vendor / (1 - margin)' },
  { name: 'markup', label: 'Markup', type: 'text', hint: 'instead of a margin: price = vendor × (1 + markup)' },
  { name: 'precision', label: 'Decimals', type: 'int', hint: 'rounded up; empty: the currency\'s' },
  { name: 'replace', label: 'Replace: delete the group\'s other rates', type: 'bool' },
];

const rateColumns = () => [
  { label: 'Prefix', value: (r) => r.prefix },
  { label: 'Area', value: (r) => r.area },
  { label: 'Type', value: (r) => r.type },
  { label: 'Price / min', value: (r) => r.price },
  { label: 'First period', value: (r) => r.first_period, render: (r) => `${r.first_period} s at ${r.first_price}` },
  { label: 'Increment', value: (r) => r.increment, render: (r) => `${r.increment} s` },
  { label: 'Connection fee', value: (r) => r.connection_fee },
  { label: 'Period', value: (r) => r.period },
  { label: 'From', value: (r) => r.effective_from ?? '', render: (r) => r.effective_from ?? 'always' },
  { label: 'Until', value: (r) => r.effective_until ?? '', render: (r) => r.effective_until ?? 'never' },
];

export function show(main) {
  let alive = true;
  const status = statusLine('rates-status');
  const groupNames = h('datalist', { id: 'rate-group-names' });

  // --- the rate groups ---
  const groups = dataTable({
    id: 'rate-groups', caption: 'Rate groups', rowKey: (g) => g.name, empty: 'No rate groups.',
    columns: [
      { label: 'Name', value: (g) => g.name },
      { label: 'Rates', value: (g) => g.rates },
      { label: 'Accounts', value: (g) => g.accounts },
      { label: 'Action', value: () => '', sortable: false,
        render: (g) => h('button', { type: 'button', 'data-key': `show-rates-${g.name}`,
          'aria-label': `Show the rates of ${g.name}`, onclick: () => showGroup(g.name) }, 'Show rates') },
    ],
  });

  async function readGroups() {
    try {
      const d = await api.get('/api/rate-groups');
      if (!alive) return;
      groups.update(d.rate_groups);
      replace(groupNames, d.rate_groups.map((g) => h('option', { value: g.name })));
    } catch (err) {
      if (err.status !== 401 && alive) status.error(`Cannot list the rate groups: ${err.message}`);
    }
  }

  // --- a group's rates by prefix, paged by the API's cursor ---
  let query = '';
  let cursors = [null];
  let next = null;
  const rates = dataTable({
    id: 'rates', caption: 'Rates', pageSize: PAGE, empty: 'No rates.',
    rowKey: (r) => `${r.prefix} ${r.period} ${r.effective_from ?? ''}`,
    columns: rateColumns(),
  });
  const where = h('span', { id: 'rates-page' });
  const prev = h('button', { type: 'button', id: 'rates-prev', disabled: true,
    onclick: () => { cursors.pop(); readRates(); } }, 'Previous page');
  const nextButton = h('button', { type: 'button', id: 'rates-next', disabled: true,
    onclick: () => { cursors.push(next); readRates(); } }, 'Next page');

  async function readRates(f = null) {
    const after = cursors[cursors.length - 1];
    try {
      const page = await api.get(`/api/rates?${query}${after ? `&after=${api.q(after)}` : ''}`);
      if (!alive) return;
      next = page.next;
      rates.update(page.rates);
      prev.disabled = cursors.length <= 1;
      nextButton.disabled = !next;
      where.textContent = ` ${page.group}: page ${cursors.length}${next ? '' : ' (the last)'} `;
    } catch (err) {
      if (f) throw err;  // the form shows it next to its field
      if (err.status !== 401 && alive) status.error(`Cannot read the rates: ${err.message}`);
    }
  }

  const search = apiForm({
    id: 'rate-search', fields: SEARCH_FIELDS, submit: 'Search',
    onsubmit: async (f) => {
      query = Object.entries(f.values()).map(([k, v]) => `${k}=${api.q(v)}`).join('&');
      cursors = [null];
      await readRates(f);
    },
  });
  search.el.elements.namedItem('group').setAttribute('list', 'rate-group-names');

  function showGroup(name) {
    search.fill({ group: name, prefix: '', limit: search.values().limit });
    search.el.requestSubmit();
  }

  // --- the deck upload: dry run, then Store ---
  const deckMessage = h('p', { id: 'deck-form-message', class: 'form-message', role: 'alert' });
  const deckGroup = h('input', { id: 'deck-form-group', name: 'group', type: 'text', autocomplete: 'off',
    list: 'rate-group-names', 'aria-describedby': 'deck-form-group-error' });
  const deckFile = h('input', { id: 'deck-form-file', name: 'file', type: 'file', accept: '.csv,.txt,text/csv',
    'aria-describedby': 'deck-form-file-hint' });
  const deckText = h('textarea', { id: 'deck-form-text', name: 'text', rows: 6, spellcheck: 'false',
    'aria-describedby': 'deck-form-text-hint' });
  const deckReplace = h('input', { id: 'deck-form-replace', name: 'replace', type: 'checkbox' });
  const check = h('button', { type: 'submit', id: 'deck-form-submit' }, 'Check deck');
  const store = h('button', { type: 'button', id: 'deck-store', hidden: true, onclick: () => storeDeck() }, 'Store');
  const deckResult = h('section', { id: 'deck-result', 'aria-live': 'polite' });
  const deckForm = h('form', { id: 'deck-form', class: 'api-form', novalidate: true },
    h('h2', {}, 'Upload a rate deck'),
    deckMessage,
    h('div', { class: 'field' }, h('label', { for: 'deck-form-group' }, 'Rate group'), deckGroup,
      h('span', { id: 'deck-form-group-error', class: 'field-error' })),
    h('div', { class: 'field' }, h('label', { for: 'deck-form-file' }, 'Deck file (CSV)'), deckFile,
      h('span', { id: 'deck-form-file-hint', class: 'hint' }, 'or paste the deck below')),
    h('div', { class: 'field' }, h('label', { for: 'deck-form-text' }, 'Deck text'), deckText,
      h('span', { id: 'deck-form-text-hint', class: 'hint' },
        'a header line, then one rate a line: prefix,price,increment (as trunkctl rates import)')),
    h('div', { class: 'field check' }, deckReplace,
      h('label', { for: 'deck-form-replace' }, 'Replace: delete the group\'s rates not in the deck')),
    h('div', { class: 'actions' }, check, ' ', store));
  let checked = null;  // { group, deck, replace } of the last clean dry run

  const forget = () => { checked = null; store.hidden = true; };
  for (const el of [deckGroup, deckFile, deckText, deckReplace]) {
    el.addEventListener('input', forget);
    el.addEventListener('change', forget);
  }

  const deckPath = (c, dry) => `/api/rate-groups/${api.q(c.group)}/deck?replace=${c.replace}${dry ? '&dry_run=true' : ''}`;

  function summary(d, id = 'deck-summary') {
    return h('dl', { class: 'summary', id },
      h('dt', {}, 'Rate group'), h('dd', {}, d.group),
      h('dt', {}, 'Rates'), h('dd', {}, String(d.rates)),
      h('dt', {}, 'New'), h('dd', {}, String(d.added)),
      h('dt', {}, 'Updated'), h('dd', {}, String(d.updated)),
      h('dt', {}, 'Removed'), h('dd', {}, String(d.removed)),
      d.warnings.length ? [h('dt', {}, 'Warnings'), h('dd', {}, h('ul', {}, d.warnings.map((w) => h('li', {}, w))))] : null);
  }

  function lineErrors(err) {
    const b = err.body || {};
    const list = b.errors || [];
    return [
      h('p', { class: 'error' }, err.message,
        b.error_count > list.length ? ` (the first ${list.length} listed)` : ''),
      list.length ? h('table', { id: 'deck-errors' },
        h('caption', {}, 'Errors in the deck'),
        h('thead', {}, h('tr', {}, ['Line', 'Column', 'Error'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, list.map((e) => h('tr', { 'data-row': e.line ?? '' },
          h('td', {}, e.line ?? '—'), h('td', {}, e.column ?? '—'), h('td', {}, e.message))))) : null,
      (b.hints || []).length ? h('ul', { class: 'hints' }, b.hints.map((x) => h('li', {}, x))) : null,
    ];
  }

  function clearDeckErrors() {
    deckMessage.textContent = '';
    document.getElementById('deck-form-group-error').textContent = '';
    deckGroup.removeAttribute('aria-invalid');
  }

  function showDeckError(err) {
    if (err.status === 401) return;
    if (err.field === 'group') {
      deckGroup.setAttribute('aria-invalid', 'true');
      document.getElementById('deck-form-group-error').textContent = err.message;
      deckGroup.focus();
      replace(deckResult);
    } else if (err.body?.errors) {
      replace(deckResult, lineErrors(err));
    } else {
      deckMessage.textContent = err.message;
      replace(deckResult);
    }
  }

  deckForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearDeckErrors();
    forget();
    const group = deckGroup.value.trim();
    if (!group) {
      deckGroup.setAttribute('aria-invalid', 'true');
      document.getElementById('deck-form-group-error').textContent = 'Name the rate group.';
      deckGroup.focus();
      return;
    }
    check.disabled = true;
    try {
      const file = deckFile.files[0];
      const deck = file ? await file.text() : deckText.value;
      if (!deck.trim()) {
        deckMessage.textContent = 'Choose a deck file or paste the deck.';
        return;
      }
      const c = { group, deck, replace: deckReplace.checked };
      const { data } = await api.request('POST', deckPath(c, true), { raw: deck });
      if (!alive) return;
      replace(deckResult, h('p', { class: 'status', id: 'deck-clean' },
        `The deck is clean: ${data.rates} rates would be stored. Press Store to import it.`), summary(data));
      checked = c;
      store.hidden = false;
      store.focus();
    } catch (err) {
      if (alive) showDeckError(err);
    } finally {
      check.disabled = false;
    }
  });

  async function storeDeck() {
    if (!checked) return;
    const c = checked;
    store.disabled = true;
    try {
      const { data } = await api.request('POST', deckPath(c, false), { raw: c.deck });
      if (!alive) return;
      forget();
      replace(deckResult, summary(data));
      status.ok(`Stored ${data.rates} rates in ${data.group} (${data.added} new, ${data.updated} updated, ${data.removed} removed).`);
      await readGroups();
      showGroup(c.group);
    } catch (err) {
      if (alive) showDeckError(err);
    } finally {
      store.disabled = false;
    }
  }

  // --- auto-create customer rates from vendor groups: Dry run, then Create ---
  const autoResult = h('section', { id: 'autocreate-result', 'aria-live': 'polite' });
  const autoRates = dataTable({ id: 'autocreate-rates', caption: 'Rates that would be created', pageSize: 50,
    empty: 'No rates.', rowKey: (r) => r.prefix, columns: rateColumns() });
  let autoChecked = null;  // { group, body } of the last dry run
  const create = h('button', { type: 'button', id: 'autocreate-create', hidden: true, onclick: () => createRates() },
    'Create');
  const autoPath = (group) => `/api/rate-groups/${api.q(group)}/autocreate`;
  const auto = apiForm({
    id: 'autocreate-form', fields: AUTOCREATE_FIELDS, submit: 'Dry run', extra: [' ', create],
    onsubmit: async (f) => {
      autoForget();
      replace(autoResult);
      const { group = '', ...body } = f.values();
      if (!group) {
        f.showError({ field: 'group', message: 'Name the customer rate group.' });
        return;
      }
      const { data } = await api.request('POST', autoPath(group), { body: { ...body, dry_run: true } });
      if (!alive) return;
      autoRates.update(data.created);
      replace(autoResult, h('p', { class: 'status', id: 'autocreate-clean' },
        `${data.rates} rates would be created in ${data.group}${data.created_truncated ? ` (the first ${data.created.length} listed)` : ''}.`
        + ' Press Create to store them.'), summary(data, 'autocreate-summary'), autoRates.el);
      autoChecked = { group, body };
      create.hidden = false;
      create.focus();
    },
  });
  auto.el.elements.namedItem('group').setAttribute('list', 'rate-group-names');
  auto.el.elements.namedItem('from').setAttribute('list', 'rate-group-names');
  auto.el.prepend(h('h2', {}, 'Auto-create customer rates'));
  function autoForget() {
    autoChecked = null;
    create.hidden = true;
  }
  for (const ev of ['input', 'change']) auto.el.addEventListener(ev, autoForget);

  async function createRates() {
    if (!autoChecked) return;
    const c = autoChecked;
    auto.clear();
    create.disabled = true;
    try {
      const { data } = await api.request('POST', autoPath(c.group), { body: c.body });
      if (!alive) return;
      autoForget();
      replace(autoResult, summary(data, 'autocreate-summary'));
      status.ok(`Created ${data.rates} rates in ${data.group} (${data.added} new, ${data.updated} updated, ${data.removed} removed).`);
      await readGroups();
      showGroup(c.group);
    } catch (err) {
      if (alive && err.status !== 401) auto.showError(err);
    } finally {
      create.disabled = false;
    }
  }

  // --- negative-margin routes: the active negative_margin alerts ---
  const margins = h('section', { id: 'negative-margins' });
  async function readMargins() {
    try {
      const d = await api.get('/api/alerts');
      if (!alive) return;
      const neg = d.active.filter((a) => a.kind === 'negative_margin');
      replace(margins, h('h2', {}, 'Negative-margin routes'),
        neg.length === 0 ? h('p', { class: 'empty' }, 'No negative-margin routes (active alerts).')
          : h('ul', { class: 'alerts' }, neg.map((a) => h('li', { 'data-alert': a.id },
            h('strong', {}, a.subject), `: ${a.message} (since ${time(a.raised_ms)})`))));
    } catch (err) {
      if (err.status !== 401 && alive) status.error(`Cannot read the alerts: ${err.message}`);
    }
  }

  main.append(h('h1', {}, 'Rates'), status.el, groupNames, groups.el,
    h('h2', {}, 'Rates of a group'), search.el,
    h('div', { class: 'pager toolbar' }, prev, where, nextButton), rates.el,
    deckForm, deckResult, auto.el, autoResult, margins);
  readGroups();
  readMargins();
  return () => { alive = false; };
}

// CDRs: the search of GET /api/cdrs (end time range, number prefix, customer or vendor
// account, gateway), paged by the API's cursor (Next sends the page's `next` as `before`;
// Previous goes back to the `before` the page before was read with), and the same search as
// CSV (fetched with the token, handed to the browser as an object URL: no token in a URL).
import * as api from './api.js';
import { h, replace, statusLine } from './dom.js';
import { apiForm } from './form.js';
import { dataTable } from './table.js';
import { cdrColumns } from './accounts.js';

const TIME_HINT = 'UTC: YYYY-MM-DD or YYYY-MM-DDTHH:MM';
const FIELDS = [
  { name: 'from', label: 'From', type: 'text', hint: `${TIME_HINT}; empty: 24 hours before Until` },
  { name: 'until', label: 'Until', type: 'text', hint: `${TIME_HINT}; empty: now` },
  { name: 'number', label: 'Number prefix', type: 'text',
    hint: 'caller, callee or callee sent to the vendor' },
  { name: 'customer', label: 'Customer account', type: 'text' },
  { name: 'vendor', label: 'Vendor account', type: 'text' },
  { name: 'gateway', label: 'Gateway', type: 'text', hint: 'customer or vendor gateway' },
  { name: 'limit', label: 'Per page', type: 'int', hint: 'empty: 100' },
];

export function show(main) {
  let alive = true;
  const status = statusLine('cdrs-status');
  let query = '';        // the search's parameters, without before and format
  let cursors = [null];  // the `before` each page shown so far was read with
  let next = null;
  let objectUrl = '';

  const table = dataTable({ id: 'cdrs', caption: 'CDRs, latest first', rowKey: (c) => c.id,
    empty: 'No CDRs match.', columns: cdrColumns(), pageSize: 10000, sort: 1, dir: -1 });
  const prev = h('button', { type: 'button', id: 'cdrs-prev', disabled: true,
    onclick: () => { cursors.pop(); read(); } }, 'Previous page');
  const nextButton = h('button', { type: 'button', id: 'cdrs-next', disabled: true,
    onclick: () => { cursors.push(next); read(); } }, 'Next page');
  const where = h('span', { id: 'cdrs-page' });
  const csvButton = h('button', { type: 'button', id: 'cdrs-csv', onclick: () => csv() },
    'Download CSV');
  const link = h('a', { id: 'cdrs-csv-link', hidden: true });

  const form = apiForm({
    id: 'cdr-search', fields: FIELDS, submit: 'Search',
    onsubmit: async (f) => {
      query = Object.entries(f.values()).map(([k, v]) => `${k}=${api.q(v)}`).join('&');
      cursors = [null];
      await read(f);
    },
  });

  const path = (before, format) => `/api/cdrs?${[query, before ? `before=${api.q(before)}` : '',
    format ? `format=${format}` : ''].filter(Boolean).join('&')}`;

  // The page read with the last cursor; a refusal goes next to its field (from, until, ...).
  async function read(f = null) {
    const before = cursors[cursors.length - 1];
    try {
      const page = await api.get(path(before));
      if (!alive) return;
      next = page.next;
      table.update(page.cdrs);
      prev.disabled = cursors.length <= 1;
      nextButton.disabled = !next;
      where.textContent = ` Page ${cursors.length}${next ? '' : ' (the last)'} `;
      status.ok(`${page.cdrs.length} CDRs on this page.`);
    } catch (err) {
      if (f) throw err;  // the form shows it next to its field
      if (err.status !== 401) status.error(`Cannot read the CDRs: ${err.message}`);
    }
  }

  // The current page as CSV (the columns of `trunkctl cdr export`).
  async function csv() {
    csvButton.disabled = true;
    try {
      const { blob } = await api.download(path(cursors[cursors.length - 1], 'csv'));
      if (!alive) return;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = URL.createObjectURL(blob);
      const name = `cdrs-${new Date().toISOString().slice(0, 19).replaceAll(':', '')}.csv`;
      link.href = objectUrl;
      link.download = name;
      link.textContent = `Save ${name} again (${blob.size} bytes)`;
      link.hidden = false;
      link.click();  // the browser saves it
      status.ok(`${name} downloaded.`);
    } catch (err) {
      if (err.status !== 401) status.error(`Cannot download the CSV: ${err.message}`);
    } finally {
      csvButton.disabled = false;
    }
  }

  main.append(h('h1', {}, 'CDRs'), status.el, form.el,
    h('div', { class: 'pager toolbar' }, prev, where, nextButton, ' ', csvButton, ' ', link),
    table.el);
  read();
  return () => {
    alive = false;
    if (objectUrl) URL.revokeObjectURL(objectUrl);
  };
}

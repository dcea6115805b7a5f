// A table sorted and paged in the browser: the API answers whole lists (1,000 gateways are
// a few hundred kB), so sorting and paging need no round trip. Column headers are buttons
// (keyboard: Tab, Enter) with aria-sort; the pager has Previous / Next.
//
//   const t = dataTable({ id: 'vendors', caption: 'Vendor gateways', rowKey: (g) => g.name,
//                         columns: [{ label: 'Name', value: (g) => g.name }, ...] });
//   main.append(t.el); t.update(rows);   // again with new rows: sort and page are kept
import { h, replace } from './dom.js';

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function compare(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a ?? ''), String(b ?? ''));
}

// columns: { label, value(row) (sorted on; shown unless render), render(row) -> node,
//            sortable (default true) }
// sort, dir: the column sorted on first and its direction (1 ascending, -1 descending).
export function dataTable({ id, caption, columns, rowKey, pageSize = 25, empty = 'None.', sort = 0, dir = 1 }) {
  const state = { rows: [], sort, dir, page: 0 };
  const el = h('div', { class: 'table-wrap', id });
  const sorted = () => {
    const col = columns[state.sort];
    const rows = [...state.rows];
    if (col.sortable !== false) rows.sort((a, b) => state.dir * compare(col.value(a), col.value(b)));
    return rows;
  };
  const header = () => h('tr', {}, columns.map((col, i) => {
    if (col.sortable === false) return h('th', { scope: 'col' }, col.label);
    const on = state.sort === i;
    return h('th', { scope: 'col', 'aria-sort': on ? (state.dir > 0 ? 'ascending' : 'descending') : 'none' },
      h('button', {
        type: 'button', class: 'sort', 'data-key': `${id}-sort-${i}`,
        onclick: () => { state.dir = on ? -state.dir : 1; state.sort = i; render(); },
      }, col.label, on ? (state.dir > 0 ? ' ▲' : ' ▼') : ''));
  }));
  const row = (r) => h('tr', { 'data-row': rowKey(r) },
    columns.map((col) => h('td', {}, col.render ? col.render(r) : String(col.value(r) ?? ''))));
  const pager = (pages) => pages <= 1 ? null : h('div', { class: 'pager' },
    h('button', { type: 'button', 'data-key': `${id}-prev`, disabled: state.page === 0,
      onclick: () => { state.page -= 1; render(); } }, 'Previous'),
    h('span', {}, ` Page ${state.page + 1} of ${pages} `),
    h('button', { type: 'button', 'data-key': `${id}-next`, disabled: state.page >= pages - 1,
      onclick: () => { state.page += 1; render(); } }, 'Next'));
  function render() {
    const rows = sorted();
    const pages = Math.max(1, Math.ceil(rows.length / pageSize));
    state.page = Math.min(state.page, pages - 1);
    const shown = rows.slice(state.page * pageSize, (state.page + 1) * pageSize);
    replace(el,
      h('table', {},
        h('caption', {}, caption, ` (${rows.length})`),
        h('thead', {}, header()),
        h('tbody', {}, shown.length ? shown.map(row)
          : h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty)))),
      pager(pages));
  }
  render();
  return {
    el,
    update(rows) { state.rows = rows; render(); },
    render,
  };
}

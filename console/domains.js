// Domains: the domain entries with the running cache's status of each (GET /api/domains:
// state, resolved addresses, TTL left, last error) and "Resolve now" (POST
// /api/domains/{name}/resolve; the answer shows on a later refresh); every 5 s.
import * as api from './api.js';
import { h, time, statusLine } from './dom.js';
import { dataTable } from './table.js';

const REFRESH_MS = 5000;

const when = (ms) => (ms ? time(ms) : '—');

export function show(main) {
  let alive = true;
  let timer = 0;
  const status = statusLine('domains-status', { announce: false });  // the refresh
  const notice = statusLine('domains-notice');  // the operator's last action

  const table = dataTable({
    id: 'domains', caption: 'Domain entries', rowKey: (d) => d.name, empty: 'No domain entries.',
    columns: [
      { label: 'Name', value: (d) => d.name },
      { label: 'Entry', value: (d) => (d.entry ? 'yes' : 'cache only') },
      { label: 'State',
        value: (d) => (d.live ? `${d.live.state}${d.live.resolving ? ' (resolving)' : ''}` : 'not held') },
      { label: 'Addresses', value: (d) => d.live?.addresses.join(', ') || '—' },
      { label: 'TTL left', value: (d) => d.live?.ttl_left_s ?? -1,
        render: (d) => (d.live ? `${d.live.ttl_left_s} s` : '—') },
      { label: 'Last error', value: (d) => d.live?.last_error || '',
        render: (d) => (d.live?.last_error
          ? `${d.live.last_error} (${when(d.live.last_error_ms)})` : '—') },
      { label: 'Resolved', value: (d) => d.live?.last_resolved_ms ?? 0,
        render: (d) => when(d.live?.last_resolved_ms) },
      { label: 'Action', value: () => '', sortable: false,
        render: (d) => h('button', { type: 'button', 'data-key': `resolve-${d.name}`,
          'aria-label': `Resolve ${d.name} now`, onclick: () => resolveNow(d.name) }, 'Resolve now') },
    ],
  });

  async function refresh() {
    clearTimeout(timer);
    try {
      const d = await api.get('/api/domains');
      if (!alive) return;
      table.update(d.domains);
      status.ok(d.live ? `Updated ${new Date().toLocaleTimeString()}.`
        : 'The running domain cache is not connected: stored entries only.');
    } catch (err) {
      if (err.status === 401 || !alive) return;
      status.error(`Cannot read the domains: ${err.message}`);
    }
    if (alive) timer = setTimeout(refresh, REFRESH_MS);
  }

  async function resolveNow(name) {
    try {
      await api.request('POST', `/api/domains/${api.q(name)}/resolve`);
      notice.ok(`${name}: asked to resolve now; the answer shows within moments.`);
    } catch (err) {
      if (err.status !== 401) notice.error(`${name}: ${err.message}`);
    }
    refresh();
  }

  main.append(h('h1', {}, 'Domains'), status.el, notice.el, table.el);
  refresh();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}

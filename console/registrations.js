// Registrations: the carrier registrations with the running switch's state of each (GET
// /api/carriers) and "Register now" (POST /api/carriers/{name}/register), the registrar's live
// bindings (GET /api/bindings) and its suspensions after failed authentication (GET
// /api/suspensions) with "Lift" (DELETE /api/suspensions/{key}); every 5 s.
import * as api from './api.js';
import { h, time, statusLine } from './dom.js';
import { dataTable } from './table.js';

const REFRESH_MS = 5000;

const when = (ms) => (ms ? time(ms) : '—');

function carrierState(c) {
  const l = c.live || {};
  const parts = [l.state || 'unknown'];
  if (l.reason) parts.push(`: ${l.reason}`);
  if (l.retrying && l.next_attempt_ms) parts.push(` (retry at ${time(l.next_attempt_ms)})`);
  return parts.join('');
}

function lastAnswer(c) {
  const l = c.live || {};
  if (l.last_code == null) return l.last_reason || '—';
  return `${l.last_code} ${l.last_reason || ''}`.trim();
}

export function show(main) {
  let alive = true;
  let timer = 0;
  const status = statusLine('registrations-status', { announce: false });  // the refresh
  const notice = statusLine('registrations-notice');  // the operator's last action

  const carriers = dataTable({
    id: 'carriers', caption: 'Carrier registrations', rowKey: (c) => c.name,
    empty: 'No carrier registrations.',
    columns: [
      { label: 'Name', value: (c) => c.name },
      { label: 'Registrar', value: (c) => `${c.server}${c.port ? `:${c.port}` : ''} ${c.transport}` },
      { label: 'User', value: (c) => c.user },
      { label: 'State', value: carrierState },
      { label: 'Last answer', value: lastAnswer },
      { label: 'Expires', value: (c) => c.live?.expires_ms ?? 0,
        render: (c) => when(c.live?.expires_ms) },
      { label: 'Failures', value: (c) => c.live?.consecutive_failures ?? 0 },
      { label: 'Sent to', value: (c) => c.live?.registrar || '—' },
      { label: 'Action', value: () => '', sortable: false,
        render: (c) => h('button', { type: 'button', 'data-key': `register-${c.name}`,
          'aria-label': `Register ${c.name} now`, disabled: !c.enabled, onclick: () => registerNow(c) },
        'Register now') },
    ],
  });
  const bindings = dataTable({
    id: 'bindings', caption: 'Registrar bindings', rowKey: (b) => `${b.aor} ${b.contact}`,
    empty: 'No bindings.',
    columns: [
      { label: 'Address of record', value: (b) => b.aor },
      { label: 'Contact', value: (b) => b.contact },
      { label: 'Expires', value: (b) => b.expires_ms, render: (b) => when(b.expires_ms) },
      { label: 'From', value: (b) => b.source },
      { label: 'Reachable', value: (b) => (b.down ? 'no (keep-alive unanswered)' : 'yes') },
      { label: 'Behind NAT', value: (b) => (b.via_nat ? 'yes' : 'no') },
    ],
  });
  const suspensions = dataTable({
    id: 'suspensions', caption: 'Suspensions after failed authentication',
    rowKey: (s) => `${s.kind} ${s.key}`,
    empty: 'No suspensions.',
    columns: [
      { label: 'Key', value: (s) => s.key },
      { label: 'Kind', value: (s) => s.kind.replaceAll('_', ' ') },
      { label: 'Last peer', value: (s) => s.peer },
      { label: 'Until', value: (s) => s.until_ms, render: (s) => when(s.until_ms) },
      { label: 'Action', value: () => '', sortable: false,
        render: (s) => h('button', { type: 'button', 'data-key': `lift-${s.kind}-${s.key}`,
          'aria-label': `Lift the suspensions of ${s.key}`, onclick: () => lift(s.key) }, 'Lift') },
    ],
  });

  async function refresh() {
    clearTimeout(timer);
    try {
      const [c, b, s] = await Promise.all([
        api.get('/api/carriers'), api.get('/api/bindings'), api.get('/api/suspensions')]);
      if (!alive) return;
      carriers.update(c.carriers);
      bindings.update(b.bindings);
      suspensions.update(s.suspensions);
      status.ok(`Updated ${new Date().toLocaleTimeString()}.`);
    } catch (err) {
      if (err.status === 401 || !alive) return;
      status.error(`Cannot read the registrations: ${err.message}`);
    }
    if (alive) timer = setTimeout(refresh, REFRESH_MS);
  }

  async function registerNow(c) {
    try {
      const { data } = await api.request('POST', `/api/carriers/${api.q(c.name)}/register`);
      notice.ok(`Carrier ${c.name}: REGISTER sent (state ${data.live?.state || 'unknown'}).`);
    } catch (err) {
      if (err.status !== 401) notice.error(`Carrier ${c.name}: ${err.message}`);
    }
    refresh();
  }

  async function lift(key) {
    try {
      const { data } = await api.request('DELETE', `/api/suspensions/${api.q(key)}`);
      notice.ok(`Lifted ${data.lifted} suspension${data.lifted === 1 ? '' : 's'} of ${key}.`);
    } catch (err) {
      if (err.status !== 401) notice.error(`Suspension ${key}: ${err.message}`);
    }
    refresh();
  }

  main.append(h('h1', {}, 'Registrations'), status.el, notice.el,
    carriers.el, suspensions.el, bindings.el);
  refresh();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}

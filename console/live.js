// Live: the running calls (GET /api/calls) with a hang-up per call (DELETE, confirmed by a
// second press) and the active alerts (GET /api/alerts, acknowledge = DELETE), every 2 s.
import * as api from './api.js';
import { h, replace, duration, time, statusLine } from './dom.js';
import { dataTable } from './table.js';

const REFRESH_MS = 2000;
const CONFIRM_MS = 5000;

export function show(main) {
  let alive = true;
  let timer = 0;
  let confirming = null;  // the call whose hang-up waits for its second press
  const status = statusLine('live-status', { announce: false });  // the refresh
  const notice = statusLine('live-notice');  // the operator's last action
  const alerts = h('div', { id: 'alerts' });

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
      const [c, a] = await Promise.all([api.get('/api/calls'), api.get('/api/alerts')]);
      if (!alive) return;
      calls.update(c.calls);
      replace(alerts, alertList(a.active));
      status.ok(`${c.count} call${c.count === 1 ? '' : 's'} · updated ${new Date().toLocaleTimeString()}`);
    } catch (err) {
      if (!alive || err.status === 401) return;
      status.error(`Cannot refresh: ${err.message}`);
    }
    if (alive) timer = setTimeout(refresh, REFRESH_MS);
  }

  main.append(h('h1', {}, 'Live'), status.el, notice.el, calls.el, h('h2', {}, 'Alerts'), alerts);
  refresh();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}

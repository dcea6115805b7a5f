// Gateways: the stored customer and vendor gateways (/api/gateways/customers|vendors) with
// the running switch's view of them (/api/gateways: calls now, down or up, probed, the last
// failure), an add/edit form (POST, or PATCH with If-Match) showing the API's refusal next
// to its field, and an enable/disable toggle per gateway.
import * as api from './api.js';
import { h, replace, statusLine, time } from './dom.js';
import { apiForm } from './form.js';
import { dataTable } from './table.js';

const LIMIT_HINT = '0 or empty: no limit';
const CUSTOMER_FIELDS = [
  { name: 'name', label: 'Name', type: 'text', required: true, createOnly: true },
  { name: 'account', label: 'Billing account', type: 'text', required: true },
  { name: 'auth', label: 'Identified by', type: 'select', options: ['ip', 'ip_port', 'digest'] },
  { name: 'ips', label: 'Addresses', type: 'list', hint: 'comma separated: 203.0.113.10, 198.51.100.0/24' },
  { name: 'sip_user', label: 'SIP user (digest)', type: 'text' },
  { name: 'priority', label: 'Priority', type: 'int' },
  { name: 'line_limit', label: 'Line limit', type: 'int', hint: LIMIT_HINT },
  { name: 'cps_limit', label: 'CPS limit', type: 'int', hint: LIMIT_HINT },
  { name: 'enabled', label: 'Enabled', type: 'bool' },
];
const VENDOR_FIELDS = [
  { name: 'name', label: 'Name', type: 'text', required: true, createOnly: true },
  { name: 'vendor_account', label: 'Vendor account', type: 'text', required: true },
  { name: 'prefixes', label: 'Prefixes', type: 'list', required: true, hint: 'comma separated: 1, 44' },
  { name: 'host', label: 'Host', type: 'text', required: true },
  { name: 'port', label: 'Port', type: 'int', hint: 'empty: 5060 (5061 with TLS)' },
  { name: 'transport', label: 'Transport', type: 'select', options: ['udp', 'tcp', 'tls'] },
  { name: 'priority', label: 'Priority', type: 'int' },
  { name: 'line_limit', label: 'Line limit', type: 'int', hint: LIMIT_HINT },
  { name: 'cps_limit', label: 'CPS limit', type: 'int', hint: LIMIT_HINT },
  { name: 'group', label: 'Group', type: 'text' },
  { name: 'probe', label: 'Probe with OPTIONS', type: 'bool' },
  { name: 'enabled', label: 'Enabled', type: 'bool' },
];
const KINDS = {
  customers: { what: 'customer gateway', path: '/api/gateways/customers', fields: CUSTOMER_FIELDS },
  vendors: { what: 'vendor gateway', path: '/api/gateways/vendors', fields: VENDOR_FIELDS },
};

const yes = (b) => (b ? 'yes' : 'no');
const capital = (s) => s[0].toUpperCase() + s.slice(1);

export function show(main) {
  const status = statusLine('gateways-status');
  const editor = h('section', { id: 'gateway-editor', class: 'editor', hidden: true });
  let live = { customers: new Map(), vendors: new Map() };  // by name: the switch's view

  const calls = (kind) => (g) => {
    const now = live[kind].get(g.name)?.current_calls ?? 0;
    return `${now} / ${g.line_limit || '∞'}`;
  };
  // up or down (and why, since when), whether OPTIONS probes it, and its last failure (the
  // live view keeps it after the gateway came back up)
  const health = (g) => {
    const l = live.vendors.get(g.name);
    if (!g.enabled) return 'disabled';
    if (!l) return 'not loaded';
    const probe = g.probe ? 'probed' : 'not probed';
    if (l.down) {
      return `down: ${l.down_reason || 'no answer'}${l.down_since_ms ? ` since ${time(l.down_since_ms)}` : ''} · ${probe}`;
    }
    const last = l.last_failure ? ` · last failure ${time(l.last_failure.at_ms)}: ${l.last_failure.reason}` : '';
    return `up · ${probe}${last}`;
  };
  const actions = (kind) => (g) => h('span', { class: 'row-actions' },
    h('button', { type: 'button', 'data-key': `edit-${kind}-${g.name}`,
      'aria-label': `Edit ${KINDS[kind].what} ${g.name}`, onclick: () => edit(kind, g.name) }, 'Edit'),
    ' ',
    h('button', { type: 'button', 'data-key': `toggle-${kind}-${g.name}`,
      'aria-label': `${g.enabled ? 'Disable' : 'Enable'} ${KINDS[kind].what} ${g.name}`,
      onclick: () => toggle(kind, g) }, g.enabled ? 'Disable' : 'Enable'));

  const customers = dataTable({
    id: 'customers', caption: 'Customer gateways', rowKey: (g) => g.name, empty: 'No customer gateways.',
    columns: [
      { label: 'Name', value: (g) => g.name },
      { label: 'Account', value: (g) => g.account },
      { label: 'Identified by', value: (g) => g.auth },
      { label: 'Addresses', value: (g) => g.ips.join(', ') || g.sip_user },
      { label: 'Calls / limit', value: calls('customers') },
      { label: 'CPS limit', value: (g) => g.cps_limit || '∞' },
      { label: 'Enabled', value: (g) => yes(g.enabled) },
      { label: 'Actions', value: () => '', sortable: false, render: actions('customers') },
    ],
  });
  const vendors = dataTable({
    id: 'vendors', caption: 'Vendor gateways', rowKey: (g) => g.name, empty: 'No vendor gateways.',
    columns: [
      { label: 'Name', value: (g) => g.name },
      { label: 'Prefixes', value: (g) => g.prefixes.join(', ') },
      { label: 'Address', value: (g) => `${g.host}${g.port ? `:${g.port}` : ''} ${g.transport}` },
      { label: 'Priority', value: (g) => g.priority },
      { label: 'Calls / limit', value: calls('vendors') },
      { label: 'Health', value: health },
      { label: 'Enabled', value: (g) => yes(g.enabled) },
      { label: 'Actions', value: () => '', sortable: false, render: actions('vendors') },
    ],
  });

  async function load() {
    try {
      const [c, v, l] = await Promise.all([
        api.get(KINDS.customers.path), api.get(KINDS.vendors.path), api.get('/api/gateways')]);
      live = {
        customers: new Map(l.customers.map((g) => [g.name, g])),
        vendors: new Map(l.vendors.map((g) => [g.name, g])),
      };
      customers.update(c.customers);
      vendors.update(v.vendors);
    } catch (err) {
      if (err.status !== 401) status.error(`Cannot load the gateways: ${err.message}`);
    }
  }

  // The add (name null) or edit form of one gateway, above the tables.
  async function edit(kind, name) {
    const k = KINDS[kind];
    let etag = '';
    const form = apiForm({
      id: `${kind}-form`, fields: k.fields, submit: name ? 'Save' : 'Add',
      extra: [' ', h('button', { type: 'button', onclick: close }, 'Cancel')],
      onsubmit: async (f) => {
        const path = name ? `${k.path}/${api.q(name)}` : k.path;
        const { data } = name
          ? await api.request('PATCH', path, { body: f.values({ all: true }), ifMatch: etag })
          : await api.request('POST', path, { body: f.values() });
        close();
        await load();  // the table has the new version (its Disable sends it) before we say so
        status.ok(`${capital(k.what)} ${data.name} ${name ? 'saved' : 'added'}.`);
      },
    });
    if (name) {
      try {
        const r = await api.request('GET', `${k.path}/${api.q(name)}`);
        etag = r.etag;  // the PATCH is refused (409) if someone changed it since
        form.fill(r.data);
      } catch (err) {
        if (err.status !== 401) status.error(`${capital(k.what)} ${name}: ${err.message}`);
        return;
      }
    } else {
      form.fill({ enabled: true, probe: true });
    }
    const title = name ? `Edit ${k.what} ${name}` : `Add a ${k.what}`;
    replace(editor, h('h2', { id: 'editor-title' }, title), form.el);
    editor.setAttribute('aria-labelledby', 'editor-title');
    editor.hidden = false;
    form.el.querySelector('input:not([disabled]), select')?.focus();
  }

  function close() {
    editor.hidden = true;
    editor.replaceChildren();
  }

  async function toggle(kind, g) {
    const k = KINDS[kind];
    try {
      await api.request('PATCH', `${k.path}/${api.q(g.name)}`,
        { body: { enabled: !g.enabled }, ifMatch: `"v${g.version}"` });
      status.ok(`${capital(k.what)} ${g.name} ${g.enabled ? 'disabled' : 'enabled'}.`);
    } catch (err) {
      if (err.status !== 401) status.error(`${capital(k.what)} ${g.name}: ${err.message}`);
    }
    load();
  }

  main.append(h('h1', {}, 'Gateways'), status.el,
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', id: 'add-customer', onclick: () => edit('customers', null) },
        'Add customer gateway'), ' ',
      h('button', { type: 'button', id: 'add-vendor', onclick: () => edit('vendors', null) },
        'Add vendor gateway')),
    editor, customers.el, vendors.el);
  load();
  return () => {};
}

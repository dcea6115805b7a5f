// The console's shell: sign-in with an API token, the navigation, and hash routing
// (#/live, #/gateways, #/explain, #/accounts, #/rates, #/trace, ...). A page module exports show(main) and returns the function
// that stops it (its refresh timer) when another page is shown.
import * as api from './api.js';
import { h, replace } from './dom.js';
import * as live from './live.js';
import * as gateways from './gateways.js';
import * as explain from './explain.js';
import * as accounts from './accounts.js';
import * as cdrs from './cdrs.js';
import * as reports from './reports.js';
import * as registrations from './registrations.js';
import * as domains from './domains.js';
import * as rates from './rates.js';
import * as trace from './trace.js';

const pages = {
  live: { title: 'Live', module: live },
  gateways: { title: 'Gateways', module: gateways },
  explain: { title: 'Route explain', module: explain },
  accounts: { title: 'Accounts', module: accounts },
  cdrs: { title: 'CDRs', module: cdrs },
  reports: { title: 'Reports', module: reports },
  registrations: { title: 'Registrations', module: registrations },
  domains: { title: 'Domains', module: domains },
  rates: { title: 'Rates', module: rates },
  trace: { title: 'Trace', module: trace },
};

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOutButton = document.getElementById('sign-out');
let leave = () => {};

function stopPage() {
  leave();
  leave = () => {};
}

function showSignIn(message = '') {
  stopPage();
  nav.hidden = true;
  signOutButton.hidden = true;
  document.title = 'Sign in · Trunkline console';
  const field = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off',
    required: true, 'aria-describedby': 'token-hint' });
  const msg = h('p', { id: 'sign-in-message', class: 'form-message', role: 'alert' }, message);
  const submit = h('button', { type: 'submit', id: 'sign-in-submit' }, 'Sign in');
  const form = h('form', { id: 'sign-in', class: 'api-form sign-in' },
    h('h1', {}, 'Sign in'),
    msg,
    h('div', { class: 'field' },
      h('label', { for: 'token' }, 'API token'),
      field,
      h('span', { id: 'token-hint', class: 'hint' }, 'Made with ',
        h('code', {}, 'trunkctl token add NAME --scope admin'), ' (a read token can look, not change).')),
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = field.value.trim();
    if (!value) {
      msg.textContent = 'Enter a token.';
      return;
    }
    api.setToken(value);
    submit.disabled = true;
    try {
      await api.get('/api/calls?limit=1');  // any token may read the call list
      const target = location.hash && location.hash !== '#/' ? location.hash : '#/live';
      if (location.hash === target) route();
      else location.hash = target;  // hashchange routes
    } catch (err) {
      // a 401 has shown this form again with the API's reason; anything else is said here
      if (err.status !== 401) {
        api.setToken('');
        msg.textContent = `Cannot sign in: ${err.message}`;
      }
    } finally {
      submit.disabled = false;
    }
  });
  replace(main, form);
  field.focus();
}

function route() {
  if (!api.token()) {
    showSignIn();
    return;
  }
  const name = location.hash.replace(/^#\/?/, '').split('/')[0] || 'live';
  const page = pages[name] || pages.live;
  stopPage();
  nav.hidden = false;
  signOutButton.hidden = false;
  for (const a of nav.querySelectorAll('a')) {
    if (pages[a.dataset.page] === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${page.title} · Trunkline console`;
  main.replaceChildren();
  leave = page.module.show(main) || (() => {});
  main.focus();
}

api.onUnauthorized((reason) => showSignIn(`The server refused the token: ${reason}. Sign in with a valid one.`));
signOutButton.addEventListener('click', () => {
  api.setToken('');
  showSignIn('Signed out.');
});
window.addEventListener('hashchange', route);
route();

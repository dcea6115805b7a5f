// The console's one way to the server: fetch() on this origin's /api with the operator's
// token (sessionStorage: it lives as long as the tab and is never written to disk). A 401
// from any call forgets the token and hands the API's reason to the shell, which shows the
// sign-in form again.

const KEY = 'trunkline.token';
let unauthorized = () => {};
let clockOffset = 0;  // server clock - browser clock, ms (from the Date header)

export class ApiError extends Error {
  constructor(status, body) {
    super(body.error || `HTTP ${status}`);
    this.status = status;
    this.field = body.field || '';  // the request member or parameter the API refused
    this.body = body;
  }
}

export const token = () => sessionStorage.getItem(KEY) || '';

export function setToken(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

export function onUnauthorized(handler) {
  unauthorized = handler;
}

// The server's wall clock now (call times are the server's): durations stay right when the
// operator's machine is off by minutes.
export const serverNow = () => Date.now() + clockOffset;

// { data, etag } of one request; an ApiError for anything but 2xx. `raw`: a body sent as is
// (a CSV rate deck) with its `contentType`, instead of a JSON `body`.
export async function request(method, path, { body, ifMatch, raw, contentType = 'text/csv' } = {}) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (raw !== undefined) headers['Content-Type'] = contentType;
  else if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (ifMatch) headers['If-Match'] = ifMatch;
  let res;
  try {
    res = await fetch(path, {
      method, headers, cache: 'no-store',
      body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { error: `the server cannot be reached (${e.message})` });
  }
  const date = Date.parse(res.headers.get('Date') || '');
  if (!Number.isNaN(date)) clockOffset = date - Date.now();
  const text = await res.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { error: text.trim() };
  }
  if (res.status === 401) {
    setToken('');
    unauthorized(data.error || 'the token was refused');
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return { data, etag: res.headers.get('ETag') || '' };
}

export const get = async (path) => (await request('GET', path)).data;

// A file the API answers (CSV, pcap): { blob, headers }, fetched with the token in its header, so
// the page hands the browser an object URL and the token never appears in a URL.
export async function download(path) {
  let res;
  try {
    res = await fetch(path, { headers: { Authorization: `Bearer ${token()}` }, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, { error: `the server cannot be reached (${e.message})` });
  }
  if (!res.ok) {
    const text = await res.text();
    let data;
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: text.trim() };
    }
    if (res.status === 401) {
      setToken('');
      unauthorized(data.error || 'the token was refused');
    }
    throw new ApiError(res.status, data);
  }
  return { blob: await res.blob(), headers: res.headers };
}

// A path segment or query value, escaped.
export const q = encodeURIComponent;

#!/usr/bin/env python3
"""How fast the web console's pages load (issue 15's bar: "pages load in under 300 ms from a
cold cache on loopback with 10,000 CDRs and 1,000 gateways"). Driven by
bench/run_console_bench.sh, which builds trunkline, seeds a database (`seed`), starts
trunkline and then runs `curl` and `browse` against it; the steps can be run alone:

  console_load.py seed   --trunkctl T --db DB --work DIR [--customers 500 --vendors 500
                         --cdrs 10000 --prefixes 3000 --seed 1]
      Rate decks (4 customer rate groups, 10 vendor ones, PREFIXES prefixes each), one
      account per gateway (customers 10001.., vendors 20001..), CUSTOMERS customer gateways
      (cust-NNNN, addresses 127.1.x.y) and VENDORS vendor gateways (vend-NNNN, 127.2.x.y, 3
      country codes each, OPTIONS probes off: nothing is ever sent to them), all with
      trunkctl; then CDRS call records (75% answered, ending over the last 23.5 hours, so
      every one is in the CDR page's and the reports' default 24 hours) written as CSV and
      rated and stored by `trunkctl cdr import`; an admin API token in DIR/token.
  console_load.py curl   --api URL --token-file F [--reps 5]
      Every API request the pages make when shown, timed by curl (-w time_total), and the
      static files: median and max per request, bytes.
  console_load.py browse --api URL --token-file F --devtools-port P --work DIR [--reps 5]
      Debian's headless chromium (a fresh profile, the HTTP cache disabled with
      Network.setCacheDisabled and cleared with Network.clearBrowserCache before every full
      load), driven over the DevTools protocol (python3-websocket). Measured in the page with
      performance.now() and a MutationObserver (installed before the console's scripts run,
      Page.addScriptToEvaluateOnNewDocument); "loaded" is a DOM condition per page: what the
      page fetches when shown is in the DOM (`conds` in WATCH_JS below). Then the next animation
      frame ("painted"). Per page:
        cold  a full load of /#/PAGE after about:blank (the document, the console's modules
              and the page's API requests, none from a cache), from the navigation's start;
        nav   from the hash change (the console already loaded, clicking the navigation)
              to the page loaded.
      Also: the cold load of / without a token (the sign-in form), signing in (submit ->
      the Live page), the cold load of / with a token (navigation timing: DOMContentLoaded,
      loadEventEnd, and the Live page loaded), and three actions with the seeded data
      (revenue and profit-by-customer reports of the last 24 hours, a route explain).
Every wait is bounded in count and time; chromium is started here and stopped by its PID
(and its process group: renderers, zygote). Nothing is asserted: figures are printed.
"""
import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

try:
    import websocket  # python3-websocket (websocket-client)
except ImportError:
    # Debian's python3-websocket lives in Debian's dist-packages, which a python3 from
    # elsewhere (pyenv, a venv) does not search; the module is pure Python
    sys.path.append("/usr/lib/python3/dist-packages")
    import websocket

BAR_MS = 300  # issue 15's bar
PAGES = ["live", "gateways", "explain", "accounts", "cdrs", "reports", "registrations",
         "domains", "rates", "trace"]
COUNTRY_CODES = ["1", "44", "49", "33", "34", "39", "31", "32", "41", "43", "46", "47", "48",
                 "61", "81", "82", "86", "91", "7", "55", "52", "27", "234", "20", "90", "62",
                 "63", "84", "66", "60"]


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, file=sys.stderr, flush=True)


# --- seed --------------------------------------------------------------------------------------
def prefixes(n):
    """n prefixes: the country codes, then each with 2 (or 3) more digits."""
    per = max(1, -(-n // len(COUNTRY_CODES)))
    width = 2 if per <= 100 else 3
    out = []
    for cc in COUNTRY_CODES:
        out.append(cc)
        out += [f"{cc}{j:0{width}d}" for j in range(per - 1)]
    return out[:max(n, len(COUNTRY_CODES))]


def seed(a):
    rnd = random.Random(a.seed)
    os.makedirs(a.work, exist_ok=True)
    t0 = time.time()
    calls = 0

    def ctl(*args):
        nonlocal calls
        calls += 1
        r = subprocess.run([a.trunkctl, "--db", a.db, *args], capture_output=True, text=True,
                           timeout=600)
        if r.returncode != 0:
            sys.exit(f"trunkctl {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
        return r.stdout

    pre = prefixes(a.prefixes)
    cust_groups = [f"retail-{i}" for i in range(1, 5)]
    vend_groups = [f"vend-{i:02d}" for i in range(1, 11)]
    for g in cust_groups + vend_groups:
        lo, span = (0.05, 0.05) if g.startswith("retail") else (0.005, 0.03)
        deck = os.path.join(a.work, f"{g}.csv")
        with open(deck, "w") as f:
            f.write("prefix,price,increment\n")
            for p in pre:
                f.write(f"{p},{lo + rnd.random() * span:.4f},{rnd.choice([1, 6, 60])}\n")
        ctl("rates", "import", g, deck)
    log(f"seed: {len(cust_groups) + len(vend_groups)} rate groups of {len(pre)} rates")

    customers = []  # (account, gateway)
    for i in range(a.customers):
        acc, gw = f"{10001 + i}", f"cust-{i + 1:04d}"
        ctl("accounts", "add", acc, "--kind", "customer", "--name", f"Customer {i + 1}",
            "--balance", "100000", "--credit", "100", "--rate-group", cust_groups[i % 4])
        ctl("gateway", "add", "customer", gw, "--account", acc,
            "--ips", f"127.1.{i // 200}.{i % 200 + 1}", "--line-limit", str(rnd.choice([0, 30, 60, 120])),
            "--cps-limit", str(rnd.choice([0, 5, 10])))
        customers.append((acc, gw))
    log(f"seed: {a.customers} customer accounts and gateways ({time.time() - t0:.0f} s)")
    vendors = []  # (account, gateway, country codes)
    by_cc = {cc: [] for cc in COUNTRY_CODES}
    for i in range(a.vendors):
        acc, gw = f"{20001 + i}", f"vend-{i + 1:04d}"
        ccs = rnd.sample(COUNTRY_CODES, 3)
        ctl("accounts", "add", acc, "--kind", "vendor", "--name", f"Vendor {i + 1}",
            "--rate-group", vend_groups[i % 10])
        ctl("gateway", "add", "vendor", gw, "--vendor-account", acc, "--prefixes", ",".join(ccs),
            "--host", f"127.2.{i // 200}.{i % 200 + 1}", "--port", "5060", "--probe", "no",
            "--priority", str(rnd.randint(1, 9)), "--line-limit", str(rnd.choice([0, 100, 300])))
        vendors.append((acc, gw, ccs))
        for cc in ccs:
            by_cc[cc].append(len(vendors) - 1)
    log(f"seed: {a.vendors} vendor accounts and gateways ({time.time() - t0:.0f} s, "
        f"{calls} trunkctl runs)")

    # call records over the last 23.5 hours: every one in the default 24 hours of the CDR
    # page and the reports
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    window = 23.5 * 3600 - 120
    rows = []
    routable = [cc for cc in COUNTRY_CODES if by_cc[cc]]
    fails = [("486", "Busy", "callee"), ("487", "Cancelled", "caller"),
             ("480", "Temporarily Unavailable", "server"), ("503", "Service Unavailable", "server")]
    fmt = lambda t: t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"  # noqa: E731
    for n in range(a.cdrs):
        acc, gw = customers[rnd.randrange(len(customers))]
        p = rnd.choice(pre)
        if p[:3] not in by_cc and p[:2] not in by_cc and p[:1] not in by_cc:
            p = rnd.choice(routable)
        cc = next(c for c in (p[:3], p[:2], p[:1]) if c in by_cc)
        if not by_cc[cc]:
            cc = rnd.choice(routable)
            p = cc
        callee = p + "".join(rnd.choice("0123456789") for _ in range(11 - len(p)))
        caller = "1" + "".join(rnd.choice("0123456789") for _ in range(10))
        vacc, vgw, _ = vendors[rnd.choice(by_cc[cc])]
        end = now - dt.timedelta(seconds=120 + rnd.random() * window)
        if rnd.random() < 0.75:
            talk = dt.timedelta(seconds=rnd.randint(1, 600), milliseconds=rnd.randint(0, 999))
            ring = dt.timedelta(seconds=rnd.randint(2, 15))
            answer = end - talk
            setup = answer - ring
            code, reason, hangup, ans = "200", "Normal", rnd.choice(["caller", "callee"]), fmt(answer)
        else:
            setup = end - dt.timedelta(seconds=rnd.randint(2, 30))
            code, reason, hangup = rnd.choice(fails)
            ans = ""
        rows.append((setup, [caller, callee, callee, acc, gw, vacc, vgw, fmt(setup), ans, fmt(end),
                             code, reason, hangup, f"bench-{n}-in@127.0.0.1", f"bench-{n}-out@127.0.0.1"]))
    rows.sort(key=lambda r: r[0])
    path = os.path.join(a.work, "cdrs.csv")
    with open(path, "w") as f:
        f.write("caller,callee,callee_out,customer,customer_gateway,vendor,vendor_gateway,setup,"
                "answer,end,sip_code,end_reason,hangup,call_id_in,call_id_out\n")
        for _, r in rows:
            f.write(",".join(r) + "\n")
    t1 = time.time()
    out = json.loads(ctl("cdr", "import", path, "--json"))
    log(f"seed: cdr import stored {out.get('stored')} CDRs in {time.time() - t1:.1f} s "
        f"(revenue {out.get('revenue')})")
    token = json.loads(ctl("token", "add", "console-bench", "--scope", "admin", "--json"))["token"]
    tf = os.path.join(a.work, "token")
    with open(os.open(tf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(token)
    log(f"seed: done in {time.time() - t0:.0f} s; token in {tf}")


# --- curl --------------------------------------------------------------------------------------
def day_before():
    t = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=24)
    return t.strftime("%Y-%m-%dT%H:%M")


def page_requests():
    """(label, path) of what each page asks for when shown, and the actions measured."""
    since = day_before()
    return [
        ("static", "/"), ("static", "/console/app.js"), ("static", "/console/console.css"),
        ("sign-in", "/api/calls?limit=1"),
        ("live", "/api/calls"), ("live", "/api/alerts"),
        ("gateways", "/api/gateways/customers"), ("gateways", "/api/gateways/vendors"),
        ("gateways", "/api/gateways"),
        ("explain", "/api/gateways/customers"),
        ("accounts", "/api/accounts?limit=1000"),
        ("cdrs", "/api/cdrs"),
        ("registrations", "/api/carriers"), ("registrations", "/api/bindings"),
        ("registrations", "/api/suspensions"),
        ("domains", "/api/domains"),
        ("rates", "/api/rate-groups"), ("rates", "/api/alerts"),
        ("trace", "/api/traces"), ("trace", "/api/gateways/customers"),
        ("trace", "/api/gateways/vendors"),
        ("action", f"/api/reports/revenue?from={since}"),
        ("action", f"/api/reports/profit?by=customer&from={since}"),
        ("action", "/api/routes/explain?number=4420712345678&customer=cust-0001"),
        ("action", "/api/rates?group=retail-1"),
        ("action", "/api/cdrs?customer=10001&limit=50"),
    ]


def curl_profile(a):
    header = os.path.join(os.path.dirname(os.path.abspath(a.token_file)), "curl-headers")
    with open(os.open(header, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(f"Authorization: Bearer {open(a.token_file).read().strip()}\n")
    print(f"\nAPI requests with curl ({a.reps} each, ms; time_total, time to first byte):")
    print(f"{'page':<14}{'request':<72}{'status':>7}{'bytes':>10}{'ttfb med':>10}"
          f"{'total med':>10}{'max':>8}")
    rows = []
    for label, path in page_requests():
        totals, ttfbs, status, size = [], [], "", 0
        for _ in range(a.reps):
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "30", "-H",
                                f"@{header}", "-w",
                                "%{http_code} %{time_starttransfer} %{time_total} %{size_download}",
                                a.api + path], capture_output=True, text=True, timeout=60)
            parts = r.stdout.split()
            if len(parts) != 4:
                status = f"curl {r.returncode}"
                break
            status, size = parts[0], int(parts[3])
            ttfbs.append(float(parts[1]) * 1000)
            totals.append(float(parts[2]) * 1000)
        med = statistics.median(totals) if totals else float("nan")
        mx = max(totals) if totals else float("nan")
        ttfb = statistics.median(ttfbs) if ttfbs else float("nan")
        rows.append({"page": label, "path": path, "status": status, "bytes": size,
                     "ttfb_median_ms": ttfb, "median_ms": med, "max_ms": mx})
        shown = path if len(path) <= 70 else path[:67] + "..."
        print(f"{label:<14}{shown:<72}{status:>7}{size:>10}{ttfb:>10.1f}{med:>10.1f}{mx:>8.1f}")
    os.remove(header)
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(rows, f, indent=1)


# --- browse ------------------------------------------------------------------------------------
# Installed in every document before the console's scripts (Page.addScriptToEvaluateOnNewDocument):
# the per-page "loaded" conditions, __benchWait(name, t0) and, for a full load, the automatic
# watch of the page in the URL's hash (window.__benchLoad).
WATCH_JS = r"""
(() => {
  if (location.protocol !== 'http:' && location.protocol !== 'https:') return;
  const q = (s) => document.querySelector(s);
  const txt = (s) => (q(s)?.textContent || '').trim();
  const n = (s) => document.querySelectorAll(s).length;
  const conds = {
    signin: () => !!q('#sign-in') && !!q('#token'),
    live: () => txt('#live-status') !== '' && !!q('#calls table') && q('#alerts')?.childElementCount > 0,
    gateways: () => n('#customers tbody tr[data-row]') > 0 && n('#vendors tbody tr[data-row]') > 0,
    explain: () => !!q('#explain-form') && n('#explain-customers option') > 0,
    accounts: () => n('#accounts tbody tr[data-row]') > 0,
    cdrs: () => n('#cdrs tbody tr[data-row]') > 0 && txt('#cdrs-status') !== '',
    reports: () => !!q('#report-form-submit'),
    registrations: () => txt('#registrations-status') !== '' && !!q('#carriers table')
      && !!q('#bindings table') && !!q('#suspensions table'),
    domains: () => txt('#domains-status') !== '' && !!q('#domains table'),
    rates: () => n('#rate-groups tbody tr[data-row]') > 0 && q('#negative-margins')?.childElementCount > 0,
    trace: () => txt('#trace-status') !== '' && !!q('#traces table') && n('#trace-gateways option') > 0,
    report_table: () => n('#report-table tbody tr[data-row]') > 0 && !!q('#report-total'),
    explain_table: () => n('#explain-table tbody tr') > 0,
  };
  // a status line or form message saying something went wrong
  const failed = () => {
    const e = document.querySelector('#main .status.error, #main .form-message:not(:empty), #main .field-error:not(:empty)');
    return e ? e.textContent.trim() : '';
  };
  window.__benchConds = conds;
  // resolves { dom, frame, error } (ms since t0): the condition first true, then the next
  // animation frame; or { timeout } after limit ms
  window.__benchWait = (name, t0, limit = 15000) => new Promise((resolve) => {
    let done = false;
    let mo = null;
    let timer = 0;
    const finish = (r) => { done = true; if (mo) mo.disconnect(); clearTimeout(timer); resolve(r); };
    const check = () => {
      if (done) return;
      let ok = false;
      try { ok = conds[name](); } catch (e) { ok = false; }
      const err = failed();
      if (!ok && !err) return;
      const dom = performance.now() - t0;
      done = true;
      if (mo) mo.disconnect();
      clearTimeout(timer);
      let framed = false;
      const fallback = setTimeout(() => { if (!framed) { framed = true; resolve({ dom, frame: null, error: err }); } }, 1000);
      requestAnimationFrame(() => {
        if (framed) return;
        framed = true;
        clearTimeout(fallback);
        resolve({ dom, frame: performance.now() - t0, error: ok ? '' : err });
      });
    };
    mo = new MutationObserver(check);
    mo.observe(document, { childList: true, subtree: true, characterData: true });
    timer = setTimeout(() => finish({ timeout: limit, error: failed() }), limit);
    check();
  });
  const hash = location.hash.replace(/^#\/?/, '').split('/')[0];
  const page = sessionStorage.getItem('trunkline.token') ? (hash || 'live') : 'signin';
  if (!conds[page]) return;
  window.__benchLoad = null;
  window.__benchWait(page, 0).then((r) => { r.page = page; window.__benchLoad = r; });
})();
"""

RESOURCES_JS = r"""
(() => {
  const all = performance.getEntriesByType('resource');
  const api = all.filter((e) => new URL(e.name).pathname.startsWith('/api/'));
  const slow = api.reduce((m, e) => (e.responseEnd - e.startTime > (m ? m.responseEnd - m.startTime : -1) ? e : m), null);
  return {
    requests: all.length, bytes: all.reduce((s, e) => s + (e.transferSize || e.encodedBodySize || 0), 0),
    api_requests: api.length,
    api_bytes: api.reduce((s, e) => s + (e.transferSize || e.encodedBodySize || 0), 0),
    slowest_api: slow ? new URL(slow.name).pathname + new URL(slow.name).search : '',
    slowest_api_ms: slow ? slow.responseEnd - slow.startTime : 0,
    waterfall: all.map((e) => [new URL(e.name).pathname, Math.round(e.startTime), Math.round(e.responseEnd)]),
  };
})()
"""


class Cdp:
    """One DevTools page session: call() a method and wait for its answer; events are
    dropped except script errors, which are kept."""

    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.errors = []

    def call(self, method, **params):
        self.next_id += 1
        mine = self.next_id
        self.ws.send(json.dumps({"id": mine, "method": method, "params": params}))
        for _ in range(1_000_000):  # bounded; each recv() is bounded by the timeout
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mine:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if msg.get("method") == "Runtime.exceptionThrown":
                d = msg["params"]["exceptionDetails"]
                self.errors.append(d.get("exception", {}).get("description") or d.get("text"))
        raise RuntimeError(f"{method}: no answer")

    def eval(self, expr, timeout_ms=30000):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True,
                      timeout=timeout_ms)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise RuntimeError(f"{expr[:80]}: {d.get('exception', {}).get('description') or d.get('text')}")
        return r.get("result", {}).get("value")

    def close(self):
        self.ws.close()


def poll(fn, limit_s, step=0.02):
    """fn() until truthy, at most limit_s seconds (and limit_s/step tries); its last value."""
    end = time.monotonic() + limit_s
    v = None
    for _ in range(int(limit_s / step) + 1):
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)
    return v


class Browser:
    def __init__(self, port, work):
        self.port, self.work, self.proc = port, work, None

    def start(self):
        exe = shutil.which("chromium")
        if not exe:
            sys.exit("chromium is not installed (scripts/setup.sh: apt-get install chromium)")
        profile = os.path.join(self.work, "chromium-profile")
        shutil.rmtree(profile, ignore_errors=True)  # a fresh profile: nothing cached
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--no-first-run", "--no-default-browser-check", "--disable-extensions",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", "--window-size=1280,1000",
               f"--remote-debugging-port={self.port}", "--remote-debugging-address=127.0.0.1",
               f"--user-data-dir={profile}", "about:blank"]
        self.out = open(os.path.join(self.work, "chromium.log"), "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log(f"chromium pid {self.proc.pid}, DevTools on 127.0.0.1:{self.port}")
        # for run_console_bench.sh's trap, should this script be killed before its finally
        with open(os.path.join(self.work, "chromium.pid"), "w") as f:
            f.write(str(self.proc.pid))

        def page_url():
            if self.proc.poll() is not None:
                return "gone"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=5) as r:
                    pages = [t for t in json.loads(r.read()) if t.get("type") == "page"]
            except OSError:
                return None
            return pages[0]["webSocketDebuggerUrl"] if pages else None
        url = poll(page_url, 60, 0.25)
        if not url or url == "gone":
            sys.exit("chromium did not start (see chromium.log)")
        return url

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its helpers, by the group id it leads
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.remove(os.path.join(self.work, "chromium.pid"))
        except FileNotFoundError:
            pass
        self.proc = None


def full_load(cdp, url, limit_s=20):
    """A full load of url (after about:blank, the HTTP cache cleared): __benchLoad with the
    navigation timing and the resources."""
    cdp.call("Network.clearBrowserCache")
    cdp.call("Page.navigate", url="about:blank")
    poll(lambda: cdp.eval("location.href") == "about:blank", 10)
    cdp.call("Page.navigate", url=url)
    r = poll(lambda: cdp.eval(
        "window.__benchLoad && (window.__benchLoad.timeout || "
        "performance.getEntriesByType('navigation')[0]?.loadEventEnd > 0) ? "
        "Object.assign({}, window.__benchLoad, {nav: performance.getEntriesByType('navigation')[0].toJSON()})"
        " : null"), limit_s)
    if not r:
        return {"timeout": limit_s * 1000}
    r.update(cdp.eval(RESOURCES_JS))
    return r


def hash_nav(cdp, page, limit_ms=15000):
    """From the hash change to the page loaded, in the already loaded console."""
    r = cdp.eval(f"""(async () => {{
        performance.clearResourceTimings();
        await new Promise((ok) => setTimeout(ok, 0));
        const t0 = performance.now();
        location.hash = '#/{page}';
        return await window.__benchWait({json.dumps(page)}, t0, {limit_ms});
    }})()""", limit_ms + 10000)
    r.update(cdp.eval(RESOURCES_JS))
    return r


def action(cdp, name, setup_js, cond, limit_ms=15000):
    """A form submitted on the shown page (setup_js fills it) to its result shown."""
    r = cdp.eval(f"""(async () => {{
        {setup_js}
        performance.clearResourceTimings();
        await new Promise((ok) => setTimeout(ok, 0));
        const t0 = performance.now();
        document.querySelector({json.dumps(name)}).requestSubmit();
        return await window.__benchWait({json.dumps(cond)}, t0, {limit_ms});
    }})()""", limit_ms + 10000)
    r.update(cdp.eval(RESOURCES_JS))
    return r


def fill_js(fields):
    return "".join(
        f"{{ const e = document.getElementById({json.dumps(k)}); e.value = {json.dumps(v)};"
        " e.dispatchEvent(new Event('input', {bubbles: true})); }"
        for k, v in fields.items())


def summary(samples, key="frame"):
    vals = [s.get(key) if s.get(key) is not None else s.get("dom") for s in samples
            if "timeout" not in s]
    bad = [s for s in samples if "timeout" in s or s.get("error")]
    if not vals:
        return None, None, bad
    return statistics.median(vals), max(vals), bad


def browse(a):
    token = open(a.token_file).read().strip()
    br = Browser(a.devtools_port, a.work)
    results = {"cold": {}, "nav": {}, "actions": {}, "root": [], "signin": None, "root_signin": []}
    stopping = {"sig": None}

    def on_signal(sig, _frame):
        stopping["sig"] = sig
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    try:
        cdp = Cdp(br.start())
        cdp.call("Page.enable")
        cdp.call("Runtime.enable")
        cdp.call("Network.enable")
        cdp.call("Network.setCacheDisabled", cacheDisabled=True)
        cdp.call("Page.addScriptToEvaluateOnNewDocument", source=WATCH_JS)
        cdp.eval("1")
        # 1. / without a token: the sign-in form (cold), then signing in -> Live
        for _ in range(a.reps):
            r = full_load(cdp, a.api + "/")
            results["root_signin"].append(r)
        r = cdp.eval(f"""(async () => {{
            const f = document.getElementById('token');
            f.value = {json.dumps(token)};
            performance.clearResourceTimings();
            const t0 = performance.now();
            document.getElementById('sign-in').requestSubmit();
            return await window.__benchWait('live', t0, 15000);
        }})()""", 25000)
        r.update(cdp.eval(RESOURCES_JS))
        results["signin"] = r
        if "timeout" in r or not poll(lambda: cdp.eval("location.hash") == "#/live", 5):
            sys.exit(f"sign-in failed: {r}")
        log(f"signed in: Live shown {r.get('frame') or r.get('dom'):.0f} ms after submit")
        # 2. / with the token (sessionStorage): the Live page
        for _ in range(a.reps):
            results["root"].append(full_load(cdp, a.api + "/"))
        # 3. each page: a cold full load of /#/page
        for i in range(a.reps):
            for p in PAGES:
                results["cold"].setdefault(p, []).append(full_load(cdp, f"{a.api}/#/{p}"))
            log(f"cold loads: round {i + 1}/{a.reps}")
        # 4. each page from the navigation (hash change), the console loaded (cold cache:
        # the API's answers are never cached, cache: 'no-store')
        full_load(cdp, f"{a.api}/#/trace")
        for i in range(a.reps):
            for p in PAGES:
                results["nav"].setdefault(p, []).append(hash_nav(cdp, p))
            log(f"navigations: round {i + 1}/{a.reps}")
        # 5. actions on the seeded data
        since = day_before()
        acts = [
            ("reports", "revenue report (24 h)", "#report-form", "report_table",
             {"report-form-kind": "revenue", "report-form-by": "", "report-form-from": since}),
            ("reports", "profit by customer (24 h)", "#report-form", "report_table",
             {"report-form-kind": "profit", "report-form-by": "customer", "report-form-from": since}),
            ("explain", "route explain 44..., cust-0001", "#explain-form", "explain_table",
             {"explain-form-number": "4420712345678", "explain-form-customer": "cust-0001"}),
        ]
        for page, label, form, cond, fields in acts:
            for _ in range(a.reps):
                hash_nav(cdp, "live")
                hash_nav(cdp, page)
                results["actions"].setdefault(label, []).append(
                    action(cdp, form, fill_js(fields), cond))
        results["script_errors"] = cdp.errors
        cdp.close()
    except KeyboardInterrupt:
        log(f"stopped (signal {stopping['sig']})")
        br.stop()
        sys.exit(1)
    finally:
        br.stop()
    report(a, results)


def fmt_ms(v):
    return "-" if v is None else f"{v:.0f}"


def report(a, res):
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(res, f, indent=1)
    reps = a.reps
    print(f"\nConsole pages ({reps} runs each; ms; 'loaded' = the page's content in the DOM, then "
          "the next frame; cold = full load of /#/PAGE with the HTTP cache disabled and cleared, "
          "from the navigation start; nav = from the hash change, the console loaded):")
    print(f"{'page':<16}{'cold med':>9}{'cold max':>9}{'nav med':>9}{'nav max':>9}"
          f"{'api req':>8}{'api kB':>8}  slowest API request (ms, of the last nav)")
    worst = (0, "")
    over = []
    for p in PAGES:
        cm, cx, cbad = summary(res["cold"].get(p, []))
        nm, nx, nbad = summary(res["nav"].get(p, []))
        last = (res["nav"].get(p) or [{}])[-1]
        note = ""
        if cbad or nbad:
            b = (cbad + nbad)[0]
            note = f"  !! {'timeout' if 'timeout' in b else 'error'}: {b.get('error', '')}"
        print(f"{p:<16}{fmt_ms(cm):>9}{fmt_ms(cx):>9}{fmt_ms(nm):>9}{fmt_ms(nx):>9}"
              f"{last.get('api_requests', 0):>8}{last.get('api_bytes', 0) / 1024:>8.0f}  "
              f"{last.get('slowest_api', '')} {last.get('slowest_api_ms', 0):.0f}{note}")
        for v, what in ((cm, "cold"), (nm, "nav")):
            if v is not None and v > worst[0]:
                worst = (v, f"{p} {what}")
            if v is not None and v > BAR_MS:
                over.append(f"{p} ({what} {v:.0f} ms)")
    print("\nFull loads of / (ms from the navigation start, median / max):")

    def nav_row(label, samples, key):
        dcl = [s["nav"]["domContentLoadedEventEnd"] for s in samples if "nav" in s]
        load = [s["nav"]["loadEventEnd"] for s in samples if "nav" in s]
        m, x, bad = summary(samples)
        last = samples[-1] if samples else {}
        print(f"  {label:<36} DOMContentLoaded {fmt_ms(statistics.median(dcl) if dcl else None)} / "
              f"{fmt_ms(max(dcl) if dcl else None)}, loadEventEnd "
              f"{fmt_ms(statistics.median(load) if load else None)} / {fmt_ms(max(load) if load else None)}, "
              f"{key} {fmt_ms(m)} / {fmt_ms(x)} ({last.get('requests', 0)} requests, "
              f"{last.get('bytes', 0) / 1024:.0f} kB){'  !! ' + str(bad[0]) if bad else ''}")
        return m
    nav_row("/ without a token", res["root_signin"], "sign-in form shown")
    root_live = nav_row("/ with the token", res["root"], "Live page loaded")
    s = res["signin"] or {}
    print(f"  sign in (submit -> Live page loaded): {fmt_ms(s.get('frame', s.get('dom')))} ms")
    print("\nActions (ms from the submit to the result shown, median / max):")
    for label, samples in res["actions"].items():
        m, x, bad = summary(samples)
        last = samples[-1] if samples else {}
        print(f"  {label:<34}{fmt_ms(m):>6} / {fmt_ms(x):<6} {last.get('slowest_api', '')} "
              f"{last.get('api_bytes', 0) / 1024:.0f} kB"
              f"{'  !! ' + str(bad[0]) if bad else ''}")
    if res.get("script_errors"):
        print(f"\nscript errors reported by the page: {res['script_errors'][:5]}")
    print(f"\nconsole bench: slowest page median {worst[0]:.0f} ms ({worst[1]}); / cold with the "
          f"token {fmt_ms(root_live)} ms to Live; "
          + (f"over {BAR_MS} ms: {', '.join(over)}" if over else f"every page under {BAR_MS} ms (median)"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--trunkctl", required=True)
    s.add_argument("--db", required=True)
    s.add_argument("--work", required=True)
    s.add_argument("--customers", type=int, default=500)
    s.add_argument("--vendors", type=int, default=500)
    s.add_argument("--cdrs", type=int, default=10000)
    s.add_argument("--prefixes", type=int, default=3000)
    s.add_argument("--seed", type=int, default=1)
    c = sub.add_parser("curl")
    c.add_argument("--api", required=True)
    c.add_argument("--token-file", required=True)
    c.add_argument("--reps", type=int, default=5)
    c.add_argument("--json-out")
    b = sub.add_parser("browse")
    b.add_argument("--api", required=True)
    b.add_argument("--token-file", required=True)
    b.add_argument("--devtools-port", type=int, required=True)
    b.add_argument("--work", required=True)
    b.add_argument("--reps", type=int, default=10)
    b.add_argument("--json-out")
    a = ap.parse_args()
    {"seed": seed, "curl": curl_profile, "browse": browse}[a.cmd](a)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The operator web console (issue 15, foundation) in a real browser: Debian's headless
Chromium driven over the Chrome DevTools Protocol (python3-websocket), against a running
trunkline with SIPp traffic. One browser session for every check:
  - the static files over plain HTTP: / and /console/<file> without a token, their
    Content-Type, ETag (304 on If-None-Match), Cache-Control, the security headers
    (Content-Security-Policy 'self' only with frame-ancestors 'none', nosniff); an unknown
    console file is 404; /api still wants its token;
  - a wrong token is refused: the sign-in form stays, with the API's reason, nothing kept;
  - sign in with the keyboard (type the token, Enter): the Live page;
  - a SIPp call held open (customer SIPp -> trunkline -> vendor SIPp) shows on the Live page
    (customer, vendor gateway, numbers, connected); its hang-up button (pressed twice: press,
    confirm) ends it: the customer SIPp gets the BYE and the table empties;
  - Accounts (after that call; a package without a fee added to 1001): its CDR's charge is
    0.10 a minute of its billed seconds
    (retail, by the second, rounded up at 4 decimals) and not zero; account 1001 is listed
    with 50 - charge; the balance column sorts; Open shows its CDR with the charge; a top-up
    of "12.3.4" shows the API's error next to the amount and changes nothing (balance and
    version); a top-up of 5 adds 5 (API, table and detail); volume tiers to 44 (never
    called) are in GET /api/accounts/1001 and Open's "Volume tiers this month";
  - CDRs: two more SIPp calls; a bad From shows the API's error next to it; number prefix +
    customer + gateway with 1 per page turns 3 pages by the API's cursor (latest first, the
    held call last with the API's charge), Previous goes back; Download CSV saves the page
    (fetched with the token in its header, from an object URL);
  - Reports: revenue with its total; profit by customer lists 1001 with a bar chart (SVG);
  - Reconcile (Reports page): a vendor CDR file with a bad duration shows the API's error
    (line, field) next to the file field; a file of the calls through 9001 (one 2 s longer and
    0.01 dearer) and a call never made, set on the file input: the summary's counts and the
    differences table (sortable) list that call and the vendor's extra one;
    commitments of this month (a commitment of 1001 added) by the month field;
  - Registrations: a carrier registration (made through the API) with its live state, alice's
    binding (SIPp REGISTER) and mallory's suspension after 3 wrong passwords; Register now
    says the API's answer; Lift lifts mallory's (and the address') suspension;
  - Domains: an entry made through the API listed with the cache's state; Resolve now;
  - Gateways: the add-vendor form with port 70000 shows the API's error next to the port
    field and nothing is stored; with a good port the gateway is created (the API has it, the
    table lists it); Edit loads it and Save changes it; its Disable button disables it (the
    API says enabled false);
  - Route explain for the callee from acme: gw1 the candidate, the new gateway skipped as
    disabled;
  - Rates: the rate groups; a deck with a bad price and an extra field shows the API's error
    of each line, offers no Store and stores nothing (the API's rates are the same); a good
    deck file's dry run is clean, Store imports it and the prefix search lists its rates,
    1 per page by the API's cursor; a bad prefix shows the API's error next to it;
  - Trace: a trace started on the page for the callee, then a SIPp call: the traces table
    counts its messages, the ladder (inline SVG) has the INVITE and 200 arrows, the pcap is
    fetched with the token in its header and saved from an object URL; Remove removes it;
  - Forms only (issue 15): the vendor's rate group by deck upload, the customer's rates
    auto-created from it with a 20% margin (a bad margin's error next to the field, a dry run
    listing the rates and storing nothing, then Create), a customer account with credit and a
    vendor account (Add account; a negative credit limit refused next to its field), a
    customer gateway identified by the SIPp's address and port and a vendor gateway to a
    second SIPp (Gateways forms); a SIPp call then shows on the Live page and its CDR in the
    CDR search with the charge of the auto-created rate;
  - a token removed with `trunkctl token remove` while signed in: the next refresh's 401
    returns to the sign-in form with a message;
  - no script error and no Content-Security-Policy violation was reported by the page;
  - the browser enforces the policy: an inline script added to the page does not run.
A PNG screenshot of each page goes to <build>/test-reports/console/ (the paths are printed).
Chromium missing is a failure, not a skip. Checks wait on conditions with generous limits,
never on wall-clock upper bounds. Every process is started here and stopped by its PID.

usage: console_test.py TRUNKLINE TRUNKCTL SIPP_DIR REPORT PORT_BASE
  PORT_BASE: meson passes integration_port_base + 380; this test uses PORT_BASE .. + 9
  (+ 6: the REGISTERing SIPp, + 7: the carrier registrar nobody answers on, + 8: the forms
  customer's SIPp, + 9: the forms vendor's SIPp).
"""
import base64
from decimal import ROUND_CEILING, Decimal
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402

try:
    import websocket  # python3-websocket (websocket-client)
except ImportError:
    # Debian's python3-websocket lives in Debian's dist-packages, which a python3 from
    # elsewhere (pyenv, a venv) does not search; the module is pure Python, so use it from there
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import websocket
    except ImportError:
        websocket = None
from support import (Results, api_client, finish, port_in_use, read_text, stop_all,  # noqa: E402
                     stop_pid, wait_logged, wait_until)

TRUNKLINE, TRUNKCTL, SIPP_DIR, REPORT = (os.path.abspath(a) for a in sys.argv[1:5])
BASE = int(sys.argv[5])
TL_PORT, UAC_PORT, VENDOR_PORT, API_PORT, DEVTOOLS_PORT, NEW_VENDOR_PORT, REG_PORT = (
    BASE, BASE + 1, BASE + 2, BASE + 3, BASE + 4, BASE + 5, BASE + 6)
API = f"http://127.0.0.1:{API_PORT}"
CALLEE = "15551234567"
SHOTS = os.path.join(os.path.dirname(REPORT), "console")
results = Results()
check = results.check
T0 = time.time()
WORK = tempfile.mkdtemp(prefix="trunkline-console-")
DB = os.path.join(WORK, "trunkline.db")
procs = []
http = api_client(API)
start_sipp = functools.partial(support.start_sipp, SIPP_DIR, WORK, procs)
WAIT = 30  # seconds: a generous limit for what the page shows after an action


def ctl(*args):
    return support.ctl(TRUNKCTL, DB, *args, cwd=WORK, must=True)[1]


def log():
    return read_text(os.path.join(WORK, "trunkline.log"))


# --- the browser -----------------------------------------------------------------------------
class Cdp:
    """One DevTools page session: call() a method and wait for its answer; the events that
    arrive meanwhile are kept (script errors, console messages)."""

    def __init__(self, ws_url):
        # no Origin header: Chromium refuses DevTools connections from an origin it was not told
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        mine = self.next_id
        self.ws.send(json.dumps({"id": mine, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mine:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def eval(self, expr):
        """The value of a JavaScript expression in the page (promises awaited)."""
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expr[:80]}: {r['exceptionDetails'].get('text')} "
                               f"{r['exceptionDetails'].get('exception', {}).get('description')}")
        return r.get("result", {}).get("value")

    def wait(self, expr, limit=WAIT):
        """Waits until the expression is truthy in the page; its last value."""
        return wait_until(lambda: self.eval(expr), limit, 0.2)

    def type_text(self, text):
        self.call("Input.insertText", text=text)

    def press_enter(self):
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter",
                      windowsVirtualKeyCode=13, text="\r" if kind == "keyDown" else "")

    def close(self):
        self.ws.close()


def start_chromium(profile):
    """Chromium headless with DevTools on 127.0.0.1:DEVTOOLS_PORT in its own session (its
    helpers stop with it); (process, page websocket URL) or (process or None, None)."""
    exe = shutil.which("chromium")
    if not check("Debian's chromium is installed (scripts/setup.sh)", exe, "chromium not on PATH"):
        return None, None
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--no-default-browser-check", "--disable-extensions",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", "--window-size=1280,1000",
           f"--remote-debugging-port={DEVTOOLS_PORT}", "--remote-debugging-address=127.0.0.1",
           f"--user-data-dir={profile}", "about:blank"]
    with open(os.path.join(WORK, "chromium.log"), "wb") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def page_url():
        if p.poll() is not None:
            return "gone"
        try:
            status, _, body = support.http("GET", f"http://127.0.0.1:{DEVTOOLS_PORT}/json/list")
        except OSError:
            return None
        pages = [t for t in json.loads(body) if t.get("type") == "page"] if status == 200 else []
        return pages[0]["webSocketDebuggerUrl"] if pages else None
    url = wait_until(page_url, 60, 0.25)
    ok = url and url != "gone"
    check("chromium starts with its DevTools endpoint on 127.0.0.1", ok,
          read_text(os.path.join(WORK, "chromium.log"))[-1500:])
    return p, url if ok else None


def stop_chromium(p):
    """SIGTERM to chromium by its PID, then its own process group (renderers, zygote) killed
    by that id if anything of it is left."""
    if p is None:
        return
    stop_pid(p, 15)
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def screenshot(cdp, name):
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, f"{name}.png")
    data = cdp.call("Page.captureScreenshot", format="png")["data"]
    with open(path, "wb") as f:
        f.write(base64.b64decode(data))
    print(f"screenshot: {path}", flush=True)
    return path


# --- small page helpers (JavaScript run in the page) ----------------------------------------
def js(value):
    return json.dumps(value)


def text_of(selector):
    return f"(document.querySelector({js(selector)})?.textContent || '')"


def set_value(cdp, selector, value):
    cdp.eval(f"(() => {{ const e = document.querySelector({js(selector)}); e.value = {js(value)};"
             " e.dispatchEvent(new Event('input', {bubbles: true})); return true; })()")


def click(cdp, selector):
    return cdp.eval(f"(() => {{ const e = document.querySelector({js(selector)});"
                    " if (!e) return false; e.click(); return true; })()")


def table_rows(cdp, selector):
    """The text of each body row's cells of a table."""
    return cdp.eval(f"[...document.querySelectorAll({js(selector + ' tbody tr')})]"
                    ".map(r => [...r.cells].map(c => c.textContent.trim()))")


def go(cdp, page):
    cdp.eval(f"location.hash = {js('#/' + page)}")


# --- the steps -------------------------------------------------------------------------------
def setup():
    support.setup_routing(ctl, WORK, VENDOR_PORT)
    admin = json.loads(ctl("token", "add", "ops", "--scope", "admin", "--json"))["token"]
    spare = json.loads(ctl("token", "add", "night-shift", "--scope", "admin", "--json"))["token"]
    p = support.start_trunkline(
        TRUNKLINE, WORK, "trunkline",
        f'[api]\nlisten = "127.0.0.1:{API_PORT}"\n\n[database]\nreload_poll_ms = 200\n\n'
        '[registrar]\nregister_retry = 3\nregister_suspend = 600\n',
        "--db", DB, "--udp", f"127.0.0.1:{TL_PORT}", "--tcp", "off")
    up = wait_logged(p, os.path.join(WORK, "trunkline.log"), "api: listening", 20)
    check("trunkline starts with the API", up, log()[-1500:])
    return p if up else None, admin, spare


def static_checks():
    status, h, body = http("GET", "/")
    csp = h.get("Content-Security-Policy", "")
    check("GET / without a token: 200, the console's HTML page",
          status == 200 and h.get("Content-Type", "").startswith("text/html")
          and '<script type="module" src="/console/app.js">' in body, f"{status} {h} {body[:300]}")
    check("security headers: CSP 'self' only with frame-ancestors 'none', nosniff",
          "script-src 'self'" in csp and "default-src 'none'" in csp
          and "frame-ancestors 'none'" in csp and "unsafe" not in csp
          and h.get("X-Content-Type-Options") == "nosniff", h)
    etag = h.get("ETag", "")
    check("an ETag and Cache-Control: no-cache (revalidated, never stale after an upgrade)",
          re.fullmatch(r'"[0-9a-f]{20}"', etag) and h.get("Cache-Control") == "no-cache", h)
    status, h, body = http("GET", "/", headers={"If-None-Match": etag})
    check("If-None-Match with the ETag: 304, no body", status == 304 and body == "", status)
    for name, ctype in (("app.js", "text/javascript"), ("console.css", "text/css")):
        status, h, _ = http("GET", f"/console/{name}")
        check(f"/console/{name}: 200 {ctype}",
              status == 200 and h.get("Content-Type", "").startswith(ctype), f"{status} {h}")
    status, h, _ = http("GET", "/console/nothing.js")
    check("an unknown console file: 404, with the security headers",
          status == 404 and "Content-Security-Policy" in h, f"{status} {h}")
    check("/api still needs the token", http("GET", "/api/calls")[0] == 401)


def sign_in_checks(cdp, admin):
    cdp.call("Page.navigate", url=API + "/")
    check("the console shows the sign-in form",
          cdp.wait("!!document.querySelector('#sign-in') && document.activeElement?.id === 'token'"),
          cdp.eval("document.body.innerHTML.slice(0, 500)"))
    cdp.type_text("tl_wrong-token")
    cdp.press_enter()
    msg = cdp.wait(f"{text_of('#sign-in-message')}.includes('refused') && {text_of('#sign-in-message')}")
    check("a wrong token is refused: the sign-in form stays with the API's reason",
          msg and "unknown token" in msg
          and cdp.eval("getComputedStyle(document.getElementById('nav')).display") == "none"
          and cdp.eval("sessionStorage.length") == 0, msg)
    screenshot(cdp, "sign-in-refused")
    cdp.eval("document.getElementById('token').focus()")
    cdp.type_text(admin)
    cdp.press_enter()
    check("signed in with the keyboard (token, Enter): the Live page and the navigation",
          cdp.wait("location.hash === '#/live' && !!document.querySelector('#calls table') && "
                   "getComputedStyle(document.getElementById('nav')).display !== 'none'"),
          cdp.eval(text_of("main")))


def call_checks(cdp):
    vendor = start_sipp("vendor", "softswitch_uas.xml", VENDOR_PORT, ["-aa", "-timeout", "120s"])
    if not check("vendor SIPp starts",
                 wait_until(lambda: port_in_use(VENDOR_PORT) or vendor.poll() is not None, 10)
                 and vendor.poll() is None, read_text(os.path.join(WORK, "vendor.out"))):
        return
    uac = start_sipp("uac", "softswitch_uac_wait_bye.xml", UAC_PORT,
                     ["-s", CALLEE, "-m", "1", "-l", "1", "-timeout", "90s", "-recv_timeout",
                      "60000", f"127.0.0.1:{TL_PORT}"])
    go(cdp, "live")

    def shown():
        rows = table_rows(cdp, "#calls")
        return rows if rows and len(rows[0]) > 5 and rows[0][5] == "connected" else None
    rows = wait_until(shown, 60, 0.25)
    check("the Live page shows the SIPp call: acme -> gw1, the callee, connected",
          rows and len(rows) == 1 and rows[0][1:6] == ["acme", "gw1", rows[0][3], CALLEE,
                                                       "connected"]
          and re.fullmatch(r"\d+:\d\d", rows[0][6]), rows)
    chart_checks_connected(cdp)
    screenshot(cdp, "live")
    if not rows:
        return
    cid = rows[0][0]
    # at least 2 s of talk time, so the CDR's charge (0.10 a minute, by the second) is not zero
    cdp.wait(f"(() => {{ const r = document.querySelector('#calls tr[data-row=\"{cid}\"]');"
             " const d = r ? r.cells[6].textContent.trim() : '0:00';"
             " return d !== '0:00' && d !== '0:01'; })()")
    click(cdp, f"[data-key='hangup-{cid}']")
    check("the first press asks for confirmation (nothing hung up yet)",
          cdp.wait(f"{text_of(f'[data-key=hangup-{cid}]')} === 'Confirm hang-up'")
          and json.loads(http("GET", "/api/calls", ADMIN)[2])["count"] == 1)
    click(cdp, f"[data-key='hangup-{cid}']")
    rc = finish(uac, 120)
    out = read_text(os.path.join(WORK, "uac.out"))
    done = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", out)
    check("the confirmed hang-up ends the call: the customer SIPp gets the BYE (exit 0)",
          rc == 0 and done and done[-1] == "1", out[-1000:])
    check("the Live page empties and says the call was hung up",
          cdp.wait(f"{text_of('#calls tbody')} === 'No calls.' && "
                   f"{text_of('#live-notice')} === 'Call {cid} hung up.'"),
          cdp.eval(text_of("main")))
    chart_checks_ended(cdp)
    stop_pid(vendor, 10)


# The Live page's last-hour charts (GET /api/stats/history), one <svg role=img> each.
CHARTS_JS = ("[...document.querySelectorAll('#live-charts svg[role=img]')].map(s => ({id: s.id,"
             " label: s.getAttribute('aria-label'), title: s.querySelector('title')?.textContent,"
             " latest: s.dataset.latest}))")


def chart_label(chart_id):
    return f"(document.getElementById({js(chart_id)})?.getAttribute('aria-label') || '')"


def chart_checks_connected(cdp):
    """While the SIPp call is connected: the four charts, the concurrent one counting it."""
    shown = cdp.wait(f"{chart_label('chart-concurrent')}.includes('latest 1,') && {CHARTS_JS}")
    ok = (shown and [c["id"] for c in shown] == ["chart-cps", "chart-asr", "chart-acd",
                                                   "chart-concurrent"]
          and all(c["label"] and c["title"] == c["label"] and "last hour" in c["label"]
                  for c in shown))
    check("Live: the last hour's CPS, ASR, ACD and concurrent calls charts (svg role=img, a "
          "<title>, the latest value in the label); the concurrent one counts the call: latest 1",
          ok and "latest 1, peak 1" in shown[3]["label"], shown)
    history = api_json("/api/stats/history")
    buckets = history["buckets"] if history else []
    check("GET /api/stats/history: 60 one-minute buckets, the call started in one of them",
          history and history["bucket_s"] == 60 and len(buckets) == 60
          and sum(b["calls"] for b in buckets) >= 1 and buckets[-1]["concurrent_last"] == 1
          and all(buckets[i + 1]["t_ms"] - buckets[i]["t_ms"] == 60000 for i in range(59)),
          buckets[-3:])


def chart_checks_ended(cdp):
    """After the hang-up: the call is an answered one in ASR and ACD, the calls chart has it."""
    labels = cdp.wait(f"{chart_label('chart-asr')}.includes('latest 100 %') && "
                      f"{chart_label('chart-concurrent')}.includes('latest 0,') && {CHARTS_JS}")
    check("Live charts after the hang-up: ASR 100 %, an ACD, concurrent back to 0, CPS not zero",
          labels and re.search(r"ACD, last hour: latest \d+:\d\d", labels[2]["label"])
          and "peak 0.000" not in labels[0]["label"], labels or cdp.eval(CHARTS_JS))
    history = api_json("/api/stats/history")
    buckets = history["buckets"] if history else []
    check("GET /api/stats/history counts the call: started, ended and answered, ASR 1",
          sum(b["calls"] for b in buckets) >= 1 and sum(b["ended"] for b in buckets) >= 1
          and any(b["answered"] >= 1 and b["asr"] == 1 and b["acd_s"] >= 1 for b in buckets),
          [b for b in buckets if b["calls"] or b["ended"]])


def api_json(path):
    status, _, body = http("GET", path, ADMIN)
    return json.loads(body) if status == 200 else None


def call_cdr():
    """The held call's CDR from GET /api/cdrs (acme's account 1001), once it is written."""
    def one():
        v = api_json("/api/cdrs?customer=1001")
        return v["cdrs"][0] if v and len(v["cdrs"]) == 1 else None
    return wait_until(one, WAIT, 0.2)


def account_checks(cdp):
    cdr = call_cdr()
    if not check("the held call has its CDR in GET /api/cdrs?customer=1001", cdr, cdr):
        return None
    # retail: prefix 1 at 0.10 a minute by the second, 4 decimals rounded up (the default)
    want = (Decimal(cdr["customer_billed_s"]) * Decimal("0.10") / 60).quantize(
        Decimal("0.0001"), rounding=ROUND_CEILING)
    check("its charge is 0.10 a minute of its billed seconds, and not zero",
          cdr["customer_billed_s"] >= 1 and Decimal(cdr["charge"]) == want and want > 0,
          f"{want} {cdr}")
    # a package to numbers the test never calls, without a fee: listed, changes no charge
    ctl("packages", "add", "1001", "uk-test", "--prefixes", "44", "--minutes", "100", "--fee", "0",
        "--until", "2099-01-01")
    # and volume tiers to 44 (never called either: no charge changes), with this month's use
    ctl("tiers", "add", "1001", "44", "--from-minutes", "0", "--price", "0.05")
    ctl("tiers", "add", "1001", "44", "--from-minutes", "1000", "--price", "0.04", "--bonus-minutes", "60")
    account = api_json("/api/accounts/1001")
    tiers = (account or {}).get("tiers") or [{}]
    check("GET /api/accounts/1001 lists its tiers to 44 this month: 0 s used, 0.0500 in force, "
          "1000 minutes next",
          len(tiers) == 1 and tiers[0].get("prefix") == "44"
          and tiers[0].get("month") == time.strftime("%Y-%m", time.gmtime()) and tiers[0].get("used_s") == 0
          and (tiers[0].get("current") or {}).get("price") == "0.0500"
          and tiers[0].get("next") == {"from_minutes": 1000, "price": "0.0400", "bonus_minutes": 60},
          tiers)
    check("account 1001's balance went down by the charge (50 - charge)",
          account and Decimal(account["balance"]) == 50 - Decimal(cdr["charge"]), account)
    go(cdp, "accounts")
    row = "#accounts tr[data-row='1001']"
    shown = cdp.wait(f"document.querySelector({js(row)})?.cells[3].textContent === "
                     f"{js(account['balance'])}")
    rows = {r[0]: r for r in table_rows(cdp, "#accounts") or []}
    check("the Accounts page lists 1001 (customer, rate group retail) and 9001 with the "
          "balance after the call",
          shown and rows.get("1001", [])[2:4] == ["customer", account["balance"]]
          and rows["1001"][6] == "retail" and rows.get("9001", [None, None, ""])[2] == "vendor",
          rows)
    click(cdp, "#accounts th:nth-child(4) button")  # sort by balance
    sorted_ok = cdp.wait("document.querySelector('#accounts th:nth-child(4)')"
                         ".getAttribute('aria-sort') === 'ascending'")
    check("the balance column sorts (aria-sort ascending)", sorted_ok)
    click(cdp, "[data-key='open-1001']")
    listed = cdp.wait(f"!!document.querySelector('#topup-form') && "
                      f"!!document.querySelector('#account-cdrs tr[data-row=\"{cdr['id']}\"]') && "
                      f"{text_of('#account-balance')} === {js(account['balance'])}")
    cells = table_rows(cdp, "#account-cdrs") or [[]]
    check("Open shows 1001's balance, the top-up form and its CDR with the charge",
          listed and cells[0][0] == str(cdr["id"]) and cells[0][3] == CALLEE
          and cells[0][8] == cdr["charge"], cells)
    set_value(cdp, "#topup-form-amount", "12.3.4")
    set_value(cdp, "#topup-form-memo", "console test")
    click(cdp, "#topup-form-submit")
    err = cdp.wait(f"{text_of('#topup-form-amount-error')}")
    check("a bad amount: the API's error next to the amount field",
          err and "amount" in err and cdp.eval(
              "document.getElementById('topup-form-amount').getAttribute('aria-invalid')")
          == "true",
          err)
    after = api_json("/api/accounts/1001")
    check("the refused top-up changed nothing (same balance, same version)",
          after and (after["balance"], after["version"])
          == (account["balance"], account["version"]),
          f"{account} {after}")
    screenshot(cdp, "accounts-topup-error")
    # with the keyboard: the refused field has the focus; type the amount, Enter
    set_value(cdp, "#topup-form-amount", "")
    focused = cdp.eval("document.activeElement?.id") == "topup-form-amount"
    cdp.type_text("5")
    cdp.press_enter()
    want_balance = Decimal(account["balance"]) + 5
    done = cdp.wait(f"{text_of('#accounts-status')}.startsWith('Account 1001 topped up by 5')")
    after = api_json("/api/accounts/1001") or {}
    shown = cdp.wait(f"{text_of('#account-balance')} === {js(after.get('balance'))} && "
                     f"document.querySelector({js(row)})?.cells[3].textContent === "
                     f"{js(after.get('balance'))}")
    check("a top-up of 5 (typed, Enter): the API's balance is 5 more, shown in the table and "
          "the detail",
          focused and done and shown and Decimal(after.get("balance", "0")) == want_balance,
          f"{after} {cdp.eval(text_of('main'))[:600]}")
    pk = cdp.wait("document.querySelector('#account-packages tr[data-row=uk-test]')?.textContent")
    check("Open lists 1001's package with its minutes, used and left (100, 0, 100)",
          pk and "44" in pk and "100" in pk, pk or cdp.eval(text_of("#account-detail"))[:500])
    cdp.wait("!!document.querySelector('#account-tiers tr[data-row=\"44\"]')")
    tr = table_rows(cdp, "#account-tiers") or [[]]
    check("Open shows 1001's volume tiers this month (44: 0.00 minutes, 0.0500/min, next from "
          "1000 min)",
          cdp.eval(text_of("#account-tiers caption")).startswith("Volume tiers this month")
          and tr[0][:4] == ["44", time.strftime("%Y-%m", time.gmtime()), "0.00", "0.0500/min"]
          and "from 1000 min: 0.0400/min" in tr[0][4], tr)
    screenshot(cdp, "accounts")
    # a top-up made elsewhere meanwhile: the form's If-Match is stale, refused, nothing booked
    cdp.wait(f"document.activeElement?.id === 'topup-form-amount' && "
             f"{text_of('#account-balance')} === {js(after.get('balance'))}")
    http("POST", "/api/accounts/1001/topup", ADMIN, {"amount": "1", "memo": "elsewhere"})
    set_value(cdp, "#topup-form-amount", "2")
    click(cdp, "#topup-form-submit")
    msg = cdp.wait(f"{text_of('#topup-form-message')}")
    now = api_json("/api/accounts/1001") or {}
    check("a top-up on a stale view (another top-up came in): refused with the API's reason, "
          "nothing booked", msg and "changed" in msg
          and Decimal(now.get("balance", "0")) == want_balance + 1, f"{msg} {now}")
    return cdr


def more_calls():
    """Two more answered calls (1 s each) so the CDR search has pages to turn; True when the
    API lists the 3 CDRs."""
    vendor = start_sipp("vendor2", "softswitch_uas.xml", VENDOR_PORT, ["-aa", "-timeout", "60s"])
    wait_until(lambda: port_in_use(VENDOR_PORT) or vendor.poll() is not None, 10)
    uac = start_sipp("uac2", "softswitch_uac.xml", UAC_PORT,
                     ["-s", CALLEE, "-m", "2", "-l", "1", "-d", "1000", "-timeout", "60s",
                      "-recv_timeout", "20000", f"127.0.0.1:{TL_PORT}"])
    rc = finish(uac, 90)
    stop_pid(vendor, 10)
    def listed():
        cdrs = (api_json("/api/cdrs?customer=1001") or {"cdrs": []})["cdrs"]
        return cdrs if len(cdrs) == 3 else None
    three = wait_until(listed, WAIT, 0.2)
    return check("two more SIPp calls: 3 CDRs of account 1001 in the API", rc == 0 and three,
                 f"{rc} {three} {read_text(os.path.join(WORK, 'uac2.out'))[-800:]}")


def cdr_checks(cdp, cdr):
    if cdr is None or not more_calls():
        return
    go(cdp, "cdrs")
    check("the CDRs page lists the last 24 hours' CDRs at once",
          cdp.wait(f"!!document.querySelector('#cdrs tr[data-row=\"{cdr['id']}\"]')"),
          cdp.eval(text_of("main"))[:600])
    set_value(cdp, "#cdr-search-from", "yesterday")
    click(cdp, "#cdr-search-submit")
    err = cdp.wait(f"{text_of('#cdr-search-from-error')}")
    check("a bad From: the API's error next to the From field",
          err and "yesterday" in err and cdp.eval(
              "document.getElementById('cdr-search-from').getAttribute('aria-invalid')") == "true",
          err)
    set_value(cdp, "#cdr-search-from", "")
    for name, value in (("number", CALLEE[:4]), ("customer", "1001"), ("gateway", "acme"),
                        ("limit", "1")):
        set_value(cdp, f"#cdr-search-{name}", value)
    click(cdp, "#cdr-search-submit")
    pages = []
    for turn in range(3):
        cdp.wait(f"{text_of('#cdrs-page')}.includes('Page {turn + 1}') && "
                 "document.querySelectorAll('#cdrs tbody tr[data-row]').length === 1")
        pages.append((table_rows(cdp, "#cdrs") or [[]])[0][:1]
                     + [cdp.eval("document.getElementById('cdrs-next').disabled")])
        if turn < 2:
            click(cdp, "#cdrs-next")
    ids = [p[0] for p in pages]
    check("number prefix + customer + gateway, 1 per page: Next turns 3 pages by the API's "
          "cursor, latest first, the held call's CDR last; Next disabled on the last",
          len(set(ids)) == 3 and ids[2] == str(cdr["id"])
          and [p[1] for p in pages] == [False, False, True], pages)
    rows = table_rows(cdp, "#cdrs") or [[]]
    check("the held call's CDR in the search: the callee, acme/gw1 and the API's charge",
          rows[0][0] == str(cdr["id"]) and rows[0][3] == CALLEE
          and rows[0][4] == "1001 / acme" and rows[0][5] == "9001 / gw1"
          and rows[0][8] == cdr["charge"] and Decimal(rows[0][8]) > 0, rows)
    screenshot(cdp, "cdrs")
    click(cdp, "#cdrs-prev")
    back = cdp.wait(f"{text_of('#cdrs-page')}.includes('Page 2') && "
                    f"{text_of('#cdrs tbody')}.startsWith({js(ids[1])})")
    check("Previous goes back to page 2", back, cdp.eval(text_of("#cdrs")))
    saved = os.path.join(WORK, "downloads")
    cdp.call("Page.setDownloadBehavior", behavior="allow", downloadPath=saved)
    click(cdp, "#cdrs-csv")
    href = cdp.wait("(document.getElementById('cdrs-csv-link').href || '').startsWith('blob:') && "
                    "document.getElementById('cdrs-csv-link').href")
    name = cdp.eval("document.getElementById('cdrs-csv-link').download")
    path = os.path.join(saved, name or "none")
    wait_until(lambda: os.path.exists(path) and read_text(path).count("\n") >= 2, WAIT)
    lines = read_text(path).splitlines() if os.path.exists(path) else []
    check("Download CSV: fetched with the token in its header, saved by the browser from an "
          "object URL (no token in any URL): the page's CDR",
          href and ADMIN not in href and len(lines) == 2
          and lines[0].startswith("id,caller,callee,")
          and lines[1].startswith(f"{ids[1]},"), f"{href} {name} {lines[:3]}")

def report_checks(cdp):
    go(cdp, "reports")
    cdp.wait("!!document.querySelector('#report-form')")
    click(cdp, "#report-form-submit")
    shown = cdp.wait("!!document.querySelector('#report-table table') && "
                     "!!document.querySelector('#report-total')")
    total = cdp.eval(text_of("#report-total"))
    check("Reports: revenue of the last 24 hours, a table and its total",
          shown and "revenue" in total and "object" not in total, cdp.eval(text_of("main"))[:800])
    set_value(cdp, "#report-form-kind", "profit")
    set_value(cdp, "#report-form-by", "customer")
    click(cdp, "#report-form-submit")
    shown = cdp.wait("document.querySelector('#report-table caption')?.textContent"
                     ".startsWith('profit') && "
                     "!!document.querySelector('#report-table tbody tr[data-row]')")
    rows = table_rows(cdp, "#report-table") or []
    check("profit by customer: a row for account 1001 and a bar chart (inline SVG)",
          shown and any(r and r[0] == "1001" for r in rows)
          and cdp.eval("document.querySelectorAll('#report-chart rect').length") >= 1,
          f"{rows} {cdp.eval(text_of('#report-result'))[:500]}")
    cdp.eval("document.getElementById('report-result').scrollIntoView()")
    screenshot(cdp, "reports")
    # commitments of this month (report only: no charge changes), the month field instead of from
    ctl("commitments", "add", "1001", "--prefix", "1", "--minutes", "1000", "--discount", "5%")
    set_value(cdp, "#report-form-kind", "commitments")
    click(cdp, "#report-form-submit")
    shown = cdp.wait("document.querySelector('#report-table caption')?.textContent"
                     ".startsWith('commitments') && "
                     "!!document.querySelector('#report-table tbody tr[data-row]')")
    rows = table_rows(cdp, "#report-table") or []
    check("commitments of this month: 1001 to 1, 1000 minutes contracted, not met",
          shown and any(r[:2] == ["1001", "1"] and "1000.00" in r and "false" in r for r in rows),
          f"{rows} {cdp.eval(text_of('#report-result'))[:500]}")


def reconcile_checks(cdp):
    """Reports: a vendor's CDR file for the test's calls through vendor 9001, one of them 2 s
    longer and 0.01 dearer at the vendor, and one call the switch never made: the summary counts
    and the differences table; a bad line first, the API's error next to the file field."""
    ours = (api_json("/api/cdrs?vendor=9001") or {"cdrs": []})["cdrs"]
    ours = sorted((c for c in ours if c["answer_time"]), key=lambda c: c["id"])
    if not check("the calls through vendor 9001 have their CDRs (3 answered)", len(ours) == 3, ours):
        return
    go(cdp, "reports")
    cdp.wait("!!document.querySelector('#reconcile-form')")
    callee = lambda c: c["callee_out"] or c["callee"]  # noqa: E731
    set_value(cdp, "#reconcile-form-vendor", "9001")
    set_value(cdp, "#reconcile-form-text", "callee,start,duration,amount\n"
              f"{callee(ours[0])},{ours[0]['answer_time']},1x,{ours[0]['cost']}\n")
    click(cdp, "#reconcile-form-submit")
    err = cdp.wait(f"{text_of('#reconcile-form-file-error')}")
    rows = table_rows(cdp, "#reconcile-errors") or []
    check("a vendor file with a bad duration: the API's error (line 2, field duration) next to "
          "the file field and the line listed",
          err and "line 2, field duration" in err and rows[:1] and rows[0][:2] == ["2", "duration"],
          f"{err} {rows}")
    set_value(cdp, "#reconcile-form-text", "")
    differing = ours[1]
    lines = ["callee,start,duration,amount"]
    for c in ours:
        extra = c is differing
        lines.append(f"{callee(c)},{c['answer_time']},{c['duration_s'] + (2 if extra else 0)},"
                     f"{Decimal(c['cost']) + (Decimal('0.01') if extra else 0)}")
    lines.append(f"{CALLEE[:-1]}9,{ours[-1]['answer_time']},42,0.0700")  # a call never made
    path = os.path.join(WORK, "vendor-cdrs.csv")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    root = cdp.call("DOM.getDocument")["root"]["nodeId"]
    node = cdp.call("DOM.querySelector", nodeId=root, selector="#reconcile-form-file")["nodeId"]
    cdp.call("DOM.setFileInputFiles", files=[path], nodeId=node)
    click(cdp, "#reconcile-form-submit")
    shown = cdp.wait("!!document.querySelector('#reconcile-summary') && "
                     "document.querySelectorAll('#reconcile-differences tbody tr[data-row]').length === 2")
    counts = cdp.eval("Object.fromEntries([...document.querySelectorAll('#reconcile-summary dd')]"
                      ".map(d => [d.dataset.key, d.textContent]))") or {}
    check("the file uploaded (a file input): matched 3, differing 1, only ours 0, only theirs 1",
          shown and [counts.get(k) for k in ("matched", "differing", "only_ours", "only_theirs")]
          == ["3", "1", "0", "1"]
          and Decimal(counts.get("deviation", "0")) == Decimal("0.08"),
          f"{counts} {cdp.eval(text_of('#reconcile'))[:800]}")
    rows = {r[0]: r for r in table_rows(cdp, "#reconcile-differences") or []}
    d, t = rows.get("differs", []), rows.get("only theirs", [])
    check("the differences table: the dearer call (our CDR, their line 3, +2 s, +0.01) and the "
          "call only in theirs (line 5)",
          len(d) == 11 and d[1] == callee(differing) and d[3] == str(differing["id"]) and d[4] == "3"
          and d[7] == "2" and Decimal(d[10]) == Decimal("0.01")
          and len(t) == 11 and t[4] == "5" and t[6] == "42", rows)
    click(cdp, "#reconcile-differences th:nth-child(1) button")
    check("the differences table sorts (Status descending)",
          cdp.wait("document.querySelector('#reconcile-differences th:nth-child(1)')"
                   ".getAttribute('aria-sort') === 'descending'"))
    cdp.eval("document.getElementById('reconcile-result').scrollIntoView()")
    screenshot(cdp, "reports-reconcile")


def sipp_register(tag, scenario, user, password, calls):
    """`calls` REGISTERs of `user` from REG_PORT with `password` (scenario's injection line)."""
    csv = os.path.join(WORK, f"{tag}.csv")
    with open(csv, "w") as f:
        f.write(f"SEQUENTIAL\n{user};{password};trunkline;"
                f"[authentication username={user} password={password}]\n")
    p = start_sipp(tag, scenario, REG_PORT,
                   ["-inf", csv, "-t", "u1", "-m", str(calls), "-r", "5", "-timeout", "30s",
                    "-recv_timeout", "5000", f"127.0.0.1:{TL_PORT}"])
    return finish(p, 60)


def registration_checks(cdp):
    """A carrier registration (to a port nobody answers), a registered user's binding and a
    user suspended after 3 wrong passwords ([registrar] register_retry 3): the Registrations
    page lists them; Register now and Lift act through the API."""
    ctl("user", "add", "alice", "--password", "alicepw")
    ctl("user", "add", "mallory", "--password", "mallorypw")
    status, _, body = http("POST", "/api/carriers", ADMIN,
                           {"name": "upstream", "server": "127.0.0.1", "port": REG_PORT + 1,
                            "user": "trunk1", "password": "secret1"})
    check("a carrier registration made through the API", status == 201, f"{status} {body}")
    rc = sipp_register("alice", "register_auth.xml", "alice", "alicepw", 1)
    check("alice registers (SIPp, digest)", rc == 0,
          read_text(os.path.join(WORK, "alice.out"))[-600:])
    sipp_register("mallory", "register_wrong_password.xml", "mallory", "WRONG", 3)
    def suspended_now():
        listed = (api_json("/api/suspensions") or {"suspensions": []})["suspensions"]
        return any(x["key"] == "mallory" for x in listed)
    suspended = wait_until(suspended_now, WAIT, 0.2)
    check("3 wrong passwords suspend mallory (GET /api/suspensions)", suspended,
          api_json("/api/suspensions"))
    go(cdp, "registrations")
    mallory = js("#suspensions tr[data-row='user_at_address mallory']")
    shown = cdp.wait("!!document.querySelector('#carriers tr[data-row=upstream]') && "
                     f"!!document.querySelector({mallory}) && "
                     "[...document.querySelectorAll('#bindings tbody tr')].some(r => "
                     "r.textContent.includes('sip:alice@'))")
    carrier = {r[0]: r for r in table_rows(cdp, "#carriers") or []}.get("upstream", [])
    live = (api_json("/api/carriers/upstream") or {}).get("live", {})
    check("Registrations lists the carrier with its live state, alice's binding and mallory's "
          "suspension", shown and len(carrier) > 3 and carrier[3].split(":")[0] in (
              "idle", "registering", "registered", "failed", "not_running"), f"{carrier} {live} "
          f"{cdp.eval(text_of('main'))[:800]}")
    screenshot(cdp, "registrations")
    click(cdp, "[data-key='register-upstream']")
    said = cdp.wait(f"{text_of('#registrations-notice')}.startsWith('Carrier upstream')"
                    f" && {text_of('#registrations-notice')}")
    check("Register now: the API's answer (REGISTER sent, or why not) is said", said, said)
    click(cdp, "[data-key='lift-user_at_address-mallory']")
    lifted = cdp.wait(f"{text_of('#registrations-notice')}.startsWith('Lifted') && "
                      f"!document.querySelector({mallory})")
    left = (api_json("/api/suspensions") or {"suspensions": [{"key": "?"}]})["suspensions"]
    check("Lift lifts mallory's suspension (the API lists none keyed mallory)",
          lifted and not any(x["key"] == "mallory" for x in left),
          f"{left} {cdp.eval(text_of('#registrations-notice'))}")
    if any(x["key"] == "127.0.0.1" for x in left):  # the address was suspended too: lift it here
        click(cdp, "[data-key='lift-address-127.0.0.1']")
        emptied = cdp.wait(f"{text_of('#suspensions tbody')} === 'No suspensions.'")
        check("Lift of the address empties the suspensions (the API lists none)",
              emptied and not (api_json("/api/suspensions") or {"suspensions": [1]})["suspensions"],
              cdp.eval(text_of("#suspensions")))
    http("DELETE", "/api/suspensions/127.0.0.1", ADMIN)  # the address, should it be suspended


def domain_checks(cdp):
    status, _, body = http("POST", "/api/domains", ADMIN, {"name": "localhost"})
    check("a domain entry made through the API", status == 201, f"{status} {body}")
    go(cdp, "domains")
    shown = cdp.wait("!!document.querySelector('#domains tr[data-row=localhost]')")
    row = {r[0]: r for r in table_rows(cdp, "#domains") or []}.get("localhost", [])
    check("Domains lists the entry with the cache's state, addresses, TTL left, last error",
          shown and len(row) == 8 and row[1] == "yes", row)
    click(cdp, "[data-key='resolve-localhost']")
    said = cdp.wait(f"{text_of('#domains-notice')}.startsWith('localhost')"
                    f" && {text_of('#domains-notice')}")
    check("Resolve now: asked through the API", said and "asked to resolve" in said, said)
    screenshot(cdp, "domains")


def gateway_checks(cdp):
    go(cdp, "gateways")
    check("the Gateways page lists acme and gw1 with the switch's view",
          cdp.wait("(() => { const c = document.querySelector('#customers tr[data-row=acme]');"
                   " const v = document.querySelector('#vendors tr[data-row=gw1]');"
                   " return !!c && !!v && v.textContent.includes('0 / ∞'); })()"),
          cdp.eval(text_of("main")))
    click(cdp, "#add-vendor")
    cdp.wait("!!document.querySelector('#vendors-form')")
    for name, value in (("name", "gw2"), ("vendor_account", "9001"), ("prefixes", "1"),
                        ("host", "127.0.0.1"), ("port", "70000")):
        set_value(cdp, f"#vendors-form-{name}", value)
    click(cdp, "#vendors-form-submit")
    err = cdp.wait(f"{text_of('#vendors-form-port-error')}")
    check("port 70000: the API's error is shown next to the port field",
          err and "port" in err and "70000" in err
          and cdp.eval("document.getElementById('vendors-form-port').getAttribute('aria-invalid')")
          == "true"
          and cdp.eval("document.activeElement.id") == "vendors-form-port", err)
    check("the refused form stored nothing (GET /api/gateways/vendors/gw2: 404)",
          http("GET", "/api/gateways/vendors/gw2", ADMIN)[0] == 404)
    screenshot(cdp, "gateways-form-error")
    set_value(cdp, "#vendors-form-port", str(NEW_VENDOR_PORT))
    click(cdp, "#vendors-form-submit")
    added = cdp.wait(f"{text_of('#gateways-status')} === 'Vendor gateway gw2 added.' && "
                     "!!document.querySelector('#vendors tr[data-row=gw2]')")
    status, _, body = http("GET", "/api/gateways/vendors/gw2", ADMIN)
    gw2 = json.loads(body) if status == 200 else {}
    check("with a good port the form creates gw2: the API has it and the table lists it",
          added and (gw2.get("host"), gw2.get("port"), gw2.get("prefixes"), gw2.get("enabled"))
          == ("127.0.0.1", NEW_VENDOR_PORT, ["1"], True), f"{added} {body}")
    click(cdp, "[data-key='edit-vendors-gw2']")
    loaded = cdp.wait("document.getElementById('vendors-form-port')?.value === "
                      f"{js(str(NEW_VENDOR_PORT))} && document.getElementById('vendors-form-name').disabled")
    set_value(cdp, "#vendors-form-line_limit", "5")
    click(cdp, "#vendors-form-submit")
    saved = cdp.wait(f"{text_of('#gateways-status')} === 'Vendor gateway gw2 saved.'")
    status, _, body = http("GET", "/api/gateways/vendors/gw2", ADMIN)
    check("Edit loads gw2 into the form (name fixed) and Save changes it (PATCH, If-Match)",
          loaded and saved and status == 200 and json.loads(body)["line_limit"] == 5
          and json.loads(body)["port"] == NEW_VENDOR_PORT, f"{loaded} {saved} {body}")
    click(cdp, "[data-key='toggle-vendors-gw2']")
    disabled = cdp.wait(f"{text_of('#gateways-status')} === 'Vendor gateway gw2 disabled.' && "
                        f"{text_of('#vendors tr[data-row=gw2]')}.includes('Enable')")
    status, _, body = http("GET", "/api/gateways/vendors/gw2", ADMIN)
    check("its Disable button disables gw2 (the API: enabled false)",
          disabled and status == 200 and json.loads(body)["enabled"] is False, body)
    screenshot(cdp, "gateways")


def explain_checks(cdp):
    go(cdp, "explain")
    cdp.wait("!!document.querySelector('#explain-form')")
    set_value(cdp, "#explain-form-number", CALLEE)
    set_value(cdp, "#explain-form-customer", "acme")
    click(cdp, "#explain-form-submit")
    cdp.wait("document.querySelectorAll('#explain-table tbody tr').length >= 2")
    rows = {r[1]: r for r in table_rows(cdp, "#explain-table") or []}
    check("route explain: gw1 the first candidate, gw2 skipped as disabled",
          rows.get("gw1", [None])[0] == "1" and "candidate" in rows["gw1"][4]
          and "gw2" in rows and rows["gw2"][4] == "skipped: disabled", rows)
    check("route explain shows acme's rate", "0.10" in cdp.eval(text_of("#explain-result")),
          cdp.eval(text_of("#explain-result")))
    screenshot(cdp, "explain")


def rate_checks(cdp):
    """Rates: the groups, a bad deck's line errors (nothing stored), a clean dry run, Store, and
    the stored rates in the prefix search."""
    go(cdp, "rates")
    shown = cdp.wait("!!document.querySelector('#rate-groups tr[data-row=retail]') && "
                     "!!document.querySelector('#negative-margins h2')")
    groups = {r[0]: r for r in table_rows(cdp, "#rate-groups") or []}
    check("Rates lists the rate groups (retail: 1 rate, 1 account; v9001) and the "
          "negative-margin routes", shown and groups.get("retail", [])[1:3] == ["1", "1"]
          and "v9001" in groups, groups)
    before = api_json("/api/rates?group=retail")
    set_value(cdp, "#deck-form-group", "retail")
    set_value(cdp, "#deck-form-text", "prefix,price,increment\n4420,0.0x5,1\n4421,0.05,1,9\n")
    click(cdp, "#deck-form-submit")
    shown = cdp.wait("document.querySelectorAll('#deck-errors tbody tr').length >= 2")
    rows = table_rows(cdp, "#deck-errors") or []
    lines = {r[0] for r in rows}
    check("a bad deck (a bad price on line 2, an extra field on line 3): the dry run lists the "
          "API's error of each line and offers no Store",
          shown and {"2", "3"} <= lines and cdp.eval("document.getElementById('deck-store').hidden"),
          f"{rows} {cdp.eval(text_of('#deck-result'))[:500]}")
    check("the refused deck changed nothing: retail's rates are the same (GET /api/rates)",
          before and api_json("/api/rates?group=retail") == before and len(before["rates"]) == 1,
          api_json("/api/rates?group=retail"))
    cdp.eval("document.getElementById('deck-form').scrollIntoView()")
    screenshot(cdp, "rates-deck-errors")
    # the good deck as a file (the file input; the pasted text is left empty)
    set_value(cdp, "#deck-form-text", "")
    deck = os.path.join(WORK, "console-deck.csv")
    with open(deck, "w") as f:
        f.write("prefix,price,increment\n4420,0.05,1\n4421,0.06,60\n")
    root = cdp.call("DOM.getDocument")["root"]["nodeId"]
    node = cdp.call("DOM.querySelector", nodeId=root, selector="#deck-form-file")["nodeId"]
    cdp.call("DOM.setFileInputFiles", files=[deck], nodeId=node)
    click(cdp, "#deck-form-submit")
    clean = cdp.wait("!!document.querySelector('#deck-clean') && "
                     "!document.getElementById('deck-store').hidden")
    check("a good deck (a file): the dry run is clean (2 rates, 2 new), Store is offered, nothing stored yet",
          clean and "2 rates" in cdp.eval(text_of("#deck-clean"))
          and api_json("/api/rates?group=retail") == before, cdp.eval(text_of("#deck-result")))
    click(cdp, "#deck-store")
    stored = cdp.wait(f"{text_of('#rates-status')}.startsWith('Stored 2 rates in retail') && "
                      "document.querySelectorAll('#rates tbody tr[data-row]').length === 3")
    api_rates = {r["prefix"]: r for r in (api_json("/api/rates?group=retail&prefix=442") or
                                          {"rates": []})["rates"]}
    check("Store imports it: the API has 4420 at 0.05 and 4421 at 0.06, the group's rates listed",
          stored and sorted(api_rates) == ["4420", "4421"]
          and Decimal(api_rates["4420"]["price"]) == Decimal("0.05")
          and Decimal(api_rates["4421"]["price"]) == Decimal("0.06"),
          f"{api_rates} {cdp.eval(text_of('#rates-status'))}")
    set_value(cdp, "#rate-search-prefix", "442")
    click(cdp, "#rate-search-submit")
    found = cdp.wait("document.querySelectorAll('#rates tbody tr[data-row]').length === 2")
    rows = table_rows(cdp, "#rates") or []
    check("the prefix search (retail, 442) shows the stored rates with their prices",
          found and [(r[0], Decimal(r[3])) for r in rows]
          == [("4420", Decimal("0.05")), ("4421", Decimal("0.06"))], rows)
    cdp.eval("window.scrollTo(0, 0)")
    screenshot(cdp, "rates")
    set_value(cdp, "#rate-search-prefix", "44x")
    click(cdp, "#rate-search-submit")
    err = cdp.wait(f"{text_of('#rate-search-prefix-error')}")
    check("a bad prefix: the API's error next to the prefix field", err and "prefix" in err, err)
    set_value(cdp, "#rate-search-prefix", "442")
    set_value(cdp, "#rate-search-limit", "1")
    click(cdp, "#rate-search-submit")
    pages = []
    for turn in range(2):
        cdp.wait(f"{text_of('#rates-page')}.includes('page {turn + 1}') && "
                 "document.querySelectorAll('#rates tbody tr[data-row]').length === 1")
        pages.append((table_rows(cdp, "#rates") or [[""]])[0][0])
        pages.append(cdp.eval("document.getElementById('rates-next').disabled"))
        if turn == 0:
            click(cdp, "#rates-next")
    click(cdp, "#rates-prev")
    back = cdp.wait(f"{text_of('#rates-page')}.includes('page 1') && "
                    f"{text_of('#rates tbody')}.startsWith('4420')")
    check("1 per page: Next follows the API's cursor (4420, then 4421, the last), Previous goes back",
          pages == ["4420", False, "4421", True] and back, f"{pages} {back}")


def trace_checks(cdp):
    """Trace: a trace started on the page for the callee, then a SIPp call: its messages counted,
    the ladder (INVITE and 200 arrows) and the pcap downloaded from an object URL."""
    go(cdp, "trace")
    cdp.wait("!!document.querySelector('#trace-form') && !!document.querySelector('#traces table')")
    set_value(cdp, "#trace-form-callee", CALLEE)
    click(cdp, "#trace-form-submit")
    said = cdp.wait(f"{text_of('#trace-notice')}.startsWith('Trace ') && {text_of('#trace-notice')}")
    traces = (api_json("/api/traces") or {"traces": []})["traces"]
    mine = [t for t in traces if t["callee"] == CALLEE and t["state"] == "active"]
    if not check("Start trace (callee): the API has an active trace for the callee, the page says so",
                 said and "started" in said and len(mine) == 1, f"{said} {traces}"):
        return
    tid = mine[0]["id"]
    listed = cdp.wait(f"!!document.querySelector('#traces tr[data-row=\"{tid}\"]')")
    check("the traces table lists it, active", listed and "active" in cdp.eval(
        text_of(f"#traces tr[data-row='{tid}']")), cdp.eval(text_of("#traces")))
    vendor = start_sipp("vendor3", "softswitch_uas.xml", VENDOR_PORT, ["-aa", "-timeout", "60s"])
    wait_until(lambda: port_in_use(VENDOR_PORT) or vendor.poll() is not None, 10)
    uac = start_sipp("uac3", "softswitch_uac.xml", UAC_PORT,
                     ["-s", CALLEE, "-m", "1", "-l", "1", "-d", "500", "-timeout", "60s",
                      "-recv_timeout", "20000", f"127.0.0.1:{TL_PORT}"])
    rc = finish(uac, 90)
    stop_pid(vendor, 10)
    check("a SIPp call to the traced callee", rc == 0, read_text(os.path.join(WORK, "uac3.out"))[-800:])
    counted = cdp.wait(f"(() => {{ const r = document.querySelector('#traces tr[data-row=\"{tid}\"]');"
                       " return r && Number(r.cells[3].textContent) > 0 && Number(r.cells[3].textContent); })()")
    t = api_json(f"/api/traces/{tid}") or {}
    check("the trace shows more than 0 messages (the API's count)",
          counted and t.get("message_count", 0) >= counted,
          f"{counted} {t.get('message_count')}")
    click(cdp, f"[data-key='show-trace-{tid}']")
    lines = cdp.wait("(() => { const l = [...document.querySelectorAll('#trace-ladder g.arrow')]"
                     ".map(g => g.dataset.firstLine);"
                     " return l.some(x => x.startsWith('INVITE ')) && l.some(x => x.startsWith('SIP/2.0 200'))"
                     " && l; })()")
    hosts = cdp.eval("document.querySelectorAll('#trace-ladder .host').length")
    check("Ladder: an inline SVG with a column a host and arrows for the INVITE and the 200",
          lines and hosts >= 2 and cdp.eval("document.querySelectorAll('#trace-ladder g.arrow line').length")
          == len(lines), f"{hosts} {lines}")
    saved = os.path.join(WORK, "downloads")
    cdp.call("Page.setDownloadBehavior", behavior="allow", downloadPath=saved)
    click(cdp, f"[data-key='pcap-{tid}']")
    href = cdp.wait("(document.getElementById('trace-pcap-link').href || '').startsWith('blob:') && "
                    "document.getElementById('trace-pcap-link').href")
    path = os.path.join(saved, f"trace-{tid}.pcap")
    wait_until(lambda: os.path.exists(path) and os.path.getsize(path) > 24, WAIT)
    data = open(path, "rb").read() if os.path.exists(path) else b""
    check("pcap: fetched with the token in its header, saved from an object URL (no token in any "
          "URL): a libpcap file with the messages",
          href and ADMIN not in href and data[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4",
                                                     b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
          and len(data) > 24 + 16 * t.get("message_count", 1), f"{href} {data[:8]} {len(data)}")
    cdp.eval("window.scrollTo(0, 0)")
    screenshot(cdp, "trace")
    cdp.eval("document.getElementById('trace-detail').scrollIntoView()")
    screenshot(cdp, "trace-ladder")
    click(cdp, f"[data-key='remove-trace-{tid}']")
    gone = cdp.wait(f"{text_of('#trace-notice')} === 'Trace {tid} removed.' && "
                    f"!document.querySelector('#traces tr[data-row=\"{tid}\"]')")
    check("Remove stops and removes the trace (GET /api/traces/{id}: 404)",
          gone and http("GET", f"/api/traces/{tid}", ADMIN)[0] == 404, cdp.eval(text_of("#trace-notice")))


FORMS_UAC_PORT, FORMS_VENDOR_PORT = BASE + 8, BASE + 9
FORMS_CALLEE = "493012345678"


def forms_vendor_rates(cdp):
    """The vendor's rate group vforms through the Rates page's deck upload (dry run, Store)."""
    go(cdp, "rates")
    cdp.wait("!!document.querySelector('#deck-form') && !!document.querySelector('#autocreate-form')")
    set_value(cdp, "#deck-form-group", "vforms")
    set_value(cdp, "#deck-form-text",
              "prefix,area,price,increment\n4930,Berlin,0.0200,1\n4989,Munich,0.0300,1\n")
    click(cdp, "#deck-form-submit")
    cdp.wait("!!document.querySelector('#deck-clean') && !document.getElementById('deck-store').hidden")
    click(cdp, "#deck-store")
    stored = cdp.wait(f"{text_of('#rates-status')}.startsWith('Stored 2 rates in vforms')")
    rates = {r["prefix"]: r["price"] for r in (api_json("/api/rates?group=vforms") or {"rates": []})["rates"]}
    return check("forms: the vendor rate group vforms from a deck upload (dry run, Store): 4930 at "
                 "0.02, 4989 at 0.03",
                 stored and {k: Decimal(v) for k, v in rates.items()}
                 == {"4930": Decimal("0.02"), "4989": Decimal("0.03")},
                 f"{rates} {cdp.eval(text_of('#rates-status'))}")


def forms_customer_rates(cdp):
    """The customer's rate group cforms auto-created from vforms: a bad margin's error next to
    the field, a dry run listing the rates (nothing stored), then Create."""
    set_value(cdp, "#autocreate-form-group", "cforms")
    set_value(cdp, "#autocreate-form-from", "vforms")
    set_value(cdp, "#autocreate-form-margin", "150%")
    click(cdp, "#autocreate-form-submit")
    err = cdp.wait(f"{text_of('#autocreate-form-margin-error')}")
    check("forms: auto-create with a margin of 150%: the API's error next to the margin field, "
          "nothing stored",
          err and "margin" in err and cdp.eval(
              "document.getElementById('autocreate-form-margin').getAttribute('aria-invalid')") == "true"
          and http("GET", "/api/rates?group=cforms", ADMIN)[0] == 404, err)
    set_value(cdp, "#autocreate-form-margin", "20%")
    click(cdp, "#autocreate-form-submit")
    shown = cdp.wait("!!document.querySelector('#autocreate-clean') && "
                     "!document.getElementById('autocreate-create').hidden && "
                     "document.querySelectorAll('#autocreate-rates tbody tr[data-row]').length === 2")
    rows = table_rows(cdp, "#autocreate-rates") or []
    check("forms: the dry run lists the rates it would create (vendor / (1 - 20%)): 4930 at 0.025, "
          "4989 at 0.0375; nothing stored",
          shown and [(r[0], r[1], Decimal(r[3])) for r in rows]
          == [("4930", "Berlin", Decimal("0.025")), ("4989", "Munich", Decimal("0.0375"))]
          and http("GET", "/api/rates?group=cforms", ADMIN)[0] == 404,
          f"{rows} {cdp.eval(text_of('#autocreate-result'))[:400]}")
    cdp.eval("document.getElementById('autocreate-form').scrollIntoView()")
    screenshot(cdp, "rates-autocreate")
    click(cdp, "#autocreate-create")
    created = cdp.wait(f"{text_of('#rates-status')}.startsWith('Created 2 rates in cforms')")
    rates = {r["prefix"]: r["price"] for r in (api_json("/api/rates?group=cforms") or {"rates": []})["rates"]}
    ok = check("forms: Create stores them: the API has cforms with 4930 at 0.025 and 4989 at 0.0375",
               created and {k: Decimal(v) for k, v in rates.items()}
               == {"4930": Decimal("0.025"), "4989": Decimal("0.0375")},
               f"{rates} {cdp.eval(text_of('#rates-status'))}")
    return Decimal(rates.get("4930", "0")) if ok else None


def forms_add_account(cdp, fields):
    click(cdp, "#add-account")
    cdp.wait("!!document.querySelector('#account-form')")
    for name, value in fields.items():
        set_value(cdp, f"#account-form-{name}", value)
    click(cdp, "#account-form-submit")


def forms_accounts(cdp):
    """A customer account 2001 (credit, rate group cforms) and a vendor account 9101 (vforms)
    through the Add account form, a refused credit limit first."""
    go(cdp, "accounts")
    cdp.wait("!!document.querySelector('#add-account') && !!document.querySelector('#accounts tr[data-row]')")
    customer = {"id": "2001", "kind": "customer", "name": "Forms Co", "balance": "20",
                "credit_limit": "-5", "rate_group": "cforms"}
    forms_add_account(cdp, customer)
    err = cdp.wait(f"{text_of('#account-form-credit_limit-error')}")
    check("forms: Add account with a credit limit of -5: the API's error next to the credit limit, "
          "nothing stored",
          err and "credit_limit" in err and cdp.eval(
              "document.getElementById('account-form-credit_limit').getAttribute('aria-invalid')") == "true"
          and http("GET", "/api/accounts/2001", ADMIN)[0] == 404, err)
    screenshot(cdp, "accounts-form")
    set_value(cdp, "#account-form-credit_limit", "5")
    click(cdp, "#account-form-submit")
    added = cdp.wait(f"{text_of('#accounts-status')}.startsWith('Account 2001 (customer) added') && "
                     "!!document.querySelector('#accounts tr[data-row=\"2001\"]')")
    a = api_json("/api/accounts/2001") or {}
    ok = check("forms: Add account creates customer 2001 (balance 20, credit limit 5, rate group "
               "cforms): the API has it and the table lists it",
               added and a.get("kind") == "customer" and Decimal(a.get("balance", "0")) == 20
               and Decimal(a.get("credit_limit", "0")) == 5 and a.get("rate_group") == "cforms",
               f"{a} {cdp.eval(text_of('#accounts-status'))}")
    forms_add_account(cdp, {"id": "9101", "kind": "vendor", "name": "Forms Carrier",
                            "rate_group": "vforms"})
    added = cdp.wait(f"{text_of('#accounts-status')}.startsWith('Account 9101 (vendor) added')")
    v = api_json("/api/accounts/9101") or {}
    return check("forms: Add account creates vendor 9101 (rate group vforms)",
                 added and v.get("kind") == "vendor" and v.get("rate_group") == "vforms",
                 f"{v} {cdp.eval(text_of('#accounts-status'))}") and ok


def forms_gateways(cdp):
    """The customer gateway formsco (2001, identified by the forms SIPp's address and port) and
    the vendor gateway gwf (9101, 4930 and 4989, the vendor SIPp) through the Gateways forms."""
    go(cdp, "gateways")
    cdp.wait("!!document.querySelector('#vendors tr[data-row=gw1]')")
    click(cdp, "#add-customer")
    cdp.wait("!!document.querySelector('#customers-form')")
    for name, value in (("name", "formsco"), ("account", "2001"), ("auth", "ip_port"),
                        ("ips", f"127.0.0.1:{FORMS_UAC_PORT}")):
        set_value(cdp, f"#customers-form-{name}", value)
    click(cdp, "#customers-form-submit")
    c_added = cdp.wait(f"{text_of('#gateways-status')} === 'Customer gateway formsco added.'")
    click(cdp, "#add-vendor")
    cdp.wait("!!document.querySelector('#vendors-form')")
    for name, value in (("name", "gwf"), ("vendor_account", "9101"), ("prefixes", "4930, 4989"),
                        ("host", "127.0.0.1"), ("port", str(FORMS_VENDOR_PORT))):
        set_value(cdp, f"#vendors-form-{name}", value)
    click(cdp, "#vendors-form-submit")
    v_added = cdp.wait(f"{text_of('#gateways-status')} === 'Vendor gateway gwf added.' && "
                       "!!document.querySelector('#vendors tr[data-row=gwf]')")
    c = api_json("/api/gateways/customers/formsco") or {}
    v = api_json("/api/gateways/vendors/gwf") or {}
    ok = check("forms: the Gateways forms create customer formsco (ip_port) and vendor gwf",
               c_added and v_added and (c.get("account"), c.get("auth"), c.get("ips"))
               == ("2001", "ip_port", [f"127.0.0.1:{FORMS_UAC_PORT}"])
               and (v.get("vendor_account"), v.get("prefixes"), v.get("port"))
               == ("9101", ["4930", "4989"], FORMS_VENDOR_PORT), f"{c} {v}")

    def loaded():  # the running switch reloaded them (the live view)
        live = api_json("/api/gateways") or {"customers": [], "vendors": []}
        return ("formsco" in {g["name"] for g in live["customers"]}
                and "gwf" in {g["name"] for g in live["vendors"]})
    if not check("forms: the running switch has formsco and gwf (GET /api/gateways)",
                 wait_until(loaded, WAIT, 0.2), api_json("/api/gateways")):
        return False
    go(cdp, "live")  # the Gateways page again: its health column reads the live view
    go(cdp, "gateways")
    health = cdp.wait("(() => { const r = document.querySelector('#vendors tr[data-row=gwf]');"
                      " return r && r.cells[5].textContent.startsWith('up · probed') && r.cells[5].textContent; })()")
    check("forms: the Gateways page's health of gwf: up, probed with OPTIONS, no failure yet",
          health and "last failure" not in health, cdp.eval(text_of("#vendors")))
    return ok


def forms_call_checks(cdp):
    """Issue 15: a customer, a vendor and rates made through the forms only (no trunkctl, no API
    writes), then a SIPp call from the customer's address appears on the Live page and its CDR
    in the CDR search with the charge of the auto-created rate."""
    vendor = start_sipp("forms-vendor", "softswitch_uas.xml", FORMS_VENDOR_PORT,
                        ["-aa", "-timeout", "120s"])
    wait_until(lambda: port_in_use(FORMS_VENDOR_PORT) or vendor.poll() is not None, 10)
    if not forms_vendor_rates(cdp):
        return
    price = forms_customer_rates(cdp)
    if price is None or not forms_accounts(cdp) or not forms_gateways(cdp):
        return
    uac = start_sipp("forms-uac", "softswitch_uac.xml", FORMS_UAC_PORT,
                     ["-s", FORMS_CALLEE, "-m", "1", "-l", "1", "-d", "6000", "-timeout", "60s",
                      "-recv_timeout", "20000", f"127.0.0.1:{TL_PORT}"])
    go(cdp, "live")

    def shown():
        for r in table_rows(cdp, "#calls") or []:
            if "formsco" in r and "gwf" in r and FORMS_CALLEE in r and "connected" in r:
                return r
        return None
    row = wait_until(shown, 60, 0.25)
    check("forms: the Live page shows the SIPp call: formsco -> gwf, the callee, connected", row,
          table_rows(cdp, "#calls"))
    screenshot(cdp, "live-forms-call")
    rc = finish(uac, 90)
    stop_pid(vendor, 10)
    check("forms: the SIPp call is answered and ends (exit 0)", rc == 0,
          read_text(os.path.join(WORK, "forms-uac.out"))[-800:])

    def one():
        v = api_json("/api/cdrs?customer=2001")
        return v["cdrs"][0] if v and len(v["cdrs"]) == 1 else None
    cdr = wait_until(one, WAIT, 0.2)
    if not check("forms: the call's CDR in GET /api/cdrs?customer=2001", cdr, cdr):
        return
    want = (Decimal(cdr["customer_billed_s"]) * price / 60).quantize(
        Decimal("0.0001"), rounding=ROUND_CEILING)
    check(f"forms: its charge is the auto-created {price} a minute of its billed seconds, and "
          "not zero; vendor 9101 over gwf",
          cdr["customer_billed_s"] >= 1 and Decimal(cdr["charge"]) == want and want > 0
          and cdr.get("vendor") == "9101" and cdr.get("vendor_gateway") == "gwf",
          f"{want} {cdr}")
    go(cdp, "cdrs")
    cdp.wait("!!document.querySelector('#cdr-search')")
    for name, value in (("number", FORMS_CALLEE[:4]), ("customer", "2001")):
        set_value(cdp, f"#cdr-search-{name}", value)
    click(cdp, "#cdr-search-submit")
    row = f"#cdrs tr[data-row=\"{cdr['id']}\"]"
    listed = cdp.wait(f"!!document.querySelector({js(row)}) && "
                      "document.querySelectorAll('#cdrs tbody tr[data-row]').length === 1")
    cells = (table_rows(cdp, "#cdrs") or [[]])[0]
    check("forms: the CDR search (number 4930, customer 2001) lists the call with the charge",
          listed and cells[:1] == [str(cdr["id"])] and FORMS_CALLEE in cells
          and "2001 / formsco" in cells and "9101 / gwf" in cells and cdr["charge"] in cells,
          cells)
    screenshot(cdp, "cdrs-forms-call")


def revoked_token_checks(cdp, spare):
    cdp.eval("sessionStorage.clear(); location.hash = '#/live'")
    cdp.wait("!!document.querySelector('#sign-in')")
    cdp.eval("document.getElementById('token').focus()")
    cdp.type_text(spare)
    cdp.press_enter()
    cdp.wait("!!document.querySelector('#calls table')")
    ctl("token", "remove", "night-shift")
    msg = cdp.wait(f"!!document.querySelector('#sign-in') && {text_of('#sign-in-message')}", 60)
    check("a token removed while signed in: the next refresh returns to sign-in with a message",
          msg and "refused" in msg and cdp.eval("sessionStorage.length") == 0, msg)


def policy_check(cdp):
    """An inline script put into the page does not run: the browser applies the policy (this
    runs after page_errors, since the refusal is reported as a violation)."""
    seen = cdp.eval("""new Promise((done) => {
        document.addEventListener('securitypolicyviolation',
          (e) => done(e.effectiveDirective + ' ' + (window.__inline === undefined)), { once: true });
        const s = document.createElement('script');
        s.textContent = 'window.__inline = 1';
        document.head.append(s);
      })""")
    check("the browser enforces the policy: an inline script is refused (script-src-elem)",
          seen == "script-src-elem true", seen)


def page_errors(cdp):
    cdp.eval("1")  # collects the events sent meanwhile
    bad = []
    for e in cdp.events:
        if e["method"] == "Runtime.exceptionThrown":
            bad.append(e["params"]["exceptionDetails"].get("text"))
        elif e["method"] == "Log.entryAdded" and "Content Security Policy" in e["params"]["entry"]["text"]:
            bad.append(e["params"]["entry"]["text"])
    check("no script error and no Content-Security-Policy violation in the page", not bad, bad)


ADMIN = None


def main():
    global ADMIN
    tl = chromium = cdp = None
    try:
        tl, ADMIN, spare = setup()
        if tl is None:
            return
        static_checks()
        if not check("python3-websocket is installed (scripts/setup.sh)", websocket is not None,
                     "no module websocket"):
            return
        chromium, url = start_chromium(os.path.join(WORK, "profile"))
        if url is None:
            return
        cdp = Cdp(url)
        for domain in ("Page", "Runtime", "Log"):
            cdp.call(f"{domain}.enable")
        sign_in_checks(cdp, ADMIN)
        call_checks(cdp)
        cdr = account_checks(cdp)
        cdr_checks(cdp, cdr)
        report_checks(cdp)
        reconcile_checks(cdp)
        registration_checks(cdp)
        domain_checks(cdp)
        gateway_checks(cdp)
        explain_checks(cdp)
        rate_checks(cdp)
        trace_checks(cdp)
        forms_call_checks(cdp)
        revoked_token_checks(cdp, spare)
        page_errors(cdp)
        policy_check(cdp)
    except Exception as e:  # a broken step is a failure with its reason, the rest still stops
        check("the browser session ran to its end", False, f"{type(e).__name__}: {e}")
    finally:
        if cdp is not None:
            cdp.close()
        stop_chromium(chromium)
        stop_all(results, procs, tl, log)
        results.wrap_up(REPORT, "console", T0, WORK, os.environ.get("CONSOLE_TEST_KEEP"))


main()
sys.exit(0 if results.passed() else 1)

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
  - Gateways: the add-vendor form with port 70000 shows the API's error next to the port
    field and nothing is stored; with a good port the gateway is created (the API has it, the
    table lists it); Edit loads it and Save changes it; its Disable button disables it (the
    API says enabled false);
  - Route explain for the callee from acme: gw1 the candidate, the new gateway skipped as
    disabled;
  - a token removed with `trunkctl token remove` while signed in: the next refresh's 401
    returns to the sign-in form with a message;
  - no script error and no Content-Security-Policy violation was reported by the page;
  - the browser enforces the policy: an inline script added to the page does not run.
A PNG screenshot of each page goes to <build>/test-reports/console/ (the paths are printed).
Chromium missing is a failure, not a skip. Checks wait on conditions with generous limits,
never on wall-clock upper bounds. Every process is started here and stopped by its PID.

usage: console_test.py TRUNKLINE TRUNKCTL SIPP_DIR REPORT PORT_BASE
  PORT_BASE: meson passes integration_port_base + 380; this test uses PORT_BASE .. + 9.
"""
import base64
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
TL_PORT, UAC_PORT, VENDOR_PORT, API_PORT, DEVTOOLS_PORT, NEW_VENDOR_PORT = (
    BASE, BASE + 1, BASE + 2, BASE + 3, BASE + 4, BASE + 5)
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
        f'[api]\nlisten = "127.0.0.1:{API_PORT}"\n\n[database]\nreload_poll_ms = 200\n',
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
    screenshot(cdp, "live")
    if not rows:
        return
    cid = rows[0][0]
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
    stop_pid(vendor, 10)


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
        gateway_checks(cdp)
        explain_checks(cdp)
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

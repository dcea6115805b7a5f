#!/usr/bin/env python3
"""Alerts (issue 11 item 6) against a running trunkline: each as a log line, an entry in
GET /api/alerts, the metric trunkline_alerts_active{kind} and a POST to the webhook, which a
small HTTP server of this test receives.

- balance_low: [alerts] balance_below above the customer's balance raises it at start; a
  top-up through the API clears it.
- rate_increase and negative_margin: `trunkctl rates import` of a vendor deck that triples
  the vendor's price while trunkline runs: the reload raises both; DELETE /api/alerts/{id}
  acknowledges the rate increase; importing the old deck again clears the margin alert.
- gateway_down: a vendor gateway whose OPTIONS probes go unanswered (nobody listens on its
  port) is raised once its health checks take it out.

usage: alerts_test.py TRUNKLINE TRUNKCTL REPORT PORT_BASE
  PORT_BASE: meson passes integration_port_base + 300; this test uses PORT_BASE .. + 9.
"""
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import Results, stop_pid, wait_until  # noqa: E402

TRUNKLINE, TRUNKCTL, REPORT, PORT_BASE = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
TL_PORT = PORT_BASE           # SIP
API_PORT = PORT_BASE + 1
HOOK_PORT = PORT_BASE + 2     # the webhook receiver
DEAD_PORT = PORT_BASE + 3     # a vendor gateway nobody answers for
R = Results()
check = R.check
WORK = tempfile.mkdtemp(prefix="trunkline-alerts-")
DB = os.path.join(WORK, "t.db")
received = []  # JSON bodies POSTed to the webhook
received_lock = threading.Lock()


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with received_lock:
            received.append((self.headers.get("Content-Type"), json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def ctl(*args):
    p = subprocess.run([TRUNKCTL, "--db", DB, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60, cwd=WORK)
    if p.returncode != 0:
        raise RuntimeError(f"trunkctl {' '.join(args)}: {p.stdout!r} {p.stderr!r}")
    return p.stdout.decode()


def deck(name, price):
    path = os.path.join(WORK, name + ".csv")
    with open(path, "w") as f:
        f.write(f"prefix,price,increment\n1,{price},1\n")
    return path


def api(method, path, token, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{API_PORT}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def log():
    return open(os.path.join(WORK, "trunkline.log"), "rb").read().decode(errors="replace")


def active(token):
    status, body = api("GET", "/api/alerts", token)
    return json.loads(body)["active"] if status == 200 else []


def find(alerts, kind, subject=None):
    return [a for a in alerts if a["kind"] == kind and (subject is None or a["subject"] == subject)]


def hooked(event, kind):
    with received_lock:
        return [b for _, b in received if b["event"] == event and b["kind"] == kind]


def metric(name):
    with urllib.request.urlopen(f"http://127.0.0.1:{API_PORT}/metrics", timeout=30) as r:
        text = r.read().decode()
    m = re.search("^" + re.escape(name) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def setup():
    ctl("rates", "import", "retail", deck("retail", "0.10"))
    ctl("rates", "import", "v9001", deck("v9001", "0.03"))
    ctl("accounts", "add", "1001", "--kind", "customer", "--balance", "50", "--rate-group", "retail")
    ctl("accounts", "add", "9001", "--kind", "vendor", "--rate-group", "v9001")
    ctl("gateway", "add", "customer", "acme", "--account", "1001", "--ips", "127.0.0.1")
    ctl("gateway", "add", "vendor", "gw1", "--vendor-account", "9001", "--prefixes", "1",
        "--host", "127.0.0.1", "--port", str(DEAD_PORT))
    return json.loads(subprocess.run([TRUNKCTL, "--db", DB, "token", "add", "ops", "--scope", "admin",
                                      "--json"], stdout=subprocess.PIPE, check=True,
                                     timeout=60).stdout)["token"]


def start():
    config = os.path.join(WORK, "trunkline.toml")
    with open(config, "w") as f:
        f.write(f'[api]\nlisten = "127.0.0.1:{API_PORT}"\n\n'
                '[routing]\nprobe_period = 5\n\n[routing.health]\nprobe_failures = 1\n\n'
                '[alerts]\nbalance_below = "100"\nrate_increase_percent = 50\n'
                f'webhook = "http://127.0.0.1:{HOOK_PORT}/trunkline"\n')
    out = open(os.path.join(WORK, "trunkline.log"), "wb")
    p = subprocess.Popen([TRUNKLINE, "--config", config, "--db", DB, "--udp", f"127.0.0.1:{TL_PORT}",
                          "--tcp", "off"], cwd=WORK, stdout=out, stderr=out)
    out.close()
    up = wait_until(lambda: "api: listening" in log() or p.poll() is not None, 20)
    check("trunkline starts with [alerts] and a webhook", up and p.poll() is None, log()[-1500:])
    return p


def balance_checks(token):
    got = wait_until(lambda: find(active(token), "balance_low", "1001"), 15)
    check("balance_low raised for 1001 (50 below 100) in GET /api/alerts",
          got and got[0]["message"] == "account 1001 available 50.0000 below 100.0000", got)
    check("...in the log", "alert raised: balance_low 1001: account 1001 available 50.0000" in log(),
          log()[-800:])
    posted = wait_until(lambda: hooked("raised", "balance_low"), 15)
    check("...and POSTed to the webhook as JSON", posted and posted[0]["subject"] == "1001"
          and received[0][0] == "application/json", received)
    check("...and trunkline_alerts_active{kind=\"balance_low\"} is 1",
          metric('trunkline_alerts_active{kind="balance_low"}') == 1, metric('trunkline_alerts_active{kind="balance_low"}'))
    status, body = api("POST", "/api/accounts/1001/topup", token, {"amount": "60"})
    check("a top-up through the API", status == 200, body)
    cleared = wait_until(lambda: hooked("cleared", "balance_low"), 15)
    check("the top-up clears balance_low: webhook, log and API",
          cleared and not find(active(token), "balance_low")
          and "alert cleared: balance_low 1001" in log(), (cleared, log()[-800:]))


def rate_checks(token):
    ctl("rates", "import", "v9001", deck("v9001-up", "0.30"), "--replace")
    got = wait_until(lambda: find(active(token), "rate_increase", "v9001")
                     and find(active(token), "negative_margin"), 15) or []
    rise = find(active(token), "rate_increase", "v9001")
    check("a vendor deck tripling the price raises rate_increase for v9001",
          rise and rise[0]["message"].startswith(
              "vendor rate group v9001: 1 prefix up more than 50%: 1 0.0300 -> 0.3000 (+900%)"), rise)
    margin = find(active(token), "negative_margin", "retail -> gw1")
    check("...and negative_margin for retail -> gw1 (0.10 sold, 0.30 bought)",
          margin and margin[0]["message"] ==
          "1 prefix sold below cost to gw1 (vendor group v9001): 1 0.1000 < 0.3000", margin)
    check("both were POSTed to the webhook",
          wait_until(lambda: hooked("raised", "rate_increase") and hooked("raised", "negative_margin"), 15),
          received)
    status, body = api("DELETE", f"/api/alerts/{rise[0]['id'] if rise else 0}", token)
    check("DELETE /api/alerts/{id} acknowledges the rate increase",
          status == 200 and not find(active(token), "rate_increase"), body)
    ctl("rates", "import", "v9001", deck("v9001", "0.03"), "--replace")
    check("the old deck again clears the margin alert",
          wait_until(lambda: not find(active(token), "negative_margin"), 15), active(token))


def gateway_checks(token):
    got = wait_until(lambda: find(active(token), "gateway_down", "gw1"), 60, 0.5)
    check("gw1, whose probes nobody answers, raises gateway_down",
          got and got[0]["message"].startswith("vendor gateway gw1 is down: "), (got, log()[-800:]))
    check("...POSTed to the webhook", wait_until(lambda: hooked("raised", "gateway_down"), 15), received)


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", HOOK_PORT), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tl = None
    try:
        token = setup()
        tl = start()
        if tl.poll() is None:
            balance_checks(token)
            rate_checks(token)
            gateway_checks(token)
    finally:
        if tl is not None:
            rc, _ = stop_pid(tl, 15)
            check("trunkline exits 0 on SIGTERM", rc == 0, log()[-800:])
        server.shutdown()
        if os.environ.get("ALERTS_TEST_KEEP"):
            print(f"work directory kept: {WORK}")
        else:
            shutil.rmtree(WORK, ignore_errors=True)
        R.write_junit(REPORT, "integration_alerts")
    sys.exit(1 if R.failed() else 0)


main()

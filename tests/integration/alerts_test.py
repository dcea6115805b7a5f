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
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import (Results, api_client, read_text, remove_work, stop_all, wait_logged,  # noqa: E402
                     wait_until)

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
    return support.ctl(TRUNKCTL, DB, *args, cwd=WORK, must=True)[1]


def deck(name, price):
    path = os.path.join(WORK, name + ".csv")
    with open(path, "w") as f:
        f.write(f"prefix,price,increment\n1,{price},1\n")
    return path


api = api_client(f"http://127.0.0.1:{API_PORT}")


def log():
    return read_text(os.path.join(WORK, "trunkline.log"))


def active(token):
    status, _, body = api("GET", "/api/alerts", token)
    return json.loads(body)["active"] if status == 200 else []


def find(alerts, kind, subject=None):
    return [a for a in alerts if a["kind"] == kind and (subject is None or a["subject"] == subject)]


def hooked(event, kind):
    with received_lock:
        return [b for _, b in received if b["event"] == event and b["kind"] == kind]


def metric(name):
    status, _, text = api("GET", "/metrics")
    if status != 200:
        raise RuntimeError(f"GET /metrics: {status} {text[:300]}")
    m = re.search("^" + re.escape(name) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def setup():
    support.setup_routing(ctl, WORK, DEAD_PORT)
    return json.loads(ctl("token", "add", "ops", "--scope", "admin", "--json"))["token"]


def start():
    p = support.start_trunkline(
        TRUNKLINE, WORK, "trunkline",
        f'[api]\nlisten = "127.0.0.1:{API_PORT}"\n\n'
        '[routing]\nprobe_period = 5\n\n[routing.health]\nprobe_failures = 1\n\n'
        '[alerts]\nbalance_below = "100"\nrate_increase_percent = 50\n'
        f'webhook = "http://127.0.0.1:{HOOK_PORT}/trunkline"\n',
        "--db", DB, "--udp", f"127.0.0.1:{TL_PORT}", "--tcp", "off")
    up = wait_logged(p, os.path.join(WORK, "trunkline.log"), "api: listening", 20)
    check("trunkline starts with [alerts] and a webhook", up, log()[-1500:])
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
    status, _, body = api("POST", "/api/accounts/1001/topup", token, {"amount": "60"})
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
    status, _, body = api("DELETE", f"/api/alerts/{rise[0]['id'] if rise else 0}", token)
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
        stop_all(R, [], tl, log)
        server.shutdown()
        remove_work(WORK, os.environ.get("ALERTS_TEST_KEEP"))
        R.write_junit(REPORT, "integration_alerts")
    sys.exit(1 if R.failed() else 0)


main()

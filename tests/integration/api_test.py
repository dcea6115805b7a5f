#!/usr/bin/env python3
"""The management API over real HTTP against a running trunkline (issue 11, foundation):
tokens made with `trunkctl token`, every endpoint called with urllib, each JSON answer checked
against the OpenAPI document trunkline serves (required properties and types, $refs
resolved), and:
  - 401 without a token and with a wrong one, 403 for a read token's DELETE, 404 for unknown
    ids and paths, 400 naming the field for bad input;
  - /metrics from loopback without a token: every line a comment or `name{labels} value`;
    after one SIPp call (customer -> trunkline -> vendor) the call counters moved by one;
  - a held SIPp call listed by GET /api/calls and hung up by DELETE /api/calls/{id}: the
    customer gets the BYE, the list empties, the CDR says the server hung up;
  - three wrong REGISTER passwords suspend a user: GET /api/suspensions lists it, a read
    token may not lift it (403), DELETE /api/suspensions/{key} does, a second DELETE is 404;
  - `trunkctl token remove` takes effect in the running server;
  - accounts: a cursor-paged list, create (201; 409 for an existing id; 422 naming the field
    for a JSON-number amount, too many decimals, an unknown rate group or member; 400 for a
    body that is not JSON), top-ups exact in micro-units (0.1 + 0.2 = 0.30 in the ledger),
    If-Match (409 for a stale ETag), the book reloaded before the answer; emptying an account
    through the API gets the next SIPp call a 402, a top-up gets the one after it answered;
  - SIP users: POST /api/users stores HA1 (never the password, never shown or logged) and the
    user registers with SIPp right away; GET /api/bindings shows the binding; DELETE removes
    the user and the running registrar's binding; 409/422/403/404 cases;
  - route explain from the running router: acme's rate and gw1 first; 400/404 cases;
  - gateways and groups: PATCH /api/gateways/vendors/gw1 {"enabled": false} (If-Match) gets
    the next SIPp call 503 No Route at once, PATCH back gets the one after it answered; 409 on
    a stale ETag; create/read/replace/delete of a customer gateway and a group; 422 naming
    the field (line_limit -1, ips "300.1.1.1", an unknown account), 400, 404, 403;
  - rates: GET /api/rate-groups and /api/rates; a vendor deck uploaded with POST
    /api/rate-groups/v9001/deck costs the next SIPp call at its price; a dry run and a deck
    with two bad lines (422 listing both) change nothing;
  - reconciliation: POST /api/reconcile with a read token and a vendor file of the calls
    through 9001 (one a second longer) plus one never made: all matched, one differing, one
    only theirs; a bad line 422 naming it, 8 days 400, a file above 16 MiB 413;
  - failed logins: after [api] max_failed_logins wrong tokens the address gets 429 with
    Retry-After (even with a good token) until failed_login_block has passed; logged once.
Checks never use wall-clock upper bounds: they wait on conditions with generous limits.
Every process is started here and stopped by PID. Writes a JUnit report.

usage: api_test.py TRUNKLINE TRUNKCTL SIPP_DIR REPORT PORT_BASE
  PORT_BASE: meson passes integration_port_base + 240; this test uses PORT_BASE .. + 9.
"""
import functools
import hashlib
import json
import os
import re
import sqlite3
import sys
import time
import urllib.parse
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import (Results, Schema, api_client, finish, port_in_use, read_text,  # noqa: E402
                     status_codes, stop_all, stop_pid, wait_logged, wait_until)

TRUNKLINE, TRUNKCTL, SIPP_DIR, REPORT, BASE, WORK, DB = support.switch_test_args(
    sys.argv, "trunkline-api-")
TL_PORT, UAC_PORT, VENDOR_PORT, API_PORT, REG_PORT = BASE, BASE + 1, BASE + 2, BASE + 3, BASE + 4
API = f"http://127.0.0.1:{API_PORT}"
CALLEE = "15551234567"
results = Results()
check = results.check
procs = []


# --- helpers -----------------------------------------------------------------------------
def ctl(*args):
    """trunkctl on the test's database; its output. A failure raises."""
    return support.ctl(TRUNKCTL, DB, *args, cwd=WORK, must=True)[1]


http = api_client(API)
start_sipp = functools.partial(support.start_sipp, SIPP_DIR, WORK, procs)


def log():
    return read_text(os.path.join(WORK, "trunkline.log"))


def start_vendor(tag, name):
    """The vendor SIPp (answers every call) on VENDOR_PORT; None, with `name` failed, when it
    does not start."""
    vendor = start_sipp(tag, "softswitch_uas.xml", VENDOR_PORT, ["-aa", "-timeout", "90s"])
    if not wait_until(lambda: port_in_use(VENDOR_PORT) or vendor.poll() is not None, 10):
        check(name, False, read_text(os.path.join(WORK, f"{tag}.out")))
        return None
    return vendor


def cdrs():
    con = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=10)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM cdrs ORDER BY id")]
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


# --- the OpenAPI checker: support.Schema (required properties and types of the answers) --
SCHEMA = None


def call_api(name, method, path, template, token, want, body=None, headers=None):
    """One request: its status must be `want` and its JSON body must match the document."""
    status, headers, body = http(method, path, token, body, headers)
    try:
        value = json.loads(body)
    except ValueError:
        value = None
    problems = []
    if status != want:
        problems.append(f"status {status}, want {want}")
    if value is None:
        problems.append("body is not JSON")
    elif SCHEMA is not None:
        schema = SCHEMA.response_schema(template, method, status)
        if schema is None:
            problems.append(f"{method} {template} {status} is not in the OpenAPI document")
        else:
            problems += SCHEMA.errors(value, schema)
    check(f"{name}: {method} {path} -> {want}, body as documented", not problems,
          f"{problems} {body[:400]}")
    return status, headers, value


METRIC_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? '
                         r'-?[0-9.e+]+$')


def metrics():
    """{'name{labels}': value} of /metrics without a token, or None; and the bad lines."""
    status, headers, body = http("GET", "/metrics")
    if status != 200:
        return None, [f"status {status}"]
    values, bad = {}, []
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        if not METRIC_LINE.match(line):
            bad.append(line)
            continue
        key, _, v = line.rpartition(" ")
        values[key] = float(v)
    return values, bad


# --- the steps -----------------------------------------------------------------------------
def setup_database():
    support.setup_routing(ctl, WORK, VENDOR_PORT)
    admin = json.loads(ctl("token", "add", "ops", "--scope", "admin", "--json"))["token"]
    read = json.loads(ctl("token", "add", "grafana", "--scope", "read", "--json"))["token"]
    listed = ctl("token", "list", "--json")
    names = [t["name"] for t in json.loads(listed)["tokens"]]
    check("trunkctl token list --json names both tokens and shows no secret",
          names == ["grafana", "ops"] and admin not in listed and read not in listed, listed)
    con = sqlite3.connect(DB)
    stored = [r[0] for r in con.execute("SELECT sha256 FROM api_tokens")]
    con.close()
    check("only SHA-256 hashes are stored", len(stored) == 2 and admin not in stored
          and all(re.fullmatch("[0-9a-f]{64}", h) for h in stored), stored)
    return admin, read


def start_trunkline():
    p = support.start_trunkline(
        TRUNKLINE, WORK, "trunkline",
        f'[calls]\ninvite_timeout = 2\n\n[registrar]\nregister_retry = 3\n'
        f'register_suspend = 600\n\n[api]\nlisten = "127.0.0.1:{API_PORT}"\n'
        'failed_login_block = 3\n',
        "--db", DB, "--udp", f"127.0.0.1:{TL_PORT}", "--tcp", "off")
    up = wait_logged(p, os.path.join(WORK, "trunkline.log"), "api: listening", 20)
    check("trunkline starts with the API on its own port",
          up and f"http://127.0.0.1:{API_PORT}" in log(), log()[-1500:])
    return p


def access_checks(admin, read):
    status, headers, body = http("GET", "/api/calls")
    check("no token: 401 with WWW-Authenticate: Bearer and a JSON error",
          status == 401 and headers.get("WWW-Authenticate", "").startswith("Bearer")
          and "error" in json.loads(body), f"{status} {headers} {body}")
    call_api("wrong token", "GET", "/api/calls", "/api/calls", "tl_" + "0" * 64, 401)
    call_api("read token may read", "GET", "/api/calls", "/api/calls", read, 200)
    call_api("read token may not hang up", "DELETE", "/api/calls/1", "/api/calls/{id}", read, 403)


def resource_checks(admin):
    _, _, gw = call_api("gateways", "GET", "/api/gateways", "/api/gateways", admin, 200)
    check("GET /api/gateways: customer acme and vendor gw1",
          gw and [c["name"] for c in gw["customers"]] == ["acme"]
          and [v["name"] for v in gw["vendors"]] == ["gw1"], gw)
    call_api("suspensions", "GET", "/api/suspensions", "/api/suspensions", admin, 200)
    call_api("calls", "GET", "/api/calls?limit=5", "/api/calls", admin, 200)
    _, _, v = call_api("unknown call", "GET", "/api/calls/987654", "/api/calls/{id}", admin, 404)
    check("404 names the field id", v and v.get("field") == "id", v)
    call_api("hang up an unknown call", "DELETE", "/api/calls/987654", "/api/calls/{id}", admin,
             404)
    call_api("lift an unknown suspension", "DELETE", "/api/suspensions/nobody",
             "/api/suspensions/{key}", admin, 404)
    _, _, v = call_api("bad call id", "GET", "/api/calls/abc", "/api/calls/{id}", admin, 400)
    check("400 names the field id", v and v.get("field") == "id", v)
    _, _, v = call_api("bad limit", "GET", "/api/calls?limit=0", "/api/calls", admin, 400)
    check("400 names the field limit", v and v.get("field") == "limit", v)
    status, _, body = http("GET", "/api/no-such-thing", admin)
    check("unknown path: 404 JSON", status == 404 and "error" in json.loads(body), body)


def call_checks(admin, read, before):
    vendor = start_vendor("vendor", "vendor SIPp starts")
    if vendor is None:
        return
    uac = start_sipp("uac", "softswitch_uac_wait_bye.xml", UAC_PORT,
                     ["-s", CALLEE, "-m", "1", "-l", "1", "-timeout", "60s", "-recv_timeout",
                      "40000", f"127.0.0.1:{TL_PORT}"])

    def connected():
        status, _, body = http("GET", "/api/calls", read)
        calls = json.loads(body).get("calls", []) if status == 200 else []
        return calls if len(calls) == 1 and calls[0]["state"] == "connected" else None
    calls = wait_until(connected, 30, 0.2)
    check("GET /api/calls shows the SIPp call connected, acme -> gw1",
          calls and (calls[0]["customer"], calls[0]["vendor_gateway"], calls[0]["callee"])
          == ("acme", "gw1", CALLEE), calls)
    if not calls:
        return
    cid = calls[0]["id"]
    call_api("the call list", "GET", "/api/calls", "/api/calls", read, 200)
    call_api("one call", "GET", f"/api/calls/{cid}", "/api/calls/{id}", read, 200)
    m, _ = metrics()
    check("/metrics while the call runs: calls_active 1, gateway gw1 active 1",
          m and m.get("trunkline_calls_active") == 1
          and m.get('trunkline_gateway_calls_active{gateway="gw1"}') == 1, m)
    _, _, v = call_api("hang up", "DELETE", f"/api/calls/{cid}", "/api/calls/{id}", admin, 200)
    check("DELETE answers the id and hung_up", v == {"id": cid, "hung_up": True}, v)
    rc = finish(uac, 90)
    out = read_text(os.path.join(WORK, "uac.out"))
    ok = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", out)
    check("the customer SIPp gets the BYE and ends its call (1 successful, exit 0)",
          rc == 0 and ok and ok[-1] == "1", out[-1200:])
    empty = wait_until(lambda: http("GET", "/api/calls", read)[2].startswith('{"count":0,'), 10)
    check("the call list is empty after the hang-up", empty, http("GET", "/api/calls", read))
    rows = wait_until(lambda: cdrs() or None, 30, 0.2) or []
    check("one CDR, hung up by the server (hangup 2)", len(rows) == 1 and rows[0]["hangup"] == 2,
          rows)
    check("the log records the API hang-up with the token's name",
          f"api: token 'ops' hung up call {cid}" in log(), log()[-1000:])
    after, bad = metrics()
    moved = after and {k: after.get(k, 0) - before.get(k, 0) for k in (
        "trunkline_calls_attempted_total", "trunkline_calls_answered_total",
        "trunkline_calls_server_hangups_total", 'trunkline_gateway_calls_total{gateway="gw1"}',
        'trunkline_customer_calls_total{customer="acme"}')}
    check("/metrics after the call: attempted, answered, server hang-ups and the gateway's and "
          "customer's calls each moved by exactly 1",
          moved and all(v == 1 for v in moved.values()) and not bad, f"{moved} {bad}")
    check("/metrics: SIP messages in and out counted",
          after and after.get("trunkline_sip_messages_received_total", 0) > 0
          and after.get("trunkline_sip_messages_sent_total", 0) > 0, after)
    moved = after and {k: after.get(k, 0) - before.get(k, 0) for k in (
        'trunkline_customer_calls_answered_total{customer="acme"}',
        'trunkline_customer_calls_ended_total{customer="acme"}',
        'trunkline_gateway_pdd_seconds_count{gateway="gw1"}', "trunkline_call_pdd_seconds_count",
        'trunkline_sip_requests_total{direction="in",method="INVITE"}',
        'trunkline_sip_requests_total{direction="out",method="BYE"}')}
    check("/metrics after the call: the customer's answered and ended calls, the PDD, the INVITE "
          "in and the two BYEs out (customer and vendor) moved exactly",
          moved and moved == {
              'trunkline_customer_calls_answered_total{customer="acme"}': 1,
              'trunkline_customer_calls_ended_total{customer="acme"}': 1,
              'trunkline_gateway_pdd_seconds_count{gateway="gw1"}': 1,
              "trunkline_call_pdd_seconds_count": 1,
              'trunkline_sip_requests_total{direction="in",method="INVITE"}': 1,
              'trunkline_sip_requests_total{direction="out",method="BYE"}': 2}, moved)
    talk = after and after.get('trunkline_gateway_talk_seconds_total{gateway="gw1"}', 0) - \
        before.get('trunkline_gateway_talk_seconds_total{gateway="gw1"}', 0)
    check("/metrics: the call's talk time counted for gw1", talk and talk > 0, talk)
    dashboard_checks(after or {})
    stop_pid(vendor, 10)


def cdr_checks(read):
    """The SIPp call's CDR found through GET /api/cdrs by Call-ID, number and customer, with
    the charge the database holds; the CSV export; a bad parameter named."""
    rows = cdrs()
    if not rows:
        check("a CDR to search for", False, rows)
        return
    row = rows[-1]
    q = urllib.parse.urlencode({"call_id": row["call_id_in"]})
    _, _, v = call_api("CDR by Call-ID", "GET", f"/api/cdrs?{q}", "/api/cdrs", read, 200)
    found = (v or {}).get("cdrs", [])
    check("GET /api/cdrs?call_id= finds the call's one CDR with the stored charge and cost",
          len(found) == 1 and found[0]["id"] == row["id"]
          and Decimal(found[0]["charge"]) == Decimal(row["charge"]) / 1000000
          and Decimal(found[0]["cost"]) == Decimal(row["cost"]) / 1000000
          and v["next"] is None, f"{found} {row}")
    q = urllib.parse.urlencode({"number": CALLEE[:4], "customer": row["customer"], "limit": 1})
    _, _, v = call_api("CDR by number and customer", "GET", f"/api/cdrs?{q}", "/api/cdrs", read, 200)
    check(f"GET /api/cdrs?{q}: the latest CDR first",
          v and v["cdrs"] and v["cdrs"][0]["id"] == max(r["id"] for r in rows), v)
    status, headers, body = http("GET", f"/api/cdrs?{q}&format=csv", read)
    lines = body.splitlines()
    check("format=csv: the export's header and the CDR's line, as an attachment",
          status == 200 and len(lines) == 2 and lines[0].startswith("id,caller,callee,")
          and lines[1].startswith(f"{row['id']},")
          and "attachment" in headers.get("Content-Disposition", ""), body[:300])
    _, _, v = call_api("CDR search with a bad limit", "GET", "/api/cdrs?limit=0", "/api/cdrs",
                       read, 400)
    check("a bad limit is 400 naming it", v and v.get("field") == "limit", v)


def reconcile_checks(read):
    """POST /api/reconcile with a read token: a vendor file of our calls through 9001 (one a
    second longer) and a call never made; a bad line is 422 naming it; above 16 MiB is 413."""
    path, csv = "/api/reconcile", {"Content-Type": "text/csv"}
    ours = [c for c in (json.loads(http("GET", "/api/cdrs?vendor=9001", read)[2]) or {}).get("cdrs", [])
            if c["answer_time"]]
    if not check("answered CDRs through vendor 9001 to reconcile", ours, ours):
        return
    lines = ["callee,start,duration,amount"] + [
        f"{c['callee_out'] or c['callee']},{c['answer_time']},{c['duration_s'] + (1 if i == 0 else 0)},{c['cost']}"
        for i, c in enumerate(ours)] + [f"{CALLEE[:-1]}0,{ours[0]['answer_time']},7,0.01"]
    since = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 3600))
    q = f"?vendor=9001&from={since}"
    _, _, v = call_api("reconcile", "POST", path + q, path, read, 200, "\n".join(lines) + "\n", csv)
    check("a read token reconciles: every call matched, the longer one differs by 1 s, the extra "
          "call only theirs", v and v["matched"] == len(ours) and len(v["differing"]) == 1
          and v["differing"][0]["duration_diff_s"] == 1 and len(v["only_theirs"]) == 1
          and v["only_ours"] == [], v)
    _, _, v = call_api("reconcile a bad file", "POST", path + q, path, read, 422,
                       "callee,start,duration\n123,2026-01-01 00:00:00,x\n", csv)
    check("a bad line: 422 naming line 2 and the duration field",
          v and v.get("field") == "file" and "line 2, field duration" in v.get("error", "")
          and v["errors"][0]["line"] == 2, v)
    _, _, v = call_api("reconcile 8 days", "POST", path + "?vendor=9001&from=2026-01-01&until=2026-01-09",
                       path, read, 400, "callee,start,duration\n", csv)
    check("a period of 8 days: 400 naming from", v and v.get("field") == "from", v)
    call_api("a vendor file above 16 MiB", "POST", path + q, path, read, 413,
             b"1,2026-01-01 00:00:00,1\n" * ((16 << 20) // 24 + 1), csv)


def dashboard_checks(values):
    """Every trunkline metric the sample Grafana dashboard queries exists in /metrics."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                        "grafana-dashboard.json")
    with open(path) as f:
        dash = json.load(f)
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    names = set(re.findall(r"trunkline_[a-z_]+", " ".join(exprs)))
    served = {re.sub(r"\{.*", "", k) for k in values}
    missing = sorted(n for n in names if n not in served)
    check(f"docs/grafana-dashboard.json: its {len(names)} metrics are all served", names and not missing,
          missing)


def suspension_checks(admin, read):
    """Three wrong passwords (register_retry 3) suspend mallory; the API lists and lifts it."""
    ctl("user", "add", "mallory", "--password", "mallorypw")
    support.register_wrong_password(start_sipp, WORK, REG_PORT, TL_PORT)

    def listed():
        status, _, body = http("GET", "/api/suspensions", read)
        sus = json.loads(body).get("suspensions", []) if status == 200 else []
        return sus if any(x["key"] == "mallory" for x in sus) else None
    sus = wait_until(listed, 15, 0.2)
    check("GET /api/suspensions lists mallory after 3 wrong passwords", sus,
          http("GET", "/api/suspensions", read))
    call_api("suspensions listed", "GET", "/api/suspensions", "/api/suspensions", read, 200)
    call_api("read token may not lift", "DELETE", "/api/suspensions/mallory",
             "/api/suspensions/{key}", read, 403)
    _, _, v = call_api("lift", "DELETE", "/api/suspensions/mallory", "/api/suspensions/{key}",
                       admin, 200)
    check("DELETE /api/suspensions/mallory lifted at least one", v and v.get("lifted", 0) >= 1, v)
    _, _, left = http("GET", "/api/suspensions", read)
    check("no suspension of mallory is left",
          not any(x["key"] == "mallory" for x in json.loads(left)["suspensions"]), left)
    call_api("lift again", "DELETE", "/api/suspensions/mallory", "/api/suspensions/{key}", admin,
             404)
    http("DELETE", "/api/suspensions/127.0.0.1", admin)  # the address, should it be suspended


def ledger_sum(account):
    con = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=10)
    try:
        row = con.execute("SELECT (SELECT balance FROM accounts WHERE id = ?1), "
                          "(SELECT sum(amount) FROM ledger WHERE account = ?1)",
                          (account,)).fetchone()
        return tuple(row)
    finally:
        con.close()


def reloads():
    return log().count("billing: accounts and rates loaded")


def account_checks(admin, read):
    _, _, v = call_api("accounts page 1", "GET", "/api/accounts?limit=1", "/api/accounts", read,
                       200)
    check("GET /api/accounts?limit=1: 1001, next 1001",
          v and [a["id"] for a in v["accounts"]] == ["1001"] and v["next"] == "1001", v)
    _, _, v = call_api("accounts page 2", "GET", "/api/accounts?limit=1&after=1001",
                       "/api/accounts", read, 200)
    check("...after=1001: 9001, then next is null",
          v and [a["id"] for a in v["accounts"]] == ["9001"] and v["next"] is None, v)
    _, _, v = call_api("bad limit", "GET", "/api/accounts?limit=5000", "/api/accounts", read, 400)
    check("limit 5000: 400 naming limit", v and v.get("field") == "limit", v)
    before = reloads()
    new = {"id": "2001", "kind": "customer", "name": "Beta", "balance": "0.1",
           "credit_limit": "2.5", "rate_group": "retail"}
    status, headers, v = call_api("create", "POST", "/api/accounts", "/api/accounts", admin, 201,
                                  new)
    check("POST /api/accounts: 201, exact amounts, Location and ETag",
          v and v["balance"] == "0.10" and v["credit_limit"] == "2.50"
          and v["available"] == "2.60" and headers.get("Location") == "/api/accounts/2001"
          and headers.get("ETag", "").startswith('"v'), f"{headers} {v}")
    check("the create reloaded the switch's book before answering", reloads() == before + 1,
          log()[-600:])
    listed = ctl("accounts", "list", "--format", "json")
    check("trunkctl sees the account the API created",
          any(a["id"] == "2001" and a["balance"] == "0.10" for a in json.loads(listed)), listed)
    call_api("create again", "POST", "/api/accounts", "/api/accounts", admin, 409, new)
    call_api("a read token may not create", "POST", "/api/accounts", "/api/accounts", read, 403,
             dict(new, id="2002"))
    for what, body, field in (
            ("balance as a JSON number", {"id": "2003", "kind": "customer", "balance": 1.5},
             "balance"),
            ("more than 6 decimals", {"id": "2003", "kind": "customer",
                                      "balance": "0.0000001"}, "balance"),
            ("an unknown rate group", {"id": "2003", "kind": "customer", "rate_group": "nope"},
             "rate_group"),
            ("no kind", {"id": "2003"}, "kind"),
            ("an unknown member", {"id": "2003", "kind": "customer", "credit": "1"}, "credit")):
        _, _, v = call_api(what, "POST", "/api/accounts", "/api/accounts", admin, 422, body)
        check(f"{what}: 422 naming {field}", v and v.get("field") == field, v)
    call_api("not JSON", "POST", "/api/accounts", "/api/accounts", admin, 400, "id=2003")
    call_api("unknown account", "GET", "/api/accounts/2003", "/api/accounts/{id}", read, 404)
    status, headers, v = call_api("one account", "GET", "/api/accounts/2001",
                                  "/api/accounts/{id}", read, 200)
    etag = headers.get("ETag", "")
    status, headers, v = call_api("top-up with If-Match", "POST", "/api/accounts/2001/topup",
                                  "/api/accounts/{id}/topup", admin, 200,
                                  {"amount": "0.2", "memo": "api test"}, {"If-Match": etag})
    check("0.1 + 0.2 is exactly 0.30 in the answer and in the file (micro-units)",
          v and v["balance"] == "0.30" and ledger_sum("2001") == (300000, 300000)
          and headers.get("ETag") not in ("", etag), f"{v} {ledger_sum('2001')}")
    _, _, v = call_api("top-up with a stale If-Match", "POST", "/api/accounts/2001/topup",
                       "/api/accounts/{id}/topup", admin, 409, {"amount": "5"}, {"If-Match": etag})
    check("409 names If-Match and nothing changed",
          v and v.get("field") == "If-Match" and ledger_sum("2001") == (300000, 300000), v)
    _, _, v = call_api("top-up of a float", "POST", "/api/accounts/2001/topup",
                       "/api/accounts/{id}/topup", admin, 422, {"amount": 5})
    check("a JSON number amount: 422 naming amount", v and v.get("field") == "amount", v)
    call_api("top-up of an unknown account", "POST", "/api/accounts/2003/topup",
             "/api/accounts/{id}/topup", admin, 404, {"amount": "1"})
    check("the log names the token and the top-up, no secret",
          "api: token 'ops' topped up account 2001 by 0.20: balance 0.30" in log()
          and admin not in log(), log()[-800:])


def uac_call(tag):
    """One SIPp call from the customer; (exit code, the responses' status lines)."""
    # 1 s of talk (-d): a call shorter than the hold-time precision (50 ms) bills 0 s
    p = start_sipp(tag, "softswitch_uac.xml", UAC_PORT,
                   ["-s", CALLEE, "-m", "1", "-l", "1", "-d", "1000", "-timeout", "60s",
                    "-recv_timeout", "20000", f"127.0.0.1:{TL_PORT}"])
    return finish(p, 90), status_codes(os.path.join(WORK, f"{tag}.msg"))


def refused_then_answered(refused, vendor_tag, change, answered):
    """An API change that takes effect on the very next call: with the vendor SIPp down, the
    call `refused` = (tag, code, check name) must get `code`; with the vendor started again
    (as `vendor_tag`) and change() made, the call `answered` = (tag, check name) must be
    answered without it. False when the vendor did not start (checked as a failure)."""
    tag, code, name = refused
    rc, codes = uac_call(tag)
    check(name, code in codes, f"{rc} {codes}")
    vendor = start_vendor(vendor_tag, "vendor SIPp starts again")
    if vendor is None:
        return False
    change()
    tag, name = answered
    rc, codes = uac_call(tag)
    check(name, rc == 0 and "200" in codes and code not in codes, f"{rc} {codes}")
    stop_pid(vendor, 10)
    return True


def prepaid_checks(admin):
    """A top-up through the API is honoured by the very next call, without waiting for a poll."""
    _, _, v = call_api("1001 before", "GET", "/api/accounts/1001", "/api/accounts/{id}", admin,
                       200)
    if not v:
        return
    drain = "-" + v["available"].lstrip("-") if not v["available"].startswith("-") else "0"
    call_api("take 1001's credit", "POST", "/api/accounts/1001/topup",
             "/api/accounts/{id}/topup", admin, 200, {"amount": drain, "memo": "test"})
    refused_then_answered(
        ("broke", "402", "the next call after the API emptied the account is refused 402"),
        "vendor2",
        lambda: call_api("top 1001 up again", "POST", "/api/accounts/1001/topup",
                         "/api/accounts/{id}/topup", admin, 200, {"amount": "20"}),
        ("paid", "the next call after the API top-up is answered (200, SIPp exit 0)"))


def gateway_checks(admin, read):
    """Gateways written through the API are routed by on the very next call."""
    one = "/api/gateways/vendors/{name}"
    _, headers, v = call_api("vendor gw1", "GET", "/api/gateways/vendors/gw1", one, read, 200)
    tag = headers.get("ETag", "")
    check("GET /api/gateways/vendors/gw1: trunkctl's gateway with an ETag",
          v and v["prefixes"] == ["1"] and v["port"] == VENDOR_PORT and v["enabled"] is True
          and re.fullmatch(r'"v[0-9]+"', tag), f"{headers} {v}")
    _, headers, v = call_api("disable gw1", "PATCH", "/api/gateways/vendors/gw1", one, admin, 200,
                             {"enabled": False}, {"If-Match": tag})
    check("PATCH: gw1 disabled, a new ETag", v and v["enabled"] is False
          and headers.get("ETag") not in ("", tag), f"{headers} {v}")
    _, _, v = call_api("stale If-Match", "PATCH", "/api/gateways/vendors/gw1", one, admin, 409,
                       {"enabled": True}, {"If-Match": tag})
    check("a stale ETag: 409 naming If-Match", v and v.get("field") == "If-Match", v)
    if not refused_then_answered(
            ("gw_off", "503", "the next call after the API disabled gw1 is refused 503 (No Route)"),
            "vendor3",
            lambda: call_api("enable gw1", "PATCH", "/api/gateways/vendors/gw1", one, admin, 200,
                             {"enabled": True}),
            ("gw_on", "the next call after the API enabled gw1 is answered (200, SIPp exit 0)")):
        return
    check("the log names the token and the change",
          "api: token 'ops' changed vendor gateway gw1" in log(), log()[-800:])
    gateway_crud(admin, read)


def rate_checks(admin, read):
    """A vendor deck uploaded through the API (POST /api/rate-groups/v9001/deck) prices the very
    next call's cost; a dry run and a bad deck (422 listing both bad lines) store nothing."""
    deck_path = "/api/rate-groups/{group}/deck"
    csv = {"Content-Type": "text/csv"}
    _, _, v = call_api("rate groups", "GET", "/api/rate-groups", "/api/rate-groups", read, 200)
    groups = {g["name"]: g for g in (v or {}).get("rate_groups", [])}
    check("GET /api/rate-groups: v9001 with one rate and one account, retail in use",
          groups.get("v9001", {}).get("rates") == 1 and groups["v9001"]["accounts"] == 1
          and groups.get("retail", {}).get("accounts", 0) >= 1,
          v)
    _, _, v = call_api("bad deck", "POST", "/api/rate-groups/v9001/deck?replace=true", deck_path,
                       admin, 422, "prefix,price,billing\n1,0.05,60/60\n1x,0.05,60/60\n2,abc,60/60\n",
                       csv)
    lines = sorted(e["line"] for e in (v or {}).get("errors", []))
    check("a deck with two bad lines: 422 naming lines 3 and 4", lines == [3, 4], v)
    _, _, v = call_api("dry run", "POST", "/api/rate-groups/v9001/deck?replace=true&dry_run=true",
                       deck_path, admin, 200, "prefix,price,billing\n1,0.05,60/60\n", csv)
    _, _, r = call_api("rates of v9001", "GET", "/api/rates?group=v9001&prefix=1", "/api/rates",
                       read, 200)
    check("neither the bad deck nor the dry run changed v9001 (prefix 1 at 0.03)",
          v and v["dry_run"] is True and r and [x["price"] for x in r["rates"]] == ["0.0300"], f"{v} {r}")
    before = reloads()
    _, _, v = call_api("vendor deck", "POST", "/api/rate-groups/v9001/deck?replace=true", deck_path,
                       admin, 200, "prefix,price,billing\n1,0.05,60/60\n", csv)
    check("the deck is imported (1 rate, 1 updated) and the book reloaded before the answer",
          v and v["rates"] == 1 and v["updated"] == 1 and reloads() > before, f"{v} {reloads()} {before}")
    vendor = start_vendor("vendor_deck", "vendor SIPp starts for the deck check")
    if vendor is None:
        return
    n = len(cdrs())
    rc, codes = uac_call("deck_call")
    stop_pid(vendor, 10)
    wait_until(lambda: len(cdrs()) > n, 20)  # the CDR writer's queue
    rows = cdrs()
    check("the call after the upload is answered and its CDR written",
          rc == 0 and "200" in codes and len(rows) > n, f"{rc} {codes} {len(rows)} {n}")
    if len(rows) > n:
        row = rows[-1]
        check("its CDR is costed at the uploaded price: 0.05 per minute, 60/60 (50000 micro-units "
              "a started minute)",
              row["vendor_price"] == 50000 and row["vendor_billed_s"] % 60 == 0
              and row["cost"] == 50000 * row["vendor_billed_s"] // 60 and row["vendor_billed_s"] > 0,
              {k: row[k] for k in ("vendor_price", "vendor_billed_s", "cost", "duration_s")})
    check("the log names the token and the import",
          "api: token 'ops' imported 1 rates into rate group 'v9001'" in log(), log()[-800:])
    # a large deck (100,000 lines, ~2.5 MB: above the 1 MiB other bodies may have)
    big = "prefix,area,price,billing\n" + "".join(
        f"{9_000_000 + i},Area {i},0.{i % 9000 + 1000:04d},60/60\n" for i in range(100_000))
    _, _, v = call_api("100,000-line deck", "POST", "/api/rate-groups/bulk/deck", deck_path, admin,
                       200, big, csv)
    _, _, r = call_api("bulk rates", "GET", "/api/rates?group=bulk&prefix=9099999", "/api/rates",
                       read, 200)
    check("a deck of 100,000 lines is imported whole (~2.5 MB body)",
          v and v["rates"] == 100_000 and r and [x["price"] for x in r["rates"]] == ["0.1999"],
          f"{v} {r}")
    _, _, v = call_api("a deck above 64 MiB", "POST", "/api/rate-groups/bulk/deck", deck_path, admin,
                       413, b"1,0.01\n" * ((64 << 20) // 7 + 1), csv)


def gateway_crud(admin, read):
    """Create, read, replace, delete and the error answers of customers and groups."""
    many, one = "/api/gateways/customers", "/api/gateways/customers/{name}"
    beta = {"name": "beta", "account": "1001", "ips": ["192.0.2.50"], "line_limit": 5}
    _, headers, v = call_api("create customer", "POST", many, many, admin, 201, beta)
    check("POST: 201 with Location and the stored fields",
          v and headers.get("Location") == "/api/gateways/customers/beta" and v["line_limit"] == 5
          and v["auth"] == "ip", f"{headers} {v}")
    call_api("create customer again", "POST", many, many, admin, 409, beta)
    _, _, v = call_api("customers", "GET", many, many, read, 200)
    check("GET /api/gateways/customers lists acme and beta",
          v and [c["name"] for c in v["customers"]] == ["acme", "beta"], v)
    for what, body, field in [("line_limit -1", {"line_limit": -1}, "line_limit"),
                              ("ips 300.1.1.1", {"ips": ["300.1.1.1"]}, "ips"),
                              ("an unknown account", {"account": "nope"}, "account"),
                              ("an unknown member", {"colour": "red"}, "colour")]:
        _, _, v = call_api(what, "PATCH", "/api/gateways/customers/beta", one, admin, 422, body)
        check(f"{what}: 422 naming {field}", v and v.get("field") == field, v)
    call_api("not JSON", "PATCH", "/api/gateways/customers/beta", one, admin, 400, "line_limit=1")
    call_api("unknown customer", "GET", "/api/gateways/customers/nobody", one, read, 404)
    call_api("a read token may not change", "PATCH", "/api/gateways/customers/beta", one, read,
             403, {"line_limit": 1})
    _, _, v = call_api("replace customer", "PUT", "/api/gateways/customers/beta", one, admin, 200,
                       {"account": "1001", "ips": ["192.0.2.51"]})
    check("PUT replaced beta: new address, line_limit back to 0",
          v and v["ips"] == ["192.0.2.51"] and v["line_limit"] == 0, v)
    call_api("remove customer", "DELETE", "/api/gateways/customers/beta", one, admin, 200)
    call_api("remove customer again", "DELETE", "/api/gateways/customers/beta", one, admin, 404)
    _, _, v = call_api("create group", "POST", "/api/groups", "/api/groups", admin, 201,
                       {"name": "uk", "line_limit": 10})
    call_api("groups", "GET", "/api/groups", "/api/groups", read, 200)
    _, _, v = call_api("replace group", "PUT", "/api/groups/uk", "/api/groups/{name}", admin, 200,
                       {"line_limit": 20})
    check("PUT /api/groups/uk: 20 lines, no gateways", v and v["line_limit"] == 20
          and v["gateways"] == [], v)
    call_api("remove group", "DELETE", "/api/groups/uk", "/api/groups/{name}", admin, 200)


def register(tag, user, password):
    """One SIPp REGISTER with digest auth from REG_PORT; its exit status (0: 200 OK)."""
    return support.register_user(start_sipp, WORK, REG_PORT, TL_PORT, tag, user, password)


def user_checks(admin, read):
    """A SIP user made through the API registers at once; removing it unbinds it."""
    pw = "carol-Pa55"
    ha1 = hashlib.md5(f"carol:trunkline:{pw}".encode()).hexdigest()
    status, headers, v = call_api("add user", "POST", "/api/users", "/api/users", admin, 201,
                                  {"name": "carol", "password": pw})
    check("POST /api/users: 201 with Location, no password or HA1 in the answer",
          v and v["name"] == "carol" and "MD5" in v["algorithms"]
          and headers.get("Location") == "/api/users/carol" and pw not in json.dumps(v)
          and ha1 not in json.dumps(v), f"{headers} {v}")
    con = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=10)
    try:
        stored = " ".join(str(c) for r in con.execute("SELECT * FROM sip_user") for c in r)
    finally:
        con.close()
    check("the file holds carol's HA1 (as trunkctl computes it), never the password",
          ha1 in stored and pw not in stored, stored[:300])
    call_api("add user again", "POST", "/api/users", "/api/users", admin, 409,
             {"name": "carol", "password": pw})
    _, _, v = call_api("bad user name", "POST", "/api/users", "/api/users", admin, 422,
                       {"name": "ca rol", "password": pw})
    check("a bad name: 422 naming name", v and v.get("field") == "name", v)
    _, _, v = call_api("no password", "POST", "/api/users", "/api/users", admin, 422,
                       {"name": "dave"})
    check("no password: 422 naming password", v and v.get("field") == "password", v)
    call_api("a read token may not add users", "POST", "/api/users", "/api/users", read, 403,
             {"name": "dave", "password": pw})
    _, _, v = call_api("users", "GET", "/api/users", "/api/users", read, 200)
    check("GET /api/users lists carol and mallory, no secret",
          v and [u["name"] for u in v["users"]] == ["carol", "mallory"]
          and ha1 not in json.dumps(v), v)
    rc = register("carol", "carol", pw)
    check("carol, added through the API, registers right away (SIPp exit 0)", rc == 0,
          read_text(os.path.join(WORK, "carol.out"))[-800:])
    _, _, v = call_api("bindings", "GET", "/api/bindings", "/api/bindings", read, 200)
    mine = [b for b in (v or {}).get("bindings", []) if b["aor"].startswith("sip:carol@")]
    check("GET /api/bindings shows carol's binding from 127.0.0.1",
          len(mine) == 1 and mine[0]["source"].endswith(f"127.0.0.1:{REG_PORT}"), v)
    call_api("a read token may not remove users", "DELETE", "/api/users/carol",
             "/api/users/{name}", read, 403)
    _, _, v = call_api("remove user", "DELETE", "/api/users/carol", "/api/users/{name}", admin,
                       200)
    check("DELETE /api/users/carol removed it and its binding",
          v and v.get("removed") is True and v.get("bindings") == 1, v)
    _, _, v = call_api("bindings after", "GET", "/api/bindings", "/api/bindings", read, 200)
    check("carol's binding is gone from the running registrar",
          v is not None and not any(b["aor"].startswith("sip:carol@") for b in v["bindings"]), v)
    call_api("remove again", "DELETE", "/api/users/carol", "/api/users/{name}", admin, 404)
    check("the password is never logged", pw not in log() and ha1 not in log(), "")
    rc = register("carol2", "carol", pw)
    check("carol cannot register any more", rc != 0, rc)
    http("DELETE", "/api/suspensions/127.0.0.1", admin)  # the failure above, should it count
    http("DELETE", "/api/suspensions/carol", admin)


def explain_checks(read):
    _, _, v = call_api("route explain", "GET",
                       f"/api/routes/explain?number={CALLEE}&customer=acme",
                       "/api/routes/explain", read, 200)
    check("route explain: acme's rate 0.10 and gw1 as the first candidate",
          v and v["customer_rate"] and v["customer_rate"]["per_minute"] == "0.10"
          and [(g["gateway"], g["order"], g["skip"]) for g in v["gateways"]] == [("gw1", 1, "")],
          v)
    _, _, v = call_api("route explain without a customer", "GET",
                       f"/api/routes/explain?number={CALLEE}", "/api/routes/explain", read, 400)
    check("400 names customer", v and v.get("field") == "customer", v)
    call_api("route explain for an unknown customer", "GET",
             f"/api/routes/explain?number={CALLEE}&customer=nobody", "/api/routes/explain", read,
             404)


def token_removal(read):
    ctl("token", "remove", "grafana")
    gone = wait_until(lambda: http("GET", "/api/calls", read)[0] == 401, 15, 0.2)
    check("`trunkctl token remove` takes effect in the running trunkline (401)", gone,
          log()[-600:])


def rate_limit(admin):
    codes = []
    for _ in range(30):
        status, headers, _ = http("GET", "/api/calls", "tl_guess")
        codes.append(status)
        if status == 429:
            break
    check("wrong tokens from one address end in 429 with Retry-After",
          codes[-1] == 429 and headers.get("Retry-After", "").isdigit(), codes)
    call_api("a good token from the refused address", "GET", "/api/calls", "/api/calls", admin,
             429)
    back = wait_until(lambda: http("GET", "/api/calls", admin)[0] == 200, 20, 0.25)
    check("after failed_login_block the address is served again", back)
    check("the failed-login episode is logged once",
          log().count("failed logins from 127.0.0.1") == 1, log()[-800:])


def main():
    global SCHEMA
    tl = None
    try:
        admin, read = setup_database()
        tl = start_trunkline()
        if tl.poll() is not None:
            return
        status, _, body = http("GET", "/api/openapi.json", read)
        doc = json.loads(body) if status == 200 else {}
        check("GET /api/openapi.json: an OpenAPI 3.0 document",
              str(doc.get("openapi", "")).startswith("3.0") and "/api/calls/{id}" in
              doc.get("paths", {}), body[:300])
        SCHEMA = Schema(doc)
        m, bad = metrics()
        check("/metrics from loopback needs no token; every line is `name{labels} value`",
              m and not bad and "trunkline_resident_memory_bytes" in m
              and m["trunkline_resident_memory_bytes"] > 0, bad[:5])
        access_checks(admin, read)
        resource_checks(admin)
        call_checks(admin, read, m or {})
        cdr_checks(read)
        reconcile_checks(read)
        suspension_checks(admin, read)
        account_checks(admin, read)
        prepaid_checks(admin)
        gateway_checks(admin, read)
        rate_checks(admin, read)
        user_checks(admin, read)
        explain_checks(read)
        token_removal(read)
        rate_limit(admin)
    finally:
        stop_all(results, procs, tl, log)
        results.wrap_up(REPORT, "api", results.t0, WORK, os.environ.get("API_TEST_KEEP"))


main()
sys.exit(0 if results.passed() else 1)

#!/usr/bin/env python3
"""On-demand traces (issue 11 item 5, VOS3000's debug trace) against a running trunkline.

A customer (SIPp UAC), a vendor (SIPp UAS) and rates; `trunkctl trace start --callee N`
through the management API; one call to N and one to another number; `trunkctl trace get ID
--out FILE.pcap`; then `tshark -r FILE` (installed by scripts/setup.sh; its absence is a
failure) must read it with no malformed packet and show exactly the traced call's SIP
messages on both legs (INVITE in and out, the 200s, ACKs, BYEs and their 200s), none of the
other call. Also: `trunkctl trace list` and `get` without --out, the JSON ladder of
GET /api/traces/{id} against the OpenAPI document's required fields, the API's refusals
(no token 401, read token 403, bad field 422 naming it, unknown id 404, wrong method 405),
and `trunkctl trace stop`.

usage: trace_test.py TRUNKLINE TRUNKCTL SIPP_DIR REPORT PORT_BASE
  PORT_BASE: meson passes integration_port_base + 320; this test uses PORT_BASE .. + 9.
"""
import functools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import (Results, api_client, finish, port_in_use, read_text, status_codes,  # noqa: E402
                     stop_all, stop_pid, wait_logged, wait_until)

TRUNKLINE, TRUNKCTL, SIPP_DIR, REPORT, PORT_BASE = (sys.argv[1], sys.argv[2], sys.argv[3],
                                                    sys.argv[4], int(sys.argv[5]))
TL_PORT = PORT_BASE           # SIP (UDP)
API_PORT = PORT_BASE + 1
VENDOR_PORT = PORT_BASE + 2   # SIPp UAS
UAC_PORT = PORT_BASE + 3      # SIPp UAC (the customer)
TRACED = "15550001"
OTHER = "16660002"
TCP_CALLEE = "15550003"
R = Results()
check = R.check
WORK = tempfile.mkdtemp(prefix="trunkline-trace-")
DB = os.path.join(WORK, "t.db")
procs = []


def ctl(*args, env=None):
    return support.ctl(TRUNKCTL, DB, *args, cwd=WORK, env=env)


def must(*args):
    return support.ctl(TRUNKCTL, DB, *args, cwd=WORK, must=True)[1]


api = api_client(f"http://127.0.0.1:{API_PORT}")
start_sipp = functools.partial(support.start_sipp, SIPP_DIR, WORK, procs)


def log():
    return read_text(os.path.join(WORK, "trunkline.log"))


def uac_call(tag, callee, extra=()):
    """One SIPp call from the customer; (exit code, the responses' status lines)."""
    p = start_sipp(tag, "softswitch_uac.xml", UAC_PORT,
                   [*extra, "-s", callee, "-m", "1", "-l", "1", "-d", "200", "-timeout", "60s",
                    "-recv_timeout", "20000", f"127.0.0.1:{TL_PORT}"])
    return finish(p, 90), status_codes(os.path.join(WORK, f"{tag}.msg"))


def cdr_call_ids():
    """{callee: (call_id_in, call_id_out)} of the CDRs written."""
    try:
        con = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=10)
        try:
            rows = con.execute("SELECT callee, call_id_in, call_id_out FROM cdrs").fetchall()
        finally:
            con.close()
    except sqlite3.OperationalError:
        return {}
    return {r[0]: (r[1], r[2]) for r in rows}


def setup_database():
    support.setup_routing(must, WORK, VENDOR_PORT)
    admin = json.loads(must("token", "add", "ops", "--scope", "admin", "--json"))["token"]
    read = json.loads(must("token", "add", "viewer", "--scope", "read", "--json"))["token"]
    return admin, read


def start_trunkline():
    p = support.start_trunkline(TRUNKLINE, WORK, "trunkline", f'[api]\nlisten = "127.0.0.1:{API_PORT}"\n',
                                "--db", DB, "--udp", f"127.0.0.1:{TL_PORT}", "--tcp", f"127.0.0.1:{TL_PORT}")
    up = wait_logged(p, os.path.join(WORK, "trunkline.log"), "api: listening", 20)
    check("trunkline starts with the API", up, log()[-1500:])
    return p


def tshark(path, *extra):
    out = subprocess.run(["tshark", "-r", path, "-d", f"udp.port=={TL_PORT},sip",
                          "-d", f"tcp.port=={TL_PORT},sip", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return out.returncode, out.stdout.decode(errors="replace"), out.stderr.decode(errors="replace")


def refusal_checks(admin, read):
    status, _, _ = api("GET", "/api/traces")
    check("GET /api/traces without a token: 401", status == 401, status)
    status, _, body = api("POST", "/api/traces", read, {"callee": TRACED})
    check("POST /api/traces with a read token: 403", status == 403, body)
    status, _, body = api("POST", "/api/traces", admin, {})
    check("POST /api/traces without a filter: 422 naming caller",
          status == 422 and json.loads(body).get("field") == "caller", body)
    status, _, body = api("POST", "/api/traces", admin, {"callee": TRACED, "duration_s": 0})
    check("duration_s 0: 422 naming duration_s",
          status == 422 and json.loads(body).get("field") == "duration_s", body)
    status, _, body = api("POST", "/api/traces", admin, {"callee": TRACED, "max_messages": "10"})
    check("max_messages as a string: 422 naming max_messages",
          status == 422 and json.loads(body).get("field") == "max_messages", body)
    status, _, body = api("POST", "/api/traces", admin, {"gateway": "nosuch"})
    check("an unknown gateway: 422 naming gateway",
          status == 422 and json.loads(body).get("field") == "gateway", body)
    status, _, body = api("POST", "/api/traces", admin, {"calee": TRACED})
    check("an unknown member: 422 naming it", status == 422 and json.loads(body).get("field") == "calee", body)
    status, _, body = api("POST", "/api/traces", admin, None)
    check("no JSON body: 400", status == 400, body)
    status, _, body = api("GET", "/api/traces/999", read)
    check("GET /api/traces/999: 404", status == 404 and json.loads(body).get("field") == "id", body)
    status, _, body = api("GET", "/api/traces/999/pcap", read)
    check("GET /api/traces/999/pcap: 404", status == 404, body)
    status, _, body = api("GET", "/api/traces/x", read)
    check("GET /api/traces/x: 400 naming id", status == 400 and json.loads(body).get("field") == "id", body)
    status, headers, body = api("PUT", "/api/traces", admin, {})
    check("PUT /api/traces: 405 with Allow", status == 405 and "POST" in (headers.get("Allow") or ""), body)
    rc, _, err = ctl("trace", "start", "--api", f"127.0.0.1:{API_PORT}", "--token", read, "--callee", TRACED)
    check("trunkctl trace start with a read token fails (exit 1) and says 403", rc == 1 and "403" in err, err)
    rc, _, err = ctl("trace", "start", "--api", f"127.0.0.1:{API_PORT}", "--token", admin)
    check("trunkctl trace start without a filter is a usage error (exit 2)", rc == 2, err)


def schema_errors(doc, name, value):
    """Missing required members (one level, and TraceMessage items) of a documented schema."""
    s = doc["components"]["schemas"][name]
    req = list(s.get("required", []))
    for part in s.get("allOf", []):
        req += doc["components"]["schemas"][part["$ref"].split("/")[-1]].get("required", [])
    out = [f"{name}.{k}" for k in req if k not in value]
    if name == "TraceWithMessages":
        for m in value.get("messages", []):
            out += schema_errors(doc, "TraceMessage", m)
    return out


def trace_checks(admin, read):
    env = dict(os.environ, TRUNKLINE_TOKEN=admin)
    rc, out, err = ctl("trace", "start", "--api", f"127.0.0.1:{API_PORT}", "--callee", TRACED,
                       "--duration", "300", "--json", env=env)
    started = json.loads(out) if rc == 0 else {}
    check("trunkctl trace start --callee (token from TRUNKLINE_TOKEN) answers the new trace",
          rc == 0 and started.get("state") == "active" and started.get("callee") == TRACED, out + err)
    tid = str(started.get("id", 0))
    _, _, body = api("GET", "/api/openapi.json", read)
    doc = json.loads(body)
    check("the OpenAPI document describes /api/traces, /{id} and /{id}/pcap",
          all(p in doc["paths"] for p in ("/api/traces", "/api/traces/{id}", "/api/traces/{id}/pcap")))
    check("the 201 answer has every field of Trace", not schema_errors(doc, "Trace", started), started)

    vendor = start_sipp("vendor", "softswitch_uas.xml", VENDOR_PORT, ["-aa", "-timeout", "90s"])
    if not wait_until(lambda: port_in_use(VENDOR_PORT) or vendor.poll() is not None, 10):
        check("vendor SIPp starts", False)
        return
    rc, codes = uac_call("traced", TRACED)
    check(f"the call to {TRACED} is answered (SIPp exit 0)", rc == 0 and "200" in codes, f"{rc} {codes}")
    rc, codes = uac_call("other", OTHER)
    check(f"the call to {OTHER} is answered (SIPp exit 0)", rc == 0 and "200" in codes, f"{rc} {codes}")
    ids = wait_until(lambda: (lambda c: c if TRACED in c and OTHER in c else None)(cdr_call_ids()), 15) or {}
    check("both calls have CDRs (their Call-IDs, both legs)", TRACED in ids and OTHER in ids, ids)
    tcp_checks(admin, read)
    stop_pid(vendor, 10)

    rc, out, err = ctl("trace", "list", "--api", f"127.0.0.1:{API_PORT}", "--token", read)
    row = [ln for ln in out.splitlines() if ln.split()[:1] == [tid]]
    check("trunkctl trace list (table) shows the trace active with its filter",
          rc == 0 and out.startswith("ID") and row and "active" in row[0] and f"callee={TRACED}" in row[0],
          out + err)
    rc, out, err = ctl("trace", "list", "--api", f"127.0.0.1:{API_PORT}", "--token", read, "--json")
    listed = json.loads(out).get("traces", []) if rc == 0 else []
    check("trunkctl trace list --json: the API's list, every field of Trace",
          listed and str(listed[0].get("id")) == tid and listed[0].get("message_count", 0) > 0
          and not any(schema_errors(doc, "Trace", t) for t in listed), out + err)

    status, _, body = api("GET", f"/api/traces/{tid}", read)
    t = json.loads(body) if status == 200 else {}
    msgs = t.get("messages", [])
    check("GET /api/traces/{id}: the ladder, every documented field",
          status == 200 and msgs and not schema_errors(doc, "TraceWithMessages", t),
          schema_errors(doc, "TraceWithMessages", t) if t else body)
    want_ids = set(ids.get(TRACED, ()))
    other_ids = set(ids.get(OTHER, ()))
    seen = {m["call_id"] for m in msgs}
    check("the JSON ladder holds both legs of the traced call and nothing else",
          seen == want_ids and len(want_ids) == 2, f"{seen} vs {want_ids}")
    firsts = [(m["direction"], m["first_line"].split(" ")[0]) for m in msgs]
    check("...starting with the customer's INVITE in, then the INVITE out",
          firsts[:1] == [("in", "INVITE")] and ("out", "INVITE") in firsts, firsts)
    rc, out, err = ctl("trace", "get", tid, "--api", f"127.0.0.1:{API_PORT}", "--token", read)
    check("trunkctl trace get ID prints one line per message",
          rc == 0 and out.count("\n") == len(msgs) + 1 and "INVITE sip:" + TRACED in out, out + err)

    pcap = os.path.join(WORK, "call.pcap")
    rc, out, err = ctl("trace", "get", tid, "--out", pcap, "--api", f"127.0.0.1:{API_PORT}", "--token", read)
    check("trunkctl trace get ID --out FILE writes the pcap",
          rc == 0 and os.path.isfile(pcap) and os.path.getsize(pcap) > 24, out + err)
    status, headers, body = api("GET", f"/api/traces/{tid}/pcap", read, raw=True)
    check("GET /api/traces/{id}/pcap is application/vnd.tcpdump.pcap, the same bytes",
          status == 200 and headers.get("Content-Type", "").startswith("application/vnd.tcpdump.pcap")
          and os.path.isfile(pcap) and body == open(pcap, "rb").read(), headers)
    if shutil.which("tshark") is None:
        check("tshark is installed (scripts/setup.sh)", False, "missing")
        return
    rc, out, err = tshark(pcap)
    check("tshark -r reads the file", rc == 0 and len(out.splitlines()) == len(msgs), f"{rc} {err} {out[:500]}")
    rc, out, _ = tshark(pcap, "-Y", "_ws.malformed || _ws.expert.severity >= warning")
    check("...with no malformed packet and no warning", rc == 0 and out.strip() == "", out[:800])
    rc, out, _ = tshark(pcap, "-Y", "sip", "-T", "fields", "-E", "separator=|",
                        "-e", "sip.Call-ID", "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.CSeq.method",
                        "-e", "ip.src", "-e", "udp.srcport", "-e", "udp.dstport")
    rows = [ln.split("|") for ln in out.splitlines() if ln]
    check("tshark decodes every message as SIP", len(rows) == len(msgs), out[:800])
    cids = {r[0] for r in rows}
    check("the pcap holds exactly the traced call's two Call-IDs (customer and vendor legs)",
          cids == want_ids and not (cids & other_ids), f"{cids} want {want_ids} other {other_ids}")
    a_leg, b_leg = ids.get(TRACED, ("", ""))

    def has(cid, method=None, status=None, cseq=None, sport=None, dport=None):
        return any(r[0] == cid and (method is None or r[1] == method) and (status is None or r[2] == status)
                   and (cseq is None or r[3] == cseq) and (sport is None or r[5] == str(sport))
                   and (dport is None or r[6] == str(dport)) for r in rows)
    for leg, cid, peer, inbound in (("customer", a_leg, UAC_PORT, True), ("vendor", b_leg, VENDOR_PORT, False)):
        from_peer = {"sport": peer, "dport": TL_PORT}
        to_peer = {"sport": TL_PORT, "dport": peer}
        req, resp = (from_peer, to_peer) if inbound else (to_peer, from_peer)
        ok = (has(cid, "INVITE", **req) and has(cid, None, "200", "INVITE", **resp) and has(cid, "ACK", **req)
              and (has(cid, "BYE", **req) or has(cid, "BYE", **resp)) and has(cid, None, "200", "BYE"))
        check(f"{leg} leg: INVITE, 200 (INVITE), ACK, BYE and 200 (BYE) with the right ports", ok, rows)

    rc, out, err = ctl("trace", "stop", tid, "--api", f"127.0.0.1:{API_PORT}", "--token", admin)
    status, _, _ = api("GET", f"/api/traces/{tid}", read)
    check("trunkctl trace stop removes the trace (then 404)", rc == 0 and status == 404, out + err)
    rc, out, err = ctl("trace", "stop", tid, "--api", f"127.0.0.1:{API_PORT}", "--token", admin)
    check("stopping it again fails: exit 1, 404 named", rc == 1 and "404" in err, out + err)


def tcp_checks(admin, read):
    """A customer calling over TCP: the pcap's TCP segments read as SIP in tshark."""
    status, _, body = api("POST", "/api/traces", admin, {"callee": TCP_CALLEE, "max_messages": 100})
    tid = json.loads(body).get("id") if status == 201 else None
    check("POST /api/traces: a second trace, 201", status == 201 and tid, body)
    rc, codes = uac_call("tcp", TCP_CALLEE, ["-t", "t1"])
    check(f"a call to {TCP_CALLEE} over TCP is answered (SIPp exit 0)", rc == 0 and "200" in codes, f"{rc} {codes}")
    status, _, t = api("GET", f"/api/traces/{tid}", read)
    msgs = json.loads(t).get("messages", []) if status == 200 else []
    tcp = [m for m in msgs if m["transport"] == "tcp"]
    check("its customer leg is captured as TCP, the vendor leg as UDP",
          tcp and len(tcp) < len(msgs) and tcp[0]["first_line"].startswith("INVITE "), msgs)
    status, _, body = api("GET", f"/api/traces/{tid}/pcap", read, raw=True)
    path = os.path.join(WORK, "tcp.pcap")
    with open(path, "wb") as f:
        f.write(body)
    rc, out, err = tshark(path, "-Y", "sip && tcp", "-T", "fields", "-e", "sip.Method", "-e", "sip.Status-Code")
    lines = out.splitlines()
    check("tshark decodes each TCP segment as one SIP message",
          rc == 0 and len(lines) == len(tcp) and lines and lines[0].strip() == "INVITE", f"{out} {err}")
    rc, out, _ = tshark(path, "-Y", "_ws.malformed || _ws.expert.severity >= warning || tcp.analysis.flags")
    check("...with no malformed packet, warning or TCP analysis flag", rc == 0 and out.strip() == "", out[:800])
    rc, out, _ = tshark(path, "-Y", "sip")
    check("...and every message of the trace as SIP", len(out.splitlines()) == len(msgs), out[:800])


def main():
    T0 = time.time()
    tl = None
    try:
        admin, read = setup_database()
        tl = start_trunkline()
        if tl.poll() is None:
            refusal_checks(admin, read)
            trace_checks(admin, read)
    finally:
        stop_all(R, procs, tl, log)
        R.wrap_up(REPORT, "trace", T0, WORK, os.environ.get("TRACE_TEST_KEEP"))


main()
sys.exit(0 if R.passed() else 1)

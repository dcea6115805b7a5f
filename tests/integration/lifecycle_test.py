#!/usr/bin/env python3
"""trunkline's lifecycle (issue 11 item 7) against a running trunkline with SIPp customer and
vendor on 127.0.0.1:
  - readiness: with $NOTIFY_SOCKET set to a datagram socket bound here, READY=1 arrives once
    trunkline has logged "listening", and STOPPING=1 when SIGTERM starts the drain;
  - `trunkctl backup FILE` while SIPp calls run and CDRs are written: the copy opens, passes
    PRAGMA integrity_check and holds the tables and the CDRs written so far; an existing FILE
    is refused;
  - SIGTERM drain: a call in progress goes on to its own BYE, a new INVITE meanwhile gets
    503 with Retry-After ([shutdown] retry_after), and trunkline then exits 0 by itself;
  - SIGHUP: a changed live key (registrar.register_retry, shutdown.drain_calls) and a changed
    restart-only key (sip.max_message) are logged as applied / needing a restart, the new
    drain_calls is the one the next SIGTERM uses; a file that does not load changes nothing
    and trunkline keeps running;
  - the drain bound ([shutdown] drain_calls): a call still up at the bound is hung up (its
    CDR written) and trunkline exits 0.
Every process is started here with its own ports and stopped by PID. Writes a JUnit report.

usage: lifecycle_test.py TRUNKLINE TRUNKCTL SIPP_DIR REPORT PORT_BASE
"""
import functools
import os
import re
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import time

TRUNKLINE, TRUNKCTL, SIPP_DIR, REPORT, BASE = sys.argv[1:5] + [int(sys.argv[5])]
TL_PORT, UAC_PORT, VENDOR_PORT, RAW_PORT = BASE, BASE + 1, BASE + 2, BASE + 3
CALLEE = "15551234567"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import Results, query_ro, read_text, stop_pid, wait_until  # noqa: E402

R = Results()
check = R.check
WORK = tempfile.mkdtemp(prefix="trunkline-lifecycle-")
DB = os.path.join(WORK, "trunkline.db")
procs = []


def ctl(*args):
    """trunkctl on the test's database: (exit code, its stdout and stderr)."""
    rc, out, err = support.ctl(TRUNKCTL, DB, *args, cwd=WORK, timeout=120)
    return rc, out + err


def text(name):
    return read_text(os.path.join(WORK, name))


def cdrs(db=DB):
    return query_ro(db, "SELECT id, sip_code, hangup FROM cdrs ORDER BY id")


def setup_database():
    def must(*args):
        return support.ctl(TRUNKCTL, DB, *args, cwd=WORK, timeout=120, must=True)[1]
    support.setup_routing(must, WORK, VENDOR_PORT, balance="500")


class Notify:
    """The test's end of $NOTIFY_SOCKET: a unix datagram socket; messages as they arrive."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.got = []

    def wait_for(self, line, limit):
        def seen():
            try:
                self.got.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
            return any(line in m.split("\n") for m in self.got)
        return wait_until(seen, limit, 0)

    def close(self):
        self.sock.close()


def write_config(tag, shutdown_conf, extra=""):
    with open(os.path.join(WORK, f"{tag}.toml"), "w") as f:
        f.write(f"{extra}\n[calls]\ninvite_timeout = 5\n\n[api]\nenabled = false\n\n"
                f"[shutdown]\n{shutdown_conf}\n")


def start_trunkline(tag, shutdown_conf, notify=None, extra=""):
    write_config(tag, shutdown_conf, extra)
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    if notify:
        env["NOTIFY_SOCKET"] = notify
    p = support.start_trunkline(TRUNKLINE, WORK, tag, None, "--db", DB,
                                "--udp", f"127.0.0.1:{TL_PORT}", "--tcp", "off", env=env)
    procs.append(p)
    return p


sipp = functools.partial(support.start_sipp, SIPP_DIR, WORK, procs)


def vendor(tag):
    return sipp(tag, "softswitch_uas.xml", VENDOR_PORT, ["-aa", "-timeout", "120s"])


def uac(tag, calls, pause_ms, rate=10):
    return sipp(tag, "softswitch_uac.xml", UAC_PORT,
                ["-s", CALLEE, "-m", str(calls), "-r", str(rate), "-l", str(calls),
                 "-d", str(pause_ms), "-timeout", "120s", "-recv_timeout", "60000",
                 f"127.0.0.1:{TL_PORT}"])


def finish(p, limit=150):
    return support.finish(p, limit)


def successful(tag):
    ok = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", text(f"{tag}.out"))
    return int(ok[-1]) if ok else -1


def answered(tag):
    """The UAC has ACKed a 200: its call is up."""
    return "CSeq: 1 ACK" in text(f"{tag}.msg")


def raw_invite(call_id):
    """A new INVITE from the customer's address; the first final response's text."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", RAW_PORT))
    s.settimeout(1.0)
    msg = (f"INVITE sip:{CALLEE}@127.0.0.1:{TL_PORT} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{RAW_PORT};branch=z9hG4bK{call_id}\r\n"
           f"From: <sip:5550100@127.0.0.1:{RAW_PORT}>;tag=t{call_id}\r\n"
           f"To: <sip:{CALLEE}@127.0.0.1:{TL_PORT}>\r\n"
           f"Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\n"
           f"Contact: <sip:5550100@127.0.0.1:{RAW_PORT}>\r\nMax-Forwards: 70\r\n"
           "Content-Length: 0\r\n\r\n").encode()
    try:
        deadline = time.time() + 20
        s.sendto(msg, ("127.0.0.1", TL_PORT))
        while time.time() < deadline:
            try:
                data = s.recv(65535).decode(errors="replace")
            except socket.timeout:
                s.sendto(msg, ("127.0.0.1", TL_PORT))  # UDP: retransmit as a UAC would
                continue
            if re.match(r"SIP/2\.0 [2-6]\d\d", data):
                return data
        return ""
    finally:
        s.close()


def readiness_backup_and_drain():
    notify = Notify(os.path.join(WORK, "notify.sock"))
    try:
        tl = start_trunkline("drain", "drain_calls = 60\nretry_after = 7", notify.path)
        ready = notify.wait_for("READY=1", 30)
        check("READY=1 arrives on $NOTIFY_SOCKET", ready, f"{notify.got} {text('drain.log')[-800:]}")
        check("READY=1 comes after trunkline logged 'listening'",
              ready and "listening" in text("drain.log"), text("drain.log")[-800:])
        if not ready:
            return

        # backup during a call load: 60 calls, 10 a second, each held 300 ms
        v = vendor("vendor1")
        load = uac("load", 60, 300)
        writing = wait_until(lambda: len(cdrs()) >= 5 or load.poll() is not None, 60)
        backup = os.path.join(WORK, "backup.db")
        rc, out = ctl("backup", backup)
        still_running = load.poll() is None
        check("trunkctl backup succeeds while SIPp calls run and CDRs are being written",
              writing and rc == 0 and "backup:" in out, f"rc={rc} {out} cdrs={len(cdrs())}")
        check("the backup was taken during the load (SIPp still running)", still_running, "")
        if os.path.isfile(backup):
            con = sqlite3.connect(backup)
            integrity = con.execute("PRAGMA integrity_check").fetchall()
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            n_cdrs = con.execute("SELECT count(*) FROM cdrs").fetchone()[0]
            con.close()
            check("the backup passes PRAGMA integrity_check", integrity == [("ok",)], integrity)
            want = {"cdrs", "accounts", "schema_versions"}
            check("the backup holds the database's tables", want <= tables, sorted(tables))
            check("the backup holds the CDRs written before it", n_cdrs >= 5, n_cdrs)
        rc2, out2 = ctl("backup", backup)
        check("trunkctl backup refuses an existing FILE (exit 1)", rc2 == 1 and "exists" in out2,
              f"rc={rc2} {out2}")
        finish(load)
        check("the load's 60 calls complete", successful("load") == 60, text("load.out")[-1200:])

        # SIGTERM with one call up: it goes on to its BYE, a new INVITE gets 503
        wait_until(lambda: len(cdrs()) >= 60, 30)  # the writer thread commits the load's last
        before = len(cdrs())
        held = uac("held", 1, 8000)
        up = wait_until(lambda: answered("held") or held.poll() is not None, 30)
        check("the held call is answered", up and held.poll() is None, text("held.out")[-800:])
        tl.send_signal(signal.SIGTERM)
        stopping = notify.wait_for("STOPPING=1", 20)
        check("STOPPING=1 arrives on $NOTIFY_SOCKET after SIGTERM", stopping, notify.got)
        check("the log says new calls are refused and 1 call may run 60 s",
              wait_until(lambda: "shutdown: new calls refused (503, Retry-After 7); 1 calls may "
                                 "run 60 s" in text("drain.log"), 10), text("drain.log")[-800:])
        resp = raw_invite("drain-new-1")
        check("a new INVITE during the drain gets 503 with Retry-After: 7",
              resp.startswith("SIP/2.0 503") and re.search(r"^Retry-After: 7\r?$", resp, re.M),
              resp[:400])
        check("trunkline is still running while the call is up", tl.poll() is None and
              held.poll() is None, f"tl={tl.poll()} held={held.poll()}")
        finish(held)
        check("the held call ends with its own BYE (SIPp: 1 successful)",
              successful("held") == 1, text("held.out")[-1200:])
        rc = finish(tl, 60)
        check("trunkline exits 0 once the call has ended", rc == 0,
              f"rc={rc} {text('drain.log')[-1000:]}")
        rows = cdrs()
        check("the held call's CDR is written (200), the refused INVITE has none",
              len(rows) == before + 1 and rows[-1][1] == 200, rows[before:])
        stop_pid(v, 10)
    finally:
        notify.close()


def sighup(tl):
    write_config("bound", "drain_calls = 3", "[sip]\nmax_message = 32768\n"
                 "[registrar]\nregister_retry = 5\n")
    tl.send_signal(signal.SIGHUP)
    done = wait_until(lambda: "reload: 2 applied, 1 need a restart" in text("bound.log"), 20)
    log = text("bound.log")
    check("SIGHUP: the live keys are logged as applied",
          done and "reload: registrar.register_retry changed (applied)" in log
          and "reload: shutdown.drain_calls changed (applied)" in log, log[-1200:])
    check("SIGHUP: the restart-only key is logged as needing a restart",
          "reload: sip.max_message changed: needs a restart" in log, log[-1200:])
    check("SIGHUP: keys given as flags (--udp, --tcp) are not reported as changed",
          "reload: sip.udp" not in log and "reload: sip.tcp" not in log, log[-1200:])
    with open(os.path.join(WORK, "bound.toml"), "a") as f:
        f.write("[nonsense]\nkey = 1\n")
    tl.send_signal(signal.SIGHUP)
    bad = wait_until(lambda: re.search(r"reload: .*unknown key.*: nothing changed",
                                       text("bound.log")), 20)
    check("SIGHUP with a file that does not load: 'nothing changed', trunkline keeps running",
          bad and tl.poll() is None, text("bound.log")[-800:])


def drain_bound():
    tl = start_trunkline("bound", "drain_calls = 30", extra="[registrar]\nregister_retry = 3\n")
    if not wait_until(lambda: "listening" in text("bound.log") or tl.poll() is not None, 30):
        check("trunkline starts (drain bound case)", False, text("bound.log")[-800:])
        return
    sighup(tl)
    v = vendor("vendor2")
    before = len(cdrs())
    held = uac("long", 1, 60000)
    up = wait_until(lambda: answered("long") or held.poll() is not None, 30)
    check("the long call is answered", up and held.poll() is None, text("long.out")[-800:])
    tl.send_signal(signal.SIGTERM)
    rc = finish(tl, 60)
    log = text("bound.log")
    check("the drain uses the bound SIGHUP set (3 s, not the 30 s it started with)",
          "1 calls may run 3 s" in log, log[-1000:])
    check("at the drain bound trunkline hangs up the call still up and exits 0",
          rc == 0 and "shutdown: 1 calls still up after the drain bound: hanging up" in log,
          f"rc={rc} {log[-1000:]}")
    rows = wait_until(lambda: len(cdrs()) > before and cdrs(), 10) or []
    check("the hung-up call's CDR is written, hung up by the server (hangup 2)",
          len(rows) == before + 1 and rows[-1][2] == 2, rows[before:])
    finish(held, 40)
    stop_pid(v, 10)


try:
    setup_database()
    readiness_backup_and_drain()
    drain_bound()
except Exception as e:  # a crash of the test is a failure, reported
    check("lifecycle test ran to the end", False, repr(e))
finally:
    for p in procs:
        stop_pid(p, 10)
    R.write_junit(REPORT, "integration_lifecycle")
    if not R.failed():
        shutil.rmtree(WORK, ignore_errors=True)
    else:
        print(f"kept {WORK}")
sys.exit(1 if R.failed() or not R.passed() else 0)

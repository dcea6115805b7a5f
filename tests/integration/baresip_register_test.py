#!/usr/bin/env python3
"""A real UA registers to trunkline out of the box: Debian's baresip 1.0, headless (issue 12
item 3).

trunkline starts with the default digest offer (the TOML sets only the realm), and two SIP users
are added with `trunkctl user add`. Then:
  1. baresip, with its own configuration directory, registers alice: REGISTER, 401 with
     trunkline's default challenge, REGISTER with credentials, 200 (baresip logs
     "200 OK ... [1 binding]"); with a SHA-256 challenge in the offer baresip 1.0 stops at
     "Register: Function not implemented", which is why MD5 is the default (README);
  2. the binding is written to the database with baresip's contact and source port;
  3. SIGTERM makes baresip unregister (Expires: 0): the binding is gone from the database;
  4. a baresip with a wrong password is refused (401 to its credentials, no binding).
Every process is started here on 127.0.0.1 with its own ports and stopped by PID. Writes a
JUnit report.

usage: baresip_register_test.py TRUNKLINE TRUNKCTL REPORT PORT_BASE
"""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import Results, read_text, stop_pid, wait_logged, wait_until  # noqa: E402

TRUNKLINE, TRUNKCTL, REPORT = (os.path.abspath(a) for a in sys.argv[1:4])
BASE = int(sys.argv[4])
PORT = BASE            # trunkline UDP
ALICE_PORT = BASE + 1  # baresip with the right password
BAD_PORT = BASE + 2    # baresip with a wrong one
REALM = "baresip.test"
R = Results()
check = R.check
work = tempfile.mkdtemp(prefix="trunkline-baresip-")
DB = os.path.join(work, "trunkline.db")
procs = []


def text(name):
    return read_text(os.path.join(work, name))


def ctl(*args):
    """trunkctl on the test's database: (exit code, its stdout and stderr)."""
    rc, out, err = support.ctl(TRUNKCTL, DB, *args, cwd=work)
    return rc, out + err


def bindings():
    con = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT aor, contact, source_port FROM reg_binding").fetchall()
    finally:
        con.close()


def baresip(tag, user, password, port):
    """A headless baresip 1.0 with its own configuration directory: no UI module on a
    terminal, no sound card (aubridge), one account registering every 60 s."""
    conf = os.path.join(work, tag)
    os.makedirs(conf, exist_ok=True)
    with open(os.path.join(conf, "config"), "w") as f:
        f.write(f"""poll_method\tepoll
sip_listen\t127.0.0.1:{port}
sip_transports\tudp
net_interface\t127.0.0.1
audio_player\taubridge,{tag}
audio_source\taubridge,{tag}
audio_alert\taubridge,{tag}
rtp_ports\t{BASE + 10}-{BASE + 19}
module_path\t/usr/lib/baresip/modules
module\t\tg711.so
module\t\taubridge.so
module_tmp\tuuid.so
module_tmp\taccount.so
module_app\tmenu.so
""")
    with open(os.path.join(conf, "accounts"), "w") as f:
        f.write(f"<sip:{user}@127.0.0.1:{PORT};transport=udp>;auth_pass={password};regint=60\n")
    open(os.path.join(conf, "contacts"), "w").close()
    out = open(os.path.join(work, f"{tag}.out"), "wb")
    p = subprocess.Popen(["baresip", "-f", conf, "-t", "120"], stdin=subprocess.PIPE,
                         stdout=out, stderr=subprocess.STDOUT, cwd=work)
    out.close()
    procs.append(p)
    return p


def answers(user):
    """trunkline's log: the status codes it gave to `user`'s REGISTERs, in order."""
    return [int(c) for c in re.findall(
        rf"REGISTER sip:{user}@127\.0\.0\.1 call-id=\S+ cseq=\d+ -> (\d+)", text("trunkline.log"))]


tl = None
try:
    ok = all(ctl("user", "add", u, "--realm", REALM, "--password", pw)[0] == 0
             for u, pw in (("alice", "alice-secret"), ("mallory", "mallory-secret")))
    check("trunkctl adds the SIP users alice and mallory", ok, ctl("user", "list")[1])
    # the digest offer is left at its default: that is what this test is about
    tl = support.start_trunkline(
        TRUNKLINE, work, "trunkline",
        f'[log]\nmessages = true\nlevel = "debug"\n\n[registrar]\nrealm = "{REALM}"\n',
        "--db", DB, "--udp", f"127.0.0.1:{PORT}", "--tcp", "off")
    up = wait_logged(tl, os.path.join(work, "trunkline.log"), "listening", 10)
    check("trunkline starts with its default digest offer", up, text("trunkline.log")[-800:])
    if not up:
        raise SystemExit

    # --- 1. baresip registers ----------------------------------------------------------------
    alice = baresip("alice", "alice", "alice-secret", ALICE_PORT)
    registered = wait_until(lambda: re.search(r"200 OK .*\[1 binding\]", text("alice.out"))
                            or alice.poll() is not None, 15)
    check("1. baresip registers alice: '200 OK ... [1 binding]', no error",
          registered and alice.poll() is None and "Function not implemented" not in text("alice.out"),
          text("alice.out")[-1500:])
    check("1. trunkline challenged the first REGISTER (401) and accepted the credentials (200)",
          answers("alice")[:2] == [401, 200], f"{answers('alice')}\n{text('trunkline.log')[-1500:]}")

    # --- 2. the binding ------------------------------------------------------------------------
    aor = "sip:alice@127.0.0.1"
    wait_until(lambda: any(a == aor for a, _, _ in bindings()), 5)  # written behind
    rows = bindings()
    check("2. the database holds alice's binding: baresip's contact and source port",
          len(rows) == 1 and rows[0][0] == aor and f"@127.0.0.1:{ALICE_PORT}" in rows[0][1]
          and rows[0][2] == ALICE_PORT, rows)

    # --- 3. unregister at exit -----------------------------------------------------------------
    status, secs = stop_pid(alice, 15)
    gone = wait_until(lambda: not bindings(), 10)
    check("3. SIGTERM: baresip unregisters (Expires: 0) and exits; the binding is removed",
          status is not None and gone and "unbound" in text("trunkline.log"),
          f"exit {status} after {secs:.1f} s, rows {bindings()}\n{text('alice.out')[-800:]}")

    # --- 4. a wrong password -------------------------------------------------------------------
    bad = baresip("mallory", "mallory", "not-the-password", BAD_PORT)
    refused = wait_until(lambda: len(answers("mallory")) >= 2 or bad.poll() is not None, 15)
    stop_pid(bad, 15)
    codes = answers("mallory")
    check("4. a wrong password is refused: 401 to the credentials, no 200, no binding",
          refused and len(codes) >= 2 and 200 not in codes and not bindings(),
          f"{codes}, rows {bindings()}\n{text('mallory.out')[-800:]}")
except SystemExit:
    pass
except Exception as e:  # a broken step is a failure, reported like the others
    check(f"the test itself ran without an exception ({type(e).__name__})", False, repr(e))
finally:
    for p in procs:
        stop_pid(p, 10)
    st, secs = stop_pid(tl)
    if tl is not None:
        check("trunkline stops cleanly on SIGTERM", st == 0, f"exit {st} after {secs:.1f} s")
    if R.failed():
        print(f"--- trunkline log ---\n{text('trunkline.log')[-3000:]}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    R.write_junit(REPORT, "baresip_register")
sys.exit(0 if R.passed() else 1)

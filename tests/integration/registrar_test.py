#!/usr/bin/env python3
"""trunkline's registrar end to end, driven by SIPp (RFC 3261 §10, issue 6 operator rules).

Starts `trunkline` on 127.0.0.1 with a temporary SQLite database (200 users added with
`trunkctl user add`) and a TOML config (register_retry 6, register_suspend 4 s, NAT keep-alive
every 5 s with OPTIONS), then checks with bounded SIPp runs:
  a. 200 users register with MD5 digest auth (register_auth.xml, 401 answered); the database
     then holds their 200 bindings (reg_binding, written behind);
  b. a refresh of 50 of them (new Call-IDs, same contacts) keeps 200 bindings and rewrites
     those 50;
  c. an unregister of 50 others (unregister_auth.xml, Expires: 0) leaves 150;
  d. after SIGTERM and a start on the same database, trunkline restores the 150 bindings;
  f. NAT keep-alive: a SIPp UA whose Contact port is not its source port gets trunkline's
     OPTIONS (answered 200 by an out-of-call scenario) within two intervals, and one whose
     Contact is its source address gets none (nat_only);
  e. 6 wrong passwords (each answered 401, as libroute/reg/registrar.hpp documents) suspend the
     user and the source IP; a 7th attempt, with the right password, gets 403,
     `trunkctl suspend list` shows both, and after the 4 s a correct REGISTER gets 200 again;
     then, with trunkline restarted with register_suspend 60 s, `trunkctl suspend lift` lets a
     freshly suspended user in long before the suspension would end: lifting the user says
     that the same attempts suspended 127.0.0.1 too (whose 403s are logged with the AOR), and
     `--both` lifts that as well (issue 12 item 8);
  h. a guesser at 127.0.0.2 (6 wrong passwords for a user) is refused there, while the user keeps
     registering from 127.0.0.1 (issue 16); the suspensions survive a restart, and lifting the
     address lifts the user's suspension at it;
  i. a retransmitted REGISTER (the same bytes, same digest nc; sent from a plain UDP socket)
     gets the 200 again with the same To tag and changes nothing, while the same credentials
     in a new request are a replay and get 401 (the 200 is answered statelessly, the
     registrar recognising the retransmission, issue 13);
  g. `trunkctl binding list|show|remove` against the running trunkline's bindings, and
     `trunkctl user remove` takes the user's bindings with it (issue 12 item 8).
Every process is started here with its own ports and stopped by PID. Writes a JUnit report.

usage: registrar_test.py TRUNKLINE TRUNKCTL SIPP_DIR PEERS_DIR REPORT PORT_BASE
  SIPP_DIR: tests/integration/sipp   PEERS_DIR: bench/peers/kamailio (its sipp/*.xml)
"""
import hashlib
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import Results, stop_pid, wait_until  # noqa: E402

TRUNKLINE, TRUNKCTL, SIPP_DIR, PEERS_DIR, REPORT = (os.path.abspath(a) for a in sys.argv[1:6])
BASE = int(sys.argv[6])
PORT = BASE               # trunkline UDP
UAC_PORT = BASE + 1       # SIPp registering the 200 users (their Contact port too)
BAD_PORT = BASE + 2       # SIPp with wrong / right passwords for the suspension checks
NAT_PORT = BASE + 3       # SIPp "behind a NAT": sends from here ...
NAT_CONTACT_PORT = BASE + 4  # ... but puts this port (nobody listens) in its Contact
LAN_PORT = BASE + 5       # SIPp with Contact = its source address (no keep-alive expected)
REALM = "registrar.test"
NUSERS = 200
KEEPALIVE_S = 5
REGISTER_AUTH = os.path.join(PEERS_DIR, "sipp", "register_auth.xml")
UNREGISTER_AUTH = os.path.join(PEERS_DIR, "sipp", "unregister_auth.xml")
results = Results()
check = results.check




def user(i):
    return f"u{i:05d}", f"pw{i:05d}"


def write_csv(name, rows):
    """A SIPp injection file in the format of bench/peers/kamailio/data/users.csv."""
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("SEQUENTIAL\n")
        for fields in rows:
            f.write(";".join(fields) + "\n")
    return path


def auth_row(name, password, *extra):
    return (name, password, REALM, f"[authentication username={name} password={password}]", *extra)


def sipp(tag, scenario, csv, calls, port, extra=(), rate=50, timeout=60, background=False,
         ip="127.0.0.1"):
    """A bounded SIPp run (calls, -timeout, -recv_timeout, outer timeout) with a message trace."""
    cmd = ["sipp", "-sf", scenario, "-inf", csv, "-t", "u1", "-i", ip, "-p", str(port),
           "-m", str(calls), "-r", str(rate), "-l", str(max(rate, 10)), "-timeout", f"{timeout}s",
           "-recv_timeout", "5000", "-nostdin", "-trace_msg",
           "-message_file", os.path.join(work, f"{tag}.msg"), *extra, f"127.0.0.1:{PORT}"]
    out = open(os.path.join(work, f"{tag}.out"), "wb")
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=work)
    out.close()
    if background:
        return p
    return finish(p, tag, timeout)


def finish(p, tag, timeout):
    try:
        rc = p.wait(timeout=timeout + 30)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    text = open(os.path.join(work, f"{tag}.out"), "rb").read().decode(errors="replace")
    ok = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", text)
    bad = re.findall(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", text)
    return rc, (int(ok[-1]) if ok else -1), (int(bad[-1]) if bad else -1), text[-1500:]


def trace(tag):
    """SIPp's message trace as (direction, first line, whole message) in order."""
    try:
        text = open(os.path.join(work, f"{tag}.msg"), "rb").read().decode(errors="replace")
    except FileNotFoundError:
        return []
    msgs = []
    for block in re.split(r"^-{20,} .*$", text, flags=re.M):
        lines = [l.strip() for l in block.strip().splitlines() if l.strip()]
        if len(lines) < 2:
            continue
        direction = "in" if "message received" in lines[0] else "out"
        msgs.append((direction, lines[1], "\n".join(lines[1:])))
    return msgs


def answers_to_credentials(tag):
    """Status codes trunkline gave to the REGISTERs that carried an Authorization header."""
    codes, pending = [], set()
    for direction, first, msg in trace(tag):
        cid = re.search(r"^Call-ID:\s*(\S+)", msg, re.M | re.I)
        cseq = re.search(r"^CSeq:\s*(\d+)", msg, re.M | re.I)
        key = (cid.group(1) if cid else "", cseq.group(1) if cseq else "")
        if direction == "out" and first.startswith("REGISTER ") and "\nAuthorization:" in msg:
            pending.add(key)
        elif direction == "in" and first.startswith("SIP/2.0 ") and key in pending:
            pending.discard(key)
            codes.append(int(first.split()[1]))
    return codes


def ctl(*args):
    p = subprocess.run([TRUNKCTL, "--db", DB, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60, cwd=work)
    return p.returncode, p.stdout.decode(errors="replace")


def query(sql, *params):
    con = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def binding_count():
    return query("SELECT count(*) FROM reg_binding")[0][0]




def log_text(tag):
    return open(os.path.join(work, f"{tag}.log"), "rb").read().decode(errors="replace")


def start_trunkline(tag, config):
    log = open(os.path.join(work, f"{tag}.log"), "wb")
    p = subprocess.Popen([TRUNKLINE, "--config", config, "--db", DB, "--udp", f"127.0.0.1:{PORT}",
                          "--tcp", "off", "--log-level", "debug"],  # per-message lines are read
                         cwd=work, stdout=log, stderr=log)
    log.close()
    started = wait_until(lambda: "listening" in log_text(tag) or p.poll() is not None, 10)
    return p, bool(started) and p.poll() is None


def restart(running, tag, config, what):
    """Stops `running` by PID and starts trunkline again on the same database; a failed start
    ends the test (the checks after it would only repeat the failure)."""
    stop(running)
    p, up = start_trunkline(tag, config)
    check(what, up, log_text(tag)[-800:])
    if not up:
        stop(p)
        raise SystemExit
    return p


def stop(p, limit=15):
    """SIGTERM by PID (bounded, KILL as a last resort); returns the exit status."""
    return stop_pid(p, limit)[0]


def udp_exchange(sock, text):
    """Sends one request and returns the first final answer to it (text), or "" after 5 s."""
    sock.sendto(text.encode(), ("127.0.0.1", PORT))
    deadline = time.time() + 5
    while time.time() < deadline:
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            data = sock.recv(65535).decode(errors="replace")
        except socket.timeout:
            break
        if not data.startswith("SIP/2.0 1"):
            return data
    return ""


def register_text(sock, name, branch, cseq, authorization=""):
    port = sock.getsockname()[1]
    return (f"REGISTER sip:{REALM} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:{name}@{REALM}>;tag=retx1\r\n"
            f"To: <sip:{name}@{REALM}>\r\nCall-ID: retx-{name}@127.0.0.1\r\n"
            f"CSeq: {cseq} REGISTER\r\nContact: <sip:{name}@127.0.0.1:{port}>\r\n"
            f"Expires: 600\r\n{authorization}Content-Length: 0\r\n\r\n")


def header(msg, name):
    m = re.search(rf"^{name}:\s*(.*?)\r$", msg, re.M | re.I)
    return m.group(1) if m else ""


def md5_authorization(challenge, name, password, nc="00000001"):
    """RFC 2617/7616 MD5 with qop=auth, answering a WWW-Authenticate value."""
    nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
    uri, cnonce = f"sip:{REALM}", "0a4f113b"
    ha1, ha2 = md5(f"{name}:{REALM}:{password}"), md5(f"REGISTER:{uri}")
    response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    return (f'Authorization: Digest username="{name}", realm="{REALM}", nonce="{nonce}", '
            f'uri="{uri}", response="{response}", algorithm=MD5, qop=auth, nc={nc}, '
            f'cnonce="{cnonce}"\r\n')


def check_retransmission():
    """i. The same REGISTER twice gets the same 200; its credentials in a new one get 401."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        first = udp_exchange(sock, register_text(sock, "retxuser", "z9hG4bKretx1", 1))
        www = header(first, "WWW-Authenticate")
        check("i. a REGISTER without credentials is challenged", first.startswith("SIP/2.0 401")
              and "MD5" in www, first)
        if not www:
            return
        auth = md5_authorization(www, "retxuser", "retxpw")
        request = register_text(sock, "retxuser", "z9hG4bKretx2", 2, auth)
        ok = udp_exchange(sock, request)
        again = udp_exchange(sock, request)  # what a UA sends when the 200 got lost
        check("i. the retransmission of an accepted REGISTER gets the 200 again, same To tag "
              "and Contact", ok.startswith("SIP/2.0 200") and again.startswith("SIP/2.0 200")
              and header(ok, "To") == header(again, "To") and ";tag=" in header(ok, "To")
              and header(again, "Contact") == header(ok, "Contact"), f"{ok}\n---\n{again}")
        replay = udp_exchange(sock, register_text(sock, "retxuser", "z9hG4bKretx3", 3, auth))
        check("i. the same credentials (same nc) in a new request are a replay: 401",
              replay.startswith("SIP/2.0 401"), replay)
        wait_until(lambda: query("SELECT count(*) FROM reg_binding WHERE aor = ?",
                                 f"sip:retxuser@{REALM}")[0][0] == 1, 5)
        rows = query("SELECT count(*) FROM reg_binding WHERE aor = ?", f"sip:retxuser@{REALM}")
        check("i. one binding for it", rows[0][0] == 1, str(rows))
        # leave no binding behind for the counts of b.-d.
        bye = udp_exchange(sock, register_text(sock, "retxuser", "z9hG4bKretx4", 4,
                                               md5_authorization(www, "retxuser", "retxpw",
                                                                 "00000002"))
                           .replace("Expires: 600", "Expires: 0"))
        check("i. and it unregisters (nc 2)", bye.startswith("SIP/2.0 200"), bye)
        wait_until(lambda: query("SELECT count(*) FROM reg_binding WHERE aor = ?",
                                 f"sip:retxuser@{REALM}")[0][0] == 0, 5)
    finally:
        sock.close()


def write_config(name, suspend_s):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(f"""[log]
messages = true

[registrar]
realm = "{REALM}"               # the digest offer is the default (MD5): SIPp registers as is
register_retry = 6
register_suspend = {suspend_s}

[registrar.nat_keepalive]
enabled = true
interval = {KEEPALIVE_S}
payload = "options"
nat_only = true
""")
    return path


work = tempfile.mkdtemp(prefix="trunkline-registrar-")
DB = os.path.join(work, "trunkline.db")
tl = None
sipps = []
try:
    # --- users and injection files ---------------------------------------------------------
    t0 = time.time()
    added = 0
    for i in range(1, NUSERS + 1):
        name, pw = user(i)
        rc, out = ctl("user", "add", name, "--realm", REALM, "--password", pw)
        added += rc == 0
    for name, pw in (("natuser", "natpw"), ("lanuser", "lanpw"), ("mallory", "mallorypw"),
                     ("retxuser", "retxpw")):
        rc, out = ctl("user", "add", name, "--realm", REALM, "--password", pw)
        added += rc == 0
    check(f"trunkctl adds {NUSERS + 4} users", added == NUSERS + 4
          and query("SELECT count(*) FROM sip_user")[0][0] == NUSERS + 4, out)
    print(f"  ({time.time() - t0:.1f} s for {NUSERS + 4} trunkctl calls)")
    all_csv = write_csv("users.csv", [auth_row(*user(i)) for i in range(1, NUSERS + 1)])
    first50_csv = write_csv("first50.csv", [auth_row(*user(i)) for i in range(1, 51)])
    last50_csv = write_csv("last50.csv", [auth_row(*user(i)) for i in range(NUSERS - 49, NUSERS + 1)])
    nat_csv = write_csv("nat.csv", [auth_row("natuser", "natpw", str(NAT_CONTACT_PORT))])
    lan_csv = write_csv("lan.csv", [auth_row("lanuser", "lanpw", str(LAN_PORT))])
    bad_csv = write_csv("bad.csv", [auth_row("mallory", "not-the-password")])
    good_csv = write_csv("good.csv", [auth_row("mallory", "mallorypw")])
    config4 = write_config("trunkline.toml", 4)
    config60 = write_config("trunkline-suspend60.toml", 60)

    tl, up = start_trunkline("tl1", config4)
    check("trunkline starts on its database with the TOML config", up, log_text("tl1")[-800:])
    if not up:
        raise SystemExit

    # --- a. 200 registrations with digest auth ---------------------------------------------
    rc, ok, bad, out = sipp("reg200", REGISTER_AUTH, all_csv, NUSERS, UAC_PORT, rate=100)
    check(f"a. {NUSERS} users register with MD5 digest auth (SIPp: {NUSERS} successful, 0 failed)",
          rc == 0 and ok == NUSERS and bad == 0, f"rc={rc} ok={ok} failed={bad}\n{out}")
    time.sleep(0.5)  # bindings are written behind (binding_flush_ms 200)
    wait_until(lambda: binding_count() == NUSERS, 5)
    n = binding_count()
    rows = query("SELECT aor, contact, call_id FROM reg_binding")
    want = {f"sip:{user(i)[0]}@{REALM}": f"sip:{user(i)[0]}@127.0.0.1:{UAC_PORT}"
            for i in range(1, NUSERS + 1)}
    check(f"a. the database holds {NUSERS} reg_binding rows, one per user with its Contact",
          n == NUSERS and {a: c for a, c, _ in rows} == want, f"{n} rows")
    call_ids = {a: cid for a, _, cid in rows}

    # --- i. a retransmitted REGISTER -------------------------------------------------------
    check_retransmission()

    # --- b. refresh 50 ---------------------------------------------------------------------
    rc, ok, bad, out = sipp("refresh50", REGISTER_AUTH, first50_csv, 50, UAC_PORT, rate=100)
    check("b. 50 of them refresh (SIPp: 50 successful, 0 failed)",
          rc == 0 and ok == 50 and bad == 0, f"rc={rc} ok={ok} failed={bad}\n{out}")
    first50 = {f"sip:{user(i)[0]}@{REALM}" for i in range(1, 51)}

    def refreshed():
        now = dict(query("SELECT aor, call_id FROM reg_binding"))
        return sum(1 for a in first50 if a in now and now[a] != call_ids.get(a))

    # --- c. unregister 50 ------------------------------------------------------------------
    rc, ok, bad, out = sipp("unreg50", UNREGISTER_AUTH, last50_csv, 50, UAC_PORT, rate=100)
    check("c. 50 others unregister with Expires: 0 and digest auth (SIPp: 50 successful)",
          rc == 0 and ok == 50 and bad == 0, f"rc={rc} ok={ok} failed={bad}\n{out}")
    time.sleep(0.5)
    wait_until(lambda: binding_count() == NUSERS - 50, 5)
    n = binding_count()
    gone = [a for (a,) in query("SELECT aor FROM reg_binding")
            if int(re.search(r"u(\d+)@", a).group(1)) > NUSERS - 50]
    check("c. 150 rows remain, none of the unregistered users", n == NUSERS - 50 and not gone,
          f"{n} rows, {len(gone)} unregistered still there")
    # Issue 13 goal 3: a refresh that only moves the expiry (seconds of 3,600 here) is not
    # written at once; the deletions just seen were queued after the refreshes, so had the
    # refreshes been written they would be in the file now
    changed = refreshed()
    check("b. the 50 refreshes only moved the expiry: coalesced, their rows not rewritten yet",
          changed == 0, f"{changed} of 50 rewritten")

    # --- d. restart restores the bindings --------------------------------------------------
    rc = stop(tl)
    tl = None
    check("d. SIGTERM stops trunkline with exit status 0", rc == 0, f"rc={rc}")
    n = binding_count()
    check("d. the 150 bindings are in the database after the stop", n == NUSERS - 50, f"{n} rows")
    changed = refreshed()
    check("d. the stop wrote the 50 coalesced refreshes (their rows have the new Call-IDs)",
          changed == 50, f"{changed} of 50 rewritten")
    tl, up = start_trunkline("tl2", config4)
    m = re.search(r"registrar: (\d+) bindings of (\d+) AORs restored", log_text("tl2"))
    check("d. started again on the same database, trunkline logs '150 bindings of 150 AORs "
          "restored'", up and m and m.group(1) == "150" and m.group(2) == "150",
          m.group(0) if m else log_text("tl2")[-800:])
    if not up:
        raise SystemExit

    # --- f. NAT keep-alive -----------------------------------------------------------------
    # Both UAs stay up 2 keep-alive intervals + 1 s after their registration.
    hold = ["-d", str((2 * KEEPALIVE_S + 1) * 1000),
            "-oocsf", os.path.join(SIPP_DIR, "options_answer.xml")]
    nat = sipp("nat", os.path.join(SIPP_DIR, "register_nat_keepalive.xml"), nat_csv, 1, NAT_PORT,
               extra=hold, rate=1, timeout=40, background=True)
    sipps.append(nat)
    lan = sipp("lan", os.path.join(SIPP_DIR, "register_nat_keepalive.xml"), lan_csv, 1, LAN_PORT,
               extra=hold, rate=1, timeout=40, background=True)
    sipps.append(lan)
    rc_n, ok_n, bad_n, out_n = finish(nat, "nat", 40)
    rc_l, ok_l, bad_l, out_l = finish(lan, "lan", 40)
    sipps.clear()
    check("f. both keep-alive UAs register (SIPp: 1 successful each)",
          rc_n == 0 and ok_n == 1 and rc_l == 0 and ok_l == 1,
          f"nat rc={rc_n} ok={ok_n}; lan rc={rc_l} ok={ok_l}\n{out_n}\n{out_l}")
    row = query("SELECT contact, source_port FROM reg_binding WHERE aor = ?",
                f"sip:natuser@{REALM}")
    check("f. the NAT UA's binding has a Contact port other than its source port",
          row == [(f"sip:natuser@127.0.0.1:{NAT_CONTACT_PORT}", NAT_PORT)], row)
    msgs = trace("nat")
    opts = [m for d, f, m in msgs if d == "in" and f.startswith("OPTIONS ")]
    answered = [m for d, f, m in msgs if d == "out" and f.startswith("SIP/2.0 200")
                and re.search(r"^CSeq:\s*\d+\s+OPTIONS", m, re.M)]
    check(f"f. the NAT UA gets trunkline's keep-alive OPTIONS at its source port within "
          f"{2 * KEEPALIVE_S + 1} s (and answers 200)",
          len(opts) >= 1 and len(answered) >= 1
          and opts[0].startswith(f"OPTIONS sip:natuser@127.0.0.1:{NAT_CONTACT_PORT} "),
          f"{len(opts)} OPTIONS received, {len(answered)} answered")
    lan_opts = [f for d, f, _ in trace("lan") if d == "in" and f.startswith("OPTIONS ")]
    check("f. the UA whose Contact is its source address gets no keep-alive (nat_only)",
          not lan_opts, lan_opts)

    # --- e. failed authentications suspend the user and the source IP ----------------------
    rc, ok, bad, out = sipp("bad6", os.path.join(SIPP_DIR, "register_wrong_password.xml"), bad_csv,
                            6, BAD_PORT, rate=5)
    codes = answers_to_credentials("bad6")
    # libroute/reg/registrar.hpp: the try that reaches register_retry still gets its 401
    check("e. 6 REGISTERs with a wrong password (register_retry 6) all get 401 again",
          codes == [401] * 6 and ok == 6, f"answers {codes}, SIPp ok={ok} failed={bad}")
    rc, ok, bad, out = sipp("seventh", REGISTER_AUTH, good_csv, 1, BAD_PORT, rate=1)
    first = [f for d, f, _ in trace("seventh") if d == "in"]
    check("e. a 7th attempt, even with the right password, gets 403",
          ok == 0 and first[:1] == ["SIP/2.0 403 Forbidden"], f"SIPp ok={ok}, answers {first}")
    wait_until(lambda: "127.0.0.1" in ctl("suspend", "list")[1], 10)  # written behind
    rc, out = ctl("suspend", "list")
    keys = {l.split()[0]: l.split()[1] for l in out.splitlines()[1:] if len(l.split()) >= 2}
    check("e. `trunkctl suspend list` shows the user at the source IP, and the IP 127.0.0.1",
          rc == 0 and keys.get("mallory") == "user@127.0.0.1" and keys.get("127.0.0.1") == "ip",
          out)
    ended = wait_until(lambda: "no active suspensions" in ctl("suspend", "list")[1], 15, 0.2)
    check("e. the suspensions end (register_suspend 4 s)", ended, ctl("suspend", "list")[1])
    time.sleep(0.3)  # trunkline's clock and the database's `until` may differ by milliseconds
    rc, ok, bad, out = sipp("after", REGISTER_AUTH, good_csv, 1, BAD_PORT, rate=1)
    check("e. after the suspension a correct REGISTER of the user gets 200 again",
          rc == 0 and ok == 1, f"rc={rc} ok={ok} answers "
          f"{[f for d, f, _ in trace('after') if d == 'in']}")

    # lift: restart with a 60 s suspension, so the lift, not the clock, lets the user in
    tl = restart(tl, "tl3", config60, "e. trunkline restarts with register_suspend 60")
    rc, ok, bad, out = sipp("bad6b", os.path.join(SIPP_DIR, "register_wrong_password.xml"),
                            bad_csv, 6, BAD_PORT, rate=5)
    codes = answers_to_credentials("bad6b")
    # the suspension reaches the file within binding_flush_ms (written behind, off the loop)
    listed = wait_until(lambda: "mallory" in ctl("suspend", "list")[1], 10)
    rc, out = ctl("suspend", "list")
    check("e. 6 more wrong passwords suspend the user again (60 s)",
          codes == [401] * 6 and listed, f"answers {codes}\n{out}")
    rc, ok, bad, out = sipp("blocked", REGISTER_AUTH, good_csv, 1, BAD_PORT, rate=1)
    check("e. while suspended, the right password gets 403",
          ok == 0 and [f for d, f, _ in trace("blocked") if d == "in"][:1]
          == ["SIP/2.0 403 Forbidden"], f"SIPp ok={ok}")
    refused = re.findall(r"REGISTER (\S*) call-id=\S+ cseq=\d+ -> 403", log_text("tl3"))
    check("e. the 403 for the suspended source IP is logged with the request's AOR (issue 12 "
          "item 8)", refused and all(a == f"sip:mallory@{REALM}" for a in refused), refused)
    rc1, out1 = ctl("suspend", "lift", "mallory")
    check("e. `trunkctl suspend lift mallory` lifts the user and says the same attempts' IP "
          "suspension stays", rc1 == 0 and out1.startswith("lifted mallory\nnote: IP 127.0.0.1 is "
                                                          "still suspended")
          and "`trunkctl suspend lift mallory --both`" in out1, out1)
    seen = wait_until(lambda: "operator lifted 'mallory'" in log_text("tl3"), 10)
    rc, ok, bad, out = sipp("ip-blocked", REGISTER_AUTH, good_csv, 1, BAD_PORT, rate=1)
    check("e. ... and indeed: with the user lifted, the IP suspension still answers 403",
          seen and ok == 0 and [f for d, f, _ in trace("ip-blocked") if d == "in"][:1]
          == ["SIP/2.0 403 Forbidden"], f"SIPp ok={ok}")
    rc2, out2 = ctl("suspend", "lift", "mallory", "--both")
    check("e. `trunkctl suspend lift mallory --both` lifts the IP of the same attempts",
          rc2 == 0 and "lifted IP 127.0.0.1 too" in out2, out2)
    seen = wait_until(lambda: "operator lifted 'mallory'" in log_text("tl3")
                      and "operator lifted '127.0.0.1'" in log_text("tl3"), 10)
    check("e. the running trunkline applies the lift (log: operator lifted ...)", seen,
          log_text("tl3")[-800:])
    rc, ok, bad, out = sipp("lifted", REGISTER_AUTH, good_csv, 1, BAD_PORT, rate=1)
    check("e. after the lift the user registers (200) long before the 60 s are over",
          rc == 0 and ok == 1, f"rc={rc} ok={ok} answers "
          f"{[f for d, f, _ in trace('lifted') if d == 'in']}")
    rc, out = ctl("suspend", "list")
    check("e. `trunkctl suspend list` is empty after the lift", "no active suspensions" in out, out)

    # --- h. a guesser elsewhere cannot lock the real user out (issue 16 item 3) ---------------
    victim, victim_pw = user(7)
    victim_good = write_csv("victim.csv", [auth_row(victim, victim_pw)])
    victim_bad = write_csv("victim-bad.csv", [auth_row(victim, "guess")])
    rc, ok, bad, out = sipp("home1", REGISTER_AUTH, victim_good, 1, BAD_PORT, rate=1)
    check("h. the user registers from its usual address 127.0.0.1", ok == 1, out)
    rc, ok, bad, out = sipp("guess", os.path.join(SIPP_DIR, "register_wrong_password.xml"),
                            victim_bad, 6, BAD_PORT, rate=5, ip="127.0.0.2")
    codes = answers_to_credentials("guess")
    rc, ok, bad, out = sipp("guess7", REGISTER_AUTH, victim_good, 1, BAD_PORT, rate=1,
                            ip="127.0.0.2")
    check("h. 6 wrong passwords from 127.0.0.2 get 401, then even the right one there gets 403",
          codes == [401] * 6 and ok == 0
          and [f for d, f, _ in trace("guess7") if d == "in"][:1] == ["SIP/2.0 403 Forbidden"],
          f"answers {codes}, then {[f for d, f, _ in trace('guess7') if d == 'in']}")
    rc, ok, bad, out = sipp("home2", REGISTER_AUTH, victim_good, 1, BAD_PORT, rate=1)
    check("h. ... while the user keeps registering (200) from 127.0.0.1", ok == 1,
          f"answers {[f for d, f, _ in trace('home2') if d == 'in']}")
    listed = wait_until(lambda: ctl("suspend", "list")[1].count("127.0.0.2") >= 2, 10)
    rc, out = ctl("suspend", "list")
    keys = {l.split()[0]: l.split()[1] for l in out.splitlines()[1:] if len(l.split()) >= 2}
    check("h. `trunkctl suspend list`: the user at 127.0.0.2 and the address 127.0.0.2 (written "
          "behind by the writer thread)",
          listed and keys.get(victim) == "user@127.0.0.2" and keys.get("127.0.0.2") == "ip", out)
    # a restart must not hand the guesser a fresh count
    tl = restart(tl, "tl4", config60, "h. trunkline restarts on the same database")
    rc, ok, bad, out = sipp("guess8", REGISTER_AUTH, victim_good, 1, BAD_PORT, rate=1,
                            ip="127.0.0.2")
    check("h. after the restart 127.0.0.2 is still refused (suspensions restored)",
          ok == 0 and [f for d, f, _ in trace("guess8") if d == "in"][:1]
          == ["SIP/2.0 403 Forbidden"], f"answers {[f for d, f, _ in trace('guess8') if d == 'in']}")
    rc, out = ctl("suspend", "lift", "127.0.0.2")
    check("h. lifting the address lifts the user's suspension at it too",
          rc == 0 and out.startswith("lifted 127.0.0.2")
          and wait_until(lambda: "no active suspensions" in ctl("suspend", "list")[1], 10),
          out + ctl("suspend", "list")[1])

    # --- g. bindings through trunkctl (issue 12 item 8) ---------------------------------------
    u1, u2 = f"sip:{user(1)[0]}@{REALM}", f"sip:{user(2)[0]}@{REALM}"
    rc, out = ctl("binding", "list", user(1)[0])
    lines = out.splitlines()
    check("g. `trunkctl binding list USER` shows the user's binding: AOR, contact, expiry, source",
          rc == 0 and len(lines) == 2 and lines[1].split()[:2] == [u1, f"sip:{user(1)[0]}@127.0.0.1:"
                                                                   f"{UAC_PORT}"]
          and f"udp 127.0.0.1:{UAC_PORT}" in lines[1] and lines[1].endswith(" up"), out)
    rc, out = ctl("binding", "show", u1)
    check("g. `trunkctl binding show AOR`: every field",
          rc == 0 and f"binding {u1}" in out and "Call-ID " in out
          and f"source     udp 127.0.0.1:{UAC_PORT}" in out, out)
    rc, out = ctl("binding", "remove", u1)
    check("g. `trunkctl binding remove AOR` removes it from the database",
          rc == 0 and out == f"removed 1 binding of {u1}\n"
          and not query("SELECT 1 FROM reg_binding WHERE aor = ?", u1), out)
    seen = wait_until(lambda: f"registrar: operator removed 1 binding of {u1}" in log_text("tl4"), 10)
    check("g. ... and the running trunkline removes it from its location service", seen,
          log_text("tl4")[-800:])
    rc, out = ctl("user", "remove", user(2)[0])
    check("g. `trunkctl user remove` removes the user's binding too",
          rc == 0 and out == f"removed user {user(2)[0]} and its 1 binding\n"
          and not query("SELECT 1 FROM reg_binding WHERE aor = ?", u2), out)
    seen = wait_until(lambda: f"registrar: operator removed 1 binding of user '{user(2)[0]}'"
                      in log_text("tl4"), 10)
    check("g. ... in the running trunkline as well", seen, log_text("tl4")[-800:])
    rc, ok, bad, out = sipp("removed-user", REGISTER_AUTH, write_csv("u2.csv", [auth_row(*user(2))]),
                            1, UAC_PORT, rate=1)
    check("g. the removed user cannot register again", ok == 0,
          f"SIPp ok={ok} answers {[f for d, f, _ in trace('removed-user') if d == 'in']}")
except SystemExit:
    pass
finally:
    for p in sipps:
        if p.poll() is None:
            p.kill()
            p.wait()
    if tl is not None:
        rc = stop(tl)
        check("SIGTERM stops trunkline with exit status 0", rc == 0, f"rc={rc}")
    if results.failed():
        for tag in ("tl1", "tl2", "tl3"):
            try:
                print(f"---- {tag}.log (tail)\n" + log_text(tag)[-3000:])
            except FileNotFoundError:
                pass
    shutil.rmtree(work, ignore_errors=True)
    results.write_junit(REPORT, "registrar")

sys.exit(0 if results.passed() else 1)

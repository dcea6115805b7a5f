#!/usr/bin/env python3
"""Several loops reading the UDP port ([sip] udp_threads = 2; DESIGN.md §8 "Several loops").

Starts trunkline with `--udp-threads 2` on 127.0.0.1 and checks, with raw sockets and SIPp:
  a. it starts, says "(2 loops)", holds two sockets on its UDP port and runs a thread named
     udp-reader; a second trunkline on the same port is refused ("address already in use"),
     although the first one set SO_REUSEPORT;
  b. OPTIONS from 32 source ports are all answered 200 with the element's Allow list; a
     retransmission gets the same bytes; /metrics counts them all and shows that the reader
     thread answered some (the kernel spreads the senders over both sockets);
  c. malformed datagrams from 16 source ports each get a 400 naming the fault (what a reader
     cannot parse goes to the switch's loop, which answers it);
  d. 40 users register with MD5 digest auth through SIPp with one socket per registration
     (-t un: 40 source ports over both sockets): 40 successful, every binding in the database;
  e. SIGTERM: trunkline exits 0 and its last count has every request;
  f. with per-message debug lines on, the readers answer nothing themselves: every OPTIONS
     from 16 source ports is answered by the switch's loop and has its log line.
Ports: PORT_BASE .. PORT_BASE + 9. usage: udp_threads_test.py TRUNKLINE SIPP_DIR REPORT PORT_BASE
"""
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import Results, finish, read_text, stop_pid, wait_until  # noqa: E402

TRUNKLINE, SIPP_DIR, REPORT, BASE = (os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]),
                                     os.path.abspath(sys.argv[3]), int(sys.argv[4]))
PORT, API_PORT, SIPP_PORT, SECOND_API = BASE, BASE + 1, BASE + 2, BASE + 3
REALM = "loops.test"
USERS = 40
R = Results()
check = R.check
work = tempfile.mkdtemp(prefix="trunkline-udp-threads-")
DB = os.path.join(work, "trunkline.db")


def start(tag, *extra):
    log = open(os.path.join(work, f"{tag}.log"), "wb")
    p = subprocess.Popen([TRUNKLINE, "--db", DB, "--udp", f"127.0.0.1:{PORT}", "--tcp", "off",
                          "--udp-threads", "2", "--auth-realm", REALM,
                          "--auth-users", os.path.join(work, "users.txt"), *extra],
                         cwd=work, stdout=log, stderr=log)
    log.close()
    return p


def log_of(tag):
    return read_text(os.path.join(work, f"{tag}.log"))


def exchange(payload, wait=3.0):
    """Sends one datagram from a fresh source port; the answer (bytes) or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(wait)
    try:
        s.sendto(payload(s.getsockname()[1]), ("127.0.0.1", PORT))
        return s.recv(65535)
    except socket.timeout:
        return None
    finally:
        s.close()


def options(n):
    return lambda port: (
        f"OPTIONS sip:ping@127.0.0.1:{PORT} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-loops-{n};rport\r\n"
        f"From: <sip:t@127.0.0.1>;tag=f{n}\r\nTo: <sip:ping@127.0.0.1>\r\n"
        f"Call-ID: loops-{n}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def allow_of(answer):
    m = re.search(rb"\r\nAllow: ([^\r]*)", answer)
    return m.group(1) if m else b""


def metric(name):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{API_PORT}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    m = re.search(rf"^{name} (\d+)$", text, re.M)
    return int(m.group(1)) if m else None


def sockets_on_port():
    """How many UDP sockets are bound to 127.0.0.1:PORT (from /proc/net/udp)."""
    want = f"0100007F:{PORT:04X}"
    return sum(1 for line in open("/proc/net/udp") if line.split()[1:2] == [want])


def thread_names(pid):
    names = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            names.append(open(f"/proc/{pid}/task/{tid}/comm").read().strip())
        except OSError:
            pass
    return names


def main():
    with open(os.path.join(work, "users.txt"), "w") as f:
        for i in range(USERS):
            f.write(f"u{i:03d}:pw{i:03d}\n")
    tl = start("tl", "--api", f"127.0.0.1:{API_PORT}")
    try:
        run(tl)
    finally:
        if tl.poll() is None:
            stop_pid(tl, 15)
    tl = start("debug", "--api", f"127.0.0.1:{API_PORT}", "--log-level", "debug")
    try:
        run_debug(tl)
    finally:
        if tl.poll() is None:
            stop_pid(tl, 15)


def run_debug(tl):
    up = wait_until(lambda: "listening" in log_of("debug") or tl.poll() is not None, 20)
    if not check("f. trunkline starts with --udp-threads 2 --log-level debug",
                 up and tl.poll() is None, log_of("debug")[-600:]):
        return
    answers = [exchange(options(1000 + n)) for n in range(16)]
    check("f. OPTIONS from 16 source ports: 16 answered 200",
          all(a and a.startswith(b"SIP/2.0 200 ") for a in answers),
          [a[:40] if a else None for a in answers])
    logged = lambda: sum(f"call-id=loops-{1000 + n} " in log_of("debug") for n in range(16))
    check("f. each has its per-message line: the switch's loop answered all 16",
          wait_until(lambda: logged() == 16), logged())
    check("f. /metrics: the readers answered none themselves",
          metric("trunkline_sip_answered_by_readers_total") == 0,
          metric("trunkline_sip_answered_by_readers_total"))


def run(tl):
    up = wait_until(lambda: "listening" in log_of("tl") or tl.poll() is not None, 20)
    check("a. trunkline starts with --udp-threads 2 and says so",
          up and tl.poll() is None and f"UDP 127.0.0.1:{PORT} (2 loops)" in log_of("tl"),
          log_of("tl")[-600:])
    if tl.poll() is not None:
        return
    check("a. two sockets are bound to its UDP port", sockets_on_port() == 2, sockets_on_port())
    check("a. a thread named udp-reader runs", "udp-reader" in thread_names(tl.pid),
          thread_names(tl.pid))
    second = start("second", "--api", "off")
    rc = finish(second, 20)
    check("a. a second trunkline on the same port is refused: address already in use",
          rc != 0 and "address already in use" in log_of("second"), (rc, log_of("second")[-400:]))

    answers = [exchange(options(n)) for n in range(32)]
    ok = [a for a in answers if a and a.startswith(b"SIP/2.0 200 ")]
    check("b. OPTIONS from 32 source ports: 32 answered 200 with the Allow list",
          len(ok) == 32 and all(allow_of(a) == allow_of(ok[0]) and b"REGISTER" in allow_of(a)
                                for a in ok), [a[:60] if a else None for a in answers])
    # the same request from the same port twice: the same bytes (a stateless UAS, §8.2.7)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(3)
    req = options(99)(s.getsockname()[1])
    got = []
    for _ in range(2):
        s.sendto(req, ("127.0.0.1", PORT))
        try:
            got.append(s.recv(65535))
        except socket.timeout:
            got.append(None)
    s.close()
    check("b. a retransmission gets the same bytes", got[0] is not None and got[0] == got[1], got)
    by_readers = wait_until(lambda: (metric("trunkline_sip_answered_by_readers_total") or 0) > 0)
    check("b. /metrics: the reader thread answered some of them (the senders are spread)",
          by_readers, metric("trunkline_sip_answered_by_readers_total"))
    check("b. /metrics: every OPTIONS is counted once",
          wait_until(lambda: metric("trunkline_sip_requests_received_total") == 34),
          metric("trunkline_sip_requests_received_total"))

    bad = [exchange(lambda port, n=n: (
        f"OPTIONS sip:ping@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-b{n}"
        f"\r\nFrom: <sip:t@127.0.0.1>;tag=b{n}\r\nCall-ID: bad-{n}\r\nCSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n").encode()) for n in range(16)]
    check("c. malformed datagrams from 16 source ports: each a 400 naming the fault",
          all(b and b.startswith(b"SIP/2.0 400 ") and b"To" in b.split(b"\r\n")[0] for b in bad),
          [b.split(b"\r\n")[0] if b else None for b in bad])

    csv = os.path.join(work, "users.csv")
    with open(csv, "w") as f:
        f.write("SEQUENTIAL\n")
        for i in range(USERS):
            u, p = f"u{i:03d}", f"pw{i:03d}"
            f.write(f"{u};{p};{REALM};[authentication username={u} password={p}]\n")
    out = open(os.path.join(work, "sipp.out"), "wb")
    sipp = subprocess.Popen(
        ["sipp", "-sf", os.path.join(SIPP_DIR, "register_auth.xml"), "-inf", csv, "-t", "un",
         "-i", "127.0.0.1", "-p", str(SIPP_PORT), "-m", str(USERS), "-r", "20", "-l", "20",
         "-timeout", "40s", "-recv_timeout", "5000", "-max_socket", "100", "-nostdin",
         f"127.0.0.1:{PORT}"],
        cwd=work, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    rc = finish(sipp, 70)
    text = read_text(os.path.join(work, "sipp.out"))
    good = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", text)
    check(f"d. {USERS} users register with digest auth from {USERS} source ports",
          rc == 0 and good and int(good[-1]) == USERS, text[-800:])

    def bindings():
        try:
            with sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=5) as c:
                return c.execute("SELECT count(*) FROM reg_binding").fetchone()[0]
        except sqlite3.Error:
            return None
    check(f"d. {USERS} bindings reach the database", wait_until(lambda: bindings() == USERS, 15),
          bindings())

    rc, _ = stop_pid(tl, 15)
    m = re.search(r"stopping after (\d+) requests", log_of("tl"))
    check("e. SIGTERM: trunkline exits 0", rc == 0, log_of("tl")[-600:])
    check("e. its last count has every request (34 OPTIONS, 16 malformed, 80 REGISTER)",
          m is not None and int(m.group(1)) >= 34 + 80, m.group(0) if m else log_of("tl")[-400:])


if __name__ == "__main__":
    t0 = time.time()
    try:
        main()
    except Exception as e:  # a crash of the test itself is a failed check, not a silent pass
        check("the test ran to its end", False, repr(e))
    R.wrap_up(REPORT, "udp_threads", t0, work, keep=R.failed())
    sys.exit(1 if R.failed() else 0)

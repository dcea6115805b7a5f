#!/usr/bin/env python3
"""End-to-end checks of the parser-stage `trunkline` with SIPp and raw sockets.

Starts trunkline on 127.0.0.1 with its own ports, runs bounded SIPp scenarios over UDP and
TCP, sends malformed datagrams, and stops trunkline by PID. Writes a JUnit report with one
case per check; exits 1 if any check failed.

usage: stateless_server_test.py TRUNKLINE SIPP_DIR REPORT PORT_BASE
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

TRUNKLINE, SIPP_DIR, REPORT, PORT_BASE = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
PORT = PORT_BASE          # trunkline, UDP and TCP
SIPP_PORT = PORT_BASE + 1
RAW_PORT = PORT_BASE + 2
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import Results  # noqa: E402  (the one JUnit writer of the Python tests)

R = Results()
check = R.check



def sipp(scenario, transport, calls, extra=()):
    cmd = ["sipp", "-sf", os.path.join(SIPP_DIR, scenario), "-t", transport,
           "-i", "127.0.0.1", "-p", str(SIPP_PORT), "-m", str(calls), "-r", "50",
           "-l", "50", "-timeout", "30s", "-recv_timeout", "5000", "-nostdin",
           *extra, f"127.0.0.1:{PORT}"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace")[-2000:]


def udp_exchange(payload, wait=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", RAW_PORT))
    s.settimeout(wait)
    try:
        s.sendto(payload, ("127.0.0.1", PORT))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None
    finally:
        s.close()


def options(cseq_method=b"OPTIONS", via=None):
    via = via or b"SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-raw-1" % RAW_PORT
    return (b"OPTIONS sip:ping@127.0.0.1 SIP/2.0\r\nVia: " + via +
            b"\r\nFrom: <sip:t@127.0.0.1>;tag=77\r\nTo: <sip:ping@127.0.0.1>\r\n"
            b"Call-ID: raw-1@127.0.0.1\r\nCSeq: 5 " + cseq_method +
            b"\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")


def main():
    log = tempfile.NamedTemporaryFile(prefix="trunkline-", suffix=".log", delete=False)
    # its own database in a temporary directory (the default var/trunkline.db would be created
    # in meson's working directory, the build dir)
    dbdir = tempfile.TemporaryDirectory(prefix="trunkline-stateless-")
    proc = subprocess.Popen([TRUNKLINE, "--db", os.path.join(dbdir.name, "trunkline.db"),
                             "--udp", f"127.0.0.1:{PORT}", "--tcp", f"127.0.0.1:{PORT}",
                             "--log-level", "debug"],  # the per-message lines are checked
                            stdout=log, stderr=log)
    try:
        deadline = time.time() + 10
        started = False
        while time.time() < deadline and not started:
            time.sleep(0.05)
            started = b"listening" in open(log.name, "rb").read()
        check("trunkline starts and listens", started)
        if not started:
            return

        rc, out = sipp("options.xml", "u1", 50)
        check("SIPp OPTIONS over UDP: 50 of 50 answered 200", rc == 0, out)
        rc, out = sipp("options.xml", "t1", 20)
        check("SIPp OPTIONS over TCP: 20 of 20 answered 200", rc == 0, out)
        rc, out = sipp("malformed_from.xml", "u1", 5)
        check("SIPp malformed From gets 400 naming the fault (UDP)", rc == 0, out)
        rc, out = sipp("malformed_from.xml", "t1", 5)
        check("SIPp malformed From gets 400 naming the fault (TCP)", rc == 0, out)

        r = udp_exchange(options())
        check("raw OPTIONS gets 200 with Allow, Accept, Supported",
              r is not None and r.startswith(b"SIP/2.0 200 OK\r\n") and b"\r\nAllow: " in r
              and b"\r\nAccept: " in r and b"\r\nSupported:" in r, repr(r))
        check("200 copies Call-ID and CSeq and adds a To tag",
              r is not None and b"Call-ID: raw-1@127.0.0.1\r\n" in r and b"CSeq: 5 OPTIONS\r\n" in r
              and b"To: <sip:ping@127.0.0.1>;tag=" in r, repr(r))
        r = udp_exchange(options(cseq_method=b"INVITE"))
        check("CSeq method mismatch gets 400 with the fault as reason phrase",
              r is not None and r.startswith(b"SIP/2.0 400 CSeq Method Does Not Match Request"), repr(r))
        r = udp_exchange(options().replace(b"SIP/2.0\r\nVia", b"SIP/7.0\r\nVia", 1))
        check("unknown SIP version gets 505", r is not None and r.startswith(b"SIP/2.0 505 "), repr(r))
        r = udp_exchange(b"OPTIONS sip:x SIP/2.0\r\nFrom: garbage\r\n\r\n", wait=0.5)
        check("malformed request without Via/CSeq is dropped (no reply)", r is None, repr(r))
        r = udp_exchange(b"\x00\x01\x02 not sip at all", wait=0.5)
        check("binary garbage is dropped (no reply)", r is None, repr(r))
        r = udp_exchange(options())
        check("server still answers after bad input", r is not None and r.startswith(b"SIP/2.0 200"), repr(r))

        # issue 16: a bare CR in a Call-ID neither comes back in the 400 nor forges a log line
        forged = options().replace(b"Call-ID: raw-1@127.0.0.1", b"Call-ID: cr-1\rFORGED LINE", 1)
        r = udp_exchange(forged)
        check("a Call-ID with a bare CR gets a 400 that carries no bare CR",
              r is not None and r.startswith(b"SIP/2.0 400") and
              r.replace(b"\r\n", b"").find(b"\r") < 0 and b"Call-ID: cr-1 FORGED LINE\r\n" in r,
              repr(r))
        # a flood of 600 requests at once: at most [log] max_lines_per_second (100) message
        # lines per second, and a line counting what was suppressed
        flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        flood.bind(("127.0.0.1", RAW_PORT))
        for i in range(600):
            flood.sendto(options(via=b"SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-flood-%d"
                                 % (RAW_PORT, i)), ("127.0.0.1", PORT))
        flood.close()
        deadline = time.time() + 20
        summary = False
        while time.time() < deadline and not summary:
            time.sleep(0.1)
            summary = b"lines suppressed in 1 s" in open(log.name, "rb").read()
        check("a flood's log lines are capped and the suppressed ones counted", summary,
              open(log.name, "rb").read().decode(errors="replace")[-800:])

        # TCP: a CRLFCRLF keep-alive gets a CRLF pong (RFC 5626 §3.5.1)
        c = socket.create_connection(("127.0.0.1", PORT), timeout=2)
        c.sendall(b"\r\n\r\n")
        pong = c.recv(16)
        c.close()
        check("TCP CRLFCRLF ping gets CRLF pong", pong == b"\r\n", repr(pong))
        # TCP: a message without Content-Length is a framing error: connection closed
        c = socket.create_connection(("127.0.0.1", PORT), timeout=2)
        c.sendall(options().replace(b"Content-Length: 0\r\n", b""))
        try:
            data = c.recv(100)
        except (ConnectionResetError, socket.timeout):
            data = b""
        c.close()
        check("TCP message without Content-Length: connection closed, no reply", data == b"", repr(data))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        text = open(log.name, "rb").read().decode(errors="replace")
        os.unlink(log.name)
        dbdir.cleanup()
    check("SIGTERM stops trunkline with exit status 0", proc.returncode == 0, f"rc={proc.returncode}")
    lines = [l for l in text.splitlines() if " -> " in l or " dropped" in l]
    # 50+20+5+5 SIPp requests and 6 raw ones, one line each (UDP retransmissions may add)
    check("one log line per message", len(lines) >= 86, f"{len(lines)} lines")
    check("exactly the two undecodable datagrams are logged as dropped",
          sum(1 for l in lines if " dropped: offset" in l) == 2, text[-1500:])
    check("the drop is logged with offset and reason",
          any("dropped: offset" in l for l in lines), text[-1500:])
    check("the bare CR is logged escaped, on the same line",
          any("call-id=cr-1\\rFORGED LINE" in l for l in text.splitlines()) and
          not any(l.startswith("FORGED LINE") for l in text.splitlines()), text[-1500:])
    flood_lines = sum(1 for l in text.splitlines() if "z9hG4bK-flood" in l or
                      ("OPTIONS" in l and " -> 200" in l))
    check("at most 100 message lines a second were written during the flood",
          flood_lines < 600, f"{flood_lines} lines")


try:
    main()
finally:
    R.write_junit(REPORT, "stateless_server")
sys.exit(0 if R.passed() else 1)

#!/usr/bin/env python3
"""Whole calls through trunkline's transaction layer, driven by SIPp (RFC 3261 §17).

Starts `trunkline --echo-uas` on 127.0.0.1 with UDP, TCP and TLS listeners and digest users,
then runs bounded SIPp scenarios:
  - calls over UDP and TCP (SIPp's built-in uac: INVITE, 180, 200, ACK, BYE, 200);
  - calls over TLS: Debian's SIPp is built without TLS, so SIPp speaks TCP to a local
    stunnel, which carries the calls over a verified TLS connection to trunkline;
  - calls over UDP with SIPp dropping 10% of packets (-lost 10): every call must still
    complete, through INVITE/BYE retransmissions and trunkline's 2xx retransmissions;
  - REGISTER challenged with 401 and answered with digest credentials, and the same with a
    wrong password (every call must fail: SIPp gets 401 again instead of 200).
Every process is started here with its own ports and stopped by PID. Writes a JUnit report.

usage: calls_test.py TRUNKLINE SIPP_DIR REPORT PORT_BASE
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TRUNKLINE, SIPP_DIR, REPORT, BASE = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
PORT, TLS_PORT, SIPP_PORT, STUNNEL_PORT = BASE, BASE + 1, BASE + 2, BASE + 3
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import Results  # noqa: E402  (the one JUnit writer of the Python tests)

R = Results()
check = R.check



def sipp(args, calls, timeout=60):
    cmd = ["sipp", *args, "-i", "127.0.0.1", "-p", str(SIPP_PORT), "-m", str(calls),
           "-r", "20", "-l", "20", "-timeout", f"{timeout}s", "-recv_timeout", "10000",
           "-nostdin", "-trace_stat", "-stf", os.path.join(work, "stat.csv")]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout + 30, cwd=work)
    out = p.stdout.decode(errors="replace")
    return p.returncode, out


def stats(out):
    """SIPp's final screen: successful and failed call counts."""
    ok = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", out)
    bad = re.findall(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", out)
    return (int(ok[-1]) if ok else -1), (int(bad[-1]) if bad else -1)


def stop(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


work = tempfile.mkdtemp(prefix="trunkline-calls-")
tl = stunnel = None
try:
    # a throw-away certificate for 127.0.0.1, made for this run
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", "key.pem", "-out", "cert.pem", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], cwd=work, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    with open(os.path.join(work, "users"), "w") as f:
        f.write("alice:wonderland\nbob:builder\n")
    with open(os.path.join(work, "good.csv"), "w") as f:
        f.write("SEQUENTIAL\n")
        f.write("alice;wonderland;test.example;[authentication username=alice password=wonderland]\n")
        f.write("bob;builder;test.example;[authentication username=bob password=builder]\n")
    with open(os.path.join(work, "bad.csv"), "w") as f:
        f.write("SEQUENTIAL\n")
        f.write("alice;nope;test.example;[authentication username=alice password=nope]\n")
    log = open(os.path.join(work, "trunkline.log"), "wb")
    # its own database in the temporary directory (the default var/trunkline.db would be
    # created in meson's working directory, the build dir)
    tl = subprocess.Popen([TRUNKLINE, "--echo-uas", "--log-level", "debug",  # per-message lines read
                           "--db", os.path.join(work, "trunkline.db"),
                           "--udp", f"127.0.0.1:{PORT}",
                           "--tcp", f"127.0.0.1:{PORT}", "--tls", f"127.0.0.1:{TLS_PORT}",
                           "--tls-cert", "cert.pem", "--tls-key", "key.pem",
                           # the default digest offer (MD5) is what SIPp answers
                           "--auth-realm", "test.example", "--auth-users", "users"],
                          cwd=work, stdout=log, stderr=log)
    deadline = time.time() + 10
    while time.time() < deadline and b"listening" not in open(log.name, "rb").read():
        time.sleep(0.05)
    check("trunkline starts with UDP, TCP and TLS listeners",
          b"listening" in open(log.name, "rb").read(), open(log.name, "rb").read()[-500:])

    rc, out = sipp(["-sn", "uac", "-t", "u1", f"127.0.0.1:{PORT}"], 20)
    ok, bad = stats(out)
    check("20 calls over UDP complete", rc == 0 and ok == 20 and bad == 0, out[-1500:])

    rc, out = sipp(["-sn", "uac", "-t", "t1", f"127.0.0.1:{PORT}"], 20)
    ok, bad = stats(out)
    check("20 calls over TCP complete", rc == 0 and ok == 20 and bad == 0, out[-1500:])

    with open(os.path.join(work, "stunnel.conf"), "w") as f:
        f.write(f"foreground = yes\npid =\n[sip]\nclient = yes\naccept = 127.0.0.1:{STUNNEL_PORT}\n"
                f"connect = 127.0.0.1:{TLS_PORT}\nCAfile = cert.pem\nverifyChain = yes\n"
                "checkIP = 127.0.0.1\nsslVersionMin = TLSv1.2\n")
    stunnel = subprocess.Popen(["stunnel4", "stunnel.conf"], cwd=work,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    rc, out = sipp(["-sn", "uac", "-t", "t1", f"127.0.0.1:{STUNNEL_PORT}"], 10)
    ok, bad = stats(out)
    text = open(log.name, "rb").read().decode(errors="replace")
    tls_lines = [l for l in text.splitlines() if l[25:].startswith("TLS ") and "INVITE" in l]
    check("10 calls over TLS complete (SIPp -> stunnel -> TLS -> trunkline)",
          rc == 0 and ok == 10 and bad == 0, out[-1500:])
    check("trunkline saw those INVITEs on its TLS listener", len(tls_lines) >= 10,
          f"{len(tls_lines)} TLS INVITE lines")
    stop(stunnel)
    stunnel = None

    rc, out = sipp(["-sn", "uac", "-t", "u1", "-lost", "10", f"127.0.0.1:{PORT}"], 50, timeout=120)
    ok, bad = stats(out)
    check("50 calls over UDP with 10% packet loss all complete (retransmissions)",
          rc == 0 and ok == 50 and bad == 0, out[-1500:])
    # the loss really happened: SIPp's screen counts retransmitted and lost messages per row
    extra = 0
    for line in out.splitlines():
        if "---------->" in line or "<----------" in line:
            nums = [int(t) for t in line.split() if t.isdigit()]
            extra += sum(nums[1:])
    check("...and packets were really lost and retransmitted", extra > 0, out[-1500:])

    rc, out = sipp(["-sf", os.path.join(SIPP_DIR, "register_auth.xml"), "-inf", "good.csv",
                    "-t", "u1", f"127.0.0.1:{PORT}"], 10)
    ok, bad = stats(out)
    check("REGISTER: 401 challenge answered with digest credentials gets 200 (10 of 10)",
          rc == 0 and ok == 10 and bad == 0, out[-1500:])

    rc, out = sipp(["-sf", os.path.join(SIPP_DIR, "register_auth.xml"), "-inf", "bad.csv",
                    "-t", "u1", f"127.0.0.1:{PORT}"], 3)
    ok, bad = stats(out)
    check("REGISTER with a wrong password is refused (0 of 3 succeed)", ok == 0 and bad == 3,
          out[-1500:])
finally:
    stop(stunnel)
    stop(tl)
    if tl is not None:
        check("SIGTERM stops trunkline with exit status 0", tl.returncode == 0, f"rc={tl.returncode}")
    shutil.rmtree(work, ignore_errors=True)
    R.write_junit(REPORT, "calls")

sys.exit(0 if R.passed() else 1)

#!/usr/bin/env python3
"""The management API over HTTPS (issue 11, "TLS optional"): a self-signed certificate made
with openssl in the work directory, [api] tls_cert and tls_key, and a running trunkline:
  - the start-up line says https://; GET /api/calls with a token over TLS, the certificate
    verified against the test's CA file, answers 200; without a token 401; /metrics is served
    on the same listener;
  - `curl --cacert` works too, and a client without that CA refuses the certificate;
  - plain HTTP to the TLS port fails cleanly (the connection is closed, never answered in
    clear, never left hanging), several times over, and the next HTTPS request is answered;
    so is one made while a silent and a half-handshake client hold their connections open;
  - an encrypted key with tls_key_password: libmicrohttpd (GnuTLS) opens what the
    configuration check (OpenSSL) accepted;
  - start-up errors name the key and the file: tls_cert without tls_key, a missing key file,
    a file that is not PEM; --check-config prints the https:// address.
Checks never use wall-clock upper bounds beyond generous limits. Every process is started
here and stopped by PID. Writes a JUnit report.

usage: api_tls_test.py TRUNKLINE TRUNKCTL REPORT PORT_BASE
  PORT_BASE: meson passes integration_port_base + 340; this test uses PORT_BASE .. + 9.
"""
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import Results, api_client, read_text, stop_pid, wait_logged  # noqa: E402

TRUNKLINE, TRUNKCTL, REPORT = (os.path.abspath(a) for a in sys.argv[1:4])
BASE = int(sys.argv[4])
SIP_PORT, API_PORT, SIP_PORT2, API_PORT2 = BASE, BASE + 3, BASE + 5, BASE + 6
results = Results()
check = results.check
T0 = time.time()
WORK = tempfile.mkdtemp(prefix="trunkline-api-tls-")
DB = os.path.join(WORK, "trunkline.db")
CERT, KEY = os.path.join(WORK, "cert.pem"), os.path.join(WORK, "key.pem")
ENC_KEY = os.path.join(WORK, "key.enc.pem")
API = f"https://127.0.0.1:{API_PORT}"
http = api_client(API, ca=CERT)


def log(name="trunkline"):
    return read_text(os.path.join(WORK, f"{name}.log"))


def make_certificate():
    """The self-signed certificate for 127.0.0.1 (it is its own CA) and its key; the key
    encrypted with a password as well."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", KEY, "-out", CERT],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    subprocess.run(["openssl", "pkey", "-in", KEY, "-aes256", "-passout", "pass:s3cret",
                    "-out", ENC_KEY], check=True, timeout=60)


def api_config(port, cert=CERT, key=KEY, extra=""):
    return (f'[api]\nlisten = "127.0.0.1:{port}"\n'
            + (f'tls_cert = "{cert}"\n' if cert else "") + (f'tls_key = "{key}"\n' if key else "")
            + extra)


def start(name, config, sip_port):
    return support.start_trunkline(TRUNKLINE, WORK, name, config, "--db", DB, "--udp",
                                   f"127.0.0.1:{sip_port}", "--tcp", "off")


def run_trunkline(name, config, *args):
    """trunkline with `config` that must end on its own: (exit code, output)."""
    path = os.path.join(WORK, f"{name}.toml")
    with open(path, "w") as f:
        f.write(config)
    p = subprocess.run([TRUNKLINE, "--config", path, "--db", DB, "--udp",
                        f"127.0.0.1:{SIP_PORT2}", "--tcp", "off", *args], cwd=WORK,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace")


def https_checks(token):
    status, _, body = http("GET", "/api/calls", token)
    check("GET /api/calls over HTTPS, the certificate verified: 200 with a JSON list",
          status == 200 and "calls" in json.loads(body), f"{status} {body[:300]}")
    status, headers, body = http("GET", "/api/calls")
    check("no token over HTTPS: 401 with WWW-Authenticate: Bearer",
          status == 401 and headers.get("WWW-Authenticate", "").startswith("Bearer"),
          f"{status} {headers} {body[:200]}")
    status, _, body = http("GET", "/metrics")
    check("/metrics over the same HTTPS listener", status == 200
          and "trunkline_resident_memory_bytes" in body, f"{status} {body[:300]}")
    try:
        support.http("GET", API + "/api/calls", token)  # the system's CAs only
        refused = False
    except urllib.error.URLError as e:
        refused = isinstance(e.reason, ssl.SSLCertVerificationError)
    check("a client without the test's CA refuses the self-signed certificate", refused)


def curl_checks(token):
    p = subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert", CERT, "-H",
                        f"Authorization: Bearer {token}", "-w", "\n%{http_code}",
                        API + "/api/calls"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    out = p.stdout.decode(errors="replace")
    check("curl --cacert CERT https://.../api/calls: 200", p.returncode == 0
          and out.endswith("\n200"), f"{p.returncode} {out[-300:]} {p.stderr.decode()[-300:]}")
    p = subprocess.run(["curl", "-sS", "--max-time", "20", f"http://127.0.0.1:{API_PORT}/metrics"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    check("curl with http:// to the TLS port fails (no answer in clear)",
          p.returncode != 0 and p.returncode != 28 and b"trunkline_" not in p.stdout,
          f"exit {p.returncode} {p.stdout[:200]} {p.stderr[-300:]}")


def plain_request():
    """A plain HTTP request on the TLS port: what came back before the server closed the
    connection, and whether it closed within the bound ("closed" / "timeout")."""
    s = socket.create_connection(("127.0.0.1", API_PORT), timeout=10)
    got = b""
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return got, "closed"
            got += chunk
    except ConnectionResetError:
        return got, "closed"
    except socket.timeout:
        return got, "timeout"
    finally:
        s.close()


def wrong_protocol_checks(token):
    outcomes = [plain_request() for _ in range(5)]
    check("plain HTTP to the TLS port: the connection is closed, 5 times out of 5",
          all(how == "closed" for _, how in outcomes), outcomes)
    check("...and never answered in clear",
          all(b"HTTP/1." not in got and b"trunkline_" not in got for got, _ in outcomes), outcomes)
    try:
        status, _, _ = support.http("GET", f"http://127.0.0.1:{API_PORT}/api/calls", token)
        check("urllib with http:// to the TLS port gets no HTTP answer", False, status)
    except (urllib.error.URLError, ConnectionError, OSError) as e:
        check("urllib with http:// to the TLS port gets no HTTP answer", True, e)
    status, _, body = http("GET", "/api/calls", token)
    check("the next HTTPS request after the plain ones is answered (200)", status == 200,
          f"{status} {body[:200]}")
    # a client that connects and never finishes its handshake waits alone (the loop is not
    # blocked on it; the 30 s idle timeout closes it later)
    silent = socket.create_connection(("127.0.0.1", API_PORT), timeout=10)
    half = socket.create_connection(("127.0.0.1", API_PORT), timeout=10)
    half.sendall(b"\x16\x03\x01\x02\x00\x01")  # the start of a ClientHello, no more
    try:
        status, _, body = http("GET", "/api/calls", token)
        check("HTTPS is answered while a silent and a half-handshake client hold connections",
              status == 200, f"{status} {body[:200]}")
    finally:
        silent.close()
        half.close()


def encrypted_key_checks(token):
    config = api_config(API_PORT2, key=ENC_KEY, extra='tls_key_password = "s3cret"\n')
    p = start("encrypted", config, SIP_PORT2)
    try:
        up = wait_logged(p, os.path.join(WORK, "encrypted.log"), "api: listening", 20)
        check("an encrypted key with tls_key_password: trunkline starts on https://",
              up and f"https://127.0.0.1:{API_PORT2}" in log("encrypted"), log("encrypted")[-800:])
        status, _, _ = support.http("GET", f"https://127.0.0.1:{API_PORT2}/api/calls", token,
                                    ca=CERT)
        check("...and answers over HTTPS (GnuTLS opened the key)", status == 200, status)
    finally:
        rc, _ = stop_pid(p, 15)
        check("...and exits 0 on SIGTERM", rc == 0, log("encrypted")[-800:])


def startup_error_checks():
    cases = [
        ("tls_cert without tls_key", api_config(API_PORT2, key=None), ["api.tls_cert",
                                                                      "set without api.tls_key"]),
        ("a missing key file", api_config(API_PORT2, key=os.path.join(WORK, "nope.pem")),
         ["api.tls_key", os.path.join(WORK, "nope.pem"), "No such file or directory"]),
        ("a certificate file that is not PEM", api_config(API_PORT2, cert=DB),
         ["api.tls_cert", DB, "not a PEM certificate"]),
        ("an encrypted key without tls_key_password", api_config(API_PORT2, key=ENC_KEY),
         ["api.tls_key", ENC_KEY, "tls_key_password"]),
    ]
    for what, config, needles in cases:
        rc, out = run_trunkline("bad", config)
        check(f"{what}: trunkline stops at start (exit 2) naming the key and the file",
              rc == 2 and all(n in out for n in needles), f"exit {rc}: {out[-500:]}")
    rc, out = run_trunkline("check", api_config(API_PORT2), "--check-config")
    check("--check-config prints the API's https:// address and its files",
          rc == 0 and f"api: https://127.0.0.1:{API_PORT2} (certificate {CERT}, key {KEY})" in out,
          f"exit {rc}: {out[-500:]}")


def main():
    tl = None
    try:
        make_certificate()
        token = json.loads(support.ctl(TRUNKCTL, DB, "token", "add", "ops", "--scope", "admin",
                                       "--json", cwd=WORK, must=True)[1])["token"]
        tl = start("trunkline", api_config(API_PORT), SIP_PORT)
        up = wait_logged(tl, os.path.join(WORK, "trunkline.log"), "api: listening", 20)
        if not check("trunkline starts; the start-up line says https://",
                     up and f"api: listening on https://127.0.0.1:{API_PORT}" in log(),
                     log()[-1500:]):
            return
        https_checks(token)
        curl_checks(token)
        wrong_protocol_checks(token)
        check("trunkline still runs after the wrong-protocol clients", tl.poll() is None,
              log()[-800:])
        encrypted_key_checks(token)
        startup_error_checks()
    finally:
        if tl is not None:
            rc, _ = stop_pid(tl, 15)
            check("trunkline exits 0 on SIGTERM", rc == 0, log()[-800:])
        results.wrap_up(REPORT, "api_tls", T0, WORK, os.environ.get("API_TLS_TEST_KEEP"))


main()
sys.exit(0 if results.passed() else 1)

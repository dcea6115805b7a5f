#!/usr/bin/env python3
"""Issue 16: stream admission, the message deadline and large responses, end to end.

Starts trunkline on 127.0.0.1 (UDP, TCP, TLS with a throw-away certificate) with its defaults
and checks, on loopback (sources 127.0.0.x), bounded in count and time:

- one address (127.0.0.2) opening 5,000 TCP connections and holding them keeps at most
  max_connections_per_source of them, and a second client's OPTIONS over TCP and over TLS
  still gets 200; the refusals are logged once, not per connection;
- a header dripped one byte a second is closed by the message deadline (32 s by default;
  the wait is generous and nothing bounds how fast it must happen);
- a 65,000-byte response reaches a TCP client (a request over TCP), and one too large for a
  UDP datagram goes over TCP to the client's sent-by; with nobody listening there, 513;
- a second trunkline with a small max_connections: one address holding all of it gives way
  to a newcomer (its idlest connection is closed).

usage: stream_admission_test.py TRUNKLINE REPORT PORT_BASE
"""
import os
import select
import socket
import ssl
import subprocess
import sys
import tempfile
import time

TRUNKLINE, REPORT, PORT_BASE = sys.argv[1], sys.argv[2], int(sys.argv[3])
PORT = PORT_BASE            # trunkline UDP and TCP
TLS_PORT = PORT_BASE + 1
CLIENT_PORT = PORT_BASE + 2  # a client's UDP socket and TCP listener (its sent-by)
NOBODY_PORT = PORT_BASE + 3  # a client's UDP socket with no TCP listener
PORT2 = PORT_BASE + 4       # the second trunkline (small max_connections), TCP
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import Results, stop_pid, wait_until  # noqa: E402

R = Results()
check = R.check

FLOOD = 5000          # connections from one address
UDP_MAX = 65507       # largest IPv4 UDP payload


def start(args, log):
    proc = subprocess.Popen([TRUNKLINE, *args], stdout=log, stderr=log)
    ok = wait_until(lambda: b"listening" in open(log.name, "rb").read() or proc.poll() is not None,
                    limit=15)
    return proc, bool(ok) and proc.poll() is None


def log_text(log):
    return open(log.name, "rb").read().decode(errors="replace")


def options(transport, port, branch, extra=b""):
    return (b"OPTIONS sip:ping@127.0.0.1 SIP/2.0\r\n"
            b"Via: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bK-%s\r\n" % (transport, port, branch) +
            extra +
            b"From: <sip:t@127.0.0.1>;tag=9\r\nTo: <sip:ping@127.0.0.1>\r\n"
            b"Call-ID: " + branch + b"@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            b"Content-Length: 0\r\n\r\n")


def read_message(sock, limit=10.0):
    """One SIP message from a stream (Content-Length framing); b"" on EOF or timeout."""
    data = b""
    deadline = time.time() + limit
    while time.time() < deadline:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            length = 0
            for line in data[:head_end].split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if len(data) >= head_end + 4 + length:
                return data[:head_end + 4 + length]
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            continue
        except OSError:
            return b""
        if not chunk:
            return b""
        data += chunk
    return b""


def connect_from(src, port, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def options_over_tcp(src, port, branch):
    try:
        s = connect_from(src, port)
        s.sendall(options(b"TCP", port, branch))
        r = read_message(s)
        s.close()
        return r
    except OSError as e:
        return repr(e).encode()


def options_over_tls(src, port, branch):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        s = ctx.wrap_socket(connect_from(src, port), server_hostname="localhost")
        s.sendall(options(b"TLS", port, branch))
        r = read_message(s)
        s.close()
        return r
    except OSError as e:
        return repr(e).encode()


def flood(src, port, count, per_second=1250, limit=90.0):
    """Opens `count` TCP connections from `src`, `per_second` a second (at most 500 connecting
    at once), within `limit` seconds. Returns the sockets whose connect completed."""
    done, pending = [], {}
    t0 = time.time()
    deadline = t0 + limit
    started = 0
    poller = select.poll()
    while (started < count or pending) and time.time() < deadline:
        due = min(count, int((time.time() - t0) * per_second) + 1)
        while started < due and len(pending) < 500:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.bind((src, 0))
            s.connect_ex(("127.0.0.1", port))
            pending[s.fileno()] = s
            poller.register(s, select.POLLOUT)
            started += 1
        for fd, _ in poller.poll(20):
            s = pending.pop(fd)
            poller.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                done.append(s)
            else:
                s.close()
    for s in pending.values():
        s.close()
    return done


def still_open(socks):
    """Those the server has not closed or reset (nothing readable within a short poll)."""
    poller = select.poll()
    by_fd = {}
    for s in socks:
        poller.register(s, select.POLLIN)
        by_fd[s.fileno()] = s
    gone = set()
    for fd, _ in poller.poll(200):
        s = by_fd[fd]
        try:
            if not s.recv(16, socket.MSG_PEEK):
                gone.add(fd)
        except OSError:
            gone.add(fd)
    return [s for s in socks if s.fileno() not in gone]


def readable_within(sock, seconds):
    p = select.poll()
    p.register(sock, select.POLLIN)
    return bool(p.poll(int(seconds * 1000)))


def big_request(transport, port, branch, size):
    """An OPTIONS of exactly `size` bytes: ~230 Via fields (copied into the response; within
    the default max_headers of 256)."""
    base = options(transport, port, branch)
    vias = []
    i = 0
    while len(base) + sum(map(len, vias)) < size - 600:  # ~280 bytes each: ~230 fields
        vias.append(b"Via: SIP/2.0/UDP 192.0.2.%d:5060;branch=z9hG4bK-hop%03d-%s\r\n"
                    % (i % 250 + 1, i, b"x" * 220))
        i += 1
    msg = options(transport, port, branch, b"".join(vias))
    pad = size - len(msg)
    if pad > 0:  # the rest in one more Via's branch
        head = b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-"
        vias.append(head + b"p" * (pad - len(head) - 2) + b"\r\n")
        msg = options(transport, port, branch, b"".join(vias))
    return msg


def large_responses():
    # Over TCP: the answer to a 65,400-byte request (its Vias copied) comes back on the connection.
    req = big_request(b"TCP", PORT, b"big-tcp", 65400)
    s = connect_from("127.0.0.3", PORT)
    s.sendall(req)
    r = read_message(s)
    s.close()
    check("a response of more than 65,000 bytes reaches a TCP client",
          r.startswith(b"SIP/2.0 200 ") and len(r) >= 65000, f"{len(r)} bytes: {r[:80]!r}")
    if not r:
        return
    growth = len(r) - len(req)  # what the answer adds to the request, for the UDP sizes below
    size = UDP_MAX - growth + 40  # its answer is ~40 bytes too large for a datagram
    check("the UDP request itself fits a datagram", size <= UDP_MAX, f"{size}")

    # Over UDP, too large to answer in a datagram: over TCP to the client's sent-by.
    lsn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsn.bind(("127.0.0.1", CLIENT_PORT))
    lsn.listen(4)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", CLIENT_PORT))
    u.sendto(big_request(b"UDP", CLIENT_PORT, b"big-udp", size), ("127.0.0.1", PORT))
    lsn.settimeout(15)
    try:
        conn, _ = lsn.accept()
        r = read_message(conn)
        conn.close()
    except OSError as e:
        r = repr(e).encode()
    check("an answer too large for UDP reaches the client over TCP at its sent-by",
          r.startswith(b"SIP/2.0 200 ") and len(r) > UDP_MAX and b"big-udp" in r,
          f"{len(r)} bytes: {r[:80]!r}")
    lsn.close()
    u.close()

    # Nobody listens on TCP at the sent-by: 513 Message Too Large over UDP.
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", NOBODY_PORT))
    u.settimeout(15)
    u.sendto(big_request(b"UDP", NOBODY_PORT, b"big-513", size), ("127.0.0.1", PORT))
    try:
        r = u.recv(65535)
    except OSError as e:
        r = repr(e).encode()
    u.close()
    check("no TCP listener at the sent-by: 513 over UDP",
          r.startswith(b"SIP/2.0 513 ") and b"big-513" in r, f"{len(r)} bytes: {r[:80]!r}")


def main():
    tmp = tempfile.TemporaryDirectory(prefix="trunkline-admission-")
    cert, key = os.path.join(tmp.name, "cert.pem"), os.path.join(tmp.name, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=localhost"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    log = tempfile.NamedTemporaryFile(prefix="trunkline-admission-", suffix=".log", delete=False)
    proc, started = start(["--db", os.path.join(tmp.name, "t.db"),
                           "--udp", f"127.0.0.1:{PORT}", "--tcp", f"127.0.0.1:{PORT}",
                           "--tls", f"127.0.0.1:{TLS_PORT}", "--tls-cert", cert, "--tls-key", key],
                          log)
    proc2 = None
    try:
        check("trunkline starts with UDP, TCP and TLS", started, log_text(log)[-2000:])
        if not started:
            return
        r = options_over_tcp("127.0.0.3", PORT, b"warmup")
        check("OPTIONS over TCP gets 200 before the flood", r.startswith(b"SIP/2.0 200 "), r[:100])

        # 1. one address, 5,000 connections, held
        t0 = time.time()
        socks = flood("127.0.0.2", PORT, FLOOD)
        held = wait_until(lambda: len(still_open(socks)) <= 64, limit=30, step=1.0)
        alive = still_open(socks)
        print(f"flood: {FLOOD} connects from one address in {time.time() - t0:.1f} s, "
              f"{len(socks)} completed before the server's reset; {len(alive)} held", flush=True)
        check("5,000 connections from one address: 64 (the per-source limit) held, no more",
              held and len(alive) == 64, f"{len(alive)} held")
        r = options_over_tcp("127.0.0.3", PORT, b"during-flood-tcp")
        check("a second client's OPTIONS over TCP gets 200 while they are held",
              r.startswith(b"SIP/2.0 200 "), r[:200])
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.3", 0))
        u.settimeout(5)
        u.sendto(options(b"UDP", u.getsockname()[1], b"during-flood-udp"), ("127.0.0.1", PORT))
        try:
            r = u.recv(65535)
        except OSError as e:
            r = repr(e).encode()
        u.close()
        check("a second client's OPTIONS over UDP gets 200 while they are held",
              r.startswith(b"SIP/2.0 200 "), r[:200])
        r = options_over_tls("127.0.0.3", TLS_PORT, b"during-flood-tls")
        check("a second client's OPTIONS over TLS gets 200 while they are held",
              r.startswith(b"SIP/2.0 200 "), r[:200])
        text = log_text(log)
        lines = [l for l in text.splitlines() if "127.0.0.2" in l]
        check("the refusals are logged once, not per connection",
              0 < len(lines) <= 3, "\n".join(lines[:10]))
        for s in socks:
            s.close()

        # 2. a header dripped one byte a second
        drip = connect_from("127.0.0.4", PORT)
        msg = options(b"TCP", PORT, b"drip")
        t0 = time.time()
        closed_after = None
        for i in range(len(msg)):  # bounded: ~250 s at most, the deadline ends it long before
            try:
                drip.sendall(msg[i:i + 1])
            except OSError:
                closed_after = time.time() - t0
                break
            if readable_within(drip, 1.0):
                try:
                    data = drip.recv(100)
                except OSError:
                    data = b""
                if not data:
                    closed_after = time.time() - t0
                    break
            if time.time() - t0 > 120:  # generous: the default bound is 32 s
                break
        drip.close()
        check("a header dripped one byte a second is closed by the message deadline",
              closed_after is not None and closed_after >= 30,
              f"closed after {closed_after} s" if closed_after else "still open after 120 s")
        text = log_text(log)
        check("the deadline close is logged", "message_timeout" in text, text[-1500:])

        # 3. large responses
        large_responses()

        # 4. a full server: the heaviest source gives way
        conf = os.path.join(tmp.name, "small.toml")
        with open(conf, "w") as f:
            f.write(f'[sip]\nudp = "off"\ntcp = "127.0.0.1:{PORT2}"\nmax_connections = 200\n'
                    f'source_limits = [{{ source = "127.0.0.5", max_connections = 1000, '
                    f'new_connections_per_second = 0 }}]\n')
        log2 = tempfile.NamedTemporaryFile(prefix="trunkline-admission2-", suffix=".log",
                                           delete=False)
        proc2, started2 = start(["--config", conf, "--db", os.path.join(tmp.name, "t2.db")], log2)
        check("a second trunkline starts with max_connections 200 and a source override",
              started2, log_text(log2)[-1500:])
        if started2:
            socks = flood("127.0.0.5", PORT2, 300)
            wait_until(lambda: len(still_open(socks)) <= 200, limit=30, step=1.0)
            before = len(still_open(socks))
            r = options_over_tcp("127.0.0.6", PORT2, b"newcomer")
            check("at max_connections, a newcomer gets 200 (the heaviest source gives way)",
                  r.startswith(b"SIP/2.0 200 "), r[:200])
            after = len(still_open(socks))
            check("one of the heavy source's connections was closed for it",
                  before == 200 and after == 199, f"{before} -> {after}")
            for s in socks:
                s.close()
    finally:
        code, secs = stop_pid(proc)
        check("trunkline stops on SIGTERM", code == 0, f"exit {code} after {secs:.1f} s")
        if proc2:
            stop_pid(proc2)
        text = log_text(log)
        print(text[-3000:], flush=True)
        R.write_junit(REPORT, "integration_stream_admission")
    sys.exit(1 if R.failed() else 0)


if __name__ == "__main__":
    main()

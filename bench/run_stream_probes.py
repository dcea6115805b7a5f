#!/usr/bin/env python3
"""What the stream probes of issue 16 cost trunkline: CPU and memory (README "Security").

  python3 bench/run_stream_probes.py build-dev/server/trunkline [PORT_BASE]

Starts trunkline on 127.0.0.1 (TCP and TLS, a throw-away certificate, --quiet, its defaults
except max_connections = 12000) and measures, from /proc/PID (utime + stime, VmRSS):

  idle TCP    5,000 connections held from 100 sources (50 each), then 30 s of holding them
  idle TLS    5,000 TLS connections (handshake done) held the same way
  flood       one address opening 5,000 connections in 4 s (the per-source limits refuse them)
  slowloris   1,000 connections (20 sources) sending a header one byte a second until the
              message deadline (32 s) closes them

Every wait is bounded; nothing is asserted (tests/integration/stream_admission_test.py does
that). Uses ~11,000 file descriptors: `ulimit -n` must allow it.
"""
import os
import select
import socket
import ssl
import subprocess
import sys
import tempfile
import time

TRUNKLINE = sys.argv[1]
BASE = int(sys.argv[2]) if len(sys.argv) > 2 else 25400
TCP, TLS = BASE, BASE + 1
HZ = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / HZ  # utime + stime


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def connect_many(srcs, per_source, port, limit=120.0):
    """Blocking connects, one per source in turn, each source at most ~16 a second (under
    new_connections_per_second); returns the sockets."""
    socks = []
    deadline = time.time() + limit
    for _ in range(per_source):
        t_round = time.time()
        for src in srcs:
            if time.time() > deadline:
                return socks
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((src, 0))
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", port))
                socks.append(s)
            except OSError:
                s.close()
        time.sleep(max(0.0, t_round + 0.06 - time.time()))
    return socks


def tls_many(sources, per_source, port, limit=300.0):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    out = []
    deadline = time.time() + limit
    for s in connect_many(sources, per_source, port, limit):
        if time.time() > deadline:
            s.close()
            continue
        try:
            out.append(ctx.wrap_socket(s, server_hostname="localhost"))
        except OSError:
            s.close()
    return out


def gone(socks, ms=200):
    """The sockets the server has closed or reset (EOF or an error; data, such as a TLS
    session ticket, is not a close: peeked, not read)."""
    p = select.poll()
    by_fd = {}
    for s in socks:
        p.register(s, select.POLLIN)
        by_fd[s.fileno()] = s
    out = set()
    for fd, _ in p.poll(ms):
        try:
            if not socket.socket.recv(by_fd[fd], 16, socket.MSG_PEEK):
                out.add(fd)
        except OSError:
            out.add(fd)
    return out


def alive(socks):
    g = gone(socks)
    return sum(1 for s in socks if s.fileno() not in g)


def sources(prefix, n):
    return [f"{prefix}.{i}" for i in range(1, n + 1)]


def hold(pid, name, socks, t_open, cpu_open, rss0, secs=30):
    rss_held = rss_kib(pid)
    c0 = cpu_s(pid)
    time.sleep(secs)
    c1 = cpu_s(pid)
    print(f"{name}: {alive(socks)} held; opening them took {t_open:.1f} s and "
          f"{cpu_open:.2f} s of trunkline CPU; RSS {rss0 / 1024:.1f} -> {rss_held / 1024:.1f} MiB "
          f"(+{(rss_held - rss0) / len(socks) if socks else 0:.1f} KiB each); "
          f"holding them {secs} s: {c1 - c0:.2f} s CPU ({(c1 - c0) / secs * 100:.2f} %)",
          flush=True)
    for s in socks:
        s.close()


def main():
    tmp = tempfile.TemporaryDirectory(prefix="stream-probes-")
    cert, key = os.path.join(tmp.name, "c.pem"), os.path.join(tmp.name, "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=localhost"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    conf = os.path.join(tmp.name, "t.toml")
    with open(conf, "w") as f:
        f.write(f'[sip]\nudp = "off"\ntcp = "127.0.0.1:{TCP}"\ntls = "127.0.0.1:{TLS}"\n'
                f'tls_cert = "{cert}"\ntls_key = "{key}"\nmax_connections = 12000\n')
    log = open(os.path.join(tmp.name, "log"), "wb")
    proc = subprocess.Popen([TRUNKLINE, "--config", conf, "--db", os.path.join(tmp.name, "t.db"),
                             "--quiet"], stdout=log, stderr=log)
    pid = proc.pid
    try:
        t0 = time.time()
        while b"listening" not in open(log.name, "rb").read() and time.time() - t0 < 15:
            time.sleep(0.05)
        time.sleep(0.5)
        print(f"trunkline {TRUNKLINE}: RSS at start {rss_kib(pid) / 1024:.1f} MiB", flush=True)

        rss0, c0, t0 = rss_kib(pid), cpu_s(pid), time.time()
        socks = connect_many(sources("127.0.1", 100), 50, TCP)
        time.sleep(1)
        hold(pid, "idle TCP 5,000", socks, time.time() - t0, cpu_s(pid) - c0, rss0)
        time.sleep(2)

        rss0, c0, t0 = rss_kib(pid), cpu_s(pid), time.time()
        socks = tls_many(sources("127.0.2", 100), 50, TLS)
        time.sleep(1)
        hold(pid, "idle TLS 5,000", socks, time.time() - t0, cpu_s(pid) - c0, rss0)
        time.sleep(2)

        # one address, 5,000 connects in 4 s, non-blocking
        rss0, c0, t0 = rss_kib(pid), cpu_s(pid), time.time()
        done, pending, started = [], {}, 0
        poller = select.poll()
        while (started < 5000 or pending) and time.time() - t0 < 60:
            due = min(5000, int((time.time() - t0) * 1250) + 1)
            while started < due and len(pending) < 500:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.bind(("127.0.3.1", 0))
                s.connect_ex(("127.0.0.1", TCP))
                pending[s.fileno()] = s
                poller.register(s, select.POLLOUT)
                started += 1
            for fd, _ in poller.poll(20):
                s = pending.pop(fd)
                poller.unregister(fd)
                done.append(s)
        time.sleep(1)
        held = alive(done)
        print(f"flood from one address: 5,000 connects in {time.time() - t0 - 1:.1f} s, {held} "
              f"held; trunkline CPU {cpu_s(pid) - c0:.2f} s, RSS {rss0 / 1024:.1f} -> "
              f"{rss_kib(pid) / 1024:.1f} MiB", flush=True)
        for s in done:
            s.close()
        time.sleep(2)

        # slowloris: 1,000 connections dripping a header, one byte a second each
        socks = connect_many(sources("127.0.4", 20), 50, TCP)
        rss0, c0, t0 = rss_kib(pid), cpu_s(pid), time.time()
        msg = (b"OPTIONS sip:ping@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-"
               b"drip\r\nFrom: <sip:t@127.0.0.1>;tag=9\r\nTo: <sip:ping@127.0.0.1>\r\n")
        i = 0
        open_socks = list(socks)
        while open_socks and i < len(msg) and time.time() - t0 < 90:
            still = []
            for s in open_socks:
                try:
                    s.send(msg[i:i + 1])
                    still.append(s)
                except OSError:
                    s.close()
            g = gone(still, 0)
            open_socks = [s for s in still if s.fileno() not in g]
            for s in still:
                if s.fileno() in g:
                    s.close()
            i += 1
            time.sleep(max(0.0, t0 + i - time.time()))
        print(f"slowloris, 1,000 connections: all closed after {time.time() - t0:.0f} s "
              f"({i} bytes each); trunkline CPU {cpu_s(pid) - c0:.2f} s, RSS {rss0 / 1024:.1f} -> "
              f"{rss_kib(pid) / 1024:.1f} MiB" if not open_socks else
              f"slowloris: {len(open_socks)} still open after {time.time() - t0:.0f} s", flush=True)
        for s in open_socks:
            s.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        print(open(log.name, "rb").read().decode(errors="replace")[-1500:])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""SIP capture as HEPv3 (issue 11 item 5): trunkline copies every SIP message it receives and
sends to a collector, and a small collector here decodes them.

Runs trunkline (--echo-uas) on 127.0.0.1 with `[capture] hep` pointing at a UDP socket of this
test, exchanges a raw OPTIONS (bytes known exactly), runs a SIPp call over UDP and an OPTIONS
over TCP, and checks each HEP packet chunk by chunk: magic and length, family 2, protocol 17/6,
addresses 127.0.0.1, ports, protocol type 1 (SIP), capture id, auth key, timestamp, the payload
byte for byte, both directions, correlation id = the Call-ID. Then the same over a TCP
collector, a TCP collector that is down (SIP is answered as before, packets counted as
dropped), and bad [capture] settings refused with file, line and key. The captured UDP
messages, rebuilt as a pcap from the HEP chunks, must read as SIP in tshark (installed by
scripts/setup.sh) with none malformed.

usage: hep_test.py TRUNKLINE SIPP_DIR REPORT PORT_BASE
"""
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

TRUNKLINE, SIPP_DIR, REPORT, PORT_BASE = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
PORT = PORT_BASE            # trunkline, UDP and TCP
SIPP_PORT = PORT_BASE + 1
RAW_PORT = PORT_BASE + 2
HEP_UDP = PORT_BASE + 3     # the UDP collector
HEP_TCP = PORT_BASE + 4     # the TCP collector
HEP_DOWN = PORT_BASE + 5    # nobody listens here
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import Results, read_text, stop_pid, wait_logged  # noqa: E402

R = Results()
check = R.check
CAPTURE_ID = 4242
PASSWORD = "s3cret"
# [capture] of the three runs: a UDP collector, a TCP one and a TCP one nobody listens for
UDP_CAPTURE = f'hep = "127.0.0.1:{HEP_UDP}"\nhep_id = {CAPTURE_ID}\nhep_password = "{PASSWORD}"\n'
TCP_CAPTURE = (f'hep = "127.0.0.1:{HEP_TCP}"\nhep_transport = "tcp"\n'
               f'hep_id = {CAPTURE_ID}\nhep_password = "{PASSWORD}"\n')
DOWN_CAPTURE = f'hep = "127.0.0.1:{HEP_DOWN}"\nhep_transport = "tcp"\n'


# --- HEPv3 decoding (sipcapture HEP v3: "HEP3", u16 total length, chunks of
#     {u16 vendor, u16 type, u16 length incl. 6-octet header, value}, network byte order)

def decode(pkt):
    """One packet as {type: value}; raises ValueError on anything malformed."""
    if pkt[:4] != b"HEP3":
        raise ValueError(f"magic {pkt[:4]!r}")
    total = struct.unpack("!H", pkt[4:6])[0]
    if total != len(pkt):
        raise ValueError(f"total length {total} != {len(pkt)}")
    chunks, at = {}, 6
    while at < len(pkt):
        vendor, ctype, clen = struct.unpack("!HHH", pkt[at:at + 6])
        if vendor != 0 or clen < 6 or at + clen > len(pkt):
            raise ValueError(f"chunk at {at}: vendor {vendor} type {ctype} len {clen}")
        chunks[ctype] = pkt[at + 6:at + clen]
        at += clen
    return chunks


def fields(c):
    """The chunks a check needs, as Python values."""
    def u(t):
        return int.from_bytes(c[t], "big") if t in c else None
    v4 = 3 in c
    ntoa = (lambda b: socket.inet_ntop(socket.AF_INET, b)) if v4 else \
        (lambda b: socket.inet_ntop(socket.AF_INET6, b))
    return {
        "family": u(1), "proto": u(2),
        "src": ntoa(c[3 if v4 else 5]), "dst": ntoa(c[4 if v4 else 6]),
        "sport": u(7), "dport": u(8), "sec": u(9), "usec": u(10),
        "type": u(0x0b), "capture_id": u(0x0c), "auth": c.get(0x0e),
        "payload": c.get(0x0f, b""), "correlation": c.get(0x11),
        "sizes": {t: len(c[t]) for t in (1, 2, 7, 8, 9, 10, 0x0b, 0x0c) if t in c},
    }


def call_id(msg):
    m = re.search(rb"^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)", msg, re.I | re.M)
    return m.group(1) if m else None


def read_udp(sock, quiet=0.5):
    """Every datagram until the collector has been quiet for `quiet` seconds."""
    out = []
    sock.settimeout(quiet)
    while True:
        try:
            out.append(sock.recv(70000))
        except socket.timeout:
            return out


def split_stream(buf):
    """HEP packets back to back on a TCP stream."""
    out = []
    while len(buf) >= 6 and buf[:4] == b"HEP3":
        n = struct.unpack("!H", buf[4:6])[0]
        if n < 6 or len(buf) < n:
            break
        out.append(buf[:n])
        buf = buf[n:]
    return out, buf


# --- trunkline and peers

def start_trunkline(work, name, capture):
    p = support.start_trunkline(TRUNKLINE, work, name, "[api]\nenabled = false\n\n[capture]\n" + capture,
                                "--echo-uas", "--db", os.path.join(work, "trunkline.db"),
                                "--udp", f"127.0.0.1:{PORT}", "--tcp", f"127.0.0.1:{PORT}")
    log = os.path.join(work, name + ".log")
    return p, log, wait_logged(p, log, "listening", 10)


def started(work, name, capture, label, collector=None):
    """start_trunkline, its start checked as `label`: (process, log path); (None, log path)
    when it did not start (then stopped, and the test's `collector` socket closed)."""
    tl, log, ok = start_trunkline(work, name, capture)
    check(label, ok, log_text(log)[-500:])
    if not ok:
        stop_pid(tl)
        if collector is not None:
            collector.close()
        return None, log
    return tl, log


def options(branch, cid):
    return (f"OPTIONS sip:ping@127.0.0.1:{PORT} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{RAW_PORT};branch=z9hG4bK-{branch}\r\n"
            f"From: <sip:hep@127.0.0.1>;tag=h1\r\nTo: <sip:ping@127.0.0.1>\r\n"
            f"Call-ID: {cid}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            f"Content-Length: 0\r\n\r\n").encode()


def raw_options(branch, cid):
    """Sends one OPTIONS from RAW_PORT; returns (request bytes, response bytes or None)."""
    req = options(branch, cid)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", RAW_PORT))
    s.settimeout(2)
    try:
        s.sendto(req, ("127.0.0.1", PORT))
        try:
            return req, s.recv(65535)
        except socket.timeout:
            return req, None
    finally:
        s.close()


def sipp(args, calls):
    cmd = ["sipp", *args, "-i", "127.0.0.1", "-p", str(SIPP_PORT), "-m", str(calls),
           "-r", "10", "-timeout", "30s", "-recv_timeout", "5000", "-nostdin",
           f"127.0.0.1:{PORT}"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace")[-1500:]


def write_pcap(pkts, path):
    """The captured UDP messages as a pcap (raw IPv4 + UDP rebuilt from the HEP chunks), what
    Homer does to show a capture."""
    def csum(b):
        s = sum(struct.unpack("!10H", b))
        s = (s & 0xffff) + (s >> 16)
        return ~((s & 0xffff) + (s >> 16)) & 0xffff
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))  # LINKTYPE_RAW
        for p in pkts:
            udp = struct.pack("!HHHH", p["sport"], p["dport"], 8 + len(p["payload"]), 0) + p["payload"]
            src, dst = socket.inet_aton(p["src"]), socket.inet_aton(p["dst"])
            hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
            ip = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + udp
            f.write(struct.pack("<IIII", p["sec"], p["usec"], len(ip), len(ip)) + ip)


def tshark_sip(path):
    """(messages tshark decodes as SIP, malformed ones); None without tshark (a failure)."""
    if shutil.which("tshark") is None:
        return None

    def count(extra):
        out = subprocess.run(["tshark", "-r", path, "-d", f"udp.port=={PORT},sip", *extra],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
        return len(out.stdout.splitlines())
    return count(["-Y", "sip.Call-ID"]), count(["-Y", "_ws.malformed || _ws.expert.severity >= warning"])


log_text = read_text


# --- checks

def check_exchange(label, pkts, req, resp, proto):
    """The raw OPTIONS and its answer, each captured once, every chunk as expected."""
    now = time.time()
    inb = [f for f in pkts if f["payload"] == req]
    out = [f for f in pkts if f["payload"] == resp]
    check(f"{label}: the OPTIONS received is captured once, byte for byte", len(inb) == 1,
          f"{len(inb)} of {len(pkts)} packets")
    check(f"{label}: the 200 sent is captured once, byte for byte", len(out) == 1,
          f"{len(out)} of {len(pkts)} packets")
    if len(inb) != 1 or len(out) != 1:
        return
    i, o = inb[0], out[0]
    check(f"{label}: inbound 127.0.0.1:{RAW_PORT} -> 127.0.0.1:{PORT}",
          (i["src"], i["sport"], i["dst"], i["dport"]) == ("127.0.0.1", RAW_PORT, "127.0.0.1", PORT), i)
    check(f"{label}: outbound 127.0.0.1:{PORT} -> 127.0.0.1:{RAW_PORT}",
          (o["src"], o["sport"], o["dst"], o["dport"]) == ("127.0.0.1", PORT, "127.0.0.1", RAW_PORT), o)
    for d, f in (("inbound", i), ("outbound", o)):
        check(f"{label}: {d}: family 2, protocol {proto}, type 1 (SIP), capture id, auth key",
              (f["family"], f["proto"], f["type"], f["capture_id"], f["auth"]) ==
              (2, proto, 1, CAPTURE_ID, PASSWORD.encode()), f)
        check(f"{label}: {d}: chunk sizes (u8 family/proto/type, u16 ports, u32 time/id)",
              f["sizes"] == {1: 1, 2: 1, 7: 2, 8: 2, 9: 4, 10: 4, 0x0b: 1, 0x0c: 4}, f["sizes"])
        check(f"{label}: {d}: timestamp is now", abs(f["sec"] + f["usec"] / 1e6 - now) < 30
              and f["usec"] < 1_000_000, (f["sec"], f["usec"], now))
        check(f"{label}: {d}: correlation id is the Call-ID",
              f["correlation"] == call_id(req), (f["correlation"], call_id(req)))


def check_call(pkts):
    """A SIPp call over UDP: both directions, each packet correlated with its Call-ID."""
    inv = [f for f in pkts if f["payload"].startswith(b"INVITE ")]
    check("SIPp call: the INVITE received is captured", len(inv) >= 1, len(pkts))
    if not inv:
        return
    cid = call_id(inv[0]["payload"])
    call = [f for f in pkts if f["correlation"] == cid]
    first = lambda f: f["payload"].split(b"\r\n", 1)[0]  # noqa: E731
    starts = [first(f) for f in call]
    inbound = {first(f).split(b" ")[0] for f in call if f["dport"] == PORT}
    outbound = [first(f) for f in call if f["sport"] == PORT]
    check("SIPp call: INVITE, ACK and BYE captured inbound",
          {b"INVITE", b"ACK", b"BYE"} <= inbound, starts)
    check("SIPp call: 200 OK captured outbound",
          any(s.startswith(b"SIP/2.0 200") for s in outbound), starts)
    check("SIPp call: every packet's correlation id is its payload's Call-ID",
          all(call_id(f["payload"]) == f["correlation"] for f in pkts), "mismatch")
    check("SIPp call: UDP packets carry protocol 17 and 127.0.0.1 both ways",
          all(f["proto"] == 17 and f["src"] == f["dst"] == "127.0.0.1" for f in call), call[:1])


def udp_collector_phase(work):
    col = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    col.bind(("127.0.0.1", HEP_UDP))
    tl, log = started(work, "udp", UDP_CAPTURE, "UDP collector: trunkline starts with [capture] hep", col)
    if tl is None:
        return
    try:
        received = []
        req, resp = raw_options("hep-udp-1", "hep-udp-1@127.0.0.1")
        check("UDP collector: the OPTIONS is answered 200",
              resp is not None and resp.startswith(b"SIP/2.0 200"), resp)
        raw = read_udp(col)
        received += raw
        try:
            pkts = [fields(decode(p)) for p in raw]
            check("UDP collector: every datagram is a well-formed HEPv3 packet", len(pkts) >= 2,
                  len(raw))
        except (ValueError, KeyError) as e:
            check("UDP collector: every datagram is a well-formed HEPv3 packet", False, e)
            return
        check_exchange("UDP collector", pkts, req, resp, 17)

        rc, out = sipp(["-sn", "uac", "-t", "u1"], 1)
        check("SIPp call over UDP completes", rc == 0, out)
        raw = read_udp(col)
        received += raw
        check_call([fields(decode(p)) for p in raw])

        udp = [fields(decode(p)) for p in received]
        pcap = os.path.join(work, "hep-udp.pcap")
        write_pcap(udp, pcap)
        got = tshark_sip(pcap)
        check("tshark reads the captured messages (rebuilt from HEP) as SIP, none malformed",
              got == (len(udp), 0), (got, len(udp)) if got is not None else "tshark is missing")

        rc, out = sipp(["-sf", os.path.join(SIPP_DIR, "options.xml"), "-t", "t1"], 1)
        check("SIPp OPTIONS over TCP answered", rc == 0, out)
        raw = read_udp(col)
        received += raw
        tcp = [fields(decode(p)) for p in raw]
        check("SIP over TCP: both directions captured with protocol 6",
              len(tcp) == 2 and all(f["proto"] == 6 for f in tcp) and
              {f["dport"] for f in tcp} >= {PORT} and {f["sport"] for f in tcp} >= {PORT},
              tcp)
    finally:
        rc, _ = stop_pid(tl)
        col.close()
    text = log_text(log)
    m = re.search(r"hep: (\d+) packets sent to 127\.0\.0\.1:(\d+) \(udp\), (\d+) dropped", text)
    check("UDP collector: the stop line counts every packet received, none dropped",
          m is not None and int(m.group(1)) == len(received) and m.group(3) == "0",
          (m and m.groups(), len(received)))
    check("UDP collector: trunkline exits 0", rc == 0, rc)


def tcp_collector_phase(work):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", HEP_TCP))
    srv.listen(4)
    srv.settimeout(5)
    tl, log = started(work, "tcp", TCP_CAPTURE, "TCP collector: trunkline starts with hep_transport = \"tcp\"",
                      srv)
    if tl is None:
        return
    conn = None
    try:
        req, resp = raw_options("hep-tcp-1", "hep-tcp-1@127.0.0.1")
        check("TCP collector: the OPTIONS is answered 200",
              resp is not None and resp.startswith(b"SIP/2.0 200"), resp)
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            check("TCP collector: trunkline connects", False, log_text(log)[-500:])
            return
        conn.settimeout(0.5)
        buf, pkts = b"", []
        deadline = time.time() + 5
        while time.time() < deadline and len(pkts) < 2:
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            if not data:
                break
            got, buf = split_stream(buf + data)
            pkts += got
        check("TCP collector: two HEPv3 packets arrive on the stream, nothing left over",
              len(pkts) == 2 and buf == b"", (len(pkts), buf[:40]))
        check_exchange("TCP collector", [fields(decode(p)) for p in pkts], req, resp, 17)
    finally:
        rc, _ = stop_pid(tl)
        if conn:
            conn.close()
        srv.close()
    text = log_text(log)
    check("TCP collector: the stop line counts 2 sent, 0 dropped",
          "hep: 2 packets sent to 127.0.0.1:%d (tcp), 0 dropped" % HEP_TCP in text, text[-600:])
    check("TCP collector: trunkline exits 0", rc == 0, rc)


def collector_down_phase(work):
    tl, log = started(work, "down", DOWN_CAPTURE, "TCP collector down: trunkline starts anyway")
    if tl is None:
        return
    try:
        answered = 0
        for i in range(5):
            t0 = time.time()
            _, resp = raw_options(f"hep-down-{i}", f"hep-down-{i}@127.0.0.1")
            answered += resp is not None and resp.startswith(b"SIP/2.0 200") and \
                time.time() - t0 < 1.0
            time.sleep(0.2)
        check("TCP collector down: SIP is answered as before (5 of 5, each within 1 s)",
              answered == 5, answered)
        text = log_text(log)
        check("TCP collector down: the failure is logged once with the retry",
              text.count("hep: collector tcp 127.0.0.1:%d" % HEP_DOWN) == 1 and
              "retrying in 1 s" in text, text[-800:])
    finally:
        rc, _ = stop_pid(tl)
    text = log_text(log)
    m = re.search(r"hep: (\d+) packets sent to \S+ \(tcp\), (\d+) dropped", text)
    check("TCP collector down: all 10 packets counted as dropped, none sent",
          m is not None and m.groups() == ("0", "10"), m and m.groups())
    check("TCP collector down: trunkline exits 0", rc == 0, rc)


def bad_config_phase(work):
    for name, body, want in (
            ("badhost", 'hep = "127.0.0.1"\n', r"badhost\.toml:\d+:\d+: capture\.hep: '127\.0\.0\.1' is not HOST:PORT"),
            ("badtransport", 'hep = "127.0.0.1:9060"\nhep_transport = "sctp"\n',
             r"badtransport\.toml:\d+:\d+: capture\.hep_transport: 'sctp' is not \"udp\" or \"tcp\""),
            ("badid", 'hep = "127.0.0.1:9060"\nhep_id = -1\n',
             r"badid\.toml:\d+:\d+: capture\.hep_id: -1 is outside 0\.\.4294967295"),
            ("noname", 'hep = "no-such-host.invalid:9060"\n',
             r"capture\.hep: cannot resolve 'no-such-host\.invalid'")):
        tl, log, ok = start_trunkline(work, name, body)
        try:
            tl.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        text = log_text(log)
        check(f"bad [capture] ({name}) is refused naming the line and key",
              tl.poll() not in (None, 0) and re.search(want, text) is not None, text[-300:])
        stop_pid(tl)


def main():
    work = tempfile.mkdtemp(prefix="trunkline-hep-")
    try:
        udp_collector_phase(work)
        tcp_collector_phase(work)
        collector_down_phase(work)
        bad_config_phase(work)
    finally:
        R.write_junit(REPORT, "integration_hep")
    sys.exit(1 if R.failed() else 0)


if __name__ == "__main__":
    main()

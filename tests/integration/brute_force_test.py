#!/usr/bin/env python3
"""Password guessing against trunkline's registrar from many addresses (issue 16 items 3, 4, 8).

The attacks of the issue, replayed on loopback (each guesser an address of 127.0.0.0/8, every
exchange a plain UDP REGISTER answered before the next one from that address):
  A. trunkline with its defaults (max_tracked included):
     1. 12,000 addresses guess the password of one known user, round robin: every address
        sends one wrong answer per round, 6 rounds (register_retry 6). Then each address tries
        the right password and must get 403: all 12,000 are suspended (so are the user at each
        address), none was flushed out of the failure tables by the others.
     2. Meanwhile the real user keeps registering (200) from its usual address, and a user
        never seen before registers from a fresh address: the flood locks nobody else out.
     3. One address alternating invented user names with guesses at the user is suspended
        after register_retry failures in all, whatever the names.
     4. The suspensions reach the database (written behind, off the loop): 24,000 rows.
     5. The log stays bounded: the per-kind cap suppressed lines and said so.
  B. trunkline with max_tracked 1,000 (so a flood can overfill the tables in a short test):
     one address guesses the user once after every 1,100 failures with invented names from
     1,100 new addresses; it is suspended at its 6th guess (the heavy-hitter tables keep it).
What each part cost trunkline (CPU seconds from /proc, resident memory) is printed.
Every process is started here with its own port and stopped by PID. Writes a JUnit report.

usage: brute_force_test.py TRUNKLINE REPORT PORT_BASE
"""
import hashlib
import itertools
import os
import re
import resource
import selectors
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Results, query_ro, read_text, start_trunkline, stop_pid,  # noqa: E402
                     wait_until)

TRUNKLINE, REPORT = (os.path.abspath(a) for a in sys.argv[1:3])
PORT = int(sys.argv[3])
REALM = "guard.test"
VICTIM, VICTIM_PW = "alice", "alice-secret"
NEWCOMER, NEWCOMER_PW = "carol", "carol-secret"
GUESSERS = 12_000
RETRY = 6
WINDOW = 200          # requests in flight at once (well inside the sockets' buffers)
results = Results()
check = results.check
branches = itertools.count(1)


def guesser_address(i, net=20):
    return f"127.{net}.{i // 250}.{1 + i % 250}"


class Client:
    """One UDP socket at one source address, with its dialog state (Call-ID, CSeq, nonce)."""

    def __init__(self, address, name):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, 0))
        self.sock.setblocking(False)
        self.address, self.port = self.sock.getsockname()
        self.name = name
        self.call_id = f"bf-{self.address}-{self.port}"
        self.cseq = 0
        self.nonce = None

    def register(self, user=None, password=None):
        """A REGISTER for `user` (default: this client's name); with `password`, an MD5
        Authorization answering this client's last nonce."""
        user = user or self.name
        self.cseq += 1
        auth = ""
        if password is not None and self.nonce:
            md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
            uri = f"sip:{REALM}"
            response = md5(f"{md5(f'{user}:{REALM}:{password}')}:{self.nonce}:00000001:"
                           f"0a4f113b:auth:{md5(f'REGISTER:{uri}')}")
            auth = (f'Authorization: Digest username="{user}", realm="{REALM}", '
                    f'nonce="{self.nonce}", uri="{uri}", response="{response}", algorithm=MD5, '
                    f'qop=auth, nc=00000001, cnonce="0a4f113b"\r\n')
        return (f"REGISTER sip:{REALM} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {self.address}:{self.port};branch=z9hG4bKbf{next(branches)};rport\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:{user}@{REALM}>;tag=bf{self.port}\r\n"
                f"To: <sip:{user}@{REALM}>\r\nCall-ID: {self.call_id}\r\n"
                f"CSeq: {self.cseq} REGISTER\r\nContact: <sip:{user}@{self.address}:{self.port}>\r\n"
                f"Expires: 600\r\n{auth}Content-Length: 0\r\n\r\n").encode()

    def take(self, answer):
        """Keeps the nonce of a 401; returns the status code (0: none)."""
        m = re.search(r'[ ,]nonce="([^"]+)"', answer)
        if m:
            self.nonce = m.group(1)
        return int(answer[8:11]) if answer.startswith("SIP/2.0 ") else 0

    def close(self):
        self.sock.close()


class Exchanger:
    """Sends one request per client and collects each client's final answer, WINDOW at a time;
    a request unanswered after 5 s is sent again (up to 3 times). Bounded in count and time."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.resent = 0

    def run(self, pairs):  # [(client, bytes)] -> {client: status code}
        codes, pending = {}, list(pairs)
        for start in range(0, len(pending), WINDOW):
            chunk = pending[start:start + WINDOW]
            for attempt in range(4):
                waiting = {c.sock: (c, msg) for c, msg in chunk if c not in codes}
                if not waiting:
                    break
                if attempt:
                    self.resent += len(waiting)
                for s, (c, msg) in waiting.items():
                    s.sendto(msg, ("127.0.0.1", PORT))
                    self.sel.register(s, selectors.EVENT_READ)
                deadline = time.time() + 5
                while waiting and time.time() < deadline:
                    for key, _ in self.sel.select(timeout=max(0.01, deadline - time.time())):
                        s = key.fileobj
                        try:
                            data = s.recv(65535).decode(errors="replace")
                        except BlockingIOError:
                            continue
                        if data.startswith("SIP/2.0 1"):
                            continue
                        c, _ = waiting.pop(s)
                        codes[c] = c.take(data)
                        self.sel.unregister(s)
                for s in waiting:
                    self.sel.unregister(s)
        return codes


def one(client, msg):
    return Exchanger().run([(client, msg)]).get(client, 0)


def register_with_password(client, password):
    """The usual two legs: challenged, then answered. The final status code."""
    one(client, client.register())
    return one(client, client.register(password=password))


def cpu_and_rss(pid):
    """trunkline's user+system CPU seconds and resident set (bytes), from /proc."""
    fields = read_text(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    rss = int(re.search(r"VmRSS:\s+(\d+)", read_text(f"/proc/{pid}/status")).group(1)) * 1024
    return ticks / os.sysconf("SC_CLK_TCK"), rss


def suspension_rows(db):
    return query_ro(db, "SELECT ip, count(*) FROM reg_suspension GROUP BY ip")


def config(extra=""):
    return f"""[registrar]
realm = "{REALM}"
users_file = "users.txt"
register_suspend = 3600
{extra}
"""


def start(work, name, toml):
    p = start_trunkline(TRUNKLINE, work, name, toml, "--db", os.path.join(work, "t.db"),
                        "--udp", f"127.0.0.1:{PORT}", "--tcp", "off")
    log = os.path.join(work, f"{name}.log")
    up = wait_until(lambda: "listening" in read_text(log) or p.poll() is not None, 20)
    return p, bool(up) and p.poll() is None, log


def part_a(work, tl, log, db):
    ex = Exchanger()
    home = Client("127.0.0.1", VICTIM)
    check("A. the user registers from its usual address 127.0.0.1",
          register_with_password(home, VICTIM_PW) == 200)

    guessers = [Client(guesser_address(i), VICTIM) for i in range(GUESSERS)]
    cpu0, rss0 = cpu_and_rss(tl.pid)
    log0 = os.path.getsize(log)
    t0 = time.time()
    first = ex.run([(c, c.register()) for c in guessers])
    check(f"A1. {GUESSERS:,} addresses are challenged (401 with a nonce)",
          all(first.get(c) == 401 and c.nonce for c in guessers),
          f"{sum(1 for c in guessers if first.get(c) == 401)} got 401")
    home_during, answers = [], []
    for r in range(RETRY):
        answers.append(ex.run([(c, c.register(password=f"guess{r}")) for c in guessers]))
        home_during.append(register_with_password(home, VICTIM_PW))
    check(f"A1. every wrong password in the {RETRY} rounds is answered 401 (none suspended early)",
          all(a.get(c) == 401 for a in answers for c in guessers),
          [sorted({a.get(c) for c in guessers}, key=str) for a in answers])
    final = ex.run([(c, c.register(password=VICTIM_PW)) for c in guessers])
    refused = sum(1 for c in guessers if final.get(c) == 403)
    elapsed = time.time() - t0
    cpu1, rss1 = cpu_and_rss(tl.pid)
    check(f"A1. then even the right password gets 403 at all {GUESSERS:,} addresses "
          "(round robin flushed nobody out)", refused == GUESSERS,
          f"{refused} got 403; others: {sorted({final.get(c) for c in guessers}, key=str)}")
    requests = GUESSERS * (RETRY + 2)
    print(f"  A1 cost: {requests:,} requests in {elapsed:.1f} s ({ex.resent} resent); trunkline "
          f"CPU {cpu1 - cpu0:.2f} s ({(cpu1 - cpu0) / requests * 1e6:.1f} us a request), resident "
          f"{rss0 / 2**20:.1f} -> {rss1 / 2**20:.1f} MiB; log +{os.path.getsize(log) - log0:,} B")
    check("A2. the real user kept registering (200) from 127.0.0.1 after every round",
          home_during == [200] * RETRY, home_during)
    check("A2. ... and after the flood", register_with_password(home, VICTIM_PW) == 200)
    newcomer = Client("127.30.0.1", NEWCOMER)
    check("A2. a user never seen before registers from a fresh address",
          register_with_password(newcomer, NEWCOMER_PW) == 200)
    for c in guessers:
        c.close()

    # 3. invented names between guesses, from one address
    mixer = Client("127.31.0.1", "nobody")
    one(mixer, mixer.register())
    codes = []
    for k in range(60):
        user = VICTIM if k % 10 == 0 else f"invented{k}"
        codes.append(one(mixer, mixer.register(user=user, password=f"guess{k}")))
    check(f"A3. one address mixing invented names with guesses: {RETRY} failures in all, then 403",
          codes == [401] * RETRY + [403] * (60 - RETRY), codes)

    want = [(1, GUESSERS + 1), (2, GUESSERS)]  # + the mixer's address (no user failed there 6 times)
    rows = wait_until(lambda: (r := suspension_rows(db)) == want and r, 30, 0.5)
    check(f"A4. the database holds the {2 * GUESSERS + 2:,} suspensions (addresses and the user "
          "at each), written behind", rows == want, suspension_rows(db))
    text = read_text(log)
    lines = text.count("\n")
    check("A5. the log stayed bounded: the per-kind cap suppressed lines and said how many",
          "lines suppressed" in text and lines < GUESSERS, f"{lines} lines")
    check("A5. the suspensions are logged", "suspended after" in text, text[-1500:])


def part_b(work):
    tl, up, log = start(work, "tl-b", config("max_tracked = 1000"))
    check("B. trunkline starts with max_tracked 1000", up, read_text(log)[-800:])
    if not up:
        return stop_pid(tl)
    ex = Exchanger()
    guesser = Client("127.40.0.1", VICTIM)
    one(guesser, guesser.register())
    flood_cpu0, _ = cpu_and_rss(tl.pid)
    guesses, net = [], 41
    for r in range(RETRY + 1):
        guesses.append(one(guesser, guesser.register(password=f"guess{r}")))
        inventors = [Client(guesser_address(i, net + r), f"invented{r}x{i}") for i in range(1100)]
        ex.run([(c, c.register()) for c in inventors])
        ex.run([(c, c.register(password="x")) for c in inventors])
        for c in inventors:
            c.close()
    flood_cpu1, rss = cpu_and_rss(tl.pid)
    check(f"B. 1,100 invented names from new addresses between guesses: the guesser is answered "
          f"401 {RETRY} times, then 403", guesses == [401] * RETRY + [403], guesses)
    print(f"  B cost: {(RETRY + 1) * 2200:,} flood requests, trunkline CPU "
          f"{flood_cpu1 - flood_cpu0:.2f} s, resident {rss / 2**20:.1f} MiB")
    return stop_pid(tl)


def main():
    work = tempfile.mkdtemp(prefix="trunkline-bruteforce-")
    with open(os.path.join(work, "users.txt"), "w") as f:
        f.write(f"{VICTIM}:{VICTIM_PW}\n{NEWCOMER}:{NEWCOMER_PW}\n")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = GUESSERS + 1000
    if soft < want and (hard == resource.RLIM_INFINITY or hard >= want):
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    t0 = time.time()
    tl = None
    try:
        if not check(f"the test may open {want:,} sockets (RLIMIT_NOFILE {soft}/{hard})",
                     resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= want):
            return
        tl, up, log = start(work, "tl-a", config())
        check("A. trunkline starts with the defaults (register_retry 6)", up, read_text(log)[-800:])
        if up:
            part_a(work, tl, log, os.path.join(work, "t.db"))
        code, _ = stop_pid(tl)
        tl = None
        check("A. trunkline stops on SIGTERM", code == 0, code)
        code, _ = part_b(work)
        check("B. trunkline stops on SIGTERM", code == 0, code)
    finally:
        stop_pid(tl)
        results.wrap_up(REPORT, "integration_brute_force", t0, work,
                        keep=results.failed() or os.environ.get("KEEP_WORK"))
    sys.exit(1 if results.failed() else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Checks `trunkctl user|suspend|trunk-reg` (tools/trunkctl/reg_cmd.cpp) end to end: the built
binary on a temporary database, read back independently with python's sqlite3 and hashlib.
usage: trunkctl_reg_test.py TRUNKCTL REPORT"""
import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time

TRUNKCTL, REPORT = os.path.abspath(sys.argv[1]), sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from support import Results  # noqa: E402  (the one JUnit writer of the Python tests)

R = Results()
check = R.check
outputs = []  # every stdout/stderr text, searched for secrets at the end

tmp = tempfile.TemporaryDirectory(prefix="trunkctl_reg_test.")
DB = os.path.join(tmp.name, "var", "trunkline.db")


def run(*args, stdin=None, db=DB):
    p = subprocess.run([TRUNKCTL, "--db", db, *args], input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30, cwd=tmp.name)
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    outputs.append(out + err)
    return p.returncode, out, err


def query(sql, *params):
    con = sqlite3.connect(DB)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def execute(sql, *params):
    con = sqlite3.connect(DB)
    try:
        con.execute(sql, params)
        con.commit()
    finally:
        con.close()


def h(name, text):
    return hashlib.new(name, text.encode()).hexdigest()


# --- users --------------------------------------------------------------------------------
PW_ALICE, PW_BOB, PW_CAROL, PW_NEW = "Alice-pw-7f3a", "bob pw from stdin", "carol#file#pw", "New-pw-91c2"
rc, out, err = run("user", "add", "alice", "--password", PW_ALICE)
check("user add: exit 0, --db's directory created", rc == 0 and os.path.exists(DB), err)
check("the database file is mode 0600", stat.S_IMODE(os.stat(DB).st_mode) == 0o600,
      oct(os.stat(DB).st_mode))
rc, out, err = run("user", "add", "bob", "--realm", "example.com", stdin=(PW_BOB + "\n").encode())
check("user add without a password option reads one line from stdin", rc == 0, err)
with open(os.path.join(tmp.name, "carol.pw"), "w") as f:
    f.write(PW_CAROL + "\nsecond line ignored\n")
rc, out, err = run("user", "add", "carol", "--password-file", os.path.join(tmp.name, "carol.pw"))
check("user add --password-file: exit 0", rc == 0, err)

rows = {r[0]: r for r in query(
    "SELECT username, realm, ha1_md5, ha1_sha256, ha1_sha512_256, enabled FROM sip_user")}
check("three users stored", sorted(rows) == ["alice", "bob", "carol"], str(sorted(rows)))
for user, realm, pw in (("alice", "trunkline", PW_ALICE), ("bob", "example.com", PW_BOB),
                        ("carol", "trunkline", PW_CAROL)):
    a1 = f"{user}:{realm}:{pw}"
    r = rows.get(user, (None,) * 6)
    check(f"{user}: realm {realm}", r[1] == realm, str(r[1]))
    check(f"{user}: HA1 MD5 = md5(user:realm:password) (python hashlib)", r[2] == h("md5", a1),
          f"{r[2]} != {h('md5', a1)}")
    check(f"{user}: HA1 SHA-256 = sha256(user:realm:password)", r[3] == h("sha256", a1), str(r[3]))
    if "sha512_256" in hashlib.algorithms_available:
        check(f"{user}: HA1 SHA-512-256 = sha512_256(user:realm:password)",
              r[4] == h("sha512_256", a1), str(r[4]))
    check(f"{user}: enabled", r[5] == 1, str(r[5]))
check("the password is stored nowhere in the file",
      all(pw.encode() not in open(DB, "rb").read() for pw in (PW_ALICE, PW_BOB, PW_CAROL)))

rc, out, err = run("user", "add", "alice", "--password", "other")
check("user add of an existing user: exit 1 naming it",
      rc == 1 and "user alice already exists" in err, f"rc={rc} {err}")
check("... and its HA1 is unchanged",
      query("SELECT ha1_md5 FROM sip_user WHERE username='alice'")[0][0]
      == h("md5", f"alice:trunkline:{PW_ALICE}"))

for name, msg in (("a b", "user name 'a b': character ' ' at position 2 is not allowed (RFC 3261 user"),
                  ("x" * 65, "user name " + "x" * 65 + ": 65 characters, at most 64"),
                  ("", "user name is empty (1..64 characters)"),
                  ('bo"b', "user name bo\"b: character '\"' at position 3 is not allowed"),
                  ("al@ice", "user name al@ice: character '@' at position 3 is not allowed")):
    rc, out, err = run("user", "add", name, "--password", "p")
    check(f"user add {name[:12]!r}: exit 2 with the precise message", rc == 2 and msg in err,
          f"rc={rc} {err}")
rc, out, err = run("user", "add", "x" * 64, "--password", "p")
check("a 64-character user name is accepted", rc == 0, err)
rc, out, err = run("user", "add", "+44-1.2_3!~*'()&=+$,;?/", "--password", "p")
check("every RFC 3261 user-unreserved and mark character is accepted", rc == 0, err)
rc, out, err = run("user", "add", "dave", "--password", "p", "--password-file", "f")
check("--password with --password-file: exit 2", rc == 2 and "not both" in err, err)
rc, out, err = run("user", "add", "dave", "--password", "")
check("an empty password: exit 2", rc == 2 and "empty" in err, err)
rc, out, err = run("user", "add", "dave", "--realm", 'a"b', "--password", "p")
check("a realm with a quote: exit 2 naming --realm", rc == 2 and "--realm" in err, err)
rc, out, err = run("user", "add", "dave", stdin=b"")
check("no password on stdin: exit 2", rc == 2 and "no password" in err, err)

rc, out, err = run("user", "list")
lines = out.splitlines()
check("user list: a header and one line per user",
      rc == 0 and lines[0].split() == ["NAME", "REALM", "ENABLED", "CREATED"] and len(lines) == 6,
      out)
bob_line = next((l for l in lines if l.startswith("bob ")), "")
check("user list: name, realm, enabled, created (UTC)",
      bob_line.split()[:3] == ["bob", "example.com", "yes"] and bob_line.endswith(" UTC"), bob_line)

created_before = query("SELECT created_ms FROM sip_user WHERE username='bob'")[0][0]
time.sleep(0.01)
rc, out, err = run("user", "passwd", "bob", "--password", PW_NEW)
r = query("SELECT realm, ha1_md5, created_ms, updated_ms FROM sip_user WHERE username='bob'")[0]
check("user passwd: new HA1 with the user's current realm, created kept",
      rc == 0 and r[0] == "example.com" and r[1] == h("md5", f"bob:example.com:{PW_NEW}")
      and r[2] == created_before and r[3] > created_before, f"rc={rc} {err} {r}")
rc, out, err = run("user", "passwd", "bob", "--realm", "new.example", "--password", PW_NEW)
r = query("SELECT realm, ha1_sha256 FROM sip_user WHERE username='bob'")[0]
check("user passwd --realm: realm and HA1 follow",
      rc == 0 and r == ("new.example", h("sha256", f"bob:new.example:{PW_NEW}")), str(r))
rc, out, err = run("user", "passwd", "zed", "--password", "p")
check("user passwd of an unknown user: exit 1 naming it", rc == 1 and "no user zed" in err, err)

# carol has two bindings (written by trunkline), dave one: removing carol removes hers
bnow = int(time.time() * 1000)
# (contact_key: Location::contact_key(), the contact itself for these plain URIs)
for aor, contact, src in (("sip:carol@trunkline", "sip:carol@192.0.2.31:5060", "192.0.2.31"),
                          ("sip:carol@example.com", "sip:carol@192.0.2.32:5060", "192.0.2.32"),
                          ("sip:dave@trunkline", "sip:dave@192.0.2.33:5062", "192.0.2.33")):
    execute("INSERT INTO reg_binding(aor, contact_key, contact, q, expires_ms, call_id, cseq, "
            "source_transport, source_host, source_port) VALUES (?, ?, ?, NULL, ?, 'cid', 1, 'UDP', "
            "?, 5060)", aor, contact, contact, bnow + 600_000, src)
rc, out, err = run("user", "remove", "carol")
check("user remove: exit 0", rc == 0 and not query("SELECT 1 FROM sip_user WHERE username='carol'"),
      err)
check("user remove: the user's bindings are gone too, others stay (issue 12 item 8)",
      out == "removed user carol and its 2 bindings\n"
      and [r[0] for r in query("SELECT aor FROM reg_binding")] == ["sip:dave@trunkline"], out)
check("user remove: the running trunkline is told ('unbind-user carol')",
      query("SELECT kind, arg FROM reg_command") == [("unbind-user", "carol")],
      str(query("SELECT kind, arg FROM reg_command")))
execute("DELETE FROM reg_command")
rc, out, err = run("user", "remove", "carol")
check("user remove of a missing user: exit 1", rc == 1 and "no user carol" in err, err)
rc, out, err = run("user", "list")
check("a removed user is not listed", rc == 0 and "carol" not in out, out)
rc, out, err = run("user", "frobnicate")
check("an unknown user subcommand: exit 2", rc == 2 and "unknown subcommand" in err, err)
for args in (("user", "--help"), ("user", "add", "--help"), ("suspend", "--help"),
             ("trunk-reg", "--help"), ("trunk-reg", "show", "--help"), ("--help",)):
    rc, out, err = run(*args)
    check(f"{' '.join(args)}: usage on stdout, exit 0", rc == 0 and "usage" in out, err)
rc, out, err = run("--help")
check("the main help lists user, binding, suspend and trunk-reg",
      all(f"\n  {c} " in out for c in ("user", "binding", "suspend", "trunk-reg")), out)
check("the main help introduces the softswitch's tool, not a billing tool (issue 12 item 8)",
      "The operators' tool of the Trunkline softswitch: registration" in out
      and "Operators' tool for Trunkline billing" not in out, out)

# --- binding (issue 12 item 8) ---------------------------------------------------------------
execute("INSERT INTO reg_binding(aor, contact_key, contact, q, expires_ms, call_id, cseq, "
        "source_transport, source_host, source_port, down) VALUES ('sip:dave@trunkline', "
        "'sip:dave@192.0.2.34:5070', 'sip:dave@192.0.2.34:5070', 500, ?, 'cid-2', 7, 'TCP', "
        "'192.0.2.34', 40000, 1), ('sip:old@trunkline', 'sip:old@192.0.2.35', "
        "'sip:old@192.0.2.35', NULL, ?, 'cid-3', 1, 'UDP', "
        "'192.0.2.35', 5060, 0)", bnow + 300_000, bnow - 1_000)
rc, out, err = run("binding", "list")
lines = out.splitlines()
check("binding list: a header and one line per live binding (expired rows left out)",
      rc == 0 and len(lines) == 3 and lines[0].split() == ["AOR", "CONTACT", "EXPIRES", "LEFT",
                                                           "SOURCE", "STATE"]
      and "sip:old@" not in out, out)
d2 = next((l for l in lines if "192.0.2.34" in l), "").split()
check("binding list: AOR, contact, expiry in UTC, seconds left, source, down",
      d2[:2] == ["sip:dave@trunkline", "sip:dave@192.0.2.34:5070"] and d2[4] == "UTC"
      and d2[6] == "s" and d2[7:] == ["tcp", "192.0.2.34:40000", "down"], out)
rc, out, err = run("binding", "list", "nobody")
check("binding list USER without bindings", rc == 0 and out == "no bindings of nobody\n", out)
rc, out, err = run("binding", "show", "dave")
for needle in ("binding sip:dave@trunkline", "contact    sip:dave@192.0.2.34:5070", "q          0.5",
               "Call-ID    cid-2", "CSeq       7", "source     tcp 192.0.2.34:40000",
               "reachable  no (keep-alive OPTIONS unanswered)", "q          1.0 (default)"):
    check(f"binding show dave: '{' '.join(needle.split())}'", rc == 0 and needle in out, out)
rc, out, err = run("binding", "show", "sip:nobody@trunkline")
check("binding show of an AOR without bindings: exit 1", rc == 1 and "no bindings of" in err, err)
rc, out, err = run("binding", "remove", "sip:dave@TRUNKLINE", "sip:dave@192.0.2.34:5070")
check("binding remove AOR CONTACT: that one binding (the AOR's host compared case-insensitively)",
      rc == 0 and out == "removed 1 binding of sip:dave@trunkline\n"
      and len(query("SELECT 1 FROM reg_binding WHERE aor='sip:dave@trunkline'")) == 1, out + err)
rc, out, err = run("binding", "remove", "dave")
check("binding remove USER: every binding of the user",
      rc == 0 and out == "removed 1 binding of user dave\n"
      and not query("SELECT 1 FROM reg_binding WHERE aor='sip:dave@trunkline'"), out + err)
check("binding remove queued 'unbind' commands for the running trunkline",
      query("SELECT kind, arg FROM reg_command ORDER BY id") ==
      [("unbind", "sip:dave@trunkline sip:dave@192.0.2.34:5070"), ("unbind-user", "dave")],
      str(query("SELECT kind, arg FROM reg_command")))
execute("DELETE FROM reg_command")
rc, out, err = run("binding", "remove", "dave", "sip:dave@192.0.2.34")
check("binding remove USER CONTACT: exit 2 (a contact needs the AOR)", rc == 2, err)
rc, out, err = run("binding", "show")
check("binding show without USER|AOR: exit 2", rc == 2 and "needs USER|AOR" in err, err)
rc, out, err = run("binding", "list", "bad user")
check("binding list with a bad user name: exit 2", rc == 2, err)
rc, out, err = run("binding", "--help")
check("binding --help: usage on stdout", rc == 0 and "trunkctl binding remove" in out, err)

# --- suspend -------------------------------------------------------------------------------
now = int(time.time() * 1000)
execute("INSERT INTO reg_suspension(key, ip, until_ms) VALUES ('alice', 0, ?), "
        "('192.0.2.7', 1, ?), ('expired', 0, ?)", now + 300_000, now + 60_000, now - 1_000)
rc, out, err = run("suspend", "list")
lines = out.splitlines()
check("suspend list: only future rows, soonest first",
      rc == 0 and len(lines) == 3 and lines[1].startswith("192.0.2.7 ")
      and lines[2].startswith("alice ") and "expired" not in out, out)
f = lines[2].split() if len(lines) > 2 else []
check("suspend list: key, kind, until in UTC, remaining seconds",
      f[:2] == ["alice", "user"] and f[4] == "UTC" and f[5].isdigit()
      and 290 <= int(f[5]) <= 300 and f[6] == "s"
      and lines[1].split()[1] == "ip", out)
rc, out, err = run("suspend", "lift", "alice")
check("suspend lift of a suspended key: 'lifted alice'", rc == 0 and out == "lifted alice\n", out)
check("... its rows are gone", not query("SELECT 1 FROM reg_suspension WHERE key='alice'"))
rc, out, err = run("suspend", "lift", "expired")
check("suspend lift of an expired suspension: 'expired is not suspended'",
      rc == 0 and out == "expired is not suspended\n", out)
rc, out, err = run("suspend", "lift", "nobody")
check("suspend lift of an unknown key: 'nobody is not suspended'",
      rc == 0 and out == "nobody is not suspended\n", out)
cmds = query("SELECT kind, arg FROM reg_command ORDER BY id")
check("every lift queued a 'lift' command for the running trunkline",
      cmds == [("lift", "alice"), ("lift", "expired"), ("lift", "nobody")], str(cmds))
rc, out, err = run("suspend", "lift")
check("suspend lift without KEY: exit 2", rc == 2 and "needs KEY" in err, err)

# issue 12 item 8: one failed attempt suspended the user and its source IP; lifting the user
# leaves the IP (and the user still gets 403 from there): said, and --both lifts both
execute("DELETE FROM reg_suspension")
execute("DELETE FROM reg_command")
now = int(time.time() * 1000)
execute("INSERT INTO reg_suspension(key, ip, until_ms, peer) VALUES ('mallory', 0, ?, '192.0.2.66'), "
        "('192.0.2.66', 1, ?, 'mallory'), ('192.0.2.99', 1, ?, 'eve')",
        now + 120_000, now + 120_000, now + 120_000)
rc, out, err = run("suspend", "lift", "mallory")
check("suspend lift USER: the same attempts' IP suspension is named, with how to lift it",
      rc == 0 and out.startswith("lifted mallory\nnote: IP 192.0.2.66 is still suspended until ")
      and "every REGISTER from that address gets 403, mallory's too" in out
      and "`trunkctl suspend lift 192.0.2.66`" in out and "--both" in out
      and "192.0.2.99" not in out, out)
check("... the IP suspension stays",
      query("SELECT key FROM reg_suspension ORDER BY key") == [("192.0.2.66",), ("192.0.2.99",)])
execute("INSERT INTO reg_suspension(key, ip, until_ms, peer) VALUES ('mallory', 0, ?, '192.0.2.66')",
        now + 120_000)
rc, out, err = run("suspend", "lift", "mallory", "--both")
check("suspend lift USER --both: both lifted",
      rc == 0 and out == "lifted mallory\nlifted IP 192.0.2.66 too (suspended by the same failed "
                         "attempts)\n"
      and query("SELECT key FROM reg_suspension") == [("192.0.2.99",)], out)
check("... and both lifts queued for the running trunkline",
      query("SELECT kind, arg FROM reg_command ORDER BY id") ==
      [("lift", "mallory"), ("lift", "mallory"), ("lift", "192.0.2.66")],
      str(query("SELECT kind, arg FROM reg_command ORDER BY id")))

# --- trunk-reg -----------------------------------------------------------------------------
TPW = "Carrier-Secret-55x"
rc, out, err = run("trunk-reg", "add", "carrier-a", "--server", "sip.carrier.example", "--user",
                   "4420001", "--password", TPW)
check("trunk-reg add (defaults): exit 0", rc == 0, err)
with open(os.path.join(tmp.name, "c2.pw"), "w") as f:
    f.write("file-pw-2\n")
rc, out, err = run("trunk-reg", "add", "c2", "--server", "192.0.2.10", "--port", "5080",
                   "--transport", "tcp", "--outbound-proxy", "[2001:db8::1]:5070", "--user",
                   "+4420002", "--domain", "carrier.example", "--auth-user", "auth2",
                   "--password-file", os.path.join(tmp.name, "c2.pw"), "--contact-host",
                   "198.51.100.7", "--contact-port", "5090", "--expires", "auto",
                   "--retry-delay", "45", "--privacy", "id", "--send-unregister", "off",
                   "--disabled")
check("trunk-reg add with every option: exit 0", rc == 0, err)
COLS = ("server, port, transport, outbound_proxy, aor_user, aor_domain, auth_user, password, "
        "contact_host, contact_port, expires_s, retry_delay_s, privacy, send_unregister, enabled")
r = query(f"SELECT {COLS} FROM trunk_reg WHERE name='c2'")
check("every option is stored (expires auto = 0)",
      r == [("192.0.2.10", 5080, "TCP", "[2001:db8::1]:5070", "+4420002", "carrier.example",
             "auth2", "file-pw-2", "198.51.100.7", 5090, 0, 45, "id", 0, 0)], str(r))
r = query(f"SELECT {COLS} FROM trunk_reg WHERE name='carrier-a'")
check("unset options stay unset (trunkline's defaults)",
      r == [("sip.carrier.example", 0, "UDP", "", "4420001", "", "", TPW, "", 0, None, None,
             None, None, 1)], str(r))
rc, out, err = run("trunk-reg", "add", "carrier-a", "--server", "x.example", "--user", "u",
                   "--password", "p")
check("trunk-reg add of an existing entry: exit 1 naming it",
      rc == 1 and "trunk-reg carrier-a already exists" in err, err)

BASE = ("trunk-reg", "add", "zz", "--server", "h.example", "--user", "u", "--password", "p")
for opt, val, msg in (
        ("--expires", "10", "--expires 10: outside 20..7200 s (or auto)"),
        ("--expires", "7201", "--expires 7201: outside 20..7200 s (or auto)"),
        ("--expires", "soon", "--expires soon: not seconds (20..7200) or auto"),
        ("--retry-delay", "29", "--retry-delay 29: outside 30..600 s"),
        ("--retry-delay", "601", "--retry-delay 601: outside 30..600 s"),
        ("--port", "0", "--port 0: outside 1..65535"),
        ("--port", "65536", "--port 65536: outside 1..65535"),
        ("--port", "x1", "--port x1: not a port number (1..65535)"),
        ("--contact-port", "70000", "--contact-port 70000: outside 1..65535"),
        ("--transport", "sctp", "--transport sctp: use udp, tcp or tls"),
        ("--privacy", "full", "--privacy full: use ignore, id or none"),
        ("--send-unregister", "yes", "--send-unregister yes: use on or off"),
        ("--server", "sip.example:5060",
         "--server sip.example:5060: not a host name or IP address (give the port with --port)"),
        ("--server", "bad host", "--server 'bad host': not a host name or IP address"),
        ("--outbound-proxy", "proxy:99999", "--outbound-proxy proxy:99999: not HOST[:PORT]"),
        ("--domain", "-bad-", "--domain -bad-: not a host name or IP address"),
        ("--contact-host", "a..b", "--contact-host a..b: not a host name or IP address"),
        ("--user", "a b", "--user 'a b': character ' ' at position 2 is not allowed"),
        ("--auth-user", 'x"y', "--auth-user x\"y: character '\"' is not allowed")):
    rc, out, err = run(*BASE, opt, val)
    check(f"trunk-reg add {opt} {val}: exit 2, precise message", rc == 2 and msg in err,
          f"rc={rc} {err!r}")
check("no invalid entry was stored", not query("SELECT 1 FROM trunk_reg WHERE name='zz'"))
rc, out, err = run("trunk-reg", "add", "zz", "--user", "u", "--password", "p")
check("trunk-reg add without --server: exit 2", rc == 2 and "needs --server" in err, err)
rc, out, err = run("trunk-reg", "add", "zz", "--server", "h.example", "--password", "p")
check("trunk-reg add without --user: exit 2", rc == 2 and "needs --user" in err, err)
rc, out, err = run("trunk-reg", "add", "bad/name", "--server", "h", "--user", "u", "--password", "p")
check("trunk-reg add with a bad NAME: exit 2, precise message",
      rc == 2 and "trunk-reg name bad/name: character '/' at position 4 is not allowed" in err, err)
rc, out, err = run("trunk-reg", "add", "zz", "--server", "h", "--user", "u", "--password", "p",
                   "--bogus")
check("an unknown option: exit 2", rc == 2 and "unknown option --bogus" in err, err)
rc, out, err = run(*BASE, "--expires", "20", "--retry-delay", "600")
check("the range limits themselves are accepted", rc == 0, err)

before = query(f"SELECT {COLS} FROM trunk_reg WHERE name='c2'")[0]
rc, out, err = run("trunk-reg", "set", "c2", "--expires", "3600", "--enabled")
after = query(f"SELECT {COLS} FROM trunk_reg WHERE name='c2'")[0]
changed = {i for i in range(len(before)) if before[i] != after[i]}
check("trunk-reg set changes only the given fields",
      rc == 0 and changed == {10, 14} and after[10] == 3600 and after[14] == 1,
      f"rc={rc} {err} {before} -> {after}")
rc, out, err = run("trunk-reg", "set", "c2", "--privacy", "default", "--outbound-proxy", "")
r = query("SELECT privacy, outbound_proxy, password FROM trunk_reg WHERE name='c2'")[0]
check("trunk-reg set: 'default' and '' restore trunkline's defaults; password kept",
      rc == 0 and r == (None, "", "file-pw-2"), str(r))
rc, out, err = run("trunk-reg", "set", "c2", "--expires", "5")
check("trunk-reg set validates like add", rc == 2 and "--expires 5: outside 20..7200 s" in err, err)
rc, out, err = run("trunk-reg", "set", "nope", "--port", "5060")
check("trunk-reg set of an unknown entry: exit 1 naming it", rc == 1 and "no trunk-reg nope" in err,
      err)
rc, out, err = run("trunk-reg", "set", "c2")
check("trunk-reg set without options: exit 2", rc == 2, err)

now = int(time.time() * 1000)
execute("INSERT INTO trunk_reg_state(name, call_id, cseq, contact_uri, state, reason, expires_ms, "
        "next_attempt_ms, last_code, last_reason_phrase, consecutive_failures, updated_ms, "
        "clean_stop) VALUES ('carrier-a', 'cid-77@host', 42, 'sip:4420001@198.51.100.7:5060', "
        "'registered', 'refreshed', ?, ?, 200, 'OK', 2, ?, 0)", now + 3_600_000, now + 3_540_000, now)
rc, out, err = run("trunk-reg", "list")
lines = out.splitlines()
a_line = next((l for l in lines if l.startswith("carrier-a ")), "")
c_line = next((l for l in lines if l.startswith("c2 ")), "")
check("trunk-reg list: name, server:port/transport, user, state, expires-at",
      rc == 0 and a_line.split()[:4] == ["carrier-a", "sip.carrier.example:SRV/udp", "4420001",
                                         "registered"] and a_line.endswith(" UTC"), out)
check("trunk-reg list: '-' without a state row",
      c_line.split()[:5] == ["c2", "192.0.2.10:5080/tcp", "+4420002", "-", "-"], out)
rc, out, err = run("trunk-reg", "show", "carrier-a")
check("trunk-reg show: the password as ********", rc == 0 and "password         ********" in out, out)
for needle in ("server           sip.carrier.example", "user             4420001",
               "state                 registered", "reason                refreshed",
               "last response         200 OK", "consecutive failures  2",
               "Call-ID               cid-77@host", "CSeq                  42",
               "contact               sip:4420001@198.51.100.7:5060"):
    check(f"trunk-reg show: '{' '.join(needle.split())}'", needle in out, out)
until = next((l for l in out.splitlines() if "registered until" in l), "")
check("trunk-reg show: registered until in UTC and remaining seconds",
      " UTC (in 3" in until and until.rstrip().endswith(" s)"), until)
check("trunk-reg show: no address row content before trunkline recorded one",
      "registrar address     -" in out and "\n  dns " not in out, out)
# issue 12 items 5, 6, 7: the address in use, what DNS says, and an honest clean stop
execute("UPDATE trunk_reg_state SET registrar = '192.0.2.10:5060/UDP', "
        "dns_name = 'sip.carrier.example', dns_state = 'failed', "
        "dns_error = 'NXDOMAIN (A sip.carrier.example: NXDOMAIN)', dns_since_ms = ? "
        "WHERE name = 'carrier-a'", now - 30_000)
rc, out, err = run("trunk-reg", "show", "carrier-a")
check("trunk-reg show: the registrar address in use",
      "registrar address     192.0.2.10:5060/UDP" in out, out)
dns = next((l for l in out.splitlines() if l.startswith("  dns ")), "")
check("trunk-reg show: the DNS failure, since when, and that the registration stays",
      "sip.carrier.example: failed, NXDOMAIN (A sip.carrier.example: NXDOMAIN), failing since "
      in dns and " UTC (30 s ago)" in dns
      and "the registration stays at the last good address" in dns, dns)
execute("UPDATE trunk_reg_state SET dns_state = 'stale', dns_until_ms = ? WHERE name = 'carrier-a'",
        now + 270_000)
rc, out, err = run("trunk-reg", "show", "carrier-a")
dns = next((l for l in out.splitlines() if l.startswith("  dns ")), "")
check("trunk-reg show: a stale answer in use, until when",
      "sip.carrier.example: stale, " in dns and "the last answer is used past its TTL until " in dns
      and " UTC (in 2" in dns, dns)
execute("UPDATE trunk_reg_state SET state = 'stopped', reason = 'stopped: unregister not answered "
        "within 5 s; the binding may stay at the registrar until it expires', clean_stop = 0 "
        "WHERE name = 'carrier-a'")
rc, out, err = run("trunk-reg", "show", "carrier-a")
check("trunk-reg show: an unanswered unregister is no clean stop",
      "clean stop            no (the carrier may keep the binding until it expires" in out, out)
execute("UPDATE trunk_reg_state SET reason = 'stopped: never registered (the registrar never "
        "answered), nothing to unregister', clean_stop = 1 WHERE name = 'carrier-a'")
rc, out, err = run("trunk-reg", "show", "carrier-a")
check("trunk-reg show: a never-registered entry stopped cleanly, nothing to remove",
      "clean stop            yes (nothing to remove at the carrier: see reason)" in out
      and "never registered (the registrar never answered)" in out, out)
rc, out, err = run("trunk-reg", "show", "c2")
check("trunk-reg show of an entry without state says so",
      rc == 0 and "live state: none recorded" in out and "auth user        auth2" in out, out)
rc, out, err = run("trunk-reg", "show", "nope")
check("trunk-reg show of an unknown entry: exit 1", rc == 1 and "no trunk-reg nope" in err, err)
rc, out, err = run("trunk-reg", "remove", "c2")
check("trunk-reg remove: exit 0", rc == 0 and not query("SELECT 1 FROM trunk_reg WHERE name='c2'"),
      err)
rc, out, err = run("trunk-reg", "remove", "c2")
check("trunk-reg remove of a missing entry: exit 1", rc == 1 and "no trunk-reg c2" in err, err)

# --- --json on every command (issue 11) -------------------------------------------------------
JPW = ("Json-pw-1c", "Json-pw-2d", "Json-pw-3e")


def run_json(*args):
    rc, out, err = run(*args, "--json")
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, None, err + out


rc, j, err = run_json("user", "add", "juser", "--password", JPW[0])
check("user add --json: one object saying what was done",
      rc == 0 and j == {"user": "juser", "realm": "trunkline", "added": True}, f"{rc} {j} {err}")
rc, j, err = run_json("user", "passwd", "juser", "--password", JPW[1], "--realm", "r2")
check("user passwd --json", rc == 0 and j == {"user": "juser", "realm": "r2", "password_changed": True},
      f"{rc} {j} {err}")
rc, j, err = run_json("user", "list")
users = {u.get("name"): u for u in (j or {}).get("users", [])}
check("user list --json: name, realm, enabled, created_ms (never a hash)",
      rc == 0 and users.get("juser", {}).get("realm") == "r2" and users["juser"].get("enabled") is True
      and isinstance(users["juser"].get("created_ms"), int) and set(users["juser"]) ==
      {"name", "realm", "enabled", "created_ms"}, f"{rc} {j} {err}")
rc, j, err = run_json("user", "remove", "juser")
check("user remove --json", rc == 0 and j == {"user": "juser", "removed": True, "bindings_removed": 0},
      f"{rc} {j} {err}")
rc, out, err = run("user", "remove", "juser", "--json")
check("user remove --json of a missing user: exit 1, the message on stderr, nothing on stdout",
      rc == 1 and out == "" and "no user juser" in err, f"{rc} {out} {err}")
rc, out, err = run("user", "list", "--json", "--format", "csv")
check("user list --json --format csv: usage error (exit 2)", rc == 2, f"{rc} {err}")
rc, j, err = run_json("trunk-reg", "add", "cj", "--server", "sip.j.example", "--user", "4401",
                      "--password", JPW[2])
check("trunk-reg add --json", rc == 0 and j and j.get("trunk_reg") == "cj" and j.get("added") is True
      and j.get("user") == "4401" and j.get("enabled") is True, f"{rc} {j} {err}")
rc, j, err = run_json("trunk-reg", "set", "cj", "--disabled")
check("trunk-reg set --json", rc == 0 and j and j.get("updated") is True and j.get("enabled") is False,
      f"{rc} {j} {err}")
rc, j, err = run_json("trunk-reg", "list")
check("trunk-reg list --json parses with the entry",
      rc == 0 and j is not None and "cj" in json.dumps(j), f"{rc} {j} {err}")
rc, j, err = run_json("trunk-reg", "remove", "cj")
check("trunk-reg remove --json", rc == 0 and j == {"trunk_reg": "cj", "removed": True}, f"{rc} {j} {err}")
rc, out, err = run("trunk-reg", "remove", "cj", "--json")
check("trunk-reg remove --json of a missing entry: exit 1, nothing on stdout",
      rc == 1 and out == "" and "no trunk-reg cj" in err, f"{rc} {out} {err}")
rc, out, err = run("trunk-reg", "list", "--json", "--format", "csv")
check("trunk-reg list --json --format csv: usage error (exit 2)", rc == 2, f"{rc} {err}")

# --- secrets --------------------------------------------------------------------------------
secrets = [PW_ALICE, PW_BOB, PW_CAROL, PW_NEW, TPW, "file-pw-2", *JPW]
for r in query("SELECT ha1_md5, ha1_sha256, ha1_sha512_256 FROM sip_user"):
    secrets += [x for x in r if x]
leaks = [s for s in secrets if any(s in o for o in outputs)]
check("no password or HA1 appears in any output", not leaks, str(leaks))

R.write_junit(REPORT, "trunkctl_reg")
sys.exit(0 if R.passed() else 1)

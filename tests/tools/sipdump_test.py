#!/usr/bin/env python3
"""Checks the sipdump command-line contract: exit codes, the stderr error format, the JSON
output, and the RFC 4475 and RFC 5118 torture sets through it.
usage: sipdump_test.py SIPDUMP RFC4475_DIR CORPUS_DIR REPORT RFC5118_DIR"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from support import Results  # noqa: E402  (the one JUnit writer of the Python tests)

SIPDUMP, RFC, CORPUS, REPORT, RFC5118 = sys.argv[1:6]
R = Results()
check = R.check


def run(*args, stdin=None):
    p = subprocess.run([SIPDUMP, *args], input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")




def manifest(d):
    rows = [l.split("\t") for l in open(os.path.join(d, "MANIFEST.tsv"), encoding="utf-8").read().splitlines()[1:]]
    return ([os.path.join(d, r[0]) for r in rows if not r[3].startswith("invalid")],
            [os.path.join(d, r[0]) for r in rows if r[3].startswith("invalid")])


valid, invalid = manifest(RFC)
valid5118, invalid5118 = manifest(RFC5118)
corpus = sorted(os.path.join(CORPUS, f) for f in os.listdir(CORPUS) if f.endswith(".sip"))

rc, out, err = run(*corpus)
check("every corpus message is valid: exit 0, nothing on stderr", rc == 0 and err == "", err)
check("the readable dump names each file", all(f + ": " in out for f in corpus), out[:300])

rc, out, err = run(*valid)
check("RFC 4475 valid and valid-but messages: exit 0", rc == 0, err)

rc, out, err = run(*invalid)
lines = err.splitlines()
check("RFC 4475 invalid messages: exit 1", rc == 1, f"rc={rc}")
check("one 'FILE: offset N: reason' line per invalid file",
      len(lines) == len(invalid) and all(re.match(r"^.+\.dat: offset \d+: [A-Z].+$", l) for l in lines),
      err[:500])
check("badvers names the version fault at its offset",
      any(l.endswith("badvers.dat: offset 37: Version Not Supported") for l in lines), err[:500])

rc, out, err = run(*valid5118)
check("RFC 5118 valid messages (IPv6 references, bracketed received, ls32 as IPv4): exit 0",
      rc == 0 and err == "" and len(valid5118) == 11, err)
check("RFC 5118 4.10: both IPv6 reference constructs dumped",
      "[2001:db8::192.0.2.1]" in out and "[2001:db8:::192.0.2.1]" in out, out[:300])
rc, out, err = run(*invalid5118)
check("RFC 5118 invalid message (ipv6-bad): exit 1, the Request-URI named",
      rc == 1 and len(invalid5118) == 1 and "ipv6-bad.dat: offset 17: " in err
      and "Request-URI" in err, err)

rc, out, err = run(corpus[0], invalid[0])
check("a mix of valid and invalid exits 1 and still dumps the valid one",
      rc == 1 and corpus[0] + ": " in out and invalid[0] + ": offset" in err, f"rc={rc}")

rc, out, err = run("--json", *corpus)
try:
    doc = json.loads(out)
    ok = isinstance(doc, list) and len(doc) == len(corpus)
except ValueError as e:
    doc, ok = None, False
check("--json prints one valid JSON array with an object per file", rc == 0 and ok, out[:300])
if doc:
    inv = next(d for d in doc if d["file"].endswith("01-invite-sdp.sip"))
    check("--json request fields: method, request URI parts, body length",
          inv["type"] == "request" and inv["method"] == "INVITE"
          and inv["request_uri"]["scheme"] == "sip" and inv["request_uri"]["port"] == 5060
          and inv["body_length"] == 240, json.dumps(inv)[:400])
    via = next(h for h in inv["headers"] if h.get("id") == "Via")
    check("--json Via is typed (transport, host, port, branch, rport)",
          via["typed"][0]["transport"] == "UDP" and via["typed"][0]["branch"].startswith("z9hG4bK")
          and via["typed"][0]["port"] == 5060 and via["typed"][0]["rport"] is True, json.dumps(via))
    frm = next(h for h in inv["headers"] if h.get("id") == "From")
    check("--json From is typed (display name, URI parts, tag)",
          frm["typed"]["display_name"] == "Alice Caller" and frm["typed"]["tag"]
          and frm["typed"]["uri"]["user"] == "+14155550123", json.dumps(frm))
    cseq = next(h for h in inv["headers"] if h.get("id") == "CSeq")
    check("--json CSeq is typed", cseq["typed"] == {"number": 102, "method": "INVITE"}, json.dumps(cseq))
    resp = next(d for d in doc if d["file"].endswith("12-401-www-auth.sip"))
    www = next(h for h in resp["headers"] if h.get("id") == "WWW-Authenticate")
    check("--json response status and a typed challenge",
          resp["type"] == "response" and resp["status"] == 401
          and www["typed"]["scheme"] == "Digest" and www["typed"]["nonce"], json.dumps(www)[:300])

data = open(corpus[0], "rb").read()
rc, out, err = run("-", stdin=data)
check("'-' reads standard input", rc == 0 and "-: request INVITE" in out, err)
rc, out, err = run("--bogus")
check("an unknown option is a usage error: exit 2", rc == 2 and "unknown option" in err, err)
rc, out, err = run("/nonexistent/file.sip")
check("an unreadable file: exit 1 and the file named", rc == 1 and "/nonexistent/file.sip: cannot read" in err, err)

R.write_junit(REPORT, "sipdump")
sys.exit(0 if R.passed() else 1)

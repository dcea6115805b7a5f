#!/usr/bin/env python3
"""The README's first call, run as written: the commands between the `first-call` markers
of README.md, from a fresh directory, against a running trunkline on its defaults
(127.0.0.1:5060, var/trunkline.db). Two changes only, both needed to run unattended: the
vendor SIPp runs in the foreground of a subprocess we stop by PID (instead of -bg), and the
customer's call waits until trunkline has loaded the gateways (the README says "within a
second"). Checks: the call succeeds and its CDR is billed to the micro-unit.

usage: first_call_test.py TRUNKLINE TRUNKCTL README REPORT
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from support import Results, stop_pid, wait_until

TRUNKLINE, TRUNKCTL, README, REPORT = sys.argv[1:5]
results = Results()
check = results.check

block = re.search(r"<!-- first-call[^>]*-->\s*```sh\n(.*?)```\s*<!-- /first-call -->",
                  open(README, encoding="utf-8").read(), re.S)
work = tempfile.mkdtemp(prefix="trunkline-first-call-")
tl = uas = None
try:
    check("README has the first-call block", block is not None)
    lines = [l for l in block.group(1).splitlines() if l.strip()] if block else []
    # build/tools/trunkctl/trunkctl as in a checkout after scripts/run.sh
    os.makedirs(os.path.join(work, "build", "tools", "trunkctl"))
    os.symlink(os.path.abspath(TRUNKCTL), os.path.join(work, "build", "tools", "trunkctl",
                                                        "trunkctl"))
    log = open(os.path.join(work, "trunkline.log"), "wb")
    tl = subprocess.Popen([TRUNKLINE], cwd=work, stdout=log, stderr=log)
    log.close()
    tl_log = lambda: open(os.path.join(work, "trunkline.log"), "rb").read().decode(errors="replace")
    check("trunkline starts on its defaults",
          wait_until(lambda: "listening" in tl_log() or tl.poll() is not None, 20)
          and tl.poll() is None, tl_log()[-800:])
    env = dict(os.environ)
    outputs = []
    for line in lines:
        if line.startswith("sipp -sn uas"):
            cmd = line.replace(" -bg", "") + " -nostdin -timeout 60s"
            uas = subprocess.Popen(["bash", "-c", "exec " + cmd], cwd=work,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            continue
        if line.startswith("sipp -sn uac"):
            check("trunkline loads the new customer and vendor by itself",
                  wait_until(lambda: "routing: 1 customers, 1 vendor gateways" in tl_log(), 20),
                  tl_log()[-800:])
        # every line in one shell with the lines before it, so T= holds
        script = "\n".join(l for l in lines[:lines.index(line) + 1]
                           if l.startswith("T=")) + "\n" + line
        def run():
            return subprocess.run(["bash", "-c", script], cwd=work, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=90)
        p = run()
        if line.startswith("sqlite3"):
            # the writer thread commits the CDR a moment after the call ends
            wait_until(lambda: run().stdout.strip() != b"", 10)
            p = run()
        out = p.stdout.decode(errors="replace")
        outputs.append(out)
        if not line.startswith("T="):
            check(f"runs: {line[:70]}", p.returncode == 0, out[-600:])
    cdr = outputs[-1].strip() if outputs else ""
    # retail = 0.0200 / (1 - 20 %) = 0.0250/min; the 2 s call (-d 2000) bills one 60 s
    # increment: charge 25,000 and cost 20,000 micro-units
    check("the CDR shows the routed, billed call",
          cdr == "sipp|15551234567|carrier-gw|200|25000|20000", cdr)
finally:
    stop_pid(uas, 10)
    rc, _ = stop_pid(tl, 15)
    check("trunkline stops with exit status 0", rc == 0, f"rc={rc}")
    shutil.rmtree(work, ignore_errors=True)
    results.write_junit(REPORT, "first_call")
sys.exit(0 if results.passed() else 1)

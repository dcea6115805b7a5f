#!/usr/bin/env python3
"""Turns one meson test run into result lines "NAME<TAB>PASS|FAIL|SKIP" for scripts/test.sh.

A test that wrote a JUnit report to <builddir>/test-reports/<test name>.xml (the Catch2
suites and the integration scripts do) counts once per test case in it; any other meson
test counts once. A test whose process failed but whose report shows no failing case
(a crash after the last case, a sanitizer report at exit) is counted as one more failure,
so a failing process can never hide behind passing cases.
"""
import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET


def junit_cases(path):
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return None
    cases = []
    for tc in root.iter("testcase"):
        name = tc.get("name", "?")
        cls = tc.get("classname", "")
        failed = tc.find("failure") is not None or tc.find("error") is not None
        skipped = tc.find("skipped") is not None
        cases.append((f"{cls}/{name}" if cls else name, "SKIP" if skipped else failed))
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", default="")
    ap.add_argument("builddir")
    a = ap.parse_args()
    log = os.path.join(a.builddir, "meson-logs", "testlog.json")
    out = []
    try:
        lines = open(log, encoding="utf-8").read().splitlines()
    except OSError:
        print(f"{a.label}meson test log missing in {a.builddir}\tFAIL")
        return 0
    for line in lines:
        if not line.strip():
            continue
        t = json.loads(line)
        # meson names tests "project:suite / name"; reports are written under the bare name
        name = t.get("name", "?").split(" / ")[-1]
        result = t.get("result", "FAIL")
        if result == "SKIP":  # a test that truly cannot run here: counted, never as passed
            out.append((f"{a.label}{name}", "SKIP"))
            continue
        ok = result in ("OK", "EXPECTEDFAIL")
        report = os.path.join(a.builddir, "test-reports", name + ".xml")
        cases = junit_cases(report) if os.path.exists(report) else None
        if cases:
            for cname, failed in cases:
                out.append((f"{a.label}{name}: {cname}", "SKIP" if failed == "SKIP" else not failed))
            if not ok and all(f is False or f == "SKIP" for _, f in cases):
                out.append((f"{a.label}{name}: process ({result})", False))
        else:
            out.append((f"{a.label}{name}", ok))
    for name, ok in out:
        verdict = "SKIP" if ok == "SKIP" else ("PASS" if ok else "FAIL")
        print(f"{name.replace(chr(9), ' ')}\t{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

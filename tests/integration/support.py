"""Shared by the integration tests: results with a JUnit report, bounded polling, and
stopping a process by its PID."""
import signal
import subprocess
import time
import xml.sax.saxutils as su


class Results:
    """PASS/FAIL lines as the checks run, and the JUnit XML the summary reads."""

    def __init__(self):
        self.items = []

    def check(self, name, ok, detail=""):
        self.items.append((name, bool(ok), str(detail)))
        print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
        return bool(ok)

    def failed(self):
        return any(not ok for _, ok, _ in self.items)

    def passed(self):
        return bool(self.items) and not self.failed()

    def write_junit(self, path, suite):
        fails = sum(1 for _, ok, _ in self.items if not ok)
        with open(path, "w", encoding="utf-8") as f:
            f.write(f'<?xml version="1.0"?>\n<testsuite name="{suite}" tests="{len(self.items)}" '
                    f'failures="{fails}">\n')
            for name, ok, detail in self.items:
                f.write(f'  <testcase classname="{suite}" name={su.quoteattr(name)}>')
                if not ok:
                    f.write(f"<failure message={su.quoteattr(detail[:800])}/>")
                f.write("</testcase>\n")
            f.write("</testsuite>\n")


def wait_until(pred, limit=10.0, step=0.1):
    """Polls pred() until it is true or `limit` seconds passed; returns its last value."""
    deadline = time.time() + limit
    while True:
        v = pred()
        if v or time.time() >= deadline:
            return v
        time.sleep(step)


def stop_pid(p, limit=15):
    """SIGTERM by PID, a bounded wait, KILL past the bound. Returns (exit status, seconds);
    the status is None when the process had to be killed."""
    if p is None:
        return None, 0.0
    if p.poll() is not None:
        return p.returncode, 0.0
    t0 = time.time()
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None, time.time() - t0
    return p.returncode, time.time() - t0

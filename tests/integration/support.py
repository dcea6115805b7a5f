"""Shared by the integration tests: results with a JUnit report, bounded polling, stopping a
process by its PID, running trunkctl, starting trunkline and SIPp, HTTP requests to the
management API, and checking an API answer against the OpenAPI document (Schema)."""
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import xml.sax.saxutils as su


class Results:
    """PASS/FAIL lines as the checks run, and the JUnit XML the summary reads."""

    def __init__(self):
        self.items = []
        self.t0 = time.time()  # when the test started (for summary() and wrap_up())

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

    def wrap_up(self, report, suite, t0, work, keep):
        """The end of a test: its work directory removed (kept when `keep`), the summary line
        and the JUnit report."""
        remove_work(work, keep)
        self.summary(suite, t0)
        self.write_junit(report, suite)

    def summary(self, label, t0):
        """Prints "LABEL test: N checks, M failed, S s" (t0: when the test started)."""
        fails = sum(1 for _, ok, _ in self.items if not ok)
        print(f"{label} test: {len(self.items)} checks, {fails} failed, {time.time() - t0:.1f} s")


def switch_test_args(argv, prefix):
    """The start of a test of one trunkline with SIPp peers, run as `TEST TRUNKLINE TRUNKCTL
    SIPP_DIR REPORT PORT_BASE`: (TRUNKLINE, TRUNKCTL, SIPP_DIR, REPORT) made absolute, PORT_BASE
    as a number, a fresh work directory (/tmp/PREFIX...) and the test database's path in it."""
    trunkline, trunkctl, sipp_dir, report = (os.path.abspath(a) for a in argv[1:5])
    work = tempfile.mkdtemp(prefix=prefix)
    db = os.path.join(work, "trunkline.db")
    return trunkline, trunkctl, sipp_dir, report, int(argv[5]), work, db


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


def read_text(path):
    """A file's text (undecodable bytes replaced); "" while it does not exist."""
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def query_ro(db, sql, *params):
    """The rows of a query on a database trunkline is writing, opened read-only; [] while it
    cannot be read (not created yet, or locked past the 10 s busy timeout)."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return []


def remove_work(work, keep):
    """Removes the work directory, or says where it is kept when `keep` (an env setting) is set."""
    if keep:
        print(f"work directory kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def ctl(trunkctl, db, *args, cwd=None, env=None, timeout=60, must=False):
    """Runs `trunkctl --db DB ARGS...`; (exit code, stdout, stderr) as text. With must=True a
    non-zero exit raises RuntimeError naming the command and its output."""
    p = subprocess.run([trunkctl, "--db", db, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, cwd=cwd, env=env)
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    if must and p.returncode != 0:
        raise RuntimeError(f"trunkctl {' '.join(args)} -> {p.returncode}: {out}{err}")
    return p.returncode, out, err


def setup_routing(must, work, vendor_port, balance="50"):
    """The usual call path, made with trunkctl (`must(*args)` runs it, raising on a failure):
    the customer gateway acme (127.0.0.1, account 1001 with `balance`, rate group retail:
    prefix 1 at 0.10) and the vendor gateway gw1 (127.0.0.1:`vendor_port`, prefix 1, vendor
    account 9001, rate group v9001: prefix 1 at 0.03). The decks: WORK/retail.csv, v9001.csv."""
    for group, price in (("retail", "0.10"), ("v9001", "0.03")):
        deck = os.path.join(work, f"{group}.csv")
        with open(deck, "w") as f:
            f.write(f"prefix,price,increment\n1,{price},1\n")
        must("rates", "import", group, deck)
    must("accounts", "add", "1001", "--kind", "customer", "--balance", balance,
         "--rate-group", "retail")
    must("accounts", "add", "9001", "--kind", "vendor", "--rate-group", "v9001")
    must("gateway", "add", "customer", "acme", "--account", "1001", "--ips", "127.0.0.1")
    must("gateway", "add", "vendor", "gw1", "--vendor-account", "9001", "--prefixes", "1",
         "--host", "127.0.0.1", "--port", str(vendor_port))


def start_trunkline(trunkline, work, name, config, *args, env=None):
    """Writes `config` (unless None) to WORK/NAME.toml and starts `trunkline --config
    WORK/NAME.toml ARGS...` in WORK, its output to WORK/NAME.log; the process."""
    path = os.path.join(work, f"{name}.toml")
    if config is not None:
        with open(path, "w") as f:
            f.write(config)
    with open(os.path.join(work, f"{name}.log"), "wb") as out:
        return subprocess.Popen([trunkline, "--config", path, *args], cwd=work, stdout=out,
                                stderr=out, env=env)


def wait_logged(p, log_path, needle, limit=20):
    """Waits until the log holds `needle` or the process ended; True if it is running then
    and the needle was logged."""
    wait_until(lambda: needle in read_text(log_path) or p.poll() is not None, limit)
    return p.poll() is None and needle in read_text(log_path)


def http(method, url, token=None, body=None, headers=None, raw=False, ca=None):
    """(status, headers as a dict, body text) of one request; HTTP errors are answers too.
    `body`: a dict or list sent as JSON, or bytes/str sent as they are. raw=True: the body
    as bytes. `ca`: for https://, the PEM file the server's certificate is verified with."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    req = urllib.request.Request(url, method=method, data=body)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    context = ssl.create_default_context(cafile=ca) if ca else None
    try:
        with urllib.request.urlopen(req, timeout=30, context=context) as r:
            status, hdrs, data = r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, data = e.code, dict(e.headers), e.read()
    return status, hdrs, data if raw else data.decode()


def api_client(base, ca=None):
    """http() with paths below `base` ("http://127.0.0.1:PORT", or "https://..." verified
    with the PEM file `ca`)."""
    def request(method, path, token=None, body=None, headers=None, raw=False):
        return http(method, base + path, token, body, headers, raw, ca)
    return request


def port_in_use(port, ip="127.0.0.1"):
    """Whether a UDP port of `ip` is bound (a SIPp started on it is listening)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((ip, port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def start_sipp(sipp_dir, work, procs, tag, scenario, port, extra=()):
    """SIPp with SIPP_DIR/SCENARIO on 127.0.0.1:PORT, its messages to WORK/TAG.msg and its
    output to WORK/TAG.out; the process, also appended to `procs`."""
    cmd = ["sipp", "-sf", os.path.join(sipp_dir, scenario), "-i", "127.0.0.1", "-p", str(port),
           "-nostdin", "-trace_msg", "-message_file", os.path.join(work, f"{tag}.msg"), *extra]
    with open(os.path.join(work, f"{tag}.out"), "wb") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=work)
    procs.append(p)
    return p


def stop_all(results, procs, tl, log):
    """Stops the peers in `procs`, then trunkline `tl` (if it was started), which must exit 0
    on SIGTERM (the check "trunkline exits 0 on SIGTERM", `log()` the detail)."""
    for p in procs:
        stop_pid(p, 10)
    if tl is not None:
        rc, _ = stop_pid(tl, 15)
        results.check("trunkline exits 0 on SIGTERM", rc == 0, log()[-800:])


def finish(p, limit):
    """The process's exit status, waiting up to `limit` seconds; killed past that."""
    try:
        return p.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()


def status_codes(msg_path):
    """The status codes of the SIP responses in a SIPp message file, in order."""
    return re.findall(r"SIP/2\.0 (\d{3})", read_text(msg_path))


def sipp_register(start_sipp, work, reg_port, tl_port, tag, scenario, csv_line, *options):
    """SIPp REGISTERs (SCENARIO) from 127.0.0.1:`reg_port` to trunkline at 127.0.0.1:`tl_port`
    with the injection file WORK/TAG.csv ("SEQUENTIAL", then `csv_line`) and the SIPp `options`;
    SIPp's exit status, waiting up to 60 s. `start_sipp(tag, scenario, port, extra)`: start_sipp
    with the test's SIPp directory, work directory and process list bound."""
    csv = os.path.join(work, f"{tag}.csv")
    with open(csv, "w") as f:
        f.write(f"SEQUENTIAL\n{csv_line}\n")
    p = start_sipp(tag, scenario, reg_port,
                   ["-inf", csv, *options, "-timeout", "30s", "-recv_timeout", "5000",
                    f"127.0.0.1:{tl_port}"])
    return finish(p, 60)


def register_user(start_sipp, work, reg_port, tl_port, tag, user, password):
    """One REGISTER of `user` with digest auth (register_auth.xml, see sipp_register); SIPp's
    exit status (0: 200 OK)."""
    return sipp_register(start_sipp, work, reg_port, tl_port, tag, "register_auth.xml",
                         f"{user};{password};127.0.0.1;"
                         f"[authentication username={user} password={password}]", "-m", "1")


def register_wrong_password(start_sipp, work, reg_port, tl_port):
    """Three REGISTERs of mallory with the password WRONG (register_wrong_password.xml, the
    SIPp tag "bad", see sipp_register): enough to suspend it with register_retry 3. SIPp's exit
    status."""
    return sipp_register(start_sipp, work, reg_port, tl_port, "bad", "register_wrong_password.xml",
                         "mallory;WRONG;trunkline;[authentication username=mallory password=WRONG]",
                         "-t", "u1", "-m", "3", "-r", "5")


# The OpenAPI checker (server/core/api/openapi.json): required properties and types of the
# documented answers (api_test.py, trunk_reg_test.py).
class Schema:
    def __init__(self, doc):
        self.doc = doc

    def deref(self, node):
        """A schema or response with its "$ref"s followed ("#/components/...")."""
        while isinstance(node, dict) and "$ref" in node:
            target = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def response_schema(self, template, method, status):
        """The JSON schema documented for (path template, method, status); None if none."""
        op = self.doc["paths"].get(template, {}).get(method.lower())
        if op is None:
            return None
        resp = op["responses"].get(str(status))
        if resp is None:
            return None
        resp = self.deref(resp)
        return self.deref(resp.get("content", {}).get("application/json", {}).get("schema"))

    def errors(self, value, schema, where="$"):
        """Every way `value` breaks `schema` (type, nullable, required, enum, items)."""
        schema = self.deref(schema)
        if schema is None:
            return []
        if value is None:
            return [] if schema.get("nullable") else [f"{where}: null"]
        types = {"object": dict, "array": list, "string": str, "boolean": bool}
        t = schema.get("type")
        if t == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                return [f"{where}: {value!r} is not an integer"]
        elif t in types and not isinstance(value, types[t]):
            return [f"{where}: {value!r} is not {t}"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{where}: {value!r} not in {schema['enum']}"]
        out = []
        if t == "object":
            for name in schema.get("required", []):
                if name not in value:
                    out.append(f"{where}: missing {name}")
            for name, sub in schema.get("properties", {}).items():
                if name in value:
                    out += self.errors(value[name], sub, f"{where}.{name}")
        if t == "array":
            for i, item in enumerate(value):
                out += self.errors(item, schema.get("items"), f"{where}[{i}]")
        return out

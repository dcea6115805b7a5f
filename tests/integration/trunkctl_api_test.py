#!/usr/bin/env python3
"""trunkctl's two control paths against one running trunkline (issue 11: "trunkctl talks to
the running server through this API when one runs, and to the database directly for offline
work, with the same commands"):
  - with a held SIPp call (customer -> trunkline -> vendor): `call list` through the API
    (--api/--token) prints the same rows as through the database (the once-a-second copy),
    --json on both paths names the same call; `gateway status` likewise;
  - `call hangup ID` through the API ends the call at once (the customer SIPp gets the BYE);
    an unknown ID is exit 1 with "no such call";
  - three wrong REGISTER passwords suspend a user: `suspend list` prints the same rows on both
    paths (TRUNKLINE_API/TRUNKLINE_TOKEN from the environment too; --offline forces the
    database), --json; `suspend lift` through the API lifts it in the running registrar;
  - a registered SIP user: `binding list` the same rows on both paths, --json, `binding show`
    through the API, `binding remove` through the API unbinds it at once;
  - `domain list` and `trunk-reg list`: the same entries on both paths, the API adding the
    running cache's live state; `domain show --json` through the API;
  - a wrong token: exit 1 with a message naming the refused token; an API nobody listens on:
    exit 1 naming the endpoint, never the database's answer instead; `trace list` still works
    through the shared client;
  - an HTTPS API (a second trunkline on its own database, a self-signed certificate made with
    openssl): --api https://... with --cacert (or TRUNKLINE_CACERT) works, without the CA it is
    exit 1 naming the endpoint, plain http:// to it is exit 1 with a hint.
Checks wait on conditions with generous limits. Every process is started here and stopped by
PID. Writes a JUnit report.

usage: trunkctl_api_test.py TRUNKLINE TRUNKCTL SIPP_DIR REPORT PORT_BASE
  PORT_BASE: meson passes integration_port_base + 360; this test uses PORT_BASE .. + 9.
"""
import functools
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402
from support import (Results, finish, port_in_use, read_text, stop_all, stop_pid,  # noqa: E402
                     wait_logged, wait_until)

TRUNKLINE, TRUNKCTL, SIPP_DIR, REPORT, BASE, WORK, DB = support.switch_test_args(
    sys.argv, "trunkline-ctlapi-")
TL_PORT, UAC_PORT, VENDOR_PORT, API_PORT, REG_PORT = BASE, BASE + 1, BASE + 2, BASE + 3, BASE + 4
TLS_SIP_PORT, TLS_API_PORT = BASE + 5, BASE + 6  # the second trunkline, API over HTTPS
DEAD_PORT = BASE + 9  # nothing listens here
API = f"http://127.0.0.1:{API_PORT}"
CALLEE = "15551234567"
results = Results()
check = results.check
procs = []
TOKEN = None  # the admin token, once made
start_sipp = functools.partial(support.start_sipp, SIPP_DIR, WORK, procs)


def ctl(*args):
    """trunkctl on the test's database (no API); its output. A failure raises."""
    return support.ctl(TRUNKCTL, DB, *args, cwd=WORK, must=True)[1]


def run(*args, env_extra=None):
    """trunkctl with the environment cleared of TRUNKLINE_*; (exit code, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUNKLINE_")}
    env.update(env_extra or {})
    return support.ctl(TRUNKCTL, DB, *args, cwd=WORK, env=env)


def offline(*args):
    return run(*args)


def live(*args):
    return run("--api", API, "--token", TOKEN, *args)


def log():
    return read_text(os.path.join(WORK, "trunkline.log"))


def rows(text, skip=0):
    """The table lines of `text` as lists of cells (two or more spaces apart), `skip` leading
    lines dropped."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()[skip:] if line.strip()]


def cols(table, *idx):
    return [tuple(r[i] if i < len(r) else "" for i in idx) for r in table]


def same(name, a, b, project):
    """Both runs exit 0 and `project` of their outputs is equal and not empty."""
    (rca, outa, erra), (rcb, outb, errb) = a, b
    pa, pb = (project(outa) if rca == 0 else None), (project(outb) if rcb == 0 else None)
    return check(name, rca == 0 and rcb == 0 and pa and pa == pb,
                 f"api rc {rca} {outa}{erra}\n--- db rc {rcb} {outb}{errb}")


def as_json(r):
    try:
        return json.loads(r[1]) if r[0] == 0 else None
    except ValueError:
        return None


# --- the steps -----------------------------------------------------------------------------
def setup():
    global TOKEN
    support.setup_routing(ctl, WORK, VENDOR_PORT)
    TOKEN = json.loads(ctl("token", "add", "ops", "--scope", "admin", "--json"))["token"]
    ctl("user", "add", "mallory", "--password", "mallorypw")
    ctl("user", "add", "carol", "--password", "carol-Pa55")
    ctl("domain", "add", "carrier.invalid", "--transport", "udp", "--port", "5080")
    ctl("trunk-reg", "add", "up1", "--server", "127.0.0.1", "--port", str(DEAD_PORT), "--user",
        "4420001", "--password", "pw", "--disabled")


def start_trunkline():
    p = support.start_trunkline(
        TRUNKLINE, WORK, "trunkline",
        f'[registrar]\nregister_retry = 3\nregister_suspend = 600\n\n'
        f'[api]\nlisten = "127.0.0.1:{API_PORT}"\n',
        "--db", DB, "--udp", f"127.0.0.1:{TL_PORT}", "--tcp", "off")
    up = wait_logged(p, os.path.join(WORK, "trunkline.log"), "api: listening", 20)
    check("trunkline starts with the API", up, log()[-1500:])
    return p


def failure_checks():
    rc, out, err = run("--api", API, "--token", "tl_" + "0" * 64, "call", "list")
    check("a wrong token: exit 1, the message says the API refused the token (HTTP 401)",
          rc == 1 and "refused the token" in err and "401" in err and not out, f"{rc} {out}{err}")
    dead = f"127.0.0.1:{DEAD_PORT}"
    for args in (("call", "list"), ("suspend", "list"), ("domain", "list"), ("binding", "list")):
        rc, out, err = run("--api", dead, "--token", TOKEN, *args)
        check(f"{' '.join(args)} with an unreachable --api: exit 1 naming the endpoint, no "
              "database answer", rc == 1 and f"http://{dead}" in err and not out,
              f"{rc} {out}{err}")
    rc, out, err = run("call", "list", env_extra={"TRUNKLINE_API": dead, "TRUNKLINE_TOKEN": TOKEN})
    check("TRUNKLINE_API unreachable: exit 1 too", rc == 1 and f"http://{dead}" in err, err)
    rc, out, err = run("--offline", "call", "list", env_extra={"TRUNKLINE_API": dead})
    check("--offline with TRUNKLINE_API set: the database (exit 0)", rc == 0, f"{rc} {out}{err}")
    rc, out, err = run("--api", "ftp://x", "call", "list")
    check("--api that is neither ADDR:PORT nor http(s)://: usage error (2)", rc == 2, err)
    rc, out, err = live("trace", "list")
    check("trace list goes through the shared API client", rc == 0 and "ID" in out,
          f"{rc} {out}{err}")


def call_table(out):
    """ID, customer, vendor, caller, callee, state of each call (SECONDS moves)."""
    return cols([r for r in rows(out) if r and r[0].isdigit()], 0, 1, 2, 3, 4, 5) or None


def call_checks():
    vendor = start_sipp("vendor", "softswitch_uas.xml", VENDOR_PORT, ["-aa", "-timeout", "90s"])
    if not wait_until(lambda: port_in_use(VENDOR_PORT) or vendor.poll() is not None, 10):
        check("vendor SIPp starts", False, read_text(os.path.join(WORK, "vendor.out")))
        return
    uac = start_sipp("uac", "softswitch_uac_wait_bye.xml", UAC_PORT,
                     ["-s", CALLEE, "-m", "1", "-l", "1", "-timeout", "60s", "-recv_timeout",
                      "40000", f"127.0.0.1:{TL_PORT}"])

    def connected():
        r = offline("call", "list", "--json")  # the database's copy trails the switch
        calls = (as_json(r) or {}).get("calls", [])
        return calls if len(calls) == 1 and calls[0]["state"] == "connected" else None
    calls = wait_until(connected, 30, 0.2)
    check("the SIPp call is connected (database copy)", calls, offline("call", "list"))
    if not calls:
        return
    same("call list: the same rows through the API and the database",
         live("call", "list"), offline("call", "list"), call_table)
    ja, jd = as_json(live("call", "list", "--json")), as_json(offline("call", "list", "--json"))
    key = ("id", "customer", "vendor_gateway", "caller", "callee", "state", "call_id_in")
    check("call list --json: the same call on both paths, acme -> gw1",
          ja and jd and [tuple(c[k] for k in key) for c in ja["calls"]]
          == [tuple(c[k] for k in key) for c in jd["calls"]]
          and ja["calls"][0]["vendor_gateway"] == "gw1", f"{ja}\n{jd}")
    gw = lambda out: cols(rows(out), 0, 1, 4) or None  # noqa: E731 name, calls, state
    same("gateway status: the same rows through the API and the database",
         live("gateway", "status"), offline("gateway", "status"), gw)
    g = as_json(live("gateway", "status", "--json"))
    check("gateway status --json through the API: gw1 with 1 current call",
          g and [(x["name"], x["current_calls"]) for x in g["gateways"]] == [("gw1", 1)], g)
    rc, out, err = live("call", "hangup", "987654")
    check("call hangup of an unknown id through the API: exit 1, \"no such call\"",
          rc == 1 and "no such call" in err and "404" in err, f"{rc} {out}{err}")
    cid = calls[0]["id"]
    rc, out, err = live("call", "hangup", str(cid), "--json")
    check("call hangup ID --json through the API: hung up at once",
          rc == 0 and json.loads(out or "{}").get("hung_up") is True, f"{rc} {out}{err}")
    rc = finish(uac, 90)
    check("the customer SIPp gets the BYE (exit 0)", rc == 0,
          read_text(os.path.join(WORK, "uac.out"))[-800:])
    r = live("call", "list")
    check("call list through the API is empty after the hang-up",
          r[0] == 0 and r[1].strip().endswith("0 calls"), r)
    check("the log names the token that hung up", f"api: token 'ops' hung up call {cid}" in log(),
          log()[-800:])
    stop_pid(vendor, 10)


def suspension_checks():
    support.register_wrong_password(start_sipp, WORK, REG_PORT, TL_PORT)
    table = lambda out: sorted(cols(rows(out, 1), 0, 1)) or None  # noqa: E731 key, kind
    stored = wait_until(lambda: "mallory" in offline("suspend", "list")[1], 20, 0.2)
    check("mallory's suspension reaches the database (write-behind)", stored,
          offline("suspend", "list"))
    same("suspend list: the same rows through the API and the database",
         live("suspend", "list"), offline("suspend", "list"), table)
    env = {"TRUNKLINE_API": API, "TRUNKLINE_TOKEN": TOKEN}
    same("suspend list with TRUNKLINE_API/TRUNKLINE_TOKEN: the API's rows",
         run("suspend", "list", env_extra=env), live("suspend", "list"), table)
    ja, jd = as_json(live("suspend", "list", "--json")), as_json(offline("suspend", "list", "--json"))
    pick = lambda j: sorted((s["key"], s["kind"], s["peer"]) for s in j["suspensions"])  # noqa: E731
    check("suspend list --json: the same suspensions on both paths",
          ja and jd and pick(ja) == pick(jd) and any(k == "mallory" for k, _, _ in pick(ja)),
          f"{ja}\n{jd}")
    rc, out, err = live("suspend", "lift", "mallory", "--both")
    check("suspend lift mallory --both through the API", rc == 0 and "lifted mallory" in out,
          f"{rc} {out}{err}")
    rc, out, _ = live("suspend", "list")
    check("the running registrar has no suspension left", rc == 0 and "mallory" not in out, out)
    rc, out, _ = live("suspend", "lift", "mallory")
    check("lifting again: \"not suspended\", exit 0 (as offline)",
          rc == 0 and "mallory is not suspended" in out, out)


def register(tag, user, password):
    """One SIPp REGISTER with digest auth from REG_PORT; its exit status (0: 200 OK)."""
    return support.register_user(start_sipp, WORK, REG_PORT, TL_PORT, tag, user, password)


def binding_checks():
    rc = register("carol", "carol", "carol-Pa55")
    check("carol registers (SIPp exit 0)", rc == 0, read_text(os.path.join(WORK, "carol.out"))[-800:])
    stored = wait_until(lambda: "sip:carol@" in offline("binding", "list")[1], 20, 0.2)
    check("carol's binding reaches the database (write-behind)", stored, offline("binding", "list"))
    table = lambda out: cols(rows(out, 1), 0, 1, 4, 5) or None  # noqa: E731 aor contact source state
    same("binding list: the same rows through the API and the database",
         live("binding", "list"), offline("binding", "list"), table)
    same("binding list carol: the same rows on both paths",
         live("binding", "list", "carol"), offline("binding", "list", "carol"), table)
    ja, jd = as_json(live("binding", "list", "--json")), as_json(offline("binding", "list", "--json"))
    pick = lambda j: [(b["aor"], b["contact"], b["source"], b["down"]) for b in j["bindings"]]  # noqa: E731
    check("binding list --json: the same bindings on both paths",
          ja and jd and pick(ja) == pick(jd) and len(pick(ja)) == 1, f"{ja}\n{jd}")
    rc, out, err = live("binding", "show", "carol")
    check("binding show carol through the API", rc == 0 and "contact" in out
          and f"127.0.0.1:{REG_PORT}" in out, f"{rc} {out}{err}")
    rc, out, err = live("binding", "remove", "carol")
    check("binding remove carol through the API: removed 1 at once",
          rc == 0 and "removed 1 binding of user carol" in out, f"{rc} {out}{err}")
    rc, out, _ = live("binding", "list")
    check("the running registrar has no binding of carol left", rc == 0 and "carol" not in out, out)
    rc, out, err = live("binding", "remove", "carol")
    check("removing again through the API: exit 1, no such binding",
          rc == 1 and "no such binding" in err, f"{rc} {out}{err}")


def entry_checks():
    names = lambda out: [l for l in out.splitlines() if l and not l.startswith(" ")] or None  # noqa: E731,E741
    same("domain list: the same entries through the API and the database",
         live("domain", "list"), offline("domain", "list"), names)
    rc, out, _ = live("domain", "list")
    check("domain list through the API adds the running cache's live state",
          rc == 0 and "[live, TTL left" in out, out)
    j = as_json(live("domain", "show", "carrier.invalid", "--json"))
    check("domain show --json through the API: the entry and its live object",
          j and j["name"] == "carrier.invalid" and j["entry"] is True and j["port"] == 5080
          and "live" in j, j)
    ja, jd = as_json(live("domain", "list", "--json")), as_json(offline("domain", "list", "--json"))
    pick = lambda j: [(d["name"], d["entry"], d["ttl"], d["port"], d["transport"])  # noqa: E731
                      for d in j["domains"]]
    check("domain list --json: the same entries on both paths",
          ja and jd and pick(ja) == pick(jd) == [("carrier.invalid", True, None, 5080, "udp")],
          f"{ja}\n{jd}")
    rc, out, err = live("domain", "show", "nothing.invalid")
    check("domain show of an unknown name through the API: exit 1, no domain entry",
          rc == 1 and "no domain entry" in err, f"{rc} {out}{err}")
    table = lambda out: cols(rows(out, 1), 0, 1, 2) or None  # noqa: E731 name server user
    same("trunk-reg list: the same entries through the API and the database",
         live("trunk-reg", "list"), offline("trunk-reg", "list"), table)
    ja = as_json(live("trunk-reg", "list", "--json"))
    jd = as_json(offline("trunk-reg", "list", "--json"))
    pick = lambda j: [(c["name"], c["server"], c["port"], c["user"], c["enabled"])  # noqa: E731
                      for c in j["carriers"]]
    check("trunk-reg list --json: the same entries on both paths",
          ja and jd and pick(ja) == pick(jd) == [("up1", "127.0.0.1", DEAD_PORT, "4420001", False)],
          f"{ja}\n{jd}")
    rc, out, err = live("trunk-reg", "register", "up1")
    check("trunk-reg register of a disabled entry: exit 1 with the API's reason",
          rc == 1 and "disabled" in err, f"{rc} {out}{err}")


def https_checks():
    """A second trunkline with its own database and an HTTPS API."""
    if shutil.which("openssl") is None:
        check("openssl is installed (for the HTTPS checks)", False, "openssl not found")
        return
    work = os.path.join(WORK, "tls")
    os.makedirs(work)
    cert, key, db = (os.path.join(work, n) for n in ("cert.pem", "key.pem", "tls.db"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    token = json.loads(support.ctl(TRUNKCTL, db, "token", "add", "ops", "--scope", "admin", "--json",
                                   must=True)[1])["token"]
    tl = support.start_trunkline(
        TRUNKLINE, work, "tls",
        f'[api]\nlisten = "127.0.0.1:{TLS_API_PORT}"\ntls_cert = "{cert}"\ntls_key = "{key}"\n',
        "--db", db, "--udp", f"127.0.0.1:{TLS_SIP_PORT}", "--tcp", "off")
    try:
        up = wait_logged(tl, os.path.join(work, "tls.log"), "api: listening on https://", 20)
        check("the second trunkline serves its API over HTTPS", up,
              read_text(os.path.join(work, "tls.log"))[-800:])
        url = f"https://127.0.0.1:{TLS_API_PORT}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRUNKLINE_")}
        tls = lambda *a, extra=None: support.ctl(TRUNKCTL, db, *a, cwd=work,  # noqa: E731
                                                env={**env, **(extra or {})})
        rc, out, err = tls("--api", url, "--token", token, "--cacert", cert, "call", "list")
        check("call list --api https://... --cacert CA: the table", rc == 0 and "0 calls" in out,
              f"{rc} {out}{err}")
        rc, out, err = tls("suspend", "list", "--json", extra={
            "TRUNKLINE_API": url, "TRUNKLINE_TOKEN": token, "TRUNKLINE_CACERT": cert})
        check("TRUNKLINE_API/TOKEN/CACERT: suspend list --json over HTTPS",
              rc == 0 and json.loads(out or "{}") == {"suspensions": []}, f"{rc} {out}{err}")
        rc, out, err = tls("--api", url, "--token", token, "call", "list")
        check("without the CA the certificate is refused: exit 1 naming the endpoint",
              rc == 1 and url in err and not out, f"{rc} {out}{err}")
        plain = f"127.0.0.1:{TLS_API_PORT}"
        rc, out, err = tls("--api", plain, "--token", token, "call", "list")
        check("plain HTTP to the HTTPS port: exit 1 with a hint to use https://",
              rc == 1 and f"http://{plain}" in err and "https://" in err, f"{rc} {out}{err}")
    finally:
        check("the second trunkline exits 0 on SIGTERM", stop_pid(tl, 15)[0] == 0,
              read_text(os.path.join(work, "tls.log"))[-800:])


def main():
    tl = None
    try:
        setup()
        tl = start_trunkline()
        if tl.poll() is not None:
            return
        failure_checks()
        call_checks()
        suspension_checks()
        binding_checks()
        entry_checks()
        https_checks()
    except (RuntimeError, subprocess.SubprocessError, ValueError, KeyError) as e:
        check("the test ran to its end", False, repr(e))
    finally:
        stop_all(results, procs, tl, log)
        results.wrap_up(REPORT, "trunkctl_api", results.t0, WORK,
                        os.environ.get("TRUNKCTL_API_TEST_KEEP"))


main()
sys.exit(0 if results.passed() else 1)

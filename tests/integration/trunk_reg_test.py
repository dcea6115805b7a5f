#!/usr/bin/env python3
"""trunkline's carrier registrations (`trunkctl trunk-reg`) against a real upstream registrar.

Kamailio 5.6 (bench/peers/kamailio/upstream-registrar.cfg: REGISTER needs digest auth, users in
a db_text copy of data/upstream-dbtext, bindings in memory, `kamcmd ul.dump` lists them) plays
the carrier on 127.0.0.1. trunkline registers the entry trunk1/trunk1pass there. Checks:
  a. the binding (AoR trunk1, trunkline's contact) is in Kamailio's location table and
     `trunkctl trunk-reg show` says registered;
  b. on SIGTERM trunkline unregisters (the binding is gone) and exits within unregister_wait;
  c. with --send-unregister off the binding stays after SIGTERM;
  d. after kill -9 and a start with another --udp port (a new contact), trunkline removes the
     old contact at Kamailio and registers the new one;
  e. an entry with a wrong password shows state failed with a reason naming the 401;
  f. `trunkctl trunk-reg remove` while trunkline runs removes the binding at Kamailio;
  g. an entry whose server is an FQDN registers through the domain cache: a real DNS server
     (dnsmasq on 127.0.0.1, authoritative for trunkline.test) answers its A record, and
     trunkline's --dns-server points at it; `trunk-reg show` names the address in use;
  h. (issue 12 item 4) the same name without a port resolves NAPTR/SRV (a-srv, bound at
     Kamailio through _sip._udp), with a port A/AAAA at that port (b-port, where nothing
     listens: it must fail, not share a-srv's SRV answer);
  i. (item 7) the carrier's name gets NXDOMAIN: the registrations stay bound at Kamailio, no
     Expires: 0, `trunk-reg show` says the DNS failure and since when, and the log says it
     once; DNS answers again: said once;
  j. (item 7) the DNS server stops: past the TTL the last answer is served stale, and the
     log and `trunk-reg show` say so;
  k. (item 6) SIGTERM: b-port, which never registered, sends no unregister and shows
     state stopped, "never registered", clean stop yes; the others unregister.
  l. the management API (issue 11 item 1), answers checked against the OpenAPI document: a
     carrier registration created with POST /api/carriers registers at Kamailio and GET
     /api/carriers/{name} shows it registered (never the password); POST .../register sends a
     REGISTER now (the binding's expiry moves); DELETE unregisters it at Kamailio. A domain
     entry created with POST /api/domains resolves against dnsmasq and GET shows its address
     and TTL; dnsmasq's answer changes and POST .../resolve brings the new address at once,
     long before the TTL ends.
Every wait polls with a bound. Every process is started here with its own ports and stopped by
PID. Writes a JUnit report.

usage: trunk_reg_test.py TRUNKLINE TRUNKCTL PEERS_DIR REPORT PORT_BASE
  PEERS_DIR: bench/peers/kamailio
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import json
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import Results, Schema, stop_pid, wait_until as poll  # noqa: E402

TRUNKLINE, TRUNKCTL, PEERS_DIR, REPORT = (os.path.abspath(a) for a in sys.argv[1:5])
BASE = int(sys.argv[5])
KAM_PORT = BASE           # the carrier registrar (Kamailio)
TL_PORT = BASE + 1        # trunkline's first --udp port (its contact)
TL_PORT2 = BASE + 2       # after the crash: a new contact
DNS_PORT = BASE + 3       # dnsmasq, authoritative for trunkline.test
DEAD_PORT = BASE + 4      # nothing listens here (entry b-port)
API_PORT = BASE + 5       # the management API of the last trunkline (check l)
CARRIER_FQDN = "carrier.trunkline.test"
DNS_WAIT = 60             # bound of the polls that wait on DNS TTLs and Timer F (32 s)
UNREGISTER_WAIT = 5
WAIT = 10                 # bound of every poll, s
results = Results()
check = results.check




def wait_until(pred, limit=WAIT, step=0.1):
    return poll(pred, limit, step)


def ctl(*args):
    p = subprocess.run([TRUNKCTL, "--db", DB, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60, cwd=work)
    return p.returncode, p.stdout.decode(errors="replace")


def live_state(name):
    """`trunkctl trunk-reg show NAME`'s live state block as a dict (state, reason, ...)."""
    rc, out = ctl("trunk-reg", "show", name)
    state = {}
    if "live state:" in out:
        for line in out.split("live state:", 1)[1].splitlines():
            m = re.match(r"\s+(\S.*?)\s{2,}(.*)$", line)
            if m:
                state[m.group(1)] = m.group(2).strip()
    return state


def kamcmd(*args):
    p = subprocess.run(["kamcmd", "-s", KAM_CTL, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=10)
    return p.returncode, p.stdout.decode(errors="replace")


def bindings():
    """Kamailio's location table: {AoR: [contact address, ...]} from `kamcmd ul.dump`."""
    rc, out = kamcmd("ul.dump")
    table, aor = {}, None
    for line in out.splitlines():
        m = re.match(r"\s*AoR:\s*(\S+)", line)
        if m:
            aor = m.group(1)
            table.setdefault(aor, [])
            continue
        m = re.match(r"\s*Address:\s*(\S+)", line)
        if m and aor:
            table[aor].append(m.group(1))
    return table if rc == 0 else None


def gone_at_kamailio(aor):
    b = bindings()
    return b is not None and aor not in b


def tail_of(tag, word, lines=12):
    """The last log lines of `tag` that mention `word`: what a failed check prints."""
    return "\n".join([l for l in log_text(tag).splitlines() if word in l][-lines:])


def contact(port):
    return f"sip:trunk1@127.0.0.1:{port}"


def log_text(tag):
    return open(os.path.join(work, f"{tag}.log"), "rb").read().decode(errors="replace")


def start_trunkline(tag, port):
    log = open(os.path.join(work, f"{tag}.log"), "wb")
    p = subprocess.Popen([TRUNKLINE, "--config", CONFIG, "--db", DB, "--udp", f"127.0.0.1:{port}",
                          "--tcp", "off", "--dns-server", f"127.0.0.1:{DNS_PORT}"],
                         cwd=work, stdout=log, stderr=log)
    log.close()
    up = wait_until(lambda: "listening" in log_text(tag) or p.poll() is not None)
    return p, bool(up) and p.poll() is None


def stop(p, limit):
    """SIGTERM by PID; returns (exit status, seconds to exit); KILL only past the bound."""
    return stop_pid(p, limit)


def registered_in_log(tag, name="trunk1"):
    return f"trunk-reg {name}: registered:" in log_text(tag)


def start_dns(*records):
    """(Re)starts dnsmasq on DNS_PORT, authoritative for trunkline.test with `records`
    (dnsmasq options); TTL 1 s, which trunkline clamps to its 10 s floor. Stopped by PID."""
    global dns
    if dns is not None and dns.poll() is None:
        dns.terminate()
        dns.wait(timeout=10)
    dns = subprocess.Popen([dnsmasq, "--keep-in-foreground", "--conf-file=/dev/null",
                            "--no-resolv", "--no-hosts", "--no-poll", f"--port={DNS_PORT}",
                            "--listen-address=127.0.0.1", "--bind-interfaces", "--pid-file=",
                            "--log-facility=/dev/null", "--local=/trunkline.test/",
                            "--auth-zone=trunkline.test",
                            "--auth-server=ns.trunkline.test,127.0.0.1", "--auth-ttl=1", *records],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# the carrier's name: an A record (entries with a port) and _sip._udp SRV (entries without)
CARRIER_RECORDS = (f"--host-record={CARRIER_FQDN},127.0.0.1", "--host-record=sip.trunkline.test,127.0.0.1",
                   f"--srv-host=_sip._udp.{CARRIER_FQDN},sip.trunkline.test,{BASE},10,0")


def dns_lines(tag, name=None):
    return "\n".join(l for l in log_text(tag).splitlines()
                     if ("dns " in l or "DNS" in l) and (name is None or name in l))


def http(method, path, token, body=None):
    """(status, JSON answer or None) of one API request; HTTP errors are answers too."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{API_PORT}{path}", method=method, data=data)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, None


SCHEMA = None


def call_api(name, method, path, template, token, want, body=None):
    """One request whose status must be `want` and whose answer must match the document."""
    status, value = http(method, path, token, body)
    problems = [] if status == want else [f"status {status}, want {want}"]
    if value is None:
        problems.append("body is not JSON")
    elif SCHEMA is not None:
        schema = SCHEMA.response_schema(template, method, status)
        problems += (SCHEMA.errors(value, schema) if schema is not None
                     else [f"{method} {template} {status} is not in the OpenAPI document"])
    check(f"l. {name}: {method} {path} -> {want}, as documented", not problems,
          f"{problems} {json.dumps(value)[:600]}")
    return value or {}


def api_checks(tag, admin, read):
    """Check l: carrier registrations and domain entries through the management API."""
    global SCHEMA
    status, doc = http("GET", "/api/openapi.json", read)
    check("l. GET /api/openapi.json documents /api/carriers and /api/domains",
          status == 200 and "/api/carriers/{name}" in doc.get("paths", {})
          and "/api/domains/{name}/resolve" in doc.get("paths", {}), status)
    if status != 200:
        return
    SCHEMA = Schema(doc)

    # a carrier registration created through the API registers at the real registrar
    body = {"name": "api-carrier", "server": "127.0.0.1", "port": KAM_PORT, "user": "trunk1",
            "password": "trunk1pass", "expires_s": 600}
    call_api("a read token may not create", "POST", "/api/carriers", "/api/carriers", read, 403,
             body)
    call_api("a refused value names the field", "POST", "/api/carriers", "/api/carriers", admin,
             422, dict(body, expires_s=5))
    v = call_api("create", "POST", "/api/carriers", "/api/carriers", admin, 201, body)
    check("l. the answer never carries the password", "trunk1pass" not in json.dumps(v)
          and v.get("password_set") is True, v)
    call_api("an existing name", "POST", "/api/carriers", "/api/carriers", admin, 409, body)
    ok = wait_until(lambda: (bindings() or {}).get("trunk1") == [contact(TL_PORT)])
    check("l. Kamailio's location table has trunk1 -> trunkline's contact", ok, bindings())
    wait_until(lambda: http("GET", "/api/carriers/api-carrier", read)[1]["live"]["state"]
               == "registered")
    v = call_api("live state", "GET", "/api/carriers/api-carrier", "/api/carriers/{name}", read,
                 200)
    live = v.get("live", {})
    check("l. GET /api/carriers/api-carrier: registered, 200, its expiry and registrar",
          live.get("state") == "registered" and live.get("last_code") == 200
          and live.get("expires_ms", 0) > time.time() * 1000
          and live.get("registrar") == f"127.0.0.1:{KAM_PORT}/UDP", live)
    call_api("list", "GET", "/api/carriers", "/api/carriers", read, 200)
    expires0 = live.get("expires_ms", 0)
    time.sleep(1.2)
    v = call_api("register now", "POST", "/api/carriers/api-carrier/register",
                 "/api/carriers/{name}/register", admin, 202)
    ok = wait_until(lambda: (http("GET", "/api/carriers/api-carrier", read)[1]["live"]
                             .get("expires_ms") or 0) >= expires0 + 1000)
    check("l. re-registered now: a REGISTER went out and the binding's expiry moved on",
          ok and "api: token 'ops' re-registered carrier registration api-carrier" in log_text(tag),
          http("GET", "/api/carriers/api-carrier", read)[1].get("live"))
    call_api("unknown name", "GET", "/api/carriers/nobody", "/api/carriers/{name}", read, 404)
    v = call_api("delete", "DELETE", "/api/carriers/api-carrier", "/api/carriers/{name}", admin,
                 200)
    check("l. DELETE says the registered entry is unregistered", v.get("unregistering") is True, v)
    # Kamailio drops the binding before its 200 reaches trunkline: wait for both, or the
    # log line can still be on its way (seen under ASan in CI)
    ok = wait_until(lambda: gone_at_kamailio("trunk1")
                    and "trunk-reg api-carrier: unregistered" in log_text(tag))
    check("l. the running trunkline unregisters it: the binding is gone at Kamailio",
          ok, (bindings(), tail_of(tag, "api-carrier")))
    check("l. no log line carries the carrier's password", "trunk1pass" not in log_text(tag),
          "")

    # a domain entry created through the API resolves against dnsmasq; resolve now
    name = "api.trunkline.test"
    v = call_api("create a domain entry", "POST", "/api/domains", "/api/domains", admin, 201,
                 {"name": name, "ttl": 60})

    def live_of():
        return (http("GET", f"/api/domains/{name}", read)[1] or {}).get("live") or {}
    ok = wait_until(lambda: live_of().get("state") == "fresh", DNS_WAIT)
    v = call_api("the entry's live status", "GET", f"/api/domains/{name}", "/api/domains/{name}",
                 read, 200)
    live = v.get("live") or {}
    check("l. GET shows the address dnsmasq gives and the TTL left (60 s override)",
          ok and any(a.startswith("127.0.0.2:") for a in live.get("addresses", []))
          and 0 < live.get("ttl_left_s", 0) <= 60, live)
    call_api("list the domain entries", "GET", "/api/domains", "/api/domains", read, 200)
    start_dns(*CARRIER_RECORDS, f"--host-record={name},127.0.0.3")  # the answer changes
    call_api("resolve now", "POST", f"/api/domains/{name}/resolve", "/api/domains/{name}/resolve",
             admin, 202)
    ok = wait_until(lambda: any(a.startswith("127.0.0.3:") for a in live_of().get("addresses", [])))
    check("l. resolve now: the new address within seconds, long before the 60 s TTL ends", ok,
          live_of())
    call_api("resolve an unknown name", "POST", "/api/domains/nothing.test/resolve",
             "/api/domains/{name}/resolve", admin, 404)
    call_api("remove the domain entry", "DELETE", f"/api/domains/{name}", "/api/domains/{name}",
             admin, 200)
    # trunkctl writes the file: the running trunkline follows within a poll (no restart)
    ctl("domain", "add", name, "--ttl", "30")
    ok = wait_until(lambda: any(a.startswith("127.0.0.3:") for a in live_of().get("addresses", [])),
                    DNS_WAIT)
    check("l. `trunkctl domain add` while trunkline runs: resolved by the running cache", ok,
          live_of())
    ctl("domain", "remove", name)
    ok = wait_until(lambda: http("GET", f"/api/domains/{name}", read)[0] == 404)
    check("l. `trunkctl domain remove` while trunkline runs: the running cache forgets it", ok,
          http("GET", f"/api/domains/{name}", read))
    check("l. audit lines name the token for every write",
          f"api: token 'ops' added domain entry {name}" in log_text(tag)
          and "api: token 'ops' added carrier registration api-carrier" in log_text(tag)
          and "api: token 'ops' removed carrier registration api-carrier" in log_text(tag), "")


work = tempfile.mkdtemp(prefix="trunkline-trunkreg-")
DB = os.path.join(work, "trunkline.db")
CONFIG = os.path.join(work, "trunkline.toml")
KAM_CTL = f"unix:{work}/kam.ctl"
kam = tl = dns = dnsmasq = None
try:
    # --- DNS for the FQDN entry (check g): dnsmasq, started and stopped by PID -------------
    dnsmasq = next((p for p in ("/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq")
                    if os.path.exists(p)), None)
    check("dnsmasq is installed (scripts/setup.sh installs dnsmasq-base)", dnsmasq, "")
    if dnsmasq is None:
        raise SystemExit
    start_dns(*CARRIER_RECORDS)

    # --- the carrier: Kamailio as upstream registrar --------------------------------------
    shutil.copytree(os.path.join(PEERS_DIR, "data", "upstream-dbtext"), os.path.join(work, "dbtext"))
    with open(os.path.join(work, "dbtext", "subscriber"), "a") as f:  # for h.
        f.write("3:trunk3:127.0.0.1:trunk3pass::\n4:trunk4:127.0.0.1:trunk4pass::\n")
    os.mkdir(os.path.join(work, "kam.run"))
    kam_log = open(os.path.join(work, "kamailio.log"), "wb")
    # -DD: no daemon, the PID we hold is kamailio's main process (its workers die with it);
    # -E: log to stderr; -n 1: one worker; see bench/peers/kamailio/lib/common.sh
    kam = subprocess.Popen(["kamailio", "-f", os.path.join(PEERS_DIR, "upstream-registrar.cfg"),
                            "-DD", "-E", "-n", "1", "-m", "64", "-M", "8",
                            "-P", os.path.join(work, "kam.pid"), "-Y", os.path.join(work, "kam.run"),
                            "-A", f'CTL_SOCK="{KAM_CTL}"', "-A", f"KAM_PORT={KAM_PORT}",
                            "-A", f'DBURL="text://{work}/dbtext"'],
                           stdout=kam_log, stderr=kam_log, cwd=work)
    kam_log.close()
    up = wait_until(lambda: kam.poll() is not None or kamcmd("core.uptime")[0] == 0)
    check("Kamailio (upstream registrar) starts and answers on its ctl socket",
          up and kam.poll() is None and bindings() == {},
          open(os.path.join(work, "kamailio.log"), "rb").read()[-800:])
    if not (up and kam.poll() is None):
        raise SystemExit

    with open(CONFIG, "w") as f:
        # the DNS server comes with --dns-server (start_trunkline)
        f.write(f"[log]\nmessages = true\n\n[trunk_registration]\nunregister_wait = {UNREGISTER_WAIT}\n")
    h = subprocess.run([TRUNKLINE, "--help"], stdout=subprocess.PIPE, timeout=30).stdout.decode()
    check("trunkline --help shows --dns-server (issue 12 item 5)", "--dns-server LIST" in h, h)
    rc, out = ctl("trunk-reg", "add", "trunk1", "--server", "127.0.0.1", "--port", str(KAM_PORT),
                  "--transport", "udp", "--user", "trunk1", "--password", "trunk1pass")
    check("trunkctl adds the entry trunk1", rc == 0, out)

    # --- a. registered ---------------------------------------------------------------------
    tl, up = start_trunkline("tl1", TL_PORT)
    check("trunkline starts", up, log_text("tl1")[-800:])
    if not up:
        raise SystemExit
    ok = wait_until(lambda: (bindings() or {}).get("trunk1") == [contact(TL_PORT)])
    check("a. Kamailio's location table has AoR trunk1 -> trunkline's contact", ok, bindings())
    wait_until(lambda: live_state("trunk1").get("state") == "registered")
    st = live_state("trunk1")
    check("a. `trunkctl trunk-reg show trunk1` says registered, with trunkline's contact",
          st.get("state") == "registered" and st.get("contact") == contact(TL_PORT)
          and st.get("last response", "").startswith("200"), st)

    # --- b. SIGTERM unregisters ------------------------------------------------------------
    rc, took = stop(tl, UNREGISTER_WAIT + 5)
    tl = None
    check("b. SIGTERM: trunkline exits with status 0 within unregister_wait + 5 s",
          rc == 0, f"rc={rc} after {took:.1f} s")
    b = bindings()
    check("b. after SIGTERM the binding is gone at Kamailio (REGISTER Expires: 0 with auth)",
          b is not None and "trunk1" not in b, b)
    print(f"  (trunkline exited {took:.2f} s after SIGTERM)")

    # --- c. send_unregister off ------------------------------------------------------------
    rc, out = ctl("trunk-reg", "set", "trunk1", "--send-unregister", "off")
    check("c. trunkctl sets --send-unregister off", rc == 0, out)
    tl, up = start_trunkline("tl2", TL_PORT)
    ok = up and wait_until(lambda: registered_in_log("tl2")
                           and (bindings() or {}).get("trunk1") == [contact(TL_PORT)])
    check("c. trunkline registers trunk1 again", ok, bindings())
    rc, took = stop(tl, UNREGISTER_WAIT + 5)
    tl = None
    b = bindings()
    check("c. with send-unregister off, the binding stays at Kamailio after SIGTERM (exit 0)",
          rc == 0 and b is not None and b.get("trunk1") == [contact(TL_PORT)],
          f"rc={rc} bindings={b}")
    rc, out = ctl("trunk-reg", "set", "trunk1", "--send-unregister", "on")

    # --- d. crash, new contact ---------------------------------------------------------------
    tl, up = start_trunkline("tl3", TL_PORT)
    ok = up and wait_until(lambda: registered_in_log("tl3"))
    check("d. trunkline (send-unregister on again) registers trunk1 from port "
          f"{TL_PORT}", ok and (bindings() or {}).get("trunk1") == [contact(TL_PORT)], bindings())
    tl.kill()  # SIGKILL by PID: no unregister, persisted Call-ID/CSeq/contact stay
    tl.wait()
    tl = None
    b = bindings()
    check("d. after kill -9 the old binding is still at Kamailio",
          b is not None and b.get("trunk1") == [contact(TL_PORT)], b)
    tl, up = start_trunkline("tl4", TL_PORT2)
    ok = up and wait_until(lambda: (bindings() or {}).get("trunk1") == [contact(TL_PORT2)])
    b = bindings()
    check(f"d. restarted on port {TL_PORT2}: the old contact is gone from Kamailio",
          ok and b is not None and contact(TL_PORT) not in b.get("trunk1", []), b)
    check(f"d. ... and the new contact {contact(TL_PORT2)} is registered",
          ok and b is not None and b.get("trunk1") == [contact(TL_PORT2)], b)
    log4 = log_text("tl4")
    i_stale = log4.find(f"stale contact {contact(TL_PORT)} removed")
    i_reg = log4.find("trunk-reg trunk1: registered:")
    check("d. trunkline removed the stale contact first, then registered the new one",
          0 <= i_stale < i_reg, "\n".join(l for l in log4.splitlines() if "trunk-reg" in l))

    # --- e. wrong password -------------------------------------------------------------------
    rc, out = ctl("trunk-reg", "add", "badpass", "--server", "127.0.0.1", "--port", str(KAM_PORT),
                  "--transport", "udp", "--user", "trunk2", "--password", "not-trunk2pass")
    check("e. trunkctl adds an entry with a wrong password while trunkline runs", rc == 0, out)
    wait_until(lambda: live_state("badpass").get("state") == "failed")
    st = live_state("badpass")
    check("e. `trunk-reg show` says failed, with a reason naming the 401",
          st.get("state") == "failed" and "401" in st.get("reason", "")
          and st.get("last response", "").startswith("401"), st)
    b = bindings()
    check("e. Kamailio has no binding for the wrong-password entry", b is not None
          and "trunk2" not in b, b)

    # --- f. remove while running -------------------------------------------------------------
    rc, out = ctl("trunk-reg", "remove", "trunk1")
    check("f. trunkctl removes trunk1 while trunkline runs", rc == 0, out)
    ok = wait_until(lambda: gone_at_kamailio("trunk1"))
    check("f. the running trunkline unregisters it: the binding is gone at Kamailio", ok, bindings())
    said = "trunk-reg trunk1: unregistered: unregistered (200 OK)"
    check("f. trunkline's log says trunk1 unregistered (200 OK)",
          wait_until(lambda: said in log_text("tl4")), tail_of("tl4", "trunk-reg"))

    # --- g. a carrier named by an FQDN: resolved through the domain cache ----------------
    rc, out = ctl("trunk-reg", "add", "trunk2", "--server", CARRIER_FQDN, "--port", str(KAM_PORT),
                  "--user", "trunk2", "--password", "trunk2pass")
    check("g. trunkctl adds trunk2 with the server as an FQDN", rc == 0, out)
    ok = wait_until(lambda: (bindings() or {}).get("trunk2") == [f"sip:trunk2@127.0.0.1:{TL_PORT2}"])
    check(f"g. {CARRIER_FQDN} resolved by the DNS server; trunk2 is bound at Kamailio", ok,
          "\n".join(l for l in log_text("tl4").splitlines() if "trunk2" in l or "dns" in l))
    st = live_state("trunk2")
    check("g. `trunk-reg show trunk2` says registered", st.get("state") == "registered", st)
    key2 = f"{CARRIER_FQDN}:{KAM_PORT};transport=udp"
    check("g. ... with the address in use and what DNS says (issue 12 item 5)",
          st.get("registrar address") == f"127.0.0.1:{KAM_PORT}/UDP"
          and st.get("dns") == f"{key2}: ok (resolved)", st)

    # --- h. one name, with and without a port: two cache entries (issue 12 item 4) --------
    rc, out = ctl("trunk-reg", "add", "a-srv", "--server", CARRIER_FQDN, "--user", "trunk3",
                  "--password", "trunk3pass")
    ok = wait_until(lambda: (bindings() or {}).get("trunk3") == [f"sip:trunk3@127.0.0.1:{TL_PORT2}"])
    st = live_state("a-srv")
    check("h. a-srv (no port) resolves through NAPTR/SRV: bound at Kamailio via _sip._udp",
          rc == 0 and ok and st.get("registrar address") == f"127.0.0.1:{KAM_PORT}/UDP"
          and st.get("dns") == f"{CARRIER_FQDN}: ok (resolved)", f"{bindings()} {st}")
    rc, out = ctl("trunk-reg", "add", "b-port", "--server", CARRIER_FQDN, "--port", str(DEAD_PORT),
                  "--user", "trunk4", "--password", "trunk4pass")
    ok = wait_until(lambda: live_state("b-port").get("registrar address") ==
                    f"127.0.0.1:{DEAD_PORT}/UDP")
    check("h. b-port (the same name, --port) goes to A at its own port, not to a-srv's SRV answer",
          rc == 0 and ok, live_state("b-port"))

    # --- i. NXDOMAIN for the carrier's name: nothing is withdrawn (issue 12 item 7) --------
    start_dns()  # nothing under carrier.trunkline.test any more
    said = f"trunk-reg trunk2: DNS for {key2} fails (NXDOMAIN"
    ok = wait_until(lambda: said in log_text("tl4"), DNS_WAIT)
    check("i. trunkline sees NXDOMAIN for the carrier's name and says the registration stays",
          ok and "the registration stays at 127.0.0.1" in log_text("tl4"), dns_lines("tl4"))
    b = bindings()
    check("i. the working registrations stay bound at Kamailio (no Expires: 0)",
          b is not None and b.get("trunk2") == [f"sip:trunk2@127.0.0.1:{TL_PORT2}"]
          and b.get("trunk3") == [f"sip:trunk3@127.0.0.1:{TL_PORT2}"], b)
    st = live_state("trunk2")
    check("i. `trunk-reg show trunk2`: registered, at the last good address, the DNS failure and "
          "since when",
          st.get("state") == "registered" and st.get("registrar address") == f"127.0.0.1:{KAM_PORT}/UDP"
          and st.get("dns", "").startswith(f"{key2}: failed, NXDOMAIN")
          and "failing since " in st.get("dns", "")
          and "the registration stays at the last good address" in st.get("dns", ""), st)
    start_dns(*CARRIER_RECORDS)
    ok = wait_until(lambda: f"trunk-reg trunk2: DNS for {key2} answers again" in log_text("tl4"),
                    DNS_WAIT)
    check("i. DNS answers again: said once; still registered",
          ok and live_state("trunk2").get("state") == "registered", dns_lines("tl4"))

    # --- j. the DNS server stops: the last answer is served stale, visibly ---------------
    dns.terminate()
    dns.wait(timeout=10)
    ok = wait_until(lambda: f"trunk-reg trunk2: DNS for {key2} fails (timeout" in log_text("tl4")
                    and "past its TTL (stale)" in log_text("tl4"), DNS_WAIT)
    check("i/j. the resolver down: the log says the last answer is used past its TTL (stale)",
          ok and f"dns {key2}: timeout" in log_text("tl4")
          and "serving the last answer past its TTL (stale): 127.0.0.1" in log_text("tl4"),
          dns_lines("tl4"))
    st = live_state("trunk2")
    check("j. `trunk-reg show trunk2` says stale, since when and until when; still registered",
          st.get("state") == "registered" and st.get("dns", "").startswith(f"{key2}: stale, timeout")
          and "the last answer is used past its TTL until " in st.get("dns", ""), st)
    log = log_text("tl4")
    check("i/j. one log line per DNS change, none per retry (no 'waiting' lines after it)",
          log.count(said) == 1 and "trunk-reg trunk2: waiting" not in log[log.find(said):]
          and "trunk-reg trunk2: removed" not in log, dns_lines("tl4", "trunk2"))
    start_dns(*CARRIER_RECORDS)

    # --- b-port never reached a registrar: Timer F, no binding at Kamailio ----------------
    ok = wait_until(lambda: live_state("b-port").get("state") in ("failed", "registered"), DNS_WAIT)
    st = live_state("b-port")
    b = bindings()
    check("h. b-port failed with a timeout at its port; Kamailio has no binding of trunk4",
          ok and st.get("state") == "failed" and "transaction timeout" in st.get("reason", "")
          and b is not None and "trunk4" not in b, f"{st} {b}")

    # --- k. SIGTERM: the entry that never registered sends nothing (issue 12 item 6) -------
    rc, took = stop(tl, UNREGISTER_WAIT + 5)
    tl = None
    check("k. SIGTERM: trunkline exits with status 0", rc == 0, f"rc={rc} after {took:.1f} s")
    st = live_state("b-port")
    check("k. b-port: state stopped, never registered, clean stop yes",
          st.get("state") == "stopped"
          and st.get("reason") == "stopped: never registered (the registrar never answered), "
                                  "nothing to unregister"
          and st.get("clean stop", "").startswith("yes"), st)
    check("k. ... and no unregister went to its address",
          "trunk-reg b-port: unregistering" not in log_text("tl4"), dns_lines("tl4", "b-port"))
    st = live_state("trunk2")
    b = bindings()
    check("k. the registered entries unregistered (200 OK), clean stop yes",
          st.get("state") == "unregistered" and st.get("clean stop", "").startswith("yes")
          and b is not None and "trunk2" not in b and "trunk3" not in b, f"{st} {b}")

    # --- l. the management API: carrier registrations and domain entries -----------------
    for entry in ("badpass", "trunk2", "a-srv", "b-port"):
        ctl("trunk-reg", "remove", entry)
    start_dns(*CARRIER_RECORDS, "--host-record=api.trunkline.test,127.0.0.2")
    with open(CONFIG, "a") as f:
        f.write(f'\n[api]\nlisten = "127.0.0.1:{API_PORT}"\n')
    admin = json.loads(ctl("token", "add", "ops", "--scope", "admin", "--json")[1])["token"]
    read = json.loads(ctl("token", "add", "grafana", "--scope", "read", "--json")[1])["token"]
    tl, up = start_trunkline("tl5", TL_PORT)
    check("l. trunkline starts with the management API", up, log_text("tl5")[-800:])
    if up:
        api_checks("tl5", admin, read)
except SystemExit:
    pass
finally:
    if tl is not None:
        rc, took = stop(tl, UNREGISTER_WAIT + 5)
        check("SIGTERM stops trunkline with exit status 0", rc == 0, f"rc={rc}")
    if dns is not None and dns.poll() is None:
        dns.terminate()
        try:
            dns.wait(timeout=10)
        except subprocess.TimeoutExpired:
            dns.kill()
            dns.wait()
    if kam is not None and kam.poll() is None:
        kam.send_signal(signal.SIGTERM)
        try:
            kam.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kam.kill()
            kam.wait()
    if results.failed():
        for tag in ("tl1", "tl2", "tl3", "tl4", "tl5", "kamailio"):
            try:
                print(f"---- {tag}.log (tail)\n" + log_text(tag)[-2500:])
            except FileNotFoundError:
                pass
    shutil.rmtree(work, ignore_errors=True)
    results.write_junit(REPORT, "trunk_reg")

sys.exit(0 if results.passed() else 1)

#!/usr/bin/env python3
"""Checks `trunkctl gateway|group|route explain` (tools/trunkctl/gateway_cmd.cpp) end to end: the
built binary on a temporary database (accounts and rates set up with `trunkctl accounts add` and
`trunkctl rates import`), read back independently with python's sqlite3 and the --json output.
usage: trunkctl_gateway_test.py TRUNKCTL REPORT"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

TRUNKCTL, REPORT = os.path.abspath(sys.argv[1]), sys.argv[2]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from support import Results  # noqa: E402  (the one JUnit writer of the Python tests)

R = Results()
check = R.check



tmp = tempfile.TemporaryDirectory(prefix="trunkctl_gateway_test.")
DB = os.path.join(tmp.name, "var", "trunkline.db")


def run(*args):
    p = subprocess.run([TRUNKCTL, "--db", DB, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30, cwd=tmp.name)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def query(sql, *params):
    con = sqlite3.connect(DB)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def ok_run(name, *args):
    rc, out, err = run(*args)
    check(name, rc == 0, f"rc={rc} {err}")
    return out


def show_json(side, name):
    rc, out, err = run("gateway", "show", side, name, "--json")
    try:
        return json.loads(out) if rc == 0 else {}
    except ValueError:
        return {}


def deck(name, text):
    path = os.path.join(tmp.name, name + ".csv")
    with open(path, "w") as f:
        f.write(text)
    ok_run(f"setup: rates import {name}", "rates", "import", name, path)


def snapshot():
    """Every lcr row and version, to prove that a refused command stored nothing."""
    return (query("SELECT * FROM lcr_customer ORDER BY name"),
            query("SELECT * FROM lcr_vendor ORDER BY name"),
            query("SELECT * FROM lcr_group ORDER BY name"),
            query("SELECT * FROM lcr_table_version ORDER BY name"))


# --- setup: rates and accounts with the existing commands ------------------------------------
# Rates first: an account can only name a rate group that exists.
deck("retail", "prefix,price,area,type\n44,0.0300,UK,international\n")
deck("vA", "prefix,price\n44,0.0100\n")
deck("vB", "prefix,price\n44,0.0290\n")
deck("vC", "prefix,price\n44,0.0200\n")
deck("vD", "prefix,price\n33,0.0100\n")
for acc, kind, group in (("1001", "customer", "retail"), ("9001", "vendor", "vA"),
                         ("9002", "vendor", "vB"), ("9003", "vendor", "vC"),
                         ("9004", "vendor", "vD")):
    ok_run(f"setup: accounts add {acc}", "accounts", "add", acc, "--kind", kind,
           "--rate-group", group)
ok_run("setup: user add for digest customers", "user", "add", "acme-sip", "--password", "pw")

# --- groups ------------------------------------------------------------------------------------
ok_run("group add uk --line-limit 10", "group", "add", "uk", "--line-limit", "10")
check("group stored with its line limit", query("SELECT name, line_limit FROM lcr_group")
      == [("uk", 10)], str(query("SELECT name, line_limit FROM lcr_group")))
check("the database file is mode 0600", (os.stat(DB).st_mode & 0o777) == 0o600,
      oct(os.stat(DB).st_mode))
check("schema_versions row for component 'lcr'",
      query("SELECT version FROM schema_versions WHERE component='lcr'") == [(3,)])
ok_run("group set uk --line-limit 20", "group", "set", "uk", "--line-limit", "20")
check("group set changes the line limit",
      query("SELECT line_limit FROM lcr_group WHERE name='uk'") == [(20,)])
ok_run("group add spare", "group", "add", "spare", "--line-limit", "0")
rc, out, err = run("group", "list", "--json")
groups = json.loads(out) if rc == 0 else []
check("group list --json: both groups, sorted",
      [(g["name"], g["line_limit"]) for g in groups] == [("spare", 0), ("uk", 20)], out)
rc, out, err = run("group", "list")
check("group list: a table with GROUP LINES GATEWAYS",
      rc == 0 and out.splitlines()[0].split() == ["GROUP", "LINES", "GATEWAYS"]
      and "unlimited" in out, out)
for args, code, msg in (
        (["group", "add", "uk", "--line-limit", "5"], 1, "gateway group uk already exists"),
        (["group", "set", "nope", "--line-limit", "5"], 1, "no gateway group nope"),
        (["group", "remove", "nope"], 1, "no gateway group nope"),
        (["group", "add", "x"], 2, "group add needs --line-limit N"),
        (["group", "add", "x", "--line-limit", "-1"], 2, "--line-limit -1: outside 0..1000000"),
        (["group", "add", "x", "--line-limit", "ten"], 2, "--line-limit ten: not a whole number"),
        (["group", "add", "x y", "--line-limit", "1"], 2, "group name 'x y': character ' '")):
    before = snapshot()
    rc, out, err = run(*args)
    check(f"{' '.join(args)}: exit {code} with '{msg}', nothing stored",
          rc == code and msg in err and snapshot() == before, f"rc={rc} {err}")
ok_run("group remove spare", "group", "remove", "spare")
check("group remove deletes it", query("SELECT name FROM lcr_group") == [("uk",)])

# --- customer gateways -------------------------------------------------------------------------
v0 = dict(query("SELECT name, version FROM lcr_table_version"))
out = ok_run("gateway add customer with every option", "gateway", "add", "customer", "acme",
             "--account", "1001", "--auth", "ip_port", "--ips", "192.0.2.10:5060,[2001:db8::1]:5070",
             "--sip-user", "acme-sip", "--priority", "-3", "--line-limit", "120",
             "--cps-limit", "15", "--dest-prefix-limit", "7", "--caller-allow", "1555,1666",
             "--callee-deny", "449", "--caller-rewrite", "-1",
             "--callee-rewrite", "0044*:44*", "--restriction", "call_in_barring",
             "--max-rate-type", "national", "--proceeding-timeout", "45", "--enabled", "no")
c = show_json("customer", "acme")
want = {"name": "acme", "account": "1001", "auth": "ip_port",
        "ips": ["192.0.2.10:5060", "[2001:db8::1]:5070"], "sip_user": "acme-sip", "priority": -3,
        "line_limit": 120, "cps_limit": 15, "dest_prefix_limit": 7,
        "caller_allow": ["1555", "1666"], "caller_deny": [], "callee_allow": [],
        "callee_deny": ["449"], "caller_rewrite": "-1", "callee_rewrite": "0044*:44*",
        "restriction": "call_in_barring", "max_rate_type": "National",
        "proceeding_timeout_s": 45, "enabled": False}
for k, v in want.items():
    check(f"customer show --json: {k}", str(c.get(k)).lower() == str(v).lower(), f"{c.get(k)!r}")
v1 = dict(query("SELECT name, version FROM lcr_table_version"))
check("customer add bumps only the customer version",
      v1["customer"] == v0["customer"] + 1 and v1["vendor"] == v0["vendor"]
      and v1["group"] == v0["group"], f"{v0} -> {v1}")
rc, out, err = run("gateway", "show", "customer", "acme")
check("customer show: fields with their VOS3000 names",
      rc == 0 and "number of channels" in out and "authorization type" in out
      and "call_in_barring" in out, out)

ok_run("gateway set customer: only --line-limit", "gateway", "set", "customer", "acme",
       "--line-limit", "200")
c2 = show_json("customer", "acme")
check("set changes only the given option",
      c2.get("line_limit") == 200 and {k: v for k, v in c2.items() if k != "line_limit"}
      == {k: v for k, v in c.items() if k != "line_limit"}, f"{c2}")
ok_run("gateway set customer: back to ip auth, enabled", "gateway", "set", "customer", "acme",
       "--auth", "ip", "--ips", "192.0.2.10,[2001:db8::2]", "--enabled", "yes",
       "--caller-allow", "", "--caller-deny", "1999")
c3 = show_json("customer", "acme")
check("ip auth: addresses stored without brackets; lists replaced and cleared",
      c3.get("ips") == ["192.0.2.10", "2001:db8::2"] and c3.get("caller_allow") == []
      and c3.get("caller_deny") == ["1999"] and c3.get("enabled") is True, str(c3))
ok_run("gateway add customer: digest", "gateway", "add", "customer", "dig", "--account", "1001",
       "--auth", "digest", "--sip-user", "acme-sip")
rc, out, err = run("gateway", "list", "customer")
lines = out.splitlines()
check("gateway list customer: header and one line each",
      rc == 0 and lines[0].split()[:3] == ["CUSTOMER", "ACCOUNT", "AUTH"] and len(lines) == 3
      and lines[2].split()[:4] == ["dig", "1001", "digest", "acme-sip"], out)

customer_errors = (
    (["--auth", "radius"], 2, "--auth radius: use ip, ip_port or digest"),
    (["--ips", "192.0.2.1:5060"], 2, "'192.0.2.1:5060' is not an IP address (--auth ip"),
    (["--ips", "192.0.2.1,,192.0.2.2"], 2, "--ips 192.0.2.1,,192.0.2.2: entry 2 is empty"),
    (["--auth", "ip_port", "--ips", "192.0.2.1"], 2, "'192.0.2.1' is not ADDR:PORT"),
    (["--auth", "digest"], 2, "--sip-user: a customer with --auth digest needs --sip-user"),
    (["--priority", "high"], 2, "--priority high: not a whole number"),
    (["--priority", "1000000"], 2, "--priority 1000000: outside -999999..999999"),
    (["--line-limit", "-1"], 2, "--line-limit -1: outside 0..1000000"),
    (["--line-limit", "1000001"], 2, "--line-limit 1000001: outside 0..1000000"),
    (["--cps-limit", "x"], 2, "--cps-limit x: not a whole number"),
    (["--dest-prefix-limit", "2000000"], 2, "--dest-prefix-limit 2000000: outside 0..1000000"),
    (["--caller-allow", "12a"], 2, "--caller-allow 12a: '12a' is not a prefix of digits"),
    (["--caller-allow", "1", "--caller-deny", "2"], 2, "--caller-allow and --caller-deny: use one"),
    (["--callee-allow", "1", "--callee-deny", "2"], 2, "--callee-allow and --callee-deny: use one"),
    (["--caller-rewrite", "1*2*:x"], 2, "--caller-rewrite 1*2*:x: rule 1"),
    (["--callee-rewrite", "44*:1,1*2*:x"], 2, "--callee-rewrite 44*:1,1*2*:x: rule 2"),
    (["--restriction", "some"], 2, "--restriction some: use none, call_out_barring"),
    (["--max-rate-type", "galactic"], 2, "--max-rate-type galactic: use net, local, national"),
    (["--proceeding-timeout", "601"], 2, "--proceeding-timeout 601: outside 0..600"),
    (["--enabled", "maybe"], 2, "--enabled maybe: use yes or no"),
    (["--host", "192.0.2.1"], 2, "--host is a vendor gateway option, not a customer one"),
    (["--account", "7777"], 1, "--account 7777: no billing account 7777"),
    (["--auth", "digest", "--sip-user", "ghost"], 1, "--sip-user ghost: no SIP user ghost"),
)
for extra, code, msg in customer_errors:
    args = ["gateway", "add", "customer", "new1"]
    if "--account" not in extra:
        args += ["--account", "1001"]
    if "--ips" not in extra and "--auth" not in extra:
        args += ["--ips", "192.0.2.50"]
    args += extra
    before = snapshot()
    rc, out, err = run(*args)
    check(f"customer add {' '.join(extra)}: exit {code}, '{msg}', nothing stored",
          rc == code and msg in err and snapshot() == before, f"rc={rc} {err}")
for args, code, msg in (
        (["gateway", "add", "customer", "acme", "--account", "1001", "--ips", "192.0.2.9"], 1,
         "customer gateway acme already exists"),
        (["gateway", "set", "customer", "nope", "--line-limit", "1"], 1, "no customer gateway nope"),
        (["gateway", "set", "customer", "acme"], 2, "gateway set needs at least one option"),
        (["gateway", "set", "customer", "acme", "--auth", "ip_port"], 2, "is not ADDR:PORT"),
        (["gateway", "set", "customer", "acme", "--callee-allow", "44"], 2,
         "--callee-allow and --callee-deny: use one of the two"),
        (["gateway", "set", "customer", "acme", "--callee-allow", "44", "--callee-deny", ""], 0, ""),
        (["gateway", "add", "customer", "new2", "--ips", "192.0.2.9"], 2,
         "gateway add customer needs --account ID"),
        (["gateway", "add", "customer", "bad name", "--account", "1001"], 2,
         "gateway name 'bad name': character ' ' at position 4"),
        (["gateway", "add", "partner", "x"], 2, "the side is customer or vendor, not partner"),
        (["gateway", "show", "customer", "nope"], 1, "no customer gateway nope"),
        (["gateway", "bogus"], 2, "unknown subcommand 'bogus'")):
    before = snapshot()
    rc, out, err = run(*args)
    stored_ok = snapshot() == before if code else True
    check(f"{' '.join(args)}: exit {code}" + (f", '{msg}'" if msg else ""),
          rc == code and msg in err and stored_ok, f"rc={rc} {err}")

# --- vendor gateways ---------------------------------------------------------------------------
v0 = dict(query("SELECT name, version FROM lcr_table_version"))
ok_run("gateway add vendor with every option", "gateway", "add", "vendor", "full",
       "--vendor-account", "9001", "--prefixes", "44,4420,*", "--priority", "5",
       "--line-limit", "300", "--cps-limit", "20", "--group", "uk", "--reserved-lines", "10",
       "--protect", "yes", "--lowest-profit", "-0.0001", "--max-minute-rate", "0.125",
       "--check-rate", "yes", "--host", "sip.carrier-a.example", "--port", "5080",
       "--transport", "tls", "--outbound-proxy", "192.0.2.99:5062",
       "--host-name", "carrier-a.example", "--caller-rewrite", "*:00*",
       "--callee-rewrite", "-2", "--probe", "no", "--enabled", "no")
v = show_json("vendor", "full")
want = {"name": "full", "prefixes": ["44", "4420", ""], "priority": 5, "line_limit": 300,
        "cps_limit": 20, "group": "uk", "reserved_lines": 10, "protect": True,
        "lowest_profit_per_s": "-0.0001", "max_minute_rate": "0.1250", "check_rate": True,
        "vendor_account": "9001", "host": "sip.carrier-a.example", "port": 5080,
        "transport": "tls", "outbound_proxy": "192.0.2.99:5062", "host_name": "carrier-a.example",
        "caller_rewrite": "*:00*", "callee_rewrite": "-2", "probe": False, "enabled": False}
for k, val in want.items():
    check(f"vendor show --json: {k}", v.get(k) == val, f"{v.get(k)!r}")
row = query("SELECT lowest_profit_per_s, max_minute_rate FROM lcr_vendor WHERE name='full'")
check("money stored exactly in micro-units (-0.0001 -> -100, 0.125 -> 125000)",
      row == [(-100, 125000)], str(row))
v1 = dict(query("SELECT name, version FROM lcr_table_version"))
check("vendor add bumps only the vendor version",
      v1["vendor"] == v0["vendor"] + 1 and v1["customer"] == v0["customer"]
      and v1["group"] == v0["group"], f"{v0} -> {v1}")
rc, out, err = run("gateway", "show", "vendor", "full")
check("vendor show: VOS3000 names and '*' for every number",
      rc == 0 and "lowest profit rate limit" in out and "-0.0001/s" in out
      and "44,4420,*" in out and "protect route" in out, out)
ok_run("gateway set vendor: only --priority", "gateway", "set", "vendor", "full",
       "--priority", "6")
v2 = show_json("vendor", "full")
check("vendor set changes only the given option",
      v2.get("priority") == 6 and {k: x for k, x in v2.items() if k != "priority"}
      == {k: x for k, x in v.items() if k != "priority"}, str(v2))
ok_run("gateway set vendor: clear guards", "gateway", "set", "vendor", "full",
       "--lowest-profit", "none", "--max-minute-rate", "none", "--port", "default")
v3 = show_json("vendor", "full")
check("'none' clears the guards, 'default' the port",
      v3.get("lowest_profit_per_s") is None and v3.get("max_minute_rate") is None
      and v3.get("port") == 0, str(v3))
rc, out, err = run("group", "remove", "uk")
check("group remove of a used group: exit 1 naming the gateway",
      rc == 1 and "used by vendor gateway(s) full" in err
      and query("SELECT name FROM lcr_group") == [("uk",)], err)

vendor_errors = (
    (["--prefixes", "4a"], 2, "--prefixes 4a: '4a' is not a prefix of digits"),
    (["--prefixes", ""], 2, "--prefixes: a vendor gateway needs at least one prefix"),
    (["--priority", "x"], 2, "--priority x: not a whole number"),
    (["--line-limit", "1000001"], 2, "--line-limit 1000001: outside 0..1000000"),
    (["--cps-limit", "100001"], 2, "--cps-limit 100001: outside 0..100000"),
    (["--reserved-lines", "5"], 2, "--reserved-lines 5: needs --group"),
    (["--protect", "maybe"], 2, "--protect maybe: use yes or no"),
    (["--lowest-profit", "0.0000001"], 2, "--lowest-profit 0.0000001:"),
    (["--lowest-profit", "abc"], 2, "--lowest-profit abc:"),
    (["--lowest-profit", "2"], 2, "--lowest-profit 2: outside -1.0000..1.0000"),
    (["--max-minute-rate", "-1"], 2, "--max-minute-rate -1: outside 0.0000..1000.0000"),
    (["--check-rate", "sometimes"], 2, "--check-rate sometimes: use yes or no"),
    (["--host", "bad host"], 2, "--host 'bad host': not an IP address or FQDN"),
    (["--host", "192.0.2.1:5060"], 2, "give the port with --port"),
    (["--port", "70000"], 2, "--port 70000: not a port (1..65535 or default)"),
    (["--transport", "sctp"], 2, "--transport sctp: use udp, tcp or tls"),
    (["--outbound-proxy", "a b:1"], 2, "--outbound-proxy 'a b:1': not HOST[:PORT]"),
    (["--host-name", "a/b"], 2, "--host-name a/b: not a host name or IP address"),
    (["--callee-rewrite", "1*2*:x"], 2, "--callee-rewrite 1*2*:x: rule 1"),
    (["--probe", "x"], 2, "--probe x: use yes or no"),
    (["--account", "1001"], 2, "--account is a customer gateway option, not a vendor one"),
    (["--vendor-account", "7777"], 1, "--vendor-account 7777: no billing account 7777"),
    (["--group", "nope"], 1, "--group nope: no gateway group nope (trunkctl group add nope"),
)
for extra, code, msg in vendor_errors:
    args = ["gateway", "add", "vendor", "new1"]
    for opt, val in (("--vendor-account", "9001"), ("--prefixes", "44"), ("--host", "192.0.2.7")):
        if opt not in extra:
            args += [opt, val]
    args += extra
    before = snapshot()
    rc, out, err = run(*args)
    check(f"vendor add {' '.join(extra)}: exit {code}, '{msg}', nothing stored",
          rc == code and msg in err and snapshot() == before, f"rc={rc} {err}")
for args, code, msg in (
        (["gateway", "add", "vendor", "x", "--vendor-account", "9001", "--prefixes", "44"], 2,
         "gateway add vendor needs --host"),
        (["gateway", "add", "vendor", "x", "--host", "192.0.2.1", "--prefixes", "44"], 2,
         "gateway add vendor needs --vendor-account"),
        (["gateway", "add", "vendor", "full", "--vendor-account", "9001", "--prefixes", "44",
          "--host", "192.0.2.1"], 1, "vendor gateway full already exists"),
        (["gateway", "set", "vendor", "ghost", "--priority", "1"], 1, "no vendor gateway ghost"),
        (["gateway", "set", "vendor", "full", "--group", ""], 2, "--reserved-lines 10: needs --group")):
    before = snapshot()
    rc, out, err = run(*args)
    check(f"{' '.join(args)}: exit {code}, '{msg}', nothing stored",
          rc == code and msg in err and snapshot() == before, f"rc={rc} {err}")

rc, out, err = run("gateway", "list", "--json")
lst = json.loads(out) if rc == 0 else {}
check("gateway list --json: both sides",
      [x["name"] for x in lst.get("customers", [])] == ["acme", "dig"]
      and [x["name"] for x in lst.get("vendors", [])] == ["full"], out)
v0 = dict(query("SELECT name, version FROM lcr_table_version"))
ok_run("gateway remove vendor full", "gateway", "remove", "vendor", "full")
ok_run("gateway remove customer dig", "gateway", "remove", "customer", "dig")
v1 = dict(query("SELECT name, version FROM lcr_table_version"))
check("remove bumps the versions of its table", v1["vendor"] == v0["vendor"] + 1
      and v1["customer"] == v0["customer"] + 1 and v1["group"] == v0["group"], f"{v0} -> {v1}")
check("removed rows are gone", query("SELECT name FROM lcr_vendor") == []
      and query("SELECT name FROM lcr_customer") == [("acme",)])
for side, name in (("vendor", "full"), ("customer", "dig")):
    before = snapshot()
    rc, out, err = run("gateway", "remove", side, name)
    check(f"gateway remove {side} {name} again: exit 1 'no {side} gateway {name}'",
          rc == 1 and f"no {side}" in err and name in err and snapshot() == before, err)
ok_run("group remove uk once unused", "group", "remove", "uk")

# --- route explain -----------------------------------------------------------------------------
# The customer pays 0.03/min for 44 (after its rewrite 0044* -> 44*).
ok_run("customer for routing", "gateway", "set", "customer", "acme", "--callee-rewrite",
       "0044*:44*", "--callee-allow", "", "--callee-deny", "", "--restriction", "none",
       "--max-rate-type", "international")
vendors = (
    # name, account, priority, extra options
    ("cheap", "9001", "2", []),                                    # 0.01: first by cost
    ("dear", "9002", "1", []),                                     # 0.029: first by priority
    ("guard", "9003", "0", ["--lowest-profit", "0.0002"]),         # (0.03-0.02)/60 < 0.0002
    ("capped", "9003", "0", ["--max-minute-rate", "0.015"]),       # 0.02 > 0.015
    ("norate", "9004", "0", ["--check-rate", "yes"]),              # 9004 has no 44 rate
    ("short", "9001", "0", ["--prefixes", "4"]),                   # shorter prefix
)
for name, acc, prio, extra in vendors:
    args = ["gateway", "add", "vendor", name, "--vendor-account", acc, "--host", "192.0.2.30",
            "--priority", prio]
    if "--prefixes" not in extra:
        args += ["--prefixes", "44"]
    ok_run(f"setup: vendor {name}", *(args + extra))


def explain(*extra):
    rc, out, err = run("route", "explain", "00442071234567", "--customer", "acme", "--json",
                       *extra)
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, {}, err + out


rc, ex, err = explain()
by = {g["name"]: g for g in ex.get("gateways", [])}
check("route explain --json: exit 0, rewritten number and customer rate",
      rc == 0 and ex.get("routed") == "442071234567"
      and (ex.get("customer_rate") or {}).get("per_minute") == "0.0300", f"rc={rc} {err} {ex}")
check("every vendor gateway with a matching prefix is listed",
      sorted(by) == sorted(v[0] for v in vendors), str(sorted(by)))
check("profit guard: guard skipped with 'profit'",
      by.get("guard", {}).get("skip") == "profit" and by["guard"].get("detail"), str(by.get("guard")))
check("max minute rate: capped skipped with 'max_minute_rate'",
      by.get("capped", {}).get("skip") == "max_minute_rate" and by["capped"].get("detail"),
      str(by.get("capped")))
check("check rate without a vendor rate: norate skipped with 'no_rate'",
      by.get("norate", {}).get("skip") == "no_rate" and by["norate"].get("vendor_rate") is None,
      str(by.get("norate")))
check("a shorter prefix is reported as shorter_prefix",
      by.get("short", {}).get("skip") == "shorter_prefix", str(by.get("short")))
check("vendor rates per minute and effective (60/60 over a 90 s call)",
      by.get("cheap", {}).get("vendor_rate") == "0.0100"
      and by.get("cheap", {}).get("effective_rate") == "0.013333", str(by.get("cheap")))
order = [g["name"] for g in sorted((g for g in ex.get("gateways", []) if g["skip"] == "none"),
                                   key=lambda g: g["order"])]
check("LCR order, policy vos3000: priority number first (dear 1, cheap 2)",
      order == ["dear", "cheap"], str(order))
rc, ex2, err = explain("--policy", "cost")
order = [g["name"] for g in sorted((g for g in ex2.get("gateways", []) if g["skip"] == "none"),
                                   key=lambda g: g["order"])]
check("LCR order, policy cost: cheapest first (cheap, dear)", order == ["cheap", "dear"],
      str(order))
rc, out, err = run("route", "explain", "00442071234567", "--customer", "acme")
lines = out.splitlines()
head = next((l for l in lines if l.startswith("ORDER")), "")
check("route explain table: rewrite, customer rate, columns",
      rc == 0 and "-> 442071234567" in out and "0.0300/min" in out
      and head.split() == ["ORDER", "GATEWAY", "PREFIX", "RATE/MIN", "EFFECTIVE", "SKIP", "DETAIL"],
      out)
first = next((l for l in lines if l.startswith("1 ")), "")
check("route explain table: order 1 is dear at 0.0290", first.split()[:4] == ["1", "dear", "44", "0.0290"],
      first)
guard_line = next((l for l in lines if " guard " in f" {l} "), "")
check("route explain table: the profit skip with its detail",
      "profit" in guard_line and len(guard_line.split()) > 6, guard_line)
for args, code, msg in (
        (["route", "explain", "4420", "--customer", "ghost"], 1, "no customer gateway ghost"),
        (["route", "explain", "4420"], 2, "route explain needs --customer NAME"),
        (["route", "explain", "--customer", "acme"], 2, "route explain needs NUMBER"),
        (["route", "explain", "4420", "--customer", "acme", "--policy", "random"], 2,
         "--policy random: use vos3000, cost or cost_in_priority"),
        (["route", "explain", "4420", "--customer", "acme", "--at", "yesterday"], 2, "--at yesterday:"),
        (["route", "bogus"], 2, "unknown subcommand 'bogus'")):
    rc, out, err = run(*args)
    check(f"{' '.join(args)}: exit {code}, '{msg}'", rc == code and msg in err, f"rc={rc} {err}")
rc, out, err = run("route", "explain", "1555", "--customer", "acme")
check("a number no gateway matches: said so, no customer rate noted",
      rc == 0 and "no vendor gateway has a prefix matching 1555" in out
      and "no customer rate" in out, out)

# --- --json on every command (issue 11) -------------------------------------------------------
def run_json(*args):
    rc, out, err = run(*args, "--json")
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, None, err + out


rc, j, err = run_json("group", "add", "jg", "--line-limit", "5")
check("group add --json", rc == 0 and j == {"group": "jg", "added": True, "line_limit": 5}, f"{rc} {j} {err}")
rc, j, err = run_json("group", "set", "jg", "--line-limit", "6")
check("group set --json", rc == 0 and j == {"group": "jg", "updated": True, "line_limit": 6}, f"{rc} {j} {err}")
rc, j, err = run_json("gateway", "add", "customer", "jc", "--account", "1001", "--ips", "192.0.2.77")
check("gateway add customer --json", rc == 0 and j and j.get("gateway") == "jc" and j.get("side") == "customer"
      and j.get("added") is True and j.get("account") == "1001" and j.get("enabled") is True, f"{rc} {j} {err}")
rc, j, err = run_json("gateway", "add", "vendor", "jv", "--vendor-account", "9004", "--prefixes", "33",
                      "--host", "192.0.2.78", "--group", "jg")
check("gateway add vendor --json", rc == 0 and j and j.get("gateway") == "jv" and j.get("side") == "vendor"
      and j.get("added") is True and j.get("prefixes") == "33" and j.get("account") == "9004", f"{rc} {j} {err}")
rc, j, err = run_json("gateway", "set", "vendor", "jv", "--enabled", "no")
check("gateway set --json", rc == 0 and j and j.get("updated") is True and j.get("enabled") is False,
      f"{rc} {j} {err}")
rc, out, err = run("gateway", "add", "vendor", "jv", "--vendor-account", "9004", "--prefixes", "33",
                   "--host", "192.0.2.78", "--json")
check("gateway add --json of an existing gateway: exit 1, nothing on stdout",
      rc == 1 and out == "" and "already exists" in err, f"{rc} {out} {err}")
for args in (["gateway", "list", "--format", "csv"], ["gateway", "list", "--format", "table"],
             ["group", "list", "--format", "csv"]):
    rc, out, err = run(*args, "--json")
    check(f"{' '.join(args)} --json: usage error (exit 2)", rc == 2 and "--json contradicts" in err, f"{rc} {err}")
rc, j, err = run_json("gateway", "remove", "vendor", "jv")
check("gateway remove --json", rc == 0 and j == {"gateway": "jv", "side": "vendor", "removed": True},
      f"{rc} {j} {err}")
rc, j, err = run_json("gateway", "remove", "customer", "jc")
check("gateway remove customer --json", rc == 0 and j == {"gateway": "jc", "side": "customer", "removed": True},
      f"{rc} {j} {err}")
rc, j, err = run_json("group", "remove", "jg")
check("group remove --json", rc == 0 and j == {"group": "jg", "removed": True}, f"{rc} {j} {err}")
rc, out, err = run("group", "remove", "jg", "--json")
check("group remove --json of a missing group: exit 1, nothing on stdout",
      rc == 1 and out == "" and "no gateway group jg" in err, f"{rc} {out} {err}")

R.write_junit(REPORT, "trunkctl_gateway")
sys.exit(0 if R.passed() else 1)

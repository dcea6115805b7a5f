// trunkctl gateway|group|route — customer (VOS3000 mapping) gateways, vendor (VOS3000
// routing) gateways and gateway groups in the SQLite database, and `route explain`: the
// candidate order and every skip for one number, computed by the same route::lcr::Router the
// switch runs, over the billing rates in the same file.
//
//   trunkctl gateway add customer acme --account 1001 --ips 192.0.2.10 --line-limit 100
//   trunkctl gateway add vendor carrierA --vendor-account 9001 --prefixes 44,33 --host 192.0.2.20
//   trunkctl group add uk --line-limit 300
//   trunkctl route explain 442071234567 --customer acme
//
// Option names follow the VOS3000 fields operators know (REFERENCE-vos3000.md §1.1, §1.2);
// `gateway show` prints the VOS3000 name next to each field. Usage errors (a bad value, an
// option of the other side) exit 2 and name the option; data errors (an unknown billing
// account or group, an existing or missing gateway) exit 1. Nothing is stored on an error.
// Every value is checked by sw::gateway_form, the code the management API's gateways and
// groups use too, so both accept the same values with the same messages.
#include "gateway_cmd.hpp"


#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "args.hpp"
#include "billing/csv.hpp"
#include "billing/money.hpp"
#include "billing/rate.hpp"
#include "billing/sqlite/store.hpp"
#include "billing/time.hpp"
#include "cli_util.hpp"
#include "route/lcr/customers.hpp"
#include "route/lcr/rewrite.hpp"
#include "route/lcr/router.hpp"
#include "route/lcr/sqlite/store.hpp"
#include "route/reg/sqlite/store.hpp"
#include "sw/billing_rates.hpp"
#include "sw/gateway_form.hpp"

namespace trunkctl {

const char* const kGatewayHelp = R"(usage:
  trunkctl gateway add customer NAME --account ID [CUSTOMER OPTIONS]
  trunkctl gateway add vendor NAME --vendor-account ID --prefixes P,... --host HOST [VENDOR OPTIONS]
      Add a customer (VOS3000 mapping) or vendor (VOS3000 routing) gateway.
  trunkctl gateway set customer|vendor NAME OPTIONS
      Change only the given options.
  trunkctl gateway list [customer|vendor] [--json]
  trunkctl gateway show customer|vendor NAME [--json]
      Every field, with its VOS3000 name.
  trunkctl gateway remove customer|vendor NAME
  --json (every subcommand; list and show: as --format json): add, set and remove print
      one object saying what was done, e.g. {"gateway":"acme","side":"customer",
      "removed":true}, after success only. --json with another --format is a usage error.

CUSTOMER OPTIONS (VOS3000 mapping gateway):
  --account ID                 billing account (must exist: trunkctl accounts add)
  --auth ip|ip_port|digest     call authentication mode (default ip)
  --ips A,B                    ip: addresses; ip_port: ADDR:PORT ([IPv6]:PORT)
  --sip-user U                 digest: the SIP user (trunkctl user add U)
  --priority N                 priority number, smaller first (-999999..999999)
  --line-limit N               number of channels, 0 = unlimited (0..1000000)
  --cps-limit N                calls per second, 0 = unlimited (0..100000)
  --dest-prefix-limit N        concurrent calls of the account to one rate prefix (0..1000000)
  --caller-allow P,... | --caller-deny P,...   caller prefix filters (digits; one of the two)
  --callee-allow P,... | --callee-deny P,...   callee prefix filters (digits; one of the two)
  --caller-rewrite R | --callee-rewrite R      rewrite rules "pattern:replacement,..."
  --restriction none|call_out_barring|call_in_barring|all
  --max-rate-type net|local|national|international   authorization type (default international)
  --proceeding-timeout S       0..600 s, 0 = the server default
  --enabled yes|no

VENDOR OPTIONS (VOS3000 routing gateway):
  --prefixes P,...             gateway prefixes (digits; '*' = every number)
  --priority N                 priority number, smaller first (-999999..999999)
  --line-limit N               0 = unlimited (0..1000000)
  --cps-limit N                0 = unlimited (0..100000)
  --group G                    gateway group (trunkctl group add G), '' = none
  --reserved-lines N           disabled when the group's free lines drop below N (needs --group)
  --protect yes|no             protect (backup) route
  --lowest-profit X            lowest profit rate limit per SECOND in currency units, e.g.
                               0.0001 (negative allowed, -1..1); 'none' = off
  --max-minute-rate X          max minute rate (0..1000); 'none' = off
  --check-rate yes|no          skip the gateway when the vendor has no rate for the number
  --vendor-account ID          clearing account whose rates are the vendor's (must exist)
  --host IP|FQDN               SIP server
  --port N                     1..65535; 'default': 5060 (5061 TLS), or SRV for an FQDN
  --transport udp|tcp|tls      default udp
  --outbound-proxy HOST[:PORT] '' = none
  --host-name H                host of From/To ('' = the host)
  --caller-rewrite R | --callee-rewrite R
  --probe yes|no               OPTIONS health probes (default yes)
  --enabled yes|no

NAME: 1..64 letters, digits, '-', '_', '.'. An empty list value ('') clears a list.
exit codes: 0 ok, 1 data or runtime error (unknown account, gateway exists / is missing),
            2 usage error (bad option or value; the message names the option)
)";

const char* const kGroupHelp = R"(usage:
  trunkctl group add NAME --line-limit N
  trunkctl group set NAME --line-limit N
      A gateway group: the vendor gateways naming it share N lines (0 = unlimited,
      0..1000000); a member with --reserved-lines R is not used while fewer than R of the
      group's lines are free (VOS3000 gateway group).
  trunkctl group list [--json]
  trunkctl group remove NAME
      Refused while a vendor gateway is in the group.
  --json (every subcommand): add, set and remove print one object saying what was done,
      e.g. {"group":"g1","added":true,"line_limit":10}, after success only.

exit codes: 0 ok, 1 data or runtime error, 2 usage error
)";

const char* const kRouteHelp = R"(usage:
  trunkctl route explain NUMBER --customer NAME [--caller N] [--policy P] [--at TIME] [--json]
      How a call from customer gateway NAME to NUMBER would be routed now: the customer's
      callee rewrite, the customer's rate (account, caller's phone-private rates), then every
      vendor gateway with a matching prefix: its order among the candidates, matched
      prefix, vendor rate (per minute; effective = a 90 s call's cost per minute) and why it
      would be skipped (disabled, line/group/CPS limits, no_rate with check rate,
      max_minute_rate, profit, shorter_prefix) with the detail.
      --policy vos3000|cost|cost_in_priority (default vos3000); --at: rates in force at TIME
      (UTC, default now). Live counters (current calls, health) are the running switch's and
      are not known here: every gateway counts as idle and up.

exit codes: 0 ok, 1 data or runtime error (unknown customer gateway), 2 usage error
)";

namespace {

namespace lcr = route::lcr;
using LcrStore = route::lcr::sqlite::Store;
using route::lcr::CustomerSpec;
using route::lcr::GroupSpec;
using route::lcr::sqlite::VendorGateway;

using cli::bad;
using cli::Cmd;
using cli::ensure_dir;
using cli::is_ip;
using cli::is_ipv6;
using cli::kOk;
using cli::lower;
using cli::opt_text;
using cli::parse;
using cli::runtime;
using cli::show_value;
using cli::usage;

const Cmd kGateway{"gateway", kGatewayHelp};
const Cmd kGroup{"group", kGroupHelp};
const Cmd kRoute{"route", kRouteHelp};

std::unique_ptr<LcrStore> open_lcr(const std::string& db, std::string* err) {
    ensure_dir(db);
    return LcrStore::open(db, err);
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> w;
    for (const auto& r : rows) {
        w.resize(std::max(w.size(), r.size()));
        for (std::size_t i = 0; i < r.size(); ++i)
            w[i] = std::max(w[i], r[i].size());
    }
    for (const auto& r : rows) {
        std::string line;
        for (std::size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line += std::string(w[i] - r[i].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        std::cout << line << "\n";
    }
}

std::string q(const std::string& s) {
    return "\"" + billing::json_escape(s) + "\"";
}

std::string join(const std::vector<std::string>& v, const char* sep = ",") {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += sep;
        out += v[i];
    }
    return out;
}

std::string json_list(const std::vector<std::string>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i)
        out += (i ? "," : "") + q(v[i]);
    return out + "]";
}

std::string money_text(lcr::Micros m) {
    return billing::Money::from_micros(m).to_string(4);
}

// --- the shared field checks (sw/gateway_form.hpp) ------------------------------------------

// trunkctl's options as the shared checks read them.
class ArgValues final : public sw::gateway_form::Values {
  public:
    explicit ArgValues(const Args& a) : a_(a) {}
    bool has(const std::string& option) const override { return a_.has(option); }
    std::string get(const std::string& option) const override { return a_.get(option); }

  private:
    const Args& a_;
};

// A shared check's verdict as trunkctl's usage error (exit 2), the message unchanged.
int verdict(const Cmd& c, const std::optional<sw::gateway_form::Error>& e) {
    return e ? bad(c, e->message) : kOk;
}

std::optional<std::string> check_name(const char* what, const std::string& v) {
    return sw::gateway_form::check_name(what, v);
}

const std::set<std::string> kCustomerOnly = {
    "--account",      "--auth",         "--ips",          "--sip-user",       "--dest-prefix-limit",
    "--caller-allow", "--caller-deny",  "--callee-allow", "--callee-deny",    "--restriction",
    "--max-rate-type", "--proceeding-timeout"};
const std::set<std::string> kVendorOnly = {
    "--prefixes",        "--group",          "--reserved-lines", "--protect",
    "--lowest-profit",   "--max-minute-rate", "--check-rate",    "--vendor-account",
    "--host",            "--port",           "--transport",      "--outbound-proxy",
    "--host-name",       "--probe"};
const std::set<std::string> kShared = {"--priority", "--line-limit", "--cps-limit",
                                       "--caller-rewrite", "--callee-rewrite", "--enabled"};

// --- customer -------------------------------------------------------------------------------

int apply_customer(const Args& a, CustomerSpec& c) {
    return verdict(kGateway, sw::gateway_form::apply_customer(ArgValues(a), c));
}

int check_customer(CustomerSpec& c) {
    return verdict(kGateway, sw::gateway_form::check_customer(c));
}

std::string rate_type_text(std::uint8_t t) {
    return t <= 3 ? std::string(billing::to_string(static_cast<billing::RateType>(t)))
                  : std::to_string(t);
}

std::string or_dash(const std::string& s, const char* dash = "-") {
    return s.empty() ? dash : s;
}

std::string limit_text(std::uint32_t n) {
    return n ? std::to_string(n) : "unlimited";
}

std::string list_text(const std::vector<std::string>& v) {
    return v.empty() ? "-" : join(v);
}

std::string customer_json(const CustomerSpec& c) {
    return std::string("{\"name\":") + q(c.name) + ",\"account\":" + q(c.account) +
           ",\"auth\":" + q(std::string(lcr::to_string(c.auth))) + ",\"ips\":" + json_list(c.ips) +
           ",\"sip_user\":" + q(c.sip_user) + ",\"priority\":" + std::to_string(c.priority) +
           ",\"line_limit\":" + std::to_string(c.line_limit) +
           ",\"cps_limit\":" + std::to_string(c.cps_limit) +
           ",\"dest_prefix_limit\":" + std::to_string(c.dest_prefix_limit) +
           ",\"caller_allow\":" + json_list(c.caller_allow) +
           ",\"caller_deny\":" + json_list(c.caller_deny) +
           ",\"callee_allow\":" + json_list(c.callee_allow) +
           ",\"callee_deny\":" + json_list(c.callee_deny) +
           ",\"caller_rewrite\":" + q(c.caller_rewrite) +
           ",\"callee_rewrite\":" + q(c.callee_rewrite) +
           ",\"restriction\":" + q(std::string(lcr::to_string(c.restriction))) +
           ",\"max_rate_type\":" + q(rate_type_text(c.max_rate_type)) +
           ",\"proceeding_timeout_s\":" + std::to_string(c.proceeding_timeout_s) +
           ",\"enabled\":" + (c.enabled ? "true" : "false") + "}";
}

void customer_show(const CustomerSpec& c) {
    std::cout << "customer gateway " << c.name << "\n";
    print_table({
        {"  FIELD", "VALUE", "VOS3000"},
        {"  account", c.account, "account"},
        {"  auth", std::string(lcr::to_string(c.auth)), "call authentication mode"},
        {"  ips", list_text(c.ips), "IP (static gateway)"},
        {"  sip user", or_dash(c.sip_user), "gateway ID (dynamic, password)"},
        {"  priority", std::to_string(c.priority), "priority number"},
        {"  line limit", limit_text(c.line_limit), "number of channels"},
        {"  cps limit", limit_text(c.cps_limit), "-"},
        {"  dest prefix limit", limit_text(c.dest_prefix_limit), "-"},
        {"  caller allow", list_text(c.caller_allow), "caller prefix: allow"},
        {"  caller deny", list_text(c.caller_deny), "caller prefix: disallow"},
        {"  callee allow", list_text(c.callee_allow), "callee prefix: allow"},
        {"  callee deny", list_text(c.callee_deny), "callee prefix: disallow"},
        {"  caller rewrite", or_dash(c.caller_rewrite), "caller rewrite rules"},
        {"  callee rewrite", or_dash(c.callee_rewrite), "callee rewrite rules"},
        {"  restriction", std::string(lcr::to_string(c.restriction)), "restriction type"},
        {"  max rate type", rate_type_text(c.max_rate_type), "authorization type"},
        {"  proceeding timeout",
         c.proceeding_timeout_s ? std::to_string(c.proceeding_timeout_s) + " s"
                                : std::string("server default"),
         "proceeding timeout"},
        {"  enabled", c.enabled ? "yes" : "no", "-"},
    });
}

// --- vendor ---------------------------------------------------------------------------------

int apply_vendor(const Args& a, VendorGateway& v) {
    return verdict(kGateway, sw::gateway_form::apply_vendor(ArgValues(a), v));
}

int check_vendor(const VendorGateway& v) {
    return verdict(kGateway, sw::gateway_form::check_vendor(v));
}

std::string prefixes_text(const std::vector<std::string>& p) {
    std::vector<std::string> shown;
    for (const auto& s : p)
        shown.push_back(s.empty() ? "*" : s);
    return list_text(shown);
}

std::string server_text(const VendorGateway& v) {
    const std::string host = is_ipv6(v.host) ? "[" + v.host + "]" : v.host;
    std::string port;
    if (v.port)
        port = std::to_string(v.port);
    else if (is_ip(v.host))
        port = v.transport == "tls" ? "5061" : "5060";
    else
        port = "SRV";
    return host + ":" + port + "/" + v.transport;
}

std::string opt_money(const std::optional<lcr::Micros>& m, const char* unit) {
    return m ? money_text(*m) + unit : std::string("off");
}

std::string json_money(const std::optional<lcr::Micros>& m) {
    return m ? q(billing::Money::from_micros(*m).to_string(4)) : std::string("null");
}

std::string vendor_json(const VendorGateway& v) {
    const lcr::GatewaySpec& g = v.spec;
    return std::string("{\"name\":") + q(g.name) + ",\"prefixes\":" + json_list(g.prefixes) +
           ",\"priority\":" + std::to_string(g.priority) +
           ",\"line_limit\":" + std::to_string(g.line_limit) +
           ",\"cps_limit\":" + std::to_string(g.cps_limit) + ",\"group\":" + q(g.group) +
           ",\"reserved_lines\":" + std::to_string(g.reserved_lines) +
           ",\"protect\":" + (g.protect ? "true" : "false") +
           ",\"lowest_profit_per_s\":" + json_money(g.lowest_profit_per_s) +
           ",\"max_minute_rate\":" + json_money(g.max_minute_rate) +
           ",\"check_rate\":" + (g.check_rate ? "true" : "false") +
           ",\"vendor_account\":" + q(v.vendor_account) + ",\"host\":" + q(v.host) +
           ",\"port\":" + std::to_string(v.port) + ",\"transport\":" + q(v.transport) +
           ",\"outbound_proxy\":" + q(v.outbound_proxy) + ",\"host_name\":" + q(v.host_name) +
           ",\"caller_rewrite\":" + q(v.caller_rewrite) +
           ",\"callee_rewrite\":" + q(v.callee_rewrite) +
           ",\"probe\":" + (v.probe ? "true" : "false") +
           ",\"enabled\":" + (g.enabled ? "true" : "false") + "}";
}

void vendor_show(const VendorGateway& v) {
    const lcr::GatewaySpec& g = v.spec;
    std::cout << "vendor gateway " << g.name << "\n";
    print_table({
        {"  FIELD", "VALUE", "VOS3000"},
        {"  prefixes", prefixes_text(g.prefixes), "gateway prefix"},
        {"  priority", std::to_string(g.priority), "priority"},
        {"  line limit", limit_text(g.line_limit), "line limit"},
        {"  cps limit", limit_text(g.cps_limit), "-"},
        {"  group", or_dash(g.group), "gateway group"},
        {"  reserved lines", std::to_string(g.reserved_lines), "reserved lines"},
        {"  protect", g.protect ? "yes" : "no", "protect route"},
        {"  lowest profit", opt_money(g.lowest_profit_per_s, "/s"), "lowest profit rate limit"},
        {"  max minute rate", opt_money(g.max_minute_rate, "/min"), "max minute rates"},
        {"  check rate", g.check_rate ? "yes" : "no", "check rate"},
        {"  vendor account", v.vendor_account, "clearing account"},
        {"  host", v.host, "SIP server address"},
        {"  port",
         v.port ? std::to_string(v.port)
                : std::string("default (") + (v.transport == "tls" ? "5061" : "5060") +
                      ", or SRV for an FQDN)",
         "signaling port"},
        {"  transport", v.transport, "protocol"},
        {"  outbound proxy", or_dash(v.outbound_proxy), "-"},
        {"  host name", or_dash(v.host_name, "- (the host)"), "host name"},
        {"  caller rewrite", or_dash(v.caller_rewrite), "caller rewrite rules"},
        {"  callee rewrite", or_dash(v.callee_rewrite), "callee rewrite rules"},
        {"  probe", v.probe ? "yes" : "no", "SIP OPTIONS online check"},
        {"  enabled", g.enabled ? "yes" : "no", "-"},
    });
}

// --- billing look-ups -----------------------------------------------------------------------

// kOk when `id` is a billing account; otherwise the exit code after the message naming opt.
int check_account(const std::string& db, const char* opt, const std::string& id, const char* kind) {
    auto st = billing::sqlite::Store::open(db);
    if (!st) return runtime(kGateway, db + ": " + st.error().describe());
    auto acc = st->account(id);
    if (!acc) {
        if (acc.error().code == billing::ErrorCode::unknown_account) {
            return runtime(kGateway, opt_text(opt, id) + ": no billing account " + id +
                                         " (trunkctl accounts add " + id + " --kind " + kind + ")");
        }
        return runtime(kGateway, opt_text(opt, id) + ": " + acc.error().describe());
    }
    return kOk;
}

int check_sip_user(const std::string& db, const std::string& user) {
    std::string err;
    auto st = route::reg::sqlite::Store::open(db, &err);
    if (!st) return runtime(kGateway, err);
    auto u = st->user(user, &err);
    if (!err.empty()) return runtime(kGateway, err);
    if (!u) {
        return runtime(kGateway, opt_text("--sip-user", user) + ": no SIP user " + user +
                                     " (trunkctl user add " + user + ")");
    }
    return kOk;
}

bool json_format(const Cmd& c, const Args& a, int& rc) {
    rc = kOk;
    std::string f;
    if (!cli::json_format(a, f)) {
        rc = bad(c, cli::json_conflict(a));
        return false;
    }
    if (f != "table" && f != "json") {
        rc = bad(c, opt_text("--format", f) + ": use table or json");
        return false;
    }
    return f == "json";
}

int gateway_list(LcrStore& st, const std::string& side, bool json) {
    std::string err;
    std::vector<CustomerSpec> cs;
    std::vector<VendorGateway> vs;
    if (side != "vendor") {
        cs = st.customers(&err);
        if (!err.empty()) return runtime(kGateway, err);
    }
    if (side != "customer") {
        vs = st.vendors(&err);
        if (!err.empty()) return runtime(kGateway, err);
    }
    if (json) {
        std::string out = "{";
        if (side != "vendor") {
            out += "\"customers\":[";
            for (std::size_t i = 0; i < cs.size(); ++i)
                out += (i ? "," : "") + customer_json(cs[i]);
            out += "]";
        }
        if (side != "customer") {
            if (side != "vendor") out += ",";
            out += "\"vendors\":[";
            for (std::size_t i = 0; i < vs.size(); ++i)
                out += (i ? "," : "") + vendor_json(vs[i]);
            out += "]";
        }
        std::cout << out << "}\n";
        return kOk;
    }
    if (side != "vendor") {
        if (cs.empty()) {
            std::cout << "no customer gateways\n";
        } else {
            std::vector<std::vector<std::string>> rows{
                {"CUSTOMER", "ACCOUNT", "AUTH", "ADDRESSES/USER", "PRIORITY", "LINES", "CPS", "ENABLED"}};
            for (const auto& c : cs) {
                rows.push_back({c.name, c.account, std::string(lcr::to_string(c.auth)),
                                c.auth == lcr::AuthMode::digest ? c.sip_user : list_text(c.ips),
                                std::to_string(c.priority), limit_text(c.line_limit),
                                limit_text(c.cps_limit), c.enabled ? "yes" : "no"});
            }
            print_table(rows);
        }
    }
    if (side.empty()) std::cout << "\n";
    if (side != "customer") {
        if (vs.empty()) {
            std::cout << "no vendor gateways\n";
        } else {
            std::vector<std::vector<std::string>> rows{{"VENDOR", "ACCOUNT", "PREFIXES", "SERVER",
                                                        "PRIORITY", "LINES", "GROUP", "ENABLED"}};
            for (const auto& v : vs) {
                rows.push_back({v.spec.name, v.vendor_account, prefixes_text(v.spec.prefixes),
                                server_text(v), std::to_string(v.spec.priority),
                                limit_text(v.spec.line_limit), or_dash(v.spec.group),
                                v.spec.enabled ? "yes" : "no"});
            }
            print_table(rows);
        }
    }
    return kOk;
}

}  // namespace

int cmd_gateway(const std::string& db, int argc, char** argv, int first) {
    OptionSpec spec;
    spec.flags = {"--json"};
    spec.with_value = {"--format"};
    const std::string peek = first < argc ? argv[first] : "";
    const bool writing = peek == "add" || peek == "set";
    if (writing) {
        for (const auto* set : {&kCustomerOnly, &kVendorOnly, &kShared})
            spec.with_value.insert(set->begin(), set->end());
        spec.with_value.erase("--format");
    }
    Args a;
    std::string sub;
    if (int rc = parse(kGateway, argc, argv, first, spec, a, sub); rc >= 0) return rc;
    if (sub != "add" && sub != "set" && sub != "list" && sub != "show" && sub != "remove") {
        return usage(kGateway, "unknown subcommand '" + sub + "'");
    }
    const auto& pos = a.positionals();
    if (sub == "list" ? pos.size() > 1 : pos.size() != 2) {
        return usage(kGateway, "gateway " + sub +
                                   (sub == "list" ? " takes at most customer|vendor"
                                                  : " needs customer|vendor NAME"));
    }
    const std::string side = pos.empty() ? std::string() : pos[0];
    if (!side.empty() && side != "customer" && side != "vendor") {
        return usage(kGateway, "gateway " + sub + ": the side is customer or vendor, not " +
                                   show_value(side));
    }
    const std::string name = pos.size() > 1 ? pos[1] : std::string();
    if (pos.size() > 1) {
        if (auto e = check_name("gateway", name)) return bad(kGateway, *e);
    }
    int rc = kOk;
    const bool json = writing ? false : json_format(kGateway, a, rc);
    if (rc != kOk) return rc;
    if ((sub == "remove") && a.has("--format")) return usage(kGateway, "gateway remove takes no --format");

    CustomerSpec cust;
    VendorGateway vend;
    if (writing) {
        // Every option belongs to the side; then each value alone (usage errors first).
        const auto& other = side == "customer" ? kVendorOnly : kCustomerOnly;
        bool any = false;
        for (const auto& o : spec.with_value) {
            if (!a.has(o)) continue;
            any = true;
            if (other.count(o) != 0) {
                return bad(kGateway, o + " is a " + (side == "customer" ? "vendor" : "customer") +
                                         " gateway option, not a " + side + " one");
            }
        }
        if (sub == "set" && !any) return usage(kGateway, "gateway set needs at least one option");
        cust.name = vend.spec.name = name;
        rc = side == "customer" ? apply_customer(a, cust) : apply_vendor(a, vend);
        if (rc != kOk) return rc;
        if (sub == "add") {
            rc = side == "customer" ? check_customer(cust) : check_vendor(vend);
            if (rc != kOk) return rc;
        }
    }

    std::string err;
    auto st = open_lcr(db, &err);
    if (!st) return runtime(kGateway, err);
    if (sub == "list") return gateway_list(*st, side, json);

    std::optional<CustomerSpec> cur_c;
    std::optional<VendorGateway> cur_v;
    if (side == "customer") {
        auto all = st->customers(&err);
        if (!err.empty()) return runtime(kGateway, err);
        for (auto& c : all)
            if (c.name == name) cur_c = std::move(c);
    } else {
        auto all = st->vendors(&err);
        if (!err.empty()) return runtime(kGateway, err);
        for (auto& v : all)
            if (v.spec.name == name) cur_v = std::move(v);
    }
    const bool exists = side == "customer" ? cur_c.has_value() : cur_v.has_value();
    const std::string what = side + " gateway " + name;

    if (sub == "show") {
        if (!exists) return runtime(kGateway, "no " + what);
        if (json) {
            std::cout << (side == "customer" ? customer_json(*cur_c) : vendor_json(*cur_v)) << "\n";
        } else if (side == "customer") {
            customer_show(*cur_c);
        } else {
            vendor_show(*cur_v);
        }
        return kOk;
    }
    if (sub == "remove") {
        const bool ok = side == "customer" ? st->remove_customer(name, &err)
                                           : st->remove_vendor(name, &err);
        if (!ok) return runtime(kGateway, exists ? err : "no " + what);
        return cli::done(a, "removed " + what + "\n",
                         {{"gateway", q(name)}, {"side", q(side)}, {"removed", "true"}});
    }
    if (sub == "add" && exists) {
        return runtime(kGateway, what + " already exists (trunkctl gateway set " + side + " " +
                                     name + " changes it)");
    }
    if (sub == "set") {
        if (!exists) {
            return runtime(kGateway, "no " + what + " (trunkctl gateway add " + side + " " + name +
                                         " adds it)");
        }
        if (side == "customer") {
            cust = *cur_c;
            rc = apply_customer(a, cust);
            if (rc == kOk) rc = check_customer(cust);
        } else {
            vend = *cur_v;
            rc = apply_vendor(a, vend);
            if (rc == kOk) rc = check_vendor(vend);
        }
        if (rc != kOk) return rc;
    }
    // Data checks: the named accounts, group and SIP user exist.
    if (side == "customer") {
        if (a.has("--account") || sub == "add") {
            if (int r = check_account(db, "--account", cust.account, "customer"); r) return r;
        }
        if (cust.auth == lcr::AuthMode::digest && (a.has("--sip-user") || a.has("--auth"))) {
            if (int r = check_sip_user(db, cust.sip_user); r) return r;
        }
        if (!st->put_customer(cust, &err)) return runtime(kGateway, err);
        const std::string auth = std::string(lcr::to_string(cust.auth)) + " " +
                                 (cust.auth == lcr::AuthMode::digest ? cust.sip_user : join(cust.ips));
        return cli::done(a,
                         (sub == "add" ? "added " : "updated ") + what + " (account " + cust.account + ", auth " +
                             auth + (cust.enabled ? "" : ", disabled") + ")\n",
                         {{"gateway", q(name)}, {"side", q(side)}, {sub == "add" ? "added" : "updated", "true"},
                          {"account", q(cust.account)}, {"auth", q(auth)}, {"enabled", cli::json_bool(cust.enabled)}});
    }
    if (a.has("--vendor-account") || sub == "add") {
        if (int r = check_account(db, "--vendor-account", vend.vendor_account, "vendor"); r) return r;
    }
    if (a.has("--group") && !vend.spec.group.empty()) {
        auto groups = st->groups(&err);
        if (!err.empty()) return runtime(kGateway, err);
        const bool found = std::any_of(groups.begin(), groups.end(),
                                       [&](const GroupSpec& g) { return g.name == vend.spec.group; });
        if (!found) {
            return runtime(kGateway, opt_text("--group", vend.spec.group) + ": no gateway group " +
                                         vend.spec.group + " (trunkctl group add " +
                                         vend.spec.group + " --line-limit N)");
        }
    }
    if (!st->put_vendor(vend, &err)) return runtime(kGateway, err);
    return cli::done(a,
                     (sub == "add" ? "added " : "updated ") + what + " (prefixes " + prefixes_text(vend.spec.prefixes) +
                         ", " + server_text(vend) + ", account " + vend.vendor_account +
                         (vend.spec.enabled ? "" : ", disabled") + ")\n",
                     {{"gateway", q(name)}, {"side", q(side)}, {sub == "add" ? "added" : "updated", "true"},
                      {"prefixes", q(prefixes_text(vend.spec.prefixes))}, {"server", q(server_text(vend))},
                      {"account", q(vend.vendor_account)}, {"enabled", cli::json_bool(vend.spec.enabled)}});
}

int cmd_group(const std::string& db, int argc, char** argv, int first) {
    OptionSpec spec;
    const std::string peek = first < argc ? argv[first] : "";
    if (peek == "add" || peek == "set") spec.with_value = {"--line-limit"};
    if (peek == "list") spec.with_value = {"--format"};
    spec.flags = {"--json"};
    Args a;
    std::string sub;
    if (int rc = parse(kGroup, argc, argv, first, spec, a, sub); rc >= 0) return rc;
    if (sub != "add" && sub != "set" && sub != "list" && sub != "remove") {
        return usage(kGroup, "unknown subcommand '" + sub + "'");
    }
    const auto& pos = a.positionals();
    const std::size_t want = sub == "list" ? 0 : 1;
    if (pos.size() != want) {
        return usage(kGroup, "group " + sub + (want ? " needs NAME" : " takes no arguments"));
    }
    const std::string name = want ? pos[0] : std::string();
    if (want) {
        if (auto e = check_name("group", name)) return bad(kGroup, *e);
    }
    GroupSpec g{name, 0};
    if (sub == "add" || sub == "set") {
        if (!a.has("--line-limit")) return usage(kGroup, "group " + sub + " needs --line-limit N");
        if (int rc = verdict(kGroup, sw::gateway_form::apply_group(ArgValues(a), g)); rc) return rc;
    }
    int rc = kOk;
    const bool json = sub == "list" && json_format(kGroup, a, rc);
    if (rc != kOk) return rc;
    std::string err;
    auto st = open_lcr(db, &err);
    if (!st) return runtime(kGroup, err);
    auto groups = st->groups(&err);
    if (!err.empty()) return runtime(kGroup, err);
    auto vendors = st->vendors(&err);
    if (!err.empty()) return runtime(kGroup, err);
    auto members = [&](const std::string& group) {
        std::vector<std::string> out;
        for (const auto& v : vendors)
            if (v.spec.group == group) out.push_back(v.spec.name);
        return out;
    };
    if (sub == "list") {
        if (json) {
            std::string out = "[";
            for (std::size_t i = 0; i < groups.size(); ++i) {
                out += std::string(i ? "," : "") + "{\"name\":" + q(groups[i].name) +
                       ",\"line_limit\":" + std::to_string(groups[i].line_limit) +
                       ",\"gateways\":" + json_list(members(groups[i].name)) + "}";
            }
            std::cout << out << "]\n";
            return kOk;
        }
        if (groups.empty()) {
            std::cout << "no gateway groups\n";
            return kOk;
        }
        std::vector<std::vector<std::string>> rows{{"GROUP", "LINES", "GATEWAYS"}};
        for (const auto& x : groups)
            rows.push_back({x.name, limit_text(x.line_limit), list_text(members(x.name))});
        print_table(rows);
        return kOk;
    }
    const bool exists = std::any_of(groups.begin(), groups.end(),
                                    [&](const GroupSpec& x) { return x.name == name; });
    if (sub == "remove") {
        if (!exists) return runtime(kGroup, "no gateway group " + name);
        if (auto m = members(name); !m.empty()) {
            return runtime(kGroup, "gateway group " + name + " is used by vendor gateway(s) " +
                                       join(m, ", ") + " (trunkctl gateway set vendor " + m[0] +
                                       " --group '')");
        }
        if (!st->remove_group(name, &err)) return runtime(kGroup, err);
        return cli::done(a, "removed gateway group " + name + "\n", {{"group", q(name)}, {"removed", "true"}});
    }
    if (sub == "add" && exists) {
        return runtime(kGroup, "gateway group " + name + " already exists (trunkctl group set " +
                                   name + " changes it)");
    }
    if (sub == "set" && !exists) {
        return runtime(kGroup, "no gateway group " + name + " (trunkctl group add " + name +
                                   " adds it)");
    }
    if (!st->put_group(g, &err)) return runtime(kGroup, err);
    return cli::done(a,
                     std::string(sub == "add" ? "added" : "updated") + " gateway group " + name + " (" +
                         limit_text(g.line_limit) + " lines)\n",
                     {{"group", q(name)}, {sub == "add" ? "added" : "updated", "true"},
                      {"line_limit", std::to_string(g.line_limit)}});
}

// --- route explain ----------------------------------------------------------------------------

int cmd_route(const std::string& db, int argc, char** argv, int first) {
    OptionSpec spec{{"--customer", "--caller", "--policy", "--at", "--format"}, {"--json"}};
    Args a;
    std::string sub;
    if (int rc = parse(kRoute, argc, argv, first, spec, a, sub); rc >= 0) return rc;
    if (sub != "explain") return usage(kRoute, "unknown subcommand '" + sub + "'");
    const auto& pos = a.positionals();
    if (pos.size() != 1) return usage(kRoute, "route explain needs NUMBER");
    const std::string number = pos[0];
    if (number.empty()) return bad(kRoute, "NUMBER is empty");
    if (!a.has("--customer")) return usage(kRoute, "route explain needs --customer NAME");
    const std::string customer = a.get("--customer");
    if (auto e = check_name("customer gateway", customer)) return bad(kRoute, "--customer: " + *e);
    const std::string caller = a.get("--caller");
    lcr::Policy policy = lcr::Policy::vos3000;
    if (a.has("--policy")) {
        auto p = lcr::parse_policy(lower(a.get("--policy")));
        if (!p) {
            return bad(kRoute, opt_text("--policy", a.get("--policy")) +
                                   ": use vos3000, cost or cost_in_priority");
        }
        policy = *p;
    }
    billing::Timestamp at = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
    if (a.has("--at")) {
        auto t = billing::parse_time(a.get("--at"));
        if (!t) return bad(kRoute, opt_text("--at", a.get("--at")) + ": " + t.error().message);
        at = *t;
    }
    int rc = kOk;
    const bool json = json_format(kRoute, a, rc);
    if (rc != kOk) return rc;

    std::string err;
    auto st = open_lcr(db, &err);
    if (!st) return runtime(kRoute, err);
    auto snap = st->load(&err);
    if (!snap) return runtime(kRoute, err);
    const CustomerSpec* cust = nullptr;
    for (const auto& c : snap->customers)
        if (c.name == customer) cust = &c;
    if (cust == nullptr) return runtime(kRoute, "--customer " + customer + ": no customer gateway " + customer);

    auto bst = billing::sqlite::Store::open(db);
    if (!bst) return runtime(kRoute, db + ": " + bst.error().describe());
    auto book = bst->load_book();
    if (!book) return runtime(kRoute, book.error().describe());
    auto currency = bst->currency();
    if (!currency) return runtime(kRoute, currency.error().describe());

    // The customer's callee rewrite, then the customer's rate for the routed number.
    std::string routed = number;
    if (!cust->callee_rewrite.empty()) {
        std::string rerr;
        auto rules = lcr::RewriteRules::parse(cust->callee_rewrite, &rerr);
        if (!rules) return runtime(kRoute, "customer gateway " + customer + " callee rewrite: " + rerr);
        rules->apply(number, routed);
    }
    sw::BillingRatesConfig bcfg;
    bcfg.currency = *currency;
    sw::BillingRates rates(*book, bcfg);
    rates.set_time(at);
    const auto cq = rates.customer_rate(cust->account, routed, caller);

    std::vector<lcr::GatewaySpec> specs;
    for (const auto& v : snap->vendors) {
        lcr::GatewaySpec g = v.spec;
        g.rate_key = rates.key_for_vendor(v.vendor_account);
        specs.push_back(std::move(g));
    }
    lcr::RouterConfig rcfg;
    rcfg.policy = policy;
    lcr::Router router(rcfg);
    router.set_gateways(std::move(specs), snap->groups);
    lcr::RouteRequest rq{.number = routed,
                         .customer_per_minute =
                             cq ? std::optional<lcr::Micros>(cq->per_minute) : std::nullopt};
    std::vector<lcr::Explained> lines;
    router.explain(rq, rates, lcr::Nanos{0}, lines);

    std::vector<std::string> notes;
    if (!cust->enabled) notes.push_back("customer gateway " + customer + " is disabled");
    if (cust->restriction == lcr::Restriction::call_out_barring ||
        cust->restriction == lcr::Restriction::all) {
        notes.push_back("customer gateway " + customer + " is barred (" +
                        std::string(lcr::to_string(cust->restriction)) + ")");
    }
    if (!cq) {
        notes.push_back("no customer rate for " + routed + " (account " + cust->account +
                        "): the call would be refused and every profit guard skips");
    } else if (cust->max_rate_type <= 3 &&
               !billing::authorized(cq->type,
                                    static_cast<billing::RateType>(cust->max_rate_type))) {
        notes.push_back("rate type " + std::string(billing::to_string(cq->type)) +
                        " is above the customer's authorization type " +
                        rate_type_text(cust->max_rate_type) + ": the call would be refused");
    }

    if (json) {
        std::string out = "{\"number\":" + q(number) + ",\"routed\":" + q(routed) +
                          ",\"customer\":" + q(customer) + ",\"account\":" + q(cust->account) +
                          ",\"policy\":" + q(std::string(lcr::to_string(policy))) +
                          ",\"customer_rate\":";
        if (cq) {
            out += "{\"per_minute\":" + q(money_text(cq->per_minute)) + ",\"prefix\":" +
                   q(cq->prefix) + ",\"area\":" + q(cq->area) + ",\"type\":" +
                   q(std::string(billing::to_string(cq->type))) + "}";
        } else {
            out += "null";
        }
        out += ",\"notes\":" + json_list(notes) + ",\"gateways\":[";
        for (std::size_t i = 0; i < lines.size(); ++i) {
            const auto& e = lines[i];
            out += std::string(i ? "," : "") + "{\"order\":" + std::to_string(e.order) +
                   ",\"name\":" + q(e.gateway) + ",\"prefix\":" + q(e.prefix) +
                   ",\"protect\":" + (e.protect ? "true" : "false") + ",\"vendor_rate\":" +
                   (e.vendor_rate ? q(money_text(e.vendor_rate->per_minute)) : "null") +
                   ",\"effective_rate\":" +
                   (e.vendor_rate ? q(money_text(e.vendor_rate->effective_per_minute)) : "null") +
                   ",\"skip\":" + q(std::string(lcr::to_string(e.skip))) +
                   ",\"detail\":" + q(e.detail) + "}";
        }
        std::cout << out << "]}\n";
        return kOk;
    }
    std::cout << "number " << number;
    if (routed != number) std::cout << " -> " << routed << " (callee rewrite of " << customer << ")";
    std::cout << "\ncustomer " << customer << ", account " << cust->account << ", rate ";
    if (cq) {
        std::cout << money_text(cq->per_minute) << "/min (prefix " << cq->prefix
                  << (cq->area.empty() ? "" : " " + show_value(cq->area)) << ", "
                  << billing::to_string(cq->type) << ")";
    } else {
        std::cout << "none";
    }
    std::cout << "\npolicy " << lcr::to_string(policy) << "\n";
    for (const auto& n : notes)
        std::cout << "note: " << n << "\n";
    if (lines.empty()) {
        std::cout << "no vendor gateway has a prefix matching " << routed << "\n";
        return kOk;
    }
    std::vector<std::vector<std::string>> rows{
        {"ORDER", "GATEWAY", "PREFIX", "RATE/MIN", "EFFECTIVE", "SKIP", "DETAIL"}};
    for (const auto& e : lines) {
        rows.push_back({e.skip == lcr::Skip::none ? std::to_string(e.order) + (e.protect ? " (protect)" : "")
                                                  : std::string("-"),
                        e.gateway, e.prefix.empty() ? "*" : e.prefix,
                        e.vendor_rate ? money_text(e.vendor_rate->per_minute) : "-",
                        e.vendor_rate ? money_text(e.vendor_rate->effective_per_minute) : "-",
                        e.skip == lcr::Skip::none ? "-" : std::string(lcr::to_string(e.skip)),
                        or_dash(e.detail)});
    }
    print_table(rows);
    return kOk;
}

}  // namespace trunkctl

// trunkctl — operators' command line for Trunkline: registration (SIP users, bindings,
// suspensions, carrier registrations), gateways and routing, carrier domains, calls, and
// billing (rates, accounts, CDRs, reports, reconciliation), all on the SQLite database
// trunkline runs on (default var/trunkline.db).
//
//   trunkctl accounts add 1001 --kind customer --balance 50 --credit 10 --rate-group retail
//   trunkctl rates import carrierA carrierA.csv --map prefix=Code,price=Rate --replace
//   trunkctl rates autocreate retail --from carrierA,carrierB --margin 15%
//   trunkctl cdr import calls.csv
//   trunkctl report revenue --from 2026-11-01 --until 2026-12-01 --format csv
//
// Exit codes: 0 success; 1 runtime or data error (bad input file, unknown account, database
// locked or full, ...), with a message naming the line and field; 2 usage error.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "args.hpp"
#include "cli_util.hpp"
#include "domain_cmd.hpp"
#include "call_cmd.hpp"
#include "reg_cmd.hpp"
#include "token_cmd.hpp"
#include "backup_cmd.hpp"
#include "trace_cmd.hpp"
// Registration, domains and calls need only the SIP and routing libraries; the billing
// commands and the gateway/route commands (which rate through billing) are built with the
// billing option (tools/trunkctl/meson.build sets TRUNKCTL_BILLING).
#if TRUNKCTL_BILLING
#include "gateway_cmd.hpp"
#include "billing_settings_cmd.hpp"
#include "deck_cmd.hpp"
#include "package_cmd.hpp"
#include "commitment_cmd.hpp"
#include "billing/cdr.hpp"
#include "billing/csv.hpp"
#include "billing/deck.hpp"
#include "billing/rating.hpp"
#include "billing/reconcile.hpp"
#include "billing/report.hpp"
#include "billing/sqlite/store.hpp"
#include "billing/volume_pricing.hpp"
#endif

namespace fs = std::filesystem;
#if TRUNKCTL_BILLING
using namespace billing;
using billing::sqlite::Store;
#endif
using trunkctl::Args;
using trunkctl::OptionSpec;

namespace {

constexpr int kOk = 0;
constexpr int kRuntime = 1;
constexpr int kUsage = 2;

const char* const kMainHelp = R"(usage: trunkctl [--db PATH] [--api ADDR:PORT|URL [--token T] [--cacert F] | --offline]
                COMMAND [ARGS] [--help]

The operators' tool of the Trunkline softswitch: registration (the registrar's users,
bindings and suspensions, registrations at carriers), gateways and routing, carrier
domains, the running switch's calls, and billing. It works on the SQLite database PATH
that trunkline runs on (default var/trunkline.db; its directory is created if missing);
a running trunkline notices changes within a second.

commands:
  rates import|export|autocreate|list|alarms|template|group
                                               rate groups, rate decks and import templates
  accounts add|set|list|show|topup|private|phone|max-duration
                                               customer, vendor and agent accounts
  billing show|set                             rating settings: currency precision and
                                               rounding, hold-time precision, free time
  cdr import|export                            rate call records / export CDRs
  tiers add|remove|list|usage                  tiered pricing by monthly volume (cdr import)
  packages add|remove|list|usage               minutes to prefixes sold for a fee (VOS3000 packages)
  commitments add|remove|list                  contracted minutes per month and their discount
  report revenue|clearing|gateway|settlement|profit|asr|breakeven|agent-income|
                packages|commitments
  reconcile FILE --vendor ID                   compare a vendor's CDR file with ours
  audit                                        check balances against ledger and CDRs
  domain list|show|add|remove|resolve          carrier domain entries and their DNS status
  user add|passwd|remove|list                  SIP users of the registrar (HA1 only)
  binding list|show|remove                     the registrar's bindings (registered contacts)
  suspend list|lift                            registrar suspensions (failed authentication)
  trunk-reg add|set|remove|list|show|register  registrations at carriers and their live state
  gateway add|set|list|show|remove customer|vendor NAME
                                               customer (mapping) and vendor (routing) gateways
  group add|set|list|remove NAME               gateway groups (shared line limit)
  gateway status                               vendor gateways' live calls and health
  call list|hangup ID                          the running switch's calls
  token add|list|remove NAME                   management API bearer tokens (hashed)
  backup FILE                                  online copy of the database (SQLite backup API)
  trace start|list|get|stop                    capture the calls matching a filter as pcap
                                               (the running server's API only)
  route explain NUMBER --customer NAME         LCR order and every skip for one number

One control path per invocation: with --api ADDR:PORT or a URL http(s)://HOST:PORT (or
$TRUNKLINE_API), a bearer token (--token or $TRUNKLINE_TOKEN) and for https --cacert FILE
(or $TRUNKLINE_CACERT), the live commands ask the running trunkline through its management
API: call list|hangup, gateway status, suspend list|lift, binding list|show|remove, domain
list|show|resolve, trunk-reg list|show|register, trace. An API given but unreachable is an
error (exit 1), never a silent fall back. Without an API, or with --offline, they work on
the database as the server publishes it (offline work). Data edits (accounts, gateways,
rates, users, domain and trunk-reg entries, ...) always write the database, checked and in
one transaction; a running trunkline reloads them within a second.

Every command accepts --help and --json: read commands print their data as one JSON
document (where --format exists, --json is --format json; --json with another --format
is a usage error), write commands one JSON object saying what was done, printed only
after success; errors stay on stderr. Amounts are decimal text ("0.0125"); times are
"YYYY-MM-DD[ HH:MM[:SS]]" in UTC. rates, accounts, cdr, report, reconcile, audit, gateway
(but gateway status), group and route exist only in a trunkctl built with billing
(meson -Dbilling=true, the default); the rest never needs it.

exit codes: 0 ok, 1 runtime or data error, 2 usage error
)";

#if TRUNKCTL_BILLING
const char* const kRatesHelp = R"(usage:
  trunkctl rates import GROUP FILE [--template NAME] [--map SPEC] [--delimiter C] [--no-header]
                                   [--first-line N | --skip N] [--decimal-comma] [--encoding E]
                                   [--date-format F] [--increment S] [--first-period S]
                                   [--allow-zero-price] [--replace]
      Import a CSV rate deck into rate group GROUP, all or nothing. Every bad line is
      reported with its line number and column; duplicates (same prefix, period and
      effective date), lines with more or fewer fields than the header, text that is not
      UTF-8 and a deck without rates are errors. --map maps fields to columns by header
      name or number:
        prefix=Code,area=Destination,price=Rate,increment=#5,effective_from=Date
      fields: prefix price area type first_period first_price increment connection_fee
              effective_from effective_until period
      An increment written "first/increment" ("60/60", "30/6") sets the first period too.
      --template NAME: a stored layout (rates template); options given here override it.
      --encoding utf-8|latin1|cp1252 (default utf-8); --date-format e.g. dd/MM/yyyy;
      --first-line N: the header (or first data line) is line N; --allow-zero-price: a
      price of 0 is meant (free calls), otherwise an error.
      --replace deletes the group's existing rates first (otherwise same keys are updated).
  trunkctl rates export GROUP [--out FILE] [--json]
      Write the group's rates as CSV (re-importable without --map); --json: an array of
      objects with the CSV's columns as keys, every value a string.
  trunkctl rates autocreate GROUP --from VGROUP[,VGROUP...] (--margin R | --markup R)
                               [--precision N] [--at TIME] [--replace] [--dry-run]
      Create customer rates from vendor rate groups: for each prefix the cheapest vendor
      rate; customer = vendor / (1 - margin) or vendor * (1 + markup), rounded UP to
      --precision decimals (default: the database currency precision). R is "0.15" or "15%".
      --json: {"group","created"}; with --dry-run the deck as rates export --json prints it.
  trunkctl rates list [--format table|csv|json | --json]
      Rate groups (empty ones too) with their number of rates and of accounts using them:
      an aligned table with a header by default; JSON is an array of
      {"group","rates","accounts"} objects.
  trunkctl rates group add GROUP
      Create an empty rate group (an account can only name a group that exists).
  trunkctl rates template add|list|remove ...
      Named import layouts (VOS3000 feerate_template.conf); see rates template --help.
  trunkctl rates alarms GROUP --vendors VGROUP[,VGROUP...] [--at TIME] [--format F | --json]
      Negative-margin alarm list: prefixes where GROUP's price is below a vendor's.
  --json (every subcommand): import prints {"group","imported"}, group add
      {"group","created":true}; read commands print JSON (as --format json).
)";

const char* const kAccountsHelp = R"(usage:
  trunkctl accounts add ID --kind customer|vendor|agent [--name N] [--balance X] [--credit X]
                           [--rate-group G] [--agent ID] [--memo M]
                           [--commission P] [--commission-basis charge|profit]
      --credit is the maximum overdraft (VOS3000 "maximum credit"). --agent ID makes the
      account a sub-account of agent account ID (VOS3000 agent accounts). --commission
      (agents only) is the agent's share of its sub-accounts' charge (default) or profit,
      "5%" or "0.05", 0% to 100%; see report agent-income.
  trunkctl accounts set ID [--name N] [--credit X] [--rate-group G] [--agent ID|""] [--memo M]
                           [--commission P] [--commission-basis charge|profit]
      Change those fields of an existing account (the balance moves only by topup).
  trunkctl accounts list [--format table|csv|json | --json]
  trunkctl accounts show ID [--json]
      Account details and its ledger; --json: one object with the same fields and
      "ledger":[{"at","kind","amount","memo"}] (amounts as strings).
  trunkctl accounts topup ID AMOUNT [--memo M]
      Add AMOUNT (negative: an adjustment) to the balance, with a ledger entry.
  trunkctl accounts private ID GROUP
      Bind rate group GROUP as the account's private rates ("" to remove).
  trunkctl accounts phone NUMBER GROUP
      Bind rate group GROUP as private rates of caller NUMBER ("" to remove).
  trunkctl accounts max-duration ACCOUNT NUMBER [--caller N] [--at TIME]
      The longest call the balance allows to NUMBER (what the switch uses); see its --help.
  --json (every subcommand): add, set, topup, private and phone print one object saying
      what was done after success, e.g. topup {"account":"C1","balance":"10.0000"}.
)";

const char* const kCdrHelp = R"(usage:
  trunkctl cdr import FILE [--batch N] [--json]
      Rate the call records in CSV FILE and store them with their money movements
      (N per transaction, default 1000). Columns (header names): caller, callee,
      callee_out, customer, customer_gateway, vendor, vendor_gateway, setup, answer
      (empty = unanswered), end, sip_code, end_reason, hangup (caller|callee|server),
      call_id_in, call_id_out. All lines are checked and rated first; any error
      (reported with line and field) and nothing is stored. After storing, each account
      whose available balance (balance + credit limit) the import took below zero gets a
      line "credit limit crossed: ID available X (was Y), Z below zero" (exit code 0).
      --json: {"stored":N,"revenue":"X","credit_limit_crossed":[{"account":"ID",
      "available":"X","was":"Y","below":"Z"}]}. Customers with volume tiers (trunkctl
      tiers) are priced by their volume of the local month, counting calls in file order;
      then a package of the customer (trunkctl packages) covers the first billed seconds
      of a call to its prefixes while it has seconds left, and the rest is charged.
  trunkctl cdr export [--from T] [--until T] [--customer ID] [--vendor ID]
                      [--format csv|json | --json] [--out FILE] [--hourly DIR]
      The CDRs ending in [from, until), of one customer and/or vendor account (which must
      exist), as CSV (default) or a JSON array (amounts as strings), with rate_deviation
      (customer_price - vendor_price per minute); duration_s is the talk time (VOS3000
      holdTime), hold_s setup -> end. --hourly writes VOS3000-style pipe-delimited files
      DIR/YYYYMMDDHH.txt instead (VOS3000's fields at their positions: 5 holdTime, 7
      endDirection, 16 calleeBilling 0, 17 billingMode 1; docs/billing.md).
)";

const char* const kTiersHelp = R"(usage:
  trunkctl tiers add ACCOUNT PREFIX --from-minutes N --price X [--bonus-minutes B]
      Tiered pricing by monthly volume for customer ACCOUNT's calls to PREFIX: once the
      account's billed minutes to PREFIX in the local calendar month (calendar.timezone)
      reached N, calls cost X per minute (replacing the rate's price and first price; the
      rate's first period, increment and connection fee stay). The whole call is priced
      at the tier in which it starts. The same ACCOUNT PREFIX N again replaces the tier.
      --bonus-minutes B (N > 0): the call that takes the month's volume to N minutes grants
      B free minutes to PREFIX, a package "bonus-PREFIX-YYYY-MM-Nm" valid to the end of the
      local month (packages list shows it). Applied by the running switch and cdr import.
  trunkctl tiers remove ACCOUNT PREFIX --from-minutes N
  trunkctl tiers list [--format table|csv|json | --json]
  trunkctl tiers usage ACCOUNT PREFIX --month YYYY-MM [--json]
      The billed seconds counted toward the tiers in that month; --json:
      {"account","prefix","month","billed_s"}.
  --json (every subcommand): add and remove print one object saying what was done, e.g.
      {"account":"C1","prefix":"44","from_minutes":100,"price":"0.0100"}.
)";

const char* const kReportHelp = R"(usage:
  trunkctl report KIND [--from T] [--until T] [--format table|csv|json | --json] [--by KEY]
                       [--agent ID]
  KIND:
    revenue      revenue per customer
    clearing     cost per vendor; --by gateway: per vendor gateway
    gateway      gateway bill: per customer (mapping) gateway
    settlement   summary of financial settlement: revenue, cost, profit, margin
    profit       profit by area and prefix; --by customer: per customer; with the
                 lowest and highest rate deviation (customer - vendor price per minute,
                 VOS3000 "Rate deviation") of each row's answered calls
    asr          ASR and ACD per vendor gateway and destination area
    breakeven    --fixed-costs X: minutes needed to cover X at the period's profit/minute
    agent-income VOS3000 Agent Income: per agent and sub-account calls, minutes, charge,
                 cost, profit and the agent's commission (rounded once per sub-account
                 and period at the currency precision); --agent ID: one agent only;
                 --json is --format json
    packages     VOS3000 packages: per package valid in the period (default: all),
                 account, prefixes, validity, minutes included, used and left, fee
    commitments  --month YYYY-MM (not --from/--until): per customer commitment
                 (trunkctl commitments), the contracted, actual and shortfall minutes of
                 the local calendar month (calendar.timezone), met, the charge and the
                 discount earned
  Amounts in JSON are strings (exact decimals).
)";

const char* const kReconcileHelp = R"(usage:
  trunkctl reconcile FILE --vendor ID [--map SPEC] [--delimiter C] [--decimal-comma]
                          [--from T] [--until T] [--tolerance SECONDS] [--duration-tolerance S]
                          [--format table|csv|json | --json]
      Match the vendor's CDR CSV against our CDRs with that vendor: same called number
      (digits), start within the tolerance (default 5 s), closest duration. Reports the
      matched calls, calls missing on either side, duration differences and the amount
      deviation (theirs - our cost). --map: callee=COL,start=COL,duration=COL,amount=COL
      (defaults: callee,start,duration,amount). Exit code 0 even when differences exist.
)";

const char* const kAuditHelp = R"(usage: trunkctl audit [--json]
      Check that every balance equals its ledger minus its CDR charges plus its CDR costs.
      Exit code 1 if any account differs. --json: {"ok":true|false,"issues":[{"account",
      "balance","expected"}]}.
)";
#endif

int usage(const std::string& msg, const char* help) {
    std::cerr << "trunkctl: " << msg << "\n\n" << help;
    return kUsage;
}

#if TRUNKCTL_BILLING
int runtime(const Error& e, std::string_view context = {}) {
    std::cerr << "trunkctl: ";
    if (!context.empty()) std::cerr << context << ": ";
    std::cerr << e.describe() << " [" << to_string(e.code) << "]\n";
    return kRuntime;
}

Timestamp now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Result<std::string> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return fail(ErrorCode::io_error, "cannot open " + path);
    std::ostringstream ss;
    ss << f.rdbuf();
    if (f.bad()) return fail(ErrorCode::io_error, "cannot read " + path);
    return ss.str();
}

Result<void> write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) return fail(ErrorCode::io_error, "cannot create " + path);
    f << text;
    f.flush();
    if (!f) return fail(ErrorCode::io_error, "cannot write " + path + " (disk full?)");
    return {};
}

Result<Store> open_db(const std::string& path) {
    const fs::path p(path);
    if (p.has_parent_path()) {
        std::error_code ec;
        fs::create_directories(p.parent_path(), ec);
        if (ec) return fail(ErrorCode::io_error, "cannot create " + p.parent_path().string() + ": " + ec.message());
    }
    return Store::open(path);
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> v;
    std::string cur;
    for (char c : s) {
        if (c == ',') {
            if (!cur.empty()) v.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) v.push_back(cur);
    return v;
}

Result<Timestamp> time_opt(const Args& a, const char* name, Timestamp fallback) {
    if (!a.has(name)) return fallback;
    auto t = parse_time(a.get(name));
    if (!t) {
        Error e = t.error();
        e.field = std::string(name).substr(2);
        return fail(std::move(e));
    }
    return *t;
}

Result<Money> money_arg(const std::string& text, const char* field) {
    auto m = Money::parse(text);
    if (!m) {
        Error e = m.error();
        e.field = field;
        return fail(std::move(e));
    }
    return *m;
}

// The word at argv[first] (a subcommand or report kind); --help there prints `help`.
// Returns -1 to go on, else the exit code.
int subcommand(const char* missing, const char* help, int argc, char** argv, int first, std::string& sub) {
    if (first >= argc) return usage(missing, help);
    sub = argv[first];
    if (sub == "--help" || sub == "-h") {
        std::cout << help;
        return kOk;
    }
    return -1;
}

// The options from argv[first] on; --help prints `help`; --json with a --format other
// than json is a usage error. Returns -1 to go on, else the exit code.
int options(const OptionSpec& spec, const char* help, int argc, char** argv, int first, Args& a) {
    if (!a.parse(argc, argv, first, spec)) return usage(a.error(), help);
    if (a.flag("--help")) {
        std::cout << help;
        return kOk;
    }
    if (std::string f; !trunkctl::cli::json_format(a, f)) return usage(trunkctl::cli::json_conflict(a), help);
    return -1;
}

// --from and --until (default: all time); a malformed one is a usage error. -1 to go on.
int period(const Args& a, const char* help, Timestamp& from, Timestamp& until) {
    auto f = time_opt(a, "--from", kTimeMin);
    auto u = time_opt(a, "--until", kTimeMax);
    if (!f) return usage(f.error().describe(), help);
    if (!u) return usage(u.error().describe(), help);
    from = *f;
    until = *u;
    return -1;
}

bool valid_format(const std::string& f) { return f == "table" || f == "csv" || f == "json"; }

// --format table|csv|json, table by default; --json means json (and contradicts another
// --format). -1 to go on, else the exit code.
int table_format(const Args& a, const char* help, std::string& format) {
    if (!trunkctl::cli::json_format(a, format)) return usage(trunkctl::cli::json_conflict(a), help);
    if (!valid_format(format)) return usage("--format must be table, csv or json", help);
    return -1;
}

// A CSV text with a header line as a JSON array of objects keyed by the header, every
// value a string (amounts stay exact decimals): --json of the commands that print CSV.
std::string csv_as_json(std::string_view csv) {
    using trunkctl::cli::json_text;
    LineReader lr(csv);
    std::string_view line;
    std::vector<std::string> head, f;
    if (!lr.next(line) || !split_csv(line, ',', head)) return "[]\n";
    std::string out = "[";
    while (lr.next(line)) {
        if (line.empty() || !split_csv(line, ',', f)) continue;
        std::string o;
        for (std::size_t i = 0; i < head.size(); ++i)
            o += (i ? "," : "") + json_text(head[i]) + ":" + json_text(i < f.size() ? f[i] : std::string());
        out += (out.size() > 1 ? ",{" : "{") + o + "}";
    }
    return out + "]\n";
}

// --- rates ------------------------------------------------------------------------------

int cmd_rates(const std::string& db, int argc, char** argv, int first) {
    std::string sub;
    if (int rc = subcommand("rates: missing subcommand", kRatesHelp, argc, argv, first, sub); rc >= 0) return rc;
    if (sub == "template") return trunkctl::cmd_rates_template(db, argc, argv, first + 1);
    if (sub == "group") return trunkctl::cmd_rates_group(db, argc, argv, first + 1);
    OptionSpec spec{{"--out", "--from", "--margin", "--markup", "--precision", "--at", "--vendors", "--format"},
                    {"--help", "--replace", "--dry-run", "--json"}};
    spec.with_value.insert(trunkctl::kDeckOptions.begin(), trunkctl::kDeckOptions.end());
    spec.flags.insert(trunkctl::kDeckFlags.begin(), trunkctl::kDeckFlags.end());
    Args a;
    if (int rc = options(spec, kRatesHelp, argc, argv, first + 1, a); rc >= 0) return rc;
    const auto& pos = a.positionals();
    if (sub == "import") {
        if (pos.size() != 2) return usage("rates import needs GROUP FILE", kRatesHelp);
        return trunkctl::rates_import(db, a, kRatesHelp);
    }
    if (sub == "export") {
        if (pos.size() != 1) return usage("rates export needs GROUP", kRatesHelp);
        auto st = open_db(db);
        if (!st) return runtime(st.error(), db);
        auto rates = st->rates(pos[0]);
        if (!rates) return runtime(rates.error());
        if (rates->empty()) return runtime(make_error(ErrorCode::unknown_rate_group, "no rates in group '" + pos[0] + "'", "group"));
        const std::string out = a.flag("--json") ? csv_as_json(format_rate_deck(*rates)) : format_rate_deck(*rates);
        if (a.has("--out")) {
            if (auto w = write_file(a.get("--out"), out); !w) return runtime(w.error());
        } else {
            std::cout << out;
        }
        return kOk;
    }
    if (sub == "autocreate") {
        if (pos.size() != 1 || !a.has("--from") || (a.has("--margin") == a.has("--markup")))
            return usage("rates autocreate needs GROUP, --from and one of --margin/--markup", kRatesHelp);
        auto st = open_db(db);
        if (!st) return runtime(st.error(), db);
        auto cur = st->currency();
        if (!cur) return runtime(cur.error());
        AutocreateOptions o;
        o.currency = *cur;
        o.markup = a.has("--markup");
        auto ratio = parse_ratio_ppm(a.get(o.markup ? "--markup" : "--margin"));
        if (!ratio) return usage(std::string(o.markup ? "--markup: " : "--margin: ") + ratio.error().message, kRatesHelp);
        o.margin_ppm = *ratio;
        if (a.has("--precision")) {
            auto p = parse_int(a.get("--precision"));
            if (!p || *p < 0 || *p > 6) return usage("--precision must be 0..6", kRatesHelp);
            o.currency.precision = static_cast<int>(*p);
        }
        auto at = time_opt(a, "--at", now_ms());
        if (!at) return usage(at.error().describe(), kRatesHelp);
        o.at = *at;
        std::vector<RateTable> tables;
        for (const std::string& g : split_list(a.get("--from"))) {
            auto rates = st->rates(g);
            if (!rates) return runtime(rates.error());
            if (rates->empty())
                return runtime(make_error(ErrorCode::unknown_rate_group, "vendor rate group '" + g + "' has no rates", "from"));
            RateTable t(g);
            for (Rate& r : *rates)
                if (auto ok = t.upsert(std::move(r)); !ok) return runtime(ok.error());
            tables.push_back(std::move(t));
        }
        std::vector<const RateTable*> ptrs;
        for (const RateTable& t : tables) ptrs.push_back(&t);
        auto created = autocreate_rates(ptrs, o);
        if (!created) return runtime(created.error());
        if (a.flag("--dry-run")) {  // --json: the deck's rows as objects
            std::cout << (a.flag("--json") ? csv_as_json(format_rate_deck(*created)) : format_rate_deck(*created));
            return kOk;
        }
        using trunkctl::cli::json_text;
        auto n = st->import_rates(pos[0], *created, a.flag("--replace"));
        if (!n) return runtime(n.error());
        return trunkctl::cli::done(a, "created " + std::to_string(*n) + " rates in " + pos[0] + "\n",
                                   {{"group", json_text(pos[0])}, {"created", std::to_string(*n)}});
    }
    if (sub == "list") {
        if (!pos.empty()) return usage("unexpected argument '" + pos[0] + "'", kRatesHelp);
        std::string format;
        if (int rc = table_format(a, kRatesHelp, format); rc >= 0) return rc;
        return trunkctl::rates_list(db, format);
    }
    if (sub == "alarms") {
        if (pos.size() != 1 || !a.has("--vendors")) return usage("rates alarms needs GROUP --vendors", kRatesHelp);
        std::string format;
        if (int rc = table_format(a, kRatesHelp, format); rc >= 0) return rc;
        auto st = open_db(db);
        if (!st) return runtime(st.error(), db);
        auto at = time_opt(a, "--at", now_ms());
        if (!at) return usage(at.error().describe(), kRatesHelp);
        auto load = [&](const std::string& g) -> Result<RateTable> {
            auto rates = st->rates(g);
            if (!rates) return fail(rates.error());
            RateTable t(g);
            for (Rate& r : *rates)
                if (auto ok = t.upsert(std::move(r)); !ok) return fail(ok.error());
            return t;
        };
        auto cust = load(pos[0]);
        if (!cust) return runtime(cust.error());
        std::vector<RateTable> vt;
        for (const std::string& g : split_list(a.get("--vendors"))) {
            auto t = load(g);
            if (!t) return runtime(t.error());
            vt.push_back(std::move(*t));
        }
        std::vector<const RateTable*> ptrs;
        for (const RateTable& t : vt) ptrs.push_back(&t);
        auto alarms = negative_margin_alarms(*cust, ptrs, *at);
        if (format == "json") {
            std::cout << "[";
            for (std::size_t i = 0; i < alarms.size(); ++i) {
                const auto& m = alarms[i];
                std::cout << (i ? "," : "") << "{\"prefix\":\"" << m.prefix << "\",\"area\":\"" << json_escape(m.area)
                          << "\",\"vendor\":\"" << json_escape(m.vendor) << "\",\"customer_price\":\""
                          << m.customer_price.to_string(4) << "\",\"vendor_price\":\"" << m.vendor_price.to_string(4)
                          << "\"}";
            }
            std::cout << "]\n";
        } else {
            const char sep = format == "csv" ? ',' : '\t';
            std::cout << "prefix" << sep << "area" << sep << "vendor" << sep << "customer_price" << sep << "vendor_price\n";
            for (const auto& m : alarms)
                std::cout << m.prefix << sep << csv_escape(m.area, sep) << sep << csv_escape(m.vendor, sep) << sep
                          << m.customer_price.to_string(4) << sep << m.vendor_price.to_string(4) << "\n";
        }
        return kOk;
    }
    return usage("unknown rates subcommand '" + sub + "'", kRatesHelp);
}

// --- accounts ---------------------------------------------------------------------------

void print_accounts(const std::vector<Account>& v, const std::string& format) {
    if (format == "json") {
        std::cout << "[";
        for (std::size_t i = 0; i < v.size(); ++i) {
            const Account& x = v[i];
            std::cout << (i ? "," : "") << "{\"id\":\"" << json_escape(x.id) << "\",\"name\":\"" << json_escape(x.name)
                      << "\",\"kind\":\"" << to_string(x.kind) << "\",\"balance\":\"" << x.balance.to_string()
                      << "\",\"credit_limit\":\"" << x.credit_limit.to_string() << "\",\"rate_group\":\""
                      << json_escape(x.rate_group) << "\",\"agent\":\"" << json_escape(x.agent) << '"';
            if (x.kind == AccountKind::agent)
                std::cout << ",\"commission_rate\":\"" << format_ppm_percent(x.commission_ppm)
                          << "\",\"commission_basis\":\"" << to_string(x.commission_basis) << '"';
            std::cout << "}";
        }
        std::cout << "]\n";
        return;
    }
    if (format == "csv") {
        std::cout << "id,name,kind,balance,credit_limit,rate_group,agent,commission_rate,commission_basis\n";
        for (const Account& x : v)
            std::cout << csv_escape(x.id) << ',' << csv_escape(x.name) << ',' << to_string(x.kind) << ','
                      << x.balance.to_string() << ',' << x.credit_limit.to_string() << ',' << csv_escape(x.rate_group)
                      << ',' << csv_escape(x.agent) << ','
                      << (x.kind == AccountKind::agent ? format_ppm_percent(x.commission_ppm) : std::string()) << ','
                      << (x.kind == AccountKind::agent ? to_string(x.commission_basis) : std::string_view()) << "\n";
        return;
    }
    std::size_t w = 2;
    for (const Account& x : v) w = std::max(w, x.id.size());
    std::cout << "id" << std::string(w - 2 + 2, ' ') << "kind      balance          credit       rate_group  name\n";
    for (const Account& x : v) {
        std::string bal = x.balance.to_string(), cr = x.credit_limit.to_string();
        std::cout << x.id << std::string(w - x.id.size() + 2, ' ') << to_string(x.kind)
                  << std::string(10 - to_string(x.kind).size(), ' ') << std::string(bal.size() < 15 ? 15 - bal.size() : 0, ' ')
                  << bal << "  " << std::string(cr.size() < 12 ? 12 - cr.size() : 0, ' ') << cr << "  " << x.rate_group
                  << std::string(x.rate_group.size() < 10 ? 10 - x.rate_group.size() : 0, ' ') << "  " << x.name << "\n";
    }
}

// --commission P and --commission-basis B into acc (agents only; check_commission).
Result<void> commission_args(const Args& a, Account& acc) {
    if (a.has("--commission")) {
        auto ppm = parse_ratio_ppm(a.get("--commission"));
        if (!ppm) return fail(ErrorCode::invalid_argument, ppm.error().message, "commission");
        acc.commission_ppm = *ppm;
    }
    if (a.has("--commission-basis")) {
        auto b = parse_commission_basis(a.get("--commission-basis"));
        if (!b) return fail(b.error());
        acc.commission_basis = *b;
    }
    if ((a.has("--commission") || a.has("--commission-basis")) && acc.kind != AccountKind::agent)
        return fail(ErrorCode::invalid_argument,
                    "account " + acc.id + " is a " + std::string(to_string(acc.kind)) +
                        ": only agent accounts earn a commission",
                    "commission");
    return check_commission(acc);
}

// --agent names an existing agent account, not the account itself.
Result<void> check_agent(Store& st, const Account& acc) {
    if (acc.agent.empty()) return {};
    if (acc.agent == acc.id)
        return fail(ErrorCode::invalid_argument, "account " + acc.id + " cannot be its own agent", "agent");
    auto ag = st.account(acc.agent);
    if (!ag) return fail(ag.error());
    if (ag->kind != AccountKind::agent)
        return fail(ErrorCode::invalid_argument,
                    "account " + acc.agent + " is a " + std::string(to_string(ag->kind)) + ", not an agent", "agent");
    return {};
}

// accounts show --json: the fields of the text form, the ledger as an array.
std::string account_json(const Account& x, const std::vector<billing::sqlite::LedgerEntry>& ledger) {
    using trunkctl::cli::json_text;
    std::string o = "{\"id\":" + json_text(x.id) + ",\"name\":" + json_text(x.name) + ",\"kind\":" +
                    json_text(std::string(to_string(x.kind))) + ",\"balance\":" + json_text(x.balance.to_string()) +
                    ",\"credit_limit\":" + json_text(x.credit_limit.to_string()) + ",\"available\":" +
                    json_text(x.available().value_or(Money{}).to_string()) + ",\"rate_group\":" +
                    json_text(x.rate_group) + ",\"agent\":" + json_text(x.agent) + ",\"memo\":" + json_text(x.memo);
    if (x.kind == AccountKind::agent)
        o += ",\"commission_rate\":" + json_text(format_ppm_percent(x.commission_ppm)) + ",\"commission_basis\":" +
             json_text(std::string(to_string(x.commission_basis)));
    o += ",\"ledger\":[";
    for (std::size_t i = 0; i < ledger.size(); ++i)
        o += std::string(i ? "," : "") + "{\"at\":" + json_text(format_time(ledger[i].at_ms)) + ",\"kind\":" +
             json_text(ledger[i].kind) + ",\"amount\":" + json_text(ledger[i].amount.to_string()) + ",\"memo\":" +
             json_text(ledger[i].memo) + "}";
    return o + "]}\n";
}

int cmd_accounts(const std::string& db, int argc, char** argv, int first) {
    using trunkctl::cli::json_text;
    std::string sub;
    if (int rc = subcommand("accounts: missing subcommand", kAccountsHelp, argc, argv, first, sub); rc >= 0) return rc;
    if (sub == "max-duration") return trunkctl::accounts_max_duration(db, argc, argv, first + 1);
    OptionSpec spec{{"--kind", "--name", "--balance", "--credit", "--rate-group", "--agent", "--memo", "--format",
                     "--commission", "--commission-basis"},
                    {"--help", "--json"}};
    Args a;
    if (int rc = options(spec, kAccountsHelp, argc, argv, first + 1, a); rc >= 0) return rc;
    const auto& pos = a.positionals();
    if (sub == "add") {
        if (pos.size() != 1 || !a.has("--kind")) return usage("accounts add needs ID and --kind", kAccountsHelp);
        Account acc;
        acc.id = pos[0];
        auto kind = parse_account_kind(a.get("--kind"));
        if (!kind) return usage(kind.error().describe(), kAccountsHelp);
        acc.kind = *kind;
        acc.name = a.get("--name");
        acc.rate_group = a.get("--rate-group");
        acc.agent = a.get("--agent");
        acc.memo = a.get("--memo");
        auto bal = money_arg(a.get("--balance", "0"), "balance");
        if (!bal) return runtime(bal.error());
        auto cr = money_arg(a.get("--credit", "0"), "credit");
        if (!cr) return runtime(cr.error());
        acc.balance = *bal;
        acc.credit_limit = *cr;
        if (auto c = commission_args(a, acc); !c) return runtime(c.error());
        auto st = open_db(db);
        if (!st) return runtime(st.error(), db);
        if (auto ag = check_agent(*st, acc); !ag) return runtime(ag.error());
        if (auto g = trunkctl::check_rate_group(*st, acc.rate_group); !g) return runtime(g.error());
        if (auto r = st->add_account(acc, now_ms()); !r) return runtime(r.error());
        return trunkctl::cli::done(a, "added " + std::string(to_string(acc.kind)) + " account " + acc.id + "\n",
                                   {{"account", json_text(acc.id)}, {"kind", json_text(std::string(to_string(acc.kind)))},
                                    {"added", "true"}});
    }
    if (sub == "set") {
        if (pos.size() != 1) return usage("accounts set needs ID", kAccountsHelp);
        if (a.has("--kind") || a.has("--balance"))
            return usage("accounts set cannot change --kind or --balance (use topup for the balance)", kAccountsHelp);
        auto st = open_db(db);
        if (!st) return runtime(st.error(), db);
        auto cur = st->account(pos[0]);
        if (!cur) return runtime(cur.error());
        Account acc = *cur;
        if (a.has("--name")) acc.name = a.get("--name");
        if (a.has("--memo")) acc.memo = a.get("--memo");
        if (a.has("--agent")) acc.agent = a.get("--agent");
        if (a.has("--rate-group")) acc.rate_group = a.get("--rate-group");
        if (a.has("--credit")) {
            auto cr = money_arg(a.get("--credit"), "credit");
            if (!cr) return runtime(cr.error());
            acc.credit_limit = *cr;
        }
        if (auto c = commission_args(a, acc); !c) return runtime(c.error());
        if (a.has("--agent"))
            if (auto ag = check_agent(*st, acc); !ag) return runtime(ag.error());
        if (a.has("--rate-group"))
            if (auto g = trunkctl::check_rate_group(*st, acc.rate_group); !g) return runtime(g.error());
        if (auto r = st->update_account(acc); !r) return runtime(r.error());
        return trunkctl::cli::done(a, "updated " + std::string(to_string(acc.kind)) + " account " + acc.id + "\n",
                                   {{"account", json_text(acc.id)}, {"kind", json_text(std::string(to_string(acc.kind)))},
                                    {"updated", "true"}});
    }
    if (sub == "list") {
        std::string format;
        if (int rc = table_format(a, kAccountsHelp, format); rc >= 0) return rc;
        auto st = open_db(db);
        if (!st) return runtime(st.error(), db);
        auto v = st->accounts();
        if (!v) return runtime(v.error());
        print_accounts(*v, format);
        return kOk;
    }
    if (sub == "show") {
        if (pos.size() != 1) return usage("accounts show needs ID", kAccountsHelp);
        auto st = open_db(db);
        if (!st) return runtime(st.error(), db);
        auto x = st->account(pos[0]);
        if (!x) return runtime(x.error());
        if (a.flag("--json")) {
            auto l = st->ledger(pos[0]);
            if (!l) return runtime(l.error());
            std::cout << account_json(*x, *l);
            return kOk;
        }
        std::cout << "id:           " << x->id << "\nname:         " << x->name << "\nkind:         "
                  << to_string(x->kind) << "\nbalance:      " << x->balance.to_string() << "\ncredit limit: "
                  << x->credit_limit.to_string() << "\navailable:    " << x->available().value_or(Money{}).to_string()
                  << "\nrate group:   " << x->rate_group << "\nagent:        " << x->agent << "\nmemo:         "
                  << x->memo << "\n";
        if (x->kind == AccountKind::agent)
            std::cout << "commission:   " << format_ppm_percent(x->commission_ppm) << " of "
                      << to_string(x->commission_basis) << "\n";
        std::cout << "ledger:\n";
        auto l = st->ledger(pos[0]);
        if (!l) return runtime(l.error());
        for (const auto& e : *l)
            std::cout << "  " << format_time(e.at_ms) << "  " << e.kind << std::string(8 - std::min<std::size_t>(8, e.kind.size()), ' ')
                      << e.amount.to_string() << (e.memo.empty() ? "" : "  " + e.memo) << "\n";
        return kOk;
    }
    if (sub == "topup") {
        if (pos.size() != 2) return usage("accounts topup needs ID AMOUNT", kAccountsHelp);
        auto amount = money_arg(pos[1], "amount");
        if (!amount) return runtime(amount.error());
        auto st = open_db(db);
        if (!st) return runtime(st.error(), db);
        auto nb = st->topup(pos[0], *amount, now_ms(), a.get("--memo"));
        if (!nb) return runtime(nb.error());
        return trunkctl::cli::done(a, pos[0] + " balance " + nb->to_string() + "\n",
                                   {{"account", json_text(pos[0])}, {"balance", json_text(nb->to_string())}});
    }
    if (sub == "private" || sub == "phone") {
        if (pos.size() != 2) return usage("accounts " + sub + " needs two arguments", kAccountsHelp);
        auto st = open_db(db);
        if (!st) return runtime(st.error(), db);
        if (auto g = trunkctl::check_rate_group(*st, pos[1]); !g) return runtime(g.error());
        auto r = sub == "private" ? st->set_account_private(pos[0], pos[1]) : st->set_phone_private(pos[0], pos[1]);
        if (!r) return runtime(r.error());
        return trunkctl::cli::done(a, "ok\n", {{sub == "private" ? "account" : "phone", json_text(pos[0])},
                                                {"private_rate_group", json_text(pos[1])}});
    }
    return usage("unknown accounts subcommand '" + sub + "'", kAccountsHelp);
}

// --- tiered pricing by monthly volume ---------------------------------------------------

int cmd_tiers(const std::string& db, int argc, char** argv, int first) {
    std::string sub;
    if (int rc = subcommand("tiers: missing subcommand", kTiersHelp, argc, argv, first, sub); rc >= 0) return rc;
    OptionSpec spec{{"--from-minutes", "--price", "--format", "--month", "--bonus-minutes"}, {"--help", "--json"}};
    using trunkctl::cli::json_text;
    Args a;
    if (int rc = options(spec, kTiersHelp, argc, argv, first + 1, a); rc >= 0) return rc;
    const auto& pos = a.positionals();
    auto from_minutes = [&]() -> Result<std::int64_t> {
        auto n = parse_int(a.get("--from-minutes"));
        if (!n || *n < 0)
            return fail(ErrorCode::invalid_argument, "--from-minutes must be a whole number >= 0", "from_minutes");
        return static_cast<std::int64_t>(*n);
    };
    if (sub == "add" || sub == "remove") {
        if (pos.size() != 2 || !a.has("--from-minutes") || (sub == "add" && !a.has("--price")))
            return usage("tiers " + sub + " needs ACCOUNT PREFIX --from-minutes N" + (sub == "add" ? " --price X" : ""),
                         kTiersHelp);
        auto n = from_minutes();
        if (!n) return usage(n.error().describe(), kTiersHelp);
        auto st = open_db(db);
        if (!st) return runtime(st.error(), db);
        if (sub == "remove") {
            if (auto r = st->remove_volume_tier(pos[0], pos[1], *n); !r) return runtime(r.error());
            return trunkctl::cli::done(a, "removed\n", {{"account", json_text(pos[0])}, {"prefix", json_text(pos[1])},
                                                         {"from_minutes", std::to_string(*n)}, {"removed", "true"}});
        }
        auto price = money_arg(a.get("--price"), "price");
        if (!price) return runtime(price.error());
        auto acc = st->account(pos[0]);
        if (!acc) return runtime(acc.error());
        if (acc->kind != AccountKind::customer)
            return runtime(make_error(ErrorCode::invalid_argument,
                                      "account " + acc->id + " is a " + std::string(to_string(acc->kind)) +
                                          ": tiers price customer accounts",
                                      "account"));
        std::int64_t bonus = 0;
        if (a.has("--bonus-minutes")) {
            auto b = parse_int(a.get("--bonus-minutes"));
            if (!b || *b < 0)
                return usage("--bonus-minutes must be a whole number >= 0", kTiersHelp);
            bonus = *b;
        }
        if (auto r = st->put_volume_tier(VolumeTier{pos[0], pos[1], *n, *price, bonus}); !r) return runtime(r.error());
        return trunkctl::cli::done(
            a, "tier " + pos[0] + " " + pos[1] + " from " + std::to_string(*n) + " min: " + price->to_string(4) + "/min" +
                   (bonus > 0 ? ", " + std::to_string(bonus) + " bonus min" : "") + "\n",
            {{"account", json_text(pos[0])}, {"prefix", json_text(pos[1])}, {"from_minutes", std::to_string(*n)},
             {"price", json_text(price->to_string(4))}, {"bonus_minutes", std::to_string(bonus)}});
    }
    if (sub == "list") {
        std::string format;
        if (int rc = table_format(a, kTiersHelp, format); rc >= 0) return rc;
        auto st = open_db(db);
        if (!st) return runtime(st.error(), db);
        auto tiers = st->volume_tiers();
        if (!tiers) return runtime(tiers.error());
        const auto all = tiers->all();
        if (format == "json") {
            std::cout << "[";
            for (std::size_t i = 0; i < all.size(); ++i)
                std::cout << (i ? "," : "") << "{\"account\":\"" << json_escape(all[i].account) << "\",\"prefix\":\""
                          << all[i].prefix << "\",\"from_minutes\":" << all[i].from_minutes << ",\"price\":\""
                          << all[i].price.to_string(4) << "\",\"bonus_minutes\":" << all[i].bonus_minutes << "}";
            std::cout << "]\n";
            return kOk;
        }
        const char sep = format == "csv" ? ',' : '\t';
        std::cout << "account" << sep << "prefix" << sep << "from_minutes" << sep << "price" << sep << "bonus_minutes\n";
        for (const auto& t : all)
            std::cout << csv_escape(t.account, sep) << sep << t.prefix << sep << t.from_minutes << sep
                      << t.price.to_string(4) << sep << t.bonus_minutes << "\n";
        return kOk;
    }
    if (sub == "usage") {
        if (pos.size() != 2 || !a.has("--month")) return usage("tiers usage needs ACCOUNT PREFIX --month YYYY-MM", kTiersHelp);
        auto st = open_db(db);
        if (!st) return runtime(st.error(), db);
        auto used = st->volume_used(pos[0], pos[1], a.get("--month"));
        if (!used) return runtime(used.error());
        if (a.flag("--json")) {
            std::cout << trunkctl::cli::json_object({{"account", json_text(pos[0])}, {"prefix", json_text(pos[1])},
                                                     {"month", json_text(a.get("--month"))},
                                                     {"billed_s", std::to_string(*used)}})
                      << "\n";
            return kOk;
        }
        std::cout << pos[0] << " " << pos[1] << " " << a.get("--month") << ": " << *used << " s billed\n";
        return kOk;
    }
    return usage("unknown tiers subcommand '" + sub + "'", kTiersHelp);
}

// --- CDRs -------------------------------------------------------------------------------

// Reads call records from CSV (see kCdrHelp). Errors name line and field.
std::vector<Error> read_calls(std::string_view text, std::vector<CallRecord>& out, std::vector<std::size_t>& lines) {
    std::vector<Error> errs;
    LineReader lr(text);
    std::string_view line;
    std::vector<std::string> f;
    if (!lr.next(line) || !split_csv(line, ',', f)) {
        errs.push_back(make_error(ErrorCode::parse_error, "missing or bad header line", "", 1));
        return errs;
    }
    static const char* const names[] = {"caller", "callee", "callee_out", "customer", "customer_gateway",
                                        "vendor", "vendor_gateway", "setup", "answer", "end",
                                        "sip_code", "end_reason", "hangup", "call_id_in", "call_id_out"};
    constexpr int n = 15;
    int col[n];
    for (int i = 0; i < n; ++i) {
        col[i] = -1;
        for (std::size_t j = 0; j < f.size(); ++j)
            if (f[j] == names[i]) col[i] = static_cast<int>(j);
    }
    for (int req : {1, 3, 7, 9})
        if (col[req] < 0) errs.push_back(make_error(ErrorCode::parse_error, "header has no column", names[req], 1));
    if (!errs.empty()) return errs;
    while (lr.next(line)) {
        if (line.empty()) continue;
        const std::size_t ln = lr.line_no();
        // Stored text must be UTF-8: reports print it as JSON.
        if (const std::size_t bad = find_invalid_utf8(line); bad != std::string_view::npos) {
            errs.push_back(byte_error(text, static_cast<std::size_t>(line.data() - text.data()) + bad, "invalid UTF-8"));
            continue;
        }
        if (auto r = split_csv(line, ',', f); !r) {
            errs.push_back(make_error(ErrorCode::parse_error, r.error().message, "", ln));
            continue;
        }
        auto get = [&](int i) -> std::string {
            return col[i] >= 0 && static_cast<std::size_t>(col[i]) < f.size() ? f[static_cast<std::size_t>(col[i])] : std::string();
        };
        CallRecord c;
        c.caller = get(0);
        c.callee = get(1);
        c.callee_out = get(2);
        c.customer = get(3);
        c.customer_gateway = get(4);
        c.vendor = get(5);
        c.vendor_gateway = get(6);
        c.end_reason = get(11);
        c.call_id_in = get(13);
        c.call_id_out = get(14);
        bool ok = true;
        auto err = [&](const char* field, std::string msg) {
            errs.push_back(make_error(ErrorCode::invalid_argument, std::move(msg), field, ln));
            ok = false;
        };
        if (c.callee.empty()) err("callee", "missing called number");
        if (auto t = parse_time(get(7)); t) c.setup_ms = *t;
        else err("setup", t.error().message);
        if (const std::string ans = get(8); !ans.empty()) {
            if (auto t = parse_time(ans); t) c.answer_ms = *t;
            else err("answer", t.error().message);
        }
        if (auto t = parse_time(get(9)); t) c.end_ms = *t;
        else err("end", t.error().message);
        if (const std::string sc = get(10); !sc.empty()) {
            auto v = parse_int(sc);
            if (!v || *v < 0 || *v > 999) err("sip_code", "'" + sc + "' is not a SIP status code");
            else c.sip_code = static_cast<int>(*v);
        } else {
            c.sip_code = c.answer_ms ? 200 : 0;
        }
        if (const std::string h = get(12); !h.empty()) {
            auto v = parse_hangup_side(h);
            if (!v) err("hangup", v.error().message);
            else c.hangup = *v;
        }
        if (ok) {
            out.push_back(std::move(c));
            lines.push_back(ln);
        }
    }
    return errs;
}

// An account whose available balance (balance + credit limit) an import takes below zero.
struct CreditCrossing {
    std::string account;
    Money before;  // available before the import
    Money after;   // before + the import's balance change
    Money below;   // -after: by how much
};

// The accounts an import of `cdrs` would take below zero. Computed from each account's
// available balance read now plus this import's own movements (charges debit customers,
// costs credit vendors, as insert_cdrs books them), so calls written meanwhile by the
// switch are not blamed on the import. Already below zero: not a crossing.
Result<std::vector<CreditCrossing>> credit_crossings(Store& st, const std::vector<Cdr>& cdrs) {
    std::map<std::string, Money> change;
    for (const Cdr& c : cdrs) {
        auto debit = change[c.call.customer].sub(c.charge);
        if (!debit) return fail(debit.error());
        change[c.call.customer] = *debit;
        if (c.call.vendor.empty()) continue;
        auto credit = change[c.call.vendor].add(c.cost);
        if (!credit) return fail(credit.error());
        change[c.call.vendor] = *credit;
    }
    std::vector<CreditCrossing> out;
    for (const auto& [id, delta] : change) {
        if (!delta.is_negative()) continue;
        auto acc = st.account(id);
        if (!acc) return fail(acc.error());
        auto before = acc->available();
        if (!before) return fail(before.error());
        auto after = before->add(delta);
        if (!after) return fail(after.error());
        auto below = after->negate();
        if (!below) return fail(below.error());
        if (!before->is_negative() && after->is_negative()) out.push_back({id, *before, *after, *below});
    }
    return out;
}

// The CDRs are real calls, so a crossed credit limit is reported, not refused (exit 0).
void print_crossings(const std::vector<CreditCrossing>& v, int decimals) {
    for (const CreditCrossing& x : v)
        std::cout << "credit limit crossed: " << x.account << " available " << x.after.to_string(decimals)
                  << " (was " << x.before.to_string(decimals) << "), " << x.below.to_string(decimals)
                  << " below zero\n";
}

// cdr import --json: {"stored":N,"revenue":"X","credit_limit_crossed":[{"account",
// "available","was","below"}]}, amounts as strings like every JSON amount here.
std::string import_json(std::size_t stored, Money revenue, const std::vector<CreditCrossing>& v, int decimals) {
    std::string s = "{\"stored\":" + std::to_string(stored) + ",\"revenue\":\"" + revenue.to_string(decimals) +
                    "\",\"credit_limit_crossed\":[";
    for (std::size_t i = 0; i < v.size(); ++i)
        s += std::string(i ? "," : "") + "{\"account\":\"" + json_escape(v[i].account) + "\",\"available\":\"" +
             v[i].after.to_string(decimals) + "\",\"was\":\"" + v[i].before.to_string(decimals) +
             "\",\"below\":\"" + v[i].below.to_string(decimals) + "\"}";
    return s + "]}\n";
}

// cdr export: CSV, JSON or hourly pipe files of the CDRs a filter selects.
int cdr_export(const std::string& db, const Args& a) {
    Timestamp from = kTimeMin, until = kTimeMax;
    if (int rc = period(a, kCdrHelp, from, until); rc >= 0) return rc;
    std::string format;
    if (!trunkctl::cli::json_format(a, format, "csv")) return usage(trunkctl::cli::json_conflict(a), kCdrHelp);
    if (format != "csv" && format != "json") return usage("--format must be csv or json", kCdrHelp);
    const std::string customer = a.get("--customer"), vendor = a.get("--vendor");
    auto st = open_db(db);
    if (!st) return runtime(st.error(), db);
    // A mistyped account would export nothing and look like a quiet month.
    for (const auto& [opt, id] : {std::pair{"customer", customer}, std::pair{"vendor", vendor}})
        if (!id.empty())
            if (auto acc = st->account(id); !acc) return runtime(acc.error(), opt);
    auto wanted = [&](const Cdr& c) {
        return (customer.empty() || c.call.customer == customer) && (vendor.empty() || c.call.vendor == vendor);
    };
    auto cur = st->currency();  // amounts printed at the currency precision
    if (!cur) return runtime(cur.error());
    const int dp = cur->precision;
    if (a.has("--hourly")) {
        const fs::path dir = a.get("--hourly");
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) return runtime(make_error(ErrorCode::io_error, "cannot create " + dir.string() + ": " + ec.message()));
        std::map<std::string, std::string> files;
        auto r = st->for_each_cdr(from, until, [&](const Cdr& c) {
            if (wanted(c)) files[cdr_hour_file_name(c)] += cdr_pipe_line(c, dp) + "\n";
            return true;
        });
        if (!r) return runtime(r.error());
        for (const auto& [name, text] : files)
            if (auto w = write_file((dir / name).string(), text); !w) return runtime(w.error());
        return trunkctl::cli::done(a, "wrote " + std::to_string(files.size()) + " hourly files to " + dir.string() + "\n",
                                   {{"hourly_files", std::to_string(files.size())},
                                    {"dir", trunkctl::cli::json_text(dir.string())}});
    }
    const bool json = format == "json";
    std::string out = json ? "[" : cdr_csv_header() + "\n";
    std::size_t n = 0;
    auto r = st->for_each_cdr(from, until, [&](const Cdr& c) {
        if (!wanted(c)) return true;
        if (json) out += n == 0 ? "\n" : ",\n";
        out += json ? cdr_json(c, dp) : cdr_csv_line(c, dp);
        if (!json) out += '\n';
        ++n;
        return true;
    });
    if (!r) return runtime(r.error());
    if (json) out += "\n]\n";
    if (a.has("--out")) {
        if (auto w = write_file(a.get("--out"), out); !w) return runtime(w.error());
    } else {
        std::cout << out;
    }
    return kOk;
}

int cmd_cdr(const std::string& db, int argc, char** argv, int first) {
    std::string sub;
    if (int rc = subcommand("cdr: missing subcommand", kCdrHelp, argc, argv, first, sub); rc >= 0) return rc;
    OptionSpec spec{{"--batch", "--from", "--until", "--out", "--hourly", "--customer", "--vendor", "--format"},
                    {"--help", "--json"}};
    Args a;
    if (int rc = options(spec, kCdrHelp, argc, argv, first + 1, a); rc >= 0) return rc;
    const auto& pos = a.positionals();
    if (sub == "import") {
        if (pos.size() != 1) return usage("cdr import needs FILE", kCdrHelp);
        long long batch = 1000;
        if (a.has("--batch")) {
            auto b = parse_int(a.get("--batch"));
            if (!b || *b < 1) return usage("--batch must be >= 1", kCdrHelp);
            batch = *b;
        }
        auto text = read_file(pos[0]);
        if (!text) return runtime(text.error());
        std::vector<CallRecord> calls;
        std::vector<std::size_t> lines;
        auto errs = read_calls(*text, calls, lines);
        auto st = open_db(db);
        if (!st) return runtime(st.error(), db);
        auto book = st->load_book();
        if (!book) return runtime(book.error());
        auto cfg = st->rating_config();  // currency, hold-time precision, free time
        if (!cfg) return runtime(cfg.error());
        Rater rater(*book, *cfg);
        // Tiers, then packages, in file order: each call sees the volume and package seconds
        // of the stored CDRs plus this import's earlier calls (billing/volume_pricing.hpp).
        auto tiers = st->volume_tiers();
        if (!tiers) return runtime(tiers.error());
        auto packages = st->packages();
        if (!packages) return runtime(packages.error());
        VolumePricing pricing(std::move(*tiers), std::move(*packages));
        pricing.set_sources(
            [&](std::string_view acct, std::string_view prefix, std::string_view month) {
                return st->volume_used(acct, prefix, month);
            },
            [&](const Package& p) { return st->package_used(p.account, p.name); });
        std::vector<Cdr> cdrs;
        cdrs.reserve(calls.size());
        for (std::size_t i = 0; i < calls.size(); ++i) {
            auto r = rater.rate(calls[i]);
            if (!r) {
                Error e = r.error();
                e.line = lines[i];
                // Name the CSV column (end, answer), not the CallRecord member (end_ms).
                if (e.field.size() > 3 && e.field.compare(e.field.size() - 3, 3, "_ms") == 0)
                    e.field.resize(e.field.size() - 3);
                errs.push_back(std::move(e));
                continue;
            }
            cdrs.push_back(make_cdr(std::move(calls[i]), *r));
            if (auto p = pricing.price(cdrs.back(), *r, *cfg); !p) {
                Error e = p.error();
                e.line = lines[i];
                errs.push_back(std::move(e));
            }
        }
        if (!errs.empty()) {
            std::sort(errs.begin(), errs.end(), [](const Error& x, const Error& y) { return x.line < y.line; });
            for (const Error& e : errs) std::cerr << pos[0] << ": " << e.describe() << "\n";
            std::cerr << "trunkctl: " << errs.size() << " error(s); nothing stored\n";
            return kRuntime;
        }
        auto crossings = credit_crossings(*st, cdrs);  // before the import changes the balances
        if (!crossings) return runtime(crossings.error());
        Money revenue;
        for (std::size_t i = 0; i < cdrs.size(); i += static_cast<std::size_t>(batch)) {
            std::span<Cdr> part(cdrs.data() + i, std::min(cdrs.size() - i, static_cast<std::size_t>(batch)));
            if (auto r = st->insert_cdrs(part); !r) {
                std::cerr << "trunkctl: stored " << i << " of " << cdrs.size() << " CDRs before the error\n";
                return runtime(r.error(), "store");
            }
        }
        for (const Cdr& c : cdrs) revenue = revenue.add(c.charge).value_or(revenue);
        const int dp = cfg->currency.precision;
        if (a.flag("--json")) {
            std::cout << import_json(cdrs.size(), revenue, *crossings, dp);
            return kOk;
        }
        std::cout << "stored " << cdrs.size() << " CDRs, revenue " << revenue.to_string(dp) << "\n";
        print_crossings(*crossings, dp);
        return kOk;
    }
    if (sub == "export") return cdr_export(db, a);
    return usage("unknown cdr subcommand '" + sub + "'", kCdrHelp);
}

// --- reports ----------------------------------------------------------------------------


// VOS3000 Agent Income: the per-customer profit report of the period (hourly rollup +
// edges), the accounts and the currency; the commission is computed by agent_income().
int report_agent_income(const std::string& db, const Args& a, const std::string& format) {
    if (a.has("--by") || a.has("--fixed-costs"))
        return usage("--by and --fixed-costs do not apply to report agent-income", kReportHelp);
    Timestamp from = kTimeMin, until = kTimeMax;
    if (int rc = period(a, kReportHelp, from, until); rc >= 0) return rc;
    auto st = open_db(db);
    if (!st) return runtime(st.error(), db);
    auto inc = st->agent_income_report(from, until, a.get("--agent"));
    if (!inc) return runtime(inc.error());
    std::cout << (format == "csv" ? format_csv(*inc) : format == "json" ? format_json(*inc) : format_table(*inc));
    return kOk;
}

int cmd_report(const std::string& db, int argc, char** argv, int first) {
    std::string kind;
    if (int rc = subcommand("report: missing report kind", kReportHelp, argc, argv, first, kind); rc >= 0) return rc;
    if (kind == "commitments") return trunkctl::report_commitments(db, argc, argv, first + 1, kReportHelp);  // own options (--month)
    OptionSpec spec{{"--from", "--until", "--format", "--by", "--fixed-costs", "--agent"}, {"--help", "--json"}};
    Args a;
    if (int rc = options(spec, kReportHelp, argc, argv, first + 1, a); rc >= 0) return rc;
    if (!a.positionals().empty()) return usage("unexpected argument '" + a.positionals()[0] + "'", kReportHelp);
    if (a.flag("--json") && a.has("--format") && a.get("--format") != "json")
        return usage("--json contradicts --format " + a.get("--format"), kReportHelp);
    std::string format;
    if (int rc = table_format(a, kReportHelp, format); rc >= 0) return rc;
    if (a.has("--agent") && kind != "agent-income")
        return usage("--agent applies to report agent-income only", kReportHelp);
    if (kind == "agent-income") return report_agent_income(db, a, format);
    if (kind == "packages") return trunkctl::report_packages(db, a, format, kReportHelp);
    const std::string by = a.get("--by");
    ReportKind rk;
    if (kind == "revenue") rk = ReportKind::revenue;
    else if (kind == "clearing") rk = by == "gateway" ? ReportKind::clearing_gateway : ReportKind::clearing;
    else if (kind == "gateway") rk = ReportKind::gateway;
    else if (kind == "settlement" || kind == "breakeven") rk = ReportKind::settlement;
    else if (kind == "profit") rk = by == "customer" ? ReportKind::profit_customer : ReportKind::profit_area;
    else if (kind == "asr") rk = ReportKind::asr;
    else return usage("unknown report '" + kind + "'", kReportHelp);
    if (!by.empty() && !((kind == "clearing" && by == "gateway") || (kind == "profit" && (by == "customer" || by == "area"))))
        return usage("--by " + by + " does not apply to report " + kind, kReportHelp);
    if (kind == "breakeven" && !a.has("--fixed-costs")) return usage("report breakeven needs --fixed-costs", kReportHelp);
    Timestamp from = kTimeMin, until = kTimeMax;
    if (int rc = period(a, kReportHelp, from, until); rc >= 0) return rc;
    auto st = open_db(db);
    if (!st) return runtime(st.error(), db);
    auto rep = st->report_with_deviation(rk, from, until);
    if (!rep) return runtime(rep.error());
    if (kind == "breakeven") {
        auto fixed = money_arg(a.get("--fixed-costs"), "fixed_costs");
        if (!fixed) return runtime(fixed.error());
        auto b = break_even(*fixed, rep->total);
        if (!b) return runtime(b.error());
        std::cout << format_break_even(*b, format);
        return kOk;
    }
    std::cout << (format == "csv" ? format_csv(*rep) : format == "json" ? format_json(*rep) : format_table(*rep));
    return kOk;
}

int cmd_reconcile(const std::string& db, int argc, char** argv, int first) {
    OptionSpec spec{{"--vendor", "--map", "--delimiter", "--from", "--until", "--tolerance", "--duration-tolerance",
                     "--format"},
                    {"--help", "--decimal-comma", "--no-header", "--json"}};
    Args a;
    if (int rc = options(spec, kReconcileHelp, argc, argv, first, a); rc >= 0) return rc;
    const auto& pos = a.positionals();
    if (pos.size() != 1 || !a.has("--vendor")) return usage("reconcile needs FILE and --vendor", kReconcileHelp);
    std::string format;
    if (int rc = table_format(a, kReconcileHelp, format); rc >= 0) return rc;
    ReconFormat fmt;
    if (a.has("--map"))
        if (auto r = parse_recon_mapping(a.get("--map"), fmt); !r) return usage(r.error().describe(), kReconcileHelp);
    if (a.has("--delimiter")) {
        const std::string d = a.get("--delimiter");
        if (d.size() != 1) return usage("--delimiter must be one character", kReconcileHelp);
        fmt.delimiter = d[0];
    }
    fmt.decimal_comma = a.flag("--decimal-comma");
    fmt.header = !a.flag("--no-header");
    ReconOptions o;
    for (auto [name, dst, scale] : {std::tuple{"--tolerance", &o.start_tolerance_ms, 1000LL},
                                    std::tuple{"--duration-tolerance", &o.duration_tolerance_s, 1LL}}) {
        if (!a.has(name)) continue;
        auto v = parse_int(a.get(name));
        if (!v || *v < 0 || *v > 86400) return usage(std::string(name) + " takes seconds (0..86400)", kReconcileHelp);
        *dst = *v * scale;
    }
    Timestamp from = kTimeMin, until = kTimeMax;
    if (int rc = period(a, kReconcileHelp, from, until); rc >= 0) return rc;
    auto text = read_file(pos[0]);
    if (!text) return runtime(text.error());
    ReconParse theirs = parse_vendor_cdrs(*text, fmt);
    if (!theirs.ok()) {
        for (const Error& e : theirs.errors) std::cerr << pos[0] << ": " << e.describe() << "\n";
        std::cerr << "trunkctl: " << theirs.error_count << " error(s) in the vendor file\n";
        return kRuntime;
    }
    auto st = open_db(db);
    if (!st) return runtime(st.error(), db);
    if (auto v = st->account(a.get("--vendor")); !v) return runtime(v.error(), "vendor");
    std::vector<Cdr> ours;
    const std::string vendor = a.get("--vendor");
    auto r = st->for_each_cdr(from, until, [&](const Cdr& c) {
        if (c.call.vendor == vendor) ours.push_back(c);
        return true;
    });
    if (!r) return runtime(r.error());
    auto calls = recon_calls_from(ours);
    auto rep = reconcile(calls, theirs.calls, o);
    if (!rep) return runtime(rep.error());
    std::cout << format_recon(*rep, format);
    return kOk;
}

int cmd_audit(const std::string& db, int argc, char** argv, int first) {
    OptionSpec spec{{}, {"--help", "--json"}};
    Args a;
    if (int rc = options(spec, kAuditHelp, argc, argv, first, a); rc >= 0) return rc;
    auto st = open_db(db);
    if (!st) return runtime(st.error(), db);
    auto issues = st->audit();
    if (!issues) return runtime(issues.error());
    if (a.flag("--json")) {  // {"ok":bool,"issues":[{"account","balance","expected"}]}, exit code as below
        std::string list;
        for (const auto& i : *issues)
            list += (list.empty() ? "" : ",") +
                    trunkctl::cli::json_object({{"account", trunkctl::cli::json_text(i.account)},
                                                {"balance", trunkctl::cli::json_text(i.balance.to_string())},
                                                {"expected", trunkctl::cli::json_text(i.expected.to_string())}});
        std::cout << "{\"ok\":" << trunkctl::cli::json_bool(issues->empty()) << ",\"issues\":[" << list << "]}\n";
        return issues->empty() ? kOk : kRuntime;
    }
    for (const auto& i : *issues)
        std::cout << i.account << ": balance " << i.balance.to_string() << " but ledger and CDRs give "
                  << i.expected.to_string() << "\n";
    if (!issues->empty()) return kRuntime;
    std::cout << "ok\n";
    return kOk;
}

#endif  // TRUNKCTL_BILLING

}  // namespace

int main(int argc_in, char** argv_in) {
    // The control path options may stand anywhere; the commands see the other arguments.
    trunkctl::api::Remote remote;
    std::vector<char*> args;
    if (int rc = trunkctl::api::take_options(argc_in, argv_in, remote, args); rc >= 0) return rc;
    const int argc = static_cast<int>(args.size());
    char** argv = args.data();
    std::string db = "var/trunkline.db";
    int i = 1;
    // Global options before the command.
    for (; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::cout << kMainHelp;
            return kOk;
        }
        if (a == "--db") {
            if (i + 1 >= argc) return usage("--db needs a path", kMainHelp);
            db = argv[++i];
        } else if (a.rfind("--db=", 0) == 0) {
            db = a.substr(5);
        } else if (a.rfind("-", 0) == 0) {
            return usage("unknown option " + a, kMainHelp);
        } else {
            break;
        }
    }
    if (i >= argc) return usage("missing command", kMainHelp);
    if (db.empty()) return usage("--db needs a path", kMainHelp);
    const std::string cmd = argv[i];
    try {
#if TRUNKCTL_BILLING
        if (cmd == "rates") return cmd_rates(db, argc, argv, i + 1);
        if (cmd == "accounts") return cmd_accounts(db, argc, argv, i + 1);
        if (cmd == "billing") return trunkctl::cmd_billing(db, argc, argv, i + 1);
        if (cmd == "cdr") return cmd_cdr(db, argc, argv, i + 1);
        if (cmd == "report") return cmd_report(db, argc, argv, i + 1);
        if (cmd == "tiers") return cmd_tiers(db, argc, argv, i + 1);
        if (cmd == "packages") return trunkctl::cmd_packages(db, argc, argv, i + 1);
        if (cmd == "commitments") return trunkctl::cmd_commitments(db, argc, argv, i + 1);
        if (cmd == "reconcile") return cmd_reconcile(db, argc, argv, i + 1);
        if (cmd == "audit") return cmd_audit(db, argc, argv, i + 1);
#else
        const bool gateway_status =
            cmd == "gateway" && i + 1 < argc && std::string_view(argv[i + 1]) == "status";
        for (std::string_view billing_cmd : {"rates", "accounts", "billing", "cdr", "report", "tiers", "packages", "commitments", "reconcile",
                                             "audit", "gateway", "group", "route"}) {
            if (cmd == billing_cmd && !gateway_status) {
                std::cerr << "trunkctl: '" << cmd
                          << "' needs billing, which this trunkctl was built without "
                             "(meson -Dbilling=true)\n";
                return kUsage;
            }
        }
#endif
        if (cmd == "domain") return trunkctl::cmd_domain(db, remote, argc, argv, i + 1);
        if (cmd == "user") return trunkctl::cmd_user(db, argc, argv, i + 1);
        if (cmd == "suspend") return trunkctl::cmd_suspend(db, remote, argc, argv, i + 1);
        if (cmd == "binding") return trunkctl::cmd_binding(db, remote, argc, argv, i + 1);
        if (cmd == "trunk-reg") return trunkctl::cmd_trunk_reg(db, remote, argc, argv, i + 1);
        if (cmd == "gateway" && i + 1 < argc && std::string_view(argv[i + 1]) == "status")
            return trunkctl::cmd_gateway_status(db, remote, argc, argv, i + 1);
#if TRUNKCTL_BILLING
        if (cmd == "gateway") return trunkctl::cmd_gateway(db, argc, argv, i + 1);
        if (cmd == "group") return trunkctl::cmd_group(db, argc, argv, i + 1);
        if (cmd == "route") return trunkctl::cmd_route(db, argc, argv, i + 1);
#endif
        if (cmd == "call") return trunkctl::cmd_call(db, remote, argc, argv, i + 1);
        if (cmd == "token") return trunkctl::cmd_token(db, argc, argv, i + 1);
        if (cmd == "backup") return trunkctl::cmd_backup(db, argc, argv, i + 1);
        if (cmd == "trace") return trunkctl::cmd_trace(remote, argc, argv, i + 1);
        if (cmd == "help") {
            std::cout << kMainHelp;
            return kOk;
        }
    } catch (const std::bad_alloc&) {
        std::cerr << "trunkctl: out of memory\n";
        return kRuntime;
    }
    return usage("unknown command '" + cmd + "'", kMainHelp);
}

#include "package_cmd.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <vector>

#include "billing/csv.hpp"
#include "billing/report.hpp"
#include "cli_util.hpp"

namespace trunkctl {

namespace {

using billing::Error;
using billing::Money;
using billing::Package;
using billing::Result;
using billing::Timestamp;
using billing::sqlite::Store;

const char* const kPackagesHelp = R"(usage:
  trunkctl packages add ACCOUNT NAME --prefixes 44,33 --minutes N --fee X --until T [--from T]
      Sell customer ACCOUNT a package (VOS3000 "packages"): N minutes to numbers beginning
      with one of the prefixes (the callee as received; longest prefix first), valid for
      calls answered from --from (default: now) until --until (exclusive; times UTC). The fee
      is debited from the balance now, with a "package" ledger row; balance + credit limit
      must cover it. Renewal is a new package (e.g. NAME uk-2026-12). cdr import uses the
      package before the rate: a call covered entirely costs 0; a call covered in part pays
      the rest of its billed seconds at the rate (or tier) price, with the connection fee.
  trunkctl packages remove ACCOUNT NAME
      Delete the package and its usage (no refund: a refund is an accounts topup).
  trunkctl packages list [ACCOUNT] [--format table|csv|json | --json]
      Every package with the seconds used and the minutes left.
  trunkctl packages usage ACCOUNT NAME [--json]
      One package's seconds used and left; --json: the object of packages list --json.
  --json (every subcommand): add and remove print one object saying what was done, e.g.
      {"account":"C1","package":"uk","removed":true}, after success only.
)";

const cli::Cmd kPackages{"packages", kPackagesHelp};

// A data error (exit 1): the message names the field, as the other billing commands print it.
int runtime(const Error& e) {
    return cli::runtime(kPackages, e.describe() + " [" + std::string(billing::to_string(e.code)) + "]");
}

Timestamp now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Result<Store> open_store(const std::string& db) {
    cli::ensure_dir(db);
    return Store::open(db);
}

// "97.50": whole minutes left with two decimals, truncated (display only, like report minutes).
std::string minutes_text(std::int64_t seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60 * 100 / 60));
    return buf;
}

struct Row {
    Package p;
    std::int64_t used_s = 0;
    std::int64_t left_s() const { return std::max<std::int64_t>(0, p.seconds - used_s); }
};

// One package as JSON (packages list --json's objects, packages usage --json).
std::string row_json(const Row& r, int dp) {
    const Package& p = r.p;
    std::string prefixes;
    for (std::size_t k = 0; k < p.prefixes.size(); ++k) prefixes += (k ? "," : "") + cli::json_text(p.prefixes[k]);
    return "{\"account\":" + cli::json_text(p.account) + ",\"name\":" + cli::json_text(p.name) + ",\"prefixes\":[" +
           prefixes + "],\"seconds\":" + std::to_string(p.seconds) + ",\"fee\":\"" + p.fee.to_string(dp) +
           "\",\"valid_from\":\"" + billing::format_time(p.valid_from) + "\",\"valid_until\":\"" +
           billing::format_time(p.valid_until) + "\",\"used_s\":" + std::to_string(r.used_s) +
           ",\"remaining_s\":" + std::to_string(r.left_s()) + ",\"remaining_min\":\"" + minutes_text(r.left_s()) + "\"}";
}

void print_json(const std::vector<Row>& rows, int dp) {
    std::cout << "[";
    for (std::size_t i = 0; i < rows.size(); ++i) std::cout << (i ? "," : "") << row_json(rows[i], dp);
    std::cout << "]\n";
}

// CSV, or a table with aligned columns (numbers right-aligned).
void print_rows(const std::vector<Row>& rows, int dp, bool csv) {
    std::vector<std::vector<std::string>> cells = {{"account", "name", "prefixes", "minutes", "fee", "valid_from",
                                                    "valid_until", "used_s", "remaining_s", "remaining_min"}};
    for (const Row& r : rows)
        cells.push_back({r.p.account, r.p.name, billing::join_prefixes(r.p.prefixes), minutes_text(r.p.seconds),
                         r.p.fee.to_string(dp), billing::format_time(r.p.valid_from),
                         billing::format_time(r.p.valid_until), std::to_string(r.used_s),
                         std::to_string(r.left_s()), minutes_text(r.left_s())});
    if (csv) {
        for (const auto& line : cells)
            for (std::size_t c = 0; c < line.size(); ++c)
                std::cout << billing::csv_escape(line[c]) << (c + 1 < line.size() ? "," : "\n");
        return;
    }
    std::vector<std::size_t> width(cells[0].size(), 0);
    for (const auto& line : cells)
        for (std::size_t c = 0; c < line.size(); ++c) width[c] = std::max(width[c], line[c].size());
    for (const auto& line : cells) {
        std::string out;
        for (std::size_t c = 0; c < line.size(); ++c) {
            const std::string pad(width[c] - line[c].size(), ' ');
            const bool right = c == 3 || c == 4 || c >= 7;  // minutes, fee, used, remaining
            out += right ? pad + line[c] : line[c] + (c + 1 < line.size() ? pad : "");
            if (c + 1 < line.size()) out += "  ";
        }
        std::cout << out << "\n";
    }
}

int packages_add(const std::string& db, const Args& a) {
    const auto& pos = a.positionals();
    if (pos.size() != 2 || !a.has("--prefixes") || !a.has("--minutes") || !a.has("--fee") || !a.has("--until"))
        return cli::usage(kPackages, "packages add needs ACCOUNT NAME --prefixes P,... --minutes N --fee X --until T");
    auto minutes = billing::parse_int(a.get("--minutes"));
    if (!minutes || *minutes < 1 || *minutes > 1000000000)
        return cli::bad(kPackages, "--minutes must be a whole number of minutes, 1 to 10^9");
    const Timestamp sold = now_ms();
    Timestamp from = sold, until = 0;
    for (auto [opt, out] : {std::pair<const char*, Timestamp*>{"--from", &from}, {"--until", &until}}) {
        if (!a.has(opt)) continue;
        auto t = billing::parse_time(a.get(opt));
        if (!t) return cli::bad(kPackages, std::string(opt) + ": " + t.error().message);
        *out = *t;
    }
    auto fee = Money::parse(a.get("--fee"));
    if (!fee) {
        Error e = fee.error();
        e.field = "fee";
        return runtime(e);
    }
    Package p{pos[0], pos[1], billing::split_prefixes(a.get("--prefixes")), static_cast<std::int64_t>(*minutes) * 60,
              *fee, from, until};
    auto st = open_store(db);
    if (!st) return cli::runtime(kPackages, db + ": " + st.error().describe());
    auto cur = st->currency();
    if (!cur) return runtime(cur.error());
    auto balance = st->sell_package(p, sold);  // validates; unknown account names the field
    if (!balance) return runtime(balance.error());
    const int dp = cur->precision;
    if (a.flag("--json"))
        return cli::done(a, "",
                         {{"account", cli::json_text(p.account)}, {"package", cli::json_text(p.name)},
                          {"minutes", std::to_string(*minutes)}, {"fee", cli::json_text(p.fee.to_string(dp))},
                          {"balance", cli::json_text(balance->to_string(dp))}, {"added", "true"}});
    std::cout << "package " << p.account << " " << p.name << ": " << *minutes << " min to "
              << billing::join_prefixes(p.prefixes) << ", " << billing::format_time(p.valid_from) << " to "
              << billing::format_time(p.valid_until) << " UTC, fee " << p.fee.to_string(dp) << "; " << p.account
              << " balance " << balance->to_string(dp) << "\n";
    return cli::kOk;
}

int packages_list(const std::string& db, const Args& a) {
    const auto& pos = a.positionals();
    if (pos.size() > 1) return cli::usage(kPackages, "packages list takes at most ACCOUNT");
    std::string format;  // cli::parse refused --json with another --format
    cli::json_format(a, format);
    if (format != "table" && format != "csv" && format != "json")
        return cli::bad(kPackages, "--format must be table, csv or json, not '" + format + "'");
    auto st = open_store(db);
    if (!st) return cli::runtime(kPackages, db + ": " + st.error().describe());
    auto cur = st->currency();
    if (!cur) return runtime(cur.error());
    if (!pos.empty())
        if (auto acc = st->account(pos[0]); !acc) return runtime(acc.error());  // a typo is no empty list
    auto all = st->packages();
    if (!all) return runtime(all.error());
    std::vector<Row> rows;
    for (Package& p : all->all()) {
        if (!pos.empty() && p.account != pos[0]) continue;
        auto used = st->package_used(p.account, p.name);
        if (!used) return runtime(used.error());
        rows.push_back({std::move(p), *used});
    }
    if (format == "json") print_json(rows, cur->precision);
    else print_rows(rows, cur->precision, format == "csv");
    return cli::kOk;
}

int packages_usage(const std::string& db, const Args& a) {
    const auto& pos = a.positionals();
    if (pos.size() != 2) return cli::usage(kPackages, "packages usage needs ACCOUNT NAME");
    auto st = open_store(db);
    if (!st) return cli::runtime(kPackages, db + ": " + st.error().describe());
    auto all = st->packages();
    if (!all) return runtime(all.error());
    const Package* p = all->find(pos[0], pos[1]);
    if (p == nullptr)
        return runtime(billing::make_error(billing::ErrorCode::invalid_argument,
                                           "no package " + pos[0] + " " + pos[1], "package"));
    auto used = st->package_used(p->account, p->name);
    if (!used) return runtime(used.error());
    const Row r{*p, *used};
    if (a.flag("--json")) {
        auto cur = st->currency();
        if (!cur) return runtime(cur.error());
        std::cout << row_json(r, cur->precision) << "\n";  // the object of packages list --json
        return cli::kOk;
    }
    std::cout << p->account << " " << p->name << ": used " << r.used_s << " s of " << p->seconds << " s, "
              << r.left_s() << " s left (" << minutes_text(r.left_s()) << " min), valid "
              << billing::format_time(p->valid_from) << " to " << billing::format_time(p->valid_until) << " UTC\n";
    return cli::kOk;
}

}  // namespace

int report_packages(const std::string& db, const Args& a, const std::string& format, const char* help) {
    const cli::Cmd report{"report", help};
    if (a.has("--by") || a.has("--fixed-costs"))
        return cli::usage(report, "--by and --fixed-costs do not apply to report packages");
    Timestamp from = billing::kTimeMin, until = billing::kTimeMax;  // default: every package
    for (auto [opt, out] : {std::pair<const char*, Timestamp*>{"--from", &from}, {"--until", &until}}) {
        if (!a.has(opt)) continue;
        auto t = billing::parse_time(a.get(opt));
        if (!t) return cli::usage(report, std::string(opt) + ": " + t.error().message);
        *out = *t;
    }
    auto st = open_store(db);
    if (!st) return cli::runtime(report, db + ": " + st.error().describe());
    auto rep = st->package_report(from, until);
    if (!rep)
        return cli::runtime(report, rep.error().describe() + " [" + std::string(billing::to_string(rep.error().code)) + "]");
    std::cout << (format == "csv" ? billing::format_csv(*rep) : format == "json" ? billing::format_json(*rep)
                                                                                 : billing::format_table(*rep));
    return cli::kOk;
}

int cmd_packages(const std::string& db, int argc, char** argv, int first) {
    Args a;
    std::string sub;
    OptionSpec spec{{"--prefixes", "--minutes", "--fee", "--from", "--until", "--format"}, {"--json"}};
    if (int rc = cli::parse(kPackages, argc, argv, first, spec, a, sub); rc >= 0) return rc;
    if (sub == "add") return packages_add(db, a);
    if (sub == "list") return packages_list(db, a);
    if (sub == "usage") return packages_usage(db, a);
    if (sub == "remove") {
        const auto& pos = a.positionals();
        if (pos.size() != 2) return cli::usage(kPackages, "packages remove needs ACCOUNT NAME");
        auto st = open_store(db);
        if (!st) return cli::runtime(kPackages, db + ": " + st.error().describe());
        if (auto ok = st->remove_package(pos[0], pos[1]); !ok) return runtime(ok.error());
        return cli::done(a, "removed (no refund)\n",
                         {{"account", cli::json_text(pos[0])}, {"package", cli::json_text(pos[1])}, {"removed", "true"}});
    }
    return cli::usage(kPackages, "unknown packages subcommand '" + sub + "'");
}

}  // namespace trunkctl

#include "commitment_cmd.hpp"

#include <algorithm>
#include <iostream>
#include <vector>

#include "args.hpp"
#include "billing/commitments.hpp"
#include "billing/csv.hpp"
#include "billing/sqlite/store.hpp"
#include "cli_util.hpp"

namespace trunkctl {

namespace {

using billing::Commitment;
using billing::Error;
using billing::Result;
using billing::sqlite::Store;
using cli::json_text;

const char* const kCommitmentsHelp = R"(usage:
  trunkctl commitments add ACCOUNT [--prefix P] --minutes N --discount R
      Customer ACCOUNT commits to N billed minutes per local calendar month
      (calendar.timezone) to numbers beginning with P (the callee as received; no --prefix
      or "": every destination; a call counts toward the account's longest matching
      prefix only). When the month's minutes reach N, it earns R of the month's charge to P
      (R: "5%" or "0.05", up to 100%), rounded once at the currency precision and rule.
      The same ACCOUNT and P again replaces N and R. Shown by `trunkctl report
      commitments --month YYYY-MM`; the discount is not booked (credit it with accounts
      topup).
  trunkctl commitments remove ACCOUNT [--prefix P]
  trunkctl commitments list [--format table|csv|json | --json]
)";

const cli::Cmd kCommitments{"commitments", kCommitmentsHelp};

// A data error (exit 1): the message names the field, as the other billing commands print it.
int runtime(const cli::Cmd& c, const Error& e) {
    return cli::runtime(c, e.describe() + " [" + std::string(billing::to_string(e.code)) + "]");
}

Result<Store> open_store(const std::string& db) {
    cli::ensure_dir(db);
    return Store::open(db);
}

// The table's way of showing prefix "" (every destination); CSV and JSON keep "".
std::string shown_prefix(const std::string& p) { return p.empty() ? "*" : p; }

void print_list(const std::vector<Commitment>& all, const std::string& format) {
    if (format == "json") {
        std::cout << "[";
        for (std::size_t i = 0; i < all.size(); ++i)
            std::cout << (i ? "," : "")
                      << cli::json_object({{"account", json_text(all[i].account)},
                                           {"prefix", json_text(all[i].prefix)},
                                           {"minutes", std::to_string(all[i].minutes)},
                                           {"discount_rate", json_text(billing::format_ppm_percent(all[i].discount_ppm))},
                                           {"discount_ppm", std::to_string(all[i].discount_ppm)}});
        std::cout << "]\n";
        return;
    }
    std::vector<std::vector<std::string>> cells = {{"account", "prefix", "minutes", "discount_rate"}};
    for (const Commitment& c : all)
        cells.push_back({c.account, format == "csv" ? c.prefix : shown_prefix(c.prefix), std::to_string(c.minutes),
                         billing::format_ppm_percent(c.discount_ppm)});
    if (format == "csv") {
        for (const auto& line : cells)
            std::cout << billing::csv_escape(line[0]) << ',' << billing::csv_escape(line[1]) << ',' << line[2] << ','
                      << line[3] << "\n";
        return;
    }
    std::vector<std::size_t> w(4, 0);
    for (const auto& line : cells)
        for (std::size_t c = 0; c < 4; ++c) w[c] = std::max(w[c], line[c].size());
    for (const auto& line : cells) {
        std::string out;
        for (std::size_t c = 0; c < 4; ++c) {
            const std::string pad(w[c] - line[c].size(), ' ');
            out += c >= 2 ? pad + line[c] : line[c] + pad;  // figures right-aligned
            if (c < 3) out += "  ";
        }
        std::cout << out << "\n";
    }
}

int commitments_add(const std::string& db, const Args& a) {
    const auto& pos = a.positionals();
    if (pos.size() != 1 || !a.has("--minutes") || !a.has("--discount"))
        return cli::usage(kCommitments, "commitments add needs ACCOUNT --minutes N --discount R [--prefix P]");
    auto minutes = billing::parse_int(a.get("--minutes"));
    if (!minutes || *minutes < 1 || *minutes > 1000000000)
        return cli::bad(kCommitments, "--minutes must be a whole number of minutes per month, 1 to 10^9");
    // As --commission: "5%" or "0.05" (parse_ratio_ppm), 0% to 100%.
    auto ppm = billing::parse_ratio_ppm(a.get("--discount"));
    if (!ppm || *ppm < 0 || *ppm > 1000000)
        return cli::bad(kCommitments, cli::opt_text("--discount", a.get("--discount")) +
                                          ": a percentage 0% to 100% (\"5%\" or \"0.05\")" +
                                          (ppm ? std::string() : ": " + ppm.error().message));
    const Commitment c{pos[0], a.get("--prefix"), static_cast<std::int64_t>(*minutes), *ppm};
    auto st = open_store(db);
    if (!st) return cli::runtime(kCommitments, db + ": " + st.error().describe());
    if (auto ok = st->put_commitment(c); !ok) return runtime(kCommitments, ok.error());  // names the field
    const std::string to = c.prefix.empty() ? "every destination" : c.prefix;
    return cli::done(a,
                     "commitment " + c.account + " to " + to + ": " + std::to_string(c.minutes) + " min/month, discount " +
                         billing::format_ppm_percent(c.discount_ppm) + "\n",
                     {{"account", json_text(c.account)},
                      {"prefix", json_text(c.prefix)},
                      {"minutes", std::to_string(c.minutes)},
                      {"discount_rate", json_text(billing::format_ppm_percent(c.discount_ppm))}});
}

}  // namespace

int cmd_commitments(const std::string& db, int argc, char** argv, int first) {
    Args a;
    std::string sub;
    OptionSpec spec{{"--prefix", "--minutes", "--discount", "--format"}, {"--json"}};
    if (int rc = cli::parse(kCommitments, argc, argv, first, spec, a, sub); rc >= 0) return rc;
    if (sub == "add") return commitments_add(db, a);
    if (sub == "list") {
        if (!a.positionals().empty()) return cli::usage(kCommitments, "commitments list takes no argument");
        std::string format;
        if (!cli::json_format(a, format)) return cli::usage(kCommitments, cli::json_conflict(a));
        if (format != "table" && format != "csv" && format != "json")
            return cli::bad(kCommitments, "--format must be table, csv or json, not '" + format + "'");
        auto st = open_store(db);
        if (!st) return cli::runtime(kCommitments, db + ": " + st.error().describe());
        auto all = st->commitments();
        if (!all) return runtime(kCommitments, all.error());
        print_list(*all, format);
        return cli::kOk;
    }
    if (sub == "remove") {
        const auto& pos = a.positionals();
        if (pos.size() != 1) return cli::usage(kCommitments, "commitments remove needs ACCOUNT [--prefix P]");
        auto st = open_store(db);
        if (!st) return cli::runtime(kCommitments, db + ": " + st.error().describe());
        if (auto ok = st->remove_commitment(pos[0], a.get("--prefix")); !ok) return runtime(kCommitments, ok.error());
        return cli::done(a, "removed\n",
                         {{"account", json_text(pos[0])}, {"prefix", json_text(a.get("--prefix"))}, {"removed", "true"}});
    }
    return cli::usage(kCommitments, "unknown commitments subcommand '" + sub + "'");
}

int report_commitments(const std::string& db, int argc, char** argv, int first, const char* help) {
    const cli::Cmd report{"report", help};
    Args a;
    if (!a.parse(argc, argv, first, OptionSpec{{"--month", "--format"}, {"--json", "--help"}}))
        return cli::usage(report, a.error() + " (report commitments takes --month YYYY-MM [--format F | --json])");
    if (a.flag("--help")) {
        std::cout << help;
        return cli::kOk;
    }
    if (!a.positionals().empty()) return cli::usage(report, "unexpected argument '" + a.positionals()[0] + "'");
    std::string format;
    if (!cli::json_format(a, format)) return cli::usage(report, cli::json_conflict(a));
    if (format != "table" && format != "csv" && format != "json")
        return cli::bad(report, "--format must be table, csv or json, not '" + format + "'");
    if (!a.has("--month")) return cli::usage(report, "report commitments needs --month YYYY-MM");
    // The text is checked before opening the file (a usage error); the zone comes from the store.
    if (auto m = billing::month_range(a.get("--month"), billing::WorkCalendar{}); !m)
        return cli::bad(report, "--month: " + m.error().message);
    auto st = open_store(db);
    if (!st) return cli::runtime(report, db + ": " + st.error().describe());
    auto rep = st->commitment_report(a.get("--month"));
    if (!rep) return runtime(report, rep.error());
    std::cout << (format == "csv" ? billing::format_csv(*rep) : format == "json" ? billing::format_json(*rep)
                                                                                 : billing::format_table(*rep));
    return cli::kOk;
}

}  // namespace trunkctl

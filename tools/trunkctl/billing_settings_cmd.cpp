#include "billing_settings_cmd.hpp"

#include <chrono>
#include <iostream>

#include "billing/csv.hpp"
#include "billing/rating.hpp"
#include "billing/settings.hpp"
#include "billing/sqlite/store.hpp"
#include "cli_util.hpp"

namespace trunkctl {

namespace {

const char* const kBillingHelp = R"(usage:
  trunkctl billing show [--format table|csv|json | --json]
      The rating settings in force (stored value or default) with their VOS3000 names.
  trunkctl billing set KEY VALUE [--json]
      Store one setting; a running trunkline applies it within a second. --json:
      {"key":KEY,"value":VALUE,"set":true} after success.
      currency.code                   1..8 letters (USD)
      currency.precision              decimals kept, 0..6 (4)     SERVER_BILLING_FEE_PRECISTION
      currency.rounding               up|half-up|down (up)         SERVER_BILLING_FEE_UNIT
      billing.hold_time_precision_ms  1..1000 (50, as VOS3000)     SERVER_BILLING_HOLD_TIME_PRECISION
                                      the part of the last second, in ms, from which it is billed
      billing.free_time_s             0..86400 (0)                 SERVER_BILLING_FREE_TIME
                                      answered calls up to this many seconds are not billed
      calendar.timezone               UTC, UTC+HH:MM or an IANA name (Asia/Shanghai,
                                      Europe/London: daylight saving included) (UTC)
      calendar.working_days           mon-fri, mon,wed,sat, ... (mon-fri)
      calendar.work_hours             HH:MM-HH:MM local peak hours (08:00-20:00)
      calendar.holidays               YYYY-MM-DD,... local dates, non-working ("")
)";

const char* const kMaxDurationHelp = R"(usage:
  trunkctl accounts max-duration ACCOUNT NUMBER [--caller N] [--at TIME]
      The longest call (seconds) ACCOUNT's balance and credit limit allow to NUMBER at TIME
      (default now), as the switch computes it for a prepaid call: the cheapest rate of the
      account's rate group, private rates and the caller's private rates, first period,
      increments and connection fee included, at most 7200 s. A package of ACCOUNT valid at
      TIME for NUMBER with seconds left (the one cdr import would use) makes it longer: its
      seconds cost nothing (the running switch does not count packages yet). --json:
      {"account","number","at","max_call_duration_s","package_seconds_left"}.
)";

const cli::Cmd kBilling{"billing", kBillingHelp};
const cli::Cmd kMaxDuration{"accounts max-duration", kMaxDurationHelp};

std::string json_text(const std::string& s) {
    std::string o = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        o += c;
    }
    return o + "\"";
}

void print_settings(const billing::RatingConfig& cfg, const std::string& format) {
    const auto all = billing::settings_of(cfg);
    if (format == "json") {
        std::cout << "[";
        for (std::size_t i = 0; i < all.size(); ++i)
            std::cout << (i ? "," : "") << "{\"key\":" << json_text(all[i].key)
                      << ",\"value\":" << json_text(all[i].value)
                      << ",\"vos3000\":" << json_text(std::string(all[i].vos3000)) << "}";
        std::cout << "]\n";
        return;
    }
    if (format == "csv") std::cout << "key,value,vos3000\n";
    for (const auto& s : all) {
        if (format == "csv") {
            std::cout << s.key << ',' << billing::csv_escape(s.value) << ',' << s.vos3000 << "\n";
        } else {
            std::cout << s.key << std::string(s.key.size() < 32 ? 32 - s.key.size() : 1, ' ')
                      << s.value << std::string(s.value.size() < 8 ? 8 - s.value.size() : 1, ' ')
                      << s.vos3000 << "\n";
        }
    }
}

billing::Timestamp wall_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int cmd_billing(const std::string& db, int argc, char** argv, int first) {
    Args a;
    std::string sub;
    if (int rc = cli::parse(kBilling, argc, argv, first, {{"--format"}, {"--help", "--json"}}, a, sub); rc >= 0)
        return rc;
    const auto& pos = a.positionals();
    if (sub == "show") {
        std::string format;
        if (!cli::json_format(a, format)) return cli::usage(kBilling, cli::json_conflict(a));
        if (format != "table" && format != "csv" && format != "json")
            return cli::bad(kBilling, "--format must be table, csv or json, not '" + format + "'");
        if (!pos.empty()) return cli::usage(kBilling, "billing show takes no arguments");
        auto st = billing::sqlite::Store::open(db);
        if (!st) return cli::runtime(kBilling, db + ": " + st.error().describe());
        auto cfg = st->rating_config();
        if (!cfg) return cli::runtime(kBilling, cfg.error().describe());
        print_settings(*cfg, format);
        return cli::kOk;
    }
    if (sub == "set") {
        if (pos.size() != 2) return cli::usage(kBilling, "billing set needs KEY VALUE");
        auto st = billing::sqlite::Store::open(db);
        if (!st) return cli::runtime(kBilling, db + ": " + st.error().describe());
        if (auto ok = st->set_setting(pos[0], pos[1]); !ok)  // validated (zones: tzdata)
            return ok.error().code == billing::ErrorCode::invalid_argument
                       ? cli::bad(kBilling, ok.error().message)
                       : cli::runtime(kBilling, ok.error().describe());
        return cli::done(a, pos[0] + " = " + pos[1] + "\n",
                         {{"key", cli::json_text(pos[0])}, {"value", cli::json_text(pos[1])}, {"set", "true"}});
    }
    return cli::usage(kBilling, "unknown billing subcommand '" + sub + "'");
}

int accounts_max_duration(const std::string& db, int argc, char** argv, int first) {
    Args a;
    if (!a.parse(argc, argv, first, {{"--caller", "--at"}, {"--help", "--json"}}))
        return cli::usage(kMaxDuration, a.error());
    if (a.flag("--help")) {
        std::cout << kMaxDurationHelp;
        return cli::kOk;
    }
    const auto& pos = a.positionals();
    if (pos.size() != 2) return cli::usage(kMaxDuration, "needs ACCOUNT NUMBER");
    billing::Timestamp at = wall_now_ms();
    if (a.has("--at")) {
        auto t = billing::parse_time(a.get("--at"));
        if (!t) return cli::bad(kMaxDuration, "--at: " + t.error().message);
        at = *t;
    }
    auto st = billing::sqlite::Store::open(db);
    if (!st) return cli::runtime(kMaxDuration, db + ": " + st.error().describe());
    auto book = st->load_book();
    if (!book) return cli::runtime(kMaxDuration, book.error().describe());
    auto cfg = st->rating_config();
    if (!cfg) return cli::runtime(kMaxDuration, cfg.error().describe());
    auto packages = st->packages();
    if (!packages) return cli::runtime(kMaxDuration, packages.error().describe());
    auto left = packages->seconds_left(pos[0], pos[1], at, [&](const billing::Package& p) {
        return st->package_used(p.account, p.name);
    });
    if (!left) return cli::runtime(kMaxDuration, left.error().describe());
    const billing::Rater rater(*book, *cfg);
    auto secs = rater.max_call_duration(pos[0], pos[1], at, a.get("--caller"), *left);
    if (!secs) return cli::runtime(kMaxDuration, secs.error().describe());
    if (a.flag("--json")) {
        std::cout << cli::json_object({{"account", cli::json_text(pos[0])}, {"number", cli::json_text(pos[1])},
                                       {"at", cli::json_text(billing::format_time(at))},
                                       {"max_call_duration_s", std::to_string(*secs)},
                                       {"package_seconds_left", std::to_string(*left)}})
                  << "\n";
        return cli::kOk;
    }
    std::cout << "max_call_duration " << *secs << " s (" << pos[0] << " to " << pos[1] << " at "
              << billing::format_time(at) << " UTC";
    if (*left > 0) std::cout << "; " << *left << " s left in a package cost nothing";
    std::cout << ")\n";
    return cli::kOk;
}

}  // namespace trunkctl

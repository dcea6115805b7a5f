// Reports over rated CDRs: revenue, clearing, gateway bill, settlement, profit, ASR/ACD,
// break-even; rendered as an aligned table, CSV or JSON.
//
//   billing::ReportBuilder b(billing::ReportKind::revenue);
//   for (const billing::Cdr& c : cdrs) if (auto ok = b.add(c); !ok) return ok.error();
//   billing::Report r = b.finish();           // rows sorted by key, plus a total row
//   std::cout << billing::format_table(r);    // or format_csv(r) / format_json(r)
//
// The same Report is produced by billing::sqlite::Store::report() with SQL GROUP BY, so
// large periods are aggregated inside SQLite; both are checked against each other and
// against the plain sum of the CDRs in tests/billing/report_test.cpp.
//
// Grouping per kind (key, key2), VOS3000 report names in brackets:
//   revenue          customer, -                 [Revenue Details]
//   clearing         vendor, -                   [Clearing Account Detail]
//   clearing_gateway vendor, vendor gateway      [Clearing Gateway Details]
//   gateway          customer gateway, customer  [Gateway Bill]
//   settlement       "total", -                  [Summary of Financial Settlement]
//   profit_area      area, rate prefix
//   profit_customer  customer, -
//   asr              vendor gateway, area        (ASR and ACD per gateway and destination)
// Amounts are exact sums (overflow is an error). Derived figures are integers: ASR in ppm
// of calls answered, ACD in whole seconds (truncated), margin in ppm of revenue.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "billing/account.hpp"
#include "billing/cdr.hpp"
#include "billing/money.hpp"
#include "billing/packages.hpp"
#include "billing/result.hpp"

namespace billing {

enum class ReportKind : std::uint8_t {
    revenue, clearing, clearing_gateway, gateway, settlement, profit_area, profit_customer, asr
};
std::string_view to_string(ReportKind k);
Result<ReportKind> parse_report_kind(std::string_view s);
// Column titles of key and key2 ("" when the kind has no second key).
std::pair<std::string_view, std::string_view> key_names(ReportKind k);

struct ReportRow {
    std::string key;
    std::string key2;
    std::int64_t calls = 0;
    std::int64_t answered = 0;        // calls with duration > 0
    std::int64_t duration_s = 0;      // answered seconds
    std::int64_t billed_s = 0;        // customer billed seconds
    std::int64_t vendor_billed_s = 0;
    Money revenue;                    // sum of charges
    Money cost;                       // sum of vendor costs
    Money profit;                     // sum of profits (= revenue - cost)
    // Lowest and highest per-minute rate deviation of the row's answered calls (filled by
    // RateDeviationRanges; empty when it has none).
    std::optional<Money> rate_deviation_min;
    std::optional<Money> rate_deviation_max;

    std::int64_t asr_ppm() const { return calls == 0 ? 0 : answered * 1000000 / calls; }
    std::int64_t acd_s() const { return answered == 0 ? 0 : duration_s / answered; }
    std::int64_t margin_ppm() const;
    Result<void> add(const ReportRow& o);  // checked field-wise sum
};

struct Report {
    ReportKind kind = ReportKind::revenue;
    std::vector<ReportRow> rows;  // sorted by (key, key2)
    ReportRow total;              // key "total"
    int decimals = 2;             // amounts printed with at least this many decimals
                                  // (Store::report: the currency precision)
    bool rate_deviation = false;  // print rate_deviation_min/max (RateDeviationRanges::apply)
};

class ReportBuilder {
public:
    explicit ReportBuilder(ReportKind kind) : kind_(kind) {}
    Result<void> add(const Cdr& c);
    Result<Report> finish() const;

private:
    ReportKind kind_;
    std::map<std::pair<std::string, std::string>, ReportRow> rows_;
};

// Which CDR fields key a row of this kind.
std::pair<std::string_view, std::string_view> report_keys(ReportKind k, const Cdr& c);

// VOS3000 "Rate deviation" (customer price - vendor price per minute) in a report, as the
// lowest and highest figure of each row's answered calls. A range, not an average: any
// average of per-minute prices would need a division and so a rounding, while min and max
// are exact CDR figures. Fed with the CDRs of the report's period (Store::for_each_cdr),
// then applied to the report (SQL or in-memory): rows are matched by their keys.
//
//   billing::RateDeviationRanges dev(kind);
//   store.for_each_cdr(from, until, [&](const billing::Cdr& c) { dev.add(c); return true; });
//   dev.apply(report);   // adds the columns rate_deviation_min, rate_deviation_max
class RateDeviationRanges {
public:
    explicit RateDeviationRanges(ReportKind kind) : kind_(kind) {}
    void add(const Cdr& c);  // unanswered calls are skipped: they moved no money
    void apply(Report& r) const;

private:
    struct Range {
        Money min, max;
    };
    ReportKind kind_;
    std::map<std::pair<std::string, std::string>, Range> rows_;
};

std::string format_table(const Report& r);
std::string format_csv(const Report& r);
std::string format_json(const Report& r);

// Agent Income report (VOS3000 "Agent Income"): per agent account, per sub-account (the
// accounts whose `agent` names it): calls, minutes, charge, cost, profit and the agent's
// commission on them, then the agent's total, then the grand total.
//
//   auto by_customer = store.report(billing::ReportKind::profit_customer, from, until);
//   auto accounts = store.accounts();
//   auto inc = billing::agent_income(*by_customer, *accounts, *store.currency());
//   std::cout << billing::format_table(*inc);   // or format_csv / format_json
//
// Rules (tested in tests/billing/report_test.cpp):
//  * The commission of one row (an agent's sub-account over the report's period) is
//    commission_ppm of the row's exact sum of charges (basis charge) or of profits (basis
//    profit), rounded ONCE to the currency precision with the currency rounding rule. It is
//    not rounded per CDR: at 5% a call charged 0.0001 would otherwise earn 0.0001 (rounded
//    up) instead of 0.000005. An agent's total and the grand total are exact sums of the
//    rows' rounded commissions (as every report sum is a sum of rounded amounts).
//  * A row whose basis is zero or negative (a sub-account that lost money on basis profit)
//    earns 0: an agent is never charged a negative commission.
//  * Sub-accounts are those naming the agent at the time of the report (accounts.agent).
//    Only a direct agent earns (no commission of an agent's agent). Accounts naming an
//    account that is not an agent are ignored. Every agent and every sub-account is listed,
//    with zeros when it had no calls.
//  * only_agent: just that agent (an unknown id or an account that is not an agent is an
//    error).
struct AgentIncomeRow {
    std::string account;               // the sub-account; "" in totals
    std::int64_t calls = 0;
    std::int64_t answered = 0;
    std::int64_t duration_s = 0;
    std::int64_t billed_s = 0;         // customer billed seconds
    Money charge;
    Money cost;
    Money profit;
    Money commission;
    Result<void> add(const AgentIncomeRow& o);  // checked sum
};

struct AgentIncome {
    std::string agent;
    std::string name;
    CommissionBasis basis = CommissionBasis::charge;
    std::int64_t commission_ppm = 0;
    std::vector<AgentIncomeRow> rows;  // per sub-account, sorted by id
    AgentIncomeRow total;
};

struct AgentIncomeReport {
    std::vector<AgentIncome> agents;   // sorted by id
    AgentIncomeRow total;
    int decimals = 2;                  // the currency precision
};

// by_customer: a ReportKind::profit_customer (or revenue) report of the period, from
// Store::report or ReportBuilder.
Result<AgentIncomeReport> agent_income(const Report& by_customer, std::span<const Account> accounts,
                                       const Currency& currency, std::string_view only_agent = {});
// One agent's commission on one basis amount (the rule above).
Result<Money> agent_commission(Money basis_amount, std::int64_t commission_ppm, const Currency& currency);
// Table and CSV: one line per sub-account (agent, account), a line "agent TOTAL" per agent
// and a last "TOTAL" line; JSON: {"report":"agent-income","agents":[{"agent","name",
// "basis","commission_rate","accounts":[...],"total":{...}}],"total":{...}}, amounts as
// strings. `minutes` is billed_s / 60 truncated to 2 decimals (shown only; billed_s is exact).
std::string format_table(const AgentIncomeReport& r);
std::string format_csv(const AgentIncomeReport& r);
std::string format_json(const AgentIncomeReport& r);

// Packages report (issue 14: "balances of remaining minutes visible in reports"): per
// package (billing/packages.hpp) sold, its account, prefixes, validity, the minutes
// included, used and left, and its fee.
//
//   auto rep = store.package_report(from, until);          // Store::packages + package_used
//   std::cout << billing::format_table(*rep);              // or format_csv / format_json
//
//  * Which packages: those valid at some moment of [from, until) (valid_from < until and
//    from < valid_until), sorted by account, name; kTimeMin..kTimeMax lists every one.
//  * Used is the package's whole usage (Store::package_used): usage is counted per package,
//    not per call or time, so it is not cut to the period, and the calls a package covered
//    are not listed (CDRs do not record the package).
//  * Minutes are seconds / 60 truncated to 2 decimals (shown only; JSON adds the exact
//    seconds, used_s, left_s). No total line: minutes to different prefixes do not add up.
struct PackageBalance {
    Package package;
    std::int64_t used_s = 0;
    std::int64_t left_s() const { return package.seconds > used_s ? package.seconds - used_s : 0; }
};

struct PackageReport {
    std::vector<PackageBalance> rows;  // sorted by account, name
    int decimals = 2;                  // the currency precision (fees)
};

// Table and CSV: account, name, prefixes, valid_from, valid_until, minutes, used_min,
// left_min, fee (times "YYYY-MM-DD HH:MM:SS" UTC); JSON: {"report":"packages","packages":
// [{..., "prefixes":["44",...], "seconds", "used_s", "left_s"}]}, amounts and minutes as strings.
std::string format_table(const PackageReport& r);
std::string format_csv(const PackageReport& r);
std::string format_json(const PackageReport& r);

// Minutes of traffic (at the period's average profit per billed minute) needed to cover
// fixed costs: ceil(fixed_costs * billed_minutes / profit). ErrorCode::invalid_argument
// when profit <= 0 or nothing was billed (no break-even exists).
struct BreakEven {
    Money fixed_costs;
    Money profit;
    std::int64_t billed_s = 0;
    std::int64_t minutes = 0;          // result
    Money profit_per_minute;           // profit / billed minutes, rounded down to micros
};
Result<BreakEven> break_even(Money fixed_costs, const ReportRow& totals);
std::string format_break_even(const BreakEven& b, std::string_view format);  // table|csv|json

}  // namespace billing

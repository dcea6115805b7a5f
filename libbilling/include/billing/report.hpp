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
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "billing/cdr.hpp"
#include "billing/money.hpp"
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

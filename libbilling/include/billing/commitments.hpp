// Commitment discounts (issue 14): a customer contracts a volume of minutes per calendar
// month to a destination prefix; the month's report shows the shortfall and, when the volume
// was reached, the discount earned on the month's charge to that prefix.
//
//   billing::Commitment c{"C1", "44", 1000, *billing::parse_ratio_ppm("5%")};  // 1000 min, 5%
//   if (auto ok = billing::validate(c); !ok) { /* ok.error().field names the member */ }
//   auto range = billing::month_range("2026-11", cfg.calendar);   // [start, end) ms UTC
//   // billed seconds and charge of C1's calls to 44 answered in *range (Store::commitment_report)
//   auto r = billing::evaluate_commitment(c, billed_s, charge, cfg.currency);
//   // r->met, r->shortfall_s, r->discount
//
// Rules (tested in tests/billing/commitments_test.cpp, store_test.cpp, trunkctl_test.cpp):
//  * The month is the LOCAL calendar month of calendar.timezone (as volume tiers:
//    volume_month()); month_range() gives its [start, end) in ms UTC, daylight saving
//    included (a month of a zone with DST is not a whole number of 24 h days).
//  * Which calls: the account's CDRs (customer side) answered inside the month: the answer
//    time decides, as for the rate and the tiers; unanswered calls count nothing. Actual =
//    the sum of their customer_billed_s; charge = the sum of their charges (after tiers and
//    packages: what the customer was billed).
//  * Which commitment a call counts toward: the account's commitment with the LONGEST prefix
//    the callee (as received) begins with; prefix "" matches every number, so it takes the
//    calls no longer commitment of the account takes (commitment_for()). A call counts once,
//    so its charge is never discounted twice.
//  * met = actual_s >= minutes * 60 (exactly the contracted volume is met); shortfall_s =
//    max(0, minutes * 60 - actual_s). Minutes are shown as seconds / 60 truncated to 2
//    decimals (display only; the seconds are exact).
//  * discount = met ? charge * discount_ppm / 10^6 rounded ONCE to the currency precision
//    with the currency rounding rule (as the agent commission, on the magnitude) : 0. A
//    charge <= 0 earns 0. The discount is a report figure: it is not booked (the operator
//    credits it, e.g. `accounts topup C1 X --memo "commitment 2026-11"`).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "billing/money.hpp"
#include "billing/result.hpp"
#include "billing/time.hpp"

namespace billing {

struct Commitment {
    std::string account;            // customer account
    std::string prefix;             // digits, 0..64 of them; "" = every destination
    std::int64_t minutes = 0;       // contracted per calendar month, 1..10^9
    std::int64_t discount_ppm = 0;  // parts per million of the charge, 0..1000000 ("5%" = 50000)
};

// The error's field names the member: account, prefix, minutes, discount.
Result<void> validate(const Commitment& c);

// The commitment a call of `account` to `number` counts toward: the longest prefix that
// `number` begins with ("" matches all); nullptr if none.
const Commitment* commitment_for(std::span<const Commitment> all, std::string_view account,
                                 std::string_view number);

struct CommitmentResult {
    Commitment commitment;
    std::int64_t actual_s = 0;     // billed seconds in the month
    std::int64_t shortfall_s = 0;  // max(0, contracted - actual), seconds
    bool met = false;
    Money charge;                  // the month's charge to the prefix
    Money discount;                // earned; 0 when not met
    std::int64_t contracted_s() const { return commitment.minutes * 60; }
};

// The rules above, from the month's billed seconds and charge. invalid_argument for an
// invalid commitment or negative seconds.
Result<CommitmentResult> evaluate_commitment(const Commitment& c, std::int64_t actual_s, Money charge,
                                             const Currency& currency);

// "YYYY-MM" (1..9999) -> [the first instant of the local month, the first of the next) in ms
// UTC in the calendar's zone. invalid_argument (field month) for other text.
Result<std::pair<Timestamp, Timestamp>> month_range(std::string_view month, const WorkCalendar& cal);

struct CommitmentReport {
    std::string month;                   // "YYYY-MM"
    Timestamp from = 0, until = 0;       // month_range()
    std::vector<CommitmentResult> rows;  // sorted by account, prefix
    int decimals = 2;                    // the currency precision
};

// Table and CSV: account, prefix, discount_rate, contracted_min, actual_min, shortfall_min,
// met (yes/no), charge, discount; the table shows prefix "" as "*" (every destination). JSON:
// {"report":"commitments","month":"2026-11","rows":[{...,"met":true,"contracted_s",
// "actual_s","shortfall_s"}]}, amounts and minutes as strings. No total line: a TOTAL of the
// discounts would be money, but minutes to different prefixes do not add up.
std::string format_table(const CommitmentReport& r);
std::string format_csv(const CommitmentReport& r);
std::string format_json(const CommitmentReport& r);

}  // namespace billing

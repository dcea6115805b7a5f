// Rating: a plain call record in, customer charge / vendor cost / profit out.
//
//   billing::Rater rater(book, billing::RatingConfig{});     // book: billing::Book
//   billing::CallRecord c;
//   c.caller = "15551230000"; c.callee = "442071234567";
//   c.customer = "1001"; c.vendor = "9001";
//   c.setup_ms = t0; c.answer_ms = t0 + 3000; c.end_ms = t0 + 50000;
//   auto r = rater.rate(c);                                   // Result<CallRating>
//   if (r) use(r->charge, r->cost, r->profit);
//   auto secs = rater.max_call_duration("1001", "442071234567", now);  // prepaid limit
//
// Rules (each is tested in tests/billing/rating_test.cpp):
//  * Duration: the answered time (end - answer) in ms, in whole seconds: the last part of
//    a second counts as a second when it is at least RatingConfig::hold_time_precision_ms
//    (VOS3000 SERVER_BILLING_HOLD_TIME_PRECISION; default 50 as VOS3000: 60.049 s -> 60 s,
//    60.050 s -> 61 s; 1: any started ms counts). An unanswered call (no answer_ms) lasts 0 s
//    and is free. end < answer or answer < setup is ErrorCode::negative_duration.
//  * Free time (VOS3000 SERVER_BILLING_FREE_TIME): an answered call whose duration is at
//    most RatingConfig::free_time_s seconds is billed 0 s on both sides (charge, cost and
//    profit 0; the rates are still selected, and no rate is still an error).
//  * Rate selection time: the answer time (setup time if unanswered). The rate in force
//    and the time-based period at that instant apply to the WHOLE call, even if the call
//    crosses a period boundary (peak -> offpeak) or an effective date.
//  * Customer candidates: the longest-prefix match of the callee (as received) in (a) the
//    customer's rate group, (b) the account's private rates, (c) the caller number's
//    private rates; each contributes its base rate and its variant for the current period.
//    "Cheapest for the customer" (VOS3000 billing principle): the candidate giving the
//    lowest charge for this call wins; ties go to phone-private, then account-private,
//    then the group, and a period variant over the base rate.
//  * Vendor candidates: the callee as sent (callee_out, or callee when empty) in the
//    vendor's rate group and the vendor's private rates; the cheapest cost wins.
//  * charge and cost are each rounded once with the currency rule (rate.hpp); profit =
//    charge - cost exactly; margin_ppm = profit * 10^6 / charge truncated toward zero (0
//    when charge is 0); rate deviation = customer per-minute price - vendor per-minute
//    price (the per-second figure is that / 60, rounded half-up to micro-units).
//  * Errors: unknown_account (field customer/vendor), no_rate (field callee/callee_out)
//    for an answered call without a rate, negative_duration, overflow.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "billing/account.hpp"
#include "billing/money.hpp"
#include "billing/rate.hpp"
#include "billing/time.hpp"

namespace billing {

// Who hung up; values are VOS3000's CDR endDirection codes.
enum class HangupSide : std::uint8_t { caller = 0, callee = 1, server = 2 };
std::string_view to_string(HangupSide h);
Result<HangupSide> parse_hangup_side(std::string_view s);  // "caller"/"0", "callee"/"1", "server"/"2"

struct CallRecord {
    std::string caller;            // VOS3000 callerE164
    std::string callee;            // calleeE164 as received from the customer
    std::string callee_out;        // as sent to the vendor; "" = same as callee
    std::string customer;          // customer account id
    std::string customer_gateway;  // mapping gateway
    std::string vendor;            // vendor (clearing) account id; "" if never routed
    std::string vendor_gateway;    // routing gateway
    Timestamp setup_ms = 0;
    std::optional<Timestamp> answer_ms;  // empty = not answered
    Timestamp end_ms = 0;
    int sip_code = 0;              // final SIP status (200 for answered calls)
    std::string end_reason;        // reason text
    HangupSide hangup = HangupSide::caller;
    std::string call_id_in;        // SIP Call-ID of the customer leg
    std::string call_id_out;       // SIP Call-ID of the vendor leg
    std::string gateways_tried;    // the switch's attempts in order: "gw1:503,gw2:200"

    std::string_view callee_sent() const { return callee_out.empty() ? callee : callee_out; }
};

enum class RateSource : std::uint8_t { none, group, account_private, phone_private };
std::string_view to_string(RateSource s);

struct AppliedRate {
    const Rate* rate = nullptr;  // points into the Book; nullptr if none applied
    RateSource source = RateSource::none;
    std::int64_t billed_s = 0;
    Money amount;
};

struct CallRating {
    std::int64_t duration_s = 0;  // answered seconds (hold-time precision applied)
    std::int64_t hold_s = 0;      // setup -> end, seconds (rounded up)
    PeriodKind period = PeriodKind::any;
    AppliedRate customer;
    AppliedRate vendor;
    Money charge;                 // = customer.amount
    Money cost;                   // = vendor.amount
    Money profit;                 // charge - cost
    std::int64_t margin_ppm = 0;  // profit / charge in parts per million
    Money rate_deviation_per_min; // customer price - vendor price (per minute)
    Money rate_deviation_per_s;   // the same per second, half-up to micro-units
};

struct RatingConfig {
    Currency currency;
    WorkCalendar calendar;
    // The part of a second (ms) from which it is billed as a whole second, 1..1000 (1000:
    // fractions are never billed). See the Duration rule above.
    std::int32_t hold_time_precision_ms = 50;
    // Answered calls up to this many seconds are free (0 = none). See Free time above.
    std::int64_t free_time_s = 0;
    // Upper bound returned by max_call_duration (VOS3000's SS_SIP_NO_TIMER_REINVITE_INTERVAL
    // default is 7200 s).
    std::int64_t max_call_duration_s = 7200;
};

// Stateless apart from references: the Book must outlive the Rater. Thread-safe for
// concurrent rate() calls while nobody modifies the Book.
class Rater {
public:
    Rater(const Book& book, RatingConfig cfg) : book_(book), cfg_(std::move(cfg)) {}

    Result<CallRating> rate(const CallRecord& call) const;

    // Longest call (seconds, 0..max_call_duration_s) that `account` can afford to
    // `destination` starting at `now`, given balance + credit limit, the rate's first
    // period, increments and connection fee, under the same candidate rules as rate()
    // (caller selects phone-private rates). 0 when nothing is available.
    // package_left_s > 0: a package (billing/packages.hpp; Packages::seconds_left) covers the
    // call's first package_left_s billed seconds, which cost nothing, so the call is longer:
    // the charge is package_rest_charge at the rate rate() would choose for that length. A
    // call the package covers entirely costs 0 and is allowed even with nothing available
    // (the package was paid for).
    Result<std::int64_t> max_call_duration(std::string_view account, std::string_view destination,
                                           Timestamp now, std::string_view caller = {},
                                           std::int64_t package_left_s = 0) const;

    const RatingConfig& config() const { return cfg_; }
    // Replaces the settings (a reload of the billing settings); not while rate() runs.
    void set_config(RatingConfig cfg) { cfg_ = std::move(cfg); }

private:
    const Book& book_;
    RatingConfig cfg_;
};

}  // namespace billing

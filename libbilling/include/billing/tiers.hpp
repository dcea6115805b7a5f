// Tiered pricing by monthly volume (issue 14, "Volume-Based Pricing"): per customer account
// and destination prefix, the first N minutes of a calendar month at one price, the next at
// another, ...
//
//   billing::VolumeTiers tiers;
//   (void)tiers.add({"C1", "44", 0, *billing::Money::parse("0.0125")});       // from minute 0
//   (void)tiers.add({"C1", "44", 100000, *billing::Money::parse("0.0100")});  // from 100,000 min
//   auto rating = rater.rate(call);
//   billing::Cdr cdr = billing::make_cdr(call, *rating);
//   if (auto m = tiers.find(cdr.call.customer, cdr.call.callee)) {
//       const std::string month = billing::volume_month(*call.answer_ms, cfg.calendar);
//       std::int64_t used = ...;   // billed seconds of the month so far (Store::volume_used)
//       (void)billing::apply_volume_tier(cdr, *rating, *m, month, used, cfg.currency);
//   }
//
// Rules (tested in tests/billing/tiers_test.cpp):
//  * Volume = the customer's billed seconds (customer_billed_s) to the tier's prefix in the
//    local calendar month (calendar.timezone: volume_month()) of the call's answer time,
//    counting the calls priced with tiers before it.
//  * The WHOLE call is priced at the tier in which it starts: the last tier whose
//    from_minutes * 60 <= the volume before the call. A call that crosses a threshold is not
//    split (its CDR has one per-minute price, as every CDR); the next call is at the next
//    tier. Below the first tier's threshold (no tier from minute 0) the rate's own price
//    applies and the call still counts toward the volume.
//  * The tier's price replaces the customer rate's per-minute price AND its first-period
//    price; the rate's first period, increment and connection fee stay, and the call is
//    priced and rounded exactly as without tiers (price_call, rounded once per call).
//  * Which tiers: the account's tier prefix with the longest match on the number as
//    received (callee), independent of the rate prefix matched. A call without a customer
//    rate (no_rate) is not priced by tiers. Unanswered and free-time calls count 0 s.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "billing/account.hpp"
#include "billing/cdr.hpp"
#include "billing/money.hpp"
#include "billing/packages.hpp"
#include "billing/rating.hpp"
#include "billing/result.hpp"
#include "billing/time.hpp"

namespace billing {

struct VolumeTier {
    std::string account;            // customer account
    std::string prefix;             // destination prefix (digits)
    std::int64_t from_minutes = 0;  // applies once the month's volume reached this many minutes
    Money price;                    // per minute
    // Bonus minutes (VOS3000-style free minutes at a volume threshold): when a call takes
    // the month's volume to from_minutes or past it, a package of this many minutes to the
    // tier's prefix is granted (bonus_package). 0: none.
    std::int64_t bonus_minutes = 0;
};

// Non-empty account, digits-only non-empty prefix, from_minutes 0..10^12, price >= 0,
// bonus_minutes 0..10^9 and only above minute 0 (a threshold a call can cross).
Result<void> validate(const VolumeTier& t);

// The bonus a priced CDR earns from tier t (same account and prefix as the CDR's tier_prefix):
// when t.bonus_minutes > 0 and the CDR takes the volume from below t.from_minutes * 60 to it
// or past it, the package "bonus-PREFIX-MONTH-FROMm" (e.g. "bonus-44-2026-11-1000m") of
// bonus_minutes to the tier prefix, fee 0, valid from the call's end to the end of its local
// month (the calendar's zone, as volume_month). nullopt otherwise. One per tier and month:
// the name makes a second grant a duplicate.
std::optional<Package> bonus_package(const VolumeTier& t, const Cdr& cdr, const WorkCalendar& cal);

// The first instant (ms UTC) of the local month after `month` ("YYYY-MM") in the calendar's
// zone; invalid_argument for a malformed month.
Result<Timestamp> month_end(std::string_view month, const WorkCalendar& cal);

// "YYYY-MM": the local calendar month of the instant in the calendar's zone (IANA zone with
// daylight saving, or the fixed offset).
std::string volume_month(Timestamp ms, const WorkCalendar& cal);

class VolumeTiers {
public:
    struct Match {
        std::string prefix;
        std::vector<VolumeTier> tiers;  // sorted by from_minutes
    };
    // duplicate for the same (account, prefix, from_minutes); validate() errors.
    Result<void> add(VolumeTier t);
    bool empty() const { return by_account_.empty(); }
    // The account's tiers with the longest prefix matching `number`, if any.
    std::optional<Match> find(std::string_view account, std::string_view number) const;
    // Every tier, sorted by account, prefix, from_minutes.
    std::vector<VolumeTier> all() const;

private:
    StringMap<StringMap<std::vector<VolumeTier>>> by_account_;
};

// The tier of a volume: the last with from_minutes * 60 <= volume_before_s; nullptr if none.
const VolumeTier* tier_for(const std::vector<VolumeTier>& sorted, std::int64_t volume_before_s);

// Prices cdr (made by make_cdr from `rating`) at the tier of volume_before_s (the rules
// above): sets charge, profit, customer_price, and the tier fields of the CDR (tier_prefix,
// tier_month, volume_before_s) so that Store::insert_cdrs counts the call's billed seconds
// in the same transaction. A call without a customer rate is left unchanged (false).
Result<bool> apply_volume_tier(Cdr& cdr, const CallRating& rating, const VolumeTiers::Match& m,
                               std::string_view month, std::int64_t volume_before_s, const Currency& currency);

}  // namespace billing

// Packages (issue 14, VOS3000 "packages"): a bundle of minutes to a set of destination
// prefixes, sold to a customer account for a fee and valid for a period; calls use the
// package's seconds before the rate applies.
//
//   billing::Packages packages;
//   (void)packages.add({"C1", "uk-2026-11", {"44"}, 100 * 60, *billing::Money::parse("1.50"),
//                       *billing::parse_time("2026-11-01"), *billing::parse_time("2026-12-01")});
//   auto rating = rater.rate(call);
//   billing::Cdr cdr = billing::make_cdr(call, *rating);       // (then apply_volume_tier, if any)
//   for (const billing::Package* p : packages.candidates("C1", call.callee, *call.answer_ms)) {
//       std::int64_t used = ...;                                // Store::package_used(p->account, p->name)
//       if (used >= p->seconds) continue;                       // used up: the next candidate
//       (void)billing::apply_package(cdr, *rating, *p, used, cfg.currency, tier_price);
//       break;
//   }
//
// Rules (tested in tests/billing/packages_test.cpp):
//  * Which calls: answered calls of the package's account with billed seconds (not free
//    time, not unanswered, not without a customer rate), answered inside the package's
//    validity [valid_from, valid_until) (ms UTC; the answer time decides, like the rate), to a
//    number (the callee as received) that one of the package's prefixes begins.
//  * Which package: one per call. Among the account's valid packages matching the number,
//    the one with the longest matching prefix, then the one that expires first, then by name
//    (candidates()); the first of those with seconds left is used. A call is never split
//    across two packages: what the package does not cover is paid at the rate.
//  * How much: the call's billed seconds are computed as for the rate (first period billed
//    whole, then whole increments: the CDR's customer_billed_s, unchanged). The package covers
//    the FIRST min(billed, remaining) of them; the uncovered rest keeps the price of its
//    position in the rate (first-period seconds at first_price, the others at price). The
//    rest, with the connection fee, is priced and rounded once per call exactly like
//    price_call. A call covered entirely costs 0: no connection fee either (the package fee
//    pays for it); a call covered in part pays the connection fee once with its rest.
//  * Tiers before packages: a call of a customer with volume tiers is priced at its tier
//    first (billing/tiers.hpp); the package then covers its first seconds and the rest is
//    paid at the tier price (pass it as tier_price: it replaces price and first_price, as
//    apply_volume_tier does). Package seconds still count toward the monthly volume (the
//    volume is traffic, customer_billed_s).
//  * The vendor cost is unchanged (the vendor is paid for every call); profit = charge - cost.
//  * A CDR that used a package names it (package_name, package_s, package_before_s; not
//    columns of `cdrs`) so that Store::insert_cdrs counts the seconds in the CDR's
//    transaction and refuses the batch if the package's usage is no longer package_before_s.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "billing/account.hpp"
#include "billing/cdr.hpp"
#include "billing/money.hpp"
#include "billing/rating.hpp"
#include "billing/result.hpp"
#include "billing/time.hpp"

namespace billing {

struct Package {
    std::string account;                // customer account
    std::string name;                   // unique per account, e.g. "uk-2026-11"
    std::vector<std::string> prefixes;  // destination prefixes (digits), matched on the callee as received
    std::int64_t seconds = 0;           // included seconds (trunkctl takes whole minutes)
    Money fee;                          // charged once, when sold (Store::sell_package)
    Timestamp valid_from = kTimeMin;    // ms UTC, inclusive
    Timestamp valid_until = kTimeMax;   // ms UTC, exclusive

    bool valid_at(Timestamp t) const { return valid_from <= t && t < valid_until; }
    // Length of the longest of the prefixes that `number` begins with; 0 if none.
    std::size_t match(std::string_view number) const;
};

// Non-empty account; name 1..64 characters without control characters or commas; 1..1000
// prefixes, each 1..64 digits, no duplicates; seconds 1..10^12; fee >= 0; valid_from <
// valid_until. The error's field names the member (account, name, prefixes, seconds, fee,
// valid_until).
Result<void> validate(const Package& p);

// "44,33" -> {"44", "33"} (spaces around the commas ignored); not validated.
std::vector<std::string> split_prefixes(std::string_view text);
std::string join_prefixes(const std::vector<std::string>& prefixes);

class Packages {
public:
    // duplicate for the same (account, name); validate() errors.
    Result<void> add(Package p);
    bool empty() const { return by_account_.empty(); }
    // The account's packages valid at `at` with a prefix `number` begins with, best first:
    // longest matching prefix, then earliest valid_until, then name. Pointers into *this.
    std::vector<const Package*> candidates(std::string_view account, std::string_view number,
                                           Timestamp at) const;
    const Package* find(std::string_view account, std::string_view name) const;
    // Seconds left of the package a call of `account` to `number` answered at `at` would use
    // (the first of candidates() with seconds left, as cdr import picks it); 0 if none.
    // used(p): the package's seconds used (Store::package_used). For
    // Rater::max_call_duration's package_left_s.
    Result<std::int64_t> seconds_left(std::string_view account, std::string_view number, Timestamp at,
                                      const std::function<Result<std::int64_t>(const Package&)>& used) const;
    // Every package, sorted by account, name.
    std::vector<Package> all() const;

private:
    struct Account {
        std::vector<Package> list;
        // each prefix of the account's packages -> their indexes in list, so candidates()
        // looks up the number's own prefixes (at most its length) instead of every package
        StringMap<std::vector<std::uint32_t>> by_prefix;
    };
    StringMap<Account> by_account_;
};

// The charge of a call of which the package covers the first `covered_s` billed seconds,
// under `rate` (the customer rate as priced; see the rules above). billed_s is the call's
// customer_billed_s under that rate.
Result<Money> package_rest_charge(const Rate& rate, std::int64_t billed_s, std::int64_t covered_s,
                                  const Currency& currency);

// Uses package p for cdr (made by make_cdr from `rating`, then priced by tier if any;
// tier_price = the tier's price when a tier applied) given the seconds of p used before this
// call. Sets charge, profit and the package fields (package_name, package_s,
// package_before_s). Returns false, the CDR unchanged, when the package does not apply (rules
// above: no customer rate, no billed seconds, answered outside the validity, another account,
// no matching prefix, nothing left).
Result<bool> apply_package(Cdr& cdr, const CallRating& rating, const Package& p, std::int64_t used_before_s,
                           const Currency& currency, std::optional<Money> tier_price = std::nullopt);

}  // namespace billing

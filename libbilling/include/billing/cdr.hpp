// billing::Cdr — one rated call as stored and exported (the call record + its rating,
// flattened so that it owns all its strings).
//
//   auto rating = rater.rate(call);
//   billing::Cdr cdr = billing::make_cdr(call, *rating);
//   std::string line = billing::cdr_csv_line(cdr);    // matches cdr_csv_header()
//   std::string pipe = billing::cdr_pipe_line(cdr);   // VOS3000-style hourly file line
//   std::string file = billing::cdr_hour_file_name(cdr);  // "2026112609.txt" (end time, UTC)
//
// Hourly pipe files (VOS3000 SS_CDR_RECORD_TO_FILE, manual §4.4) put VOS3000's known fields
// at VOS3000's positions so its readers find them: 1 callerE164, 2 calleeE164, 3 startTime
// (answer, or setup when unanswered), 4 stopTime, 5 holdTime (talk time = duration_s),
// 6 endReason, 7 endDirection (0 caller, 1 callee, 2 server), 8 customer (caller) gateway,
// 9 vendor (callee) gateway, 16 calleeBilling (0: the caller pays), 17 billingMode (1:
// gateway ID). VOS3000's names of 10-15 and 18 are not public, so those positions are ours:
// 10 callee as sent, 11 customer account, 12 vendor account, 13 charge, 14 cost, 15 rate
// prefix, 18 area; then 19 SIP code, 20 customer-leg Call-ID (20 fields). Times are
// "YYYY-MM-DD HH:MM:SS" UTC; '|' and line ends inside a field are replaced by spaces.
#pragma once

#include <cstdint>
#include <string>

#include "billing/money.hpp"
#include "billing/rate.hpp"
#include "billing/rating.hpp"
#include "billing/result.hpp"

namespace billing {

struct Cdr {
    std::int64_t id = 0;  // assigned by the store (0 before insertion)
    CallRecord call;
    std::int64_t duration_s = 0;         // answered seconds
    std::int64_t hold_s = 0;             // setup -> end seconds
    std::string rate_prefix;             // customer rate prefix matched
    std::string area;                    // its area name
    RateType rate_type = RateType::international;
    std::string vendor_prefix;           // vendor rate prefix matched
    std::int64_t customer_billed_s = 0;
    std::int64_t vendor_billed_s = 0;
    Money customer_price;                // per minute
    Money vendor_price;                  // per minute
    Money charge;
    Money cost;
    Money profit;
    // Tiered pricing by monthly volume (billing/tiers.hpp; not stored in `cdrs`): when
    // tier_prefix is set, Store::insert_cdrs checks that the account's volume to that prefix
    // in tier_month is still volume_before_s and adds customer_billed_s to it, in the
    // CDR's transaction.
    std::string tier_prefix;
    std::string tier_month;              // "YYYY-MM", local calendar month
    std::int64_t volume_before_s = 0;
    // Packages (billing/packages.hpp; not stored in `cdrs`): when package_name is set, the
    // customer's package of that name covered package_s of the billed seconds, and
    // Store::insert_cdrs checks that its usage is still package_before_s and adds package_s,
    // in the CDR's transaction.
    std::string package_name;
    std::int64_t package_s = 0;
    std::int64_t package_before_s = 0;
};

Cdr make_cdr(CallRecord call, const CallRating& r);

// VOS3000 "Rate deviation": customer price - vendor price, per minute, exact (the Rater's
// rate_deviation_per_min; a side without a rate counts 0). Overflow only for prices no
// deck holds; the exports then print an empty field.
Result<Money> cdr_rate_deviation(const Cdr& c);

// VOS3000 calleeBilling (pipe field 16): who pays. Our switch bills the caller's account
// only; callees never pay.
inline constexpr int kCalleeBillingCallerPays = 0;
// VOS3000 billingMode (pipe field 17): -1 none, 0 phone number, 1 gateway ID, 3 phone card.
// Our customers are found by their mapping gateway, so 1; -1 for a CDR without a customer.
int cdr_billing_mode(const Cdr& c);

std::string cdr_csv_header();
// Amounts are printed with at least `decimals` decimals (the currency precision; exact, so
// an amount with more decimals keeps them).
std::string cdr_csv_line(const Cdr& c, int decimals = 2);
// One JSON object with the CSV header's names as keys: amounts as strings (exact decimals),
// counts as numbers, times as "YYYY-MM-DD HH:MM:SS" UTC, answer_time null when unanswered.
std::string cdr_json(const Cdr& c, int decimals = 2);
std::string cdr_pipe_line(const Cdr& c, int decimals = 2);
std::string cdr_hour_file_name(const Cdr& c);

}  // namespace billing

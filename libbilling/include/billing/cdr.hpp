// billing::Cdr — one rated call as stored and exported (the call record + its rating,
// flattened so that it owns all its strings).
//
//   auto rating = rater.rate(call);
//   billing::Cdr cdr = billing::make_cdr(call, *rating);
//   std::string line = billing::cdr_csv_line(cdr);    // matches cdr_csv_header()
//   std::string pipe = billing::cdr_pipe_line(cdr);   // VOS3000-style hourly file line
//   std::string file = billing::cdr_hour_file_name(cdr);  // "2026112609.txt" (end time, UTC)
//
// Hourly pipe files (VOS3000 SS_CDR_RECORD_TO_FILE, manual §4.4) have 18 '|'-separated
// fields; fields 1-7 follow VOS3000 (callerE164, calleeE164, startTime, stopTime,
// holdTime, endReason, endDirection 0/1/2), the rest are ours because the VOS3000 names
// are not public: 8 customer gateway, 9 vendor gateway, 10 callee as sent, 11 customer
// account, 12 vendor account, 13 charge, 14 cost, 15 rate prefix, 16 area, 17 SIP code,
// 18 customer-leg Call-ID. Times are "YYYY-MM-DD HH:MM:SS" UTC; '|' and line ends inside
// a field are replaced by spaces.
#pragma once

#include <cstdint>
#include <string>

#include "billing/money.hpp"
#include "billing/rate.hpp"
#include "billing/rating.hpp"

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
};

Cdr make_cdr(CallRecord call, const CallRating& r);

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

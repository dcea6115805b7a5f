// Bilateral reconciliation: our CDRs against a vendor's CDR file.
//
//   billing::ReconFormat fmt;                                   // header line, ','
//   (void)billing::parse_recon_mapping("callee=Called,start=Start,duration=Secs,amount=Cost", fmt);
//   billing::ReconParse theirs = billing::parse_vendor_cdrs(csv_text, fmt);
//   std::vector<billing::ReconCall> ours = billing::recon_calls_from(cdrs);  // answered only
//   billing::ReconReport rep = billing::reconcile(ours, theirs.calls, {});
//   std::cout << billing::format_recon(rep, "table");
//
// Matching: called numbers are compared on their digits only; a vendor call matches the
// unmatched call of ours with the same number whose start is within `start_tolerance_ms`,
// preferring the smallest duration difference, then the smallest start difference. Calls
// are processed in start order, so the result is deterministic. Our amount is the vendor
// cost we computed; the amount deviation is theirs - ours (positive: they bill more).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "billing/cdr.hpp"
#include "billing/money.hpp"
#include "billing/result.hpp"
#include "billing/time.hpp"

namespace billing {

struct ReconCall {
    std::string callee;
    Timestamp start_ms = 0;
    std::int64_t duration_s = 0;
    Money amount;
    std::size_t line = 0;   // vendor file line, or 0
    std::int64_t cdr_id = 0;  // our CDR id, or 0
};

struct ReconFormat {
    char delimiter = ',';
    bool header = true;
    bool decimal_comma = false;
    // column name or 1-based number for: callee, start, duration, amount
    std::string callee = "callee";
    std::string start = "start";
    std::string duration = "duration";
    std::string amount = "amount";
    std::size_t max_errors = 100;
};
Result<void> parse_recon_mapping(std::string_view spec, ReconFormat& fmt);

struct ReconParse {
    std::vector<ReconCall> calls;
    std::vector<Error> errors;
    std::size_t error_count = 0;
    bool ok() const { return error_count == 0; }
};
ReconParse parse_vendor_cdrs(std::string_view text, const ReconFormat& fmt);

// Answered CDRs with a vendor, as ReconCall (callee as sent, answer time, cost).
std::vector<ReconCall> recon_calls_from(std::span<const Cdr> cdrs);

struct ReconOptions {
    std::int64_t start_tolerance_ms = 5000;
    std::int64_t duration_tolerance_s = 0;  // differences up to this are not listed
};

struct ReconPair {
    ReconCall ours;
    ReconCall theirs;
    std::int64_t duration_diff_s = 0;  // theirs - ours
    Money amount_diff;                 // theirs - ours
};

struct ReconReport {
    std::int64_t matched = 0;
    std::vector<ReconPair> differing;       // matched, duration or amount differs
    std::vector<ReconCall> only_ours;       // missing in the vendor file
    std::vector<ReconCall> only_theirs;     // missing in our CDRs
    std::int64_t our_duration_s = 0;        // over all our calls
    std::int64_t their_duration_s = 0;      // over all their calls
    Money our_amount;
    Money their_amount;
    Money amount_deviation;                 // their_amount - our_amount
};

Result<ReconReport> reconcile(std::span<const ReconCall> ours, std::span<const ReconCall> theirs,
                              const ReconOptions& o);
std::string format_recon(const ReconReport& r, std::string_view format);  // table|csv|json

}  // namespace billing

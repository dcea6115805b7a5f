// billing::CdrFilter — which CDRs a search selects, newest first, one page at a time
// (billing::sqlite::Store::find_cdrs; the management API's GET /api/cdrs).
//
//   billing::CdrFilter f{.from = t0, .until = t1, .number = "4420", .limit = 100};
//   auto page = store.find_cdrs(f);           // latest end time first, at most 100 rows
//   f.before = billing::cursor_of(page->back());   // the next page: what sorts after it
//
// Order: end time descending, then id descending (the order of the end-time and account
// indexes, so a page is read from the index without sorting the whole range). The cursor is
// the (end time, id) of a page's last row: rows written later never shift the next pages.
// Every text member is a condition only when it is not empty. `number` is a prefix of the
// caller, the callee as dialled or the callee as sent to the vendor (a whole number is its
// own prefix); `gateway` names a customer or a vendor gateway; `call_id` is either leg's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "billing/cdr.hpp"
#include "billing/time.hpp"

namespace billing {

// Where a page ended; text form "END_MS.ID" (the API's opaque `next`).
struct CdrCursor {
    Timestamp end_ms = 0;
    std::int64_t id = 0;
    bool operator==(const CdrCursor&) const = default;
};
inline CdrCursor cursor_of(const Cdr& c) { return {c.call.end_ms, c.id}; }
std::string to_string(const CdrCursor& c);
std::optional<CdrCursor> parse_cdr_cursor(std::string_view text);

struct CdrFilter {
    Timestamp from = kTimeMin;  // end time >= from
    Timestamp until = kTimeMax; // end time < until
    std::string customer{};       // the customer account
    std::string vendor{};         // the vendor account
    std::string gateway{};        // customer or vendor gateway
    std::string number{};         // prefix of caller, callee or callee_out
    std::string call_id{};        // Call-ID of the incoming or the outgoing leg
    std::optional<CdrCursor> before{};  // only CDRs that sort after it (the previous page's last)
    std::size_t limit = 100;    // rows at most
};

}  // namespace billing

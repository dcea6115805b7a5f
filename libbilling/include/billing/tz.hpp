// billing::TimeZone — an IANA time zone (daylight saving included) read from TZif data
// (RFC 8536, the files under /usr/share/zoneinfo), for the work calendar.
//
//   std::string bytes = read("/usr/share/zoneinfo/Europe/London");   // the caller's I/O
//   auto tz = billing::TimeZone::from_tzif("Europe/London", bytes);   // Result<TimeZone>
//   std::int32_t off = tz->offset_s_at(billing::parse_time("2026-07-01").value());  // 3600
//
// billing does no I/O: the bytes come from the caller (billing_sqlite's zone_source()
// reads the system zoneinfo). The version 2+ (64-bit) data is used when present. Times
// before the first transition use time type 0 (RFC 8536 §3.2); times after the last one use
// the last transition's offset, so a zone with daylight saving is exact up to the file's
// last transition (2037 in Debian's "fat" tzdata files), not beyond (the POSIX TZ footer's
// rule is not evaluated). Errors: ErrorCode::invalid_argument "not TZif data" / "truncated
// TZif data" naming the zone.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "billing/result.hpp"
#include "billing/time.hpp"

namespace billing {

class TimeZone {
public:
    static Result<TimeZone> from_tzif(std::string name, std::string_view bytes);
    // A fixed offset east of UTC, named "UTC" or "UTC+HH:MM".
    static TimeZone fixed(std::int32_t offset_s);

    const std::string& name() const { return name_; }
    // Seconds to add to UTC to get local time at the UTC instant `ms`.
    std::int32_t offset_s_at(Timestamp ms) const;

private:
    std::string name_;
    std::vector<std::int64_t> at_;      // transition instants, s since the epoch, ascending
    std::vector<std::int32_t> offset_;  // offset from at_[i] on
    std::int32_t initial_ = 0;          // before at_[0]
};

}  // namespace billing

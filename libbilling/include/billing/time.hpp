// billing time: timestamps, civil dates and the work calendar for time-based rates.
//
//   auto t = billing::parse_time("2026-11-26 09:30:00");      // Result<Timestamp>, ms UTC
//   billing::WorkCalendar cal;                                 // Mon-Fri 08:00-20:00, UTC
//   cal.utc_offset_minutes = 120;
//   (void)cal.add_holiday("2026-12-25");
//   billing::PeriodKind p = cal.period_at(*t);                 // peak / offpeak / weekend
//   std::string s = billing::format_time(*t);                  // "2026-11-26 09:30:00"
//
// billing never reads a clock: every function takes the time it needs. Timestamps are
// milliseconds since the Unix epoch, UTC. Text times are "YYYY-MM-DD", "YYYY-MM-DD HH:MM",
// "YYYY-MM-DD HH:MM:SS", "YYYY-MM-DD HH:MM:SS.fff" (1 to 3 digits of milliseconds; also
// with 'T' and an optional trailing 'Z'), read as UTC; a work
// calendar maps them to local time with a fixed UTC offset or an IANA zone (billing/tz.hpp,
// from TZif bytes its caller reads: billing itself reads no files).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "billing/result.hpp"

namespace billing {

using Timestamp = std::int64_t;  // ms since 1970-01-01T00:00:00Z
inline constexpr Timestamp kTimeMin = std::numeric_limits<Timestamp>::min();
inline constexpr Timestamp kTimeMax = std::numeric_limits<Timestamp>::max();

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
std::int64_t days_from_civil(int year, unsigned month, unsigned day);
void civil_from_days(std::int64_t days, int& year, unsigned& month, unsigned& day);

Result<Timestamp> parse_time(std::string_view text);
// Parses with a pattern in the letters VOS3000's dateFormat and Java use: yyyy (4 digits),
// MM, dd, HH, mm, ss (1 or 2 digits when a separator follows, exactly 2 when another field
// does, as in "yyyyMMdd"); any other character must match itself. Missing time fields are 0.
// "dd/MM/yyyy", "MM/dd/yyyy HH:mm", "yyyyMMdd", "dd.MM.yyyy". An empty pattern = parse_time().
Result<Timestamp> parse_time_format(std::string_view text, std::string_view pattern);
// Checks a pattern: it needs yyyy, MM and dd, and no letter outside y M d H m s.
Result<void> check_time_format(std::string_view pattern);
std::string format_time(Timestamp ms);            // "YYYY-MM-DD HH:MM:SS" (UTC)
std::string format_date_hour(Timestamp ms);       // "YYYYMMDDHH" (hourly CDR file names)

// Which time-based rate variant applies. `any` marks a rate that applies at all times.
enum class PeriodKind : std::uint8_t { any, peak, offpeak, weekend };
std::string_view to_string(PeriodKind p);
Result<PeriodKind> parse_period(std::string_view s);  // "", "any", "peak", "offpeak", "weekend"

class TimeZone;  // billing/tz.hpp

// VOS3000 "Work Calendar" (manual §2.12.4): working days and hours, holidays.
// period_at(t): weekend if the local day is not a working day or is a holiday; otherwise
// peak inside [work_start_minute, work_end_minute) and offpeak outside. Local time is UTC +
// the zone's offset at t (daylight saving included) when `zone` is set, else UTC +
// utc_offset_minutes.
struct WorkCalendar {
    int utc_offset_minutes = 0;
    std::shared_ptr<const TimeZone> zone;  // an IANA zone (billing/tz.hpp); null: the offset
    std::uint8_t working_days = 0x1f;  // bit 0 = Monday ... bit 6 = Sunday (Mon-Fri)
    int work_start_minute = 8 * 60;
    int work_end_minute = 20 * 60;
    std::vector<std::int64_t> holidays;  // local days since epoch, kept sorted

    Result<void> add_holiday(std::string_view date);  // "YYYY-MM-DD"
    PeriodKind period_at(Timestamp ms) const;
};

}  // namespace billing

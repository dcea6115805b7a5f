#include "billing/settings.hpp"

#include <cstdio>
#include <memory>
#include <optional>

#include "billing/csv.hpp"
#include "billing/tz.hpp"

namespace billing {

namespace {

Result<long long> int_in(std::string_view key, std::string_view value, long long lo, long long hi,
                         std::string_view unit) {
    auto n = parse_int(value);
    if (!n || *n < lo || *n > hi)
        return fail(ErrorCode::invalid_argument,
                    std::string(key) + " must be an integer " + std::to_string(lo) + ".." +
                        std::to_string(hi) + std::string(unit) + ", not '" + std::string(value) +
                        "'",
                    std::string(key));
    return *n;
}

Result<void> set_code(Currency& c, std::string_view v) {
    bool ok = !v.empty() && v.size() <= 8;
    for (char ch : v) ok = ok && ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z'));
    if (!ok)
        return fail(ErrorCode::invalid_argument,
                    "currency.code must be 1 to 8 letters, not '" + std::string(v) + "'",
                    "currency.code");
    c.code = std::string(v);
    return {};
}

// Work calendar settings (calendar.*): text <-> WorkCalendar.

constexpr std::string_view kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

int day_index(std::string_view d) {
    for (int i = 0; i < 7; ++i)
        if (d == kDays[i]) return i;
    return -1;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> v;
    while (true) {
        const auto p = s.find(sep);
        v.push_back(s.substr(0, p));
        if (p == std::string_view::npos) return v;
        s.remove_prefix(p + 1);
    }
}

Failure bad_value(std::string_view key, std::string_view value, std::string_view expected) {
    return fail(ErrorCode::invalid_argument,
                std::string(key) + " must be " + std::string(expected) + ", not '" +
                    std::string(value) + "'",
                std::string(key));
}

Result<std::uint8_t> parse_days(std::string_view v) {
    std::uint8_t mask = 0;
    for (std::string_view part : split(v, ',')) {
        const auto dash = part.find('-');
        const int a = day_index(part.substr(0, dash));
        const int b = dash == std::string_view::npos ? a : day_index(part.substr(dash + 1));
        if (a < 0 || b < a)
            return bad_value("calendar.working_days", v, "days mon..sun, comma-separated, ranges as mon-fri");
        for (int i = a; i <= b; ++i) mask = static_cast<std::uint8_t>(mask | (1u << i));
    }
    return mask;
}

std::string format_days(std::uint8_t mask) {
    std::string s;
    for (int i = 0; i < 7;) {
        if ((mask & (1u << i)) == 0) {
            ++i;
            continue;
        }
        int j = i;
        while (j + 1 < 7 && (mask & (1u << (j + 1))) != 0) ++j;
        if (!s.empty()) s += ',';
        s += kDays[i];
        if (j > i) (s += '-') += kDays[j];
        i = j + 1;
    }
    return s;
}

// "HH:MM" -> minutes (24:00 allowed as an end); -1 if malformed.
int hh_mm(std::string_view t) {
    if (t.size() != 5 || t[2] != ':') return -1;
    for (int i : {0, 1, 3, 4})
        if (t[i] < '0' || t[i] > '9') return -1;
    const int h = (t[0] - '0') * 10 + (t[1] - '0'), m = (t[3] - '0') * 10 + (t[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) return -1;
    return h * 60 + m;
}

std::string format_hh_mm(int minutes) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
    return buf;
}

Result<void> set_hours(WorkCalendar& c, std::string_view v) {
    const auto dash = v.find('-');
    const int a = dash == std::string_view::npos ? -1 : hh_mm(v.substr(0, dash));
    const int b = dash == std::string_view::npos ? -1 : hh_mm(v.substr(dash + 1));
    if (a < 0 || b < 0 || a > b) return bad_value("calendar.work_hours", v, "HH:MM-HH:MM with start <= end");
    c.work_start_minute = a;
    c.work_end_minute = b;
    return {};
}

Result<void> set_holidays(WorkCalendar& c, std::string_view v) {
    WorkCalendar x;
    if (!v.empty())
        for (std::string_view d : split(v, ','))
            if (d.size() != 10 || !x.add_holiday(d))
                return bad_value("calendar.holidays", v, "dates YYYY-MM-DD, comma-separated");
    c.holidays = std::move(x.holidays);
    return {};
}

std::string format_holidays(const WorkCalendar& c) {
    std::string s;
    for (std::int64_t d : c.holidays) {
        if (!s.empty()) s += ',';
        s += format_time(d * 86400000).substr(0, 10);
    }
    return s;
}

// "UTC", "UTC+08:00", "UTC-03:30" -> seconds; nullopt for anything else.
std::optional<std::int32_t> fixed_offset(std::string_view v) {
    if (v == "UTC") return 0;
    if (v.size() != 9 || v.substr(0, 3) != "UTC" || (v[3] != '+' && v[3] != '-')) return std::nullopt;
    const int m = hh_mm(v.substr(4));
    if (m < 0 || m > 18 * 60) return std::nullopt;
    return (v[3] == '-' ? -m : m) * 60;
}

Result<void> set_zone(WorkCalendar& c, std::string_view v, const ZoneSource& zones) {
    if (auto off = fixed_offset(v)) {
        c.zone = *off == 0 ? nullptr : std::make_shared<const TimeZone>(TimeZone::fixed(*off));
        c.utc_offset_minutes = 0;
        return {};
    }
    if (!zones)
        return fail(ErrorCode::invalid_argument,
                    "calendar.timezone '" + std::string(v) + "' needs the time zone database",
                    "calendar.timezone");
    auto bytes = zones(v);
    if (!bytes) return fail(std::move(bytes.error()));
    auto z = TimeZone::from_tzif(std::string(v), *bytes);
    if (!z) return fail(std::move(z.error()));
    c.zone = std::make_shared<const TimeZone>(std::move(*z));
    c.utc_offset_minutes = 0;
    return {};
}

Result<void> apply_calendar(WorkCalendar& c, std::string_view key, std::string_view value,
                            const ZoneSource& zones) {
    if (key == "calendar.timezone") return set_zone(c, value, zones);
    if (key == "calendar.work_hours") return set_hours(c, value);
    if (key == "calendar.holidays") return set_holidays(c, value);
    if (key == "calendar.working_days") {
        auto d = parse_days(value);
        if (!d) return fail(std::move(d.error()));
        c.working_days = *d;
        return {};
    }
    return fail(ErrorCode::invalid_argument, "unknown setting '" + std::string(key) + "'", "key");
}

std::string zone_name(const WorkCalendar& c) {
    if (c.zone) return c.zone->name();
    return TimeZone::fixed(c.utc_offset_minutes * 60).name();
}

}  // namespace

Result<void> apply_setting(RatingConfig& cfg, std::string_view key, std::string_view value,
                           const ZoneSource& zones) {
    if (key.starts_with("calendar.")) return apply_calendar(cfg.calendar, key, value, zones);
    if (key == "currency.code") return set_code(cfg.currency, value);
    if (key == "currency.precision") {
        auto n = int_in(key, value, 0, Money::kDecimals, " (decimals)");
        if (!n) return fail(std::move(n.error()));
        cfg.currency.precision = static_cast<int>(*n);
        return {};
    }
    if (key == "currency.rounding") {
        auto r = parse_rounding(value);
        if (!r)
            return fail(ErrorCode::invalid_argument,
                        "currency.rounding must be up, half-up or down, not '" + std::string(value) +
                            "'",
                        "currency.rounding");
        cfg.currency.rounding = *r;
        return {};
    }
    if (key == "billing.hold_time_precision_ms") {
        auto n = int_in(key, value, 1, 1000, " (ms)");
        if (!n) return fail(std::move(n.error()));
        cfg.hold_time_precision_ms = static_cast<std::int32_t>(*n);
        return {};
    }
    if (key == "billing.free_time_s") {
        auto n = int_in(key, value, 0, 86400, " (seconds)");
        if (!n) return fail(std::move(n.error()));
        cfg.free_time_s = *n;
        return {};
    }
    return fail(ErrorCode::invalid_argument,
                "unknown setting '" + std::string(key) +
                    "' (known: currency.code, currency.precision, currency.rounding, "
                    "billing.hold_time_precision_ms, billing.free_time_s, calendar.timezone, "
                    "calendar.working_days, calendar.work_hours, calendar.holidays)",
                "key");
}

bool is_setting(std::string_view key) {
    for (const Setting& s : settings_of(RatingConfig{}))
        if (s.key == key) return true;
    return false;
}

std::vector<Setting> settings_of(const RatingConfig& cfg) {
    return {
        {"currency.code", cfg.currency.code, ""},
        {"currency.precision", std::to_string(cfg.currency.precision), "SERVER_BILLING_FEE_PRECISTION"},
        {"currency.rounding", std::string(to_string(cfg.currency.rounding)), "SERVER_BILLING_FEE_UNIT"},
        {"billing.hold_time_precision_ms", std::to_string(cfg.hold_time_precision_ms),
         "SERVER_BILLING_HOLD_TIME_PRECISION"},
        {"billing.free_time_s", std::to_string(cfg.free_time_s), "SERVER_BILLING_FREE_TIME"},
        {"calendar.timezone", zone_name(cfg.calendar), "Work Calendar"},
        {"calendar.working_days", format_days(cfg.calendar.working_days), "Work Calendar"},
        {"calendar.work_hours",
         format_hh_mm(cfg.calendar.work_start_minute) + "-" + format_hh_mm(cfg.calendar.work_end_minute),
         "Work Calendar"},
        {"calendar.holidays", format_holidays(cfg.calendar), "Work Calendar"},
    };
}

}  // namespace billing

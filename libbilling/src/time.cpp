#include "billing/time.hpp"

#include "billing/tz.hpp"

#include <algorithm>
#include <cstdio>

namespace billing {

// Civil-date conversion by counting 400-year eras (each era has 146097 days) with years
// starting in March, so the leap day is the last day of the year.
std::int64_t days_from_civil(int year, unsigned month, unsigned day) {
    const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;                                  // [0, 399]
    const std::int64_t mp = (static_cast<std::int64_t>(month) + 9) % 12;     // March = 0
    const std::int64_t doy = (153 * mp + 2) / 5 + day - 1;                   // [0, 365]
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          // [0, 146096]
    return era * 146097 + doe - 719468;
}

void civil_from_days(std::int64_t z, int& year, unsigned& month, unsigned& day) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
    month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
    year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
}

static bool read_int(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

static unsigned days_in_month(int y, unsigned m) {
    static const unsigned d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return d[m - 1];
}

Result<Timestamp> parse_time(std::string_view text) {
    auto bad = [&](const char* why) {
        return fail(ErrorCode::invalid_argument,
                    std::string(why) + ": '" + std::string(text) +
                        "' (expected YYYY-MM-DD[ HH:MM[:SS[.fff]]])");
    };
    std::string_view s = text;
    if (!s.empty() && (s.back() == 'Z' || s.back() == 'z')) s.remove_suffix(1);
    int y, mo, d, h = 0, mi = 0, se = 0, ms = 0;
    if (s.size() < 10 || !read_int(s, 0, 4, y) || s[4] != '-' || !read_int(s, 5, 2, mo) ||
        s[7] != '-' || !read_int(s, 8, 2, d))
        return bad("bad date");
    if (s.size() > 10) {
        if ((s[10] != ' ' && s[10] != 'T') || !read_int(s, 11, 2, h) || s.size() < 16 ||
            s[13] != ':' || !read_int(s, 14, 2, mi))
            return bad("bad time");
        if (s.size() > 16) {
            if (s.size() < 19 || s[16] != ':' || !read_int(s, 17, 2, se)) return bad("bad time");
            if (s.size() > 19) {  // milliseconds: ".f", ".ff" or ".fff"
                const std::size_t nd = s.size() - 20;
                if (s[19] != '.' || nd < 1 || nd > 3 || !read_int(s, 20, nd, ms))
                    return bad("bad fraction of a second (1 to 3 digits after '.')");
                for (std::size_t i = nd; i < 3; ++i) ms *= 10;
            }
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > days_in_month(y, static_cast<unsigned>(mo)))
        return bad("no such date");
    if (h > 23 || mi > 59 || se > 59) return bad("no such time");
    const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    return ((days * 24 + h) * 60 + mi) * 60000 + static_cast<std::int64_t>(se) * 1000 + ms;
}

static std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

std::string format_time(Timestamp ms) {
    const std::int64_t secs = floor_div(ms, 1000);
    const std::int64_t days = floor_div(secs, 86400);
    const std::int64_t rem = secs - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d", y, m, d,
                  static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                  static_cast<int>(rem % 60));
    return buf;
}

std::string format_date_hour(Timestamp ms) {
    const std::int64_t secs = floor_div(ms, 1000);
    const std::int64_t days = floor_div(secs, 86400);
    const std::int64_t rem = secs - days * 86400;
    int y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d%02u%02u%02d", y, m, d, static_cast<int>(rem / 3600));
    return buf;
}

std::string_view to_string(PeriodKind p) {
    switch (p) {
        case PeriodKind::any: return "any";
        case PeriodKind::peak: return "peak";
        case PeriodKind::offpeak: return "offpeak";
        case PeriodKind::weekend: return "weekend";
    }
    return "any";
}

Result<PeriodKind> parse_period(std::string_view s) {
    if (s.empty() || s == "any") return PeriodKind::any;
    if (s == "peak") return PeriodKind::peak;
    if (s == "offpeak" || s == "off-peak") return PeriodKind::offpeak;
    if (s == "weekend") return PeriodKind::weekend;
    return fail(ErrorCode::invalid_argument,
                "period must be any, peak, offpeak or weekend, not '" + std::string(s) + "'",
                "period");
}

Result<void> WorkCalendar::add_holiday(std::string_view date) {
    auto t = parse_time(date);
    if (!t) return fail(std::move(t.error()));
    const std::int64_t day = floor_div(*t, 86400000);
    auto it = std::lower_bound(holidays.begin(), holidays.end(), day);
    if (it == holidays.end() || *it != day) holidays.insert(it, day);
    return {};
}

PeriodKind WorkCalendar::period_at(Timestamp ms) const {
    const std::int64_t offset_s =
        zone ? zone->offset_s_at(ms) : static_cast<std::int64_t>(utc_offset_minutes) * 60;
    const std::int64_t local_s = floor_div(ms, 1000) + offset_s;
    const std::int64_t day = floor_div(local_s, 86400);
    const int minute = static_cast<int>((local_s - day * 86400) / 60);
    const int weekday = static_cast<int>(((day % 7) + 7 + 3) % 7);  // 1970-01-01 was a Thursday
    if ((working_days & (1u << weekday)) == 0) return PeriodKind::weekend;
    if (std::binary_search(holidays.begin(), holidays.end(), day)) return PeriodKind::weekend;
    return (minute >= work_start_minute && minute < work_end_minute) ? PeriodKind::peak
                                                                      : PeriodKind::offpeak;
}

}  // namespace billing

namespace billing {

namespace {

struct PatternField {
    char letter;
    std::size_t width;  // 4 for yyyy, 2 otherwise
};

// The field starting at pattern[i] ("yyyy", "MM", ...) or letter 0 for a literal.
PatternField pattern_field(std::string_view p, std::size_t i) {
    const char c = p[i];
    const std::size_t want = c == 'y' ? 4 : 2;
    if (std::string_view("yMdHms").find(c) == std::string_view::npos) return {0, 1};
    if (p.substr(i, want) != std::string(want, c)) return {0, 1};
    return {c, want};
}

}  // namespace

Result<void> check_time_format(std::string_view pattern) {
    bool y = false, m = false, d = false;
    for (std::size_t i = 0; i < pattern.size();) {
        const PatternField f = pattern_field(pattern, i);
        const char c = pattern[i];
        if (f.letter == 0 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return fail(ErrorCode::invalid_argument,
                        "date format '" + std::string(pattern) + "': '" + std::string(1, c) +
                            "' is not one of yyyy MM dd HH mm ss",
                        "date_format");
        y |= f.letter == 'y';
        m |= f.letter == 'M';
        d |= f.letter == 'd';
        i += f.width;
    }
    if (!y || !m || !d)
        return fail(ErrorCode::invalid_argument,
                    "date format '" + std::string(pattern) + "' needs yyyy, MM and dd", "date_format");
    return {};
}

Result<Timestamp> parse_time_format(std::string_view text, std::string_view pattern) {
    if (pattern.empty()) return parse_time(text);
    auto bad = [&](const char* why) {
        return fail(ErrorCode::invalid_argument,
                    std::string(why) + ": '" + std::string(text) + "' (expected " + std::string(pattern) + ")");
    };
    int v[6] = {0, 0, 0, 0, 0, 0};  // y M d H m s
    std::size_t t = 0;
    bool after_field = false;
    for (std::size_t i = 0; i < pattern.size();) {
        const PatternField f = pattern_field(pattern, i);
        if (f.letter == 0) {
            if (t >= text.size() || text[t] != pattern[i]) return bad("bad date");
            ++t;
            ++i;
            after_field = false;
            continue;
        }
        i += f.width;
        // A field next to another field has its full width (yyyyMMdd); between separators,
        // 1 digit is enough (1/12/2026).
        const bool exact = f.letter == 'y' || after_field ||
                           (i < pattern.size() && pattern_field(pattern, i).letter != 0);
        after_field = true;
        std::size_t n = 0;
        int x = 0;
        while (n < f.width && t < text.size() && text[t] >= '0' && text[t] <= '9') {
            x = x * 10 + (text[t++] - '0');
            ++n;
        }
        if (n == 0 || (exact && n != f.width)) return bad("bad date");
        v[std::string_view("yMdHms").find(f.letter)] = x;
    }
    if (t != text.size()) return bad("text after the date");
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 ||
        static_cast<unsigned>(v[2]) > days_in_month(v[0], static_cast<unsigned>(v[1])))
        return bad("no such date");
    if (v[3] > 23 || v[4] > 59 || v[5] > 59) return bad("no such time");
    const std::int64_t days = days_from_civil(v[0], static_cast<unsigned>(v[1]), static_cast<unsigned>(v[2]));
    return ((days * 24 + v[3]) * 60 + v[4]) * 60000 + static_cast<std::int64_t>(v[5]) * 1000;
}

}  // namespace billing

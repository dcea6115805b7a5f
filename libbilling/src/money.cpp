#include "billing/money.hpp"

#include <charconv>

#include "arith.hpp"

namespace billing {

using detail::fits64;
using detail::i128;

std::string_view to_string(ErrorCode code) {
    switch (code) {
        case ErrorCode::invalid_argument: return "invalid_argument";
        case ErrorCode::overflow: return "overflow";
        case ErrorCode::negative_duration: return "negative_duration";
        case ErrorCode::unknown_account: return "unknown_account";
        case ErrorCode::unknown_rate_group: return "unknown_rate_group";
        case ErrorCode::no_rate: return "no_rate";
        case ErrorCode::duplicate: return "duplicate";
        case ErrorCode::insufficient_funds: return "insufficient_funds";
        case ErrorCode::parse_error: return "parse_error";
        case ErrorCode::io_error: return "io_error";
        case ErrorCode::db_locked: return "db_locked";
        case ErrorCode::disk_full: return "disk_full";
        case ErrorCode::db_error: return "db_error";
        case ErrorCode::schema_too_new: return "schema_too_new";
    }
    return "unknown";
}

std::string Error::describe() const {
    std::string s;
    if (line != 0) s += "line " + std::to_string(line);
    if (!field.empty()) {
        if (!s.empty()) s += ", ";
        s += "field " + field;
    }
    if (!s.empty()) s += ": ";
    s += message;
    return s;
}

std::string_view to_string(Rounding r) {
    switch (r) {
        case Rounding::up: return "up";
        case Rounding::half_up: return "half-up";
        case Rounding::down: return "down";
    }
    return "up";
}

Result<Rounding> parse_rounding(std::string_view s) {
    if (s == "up") return Rounding::up;
    if (s == "half-up" || s == "half_up") return Rounding::half_up;
    if (s == "down") return Rounding::down;
    return fail(ErrorCode::invalid_argument,
                "rounding must be up, half-up or down, not '" + std::string(s) + "'", "rounding");
}

static Failure overflow_error() {
    return fail(ErrorCode::overflow, "amount out of range (+-9223372036854.775807)");
}

Result<Money> Money::from_units(std::int64_t units) {
    const i128 v = static_cast<i128>(units) * kScale;
    if (!fits64(v)) return overflow_error();
    return Money(static_cast<std::int64_t>(v));
}

// Parses [+-]digits[.digits] into a value scaled by 10^decimals, exactly.
static Result<std::int64_t> parse_scaled(std::string_view text, int decimals,
                                         std::string_view what) {
    auto bad = [&](const char* why) {
        return fail(ErrorCode::invalid_argument,
                    std::string(why) + ": '" + std::string(text) + "' is not a " +
                        std::string(what));
    };
    std::string_view s = text;
    bool neg = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s.empty()) return bad("empty");
    i128 v = 0;
    std::size_t i = 0;
    bool any_digit = false;
    for (; i < s.size() && s[i] != '.'; ++i) {
        if (s[i] < '0' || s[i] > '9') return bad("unexpected character");
        v = v * 10 + (s[i] - '0');
        any_digit = true;
        if (v > static_cast<i128>(INT64_MAX)) return fail(ErrorCode::overflow,
            "'" + std::string(text) + "' is out of range");
    }
    int frac = 0;
    if (i < s.size()) {  // '.'
        ++i;
        if (i == s.size() && !any_digit) return bad("no digits");
        for (; i < s.size(); ++i) {
            const char c = s[i];
            if (c < '0' || c > '9') return bad("unexpected character");
            any_digit = true;
            if (frac < decimals) {
                v = v * 10 + (c - '0');
                ++frac;
            } else if (c != '0') {
                return fail(ErrorCode::invalid_argument,
                            "'" + std::string(text) + "' has more than " +
                                std::to_string(decimals) + " decimals");
            }
        }
    }
    if (!any_digit) return bad("no digits");
    for (; frac < decimals; ++frac) v *= 10;
    if (neg) v = -v;
    if (!fits64(v)) return fail(ErrorCode::overflow, "'" + std::string(text) + "' is out of range");
    return static_cast<std::int64_t>(v);
}

Result<Money> Money::parse(std::string_view text) {
    auto r = parse_scaled(text, kDecimals, "decimal amount");
    if (!r) return fail(std::move(r.error()));
    return Money(*r);
}

Result<Money> Money::add(Money o) const {
    std::int64_t out;
    if (__builtin_add_overflow(micros_, o.micros_, &out)) return overflow_error();
    return Money(out);
}
Result<Money> Money::sub(Money o) const {
    std::int64_t out;
    if (__builtin_sub_overflow(micros_, o.micros_, &out)) return overflow_error();
    return Money(out);
}
Result<Money> Money::mul(std::int64_t f) const {
    std::int64_t out;
    if (__builtin_mul_overflow(micros_, f, &out)) return overflow_error();
    return Money(out);
}
Result<Money> Money::negate() const {
    if (micros_ == INT64_MIN) return overflow_error();
    return Money(-micros_);
}

static Result<void> check_precision(int precision) {
    if (precision < 0 || precision > Money::kDecimals)
        return fail(ErrorCode::invalid_argument, "precision must be 0..6", "precision");
    return {};
}

Result<Money> Money::round(int precision, Rounding r) const {
    if (auto c = check_precision(precision); !c) return fail(c.error());
    const i128 v = detail::round_to_precision(micros_, 1, precision, r);
    if (!fits64(v)) return overflow_error();
    return Money(static_cast<std::int64_t>(v));
}

std::string Money::to_string(int min_decimals) const {
    if (min_decimals < 0) min_decimals = 0;
    if (min_decimals > kDecimals) min_decimals = kDecimals;
    const bool neg = micros_ < 0;
    const std::uint64_t a = neg ? (~static_cast<std::uint64_t>(micros_) + 1)
                                : static_cast<std::uint64_t>(micros_);
    const std::uint64_t whole = a / kScale;
    std::uint64_t frac = a % kScale;
    std::string s = neg ? "-" : "";
    s += std::to_string(whole);
    char digits[kDecimals];
    for (int i = kDecimals - 1; i >= 0; --i) {
        digits[i] = static_cast<char>('0' + frac % 10);
        frac /= 10;
    }
    int keep = kDecimals;
    while (keep > min_decimals && digits[keep - 1] == '0') --keep;
    if (keep > 0) {
        s += '.';
        s.append(digits, static_cast<std::size_t>(keep));
    }
    return s;
}

Result<Money> mul_div(Money m, std::int64_t num, std::int64_t den, int precision, Rounding r) {
    if (den <= 0) return fail(ErrorCode::invalid_argument, "denominator must be positive");
    if (auto c = check_precision(precision); !c) return fail(c.error());
    const i128 v = detail::round_to_precision(static_cast<i128>(m.micros()) * num, den, precision, r);
    if (!fits64(v)) return overflow_error();
    return Money::from_micros(static_cast<std::int64_t>(v));
}

Result<std::int64_t> parse_ratio_ppm(std::string_view text) {
    std::string_view s = text;
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    if (!s.empty() && s.back() == '%') {
        s.remove_suffix(1);
        // percent: value/100 with 6 decimals of the ratio = 4 decimals of the percent
        auto r = parse_scaled(s, 4, "percentage");
        if (!r) return fail(std::move(r.error()));
        return *r;
    }
    auto r = parse_scaled(s, 6, "ratio");
    if (!r) return fail(std::move(r.error()));
    return *r;
}

std::string format_ppm_percent(std::int64_t ppm) {
    // ppm / 10^4 percent, exact; reuse Money's formatting (scale 10^6) by multiplying by 100.
    const i128 v = static_cast<i128>(ppm) * 100;
    if (!fits64(v)) return "overflow";
    return Money::from_micros(static_cast<std::int64_t>(v)).to_string(2) + "%";
}

}  // namespace billing

// billing::Money — exact amounts in integer micro-units (1 unit = 1,000,000 micros).
//
//   auto price = billing::Money::parse("0.0125");          // Result<Money>, 12500 micros
//   auto total = price->add(billing::Money::from_micros(7)); // Result<Money>, checked
//   billing::Currency usd{"USD", 4, billing::Rounding::up};
//   auto shown = total->round(usd.precision, usd.rounding);  // 0.0126
//   std::cout << shown->to_string(4);                         // "0.0126"
//
// Rules (tested in tests/billing/money_test.cpp):
//  * Storage is a signed 64-bit count of micro-units: range +-9,223,372,036,854.775807.
//    Every arithmetic operation is checked and returns ErrorCode::overflow instead of
//    wrapping. There is no floating point anywhere in billing.
//  * parse() accepts [+-]digits[.digits] with '.' as the decimal point (callers that read
//    decimal commas convert first). More than 6 decimals is accepted only when the extra
//    digits are zeros; otherwise it is an error, never a silent rounding.
//  * to_string() is exact: it never drops a non-zero digit.
//  * Rounding acts on the magnitude (symmetric around zero):
//      up      — away from zero to the next multiple of the unit (1.00001 -> 1.0001 at 4 dp)
//      half_up — to the nearest multiple, ties away from zero (0.00005 -> 0.0001)
//      down    — toward zero (truncate)
//    It is applied only at the points named by the API that takes a Rounding (in rating:
//    once per call to the total charge and once to the total cost; in auto-created rates:
//    to each derived price). Intermediate values are kept exact (128-bit).
//  * Currency::precision is the number of decimals kept (0..6), VOS3000's
//    SERVER_BILLING_FEE_PRECISTION; the default is 4 decimals, rounding up.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "billing/result.hpp"

namespace billing {

enum class Rounding : std::uint8_t { up, half_up, down };

std::string_view to_string(Rounding r);
Result<Rounding> parse_rounding(std::string_view s);  // "up", "half-up"/"half_up", "down"

struct Currency {
    std::string code = "USD";
    int precision = 4;  // decimals kept after rounding, 0..6
    Rounding rounding = Rounding::up;
};

class Money {
public:
    static constexpr std::int64_t kScale = 1'000'000;
    static constexpr int kDecimals = 6;

    constexpr Money() = default;
    static constexpr Money from_micros(std::int64_t micros) { return Money(micros); }
    static constexpr Money zero() { return Money(0); }
    // units * 1,000,000, checked.
    static Result<Money> from_units(std::int64_t units);
    static Result<Money> parse(std::string_view text);

    constexpr std::int64_t micros() const { return micros_; }
    constexpr bool is_zero() const { return micros_ == 0; }
    constexpr bool is_negative() const { return micros_ < 0; }

    Result<Money> add(Money other) const;
    Result<Money> sub(Money other) const;
    Result<Money> mul(std::int64_t factor) const;
    Result<Money> negate() const;
    // Rounds to `precision` decimals (0..6) with rule r; see the rules above.
    Result<Money> round(int precision, Rounding r) const;
    Result<Money> round(const Currency& c) const { return round(c.precision, c.rounding); }

    // Exact decimal text with at least min_decimals decimals (trailing zeros beyond that
    // are trimmed; non-zero digits are never dropped). to_string(2) of 1.5 is "1.50";
    // to_string(2) of 0.123 is "0.123".
    std::string to_string(int min_decimals = 2) const;

    friend constexpr auto operator<=>(Money, Money) = default;
    friend constexpr bool operator==(Money, Money) = default;

private:
    constexpr explicit Money(std::int64_t m) : micros_(m) {}
    std::int64_t micros_ = 0;
};

// (m * num / den) rounded to `precision` decimals with rule r, computed exactly in 128 bits.
// den must be > 0. Used for per-second proration and margins.
Result<Money> mul_div(Money m, std::int64_t num, std::int64_t den, int precision, Rounding r);

// Ratios (margins, markups) are integers in parts per million: 0.15 = 15% = 150000 ppm.
// Accepts "0.15", "15%", "15.5%"; at most 6 decimals of the fraction.
Result<std::int64_t> parse_ratio_ppm(std::string_view text);
// 150000 -> "15.00%", 123456 -> "12.3456%" (exact, at least 2 decimals).
std::string format_ppm_percent(std::int64_t ppm);

}  // namespace billing

// Private 128-bit helpers for exact money arithmetic (not installed).
#pragma once

#include <cstdint>

#include "billing/money.hpp"

namespace billing::detail {

__extension__ typedef __int128 i128;

inline constexpr std::int64_t kPow10[] = {1,       10,       100,       1000,      10000,
                                          100000,  1000000,  10000000,  100000000,
                                          1000000000};

inline bool fits64(i128 v) { return v >= INT64_MIN && v <= INT64_MAX; }

// num / den rounded with rule r (den > 0); symmetric around zero.
inline i128 round_div(i128 num, i128 den, Rounding r) {
    // Fast path: 64-bit division when both fit (the common case for one call's amount);
    // 128-bit division is a library call several times slower.
    if (num >= 0 && num <= INT64_MAX && den <= INT64_MAX) {
        const auto n = static_cast<std::uint64_t>(num), d = static_cast<std::uint64_t>(den);
        std::uint64_t q = n / d;
        const std::uint64_t rem = n % d;
        if (rem != 0 && (r == Rounding::up || (r == Rounding::half_up && rem >= d - rem))) ++q;
        return static_cast<i128>(q);
    }
    const bool neg = num < 0;
    const i128 a = neg ? -num : num;
    i128 q = a / den;
    const i128 rem = a % den;
    if (rem != 0) {
        switch (r) {
            case Rounding::up: ++q; break;
            case Rounding::half_up:
                if (rem * 2 >= den) ++q;
                break;
            case Rounding::down: break;
        }
    }
    return neg ? -q : q;
}

// Rounds `micros_times_den / den` to a multiple of 10^(6-precision) micros; result in micros.
inline i128 round_to_precision(i128 num, i128 den, int precision, Rounding r) {
    const i128 unit = kPow10[Money::kDecimals - precision];
    return round_div(num, den * unit, r) * unit;
}

}  // namespace billing::detail

// Small helpers shared by the hand-written glue around the Ragel machines.
#pragma once

#include <cstdint>
#include <string_view>

namespace sip::detail {

inline bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }
inline bool is_lws(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trims LWS (including folded CRLFs) on both sides.
inline std::string_view trim_lws(std::string_view s) noexcept {
    std::size_t b = 0, e = s.size();
    while (b < e && is_lws(s[b])) ++b;
    while (e > b && is_lws(s[e - 1])) --e;
    return s.substr(b, e - b);
}

inline std::string_view span(const unsigned char* base, const unsigned char* b,
                             const unsigned char* e) noexcept {
    (void)base;
    return {reinterpret_cast<const char*>(b), static_cast<std::size_t>(e - b)};
}

// Decimal digits to an integer no larger than `max`; false on overflow, empty input or a
// non-digit.
inline bool parse_decimal(std::string_view digits, std::uint32_t max, std::uint32_t& out) noexcept {
    if (digits.empty()) return false;
    std::uint64_t v = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
        if (v > max) return false;
    }
    out = static_cast<std::uint32_t>(v);
    return true;
}

// Start of the parameter name that precedes the '=' at `eq` (LWS and the name are walked
// back over), so errors about a parameter's value point at the parameter.
inline const unsigned char* param_name_start(const unsigned char* base,
                                             const unsigned char* eq) noexcept {
    const unsigned char* p = eq;
    while (p > base && is_lws(static_cast<char>(p[-1]))) --p;
    while (p > base && p[-1] != ';' && !is_lws(static_cast<char>(p[-1]))) --p;
    return p;
}

struct Param {
    std::string_view name;
    std::string_view value;  // quoted values without quotes
    bool has_value = false;
    bool quoted = false;
};

// Iterates a `;name[=value]` list whose grammar a machine already checked. Accepts LWS
// around ';' and '='. Returns false when no parameter is left.
bool next_param(std::string_view& s, Param& out) noexcept;

}  // namespace sip::detail

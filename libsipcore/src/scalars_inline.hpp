// The single-character-class checks of scalars.rl (Call-ID, 1*DIGIT, the plain CSeq form),
// inline, so that the message parser's ingress checks run them without a call and without
// building a Result in memory (private to libsipcore). parse_call_id(), parse_uint() and
// parse_cseq() are these same functions.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "parse_util.hpp"
#include "sip/headers.hpp"

namespace sip::detail {

// RFC 3261 §25.1 word characters
constexpr std::array<bool, 256> make_word_table() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("-.!%*_+`'~()<>:\\\"/[]?{}"))
        t[static_cast<unsigned char>(c)] = true;
    return t;
}
// RFC 3261 §25.1 token characters
constexpr std::array<bool, 256> make_token_c_table() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("-.!%*_+`'~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}
// Hidden: read PC-relative, not through the GOT (libsipcore is a shared library).
[[gnu::visibility("hidden")]] inline constexpr std::array<bool, 256> kWordC = make_word_table();
[[gnu::visibility("hidden")]] inline constexpr std::array<bool, 256> kTokenC =
    make_token_c_table();

inline std::string_view trim_sws(std::string_view v, std::size_t& lead) noexcept {
    std::size_t b = 0, e = v.size();
    while (b < e && is_lws(v[b])) ++b;
    while (e > b && is_lws(v[e - 1])) --e;
    lead = b;
    return v.substr(b, e - b);
}

// The end of the run of word octets in s from i. Four a step while four are left: one test
// for the four instead of four loop turns (a Call-ID is ~30 octets).
inline std::size_t word_run(std::string_view s, std::size_t i) noexcept {
    auto w = [&s](std::size_t k) { return kWordC[static_cast<unsigned char>(s[k])]; };
    while (i + 4 <= s.size() && (w(i) & w(i + 1) & w(i + 2) & w(i + 3))) i += 4;
    while (i < s.size() && w(i)) ++i;
    return i;
}

// The message parser hands these values over trimmed of LWS already (the same SP, HTAB,
// CR and LF): `Trimmed` skips trimming them again.
enum class Lws : bool { Trim, Trimmed };

// parse_call_id()
template <Lws L = Lws::Trim>
inline Result<std::string_view> call_id_value(std::string_view value) noexcept {
    std::size_t lead = 0;
    std::string_view id = L == Lws::Trim ? trim_sws(value, lead) : value;
    std::size_t i = word_run(id, 0);
    if (i > 0 && i < id.size() && id[i] == '@') {
        const std::size_t host = ++i;
        i = word_run(id, i);
        if (i == host)
            return unexpected(Errc::bad_header_value, static_cast<std::uint32_t>(lead + i));
    }
    if (i == 0 || i != id.size()) {
        return unexpected(Errc::bad_header_value, static_cast<std::uint32_t>(lead + i));
    }
    return id;
}

// parse_uint()
template <Lws L = Lws::Trim>
inline Result<std::uint32_t> uint_value(std::string_view value, std::uint32_t max) noexcept {
    std::size_t lead = 0;
    std::string_view digits = L == Lws::Trim ? trim_sws(value, lead) : value;
    std::size_t i = 0;
    std::uint64_t v = 0;
    bool overflow = false;
    for (; i < digits.size() && digits[i] >= '0' && digits[i] <= '9'; ++i) {
        v = v * 10 + static_cast<unsigned>(digits[i] - '0');
        overflow |= v > max;
        if (v > max) v = static_cast<std::uint64_t>(max) + 1;  // keep it bounded
    }
    if (i == 0 || i != digits.size()) {
        return unexpected(Errc::bad_header_value, static_cast<std::uint32_t>(lead + i));
    }
    if (overflow) return unexpected(Errc::value_out_of_range, static_cast<std::uint32_t>(lead));
    return static_cast<std::uint32_t>(v);
}

// parse_cseq()'s plain form, "1*DIGIT SP token", with what the machine gives for it; false
// (and `out` untouched) for anything else, which is the machine's (fast_path.hpp).
inline bool cseq_plain(std::string_view value, CSeq& out) noexcept {
    const char* p = value.data();
    const char* const pe = p + value.size();
    std::uint64_t number = 0;
    // at most 10 digits accumulate: more overflow 32 bits whatever they are, so the
    // machine's range error is the answer
    for (; p < pe && *p >= '0' && *p <= '9'; ++p) {
        if (p - value.data() == 10) return false;
        number = number * 10 + static_cast<unsigned>(*p - '0');
    }
    if (p == value.data() || p == pe || *p != ' ' || number > UINT32_MAX) return false;
    const char* const m = ++p;
    while (p < pe && kTokenC[static_cast<unsigned char>(*p)]) ++p;
    if (p != pe || p == m) return false;
    out.number = static_cast<std::uint32_t>(number);
    out.method_name = {m, static_cast<std::size_t>(pe - m)};
    out.method = method_from(out.method_name);
    return true;
}

}  // namespace sip::detail

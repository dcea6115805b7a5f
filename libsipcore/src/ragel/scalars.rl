// Small single-valued headers checked at ingress:
//   CSeq    = 1*DIGIT LWS Method            (RFC 3261 §20.16)     Ragel
//   Date    = rfc1123-date                  (RFC 3261 §20.17)     Ragel
//   Call-ID = word [ "@" word ]             (RFC 3261 §20.8)      character-class loop
//   1*DIGIT for Max-Forwards, Content-Length, Expires, Min-Expires  digit loop
// Call-ID and the integers are single character classes: a table loop validates exactly the
// same grammar as a DFA at a third of the instructions (these run for every message).
// Values arrive trimmed of surrounding LWS by the message parser, but the functions accept
// surrounding LWS so they can be called on raw text too.
#include <array>

#include "fast_path.hpp"
#include "parse_util.hpp"
#include "sip/headers.hpp"

namespace sip {
namespace {

%%{
machine scalars;
alphtype unsigned char;
include common "common.rl";

action n_s { n_s = p; }
action n_e { n_e = p; }
action m_s { m_s = p; }
action m_e { m_e = p; }

cseq := SWS digit+ >n_s %n_e LWS token >m_s %m_e SWS;

# RFC 3261 §20.17 / §25.1 rfc1123-date; only "GMT" is legal (RFC 4475 §3.1.2.12).
wkday = "Mon" | "Tue" | "Wed" | "Thu" | "Fri" | "Sat" | "Sun";
month = "Jan" | "Feb" | "Mar" | "Apr" | "May" | "Jun" | "Jul" | "Aug" | "Sep" | "Oct" |
        "Nov" | "Dec";
date := SWS wkday "," SP digit{2} >n_s SP month >m_s SP digit{4} SP digit{2} ":" digit{2} ":"
        digit{2} SP "GMT" SWS;

write data noerror;
}%%

struct Marks {
    const unsigned char *n_s = nullptr, *n_e = nullptr, *m_s = nullptr, *m_e = nullptr;
    const unsigned char* stop = nullptr;
    bool ok = false;
};

Marks run(std::string_view text, int entry) noexcept {
    Marks k;
    const auto* base = reinterpret_cast<const unsigned char*>(text.data());
    const unsigned char* p = base;
    const unsigned char* pe = base + text.size();
    const unsigned char* eof = pe;
    const unsigned char *n_s = nullptr, *n_e = nullptr, *m_s = nullptr, *m_e = nullptr;
    int cs = entry;
    %% write exec;
    k.n_s = n_s;
    k.n_e = n_e;
    k.m_s = m_s;
    k.m_e = m_e;
    k.stop = p;
    k.ok = cs >= scalars_first_final && p == pe;
    return k;
}

std::uint32_t offset_of(std::string_view text, const unsigned char* at) noexcept {
    return static_cast<std::uint32_t>(reinterpret_cast<const char*>(at) - text.data());
}

}  // namespace

namespace {
// RFC 3261 §25.1 token
constexpr std::array<bool, 256> make_token_table() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("-.!%*_+`'~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}
constexpr std::array<bool, 256> kTokenC = make_token_table();
}  // namespace

Result<CSeq> parse_cseq(std::string_view value) noexcept {
    return detail::parse_cseq_impl(value, true);
}

Result<CSeq> detail::parse_cseq_impl(std::string_view value, bool fast) noexcept {
    if (fast) {
        // The plain form, "1*DIGIT SP token", gives what the machine gives without it
        // (fast_path.hpp); anything else is the machine's.
        const char* p = value.data();
        const char* const pe = p + value.size();
        while (p < pe && *p >= '0' && *p <= '9') ++p;
        const char* const n_e = p;
        if (n_e != value.data() && p < pe && *p == ' ') {
            const char* const m = ++p;
            while (p < pe && kTokenC[static_cast<unsigned char>(*p)]) ++p;
            CSeq c;
            if (p == pe && p != m &&
                detail::parse_decimal({value.data(), static_cast<std::size_t>(n_e - value.data())},
                                      UINT32_MAX, c.number)) {
                c.method_name = {m, static_cast<std::size_t>(pe - m)};
                c.method = method_from(c.method_name);
                return c;
            }
        }
    }
    Marks k = run(value, scalars_en_cseq);
    if (!k.ok) return unexpected(Errc::bad_header_value, offset_of(value, k.stop));
    CSeq c;
    if (!detail::parse_decimal(detail::span(nullptr, k.n_s, k.n_e), UINT32_MAX, c.number)) {
        // RFC 3261 §8.1.1.5: the sequence number MUST be less than 2**31 when a request is
        // created, and fits in 32 bits on the wire (RFC 4475 §3.1.2.4).
        return unexpected(Errc::value_out_of_range, offset_of(value, k.n_s));
    }
    c.method_name = detail::span(nullptr, k.m_s, k.m_e);
    c.method = method_from(c.method_name);
    return c;
}

namespace {

// RFC 3261 §25.1 word characters
constexpr std::array<bool, 256> make_word_table() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("-.!%*_+`'~()<>:\\\"/[]?{}")) t[static_cast<unsigned char>(c)] = true;
    return t;
}
constexpr std::array<bool, 256> kWord = make_word_table();

std::string_view trim_sws(std::string_view v, std::size_t& lead) noexcept {
    std::size_t b = 0, e = v.size();
    while (b < e && detail::is_lws(v[b])) ++b;
    while (e > b && detail::is_lws(v[e - 1])) --e;
    lead = b;
    return v.substr(b, e - b);
}

// The end of the run of word octets in s from i. Four a step while four are left: one test
// for the four instead of four loop turns (a Call-ID is ~30 octets).
std::size_t word_run(std::string_view s, std::size_t i) noexcept {
    auto w = [&s](std::size_t k) { return kWord[static_cast<unsigned char>(s[k])]; };
    while (i + 4 <= s.size() && (w(i) & w(i + 1) & w(i + 2) & w(i + 3))) i += 4;
    while (i < s.size() && w(i)) ++i;
    return i;
}

}  // namespace

Result<std::string_view> parse_call_id(std::string_view value) noexcept {
    std::size_t lead;
    std::string_view id = trim_sws(value, lead);
    std::size_t i = word_run(id, 0);
    if (i > 0 && i < id.size() && id[i] == '@') {
        const std::size_t host = ++i;
        i = word_run(id, i);
        if (i == host) return unexpected(Errc::bad_header_value, static_cast<std::uint32_t>(lead + i));
    }
    if (i == 0 || i != id.size()) {
        return unexpected(Errc::bad_header_value, static_cast<std::uint32_t>(lead + i));
    }
    return id;
}

Result<std::uint32_t> parse_uint(std::string_view value, std::uint32_t max) noexcept {
    std::size_t lead;
    std::string_view digits = trim_sws(value, lead);
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

Result<std::int64_t> parse_date(std::string_view value) noexcept {
    Marks k = run(value, scalars_en_date);
    if (!k.ok) return unexpected(Errc::bad_header_value, offset_of(value, k.stop));
    // "DD Mon YYYY HH:MM:SS GMT" from the day mark on
    std::string_view t = detail::span(nullptr, k.n_s, k.n_s + 24);
    auto num = [&](std::size_t at, std::size_t len) {
        int v = 0;
        for (std::size_t i = 0; i < len; ++i) v = v * 10 + (t[at + i] - '0');
        return v;
    };
    static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const int mon = static_cast<int>(kMonths.find(t.substr(3, 3)) / 3) + 1;
    const int day = num(0, 2), year = num(7, 4), hh = num(12, 2), mm = num(15, 2), ss = num(18, 2);
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const int month_days = kDays[mon - 1] + (mon == 2 && leap ? 1 : 0);
    if (day < 1 || day > month_days || hh > 23 || mm > 59 || ss > 60) {
        return unexpected(Errc::value_out_of_range, offset_of(value, k.n_s));
    }
    // days from civil (proleptic Gregorian), H. Hinnant's algorithm
    const int y = year - (mon <= 2);
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = static_cast<unsigned>((153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1);
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const std::int64_t days = static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
    return days * 86400 + hh * 3600 + mm * 60 + ss;
}

}  // namespace sip

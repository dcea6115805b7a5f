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
#include "scalars_inline.hpp"
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

Result<CSeq> parse_cseq(std::string_view value) noexcept {
    return detail::parse_cseq_impl(value, true);
}

Result<CSeq> detail::parse_cseq_impl(std::string_view value, bool fast) noexcept {
    if (fast) {
        // The plain form, "1*DIGIT SP token", gives what the machine gives without it
        // (fast_path.hpp); anything else is the machine's.
        CSeq c;
        if (detail::cseq_plain(value, c)) return c;
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

Result<std::string_view> parse_call_id(std::string_view value) noexcept {
    return detail::call_id_value(value);
}

Result<std::uint32_t> parse_uint(std::string_view value, std::uint32_t max) noexcept {
    return detail::uint_value(value, max);
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

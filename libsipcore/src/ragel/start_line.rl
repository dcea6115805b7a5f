// RFC 3261 §7.1 Request-Line and §7.2 Status-Line (§25.1 grammar). The Request-URI is
// only delimited here; parse_uri() checks it. Single SP separators are required: RFC 4475
// §3.1.2.9/§3.1.2.10 allow rejecting extra SP, and a proxy must never forward them.
#include "start_line.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "parse_util.hpp"
#include "scan.hpp"

namespace sip::detail {
namespace {

%%{
machine start_line;
alphtype unsigned char;
include common "common.rl";

action m_s { m_s = p; }
action m_e { m_e = p; }
action u_s { u_s = p; }
action u_e { u_e = p; }
action maj_s { maj_s = p; }
action maj_e { maj_e = p; }
action min_s { min_s = p; }
action min_e { min_e = p; }
action code_s { code_s = p; }
action r_s { r_s = p + 1; }

sip_version = 'SIP'i '/' digit+ >maj_s %maj_e '.' digit+ >min_s %min_e;
ruri_c = any - (cntrl | SP | 0x7f);
request := token >m_s %m_e SP ruri_c+ >u_s %u_e SP sip_version;

# Reason-Phrase: reserved / unreserved / escaped / UTF8 / SP / HTAB: any text without
# control characters.
reason_c = (any - (cntrl | 0x7f)) | HTAB;
status := sip_version SP digit{3} >code_s SP @r_s reason_c*;

write data noerror;
}%%

// common.rl token_c
constexpr std::array<bool, 256> make_token_table() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("-.!%*_+`'~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}
constexpr std::array<bool, 256> kTokenC = make_token_table();
inline bool is_token_c(unsigned char c) noexcept { return kTokenC[c]; }

// reason_c: no control character but HTAB, no DEL
constexpr std::array<bool, 256> make_reason_table() {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = (c >= 0x20 || c == '\t') && c != 0x7f;
    return t;
}
constexpr std::array<bool, 256> kReasonC = make_reason_table();

// Every octet of [r, pe) is reason_c; four a test while four are left.
inline bool all_reason_c(const unsigned char* r, const unsigned char* pe) noexcept {
    while (pe - r >= 4 && (kReasonC[r[0]] & kReasonC[r[1]] & kReasonC[r[2]] & kReasonC[r[3]]))
        r += 4;
    for (; r < pe; ++r)
        if (!kReasonC[*r]) return false;
    return true;
}

// "SIP/" in any case (iequals(), without the call): 'S', 'I', 'P' fold, '/' compares
// exactly (0x0f | 0x20 is '/' too).
inline bool is_sip_slash(const unsigned char* p) noexcept {
    std::uint32_t w;
    std::memcpy(&w, p, sizeof w);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap32(w);
    return (w | 0x00202020u) == 0x2f706973u;  // "sip/", little-endian
}

// "SIP/2.0" in any case, exactly (other spellings of 2.0, "SIP/02.0", are the machine's).
inline bool is_sip_2_0(const unsigned char* p) noexcept {
    return (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' && (p[2] | 0x20) == 'p' && p[3] == '/' &&
           p[4] == '2' && p[5] == '.' && p[6] == '0';
}

// The machine's answer for a plain line, without the machine: a request line with version
// "SIP/2.0", or a status line "SIP/2.0 ddd reason" with a code 100..699. Anything else
// (another version spelling, an error to place) is left to the machine: false.
bool plain_start_line(std::string_view line, StartLine& out) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(line.data());
    const auto* const pe = p + line.size();
    if (out.response) {
        // status := sip_version SP digit{3} SP reason_c*
        if (pe - p < 12 || !is_sip_2_0(p) || p[7] != ' ' || p[11] != ' ') return false;
        for (int i = 8; i < 11; ++i)
            if (p[i] < '0' || p[i] > '9') return false;
        const unsigned status = (p[8] - '0') * 100u + (p[9] - '0') * 10u + (p[10] - '0');
        if (status < 100 || status > 699) return false;
        if (!all_reason_c(p + 12, pe)) return false;
        out.status = static_cast<std::uint16_t>(status);
        out.reason = line.substr(12);
        return true;
    }
    // request := token SP ruri_c+ SP sip_version
    const unsigned char* q = p;
    while (pe - q >= 4 && (is_token_c(q[0]) & is_token_c(q[1]) & is_token_c(q[2]) &
                           is_token_c(q[3])))
        q += 4;  // four octets a test while four are left (methods are 3 to 9 octets)
    while (q < pe && is_token_c(*q)) ++q;
    if (q == p || q == pe || *q != ' ') return false;
    const unsigned char* u = ++q;
    // ruri_c: no control, SP or DEL
    q = reinterpret_cast<const unsigned char*>(scan::Fast::find_ctl_or_sp(
        reinterpret_cast<const char*>(q), reinterpret_cast<const char*>(pe)));
    if (q == u || pe - q != 8 || *q != ' ' || !is_sip_2_0(q + 1)) return false;
    out.method = span(p, p, u - 1);
    out.uri = span(p, u, q);
    return true;
}

}  // namespace

Result<StartLine> parse_start_line(std::string_view line) noexcept {
    return parse_start_line_impl(line, true);
}

Result<StartLine> parse_start_line_impl(std::string_view line, bool fast) noexcept {
    StartLine out;
    const auto* base = reinterpret_cast<const unsigned char*>(line.data());
    const unsigned char* p = base;
    const unsigned char* pe = base + line.size();
    const unsigned char* eof = pe;
    const unsigned char *m_s = nullptr, *m_e = nullptr, *u_s = nullptr, *u_e = nullptr;
    const unsigned char *maj_s = nullptr, *maj_e = nullptr, *min_s = nullptr, *min_e = nullptr;
    const unsigned char *code_s = nullptr, *r_s = nullptr;
    out.response = line.size() >= 4 && is_sip_slash(base);
    if (fast && plain_start_line(line, out)) return out;
    int cs = out.response ? start_line_en_status : start_line_en_request;
    %% write exec;
    auto off = [&](const unsigned char* at) { return static_cast<std::uint32_t>(at - base); };
    if (cs < start_line_first_final || p != pe) {
        Errc code = Errc::bad_start_line;
        if (p == pe && cs != 0) {
            // every byte was acceptable, the line just ends too early ("HELLO")
            code = out.response && !min_e ? Errc::bad_version : Errc::bad_start_line;
        } else if (out.response) {
            if (!min_e || p <= min_e) code = Errc::bad_version;
            else code = p < min_e + 5 ? Errc::bad_status_code : Errc::bad_reason_phrase;
        } else if (!m_e) {
            code = Errc::bad_method;
        } else if (maj_s) {
            code = Errc::bad_version;
        } else if (u_s) {
            code = Errc::bad_request_uri;
        }
        return unexpected(code, off(p));
    }
    std::uint32_t major = 0, minor = 0;
    if (!parse_decimal(span(base, maj_s, maj_e), 255, major) ||
        !parse_decimal(span(base, min_s, min_e), 255, minor) || major != 2 || minor != 0) {
        return unexpected(Errc::unsupported_version, off(maj_s));
    }
    if (out.response) {
        out.status = static_cast<std::uint16_t>((code_s[0] - '0') * 100 + (code_s[1] - '0') * 10 +
                                                (code_s[2] - '0'));
        if (out.status < 100 || out.status > 699) {
            return unexpected(Errc::bad_status_code, off(code_s));
        }
        out.reason = span(base, r_s, pe);
    } else {
        out.method = span(base, m_s, m_e);
        out.uri = span(base, u_s, u_e);
    }
    return out;
}

}  // namespace sip::detail

// Fast paths for Via and name-addr values and SIP-URI bodies (see fast_path.hpp for the
// contract). Every check below mirrors a rule of common.rl, via.rl, name_addr.rl or uri.rl;
// where a rule has a case this code does not handle, it returns false and the machine
// decides.
#include "fast_path.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#include "parse_util.hpp"

#if defined(__SSE2__) && !defined(SIPCORE_SCALAR_SCAN)
#include <emmintrin.h>
#endif

namespace sip::detail {
namespace {

enum : std::uint8_t {
    kTok = 1,     // token_c: alphanum | [-.!%*_+`'~]
    kLabel = 2,   // domain label octets: alphanum | '-'
    kUser = 4,    // user: unreserved | user_unreserved [&=+$,;?/] ('%' escapes apart)
    kPass = 8,    // password: unreserved | [&=+$,] ('%' escapes apart)
    kParam = 16,  // paramchar: param_unreserved []/:&+$] | unreserved ('%' escapes apart)
    kDigit = 32,
    kAlpha = 64,
    kXdigit = 128,
};

constexpr std::array<std::uint8_t, 256> make_classes() {
    std::array<std::uint8_t, 256> t{};
    auto add = [&t](std::string_view chars, std::uint8_t f) {
        for (char c : chars) t[static_cast<unsigned char>(c)] |= f;
    };
    std::string_view alnum_ = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const std::string_view mark = "-_.!~*'()";  // RFC 3261 mark
    add(alnum_, kTok | kLabel | kUser | kPass | kParam);
    add("-.!%*_+`'~", kTok);
    add("-", kLabel);
    add(mark, kUser | kPass | kParam);
    add("&=+$,;?/", kUser);
    add("&=+$,", kPass);
    add("[]/:&+$", kParam);
    add("0123456789", kDigit | kXdigit);
    add("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", kAlpha);
    add("abcdefABCDEF", kXdigit);
    return t;
}
constexpr std::array<std::uint8_t, 256> kCls = make_classes();

// The octets that end plain qdtext: '"', '\\', the control octets but HTAB (CR and LF would
// be folding) and DEL.
constexpr std::array<bool, 256> make_quoted_stop() {
    std::array<bool, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[c] = c != '\t';
    t['"'] = t['\\'] = t[0x7f] = true;
    return t;
}
constexpr std::array<bool, 256> kQuotedStop = make_quoted_stop();

inline bool is(char c, std::uint8_t f) noexcept {
    return (kCls[static_cast<unsigned char>(c)] & f) != 0;
}

inline std::uint8_t cls(const char* p) noexcept { return kCls[static_cast<unsigned char>(*p)]; }

// Advances over octets of class F (one class bit); false when there were none. Four octets
// a step while four are left: one test for the four instead of four loop turns. (A 16-octet
// SSE2 range test per class was tried: most runs here are a few octets, and its constants
// cost more per call than the table loop does.)
template <std::uint8_t F>
inline bool run(const char*& p, const char* pe) noexcept {
    const char* s = p;
    while (pe - p >= 4 && (cls(p) & cls(p + 1) & cls(p + 2) & cls(p + 3) & F)) p += 4;
    while (p < pe && (cls(p) & F)) ++p;
    return p != s;
}

// Advances over octets of class F and escapes ('%' HEXDIG HEXDIG); false when there were
// none or an escape is broken (the machine rejects that, or reads it otherwise).
template <std::uint8_t F>
inline bool run_escaped(const char*& p, const char* pe) noexcept {
    const char* s = p;
    for (;;) {
        run<F>(p, pe);
        if (p < pe && *p == '%') {
            if (pe - p < 3 || !is(p[1], kXdigit) || !is(p[2], kXdigit)) return false;
            p += 3;
        } else {
            return p != s;
        }
    }
}

// common.rl host without IPv6reference, hostname / IPv4address, from p: its end, or nullptr
// when the octets there form neither. One pass over the labels:
//   IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT
//   hostname = *(domainlabel ".") toplabel ["."]
//   domainlabel = alphanum *(alphanum / "-"); toplabel = ALPHA *(alphanum / "-")
inline bool is_digit(char c) noexcept { return static_cast<unsigned char>(c - '0') < 10; }

const char* scan_host_labels(const char* p, const char* pe) noexcept;

// The end of the IPv4 address at p, 16 readable octets (the longest address and the octet
// after it), when the host octets end right after it; else nullptr.
#if defined(__SSE2__) && !defined(SIPCORE_SCALAR_SCAN)
// SSE2: the digits and the dots of the 16 octets as bitmaps, and the address's shape (four
// groups of one to three digits, three single dots) checked on the bits rather than octet
// by octet.
[[gnu::always_inline]] inline const char* ipv4_at16(const char* p) noexcept {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i from0 = _mm_sub_epi8(x, _mm_set1_epi8('0'));  // a digit: 0..9 unsigned
    const auto digits = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(
        _mm_subs_epu8(from0, _mm_set1_epi8(9)), _mm_setzero_si128())));
    const auto dots =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('.'))));
    const unsigned other = ~(digits | dots) & 0xffffu;
    if (!other) return nullptr;  // 16 digits and dots: no address is that long
    const auto len = static_cast<unsigned>(__builtin_ctz(other));
    const unsigned d = digits & ((1u << len) - 1), s = dots & ((1u << len) - 1);
    const unsigned s1 = s & (s - 1), s2 = s1 & (s1 - 1);  // s without its lowest 1, 2 dots
    if (!s || !s1 || !s2 || (s2 & (s2 - 1))) return nullptr;  // not three dots exactly
    if (!(d & 1) || !((d >> (len - 1)) & 1)) return nullptr;  // a dot first or last
    if (s & (s >> 1)) return nullptr;                          // ".."
    if (d & (d >> 1) & (d >> 2) & (d >> 3)) return nullptr;    // four digits in a row
    if (is(p[len], kLabel)) return nullptr;                    // a hostname after all
    return p + len;
}
#else
[[gnu::always_inline]] inline const char* ipv4_at16(const char* p) noexcept {
    const char* q = p;
    for (int part = 0;; ++part) {
        if (!is_digit(q[0])) return nullptr;
        q += is_digit(q[1]) ? (is_digit(q[2]) ? 3 : 2) : 1;
        if (part == 3) return is(*q, kLabel) || *q == '.' || is_digit(*q) ? nullptr : q;
        if (*q != '.') return nullptr;
        ++q;
    }
}
#endif

const char* scan_host_short(const char* p, const char* pe) noexcept;

// Most hosts are IPv4 addresses: read one straight, and take it when the host octets end
// right after it; anything else goes through the labels. With 16 octets left (the longest
// address and the octet after it) no bound needs checking. Inline: the callers keep their
// registers for the common case.
[[gnu::always_inline]] inline const char* scan_host(const char* p, const char* pe) noexcept {
    if (pe - p >= 16) {
        if (const char* q = ipv4_at16(p)) return q;
        return scan_host_labels(p, pe);
    }
    return scan_host_short(p, pe);
}

// scan_host() with fewer than 16 octets left.
const char* scan_host_short(const char* p, const char* pe) noexcept {
    const char* q = p;
    for (int part = 0;; ++part) {
        const char* d = q;
        while (q < pe && q - d < 3 && is_digit(*q)) ++q;
        if (q == d) break;
        if (part == 3) {
            if (q == pe || !(is(*q, kLabel) || *q == '.')) return q;
            break;
        }
        if (q == pe || *q != '.') break;
        ++q;
    }
    return scan_host_labels(p, pe);
}

const char* scan_host_labels(const char* p, const char* pe) noexcept {
    const char* label = p;
    const char* last = nullptr;  // the last label's first octet
    unsigned labels = 0;
    bool ipv4 = true;  // every label so far is 1*3DIGIT
    for (;;) {
        const char* q = label;
        std::uint8_t all = kDigit;  // the classes every octet of the label has in common
        for (; q < pe; ++q) {
            const std::uint8_t c = kCls[static_cast<unsigned char>(*q)];
            if (!(c & kLabel)) break;
            all &= c;
        }
        const bool digits = all != 0;
        if (q == label) {
            // no label: after a final '.' the hostname has ended; elsewhere (nothing at all,
            // "..") nothing matches
            if (labels == 0 || (q < pe && *q == '.')) return nullptr;
            return is(*last, kAlpha) ? q : nullptr;
        }
        if (*label == '-') return nullptr;
        ipv4 = ipv4 && digits && q - label <= 3;
        last = label;
        ++labels;
        if (q < pe && *q == '.') {
            label = q + 1;
            continue;
        }
        if (ipv4 && labels == 4) return q;
        return is(*last, kAlpha) ? q : nullptr;
    }
}

// common.rl IPv4address over exactly [s, e).
inline bool is_ipv4(const char* s, const char* e) noexcept {
    for (int part = 0; part < 4; ++part) {
        const char* d = s;
        while (s < e && is(*s, kDigit)) ++s;
        if (s == d || s - d > 3) return false;
        if (part < 3) {
            if (s == e || *s != '.') return false;
            ++s;
        }
    }
    return s == e;
}

// A lower-case word of letters (at most 8) as the word iequal_lit() compares with.
template <std::size_t N>
struct Lit {
    static constexpr std::size_t len = N - 1;
    static_assert(len >= 1 && len <= 8);
    char lower[8] = {};
    char fold[8] = {};  // 0x20 for each letter: a case-insensitive compare of letters
    constexpr Lit(const char (&s)[N]) {
        for (std::size_t i = 0; i < len; ++i) {
            lower[i] = s[i];
            fold[i] = 0x20;
        }
    }
};

template <class T>
inline std::uint64_t load(const char* s) noexcept {
    T w;
    std::memcpy(&w, s, sizeof w);
    return w;
}

// The `len` octets at s (1..8) as one little-endian word, zero-extended: two loads of a
// power-of-two size that overlap when len is not one (the overlapping octets are the same
// either way), so no octet past s[len - 1] is read and no copy goes through the stack.
template <std::size_t len>
inline std::uint64_t load_word(const char* s) noexcept {
    static_assert(std::endian::native == std::endian::little);
    if constexpr (len == 8)
        return load<std::uint64_t>(s);
    else if constexpr (len >= 4)
        return load<std::uint32_t>(s) | load<std::uint32_t>(s + len - 4) << 8 * (len - 4);
    else if constexpr (len >= 2)
        return load<std::uint16_t>(s) | load<std::uint16_t>(s + len - 2) << 8 * (len - 2);
    else
        return static_cast<unsigned char>(*s);
}

// s[0..n) is the word L in any case. The n octets are loaded as one word and compared with
// a constant: one compare, not one a letter.
template <Lit L>
inline bool iequal_lit(const char* s, std::size_t n) noexcept {
    constexpr std::size_t len = decltype(L)::len;
    constexpr std::uint64_t want = std::bit_cast<std::uint64_t>(L.lower);
    constexpr std::uint64_t fold = std::bit_cast<std::uint64_t>(L.fold);
    if (n != len) return false;
    return (load_word<len>(s) | fold) == want;
}

inline bool all_digits(const char* s, const char* e) noexcept {
    if (s == e) return false;
    for (; s < e; ++s)
        if (!is(*s, kDigit)) return false;
    return true;
}

// The list after an element ends at `p` (end of input or ','): what next_via/next_name_addr
// leave in `list`. False when a ',' is followed by nothing (the machines' error).
inline bool rest_after(const char* p, const char* pe, std::string_view& rest) noexcept {
    if (p == pe) {
        rest = {};
        return true;
    }
    if (*p != ',') return false;
    const char* next = p + 1;
    while (next < pe && is_lws(*next)) ++next;
    if (next == pe) return false;
    rest = {next, static_cast<std::size_t>(pe - next)};
    return true;
}

// common.rl quoted-string from the '"' at p, p left after the closing '"'. Handled: qdtext
// without folding (WSP, 0x21, 0x23-0x5b, 0x5d-0x7e, octets >= 0x80); a quoted-pair or a CR
// or LF is the machine's.
inline bool quoted(const char*& p, const char* pe) noexcept {
    const char* q = p + 1;
    // four octets a test while four are left, as run() does
    auto stop = [](const char* c) { return kQuotedStop[static_cast<unsigned char>(*c)]; };
    while (pe - q >= 4 && !(stop(q) | stop(q + 1) | stop(q + 2) | stop(q + 3))) q += 4;
    while (q < pe && !stop(q)) ++q;
    if (q == pe || *q != '"') return false;
    p = q + 1;
    return true;
}

inline std::string_view sv(const char* b, const char* e) noexcept {
    return {b, static_cast<std::size_t>(e - b)};
}


}  // namespace

const char* sip_uri_scan(const char* p, const char* pe, bool port_16bit,
                         SipUriMarks& m) noexcept {
    m.at = m.pw_colon = nullptr;
    // userinfo: present exactly when the URI has an '@' (no other part may hold one). No
    // search for it: the user run stops at the first octet outside user, so a run to '@'
    // is the userinfo, and a run to anything else means the octets are the host's. Should
    // an '@' come later all the same, no host or parameter run passes it (no class holds
    // '@') and the URI is left to the machine, as a userinfo that is not plain would be.
    const char* u = p;
    if (!run_escaped<kUser>(u, pe)) return nullptr;
    const char* colon = nullptr;  // no user octet is a ':', so this is the first
    if (u < pe && *u == ':') {  // a password, or the host's port
        colon = u;
        const char* w = u + 1;
        if (w < pe && !run_escaped<kPass>(w, pe)) return nullptr;
        u = w;
    }
    if (u < pe && *u == '@') {
        m.at = u;
        m.pw_colon = colon;
        p = u + 1;
    }
    p = scan_host(p, pe);
    if (!p) return nullptr;
    m.host_end = p;
    if (p < pe && *p == ':') {
        const char* s = ++p;
        if (!run<kDigit>(p, pe)) return nullptr;
        if (port_16bit) {
            // name_addr.rl port_16bit: *"0" (1..65535 / "0")
            while (s < p - 1 && *s == '0') ++s;
            std::uint32_t port;
            if (!parse_decimal(sv(s, p), 65535, port)) return nullptr;
        }
    }
    m.hp_end = p;
    while (p < pe && *p == ';') {
        ++p;
        if (!run_escaped<kParam>(p, pe)) return nullptr;
        if (p < pe && *p == '=') {
            ++p;
            if (!run_escaped<kParam>(p, pe)) return nullptr;
        }
    }
    return p;  // URI headers ('?') and anything else: the caller's octet, or the machine's
}

bool sip_uri_body(const char* p, const char* pe, bool port_16bit, SipUriMarks& m) noexcept {
    return sip_uri_scan(p, pe, port_16bit, m) == pe;
}

// via.rl: token SLASH token SLASH token LWS sent-by *(SEMI via-param), then SWS and an
// optional ','. Handled: no LWS but the one before sent-by (SP/HTAB only), a hostname or
// IPv4 sent-by, parameters whose values are tokens.
bool next_via_fast(std::string_view& list, Via& v) noexcept {
    const char* p = list.data();
    const char* const pe = p + list.size();
    const char* s = p;
    std::string_view protocol, version;
    if (pe - p >= 8 && iequal_lit<"sip">(p, 3) && std::memcmp(p + 3, "/2.0/", 5) == 0) {
        protocol = sv(p, p + 3);  // what the two token runs below would give
        version = sv(p + 4, p + 7);
        p += 8;
    } else {
        if (!run<kTok>(p, pe) || p == pe || *p != '/') return false;
        protocol = sv(s, p);
        s = ++p;
        if (!run<kTok>(p, pe) || p == pe || *p != '/') return false;
        version = sv(s, p);
        ++p;
    }
    s = p;
    if (!run<kTok>(p, pe) || p == pe || !is_wsp(*p)) return false;
    const std::string_view transport = sv(s, p);
    while (p < pe && is_wsp(*p)) ++p;
    s = p;
    p = scan_host(p, pe);
    if (!p) return false;
    const std::string_view host = sv(s, p);
    std::uint32_t port = 0;
    bool has_port = false;
    if (p < pe && *p == ':') {
        s = ++p;
        if (!run<kDigit>(p, pe) || !parse_decimal(sv(s, p), 65535, port)) return false;
        has_port = true;
    }
    const char* const params_s = p;
    std::string_view branch, received, maddr;
    bool has_rport = false;
    std::uint32_t rport = 0, ttl = 0;
    bool has_rport_value = false, has_ttl = false;
    unsigned seen = 0;  // named parameters met: a repeated one is left to the machine
    while (p < pe && *p == ';') {
        const char* n = ++p;
        if (!run<kTok>(p, pe)) return false;
        const std::size_t nlen = static_cast<std::size_t>(p - n);
        const char *vs = nullptr, *ve = nullptr;
        if (p < pe && *p == '=') {
            vs = ++p;
            if (!run<kTok>(p, pe)) return false;  // a quoted or IPv6 value: the machine's
            ve = p;
        }
        unsigned bit = 0;
        if (iequal_lit<"branch">(n, nlen)) {
            bit = 1;
            if (vs) branch = sv(vs, ve);
        } else if (iequal_lit<"received">(n, nlen)) {
            bit = 2;
            if (vs) {
                if (!is_ipv4(vs, ve)) return false;
                received = sv(vs, ve);
            }
        } else if (iequal_lit<"maddr">(n, nlen)) {
            bit = 4;
            if (vs) {
                if (scan_host(vs, ve) != ve) return false;
                maddr = sv(vs, ve);
            }
        } else if (iequal_lit<"ttl">(n, nlen)) {
            bit = 8;
            if (vs) {
                if (ve - vs > 3 || !all_digits(vs, ve) || !parse_decimal(sv(vs, ve), 255, ttl))
                    return false;
                has_ttl = true;
            }
        } else if (iequal_lit<"rport">(n, nlen)) {
            bit = 16;
            has_rport = true;
            if (vs) {
                if (!all_digits(vs, ve) || !parse_decimal(sv(vs, ve), 65535, rport)) return false;
                has_rport_value = true;
            }
        }
        if (seen & bit) return false;
        seen |= bit;
    }
    const char* const params_e = p;
    std::string_view rest;
    if (!rest_after(p, pe, rest)) return false;

    list = rest;
    v.protocol = protocol;
    v.version = version;
    v.transport = transport;
    v.host = host;
    v.ipv6 = false;
    v.port = static_cast<std::uint16_t>(port);
    v.has_port = has_port;
    v.params = sv(params_s, params_e);
    v.branch = branch;
    v.received = received;
    v.maddr = maddr;
    v.has_rport = has_rport;
    if (has_rport_value) v.rport = static_cast<std::uint16_t>(rport);
    if (has_ttl) v.ttl = static_cast<std::uint8_t>(ttl);
    return true;
}

// name_addr.rl: [display-name SWS] "<" SIP-URI / SIPS-URI ">" *(SEMI param), then SWS and
// an optional ','. Handled: a display name without quoted-pair or folding (a quoted string, or
// tokens separated by spaces and tabs, as SIPp's "sipp <sip:...>"), a sip/sips URI with a
// hostname or IPv4 host and no headers, parameters whose values are tokens.
bool next_name_addr_fast(std::string_view& list, NameAddr& na) noexcept {
    const char* p = list.data();
    const char* const pe = p + list.size();
    const char *ds = nullptr, *de = nullptr;  // the display name, without its quotes
    bool quoted_display = false;
    if (p < pe && *p != '<') {  // most values have no display name: one test for them
        if (*p == '"') {
            ds = p + 1;
            if (!quoted(p, pe)) return false;
            de = p - 1;
            quoted_display = true;
            while (p < pe && is_wsp(*p)) ++p;
        } else {
            // display_tokens = token (LWS token)*: it ends after its last token. A URI in
            // addr-spec form ("sip:a@h") stops at its ':' and is left to the machine.
            if (!is(*p, kTok)) return false;
            ds = p;
            for (;;) {
                run<kTok>(p, pe);
                de = p;
                while (p < pe && is_wsp(*p)) ++p;
                if (p == pe || !is(*p, kTok)) break;
            }
        }
    }
    if (p == pe || *p != '<') return false;
    const char* const la = p++;
    // "sip:" or "sips:", any case
    if (pe - p < 4 || !iequal_lit<"sip">(p, 3)) return false;
    p += 3;
    if (*p == 's' || *p == 'S') ++p;
    if (p == pe || *p != ':') return false;
    ++p;
    // The URI ends at the first '>': no class of it holds one, so the scan stops there, and
    // at nothing else if the URI is plain.
    SipUriMarks marks;
    const char* const ra = sip_uri_scan(p, pe, true, marks);
    if (!ra || ra == pe || *ra != '>') return false;
    p = ra + 1;

    const char* const params_s = p;
    std::string_view tag;
    std::uint32_t expires = 0;
    unsigned q = 0;
    bool has_expires = false, has_q = false;
    unsigned seen = 0;
    while (p < pe && *p == ';') {
        const char* n = ++p;
        if (!run<kTok>(p, pe)) return false;
        const std::size_t nlen = static_cast<std::size_t>(p - n);
        const char *vs = nullptr, *ve = nullptr;
        bool quoted_value = false;
        if (p < pe && *p == '=') {
            vs = ++p;
            if (p < pe && *p == '"') {
                // gen-value = token / host / quoted-string (RFC 3261 §25.1 generic-param)
                if (!quoted(p, pe)) return false;
                quoted_value = true;
            } else if (!run<kTok>(p, pe)) {
                return false;
            }
            ve = p;
        }
        unsigned bit = 0;
        if (quoted_value) {
            // tag, expires and q take no quoted value: their error is the machine's
            if (iequal_lit<"tag">(n, nlen) || iequal_lit<"expires">(n, nlen) ||
                iequal_lit<"q">(n, nlen))
                return false;
        } else if (iequal_lit<"tag">(n, nlen)) {
            bit = 1;
            if (vs) tag = sv(vs, ve);
        } else if (iequal_lit<"expires">(n, nlen)) {
            bit = 2;
            if (vs) {
                if (!all_digits(vs, ve) || !parse_decimal(sv(vs, ve), UINT32_MAX, expires))
                    return false;
                has_expires = true;
            }
        } else if (iequal_lit<"q">(n, nlen)) {
            bit = 4;
            if (vs) {
                // qvalue = "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")], in thousandths
                const std::size_t len = static_cast<std::size_t>(ve - vs);
                if ((*vs != '0' && *vs != '1') || len > 5) return false;
                if (len >= 2 && vs[1] != '.') return false;
                q = *vs == '1' ? 1000 : 0;
                unsigned scale = 100;
                for (const char* d = vs + 2; d < ve; ++d, scale /= 10) {
                    if (!is(*d, kDigit) || (*vs == '1' && *d != '0')) return false;
                    q += static_cast<unsigned>(*d - '0') * scale;
                }
                has_q = true;
            }
        }
        if (seen & bit) return false;
        seen |= bit;
    }
    const char* const params_e = p;
    std::string_view rest;
    if (!rest_after(p, pe, rest)) return false;

    list = rest;
    na.bracketed = true;
    na.uri = sv(la + 1, ra);
    if (ds) {
        na.quoted_display = quoted_display;
        na.display_name = sv(ds, de);
    }
    na.params = sv(params_s, params_e);
    na.tag = tag;
    if (has_expires) na.expires = expires;
    if (has_q) na.q = static_cast<std::uint16_t>(q);
    return true;
}

}  // namespace sip::detail

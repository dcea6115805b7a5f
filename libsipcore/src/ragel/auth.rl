// RFC 3261 §25.1 / RFC 7616 §3.3-3.4 / RFC 2617 §3.2 credentials and challenges:
//   credentials = ("Digest" LWS digest-response) / other-response
//   challenge   = ("Digest" LWS digest-cln *(COMMA digest-cln)) / other-challenge
//   other-*     = auth-scheme LWS auth-param *(COMMA auth-param)
//   auth-param  = auth-param-name EQUAL ( token / quoted-string )
// Other schemes may instead carry an RFC 7235 §2.1 token68 ("Basic QWxhZGRpbjpvcGVu").
// The machine validates the shape; for Digest the named parameters are then taken from the
// validated text. Lenient where peers disagree with the ABNF: any Digest parameter may be a
// token or a quoted-string (algorithm="MD5", realm=example.com), the algorithm is any token
// (MD5, MD5-sess, SHA-256, SHA-256-sess, SHA-512-256, SHA-512-256-sess, ...), response is not
// checked for hex. Strict where the value must be interpreted: nc is exactly 8 LHEX
// (RFC 7616 §3.4), stale and userhash are "true"/"false" in any case, and a stored Digest
// parameter given twice is refused; each is Errc::bad_param at the parameter's name.
// Grammar faults are Errc::bad_header_value at the offending octet.
#include <array>
#include <cstdint>

#include "parse_util.hpp"
#include "sip/headers.hpp"

namespace sip {
namespace {

%%{
machine auth;
alphtype unsigned char;
include common "common.rl";

action s_s { s_s = p; }
action s_e { s_e = p; }
action ps { params_s = p; }

auth_param = token EQUAL (token | quoted_string);
auth_params = auth_param (COMMA auth_param)*;
token68 = (alnum | [\-._~+/])+ '='*;

digest := SWS 'Digest'i >s_s %s_e LWS auth_params >ps SWS;
other := SWS token >s_s %s_e LWS (token68 | auth_params) >ps SWS;

write data noerror;
}%%

bool is_token_char(char ch) noexcept {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '-':
        case '.':
        case '!':
        case '%':
        case '*':
        case '_':
        case '+':
        case '`':
        case '\'':
        case '~':
            return true;
        default:
            return false;
    }
}

struct Scanned {
    std::string_view scheme;
    std::string_view params;  // from the first parameter octet, trailing LWS removed
    bool digest = false;
};

Result<Scanned> scan(std::string_view value) noexcept {
    // The scheme picks the entry point: Digest takes auth-params only, others a token68 too.
    std::size_t b = 0;
    while (b < value.size() && detail::is_lws(value[b]))
        ++b;
    std::size_t e = b;
    while (e < value.size() && is_token_char(value[e]))
        ++e;
    const bool digest = iequals(value.substr(b, e - b), "Digest");

    const auto* base = reinterpret_cast<const unsigned char*>(value.data());
    const unsigned char* p = base;
    const unsigned char* pe = base + value.size();
    const unsigned char *s_s = nullptr, *s_e = nullptr, *params_s = nullptr;
    int cs = digest ? auth_en_digest : auth_en_other;
    %% write exec;
    if (cs < auth_first_final || p != pe) {
        return unexpected(Errc::bad_header_value, static_cast<std::uint32_t>(p - base));
    }
    Scanned s;
    s.scheme = detail::span(base, s_s, s_e);
    // a token, token68 or quoted-string ends the text, and none of them ends in LWS
    s.params = detail::trim_lws(detail::span(base, params_s, pe));
    s.digest = digest;
    return s;
}

struct AuthParam {
    std::string_view name;
    std::string_view value;  // quoted-string without its quotes
    bool quoted = false;
};

// Walks an auth-param list the machine already validated: name EQUAL value, COMMA-separated.
bool next_auth_param(std::string_view& s, AuthParam& out) noexcept {
    auto skip = [&s](bool comma) {
        std::size_t i = 0;
        while (i < s.size() && (detail::is_lws(s[i]) || (comma && s[i] == ',')))
            ++i;
        s.remove_prefix(i);
    };
    skip(true);
    if (s.empty()) return false;
    out = AuthParam{};
    std::size_t n = 0;
    while (n < s.size() && is_token_char(s[n]))
        ++n;
    out.name = s.substr(0, n);
    s.remove_prefix(n);
    skip(false);
    s.remove_prefix(1);  // '='
    skip(false);
    if (!s.empty() && s[0] == '"') {
        std::size_t i = 1;
        while (i < s.size() && s[i] != '"')
            i += (s[i] == '\\') ? 2 : 1;
        out.quoted = true;
        out.value = s.substr(1, i - 1);
        s.remove_prefix(i + 1);
    } else {
        std::size_t v = 0;
        while (v < s.size() && is_token_char(s[v]))
            ++v;
        out.value = s.substr(0, v);
        s.remove_prefix(v);
    }
    return true;
}

// The Digest parameters Credentials and Challenge store; the bit of each catches duplicates.
enum DigestParam : unsigned {
    Username,
    Realm,
    Nonce,
    DigestUri,
    Response,
    Algorithm,
    Cnonce,
    Opaque,
    Qop,
    Nc,
    Userhash,
    Domain,
    Stale,
    Unknown,
};
constexpr std::array<std::string_view, Unknown> kDigestNames = {
    "username", "realm", "nonce", "uri",      "response", "algorithm", "cnonce",
    "opaque",   "qop",   "nc",    "userhash", "domain",   "stale",
};

DigestParam digest_param(std::string_view name) noexcept {
    for (unsigned i = 0; i < kDigestNames.size(); ++i) {
        if (iequals(name, kDigestNames[i])) return static_cast<DigestParam>(i);
    }
    return Unknown;
}

constexpr unsigned bit(DigestParam d) noexcept {
    return 1u << d;
}

// RFC 7616 §3.3/§3.4: stale and userhash are ( "true" / "false" ), case-insensitive.
bool parse_flag(std::string_view v, bool& out) noexcept {
    if (iequals(v, "true"))
        out = true;
    else if (iequals(v, "false"))
        out = false;
    else
        return false;
    return true;
}

// nc-value = 8LHEX (RFC 7616 §3.4, RFC 3261 §25.1: LHEX = DIGIT / %x61-66).
bool is_nc(std::string_view v) noexcept {
    if (v.size() != 8) return false;
    for (char c : v) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

// Calls set(id, param) for each parameter whose id is in `stored`, refusing duplicates of
// those; set() returns false when the value is unusable. Offsets are relative to `value`.
template <class Set>
Result<bool> walk_digest(std::string_view value, std::string_view params, unsigned stored,
                         Set&& set) noexcept {
    unsigned seen = 0;
    AuthParam prm;
    while (next_auth_param(params, prm)) {
        const DigestParam id = digest_param(prm.name);
        if (id == Unknown || !(stored & bit(id))) continue;
        const auto at = static_cast<std::uint32_t>(prm.name.data() - value.data());
        if ((seen & bit(id)) || !set(id, prm)) return unexpected(Errc::bad_param, at);
        seen |= bit(id);
    }
    return true;
}

}  // namespace

Result<Credentials> parse_credentials(std::string_view value) noexcept {
    auto s = scan(value);
    if (!s) return unexpected(s.error());
    Credentials c;
    c.scheme = s->scheme;
    c.params = s->params;
    if (!s->digest) return c;
    const unsigned stored = bit(Username) | bit(Realm) | bit(Nonce) | bit(DigestUri) |
                            bit(Response) | bit(Algorithm) | bit(Cnonce) | bit(Opaque) | bit(Qop) |
                            bit(Nc) | bit(Userhash);
    auto r = walk_digest(value, c.params, stored, [&c](DigestParam id, const AuthParam& prm) {
        switch (id) {
            case Username:
                c.username = prm.value;
                break;
            case Realm:
                c.realm = prm.value;
                break;
            case Nonce:
                c.nonce = prm.value;
                break;
            case DigestUri:
                c.uri = prm.value;
                break;
            case Response:
                c.response = prm.value;
                break;
            case Algorithm:
                c.algorithm = prm.value;
                break;
            case Cnonce:
                c.cnonce = prm.value;
                break;
            case Opaque:
                c.opaque = prm.value;
                break;
            case Qop:
                c.qop = prm.value;
                break;
            case Nc:
                if (!is_nc(prm.value)) return false;
                c.nc = prm.value;
                break;
            case Userhash:
                return parse_flag(prm.value, c.userhash);
            default:
                break;
        }
        return true;
    });
    if (!r) return unexpected(r.error());
    return c;
}

Result<Challenge> parse_challenge(std::string_view value) noexcept {
    auto s = scan(value);
    if (!s) return unexpected(s.error());
    Challenge ch;
    ch.scheme = s->scheme;
    ch.params = s->params;
    if (!s->digest) return ch;
    const unsigned stored = bit(Realm) | bit(Domain) | bit(Nonce) | bit(Opaque) | bit(Algorithm) |
                            bit(Qop) | bit(Stale) | bit(Userhash);
    auto r = walk_digest(value, ch.params, stored, [&ch](DigestParam id, const AuthParam& prm) {
        switch (id) {
            case Realm:
                ch.realm = prm.value;
                break;
            case Domain:
                ch.domain = prm.value;
                break;
            case Nonce:
                ch.nonce = prm.value;
                break;
            case Opaque:
                ch.opaque = prm.value;
                break;
            case Algorithm:
                ch.algorithm = prm.value;
                break;
            case Qop:  // qop-options: the raw list, unquoted
                ch.qop = prm.value;
                break;
            case Stale:
                return parse_flag(prm.value, ch.stale);
            case Userhash:
                return parse_flag(prm.value, ch.userhash);
            default:
                break;
        }
        return true;
    });
    if (!r) return unexpected(r.error());
    return ch;
}

}  // namespace sip

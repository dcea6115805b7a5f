// RFC 3261 §19.1 / §25.1 SIP and SIPS URIs, RFC 3966 tel URIs, RFC 2396 absoluteURI.
// The machine only validates and records three marks ('@', end of hostport, '?'); the
// spans are cut in C++ afterwards, which keeps the DFA free of ambiguous actions.
#include <cstring>

#include "fast_path.hpp"
#include "parse_util.hpp"
#include "sip/headers.hpp"

namespace sip {
namespace {

%%{
machine uri;
alphtype unsigned char;
include common "common.rl";

action at { at = p; }
action hp_end { hp_end = p; }
action qmark { qmark = p; }

user_unreserved = [&=+$,;?/];
user = (unreserved | escaped | user_unreserved)+;
password = (unreserved | escaped | [&=+$,])*;
userinfo = user (':' password)? '@' @at;
hostport = host (':' port)?;

param_unreserved = [\[\]/:&+$];
paramchar = param_unreserved | unreserved | escaped;
uri_parameter = paramchar+ ('=' paramchar+)?;
uri_parameters = (';' uri_parameter)*;

hnv_unreserved = [\[\]/?:+$];
hname = (hnv_unreserved | unreserved | escaped)+;
hvalue = (hnv_unreserved | unreserved | escaped)*;
uri_header = hname '=' hvalue;
uri_headers = '?' @qmark uri_header ('&' uri_header)*;

sip_user := userinfo hostport %hp_end uri_parameters uri_headers?;
sip_nouser := hostport %hp_end uri_parameters uri_headers?;

# RFC 3966 §3: telephone-subscriber, lenient on visual separators; parameters after ';'.
phonedigit = digit | xdigit | [*#\-.()] | '+';  # same as name_addr.rl
tel := phonedigit+ %hp_end uri_parameters;

# RFC 2396 absoluteURI: opaque or hierarchical part. '[' ']' allowed for IPv6 hosts.
uric = reserved | unreserved | escaped | [\[\]];
other := uric*;

write data noerror;
}%%

bool scheme_char(char c, bool first) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    if (first) return false;
    return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

// Sip or Sips when [p, end) starts with "sip:" or "sips:" in any case, else Other.
Uri::Scheme sip_scheme(const unsigned char* p, const unsigned char* end) noexcept {
    if (end - p < 4 || (p[0] | 0x20) != 's' || (p[1] | 0x20) != 'i' || (p[2] | 0x20) != 'p')
        return Uri::Scheme::Other;
    if (p[3] == ':') return Uri::Scheme::Sip;
    return end - p >= 5 && (p[3] | 0x20) == 's' && p[4] == ':' ? Uri::Scheme::Sips
                                                               : Uri::Scheme::Other;
}

}  // namespace

Result<Uri> parse_uri(std::string_view text) noexcept {
    return detail::parse_uri_impl(text, true);
}

namespace {

// The parts of a plain SIP-URI (`hp`: after "sip:"), as the code after the machine in
// parse_uri_impl() derives them from its marks, without searching for the userinfo's and the
// port's ':' again: the scan met them. False with `bad_at` set when the port is over 65535.
bool plain_sip_parts(Uri& u, std::string_view text, const char* hp,
                     const detail::SipUriMarks& m, std::uint32_t& bad_at) noexcept {
    auto sv = [](const char* b, const char* e) {
        return std::string_view(b, static_cast<std::size_t>(e - b));
    };
    if (m.at) {
        u.user = sv(hp, m.pw_colon ? m.pw_colon : m.at);
        if (m.pw_colon) u.password = sv(m.pw_colon + 1, m.at);
        hp = m.at + 1;
    }
    u.host = sv(hp, m.host_end);
    if (m.host_end != m.hp_end) {
        std::uint32_t port;
        if (!detail::parse_decimal(sv(m.host_end + 1, m.hp_end), 65535, port)) {
            bad_at = static_cast<std::uint32_t>(m.host_end + 1 - text.data());
            return false;
        }
        u.port = static_cast<std::uint16_t>(port);
        u.has_port = true;
    }
    u.params = sv(m.hp_end, text.data() + text.size());
    return true;
}

}  // namespace

bool detail::plain_sip_uri(std::string_view text, Uri& u) noexcept {
    const auto* base = reinterpret_cast<const unsigned char*>(text.data());
    const Uri::Scheme sip = sip_scheme(base, base + text.size());
    if (sip == Uri::Scheme::Other) return false;
    const std::size_t colon = sip == Uri::Scheme::Sip ? 3 : 4;
    const char* const hp = text.data() + colon + 1;
    detail::SipUriMarks fm;
    if (!detail::sip_uri_body(hp, text.data() + text.size(), false, fm)) return false;
    u.raw = text;
    u.scheme = sip;
    u.scheme_name = text.substr(0, colon);
    std::uint32_t bad_at;
    return plain_sip_parts(u, text, hp, fm, bad_at);
}

Result<Uri> detail::parse_uri_impl(std::string_view text, bool fast) noexcept {
    Uri u;
    u.raw = text;
    const auto* base = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = base + text.size();
    const unsigned char* colon;
    if (const Uri::Scheme sip = sip_scheme(base, end); sip != Uri::Scheme::Other) {
        // "sip:" or "sips:" (nearly every URI): no search for the ':', no general checks
        colon = base + (sip == Uri::Scheme::Sip ? 3 : 4);
        u.scheme = sip;
    } else {
        const void* c = text.empty() ? nullptr : std::memchr(base, ':', text.size());
        if (!c || c == base) return unexpected(Errc::bad_uri, 0);
        colon = static_cast<const unsigned char*>(c);
        const std::string_view name = detail::span(base, base, colon);
        for (std::size_t i = 0; i < name.size(); ++i) {
            if (!scheme_char(name[i], i == 0))
                return unexpected(Errc::bad_uri, static_cast<std::uint32_t>(i));
        }
        if (iequals(name, "sip")) u.scheme = Uri::Scheme::Sip;
        else if (iequals(name, "sips")) u.scheme = Uri::Scheme::Sips;
        else if (iequals(name, "tel")) u.scheme = Uri::Scheme::Tel;
        else u.scheme = Uri::Scheme::Other;
    }
    u.scheme_name = detail::span(base, base, colon);

    const unsigned char* p = colon + 1;
    const unsigned char* pe = end;
    const unsigned char* eof = end;
    const unsigned char* at = nullptr;
    const unsigned char* hp_end = nullptr;
    const unsigned char* qmark = nullptr;
    detail::SipUriMarks fm;
    if (fast && u.is_sip() &&
        detail::sip_uri_body(reinterpret_cast<const char*>(p), reinterpret_cast<const char*>(pe),
                             false, fm)) {
        // a plain SIP URI (fast_path.hpp): the parts straight from its marks
        std::uint32_t bad_at;
        if (!plain_sip_parts(u, text, reinterpret_cast<const char*>(p), fm, bad_at))
            return unexpected(Errc::bad_uri, bad_at);
        return u;
    } else {
        int cs;
        switch (u.scheme) {
            case Uri::Scheme::Sip:
            case Uri::Scheme::Sips:
                // '@' cannot appear unescaped after the userinfo (no '@' in paramchar or
                // hvalue), so its presence picks the entry point.
                cs = std::memchr(p, '@', static_cast<std::size_t>(pe - p)) ? uri_en_sip_user
                                                                            : uri_en_sip_nouser;
                break;
            case Uri::Scheme::Tel: cs = uri_en_tel; break;
            default: cs = uri_en_other; break;
        }
        %% write exec;
        if (cs < uri_first_final || p != pe || (u.scheme != Uri::Scheme::Other && !hp_end)) {
            return unexpected(Errc::bad_uri, static_cast<std::uint32_t>(p - base));
        }
    }
    if (u.scheme == Uri::Scheme::Other) return u;
    if (u.scheme == Uri::Scheme::Tel) {
        u.user = detail::span(base, colon + 1, hp_end);
        u.params = detail::span(base, hp_end, end);
        return u;
    }
    const unsigned char* hp = colon + 1;
    if (at) {
        std::string_view userinfo = detail::span(base, colon + 1, at);
        std::size_t pw = userinfo.find(':');
        u.user = userinfo.substr(0, pw);
        if (pw != std::string_view::npos) u.password = userinfo.substr(pw + 1);
        hp = at + 1;
    }
    std::string_view hostport = detail::span(base, hp, hp_end);
    std::size_t port_colon;
    if (!hostport.empty() && hostport[0] == '[') {
        u.ipv6 = true;
        std::size_t rb = hostport.find(']');
        u.host = hostport.substr(0, rb + 1);
        port_colon = rb + 1 < hostport.size() ? rb + 1 : std::string_view::npos;
    } else {
        port_colon = hostport.find(':');
        u.host = hostport.substr(0, port_colon);
    }
    if (port_colon != std::string_view::npos) {
        std::uint32_t port;
        if (!detail::parse_decimal(hostport.substr(port_colon + 1), 65535, port)) {
            return unexpected(Errc::bad_uri,
                              static_cast<std::uint32_t>(hp - base + port_colon + 1));
        }
        u.port = static_cast<std::uint16_t>(port);
        u.has_port = true;
    }
    const unsigned char* params_end = qmark ? qmark : end;
    u.params = detail::span(base, hp_end, params_end);
    if (qmark) u.headers = detail::span(base, qmark + 1, end);
    return u;
}

}  // namespace sip

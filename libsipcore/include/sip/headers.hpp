// Typed, zero-copy views of SIP header values.
//
//   std::string_view list = msg.header_value(field);           // e.g. a Contact field
//   while (!list.empty()) {
//       sip::Result<sip::NameAddr> c = sip::next_name_addr(list);  // consumes one element
//       if (!c) return c.error();                                  // offset is into `list`
//       if (auto exp = c->expires) refresh(*exp);
//   }
//
//   sip::Result<sip::Uri> u = sip::parse_uri("sips:alice@[2001:db8::1]:5061;transport=tcp");
//   u->host == "[2001:db8::1]", u->port == 5061, u->param("transport") == "tcp"
//
// Every string_view in these structs points into the input given to the parse function and
// is valid as long as that input is (for a Message: as long as the Message lives). Quoted
// strings are returned without their quotes but with their escapes (RFC 3261 §25.1
// quoted-pair) intact; `unquote()` removes them when a copy is wanted. %HH escapes in URIs
// are never decoded in place (RFC 3261 §19.1.4: compare after unescaping; `unescape()`).
//
// Fallible parsers return Result; Error::offset is relative to the start of the value given.
// `next_*` functions parse the first element of a comma-separated list, advance the cursor
// past it and its comma, and fail on an empty element (RFC 3261 §7.3.1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/result.hpp"

namespace sip {

enum class Method : std::uint8_t {
    Unknown = 0,
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Prack,
    Subscribe,
    Notify,
    Publish,
    Info,
    Refer,
    Message,
    Update,
};
// Case-sensitive (RFC 3261 §7.1: methods are case-sensitive).
Method method_from(std::string_view token) noexcept;
std::string_view method_name(Method m) noexcept;

// Generic `;name[=value]` parameter list accessors. `params` is the raw text starting at
// the first ';' (or empty). Names compare case-insensitively; LWS around '=' and ';' is
// skipped. `param()` returns nullopt when absent and an empty view for a flag parameter.
std::optional<std::string_view> find_param(std::string_view params, std::string_view name) noexcept;

// RFC 3261 §19.1 SIP/SIPS URI, RFC 3966 tel URI, and any other absoluteURI (RFC 3986).
struct Uri {
    enum class Scheme : std::uint8_t { Sip, Sips, Tel, Other };
    Scheme scheme = Scheme::Other;
    std::string_view scheme_name;  // as written ("sip", "SIPS", "tel", "urn", ...)
    std::string_view user;         // userinfo user (SIP/SIPS) or telephone-subscriber (tel)
    std::string_view password;
    std::string_view host;         // IPv6 references keep their brackets
    std::uint16_t port = 0;        // 0: no port given
    bool has_port = false;
    bool ipv6 = false;
    std::string_view params;   // ";a=b;lr" (SIP/SIPS/tel) or empty
    std::string_view headers;  // "a=b&c=d" after '?', without the '?'
    std::string_view raw;      // the whole URI

    std::optional<std::string_view> param(std::string_view name) const noexcept {
        return find_param(params, name);
    }
    bool is_sip() const noexcept { return scheme == Scheme::Sip || scheme == Scheme::Sips; }
};
Result<Uri> parse_uri(std::string_view text) noexcept;

// RFC 3261 §20.42 Via (one via-parm).
struct Via {
    std::string_view protocol;   // "SIP"
    std::string_view version;    // "2.0"
    std::string_view transport;  // "UDP", "TCP", "TLS", "SCTP", "WS", or an extension token
    std::string_view host;       // sent-by host (IPv6 with brackets)
    std::uint16_t port = 0;
    bool has_port = false;
    bool ipv6 = false;
    std::string_view params;  // raw ";..." text
    std::string_view branch;  // empty when absent (RFC 2543 peer)
    std::string_view received;
    std::string_view maddr;
    bool has_rport = false;          // RFC 3581: present, with or without value
    std::optional<std::uint16_t> rport;
    std::optional<std::uint8_t> ttl;

    std::optional<std::string_view> param(std::string_view name) const noexcept {
        return find_param(params, name);
    }
};
Result<Via> next_via(std::string_view& list) noexcept;

// What a server writes into the top Via of its responses to a request (RFC 3261 §18.2.1,
// RFC 3581 §4), from the request's top Via and the transport source it came from.
struct ViaStamp {
    std::string_view received;  // "" when none is due; an IPv6 address without brackets
    std::uint16_t rport = 0;    // 0 when none is due
};
// rport = the source port when `top` has a bare rport; received = `source_host` when the
// sent-by host differs from it, or whenever rport is stamped (RFC 3581 §4: "even if it is
// identical to the value of the sent-by component"). `source_host` is an IP literal, IPv6
// without brackets (as sip::Target holds it); the view points into it.
ViaStamp via_stamp(const Via& top, std::string_view source_host,
                   std::uint16_t source_port) noexcept;

// RFC 3261 §20.10/§25.1 name-addr / addr-spec with header parameters, as used by From, To,
// Contact, Route, Record-Route, P-Asserted-Identity (RFC 3325), Path, Reply-To.
struct NameAddr {
    std::string_view display_name;  // without quotes; escapes kept; empty if none
    bool quoted_display = false;
    bool star = false;              // Contact: *  (RFC 3261 §10.2.2)
    bool bracketed = false;         // URI written in <>
    std::string_view uri;           // raw URI text; parse_uri() for its parts
    std::string_view params;        // header params, raw ";..." text
    std::string_view tag;           // From/To tag; empty if absent
    std::optional<std::uint32_t> expires;  // Contact expires param
    std::optional<std::uint16_t> q;        // Contact q in thousandths (q=0.5 -> 500)

    std::optional<std::string_view> param(std::string_view name) const noexcept {
        return find_param(params, name);
    }
};
// One element of a list (Contact, Route, Record-Route, P-Asserted-Identity, Path).
Result<NameAddr> next_name_addr(std::string_view& list) noexcept;
// A single-valued header (From, To): the whole value must be exactly one name-addr.
Result<NameAddr> parse_name_addr(std::string_view value) noexcept;

// RFC 3261 §20.16 CSeq.
struct CSeq {
    std::uint32_t number = 0;
    std::string_view method_name;
    Method method = Method::Unknown;
};
Result<CSeq> parse_cseq(std::string_view value) noexcept;

// RFC 3261 §20.8 Call-ID: word ["@" word].
Result<std::string_view> parse_call_id(std::string_view value) noexcept;

// 1*DIGIT with surrounding LWS, no larger than `max` (Max-Forwards: 255; Content-Length,
// Expires, Min-Expires, Min-SE: 2^32-1). Leading zeros are allowed (RFC 4475 §3.1.1.1).
Result<std::uint32_t> parse_uint(std::string_view value, std::uint32_t max) noexcept;
inline Result<std::uint32_t> parse_max_forwards(std::string_view v) noexcept {
    return parse_uint(v, 255);
}
inline Result<std::uint32_t> parse_expires(std::string_view v) noexcept {
    return parse_uint(v, UINT32_MAX);
}

// RFC 3261 §20.17 Date (rfc1123-date, GMT only) as seconds since the Unix epoch.
Result<std::int64_t> parse_date(std::string_view value) noexcept;

// Token lists: Allow, Supported, Require, Proxy-Require, Unsupported (RFC 3261 §20).
Result<std::string_view> next_token(std::string_view& list) noexcept;

// RFC 4028 §4 Session-Expires: delta-seconds *(;se-params), refresher=uac|uas.
struct SessionExpires {
    std::uint32_t delta = 0;
    std::string_view refresher;  // "uac", "uas" or empty
    std::string_view params;
};
Result<SessionExpires> parse_session_expires(std::string_view value) noexcept;
// RFC 4028 §5 Min-SE: delta-seconds *(;generic-param).
Result<std::uint32_t> parse_min_se(std::string_view value) noexcept;

// RFC 3323 §4.2 Privacy: priv-value *(";" priv-value). Returns the next value and advances.
Result<std::string_view> next_privacy(std::string_view& list) noexcept;

// RFC 3261 §22.4 / RFC 7616 credentials (Authorization, Proxy-Authorization).
struct Credentials {
    std::string_view scheme;  // "Digest" or another auth-scheme
    std::string_view username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop,
        nc;                   // quoted values without their quotes
    bool userhash = false;    // RFC 7616 §3.4.4
    std::string_view params;  // the raw parameter text after the scheme
};
Result<Credentials> parse_credentials(std::string_view value) noexcept;

// RFC 3261 §20.44 / RFC 7616 challenges (WWW-Authenticate, Proxy-Authenticate).
struct Challenge {
    std::string_view scheme;
    std::string_view realm, domain, nonce, opaque, algorithm, qop;  // qop: raw list "auth,auth-int"
    bool stale = false;
    bool userhash = false;
    std::string_view params;
};
Result<Challenge> parse_challenge(std::string_view value) noexcept;

// Copy helpers for the rare cases that need owned, decoded text.
std::string unquote(std::string_view quoted_content);  // removes quoted-pair backslashes
std::string unescape(std::string_view text);          // decodes %HH (RFC 3986 §2.1)

}  // namespace sip

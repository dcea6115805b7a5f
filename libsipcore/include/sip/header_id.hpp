// HeaderId — header names as a small enum, with compact forms folded in.
//
//   sip::HeaderId id = sip::header_id("v");          // HeaderId::Via (RFC 3261 §7.3.3)
//   sip::HeaderId x  = sip::header_id("X-Custom");   // HeaderId::Other
//   std::string_view n = sip::header_name(id);       // "Via"
//
// The lookup is case-insensitive (RFC 3261 §7.3.1): a perfect hash over the name's first
// word, length and last octet picks the one candidate, compared a word at a time
// (src/header_lookup.hpp; cheaper than the Ragel DFA it replaced, which stepped every octet).
// Any bytes may be given; a name that is not a known one is Other.
#pragma once

#include <cstdint>
#include <string_view>

namespace sip {

enum class HeaderId : std::uint8_t {
    None = 0,  // "no header": used in Error when the fault is not inside a header
    Other,     // an extension header; compare names with iequals()
    Accept,
    AcceptContact,  // a
    AcceptEncoding,
    AcceptLanguage,
    AlertInfo,
    Allow,
    AllowEvents,  // u
    AuthenticationInfo,
    Authorization,
    CallId,  // i
    CallInfo,
    Contact,  // m
    ContentDisposition,
    ContentEncoding,  // e
    ContentLanguage,
    ContentLength,  // l
    ContentType,    // c
    CSeq,
    Date,
    ErrorInfo,
    Event,  // o
    Expires,
    From,  // f
    Identity,  // y
    InReplyTo,
    MaxForwards,
    MimeVersion,
    MinExpires,
    MinSE,
    Organization,
    PAssertedIdentity,
    PPreferredIdentity,
    Path,
    Priority,
    Privacy,
    ProxyAuthenticate,
    ProxyAuthorization,
    ProxyRequire,
    RAck,
    Reason,
    RecordRoute,
    ReferTo,     // r
    ReferredBy,  // b
    RejectContact,  // j
    ReplyTo,
    RequestDisposition,  // d
    Require,
    RetryAfter,
    Route,
    RSeq,
    Server,
    SessionExpires,  // x
    Subject,         // s
    SubscriptionState,
    Supported,  // k
    Timestamp,
    To,  // t
    Unsupported,
    UserAgent,
    Via,  // v
    Warning,
    WWWAuthenticate,
    Count_  // number of ids; keep last
};

// Case-insensitive lookup of a header name (full or compact form). Returns Other for an
// unknown name. `name` must already be a valid token.
HeaderId header_id(std::string_view name) noexcept;

// Canonical full name ("Call-ID", "WWW-Authenticate"); "" for None and Other.
std::string_view header_name(HeaderId id) noexcept;

// ASCII case-insensitive equality, for header names, parameter names and tokens.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace sip

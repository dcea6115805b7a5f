// Header name -> HeaderId, case-insensitive (RFC 3261 §7.3.1), compact forms included
// (RFC 3261 §7.3.3, RFC 3841, RFC 3515, RFC 3892, RFC 4028, RFC 8224).
//
// The lookup itself is inline in header_lookup.hpp (the parser uses it in place): a perfect
// hash of (length, first, middle and last octet, each folded with 0x20) picks the one known
// name that can match; the name is then compared a word (8 octets) at a time, each letter
// folded with 0x20 and every other octet compared exactly, so the match is exact and
// case-insensitive. It replaced a Ragel DFA over the name (~4 instructions a byte plus a
// call: 69 a header on the benchmark corpus, issue 13).
#include <cstring>

#include "header_lookup.hpp"
#include "sip/header_id.hpp"

namespace sip {

HeaderId header_id(std::string_view name) noexcept {
    if (name.size() - 1 >= detail::kMaxKnownName) return HeaderId::Other;
    char buf[detail::kNameReadPad] = {};
    std::memcpy(buf, name.data(), name.size());
    return detail::header_id_padded(buf, name.size());
}

std::string_view header_name(HeaderId id) noexcept {
    switch (id) {
        case HeaderId::Accept: return "Accept";
        case HeaderId::AcceptContact: return "Accept-Contact";
        case HeaderId::AcceptEncoding: return "Accept-Encoding";
        case HeaderId::AcceptLanguage: return "Accept-Language";
        case HeaderId::AlertInfo: return "Alert-Info";
        case HeaderId::Allow: return "Allow";
        case HeaderId::AllowEvents: return "Allow-Events";
        case HeaderId::AuthenticationInfo: return "Authentication-Info";
        case HeaderId::Authorization: return "Authorization";
        case HeaderId::CallId: return "Call-ID";
        case HeaderId::CallInfo: return "Call-Info";
        case HeaderId::Contact: return "Contact";
        case HeaderId::ContentDisposition: return "Content-Disposition";
        case HeaderId::ContentEncoding: return "Content-Encoding";
        case HeaderId::ContentLanguage: return "Content-Language";
        case HeaderId::ContentLength: return "Content-Length";
        case HeaderId::ContentType: return "Content-Type";
        case HeaderId::CSeq: return "CSeq";
        case HeaderId::Date: return "Date";
        case HeaderId::ErrorInfo: return "Error-Info";
        case HeaderId::Event: return "Event";
        case HeaderId::Expires: return "Expires";
        case HeaderId::From: return "From";
        case HeaderId::Identity: return "Identity";
        case HeaderId::InReplyTo: return "In-Reply-To";
        case HeaderId::MaxForwards: return "Max-Forwards";
        case HeaderId::MimeVersion: return "MIME-Version";
        case HeaderId::MinExpires: return "Min-Expires";
        case HeaderId::MinSE: return "Min-SE";
        case HeaderId::Organization: return "Organization";
        case HeaderId::PAssertedIdentity: return "P-Asserted-Identity";
        case HeaderId::PPreferredIdentity: return "P-Preferred-Identity";
        case HeaderId::Path: return "Path";
        case HeaderId::Priority: return "Priority";
        case HeaderId::Privacy: return "Privacy";
        case HeaderId::ProxyAuthenticate: return "Proxy-Authenticate";
        case HeaderId::ProxyAuthorization: return "Proxy-Authorization";
        case HeaderId::ProxyRequire: return "Proxy-Require";
        case HeaderId::RAck: return "RAck";
        case HeaderId::Reason: return "Reason";
        case HeaderId::RecordRoute: return "Record-Route";
        case HeaderId::ReferTo: return "Refer-To";
        case HeaderId::ReferredBy: return "Referred-By";
        case HeaderId::RejectContact: return "Reject-Contact";
        case HeaderId::ReplyTo: return "Reply-To";
        case HeaderId::RequestDisposition: return "Request-Disposition";
        case HeaderId::Require: return "Require";
        case HeaderId::RetryAfter: return "Retry-After";
        case HeaderId::Route: return "Route";
        case HeaderId::RSeq: return "RSeq";
        case HeaderId::Server: return "Server";
        case HeaderId::SessionExpires: return "Session-Expires";
        case HeaderId::Subject: return "Subject";
        case HeaderId::SubscriptionState: return "Subscription-State";
        case HeaderId::Supported: return "Supported";
        case HeaderId::Timestamp: return "Timestamp";
        case HeaderId::To: return "To";
        case HeaderId::Unsupported: return "Unsupported";
        case HeaderId::UserAgent: return "User-Agent";
        case HeaderId::Via: return "Via";
        case HeaderId::Warning: return "Warning";
        case HeaderId::WWWAuthenticate: return "WWW-Authenticate";
        default: return {};
    }
}

}  // namespace sip

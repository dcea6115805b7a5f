// Header name -> HeaderId, case-insensitive (RFC 3261 §7.3.1), compact forms included
// (RFC 3261 §7.3.3, RFC 3841, RFC 3515, RFC 3892, RFC 4028, RFC 8224).
// `@` actions fire on the last character of each name; a name that ends outside a final
// state is an extension header (HeaderId::Other).
#include "sip/header_id.hpp"

namespace sip {
namespace {

%%{
machine header_name;
alphtype unsigned char;

main := (
    'accept'i @{ id = HeaderId::Accept; } |
    'accept-contact'i @{ id = HeaderId::AcceptContact; } |
    'a'i @{ id = HeaderId::AcceptContact; } |
    'accept-encoding'i @{ id = HeaderId::AcceptEncoding; } |
    'accept-language'i @{ id = HeaderId::AcceptLanguage; } |
    'alert-info'i @{ id = HeaderId::AlertInfo; } |
    'allow'i @{ id = HeaderId::Allow; } |
    'allow-events'i @{ id = HeaderId::AllowEvents; } |
    'u'i @{ id = HeaderId::AllowEvents; } |
    'authentication-info'i @{ id = HeaderId::AuthenticationInfo; } |
    'authorization'i @{ id = HeaderId::Authorization; } |
    'call-id'i @{ id = HeaderId::CallId; } |
    'i'i @{ id = HeaderId::CallId; } |
    'call-info'i @{ id = HeaderId::CallInfo; } |
    'contact'i @{ id = HeaderId::Contact; } |
    'm'i @{ id = HeaderId::Contact; } |
    'content-disposition'i @{ id = HeaderId::ContentDisposition; } |
    'content-encoding'i @{ id = HeaderId::ContentEncoding; } |
    'e'i @{ id = HeaderId::ContentEncoding; } |
    'content-language'i @{ id = HeaderId::ContentLanguage; } |
    'content-length'i @{ id = HeaderId::ContentLength; } |
    'l'i @{ id = HeaderId::ContentLength; } |
    'content-type'i @{ id = HeaderId::ContentType; } |
    'c'i @{ id = HeaderId::ContentType; } |
    'cseq'i @{ id = HeaderId::CSeq; } |
    'date'i @{ id = HeaderId::Date; } |
    'error-info'i @{ id = HeaderId::ErrorInfo; } |
    'event'i @{ id = HeaderId::Event; } |
    'o'i @{ id = HeaderId::Event; } |
    'expires'i @{ id = HeaderId::Expires; } |
    'from'i @{ id = HeaderId::From; } |
    'f'i @{ id = HeaderId::From; } |
    'identity'i @{ id = HeaderId::Identity; } |
    'y'i @{ id = HeaderId::Identity; } |
    'in-reply-to'i @{ id = HeaderId::InReplyTo; } |
    'max-forwards'i @{ id = HeaderId::MaxForwards; } |
    'mime-version'i @{ id = HeaderId::MimeVersion; } |
    'min-expires'i @{ id = HeaderId::MinExpires; } |
    'min-se'i @{ id = HeaderId::MinSE; } |
    'organization'i @{ id = HeaderId::Organization; } |
    'p-asserted-identity'i @{ id = HeaderId::PAssertedIdentity; } |
    'p-preferred-identity'i @{ id = HeaderId::PPreferredIdentity; } |
    'path'i @{ id = HeaderId::Path; } |
    'priority'i @{ id = HeaderId::Priority; } |
    'privacy'i @{ id = HeaderId::Privacy; } |
    'proxy-authenticate'i @{ id = HeaderId::ProxyAuthenticate; } |
    'proxy-authorization'i @{ id = HeaderId::ProxyAuthorization; } |
    'proxy-require'i @{ id = HeaderId::ProxyRequire; } |
    'rack'i @{ id = HeaderId::RAck; } |
    'reason'i @{ id = HeaderId::Reason; } |
    'record-route'i @{ id = HeaderId::RecordRoute; } |
    'refer-to'i @{ id = HeaderId::ReferTo; } |
    'r'i @{ id = HeaderId::ReferTo; } |
    'referred-by'i @{ id = HeaderId::ReferredBy; } |
    'b'i @{ id = HeaderId::ReferredBy; } |
    'reject-contact'i @{ id = HeaderId::RejectContact; } |
    'j'i @{ id = HeaderId::RejectContact; } |
    'reply-to'i @{ id = HeaderId::ReplyTo; } |
    'request-disposition'i @{ id = HeaderId::RequestDisposition; } |
    'd'i @{ id = HeaderId::RequestDisposition; } |
    'require'i @{ id = HeaderId::Require; } |
    'retry-after'i @{ id = HeaderId::RetryAfter; } |
    'route'i @{ id = HeaderId::Route; } |
    'rseq'i @{ id = HeaderId::RSeq; } |
    'server'i @{ id = HeaderId::Server; } |
    'session-expires'i @{ id = HeaderId::SessionExpires; } |
    'x'i @{ id = HeaderId::SessionExpires; } |
    'subject'i @{ id = HeaderId::Subject; } |
    's'i @{ id = HeaderId::Subject; } |
    'subscription-state'i @{ id = HeaderId::SubscriptionState; } |
    'supported'i @{ id = HeaderId::Supported; } |
    'k'i @{ id = HeaderId::Supported; } |
    'timestamp'i @{ id = HeaderId::Timestamp; } |
    'to'i @{ id = HeaderId::To; } |
    't'i @{ id = HeaderId::To; } |
    'unsupported'i @{ id = HeaderId::Unsupported; } |
    'user-agent'i @{ id = HeaderId::UserAgent; } |
    'via'i @{ id = HeaderId::Via; } |
    'v'i @{ id = HeaderId::Via; } |
    'warning'i @{ id = HeaderId::Warning; } |
    'www-authenticate'i @{ id = HeaderId::WWWAuthenticate; }
);

write data noerror;
}%%

}  // namespace

HeaderId header_id(std::string_view name) noexcept {
    HeaderId id = HeaderId::Other;
    const auto* p = reinterpret_cast<const unsigned char*>(name.data());
    const auto* pe = p + name.size();
    int cs = header_name_start;
    %% write exec;
    if (cs < header_name_first_final || p != pe) return HeaderId::Other;
    return id;
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

// Building requests and responses, and editing received messages without re-serialising
// the bytes that did not change.
//
//   // RFC 3261 §8.2.6 response: Via, From, To (+ tag), Call-ID, CSeq copied from the request
//   std::string ok = sip::build_response(req, {.status = 200, .to_tag = "a83b",
//                                              .extra = {{"Allow", "INVITE, ACK, BYE"}}});
//
//   sip::RequestBuilder rb("OPTIONS", "sip:gw1.carrier.example");
//   rb.add(sip::HeaderId::Via, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK77ef")
//     .add(sip::HeaderId::From, "<sip:ping@192.0.2.1>;tag=1928").add(...);
//   std::string bytes = rb.build();                 // Max-Forwards and Content-Length added
//
//   sip::MessageEditor ed(msg);                      // proxy / B2BUA edits
//   ed.prepend(sip::HeaderId::Via, "SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK1");
//   ed.remove(*msg.find(sip::HeaderId::Route));
//   ed.set_request_uri("sip:+15551234@gw2.example");
//   std::string out = ed.build();                   // every other byte copied verbatim
//
// Builders trust their inputs: they do not re-validate header values (the caller composes
// them from parsed views or its own configuration). Output is always CRLF-terminated with a
// correct Content-Length.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "sip/header_id.hpp"
#include "sip/message.hpp"

namespace sip {

struct HeaderLine {
    std::string_view name;
    std::string_view value;
};

// RFC 3261 §21 default reason phrases ("Not Found" for 404, ...); "" for unknown codes.
std::string_view default_reason(std::uint16_t status) noexcept;

struct ResponseSpec {
    std::uint16_t status = 200;
    std::string_view reason;  // default_reason(status) when empty
    std::string_view to_tag;  // added to To when the request's To has no tag
    std::vector<HeaderLine> extra;
    std::string_view content_type;  // with a body
    std::string_view body;
    // RFC 3261 §18.2.1 / RFC 3581 §4: the server stamps the top Via of the response with the
    // source address it saw ("received") and, when the client asked with a bare rport, the
    // source port. Left empty, build_response(const Message&, ...) takes the request's own
    // Message::via_stamp() (noted at ingress with Message::note_source()).
    std::string_view via_received;
    std::uint16_t via_rport = 0;
};

// A response to a parsed request (RFC 3261 §8.2.6.2: Via fields in order, From, To, Call-ID,
// CSeq copied; a To tag added when given and absent).
std::string build_response(const Message& request, const ResponseSpec& spec);

// A stateless error response to bytes the parser rejected; needs `s.usable()`.
std::string build_response(const Salvage& s, const ResponseSpec& spec);

class RequestBuilder {
public:
    RequestBuilder(std::string_view method, std::string_view request_uri);
    RequestBuilder& add(HeaderId id, std::string_view value);
    RequestBuilder& add(std::string_view name, std::string_view value);
    RequestBuilder& body(std::string_view content_type, std::string_view bytes);
    // Adds Max-Forwards: 70 when absent (RFC 3261 §8.1.1.6) and Content-Length always.
    std::string build() const;

private:
    std::string head_;
    std::string_view content_type_, body_;
    bool has_max_forwards_ = false;
};

class MessageEditor {
public:
    explicit MessageEditor(const Message& m) : m_(m) {}
    // Insert as the first header field (a proxy's Via, RFC 3261 §16.6 step 8).
    MessageEditor& prepend(HeaderId id, std::string_view value);
    MessageEditor& prepend(std::string_view name, std::string_view value);
    // Insert after the last header field.
    MessageEditor& append(HeaderId id, std::string_view value);
    MessageEditor& append(std::string_view name, std::string_view value);
    MessageEditor& insert_before(const HeaderField& at, std::string_view name,
                                 std::string_view value);
    MessageEditor& remove(const HeaderField& h);
    MessageEditor& remove_all(HeaderId id);
    MessageEditor& replace_value(const HeaderField& h, std::string_view value);
    MessageEditor& set_request_uri(std::string_view uri);
    // Replaces the body; Content-Length is rewritten to match.
    MessageEditor& set_body(std::string_view body);
    std::string build() const;

private:
    struct Edit {
        std::uint32_t off;  // where the replaced range starts in the original bytes
        std::uint32_t len;  // original bytes dropped
        std::string text;   // inserted text
        std::uint32_t seq;  // keeps insertions at one offset in call order
    };
    void add_edit(std::uint32_t off, std::uint32_t len, std::string text);
    std::uint32_t field_start(const HeaderField& h) const noexcept { return h.name_off; }
    std::uint32_t field_end(const HeaderField& h) const noexcept;  // after its CRLF

    const Message& m_;
    std::vector<Edit> edits_;
    bool body_set_ = false;
    std::string body_;
};

}  // namespace sip

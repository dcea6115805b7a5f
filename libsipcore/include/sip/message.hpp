// sip::Message — one parsed SIP message over one owned buffer.
//
//   sip::Result<sip::Message> r = sip::Message::parse(datagram);      // UDP semantics
//   if (!r) { reply_400_or_drop(datagram, r.error()); return; }
//   const sip::Message& m = *r;
//   if (m.is_request() && m.method() == sip::Method::Options) ...
//   m.top_via().branch; m.from().tag; m.call_id(); m.cseq().number;   // validated at ingress
//   for (const sip::HeaderField& h : m.headers())
//       if (h.id == sip::HeaderId::Contact) contacts(m.value(h));
//
// Lifetime: every string_view returned (and inside Via/NameAddr/CSeq) points into the
// Message's own heap buffer, which does not move when the Message is moved; views stay valid
// until the Message is destroyed.
//
// Ingress validation (RFC 3261 §8.1.1, §16.3, §18.3, §20): the start line and the
// Request-URI; header names; exactly one From, To, Call-ID, CSeq (typed); at least one Via
// (the top via-parm typed: it is what transactions match on); every Contact value; Date
// when present; at most one Max-Forwards (0..255) and Content-Length; a request's CSeq
// method equals its method. Everything else, including the Via values below the top one,
// is parsed on demand with the functions of sip/headers.hpp.
//
// Errors: Error::offset is relative to the first byte given; Error::header names the header
// being decoded. See Errc for the codes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "sip/header_id.hpp"
#include "sip/headers.hpp"
#include "sip/result.hpp"

namespace sip {

struct ParseLimits {
    std::uint32_t max_message = 65535;  // bytes of one message (header section + body)
    std::uint16_t max_headers = 256;    // header fields (lines, after unfolding)
    std::uint32_t max_header = 16384;   // bytes of one header field, folding included
};

// One header field, as offsets into the message (8-byte marks survive moves).
struct HeaderField {
    std::uint32_t name_off = 0;
    std::uint32_t value_off = 0;  // value with leading/trailing LWS trimmed
    std::uint32_t value_len = 0;
    std::uint16_t name_len = 0;
    HeaderId id = HeaderId::None;
};

// How trailing octets after the body are treated.
enum class Framing : std::uint8_t {
    Datagram,  // RFC 3261 §18.3: no Content-Length = rest of datagram; extra octets ignored
    Stream,    // the caller (StreamFramer) framed exactly one message; Content-Length required
};

class Message {
public:
    static Result<Message> parse(std::string_view bytes, const ParseLimits& limits = {},
                                 Framing framing = Framing::Datagram);

    Message(Message&&) noexcept = default;
    Message& operator=(Message&&) noexcept = default;
    Message(const Message&) = delete;
    Message& operator=(const Message&) = delete;
    ~Message() = default;

    // --- start line (RFC 3261 §7.1, §7.2)
    bool is_request() const noexcept { return status_ == 0; }
    bool is_response() const noexcept { return status_ != 0; }
    Method method() const noexcept { return method_; }  // requests: the Request-Line method
    std::string_view method_name() const noexcept { return method_name_; }
    std::string_view request_uri() const noexcept { return ruri_; }
    const Uri& ruri() const noexcept { return ruri_parsed_; }  // typed Request-URI
    std::uint16_t status_code() const noexcept { return status_; }
    std::string_view reason() const noexcept { return reason_; }

    // --- headers
    std::span<const HeaderField> headers() const noexcept { return {fields_, nfields_}; }
    std::string_view name(const HeaderField& h) const noexcept {
        return {data_ + h.name_off, h.name_len};
    }
    std::string_view value(const HeaderField& h) const noexcept {
        return {data_ + h.value_off, h.value_len};
    }
    // First field with this id, or nullptr.
    const HeaderField* find(HeaderId id) const noexcept;
    // First field with this (case-insensitive) name; works for extension headers too.
    const HeaderField* find(std::string_view name) const noexcept;
    std::size_t count(HeaderId id) const noexcept;

    // --- validated at ingress
    const Via& top_via() const noexcept { return top_via_; }
    std::size_t via_count() const noexcept { return via_count_; }  // Via fields (max 255)
    const NameAddr& from() const noexcept { return from_; }
    const NameAddr& to() const noexcept { return to_; }
    std::string_view call_id() const noexcept { return call_id_; }
    const CSeq& cseq() const noexcept { return cseq_; }
    std::optional<std::uint32_t> max_forwards() const noexcept { return max_forwards_; }
    std::optional<std::uint32_t> content_length() const noexcept { return content_length_; }

    std::string_view body() const noexcept { return {data_ + body_off_, size_ - body_off_}; }
    // The message as framed: header section and body, without trailing datagram octets.
    std::string_view bytes() const noexcept { return {data_, size_}; }
    std::uint32_t header_section_size() const noexcept { return body_off_; }

private:
    Message() = default;
    friend class MessageParser;

    std::unique_ptr<char[]> block_;            // [header table slots][message bytes]
    std::unique_ptr<HeaderField[]> overflow_;  // only when the inline slots do not suffice
    const char* data_ = nullptr;
    const HeaderField* fields_ = nullptr;
    std::uint32_t size_ = 0;
    std::uint32_t body_off_ = 0;
    std::uint16_t nfields_ = 0;
    std::uint16_t status_ = 0;
    Method method_ = Method::Unknown;
    std::uint8_t via_count_ = 0;

    std::string_view method_name_, ruri_, reason_, call_id_;
    Uri ruri_parsed_;
    Via top_via_;
    NameAddr from_, to_;
    CSeq cseq_;
    std::optional<std::uint32_t> max_forwards_, content_length_;
};

// For replying to a request that failed to parse (RFC 3261 §8.2.6 needs Via, From, To,
// Call-ID and CSeq copied): a lenient scan that recovers the raw values it can. `usable()`
// is true when a response can be routed (the top Via's sent-protocol and sent-by parse) and
// matched by the client (CSeq has a method; an overlarge number is tolerated). From, To and
// Call-ID are copied as received, broken or absent: RFC 4475 asks for a 400 when they are
// the fault, so such a 400 is not itself a valid message, by design.
struct Salvage {
    bool request = false;
    std::string_view method;
    std::string_view via_fields[16];  // raw Via field values, in order
    std::uint8_t via_count = 0;
    std::string_view from, to, call_id, cseq;
    Via top_via;
    bool top_via_ok = false;
    bool cseq_ok = false;
    bool usable() const noexcept { return request && top_via_ok && cseq_ok; }
};
Salvage salvage(std::string_view bytes) noexcept;

}  // namespace sip

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
#include <type_traits>
#include <utility>

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

    Message(Message&& o) noexcept
        : d_(std::exchange(o.d_, nullptr)),
          block_(std::move(o.block_)),
          bytes_(std::move(o.bytes_)),
          overflow_(std::move(o.overflow_)) {}
    Message& operator=(Message&& o) noexcept {
        d_ = std::exchange(o.d_, nullptr);
        block_ = std::move(o.block_);
        bytes_ = std::move(o.bytes_);
        overflow_ = std::move(o.overflow_);
        return *this;
    }
    Message(const Message&) = delete;
    Message& operator=(const Message&) = delete;
    ~Message() = default;

    // --- start line (RFC 3261 §7.1, §7.2)
    bool is_request() const noexcept { return d_->status == 0; }
    bool is_response() const noexcept { return d_->status != 0; }
    Method method() const noexcept { return d_->method; }  // requests: the Request-Line method
    std::string_view method_name() const noexcept { return d_->method_name; }
    std::string_view request_uri() const noexcept { return d_->ruri; }
    const Uri& ruri() const noexcept { return d_->ruri_parsed; }  // typed Request-URI
    std::uint16_t status_code() const noexcept { return d_->status; }
    std::string_view reason() const noexcept { return d_->reason; }

    // --- headers
    std::span<const HeaderField> headers() const noexcept { return {d_->fields, d_->nfields}; }
    std::string_view name(const HeaderField& h) const noexcept {
        return {d_->data + h.name_off, h.name_len};
    }
    std::string_view value(const HeaderField& h) const noexcept {
        return {d_->data + h.value_off, h.value_len};
    }
    // First field with this id, or nullptr.
    const HeaderField* find(HeaderId id) const noexcept;
    // First field with this (case-insensitive) name; works for extension headers too.
    const HeaderField* find(std::string_view name) const noexcept;
    std::size_t count(HeaderId id) const noexcept;

    // --- validated at ingress
    const Via& top_via() const noexcept { return d_->top_via; }
    std::size_t via_count() const noexcept { return d_->via_count; }  // Via fields (max 255)
    const NameAddr& from() const noexcept { return d_->from; }
    const NameAddr& to() const noexcept { return d_->to; }
    std::string_view call_id() const noexcept { return d_->call_id; }
    const CSeq& cseq() const noexcept { return d_->cseq; }
    std::optional<std::uint32_t> max_forwards() const noexcept { return d_->max_forwards; }
    std::optional<std::uint32_t> content_length() const noexcept { return d_->content_length; }

    // --- the server side of RFC 3261 §18.2.1 / RFC 3581 §4
    // Notes where a request came from, once, at ingress (`host` an IP literal, IPv6 without
    // brackets; copied). Every response then built from this request with build_response()
    // stamps its top Via with via_stamp(): rport=<port> for a bare rport, received=<host>.
    // No effect on a response.
    void note_source(std::string_view host, std::uint16_t port) noexcept;
    ViaStamp via_stamp() const noexcept {
        return {{d_->received, d_->received_len}, d_->rport};
    }

    std::string_view body() const noexcept {
        return {d_->data + d_->body_off, d_->size - d_->body_off};
    }
    // The message as framed: header section and body, without trailing datagram octets.
    std::string_view bytes() const noexcept { return {d_->data, d_->size}; }
    std::uint32_t header_section_size() const noexcept { return d_->body_off; }

private:
    Message() = default;
    friend class MessageParser;

    // Everything parsed lives in the message's one heap block with its bytes, so a Message
    // is three pointers: moving it through a Result, an action queue and a TU costs nothing.
    struct Data {
        const char* data = nullptr;
        const HeaderField* fields = nullptr;
        std::uint32_t size = 0;
        std::uint32_t body_off = 0;
        std::uint16_t nfields = 0;
        std::uint16_t status = 0;
        Method method = Method::Unknown;
        std::uint8_t via_count = 0;
        std::string_view method_name, ruri, reason, call_id;
        Uri ruri_parsed;
        Via top_via;
        NameAddr from, to;
        CSeq cseq;
        std::optional<std::uint32_t> max_forwards, content_length;
        // note_source(): the stamp for responses (INET6_ADDRSTRLEN fits every IP literal)
        char received[46] = {};
        std::uint8_t received_len = 0;
        std::uint16_t rport = 0;
    };
    static_assert(std::is_trivially_destructible_v<Data>);

    // Two blocks, each small enough for the allocator's per-thread cache in the common case
    // (glibc: 1032 octets), which is cheaper than one larger block (message.cpp).
    Data* d_ = nullptr;                        // at the start of block_
    std::unique_ptr<char[]> block_;            // [Data][header table slots]
    std::unique_ptr<char[]> bytes_;            // [message bytes][zeroed padding]
    std::unique_ptr<char[]> overflow_;  // header slots when the inline ones do not suffice
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

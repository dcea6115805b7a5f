// sw::Element — the transaction-stage SIP element `trunkline` runs, pure (no I/O, no clock).
//
//   sip::SeededRandom rng(seed);
//   sw::Element el({.echo_uas = true}, rng);
//   el.on_bytes(datagram, source, now);              // from a transport
//   while (auto s = el.poll_send()) transport.send(s->to, s->bytes, s->txn);
//   while (auto l = el.poll_log()) log(*l);           // one line per message
//   if (auto d = el.next_deadline()) timer.arm(*d);   // then el.handle_timeouts(now)
//
// OPTIONS is answered 200 (Allow, Accept, Supported) statelessly, with no transaction
// (answered_statelessly); every other request goes through a server transaction
// (sip::txn::Layer): in echo-UAS mode INVITE gets 180 then 200 with an SDP
// answer, BYE 200, CANCEL 200 plus 487 for its INVITE; REGISTER goes to the registrar
// (route::reg::Registrar, set with set_registrar(); without one REGISTER gets 405). Other
// methods: 405/501 with Allow. A request the parser rejects gets a stateless 400 naming the fault
// (505 for a foreign version) when its top Via and CSeq allow a reply (DESIGN.md §4).
//
// Client transactions for the element's own requests (outbound registrations, keep-alive
// OPTIONS): send_request() starts one; its final response, timeout or transport error comes
// back from poll_client_event() with the transaction id send_request() returned.
//
// With `calls` on (the B2BUA), INVITE, in-dialog requests (a To tag), BYE and the ACKs and
// CANCELs that belong to them are not answered here: they come out of poll_call_input() for
// sw::Calls, which answers with respond(). The element still answers CANCEL itself (200, or
// 481 without a matching INVITE, RFC 3261 §9.2) and hands on only the matched ones.
//
// A response too large for one UDP datagram goes over TCP to the client's sent-by instead, or
// becomes a 513 when that fails (RFC 3261 §18.2.2, sip::txn::LargeResponses): such a send
// carries a tag of its own, which on_transport_error() takes like a transaction id.
//
// As a UAS the element retransmits its 2xx to INVITE over UDP (T1 doubling to T2) until the
// ACK arrives or 64*T1 passes (RFC 3261 §13.3.1.4): the transaction layer leaves 2xx
// reliability to the TU (RFC 6026).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "sip/random.hpp"
#include "sip/time.hpp"
#include "sip/transport.hpp"
#include "sip/txn/layer.hpp"

namespace route::reg {
class Registrar;
}

namespace sw {

struct ElementConfig {
    sip::txn::Config txn;
    bool echo_uas = false;  // answer INVITE/BYE/CANCEL as a test UAS
    bool calls = false;     // hand INVITE and dialog requests to the B2BUA (poll_call_input)
    std::string server_header = "Trunkline";
    std::string contact_host = "127.0.0.1";  // our Contact in 2xx (echo-UAS)
    std::uint16_t contact_port = 5060;
    sip::ParseLimits limits;
    // Unix time = this + now (seconds) for the Date of REGISTER answers (RFC 3261 §10.3
    // step 8); nullopt: no Date. The wiring sets it from its wall clock at start.
    std::optional<std::int64_t> unix_offset_s;
    bool log_messages = true;  // one line per message (poll_log); off: none
};

// SIP messages by method (requests) and status class (responses), in one direction. The
// index of a method is its sip::Method value (Unknown = 0 counts every other method), of a
// class its first digit (1..6; 0 unused).
struct SipTally {
    static constexpr std::size_t kMethods = static_cast<std::size_t>(sip::Method::Update) + 1;
    std::array<std::uint64_t, kMethods> requests{};
    std::array<std::uint64_t, 7> responses{};
    void request(sip::Method m) noexcept { ++requests[static_cast<std::size_t>(m) % kMethods]; }
    void response(std::uint16_t code) noexcept { ++responses[code / 100 % 7]; }
    // The first line of bytes about to be sent: "SIP/2.0 200 ..." or "INVITE sip:...".
    void outgoing(std::string_view bytes) noexcept;
};

struct ElementStats {
    SipTally received, sent;  // parsed messages in; everything the element hands out to send
    std::uint64_t requests = 0, responses = 0, malformed_answered = 0, malformed_dropped = 0;
    std::uint64_t calls_answered = 0, calls_ended = 0, acks = 0, ok_retransmits = 0;
    std::uint64_t registers = 0, registers_dropped = 0;
    std::uint64_t client_requests = 0, client_finals = 0, client_failures = 0;
    std::uint64_t answered_by_readers = 0;  // by UDP reader threads (sw::Front), in the above
};

// The outcome of a client transaction started with Element::send_request().
struct ClientEvent {
    // Provisional: a 101..199 response (only for requests sent with `provisionals`); a 2xx
    // retransmission of an accepted INVITE comes as another Response.
    enum class Kind : std::uint8_t { Response, Timeout, TransportError, Provisional };
    sip::txn::TxnId txn = 0;
    Kind kind = Kind::Response;
    std::optional<sip::Message> response;  // Kind::Response and Kind::Provisional
    char timer = 0;                        // Kind::Timeout: 'B', 'C' or 'F'
};

// Requests for the B2BUA (ElementConfig::calls).
struct CallRequest {  // a new server transaction: INVITE or an in-dialog request
    sip::txn::TxnId txn = 0;
    sip::Message msg;
    sip::Target source;
};
struct CallAck {  // ACK for a 2xx (no transaction)
    sip::Message msg;
    sip::Target source;
};
struct CallCancel {  // a CANCEL matched to its INVITE; the element answered the CANCEL 200
    sip::txn::TxnId invite_txn = 0;
    sip::Message msg;
    sip::Target source;
};
struct CallStray {  // a response matching no transaction (a retransmitted 2xx to INVITE)
    sip::Message msg;
    sip::Target source;
};
using CallInput = std::variant<CallRequest, CallAck, CallCancel, CallStray>;

// A datagram a UDP reader thread took off the socket for the switch (sw::Front): parsed
// there, or `raw` when it did not parse (the element answers the fault as on_bytes does).
struct Received {
    sip::Target source;
    std::optional<sip::Message> msg;
    std::string raw;
};

// What a reader thread answered itself, for the element's counters (ElementStats).
struct AnsweredElsewhere {
    std::uint64_t options = 0;  // OPTIONS answered 200
};

// §8.2.7: the To tag a stateless UAS gives this request (the same for a retransmission).
std::string stateless_tag(const sip::Message& request);
// Requests the element answers as a stateless UAS without making a transaction at all, as
// Kamailio's sl_send_reply does: an OPTIONS to a sip:, sips: or tel: URI (in a dialog or not).
bool answered_statelessly(const sip::Message& request);
// The element's 200 to an OPTIONS (RFC 3261 §11.2: Allow, Accept, Supported), stateless:
// the same bytes for the same request, wherever it is built (sw::Front builds it too).
sip::Bytes options_answer(const sip::Message& request, std::string_view server_header,
                          std::string_view allow);

// A request the TU built and trusts, with its top Via branch: sent without a copy or a parse.
struct BuiltRequest {
    sip::Bytes bytes;
    std::string branch;
};

struct SendOptions {
    sip::txn::RequestOptions txn;
    bool provisionals = false;  // report 1xx as ClientEvent::Kind::Provisional
};

class Element {
  public:
    Element(ElementConfig cfg, sip::Random& rng);
    ~Element();
    Element(const Element&) = delete;
    Element& operator=(const Element&) = delete;

    void on_bytes(std::string_view bytes, const sip::Target& source, sip::Instant now);
    void on_transport_error(sip::txn::TxnId txn, sip::Instant now);
    // What a reader thread handed over: as on_bytes, without parsing it again.
    void on_received(Received r, sip::Instant now);
    void count_answered_elsewhere(const AnsweredElsewhere& a) noexcept;
    // The Allow list of our answers (what sw::Front puts in its OPTIONS answers).
    std::string_view allow() const noexcept;

    // REGISTER handling; the registrar must outlive the element (nullptr: none).
    void set_registrar(route::reg::Registrar* registrar) noexcept;
    // Starts a client transaction (the request carries its own Via branch). Errors: the
    // bytes do not parse.
    sip::Result<sip::txn::TxnId> send_request(std::string_view request, const sip::Target& to,
                                              sip::Instant now, const SendOptions& options = {});
    // The same for a request the TU built (Errors: no start line, no branch, an ACK).
    sip::Result<sip::txn::TxnId> send_request(const BuiltRequest& request, const sip::Target& to,
                                              sip::Instant now, const SendOptions& options = {});
    // Bytes outside any transaction (a CRLF keep-alive, an ACK for a 2xx).
    void send_raw(std::string_view bytes, const sip::Target& to);
    void send_raw(sip::Bytes bytes, const sip::Target& to);
    // The TU's answer to a server transaction it got from poll_call_input().
    void respond(sip::txn::TxnId txn, sip::Bytes response, sip::Instant now);
    std::optional<ClientEvent> poll_client_event();
    std::optional<CallInput> poll_call_input();

    std::optional<sip::Instant> next_deadline() const;
    void handle_timeouts(sip::Instant now);

    std::optional<sip::txn::SendBytes> poll_send();
    std::optional<std::string> poll_log();
    // Whether the per-message lines of ElementConfig::log_messages are wanted now: the wiring
    // says no while its log level would drop them (formatting them would be wasted, and the
    // log cap would count as suppressed lines that were never to be written).
    void set_message_lines(bool wanted) noexcept;

    const ElementStats& stats() const noexcept;
    const sip::txn::Stats& txn_stats() const noexcept;

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace sw

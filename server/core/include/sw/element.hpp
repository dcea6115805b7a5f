// sw::Element — the transaction-stage SIP element `trunkline` runs, pure (no I/O, no clock).
//
//   sip::SeededRandom rng(seed);
//   sw::Element el({.echo_uas = true}, rng);
//   el.on_bytes(datagram, source, now);              // from a transport
//   while (auto s = el.poll_send()) transport.send(s->to, s->bytes, s->txn);
//   while (auto l = el.poll_log()) log(*l);           // one line per message
//   if (auto d = el.next_deadline()) timer.arm(*d);   // then el.handle_timeouts(now)
//
// Every request goes through a server transaction (sip::txn::Layer): OPTIONS is answered
// 200 (Allow, Accept, Supported); in echo-UAS mode INVITE gets 180 then 200 with an SDP
// answer, BYE 200, CANCEL 200 plus 487 for its INVITE; REGISTER goes to the registrar
// (route::reg::Registrar, set with set_registrar(); without one REGISTER gets 405). Other
// methods: 405/501 with Allow. A request the parser rejects gets a stateless 400 naming the fault
// (505 for a foreign version) when its top Via and CSeq allow a reply (DESIGN.md §4).
//
// Client transactions for the element's own requests (outbound registrations, keep-alive
// OPTIONS): send_request() starts one; its final response, timeout or transport error comes
// back from poll_client_event() with the transaction id send_request() returned.
//
// As a UAS the element retransmits its 2xx to INVITE over UDP (T1 doubling to T2) until the
// ACK arrives or 64*T1 passes (RFC 3261 §13.3.1.4): the transaction layer leaves 2xx
// reliability to the TU (RFC 6026).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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
    std::string server_header = "Trunkline";
    std::string contact_host = "127.0.0.1";  // our Contact in 2xx (echo-UAS)
    std::uint16_t contact_port = 5060;
    sip::ParseLimits limits;
    // Unix time = this + now (seconds) for the Date of REGISTER answers (RFC 3261 §10.3
    // step 8); nullopt: no Date. The wiring sets it from its wall clock at start.
    std::optional<std::int64_t> unix_offset_s;
    bool log_messages = true;  // one line per message (poll_log); off: none
};

struct ElementStats {
    std::uint64_t requests = 0, responses = 0, malformed_answered = 0, malformed_dropped = 0;
    std::uint64_t calls_answered = 0, calls_ended = 0, acks = 0, ok_retransmits = 0;
    std::uint64_t registers = 0, registers_dropped = 0;
    std::uint64_t client_requests = 0, client_finals = 0, client_failures = 0;
};

// The outcome of a client transaction started with Element::send_request().
struct ClientEvent {
    enum class Kind : std::uint8_t { Response, Timeout, TransportError };
    sip::txn::TxnId txn = 0;
    Kind kind = Kind::Response;
    std::optional<sip::Message> response;  // the final response (Kind::Response)
};

class Element {
  public:
    Element(ElementConfig cfg, sip::Random& rng);
    ~Element();
    Element(const Element&) = delete;
    Element& operator=(const Element&) = delete;

    void on_bytes(std::string_view bytes, const sip::Target& source, sip::Instant now);
    void on_transport_error(sip::txn::TxnId txn, sip::Instant now);

    // REGISTER handling; the registrar must outlive the element (nullptr: none).
    void set_registrar(route::reg::Registrar* registrar) noexcept;
    // Starts a client transaction (the request carries its own Via branch). Errors: the
    // bytes do not parse.
    sip::Result<sip::txn::TxnId> send_request(std::string_view request, const sip::Target& to,
                                              sip::Instant now);
    // Bytes outside any transaction (a CRLF keep-alive).
    void send_raw(std::string_view bytes, const sip::Target& to);
    std::optional<ClientEvent> poll_client_event();

    std::optional<sip::Instant> next_deadline() const;
    void handle_timeouts(sip::Instant now);

    std::optional<sip::txn::SendBytes> poll_send();
    std::optional<std::string> poll_log();

    const ElementStats& stats() const noexcept;
    const sip::txn::Stats& txn_stats() const noexcept;

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace sw

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
// answer, BYE 200, CANCEL 200 plus 487 for its INVITE; REGISTER is challenged with digest
// when users are configured and answered 200 when the credentials verify. Other methods:
// 405/501 with Allow. A request the parser rejects gets a stateless 400 naming the fault
// (505 for a foreign version) when its top Via and CSeq allow a reply (DESIGN.md §4).
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

namespace sw {

// Digest verification is injected so the pure core needs no crypto library (DESIGN.md §2):
// the wiring passes the sipcore_crypto-backed implementation.
class Authenticator {
public:
    virtual ~Authenticator() = default;
    // The WWW-Authenticate values to send with a 401 (stale: the nonce had expired).
    virtual std::vector<std::string> challenge(sip::Instant now, bool stale) = 0;
    enum class Verdict { Ok, Stale, Rejected };
    // Checks the request's Authorization header value for `method`.
    virtual Verdict verify(std::string_view authorization, std::string_view method,
                           sip::Instant now) = 0;
};

struct ElementConfig {
    sip::txn::Config txn;
    bool echo_uas = false;                  // answer INVITE/BYE/CANCEL as a test UAS
    std::string server_header = "Trunkline";
    std::string contact_host = "127.0.0.1";  // our Contact in 2xx (echo-UAS)
    std::uint16_t contact_port = 5060;
    sip::ParseLimits limits;
    Authenticator* auth = nullptr;           // REGISTER needs credentials when set
    bool log_messages = true;                // one line per message (poll_log); off: none
};

struct ElementStats {
    std::uint64_t requests = 0, responses = 0, malformed_answered = 0, malformed_dropped = 0;
    std::uint64_t calls_answered = 0, calls_ended = 0, acks = 0, ok_retransmits = 0;
    std::uint64_t challenges = 0, auth_ok = 0, auth_failed = 0;
};

class Element {
public:
    Element(ElementConfig cfg, sip::Random& rng);
    ~Element();
    Element(const Element&) = delete;
    Element& operator=(const Element&) = delete;

    void on_bytes(std::string_view bytes, const sip::Target& source, sip::Instant now);
    void on_transport_error(sip::txn::TxnId txn, sip::Instant now);

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

// sip::txn::Layer — RFC 3261 §17 transactions with the RFC 6026 Accepted state, sans-I/O.
//
//   sip::SeededRandom rng(seed);
//   sip::txn::Layer layer({}, rng);
//
//   // a transport delivered a parsed message
//   layer.on_message(std::move(msg), source, now);
//   // the TU starts a client transaction (the request carries its own Via branch)
//   auto id = layer.send_request(request_text, {sip::Transport::Udp, "192.0.2.1", 5060}, now);
//   // the TU answers a server transaction
//   layer.respond(txn, response_text, now);
//   // drive time: one timer armed for the earliest deadline
//   if (auto d = layer.next_deadline()) arm(*d);  ...  layer.handle_timeouts(now);
//   // drain actions after every call
//   while (auto a = layer.poll()) std::visit(handler, *a);
//
// Nothing calls back into the TU: every outcome is an Action pulled with poll(). The layer
// never reads a clock or touches a socket; `now` is always an argument.
//
// What the layer does by itself (RFC 3261 §17, RFC 6026):
// - retransmits requests over UDP (Timer A doubling uncapped for INVITE, Timer E capped at
//   T2) and gives up with TxnTimeout at Timer B / F (64·T1);
// - absorbs retransmitted requests and resends the last response (server side);
// - retransmits non-2xx final responses to INVITE over UDP (Timer G) until the ACK or
//   Timer H; absorbs that ACK (Confirmed, Timer I);
// - generates the ACK for a non-2xx final response (client INVITE, §17.1.1.3) and resends it
//   for every retransmitted final response;
// - sends 100 Trying for a server INVITE when the TU has not answered within 200 ms;
// - keeps 2xx-answered INVITE transactions in Accepted (Timer L / M = 64·T1) so request and
//   2xx retransmissions are absorbed / passed up, not mistaken for new transactions; a UAS
//   retransmits its own 2xx (§13.3.1.4) with send_stateless(): the Accepted server
//   transaction keeps no bytes;
// - passes ACK for 2xx to the TU (AckIn: it belongs to the dialog, not the transaction) and
//   matches CANCEL to its INVITE (CancelIn, §9.2).
// Memory: once a transaction's work is done (Completed non-INVITE, Confirmed, client Accepted
// or Completed INVITE) it leaves the live table for a compact FIFO per timer length that keeps
// only its matching key, the bytes to resend and where (Config::max_lingering bounds it).
// Matching: RFC 3261 branches (§17.1.3, §17.2.3) and the RFC 2543 fallback (§17.2.3 last
// paragraphs) for branches without the magic cookie.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "sip/message.hpp"
#include "sip/random.hpp"
#include "sip/time.hpp"
#include "sip/transport.hpp"

namespace sip::txn {

using namespace std::chrono_literals;

struct TimerConfig {
    Duration t1 = 500ms;        // RTT estimate
    Duration t2 = 4s;           // cap of non-INVITE request / INVITE response retransmits
    Duration t4 = 5s;           // maximum time a message stays in the network
    Duration timer_c = 180s;    // ringing limit: the TU CANCELs; the layer ends it 64*T1 later
    Duration trying = 200ms;    // server INVITE: send 100 Trying if the TU is silent this long
};

struct Config {
    TimerConfig timers;
    // Transactions in progress (not yet answered, or retransmitting); new requests beyond this
    // get 503 (§21.5.4). Completed ones do not count: they are kept compactly (below).
    std::size_t max_transactions = 200'000;
    // Completed transactions kept only to absorb retransmissions until their last timer
    // (J, K, D, I, M): a key, the bytes to resend and where, ~200 B each plus those bytes.
    // When full, the oldest ends early (Stats::lingering_evicted) instead of refusing calls.
    std::size_t max_lingering = 2'000'000;
};

using TxnId = std::uint64_t;  // never 0

// Per-request choices of the TU (a B2BUA routing to configured gateways).
struct RequestOptions {
    // INVITE: Timer B, the wait for the FIRST response (VOS3000 SS_SIP_TIMEOUT_INVITE, 10 s);
    // nullopt: 64*T1. It only runs in Calling, as Timer B does (RFC 3261 §17.1.1.2).
    std::optional<Duration> invite_timeout;
    // The TU picked the transport (a gateway's configured one): no UDP->TCP switch for a
    // large request (RFC 3261 §18.1.1 allows UDP when the path MTU is known to suffice).
    bool keep_transport = false;
};

// --- Actions (pulled with poll())

// Put these bytes on the wire to `to`.
struct SendBytes {
    TxnId txn;
    Target to;
    Bytes bytes;
};
// A new server transaction: the TU must answer it with respond().
struct RequestIn {
    TxnId txn;
    Message msg;
    Target source;
};
// ACK for a 2xx: no transaction; belongs to the TU's dialog (RFC 3261 §17.1.1.3, RFC 6026).
struct AckIn {
    Message msg;
    Target source;
};
// A CANCEL (its own server transaction, already answered with 200 by the TU? no: the TU
// answers `cancel_txn` with 200, or 481 when `invite_txn` is 0) matched to its INVITE.
struct CancelIn {
    TxnId cancel_txn;
    TxnId invite_txn;  // 0: no matching INVITE transaction (answer 481)
    Message msg;
    Target source;
};
// A response for a client transaction (provisional or final; every 2xx while Accepted).
struct ResponseIn {
    TxnId txn;
    Message msg;
};
// A response that matched no client transaction: a stateless proxy would forward it; a
// UA/B2BUA passes a retransmitted 2xx for INVITE to its dialog (RFC 3261 §17.1.1.2).
struct StrayResponse {
    Message msg;
    Target source;
};
// Timer B/F (client: no final response), Timer H (server: no ACK for a non-2xx), or 'C':
// a client INVITE still ringing 64*T1 after Timer C (the TU should have CANCELled it).
struct TxnTimeout {
    TxnId txn;
    char timer;  // 'B', 'C', 'F' or 'H'
};
// The transport could not deliver (connection refused, ICMP error): RFC 3261 §17.1.4.
struct TransportError {
    TxnId txn;
};
// The transaction is gone; its id will not appear again.
struct Terminated {
    TxnId txn;
};

using Action = std::variant<SendBytes, RequestIn, AckIn, CancelIn, ResponseIn, StrayResponse,
                            TxnTimeout, TransportError, Terminated>;

// Where a response to a request received from `source` goes (RFC 3261 §18.2.2, RFC 3581):
// stream: the same connection; UDP: the source address, at the rport/sent-by port.
Target response_target(const Message& request, const Target& source);

struct Stats {
    std::uint64_t client_started = 0, server_started = 0;
    std::uint64_t retransmissions_sent = 0, retransmissions_absorbed = 0;
    std::uint64_t timeouts = 0, stray_responses = 0, rejected_overload = 0;
    std::uint64_t lingering_evicted = 0;  // completed ones ended early: max_lingering reached
    std::size_t live = 0;                 // in progress
    std::size_t lingering = 0;            // completed, absorbing retransmissions
};

class Layer {
public:
    Layer(const Config& cfg, Random& rng);
    ~Layer();
    Layer(const Layer&) = delete;
    Layer& operator=(const Layer&) = delete;

    // A message received from `source`. Matches it to a transaction or starts a server one.
    void on_message(Message msg, const Target& source, Instant now);

    // Starts a client transaction for a request the TU built (with its own top Via branch;
    // use make_branch()). ACK for 2xx is not a transaction: send it with send_stateless().
    // Errors: the bytes do not parse, or the request is an ACK.
    Result<TxnId> send_request(std::string_view request, const Target& to, Instant now,
                               const RequestOptions& options = {});
    // The same for a request the TU built itself and trusts: neither copied nor parsed (the
    // method is read from the start line; `branch` is its top Via's branch parameter). Only
    // a non-2xx final response to an INVITE makes the layer parse it, to build the ACK.
    Result<TxnId> send_request(Bytes request, std::string_view branch, const Target& to,
                               Instant now, const RequestOptions& options = {});

    // The TU's response for a server transaction (ignored if the transaction is gone, and
    // once a 2xx made an INVITE's Accepted: retransmit that 2xx with send_stateless()).
    void respond(TxnId txn, std::string_view response, Instant now);
    // The same without a copy, for a TU that already holds the response as shared bytes.
    void respond(TxnId txn, Bytes response, Instant now);

    // A final response to a non-INVITE request given as a stateless UAS would (RFC 3261
    // §8.2.7): sent, and the transaction ends at once instead of keeping the response for
    // Timer J, so a retransmitted request is a new one and is answered again. For answers
    // that cost nothing to give twice and that the UAC takes as they come, such as a
    // registrar's 401 challenge (its nonce is new each time anyway): at thousands of
    // REGISTERs a second, half of what the layer kept. The To tag must then be one the same
    // request always gets (§8.2.7). Anything else (a provisional, an INVITE) is respond().
    void respond_stateless(TxnId txn, Bytes response, Instant now);

    // Bytes outside any transaction (ACK for 2xx, a stateless reply): one SendBytes.
    void send_stateless(std::string_view bytes, const Target& to);

    // The transport failed to deliver for this transaction.
    void on_transport_error(TxnId txn, Instant now);

    std::optional<Instant> next_deadline() const;
    void handle_timeouts(Instant now);
    std::optional<Action> poll();

    const Stats& stats() const noexcept;

    struct Impl;  // opaque

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace sip::txn

// sip::uv::Transports — SIP over UDP, TCP and TLS (IPv4 and IPv6) on one libuv loop.
//
//   sip::uv::Loop loop;
//   sip::uv::Transports tp(loop,
//       {.listen = {{sip::Transport::Udp, "0.0.0.0:5060"}, {sip::Transport::Tls, "[::]:5061"}},
//        .tls = {.cert_file = "server.pem", .key_file = "server.key"}},
//       {.on_message = [&](const sip::Target& src, std::string_view bytes) {
//            auto framing = reliable(src.transport) ? sip::Framing::Stream :
//            sip::Framing::Datagram; if (auto m = sip::Message::parse(bytes, limits, framing))
//            layer.on_message(...);
//        },
//        .on_send_failed = [&](std::uint64_t txn, const sip::Target&, std::string_view why) {
//            layer.on_transport_error(txn, loop.now());   // RFC 3261 §17.1.4
//        },
//        .on_event = [&](std::string_view line) { log(line); }});
//   if (auto err = tp.start(); !err.empty()) die(err);   // err names the listener
//   ... SendBytes a: tp.send(a.to, a.bytes, a.txn);
//
// Sending (RFC 3261 §18.1, §18.2.2):
// - UDP: one datagram from the first UDP listener of the target's address family, so the
//   peer sees our listening port (responses and in-dialog requests come back to it); with
//   no such listener an ephemeral socket is opened (and read) on first use.
// - TCP/TLS: the connection `to.conn` if it is still open with the same transport (the
//   connection a request arrived on: §18.2.2 sends the response there); otherwise an open
//   connection to (transport, host, port[, tls_name]) — inbound or outbound — is reused;
//   otherwise one is opened, and bytes queue until it is connected (and, for TLS,
//   handshaken). A client TLS connection verifies the server against `to.tls_name` (SNI and
//   certificate name) or, when empty, `to.host`.
// - A send that cannot be delivered (bad address, connect refused or timed out, handshake
//   failed, connection reset or closed with the bytes unwritten, queue over
//   `max_pending_bytes`, `max_connections` reached) is reported once through
//   on_send_failed with its tag — always later from the loop, never from inside send(), so
//   a driver may call send() while draining the transaction layer.
//
// Receiving: on_message gets one UDP datagram or one framed stream message (sip::StreamFramer,
// RFC 3261 §18.3) with `source` = {transport, peer ip, peer port, conn (0 for UDP),
// tls_name (the SNI the TLS client sent)}. `bytes` is valid only during the call. CRLFCRLF
// keep-alives are answered with CRLF (RFC 5626 §3.5.1); a framing error is logged once and
// closes the connection (a stream cannot resynchronise); connections silent for
// `idle_timeout` are closed.
//
// Admission (sip::StreamGuard, checked on accept before any TLS byte): a source (an IPv4
// address or an IPv6 /64) holding `max_connections_per_source` open connections, or opening
// more than `new_connections_per_second`, is refused (the socket is reset); `source_limits`
// override both for known gateways. At `max_connections` the source holding the largest share
// of its own limit gives way (its idlest connection is closed) when it holds more than the
// newcomer would; otherwise the newcomer is refused. An outbound connection at the cap takes
// the place of a source holding two or more. A message that has begun on a stream (TCP bytes,
// or a TLS record) must be complete within `message_timeout` (slowloris), whatever the idle
// timeout; the TLS handshake is bounded by `connect_timeout`. Refusals, evictions and
// deadline closes are counted (TransportCounters) and logged once per episode through
// on_event (the first one, a summary a minute while it lasts, a summary at its end).
//
// Handlers run on the loop thread and may call send(), close() and shutdown(); they must
// not destroy the Transports. Destroying it closes everything at once (queued bytes are
// dropped and not reported); shutdown() is the graceful way. Memory of closed handles is
// released by libuv close callbacks, so the Loop must run (or be destroyed) afterwards.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.hpp"
#include "sip/stream_guard.hpp"
#include "sip/time.hpp"
#include "sip/transport.hpp"
#include "sip/uv/loop.hpp"
#include "sip/uv/tls.hpp"

namespace sip::uv {

struct Listener {
    sip::Transport transport = sip::Transport::Udp;
    std::string address{};  // "192.0.2.1:5060", "0.0.0.0:5060", "[::1]:5061", "[::]:5060"
};

struct TransportLimits {
    ParseLimits parse{};  // stream framing limits (datagrams are checked by the parser)
    std::uint32_t max_connections = 4096;  // stream connections, inbound + outbound
    // Per source (IPv4 address, IPv6 /64), inbound; 0 = no limit. A busy gateway keeps a few
    // connections and opens them seldom; these defaults are far above that.
    std::uint32_t max_connections_per_source = 64;
    std::uint32_t new_connections_per_second = 20;  // bursts of as many
    // Overrides by source ("192.0.2.7", "2001:db8:1:2::/64"); start() refuses other text.
    std::vector<SourceLimit> source_limits{};
    Duration idle_timeout = std::chrono::seconds(300);  // no bytes either way this long
    // From the first byte of a message (or TLS record) to its last; 0 = no bound. 64*T1: a
    // request not complete by then has been given up by its sender (RFC 3261 Timer F/B).
    Duration message_timeout = std::chrono::seconds(32);
    Duration connect_timeout = std::chrono::seconds(10);  // TCP connect + TLS handshake
    std::size_t max_pending_bytes = 1 << 20;              // queued outbound bytes per connection
    Duration shutdown_flush = std::chrono::seconds(2);    // shutdown(): bound on flushing
    std::uint32_t listen_backlog = 511;
};

// Several loops reading one UDP port (SO_REUSEPORT; the kernel picks a socket by the
// sender's address and port, so one sender always reaches the same one). `lead`: the first
// socket of the group; start() first checks that no other process holds the port (a bind
// without the option), so two servers cannot share it by mistake. `join`: a further socket,
// bound after the lead's.
enum class UdpPortShare : std::uint8_t { none, lead, join };

struct TransportsConfig {
    std::vector<Listener> listen{};
    UdpPortShare udp_share = UdpPortShare::none;  // for the UDP listeners only
    TlsConfig tls{};  // server side needs cert/key only if a TLS listener is configured
    TransportLimits limits{};
};

// Monotonic counters (and one gauge) for metrics.
struct TransportCounters {
    std::uint64_t connections_open = 0;      // gauge: stream connections now open
    std::uint64_t connections_accepted = 0;  // inbound stream connections accepted
    std::uint64_t connections_opened = 0;    // outbound connections established
    std::uint64_t connections_refused = 0;   // inbound refused at max_connections (or stopping)
    std::uint64_t refused_per_source = 0;    // inbound refused: max_connections_per_source
    std::uint64_t refused_rate = 0;          // inbound refused: new_connections_per_second
    std::uint64_t evicted = 0;               // idle inbound closed at max_connections for another
    std::uint64_t connections_closed = 0;
    std::uint64_t idle_closed = 0;         // closed by the idle timeout
    std::uint64_t message_timeouts = 0;    // closed: a message not complete in message_timeout
    std::uint64_t connect_failures = 0;    // outbound connect refused / timed out
    std::uint64_t handshake_failures = 0;  // TLS, either direction
    std::uint64_t framing_errors = 0;      // stream closed on a framing error
    std::uint64_t messages_in = 0, messages_out = 0;
    std::uint64_t bytes_in = 0, bytes_out = 0;  // SIP bytes (plaintext for TLS)
    std::uint64_t send_failures = 0;            // on_send_failed reports
    std::uint64_t pings_answered = 0;           // RFC 5626 CRLFCRLF keep-alives
    std::uint64_t datagrams_dropped = 0;        // empty or truncated UDP datagrams
};

struct TransportHandlers {
    std::function<void(const Target& source, std::string_view bytes)> on_message{};
    std::function<void(std::uint64_t tag, const Target& to, std::string_view reason)>
        on_send_failed{};
    std::function<void(std::string_view line)> on_event{};  // one line per transport fault
};

class Transports {
public:
    Transports(Loop& loop, TransportsConfig cfg, TransportHandlers handlers);
    ~Transports();
    Transports(const Transports&) = delete;
    Transports& operator=(const Transports&) = delete;

    // Binds every listener and loads TLS files. Returns "" or an error naming the listener
    // ("listen TCP [::1]:5060: address already in use") or the source_limits entry that is
    // not an address. Call once.
    std::string start();

    // Queues `bytes` for `to`; failures come back through on_send_failed(tag, ...).
    void send(const Target& to, Bytes bytes, std::uint64_t tag = 0);
    void send(const Target& to, std::string_view bytes, std::uint64_t tag = 0);

    // Closes one stream connection now (queued bytes are reported as failed).
    void close(std::uint64_t conn);

    // Graceful stop: listeners close at once, new sends fail, connections flush their queued
    // bytes (bounded by limits.shutdown_flush) and close; then `done` runs.
    void shutdown(std::function<void()> done = {});

    // The port a listener is bound to (useful with port 0); 0 if unknown.
    std::uint16_t local_port(std::size_t listener_index) const;
    // Is this stream connection open (connecting counts)?
    bool connection_alive(std::uint64_t conn) const;
    std::size_t connection_count() const noexcept;
    const TransportCounters& counters() const noexcept;

    struct Impl;

private:
    Impl* impl_;  // self-deleting once its last libuv handle has closed
};

// "1.2.3.4:5060" / "[::1]:5060" into host and port; false if malformed.
bool split_host_port(std::string_view spec, std::string& host, std::uint16_t& port);

}  // namespace sip::uv

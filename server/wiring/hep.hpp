// wiring::HepSender — every SIP message the server receives and sends, copied to a HEPv3
// collector (Homer, sngrep -L), without ever blocking the loop.
// The packet is built by the pure sw::hep::encode; this file only moves it.
//
//   wiring::HepSender hep(loop, cfg.hep, transports_cfg.listen);   // [capture] hep = ...
//   if (auto err = hep.start(); !err.empty()) die(err);   // "capture.hep: cannot resolve ..."
//   hep.received(source, bytes);    // Driver::on_message
//   hep.sent(to, *bytes);           // Driver::flush, each send
//   hep.close();                    // at shutdown; logs "hep: N packets sent, M dropped"
//
// UDP (the default): one datagram per message on a connected, non-blocking socket; a send
// that would block (or fails) is dropped and counted: a slow collector costs captures, never
// call latency. TCP: the messages go through a sip::uv::Transports of its own (the libuv TCP
// client with a bounded queue, the wiring never includes <uv.h>); a packet that overflows the
// queue or is lost with the connection is dropped and counted, and after a failure packets
// are dropped (and counted) for a backoff of 1 s doubling to 30 s before it connects again.
//
// Addresses: the peer is the message's source or target; our side is the first listener of
// the same transport and family (a wildcard listener shows as 0.0.0.0 / ::). The collector
// name is resolved once, at start().
// Lifetimes: the Loop outlives the sender; everything runs on the loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sip/transport.hpp"
#include "sip/uv/loop.hpp"
#include "sip/uv/transports.hpp"

namespace wiring {

// [capture]: the HEP collector. README "SIP capture (HEP)".
struct HepConfig {
    std::string collector{};                         // "host:port"; "" = capture off
    sip::Transport transport = sip::Transport::Udp;  // Udp or Tcp
    std::uint32_t capture_id = 2001;                 // hep_id: the node id Homer shows
    std::string password{};                          // hep_password: the auth-key chunk
    friend bool operator==(const HepConfig&, const HepConfig&) = default;
};

struct HepCounters {
    std::uint64_t sent = 0;     // handed to the socket (TCP: and not lost with a connection)
    std::uint64_t dropped = 0;  // socket full, queue full, collector down, not encodable
};

class HepSender {
  public:
    HepSender(sip::uv::Loop& loop, HepConfig cfg, std::vector<sip::uv::Listener> local);
    ~HepSender();
    HepSender(const HepSender&) = delete;
    HepSender& operator=(const HepSender&) = delete;

    // Resolves the collector and opens the socket: "" or the error.
    std::string start();
    void received(const sip::Target& from, std::string_view bytes);
    void sent(const sip::Target& to, std::string_view bytes);
    // Stops sending (TCP: flushes what is queued, bounded) and logs the counters.
    void close();
    const HepCounters& counters() const noexcept { return counters_; }

  private:
    struct Local {
        sip::Transport transport;
        std::string host;
        std::uint16_t port;
    };
    void capture(const sip::Target& peer, std::string_view bytes, bool inbound);
    Local local_for(const sip::Target& peer) const;
    void send_udp(const std::string& pkt);
    void send_tcp(std::string pkt);
    void on_tcp_failed(std::string_view why);
    void drop(std::string_view why);
    std::string_view kind() const;  // "udp" / "tcp", for log lines

    sip::uv::Loop& loop_;
    HepConfig cfg_;
    std::vector<Local> local_;
    sip::Target collector_{};  // resolved
    int fd_ = -1;              // UDP
    std::unique_ptr<sip::uv::Transports> tcp_;
    sip::Instant retry_at_{};  // TCP: no connection attempt before this
    sip::Duration backoff_{};
    std::uint64_t opened_seen_ = 0;  // TCP connections established, when last looked at
    bool failing_ = false;           // a failure was logged; the next success is logged too
    bool unencodable_logged_ = false;
    bool closed_ = false;
    HepCounters counters_;
};

}  // namespace wiring

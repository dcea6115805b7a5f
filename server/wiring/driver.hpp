// wiring::Driver — the switch on the loop: SIP over UDP/TCP/TLS (sip::uv::Transports) feeds
// sw::Switch, and after every input (bytes, send failure, deadline) flush() drains what the
// switch produced: sends to the transports, rated CDRs to the writer thread, store
// operations to the SQLite file, log lines to stderr; then it re-arms the one deadline timer
// with sw.next_deadline() (DESIGN.md §3: one uv_timer for everything timed).
//
//   wiring::Driver driver(loop, sw, shutdown, {.cdrs = cdr_writer, .store = reg_store,
//                                              .log_cdrs = cfg.log_messages, .hep = cfg.hep});
//   if (auto err = driver.start(listening.transports); !err.empty()) die(err);
//   sw.registrations().set_trunks(specs, loop.now());
//   driver.flush();                    // after any direct call on the switch
//   driver.close([&] { loop.stop(); }); // at shutdown: graceful, queued bytes flushed
//
// SIP capture: with `hep.collector` set, every message in (on_message) and out (each send of
// flush) is also copied to the HEP collector (wiring::HepSender): this is the one place all
// SIP bytes pass. The on-demand traces (sw::trace, the switch's) are fed from the same two
// places while one is active (one branch per message otherwise); a received message after
// the switch read it, so the trace finds the call it started.
// Stopping: a flush that finds the shutdown begun and the carrier entries stopped finishes
// it (Shutdown::finish) instead of re-arming; messages arriving after that are dropped.
// Several loops (DESIGN.md §8): with `readers.count` > 0 the UDP listeners are shared
// (SO_REUSEPORT) with that many wiring::UdpReader threads; what they hand over arrives through
// their Inbox and a Wakeup on this loop, and goes to the switch like a datagram read here.
// While HEP capture, a trace or per-message debug logging is on they answer no OPTIONS
// themselves, so every message still passes here.
// Lifetimes: every reference outlives the Driver; start() once, before any flush().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sip/uv/loop.hpp"
#include "sip/uv/transports.hpp"
#include "sw/switch.hpp"
#include "wiring/cdr_writer.hpp"
#include "wiring/hep.hpp"
#include "wiring/reg_store.hpp"
#include "wiring/shutdown.hpp"
#include "wiring/udp_reader.hpp"

namespace wiring {

class Driver {
  public:
    struct Sinks {
        CdrWriter& cdrs;
        RegStore& store;
        bool log_cdrs = true;  // one line per CDR (off: --quiet)
        HepConfig hep{};       // [capture]; collector "" = off
    };
    Driver(sip::uv::Loop& loop, sw::Switch& sw, Shutdown& shutdown, Sinks sinks);
    ~Driver();
    Driver(const Driver&) = delete;
    Driver& operator=(const Driver&) = delete;

    // "" or the error naming the listener ("listen TCP [::1]:5060: address already in use")
    // or the HEP collector ("capture.hep: cannot resolve 'homer': ...").
    struct UdpReaders {
        std::uint32_t count = 0;   // ServerConfig::udp_threads - 1
        sw::FrontConfig front{};   // its Allow list is the element's (set by start())
        bool log_messages = true;  // ElementConfig::log_messages
    };
    std::string start(const sip::uv::TransportsConfig& cfg, UdpReaders readers);
    std::string start(const sip::uv::TransportsConfig& cfg);  // no readers
    void flush();
    void close(std::function<void()> done);
    // What the transports counted (connections accepted, refused by the per-source limits,
    // evicted, closed at the message deadline, ...); after start().
    const sip::uv::TransportCounters& transport_counters() const;
    // SIP messages the UDP reader threads took in (answered there or handed over) and sent.
    struct ReaderCounts {
        std::uint64_t messages_in = 0, messages_out = 0;
    };
    const ReaderCounts& reader_counts() const noexcept { return reader_counts_; }
    // The HEP capture's counters (sent, dropped); nullptr when capture is off.
    const HepCounters* hep_counters() const;

  private:
    void on_message(const sip::Target& source, std::string_view bytes);
    void on_send_failed(std::uint64_t txn, const sip::Target& to, std::string_view why);
    void on_deadline();
    std::string start_readers(const sip::uv::TransportsConfig& cfg, UdpReaders readers);
    void on_handed_over();
    bool readers_may_answer() const;
    void drain_cdrs();
    void drain_store_and_logs();
    void trace(const sip::Target& peer, std::string_view bytes, bool inbound);
    struct Local {  // a listener's address, our side of a traced message
        sip::Transport transport;
        std::string host;
        std::uint16_t port;
    };
    std::vector<Local> local_;

    sip::uv::Loop& loop_;
    sw::Switch& sw_;
    Shutdown& shutdown_;
    Sinks sinks_;
    sip::uv::Timer deadline_;
    sip::uv::AfterIo after_io_;  // one flush per loop iteration for received messages
    std::unique_ptr<sip::uv::Transports> transports_;
    std::unique_ptr<HepSender> hep_;
    bool log_messages_ = true;
    ReaderCounts reader_counts_;
    UdpReader::Inbox inbox_;
    std::unique_ptr<sip::uv::Wakeup> handed_over_;
    std::vector<std::unique_ptr<UdpReader>> readers_;
};

}  // namespace wiring

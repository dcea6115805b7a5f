// wiring::UdpReader — another loop reading the UDP SIP port on its own thread (DESIGN.md §8,
// "Several loops"): its own socket on the port (SO_REUSEPORT, so one sender always reaches
// the same socket and its messages stay in order), an sw::Front that answers OPTIONS there
// and then, and an Inbox through which everything else reaches the switch's loop parsed.
// The switch's state stays on its one loop: no lock but the Inbox's.
//
//   wiring::UdpReader::Inbox inbox;
//   sip::uv::Wakeup wake(loop, [&] { for (auto& r : inbox.take().received) ... });
//   wiring::UdpReader reader({.listen = udp_listeners, .udp_share = sip::uv::UdpPortShare::join},
//                            front_cfg, inbox, [&] { wake.notify(); });
//   if (auto err = reader.start(); !err.empty()) die(err);   // binds here, then runs
//   reader.set_answer_options(false);   // while a capture must see every message
//   reader.stop();                      // joins the thread; from the switch's loop
//
// Lifetimes: the Inbox and `notify`'s target outlive the reader; stop() (or the destructor)
// before them.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sip/uv/loop.hpp"
#include "sip/uv/transports.hpp"
#include "sw/front.hpp"

namespace wiring {

class UdpReader {
  public:
    // What the readers hand to the switch's loop; several readers may share one.
    class Inbox {
      public:
        struct Batch {
            std::vector<sw::Received> received;  // per sender in arrival order
            sw::AnsweredElsewhere answered{};
        };
        // false when there was nothing to add (no need to wake the switch's loop)
        bool put(std::vector<sw::Received>& received, const sw::AnsweredElsewhere& answered);
        Batch take();

      private:
        std::mutex mu_;
        Batch batch_;
    };

    UdpReader(sip::uv::TransportsConfig udp, sw::FrontConfig front, Inbox& inbox,
              std::function<void()> notify);
    ~UdpReader();
    UdpReader(const UdpReader&) = delete;
    UdpReader& operator=(const UdpReader&) = delete;

    // Binds the sockets (the error names the listener) and starts the thread. Once.
    std::string start();
    void set_answer_options(bool on) noexcept { answer_options_.store(on, std::memory_order_relaxed); }
    // Closes the sockets and joins the thread; idempotent.
    void stop();

  private:
    void on_datagram(const sip::Target& source, std::string_view bytes);
    void hand_over();

    sip::uv::Loop loop_;
    sw::Front front_;
    Inbox& inbox_;
    std::function<void()> notify_;
    std::atomic<bool> answer_options_{true};
    std::vector<sw::Received> pending_;  // this wake-up's, for the switch
    sip::uv::AfterIo after_io_;          // one hand-over per wake-up
    sip::uv::Wakeup stop_;
    sip::uv::TransportsConfig udp_;
    std::unique_ptr<sip::uv::Transports> transports_;
    std::thread thread_;
    bool stopped_ = false;
};

}  // namespace wiring

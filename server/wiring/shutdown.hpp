// wiring::Shutdown — graceful stop on SIGTERM/SIGINT (DESIGN.md §8): the first signal logs
// "signal N: stopping" and begins (the carrier entries send their unregisters); the process
// finishes when everything that had to stop has stopped, or when the bound is over ("trunk-reg:
// unregister wait is over"; unregister_wait plus 200 ms, so the clients, bound by
// unregister_wait themselves, report their outcome first), whichever comes first. Later
// signals are ignored.
//
//   wiring::Shutdown stop(loop, cfg.unregister_wait);
//   stop.set_steps({.begin = [&] { sw.registrations().stop_all(loop.now()); },
//                   .drain = [&] { driver.flush(); },
//                   .teardown = [&] { /* cancel timers, write what is pending, close */ }});
//   stop.listen();      // installs the signal handlers
//   // after every drain (Driver::flush):
//   if (stop.stopping() && !stop.finished() && sw.registrations().stopped()) stop.finish();
//
// begin runs, then the bound's timer is armed, then drain: a drain that finishes at once
// (nothing to unregister) cancels the timer, so the loop does not wait for it. finish()
// runs teardown once. Lifetimes: the loop outlives it; the steps' captures outlive it.
#pragma once

#include <chrono>
#include <functional>
#include <optional>

#include "sip/time.hpp"
#include "sip/uv/loop.hpp"

namespace wiring {

class Shutdown {
  public:
    struct Steps {
        std::function<void()> begin;     // stop accepting; unregister
        std::function<void()> drain;     // deliver what begin produced
        std::function<void()> teardown;  // once: stop timers, flush, close the transports
    };
    Shutdown(sip::uv::Loop& loop, sip::Duration unregister_wait);

    void set_steps(Steps steps) { steps_ = std::move(steps); }
    void listen();
    bool stopping() const noexcept { return stopping_; }
    bool finished() const noexcept { return finished_; }
    void finish();

  private:
    void on_signal(int signum);

    sip::uv::Loop& loop_;
    sip::Duration bound_;
    Steps steps_;
    bool stopping_ = false, finished_ = false;
    sip::uv::Timer bound_timer_;
    std::optional<sip::uv::Signals> signals_;
};

}  // namespace wiring

// wiring::Shutdown — graceful stop on SIGTERM/SIGINT (DESIGN.md §8): the first signal logs
// "signal N: stopping" and begins (new INVITEs get 503 + Retry-After, the carrier entries send
// their unregisters); the process finishes when the unregisters are answered and the running
// calls have ended, each within its own bound:
//   - unregisters: unregister_wait plus 200 ms ("trunk-reg: unregister wait is over"), so the
//     clients, bound by unregister_wait themselves, report their outcome first;
//   - calls: drain_calls ("shutdown: N calls still up after the drain bound: hanging up"),
//     then the hang_up step ends the rest (BYE both ways, their CDRs written).
// Later signals are ignored.
//
//   wiring::Shutdown stop(loop, {.unregister_wait = 5s, .drain_calls = 30s});
//   stop.set_steps({.begin = [&] { sw.calls().drain(60s); sw.registrations().stop_all(now); },
//                   .hang_up = [&] { for (auto& c : sw.calls().list()) sw.calls().hangup(c.id, now); },
//                   .drain = [&] { driver.flush(); },
//                   .teardown = [&] { /* cancel timers, write what is pending, close */ }});
//   stop.listen();      // installs the signal handlers
//   // after every drain (Driver::flush):
//   stop.maybe_finish(sw.registrations().stopped(), sw.calls().active());
//
// begin runs, then the bounds' timers are armed, then drain: a drain that finishes at once
// (nothing to unregister, no call) cancels the timers, so the loop does not wait for them.
// finish() runs teardown once. Lifetimes: the loop outlives it; the steps' captures outlive it.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>

#include "sip/time.hpp"
#include "sip/uv/loop.hpp"

namespace wiring {

class Shutdown {
  public:
    struct Bounds {
        sip::Duration unregister_wait;  // [trunk_registration] unregister_wait
        sip::Duration drain_calls;      // [shutdown] drain_calls
    };
    struct Steps {
        std::function<void()> begin;     // stop accepting; unregister
        std::function<void()> hang_up;   // the drain bound passed: end the calls still up
        std::function<void()> drain;     // deliver what begin (or hang_up) produced
        std::function<void()> teardown;  // once: stop timers, flush, close the transports
    };
    Shutdown(sip::uv::Loop& loop, Bounds bounds);

    void set_steps(Steps steps) { steps_ = std::move(steps); }
    // Installs the handlers; on_hangup (may be empty) runs on SIGHUP, until finish().
    void listen(std::function<void()> on_hangup = {});
    // A configuration reload; a drain already begun keeps the bounds it started with.
    void set_bounds(Bounds bounds) noexcept { bounds_ = bounds; }
    bool stopping() const noexcept { return stopping_; }
    bool finished() const noexcept { return finished_; }
    // After every drain: finishes once both waits are over (done or past their bound).
    void maybe_finish(bool unregistered, std::size_t active_calls);
    void finish();

  private:
    void on_signal(int signum);

    sip::uv::Loop& loop_;
    Bounds bounds_;
    Steps steps_;
    bool stopping_ = false, finished_ = false;
    bool unregister_over_ = false, calls_over_ = false;
    sip::uv::Timer unregister_timer_, drain_timer_;
    std::optional<sip::uv::Signals> signals_;
};

}  // namespace wiring

// sip::uv::Loop, Timer, Signals — the event loop for wiring code that never includes <uv.h>.
//
//   sip::uv::Loop loop;
//   sip::uv::Timer tick(loop, [&] {
//       layer.handle_timeouts(loop.now());
//       drain(layer);
//       if (auto d = layer.next_deadline()) tick.arm(*d);  // one timer for the whole layer
//   });
//   sip::uv::Signals sig(loop, [&](int) { transports.shutdown([&] { loop.stop(); }); });
//   loop.run();
//
// Time: `now()` is libuv's cached loop time (uv_now, milliseconds, updated once per loop
// iteration) as a sip::Instant; this is the only place a Trunkline Instant is made from a
// clock (DESIGN.md §3). Timers fire on that same clock, so `arm(layer.next_deadline())`
// never fires early relative to the Instant the layer is given.
//
// Lifetimes: every callback runs on the loop thread. Destroying a Timer or Signals cancels
// it; the handle's memory is released by libuv's close callback, so destroy them before the
// Loop (or let ~Loop finish the closes). ~Loop runs the loop until every handle is closed;
// handles still open then (an owner that was leaked) are closed by force.
#pragma once

#include <functional>
#include <memory>

#include "sip/time.hpp"

struct uv_loop_s;  // libuv's loop type, opaque here

namespace sip::uv {

class Loop {
public:
    Loop();
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    // Runs until stop() or until nothing keeps the loop alive (no active, referenced handle).
    void run();
    // One iteration: waits for at least one event if any handle is active. Returns false when
    // nothing is left to wait for.
    bool run_once();
    // Makes run() return after the current iteration.
    void stop();

    Instant now() const noexcept;
    // For other adapters (c-ares) that need the raw loop.
    uv_loop_s* native() noexcept { return loop_.get(); }

private:
    std::unique_ptr<uv_loop_s> loop_;
};

// A one-shot timer on the loop clock; re-arm it from its own callback as needed.
class Timer {
public:
    Timer(Loop& loop, std::function<void()> on_fire);
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    // Fires once at `at` (immediately on the next iteration if `at` is not in the future).
    // Re-arming replaces the previous deadline.
    void arm(Instant at);
    void arm_after(Duration d);
    void cancel();
    bool armed() const noexcept;

    struct Handle;  // opaque: a uv_timer_t and the callback

private:
    Handle* h_;
};

// Work to do once per loop iteration, after the I/O callbacks of that iteration (libuv's
// check phase), only in the iterations that asked for it. A driver handing each received
// datagram to its core calls request() instead of flushing; the flush then runs once for
// the whole recvmmsg batch, and what it queues still leaves before the loop blocks again.
//
//   sip::uv::AfterIo after(loop, [&] { driver.flush(); });
//   after.request();  // from an I/O callback: flush() runs at the end of this iteration
//
// Request it from I/O callbacks only: requested from a timer (before the poll phase), the
// work would wait for the next I/O or the next timer.
class AfterIo {
public:
    AfterIo(Loop& loop, std::function<void()> work);
    ~AfterIo();
    AfterIo(const AfterIo&) = delete;
    AfterIo& operator=(const AfterIo&) = delete;

    void request();  // idempotent until the work has run
    bool requested() const noexcept;

    struct Handle;

private:
    Handle* h_;
};

// Another thread asks for work on this loop: notify() may be called from any thread, and
// the work runs on the loop's thread, once for however many notifications came since it last
// ran (libuv's uv_async). It does not keep the loop alive by itself.
//
//   sip::uv::Wakeup wake(loop, [&] { for (auto& m : inbox.take()) handle(m); });
//   // another thread: inbox.put(m); wake.notify();
//
// Destroy it on the loop's thread, after the other thread stopped notifying.
class Wakeup {
public:
    Wakeup(Loop& loop, std::function<void()> work);
    ~Wakeup();
    Wakeup(const Wakeup&) = delete;
    Wakeup& operator=(const Wakeup&) = delete;
    void notify() noexcept;
    struct Handle;

private:
    Handle* h_;
};

// SIGINT and SIGTERM, and SIGHUP when on_hangup is given (a configuration reload; without
// it SIGHUP keeps its default action). The signal handles do not keep the loop alive by
// themselves, so run() still returns once everything else (listeners, connections, timers)
// has closed.
class Signals {
public:
    Signals(Loop& loop, std::function<void(int signum)> on_signal,
            std::function<void()> on_hangup = {});
    ~Signals();
    Signals(const Signals&) = delete;
    Signals& operator=(const Signals&) = delete;

    struct Handle;

private:
    Handle* h_;
};

}  // namespace sip::uv

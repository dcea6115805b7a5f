#include "wiring/shutdown.hpp"

#include <fmt/format.h>

#include "wiring/log.hpp"

namespace wiring {

namespace {
using namespace std::chrono_literals;
// past the clients' own bound (unregister_wait), so they report their outcome first
constexpr sip::Duration kMargin = 200ms;
}  // namespace

Shutdown::Shutdown(sip::uv::Loop& loop, Bounds bounds)
    : loop_(loop),
      bounds_(bounds),
      unregister_timer_(loop,
                        [this] {
                            // the unregister bound passed (the clients gave up at their stop
                            // deadline)
                            if (finished_) return;
                            log_line("trunk-reg: unregister wait is over");
                            unregister_over_ = true;
                            steps_.drain();
                        }),
      drain_timer_(loop, [this] {
          if (finished_) return;
          calls_over_ = true;
          steps_.hang_up();
          steps_.drain();
      }) {}

void Shutdown::listen(std::function<void()> on_hangup) {
    std::function<void()> hangup;  // empty: SIGHUP keeps its default action
    if (on_hangup)
        hangup = [this, h = std::move(on_hangup)] {
            if (!finished_) h();
        };
    signals_.emplace(loop_, [this](int signum) { on_signal(signum); }, std::move(hangup));
}

void Shutdown::on_signal(int signum) {
    if (stopping_) return;
    stopping_ = true;
    log_line(fmt::format("signal {}: stopping", signum));
    steps_.begin();
    unregister_timer_.arm(loop_.now() + bounds_.unregister_wait + kMargin);
    drain_timer_.arm(loop_.now() + bounds_.drain_calls);
    steps_.drain();
}

void Shutdown::maybe_finish(bool unregistered, std::size_t active_calls) {
    if (!stopping_ || finished_) return;
    if (!unregistered && !unregister_over_) return;
    if (active_calls > 0 && !calls_over_) return;
    finish();
}

void Shutdown::finish() {
    if (finished_) return;
    finished_ = true;
    unregister_timer_.cancel();
    drain_timer_.cancel();
    steps_.teardown();
}

}  // namespace wiring

#include "wiring/shutdown.hpp"

#include <fmt/format.h>

#include "wiring/log.hpp"

namespace wiring {

namespace {
using namespace std::chrono_literals;
// past the clients' own bound (unregister_wait), so they report their outcome first
constexpr sip::Duration kMargin = 200ms;
}  // namespace

Shutdown::Shutdown(sip::uv::Loop& loop, sip::Duration unregister_wait)
    : loop_(loop), bound_(unregister_wait + kMargin), bound_timer_(loop, [this] {
          // the unregister bound passed (the clients gave up at their stop deadline)
          if (!finished_) {
              log_line("trunk-reg: unregister wait is over");
              finish();
          }
      }) {}

void Shutdown::listen() {
    signals_.emplace(loop_, [this](int signum) { on_signal(signum); });
}

void Shutdown::on_signal(int signum) {
    if (stopping_) return;
    stopping_ = true;
    log_line(fmt::format("signal {}: stopping", signum));
    steps_.begin();
    bound_timer_.arm(loop_.now() + bound_);
    steps_.drain();
}

void Shutdown::finish() {
    if (finished_) return;
    finished_ = true;
    bound_timer_.cancel();
    steps_.teardown();
}

}  // namespace wiring

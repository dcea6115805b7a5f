// Protocol time without a clock: sip::Instant / sip::Duration (DESIGN.md §3).
//
//   sip::Instant now = sip::Instant{} + std::chrono::milliseconds(uv_now(loop));  // adapters only
//   layer.handle_timeouts(now);
//   if (auto d = layer.next_deadline()) arm_timer(*d - now);
//
// MonoClock has no now(): pure code can only be *given* an Instant, so every timer runs on
// whatever time the caller supplies (tests run Timer B's 32 s in microseconds).
#pragma once

#include <chrono>
#include <cstdint>

namespace sip {

struct MonoClock {
    using rep = std::int64_t;
    using period = std::nano;
    using duration = std::chrono::duration<rep, period>;
    using time_point = std::chrono::time_point<MonoClock>;
    static constexpr bool is_steady = true;
    // deliberately no now()
};

using Duration = MonoClock::duration;
using Instant = MonoClock::time_point;

constexpr Instant instant_ms(std::int64_t ms) noexcept {
    return Instant{std::chrono::duration_cast<Duration>(std::chrono::milliseconds(ms))};
}

}  // namespace sip

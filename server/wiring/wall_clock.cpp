#include "wiring/wall_clock.hpp"

#include <chrono>

namespace wiring {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t WallClock::to_wall(sip::Instant t) const {
    return wall_ms() +
           std::chrono::duration_cast<std::chrono::milliseconds>(t - loop.now()).count();
}

}  // namespace wiring

// wiring::wall_ms, wiring::WallClock — the database keeps wall-clock Unix milliseconds (a
// restart must compare them with a new clock); the switch runs on the loop's monotonic
// Instants. WallClock converts at the moment of the call.
//
//   wiring::WallClock clock{loop};
//   row.expires_ms = clock.to_wall(binding.expires_at);
#pragma once

#include <cstdint>

#include "sip/time.hpp"
#include "sip/uv/loop.hpp"

namespace wiring {

std::int64_t wall_ms();  // Unix milliseconds now (the system clock)

struct WallClock {
    const sip::uv::Loop& loop;
    std::int64_t to_wall(sip::Instant t) const;
};

}  // namespace wiring

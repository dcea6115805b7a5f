// Time for route::domain: the project's sip::Instant / sip::Duration on a MonoClock without
// now() (DESIGN.md §3). Only an adapter makes an Instant (from uv_now).
#pragma once

#include "sip/time.hpp"

namespace route::domain {
using sip::Duration;
using sip::Instant;
}  // namespace route::domain

#include "wiring/log.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "sw/log_safety.hpp"

namespace wiring {

void log_line(std::string_view line) {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    // values from the wire are in many lines: whatever they hold, this stays one line
    fmt::print(stderr, "{:%Y-%m-%dT%H:%M:%S}.{:03d}Z {}\n",
               std::chrono::floor<std::chrono::seconds>(now), ms.count(), sw::escape_for_log(line));
}

}  // namespace wiring

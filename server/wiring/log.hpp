// wiring::log_line — trunkline's log: one line on stderr, prefixed with the UTC time to the
// millisecond. Safe from any thread (the CDR writer logs from its own).
//
//   wiring::log_line("routing: 3 customers, 12 vendor gateways");
//   // 2024-05-01T12:00:00.042Z routing: 3 customers, 12 vendor gateways
#pragma once

#include <string_view>

namespace wiring {

void log_line(std::string_view line);

}  // namespace wiring

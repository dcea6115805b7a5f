// sw::render_metrics — the switch's counters in the Prometheus text exposition format
// (version 0.0.4), for GET /metrics. Pure: the switch's own stats plus what the wiring
// measured (ProcessMetrics).
//
//   sw::ProcessMetrics p{.resident_bytes = rss(), .cdr_queued = cdrs.stats().queued};
//   std::string text = sw::render_metrics(sw, p, loop.now());
//   // # TYPE trunkline_calls_active gauge
//   // trunkline_calls_active 3
//
// Label sets stay bounded: gateway and customer names (the operator's tables), transaction
// kinds, never numbers or Call-IDs. Label values are escaped (\\, \", \n).
#pragma once

#include <cstdint>
#include <string>

#include "sip/time.hpp"

namespace sw {

class Switch;

struct ProcessMetrics {
    std::uint64_t resident_bytes = 0;      // /proc/self/statm
    sip::Duration loop_lag{};              // the last sample: how late a periodic timer fired
    sip::Duration loop_lag_max{};          // the largest of the recent samples
    std::uint64_t cdr_queued = 0, cdr_written = 0, cdr_failures = 0;  // wiring::CdrWriter
    std::uint64_t messages_in = 0, messages_out = 0;  // SIP messages through the transports
    std::uint64_t connections_open = 0;               // stream connections now
    std::uint64_t api_tokens = 0;
};

std::string render_metrics(Switch& sw, const ProcessMetrics& p, sip::Instant now);

}  // namespace sw

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
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "sip/time.hpp"

namespace sw {

class Switch;

// A Prometheus histogram of durations: cumulative counts per upper bound (seconds), the
// count of every observation (+Inf) and their sum in microseconds (exact).
class Histogram {
  public:
    explicit Histogram(std::vector<double> bounds_s) : bounds_(std::move(bounds_s)), le_(bounds_.size() + 1) {}
    void add(sip::Duration d);
    const std::vector<double>& bounds() const noexcept { return bounds_; }
    const std::vector<std::uint64_t>& cumulative() const noexcept { return le_; }  // last: +Inf
    std::uint64_t count() const noexcept { return le_.back(); }
    std::uint64_t sum_us() const noexcept { return sum_us_; }

  private:
    std::vector<double> bounds_;
    std::vector<std::uint64_t> le_;
    std::uint64_t sum_us_ = 0;
};

struct ProcessMetrics {
    std::uint64_t resident_bytes = 0;      // /proc/self/statm
    sip::Duration loop_lag{};              // the last sample: how late a periodic timer fired
    sip::Duration loop_lag_max{};          // the largest of the recent samples
    std::uint64_t cdr_queued = 0, cdr_written = 0, cdr_failures = 0;  // wiring::CdrWriter
    std::optional<Histogram> cdr_commit;  // time to commit one batch of CDRs
    // wiring::Dns: the switch's lookups by what the cache answered
    std::uint64_t dns_hits = 0, dns_stale = 0, dns_misses = 0, dns_failures = 0;
    // wiring::HepSender ([capture] hep); nullopt: capture is off
    std::optional<std::pair<std::uint64_t, std::uint64_t>> hep_sent_dropped;
    std::uint64_t messages_in = 0, messages_out = 0;  // SIP messages through the transports
    std::uint64_t connections_open = 0;               // stream connections now
    std::uint64_t api_tokens = 0;
};

std::string render_metrics(Switch& sw, const ProcessMetrics& p, sip::Instant now);

}  // namespace sw

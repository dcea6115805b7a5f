// sw::Histogram (sw/metrics.hpp): apart from the metrics text so the calls core (and its
// fuzz target) links it without the API.
#include <algorithm>
#include <chrono>

#include "sw/metrics.hpp"

namespace sw {

void Histogram::add(sip::Duration d) {
    const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::microseconds>(d).count()));
    sum_us_ += us;
    // cumulative: every bucket whose bound is at least the observation, and +Inf
    for (std::size_t i = 0; i < bounds_.size(); ++i)
        if (static_cast<double>(us) <= bounds_[i] * 1e6) ++le_[i];
    ++le_.back();
}

}  // namespace sw

// wiring::CallsPublisher — the switch's calls and gateway states, handed to the CDR writer
// thread once a second for `trunkctl call list` and `trunkctl gateway status`.
//
//   wiring::CallsPublisher pub(sw, cdr_writer, loop);
//   pub.publish();   // every reload poll: the call list only when Calls::generation() moved
//   pub.clear();     // at shutdown: no call of ours is running any more
//
// Lifetimes: the switch, the writer and the loop outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "sip/uv/loop.hpp"
#include "sw/switch.hpp"
#include "wiring/cdr_writer.hpp"
#include "wiring/wall_clock.hpp"

namespace wiring {

class CallsPublisher {
  public:
    CallsPublisher(sw::Switch& sw, CdrWriter& writer, const sip::uv::Loop& loop);

    void publish();
    void clear();

  private:
    std::optional<std::vector<route::lcr::sqlite::ActiveCall>> calls_if_changed();
    std::vector<route::lcr::sqlite::GatewayLive> gateways() const;

    sw::Switch& sw_;
    CdrWriter& writer_;
    WallClock clock_;
    std::optional<std::uint64_t> published_generation_;
};

}  // namespace wiring

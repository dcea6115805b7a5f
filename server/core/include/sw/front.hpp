// sw::Front — what a UDP reader thread does with a datagram before the switch sees it
// (DESIGN.md §8, "Several loops"): it parses it, answers an OPTIONS itself with the very
// bytes the element would send (sw::options_answer: stateless, nothing kept), and hands
// everything else to the switch's loop already parsed, so no state leaves that loop.
//
//   sw::Front front({.limits = limits, .server_header = "Trunkline",
//                    .allow = std::string(sw.element().allow())});
//   std::vector<sw::Received> for_switch;
//   if (auto a = front.on_datagram(bytes, source, for_switch)) udp.send(a->to, a->bytes);
//   // on the switch's loop, in order:
//   for (sw::Received& r : for_switch) sw.on_received(std::move(r), now);
//   sw.element().count_answered_elsewhere(front.take_answered());
//
// With `answer_options` off (HEP capture, a trace, per-message debug logs: what must see
// every message) the OPTIONS go to the switch too. Pure: no I/O, no clock, no lock; one per
// reader thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.hpp"
#include "sip/transport.hpp"
#include "sip/txn/layer.hpp"
#include "sw/element.hpp"

namespace sw {

struct FrontConfig {
    sip::ParseLimits limits{};
    std::string server_header = "Trunkline";
    std::string allow = "OPTIONS";  // the element's Allow list (Element::allow())
    bool answer_options = true;
};

class Front {
  public:
    explicit Front(FrontConfig cfg) : cfg_(std::move(cfg)) {}

    // The answer to send when the datagram was an OPTIONS answered here; otherwise nullopt
    // and the datagram appended to `for_switch` (parsed, or raw when it does not parse).
    std::optional<sip::txn::SendBytes> on_datagram(std::string_view bytes,
                                                   const sip::Target& source,
                                                   std::vector<Received>& for_switch);
    void set_answer_options(bool on) noexcept { cfg_.answer_options = on; }
    // What was answered here since the last call (for the element's counters).
    AnsweredElsewhere take_answered() noexcept {
        AnsweredElsewhere a = answered_;
        answered_ = {};
        return a;
    }

  private:
    FrontConfig cfg_;
    AnsweredElsewhere answered_{};
};

}  // namespace sw

// sw::CallMetrics — what /metrics shows about calls beyond the router's and the customers'
// counters: answered and failed calls and talk time per customer gateway, talk time and
// post-dial delay per vendor gateway, and a PDD histogram. Fed by sw::Calls as calls ring
// and end; read by sw::render_metrics. Pure, bounded: keyed by gateway names (the
// operator's tables), never by numbers.
//
//   sw::CallMetrics m;
//   m.on_pdd("gw1", 2300ms);          // the first 180/183 (or the answer) of a call
//   m.on_ended(record);               // its CDR: customer gateway, vendor gateway, times
//   m.customer("acme")->answered;     // ASR = answered / calls; ACD = talk_ms / answered
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "billing/cdr.hpp"
#include "sip/time.hpp"
#include "sw/metrics.hpp"

namespace sw {

struct GatewayCallCounters {
    std::uint64_t calls = 0;     // calls that ended (one per CDR)
    std::uint64_t answered = 0;  // of them, answered
    std::uint64_t failed = 0;    // of them, not answered
    std::uint64_t talk_ms = 0;   // answered time, end - answer
    std::uint64_t pdd_count = 0;
    std::uint64_t pdd_ms = 0;    // sum of post-dial delays (setup -> first ringing or answer)
};

class CallMetrics {
  public:
    CallMetrics();

    void on_pdd(std::string_view vendor_gateway, sip::Duration pdd);
    void on_ended(const billing::CallRecord& r);

    const GatewayCallCounters* customer(std::string_view gateway) const;
    const GatewayCallCounters* vendor(std::string_view gateway) const;
    const Histogram& pdd() const noexcept { return pdd_; }  // every call's PDD

  private:
    std::map<std::string, GatewayCallCounters, std::less<>> customers_, vendors_;
    Histogram pdd_;
};

}  // namespace sw

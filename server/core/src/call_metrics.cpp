#include "sw/call_metrics.hpp"

#include <algorithm>
#include <chrono>

namespace sw {

namespace {

GatewayCallCounters& entry(std::map<std::string, GatewayCallCounters, std::less<>>& m,
                           std::string_view name) {
    auto it = m.find(name);
    if (it == m.end()) it = m.emplace(std::string(name), GatewayCallCounters{}).first;
    return it->second;
}

const GatewayCallCounters* find(const std::map<std::string, GatewayCallCounters, std::less<>>& m,
                                std::string_view name) {
    auto it = m.find(name);
    return it == m.end() ? nullptr : &it->second;
}

}  // namespace

// Seconds: from a fast "180 Ringing" to a slow international route.
CallMetrics::CallMetrics() : pdd_({0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60}) {}

void CallMetrics::on_pdd(std::string_view vendor_gateway, sip::Duration pdd) {
    const auto ms = static_cast<std::uint64_t>(
        std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(pdd).count()));
    pdd_.add(pdd);
    if (vendor_gateway.empty()) return;
    GatewayCallCounters& v = entry(vendors_, vendor_gateway);
    ++v.pdd_count;
    v.pdd_ms += ms;
}

void CallMetrics::on_ended(const billing::CallRecord& r) {
    const bool answered = r.answer_ms.has_value();
    const std::uint64_t talk =
        answered && r.end_ms > *r.answer_ms ? static_cast<std::uint64_t>(r.end_ms - *r.answer_ms) : 0;
    auto count = [&](GatewayCallCounters& g) {
        ++g.calls;
        ++(answered ? g.answered : g.failed);
        g.talk_ms += talk;
    };
    if (!r.customer_gateway.empty()) count(entry(customers_, r.customer_gateway));
    if (!r.vendor_gateway.empty()) count(entry(vendors_, r.vendor_gateway));
}

const GatewayCallCounters* CallMetrics::customer(std::string_view gateway) const {
    return find(customers_, gateway);
}

const GatewayCallCounters* CallMetrics::vendor(std::string_view gateway) const {
    return find(vendors_, gateway);
}

}  // namespace sw

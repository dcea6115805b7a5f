#include "wiring/calls_publisher.hpp"

#include <chrono>

namespace wiring {

namespace sq = route::lcr::sqlite;

CallsPublisher::CallsPublisher(sw::Switch& sw, CdrWriter& writer, const sip::uv::Loop& loop)
    : sw_(sw), writer_(writer), clock_{loop} {}

void CallsPublisher::publish() {
    auto calls = calls_if_changed();
    writer_.publish_calls(std::move(calls), gateways(), wall_ms());
}

void CallsPublisher::clear() {
    writer_.publish_calls(std::vector<sq::ActiveCall>{}, {}, wall_ms());
}

// nullopt: the list is what was published last (the writer keeps it).
std::optional<std::vector<sq::ActiveCall>> CallsPublisher::calls_if_changed() {
    if (published_generation_ == sw_.calls().generation()) return std::nullopt;
    published_generation_ = sw_.calls().generation();
    std::vector<sq::ActiveCall> list;
    for (const auto& c : sw_.calls().list()) {
        sq::ActiveCall a;
        a.id = c.id;
        a.customer = c.customer;
        a.vendor_gateway = c.vendor_gateway;
        a.caller = c.caller;
        a.callee = c.callee;
        a.state = c.state;
        a.setup_ms = clock_.to_wall(c.setup);
        if (c.answer) a.answer_ms = clock_.to_wall(*c.answer);
        a.call_id_in = c.call_id_in;
        a.call_id_out = c.call_id_out;
        list.push_back(std::move(a));
    }
    return list;
}

std::vector<sq::GatewayLive> CallsPublisher::gateways() const {
    std::vector<sq::GatewayLive> out;
    const route::lcr::Router& router = sw_.router();
    for (route::lcr::GatewayId id : router.gateways()) {
        const route::lcr::GatewayState st = router.state(id);
        sq::GatewayLive g;
        g.name = router.name(id);
        g.current_calls = st.current_calls;
        g.total_calls = st.total_calls;
        g.answered = st.answered_calls;
        g.down = st.down;
        g.down_reason = st.down_reason;
        if (st.down_since)
            g.down_since_ms = clock_.to_wall(
                sip::Instant{} + std::chrono::duration_cast<sip::Duration>(*st.down_since));
        out.push_back(std::move(g));
    }
    return out;
}

}  // namespace wiring

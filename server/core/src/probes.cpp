#include "sw/probes.hpp"

#include <fmt/format.h>

#include "sip/builder.hpp"

namespace sw {

GatewayProbes::GatewayProbes(ProbesConfig cfg, Element& element, route::lcr::Router& router,
                             sip::Random& rng)
    : cfg_(std::move(cfg)), element_(element), router_(router), rng_(rng) {}

void GatewayProbes::set_targets(std::vector<ProbeTarget> targets, sip::Instant now) {
    std::unordered_map<route::lcr::GatewayId, sip::Target> next;
    for (auto& t : targets)
        next.emplace(t.gateway, std::move(t.target));
    for (auto it = due_at_.begin(); it != due_at_.end();) {
        if (!next.count(it->first)) {
            due_.erase({it->second, it->first});
            it = due_at_.erase(it);
        } else {
            ++it;
        }
    }
    const auto period_ms =
        std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.period).count());
    for (const auto& [gw, target] : next) {
        auto old = targets_.find(gw);
        if (old != targets_.end() && old->second == target && due_at_.count(gw)) continue;
        if (auto d = due_at_.find(gw); d != due_at_.end()) due_.erase({d->second, gw});
        // spread the first probes over one period
        const sip::Instant at =
            now + std::chrono::milliseconds(static_cast<std::int64_t>(rng_.next_u64() % static_cast<std::uint64_t>(period_ms)));
        due_at_[gw] = at;
        due_.insert({at, gw});
    }
    targets_ = std::move(next);
}

void GatewayProbes::set_target(const ProbeTarget& t, sip::Instant now) {
    auto it = targets_.find(t.gateway);
    if (it != targets_.end() && it->second == t.target) return;
    targets_[t.gateway] = t.target;
    if (auto d = due_at_.find(t.gateway); d != due_at_.end()) due_.erase({d->second, t.gateway});
    due_at_[t.gateway] = now;  // probe the new address at once
    due_.insert({now, t.gateway});
}

bool GatewayProbes::on_client_event(const ClientEvent& e, sip::Instant now) {
    auto it = outstanding_.find(e.txn);
    if (it == outstanding_.end()) return false;
    if (e.kind == ClientEvent::Kind::Provisional) return true;
    const bool answered = e.kind == ClientEvent::Kind::Response;
    const bool was_down = router_.state(it->second).down;
    router_.on_probe(it->second, answered, std::chrono::duration_cast<route::lcr::Nanos>(
                                                now.time_since_epoch()));
    const route::lcr::GatewayState st = router_.state(it->second);
    if (st.down != was_down)
        logs_.push_back(st.down ? fmt::format("gateway {} down: {}", router_.name(it->second),
                                              st.down_reason)
                                : fmt::format("gateway {} up: OPTIONS answered",
                                              router_.name(it->second)));
    outstanding_.erase(it);
    return true;
}

std::optional<std::string> GatewayProbes::poll_log() {
    if (logs_.empty()) return std::nullopt;
    std::string s = std::move(logs_.front());
    logs_.pop_front();
    return s;
}

std::optional<sip::Instant> GatewayProbes::next_deadline() const {
    if (due_.empty()) return std::nullopt;
    return due_.begin()->first;
}

void GatewayProbes::handle_timeouts(sip::Instant now) {
    while (!due_.empty() && due_.begin()->first <= now) {
        const route::lcr::GatewayId gw = due_.begin()->second;
        due_.erase(due_.begin());
        const sip::Instant next = now + cfg_.period;
        due_at_[gw] = next;
        due_.insert({next, gw});
        probe(gw, now);
    }
}

void GatewayProbes::probe(route::lcr::GatewayId gw, sip::Instant now) {
    auto t = targets_.find(gw);
    if (t == targets_.end()) return;
    for (const auto& [txn, g] : outstanding_)
        if (g == gw) return;  // the last one has not ended yet (Timer F > period)
    const sip::Target& to = t->second;
    const bool v6 = to.host.find(':') != std::string::npos;
    const std::string host = v6 ? "[" + to.host + "]" : to.host;
    sip::RequestBuilder rb("OPTIONS", fmt::format("sip:{}:{}", host, to.port));
    rb.add(sip::HeaderId::Via,
           fmt::format("SIP/2.0/{} {}:{};branch={};rport", sip::transport_name(to.transport),
                       cfg_.local_host, cfg_.local_port, sip::make_branch(rng_)));
    rb.add(sip::HeaderId::From,
           fmt::format("<sip:probe@{}>;tag={}", cfg_.local_host, sip::make_token(rng_, 10)));
    rb.add(sip::HeaderId::To, fmt::format("<sip:{}:{}>", host, to.port));
    rb.add(sip::HeaderId::CallId, sip::make_token(rng_, 20));
    rb.add(sip::HeaderId::CSeq, "1 OPTIONS");
    rb.add(sip::HeaderId::UserAgent, cfg_.user_agent);
    SendOptions opt;
    opt.txn.keep_transport = true;
    if (auto id = element_.send_request(rb.build(), to, now, opt)) outstanding_[*id] = gw;
}

}  // namespace sw

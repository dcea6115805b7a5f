// sw::GatewayProbes — OPTIONS health probes to vendor gateways (VOS3000 "OPTIONS online
// check", SS_SIP_OPTIONS_CHECK_PERIOD), reported to route::lcr::Router::on_probe.
//
//   sw::GatewayProbes probes({.period = 30s}, element, router, rng);
//   probes.set_targets({{gw_id, target}, ...}, now);     // gateways with probing on
//   if (!probes.on_client_event(e, now)) ...;             // a probe's answer or timeout
//   probes.handle_timeouts(now); probes.next_deadline();
//
// Any final response counts as an answer (the gateway is alive and speaks SIP, even if it
// does not allow OPTIONS); Timer F or a transport error counts as unanswered. First probes
// are spread over one period so a reload does not send a burst.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "route/lcr/router.hpp"
#include "sip/random.hpp"
#include "sip/time.hpp"
#include "sip/transport.hpp"
#include "sw/element.hpp"

namespace sw {

struct ProbesConfig {
    sip::Duration period = std::chrono::seconds(30);  // SS_SIP_OPTIONS_CHECK_PERIOD
    std::string local_host = "127.0.0.1";
    std::uint16_t local_port = 5060;
    std::string user_agent = "Trunkline";
};

struct ProbeTarget {
    route::lcr::GatewayId gateway = 0;
    sip::Target target;
};

class GatewayProbes {
public:
    GatewayProbes(ProbesConfig cfg, Element& element, route::lcr::Router& router,
                  sip::Random& rng);
    void set_config(const ProbesConfig& cfg) { cfg_ = cfg; }
    void set_targets(std::vector<ProbeTarget> targets, sip::Instant now);
    void set_target(const ProbeTarget& target, sip::Instant now);  // add or move one
    bool on_client_event(const ClientEvent& e, sip::Instant now);
    std::optional<sip::Instant> next_deadline() const;
    void handle_timeouts(sip::Instant now);
    // "gateway gw1 down: 3 probes unanswered" / "gateway gw1 up": one line per change
    std::optional<std::string> poll_log();

private:
    void probe(route::lcr::GatewayId gw, sip::Instant now);

    ProbesConfig cfg_;
    Element& element_;
    route::lcr::Router& router_;
    sip::Random& rng_;
    std::unordered_map<route::lcr::GatewayId, sip::Target> targets_;
    std::unordered_map<route::lcr::GatewayId, sip::Instant> due_at_;
    std::set<std::pair<sip::Instant, route::lcr::GatewayId>> due_;
    std::unordered_map<sip::txn::TxnId, route::lcr::GatewayId> outstanding_;
    std::deque<std::string> logs_;
};

}  // namespace sw

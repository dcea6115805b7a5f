// wiring::AlertNotifier — where sw::Alerts' events go: one log line each and, with
// [alerts] webhook set, a POST of the event's JSON (wiring::Webhook, off the loop).
//
//   wiring::AlertNotifier alerts(cfg.alert_webhook);
//   sw.tick_alerts(loop.now(), wall_ms());
//   alerts.drain(sw.alerts());        // every poll: what was raised or cleared since
//
// Lifetimes: none beyond the object; its webhook thread stops in the destructor.
#pragma once

#include <memory>
#include <string>

#include "sw/alerts.hpp"
#include "wiring/webhook.hpp"

namespace wiring {

class AlertNotifier {
  public:
    explicit AlertNotifier(const std::string& webhook_url);
    void drain(sw::Alerts& alerts);
    const Webhook* webhook() const noexcept { return webhook_.get(); }

  private:
    std::unique_ptr<Webhook> webhook_;
};

// "alert raised: gateway_down gw1: vendor gateway gw1 is down: 3 probes unanswered (id 7)"
std::string alert_log_line(const sw::AlertEvent& e);

}  // namespace wiring

#include "wiring/alert_notifier.hpp"

#include <fmt/format.h>

#include "wiring/log.hpp"

namespace wiring {

AlertNotifier::AlertNotifier(const std::string& webhook_url) {
    if (!webhook_url.empty())
        webhook_ = std::make_unique<Webhook>(webhook_url, [](const std::string& l) { log_line(l); });
}

void AlertNotifier::drain(sw::Alerts& alerts) {
    while (auto e = alerts.poll_event()) {
        log_line(alert_log_line(*e));
        if (webhook_) webhook_->post(sw::to_json(*e));
    }
}

std::string alert_log_line(const sw::AlertEvent& e) {
    return fmt::format("alert {}: {} {}: {} (id {})", e.raised ? "raised" : "cleared", sw::to_string(e.alert.kind),
                       e.alert.subject, e.alert.message, e.alert.id);
}

}  // namespace wiring

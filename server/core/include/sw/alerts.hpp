// sw::Alerts — what an operator is told before customers notice (issue 11 item 6): a vendor
// rate increase above a threshold, a negative-margin route, a vendor gateway down, a balance
// below a threshold, a vendor gateway's ASR below a threshold. Each condition is raised once
// (an event for the log line and the webhook, an entry in GET /api/alerts, the metric
// trunkline_alerts_active{kind}) and cleared when it ends. Pure: the switch feeds it the book
// on reload and its live state on every tick; times are the wall-clock ms it is given.
//
//   sw::Alerts a({.rate_increase_percent = 10, .balance_below = *billing::Money::parse("5")});
//   a.rates_changed(old_book, new_book, wall_ms);       // on a reload: vendor price rises
//   a.margins(book, routes, wall_ms);                   // customer price below vendor price
//   a.tick(gateways, book, now, wall_ms);               // gateways down, balances, ASR
//   while (auto e = a.poll_event()) log_and_post(*e);   // raised / cleared
//
// Conditions that end by themselves (a gateway back up, a topped-up account, a margin fixed
// by a new deck) clear when the next check no longer finds them; a rate increase is an event:
// it stays until acknowledged (acknowledge()) or `event_ttl` has passed. Bounded: one entry
// per (kind, subject) — subjects are gateway, account and rate group names — the cleared
// history and the pending events are capped.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "billing/account.hpp"
#include "billing/money.hpp"
#include "sip/time.hpp"

namespace sw {

enum class AlertKind : std::uint8_t { rate_increase, negative_margin, gateway_down, balance_low, asr_low };
inline constexpr std::size_t kAlertKinds = 5;
std::string_view to_string(AlertKind k) noexcept;

struct Alert {
    std::uint64_t id = 0;
    AlertKind kind = AlertKind::gateway_down;
    std::string subject;  // the gateway, the account, the vendor rate group, "group -> gateway"
    std::string message;
    std::int64_t raised_ms = 0;
    std::optional<std::int64_t> cleared_ms;
};

struct AlertEvent {
    Alert alert;
    bool raised = true;  // false: cleared
};

// {"id":7,"kind":"gateway_down","subject":"gw1","message":"...","raised_ms":...,
//  "cleared_ms":null} — GET /api/alerts; an event adds "event":"raised"|"cleared" first
// (the webhook's body).
std::string to_json(const Alert& a);
std::string to_json(const AlertEvent& e);

struct AlertsConfig {
    std::uint32_t rate_increase_percent = 10;      // 0: off
    std::optional<billing::Money> balance_below{}; // available balance (credit included); none: off
    std::uint32_t asr_below_percent = 0;           // 0: off
    std::uint32_t asr_min_calls = 20;              // fewer calls in the window say nothing
    sip::Duration asr_window = std::chrono::seconds(900);
    bool gateway_down = true;
    bool negative_margin = true;
    sip::Duration event_ttl = std::chrono::seconds(86400);  // how long a rate increase stays raised
    std::size_t max_cleared = 1000;                // cleared alerts kept for GET /api/alerts
    std::size_t max_events = 10'000;               // pending events (the oldest go first)
    bool operator==(const AlertsConfig&) const = default;
};

// A vendor gateway as a tick sees it.
struct GatewayHealth {
    std::string name;
    bool down = false;
    std::string reason;                  // why it is down
    std::uint64_t calls = 0, answered = 0;  // ended calls so far (sw::CallMetrics)
};

// Who can reach whom, for the margin check: a customer rate group, a vendor gateway, the
// vendor's rate group and the gateway's prefixes ("" = every number).
struct MarginRoute {
    std::string customer_group;
    std::string vendor_gateway;
    std::string vendor_group;
    std::vector<std::string> prefixes;
};

class Alerts {
  public:
    explicit Alerts(AlertsConfig cfg = {});
    void set_config(AlertsConfig cfg);
    const AlertsConfig& config() const noexcept { return cfg_; }

    // Vendor rate groups (the rate groups of vendor accounts) whose price for a prefix rose by
    // more than the threshold between two books, compared at the moment each new rate takes
    // effect (or `wall_ms`, if later): one alert per group, naming the largest rises.
    void rates_changed(const billing::Book& before, const billing::Book& after, std::int64_t wall_ms);
    // Prefixes a customer rate group can send to a vendor gateway where the customer's price
    // is below the vendor's: one alert per (customer group, vendor gateway).
    void margins(const billing::Book& book, const std::vector<MarginRoute>& routes, std::int64_t wall_ms);
    // Gateways down, balances below the threshold, ASR per vendor gateway (sampled each minute).
    void tick(const std::vector<GatewayHealth>& gateways, const billing::Book& book, sip::Instant now,
              std::int64_t wall_ms);

    // Clears one alert by id (an operator saw it); false: no such active alert.
    bool acknowledge(std::uint64_t id, std::int64_t wall_ms);
    std::vector<Alert> active() const;                    // by id
    const std::deque<Alert>& cleared() const noexcept { return cleared_; }  // oldest first
    std::array<std::size_t, kAlertKinds> active_by_kind() const;
    std::uint64_t raised_total() const noexcept { return next_id_ - 1; }
    std::optional<AlertEvent> poll_event();

  private:
    using Key = std::pair<AlertKind, std::string>;
    void raise(AlertKind kind, const std::string& subject, std::string message, std::int64_t wall_ms);
    void clear(const Key& key, std::int64_t wall_ms);
    // Makes the alerts of `kind` exactly `want` (subject -> message).
    void reconcile(AlertKind kind, const std::map<std::string, std::string>& want, std::int64_t wall_ms);
    void sample_asr(const std::vector<GatewayHealth>& gateways, sip::Instant now, std::int64_t wall_ms);

    struct AsrSample {
        sip::Instant at;
        std::uint64_t calls = 0, answered = 0;
    };
    AlertsConfig cfg_;
    std::map<Key, Alert> active_;
    std::deque<Alert> cleared_;
    std::deque<AlertEvent> events_;
    std::map<std::string, std::deque<AsrSample>, std::less<>> asr_;
    std::optional<sip::Instant> last_asr_sample_;
    std::uint64_t next_id_ = 1;
};

}  // namespace sw

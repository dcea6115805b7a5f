// route::lcr::Router — vendor (routing) gateways, their prefixes, the candidate order, the
// profit guards, line/CPS limits and health. Pure: no clock, no I/O, no billing dependency.
//
//   route::lcr::Router router({.policy = route::lcr::Policy::vos3000});
//   router.set_gateways({{.name = "gw1", .prefixes = {"44"}, .priority = 1, .line_limit = 30,
//                         .rate_key = 7}, ...}, {{.name = "uk", .line_limit = 100}});
//   route::lcr::RouteBuffer buf;                       // reused: no allocation once warm
//   route::lcr::RouteRequest rq{.number = "442071234567", .customer_per_minute = 12000};
//   router.route(rq, rates, now, buf);                 // rates: a RateLookup (vendor prices)
//   for (const auto& c : buf.candidates) try_gateway(c.gateway);  // in order; protect last
//   router.call_started(c.gateway, now);  ...  router.call_ended(c.gateway, outcome, now);
//   router.explain(rq, rates, now, lines);              // why each gateway was or wasn't used
//
// Candidate order (VOS3000 §1.1): a gateway is a candidate when one of its prefixes is a
// prefix of the number; only gateways whose matching prefix is the LONGEST matching prefix
// among all gateways are candidates (VOS3000 "a number goes only to gateways whose prefix
// matches", longest match first). Among them, by Policy:
//   vos3000           priority number (smaller first) -> current calls / line limit (smaller
//                     first; unlimited counts as 0) -> historical call count (smaller first)
//                     -> gateway name
//   cost              vendor effective per-minute rate (cheapest first; no rate = last), then
//                     the vos3000 chain
//   cost_in_priority  priority first, then cost, then the vos3000 chain
// With asr_aware, gateways whose recent ASR is below asr_floor_ppm (and that have at least
// asr_min_calls recent calls) move behind the others, keeping their relative order.
// Protect (backup) gateways follow every normal candidate, in the same order among
// themselves.
//
// Skips (each reported by explain(); route() leaves skipped gateways out):
//   disabled, down (health), line_limit, group_limit (the group's line limit is reached),
//   reserved_lines (the group's free lines are fewer than this gateway's reserved_lines),
//   cps_limit (calls started in the last second >= cps_limit), no_rate (check_rate and no
//   vendor rate), max_minute_rate (vendor per-minute > max_minute_rate), profit
//   (customer per-minute - vendor per-minute < 60 * lowest_profit_per_s; negative values
//   allowed; a guard that needs a rate skips the gateway when the rate is missing).
//
// Health: on_probe(gw, answered, now) records OPTIONS probe results; a gateway is down after
// HealthConfig::probe_failures unanswered probes in a row, or when the failures among its
// last HealthConfig::window call outcomes reach failure_threshold; it is up again on the
// first answered probe (so it recovers within one probe period).
//
// Gateway ids are stable per name across set_gateways(): a reload keeps counters, health and
// the current calls of gateways that still exist; a removed gateway keeps its id while calls
// on it run (call_ended on it stays valid) and is never routed to again.
//
// Money is integer micro-units of the currency; time is nanoseconds since any fixed epoch.
// Lifetimes: RateLookup is only used during the call that takes it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace route::lcr {

using Micros = std::int64_t;              // money: 1e-6 of the currency unit
using Nanos = std::chrono::nanoseconds;   // time since an arbitrary fixed epoch
using GatewayId = std::uint32_t;

enum class Policy : std::uint8_t { vos3000, cost, cost_in_priority };
std::string_view to_string(Policy p);
std::optional<Policy> parse_policy(std::string_view s);  // "vos3000", "cost", "cost_in_priority"

struct GatewaySpec {
    std::string name;                         // VOS3000 gateway ID (unique)
    std::vector<std::string> prefixes;        // digits; "" matches every number
    std::int32_t priority = 0;                // VOS3000 priority number: smaller first
    std::uint32_t line_limit = 0;             // concurrent calls; 0 = unlimited
    std::uint32_t cps_limit = 0;              // calls started per second; 0 = unlimited
    std::string group;                        // gateway group name; "" = none
    std::uint32_t reserved_lines = 0;         // see Skip::reserved_lines
    bool protect = false;                     // backup route (VOS3000 protect route)
    std::optional<Micros> lowest_profit_per_s;  // VOS3000 lowest profit rate limit
    std::optional<Micros> max_minute_rate;      // VOS3000 max minute rates
    bool check_rate = false;                  // VOS3000 check rate
    std::uint32_t rate_key = 0;               // opaque, handed to RateLookup (vendor rates)
    bool enabled = true;
};

struct GroupSpec {
    std::string name;
    std::uint32_t line_limit = 0;  // 0 = unlimited
};

// What a vendor charges for a number, from its rate group (the switch adapts billing).
struct RateQuote {
    Micros per_minute = 0;            // the rate's per-minute price
    Micros effective_per_minute = 0;  // sort key: per-minute cost including first period and
                                      // increments (what the switch considers comparable)
};

class RateLookup {
public:
    virtual ~RateLookup() = default;
    virtual std::optional<RateQuote> vendor_rate(std::uint32_t rate_key,
                                                 std::string_view number) const = 0;
};

struct RouteRequest {
    std::string_view number;                  // callee as it will be routed (after rewrite)
    std::optional<Micros> customer_per_minute;  // the customer's rate, for the profit guard
    std::uint32_t switch_limit = 0;           // most candidates returned; 0 = all
};

struct Candidate {
    GatewayId gateway = 0;
    std::uint16_t prefix_len = 0;
    bool protect = false;
    std::optional<RateQuote> vendor_rate;
};

// Reused between calls: route() clears it and keeps its capacity.
struct RouteBuffer {
    std::vector<Candidate> candidates;
    std::vector<std::uint32_t> scratch;  // internal
};

enum class Skip : std::uint8_t {
    none, disabled, down, line_limit, group_limit, reserved_lines, cps_limit, no_rate,
    max_minute_rate, profit, shorter_prefix,
};
std::string_view to_string(Skip s);

struct Explained {
    std::string gateway;
    std::string prefix;       // the gateway's matching prefix
    Skip skip = Skip::none;   // none: a candidate, at position `order`
    std::uint32_t order = 0;  // 1-based position among the candidates (0 when skipped)
    bool protect = false;
    std::optional<RateQuote> vendor_rate;
    std::string detail;       // e.g. "profit 0.000100/s < 0.000200/s", "12/12 lines"
};

enum class Outcome : std::uint8_t { answered, failed, no_answer };

struct HealthConfig {
    std::uint32_t probe_failures = 3;    // unanswered probes in a row -> down
    std::uint32_t window = 20;           // recent call outcomes kept per gateway
    std::uint32_t failure_threshold = 0; // failures in the window that mark down; 0 = off
};

struct RouterConfig {
    Policy policy = Policy::vos3000;
    bool asr_aware = false;
    std::uint32_t asr_floor_ppm = 200'000;  // 20 %
    std::uint32_t asr_min_calls = 10;
    HealthConfig health{};
};

struct GatewayState {
    std::uint32_t current_calls = 0;
    std::uint64_t total_calls = 0;     // historical call count (VOS3000 tie-break)
    std::uint64_t answered_calls = 0;
    bool down = false;
    std::string down_reason;           // "3 probes unanswered", "8/20 recent calls failed"
    std::optional<Nanos> down_since;
    // The latest time it went down and the reason it was last down for, kept after it came
    // back up (the console's health column); nullopt: never down since it was configured.
    std::string last_failure_reason;
    std::optional<Nanos> last_failure_at;
};

class Router {
public:
    explicit Router(RouterConfig cfg = {});
    ~Router();
    Router(Router&&) noexcept;
    Router& operator=(Router&&) noexcept;

    // Replaces the configuration; ids of gateways that keep their name stay the same.
    void set_gateways(std::vector<GatewaySpec> gateways, std::vector<GroupSpec> groups);
    void set_config(const RouterConfig& cfg);

    // Fills buf.candidates in order (normal, then protect). No allocation once buf is warm.
    void route(const RouteRequest& rq, const RateLookup& rates, Nanos now, RouteBuffer& buf) const;
    // Every gateway with a matching prefix, candidates and skipped, in candidate order first.
    void explain(const RouteRequest& rq, const RateLookup& rates, Nanos now,
                 std::vector<Explained>& out) const;

    // Limits and counters. call_started counts toward CPS, lines and the history.
    void call_started(GatewayId gw, Nanos now);
    void call_ended(GatewayId gw, Outcome outcome, Nanos now);  // after call_started
    // A failed attempt that never became a call (no call_started), for health.
    void attempt_failed(GatewayId gw, Nanos now);
    void on_probe(GatewayId gw, bool answered, Nanos now);

    std::optional<GatewayId> find(std::string_view name) const;
    const GatewaySpec* spec(GatewayId gw) const;  // nullptr: unknown or removed
    const std::string& name(GatewayId gw) const;
    GatewayState state(GatewayId gw) const;
    std::vector<GatewayId> gateways() const;  // configured (not removed), by name

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace route::lcr

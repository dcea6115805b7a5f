// route::lcr::Router on fake time: longest prefix, the three policies, ASR-aware order,
// protect last, every Skip with explain()'s detail, groups and reserved lines, the sliding
// CPS window, health from probes and outcomes, ids across reloads, switch_limit, and a
// route() that allocates nothing on a warm buffer (operator new is counted below).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "route/lcr/router.hpp"

// Every operator new of this test binary is counted (route() must allocate nothing).
#include "counting_new.hpp"

using namespace route::lcr;
using namespace std::chrono_literals;

namespace {

const Nanos t0 = 1'000s;

class Rates final : public RateLookup {
  public:
    // rate_key -> quote; a key without an entry has no rate.
    std::map<std::uint32_t, RateQuote> quotes;
    std::optional<RateQuote> vendor_rate(std::uint32_t key, std::string_view) const override {
        auto it = quotes.find(key);
        if (it == quotes.end()) return std::nullopt;
        return it->second;
    }
};

// A designated {.policy = ...} trips -Wmissing-field-initializers (health has no
// initializer in the header), hence this helper.
RouterConfig with_policy(Policy p) {
    RouterConfig c;
    c.policy = p;
    return c;
}

GatewaySpec gw(std::string name, std::vector<std::string> prefixes, std::int32_t priority = 0) {
    GatewaySpec s;
    s.name = std::move(name);
    s.prefixes = std::move(prefixes);
    s.priority = priority;
    return s;
}

std::vector<std::string> route_names(const Router& r, const RouteRequest& rq,
                                     const Rates& rates = {}, Nanos now = t0) {
    RouteBuffer buf;
    r.route(rq, rates, now, buf);
    std::vector<std::string> out;
    for (const Candidate& c : buf.candidates) out.push_back(r.name(c.gateway));
    return out;
}

std::vector<std::string> route_names(const Router& r, std::string_view number,
                                     const Rates& rates = {}, Nanos now = t0) {
    return route_names(r, RouteRequest{number, std::nullopt, 0}, rates, now);
}

using Names = std::vector<std::string>;

// The explain() row of one gateway.
Explained explained(const Router& r, const RouteRequest& rq, const std::string& name,
                    const Rates& rates = {}, Nanos now = t0) {
    std::vector<Explained> rows;
    r.explain(rq, rates, now, rows);
    for (const Explained& e : rows)
        if (e.gateway == name) return e;
    FAIL("no explain row for " << name);
    return {};
}

Skip skip_of(const Router& r, std::string_view number, const std::string& name,
             const Rates& rates = {}, Nanos now = t0) {
    return explained(r, RouteRequest{number, std::nullopt, 0}, name, rates, now).skip;
}

GatewayId id(const Router& r, std::string_view name) {
    auto i = r.find(name);
    REQUIRE(i);
    return *i;
}

void start_calls(Router& r, std::string_view name, int n, Nanos now = t0) {
    for (int i = 0; i < n; ++i) r.call_started(id(r, name), now);
}

}  // namespace

TEST_CASE("router: policy and skip names round-trip", "[lcr][router]") {
    for (Policy p : {Policy::vos3000, Policy::cost, Policy::cost_in_priority})
        CHECK(parse_policy(to_string(p)) == p);
    CHECK_FALSE(parse_policy("weight"));
    CHECK(to_string(Skip::reserved_lines) == "reserved_lines");
    CHECK(to_string(Skip::shorter_prefix) == "shorter_prefix");
    CHECK(to_string(Skip::none) == "none");
}

TEST_CASE("router: only the longest matching prefix routes", "[lcr][router]") {
    Router r;
    r.set_gateways({gw("short", {"44"}), gw("long", {"4420"}), gw("other", {"33"}),
                    gw("any", {""})},
                   {});
    CHECK(route_names(r, "442071234567") == Names{"long"});
    CHECK(route_names(r, "441611234567") == Names{"short"});
    CHECK(route_names(r, "9999") == Names{"any"});
    CHECK(route_names(r, "+4420") == Names{"any"});  // '+' stops the walk: only "" matches

    RouteBuffer buf;
    r.route({"442071234567", std::nullopt, 0}, Rates{}, t0, buf);
    REQUIRE(buf.candidates.size() == 1);
    CHECK(buf.candidates[0].prefix_len == 4);

    // Longest among all gateways: a long prefix whose gateway is down still shadows "44".
    r.on_probe(id(r, "long"), false, t0);
    r.on_probe(id(r, "long"), false, t0);
    r.on_probe(id(r, "long"), false, t0);
    CHECK(route_names(r, "442071234567").empty());
    CHECK(skip_of(r, "442071234567", "short") == Skip::shorter_prefix);
    CHECK(skip_of(r, "442071234567", "long") == Skip::down);
}

TEST_CASE("router: a gateway with several matching prefixes appears once", "[lcr][router]") {
    Router r;
    r.set_gateways({gw("a", {"44", "4420", "4420"}), gw("b", {"4420"})}, {});
    CHECK(route_names(r, "442071") == Names{"a", "b"});
    std::vector<Explained> rows;
    r.explain({"442071", std::nullopt, 0}, Rates{}, t0, rows);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].prefix == "4420");
    CHECK(rows[1].prefix == "4420");
}

TEST_CASE("router: vos3000 order is priority, load ratio, history, name", "[lcr][router]") {
    Router r(with_policy(Policy::vos3000));
    auto a = gw("a", {"1"}, 2);
    auto b = gw("b", {"1"}, 1);
    auto c = gw("c", {"1"}, 1);
    auto d = gw("d", {"1"}, 1);
    b.line_limit = 10;
    c.line_limit = 4;
    r.set_gateways({a, b, c, d}, {});
    // All idle: priority 1 before 2; b, c, d tie on load (0) and history (0): by name.
    CHECK(route_names(r, "123") == Names{"b", "c", "d", "a"});

    // Load ratio: b 2/10 = 0.2 < c 1/4 = 0.25; d is unlimited and counts as 0.
    start_calls(r, "b", 2);
    start_calls(r, "c", 1);
    start_calls(r, "d", 5);
    CHECK(route_names(r, "123") == Names{"d", "b", "c", "a"});

    // All calls ended: equal load, so the history decides (b 2, c 1, d 5 calls).
    for (const char* n : {"b", "b", "c", "d", "d", "d", "d", "d"})
        r.call_ended(id(r, n), Outcome::answered, t0);
    CHECK(route_names(r, "123") == Names{"c", "b", "d", "a"});

    const GatewayState st = r.state(id(r, "d"));
    CHECK(st.current_calls == 0);
    CHECK(st.total_calls == 5);
    CHECK(st.answered_calls == 5);
}

TEST_CASE("router: vos3000 load ratio compares exact fractions", "[lcr][router]") {
    Router r;
    auto a = gw("a", {"1"});
    auto b = gw("b", {"1"});
    a.line_limit = 3;
    b.line_limit = 6;
    r.set_gateways({a, b}, {});
    start_calls(r, "a", 1);  // 1/3
    start_calls(r, "b", 2);  // 2/6: the same ratio, so history: a 1 call < b 2 calls
    CHECK(route_names(r, "1") == Names{"a", "b"});
    start_calls(r, "b", 1);  // 3/6 > 1/3
    CHECK(route_names(r, "1") == Names{"a", "b"});
    start_calls(r, "a", 2);  // 3/3 is full: only b
    CHECK(route_names(r, "1") == Names{"b"});
}

TEST_CASE("router: cost policy sorts by effective rate, no rate last", "[lcr][router]") {
    Router r(with_policy(Policy::cost));
    auto a = gw("a", {"1"}, 1);
    auto b = gw("b", {"1"}, 2);
    auto c = gw("c", {"1"}, 3);
    auto d = gw("d", {"1"}, 0);
    auto e = gw("e", {"1"}, 0);
    a.rate_key = 1;
    b.rate_key = 2;
    c.rate_key = 3;
    d.rate_key = 4;  // no rate
    e.rate_key = 5;  // same effective rate as a: vos3000 chain (priority 0 < 1)
    r.set_gateways({a, b, c, d, e}, {});
    Rates rates;
    rates.quotes = {{1, {9000, 10000}}, {2, {9500, 8000}}, {3, {1, 12000}}, {5, {7000, 10000}}};
    CHECK(route_names(r, "123", rates) == Names{"b", "e", "a", "c", "d"});

    RouteBuffer buf;
    r.route({"123", std::nullopt, 0}, rates, t0, buf);
    REQUIRE(buf.candidates.size() == 5);
    REQUIRE(buf.candidates[0].vendor_rate);
    CHECK(buf.candidates[0].vendor_rate->per_minute == 9500);
    CHECK_FALSE(buf.candidates[4].vendor_rate);
}

TEST_CASE("router: cost_in_priority sorts by priority, then cost, then vos3000", "[lcr][router]") {
    Router r(with_policy(Policy::cost_in_priority));
    auto a = gw("a", {"1"}, 1);
    auto b = gw("b", {"1"}, 1);
    auto c = gw("c", {"1"}, 0);
    auto d = gw("d", {"1"}, 1);
    a.rate_key = 1;
    b.rate_key = 2;
    c.rate_key = 3;
    d.rate_key = 4;
    r.set_gateways({a, b, c, d}, {});
    Rates rates;
    rates.quotes = {{1, {0, 300}}, {2, {0, 200}}, {3, {0, 900}}, {4, {0, 200}}};
    start_calls(r, "b", 1);  // b and d tie on cost: d has the lower history
    CHECK(route_names(r, "1", rates) == Names{"c", "d", "b", "a"});
    r.set_config(with_policy(Policy::cost));
    CHECK(route_names(r, "1", rates) == Names{"d", "b", "a", "c"});
    r.set_config(with_policy(Policy::vos3000));
    CHECK(route_names(r, "1", rates) == Names{"c", "a", "d", "b"});
}

TEST_CASE("router: asr_aware moves low-ASR gateways behind, keeping their order",
          "[lcr][router]") {
    RouterConfig cfg;
    cfg.asr_aware = true;
    cfg.asr_floor_ppm = 500'000;  // 50 %
    cfg.asr_min_calls = 4;
    Router r(cfg);
    r.set_gateways({gw("a", {"1"}, 1), gw("b", {"1"}, 2), gw("c", {"1"}, 3), gw("d", {"1"}, 4)},
                   {});
    auto outcomes = [&](const char* name, int answered, int other) {
        for (int i = 0; i < answered; ++i) {
            r.call_started(id(r, name), t0);
            r.call_ended(id(r, name), Outcome::answered, t0);
        }
        for (int i = 0; i < other; ++i) {
            r.call_started(id(r, name), t0);
            r.call_ended(id(r, name), Outcome::no_answer, t0);
        }
    };
    outcomes("a", 1, 3);  // 25 % over 4 calls: low
    outcomes("b", 0, 3);  // 0 % but only 3 calls: not judged
    outcomes("c", 1, 4);  // 20 %: low
    outcomes("d", 2, 2);  // 50 %: not below the floor
    CHECK(route_names(r, "1") == Names{"b", "d", "a", "c"});

    cfg.asr_aware = false;
    r.set_config(cfg);
    CHECK(route_names(r, "1") == Names{"a", "b", "c", "d"});
}

TEST_CASE("router: protect gateways follow every normal candidate", "[lcr][router]") {
    Router r;
    auto p1 = gw("p1", {"1"}, 0);
    auto p2 = gw("p2", {"1"}, 5);
    auto n1 = gw("n1", {"1"}, 9);
    auto n2 = gw("n2", {"1"}, 3);
    p1.protect = true;
    p2.protect = true;
    r.set_gateways({p1, p2, n1, n2}, {});
    CHECK(route_names(r, "1") == Names{"n2", "n1", "p1", "p2"});

    RouteBuffer buf;
    r.route({"1", std::nullopt, 0}, Rates{}, t0, buf);
    REQUIRE(buf.candidates.size() == 4);
    CHECK_FALSE(buf.candidates[1].protect);
    CHECK(buf.candidates[2].protect);
    CHECK(buf.candidates[3].protect);
}

TEST_CASE("router: switch_limit caps the candidates, protect cut first", "[lcr][router]") {
    Router r;
    auto p = gw("p", {"1"}, 0);
    p.protect = true;
    r.set_gateways({p, gw("a", {"1"}, 1), gw("b", {"1"}, 2), gw("c", {"1"}, 3)}, {});
    CHECK(route_names(r, RouteRequest{"1", std::nullopt, 2}) == Names{"a", "b"});
    CHECK(route_names(r, RouteRequest{"1", std::nullopt, 4}) == Names{"a", "b", "c", "p"});
    CHECK(route_names(r, RouteRequest{"1", std::nullopt, 9}) == Names{"a", "b", "c", "p"});
    CHECK(route_names(r, RouteRequest{"1", std::nullopt, 0}) == Names{"a", "b", "c", "p"});

    const Explained e = explained(r, {"1", std::nullopt, 2}, "c");
    CHECK(e.skip == Skip::none);
    CHECK(e.order == 3);
    CHECK(e.detail == "not returned: switch_limit 2");
}

TEST_CASE("router: disabled, line_limit skips", "[lcr][router]") {
    Router r;
    auto off = gw("off", {"1"});
    off.enabled = false;
    auto lim = gw("lim", {"1"});
    lim.line_limit = 2;
    r.set_gateways({off, lim}, {});
    CHECK(route_names(r, "1") == Names{"lim"});
    start_calls(r, "lim", 2);
    CHECK(route_names(r, "1").empty());

    const Explained e = explained(r, {"1", std::nullopt, 0}, "lim");
    CHECK(e.skip == Skip::line_limit);
    CHECK(e.detail == "2/2 lines");
    CHECK(e.order == 0);
    const Explained d = explained(r, {"1", std::nullopt, 0}, "off");
    CHECK(d.skip == Skip::disabled);
    CHECK(d.detail == "disabled");

    r.call_ended(id(r, "lim"), Outcome::answered, t0);
    CHECK(route_names(r, "1") == Names{"lim"});
}

TEST_CASE("router: group line limit counts every member", "[lcr][router]") {
    Router r;
    auto a = gw("a", {"1"}, 1);
    auto b = gw("b", {"1"}, 2);
    auto solo = gw("solo", {"1"}, 3);
    a.group = "uk";
    b.group = "uk";
    solo.group = "nogroup";  // not in the groups list: no group limit
    r.set_gateways({a, b, solo}, {{"uk", 3}});
    start_calls(r, "a", 2);
    CHECK(route_names(r, "1") == Names{"a", "b", "solo"});
    start_calls(r, "b", 1);
    CHECK(route_names(r, "1") == Names{"solo"});
    const Explained e = explained(r, {"1", std::nullopt, 0}, "b");
    CHECK(e.skip == Skip::group_limit);
    CHECK(e.detail == "group uk: 3/3 lines");

    r.call_ended(id(r, "a"), Outcome::answered, t0);
    CHECK(route_names(r, "1") == Names{"a", "b", "solo"});

    // A reload keeps the group's count from the members' current calls.
    r.set_gateways({a, b, solo}, {{"uk", 2}});
    CHECK(route_names(r, "1") == Names{"solo"});
    r.set_gateways({a, b, solo}, {{"uk", 0}});  // unlimited
    CHECK(route_names(r, "1") == Names{"a", "b", "solo"});
}

TEST_CASE("router: reserved lines keep group lines for other gateways", "[lcr][router]") {
    Router r;
    auto main_gw = gw("main", {"1"}, 1);
    auto cheap = gw("cheap", {"1"}, 2);
    main_gw.group = "g";
    cheap.group = "g";
    cheap.reserved_lines = 3;  // used only while the group has >= 3 free lines
    r.set_gateways({main_gw, cheap}, {{"g", 5}});
    start_calls(r, "main", 2);  // 3 free
    CHECK(route_names(r, "1") == Names{"main", "cheap"});
    start_calls(r, "main", 1);  // 2 free < 3
    CHECK(route_names(r, "1") == Names{"main"});
    const Explained e = explained(r, {"1", std::nullopt, 0}, "cheap");
    CHECK(e.skip == Skip::reserved_lines);
    CHECK(e.detail == "group g: 2 free lines < 3 reserved");

    // Reserved lines mean nothing without a group limit.
    r.set_gateways({main_gw, cheap}, {{"g", 0}});
    CHECK(route_names(r, "1") == Names{"main", "cheap"});
}

TEST_CASE("router: CPS limit is a sliding one-second window", "[lcr][router]") {
    Router r;
    auto a = gw("a", {"1"});
    a.cps_limit = 2;
    r.set_gateways({a}, {});
    const GatewayId g = id(r, "a");
    r.call_started(g, t0);
    CHECK(route_names(r, "1", {}, t0) == Names{"a"});
    r.call_started(g, t0 + 600ms);
    CHECK(route_names(r, "1", {}, t0 + 600ms).empty());
    const Explained e = explained(r, {"1", std::nullopt, 0}, "a", {}, t0 + 999ms);
    CHECK(e.skip == Skip::cps_limit);
    CHECK(e.detail == "2 calls in the last second, limit 2");
    CHECK(route_names(r, "1", {}, t0 + 999'999'999ns).empty());
    // The first start leaves the window exactly 1 s later.
    CHECK(route_names(r, "1", {}, t0 + 1s) == Names{"a"});
    r.call_started(g, t0 + 1s);
    CHECK(route_names(r, "1", {}, t0 + 1s + 500ms).empty());
    CHECK(route_names(r, "1", {}, t0 + 1s + 600ms) == Names{"a"});
    // Ending calls does not free CPS: it counts starts, not lines.
    r.call_ended(g, Outcome::answered, t0 + 1s + 100ms);
    r.call_ended(g, Outcome::answered, t0 + 1s + 100ms);
    CHECK(route_names(r, "1", {}, t0 + 1s + 500ms).empty());
}

TEST_CASE("router: CPS window survives a reload and follows a new limit", "[lcr][router]") {
    Router r;
    auto a = gw("a", {"1"});
    a.cps_limit = 3;
    r.set_gateways({a}, {});
    start_calls(r, "a", 3, t0);
    CHECK(route_names(r, "1").empty());
    a.cps_limit = 4;
    r.set_gateways({a}, {});
    CHECK(route_names(r, "1") == Names{"a"});
    a.cps_limit = 2;
    r.set_gateways({a}, {});
    CHECK(route_names(r, "1").empty());
    a.cps_limit = 0;
    r.set_gateways({a}, {});
    CHECK(route_names(r, "1") == Names{"a"});
}

TEST_CASE("router: check_rate and max_minute_rate", "[lcr][router]") {
    Router r;
    auto check = gw("check", {"1"});
    check.check_rate = true;
    check.rate_key = 1;
    auto cap = gw("cap", {"1"});
    cap.max_minute_rate = 100'000;  // 0.10/min
    cap.rate_key = 2;
    auto free_gw = gw("free", {"1"});
    free_gw.rate_key = 3;  // no guard: no rate is fine
    r.set_gateways({check, cap, free_gw}, {});

    Rates none;
    CHECK(route_names(r, "1", none) == Names{"free"});
    CHECK(skip_of(r, "1", "check", none) == Skip::no_rate);
    CHECK(skip_of(r, "1", "cap", none) == Skip::no_rate);
    CHECK(explained(r, {"1", std::nullopt, 0}, "cap", none).detail == "no vendor rate");

    Rates rates;
    rates.quotes = {{1, {500'000, 1}}, {2, {100'000, 1}}};
    CHECK(route_names(r, "1", rates) == Names{"cap", "check", "free"});  // 0.10 <= 0.10
    rates.quotes[2] = {100'001, 1};
    CHECK(route_names(r, "1", rates) == Names{"check", "free"});
    const Explained e = explained(r, {"1", std::nullopt, 0}, "cap", rates);
    CHECK(e.skip == Skip::max_minute_rate);
    CHECK(e.detail == "rate 0.100001/min > 0.100000/min");
    REQUIRE(e.vendor_rate);
    CHECK(e.vendor_rate->per_minute == 100'001);
}

TEST_CASE("router: profit guard on exact integers", "[lcr][router]") {
    Router r;
    auto g = gw("g", {"1"});
    g.lowest_profit_per_s = 200;  // 0.000200/s = 12000 micro per minute
    g.rate_key = 1;
    r.set_gateways({g}, {});
    Rates rates;
    rates.quotes = {{1, {50'000, 0}}};

    auto names_for = [&](std::optional<Micros> customer) {
        return route_names(r, RouteRequest{"1", customer, 0}, rates);
    };
    CHECK(names_for(62'000) == Names{"g"});   // margin 12000 == 60 * 200
    CHECK(names_for(61'999).empty());         // margin 11999 < 12000
    CHECK(names_for(std::nullopt).empty());

    const Explained e = explained(r, {"1", 55'000, 0}, "g", rates);  // 5000/min = 83.33/s
    CHECK(e.skip == Skip::profit);
    CHECK(e.detail == "profit 0.000083/s < 0.000200/s");
    const Explained n = explained(r, {"1", std::nullopt, 0}, "g", rates);
    CHECK(n.skip == Skip::profit);
    CHECK(n.detail == "no customer rate");

    // Missing vendor rate: no_rate, even without a customer rate.
    CHECK(explained(r, {"1", std::nullopt, 0}, "g", Rates{}).skip == Skip::no_rate);

    // Negative limits allow a loss up to that much.
    g.lowest_profit_per_s = -100;  // -6000/min
    r.set_gateways({g}, {});
    CHECK(names_for(44'000) == Names{"g"});  // margin -6000
    CHECK(names_for(43'999).empty());
    const Explained l = explained(r, {"1", 43'999, 0}, "g", rates);
    CHECK(l.detail == "profit -0.000101/s < -0.000100/s");  // -6001/60 rounded down
}

TEST_CASE("router: skip reasons are checked in order", "[lcr][router]") {
    Router r;
    auto g = gw("g", {"1"});
    g.line_limit = 1;
    g.check_rate = true;
    r.set_gateways({g}, {});
    r.call_started(id(r, "g"), t0);
    CHECK(skip_of(r, "1", "g") == Skip::line_limit);  // before no_rate
    g.enabled = false;
    r.set_gateways({g}, {});
    CHECK(skip_of(r, "1", "g") == Skip::disabled);     // before everything
}

TEST_CASE("router: probes take a gateway down and bring it back", "[lcr][router]") {
    RouterConfig cfg;
    cfg.health.probe_failures = 3;
    Router r(cfg);
    r.set_gateways({gw("a", {"1"}), gw("b", {"1"})}, {});
    const GatewayId a = id(r, "a");
    r.on_probe(a, false, t0);
    r.on_probe(a, false, t0 + 30s);
    r.on_probe(a, true, t0 + 60s);  // resets the run
    r.on_probe(a, false, t0 + 90s);
    r.on_probe(a, false, t0 + 120s);
    CHECK_FALSE(r.state(a).down);
    CHECK_FALSE(r.state(a).last_failure_at);
    r.on_probe(a, false, t0 + 150s);
    GatewayState st = r.state(a);
    CHECK(st.down);
    CHECK(st.down_reason == "3 probes unanswered");
    CHECK(st.down_since == t0 + 150s);
    CHECK(st.last_failure_at == t0 + 150s);
    r.on_probe(a, false, t0 + 180s);  // still down, since unchanged
    CHECK(r.state(a).down_since == t0 + 150s);
    CHECK(route_names(r, "1") == Names{"b"});
    const Explained e = explained(r, {"1", std::nullopt, 0}, "a");
    CHECK(e.skip == Skip::down);
    CHECK(e.detail == "3 probes unanswered");  // the reason of the transition

    r.on_probe(a, true, t0 + 210s);
    st = r.state(a);
    CHECK_FALSE(st.down);
    CHECK(st.down_reason.empty());
    CHECK_FALSE(st.down_since);
    // the last failure is kept after it came back up (the console's health column)
    CHECK(st.last_failure_at == t0 + 150s);
    CHECK(st.last_failure_reason == "3 probes unanswered");
    CHECK(route_names(r, "1") == Names{"a", "b"});
}

TEST_CASE("router: recent failures take a gateway down until a probe answers",
          "[lcr][router]") {
    RouterConfig cfg;
    cfg.health.window = 5;
    cfg.health.failure_threshold = 3;
    Router r(cfg);
    r.set_gateways({gw("a", {"1"})}, {});
    const GatewayId a = id(r, "a");
    auto call = [&](Outcome o) {
        r.call_started(a, t0);
        r.call_ended(a, o, t0 + 1s);
    };
    call(Outcome::failed);
    call(Outcome::no_answer);  // the callee's doing: not a failure
    call(Outcome::no_answer);
    call(Outcome::failed);
    call(Outcome::answered);
    call(Outcome::answered);   // the first failure leaves the window of 5
    call(Outcome::failed);     // 2 failures in the window
    CHECK_FALSE(r.state(a).down);
    r.attempt_failed(a, t0 + 2s);  // 3 of the last 5
    GatewayState st = r.state(a);
    CHECK(st.down);
    CHECK(st.down_reason == "3/5 recent calls failed");
    CHECK(st.down_since == t0 + 2s);
    CHECK(st.current_calls == 0);
    CHECK(st.total_calls == 7);  // attempt_failed is no call
    CHECK(route_names(r, "1").empty());

    r.on_probe(a, true, t0 + 10s);
    CHECK_FALSE(r.state(a).down);
    call(Outcome::failed);  // the window restarted: 1 failure
    CHECK_FALSE(r.state(a).down);
    CHECK(route_names(r, "1") == Names{"a"});
}

TEST_CASE("router: failure threshold 0 never marks down", "[lcr][router]") {
    Router r;  // failure_threshold = 0
    r.set_gateways({gw("a", {"1"})}, {});
    for (int i = 0; i < 50; ++i) r.attempt_failed(id(r, "a"), t0);
    CHECK_FALSE(r.state(id(r, "a")).down);
}

TEST_CASE("router: ids are stable across reloads, removed gateways finish their calls",
          "[lcr][router]") {
    Router r;
    auto a = gw("a", {"1"});
    auto b = gw("b", {"1"});
    a.group = "g";
    b.group = "g";
    r.set_gateways({a, b}, {{"g", 2}});
    const GatewayId ia = id(r, "a");
    const GatewayId ib = id(r, "b");
    CHECK(ia != ib);
    r.call_started(ia, t0);
    r.call_started(ib, t0);
    CHECK(route_names(r, "1").empty());  // group full

    // Reload in another order, without a, with a new gateway c.
    r.set_gateways({gw("c", {"1"}), b}, {{"g", 2}});
    CHECK(id(r, "b") == ib);
    CHECK(r.state(ib).current_calls == 1);
    CHECK(r.state(ib).total_calls == 1);
    CHECK_FALSE(r.find("a"));
    CHECK(r.spec(ia) == nullptr);
    CHECK(r.name(ia) == "a");
    CHECK(r.state(ia).current_calls == 1);
    const GatewayId ic = id(r, "c");
    CHECK(ic != ia);
    CHECK(ic != ib);
    CHECK(route_names(r, "1") == Names{"c", "b"});  // a's call left the group
    CHECK(r.gateways() == std::vector<GatewayId>{ib, ic});
    REQUIRE(r.spec(ib) != nullptr);
    CHECK(r.spec(ib)->group == "g");

    r.call_ended(ia, Outcome::answered, t0 + 5s);
    CHECK(r.state(ia).current_calls == 0);
    CHECK(r.state(ia).answered_calls == 1);
    CHECK(r.state(ib).current_calls == 1);

    // The name comes back with its old id and history.
    r.set_gateways({a, b, gw("c", {"1"})}, {{"g", 2}});
    CHECK(id(r, "a") == ia);
    CHECK(r.state(ia).total_calls == 1);
    CHECK(r.gateways() == std::vector<GatewayId>{ia, ib, ic});

    // Unknown ids are ignored, not undefined.
    r.call_started(9999, t0);
    r.call_ended(9999, Outcome::failed, t0);
    r.on_probe(9999, false, t0);
    CHECK(r.spec(9999) == nullptr);
    CHECK(r.name(9999).empty());
    CHECK(r.state(9999).total_calls == 0);
}

TEST_CASE("router: a reload keeps health and applies new prefixes", "[lcr][router]") {
    RouterConfig cfg;
    cfg.health.probe_failures = 1;
    Router r(cfg);
    r.set_gateways({gw("a", {"1"}), gw("b", {"2"})}, {});
    r.on_probe(id(r, "a"), false, t0);
    r.set_gateways({gw("a", {"1", "2"}), gw("b", {"2"})}, {});
    CHECK(r.state(id(r, "a")).down);
    CHECK(route_names(r, "2") == Names{"b"});
    r.on_probe(id(r, "a"), true, t0);
    CHECK(route_names(r, "2") == Names{"a", "b"});
    CHECK(route_names(r, "1") == Names{"a"});
    r.set_gateways({gw("a", {"3"})}, {});
    CHECK(route_names(r, "1").empty());
    CHECK(route_names(r, "2").empty());
}

TEST_CASE("router: explain lists candidates in order, then the skipped", "[lcr][router]") {
    Router r(with_policy(Policy::cost));
    auto a = gw("a", {"4420"});
    auto b = gw("b", {"4420"});
    auto p = gw("p", {"4420"});
    auto s = gw("s", {"44"});
    auto full = gw("full", {"4420"});
    auto dis = gw("dis", {"4420"});
    a.rate_key = 1;
    b.rate_key = 2;
    p.rate_key = 3;
    p.protect = true;
    full.line_limit = 1;
    dis.enabled = false;
    r.set_gateways({a, b, p, s, full, dis, gw("x", {"33"})}, {});
    r.call_started(id(r, "full"), t0);
    Rates rates;
    rates.quotes = {{1, {2000, 2000}}, {2, {1000, 1000}}, {3, {1, 1}}};

    std::vector<Explained> rows;
    r.explain({"442071234567", 5000, 0}, rates, t0, rows);
    REQUIRE(rows.size() == 6);  // x does not match
    CHECK(rows[0].gateway == "b");
    CHECK(rows[0].order == 1);
    CHECK(rows[0].prefix == "4420");
    REQUIRE(rows[0].vendor_rate);
    CHECK(rows[0].vendor_rate->per_minute == 1000);
    CHECK(rows[1].gateway == "a");
    CHECK(rows[1].order == 2);
    CHECK(rows[2].gateway == "p");
    CHECK(rows[2].order == 3);
    CHECK(rows[2].protect);
    CHECK(rows[3].gateway == "dis");
    CHECK(rows[3].skip == Skip::disabled);
    CHECK(rows[3].order == 0);
    CHECK(rows[4].gateway == "full");
    CHECK(rows[4].skip == Skip::line_limit);
    CHECK(rows[4].detail == "1/1 lines");
    CHECK(rows[5].gateway == "s");
    CHECK(rows[5].prefix == "44");
    CHECK(rows[5].skip == Skip::shorter_prefix);
    CHECK(rows[5].detail == "prefix 44 shorter than 4420");
    for (std::size_t i = 0; i < 3; ++i) CHECK(rows[i].skip == Skip::none);

    // The candidates match what route() returns.
    RouteBuffer buf;
    r.route({"442071234567", 5000, 0}, rates, t0, buf);
    REQUIRE(buf.candidates.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK(r.name(buf.candidates[i].gateway) == rows[i].gateway);

    r.explain({"999", 5000, 0}, rates, t0, rows);
    CHECK(rows.empty());
}

TEST_CASE("router: non-digit prefixes are ignored, numbers stop at a non-digit",
          "[lcr][router]") {
    Router r;
    r.set_gateways({gw("a", {"4x", "44"}), gw("b", {"+44"})}, {});
    CHECK(route_names(r, "4420") == Names{"a"});
    CHECK(route_names(r, "4x20").empty());
    CHECK(route_names(r, "").empty());
    CHECK(route_names(r, "44#1") == Names{"a"});
}

TEST_CASE("router: route() allocates nothing on a warm buffer", "[lcr][router]") {
    RouterConfig cfg;
    cfg.policy = Policy::cost;
    cfg.asr_aware = true;
    Router r(cfg);
    std::vector<GatewaySpec> specs;
    for (int i = 0; i < 40; ++i) {
        auto g = gw("gw" + std::to_string(i), {"44", "4420", std::to_string(i)}, i % 3);
        g.rate_key = static_cast<std::uint32_t>(i);
        g.line_limit = 100;
        g.cps_limit = 50;
        g.group = i % 2 ? "odd" : "";
        g.reserved_lines = 1;
        g.protect = i % 7 == 0;
        g.lowest_profit_per_s = 1;
        g.max_minute_rate = 100'000;
        g.check_rate = true;
        specs.push_back(std::move(g));
    }
    r.set_gateways(specs, {{"odd", 1000}});
    Rates rates;
    for (std::uint32_t i = 0; i < 40; ++i) rates.quotes[i] = {1000 + i * 7 % 13, 2000 + i % 5};
    for (int i = 0; i < 40; i += 3) start_calls(r, "gw" + std::to_string(i), 2);

    RouteBuffer buf;
    const RouteRequest rq{"442071234567", 100'000, 0};
    r.route(rq, rates, t0, buf);  // warms buf
    REQUIRE(buf.candidates.size() == 40);
    const std::size_t cap = buf.candidates.capacity();

    const std::size_t before = test::alloc::count;
    for (int i = 0; i < 1000; ++i) {
        r.route(rq, rates, t0 + std::chrono::milliseconds(i), buf);
        r.route({"4420", 100'000, 5}, rates, t0, buf);
        r.route({"99", std::nullopt, 0}, rates, t0, buf);
    }
    const std::size_t allocated = test::alloc::count - before;
    CHECK(allocated == 0);
    CHECK(buf.candidates.capacity() == cap);

    // The counter does count (guards against a replacement that is not linked in).
    std::vector<Explained> rows;
    r.explain(rq, rates, t0, rows);
    CHECK(test::alloc::count > before);
}

// sw::Alerts on fake time: vendor rate rises between two books (threshold, effective dates,
// one event per import), negative margins only on reachable prefixes, gateways down and up,
// balances below the threshold, ASR over a sliding window with a minimum of calls,
// acknowledgement and expiry of events, and the bounds.
#include <catch2/catch.hpp>

#include "sw/alerts.hpp"

using namespace std::chrono_literals;

namespace {

const sip::Instant t0 = sip::Instant{} + 1000s;
constexpr std::int64_t kWall = 1'764'000'000'000;

billing::Money M(const char* s) {
    return *billing::Money::parse(s);
}

billing::Rate rate(const char* prefix, const char* price, std::int64_t from = billing::kTimeMin) {
    billing::Rate r;
    r.prefix = prefix;
    r.price = M(price);
    r.effective_from = from;
    return r;
}

// A vendor 9001 on rate group "v1", a customer 1001 on "retail".
billing::Book book(std::vector<billing::Rate> vendor, std::vector<billing::Rate> customer = {},
                   const char* balance = "100") {
    billing::Book b;
    billing::Account v;
    v.id = "9001";
    v.kind = billing::AccountKind::vendor;
    v.rate_group = "v1";
    REQUIRE(b.add_account(v));
    billing::Account c;
    c.id = "1001";
    c.rate_group = "retail";
    c.balance = M(balance);
    REQUIRE(b.add_account(c));
    for (auto& r : vendor) REQUIRE(b.group("v1").add(r));
    for (auto& r : customer) REQUIRE(b.group("retail").add(r));
    return b;
}

std::vector<sw::AlertEvent> events(sw::Alerts& a) {
    std::vector<sw::AlertEvent> v;
    while (auto e = a.poll_event()) v.push_back(std::move(*e));
    return v;
}

}  // namespace

TEST_CASE("alerts: a vendor rate rise above the threshold is one event per import", "[server][alerts]") {
    sw::Alerts a({.rate_increase_percent = 10});
    const auto before = book({rate("44", "0.0100"), rate("33", "0.0200"), rate("49", "0.0300")});
    // 44 +50 %, 33 +10 % exactly (not above), 49 down
    const auto after = book({rate("44", "0.0150"), rate("33", "0.0220"), rate("49", "0.0100")});
    a.rates_changed(before, after, kWall);
    auto ev = events(a);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].raised);
    CHECK(ev[0].alert.kind == sw::AlertKind::rate_increase);
    CHECK(ev[0].alert.subject == "v1");
    CHECK(ev[0].alert.message ==
          "vendor rate group v1: 1 prefix up more than 10%: 44 0.0100 -> 0.0150 (+50%) from "
          "2025-11-24 16:00:00");
    a.rates_changed(after, after, kWall + 1000);  // nothing moved: nothing new
    CHECK(events(a).empty());
    CHECK(a.active().size() == 1);
    CHECK(a.active_by_kind()[static_cast<std::size_t>(sw::AlertKind::rate_increase)] == 1);
}

TEST_CASE("alerts: a future-dated rise is compared when it takes effect", "[server][alerts]") {
    sw::Alerts a({.rate_increase_percent = 20});
    const std::int64_t next_week = kWall + 7 * 86'400'000LL;
    const auto before = book({rate("44", "0.0100")});
    const auto after = book({rate("44", "0.0100"), rate("44", "0.0130", next_week)});
    a.rates_changed(before, after, kWall);
    auto ev = events(a);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].alert.message.find("44 0.0100 -> 0.0130 (+30%) from 2025-12-01 16:00:00") != std::string::npos);
}

TEST_CASE("alerts: threshold 0 turns rate alerts off; a new vendor group is not a rise", "[server][alerts]") {
    sw::Alerts off({.rate_increase_percent = 0});
    off.rates_changed(book({rate("44", "0.01")}), book({rate("44", "1.00")}), kWall);
    CHECK(events(off).empty());
    sw::Alerts a;
    billing::Book empty;
    a.rates_changed(empty, book({rate("44", "0.01")}), kWall);
    CHECK(events(a).empty());
}

TEST_CASE("alerts: acknowledged or expired rate rises clear", "[server][alerts]") {
    sw::Alerts a({.rate_increase_percent = 10, .event_ttl = 3600s});
    a.rates_changed(book({rate("44", "0.01")}), book({rate("44", "0.02")}), kWall);
    auto ev = events(a);
    REQUIRE(ev.size() == 1);
    CHECK(a.acknowledge(ev[0].alert.id, kWall + 5));
    CHECK_FALSE(a.acknowledge(ev[0].alert.id, kWall + 6));
    auto cleared = events(a);
    REQUIRE(cleared.size() == 1);
    CHECK_FALSE(cleared[0].raised);
    CHECK(cleared[0].alert.cleared_ms == kWall + 5);
    CHECK(a.cleared().size() == 1);
    // raised again by the next import, then expired by time
    a.rates_changed(book({rate("44", "0.01")}), book({rate("44", "0.02")}), kWall + 10);
    REQUIRE(events(a).size() == 1);
    const billing::Book b = book({});
    a.tick({}, b, t0, kWall + 10 + 3599'999);
    CHECK(a.active().size() == 1);
    a.tick({}, b, t0 + 1s, kWall + 10 + 3600'000);
    CHECK(a.active().empty());
}

TEST_CASE("alerts: negative margins on the prefixes a gateway can reach", "[server][alerts]") {
    sw::Alerts a;
    auto b = book({rate("44", "0.0200"), rate("33", "0.0300")},
                  {rate("44", "0.0100"), rate("33", "0.0100"), rate("49", "0.0500")});
    // gw1 carries 44 only: 33 is below cost too but not reachable through it
    a.margins(b, {{"retail", "gw1", "v1", {"44"}}}, kWall);
    auto ev = events(a);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].alert.subject == "retail -> gw1");
    CHECK(ev[0].alert.message == "1 prefix sold below cost to gw1 (vendor group v1): 44 0.0100 < 0.0200");
    // every number: both
    a.margins(b, {{"retail", "gw1", "v1", {""}}}, kWall + 1);
    CHECK(events(a).empty());  // the same alert, its message updated
    REQUIRE(a.active().size() == 1);
    CHECK(a.active()[0].message.starts_with("2 prefixes sold below cost"));
    // fixed deck: cleared
    auto fixed = book({rate("44", "0.0050"), rate("33", "0.0050")}, {rate("44", "0.0100"), rate("33", "0.0100")});
    a.margins(fixed, {{"retail", "gw1", "v1", {""}}}, kWall + 2);
    auto cl = events(a);
    REQUIRE(cl.size() == 1);
    CHECK_FALSE(cl[0].raised);
    CHECK(a.active().empty());
}

TEST_CASE("alerts: gateways down and back up; balances below the threshold", "[server][alerts]") {
    sw::Alerts a({.balance_below = M("5")});
    const auto rich = book({}, {}, "100");
    a.tick({{"gw1", true, "3 probes unanswered", 0, 0}, {"gw2", false, "", 0, 0}}, rich, t0, kWall);
    auto ev = events(a);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].alert.kind == sw::AlertKind::gateway_down);
    CHECK(ev[0].alert.message == "vendor gateway gw1 is down: 3 probes unanswered");
    a.tick({{"gw1", true, "3 probes unanswered", 0, 0}}, rich, t0 + 1s, kWall + 1000);
    CHECK(events(a).empty());  // still down: one alert
    const auto poor = book({}, {}, "4.99");
    a.tick({{"gw1", false, "", 0, 0}}, poor, t0 + 2s, kWall + 2000);
    ev = events(a);
    REQUIRE(ev.size() == 2);
    // gw1 cleared, account 1001 raised (the vendor account 9001 at 0 is not a customer balance)
    CHECK((!ev[0].raised && ev[0].alert.subject == "gw1"));
    CHECK((ev[1].raised && ev[1].alert.kind == sw::AlertKind::balance_low));
    CHECK(ev[1].alert.message == "account 1001 available 4.9900 below 5.0000");
    a.tick({}, rich, t0 + 3s, kWall + 3000);
    ev = events(a);
    REQUIRE(ev.size() == 1);
    CHECK_FALSE(ev[0].raised);
}

TEST_CASE("alerts: ASR over the window, only with enough calls", "[server][alerts]") {
    sw::Alerts a({.asr_below_percent = 30, .asr_min_calls = 20, .asr_window = 600s});
    const billing::Book b;
    sip::Instant now = t0;
    std::int64_t wall = kWall;
    auto tick = [&](std::uint64_t calls, std::uint64_t answered) {
        a.tick({{"gw1", false, "", calls, answered}}, b, now, wall);
        now += 60s;
        wall += 60'000;
        return events(a);
    };
    CHECK(tick(0, 0).empty());
    CHECK(tick(10, 0).empty());  // 10 calls: too few to judge
    auto ev = tick(20, 5);       // 20 calls, 25 %
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].alert.message == "vendor gateway gw1 ASR 25% (5 of 20 calls answered) below 30%");
    // the window slides: after ten more minutes of good calls the old ones leave it
    for (int i = 0; i < 10; ++i) tick(20 + 10 * (i + 1), 5 + 8 * (i + 1));
    CHECK(a.active().empty());
}

TEST_CASE("alerts: the cleared history and pending events are bounded", "[server][alerts]") {
    sw::Alerts a({.max_cleared = 3, .max_events = 4});
    const billing::Book b;
    for (int i = 0; i < 10; ++i) {
        a.tick({{"gw" + std::to_string(i), true, "down", 0, 0}}, b, t0, kWall + i);
        a.tick({}, b, t0, kWall + i);
    }
    CHECK(a.cleared().size() == 3);
    CHECK(a.cleared().back().subject == "gw9");
    CHECK(events(a).size() == 4);
    CHECK(a.raised_total() == 10);
}

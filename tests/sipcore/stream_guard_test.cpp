// sip::StreamGuard (libsipcore/src/stream_guard.cpp): per-source connection limits, the
// per-source rate, who gives way at the global cap, and one report per episode. Fake time.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sip/stream_guard.hpp"

using namespace std::chrono_literals;
using sip::StreamGuard;
using Verdict = sip::StreamGuard::Verdict;

namespace {

sip::Instant at(std::int64_t ms) {
    return sip::instant_ms(ms);
}

std::vector<std::string> reports(StreamGuard& g, sip::Instant now) {
    std::vector<std::string> out;
    for (int i = 0; i < 100; ++i) {
        auto l = g.poll_report(now);
        if (!l) break;
        out.push_back(*l);
    }
    return out;
}

// `n` connections from `src`, one every 100 ms from `t` (under any rate limit of >= 10/s);
// returns how many were accepted. `open` follows the total.
int open_paced(StreamGuard& g, const std::string& src, int n, std::int64_t& t, std::size_t& open) {
    int ok = 0;
    for (int i = 0; i < n; ++i, t += 100) {
        if (g.admit(src, at(t), open).verdict == Verdict::accept) {
            ++ok;
            ++open;
        }
    }
    return ok;
}

}  // namespace

TEST_CASE("stream guard: a source holding its limit is refused, others are not",
          "[sipcore][stream_guard]") {
    StreamGuard g({.max_connections = 4096, .max_per_source = 64, .new_per_second = 20});
    std::int64_t t = 0;
    std::size_t open = 0;
    CHECK(open_paced(g, "192.0.2.1", 64, t, open) == 64);
    CHECK(g.open_from("192.0.2.1") == 64);
    CHECK(g.admit("192.0.2.1", at(t), open).verdict == Verdict::per_source);
    CHECK(g.admit("192.0.2.1", at(t + 5000), open).verdict == Verdict::per_source);
    CHECK(g.admit("192.0.2.2", at(t), open).verdict == Verdict::accept);
    g.closed("192.0.2.1");
    CHECK(g.open_from("192.0.2.1") == 63);
    CHECK(g.admit("192.0.2.1", at(t + 5000), open).verdict == Verdict::accept);
    CHECK(g.counters().refused_per_source == 2);
    CHECK(g.counters().accepted == 66);
}

TEST_CASE("stream guard: new connections per second, bursts of the same size",
          "[sipcore][stream_guard]") {
    StreamGuard g({.max_per_source = 1000, .new_per_second = 20});
    int ok = 0;
    for (int i = 0; i < 100; ++i)
        ok += g.admit("198.51.100.7", at(0), 0).verdict == Verdict::accept;
    CHECK(ok == 20);
    CHECK(g.counters().refused_rate == 80);
    // one more every 50 ms; refused attempts used no budget
    CHECK(g.admit("198.51.100.7", at(40), 0).verdict == Verdict::rate);
    CHECK(g.admit("198.51.100.7", at(50), 0).verdict == Verdict::accept);
    CHECK(g.admit("198.51.100.7", at(60), 0).verdict == Verdict::rate);
    // a quiet second refills the whole burst
    ok = 0;
    for (int i = 0; i < 30; ++i)
        ok += g.admit("198.51.100.7", at(1100), 0).verdict == Verdict::accept;
    CHECK(ok == 20);
    // another source has its own budget
    CHECK(g.admit("198.51.100.8", at(1100), 0).verdict == Verdict::accept);
}

TEST_CASE("stream guard: per-source overrides for known gateways", "[sipcore][stream_guard]") {
    StreamGuard g({.max_per_source = 4,
                   .new_per_second = 2,
                   .overrides = {{"192.0.2.50", 500, 0}, {"2001:db8:1:2::/64", 0, 100}}});
    int ok = 0;
    for (int i = 0; i < 600; ++i)
        ok += g.admit("192.0.2.50", at(0), 0).verdict == Verdict::accept;
    CHECK(ok == 500);  // no rate limit, its own connection limit
    ok = 0;
    for (int i = 0; i < 300; ++i)
        ok += g.admit("2001:db8:1:2::/64", at(0), 0).verdict == Verdict::accept;
    CHECK(ok == 100);  // no connection limit, its own rate
    ok = 0;
    for (int i = 0; i < 10; ++i)
        ok += g.admit("192.0.2.51", at(0), 0).verdict == Verdict::accept;
    CHECK(ok == 2);
}

TEST_CASE("stream guard: at the global cap the heaviest source gives way",
          "[sipcore][stream_guard]") {
    StreamGuard g({.max_connections = 10, .max_per_source = 100, .new_per_second = 0});
    std::size_t open = 0;
    for (int i = 0; i < 10; ++i, ++open)
        REQUIRE(g.admit("203.0.113.1", at(0), open).verdict == Verdict::accept);
    // a newcomer takes the place of one of the heavy source's connections
    auto d = g.admit("203.0.113.2", at(0), open);
    REQUIRE(d.verdict == Verdict::evict);
    CHECK(d.victim == "203.0.113.1");
    g.closed(d.victim);  // the adapter closed its idlest connection
    CHECK(g.open_from("203.0.113.1") == 9);
    CHECK(g.open_from("203.0.113.2") == 1);
    // it goes on until the shares are even, then newcomers are refused
    int evictions = 1;
    for (int i = 0; i < 20; ++i) {
        auto e = g.admit("203.0.113.2", at(0), open);
        if (e.verdict != Verdict::evict) {
            CHECK(e.verdict == Verdict::full);
            break;
        }
        ++evictions;
        g.closed(e.victim);
    }
    CHECK(evictions == 5);
    CHECK(g.open_from("203.0.113.1") == 5);  // even: one more would only turn the tables
    CHECK(g.open_from("203.0.113.2") == 5);
    // a third source still gets in, at the expense of one of the heaviest
    d = g.admit("203.0.113.3", at(0), open);
    CHECK(d.verdict == Verdict::evict);
    CHECK((d.victim == "203.0.113.1" || d.victim == "203.0.113.2"));
    CHECK(g.counters().evicted == 6);
    CHECK(g.counters().refused_full == 1);
}

TEST_CASE("stream guard: at the cap, one connection each is refused, not churned",
          "[sipcore][stream_guard]") {
    StreamGuard g({.max_connections = 3});
    std::size_t open = 0;
    for (const char* s : {"192.0.2.1", "192.0.2.2", "192.0.2.3"})
        REQUIRE(g.admit(s, at(0), open++).verdict == Verdict::accept);
    CHECK(g.admit("192.0.2.4", at(0), open).verdict == Verdict::full);
    CHECK(g.admit("192.0.2.1", at(0), open).verdict == Verdict::full);
}

TEST_CASE("stream guard: a gateway with a larger limit weighs by its own limit",
          "[sipcore][stream_guard]") {
    StreamGuard g({.max_connections = 100,
                   .max_per_source = 64,
                   .new_per_second = 0,
                   .overrides = {{"192.0.2.50", 1000, 0}, {"192.0.2.60", 0, 0}}});
    std::size_t open = 0;
    for (int i = 0; i < 40; ++i, ++open)
        REQUIRE(g.admit("192.0.2.60", at(0), open).verdict == Verdict::accept);  // unlimited
    for (int i = 0; i < 50; ++i, ++open)
        REQUIRE(g.admit("192.0.2.50", at(0), open).verdict == Verdict::accept);
    for (int i = 0; i < 10; ++i, ++open)
        REQUIRE(g.admit("198.51.100.9", at(0), open).verdict == Verdict::accept);
    // 10/64 of its limit is the largest share: the small source gives way, not the gateway
    auto d = g.admit("203.0.113.5", at(0), open);
    REQUIRE(d.verdict == Verdict::evict);
    CHECK(d.victim == "198.51.100.9");
    g.closed(d.victim);
    // an unlimited source is never chosen
    StreamGuard only({.max_connections = 5, .overrides = {{"192.0.2.60", 0, 0}}});
    open = 0;
    for (int i = 0; i < 5; ++i, ++open)
        REQUIRE(only.admit("192.0.2.60", at(0), open).verdict == Verdict::accept);
    CHECK(only.admit("203.0.113.5", at(0), open).verdict == Verdict::full);
    CHECK_FALSE(only.victim_for_outbound(at(0)));
}

TEST_CASE("stream guard: an outbound connection at the cap takes a heavy source's place",
          "[sipcore][stream_guard]") {
    StreamGuard g({.max_connections = 4, .new_per_second = 0});
    std::size_t open = 0;
    REQUIRE(g.admit("192.0.2.1", at(0), open++).verdict == Verdict::accept);
    CHECK_FALSE(g.victim_for_outbound(at(0)));  // one connection each is never taken
    REQUIRE(g.admit("192.0.2.2", at(0), open++).verdict == Verdict::accept);
    REQUIRE(g.admit("192.0.2.2", at(0), open++).verdict == Verdict::accept);
    auto v = g.victim_for_outbound(at(0));
    REQUIRE(v);
    CHECK(*v == "192.0.2.2");
    CHECK(g.counters().evicted == 1);
}

TEST_CASE("stream guard: one line when an episode starts, one when it ends",
          "[sipcore][stream_guard]") {
    StreamGuard g({.max_per_source = 2, .new_per_second = 0, .quiet = 10s, .report_every = 60s});
    std::size_t open = 0;
    for (int i = 0; i < 2; ++i)
        g.admit("192.0.2.9", at(0), open++);
    CHECK(reports(g, at(0)).empty());  // accepting is not news
    for (int i = 0; i < 1000; ++i)
        CHECK(g.admit("192.0.2.9", at(i), open).verdict == Verdict::per_source);
    g.admit("192.0.2.10", at(0), open++);
    g.admit("192.0.2.10", at(0), open++);
    g.admit("192.0.2.10", at(500), open);  // refused too, fewer times
    auto first = reports(g, at(1000));
    REQUIRE(first.size() == 1);
    CHECK(first[0].find("192.0.2.9") != std::string::npos);
    CHECK(first[0].find("max_connections_per_source 2") != std::string::npos);
    CHECK(reports(g, at(5000)).empty());  // still within `quiet` of the last refusal
    auto last = reports(g, at(1000 + 10'000));
    REQUIRE(last.size() == 1);
    INFO(last[0]);
    CHECK(last[0].find("episode over") != std::string::npos);
    CHECK(last[0].find("refused 1001 (1001 per-source limit, 0 rate, 0 max_connections)") !=
          std::string::npos);
    CHECK(last[0].find("refused most: 192.0.2.9 (1000)") != std::string::npos);
    CHECK(reports(g, at(100'000)).empty());
    // the next refusal starts a new episode, counted from zero
    g.admit("192.0.2.9", at(200'000), open);
    CHECK(reports(g, at(200'000)).size() == 1);
    auto again = reports(g, at(210'000));
    REQUIRE(again.size() == 1);
    CHECK(again[0].find("refused 1 (1 per-source limit") != std::string::npos);
}

TEST_CASE("stream guard: a long episode reports once a minute", "[sipcore][stream_guard]") {
    StreamGuard g({.max_per_source = 1, .new_per_second = 0, .quiet = 10s, .report_every = 60s});
    g.admit("192.0.2.9", at(0), 0);
    std::size_t lines = 0;
    for (std::int64_t t = 0; t <= 300'000; t += 100) {  // 5 minutes, 10 refusals a second
        g.admit("192.0.2.9", at(t), 1);
        lines += reports(g, at(t)).size();
    }
    CHECK(lines == 1 + 5);  // the first, then one "still limiting" a minute
    g.deadline_closed("192.0.2.11", at(300'000));
    auto end = reports(g, at(311'000));
    REQUIRE(end.size() == 1);
    CHECK(end[0].find("closed at the message deadline 1") != std::string::npos);
    CHECK(g.counters().deadline_closed == 1);
}

TEST_CASE("stream guard: sweep forgets sources with nothing open and a full budget",
          "[sipcore][stream_guard]") {
    StreamGuard g({.max_per_source = 10, .new_per_second = 20});
    for (int i = 0; i < 100; ++i)
        g.admit("10.0.0." + std::to_string(i), at(0), 0);
    g.admit("10.0.1.1", at(0), 0);
    for (int i = 0; i < 100; ++i)
        g.closed("10.0.0." + std::to_string(i));
    CHECK(g.sources() == 101);
    g.sweep(at(10));  // budgets not refilled yet (one connection used 50 ms of them)
    CHECK(g.sources() == 101);
    g.sweep(at(1000));
    CHECK(g.sources() == 1);  // 10.0.1.1 still has its connection
    g.closed("10.0.1.1");
    g.closed("10.0.1.1");  // a second close is ignored
    CHECK(g.open_from("10.0.1.1") == 0);
    g.sweep(at(2000));
    CHECK(g.sources() == 0);
}

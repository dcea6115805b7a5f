// route::reg::AuthGuard: per (user, address) and per address counting, trusted addresses,
// heavy-hitter counter tables that a flood of new keys cannot flush, bounded suspensions.
#include "route/reg/auth_guard.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace route::reg;
using namespace std::chrono_literals;

namespace {
const sip::Instant t0{};
std::string addr(int i) {
    return "10." + std::to_string(i / 65536 % 256) + "." + std::to_string(i / 256 % 256) + "." +
           std::to_string(i % 256);
}
}  // namespace

TEST_CASE("auth guard: per (user, address) and per address; others are not refused",
          "[reg][guard]") {
    AuthGuard g({.retry = 3});
    CHECK(g.failed("alice", "203.0.113.9", t0).empty());
    CHECK(g.failed("alice", "203.0.113.9", t0 + 1s).empty());
    auto s = g.failed("alice", "203.0.113.9", t0 + 2s);
    REQUIRE(s.size() == 2);
    CHECK(s[0] == Suspension{Suspension::Kind::UserAtAddress, "alice", t0 + 2s + 180s,
                             "203.0.113.9"});
    CHECK(s[1] == Suspension{Suspension::Kind::Address, "203.0.113.9", t0 + 2s + 180s, "alice"});
    CHECK(g.refused("alice", "203.0.113.9", t0 + 3s));
    CHECK(g.refused("", "203.0.113.9", t0 + 3s));
    CHECK(g.refused("bob", "203.0.113.9", t0 + 3s));
    CHECK_FALSE(g.refused("alice", "192.0.2.10", t0 + 3s));  // the user is not locked out
    CHECK_FALSE(g.refused("alice", "203.0.113.9", t0 + 2s + 180s));  // ends exactly then
    auto ended = g.expire(t0 + 2s + 180s);
    CHECK(ended.size() == 2);
    CHECK(g.suspension_count() == 0);
}

TEST_CASE("auth guard: a trusted address is not refused for another's failures",
          "[reg][guard]") {
    AuthGuard g({.retry = 2, .trust_window = 3600s, .scope = SuspendScope::User});
    g.succeeded("alice", "192.0.2.10", t0);
    // another user guessing behind the same NAT address, and guessers elsewhere at alice
    g.failed("mallory", "192.0.2.10", t0 + 1s);
    g.failed("mallory", "192.0.2.10", t0 + 2s);
    g.failed("alice", "198.51.100.1", t0 + 3s);
    g.failed("alice", "198.51.100.2", t0 + 4s);
    CHECK(g.refused("", "192.0.2.10", t0 + 5s));        // the address is suspended ...
    CHECK(g.refused("bob", "192.0.2.10", t0 + 5s));
    CHECK_FALSE(g.refused("alice", "192.0.2.10", t0 + 5s));  // ... but not for alice
    CHECK(g.refused("alice", "198.51.100.3", t0 + 5s));  // user-wide elsewhere (scope user)
    // trust ends after the window unless renewed
    CHECK(g.refused("alice", "192.0.2.10", t0 + 3601s) == g.refused("", "192.0.2.10", t0 + 3601s));
    // wrong passwords at the trusted pair itself still suspend that pair
    AuthGuard h({.retry = 2});
    h.succeeded("alice", "192.0.2.10", t0);
    h.failed("alice", "192.0.2.10", t0 + 1s);
    h.failed("alice", "192.0.2.10", t0 + 2s);
    CHECK(h.refused("alice", "192.0.2.10", t0 + 3s));
}

TEST_CASE("auth guard: a success clears the pair's count, not the address's", "[reg][guard]") {
    AuthGuard g({.retry = 3});
    g.failed("alice", "192.0.2.10", t0);
    g.failed("alice", "192.0.2.10", t0 + 1s);
    g.succeeded("alice", "192.0.2.10", t0 + 2s);
    CHECK(g.failed("alice", "192.0.2.10", t0 + 3s).size() == 1);  // the address: 3 failures
    CHECK(g.list(t0 + 3s).at(0).kind == Suspension::Kind::Address);
}

TEST_CASE("auth guard: a flood of new keys cannot flush a tracked offender", "[reg][guard][security]") {
    // Issue 16 item 4: 10,050 failures with invented names between guesses gave 15 guesses at
    // one user without a suspension (the oldest counter was dropped first).
    AuthGuard g({.retry = 6, .scope = SuspendScope::User, .max_counters = 10'000});
    int guesses = 0;
    for (int round = 0; round < 6 && !g.refused("alice", "198.51.100.1", t0); ++round) {
        g.failed("alice", addr(1'000'000 + round), t0 + round * 1s);  // a new address each time
        ++guesses;
        for (int i = 0; i < 10'050; ++i)
            g.failed("x" + std::to_string(round * 10'050 + i), "203.0.113.5", t0 + round * 1s);
        REQUIRE(g.tracked_counters() <= 3 * 10'000);
    }
    CHECK(guesses == 6);
    CHECK(g.refused("alice", "198.51.100.1", t0 + 6s));
    CHECK(g.stats().evicted_counters > 0);
}

TEST_CASE("auth guard: 12,000 addresses x 6 wrong passwords, round robin, are all suspended",
          "[reg][guard][security]") {
    // Issue 16 item 4: with 10,000 counters per table and round-robin guessing no address was
    // ever suspended. Now the first 10,000 are suspended after 6 tries each, and the rest
    // (who take the slots the suspended ones free) after at most 2 x 6.
    AuthGuard g({.retry = 6, .max_counters = 10'000});
    constexpr int kAddresses = 12'000;
    auto suspended = [&](sip::Instant now) {
        int n = 0;
        for (int a = 0; a < kAddresses; ++a) n += g.refused("", addr(a), now);
        return n;
    };
    int round = 0;
    for (; round < 6; ++round)
        for (int a = 0; a < kAddresses; ++a)
            if (!g.refused("", addr(a), t0)) g.failed("alice", addr(a), t0);
    CHECK(suspended(t0) >= 10'000 - 1);
    for (; round < 12; ++round)
        for (int a = 0; a < kAddresses; ++a)
            if (!g.refused("", addr(a), t0)) g.failed("alice", addr(a), t0);
    CHECK(suspended(t0) == kAddresses);
    CHECK(g.tracked_counters() <= 2 * 10'000);
}

TEST_CASE("auth guard: an innocent key is never suspended by a full table", "[reg][guard]") {
    AuthGuard g({.retry = 2, .max_counters = 4});
    for (int i = 0; i < 100; ++i) g.failed("u" + std::to_string(i), addr(i), t0);
    CHECK(g.suspension_count() == 0);  // no count is inherited from an evicted entry
    CHECK(g.failed("bob", "192.0.2.99", t0).empty());
}

TEST_CASE("auth guard: lift by user, by address, and pairs at an address", "[reg][guard]") {
    AuthGuard g({.retry = 1});
    g.failed("alice", "192.0.2.1", t0);  // alice@.1 and .1
    g.failed("bob", "192.0.2.2", t0);    // bob@.2 and .2
    REQUIRE(g.suspension_count() == 4);
    auto lifted = g.lift("192.0.2.1");  // the address and the pair at it
    CHECK(lifted.size() == 2);
    CHECK_FALSE(g.refused("alice", "192.0.2.1", t0));
    lifted = g.lift("bob");  // bob's pair; the address .2 stays
    REQUIRE(lifted.size() == 1);
    CHECK(lifted[0].kind == Suspension::Kind::UserAtAddress);
    CHECK(g.refused("carol", "192.0.2.2", t0));
    CHECK(g.lift("nobody").empty());
}

TEST_CASE("auth guard: suspensions are bounded; restore keeps them across a restart",
          "[reg][guard]") {
    AuthGuard g({.retry = 1, .max_suspensions = 10});
    for (int i = 0; i < 20; ++i) g.failed("", addr(i), t0 + i * 1s);
    CHECK(g.suspension_count() == 10);
    CHECK(g.stats().dropped_suspensions == 10);
    CHECK(g.refused("", addr(19), t0 + 20s));  // the newest stay
    CHECK_FALSE(g.refused("", addr(0), t0 + 20s));
    AuthGuard h({});
    for (const Suspension& s : g.list(t0 + 20s)) h.restore(s, t0 + 20s);
    CHECK(h.list(t0 + 20s) == g.list(t0 + 20s));
    h.restore({Suspension::Kind::User, "old", t0, ""}, t0 + 20s);  // already over: ignored
    CHECK(h.suspension_count() == 10);
}

TEST_CASE("auth guard: counters expire after the failure window; next_deadline says when",
          "[reg][guard]") {
    AuthGuard g({.retry = 3, .failure_window = 60s});
    g.failed("alice", "192.0.2.1", t0);
    CHECK(g.next_deadline() == t0 + 60s);
    g.expire(t0 + 60s);
    CHECK(g.tracked_counters() == 0);
    CHECK_FALSE(g.next_deadline());
    g.failed("alice", "192.0.2.1", t0 + 61s);
    g.failed("alice", "192.0.2.1", t0 + 62s);
    CHECK(g.suspension_count() == 0);  // the first failure was forgotten
}

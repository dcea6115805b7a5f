// What brute-force protection costs (README "Security"): route::reg::AuthGuard under the
// issue 16 attacks, in CPU per failed authentication and heap bytes per tracked entry.
//
//   build-me/bench/auth_guard_bench
//
// Attacks: (1) 12,000 addresses guessing one user round robin, 12 rounds (every address
// suspended); (2) one offender among a flood of 1,000,000 failures with invented user names
// from 10,000 addresses (the offender must stay tracked); (3) the default tables full;
// (4) starting and lifting suspensions with 100,000 held. Times are wall clock on this
// machine; the heap bytes come from the counting operator new (malloc_usable_size).
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "../tests/support/counting_new.hpp"
#include "route/reg/auth_guard.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {
std::string addr(int i) {
    std::string a = "10.";  // appended, not operator+: GCC 12 warns falsely (-Wrestrict) there
    a.append(std::to_string(i / 65536 % 256)).append(".");
    a.append(std::to_string(i / 256 % 256)).append(".").append(std::to_string(i % 256));
    return a;
}
}  // namespace

int main() {
    const sip::Instant t0{};
    {
        std::vector<std::string> addrs;
        for (int a = 0; a < 12'000; ++a) addrs.push_back(addr(a));
        const long long before = test::alloc::live_bytes;
        route::reg::AuthGuard g({.retry = 6, .max_counters = 10'000});
        long failures = 0;
        const auto start = Clock::now();
        for (int round = 0; round < 12; ++round)
            for (const std::string& a : addrs)
                if (!g.refused("alice", a, t0)) {
                    g.failed("alice", a, t0);
                    ++failures;
                }
        const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
        const long long held = test::alloc::live_bytes - before;
        std::printf("round robin, 12,000 addresses x 12 rounds: %ld failures, %.0f ns each "
                    "(check + count); %zu suspensions, %zu counters; heap %.1f MiB, %.0f B per "
                    "suspension or counter\n",
                    failures, ns / static_cast<double>(failures), g.suspension_count(),
                    g.tracked_counters(), static_cast<double>(held) / 1048576.0,
                    static_cast<double>(held) /
                        static_cast<double>(g.suspension_count() + g.tracked_counters()));
    }
    {
        route::reg::AuthGuard g({.retry = 6, .scope = route::reg::SuspendScope::User});
        const auto start = Clock::now();
        long failures = 0;
        int offender_guesses = 0;
        for (int i = 0; i < 1'000'000 && !g.refused("alice", "192.0.2.99", t0); ++i) {
            if (i % 100'000 == 0) {
                g.failed("alice", addr(500'000 + i / 100'000), t0);
                ++offender_guesses;
            } else {
                g.failed(std::string("u").append(std::to_string(i)), addr(i % 10'000),
                         t0 + 1ms * (i / 10'000));
            }
            ++failures;
        }
        const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
        std::printf("flush attempt, 1,000,000 failures with invented names: user suspended after "
                    "%d guesses; %.0f ns per failure; %llu counters evicted; %zu tracked\n",
                    offender_guesses, ns / static_cast<double>(failures),
                    static_cast<unsigned long long>(g.stats().evicted_counters),
                    g.tracked_counters());
    }
    {
        // the default tables full: one failure each from 50,000 addresses fills the pairs and
        // the addresses (max_tracked 50,000 each)
        route::reg::AuthGuard g({.retry = 6});
        const long long before = test::alloc::live_bytes;
        for (int a = 0; a < 50'000; ++a) g.failed("alice", addr(a), t0);
        const long long held = test::alloc::live_bytes - before;
        std::printf("tables full at the default max_tracked: %zu counters, heap %.1f MiB, %.0f B "
                    "per counter\n",
                    g.tracked_counters(), static_cast<double>(held) / 1048576.0,
                    static_cast<double>(held) / static_cast<double>(g.tracked_counters()));
    }
    {
        // starting and lifting suspensions while 100,000 are held (retry 1: every failure
        // suspends the address and the user there)
        route::reg::AuthGuard g({.retry = 1, .max_suspensions = 200'000});
        for (int a = 0; a < 50'000; ++a) g.failed("alice", addr(a), t0);
        const std::size_t held = g.suspension_count();
        auto start = Clock::now();
        for (int a = 50'000; a < 51'000; ++a) g.failed("alice", addr(a), t0);
        const double start_ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
        start = Clock::now();
        for (int a = 50'000; a < 51'000; ++a) g.lift(addr(a));
        const double lift_ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
        std::printf("with %zu suspensions held: a failure that starts 2 suspensions %.0f ns, "
                    "lifting an address (and the user there) %.0f ns\n",
                    held, start_ns / 1000.0, lift_ns / 1000.0);
    }
    return 0;
}

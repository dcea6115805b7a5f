// LCR benchmark: route::lcr::Router::route() against a large vendor deck.
//
//   ./bench/lcr/lcr_bench                          # 1,000,000 prefixes over 1,000 gateways
//   ./bench/lcr/lcr_bench --routes 10000000 --policy vos3000
//
// Options: --prefixes N (1000000 distinct prefixes: 1,110 short ones of 1-3 digits, the
//          rest 7 digits)  --gateways N (1000)  --per-prefix N (2 gateways per 7-digit
//          prefix; every short prefix has 5)  --routes N (2000000 timed route() calls)
//          --policy vos3000|cost|cost_in_priority (cost)
// Every gateway has guards on (check_rate, max minute rate, lowest profit), half a line
// limit, a third a group, so route() runs every check. Nine numbers in ten extend a 7-digit
// prefix, one in ten is random (mostly falling back to a short prefix).
//
// Output: deck load time, then one line per policy run:
//   route  <ns/route>  <allocs/route>  <candidates/route>
// ns are thread CPU time (independent of other jobs on the machine). Allocations are counted
// by bench/common.cpp's malloc replacement; the exit status is 1 if route() allocated.
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "../common.hpp"
#include "route/lcr/router.hpp"

using namespace route::lcr;
using namespace std::chrono_literals;

namespace {

struct Options {
    std::size_t prefixes = 1'000'000;
    std::size_t gateways = 1'000;
    std::size_t per_prefix = 2;
    std::size_t routes = 2'000'000;
    Policy policy = Policy::cost;
};

double cpu_ns() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

// splitmix64: a fixed sequence, so every run routes the same numbers.
struct Rng {
    std::uint64_t s = 0x9e3779b97f4a7c15u;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        return z ^ (z >> 31);
    }
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

std::string digits(std::uint64_t v, int width) {
    std::string s(static_cast<std::size_t>(width), '0');
    for (int i = width - 1; i >= 0; --i, v /= 10) s[static_cast<std::size_t>(i)] = char('0' + v % 10);
    return s;
}

// Vendor prices from a flat table: the bench measures the router, not a rate deck.
class TableRates final : public RateLookup {
  public:
    std::vector<RateQuote> by_key;
    std::optional<RateQuote> vendor_rate(std::uint32_t key, std::string_view) const override {
        if (key >= by_key.size()) return std::nullopt;
        return by_key[key];
    }
};

struct Deck {
    std::vector<GatewaySpec> gateways;
    std::vector<GroupSpec> groups;
    std::vector<std::string> long_prefixes;
};

// 1,110 short prefixes (every 1-3 digit string) and the rest distinct 7-digit ones: i * a
// mod 10^7 with a prime to 2 and 5 is a permutation, so no two collide.
Deck make_deck(const Options& o, Rng& rng) {
    Deck d;
    d.gateways.resize(o.gateways);
    for (std::size_t g = 0; g < o.gateways; ++g) {
        GatewaySpec& s = d.gateways[g];
        s.name = "gw" + std::to_string(g);
        s.priority = static_cast<std::int32_t>(g % 10);
        s.line_limit = g % 2 ? 100 : 0;
        s.cps_limit = 50;
        s.group = g % 3 == 0 ? "grp" + std::to_string(g % 30) : "";
        s.reserved_lines = g % 3 == 0 ? 2 : 0;
        s.protect = g % 50 == 0;
        s.lowest_profit_per_s = 10;
        s.max_minute_rate = 500'000;
        s.check_rate = true;
        s.rate_key = static_cast<std::uint32_t>(g);
    }
    for (int i = 0; i < 30; ++i) d.groups.push_back({"grp" + std::to_string(i), 1000});
    std::size_t made = 0;
    for (int width = 1; width <= 3 && made < o.prefixes; ++width)
        for (std::uint64_t v = 0; v < (width == 1 ? 10u : width == 2 ? 100u : 1000u) &&
                                  made < o.prefixes; ++v, ++made)
            for (int k = 0; k < 5; ++k)
                d.gateways[rng.below(o.gateways)].prefixes.push_back(digits(v, width));
    for (std::uint64_t i = 0; made < o.prefixes; ++i, ++made) {
        std::string p = digits((i * 7'654'321u + 12'345u) % 10'000'000u, 7);
        for (std::size_t k = 0; k < o.per_prefix; ++k)
            d.gateways[rng.below(o.gateways)].prefixes.push_back(p);
        d.long_prefixes.push_back(std::move(p));
    }
    return d;
}

std::vector<std::string> make_numbers(const Deck& d, Rng& rng, std::size_t n) {
    std::vector<std::string> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (i % 10 != 9 && !d.long_prefixes.empty())
            out.push_back(d.long_prefixes[rng.below(d.long_prefixes.size())] +
                          digits(rng.next() % 10'000, 4));
        else
            out.push_back(digits(rng.next() % 100'000'000'000u, 11));
    }
    return out;
}

bool parse_args(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (v == nullptr) return false;
        ++i;
        if (a == "--prefixes") o.prefixes = std::strtoull(v, nullptr, 10);
        else if (a == "--gateways") o.gateways = std::strtoull(v, nullptr, 10);
        else if (a == "--per-prefix") o.per_prefix = std::strtoull(v, nullptr, 10);
        else if (a == "--routes") o.routes = std::strtoull(v, nullptr, 10);
        else if (a == "--policy") {
            auto p = parse_policy(v);
            if (!p) return false;
            o.policy = *p;
        } else {
            return false;
        }
    }
    return o.gateways > 0 && o.routes > 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (!parse_args(argc, argv, o)) {
        std::fprintf(stderr,
                     "usage: lcr_bench [--prefixes N] [--gateways N] [--per-prefix N] "
                     "[--routes N] [--policy vos3000|cost|cost_in_priority]\n");
        return 2;
    }
    Rng rng;
    Deck deck = make_deck(o, rng);
    const std::vector<std::string> numbers = make_numbers(deck, rng, 100'000);
    TableRates rates;
    for (std::size_t g = 0; g < o.gateways; ++g)
        rates.by_key.push_back({static_cast<Micros>(10'000 + rng.below(90'000)),
                                static_cast<Micros>(10'000 + rng.below(90'000))});

    RouterConfig cfg;
    cfg.policy = o.policy;
    cfg.asr_aware = true;
    Router router(cfg);
    double t = cpu_ns();
    router.set_gateways(std::move(deck.gateways), std::move(deck.groups));
    std::printf("deck     %zu prefixes over %zu gateways loaded in %.2f s\n", o.prefixes,
                o.gateways, (cpu_ns() - t) / 1e9);

    // Some load, so the load-ratio and line checks see non-zero counters.
    const Nanos now = 3'600s;
    for (GatewayId g : router.gateways())
        for (std::uint32_t k = 0; k < g % 5; ++k) router.call_started(g, now - 10s);

    RouteBuffer buf;
    RouteRequest rq;
    rq.customer_per_minute = 200'000;
    for (const std::string& n : numbers) {  // warm-up: buffer capacity, caches
        rq.number = n;
        router.route(rq, rates, now, buf);
    }
    std::uint64_t candidates = 0;
    const std::uint64_t allocs_before = bench::allocations();
    t = cpu_ns();
    for (std::size_t i = 0; i < o.routes; ++i) {
        rq.number = numbers[i % numbers.size()];
        router.route(rq, rates, now, buf);
        candidates += buf.candidates.size();
    }
    const double ns = (cpu_ns() - t) / static_cast<double>(o.routes);
    const std::uint64_t allocs = bench::allocations() - allocs_before;
    std::printf("route    policy %s: %.1f ns/route  %.3f allocs/route  %.2f candidates/route\n",
                std::string(to_string(o.policy)).c_str(), ns,
                static_cast<double>(allocs) / static_cast<double>(o.routes),
                static_cast<double>(candidates) / static_cast<double>(o.routes));
    return allocs == 0 ? 0 : 1;
}

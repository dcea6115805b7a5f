// Fuzz target: route::domain::parse_dns_answer (RFC 1035 §4.1 with §4.1.4 compression,
// SRV, NAPTR, CNAME, SOA) and, with the same bytes, the domain cache's answer handling
// with fuzzed time (DESIGN.md §9: state machines also fuzz time).
// Invariants: a fault's offset lies inside the input; parsed names are bounded; the negative
// TTL never exceeds the SOA's TTL; the cache never hands out a target it does not hold,
// its deadlines never go backwards past `now`, and it always settles.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "fuzz_support.hpp"
#include "route/domain/cache.hpp"
#include "route/domain/dns_message.hpp"

namespace {

using namespace route::domain;

class FuzzRandom final : public sip::Random {
  public:
    explicit FuzzRandom(std::uint64_t s) : s_(s) {}
    std::uint64_t next_u64() override {
        s_ += 0x9E3779B97F4A7C15ull;
        std::uint64_t z = s_;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        return z ^ (z >> 31);
    }

  private:
    std::uint64_t s_;
};

bool name_ok(const std::string& n) {
    return n.size() <= 255 * 4;
}  // \DDD escapes

void check_answer(const DnsAnswer& a) {
    FUZZ_CHECK(name_ok(a.qname));
    for (const auto& r : a.addresses)
        FUZZ_CHECK(name_ok(r.name));
    for (const auto& r : a.cnames)
        FUZZ_CHECK(name_ok(r.name) && name_ok(r.target));
    for (const auto& r : a.srv)
        FUZZ_CHECK(name_ok(r.name) && name_ok(r.target));
    for (const auto& r : a.naptr) {
        FUZZ_CHECK(name_ok(r.replacement));
        FUZZ_CHECK(r.flags.size() < 256 && r.services.size() < 256 && r.regexp.size() < 256);
    }
    for (const auto* v : {&a.addresses})
        FUZZ_CHECK(v->size() <= 512);
    if (auto n = negative_ttl(a)) FUZZ_CHECK(*n <= a.soa->ttl && *n <= a.soa->minimum);
    for (const auto& r : a.addresses)
        FUZZ_CHECK(r.ttl < 0x80000000u);
    const ChainEnd c = chain_end(a, a.qname);
    FUZZ_CHECK(name_ok(c.name));
}

// Every query of a resolution is answered with the input (its id patched to the query's),
// time advancing by amounts taken from the input.
void drive_cache(std::span<const std::uint8_t> in, const DnsAnswer& a) {
    FuzzRandom rng(in.size());
    CacheConfig cfg;
    cfg.ttl_min = std::chrono::seconds(1);
    cfg.stale_grace = std::chrono::seconds(5);
    cfg.max_inflight_queries = 4;
    DomainCache cache(cfg, rng);
    Instant now = sip::instant_ms(1000);
    const std::string name = a.qname.empty() ? "carrier.test" : a.qname;
    EntrySpec spec{name, {}, {}, {}};
    if (in.size() > 3) {
        if (in[3] & 1) spec.port = 5060;
        if (in[3] & 2) spec.transport = static_cast<sip::Transport>(in[3] >> 2 & 1);
    }
    if (!cache.add(spec, now)) return;
    std::size_t step = 0;
    for (int round = 0; round < 16; ++round) {
        int guard = 0;
        while (auto act = cache.poll()) {
            FUZZ_CHECK(++guard < 10000);
            if (auto* q = std::get_if<SendQuery>(&*act)) {
                const std::uint8_t k = in.empty() ? 0 : in[step++ % in.size()];
                if (k % 7 == 0) {
                    cache.on_failure(q->id, static_cast<QueryFailure>(k % 4), now);
                } else {
                    cache.on_answer(q->id, in, now);
                }
            }
        }
        Lookup l = cache.lookup(name, now, 1);
        if (l.resolution) {
            TargetCursor c = l.cursor();
            int n = 0;
            while (auto t = cache.next_target(c, now)) {
                FUZZ_CHECK(++n <= static_cast<int>(l.resolution->targets.size()));
                if (n == 1) cache.report_failure(*t, now);
            }
        }
        auto st = cache.status(name, now);
        FUZZ_CHECK(st.has_value());
        (void)format_status(*st, now);
        auto d = cache.next_deadline();
        if (!d) break;
        const std::uint8_t k = in.empty() ? 0 : in[step++ % in.size()];
        now = std::max(now, *d) + std::chrono::milliseconds(k * 37);
        cache.handle_timeouts(now);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[size ? size : 1]);
    if (size) std::memcpy(copy.get(), data, size);
    const std::span<const std::uint8_t> in(copy.get(), size);

    auto a = parse_dns_answer(in);
    if (!a) {
        FUZZ_CHECK(a.error().code != sip::Errc::ok);
        FUZZ_CHECK(a.error().offset <= size || a.error().code == sip::Errc::too_large);
    } else {
        check_answer(*a);
        DnsLimits small;
        small.max_records = 2;
        small.max_pointer_jumps = 1;
        auto b = parse_dns_answer(in, small);  // stricter limits: never crash, subset
        if (b) FUZZ_CHECK(b->addresses.size() <= a->addresses.size());
    }
    if (size <= 4096) drive_cache(in, a ? *a : DnsAnswer{});
    return 0;
}

// Drives sip::StreamGuard with connections opened and closed from a few sources, limits and
// time all taken from the fuzzer's bytes (DESIGN.md §9: a state machine's target fuzzes time
// too), against a model of what is open. Checks after every step:
// - the guard's count for every source is the model's;
// - a source is never admitted past its limit, nor anyone past max_connections (an eviction
//   first closes one of the victim's, which held at least two and is not the newcomer);
// - a refusal at the cap happens only at the cap;
// - reports are single, non-empty lines.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "sip/stream_guard.hpp"

namespace {

using sip::StreamGuard;
using Verdict = sip::StreamGuard::Verdict;

std::string source(unsigned i) {
    return "192.0.2." + std::to_string(i % 12);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Reader in{data, size};
    sip::StreamGuardConfig cfg;
    cfg.max_connections = 1 + in.byte() % 40;
    cfg.max_per_source = in.byte() % 10;  // 0: no limit
    cfg.new_per_second = in.byte() % 10;
    cfg.quiet = std::chrono::milliseconds(1 + in.byte() * 50);
    cfg.report_every = std::chrono::milliseconds(1 + in.byte() * 200);
    const std::uint8_t overrides = in.byte() % 3;
    for (std::uint8_t i = 0; i < overrides; ++i)
        cfg.overrides.push_back({source(i), in.byte() % 20u, in.byte() % 20u});
    auto limit_of = [&](const std::string& s) {
        for (const auto& o : cfg.overrides)
            if (o.source == s) return o.max_connections;
        return cfg.max_per_source;
    };
    StreamGuard g(cfg);
    std::map<std::string, std::uint32_t> open;  // the model: admitted, not yet closed
    std::size_t total = 0;
    std::int64_t now_ms = 0;

    while (!in.done()) {
        const std::uint8_t op = in.byte();
        now_ms += op & 0x80 ? in.byte() * 10 : 0;  // time only moves forward
        const sip::Instant now = sip::instant_ms(now_ms);
        const std::string src = source(in.byte());
        switch (op % 6) {
            case 0:
            case 1: {  // a connection from src
                const std::size_t outbound = in.byte() % 3;
                const std::size_t all = total + outbound;
                StreamGuard::Decision d = g.admit(src, now, all);
                const std::uint32_t lim = limit_of(src);
                if (d.verdict == Verdict::accept || d.verdict == Verdict::evict) {
                    FUZZ_CHECK(lim == 0 || open[src] < lim);
                    if (d.verdict == Verdict::evict) {
                        FUZZ_CHECK(all >= cfg.max_connections);
                        FUZZ_CHECK(d.victim != src);
                        FUZZ_CHECK(open[d.victim] >= 2);
                        --open[d.victim];
                        --total;
                        g.closed(d.victim);
                    } else {
                        FUZZ_CHECK(all < cfg.max_connections);
                    }
                    ++open[src];
                    ++total;
                } else if (d.verdict == Verdict::full) {
                    FUZZ_CHECK(all >= cfg.max_connections);
                } else if (d.verdict == Verdict::per_source) {
                    FUZZ_CHECK(lim > 0 && open[src] >= lim);
                }
                break;
            }
            case 2:  // one of src's connections ends (or a stray close)
                if (open[src] > 0) {
                    --open[src];
                    --total;
                }
                g.closed(src);
                break;
            case 3:
                if (auto v = g.victim_for_outbound(now)) {
                    FUZZ_CHECK(open[*v] >= 2);
                    --open[*v];
                    --total;
                    g.closed(*v);
                }
                break;
            case 4:
                g.deadline_closed(src, now);
                break;
            case 5:
                g.sweep(now);
                break;
        }
        while (auto line = g.poll_report(now)) {
            FUZZ_CHECK(!line->empty());
            FUZZ_CHECK(line->find('\n') == std::string::npos);
        }
        for (const auto& [s, n] : open)
            FUZZ_CHECK(g.open_from(s) == n);
    }
    return 0;
}

// Fuzz target: sw::trace (on-demand traces, VOS3000's debug trace) with fuzzed time. The
// input is messages separated by NUL octets; each message's first octet picks its direction,
// transport, the clock step and what the switch's lookup answers. Checks: summarize()'s
// views lie inside the message; a trace never holds more messages, bytes or Call-IDs than
// its bounds, all traces together never more than max_total_bytes; any_active() matches the
// traces' states; a finished trace never grows; pcap() is a well-formed file (every record's
// lengths agree, IP total length and UDP length match) that ends exactly at its last record.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "sw/trace.hpp"

using namespace sw::trace;
using namespace std::chrono_literals;

namespace {

std::uint32_t le32(const std::string& b, std::size_t at) {
    return static_cast<std::uint8_t>(b[at]) | (static_cast<std::uint8_t>(b[at + 1]) << 8) |
           (static_cast<std::uint8_t>(b[at + 2]) << 16) |
           (static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[at + 3])) << 24);
}
std::uint32_t be16(const std::string& b, std::size_t at) {
    return (static_cast<std::uint8_t>(b[at]) << 8) | static_cast<std::uint8_t>(b[at + 1]);
}

void check_pcap(const Trace& t) {
    const std::string f = pcap(t.messages);
    FUZZ_CHECK(f.size() >= 24);
    FUZZ_CHECK(le32(f, 0) == 0xa1b2c3d4u && le32(f, 20) == 101);
    std::size_t at = 24;
    while (at < f.size()) {
        FUZZ_CHECK(at + 16 <= f.size());
        const std::size_t len = le32(f, at + 8);
        FUZZ_CHECK(le32(f, at + 12) == len);
        FUZZ_CHECK(at + 16 + len <= f.size());
        const std::size_t ip = at + 16;
        const bool v6 = (static_cast<std::uint8_t>(f[ip]) >> 4) == 6;
        const std::size_t l4 = ip + (v6 ? 40 : 20);
        FUZZ_CHECK(len >= (v6 ? 40u : 20u) + 8);
        if (v6)
            FUZZ_CHECK(be16(f, ip + 4) + 40 == len);
        else
            FUZZ_CHECK(be16(f, ip + 2) == len);
        const std::uint8_t proto = static_cast<std::uint8_t>(f[ip + (v6 ? 6 : 9)]);
        FUZZ_CHECK(proto == 17 || proto == 6);
        if (proto == 17) FUZZ_CHECK(be16(f, l4 + 4) == len - (l4 - ip));
        at += 16 + len;
    }
    FUZZ_CHECK(at == f.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    TracesConfig cfg{.max_traces = 3, .max_call_ids = 4, .max_messages = 20, .max_bytes = 4096,
                     .max_duration = 60s, .max_total_bytes = 6000};
    Traces tr(cfg);
    sip::Instant now{};
    tr.start({.filter = {.callee = "1"}, .limits = {.max_messages = 8, .max_bytes = 2000, .duration = 30s}}, now);
    tr.start({.filter = {.caller = "2", .gateway = "gw"}, .limits = {.max_messages = 20, .max_bytes = 4096,
                                                                      .duration = 20s}},
             now);
    tr.start({.filter = {.gateway = "acme"}, .limits = {.max_messages = 20, .max_bytes = 4096, .duration = 60s}},
             now);
    std::size_t pos = 0;
    std::string other;  // the "other leg" the lookup names: the previous message's Call-ID
    while (pos < in.size()) {
        std::size_t end = in.find('\0', pos);
        if (end == std::string_view::npos) end = in.size();
        std::string_view msg = in.substr(pos, end - pos);
        pos = end + 1;
        if (msg.empty()) continue;
        const std::uint8_t sel = static_cast<std::uint8_t>(msg[0]);
        msg.remove_prefix(1);
        const Summary s = summarize(msg);
        FUZZ_CHECK(fuzz::inside(s.first_line, msg) && fuzz::inside(s.call_id, msg) &&
                   fuzz::inside(s.from_user, msg) && fuzz::inside(s.to_user, msg));
        now += std::chrono::milliseconds((sel >> 4) * 700);
        std::vector<std::size_t> before;
        std::vector<bool> finished;
        for (const auto& t : tr.list()) {
            before.push_back(t->messages.size());
            finished.push_back(t->state == State::finished);
        }
        const Lookup lookup = [&](std::string_view) -> std::optional<CallFacts> {
            if (sel & 4) return std::nullopt;
            return CallFacts{(sel & 8) ? "acme" : "x", (sel & 2) ? "gw" : "", other};
        };
        const bool v6 = sel & 1;
        tr.observe({(sel & 2) ? Direction::out : Direction::in, (sel & 8) ? sip::Transport::Tcp : sip::Transport::Udp,
                    v6 ? "2001:db8::1" : "192.0.2.1", 5060, v6 ? "2001:db8::2" : (sel & 4 ? "name" : "192.0.2.2"),
                    5062, 1'700'000'000'000'000 + static_cast<std::int64_t>(pos), msg},
                   now, lookup);
        other = std::string(s.call_id);
        std::size_t total = 0, active = 0;
        for (std::size_t i = 0; i < tr.list().size(); ++i) {
            const Trace& t = *tr.list()[i];
            FUZZ_CHECK(t.messages.size() <= t.limits.max_messages);
            FUZZ_CHECK(t.bytes <= t.limits.max_bytes);
            FUZZ_CHECK(t.call_ids.size() <= cfg.max_call_ids + 1);  // a call and its other leg
            if (finished[i]) FUZZ_CHECK(t.messages.size() == before[i] && t.state == State::finished);
            std::size_t b = 0;
            for (const Message& m : t.messages) b += m.bytes.size();
            FUZZ_CHECK(b == t.bytes);
            total += t.bytes;
            active += t.state == State::active;
        }
        FUZZ_CHECK(total <= cfg.max_total_bytes);
        FUZZ_CHECK(tr.any_active() == (active != 0));
    }
    for (const auto& t : tr.list()) check_pcap(*t);
    return 0;
}

// On-demand traces (issue 11 item 5, VOS3000's debug trace): matching by call, bounds,
// expiry on fake time, and the pcap file byte by byte.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sw/trace.hpp"

using namespace sw::trace;
using namespace std::chrono_literals;

namespace {

std::string invite(std::string_view call_id, std::string_view caller, std::string_view callee,
                   bool to_tag = false) {
    return "INVITE sip:" + std::string(callee) + "@198.51.100.1 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-1\r\n"
           "From: \"A\" <sip:" + std::string(caller) + "@192.0.2.7>;tag=a\r\n"
           "To: <sip:" + std::string(callee) + "@198.51.100.1>" + (to_tag ? ";tag=b" : "") + "\r\n"
           "Call-ID: " + std::string(call_id) + "\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
}

std::string response(std::string_view call_id, int code) {
    return "SIP/2.0 " + std::to_string(code) + " OK\r\nVia: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-1\r\n"
           "From: <sip:1001@192.0.2.7>;tag=a\r\nTo: <sip:4930@198.51.100.1>;tag=b\r\n"
           "Call-ID: " + std::string(call_id) + "\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
}

Packet in(const std::string& bytes, std::int64_t us = 1'733'400'000'000'000) {
    return Packet{Direction::in, sip::Transport::Udp, "192.0.2.7", 5060, "198.51.100.9", 5060, us, bytes};
}

Packet out(const std::string& bytes, std::int64_t us = 1'733'400'000'100'000) {
    return Packet{Direction::out, sip::Transport::Udp, "198.51.100.9", 5060, "203.0.113.5", 5060, us, bytes};
}

const sip::Instant t0{};
const Lookup kNone = [](std::string_view) { return std::optional<CallFacts>{}; };

std::uint32_t le32(const std::string& b, std::size_t at) {
    return static_cast<std::uint8_t>(b[at]) | (static_cast<std::uint8_t>(b[at + 1]) << 8) |
           (static_cast<std::uint8_t>(b[at + 2]) << 16) | (static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[at + 3])) << 24);
}
std::uint32_t be16(const std::string& b, std::size_t at) {
    return (static_cast<std::uint8_t>(b[at]) << 8) | static_cast<std::uint8_t>(b[at + 1]);
}
std::uint32_t be32(const std::string& b, std::size_t at) {
    return (be16(b, at) << 16) | be16(b, at + 2);
}
// The one's-complement sum over a span: 0xffff when its checksum field is right.
std::uint32_t fold(std::uint32_t acc) {
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return acc;
}
std::uint32_t sum(const std::string& b, std::size_t at, std::size_t n, std::uint32_t acc = 0) {
    for (std::size_t i = 0; i + 1 < n; i += 2) acc += be16(b, at + i);
    if (n % 2) acc += static_cast<std::uint8_t>(b[at + n - 1]) << 8;
    return acc;
}

// The pcap's records: offset of each packet and its length.
std::vector<std::pair<std::size_t, std::size_t>> records(const std::string& f) {
    std::vector<std::pair<std::size_t, std::size_t>> r;
    std::size_t at = 24;
    while (at + 16 <= f.size()) {
        const std::size_t len = le32(f, at + 8);
        REQUIRE(le32(f, at + 12) == len);
        r.emplace_back(at + 16, len);
        at += 16 + len;
    }
    REQUIRE(at == f.size());
    return r;
}

}  // namespace

TEST_CASE("trace: summarize reads the first line, Call-ID, users and the To tag", "[server][trace]") {
    const std::string inv = invite("c1@x", "1001", "4930555");
    const Summary s = summarize(inv);
    CHECK(s.first_line == "INVITE sip:4930555@198.51.100.1 SIP/2.0");
    CHECK(s.call_id == "c1@x");
    CHECK(s.from_user == "1001");
    CHECK(s.to_user == "4930555");
    CHECK(s.initial_invite);
    const std::string reinvite = invite("c1@x", "1001", "4930555", true);
    CHECK_FALSE(summarize(reinvite).initial_invite);
    const Summary compact = summarize(
        "INVITE tel:+4930 SIP/2.0\r\nf: <tel:+1001>;tag=x\r\nt: <sips:+4930;npdi@h>\r\ni: cc\r\n\r\nTo: <sip:9@h>");
    CHECK(compact.call_id == "cc");
    CHECK(compact.from_user == "+1001");
    CHECK(compact.to_user == "+4930;npdi");
    CHECK(summarize("INVITE x SIP/2.0\r\nTo: <sip:h.example;transport=tcp>\r\n\r\n").to_user.empty());
    CHECK(compact.initial_invite);
    const std::string ok = response("c1@x", 200);
    CHECK(summarize(ok).first_line == "SIP/2.0 200 OK");
    CHECK_FALSE(summarize(ok).initial_invite);
}

TEST_CASE("trace: start checks the filter and the limits", "[server][trace]") {
    Traces tr;
    CHECK(tr.start({}, t0).error.field == "caller");
    CHECK(tr.start({.filter = {.caller = "10 01"}}, t0).error.field == "caller");
    CHECK(tr.start({.filter = {.callee = "49'"}}, t0).error.field == "callee");
    CHECK(tr.start({.filter = {.callee = "49"}, .limits = {.max_messages = 0}}, t0).error.field == "max_messages");
    CHECK(tr.start({.filter = {.callee = "49"}, .limits = {.max_bytes = 0}}, t0).error.field == "max_bytes");
    CHECK(tr.start({.filter = {.callee = "49"}, .limits = {.duration = 25h}}, t0).error.field == "duration_s");
    CHECK_FALSE(tr.any_active());
    const Started s = tr.start({.filter = {.callee = "+49"}}, t0);
    REQUIRE(s);
    CHECK(s.id == 1);
    CHECK(tr.any_active());
    const Trace* t = tr.find(1);
    REQUIRE(t);
    CHECK(t->limits.max_messages == 10'000);
    CHECK(t->ends == t0 + 10min);
}

TEST_CASE("trace: a matching call is captured whole, another call not at all", "[server][trace]") {
    Traces tr;
    REQUIRE(tr.start({.filter = {.callee = "4930"}}, t0));
    const std::string a = invite("A1", "1001", "4930555"), other = invite("X1", "1001", "4420");
    // the B leg: the vendor's rewrite made the callee 004930555; linked through the lookup
    const std::string b = invite("B1", "1001", "004930555");
    const Lookup lookup = [](std::string_view cid) -> std::optional<CallFacts> {
        if (cid == "A1") return CallFacts{"acme", "carrierA", "B1"};
        if (cid == "B1") return CallFacts{"acme", "carrierA", "A1"};
        return std::nullopt;
    };
    tr.observe(in(a), t0, lookup);
    tr.observe(in(other), t0, lookup);
    tr.observe(out(b), t0, lookup);
    tr.observe(out(response("A1", 100)), t0, lookup);
    tr.observe(in(response("B1", 200)), t0, lookup);
    tr.observe(out(response("X1", 200)), t0, lookup);
    tr.observe(in(std::string("\r\n\r\n")), t0, lookup);  // a keep-alive is no message
    const Trace& t = *tr.find(1);
    REQUIRE(t.messages.size() == 4);
    CHECK(t.messages[0].bytes == a);
    CHECK(t.messages[0].dir == Direction::in);
    CHECK(t.messages[0].src.ip == "192.0.2.7");
    CHECK(t.messages[1].bytes == b);
    CHECK(t.messages[1].dir == Direction::out);
    CHECK(t.messages[1].dst.ip == "203.0.113.5");
    CHECK(summarize(t.messages[3].bytes).call_id == "B1");
    CHECK(t.call_ids == std::set<std::string, std::less<>>{"A1", "B1"});
    CHECK(t.bytes == a.size() + b.size() + response("A1", 100).size() + response("B1", 200).size());
}

TEST_CASE("trace: caller and gateway filters all have to hold", "[server][trace]") {
    Traces tr;
    REQUIRE(tr.start({.filter = {.caller = "10", .gateway = "acme"}}, t0));
    REQUIRE(tr.start({.filter = {.gateway = "carrierB"}}, t0));
    const Lookup lookup = [](std::string_view cid) -> std::optional<CallFacts> {
        if (cid == "A1") return CallFacts{"acme", "carrierA", ""};
        if (cid == "A2") return CallFacts{"other", "carrierB", ""};
        return std::nullopt;
    };
    tr.observe(in(invite("A1", "1001", "4930")), t0, lookup);  // caller 10.., customer acme
    tr.observe(in(invite("A2", "1001", "4930")), t0, lookup);  // customer other, vendor carrierB
    tr.observe(in(invite("A3", "1001", "4930")), t0, lookup);  // unknown to the switch
    tr.observe(in(invite("A4", "2001", "4930")), t0, [](std::string_view) {
        return std::optional<CallFacts>(CallFacts{"acme", "", ""});
    });  // caller does not match
    CHECK(tr.find(1)->call_ids == std::set<std::string, std::less<>>{"A1"});
    CHECK(tr.find(2)->call_ids == std::set<std::string, std::less<>>{"A2"});
    // a mid-dialog request of an unknown call never starts following it
    tr.observe(in(invite("A5", "1001", "4930", true)), t0, [](std::string_view) {
        return std::optional<CallFacts>(CallFacts{"acme", "carrierB", ""});
    });
    CHECK(tr.find(1)->messages.size() == 1);
    CHECK(tr.find(2)->messages.size() == 1);
}

TEST_CASE("trace: bounds end a trace; its messages stay", "[server][trace]") {
    Traces tr({.max_traces = 2, .max_call_ids = 2});
    const std::size_t one = invite("C0", "1", "49").size();
    REQUIRE(tr.start({.filter = {.callee = "49"}, .limits = {.max_messages = 2}}, t0));
    REQUIRE(tr.start({.filter = {.callee = "49"}, .limits = {.max_bytes = one + 10}}, t0));
    CHECK(tr.start({.filter = {.callee = "1"}}, t0).error.message.starts_with("too many active traces"));
    for (int i = 0; i < 4; ++i) tr.observe(in(invite("C" + std::to_string(i), "1", "49")), t0, kNone);
    const Trace& by_count = *tr.find(1);
    CHECK(by_count.state == State::finished);
    CHECK(by_count.end_reason == "max_messages");
    CHECK(by_count.messages.size() == 2);
    const Trace& by_bytes = *tr.find(2);
    CHECK(by_bytes.state == State::finished);
    CHECK(by_bytes.end_reason == "max_bytes");
    CHECK(by_bytes.messages.size() == 1);
    CHECK(by_bytes.bytes == one);
    CHECK_FALSE(tr.any_active());
    // a new trace takes the oldest finished one's place
    const Started s = tr.start({.filter = {.callee = "49"}}, t0);
    REQUIRE(s);
    CHECK(s.id == 3);
    CHECK(tr.find(1) == nullptr);
    CHECK(tr.list().size() == 2);
    // at most max_call_ids calls are followed; the others are counted
    for (int i = 0; i < 3; ++i) tr.observe(in(invite("D" + std::to_string(i), "1", "49")), t0, kNone);
    tr.observe(in(response("D0", 200)), t0, kNone);
    tr.observe(in(response("D2", 200)), t0, kNone);
    CHECK(tr.find(3)->call_ids.size() == 2);
    CHECK(tr.find(3)->calls_not_followed == 1);
    CHECK(tr.find(3)->messages.size() == 3);
    CHECK(tr.remove(3));
    CHECK_FALSE(tr.remove(3));
    CHECK_FALSE(tr.any_active());
}

TEST_CASE("trace: all traces together hold at most max_total_bytes", "[server][trace]") {
    const std::string a = invite("A1", "1", "49");
    Traces tr({.max_total_bytes = 2 * a.size() + 1});
    REQUIRE(tr.start({.filter = {.callee = "49"}}, t0));
    REQUIRE(tr.start({.filter = {.caller = "1"}}, t0));
    tr.observe(in(a), t0, kNone);                       // both take it: 2 copies
    tr.observe(in(response("A1", 200)), t0, kNone);      // no room for a third message
    CHECK(tr.find(1)->end_reason == "max_total_bytes");
    CHECK(tr.find(2)->end_reason == "max_total_bytes");
    CHECK(tr.find(1)->messages.size() == 1);
    CHECK(tr.remove(1));  // frees its bytes
    REQUIRE(tr.start({.filter = {.callee = "49"}}, t0));
    tr.observe(in(invite("A2", "1", "49")), t0, kNone);
    CHECK(tr.find(3)->messages.size() == 1);
}

TEST_CASE("trace: the switch is asked about a call only when that can decide", "[server][trace]") {
    Traces tr;
    REQUIRE(tr.start({.filter = {.callee = "49"}}, t0));
    int asked = 0;
    const Lookup counting = [&](std::string_view) {
        ++asked;
        return std::optional<CallFacts>{};
    };
    tr.observe(in(invite("A1", "1", "49")), t0, counting);   // numbers decide
    tr.observe(in(invite("A2", "1", "44")), t0, counting);   // numbers decide: no
    tr.observe(in(response("A1", 200)), t0, counting);       // a known Call-ID
    CHECK(asked == 0);
    tr.observe(out(invite("B2", "1", "0044")), t0, counting);  // an INVITE out: a B leg?
    CHECK(asked == 1);
    REQUIRE(tr.start({.filter = {.callee = "49", .gateway = "gw"}}, t0));
    tr.observe(in(invite("A3", "1", "44")), t0, counting);   // numbers fail both traces
    CHECK(asked == 1);
    tr.observe(in(invite("A4", "1", "49")), t0, counting);   // trace 2 needs the gateway
    CHECK(asked == 2);
    CHECK(tr.find(1)->call_ids.size() == 2);
    CHECK(tr.find(2)->call_ids.empty());
}

TEST_CASE("trace: a trace ends at its end time (fake time)", "[server][trace]") {
    Traces tr;
    REQUIRE(tr.start({.filter = {.callee = "49"}, .limits = {.duration = 30s}}, t0));
    tr.observe(in(invite("A1", "1", "49")), t0 + 29s, kNone);
    CHECK(tr.any_active());
    tr.observe(in(response("A1", 180)), t0 + 30s, kNone);
    CHECK_FALSE(tr.any_active());
    const Trace& t = *tr.find(1);
    CHECK(t.state == State::finished);
    CHECK(t.end_reason == "expired");
    CHECK(t.messages.size() == 1);
    REQUIRE(tr.start({.filter = {.callee = "49"}, .limits = {.duration = 1s}}, t0 + 40s));
    tr.expire(t0 + 41s);
    CHECK(tr.find(2)->end_reason == "expired");
}

TEST_CASE("trace: pcap is a classic libpcap file of raw IPv4 UDP packets", "[server][trace]") {
    const std::string sip = invite("A1", "1001", "4930");
    std::vector<Message> m{{Direction::in, sip::Transport::Udp, {"192.0.2.7", 5062}, {"198.51.100.9", 5060},
                            1'733'400'000'250'000, sip}};
    const std::string f = pcap(m);
    REQUIRE(f.size() == 24 + 16 + 20 + 8 + sip.size());
    CHECK(le32(f, 0) == 0xa1b2c3d4u);
    CHECK(le32(f, 4) == 0x00040002u);  // version 2.4
    CHECK(le32(f, 16) == 262144);
    CHECK(le32(f, 20) == 101);  // LINKTYPE_RAW
    CHECK(le32(f, 24) == 1'733'400'000u);
    CHECK(le32(f, 28) == 250'000u);
    const std::size_t ip = 40;
    CHECK(static_cast<std::uint8_t>(f[ip]) == 0x45);
    CHECK(be16(f, ip + 2) == 20 + 8 + sip.size());
    CHECK(static_cast<std::uint8_t>(f[ip + 9]) == 17);
    CHECK(fold(sum(f, ip, 20)) == 0xffff);  // header checksum
    CHECK(be32(f, ip + 12) == 0xc0000207u);
    CHECK(be32(f, ip + 16) == 0xc6336409u);
    const std::size_t udp = ip + 20;
    CHECK(be16(f, udp) == 5062);
    CHECK(be16(f, udp + 2) == 5060);
    CHECK(be16(f, udp + 4) == 8 + sip.size());
    // pseudo-header + UDP header + payload sums to 0xffff
    std::uint32_t acc = sum(f, ip + 12, 8) + 17 + static_cast<std::uint32_t>(8 + sip.size());
    CHECK(fold(sum(f, udp, 8 + sip.size(), acc)) == 0xffff);
    CHECK(f.substr(udp + 8) == sip);
}

TEST_CASE("trace: pcap writes TCP segments with running sequence numbers, and IPv6", "[server][trace]") {
    const std::string a = invite("A1", "1001", "4930"), b = response("A1", 200);
    std::vector<Message> m{
        {Direction::in, sip::Transport::Tcp, {"192.0.2.7", 40000}, {"198.51.100.9", 5060}, 1, a},
        {Direction::out, sip::Transport::Tcp, {"198.51.100.9", 5060}, {"192.0.2.7", 40000}, 2, b},
        {Direction::in, sip::Transport::Tcp, {"192.0.2.7", 40000}, {"198.51.100.9", 5060}, 3, a},
        {Direction::out, sip::Transport::Udp, {"2001:db8::1", 5060}, {"2001:db8::2", 5070}, 4, b},
    };
    const std::string f = pcap(m);
    const auto r = records(f);
    REQUIRE(r.size() == 4);
    auto tcp = [&](std::size_t i) { return r[i].first + 20; };
    CHECK(static_cast<std::uint8_t>(f[r[0].first + 9]) == 6);
    CHECK(be32(f, tcp(0) + 4) == 1);                 // seq
    CHECK(be32(f, tcp(0) + 8) == 1);                 // ack
    CHECK(be32(f, tcp(1) + 4) == 1);
    CHECK(be32(f, tcp(1) + 8) == 1 + a.size());      // acknowledges the INVITE
    CHECK(be32(f, tcp(2) + 4) == 1 + a.size());      // the next segment of that direction
    CHECK(be32(f, tcp(2) + 8) == 1 + b.size());
    CHECK(static_cast<std::uint8_t>(f[tcp(0) + 12]) == 0x50);
    CHECK(static_cast<std::uint8_t>(f[tcp(0) + 13]) == 0x18);
    for (std::size_t i = 0; i < 3; ++i) {
        const std::size_t len = r[i].second - 20;
        std::uint32_t acc = sum(f, r[i].first + 12, 8) + 6 + static_cast<std::uint32_t>(len);
        CHECK(fold(sum(f, tcp(i), len, acc)) == 0xffff);
    }
    // IPv6 + UDP, with the mandatory checksum
    const std::size_t ip6 = r[3].first;
    CHECK((static_cast<std::uint8_t>(f[ip6]) >> 4) == 6);
    CHECK(be16(f, ip6 + 4) == 8 + b.size());
    CHECK(static_cast<std::uint8_t>(f[ip6 + 6]) == 17);
    std::uint32_t acc = sum(f, ip6 + 8, 32) + 17 + static_cast<std::uint32_t>(8 + b.size());
    CHECK(fold(sum(f, ip6 + 40, 8 + b.size(), acc)) == 0xffff);
    CHECK(be16(f, ip6 + 40 + 2) == 5070);
}

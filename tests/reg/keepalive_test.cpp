// route::reg::Keepalive with fake time and seeded randomness: which bindings are probed
// (nat_only), the exact schedule, the OPTIONS bytes (parsed, and accepted by the transaction
// layer), Down/Up with Location::set_down, re-REGISTER, untrack, bindings that vanish, the
// spread of 10,000 bindings and the per-tick cap.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "route/reg/keepalive.hpp"
#include "route/reg/registrar.hpp"
#include "sip/message.hpp"
#include "sip/txn/layer.hpp"

using namespace route::reg;
using namespace std::chrono_literals;
using Kind = KeepaliveEvent::Kind;

namespace {

const sip::Instant t0 = sip::Instant{} + 10'000s;
const std::string aor = "sip:alice@example.com";

sip::Target udp(std::string host, std::uint16_t port) {
    sip::Target t;
    t.transport = sip::Transport::Udp;
    t.host = std::move(host);
    t.port = port;
    return t;
}

// A binding registered from `source` (the NAT's public side by default).
Binding natted(std::string contact, sip::Target source = udp("203.0.113.5", 40000),
               sip::Instant expires = t0 + 3600s) {
    Binding b;
    b.contact = std::move(contact);
    b.expires_at = expires;
    b.call_id = "c1";
    b.cseq = 1;
    b.source = std::move(source);
    return b;
}

KeepaliveConfig options_config() {
    KeepaliveConfig c;
    c.payload = KeepalivePayload::options;
    c.local_host = "198.51.100.7";
    c.local_port = 5060;
    return c;
}

std::vector<KeepaliveAction> drain(Keepalive& ka) {
    std::vector<KeepaliveAction> out;
    while (auto a = ka.poll())
        out.push_back(std::move(*a));
    return out;
}

template <class T>
std::vector<T> only(const std::vector<KeepaliveAction>& v) {
    std::vector<T> out;
    for (const auto& a : v)
        if (auto* x = std::get_if<T>(&a)) out.push_back(*x);
    return out;
}

// Runs the machine deadline by deadline up to `until`, recording when each probe left.
std::vector<sip::Instant> probe_times(Keepalive& ka, sip::Instant until) {
    std::vector<sip::Instant> out;
    while (auto d = ka.next_deadline()) {
        if (*d > until) break;
        ka.handle_timeouts(*d);
        for (const auto& a : drain(ka)) {
            if (std::holds_alternative<SendCrlf>(a) || std::holds_alternative<SendOptions>(a))
                out.push_back(*d);
        }
    }
    return out;
}

sip::Message parse(const std::string& bytes) {
    auto r = sip::Message::parse(bytes);
    INFO(bytes);
    REQUIRE(r);
    return std::move(*r);
}

std::string header(const sip::Message& m, sip::HeaderId id) {
    const sip::HeaderField* f = m.find(id);
    return f ? std::string(m.value(*f)) : std::string("<absent>");
}

}  // namespace

TEST_CASE("keepalive: nat_only probes only UDP bindings whose contact is not the source",
          "[reg][keepalive]") {
    // behind a NAT: private contact, public source
    CHECK(Keepalive::qualifies(natted("sip:alice@192.168.1.10:5060"), true));
    // same address and port: no NAT in between
    CHECK_FALSE(Keepalive::qualifies(natted("sip:alice@203.0.113.5:40000"), true));
    CHECK(Keepalive::qualifies(natted("sip:alice@203.0.113.5:40000"), false));
    // the host compares case-insensitively, a missing port is 5060 (sips: 5061)
    CHECK_FALSE(Keepalive::qualifies(natted("sip:a@GW.example", udp("gw.example", 5060)), true));
    CHECK(Keepalive::qualifies(natted("sip:a@gw.example", udp("gw.example", 5070)), true));
    CHECK_FALSE(Keepalive::qualifies(natted("sips:a@gw.example", udp("gw.example", 5061)), true));
    // same host, other port: a port-translating NAT (or a symmetric one) is still a NAT
    CHECK(Keepalive::qualifies(natted("sip:a@203.0.113.5:5060"), true));
    // IPv6: the URI brackets, the Target does not
    CHECK_FALSE(
        Keepalive::qualifies(natted("sip:a@[2001:db8::1]:5060", udp("2001:db8::1", 5060)), true));
    // stream bindings never, with or without nat_only
    Binding tcp = natted("sip:alice@192.168.1.10:5060");
    tcp.source.transport = sip::Transport::Tcp;
    CHECK_FALSE(Keepalive::qualifies(tcp, true));
    CHECK_FALSE(Keepalive::qualifies(tcp, false));
    // a contact that is not a SIP URI cannot be probed
    CHECK_FALSE(Keepalive::qualifies(natted("tel:+15551234"), false));

    // track() applies the rule
    Location loc;
    sip::SeededRandom rng(1);
    Keepalive ka({}, loc, rng);
    loc.upsert(aor, natted("sip:alice@192.168.1.10:5060"));
    loc.upsert(aor, natted("sip:alice@203.0.113.5:40000"));
    CHECK(ka.track(aor, "sip:alice@192.168.1.10:5060", t0));
    CHECK_FALSE(ka.track(aor, "sip:alice@203.0.113.5:40000", t0));
    CHECK_FALSE(ka.track(aor, "sip:alice@10.0.0.1", t0));  // no such binding
    CHECK(ka.tracked() == 1);

    KeepaliveConfig every;
    every.nat_only = false;
    Keepalive all(every, loc, rng);
    CHECK(all.track(aor, "sip:alice@192.168.1.10:5060", t0));
    CHECK(all.track(aor, "sip:alice@203.0.113.5:40000", t0));
    CHECK(all.tracked() == 2);
}

TEST_CASE("keepalive: first probe within one interval, then exactly every interval",
          "[reg][keepalive]") {
    Location loc;
    sip::SeededRandom rng(7);
    Keepalive ka({}, loc, rng);  // crlf, 30 s
    loc.upsert(aor, natted("sip:alice@192.168.1.10:5060"));
    loc.upsert(aor, natted("sip:alice@192.168.1.11:5060", udp("203.0.113.5", 40001)));
    REQUIRE(ka.track(aor, "sip:alice@192.168.1.10:5060", t0));
    const auto first = ka.next_probe(aor, "sip:alice@192.168.1.10:5060");
    REQUIRE(first);
    CHECK(*first >= t0);
    CHECK(*first < t0 + 30s);
    REQUIRE(ka.track(aor, "sip:alice@192.168.1.11:5060", t0 + 5s));
    const auto first2 = ka.next_probe(aor, "sip:alice@192.168.1.11:5060");
    REQUIRE(first2);
    CHECK(*first2 >= t0 + 5s);
    CHECK(*first2 < t0 + 35s);
    CHECK(first != first2);  // drawn, not a fixed offset

    // nothing before it is due
    ka.handle_timeouts(std::min(*first, *first2) - 1ms);
    CHECK(drain(ka).empty());

    // per binding: first, first + 30 s, first + 60 s, ...
    std::map<std::string, std::vector<sip::Instant>> sent;
    while (auto d = ka.next_deadline()) {
        if (*d > t0 + 200s) break;
        ka.handle_timeouts(*d);
        for (const auto& a : drain(ka)) {
            const auto* c = std::get_if<SendCrlf>(&a);
            REQUIRE(c);
            CHECK(c->aor == aor);
            sent[c->contact].push_back(*d);
        }
    }
    REQUIRE(sent.size() == 2);
    for (const auto& [contact, times] : sent) {
        const sip::Instant f = contact == "sip:alice@192.168.1.10:5060" ? *first : *first2;
        REQUIRE(times.size() >= 6);
        for (std::size_t i = 0; i < times.size(); ++i)
            CHECK(times[i] == f + static_cast<int>(i) * 30s);
    }

    // a late tick (a stalled loop) sends one probe and stays on the grid, no catch-up burst
    const sip::Instant due = *ka.next_probe(aor, "sip:alice@192.168.1.10:5060");
    const sip::Instant late = due + 95s;  // three more slots passed
    ka.untrack(aor, "sip:alice@192.168.1.11:5060");
    ka.handle_timeouts(late);
    CHECK(only<SendCrlf>(drain(ka)).size() == 1);
    CHECK(ka.next_probe(aor, "sip:alice@192.168.1.10:5060") == due + 120s);
    CHECK(ka.next_deadline() == due + 120s);
}

TEST_CASE("keepalive: crlf goes to the binding's source, never marks it down", "[reg][keepalive]") {
    Location loc;
    sip::SeededRandom rng(3);
    Keepalive ka({}, loc, rng);
    loc.upsert(aor, natted("sip:alice@192.168.1.10:5060"));
    REQUIRE(ka.track(aor, "sip:alice@192.168.1.10:5060", t0));
    ka.handle_timeouts(t0 + 30s);
    auto crlf = only<SendCrlf>(drain(ka));
    REQUIRE(crlf.size() == 1);
    CHECK(crlf[0].target == udp("203.0.113.5", 40000));
    CHECK(crlf[0].contact == "sip:alice@192.168.1.10:5060");
    CHECK(Keepalive::kCrlfPing == "\r\n\r\n");
    // no OPTIONS went out, so there is nothing to report
    CHECK_FALSE(ka.on_options_result(aor, "sip:alice@192.168.1.10:5060", false, t0 + 31s));
    CHECK_FALSE(loc.find(aor, "sip:alice@192.168.1.10:5060", t0 + 31s)->down);
    CHECK(drain(ka).empty());
}

TEST_CASE("keepalive: OPTIONS to the contact, sent to the NAT, accepted by the txn layer",
          "[reg][keepalive]") {
    Location loc;
    sip::SeededRandom rng(11);
    Keepalive ka(options_config(), loc, rng);
    const std::string contact = "sip:alice@192.168.1.10:5062;transport=udp;ob?X-Foo=bar";
    loc.upsert(aor, natted(contact));
    REQUIRE(ka.track(aor, contact, t0));
    ka.handle_timeouts(t0 + 30s);
    auto opts = only<SendOptions>(drain(ka));
    REQUIRE(opts.size() == 1);
    const SendOptions& o = opts[0];
    CHECK(o.aor == aor);
    CHECK(o.contact == contact);
    CHECK(o.target == udp("203.0.113.5", 40000));  // the source, not the contact address
    REQUIRE(o.bytes);
    sip::Message m = parse(*o.bytes);
    CHECK(m.is_request());
    CHECK(m.method() == sip::Method::Options);
    // RFC 3261 §19.1.1: no headers component in a Request-URI
    CHECK(m.request_uri() == "sip:alice@192.168.1.10:5062;transport=udp;ob");
    CHECK(m.to().uri == "sip:alice@192.168.1.10:5062;transport=udp;ob");
    CHECK(m.top_via().transport == "UDP");
    CHECK(m.top_via().host == "198.51.100.7");
    CHECK(m.top_via().port == 5060);
    CHECK(m.top_via().has_rport);
    CHECK(m.top_via().branch.substr(0, 7) == "z9hG4bK");
    CHECK(m.top_via().branch.size() > 7);
    CHECK(m.via_count() == 1);
    CHECK(m.from().uri == "sip:keepalive@198.51.100.7:5060");
    CHECK_FALSE(m.from().tag.empty());
    CHECK(m.to().tag.empty());
    CHECK_FALSE(m.call_id().empty());
    CHECK(m.cseq().number == 1);
    CHECK(m.cseq().method == sip::Method::Options);
    CHECK(m.max_forwards() == 70u);
    CHECK(m.content_length() == 0u);
    CHECK(header(m, sip::HeaderId::Accept) == "application/sdp");
    CHECK(m.body().empty());

    // the wiring hands it to the transaction layer unchanged
    sip::SeededRandom lrng(1);
    sip::txn::Layer layer({}, lrng);
    auto id = layer.send_request(*o.bytes, o.target, t0 + 30s);
    REQUIRE(id);
    bool sent = false;
    while (auto a = layer.poll()) {
        if (auto* s = std::get_if<sip::txn::SendBytes>(&*a)) {
            CHECK(s->to == o.target);
            CHECK(*s->bytes == *o.bytes);
            sent = true;
        }
    }
    CHECK(sent);

    // the next probe is a new transaction: new branch, Call-ID and From tag
    CHECK(ka.on_options_result(aor, contact, true, t0 + 30s + 80ms));
    ka.handle_timeouts(t0 + 60s);
    auto again = only<SendOptions>(drain(ka));
    REQUIRE(again.size() == 1);
    sip::Message m2 = parse(*again[0].bytes);
    CHECK(m2.top_via().branch != m.top_via().branch);
    CHECK(m2.call_id() != m.call_id());
    CHECK(m2.from().tag != m.from().tag);
}

TEST_CASE("keepalive: IPv6 local address is bracketed in Via and From", "[reg][keepalive]") {
    Location loc;
    sip::SeededRandom rng(5);
    KeepaliveConfig c = options_config();
    c.local_host = "2001:db8::7";
    c.local_port = 5080;
    Keepalive ka(c, loc, rng);
    loc.upsert(aor, natted("sip:alice@[fd00::10]", udp("2001:db8::5", 41000)));
    REQUIRE(ka.track(aor, "sip:alice@[fd00::10]", t0));
    ka.handle_timeouts(t0 + 30s);
    auto opts = only<SendOptions>(drain(ka));
    REQUIRE(opts.size() == 1);
    sip::Message m = parse(*opts[0].bytes);
    CHECK(m.request_uri() == "sip:alice@[fd00::10]");
    CHECK(m.top_via().host == "[2001:db8::7]");
    CHECK(m.top_via().port == 5080);
    CHECK(m.from().uri == "sip:keepalive@[2001:db8::7]:5080");
}

TEST_CASE("keepalive: unanswered OPTIONS marks the contact down, any answer brings it up",
          "[reg][keepalive]") {
    Location loc;
    sip::SeededRandom rng(13);
    Keepalive ka(options_config(), loc, rng);
    const std::string c1 = "sip:alice@192.168.1.10:5060";
    const std::string c2 = "sip:alice@192.168.1.11:5060";
    loc.upsert(aor, natted(c1));  // q 1.0: preferred while up
    Binding b2 = natted(c2, udp("203.0.113.5", 40001));
    b2.q = 500;
    loc.upsert(aor, b2);
    REQUIRE(ka.track(aor, c1, t0));
    ka.handle_timeouts(t0 + 30s);
    REQUIRE(only<SendOptions>(drain(ka)).size() == 1);

    // Timer F: no response
    CHECK(ka.on_options_result(aor, c1, false, t0 + 62s));
    auto ev = only<KeepaliveEvent>(drain(ka));
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == Kind::Down);
    CHECK(ev[0].aor == aor);
    CHECK(ev[0].contact == c1);
    CHECK(ev[0].source == udp("203.0.113.5", 40000));
    CHECK(loc.find(aor, c1, t0 + 62s)->down);
    auto order = loc.lookup(aor, t0 + 62s);
    REQUIRE(order.size() == 2);
    CHECK(order[0].contact == c2);  // the down one is tried last despite its q
    CHECK(order[1].contact == c1);
    // a second result for the same probe is ignored
    CHECK_FALSE(ka.on_options_result(aor, c1, true, t0 + 62s));
    CHECK(loc.find(aor, c1, t0 + 62s)->down);

    // still probed while down; another failure is no new event
    ka.handle_timeouts(t0 + 90s);
    REQUIRE(only<SendOptions>(drain(ka)).size() == 1);
    CHECK(ka.on_options_result(aor, c1, false, t0 + 122s));
    CHECK(drain(ka).empty());

    // a 405 / 501 / 404 is an answer: the device is there
    ka.handle_timeouts(t0 + 150s);
    REQUIRE(only<SendOptions>(drain(ka)).size() == 1);
    CHECK(ka.on_options_result(aor, c1, true, t0 + 150s + 40ms));
    ev = only<KeepaliveEvent>(drain(ka));
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == Kind::Up);
    CHECK_FALSE(loc.find(aor, c1, t0 + 151s)->down);
    CHECK(loc.lookup(aor, t0 + 151s)[0].contact == c1);
    CHECK(ka.stats().answered == 1);
    CHECK(ka.stats().unanswered == 2);

    // results for bindings never probed are ignored
    CHECK_FALSE(ka.on_options_result(aor, c2, false, t0 + 151s));
    CHECK_FALSE(loc.find(aor, c2, t0 + 151s)->down);
}

TEST_CASE("keepalive: one OPTIONS in flight per binding; a lost result stops blocking",
          "[reg][keepalive]") {
    Location loc;
    sip::SeededRandom rng(17);
    Keepalive ka(options_config(), loc, rng);  // options_timeout 32 s > interval 30 s
    const std::string c = "sip:alice@192.168.1.10:5060";
    loc.upsert(aor, natted(c));
    REQUIRE(ka.track(aor, c, t0));
    const sip::Instant f = *ka.next_probe(aor, c);
    ka.handle_timeouts(f);
    CHECK(only<SendOptions>(drain(ka)).size() == 1);
    ka.handle_timeouts(f + 30s);  // still outstanding (sent 30 s ago): slot skipped
    CHECK(drain(ka).empty());
    CHECK(ka.stats().skipped == 1);
    ka.handle_timeouts(f + 60s);  // never reported: forgotten after options_timeout
    CHECK(only<SendOptions>(drain(ka)).size() == 1);
    CHECK(ka.stats().options_sent == 2);
}

TEST_CASE("keepalive: a re-REGISTER resets down and voids the probe in flight",
          "[reg][keepalive]") {
    Location loc;
    Registrar reg({}, loc);
    sip::SeededRandom rng(19);
    Keepalive ka(options_config(), loc, rng);
    auto request = [](std::uint32_t cseq) {
        return parse(
            "REGISTER sip:example.com SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKr" +
            std::to_string(cseq) +
            ";rport\r\n"
            "From: <sip:alice@example.com>;tag=f1\r\nTo: <sip:alice@example.com>\r\n"
            "Call-ID: reg-1\r\nCSeq: " +
            std::to_string(cseq) +
            " REGISTER\r\nContact: <sip:alice@192.168.1.10:5060>\r\nExpires: 600\r\n"
            "Content-Length: 0\r\n\r\n");
    };
    const sip::Target nat = udp("203.0.113.5", 40000);
    // the wiring: registrar events drive track/untrack
    auto wire = [&](sip::Instant now) {
        while (auto ev = reg.poll()) {
            if (ev->kind == RegistrarEvent::Kind::Added ||
                ev->kind == RegistrarEvent::Kind::Refreshed)
                ka.track(ev->aor, ev->contact, now);
            if (ev->kind == RegistrarEvent::Kind::Removed ||
                ev->kind == RegistrarEvent::Kind::Replaced)
                ka.untrack(ev->aor, ev->contact);
        }
    };
    REQUIRE(reg.handle(request(1), nat, t0).status == 200);
    wire(t0);
    REQUIRE(ka.tracked() == 1);
    const std::string c = "sip:alice@192.168.1.10:5060";
    const sip::Instant first = *ka.next_probe(aor, c);
    ka.handle_timeouts(t0 + 30s);
    REQUIRE(only<SendOptions>(drain(ka)).size() == 1);
    CHECK(ka.on_options_result(aor, c, false, t0 + 62s));
    REQUIRE(only<KeepaliveEvent>(drain(ka)).size() == 1);
    REQUIRE(loc.find(aor, c, t0 + 62s)->down);

    // a probe in flight, then the device re-registers
    ka.handle_timeouts(t0 + 90s);
    REQUIRE(only<SendOptions>(drain(ka)).size() == 1);
    REQUIRE(reg.handle(request(2), nat, t0 + 100s).status == 200);
    CHECK_FALSE(loc.find(aor, c, t0 + 100s)->down);  // Location::upsert
    wire(t0 + 100s);
    auto ev = only<KeepaliveEvent>(drain(ka));
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == Kind::Up);  // the Down reported before is closed
    // the old probe's timeout arrives late: ignored
    CHECK_FALSE(ka.on_options_result(aor, c, false, t0 + 122s));
    CHECK_FALSE(loc.find(aor, c, t0 + 122s)->down);
    CHECK(drain(ka).empty());
    // still on the same grid
    const sip::Instant next = *ka.next_probe(aor, c);
    CHECK(next > t0 + 100s);
    CHECK(next <= t0 + 120s);
    CHECK((next - first) % 30s == sip::Duration::zero());
}

TEST_CASE("keepalive: untrack stops the probes, a vanished binding is dropped silently",
          "[reg][keepalive]") {
    Location loc;
    sip::SeededRandom rng(23);
    Keepalive ka({}, loc, rng);
    const std::string c1 = "sip:alice@192.168.1.10:5060";
    const std::string c2 = "sip:alice@192.168.1.11:5060";
    loc.upsert(aor, natted(c1));
    loc.upsert(aor, natted(c2, udp("203.0.113.5", 40001), t0 + 100s));
    REQUIRE(ka.track(aor, c1, t0));
    REQUIRE(ka.track(aor, c2, t0));
    CHECK(ka.untrack(aor, "SIP:alice@192.168.1.10:5060"));  // contact key comparison
    CHECK_FALSE(ka.untrack(aor, c1));
    CHECK(ka.tracked() == 1);
    // c2 expires at t0 + 100 s; nobody untracks it (the wiring missed the event)
    auto times = probe_times(ka, t0 + 100s);
    CHECK(times.size() >= 3);  // t in [0, 30) + 30k up to 100 s
    CHECK(times.size() <= 4);
    CHECK(ka.tracked() == 1);
    CHECK(probe_times(ka, t0 + 1000s).empty());
    CHECK(ka.tracked() == 0);
    CHECK_FALSE(ka.next_deadline());
    CHECK(ka.stats().dropped == 1);
    // a re-registration from the device's own address no longer qualifies: dropped when due
    loc.upsert(aor, natted(c1));
    REQUIRE(ka.track(aor, c1, t0 + 1000s));
    Binding direct = natted(c1, udp("192.168.1.10", 5060));
    loc.upsert(aor, direct);
    CHECK(probe_times(ka, t0 + 2000s).empty());
    CHECK(ka.tracked() == 0);
}

TEST_CASE("keepalive: 10,000 bindings added at once are spread over the interval",
          "[reg][keepalive]") {
    Location loc;
    sip::SeededRandom rng(29);
    Keepalive ka({}, loc, rng);
    constexpr int n = 10'000;
    for (int i = 0; i < n; ++i) {
        const std::string a = "sip:u" + std::to_string(i) + "@example.com";
        const std::string c = "sip:u" + std::to_string(i) + "@10.0." + std::to_string(i / 250) +
                              "." + std::to_string(i % 250);
        REQUIRE(
            loc.upsert(a, natted(c, udp("203.0.113.9", static_cast<std::uint16_t>(20000 + i)))));
        REQUIRE(ka.track(a, c, t0));
    }
    REQUIRE(ka.tracked() == n);
    // a driver ticking every 100 ms for three intervals
    std::map<std::string, std::vector<sip::Instant>> sent;
    std::size_t max_tick = 0;
    for (sip::Instant now = t0; now < t0 + 90s; now += 100ms) {
        ka.handle_timeouts(now);
        std::size_t tick = 0;
        for (const auto& a : drain(ka)) {
            const auto* c = std::get_if<SendCrlf>(&a);
            REQUIRE(c);
            sent[c->aor].push_back(now);
            ++tick;
        }
        max_tick = std::max(max_tick, tick);
    }
    REQUIRE(sent.size() == n);
    std::size_t wrong = 0;
    for (const auto& [a, times] : sent) {
        // first within the interval (the tick after it), then exactly every 30 s
        bool ok = times.size() >= 2 && times.size() <= 3 && times[0] <= t0 + 30s;
        for (std::size_t i = 1; ok && i < times.size(); ++i)
            ok = times[i] - times[i - 1] == 30s;
        wrong += !ok;
    }
    CHECK(wrong == 0);
    // 300 ticks per interval: about 33 probes each; none anywhere near the population
    CHECK(max_tick < n / 100);
}

TEST_CASE("keepalive: a stalled loop is worked off in capped batches", "[reg][keepalive]") {
    Location loc;
    sip::SeededRandom rng(31);
    KeepaliveConfig cfg;
    cfg.max_probes_per_tick = 1000;
    cfg.spill_delay = 20ms;
    Keepalive ka(cfg, loc, rng);
    constexpr int n = 2'500;
    for (int i = 0; i < n; ++i) {
        const std::string a = "sip:u" + std::to_string(i) + "@example.com";
        const std::string c = "sip:u" + std::to_string(i) + "@10.1.0.1";
        REQUIRE(
            loc.upsert(a, natted(c, udp("203.0.113.9", static_cast<std::uint16_t>(20000 + i)))));
        REQUIRE(ka.track(a, c, t0));
    }
    const sip::Instant late = t0 + 100s;  // every binding is due (several slots over)
    std::map<std::string, int> probed;
    auto batch = [&](sip::Instant now) {
        ka.handle_timeouts(now);
        std::size_t k = 0;
        for (const auto& a : drain(ka)) {
            ++probed[std::get<SendCrlf>(a).aor];
            ++k;
        }
        return k;
    };
    CHECK(batch(late) == 1000);
    CHECK(ka.next_deadline() == late + 20ms);  // not `late`: the loop gets to breathe
    CHECK(batch(late + 20ms) == 1000);
    CHECK(ka.next_deadline() == late + 40ms);
    const std::size_t third = batch(late + 40ms);
    CHECK(third >= 500);
    CHECK(third <= 1000);
    // everyone probed once, no catch-up for the slots missed (only the few whose next slot
    // fell inside those 40 ms twice)
    CHECK(probed.size() == n);
    CHECK(std::count_if(probed.begin(), probed.end(),
                        [](const auto& kv) { return kv.second > 1; }) < 20);
    CHECK(std::all_of(probed.begin(), probed.end(), [](const auto& kv) { return kv.second <= 2; }));
    REQUIRE(ka.next_deadline());
    CHECK(*ka.next_deadline() > late + 40ms);
    CHECK(*ka.next_deadline() <= late + 40ms + 30s);
}

TEST_CASE("keepalive: config validation; an invalid config tracks nothing", "[reg][keepalive]") {
    CHECK_FALSE(validate(KeepaliveConfig{}));  // crlf needs no local address
    CHECK_FALSE(validate(options_config()));
    KeepaliveConfig c = options_config();
    c.interval = 4s;
    REQUIRE(validate(c));
    CHECK(validate(c)->field == "interval");
    c = options_config();
    c.interval = 3601s;
    CHECK(validate(c)->field == "interval");
    c = options_config();
    c.local_host.clear();
    CHECK(validate(c)->field == "local_host");
    c.local_host = "198.51.100.7\r\nX: y";
    CHECK(validate(c)->field == "local_host");
    c = options_config();
    c.local_port = 0;
    CHECK(validate(c)->field == "local_port");
    c = options_config();
    c.from_user = "a@b";
    CHECK(validate(c)->field == "from_user");
    c = options_config();
    c.options_timeout = 0s;
    CHECK(validate(c)->field == "options_timeout");

    Location loc;
    sip::SeededRandom rng(37);
    c = options_config();
    c.local_host.clear();
    Keepalive ka(c, loc, rng);
    REQUIRE(ka.config_error());
    loc.upsert(aor, natted("sip:alice@192.168.1.10:5060"));
    CHECK_FALSE(ka.track(aor, "sip:alice@192.168.1.10:5060", t0));
    CHECK_FALSE(ka.next_deadline());
}

TEST_CASE("keepalive: nat_only also probes a binding whose REGISTER's Via showed a NAT",
          "[reg][keepalive][rport]") {
    // the contact names the public address (STUN), but the Via did not: the registrar's
    // RFC 3581 check marked the binding
    Binding b = natted("sip:alice@203.0.113.5:40000");
    CHECK_FALSE(Keepalive::qualifies(b, true));
    b.via_nat = true;
    CHECK(Keepalive::qualifies(b, true));
    b.source.transport = sip::Transport::Tcp;  // still never over a stream
    CHECK_FALSE(Keepalive::qualifies(b, true));
}

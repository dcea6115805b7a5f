// The transaction layer against RFC 3261 §17 / RFC 6026, on fake time: Timer B's 32 s run
// in microseconds, and every send is asserted at its exact instant.
#include <catch2/catch.hpp>

#include "sip/random.hpp"

#include <string>
#include <vector>

#include "sip/builder.hpp"
#include "sip/txn/layer.hpp"

using namespace std::chrono_literals;
using sip::Instant;
using sip::Target;
using sip::Transport;
using namespace sip::txn;

namespace {

const Target kUdpPeer{Transport::Udp, "192.0.2.10", 5060, 0, {}};
const Target kTcpPeer{Transport::Tcp, "192.0.2.10", 5060, 7, {}};

std::string request(std::string_view method, std::string_view branch,
                    std::string_view transport = "UDP", std::string_view cseq_method = {},
                    std::string_view extra = {}) {
    std::string m(method);
    std::string r = m + " sip:bob@192.0.2.10 SIP/2.0\r\n";
    r += "Via: SIP/2.0/" + std::string(transport) + " 198.51.100.1:5060;branch=" +
         std::string(branch) + "\r\n";
    r += "Route: <sip:proxy.example;lr>\r\n";
    r += "From: <sip:alice@example.com>;tag=a1\r\n";
    r += "To: <sip:bob@example.com>\r\n";
    r += "Call-ID: call-1@198.51.100.1\r\n";
    r += "CSeq: 7 " + std::string(cseq_method.empty() ? method : cseq_method) + "\r\n";
    r += "Max-Forwards: 70\r\n";
    r += std::string(extra);
    r += "Content-Length: 0\r\n\r\n";
    return r;
}

std::string response_to(const std::string& req, std::uint16_t code, std::string_view to_tag = "b2") {
    auto m = sip::Message::parse(req);
    REQUIRE(m);
    sip::ResponseSpec spec;
    spec.status = code;
    spec.to_tag = to_tag;
    return sip::build_response(*m, spec);
}

sip::Message parse(const std::string& s) {
    auto m = sip::Message::parse(s);
    REQUIRE(m);
    return std::move(*m);
}

double secs(Instant t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

struct Harness {
    sip::SeededRandom rng{1};
    Layer layer;
    explicit Harness(Config cfg = {}) : layer(cfg, rng) {}

    std::vector<Action> drain() {
        std::vector<Action> out;
        while (auto a = layer.poll()) out.push_back(std::move(*a));
        return out;
    }
    // Runs time forward to `until`, recording the instant of every SendBytes and the
    // other actions in order.
    struct Event {
        double at;
        Action action;
    };
    std::vector<Event> run_until(Instant until) {
        std::vector<Event> ev;
        while (auto d = layer.next_deadline()) {
            if (*d > until) break;
            layer.handle_timeouts(*d);
            for (auto& a : drain()) ev.push_back({secs(*d), std::move(a)});
        }
        return ev;
    }
};

template <class T>
std::vector<double> times_of(const std::vector<Harness::Event>& ev) {
    std::vector<double> t;
    for (const auto& e : ev)
        if (std::holds_alternative<T>(e.action)) t.push_back(e.at);
    return t;
}

template <class T>
std::size_t count_of(const std::vector<Action>& a) {
    std::size_t n = 0;
    for (const auto& x : a) n += std::holds_alternative<T>(x);
    return n;
}

}  // namespace

TEST_CASE("txn: INVITE over UDP is sent at 0, .5, 1.5, 3.5, 7.5, 15.5, 31.5 s; Timer B at 32 s",
          "[sipcore][txn][timers]") {
    Harness h;
    auto id = h.layer.send_request(request("INVITE", "z9hG4bKinv1"), kUdpPeer, sip::instant_ms(0));
    REQUIRE(id);
    auto first = h.drain();
    REQUIRE(first.size() == 1);
    REQUIRE(std::holds_alternative<SendBytes>(first[0]));
    CHECK(std::get<SendBytes>(first[0]).to == kUdpPeer);
    auto ev = h.run_until(sip::instant_ms(60'000));
    CHECK(times_of<SendBytes>(ev) == std::vector<double>{0.5, 1.5, 3.5, 7.5, 15.5, 31.5});
    REQUIRE(times_of<TxnTimeout>(ev) == std::vector<double>{32.0});
    for (const auto& e : ev)
        if (auto* t = std::get_if<TxnTimeout>(&e.action)) {
            CHECK(t->timer == 'B');
            CHECK(t->txn == *id);
        }
    CHECK(times_of<Terminated>(ev) == std::vector<double>{32.0});
    CHECK_FALSE(h.layer.next_deadline());
    CHECK(h.layer.stats().live == 0);
}

TEST_CASE("txn: non-INVITE over UDP: Timer E doubles up to T2, Timer F at 32 s",
          "[sipcore][txn][timers]") {
    Harness h;
    REQUIRE(h.layer.send_request(request("OPTIONS", "z9hG4bKopt1"), kUdpPeer, sip::instant_ms(0)));
    h.drain();
    auto ev = h.run_until(sip::instant_ms(60'000));
    CHECK(times_of<SendBytes>(ev) ==
          std::vector<double>{0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5});
    CHECK(times_of<TxnTimeout>(ev) == std::vector<double>{32.0});
    CHECK(std::get<TxnTimeout>(ev[ev.size() - 2].action).timer == 'F');
}

TEST_CASE("txn: over TCP a request is sent once and still times out at 64*T1",
          "[sipcore][txn][timers]") {
    Harness h;
    REQUIRE(h.layer.send_request(request("INVITE", "z9hG4bKtcp1", "TCP"), kTcpPeer,
                                 sip::instant_ms(0)));
    CHECK(h.drain().size() == 1);
    auto ev = h.run_until(sip::instant_ms(60'000));
    CHECK(times_of<SendBytes>(ev).empty());
    CHECK(times_of<TxnTimeout>(ev) == std::vector<double>{32.0});
}

TEST_CASE("txn: non-INVITE in Proceeding retransmits every T2", "[sipcore][txn][timers]") {
    Harness h;
    const std::string req = request("REGISTER", "z9hG4bKreg1");
    REQUIRE(h.layer.send_request(req, kUdpPeer, sip::instant_ms(0)));
    h.drain();
    auto ev = h.run_until(sip::instant_ms(1000));  // sends at 0.5
    CHECK(times_of<SendBytes>(ev) == std::vector<double>{0.5});
    h.layer.on_message(parse(response_to(req, 100)), kUdpPeer, sip::instant_ms(1200));
    auto up = h.drain();
    REQUIRE(count_of<ResponseIn>(up) == 1);
    // the pending E at 1.5 s stays; from then on every T2 = 4 s
    ev = h.run_until(sip::instant_ms(14'000));
    CHECK(times_of<SendBytes>(ev) == std::vector<double>{1.5, 5.5, 9.5, 13.5});
}

TEST_CASE("txn: client INVITE: 180 stops A; 486 is ACKed in the layer; D ends it",
          "[sipcore][txn][client]") {
    Harness h;
    const std::string req = request("INVITE", "z9hG4bKinv2");
    auto id = h.layer.send_request(req, kUdpPeer, sip::instant_ms(0));
    REQUIRE(id);
    h.drain();
    h.layer.on_message(parse(response_to(req, 180)), kUdpPeer, sip::instant_ms(100));
    auto up = h.drain();
    REQUIRE(up.size() == 1);
    CHECK(std::get<ResponseIn>(up[0]).msg.status_code() == 180);
    // no retransmission after a provisional response, and no Timer B
    auto ev = h.run_until(sip::instant_ms(40'000));
    CHECK(ev.empty());

    const std::string busy = response_to(req, 486, "callee9");
    h.layer.on_message(parse(busy), kUdpPeer, sip::instant_ms(40'000));
    up = h.drain();
    REQUIRE(up.size() == 2);
    const sip::Bytes ack_bytes = std::get<SendBytes>(up[0]).bytes;  // `up` is reused below
    auto ack = parse(*ack_bytes);
    CHECK(ack.method() == sip::Method::Ack);
    CHECK(ack.request_uri() == "sip:bob@192.0.2.10");
    CHECK(ack.top_via().branch == "z9hG4bKinv2");  // same branch as the INVITE (§17.1.1.3)
    CHECK(ack.to().tag == "callee9");              // To of the response
    CHECK(ack.from().tag == "a1");
    CHECK(ack.cseq().number == 7);
    CHECK(ack.cseq().method_name == "ACK");
    CHECK(ack.find(sip::HeaderId::Route) != nullptr);
    CHECK(std::get<ResponseIn>(up[1]).msg.status_code() == 486);

    // a retransmitted 486 is answered with the same ACK and not passed up
    h.layer.on_message(parse(busy), kUdpPeer, sip::instant_ms(41'000));
    up = h.drain();
    REQUIRE(up.size() == 1);
    CHECK(std::get<SendBytes>(up[0]).bytes == ack_bytes);
    ev = h.run_until(sip::instant_ms(100'000));
    CHECK(times_of<Terminated>(ev) == std::vector<double>{72.0});  // Timer D = 32 s
}

TEST_CASE("txn: client INVITE 2xx: Accepted passes every 2xx up, Timer M ends it (RFC 6026)",
          "[sipcore][txn][client]") {
    Harness h;
    const std::string req = request("INVITE", "z9hG4bKinv3");
    REQUIRE(h.layer.send_request(req, kUdpPeer, sip::instant_ms(0)));
    h.drain();
    const std::string ok = response_to(req, 200);
    h.layer.on_message(parse(ok), kUdpPeer, sip::instant_ms(300));
    auto up = h.drain();
    REQUIRE(up.size() == 1);  // no ACK from the layer for a 2xx
    CHECK(std::get<ResponseIn>(up[0]).msg.status_code() == 200);
    h.layer.on_message(parse(ok), kUdpPeer, sip::instant_ms(800));  // 2xx retransmission
    up = h.drain();
    REQUIRE(up.size() == 1);
    CHECK(std::holds_alternative<ResponseIn>(up[0]));
    auto ev = h.run_until(sip::instant_ms(100'000));
    CHECK(times_of<SendBytes>(ev).empty());  // Timer A stopped at the 2xx
    CHECK(times_of<Terminated>(ev) == std::vector<double>{32.3});
}

TEST_CASE("txn: server non-INVITE absorbs retransmissions and resends its response",
          "[sipcore][txn][server]") {
    Harness h;
    const std::string req = request("OPTIONS", "z9hG4bKsrv1");
    h.layer.on_message(parse(req), kUdpPeer, sip::instant_ms(0));
    auto up = h.drain();
    REQUIRE(up.size() == 1);
    const TxnId id = std::get<RequestIn>(up[0]).txn;
    // retransmitted before the TU answered: absorbed silently (Trying)
    h.layer.on_message(parse(req), kUdpPeer, sip::instant_ms(500));
    CHECK(h.drain().empty());
    h.layer.respond(id, response_to(req, 200), sip::instant_ms(600));
    up = h.drain();
    REQUIRE(up.size() == 1);
    const sip::Bytes sent = std::get<SendBytes>(up[0]).bytes;
    CHECK(std::get<SendBytes>(up[0]).to == kUdpPeer);
    h.layer.on_message(parse(req), kUdpPeer, sip::instant_ms(1000));
    up = h.drain();
    REQUIRE(up.size() == 1);
    CHECK(std::get<SendBytes>(up[0]).bytes == sent);  // the same bytes again
    auto ev = h.run_until(sip::instant_ms(100'000));
    CHECK(times_of<Terminated>(ev) == std::vector<double>{32.6});  // Timer J = 64*T1
    CHECK(h.layer.stats().retransmissions_absorbed == 2);
}

TEST_CASE("txn: respond_stateless ends a server non-INVITE at once (RFC 3261 §8.2.7)",
          "[sipcore][txn][server]") {
    Harness h;
    const std::string req = request("REGISTER", "z9hG4bKchal1");
    h.layer.on_message(parse(req), kUdpPeer, sip::instant_ms(0));
    auto up = h.drain();
    const TxnId id = std::get<RequestIn>(up.at(0)).txn;
    h.layer.respond_stateless(id, sip::make_bytes(response_to(req, 401)), sip::instant_ms(1));
    up = h.drain();
    REQUIRE(up.size() == 2);
    CHECK(std::get<SendBytes>(up[0]).to == kUdpPeer);
    CHECK(std::get<Terminated>(up[1]).txn == id);
    CHECK(h.layer.stats().lingering == 0);  // nothing kept for Timer J
    // a retransmission is a new request for the TU, which answers it again
    h.layer.on_message(parse(req), kUdpPeer, sip::instant_ms(500));
    up = h.drain();
    REQUIRE(up.size() == 1);
    const TxnId again = std::get<RequestIn>(up[0]).txn;
    CHECK(again != id);
    // a provisional is no stateless answer: it goes the stateful way; the final still ends it
    h.layer.respond_stateless(again, sip::make_bytes(response_to(req, 100)), sip::instant_ms(501));
    h.layer.respond_stateless(again, sip::make_bytes(response_to(req, 200)), sip::instant_ms(502));
    up = h.drain();
    CHECK(count_of<SendBytes>(up) == 2);
    CHECK(count_of<Terminated>(up) == 1);
}

TEST_CASE("random: stable tokens for a stateless UAS (§8.2.7)", "[sipcore][txn][random]") {
    auto hash = [](std::string_view a, std::string_view b) {
        sip::Fnv1a f;
        f.bytes(a);
        f.bytes(b);
        return f.value();
    };
    CHECK(hash("ab", "c") != hash("a", "bc"));  // fields are separated
    const std::string t = sip::stable_token(hash("z9hG4bK1", "call-1"));
    CHECK(t == sip::stable_token(hash("z9hG4bK1", "call-1")));
    CHECK(t != sip::stable_token(hash("z9hG4bK2", "call-1")));
    CHECK(t.size() == 10);
    CHECK(t.find_first_not_of("0123456789abcdefghijklmnopqrstuv") == std::string::npos);
    CHECK(sip::stable_token(~0ull, 40).size() == 12);  // 64 bits make at most 12 characters
}

TEST_CASE("txn: server non-INVITE over TCP terminates at the final response",
          "[sipcore][txn][server]") {
    Harness h;
    const std::string req = request("OPTIONS", "z9hG4bKsrv2", "TCP");
    h.layer.on_message(parse(req), kTcpPeer, sip::instant_ms(0));
    auto up = h.drain();
    const TxnId id = std::get<RequestIn>(up.at(0)).txn;
    h.layer.respond(id, response_to(req, 200), sip::instant_ms(1));
    up = h.drain();
    REQUIRE(up.size() == 2);
    CHECK(std::get<SendBytes>(up[0]).to == kTcpPeer);  // the same connection
    CHECK(std::get<SendBytes>(up[0]).to.conn == 7);
    CHECK(std::get<Terminated>(up[1]).txn == id);
}

TEST_CASE("txn: server INVITE sends 100 Trying after 200 ms of TU silence",
          "[sipcore][txn][server]") {
    Harness h;
    const std::string req = request("INVITE", "z9hG4bKsrv3");
    h.layer.on_message(parse(req), kUdpPeer, sip::instant_ms(0));
    h.drain();
    auto ev = h.run_until(sip::instant_ms(300));
    REQUIRE(times_of<SendBytes>(ev) == std::vector<double>{0.2});
    auto trying = parse(*std::get<SendBytes>(ev[0].action).bytes);
    CHECK(trying.status_code() == 100);
    CHECK(trying.top_via().branch == "z9hG4bKsrv3");
    // a TU that answers in time suppresses the 100
    Harness quick;
    quick.layer.on_message(parse(req), kUdpPeer, sip::instant_ms(0));
    const TxnId id = std::get<RequestIn>(quick.drain().at(0)).txn;
    quick.layer.respond(id, response_to(req, 180), sip::instant_ms(50));
    quick.drain();
    ev = quick.run_until(sip::instant_ms(1000));
    CHECK(times_of<SendBytes>(ev).empty());
}

TEST_CASE("txn: server INVITE non-2xx: Timer G until the ACK, Confirmed, Timer I",
          "[sipcore][txn][server]") {
    Harness h;
    const std::string req = request("INVITE", "z9hG4bKsrv4");
    h.layer.on_message(parse(req), kUdpPeer, sip::instant_ms(0));
    const TxnId id = std::get<RequestIn>(h.drain().at(0)).txn;
    h.layer.respond(id, response_to(req, 486), sip::instant_ms(100));
    CHECK(count_of<SendBytes>(h.drain()) == 1);
    auto ev = h.run_until(sip::instant_ms(8000));
    // G: T1 doubling, capped at T2: 0.6, 1.6, 3.6, 7.6
    CHECK(times_of<SendBytes>(ev) == std::vector<double>{0.6, 1.6, 3.6, 7.6});
    // the ACK for the 486 shares the INVITE's branch: absorbed, retransmissions stop
    std::string ack = request("ACK", "z9hG4bKsrv4");
    h.layer.on_message(parse(ack), kUdpPeer, sip::instant_ms(8000));
    CHECK(h.drain().empty());
    h.layer.on_message(parse(ack), kUdpPeer, sip::instant_ms(8100));  // retransmitted ACK
    CHECK(h.drain().empty());
    ev = h.run_until(sip::instant_ms(60'000));
    CHECK(times_of<SendBytes>(ev).empty());
    CHECK(times_of<TxnTimeout>(ev).empty());
    CHECK(times_of<Terminated>(ev) == std::vector<double>{13.0});  // Timer I = T4
}

TEST_CASE("txn: server INVITE non-2xx without ACK: Timer H at 64*T1", "[sipcore][txn][server]") {
    Harness h;
    const std::string req = request("INVITE", "z9hG4bKsrv5");
    h.layer.on_message(parse(req), kUdpPeer, sip::instant_ms(0));
    const TxnId id = std::get<RequestIn>(h.drain().at(0)).txn;
    h.layer.respond(id, response_to(req, 503), sip::instant_ms(0));
    h.drain();
    auto ev = h.run_until(sip::instant_ms(60'000));
    CHECK(times_of<SendBytes>(ev) ==
          std::vector<double>{0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5});
    REQUIRE(times_of<TxnTimeout>(ev) == std::vector<double>{32.0});
    for (const auto& e : ev)
        if (auto* t = std::get_if<TxnTimeout>(&e.action)) CHECK(t->timer == 'H');
}

TEST_CASE("txn: server INVITE 2xx: Accepted absorbs the INVITE, the 2xx ACK goes to the TU",
          "[sipcore][txn][server]") {
    Harness h;
    const std::string req = request("INVITE", "z9hG4bKsrv6");
    h.layer.on_message(parse(req), kUdpPeer, sip::instant_ms(0));
    const TxnId id = std::get<RequestIn>(h.drain().at(0)).txn;
    const std::string ok = response_to(req, 200);
    h.layer.respond(id, ok, sip::instant_ms(10));
    CHECK(count_of<SendBytes>(h.drain()) == 1);
    h.layer.on_message(parse(req), kUdpPeer, sip::instant_ms(500));  // INVITE retransmission
    CHECK(h.drain().empty());
    // the TU retransmits its 2xx itself (§13.3.1.4): the Accepted transaction keeps no bytes
    h.layer.respond(id, ok, sip::instant_ms(510));
    CHECK(h.drain().empty());
    // ACK for a 2xx has its own branch (§17.1.1.3): not a transaction, up to the TU
    h.layer.on_message(parse(request("ACK", "z9hG4bKack6")), kUdpPeer, sip::instant_ms(600));
    auto up = h.drain();
    REQUIRE(up.size() == 1);
    CHECK(std::holds_alternative<AckIn>(up[0]));
    auto ev = h.run_until(sip::instant_ms(60'000));
    CHECK(times_of<Terminated>(ev) == std::vector<double>{32.01});  // Timer L
}

TEST_CASE("txn: CANCEL is matched to its INVITE (§9.2), or reported unmatched",
          "[sipcore][txn][cancel]") {
    Harness h;
    const std::string inv = request("INVITE", "z9hG4bKcan1");
    h.layer.on_message(parse(inv), kUdpPeer, sip::instant_ms(0));
    const TxnId invite_id = std::get<RequestIn>(h.drain().at(0)).txn;
    h.layer.on_message(parse(request("CANCEL", "z9hG4bKcan1")), kUdpPeer, sip::instant_ms(50));
    auto up = h.drain();
    REQUIRE(up.size() == 1);
    const auto& c = std::get<CancelIn>(up[0]);
    CHECK(c.invite_txn == invite_id);
    CHECK(c.cancel_txn != invite_id);
    h.layer.on_message(parse(request("CANCEL", "z9hG4bKnone")), kUdpPeer, sip::instant_ms(60));
    up = h.drain();
    REQUIRE(up.size() == 1);
    CHECK(std::get<CancelIn>(up[0]).invite_txn == 0);  // the TU answers 481
}

TEST_CASE("txn: responses match on branch and CSeq method; others are stray",
          "[sipcore][txn][client]") {
    Harness h;
    const std::string inv = request("INVITE", "z9hG4bKm1");
    REQUIRE(h.layer.send_request(inv, kUdpPeer, sip::instant_ms(0)));
    const std::string cancel = request("CANCEL", "z9hG4bKm1");
    auto cid = h.layer.send_request(cancel, kUdpPeer, sip::instant_ms(10));
    REQUIRE(cid);
    h.drain();
    // a 200 for the CANCEL belongs to the CANCEL transaction, not the INVITE
    h.layer.on_message(parse(response_to(cancel, 200)), kUdpPeer, sip::instant_ms(20));
    auto up = h.drain();
    REQUIRE(count_of<ResponseIn>(up) == 1);
    for (const auto& a : up)
        if (auto* r = std::get_if<ResponseIn>(&a)) CHECK(r->txn == *cid);
    h.layer.on_message(parse(response_to(request("INVITE", "z9hG4bKother"), 200)), kUdpPeer,
                       sip::instant_ms(30));
    up = h.drain();
    REQUIRE(up.size() == 1);
    CHECK(std::holds_alternative<StrayResponse>(up[0]));
}

TEST_CASE("txn: RFC 2543 peers (no magic cookie) are matched on the §17.2.3 fallback",
          "[sipcore][txn][rfc2543]") {
    Harness h;
    std::string inv = request("INVITE", "old1");  // branch without z9hG4bK
    h.layer.on_message(parse(inv), kUdpPeer, sip::instant_ms(0));
    const TxnId id = std::get<RequestIn>(h.drain().at(0)).txn;
    h.layer.on_message(parse(inv), kUdpPeer, sip::instant_ms(100));  // retransmission
    CHECK(h.drain().empty());
    h.layer.respond(id, response_to(inv, 404, "t404"), sip::instant_ms(200));
    h.drain();
    // the ACK carries the To tag of our 404; it still matches the INVITE's transaction
    std::string ack = request("ACK", "old1");
    auto pos = ack.find("To: <sip:bob@example.com>");
    ack.insert(pos + std::string("To: <sip:bob@example.com>").size(), ";tag=t404");
    h.layer.on_message(parse(ack), kUdpPeer, sip::instant_ms(300));
    CHECK(h.drain().empty());  // absorbed: Confirmed
    auto ev = h.run_until(sip::instant_ms(60'000));
    CHECK(times_of<SendBytes>(ev).empty());
    CHECK(times_of<Terminated>(ev) == std::vector<double>{5.3});
}

TEST_CASE("txn: a request over 1300 bytes switches from UDP to TCP (§18.1.1)",
          "[sipcore][txn][mtu]") {
    Harness h;
    const std::string big = request("INVITE", "z9hG4bKbig", "UDP", {},
                                    "X-Pad: " + std::string(1400, 'x') + "\r\n");
    REQUIRE(h.layer.send_request(big, kUdpPeer, sip::instant_ms(0)));
    auto up = h.drain();
    REQUIRE(up.size() == 1);
    const auto& s = std::get<SendBytes>(up[0]);
    CHECK(s.to.transport == Transport::Tcp);
    CHECK(parse(*s.bytes).top_via().transport == "TCP");
    CHECK(h.run_until(sip::instant_ms(10'000)).empty());  // reliable: no Timer A
}

TEST_CASE("txn: past max_transactions a new request gets 503 statelessly",
          "[sipcore][txn][limits]") {
    Config cfg;
    cfg.max_transactions = 1;
    Harness h(cfg);
    h.layer.on_message(parse(request("OPTIONS", "z9hG4bKl1")), kUdpPeer, sip::instant_ms(0));
    CHECK(count_of<RequestIn>(h.drain()) == 1);
    h.layer.on_message(parse(request("OPTIONS", "z9hG4bKl2")), kUdpPeer, sip::instant_ms(1));
    auto up = h.drain();
    REQUIRE(up.size() == 1);
    CHECK(parse(*std::get<SendBytes>(up[0]).bytes).status_code() == 503);
    CHECK(h.layer.stats().rejected_overload == 1);
}

TEST_CASE("txn: a transport error ends the transaction and tells the TU",
          "[sipcore][txn][errors]") {
    Harness h;
    auto id = h.layer.send_request(request("INVITE", "z9hG4bKerr"), kUdpPeer, sip::instant_ms(0));
    REQUIRE(id);
    h.drain();
    h.layer.on_transport_error(*id, sip::instant_ms(5));
    auto up = h.drain();
    REQUIRE(up.size() == 2);
    CHECK(std::get<TransportError>(up[0]).txn == *id);
    CHECK(std::get<Terminated>(up[1]).txn == *id);
    CHECK_FALSE(h.layer.next_deadline());
    // rejects: an ACK is not a transaction, garbage does not parse
    CHECK_FALSE(h.layer.send_request(request("ACK", "z9hG4bKx"), kUdpPeer, sip::instant_ms(6)));
    CHECK_FALSE(h.layer.send_request("garbage", kUdpPeer, sip::instant_ms(6)));
}

TEST_CASE("txn: response target follows §18.2.2 and RFC 3581", "[sipcore][txn][routing]") {
    const Target src{Transport::Udp, "203.0.113.5", 40000, 0, {}};
    auto with_via = [](std::string via) {
        return parse("OPTIONS sip:a@b SIP/2.0\r\nVia: " + via +
                     "\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 "
                     "OPTIONS\r\nContent-Length: 0\r\n\r\n");
    };
    Target t = response_target(with_via("SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1"), src);
    CHECK(t.host == "203.0.113.5");  // received: the source address
    CHECK(t.port == 5070);           // the sent-by port
    t = response_target(with_via("SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK1;rport"), src);
    CHECK(t.port == 40000);  // rport: the source port
    t = response_target(with_via("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1"), src);
    CHECK(t.port == 5060);
    t = response_target(with_via("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1;maddr=239.1.1.1"), src);
    CHECK(t.host == "239.1.1.1");
    const Target tcp{Transport::Tcp, "203.0.113.5", 40001, 42, {}};
    CHECK(response_target(with_via("SIP/2.0/TCP 10.0.0.1:5070;branch=z9hG4bK1"), tcp) == tcp);
}

TEST_CASE("txn: deadlines are never in the past and the loop drains to nothing",
          "[sipcore][txn][timers]") {
    Harness h;
    for (int i = 0; i < 50; ++i) {
        const std::string b = "z9hG4bKmany" + std::to_string(i);
        REQUIRE(h.layer.send_request(request(i % 2 ? "INVITE" : "OPTIONS", b), kUdpPeer,
                                     sip::instant_ms(i * 37)));
        h.layer.on_message(parse(request("OPTIONS", "z9hG4bKsrv" + std::to_string(i))), kUdpPeer,
                           sip::instant_ms(i * 37));
    }
    h.drain();
    Instant last = sip::instant_ms(0);
    std::size_t steps = 0;
    while (auto d = h.layer.next_deadline()) {
        CHECK(*d >= last);
        last = *d;
        h.layer.handle_timeouts(*d);
        h.drain();
        REQUIRE(++steps < 10'000);
    }
    CHECK(h.layer.stats().live == 0);
    CHECK(h.layer.stats().timeouts == 50);  // the 50 client transactions; servers got no answer
}

TEST_CASE("txn: over a reliable transport Timers D, I and K are zero", "[sipcore][txn][timers]") {
    {  // client non-INVITE: K = 0
        Harness h;
        const std::string req = request("OPTIONS", "z9hG4bKr1", "TCP");
        auto id = h.layer.send_request(req, kTcpPeer, sip::instant_ms(0));
        REQUIRE(id);
        h.drain();
        h.layer.on_message(parse(response_to(req, 200)), kTcpPeer, sip::instant_ms(10));
        auto up = h.drain();
        REQUIRE(up.size() == 2);
        CHECK(std::holds_alternative<ResponseIn>(up[0]));
        CHECK(std::get<Terminated>(up[1]).txn == *id);
    }
    {  // client INVITE, non-2xx: ACK sent, D = 0
        Harness h;
        const std::string req = request("INVITE", "z9hG4bKr2", "TCP");
        auto id = h.layer.send_request(req, kTcpPeer, sip::instant_ms(0));
        REQUIRE(id);
        h.drain();
        h.layer.on_message(parse(response_to(req, 603)), kTcpPeer, sip::instant_ms(10));
        auto up = h.drain();
        REQUIRE(up.size() == 3);
        CHECK(parse(*std::get<SendBytes>(up[0]).bytes).method() == sip::Method::Ack);
        CHECK(std::holds_alternative<ResponseIn>(up[1]));
        CHECK(std::get<Terminated>(up[2]).txn == *id);
    }
    {  // server INVITE, non-2xx: no Timer G, and I = 0 at the ACK
        Harness h;
        const std::string req = request("INVITE", "z9hG4bKr3", "TCP");
        h.layer.on_message(parse(req), kTcpPeer, sip::instant_ms(0));
        const TxnId id = std::get<RequestIn>(h.drain().at(0)).txn;
        h.layer.respond(id, response_to(req, 486), sip::instant_ms(5));
        h.drain();
        CHECK(h.run_until(sip::instant_ms(5000)).empty());
        h.layer.on_message(parse(request("ACK", "z9hG4bKr3", "TCP")), kTcpPeer,
                           sip::instant_ms(6000));
        auto up = h.drain();
        REQUIRE(up.size() == 1);
        CHECK(std::get<Terminated>(up[0]).txn == id);
    }
}

TEST_CASE("txn: a client INVITE ringing forever ends 64*T1 after Timer C", "[sipcore][txn][timers]") {
    Harness h;
    const std::string req = request("INVITE", "z9hG4bKring");
    auto id = h.layer.send_request(req, kUdpPeer, sip::instant_ms(0));
    REQUIRE(id);
    h.drain();
    h.layer.on_message(parse(response_to(req, 180)), kUdpPeer, sip::instant_ms(1000));
    h.drain();
    h.layer.on_message(parse(response_to(req, 183)), kUdpPeer, sip::instant_ms(61'000));
    h.drain();  // each provisional restarts the guard
    auto ev = h.run_until(sip::instant_ms(400'000));
    REQUIRE(times_of<TxnTimeout>(ev) == std::vector<double>{61.0 + 180 + 32});
    CHECK(std::get<TxnTimeout>(ev[0].action).timer == 'C');
    CHECK(times_of<Terminated>(ev) == std::vector<double>{61.0 + 180 + 32});
}

TEST_CASE("txn: a request the TU built is sent as is, without a parse; the 486 ACK still works",
          "[sipcore][txn][client]") {
    Harness h;
    const std::string req = request("INVITE", "z9hG4bKbuilt1");
    const sip::Bytes bytes = sip::make_bytes(req);
    auto id = h.layer.send_request(bytes, "z9hG4bKbuilt1", kUdpPeer, sip::instant_ms(0));
    REQUIRE(id);
    auto first = h.drain();
    REQUIRE(first.size() == 1);
    CHECK(std::get<SendBytes>(first[0]).bytes == bytes);  // the same buffer: no copy
    // responses match on the branch the TU named
    h.layer.on_message(parse(response_to(req, 486, "c1")), kUdpPeer, sip::instant_ms(100));
    auto up = h.drain();
    REQUIRE(up.size() == 2);
    auto ack = parse(*std::get<SendBytes>(up[0]).bytes);
    CHECK(ack.method() == sip::Method::Ack);
    CHECK(ack.top_via().branch == "z9hG4bKbuilt1");
    CHECK(ack.to().tag == "c1");
    CHECK(std::get<ResponseIn>(up[1]).txn == *id);
    // what the layer refuses: no bytes, an ACK (not a transaction), no branch, no start line
    CHECK_FALSE(h.layer.send_request(sip::Bytes{}, "z9hG4bKx", kUdpPeer, sip::instant_ms(1)));
    CHECK_FALSE(h.layer.send_request(sip::make_bytes(request("ACK", "z9hG4bKa")), "z9hG4bKa",
                                     kUdpPeer, sip::instant_ms(1)));
    CHECK_FALSE(h.layer.send_request(sip::make_bytes(request("BYE", "z9hG4bKb")), "", kUdpPeer,
                                     sip::instant_ms(1)));
    CHECK_FALSE(h.layer.send_request(sip::make_bytes("garbage"), "z9hG4bKc", kUdpPeer,
                                     sip::instant_ms(1)));
    // the same branch and method twice is a duplicate transaction
    CHECK_FALSE(h.layer.send_request(bytes, "z9hG4bKbuilt1", kUdpPeer, sip::instant_ms(2)));
}

TEST_CASE("txn: completed transactions do not count against max_transactions",
          "[sipcore][txn][limits]") {
    Config cfg;
    cfg.max_transactions = 1;
    Harness h(cfg);
    const std::string first = request("OPTIONS", "z9hG4bKm1");
    h.layer.on_message(parse(first), kUdpPeer, sip::instant_ms(0));
    const TxnId id = std::get<RequestIn>(h.drain().at(0)).txn;
    h.layer.respond(id, response_to(first, 200), sip::instant_ms(1));
    h.drain();
    CHECK(h.layer.stats().live == 0);
    CHECK(h.layer.stats().lingering == 1);
    h.layer.on_message(parse(request("OPTIONS", "z9hG4bKm2")), kUdpPeer, sip::instant_ms(2));
    CHECK(count_of<RequestIn>(h.drain()) == 1);
    CHECK(h.layer.stats().rejected_overload == 0);
}

TEST_CASE("txn: when the completed table is full the oldest ends early, never a new request",
          "[sipcore][txn][limits]") {
    Config cfg;
    cfg.max_lingering = 2;
    Harness h(cfg);
    std::vector<TxnId> ids;
    for (int i = 0; i < 3; ++i) {
        const std::string req = request("OPTIONS", "z9hG4bKfull" + std::to_string(i));
        h.layer.on_message(parse(req), kUdpPeer, sip::instant_ms(i));
        const TxnId id = std::get<RequestIn>(h.drain().at(0)).txn;
        ids.push_back(id);
        h.layer.respond(id, response_to(req, 200), sip::instant_ms(i));
        auto out = h.drain();
        if (i < 2) {
            CHECK(count_of<Terminated>(out) == 0);
        } else {
            REQUIRE(count_of<Terminated>(out) == 1);  // the oldest, 32 s early
            for (const auto& a : out)
                if (auto* t = std::get_if<Terminated>(&a)) CHECK(t->txn == ids[0]);
        }
    }
    CHECK(h.layer.stats().lingering == 2);
    CHECK(h.layer.stats().lingering_evicted == 1);
    // the newest still absorbs its retransmission; the evicted one is a new transaction now
    h.layer.on_message(parse(request("OPTIONS", "z9hG4bKfull2")), kUdpPeer, sip::instant_ms(10));
    CHECK(count_of<SendBytes>(h.drain()) == 1);
    h.layer.on_message(parse(request("OPTIONS", "z9hG4bKfull0")), kUdpPeer, sip::instant_ms(11));
    CHECK(count_of<RequestIn>(h.drain()) == 1);
    // the other two end at their own Timer J
    auto ev = h.run_until(sip::instant_ms(100'000));
    CHECK(times_of<Terminated>(ev) == std::vector<double>{32.001, 32.002, 32.011});
}

TEST_CASE("txn: disarmed timers leave nothing behind; deadlines follow the live timers",
          "[sipcore][txn][timers]") {
    Harness h;
    // 1,000 INVITEs answered at once: every Timer A/B is gone, only Timer M's end remains
    for (int i = 0; i < 1000; ++i) {
        const std::string req = request("INVITE", "z9hG4bKmany" + std::to_string(i));
        REQUIRE(h.layer.send_request(req, kUdpPeer, sip::instant_ms(0)));
        h.layer.on_message(parse(response_to(req, 200)), kUdpPeer, sip::instant_ms(5));
    }
    h.drain();
    CHECK(h.layer.stats().live == 0);
    CHECK(h.layer.stats().lingering == 1000);
    REQUIRE(h.layer.next_deadline());
    CHECK(*h.layer.next_deadline() == sip::instant_ms(32'005));
    auto ev = h.run_until(sip::instant_ms(100'000));
    CHECK(times_of<SendBytes>(ev).empty());
    CHECK(times_of<Terminated>(ev).size() == 1000);
    CHECK_FALSE(h.layer.next_deadline());
}

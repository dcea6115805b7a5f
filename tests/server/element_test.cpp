// sw::Element on fake time: what trunkline answers, and when it retransmits its 2xx.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "route/reg/registrar.hpp"
#include "sip/message.hpp"
#include "sw/element.hpp"

using namespace std::chrono_literals;

namespace {

const sip::Target kPeer{sip::Transport::Udp, "192.0.2.7", 5070, 0, {}};

std::string req(std::string_view method, std::string_view branch, std::string_view extra = {},
                std::string_view to_tag = {}, int cseq = 1, std::string_view call_id = "call-1") {
    std::string r = std::string(method) +
                    " sip:svc@192.0.2.1 SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=" +
                    std::string(branch) +
                    "\r\n"
                    "From: <sip:a@192.0.2.7>;tag=fa\r\nTo: <sip:svc@192.0.2.1>";
    if (!to_tag.empty()) r += ";tag=" + std::string(to_tag);
    r += "\r\nCall-ID: " + std::string(call_id) + "\r\nCSeq: " + std::to_string(cseq) + " " +
         std::string(method) + "\r\nMax-Forwards: 70\r\n" + std::string(extra) +
         "Content-Length: 0\r\n\r\n";
    return r;
}

struct Fixture {
    sip::SeededRandom rng{3};
    sw::Element el;
    explicit Fixture(sw::ElementConfig cfg = {}) : el(std::move(cfg), rng) {}
    std::vector<sip::Message> sent() {
        std::vector<sip::Message> out;
        while (auto s = el.poll_send()) {
            auto m = sip::Message::parse(*s->bytes);
            REQUIRE(m);
            CHECK(s->to.host == "192.0.2.7");
            CHECK(s->to.port == 5070);
            out.push_back(std::move(*m));
        }
        while (el.poll_log()) {
        }
        return out;
    }
};

// Accepts credentials whose response is "good", asks again for "old" (stale nonce).
class FakeAuth : public route::reg::Authenticator {
  public:
    std::vector<std::string> challenge(sip::Instant, bool stale) override {
        return {stale ? "Digest realm=\"t\", nonce=\"n2\", stale=true"
                      : "Digest realm=\"t\", nonce=\"n1\""};
    }
    Outcome verify(std::string_view authorization, std::string_view method, sip::Instant) override {
        CHECK(method == "REGISTER");
        if (authorization.find("response=\"good\"") != std::string_view::npos)
            return {Verdict::Ok, "a"};
        if (authorization.find("response=\"old\"") != std::string_view::npos)
            return {Verdict::Stale, "a"};
        return {Verdict::Rejected, "a"};
    }
};

}  // namespace

TEST_CASE("element: OPTIONS is answered 200 statelessly; its retransmission gets the same 200",
          "[server][element]") {
    Fixture f;
    f.el.on_bytes(req("OPTIONS", "z9hG4bKo1"), kPeer, sip::instant_ms(0));
    auto out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 200);
    CHECK(out[0].find("Allow") != nullptr);
    CHECK(out[0].find("Accept") != nullptr);
    CHECK(out[0].find("Supported") != nullptr);
    CHECK_FALSE(out[0].to().tag.empty());
    // §8.2.7: no transaction is made (as sl_send_reply: nothing to match, nothing to end),
    // nothing is kept for Timer J (a keep-alive flood must not fill the layer) ...
    CHECK(f.el.txn_stats().server_started == 0);
    CHECK(f.el.txn_stats().lingering == 0);
    CHECK(f.el.txn_stats().live == 0);
    CHECK_FALSE(f.el.next_deadline());
    // ... and the retransmission is answered again with the same bytes, To tag included
    f.el.on_bytes(req("OPTIONS", "z9hG4bKo1"), kPeer, sip::instant_ms(500));
    auto again = f.sent();
    REQUIRE(again.size() == 1);
    CHECK(again[0].bytes() == out[0].bytes());
    CHECK(f.el.stats().requests == 2);
    // another request gets another tag
    f.el.on_bytes(req("OPTIONS", "z9hG4bKo2", {}, {}, 2), kPeer, sip::instant_ms(600));
    auto other = f.sent();
    REQUIRE(other.size() == 1);
    CHECK(other[0].to().tag != out[0].to().tag);
}

TEST_CASE("element: per-message lines are made only while they are wanted", "[server][element]") {
    // A REGISTER flood at the default level made a debug line per request that was never
    // written, and the log cap counted each as suppressed.
    Fixture f;
    f.el.set_message_lines(false);
    f.el.on_bytes(req("OPTIONS", "z9hG4bKq1"), kPeer, sip::instant_ms(0));
    while (f.el.poll_send()) {
    }
    CHECK_FALSE(f.el.poll_log());
    f.el.set_message_lines(true);
    f.el.on_bytes(req("OPTIONS", "z9hG4bKq2", {}, {}, 2), kPeer, sip::instant_ms(10));
    while (f.el.poll_send()) {
    }
    auto line = f.el.poll_log();
    REQUIRE(line);
    CHECK(line->find("OPTIONS") != std::string::npos);
}

TEST_CASE("element: echo UAS answers INVITE 180 + 200 with SDP and retransmits the 200 until ACK",
          "[server][element]") {
    sw::ElementConfig cfg;
    cfg.echo_uas = true;
    Fixture f(cfg);
    f.el.on_bytes(req("INVITE", "z9hG4bKi1"), kPeer, sip::instant_ms(0));
    auto out = f.sent();
    REQUIRE(out.size() == 2);
    CHECK(out[0].status_code() == 180);
    CHECK(out[1].status_code() == 200);
    CHECK(out[1].find(sip::HeaderId::Contact) != nullptr);
    CHECK(out[1].body().substr(0, 4) == "v=0\r");
    const std::string tag(out[1].to().tag);
    CHECK(out[0].to().tag == tag);  // one dialog
    // §13.3.1.4: T1 doubling to T2 until the ACK
    std::vector<double> at;
    while (auto d = f.el.next_deadline()) {
        if (*d > sip::instant_ms(4000)) break;
        f.el.handle_timeouts(*d);
        for (auto& m : f.sent()) {
            CHECK(m.status_code() == 200);
            at.push_back(std::chrono::duration<double>(d->time_since_epoch()).count());
        }
    }
    CHECK(at == std::vector<double>{0.5, 1.5, 3.5});
    f.el.on_bytes(req("ACK", "z9hG4bKack1", {}, tag), kPeer, sip::instant_ms(4000));
    CHECK(f.el.stats().acks == 1);
    while (auto d = f.el.next_deadline()) {
        f.el.handle_timeouts(*d);
        for (auto& m : f.sent())
            FAIL("sent " << m.status_code() << " after the ACK");
    }
    f.el.on_bytes(req("BYE", "z9hG4bKb1", {}, tag, 2), kPeer, sip::instant_ms(5000));
    out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 200);
    CHECK(f.el.stats().calls_answered == 1);
    CHECK(f.el.stats().calls_ended == 1);
}

TEST_CASE("element: without echo UAS an INVITE gets 405 with Allow; unknown methods 501",
          "[server][element]") {
    Fixture f;
    f.el.on_bytes(req("INVITE", "z9hG4bKn1"), kPeer, sip::instant_ms(0));
    auto out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 405);
    CHECK(out[0].find("Allow") != nullptr);
    // the INVITE's 405 is kept (its ACK must be absorbed, §17.2.1); the 501 is not (§8.2.7)
    const auto kept = f.el.txn_stats().live + f.el.txn_stats().lingering;
    CHECK(kept == 1);
    f.el.on_bytes(req("FOO", "z9hG4bKn2"), kPeer, sip::instant_ms(0));
    out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 501);
    CHECK(f.el.txn_stats().live + f.el.txn_stats().lingering == kept);
}

TEST_CASE("element: a malformed request gets 400 naming the fault; garbage is dropped",
          "[server][element]") {
    Fixture f;
    std::string bad = req("OPTIONS", "z9hG4bKm1");
    bad.replace(bad.find("CSeq: 1 OPTIONS"), 15, "CSeq: 1 INVITE");
    f.el.on_bytes(bad, kPeer, sip::instant_ms(0));
    auto out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 400);
    CHECK(out[0].reason() == "CSeq Method Does Not Match Request in CSeq");
    f.el.on_bytes("\x01\x02 nothing", kPeer, sip::instant_ms(0));
    CHECK(f.sent().empty());
    CHECK(f.el.stats().malformed_answered == 1);
    CHECK(f.el.stats().malformed_dropped == 1);
}

TEST_CASE("element: REGISTER goes to the registrar: challenged, then bound and listed",
          "[server][element][auth]") {
    FakeAuth auth;
    route::reg::Location loc;
    route::reg::Registrar registrar({}, loc, &auth);
    sw::ElementConfig cfg;
    cfg.unix_offset_s = 1'790'000'000;
    Fixture f(cfg);
    f.el.set_registrar(&registrar);
    const std::string to = "To: <sip:a@192.0.2.1>\r\n";
    auto reg = [&](std::string_view branch, int cseq, std::string_view auth_header) {
        // the To of req() is sip:svc@..., so AOR and credentials user differ: use a's AOR
        std::string r =
            req("REGISTER", branch,
                std::string("Contact: <sip:a@192.0.2.7:5070>\r\n") + std::string(auth_header), {},
                cseq);
        r.replace(r.find("To: <sip:svc@192.0.2.1>"), 23, "To: <sip:a@192.0.2.1>");
        return r;
    };
    f.el.on_bytes(reg("z9hG4bKr1", 1, ""), kPeer, sip::instant_ms(0));
    auto out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 401);
    const sip::HeaderField* www = out[0].find(sip::HeaderId::WWWAuthenticate);
    REQUIRE(www);
    CHECK(out[0].value(*www) == "Digest realm=\"t\", nonce=\"n1\"");
    // RFC 3261 §8.2.7: the challenge was given statelessly; a retransmission of the request
    // is challenged again, with the same To tag
    const std::string challenge_tag(out[0].to().tag);
    REQUIRE_FALSE(challenge_tag.empty());
    f.el.on_bytes(reg("z9hG4bKr1", 1, ""), kPeer, sip::instant_ms(5));
    out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 401);
    CHECK(out[0].to().tag == challenge_tag);
    f.el.on_bytes(reg("z9hG4bKr2", 2, "Authorization: Digest username=\"a\", response=\"old\"\r\n"),
                  kPeer, sip::instant_ms(10));
    out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 401);
    CHECK(out[0].value(*out[0].find(sip::HeaderId::WWWAuthenticate)).find("stale=true") !=
          std::string_view::npos);
    f.el.on_bytes(
        reg("z9hG4bKr3", 3, "Authorization: Digest username=\"a\", response=\"good\"\r\n"), kPeer,
        sip::instant_ms(20));
    out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 200);
    const sip::HeaderField* contact = out[0].find(sip::HeaderId::Contact);
    REQUIRE(contact);
    CHECK(out[0].value(*contact).find("sip:a@192.0.2.7:5070") != std::string_view::npos);
    CHECK(out[0].find("Date") != nullptr);
    CHECK(out[0].find("Server") != nullptr);
    CHECK(loc.lookup("sip:a@192.0.2.1", sip::instant_ms(30)).size() == 1);
    CHECK(f.el.stats().registers == 4);
    // the 200 was given statelessly too (the registrar recognises the retransmission): the
    // retransmission reaches the registrar again and gets the same answer, same To tag
    const std::string ok(out[0].bytes());
    f.el.on_bytes(
        reg("z9hG4bKr3", 3, "Authorization: Digest username=\"a\", response=\"good\"\r\n"), kPeer,
        sip::instant_ms(40));
    out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].bytes() == ok);
    CHECK(f.el.stats().registers == 5);
    CHECK(loc.lookup("sip:a@192.0.2.1", sip::instant_ms(50)).size() == 1);
}

TEST_CASE("element: without a registrar REGISTER gets 405 and Allow omits it",
          "[server][element]") {
    Fixture f;
    f.el.on_bytes(req("REGISTER", "z9hG4bKr9", "Contact: <sip:a@192.0.2.7:5070>\r\n"), kPeer,
                  sip::instant_ms(0));
    auto out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 405);
    const sip::HeaderField* allow = out[0].find("Allow");
    REQUIRE(allow);
    CHECK(out[0].value(*allow).find("REGISTER") == std::string_view::npos);
}

TEST_CASE("element: a client transaction reports its final response, not the provisional",
          "[server][element]") {
    Fixture f;
    const std::string opt =
        "OPTIONS sip:peer@192.0.2.7:5070 SIP/2.0\r\nVia: SIP/2.0/UDP "
        "192.0.2.1:5060;branch=z9hG4bKc1\r\n"
        "From: <sip:ka@192.0.2.1>;tag=k1\r\nTo: <sip:peer@192.0.2.7>\r\nCall-ID: ka-1\r\n"
        "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    auto id = f.el.send_request(opt, kPeer, sip::instant_ms(0));
    REQUIRE(id);
    auto sent = f.sent();
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].method() == sip::Method::Options);
    auto answer = [&](int code) {
        std::string r = "SIP/2.0 " + std::to_string(code) +
                        " X\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKc1\r\n"
                        "From: <sip:ka@192.0.2.1>;tag=k1\r\nTo: <sip:peer@192.0.2.7>;tag=p\r\n"
                        "Call-ID: ka-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
        f.el.on_bytes(r, kPeer, sip::instant_ms(50));
    };
    answer(100);
    CHECK_FALSE(f.el.poll_client_event());
    answer(404);
    auto ev = f.el.poll_client_event();
    REQUIRE(ev);
    CHECK(ev->txn == *id);
    CHECK(ev->kind == sw::ClientEvent::Kind::Response);
    REQUIRE(ev->response);
    CHECK(ev->response->status_code() == 404);
    CHECK_FALSE(f.el.poll_client_event());
}

TEST_CASE("element: a client transaction with no answer reports Timer F", "[server][element]") {
    Fixture f;
    const std::string opt =
        "OPTIONS sip:peer@192.0.2.7:5070 SIP/2.0\r\nVia: SIP/2.0/UDP "
        "192.0.2.1:5060;branch=z9hG4bKc2\r\n"
        "From: <sip:ka@192.0.2.1>;tag=k1\r\nTo: <sip:peer@192.0.2.7>\r\nCall-ID: ka-2\r\n"
        "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    auto id = f.el.send_request(opt, kPeer, sip::instant_ms(0));
    REQUIRE(id);
    f.el.handle_timeouts(sip::instant_ms(32'000));
    auto ev = f.el.poll_client_event();
    REQUIRE(ev);
    CHECK(ev->txn == *id);
    CHECK(ev->kind == sw::ClientEvent::Kind::Timeout);
}

TEST_CASE("element: CANCEL without its INVITE gets 481", "[server][element]") {
    Fixture f;
    f.el.on_bytes(req("CANCEL", "z9hG4bKc1"), kPeer, sip::instant_ms(0));
    auto out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 481);
}

// ---- RFC 3581 §4 / RFC 3261 §18.2.1: the top Via of every response names the source ----

namespace {

// A UA behind a NAT: it wrote its private address in Via; the packet came from the NAT.
const sip::Target kNat{sip::Transport::Udp, "198.51.100.9", 40001, 0, {}};

std::string natted(std::string req_text, std::string_view via_params = ";rport") {
    const std::string from = "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=";
    const std::size_t at = req_text.find(from);
    REQUIRE(at != std::string::npos);
    const std::size_t end = req_text.find("\r\n", at);
    std::string via = req_text.substr(at, end - at);
    via.replace(0, from.size() - std::string("branch=").size(),
                "Via: SIP/2.0/UDP 10.0.0.5:5060;");
    via += std::string(via_params);
    req_text.replace(at, end - at, via);
    return req_text;
}

// Every response the element sent, with where it went and its top Via's stamps.
struct Stamped {
    sip::Target to;
    std::uint16_t status;
    std::string received;
    std::optional<std::uint16_t> rport;
    bool has_rport;
};
std::vector<Stamped> stamped(sw::Element& el) {
    std::vector<Stamped> out;
    while (auto s = el.poll_send()) {
        auto m = sip::Message::parse(*s->bytes);
        REQUIRE(m);
        REQUIRE(m->is_response());
        out.push_back({s->to, m->status_code(), std::string(m->top_via().received),
                       m->top_via().rport, m->top_via().has_rport});
        CHECK(m->top_via().host == "10.0.0.5");  // sent-by stays as the client wrote it
    }
    while (el.poll_log()) {
    }
    return out;
}

void check_nat_stamp(const std::vector<Stamped>& out, std::size_t n) {
    REQUIRE(out.size() == n);
    for (const Stamped& s : out) {
        INFO("status " << s.status);
        CHECK(s.received == "198.51.100.9");
        CHECK(s.rport == std::optional<std::uint16_t>(40001));
        // RFC 3581 §4: the response goes back to the source IP and port
        CHECK(s.to.host == "198.51.100.9");
        CHECK(s.to.port == 40001);
    }
}

}  // namespace

TEST_CASE("element: every response to a bare ;rport carries rport=<source port> and received",
          "[server][element][rport]") {
    sw::ElementConfig cfg;
    cfg.echo_uas = true;
    Fixture f(cfg);
    // OPTIONS 200, retransmitted 200, unknown method 501, CANCEL 481
    f.el.on_bytes(natted(req("OPTIONS", "z9hG4bKn1")), kNat, sip::instant_ms(0));
    check_nat_stamp(stamped(f.el), 1);
    f.el.on_bytes(natted(req("OPTIONS", "z9hG4bKn1")), kNat, sip::instant_ms(100));
    check_nat_stamp(stamped(f.el), 1);
    f.el.on_bytes(natted(req("FOO", "z9hG4bKn2")), kNat, sip::instant_ms(0));
    check_nat_stamp(stamped(f.el), 1);
    f.el.on_bytes(natted(req("CANCEL", "z9hG4bKn3")), kNat, sip::instant_ms(0));
    check_nat_stamp(stamped(f.el), 1);
    // INVITE: 180 and 200, and the 200's retransmissions until the ACK
    f.el.on_bytes(natted(req("INVITE", "z9hG4bKn4")), kNat, sip::instant_ms(0));
    check_nat_stamp(stamped(f.el), 2);
    f.el.handle_timeouts(sip::instant_ms(500));
    check_nat_stamp(stamped(f.el), 1);
    // a malformed request's 400 (the salvage path)
    std::string bad = natted(req("OPTIONS", "z9hG4bKn5"));
    bad.replace(bad.find("CSeq: 1 OPTIONS"), 15, "CSeq: 1 INVITE");
    f.el.on_bytes(bad, kNat, sip::instant_ms(0));
    check_nat_stamp(stamped(f.el), 1);
}

TEST_CASE("element: the registrar's answers carry rport and received too",
          "[server][element][rport]") {
    FakeAuth auth;
    route::reg::Location loc;
    route::reg::Registrar registrar({}, loc, &auth);
    Fixture f;
    f.el.set_registrar(&registrar);
    std::string r = natted(req("REGISTER", "z9hG4bKnr1", "Contact: <sip:a@10.0.0.5:5060>\r\n"));
    r.replace(r.find("To: <sip:svc@192.0.2.1>"), 23, "To: <sip:a@192.0.2.1>");
    f.el.on_bytes(r, kNat, sip::instant_ms(0));
    check_nat_stamp(stamped(f.el), 1);  // 401
    r.replace(r.find("branch=z9hG4bKnr1"), 17, "branch=z9hG4bKnr2");
    r.replace(r.find("CSeq: 1 REGISTER"), 16, "CSeq: 2 REGISTER");
    r.insert(r.find("Content-Length"),
             "Authorization: Digest username=\"a\", response=\"good\"\r\n");
    f.el.on_bytes(r, kNat, sip::instant_ms(10));
    check_nat_stamp(stamped(f.el), 1);  // 200
    auto b = loc.lookup("sip:a@192.0.2.1", sip::instant_ms(20));
    REQUIRE(b.size() == 1);
    CHECK(b[0].source.host == "198.51.100.9");
    CHECK(b[0].source.port == 40001);
}

TEST_CASE("element: without rport, received only when the source differs from sent-by",
          "[server][element][rport]") {
    Fixture f;
    // sent-by is the source: nothing added (RFC 3261 §18.2.1)
    f.el.on_bytes(req("OPTIONS", "z9hG4bKq1"), kPeer, sip::instant_ms(0));
    auto out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].top_via().received.empty());
    CHECK_FALSE(out[0].top_via().has_rport);
    // sent-by differs: received, and the response goes to sent-by's port (§18.2.2), no rport
    f.el.on_bytes(natted(req("OPTIONS", "z9hG4bKq2"), ""), kNat, sip::instant_ms(0));
    auto s = stamped(f.el);
    REQUIRE(s.size() == 1);
    CHECK(s[0].received == "198.51.100.9");
    CHECK_FALSE(s[0].has_rport);
    CHECK(s[0].to.port == 5060);
}

TEST_CASE("element: an IPv6 source is stamped without brackets (RFC 3261 via-received)",
          "[server][element][rport][ipv6]") {
    Fixture f;
    const sip::Target v6{sip::Transport::Udp, "2001:db8::7", 5070, 0, {}};
    std::string r = req("OPTIONS", "z9hG4bK6a");
    r.replace(r.find("192.0.2.7:5070;branch"), 14, "[2001:db8::7]:5070");
    f.el.on_bytes(r, v6, sip::instant_ms(0));
    auto m = sip::Message::parse(*f.el.poll_send()->bytes);
    REQUIRE(m);
    CHECK(m->top_via().host == "[2001:db8::7]");
    CHECK(m->top_via().received.empty());  // the same address
    r.replace(r.find("branch=z9hG4bK6a"), 16, "branch=z9hG4bK6b;rport");
    f.el.on_bytes(r, v6, sip::instant_ms(0));
    auto s = f.el.poll_send();
    REQUIRE(s);
    m = sip::Message::parse(*s->bytes);
    REQUIRE(m);
    CHECK(m->top_via().received == "2001:db8::7");
    CHECK(m->top_via().rport == std::optional<std::uint16_t>(5070));
    CHECK(std::string_view(*s->bytes).find(";rport=5070;received=2001:db8::7") !=
          std::string_view::npos);
}

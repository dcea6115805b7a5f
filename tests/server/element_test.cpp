// sw::Element on fake time: what trunkline answers, and when it retransmits its 2xx.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sip/message.hpp"
#include "sw/element.hpp"

using namespace std::chrono_literals;

namespace {

const sip::Target kPeer{sip::Transport::Udp, "192.0.2.7", 5070, 0, {}};

std::string req(std::string_view method, std::string_view branch, std::string_view extra = {},
                std::string_view to_tag = {}, int cseq = 1, std::string_view call_id = "call-1") {
    std::string r = std::string(method) + " sip:svc@192.0.2.1 SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=" + std::string(branch) + "\r\n"
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

class FakeAuth : public sw::Authenticator {
public:
    std::vector<std::string> challenge(sip::Instant, bool stale) override {
        return {stale ? "Digest realm=\"t\", nonce=\"n2\", stale=true" : "Digest realm=\"t\", nonce=\"n1\""};
    }
    Verdict verify(std::string_view authorization, std::string_view method, sip::Instant) override {
        CHECK(method == "REGISTER");
        if (authorization.find("response=\"good\"") != std::string_view::npos) return Verdict::Ok;
        if (authorization.find("response=\"old\"") != std::string_view::npos) return Verdict::Stale;
        return Verdict::Rejected;
    }
};

}  // namespace

TEST_CASE("element: OPTIONS is answered 200 once; its retransmission gets the same 200",
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
    f.el.on_bytes(req("OPTIONS", "z9hG4bKo1"), kPeer, sip::instant_ms(500));
    auto again = f.sent();
    REQUIRE(again.size() == 1);
    CHECK(again[0].bytes() == out[0].bytes());
    CHECK(f.el.stats().requests == 2);
    CHECK(f.el.txn_stats().server_started == 1);
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
        for (auto& m : f.sent()) FAIL("sent " << m.status_code() << " after the ACK");
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
    f.el.on_bytes(req("FOO", "z9hG4bKn2"), kPeer, sip::instant_ms(0));
    out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 501);
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

TEST_CASE("element: REGISTER is challenged and accepted with good credentials",
          "[server][element][auth]") {
    FakeAuth auth;
    sw::ElementConfig cfg;
    cfg.auth = &auth;
    Fixture f(cfg);
    f.el.on_bytes(req("REGISTER", "z9hG4bKr1", "Contact: <sip:a@192.0.2.7:5070>\r\n"), kPeer,
                  sip::instant_ms(0));
    auto out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 401);
    const sip::HeaderField* www = out[0].find(sip::HeaderId::WWWAuthenticate);
    REQUIRE(www);
    CHECK(out[0].value(*www) == "Digest realm=\"t\", nonce=\"n1\"");
    f.el.on_bytes(req("REGISTER", "z9hG4bKr2",
                      "Contact: <sip:a@192.0.2.7:5070>\r\nAuthorization: Digest response=\"old\"\r\n",
                      {}, 2),
                  kPeer, sip::instant_ms(10));
    out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 401);
    CHECK(out[0].value(*out[0].find(sip::HeaderId::WWWAuthenticate)).find("stale=true") !=
          std::string_view::npos);
    f.el.on_bytes(req("REGISTER", "z9hG4bKr3",
                      "Contact: <sip:a@192.0.2.7:5070>\r\nAuthorization: Digest response=\"good\"\r\n",
                      {}, 3),
                  kPeer, sip::instant_ms(20));
    out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 200);
    CHECK(out[0].find(sip::HeaderId::Contact) != nullptr);
    CHECK(f.el.stats().challenges == 2);
    CHECK(f.el.stats().auth_ok == 1);
    CHECK(f.el.stats().auth_failed == 1);
}

TEST_CASE("element: CANCEL without its INVITE gets 481", "[server][element]") {
    Fixture f;
    f.el.on_bytes(req("CANCEL", "z9hG4bKc1"), kPeer, sip::instant_ms(0));
    auto out = f.sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].status_code() == 481);
}

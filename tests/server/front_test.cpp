// sw::Front: a UDP reader thread answers OPTIONS with the element's very bytes and hands the
// rest to the switch, in order, parsed once.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sip/message.hpp"
#include "sw/element.hpp"
#include "sw/front.hpp"

namespace {

const sip::Target kPeer{sip::Transport::Udp, "192.0.2.7", 5070, 0, {}};

std::string req(std::string_view method, std::string_view branch,
                std::string_view ruri = "sip:svc@192.0.2.1", std::string_view via_params = "") {
    return std::string(method) + " " + std::string(ruri) +
           " SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 192.0.2.7:5070;branch=" +
           std::string(branch) + std::string(via_params) +
           "\r\n"
           "From: <sip:a@192.0.2.7>;tag=fa\r\nTo: <sip:svc@192.0.2.1>\r\n"
           "Call-ID: front-1\r\nCSeq: 7 " +
           std::string(method) + "\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
}

// The element's own answer to `bytes`, as the switch's loop would send it.
sip::txn::SendBytes element_answer(std::string_view bytes, const sip::Target& from) {
    sip::SeededRandom rng{1};
    sw::Element el({}, rng);
    el.on_bytes(bytes, from, sip::Instant{});
    auto s = el.poll_send();
    REQUIRE(s);
    CHECK_FALSE(el.poll_send());
    return std::move(*s);
}

sw::Front make_front() {
    sip::SeededRandom rng{1};
    sw::Element el({}, rng);  // its Allow list, as the wiring takes it
    return sw::Front({.server_header = "Trunkline", .allow = std::string(el.allow())});
}

}  // namespace

TEST_CASE("front: an OPTIONS gets the element's bytes, to the same place", "[front]") {
    sw::Front front = make_front();
    for (std::string_view via : {"", ";rport"}) {
        const std::string options = req("OPTIONS", "z9hG4bK-o1", "sip:svc@192.0.2.1", via);
        std::vector<sw::Received> for_switch;
        auto a = front.on_datagram(options, kPeer, for_switch);
        REQUIRE(a);
        CHECK(for_switch.empty());
        const sip::txn::SendBytes e = element_answer(options, kPeer);
        CHECK(*a->bytes == *e.bytes);
        CHECK(a->to.host == e.to.host);
        CHECK(a->to.port == e.to.port);
        CHECK(a->txn == 0);
        // a retransmission: the same bytes again (a stateless UAS, RFC 3261 §8.2.7)
        auto again = front.on_datagram(options, kPeer, for_switch);
        REQUIRE(again);
        CHECK(*again->bytes == *a->bytes);
    }
    const sw::AnsweredElsewhere n = front.take_answered();
    CHECK(n.options == 4);
    CHECK(front.take_answered().options == 0);
}

TEST_CASE("front: everything else goes to the switch, parsed, in arrival order", "[front]") {
    sw::Front front = make_front();
    std::vector<sw::Received> for_switch;
    const std::string reg = req("REGISTER", "z9hG4bK-r1");
    const std::string invite = req("INVITE", "z9hG4bK-i1");
    const std::string garbage = "NOT SIP AT ALL\r\n\r\n";
    const std::string mailto = req("OPTIONS", "z9hG4bK-o2", "mailto:a@example.com");
    for (const std::string* d : {&reg, &invite, &garbage, &mailto})
        CHECK_FALSE(front.on_datagram(*d, kPeer, for_switch));
    REQUIRE(for_switch.size() == 4);
    REQUIRE(for_switch[0].msg);
    CHECK(for_switch[0].msg->method() == sip::Method::Register);
    CHECK(for_switch[0].source.port == 5070);
    REQUIRE(for_switch[1].msg);
    CHECK(for_switch[1].msg->method() == sip::Method::Invite);
    CHECK_FALSE(for_switch[2].msg);  // the element answers the fault (or drops it)
    CHECK(for_switch[2].raw == garbage);
    REQUIRE(for_switch[3].msg);  // a URI the element answers 416: its answer, not ours
    CHECK(for_switch[3].msg->ruri().scheme == sip::Uri::Scheme::Other);
    CHECK(front.take_answered().options == 0);
}

TEST_CASE("front: with answer_options off every OPTIONS goes to the switch", "[front]") {
    sw::Front front = make_front();
    front.set_answer_options(false);  // HEP capture, a trace or debug logs must see it
    std::vector<sw::Received> for_switch;
    CHECK_FALSE(front.on_datagram(req("OPTIONS", "z9hG4bK-o3"), kPeer, for_switch));
    REQUIRE(for_switch.size() == 1);
    CHECK(for_switch[0].msg->method() == sip::Method::Options);
}

TEST_CASE("element: what a reader handed over is answered as if it had come in itself",
          "[front]") {
    sip::SeededRandom rng{1};
    sw::Element el({}, rng);
    sw::Front front = make_front();
    front.set_answer_options(false);
    std::vector<sw::Received> for_switch;
    const std::string options = req("OPTIONS", "z9hG4bK-o4");
    const std::string garbage = "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5070;"
                                "branch=z9hG4bK-g\r\nCSeq: 1 OPTIONS\r\n\r\n";
    front.on_datagram(options, kPeer, for_switch);
    front.on_datagram(garbage, kPeer, for_switch);
    REQUIRE(for_switch.size() == 2);
    for (sw::Received& r : for_switch) el.on_received(std::move(r), sip::Instant{});
    auto ok = el.poll_send();
    REQUIRE(ok);
    CHECK(*ok->bytes == *element_answer(options, kPeer).bytes);
    auto bad = el.poll_send();
    REQUIRE(bad);
    CHECK(bad->bytes->rfind("SIP/2.0 400 ", 0) == 0);
    CHECK(el.stats().requests == 1);
    CHECK(el.stats().malformed_answered == 1);

    el.count_answered_elsewhere({.options = 5});
    CHECK(el.stats().requests == 6);
    CHECK(el.stats().received.requests[static_cast<std::size_t>(sip::Method::Options)] == 6);
    CHECK(el.stats().sent.responses[2] == 6);
}

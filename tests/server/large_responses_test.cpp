// sw::Element answering a request whose response does not fit a UDP datagram (issue 16
// point 7): over TCP to the client's sent-by, or 513 when that fails (RFC 3261 §18.2.2).
#include <catch2/catch.hpp>

#include <string>

#include "sip/message.hpp"
#include "sw/element.hpp"

namespace {

// ~65,400 bytes: 235 Via fields under the client's own (within the default 256 headers).
std::string big_options(std::string_view top_via) {
    std::string vias;
    for (int i = 0; vias.size() + 600 < 65400; ++i)
        vias += "Via: SIP/2.0/UDP 198.51.100." + std::to_string(i % 250 + 1) +
                ":5060;branch=z9hG4bK-hop" + std::to_string(i) + "-" + std::string(220, 'x') +
                "\r\n";
    // the To display name pads the request (copied into the answer) to just under 65,507
    std::string r =
        "OPTIONS sip:svc@192.0.2.1 SIP/2.0\r\nVia: " + std::string(top_via) + "\r\n" + vias +
        "From: <sip:a@192.0.2.7>;tag=fa\r\nTo: \"PAD\" <sip:svc@192.0.2.1>\r\n" +
        "Call-ID: big-1\r\nCSeq: 7 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    const std::size_t want = 65480;
    if (r.size() < want) r.replace(r.find("PAD"), 3, std::string(want - r.size() + 3, 'p'));
    return r;
}

const sip::Target kSource{sip::Transport::Udp, "192.0.2.7", 40001, 0, {}};

}  // namespace

TEST_CASE("element: a response too large for UDP goes over TCP to the sent-by, else 513",
          "[server][element][large]") {
    sip::SeededRandom rng{5};
    sw::Element el({}, rng);
    const std::string req = big_options("SIP/2.0/UDP 192.0.2.7:5070;rport;branch=z9hG4bKbig");
    REQUIRE(req.size() <= 65507);
    el.on_bytes(req, kSource, sip::instant_ms(0));
    auto s = el.poll_send();
    REQUIRE(s);
    CHECK_FALSE(el.poll_send());
    REQUIRE(s->bytes->size() > 65507);
    CHECK(s->bytes->rfind("SIP/2.0 200 OK\r\n", 0) == 0);
    CHECK(s->to.transport == sip::Transport::Tcp);
    CHECK(s->to.host == "192.0.2.7");
    CHECK(s->to.port == 5070);  // the sent-by port, not the rport source port
    bool logged = false;
    while (auto l = el.poll_log())
        logged |= l->find("too large for UDP") != std::string::npos;
    CHECK(logged);

    // nobody listens there: the transport reports the tag, and a 513 goes back over UDP
    el.on_transport_error(s->txn, sip::instant_ms(50));
    auto f = el.poll_send();
    REQUIRE(f);
    CHECK(f->to.transport == sip::Transport::Udp);
    CHECK(f->to.host == "192.0.2.7");
    CHECK(f->to.port == 40001);  // where the 200 would have gone (rport)
    CHECK(f->bytes->size() <= 65507);
    sip::ParseLimits l;
    l.max_headers = 1000;
    auto m = sip::Message::parse(*f->bytes, l, sip::Framing::Datagram);
    REQUIRE(m);
    CHECK(m->status_code() == 513);
    CHECK(m->call_id() == "big-1");
    CHECK(m->top_via().branch == "z9hG4bKbig");
    CHECK_FALSE(el.poll_send());
    // the request's retransmission: the transaction answers again the same way
    el.on_bytes(req, kSource, sip::instant_ms(500));
    auto again = el.poll_send();
    REQUIRE(again);
    CHECK(again->to.transport == sip::Transport::Tcp);
}

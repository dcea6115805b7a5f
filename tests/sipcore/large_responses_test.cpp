// sip::txn::LargeResponses (libsipcore/src/txn/large_responses.cpp): a response too large for
// a UDP datagram goes over TCP to the client's sent-by, or becomes a 513 (RFC 3261 §18.2.2).
#include <catch2/catch.hpp>

#include <string>

#include "sip/builder.hpp"
#include "sip/message.hpp"
#include "sip/txn/large_responses.hpp"

using sip::Target;
using sip::Transport;
using sip::txn::LargeResponses;
using sip::txn::SendBytes;

namespace {

// A request of about `size` bytes with ~240 Via fields under the client's own.
std::string big_request(std::size_t size, std::string_view top_via) {
    std::string vias;
    for (int i = 0; vias.size() + 600 < size; ++i)
        vias += "Via: SIP/2.0/UDP 198.51.100." + std::to_string(i % 250 + 1) +
                ":5060;branch=z9hG4bK-hop" + std::to_string(i) + "-" + std::string(220, 'x') +
                "\r\n";
    return "OPTIONS sip:svc@192.0.2.1 SIP/2.0\r\nVia: " + std::string(top_via) + "\r\n" + vias +
           "From: <sip:a@192.0.2.7>;tag=fa\r\nTo: <sip:svc@192.0.2.1>\r\n"
           "Call-ID: big-1\r\nCSeq: 7 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
}

sip::Bytes answer(const std::string& request, std::size_t pad = 0) {
    sip::ParseLimits l;
    l.max_headers = 1000;
    l.max_message = 1 << 20;
    auto m = sip::Message::parse(request, l, sip::Framing::Datagram);
    REQUIRE(m);
    const std::string big(pad, 'y');
    sip::ResponseSpec spec;
    spec.status = 200;
    spec.to_tag = "tt1";
    spec.extra = {{"Server", "Trunkline"}, {"X-Pad", big}};
    return sip::make_bytes(sip::build_response(*m, spec));
}

const Target kUdp{Transport::Udp, "192.0.2.7", 5070, 0, {}};

}  // namespace

TEST_CASE("large responses: what fits a datagram is sent as it is", "[sipcore][txn][large]") {
    LargeResponses lr;
    const sip::Bytes small =
        answer(big_request(2000, "SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK1"));
    SendBytes s = lr.route({5, kUdp, small});
    CHECK(s.txn == 5);
    CHECK(s.to == kUdp);
    CHECK(s.bytes == small);  // the same shared bytes, no copy
    // over TCP any size goes on its connection
    const sip::Bytes big =
        answer(big_request(65400, "SIP/2.0/TCP 192.0.2.7:5070;branch=z9hG4bK2"), 500);
    REQUIRE(big->size() > 65507);
    const Target tcp{Transport::Tcp, "192.0.2.7", 40000, 12, {}};
    s = lr.route({6, tcp, big});
    CHECK(s.to == tcp);
    CHECK(s.txn == 6);
    CHECK(lr.stats().over_tcp == 0);
    CHECK_FALSE(lr.poll_log());
}

TEST_CASE("large responses: too large for UDP goes over TCP to the sent-by; failing that, 513",
          "[sipcore][txn][large]") {
    LargeResponses lr;
    const std::string request =
        big_request(65400, "SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK3;received=192.0.2.7");
    const sip::Bytes big = answer(request, 800);
    REQUIRE(big->size() > 65507);
    Target udp = kUdp;
    udp.port = 40001;  // rport: the source port, not the sent-by one
    SendBytes s = lr.route({9, udp, big});
    CHECK(LargeResponses::owns(s.txn));
    CHECK_FALSE(LargeResponses::owns(9));
    CHECK(s.to.transport == Transport::Tcp);
    CHECK(s.to.host == "192.0.2.7");
    CHECK(s.to.port == 5070);  // §18.2.2: the port of the sent-by
    CHECK(s.to.conn == 0);
    CHECK(s.bytes == big);
    CHECK(lr.stats().over_tcp == 1);
    auto line = lr.poll_log();
    REQUIRE(line);
    CHECK(line->find("too large for UDP") != std::string::npos);
    CHECK(line->find("TCP 192.0.2.7:5070") != std::string::npos);

    auto f = lr.on_send_failed(s.txn);
    REQUIRE(f);
    CHECK(f->to == udp);
    CHECK(f->txn == 0);
    CHECK(f->bytes->size() <= 65507);
    sip::ParseLimits l;
    l.max_headers = 1000;
    auto m = sip::Message::parse(*f->bytes, l, sip::Framing::Datagram);
    REQUIRE(m);
    CHECK(m->status_code() == 513);
    CHECK(m->reason() == "Message Too Large");
    CHECK(m->call_id() == "big-1");
    CHECK(m->cseq().number == 7);
    CHECK(m->to().tag == "tt1");
    CHECK(m->top_via().branch == "z9hG4bK3");
    CHECK(m->find("Server") == nullptr);  // nothing but what identifies the transaction
    std::size_t vias = 0;
    for (const auto& h : m->headers())
        vias += h.id == sip::HeaderId::Via;
    CHECK(vias > 200);
    CHECK_FALSE(lr.on_send_failed(s.txn));  // once
    CHECK_FALSE(lr.on_send_failed(12345));  // not ours
    CHECK(lr.stats().answered_513 == 1);
}

TEST_CASE("large responses: no sent-by port means 5060; maddr means 513 at once",
          "[sipcore][txn][large]") {
    LargeResponses lr;
    SendBytes s = lr.route(
        {1, kUdp, answer(big_request(65400, "SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK4"), 800)});
    CHECK(s.to.transport == Transport::Tcp);
    CHECK(s.to.port == 5060);
    const sip::Bytes mc = answer(
        big_request(65400, "SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK5;maddr=239.255.255.1"), 800);
    Target to = kUdp;
    to.host = "239.255.255.1";
    s = lr.route({2, to, mc});
    CHECK(s.to == to);
    CHECK(s.bytes->rfind("SIP/2.0 513 Message Too Large\r\n", 0) == 0);
    CHECK(lr.stats().answered_513 == 1);
}

TEST_CASE("large responses: what cannot be helped is passed on and counted",
          "[sipcore][txn][large]") {
    LargeResponses lr;
    // a request (a TU that kept UDP for a huge one): not ours to change
    const sip::Bytes req =
        sip::make_bytes(big_request(66000, "SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK6"));
    SendBytes s = lr.route({3, kUdp, req});
    CHECK(s.to == kUdp);
    CHECK(s.bytes == req);
    // a response whose 513 would be too large as well: over TCP, but nothing kept for failure
    const sip::Bytes huge =
        answer(big_request(80000, "SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK7"));
    s = lr.route({4, kUdp, huge});
    CHECK(s.to.transport == Transport::Tcp);
    CHECK_FALSE(lr.on_send_failed(s.txn));
    CHECK(lr.stats().unsendable == 1);
}

TEST_CASE("large responses: the 513s kept for failures are bounded, oldest forgotten first",
          "[sipcore][txn][large]") {
    LargeResponses lr({.max_datagram = 1000, .max_pending = 2});
    // over 1,000 bytes through its padding; its 513 (no padding) fits
    const sip::Bytes c =
        answer(big_request(700, "SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK9"), 600);
    REQUIRE(c->size() > 1000);
    std::uint64_t tags[3];
    for (auto& t : tags)
        t = lr.route({0, kUdp, c}).txn;
    CHECK(tags[0] != tags[1]);
    CHECK_FALSE(lr.on_send_failed(tags[0]));
    CHECK(lr.on_send_failed(tags[2]));
    CHECK(lr.on_send_failed(tags[1]));
}

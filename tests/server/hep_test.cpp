// HEPv3 encoding (issue 11 item 5): every packet decoded back chunk by chunk.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sw/hep.hpp"

namespace {

const std::string kInvite =
    "INVITE sip:4420@198.51.100.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-1\r\n"
    "From: <sip:1001@192.0.2.7>;tag=a\r\nTo: <sip:4420@198.51.100.1>\r\n"
    "Call-ID: abc-123@192.0.2.7\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";

std::uint32_t be(std::string_view b) {
    std::uint32_t v = 0;
    for (unsigned char c : b)
        v = (v << 8) | c;
    return v;
}

// The decoder a collector runs: header, then type id -> value; fails the test on any
// malformed length.
struct Decoded {
    std::uint16_t total = 0;
    std::map<std::uint16_t, std::string> chunks;
    std::vector<std::uint16_t> order;
};

Decoded decode(const std::string& pkt) {
    Decoded d;
    REQUIRE(pkt.size() >= 6);
    REQUIRE(pkt.substr(0, 4) == "HEP3");
    d.total = static_cast<std::uint16_t>(be(pkt.substr(4, 2)));
    std::size_t at = 6;
    while (at < pkt.size()) {
        REQUIRE(at + 6 <= pkt.size());
        CHECK(be(pkt.substr(at, 2)) == 0);  // vendor: generic
        const auto type = static_cast<std::uint16_t>(be(pkt.substr(at + 2, 2)));
        const std::size_t len = be(pkt.substr(at + 4, 2));
        REQUIRE(len >= 6);
        REQUIRE(at + len <= pkt.size());
        d.chunks[type] = pkt.substr(at + 6, len - 6);
        d.order.push_back(type);
        at += len;
    }
    return d;
}

sw::hep::Packet packet(std::string_view src, std::string_view dst) {
    return {.transport = sip::Transport::Udp,
            .src = {src, 5060},
            .dst = {dst, 5080},
            .ts_sec = 1733400000,
            .ts_usec = 250001,
            .capture_id = 2001,
            .auth_key = "",
            .correlation_id = sw::hep::call_id_of(kInvite),
            .payload = kInvite};
}

}  // namespace

TEST_CASE("hep: an IPv4 UDP message decodes back field by field", "[server][hep]") {
    auto bytes = sw::hep::encode(packet("192.0.2.7", "198.51.100.1"));
    REQUIRE(bytes);
    Decoded d = decode(*bytes);
    CHECK(d.total == bytes->size());
    CHECK(d.chunks[0x0001] == std::string(1, '\x02'));  // AF_INET
    CHECK(d.chunks[0x0002] == std::string(1, '\x11'));  // UDP
    CHECK(d.chunks[0x0003] == std::string("\xc0\x00\x02\x07", 4));
    CHECK(d.chunks[0x0004] == std::string("\xc6\x33\x64\x01", 4));
    CHECK(be(d.chunks[0x0007]) == 5060);
    CHECK(be(d.chunks[0x0008]) == 5080);
    CHECK(d.chunks[0x0007].size() == 2);
    CHECK(be(d.chunks[0x0009]) == 1733400000u);
    CHECK(be(d.chunks[0x000a]) == 250001u);
    CHECK(d.chunks[0x000a].size() == 4);
    CHECK(d.chunks[0x000b] == std::string(1, '\x01'));  // SIP
    CHECK(be(d.chunks[0x000c]) == 2001u);
    CHECK(d.chunks[0x000c].size() == 4);
    CHECK(d.chunks[0x000f] == kInvite);
    CHECK(d.chunks[0x0011] == "abc-123@192.0.2.7");
    CHECK(d.chunks.count(0x000e) == 0);  // no password, no auth-key chunk
    CHECK(d.chunks.count(0x0005) == 0);
    CHECK(d.order.front() == 0x0001);
}

TEST_CASE("hep: an IPv6 TCP message carries the 16-octet addresses and protocol 6",
          "[server][hep]") {
    sw::hep::Packet p = packet("2001:db8::7", "::1");
    p.transport = sip::Transport::Tcp;
    auto bytes = sw::hep::encode(p);
    REQUIRE(bytes);
    Decoded d = decode(*bytes);
    CHECK(d.total == bytes->size());
    CHECK(d.chunks[0x0001] == std::string(1, '\x0a'));  // AF_INET6
    CHECK(d.chunks[0x0002] == std::string(1, '\x06'));  // TCP
    CHECK(d.chunks[0x0005] == std::string("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07", 16));
    CHECK(d.chunks[0x0006] == std::string("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16));
    CHECK(d.chunks.count(0x0003) == 0);
    CHECK(d.chunks.count(0x0004) == 0);
    CHECK(d.chunks[0x000f] == kInvite);
}

TEST_CASE("hep: TLS is sent as TCP; the capture id and password are carried", "[server][hep]") {
    sw::hep::Packet p = packet("192.0.2.7", "198.51.100.1");
    p.transport = sip::Transport::Tls;
    p.capture_id = 0x01020304;
    p.auth_key = "s3cret";
    auto bytes = sw::hep::encode(p);
    REQUIRE(bytes);
    Decoded d = decode(*bytes);
    CHECK(d.chunks[0x0002] == std::string(1, '\x06'));
    CHECK(d.chunks[0x000c] == std::string("\x01\x02\x03\x04", 4));
    CHECK(d.chunks[0x000e] == "s3cret");
}

TEST_CASE("hep: bad addresses and oversized messages are refused with a reason", "[server][hep]") {
    std::string why;
    CHECK_FALSE(sw::hep::encode(packet("gw.example.com", "198.51.100.1"), &why));
    CHECK(why == "an address is not an IP literal");
    CHECK_FALSE(sw::hep::encode(packet("192.0.2.7", "::1"), &why));
    CHECK(why == "source and destination are of different families");
    CHECK_FALSE(sw::hep::encode(packet("[::1]", "::1"), &why));  // brackets are not a literal
    const std::string big(70000, 'x');
    sw::hep::Packet p = packet("192.0.2.7", "198.51.100.1");
    p.payload = big;
    CHECK_FALSE(sw::hep::encode(p, &why));
    CHECK(why.find("65,535") != std::string::npos);
    // the largest payload that fits makes a packet of exactly 65,535 octets
    auto small = sw::hep::encode(packet("192.0.2.7", "198.51.100.1"));
    REQUIRE(small);
    const std::size_t room = 0xffff - (small->size() - kInvite.size());
    const std::string fits(room, 'y');
    p.payload = fits;
    auto max = sw::hep::encode(p);
    REQUIRE(max);
    CHECK(max->size() == 0xffff);
    CHECK(decode(*max).chunks[0x000f] == fits);
}

TEST_CASE("hep: call_id_of finds the Call-ID in any case or compact form, never the body",
          "[server][hep]") {
    CHECK(sw::hep::call_id_of(kInvite) == "abc-123@192.0.2.7");
    CHECK(sw::hep::call_id_of("SIP/2.0 200 OK\r\ncall-id:  x1 \r\n\r\n") == "x1");
    CHECK(sw::hep::call_id_of("OPTIONS sip:a SIP/2.0\r\ni: short\r\n\r\n") == "short");
    CHECK(sw::hep::call_id_of("OPTIONS sip:a SIP/2.0\nCALL-ID\t: lf-only\n\n") == "lf-only");
    CHECK(sw::hep::call_id_of("OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\nCall-ID: body\r\n").empty());
    CHECK(sw::hep::call_id_of("OPTIONS sip:a SIP/2.0\r\nSubject: a\r\n Call-ID: folded\r\n\r\n")
              .empty());
    CHECK(sw::hep::call_id_of("").empty());
    // a packet without a Call-ID has no correlation chunk
    sw::hep::Packet p = packet("192.0.2.7", "198.51.100.1");
    p.correlation_id = "";
    auto bytes = sw::hep::encode(p);
    REQUIRE(bytes);
    CHECK(decode(*bytes).chunks.count(0x0011) == 0);
}

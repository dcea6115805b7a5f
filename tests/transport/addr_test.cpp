// The socket-address helpers every datagram goes through (private to sipcore_uv).
#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <string>

#include "addr.hpp"

namespace {

std::string name_of(const char* ip, std::uint16_t port, std::uint16_t* port_out) {
    sockaddr_storage sa{};
    REQUIRE(sip::uv::detail::make_sockaddr(ip, port, sa));
    std::string host = "stale";
    sip::uv::detail::sockaddr_parts(reinterpret_cast<const sockaddr*>(&sa), host, *port_out);
    return host;
}

}  // namespace

TEST_CASE("addr: sockaddr_parts gives back the literal, every octet width", "[transport][addr]") {
    std::uint16_t port = 0;
    for (const char* ip : {"0.0.0.0", "127.0.0.1", "10.20.30.40", "192.168.100.255",
                           "255.255.255.255", "1.10.100.9", "203.0.113.7"}) {
        CHECK(name_of(ip, 5060, &port) == ip);
        CHECK(port == 5060);
    }
    CHECK(name_of("::1", 65535, &port) == "::1");
    CHECK(port == 65535);
    CHECK(name_of("2001:db8::c000:201", 1, &port) == "2001:db8::c000:201");
    CHECK(port == 1);
}

TEST_CASE("addr: the source a peer counts as for per-source limits", "[transport][addr]") {
    using sip::uv::detail::source_key;
    std::string k;
    CHECK(source_key("192.0.2.7", k));
    CHECK(k == "192.0.2.7");
    CHECK(source_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", k));
    CHECK(k == "2001:db8:1:2::/64");
    CHECK(source_key("2001:db8:1:2::/64", k));
    CHECK(k == "2001:db8:1:2::/64");
    CHECK(source_key("::ffff:192.0.2.9", k));
    CHECK(k == "192.0.2.9");
    CHECK(source_key("::1", k));
    CHECK(k == "::/64");
    CHECK_FALSE(source_key("192.0.2.7/64", k));
    CHECK_FALSE(source_key("gw.example.com", k));
    CHECK_FALSE(source_key("", k));
    sockaddr_storage sa{};
    REQUIRE(sip::uv::detail::make_sockaddr("2001:db8:1:2::5", 5060, sa));
    CHECK(source_key(reinterpret_cast<const sockaddr*>(&sa)) == "2001:db8:1:2::/64");
}

TEST_CASE("addr: make_sockaddr accepts exactly what inet_pton accepts for IPv4",
          "[transport][addr]") {
    // The dotted-quad fast path must not widen or narrow what an address may be.
    for (const char* text :
         {"127.0.0.1", "0.0.0.0", "255.255.255.255", "1.2.3.4", "256.1.1.1", "1.2.3", "1.2.3.4.5",
          "01.2.3.4", "1.2.3.04", "1..3.4", ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4a",
          "1234.1.1.1", "1.2.3.-4", "a.b.c.d", "0x7f.0.0.1", "1.2.3.4:5060", "10.0.0.255",
          "99.199.249.250", "300.0.0.1", "1.2.3.999"}) {
        in_addr want{};
        const bool ok = inet_pton(AF_INET, text, &want) == 1;
        sockaddr_storage sa{};
        INFO(text);
        REQUIRE(sip::uv::detail::make_sockaddr(text, 5060, sa) == ok);
        if (!ok) continue;
        const auto* s4 = reinterpret_cast<const sockaddr_in*>(&sa);
        CHECK(s4->sin_family == AF_INET);
        CHECK(s4->sin_addr.s_addr == want.s_addr);
        CHECK(ntohs(s4->sin_port) == 5060);
    }
}

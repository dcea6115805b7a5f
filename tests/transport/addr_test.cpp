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

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

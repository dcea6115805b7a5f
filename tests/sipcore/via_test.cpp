// sip::next_via (libsipcore/src/ragel/via.rl): RFC 3261 §20.42, RFC 3581 rport.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "guarded.hpp"
#include "sip/headers.hpp"
#include "test_macros.hpp"

using sip::Errc;

namespace {

sip::Result<sip::Via> one(std::string_view text) {
    auto r = sip::next_via(text);
    if (r) CHECK(text.empty());
    return r;
}

}  // namespace

TEST_CASE("via: every field of one via-parm", "[sipcore][via]") {
    const std::string_view text =
        "SIP/2.0/UDP pc33.atlanta.example.com:5066;branch=z9hG4bK776asdhds;received=192.0.2.1;"
        "rport=5067;maddr=224.2.0.1;ttl=16;x-ext";
    auto v = one(text);
    REQUIRE(v);
    CHECK(v->protocol == "SIP");
    CHECK(v->version == "2.0");
    CHECK(v->transport == "UDP");
    CHECK(v->host == "pc33.atlanta.example.com");
    CHECK(v->has_port);
    CHECK(v->port == 5066);
    CHECK_FALSE(v->ipv6);
    CHECK(v->branch == "z9hG4bK776asdhds");
    CHECK(v->received == "192.0.2.1");
    CHECK(v->has_rport);
    CHECK(v->rport == 5067);
    CHECK(v->maddr == "224.2.0.1");
    CHECK(v->ttl == 16);
    CHECK(v->params == ";branch=z9hG4bK776asdhds;received=192.0.2.1;rport=5067;maddr=224.2.0.1;ttl=16;x-ext");
    REQUIRE(v->param("x-ext").has_value());
    CHECK(v->param("x-ext")->empty());
    CHECK(v->branch.data() == text.data() + 49);
}

TEST_CASE("via: RFC 2543 peer without branch, no port, no params", "[sipcore][via]") {
    auto v = one("SIP/2.0/UDP iftgw.example.com");
    REQUIRE(v);
    CHECK(v->branch.empty());
    CHECK_FALSE(v->has_port);
    CHECK(v->port == 0);
    CHECK(v->params.empty());
    CHECK_FALSE(v->has_rport);
    CHECK_FALSE(v->ttl.has_value());
}

TEST_CASE("via: rport flag without value (RFC 3581)", "[sipcore][via]") {
    auto v = one("SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bKx");
    REQUIRE(v);
    CHECK(v->has_rport);
    CHECK_FALSE(v->rport.has_value());
    CHECK(v->branch == "z9hG4bKx");
}

TEST_CASE("via: IPv6 sent-by and received", "[sipcore][via]") {
    auto v = one("SIP/2.0/TLS [2001:db8::9]:5071;received=2001:db8::1;branch=z9hG4bK6");
    REQUIRE(v);
    CHECK(v->transport == "TLS");
    CHECK(v->host == "[2001:db8::9]");
    CHECK(v->ipv6);
    CHECK(v->port == 5071);
    CHECK(v->received == "2001:db8::1");
    auto w = one("SIP/2.0/UDP [::1];branch=z9hG4bK7");
    REQUIRE(w);
    CHECK(w->host == "[::1]");
    CHECK_FALSE(w->has_port);
}

TEST_CASE("via: LWS and folding around separators", "[sipcore][via]") {
    auto v = one("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2 : 5060 ;branch = 390skdjuw ; rport");
    REQUIRE(v);
    CHECK(v->protocol == "SIP");
    CHECK(v->version == "2.0");
    CHECK(v->transport == "UDP");
    CHECK(v->host == "192.0.2.2");
    CHECK(v->port == 5060);
    CHECK(v->branch == "390skdjuw");
    CHECK(v->has_rport);
    auto t = one("sip/2.0/tcp\thost.example.com\t;\tbranch=z9hG4bKt");
    REQUIRE(t);
    CHECK(t->protocol == "sip");
    CHECK(t->transport == "tcp");
    CHECK(t->branch == "z9hG4bKt");
}

TEST_CASE("via: a list is walked with a cursor", "[sipcore][via]") {
    std::string_view list =
        "SIP/2.0/UDP a.example.com;branch=z9hG4bK1 , SIP/2.0/SCTP b.example.com;branch=z9hG4bK2,"
        "\r\n SIP/2.0/WS c.example.com;branch=z9hG4bK3;x=\"q,uoted\"";
    std::vector<std::string> got;
    while (!list.empty()) {
        auto v = sip::next_via(list);
        REQUIRE(v);
        got.push_back(std::string(v->transport) + " " + std::string(v->host) + " " +
                      std::string(v->branch));
    }
    CHECK(got == std::vector<std::string>{"UDP a.example.com z9hG4bK1",
                                          "SCTP b.example.com z9hG4bK2",
                                          "WS c.example.com z9hG4bK3"});
}

TEST_CASE("via: errors", "[sipcore][via]") {
    std::string_view list;
    auto next = [&](std::string_view s) {
        list = s;
        return sip::next_via(list);
    };
    REQUIRE_ERR(next(""), Errc::bad_header_value, 0);
    REQUIRE_ERR(next("SIP/2.0 host"), Errc::bad_header_value, 8);          // no transport
    REQUIRE_ERR(next("SIP/2.0/UDP"), Errc::bad_header_value, 11);          // no sent-by
    REQUIRE_ERR(next("SIP/2.0/UDP host;"), Errc::bad_header_value, 17);    // empty param
    REQUIRE_ERR(next("SIP/2.0/UDP host;;branch=1"), Errc::bad_header_value, 17);
    REQUIRE_ERR(next("SIP/2.0/UDP host,"), Errc::bad_header_value, 16);    // empty element
    REQUIRE_ERR(next("SIP/2.0/UDP host, "), Errc::bad_header_value, 16);
    REQUIRE_ERR(next("SIP/2.0/UDP ho st"), Errc::bad_header_value, 15);
    REQUIRE_ERR(next("SIP/2.0/UDP host:70000"), Errc::value_out_of_range, 17);
    REQUIRE_ERR(next("SIP/2.0/UDP host;rport=70000"), Errc::bad_param, 23);  // at the value
    REQUIRE_ERR(next("SIP/2.0/UDP host;ttl=256"), Errc::bad_param, 21);
    REQUIRE_ERR(next("SIP/2.0/UDP [2001:db8::1"), Errc::bad_header_value, 24);
    // RFC 4475 badinv01: ";;,;,,"
    REQUIRE_ERR(next("SIP/2.0/UDP 192.0.2.15;;,;,,"), Errc::bad_header_value, 23);
}

TEST_CASE("via: a named parameter with a bad value is rejected at its name", "[sipcore][via]") {
    // "ttl=x1" also matches via-extension = generic-param (RFC 3261 §25.1), but the named
    // params exist to carry exactly that grammar: taking it as an extension would let a
    // broken received/rport/maddr steer responses. Trunkline rejects it.
    std::string_view list;
    auto next = [&](std::string_view s) {
        list = s;
        return sip::next_via(list);
    };
    REQUIRE_ERR(next("SIP/2.0/UDP host;branch=z9hG4bK1;ttl=x1"), Errc::bad_param, 33);
    REQUIRE_ERR(next("SIP/2.0/UDP h;received=1.x"), Errc::bad_param, 14);
    REQUIRE_ERR(next("SIP/2.0/UDP h;rport=5x"), Errc::bad_param, 14);
    REQUIRE_ERR(next("SIP/2.0/UDP h;maddr=\"x\""), Errc::bad_param, 14);
    REQUIRE_ERR(next("SIP/2.0/UDP h;branch=\"z9hG4bK1\""), Errc::bad_param, 14);
    REQUIRE_ERR(next("SIP/2.0/UDP h;ttl = 12a"), Errc::bad_param, 14);
    // a flag without '=' is a generic-param, and so is a name that merely starts alike
    auto v = one("SIP/2.0/UDP h;ttl;ttlx=abc;branchy=\"q\"");
    REQUIRE(v);
    CHECK_FALSE(v->ttl.has_value());
    CHECK(v->branch.empty());
    CHECK(v->param("ttlx") == "abc");
}

TEST_CASE("via: never reads past the end (PROT_NONE page)", "[sipcore][via][guard]") {
    test::GuardedBuffer g(4096);
    const std::string_view text =
        "SIP  /  2.0\r\n /TLS [2001:db8::9]:5071;received=2001:db8::1;rport;ttl=3;"
        "branch=z9hG4bK6;x=\"a\\\"b\", SIP/2.0/UDP h";
    for (std::size_t len = 0; len <= text.size(); ++len) {
        std::string_view list = g.place(text.substr(0, len));
        while (!list.empty()) {
            auto r = sip::next_via(list);
            if (!r) {
                CHECK(r.error().offset <= len);
                break;
            }
        }
    }
}

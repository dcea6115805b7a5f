// sip::parse_uri (libsipcore/src/ragel/uri.rl): RFC 3261 §19.1 SIP/SIPS, RFC 3966 tel,
// other absoluteURIs.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "guarded.hpp"
#include "sip/headers.hpp"
#include "test_macros.hpp"

using sip::Errc;
using sip::Uri;

TEST_CASE("uri: plain SIP URI", "[sipcore][uri]") {
    auto u = sip::parse_uri("sip:alice@atlanta.example.com");
    REQUIRE(u);
    CHECK(u->scheme == Uri::Scheme::Sip);
    CHECK(u->scheme_name == "sip");
    CHECK(u->user == "alice");
    CHECK(u->password.empty());
    CHECK(u->host == "atlanta.example.com");
    CHECK_FALSE(u->has_port);
    CHECK(u->port == 0);
    CHECK_FALSE(u->ipv6);
    CHECK(u->params.empty());
    CHECK(u->headers.empty());
    CHECK(u->raw == "sip:alice@atlanta.example.com");
    CHECK(u->is_sip());
}

TEST_CASE("uri: every part of a SIPS URI with IPv6, port, params and headers",
          "[sipcore][uri]") {
    const std::string_view text = "sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi&x=y";
    auto u = sip::parse_uri(text);
    REQUIRE(u);
    CHECK(u->scheme == Uri::Scheme::Sips);
    CHECK(u->user == "alice");
    CHECK(u->password == "secret");
    CHECK(u->host == "[2001:db8::1]");
    CHECK(u->ipv6);
    CHECK(u->has_port);
    CHECK(u->port == 5061);
    CHECK(u->params == ";transport=tcp;lr");
    CHECK(u->param("transport") == "tcp");
    CHECK(u->param("TRANSPORT") == "tcp");
    REQUIRE(u->param("lr").has_value());
    CHECK(u->param("lr")->empty());
    CHECK_FALSE(u->param("maddr").has_value());
    CHECK(u->headers == "subject=hi&x=y");
    // views point into the input
    CHECK(u->host.data() == text.data() + 18);
}

TEST_CASE("uri: scheme is case-insensitive and kept as written", "[sipcore][uri]") {
    auto u = sip::parse_uri("SIP:Bob@Biloxi.Example.COM:5060");
    REQUIRE(u);
    CHECK(u->scheme == Uri::Scheme::Sip);
    CHECK(u->scheme_name == "SIP");
    CHECK(u->user == "Bob");
    CHECK(u->host == "Biloxi.Example.COM");
    CHECK(u->port == 5060);
    auto t = sip::parse_uri("TeL:+1-201-555-0123");
    REQUIRE(t);
    CHECK(t->scheme == Uri::Scheme::Tel);
}

TEST_CASE("uri: host forms without user", "[sipcore][uri]") {
    auto a = sip::parse_uri("sip:192.0.2.4:5070;lr");
    REQUIRE(a);
    CHECK(a->user.empty());
    CHECK(a->host == "192.0.2.4");
    CHECK(a->port == 5070);
    CHECK(a->params == ";lr");
    auto b = sip::parse_uri("sip:[::1]");
    REQUIRE(b);
    CHECK(b->host == "[::1]");
    CHECK(b->ipv6);
    CHECK_FALSE(b->has_port);
    auto c = sip::parse_uri("sip:example.com.");  // fully qualified, trailing dot
    REQUIRE(c);
    CHECK(c->host == "example.com.");
    auto d = sip::parse_uri("sip:[::ffff:192.0.2.1]:5060");
    REQUIRE(d);
    CHECK(d->host == "[::ffff:192.0.2.1]");
    CHECK(d->port == 5060);
}

TEST_CASE("uri: escapes are kept, not decoded", "[sipcore][uri]") {
    auto u = sip::parse_uri("sip:%61lice%40x@example.com");
    REQUIRE(u);
    CHECK(u->user == "%61lice%40x");
    CHECK(sip::unescape(u->user) == "alice@x");
    // user part may hold ';' (RFC 4475 §3.1.1.9 semiuri)
    auto s = sip::parse_uri("sip:user;par=u%40example.net@example.com");
    REQUIRE(s);
    CHECK(s->user == "user;par=u%40example.net");
    CHECK(s->host == "example.com");
    CHECK(s->params.empty());
}

TEST_CASE("uri: port limits", "[sipcore][uri]") {
    auto max = sip::parse_uri("sip:h:65535");
    REQUIRE(max);
    CHECK(max->port == 65535);
    auto zero = sip::parse_uri("sip:h:0");
    REQUIRE(zero);
    CHECK(zero->has_port);
    CHECK(zero->port == 0);
    REQUIRE_ERR(sip::parse_uri("sip:h:65536"), Errc::bad_uri, 6);
    REQUIRE_ERR(sip::parse_uri("sip:alice@h:99999999999"), Errc::bad_uri, 12);
}

TEST_CASE("uri: tel URI", "[sipcore][uri]") {
    auto t = sip::parse_uri("tel:+1-201-555-0123;phone-context=example.com");
    REQUIRE(t);
    CHECK(t->scheme == Uri::Scheme::Tel);
    CHECK(t->user == "+1-201-555-0123");
    CHECK(t->host.empty());
    CHECK(t->params == ";phone-context=example.com");
    CHECK(t->param("phone-context") == "example.com");
    CHECK_FALSE(t->is_sip());
}

TEST_CASE("uri: other schemes are opaque absoluteURIs", "[sipcore][uri]") {
    for (std::string_view text : {"urn:service:sos", "http://www.example.com/x?y=z",
                                  "nobodyKnowsThisScheme:totallyopaquecontent",
                                  "soap.beep://192.0.2.103:3002", "isbn:2983792873"}) {
        INFO(text);
        auto u = sip::parse_uri(text);
        REQUIRE(u);
        CHECK(u->scheme == Uri::Scheme::Other);
        CHECK(u->scheme_name == text.substr(0, text.find(':')));
        CHECK(u->host.empty());
        CHECK(u->raw == text);
    }
}

TEST_CASE("uri: errors name the offending offset", "[sipcore][uri]") {
    REQUIRE_ERR(sip::parse_uri(""), Errc::bad_uri, 0);
    REQUIRE_ERR(sip::parse_uri("sip"), Errc::bad_uri, 0);            // no ':'
    REQUIRE_ERR(sip::parse_uri(":alice@h"), Errc::bad_uri, 0);       // empty scheme
    REQUIRE_ERR(sip::parse_uri("1sip:alice@h"), Errc::bad_uri, 0);   // scheme starts with a digit
    REQUIRE_ERR(sip::parse_uri("s_p:alice@h"), Errc::bad_uri, 1);    // '_' not a scheme char
    REQUIRE_ERR(sip::parse_uri("<sip:alice@h>"), Errc::bad_uri, 0);  // RFC 4475 ltgtruri
    REQUIRE_ERR(sip::parse_uri("sip:"), Errc::bad_uri, 4);           // no host
    REQUIRE_ERR(sip::parse_uri("sip:alice@"), Errc::bad_uri, 10);    // no host after '@'
    REQUIRE_ERR(sip::parse_uri("sip:alice@h h"), Errc::bad_uri, 11);  // SP
    REQUIRE_ERR(sip::parse_uri("sip:h;lr x"), Errc::bad_uri, 8);     // LWS in params (lwsruri)
    REQUIRE_ERR(sip::parse_uri("sip:h:"), Errc::bad_uri, 6);         // empty port
    REQUIRE_ERR(sip::parse_uri("sip:[2001:db8::1"), Errc::bad_uri, 16);  // unterminated
    REQUIRE_ERR(sip::parse_uri("sip:h?x"), Errc::bad_uri, 7);        // header without '='
    REQUIRE_ERR(sip::parse_uri("sip:h;=x"), Errc::bad_uri, 6);       // param without name
    REQUIRE_ERR(sip::parse_uri("sip:al ice@h"), Errc::bad_uri, 6);
    REQUIRE_ERR(sip::parse_uri("tel:"), Errc::bad_uri, 4);
    REQUIRE_ERR(sip::parse_uri("tel:12 34"), Errc::bad_uri, 6);
    REQUIRE_ERR(sip::parse_uri("sip:%zzalice@h"), Errc::bad_uri, 5);  // bad escape
}

TEST_CASE("uri: never reads past the end (PROT_NONE page)", "[sipcore][uri][guard]") {
    test::GuardedBuffer g(4096);
    for (std::string_view text :
         {"sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi&x=y",
          "tel:+1-201-555-0123;phone-context=example.com", "urn:service:sos",
          "sip:user;par=u%40example.net@example.com", "sip:[::ffff:192.0.2.1]:5060"}) {
        for (std::size_t len = 0; len <= text.size(); ++len) {
            auto r = sip::parse_uri(g.place(text.substr(0, len)));
            if (!r) CHECK(r.error().offset <= len);
        }
    }
}

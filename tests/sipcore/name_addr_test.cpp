// sip::next_name_addr / parse_name_addr (libsipcore/src/ragel/name_addr.rl): RFC 3261
// §20.10, §20.20, §20.39 and §25.1 name-addr / addr-spec with header parameters.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "guarded.hpp"
#include "sip/headers.hpp"
#include "test_macros.hpp"

using sip::Errc;

TEST_CASE("name_addr: quoted display name, bracketed URI, tag", "[sipcore][name_addr]") {
    const std::string_view text = "\"Alice Caller\" <sip:alice@atlanta.example.com>;tag=1928301774";
    auto na = sip::parse_name_addr(text);
    REQUIRE(na);
    CHECK(na->display_name == "Alice Caller");
    CHECK(na->quoted_display);
    CHECK(na->bracketed);
    CHECK_FALSE(na->star);
    CHECK(na->uri == "sip:alice@atlanta.example.com");
    CHECK(na->params == ";tag=1928301774");
    CHECK(na->tag == "1928301774");
    CHECK(na->display_name.data() == text.data() + 1);
    CHECK(na->uri.data() == text.data() + 16);
}

TEST_CASE("name_addr: token display names, with and without LWS before <",
          "[sipcore][name_addr]") {
    auto a = sip::parse_name_addr("Bob  Smith <sip:bob@biloxi.example.com>");
    REQUIRE(a);
    CHECK(a->display_name == "Bob  Smith");
    CHECK_FALSE(a->quoted_display);
    CHECK(a->uri == "sip:bob@biloxi.example.com");
    // RFC 4475 §3.1.1.6 lwsdisp
    auto b = sip::parse_name_addr("caller<sip:caller@example.com>;tag=323");
    REQUIRE(b);
    CHECK(b->display_name == "caller");
    CHECK(b->tag == "323");
    auto c = sip::parse_name_addr("<sip:anon@example.com>");
    REQUIRE(c);
    CHECK(c->display_name.empty());
    CHECK(c->bracketed);
}

TEST_CASE("name_addr: quoted-pairs stay escaped in the view", "[sipcore][name_addr]") {
    auto na = sip::parse_name_addr(R"("a \"q\" \\ b" <sip:x@example.com>)");
    REQUIRE(na);
    CHECK(na->display_name == R"(a \"q\" \\ b)");
    CHECK(sip::unquote(na->display_name) == R"(a "q" \ b)");
    auto e = sip::parse_name_addr("\"\" <sip:x@example.com>");
    REQUIRE(e);
    CHECK(e->display_name.empty());
    CHECK(e->quoted_display);
}

TEST_CASE("name_addr: addr-spec form ends the URI at ';' so params are header params",
          "[sipcore][name_addr]") {
    // RFC 4475 §3.3.12 cparam01
    auto na = sip::parse_name_addr("sip:+19725552222@gw1.example.net;unknownparam;tag=x1");
    REQUIRE(na);
    CHECK_FALSE(na->bracketed);
    CHECK(na->uri == "sip:+19725552222@gw1.example.net");
    CHECK(na->params == ";unknownparam;tag=x1");
    CHECK(na->tag == "x1");
    REQUIRE(na->param("unknownparam").has_value());
    // bracketed: the params belong to the URI
    auto b = sip::parse_name_addr("<sip:+19725552222@gw1.example.net;unknownparam>");
    REQUIRE(b);
    CHECK(b->uri == "sip:+19725552222@gw1.example.net;unknownparam");
    CHECK(b->params.empty());
    CHECK_FALSE(b->param("unknownparam").has_value());
}

TEST_CASE("name_addr: LWS around ';' and '=' and folded lines", "[sipcore][name_addr]") {
    auto na = sip::parse_name_addr(
        "\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8");
    REQUIRE(na);
    CHECK(na->tag == "98asjd8");
    CHECK(na->uri == "sip:jdrosen@example.com");
}

TEST_CASE("name_addr: Contact list with expires and q", "[sipcore][name_addr]") {
    std::string_view list =
        "<sip:a@h1.example.com>;expires=60;q=0.5, \"B\" <sip:b@h2.example.com>;q=1,"
        " sip:c@h3.example.com;q=0.125;expires=4294967295, <sip:d@h4>;q=1.000;expires=0";
    std::vector<sip::NameAddr> got;
    while (!list.empty()) {
        auto c = sip::next_name_addr(list);
        REQUIRE(c);
        got.push_back(*c);
    }
    REQUIRE(got.size() == 4);
    CHECK(got[0].expires == 60u);
    CHECK(got[0].q == 500);
    CHECK(got[1].display_name == "B");
    CHECK_FALSE(got[1].expires.has_value());
    CHECK(got[1].q == 1000);
    CHECK(got[2].uri == "sip:c@h3.example.com");
    CHECK(got[2].q == 125);
    CHECK(got[2].expires == 4294967295u);
    CHECK(got[3].q == 1000);
    CHECK(got[3].expires == 0u);
}

TEST_CASE("name_addr: Contact star", "[sipcore][name_addr]") {
    std::string_view list = " * ";
    auto s = sip::next_name_addr(list);
    REQUIRE(s);
    CHECK(s->star);
    CHECK(list.empty());
    // From/To can never be '*'
    REQUIRE_ERR(sip::parse_name_addr("*"), Errc::bad_header_value, 0);
    // '*' is a token character: "*x <sip:h>" is a display name, not the wildcard that
    // removes every binding (the machine used to say star for it)
    for (std::string_view text :
         {"*x <sip:b@h>", "* <sip:b@h>;expires=0", "*x <tel:+15550100>", "* <sip:[::1]>"}) {
        list = text;
        auto na = sip::next_name_addr(list);
        REQUIRE(na);
        CHECK_FALSE(na->star);
        CHECK(na->uri == text.substr(text.find('<') + 1, text.find('>') - text.find('<') - 1));
        CHECK(na->display_name == text.substr(0, text.find(' ')));
    }
}

TEST_CASE("name_addr: errors", "[sipcore][name_addr]") {
    std::string_view list;
    auto next = [&](std::string_view s) {
        list = s;
        return sip::next_name_addr(list);
    };
    REQUIRE_ERR(next(""), Errc::bad_header_value, 0);
    REQUIRE_ERR(next("<sip:a@h>,"), Errc::bad_header_value, 9);      // empty element
    {
        list = "<sip:a@h>, ,<sip:b@h>";
        auto first = sip::next_name_addr(list);
        REQUIRE(first);
        CHECK(list == ",<sip:b@h>");
        REQUIRE_ERR(sip::next_name_addr(list), Errc::bad_header_value, 0);  // empty element
    }
    REQUIRE_ERR(next("\"unterminated <sip:a@h>"), Errc::bad_header_value, 23);  // quotbal
    REQUIRE_ERR(next("< sip:a@h >"), Errc::bad_header_value, 1);     // badaspec
    REQUIRE_ERR(next("Bell, Alexander <sip:a@h>"), Errc::bad_header_value, 4);  // baddn
    REQUIRE_ERR(next("<sip:a@h>;tag="), Errc::bad_header_value, 14);
    REQUIRE_ERR(next("<sip:a@h>;;tag=1"), Errc::bad_header_value, 10);
    REQUIRE_ERR(next("<sip:>"), Errc::bad_header_value, 5);  // URI checked in the same pass
    // the port range is part of the grammar here, so nothing accepted at ingress is one
    // parse_uri() later rejects (fuzz: regress-name-addr-uri-port-overflow)
    REQUIRE_ERR(next("\"x\" <sip:a@h:99999>"), Errc::bad_header_value, 17);
    // "h:4294967295" could still be user:password until the missing @
    REQUIRE_ERR(next("<sip:h:4294967295>"), Errc::bad_header_value, 17);
    REQUIRE_ERR(next("tel:"), Errc::bad_header_value, 4);  // regress-name-addr-uri-tel-empty
    {
        list = "<sip:h:0065535>";
        auto na = sip::next_name_addr(list);
        REQUIRE(na);
        CHECK(sip::parse_uri(na->uri).value().port == 65535);
    }
    REQUIRE_ERR(next("<sip:a@h>;expires=4294967296"), Errc::value_out_of_range, 18);  // the value
    // RFC 4475 §3.1.2.13 regbadct: a URI with '?' must be bracketed
    REQUIRE_ERR(next("sip:user@example.com?Route=%3Csip:sip.example.com%3E"),
                Errc::bad_header_value, 20);
    // single-valued: a second element is an error at its start (multi01-style To)
    REQUIRE_ERR(sip::parse_name_addr("<sip:a@h>, <sip:b@h>"), Errc::bad_header_value, 11);
}

TEST_CASE("name_addr: a malformed q, expires or tag is rejected at its name, never misread",
          "[sipcore][name_addr]") {
    // The named contact-params/tag also match generic-param (RFC 3261 §25.1); Trunkline
    // reads them with their own grammar and rejects a value that fails it.
    std::string_view list;
    auto next = [&](std::string_view s) {
        list = s;
        return sip::next_name_addr(list);
    };
    REQUIRE_ERR(next("<sip:a@h>;q=1.001"), Errc::bad_param, 10);
    REQUIRE_ERR(next("<sip:a@h>;q=0.1234"), Errc::bad_param, 10);
    REQUIRE_ERR(next("<sip:a@h>;q=2"), Errc::bad_param, 10);
    REQUIRE_ERR(next("<sip:a@h>;q=.5"), Errc::bad_param, 10);
    REQUIRE_ERR(next("<sip:a@h>;expires=soon"), Errc::bad_param, 10);
    REQUIRE_ERR(next("<sip:a@h>;expires=12x"), Errc::bad_param, 10);
    REQUIRE_ERR(next("<sip:a@h>;x=1; tag = \"quoted\""), Errc::bad_param, 15);
    // in range and well-formed
    auto c = next("<sip:a@h>;q=1.;expires=0;tag=t");
    REQUIRE(c);
    CHECK(c->q == 1000);
    CHECK(c->expires == 0u);
    CHECK(c->tag == "t");
    // a flag or a longer name is a generic-param
    c = next("<sip:a@h>;q;expiresx=soon");
    REQUIRE(c);
    CHECK_FALSE(c->q.has_value());
    CHECK_FALSE(c->expires.has_value());
    CHECK(c->param("expiresx") == "soon");
}

TEST_CASE("name_addr: never reads past the end (PROT_NONE page)",
          "[sipcore][name_addr][guard]") {
    test::GuardedBuffer g(4096);
    const std::string_view text =
        "\"A \\\"B\\\"\" <sips:a@[2001:db8::1]:5061;transport=tls>;tag=x;q=0.7;expires=30, "
        "tok en<sip:b@h>, sip:c@h;p=\"v\", *";
    for (std::size_t len = 0; len <= text.size(); ++len) {
        std::string_view list = g.place(text.substr(0, len));
        (void)sip::parse_name_addr(list);
        while (!list.empty()) {
            auto r = sip::next_name_addr(list);
            if (!r) {
                CHECK(r.error().offset <= len);
                break;
            }
        }
    }
}

TEST_CASE("name_addr: a tag-like run inside an addr-spec's user part is not a tag (fuzz)",
          "[sipcore][name_addr]") {
    // The DFA also tried "sip:bob.x" followed by params ";tag=abc"; the '@' later made the
    // whole text one addr-spec (user "bob.x;tag=abc"), so there are no params and no tag.
    std::string_view list = "sip:bob.x;tag=abc@host.example";
    auto na = sip::next_name_addr(list);
    REQUIRE(na);
    CHECK(na->uri == "sip:bob.x;tag=abc@host.example");
    CHECK(na->tag.empty());
    CHECK(na->params.empty());
    auto u = sip::parse_uri(na->uri);
    REQUIRE(u);
    CHECK(u->user == "bob.x;tag=abc");
    CHECK(u->host == "host.example");
    // and with real params after it, the tag is the header param's
    list = "sip:bob.x;tag=abc@host.example;tag=real";
    na = sip::next_name_addr(list);
    REQUIRE(na);
    CHECK(na->tag == "real");
}

// Single-valued headers checked at ingress (libsipcore/src/ragel/scalars.rl): CSeq
// (RFC 3261 §20.16), Call-ID (§20.8), 1*DIGIT values (§20.14, §20.19, §20.22), Date (§20.17).
#include <catch2/catch.hpp>

#include <cstdint>
#include <string_view>

#include "guarded.hpp"
#include "sip/headers.hpp"
#include "test_macros.hpp"

using sip::Errc;
using sip::Method;

TEST_CASE("scalars: CSeq number and method", "[sipcore][scalars][cseq]") {
    auto c = sip::parse_cseq("101 INVITE");
    REQUIRE(c);
    CHECK(c->number == 101);
    CHECK(c->method_name == "INVITE");
    CHECK(c->method == Method::Invite);
    auto lead = sip::parse_cseq("0009\r\n  INVITE");  // RFC 4475 wsinv: leading zeros, folding
    REQUIRE(lead);
    CHECK(lead->number == 9);
    CHECK(lead->method == Method::Invite);
    auto ext = sip::parse_cseq("  7 NEWMETHOD  ");
    REQUIRE(ext);
    CHECK(ext->method_name == "NEWMETHOD");
    CHECK(ext->method == Method::Unknown);
    auto lower = sip::parse_cseq("1 invite");  // methods are case-sensitive (RFC 3261 §7.1)
    REQUIRE(lower);
    CHECK(lower->method == Method::Unknown);
}

TEST_CASE("scalars: CSeq number limits are 0 .. 2^32-1", "[sipcore][scalars][cseq]") {
    auto zero = sip::parse_cseq("0 ACK");
    REQUIRE(zero);
    CHECK(zero->number == 0);
    auto max = sip::parse_cseq("4294967295 ACK");
    REQUIRE(max);
    CHECK(max->number == 4294967295u);
    REQUIRE_ERR(sip::parse_cseq("4294967296 ACK"), Errc::value_out_of_range, 0);
    REQUIRE_ERR(sip::parse_cseq("  36893488147419103232 REGISTER"), Errc::value_out_of_range, 2);
}

TEST_CASE("scalars: CSeq grammar errors", "[sipcore][scalars][cseq]") {
    REQUIRE_ERR(sip::parse_cseq(""), Errc::bad_header_value, 0);
    REQUIRE_ERR(sip::parse_cseq("101"), Errc::bad_header_value, 3);
    REQUIRE_ERR(sip::parse_cseq("INVITE"), Errc::bad_header_value, 0);
    REQUIRE_ERR(sip::parse_cseq("101INVITE"), Errc::bad_header_value, 3);
    REQUIRE_ERR(sip::parse_cseq("-1 INVITE"), Errc::bad_header_value, 0);
    REQUIRE_ERR(sip::parse_cseq("1 INV ITE"), Errc::bad_header_value, 6);
    REQUIRE_ERR(sip::parse_cseq("1 INVITE;x"), Errc::bad_header_value, 8);
}

TEST_CASE("scalars: Call-ID word [@ word]", "[sipcore][scalars][call_id]") {
    auto a = sip::parse_call_id("f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com");
    REQUIRE(a);
    CHECK(*a == "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com");
    auto b = sip::parse_call_id(" abc ");
    REQUIRE(b);
    CHECK(*b == "abc");
    // RFC 4475 intmeth: every word character
    const std::string_view odd = R"x(intmeth.word%ZK-!.*_+'@word`~)(><:\/"][?}{)x";
    auto c = sip::parse_call_id(odd);
    REQUIRE(c);
    CHECK(*c == odd);
    REQUIRE_ERR(sip::parse_call_id(""), Errc::bad_header_value, 0);
    REQUIRE_ERR(sip::parse_call_id("a@b@c"), Errc::bad_header_value, 3);
    REQUIRE_ERR(sip::parse_call_id("a b"), Errc::bad_header_value, 1);  // where the LWS starts
    REQUIRE_ERR(sip::parse_call_id("@b"), Errc::bad_header_value, 0);
    REQUIRE_ERR(sip::parse_call_id("a@"), Errc::bad_header_value, 2);
    REQUIRE_ERR(sip::parse_call_id("a,b"), Errc::bad_header_value, 1);
}

TEST_CASE("scalars: parse_uint limits incl. 2^32-1 and 2^32", "[sipcore][scalars][uint]") {
    auto max = sip::parse_uint("4294967295", UINT32_MAX);
    REQUIRE(max);
    CHECK(*max == 4294967295u);
    REQUIRE_ERR(sip::parse_uint("4294967296", UINT32_MAX), Errc::value_out_of_range, 0);
    REQUIRE_ERR(sip::parse_uint("99999999999999999999999", UINT32_MAX), Errc::value_out_of_range, 0);
    auto zeros = sip::parse_uint("000000000000000000004294967295", UINT32_MAX);
    REQUIRE(zeros);
    CHECK(*zeros == 4294967295u);
    auto lws = sip::parse_uint(" \t 42 \r\n ", UINT32_MAX);
    REQUIRE(lws);
    CHECK(*lws == 42);
    auto z = sip::parse_uint("0", 0);
    REQUIRE(z);
    CHECK(*z == 0);
    REQUIRE_ERR(sip::parse_uint("1", 0), Errc::value_out_of_range, 0);
    REQUIRE_ERR(sip::parse_uint("", UINT32_MAX), Errc::bad_header_value, 0);
    REQUIRE_ERR(sip::parse_uint("  ", UINT32_MAX), Errc::bad_header_value, 2);
    REQUIRE_ERR(sip::parse_uint("1a", UINT32_MAX), Errc::bad_header_value, 1);
    REQUIRE_ERR(sip::parse_uint("-1", UINT32_MAX), Errc::bad_header_value, 0);
    REQUIRE_ERR(sip::parse_uint("+1", UINT32_MAX), Errc::bad_header_value, 0);
    REQUIRE_ERR(sip::parse_uint("1 2", UINT32_MAX), Errc::bad_header_value, 1);
    REQUIRE_ERR(sip::parse_uint("five", UINT32_MAX), Errc::bad_header_value, 0);
}

TEST_CASE("scalars: Max-Forwards is 0..255, Expires 0..2^32-1", "[sipcore][scalars][uint]") {
    CHECK(sip::parse_max_forwards("0").value_or(999) == 0);
    CHECK(sip::parse_max_forwards("255").value_or(999) == 255);
    CHECK(sip::parse_max_forwards("0068").value_or(999) == 68);
    REQUIRE_ERR(sip::parse_max_forwards("256"), Errc::value_out_of_range, 0);
    REQUIRE_ERR(sip::parse_max_forwards(" 300"), Errc::value_out_of_range, 1);  // scalar02
    CHECK(sip::parse_expires("4294967295").value_or(0) == 4294967295u);
    REQUIRE_ERR(sip::parse_expires("10000000000000000000000"), Errc::value_out_of_range, 0);
}

TEST_CASE("scalars: Date as seconds since the epoch", "[sipcore][scalars][date]") {
    CHECK(sip::parse_date("Thu, 01 Jan 1970 00:00:00 GMT").value_or(-1) == 0);
    CHECK(sip::parse_date("Sat, 13 Nov 2010 23:29:00 GMT").value_or(-1) == 1289690940);
    CHECK(sip::parse_date("Tue, 29 Feb 2000 12:00:00 GMT").value_or(-1) == 951825600);
    CHECK(sip::parse_date("Sun, 07 Feb 2106 06:28:15 GMT").value_or(-1) == 4294967295);
    CHECK(sip::parse_date("  Fri, 31 Dec 1999 23:59:59 GMT  ").value_or(-1) == 946684799);
}

TEST_CASE("scalars: Date errors", "[sipcore][scalars][date]") {
    // RFC 4475 §3.1.2.12 baddate: only GMT
    REQUIRE_ERR(sip::parse_date("Fri, 01 Jan 2010 16:00:00 EST"), Errc::bad_header_value, 26);
    REQUIRE_ERR(sip::parse_date("Fri, 01 Jan 2010 16:00:00 UTC"), Errc::bad_header_value, 26);
    REQUIRE_ERR(sip::parse_date(""), Errc::bad_header_value, 0);
    REQUIRE_ERR(sip::parse_date("Fri, 1 Jan 2010 16:00:00 GMT"), Errc::bad_header_value, 6);
    REQUIRE_ERR(sip::parse_date("Fri 01 Jan 2010 16:00:00 GMT"), Errc::bad_header_value, 3);
    REQUIRE_ERR(sip::parse_date("Fri, 01 jan 2010 16:00:00 GMT"), Errc::bad_header_value, 8);
    REQUIRE_ERR(sip::parse_date("Fri, 01 Jan 2010 16:00 GMT"), Errc::bad_header_value, 22);
    REQUIRE_ERR(sip::parse_date("Fri, 32 Jan 2010 16:00:00 GMT"), Errc::value_out_of_range, 5);
    REQUIRE_ERR(sip::parse_date("Fri, 00 Jan 2010 16:00:00 GMT"), Errc::value_out_of_range, 5);
    REQUIRE_ERR(sip::parse_date("Fri, 01 Jan 2010 24:00:00 GMT"), Errc::value_out_of_range, 5);
    REQUIRE_ERR(sip::parse_date("Fri, 01 Jan 2010 23:60:00 GMT"), Errc::value_out_of_range, 5);
}

TEST_CASE("scalars: Date rejects days that do not exist in the month",
          "[sipcore][scalars][date]") {
    // 31 Feb 2011 must not silently become 3 Mar 2011; leap years are honoured.
    REQUIRE_ERR(sip::parse_date("Thu, 31 Feb 2011 00:00:00 GMT"), Errc::value_out_of_range, 5);
    REQUIRE_ERR(sip::parse_date("Sat, 31 Apr 2010 00:00:00 GMT"), Errc::value_out_of_range, 5);
    REQUIRE_ERR(sip::parse_date("Sun, 29 Feb 2009 00:00:00 GMT"), Errc::value_out_of_range, 5);
    CHECK(sip::parse_date("Tue, 29 Feb 2000 00:00:00 GMT").value() == 951782400);  // 400-year leap
    REQUIRE_ERR(sip::parse_date("Thu, 29 Feb 1900 00:00:00 GMT"), Errc::value_out_of_range, 5);
}

TEST_CASE("scalars: never read past the end (PROT_NONE page)", "[sipcore][scalars][guard]") {
    test::GuardedBuffer g(4096);
    for (std::string_view text : {"0009\r\n  INVITE  ", "a@b", "Sat, 13 Nov 2010 23:29:00 GMT",
                                  " 4294967295 "}) {
        for (std::size_t len = 0; len <= text.size(); ++len) {
            std::string_view v = g.place(text.substr(0, len));
            (void)sip::parse_cseq(v);
            (void)sip::parse_call_id(v);
            (void)sip::parse_uint(v, UINT32_MAX);
            (void)sip::parse_date(v);
        }
    }
    // and placed at the page edge, the whole values still parse to the right values
    CHECK(sip::parse_cseq(g.place("0009\r\n  INVITE  ")).value().number == 9);
    CHECK(sip::parse_call_id(g.place("a@b")).value() == "a@b");
    CHECK(sip::parse_uint(g.place(" 4294967295 "), UINT32_MAX).value() == 4294967295u);
    CHECK(sip::parse_date(g.place("Sat, 13 Nov 2010 23:29:00 GMT")).value() == 1289690940);
    CHECK_FALSE(sip::parse_date(g.place("Sat, 13 Nov 2010 23:29:00 GM")));
}

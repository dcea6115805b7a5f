// route::lcr::RewriteRules: the VOS3000 "pattern:replacement" grammar, first match wins,
// '?' matching and naming, "-N" strips, and errors that name the rule.
#include <catch2/catch.hpp>

#include <string>

#include "route/lcr/rewrite.hpp"

using route::lcr::RewriteRules;

namespace {

RewriteRules rules(std::string_view text) {
    std::string err;
    auto r = RewriteRules::parse(text, &err);
    INFO(err);
    REQUIRE(r);
    return *r;
}

// The rewritten number, or "<none>" when no rule matched.
std::string apply(std::string_view text, std::string_view number) {
    std::string out = "garbage";
    const bool changed = rules(text).apply(number, out);
    if (!changed) {
        CHECK(out == number);
        return "<none>";
    }
    return out;
}

std::string error_of(std::string_view text) {
    std::string err;
    auto r = RewriteRules::parse(text, &err);
    CHECK_FALSE(r);
    return err;
}

}  // namespace

TEST_CASE("rewrite: the header's examples", "[lcr][rewrite]") {
    CHECK(apply("0044*:44*,*:a*", "00442071234567") == "442071234567");
    CHECK(apply("0044*:44*,*:a*", "331234") == "a331234");
    CHECK(apply("*:a*", "123") == "a123");
    CHECK(apply("0044*:44*", "00442071234567") == "442071234567");
    CHECK(apply("-2", "00123") == "123");
    CHECK(apply("1234:5678", "1234") == "5678");
}

TEST_CASE("rewrite: first matching rule wins, later ones are ignored", "[lcr][rewrite]") {
    CHECK(apply("00*:*,0*:9*", "0012") == "12");
    CHECK(apply("0*:9*,00*:*", "0012") == "9012");
    CHECK(apply("44*:x*,33*:y*", "3312") == "y12");
}

TEST_CASE("rewrite: no match leaves the number as is and returns false", "[lcr][rewrite]") {
    CHECK(apply("0044*:44*", "0033123") == "<none>");
    CHECK(apply("1234:5678", "12345") == "<none>");  // exact pattern: whole number only
    CHECK(apply("1234:5678", "123") == "<none>");
    CHECK(apply("-5", "1234") == "<none>");           // shorter than the strip
    CHECK(apply("", "1234") == "<none>");
    CHECK(rules("").empty());
    CHECK(rules("  ").empty());
}

TEST_CASE("rewrite: wildcard replacement forms", "[lcr][rewrite]") {
    CHECK(apply("00*:*", "0044") == "44");          // strip a literal prefix
    CHECK(apply("*:*9", "123") == "1239");          // suffix
    CHECK(apply("12*:a*b", "1299") == "a99b");      // both sides
    CHECK(apply("12*:x", "1299") == "x");           // no '*' in the replacement: rest dropped
    CHECK(apply("*:", "1299") == "");               // maps to nothing
    CHECK(apply("12:*", "12") == "");               // exact pattern has no rest
    CHECK(apply("-3", "123") == "");                // strip the whole number
    CHECK(apply("+44*:0044*", "+4420") == "004420"); // non-digits are literals
}

TEST_CASE("rewrite: '?' matches one character and is dropped unless named", "[lcr][rewrite]") {
    CHECK(apply("0?1*:*", "051234") == "234");
    CHECK(apply("0?1*:?*", "051234") == "5234");
    CHECK(apply("??*:*", "98765") == "765");
    CHECK(apply("??*:*?", "98765") == "7659");        // '?' after '*' names the first '?'
    CHECK(apply("??*:?-*-?", "98765") == "9-765-8");   // in order across both halves
    CHECK(apply("1??4:?", "1234") == "2");
    CHECK(apply("0?1*:*", "06") == "<none>");         // too short for the pattern
    CHECK(apply("0?1*:*", "0529") == "<none>");       // literal mismatch after '?'
}

TEST_CASE("rewrite: blanks around rules are ignored", "[lcr][rewrite]") {
    CHECK(apply(" 00*:* , *:a* ", "0012") == "12");
    CHECK(apply(" 00*:* , *:a* ", "12") == "a12");
    CHECK(rules("00*:*, -1").text() == "00*:*, -1");
}

TEST_CASE("rewrite: errors name the rule number and its text", "[lcr][rewrite]") {
    CHECK(error_of("1*2*:x") == "rule 1 '1*2*:x': more than one '*' in the pattern");
    CHECK(error_of("0044*:44*,1*2*:x") == "rule 2 '1*2*:x': more than one '*' in the pattern");
    CHECK(error_of("1*2:x") == "rule 1 '1*2:x': '*' must end the pattern");
    CHECK(error_of("1*:x**") == "rule 1 '1*:x**': more than one '*' in the replacement");
    CHECK(error_of("1:2:3") == "rule 1 '1:2:3': more than one ':'");
    CHECK(error_of("*:a*,1234") ==
          "rule 2 '1234': missing ':' (expected pattern:replacement or -N)");
    CHECK(error_of("*:a*,,1:2") == "rule 2 '': empty rule");
    CHECK(error_of("*:a*,") == "rule 2 '': empty rule");
    CHECK(error_of(":5") == "rule 1 ':5': empty pattern");
    // "?" "?" : two '?' in a row followed by ' would be a trigraph.
    CHECK(error_of("1?:?" "?") ==
          "rule 1 '1?:?" "?': the replacement names more '?' than the pattern has");
    CHECK(error_of("1 2:3") == "rule 1 '1 2:3': blank or control character inside the rule");
    CHECK(error_of("-0") == "rule 1 '-0': strip count must be 1..999");
    CHECK(error_of("-") == "rule 1 '-': strip count must be 1..999");
    CHECK(error_of("-1000") == "rule 1 '-1000': strip count must be 1..999");
    CHECK(error_of("-2x") == "rule 1 '-2x': strip count must be decimal digits");
}

TEST_CASE("rewrite: parse without an error string, and parsed rule fields", "[lcr][rewrite]") {
    CHECK_FALSE(RewriteRules::parse("1*2*:x", nullptr));
    auto r = RewriteRules::parse("0044*:44*", nullptr);
    REQUIRE(r);
    CHECK_FALSE(r->empty());
    CHECK(r->text() == "0044*:44*");
}

TEST_CASE("rewrite: apply may write over its own input", "[lcr][rewrite]") {
    auto r = rules("0044*:44*,-1");
    std::string s = "00442071234567";
    CHECK(r.apply(s, s));
    CHECK(s == "442071234567");
    CHECK(r.apply(std::string_view(s).substr(2), s));  // a view into the middle of out
    CHECK(s == "071234567");
    auto none = rules("9*:8*");
    std::string t = "1234";
    CHECK_FALSE(none.apply(t, t));
    CHECK(t == "1234");
    CHECK_FALSE(none.apply(std::string_view(t).substr(1), t));
    CHECK(t == "234");
}

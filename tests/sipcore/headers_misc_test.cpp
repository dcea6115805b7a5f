// Token lists, Privacy, Session-Expires/Min-SE and Authorization/WWW-Authenticate views
// (libsipcore/src/ragel/{token_list,privacy,session_expires,auth}.rl).
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sip/headers.hpp"

using sip::Errc;

namespace {

// Walks a whole list with a cursor function; stops at the first error.
template <class Next>
std::vector<std::string_view> walk(std::string_view list, Next next) {
    std::vector<std::string_view> out;
    while (!list.empty()) {
        auto r = next(list);
        REQUIRE(r.has_value());
        out.push_back(*r);
    }
    return out;
}

// Asserts a failed Result with exactly this code and offset; the expression is printed.
#define REQUIRE_ERROR(expr, errc, off)                  \
    do {                                                \
        INFO(#expr);                                    \
        auto r_ = (expr);                               \
        REQUIRE_FALSE(r_.has_value());                  \
        CHECK(r_.error().code == (errc));               \
        CHECK(r_.error().offset == std::uint32_t{off}); \
    } while (false)

bool inside(std::string_view part, std::string_view whole) {
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

sip::Result<std::string_view> token_at(std::string_view list) {
    return sip::next_token(list);
}
sip::Result<std::string_view> privacy_at(std::string_view list) {
    return sip::next_privacy(list);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Token lists (RFC 3261 §20: Allow, Supported, Require, Proxy-Require, Unsupported)

TEST_CASE("token_list: elements with LWS around commas", "[sipcore][token_list]") {
    const std::string_view text = "INVITE, ACK ,BYE\t,\r\n CANCEL ,\r\n\tOPTIONS";
    std::string_view list = text;
    auto first = sip::next_token(list);
    REQUIRE(first);
    CHECK(*first == "INVITE");
    CHECK(first->data() == text.data());
    CHECK(list == "ACK ,BYE\t,\r\n CANCEL ,\r\n\tOPTIONS");
    auto second = sip::next_token(list);
    REQUIRE(second);
    CHECK(*second == "ACK");
    CHECK(list == "BYE\t,\r\n CANCEL ,\r\n\tOPTIONS");
    CHECK(walk(text, sip::next_token) ==
          std::vector<std::string_view>{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"});
}

TEST_CASE("token_list: single element, surrounding LWS, every token char",
          "[sipcore][token_list]") {
    std::string_view list = "timer";
    auto r = sip::next_token(list);
    REQUIRE(r);
    CHECK(*r == "timer");
    CHECK(list.empty());

    list = "  100rel \t";
    r = sip::next_token(list);
    REQUIRE(r);
    CHECK(*r == "100rel");
    CHECK(list.empty());

    const std::string_view all = "x-Y.z!%*_+`'~9";
    list = all;
    r = sip::next_token(list);
    REQUIRE(r);
    CHECK(*r == all);
    CHECK(inside(*r, all));
}

TEST_CASE("token_list: empty elements are errors at the separator", "[sipcore][token_list]") {
    REQUIRE_ERROR(token_at(""), Errc::bad_header_value, 0);
    REQUIRE_ERROR(token_at(","), Errc::bad_header_value, 0);
    REQUIRE_ERROR(token_at(",timer"), Errc::bad_header_value, 0);
    REQUIRE_ERROR(token_at("  ,timer"), Errc::bad_header_value, 2);
    REQUIRE_ERROR(token_at("timer,,100rel"), Errc::bad_header_value, 6);
    REQUIRE_ERROR(token_at("timer, ,100rel"), Errc::bad_header_value, 7);
    REQUIRE_ERROR(token_at("timer,"), Errc::bad_header_value, 5);
    REQUIRE_ERROR(token_at("timer , \t"), Errc::bad_header_value, 6);
    REQUIRE_ERROR(token_at("timer,\r\n"), Errc::bad_header_value, 5);
}

TEST_CASE("token_list: malformed elements and LWS", "[sipcore][token_list]") {
    // two tokens without a comma
    REQUIRE_ERROR(token_at("timer 100rel"), Errc::bad_header_value, 6);
    // ';' and '@' are not token characters
    REQUIRE_ERROR(token_at("timer;x"), Errc::bad_header_value, 5);
    REQUIRE_ERROR(token_at("ti@mer"), Errc::bad_header_value, 2);
    // a CRLF must be followed by WSP to be a fold (RFC 3261 §7.3.1)
    REQUIRE_ERROR(token_at("timer,\r\n100rel"), Errc::bad_header_value, 8);
    REQUIRE_ERROR(token_at("timer\r\n"), Errc::bad_header_value, 7);
    REQUIRE_ERROR(token_at("timer\n 100rel"), Errc::bad_header_value, 5);
    // LWS only
    REQUIRE_ERROR(token_at("   "), Errc::bad_header_value, 3);
}

TEST_CASE("token_list: the cursor is untouched on error", "[sipcore][token_list]") {
    const std::string_view text = "a, b c";
    std::string_view list = text;
    REQUIRE(sip::next_token(list));
    CHECK(list == "b c");
    auto bad = sip::next_token(list);
    REQUIRE_ERROR(bad, Errc::bad_header_value, 2);
    CHECK(list == "b c");
    CHECK(list.data() == text.data() + 3);
}

// ---------------------------------------------------------------------------------------------
// Privacy (RFC 3323 §4.2, RFC 3325 §9.3)

TEST_CASE("privacy: priv-values separated by semicolons", "[sipcore][privacy]") {
    CHECK(walk("id", sip::next_privacy) == std::vector<std::string_view>{"id"});
    CHECK(walk("header;session;user;id;critical", sip::next_privacy) ==
          std::vector<std::string_view>{"header", "session", "user", "id", "critical"});
    CHECK(walk("none", sip::next_privacy) == std::vector<std::string_view>{"none"});
    // extension tokens and LWS (folded too) around ';'
    CHECK(walk(" id ;\r\n history ; x-private ", sip::next_privacy) ==
          std::vector<std::string_view>{"id", "history", "x-private"});

    std::string_view list = "id ; header";
    auto r = sip::next_privacy(list);
    REQUIRE(r);
    CHECK(*r == "id");
    CHECK(list == "header");
}

TEST_CASE("privacy: empty and malformed values", "[sipcore][privacy]") {
    REQUIRE_ERROR(privacy_at(""), Errc::bad_header_value, 0);
    REQUIRE_ERROR(privacy_at(";id"), Errc::bad_header_value, 0);
    REQUIRE_ERROR(privacy_at("id;"), Errc::bad_header_value, 2);
    REQUIRE_ERROR(privacy_at("id ; "), Errc::bad_header_value, 3);
    REQUIRE_ERROR(privacy_at("id;;user"), Errc::bad_header_value, 3);
    // the separator is ';', not ','
    REQUIRE_ERROR(privacy_at("id,user"), Errc::bad_header_value, 2);
    REQUIRE_ERROR(privacy_at("id user"), Errc::bad_header_value, 3);
    REQUIRE_ERROR(privacy_at("\"id\""), Errc::bad_header_value, 0);
}

// ---------------------------------------------------------------------------------------------
// Session-Expires and Min-SE (RFC 4028 §4, §5)

TEST_CASE("session_expires: delta, refresher and params", "[sipcore][session_expires]") {
    auto se = sip::parse_session_expires("4000;refresher=uac");
    REQUIRE(se);
    CHECK(se->delta == 4000);
    CHECK(se->refresher == "uac");
    CHECK(se->params == ";refresher=uac");

    se = sip::parse_session_expires("1800");
    REQUIRE(se);
    CHECK(se->delta == 1800);
    CHECK(se->refresher.empty());
    CHECK(se->params.empty());

    // LWS around ';' and '=', case-insensitive name and value, generic params kept
    const std::string_view text = " 90 ; Refresher = UAS ; x=\"y;z\" ;lr ";
    se = sip::parse_session_expires(text);
    REQUIRE(se);
    CHECK(se->delta == 90);
    CHECK(se->refresher == "UAS");
    CHECK(se->params == "; Refresher = UAS ; x=\"y;z\" ;lr");
    CHECK(inside(se->refresher, text));
    CHECK(inside(se->params, text));

    // folded, and a generic param only
    se = sip::parse_session_expires("3600\r\n ;refresher=uas");
    REQUIRE(se);
    CHECK(se->delta == 3600);
    CHECK(se->refresher == "uas");
    se = sip::parse_session_expires("3600;foo=bar");
    REQUIRE(se);
    CHECK(se->refresher.empty());
    CHECK(se->params == ";foo=bar");
}

TEST_CASE("session_expires: delta-seconds range", "[sipcore][session_expires]") {
    auto se = sip::parse_session_expires("4294967295");
    REQUIRE(se);
    CHECK(se->delta == 4294967295u);
    se = sip::parse_session_expires("000000000000000001800");
    REQUIRE(se);
    CHECK(se->delta == 1800);
    REQUIRE_ERROR(sip::parse_session_expires("4294967296"), Errc::value_out_of_range, 0);
    REQUIRE_ERROR(sip::parse_session_expires("  99999999999;refresher=uac"),
                  Errc::value_out_of_range, 2);
    REQUIRE_ERROR(sip::parse_min_se("4294967296"), Errc::value_out_of_range, 0);
}

TEST_CASE("session_expires: malformed values", "[sipcore][session_expires]") {
    REQUIRE_ERROR(sip::parse_session_expires(""), Errc::bad_header_value, 0);
    REQUIRE_ERROR(sip::parse_session_expires("abc"), Errc::bad_header_value, 0);
    REQUIRE_ERROR(sip::parse_session_expires("-90"), Errc::bad_header_value, 0);
    REQUIRE_ERROR(sip::parse_session_expires("90 s"), Errc::bad_header_value, 3);
    REQUIRE_ERROR(sip::parse_session_expires("90;"), Errc::bad_header_value, 3);
    REQUIRE_ERROR(sip::parse_session_expires("90;;lr"), Errc::bad_header_value, 3);
    REQUIRE_ERROR(sip::parse_session_expires("90,120"), Errc::bad_header_value, 2);
    REQUIRE_ERROR(sip::parse_session_expires("90;refresher="), Errc::bad_header_value, 13);
}

TEST_CASE("session_expires: refresher must be uac or uas, once", "[sipcore][session_expires]") {
    REQUIRE_ERROR(sip::parse_session_expires("90;refresher=foo"), Errc::bad_param, 3);
    REQUIRE_ERROR(sip::parse_session_expires("90;refresher"), Errc::bad_param, 3);
    REQUIRE_ERROR(sip::parse_session_expires("90;refresher=\"uac\""), Errc::bad_param, 3);
    REQUIRE_ERROR(sip::parse_session_expires("90;refresher=uac;refresher=uas"), Errc::bad_param,
                  17);
    REQUIRE_ERROR(sip::parse_session_expires("90; lr ;  refresher = uacx"), Errc::bad_param, 10);
}

TEST_CASE("session_expires: Min-SE", "[sipcore][session_expires]") {
    auto m = sip::parse_min_se("90");
    REQUIRE(m);
    CHECK(*m == 90);
    m = sip::parse_min_se(" 1800 ;lr;foo=\"bar\"");
    REQUIRE(m);
    CHECK(*m == 1800);
    // Min-SE has only generic params: a refresher there is not interpreted
    m = sip::parse_min_se("120;refresher=foo");
    REQUIRE(m);
    CHECK(*m == 120);
    REQUIRE_ERROR(sip::parse_min_se(""), Errc::bad_header_value, 0);
    REQUIRE_ERROR(sip::parse_min_se("90 90"), Errc::bad_header_value, 3);
    REQUIRE_ERROR(sip::parse_min_se("ninety"), Errc::bad_header_value, 0);
}

// ---------------------------------------------------------------------------------------------
// Credentials and challenges (RFC 3261 §22.4, §25.1; RFC 7616; RFC 2617)

TEST_CASE("auth: RFC 7616 §3.9.1 challenge, folded", "[sipcore][auth]") {
    const std::string_view text =
        "Digest\r\n"
        "    realm=\"http-auth@example.org\",\r\n"
        "    qop=\"auth, auth-int\",\r\n"
        "    algorithm=SHA-256,\r\n"
        "    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
        "    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
    auto c = sip::parse_challenge(text);
    REQUIRE(c);
    CHECK(c->scheme == "Digest");
    CHECK(c->realm == "http-auth@example.org");
    CHECK(c->qop == "auth, auth-int");
    CHECK(c->algorithm == "SHA-256");
    CHECK(c->nonce == "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
    CHECK(c->opaque == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
    CHECK(c->domain.empty());
    CHECK_FALSE(c->stale);
    CHECK_FALSE(c->userhash);
    CHECK(c->params.substr(0, 6) == "realm=");
    CHECK(c->params.data() + c->params.size() == text.data() + text.size());

    // the same challenge offering MD5 (second header of the example)
    auto md5 = sip::parse_challenge(
        "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=MD5, "
        "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
        "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
    REQUIRE(md5);
    CHECK(md5->algorithm == "MD5");
}

TEST_CASE("auth: RFC 7616 §3.9.1 credentials with every digest param", "[sipcore][auth]") {
    const std::string_view text =
        "Digest username=\"Mufasa\",\r\n"
        "    realm=\"http-auth@example.org\",\r\n"
        "    uri=\"/dir/index.html\",\r\n"
        "    algorithm=SHA-256,\r\n"
        "    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
        "    nc=00000001,\r\n"
        "    cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\",\r\n"
        "    qop=auth,\r\n"
        "    response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\",\r\n"
        "    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
    auto c = sip::parse_credentials(text);
    REQUIRE(c);
    CHECK(c->scheme == "Digest");
    CHECK(c->username == "Mufasa");
    CHECK(c->realm == "http-auth@example.org");
    CHECK(c->uri == "/dir/index.html");
    CHECK(c->algorithm == "SHA-256");
    CHECK(c->nonce == "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
    CHECK(c->nc == "00000001");
    CHECK(c->cnonce == "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
    CHECK(c->qop == "auth");
    CHECK(c->response == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
    CHECK(c->opaque == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
    CHECK_FALSE(c->userhash);
    CHECK(c->params.substr(0, 9) == "username=");
    for (auto f :
         {c->username, c->realm, c->uri, c->nonce, c->cnonce, c->response, c->opaque, c->params}) {
        CHECK(inside(f, text));
    }
}

TEST_CASE("auth: userhash (after RFC 7616 §3.9.2) and the RFC 2617 §3.5 example",
          "[sipcore][auth]") {
    auto uh = sip::parse_credentials(
        "Digest username=\"488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec\", "
        "realm=\"api@example.org\", uri=\"/doe.json\", algorithm=SHA-512-256, "
        "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", nc=00000001, "
        "cnonce=\"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v\", qop=auth, "
        "response=\"ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd\", "
        "userhash=true");
    REQUIRE(uh);
    CHECK(uh->userhash);
    CHECK(uh->algorithm == "SHA-512-256");
    CHECK(uh->username == "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec");

    auto ch = sip::parse_challenge(
        "Digest\r\n"
        "        realm=\"testrealm@host.com\",\r\n"
        "        qop=\"auth,auth-int\",\r\n"
        "        nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
        "        opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
    REQUIRE(ch);
    CHECK(ch->realm == "testrealm@host.com");
    CHECK(ch->qop == "auth,auth-int");
    CHECK(ch->nonce == "dcd98b7102dd2f0e8b11d0f600bfb0c093");
    CHECK(ch->opaque == "5ccc069c403ebaf9f0171e9517f40e41");
    CHECK(ch->algorithm.empty());

    auto cr = sip::parse_credentials(
        "Digest username=\"Mufasa\",\r\n"
        "        realm=\"testrealm@host.com\",\r\n"
        "        nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
        "        uri=\"/dir/index.html\",\r\n"
        "        qop=auth,\r\n"
        "        nc=00000001,\r\n"
        "        cnonce=\"0a4f113b\",\r\n"
        "        response=\"6629fae49393a05397450978507c4ef1\",\r\n"
        "        opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
    REQUIRE(cr);
    CHECK(cr->username == "Mufasa");
    CHECK(cr->uri == "/dir/index.html");
    CHECK(cr->qop == "auth");
    CHECK(cr->nc == "00000001");
    CHECK(cr->cnonce == "0a4f113b");
    CHECK(cr->response == "6629fae49393a05397450978507c4ef1");
}

TEST_CASE("auth: SIP REGISTER credentials with MD5 and qop=auth", "[sipcore][auth]") {
    auto c = sip::parse_credentials(
        "Digest username=\"alice\",realm=\"atlanta.com\","
        "nonce=\"84a4cc6f3082121f32b42a2187831a9e\",uri=\"sip:atlanta.com;transport=tcp\","
        "response=\"7587245234b3434cc3412213e5f113a5\",algorithm=MD5,cnonce=\"0a4f113b\","
        "opaque=\"\",qop=auth,nc=00000001");
    REQUIRE(c);
    CHECK(c->username == "alice");
    CHECK(c->realm == "atlanta.com");
    CHECK(c->uri == "sip:atlanta.com;transport=tcp");
    CHECK(c->response == "7587245234b3434cc3412213e5f113a5");
    CHECK(c->algorithm == "MD5");
    CHECK(c->opaque.empty());
    CHECK(c->qop == "auth");
    CHECK(c->nc == "00000001");

    // case-insensitive scheme and names, lenient quoting, escapes kept, LWS around '='
    const std::string_view text =
        "digest USERNAME = \"a\\\"b\" , Realm=example.com , algorithm=\"MD5-sess\", "
        "NC=\"0000000a\", UserHash=FALSE, response=\"xyz\", charset=UTF-8";
    c = sip::parse_credentials(text);
    REQUIRE(c);
    CHECK(c->scheme == "digest");
    CHECK(c->username == "a\\\"b");
    CHECK(sip::unquote(c->username) == "a\"b");
    CHECK(c->realm == "example.com");
    CHECK(c->algorithm == "MD5-sess");
    CHECK(c->nc == "0000000a");
    CHECK_FALSE(c->userhash);
    CHECK(c->response == "xyz");
}

TEST_CASE("auth: challenge flags, domain and unknown params", "[sipcore][auth]") {
    auto c = sip::parse_challenge(
        "Digest realm=\"biloxi.com\", domain=\"sip:biloxi.com sip:ss1.biloxi.com\", "
        "nonce=\"n\", stale=TRUE, userhash=true, algorithm=SHA-256-sess, charset=UTF-8, "
        "x-ext=\"a, b\"");
    REQUIRE(c);
    CHECK(c->realm == "biloxi.com");
    CHECK(c->domain == "sip:biloxi.com sip:ss1.biloxi.com");
    CHECK(c->stale);
    CHECK(c->userhash);
    CHECK(c->algorithm == "SHA-256-sess");
    CHECK(c->params.ends_with("x-ext=\"a, b\""));

    c = sip::parse_challenge("Digest realm=\"r\", stale=false, nonce=\"n\"");
    REQUIRE(c);
    CHECK_FALSE(c->stale);
    // username is not a challenge parameter: repeating it is not a duplicate here
    c = sip::parse_challenge("Digest realm=\"r\", username=\"a\", username=\"b\"");
    REQUIRE(c);
    CHECK(c->realm == "r");
}

TEST_CASE("auth: other schemes keep digest fields empty", "[sipcore][auth]") {
    // RFC 4475 regaut01: an unknown scheme with auth-params
    auto c = sip::parse_credentials("NoOneKnowsThisScheme opaque-data=here");
    REQUIRE(c);
    CHECK(c->scheme == "NoOneKnowsThisScheme");
    CHECK(c->params == "opaque-data=here");
    CHECK(c->opaque.empty());
    CHECK(c->username.empty());

    // RFC 7617 Basic with a token68
    c = sip::parse_credentials("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    REQUIRE(c);
    CHECK(c->scheme == "Basic");
    CHECK(c->params == "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");

    auto ch = sip::parse_challenge("Bearer realm=\"example\", scope=\"openid\", realm=\"again\"");
    REQUIRE(ch);
    CHECK(ch->scheme == "Bearer");
    CHECK(ch->realm.empty());
    CHECK(ch->params == "realm=\"example\", scope=\"openid\", realm=\"again\"");

    // an extension scheme whose name starts like Digest
    ch = sip::parse_challenge("Digestive realm=\"r\"");
    REQUIRE(ch);
    CHECK(ch->scheme == "Digestive");
    CHECK(ch->realm.empty());
}

TEST_CASE("auth: malformed values", "[sipcore][auth]") {
    REQUIRE_ERROR(sip::parse_credentials(""), Errc::bad_header_value, 0);
    REQUIRE_ERROR(sip::parse_credentials("Digest"), Errc::bad_header_value, 6);
    REQUIRE_ERROR(sip::parse_credentials("Digest  "), Errc::bad_header_value, 8);
    REQUIRE_ERROR(sip::parse_credentials("Basic"), Errc::bad_header_value, 5);
    REQUIRE_ERROR(sip::parse_credentials("Digest,realm=\"a\""), Errc::bad_header_value, 6);
    REQUIRE_ERROR(sip::parse_credentials("Digest realm"), Errc::bad_header_value, 12);
    REQUIRE_ERROR(sip::parse_credentials("Digest realm="), Errc::bad_header_value, 13);
    REQUIRE_ERROR(sip::parse_credentials("Digest realm=\"abc"), Errc::bad_header_value, 17);
    REQUIRE_ERROR(sip::parse_credentials("Digest realm=a b"), Errc::bad_header_value, 15);
    REQUIRE_ERROR(sip::parse_credentials("Digest realm=<a>"), Errc::bad_header_value, 13);
    // empty list elements
    REQUIRE_ERROR(sip::parse_credentials("Digest realm=\"a\",, nonce=\"b\""),
                  Errc::bad_header_value, 17);
    REQUIRE_ERROR(sip::parse_credentials("Digest realm=\"a\","), Errc::bad_header_value, 17);
    REQUIRE_ERROR(sip::parse_credentials("Digest , realm=\"a\""), Errc::bad_header_value, 7);
    // Digest takes auth-params only; a token68 is for other schemes
    REQUIRE_ERROR(sip::parse_credentials("Digest QWxh=="), Errc::bad_header_value, 12);
    REQUIRE_ERROR(sip::parse_credentials("Basic abc== def"), Errc::bad_header_value, 12);
    // a scheme that is not a token
    REQUIRE_ERROR(sip::parse_challenge("\"Digest\" realm=\"a\""), Errc::bad_header_value, 0);
    // a bare CRLF is not LWS
    REQUIRE_ERROR(sip::parse_challenge("Digest\r\nrealm=\"a\""), Errc::bad_header_value, 8);
}

TEST_CASE("auth: bad nc, flags and duplicate digest params", "[sipcore][auth]") {
    // nc-value = 8LHEX
    REQUIRE_ERROR(sip::parse_credentials("Digest nc=0000001, realm=\"r\""), Errc::bad_param, 7);
    REQUIRE_ERROR(sip::parse_credentials("Digest realm=\"r\", nc=000000001"), Errc::bad_param, 18);
    REQUIRE_ERROR(sip::parse_credentials("Digest nc=0000000A"), Errc::bad_param, 7);
    REQUIRE_ERROR(sip::parse_credentials("Digest nc=0000000g"), Errc::bad_param, 7);
    REQUIRE_ERROR(sip::parse_credentials("Digest nc=\"\""), Errc::bad_param, 7);
    REQUIRE_ERROR(sip::parse_challenge("Digest realm=\"r\", stale=yes"), Errc::bad_param, 18);
    REQUIRE_ERROR(sip::parse_challenge("Digest userhash=\"1\""), Errc::bad_param, 7);
    REQUIRE_ERROR(sip::parse_credentials("Digest userhash=maybe"), Errc::bad_param, 7);
    // duplicates of stored Digest params
    REQUIRE_ERROR(sip::parse_credentials("Digest realm=\"a\", realm=\"b\""), Errc::bad_param, 18);
    REQUIRE_ERROR(sip::parse_credentials("Digest nc=00000001, NC=00000002"), Errc::bad_param, 20);
    REQUIRE_ERROR(sip::parse_challenge("Digest nonce=\"a\",\r\n nonce=\"a\""), Errc::bad_param, 20);
    REQUIRE_ERROR(sip::parse_challenge("Digest realm=\"a\", stale=true, Stale=true"),
                  Errc::bad_param, 30);
    REQUIRE_ERROR(sip::parse_credentials("Digest username=\"a\", username=\"b\""), Errc::bad_param,
                  21);
    // unknown params may repeat
    auto c = sip::parse_credentials("Digest foo=1, foo=2, realm=\"r\"");
    REQUIRE(c);
    CHECK(c->realm == "r");
}

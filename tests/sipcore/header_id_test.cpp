// sip::header_id / header_name / iequals (libsipcore/src/header_name.cpp): RFC 3261
// §7.3.1 case-insensitive names, §7.3.3 compact forms (plus RFC 3841, 3515, 3892, 4028, 8224).
#include <catch2/catch.hpp>

#include <cctype>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "dump.hpp"
#include "header_lookup.hpp"
#include "sip/header_id.hpp"

using sip::HeaderId;

namespace {

std::string lower(std::string_view s) {
    std::string o(s);
    for (char& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return o;
}
std::string upper(std::string_view s) {
    std::string o(s);
    for (char& c : o) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return o;
}
std::string alternating(std::string_view s) {
    std::string o(s);
    for (std::size_t i = 0; i < o.size(); ++i) {
        const auto c = static_cast<unsigned char>(o[i]);
        o[i] = static_cast<char>(i % 2 ? std::tolower(c) : std::toupper(c));
    }
    return o;
}

}  // namespace

TEST_CASE("header_id: every compact form", "[sipcore][header_id]") {
    const std::pair<char, HeaderId> compact[] = {
        {'a', HeaderId::AcceptContact},      {'b', HeaderId::ReferredBy},
        {'c', HeaderId::ContentType},        {'d', HeaderId::RequestDisposition},
        {'e', HeaderId::ContentEncoding},    {'f', HeaderId::From},
        {'i', HeaderId::CallId},             {'j', HeaderId::RejectContact},
        {'k', HeaderId::Supported},          {'l', HeaderId::ContentLength},
        {'m', HeaderId::Contact},            {'o', HeaderId::Event},
        {'r', HeaderId::ReferTo},            {'s', HeaderId::Subject},
        {'t', HeaderId::To},                 {'u', HeaderId::AllowEvents},
        {'v', HeaderId::Via},                {'x', HeaderId::SessionExpires},
        {'y', HeaderId::Identity},
    };
    for (auto [c, id] : compact) {
        const std::string lc(1, c), uc(1, static_cast<char>(std::toupper(c)));
        INFO(lc);
        CHECK(test::header_id_name(sip::header_id(lc)) == test::header_id_name(id));
        CHECK(test::header_id_name(sip::header_id(uc)) == test::header_id_name(id));
    }
    // letters that are not compact forms here
    for (char c : std::string_view("ghnpqwz")) {
        INFO(c);
        CHECK(sip::header_id(std::string(1, c)) == HeaderId::Other);
    }
}

TEST_CASE("header_id: every full name, in any case, round-trips through header_name",
          "[sipcore][header_id]") {
    std::size_t n = 0;
    for (int i = static_cast<int>(HeaderId::Other) + 1; i < static_cast<int>(HeaderId::Count_); ++i) {
        const auto id = static_cast<HeaderId>(i);
        const std::string_view name = sip::header_name(id);
        INFO("id " << i << " " << name);
        REQUIRE_FALSE(name.empty());
        CHECK(sip::header_id(name) == id);
        CHECK(sip::header_id(lower(name)) == id);
        CHECK(sip::header_id(upper(name)) == id);
        CHECK(sip::header_id(alternating(name)) == id);
        ++n;
    }
    CHECK(n == 62);
    CHECK(sip::header_name(HeaderId::None).empty());
    CHECK(sip::header_name(HeaderId::Other).empty());
}

TEST_CASE("header_id: canonical spellings", "[sipcore][header_id]") {
    CHECK(sip::header_name(HeaderId::CallId) == "Call-ID");
    CHECK(sip::header_name(HeaderId::CSeq) == "CSeq");
    CHECK(sip::header_name(HeaderId::WWWAuthenticate) == "WWW-Authenticate");
    CHECK(sip::header_name(HeaderId::MimeVersion) == "MIME-Version");
    CHECK(sip::header_name(HeaderId::RAck) == "RAck");
    CHECK(sip::header_name(HeaderId::MinSE) == "Min-SE");
    CHECK(sip::header_id("MaX-fOrWaRdS") == HeaderId::MaxForwards);
    CHECK(sip::header_id("cseq") == HeaderId::CSeq);
    CHECK(sip::header_id("CALL-id") == HeaderId::CallId);
}

TEST_CASE("header_id: extension names, prefixes and extensions of known names are Other",
          "[sipcore][header_id]") {
    for (std::string_view name :
         {"X-Custom", "NewFangledHeader", "UnknownHeaderWithUnusualValue", "C%6Fntact", "Vi",
          "Viaa", "To2", "Fro", "Content", "Content-", "Content-Lengthy", "Accept-", "Allow-Event",
          "Session-Expire", "Se", "Call", "Min", "P-Asserted", "tt", "vv", "ll", "WWW",
          "Proxy-Authenticat", "Contacts", "Routes", "Require-"}) {
        INFO(name);
        CHECK(sip::header_id(name) == HeaderId::Other);
    }
    CHECK(sip::header_id("") == HeaderId::Other);
}

TEST_CASE("header_id: iequals is ASCII case-insensitive and nothing more", "[sipcore][header_id]") {
    CHECK(sip::iequals("Content-Length", "content-LENGTH"));
    CHECK(sip::iequals("", ""));
    CHECK_FALSE(sip::iequals("a", "ab"));
    CHECK_FALSE(sip::iequals("Via", "Vib"));
    // characters that differ only in bit 0x20 but are not letters
    CHECK_FALSE(sip::iequals("@", "`"));
    CHECK_FALSE(sip::iequals("[", "{"));
    CHECK_FALSE(sip::iequals("-", "\r"));
    CHECK_FALSE(sip::iequals("\xC0", "\xE0"));
}

namespace {

// The lookup as RFC 3261 §7.3.1 states it: a linear walk over every known name with
// iequals; the hashed lookup must agree with it on every input.
HeaderId reference_id(std::string_view name) {
    static const std::pair<char, HeaderId> compact[] = {
        {'a', HeaderId::AcceptContact}, {'b', HeaderId::ReferredBy},  {'c', HeaderId::ContentType},
        {'d', HeaderId::RequestDisposition}, {'e', HeaderId::ContentEncoding},
        {'f', HeaderId::From},          {'i', HeaderId::CallId},      {'j', HeaderId::RejectContact},
        {'k', HeaderId::Supported},     {'l', HeaderId::ContentLength}, {'m', HeaderId::Contact},
        {'o', HeaderId::Event},         {'r', HeaderId::ReferTo},     {'s', HeaderId::Subject},
        {'t', HeaderId::To},            {'u', HeaderId::AllowEvents}, {'v', HeaderId::Via},
        {'x', HeaderId::SessionExpires}, {'y', HeaderId::Identity},
    };
    for (auto [c, id] : compact)
        if (sip::iequals(name, std::string_view(&c, 1))) return id;
    for (int i = static_cast<int>(HeaderId::Other) + 1; i < static_cast<int>(HeaderId::Count_); ++i) {
        const auto id = static_cast<HeaderId>(i);
        if (sip::iequals(name, sip::header_name(id))) return id;
    }
    return HeaderId::Other;
}

}  // namespace

TEST_CASE("header_id: every one-octet change of every known name agrees with a linear lookup",
          "[sipcore][header_id]") {
    // Exactness of the hashed, word-wise compare: only letters fold ('-' and 0x0d, '@' and
    // '`' differ only in bit 0x20 too), and no octet of another value slips through.
    std::size_t checked = 0, mismatched = 0;
    for (int i = static_cast<int>(HeaderId::Other) + 1; i < static_cast<int>(HeaderId::Count_); ++i) {
        const std::string name(sip::header_name(static_cast<HeaderId>(i)));
        for (std::size_t at = 0; at < name.size(); ++at) {
            for (int c = 0; c < 256; ++c) {
                std::string v = name;
                v[at] = static_cast<char>(c);
                ++checked;
                if (sip::header_id(v) != reference_id(v)) {
                    ++mismatched;
                    UNSCOPED_INFO("mismatch: " << v);
                }
            }
        }
    }
    CHECK(checked > 100000);
    CHECK(mismatched == 0);
    CHECK(sip::header_id("Call\rID") == HeaderId::Other);
    CHECK(sip::header_id("CALL-ID") == HeaderId::CallId);
}

TEST_CASE("header_id: the in-place lookup ignores the octets after the name",
          "[sipcore][header_id]") {
    // The parser looks names up in the message buffer, reading whole words past the name.
    for (int i = static_cast<int>(HeaderId::Other) + 1; i < static_cast<int>(HeaderId::Count_); ++i) {
        const auto id = static_cast<HeaderId>(i);
        const std::string_view name = sip::header_name(id);
        for (char fill : {'\0', ':', 'a', 'Z', '-', '\xff'}) {
            char buf[64];
            std::memset(buf, fill, sizeof buf);
            std::memcpy(buf, name.data(), name.size());
            INFO(name << " followed by " << int(fill));
            CHECK(sip::detail::header_id_padded(buf, name.size()) == id);
            // a prefix is not the name, whatever follows it
            CHECK(sip::detail::header_id_padded(buf, name.size() - 1) ==
                  reference_id(name.substr(0, name.size() - 1)));
        }
    }
    char long_name[64];
    std::memset(long_name, 'a', sizeof long_name);
    CHECK(sip::detail::header_id_padded(long_name, 21) == HeaderId::Other);
    CHECK(sip::detail::header_id_padded(long_name, 0) == HeaderId::Other);
    CHECK(sip::detail::header_id_padded(long_name, 1) == HeaderId::AcceptContact);
}

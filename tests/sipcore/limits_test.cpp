// Message::parse limits (ParseLimits: max_message, max_headers, max_header) and the
// message-level errors, with exact codes, offsets and headers (libsipcore/src/message.cpp).
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "dump.hpp"
#include "sip/message.hpp"
#include "test_macros.hpp"

using sip::Errc;
using sip::HeaderId;

namespace {

const std::string kStart = "OPTIONS sip:a@example.com SIP/2.0\r\n";  // 35 bytes
const std::string kMandatory =
    "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
    "From: <sip:b@example.com>;tag=1\r\n"
    "To: <sip:a@example.com>\r\n"
    "Call-ID: c1\r\n"
    "CSeq: 1 OPTIONS\r\n";

std::string with(const std::string& extra_headers, std::string_view body = "") {
    return kStart + kMandatory + extra_headers + "Content-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + std::string(body);
}

sip::Result<sip::Message> parse(std::string_view b, const sip::ParseLimits& lim = {}) {
    return sip::Message::parse(b, lim);
}

}  // namespace

TEST_CASE("limits: max_message", "[sipcore][limits]") {
    const std::string m = with("", "0123456789");
    sip::ParseLimits lim;
    lim.max_message = static_cast<std::uint32_t>(m.size());
    CHECK(parse(m, lim).has_value());
    lim.max_message = static_cast<std::uint32_t>(m.size() - 1);
    REQUIRE_ERR_H(parse(m, lim), Errc::too_large, 0, HeaderId::None);
    // leading CRLFs are skipped before the size check, and counted in the offset
    lim.max_message = static_cast<std::uint32_t>(m.size());
    CHECK(parse("\r\n\r\n" + m, lim).has_value());
    lim.max_message = static_cast<std::uint32_t>(m.size() - 1);
    REQUIRE_ERR(parse("\r\n\r\n" + m, lim), Errc::too_large, 4);
}

TEST_CASE("limits: max_headers", "[sipcore][limits]") {
    std::string extra;
    for (int i = 0; i < 40; ++i) extra += "X-H" + std::to_string(i) + ": v" + std::to_string(i) + "\r\n";
    const std::string m = with(extra);  // 5 mandatory + 40 + Content-Length = 46 fields
    sip::ParseLimits lim;
    lim.max_headers = 46;
    auto ok = parse(m, lim);
    REQUIRE(ok);
    CHECK(ok->headers().size() == 46);
    // more fields than the inline slots: every span still right
    for (int i = 0; i < 40; ++i) {
        const sip::HeaderField* h = ok->find("x-h" + std::to_string(i));
        REQUIRE(h);
        CHECK(ok->value(*h) == "v" + std::to_string(i));
    }
    lim.max_headers = 45;
    // the 46th field is Content-Length: the error points at its name
    REQUIRE_ERR_H(parse(m, lim), Errc::too_many_headers, m.find("Content-Length"), HeaderId::None);
    lim.max_headers = 5;
    REQUIRE_ERR(parse(m, lim), Errc::too_many_headers, m.find("X-H0"));
    lim.max_headers = 0;
    REQUIRE_ERR(parse(m, lim), Errc::too_many_headers, 35);
}

TEST_CASE("limits: header count is capped at 1024 whatever max_headers says", "[sipcore][limits]") {
    std::string extra;
    for (int i = 0; i < 1100; ++i) extra += "X: " + std::to_string(i) + "\r\n";
    const std::string m = with(extra);
    sip::ParseLimits lim;
    lim.max_message = 1 << 20;
    lim.max_headers = 65535;
    // 5 mandatory fields, then the 1020th "X" is field 1025
    std::size_t at = kStart.size() + kMandatory.size();
    for (int i = 0; i < 1019; ++i) at = m.find("\r\n", at) + 2;
    CHECK(m.substr(at, 8) == "X: 1019\r");
    REQUIRE_ERR(parse(m, lim), Errc::too_many_headers, at);
}

TEST_CASE("limits: max_header counts the whole field, name and folding included",
          "[sipcore][limits]") {
    const std::string value(100, 'x');
    const std::string field = "Subject: " + value.substr(0, 50) + "\r\n " + value.substr(50);  // 112
    const std::string m = with(field + "\r\n");
    const std::size_t at = m.find("Subject");
    sip::ParseLimits lim;
    lim.max_header = 112;
    auto ok = parse(m, lim);
    REQUIRE(ok);
    CHECK(ok->value(*ok->find(HeaderId::Subject)).size() == 103);
    lim.max_header = 111;
    REQUIRE_ERR_H(parse(m, lim), Errc::header_too_long, at, HeaderId::None);
}

TEST_CASE("limits: a field longer than 65535 bytes is too long even when allowed",
          "[sipcore][limits]") {
    const std::string m = with("X-Big: " + std::string(70000, 'b') + "\r\n");
    sip::ParseLimits lim;
    lim.max_message = 1 << 20;
    lim.max_header = 1 << 20;
    REQUIRE_ERR(parse(m, lim), Errc::header_too_long, m.find("X-Big"));
}

TEST_CASE("limits: empty input and CRLF-only input", "[sipcore][limits]") {
    REQUIRE_ERR(parse(""), Errc::empty, 0);
    REQUIRE_ERR(parse("\r\n\r\n"), Errc::empty, 4);
    // leading CRLFs are ignored (RFC 3261 §7.5) and not part of the message
    const std::string m = with("");
    auto r = parse("\r\n\r\n" + m);
    REQUIRE(r);
    CHECK(r->bytes() == m);
    CHECK(r->headers()[0].value_off == 40);
}

TEST_CASE("limits: a start line that is only a method is a malformed start line",
          "[sipcore][limits]") {
    // "HELLO" is a valid token, the line just ends: bad_method would name the wrong fault.
    REQUIRE_ERR(parse("HELLO\r\n"), Errc::bad_start_line, 5);
}

TEST_CASE("limits: message-level errors with exact offsets", "[sipcore][limits]") {
    const std::string m = with("");
    const std::size_t via = kStart.size();  // 35

    // start line
    REQUIRE_ERR(parse("OPTIONS sip:a@example.com SIP/2.0"), Errc::incomplete, 33);
    REQUIRE_ERR(parse("OPTIONS sip:a@example.com SIP/2.0\n"), Errc::bad_line_end, 33);
    REQUIRE_ERR(parse("\n"), Errc::bad_line_end, 0);
    REQUIRE_ERR(parse("INV@ITE sip:a@h SIP/2.0\r\n" + kMandatory + "\r\n"), Errc::bad_method, 3);
    REQUIRE_ERR(parse("OPTIONS sip:a@h SIP/2.0x\r\n"), Errc::bad_version, 23);
    REQUIRE_ERR(parse("OPTIONS sip:a@h SIP/3.0\r\n"), Errc::unsupported_version, 20);
    REQUIRE_ERR(parse("SIP/2.0 99 OK\r\n"), Errc::bad_status_code, 10);
    REQUIRE_ERR(parse("SIP/2.0 700 Foo\r\n"), Errc::bad_status_code, 8);
    REQUIRE_ERR(parse("SIP/2.0 099 Foo\r\n"), Errc::bad_status_code, 8);
    REQUIRE_ERR(parse("SIP/2.0 200 O\x01K\r\n"), Errc::bad_reason_phrase, 13);
    REQUIRE_ERR(parse("SIP/2.1 200 OK\r\n"), Errc::unsupported_version, 4);
    REQUIRE_ERR(parse("OPTIONS sip:a@h?x=y SIP/2.0\r\n"), Errc::uri_headers_in_ruri, 15);

    // header section
    std::string bare_lf = m;
    bare_lf.replace(via + kMandatory.find("\r\nTo:"), 2, "\n");
    REQUIRE_ERR(parse(bare_lf), Errc::bad_line_end, via + kMandatory.find("\r\nTo:"));
    REQUIRE_ERR(parse(kStart + "Bad Name: x\r\n" + kMandatory + "\r\n"), Errc::bad_header_name, via + 4);
    REQUIRE_ERR(parse(kStart + "NoColon\r\n" + kMandatory + "\r\n"), Errc::bad_header_name, via + 7);
    REQUIRE_ERR(parse(kStart + " Via: x\r\n"), Errc::bad_header_name, via);
    REQUIRE_ERR(parse(kStart + "@: x\r\n"), Errc::bad_header_name, via);
    REQUIRE_ERR(parse(kStart + kMandatory), Errc::incomplete, (kStart + kMandatory).size());
    REQUIRE_ERR(parse(kStart + kMandatory + "\r"), Errc::bad_line_end, (kStart + kMandatory).size());
    REQUIRE_ERR(parse(kStart + kMandatory + "X: y"), Errc::incomplete, (kStart + kMandatory).size() + 4);

    // mandatory and single-valued headers
    REQUIRE_ERR_H(parse(kStart + "CSeq: 1 OPTIONS\r\n\r\n"), Errc::missing_header, 54, HeaderId::Via);
    {
        std::string no_to = m;
        no_to.erase(no_to.find("To: "), 25);
        REQUIRE_ERR_H(parse(no_to), Errc::missing_header, no_to.find("\r\n\r\n") + 4, HeaderId::To);
    }
    {
        const std::string dup = with("t: <sip:c@example.com>\r\n");
        REQUIRE_ERR_H(parse(dup), Errc::duplicate_header, dup.find("t: "), HeaderId::To);
    }
    {
        const std::string dup = with("Max-Forwards: 1\r\nMax-Forwards: 2\r\n");
        REQUIRE_ERR_H(parse(dup), Errc::duplicate_header, dup.find("Max-Forwards: 2"),
                      HeaderId::MaxForwards);
    }
    {
        const std::string bad = with("Max-Forwards: 256\r\n");
        REQUIRE_ERR_H(parse(bad), Errc::value_out_of_range, bad.find("256"), HeaderId::MaxForwards);
    }
    {
        // an empty top Via field
        const std::string bad = kStart + "Via: \r\n" + kMandatory + "Content-Length: 0\r\n\r\n";
        REQUIRE_ERR_H(parse(bad), Errc::bad_header_value, via + 5, HeaderId::Via);
    }
    {
        // the top via-parm is typed at ingress: its error offset is inside the message
        const std::string bad = kStart + "Via: SIP/2.0/UDP b:x;branch=z9hG4bK2, SIP/2.0/UDP c\r\n" +
                                kMandatory.substr(kMandatory.find("From")) + "Content-Length: 0\r\n\r\n";
        REQUIRE_ERR_H(parse(bad), Errc::bad_header_value, bad.find("b:x") + 2, HeaderId::Via);
    }
    {
        // values below the top one are parsed on demand only (message.hpp)
        const std::string lazy = with("Via: SIP/2.0/UDP a;branch=z9hG4bK2, SIP/2.0/UDP b:x\r\nVia: \r\n");
        auto r = parse(lazy);
        REQUIRE(r);
        CHECK(r->via_count() == 3);
        std::string_view list = r->value(r->headers()[5]);
        REQUIRE(sip::next_via(list));
        REQUIRE_ERR(sip::next_via(list), Errc::bad_header_value, 14);
    }
    {
        const std::string bad = with("Contact: <sip:a@h>, <sip:b@h:x>\r\n");
        REQUIRE_ERR_H(parse(bad), Errc::bad_header_value, bad.find("h:x>") + 2, HeaderId::Contact);
    }
    {
        std::string bad = m;
        bad.replace(bad.find("Call-ID: c1"), 11, "Call-ID: c 1");
        REQUIRE_ERR_H(parse(bad), Errc::bad_header_value, bad.find("c 1") + 1, HeaderId::CallId);
    }
    {
        std::string bad = m;
        bad.replace(bad.find("CSeq: 1 OPTIONS"), 15, "CSeq: 1 INVITE");
        REQUIRE_ERR_H(parse(bad), Errc::cseq_method_mismatch, bad.find("1 INVITE"), HeaderId::CSeq);
    }

    // body framing
    {
        const std::string trunc = with("", "0123456789");
        const std::string cut = trunc.substr(0, trunc.size() - 1);
        REQUIRE_ERR_H(parse(cut), Errc::body_truncated, cut.size(), HeaderId::ContentLength);
    }
    {
        std::string bad = m;
        bad.replace(bad.find("Content-Length: 0"), 17, "Content-Length: 0x");
        REQUIRE_ERR_H(parse(bad), Errc::bad_content_length, bad.find("0x") + 1,
                      HeaderId::ContentLength);
    }
    {
        std::string no_cl = kStart + kMandatory + "\r\nbody";
        auto dg = parse(no_cl);
        REQUIRE(dg);
        CHECK(dg->body() == "body");  // datagram: the rest is the body
        REQUIRE_ERR_H(sip::Message::parse(no_cl, {}, sip::Framing::Stream), Errc::missing_header,
                      no_cl.size() - 4, HeaderId::ContentLength);
    }
    {
        // datagram: octets after Content-Length are not part of the message
        const std::string extra = with("", "abc") + "JUNK";
        auto r = parse(extra);
        REQUIRE(r);
        CHECK(r->body() == "abc");
        CHECK(r->bytes() == extra.substr(0, extra.size() - 4));
    }
}

TEST_CASE("limits: header names found by the ':' search agree with the exact walk",
          "[sipcore][limits][parser]") {
    // message.cpp finds a name's ':' with a block search within 32 octets and falls back to
    // walking the name octet by octet; names of every length around that window, with and
    // without WSP before the ':', in both paths, must give the same fields and errors.
    const std::size_t via = kStart.size();
    for (std::size_t len = 1; len <= 40; ++len) {
        for (std::string_view wsp : {"", " ", " \t "}) {
            std::string name = "Z";  // not a compact form
            while (name.size() < len) name += static_cast<char>('a' + name.size() % 26);
            const std::string m = with(name + std::string(wsp) + ":  v:w \r\n");
            INFO("name " << name << " wsp " << wsp.size());
            auto r = parse(m);
            REQUIRE(r.has_value());
            const sip::HeaderField* h = r->find(name);
            REQUIRE(h != nullptr);
            CHECK(h->id == HeaderId::Other);
            CHECK(r->name(*h) == name);
            CHECK(r->value(*h) == "v:w");

            // a non-token octet anywhere in the name: the error names that octet
            for (std::size_t at = 1; at < len; ++at) {
                for (char bad : {'@', '"', '\x01', '\x80', '\r'}) {
                    std::string broken = name;
                    broken[at] = bad;
                    INFO("bad octet " << int(static_cast<unsigned char>(bad)) << " at " << at);
                    REQUIRE_ERR(parse(kStart + broken + std::string(wsp) + ": v\r\n" + kMandatory +
                                      "\r\n"),
                                Errc::bad_header_name, via + at);
                }
            }
        }
    }
    // known names in any case, with WSP before the ':', are still typed and validated
    auto r = parse(kStart + "VIA  : SIP/2.0/UDP h;branch=z9hG4bK2\r\n" + kMandatory.substr(kMandatory.find("From")) +
                   "cAlL-iD\t: c2\r\n\r\n");
    REQUIRE_FALSE(r.has_value());
    CHECK(test::errc_name(r.error().code) == test::errc_name(Errc::duplicate_header));
    auto ok = parse(kStart + "VIA  : SIP/2.0/UDP h;branch=z9hG4bK2\r\n" +
                    kMandatory.substr(kMandatory.find("From")) + "x-a: b\r\n\r\n");
    REQUIRE(ok.has_value());
    CHECK(ok->top_via().branch == "z9hG4bK2");
    CHECK(ok->via_count() == 1);
    // '-' is compared exactly: "Call<CR>ID" is not Call-ID (0x0d and 0x2d differ in bit 0x20)
    REQUIRE_ERR(parse(kStart + "Call\rID: x\r\n" + kMandatory + "\r\n"), Errc::bad_header_name,
                via + 4);
    // no ':' on the line at all, short and long
    REQUIRE_ERR(parse(kStart + "Via\r\n" + kMandatory + "\r\n"), Errc::bad_header_name, via + 3);
    REQUIRE_ERR(parse(kStart + std::string(50, 'y') + "\r\n" + kMandatory + "\r\n"),
                Errc::bad_header_name, via + 50);
    // a ':' on the folded continuation only
    REQUIRE_ERR(parse(kStart + "Subject\r\n : x\r\n" + kMandatory + "\r\n"), Errc::bad_header_name,
                via + 7);
}

// sip::StreamFramer (libsipcore/src/framer.cpp): RFC 3261 §18.3 stream framing, RFC 5626
// §3.5.1 CRLF keep-alives, size limits, sticky errors.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "sip/framer.hpp"
#include "sip/message.hpp"

using sip::Errc;
using Kind = sip::StreamFramer::Kind;

namespace {

std::string msg(std::string_view body = "", std::string_view cl_name = "Content-Length") {
    std::string m =
        "OPTIONS sip:a@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/TCP h.example.com;branch=z9hG4bK1\r\n"
        "From: <sip:b@example.com>;tag=1\r\n"
        "To: <sip:a@example.com>\r\n"
        "Call-ID: c1\r\n"
        "CSeq: 1 OPTIONS\r\n";
    m += std::string(cl_name) + ": " + std::to_string(body.size()) + "\r\n\r\n";
    m += body;
    return m;
}

const std::string kNoCl =
    "OPTIONS sip:a@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TCP h.example.com;branch=z9hG4bK1\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "\r\n";

}  // namespace

TEST_CASE("framer: empty stream needs more", "[sipcore][framer]") {
    sip::StreamFramer fr;
    CHECK(fr.next().kind == Kind::NeedMore);
    fr.feed("");
    CHECK(fr.next().kind == Kind::NeedMore);
    CHECK(fr.buffered() == 0);
    CHECK_FALSE(fr.failed());
}

TEST_CASE("framer: CRLFCRLF is a ping, a lone CRLF is a pong", "[sipcore][framer]") {
    sip::StreamFramer fr;
    fr.feed("\r\n\r\n");
    CHECK(fr.next().kind == Kind::Ping);
    CHECK(fr.next().kind == Kind::NeedMore);
    CHECK(fr.buffered() == 0);

    // on a flow where this side sends the pings, a lone CRLF is a pong at once
    sip::StreamFramer pong({}, /*expect_pongs=*/true);
    pong.feed("\r\n");
    CHECK(pong.next().kind == Kind::Pong);
    CHECK(pong.next().kind == Kind::NeedMore);
    // otherwise it may be half of a ping: wait, then one ping for the two halves
    sip::StreamFramer split;
    split.feed("\r\n");
    CHECK(split.next().kind == Kind::NeedMore);
    split.feed("\r\n");
    CHECK(split.next().kind == Kind::Ping);
    CHECK(split.next().kind == Kind::NeedMore);
    // a CR after CRLF that is not followed by LF is a framing error, not a stall (fuzz)
    sip::StreamFramer stall;
    stall.feed("\r\n\rX");
    auto e = stall.next();
    CHECK(e.kind == Kind::Error);
    CHECK(e.error.code == sip::Errc::bad_line_end);
    CHECK(e.error.offset == 3);

    // pong followed by a message in the same chunk
    sip::StreamFramer both;
    const std::string m = msg();
    both.feed("\r\n" + m);
    CHECK(both.next().kind == Kind::Pong);
    auto f = both.next();
    REQUIRE(f.kind == Kind::Message);
    CHECK(f.bytes == m);

    // ping, message, ping
    sip::StreamFramer ppm;
    ppm.feed("\r\n\r\n" + m + "\r\n\r\n");
    CHECK(ppm.next().kind == Kind::Ping);
    CHECK(ppm.next().kind == Kind::Message);
    CHECK(ppm.next().kind == Kind::Ping);
    CHECK(ppm.next().kind == Kind::NeedMore);

    // "\r\n\r" waits for the fourth byte, then is a ping
    sip::StreamFramer part;
    part.feed("\r\n\r");
    CHECK(part.next().kind == Kind::NeedMore);
    part.feed("\n");
    CHECK(part.next().kind == Kind::Ping);
}

TEST_CASE("framer: CR not followed by LF between messages is an error", "[sipcore][framer]") {
    sip::StreamFramer fr;
    fr.feed("\rX");
    auto f = fr.next();
    CHECK(f.kind == Kind::Error);
    CHECK(f.error.code == Errc::bad_line_end);
    CHECK(f.error.offset == 1);
}

TEST_CASE("framer: two messages in one chunk, with bodies", "[sipcore][framer]") {
    const std::string a = msg("hello"), b = msg("", "l");
    sip::StreamFramer fr;
    fr.feed(a + b);
    auto f1 = fr.next();
    REQUIRE(f1.kind == Kind::Message);
    CHECK(f1.bytes == a);
    auto p1 = sip::Message::parse(f1.bytes, {}, sip::Framing::Stream);
    REQUIRE(p1);
    CHECK(p1->body() == "hello");
    auto f2 = fr.next();
    REQUIRE(f2.kind == Kind::Message);
    CHECK(f2.bytes == b);  // compact Content-Length
    CHECK(fr.next().kind == Kind::NeedMore);
    CHECK(fr.buffered() == 0);
}

TEST_CASE("framer: a body is waited for; trailing bytes start the next frame",
          "[sipcore][framer]") {
    const std::string a = msg("0123456789");
    sip::StreamFramer fr;
    fr.feed(a.substr(0, a.size() - 3));
    CHECK(fr.next().kind == Kind::NeedMore);
    fr.feed(a.substr(a.size() - 3) + "OPT");
    auto f = fr.next();
    REQUIRE(f.kind == Kind::Message);
    CHECK(f.bytes == a);
    CHECK(fr.next().kind == Kind::NeedMore);
    CHECK(fr.buffered() == 3);
}

TEST_CASE("framer: missing Content-Length is an error at the end of the header section",
          "[sipcore][framer]") {
    sip::StreamFramer fr;
    fr.feed(kNoCl);
    auto f = fr.next();
    CHECK(f.kind == Kind::Error);
    CHECK(f.error.code == Errc::missing_header);
    CHECK(f.error.offset == kNoCl.size());
    // the stream offset counts earlier frames
    sip::StreamFramer fr2;
    const std::string a = msg();
    fr2.feed(a + kNoCl);
    CHECK(fr2.next().kind == Kind::Message);
    auto e = fr2.next();
    CHECK(e.kind == Kind::Error);
    CHECK(e.error.code == Errc::missing_header);
    CHECK(e.error.offset == a.size() + kNoCl.size());
}

TEST_CASE("framer: malformed or conflicting Content-Length", "[sipcore][framer]") {
    for (std::string_view bad : {"-999", "five", "1 2", "4294967296", ""}) {
        INFO(bad);
        std::string m = msg();
        const std::size_t at = m.find("Content-Length: 0");
        m.replace(at + 16, 1, bad);
        sip::StreamFramer fr;
        fr.feed(m);
        auto f = fr.next();
        CHECK(f.kind == Kind::Error);
        CHECK(f.error.code == Errc::bad_content_length);
        CHECK(f.error.offset == at);
    }
    std::string twice = msg();
    const std::size_t cl = twice.find("Content-Length");
    twice.insert(cl, "l: 5\r\n");
    sip::StreamFramer fr;
    fr.feed(twice);
    auto f = fr.next();
    CHECK(f.kind == Kind::Error);
    CHECK(f.error.code == Errc::bad_content_length);
    CHECK(f.error.offset == cl + 6);  // the second one
}

TEST_CASE("framer: max_message limit", "[sipcore][framer]") {
    const std::string a = msg("0123456789");
    {
        sip::ParseLimits lim;
        lim.max_message = static_cast<std::uint32_t>(a.size());
        sip::StreamFramer fr(lim);
        fr.feed(a);
        CHECK(fr.next().kind == Kind::Message);  // exactly at the limit
    }
    {
        sip::ParseLimits lim;
        lim.max_message = static_cast<std::uint32_t>(a.size() - 1);
        sip::StreamFramer fr(lim);
        fr.feed(a.substr(0, a.size() - 10));  // header complete, Content-Length too big
        auto f = fr.next();
        CHECK(f.kind == Kind::Error);
        CHECK(f.error.code == Errc::too_large);
        CHECK(f.error.offset == 0);
    }
    {
        // a header section that never ends
        sip::ParseLimits lim;
        lim.max_message = 100;
        sip::StreamFramer fr(lim);
        fr.feed(std::string(100, 'A'));
        CHECK(fr.next().kind == Kind::NeedMore);
        fr.feed("A");
        auto f = fr.next();
        CHECK(f.kind == Kind::Error);
        CHECK(f.error.code == Errc::too_large);
    }
    {
        // the second message's offset is its stream offset
        sip::ParseLimits lim;
        lim.max_message = static_cast<std::uint32_t>(a.size());
        sip::StreamFramer fr(lim);
        const std::string big = msg("0123456789A");
        fr.feed(a + big);
        CHECK(fr.next().kind == Kind::Message);
        auto f = fr.next();
        CHECK(f.kind == Kind::Error);
        CHECK(f.error.code == Errc::too_large);
        CHECK(f.error.offset == a.size());
    }
}

TEST_CASE("framer: an error is sticky", "[sipcore][framer]") {
    sip::StreamFramer fr;
    fr.feed(kNoCl);
    auto e1 = fr.next();
    REQUIRE(e1.kind == Kind::Error);
    CHECK(fr.failed());
    fr.feed(msg());  // ignored
    auto e2 = fr.next();
    CHECK(e2.kind == Kind::Error);
    CHECK(e2.error == e1.error);
    CHECK(fr.next().kind == Kind::Error);
}

TEST_CASE("framer: a long stream of messages fed in odd chunks", "[sipcore][framer]") {
    std::string stream;
    std::vector<std::string> sent;
    for (int i = 0; i < 200; ++i) {
        sent.push_back(msg(std::string(static_cast<std::size_t>(i % 17), 'x')));
        stream += sent.back();
        if (i % 5 == 0) stream += "\r\n\r\n";
    }
    sip::StreamFramer fr;
    std::vector<std::string> got;
    int pings = 0, pongs = 0;
    for (std::size_t pos = 0, step = 1; pos < stream.size(); pos += step, step = step * 7 % 97 + 1) {
        fr.feed(std::string_view(stream).substr(pos, step));
        for (;;) {
            auto f = fr.next();
            if (f.kind == Kind::NeedMore) break;
            REQUIRE(f.kind != Kind::Error);
            if (f.kind == Kind::Message) got.emplace_back(f.bytes);
            if (f.kind == Kind::Ping) ++pings;
            if (f.kind == Kind::Pong) ++pongs;
        }
    }
    CHECK(got == sent);
    CHECK(fr.buffered() == 0);
    // 40 keep-alives, each one ping however the chunks split it
    CHECK(pings == 40);
    CHECK(pongs == 0);
}

TEST_CASE("framer: in_message says a message has started and not ended", "[sipcore][framer]") {
    sip::StreamFramer fr;
    CHECK_FALSE(fr.in_message());
    fr.feed("\r\n");  // half a ping, or a keep-alive: no message yet
    CHECK(fr.next().kind == Kind::NeedMore);
    CHECK_FALSE(fr.in_message());
    const std::string m = msg("hello");
    fr.feed("\r\n");
    CHECK(fr.next().kind == Kind::Ping);
    fr.feed(m.substr(0, 1));
    CHECK(fr.next().kind == Kind::NeedMore);
    CHECK(fr.in_message());
    fr.feed(m.substr(1, m.size() - 2));  // all but the last body byte
    CHECK(fr.next().kind == Kind::NeedMore);
    CHECK(fr.in_message());
    fr.feed(m.substr(m.size() - 1) + "\r\n\r\n" + m.substr(0, 3));
    CHECK(fr.next().kind == Kind::Message);
    CHECK(fr.next().kind == Kind::Ping);
    CHECK(fr.next().kind == Kind::NeedMore);
    CHECK(fr.in_message());  // the next one has begun
    fr.feed(m.substr(3));
    CHECK(fr.next().kind == Kind::Message);
    CHECK_FALSE(fr.in_message());
}

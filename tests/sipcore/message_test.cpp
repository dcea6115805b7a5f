// Golden span dumps (DESIGN.md §9): tests/data/golden/*.sip parsed and dumped with
// tests/support/dump.cpp must equal the matching *.expected, whole, through a StreamFramer
// split at every byte, and when the input ends at a PROT_NONE page.
//
// Regenerate the .expected files (then review the diff by eye!):
//   TRUNKLINE_UPDATE_GOLDEN=1 <build>/tests/sipcore/sipcore_message_test "[golden]"
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "dump.hpp"
#include "guarded.hpp"
#include "sip/framer.hpp"
#include "sip/headers.hpp"
#include "sip/message.hpp"
#include "test_data.hpp"

using sip::Errc;
using sip::HeaderId;

namespace {

struct Golden {
    std::string name;
    std::string bytes;
    std::string expected;
};

std::vector<Golden> load_golden() {
    std::vector<Golden> out;
    const bool update = std::getenv("TRUNKLINE_UPDATE_GOLDEN") != nullptr;
    for (const auto& p : test::files_with_ext(test::data_dir() / "golden", ".sip")) {
        Golden g;
        g.name = p.filename().string();
        g.bytes = test::read_file(p);
        auto exp_path = p;
        exp_path.replace_extension(".expected");
        if (update) test::write_file(exp_path, test::dump_parse(g.bytes));
        g.expected = test::read_file(exp_path);
        out.push_back(std::move(g));
    }
    return out;
}

const std::vector<Golden>& golden() {
    static const std::vector<Golden> g = load_golden();
    return g;
}

using test::via_values;

// Frames everything fed so far; returns the Message frames (copied) and fails on Error.
void drain(sip::StreamFramer& fr, std::vector<std::string>& frames) {
    for (;;) {
        auto f = fr.next();
        if (f.kind == sip::StreamFramer::Kind::NeedMore) return;
        REQUIRE(f.kind == sip::StreamFramer::Kind::Message);
        frames.emplace_back(f.bytes);
    }
}

}  // namespace

TEST_CASE("message: golden corpus is present", "[sipcore][message][golden]") {
    REQUIRE(golden().size() >= 12);
    for (const Golden& g : golden()) {
        INFO(g.name);
        CHECK(g.expected.rfind("error ", 0) != 0);  // every golden message is valid
    }
}

TEST_CASE("message: golden span dumps match .expected", "[sipcore][message][golden]") {
    for (const Golden& g : golden()) {
        {
            INFO(g.name);
            CHECK(test::dump_parse(g.bytes) == g.expected);
            // the dump is the same when parsed with stream semantics (all carry Content-Length)
            CHECK(test::dump_parse(g.bytes, sip::Framing::Stream) == g.expected);
        }
    }
}

TEST_CASE("message: every header span lies inside the message and names its bytes",
          "[sipcore][message][golden]") {
    for (const Golden& g : golden()) {
        {
            INFO(g.name);
            auto r = sip::Message::parse(g.bytes);
            REQUIRE(r);
            const sip::Message& m = *r;
            CHECK(m.bytes() == g.bytes);
            for (const sip::HeaderField& h : m.headers()) {
                REQUIRE(h.value_off + h.value_len <= m.header_section_size());
                CHECK(m.value(h) == std::string_view(g.bytes).substr(h.value_off, h.value_len));
                CHECK(m.name(h) == std::string_view(g.bytes).substr(h.name_off, h.name_len));
                CHECK(sip::header_id(m.name(h)) == h.id);
            }
            CHECK(m.body() == std::string_view(g.bytes).substr(m.header_section_size()));
        }
    }
}

TEST_CASE("message: golden messages framed from a stream split at every byte",
          "[sipcore][message][golden][framer]") {
    for (const Golden& g : golden()) {
        {
            INFO(g.name);
            const std::string_view all(g.bytes);
            for (std::size_t k = 0; k <= all.size(); ++k) {
                INFO("split at " << k);
                sip::StreamFramer fr;
                std::vector<std::string> frames;
                fr.feed(all.substr(0, k));
                drain(fr, frames);
                if (k < all.size()) CHECK(frames.empty());
                fr.feed(all.substr(k));
                drain(fr, frames);
                REQUIRE(frames.size() == 1);
                REQUIRE(frames[0] == g.bytes);
                CHECK(fr.buffered() == 0);
                if (k % 97 == 0 || k == all.size()) {
                    CHECK(test::dump_parse(frames[0], sip::Framing::Stream) == g.expected);
                }
            }
        }
    }
}

TEST_CASE("message: golden messages framed byte by byte, twice in a row",
          "[sipcore][message][golden][framer]") {
    for (const Golden& g : golden()) {
        {
            INFO(g.name);
            sip::StreamFramer fr;
            std::vector<std::string> frames;
            const std::string twice = g.bytes + g.bytes;
            for (std::size_t i = 0; i < twice.size(); ++i) {
                fr.feed(std::string_view(twice).substr(i, 1));
                const std::size_t before = frames.size();
                drain(fr, frames);
                // a frame completes exactly on the last byte of each copy
                if (i + 1 == g.bytes.size() || i + 1 == twice.size()) {
                    CHECK(frames.size() == before + 1);
                } else {
                    CHECK(frames.size() == before);
                }
            }
            REQUIRE(frames.size() == 2);
            CHECK(frames[0] == g.bytes);
            CHECK(frames[1] == g.bytes);
            CHECK(test::dump_parse(frames[1], sip::Framing::Stream) == g.expected);
        }
    }
}

TEST_CASE("message: golden messages ending at a PROT_NONE page, whole and every prefix",
          "[sipcore][message][golden][guard]") {
    test::GuardedBuffer guard(16384);
    for (const Golden& g : golden()) {
        {
            INFO(g.name);
            std::string_view at_edge = guard.place(g.bytes);
            REQUIRE((at_edge.data() + at_edge.size() == guard.guard()));  // (( )): never print a char*
            CHECK(test::dump_parse(at_edge) == g.expected);
            auto whole = sip::Message::parse(at_edge);
            REQUIRE(whole);
            const std::uint32_t head = whole->header_section_size();

            for (std::size_t len = 0; len < g.bytes.size(); ++len) {
                std::string_view prefix = guard.place(std::string_view(g.bytes).substr(0, len));
                auto r = sip::Message::parse(prefix);
                INFO("prefix length " << len);
                // every golden message carries Content-Length, so no strict prefix is complete
                REQUIRE_FALSE(r.has_value());
                CHECK(r.error().offset <= len);
                if (len == 0) {
                    CHECK(r.error().code == Errc::empty);
                } else if (len >= head) {
                    CHECK(r.error().code == Errc::body_truncated);
                    CHECK(r.error().offset == len);
                } else {
                    CHECK(r.error().code != Errc::body_truncated);
                }
                // the lenient scan for 400 responses reads the caller's buffer in place
                sip::Salvage s = sip::salvage(prefix);
                CHECK(s.via_count <= 16);
            }
        }
    }
}

TEST_CASE("message: typed header parsers never read past a value at a PROT_NONE page",
          "[sipcore][message][golden][guard]") {
    test::GuardedBuffer guard(16384);
    auto exercise = [](HeaderId id, std::string_view v) {
        switch (id) {
            case HeaderId::Via: {
                std::string_view list = v;
                while (!list.empty()) {
                    auto r = sip::next_via(list);
                    if (!r) break;
                }
                break;
            }
            case HeaderId::From:
            case HeaderId::To: (void)sip::parse_name_addr(v); break;
            case HeaderId::Contact:
            case HeaderId::Route:
            case HeaderId::RecordRoute:
            case HeaderId::PAssertedIdentity:
            case HeaderId::ReferTo:
            case HeaderId::ReferredBy: {
                std::string_view list = v;
                while (!list.empty()) {
                    auto r = sip::next_name_addr(list);
                    if (!r) break;
                }
                break;
            }
            case HeaderId::CSeq: (void)sip::parse_cseq(v); break;
            case HeaderId::CallId: (void)sip::parse_call_id(v); break;
            case HeaderId::Date: (void)sip::parse_date(v); break;
            default: (void)sip::parse_uint(v, UINT32_MAX); break;
        }
        (void)sip::parse_uri(v);
        (void)sip::find_param(v, "tag");
    };
    for (const Golden& g : golden()) {
        {
            INFO(g.name);
            auto r = sip::Message::parse(g.bytes);
            REQUIRE(r);
            // Request-URI and every prefix of it
            if (r->is_request()) {
                const std::string_view ruri = r->request_uri();
                for (std::size_t len = 0; len <= ruri.size(); ++len) {
                    (void)sip::parse_uri(guard.place(ruri.substr(0, len)));
                }
                auto u = sip::parse_uri(guard.place(ruri));
                CHECK(u.has_value());
            }
            // every prefix of every value ends at the guard page; a read past it would crash
            std::size_t placed = 0, expected = 0;
            for (const sip::HeaderField& h : r->headers()) {
                const std::string_view v = r->value(h);
                expected += v.size() + 1;
                for (std::size_t len = 0; len <= v.size(); ++len) {
                    exercise(h.id, guard.place(v.substr(0, len)));
                    ++placed;
                }
            }
            CHECK(placed == expected);
            CHECK(placed > r->headers().size());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-checked facts about the hand-written golden messages: the .expected files were
// compared with these by eye, and these keep them honest if someone regenerates blindly.

TEST_CASE("parser: folded header keeps one span", "[sipcore][parser]") {
    const std::string b = test::read_file(test::data_dir() / "golden" / "20-folding.sip");
    auto r = sip::Message::parse(b);
    REQUIRE(r);
    const sip::Message& m = *r;
    const sip::HeaderField* subj = m.find(HeaderId::Subject);
    REQUIRE(subj);
    CHECK(m.value(*subj) == "first line\r\n   second line");
    CHECK(subj->value_off == b.find("first line"));
    const sip::HeaderField* x = m.find("x-long");
    REQUIRE(x);
    CHECK(x->id == HeaderId::Other);
    CHECK(m.value(*x) == "a,\r\n b,\r\n c");
    // two Via values in one folded field
    CHECK(m.count(HeaderId::Via) == 1);
    CHECK(m.via_count() == 1);
    CHECK(via_values(m) == 2);
    CHECK(m.top_via().branch == "z9hG4bKfold1");
    CHECK(m.top_via().host == "pc33.atlanta.example.com");
    CHECK(m.top_via().port == 5060);
    // CSeq folded between number and method
    CHECK(m.cseq().number == 7);
    CHECK(m.cseq().method_name == "INVITE");
    CHECK(m.cseq().method == sip::Method::Invite);
    CHECK(m.from().display_name == "Alice");
    CHECK(m.from().quoted_display);
    CHECK(m.from().uri == "sip:alice@atlanta.example.com");
    CHECK(m.from().tag == "f0ld");
    CHECK(m.content_length() == 36u);
    CHECK(m.body().size() == 36);
    CHECK(m.headers().size() == 10);
}

TEST_CASE("parser: LWS around colons, slashes, semicolons and equals", "[sipcore][parser]") {
    const std::string b = test::read_file(test::data_dir() / "golden" / "23-lws-everywhere.sip");
    auto r = sip::Message::parse(b);
    REQUIRE(r);
    const sip::Message& m = *r;
    const sip::HeaderField& via = m.headers()[0];
    CHECK(m.name(via) == "Via");
    // value trimmed on both sides
    CHECK(m.value(via) == "SIP / 2.0 / UDP  host.example.com : 5060 ; branch = z9hG4bKlws ; rport");
    CHECK(via.value_off == 39);  // "BYE sip:bob@192.0.2.4 SIP/2.0\r\n" is 31, "Via  :  " 8 more
    CHECK(m.top_via().protocol == "SIP");
    CHECK(m.top_via().version == "2.0");
    CHECK(m.top_via().transport == "UDP");
    CHECK(m.top_via().host == "host.example.com");
    CHECK(m.top_via().port == 5060);
    CHECK(m.top_via().branch == "z9hG4bKlws");
    CHECK(m.top_via().has_rport);
    CHECK_FALSE(m.top_via().rport.has_value());
    CHECK(m.max_forwards() == 69u);
    CHECK(m.from().display_name == "A B");
    CHECK(m.from().tag == "lws1");
    CHECK(m.to().tag == "lws2");
    CHECK(m.call_id() == "lws-call@host");
    CHECK(m.cseq().number == 9);
    CHECK(m.cseq().method == sip::Method::Bye);
    CHECK(m.content_length() == 0u);
}

TEST_CASE("parser: tabs are whitespace", "[sipcore][parser]") {
    const std::string b = test::read_file(test::data_dir() / "golden" / "24-tabs.sip");
    auto r = sip::Message::parse(b);
    REQUIRE(r);
    CHECK(r->status_code() == 200);
    CHECK(r->reason() == "OK");
    CHECK(r->top_via().host == "host.example.com");
    CHECK(r->top_via().branch == "z9hG4bKtab1");
    CHECK(r->from().display_name == "Tab\tName");
    CHECK(r->to().tag == "t2");
    CHECK(r->call_id() == "tab-call-1");
    CHECK(r->cseq().number == 42);
    CHECK(r->cseq().method == sip::Method::Options);
    CHECK(r->content_length() == 0u);
}

TEST_CASE("parser: header names of every length up to 40, colon near or far", "[sipcore][parser]") {
    // The name's ':' is looked for among the 16 octets after the line's first, then further:
    // a ':' that is not among them (a long name, or one in the value) must not be taken.
    for (std::size_t len = 1; len <= 40; ++len) {
        for (const char* sep : {": ", " : ", ":"}) {
            const std::string name = "X" + std::string(len - 1, 'a');
            const std::string m = "OPTIONS sip:a@example.com SIP/2.0\r\n"
                                  "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\n"
                                  "From: <sip:a@example.com>;tag=1\r\n"
                                  "To: <sip:b@example.com>\r\n"
                                  "Call-ID: c1\r\n"
                                  "CSeq: 1 OPTIONS\r\n" +
                                  name + sep + "v:w: x\r\n"
                                  "Content-Length: 0\r\n\r\n";
            INFO("name length " << len << " separator '" << sep << "'");
            auto r = sip::Message::parse(m);
            REQUIRE(r);
            const sip::HeaderField* h = r->find(name);
            REQUIRE(h);
            CHECK(r->name(*h) == name);
            CHECK(r->value(*h) == "v:w: x");
        }
    }
}

TEST_CASE("parser: IPv6 hosts in Request-URI, Via and received", "[sipcore][parser]") {
    const std::string b = test::read_file(test::data_dir() / "golden" / "22-ipv6-via.sip");
    auto r = sip::Message::parse(b);
    REQUIRE(r);
    CHECK(r->ruri().host == "[2001:db8::10]");
    CHECK(r->ruri().ipv6);
    CHECK(r->ruri().port == 5060);
    CHECK(r->ruri().param("transport") == "udp");
    CHECK(r->top_via().host == "[2001:db8::1]");
    CHECK(r->top_via().ipv6);
    CHECK(r->top_via().port == 5060);
    CHECK(r->top_via().received == "2001:db8::99");
    CHECK(r->top_via().rport == 5062);
    CHECK(r->via_count() == 2);
    CHECK(via_values(*r) == 2);
    CHECK(r->call_id() == "v6call@2001:db8::1");
}

TEST_CASE("parser: many Vias in one field are counted and the first is on top",
          "[sipcore][parser]") {
    const std::string b = test::read_file(test::data_dir() / "golden" / "25-many-vias.sip");
    auto r = sip::Message::parse(b);
    REQUIRE(r);
    CHECK(r->count(HeaderId::Via) == 2);
    CHECK(r->via_count() == 2);
    CHECK(via_values(*r) == 9);
    CHECK(r->top_via().host == "10.0.0.1");
    CHECK(r->top_via().branch == "z9hG4bKmv1");
    // walk the first field by hand
    std::string_view list = r->value(*r->find(HeaderId::Via));
    int n = 0;
    while (!list.empty()) {
        auto v = sip::next_via(list);
        REQUIRE(v);
        ++n;
        CHECK(v->branch == "z9hG4bKmv" + std::to_string(n));
        CHECK(v->host == "10.0.0." + std::to_string(n));
    }
    CHECK(n == 8);
}

TEST_CASE("parser: compact forms map to their full header ids", "[sipcore][parser]") {
    const std::string b = test::read_file(test::data_dir() / "golden" / "21-compact-all.sip");
    auto r = sip::Message::parse(b);
    REQUIRE(r);
    const std::vector<std::pair<std::string_view, HeaderId>> want = {
        {"v", HeaderId::Via},          {"f", HeaderId::From},
        {"t", HeaderId::To},           {"i", HeaderId::CallId},
        {"CSeq", HeaderId::CSeq},      {"m", HeaderId::Contact},
        {"o", HeaderId::Event},        {"u", HeaderId::AllowEvents},
        {"k", HeaderId::Supported},    {"s", HeaderId::Subject},
        {"a", HeaderId::AcceptContact}, {"j", HeaderId::RejectContact},
        {"d", HeaderId::RequestDisposition}, {"r", HeaderId::ReferTo},
        {"b", HeaderId::ReferredBy},   {"x", HeaderId::SessionExpires},
        {"y", HeaderId::Identity},     {"e", HeaderId::ContentEncoding},
        {"c", HeaderId::ContentType},  {"l", HeaderId::ContentLength},
    };
    REQUIRE(r->headers().size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        CHECK(r->name(r->headers()[i]) == want[i].first);
        CHECK(r->headers()[i].id == want[i].second);
    }
    CHECK(r->method() == sip::Method::Subscribe);
    CHECK(r->top_via().transport == "TCP");
    CHECK(r->top_via().port == 5070);
    CHECK(r->call_id() == "compact-all-1@client.example.com");
    CHECK(r->content_length() == 0u);
}

TEST_CASE("parser: bench corpus INVITE fields checked by hand", "[sipcore][parser]") {
    const std::string b = test::read_file(test::data_dir() / "golden" / "01-invite-sdp.sip");
    auto r = sip::Message::parse(b);
    REQUIRE(r);
    const sip::Message& m = *r;
    CHECK(m.method() == sip::Method::Invite);
    CHECK(m.request_uri() == "sip:+12125550199@192.0.2.30:5060;user=phone");
    CHECK(m.ruri().user == "+12125550199");
    CHECK(m.ruri().port == 5060);
    CHECK(m.via_count() == 2);
    CHECK(via_values(m) == 2);
    CHECK(m.top_via().host == "203.0.113.10");
    CHECK(m.top_via().branch == "z9hG4bK-524287-1-0a1b2c3d4e");
    CHECK(m.top_via().has_rport);
    CHECK(m.from().display_name == "Alice Caller");
    CHECK(m.from().tag == "as1f2e3d4c");
    CHECK(m.to().tag.empty());
    CHECK(m.call_id() == "5a9e1c73b2d84f06@198.51.100.20");
    CHECK(m.cseq().number == 102);
    CHECK(m.max_forwards() == 69u);
    CHECK(m.content_length() == 240u);
    CHECK(m.body().size() == 240);
    CHECK(m.body().substr(0, 5) == "v=0\r\n");
    // first header: "Via: " starts right after the 61-byte request line
    CHECK(m.headers()[0].name_off == b.find("\r\n") + 2);
    CHECK(m.headers()[0].value_off == b.find("\r\n") + 2 + 5);
    CHECK(m.header_section_size() == b.size() - 240);
}

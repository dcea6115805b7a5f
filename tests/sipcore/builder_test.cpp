// build_response, RequestBuilder and MessageEditor (libsipcore/src/builder.cpp).
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "dump.hpp"
#include "sip/builder.hpp"
#include "sip/message.hpp"
#include "test_data.hpp"

using sip::HeaderId;

namespace {

const std::string kInvite =
    "INVITE sip:+15551234@gw1.example.com;user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-top;rport\r\n"
    "v: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK-mid, SIP/2.0/TCP 10.0.0.1;branch=z9hG4bK-low\r\n"
    "Record-Route: <sip:203.0.113.10;lr>\r\n"
    "Route: <sip:192.0.2.30;lr>\r\n"
    "Route: <sip:192.0.2.31;lr>\r\n"
    "Max-Forwards: 69\r\n"
    "From: \"Alice\" <sip:alice@example.com>;tag=a1\r\n"
    "To: <sip:+15551234@example.com;user=phone>\r\n"
    "Call-ID: call-1@198.51.100.20\r\n"
    "CSeq: 12 INVITE\r\n"
    "Subject: hello\r\n"
    "  world\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 10\r\n"
    "\r\n"
    "v=0\r\ns=-\r\n";

sip::Message parse(std::string_view b) {
    auto r = sip::Message::parse(b);
    INFO(std::string(b));
    if (!r) INFO(test::dump_error(r.error()));
    REQUIRE(r.has_value());
    return std::move(*r);
}

// ResponseSpec by assignment: designated initializers that omit members trip
// -Wmissing-field-initializers on g++ 12.
sip::ResponseSpec spec(std::uint16_t status, std::string_view to_tag = {}) {
    sip::ResponseSpec s;
    s.status = status;
    s.to_tag = to_tag;
    return s;
}

std::vector<std::string_view> values(const sip::Message& m, HeaderId id) {
    std::vector<std::string_view> out;
    for (const sip::HeaderField& h : m.headers())
        if (h.id == id) out.push_back(m.value(h));
    return out;
}

}  // namespace

TEST_CASE("builder: response copies Via in order, From, To + tag, Call-ID, CSeq",
          "[sipcore][builder]") {
    const sip::Message req = parse(kInvite);
    const std::string out = sip::build_response(req, spec(180, "gw7"));
    const sip::Message resp = parse(out);
    CHECK(resp.status_code() == 180);
    CHECK(resp.reason() == "Ringing");
    CHECK(values(resp, HeaderId::Via) == values(req, HeaderId::Via));
    CHECK(resp.via_count() == 2);
    CHECK(resp.top_via().branch == "z9hG4bK-top");
    CHECK(values(resp, HeaderId::From) == values(req, HeaderId::From));
    CHECK(values(resp, HeaderId::To) ==
          std::vector<std::string_view>{"<sip:+15551234@example.com;user=phone>;tag=gw7"});
    CHECK(resp.to().tag == "gw7");
    CHECK(resp.call_id() == req.call_id());
    CHECK(values(resp, HeaderId::CSeq) == std::vector<std::string_view>{"12 INVITE"});
    // 1xx-2xx copy Record-Route (RFC 3261 §12.1.1); Route, Subject, Max-Forwards never
    CHECK(values(resp, HeaderId::RecordRoute) == values(req, HeaderId::RecordRoute));
    CHECK(resp.count(HeaderId::Route) == 0);
    CHECK(resp.count(HeaderId::Subject) == 0);
    CHECK_FALSE(resp.max_forwards().has_value());
    CHECK(resp.content_length() == 0u);
    CHECK(out.substr(0, 21) == "SIP/2.0 180 Ringing\r\n");
}

TEST_CASE("builder: an existing To tag is kept and not doubled", "[sipcore][builder]") {
    std::string in = kInvite;
    in.replace(in.find("user=phone>\r\n"), 13, "user=phone>;tag=old\r\n");
    const sip::Message req = parse(in);
    const sip::Message resp = parse(sip::build_response(req, spec(200, "new")));
    CHECK(resp.to().tag == "old");
    CHECK(values(resp, HeaderId::To)[0].find("new") == std::string_view::npos);
}

TEST_CASE("builder: error responses carry no Record-Route; extras, reason and body",
          "[sipcore][builder]") {
    const sip::Message req = parse(kInvite);
    sip::ResponseSpec busy = spec(486);
    busy.reason = "Busy Here Now";
    busy.extra = {{"Retry-After", "30"}, {"X-A", "b"}};
    busy.content_type = "text/plain";
    busy.body = "busy\r\n";
    const std::string out = sip::build_response(req, busy);
    const sip::Message resp = parse(out);
    CHECK(resp.status_code() == 486);
    CHECK(resp.reason() == "Busy Here Now");
    CHECK(resp.count(HeaderId::RecordRoute) == 0);
    CHECK(values(resp, HeaderId::RetryAfter) == std::vector<std::string_view>{"30"});
    CHECK(resp.find("x-a") != nullptr);
    CHECK(values(resp, HeaderId::ContentType) == std::vector<std::string_view>{"text/plain"});
    CHECK(resp.content_length() == 6u);
    CHECK(resp.body() == "busy\r\n");
    // 100 Trying is not dialog-creating
    CHECK(parse(sip::build_response(req, spec(100))).count(HeaderId::RecordRoute) == 0);
    CHECK(sip::default_reason(404) == "Not Found");
    CHECK(sip::default_reason(499).empty());
}

TEST_CASE("builder: parse -> build -> parse keeps the fields (golden corpus)", "[sipcore][builder]") {
    for (const auto& p : test::files_with_ext(test::data_dir() / "golden", ".sip")) {
        const std::string bytes = test::read_file(p);
        const sip::Message req = parse(bytes);
        if (!req.is_request()) continue;
        {
            INFO(p.filename().string());
            const sip::Message resp = parse(sip::build_response(req, spec(200, "t9")));
            CHECK(resp.via_count() == req.via_count());
            CHECK(values(resp, HeaderId::Via) == values(req, HeaderId::Via));
            CHECK(resp.top_via().branch == req.top_via().branch);
            CHECK(resp.top_via().host == req.top_via().host);
            CHECK(resp.from().uri == req.from().uri);
            CHECK(resp.from().tag == req.from().tag);
            CHECK(resp.from().display_name == req.from().display_name);
            CHECK(resp.to().uri == req.to().uri);
            CHECK(resp.to().tag == (req.to().tag.empty() ? "t9" : req.to().tag));
            CHECK(resp.call_id() == req.call_id());
            CHECK(resp.cseq().number == req.cseq().number);
            CHECK(resp.cseq().method_name == req.cseq().method_name);
        }
    }
}

TEST_CASE("builder: RequestBuilder adds Max-Forwards and Content-Length", "[sipcore][builder]") {
    sip::RequestBuilder rb("OPTIONS", "sip:gw1.carrier.example");
    rb.add(HeaderId::Via, "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK77ef")
        .add(HeaderId::From, "<sip:ping@192.0.2.1>;tag=1928")
        .add("t", "<sip:gw1.carrier.example>")
        .add(HeaderId::CallId, "ping-1@192.0.2.1")
        .add(HeaderId::CSeq, "1 OPTIONS")
        .add("X-Probe", "yes");
    const std::string out = rb.build();
    CHECK(out.substr(0, 41) == "OPTIONS sip:gw1.carrier.example SIP/2.0\r\n");
    const sip::Message m = parse(out);
    CHECK(m.method() == sip::Method::Options);
    CHECK(m.max_forwards() == 70u);
    CHECK(m.content_length() == 0u);
    CHECK(m.to().uri == "sip:gw1.carrier.example");
    CHECK(m.name(*m.find(HeaderId::To)) == "To");  // a known name is written in full
    CHECK(m.name(*m.find("x-probe")) == "X-Probe");
    CHECK(out.size() == m.bytes().size());

    sip::RequestBuilder rb2("MESSAGE", "sip:bob@example.com");
    rb2.add(HeaderId::Via, "SIP/2.0/TCP h;branch=z9hG4bK2")
        .add(HeaderId::MaxForwards, "5")
        .add(HeaderId::From, "<sip:a@example.com>;tag=9")
        .add(HeaderId::To, "<sip:bob@example.com>")
        .add(HeaderId::CallId, "m-1")
        .add(HeaderId::CSeq, "2 MESSAGE")
        .body("text/plain", "hi there");
    const sip::Message m2 = parse(rb2.build());
    CHECK(m2.max_forwards() == 5u);
    CHECK(m2.count(HeaderId::MaxForwards) == 1);
    CHECK(m2.content_length() == 8u);
    CHECK(m2.body() == "hi there");
    CHECK(values(m2, HeaderId::ContentType) == std::vector<std::string_view>{"text/plain"});
}

// --- MessageEditor: every byte outside an edit is copied verbatim

TEST_CASE("builder: MessageEditor with no edits reproduces the message", "[sipcore][builder][editor]") {
    const sip::Message m = parse(kInvite);
    CHECK(sip::MessageEditor(m).build() == kInvite);
}

TEST_CASE("builder: MessageEditor prepend Via keeps every other byte", "[sipcore][builder][editor]") {
    const sip::Message m = parse(kInvite);
    const std::string out =
        sip::MessageEditor(m).prepend(HeaderId::Via, "SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK1").build();
    const std::size_t first = kInvite.find("\r\n") + 2;
    const std::string added = "Via: SIP/2.0/UDP 198.51.100.7;branch=z9hG4bK1\r\n";
    CHECK(out == kInvite.substr(0, first) + added + kInvite.substr(first));
    const sip::Message e = parse(out);
    CHECK(e.top_via().branch == "z9hG4bK1");
    CHECK(e.via_count() == 3);
}

TEST_CASE("builder: MessageEditor remove Route, remove_all, append", "[sipcore][builder][editor]") {
    const sip::Message m = parse(kInvite);
    const std::string route1 = "Route: <sip:192.0.2.30;lr>\r\n";
    const std::string route2 = "Route: <sip:192.0.2.31;lr>\r\n";
    const std::size_t r1 = kInvite.find(route1);
    REQUIRE(r1 != std::string::npos);

    const std::string one = sip::MessageEditor(m).remove(*m.find(HeaderId::Route)).build();
    CHECK(one == kInvite.substr(0, r1) + kInvite.substr(r1 + route1.size()));

    const std::string all = sip::MessageEditor(m).remove_all(HeaderId::Route).build();
    CHECK(all == kInvite.substr(0, r1) + kInvite.substr(r1 + route1.size() + route2.size()));
    CHECK(parse(all).count(HeaderId::Route) == 0);

    // a folded field is removed with its continuation line
    const std::string subj = "Subject: hello\r\n  world\r\n";
    const std::size_t s = kInvite.find(subj);
    const std::string nosubj = sip::MessageEditor(m).remove(*m.find(HeaderId::Subject)).build();
    CHECK(nosubj == kInvite.substr(0, s) + kInvite.substr(s + subj.size()));

    const std::size_t head_end = kInvite.find("\r\n\r\n") + 2;
    const std::string app = sip::MessageEditor(m).append("X-Trace", "42").build();
    CHECK(app == kInvite.substr(0, head_end) + "X-Trace: 42\r\n" + kInvite.substr(head_end));
}

TEST_CASE("builder: MessageEditor replace_value and set_request_uri", "[sipcore][builder][editor]") {
    const sip::Message m = parse(kInvite);
    const sip::HeaderField& mf = *m.find(HeaderId::MaxForwards);
    const std::string out = sip::MessageEditor(m)
                                .replace_value(mf, "68")
                                .set_request_uri("sip:+15551234@gw2.example")
                                .build();
    std::string want = kInvite;
    want.replace(mf.value_off, mf.value_len, "68");
    const std::string old_ruri = "sip:+15551234@gw1.example.com;user=phone";
    want.replace(7, old_ruri.size(), "sip:+15551234@gw2.example");
    CHECK(out == want);
    const sip::Message e = parse(out);
    CHECK(e.max_forwards() == 68u);
    CHECK(e.request_uri() == "sip:+15551234@gw2.example");

    // replacing a folded value replaces the whole span, continuation included
    const std::string subj = sip::MessageEditor(m).replace_value(*m.find(HeaderId::Subject), "bye").build();
    std::string want2 = kInvite;
    const std::size_t so = kInvite.find("hello");
    want2.replace(so, std::string_view("hello\r\n  world").size(), "bye");
    CHECK(subj == want2);
}

TEST_CASE("builder: MessageEditor set_body rewrites Content-Length only", "[sipcore][builder][editor]") {
    const sip::Message m = parse(kInvite);
    const std::string body = "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\n";
    const std::string out = sip::MessageEditor(m).set_body(body).build();
    std::string want = kInvite.substr(0, m.header_section_size());
    const sip::HeaderField& cl = *m.find(HeaderId::ContentLength);
    want.replace(cl.value_off, cl.value_len, std::to_string(body.size()));
    want += body;
    CHECK(out == want);
    const sip::Message e = parse(out);
    CHECK(e.body() == body);
    CHECK(e.content_length() == body.size());

    // without a Content-Length header one is appended
    const std::string no_cl =
        "OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        "From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: c1\r\n"
        "CSeq: 1 OPTIONS\r\n\r\n";
    const sip::Message n = parse(no_cl);
    const std::string out2 = sip::MessageEditor(n).set_body("xyz").build();
    CHECK(out2 == no_cl.substr(0, no_cl.size() - 2) + "Content-Length: 3\r\n\r\nxyz");
    // an empty body
    const std::string out3 = sip::MessageEditor(m).set_body("").build();
    CHECK(parse(out3).body().empty());
    CHECK(parse(out3).content_length() == 0u);
}

TEST_CASE("builder: MessageEditor combined edits keep untouched bytes in order",
          "[sipcore][builder][editor]") {
    const sip::Message m = parse(kInvite);
    const sip::HeaderField& cseq = *m.find(HeaderId::CSeq);
    const std::string out = sip::MessageEditor(m)
                                .prepend(HeaderId::Via, "SIP/2.0/UDP p;branch=z9hG4bKp")
                                .remove_all(HeaderId::Route)
                                .insert_before(cseq, "X-Before", "1")
                                .append("X-After", "2")
                                .build();
    const sip::Message e = parse(out);
    std::vector<std::string> names;
    for (const sip::HeaderField& h : e.headers()) names.emplace_back(e.name(h));
    CHECK(names == std::vector<std::string>{"Via", "Via", "v", "Record-Route", "Max-Forwards",
                                            "From", "To", "Call-ID", "X-Before", "CSeq",
                                            "Subject", "Content-Type", "Content-Length", "X-After"});
    // every original field that survived is byte-identical
    for (const sip::HeaderField& h : m.headers()) {
        if (h.id == HeaderId::Route) continue;
        const std::string_view v = m.value(h);
        CHECK(out.find(std::string(m.name(h)) + ": " + std::string(v)) != std::string::npos);
    }
    CHECK(e.body() == m.body());
}

TEST_CASE("builder: via_stamp follows RFC 3261 §18.2.1 and RFC 3581 §4",
          "[sipcore][builder][rport]") {
    auto via = [](std::string_view text) {
        std::string_view l = text;
        auto v = sip::next_via(l);
        REQUIRE(v);
        return *v;
    };
    // bare rport: rport and received, received even when it equals sent-by (RFC 3581 §4)
    auto st = sip::via_stamp(via("SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bK1"), "198.51.100.9",
                             40001);
    CHECK(st.received == "198.51.100.9");
    CHECK(st.rport == 40001);
    st = sip::via_stamp(via("SIP/2.0/UDP 10.0.0.5:5060;rport"), "10.0.0.5", 5060);
    CHECK(st.received == "10.0.0.5");
    CHECK(st.rport == 5060);
    // no rport: received only when the host differs; a domain name always does
    st = sip::via_stamp(via("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1"), "10.0.0.5", 7000);
    CHECK(st.received.empty());
    CHECK(st.rport == 0);
    st = sip::via_stamp(via("SIP/2.0/UDP pc.example.com;branch=z9hG4bK1"), "10.0.0.5", 5060);
    CHECK(st.received == "10.0.0.5");
    CHECK(st.rport == 0);
    // rport with a value is not a request to fill it
    st = sip::via_stamp(via("SIP/2.0/UDP 10.0.0.5;rport=7;branch=z9hG4bK1"), "10.0.0.5", 5060);
    CHECK(st.rport == 0);
    // IPv6: sent-by's brackets do not make it differ; the case of hex digits neither
    st = sip::via_stamp(via("SIP/2.0/TCP [2001:DB8::7]:5070;branch=z9hG4bK1"), "2001:db8::7", 5070);
    CHECK(st.received.empty());
    st = sip::via_stamp(via("SIP/2.0/TCP [2001:db8::7];rport"), "2001:db8::9", 41000);
    CHECK(st.received == "2001:db8::9");
    CHECK(st.rport == 41000);
    // no known source: nothing
    st = sip::via_stamp(via("SIP/2.0/UDP 10.0.0.5;rport"), "", 0);
    CHECK(st.received.empty());
    CHECK(st.rport == 0);
}

TEST_CASE("builder: a request's noted source stamps every response built from it",
          "[sipcore][builder][rport]") {
    sip::Message req = parse(kInvite);  // top Via 203.0.113.10:5060;branch=...;rport
    const std::string before = sip::build_response(req, spec(100));
    CHECK(before.find("Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-top;rport\r\n") !=
          std::string::npos);
    req.note_source("198.51.100.77", 33000);
    CHECK(req.via_stamp().received == "198.51.100.77");
    CHECK(req.via_stamp().rport == 33000);
    sip::Message moved = std::move(req);  // the stamp lives with the message's data
    for (std::uint16_t code : {100, 180, 200, 486}) {
        const std::string r = sip::build_response(moved, spec(code, "t1"));
        INFO(r);
        CHECK(r.find("Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-top;rport=33000;"
                     "received=198.51.100.77\r\n") != std::string::npos);
        auto p = parse(r);
        CHECK(p.top_via().rport == std::optional<std::uint16_t>(33000));
        CHECK(p.top_via().received == "198.51.100.77");
        CHECK(values(p, HeaderId::Via).size() == 2);  // the lower Via fields untouched
    }
    // the spec's own stamp wins
    sip::ResponseSpec s = spec(200);
    s.via_received = "192.0.2.1";
    s.via_rport = 9;
    const std::string r = sip::build_response(moved, s);
    CHECK(r.find(";rport=9;received=192.0.2.1\r\n") != std::string::npos);
    // a response notes nothing
    auto resp = parse(sip::build_response(moved, spec(200)));
    resp.note_source("192.0.2.99", 1);
    CHECK(resp.via_stamp().received.empty());
    CHECK(resp.via_stamp().rport == 0);
}

TEST_CASE("builder: a 400 never sends back a bare CR, LF or control character it salvaged",
          "[sipcore][builder][security]") {
    // A Call-ID with a bare CR (it would rewrite a terminal line) and a From with a NUL and an
    // escape: the strict parser rejects the request; the 400 still copies the fields (RFC
    // 4475 asks for it) but as spaces, and a fold becomes spaces as it means (§7.3.1).
    const std::string bad =
        "OPTIONS sip:bob@192.0.2.1 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKcr1\r\n"
        "From: <sip:alice@example.com>;tag=a\x1b[2J\x01" "1\r\n"
        "To: <sip:bob@example.com>\r\n"
        "Call-ID: abc\rforged line\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Max-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n";
    REQUIRE_FALSE(sip::Message::parse(bad));
    const sip::Salvage s = sip::salvage(bad);
    REQUIRE(s.usable());
    sip::ResponseSpec spec;
    spec.status = 400;
    spec.reason = "Bad Call-ID";
    const std::string out = sip::build_response(s, spec);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(out[i]);
        if (c == '\r') {
            INFO("a CR at " << i << " not followed by LF");
            REQUIRE(i + 1 < out.size());
            CHECK(out[i + 1] == '\n');
        } else if (c == '\n') {
            INFO("an LF at " << i << " not after CR");
            REQUIRE(i > 0);
            CHECK(out[i - 1] == '\r');
        } else {
            INFO("byte " << int(c) << " at " << i);
            CHECK((c >= 0x20 && c != 0x7f));
        }
    }
    // the client still matches it on the top branch and the CSeq method (§17.1.3)
    const sip::Salvage back = sip::salvage(out);
    CHECK(back.top_via.branch == "z9hG4bKcr1");
    CHECK(back.cseq == "1 OPTIONS");
    CHECK(back.call_id == "abc forged line");
}

// /api/traces (issue 11 item 5, VOS3000's debug trace) on fake time with a real switch: start,
// list, the JSON ladder, the pcap, stop; the refusals; a gateway filter matched through the
// switch's own view of the call (Switch::trace_facts), both legs followed.
#include <catch2/catch.hpp>

#include <string>

#include "api_fixture.hpp"

using namespace std::chrono_literals;
using namespace test;

namespace {

const std::string kInvite = acme_invite("z9hG4bK-tr1", "trace-call-1");

struct Fixture : ApiFixture {
    Fixture() : ApiFixture(acme_config()) { route_acme(); }
    sw::api::Response call(std::string method, std::string path, std::string token, std::string body = {},
                           sip::Instant now = t0) {
        return handle({.method = std::move(method), .path = std::move(path), .body = std::move(body),
                       .token = std::move(token), .now = now});
    }
    // What the driver does: the message in after the switch read it, then every send.
    void inbound(std::string_view bytes, sip::Instant now) {
        from_acme(bytes, now);
        observe(sw::trace::Direction::in, "10.0.0.1", "10.0.0.100", bytes, now);
        while (auto s = sw->poll_send())
            observe(sw::trace::Direction::out, "10.0.0.100", s->to.host, *s->bytes, now);
    }
    void observe(sw::trace::Direction d, std::string_view src, std::string_view dst, std::string_view bytes,
                 sip::Instant now) {
        sw->traces().observe({d, sip::Transport::Udp, src, 5060, dst, 5060, 1'700'000'000'000'000, bytes}, now,
                             [this](std::string_view cid) { return sw->trace_facts(cid); });
    }
};

}  // namespace

TEST_CASE("api traces: start, list, ladder, pcap, stop", "[server][api][trace]") {
    Fixture f;
    auto r = f.call("POST", "/api/traces", kAdmin, R"({"callee":"4420","duration_s":60,"max_messages":50})");
    REQUIRE(r.status == 201);
    CHECK(r.body.starts_with(R"({"id":1,"state":"active","end_reason":"","caller":"","callee":"4420","gateway":"")"));
    CHECK(has(r.body, "\"ends_ms\":" + std::to_string(kWall + 60'000)));
    CHECK(has(r.body, "\"max_messages\":50,"));
    CHECK(r.headers == std::vector<std::pair<std::string, std::string>>{{"Location", "/api/traces/1"}});
    CHECK(f.api->poll_log() == "api: token 'ops' started trace 1 (caller '', callee '4420', gateway '')");
    CHECK(f.sw->traces().any_active());

    f.inbound(kInvite, t0 + 1s);
    const sw::trace::Trace& t = *f.sw->traces().find(1);
    CHECK(t.call_ids.size() == 2);  // the customer's Call-ID and the one of the INVITE to gw1
    REQUIRE(t.messages.size() >= 2);
    CHECK(t.messages[0].dir == sw::trace::Direction::in);
    CHECK(t.messages[1].dst.ip == "10.0.0.21");  // gw1

    r = f.call("GET", "/api/traces", kRead);
    REQUIRE(r.status == 200);
    CHECK(r.body.starts_with(R"({"traces":[{"id":1,"state":"active")"));
    CHECK(has(r.body, "\"message_count\":" + std::to_string(t.messages.size()) + ","));
    CHECK(has(r.body, "\"calls\":2,"));

    r = f.call("GET", "/api/traces/1", kRead);
    REQUIRE(r.status == 200);
    CHECK(has(r.body, R"("messages":[{"time_us":1700000000000000,"direction":"in","transport":"udp",)"
                      R"("src":"10.0.0.1:5060","dst":"10.0.0.100:5060",)"
                      R"("first_line":"INVITE sip:442071234567@10.0.0.100 SIP/2.0","call_id":"trace-call-1",)"));
    CHECK(has(r.body, R"("direction":"out","transport":"udp","src":"10.0.0.100:5060","dst":"10.0.0.21:5060")"));

    r = f.call("GET", "/api/traces/1/pcap", kRead);
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/vnd.tcpdump.pcap");
    CHECK(r.body == sw::trace::pcap(t.messages));
    CHECK(r.body.substr(0, 4) == std::string("\xd4\xc3\xb2\xa1", 4));

    CHECK(f.call("HEAD", "/api/traces/1", kRead).status == 200);
    CHECK(f.call("DELETE", "/api/traces/1", kRead).status == 403);
    r = f.call("DELETE", "/api/traces/1", kAdmin);
    CHECK(r.status == 200);
    CHECK(r.body == "{\"id\":1,\"removed\":true}\n");
    CHECK_FALSE(f.sw->traces().any_active());
    CHECK(f.call("GET", "/api/traces/1", kRead).status == 404);
    CHECK(f.call("DELETE", "/api/traces/1", kAdmin).status == 404);
}

TEST_CASE("api traces: refusals name the field", "[server][api][trace]") {
    Fixture f;
    auto field = [&](const std::string& body, int status, const std::string& name) {
        const auto r = f.call("POST", "/api/traces", kAdmin, body);
        INFO(body << " -> " << r.status << " " << r.body);
        CHECK(r.status == status);
        CHECK(has(r.body, "\"field\":\"" + name + "\""));
    };
    CHECK(f.call("POST", "/api/traces", kRead, R"({"callee":"1"})").status == 403);
    field("{}", 422, "caller");
    field(R"({"caller":"1 2"})", 422, "caller");
    field(R"({"callee":5})", 422, "callee");
    field(R"({"callee":"1","duration_s":0})", 422, "duration_s");
    field(R"({"callee":"1","duration_s":86401})", 422, "duration_s");
    field(R"({"callee":"1","duration_s":1.5})", 422, "duration_s");
    field(R"({"callee":"1","max_messages":100001})", 422, "max_messages");
    field(R"({"callee":"1","max_bytes":"1"})", 422, "max_bytes");
    field(R"({"gateway":"nosuch"})", 422, "gateway");
    field(R"({"callee":"1","extra":1})", 422, "extra");
    CHECK(f.call("POST", "/api/traces", kAdmin, "[").status == 400);
    CHECK(f.call("GET", "/api/traces/abc", kRead).status == 400);
    CHECK(f.call("GET", "/api/traces/1/json", kRead).status == 404);
    auto r = f.call("PUT", "/api/traces", kAdmin, "{}");
    CHECK(r.status == 405);
    CHECK(r.headers[0].second == "GET, HEAD, POST");
    REQUIRE(f.call("POST", "/api/traces", kAdmin, R"({"callee":"1"})").status == 201);
    r = f.call("POST", "/api/traces/1/pcap", kAdmin);
    CHECK(r.status == 405);
    CHECK(r.headers[0].second == "GET, HEAD");
    CHECK(f.call("PATCH", "/api/traces/1", kAdmin).status == 405);
    for (int i = 2; i <= 16; ++i) REQUIRE(f.call("POST", "/api/traces", kAdmin, R"({"callee":"1"})").status == 201);
    r = f.call("POST", "/api/traces", kAdmin, R"({"callee":"1"})");
    CHECK(r.status == 409);
    CHECK(has(r.body, "too many active traces"));
}

TEST_CASE("api traces: a gateway filter follows the calls of that vendor; expiry", "[server][api][trace]") {
    Fixture f;
    REQUIRE(f.call("POST", "/api/traces", kAdmin, R"({"gateway":"gw1","duration_s":10})").status == 201);
    REQUIRE(f.call("POST", "/api/traces", kAdmin, R"({"gateway":"acme","caller":"999"})").status == 201);
    f.inbound(kInvite, t0 + 1s);
    const sw::trace::Trace& by_vendor = *f.sw->traces().find(1);
    CHECK(by_vendor.call_ids.size() == 2);
    CHECK(by_vendor.call_ids.contains("trace-call-1"));
    CHECK(by_vendor.messages.size() >= 2);
    CHECK(f.sw->traces().find(2)->messages.empty());  // customer acme, but caller not 999
    const auto r = f.call("GET", "/api/traces/1", kRead, {}, t0 + 10s);
    CHECK(has(r.body, R"("state":"finished","end_reason":"expired")"));
    CHECK(has(f.call("GET", "/api/traces/2", kRead, {}, t0 + 10s).body, R"("state":"active")"));
}

// /api/traces (issue 11 item 5, VOS3000's debug trace) on fake time with a real switch: start,
// list, the JSON ladder, the pcap, stop; the refusals; a gateway filter matched through the
// switch's own view of the call (Switch::trace_facts), both legs followed.
#include <catch2/catch.hpp>

#include <string>

#include "acme_switch.hpp"
#include "sip/crypto/evp_hasher.hpp"
#include "sw/api.hpp"
#include "sw/switch.hpp"
#include "wiring/digest_auth.hpp"

using namespace std::chrono_literals;

namespace {

const sip::Instant t0 = sip::Instant{} + 1000s;
constexpr std::int64_t kWall = 1'700'000'000'000;
const std::string kAdmin = "tl_admin-secret";
const std::string kRead = "tl_read-secret";

const char* kInvite =
    "INVITE sip:442071234567@10.0.0.100 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-tr1;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:15551230000@10.0.0.1>;tag=ta\r\n"
    "To: <sip:442071234567@10.0.0.100>\r\n"
    "Call-ID: trace-call-1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:15551230000@10.0.0.1:5060>\r\n"
    "Content-Length: 0\r\n\r\n";

struct Fixture {
    sip::SeededRandom rng{7};
    sip::crypto::EvpHasher hasher;
    wiring::DigestAuth auth{"trunkline", rng, {sip::auth::Algorithm::MD5}};
    std::unique_ptr<sw::Switch> sw;
    std::unique_ptr<sw::api::Api> api;
    std::string auth_header, body_;

    Fixture() {
        sw::SwitchConfig scfg;
        scfg.calls.local[sip::Transport::Udp] = {"10.0.0.100", 5060};
        sw = std::make_unique<sw::Switch>(scfg, sw::RegistrationsConfig{}, &auth, hasher, rng);
        sw->set_book(test::acme_book());
        test::route_acme_via_gw1(*sw);
        api = std::make_unique<sw::api::Api>(*sw, hasher);
        api->set_tokens({{"ops", sha(kAdmin), sw::api::Scope::admin},
                         {"grafana", sha(kRead), sw::api::Scope::read}});
    }
    std::string sha(const std::string& s) const {
        return *hasher.digest_hex(sip::auth::Hash::SHA256, {std::string_view(s)});
    }
    sw::api::Response call(std::string_view method, std::string_view path, const std::string& token,
                           std::string body = {}, sip::Instant now = t0) {
        sw::api::Request rq;
        rq.method = method;
        rq.path = path;
        auth_header = "Bearer " + token;
        rq.authorization = auth_header;
        rq.source = "127.0.0.1";
        rq.loopback = true;
        body_ = std::move(body);
        rq.body = body_;
        return api->handle(rq, now, kWall);
    }
    // What the driver does: the message in after the switch read it, then every send.
    void inbound(std::string_view bytes, sip::Instant now) {
        sw->on_bytes(bytes, {sip::Transport::Udp, "10.0.0.1", 5060, 0, {}}, now);
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

bool has(const std::string& body, const std::string& part) {
    return body.find(part) != std::string::npos;
}

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

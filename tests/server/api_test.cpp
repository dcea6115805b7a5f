// sw::api::Api, the management API's decisions, on fake time with a real switch: bearer
// tokens and scopes, the failed-login limit, every endpoint's answers and errors, a hang-up
// through DELETE /api/calls/{id}, the Prometheus text of /metrics, and the [api] settings.
#include <catch2/catch.hpp>

#include <regex>
#include <sstream>
#include <string>

#include "api_fixture.hpp"
#include "wiring/config.hpp"
#include "wiring/flags.hpp"

using namespace std::chrono_literals;
using namespace test;

namespace {

const std::string kInvite = acme_invite("z9hG4bK-api1", "api-call-1");

// A switch with customer acme (10.0.0.1) and vendor gw1 (10.0.0.21), and its API.
struct Fixture : ApiFixture {
    explicit Fixture(sw::api::ApiConfig cfg = {}) : ApiFixture(acme_config(), cfg) { route_acme(); }
    sw::api::Response get(std::string method, std::string path, std::string token, sip::Instant now = t0,
                          std::string source = "127.0.0.1") {
        return handle({.method = std::move(method), .path = std::move(path), .token = std::move(token),
                       .source = std::move(source), .now = now});
    }
};

}  // namespace

TEST_CASE("api: no token and a wrong token are 401, a read token cannot change", "[server][api]") {
    Fixture f;
    auto r = f.get("GET", "/api/calls", "");
    CHECK(r.status == 401);
    CHECK(r.content_type == "application/json");
    CHECK(r.body.find("\"error\"") != std::string::npos);
    CHECK(header(r, "WWW-Authenticate") == "Bearer realm=\"trunkline\"");

    r = f.get("GET", "/api/calls", "tl_wrong");
    CHECK(r.status == 401);
    CHECK(header(r, "WWW-Authenticate").find("invalid_token") != std::string::npos);

    CHECK(f.get("GET", "/api/calls", kRead).status == 200);
    CHECK(f.get("GET", "/api/calls", kAdmin).status == 200);
    r = f.get("DELETE", "/api/calls/1", kRead);
    CHECK(r.status == 403);
    CHECK(r.body.find("grafana") != std::string::npos);

    // "bearer" in any case, as RFC 7235 §2.1 has it
    CHECK(f.handle({.path = "/api/gateways", .authorization = "bEaReR   " + kRead}).status == 200);
    CHECK(f.handle({.path = "/api/gateways", .authorization = "Basic b3BzOnB3"}).status == 401);
}

TEST_CASE("api: a token removed by set_tokens stops working", "[server][api]") {
    Fixture f;
    CHECK(f.get("GET", "/api/calls", kRead).status == 200);
    f.api->set_tokens({{"ops", f.sha(kAdmin), sw::api::Scope::admin}});
    CHECK(f.get("GET", "/api/calls", kRead).status == 401);
    CHECK(f.get("GET", "/api/calls", kAdmin).status == 200);
}

TEST_CASE("api: failed logins from one address are limited, once logged per episode",
          "[server][api]") {
    Fixture f({.max_failures = 3, .failure_window = 60s, .block = 30s});
    CHECK(f.get("GET", "/api/calls", "x1", t0).status == 401);
    CHECK(f.get("GET", "/api/calls", "x2", t0 + 1s).status == 401);
    CHECK_FALSE(f.api->poll_log());
    CHECK(f.get("GET", "/api/calls", "x3", t0 + 2s).status == 401);  // the third: blocked now
    auto log = f.api->poll_log();
    REQUIRE(log);
    CHECK(log->find("3 failed logins from 127.0.0.1") != std::string::npos);
    CHECK_FALSE(f.api->poll_log());

    auto r = f.get("GET", "/api/calls", kAdmin, t0 + 3s);  // even a good token
    CHECK(r.status == 429);
    CHECK(header(r, "Retry-After") == "29");
    CHECK(f.get("GET", "/api/calls", "x4", t0 + 4s).status == 429);
    CHECK_FALSE(f.api->poll_log());  // one line per episode
    // another address is not concerned
    CHECK(f.get("GET", "/api/calls", kAdmin, t0 + 4s, "192.0.2.9").status == 200);
    // the block ends exactly at its instant
    CHECK(f.get("GET", "/api/calls", kAdmin, t0 + 31s).status == 429);
    CHECK(f.get("GET", "/api/calls", kAdmin, t0 + 32s).status == 200);
}

TEST_CASE("api: failed logins count per source_key (an IPv6 /64)", "[server][api]") {
    Fixture f({.max_failures = 2, .failure_window = 60s, .block = 30s});
    auto from = [&](const char* addr, const char* key, const std::string& token) {
        return f.handle({.path = "/api/calls", .token = token, .source = addr, .source_key = key}).status;
    };
    CHECK(from("2001:db8::1", "2001:db8::/64", "bad") == 401);
    CHECK(from("2001:db8::2", "2001:db8::/64", "bad") == 401);  // same /64: blocked now
    CHECK(from("2001:db8::3", "2001:db8::/64", kAdmin) == 429);
    CHECK(from("2001:db8:0:1::1", "2001:db8:0:1::/64", kAdmin) == 200);
    auto log = f.api->poll_log();
    REQUIRE(log);
    CHECK(log->find("from 2001:db8::/64") != std::string::npos);
}

TEST_CASE("api: failures spread over more than the window never block", "[server][api]") {
    Fixture f({.max_failures = 3, .failure_window = 10s, .block = 30s});
    for (int i = 0; i < 10; ++i)
        CHECK(f.get("GET", "/api/calls", "bad", t0 + std::chrono::seconds(6 * i)).status == 401);
    CHECK(f.get("GET", "/api/calls", kAdmin, t0 + 60s).status == 200);
    CHECK_FALSE(f.api->poll_log());
}

TEST_CASE("api: unknown paths and ids are 404, bad input 400 naming the field, 405 with Allow",
          "[server][api]") {
    Fixture f;
    auto r = f.get("GET", "/api/nothing", kAdmin);
    CHECK(r.status == 404);
    CHECK(r.body == "{\"error\":\"no such resource\"}\n");
    CHECK(f.get("GET", "/nothing", "").status == 404);  // "/" is the console (console_test.cpp)
    CHECK(f.get("GET", "/api/calls/", kAdmin).status == 404);
    CHECK(f.get("GET", "/api/calls/1/x", kAdmin).status == 404);

    r = f.get("GET", "/api/calls/123", kAdmin);
    CHECK(r.status == 404);
    CHECK(r.body == "{\"error\":\"no such call\",\"field\":\"id\"}\n");
    r = f.get("DELETE", "/api/calls/abc", kAdmin);
    CHECK(r.status == 400);
    CHECK(r.body.find("\"field\":\"id\"") != std::string::npos);
    r = f.get("DELETE", "/api/suspensions/alice", kAdmin);
    CHECK(r.status == 404);
    CHECK(r.body.find("\"field\":\"key\"") != std::string::npos);

    r = f.handle({.path = "/api/calls", .query = {{"limit", "0"}}});
    CHECK(r.status == 400);
    CHECK(r.body.find("\"field\":\"limit\"") != std::string::npos);
    r = f.handle({.path = "/api/calls", .query = {{"limt", "5"}}});
    CHECK(r.status == 400);
    CHECK(r.body.find("\"field\":\"limt\"") != std::string::npos);

    r = f.get("POST", "/api/calls", kAdmin);
    CHECK(r.status == 405);
    CHECK(header(r, "Allow") == "GET, HEAD");
    r = f.get("PUT", "/api/calls/1", kAdmin);
    CHECK(r.status == 405);
    CHECK(header(r, "Allow") == "GET, HEAD, DELETE");
}

TEST_CASE("api: a call is listed, shown and hung up through DELETE", "[server][api]") {
    Fixture f;
    f.from_acme(kInvite, t0);
    f.drain();
    REQUIRE(f.sw->calls().active() == 1);
    const std::uint64_t id = f.sw->calls().list()[0].id;

    auto r = f.get("GET", "/api/calls", kRead, t0 + 2s);
    REQUIRE(r.status == 200);
    CHECK(r.body.starts_with("{\"count\":1,\"calls\":[{\"id\":" + std::to_string(id) +
                             ",\"customer\":\"acme\",\"vendor_gateway\":\"gw1\""));
    CHECK(r.body.find("\"callee\":\"442071234567\"") != std::string::npos);
    // wall-clock times: the INVITE came 2 s before the request
    CHECK(r.body.find("\"setup_ms\":" + std::to_string(kWall - 2000)) != std::string::npos);
    CHECK(r.body.find("\"answer_ms\":null") != std::string::npos);
    CHECK(f.get("GET", "/api/calls/" + std::to_string(id), kRead).status == 200);

    r = f.get("DELETE", "/api/calls/" + std::to_string(id), kAdmin, t0 + 3s);
    CHECK(r.status == 200);
    CHECK(r.body == "{\"id\":" + std::to_string(id) + ",\"hung_up\":true}\n");
    CHECK(r.switch_changed);
    auto log = f.api->poll_log();
    REQUIRE(log);
    CHECK(*log == "api: token 'ops' hung up call " + std::to_string(id));
    f.drain();
    CHECK(f.sw->calls().active() == 0);
    CHECK(f.count("10.0.0.1", "SIP/2.0 503") > 0);  // the customer got its final answer from the server
    CHECK(f.get("DELETE", "/api/calls/" + std::to_string(id), kAdmin, t0 + 4s).status == 404);
}

TEST_CASE("api: gateways show both kinds with their live counters", "[server][api]") {
    Fixture f;
    f.from_acme(kInvite, t0);
    f.drain();
    auto r = f.get("GET", "/api/gateways", kRead);
    REQUIRE(r.status == 200);
    CHECK(r.body.find("\"customers\":[{\"name\":\"acme\",\"account\":\"1001\",\"auth\":\"ip\","
                      "\"ips\":[\"10.0.0.1\"]") != std::string::npos);
    CHECK(r.body.find("\"current_calls\":1") != std::string::npos);
    CHECK(r.body.find("\"vendors\":[{\"name\":\"gw1\",\"prefixes\":[\"44\"]") != std::string::npos);
    CHECK(r.body.find("\"down_since_ms\":null") != std::string::npos);
    CHECK(r.body.find("\"last_failure\":null") != std::string::npos);
}

TEST_CASE("api: suspensions list is JSON", "[server][api]") {
    Fixture f;
    auto r = f.get("GET", "/api/suspensions", kRead);
    CHECK(r.status == 200);
    CHECK(r.body == "{\"suspensions\":[]}\n");
}

TEST_CASE("api: the OpenAPI document is served and names every endpoint", "[server][api]") {
    Fixture f;
    auto r = f.get("GET", "/api/openapi.json", kRead);
    REQUIRE(r.status == 200);
    CHECK(r.body.find("\"openapi\": \"3.0") != std::string::npos);
    for (const char* path : {"\"/api/calls\"", "\"/api/calls/{id}\"", "\"/api/gateways\"",
                             "\"/api/suspensions\"", "\"/api/suspensions/{key}\"",
                             "\"/metrics\"", "\"/api/openapi.json\""})
        CHECK(r.body.find(path) != std::string::npos);
}

TEST_CASE("api: /metrics is Prometheus text, open on loopback only", "[server][api]") {
    Fixture f;
    f.api->set_process_metrics([] {
        sw::ProcessMetrics p;
        p.resident_bytes = 12345678;
        p.cdr_queued = 4;
        p.loop_lag = 3ms;
        p.hep_sent_dropped = std::pair<std::uint64_t, std::uint64_t>(5, 2);
        return p;
    });
    f.from_acme(kInvite, t0);
    f.drain();
    auto r = f.get("GET", "/metrics", "");
    REQUIRE(r.status == 200);
    CHECK(r.content_type.starts_with("text/plain; version=0.0.4"));
    for (const char* line : {
             "trunkline_calls_active 1",
             "trunkline_calls_attempted_total 1",
             "trunkline_customer_calls_active{customer=\"acme\"} 1",
             "trunkline_gateway_calls_total{gateway=\"gw1\"} 1",
             "trunkline_resident_memory_bytes 12345678",
             "trunkline_cdr_queue_depth 4",
             "trunkline_event_loop_lag_seconds 0.003000",
             "trunkline_api_tokens 2",
             // by method and class: the call's INVITE came in and ours went out; no answer yet
             "trunkline_sip_requests_total{direction=\"in\",method=\"INVITE\"} 1",
             "trunkline_sip_requests_total{direction=\"out\",method=\"INVITE\"} 1",
             "trunkline_sip_requests_total{direction=\"in\",method=\"OTHER\"} 0",
             "trunkline_sip_responses_total{direction=\"in\",class=\"2xx\"} 0",
             "trunkline_call_pdd_seconds_bucket{le=\"+Inf\"} 0",
             "trunkline_gateway_talk_seconds_total{gateway=\"gw1\"} 0.000",
             "trunkline_dns_lookups_total{result=\"hit\"} 0",
             "trunkline_hep_packets_sent_total 5",
             "trunkline_hep_packets_dropped_total 2",
         }) {
        INFO(line);
        CHECK(has(r.body, "\n" + std::string(line) + "\n"));
    }
    // every line: a comment, or `name{labels} value`
    const std::regex sample(R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.]+$)");
    std::istringstream in(r.body);
    int samples = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) continue;
        INFO(line);
        CHECK(std::regex_match(line, sample));
        ++samples;
    }
    CHECK(samples > 30);

    CHECK(f.get("GET", "/metrics", "", t0, "192.0.2.9").status == 401);
    CHECK(f.get("GET", "/metrics", kRead, t0, "192.0.2.9").status == 200);
    CHECK(f.get("DELETE", "/metrics", kAdmin).status == 405);
    Fixture locked({.metrics_token_on_loopback = true});
    CHECK(locked.get("GET", "/metrics", "").status == 401);
}

TEST_CASE("api: [api] settings and --api", "[server][api][config]") {
    wiring::ServerConfig c;
    std::string err;
    CHECK(c.api_enabled);
    CHECK(c.api_listen == "127.0.0.1:8080");
    CHECK_FALSE(c.api_listen_required);
    REQUIRE(wiring::load_config_text("[api]\nlisten = \"[::1]:9090\"\nenabled = true\n"
                                     "max_failed_logins = 5\nfailed_login_block = 120\n",
                                     "t.toml", c, &err));
    CHECK(c.api_listen == "[::1]:9090");
    CHECK(c.api_listen_required);
    CHECK(c.api.max_failures == 5u);
    CHECK(c.api.block == 120s);

    wiring::ServerConfig d;
    CHECK_FALSE(wiring::load_config_text("[api]\nlisten = \"localhost:80\"\n", "t.toml", d, &err));
    CHECK(err.find("t.toml:2:10: api.listen: 'localhost:80' is not ADDRESS:PORT") == 0);
    CHECK_FALSE(wiring::load_config_text("[api]\nmax_failed_logins = 0\n", "t.toml", d, &err));
    CHECK(err.find("api.max_failed_logins") != std::string::npos);

    wiring::Flags fl;
    REQUIRE(wiring::parse_flags({"--api", "127.0.0.1:18080"}, fl, &err));
    wiring::ServerConfig e;
    REQUIRE(wiring::load_config(fl, e, &err));
    CHECK(e.api_listen == "127.0.0.1:18080");
    CHECK(e.api_listen_required);
    wiring::Flags off;
    REQUIRE(wiring::parse_flags({"--api", "off"}, off, &err));
    REQUIRE(wiring::load_config(off, e, &err));
    CHECK_FALSE(e.api_enabled);
}

TEST_CASE("api: route explain uses the running router and book", "[server][api][routes]") {
    Fixture f;
    auto r = f.get("GET", "/api/routes/explain", kRead);
    CHECK(r.status == 400);
    CHECK(r.body.find("\"field\":\"number\"") != std::string::npos);
    auto explain = [&](std::vector<std::pair<std::string, std::string>> query) {
        return f.handle({.path = "/api/routes/explain", .query = std::move(query), .token = kRead});
    };
    r = explain({{"number", "442071234567"}, {"customer", "acme"}});
    REQUIRE(r.status == 200);
    CHECK(r.body.find(R"("routed":"442071234567","customer":"acme","account":"1001")") != std::string::npos);
    CHECK(r.body.find(R"("customer_rate":{"per_minute":"0.10","prefix":"44")") != std::string::npos);
    CHECK(r.body.find(R"({"gateway":"gw1","prefix":"44","order":1,"skip":"","protect":false,)"
                      R"("vendor_per_minute":"0.05")") != std::string::npos);
    r = explain({{"number", "442071234567"}, {"customer", "nobody"}});
    CHECK(r.status == 404);
    CHECK(r.body.find("\"field\":\"customer\"") != std::string::npos);
    CHECK(explain({{"number", "1"}, {"customer", "acme"}, {"at", "x"}}).status == 400);
    CHECK(f.get("GET", "/api/routes/other", kRead).status == 404);
}

TEST_CASE("api: alerts are listed, acknowledged by an admin, counted in /metrics", "[server][api][alerts]") {
    Fixture f;
    f.sw->alerts().tick({{"gw1", true, "3 probes unanswered", 0, 0}}, f.sw->book(), t0, kWall);
    auto ev = f.sw->alerts().poll_event();
    REQUIRE(ev);
    CHECK(sw::to_json(*ev) ==
          "{\"event\":\"raised\",\"id\":1,\"kind\":\"gateway_down\",\"subject\":\"gw1\",\"message\":"
          "\"vendor gateway gw1 is down: 3 probes unanswered\",\"raised_ms\":" +
              std::to_string(kWall) + ",\"cleared_ms\":null}");
    auto r = f.get("GET", "/api/alerts", kRead);
    REQUIRE(r.status == 200);
    CHECK(r.body.starts_with("{\"active\":[{\"id\":1,\"kind\":\"gateway_down\",\"subject\":\"gw1\""));
    CHECK(r.body.find("\"cleared\":[]") != std::string::npos);
    auto m = f.get("GET", "/metrics", "");
    CHECK(m.body.find("\ntrunkline_alerts_active{kind=\"gateway_down\"} 1\n") != std::string::npos);
    CHECK(m.body.find("\ntrunkline_alerts_raised_total 1\n") != std::string::npos);

    CHECK(f.get("DELETE", "/api/alerts/1", kRead).status == 403);
    CHECK(f.get("DELETE", "/api/alerts/x", kAdmin).status == 400);
    CHECK(f.get("DELETE", "/api/alerts/9", kAdmin).status == 404);
    CHECK(f.get("POST", "/api/alerts", kAdmin).status == 405);
    r = f.get("DELETE", "/api/alerts/1", kAdmin);
    CHECK(r.status == 200);
    CHECK(r.body == "{\"id\":1,\"acknowledged\":true}\n");
    auto log = f.api->poll_log();
    REQUIRE(log);
    CHECK(*log == "api: token 'ops' acknowledged alert 1");
    r = f.get("GET", "/api/alerts", kRead);
    CHECK(r.body.starts_with("{\"active\":[],\"cleared\":[{\"id\":1,"));
    CHECK(r.body.find("\"cleared_ms\":" + std::to_string(kWall)) != std::string::npos);
}

// /api/gateways/customers, /api/gateways/vendors and /api/groups through sw::api::Api over
// wiring::ApiData on a real SQLite file: create (POST, 409 on an existing name), read with an
// ETag, full replace (PUT), change (PATCH), delete; If-Match (409 on a stale tag, nothing
// changes); 400 for a body that is not a JSON object, 422 naming the field with the message
// of the validation trunkctl shares (sw/gateway_form.hpp); unknown accounts, SIP users and
// groups 422; unknown gateways 404; a read token 403; the table versions the running
// switch's reloader watches move. And the JSON reader's arrays of strings.
#include <catch2/catch.hpp>

#include <regex>
#include <string>

#include "api_fixture.hpp"
#include "core/src/json_reader.hpp"
#include "route/lcr/sqlite/store.hpp"
#include "sw/gateway_form.hpp"

using namespace std::chrono_literals;
using namespace test;

namespace {

struct Fixture : ApiDataFixture {
    Fixture() : ApiDataFixture("tl-api-gateways") {
        wall = kWall2025;
        {
            auto st = billing::sqlite::Store::open(db);
            REQUIRE(st);
            add_accounts(*st, {"C1", "V1"});
        }
        open_data();
        REQUIRE(data->add_user({"trunk1", "trunkline", {}, true, 0, 0}, wall));
    }
    sw::api::Response call(std::string method, std::string path, std::string body = {},
                           std::string if_match = {}, std::string token = kAdmin) {
        return handle({.method = std::move(method), .path = std::move(path), .body = std::move(body),
                       .if_match = std::move(if_match), .token = std::move(token)});
    }
    std::map<std::string, std::int64_t> versions() {
        std::string err;
        auto st = route::lcr::sqlite::Store::open(db, &err);
        REQUIRE(st);
        return st->table_versions(&err);
    }
};

// 422 naming `field`, with `text` in the message.
void refused(const sw::api::Response& r, const std::string& field, const std::string& text) {
    INFO(r.body);
    CHECK(r.status == 422);
    CHECK(has(r.body, "\"field\":\"" + field + "\""));
    CHECK(has(r.body, text));
    CHECK(!r.tables_changed);
}

const std::string kAcme = R"({"name":"acme","account":"C1","ips":["192.0.2.10"],"line_limit":10})";
const std::string kGw1 =
    R"({"name":"gw1","vendor_account":"V1","prefixes":["44","33"],"host":"192.0.2.20","port":5070})";

}  // namespace

TEST_CASE("api gateways: a customer gateway created, read, patched, replaced, removed",
          "[server][api][gateways]") {
    Fixture f;
    const auto before = f.versions();
    auto r = f.call("POST", "/api/gateways/customers", kAcme);
    INFO(r.body);
    REQUIRE(r.status == 201);
    CHECK(r.tables_changed);
    CHECK(header(r, "Location") == "/api/gateways/customers/acme");
    const std::string tag1 = header(r, "ETag");
    CHECK(std::regex_match(tag1, std::regex("\"v[0-9]+\"")));
    CHECK(has(r.body, R"("name":"acme","account":"C1","auth":"ip","ips":["192.0.2.10"])"));
    CHECK(has(r.body, R"("line_limit":10)"));
    CHECK(has(r.body, R"("max_rate_type":"International")"));
    CHECK(f.versions().at("customer") == before.at("customer") + 1);  // the reloader's cue
    CHECK(f.logs() == std::vector<std::string>{"api: token 'ops' added customer gateway acme"});

    r = f.call("GET", "/api/gateways/customers/acme");
    CHECK(r.status == 200);
    CHECK(header(r, "ETag") == tag1);
    CHECK(f.call("POST", "/api/gateways/customers", kAcme).status == 409);  // exists

    r = f.call("PATCH", "/api/gateways/customers/acme",
               R"({"line_limit":20,"caller_deny":["1900"]})", tag1);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.tables_changed);
    const std::string tag2 = header(r, "ETag");
    CHECK(tag2 != tag1);
    CHECK(has(r.body, R"("line_limit":20)"));
    CHECK(has(r.body, R"("ips":["192.0.2.10"])"));  // untouched
    CHECK(has(r.body, R"("caller_deny":["1900"])"));

    r = f.call("PATCH", "/api/gateways/customers/acme", "{}", tag2);  // nothing to change
    CHECK(r.status == 200);
    CHECK(!r.tables_changed);
    CHECK(header(r, "ETag") == tag2);

    // a stale ETag: 409, nothing changes
    r = f.call("PATCH", "/api/gateways/customers/acme", R"({"line_limit":30})", tag1);
    CHECK(r.status == 409);
    CHECK(has(r.body, "\"field\":\"If-Match\""));
    CHECK(!r.tables_changed);
    CHECK(f.call("PUT", "/api/gateways/customers/acme", kAcme, tag1).status == 409);
    CHECK(f.call("DELETE", "/api/gateways/customers/acme", {}, tag1).status == 409);
    CHECK(has(f.call("GET", "/api/gateways/customers/acme").body, R"("line_limit":20)"));

    // PUT replaces the whole gateway: what it leaves out goes back to the default
    r = f.call("PUT", "/api/gateways/customers/acme",
               R"({"account":"C1","auth":"ip_port","ips":["[2001:db8::1]:5070"],"enabled":false})",
               tag2);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(has(r.body, R"("ips":["[2001:db8::1]:5070"])"));
    CHECK(has(r.body, R"("line_limit":0)"));
    CHECK(has(r.body, R"("caller_deny":[])"));
    CHECK(has(r.body, R"("enabled":false)"));
    CHECK(f.call("PUT", "/api/gateways/customers/ghost", R"({"account":"C1","ips":["192.0.2.10"]})")
              .status == 404);

    r = f.call("GET", "/api/gateways/customers");
    CHECK(r.status == 200);
    CHECK(has(r.body, R"({"customers":[{"name":"acme")"));

    f.logs();
    r = f.call("DELETE", "/api/gateways/customers/acme", {}, "*");
    CHECK(r.status == 200);
    CHECK(r.tables_changed);
    CHECK(f.logs() == std::vector<std::string>{"api: token 'ops' removed customer gateway acme"});
    CHECK(f.call("GET", "/api/gateways/customers/acme").status == 404);
    CHECK(f.call("DELETE", "/api/gateways/customers/acme").status == 404);
    CHECK(f.call("PATCH", "/api/gateways/customers/acme", R"({"line_limit":1})").status == 404);
}

TEST_CASE("api gateways: a digest customer needs an existing SIP user", "[server][api][gateways]") {
    Fixture f;
    refused(f.call("POST", "/api/gateways/customers",
                   R"({"name":"d","account":"C1","auth":"digest","sip_user":"nobody"})"),
            "sip_user", "no SIP user nobody");
    refused(
        f.call("POST", "/api/gateways/customers", R"({"name":"d","account":"C1","auth":"digest"})"),
        "sip_user", "sip_user: a customer with auth digest needs sip_user U");
    CHECK(f.call("POST", "/api/gateways/customers",
                 R"({"name":"d","account":"C1","auth":"digest","sip_user":"trunk1"})")
              .status == 201);
}

TEST_CASE("api gateways: vendor gateways and groups", "[server][api][gateways]") {
    Fixture f;
    auto r = f.call("POST", "/api/gateways/vendors", kGw1);
    INFO(r.body);
    REQUIRE(r.status == 201);
    CHECK(has(r.body, R"("prefixes":["44","33"])"));
    CHECK(has(r.body, R"("port":5070,"transport":"udp")"));
    CHECK(has(r.body, R"("lowest_profit_per_s":null)"));

    refused(f.call("PATCH", "/api/gateways/vendors/gw1", R"({"group":"uk"})"), "group",
            "no gateway group uk");
    r = f.call("POST", "/api/groups", R"({"name":"uk","line_limit":30})");
    INFO(r.body);
    REQUIRE(r.status == 201);
    CHECK(header(r, "Location") == "/api/groups/uk");
    r = f.call(
        "PATCH", "/api/gateways/vendors/gw1",
        R"({"group":"uk","reserved_lines":2,"lowest_profit_per_s":"0.0001","prefixes":["*"],"port":0})");
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(has(r.body, R"("prefixes":[""])"));  // every number, as trunkctl shows it
    CHECK(has(r.body, R"("lowest_profit_per_s":"0.0001")"));
    CHECK(has(r.body, R"("port":0)"));
    auto got = f.call("GET", "/api/gateways/vendors/gw1");
    r = f.call("PUT", "/api/gateways/vendors/gw1", got.body, header(got, "ETag"));  // round trip
    INFO(r.body);
    CHECK(r.status == 200);
    CHECK(r.body.substr(0, r.body.find("\"version\"")) ==
          got.body.substr(0, got.body.find("\"version\"")));
    refused(f.call("PATCH", "/api/gateways/vendors/gw1", R"({"group":""})"), "reserved_lines",
            "reserved_lines 2: needs group");

    r = f.call("GET", "/api/groups/uk");
    CHECK(has(r.body, R"({"name":"uk","line_limit":30,"gateways":["gw1"])"));
    r = f.call("DELETE", "/api/groups/uk");  // in use: stays
    CHECK(r.status == 409);
    CHECK(has(r.body, "used by vendor gateway(s) gw1"));
    refused(f.call("PATCH", "/api/groups/uk", R"({"line_limit":-1})"), "line_limit",
            "line_limit -1: outside");
    r = f.call("PUT", "/api/groups/uk", R"({"line_limit":40})",
               header(f.call("GET", "/api/groups/uk"), "ETag"));
    CHECK(r.status == 200);
    CHECK(has(r.body, R"("line_limit":40)"));
    got = f.call("GET", "/api/groups/uk");
    CHECK(f.call("PUT", "/api/groups/uk", got.body).status == 200);  // round trip
    CHECK(has(f.call("GET", "/api/groups").body, R"({"groups":[{"name":"uk")"));

    CHECK(
        f.call("PATCH", "/api/gateways/vendors/gw1", R"({"group":"","reserved_lines":0})").status ==
        200);
    CHECK(f.call("DELETE", "/api/groups/uk").status == 200);
    CHECK(f.call("DELETE", "/api/gateways/vendors/gw1").status == 200);
    CHECK(f.call("GET", "/api/gateways/vendors/gw1").status == 404);
    CHECK(f.call("GET", "/api/groups/uk").status == 404);
}

TEST_CASE("api gateways: 400, 422 naming the field, 404, 405, 403", "[server][api][gateways]") {
    Fixture f;
    CHECK(f.call("POST", "/api/gateways/customers", "not json").status == 400);
    CHECK(f.call("POST", "/api/gateways/customers", "[1]").status == 400);
    CHECK(f.call("POST", "/api/gateways/customers", R"({"name":"a","ips":[["x"]]})").status == 400);
    refused(f.call("POST", "/api/gateways/customers",
                   R"({"name":"a","account":"C1","ips":["192.0.2.1"],"line_limit":-1})"),
            "line_limit", "line_limit -1: outside 0..1000000 (number of channels, 0 = unlimited)");
    refused(f.call("POST", "/api/gateways/customers",
                   R"({"name":"a","account":"C1","ips":["300.1.1.1"]})"),
            "ips", "'300.1.1.1' is not an IP address (auth ip; ADDR:PORT needs auth ip_port)");
    refused(f.call("POST", "/api/gateways/customers",
                   R"({"name":"a","account":"NOPE","ips":["192.0.2.1"]})"),
            "account", "no billing account NOPE");
    refused(f.call("POST", "/api/gateways/customers", R"({"name":"a","ips":["192.0.2.1"]})"),
            "account", "account is required");
    refused(f.call("POST", "/api/gateways/customers",
                   R"({"name":"a","account":"C1","line_limit":"10"})"),
            "line_limit", "line_limit must be a whole number, not string");
    refused(f.call("POST", "/api/gateways/customers",
                   R"({"name":"a","account":"C1","line_limit":1.5})"),
            "line_limit", "not a whole number");
    refused(
        f.call("POST", "/api/gateways/customers", R"({"name":"a","account":"C1","enabled":"yes"})"),
        "enabled", "enabled must be true or false");
    refused(
        f.call("POST", "/api/gateways/customers", R"({"name":"a","account":"C1","colour":"red"})"),
        "colour", "unknown member");
    refused(f.call("POST", "/api/gateways/customers", R"({"name":"a b","account":"C1"})"), "name",
            "character ' ' at position 2 is not allowed");
    refused(f.call("POST", "/api/gateways/customers", R"({"account":"C1"})"), "name",
            "name is required");
    refused(
        f.call(
            "POST", "/api/gateways/customers",
            R"({"name":"a","account":"C1","ips":["192.0.2.1"],"caller_allow":["1"],"caller_deny":["2"]})"),
        "caller_allow", "caller_allow and caller_deny: use one of the two");
    refused(f.call("POST", "/api/gateways/vendors",
                   R"({"name":"v","vendor_account":"V1","host":"h.example"})"),
            "prefixes", "prefixes is required");
    refused(f.call("POST", "/api/gateways/vendors",
                   R"({"name":"v","vendor_account":"V1","host":"h.example","prefixes":["4x"]})"),
            "prefixes", "prefixes 4x: '4x' is not a prefix of digits ('*' = every number)");
    refused(f.call("POST", "/api/gateways/vendors",
                   R"({"name":"v","vendor_account":"V1","host":"h.example","prefixes":["4,4"]})"),
            "prefixes", "entry 1 contains ','");
    refused(
        f.call(
            "POST", "/api/gateways/vendors",
            R"({"name":"v","vendor_account":"V1","host":"h.example","prefixes":["4"],"max_minute_rate":1})"),
        "max_minute_rate", "max_minute_rate must be a decimal string");
    refused(
        f.call(
            "POST", "/api/gateways/vendors",
            R"({"name":"v","vendor_account":"V1","host":"h.example","prefixes":["4"],"transport":"sctp"})"),
        "transport", "transport sctp: use udp, tcp or tls");
    refused(
        f.call(
            "POST", "/api/gateways/vendors",
            R"({"name":"v","vendor_account":"V1","host":"h.example","prefixes":["4"],"port":70000})"),
        "port", "port 70000: not a port");
    REQUIRE(f.call("POST", "/api/gateways/customers", kAcme).status == 201);
    refused(f.call("PATCH", "/api/gateways/customers/acme", R"({"name":"other"})"), "name",
            "name must be the name in the path");
    CHECK(f.call("PATCH", "/api/gateways/customers/acme", "{").status == 400);
    CHECK(f.call("PATCH", "/api/gateways/customers/nobody", R"({"line_limit":1})").status == 404);
    CHECK(f.call("GET", "/api/gateways/customers/nobody").status == 404);
    CHECK(f.call("GET", "/api/gateways/trunks/acme").status == 404);
    CHECK(f.call("GET", "/api/gateways/customers/acme/x").status == 404);
    CHECK(f.call("POST", "/api/gateways/customers/acme", kAcme).status == 405);
    CHECK(f.call("PUT", "/api/groups", "{}").status == 405);
    // a read token reads, never writes
    CHECK(f.call("GET", "/api/gateways/customers/acme", {}, {}, kRead).status == 200);
    CHECK(
        f.call("PATCH", "/api/gateways/customers/acme", R"({"line_limit":1})", {}, kRead).status ==
        403);
    CHECK(f.call("DELETE", "/api/gateways/customers/acme", {}, {}, kRead).status == 403);
    CHECK(f.call("POST", "/api/groups", R"({"name":"g","line_limit":1})", {}, kRead).status == 403);
    CHECK(has(f.call("GET", "/api/gateways/customers/acme").body, R"("line_limit":10)"));
}

TEST_CASE("api gateways: the API and trunkctl share one validation", "[server][api][gateways]") {
    // the form's message is trunkctl's; the API names the field instead of the option
    sw::gateway_form::MapValues v{{"--line-limit", "-1"}};
    route::lcr::CustomerSpec c;
    auto e = sw::gateway_form::apply_customer(v, c);
    REQUIRE(e);
    CHECK(e->option == "--line-limit");
    CHECK(e->message == "--line-limit -1: outside 0..1000000 (number of channels, 0 = unlimited)");
    route::lcr::VendorGateway g;
    e = sw::gateway_form::apply_vendor(sw::gateway_form::MapValues{{"--host", "a:5060"}}, g);
    REQUIRE(e);
    CHECK(e->message == "--host a:5060: not an IP address or FQDN (give the port with --port)");
    CHECK(!sw::gateway_form::apply_vendor(sw::gateway_form::MapValues{{"--port", "default"}}, g));
}

TEST_CASE("api json reader: arrays of strings as member values, nothing deeper",
          "[server][api][json]") {
    std::string err;
    auto m = sw::read_flat_object(R"({"ips":["a","b\u00e9"], "none": [ ], "n": 1})", &err);
    REQUIRE(m);
    const sw::JsonValue* ips = sw::find_member(*m, "ips");
    REQUIRE(ips);
    CHECK(ips->kind == sw::JsonValue::Kind::array);
    CHECK(ips->items == std::vector<std::string>{"a", "b\xc3\xa9"});
    CHECK(sw::find_member(*m, "none")->items.empty());
    CHECK(sw::to_string(sw::JsonValue::Kind::array) == "array");
    for (std::string_view bad :
         {R"({"a":[1]})", R"({"a":["x",]})", R"({"a":[["x"]]})", R"({"a":[{}]})", R"({"a":["x")",
          R"({"a":{"b":1}})", R"(["x"])", R"({"a":[null]})"}) {
        INFO(bad);
        CHECK(!sw::read_flat_object(bad, &err));
        CHECK(!err.empty());
    }
}

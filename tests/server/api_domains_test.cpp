// /api/domains and /api/carriers through sw::api::Api over wiring::ApiData on a real SQLite
// file (the same tables `trunkctl domain` and `trunkctl trunk-reg` use), with a fake
// sw::api::Live for the domain cache's live status and a real sw::Switch whose carrier
// registration is answered by hand: create, read, change, delete, the error cases (400 body
// not JSON, 422 naming the field with trunkctl's message, 404, 409 duplicate, 403 read token),
// "resolve now", "register now", the live state (registering -> registered), the password
// never returned or logged, the audit lines, the trunk_reg change counter moving; ETag and
// If-Match (409 on a stale tag, nothing changes; a trunkctl write in between is never
// overwritten).
#include <catch2/catch.hpp>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "api_fixture.hpp"
#include "route/domain/sqlite/store.hpp"
#include "route/reg/sqlite/store.hpp"
#include "wiring/trunk_specs.hpp"

using namespace std::chrono_literals;
using namespace test;

namespace {

// The running domain cache, as the API sees it.
struct FakeLive final : sw::api::Live {
    std::map<std::string, route::domain::EntryStatus, std::less<>> entries;
    std::vector<std::string> resolved, put, removed;
    std::map<std::string, std::string, std::less<>> waiting;

    std::optional<route::domain::EntryStatus> domain_status(std::string_view key,
                                                            sip::Instant) override {
        auto it = entries.find(key);
        if (it == entries.end()) return std::nullopt;
        return it->second;
    }
    bool resolve_now(std::string_view key, sip::Instant) override {
        if (!entries.count(key)) return false;
        resolved.emplace_back(key);
        entries.find(key)->second.resolving = true;
        return true;
    }
    void domain_put(const route::domain::EntrySpec& spec, sip::Instant) override {
        put.push_back(route::domain::entry_key(spec));
        auto& st = entries[route::domain::entry_key(spec)];
        st.spec = spec;
        st.key = route::domain::entry_key(spec);
        st.resolving = true;
    }
    void domain_removed(std::string_view key, sip::Instant) override {
        removed.emplace_back(key);
        if (auto it = entries.find(key); it != entries.end()) entries.erase(it);
    }
    std::optional<std::string> carrier_waiting(std::string_view name) override {
        auto it = waiting.find(name);
        if (it == waiting.end()) return std::nullopt;
        return it->second;
    }
};

// The switch names itself 198.51.100.7 in its carrier registrations' Contact.
sw::SwitchConfig contact_config() {
    sw::SwitchConfig cfg;
    cfg.element.contact_host = "198.51.100.7";
    return cfg;
}

struct Fixture : ApiDataFixture {
    FakeLive live;

    Fixture() : ApiDataFixture("tl-api-domains", contact_config()) {
        wall = kWall2025;
        open_data();
    }
    // At `now`, the wall clock moved as much.
    sw::api::Response call(std::string method, std::string path, std::string body = {},
                           std::string token = kAdmin, sip::Instant now = t0) {
        return handle({.method = std::move(method), .path = std::move(path), .body = std::move(body),
                       .token = std::move(token), .now = now, .wall = wall + (now - t0) / 1ms});
    }
    // A write with an If-Match header.
    sw::api::Response call_if(std::string method, std::string path, std::string body,
                              std::string if_match) {
        return handle({.method = std::move(method), .path = std::move(path), .body = std::move(body),
                       .if_match = std::move(if_match), .token = kAdmin, .now = t0, .wall = wall});
    }
    // POST `body` to `list`: 201 with an ETag "v<N>", which a GET of `item` with the read token
    // repeats. The answer and its ETag.
    std::pair<sw::api::Response, std::string> created_tagged(std::string list, std::string item,
                                                             std::string body) {
        auto r = call("POST", std::move(list), std::move(body));
        REQUIRE(r.status == 201);
        std::string tag = header(r, "ETag");
        CHECK(std::regex_match(tag, std::regex("\"v[0-9]+\"")));
        CHECK(header(call("GET", std::move(item), {}, kRead), "ETag") == tag);
        return {std::move(r), std::move(tag)};
    }
    // The ETag "v<N>" of the answer `r` is its "version" N, and the list shows the versions.
    void check_version_shown(const sw::api::Response& r, const std::string& tag, std::string list) {
        CHECK(has(r.body, "\"version\":" + tag.substr(2, tag.size() - 3) + "}"));
        CHECK(has(call("GET", std::move(list)).body, "\"version\":"));
    }
    // DELETE of `item` with the ETag `stale`: 409 and the entry stays; with `current`: removed
    // (the answer returned), after which "*" matches nothing.
    sw::api::Response delete_tagged(const std::string& item, const std::string& stale,
                                    const std::string& current) {
        CHECK(call_if("DELETE", item, {}, stale).status == 409);
        CHECK(call("GET", item).status == 200);
        auto r = call_if("DELETE", item, {}, current);
        CHECK(r.status == 200);
        CHECK(call_if("DELETE", item, {}, "*").status == 404);
        return r;
    }
    std::int64_t trunk_reg_version() {
        std::string err;
        auto st = route::reg::sqlite::Store::open(db, &err);
        REQUIRE(st);
        return st->change_versions(&err)["trunk_reg"];
    }
    // What wiring::Carriers does when the reloader sees trunk_reg move: the enabled entries
    // (IP literals here) become the switch's carrier entries.
    void reload_carriers(sip::Instant now) {
        auto rows = data->carriers();
        REQUIRE(rows);
        std::vector<sw::TrunkSpec> specs;
        wiring::TrunkDefaults d;
        d.contact_host = "198.51.100.7";
        d.ports[sip::Transport::Udp] = 5060;
        for (const auto& [r, version] : *rows) {
            if (!r.enabled) continue;
            std::string why;
            auto s = wiring::trunk_spec(r, *wiring::literal_registrar(r), d, &why);
            REQUIRE(s);
            specs.push_back(std::move(*s));
        }
        sw->registrations().set_trunks(std::move(specs), now);
        sw->pump(now);
    }
};

// A write refused for its stale If-Match: 409 naming the header.
void check_stale(const sw::api::Response& r) {
    CHECK(r.status == 409);
    CHECK(names_field(r, "If-Match"));
}

std::string header_line(const std::string& msg, const std::string& name) {
    const auto at = msg.find("\r\n" + name + ":");
    REQUIRE(at != std::string::npos);
    const auto start = at + 2 + name.size() + 1;
    const auto end = msg.find("\r\n", start);
    std::string v = msg.substr(start, end - start);
    while (!v.empty() && v.front() == ' ') v.erase(0, 1);
    return v;
}

// A registrar's 200 OK to a REGISTER, binding its Contact for `expires` seconds.
std::string ok_to(const std::string& reg, int expires) {
    std::string contact = header_line(reg, "Contact");
    if (auto semi = contact.find(">;"); semi != std::string::npos) contact.resize(semi + 1);
    return "SIP/2.0 200 OK\r\nVia: " + header_line(reg, "Via") +
           "\r\nFrom: " + header_line(reg, "From") + "\r\nTo: " + header_line(reg, "To") +
           ";tag=reg1\r\nCall-ID: " + header_line(reg, "Call-ID") +
           "\r\nCSeq: " + header_line(reg, "CSeq") + "\r\nContact: " + contact +
           ";expires=" + std::to_string(expires) + "\r\nContent-Length: 0\r\n\r\n";
}

}  // namespace

TEST_CASE("api domains: create, read, change, delete, errors", "[api][domains]") {
    Fixture f;
    auto r = f.call("POST", "/api/domains",
                    R"({"name":"Sip.Carrier.Test.","ttl":60,"port":5080,"transport":"tcp"})");
    CHECK(r.status == 201);
    INFO(r.body);
    CHECK(has(r.body, R"("name":"sip.carrier.test","entry":true,"ttl":60,"port":5080,"transport":"tcp")"));
    CHECK(has(r.body, R"("live":null)"));  // no running cache given
    CHECK(f.logs() == std::vector<std::string>{"api: token 'ops' added domain entry sip.carrier.test"});
    {  // the table trunkctl domain reads
        std::string err;
        auto st = route::domain::sqlite::Store::open(f.db, &err);
        REQUIRE(st);
        auto e = st->get("sip.carrier.test", &err);
        REQUIRE(e);
        CHECK(e->port == std::optional<std::uint16_t>(5080));
        CHECK(e->ttl_override == std::optional<route::domain::Duration>(60s));
    }
    CHECK(f.call("POST", "/api/domains", R"({"name":"sip.carrier.test"})").status == 409);
    r = f.call("GET", "/api/domains", {}, kRead);
    CHECK(r.status == 200);
    CHECK(has(r.body, R"({"live":false,"domains":[{"name":"sip.carrier.test")"));
    r = f.call("PATCH", "/api/domains/sip.carrier.test", R"({"ttl":null,"transport":null})");
    CHECK(r.status == 200);
    CHECK(has(r.body, R"("ttl":null,"port":5080,"transport":null)"));
    CHECK(f.logs() == std::vector<std::string>{"api: token 'ops' changed domain entry sip.carrier.test"});

    // errors
    CHECK(f.call("POST", "/api/domains", "{nope").status == 400);
    r = f.call("POST", "/api/domains", R"({"name":"bad name!"})");
    CHECK(r.status == 422);
    CHECK(has(r.body, R"("error":"'bad name!' is not a host name or IP address","field":"name")"));
    r = f.call("POST", "/api/domains", R"({"name":"x.test","ttl":-1})");
    CHECK((r.status == 422 && has(r.body, R"("field":"ttl")")));
    r = f.call("POST", "/api/domains", R"({"name":"x.test","port":70000})");
    CHECK((r.status == 422 && has(r.body, R"("field":"port")")));
    r = f.call("POST", "/api/domains", R"({"name":"x.test","transport":"sctp"})");
    CHECK((r.status == 422 && has(r.body, R"("field":"transport")")));
    r = f.call("POST", "/api/domains", R"({"name":"x.test","colour":"red"})");
    CHECK((r.status == 422 && has(r.body, R"("field":"colour")")));
    CHECK(f.call("POST", "/api/domains", "{}").status == 422);
    CHECK(f.call("POST", "/api/domains", R"({"name":"x.test"})", kRead).status == 403);
    CHECK(f.call("GET", "/api/domains/nothing.test").status == 404);
    CHECK(f.call("PATCH", "/api/domains/nothing.test", "{}").status == 404);
    CHECK(f.call("PUT", "/api/domains/sip.carrier.test", "{}").status == 405);
    CHECK(f.call("POST", "/api/domains/sip.carrier.test/resolve").status == 503);  // no cache
    CHECK(f.call("GET", "/api/domains/x.test").status == 404);  // nothing was written

    r = f.call("DELETE", "/api/domains/sip.carrier.test");
    CHECK(r.status == 200);
    CHECK(f.logs() == std::vector<std::string>{"api: token 'ops' removed domain entry sip.carrier.test"});
    CHECK(f.call("DELETE", "/api/domains/sip.carrier.test").status == 404);
    CHECK(f.call("GET", "/api/domains/sip.carrier.test").status == 404);
}

TEST_CASE("api domains: the running cache's live status and resolve now", "[api][domains]") {
    Fixture f;
    f.api->set_live(&f.live);
    auto r = f.call("POST", "/api/domains", R"({"name":"carrier.test","port":5080})");
    CHECK(r.status == 201);
    // the running cache follows at once, under the entry's key
    CHECK(f.live.put == std::vector<std::string>{"carrier.test:5080"});
    CHECK(has(r.body, R"("live":{"key":"carrier.test:5080","state":"resolving","addresses":[])"));

    // an answer came in: fresh, its addresses, TTL left, since when they are in use
    auto& st = f.live.entries["carrier.test:5080"];
    st.resolving = false;
    st.state = route::domain::EntryState::Ok;
    st.targets = {{*route::domain::IpAddress::parse("192.0.2.1"), 5080, sip::Transport::Udp, 0}};
    st.ttl_left = 42s;
    st.changed_at = t0 - 18s;
    st.last_resolved_at = t0 - 18s;
    r = f.call("GET", "/api/domains/carrier.test", {}, kRead);
    CHECK(r.status == 200);
    INFO(r.body);
    CHECK(has(r.body, R"("state":"fresh","addresses":["192.0.2.1:5080/UDP"],"ttl_left_s":42,)"
                      R"("resolving":false,"since_ms":1763999982000,"last_error":null)"));

    // the resolver fails: stale (the last answer served past its TTL), since when
    st.state = route::domain::EntryState::Stale;
    st.ttl_left = 0s;
    st.failing_since = t0 - 5s;
    st.last_error = route::domain::ErrorKind::Timeout;
    st.last_error_detail = "A carrier.test: timeout";
    st.last_error_at = t0 - 1s;
    r = f.call("GET", "/api/domains", {}, kRead);
    CHECK(has(r.body, R"("state":"stale")"));
    CHECK(has(r.body, R"j("since_ms":1763999995000,"last_error":"timeout (A carrier.test: timeout)","last_error_ms":1763999999000)j"));
    st.state = route::domain::EntryState::Failed;
    st.targets.clear();
    CHECK(has(f.call("GET", "/api/domains/carrier.test").body, R"("state":"failing","addresses":[])"));

    // resolve now: the cache re-queries the entry's key; 202 with the state as it is
    r = f.call("POST", "/api/domains/carrier.test/resolve");
    CHECK(r.status == 202);
    CHECK(f.live.resolved == std::vector<std::string>{"carrier.test:5080"});
    CHECK(has(r.body, R"("resolving":true)"));
    CHECK(f.logs().back() == "api: token 'ops' asked to resolve domain carrier.test now");
    CHECK(f.call("POST", "/api/domains/carrier.test/resolve", {}, kRead).status == 403);
    CHECK(f.call("GET", "/api/domains/carrier.test/resolve").status == 405);
    CHECK(f.call("POST", "/api/domains/unknown.test/resolve").status == 404);

    // a key the running cache holds without an entry (a carrier's): shown, resolvable
    f.live.entries["registrar.test:5070"].key = "registrar.test:5070";
    r = f.call("GET", "/api/domains/registrar.test:5070");
    CHECK(r.status == 200);
    CHECK(has(r.body, R"("name":"registrar.test:5070","entry":false)"));
    CHECK(f.call("POST", "/api/domains/registrar.test:5070/resolve").status == 202);

    // another port is another cache entry: the old key goes, the new one is put
    r = f.call("PATCH", "/api/domains/carrier.test", R"({"port":5090})");
    CHECK(r.status == 200);
    CHECK(f.live.removed == std::vector<std::string>{"carrier.test:5080"});
    CHECK(f.live.put.back() == "carrier.test:5090");
    // removed: the running cache is told
    CHECK(f.call("DELETE", "/api/domains/carrier.test").status == 200);
    CHECK(f.live.removed ==
          std::vector<std::string>{"carrier.test:5080", "carrier.test:5090"});
}

TEST_CASE("api carriers: create, live state, register now, change, delete", "[api][carriers]") {
    Fixture f;
    f.api->set_live(&f.live);
    const std::int64_t v0 = f.trunk_reg_version();
    auto r = f.call("POST", "/api/carriers",
                    R"({"name":"carrier-a","server":"192.0.2.10","user":"4420001",)"
                    R"("password":"s3cret-pw","expires_s":300,"retry_delay_s":30})");
    INFO(r.body);
    CHECK(r.status == 201);
    CHECK(r.tables_changed);
    CHECK(!has(r.body, "s3cret-pw"));
    CHECK(has(r.body, R"("name":"carrier-a","server":"192.0.2.10","port":null,"transport":"udp",)"
                      R"("outbound_proxy":null,"user":"4420001","domain":null,"auth_user":null,)"
                      R"("password_set":true,"contact_host":null,"contact_port":null,)"
                      R"("expires_s":300,"retry_delay_s":30,"privacy":null,"send_unregister":null,)"
                      R"("enabled":true,"live":{"state":"not_running")"));
    auto lines = f.logs();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "api: token 'ops' added carrier registration carrier-a");
    CHECK(f.trunk_reg_version() > v0);  // the reloader of the running switch sees it
    {
        auto stored = f.data->carrier("carrier-a");
        REQUIRE(stored);
        REQUIRE(*stored);
        CHECK((*stored)->reg.password == "s3cret-pw");
        CHECK((*stored)->reg.expires_s == std::optional<std::uint32_t>(300));
    }
    CHECK(f.call("POST", "/api/carriers",
                 R"({"name":"carrier-a","server":"192.0.2.11","user":"x","password":"p"})")
              .status == 409);
    // "register now" before the switch runs it: 409 saying why
    r = f.call("POST", "/api/carriers/carrier-a/register");
    CHECK(r.status == 409);
    CHECK(has(r.body, "is not running"));

    // the switch follows the table (wiring::Carriers on the reloader's poll)
    f.reload_carriers(t0);
    auto out = f.take_sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].starts_with("REGISTER sip:192.0.2.10 SIP/2.0"));
    r = f.call("GET", "/api/carriers/carrier-a", {}, kRead);
    CHECK(has(r.body, R"("live":{"state":"registering")"));
    CHECK(has(r.body, R"("registrar":"192.0.2.10:5060/UDP")"));

    const sip::Target registrar{sip::Transport::Udp, "192.0.2.10", 5060, 0, {}};
    f.sw->on_bytes(ok_to(out[0], 300), registrar, t0 + 50ms);
    f.sw->pump(t0 + 50ms);
    r = f.call("GET", "/api/carriers", {}, kRead, t0 + 1s);
    INFO(r.body);
    CHECK(has(r.body, R"("live":{"state":"registered")"));
    CHECK(has(r.body, R"("expires_ms":1764000300000,"last_code":200,"last_reason":"OK")"));
    CHECK(has(r.body, R"("consecutive_failures":0)"));
    CHECK(has(r.body, R"("dns":null)"));

    // register now: a REGISTER goes out at once, well before the refresh was due
    r = f.call("POST", "/api/carriers/carrier-a/register", {}, kAdmin, t0 + 2s);
    CHECK(r.status == 202);
    CHECK(r.switch_changed);
    out = f.take_sent();
    REQUIRE(out.size() == 1);
    CHECK(out[0].starts_with("REGISTER "));
    CHECK(f.logs().back() == "api: token 'ops' re-registered carrier registration carrier-a");
    CHECK(f.call("POST", "/api/carriers/carrier-a/register", {}, kRead).status == 403);
    CHECK(f.call("POST", "/api/carriers/nobody/register").status == 404);

    // PATCH: the given fields; a new password is stored, never shown or logged
    r = f.call("PATCH", "/api/carriers/carrier-a", R"({"retry_delay_s":45,"password":"n3w-pw"})");
    CHECK(r.status == 200);
    CHECK(r.tables_changed);
    CHECK(has(r.body, R"("retry_delay_s":45)"));
    CHECK(!has(r.body, "n3w-pw"));
    lines = f.logs();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == "api: token 'ops' changed carrier registration carrier-a (new password)");
    CHECK((*f.data->carrier("carrier-a"))->reg.password == "n3w-pw");
    r = f.call("PATCH", "/api/carriers/carrier-a", R"({"enabled":false,"expires_s":"auto"})");
    CHECK(has(r.body, R"("expires_s":"auto")"));
    CHECK(has(r.body, R"("enabled":false)"));
    CHECK(f.call("POST", "/api/carriers/carrier-a/register").status == 409);
    r = f.call("PATCH", "/api/carriers/carrier-a", R"({"enabled":true,"expires_s":null})");
    CHECK(has(r.body, R"("expires_s":null)"));

    // DELETE while registered: the switch unregisters it when it reloads
    r = f.call("DELETE", "/api/carriers/carrier-a");
    CHECK(r.status == 200);
    CHECK(r.body == "{\"name\":\"carrier-a\",\"removed\":true,\"unregistering\":true}\n");
    CHECK(r.tables_changed);
    f.reload_carriers(t0 + 3s);
    out = f.take_sent();
    REQUIRE(!out.empty());
    CHECK(has(out.back(), "Expires: 0"));
    CHECK(f.call("GET", "/api/carriers/carrier-a").status == 404);
    CHECK(f.call("DELETE", "/api/carriers/carrier-a").status == 404);
}

TEST_CASE("api carriers: trunkctl's checks, 400/403/404/422", "[api][carriers]") {
    Fixture f;
    CHECK(f.call("POST", "/api/carriers", "[1]").status == 400);
    auto r = f.call("POST", "/api/carriers", R"({"server":"192.0.2.10","user":"u","password":"p"})");
    CHECK((r.status == 422 && has(r.body, R"("field":"name")")));
    r = f.call("POST", "/api/carriers", R"({"name":"bad name","server":"192.0.2.10","user":"u","password":"p"})");
    CHECK(r.status == 422);
    CHECK(has(r.body, R"j("error":"trunk-reg name 'bad name': character ' ' at position 4 is not allowed (letters, digits, '-', '_', '.')","field":"name")j"));
    r = f.call("POST", "/api/carriers", R"({"name":"c","server":"192.0.2.10","user":"u"})");
    CHECK((r.status == 422 && has(r.body, R"("field":"password")")));
    r = f.call("POST", "/api/carriers", R"({"name":"c","user":"u","password":"p"})");
    CHECK(r.status == 422);
    CHECK(has(r.body, R"("error":"trunk-reg add needs server HOST","field":"server")"));
    r = f.call("POST", "/api/carriers", R"({"name":"c","server":"sip.example:5060","user":"u","password":"p"})");
    CHECK(has(r.body, R"j("error":"server sip.example:5060: not a host name or IP address (give the port with port)","field":"server")j"));
    r = f.call("POST", "/api/carriers", R"({"name":"c","server":"192.0.2.10","user":"u","password":"p","expires_s":10})");
    CHECK(has(r.body, R"j("error":"expires_s 10: outside 20..7200 s (or auto)","field":"expires_s")j"));
    r = f.call("POST", "/api/carriers", R"({"name":"c","server":"192.0.2.10","user":"u","password":"p","retry_delay_s":"x"})");
    CHECK(has(r.body, R"("field":"retry_delay_s")"));
    r = f.call("POST", "/api/carriers", R"({"name":"c","server":"192.0.2.10","user":"u","password":"p","transport":"sctp"})");
    CHECK(has(r.body, R"("error":"transport sctp: use udp, tcp or tls","field":"transport")"));
    r = f.call("POST", "/api/carriers", R"({"name":"c","server":"192.0.2.10","user":"a b","password":"p"})");
    CHECK(has(r.body, R"("field":"user")"));
    r = f.call("POST", "/api/carriers", R"({"name":"c","server":"192.0.2.10","user":"u","password":""})");
    CHECK(has(r.body, R"("field":"password")"));
    r = f.call("POST", "/api/carriers", R"({"name":"c","server":"192.0.2.10","user":"u","password":"p","port":0,"colour":1})");
    CHECK(has(r.body, R"("error":"unknown member","field":"colour")"));
    CHECK(f.call("POST", "/api/carriers", R"({"name":"c","server":"192.0.2.10","user":"u","password":"p"})", kRead).status == 403);
    CHECK(f.call("GET", "/api/carriers/c").status == 404);  // nothing was written
    CHECK(f.call("PATCH", "/api/carriers/c", R"({"port":5070})").status == 404);
    CHECK(f.call("PUT", "/api/carriers/c", "{}").status == 405);
    CHECK(f.call("GET", "/api/carriers").body == "{\"carriers\":[]}\n");
}

TEST_CASE("api domains: ETag and If-Match; a trunkctl write in between is not overwritten",
          "[api][domains]") {
    Fixture f;
    auto [r, tag1] = f.created_tagged("/api/domains", "/api/domains/carrier.test",
                                      R"({"name":"carrier.test","port":5080})");
    f.check_version_shown(r, tag1, "/api/domains");

    // the current ETag: written, and the ETag moves
    r = f.call_if("PATCH", "/api/domains/carrier.test", R"({"port":5070})", tag1);
    INFO(r.body);
    REQUIRE(r.status == 200);
    const std::string tag2 = header(r, "ETag");
    CHECK(tag2 != tag1);
    CHECK(header(f.call("GET", "/api/domains/carrier.test"), "ETag") == tag2);
    r = f.call_if("PATCH", "/api/domains/carrier.test", "{}", tag2);  // nothing to change
    CHECK(r.status == 200);
    CHECK(header(r, "ETag") == tag2);

    // a stale ETag: 409 naming If-Match, nothing changes
    f.logs();
    r = f.call_if("PATCH", "/api/domains/carrier.test", R"({"port":5090})", tag1);
    check_stale(r);
    CHECK(has(r.body, "its ETag is now"));
    CHECK(f.call_if("PATCH", "/api/domains/carrier.test", R"({"port":5090})", "W/" + tag2).status ==
          409);  // a weak tag never matches
    CHECK(f.call_if("DELETE", "/api/domains/carrier.test", {}, tag1).status == 409);
    CHECK(has(f.call("GET", "/api/domains/carrier.test").body, R"("port":5070)"));
    CHECK(f.logs().empty());

    // trunkctl domain add writes the same entry: the ETag read before it is stale
    {
        std::string err;
        auto st = route::domain::sqlite::Store::open(f.db, &err);
        REQUIRE(st);
        REQUIRE(st->put({"carrier.test", {}, {}, 5099}, &err));
    }
    r = f.call_if("PATCH", "/api/domains/carrier.test", R"({"ttl":30})", tag2);
    CHECK(r.status == 409);
    r = f.call("GET", "/api/domains/carrier.test");
    CHECK(has(r.body, R"("ttl":null,"port":5099)"));
    const std::string tag3 = header(r, "ETag");
    CHECK(tag3 != tag2);

    // "*", a list naming the current one, no If-Match at all: written
    r = f.call_if("PATCH", "/api/domains/carrier.test", R"({"ttl":30})", "*");
    REQUIRE(r.status == 200);
    const std::string tag4 = header(r, "ETag");
    r = f.call_if("PATCH", "/api/domains/carrier.test", R"({"ttl":40})", tag1 + ", " + tag4);
    REQUIRE(r.status == 200);
    r = f.call("PATCH", "/api/domains/carrier.test", R"({"ttl":50})");
    REQUIRE(r.status == 200);
    CHECK(has(r.body, R"("ttl":50,"port":5099)"));
    const std::string tag5 = header(r, "ETag");
    CHECK(tag5 != tag4);

    // DELETE: a stale ETag 409 and the entry stays; the current one removes it
    f.delete_tagged("/api/domains/carrier.test", tag4, tag5);
    CHECK(f.call_if("PATCH", "/api/domains/carrier.test", "{}", "*").status == 404);
}

TEST_CASE("api carriers: ETag and If-Match; a trunkctl write in between is not overwritten",
          "[api][carriers]") {
    Fixture f;
    auto [r, tag1] = f.created_tagged(
        "/api/carriers", "/api/carriers/carrier-a",
        R"({"name":"carrier-a","server":"192.0.2.10","user":"u","password":"p"})");
    f.check_version_shown(r, tag1, "/api/carriers");

    // the current ETag: written, and the ETag moves
    r = f.call_if("PATCH", "/api/carriers/carrier-a", R"({"retry_delay_s":30})", tag1);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.tables_changed);
    const std::string tag2 = header(r, "ETag");
    CHECK(tag2 != tag1);
    r = f.call_if("PATCH", "/api/carriers/carrier-a", R"({"retry_delay_s":45,"version":1})", tag2);
    CHECK(r.status == 200);  // "version" is GET's own: ignored
    const std::string tag3 = header(r, "ETag");
    CHECK(tag3 != tag2);
    r = f.call_if("PATCH", "/api/carriers/carrier-a", "{}", tag3);  // nothing to change
    CHECK(r.status == 200);
    CHECK(!r.tables_changed);
    CHECK(header(r, "ETag") == tag3);

    // a stale ETag: 409 naming If-Match, nothing changes
    const std::int64_t counter = f.trunk_reg_version();
    r = f.call_if("PATCH", "/api/carriers/carrier-a", R"({"retry_delay_s":60})", tag1);
    check_stale(r);
    CHECK(!r.tables_changed);
    CHECK(f.call_if("PATCH", "/api/carriers/carrier-a", R"({"password":"x"})", "\"nope\"").status ==
          409);
    CHECK(f.call_if("DELETE", "/api/carriers/carrier-a", {}, tag2).status == 409);
    CHECK(f.trunk_reg_version() == counter);
    CHECK(has(f.call("GET", "/api/carriers/carrier-a").body, R"("retry_delay_s":45)"));

    // trunkctl trunk-reg add writes the same entry: the ETag read before it is stale
    {
        std::string err;
        auto st = route::reg::sqlite::Store::open(f.db, &err);
        REQUIRE(st);
        auto cur = st->trunk_reg("carrier-a", &err);
        REQUIRE(cur);
        cur->server = "192.0.2.99";
        REQUIRE(st->put_trunk_reg(*cur, &err));
    }
    CHECK(f.call_if("PATCH", "/api/carriers/carrier-a", R"({"retry_delay_s":60})", tag3).status ==
          409);
    r = f.call("GET", "/api/carriers/carrier-a");
    CHECK(has(r.body, R"("server":"192.0.2.99")"));
    const std::string tag4 = header(r, "ETag");
    CHECK(tag4 != tag3);

    // "*" and no If-Match at all: written
    r = f.call_if("PATCH", "/api/carriers/carrier-a", R"({"retry_delay_s":60})", "*");
    REQUIRE(r.status == 200);
    r = f.call("PATCH", "/api/carriers/carrier-a", R"({"retry_delay_s":90})");
    REQUIRE(r.status == 200);
    CHECK(has(r.body, R"("retry_delay_s":90)"));
    CHECK(has(r.body, R"("server":"192.0.2.99")"));
    const std::string tag5 = header(r, "ETag");

    // DELETE: a stale ETag 409 and the entry stays; the current one removes it
    CHECK(f.delete_tagged("/api/carriers/carrier-a", tag4, tag5).tables_changed);
}

TEST_CASE("api users: ETag on SQLite; DELETE with a stale ETag is 409", "[api][users]") {
    Fixture f;
    const std::string tag1 =
        f.created_tagged("/api/users", "/api/users/alice", R"({"name":"alice","password":"pw"})")
            .second;
    {  // trunkctl user passwd
        std::string err;
        auto st = route::reg::sqlite::Store::open(f.db, &err);
        REQUIRE(st);
        auto u = st->user("alice", &err);
        REQUIRE(u);
        REQUIRE(st->put_user(*u, &err));
    }
    const std::string tag2 = header(f.call("GET", "/api/users/alice"), "ETag");
    CHECK(tag2 != tag1);
    check_stale(f.call_if("DELETE", "/api/users/alice", {}, tag1));
    CHECK(f.call("GET", "/api/users/alice").status == 200);
    CHECK(f.call_if("DELETE", "/api/users/alice", {}, tag2).status == 200);
    CHECK(f.call("GET", "/api/users/alice").status == 404);
    CHECK(f.call_if("DELETE", "/api/users/alice", {}, "*").status == 404);
}

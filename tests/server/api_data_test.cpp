// The API's resources kept in the database, through sw::api::Api over an in-memory
// sw::api::Data: /api/accounts (list with a cursor, show with an ETag, create with validation:
// 400 for a body that is not JSON, 422 naming the field; top-up in exact decimal amounts with
// If-Match, 409 on a stale ETag; the scopes; one account's volume tiers this month on
// SQLite), /api/users (HA1 stored, the password never
// shown or logged; removal unbinds the running registrar) and /api/bindings; wiring::ApiData
// on a real SQLite file; the JSON reader.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "api_fixture.hpp"
#include "core/src/json_reader.hpp"
#include "sip/auth/digest.hpp"

using namespace std::chrono_literals;
using namespace test;

namespace {

// Accounts in a map; each top-up bumps a global ledger id, as the SQLite ledger does.
struct MemoryData final : sw::api::Data {
    std::map<std::string, sw::api::AccountRecord, std::less<>> rows;
    std::vector<std::string> groups{"retail"};
    std::int64_t ledger_id = 0;
    int writes = 0;
    std::map<std::string, sw::api::UserRecord, std::less<>> sip_users;
    std::int64_t user_version = 0;  // sip_user's change counter

    billing::Result<std::vector<billing::Account>> accounts(std::string_view after,
                                                            std::size_t limit) override {
        std::vector<billing::Account> v;
        for (auto it = rows.upper_bound(after); it != rows.end() && v.size() < limit; ++it)
            v.push_back(it->second.account);
        return v;
    }
    billing::Result<sw::api::AccountRecord> account(std::string_view id) override {
        auto it = rows.find(id);
        if (it == rows.end()) return billing::fail(billing::ErrorCode::unknown_account, "unknown account");
        return it->second;
    }
    billing::Result<bool> rate_group_exists(std::string_view g) override {
        return std::find(groups.begin(), groups.end(), g) != groups.end();
    }
    billing::Result<void> add_account(const billing::Account& a, std::int64_t) override {
        if (rows.count(a.id)) return billing::fail(billing::ErrorCode::duplicate, "exists", "id");
        rows[a.id] = {a, ++ledger_id};
        ++writes;
        return {};
    }
    billing::Result<billing::Money> topup(std::string_view id, billing::Money amount, std::int64_t,
                                          std::string_view) override {
        auto it = rows.find(id);
        if (it == rows.end()) return billing::fail(billing::ErrorCode::unknown_account, "unknown account");
        auto nb = it->second.account.balance.add(amount);
        if (!nb) return nb;
        it->second.account.balance = *nb;
        it->second.version = ++ledger_id;
        ++writes;
        return *nb;
    }
    billing::Result<std::vector<sw::api::UserRecord>> users() override {
        std::vector<sw::api::UserRecord> v;
        for (const auto& [n, u] : sip_users) v.push_back(u);
        return v;
    }
    billing::Result<std::optional<sw::api::UserRecord>> user(std::string_view name) override {
        auto it = sip_users.find(name);
        if (it == sip_users.end()) return std::optional<sw::api::UserRecord>{};
        return std::optional(it->second);
    }
    billing::Result<void> add_user(const sw::api::UserRecord& u, std::int64_t wall_ms) override {
        if (sip_users.count(u.name)) return billing::fail(billing::ErrorCode::duplicate, "exists", "name");
        sip_users[u.name] = u;
        sip_users[u.name].created_ms = sip_users[u.name].updated_ms = wall_ms;
        sip_users[u.name].version = ++user_version;
        return {};
    }
    // The precondition as the SQLite store checks it (route::sqlite::check_row).
    billing::Result<sw::api::UserRemoved> remove_user(std::string_view name,
                                                      const sw::api::Precondition& p) override {
        auto it = sip_users.find(name);
        if (it == sip_users.end()) return sw::api::UserRemoved{sw::api::Written::missing, 0};
        if (!p.versions.empty() &&
            std::find(p.versions.begin(), p.versions.end(), it->second.version) == p.versions.end())
            return sw::api::UserRemoved{sw::api::Written::stale, 0};
        sip_users.erase(it);
        return sw::api::UserRemoved{sw::api::Written::done, 0};
    }
    // The CDR search is tested on SQLite (api_cdrs_test.cpp): none here.
    billing::Result<sw::api::CdrPage> cdrs(const billing::CdrFilter&) override { return sw::api::CdrPage{}; }
};

struct Fixture : ApiFixture {
    MemoryData data;

    Fixture() { api->set_data(&data); }
    sw::api::Response call(std::string_view method, std::string_view path, std::string_view body = {},
                           std::vector<std::pair<std::string, std::string>> query = {},
                           std::string_view if_match = {}, const std::string& token = kAdmin) {
        return handle({.method = std::string(method), .path = std::string(path), .query = std::move(query),
                       .body = std::string(body), .if_match = std::string(if_match), .token = token});
    }
    void add(const std::string& id, const std::string& balance = "0") {
        auto r = call("POST", "/api/accounts",
                      R"({"id":")" + id + R"(","kind":"customer","balance":")" + balance + "\"}");
        REQUIRE(r.status == 201);
    }
};

}  // namespace

TEST_CASE("api accounts: create shows exact amounts, ETag and Location, and asks for a reload",
          "[server][api][accounts]") {
    Fixture f;
    auto r = f.call("POST", "/api/accounts",
                    R"({"id":"1001","kind":"customer","name":"Acme \u00e9","balance":"50.000001",)"
                    R"("credit_limit":"10","rate_group":"retail"})");
    REQUIRE(r.status == 201);
    CHECK(r.tables_changed);
    CHECK(header(r, "Location") == "/api/accounts/1001");
    CHECK(header(r, "ETag") == "\"v1\"");
    CHECK(r.body.find(R"("balance":"50.000001")") != std::string::npos);
    CHECK(r.body.find(R"("available":"60.000001")") != std::string::npos);
    CHECK(r.body.find("Acme \xc3\xa9") != std::string::npos);
    CHECK(f.data.rows.at("1001").account.balance.micros() == 50'000'001);
    CHECK(f.data.rows.at("1001").account.credit_limit.micros() == 10'000'000);
    CHECK(f.api->poll_log()->find("added customer account 1001") != std::string::npos);

    auto g = f.call("GET", "/api/accounts/1001");
    CHECK(g.status == 200);
    CHECK(!g.tables_changed);
    CHECK(header(g, "ETag") == "\"v1\"");
    CHECK(g.body.find(R"("version":1)") != std::string::npos);
    CHECK(f.call("GET", "/api/accounts/nobody").status == 404);
    CHECK(names_field(f.call("GET", "/api/accounts/nobody"), "id"));
    auto dup = f.call("POST", "/api/accounts", R"({"id":"1001","kind":"vendor"})");
    CHECK(dup.status == 409);
    CHECK(f.data.writes == 1);
}

TEST_CASE("api accounts: validation is 400 for a bad body, 422 naming the field",
          "[server][api][accounts]") {
    Fixture f;
    const std::pair<std::string, std::string> cases[] = {
        {R"({"kind":"customer"})", "id"},
        {R"({"id":"","kind":"customer"})", "id"},
        {R"({"id":7,"kind":"customer"})", "id"},
        {R"({"id":"1","kind":"reseller"})", "kind"},
        {R"({"id":"1"})", "kind"},
        {R"({"id":"1","kind":"customer","balance":50})", "balance"},
        {R"({"id":"1","kind":"customer","balance":"1.0000001"})", "balance"},
        {R"({"id":"1","kind":"customer","balance":"abc"})", "balance"},
        {R"({"id":"1","kind":"customer","credit_limit":"-1"})", "credit_limit"},
        {R"({"id":"1","kind":"customer","rate_group":"nope"})", "rate_group"},
        {R"({"id":"1","kind":"customer","agent":"nobody"})", "agent"},
        {R"({"id":"1","kind":"customer","balanse":"1"})", "balanse"},
        {R"({"id":"1","kind":"customer","name":null})", "name"},
    };
    for (const auto& [body, field] : cases) {
        INFO(body);
        auto r = f.call("POST", "/api/accounts", body);
        CHECK(r.status == 422);
        CHECK(names_field(r, field));
        CHECK(!r.tables_changed);
    }
    for (std::string_view body : {"", "[1]", "{\"id\":\"1\"", R"({"id":"1","id":"2"})",
                                  R"({"id":{"a":1}})", "{} x"}) {
        INFO(body);
        CHECK(f.call("POST", "/api/accounts", body).status == 400);
    }
    CHECK(f.data.writes == 0);
    CHECK(f.call("POST", "/api/accounts", R"({"id":"1","kind":"customer"})", {}, {}, kRead).status == 403);
    CHECK(f.call("DELETE", "/api/accounts").status == 405);
    CHECK(f.call("PUT", "/api/accounts/1").status == 405);
    CHECK(f.call("GET", "/api/accounts/1/topup").status == 405);
    CHECK(f.call("POST", "/api/accounts/1/close").status == 404);
    CHECK(f.call("GET", "/api/accounts/").status == 404);
}

TEST_CASE("api accounts: the list is paged by a cursor", "[server][api][accounts]") {
    Fixture f;
    for (const char* id : {"1003", "1001", "1002", "1005", "1004"}) f.add(id);
    std::vector<std::string> seen;
    std::string after;
    for (int page = 0; page < 10; ++page) {
        std::vector<std::pair<std::string, std::string>> q{{"limit", "2"}};
        if (!after.empty()) q.emplace_back("after", after);
        auto r = f.call("GET", "/api/accounts", {}, q);
        REQUIRE(r.status == 200);
        for (std::size_t p = r.body.find("\"id\":\""); p != std::string::npos; p = r.body.find("\"id\":\"", p + 1))
            seen.push_back(r.body.substr(p + 6, 4));
        if (r.body.find("\"next\":null") != std::string::npos) break;
        const auto n = r.body.find("\"next\":\"");
        REQUIRE(n != std::string::npos);
        after = r.body.substr(n + 8, 4);
    }
    CHECK(seen == std::vector<std::string>{"1001", "1002", "1003", "1004", "1005"});
    CHECK(f.call("GET", "/api/accounts", {}, {{"limit", "0"}}).status == 400);
    CHECK(names_field(f.call("GET", "/api/accounts", {}, {{"limit", "1001"}}), "limit"));
    CHECK(names_field(f.call("GET", "/api/accounts", {}, {{"cursor", "x"}}), "cursor"));
    CHECK(f.call("GET", "/api/accounts", {}, {}, {}, kRead).status == 200);
}

TEST_CASE("api accounts: top-up is exact and guarded by If-Match", "[server][api][accounts]") {
    Fixture f;
    f.add("1001", "0.1");
    const std::string etag = header(f.call("GET", "/api/accounts/1001"), "ETag");
    auto r = f.call("POST", "/api/accounts/1001/topup", R"({"amount":"0.2","memo":"wire"})", {}, etag);
    REQUIRE(r.status == 200);
    CHECK(r.tables_changed);
    CHECK(r.body.find(R"("balance":"0.30")") != std::string::npos);  // 0.1 + 0.2, exactly
    CHECK(f.data.rows.at("1001").account.balance.micros() == 300'000);
    const std::string etag2 = header(r, "ETag");
    CHECK(etag2 != etag);

    auto stale = f.call("POST", "/api/accounts/1001/topup", R"({"amount":"5"})", {}, etag);
    CHECK(stale.status == 409);
    CHECK(names_field(stale, "If-Match"));
    CHECK(stale.body.find(etag2.substr(1, etag2.size() - 2)) != std::string::npos);  // the current tag
    CHECK(f.data.rows.at("1001").account.balance.micros() == 300'000);
    CHECK(f.call("POST", "/api/accounts/1001/topup", R"({"amount":"-0.3"})", {}, "\"x\", " + etag2).status == 200);
    CHECK(f.data.rows.at("1001").account.balance.micros() == 0);
    CHECK(f.call("POST", "/api/accounts/1001/topup", R"({"amount":"1"})", {}, "*").status == 200);
    CHECK(f.call("POST", "/api/accounts/1001/topup", R"({"amount":"1"})").status == 200);  // no If-Match

    for (auto [body, field] : {std::pair{R"({"amount":1.5})", "amount"}, {R"({})", "amount"},
                               {R"({"amount":"0"})", "amount"}, {R"({"amount":"1e3"})", "amount"},
                               {R"({"amount":"1","memo":3})", "memo"}, {R"({"amount":"1","x":"y"})", "x"}}) {
        INFO(body);
        auto bad = f.call("POST", "/api/accounts/1001/topup", body);
        CHECK(bad.status == 422);
        CHECK(names_field(bad, field));
    }
    CHECK(f.call("POST", "/api/accounts/nobody/topup", R"({"amount":"1"})").status == 404);
    CHECK(f.call("POST", "/api/accounts/1001/topup", R"({"amount":"1"})", {}, {}, kRead).status == 403);
    CHECK(f.data.rows.at("1001").account.balance.micros() == 2'000'000);
}

TEST_CASE("api accounts: without a store the endpoints answer 503", "[server][api][accounts]") {
    Fixture f;
    f.api->set_data(nullptr);
    CHECK(f.call("GET", "/api/accounts").status == 503);
    CHECK(f.call("POST", "/api/accounts/1/topup", R"({"amount":"1"})").status == 503);
}

TEST_CASE("api accounts: wiring::ApiData on SQLite pages and versions by the ledger",
          "[server][api][accounts]") {
    const TempDir tmp("tl-api-accounts");
    {
        wiring::ApiData d(tmp.db);
        REQUIRE(d.open().empty());
        for (const char* id : {"b", "a", "c"}) {
            billing::Account a;
            a.id = id;
            a.balance = *billing::Money::parse("1.5");
            REQUIRE(d.add_account(a, kWall));
        }
        auto page = d.accounts("a", 1);
        REQUIRE(page);
        REQUIRE(page->size() == 1);
        CHECK(page->front().id == "b");
        CHECK(d.accounts("", 10)->size() == 3);
        auto before = d.account("b");
        REQUIRE(before);
        auto nb = d.topup("b", *billing::Money::parse("0.000001"), kWall, "api");
        REQUIRE(nb);
        CHECK(nb->micros() == 1'500'001);
        auto after = d.account("b");
        REQUIRE(after);
        CHECK(after->version > before->version);
        CHECK(after->account.balance.micros() == 1'500'001);
        CHECK(!d.account("zz"));
        CHECK(d.account("zz").error().code == billing::ErrorCode::unknown_account);
        CHECK(!*d.rate_group_exists("retail"));
    }
}

namespace {

// A call of C1 to 44 ending at kWall2025, counted in November's volume after `before_s`.
billing::Cdr tier_cdr(std::int64_t billed_s, std::int64_t before_s) {
    billing::Cdr c;
    c.call.caller = "15550001";
    c.call.callee = "442070001";
    c.call.customer = "C1";
    c.call.setup_ms = kWall2025 - (billed_s + 10) * 1000;
    c.call.answer_ms = kWall2025 - billed_s * 1000;
    c.call.end_ms = kWall2025;
    c.call.sip_code = 200;
    c.duration_s = c.customer_billed_s = billed_s;
    c.tier_prefix = "44";
    c.tier_month = "2025-11";
    c.volume_before_s = before_s;
    return c;
}

}  // namespace

TEST_CASE("api accounts: GET of one shows its volume tiers this month", "[server][api][accounts]") {
    ApiDataFixture f("tl-api-account-tiers");
    f.wall = kWall2025;  // 2025-11-24 16:00:00 UTC
    {
        auto st = billing::sqlite::Store::open(f.db);
        REQUIRE(st);
        add_accounts(*st, {"C1", "C2", "V1"});
        const auto price = [](const char* p) { return *billing::Money::parse(p); };
        REQUIRE(st->put_volume_tier({"C1", "44", 0, price("0.02")}));
        REQUIRE(st->put_volume_tier({"C1", "44", 2, price("0.01"), 30}));
        REQUIRE(st->put_volume_tier({"C1", "33", 10, price("0.005")}));
        REQUIRE(st->put_volume_tier({"C2", "44", 0, price("0.03")}));
        std::vector<billing::Cdr> rows = {tier_cdr(90, 0)};  // 90 s to 44: the first tier still
        REQUIRE(st->insert_cdrs(rows));
    }
    f.open_data();
    auto r = f.handle({.path = "/api/accounts/C1", .token = kRead});
    INFO(r.body);
    REQUIRE(r.status == 200);
    // By prefix; 33: below its first threshold (the rate's own price), 44: 90 s in the first.
    CHECK(r.body.find(
              ",\"tiers\":[{\"prefix\":\"33\",\"month\":\"2025-11\",\"used_s\":0,\"current\":null,"
              "\"next\":{\"from_minutes\":10,\"price\":\"0.0050\",\"bonus_minutes\":0},"
              "\"tiers\":[{\"from_minutes\":10,\"price\":\"0.0050\",\"bonus_minutes\":0}]},"
              "{\"prefix\":\"44\",\"month\":\"2025-11\",\"used_s\":90,"
              "\"current\":{\"from_minutes\":0,\"price\":\"0.0200\",\"bonus_minutes\":0},"
              "\"next\":{\"from_minutes\":2,\"price\":\"0.0100\",\"bonus_minutes\":30},"
              "\"tiers\":[{\"from_minutes\":0,\"price\":\"0.0200\",\"bonus_minutes\":0},"
              "{\"from_minutes\":2,\"price\":\"0.0100\",\"bonus_minutes\":30}]}]}") != std::string::npos);
    // Another account's tiers are not shown; an account without tiers has none.
    r = f.handle({.path = "/api/accounts/C2", .token = kRead});
    REQUIRE(r.status == 200);
    CHECK(r.body.find("\"tiers\":[{\"prefix\":\"44\",\"month\":\"2025-11\",\"used_s\":0,"
                      "\"current\":{\"from_minutes\":0,\"price\":\"0.0300\",\"bonus_minutes\":0},"
                      "\"next\":null,") != std::string::npos);
    r = f.handle({.path = "/api/accounts/V1", .token = kRead});
    REQUIRE(r.status == 200);
    CHECK(r.body.find("\"tiers\":[]}") != std::string::npos);
    // 60 s more: 150 s, past 2 minutes: the last tier is in force, no next threshold.
    {
        auto st = billing::sqlite::Store::open(f.db);
        REQUIRE(st);
        std::vector<billing::Cdr> rows = {tier_cdr(60, 90)};
        REQUIRE(st->insert_cdrs(rows));
    }
    r = f.handle({.path = "/api/accounts/C1", .token = kRead});
    REQUIRE(r.status == 200);
    CHECK(r.body.find("{\"prefix\":\"44\",\"month\":\"2025-11\",\"used_s\":150,"
                      "\"current\":{\"from_minutes\":2,\"price\":\"0.0100\",\"bonus_minutes\":30},"
                      "\"next\":null,") != std::string::npos);
    // The month is the store's calendar zone's: in UTC+08:00 November 30 20:00 UTC is December,
    // which counts nothing yet.
    {
        auto st = billing::sqlite::Store::open(f.db);
        REQUIRE(st);
        REQUIRE(st->set_setting("calendar.timezone", "UTC+08:00"));
    }
    r = f.handle({.path = "/api/accounts/C1", .token = kRead, .wall = *billing::parse_time("2025-11-30T20:00")});
    REQUIRE(r.status == 200);
    CHECK(r.body.find("{\"prefix\":\"44\",\"month\":\"2025-12\",\"used_s\":0,"
                      "\"current\":{\"from_minutes\":0,") != std::string::npos);
}

TEST_CASE("api json reader: flat objects, escapes, numbers kept as text", "[server][api][json]") {
    std::string err;
    auto m = sw::read_flat_object(R"( { "a" : "x\"\\\/\n\u00e9\ud83d\ude00" , "n": -1.5e3, "t":true, "z":null } )", &err);
    REQUIRE(m);
    CHECK(sw::find_member(*m, "a")->text == "x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
    CHECK(sw::find_member(*m, "n")->kind == sw::JsonValue::Kind::number);
    CHECK(sw::find_member(*m, "n")->text == "-1.5e3");
    CHECK(sw::find_member(*m, "t")->text == "true");
    CHECK(sw::find_member(*m, "z")->kind == sw::JsonValue::Kind::null);
    CHECK(!sw::find_member(*m, "q"));
    CHECK(sw::read_flat_object("{}", &err)->empty());
    for (std::string_view bad : {"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":01}", "{\"a\":\"\\ud800\"}",
                                 "{\"a\":\"\x01\"}", "{\"a\":1,}", "{\"a\":[1]}", "{} {}", "{\"a\":tru}"}) {
        INFO(bad);
        CHECK(!sw::read_flat_object(bad, &err));
        CHECK(!err.empty());
    }
}

TEST_CASE("api users: HA1 stored, password never shown or logged, 422 naming the field",
          "[server][api][users]") {
    Fixture f;
    const std::string pw = "s3cret-Pa55";
    auto r = f.call("POST", "/api/users", R"({"name":"alice","password":")" + pw + "\"}");
    REQUIRE(r.status == 201);
    CHECK(r.tables_changed);
    CHECK(header(r, "Location") == "/api/users/alice");
    CHECK(header(r, "ETag") == "\"v1\"");
    const sw::api::UserRecord& u = f.data.sip_users.at("alice");
    CHECK(u.realm == "trunkline");
    CHECK(u.ha1.size() == 3);
    CHECK(u.ha1.at(sip::auth::Algorithm::MD5) ==
          *sip::auth::ha1(f.hasher, sip::auth::Algorithm::MD5, "alice", "trunkline", pw));
    CHECK(r.body.find(pw) == std::string::npos);
    CHECK(r.body.find(u.ha1.at(sip::auth::Algorithm::MD5)) == std::string::npos);
    CHECK(r.body.find(R"("algorithms":["MD5","SHA-256","SHA-512-256"])") != std::string::npos);
    while (auto l = f.api->poll_log()) CHECK(l->find(pw) == std::string::npos);

    auto list = f.call("GET", "/api/users", {}, {}, {}, kRead);
    CHECK(list.status == 200);
    CHECK(list.body.find(R"("name":"alice","realm":"trunkline","enabled":true)") != std::string::npos);
    CHECK(list.body.find(u.ha1.at(sip::auth::Algorithm::SHA256)) == std::string::npos);

    CHECK(f.call("POST", "/api/users", R"({"name":"alice","password":"x"})").status == 409);
    const std::pair<std::string, std::string> cases[] = {
        {R"({"password":"x"})", "name"},
        {R"({"name":"al ice","password":"x"})", "name"},
        {R"({"name":"bob"})", "password"},
        {R"({"name":"bob","password":""})", "password"},
        {R"({"name":"bob","password":7})", "password"},
        {R"({"name":"bob","password":"x","realm":"a\"b"})", "realm"},
        {R"({"name":"bob","password":"x","pasword":"y"})", "pasword"},
    };
    for (const auto& [body, field] : cases) {
        INFO(body);
        auto bad = f.call("POST", "/api/users", body);
        CHECK(bad.status == 422);
        CHECK(names_field(bad, field));
    }
    CHECK(f.call("POST", "/api/users", "name=bob").status == 400);
    CHECK(f.call("POST", "/api/users", R"({"name":"bob","password":"x"})", {}, {}, kRead).status == 403);
    CHECK(f.data.sip_users.size() == 1);
}

TEST_CASE("api users: DELETE removes the user and its live bindings; GET /api/bindings",
          "[server][api][users]") {
    Fixture f;
    f.data.sip_users["alice"] = {"alice", "trunkline", {}, true, 1, 1, 7};
    route::reg::Binding b;
    b.contact = "sip:alice@192.0.2.7:5060";
    b.q = 500;
    b.expires_at = t0 + 3600s;
    b.source.host = "192.0.2.7";
    b.source.port = 5060;
    REQUIRE(f.sw->registrations().location().upsert("sip:alice@trunkline", b));
    b.contact = "sip:bob@192.0.2.8:5060";
    b.q.reset();
    REQUIRE(f.sw->registrations().location().upsert("sip:bob@trunkline", b));

    auto r = f.call("GET", "/api/bindings", {}, {}, {}, kRead);
    REQUIRE(r.status == 200);
    CHECK(r.body.find(R"({"aor":"sip:alice@trunkline","contact":"sip:alice@192.0.2.7:5060","q":500,)"
                      R"("expires_ms":1700003600000,"source":"udp:192.0.2.7:5060")") != std::string::npos);
    CHECK(r.body.find(R"("aor":"sip:bob@trunkline","contact":"sip:bob@192.0.2.8:5060","q":null)") !=
          std::string::npos);
    auto one = f.call("GET", "/api/bindings", {}, {{"aor", "sip:bob@trunkline"}});
    CHECK(one.body.find("alice") == std::string::npos);
    CHECK(one.body.find("bob") != std::string::npos);

    CHECK(f.call("DELETE", "/api/users/alice", {}, {}, {}, kRead).status == 403);
    auto g = f.call("GET", "/api/users/alice", {}, {}, {}, kRead);
    CHECK(g.status == 200);
    CHECK(header(g, "ETag") == "\"v7\"");
    CHECK(g.body.find(R"("version":7)") != std::string::npos);
    // a stale ETag: 409 naming If-Match, the user and its bindings stay
    auto stale = f.call("DELETE", "/api/users/alice", {}, {}, "\"v6\"");
    CHECK(stale.status == 409);
    CHECK(names_field(stale, "If-Match"));
    CHECK(f.data.sip_users.count("alice") == 1);
    CHECK(f.sw->registrations().location().lookup("sip:alice@trunkline", t0).size() == 1);
    auto d = f.call("DELETE", "/api/users/alice", {}, {}, "\"v6\", \"v7\"");
    CHECK(d.status == 200);
    CHECK(d.body == "{\"name\":\"alice\",\"removed\":true,\"bindings\":1}\n");
    CHECK(d.switch_changed);
    CHECK(d.tables_changed);
    CHECK(f.data.sip_users.empty());
    CHECK(f.sw->registrations().location().lookup("sip:alice@trunkline", t0).empty());
    CHECK(f.sw->registrations().location().lookup("sip:bob@trunkline", t0).size() == 1);
    auto again = f.call("DELETE", "/api/users/alice");
    CHECK(again.status == 404);
    CHECK(names_field(again, "name"));
    CHECK(f.call("GET", "/api/users/alice").status == 404);
    CHECK(f.call("PUT", "/api/users/alice").status == 405);
    CHECK(f.call("POST", "/api/bindings").status == 405);
    CHECK(f.call("DELETE", "/api/users/bob/x").status == 404);
    CHECK(f.call("DELETE", "/api/users/").status == 404);
}

TEST_CASE("api bindings: DELETE removes an AOR's, one contact's or a user's live bindings",
          "[server][api][users]") {
    Fixture f;
    route::reg::Binding b;
    b.expires_at = t0 + 3600s;
    b.source.host = "192.0.2.7";
    b.source.port = 5060;
    for (const char* c : {"sip:alice@192.0.2.7:5060", "sip:alice@192.0.2.9:5060"}) {
        b.contact = c;
        REQUIRE(f.sw->registrations().location().upsert("sip:alice@trunkline", b));
    }
    b.contact = "sip:bob@192.0.2.8:5060";
    REQUIRE(f.sw->registrations().location().upsert("sip:bob@trunkline", b));
    auto& loc = f.sw->registrations().location();

    CHECK(f.call("DELETE", "/api/bindings", {}, {{"user", "bob"}}, {}, kRead).status == 403);
    auto none = f.call("DELETE", "/api/bindings");
    CHECK(none.status == 400);
    CHECK(f.call("DELETE", "/api/bindings", {}, {{"user", "bob"}, {"aor", "sip:bob@trunkline"}}).status == 400);
    CHECK(names_field(f.call("DELETE", "/api/bindings", {}, {{"aor", "alice"}}), "aor"));
    CHECK(names_field(f.call("DELETE", "/api/bindings", {}, {{"user", "bob"}, {"contact", "x"}}), "contact"));

    auto one = f.call("DELETE", "/api/bindings", {},
                      {{"aor", "sip:alice@trunkline"}, {"contact", "sip:alice@192.0.2.9:5060"}});
    CHECK(one.status == 200);
    CHECK(one.body == "{\"removed\":1}\n");
    CHECK(one.switch_changed);
    CHECK(loc.lookup("sip:alice@trunkline", t0).size() == 1);
    CHECK(f.call("DELETE", "/api/bindings", {}, {{"aor", "sip:alice@trunkline"}}).body ==
          "{\"removed\":1}\n");
    CHECK(loc.lookup("sip:alice@trunkline", t0).empty());
    auto gone = f.call("DELETE", "/api/bindings", {}, {{"aor", "sip:alice@trunkline"}});
    CHECK(gone.status == 404);
    CHECK(names_field(gone, "aor"));
    CHECK(f.call("DELETE", "/api/bindings", {}, {{"user", "bob"}}).status == 200);
    CHECK(loc.lookup("sip:bob@trunkline", t0).empty());
    CHECK(f.call("DELETE", "/api/bindings", {}, {{"user", "bob"}}).status == 404);
}

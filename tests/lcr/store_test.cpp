// route::lcr::sqlite::Store on real SQLite files in a fresh temporary directory: schema row
// for 'lcr', file mode 0600, round trips of every customer, vendor and group field, replace
// by name, removal with "no customer 'x'" errors, per-table versions bumped only for the
// table a put/remove touched (and not on failures), and load() as one consistent read.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "route/lcr/sqlite/store.hpp"
#include "sqlite_fixture.hpp"

using namespace route::lcr;
using namespace route::lcr::sqlite;

namespace {

// A fresh directory per test case, removed afterwards.
struct TempDir : test::TempDir {
    TempDir() : test::TempDir("lcr_store_test") {}
};
using test::mode_of;
using test::Raw;

// Every field away from its default.
CustomerSpec full_customer() {
    CustomerSpec c;
    c.name = "acme";
    c.account = "1001";
    c.auth = AuthMode::ip_port;
    c.ips = {"192.0.2.10:5060", "[2001:db8::1]:5070"};
    c.sip_user = "acme-trunk";
    c.priority = -3;
    c.line_limit = 120;
    c.cps_limit = 15;
    c.dest_prefix_limit = 7;
    c.caller_allow = {"1555", "1666"};
    c.caller_deny = {"1555000"};
    c.callee_allow = {"44", ""};
    c.callee_deny = {"449"};
    c.caller_rewrite = "-1";
    c.callee_rewrite = "0044*:44*,*:a*";
    c.restriction = Restriction::call_in_barring;
    c.max_rate_type = 2;
    c.proceeding_timeout_s = 45;
    c.enabled = false;
    return c;
}

void check_same(const CustomerSpec& g, const CustomerSpec& w) {
    CHECK(g.name == w.name);
    CHECK(g.account == w.account);
    CHECK(g.auth == w.auth);
    CHECK(g.ips == w.ips);
    CHECK(g.sip_user == w.sip_user);
    CHECK(g.priority == w.priority);
    CHECK(g.line_limit == w.line_limit);
    CHECK(g.cps_limit == w.cps_limit);
    CHECK(g.dest_prefix_limit == w.dest_prefix_limit);
    CHECK(g.caller_allow == w.caller_allow);
    CHECK(g.caller_deny == w.caller_deny);
    CHECK(g.callee_allow == w.callee_allow);
    CHECK(g.callee_deny == w.callee_deny);
    CHECK(g.caller_rewrite == w.caller_rewrite);
    CHECK(g.callee_rewrite == w.callee_rewrite);
    CHECK(g.restriction == w.restriction);
    CHECK(g.max_rate_type == w.max_rate_type);
    CHECK(g.proceeding_timeout_s == w.proceeding_timeout_s);
    CHECK(g.enabled == w.enabled);
}

VendorGateway full_vendor() {
    VendorGateway v;
    GatewaySpec& g = v.spec;
    g.name = "carrierA";
    g.prefixes = {"44", "4420", ""};
    g.priority = 5;
    g.line_limit = 300;
    g.cps_limit = 20;
    g.group = "uk";
    g.reserved_lines = 10;
    g.protect = true;
    g.lowest_profit_per_s = -100;  // negative allowed (VOS3000)
    g.max_minute_rate = 125'000;
    g.check_rate = true;
    g.rate_key = 99;  // not stored
    g.enabled = false;
    v.vendor_account = "9001";
    v.host = "sip.carrier-a.example";
    v.port = 5080;
    v.transport = "tls";
    v.outbound_proxy = "192.0.2.99:5062";
    v.host_name = "carrier-a.example";
    v.caller_rewrite = "*:00*";
    v.callee_rewrite = "-2";
    v.probe = false;
    return v;
}

void check_same(const VendorGateway& got, const VendorGateway& want) {
    const GatewaySpec& g = got.spec;
    const GatewaySpec& w = want.spec;
    CHECK(g.name == w.name);
    CHECK(g.prefixes == w.prefixes);
    CHECK(g.priority == w.priority);
    CHECK(g.line_limit == w.line_limit);
    CHECK(g.cps_limit == w.cps_limit);
    CHECK(g.group == w.group);
    CHECK(g.reserved_lines == w.reserved_lines);
    CHECK(g.protect == w.protect);
    CHECK(g.lowest_profit_per_s == w.lowest_profit_per_s);
    CHECK(g.max_minute_rate == w.max_minute_rate);
    CHECK(g.check_rate == w.check_rate);
    CHECK(g.enabled == w.enabled);
    CHECK(got.vendor_account == want.vendor_account);
    CHECK(got.host == want.host);
    CHECK(got.port == want.port);
    CHECK(got.transport == want.transport);
    CHECK(got.outbound_proxy == want.outbound_proxy);
    CHECK(got.host_name == want.host_name);
    CHECK(got.caller_rewrite == want.caller_rewrite);
    CHECK(got.callee_rewrite == want.callee_rewrite);
    CHECK(got.probe == want.probe);
}

std::map<std::string, std::int64_t> versions(Store& s) {
    std::string err;
    auto v = s.table_versions(&err);
    INFO(err);
    REQUIRE(err.empty());
    return v;
}

}  // namespace

TEST_CASE("lcr store: creates the file 0600 with the lcr schema row, WAL, versions at 0",
          "[lcr][store]") {
    TempDir t;
    const std::string path = t.path("new.db");
    std::string err;
    auto s = Store::open(path, &err);
    REQUIRE(s);
    CHECK(err.empty());
    CHECK(mode_of(path) == 0600);
    REQUIRE(s->put_group({"g", 1}, &err));  // the WAL file now exists
    CHECK(mode_of(path + "-wal") == 0600);
    Raw raw(path);
    CHECK(raw.scalar("SELECT version FROM schema_versions WHERE component = 'lcr'") == "3");
    CHECK(raw.scalar("PRAGMA journal_mode") == "wal");
    CHECK(raw.scalar("PRAGMA user_version") == "0");
    for (const char* table : {"lcr_customer", "lcr_vendor", "lcr_group", "lcr_table_version"}) {
        INFO(table);
        CHECK(raw.scalar(("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" +
                          std::string(table) + "'")
                             .c_str()) == "1");
    }
    auto fresh = Store::open(t.path("fresh.db"), &err);
    REQUIRE(fresh);
    CHECK(versions(*fresh) ==
          std::map<std::string, std::int64_t>{{"customer", 0}, {"group", 0}, {"vendor", 0}});
}

TEST_CASE("lcr store: a shared file keeps other components; reopening migrates nothing",
          "[lcr][store]") {
    TempDir t;
    const std::string path = t.path("shared.db");
    {
        Raw raw(path);  // billing's and the reg store's file
        raw.exec(
            "PRAGMA user_version = 7; CREATE TABLE billing_thing(x); INSERT INTO "
            "billing_thing VALUES (1); CREATE TABLE schema_versions (component TEXT PRIMARY KEY, "
            "version INTEGER NOT NULL); INSERT INTO schema_versions VALUES ('reg', 1);");
    }
    REQUIRE(::chmod(path.c_str(), 0644) == 0);
    std::string err;
    {
        auto s = Store::open(path, &err);
        REQUIRE(s);
        REQUIRE(s->put_customer(full_customer(), &err));
    }
    CHECK(mode_of(path) == 0600);
    {
        auto s = Store::open(path, &err);  // second open: data and versions kept
        REQUIRE(s);
        CHECK(s->customers(&err).size() == 1);
        CHECK(versions(*s).at("customer") == 1);
    }
    Raw raw(path);
    CHECK(raw.scalar("PRAGMA user_version") == "7");
    CHECK(raw.scalar("SELECT count(*) FROM billing_thing") == "1");
    CHECK(raw.scalar("SELECT version FROM schema_versions WHERE component = 'reg'") == "1");
    CHECK(raw.scalar("SELECT version FROM schema_versions WHERE component = 'lcr'") == "3");
}

TEST_CASE("lcr store: a newer lcr schema is refused with a message", "[lcr][store]") {
    TempDir t;
    const std::string path = t.path("newer.db");
    {
        Raw raw(path);
        raw.exec(
            "CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT "
            "NULL); INSERT INTO schema_versions VALUES ('lcr', 9);");
    }
    std::string err;
    auto s = Store::open(path, &err);
    CHECK_FALSE(s);
    CHECK(err.find("lcr schema is version 9") != std::string::npos);
}

TEST_CASE("lcr store: every customer field round-trips, defaults too", "[lcr][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("c.db"), &err);
    REQUIRE(s);
    CustomerSpec plain;
    plain.name = "plain";
    REQUIRE(s->put_customer(full_customer(), &err));
    REQUIRE(s->put_customer(plain, &err));
    auto all = s->customers(&err);
    CHECK(err.empty());
    REQUIRE(all.size() == 2);
    check_same(all[0], full_customer());  // by name: acme < plain
    check_same(all[1], plain);
    CHECK(all[1].ips.empty());
    CHECK(all[1].restriction == Restriction::none);
    CHECK(all[1].max_rate_type == 3);
    CHECK(all[1].enabled);
}

TEST_CASE("lcr store: every vendor field round-trips; rate_key is not stored", "[lcr][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("v.db"), &err);
    REQUIRE(s);
    VendorGateway plain;
    plain.spec.name = "plain";
    plain.host = "192.0.2.1";
    REQUIRE(s->put_vendor(full_vendor(), &err));
    REQUIRE(s->put_vendor(plain, &err));
    auto all = s->vendors(&err);
    CHECK(err.empty());
    REQUIRE(all.size() == 2);
    check_same(all[0], full_vendor());
    CHECK(all[0].spec.rate_key == 0);
    check_same(all[1], plain);
    CHECK(all[1].spec.prefixes.empty());  // {} and {""} differ
    CHECK_FALSE(all[1].spec.lowest_profit_per_s);
    CHECK_FALSE(all[1].spec.max_minute_rate);
    CHECK(all[1].transport == "udp");
    CHECK(all[1].probe);

    VendorGateway every;  // "" alone: matches every number
    every.spec.name = "every";
    every.spec.prefixes = {""};
    every.spec.lowest_profit_per_s = 0;
    REQUIRE(s->put_vendor(every, &err));
    all = s->vendors(&err);
    REQUIRE(all.size() == 3);
    CHECK(all[1].spec.name == "every");
    CHECK(all[1].spec.prefixes == std::vector<std::string>{""});
    CHECK(all[1].spec.lowest_profit_per_s == std::optional<Micros>(0));
}

TEST_CASE("lcr store: groups round-trip and replace", "[lcr][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("g.db"), &err);
    REQUIRE(s);
    REQUIRE(s->put_group({"uk", 100}, &err));
    REQUIRE(s->put_group({"de", 0}, &err));
    REQUIRE(s->put_group({"uk", 250}, &err));
    auto all = s->groups(&err);
    REQUIRE(all.size() == 2);
    CHECK(all[0].name == "de");
    CHECK(all[0].line_limit == 0);
    CHECK(all[1].name == "uk");
    CHECK(all[1].line_limit == 250);
}

TEST_CASE("lcr store: put replaces by name, every field", "[lcr][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("r.db"), &err);
    REQUIRE(s);
    REQUIRE(s->put_customer(full_customer(), &err));
    CustomerSpec c;
    c.name = "acme";  // back to defaults: lists empty, rewrites cleared
    REQUIRE(s->put_customer(c, &err));
    auto cs = s->customers(&err);
    REQUIRE(cs.size() == 1);
    check_same(cs[0], c);

    REQUIRE(s->put_vendor(full_vendor(), &err));
    VendorGateway v;
    v.spec.name = "carrierA";
    v.spec.prefixes = {"1"};
    REQUIRE(s->put_vendor(v, &err));
    auto vs = s->vendors(&err);
    REQUIRE(vs.size() == 1);
    check_same(vs[0], v);
    Raw raw(t.path("r.db"));
    CHECK(raw.scalar("SELECT count(*) FROM lcr_vendor") == "1");
}

TEST_CASE("lcr store: remove deletes one row; absent names are errors naming them",
          "[lcr][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("rm.db"), &err);
    REQUIRE(s);
    CustomerSpec a, b;
    a.name = "a";
    b.name = "b";
    REQUIRE(s->put_customer(a, &err));
    REQUIRE(s->put_customer(b, &err));
    REQUIRE(s->put_vendor(full_vendor(), &err));
    REQUIRE(s->put_group({"uk", 1}, &err));

    CHECK(s->remove_customer("a", &err));
    CHECK(err.empty());
    auto cs = s->customers(&err);
    REQUIRE(cs.size() == 1);
    CHECK(cs[0].name == "b");

    CHECK_FALSE(s->remove_customer("x", &err));
    CHECK(err == "no customer 'x'");
    CHECK_FALSE(s->remove_customer("a", &err));
    CHECK(err == "no customer 'a'");
    CHECK_FALSE(s->remove_vendor("x", &err));
    CHECK(err == "no vendor 'x'");
    CHECK_FALSE(s->remove_group("x", &err));
    CHECK(err == "no group 'x'");

    CHECK(s->remove_vendor("carrierA", &err));
    CHECK(s->vendors(&err).empty());
    CHECK(s->remove_group("uk", &err));
    CHECK(s->groups(&err).empty());
    CHECK(err.empty());
}

TEST_CASE("lcr store: versions bump only the touched table, never on failures",
          "[lcr][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("ver.db"), &err);
    REQUIRE(s);
    using V = std::map<std::string, std::int64_t>;
    CHECK(versions(*s) == V{{"customer", 0}, {"group", 0}, {"vendor", 0}});
    REQUIRE(s->put_customer(full_customer(), &err));
    CHECK(versions(*s) == V{{"customer", 1}, {"group", 0}, {"vendor", 0}});
    REQUIRE(s->put_customer(full_customer(), &err));  // a replace is a change too
    CHECK(versions(*s) == V{{"customer", 2}, {"group", 0}, {"vendor", 0}});
    REQUIRE(s->put_vendor(full_vendor(), &err));
    CHECK(versions(*s) == V{{"customer", 2}, {"group", 0}, {"vendor", 1}});
    REQUIRE(s->put_group({"uk", 3}, &err));
    CHECK(versions(*s) == V{{"customer", 2}, {"group", 1}, {"vendor", 1}});
    REQUIRE(s->remove_vendor("carrierA", &err));
    CHECK(versions(*s) == V{{"customer", 2}, {"group", 1}, {"vendor", 2}});
    REQUIRE(s->remove_group("uk", &err));
    CHECK(versions(*s) == V{{"customer", 2}, {"group", 2}, {"vendor", 2}});
    REQUIRE(s->remove_customer("acme", &err));
    CHECK(versions(*s) == V{{"customer", 3}, {"group", 2}, {"vendor", 2}});

    // failures change nothing
    CHECK_FALSE(s->remove_customer("acme", &err));
    CHECK_FALSE(s->remove_vendor("nope", &err));
    CHECK_FALSE(s->remove_group("nope", &err));
    CustomerSpec bad;
    bad.name = "bad";
    bad.ips = {"1.2.3.4,5.6.7.8"};
    CHECK_FALSE(s->put_customer(bad, &err));
    CHECK(err.find("ips entry '1.2.3.4,5.6.7.8' contains ','") != std::string::npos);
    VendorGateway badv;
    badv.spec.name = "badv";
    badv.transport = "sctp";
    CHECK_FALSE(s->put_vendor(badv, &err));
    CHECK(err.find("transport 'sctp'") != std::string::npos);
    CHECK_FALSE(s->put_group({"", 1}, &err));
    CHECK(err == "put_group: empty name");
    CHECK(versions(*s) == V{{"customer", 3}, {"group", 2}, {"vendor", 2}});
    CHECK(s->customers(&err).empty());
    CHECK(s->vendors(&err).empty());
}

TEST_CASE("lcr store: versions seen through a second Store (another process)", "[lcr][store]") {
    TempDir t;
    const std::string path = t.path("two.db");
    std::string err;
    auto writer = Store::open(path, &err);
    auto reader = Store::open(path, &err);
    REQUIRE(writer);
    REQUIRE(reader);
    const auto before = versions(*reader);
    REQUIRE(writer->put_vendor(full_vendor(), &err));
    const auto after = versions(*reader);
    CHECK(after.at("vendor") == before.at("vendor") + 1);
    CHECK(after.at("customer") == before.at("customer"));
    auto vs = reader->vendors(&err);
    REQUIRE(vs.size() == 1);
    check_same(vs[0], full_vendor());
}

TEST_CASE("lcr store: load() returns every table with matching versions", "[lcr][store]") {
    TempDir t;
    const std::string path = t.path("load.db");
    std::string err;
    auto s = Store::open(path, &err);
    REQUIRE(s);
    REQUIRE(s->put_customer(full_customer(), &err));
    REQUIRE(s->put_vendor(full_vendor(), &err));
    REQUIRE(s->put_group({"uk", 40}, &err));
    auto snap = s->load(&err);
    REQUIRE(snap);
    CHECK(err.empty());
    REQUIRE(snap->customers.size() == 1);
    check_same(snap->customers[0], full_customer());
    REQUIRE(snap->vendors.size() == 1);
    check_same(snap->vendors[0], full_vendor());
    REQUIRE(snap->groups.size() == 1);
    CHECK(snap->groups[0].line_limit == 40);
    CHECK(snap->versions == versions(*s));

    // load() reads one snapshot: a writer that holds the write lock does not block it and
    // its uncommitted rows are not seen; after the commit the rows and the version move
    // together.
    Raw other(path);
    other.exec("BEGIN IMMEDIATE; INSERT INTO lcr_group(name, line_limit, created_ms, updated_ms) "
               "VALUES ('de', 5, 0, 0); UPDATE lcr_table_version SET version = version + 1 "
               "WHERE name = 'group';");
    auto during = s->load(&err);
    REQUIRE(during);
    CHECK(during->groups.size() == 1);
    CHECK(during->versions.at("group") == snap->versions.at("group"));
    other.exec("COMMIT");
    auto after = s->load(&err);
    REQUIRE(after);
    CHECK(after->groups.size() == 2);
    CHECK(after->versions.at("group") == snap->versions.at("group") + 1);

    // load() left no transaction open: a write still works.
    CHECK(s->put_group({"fr", 1}, &err));
    CHECK(err.empty());
}

TEST_CASE("lcr store: an unreadable path is an error value", "[lcr][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("missing-dir/x.db"), &err);
    CHECK_FALSE(s);
    CHECK(err.find("cannot open") != std::string::npos);
}

TEST_CASE("lcr store: the published call list replaces the last one and bumps no version",
          "[lcr][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("c.db"), &err);
    REQUIRE(s);
    auto none = s->active_calls(&err);
    REQUIRE(none);
    CHECK(none->published_ms == 0);
    CHECK(none->calls.empty());
    route::lcr::sqlite::ActiveCall a;
    a.id = 7;
    a.customer = "acme";
    a.vendor_gateway = "gw1";
    a.caller = "15551230000";
    a.callee = "442071234567";
    a.state = "connected";
    a.setup_ms = 1000;
    a.answer_ms = 3000;
    a.call_id_in = "in";
    a.call_id_out = "out";
    auto b = a;
    b.id = 8;
    b.state = "trying";
    b.answer_ms.reset();
    const auto before = s->table_versions(&err);
    route::lcr::sqlite::GatewayLive g;
    g.name = "gw1";
    g.current_calls = 2;
    g.total_calls = 10;
    g.answered = 6;
    g.down = true;
    g.down_reason = "3 probes unanswered";
    g.down_since_ms = 4000;
    const std::vector<route::lcr::sqlite::ActiveCall> ab{a, b}, just_b{b};
    REQUIRE(s->publish_calls(&ab, {g}, 5000, &err));
    auto two = s->active_calls(&err);
    REQUIRE(two);
    CHECK(two->published_ms == 5000);
    REQUIRE(two->calls.size() == 2);
    CHECK(two->calls[0].id == 7);
    CHECK(two->calls[0].answer_ms == std::optional<std::int64_t>(3000));
    CHECK(two->calls[0].call_id_out == "out");
    CHECK_FALSE(two->calls[1].answer_ms.has_value());
    REQUIRE(two->gateways.size() == 1);
    CHECK(two->gateways[0].current_calls == 2);
    CHECK(two->gateways[0].down);
    CHECK(two->gateways[0].down_reason == "3 probes unanswered");
    CHECK(two->gateways[0].down_since_ms == std::optional<std::int64_t>(4000));
    REQUIRE(s->publish_calls(nullptr, {g}, 5500, &err));  // unchanged calls: kept
    auto kept = s->active_calls(&err);
    REQUIRE(kept);
    CHECK(kept->published_ms == 5500);
    CHECK(kept->calls.size() == 2);
    REQUIRE(s->publish_calls(&just_b, {}, 6000, &err));
    auto one = s->active_calls(&err);
    REQUIRE(one);
    REQUIRE(one->calls.size() == 1);
    CHECK(one->calls[0].id == 8);
    CHECK(one->gateways.empty());
    CHECK(s->table_versions(&err) == before);
}

TEST_CASE("lcr store: row versions and preconditions (create, If-Match) inside the write",
          "[lcr][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("pre.db"), &err);
    REQUIRE(s);
    using Row = Precondition::Row;
    std::int64_t v1 = 0, v2 = 0;
    CHECK(s->put_customer(full_customer(), {Row::absent, {}}, &err) == WriteOutcome::done);
    REQUIRE(s->customer("acme", &v1, &err));
    CHECK(v1 == s->table_versions(&err)["customer"]);
    CHECK(s->customer_versions(&err) == std::map<std::string, std::int64_t>{{"acme", v1}});
    CHECK(s->vendor_versions(&err).empty());
    CHECK(err.empty());
    CHECK(s->put_customer(full_customer(), {Row::absent, {}}, &err) == WriteOutcome::exists);
    CustomerSpec other = full_customer();
    other.line_limit = 1;
    CHECK(s->put_customer(other, {Row::present, {v1 + 100}}, &err) == WriteOutcome::stale);
    CHECK(s->customer("acme", nullptr, &err)->line_limit == 120);  // nothing changed
    CHECK(s->put_customer(other, {Row::present, {v1}}, &err) == WriteOutcome::done);
    REQUIRE(s->customer("acme", &v2, &err));
    CHECK(v2 > v1);
    other.name = "ghost";
    CHECK(s->put_customer(other, {Row::present, {}}, &err) == WriteOutcome::missing);
    CHECK(!s->customer("ghost", nullptr, &err));
    CHECK(err.empty());
    CHECK(s->remove_customer("acme", Precondition{Row::present, {v1}}, &err) == WriteOutcome::stale);
    CHECK(s->remove_customer("acme", Precondition{Row::present, {v2}}, &err) == WriteOutcome::done);
    CHECK(s->remove_customer("acme", Precondition{Row::present, {}}, &err) == WriteOutcome::missing);
    // added again: a version never shown before
    CHECK(s->put_customer(full_customer(), &err));
    std::int64_t v3 = 0;
    REQUIRE(s->customer("acme", &v3, &err));
    CHECK(v3 > v2);
    CHECK(s->put_group({"uk", 5}, {Row::absent, {}}, &err) == WriteOutcome::done);
    std::int64_t g = 0;
    CHECK(s->group("uk", &g, &err)->line_limit == 5);
    CHECK(g == 1);
    VendorGateway v;
    v.spec.name = "gw";
    v.spec.prefixes = {"44"};
    v.host = "192.0.2.1";
    CHECK(s->put_vendor(v, {Row::absent, {}}, &err) == WriteOutcome::done);
    std::int64_t vv = 0;
    CHECK(s->vendor("gw", &vv, &err)->host == "192.0.2.1");
    CHECK(vv == 1);
}

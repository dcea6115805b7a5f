// route::domain::sqlite::Store: schema migration via schema_versions (not user_version,
// which billing owns), entry round trips, status records.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "route/domain/sqlite/store.hpp"

using namespace route::domain;
using route::domain::sqlite::StatusRecord;
using route::domain::sqlite::Store;

namespace {

std::string temp_db(const char* tag) {
    auto p = std::filesystem::temp_directory_path() /
             ("domain_store_" + std::string(tag) + "_" + std::to_string(getpid()) + ".db");
    std::filesystem::remove(p);
    std::filesystem::remove(p.string() + "-wal");
    std::filesystem::remove(p.string() + "-shm");
    return p.string();
}

int user_version(const std::string& path) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
    sqlite3_step(s);
    const int v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

void exec(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
}

}  // namespace

TEST_CASE("store: migrates its own schema version and leaves user_version alone",
          "[domain][store]") {
    const std::string path = temp_db("migrate");
    exec(path, "PRAGMA user_version = 7; CREATE TABLE billing_thing(x)");  // billing's file
    std::string err;
    {
        auto s = Store::open(path, &err);
        REQUIRE(s);
        CHECK(s->schema_version(&err) == Store::kSchemaVersion);
    }
    CHECK(user_version(path) == 7);
    {
        auto s = Store::open(path, &err);  // second open: nothing to migrate
        REQUIRE(s);
        CHECK(s->schema_version(&err) == Store::kSchemaVersion);
    }
    exec(path, "UPDATE schema_versions SET version = 99 WHERE component = 'domain'");
    CHECK_FALSE(Store::open(path, &err));
    CHECK(err.find("newer than this program") != std::string::npos);
    std::filesystem::remove(path);
}

TEST_CASE("store: entries round trip; status records", "[domain][store]") {
    const std::string path = temp_db("entries");
    std::string err;
    auto s = Store::open(path, &err);
    REQUIRE(s);
    REQUIRE(
        s->put({"SIP.Carrier.test.", std::chrono::seconds(60), sip::Transport::Tls, 5061}, &err));
    REQUIRE(s->put({"b.carrier.test", {}, {}, {}}, &err));
    REQUIRE(s->put({"b.carrier.test", {}, {}, 5070}, &err));  // update
    auto all = s->entries(&err);
    REQUIRE(all.size() == 2);
    CHECK(all[0].name == "b.carrier.test");
    CHECK(all[0].port == 5070);
    CHECK_FALSE(all[0].transport);
    CHECK(all[1].name == "sip.carrier.test");
    CHECK(all[1].ttl_override == std::chrono::seconds(60));
    CHECK(all[1].transport == sip::Transport::Tls);
    CHECK(s->get("sip.carrier.test", &err)->port == 5061);

    StatusRecord r;
    r.name = "sip.carrier.test";
    r.recorded_at = 1700000000;
    r.state = "ok";
    r.addresses = "192.0.2.1:5061/TLS";
    r.changed_at = 1699999990;
    r.change_reason = "DNS answer changed";
    r.report = "report text\n";
    REQUIRE(s->save_status(r, &err));
    auto back = s->status("sip.carrier.test", &err);
    REQUIRE(back);
    CHECK(back->addresses == r.addresses);
    CHECK(back->changed_at == r.changed_at);
    CHECK_FALSE(back->last_error_at);
    CHECK(back->report == r.report);

    CHECK(s->remove("sip.carrier.test", &err));
    CHECK_FALSE(s->remove("sip.carrier.test", &err));
    CHECK(err.empty());
    CHECK_FALSE(s->status("sip.carrier.test", &err));
    CHECK(s->entries(&err).size() == 1);
    s.reset();
    std::filesystem::remove(path);
}

TEST_CASE("store: the entries' version moves with every entry change, whoever writes, not with status",
          "[domain][store]") {
    const std::string path = temp_db("version");
    std::string err;
    auto s = Store::open(path, &err);
    REQUIRE(s);
    const auto v0 = s->entries_version(&err);
    REQUIRE(v0);
    route::domain::EntrySpec e;
    e.name = "carrier.example";
    REQUIRE(s->put(e, &err));
    const auto v1 = s->entries_version(&err);
    CHECK(*v1 > *v0);
    e.port = 5080;
    REQUIRE(s->put(e, &err));  // an update
    const auto v2 = s->entries_version(&err);
    CHECK(*v2 > *v1);
    StatusRecord st;
    st.name = "carrier.example";
    st.recorded_at = 1;
    st.state = "ok";
    REQUIRE(s->save_status(st, &err));  // the server's own writes do not count
    CHECK(*s->entries_version(&err) == *v2);
    exec(path, "DELETE FROM domain_entry");  // another process (the sqlite3 shell)
    CHECK(*s->entries_version(&err) > *v2);
    std::filesystem::remove(path);
}

TEST_CASE("store: each entry carries a version, checked inside the write", "[domain][store]") {
    // Issue 11: the management API's ETag and If-Match on /api/domains.
    using route::domain::sqlite::Precondition;
    using route::domain::sqlite::WriteOutcome;
    using Row = Precondition::Row;
    const std::string path = temp_db("rowversion");
    std::string err;
    auto a = Store::open(path, &err);
    auto b = Store::open(path, &err);  // trunkctl, another connection
    REQUIRE(a);
    REQUIRE(b);
    route::domain::EntrySpec e;
    e.name = "Carrier.Example";
    REQUIRE(a->put(e, Precondition{Row::absent, {}}, &err) == WriteOutcome::done);
    CHECK(a->put(e, Precondition{Row::absent, {}}, &err) == WriteOutcome::exists);
    auto v1 = a->get_versioned("carrier.example", &err);
    REQUIRE(v1);
    CHECK(v1->spec.name == "carrier.example");
    CHECK(v1->version == *a->entries_version(&err));  // one bump, one stamp
    e.port = 5080;
    REQUIRE(b->put(e, &err));  // trunkctl domain add (an upsert)
    const std::int64_t v2 = a->get_versioned("carrier.example", &err)->version;
    CHECK(v2 > v1->version);
    CHECK(v2 == *a->entries_version(&err));
    // a write on the version read before trunkctl's: refused, trunkctl's port stays
    e.port = 5090;
    CHECK(a->put(e, Precondition{Row::present, {v1->version}}, &err) == WriteOutcome::stale);
    CHECK(a->get("carrier.example", &err)->port == 5080);
    CHECK(a->remove("carrier.example", Precondition{Row::present, {v1->version}}, &err) ==
          WriteOutcome::stale);
    REQUIRE(a->put(e, Precondition{Row::present, {v2}}, &err) == WriteOutcome::done);
    const std::int64_t v3 = a->versioned_entries(&err).at(0).version;
    CHECK(v3 > v2);
    exec(path, "UPDATE domain_entry SET port = 5099");  // the sqlite3 shell
    const std::int64_t v4 = a->get_versioned("carrier.example", &err)->version;
    CHECK(v4 > v3);
    CHECK(a->remove("carrier.example", Precondition{Row::present, {v4}}, &err) ==
          WriteOutcome::done);
    CHECK(a->remove("carrier.example", Precondition{Row::present, {}}, &err) ==
          WriteOutcome::missing);
    CHECK(a->put(e, Precondition{Row::present, {}}, &err) == WriteOutcome::missing);
    CHECK_FALSE(a->get_versioned("carrier.example", &err));
    CHECK(err.empty());
    REQUIRE(a->put(e, &err));  // added again: a version never seen before
    CHECK(a->get_versioned("carrier.example", &err)->version > v4);
    a.reset();
    b.reset();
    std::filesystem::remove(path);
}

TEST_CASE("store: schema 2 files get the entries' versions", "[domain][store]") {
    const std::string path = temp_db("schema2");
    std::string err;
    std::int64_t counter = 0;
    {
        auto s = Store::open(path, &err);
        REQUIRE(s);
        REQUIRE(s->put({"a.example", {}, {}, {}}, &err));
        REQUIRE(s->put({"b.example", {}, {}, 5070}, &err));
        counter = *s->entries_version(&err);
    }
    // back to what schema 2 had
    exec(path,
         "DROP TRIGGER domain_entry_version_insert; DROP TRIGGER domain_entry_version_update; "
         "ALTER TABLE domain_entry DROP COLUMN version; "
         "CREATE TRIGGER domain_entry_version_insert AFTER INSERT ON domain_entry "
         "BEGIN UPDATE domain_entry_version SET version = version + 1; END; "
         "CREATE TRIGGER domain_entry_version_update AFTER UPDATE ON domain_entry "
         "BEGIN UPDATE domain_entry_version SET version = version + 1; END; "
         "UPDATE schema_versions SET version = 2 WHERE component = 'domain'");
    auto s = Store::open(path, &err);
    REQUIRE(s);
    CHECK(s->schema_version(&err) == Store::kSchemaVersion);
    CHECK(*s->entries_version(&err) == counter);  // the migration changes no entry
    auto all = s->versioned_entries(&err);
    REQUIRE(all.size() == 2);
    CHECK(all[0].version == counter);
    CHECK(all[1].spec.port == 5070);
    using route::domain::sqlite::Precondition;
    REQUIRE(s->put(all[1].spec, Precondition{Precondition::Row::present, {counter}}, &err) ==
            route::domain::sqlite::WriteOutcome::done);
    CHECK(s->get_versioned("b.example", &err)->version == counter + 1);
    s.reset();
    std::filesystem::remove(path);
}

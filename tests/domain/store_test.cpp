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
        CHECK(s->schema_version(&err) == 2);
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

// route::reg::sqlite::Store on real SQLite files in a fresh temporary directory: schema
// migration (own row in schema_versions, one transaction, idempotent), file mode 0600, round
// trips of every table and field, binding purge boundaries, commands taken exactly once,
// PRAGMA data_version across two Store instances, the operators' tables' change counters
// (moved by user and carrier entry writes, not by bindings), and errors as values.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "route/reg/sqlite/store.hpp"
#include "sqlite_fixture.hpp"

using namespace route::reg;
using namespace route::reg::sqlite;
using sip::auth::Algorithm;

namespace {

// A fresh directory per test case, removed afterwards.
struct TempDir : test::TempDir {
    TempDir() : test::TempDir("reg_store_test") {}
};
using test::mode_of;
using test::Raw;

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

const std::string kMd5(32, 'a');
const std::string kSha256 = std::string(63, '0') + "f";
const std::string kSha512 = std::string(64, 'e');

StoredBinding full_binding() {
    StoredBinding sb;
    sb.aor = "sip:alice@example.com";
    sb.expires_ms = 1'900'000'000'123;
    Binding& b = sb.binding;
    b.contact = "sip:alice@198.51.100.7:5070;transport=tls;ob";
    b.q = 500;
    b.call_id = "a84b4c76e66710@pc33";
    b.cseq = 4294967295u;
    b.path = {"<sip:p1.example.com;lr>", "<sip:p2\\x;lr>", "multi\nline"};
    b.source = {sip::Transport::Tls, "2001:db8::7", 5071, 0, "edge.example.com"};
    b.instance = "<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>";
    b.reg_id = 42;
    b.down = true;
    return sb;
}

void check_same(const StoredBinding& got, const StoredBinding& want) {
    CHECK(got.aor == want.aor);
    CHECK(got.expires_ms == want.expires_ms);
    const Binding& g = got.binding;
    const Binding& w = want.binding;
    CHECK(g.contact == w.contact);
    CHECK(g.q == w.q);
    CHECK(g.call_id == w.call_id);
    CHECK(g.cseq == w.cseq);
    CHECK(g.path == w.path);
    CHECK(g.source.transport == w.source.transport);
    CHECK(g.source.host == w.source.host);
    CHECK(g.source.port == w.source.port);
    CHECK(g.source.tls_name == w.source.tls_name);
    CHECK(g.instance == w.instance);
    CHECK(g.reg_id == w.reg_id);
    CHECK(g.down == w.down);
}

BindingChange upsert(const StoredBinding& sb) {
    return {sb.aor, {}, sb};
}
BindingChange erase(std::string aor, std::string contact) {
    return {std::move(aor), std::move(contact), std::nullopt};
}

StoredBinding simple(std::string aor, std::string contact, std::int64_t expires_ms) {
    StoredBinding sb;
    sb.aor = std::move(aor);
    sb.binding.contact = std::move(contact);
    sb.binding.call_id = "c";
    sb.binding.source = {sip::Transport::Udp, "192.0.2.1", 5060, 0, ""};
    sb.expires_ms = expires_ms;
    return sb;
}

// What migration step 5 added (the rows' versions), for tests of older files.
constexpr const char* kUndoStep5 =
    "DROP TRIGGER reg_version_sip_user_insert; DROP TRIGGER reg_version_sip_user_update; "
    "DROP TRIGGER reg_version_trunk_reg_insert; DROP TRIGGER reg_version_trunk_reg_update; "
    "ALTER TABLE sip_user DROP COLUMN version; ALTER TABLE trunk_reg DROP COLUMN version; "
    "CREATE TRIGGER reg_version_sip_user_insert AFTER INSERT ON sip_user BEGIN UPDATE "
    "reg_table_version SET version = version + 1 WHERE name = 'sip_user'; END; "
    "CREATE TRIGGER reg_version_sip_user_update AFTER UPDATE ON sip_user BEGIN UPDATE "
    "reg_table_version SET version = version + 1 WHERE name = 'sip_user'; END; "
    "CREATE TRIGGER reg_version_trunk_reg_insert AFTER INSERT ON trunk_reg BEGIN UPDATE "
    "reg_table_version SET version = version + 1 WHERE name = 'trunk_reg'; END; "
    "CREATE TRIGGER reg_version_trunk_reg_update AFTER UPDATE ON trunk_reg BEGIN UPDATE "
    "reg_table_version SET version = version + 1 WHERE name = 'trunk_reg'; END;";

// What migration steps 4 and 5 added (the change counters, the rows' versions), for tests of
// older files.
constexpr const char* kUndoStep4 =
    "DROP TRIGGER reg_version_sip_user_insert; DROP TRIGGER reg_version_sip_user_update; "
    "DROP TRIGGER reg_version_sip_user_delete; DROP TRIGGER reg_version_trunk_reg_insert; "
    "DROP TRIGGER reg_version_trunk_reg_update; DROP TRIGGER reg_version_trunk_reg_delete; "
    "DROP TABLE reg_table_version; ALTER TABLE sip_user DROP COLUMN version; "
    "ALTER TABLE trunk_reg DROP COLUMN version;";

// Takes the file back to schema `version` (`undo`: the SQL undoing the later migration steps)
// and opens it again: the store migrates it to the current schema.
std::unique_ptr<Store> reopened_from_schema(const std::string& path, int version,
                                            std::initializer_list<const char*> undo,
                                            std::string* err) {
    {
        Raw raw(path);
        for (const char* sql : undo)
            raw.exec(sql);
        const std::string mark = "UPDATE schema_versions SET version = " + std::to_string(version) +
                                 " WHERE component = 'reg'";
        raw.exec(mark.c_str());
    }
    auto s = Store::open(path, err);
    REQUIRE(s);
    CHECK(s->schema_version(err) == Store::kSchemaVersion);
    return s;
}

// alice in the default realm with an MD5 HA1 only, enabled.
SipUser alice_md5() {
    return {"alice", "trunkline", {{Algorithm::MD5, kMd5}}, true, 0, 0};
}

// The least a carrier entry needs: its name, the server, the AOR user and the password.
TrunkReg carrier_entry(std::string name = "carrier") {
    TrunkReg r;
    r.name = std::move(name);
    r.server = "192.0.2.10";
    r.aor_user = "u";
    r.password = "p";
    return r;
}

// Two connections to one fresh file: `a`, and `b` as another process's (trunkctl's).
struct TwoStores {
    TempDir t;
    const std::string path = t.path("two.db");
    std::string err;
    std::unique_ptr<Store> a = Store::open(path, &err);
    std::unique_ptr<Store> b = Store::open(path, &err);
    TwoStores() {
        REQUIRE(a);
        REQUIRE(b);
    }
};

}  // namespace

TEST_CASE("reg store: creates the file 0600 with the reg schema row, WAL", "[reg][store]") {
    TempDir t;
    const std::string path = t.path("new.db");
    std::string err;
    auto s = Store::open(path, &err);
    REQUIRE(s);
    CHECK(err.empty());
    CHECK(mode_of(path) == 0600);
    CHECK(s->schema_version(&err) == Store::kSchemaVersion);
    REQUIRE(s->add_command("lift", "x", &err));  // the WAL file now exists
    CHECK(mode_of(path + "-wal") == 0600);
    Raw raw(path);
    CHECK(raw.scalar("SELECT version FROM schema_versions WHERE component = 'reg'") ==
          std::to_string(Store::kSchemaVersion));
    CHECK(raw.scalar("PRAGMA journal_mode") == "wal");
    CHECK(raw.scalar("PRAGMA user_version") == "0");
    for (const char* table : {"sip_user", "reg_binding", "trunk_reg", "trunk_reg_state",
                              "reg_suspension", "reg_command", "reg_table_version"}) {
        INFO(table);
        CHECK(raw.scalar(("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" +
                          std::string(table) + "'")
                             .c_str()) == "1");
    }
}

TEST_CASE("reg store: waits for another writer (busy timeout) instead of failing", "[reg][store]") {
    TempDir t;
    const std::string path = t.path("busy.db");
    std::string err;
    auto s = Store::open(path, &err);
    REQUIRE(s);
    Raw other(path);
    other.exec("BEGIN IMMEDIATE");  // holds the write lock
    const auto start = std::chrono::steady_clock::now();
    std::thread release([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        sqlite3_exec(other.db, "COMMIT", nullptr, nullptr, nullptr);  // no Catch2 here
    });
    const bool ok = s->add_command("lift", "alice", &err);
    const auto waited = std::chrono::steady_clock::now() - start;
    release.join();
    CHECK(ok);
    CHECK(err.empty());
    CHECK(waited >= std::chrono::milliseconds(250));
}

TEST_CASE("reg store: an existing shared file keeps other components and gets mode 0600",
          "[reg][store]") {
    TempDir t;
    const std::string path = t.path("shared.db");
    {
        Raw raw(path);  // billing's and the domain store's file
        raw.exec(
            "PRAGMA user_version = 7; CREATE TABLE billing_thing(x); INSERT INTO "
            "billing_thing VALUES (1); CREATE TABLE schema_versions (component TEXT PRIMARY KEY, "
            "version INTEGER NOT NULL); INSERT INTO schema_versions VALUES ('domain', 1);");
    }
    REQUIRE(::chmod(path.c_str(), 0644) == 0);
    std::string err;
    {
        auto s = Store::open(path, &err);
        REQUIRE(s);
        CHECK(s->schema_version(&err) == Store::kSchemaVersion);
        REQUIRE(s->add_command("lift", "bob", &err));
    }
    CHECK(mode_of(path) == 0600);
    Raw raw(path);
    CHECK(raw.scalar("PRAGMA user_version") == "7");
    CHECK(raw.scalar("SELECT version FROM schema_versions WHERE component = 'domain'") == "1");
    CHECK(raw.scalar("SELECT count(*) FROM billing_thing") == "1");
}

TEST_CASE("reg store: migration is idempotent on reopen and refuses a newer schema",
          "[reg][store]") {
    TempDir t;
    const std::string path = t.path("m.db");
    std::string err;
    {
        auto s = Store::open(path, &err);
        REQUIRE(s);
        REQUIRE(s->put_user(alice_md5(), &err));
    }
    REQUIRE(::chmod(path.c_str(), 0640) == 0);  // operator's choice on a migrated file
    for (int i = 0; i < 2; ++i) {
        auto s = Store::open(path, &err);  // nothing to migrate: data stays
        REQUIRE(s);
        CHECK(s->schema_version(&err) == Store::kSchemaVersion);
        CHECK(s->users(&err).size() == 1);
    }
    CHECK(mode_of(path) == 0640);  // only the first migration restricts the mode
    {
        Raw raw(path);
        CHECK(raw.scalar("SELECT count(*) FROM schema_versions WHERE component = 'reg'") == "1");
        raw.exec("UPDATE schema_versions SET version = 99 WHERE component = 'reg'");
    }
    CHECK_FALSE(Store::open(path, &err));
    CHECK(err.find("newer than this program") != std::string::npos);
    CHECK(err.find(path) != std::string::npos);
}

TEST_CASE("reg store: a failed migration leaves nothing behind (one transaction)", "[reg][store]") {
    TempDir t;
    const std::string path = t.path("clash.db");
    {
        Raw raw(path);
        raw.exec("CREATE TABLE reg_command(x)");  // the last table of the migration clashes
    }
    std::string err;
    CHECK_FALSE(Store::open(path, &err));
    CHECK(err.find("reg_command") != std::string::npos);
    Raw raw(path);
    CHECK(raw.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'sip_user'") == "0");
    CHECK(raw.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'schema_versions'") == "0");
}

TEST_CASE("reg store: open errors name the path", "[reg][store]") {
    TempDir t;
    const std::string junk = t.path("notes.txt");
    {
        std::ofstream f(junk);
        for (int i = 0; i < 200; ++i)
            f << "this is not an SQLite database, just text\n";
    }
    std::string err;
    CHECK_FALSE(Store::open(junk, &err));
    CHECK(err.find(junk) != std::string::npos);
    CHECK(err.find("not a database") != std::string::npos);

    const std::string missing_dir = t.path("no/such/dir.db");
    err.clear();
    CHECK_FALSE(Store::open(missing_dir, &err));
    CHECK(err.find(missing_dir) != std::string::npos);
}

TEST_CASE("reg store: SIP users round trip", "[reg][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("u.db"), &err);
    REQUIRE(s);
    SipUser bob{
        "bob",
        "example.com",
        {{Algorithm::MD5, kMd5}, {Algorithm::SHA256, kSha256}, {Algorithm::SHA512_256, kSha512}},
        false,
        1'700'000'000'000,
        0};
    const std::int64_t before = wall_ms();
    REQUIRE(s->put_user(bob, &err));
    REQUIRE(s->put_user({"alice", "trunkline", {{Algorithm::SHA256, kSha256}}, true, 0, 0}, &err));
    const std::int64_t after = wall_ms();

    auto got = s->user("bob", &err);
    REQUIRE(got);
    CHECK(got->username == "bob");
    CHECK(got->realm == "example.com");
    CHECK(got->ha1 == bob.ha1);
    CHECK_FALSE(got->enabled);
    CHECK(got->created_ms == 1'700'000'000'000);
    CHECK(got->updated_ms >= before);
    CHECK(got->updated_ms <= after);

    auto alice = s->user("alice", &err);
    REQUIRE(alice);
    CHECK(alice->ha1.size() == 1);
    CHECK(alice->ha1.at(Algorithm::SHA256) == kSha256);
    CHECK(alice->enabled);
    CHECK(alice->created_ms >= before);  // 0: set by put_user
    CHECK(alice->created_ms <= after);

    auto all = s->users(&err);
    REQUIRE(all.size() == 2);
    CHECK(all[0].username == "alice");  // by name
    CHECK(all[1].username == "bob");

    // Replace (passwd): a created_ms of 0 keeps the original; the HA1 set is replaced.
    const std::int64_t created = alice->created_ms;
    ::usleep(2000);
    REQUIRE(s->put_user({"alice", "other", {{Algorithm::MD5, kMd5}}, true, 0, 0}, &err));
    alice = s->user("alice", &err);
    REQUIRE(alice);
    CHECK(alice->realm == "other");
    CHECK(alice->created_ms == created);
    CHECK(alice->updated_ms > created);
    CHECK(alice->ha1.size() == 1);
    CHECK(alice->ha1.count(Algorithm::MD5) == 1);

    CHECK_FALSE(s->user("carol", &err));
    CHECK(err.empty());
    CHECK(s->remove_user("bob", &err));
    CHECK(err.empty());
    CHECK_FALSE(s->user("bob", &err));
    CHECK_FALSE(s->remove_user("bob", &err));
    CHECK(err.empty());
}

TEST_CASE("reg store: put_user refuses -sess keys, malformed HA1 and empty names", "[reg][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("u.db"), &err);
    REQUIRE(s);
    CHECK_FALSE(s->put_user({"a", "r", {{Algorithm::MD5_sess, kMd5}}, true, 0, 0}, &err));
    CHECK(err.find("MD5-sess") != std::string::npos);
    CHECK_FALSE(s->put_user({"a", "r", {{Algorithm::SHA256, kMd5}}, true, 0, 0}, &err));
    CHECK(err.find("64 lowercase hex digits") != std::string::npos);
    CHECK_FALSE(
        s->put_user({"a", "r", {{Algorithm::MD5, std::string(32, 'A')}}, true, 0, 0}, &err));
    CHECK(err.find("32 lowercase hex digits") != std::string::npos);
    CHECK_FALSE(s->put_user({"", "r", {}, true, 0, 0}, &err));
    CHECK_FALSE(err.empty());
    CHECK(s->users(&err).empty());
    CHECK(err.empty());  // a successful call clears the previous error
}

TEST_CASE("reg store: bindings round trip every field", "[reg][store]") {
    TempDir t;
    const std::string path = t.path("b.db");
    std::string err;
    const StoredBinding full = full_binding();
    StoredBinding bare = simple("sip:bob@example.com", "sip:bob@192.0.2.9", 1000);  // no q...
    StoredBinding empty_path = simple("sip:bob@example.com", "sip:bob@192.0.2.99", 2000);
    empty_path.binding.path = {""};  // one empty value is not "no Path"
    {
        auto s = Store::open(path, &err);
        REQUIRE(s);
        REQUIRE(s->apply_bindings({upsert(full), upsert(bare), upsert(empty_path)}, &err));
    }
    auto s = Store::open(path, &err);  // read back through a new connection
    REQUIRE(s);
    auto all = s->bindings(&err);
    REQUIRE(all.size() == 3);
    check_same(all[0], full);  // by aor, contact
    check_same(all[1], bare);
    check_same(all[2], empty_path);
    CHECK_FALSE(all[1].binding.q);
    CHECK_FALSE(all[1].binding.reg_id);
    CHECK(all[1].binding.path.empty());
    CHECK(all[0].binding.down);
    CHECK_FALSE(all[1].binding.down);
    CHECK(all[2].binding.path == std::vector<std::string>{""});
    CHECK(all[0].binding.source.conn == 0);  // connection ids do not outlive the process
}

TEST_CASE("reg store: apply_bindings upserts by contact key, deletes, is one transaction",
          "[reg][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("b.db"), &err);
    REQUIRE(s);
    const std::string aor = "sip:alice@example.com";
    REQUIRE(s->apply_bindings({upsert(simple(aor, "sip:alice@HOST.example.com", 5000)),
                               upsert(simple(aor, "sip:alice@other.example.com", 5000))},
                              &err));
    // Same contact key (host case-insensitive): replaces the row, takes the new text.
    StoredBinding refreshed = simple(aor, "sip:alice@host.example.com", 9000);
    refreshed.binding.cseq = 7;
    REQUIRE(s->apply_bindings({upsert(refreshed)}, &err));
    auto all = s->bindings(&err);
    REQUIRE(all.size() == 2);
    check_same(all[0], refreshed);

    // Delete by contact (matched by key as well).
    REQUIRE(s->apply_bindings({erase(aor, "sip:alice@OTHER.example.com")}, &err));
    all = s->bindings(&err);
    REQUIRE(all.size() == 1);
    CHECK(all[0].binding.contact == "sip:alice@host.example.com");

    // A bad change late in the batch: the earlier ones are rolled back too.
    BindingChange bad = upsert(simple("sip:x@example.com", "sip:x@192.0.2.3", 1));
    bad.aor = "sip:y@example.com";  // names another AOR than its binding
    CHECK_FALSE(s->apply_bindings({erase(aor, "sip:alice@host.example.com"),
                                   upsert(simple("sip:c@example.com", "sip:c@192.0.2.4", 1)), bad},
                                  &err));
    CHECK(err.find("sip:y@example.com") != std::string::npos);
    all = s->bindings(&err);
    REQUIRE(all.size() == 1);
    CHECK(all[0].binding.contact == "sip:alice@host.example.com");

    // Deleting a binding that is not there is not an error.
    CHECK(s->apply_bindings({erase(aor, "sip:alice@nowhere.example.com")}, &err));
    CHECK(err.empty());
}

TEST_CASE("reg store: purge_bindings removes expires_ms <= now", "[reg][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("p.db"), &err);
    REQUIRE(s);
    REQUIRE(s->apply_bindings({upsert(simple("sip:a@x", "sip:a@192.0.2.1", 999)),
                               upsert(simple("sip:a@x", "sip:a@192.0.2.2", 1000)),
                               upsert(simple("sip:a@x", "sip:a@192.0.2.3", 1001))},
                              &err));
    CHECK(s->purge_bindings(998, &err) == std::optional<std::size_t>(0));
    CHECK(s->purge_bindings(1000, &err) == std::optional<std::size_t>(2));
    auto all = s->bindings(&err);
    REQUIRE(all.size() == 1);
    CHECK(all[0].expires_ms == 1001);
    CHECK(s->purge_bindings(1000, &err) == std::optional<std::size_t>(0));
    CHECK(s->purge_bindings(1001, &err) == std::optional<std::size_t>(1));
    CHECK(s->bindings(&err).empty());
}

TEST_CASE("reg store: trunk registrations round trip every field", "[reg][store]") {
    TempDir t;
    const std::string path = t.path("t.db");
    std::string err;
    TrunkReg full;
    full.name = "carrier-A.1_x";
    full.server = "sip.carrier.example";
    full.port = 5061;
    full.transport = sip::Transport::Tls;
    full.outbound_proxy = "proxy.example:5070";
    full.aor_user = "4420001";
    full.aor_domain = "carrier.example";
    full.auth_user = "auth4420001";
    full.password = "s3cr3t 'quoted\" pw";
    full.contact_host = "198.51.100.7";
    full.contact_port = 5080;
    full.expires_s = 0;  // auto, explicitly
    full.retry_delay_s = 45;
    full.privacy = Privacy::id;
    full.send_unregister = false;
    full.enabled = false;
    TrunkReg minimal = carrier_entry("b");
    {
        auto s = Store::open(path, &err);
        REQUIRE(s);
        REQUIRE(s->put_trunk_reg(minimal, &err));
        REQUIRE(s->put_trunk_reg(full, &err));
    }
    auto s = Store::open(path, &err);
    REQUIRE(s);
    auto got = s->trunk_reg(full.name, &err);
    REQUIRE(got);
    CHECK(*got == full);
    got = s->trunk_reg("b", &err);
    REQUIRE(got);
    CHECK(*got == minimal);
    CHECK_FALSE(got->expires_s);
    CHECK_FALSE(got->retry_delay_s);
    CHECK_FALSE(got->privacy);
    CHECK_FALSE(got->send_unregister);

    // Every Privacy value and send_unregister=true survive too.
    for (Privacy p : {Privacy::ignore, Privacy::none}) {
        minimal.privacy = p;
        minimal.send_unregister = true;
        minimal.expires_s = 3600;
        REQUIRE(s->put_trunk_reg(minimal, &err));  // update by name
        CHECK(s->trunk_reg("b", &err) == std::optional<TrunkReg>(minimal));
    }
    auto all = s->trunk_regs(&err);
    REQUIRE(all.size() == 2);
    CHECK(all[0].name == "b");  // by name ('b' < 'c')
    CHECK(all[1].name == full.name);

    TrunkReg bad = minimal;
    bad.name = "has space";
    CHECK_FALSE(s->put_trunk_reg(bad, &err));
    CHECK(err.find("has space") != std::string::npos);

    CHECK_FALSE(s->trunk_reg("zzz", &err));
    CHECK(err.empty());
    CHECK_FALSE(s->remove_trunk_reg("zzz", &err));
    CHECK(err.empty());
}

TEST_CASE("reg store: trunk state round trips; removing the entry keeps it", "[reg][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("s.db"), &err);
    REQUIRE(s);
    TrunkReg r = carrier_entry();
    REQUIRE(s->put_trunk_reg(r, &err));
    TrunkRegState full;
    full.name = "carrier";
    full.persisted = {"call-1@host", 4000000000u, "sip:u@198.51.100.7:5060", std::nullopt};
    full.state = "registered";
    full.reason = "200 OK";
    full.expires_ms = 1'900'000'000'000;
    full.next_attempt_ms = 1'899'999'940'000;
    full.last_code = 200;
    full.last_reason_phrase = "OK";
    full.consecutive_failures = 3;
    full.updated_ms = 1'899'999'000'000;
    full.clean_stop = true;
    full.registrar = "192.0.2.10:5060/UDP";
    full.dns_name = "carrier.example:5060";
    full.dns_state = "failed";
    full.dns_error = "NXDOMAIN (A carrier.example: NXDOMAIN)";
    full.dns_since_ms = 1'899'998'000'000;
    full.dns_until_ms = 1'899'998'300'000;
    TrunkRegState bare;
    bare.name = "other";
    bare.state = "idle";
    REQUIRE(s->save_trunk_state(full, &err));
    REQUIRE(s->save_trunk_state(bare, &err));

    auto check = [](const TrunkRegState& g, const TrunkRegState& w) {
        CHECK(g.name == w.name);
        CHECK(g.persisted == w.persisted);
        CHECK(g.state == w.state);
        CHECK(g.reason == w.reason);
        CHECK(g.expires_ms == w.expires_ms);
        CHECK(g.next_attempt_ms == w.next_attempt_ms);
        CHECK(g.last_code == w.last_code);
        CHECK(g.last_reason_phrase == w.last_reason_phrase);
        CHECK(g.consecutive_failures == w.consecutive_failures);
        CHECK(g.updated_ms == w.updated_ms);
        CHECK(g.clean_stop == w.clean_stop);
        CHECK(g.registrar == w.registrar);
        CHECK(g.dns_name == w.dns_name);
        CHECK(g.dns_state == w.dns_state);
        CHECK(g.dns_error == w.dns_error);
        CHECK(g.dns_since_ms == w.dns_since_ms);
        CHECK(g.dns_until_ms == w.dns_until_ms);
    };
    auto got = s->trunk_state("carrier", &err);
    REQUIRE(got);
    check(*got, full);
    got = s->trunk_state("other", &err);
    REQUIRE(got);
    check(*got, bare);
    CHECK_FALSE(got->expires_ms);
    CHECK_FALSE(got->next_attempt_ms);

    full.state = "failed";  // replace
    full.clean_stop = false;
    full.expires_ms.reset();
    REQUIRE(s->save_trunk_state(full, &err));
    auto all = s->trunk_states(&err);
    REQUIRE(all.size() == 2);
    check(all[0], full);
    CHECK(all[1].name == "other");

    REQUIRE(s->remove_trunk_reg("carrier", &err));
    CHECK_FALSE(s->trunk_reg("carrier", &err));
    CHECK(s->trunk_state("carrier", &err));  // kept for the crash-recovery cleanup
    CHECK(s->remove_trunk_state("carrier", &err));
    CHECK_FALSE(s->trunk_state("carrier", &err));
    CHECK_FALSE(s->remove_trunk_state("carrier", &err));
    CHECK(err.empty());
}

TEST_CASE("reg store: suspensions by (key, kind, pair IP), ordered by until", "[reg][store]") {
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("x.db"), &err);
    REQUIRE(s);
    REQUIRE(s->put_suspension({"alice", 0, 3000, ""}, &err));
    REQUIRE(s->put_suspension({"192.0.2.7", 1, 1000, ""}, &err));
    REQUIRE(s->put_suspension({"dual", 0, 2000, ""}, &err));
    REQUIRE(s->put_suspension({"dual", 1, 2500, ""}, &err));
    REQUIRE(s->put_suspension({"alice", 0, 500, ""}, &err));  // update by (key, kind)
    auto all = s->suspensions(&err);
    REQUIRE(all.size() == 4);
    CHECK(all[0].key == "alice");
    CHECK(all[0].until_ms == 500);
    CHECK_FALSE(all[0].ip());
    CHECK(all[1].key == "192.0.2.7");
    CHECK(all[1].ip());
    CHECK(all[1].until_ms == 1000);
    CHECK(all[2].key == "dual");
    CHECK_FALSE(all[2].ip());
    CHECK(all[3].key == "dual");
    CHECK(all[3].ip());

    CHECK(s->remove_suspension("dual", 1, "", &err));  // only the IP row
    all = s->suspensions(&err);
    REQUIRE(all.size() == 3);
    CHECK(all[2].key == "dual");
    CHECK_FALSE(all[2].ip());
    CHECK_FALSE(s->remove_suspension("dual", 1, "", &err));
    CHECK(err.empty());
    REQUIRE(s->put_suspension({"dual", 1, 2500, ""}, &err));
    CHECK(s->remove_suspensions("dual", &err));  // both rows
    CHECK(s->suspensions(&err).size() == 2);
    CHECK_FALSE(s->remove_suspensions("nobody", &err));
    CHECK(err.empty());
}

TEST_CASE("reg store: one user suspended at several addresses; batches in one transaction",
          "[reg][store]") {
    // Issue 16: a suspension of a user at one source address (the default counting) is keyed
    // by the pair, so the same user can be held at several addresses at once.
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("p.db"), &err);
    REQUIRE(s);
    REQUIRE(s->apply_suspensions({{{"alice", 2, 1000, "192.0.2.1"}, false},
                                  {{"alice", 2, 2000, "192.0.2.2"}, false},
                                  {{"192.0.2.1", 1, 1500, "alice"}, false}},
                                 &err));
    auto all = s->suspensions(&err);
    REQUIRE(all.size() == 3);
    CHECK(all[0].pair());
    CHECK(all[0].peer == "192.0.2.1");
    CHECK(all[2].peer == "192.0.2.2");
    // removing one pair leaves the other; a missing row is no error in a batch
    REQUIRE(s->apply_suspensions({{{"alice", 2, 0, "192.0.2.2"}, true},
                                  {{"nobody", 0, 0, ""}, true}},
                                 &err));
    CHECK(s->suspensions(&err).size() == 2);
    // every suspension naming an address: its own and the pairs at it
    CHECK(s->remove_suspensions("192.0.2.1", &err));
    CHECK(s->suspensions(&err).empty());
    // an empty key fails the whole batch: nothing of it is stored
    CHECK_FALSE(s->apply_suspensions({{{"bob", 0, 1000, ""}, false}, {{"", 0, 1000, ""}, false}},
                                     &err));
    CHECK_FALSE(err.empty());
    CHECK(s->suspensions(&err).empty());
}

// The switch's loop polls the queue every second while the CDR writer commits on another
// connection: an empty queue must not make the loop wait for the write lock (up to the 5 s
// busy timeout, then "database is locked").
TEST_CASE_METHOD(TwoStores, "reg store: take_commands on an empty queue takes no write lock",
                 "[reg][store]") {
    Raw writer(path);
    writer.exec("BEGIN IMMEDIATE");  // another connection holds the write lock
    CHECK(a->take_commands(&err).empty());
    CHECK(err.empty());
    writer.exec("COMMIT");
    REQUIRE(b->add_command("lift", "alice", &err));
    CHECK(a->take_commands(&err).size() == 1);
    CHECK(err.empty());
}

TEST_CASE_METHOD(TwoStores, "reg store: take_commands returns each command once, in order",
                 "[reg][store]") {
    const std::int64_t before = wall_ms();
    REQUIRE(b->add_command("lift", "alice", &err));
    REQUIRE(b->add_command("re-register", "carrier", &err));
    REQUIRE(b->add_command("lift", "192.0.2.7", &err));
    auto got = a->take_commands(&err);
    REQUIRE(got.size() == 3);
    CHECK(got[0].kind == "lift");
    CHECK(got[0].arg == "alice");
    CHECK(got[1].kind == "re-register");
    CHECK(got[1].arg == "carrier");
    CHECK(got[2].arg == "192.0.2.7");
    CHECK(got[0].id < got[1].id);
    CHECK(got[1].id < got[2].id);
    CHECK(got[0].created_ms >= before);
    CHECK(got[2].created_ms <= wall_ms());
    CHECK(a->take_commands(&err).empty());
    CHECK(b->take_commands(&err).empty());
    CHECK(err.empty());

    // Interleaved producers and two consumers: every command is seen exactly once, and ids
    // are never reused after a take.
    std::set<std::int64_t> ids;
    for (const Command& c : got)
        ids.insert(c.id);
    std::size_t seen = 0;
    for (int i = 0; i < 20; ++i) {
        REQUIRE((i % 2 ? a : b)->add_command("lift", "u" + std::to_string(i), &err));
        if (i % 3 == 0) {
            for (const Command& c : (i % 2 ? b : a)->take_commands(&err)) {
                CHECK(ids.insert(c.id).second);
                ++seen;
            }
        }
    }
    for (const Command& c : a->take_commands(&err)) {
        CHECK(ids.insert(c.id).second);
        ++seen;
    }
    CHECK(seen == 20);
    Raw raw(path);
    CHECK(raw.scalar("SELECT count(*) FROM reg_command") == "0");
}

TEST_CASE_METHOD(TwoStores, "reg store: data_version changes when another Store writes",
                 "[reg][store]") {
    auto v0 = a->data_version(&err);
    REQUIRE(v0);
    CHECK(a->data_version(&err) == v0);  // nothing happened
    REQUIRE(a->add_command("lift", "own write", &err));
    CHECK(a->data_version(&err) == v0);  // own commits do not count
    REQUIRE(b->put_suspension({"alice", 0, 1, ""}, &err));
    auto v1 = a->data_version(&err);
    REQUIRE(v1);
    CHECK(*v1 != *v0);
    REQUIRE(b->remove_suspensions("alice", &err));
    auto v2 = a->data_version(&err);
    REQUIRE(v2);
    CHECK(*v2 != *v1);
    CHECK(err.empty());
}

TEST_CASE_METHOD(TwoStores,
                 "reg store: change_versions move with users and carrier entries, not bindings",
                 "[reg][store]") {
    // Issue 11 item 2: trunkline reloads the users only when sip_user changed.
    auto v = a->change_versions(&err);
    REQUIRE(err.empty());
    REQUIRE(v.size() == 2);
    const auto moved = [&](const char* table) {
        auto now = a->change_versions(&err);
        REQUIRE(err.empty());
        const bool m = now.at(table) != v.at(table);
        v = now;
        return m;
    };
    SipUser alice = alice_md5();
    REQUIRE(b->put_user(alice, &err));  // trunkctl user add
    CHECK(moved("sip_user"));
    alice.ha1[Algorithm::MD5] = std::string(32, 'b');
    REQUIRE(b->put_user(alice, &err));  // trunkctl user passwd
    CHECK(moved("sip_user"));
    CHECK_FALSE(moved("trunk_reg"));
    // what trunkline writes itself, many times a second
    REQUIRE(b->apply_bindings({upsert(full_binding())}, &err));
    REQUIRE(b->put_suspension({"alice", 0, 1, ""}, &err));
    TrunkRegState st;
    st.name = "carrier";
    st.state = "registered";
    REQUIRE(b->save_trunk_state(st, &err));
    REQUIRE(b->add_command("lift", "alice", &err));
    CHECK(b->take_commands(&err).size() == 1);
    CHECK_FALSE(moved("sip_user"));
    CHECK_FALSE(moved("trunk_reg"));
    REQUIRE(b->remove_user("alice", &err));  // trunkctl user remove
    CHECK(moved("sip_user"));
    TrunkReg r = carrier_entry();
    REQUIRE(b->put_trunk_reg(r, &err));
    CHECK(moved("trunk_reg"));
    CHECK_FALSE(moved("sip_user"));
    REQUIRE(b->remove_trunk_reg("carrier", &err));
    CHECK(moved("trunk_reg"));
    Raw raw(path);  // the sqlite3 shell counts too
    raw.exec(
        "INSERT INTO sip_user(username, realm, created_ms, updated_ms) VALUES ('x', 'r', 0, 0)");
    CHECK(moved("sip_user"));
}

TEST_CASE("reg store: schema 3 files get the change counters", "[reg][store]") {
    TempDir t;
    const std::string path = t.path("v3.db");
    std::string err;
    {
        auto s = Store::open(path, &err);
        REQUIRE(s);
        REQUIRE(s->put_user(alice_md5(), &err));
    }
    auto s = reopened_from_schema(path, 3, {kUndoStep4}, &err);
    CHECK(s->users(&err).size() == 1);
    auto v = s->change_versions(&err);
    CHECK(err.empty());
    CHECK(v == std::map<std::string, std::int64_t>{{"sip_user", 0}, {"trunk_reg", 0}});
    REQUIRE(s->remove_user("alice", &err));
    CHECK(s->change_versions(&err).at("sip_user") == 1);
}

TEST_CASE_METHOD(TwoStores,
                 "reg store: carrier entries and users carry a version, checked inside the write",
                 "[reg][store]") {
    // Issue 11: the management API's ETag and If-Match on /api/carriers and /api/users. `b`
    // is trunkctl's connection.
    TrunkReg r = carrier_entry();
    using Row = Precondition::Row;
    REQUIRE(a->put_trunk_reg(r, Precondition{Row::absent, {}}, &err) == WriteOutcome::done);
    auto v1 = a->versioned_trunk_reg("carrier", &err);
    REQUIRE(v1);
    CHECK(v1->reg == r);
    CHECK(v1->version == a->change_versions(&err).at("trunk_reg"));  // one bump, one stamp
    CHECK(a->put_trunk_reg(r, Precondition{Row::absent, {}}, &err) == WriteOutcome::exists);

    r.server = "192.0.2.11";
    REQUIRE(b->put_trunk_reg(r, &err));  // trunkctl trunk-reg add (an upsert)
    const std::int64_t v2 = a->versioned_trunk_reg("carrier", &err)->version;
    CHECK(v2 > v1->version);
    CHECK(v2 == a->change_versions(&err).at("trunk_reg"));
    // a write on the version read before trunkctl's: refused, trunkctl's server stays
    r.server = "192.0.2.99";
    CHECK(a->put_trunk_reg(r, Precondition{Row::present, {v1->version}}, &err) ==
          WriteOutcome::stale);
    CHECK(a->trunk_reg("carrier", &err)->server == "192.0.2.11");
    CHECK(a->remove_trunk_reg("carrier", Precondition{Row::present, {v1->version}}, &err) ==
          WriteOutcome::stale);
    REQUIRE(a->put_trunk_reg(r, Precondition{Row::present, {v1->version, v2}}, &err) ==
            WriteOutcome::done);
    const std::int64_t v3 = a->versioned_trunk_reg("carrier", &err)->version;
    CHECK(v3 > v2);
    Raw(path).exec("UPDATE trunk_reg SET enabled = 0 WHERE name = 'carrier'");  // the shell
    const std::int64_t v4 = a->versioned_trunk_regs(&err).at(0).version;
    CHECK(v4 > v3);
    CHECK(a->remove_trunk_reg("carrier", Precondition{Row::present, {v4}}, &err) ==
          WriteOutcome::done);
    CHECK(a->remove_trunk_reg("carrier", Precondition{Row::present, {}}, &err) ==
          WriteOutcome::missing);
    CHECK(a->put_trunk_reg(r, Precondition{Row::present, {}}, &err) == WriteOutcome::missing);
    CHECK_FALSE(a->trunk_reg("carrier", &err));
    REQUIRE(a->put_trunk_reg(r, &err));  // added again: a version never seen before
    CHECK(a->versioned_trunk_reg("carrier", &err)->version > v4);

    SipUser alice = alice_md5();
    REQUIRE(b->put_user(alice, &err));
    const auto u1 = a->user_version("alice", &err);
    REQUIRE(u1);
    CHECK(*u1 == a->change_versions(&err).at("sip_user"));
    REQUIRE(b->put_user(alice, &err));  // trunkctl user passwd
    const auto u2 = a->user_version("alice", &err);
    CHECK(*u2 > *u1);
    CHECK(a->remove_user("alice", Precondition{Row::present, {*u1}}, &err) == WriteOutcome::stale);
    CHECK(a->user("alice", &err));
    CHECK(a->remove_user("alice", Precondition{Row::present, {*u2}}, &err) == WriteOutcome::done);
    CHECK_FALSE(a->user_version("alice", &err));
    CHECK(err.empty());
    CHECK(a->remove_user("alice", Precondition{}, &err) == WriteOutcome::missing);
}

TEST_CASE("reg store: schema 4 files get the rows' versions", "[reg][store]") {
    TempDir t;
    const std::string path = t.path("v4.db");
    std::string err;
    std::map<std::string, std::int64_t> counters;
    {
        auto s = Store::open(path, &err);
        REQUIRE(s);
        REQUIRE(s->put_user(alice_md5(), &err));
        REQUIRE(s->put_trunk_reg(carrier_entry(), &err));
        REQUIRE(s->put_trunk_reg(carrier_entry(), &err));
        counters = s->change_versions(&err);
    }
    auto s = reopened_from_schema(path, 4, {kUndoStep5}, &err);
    CHECK(s->change_versions(&err) == counters);  // the migration changes no entry
    CHECK(s->user_version("alice", &err) == counters.at("sip_user"));
    auto c = s->versioned_trunk_reg("carrier", &err);
    REQUIRE(c);
    CHECK(c->reg.server == "192.0.2.10");
    CHECK(c->version == counters.at("trunk_reg"));
    c->reg.server = "192.0.2.11";
    REQUIRE(s->put_trunk_reg(c->reg, Precondition{Precondition::Row::present, {c->version}},
                             &err) == WriteOutcome::done);
    CHECK(s->versioned_trunk_reg("carrier", &err)->version == counters.at("trunk_reg") + 1);
}

TEST_CASE("reg store: schema 1 files get the DNS state and suspension peer columns",
          "[reg][store]") {
    // Issue 12 items 5, 7, 8: migration step 2 on a file written by schema 1.
    TempDir t;
    const std::string path = t.path("v1.db");
    std::string err;
    {
        auto s = Store::open(path, &err);
        REQUIRE(s);
        TrunkRegState st;
        st.name = "carrier";
        st.state = "registered";
        st.persisted = {"c@h", 9, "sip:u@198.51.100.7", std::nullopt};
        REQUIRE(s->save_trunk_state(st, &err));
        REQUIRE(s->put_suspension({"alice", 0, 5000, "192.0.2.7"}, &err));
    }
    auto s = reopened_from_schema(
        path, 1,
        {kUndoStep4,
         "ALTER TABLE trunk_reg_state DROP COLUMN registrar; ALTER TABLE trunk_reg_state DROP "
         "COLUMN dns_name; ALTER TABLE trunk_reg_state DROP COLUMN dns_state; ALTER TABLE "
         "trunk_reg_state DROP COLUMN dns_error; ALTER TABLE trunk_reg_state DROP COLUMN "
         "dns_since_ms; ALTER TABLE trunk_reg_state DROP COLUMN dns_until_ms; ALTER TABLE "
         "reg_suspension DROP COLUMN peer;"},
        &err);
    auto st = s->trunk_state("carrier", &err);
    REQUIRE(st);
    CHECK(st->persisted.cseq == 9);
    CHECK(st->registrar.empty());
    CHECK(st->dns_state.empty());
    CHECK_FALSE(st->dns_since_ms);
    auto sus = s->suspensions(&err);
    REQUIRE(sus.size() == 1);
    CHECK(sus[0].peer.empty());
    REQUIRE(s->put_suspension({"alice", 0, 6000, "192.0.2.8"}, &err));
    CHECK(s->suspensions(&err).at(0).peer == "192.0.2.8");
}

TEST_CASE("reg store: remove_bindings by AOR, or one contact of it", "[reg][store]") {
    // Issue 12 item 8: trunkctl binding remove / user remove.
    TempDir t;
    std::string err;
    auto s = Store::open(t.path("b.db"), &err);
    REQUIRE(s);
    auto binding = [](std::string aor, std::string contact) {
        StoredBinding sb;
        sb.aor = aor;
        sb.binding.contact = contact;
        sb.binding.call_id = "c";
        sb.binding.source = {sip::Transport::Udp, "192.0.2.1", 5060, 0, {}};
        sb.expires_ms = 9'000'000'000'000;
        return BindingChange{aor, contact, sb};
    };
    REQUIRE(s->apply_bindings({binding("sip:alice@trunkline", "sip:alice@192.0.2.1:5060"),
                               binding("sip:alice@trunkline", "sip:alice@192.0.2.2:5060"),
                               binding("sip:bob@trunkline", "sip:bob@192.0.2.3:5060")},
                              &err));
    CHECK(s->remove_bindings("sip:alice@trunkline", "sip:alice@192.0.2.2:5060", &err) == 1u);
    CHECK(s->bindings(&err).size() == 2);
    CHECK(s->remove_bindings("sip:alice@trunkline", "", &err) == 1u);
    CHECK(s->remove_bindings("sip:nobody@trunkline", "", &err) == 0u);
    auto left = s->bindings(&err);
    REQUIRE(left.size() == 1);
    CHECK(left[0].aor == "sip:bob@trunkline");
    CHECK(err.empty());
}

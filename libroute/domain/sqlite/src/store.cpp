// SQLite persistence of domain entries (DESIGN.md §8: operators' data in one SQLite file).
#include "route/domain/sqlite/store.hpp"

#include <sqlite3.h>

#include <chrono>

#include "route/sqlite/db.hpp"

namespace route::domain::sqlite {
namespace {

using route::sqlite::exec;
using route::sqlite::fail;
using route::sqlite::parse_transport;
using route::sqlite::Stmt;
using route::sqlite::Txn;

// Migration steps; step i brings the component from version i to i + 1.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE domain_entry (
    name            TEXT PRIMARY KEY,
    ttl_override_ms INTEGER CHECK (ttl_override_ms IS NULL OR ttl_override_ms >= 0),
    transport       TEXT CHECK (transport IS NULL OR transport IN ('UDP', 'TCP', 'TLS')),
    port            INTEGER CHECK (port IS NULL OR port BETWEEN 1 AND 65535),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE TABLE domain_status (
    name          TEXT PRIMARY KEY,
    recorded_at   INTEGER NOT NULL,
    state         TEXT NOT NULL,
    addresses     TEXT NOT NULL,
    changed_at    INTEGER,
    change_reason TEXT NOT NULL DEFAULT '',
    last_error    TEXT NOT NULL DEFAULT '',
    last_error_at INTEGER,
    report        TEXT NOT NULL
);
)sql",
    // 2: a counter that every change of domain_entry moves in its own transaction (kept by
    // triggers, so trunkctl, the API and the sqlite3 shell all move it), which a running
    // trunkline polls to put new entries into its cache and forget removed ones.
    R"sql(
CREATE TABLE domain_entry_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO domain_entry_version(id, version) VALUES (1, 0);
CREATE TRIGGER domain_entry_version_insert AFTER INSERT ON domain_entry
    BEGIN UPDATE domain_entry_version SET version = version + 1; END;
CREATE TRIGGER domain_entry_version_update AFTER UPDATE ON domain_entry
    BEGIN UPDATE domain_entry_version SET version = version + 1; END;
CREATE TRIGGER domain_entry_version_delete AFTER DELETE ON domain_entry
    BEGIN UPDATE domain_entry_version SET version = version + 1; END;
)sql",
    // 3: a version per entry (the management API's ETag, issue 11): the counter's value when
    // the row was last written, stamped by the counter's own triggers so every writer stamps
    // it. The stamp is an UPDATE of the row, which must not count as a change itself: the
    // update trigger fires only when a write left `version` alone (the stamp changes it, and
    // SQLite does not fire a trigger from itself unless recursive_triggers is on, which no
    // connection here turns on). Existing entries get the counter's value as it is.
    R"sql(
DROP TRIGGER domain_entry_version_insert;
DROP TRIGGER domain_entry_version_update;
ALTER TABLE domain_entry ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
UPDATE domain_entry SET version = (SELECT version FROM domain_entry_version WHERE id = 1);
CREATE TRIGGER domain_entry_version_insert AFTER INSERT ON domain_entry
    BEGIN
        UPDATE domain_entry_version SET version = version + 1;
        UPDATE domain_entry SET version = (SELECT version FROM domain_entry_version WHERE id = 1)
            WHERE name = NEW.name;
    END;
CREATE TRIGGER domain_entry_version_update AFTER UPDATE ON domain_entry
    WHEN NEW.version IS OLD.version
    BEGIN
        UPDATE domain_entry_version SET version = version + 1;
        UPDATE domain_entry SET version = (SELECT version FROM domain_entry_version WHERE id = 1)
            WHERE name = NEW.name;
    END;
)sql",
};
constexpr int kSteps = sizeof kMigrations / sizeof kMigrations[0];
static_assert(kSteps == Store::kSchemaVersion);

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

constexpr const char* kSelectVersion = "SELECT version FROM domain_entry WHERE name = ?1";

// Columns 0..3 of a SELECT name, ttl_override_ms, transport, port[, version].
EntrySpec read_entry(Stmt& s) {
    EntrySpec e;
    e.name = s.col_text(0);
    if (auto ms = s.col_int(1)) e.ttl_override = std::chrono::milliseconds(*ms);
    e.transport = parse_transport(s.col_text(2));
    if (auto p = s.col_int(3)) e.port = static_cast<std::uint16_t>(*p);
    return e;
}

}  // namespace

std::unique_ptr<Store> Store::open(const std::string& path, std::string* error) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
        if (error)
            *error = "cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return nullptr;
    }
    sqlite3_busy_timeout(db, 5000);
    std::unique_ptr<Store> s(new Store(db));
    if (!exec(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", error) ||
        !s->migrate(error)) {
        return nullptr;
    }
    return s;
}

Store::Store(sqlite3* db) : db_(db), kept_(std::make_unique<route::sqlite::Kept>()) {}

Store::~Store() {
    kept_->clear();
    sqlite3_close(db_);
}

bool Store::migrate(std::string* error) {
    return route::sqlite::migrate(db_, "domain", kMigrations, nullptr, error);
}

int Store::schema_version(std::string* error) {
    Stmt q(db_, "SELECT version FROM schema_versions WHERE component = 'domain'");
    if (!q.ok()) return fail(db_, error, "schema_versions"), -1;
    return q.step() == SQLITE_ROW ? static_cast<int>(q.col_int(0).value_or(0)) : 0;
}

bool Store::put(const EntrySpec& e, std::string* error) {
    return put(e, Precondition{}, error) == WriteOutcome::done;
}

// The row's version is stamped by the triggers (migration step 3), inside this transaction.
WriteOutcome Store::put(const EntrySpec& e, const Precondition& p, std::string* error) {
    if (error) error->clear();
    const std::string key = normalize_name(e.name);
    Txn txn(db_, error);
    if (!txn.began()) return WriteOutcome::failed;
    if (auto o = route::sqlite::as_outcome<WriteOutcome>(route::sqlite::check_row(db_, kSelectVersion, key, p, error));
        o != WriteOutcome::done)
        return o;
    Stmt s(db_,
           "INSERT INTO domain_entry(name, ttl_override_ms, transport, port, created_at, "
           "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(name) DO UPDATE SET "
           "ttl_override_ms = excluded.ttl_override_ms, transport = excluded.transport, "
           "port = excluded.port, updated_at = excluded.updated_at");
    if (!s.ok()) return fail(db_, error, "domain_entry"), WriteOutcome::failed;
    s.text(1, key);
    if (e.ttl_override) {
        s.integer(2,
                  std::chrono::duration_cast<std::chrono::milliseconds>(*e.ttl_override).count());
    } else {
        s.null(2);
    }
    if (e.transport)
        s.text(3, transport_text(*e.transport));
    else
        s.null(3);
    if (e.port)
        s.integer(4, *e.port);
    else
        s.null(4);
    s.integer(5, unix_now());
    if (s.step() != SQLITE_DONE) return fail(db_, error, "domain_entry"), WriteOutcome::failed;
    return txn.commit(error) ? WriteOutcome::done : WriteOutcome::failed;
}

bool Store::remove(std::string_view name, std::string* error) {
    return remove(name, Precondition{}, error) == WriteOutcome::done;
}

// The entry's status goes with it; without a precondition a status left by a name without an
// entry goes too (as before versions), and the answer is still missing.
WriteOutcome Store::remove(std::string_view name, const Precondition& p, std::string* error) {
    if (error) error->clear();
    const std::string key = normalize_name(name);
    Txn txn(db_, error);
    if (!txn.began()) return WriteOutcome::failed;
    if (auto o = route::sqlite::as_outcome<WriteOutcome>(route::sqlite::check_row(db_, kSelectVersion, key, p, error));
        o != WriteOutcome::done)
        return o;
    Stmt s(db_, "DELETE FROM domain_entry WHERE name = ?1");
    if (!s.ok()) return fail(db_, error, "domain_entry"), WriteOutcome::failed;
    s.text(1, key);
    if (s.step() != SQLITE_DONE) return fail(db_, error, "domain_entry"), WriteOutcome::failed;
    const bool removed = sqlite3_changes(db_) > 0;
    Stmt t(db_, "DELETE FROM domain_status WHERE name = ?1");
    if (!t.ok()) return fail(db_, error, "domain_status"), WriteOutcome::failed;
    t.text(1, key);
    if (t.step() != SQLITE_DONE) return fail(db_, error, "domain_status"), WriteOutcome::failed;
    if (!txn.commit(error)) return WriteOutcome::failed;
    return removed ? WriteOutcome::done : WriteOutcome::missing;
}

std::optional<EntrySpec> Store::get(std::string_view name, std::string* error) {
    Stmt s(db_, "SELECT name, ttl_override_ms, transport, port FROM domain_entry WHERE name = ?1");
    if (!s.ok()) return fail(db_, error, "domain_entry"), std::nullopt;
    s.text(1, normalize_name(name));
    if (s.step() != SQLITE_ROW) return std::nullopt;
    return read_entry(s);
}

std::vector<EntrySpec> Store::entries(std::string* error) {
    std::vector<EntrySpec> out;
    Stmt s(db_, "SELECT name, ttl_override_ms, transport, port FROM domain_entry ORDER BY name");
    if (!s.ok()) return fail(db_, error, "domain_entry"), out;
    while (s.step() == SQLITE_ROW)
        out.push_back(read_entry(s));
    return out;
}

std::optional<VersionedEntry> Store::get_versioned(std::string_view name, std::string* error) {
    if (error) error->clear();
    Stmt s(db_,
           "SELECT name, ttl_override_ms, transport, port, version FROM domain_entry "
           "WHERE name = ?1");
    if (!s.ok()) return fail(db_, error, "domain_entry"), std::nullopt;
    s.text(1, normalize_name(name));
    const int rc = s.step();
    if (rc == SQLITE_ROW) return VersionedEntry{read_entry(s), s.col_i64(4)};
    if (rc != SQLITE_DONE) fail(db_, error, "domain_entry");
    return std::nullopt;
}

std::vector<VersionedEntry> Store::versioned_entries(std::string* error) {
    if (error) error->clear();
    std::vector<VersionedEntry> out;
    Stmt s(db_,
           "SELECT name, ttl_override_ms, transport, port, version FROM domain_entry "
           "ORDER BY name");
    if (!s.ok()) return fail(db_, error, "domain_entry"), out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back({read_entry(s), s.col_i64(4)});
    if (rc != SQLITE_DONE) return fail(db_, error, "domain_entry"), std::vector<VersionedEntry>{};
    return out;
}

std::optional<std::int64_t> Store::entries_version(std::string* error) {
    Stmt s(*kept_, db_, "SELECT version FROM domain_entry_version WHERE id = 1");
    if (!s.ok()) return fail(db_, error, "domain_entry_version"), std::nullopt;
    if (s.step() != SQLITE_ROW) return fail(db_, error, "domain_entry_version"), std::nullopt;
    return s.col_int(0).value_or(0);
}

bool Store::save_status(const StatusRecord& r, std::string* error) {
    Stmt s(db_,
           "INSERT OR REPLACE INTO domain_status(name, recorded_at, state, addresses, changed_at, "
           "change_reason, last_error, last_error_at, report) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!s.ok()) return fail(db_, error, "domain_status");
    s.text(1, normalize_name(r.name));
    s.integer(2, r.recorded_at);
    s.text(3, r.state);
    s.text(4, r.addresses);
    if (r.changed_at)
        s.integer(5, *r.changed_at);
    else
        s.null(5);
    s.text(6, r.change_reason);
    s.text(7, r.last_error);
    if (r.last_error_at)
        s.integer(8, *r.last_error_at);
    else
        s.null(8);
    s.text(9, r.report);
    if (s.step() != SQLITE_DONE) return fail(db_, error, "domain_status");
    return true;
}

std::optional<StatusRecord> Store::status(std::string_view name, std::string* error) {
    Stmt s(db_,
           "SELECT name, recorded_at, state, addresses, changed_at, change_reason, last_error, "
           "last_error_at, report FROM domain_status WHERE name = ?1");
    if (!s.ok()) return fail(db_, error, "domain_status"), std::nullopt;
    s.text(1, normalize_name(name));
    if (s.step() != SQLITE_ROW) return std::nullopt;
    StatusRecord r;
    r.name = s.col_text(0);
    r.recorded_at = s.col_int(1).value_or(0);
    r.state = s.col_text(2);
    r.addresses = s.col_text(3);
    r.changed_at = s.col_int(4);
    r.change_reason = s.col_text(5);
    r.last_error = s.col_text(6);
    r.last_error_at = s.col_int(7);
    r.report = s.col_text(8);
    return r;
}

}  // namespace route::domain::sqlite

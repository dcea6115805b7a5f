// route::sqlite — the small SQLite helpers the libroute adapters share (route_domain_sqlite,
// route_reg_sqlite, route_lcr_sqlite): a prepared statement, a transaction guard, error
// helpers, the database file's mode and the per-component schema migration. Internal to
// the adapters: header-only, not installed, the only other libroute place with <sqlite3.h>.
//
//   route::sqlite::Txn txn(db, error);                 // BEGIN IMMEDIATE; ROLLBACK unless
//   if (!txn.began()) return false;                    // commit() succeeded
//   route::sqlite::Stmt s(db, "INSERT INTO t(a, b) VALUES (?1, ?2)");
//   if (!s.ok()) return route::sqlite::fail(db, error, "t");
//   s.text(1, name);  s.opt_integer(2, port);
//   if (!s.done()) return route::sqlite::fail(db, error, "t");
//   return txn.commit(error);
//
//   // What runs every second (the switch's polls): prepared once, reset after each use.
//   route::sqlite::Kept kept;                          // next to the connection
//   route::sqlite::Stmt v(kept, db, "SELECT version FROM t_version");
//   kept.clear();                                      // before sqlite3_close(db)
//
//   // A component's row in schema_versions(component, version); step i of `migrations`
//   // brings it from version i to i + 1, all steps in one transaction.
//   if (!route::sqlite::migrate(db, "reg", kMigrations, &created, error)) ...
#pragma once

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sip/transport.hpp"

namespace route::sqlite {

// Statements prepared once for a connection's life (SQLITE_PREPARE_PERSISTENT), for what a
// store runs every second: the switch's polls of version rows and command queues. Preparing
// costs SQLite more than running those: an idle switch spent ~260,000 instructions a second
// on it (callgrind). One Kept per connection, used by the connection's thread only;
// clear() before sqlite3_close(), which refuses a connection with statements left.
class Kept {
  public:
    Kept() = default;
    ~Kept() { clear(); }
    Kept(const Kept&) = delete;
    Kept& operator=(const Kept&) = delete;
    // The statement for `sql`, prepared on first use; nullptr with *rc set when it fails.
    sqlite3_stmt* get(sqlite3* db, const char* sql, int* rc) {
        const std::string_view key(sql);
        for (const auto& [text, stmt] : stmts_)
            if (text == key) return *rc = SQLITE_OK, stmt;
        sqlite3_stmt* s = nullptr;
        *rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
        if (*rc != SQLITE_OK) return sqlite3_finalize(s), nullptr;
        stmts_.emplace_back(std::string(key), s);
        return s;
    }
    void clear() {
        for (const auto& kept : stmts_) sqlite3_finalize(kept.second);
        stmts_.clear();
    }

  private:
    std::vector<std::pair<std::string, sqlite3_stmt*>> stmts_;
};

class Stmt {
  public:
    Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
    // A statement of `kept`: reset and unbound, not finalized, when this goes.
    Stmt(Kept& kept, sqlite3* db, const char* sql) : s_(kept.get(db, sql, &rc_)), kept_(true) {}
    ~Stmt() {
        if (!kept_)
            sqlite3_finalize(s_);
        else if (s_)
            reset();
    }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    bool ok() const { return rc_ == SQLITE_OK; }
    void text(int i, std::string_view v) {
        // a default string_view has no data pointer, which SQLite would bind as NULL, not ''
        sqlite3_bind_text(s_, i, v.data() ? v.data() : "", static_cast<int>(v.size()),
                          SQLITE_TRANSIENT);
    }
    void integer(int i, std::int64_t v) { sqlite3_bind_int64(s_, i, v); }
    void null(int i) { sqlite3_bind_null(s_, i); }
    template <class T>
    void opt_integer(int i, const std::optional<T>& v) {
        if (v)
            integer(i, static_cast<std::int64_t>(*v));
        else
            null(i);
    }
    int step() { return sqlite3_step(s_); }
    bool done() { return step() == SQLITE_DONE; }
    void reset() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }
    // Whole value, embedded NULs included; NULL reads as "".
    std::string col_text(int i) {
        const auto* p = sqlite3_column_text(s_, i);
        return p ? std::string(reinterpret_cast<const char*>(p),
                               static_cast<std::size_t>(sqlite3_column_bytes(s_, i)))
                 : std::string();
    }
    std::optional<std::int64_t> col_int(int i) {
        if (sqlite3_column_type(s_, i) == SQLITE_NULL) return std::nullopt;
        return sqlite3_column_int64(s_, i);
    }
    std::int64_t col_i64(int i) { return sqlite3_column_int64(s_, i); }
    bool col_null(int i) { return sqlite3_column_type(s_, i) == SQLITE_NULL; }

  private:
    sqlite3_stmt* s_ = nullptr;
    int rc_;
    bool kept_ = false;
};

// "what: <sqlite's message>" in *error; returns false.
inline bool fail(sqlite3* db, std::string* error, const std::string& what) {
    if (error) *error = what + ": " + sqlite3_errmsg(db);
    return false;
}

// `msg` in *error; returns false.
inline bool fail_msg(std::string* error, std::string msg) {
    if (error) *error = std::move(msg);
    return false;
}

inline bool exec(sqlite3* db, const char* sql, std::string* error) {
    char* msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
        if (error) *error = std::string("sqlite: ") + (msg ? msg : "error");
        sqlite3_free(msg);
        return false;
    }
    return true;
}

// One statement of `kept` run to its end, as exec() runs one.
inline bool exec(Kept& kept, sqlite3* db, const char* sql, std::string* error) {
    Stmt s(kept, db, sql);
    if (s.ok() && s.done()) return true;
    if (error) *error = std::string("sqlite: ") + sqlite3_errmsg(db);
    return false;
}

// BEGIN IMMEDIATE ... COMMIT; rolls back unless commit() succeeded. With a Kept, the three
// statements are kept there (for a transaction that runs every second).
class Txn {
  public:
    Txn(sqlite3* db, std::string* error, Kept* kept = nullptr) : db_(db), kept_(kept) {
        began_ = run("BEGIN IMMEDIATE", error);
    }
    ~Txn() {
        if (began_ && !committed_) run("ROLLBACK", nullptr);
    }
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;
    bool began() const { return began_; }
    bool commit(std::string* error) {
        committed_ = run("COMMIT", error);
        return committed_;
    }

  private:
    bool run(const char* sql, std::string* error) {
        return kept_ ? exec(*kept_, db_, sql, error) : exec(db_, sql, error);
    }

    sqlite3* db_;
    Kept* kept_;
    bool began_ = false;
    bool committed_ = false;
};

// --- file and schema --------------------------------------------------------------------------

// A path SQLite does not map to a plain file of that name ("", ":memory:", "file:" URIs).
inline bool special_path(const std::string& path) {
    return path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0;
}

// Drops group/other permissions of `path` (no-op when it does not exist).
inline bool restrict_mode(const std::string& path, std::string* error) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return errno == ENOENT;
    if ((st.st_mode & 077) == 0) return true;
    if (::chmod(path.c_str(), st.st_mode & 0700) != 0) {
        return fail_msg(error, "cannot chmod " + path + ": " + std::strerror(errno));
    }
    return true;
}

// Creates `path` 0600 when it does not exist, before SQLite sees it (SQLite gives its -wal
// and -shm files the database file's mode). Not for special_path() paths.
inline bool create_private(const std::string& path, std::string* error) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ::close(fd);
        return true;
    }
    if (errno == EEXIST) return true;
    return fail_msg(error, "cannot open " + path + ": " + std::strerror(errno));
}

// restrict_mode() of the database file and its -wal file: for a file whose tables were just
// created (it holds passwords now, whoever created the file).
inline bool restrict_db_files(const std::string& path, std::string* error) {
    return restrict_mode(path, error) && restrict_mode(path + "-wal", error);
}

// The version of `component` in schema_versions: 0 without a row, -1 (with *error) on error.
inline int read_version(sqlite3* db, std::string_view component, std::string* error) {
    Stmt q(db, "SELECT version FROM schema_versions WHERE component = ?1");
    if (!q.ok()) return fail(db, error, "schema_versions"), -1;
    q.text(1, component);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return static_cast<int>(q.col_int(0).value_or(0));
    if (rc != SQLITE_DONE) return fail(db, error, "schema_versions"), -1;
    return 0;
}

// Migrates `component` to version migrations.size() in one transaction: step i of
// `migrations` brings it from version i to i + 1. Refuses a database whose version is newer
// ("the database's <component> schema is version N, newer than this program's M").
// *created (when given): the component's tables were created now (it was at version 0).
inline bool migrate(sqlite3* db, std::string_view component,
                    std::span<const char* const> migrations, bool* created, std::string* error) {
    const int target = static_cast<int>(migrations.size());
    Txn txn(db, error);
    if (!txn.began()) return false;
    if (!exec(db,
              "CREATE TABLE IF NOT EXISTS schema_versions ("
              " component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
              error)) {
        return false;
    }
    const int version = read_version(db, component, error);
    if (version < 0) return false;
    if (version > target) {
        return fail_msg(error, "the database's " + std::string(component) + " schema is version " +
                                   std::to_string(version) + ", newer than this program's " +
                                   std::to_string(target));
    }
    for (int v = version; v < target; ++v) {
        if (!exec(db, migrations[static_cast<std::size_t>(v)], error)) return false;
    }
    if (version != target) {
        Stmt u(db,
               "INSERT INTO schema_versions(component, version) VALUES (?1, ?2) "
               "ON CONFLICT(component) DO UPDATE SET version = excluded.version");
        if (!u.ok()) return fail(db, error, "schema_versions");
        u.text(1, component);
        u.integer(2, target);
        if (!u.done()) return fail(db, error, "schema_versions");
    }
    if (created) *created = version == 0;
    return txn.commit(error);
}

// Opens (creating) a shared database file that will hold passwords for `component`: a new
// file is created 0600 before SQLite sees it, WAL is turned on, the component migrated
// (migrate()), and a file first given the component's tables is restricted like a new one,
// whoever created it (restrict_db_files()). Returns the connection (busy timeout 5 s), or
// nullptr with *error set ("cannot open PATH: ...", "PATH: <migration error>").
inline sqlite3* open_private_db(const std::string& path, std::string_view component,
                                std::span<const char* const> migrations, std::string* error) {
    const bool special = special_path(path);
    if (!special && !create_private(path, error)) return nullptr;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
        fail_msg(error, "cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
        sqlite3_close(db);
        return nullptr;
    }
    sqlite3_busy_timeout(db, 5000);
    std::string err;
    bool created = false;
    if (!exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", &err) ||
        !migrate(db, component, migrations, &created, &err)) {
        fail_msg(error, path + ": " + err);
        sqlite3_close(db);
        return nullptr;
    }
    if (created && !special && !restrict_db_files(path, &err)) {
        fail_msg(error, err);
        sqlite3_close(db);
        return nullptr;
    }
    return db;
}

// A conditional write's precondition against its row as it is now (inside the caller's
// write transaction, so nothing lands between the check and the write). `P` is a store's
// Precondition: `row` (Row::any / absent / present) and `versions` (non-empty: the row's
// version must be one of them). `select_version` selects the row's version by ?1 = `key`.
enum class RowCheck : std::uint8_t { ok, exists, missing, stale, failed };

template <class P>
RowCheck check_row(sqlite3* db, const char* select_version, std::string_view key, const P& p,
                   std::string* error) {
    Stmt s(db, select_version);
    if (!s.ok()) return fail(db, error, "precondition"), RowCheck::failed;
    s.text(1, key);
    const int rc = s.step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(db, error, "precondition"), RowCheck::failed;
    const bool present = rc == SQLITE_ROW;
    if (present && p.row == P::Row::absent) return RowCheck::exists;
    if (!present && p.row == P::Row::present) return RowCheck::missing;
    if (p.versions.empty()) return RowCheck::ok;
    if (!present) return RowCheck::missing;
    const std::int64_t v = s.col_i64(0);
    for (std::int64_t want : p.versions)
        if (want == v) return RowCheck::ok;
    return RowCheck::stale;
}

// A store's WriteOutcome (done, exists, missing, stale, failed: the same names in every
// store's public header, which cannot include this one) for a check_row() result.
template <class Outcome>
Outcome as_outcome(RowCheck c) {
    switch (c) {
        case RowCheck::ok: return Outcome::done;
        case RowCheck::exists: return Outcome::exists;
        case RowCheck::missing: return Outcome::missing;
        case RowCheck::stale: return Outcome::stale;
        case RowCheck::failed: break;
    }
    return Outcome::failed;
}

// The transport columns hold sip::transport_name() ("UDP", "TCP", "TLS").
inline std::optional<sip::Transport> parse_transport(std::string_view t) {
    if (t == "UDP") return sip::Transport::Udp;
    if (t == "TCP") return sip::Transport::Tcp;
    if (t == "TLS") return sip::Transport::Tls;
    return std::nullopt;
}

}  // namespace route::sqlite

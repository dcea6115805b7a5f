#include "sw/api/sqlite/store.hpp"

#include <array>

#include "route/sqlite/db.hpp"

namespace sw::api::sqlite {

using route::sqlite::exec;
using route::sqlite::fail;
using route::sqlite::Stmt;
using route::sqlite::Txn;

namespace {

constexpr std::array<const char*, 1> kMigrations = {
    // 0 -> 1: tokens by name; the hash is unique (two names for one secret make no sense)
    "CREATE TABLE api_tokens ("
    " name TEXT PRIMARY KEY,"
    " scope TEXT NOT NULL CHECK (scope IN ('read', 'admin')),"
    " sha256 TEXT NOT NULL UNIQUE,"
    " created_ms INTEGER NOT NULL);"
    "CREATE TABLE api_tokens_version ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);"
    "INSERT INTO api_tokens_version(id, version) VALUES (1, 0);",
};

}  // namespace

std::unique_ptr<Store> Store::open(const std::string& path, std::string* error) {
    // private file mode, WAL, migrations: the same as every store of the shared file (the
    // token hashes are no secrets, but the file holds HA1s and balances too)
    sqlite3* db = route::sqlite::open_private_db(path, "api", kMigrations, error);
    if (!db) return nullptr;
    return std::unique_ptr<Store>(new Store(db));
}

Store::Store(sqlite3* db) : db_(db), kept_(std::make_unique<route::sqlite::Kept>()) {}

Store::~Store() {
    kept_->clear();
    sqlite3_close(db_);
}

bool Store::bump(std::string* error) {
    Stmt u(db_, "UPDATE api_tokens_version SET version = version + 1 WHERE id = 1");
    return (u.ok() && u.done()) || fail(db_, error, "api_tokens_version");
}

std::optional<bool> Store::add(const TokenRow& t, std::string* error) {
    Txn txn(db_, error);
    if (!txn.began()) return std::nullopt;
    Stmt s(db_,
           "INSERT INTO api_tokens(name, scope, sha256, created_ms) VALUES (?1, ?2, ?3, ?4) "
           "ON CONFLICT(name) DO NOTHING");
    if (!s.ok()) return fail(db_, error, "api_tokens"), std::nullopt;
    s.text(1, t.name);
    s.text(2, t.scope);
    s.text(3, t.sha256_hex);
    s.integer(4, t.created_ms);
    if (!s.done()) return fail(db_, error, "api_tokens"), std::nullopt;
    if (sqlite3_changes(db_) == 0) return false;
    if (!bump(error) || !txn.commit(error)) return std::nullopt;
    return true;
}

std::optional<std::vector<TokenRow>> Store::list(std::string* error) {
    Stmt q(db_, "SELECT name, scope, sha256, created_ms FROM api_tokens ORDER BY name");
    if (!q.ok()) return fail(db_, error, "api_tokens"), std::nullopt;
    std::vector<TokenRow> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
        out.push_back({q.col_text(0), q.col_text(1), q.col_text(2), q.col_i64(3)});
    if (rc != SQLITE_DONE) return fail(db_, error, "api_tokens"), std::nullopt;
    return out;
}

std::optional<bool> Store::remove(const std::string& name, std::string* error) {
    Txn txn(db_, error);
    if (!txn.began()) return std::nullopt;
    Stmt d(db_, "DELETE FROM api_tokens WHERE name = ?1");
    if (!d.ok()) return fail(db_, error, "api_tokens"), std::nullopt;
    d.text(1, name);
    if (!d.done()) return fail(db_, error, "api_tokens"), std::nullopt;
    if (sqlite3_changes(db_) == 0) return false;
    if (!bump(error) || !txn.commit(error)) return std::nullopt;
    return true;
}

std::optional<std::int64_t> Store::version(std::string* error) {
    Stmt q(*kept_, db_, "SELECT version FROM api_tokens_version WHERE id = 1");
    if (!q.ok()) return fail(db_, error, "api_tokens_version"), std::nullopt;
    if (q.step() != SQLITE_ROW) return fail(db_, error, "api_tokens_version"), std::nullopt;
    return q.col_i64(0);
}

}  // namespace sw::api::sqlite

// route::sqlite — the small SQLite helpers the libroute adapters share (route_domain_sqlite,
// route_reg_sqlite): a prepared statement, a transaction guard, error helpers. Internal to
// the adapters: header-only, not installed, the only other libroute place with <sqlite3.h>.
//
//   route::sqlite::Txn txn(db, error);                 // BEGIN IMMEDIATE; ROLLBACK unless
//   if (!txn.began()) return false;                    // commit() succeeded
//   route::sqlite::Stmt s(db, "INSERT INTO t(a, b) VALUES (?1, ?2)");
//   if (!s.ok()) return route::sqlite::fail(db, error, "t");
//   s.text(1, name);  s.opt_integer(2, port);
//   if (!s.done()) return route::sqlite::fail(db, error, "t");
//   return txn.commit(error);
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "sip/transport.hpp"

namespace route::sqlite {

class Stmt {
  public:
    Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
    ~Stmt() { sqlite3_finalize(s_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    bool ok() const { return rc_ == SQLITE_OK; }
    void text(int i, std::string_view v) {
        sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
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
};

// "what: <sqlite's message>" in *error; returns false.
inline bool fail(sqlite3* db, std::string* error, const std::string& what) {
    if (error) *error = what + ": " + sqlite3_errmsg(db);
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

// BEGIN IMMEDIATE ... COMMIT; rolls back unless commit() succeeded.
class Txn {
  public:
    Txn(sqlite3* db, std::string* error) : db_(db) { began_ = exec(db, "BEGIN IMMEDIATE", error); }
    ~Txn() {
        if (began_ && !committed_) exec(db_, "ROLLBACK", nullptr);
    }
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;
    bool began() const { return began_; }
    bool commit(std::string* error) {
        committed_ = exec(db_, "COMMIT", error);
        return committed_;
    }

  private:
    sqlite3* db_;
    bool began_ = false;
    bool committed_ = false;
};

// The transport columns hold sip::transport_name() ("UDP", "TCP", "TLS").
inline std::optional<sip::Transport> parse_transport(std::string_view t) {
    if (t == "UDP") return sip::Transport::Udp;
    if (t == "TCP") return sip::Transport::Tcp;
    if (t == "TLS") return sip::Transport::Tls;
    return std::nullopt;
}

}  // namespace route::sqlite

// route::sqlite::Kept, the statements the stores keep for the switch's once-a-second polls,
// on a real SQLite file: one preparation reused, each use leaving the statement reset and
// unbound, a failed preparation kept out, the kept BEGIN/COMMIT/ROLLBACK of Txn, a schema
// change by another connection, and why clear() must come before sqlite3_close().
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <string>

#include "route/sqlite/db.hpp"
#include "sqlite_fixture.hpp"

using route::sqlite::Kept;
using route::sqlite::Stmt;
using route::sqlite::Txn;

namespace {

struct Db {
    test::TempDir tmp{"kept_test"};
    std::string path = tmp.path("k.db");
    sqlite3* db = nullptr;
    Db() {
        REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
        REQUIRE(route::sqlite::exec(db, "CREATE TABLE t(a INTEGER, b TEXT)", nullptr));
    }
    ~Db() { sqlite3_close(db); }
    std::int64_t count() {
        Stmt s(db, "SELECT count(*) FROM t");
        REQUIRE(s.step() == SQLITE_ROW);
        return s.col_i64(0);
    }
};

constexpr const char* kInsert = "INSERT INTO t(a, b) VALUES (?1, ?2)";

}  // namespace

TEST_CASE("a kept statement is prepared once and left reset and unbound after each use") {
    Db d;
    Kept kept;
    int rc = 0;
    sqlite3_stmt* first = kept.get(d.db, kInsert, &rc);
    REQUIRE(rc == SQLITE_OK);
    // the same text from another buffer finds the same statement
    const std::string copy(kInsert);
    CHECK(kept.get(d.db, copy.c_str(), &rc) == first);
    {
        Stmt s(kept, d.db, kInsert);
        REQUIRE(s.ok());
        s.integer(1, 7);
        s.text(2, "seven");
        CHECK(s.done());
    }
    CHECK_FALSE(sqlite3_stmt_busy(first));
    {
        Stmt s(kept, d.db, kInsert);  // no binding: the last use's values are gone
        CHECK(s.done());
    }
    Stmt q(d.db, "SELECT count(*) FROM t WHERE a IS NULL AND b IS NULL");
    REQUIRE(q.step() == SQLITE_ROW);
    CHECK(q.col_i64(0) == 1);
    CHECK(d.count() == 2);
}

TEST_CASE("a kept SELECT left on a row is reset: it holds no read snapshot afterwards") {
    Db d;
    Kept kept;
    {
        Stmt s(kept, d.db, "SELECT count(*) FROM t");
        REQUIRE(s.step() == SQLITE_ROW);  // not stepped to its end
    }
    int rc = 0;
    CHECK_FALSE(sqlite3_stmt_busy(kept.get(d.db, "SELECT count(*) FROM t", &rc)));
    std::string error;
    Txn txn(d.db, &error, &kept);
    REQUIRE(txn.began());
    CHECK(txn.commit(&error));
}

TEST_CASE("a statement that fails to prepare is not kept and says why") {
    Db d;
    Kept kept;
    {
        Stmt bad(kept, d.db, "SELECT x FROM missing");
        CHECK_FALSE(bad.ok());
    }
    std::string error;
    CHECK_FALSE(route::sqlite::exec(kept, d.db, "DELETE FROM missing", &error));
    CHECK(error == "sqlite: no such table: missing");
    CHECK(route::sqlite::exec(kept, d.db, "DELETE FROM t", &error));
    int prepared = 0;  // on the connection: only the good one, kept
    for (sqlite3_stmt* p = sqlite3_next_stmt(d.db, nullptr); p; p = sqlite3_next_stmt(d.db, p))
        ++prepared;
    CHECK(prepared == 1);
}

TEST_CASE("a transaction on kept statements commits, and rolls back unless committed") {
    Db d;
    Kept kept;
    std::string error;
    for (int i = 0; i < 3; ++i) {  // the same BEGIN and COMMIT each time
        Txn txn(d.db, &error, &kept);
        REQUIRE(txn.began());
        Stmt s(kept, d.db, kInsert);
        s.integer(1, i);
        REQUIRE(s.done());
        REQUIRE(txn.commit(&error));
    }
    CHECK(d.count() == 3);
    {
        Txn txn(d.db, &error, &kept);
        REQUIRE(txn.began());
        REQUIRE(route::sqlite::exec(kept, d.db, "DELETE FROM t", &error));
    }  // no commit: ROLLBACK
    CHECK(d.count() == 3);
    CHECK(sqlite3_get_autocommit(d.db) != 0);
}

TEST_CASE("a kept statement follows a schema change made by another connection") {
    Db d;
    Kept kept;
    {
        Stmt s(kept, d.db, "SELECT * FROM t");
        CHECK(s.step() == SQLITE_DONE);
    }
    test::Raw other(d.path);
    other.exec("ALTER TABLE t ADD COLUMN c TEXT DEFAULT 'new'");
    other.exec("INSERT INTO t(a) VALUES (1)");
    Stmt s(kept, d.db, "SELECT * FROM t");
    REQUIRE(s.step() == SQLITE_ROW);
    CHECK(s.col_text(2) == "new");  // re-prepared for the new column
}

TEST_CASE("the connection closes only after clear(): Kept goes before sqlite3_close") {
    Db d;
    Kept kept;
    {
        Stmt s(kept, d.db, "SELECT count(*) FROM t");
        REQUIRE(s.step() == SQLITE_ROW);
    }
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(d.path.c_str(), &db) == SQLITE_OK);
    Kept on_db;
    {
        Stmt s(on_db, db, "SELECT count(*) FROM t");
        REQUIRE(s.step() == SQLITE_ROW);
    }
    CHECK(sqlite3_close(db) == SQLITE_BUSY);  // a statement is still prepared on it
    on_db.clear();
    CHECK(sqlite3_close(db) == SQLITE_OK);
}

// Helpers for the tests of the SQLite stores (route_lcr_sqlite, route_reg_sqlite): a fresh
// temporary directory per test case, a file's permission bits, and independent access to a
// database file through the SQLite C API (not through the store under test).
//
//   test::TempDir tmp("reg_store_test");        // /tmp/reg_store_test.XXXXXX, removed after
//   const std::string db = tmp.path("t.db");
//   CHECK(test::mode_of(db) == 0600);
//   test::Raw raw(db);
//   CHECK(raw.scalar("SELECT version FROM schema_versions") == "1");
#pragma once

#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace test {

// A fresh directory per test case (<tmp>/<prefix>.XXXXXX), removed afterwards.
struct TempDir {
    std::filesystem::path dir;
    explicit TempDir(const char* prefix) {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / (std::string(prefix) + ".XXXXXX")).string();
        REQUIRE(mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string path(const char* name) const { return (dir / name).string(); }
};

// The permission bits of `path` (which must exist).
inline unsigned mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

// Independent access through the SQLite C API (not through the Store).
struct Raw {
    sqlite3* db = nullptr;
    explicit Raw(const std::string& path) { REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK); }
    ~Raw() { sqlite3_close(db); }
    Raw(const Raw&) = delete;
    Raw& operator=(const Raw&) = delete;
    void exec(const char* sql) {
        char* msg = nullptr;
        const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &msg);
        INFO((msg ? msg : ""));
        sqlite3_free(msg);
        REQUIRE(rc == SQLITE_OK);
    }
    // First column of the first row as text; "<none>" when there is no row, "<null>" for NULL.
    std::string scalar(const char* sql) {
        sqlite3_stmt* s = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK);
        std::string out = "<none>";
        if (sqlite3_step(s) == SQLITE_ROW) {
            const auto* p = sqlite3_column_text(s, 0);
            out = p ? reinterpret_cast<const char*>(p) : "<null>";
        }
        sqlite3_finalize(s);
        return out;
    }
};

}  // namespace test

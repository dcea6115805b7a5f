#include "backup_cmd.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "args.hpp"
#include "cli_util.hpp"

namespace trunkctl {

const char* const kBackupHelp =
    "usage: trunkctl [--db PATH] backup FILE [--json]\n"
    "\n"
    "Copies the database to FILE while trunkline runs (SQLite's online backup API): the\n"
    "copy is one committed state, then checked with PRAGMA integrity_check. FILE must not\n"
    "exist. --json: {\"backup\":FILE,\"pages\":N} after success.\n";

namespace {

// Pages per step: small enough that the CDR writer and trunkctl's other writers wait for
// the source's read lock only briefly between steps (a write restarts the copy, so the
// steps must also be quick enough to finish under a steady CDR load).
constexpr int kPagesPerStep = 256;
constexpr int kBusyMs = 5000;

struct Db {
    sqlite3* h = nullptr;
    ~Db() { sqlite3_close(h); }
};

int fail(const std::string& msg) {
    std::cerr << "trunkctl backup: " << msg << "\n";
    return 1;
}

std::string integrity(sqlite3* h) {
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, nullptr) != SQLITE_OK)
        return sqlite3_errmsg(h);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (!out.empty()) out += "; ";
        out += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return out;
}

}  // namespace

int cmd_backup(const std::string& db, int argc, char** argv, int first) {
    Args a;
    if (!a.parse(argc, argv, first, {{}, {"--help", "--json"}})) {
        std::cerr << "trunkctl: " << a.error() << "\n" << kBackupHelp;
        return 2;
    }
    if (a.flag("--help")) {
        std::cout << kBackupHelp;
        return 0;
    }
    if (a.positionals().size() != 1) {
        std::cerr << "trunkctl: backup needs FILE\n" << kBackupHelp;
        return 2;
    }
    const std::string& file = a.positionals()[0];
    std::error_code ec;
    if (!std::filesystem::exists(db, ec)) return fail("no database at " + db);
    if (std::filesystem::exists(file, ec)) return fail(file + " exists");
    Db src, dst;
    if (sqlite3_open_v2(db.c_str(), &src.h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
        return fail(db + ": " + sqlite3_errmsg(src.h));
    sqlite3_busy_timeout(src.h, kBusyMs);
    if (sqlite3_open_v2(file.c_str(), &dst.h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        nullptr) != SQLITE_OK)
        return fail(file + ": " + sqlite3_errmsg(dst.h));
    sqlite3_backup* b = sqlite3_backup_init(dst.h, "main", src.h, "main");
    if (b == nullptr) return fail(sqlite3_errmsg(dst.h));
    int rc;
    do {
        rc = sqlite3_backup_step(b, kPagesPerStep);
        // the source is locked by a writer for a moment: wait and go on (a change made
        // between steps restarts the copy inside SQLite, so the result stays consistent)
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(20);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    const int pages = sqlite3_backup_pagecount(b);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        std::string e = sqlite3_errstr(rc);
        std::filesystem::remove(file, ec);
        return fail(e);
    }
    if (std::string check = integrity(dst.h); check != "ok")
        return fail(file + ": integrity_check: " + check);
    return cli::done(a, "backup: " + std::to_string(pages) + " pages to " + file + "\n",
                     {{"backup", cli::json_text(file)}, {"pages", std::to_string(pages)}});
}

}  // namespace trunkctl

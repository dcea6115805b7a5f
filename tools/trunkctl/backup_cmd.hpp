// `trunkctl backup FILE`: a consistent copy of the database while trunkline runs, through
// SQLite's online backup API (sqlite3_backup_init/step/finish). Copying the file with cp
// while the CDR writer commits can tear a page or miss the WAL; the backup API copies pages
// under a read transaction and restarts when another connection writes, so the copy is one
// committed state. Called by trunkctl's dispatcher:
// `if (cmd == "backup") return trunkctl::cmd_backup(db, argc, argv, i + 1);`
//
//   trunkctl --db /var/lib/trunkline/trunkline.db backup /srv/backup/trunkline-2026-12-05.db
//   # prints "backup: 1234 pages to /srv/backup/trunkline-2026-12-05.db"
//
// FILE must not exist (an old backup is never overwritten by accident). Exit codes: 0 ok,
// 1 runtime error (database missing, FILE exists, disk full, integrity check failed),
// 2 usage error.
#pragma once

#include <string>

namespace trunkctl {

int cmd_backup(const std::string& db, int argc, char** argv, int first);
extern const char* const kBackupHelp;

}  // namespace trunkctl

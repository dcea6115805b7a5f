// route::domain::sqlite::Store — operators' domain entries and the last status report of
// each, in the shared SQLite file (default var/trunkline.db, shared with billing).
//
//   std::string err;
//   auto store = Store::open("var/trunkline.db", &err);      // creates/migrates the schema
//   store->put({.name = "sip.carrier.com", .port = 5060}, &err);
//   for (const EntrySpec& e : store->entries(&err)) cache.add(e, now);
//
// Schema versions: SQLite has one PRAGMA user_version per file and billing owns it, so this
// component keeps its own row in `schema_versions(component TEXT PRIMARY KEY, version
// INTEGER)` (component 'domain') and migrates inside one transaction. Tables: domain_entry,
// domain_status, domain_entry_version. Each entry carries a `version`: the entries' counter
// (entries_version()) when the row was last written, stamped by the same triggers that move
// the counter, so it moves with every write whoever writes (trunkctl, the API, the sqlite3
// shell) and never repeats, even for an entry removed and added again (the management API's
// ETag). Errors are values: false / nullopt with `*error` set (never an exception).
// The only code that includes <sqlite3.h> for route_domain.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "route/domain/cache.hpp"

struct sqlite3;
namespace route::sqlite {
class Kept;
}

namespace route::domain::sqlite {

// A write's precondition on the named entry, checked inside the write's transaction, so a
// write that lands in between (trunkctl, another API client) is never overwritten: the
// management API's create (the name must be free) and If-Match (the entry's version).
struct Precondition {
    enum class Row : std::uint8_t { any, absent, present };
    Row row = Row::any;
    std::vector<std::int64_t> versions;  // non-empty: the entry's version must be one of these
};
// done; exists (Row::absent failed), missing (Row::present failed or nothing to remove),
// stale (versions did not match); failed: *error says why. Nothing is written unless done.
enum class WriteOutcome : std::uint8_t { done, exists, missing, stale, failed };

// An entry and its version.
struct VersionedEntry {
    EntrySpec spec;
    std::int64_t version = 0;
};

// The last status report of an entry, with wall-clock times (Unix seconds, UTC).
struct StatusRecord {
    std::string name;
    std::int64_t recorded_at = 0;
    std::string state;      // "ok", "stale", "failed", "unresolved"
    std::string addresses;  // in use order, comma separated
    std::optional<std::int64_t> changed_at;
    std::string change_reason;
    std::string last_error;  // "timeout (A x.test: timeout)"
    std::optional<std::int64_t> last_error_at;
    std::string report;  // format_status() text
};

class Store {
  public:
    static constexpr int kSchemaVersion = 3;

    static std::unique_ptr<Store> open(const std::string& path, std::string* error);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    bool put(const EntrySpec& e, std::string* error);  // insert or update by name
    // false with `*error` empty when there was no such entry.
    bool remove(std::string_view name, std::string* error);
    std::optional<EntrySpec> get(std::string_view name, std::string* error);
    std::vector<EntrySpec> entries(std::string* error);  // by name
    // The same writes under a precondition (see Precondition), and the reads with versions
    // (get: nullopt with *error empty when there is no such entry).
    WriteOutcome put(const EntrySpec& e, const Precondition& p, std::string* error);
    WriteOutcome remove(std::string_view name, const Precondition& p, std::string* error);
    std::optional<VersionedEntry> get_versioned(std::string_view name, std::string* error);
    std::vector<VersionedEntry> versioned_entries(std::string* error);  // by name
    // Moves with every insert, update or delete of an entry, whoever writes (one row read:
    // poll it, and read entries() only when it moved). nullopt + *error on failure.
    std::optional<std::int64_t> entries_version(std::string* error);

    bool save_status(const StatusRecord& s, std::string* error);
    std::optional<StatusRecord> status(std::string_view name, std::string* error);

    int schema_version(std::string* error);

  private:
    explicit Store(sqlite3* db);
    bool migrate(std::string* error);
    sqlite3* db_;
    std::unique_ptr<route::sqlite::Kept> kept_;  // what the switch polls every second
};

}  // namespace route::domain::sqlite

// route::reg::sqlite::Store — registration state in the operators' SQLite file (default
// var/trunkline.db, shared with billing and the domain entries): SIP users as HA1 hashes,
// registrar bindings, outbound (carrier) registration entries and their live state,
// suspensions, and the operator commands trunkctl leaves for a running trunkline.
//
//   std::string err;
//   auto store = Store::open("var/trunkline.db", &err);          // creates/migrates
//   store->put_user({.username = "alice", .realm = "trunkline", .ha1 = {...}}, &err);
//   for (const StoredBinding& b : store->bindings(&err)) ...      // restore the Location
//   store->apply_bindings(changes, &err);                         // one transaction
//   if (store->data_version(&err) != last)                        // another connection wrote
//       if (store->change_versions(&err)["sip_user"] != seen) reload_users();
//
// Schema: component 'reg' in schema_versions(component, version), migrated in one
// transaction (same scheme as route_domain_sqlite). Tables: sip_user, reg_binding,
// trunk_reg, trunk_reg_state, reg_suspension, reg_command, reg_table_version (the
// operators' tables' change counters, kept by triggers). The rows of sip_user and trunk_reg
// carry a `version`: their table's counter when the row was last written, stamped by the same
// triggers, so it moves with every write whoever writes and never repeats, even for a row
// removed and added again (the management API's ETag). Times are wall-clock Unix
// milliseconds (UTC) because a restart must compare them with a new clock. Passwords of SIP
// users are never stored: only HA1 per algorithm (RFC 7616 §3.4.2). Outbound registration
// passwords must be stored in clear (the carrier's realm is only known from its challenge),
// so open() creates the file with mode 0600 and `trunkctl trunk-reg list/show` never print it.
//
// Errors are values: false / nullopt / empty with `*error` set (never an exception). The only
// code that includes <sqlite3.h> for route_reg. Not thread-safe; one Store per process/loop.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "route/reg/client.hpp"
#include "route/reg/location.hpp"
#include "route/reg/trunk_reg.hpp"
#include "sip/auth/hasher.hpp"

struct sqlite3;
namespace route::sqlite {
class Kept;
}

namespace route::reg::sqlite {

struct SipUser {
    std::string username;
    std::string realm;
    // HA1 = H(user:realm:password), lowercase hex, per base algorithm (MD5, SHA256,
    // SHA512_256: the -sess variants derive from these). trunkctl writes all three.
    std::map<sip::auth::Algorithm, std::string> ha1;
    bool enabled = true;
    std::int64_t created_ms = 0;  // set by put_user when 0
    std::int64_t updated_ms = 0;  // set by put_user
};

// A binding as stored: Binding::expires_at is not meaningful across processes, so the
// wall-clock expiry is kept beside it.
struct StoredBinding {
    std::string aor;
    Binding binding;  // expires_at ignored
    std::int64_t expires_ms = 0;
};

// One change for apply_bindings(): upsert (binding set) or delete (contact only).
struct BindingChange {
    std::string aor;
    std::string contact;                   // for delete; upsert uses binding->contact
    std::optional<StoredBinding> binding;  // nullopt: delete (aor, contact)
};

// An outbound registration entry as the operator configured it (route/reg/trunk_reg.hpp).
using TrunkReg = route::reg::TrunkReg;

// The live state trunkline writes for `trunkctl trunk-reg show`, and the crash-recovery
// record (issue 6 item 9) it reads back at start.
struct TrunkRegState {
    std::string name;
    Persisted persisted;  // call_id, cseq, contact_uri (expires_at ignored)
    std::string state;    // route::reg::state_name()
    std::string reason;
    std::optional<std::int64_t> expires_ms;       // binding expiry, wall clock
    std::optional<std::int64_t> next_attempt_ms;  // refresh or retry, wall clock
    std::uint16_t last_code = 0;
    std::string last_reason_phrase;
    std::uint32_t consecutive_failures = 0;
    std::int64_t updated_ms = 0;
    // Stopped with nothing left at the registrar that was meant to go (unregister confirmed,
    // nothing to remove, send_unregister off); false after an unanswered unregister.
    bool clean_stop = false;
    std::string registrar;  // where the REGISTERs go ("192.0.2.10:5060/UDP"); empty: nowhere
    // The registrar's host name through the domain cache (sw::TrunkDnsState); dns_name empty:
    // the server is an IP literal.
    std::string dns_name;   // the cache key: "carrier.example", "carrier.example:5080"
    std::string dns_state;  // "ok", "stale", "failed", "resolving"
    std::string dns_error;  // stale / failed: "NXDOMAIN (A carrier.example: NXDOMAIN)"
    std::optional<std::int64_t> dns_since_ms;  // stale / failed since (wall clock)
    std::optional<std::int64_t> dns_until_ms;  // stale: the answer is dropped then
};

struct SuspensionRecord {
    std::string key;  // user name or IP literal
    // route::reg::Suspension::Kind: 0 a user, 1 an IP, 2 a user at one IP (the peer)
    int kind = 0;
    std::int64_t until_ms = 0;
    std::string peer;  // route::reg::Suspension::peer: the user's IP / the IP's user
    bool ip() const noexcept { return kind == 1; }
    bool pair() const noexcept { return kind == 2; }
};

// A write-behind change of the suspension table (trunkline's writer thread).
struct SuspensionChange {
    SuspensionRecord record;
    bool remove = false;  // remove (record.key, record.kind, its pair IP)
};

// A write's precondition on the named row, checked inside the write's transaction, so a
// write that lands in between (trunkctl, another API client) is never overwritten: the
// management API's create (the name must be free) and If-Match (the row's version).
struct Precondition {
    enum class Row : std::uint8_t { any, absent, present };
    Row row = Row::any;
    std::vector<std::int64_t> versions;  // non-empty: the row's version must be one of these
};
// done; exists (Row::absent failed), missing (Row::present failed or nothing to remove),
// stale (versions did not match); failed: *error says why. Nothing is written unless done.
enum class WriteOutcome : std::uint8_t { done, exists, missing, stale, failed };

// A carrier entry and its version.
struct VersionedTrunkReg {
    TrunkReg reg;
    std::int64_t version = 0;
};

// A request from trunkctl to the running trunkline (consumed with take_commands()).
struct Command {
    std::int64_t id = 0;
    // "lift" (arg: user or IP), "unbind" (arg: "AOR" or "AOR CONTACT"), "unbind-user"
    // (arg: user name), "hangup" (arg: call id)
    std::string kind;
    std::string arg;
    std::int64_t created_ms = 0;
};

class Store {
  public:
    static constexpr int kSchemaVersion = 5;

    static std::unique_ptr<Store> open(const std::string& path, std::string* error);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // PRAGMA data_version: changes when another connection committed (cheap; poll it). It
    // moves with every commit of the file (CDRs, bindings), so it only says "look closer".
    std::optional<std::int64_t> data_version(std::string* error);
    // Table name -> change counter ("sip_user", "trunk_reg"), bumped by triggers in the same
    // transaction as any write to that table: read it before loading the table, and a change
    // committed during the load leaves a newer counter. Empty + *error on failure.
    std::map<std::string, std::int64_t> change_versions(std::string* error);

    // --- SIP users (registrar credentials)
    bool put_user(const SipUser& u, std::string* error);  // insert or replace by username
    bool remove_user(std::string_view username, std::string* error);  // false+empty: none
    std::optional<SipUser> user(std::string_view username, std::string* error);
    std::vector<SipUser> users(std::string* error);  // by username
    // The row's version (nullopt with *error empty: no such user), and a removal under a
    // precondition (see Precondition).
    std::optional<std::int64_t> user_version(std::string_view username, std::string* error);
    WriteOutcome remove_user(std::string_view username, const Precondition& p,
                             std::string* error);

    // --- registrar bindings (write-behind from trunkline; restored at start)
    bool apply_bindings(const std::vector<BindingChange>& changes, std::string* error);
    std::vector<StoredBinding> bindings(std::string* error);  // all rows, by aor, contact
    // Deletes the bindings of `aor` (every one, or the one whose contact matches `contact`
    // by Location::contact_key); returns how many. trunkline, if running, must be told too
    // (add_command("unbind", ...)): it holds the bindings in memory.
    std::optional<std::size_t> remove_bindings(std::string_view aor, std::string_view contact,
                                               std::string* error);
    // Deletes rows with expires_ms <= now_ms; returns how many.
    std::optional<std::size_t> purge_bindings(std::int64_t now_ms, std::string* error);

    // --- outbound registration entries and their state
    bool put_trunk_reg(const TrunkReg& r, std::string* error);         // insert or update by name
    bool remove_trunk_reg(std::string_view name, std::string* error);  // keeps its state row
    std::optional<TrunkReg> trunk_reg(std::string_view name, std::string* error);
    std::vector<TrunkReg> trunk_regs(std::string* error);  // by name
    // The same with versions, and the writes under a precondition (see Precondition).
    std::optional<VersionedTrunkReg> versioned_trunk_reg(std::string_view name, std::string* error);
    std::vector<VersionedTrunkReg> versioned_trunk_regs(std::string* error);  // by name
    WriteOutcome put_trunk_reg(const TrunkReg& r, const Precondition& p, std::string* error);
    WriteOutcome remove_trunk_reg(std::string_view name, const Precondition& p,
                                  std::string* error);
    bool save_trunk_state(const TrunkRegState& s, std::string* error);
    std::optional<TrunkRegState> trunk_state(std::string_view name, std::string* error);
    std::vector<TrunkRegState> trunk_states(std::string* error);  // by name
    bool remove_trunk_state(std::string_view name, std::string* error);

    // --- suspensions (written by trunkline from registrar events, read by trunkctl)
    bool put_suspension(const SuspensionRecord& s, std::string* error);  // by (key, kind, pair IP)
    // One suspension: (key, kind) and for a pair its IP (`address`).
    bool remove_suspension(std::string_view key, int kind, std::string_view address,
                           std::string* error);
    // Every suspension naming `key`: as its user or IP, or as the IP of a pair.
    bool remove_suspensions(std::string_view key, std::string* error);
    std::vector<SuspensionRecord> suspensions(std::string* error);  // by until_ms
    // Many changes in one transaction, in order; all or nothing.
    bool apply_suspensions(const std::vector<SuspensionChange>& changes, std::string* error);

    // --- operator commands
    bool add_command(std::string_view kind, std::string_view arg, std::string* error);
    // Returns the pending commands in id order and deletes them, in one transaction; an
    // empty queue is seen by a read alone (no write lock: the switch polls it every second).
    std::vector<Command> take_commands(std::string* error);

    int schema_version(std::string* error);

  private:
    explicit Store(sqlite3* db);
    sqlite3* db_;
    std::unique_ptr<route::sqlite::Kept> kept_;  // what the switch polls every second
};

}  // namespace route::reg::sqlite

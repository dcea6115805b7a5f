// SQLite persistence of customer (mapping) gateways, vendor (routing) gateways and gateway
// groups (DESIGN.md §2: the only route_lcr code that includes <sqlite3.h>). Same scheme as
// route_reg_sqlite: one row in schema_versions (component 'lcr'), statements prepared per
// call with bound parameters, errors as values. Every put/remove also bumps its table's row
// in lcr_table_version inside the same transaction, so a poller that reads the versions and
// the rows in one read transaction (load()) never misses a commit.
//
// Lists (prefixes, ips, allow/deny) are stored as comma-joined text; NULL is the empty list,
// so {} and {""} (a vendor prefix "" matches every number) stay different. An element that
// contains ',' is refused by put_*.
#include "route/lcr/sqlite/store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "route/sqlite/db.hpp"

namespace route::lcr::sqlite {

using route::sqlite::exec;
using route::sqlite::fail;
using route::sqlite::fail_msg;
using route::sqlite::Stmt;
using route::sqlite::Txn;

namespace {

constexpr int kSchemaVersion = 3;

// Migration steps; step i brings the component from version i to i + 1.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE lcr_customer (
    name                 TEXT PRIMARY KEY,
    account              TEXT NOT NULL DEFAULT '',
    auth                 TEXT NOT NULL CHECK (auth IN ('ip', 'ip_port', 'digest')),
    ips                  TEXT,
    sip_user             TEXT NOT NULL DEFAULT '',
    priority             INTEGER NOT NULL DEFAULT 0,
    line_limit           INTEGER NOT NULL DEFAULT 0,
    cps_limit            INTEGER NOT NULL DEFAULT 0,
    dest_prefix_limit    INTEGER NOT NULL DEFAULT 0,
    caller_allow         TEXT,
    caller_deny          TEXT,
    callee_allow         TEXT,
    callee_deny          TEXT,
    caller_rewrite       TEXT NOT NULL DEFAULT '',
    callee_rewrite       TEXT NOT NULL DEFAULT '',
    restriction          TEXT NOT NULL CHECK (restriction IN
                             ('none', 'call_out_barring', 'call_in_barring', 'all')),
    max_rate_type        INTEGER NOT NULL DEFAULT 3 CHECK (max_rate_type BETWEEN 0 AND 3),
    proceeding_timeout_s INTEGER NOT NULL DEFAULT 0,
    enabled              INTEGER NOT NULL DEFAULT 1,
    created_ms           INTEGER NOT NULL,
    updated_ms           INTEGER NOT NULL
);
CREATE TABLE lcr_vendor (
    name                TEXT PRIMARY KEY,
    prefixes            TEXT,
    priority            INTEGER NOT NULL DEFAULT 0,
    line_limit          INTEGER NOT NULL DEFAULT 0,
    cps_limit           INTEGER NOT NULL DEFAULT 0,
    group_name          TEXT NOT NULL DEFAULT '',
    reserved_lines      INTEGER NOT NULL DEFAULT 0,
    protect             INTEGER NOT NULL DEFAULT 0,
    lowest_profit_per_s INTEGER,
    max_minute_rate     INTEGER,
    check_rate          INTEGER NOT NULL DEFAULT 0,
    enabled             INTEGER NOT NULL DEFAULT 1,
    vendor_account      TEXT NOT NULL DEFAULT '',
    host                TEXT NOT NULL DEFAULT '',
    port                INTEGER NOT NULL DEFAULT 0 CHECK (port BETWEEN 0 AND 65535),
    transport           TEXT NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp', 'tcp', 'tls')),
    outbound_proxy      TEXT NOT NULL DEFAULT '',
    host_name           TEXT NOT NULL DEFAULT '',
    caller_rewrite      TEXT NOT NULL DEFAULT '',
    callee_rewrite      TEXT NOT NULL DEFAULT '',
    probe               INTEGER NOT NULL DEFAULT 1,
    created_ms          INTEGER NOT NULL,
    updated_ms          INTEGER NOT NULL
);
CREATE TABLE lcr_group (
    name       TEXT PRIMARY KEY,
    line_limit INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE lcr_table_version (
    name    TEXT PRIMARY KEY CHECK (name IN ('customer', 'vendor', 'group')),
    version INTEGER NOT NULL
);
INSERT INTO lcr_table_version(name, version) VALUES ('customer', 0), ('vendor', 0), ('group', 0);
)sql",
    // 2: the running switch's calls, published once a second for trunkctl call list
    R"sql(
CREATE TABLE lcr_active_call (
    id             INTEGER PRIMARY KEY,
    customer       TEXT NOT NULL,
    vendor_gateway TEXT NOT NULL,
    caller         TEXT NOT NULL,
    callee         TEXT NOT NULL,
    state          TEXT NOT NULL,
    setup_ms       INTEGER NOT NULL,
    answer_ms      INTEGER,
    call_id_in     TEXT NOT NULL,
    call_id_out    TEXT NOT NULL
);
CREATE TABLE lcr_gateway_live (
    name          TEXT PRIMARY KEY,
    current_calls INTEGER NOT NULL,
    total_calls   INTEGER NOT NULL,
    answered      INTEGER NOT NULL,
    down          INTEGER NOT NULL,
    down_reason   TEXT NOT NULL,
    down_since_ms INTEGER
);
CREATE TABLE lcr_active_call_meta (
    one          INTEGER PRIMARY KEY CHECK (one = 1),
    published_ms INTEGER NOT NULL
);
)sql",
    // 3: a version per row (the table's version when the row was last written): the
    // management API's ETag
    R"sql(
ALTER TABLE lcr_customer ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lcr_vendor ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lcr_group ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
UPDATE lcr_customer SET version = (SELECT version FROM lcr_table_version WHERE name = 'customer');
UPDATE lcr_vendor SET version = (SELECT version FROM lcr_table_version WHERE name = 'vendor');
UPDATE lcr_group SET version = (SELECT version FROM lcr_table_version WHERE name = 'group');
)sql",
};
constexpr int kSteps = sizeof kMigrations / sizeof kMigrations[0];
static_assert(kSteps == kSchemaVersion);

std::int64_t unix_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void clear(std::string* error) {
    if (error) error->clear();
}

// --- lists as comma-joined text (NULL = empty list) ---------------------------------------

void bind_list(Stmt& s, int i, const std::vector<std::string>& v) {
    if (v.empty()) {
        s.null(i);
        return;
    }
    std::string out;
    for (std::size_t k = 0; k < v.size(); ++k) {
        if (k) out += ',';
        out += v[k];
    }
    s.text(i, out);
}

std::vector<std::string> read_list(Stmt& s, int i) {
    std::vector<std::string> out;
    if (s.col_null(i)) return out;
    const std::string text = s.col_text(i);
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = text.find(',', start);
        out.push_back(text.substr(start, comma == std::string::npos ? std::string::npos
                                                                    : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

// "put_customer acme: ips entry 'a,b' contains ','" when an element would not round-trip.
bool check_list(const std::string& what, const char* field, const std::vector<std::string>& v,
                std::string* error) {
    for (const std::string& e : v) {
        if (e.find(',') != std::string::npos) {
            return fail_msg(error, what + ": " + field + " entry '" + e + "' contains ','");
        }
    }
    return true;
}

std::string_view restriction_text(Restriction r) {
    switch (r) {
        case Restriction::call_out_barring:
            return "call_out_barring";
        case Restriction::call_in_barring:
            return "call_in_barring";
        case Restriction::all:
            return "all";
        default:
            return "none";
    }
}

Restriction parse_restriction_text(const std::string& t) {
    if (t == "call_out_barring") return Restriction::call_out_barring;
    if (t == "call_in_barring") return Restriction::call_in_barring;
    if (t == "all") return Restriction::all;
    return Restriction::none;
}

std::string_view auth_text(AuthMode m) {
    switch (m) {
        case AuthMode::ip_port:
            return "ip_port";
        case AuthMode::digest:
            return "digest";
        default:
            return "ip";
    }
}

AuthMode parse_auth_text(const std::string& t) {
    if (t == "ip_port") return AuthMode::ip_port;
    if (t == "digest") return AuthMode::digest;
    return AuthMode::ip;
}

// --- rows -----------------------------------------------------------------------------------

constexpr const char* kCustomerColumns =
    "name, account, auth, ips, sip_user, priority, line_limit, cps_limit, dest_prefix_limit, "
    "caller_allow, caller_deny, callee_allow, callee_deny, caller_rewrite, callee_rewrite, "
    "restriction, max_rate_type, proceeding_timeout_s, enabled";

CustomerSpec read_customer(Stmt& s) {
    CustomerSpec c;
    c.name = s.col_text(0);
    c.account = s.col_text(1);
    c.auth = parse_auth_text(s.col_text(2));
    c.ips = read_list(s, 3);
    c.sip_user = s.col_text(4);
    c.priority = static_cast<std::int32_t>(s.col_i64(5));
    c.line_limit = static_cast<std::uint32_t>(s.col_i64(6));
    c.cps_limit = static_cast<std::uint32_t>(s.col_i64(7));
    c.dest_prefix_limit = static_cast<std::uint32_t>(s.col_i64(8));
    c.caller_allow = read_list(s, 9);
    c.caller_deny = read_list(s, 10);
    c.callee_allow = read_list(s, 11);
    c.callee_deny = read_list(s, 12);
    c.caller_rewrite = s.col_text(13);
    c.callee_rewrite = s.col_text(14);
    c.restriction = parse_restriction_text(s.col_text(15));
    c.max_rate_type = static_cast<std::uint8_t>(s.col_i64(16));
    c.proceeding_timeout_s = static_cast<std::uint32_t>(s.col_i64(17));
    c.enabled = s.col_i64(18) != 0;
    return c;
}

constexpr const char* kVendorColumns =
    "name, prefixes, priority, line_limit, cps_limit, group_name, reserved_lines, protect, "
    "lowest_profit_per_s, max_minute_rate, check_rate, enabled, vendor_account, host, port, "
    "transport, outbound_proxy, host_name, caller_rewrite, callee_rewrite, probe";

VendorGateway read_vendor(Stmt& s) {
    VendorGateway v;
    GatewaySpec& g = v.spec;
    g.name = s.col_text(0);
    g.prefixes = read_list(s, 1);
    g.priority = static_cast<std::int32_t>(s.col_i64(2));
    g.line_limit = static_cast<std::uint32_t>(s.col_i64(3));
    g.cps_limit = static_cast<std::uint32_t>(s.col_i64(4));
    g.group = s.col_text(5);
    g.reserved_lines = static_cast<std::uint32_t>(s.col_i64(6));
    g.protect = s.col_i64(7) != 0;
    g.lowest_profit_per_s = s.col_int(8);
    g.max_minute_rate = s.col_int(9);
    g.check_rate = s.col_i64(10) != 0;
    g.enabled = s.col_i64(11) != 0;
    v.vendor_account = s.col_text(12);
    v.host = s.col_text(13);
    v.port = static_cast<std::uint16_t>(s.col_i64(14));
    v.transport = s.col_text(15);
    v.outbound_proxy = s.col_text(16);
    v.host_name = s.col_text(17);
    v.caller_rewrite = s.col_text(18);
    v.callee_rewrite = s.col_text(19);
    v.probe = s.col_i64(20) != 0;
    return v;
}

// A deferred read transaction: every SELECT inside sees one snapshot (WAL).
class ReadTxn {
  public:
    ReadTxn(sqlite3* db, std::string* error) : db_(db) { began_ = exec(db, "BEGIN", error); }
    ~ReadTxn() {
        if (began_) exec(db_, "COMMIT", nullptr);
    }
    ReadTxn(const ReadTxn&) = delete;
    ReadTxn& operator=(const ReadTxn&) = delete;
    bool began() const { return began_; }

  private:
    sqlite3* db_;
    bool began_ = false;
};

}  // namespace

struct Store::Impl {
    sqlite3* db = nullptr;
    route::sqlite::Kept kept;  // what the switch runs every second: versions, publish_calls
    ~Impl() {
        kept.clear();
        sqlite3_close(db);
    }

    // The version bump of one table, inside the caller's transaction.
    bool bump(const char* table, std::string* error) {
        Stmt s(db, "UPDATE lcr_table_version SET version = version + 1 WHERE name = ?1");
        if (!s.ok()) return fail(db, error, "lcr_table_version");
        s.text(1, table);
        if (!s.done()) return fail(db, error, "lcr_table_version");
        if (sqlite3_changes(db) != 1) {
            return fail_msg(error, std::string("lcr_table_version: no row for ") + table);
        }
        return true;
    }

    // After a write of row `name`: the table's version bump and the row stamped with it,
    // inside the caller's transaction.
    bool stamp(const char* table, const char* version_row, const std::string& name,
               std::string* error) {
        if (!bump(version_row, error)) return false;
        Stmt s(db, (std::string("UPDATE ") + table +
                    " SET version = (SELECT version FROM lcr_table_version WHERE name = ?2) "
                    "WHERE name = ?1")
                       .c_str());
        if (!s.ok()) return fail(db, error, table);
        s.text(1, name);
        s.text(2, version_row);
        return s.done() || fail(db, error, table);
    }

    // The precondition against the row as it is now, inside the caller's transaction.
    WriteOutcome check(const char* table, const std::string& name, const Precondition& p,
                  std::string* error) {
        Stmt s(db, (std::string("SELECT version FROM ") + table + " WHERE name = ?1").c_str());
        if (!s.ok()) return fail(db, error, table), WriteOutcome::failed;
        s.text(1, name);
        const int rc = s.step();
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail(db, error, table), WriteOutcome::failed;
        const bool present = rc == SQLITE_ROW;
        if (present && p.row == Precondition::Row::absent) return WriteOutcome::exists;
        if (!present && p.row == Precondition::Row::present) return WriteOutcome::missing;
        if (p.versions.empty()) return WriteOutcome::done;
        if (!present) return WriteOutcome::missing;
        const std::int64_t v = s.col_i64(0);
        const bool match = std::find(p.versions.begin(), p.versions.end(), v) != p.versions.end();
        return match ? WriteOutcome::done : WriteOutcome::stale;
    }

    // DELETE FROM `table` WHERE name = ?1 and the version bump, in one transaction; missing
    // when there is no such row (nothing changes then).
    WriteOutcome remove(const char* table, const char* version_row, const std::string& name,
                   const Precondition& p, std::string* error) {
        clear(error);
        Txn txn(db, error);
        if (!txn.began()) return WriteOutcome::failed;
        if (auto o = check(table, name, p, error); o != WriteOutcome::done) return o;
        Stmt s(db, (std::string("DELETE FROM ") + table + " WHERE name = ?1").c_str());
        if (!s.ok()) return fail(db, error, table), WriteOutcome::failed;
        s.text(1, name);
        if (!s.done()) return fail(db, error, table), WriteOutcome::failed;
        if (sqlite3_changes(db) == 0) return WriteOutcome::missing;
        if (!bump(version_row, error)) return WriteOutcome::failed;
        return txn.commit(error) ? WriteOutcome::done : WriteOutcome::failed;
    }

    // The old bool form: "no <what> 'name'" when there is no such row.
    bool remove(const char* table, const char* version_row, const char* what,
                const std::string& name, std::string* error) {
        const WriteOutcome o = remove(table, version_row, name, Precondition{}, error);
        if (o == WriteOutcome::missing) return fail_msg(error, std::string("no ") + what + " '" + name + "'");
        return o == WriteOutcome::done;
    }

    // One row by name with its version (appended after `columns`).
    template <class T, class Read>
    std::optional<T> read_one(const char* table, const char* columns, int n_columns, Read read,
                              const std::string& name, std::int64_t* version, std::string* error) {
        clear(error);
        Stmt s(db, (std::string("SELECT ") + columns + ", version FROM " + table +
                    " WHERE name = ?1")
                       .c_str());
        if (!s.ok()) return fail(db, error, table), std::nullopt;
        s.text(1, name);
        const int rc = s.step();
        if (rc == SQLITE_DONE) return std::nullopt;
        if (rc != SQLITE_ROW) return fail(db, error, table), std::nullopt;
        if (version) *version = s.col_i64(n_columns);
        return read(s);
    }

    template <class T, class Read>
    bool read_all(const char* table, const char* columns, Read read, std::vector<T>& out,
                  std::string* error) {
        out.clear();
        Stmt s(db, (std::string("SELECT ") + columns + " FROM " + table + " ORDER BY name").c_str());
        if (!s.ok()) return fail(db, error, table);
        int rc;
        while ((rc = s.step()) == SQLITE_ROW)
            out.push_back(read(s));
        if (rc != SQLITE_DONE) {
            out.clear();
            return fail(db, error, table);
        }
        return true;
    }

    bool read_customers(std::vector<CustomerSpec>& out, std::string* error) {
        return read_all("lcr_customer", kCustomerColumns, read_customer, out, error);
    }
    bool read_vendors(std::vector<VendorGateway>& out, std::string* error) {
        return read_all("lcr_vendor", kVendorColumns, read_vendor, out, error);
    }
    bool read_groups(std::vector<GroupSpec>& out, std::string* error) {
        return read_all(
            "lcr_group", "name, line_limit",
            [](Stmt& s) {
                return GroupSpec{s.col_text(0), static_cast<std::uint32_t>(s.col_i64(1))};
            },
            out, error);
    }
    bool read_versions(std::map<std::string, std::int64_t>& out, std::string* error,
                       const char* table = "lcr_table_version") {
        out.clear();
        Stmt s(kept, db, (std::string("SELECT name, version FROM ") + table).c_str());
        if (!s.ok()) return fail(db, error, table);
        int rc;
        while ((rc = s.step()) == SQLITE_ROW)
            out[s.col_text(0)] = s.col_i64(1);
        if (rc != SQLITE_DONE) {
            out.clear();
            return fail(db, error, table);
        }
        return true;
    }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() = default;

std::unique_ptr<Store> Store::open(const std::string& path, std::string* error) {
    clear(error);
    // The shared file holds carrier passwords: created 0600, restricted when first given the
    // lcr tables.
    auto impl = std::make_unique<Impl>();
    impl->db = route::sqlite::open_private_db(path, "lcr", kMigrations, error);
    if (!impl->db) return nullptr;
    return std::unique_ptr<Store>(new Store(std::move(impl)));
}

// --- reads ------------------------------------------------------------------------------------

std::vector<CustomerSpec> Store::customers(std::string* error) {
    clear(error);
    std::vector<CustomerSpec> out;
    impl_->read_customers(out, error);
    return out;
}

std::vector<VendorGateway> Store::vendors(std::string* error) {
    clear(error);
    std::vector<VendorGateway> out;
    impl_->read_vendors(out, error);
    return out;
}

std::vector<GroupSpec> Store::groups(std::string* error) {
    clear(error);
    std::vector<GroupSpec> out;
    impl_->read_groups(out, error);
    return out;
}

std::map<std::string, std::int64_t> Store::table_versions(std::string* error) {
    clear(error);
    std::map<std::string, std::int64_t> out;
    impl_->read_versions(out, error);
    return out;
}

std::map<std::string, std::int64_t> Store::customer_versions(std::string* error) {
    clear(error);
    std::map<std::string, std::int64_t> out;
    impl_->read_versions(out, error, "lcr_customer");
    return out;
}

std::map<std::string, std::int64_t> Store::vendor_versions(std::string* error) {
    clear(error);
    std::map<std::string, std::int64_t> out;
    impl_->read_versions(out, error, "lcr_vendor");
    return out;
}

std::optional<Snapshot> Store::load(std::string* error) {
    clear(error);
    ReadTxn txn(impl_->db, error);
    if (!txn.began()) return std::nullopt;
    Snapshot snap;
    if (!impl_->read_versions(snap.versions, error) ||
        !impl_->read_customers(snap.customers, error) ||
        !impl_->read_vendors(snap.vendors, error) || !impl_->read_groups(snap.groups, error)) {
        return std::nullopt;
    }
    return snap;
}

std::optional<CustomerSpec> Store::customer(const std::string& name, std::int64_t* version,
                                           std::string* error) {
    return impl_->read_one<CustomerSpec>("lcr_customer", kCustomerColumns, 19, read_customer, name,
                                         version, error);
}

std::optional<VendorGateway> Store::vendor(const std::string& name, std::int64_t* version,
                                           std::string* error) {
    return impl_->read_one<VendorGateway>("lcr_vendor", kVendorColumns, 21, read_vendor, name,
                                          version, error);
}

std::optional<GroupSpec> Store::group(const std::string& name, std::int64_t* version,
                                      std::string* error) {
    return impl_->read_one<GroupSpec>(
        "lcr_group", "name, line_limit", 2,
        [](Stmt& s) { return GroupSpec{s.col_text(0), static_cast<std::uint32_t>(s.col_i64(1))}; },
        name, version, error);
}

// --- writes -----------------------------------------------------------------------------------

WriteOutcome Store::put_customer(const CustomerSpec& c, const Precondition& p, std::string* error) {
    clear(error);
    const std::string what = "put_customer '" + c.name + "'";
    if (c.name.empty()) return fail_msg(error, "put_customer: empty name"), WriteOutcome::failed;
    if (c.max_rate_type > 3) {
        return fail_msg(error, what + ": max_rate_type " + std::to_string(c.max_rate_type) +
                                   " is not 0..3"), WriteOutcome::failed;
    }
    if (!check_list(what, "ips", c.ips, error) ||
        !check_list(what, "caller_allow", c.caller_allow, error) ||
        !check_list(what, "caller_deny", c.caller_deny, error) ||
        !check_list(what, "callee_allow", c.callee_allow, error) ||
        !check_list(what, "callee_deny", c.callee_deny, error)) {
        return WriteOutcome::failed;
    }
    sqlite3* db = impl_->db;
    Txn txn(db, error);
    if (!txn.began()) return WriteOutcome::failed;
    if (auto o = impl_->check("lcr_customer", c.name, p, error); o != WriteOutcome::done) return o;
    Stmt s(db,
           "INSERT INTO lcr_customer(name, account, auth, ips, sip_user, priority, line_limit, "
           "cps_limit, dest_prefix_limit, caller_allow, caller_deny, callee_allow, callee_deny, "
           "caller_rewrite, callee_rewrite, restriction, max_rate_type, proceeding_timeout_s, "
           "enabled, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
           "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?20) "
           "ON CONFLICT(name) DO UPDATE SET account = excluded.account, auth = excluded.auth, "
           "ips = excluded.ips, sip_user = excluded.sip_user, priority = excluded.priority, "
           "line_limit = excluded.line_limit, cps_limit = excluded.cps_limit, "
           "dest_prefix_limit = excluded.dest_prefix_limit, "
           "caller_allow = excluded.caller_allow, caller_deny = excluded.caller_deny, "
           "callee_allow = excluded.callee_allow, callee_deny = excluded.callee_deny, "
           "caller_rewrite = excluded.caller_rewrite, callee_rewrite = excluded.callee_rewrite, "
           "restriction = excluded.restriction, max_rate_type = excluded.max_rate_type, "
           "proceeding_timeout_s = excluded.proceeding_timeout_s, enabled = excluded.enabled, "
           "updated_ms = excluded.updated_ms");
    if (!s.ok()) return fail(db, error, "lcr_customer"), WriteOutcome::failed;
    s.text(1, c.name);
    s.text(2, c.account);
    s.text(3, auth_text(c.auth));
    bind_list(s, 4, c.ips);
    s.text(5, c.sip_user);
    s.integer(6, c.priority);
    s.integer(7, c.line_limit);
    s.integer(8, c.cps_limit);
    s.integer(9, c.dest_prefix_limit);
    bind_list(s, 10, c.caller_allow);
    bind_list(s, 11, c.caller_deny);
    bind_list(s, 12, c.callee_allow);
    bind_list(s, 13, c.callee_deny);
    s.text(14, c.caller_rewrite);
    s.text(15, c.callee_rewrite);
    s.text(16, restriction_text(c.restriction));
    s.integer(17, c.max_rate_type);
    s.integer(18, c.proceeding_timeout_s);
    s.integer(19, c.enabled ? 1 : 0);
    s.integer(20, unix_now_ms());
    if (!s.done()) return fail(db, error, "lcr_customer"), WriteOutcome::failed;
    if (!impl_->stamp("lcr_customer", "customer", c.name, error)) return WriteOutcome::failed;
    return txn.commit(error) ? WriteOutcome::done : WriteOutcome::failed;
}

bool Store::put_customer(const CustomerSpec& c, std::string* error) {
    return put_customer(c, Precondition{}, error) == WriteOutcome::done;
}

WriteOutcome Store::put_vendor(const VendorGateway& v, const Precondition& p, std::string* error) {
    clear(error);
    const GatewaySpec& g = v.spec;
    const std::string what = "put_vendor '" + g.name + "'";
    if (g.name.empty()) return fail_msg(error, "put_vendor: empty name"), WriteOutcome::failed;
    if (v.transport != "udp" && v.transport != "tcp" && v.transport != "tls") {
        return fail_msg(error,
                        what + ": transport '" + v.transport + "' is not udp, tcp or tls"), WriteOutcome::failed;
    }
    if (!check_list(what, "prefixes", g.prefixes, error)) return WriteOutcome::failed;
    sqlite3* db = impl_->db;
    Txn txn(db, error);
    if (!txn.began()) return WriteOutcome::failed;
    if (auto o = impl_->check("lcr_vendor", g.name, p, error); o != WriteOutcome::done) return o;
    Stmt s(db,
           "INSERT INTO lcr_vendor(name, prefixes, priority, line_limit, cps_limit, group_name, "
           "reserved_lines, protect, lowest_profit_per_s, max_minute_rate, check_rate, enabled, "
           "vendor_account, host, port, transport, outbound_proxy, host_name, caller_rewrite, "
           "callee_rewrite, probe, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
           "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?22) "
           "ON CONFLICT(name) DO UPDATE SET prefixes = excluded.prefixes, "
           "priority = excluded.priority, line_limit = excluded.line_limit, "
           "cps_limit = excluded.cps_limit, group_name = excluded.group_name, "
           "reserved_lines = excluded.reserved_lines, protect = excluded.protect, "
           "lowest_profit_per_s = excluded.lowest_profit_per_s, "
           "max_minute_rate = excluded.max_minute_rate, check_rate = excluded.check_rate, "
           "enabled = excluded.enabled, vendor_account = excluded.vendor_account, "
           "host = excluded.host, port = excluded.port, transport = excluded.transport, "
           "outbound_proxy = excluded.outbound_proxy, host_name = excluded.host_name, "
           "caller_rewrite = excluded.caller_rewrite, callee_rewrite = excluded.callee_rewrite, "
           "probe = excluded.probe, updated_ms = excluded.updated_ms");
    if (!s.ok()) return fail(db, error, "lcr_vendor"), WriteOutcome::failed;
    s.text(1, g.name);
    bind_list(s, 2, g.prefixes);
    s.integer(3, g.priority);
    s.integer(4, g.line_limit);
    s.integer(5, g.cps_limit);
    s.text(6, g.group);
    s.integer(7, g.reserved_lines);
    s.integer(8, g.protect ? 1 : 0);
    s.opt_integer(9, g.lowest_profit_per_s);
    s.opt_integer(10, g.max_minute_rate);
    s.integer(11, g.check_rate ? 1 : 0);
    s.integer(12, g.enabled ? 1 : 0);
    s.text(13, v.vendor_account);
    s.text(14, v.host);
    s.integer(15, v.port);
    s.text(16, v.transport);
    s.text(17, v.outbound_proxy);
    s.text(18, v.host_name);
    s.text(19, v.caller_rewrite);
    s.text(20, v.callee_rewrite);
    s.integer(21, v.probe ? 1 : 0);
    s.integer(22, unix_now_ms());
    if (!s.done()) return fail(db, error, "lcr_vendor"), WriteOutcome::failed;
    if (!impl_->stamp("lcr_vendor", "vendor", g.name, error)) return WriteOutcome::failed;
    return txn.commit(error) ? WriteOutcome::done : WriteOutcome::failed;
}

bool Store::put_vendor(const VendorGateway& v, std::string* error) {
    return put_vendor(v, Precondition{}, error) == WriteOutcome::done;
}

WriteOutcome Store::put_group(const GroupSpec& g, const Precondition& p, std::string* error) {
    clear(error);
    if (g.name.empty()) return fail_msg(error, "put_group: empty name"), WriteOutcome::failed;
    sqlite3* db = impl_->db;
    Txn txn(db, error);
    if (!txn.began()) return WriteOutcome::failed;
    if (auto o = impl_->check("lcr_group", g.name, p, error); o != WriteOutcome::done) return o;
    Stmt s(db,
           "INSERT INTO lcr_group(name, line_limit, created_ms, updated_ms) "
           "VALUES (?1, ?2, ?3, ?3) ON CONFLICT(name) DO UPDATE SET "
           "line_limit = excluded.line_limit, updated_ms = excluded.updated_ms");
    if (!s.ok()) return fail(db, error, "lcr_group"), WriteOutcome::failed;
    s.text(1, g.name);
    s.integer(2, g.line_limit);
    s.integer(3, unix_now_ms());
    if (!s.done()) return fail(db, error, "lcr_group"), WriteOutcome::failed;
    if (!impl_->stamp("lcr_group", "group", g.name, error)) return WriteOutcome::failed;
    return txn.commit(error) ? WriteOutcome::done : WriteOutcome::failed;
}

bool Store::put_group(const GroupSpec& g, std::string* error) {
    return put_group(g, Precondition{}, error) == WriteOutcome::done;
}

bool Store::publish_calls(const std::vector<ActiveCall>* calls,
                          const std::vector<GatewayLive>& gateways, std::int64_t now_ms,
                          std::string* error) {
    clear(error);
    sqlite3* db = impl_->db;
    route::sqlite::Kept& kept = impl_->kept;
    Txn txn(db, error, &kept);
    if (!txn.began()) return false;
    if (calls && !route::sqlite::exec(kept, db, "DELETE FROM lcr_active_call", error))
        return false;
    if (!route::sqlite::exec(kept, db, "DELETE FROM lcr_gateway_live", error)) return false;
    Stmt g(kept, db,
           "INSERT INTO lcr_gateway_live(name, current_calls, total_calls, answered, down, "
           "down_reason, down_since_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!g.ok()) return fail(db, error, "lcr_gateway_live");
    for (const GatewayLive& x : gateways) {
        g.text(1, x.name);
        g.integer(2, x.current_calls);
        g.integer(3, static_cast<std::int64_t>(x.total_calls));
        g.integer(4, static_cast<std::int64_t>(x.answered));
        g.integer(5, x.down ? 1 : 0);
        g.text(6, x.down_reason);
        g.opt_integer(7, x.down_since_ms);
        if (!g.done()) return fail(db, error, "lcr_gateway_live");
        g.reset();
    }
    Stmt s(kept, db,
           "INSERT INTO lcr_active_call(id, customer, vendor_gateway, caller, callee, state, "
           "setup_ms, answer_ms, call_id_in, call_id_out) "
           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (!s.ok()) return fail(db, error, "lcr_active_call");
    for (const ActiveCall& c : calls ? *calls : std::vector<ActiveCall>{}) {
        s.integer(1, static_cast<std::int64_t>(c.id));
        s.text(2, c.customer);
        s.text(3, c.vendor_gateway);
        s.text(4, c.caller);
        s.text(5, c.callee);
        s.text(6, c.state);
        s.integer(7, c.setup_ms);
        s.opt_integer(8, c.answer_ms);
        s.text(9, c.call_id_in);
        s.text(10, c.call_id_out);
        if (!s.done()) return fail(db, error, "lcr_active_call");
        s.reset();
    }
    Stmt m(kept, db,
           "INSERT INTO lcr_active_call_meta(one, published_ms) VALUES (1, ?1) "
           "ON CONFLICT(one) DO UPDATE SET published_ms = excluded.published_ms");
    if (!m.ok()) return fail(db, error, "lcr_active_call_meta");
    m.integer(1, now_ms);
    if (!m.done()) return fail(db, error, "lcr_active_call_meta");
    return txn.commit(error);
}

std::optional<ActiveCalls> Store::active_calls(std::string* error) {
    clear(error);
    sqlite3* db = impl_->db;
    ActiveCalls out;
    Stmt m(db, "SELECT published_ms FROM lcr_active_call_meta WHERE one = 1");
    if (!m.ok()) return fail(db, error, "lcr_active_call_meta"), std::nullopt;
    if (m.step() == SQLITE_ROW) out.published_ms = m.col_i64(0);
    Stmt s(db,
           "SELECT id, customer, vendor_gateway, caller, callee, state, setup_ms, answer_ms, "
           "call_id_in, call_id_out FROM lcr_active_call ORDER BY id");
    if (!s.ok()) return fail(db, error, "lcr_active_call"), std::nullopt;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        ActiveCall c;
        c.id = static_cast<std::uint64_t>(s.col_i64(0));
        c.customer = s.col_text(1);
        c.vendor_gateway = s.col_text(2);
        c.caller = s.col_text(3);
        c.callee = s.col_text(4);
        c.state = s.col_text(5);
        c.setup_ms = s.col_i64(6);
        c.answer_ms = s.col_int(7);
        c.call_id_in = s.col_text(8);
        c.call_id_out = s.col_text(9);
        out.calls.push_back(std::move(c));
    }
    if (rc != SQLITE_DONE) return fail(db, error, "lcr_active_call"), std::nullopt;
    Stmt g(db,
           "SELECT name, current_calls, total_calls, answered, down, down_reason, down_since_ms "
           "FROM lcr_gateway_live ORDER BY name");
    if (!g.ok()) return fail(db, error, "lcr_gateway_live"), std::nullopt;
    while ((rc = g.step()) == SQLITE_ROW) {
        GatewayLive x;
        x.name = g.col_text(0);
        x.current_calls = static_cast<std::uint32_t>(g.col_i64(1));
        x.total_calls = static_cast<std::uint64_t>(g.col_i64(2));
        x.answered = static_cast<std::uint64_t>(g.col_i64(3));
        x.down = g.col_i64(4) != 0;
        x.down_reason = g.col_text(5);
        x.down_since_ms = g.col_int(6);
        out.gateways.push_back(std::move(x));
    }
    if (rc != SQLITE_DONE) return fail(db, error, "lcr_gateway_live"), std::nullopt;
    return out;
}

bool Store::remove_customer(const std::string& name, std::string* error) {
    return impl_->remove("lcr_customer", "customer", "customer", name, error);
}

bool Store::remove_vendor(const std::string& name, std::string* error) {
    return impl_->remove("lcr_vendor", "vendor", "vendor", name, error);
}

bool Store::remove_group(const std::string& name, std::string* error) {
    return impl_->remove("lcr_group", "group", "group", name, error);
}

WriteOutcome Store::remove_customer(const std::string& name, const Precondition& p, std::string* error) {
    return impl_->remove("lcr_customer", "customer", name, p, error);
}

WriteOutcome Store::remove_vendor(const std::string& name, const Precondition& p, std::string* error) {
    return impl_->remove("lcr_vendor", "vendor", name, p, error);
}

WriteOutcome Store::remove_group(const std::string& name, const Precondition& p, std::string* error) {
    return impl_->remove("lcr_group", "group", name, p, error);
}

}  // namespace route::lcr::sqlite

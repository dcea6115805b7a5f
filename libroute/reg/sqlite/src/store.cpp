// SQLite persistence of registration state (DESIGN.md §2: the only route_reg code that
// includes <sqlite3.h>). Same scheme as route_domain_sqlite: one row in schema_versions,
// statements prepared per call with bound parameters, errors as values.
#include "route/reg/sqlite/store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <utility>

#include "route/sqlite/db.hpp"

namespace route::reg::sqlite {
namespace {

using route::sqlite::exec;
using route::sqlite::fail;
using route::sqlite::fail_msg;
using route::sqlite::parse_transport;
using route::sqlite::Stmt;
using route::sqlite::Txn;

// Migration steps; step i brings the component from version i to i + 1.
// reg_binding is written for every REGISTER (write-behind, thousands of rows a second under
// load) and read whole once at start, so it is a WITHOUT ROWID table keyed by what a change
// names, and has no expiry index: that index cost ~40% of each write, while the one query it
// would serve (the purge at start) scans the table once.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE sip_user (
    username       TEXT PRIMARY KEY,
    realm          TEXT NOT NULL,
    ha1_md5        TEXT,
    ha1_sha256     TEXT,
    ha1_sha512_256 TEXT,
    enabled        INTEGER NOT NULL DEFAULT 1,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL
);
CREATE TABLE reg_binding (
    aor              TEXT NOT NULL,
    contact_key      TEXT NOT NULL,
    contact          TEXT NOT NULL,
    q                INTEGER,
    expires_ms       INTEGER NOT NULL,
    call_id          TEXT NOT NULL,
    cseq             INTEGER NOT NULL,
    path             TEXT,
    source_transport TEXT NOT NULL CHECK (source_transport IN ('UDP', 'TCP', 'TLS')),
    source_host      TEXT NOT NULL,
    source_port      INTEGER NOT NULL,
    source_tls_name  TEXT NOT NULL DEFAULT '',
    instance         TEXT NOT NULL DEFAULT '',
    reg_id           INTEGER,
    down             INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (aor, contact_key)
) WITHOUT ROWID;
CREATE TABLE trunk_reg (
    name            TEXT PRIMARY KEY,
    server          TEXT NOT NULL,
    port            INTEGER NOT NULL DEFAULT 0,
    transport       TEXT NOT NULL CHECK (transport IN ('UDP', 'TCP', 'TLS')),
    outbound_proxy  TEXT NOT NULL DEFAULT '',
    aor_user        TEXT NOT NULL,
    aor_domain      TEXT NOT NULL DEFAULT '',
    auth_user       TEXT NOT NULL DEFAULT '',
    password        TEXT NOT NULL,
    contact_host    TEXT NOT NULL DEFAULT '',
    contact_port    INTEGER NOT NULL DEFAULT 0,
    expires_s       INTEGER,
    retry_delay_s   INTEGER,
    privacy         TEXT CHECK (privacy IS NULL OR privacy IN ('ignore', 'id', 'none')),
    send_unregister INTEGER,
    enabled         INTEGER NOT NULL DEFAULT 1,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
);
CREATE TABLE trunk_reg_state (
    name                 TEXT PRIMARY KEY,
    call_id              TEXT NOT NULL,
    cseq                 INTEGER NOT NULL,
    contact_uri          TEXT NOT NULL,
    state                TEXT NOT NULL,
    reason               TEXT NOT NULL,
    expires_ms           INTEGER,
    next_attempt_ms      INTEGER,
    last_code            INTEGER NOT NULL,
    last_reason_phrase   TEXT NOT NULL,
    consecutive_failures INTEGER NOT NULL,
    updated_ms           INTEGER NOT NULL,
    clean_stop           INTEGER NOT NULL
);
CREATE TABLE reg_suspension (
    key      TEXT NOT NULL,
    ip       INTEGER NOT NULL,
    until_ms INTEGER NOT NULL,
    PRIMARY KEY (key, ip)
);
CREATE TABLE reg_command (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    arg        TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
)sql",
    // 2: where a carrier entry's REGISTERs go and what DNS says about its registrar's name
    // (issue 12 items 5 and 7); the other side of a suspension (a user's source IP, an IP's
    // user), so lifting one can name the other (item 8).
    R"sql(
ALTER TABLE trunk_reg_state ADD COLUMN registrar TEXT NOT NULL DEFAULT '';
ALTER TABLE trunk_reg_state ADD COLUMN dns_name TEXT NOT NULL DEFAULT '';
ALTER TABLE trunk_reg_state ADD COLUMN dns_state TEXT NOT NULL DEFAULT '';
ALTER TABLE trunk_reg_state ADD COLUMN dns_error TEXT NOT NULL DEFAULT '';
ALTER TABLE trunk_reg_state ADD COLUMN dns_since_ms INTEGER;
ALTER TABLE trunk_reg_state ADD COLUMN dns_until_ms INTEGER;
ALTER TABLE reg_suspension ADD COLUMN peer TEXT NOT NULL DEFAULT '';
)sql",
    // 3: suspensions of one user at one address (issue 16): `ip` holds the kind (0 user,
    // 1 IP, 2 user at IP) and `address` the pair's IP, part of the key.
    R"sql(
CREATE TABLE reg_suspension_v3 (
    key      TEXT NOT NULL,
    ip       INTEGER NOT NULL,
    address  TEXT NOT NULL DEFAULT '',
    until_ms INTEGER NOT NULL,
    peer     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (key, ip, address)
);
INSERT INTO reg_suspension_v3(key, ip, until_ms, peer)
    SELECT key, ip, until_ms, peer FROM reg_suspension;
DROP TABLE reg_suspension;
ALTER TABLE reg_suspension_v3 RENAME TO reg_suspension;
)sql",
    // 4: change counters of the tables operators write (issue 11 item 2), bumped by triggers
    // in the same transaction as the change, whoever writes (trunkctl, the API, the sqlite3
    // shell): a running trunkline reloads the users or the carrier entries only when theirs
    // moved. Not on the tables trunkline itself writes many times a second (bindings,
    // suspensions, carrier state, commands): those would move the counters for nothing.
    R"sql(
CREATE TABLE reg_table_version (
    name    TEXT PRIMARY KEY CHECK (name IN ('sip_user', 'trunk_reg')),
    version INTEGER NOT NULL
);
INSERT INTO reg_table_version(name, version) VALUES ('sip_user', 0), ('trunk_reg', 0);
CREATE TRIGGER reg_version_sip_user_insert AFTER INSERT ON sip_user
  BEGIN UPDATE reg_table_version SET version = version + 1 WHERE name = 'sip_user'; END;
CREATE TRIGGER reg_version_sip_user_update AFTER UPDATE ON sip_user
  BEGIN UPDATE reg_table_version SET version = version + 1 WHERE name = 'sip_user'; END;
CREATE TRIGGER reg_version_sip_user_delete AFTER DELETE ON sip_user
  BEGIN UPDATE reg_table_version SET version = version + 1 WHERE name = 'sip_user'; END;
CREATE TRIGGER reg_version_trunk_reg_insert AFTER INSERT ON trunk_reg
  BEGIN UPDATE reg_table_version SET version = version + 1 WHERE name = 'trunk_reg'; END;
CREATE TRIGGER reg_version_trunk_reg_update AFTER UPDATE ON trunk_reg
  BEGIN UPDATE reg_table_version SET version = version + 1 WHERE name = 'trunk_reg'; END;
CREATE TRIGGER reg_version_trunk_reg_delete AFTER DELETE ON trunk_reg
  BEGIN UPDATE reg_table_version SET version = version + 1 WHERE name = 'trunk_reg'; END;
)sql",
    // 5: a version per user and per carrier entry (the management API's ETag, issue 11): the
    // table's counter when the row was last written, stamped by the counters' own triggers so
    // every writer stamps it. The stamp is an UPDATE of the row, which must not count as a
    // change itself: the update triggers fire only when a write left `version` alone (the
    // stamp changes it, and SQLite does not fire a trigger from itself unless
    // recursive_triggers is on, which no connection here turns on). Existing rows get their
    // counter's value as it is.
    R"sql(
DROP TRIGGER reg_version_sip_user_insert;
DROP TRIGGER reg_version_sip_user_update;
DROP TRIGGER reg_version_trunk_reg_insert;
DROP TRIGGER reg_version_trunk_reg_update;
ALTER TABLE sip_user ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trunk_reg ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
UPDATE sip_user SET version = (SELECT version FROM reg_table_version WHERE name = 'sip_user');
UPDATE trunk_reg SET version = (SELECT version FROM reg_table_version WHERE name = 'trunk_reg');
CREATE TRIGGER reg_version_sip_user_insert AFTER INSERT ON sip_user
  BEGIN
    UPDATE reg_table_version SET version = version + 1 WHERE name = 'sip_user';
    UPDATE sip_user SET version = (SELECT version FROM reg_table_version WHERE name = 'sip_user')
      WHERE username = NEW.username;
  END;
CREATE TRIGGER reg_version_sip_user_update AFTER UPDATE ON sip_user
  WHEN NEW.version IS OLD.version
  BEGIN
    UPDATE reg_table_version SET version = version + 1 WHERE name = 'sip_user';
    UPDATE sip_user SET version = (SELECT version FROM reg_table_version WHERE name = 'sip_user')
      WHERE username = NEW.username;
  END;
CREATE TRIGGER reg_version_trunk_reg_insert AFTER INSERT ON trunk_reg
  BEGIN
    UPDATE reg_table_version SET version = version + 1 WHERE name = 'trunk_reg';
    UPDATE trunk_reg SET version = (SELECT version FROM reg_table_version WHERE name = 'trunk_reg')
      WHERE name = NEW.name;
  END;
CREATE TRIGGER reg_version_trunk_reg_update AFTER UPDATE ON trunk_reg
  WHEN NEW.version IS OLD.version
  BEGIN
    UPDATE reg_table_version SET version = version + 1 WHERE name = 'trunk_reg';
    UPDATE trunk_reg SET version = (SELECT version FROM reg_table_version WHERE name = 'trunk_reg')
      WHERE name = NEW.name;
  END;
)sql",
};
constexpr int kSteps = sizeof kMigrations / sizeof kMigrations[0];
static_assert(kSteps == Store::kSchemaVersion);

std::int64_t unix_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void clear(std::string* error) {
    if (error) error->clear();
}

std::string_view privacy_text(Privacy p) {
    switch (p) {
        case Privacy::id:
            return "id";
        case Privacy::none:
            return "none";
        default:
            return "ignore";
    }
}

std::optional<Privacy> parse_privacy(const std::string& t) {
    if (t == "ignore") return Privacy::ignore;
    if (t == "id") return Privacy::id;
    if (t == "none") return Privacy::none;
    return std::nullopt;
}

// Path values, one per line; '\' and newlines inside a value are escaped so any vector
// round-trips. NULL stands for the empty vector (so {""} and {} differ).
std::string join_path(const std::vector<std::string>& path) {
    std::string out;
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (i) out += '\n';
        for (char c : path[i]) {
            if (c == '\\')
                out += "\\\\";
            else if (c == '\n')
                out += "\\n";
            else
                out += c;
        }
    }
    return out;
}

std::vector<std::string> split_path(const std::string& text) {
    std::vector<std::string> out(1);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\n') {
            out.emplace_back();
        } else if (c == '\\' && i + 1 < text.size()) {
            out.back() += text[++i] == 'n' ? '\n' : text[i];
        } else {
            out.back() += c;
        }
    }
    return out;
}

// HA1 columns by base algorithm.
struct Ha1Column {
    sip::auth::Algorithm alg;
    const char* column;
};
constexpr Ha1Column kHa1Columns[] = {
    {sip::auth::Algorithm::MD5, "ha1_md5"},
    {sip::auth::Algorithm::SHA256, "ha1_sha256"},
    {sip::auth::Algorithm::SHA512_256, "ha1_sha512_256"},
};

bool lower_hex(const std::string& s, std::size_t n) {
    if (s.size() != n) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

bool valid_trunk_name(std::string_view n) {
    if (n.empty()) return false;
    for (char c : n) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

constexpr const char* kUserColumns =
    "username, realm, ha1_md5, ha1_sha256, ha1_sha512_256, enabled, created_ms, updated_ms";

SipUser read_user(Stmt& s) {
    SipUser u;
    u.username = s.col_text(0);
    u.realm = s.col_text(1);
    for (int i = 0; i < 3; ++i) {
        if (!s.col_null(2 + i)) u.ha1[kHa1Columns[i].alg] = s.col_text(2 + i);
    }
    u.enabled = s.col_i64(5) != 0;
    u.created_ms = s.col_i64(6);
    u.updated_ms = s.col_i64(7);
    return u;
}

constexpr const char* kBindingColumns =
    "aor, contact, q, expires_ms, call_id, cseq, path, source_transport, source_host, "
    "source_port, source_tls_name, instance, reg_id, down";

StoredBinding read_binding(Stmt& s) {
    StoredBinding sb;
    sb.aor = s.col_text(0);
    Binding& b = sb.binding;
    b.contact = s.col_text(1);
    if (auto q = s.col_int(2)) b.q = static_cast<std::uint16_t>(*q);
    sb.expires_ms = s.col_i64(3);
    b.call_id = s.col_text(4);
    b.cseq = static_cast<std::uint32_t>(s.col_i64(5));
    if (!s.col_null(6)) b.path = split_path(s.col_text(6));
    b.source.transport = parse_transport(s.col_text(7)).value_or(sip::Transport::Udp);
    b.source.host = s.col_text(8);
    b.source.port = static_cast<std::uint16_t>(s.col_i64(9));
    b.source.tls_name = s.col_text(10);
    b.instance = s.col_text(11);
    if (auto r = s.col_int(12)) b.reg_id = static_cast<std::uint32_t>(*r);
    b.down = s.col_i64(13) != 0;
    return sb;
}

constexpr const char* kTrunkColumns =
    "name, server, port, transport, outbound_proxy, aor_user, aor_domain, auth_user, "
    "password, contact_host, contact_port, expires_s, retry_delay_s, privacy, "
    "send_unregister, enabled";

constexpr const char* kTrunkVersion = "SELECT version FROM trunk_reg WHERE name = ?1";

TrunkReg read_trunk(Stmt& s) {
    TrunkReg r;
    r.name = s.col_text(0);
    r.server = s.col_text(1);
    r.port = static_cast<std::uint16_t>(s.col_i64(2));
    r.transport = parse_transport(s.col_text(3)).value_or(sip::Transport::Udp);
    r.outbound_proxy = s.col_text(4);
    r.aor_user = s.col_text(5);
    r.aor_domain = s.col_text(6);
    r.auth_user = s.col_text(7);
    r.password = s.col_text(8);
    r.contact_host = s.col_text(9);
    r.contact_port = static_cast<std::uint16_t>(s.col_i64(10));
    if (auto v = s.col_int(11)) r.expires_s = static_cast<std::uint32_t>(*v);
    if (auto v = s.col_int(12)) r.retry_delay_s = static_cast<std::uint32_t>(*v);
    if (!s.col_null(13)) r.privacy = parse_privacy(s.col_text(13));
    if (auto v = s.col_int(14)) r.send_unregister = *v != 0;
    r.enabled = s.col_i64(15) != 0;
    return r;
}

constexpr const char* kStateColumns =
    "name, call_id, cseq, contact_uri, state, reason, expires_ms, next_attempt_ms, last_code, "
    "last_reason_phrase, consecutive_failures, updated_ms, clean_stop, registrar, dns_name, "
    "dns_state, dns_error, dns_since_ms, dns_until_ms";

TrunkRegState read_state(Stmt& s) {
    TrunkRegState r;
    r.name = s.col_text(0);
    r.persisted.call_id = s.col_text(1);
    r.persisted.cseq = static_cast<std::uint32_t>(s.col_i64(2));
    r.persisted.contact_uri = s.col_text(3);
    r.state = s.col_text(4);
    r.reason = s.col_text(5);
    r.expires_ms = s.col_int(6);
    r.next_attempt_ms = s.col_int(7);
    r.last_code = static_cast<std::uint16_t>(s.col_i64(8));
    r.last_reason_phrase = s.col_text(9);
    r.consecutive_failures = static_cast<std::uint32_t>(s.col_i64(10));
    r.updated_ms = s.col_i64(11);
    r.clean_stop = s.col_i64(12) != 0;
    r.registrar = s.col_text(13);
    r.dns_name = s.col_text(14);
    r.dns_state = s.col_text(15);
    r.dns_error = s.col_text(16);
    r.dns_since_ms = s.col_int(17);
    r.dns_until_ms = s.col_int(18);
    return r;
}

}  // namespace

Store::Store(sqlite3* db) : db_(db), kept_(std::make_unique<route::sqlite::Kept>()) {}

Store::~Store() {
    kept_->clear();
    sqlite3_close(db_);
}

std::unique_ptr<Store> Store::open(const std::string& path, std::string* error) {
    clear(error);
    // The file will hold carrier passwords: created 0600, and restricted when first given the
    // reg tables whoever created it (billing may have).
    sqlite3* db = route::sqlite::open_private_db(path, "reg", kMigrations, error);
    if (!db) return nullptr;
    return std::unique_ptr<Store>(new Store(db));
}

int Store::schema_version(std::string* error) {
    clear(error);
    return route::sqlite::read_version(db_, "reg", error);
}

std::optional<std::int64_t> Store::data_version(std::string* error) {
    clear(error);
    Stmt q(*kept_, db_, "PRAGMA data_version");
    if (!q.ok() || q.step() != SQLITE_ROW) return fail(db_, error, "data_version"), std::nullopt;
    return q.col_i64(0);
}

std::map<std::string, std::int64_t> Store::change_versions(std::string* error) {
    clear(error);
    std::map<std::string, std::int64_t> out;
    Stmt s(*kept_, db_, "SELECT name, version FROM reg_table_version");
    if (!s.ok()) return fail(db_, error, "reg_table_version"), out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out[s.col_text(0)] = s.col_i64(1);
    if (rc != SQLITE_DONE) return fail(db_, error, "reg_table_version"), decltype(out){};
    return out;
}

// --- SIP users ------------------------------------------------------------------------

bool Store::put_user(const SipUser& u, std::string* error) {
    clear(error);
    if (u.username.empty()) return fail_msg(error, "put_user: empty user name");
    std::optional<std::string> cols[3];
    for (const auto& [alg, hex] : u.ha1) {
        if (sip::auth::is_sess(alg)) {
            return fail_msg(error, "put_user " + u.username +
                                       ": HA1 is stored per base algorithm, not for " +
                                       std::string(sip::auth::algorithm_name(alg)));
        }
        const std::size_t idx = static_cast<std::size_t>(sip::auth::hash_of(alg));
        if (!lower_hex(hex, sip::auth::hex_size(sip::auth::hash_of(alg)))) {
            return fail_msg(error,
                            "put_user " + u.username + ": HA1 for " +
                                std::string(sip::auth::algorithm_name(alg)) + " must be " +
                                std::to_string(sip::auth::hex_size(sip::auth::hash_of(alg))) +
                                " lowercase hex digits");
        }
        cols[idx] = hex;
    }
    // created_ms 0: now for a new user, kept for an existing one.
    Stmt s(db_,
           "INSERT INTO sip_user(username, realm, ha1_md5, ha1_sha256, ha1_sha512_256, enabled, "
           "created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
           "ON CONFLICT(username) DO UPDATE SET realm = excluded.realm, "
           "ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256, "
           "ha1_sha512_256 = excluded.ha1_sha512_256, enabled = excluded.enabled, "
           "created_ms = CASE WHEN ?9 THEN excluded.created_ms ELSE sip_user.created_ms END, "
           "updated_ms = excluded.updated_ms");
    if (!s.ok()) return fail(db_, error, "sip_user");
    const std::int64_t now = unix_now_ms();
    s.text(1, u.username);
    s.text(2, u.realm);
    for (int i = 0; i < 3; ++i) {
        if (cols[i])
            s.text(3 + i, *cols[i]);
        else
            s.null(3 + i);
    }
    s.integer(6, u.enabled ? 1 : 0);
    s.integer(7, u.created_ms != 0 ? u.created_ms : now);
    s.integer(8, now);
    s.integer(9, u.created_ms != 0 ? 1 : 0);
    if (!s.done()) return fail(db_, error, "sip_user");
    return true;
}

bool Store::remove_user(std::string_view username, std::string* error) {
    return remove_user(username, Precondition{}, error) == WriteOutcome::done;
}

WriteOutcome Store::remove_user(std::string_view username, const Precondition& p,
                                std::string* error) {
    clear(error);
    Txn txn(db_, error);
    if (!txn.began()) return WriteOutcome::failed;
    const char* check = "SELECT version FROM sip_user WHERE username = ?1";
    if (auto o = route::sqlite::as_outcome<WriteOutcome>(route::sqlite::check_row(db_, check, username, p, error));
        o != WriteOutcome::done)
        return o;
    Stmt s(db_, "DELETE FROM sip_user WHERE username = ?1");
    if (!s.ok()) return fail(db_, error, "sip_user"), WriteOutcome::failed;
    s.text(1, username);
    if (!s.done()) return fail(db_, error, "sip_user"), WriteOutcome::failed;
    if (sqlite3_changes(db_) == 0) return WriteOutcome::missing;
    return txn.commit(error) ? WriteOutcome::done : WriteOutcome::failed;
}

std::optional<std::int64_t> Store::user_version(std::string_view username, std::string* error) {
    clear(error);
    Stmt s(db_, "SELECT version FROM sip_user WHERE username = ?1");
    if (!s.ok()) return fail(db_, error, "sip_user"), std::nullopt;
    s.text(1, username);
    const int rc = s.step();
    if (rc == SQLITE_ROW) return s.col_i64(0);
    if (rc != SQLITE_DONE) fail(db_, error, "sip_user");
    return std::nullopt;
}

std::optional<SipUser> Store::user(std::string_view username, std::string* error) {
    clear(error);
    Stmt s(db_,
           (std::string("SELECT ") + kUserColumns + " FROM sip_user WHERE username = ?1").c_str());
    if (!s.ok()) return fail(db_, error, "sip_user"), std::nullopt;
    s.text(1, username);
    const int rc = s.step();
    if (rc == SQLITE_ROW) return read_user(s);
    if (rc != SQLITE_DONE) fail(db_, error, "sip_user");
    return std::nullopt;
}

std::vector<SipUser> Store::users(std::string* error) {
    clear(error);
    std::vector<SipUser> out;
    Stmt s(db_,
           (std::string("SELECT ") + kUserColumns + " FROM sip_user ORDER BY username").c_str());
    if (!s.ok()) return fail(db_, error, "sip_user"), out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out.push_back(read_user(s));
    if (rc != SQLITE_DONE) return fail(db_, error, "sip_user"), std::vector<SipUser>{};
    return out;
}

// --- registrar bindings -----------------------------------------------------------------

bool Store::apply_bindings(const std::vector<BindingChange>& changes, std::string* error) {
    clear(error);
    Txn txn(db_, error);
    if (!txn.began()) return false;
    Stmt up(db_,
            "INSERT INTO reg_binding(aor, contact_key, contact, q, expires_ms, call_id, cseq, "
            "path, source_transport, source_host, source_port, source_tls_name, instance, "
            "reg_id, down) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
            "?15) ON CONFLICT(aor, contact_key) DO UPDATE SET contact = excluded.contact, "
            "q = excluded.q, expires_ms = excluded.expires_ms, call_id = excluded.call_id, "
            "cseq = excluded.cseq, path = excluded.path, "
            "source_transport = excluded.source_transport, source_host = excluded.source_host, "
            "source_port = excluded.source_port, source_tls_name = excluded.source_tls_name, "
            "instance = excluded.instance, reg_id = excluded.reg_id, down = excluded.down");
    if (!up.ok()) return fail(db_, error, "reg_binding");
    Stmt del(db_, "DELETE FROM reg_binding WHERE aor = ?1 AND contact_key = ?2");
    if (!del.ok()) return fail(db_, error, "reg_binding");
    for (const BindingChange& c : changes) {
        if (!c.binding) {
            del.text(1, c.aor);
            del.text(2, Location::contact_key(c.contact));
            if (!del.done()) return fail(db_, error, "reg_binding");
            del.reset();
            continue;
        }
        const StoredBinding& sb = *c.binding;
        const Binding& b = sb.binding;
        if (!c.aor.empty() && !sb.aor.empty() && c.aor != sb.aor) {
            return fail_msg(
                error, "apply_bindings: change for " + c.aor + " carries a binding of " + sb.aor);
        }
        const std::string& aor = c.aor.empty() ? sb.aor : c.aor;
        if (aor.empty() || b.contact.empty()) {
            return fail_msg(error, "apply_bindings: binding without AOR or contact");
        }
        up.text(1, aor);
        up.text(2, Location::contact_key(b.contact));
        up.text(3, b.contact);
        up.opt_integer(4, b.q);
        up.integer(5, sb.expires_ms);
        up.text(6, b.call_id);
        up.integer(7, b.cseq);
        if (b.path.empty())
            up.null(8);
        else
            up.text(8, join_path(b.path));
        up.text(9, sip::transport_name(b.source.transport));
        up.text(10, b.source.host);
        up.integer(11, b.source.port);
        up.text(12, b.source.tls_name);
        up.text(13, b.instance);
        up.opt_integer(14, b.reg_id);
        up.integer(15, b.down ? 1 : 0);
        if (!up.done()) return fail(db_, error, "reg_binding");
        up.reset();
    }
    return txn.commit(error);
}

std::vector<StoredBinding> Store::bindings(std::string* error) {
    clear(error);
    std::vector<StoredBinding> out;
    Stmt s(db_,
           (std::string("SELECT ") + kBindingColumns + " FROM reg_binding ORDER BY aor, contact")
               .c_str());
    if (!s.ok()) return fail(db_, error, "reg_binding"), out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out.push_back(read_binding(s));
    if (rc != SQLITE_DONE) return fail(db_, error, "reg_binding"), std::vector<StoredBinding>{};
    return out;
}

std::optional<std::size_t> Store::remove_bindings(std::string_view aor, std::string_view contact,
                                                  std::string* error) {
    clear(error);
    Stmt s(db_, "DELETE FROM reg_binding WHERE aor = ?1 AND (?2 IS NULL OR contact_key = ?2)");
    if (!s.ok()) return fail(db_, error, "reg_binding"), std::nullopt;
    s.text(1, aor);
    if (contact.empty())
        s.null(2);
    else
        s.text(2, Location::contact_key(contact));
    if (!s.done()) return fail(db_, error, "reg_binding"), std::nullopt;
    return static_cast<std::size_t>(sqlite3_changes(db_));
}

std::optional<std::size_t> Store::purge_bindings(std::int64_t now_ms, std::string* error) {
    clear(error);
    Stmt s(db_, "DELETE FROM reg_binding WHERE expires_ms <= ?1");
    if (!s.ok()) return fail(db_, error, "reg_binding"), std::nullopt;
    s.integer(1, now_ms);
    if (!s.done()) return fail(db_, error, "reg_binding"), std::nullopt;
    return static_cast<std::size_t>(sqlite3_changes(db_));
}

// --- outbound registration entries and state --------------------------------------------

bool Store::put_trunk_reg(const TrunkReg& r, std::string* error) {
    return put_trunk_reg(r, Precondition{}, error) == WriteOutcome::done;
}

// The row's version is stamped by the triggers (migration step 5), inside this transaction.
WriteOutcome Store::put_trunk_reg(const TrunkReg& r, const Precondition& p, std::string* error) {
    clear(error);
    if (!valid_trunk_name(r.name)) {
        fail_msg(error, "trunk-reg name '" + r.name + "': use letters, digits, '-', '_' and '.' only");
        return WriteOutcome::failed;
    }
    Txn txn(db_, error);
    if (!txn.began()) return WriteOutcome::failed;
    if (auto o = route::sqlite::as_outcome<WriteOutcome>(route::sqlite::check_row(db_, kTrunkVersion, r.name, p, error));
        o != WriteOutcome::done)
        return o;
    Stmt s(db_,
           "INSERT INTO trunk_reg(name, server, port, transport, outbound_proxy, aor_user, "
           "aor_domain, auth_user, password, contact_host, contact_port, expires_s, "
           "retry_delay_s, privacy, send_unregister, enabled, created_ms, updated_ms) VALUES "
           "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17) "
           "ON CONFLICT(name) DO UPDATE SET server = excluded.server, port = excluded.port, "
           "transport = excluded.transport, outbound_proxy = excluded.outbound_proxy, "
           "aor_user = excluded.aor_user, aor_domain = excluded.aor_domain, "
           "auth_user = excluded.auth_user, password = excluded.password, "
           "contact_host = excluded.contact_host, contact_port = excluded.contact_port, "
           "expires_s = excluded.expires_s, retry_delay_s = excluded.retry_delay_s, "
           "privacy = excluded.privacy, send_unregister = excluded.send_unregister, "
           "enabled = excluded.enabled, updated_ms = excluded.updated_ms");
    if (!s.ok()) return fail(db_, error, "trunk_reg"), WriteOutcome::failed;
    s.text(1, r.name);
    s.text(2, r.server);
    s.integer(3, r.port);
    s.text(4, sip::transport_name(r.transport));
    s.text(5, r.outbound_proxy);
    s.text(6, r.aor_user);
    s.text(7, r.aor_domain);
    s.text(8, r.auth_user);
    s.text(9, r.password);
    s.text(10, r.contact_host);
    s.integer(11, r.contact_port);
    s.opt_integer(12, r.expires_s);
    s.opt_integer(13, r.retry_delay_s);
    if (r.privacy)
        s.text(14, privacy_text(*r.privacy));
    else
        s.null(14);
    if (r.send_unregister)
        s.integer(15, *r.send_unregister ? 1 : 0);
    else
        s.null(15);
    s.integer(16, r.enabled ? 1 : 0);
    s.integer(17, unix_now_ms());
    if (!s.done()) return fail(db_, error, "trunk_reg"), WriteOutcome::failed;
    return txn.commit(error) ? WriteOutcome::done : WriteOutcome::failed;
}

bool Store::remove_trunk_reg(std::string_view name, std::string* error) {
    return remove_trunk_reg(name, Precondition{}, error) == WriteOutcome::done;
}

WriteOutcome Store::remove_trunk_reg(std::string_view name, const Precondition& p,
                                     std::string* error) {
    clear(error);
    Txn txn(db_, error);
    if (!txn.began()) return WriteOutcome::failed;
    if (auto o = route::sqlite::as_outcome<WriteOutcome>(route::sqlite::check_row(db_, kTrunkVersion, name, p, error));
        o != WriteOutcome::done)
        return o;
    Stmt s(db_, "DELETE FROM trunk_reg WHERE name = ?1");
    if (!s.ok()) return fail(db_, error, "trunk_reg"), WriteOutcome::failed;
    s.text(1, name);
    if (!s.done()) return fail(db_, error, "trunk_reg"), WriteOutcome::failed;
    if (sqlite3_changes(db_) == 0) return WriteOutcome::missing;
    return txn.commit(error) ? WriteOutcome::done : WriteOutcome::failed;
}

std::optional<TrunkReg> Store::trunk_reg(std::string_view name, std::string* error) {
    clear(error);
    Stmt s(db_,
           (std::string("SELECT ") + kTrunkColumns + " FROM trunk_reg WHERE name = ?1").c_str());
    if (!s.ok()) return fail(db_, error, "trunk_reg"), std::nullopt;
    s.text(1, name);
    const int rc = s.step();
    if (rc == SQLITE_ROW) return read_trunk(s);
    if (rc != SQLITE_DONE) fail(db_, error, "trunk_reg");
    return std::nullopt;
}

std::vector<TrunkReg> Store::trunk_regs(std::string* error) {
    clear(error);
    std::vector<TrunkReg> out;
    Stmt s(db_, (std::string("SELECT ") + kTrunkColumns + " FROM trunk_reg ORDER BY name").c_str());
    if (!s.ok()) return fail(db_, error, "trunk_reg"), out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out.push_back(read_trunk(s));
    if (rc != SQLITE_DONE) return fail(db_, error, "trunk_reg"), std::vector<TrunkReg>{};
    return out;
}

// kTrunkColumns and the version after them (column 16).
std::optional<VersionedTrunkReg> Store::versioned_trunk_reg(std::string_view name,
                                                            std::string* error) {
    clear(error);
    Stmt s(db_, (std::string("SELECT ") + kTrunkColumns + ", version FROM trunk_reg WHERE name = ?1")
                    .c_str());
    if (!s.ok()) return fail(db_, error, "trunk_reg"), std::nullopt;
    s.text(1, name);
    const int rc = s.step();
    if (rc == SQLITE_ROW) return VersionedTrunkReg{read_trunk(s), s.col_i64(16)};
    if (rc != SQLITE_DONE) fail(db_, error, "trunk_reg");
    return std::nullopt;
}

std::vector<VersionedTrunkReg> Store::versioned_trunk_regs(std::string* error) {
    clear(error);
    std::vector<VersionedTrunkReg> out;
    Stmt s(db_, (std::string("SELECT ") + kTrunkColumns + ", version FROM trunk_reg ORDER BY name")
                    .c_str());
    if (!s.ok()) return fail(db_, error, "trunk_reg"), out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back({read_trunk(s), s.col_i64(16)});
    if (rc != SQLITE_DONE) return fail(db_, error, "trunk_reg"), std::vector<VersionedTrunkReg>{};
    return out;
}

bool Store::save_trunk_state(const TrunkRegState& r, std::string* error) {
    clear(error);
    if (r.name.empty()) return fail_msg(error, "save_trunk_state: empty name");
    Stmt s(db_, (std::string("INSERT OR REPLACE INTO trunk_reg_state(") + kStateColumns +
                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                 "?16, ?17, ?18, ?19)")
                    .c_str());
    if (!s.ok()) return fail(db_, error, "trunk_reg_state");
    s.text(1, r.name);
    s.text(2, r.persisted.call_id);
    s.integer(3, r.persisted.cseq);
    s.text(4, r.persisted.contact_uri);
    s.text(5, r.state);
    s.text(6, r.reason);
    s.opt_integer(7, r.expires_ms);
    s.opt_integer(8, r.next_attempt_ms);
    s.integer(9, r.last_code);
    s.text(10, r.last_reason_phrase);
    s.integer(11, r.consecutive_failures);
    s.integer(12, r.updated_ms);
    s.integer(13, r.clean_stop ? 1 : 0);
    s.text(14, r.registrar);
    s.text(15, r.dns_name);
    s.text(16, r.dns_state);
    s.text(17, r.dns_error);
    s.opt_integer(18, r.dns_since_ms);
    s.opt_integer(19, r.dns_until_ms);
    if (!s.done()) return fail(db_, error, "trunk_reg_state");
    return true;
}

std::optional<TrunkRegState> Store::trunk_state(std::string_view name, std::string* error) {
    clear(error);
    Stmt s(
        db_,
        (std::string("SELECT ") + kStateColumns + " FROM trunk_reg_state WHERE name = ?1").c_str());
    if (!s.ok()) return fail(db_, error, "trunk_reg_state"), std::nullopt;
    s.text(1, name);
    const int rc = s.step();
    if (rc == SQLITE_ROW) return read_state(s);
    if (rc != SQLITE_DONE) fail(db_, error, "trunk_reg_state");
    return std::nullopt;
}

std::vector<TrunkRegState> Store::trunk_states(std::string* error) {
    clear(error);
    std::vector<TrunkRegState> out;
    Stmt s(
        db_,
        (std::string("SELECT ") + kStateColumns + " FROM trunk_reg_state ORDER BY name").c_str());
    if (!s.ok()) return fail(db_, error, "trunk_reg_state"), out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out.push_back(read_state(s));
    if (rc != SQLITE_DONE) return fail(db_, error, "trunk_reg_state"), std::vector<TrunkRegState>{};
    return out;
}

bool Store::remove_trunk_state(std::string_view name, std::string* error) {
    clear(error);
    Stmt s(db_, "DELETE FROM trunk_reg_state WHERE name = ?1");
    if (!s.ok()) return fail(db_, error, "trunk_reg_state");
    s.text(1, name);
    if (!s.done()) return fail(db_, error, "trunk_reg_state");
    return sqlite3_changes(db_) > 0;
}

// --- suspensions ------------------------------------------------------------------------

bool Store::put_suspension(const SuspensionRecord& r, std::string* error) {
    clear(error);
    if (r.key.empty()) return fail_msg(error, "put_suspension: empty key");
    Stmt s(db_,
           "INSERT INTO reg_suspension(key, ip, address, until_ms, peer) "
           "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(key, ip, address) "
           "DO UPDATE SET until_ms = excluded.until_ms, peer = excluded.peer");
    if (!s.ok()) return fail(db_, error, "reg_suspension");
    s.text(1, r.key);
    s.integer(2, r.kind);
    s.text(3, r.pair() ? std::string_view(r.peer) : std::string_view());
    s.integer(4, r.until_ms);
    s.text(5, r.peer);
    if (!s.done()) return fail(db_, error, "reg_suspension");
    return true;
}

bool Store::remove_suspension(std::string_view key, int kind, std::string_view address,
                              std::string* error) {
    clear(error);
    Stmt s(db_, "DELETE FROM reg_suspension WHERE key = ?1 AND ip = ?2 AND address = ?3");
    if (!s.ok()) return fail(db_, error, "reg_suspension");
    s.text(1, key);
    s.integer(2, kind);
    s.text(3, kind == 2 ? address : std::string_view());
    if (!s.done()) return fail(db_, error, "reg_suspension");
    return sqlite3_changes(db_) > 0;
}

bool Store::remove_suspensions(std::string_view key, std::string* error) {
    clear(error);
    Stmt s(db_, "DELETE FROM reg_suspension WHERE key = ?1 OR (ip = 2 AND address = ?1)");
    if (!s.ok()) return fail(db_, error, "reg_suspension");
    s.text(1, key);
    if (!s.done()) return fail(db_, error, "reg_suspension");
    return sqlite3_changes(db_) > 0;
}

bool Store::apply_suspensions(const std::vector<SuspensionChange>& changes, std::string* error) {
    clear(error);
    if (changes.empty()) return true;
    Txn txn(db_, error);
    if (!txn.began()) return false;
    for (const SuspensionChange& c : changes) {
        const SuspensionRecord& r = c.record;
        std::string e;  // removing what is not there is no error
        if (c.remove)
            remove_suspension(r.key, r.kind, r.peer, &e);
        else
            put_suspension(r, &e);
        if (!e.empty()) return fail_msg(error, e);
    }
    return txn.commit(error);
}

std::vector<SuspensionRecord> Store::suspensions(std::string* error) {
    clear(error);
    std::vector<SuspensionRecord> out;
    Stmt s(db_, "SELECT key, ip, until_ms, peer FROM reg_suspension ORDER BY until_ms, key, ip");
    if (!s.ok()) return fail(db_, error, "reg_suspension"), out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out.push_back({s.col_text(0), static_cast<int>(s.col_i64(1)), s.col_i64(2), s.col_text(3)});
    if (rc != SQLITE_DONE)
        return fail(db_, error, "reg_suspension"), std::vector<SuspensionRecord>{};
    return out;
}

// --- operator commands ------------------------------------------------------------------

bool Store::add_command(std::string_view kind, std::string_view arg, std::string* error) {
    clear(error);
    if (kind.empty()) return fail_msg(error, "add_command: empty kind");
    Stmt s(db_, "INSERT INTO reg_command(kind, arg, created_ms) VALUES (?1, ?2, ?3)");
    if (!s.ok()) return fail(db_, error, "reg_command");
    s.text(1, kind);
    s.text(2, arg);
    s.integer(3, unix_now_ms());
    if (!s.done()) return fail(db_, error, "reg_command");
    return true;
}

std::vector<Command> Store::take_commands(std::string* error) {
    clear(error);
    std::vector<Command> out;
    {
        // A read first: in WAL it never waits, and the queue is nearly always empty, so the
        // switch's loop does not queue for the write lock behind the CDR writer every second.
        Stmt any(*kept_, db_, "SELECT 1 FROM reg_command LIMIT 1");
        if (!any.ok()) return fail(db_, error, "reg_command"), out;
        const int rc = any.step();
        if (rc == SQLITE_DONE) return out;
        if (rc != SQLITE_ROW) return fail(db_, error, "reg_command"), out;
    }
    Txn txn(db_, error, kept_.get());
    if (!txn.began()) return out;
    {
        Stmt s(*kept_, db_, "SELECT id, kind, arg, created_ms FROM reg_command ORDER BY id");
        if (!s.ok()) return fail(db_, error, "reg_command"), out;
        int rc;
        while ((rc = s.step()) == SQLITE_ROW)
            out.push_back({s.col_i64(0), s.col_text(1), s.col_text(2), s.col_i64(3)});
        if (rc != SQLITE_DONE) return fail(db_, error, "reg_command"), std::vector<Command>{};
    }
    if (out.empty()) {
        txn.commit(error);
        return out;
    }
    Stmt d(db_, "DELETE FROM reg_command WHERE id <= ?1");
    if (!d.ok()) return fail(db_, error, "reg_command"), std::vector<Command>{};
    d.integer(1, out.back().id);
    if (!d.done()) return fail(db_, error, "reg_command"), std::vector<Command>{};
    if (!txn.commit(error)) return {};
    return out;
}

}  // namespace route::reg::sqlite

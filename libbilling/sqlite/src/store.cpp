#include "billing/sqlite/store.hpp"

#include <sqlite3.h>

#include "billing/csv.hpp"
#include "billing/deck.hpp"

#include <algorithm>
#include <optional>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include <unordered_map>

namespace billing::sqlite {

namespace {

Error sql_error(sqlite3* db, int rc, std::string_view what) {
    ErrorCode code = ErrorCode::db_error;
    switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED: code = ErrorCode::db_locked; break;
        case SQLITE_FULL: code = ErrorCode::disk_full; break;
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN:
        case SQLITE_READONLY: code = ErrorCode::io_error; break;
        default: break;
    }
    std::string msg(what);
    msg += ": ";
    msg += db != nullptr && sqlite3_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    return make_error(code, std::move(msg));
}

// Schema migrations; entry i takes the schema from version i to i + 1.
const char* const kMigrations[] = {
    // v1
    R"sql(
CREATE TABLE settings(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE accounts(
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL,
  balance INTEGER NOT NULL,
  credit_limit INTEGER NOT NULL,
  rate_group TEXT NOT NULL DEFAULT '',
  private_group TEXT NOT NULL DEFAULT '',
  agent TEXT NOT NULL DEFAULT '',
  memo TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE TABLE ledger(
  id INTEGER PRIMARY KEY,
  account TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  amount INTEGER NOT NULL,
  memo TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ledger_account ON ledger(account);
CREATE TABLE rates(
  rate_group TEXT NOT NULL,
  prefix TEXT NOT NULL,
  period TEXT NOT NULL,
  effective_from INTEGER NOT NULL,
  effective_until INTEGER NOT NULL,
  area TEXT NOT NULL,
  type TEXT NOT NULL,
  price INTEGER NOT NULL,
  first_period INTEGER NOT NULL,
  first_price INTEGER NOT NULL,
  increment INTEGER NOT NULL,
  connection_fee INTEGER NOT NULL,
  PRIMARY KEY(rate_group, prefix, period, effective_from)
) WITHOUT ROWID;
CREATE TABLE phone_private(
  phone TEXT PRIMARY KEY,
  rate_group TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE cdrs(
  id INTEGER PRIMARY KEY,
  caller TEXT NOT NULL,
  callee TEXT NOT NULL,
  callee_out TEXT NOT NULL,
  customer TEXT NOT NULL,
  customer_gateway TEXT NOT NULL,
  vendor TEXT NOT NULL,
  vendor_gateway TEXT NOT NULL,
  setup_ms INTEGER NOT NULL,
  answer_ms INTEGER,
  end_ms INTEGER NOT NULL,
  duration_s INTEGER NOT NULL,
  hold_s INTEGER NOT NULL,
  sip_code INTEGER NOT NULL,
  end_reason TEXT NOT NULL,
  hangup INTEGER NOT NULL,
  rate_prefix TEXT NOT NULL,
  area TEXT NOT NULL,
  rate_type TEXT NOT NULL,
  vendor_prefix TEXT NOT NULL,
  customer_billed_s INTEGER NOT NULL,
  vendor_billed_s INTEGER NOT NULL,
  customer_price INTEGER NOT NULL,
  vendor_price INTEGER NOT NULL,
  charge INTEGER NOT NULL,
  cost INTEGER NOT NULL,
  profit INTEGER NOT NULL,
  call_id_in TEXT NOT NULL,
  call_id_out TEXT NOT NULL
);
CREATE INDEX cdrs_end ON cdrs(end_ms);
CREATE INDEX cdrs_customer ON cdrs(customer, end_ms);
CREATE INDEX cdrs_vendor ON cdrs(vendor, end_ms);
)sql",
    // v2: hourly rollup of the CDRs, written in the same transaction as the CDRs, so that
    // reports over long periods read a few rows per hour instead of every CDR. Backfilled
    // from the existing CDRs. The hour is floor(end_ms / 3600000).
    R"sql(
CREATE TABLE cdr_hourly(
  hour INTEGER NOT NULL,
  customer TEXT NOT NULL,
  customer_gateway TEXT NOT NULL,
  vendor TEXT NOT NULL,
  vendor_gateway TEXT NOT NULL,
  area TEXT NOT NULL,
  calls INTEGER NOT NULL,
  answered INTEGER NOT NULL,
  duration_s INTEGER NOT NULL,
  billed_s INTEGER NOT NULL,
  vendor_billed_s INTEGER NOT NULL,
  revenue INTEGER NOT NULL,
  cost INTEGER NOT NULL,
  profit INTEGER NOT NULL,
  PRIMARY KEY(hour, customer, customer_gateway, vendor, vendor_gateway, area)
) WITHOUT ROWID;
INSERT INTO cdr_hourly
  SELECT CASE WHEN end_ms >= 0 THEN end_ms / 3600000 ELSE -((-end_ms + 3599999) / 3600000) END,
         customer, customer_gateway, vendor, vendor_gateway, area,
         count(*), sum(duration_s > 0), sum(duration_s), sum(customer_billed_s), sum(vendor_billed_s),
         sum(charge), sum(cost), sum(profit)
  FROM cdrs GROUP BY 1, 2, 3, 4, 5, 6;
)sql",
    // v3: a change counter for Store::change_version(). One row; triggers bump it in the same
    // transaction as every write to what load_book() reads (accounts except a balance-only
    // update, the ledger, rates, phone_private) and to the settings, whoever writes them
    // (trunkctl, the sqlite3 shell, any other tool). insert_cdrs() touches none of them: it
    // writes cdrs and cdr_hourly and updates accounts.balance only. A column added to accounts
    // later must be added to the UPDATE OF list below (in a new migration).
    R"sql(
CREATE TABLE billing_change(
  one INTEGER PRIMARY KEY CHECK (one = 1),
  version INTEGER NOT NULL
);
INSERT INTO billing_change(one, version) VALUES(1, 1);
CREATE TRIGGER billing_change_accounts_insert AFTER INSERT ON accounts
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_accounts_delete AFTER DELETE ON accounts
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_accounts_update
  AFTER UPDATE OF id, name, kind, credit_limit, rate_group, private_group, agent, memo ON accounts
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_ledger_insert AFTER INSERT ON ledger
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_ledger_delete AFTER DELETE ON ledger
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_ledger_update AFTER UPDATE ON ledger
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_rates_insert AFTER INSERT ON rates
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_rates_delete AFTER DELETE ON rates
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_rates_update AFTER UPDATE ON rates
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_phone_private_insert AFTER INSERT ON phone_private
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_phone_private_delete AFTER DELETE ON phone_private
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_phone_private_update AFTER UPDATE ON phone_private
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_settings_insert AFTER INSERT ON settings
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_settings_delete AFTER DELETE ON settings
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_settings_update AFTER UPDATE ON settings
  BEGIN UPDATE billing_change SET version = version + 1; END;
)sql",
    // 4: the vendor gateways a call tried, with each one's answer ("gw1:503,gw2:200")
    R"sql(
ALTER TABLE cdrs ADD COLUMN gateways_tried TEXT NOT NULL DEFAULT '';
)sql",
    // 5: rate groups exist once created (an import, or explicitly while still empty), so an
    // account naming an unknown group is refused instead of failing later with "no customer
    // rate"; named deck import templates (VOS3000 feerate_template.conf). Neither is read
    // by load_book(), so neither bumps billing_change.
    R"sql(
CREATE TABLE rate_groups(
  name TEXT PRIMARY KEY,
  memo TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
INSERT OR IGNORE INTO rate_groups(name) SELECT DISTINCT rate_group FROM rates;
CREATE TABLE rate_templates(
  name TEXT PRIMARY KEY,
  mapping TEXT NOT NULL,
  delimiter TEXT NOT NULL,
  decimal_separator TEXT NOT NULL,
  date_format TEXT NOT NULL,
  first_line INTEGER NOT NULL,
  header INTEGER NOT NULL,
  encoding TEXT NOT NULL,
  first_period INTEGER NOT NULL,
  increment INTEGER NOT NULL,
  allow_zero_price INTEGER NOT NULL,
  memo TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
)sql",
    // 6: agent commission (VOS3000 agent accounts): a percentage, in parts per million, of
    // the charge or the profit of the agent's sub-accounts, computed by the Agent Income
    // report. The accounts change trigger is recreated with the new columns.
    R"sql(
ALTER TABLE accounts ADD COLUMN commission_basis TEXT NOT NULL DEFAULT 'charge'
  CHECK (commission_basis IN ('charge', 'profit'));
ALTER TABLE accounts ADD COLUMN commission_ppm INTEGER NOT NULL DEFAULT 0
  CHECK (commission_ppm BETWEEN 0 AND 1000000);
DROP TRIGGER billing_change_accounts_update;
CREATE TRIGGER billing_change_accounts_update
  AFTER UPDATE OF id, name, kind, credit_limit, rate_group, private_group, agent, memo,
                  commission_basis, commission_ppm ON accounts
  BEGIN UPDATE billing_change SET version = version + 1; END;
)sql",
    // 7: tiered pricing by monthly volume (billing/tiers.hpp): the tiers per customer and
    // prefix, and each one's billed seconds per local calendar month, which insert_cdrs()
    // checks and advances in the CDRs' transaction. Not read by load_book().
    R"sql(
CREATE TABLE volume_tiers(
  account TEXT NOT NULL,
  prefix TEXT NOT NULL,
  from_minutes INTEGER NOT NULL CHECK (from_minutes >= 0),
  price INTEGER NOT NULL CHECK (price >= 0),
  PRIMARY KEY(account, prefix, from_minutes)
) WITHOUT ROWID;
CREATE TABLE volume_usage(
  account TEXT NOT NULL,
  prefix TEXT NOT NULL,
  month TEXT NOT NULL,
  billed_s INTEGER NOT NULL,
  PRIMARY KEY(account, prefix, month)
) WITHOUT ROWID;
)sql",
    // 8: packages (billing/packages.hpp, VOS3000 packages): minutes to a set of prefixes sold
    // to a customer for a fee (a "package" ledger row written with the package), and the
    // seconds each one has covered, which insert_cdrs() checks and advances in the CDRs'
    // transaction. Prefixes are kept as "44,33" (digits and commas only, validated). Not read
    // by load_book().
    R"sql(
CREATE TABLE packages(
  account TEXT NOT NULL,
  name TEXT NOT NULL,
  prefixes TEXT NOT NULL,
  seconds INTEGER NOT NULL CHECK (seconds > 0),
  fee INTEGER NOT NULL CHECK (fee >= 0),
  valid_from INTEGER NOT NULL,
  valid_until INTEGER NOT NULL,
  sold_ms INTEGER NOT NULL,
  CHECK (valid_from < valid_until),
  PRIMARY KEY(account, name)
) WITHOUT ROWID;
CREATE TABLE package_usage(
  account TEXT NOT NULL,
  name TEXT NOT NULL,
  used_s INTEGER NOT NULL CHECK (used_s >= 0),
  PRIMARY KEY(account, name)
) WITHOUT ROWID;
)sql",
    // 9: commitment discounts (billing/commitments.hpp): a customer's contracted minutes per
    // local calendar month to a prefix ('' = every destination) and the discount earned when
    // they are reached, in ppm of the charge. Read by commitment_report() alone (from the
    // CDRs, no usage table): not read by load_book(). The CHECKs are validate()'s rules, so a
    // row written by hand cannot hold what trunkctl would refuse.
    R"sql(
CREATE TABLE commitments(
  account TEXT NOT NULL CHECK (account <> ''),
  prefix TEXT NOT NULL CHECK (length(prefix) <= 64 AND prefix NOT GLOB '*[^0-9]*'),
  minutes INTEGER NOT NULL CHECK (minutes BETWEEN 1 AND 1000000000),
  discount_ppm INTEGER NOT NULL CHECK (discount_ppm BETWEEN 0 AND 1000000),
  PRIMARY KEY(account, prefix)
) WITHOUT ROWID;
)sql",
    // 10: the running switch prices its calls by volume tiers and packages (loaded with the
    // book: load_volume_pricing), so changing them is an operator change that must reach it:
    // they bump billing_change like rates (a bonus package granted by insert_cdrs too). The
    // usage tables stay out (insert_cdrs writes them). Tiers get their bonus minutes.
    R"sql(
ALTER TABLE volume_tiers ADD COLUMN bonus_minutes INTEGER NOT NULL DEFAULT 0
  CHECK (bonus_minutes BETWEEN 0 AND 1000000000);
CREATE TRIGGER billing_change_volume_tiers_insert AFTER INSERT ON volume_tiers
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_volume_tiers_delete AFTER DELETE ON volume_tiers
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_volume_tiers_update AFTER UPDATE ON volume_tiers
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_packages_insert AFTER INSERT ON packages
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_packages_delete AFTER DELETE ON packages
  BEGIN UPDATE billing_change SET version = version + 1; END;
CREATE TRIGGER billing_change_packages_update AFTER UPDATE ON packages
  BEGIN UPDATE billing_change SET version = version + 1; END;
)sql",
};
constexpr int kMigrationCount = static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);
static_assert(kMigrationCount == Store::kSchemaVersion);

// A prepared statement in use: resets on scope exit so the cached statement can be reused.
class Q {
public:
    Q(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
    Q(const Q&) = delete;
    ~Q() {
        if (s_ != nullptr) {
            sqlite3_reset(s_);
            sqlite3_clear_bindings(s_);
        }
    }
    Q& i(int idx, std::int64_t v) {
        sqlite3_bind_int64(s_, idx, v);
        return *this;
    }
    Q& t(int idx, std::string_view v) {
        // A default-constructed string_view has a null data(), which SQLite would bind as
        // NULL; bind an empty text instead.
        sqlite3_bind_text(s_, idx, v.data() != nullptr ? v.data() : "", static_cast<int>(v.size()),
                          SQLITE_TRANSIENT);
        return *this;
    }
    Q& null(int idx) {
        sqlite3_bind_null(s_, idx);
        return *this;
    }
    int step() { return sqlite3_step(s_); }
    Result<void> run(std::string_view what) {
        const int rc = step();
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) return fail(sql_error(db_, rc, what));
        return {};
    }
    std::int64_t col_i(int c) const { return sqlite3_column_int64(s_, c); }
    bool col_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
    std::string col_t(int c) const {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
        return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, c)));
    }
    Money col_m(int c) const { return Money::from_micros(col_i(c)); }

private:
    sqlite3* db_;
    sqlite3_stmt* s_;
};

// Owns a one-off statement; declare it before the Q that uses it.
struct OwnedStmt {
    sqlite3_stmt* s = nullptr;
    OwnedStmt() = default;
    OwnedStmt(const OwnedStmt&) = delete;
    ~OwnedStmt() { sqlite3_finalize(s); }
};

}  // namespace

struct Store::Impl {
    sqlite3* db = nullptr;
    std::unordered_map<const char*, sqlite3_stmt*> stmts;
    int version = 0;

    ~Impl() {
        for (auto& [_, s] : stmts) sqlite3_finalize(s);
        if (db != nullptr) sqlite3_close_v2(db);
    }

    Result<sqlite3_stmt*> prepare(const char* sql) {
        auto it = stmts.find(sql);
        if (it != stmts.end()) return it->second;
        sqlite3_stmt* s = nullptr;
        const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
        if (rc != SQLITE_OK) return fail(sql_error(db, rc, "prepare"));
        stmts.emplace(sql, s);
        return s;
    }

    Result<void> exec(const char* sql, std::string_view what) {
        const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
        if (rc != SQLITE_OK) return fail(sql_error(db, rc, what));
        return {};
    }
};

// Rolls back unless committed.
class Txn {
public:
    explicit Txn(Store::Impl& s) : s_(s) {}
    ~Txn() {
        if (open_) sqlite3_exec(s_.db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Result<void> begin() {
        auto r = s_.exec("BEGIN IMMEDIATE", "begin transaction");
        open_ = static_cast<bool>(r);
        return r;
    }
    Result<void> commit() {
        auto r = s_.exec("COMMIT", "commit");
        if (r) open_ = false;
        return r;
    }

private:
    Store::Impl& s_;
    bool open_ = false;
};

#define BILLING_TRY(expr)                                 \
    do {                                                  \
        if (auto r_ = (expr); !r_) return fail(r_.error()); \
    } while (0)

#define BILLING_Q(var, sql)                                 \
    auto var##_stmt = impl_->prepare(sql);                  \
    if (!var##_stmt) return fail(var##_stmt.error());       \
    Q var(impl_->db, *var##_stmt)

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

int Store::schema_version() const { return impl_->version; }

Result<Store> Store::open(const std::string& path, StoreOptions opts) {
    auto impl = std::make_unique<Impl>();
    const int flags = (opts.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                      SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path.c_str(), &impl->db, flags, nullptr);
    if (rc != SQLITE_OK) return fail(sql_error(impl->db, rc, "open " + path));
    sqlite3_extended_result_codes(impl->db, 1);
    sqlite3_busy_timeout(impl->db, opts.busy_timeout_ms);
    if (!opts.read_only) BILLING_TRY(impl->exec("PRAGMA journal_mode=WAL", "enable WAL"));
    // 64 MiB page cache: large imports and reports touch big B-trees.
    BILLING_TRY(impl->exec("PRAGMA cache_size=-65536", "set cache size"));
    BILLING_TRY(impl->exec(opts.durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                           "set synchronous"));
    if (opts.max_page_count > 0) {
        const std::string q = "PRAGMA max_page_count=" + std::to_string(opts.max_page_count);
        BILLING_TRY(impl->exec(q.c_str(), "set max_page_count"));
    }
    {
        sqlite3_stmt* s = nullptr;
        rc = sqlite3_prepare_v2(impl->db, "PRAGMA user_version", -1, &s, nullptr);
        if (rc != SQLITE_OK) return fail(sql_error(impl->db, rc, "read schema version"));
        rc = sqlite3_step(s);
        impl->version = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
        sqlite3_finalize(s);
        if (rc != SQLITE_ROW) return fail(sql_error(impl->db, rc, "read schema version"));
    }
    if (impl->version > kSchemaVersion)
        return fail(ErrorCode::schema_too_new,
                    "database schema version " + std::to_string(impl->version) +
                        " is newer than this program's " + std::to_string(kSchemaVersion));
    if (impl->version < kSchemaVersion && opts.read_only)
        return fail(ErrorCode::db_error, "database needs a schema migration; open it read-write once");
    while (impl->version < kSchemaVersion) {
        Txn tx(*impl);
        BILLING_TRY(tx.begin());
        BILLING_TRY(impl->exec(kMigrations[impl->version], "migrate schema"));
        const std::string set = "PRAGMA user_version=" + std::to_string(impl->version + 1);
        BILLING_TRY(impl->exec(set.c_str(), "set schema version"));
        BILLING_TRY(tx.commit());
        ++impl->version;
    }
    return Store(std::move(impl));
}

// --- accounts -------------------------------------------------------------------------

static const char* const kAccountCols =
    "id, name, kind, balance, credit_limit, rate_group, private_group, agent, memo, commission_basis, "
    "commission_ppm";

static Result<Account> read_account(const Q& q) {
    Account a;
    a.id = q.col_t(0);
    a.name = q.col_t(1);
    auto k = parse_account_kind(q.col_t(2));
    if (!k) return fail(k.error());
    a.kind = *k;
    a.balance = q.col_m(3);
    a.credit_limit = q.col_m(4);
    a.rate_group = q.col_t(5);
    a.agent = q.col_t(7);
    a.memo = q.col_t(8);
    auto b = parse_commission_basis(q.col_t(9));
    if (!b) return fail(b.error());
    a.commission_basis = *b;
    a.commission_ppm = q.col_i(10);
    return a;
}

Result<void> Store::add_account(const Account& a, Timestamp at_ms) {
    if (a.id.empty()) return fail(ErrorCode::invalid_argument, "account id is empty", "id");
    if (a.credit_limit.is_negative())
        return fail(ErrorCode::invalid_argument, "credit limit must be >= 0", "credit_limit");
    BILLING_TRY(check_commission(a));
    Txn tx(*impl_);
    BILLING_TRY(tx.begin());
    {
        BILLING_Q(q, "SELECT 1 FROM accounts WHERE id = ?1");
        q.t(1, a.id);
        if (q.step() == SQLITE_ROW)
            return fail(ErrorCode::duplicate, "account " + a.id + " already exists", "id");
    }
    {
        BILLING_Q(q, "INSERT INTO accounts(id, name, kind, balance, credit_limit, rate_group, agent, memo, "
                     "commission_basis, commission_ppm) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
        q.t(1, a.id).t(2, a.name).t(3, to_string(a.kind)).i(4, a.balance.micros())
            .i(5, a.credit_limit.micros()).t(6, a.rate_group).t(7, a.agent).t(8, a.memo)
            .t(9, to_string(a.commission_basis)).i(10, a.commission_ppm);
        BILLING_TRY(q.run("insert account"));
    }
    {
        BILLING_Q(q, "INSERT INTO ledger(account, at_ms, kind, amount, memo) VALUES(?1, ?2, 'opening', ?3, '')");
        q.t(1, a.id).i(2, at_ms).i(3, a.balance.micros());
        BILLING_TRY(q.run("insert ledger"));
    }
    return tx.commit();
}

Result<Account> Store::account(std::string_view id) {
    BILLING_Q(q, "SELECT id, name, kind, balance, credit_limit, rate_group, private_group, agent, memo, "
                 "commission_basis, commission_ppm "
                 "FROM accounts WHERE id = ?1");
    q.t(1, id);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return read_account(q);
    if (rc == SQLITE_DONE)
        return fail(ErrorCode::unknown_account, "unknown account '" + std::string(id) + "'", "account");
    return fail(sql_error(impl_->db, rc, "read account"));
}

Result<std::vector<Account>> Store::accounts() {
    (void)kAccountCols;
    BILLING_Q(q, "SELECT id, name, kind, balance, credit_limit, rate_group, private_group, agent, memo, "
                 "commission_basis, commission_ppm "
                 "FROM accounts ORDER BY id");
    std::vector<Account> v;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        auto a = read_account(q);
        if (!a) return fail(a.error());
        v.push_back(std::move(*a));
    }
    if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "list accounts"));
    return v;
}

Result<Money> Store::topup(std::string_view id, Money amount, Timestamp at_ms, std::string_view memo) {
    Txn tx(*impl_);
    BILLING_TRY(tx.begin());
    auto nb = move_balance(id, amount, at_ms, amount.is_negative() ? "adjust" : "topup", memo);
    if (!nb) return nb;
    BILLING_TRY(tx.commit());
    return *nb;
}

// Inside the caller's transaction: adds `amount` to the balance with a ledger row of `kind`.
Result<Money> Store::move_balance(std::string_view id, Money amount, Timestamp at_ms, std::string_view kind,
                                  std::string_view memo) {
    Money balance;
    {
        BILLING_Q(q, "SELECT balance FROM accounts WHERE id = ?1");
        q.t(1, id);
        const int rc = q.step();
        if (rc == SQLITE_DONE)
            return fail(ErrorCode::unknown_account, "unknown account '" + std::string(id) + "'", "account");
        if (rc != SQLITE_ROW) return fail(sql_error(impl_->db, rc, "read balance"));
        balance = q.col_m(0);
    }
    auto nb = balance.add(amount);
    if (!nb) return fail(ErrorCode::overflow, "balance would overflow", "amount");
    {
        BILLING_Q(q, "UPDATE accounts SET balance = ?2 WHERE id = ?1");
        q.t(1, id).i(2, nb->micros());
        BILLING_TRY(q.run("update balance"));
    }
    {
        BILLING_Q(q, "INSERT INTO ledger(account, at_ms, kind, amount, memo) VALUES(?1, ?2, ?3, ?4, ?5)");
        q.t(1, id).i(2, at_ms).t(3, kind).i(4, amount.micros()).t(5, memo);
        BILLING_TRY(q.run("insert ledger"));
    }
    return *nb;
}

Result<std::vector<LedgerEntry>> Store::ledger(std::string_view id) {
    BILLING_Q(q, "SELECT id, account, at_ms, kind, amount, memo FROM ledger WHERE account = ?1 ORDER BY id");
    q.t(1, id);
    std::vector<LedgerEntry> v;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
        v.push_back({q.col_i(0), q.col_t(1), q.col_i(2), q.col_t(3), q.col_m(4), q.col_t(5)});
    if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read ledger"));
    return v;
}

static Failure unknown_account(std::string_view id) {
    return fail(ErrorCode::unknown_account, "unknown account '" + std::string(id) + "'", "account");
}

Result<void> Store::update_account(const Account& a) {
    if (a.credit_limit.is_negative())
        return fail(ErrorCode::invalid_argument, "credit limit must be >= 0", "credit_limit");
    BILLING_TRY(check_commission(a));
    BILLING_Q(q, "UPDATE accounts SET name = ?2, kind = ?3, credit_limit = ?4, rate_group = ?5, agent = ?6, "
                 "memo = ?7, commission_basis = ?8, commission_ppm = ?9 WHERE id = ?1");
    q.t(1, a.id).t(2, a.name).t(3, to_string(a.kind)).i(4, a.credit_limit.micros()).t(5, a.rate_group)
        .t(6, a.agent).t(7, a.memo).t(8, to_string(a.commission_basis)).i(9, a.commission_ppm);
    BILLING_TRY(q.run("update account"));
    if (sqlite3_changes(impl_->db) == 0) return unknown_account(a.id);
    return {};
}

Result<void> Store::set_rate_group(std::string_view account_id, std::string_view group) {
    BILLING_Q(q, "UPDATE accounts SET rate_group = ?2 WHERE id = ?1");
    q.t(1, account_id).t(2, group);
    BILLING_TRY(q.run("set rate group"));
    if (sqlite3_changes(impl_->db) == 0) return unknown_account(account_id);
    return {};
}

Result<void> Store::set_account_private(std::string_view account_id, std::string_view group) {
    BILLING_Q(q, "UPDATE accounts SET private_group = ?2 WHERE id = ?1");
    q.t(1, account_id).t(2, group);
    BILLING_TRY(q.run("set private rates"));
    if (sqlite3_changes(impl_->db) == 0) return unknown_account(account_id);
    return {};
}

Result<void> Store::set_phone_private(std::string_view phone, std::string_view group) {
    if (phone.empty()) return fail(ErrorCode::invalid_argument, "phone number is empty", "phone");
    if (group.empty()) {
        BILLING_Q(q, "DELETE FROM phone_private WHERE phone = ?1");
        q.t(1, phone);
        return q.run("delete phone private rates");
    }
    BILLING_Q(q, "INSERT OR REPLACE INTO phone_private(phone, rate_group) VALUES(?1, ?2)");
    q.t(1, phone).t(2, group);
    return q.run("set phone private rates");
}

// --- rates ----------------------------------------------------------------------------

Result<std::size_t> Store::import_rates(std::string_view group, std::span<const Rate> rates, bool replace) {
    if (group.empty()) return fail(ErrorCode::invalid_argument, "rate group name is empty", "group");
    for (std::size_t i = 0; i < rates.size(); ++i)
        if (auto v = validate(rates[i]); !v) {
            Error e = v.error();
            e.line = i + 1;
            return fail(std::move(e));
        }
    Txn tx(*impl_);
    BILLING_TRY(tx.begin());
    {
        BILLING_Q(q, "INSERT OR IGNORE INTO rate_groups(name) VALUES(?1)");
        q.t(1, group);
        BILLING_TRY(q.run("create rate group"));
    }
    if (replace) {
        BILLING_Q(q, "DELETE FROM rates WHERE rate_group = ?1");
        q.t(1, group);
        BILLING_TRY(q.run("delete rates"));
    }
    BILLING_Q(q, "INSERT INTO rates(rate_group, prefix, area, type, price, first_period, first_price, "
                 "increment, connection_fee, effective_from, effective_until, period) "
                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
                 "ON CONFLICT(rate_group, prefix, period, effective_from) DO UPDATE SET "
                 "area = excluded.area, type = excluded.type, price = excluded.price, "
                 "first_period = excluded.first_period, first_price = excluded.first_price, "
                 "increment = excluded.increment, connection_fee = excluded.connection_fee, "
                 "effective_until = excluded.effective_until");
    auto* s = *q_stmt;
    // Insert in the unique index's key order so that the index B-tree grows by appending
    // (a 1,000,000-line deck in random order is several times slower).
    std::vector<std::uint32_t> order(rates.size());
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) {
        const Rate& a = rates[x];
        const Rate& b = rates[y];
        if (a.prefix != b.prefix) return a.prefix < b.prefix;
        if (a.period != b.period) return to_string(a.period) < to_string(b.period);
        return a.effective_from < b.effective_from;
    });
    for (std::uint32_t idx : order) {
        const Rate& r = rates[idx];
        q.t(1, group).t(2, r.prefix).t(3, r.area).t(4, to_string(r.type)).i(5, r.price.micros())
            .i(6, r.first_period_s).i(7, r.first_price.micros()).i(8, r.increment_s)
            .i(9, r.connection_fee.micros()).i(10, r.effective_from).i(11, r.effective_until)
            .t(12, to_string(r.period));
        const int rc = q.step();
        if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "insert rate " + r.prefix));
        sqlite3_reset(s);
    }
    BILLING_TRY(tx.commit());
    return rates.size();
}

static Result<Rate> read_rate(const Q& q, int c) {
    Rate r;
    r.prefix = q.col_t(c + 0);
    r.area = q.col_t(c + 1);
    auto t = parse_rate_type(q.col_t(c + 2));
    if (!t) return fail(t.error());
    r.type = *t;
    r.price = q.col_m(c + 3);
    r.first_period_s = static_cast<std::int32_t>(q.col_i(c + 4));
    r.first_price = q.col_m(c + 5);
    r.increment_s = static_cast<std::int32_t>(q.col_i(c + 6));
    r.connection_fee = q.col_m(c + 7);
    r.effective_from = q.col_i(c + 8);
    r.effective_until = q.col_i(c + 9);
    auto p = parse_period(q.col_t(c + 10));
    if (!p) return fail(p.error());
    r.period = *p;
    return r;
}

Result<std::vector<Rate>> Store::rates(std::string_view group) {
    BILLING_Q(q, "SELECT prefix, area, type, price, first_period, first_price, increment, connection_fee, "
                 "effective_from, effective_until, period FROM rates WHERE rate_group = ?1 "
                 "ORDER BY prefix, period, effective_from");
    q.t(1, group);
    std::vector<Rate> v;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        auto r = read_rate(q, 0);
        if (!r) return fail(r.error());
        v.push_back(std::move(*r));
    }
    if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read rates"));
    return v;
}

Result<std::vector<std::string>> Store::rate_groups() {
    BILLING_Q(q, "SELECT name FROM rate_groups UNION SELECT rate_group FROM rates ORDER BY 1");
    std::vector<std::string> v;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) v.push_back(q.col_t(0));
    if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "list rate groups"));
    return v;
}

Result<void> Store::create_rate_group(std::string_view group) {
    if (group.empty()) return fail(ErrorCode::invalid_argument, "rate group name is empty", "group");
    auto exists = rate_group_exists(group);
    if (!exists) return fail(exists.error());
    if (*exists) return fail(ErrorCode::duplicate, "rate group '" + std::string(group) + "' already exists", "group");
    BILLING_Q(q, "INSERT INTO rate_groups(name) VALUES(?1)");
    q.t(1, group);
    return q.run("create rate group");
}

Result<bool> Store::rate_group_exists(std::string_view group) {
    // rates too: rows written by other tools through SQL make their group exist.
    BILLING_Q(q, "SELECT 1 FROM rate_groups WHERE name = ?1 UNION ALL "
                 "SELECT 1 FROM rates WHERE rate_group = ?1 LIMIT 1");
    q.t(1, group);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return fail(sql_error(impl_->db, rc, "read rate group"));
}

Result<std::vector<Store::RateGroupInfo>> Store::rate_group_infos() {
    BILLING_Q(q, "SELECT g, (SELECT count(*) FROM rates WHERE rate_group = g), "
                 "(SELECT count(*) FROM accounts WHERE rate_group = g OR private_group = g) "
                 "FROM (SELECT name AS g FROM rate_groups UNION SELECT rate_group FROM rates) ORDER BY g");
    std::vector<RateGroupInfo> v;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) v.push_back({q.col_t(0), q.col_i(1), q.col_i(2)});
    if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "list rate groups"));
    return v;
}

// --- deck templates -------------------------------------------------------------------

static Result<DeckTemplate> read_template(const Q& q) {
    DeckTemplate t;
    t.name = q.col_t(0);
    DeckFormat& f = t.format;
    auto bad = [&](const std::string& what) {
        return fail(ErrorCode::db_error, "template '" + t.name + "': bad stored " + what, "template");
    };
    if (auto m = parse_mapping(q.col_t(1), f); !m) return bad("mapping: " + m.error().message);
    const std::string delim = q.col_t(2), dec = q.col_t(3);
    if (delim.size() != 1) return bad("delimiter");
    f.delimiter = delim[0];
    f.decimal_comma = dec == ",";
    f.date_format = q.col_t(4);
    if (q.col_i(5) < 1) return bad("first line");
    f.skip_lines = static_cast<std::size_t>(q.col_i(5) - 1);
    f.header = q.col_i(6) != 0;
    auto enc = parse_encoding(q.col_t(7));
    if (!enc) return bad("encoding");
    f.encoding = *enc;
    f.default_first_period = static_cast<std::int32_t>(q.col_i(8));
    f.default_increment = static_cast<std::int32_t>(q.col_i(9));
    f.allow_zero_price = q.col_i(10) != 0;
    t.memo = q.col_t(11);
    return t;
}

#define BILLING_TEMPLATE_COLS \
    "name, mapping, delimiter, decimal_separator, date_format, first_line, header, encoding, " \
    "first_period, increment, allow_zero_price, memo"

Result<void> Store::put_deck_template(const DeckTemplate& t, bool replace) {
    if (t.name.empty()) return fail(ErrorCode::invalid_argument, "template name is empty", "template");
    const DeckFormat& f = t.format;
    if (!f.date_format.empty()) BILLING_TRY(check_time_format(f.date_format));
    if (f.default_increment < 1) return fail(ErrorCode::invalid_argument, "increment must be >= 1 second", "increment");
    if (!replace) {
        auto old = deck_template(t.name);
        if (old) return fail(ErrorCode::duplicate, "template '" + t.name + "' already exists", "template");
    }
    BILLING_Q(q, "INSERT OR REPLACE INTO rate_templates(" BILLING_TEMPLATE_COLS
                 ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    q.t(1, t.name).t(2, format_mapping(f)).t(3, std::string(1, f.delimiter)).t(4, f.decimal_comma ? "," : ".")
        .t(5, f.date_format).i(6, static_cast<std::int64_t>(f.skip_lines) + 1).i(7, f.header ? 1 : 0)
        .t(8, to_string(f.encoding)).i(9, f.default_first_period).i(10, f.default_increment)
        .i(11, f.allow_zero_price ? 1 : 0).t(12, t.memo);
    return q.run("store template");
}

Result<DeckTemplate> Store::deck_template(std::string_view name) {
    BILLING_Q(q, "SELECT " BILLING_TEMPLATE_COLS " FROM rate_templates WHERE name = ?1");
    q.t(1, name);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return read_template(q);
    if (rc == SQLITE_DONE)
        return fail(ErrorCode::invalid_argument, "unknown template '" + std::string(name) + "'", "template");
    return fail(sql_error(impl_->db, rc, "read template"));
}

Result<std::vector<DeckTemplate>> Store::deck_templates() {
    BILLING_Q(q, "SELECT " BILLING_TEMPLATE_COLS " FROM rate_templates ORDER BY name");
    std::vector<DeckTemplate> v;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        auto t = read_template(q);
        if (!t) return fail(t.error());
        v.push_back(std::move(*t));
    }
    if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "list templates"));
    return v;
}

Result<void> Store::remove_deck_template(std::string_view name) {
    BILLING_Q(q, "DELETE FROM rate_templates WHERE name = ?1");
    q.t(1, name);
    BILLING_TRY(q.run("remove template"));
    if (sqlite3_changes(impl_->db) == 0)
        return fail(ErrorCode::invalid_argument, "unknown template '" + std::string(name) + "'", "template");
    return {};
}

Result<Book> Store::load_book() {
    Book book;
    {
        BILLING_Q(q, "SELECT rate_group, prefix, area, type, price, first_period, first_price, increment, "
                     "connection_fee, effective_from, effective_until, period FROM rates");
        int rc;
        while ((rc = q.step()) == SQLITE_ROW) {
            auto r = read_rate(q, 1);
            if (!r) return fail(r.error());
            BILLING_TRY(book.group(q.col_t(0)).upsert(std::move(*r)));
        }
        if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read rates"));
    }
    {
        BILLING_Q(q, "SELECT id, name, kind, balance, credit_limit, rate_group, private_group, agent, memo, "
                 "commission_basis, commission_ppm "
                     "FROM accounts");
        int rc;
        while ((rc = q.step()) == SQLITE_ROW) {
            auto a = read_account(q);
            if (!a) return fail(a.error());
            const std::string priv = q.col_t(6);
            const std::string id = a->id;
            BILLING_TRY(book.add_account(std::move(*a)));
            if (!priv.empty()) BILLING_TRY(book.set_account_private(id, priv));
        }
        if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read accounts"));
    }
    {
        BILLING_Q(q, "SELECT phone, rate_group FROM phone_private");
        int rc;
        while ((rc = q.step()) == SQLITE_ROW) BILLING_TRY(book.set_phone_private(q.col_t(0), q.col_t(1)));
        if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read phone private rates"));
    }
    book.compact();
    return book;
}

Result<std::int64_t> Store::change_version() {
    // The statement is reset when q goes out of scope, so no read snapshot stays open and
    // the next call sees every commit made since (by this or any other connection).
    BILLING_Q(q, "SELECT version FROM billing_change WHERE one = 1");
    const int rc = q.step();
    if (rc == SQLITE_ROW) return q.col_i(0);
    if (rc == SQLITE_DONE) return fail(ErrorCode::db_error, "billing_change has no row");
    return fail(sql_error(impl_->db, rc, "read change version"));
}

// --- CDRs -----------------------------------------------------------------------------

namespace {

constexpr std::int64_t kHourMs = 3600000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if (a % b != 0 && ((a < 0) != (b < 0))) --q;
    return q;
}
// ceil(a / b) for b > 0, without negating a (INT64_MIN has no negation).
std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if (a % b != 0 && a > 0) ++q;
    return q;
}

}  // namespace

// Adds a batch to cdr_hourly (inside the caller's transaction). Sums are checked in C++.
Result<void> Store::update_rollup(std::span<const Cdr> batch) {
    using Key = std::tuple<std::int64_t, std::string_view, std::string_view, std::string_view, std::string_view,
                           std::string_view>;
    std::map<Key, ReportRow> agg;
    for (const Cdr& c : batch) {
        ReportRow& r = agg[Key{floor_div(c.call.end_ms, kHourMs), c.call.customer, c.call.customer_gateway,
                               c.call.vendor, c.call.vendor_gateway, c.area}];
        ReportRow one;
        one.calls = 1;
        one.answered = c.duration_s > 0 ? 1 : 0;
        one.duration_s = c.duration_s;
        one.billed_s = c.customer_billed_s;
        one.vendor_billed_s = c.vendor_billed_s;
        one.revenue = c.charge;
        one.cost = c.cost;
        one.profit = c.profit;
        BILLING_TRY(r.add(one));
    }
    BILLING_Q(sel, "SELECT calls, answered, duration_s, billed_s, vendor_billed_s, revenue, cost, profit "
                   "FROM cdr_hourly WHERE hour = ?1 AND customer = ?2 AND customer_gateway = ?3 AND vendor = ?4 "
                   "AND vendor_gateway = ?5 AND area = ?6");
    BILLING_Q(put, "INSERT OR REPLACE INTO cdr_hourly(hour, customer, customer_gateway, vendor, vendor_gateway, "
                   "area, calls, answered, duration_s, billed_s, vendor_billed_s, revenue, cost, profit) "
                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
    for (auto& [k, r] : agg) {
        sel.i(1, std::get<0>(k)).t(2, std::get<1>(k)).t(3, std::get<2>(k)).t(4, std::get<3>(k))
            .t(5, std::get<4>(k)).t(6, std::get<5>(k));
        const int rc = sel.step();
        if (rc == SQLITE_ROW) {
            ReportRow old;
            old.calls = sel.col_i(0);
            old.answered = sel.col_i(1);
            old.duration_s = sel.col_i(2);
            old.billed_s = sel.col_i(3);
            old.vendor_billed_s = sel.col_i(4);
            old.revenue = sel.col_m(5);
            old.cost = sel.col_m(6);
            old.profit = sel.col_m(7);
            BILLING_TRY(r.add(old));
        } else if (rc != SQLITE_DONE) {
            return fail(sql_error(impl_->db, rc, "read hourly rollup"));
        }
        sqlite3_reset(*sel_stmt);
        put.i(1, std::get<0>(k)).t(2, std::get<1>(k)).t(3, std::get<2>(k)).t(4, std::get<3>(k))
            .t(5, std::get<4>(k)).t(6, std::get<5>(k)).i(7, r.calls).i(8, r.answered).i(9, r.duration_s)
            .i(10, r.billed_s).i(11, r.vendor_billed_s).i(12, r.revenue.micros()).i(13, r.cost.micros())
            .i(14, r.profit.micros());
        const int prc = put.step();
        sqlite3_reset(*put_stmt);
        if (prc != SQLITE_DONE) return fail(sql_error(impl_->db, prc, "write hourly rollup"));
    }
    return {};
}

// Tiered CDRs: the volume each was priced at must still be the stored one (else another
// writer counted calls meanwhile and the price may be wrong: the batch is refused, to be
// rated again); then the call's billed seconds are added. Inside insert_cdrs' transaction.
Result<void> Store::update_volumes(std::span<const Cdr> batch, CountCheck check) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const Cdr& c = batch[i];
        if (c.tier_prefix.empty()) continue;
        std::int64_t used = 0;
        {
            BILLING_Q(q, "SELECT billed_s FROM volume_usage WHERE account = ?1 AND prefix = ?2 AND month = ?3");
            q.t(1, c.call.customer).t(2, c.tier_prefix).t(3, c.tier_month);
            const int rc = q.step();
            if (rc == SQLITE_ROW) used = q.col_i(0);
            else if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read volume"));
        }
        if (used != c.volume_before_s && check == CountCheck::exact)
            return fail(ErrorCode::invalid_argument,
                        "volume of " + c.call.customer + " to " + c.tier_prefix + " in " + c.tier_month + " is " +
                            std::to_string(used) + " s, the call was priced at " +
                            std::to_string(c.volume_before_s) + " s: rate it again",
                        "volume", i + 1);
        std::int64_t next = 0;
        if (__builtin_add_overflow(used, c.customer_billed_s, &next))
            return fail(ErrorCode::overflow, "volume out of range", "volume", i + 1);
        {
            BILLING_Q(u, "INSERT INTO volume_usage(account, prefix, month, billed_s) VALUES(?1, ?2, ?3, ?4) "
                         "ON CONFLICT(account, prefix, month) DO UPDATE SET billed_s = excluded.billed_s");
            u.t(1, c.call.customer).t(2, c.tier_prefix).t(3, c.tier_month).i(4, next);
            BILLING_TRY(u.run("count volume"));
        }
        BILLING_TRY(grant_bonus(c, used, next));
    }
    return {};
}

// The bonus packages of the tier thresholds in (before, after] (billing::bonus_package, as
// VolumePricing::count grants them in memory); an existing one (same name) is kept.
Result<void> Store::grant_bonus(const Cdr& c, std::int64_t before, std::int64_t after) {
    std::vector<VolumeTier> crossed;
    {
        BILLING_Q(q, "SELECT from_minutes, bonus_minutes FROM volume_tiers WHERE account = ?1 AND prefix = ?2 "
                     "AND bonus_minutes > 0 AND from_minutes * 60 > ?3 AND from_minutes * 60 <= ?4");
        q.t(1, c.call.customer).t(2, c.tier_prefix).i(3, before).i(4, after);
        int rc;
        while ((rc = q.step()) == SQLITE_ROW)
            crossed.push_back(VolumeTier{c.call.customer, c.tier_prefix, q.col_i(0), Money{}, q.col_i(1)});
        if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read bonus tiers"));
    }
    if (crossed.empty()) return {};
    auto cfg = rating_config();
    if (!cfg) return fail(cfg.error());
    Cdr at = c;
    at.volume_before_s = before;  // the stored volume, which rebase may have moved
    at.customer_billed_s = after - before;
    for (const VolumeTier& t : crossed) {
        auto p = bonus_package(t, at, cfg->calendar);
        if (!p) continue;
        BILLING_Q(ins, "INSERT OR IGNORE INTO packages(account, name, prefixes, seconds, fee, valid_from, "
                       "valid_until, sold_ms) VALUES(?1, ?2, ?3, ?4, 0, ?5, ?6, ?7)");
        ins.t(1, p->account).t(2, p->name).t(3, join_prefixes(p->prefixes)).i(4, p->seconds).i(5, p->valid_from)
            .i(6, p->valid_until).i(7, c.call.end_ms);
        BILLING_TRY(ins.run("grant bonus minutes"));
    }
    return {};
}

Result<void> Store::put_volume_tier(const VolumeTier& t) {
    BILLING_TRY(validate(t));
    BILLING_Q(q, "INSERT INTO volume_tiers(account, prefix, from_minutes, price, bonus_minutes) "
                 "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(account, prefix, from_minutes) DO UPDATE "
                 "SET price = excluded.price, bonus_minutes = excluded.bonus_minutes");
    q.t(1, t.account).t(2, t.prefix).i(3, t.from_minutes).i(4, t.price.micros()).i(5, t.bonus_minutes);
    return q.run("store tier");
}

Result<void> Store::remove_volume_tier(std::string_view account, std::string_view prefix, std::int64_t from_minutes) {
    BILLING_Q(q, "DELETE FROM volume_tiers WHERE account = ?1 AND prefix = ?2 AND from_minutes = ?3");
    q.t(1, account).t(2, prefix).i(3, from_minutes);
    BILLING_TRY(q.run("remove tier"));
    if (sqlite3_changes(impl_->db) == 0)
        return fail(ErrorCode::invalid_argument,
                    "no tier " + std::string(account) + " " + std::string(prefix) + " from " +
                        std::to_string(from_minutes) + " minutes",
                    "tier");
    return {};
}

Result<VolumeTiers> Store::volume_tiers() {
    VolumeTiers v;
    BILLING_Q(q, "SELECT account, prefix, from_minutes, price, bonus_minutes FROM volume_tiers");
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
        BILLING_TRY(v.add(VolumeTier{q.col_t(0), q.col_t(1), q.col_i(2), q.col_m(3), q.col_i(4)}));
    if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read tiers"));
    return v;
}

Result<std::int64_t> Store::volume_used(std::string_view account, std::string_view prefix, std::string_view month) {
    BILLING_Q(q, "SELECT billed_s FROM volume_usage WHERE account = ?1 AND prefix = ?2 AND month = ?3");
    q.t(1, account).t(2, prefix).t(3, month);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return q.col_i(0);
    if (rc == SQLITE_DONE) return std::int64_t{0};
    return fail(sql_error(impl_->db, rc, "read volume"));
}

// --- packages -------------------------------------------------------------------------

// CDRs that used a package: the package must still exist and its usage still be the one the
// call was priced at (else another writer used it meanwhile, or it was removed: the batch is
// refused, to be rated again); then the covered seconds are added. Inside insert_cdrs'
// transaction.
Result<void> Store::update_packages(std::span<const Cdr> batch, CountCheck check) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const Cdr& c = batch[i];
        if (c.package_name.empty()) continue;
        const std::string who = c.call.customer + " " + c.package_name;
        std::int64_t seconds = 0;
        {
            BILLING_Q(q, "SELECT seconds FROM packages WHERE account = ?1 AND name = ?2");
            q.t(1, c.call.customer).t(2, c.package_name);
            const int rc = q.step();
            if (rc == SQLITE_DONE && check == CountCheck::rebase) continue;  // removed: nothing to count
            if (rc == SQLITE_DONE)
                return fail(ErrorCode::invalid_argument, "package " + who + " does not exist (removed?): rate it again",
                            "package", i + 1);
            if (rc != SQLITE_ROW) return fail(sql_error(impl_->db, rc, "read package"));
            seconds = q.col_i(0);
        }
        auto used = package_used(c.call.customer, c.package_name);
        if (!used) return fail(used.error());
        if (*used != c.package_before_s && check == CountCheck::exact)
            return fail(ErrorCode::invalid_argument,
                        "package " + who + " has used " + std::to_string(*used) + " s, the call was priced at " +
                            std::to_string(c.package_before_s) + " s: rate it again",
                        "package", i + 1);
        std::int64_t next = 0;
        if (check == CountCheck::rebase && c.package_s >= 0 && !__builtin_add_overflow(*used, c.package_s, &next))
            next = std::min(next, seconds);  // never past the package's seconds
        else if (c.package_s < 0 || __builtin_add_overflow(*used, c.package_s, &next) || next > seconds)
            return fail(ErrorCode::invalid_argument,
                        "package " + who + " has " + std::to_string(seconds - *used) + " s left, the call used " +
                            std::to_string(c.package_s) + " s",
                        "package", i + 1);
        BILLING_Q(u, "INSERT INTO package_usage(account, name, used_s) VALUES(?1, ?2, ?3) "
                     "ON CONFLICT(account, name) DO UPDATE SET used_s = excluded.used_s");
        u.t(1, c.call.customer).t(2, c.package_name).i(3, next);
        BILLING_TRY(u.run("count package"));
    }
    return {};
}

Result<Money> Store::sell_package(const Package& p, Timestamp at_ms) {
    BILLING_TRY(validate(p));
    Txn tx(*impl_);
    BILLING_TRY(tx.begin());
    auto acc = account(p.account);
    if (!acc) return fail(acc.error());
    if (acc->kind != AccountKind::customer)
        return fail(ErrorCode::invalid_argument,
                    "account " + acc->id + " is a " + std::string(to_string(acc->kind)) +
                        ": packages are sold to customer accounts",
                    "account");
    // Sold like any prepaid purchase: the fee must fit in balance + credit limit.
    auto avail = acc->available();
    if (!avail || *avail < p.fee)
        return fail(ErrorCode::insufficient_funds,
                    "account " + acc->id + " has " + (avail ? avail->to_string(2) : std::string("?")) +
                        " available (balance + credit limit), the package fee is " + p.fee.to_string(2),
                    "fee");
    {
        BILLING_Q(q, "INSERT INTO packages(account, name, prefixes, seconds, fee, valid_from, valid_until, sold_ms) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(account, name) DO NOTHING");
        q.t(1, p.account).t(2, p.name).t(3, join_prefixes(p.prefixes)).i(4, p.seconds).i(5, p.fee.micros())
            .i(6, p.valid_from).i(7, p.valid_until).i(8, at_ms);
        BILLING_TRY(q.run("store package"));
        if (sqlite3_changes(impl_->db) == 0)
            return fail(ErrorCode::duplicate, "package " + p.account + " " + p.name + " exists", "name");
    }
    auto fee = Money{}.sub(p.fee);
    if (!fee) return fail(fee.error());
    auto nb = move_balance(p.account, *fee, at_ms, "package", "package " + p.name);
    if (!nb) return nb;
    BILLING_TRY(tx.commit());
    return *nb;
}

Result<void> Store::remove_package(std::string_view account, std::string_view name) {
    Txn tx(*impl_);
    BILLING_TRY(tx.begin());
    {
        BILLING_Q(q, "DELETE FROM packages WHERE account = ?1 AND name = ?2");
        q.t(1, account).t(2, name);
        BILLING_TRY(q.run("remove package"));
        if (sqlite3_changes(impl_->db) == 0)
            return fail(ErrorCode::invalid_argument,
                        "no package " + std::string(account) + " " + std::string(name), "package");
    }
    {
        BILLING_Q(q, "DELETE FROM package_usage WHERE account = ?1 AND name = ?2");
        q.t(1, account).t(2, name);
        BILLING_TRY(q.run("remove package usage"));
    }
    return tx.commit();
}

Result<Packages> Store::packages() {
    Packages v;
    BILLING_Q(q, "SELECT account, name, prefixes, seconds, fee, valid_from, valid_until FROM packages");
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        Package p{q.col_t(0), q.col_t(1), split_prefixes(q.col_t(2)), q.col_i(3), q.col_m(4), q.col_i(5), q.col_i(6)};
        BILLING_TRY(v.add(std::move(p)));
    }
    if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read packages"));
    return v;
}

Result<std::int64_t> Store::package_used(std::string_view account, std::string_view name) {
    BILLING_Q(q, "SELECT used_s FROM package_usage WHERE account = ?1 AND name = ?2");
    q.t(1, account).t(2, name);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return q.col_i(0);
    if (rc == SQLITE_DONE) return std::int64_t{0};
    return fail(sql_error(impl_->db, rc, "read package usage"));
}

Result<PackageReport> Store::package_report(Timestamp from, Timestamp until) {
    PackageReport out;
    auto read = [&]() -> Result<void> {
        auto cur = currency();
        if (!cur) return fail(cur.error());
        out.decimals = cur->precision;
        auto all = packages();
        if (!all) return fail(all.error());
        for (Package& p : all->all()) {  // sorted by account, name
            if (p.valid_until <= from || until <= p.valid_from) continue;
            auto used = package_used(p.account, p.name);
            if (!used) return fail(used.error());
            out.rows.push_back({std::move(p), *used});
        }
        return {};
    };
    BILLING_TRY(impl_->exec("BEGIN", "begin read"));
    auto ok = read();
    sqlite3_exec(impl_->db, "COMMIT", nullptr, nullptr, nullptr);
    if (!ok) return fail(ok.error());
    return out;
}

Result<VolumePricing> Store::load_volume_pricing() {
    std::optional<VolumePricing> out;
    auto read = [&]() -> Result<void> {
        auto tiers = volume_tiers();
        if (!tiers) return fail(tiers.error());
        auto pk = packages();
        if (!pk) return fail(pk.error());
        out.emplace(std::move(*tiers), std::move(*pk));
        {
            BILLING_Q(q, "SELECT account, prefix, month, billed_s FROM volume_usage");
            int rc;
            while ((rc = q.step()) == SQLITE_ROW) out->set_volume(q.col_t(0), q.col_t(1), q.col_t(2), q.col_i(3));
            if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read volumes"));
        }
        BILLING_Q(q, "SELECT account, name, used_s FROM package_usage");
        int rc;
        while ((rc = q.step()) == SQLITE_ROW) out->set_package_used(q.col_t(0), q.col_t(1), q.col_i(2));
        if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read package usage"));
        return {};
    };
    BILLING_TRY(impl_->exec("BEGIN", "begin read"));
    auto ok = read();
    sqlite3_exec(impl_->db, "COMMIT", nullptr, nullptr, nullptr);
    if (!ok) return fail(ok.error());
    return std::move(*out);
}

// --- commitment discounts ---------------------------------------------------------------

Result<void> Store::put_commitment(const Commitment& c) {
    BILLING_TRY(validate(c));
    Txn tx(*impl_);
    BILLING_TRY(tx.begin());
    auto acc = account(c.account);  // unknown_account, field account
    if (!acc) return fail(acc.error());
    if (acc->kind != AccountKind::customer)
        return fail(ErrorCode::invalid_argument,
                    "account " + acc->id + " is a " + std::string(to_string(acc->kind)) +
                        ": commitments are made by customer accounts",
                    "account");
    {
        BILLING_Q(q, "INSERT INTO commitments(account, prefix, minutes, discount_ppm) VALUES(?1, ?2, ?3, ?4) "
                     "ON CONFLICT(account, prefix) DO UPDATE SET minutes = excluded.minutes, "
                     "discount_ppm = excluded.discount_ppm");
        q.t(1, c.account).t(2, c.prefix).i(3, c.minutes).i(4, c.discount_ppm);
        BILLING_TRY(q.run("store commitment"));
    }
    return tx.commit();
}

Result<void> Store::remove_commitment(std::string_view account, std::string_view prefix) {
    BILLING_Q(q, "DELETE FROM commitments WHERE account = ?1 AND prefix = ?2");
    q.t(1, account).t(2, prefix);
    BILLING_TRY(q.run("remove commitment"));
    if (sqlite3_changes(impl_->db) == 0)
        return fail(ErrorCode::invalid_argument,
                    "no commitment of " + std::string(account) + " to prefix '" + std::string(prefix) + "'",
                    "commitment");
    return {};
}

Result<std::vector<Commitment>> Store::commitments() {
    std::vector<Commitment> v;
    BILLING_Q(q, "SELECT account, prefix, minutes, discount_ppm FROM commitments ORDER BY account, prefix");
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) v.push_back({q.col_t(0), q.col_t(1), q.col_i(2), q.col_i(3)});
    if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read commitments"));
    return v;
}

Result<CommitmentReport> Store::commitment_report(std::string_view month) {
    CommitmentReport out;
    out.month = std::string(month);
    auto read = [&]() -> Result<void> {
        auto cfg = rating_config();  // the currency and the calendar's zone
        if (!cfg) return fail(cfg.error());
        out.decimals = cfg->currency.precision;
        auto range = month_range(month, cfg->calendar);
        if (!range) return fail(range.error());
        out.from = range->first;
        out.until = range->second;
        // Per commitment, its calls: the customer's CDRs answered in the month whose callee
        // begins with the prefix and with no longer prefix of the same account (a call
        // counts toward one commitment). The join walks cdrs_customer (customer, end_ms)
        // from the month's start: a call answered in the month ends after its start. There
        // is no upper bound on end_ms (a call answered on the last evening may end next
        // month), so a past month also reads the account's later CDRs' index entries.
        BILLING_Q(q, "SELECT m.account, m.prefix, m.minutes, m.discount_ppm, "
                     "coalesce(sum(c.customer_billed_s), 0), coalesce(sum(c.charge), 0) "
                     "FROM commitments m LEFT JOIN cdrs c ON c.customer = m.account AND c.end_ms >= ?1 "
                     "AND c.answer_ms >= ?1 AND c.answer_ms < ?2 "
                     "AND substr(c.callee, 1, length(m.prefix)) = m.prefix "
                     "AND NOT EXISTS (SELECT 1 FROM commitments o WHERE o.account = m.account "
                     "AND length(o.prefix) > length(m.prefix) AND substr(c.callee, 1, length(o.prefix)) = o.prefix) "
                     "GROUP BY m.account, m.prefix ORDER BY m.account, m.prefix");
        q.i(1, out.from).i(2, out.until);
        int rc;
        while ((rc = q.step()) == SQLITE_ROW) {
            const Commitment c{q.col_t(0), q.col_t(1), q.col_i(2), q.col_i(3)};
            auto r = evaluate_commitment(c, q.col_i(4), q.col_m(5), cfg->currency);
            if (!r) return fail(r.error());
            out.rows.push_back(std::move(*r));
        }
        if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "commitment report"));
        return {};
    };
    // One read transaction: the commitments, the settings and the CDRs of one snapshot while
    // cdr import or the switch writes.
    BILLING_TRY(impl_->exec("BEGIN", "begin read"));
    auto ok = read();
    sqlite3_exec(impl_->db, "COMMIT", nullptr, nullptr, nullptr);
    if (!ok) return fail(ok.error());
    return out;
}

Result<void> Store::insert_cdrs(std::span<Cdr> batch, CountCheck check) {
    if (batch.empty()) return {};
    // Net balance movement per account for the whole batch (customer -charge, vendor +cost).
    struct Move {
        Money delta;
        std::size_t first = 0;  // first CDR (0-based) naming the account
        const char* role = "customer";
    };
    std::map<std::string_view, Move> moves;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const Cdr& c = batch[i];
        // an illegal call (unknown source: VOS3000 SERVER_BILLING_RECORD_ILLEGAL_CALL) has no
        // customer and moves no money; any other CDR must name its customer
        if (c.call.customer.empty() && c.charge.micros() == 0 && c.cost.micros() == 0) continue;
        if (c.call.customer.empty())
            return fail(ErrorCode::unknown_account, "CDR without a customer account", "customer", i + 1);
        auto [it, ins] = moves.try_emplace(c.call.customer, Move{Money{}, i, "customer"});
        auto d = it->second.delta.sub(c.charge);
        if (!d) return fail(ErrorCode::overflow, "batch debit out of range", "charge", i + 1);
        it->second.delta = *d;
        if (!c.call.vendor.empty()) {
            auto [vt, vins] = moves.try_emplace(c.call.vendor, Move{Money{}, i, "vendor"});
            auto v = vt->second.delta.add(c.cost);
            if (!v) return fail(ErrorCode::overflow, "batch credit out of range", "cost", i + 1);
            vt->second.delta = *v;
        }
    }
    auto reset_ids = [&] {
        for (Cdr& c : batch) c.id = 0;
    };
    Txn tx(*impl_);
    BILLING_TRY(tx.begin());
    {
        BILLING_Q(sel, "SELECT balance FROM accounts WHERE id = ?1");
        for (auto& [id, m] : moves) {
            sel.t(1, id);
            const int rc = sel.step();
            if (rc == SQLITE_DONE)
                return fail(ErrorCode::unknown_account, "unknown " + std::string(m.role) + " account '" +
                                std::string(id) + "'", m.role, m.first + 1);
            if (rc != SQLITE_ROW) return fail(sql_error(impl_->db, rc, "read balance"));
            auto nb = sel.col_m(0).add(m.delta);
            sqlite3_reset(*sel_stmt);
            if (!nb)
                return fail(ErrorCode::overflow, "balance of '" + std::string(id) + "' would overflow",
                            m.role, m.first + 1);
            m.delta = *nb;  // now the new balance
        }
    }
    {
        BILLING_Q(upd, "UPDATE accounts SET balance = ?2 WHERE id = ?1");
        for (auto& [id, m] : moves) {
            upd.t(1, id).i(2, m.delta.micros());
            const int rc = upd.step();
            sqlite3_reset(*upd_stmt);
            if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "update balance"));
        }
    }
    BILLING_TRY(update_volumes(batch, check));
    BILLING_TRY(update_packages(batch, check));
    BILLING_TRY(update_rollup(batch));
    BILLING_Q(q, "INSERT INTO cdrs(caller, callee, callee_out, customer, customer_gateway, vendor, "
                 "vendor_gateway, setup_ms, answer_ms, end_ms, duration_s, hold_s, sip_code, end_reason, "
                 "hangup, rate_prefix, area, rate_type, vendor_prefix, customer_billed_s, vendor_billed_s, "
                 "customer_price, vendor_price, charge, cost, profit, call_id_in, call_id_out, "
                 "gateways_tried) VALUES("
                 "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
                 "?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)");
    for (Cdr& c : batch) {
        const CallRecord& k = c.call;
        q.t(1, k.caller).t(2, k.callee).t(3, k.callee_out).t(4, k.customer).t(5, k.customer_gateway)
            .t(6, k.vendor).t(7, k.vendor_gateway).i(8, k.setup_ms);
        if (k.answer_ms) q.i(9, *k.answer_ms);
        else q.null(9);
        q.i(10, k.end_ms).i(11, c.duration_s).i(12, c.hold_s).i(13, k.sip_code).t(14, k.end_reason)
            .i(15, static_cast<int>(k.hangup)).t(16, c.rate_prefix).t(17, c.area)
            .t(18, to_string(c.rate_type)).t(19, c.vendor_prefix).i(20, c.customer_billed_s)
            .i(21, c.vendor_billed_s).i(22, c.customer_price.micros()).i(23, c.vendor_price.micros())
            .i(24, c.charge.micros()).i(25, c.cost.micros()).i(26, c.profit.micros())
            .t(27, k.call_id_in).t(28, k.call_id_out).t(29, k.gateways_tried);
        const int rc = q.step();
        sqlite3_reset(*q_stmt);
        if (rc != SQLITE_DONE) {
            reset_ids();
            return fail(sql_error(impl_->db, rc, "insert CDR"));
        }
        c.id = sqlite3_last_insert_rowid(impl_->db);
    }
    if (auto r = tx.commit(); !r) {
        reset_ids();
        return r;
    }
    return {};
}

#define BILLING_CDR_COLUMNS                                                                          \
    "id, caller, callee, callee_out, customer, customer_gateway, vendor, vendor_gateway, "          \
    "setup_ms, answer_ms, end_ms, duration_s, hold_s, sip_code, end_reason, hangup, rate_prefix, "  \
    "area, rate_type, vendor_prefix, customer_billed_s, vendor_billed_s, customer_price, "          \
    "vendor_price, charge, cost, profit, call_id_in, call_id_out, gateways_tried"

static const char* const kCdrSelect =
    "SELECT " BILLING_CDR_COLUMNS " FROM cdrs WHERE end_ms >= ?1 AND end_ms < ?2 ORDER BY id";

namespace {

// One row of BILLING_CDR_COLUMNS.
void read_cdr(const Q& q, Cdr& c) {
    CallRecord& k = c.call;
    c.id = q.col_i(0);
    k.caller = q.col_t(1);
    k.callee = q.col_t(2);
    k.callee_out = q.col_t(3);
    k.customer = q.col_t(4);
    k.customer_gateway = q.col_t(5);
    k.vendor = q.col_t(6);
    k.vendor_gateway = q.col_t(7);
    k.setup_ms = q.col_i(8);
    if (q.col_null(9)) k.answer_ms.reset();
    else k.answer_ms = q.col_i(9);
    k.end_ms = q.col_i(10);
    c.duration_s = q.col_i(11);
    c.hold_s = q.col_i(12);
    k.sip_code = static_cast<int>(q.col_i(13));
    k.end_reason = q.col_t(14);
    k.hangup = static_cast<HangupSide>(q.col_i(15) & 3);
    c.rate_prefix = q.col_t(16);
    c.area = q.col_t(17);
    auto rt = parse_rate_type(q.col_t(18));
    c.rate_type = rt ? *rt : RateType::international;
    c.vendor_prefix = q.col_t(19);
    c.customer_billed_s = q.col_i(20);
    c.vendor_billed_s = q.col_i(21);
    c.customer_price = q.col_m(22);
    c.vendor_price = q.col_m(23);
    c.charge = q.col_m(24);
    c.cost = q.col_m(25);
    c.profit = q.col_m(26);
    k.call_id_in = q.col_t(27);
    k.call_id_out = q.col_t(28);
    k.gateways_tried = q.col_t(29);
}

// The query of a search: fixed fragments only, every value bound (?1.. in this order: from,
// until, cursor end, cursor id, customer, vendor, gateway, number, call_id, limit), so no
// text from a request ever reaches the SQL. (end_ms, id) descending is the order of the
// cdrs_end and cdrs_customer/cdrs_vendor indexes (the rowid ends every index key), so a page
// walks one index backwards and stops at the limit instead of sorting the whole range.
std::string cdr_search_sql(const CdrFilter& f) {
    std::string sql = "SELECT " BILLING_CDR_COLUMNS " FROM cdrs WHERE end_ms >= ?1 AND end_ms < ?2";
    if (f.before) sql += " AND end_ms <= ?3 AND (end_ms < ?3 OR id < ?4)";
    if (!f.customer.empty()) sql += " AND customer = ?5";
    if (!f.vendor.empty()) sql += " AND vendor = ?6";
    if (!f.gateway.empty()) sql += " AND (customer_gateway = ?7 OR vendor_gateway = ?7)";
    if (!f.number.empty())
        sql += " AND (substr(caller, 1, length(?8)) = ?8 OR substr(callee, 1, length(?8)) = ?8"
               " OR substr(callee_out, 1, length(?8)) = ?8)";
    if (!f.call_id.empty()) sql += " AND (call_id_in = ?9 OR call_id_out = ?9)";
    return sql + " ORDER BY end_ms DESC, id DESC LIMIT ?10";
}

}  // namespace

Result<void> Store::for_each_cdr(Timestamp from, Timestamp until, const std::function<bool(const Cdr&)>& f) {
    BILLING_Q(q, kCdrSelect);
    q.i(1, from).i(2, until);
    int rc;
    Cdr c;
    while ((rc = q.step()) == SQLITE_ROW) {
        read_cdr(q, c);
        if (!f(c)) return {};
    }
    if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read CDRs"));
    return {};
}

Result<std::vector<Cdr>> Store::find_cdrs(const CdrFilter& f) {
    const std::string sql = cdr_search_sql(f);
    OwnedStmt os;
    int rc = sqlite3_prepare_v2(impl_->db, sql.c_str(), -1, &os.s, nullptr);
    if (rc != SQLITE_OK) return fail(sql_error(impl_->db, rc, "prepare CDR search"));
    Q q(impl_->db, os.s);
    const CdrCursor before = f.before.value_or(CdrCursor{});
    q.i(1, f.from).i(2, f.until).i(3, before.end_ms).i(4, before.id).t(5, f.customer);
    q.t(6, f.vendor).t(7, f.gateway).t(8, f.number).t(9, f.call_id);
    q.i(10, static_cast<std::int64_t>(std::min<std::size_t>(f.limit, INT64_MAX)));
    std::vector<Cdr> out;
    while ((rc = q.step()) == SQLITE_ROW) read_cdr(q, out.emplace_back());
    if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "search CDRs"));
    return out;
}

Result<std::vector<Cdr>> Store::cdrs(Timestamp from, Timestamp until) {
    std::vector<Cdr> v;
    BILLING_TRY(for_each_cdr(from, until, [&](const Cdr& c) {
        v.push_back(c);
        return true;
    }));
    return v;
}

Result<std::int64_t> Store::cdr_count() {
    BILLING_Q(q, "SELECT count(*) FROM cdrs");
    const int rc = q.step();
    if (rc != SQLITE_ROW) return fail(sql_error(impl_->db, rc, "count CDRs"));
    return q.col_i(0);
}

Result<Report> Store::report(ReportKind kind, Timestamp from, Timestamp until) {
    const char* k1 = "customer";
    const char* k2 = "''";
    switch (kind) {
        case ReportKind::revenue: break;
        case ReportKind::clearing: k1 = "vendor"; break;
        case ReportKind::clearing_gateway: k1 = "vendor", k2 = "vendor_gateway"; break;
        case ReportKind::gateway: k1 = "customer_gateway", k2 = "customer"; break;
        case ReportKind::settlement: k1 = "'total'"; break;
        case ReportKind::profit_area: k1 = "area", k2 = "rate_prefix"; break;
        case ReportKind::profit_customer: break;
        case ReportKind::asr: k1 = "vendor_gateway", k2 = "area"; break;
    }
    // Whole hours inside [from, until) come from cdr_hourly, the partial hours at both ends
    // from the CDRs themselves (profit by prefix always reads the CDRs: the rollup has no
    // prefix). sum() of INTEGERs is exact in SQLite and fails with "integer overflow"
    // instead of wrapping; the totals are summed again in C++ with checked arithmetic.
    const std::string keys = std::string(k1) + " AS k1, " + k2 + " AS k2";
    auto raw = [&](const char* lo, const char* hi) {
        return "SELECT " + keys +
               ", count(*) AS c, sum(duration_s > 0) AS a, sum(duration_s) AS d, sum(customer_billed_s) AS b, "
               "sum(vendor_billed_s) AS vb, sum(charge) AS rv, sum(cost) AS co, sum(profit) AS pr FROM cdrs "
               "WHERE end_ms >= " + lo + " AND end_ms < " + hi + " GROUP BY 1, 2";
    };
    const std::int64_t h1 = ceil_div(from, kHourMs), h2 = floor_div(until, kHourMs);
    const bool rollup = kind != ReportKind::profit_area && h1 < h2;
    std::string sql;
    if (!rollup) {
        sql = raw("?1", "?2") + " ORDER BY 1, 2";
    } else {
        sql = "SELECT k1, k2, sum(c), sum(a), sum(d), sum(b), sum(vb), sum(rv), sum(co), sum(pr) FROM (" +
              raw("?1", "?2") + " UNION ALL " + raw("?3", "?4") + " UNION ALL SELECT " + keys +
              ", sum(calls), sum(answered), sum(duration_s), sum(billed_s), sum(vendor_billed_s), sum(revenue), "
              "sum(cost), sum(profit) FROM cdr_hourly WHERE hour >= ?5 AND hour < ?6 GROUP BY 1, 2) "
              "GROUP BY 1, 2 ORDER BY 1, 2";
    }
    OwnedStmt os;
    int rc = sqlite3_prepare_v2(impl_->db, sql.c_str(), -1, &os.s, nullptr);
    if (rc != SQLITE_OK) return fail(sql_error(impl_->db, rc, "prepare report"));
    auto cur = currency();
    if (!cur) return fail(std::move(cur.error()));
    Report rep;
    rep.kind = kind;
    rep.decimals = cur->precision;
    rep.total.key = "total";
    Q q(impl_->db, os.s);
    if (!rollup) {
        q.i(1, from).i(2, until);
    } else {
        q.i(1, from).i(2, h1 * kHourMs).i(3, h2 * kHourMs).i(4, until).i(5, h1).i(6, h2);
    }
    while ((rc = q.step()) == SQLITE_ROW) {
        ReportRow r;
        r.key = q.col_t(0);
        r.key2 = q.col_t(1);
        r.calls = q.col_i(2);
        r.answered = q.col_i(3);
        r.duration_s = q.col_i(4);
        r.billed_s = q.col_i(5);
        r.vendor_billed_s = q.col_i(6);
        r.revenue = q.col_m(7);
        r.cost = q.col_m(8);
        r.profit = q.col_m(9);
        BILLING_TRY(rep.total.add(r));
        rep.rows.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "run report"));
    return rep;
}

Result<Report> Store::report_with_deviation(ReportKind kind, Timestamp from, Timestamp until) {
    auto rep = report(kind, from, until);
    if (!rep || (kind != ReportKind::profit_area && kind != ReportKind::profit_customer)) return rep;
    // the hourly rollup has no prices: the ranges come from the period's CDRs
    RateDeviationRanges dev(rep->kind);
    BILLING_TRY(for_each_cdr(from, until, [&](const Cdr& c) {
        dev.add(c);
        return true;
    }));
    dev.apply(*rep);
    return rep;
}

Result<AgentIncomeReport> Store::agent_income_report(Timestamp from, Timestamp until, std::string_view only_agent) {
    auto by_customer = report(ReportKind::profit_customer, from, until);
    if (!by_customer) return fail(by_customer.error());
    auto all = accounts();
    if (!all) return fail(all.error());
    auto cur = currency();
    if (!cur) return fail(cur.error());
    return agent_income(*by_customer, *all, *cur, only_agent);
}

Result<std::vector<AuditIssue>> Store::audit() {
    std::map<std::string, std::pair<Money, Money>> acc;  // id -> {stored, expected}
    auto accumulate = [&](const char* sql, int sign) -> Result<void> {
        OwnedStmt os;
        int rc = sqlite3_prepare_v2(impl_->db, sql, -1, &os.s, nullptr);
        if (rc != SQLITE_OK) return fail(sql_error(impl_->db, rc, "prepare audit"));
        Q q(impl_->db, os.s);
        while ((rc = q.step()) == SQLITE_ROW) {
            auto& e = acc[q.col_t(0)];
            if (sign == 0) {
                e.first = q.col_m(1);
                continue;
            }
            auto r = sign > 0 ? e.second.add(q.col_m(1)) : e.second.sub(q.col_m(1));
            if (!r) return fail(r.error());
            e.second = *r;
        }
        if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "audit"));
        return {};
    };
    // One read transaction: a consistent snapshot of balances, ledger and CDRs.
    BILLING_TRY(impl_->exec("BEGIN", "begin read"));
    auto r0 = accumulate("SELECT id, balance FROM accounts", 0);
    auto r1 = r0 ? accumulate("SELECT account, sum(amount) FROM ledger GROUP BY account", +1) : r0;
    auto r2 = r1 ? accumulate("SELECT customer, sum(charge) FROM cdrs GROUP BY customer", -1) : r1;
    auto r3 = r2 ? accumulate("SELECT vendor, sum(cost) FROM cdrs WHERE vendor != '' GROUP BY vendor", +1) : r2;
    sqlite3_exec(impl_->db, "COMMIT", nullptr, nullptr, nullptr);
    if (!r3) return fail(r3.error());
    std::vector<AuditIssue> issues;
    for (const auto& [id, e] : acc)
        if (e.first != e.second) issues.push_back({id, e.first, e.second});
    return issues;
}

Result<Currency> Store::currency() {
    Currency c;
    BILLING_Q(q, "SELECT key, value FROM settings WHERE key LIKE 'currency.%'");
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        const std::string k = q.col_t(0), v = q.col_t(1);
        if (k == "currency.code") c.code = v;
        else if (k == "currency.precision") {
            auto n = parse_int(v);
            if (n && *n >= 0 && *n <= 6) c.precision = static_cast<int>(*n);
        } else if (k == "currency.rounding") {
            if (auto r = parse_rounding(v)) c.rounding = *r;
        }
    }
    if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read settings"));
    return c;
}

Result<void> Store::set_currency(const Currency& c) {
    if (c.precision < 0 || c.precision > 6)
        return fail(ErrorCode::invalid_argument, "precision must be 0..6", "precision");
    Txn tx(*impl_);
    BILLING_TRY(tx.begin());
    const std::pair<const char*, std::string> kv[] = {{"currency.code", c.code},
                                                      {"currency.precision", std::to_string(c.precision)},
                                                      {"currency.rounding", std::string(to_string(c.rounding))}};
    for (const auto& [k, v] : kv) {
        BILLING_Q(q, "INSERT OR REPLACE INTO settings(key, value) VALUES(?1, ?2)");
        q.t(1, k).t(2, v);
        BILLING_TRY(q.run("write settings"));
    }
    return tx.commit();
}

ZoneSource zone_source(std::string dir) {
    return [dir = std::move(dir)](std::string_view name) -> Result<std::string> {
        bool ok = !name.empty() && name.front() != '/' && name.back() != '/' &&
                  name.find("..") == std::string_view::npos && name.find("//") == std::string_view::npos;
        for (char c : name)
            ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '_' || c == '-' || c == '+' || c == '/');
        if (!ok)
            return fail(ErrorCode::invalid_argument,
                        "calendar.timezone must be UTC, UTC+HH:MM, UTC-HH:MM or an IANA name such "
                        "as Europe/London, not '" + std::string(name) + "'",
                        "calendar.timezone");
        const std::string path = dir + "/" + std::string(name);
        std::ifstream f(path, std::ios::binary);
        if (!f)
            return fail(ErrorCode::invalid_argument,
                        "unknown time zone '" + std::string(name) + "' (no " + path + ")",
                        "calendar.timezone");
        std::ostringstream ss;
        ss << f.rdbuf();
        return ss.str();
    };
}

Result<RatingConfig> Store::rating_config() {
    RatingConfig cfg;
    BILLING_Q(q, "SELECT key, value FROM settings");
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
        const std::string k = q.col_t(0), v = q.col_t(1);
        if (!is_setting(k)) continue;  // a key this version does not know
        if (auto ok = apply_setting(cfg, k, v, zones_); !ok)
            return fail(make_error(ErrorCode::invalid_argument,
                                   "stored setting: " + ok.error().message, k));
    }
    if (rc != SQLITE_DONE) return fail(sql_error(impl_->db, rc, "read settings"));
    return cfg;
}

Result<void> Store::set_settings(std::span<const std::pair<std::string, std::string>> settings) {
    RatingConfig probe;  // every value checked before anything is written
    for (const auto& [k, v] : settings) BILLING_TRY(apply_setting(probe, k, v, zones_));
    Txn tx(*impl_);
    BILLING_TRY(tx.begin());
    for (const auto& [k, v] : settings) BILLING_TRY(set_setting(k, v));
    return tx.commit();
}

Result<void> Store::set_setting(std::string_view key, std::string_view value) {
    RatingConfig probe;
    if (auto ok = apply_setting(probe, key, value, zones_); !ok) return ok;
    BILLING_Q(q, "INSERT OR REPLACE INTO settings(key, value) VALUES(?1, ?2)");
    q.t(1, key).t(2, value);
    return q.run("write settings");
}

}  // namespace billing::sqlite

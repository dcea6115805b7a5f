// Tests for libbilling/sqlite/src/store.cpp: migrations, accounts and ledger, rate import,
// CDR batches with their money movements, SQL reports, locked and full databases, and the
// crash rule: a child process killed with SIGKILL between or during batches leaves every
// CDR with its debit and credit and no half-written batch.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <span>
#include <tuple>

#include <sqlite3.h>

#include "billing/deck.hpp"
#include "billing/report.hpp"
#include "billing/sqlite/store.hpp"
#include "billing_fixtures.hpp"

using namespace billing;
using billing::sqlite::Store;
using billing::sqlite::StoreOptions;
using billing::sqlite::CountCheck;
using namespace billing_test;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/billing_store_test.XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const char* name) const { return (path / name).string(); }
};

Store open_store(const std::string& path, StoreOptions o = {}) {
    auto s = Store::open(path, o);
    if (!s) FAIL(s.error().describe());
    return std::move(*s);
}

// Loads the sample book into a store.
void seed(Store& st, const Book& book) {
    for (const Account* a : book.accounts()) REQUIRE(st.add_account(*a));
    for (const std::string& g : book.group_names()) {
        std::vector<Rate> rates;
        book.find_group(g)->for_each([&](const Rate& r) { rates.push_back(r); });
        REQUIRE(st.import_rates(g, rates, true));
    }
}

StoreOptions opts(int busy_ms, bool durable, std::int64_t max_pages = 0) {
    StoreOptions o;
    o.busy_timeout_ms = busy_ms;
    o.durable = durable;
    o.max_page_count = max_pages;
    return o;
}

Money sum_charges(const std::vector<Cdr>& v) {
    Money m;
    for (const Cdr& c : v) m = *m.add(c.charge);
    return m;
}

bool have_sqlite3_cli() { return std::system("command -v sqlite3 >/dev/null 2>&1") == 0; }

// Runs `sql` on `db` with the sqlite3 shell (-bail: the first error fails); returns its
// output, or nullopt if it failed.
std::optional<std::string> sqlite3_cli(const TempDir& d, const std::string& db, const std::string& sql) {
    const std::string in = d.file("cli.sql"), out = d.file("cli.out");
    {
        std::ofstream f(in);
        f << sql << '\n';
    }
    if (std::system(("sqlite3 -bail " + db + " < " + in + " > " + out + " 2>&1").c_str()) != 0) return std::nullopt;
    std::ifstream f(out);
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
}

// SQL that undoes migrations v9 (commitments), v8 (packages), v7 (volume tiers), v6 (agent commission columns), v5 (rate groups, templates), v4
// (the gateways-tried column) and v3 (the change counter and its triggers): a current file
// becomes exactly a version-2 file.
// The v10 triggers (tiers and packages bump billing_change), first: they name billing_change.
std::string undo_v10_sql() {
    std::string sql;
    for (const char* t : {"volume_tiers", "packages"})
        for (const char* op : {"insert", "delete", "update"})
            sql += std::string("DROP TRIGGER billing_change_") + t + "_" + op + ";\n";
    return sql + "ALTER TABLE volume_tiers DROP COLUMN bonus_minutes;\n";
}

std::string undo_v3_sql() {
    std::string sql = undo_v10_sql() + "ALTER TABLE cdrs DROP COLUMN gateways_tried;\n";
    for (const char* t : {"accounts", "ledger", "rates", "phone_private", "settings"})
        for (const char* op : {"insert", "delete", "update"})
            sql += std::string("DROP TRIGGER billing_change_") + t + "_" + op + ";\n";
    return sql + "DROP TABLE billing_change;\nDROP TABLE rate_groups;\nDROP TABLE rate_templates;\n"
                 "ALTER TABLE accounts DROP COLUMN commission_basis;\n"
                 "ALTER TABLE accounts DROP COLUMN commission_ppm;\n"
                 "DROP TABLE volume_tiers;\nDROP TABLE volume_usage;\n"
                 "DROP TABLE packages;\nDROP TABLE package_usage;\nDROP TABLE commitments;\n";
}

std::int64_t version_of(Store& st) {
    auto v = st.change_version();
    if (!v) FAIL(v.error().describe());
    return *v;
}

}  // namespace

TEST_CASE("store: schema migrations via user_version", "[billing][store]") {
    TempDir d;
    const std::string db = d.file("t.db");
    {
        Store st = open_store(db);
        CHECK(st.schema_version() == Store::kSchemaVersion);
    }
    {
        Store st = open_store(db);  // reopen: nothing to migrate
        CHECK(st.schema_version() == Store::kSchemaVersion);
    }
    // A file from a newer trunkline: user_version lives at offset 60 of the header (big-endian).
    {
        std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(60);
        const char v[4] = {0, 0, 0, 99};
        f.write(v, 4);
    }
    auto st = Store::open(db);
    REQUIRE_FALSE(st);
    CHECK(st.error().code == ErrorCode::schema_too_new);
    // Not a database at all.
    {
        std::ofstream f(d.file("junk.db"));
        f << std::string(4096, 'x');
    }
    auto junk = Store::open(d.file("junk.db"));
    REQUIRE_FALSE(junk);
    CHECK(junk.error().code == ErrorCode::db_error);
}

TEST_CASE("store: accounts, top-ups and the ledger", "[billing][store]") {
    TempDir d;
    Store st = open_store(d.file("t.db"));
    REQUIRE(st.add_account(make_account("1001", AccountKind::customer, "retail", "5.5", "2")));
    CHECK(st.add_account(make_account("1001", AccountKind::customer, "")).error().code == ErrorCode::duplicate);
    auto nb = st.topup("1001", money("10.25"), 1000, "cash");
    REQUIRE(nb);
    CHECK(*nb == money("15.75"));
    CHECK(*st.topup("1001", money("-0.75"), 2000) == money("15"));
    CHECK(st.topup("nobody", money("1"), 0).error().code == ErrorCode::unknown_account);
    auto a = st.account("1001");
    REQUIRE(a);
    CHECK(a->balance == money("15"));
    CHECK(a->credit_limit == money("2"));
    CHECK(a->rate_group == "retail");
    auto l = st.ledger("1001");
    REQUIRE(l);
    REQUIRE(l->size() == 3);
    CHECK((*l)[0].kind == "opening");
    CHECK((*l)[1].kind == "topup");
    CHECK((*l)[2].kind == "adjust");
    REQUIRE(st.topup("1001", Money::from_micros(INT64_MAX - 15000000), 0));
    CHECK(st.topup("1001", money("1"), 0).error().code == ErrorCode::overflow);
    auto audit = st.audit();
    REQUIRE(audit);
    CHECK(audit->empty());
}

TEST_CASE("store: rate import is all or nothing; load_book round-trips", "[billing][store]") {
    TempDir d;
    Store st = open_store(d.file("t.db"));
    std::vector<Rate> deck = {make_rate("44", "UK", "0.02", 60), make_rate("447", "UK Mobile", "0.09", 6, 30, "0.1")};
    CHECK(*st.import_rates("retail", deck, false) == 2);
    deck[0].price = money("0.025");  // same key: updated
    REQUIRE(st.import_rates("retail", deck, false));
    auto rates = st.rates("retail");
    REQUIRE(rates);
    REQUIRE(rates->size() == 2);
    CHECK((*rates)[0].price == money("0.025"));
    CHECK((*rates)[1].first_period_s == 30);
    // An invalid rate anywhere rejects all.
    std::vector<Rate> bad = {make_rate("33", "FR", "0.01", 60), make_rate("3x", "FR", "0.01", 60)};
    auto r = st.import_rates("retail", bad, true);
    REQUIRE_FALSE(r);
    CHECK(r.error().line == 2);
    CHECK(r.error().field == "prefix");
    CHECK(st.rates("retail")->size() == 2);  // replace did not happen
    REQUIRE(st.add_account(make_account("1001", AccountKind::customer, "retail")));
    REQUIRE(st.import_rates("vip", std::vector<Rate>{make_rate("44", "UK", "0.01", 60)}, false));
    REQUIRE(st.set_phone_private("15550001", "vip"));
    REQUIRE(st.set_account_private("1001", "vip"));
    CHECK(st.set_account_private("zz", "vip").error().code == ErrorCode::unknown_account);
    auto book = st.load_book();
    REQUIRE(book);
    CHECK(book->find_group("retail")->size() == 2);
    CHECK(book->phone_private("15550001") == book->find_group("vip"));
    CHECK(book->entry("1001")->priv == book->find_group("vip"));
    Currency c{"EUR", 3, Rounding::half_up};
    REQUIRE(st.set_currency(c));
    auto c2 = st.currency();
    REQUIRE(c2);
    CHECK(c2->code == "EUR");
    CHECK(c2->precision == 3);
    CHECK(c2->rounding == Rounding::half_up);
}

TEST_CASE("store: rating settings are stored, validated and bump the change version",
          "[billing][store]") {
    TempDir d;
    Store st = open_store(d.file("t.db"));
    auto cfg = st.rating_config();
    REQUIRE(cfg);
    CHECK(cfg->hold_time_precision_ms == 50);  // nothing stored: the defaults (VOS3000's)
    CHECK(cfg->free_time_s == 0);
    CHECK(cfg->currency.precision == 4);
    const auto v0 = st.change_version();
    REQUIRE(v0);
    REQUIRE(st.set_setting("billing.hold_time_precision_ms", "50"));
    REQUIRE(st.set_setting("billing.free_time_s", "4"));
    REQUIRE(st.set_currency(Currency{"EUR", 3, Rounding::down}));
    CHECK(*st.change_version() > *v0);  // a running switch reloads them
    cfg = st.rating_config();
    REQUIRE(cfg);
    CHECK(cfg->hold_time_precision_ms == 50);
    CHECK(cfg->free_time_s == 4);
    CHECK(cfg->currency.code == "EUR");
    CHECK(cfg->currency.precision == 3);
    CHECK(cfg->currency.rounding == Rounding::down);
    auto bad = st.set_setting("billing.free_time_s", "x");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == "billing.free_time_s must be an integer 0..86400 (seconds), not 'x'");
    CHECK(st.rating_config()->free_time_s == 4);  // unchanged
}

TEST_CASE("store: a CDR batch moves money in the same transaction", "[billing][store]") {
    TempDir d;
    Store st = open_store(d.file("t.db"));
    Book book = sample_book();
    seed(st, book);
    std::mt19937_64 rng(7);
    auto cdrs = random_cdrs(book, rng, 500);
    REQUIRE(cdrs.size() == 500);
    cdrs[3].call.gateways_tried = "gw1:503,gw2:200";
    REQUIRE(st.insert_cdrs(cdrs));
    CHECK(cdrs.front().id > 0);
    CHECK(*st.cdr_count() == 500);
    auto audit = st.audit();
    REQUIRE(audit);
    CHECK(audit->empty());
    // Customer C1's balance went down by exactly its charges.
    Money c1;
    for (const Cdr& c : cdrs)
        if (c.call.customer == "C1") c1 = *c1.add(c.charge);
    CHECK(st.account("C1")->balance == *money("100").sub(c1));
    // Round trip of every field.
    auto back = st.cdrs(kTimeMin, kTimeMax);
    REQUIRE(back);
    REQUIRE(back->size() == 500);
    for (std::size_t i = 0; i < 500; ++i) REQUIRE(cdr_csv_line((*back)[i]) == cdr_csv_line(cdrs[i]));
    CHECK((*back)[3].call.gateways_tried == "gw1:503,gw2:200");
    CHECK((*back)[4].call.gateways_tried.empty());

    // An unknown account rejects the whole batch; nothing is written, no balance moves.
    auto more = random_cdrs(book, rng, 10);
    more[7].call.vendor = "ghost";
    const Money before = st.account("C1")->balance;
    auto r = st.insert_cdrs(more);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::unknown_account);
    CHECK(r.error().field == "vendor");
    CHECK(r.error().line == 8);
    CHECK(*st.cdr_count() == 500);
    CHECK(st.account("C1")->balance == before);
    CHECK(more[0].id == 0);
}

namespace {

// Every report kind over [from, until) from SQL equals the in-memory report of the same CDRs,
// and its total equals the plain sum of those CDRs.
void check_reports(Store& st, const std::vector<Cdr>& cdrs, Timestamp from, Timestamp until) {
    std::vector<Cdr> window;
    for (const Cdr& c : cdrs)
        if (c.call.end_ms >= from && c.call.end_ms < until) window.push_back(c);
    for (int k = 0; k <= static_cast<int>(ReportKind::asr); ++k) {
        const auto kind = static_cast<ReportKind>(k);
        INFO(to_string(kind) << " [" << format_time(from) << ", " << format_time(until) << ")");
        auto sql = st.report(kind, from, until);
        REQUIRE(sql);
        ReportBuilder b(kind);
        for (const Cdr& c : window) REQUIRE(b.add(c));
        auto mem = b.finish();
        REQUIRE(mem);
        CHECK(sql->decimals == st.currency()->precision);  // printed at the currency precision
        mem->decimals = sql->decimals;
        CHECK(format_csv(*sql) == format_csv(*mem));
        // sum of the report = sum of its CDRs
        CHECK(sql->total.revenue == sum_charges(window));
        CHECK(sql->total.calls == static_cast<std::int64_t>(window.size()));
        Money rows;
        for (const ReportRow& r : sql->rows) rows = *rows.add(r.revenue);
        CHECK(rows == sql->total.revenue);
        CHECK(sql->total.profit.micros() == sql->total.revenue.micros() - sql->total.cost.micros());
    }
}

}  // namespace

TEST_CASE("store: SQL reports equal the in-memory reports and the CDR sums", "[billing][store][report][property]") {
    TempDir d;
    Store st = open_store(d.file("t.db"), opts(5000, false));
    Book book = sample_book();
    seed(st, book);
    std::mt19937_64 rng(11);
    // 3000 calls one minute apart: about 50 hours, so reports mix whole hours (from the
    // hourly rollup) and partial hours (from the CDRs).
    auto cdrs = random_cdrs(book, rng, 3000, 1764000000000, 60000);
    for (std::size_t i = 0; i < cdrs.size(); i += 250) {
        std::span<Cdr> part(cdrs.data() + i, std::min<std::size_t>(250, cdrs.size() - i));
        REQUIRE(st.insert_cdrs(part));
    }
    check_reports(st, cdrs, cdrs[500].call.end_ms, cdrs[2500].call.end_ms);  // ragged edges
    check_reports(st, cdrs, kTimeMin, kTimeMax);
    check_reports(st, cdrs, *parse_time("2025-11-25"), *parse_time("2025-11-26"));  // whole hours
    check_reports(st, cdrs, cdrs[10].call.end_ms, cdrs[20].call.end_ms);            // within an hour
    check_reports(st, cdrs, *parse_time("2030-01-01"), kTimeMax);                   // empty
}

TEST_CASE("store: migration v1 -> v2 backfills the hourly rollup", "[billing][store]") {
    // a missing tool is a failure: scripts/setup.sh installs the sqlite3 CLI
    REQUIRE(std::system("command -v sqlite3 >/dev/null 2>&1") == 0);
    TempDir d;
    const std::string db = d.file("t.db");
    Book book = sample_book();
    std::mt19937_64 rng(12);
    auto cdrs = random_cdrs(book, rng, 1000, 1764000000000, 30000);
    {
        Store st = open_store(db);
        seed(st, book);
        REQUIRE(st.insert_cdrs(cdrs));
    }
    // Turn the file back into a version-1 database.
    REQUIRE(sqlite3_cli(d, db, undo_v3_sql() + "DROP TABLE cdr_hourly; PRAGMA user_version=1;"));
    Store st = open_store(db);
    CHECK(st.schema_version() == Store::kSchemaVersion);
    check_reports(st, cdrs, kTimeMin, kTimeMax);
    check_reports(st, cdrs, cdrs[100].call.end_ms, cdrs[900].call.end_ms);
    CHECK(st.change_version());  // and v3 ran after v2
}

TEST_CASE("store: change_version moves with every operator change", "[billing][store]") {
    TempDir d;
    const std::string db = d.file("t.db");
    Store st = open_store(db);
    std::int64_t v = version_of(st);
    CHECK(version_of(st) == v);  // reading does not move it
    // Each step must move the version forward.
    auto moved = [&](const char* what) {
        INFO(what);
        const std::int64_t now = version_of(st);
        CHECK(now > v);
        v = now;
    };
    REQUIRE(st.add_account(make_account("1001", AccountKind::customer, "retail", "5")));
    moved("add_account");
    REQUIRE(st.topup("1001", money("10"), 1000, "cash"));
    moved("topup");
    REQUIRE(st.topup("1001", money("-1"), 2000));
    moved("adjustment");
    std::vector<Rate> deck = {make_rate("44", "UK", "0.02", 60), make_rate("447", "UK Mobile", "0.09", 6)};
    REQUIRE(st.import_rates("retail", deck, true));
    moved("import_rates replace");
    deck[0].price = money("0.025");  // same key: the upsert's update path
    REQUIRE(st.import_rates("retail", std::span<const Rate>(deck.data(), 1), false));
    moved("import_rates update of an existing rate");
    REQUIRE(st.import_rates("retail", std::vector<Rate>{make_rate("33", "FR", "0.01", 60)}, false));
    moved("import_rates insert");
    REQUIRE(st.import_rates("retail", std::vector<Rate>{}, true));
    moved("import_rates delete of a group");
    REQUIRE(st.set_rate_group("1001", "wholesale"));
    moved("set_rate_group");
    REQUIRE(st.set_account_private("1001", "vip"));
    moved("set_account_private");
    REQUIRE(st.set_account_private("1001", ""));
    moved("set_account_private cleared");
    REQUIRE(st.set_phone_private("15550001", "vip"));
    moved("set_phone_private");
    REQUIRE(st.set_phone_private("15550001", "gold"));
    moved("set_phone_private rebound");
    REQUIRE(st.set_phone_private("15550001", ""));
    moved("set_phone_private cleared");
    REQUIRE(st.set_currency(Currency{"EUR", 3, Rounding::half_up}));
    moved("set_currency");

    // Failed operations write nothing, so the version stays.
    CHECK_FALSE(st.add_account(make_account("1001", AccountKind::customer, "")));
    CHECK_FALSE(st.topup("nobody", money("1"), 0));
    CHECK_FALSE(st.set_rate_group("nobody", "retail"));
    CHECK_FALSE(st.import_rates("retail", std::vector<Rate>{make_rate("3x", "FR", "0.01", 60)}, true));
    CHECK(version_of(st) == v);

    // Another connection's commit (trunkctl is another process) is seen at once.
    {
        Store other = open_store(db);
        CHECK(version_of(other) == v);
        REQUIRE(other.add_account(make_account("1002", AccountKind::vendor, "va")));
        CHECK(version_of(other) > v);
    }
    moved("add_account through another connection");

    // Plain SQL from any tool counts too (the triggers live in the file)...
    REQUIRE(have_sqlite3_cli());  // scripts/setup.sh installs it; missing is a failure
    REQUIRE(sqlite3_cli(d, db, "UPDATE accounts SET credit_limit = 7000000 WHERE id = '1002';"));
    moved("SQL update of credit_limit");
    REQUIRE(sqlite3_cli(d, db, "DELETE FROM accounts WHERE id = '1002';"));
    moved("SQL delete of an account");
    REQUIRE(st.import_rates("retail", deck, true));
    moved("import_rates into the emptied group");
    REQUIRE(sqlite3_cli(d, db, "UPDATE rates SET price = price + 1;"));
    moved("SQL update of rates");
    REQUIRE(sqlite3_cli(d, db, "INSERT INTO phone_private(phone, rate_group) VALUES('15550002', 'vip');"));
    moved("SQL insert of a phone binding");
    // ...except a balance-only update, which is what insert_cdrs does.
    REQUIRE(sqlite3_cli(d, db, "UPDATE accounts SET balance = balance - 1 WHERE id = '1001';"));
    CHECK(version_of(st) == v);
}

TEST_CASE("store: insert_cdrs never moves change_version", "[billing][store]") {
    TempDir d;
    const std::string db = d.file("t.db");
    Store st = open_store(db);
    Book book = sample_book();
    seed(st, book);
    const std::int64_t v = version_of(st);
    const Money c1_before = st.account("C1")->balance;
    std::mt19937_64 rng(21);
    auto cdrs = random_cdrs(book, rng, 600, 1764000000000, 30000);
    REQUIRE(sum_charges(cdrs).micros() > 0);  // the batches move money
    for (std::size_t i = 0; i < cdrs.size(); i += 200) {
        REQUIRE(st.insert_cdrs(std::span<Cdr>(cdrs.data() + i, 200)));
        CHECK(version_of(st) == v);
    }
    CHECK(*st.cdr_count() == 600);
    CHECK(st.account("C1")->balance != c1_before);  // balances did move
    // A rejected batch neither.
    auto bad = random_cdrs(book, rng, 5);
    bad[2].call.customer = "ghost";
    CHECK_FALSE(st.insert_cdrs(bad));
    CHECK(version_of(st) == v);
    // Seen the same from another connection (the switch's poller may be one).
    Store other = open_store(db);
    CHECK(version_of(other) == v);
    REQUIRE(st.topup("C1", money("1"), 0));
    CHECK(version_of(other) > v);
    auto audit = st.audit();
    REQUIRE(audit);
    CHECK(audit->empty());
}

TEST_CASE("store: migration v2 -> v3 keeps the data and starts the change version", "[billing][store]") {
    REQUIRE(have_sqlite3_cli());  // scripts/setup.sh installs it; missing is a failure
    TempDir d;
    const std::string db = d.file("t.db");
    Book book = sample_book();
    std::mt19937_64 rng(22);
    auto cdrs = random_cdrs(book, rng, 300, 1764000000000, 30000);
    std::vector<Account> accounts_before;
    std::vector<Rate> retail_before;
    {
        Store st = open_store(db);
        seed(st, book);
        REQUIRE(st.insert_cdrs(cdrs));
        REQUIRE(st.set_phone_private("15550001", "wholesale"));
        REQUIRE(st.set_currency(Currency{"EUR", 3, Rounding::half_up}));
        accounts_before = *st.accounts();
        retail_before = *st.rates("retail");
    }
    // Turn the file into a version-2 file: exactly the v1 + v2 schema, no triggers.
    REQUIRE(sqlite3_cli(d, db, undo_v3_sql() + "PRAGMA user_version=2;"));
    auto left = sqlite3_cli(d, db, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                                   "OR name = 'billing_change'; PRAGMA user_version;");
    REQUIRE(left);
    CHECK(*left == "0\n2");

    Store st = open_store(db);
    CHECK(st.schema_version() == Store::kSchemaVersion);
    CHECK(Store::kSchemaVersion == 10);
    // Data kept.
    auto accounts = st.accounts();
    REQUIRE(accounts);
    REQUIRE(accounts->size() == accounts_before.size());
    for (std::size_t i = 0; i < accounts->size(); ++i) {
        CHECK((*accounts)[i].id == accounts_before[i].id);
        CHECK((*accounts)[i].balance == accounts_before[i].balance);
        CHECK((*accounts)[i].rate_group == accounts_before[i].rate_group);
    }
    auto retail = st.rates("retail");
    REQUIRE(retail);
    CHECK(retail->size() == retail_before.size());
    CHECK(*st.cdr_count() == 300);
    CHECK(st.currency()->code == "EUR");
    auto b = st.load_book();
    REQUIRE(b);
    CHECK(b->phone_private("15550001") == b->find_group("wholesale"));
    auto audit = st.audit();
    REQUIRE(audit);
    CHECK(audit->empty());
    // The version starts and works like on a new file.
    const std::int64_t v = version_of(st);
    CHECK(v >= 1);
    auto more = random_cdrs(book, rng, 50);
    REQUIRE(st.insert_cdrs(more));
    CHECK(version_of(st) == v);
    REQUIRE(st.set_rate_group("C2", "wholesale"));
    CHECK(version_of(st) > v);
    // Reopening does not migrate or reset it.
    const std::int64_t v2 = version_of(st);
    Store again = open_store(db);
    CHECK(version_of(again) == v2);
}

TEST_CASE("store: a locked database is a precise error and writes nothing", "[billing][store]") {
    // a missing tool is a failure: scripts/setup.sh installs the sqlite3 CLI
    REQUIRE(std::system("command -v sqlite3 >/dev/null 2>&1") == 0);
    TempDir d;
    const std::string db = d.file("t.db");
    Book book = sample_book();
    {
        Store st = open_store(db);
        seed(st, book);
    }
    // Another process holds the write lock. It says so itself: the CLI runs its input in
    // order, so the marker file appears only once BEGIN IMMEDIATE and the UPDATE are done
    // (waiting on that, not on a guessed delay, keeps a loaded machine from racing ahead).
    const std::string marker = d.file("locked");
    FILE* holder = popen(("sqlite3 " + db + " >/dev/null 2>&1").c_str(), "w");
    REQUIRE(holder != nullptr);
    std::fputs(("BEGIN IMMEDIATE;\nUPDATE settings SET value = value;\n.shell touch " + marker +
                "\n").c_str(),
               holder);
    std::fflush(holder);
    bool locked = false;
    for (int i = 0; i < 3000 && !locked; ++i) {  // up to 30 s
        locked = std::filesystem::exists(marker);
        if (!locked) usleep(10000);
    }
    REQUIRE(locked);
    Store st = open_store(db, opts(200, true));
    std::mt19937_64 rng(3);
    auto cdrs = random_cdrs(book, rng, 20);
    auto r = st.insert_cdrs(cdrs);
    std::fputs("ROLLBACK;\n.quit\n", holder);
    pclose(holder);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::db_locked);
    CHECK(*st.cdr_count() == 0);
    REQUIRE(st.insert_cdrs(cdrs));  // lock released: works
    CHECK(st.audit()->empty());
}

TEST_CASE("store: a full database is a precise error and writes nothing", "[billing][store]") {
    TempDir d;
    Book book = sample_book();
    Store st = open_store(d.file("t.db"), opts(1000, false, 64));
    seed(st, book);
    std::mt19937_64 rng(5);
    Error last;
    bool full = false;
    for (int i = 0; i < 200 && !full; ++i) {
        auto cdrs = random_cdrs(book, rng, 50);
        auto r = st.insert_cdrs(cdrs);
        if (!r) {
            full = true;
            last = r.error();
        }
    }
    REQUIRE(full);
    CHECK(last.code == ErrorCode::disk_full);
    auto n = st.cdr_count();
    REQUIRE(n);
    CHECK(*n % 50 == 0);  // whole batches only
    CHECK(st.audit()->empty());
}

namespace {

// Forks a child that runs `write` (batches forever, on its own Store) and kills it with
// SIGKILL after 50 ms + a random part of `spread_us`: mostly inside a transaction, since
// inserting is most of its time. Returns once the child is gone.
void kill_writer_midway(const std::string& db, std::mt19937_64& rng, std::uint32_t spread_us,
                        const std::function<void(Store&)>& write) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        auto st = Store::open(db);
        if (!st) _exit(3);
        write(*st);
        _exit(4);  // write returns only when a batch failed
    }
    usleep(static_cast<useconds_t>(50000 + rng() % spread_us));
    REQUIRE(kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
}

}  // namespace

TEST_CASE("store: SIGKILL between and during batches never half-writes", "[billing][store][crash]") {
    TempDir d;
    const std::string db = d.file("crash.db");
    Book book = sample_book();
    {
        Store st = open_store(db);
        seed(st, book);
    }
    constexpr std::size_t kBatch = 200;
    std::mt19937_64 rng(99);
    for (int round = 0; round < 6; ++round) {
        std::mt19937_64 crng(1000 + static_cast<unsigned>(round));
        const auto base = random_cdrs(book, crng, kBatch);
        kill_writer_midway(db, rng, 250000, [&](Store& st) {
            for (std::vector<Cdr> batch = base; st.insert_cdrs(batch); batch = base) {
            }
        });
        // Reopen: every CDR has its debit and credit; only whole batches exist.
        Store st = open_store(db);
        auto n = st.cdr_count();
        REQUIRE(n);
        INFO("round " << round << ", CDRs " << *n);
        CHECK(*n % static_cast<std::int64_t>(kBatch) == 0);
        auto audit = st.audit();
        REQUIRE(audit);
        for (const auto& issue : *audit)
            FAIL_CHECK(issue.account << " balance " << issue.balance.to_string() << " expected "
                                     << issue.expected.to_string());
        // Balances equal opening balances minus the sum of the CDR charges (customers).
        auto all = st.cdrs(kTimeMin, kTimeMax);
        REQUIRE(all);
        std::map<std::string, Money> charged;
        for (const Cdr& c : *all) charged[c.call.customer] = *charged[c.call.customer].add(c.charge);
        for (const char* id : {"C1", "C2", "C3"})
            CHECK(st.account(id)->balance == *book.account(id)->balance.sub(charged[id]));
    }
}

TEST_CASE("store: rate groups exist once created; deck templates", "[billing][store]") {
    TempDir d;
    Store st = open_store(d.file("t.db"));
    CHECK_FALSE(*st.rate_group_exists("retail"));
    REQUIRE(st.import_rates("retail", std::vector<Rate>{make_rate("44", "UK", "0.01", 60)}, false));
    CHECK(*st.rate_group_exists("retail"));
    REQUIRE(st.import_rates("retail", std::vector<Rate>{}, true));  // emptied, still there
    CHECK(*st.rate_group_exists("retail"));
    REQUIRE(st.create_rate_group("empty"));
    CHECK(st.create_rate_group("empty").error().code == ErrorCode::duplicate);
    CHECK(st.create_rate_group("").error().field == "group");
    REQUIRE(st.add_account(make_account("1001", AccountKind::customer, "retail")));
    REQUIRE(st.set_account_private("1001", "empty"));
    CHECK(*st.rate_groups() == std::vector<std::string>{"empty", "retail"});
    auto infos = st.rate_group_infos();
    REQUIRE(infos);
    REQUIRE(infos->size() == 2);
    CHECK((*infos)[0].name == "empty");
    CHECK((*infos)[0].rates == 0);
    CHECK((*infos)[0].accounts == 1);
    CHECK((*infos)[1].accounts == 1);

    DeckTemplate t;
    t.name = "vos";
    t.memo = "carrier Y";
    REQUIRE(parse_mapping("prefix=areaCode,price=newPrice,effective_from=effectiveDate", t.format));
    t.format.delimiter = '\t';
    t.format.decimal_comma = true;
    t.format.date_format = "dd/MM/yyyy";
    t.format.skip_lines = 2;
    t.format.encoding = TextEncoding::cp1252;
    t.format.default_increment = 6;
    t.format.allow_zero_price = true;
    const auto before = st.change_version();
    REQUIRE(st.put_deck_template(t, false));
    CHECK(st.put_deck_template(t, false).error().code == ErrorCode::duplicate);
    REQUIRE(st.put_deck_template(t, true));
    CHECK(*st.change_version() == *before);  // templates are not part of the book
    auto back = st.deck_template("vos");
    REQUIRE(back);
    CHECK(back->memo == "carrier Y");
    CHECK(format_mapping(back->format) == format_mapping(t.format));
    CHECK(back->format.delimiter == '\t');
    CHECK(back->format.decimal_comma);
    CHECK(back->format.date_format == "dd/MM/yyyy");
    CHECK(back->format.skip_lines == 2);
    CHECK(back->format.header);
    CHECK(back->format.encoding == TextEncoding::cp1252);
    CHECK(back->format.default_increment == 6);
    CHECK(back->format.allow_zero_price);
    t.format.date_format = "yy";
    CHECK(st.put_deck_template(t, true).error().field == "date_format");
    CHECK(st.deck_templates()->size() == 1);
    REQUIRE(st.remove_deck_template("vos"));
    CHECK(st.deck_template("vos").error().message == "unknown template 'vos'");
    CHECK_FALSE(st.remove_deck_template("vos"));
}

namespace {

// What find_cdrs must return, computed from the CDRs in memory: latest end time first, then
// the larger id.
std::vector<std::int64_t> expected_ids(std::vector<Cdr> all, const CdrFilter& f) {
    auto prefix = [&](const std::string& s) { return s.compare(0, f.number.size(), f.number) == 0; };
    auto key = [](const Cdr& c) { return std::pair(c.call.end_ms, c.id); };
    std::sort(all.begin(), all.end(), [&](const Cdr& a, const Cdr& b) { return key(a) > key(b); });
    std::vector<std::int64_t> ids;
    for (auto it = all.begin(); it != all.end(); ++it) {
        const CallRecord& k = it->call;
        if (k.end_ms < f.from || k.end_ms >= f.until) continue;
        if (f.before && key(*it) >= std::pair(f.before->end_ms, f.before->id)) continue;
        if (!f.customer.empty() && k.customer != f.customer) continue;
        if (!f.vendor.empty() && k.vendor != f.vendor) continue;
        if (!f.gateway.empty() && k.customer_gateway != f.gateway && k.vendor_gateway != f.gateway) continue;
        if (!f.number.empty() && !prefix(k.caller) && !prefix(k.callee) && !prefix(k.callee_out)) continue;
        if (!f.call_id.empty() && k.call_id_in != f.call_id && k.call_id_out != f.call_id) continue;
        if (ids.size() == f.limit) break;
        ids.push_back(it->id);
    }
    return ids;
}

std::vector<std::int64_t> found_ids(Store& st, const CdrFilter& f) {
    auto r = st.find_cdrs(f);
    if (!r) FAIL(r.error().describe());
    std::vector<std::int64_t> ids;
    for (const Cdr& c : *r) ids.push_back(c.id);
    return ids;
}

}  // namespace

TEST_CASE("store: find_cdrs filters by time, account, gateway, number and Call-ID, newest first",
          "[billing][store][cdr]") {
    TempDir d;
    Store st = open_store(d.file("t.db"));
    Book book = sample_book();
    seed(st, book);
    std::mt19937_64 rng(11);
    auto cdrs = random_cdrs(book, rng, 400);
    cdrs[10].call.callee_out = "0049301234";  // the number as sent to the vendor
    REQUIRE(st.insert_cdrs(cdrs));
    const Timestamp mid = cdrs[200].call.end_ms;
    std::vector<CdrFilter> filters = {
        {},
        {.limit = 7},
        {.from = mid, .limit = 1000},
        {.until = mid, .limit = 1000},
        {.customer = "C2", .limit = 1000},
        {.vendor = "V1", .limit = 1000},
        {.gateway = "gw-C1-0", .limit = 1000},
        {.gateway = "rgw-V2-1", .limit = 1000},
        {.number = "4420", .limit = 1000},
        {.number = "1555", .limit = 3},
        {.number = "004930", .limit = 1000},
        {.call_id = "out-17@b"},
        {.call_id = "in-300@a"},
        {.from = mid, .customer = "C3", .gateway = "rgw-V1-0", .number = "49", .limit = 1000},
        {.customer = "nobody"},
    };
    for (const CdrFilter& f : filters) {
        INFO("customer=" << f.customer << " vendor=" << f.vendor << " gateway=" << f.gateway
                         << " number=" << f.number << " call_id=" << f.call_id << " limit=" << f.limit);
        CHECK(found_ids(st, f) == expected_ids(cdrs, f));
    }
    CHECK(found_ids(st, {.number = "004930"}) == std::vector<std::int64_t>{cdrs[10].id});
    CHECK(found_ids(st, {.call_id = "in-300@a"}).size() == 1);
    CHECK(found_ids(st, {.customer = "nobody"}).empty());
}

TEST_CASE("store: find_cdrs pages by cursor without gaps or repeats", "[billing][store][cdr]") {
    TempDir d;
    Store st = open_store(d.file("t.db"));
    Book book = sample_book();
    seed(st, book);
    std::mt19937_64 rng(12);
    auto cdrs = random_cdrs(book, rng, 250);
    cdrs[40].call.end_ms = cdrs[41].call.end_ms;  // equal end times: the id decides
    cdrs[42].call.end_ms = cdrs[41].call.end_ms;
    REQUIRE(st.insert_cdrs(cdrs));
    CdrFilter f{.customer = "C1", .limit = 16};
    std::vector<std::int64_t> paged;
    for (int page = 0; page < 100; ++page) {
        auto r = st.find_cdrs(f);
        REQUIRE(r);
        for (const Cdr& c : *r) paged.push_back(c.id);
        if (r->size() < f.limit) break;
        f.before = cursor_of(r->back());
    }
    CdrFilter all{.customer = "C1", .limit = 1000};
    CHECK(paged == expected_ids(cdrs, all));
    CHECK(paged.size() > 16);  // more than one page was read
    // A CDR written after the first page does not shift the later pages.
    CdrFilter first{.customer = "C1", .limit = 16};
    auto p1 = st.find_cdrs(first);
    REQUIRE(p1);
    auto later = random_cdrs(book, rng, 5, cdrs.back().call.end_ms + 1000);
    REQUIRE(st.insert_cdrs(later));
    first.before = cursor_of(p1->back());
    const auto p2 = found_ids(st, first);
    CHECK(std::vector<std::int64_t>(paged.begin() + 16, paged.begin() + 16 + static_cast<long>(p2.size())) == p2);
}

TEST_CASE("store: find_cdrs reads an index in order for the time range and the accounts", "[billing][store][cdr]") {
    TempDir d;
    Store st = open_store(d.file("t.db"));
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(d.file("t.db").c_str(), &db) == SQLITE_OK);
    auto plan = [&](const std::string& where) {
        std::string out;
        const std::string sql = "EXPLAIN QUERY PLAN SELECT * FROM cdrs WHERE " + where +
                                " ORDER BY end_ms DESC, id DESC LIMIT 10";
        sqlite3_stmt* s = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
        while (sqlite3_step(s) == SQLITE_ROW) out += reinterpret_cast<const char*>(sqlite3_column_text(s, 3)) + std::string("\n");
        sqlite3_finalize(s);
        return out;
    };
    // an index range read backwards, and no sort of the range (no TEMP B-TREE)
    const std::string range = plan("end_ms >= 1 AND end_ms < 2 AND end_ms <= 2 AND (end_ms < 2 OR id < 5)");
    INFO(range);
    CHECK(range.find("INDEX cdrs_end") != std::string::npos);
    CHECK(range.find("TEMP B-TREE") == std::string::npos);
    const std::string customer = plan("end_ms >= 1 AND end_ms < 2 AND customer = 'C1'");
    INFO(customer);
    CHECK(customer.find("INDEX cdrs_customer") != std::string::npos);
    CHECK(customer.find("TEMP B-TREE") == std::string::npos);
    sqlite3_close(db);
}

TEST_CASE("cdr cursor: text form round-trips; anything else is refused", "[billing][cdr]") {
    const CdrCursor c{1764000123456, 812};
    CHECK(to_string(c) == "1764000123456.812");
    CHECK(parse_cdr_cursor("1764000123456.812") == c);
    CHECK(parse_cdr_cursor("-5.1") == CdrCursor{-5, 1});
    for (const char* bad : {"", ".", "12", "12.", ".12", "12.0", "12.-3", "a.1", "1.2.3", "1 .2", "99999999999999999999.1"})
        CHECK_FALSE(parse_cdr_cursor(bad));
}

TEST_CASE("store: agent commission is stored with the agent; v5 files get 0% of charge", "[billing][store][agent]") {
    TempDir d;
    const std::string db = d.file("t.db");
    {
        Store st = open_store(db);
        Account ag;
        ag.id = "A1";
        ag.kind = AccountKind::agent;
        ag.commission_ppm = 52500;  // 5.25%
        ag.commission_basis = CommissionBasis::profit;
        REQUIRE(st.add_account(ag));
        Account c;
        c.id = "C1";
        c.agent = "A1";
        c.balance = Money::from_micros(5000000);
        REQUIRE(st.add_account(c));
        auto back = st.account("A1");
        REQUIRE(back);
        CHECK(back->commission_ppm == 52500);
        CHECK(back->commission_basis == CommissionBasis::profit);
        // A commission on a customer is refused, on add and on update.
        Account bad = c;
        bad.id = "C2";
        bad.commission_ppm = 10000;
        auto e = st.add_account(bad);
        REQUIRE_FALSE(e);
        CHECK(e.error().field == "commission");
        CHECK(st.account("C2").error().code == ErrorCode::unknown_account);
        Account c1 = *st.account("C1");
        c1.commission_ppm = 10000;
        CHECK_FALSE(st.update_account(c1));
        // update_account: every field but the balance; a change moves change_version.
        const auto v0 = version_of(st);
        Account a1 = *back;
        a1.commission_ppm = 100000;
        a1.commission_basis = CommissionBasis::charge;
        a1.name = "Reseller";
        a1.balance = Money::from_micros(999);  // ignored: balances move only through the ledger
        REQUIRE(st.update_account(a1));
        CHECK(version_of(st) > v0);
        back = st.account("A1");
        CHECK(back->commission_ppm == 100000);
        CHECK(back->commission_basis == CommissionBasis::charge);
        CHECK(back->name == "Reseller");
        CHECK(back->balance.is_zero());
        Account ghost = a1;
        ghost.id = "NOPE";
        CHECK(st.update_account(ghost).error().code == ErrorCode::unknown_account);
        auto books = st.load_book();
        REQUIRE(books);
        CHECK(books->account("A1")->commission_ppm == 100000);
        CHECK(st.audit()->empty());
    }
    if (!have_sqlite3_cli()) return;
    // The columns refuse out-of-range values written by hand too.
    CHECK_FALSE(sqlite3_cli(d, db, "UPDATE accounts SET commission_ppm = 1000001 WHERE id = 'A1';"));
    CHECK_FALSE(sqlite3_cli(d, db, "UPDATE accounts SET commission_basis = 'revenue' WHERE id = 'A1';"));
    // Back to a version-5 file: the commitment, package and volume tables, the commission columns and the v6 trigger removed.
    REQUIRE(sqlite3_cli(d, db,
                        "DROP TABLE commitments;\nDROP TABLE packages;\nDROP TABLE package_usage;\n"
                        "DROP TABLE volume_tiers;\nDROP TABLE volume_usage;\n"
                        "DROP TRIGGER billing_change_accounts_update;\n"
                        "ALTER TABLE accounts DROP COLUMN commission_basis;\n"
                        "ALTER TABLE accounts DROP COLUMN commission_ppm;\n"
                        "CREATE TRIGGER billing_change_accounts_update AFTER UPDATE OF id, name, kind, credit_limit, "
                        "rate_group, private_group, agent, memo ON accounts "
                        "BEGIN UPDATE billing_change SET version = version + 1; END;\n"
                        "PRAGMA user_version=5;"));
    Store st = open_store(db);
    CHECK(st.schema_version() == Store::kSchemaVersion);
    auto a = st.account("A1");
    REQUIRE(a);
    CHECK(a->commission_ppm == 0);
    CHECK(a->commission_basis == CommissionBasis::charge);
    CHECK(st.account("C1")->agent == "A1");
    CHECK(st.account("C1")->balance == Money::from_micros(5000000));
    // The recreated trigger counts the new columns.
    const auto v0 = version_of(st);
    REQUIRE(sqlite3_cli(d, db, "UPDATE accounts SET commission_ppm = 1 WHERE id = 'A1';"));
    CHECK(version_of(st) > v0);
}

TEST_CASE("store: volume tiers are stored; insert_cdrs counts the volume in the CDRs' transaction", "[billing][store][tiers]") {
    TempDir d;
    const std::string db = d.file("t.db");
    Store st = open_store(db);
    Book book = sample_book();
    seed(st, book);
    REQUIRE(st.put_volume_tier({"C1", "44", 0, Money::from_micros(20000)}));
    REQUIRE(st.put_volume_tier({"C1", "44", 2, Money::from_micros(10000)}));
    REQUIRE(st.put_volume_tier({"C1", "44", 2, Money::from_micros(9000)}));  // replaces the price
    CHECK_FALSE(st.put_volume_tier({"C1", "4x", 2, Money::from_micros(9000)}));
    auto tiers = st.volume_tiers();
    REQUIRE(tiers);
    auto all = tiers->all();
    REQUIRE(all.size() == 2);
    CHECK(all[1].price == Money::from_micros(9000));
    CHECK(st.remove_volume_tier("C1", "44", 7).error().field == "tier");

    std::mt19937_64 rng(5);
    auto cdrs = random_cdrs(book, rng, 4);
    std::int64_t volume = 0;
    for (Cdr& c : cdrs) {
        c.call.customer = "C1";
        c.tier_prefix = "44";
        c.tier_month = "2026-11";
        c.volume_before_s = volume;
        volume += c.customer_billed_s;
    }
    REQUIRE(volume > 0);
    const Money before = st.account("C1")->balance;
    // A batch priced at a volume that is no longer the stored one is refused whole.
    std::vector<Cdr> stale = cdrs;
    stale[2].volume_before_s += 1;
    auto e = st.insert_cdrs(stale);
    REQUIRE_FALSE(e);
    CHECK(e.error().field == "volume");
    CHECK(e.error().line == 3);
    CHECK(e.error().message.find("rate it again") != std::string::npos);
    CHECK(*st.cdr_count() == 0);
    CHECK(*st.volume_used("C1", "44", "2026-11") == 0);
    CHECK(st.account("C1")->balance == before);
    // The right volumes: stored with the CDRs, per month.
    REQUIRE(st.insert_cdrs(cdrs));
    CHECK(*st.volume_used("C1", "44", "2026-11") == volume);
    CHECK(*st.volume_used("C1", "44", "2026-12") == 0);
    CHECK(*st.volume_used("C2", "44", "2026-11") == 0);
    // Replaying the same batch (priced at volumes already counted) is refused.
    std::vector<Cdr> again = cdrs;
    CHECK_FALSE(st.insert_cdrs(again));
    CHECK(*st.cdr_count() == 4);
    // A new month starts at 0.
    std::vector<Cdr> dec = {cdrs[0]};
    dec[0].tier_month = "2026-12";
    dec[0].volume_before_s = 0;
    REQUIRE(st.insert_cdrs(dec));
    CHECK(*st.volume_used("C1", "44", "2026-12") == cdrs[0].customer_billed_s);
    CHECK(st.audit()->empty());
    // The switch prices by tiers (schema v10): a change moves the version, so it reloads;
    // counting the volume (insert_cdrs) does not.
    const auto v0 = version_of(st);
    REQUIRE(st.remove_volume_tier("C1", "44", 0));
    CHECK(version_of(st) > v0);
    const auto v1 = version_of(st);
    dec[0].volume_before_s = cdrs[0].customer_billed_s;
    REQUIRE(st.insert_cdrs(dec));
    CHECK(version_of(st) == v1);
}

TEST_CASE("store: SIGKILL during tiered batches never counts a volume without its CDRs", "[billing][store][crash][tiers]") {
    TempDir d;
    const std::string db = d.file("crash.db");
    Book book = sample_book();
    {
        Store st = open_store(db);
        seed(st, book);
    }
    constexpr std::size_t kBatch = 100;
    std::mt19937_64 rng(7);
    for (int round = 0; round < 3; ++round) {
        std::mt19937_64 crng(2000 + static_cast<unsigned>(round));
        const auto base = random_cdrs(book, crng, kBatch);
        kill_writer_midway(db, rng, 200000, [&](Store& st) {
            auto used = st.volume_used("C1", "44", "2026-11");
            if (!used) return;
            for (std::int64_t volume = *used;;) {
                std::vector<Cdr> batch = base;
                std::int64_t v = volume;
                for (Cdr& c : batch) {
                    c.call.customer = "C1";
                    c.tier_prefix = "44";
                    c.tier_month = "2026-11";
                    c.volume_before_s = v;
                    v += c.customer_billed_s;
                }
                if (!st.insert_cdrs(batch)) return;
                volume = v;
            }
        });
        Store st = open_store(db);
        auto n = st.cdr_count();
        REQUIRE(n);
        INFO("round " << round << ", CDRs " << *n);
        CHECK(*n % static_cast<std::int64_t>(kBatch) == 0);
        std::int64_t billed = 0;
        auto all = st.cdrs(kTimeMin, kTimeMax);
        REQUIRE(all);
        for (const Cdr& c : *all) billed += c.customer_billed_s;
        CHECK(*st.volume_used("C1", "44", "2026-11") == billed);
        CHECK(st.audit()->empty());
    }
}

TEST_CASE("store: load_volume_pricing holds every counter; rebase counts on top of another writer", "[billing][store][tiers][packages]") {
    TempDir d;
    Store st = open_store(d.file("t.db"));
    Book book = sample_book();
    seed(st, book);
    REQUIRE(st.put_volume_tier({"C1", "44", 0, money("0.02")}));
    const auto v0 = version_of(st);
    REQUIRE(st.sell_package({"C1", "uk", {"44"}, 100, money("0"), T("2026-11-01"), T("2026-12-01")}, 0));
    CHECK(version_of(st) > v0);  // a package reaches the switch too (schema v10)
    std::mt19937_64 rng(9);
    auto cdrs = random_cdrs(book, rng, 2);
    for (Cdr& c : cdrs) {
        c.call.customer = "C1";
        c.tier_prefix = "44";
        c.tier_month = "2026-11";
        c.package_name = "uk";
    }
    cdrs[0].volume_before_s = 0;
    cdrs[0].package_s = 60;
    cdrs[0].package_before_s = 0;
    REQUIRE(st.insert_cdrs({cdrs.data(), 1}));
    auto vp = st.load_volume_pricing();
    REQUIRE(vp);
    CHECK(*vp->volume("C1", "44", "2026-11") == cdrs[0].customer_billed_s);
    CHECK(*vp->volume("C1", "44", "2026-12") == 0);
    CHECK(*vp->package_used(*vp->packages().find("C1", "uk")) == 60);
    CHECK(vp->tiers().find("C1", "4420").has_value());

    // A second CDR priced before the first was counted (as by a switch that lost the race
    // with an import): exact refuses it, rebase adds its counts to the stored ones and caps
    // the package at its 100 s.
    cdrs[1].volume_before_s = 0;
    cdrs[1].package_s = 60;
    cdrs[1].package_before_s = 0;
    auto e = st.insert_cdrs({cdrs.data() + 1, 1});
    REQUIRE_FALSE(e);
    CHECK(e.error().field == "volume");
    REQUIRE(st.insert_cdrs({cdrs.data() + 1, 1}, CountCheck::rebase));
    CHECK(*st.volume_used("C1", "44", "2026-11") == cdrs[0].customer_billed_s + cdrs[1].customer_billed_s);
    CHECK(*st.package_used("C1", "uk") == 100);
    CHECK(*st.cdr_count() == 2);
    CHECK(st.audit()->empty());
    // A package removed meanwhile: rebase still stores the CDR, and counts nothing for it.
    REQUIRE(st.remove_package("C1", "uk"));
    auto more = random_cdrs(book, rng, 1);
    more[0].call.customer = "C1";
    more[0].package_name = "uk";
    more[0].package_s = 10;
    REQUIRE_FALSE(st.insert_cdrs(more));
    REQUIRE(st.insert_cdrs(more, CountCheck::rebase));
    CHECK(*st.cdr_count() == 3);
    CHECK(*st.package_used("C1", "uk") == 0);
}

TEST_CASE("store: insert_cdrs grants a tier's bonus minutes in the CDR's transaction", "[billing][store][tiers][bonus]") {
    TempDir d;
    Store st = open_store(d.file("t.db"));
    Book book = sample_book();
    seed(st, book);
    REQUIRE(st.put_volume_tier({"C1", "44", 0, money("0.02")}));
    REQUIRE(st.put_volume_tier({"C1", "44", 2, money("0.01"), 5}));
    CHECK(st.volume_tiers()->all()[1].bonus_minutes == 5);
    CHECK(st.put_volume_tier({"C1", "44", 0, money("0.02"), 5}).error().field == "bonus_minutes");
    std::mt19937_64 rng(11);
    auto cdrs = random_cdrs(book, rng, 2);
    std::int64_t volume = 100;  // start just below the 120 s threshold
    for (Cdr& c : cdrs) {
        c.call.customer = "C1";
        c.call.end_ms = T("2026-11-10 10:00:00");
        c.tier_prefix = "44";
        c.tier_month = "2026-11";
        c.customer_billed_s = 30;
    }
    cdrs[0].volume_before_s = 0;
    cdrs[0].customer_billed_s = 100;
    cdrs[1].volume_before_s = volume;
    const auto v0 = version_of(st);
    REQUIRE(st.insert_cdrs(cdrs));
    auto pk = st.packages();
    REQUIRE(pk);
    const Package* bonus = pk->find("C1", "bonus-44-2026-11-2m");
    REQUIRE(bonus);
    CHECK(bonus->seconds == 300);
    CHECK(bonus->valid_from == T("2026-11-10 10:00:00"));
    CHECK(bonus->valid_until == T("2026-12-01"));
    CHECK(bonus->fee.is_zero());
    CHECK(version_of(st) > v0);  // the switch reloads and sees it
    CHECK(st.audit()->empty());   // no ledger row: nothing was sold
    CHECK(pk->all().size() == 1);
}

TEST_CASE("store: packages are sold with their fee in the ledger; insert_cdrs counts their use", "[billing][store][packages]") {
    TempDir d;
    const std::string db = d.file("t.db");
    Store st = open_store(db);
    Book book = sample_book();
    seed(st, book);
    Package p{"C1", "uk", {"44", "33"}, 600, money("2.50"), T("2026-11-01"), T("2026-12-01")};
    // Selling: the fee leaves the balance through a "package" ledger row, in one transaction.
    auto nb = st.sell_package(p, T("2026-11-01 09:00:00"));
    REQUIRE(nb);
    CHECK(*nb == money("97.50"));
    CHECK(st.account("C1")->balance == money("97.50"));
    auto led = st.ledger("C1");
    REQUIRE(led);
    REQUIRE(led->size() == 2);
    CHECK(led->back().kind == "package");
    CHECK(led->back().amount == money("-2.50"));
    CHECK(led->back().memo == "package uk");
    CHECK(st.audit()->empty());
    // Selling the same name again would charge twice: refused, nothing moved.
    auto dup = st.sell_package(p, 0);
    REQUIRE_FALSE(dup);
    CHECK(dup.error().code == ErrorCode::duplicate);
    CHECK(st.account("C1")->balance == money("97.50"));
    // Unknown account, a vendor, a fee above balance + credit limit, a bad package.
    Package q = p;
    q.account = "NOPE";
    CHECK(st.sell_package(q, 0).error().field == "account");
    q.account = "V1";
    CHECK(st.sell_package(q, 0).error().field == "account");
    q = p;
    q.name = "big";
    q.fee = money("60.01");  // C2: balance 50, no credit
    q.account = "C2";
    auto poor = st.sell_package(q, 0);
    REQUIRE_FALSE(poor);
    CHECK(poor.error().code == ErrorCode::insufficient_funds);
    CHECK(poor.error().field == "fee");
    q.prefixes = {"4x"};
    CHECK(st.sell_package(q, 0).error().field == "prefixes");
    CHECK(st.ledger("C2")->size() == 1);
    auto all = st.packages();
    REQUIRE(all);
    REQUIRE(all->all().size() == 1);
    CHECK(all->all()[0].prefixes == std::vector<std::string>{"44", "33"});
    CHECK(all->all()[0].valid_until == T("2026-12-01"));
    CHECK(*st.package_used("C1", "uk") == 0);

    // CDRs that used the package: counted in the CDRs' transaction.
    std::mt19937_64 rng(11);
    auto cdrs = random_cdrs(book, rng, 4);
    std::int64_t used = 0;
    for (Cdr& c : cdrs) {
        c.call.customer = "C1";
        c.package_name = "uk";
        c.package_s = 100;
        c.package_before_s = used;
        used += 100;
    }
    // Priced at a usage that is no longer the stored one: the whole batch is refused.
    std::vector<Cdr> stale = cdrs;
    stale[1].package_before_s = 0;
    auto e = st.insert_cdrs(stale);
    REQUIRE_FALSE(e);
    CHECK(e.error().field == "package");
    CHECK(e.error().line == 2);
    CHECK(e.error().message.find("rate it again") != std::string::npos);
    CHECK(*st.cdr_count() == 0);
    CHECK(*st.package_used("C1", "uk") == 0);
    // More seconds than the package holds: refused.
    std::vector<Cdr> over = cdrs;
    over[3].package_s = 301;
    CHECK(st.insert_cdrs(over).error().field == "package");
    REQUIRE(st.insert_cdrs(cdrs));
    CHECK(*st.package_used("C1", "uk") == 400);
    // The report: packages valid at some moment of [from, until), with their whole usage.
    for (auto [from, until, rows] : {std::tuple{kTimeMin, kTimeMax, 1}, {T("2026-11-30"), T("2026-11-30 00:00:01"), 1},
                                     {T("2026-12-01"), kTimeMax, 0}, {kTimeMin, T("2026-11-01"), 0}}) {
        auto rep = st.package_report(from, until);
        REQUIRE(rep);
        REQUIRE(rep->rows.size() == static_cast<std::size_t>(rows));
        CHECK(rep->decimals == st.currency()->precision);
        if (!rows) continue;
        CHECK(rep->rows[0].package.name == "uk");
        CHECK(rep->rows[0].used_s == 400);
        CHECK(rep->rows[0].left_s() == 200);
    }
    // A replay (priced at usages already counted) is refused.
    CHECK_FALSE(st.insert_cdrs(cdrs));
    CHECK(*st.cdr_count() == 4);
    CHECK(st.audit()->empty());
    // Removed: no refund, its usage gone; a CDR still naming it is refused.
    REQUIRE(st.remove_package("C1", "uk"));
    CHECK(st.remove_package("C1", "uk").error().field == "package");
    CHECK(*st.package_used("C1", "uk") == 0);
    CHECK(st.account("C1")->balance == *money("97.50").sub(sum_charges(cdrs)));
    std::vector<Cdr> late = {cdrs[0]};
    late[0].package_before_s = 0;
    CHECK(st.insert_cdrs(late).error().field == "package");
    CHECK(st.audit()->empty());
}

TEST_CASE("store: migration v7 -> v8 adds the package tables and keeps the data", "[billing][store][packages]") {
    if (!have_sqlite3_cli()) return;
    TempDir d;
    const std::string db = d.file("t.db");
    Book book = sample_book();
    {
        Store st = open_store(db);
        seed(st, book);
        REQUIRE(st.put_volume_tier({"C1", "44", 0, money("0.02")}));
        std::mt19937_64 rng(3);
        auto cdrs = random_cdrs(book, rng, 5);
        REQUIRE(st.insert_cdrs(cdrs));
    }
    // Exactly a version-7 file.
    REQUIRE(sqlite3_cli(d, db, undo_v10_sql() + "DROP TABLE commitments;\nDROP TABLE packages;\nDROP TABLE package_usage;\nPRAGMA user_version=7;"));
    REQUIRE(*sqlite3_cli(d, db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'package%';") == "0");
    Store st = open_store(db);
    CHECK(st.schema_version() == Store::kSchemaVersion);
    CHECK(*st.cdr_count() == 5);
    CHECK(st.volume_tiers()->all().size() == 1);
    CHECK(st.packages()->empty());
    CHECK(st.audit()->empty());
    REQUIRE(st.sell_package({"C3", "cn", {"86"}, 60, money("0"), T("2026-11-01"), T("2026-12-01")}, 0));
    CHECK(st.packages()->all().size() == 1);
    // The columns refuse what validate() refuses, also when written by hand.
    CHECK_FALSE(sqlite3_cli(d, db, "UPDATE packages SET seconds = 0;"));
    CHECK_FALSE(sqlite3_cli(d, db, "UPDATE packages SET valid_until = valid_from;"));
}

TEST_CASE("store: SIGKILL during package batches never counts a use without its CDR", "[billing][store][crash][packages]") {
    TempDir d;
    const std::string db = d.file("crash.db");
    Book book = sample_book();
    {
        Store st = open_store(db);
        seed(st, book);
        REQUIRE(st.sell_package({"C1", "all", {"1", "4", "8"}, 1000000000, money("1"), kTimeMin, kTimeMax}, 0));
    }
    constexpr std::size_t kBatch = 100;
    std::mt19937_64 rng(9);
    for (int round = 0; round < 3; ++round) {
        std::mt19937_64 crng(3000 + static_cast<unsigned>(round));
        const auto base = random_cdrs(book, crng, kBatch);
        kill_writer_midway(db, rng, 200000, [&](Store& st) {
            auto used = st.package_used("C1", "all");
            if (!used) return;
            for (std::int64_t u = *used;;) {
                std::vector<Cdr> batch = base;
                for (Cdr& c : batch) {  // one second of the package per CDR: usage == CDR count
                    c.call.customer = "C1";
                    c.package_name = "all";
                    c.package_s = 1;
                    c.package_before_s = u++;
                }
                if (!st.insert_cdrs(batch)) return;
            }
        });
        Store st = open_store(db);
        auto n = st.cdr_count();
        REQUIRE(n);
        INFO("round " << round << ", CDRs " << *n);
        CHECK(*n % static_cast<std::int64_t>(kBatch) == 0);
        CHECK(*st.package_used("C1", "all") == *n);
        CHECK(st.audit()->empty());
    }
}

namespace {

// A stored CDR of `customer` to `callee` answered at `answer` (UTC), billed `billed_s` for
// `charge`; the rest from a random CDR of the sample book (vendor, cost).
Cdr commitment_cdr(Cdr c, const char* customer, const char* callee, const char* answer, std::int64_t billed_s,
                   const char* charge) {
    c.call.customer = customer;
    c.call.callee = callee;
    c.call.setup_ms = T(answer) - 2000;
    c.call.answer_ms = T(answer);
    c.call.end_ms = T(answer) + billed_s * 1000;
    c.duration_s = billed_s;
    c.customer_billed_s = billed_s;
    c.charge = money(charge);
    c.profit = *c.charge.sub(c.cost);
    return c;
}

}  // namespace

TEST_CASE("store: commitment report sums the local month's calls by answer time", "[billing][store][commitments]") {
    TempDir d;
    Store st = open_store(d.file("t.db"));
    Book book = sample_book();
    seed(st, book);
    REQUIRE(st.set_setting("calendar.timezone", "Asia/Shanghai"));  // UTC+8: Dec 1 local = Nov 30 16:00 UTC
    // C1: 2 min to 44 at 10%, 3 min to everything else at 5%; C2: 1 min to 44.
    REQUIRE(st.put_commitment({"C1", "44", 2, 100000}));
    REQUIRE(st.put_commitment({"C1", "", 3, 50000}));
    REQUIRE(st.put_commitment({"C2", "44", 1, 50000}));
    // Refused: unknown account, a vendor, what validate() refuses; each names its field.
    CHECK(st.put_commitment({"NOPE", "44", 1, 1}).error().field == "account");
    CHECK(st.put_commitment({"NOPE", "44", 1, 1}).error().code == ErrorCode::unknown_account);
    CHECK(st.put_commitment({"V1", "44", 1, 1}).error().field == "account");
    CHECK(st.put_commitment({"C1", "4x", 1, 1}).error().field == "prefix");
    CHECK(st.put_commitment({"C1", "44", 0, 1}).error().field == "minutes");
    CHECK(st.put_commitment({"C1", "44", 1, 1000001}).error().field == "discount");
    REQUIRE(st.put_commitment({"C2", "44", 1, 20000}));  // replaces C2 44
    auto all = st.commitments();
    REQUIRE(all);
    REQUIRE(all->size() == 3);
    CHECK((*all)[0].prefix == "");  // sorted by account, prefix
    CHECK((*all)[1].prefix == "44");
    CHECK((*all)[2].discount_ppm == 20000);

    std::mt19937_64 rng(5);
    auto base = random_cdrs(book, rng, 1)[0];
    std::vector<Cdr> cdrs = {
        // Nov 30 15:59:59 UTC = Nov 30 23:59:59 local: November.
        commitment_cdr(base, "C1", "442071234567", "2026-11-30 15:59:59", 60, "0.0100"),
        // Nov 30 16:00:00 UTC = Dec 1 00:00:00 local: December (still November in UTC).
        commitment_cdr(base, "C1", "442071234567", "2026-11-30 16:00:00", 90, "0.0200"),
        commitment_cdr(base, "C1", "441611234567", "2026-12-10 10:00:00", 30, "0.0105"),
        // Not to 44: the "" commitment only (each call counts toward one commitment).
        commitment_cdr(base, "C1", "33123456", "2026-12-10 11:00:00", 180, "0.0333"),
        // Answered on Dec 31 23:59 local, ending next month: counted by answer time.
        commitment_cdr(base, "C1", "33123456", "2026-12-31 15:59:00", 120, "0.0010"),
        // Jan 1 00:00 local: January.
        commitment_cdr(base, "C1", "33123456", "2026-12-31 16:00:00", 600, "9.0000"),
        commitment_cdr(base, "C2", "4420", "2026-12-05 10:00:00", 59, "0.0500"),
        commitment_cdr(base, "C3", "4420", "2026-12-05 10:00:00", 600, "1.0000"),  // no commitment
    };
    Cdr unanswered = commitment_cdr(base, "C2", "4420", "2026-12-06 10:00:00", 0, "0");
    unanswered.call.answer_ms.reset();
    cdrs.push_back(unanswered);
    REQUIRE(st.insert_cdrs(cdrs));

    auto rep = st.commitment_report("2026-12");
    REQUIRE(rep);
    CHECK(rep->month == "2026-12");
    CHECK(rep->from == T("2026-11-30 16:00:00"));
    CHECK(rep->until == T("2026-12-31 16:00:00"));
    CHECK(rep->decimals == 4);
    REQUIRE(rep->rows.size() == 3);
    const CommitmentResult& all_c1 = rep->rows[0];  // C1 ""
    CHECK(all_c1.commitment.prefix == "");
    CHECK(all_c1.actual_s == 300);  // 180 + 120, not the calls to 44
    CHECK(all_c1.met);
    CHECK(all_c1.charge == money("0.0343"));
    CHECK(all_c1.discount == money("0.0018"));  // 5% of 0.0343 = 0.001715, up at 4 decimals
    const CommitmentResult& uk = rep->rows[1];  // C1 44
    CHECK(uk.actual_s == 120);  // 90 + 30: exactly 2 min
    CHECK(uk.met);
    CHECK(uk.shortfall_s == 0);
    CHECK(uk.charge == money("0.0305"));
    CHECK(uk.discount == money("0.0031"));  // 10% of 0.0305 = 0.00305 -> 0.0031
    const CommitmentResult& c2 = rep->rows[2];
    CHECK(c2.commitment.account == "C2");
    CHECK(c2.actual_s == 59);
    CHECK_FALSE(c2.met);
    CHECK(c2.shortfall_s == 1);
    CHECK(c2.discount == money("0"));

    // November: the call of 23:59:59 local alone.
    auto nov = st.commitment_report("2026-11");
    REQUIRE(nov);
    CHECK(nov->rows[1].actual_s == 60);
    CHECK(nov->rows[1].charge == money("0.0100"));
    CHECK_FALSE(nov->rows[1].met);
    CHECK(nov->rows[1].shortfall_s == 60);
    CHECK(nov->rows[0].actual_s == 0);
    // The SQL attribution equals the in-memory rule (commitment_for) over the stored CDRs.
    std::map<std::pair<std::string, std::string>, std::int64_t> expect;
    auto stored = st.cdrs(kTimeMin, kTimeMax);
    REQUIRE(stored);
    for (const Cdr& c : *stored)
        if (c.call.answer_ms && *c.call.answer_ms >= rep->from && *c.call.answer_ms < rep->until)
            if (const Commitment* m = commitment_for(*all, c.call.customer, c.call.callee))
                expect[{m->account, m->prefix}] += c.customer_billed_s;
    for (const CommitmentResult& r : rep->rows)
        CHECK(r.actual_s == expect[{r.commitment.account, r.commitment.prefix}]);
    CHECK(st.commitment_report("2026-1").error().field == "month");

    REQUIRE(st.remove_commitment("C1", ""));
    CHECK(st.remove_commitment("C1", "").error().field == "commitment");
    CHECK(st.commitments()->size() == 2);
    // Without the "" commitment the calls to 44 still count toward C1 44 alone.
    CHECK(st.commitment_report("2026-12")->rows[0].actual_s == 120);
}

TEST_CASE("store: the commitment report walks the customer index", "[billing][store][commitments]") {
    if (!have_sqlite3_cli()) return;
    TempDir d;
    const std::string db = d.file("t.db");
    { Store st = open_store(db); }
    auto plan = sqlite3_cli(d, db,
                            "EXPLAIN QUERY PLAN SELECT m.account, sum(c.customer_billed_s) FROM commitments m "
                            "LEFT JOIN cdrs c ON c.customer = m.account AND c.end_ms >= 0 AND c.answer_ms >= 0 "
                            "AND c.answer_ms < 1 GROUP BY m.account, m.prefix;");
    REQUIRE(plan);
    INFO(*plan);
    CHECK(plan->find("cdrs_customer") != std::string::npos);
}

TEST_CASE("store: migration v8 -> v9 adds the commitments table and keeps the data", "[billing][store][commitments]") {
    if (!have_sqlite3_cli()) return;
    TempDir d;
    const std::string db = d.file("t.db");
    Book book = sample_book();
    {
        Store st = open_store(db);
        seed(st, book);
        REQUIRE(st.sell_package({"C3", "cn", {"86"}, 60, money("0"), T("2026-11-01"), T("2026-12-01")}, 0));
        std::mt19937_64 rng(4);
        auto cdrs = random_cdrs(book, rng, 5);
        REQUIRE(st.insert_cdrs(cdrs));
    }
    // Exactly a version-8 file.
    REQUIRE(sqlite3_cli(d, db, undo_v10_sql() + "DROP TABLE commitments;\nPRAGMA user_version=8;"));
    REQUIRE(*sqlite3_cli(d, db, "SELECT count(*) FROM sqlite_master WHERE name = 'commitments';") == "0");
    Store st = open_store(db);
    CHECK(st.schema_version() == Store::kSchemaVersion);
    CHECK(*st.cdr_count() == 5);
    CHECK(st.packages()->all().size() == 1);
    CHECK(st.commitments()->empty());
    CHECK(st.audit()->empty());
    REQUIRE(st.put_commitment({"C1", "44", 10, 50000}));
    CHECK(st.commitments()->size() == 1);
    // The columns refuse what validate() refuses, also when written by hand.
    CHECK_FALSE(sqlite3_cli(d, db, "UPDATE commitments SET minutes = 0;"));
    CHECK_FALSE(sqlite3_cli(d, db, "UPDATE commitments SET discount_ppm = 1000001;"));
    CHECK_FALSE(sqlite3_cli(d, db, "UPDATE commitments SET prefix = '4x';"));
    CHECK_FALSE(sqlite3_cli(d, db, "UPDATE commitments SET account = '';"));
    CHECK(sqlite3_cli(d, db, "UPDATE commitments SET prefix = '';"));
}

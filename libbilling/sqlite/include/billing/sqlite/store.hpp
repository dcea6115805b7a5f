// billing::sqlite::Store — accounts, rate groups, private-rate bindings, a money ledger and
// CDRs in one SQLite file (WAL, prepared statements, batched transactions, migrations).
//
//   auto st = billing::sqlite::Store::open("var/trunkline.db");   // Result<Store>
//   if (!st) { std::cerr << st.error().describe() << '\n'; return 1; }
//   (void)st->add_account(account);                                 // + an "opening" ledger row
//   (void)st->import_rates("retail", deck.rates, /*replace=*/true);  // all or nothing
//   auto book = st->load_book();                                     // Result<billing::Book>
//   std::vector<billing::Cdr> batch = ...;                           // rated calls
//   if (auto ok = st->insert_cdrs(batch); !ok) { /* nothing of the batch was written */ }
//   auto rep = st->report(billing::ReportKind::revenue, from, until); // GROUP BY in SQLite
//
// Reloading the book while trunkctl edits the file (the switch, once a second):
//
//   std::int64_t loaded = -1;                         // version of the book in memory
//   auto v = st->change_version();                    // read it BEFORE load_book()
//   if (v && *v != loaded) {
//       if (auto b = st->load_book()) { book = std::move(*b); loaded = *v; }
//   }
//
// change_version() changes (increases, by one or more) in the same transaction as every
// change an operator makes: accounts added, deleted or updated in any column but balance,
// every ledger row (top-ups and adjustments move the balance through the ledger), rates,
// rate group and private-rate bindings (accounts.rate_group / private_group, phone_private),
// the currency settings, volume tiers and packages (schema 10: the switch prices by them).
// It does NOT change when insert_cdrs() writes CDRs, the hourly rollup, the balances and the
// tier and package counters, so the switch's own CDR writer causes a reload only when a
// call earns bonus minutes (a package granted, which the switch must see). SQLite
// triggers keep it (schema version 3), so writes by any other tool through SQL count too.
// Reading the version before the book misses nothing: a change committed while load_book()
// runs leaves the file at a newer version than `loaded`, so the next poll reloads again.
// Compare for inequality only; how far it moves per change is unspecified. A balance-only
// UPDATE made without a ledger row (by hand, through SQL) is not counted.
//
// Transaction rule: insert_cdrs() writes the CDRs, the customers' debits and the vendors'
// credits (and the monthly volumes of tier-priced CDRs, the seconds of packages used) of one batch in ONE transaction (BEGIN IMMEDIATE ... COMMIT): either all of it is
// in the file or none of it, even if the process is killed. So at every commit point
//   balance(account) = sum(ledger.amount) - sum(charge of its CDRs as customer)
//                                          + sum(cost of its CDRs as vendor)
// which audit() verifies. Balances are updated once per account per batch (the sums of the
// batch), with overflow checked in C++ (SQLite would silently turn an overflowing integer
// into a float). An unknown account in a batch rejects the whole batch.
//
// Durability: StoreOptions::durable (default true) sets synchronous=FULL, so a committed
// batch survives power loss; false uses NORMAL (survives a crash of the process, may lose
// the last commits on power loss). A busy database is retried for busy_timeout_ms, then
// ErrorCode::db_locked; a full disk is ErrorCode::disk_full; in both cases the open
// transaction is rolled back and nothing is half-written.
//
// Reports: whole hours are read from an hourly rollup table (cdr_hourly, written in the same
// transaction as the CDRs), partial hours at the edges of the period from the CDRs; so a
// month's settlement reads about one row per hour and key instead of every CDR.
//
// Schema: PRAGMA user_version holds the schema version; open() applies the missing
// migrations in order, each in its own transaction; a file from a newer version is refused
// with ErrorCode::schema_too_new. Amounts are INTEGER micro-units, times INTEGER ms (UTC).
//
// A Store is one connection: use it from one thread at a time. Move-only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "billing/account.hpp"
#include "billing/cdr.hpp"
#include "billing/cdr_filter.hpp"
#include "billing/commitments.hpp"
#include "billing/deck.hpp"
#include "billing/money.hpp"
#include "billing/packages.hpp"
#include "billing/rate.hpp"
#include "billing/report.hpp"
#include "billing/result.hpp"
#include "billing/settings.hpp"
#include "billing/tiers.hpp"
#include "billing/time.hpp"
#include "billing/volume_pricing.hpp"

namespace billing::sqlite {

// How insert_cdrs treats the counters a CDR was priced at (tier volume, package seconds).
enum class CountCheck {
    exact,   // still the stored figure, else the batch is refused ("rate it again")
    rebase,  // added to the stored figure (see insert_cdrs)
};

struct StoreOptions {
    int busy_timeout_ms = 5000;
    bool durable = true;     // synchronous=FULL (true) or NORMAL (false)
    bool read_only = false;
    // Size quota in database pages (PRAGMA max_page_count); 0 = no quota. Reaching it
    // behaves like a full disk (ErrorCode::disk_full).
    std::int64_t max_page_count = 0;
};

struct LedgerEntry {
    std::int64_t id = 0;
    std::string account;
    Timestamp at_ms = 0;
    std::string kind;   // "opening", "topup", "adjust", "package" (a package sold)
    Money amount;
    std::string memo;
};

struct AuditIssue {
    std::string account;
    Money balance;    // stored
    Money expected;   // from ledger and CDRs
};

// The TZif bytes of an IANA zone from the system zoneinfo (`dir`/NAME; Debian's tzdata).
// A name must be letters, digits, '_', '-', '+' and '/' between parts (no "..", no leading
// '/'); a missing file is invalid_argument "unknown time zone 'X' (no DIR/X)".
ZoneSource zone_source(std::string dir = "/usr/share/zoneinfo");

class Store {
public:
    static Result<Store> open(const std::string& path, StoreOptions opts = {});
    Store(Store&&) noexcept;
    Store& operator=(Store&&) noexcept;
    ~Store();

    static constexpr int kSchemaVersion = 10;
    int schema_version() const;

    // --- accounts and money -------------------------------------------------------------
    Result<void> add_account(const Account& a, Timestamp at_ms = 0);
    Result<Account> account(std::string_view id);
    Result<std::vector<Account>> accounts();
    // Writes every field of `a` but its balance (which moves only through the ledger and
    // CDRs) and its private rates: name, kind, credit limit, rate group, agent, memo and the
    // agent commission (check_commission). unknown_account if there is no such id.
    Result<void> update_account(const Account& a);
    // Adds `amount` (may be negative: an adjustment) to the balance with a ledger row, in
    // one transaction; returns the new balance.
    Result<Money> topup(std::string_view id, Money amount, Timestamp at_ms, std::string_view memo = {});
    Result<std::vector<LedgerEntry>> ledger(std::string_view id);
    Result<void> set_rate_group(std::string_view account_id, std::string_view group);
    Result<void> set_account_private(std::string_view account_id, std::string_view group);
    Result<void> set_phone_private(std::string_view phone, std::string_view group);

    // --- rates ---------------------------------------------------------------------------
    // Validates every rate, then writes all of them in one transaction (replace = delete
    // the group's existing rates first; otherwise same prefix/period/effective_from is
    // updated). Returns the number of rates written.
    Result<std::size_t> import_rates(std::string_view group, std::span<const Rate> rates, bool replace);
    Result<std::vector<Rate>> rates(std::string_view group);
    // Every group created (by import_rates() or create_rate_group()), empty ones included.
    Result<std::vector<std::string>> rate_groups();
    // Rate groups exist once created; the account and private-rate setters above do not
    // check (a book tolerates a missing group), so callers that take an operator's group
    // name check it with rate_group_exists() first (trunkctl does).
    Result<void> create_rate_group(std::string_view group);  // duplicate if it exists
    Result<bool> rate_group_exists(std::string_view group);
    struct RateGroupInfo {
        std::string name;
        std::int64_t rates = 0;
        std::int64_t accounts = 0;  // accounts with it as rate group or private rates
    };
    Result<std::vector<RateGroupInfo>> rate_group_infos();

    // --- deck import templates (VOS3000 feerate_template.conf) ---------------------------
    // Stored: the mapping, delimiter, decimal separator, date format, first line (skip_lines
    // + 1), header, encoding, default first period and increment, allow_zero_price, memo.
    Result<void> put_deck_template(const DeckTemplate& t, bool replace);  // duplicate unless replace
    Result<DeckTemplate> deck_template(std::string_view name);             // invalid_argument if none
    Result<std::vector<DeckTemplate>> deck_templates();
    Result<void> remove_deck_template(std::string_view name);
    // Accounts, rate groups with their rates, private bindings; rate groups compacted.
    Result<Book> load_book();
    // Changes in the same transaction as every operator change to what load_book() reads
    // and to the currency settings, never on insert_cdrs(); see the reload example at the
    // top. Cheap (one row read): poll it, and call load_book() only when it changed.
    Result<std::int64_t> change_version();

    // --- tiered pricing by monthly volume (billing/tiers.hpp) ----------------------------
    // Adds or replaces (same account, prefix, from_minutes) one tier.
    Result<void> put_volume_tier(const VolumeTier& t);
    Result<void> remove_volume_tier(std::string_view account, std::string_view prefix, std::int64_t from_minutes);
    Result<VolumeTiers> volume_tiers();
    // Billed seconds counted for the account to the tier prefix in the month ("YYYY-MM").
    Result<std::int64_t> volume_used(std::string_view account, std::string_view prefix, std::string_view month);

    // --- packages (billing/packages.hpp, VOS3000 packages) --------------------------------
    // Sells a package: stores it and debits its fee from the account's balance with a
    // "package" ledger row (memo "package NAME"), in ONE transaction, so the audit rule
    // holds. The account must be a customer whose balance + credit limit covers the fee
    // (insufficient_funds, field fee); the same (account, name) again is a duplicate (selling
    // twice would charge twice). Returns the new balance. The ledger row bumps change_version()
    // like a top-up; so does any change to packages (load_volume_pricing reads them).
    Result<Money> sell_package(const Package& p, Timestamp at_ms);
    // Removes the package and its usage, without a refund (a refund is a top-up).
    Result<void> remove_package(std::string_view account, std::string_view name);
    Result<Packages> packages();
    // Seconds of the package covered so far (0 for an unused or unknown package).
    Result<std::int64_t> package_used(std::string_view account, std::string_view name);
    // Volume tiers, packages and every stored counter (volumes, package seconds used) in one
    // read transaction: what the switch prices its finished calls with (billing/volume_pricing.hpp).
    Result<VolumePricing> load_volume_pricing();
    // The packages valid at some moment of [from, until) with their usage and the currency
    // precision, from packages() and package_used() in one read transaction (a consistent
    // snapshot while cdr import counts usage); the report `packages` (billing/report.hpp).
    Result<PackageReport> package_report(Timestamp from, Timestamp until);

    // --- commitment discounts (billing/commitments.hpp) -----------------------------------
    // Adds or replaces (same account, prefix) one commitment. validate() errors; the account
    // must exist (unknown_account) and be a customer (field account).
    Result<void> put_commitment(const Commitment& c);
    // invalid_argument, field commitment, if there is no such commitment.
    Result<void> remove_commitment(std::string_view account, std::string_view prefix);
    Result<std::vector<Commitment>> commitments();  // sorted by account, prefix
    // Each commitment's billed seconds and charge in the local calendar month "YYYY-MM" of
    // calendar.timezone (month_range(); calls by answer time, each toward the account's
    // longest matching prefix) and what it earned (evaluate_commitment), from the cdrs table
    // in ONE read transaction with the commitments and the settings.
    Result<CommitmentReport> commitment_report(std::string_view month);

    // --- CDRs ----------------------------------------------------------------------------
    // One transaction per batch; assigns Cdr::id. A CDR priced by volume (tier_prefix set)
    // must find the volume it was priced at (volume_before_s) still stored, else the whole
    // batch is refused (invalid_argument, field "volume": rate it again); its billed
    // seconds are added to the volume in the same transaction. Likewise a CDR that used a
    // package (package_name set) must find the package and its usage at package_before_s
    // (field "package"), and its package_s are added.
    // check = rebase (the switch's CDR writer, after such a refusal): the CDRs keep the
    // prices they were booked at (their money already moved in the switch's book) and their
    // counts are added to what is stored instead: a volume whatever it is, a package's seconds
    // up to what it includes (none for a package removed meanwhile).
    Result<void> insert_cdrs(std::span<Cdr> batch, CountCheck check = CountCheck::exact);
    // CDRs whose end time is in [from, until), in id order.
    Result<void> for_each_cdr(Timestamp from, Timestamp until,
                              const std::function<bool(const Cdr&)>& f);
    Result<std::vector<Cdr>> cdrs(Timestamp from, Timestamp until);
    Result<std::int64_t> cdr_count();
    // The CDRs the filter selects, latest end time first, at most filter.limit. Walks the
    // end-time, customer or vendor index; a number or Call-ID is matched within the range.
    Result<std::vector<Cdr>> find_cdrs(const CdrFilter& filter);
    Result<Report> report(ReportKind kind, Timestamp from, Timestamp until);
    // report() and, for the profit kinds, each row's rate deviation range (VOS3000): this
    // reads every CDR of the period, as profit by prefix does anyway.
    Result<Report> report_with_deviation(ReportKind kind, Timestamp from, Timestamp until);
    // VOS3000 Agent Income over the period: per agent and sub-account, from the per-customer
    // profit report, the accounts and the currency (billing::agent_income); `only_agent`
    // empty: every agent.
    Result<AgentIncomeReport> agent_income_report(Timestamp from, Timestamp until,
                                                  std::string_view only_agent = {});
    // Accounts whose stored balance differs from ledger - charges + costs (empty = ok).
    Result<std::vector<AuditIssue>> audit();

    // --- settings (currency, hold-time precision, free time; billing/settings.hpp) --------
    Result<Currency> currency();
    Result<void> set_currency(const Currency& c);
    // The rating settings stored in `settings` over RatingConfig's defaults. A stored value
    // that is not valid is an error naming the key (apply_setting's message); keys this
    // version does not know are ignored.
    Result<RatingConfig> rating_config();
    // Validates (apply_setting) and stores one setting; bumps change_version(). An IANA
    // calendar.timezone is read through zone_source().
    Result<void> set_setting(std::string_view key, std::string_view value);
    // Several settings at once (the API's PATCH): all checked first, then written in ONE
    // transaction, so a bad value leaves every setting as it was.
    Result<void> set_settings(std::span<const std::pair<std::string, std::string>> settings);

    struct Impl;

private:
    ZoneSource zones_ = zone_source();
    explicit Store(std::unique_ptr<Impl> impl);
    Result<void> update_rollup(std::span<const Cdr> batch);
    Result<void> update_volumes(std::span<const Cdr> batch, CountCheck check);
    Result<void> grant_bonus(const Cdr& c, std::int64_t before, std::int64_t after);
    Result<void> update_packages(std::span<const Cdr> batch, CountCheck check);
    Result<Money> move_balance(std::string_view id, Money amount, Timestamp at_ms, std::string_view kind,
                               std::string_view memo);
    std::unique_ptr<Impl> impl_;
};

}  // namespace billing::sqlite

// sw::api::Data — what the management API reads and writes in the operators' database,
// behind an interface so sw::api::Api stays pure: the wiring implements it over the SQLite
// stores (wiring::ApiData), the unit tests over memory.
//
//   wiring::ApiData data(cfg.database);        // opens billing_sqlite on the same file
//   api.set_data(&data);                       // without it, these endpoints answer 503
//   // POST /api/accounts/1001/topup {"amount":"10.50"} -> data.topup("1001", 10.5, ...)
//   // Response::tables_changed: the caller reloads the switch's book (and routing) at once
//
// Every call runs on the loop (the API's handlers do); each is one short SQLite transaction
// or a bounded read. Errors are billing::Error values (code unknown_account for an unknown
// id, duplicate for an existing one, invalid_argument for a value the store refuses).
// Lifetimes: the Data outlives the Api that holds it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "billing/account.hpp"
#include "billing/cdr.hpp"
#include "billing/cdr_filter.hpp"
#include "billing/commitments.hpp"
#include "billing/deck.hpp"
#include "billing/money.hpp"
#include "billing/report.hpp"
#include "billing/settings.hpp"
#include "billing/result.hpp"
#include "billing/tiers.hpp"
#include "route/domain/cache.hpp"
#include "route/lcr/customers.hpp"
#include "route/lcr/router.hpp"
#include "route/lcr/vendor_gateway.hpp"
#include "route/reg/trunk_reg.hpp"
#include "sip/auth/hasher.hpp"

namespace sw::api {

// One account and its version: the id of its latest ledger row (every top-up or adjustment
// adds one, so the version moves with every operator change of its money; calls' debits do
// not move it). Shown as the ETag "v<version>".
struct AccountRecord {
    billing::Account account;
    std::int64_t version = 0;
};

// A SIP user of the registrar as stored: HA1 per base algorithm, never the password. The API
// shows the name, realm, enabled, times and the algorithms, never an HA1.
struct UserRecord {
    std::string name;
    std::string realm;
    std::map<sip::auth::Algorithm, std::string> ha1;
    bool enabled = true;
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
    // sip_user's change counter when the row was last written (moves with every write of the
    // user, never repeats): the ETag "v<version>".
    std::int64_t version = 0;
};

// One page of a CDR search and the currency precision its amounts are printed at.
struct CdrPage {
    std::vector<billing::Cdr> cdrs;  // latest end time first
    int decimals = 2;
};

// A rate group with its number of rates and of the accounts using it (as rate group or for
// private rates), and a group's rates with the currency precision amounts are shown at.
struct RateGroupRecord {
    std::string name;
    std::int64_t rates = 0;
    std::int64_t accounts = 0;
};
struct RateList {
    std::vector<billing::Rate> rates;  // the store's order; the API sorts and pages them
    int decimals = 4;
};

// A customer or vendor gateway or a gateway group as stored, and its version: the lcr table's
// version when the row was last written (it moves with every write of the row and never
// repeats, even for a row removed and added again). Shown as the ETag "v<version>".
struct CustomerRecord {
    route::lcr::CustomerSpec spec;
    std::int64_t version = 0;
};
struct VendorRecord {
    route::lcr::VendorGateway gateway;
    std::int64_t version = 0;
};
struct GroupRecord {
    route::lcr::GroupSpec spec;
    std::int64_t version = 0;
    std::vector<std::string> gateways;  // the vendor gateways in the group, by name
};

// A gateway write's precondition, checked inside the write's transaction, so a change made in
// between (trunkctl, another client) is never overwritten.
struct Precondition {
    enum class Row : std::uint8_t { any, absent, present };
    Row row = Row::any;                  // absent: a create; present: a replace or change
    std::vector<std::int64_t> versions;  // If-Match: the row's version is one of these
};
// What a conditional write did; nothing is written unless done.
enum class Written : std::uint8_t { done, exists, missing, stale };

// A domain entry and a carrier registration entry as stored, and their version: their
// table's change counter when the row was last written, stamped by the store's triggers in
// the write's transaction whoever writes (trunkctl, the API, the sqlite3 shell), so it moves
// with every write of the row and never repeats. Shown as the ETag "v<version>".
struct DomainRecord {
    route::domain::EntrySpec spec;
    std::int64_t version = 0;
};
struct CarrierRecord {
    route::reg::TrunkReg reg;
    std::int64_t version = 0;
};

// One tier prefix of an account in the current month (GET /api/accounts/{id} "tiers"): the
// local calendar month of the store's calendar.timezone (billing::volume_month), the billed
// seconds counted to the prefix in it as committed (Store::volume_used) and the prefix's tiers.
struct TierUsage {
    std::string prefix;
    std::string month;                       // "YYYY-MM"
    std::int64_t used_s = 0;
    std::vector<billing::VolumeTier> tiers;  // sorted by from_minutes
};

// What removing a SIP user did, and how many of its bindings went from the file.
struct UserRemoved {
    Written written = Written::done;
    std::size_t bindings = 0;
};

class Data {
  public:
    virtual ~Data() = default;

    // Accounts with id > `after` (byte order), at most `limit`, in id order.
    virtual billing::Result<std::vector<billing::Account>> accounts(std::string_view after,
                                                                    std::size_t limit) = 0;
    virtual billing::Result<AccountRecord> account(std::string_view id) = 0;
    virtual billing::Result<bool> rate_group_exists(std::string_view group) = 0;
    // The account with its opening ledger row, one transaction.
    virtual billing::Result<void> add_account(const billing::Account& a, std::int64_t wall_ms) = 0;
    // A ledger row and the new balance, one transaction; the new balance.
    virtual billing::Result<billing::Money> topup(std::string_view id, billing::Money amount,
                                                  std::int64_t wall_ms, std::string_view memo) = 0;

    // SIP users, by name. Errors: duplicate (add of an existing name), unknown_account (no
    // such user), io_error/db_error (the store's message).
    virtual billing::Result<std::vector<UserRecord>> users() = 0;
    virtual billing::Result<std::optional<UserRecord>> user(std::string_view name) = 0;
    virtual billing::Result<void> add_user(const UserRecord& u, std::int64_t wall_ms) = 0;
    // The user (if `p` holds: missing, stale) and its bindings in the file (every AOR whose
    // user part is `name`), as `trunkctl user remove` does. The running registrar's bindings
    // are the caller's (Registrations::unbind_user).
    virtual billing::Result<UserRemoved> remove_user(std::string_view name,
                                                     const Precondition& p) = 0;

    // The CDRs a search selects, latest end time first, at most filter.limit (one indexed
    // query; billing::CdrFilter).
    virtual billing::Result<CdrPage> cdrs(const billing::CdrFilter& filter) = 0;

    // Customer and vendor gateways and gateway groups (route::lcr::sqlite::Store), by name.
    // A write moves its table's version, which the running switch's reloader watches. They
    // are not pure virtual so a Data that keeps no gateways (a test's fake) need not say so.
    using CustomerSpec = route::lcr::CustomerSpec;
    using VendorGateway = route::lcr::VendorGateway;
    using GroupSpec = route::lcr::GroupSpec;
    virtual billing::Result<std::vector<CustomerRecord>> customers() { return no_gateways(); }
    virtual billing::Result<std::optional<CustomerRecord>> customer(std::string_view) {
        return no_gateways();
    }
    virtual billing::Result<Written> put_customer(const CustomerSpec&, const Precondition&) {
        return no_gateways();
    }
    virtual billing::Result<Written> remove_customer(std::string_view, const Precondition&) {
        return no_gateways();
    }
    virtual billing::Result<std::vector<VendorRecord>> vendors() { return no_gateways(); }
    virtual billing::Result<std::optional<VendorRecord>> vendor(std::string_view) {
        return no_gateways();
    }
    virtual billing::Result<Written> put_vendor(const VendorGateway&, const Precondition&) {
        return no_gateways();
    }
    virtual billing::Result<Written> remove_vendor(std::string_view, const Precondition&) {
        return no_gateways();
    }
    // A group's record lists its member vendor gateways (a group in use is not removed).
    virtual billing::Result<std::vector<GroupRecord>> groups() { return no_gateways(); }
    virtual billing::Result<std::optional<GroupRecord>> group(std::string_view) {
        return no_gateways();
    }
    virtual billing::Result<Written> put_group(const GroupSpec&, const Precondition&) {
        return no_gateways();
    }
    virtual billing::Result<Written> remove_group(std::string_view, const Precondition&) {
        return no_gateways();
    }

    // Domain entries (route::domain::sqlite::Store, `trunkctl domain`), by normalized name,
    // and carrier registration entries (route::reg::sqlite::Store trunk_reg, `trunkctl
    // trunk-reg`), by name, with their versions. Writes are conditional on the Precondition,
    // checked inside the write's transaction (as for gateways). A trunk_reg write moves its
    // change counter, which the running switch's reloader watches.
    using EntrySpec = route::domain::EntrySpec;
    using TrunkReg = route::reg::TrunkReg;
    virtual billing::Result<std::vector<DomainRecord>> domains() {
        return no_table("domain entries");
    }
    virtual billing::Result<std::optional<DomainRecord>> domain(std::string_view) {
        return no_table("domain entries");
    }
    virtual billing::Result<Written> put_domain(const EntrySpec&, const Precondition&) {
        return no_table("domain entries");
    }
    virtual billing::Result<Written> remove_domain(std::string_view, const Precondition&) {
        return no_table("domain entries");
    }
    virtual billing::Result<std::vector<CarrierRecord>> carriers() {
        return no_table("carrier registrations");
    }
    virtual billing::Result<std::optional<CarrierRecord>> carrier(std::string_view) {
        return no_table("carrier registrations");
    }
    virtual billing::Result<Written> put_carrier(const TrunkReg&, const Precondition&) {
        return no_table("carrier registrations");
    }
    virtual billing::Result<Written> remove_carrier(std::string_view, const Precondition&) {
        return no_table("carrier registrations");
    }

    // Reports (billing::sqlite::Store::report, with `deviation` report_with_deviation;
    // agent_income_report; package_report: the packages valid in the period).
    virtual billing::Result<billing::Report> report(billing::ReportKind, billing::Timestamp, billing::Timestamp,
                                                    bool /*deviation*/) {
        return no_table("reports");
    }
    virtual billing::Result<billing::AgentIncomeReport> agent_income(billing::Timestamp, billing::Timestamp,
                                                                    std::string_view) {
        return no_table("reports");
    }
    virtual billing::Result<billing::PackageReport> package_report(billing::Timestamp, billing::Timestamp) {
        return no_table("reports");
    }
    // The commitments' figures of the local month "YYYY-MM" (Store::commitment_report;
    // invalid_argument, field month, for other text).
    virtual billing::Result<billing::CommitmentReport> commitment_report(std::string_view /*month*/) {
        return no_table("reports");
    }
    // One account's packages with their usage, by name (GET /api/accounts/{id}). A Data that
    // keeps no packages (a test's fake) has none, so this is not pure virtual.
    virtual billing::Result<std::vector<billing::PackageBalance>> packages(std::string_view /*account*/) {
        return std::vector<billing::PackageBalance>{};
    }
    // One account's volume tiers by prefix with the month's usage at `now` (ms UTC); likewise
    // none for a Data that keeps no tiers.
    virtual billing::Result<std::vector<TierUsage>> tier_usage(std::string_view /*account*/,
                                                               billing::Timestamp /*now*/) {
        return std::vector<TierUsage>{};
    }

    // Rate groups and their rates (billing::sqlite::Store, `trunkctl rates`). import_rates
    // writes every rate in one transaction (replace: the group's rates are deleted first) and
    // creates the group; the number written. deck_template: invalid_argument if none.
    virtual billing::Result<std::vector<RateGroupRecord>> rate_groups() { return no_table("rates"); }
    virtual billing::Result<RateList> rates(std::string_view) { return no_table("rates"); }
    virtual billing::Result<billing::DeckTemplate> deck_template(std::string_view) {
        return no_table("deck templates");
    }
    virtual billing::Result<std::size_t> import_rates(std::string_view, const std::vector<billing::Rate>&,
                                                      bool) {
        return no_table("rates");
    }

    // The billing settings (billing/settings.hpp: `trunkctl billing show|set`): every key with
    // the value in force; set_billing_settings checks every value, then writes them all in one
    // transaction (billing::sqlite::Store::set_settings), or none.
    virtual billing::Result<std::vector<billing::Setting>> billing_settings() { return no_table("settings"); }
    virtual billing::Result<void> set_billing_settings(const std::vector<std::pair<std::string, std::string>>&) {
        return no_table("settings");
    }

  protected:
    static billing::Failure no_table(std::string_view what) {
        return billing::fail(billing::ErrorCode::io_error,
                             std::string(what) + " are not kept by this store");
    }
    static billing::Failure no_gateways() {
        return billing::fail(billing::ErrorCode::io_error, "gateways are not kept by this store");
    }
};

}  // namespace sw::api

// route::lcr::sqlite::Store — customer (mapping) gateways, vendor (routing) gateways and
// gateway groups in the shared SQLite file (adapter; the only route_lcr code that includes
// <sqlite3.h>).
//
//   std::string err;
//   auto st = route::lcr::sqlite::Store::open("var/trunkline.db", &err);
//   if (!st) die(err);
//   route::lcr::sqlite::VendorGateway v;
//   v.spec.name = "carrierA"; v.spec.prefixes = {"44"}; v.vendor_account = "9001";
//   v.host = "192.0.2.20"; v.port = 5060;
//   if (!st->put_vendor(v, &err)) die(err);            // insert or replace by name
//   auto vendors = st->vendors(&err);                   // all, by name
//   auto versions = st->table_versions(&err);           // {"vendor": 7, "customer": 3, ...}
//
// Every put/remove bumps its table's version in the same transaction and stamps the row with
// the new value (its `version`, the management API's ETag), so a running switch
// that polls table_versions() reloads exactly the tables that changed and cannot miss a
// commit (the version is read and the rows are read in one read transaction: load()).
// Schema: a row in schema_versions(component 'lcr', version) (DESIGN.md §2).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "route/lcr/customers.hpp"
#include "route/lcr/router.hpp"
#include "route/lcr/vendor_gateway.hpp"

namespace route::lcr::sqlite {

// The struct lives in the pure route_lcr (route/lcr/vendor_gateway.hpp) so pure code (the
// shared gateway validation) can fill it; the old name stays for the store's users.
using VendorGateway = route::lcr::VendorGateway;

// A call of the running switch, as published for `trunkctl call list`.
struct ActiveCall {
    std::uint64_t id = 0;
    std::string customer, vendor_gateway, caller, callee, state;
    std::int64_t setup_ms = 0;
    std::optional<std::int64_t> answer_ms;
    std::string call_id_in, call_id_out;
};
// A vendor gateway's live state in the running switch (`trunkctl gateway status`).
struct GatewayLive {
    std::string name;
    std::uint32_t current_calls = 0;
    std::uint64_t total_calls = 0, answered = 0;
    bool down = false;
    std::string down_reason;  // "3 probes unanswered", ...
    std::optional<std::int64_t> down_since_ms;
};
struct ActiveCalls {
    std::int64_t published_ms = 0;  // 0: never published (no switch has run)
    std::vector<ActiveCall> calls;
    std::vector<GatewayLive> gateways;
};

// One consistent read of every table (one read transaction).
struct Snapshot {
    std::vector<CustomerSpec> customers;
    std::vector<VendorGateway> vendors;
    std::vector<GroupSpec> groups;
    std::map<std::string, std::int64_t> versions;  // "customer", "vendor", "group"
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

class Store {
public:
    static std::unique_ptr<Store> open(const std::string& path, std::string* error);
    ~Store();

    std::vector<CustomerSpec> customers(std::string* error);
    std::vector<VendorGateway> vendors(std::string* error);
    std::vector<GroupSpec> groups(std::string* error);
    std::map<std::string, std::int64_t> table_versions(std::string* error);
    std::optional<Snapshot> load(std::string* error);
    // One row and its version: the table's version (table_versions()) when the row was last
    // written, so it moves with every write of the row and never repeats, even for a row
    // removed and added again. nullopt with *error empty: no such row.
    std::optional<CustomerSpec> customer(const std::string& name, std::int64_t* version,
                                         std::string* error);
    std::optional<VendorGateway> vendor(const std::string& name, std::int64_t* version,
                                        std::string* error);
    std::optional<GroupSpec> group(const std::string& name, std::int64_t* version,
                                   std::string* error);
    // Every row's version by name, in one query: what customer() / vendor() give one row
    // at a time (the API lists 1,000 gateways with their versions).
    std::map<std::string, std::int64_t> customer_versions(std::string* error);
    std::map<std::string, std::int64_t> vendor_versions(std::string* error);

    // The switch replaces the published call list and gateway states (its writer thread,
    // once a second); calls == nullptr keeps the calls published last (nothing changed).
    bool publish_calls(const std::vector<ActiveCall>* calls,
                       const std::vector<GatewayLive>& gateways, std::int64_t now_ms,
                       std::string* error);
    std::optional<ActiveCalls> active_calls(std::string* error);

    bool put_customer(const CustomerSpec& c, std::string* error);
    bool put_vendor(const VendorGateway& v, std::string* error);
    bool put_group(const GroupSpec& g, std::string* error);
    // false with *error "no customer 'x'" when absent
    bool remove_customer(const std::string& name, std::string* error);
    bool remove_vendor(const std::string& name, std::string* error);
    bool remove_group(const std::string& name, std::string* error);
    // The same writes under a precondition (see Precondition).
    WriteOutcome put_customer(const CustomerSpec& c, const Precondition& p, std::string* error);
    WriteOutcome put_vendor(const VendorGateway& v, const Precondition& p, std::string* error);
    WriteOutcome put_group(const GroupSpec& g, const Precondition& p, std::string* error);
    WriteOutcome remove_customer(const std::string& name, const Precondition& p, std::string* error);
    WriteOutcome remove_vendor(const std::string& name, const Precondition& p, std::string* error);
    WriteOutcome remove_group(const std::string& name, const Precondition& p, std::string* error);

    struct Impl;

private:
    explicit Store(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace route::lcr::sqlite

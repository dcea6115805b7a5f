// wiring::ApiData — sw::api::Data over the operators' SQLite file: billing accounts and CDRs
// through billing::sqlite::Store, SIP users and carrier registration entries through
// route::reg::sqlite::Store, domain entries through route::domain::sqlite::Store and customer and
// vendor gateways and gateway groups through route::lcr::sqlite::Store, each on its own
// connection, used on the loop by the management API.
//
//   wiring::ApiData data(cfg.database);
//   if (std::string e = data.open(); !e.empty()) log_line(e);   // the API answers 503 then
//   api.set_data(&data);
//
// Each call is one short transaction (a write) or a bounded read; the file is in WAL mode, so
// a read never waits for the CDR writer. Busy: the store's busy timeout, then db_locked (503).
// Lifetimes: none beyond the object; not thread-safe (one connection, the loop's).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "billing/sqlite/store.hpp"
#include "route/domain/sqlite/store.hpp"
#include "route/lcr/sqlite/store.hpp"
#include "route/reg/sqlite/store.hpp"
#include "sw/api_data.hpp"

namespace wiring {

class ApiData final : public sw::api::Data {
  public:
    explicit ApiData(std::string database) : database_(std::move(database)) {}
    std::string open();  // "" or why not

    billing::Result<std::vector<billing::Account>> accounts(std::string_view after,
                                                            std::size_t limit) override;
    billing::Result<sw::api::AccountRecord> account(std::string_view id) override;
    billing::Result<bool> rate_group_exists(std::string_view group) override;
    billing::Result<void> add_account(const billing::Account& a, std::int64_t wall_ms) override;
    billing::Result<billing::Money> topup(std::string_view id, billing::Money amount,
                                          std::int64_t wall_ms, std::string_view memo) override;
    billing::Result<std::vector<sw::api::UserRecord>> users() override;
    billing::Result<std::optional<sw::api::UserRecord>> user(std::string_view name) override;
    billing::Result<void> add_user(const sw::api::UserRecord& u, std::int64_t wall_ms) override;
    billing::Result<sw::api::UserRemoved> remove_user(std::string_view name,
                                                      const sw::api::Precondition& p) override;
    billing::Result<sw::api::CdrPage> cdrs(const billing::CdrFilter& filter) override;
    billing::Result<billing::Report> report(billing::ReportKind kind, billing::Timestamp from,
                                            billing::Timestamp until, bool deviation) override;
    billing::Result<billing::AgentIncomeReport> agent_income(billing::Timestamp from, billing::Timestamp until,
                                                            std::string_view agent) override;
    billing::Result<billing::PackageReport> package_report(billing::Timestamp from, billing::Timestamp until) override;
    billing::Result<std::vector<billing::PackageBalance>> packages(std::string_view account) override;
    billing::Result<billing::CommitmentReport> commitment_report(std::string_view month) override;
    billing::Result<std::vector<sw::api::TierUsage>> tier_usage(std::string_view account,
                                                                billing::Timestamp now) override;
    billing::Result<std::vector<billing::Setting>> billing_settings() override;
    billing::Result<void> set_billing_settings(const std::vector<std::pair<std::string, std::string>>& kv) override;

    billing::Result<std::vector<sw::api::CustomerRecord>> customers() override;
    billing::Result<std::optional<sw::api::CustomerRecord>> customer(std::string_view name) override;
    billing::Result<sw::api::Written> put_customer(const route::lcr::CustomerSpec& c,
                                                   const sw::api::Precondition& p) override;
    billing::Result<sw::api::Written> remove_customer(std::string_view name,
                                                      const sw::api::Precondition& p) override;
    billing::Result<std::vector<sw::api::VendorRecord>> vendors() override;
    billing::Result<std::optional<sw::api::VendorRecord>> vendor(std::string_view name) override;
    billing::Result<sw::api::Written> put_vendor(const route::lcr::VendorGateway& v,
                                                 const sw::api::Precondition& p) override;
    billing::Result<sw::api::Written> remove_vendor(std::string_view name,
                                                    const sw::api::Precondition& p) override;
    billing::Result<std::vector<sw::api::GroupRecord>> groups() override;
    billing::Result<std::optional<sw::api::GroupRecord>> group(std::string_view name) override;
    billing::Result<sw::api::Written> put_group(const route::lcr::GroupSpec& g,
                                                const sw::api::Precondition& p) override;
    billing::Result<sw::api::Written> remove_group(std::string_view name,
                                                   const sw::api::Precondition& p) override;

    billing::Result<std::vector<sw::api::DomainRecord>> domains() override;
    billing::Result<std::optional<sw::api::DomainRecord>> domain(std::string_view name) override;
    billing::Result<sw::api::Written> put_domain(const route::domain::EntrySpec& e,
                                                 const sw::api::Precondition& p) override;
    billing::Result<sw::api::Written> remove_domain(std::string_view name,
                                                    const sw::api::Precondition& p) override;
    billing::Result<std::vector<sw::api::CarrierRecord>> carriers() override;
    billing::Result<std::optional<sw::api::CarrierRecord>> carrier(std::string_view name) override;
    billing::Result<sw::api::Written> put_carrier(const route::reg::TrunkReg& r,
                                                  const sw::api::Precondition& p) override;
    billing::Result<sw::api::Written> remove_carrier(std::string_view name,
                                                     const sw::api::Precondition& p) override;

    billing::Result<std::vector<sw::api::RateGroupRecord>> rate_groups() override;
    billing::Result<sw::api::RateList> rates(std::string_view group) override;
    billing::Result<billing::DeckTemplate> deck_template(std::string_view name) override;
    billing::Result<std::size_t> import_rates(std::string_view group, const std::vector<billing::Rate>& rates,
                                              bool replace) override;

  private:
    std::string database_;
    std::optional<billing::sqlite::Store> billing_;
    std::unique_ptr<route::reg::sqlite::Store> reg_;
    std::unique_ptr<route::lcr::sqlite::Store> lcr_;
    std::unique_ptr<route::domain::sqlite::Store> domain_;
};

}  // namespace wiring

#include "wiring/api_data.hpp"

namespace wiring {

namespace {

billing::Failure closed() {
    return billing::fail(billing::ErrorCode::io_error, "the database is not open");
}

billing::Failure reg_error(const std::string& e) {
    return billing::fail(billing::ErrorCode::db_error, e);
}

sw::api::UserRecord record(route::reg::sqlite::SipUser u, std::int64_t version) {
    return {std::move(u.username), std::move(u.realm), std::move(u.ha1), u.enabled, u.created_ms,
            u.updated_ms, version};
}

// The user part of a canonical AOR ("sip:alice@trunkline" -> "alice"; none: ""), as trunkctl.
std::string_view aor_user(std::string_view aor) {
    const auto colon = aor.find(':');
    const auto at = aor.rfind('@');
    if (colon == std::string_view::npos || at == std::string_view::npos || at < colon) return {};
    return aor.substr(colon + 1, at - colon - 1);
}

namespace lcr_sql = route::lcr::sqlite;

// The API's precondition as a store's (the lcr, domain and reg stores each have their own,
// of one shape: `P` is the store's Precondition).
template <class P = lcr_sql::Precondition>
P precondition(const sw::api::Precondition& p) {
    using R = sw::api::Precondition::Row;
    const auto row = p.row == R::absent    ? P::Row::absent
                     : p.row == R::present ? P::Row::present
                                           : P::Row::any;
    return {row, p.versions};
}

// A store's WriteOutcome (`O`: lcr, domain or reg, of one shape) as the API's.
template <class O>
billing::Result<sw::api::Written> written(O o, const std::string& err) {
    switch (o) {
        case O::done: return sw::api::Written::done;
        case O::exists: return sw::api::Written::exists;
        case O::missing: return sw::api::Written::missing;
        case O::stale: return sw::api::Written::stale;
        case O::failed: break;
    }
    return reg_error(err);
}

// Every row of a table with its version: the list, then each row's version (read_versions:
// one query for all; a row missing there, removed meanwhile, has version 0).
template <class Record, class Spec, class Read>
billing::Result<std::vector<Record>> with_versions(std::vector<Spec> specs, Read version_of) {
    std::vector<Record> out;
    for (Spec& s : specs) {
        std::string err;
        const std::int64_t v = version_of(s, &err);
        if (!err.empty()) return reg_error(err);
        out.push_back(Record{std::move(s), v});
    }
    return out;
}

}  // namespace

std::string ApiData::open() {
    auto st = billing::sqlite::Store::open(database_);
    if (!st) return "api: " + st.error().describe();
    billing_.emplace(std::move(*st));
    std::string err;
    reg_ = route::reg::sqlite::Store::open(database_, &err);
    if (!reg_) return "api: " + err;
    lcr_ = route::lcr::sqlite::Store::open(database_, &err);
    if (!lcr_) return "api: " + err;
    domain_ = route::domain::sqlite::Store::open(database_, &err);
    if (!domain_) return "api: " + err;
    return {};
}

// The store reads every account (one indexed scan, accounts are thousands, not millions);
// the page is cut here.
billing::Result<std::vector<billing::Account>> ApiData::accounts(std::string_view after,
                                                                 std::size_t limit) {
    if (!billing_) return closed();
    auto all = billing_->accounts();
    if (!all) return all.error();
    std::vector<billing::Account> page;
    for (billing::Account& a : *all) {
        if (page.size() >= limit) break;
        if (!after.empty() && a.id <= after) continue;
        page.push_back(std::move(a));
    }
    return page;
}

billing::Result<sw::api::AccountRecord> ApiData::account(std::string_view id) {
    if (!billing_) return closed();
    auto a = billing_->account(id);
    if (!a) return a.error();
    auto ledger = billing_->ledger(id);
    if (!ledger) return ledger.error();
    sw::api::AccountRecord r{std::move(*a), 0};
    if (!ledger->empty()) r.version = ledger->back().id;
    return r;
}

billing::Result<bool> ApiData::rate_group_exists(std::string_view group) {
    if (!billing_) return closed();
    return billing_->rate_group_exists(group);
}

billing::Result<void> ApiData::add_account(const billing::Account& a, std::int64_t wall_ms) {
    if (!billing_) return closed();
    return billing_->add_account(a, wall_ms);
}

billing::Result<billing::Money> ApiData::topup(std::string_view id, billing::Money amount,
                                               std::int64_t wall_ms, std::string_view memo) {
    if (!billing_) return closed();
    return billing_->topup(id, amount, wall_ms, memo);
}

// Each user's version is one more read (users are hundreds, and the API lists them rarely).
billing::Result<std::vector<sw::api::UserRecord>> ApiData::users() {
    if (!reg_) return closed();
    std::string err;
    auto rows = reg_->users(&err);
    if (!err.empty()) return reg_error(err);
    std::vector<sw::api::UserRecord> out;
    out.reserve(rows.size());
    for (auto& u : rows) {
        const auto v = reg_->user_version(u.username, &err);
        if (!err.empty()) return reg_error(err);
        out.push_back(record(std::move(u), v.value_or(0)));
    }
    return out;
}

billing::Result<std::optional<sw::api::UserRecord>> ApiData::user(std::string_view name) {
    if (!reg_) return closed();
    std::string err;
    auto u = reg_->user(name, &err);
    if (!err.empty()) return reg_error(err);
    if (!u) return std::optional<sw::api::UserRecord>{};
    const auto v = reg_->user_version(name, &err);
    if (!err.empty()) return reg_error(err);
    return std::optional(record(std::move(*u), v.value_or(0)));
}

billing::Result<void> ApiData::add_user(const sw::api::UserRecord& u, std::int64_t wall_ms) {
    if (!reg_) return closed();
    std::string err;
    if (auto existing = reg_->user(u.name, &err))
        return billing::fail(billing::ErrorCode::duplicate, "user " + u.name + " exists", "name");
    if (!err.empty()) return reg_error(err);
    route::reg::sqlite::SipUser row{u.name, u.realm, u.ha1, u.enabled, wall_ms, wall_ms};
    if (!reg_->put_user(row, &err)) return reg_error(err);
    return {};
}

billing::Result<sw::api::UserRemoved> ApiData::remove_user(std::string_view name,
                                                           const sw::api::Precondition& p) {
    if (!reg_) return closed();
    std::string err;
    const auto o = reg_->remove_user(name, precondition<route::reg::sqlite::Precondition>(p), &err);
    if (o != route::reg::sqlite::WriteOutcome::done) {
        auto w = written(o, err);
        if (!w) return w.error();
        return sw::api::UserRemoved{*w, 0};
    }
    std::vector<std::string> aors;  // rows come ordered by aor
    for (const auto& b : reg_->bindings(&err))
        if (aor_user(b.aor) == name && (aors.empty() || aors.back() != b.aor)) aors.push_back(b.aor);
    std::size_t n = 0;
    for (const std::string& aor : aors)
        if (auto k = reg_->remove_bindings(aor, "", &err)) n += *k;
    if (!err.empty()) return reg_error(err);
    return sw::api::UserRemoved{sw::api::Written::done, n};
}

billing::Result<billing::Report> ApiData::report(billing::ReportKind kind, billing::Timestamp from,
                                                 billing::Timestamp until, bool deviation) {
    if (!billing_) return closed();
    return deviation ? billing_->report_with_deviation(kind, from, until) : billing_->report(kind, from, until);
}

billing::Result<billing::AgentIncomeReport> ApiData::agent_income(billing::Timestamp from, billing::Timestamp until,
                                                                 std::string_view agent) {
    if (!billing_) return closed();
    return billing_->agent_income_report(from, until, agent);
}

billing::Result<billing::PackageReport> ApiData::package_report(billing::Timestamp from, billing::Timestamp until) {
    if (!billing_) return closed();
    return billing_->package_report(from, until);
}

billing::Result<std::vector<billing::PackageBalance>> ApiData::packages(std::string_view account) {
    if (!billing_) return closed();
    // Every package of every account, then this one's: packages are few (sold by hand), and
    // this keeps one read path with the report.
    auto all = billing_->package_report(billing::kTimeMin, billing::kTimeMax);
    if (!all) return billing::fail(all.error());
    std::vector<billing::PackageBalance> out;
    for (billing::PackageBalance& b : all->rows)
        if (b.package.account == account) out.push_back(std::move(b));
    return out;
}

billing::Result<billing::CommitmentReport> ApiData::commitment_report(std::string_view month) {
    if (!billing_) return closed();
    return billing_->commitment_report(month);
}

billing::Result<std::vector<sw::api::TierUsage>> ApiData::tier_usage(std::string_view account,
                                                                     billing::Timestamp now) {
    if (!billing_) return closed();
    auto tiers = billing_->volume_tiers();
    if (!tiers) return billing::fail(tiers.error());
    std::vector<sw::api::TierUsage> out;
    for (billing::VolumeTier& t : tiers->all()) {  // sorted by account, prefix, from_minutes
        if (t.account != account) continue;
        if (out.empty() || out.back().prefix != t.prefix) out.push_back({t.prefix, {}, 0, {}});
        out.back().tiers.push_back(std::move(t));
    }
    if (out.empty()) return out;
    auto cfg = billing_->rating_config();  // the calendar's zone decides the month
    if (!cfg) return billing::fail(cfg.error());
    const std::string month = billing::volume_month(now, cfg->calendar);
    for (sw::api::TierUsage& u : out) {
        auto used = billing_->volume_used(account, u.prefix, month);
        if (!used) return billing::fail(used.error());
        u.month = month;
        u.used_s = *used;
    }
    return out;
}

billing::Result<sw::api::CdrPage> ApiData::cdrs(const billing::CdrFilter& filter) {
    if (!billing_) return closed();
    auto cur = billing_->currency();
    if (!cur) return cur.error();
    auto rows = billing_->find_cdrs(filter);
    if (!rows) return rows.error();
    return sw::api::CdrPage{std::move(*rows), cur->precision};
}

// --- rates --------------------------------------------------------------------------------------

billing::Result<std::vector<sw::api::RateGroupRecord>> ApiData::rate_groups() {
    if (!billing_) return closed();
    auto infos = billing_->rate_group_infos();
    if (!infos) return infos.error();
    std::vector<sw::api::RateGroupRecord> out;
    out.reserve(infos->size());
    for (auto& i : *infos) out.push_back({std::move(i.name), i.rates, i.accounts});
    return out;
}

billing::Result<sw::api::RateList> ApiData::rates(std::string_view group) {
    if (!billing_) return closed();
    auto cur = billing_->currency();
    if (!cur) return cur.error();
    auto rows = billing_->rates(group);
    if (!rows) return rows.error();
    return sw::api::RateList{std::move(*rows), cur->precision};
}

billing::Result<billing::DeckTemplate> ApiData::deck_template(std::string_view name) {
    if (!billing_) return closed();
    return billing_->deck_template(name);
}

billing::Result<std::size_t> ApiData::import_rates(std::string_view group, const std::vector<billing::Rate>& rates,
                                                   bool replace) {
    if (!billing_) return closed();
    return billing_->import_rates(group, rates, replace);
}

// --- gateways and groups ------------------------------------------------------------------------

billing::Result<std::vector<sw::api::CustomerRecord>> ApiData::customers() {
    if (!lcr_) return closed();
    std::string err;
    auto rows = lcr_->customers(&err);
    if (!err.empty()) return reg_error(err);
    auto versions = lcr_->customer_versions(&err);
    if (!err.empty()) return reg_error(err);
    return with_versions<sw::api::CustomerRecord>(
        std::move(rows), [&](const auto& c, std::string*) {
            const auto it = versions.find(c.name);
            return it == versions.end() ? std::int64_t{0} : it->second;
        });
}

billing::Result<std::optional<sw::api::CustomerRecord>> ApiData::customer(std::string_view name) {
    if (!lcr_) return closed();
    std::string err;
    std::int64_t v = 0;
    auto c = lcr_->customer(std::string(name), &v, &err);
    if (!err.empty()) return reg_error(err);
    if (!c) return std::optional<sw::api::CustomerRecord>{};
    return std::optional(sw::api::CustomerRecord{std::move(*c), v});
}

billing::Result<sw::api::Written> ApiData::put_customer(const route::lcr::CustomerSpec& c,
                                                        const sw::api::Precondition& p) {
    if (!lcr_) return closed();
    std::string err;
    const auto o = lcr_->put_customer(c, precondition(p), &err);
    return written(o, err);
}

billing::Result<sw::api::Written> ApiData::remove_customer(std::string_view name,
                                                           const sw::api::Precondition& p) {
    if (!lcr_) return closed();
    std::string err;
    const auto o = lcr_->remove_customer(std::string(name), precondition(p), &err);
    return written(o, err);
}

billing::Result<std::vector<sw::api::VendorRecord>> ApiData::vendors() {
    if (!lcr_) return closed();
    std::string err;
    auto rows = lcr_->vendors(&err);
    if (!err.empty()) return reg_error(err);
    auto versions = lcr_->vendor_versions(&err);
    if (!err.empty()) return reg_error(err);
    return with_versions<sw::api::VendorRecord>(std::move(rows), [&](const auto& g, std::string*) {
        const auto it = versions.find(g.spec.name);
        return it == versions.end() ? std::int64_t{0} : it->second;
    });
}

billing::Result<std::optional<sw::api::VendorRecord>> ApiData::vendor(std::string_view name) {
    if (!lcr_) return closed();
    std::string err;
    std::int64_t v = 0;
    auto g = lcr_->vendor(std::string(name), &v, &err);
    if (!err.empty()) return reg_error(err);
    if (!g) return std::optional<sw::api::VendorRecord>{};
    return std::optional(sw::api::VendorRecord{std::move(*g), v});
}

billing::Result<sw::api::Written> ApiData::put_vendor(const route::lcr::VendorGateway& g,
                                                      const sw::api::Precondition& p) {
    if (!lcr_) return closed();
    std::string err;
    const auto o = lcr_->put_vendor(g, precondition(p), &err);
    return written(o, err);
}

billing::Result<sw::api::Written> ApiData::remove_vendor(std::string_view name,
                                                         const sw::api::Precondition& p) {
    if (!lcr_) return closed();
    std::string err;
    const auto o = lcr_->remove_vendor(std::string(name), precondition(p), &err);
    return written(o, err);
}

// A group's members are the vendor gateways naming it (trunkctl group list shows the same).
billing::Result<std::vector<sw::api::GroupRecord>> ApiData::groups() {
    if (!lcr_) return closed();
    std::string err;
    auto rows = lcr_->groups(&err);
    if (!err.empty()) return reg_error(err);
    auto vendors = lcr_->vendors(&err);
    if (!err.empty()) return reg_error(err);
    std::vector<sw::api::GroupRecord> out;
    for (auto& g : rows) {
        sw::api::GroupRecord r{std::move(g), 0, {}};
        lcr_->group(r.spec.name, &r.version, &err);
        if (!err.empty()) return reg_error(err);
        for (const auto& v : vendors)
            if (v.spec.group == r.spec.name) r.gateways.push_back(v.spec.name);
        out.push_back(std::move(r));
    }
    return out;
}

billing::Result<std::optional<sw::api::GroupRecord>> ApiData::group(std::string_view name) {
    if (!lcr_) return closed();
    std::string err;
    sw::api::GroupRecord r;
    auto g = lcr_->group(std::string(name), &r.version, &err);
    if (!err.empty()) return reg_error(err);
    if (!g) return std::optional<sw::api::GroupRecord>{};
    r.spec = std::move(*g);
    auto vendors = lcr_->vendors(&err);
    if (!err.empty()) return reg_error(err);
    for (const auto& v : vendors)
        if (v.spec.group == r.spec.name) r.gateways.push_back(v.spec.name);
    return std::optional(std::move(r));
}

billing::Result<sw::api::Written> ApiData::put_group(const route::lcr::GroupSpec& g,
                                                     const sw::api::Precondition& p) {
    if (!lcr_) return closed();
    std::string err;
    const auto o = lcr_->put_group(g, precondition(p), &err);
    return written(o, err);
}

billing::Result<sw::api::Written> ApiData::remove_group(std::string_view name,
                                                        const sw::api::Precondition& p) {
    if (!lcr_) return closed();
    std::string err;
    const auto o = lcr_->remove_group(std::string(name), precondition(p), &err);
    return written(o, err);
}

// --- domain entries and carrier registrations -------------------------------------------
// The precondition is checked inside the store's write transaction and the row's version is
// stamped there too (by the stores' triggers), so a trunkctl write landing in between is
// never overwritten.

namespace dom_sql = route::domain::sqlite;
namespace reg_sql = route::reg::sqlite;

billing::Result<std::vector<sw::api::DomainRecord>> ApiData::domains() {
    if (!domain_) return closed();
    std::string err;
    auto all = domain_->versioned_entries(&err);
    if (!err.empty()) return reg_error(err);
    std::vector<sw::api::DomainRecord> out;
    out.reserve(all.size());
    for (auto& e : all) out.push_back({std::move(e.spec), e.version});
    return out;
}

billing::Result<std::optional<sw::api::DomainRecord>> ApiData::domain(std::string_view name) {
    if (!domain_) return closed();
    std::string err;
    auto e = domain_->get_versioned(name, &err);
    if (!err.empty()) return reg_error(err);
    if (!e) return std::optional<sw::api::DomainRecord>{};
    return std::optional(sw::api::DomainRecord{std::move(e->spec), e->version});
}

billing::Result<sw::api::Written> ApiData::put_domain(const route::domain::EntrySpec& e,
                                                      const sw::api::Precondition& p) {
    if (!domain_) return closed();
    std::string err;
    const auto o = domain_->put(e, precondition<dom_sql::Precondition>(p), &err);
    return written(o, err);
}

billing::Result<sw::api::Written> ApiData::remove_domain(std::string_view name,
                                                         const sw::api::Precondition& p) {
    if (!domain_) return closed();
    std::string err;
    const auto o = domain_->remove(name, precondition<dom_sql::Precondition>(p), &err);
    return written(o, err);
}

billing::Result<std::vector<sw::api::CarrierRecord>> ApiData::carriers() {
    if (!reg_) return closed();
    std::string err;
    auto all = reg_->versioned_trunk_regs(&err);
    if (!err.empty()) return reg_error(err);
    std::vector<sw::api::CarrierRecord> out;
    out.reserve(all.size());
    for (auto& r : all) out.push_back({std::move(r.reg), r.version});
    return out;
}

billing::Result<std::optional<sw::api::CarrierRecord>> ApiData::carrier(std::string_view name) {
    if (!reg_) return closed();
    std::string err;
    auto r = reg_->versioned_trunk_reg(name, &err);
    if (!err.empty()) return reg_error(err);
    if (!r) return std::optional<sw::api::CarrierRecord>{};
    return std::optional(sw::api::CarrierRecord{std::move(r->reg), r->version});
}

billing::Result<sw::api::Written> ApiData::put_carrier(const route::reg::TrunkReg& r,
                                                       const sw::api::Precondition& p) {
    if (!reg_) return closed();
    std::string err;
    const auto o = reg_->put_trunk_reg(r, precondition<reg_sql::Precondition>(p), &err);
    return written(o, err);
}

billing::Result<sw::api::Written> ApiData::remove_carrier(std::string_view name,
                                                          const sw::api::Precondition& p) {
    if (!reg_) return closed();
    std::string err;
    const auto o = reg_->remove_trunk_reg(name, precondition<reg_sql::Precondition>(p), &err);
    return written(o, err);
}

billing::Result<std::vector<billing::Setting>> ApiData::billing_settings() {
    if (!billing_) return closed();
    auto cfg = billing_->rating_config();
    if (!cfg) return billing::fail(cfg.error());
    return billing::settings_of(*cfg);
}

billing::Result<void> ApiData::set_billing_settings(const std::vector<std::pair<std::string, std::string>>& kv) {
    if (!billing_) return closed();
    return billing_->set_settings(kv);
}

}  // namespace wiring

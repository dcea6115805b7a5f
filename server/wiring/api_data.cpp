#include "wiring/api_data.hpp"

namespace wiring {

namespace {

billing::Failure closed() {
    return billing::fail(billing::ErrorCode::io_error, "the database is not open");
}

billing::Failure reg_error(const std::string& e) {
    return billing::fail(billing::ErrorCode::db_error, e);
}

sw::api::UserRecord record(route::reg::sqlite::SipUser u) {
    return {std::move(u.username), std::move(u.realm), std::move(u.ha1), u.enabled, u.created_ms,
            u.updated_ms};
}

// The user part of a canonical AOR ("sip:alice@trunkline" -> "alice"; none: ""), as trunkctl.
std::string_view aor_user(std::string_view aor) {
    const auto colon = aor.find(':');
    const auto at = aor.rfind('@');
    if (colon == std::string_view::npos || at == std::string_view::npos || at < colon) return {};
    return aor.substr(colon + 1, at - colon - 1);
}

}  // namespace

std::string ApiData::open() {
    auto st = billing::sqlite::Store::open(database_);
    if (!st) return "api: " + st.error().describe();
    billing_.emplace(std::move(*st));
    std::string err;
    reg_ = route::reg::sqlite::Store::open(database_, &err);
    if (!reg_) return "api: " + err;
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

billing::Result<std::vector<sw::api::UserRecord>> ApiData::users() {
    if (!reg_) return closed();
    std::string err;
    auto rows = reg_->users(&err);
    if (!err.empty()) return reg_error(err);
    std::vector<sw::api::UserRecord> out;
    out.reserve(rows.size());
    for (auto& u : rows) out.push_back(record(std::move(u)));
    return out;
}

billing::Result<std::optional<sw::api::UserRecord>> ApiData::user(std::string_view name) {
    if (!reg_) return closed();
    std::string err;
    auto u = reg_->user(name, &err);
    if (!err.empty()) return reg_error(err);
    if (!u) return std::optional<sw::api::UserRecord>{};
    return std::optional(record(std::move(*u)));
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

billing::Result<std::size_t> ApiData::remove_user(std::string_view name) {
    if (!reg_) return closed();
    std::string err;
    if (!reg_->remove_user(name, &err)) {
        if (err.empty())
            return billing::fail(billing::ErrorCode::unknown_account, "no such user", "name");
        return reg_error(err);
    }
    std::vector<std::string> aors;  // rows come ordered by aor
    for (const auto& b : reg_->bindings(&err))
        if (aor_user(b.aor) == name && (aors.empty() || aors.back() != b.aor)) aors.push_back(b.aor);
    std::size_t n = 0;
    for (const std::string& aor : aors)
        if (auto k = reg_->remove_bindings(aor, "", &err)) n += *k;
    if (!err.empty()) return reg_error(err);
    return n;
}

billing::Result<sw::api::CdrPage> ApiData::cdrs(const billing::CdrFilter& filter) {
    if (!billing_) return closed();
    auto cur = billing_->currency();
    if (!cur) return cur.error();
    auto rows = billing_->find_cdrs(filter);
    if (!rows) return rows.error();
    return sw::api::CdrPage{std::move(*rows), cur->precision};
}

}  // namespace wiring

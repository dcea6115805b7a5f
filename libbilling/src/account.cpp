#include "billing/account.hpp"

#include <algorithm>

namespace billing {

std::string_view to_string(AccountKind k) {
    switch (k) {
        case AccountKind::customer: return "customer";
        case AccountKind::vendor: return "vendor";
        case AccountKind::agent: return "agent";
    }
    return "customer";
}

Result<AccountKind> parse_account_kind(std::string_view s) {
    if (s == "customer") return AccountKind::customer;
    if (s == "vendor") return AccountKind::vendor;
    if (s == "agent") return AccountKind::agent;
    return fail(ErrorCode::invalid_argument,
                "account kind must be customer, vendor or agent, not '" + std::string(s) + "'",
                "kind");
}

std::string_view to_string(CommissionBasis b) {
    return b == CommissionBasis::profit ? "profit" : "charge";
}

Result<CommissionBasis> parse_commission_basis(std::string_view s) {
    if (s == "charge") return CommissionBasis::charge;
    if (s == "profit") return CommissionBasis::profit;
    return fail(ErrorCode::invalid_argument,
                "commission basis must be charge or profit, not '" + std::string(s) + "'",
                "commission_basis");
}

Result<void> check_commission(const Account& a) {
    if (a.commission_ppm < 0 || a.commission_ppm > 1000000)
        return fail(ErrorCode::invalid_argument,
                    "commission must be 0% to 100%, not " + format_ppm_percent(a.commission_ppm),
                    "commission");
    if (a.commission_ppm != 0 && a.kind != AccountKind::agent)
        return fail(ErrorCode::invalid_argument,
                    "account " + a.id + " is a " + std::string(to_string(a.kind)) +
                        ": only agent accounts earn a commission",
                    "commission");
    return {};
}

RateTable& Book::group(std::string_view name) {
    auto it = groups_.find(name);
    if (it == groups_.end())
        it = groups_.emplace(std::string(name), std::make_unique<RateTable>(std::string(name))).first;
    return *it->second;
}

const RateTable* Book::find_group(std::string_view name) const {
    auto it = groups_.find(name);
    return it == groups_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Book::group_names() const {
    std::vector<std::string> v;
    for (const auto& [k, _] : groups_) v.push_back(k);
    std::sort(v.begin(), v.end());
    return v;
}

void Book::compact() {
    for (auto& [_, g] : groups_) g->compact();
}

Result<void> Book::add_account(Account a) {
    if (a.id.empty()) return fail(ErrorCode::invalid_argument, "account id is empty", "id");
    if (a.credit_limit.is_negative())
        return fail(ErrorCode::invalid_argument, "credit limit must be >= 0", "credit_limit");
    if (accounts_.find(a.id) != accounts_.end())
        return fail(ErrorCode::duplicate, "account " + a.id + " already exists", "id");
    Entry e;
    if (!a.rate_group.empty()) e.group = &group(a.rate_group);
    std::string id = a.id;
    e.account = std::move(a);
    accounts_.emplace(std::move(id), std::move(e));
    return {};
}

const Account* Book::account(std::string_view id) const {
    auto it = accounts_.find(id);
    return it == accounts_.end() ? nullptr : &it->second.account;
}

const Book::Entry* Book::entry(std::string_view id) const {
    auto it = accounts_.find(id);
    return it == accounts_.end() ? nullptr : &it->second;
}

std::vector<const Account*> Book::accounts() const {
    std::vector<const Account*> v;
    v.reserve(accounts_.size());
    for (const auto& [_, e] : accounts_) v.push_back(&e.account);
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->id < b->id; });
    return v;
}

static Failure unknown(std::string_view id) {
    return fail(ErrorCode::unknown_account, "unknown account '" + std::string(id) + "'", "account");
}

Result<void> Book::set_rate_group(std::string_view account_id, std::string_view g) {
    auto it = accounts_.find(account_id);
    if (it == accounts_.end()) return unknown(account_id);
    it->second.account.rate_group = std::string(g);
    it->second.group = g.empty() ? nullptr : &group(g);
    return {};
}

Result<void> Book::set_account_private(std::string_view account_id, std::string_view g) {
    auto it = accounts_.find(account_id);
    if (it == accounts_.end()) return unknown(account_id);
    it->second.priv = g.empty() ? nullptr : &group(g);
    return {};
}

Result<void> Book::set_phone_private(std::string_view phone, std::string_view g) {
    if (phone.empty()) return fail(ErrorCode::invalid_argument, "phone number is empty", "phone");
    if (g.empty()) {
        auto it = phones_.find(phone);
        if (it != phones_.end()) phones_.erase(it);
        return {};
    }
    phones_.insert_or_assign(std::string(phone), &group(g));
    return {};
}

const RateTable* Book::phone_private(std::string_view phone) const {
    if (phones_.empty()) return nullptr;
    auto it = phones_.find(phone);
    return it == phones_.end() ? nullptr : it->second;
}

Result<Money> Book::adjust_balance(std::string_view account_id, Money delta) {
    auto it = accounts_.find(account_id);
    if (it == accounts_.end()) return unknown(account_id);
    auto nb = it->second.account.balance.add(delta);
    if (!nb) return nb;
    it->second.account.balance = *nb;
    return *nb;
}

}  // namespace billing

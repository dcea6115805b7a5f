// Accounts and the in-memory billing book (accounts + rate groups + private rates).
//
//   billing::Book book;
//   book.group("retail").add(rate);                           // rate group "retail"
//   billing::Account a;
//   a.id = "1001"; a.name = "Acme"; a.kind = billing::AccountKind::customer;
//   a.balance = *billing::Money::parse("50"); a.credit_limit = *billing::Money::parse("10");
//   a.rate_group = "retail";
//   if (auto ok = book.add_account(a); !ok) { /* duplicate id */ }
//   (void)book.set_phone_private("15551234567", "vip");       // caller-number private rates
//   auto bal = book.adjust_balance("1001", *billing::Money::parse("-1.25"));
//
// Balance semantics: a customer's balance is what they have prepaid; calls debit it and it
// may go down to -credit_limit (VOS3000 "maximum credit", the allowed overdraft). A
// vendor's balance is what we owe the vendor: each call's cost credits it. An agent is a
// reseller account whose sub-accounts name it in `agent` (VOS3000 agent account). An agent
// earns a commission on its sub-accounts' traffic: commission_ppm (parts per million, 5% =
// 50000) of their charge or of their profit (commission_basis). It is computed by the Agent
// Income report (billing/report.hpp, agent_income()), never booked to a balance.
//
// Lifetime: pointers returned by account()/find_group()/group() stay valid until the
// Book is destroyed (node-based storage; nothing is ever removed).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "billing/money.hpp"
#include "billing/rate.hpp"
#include "billing/result.hpp"

namespace billing {

enum class AccountKind : std::uint8_t { customer, vendor, agent };
std::string_view to_string(AccountKind k);
Result<AccountKind> parse_account_kind(std::string_view s);

// What an agent's commission is a percentage of: the charge (revenue) of its sub-accounts'
// calls, or their profit (charge - vendor cost).
enum class CommissionBasis : std::uint8_t { charge, profit };
std::string_view to_string(CommissionBasis b);
Result<CommissionBasis> parse_commission_basis(std::string_view s);  // "charge" | "profit"

struct Account {
    std::string id;            // VOS3000 "account number": unique, immutable
    std::string name;
    AccountKind kind = AccountKind::customer;
    Money balance;
    Money credit_limit;        // VOS3000 "maximum credit" (overdraft), >= 0
    std::string rate_group;    // VOS3000 "billing rate"; "" = none
    std::string agent;         // parent agent account id, "" = none
    std::string memo;
    // Agent commission (agents only; 0 for other kinds): parts per million of the basis,
    // 0..1000000 (0%..100%); "5%" and "0.05" are 50000 (parse_ratio_ppm).
    CommissionBasis commission_basis = CommissionBasis::charge;
    std::int64_t commission_ppm = 0;

    // balance + credit_limit (what may still be spent); overflow-checked.
    Result<Money> available() const { return balance.add(credit_limit); }
};

// invalid_argument when commission_ppm is outside 0..1000000, or non-zero on an account
// that is not an agent.
Result<void> check_commission(const Account& a);

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

class Book {
public:
    struct Entry {
        Account account;
        const RateTable* group = nullptr;  // the account's rate group (nullptr if none)
        const RateTable* priv = nullptr;   // account-private rates (nullptr if none)
    };

    // The rate group with this name, created empty if missing.
    RateTable& group(std::string_view name);
    const RateTable* find_group(std::string_view name) const;
    std::vector<std::string> group_names() const;  // sorted
    // RateTable::compact() on every group: call once the rates are loaded.
    void compact();

    // ErrorCode::duplicate if the id exists, invalid_argument for an empty id or a negative
    // credit limit. A named rate group that does not exist yet is created empty.
    Result<void> add_account(Account a);
    const Account* account(std::string_view id) const;
    const Entry* entry(std::string_view id) const;
    std::vector<const Account*> accounts() const;  // sorted by id

    Result<void> set_rate_group(std::string_view account_id, std::string_view group);
    // Binds rate group `group` as the account's private rates / a caller number's private
    // rates (VOS3000 account-private and phone-private rates).
    Result<void> set_account_private(std::string_view account_id, std::string_view group);
    Result<void> set_phone_private(std::string_view phone, std::string_view group);
    const RateTable* phone_private(std::string_view phone) const;

    // balance += delta (checked); returns the new balance.
    Result<Money> adjust_balance(std::string_view account_id, Money delta);

private:
    StringMap<std::unique_ptr<RateTable>> groups_;
    StringMap<Entry> accounts_;
    StringMap<const RateTable*> phones_;
};

}  // namespace billing

#include "billing/packages.hpp"

#include <algorithm>
#include <set>
#include <tuple>

namespace billing {

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::size_t Package::match(std::string_view number) const {
    std::size_t best = 0;
    for (const std::string& p : prefixes)
        if (p.size() > best && number.substr(0, p.size()) == p) best = p.size();
    return best;
}

Result<void> validate(const Package& p) {
    if (p.account.empty()) return fail(ErrorCode::invalid_argument, "package without an account", "account");
    const bool name_ok = !p.name.empty() && p.name.size() <= 64 &&
                         std::none_of(p.name.begin(), p.name.end(), [](char c) {
                             return static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ',';
                         });
    if (!name_ok)
        return fail(ErrorCode::invalid_argument,
                    "package name must be 1 to 64 characters, no commas or control characters", "name");
    if (p.prefixes.empty() || p.prefixes.size() > 1000)
        return fail(ErrorCode::invalid_argument, "a package needs 1 to 1000 prefixes", "prefixes");
    std::set<std::string_view> seen;
    for (const std::string& x : p.prefixes) {
        if (!all_digits(x) || x.size() > 64)
            return fail(ErrorCode::invalid_argument, "package prefix must be 1 to 64 digits, not '" + x + "'",
                        "prefixes");
        if (!seen.insert(x).second)
            return fail(ErrorCode::invalid_argument, "package prefix " + x + " given twice", "prefixes");
    }
    if (p.seconds < 1 || p.seconds > 1000000000000)
        return fail(ErrorCode::invalid_argument, "package seconds must be 1 to 10^12", "seconds");
    if (p.fee.is_negative()) return fail(ErrorCode::invalid_argument, "package fee must be >= 0", "fee");
    if (p.valid_from >= p.valid_until)
        return fail(ErrorCode::invalid_argument, "package valid_from must be before valid_until", "valid_until");
    return {};
}

std::vector<std::string> split_prefixes(std::string_view text) {
    std::vector<std::string> v;
    while (true) {
        const auto comma = text.find(',');
        v.emplace_back(trim(text.substr(0, comma)));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    if (v.size() == 1 && v[0].empty()) v.clear();
    return v;
}

std::string join_prefixes(const std::vector<std::string>& prefixes) {
    std::string s;
    for (const std::string& p : prefixes) {
        if (!s.empty()) s += ',';
        s += p;
    }
    return s;
}

Result<void> Packages::add(Package p) {
    if (auto ok = validate(p); !ok) return ok;
    Account& a = by_account_[p.account];
    for (const Package& x : a.list)
        if (x.name == p.name)
            return fail(ErrorCode::duplicate, "package " + p.account + " " + p.name + " exists", "name");
    const auto index = static_cast<std::uint32_t>(a.list.size());
    for (const std::string& prefix : p.prefixes) a.by_prefix[prefix].push_back(index);
    a.list.push_back(std::move(p));
    return {};
}

std::vector<const Package*> Packages::candidates(std::string_view account, std::string_view number,
                                                 Timestamp at) const {
    std::vector<std::pair<std::size_t, const Package*>> found;
    auto a = by_account_.find(account);
    if (a == by_account_.end()) return {};
    const Account& acct = a->second;
    // Longest prefix of the number first: a package met again through a shorter prefix of
    // its own is already in with its longest match (Package::match).
    for (std::size_t len = std::min<std::size_t>(number.size(), 64); len > 0; --len) {
        auto hit = acct.by_prefix.find(number.substr(0, len));
        if (hit == acct.by_prefix.end()) continue;
        for (const std::uint32_t i : hit->second) {
            const Package& p = acct.list[i];
            if (!p.valid_at(at)) continue;
            if (std::none_of(found.begin(), found.end(), [&](const auto& f) { return f.second == &p; }))
                found.emplace_back(len, &p);
        }
    }
    // Longest prefix first (the most specific bundle), then the one that expires first (its
    // minutes would be lost soonest), then the name, so the choice never depends on load order.
    std::sort(found.begin(), found.end(), [](const auto& x, const auto& y) {
        if (x.first != y.first) return x.first > y.first;
        return std::tie(x.second->valid_until, x.second->name) < std::tie(y.second->valid_until, y.second->name);
    });
    std::vector<const Package*> v;
    v.reserve(found.size());
    for (const auto& f : found) v.push_back(f.second);
    return v;
}

const Package* Packages::find(std::string_view account, std::string_view name) const {
    auto a = by_account_.find(account);
    if (a == by_account_.end()) return nullptr;
    for (const Package& p : a->second.list)
        if (p.name == name) return &p;
    return nullptr;
}

Result<std::int64_t> Packages::seconds_left(std::string_view account, std::string_view number, Timestamp at,
                                            const std::function<Result<std::int64_t>(const Package&)>& used) const {
    for (const Package* p : candidates(account, number, at)) {
        auto u = used(*p);
        if (!u) return fail(u.error());
        if (*u < p->seconds) return p->seconds - *u;  // used up: the next candidate, as cdr import
    }
    return std::int64_t{0};
}

std::vector<Package> Packages::all() const {
    std::vector<Package> v;
    for (const auto& [_, a] : by_account_) v.insert(v.end(), a.list.begin(), a.list.end());
    std::sort(v.begin(), v.end(),
              [](const Package& a, const Package& b) { return std::tie(a.account, a.name) < std::tie(b.account, b.name); });
    return v;
}

Result<Money> package_rest_charge(const Rate& rate, std::int64_t billed_s, std::int64_t covered_s,
                                  const Currency& currency) {
    if (billed_s < 0 || covered_s < 0 || covered_s > billed_s)
        return fail(ErrorCode::invalid_argument, "package seconds out of range", "package");
    const std::int64_t rest = billed_s - covered_s;
    if (rest == 0) return Money{};  // covered entirely: no connection fee either
    // The uncovered seconds are the LAST `rest` of the billed layout: those still inside the
    // first period keep first_price, the others price. price_call on a rate whose first
    // period is exactly those first-period seconds, in 1 s increments, prices them and adds
    // the connection fee with the rater's one rounding.
    const std::int64_t first = rate.first_period_s > 0 ? std::min<std::int64_t>(rate.first_period_s, billed_s) : 0;
    const std::int64_t rest_in_first = std::max<std::int64_t>(0, first - covered_s);
    Rate r = rate;
    r.first_period_s = static_cast<std::int32_t>(rest_in_first);
    r.increment_s = 1;
    auto p = price_call(r, rest, currency);
    if (!p) return fail(p.error());
    return p->amount;
}

Result<bool> apply_package(Cdr& cdr, const CallRating& rating, const Package& p, std::int64_t used_before_s,
                           const Currency& currency, std::optional<Money> tier_price) {
    if (rating.customer.rate == nullptr || cdr.customer_billed_s <= 0 || !cdr.call.answer_ms) return false;
    if (cdr.call.customer != p.account || !p.valid_at(*cdr.call.answer_ms) || p.match(cdr.call.callee) == 0)
        return false;
    if (used_before_s < 0) return fail(ErrorCode::invalid_argument, "negative package usage", "package");
    if (used_before_s >= p.seconds) return false;
    const std::int64_t covered = std::min(cdr.customer_billed_s, p.seconds - used_before_s);
    Rate r = *rating.customer.rate;
    if (tier_price) {
        r.price = *tier_price;
        r.first_price = *tier_price;
    }
    auto charge = package_rest_charge(r, cdr.customer_billed_s, covered, currency);
    if (!charge) return fail(charge.error());
    auto profit = charge->sub(cdr.cost);
    if (!profit) return fail(profit.error());
    cdr.charge = *charge;
    cdr.profit = *profit;
    cdr.package_name = p.name;
    cdr.package_s = covered;
    cdr.package_before_s = used_before_s;
    return true;
}

}  // namespace billing

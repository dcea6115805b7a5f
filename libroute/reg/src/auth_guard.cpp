#include "route/reg/auth_guard.hpp"

#include <algorithm>
#include <limits>

namespace route::reg {

using Kind = Suspension::Kind;

AuthGuard::AuthGuard(AuthGuardConfig cfg) : cfg_(cfg) {}

std::size_t AuthGuard::TrustHash::operator()(std::string_view k) const noexcept {
    return std::hash<std::string_view>{}(k);
}

// An address is an IP literal and never holds a space, so the pair key is unambiguous
// whatever bytes the user name carries.
std::string AuthGuard::pair_key(std::string_view user, std::string_view address) {
    std::string k;
    k.reserve(address.size() + 1 + user.size());
    k.append(address).append(1, ' ').append(user);
    return k;
}

void AuthGuard::Counters::erase(std::unordered_map<std::string, Entry>::iterator it) {
    const Entry& e = it->second;
    by_weight.erase({e.failures, std::numeric_limits<std::uint64_t>::max() - e.admitted, &it->first});
    by_deadline.erase({e.forget_at, e.admitted, &it->first});
    entries.erase(it);
}

bool AuthGuard::count(Counters& t, const std::string& key, sip::Instant now) {
    constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
    auto it = t.entries.find(key);
    if (it == t.entries.end()) {
        if (t.entries.size() >= cfg_.max_counters) {
            // by_weight's first entry: the fewest failures, and among those the newest
            const auto& victim = *t.by_weight.begin();
            t.erase(t.entries.find(*std::get<2>(victim)));
            ++stats_.evicted_counters;
        }
        it = t.entries.emplace(key, Counters::Entry{0, ++admissions_, now}).first;
    } else {
        t.by_weight.erase({it->second.failures, kMax - it->second.admitted, &it->first});
        t.by_deadline.erase({it->second.forget_at, it->second.admitted, &it->first});
    }
    Counters::Entry& e = it->second;
    ++e.failures;
    if (e.failures >= cfg_.retry) {
        t.entries.erase(it);  // the suspension takes over; its indexes are already clear
        return true;
    }
    e.forget_at = now + cfg_.failure_window;
    t.by_weight.emplace(e.failures, kMax - e.admitted, &it->first);
    t.by_deadline.emplace(e.forget_at, e.admitted, &it->first);
    return false;
}

void AuthGuard::clear(Counters& t, const std::string& key) {
    if (auto it = t.entries.find(key); it != t.entries.end()) t.erase(it);
}

void AuthGuard::start(Suspension s, std::vector<Suspension>& out) {
    if (cfg_.max_suspensions == 0) return;
    SuspensionId id{s.kind, s.key, s.kind == Kind::UserAtAddress ? s.peer : std::string()};
    if (auto it = suspensions_.find(id); it != suspensions_.end()) drop(it);  // restarted
    while (suspensions_.size() >= cfg_.max_suspensions) {
        drop(suspensions_.find(suspension_ends_.begin()->second));
        ++stats_.dropped_suspensions;
    }
    suspensions_.emplace(id, Held{s.until, s.peer});
    suspension_ends_.emplace(s.until, id);
    if (s.kind == Kind::UserAtAddress) pairs_by_address_.emplace(s.peer, s.key);
    ++stats_.suspensions;
    out.push_back(std::move(s));
}

void AuthGuard::drop(std::map<SuspensionId, Held>::iterator it) {
    const auto& [kind, key, address] = it->first;
    if (kind == Kind::UserAtAddress) {
        auto [b, e] = pairs_by_address_.equal_range(address);
        for (auto p = b; p != e; ++p) {
            if (p->second == key) {
                pairs_by_address_.erase(p);
                break;
            }
        }
    }
    suspension_ends_.erase({it->second.until, it->first});
    suspensions_.erase(it);
}

bool AuthGuard::held(Kind kind, std::string_view key, std::string_view pair_address,
                     sip::Instant now) const {
    auto it = suspensions_.find(SuspensionId{kind, std::string(key), std::string(pair_address)});
    return it != suspensions_.end() && now < it->second.until;
}

bool AuthGuard::trusted(std::string_view user, std::string_view address,
                        sip::Instant now) const {
    if (user.empty()) return false;
    auto it = trust_.find(std::string_view(pair_key(user, address)));
    return it != trust_.end() && now < (*it)->until;
}

bool AuthGuard::refused(std::string_view user, std::string_view address,
                        sip::Instant now) const {
    if (suspensions_.empty()) return false;
    const bool trust = trusted(user, address, now);
    if (!trust && held(Kind::Address, address, {}, now)) return true;
    if (user.empty()) return false;
    if (held(Kind::UserAtAddress, user, address, now)) return true;
    return cfg_.scope == SuspendScope::User && !trust && held(Kind::User, user, {}, now);
}

std::vector<Suspension> AuthGuard::failed(std::string_view user, std::string_view address,
                                          sip::Instant now) {
    std::vector<Suspension> out;
    if (cfg_.retry == 0 || cfg_.max_counters == 0) return out;
    ++stats_.failures;
    const sip::Instant until = now + cfg_.suspend;
    const std::string u(user), a(address);
    if (!user.empty() && !address.empty() && !held(Kind::UserAtAddress, user, address, now) &&
        count(pairs_, pair_key(user, address), now))
        start({Kind::UserAtAddress, u, until, a}, out);
    if (!address.empty() && !held(Kind::Address, address, {}, now) && count(addresses_, a, now))
        start({Kind::Address, a, until, u}, out);
    if (cfg_.scope == SuspendScope::User && !user.empty() && !held(Kind::User, user, {}, now) &&
        count(users_, u, now))
        start({Kind::User, u, until, a}, out);
    return out;
}

void AuthGuard::succeeded(std::string_view user, std::string_view address, sip::Instant now) {
    if (user.empty()) return;
    std::string k = pair_key(user, address);
    clear(pairs_, k);
    // The user's own count goes (its password is known now); the address's stays, so one
    // valid account behind an address does not shield guessing at others from there.
    clear(users_, std::string(user));
    if (cfg_.trust_window.count() <= 0 || cfg_.max_trusted == 0) return;
    const sip::Instant until = now + cfg_.trust_window;
    if (auto it = trust_.find(std::string_view(k)); it != trust_.end()) {
        (*it)->until = until;
        trust_lru_.splice(trust_lru_.end(), trust_lru_, *it);
        return;
    }
    while (trust_.size() >= cfg_.max_trusted) {
        trust_.erase(trust_lru_.begin());
        trust_lru_.pop_front();
    }
    trust_lru_.push_back(Trust{std::move(k), until});
    trust_.insert(std::prev(trust_lru_.end()));
}

std::optional<sip::Instant> AuthGuard::next_deadline() const {
    std::optional<sip::Instant> d;
    auto consider = [&](sip::Instant t) {
        if (!d || t < *d) d = t;
    };
    for (const Counters* t : {&pairs_, &addresses_, &users_})
        if (!t->by_deadline.empty()) consider(std::get<0>(*t->by_deadline.begin()));
    if (!suspension_ends_.empty()) consider(suspension_ends_.begin()->first);
    return d;
}

std::vector<Suspension> AuthGuard::expire(sip::Instant now) {
    for (Counters* t : {&pairs_, &addresses_, &users_}) {
        while (!t->by_deadline.empty() && std::get<0>(*t->by_deadline.begin()) <= now)
            t->erase(t->entries.find(*std::get<2>(*t->by_deadline.begin())));
    }
    // Trust is refreshed in LRU order, so expired pairs sit at the front.
    while (!trust_lru_.empty() && trust_lru_.front().until <= now) {
        trust_.erase(trust_lru_.begin());
        trust_lru_.pop_front();
    }
    std::vector<Suspension> ended;
    while (!suspension_ends_.empty() && suspension_ends_.begin()->first <= now) {
        auto it = suspensions_.find(suspension_ends_.begin()->second);
        const auto& [kind, key, address] = it->first;
        ended.push_back({kind, key, it->second.until, it->second.peer});
        drop(it);
    }
    return ended;
}

std::vector<Suspension> AuthGuard::list(sip::Instant now) const {
    std::vector<Suspension> out;
    out.reserve(suspensions_.size());
    for (const auto& [until, id] : suspension_ends_) {
        if (until <= now) continue;
        const auto& [kind, key, address] = id;
        out.push_back({kind, key, until, suspensions_.find(id)->second.peer});
    }
    return out;
}

std::vector<Suspension> AuthGuard::lift(std::string_view key) {
    std::vector<Suspension> lifted;
    auto take = [&](std::map<SuspensionId, Held>::iterator it) {
        const auto& [kind, k, address] = it->first;
        lifted.push_back({kind, k, it->second.until, it->second.peer});
        drop(it);
    };
    const std::string k(key);
    for (Kind kind : {Kind::User, Kind::Address})
        if (auto it = suspensions_.find({kind, k, {}}); it != suspensions_.end()) take(it);
    // pairs of this user (ordered by kind, then key: one contiguous range)
    for (auto it = suspensions_.lower_bound({Kind::UserAtAddress, k, {}});
         it != suspensions_.end() && std::get<0>(it->first) == Kind::UserAtAddress &&
         std::get<1>(it->first) == k;)
        take(it++);
    // pairs at this address
    std::vector<std::string> users;
    auto [b, e] = pairs_by_address_.equal_range(key);
    for (auto p = b; p != e; ++p) users.push_back(p->second);
    for (const std::string& u : users)
        if (auto it = suspensions_.find({Kind::UserAtAddress, u, k}); it != suspensions_.end())
            take(it);
    // the counts go too: a lifted key starts again from zero
    clear(users_, k);
    clear(addresses_, k);
    for (auto it = pairs_.entries.begin(); it != pairs_.entries.end();) {
        const std::string& pk = it->first;
        const auto space = pk.find(' ');
        const bool match = pk.compare(0, space, k) == 0 || pk.compare(space + 1, pk.npos, k) == 0;
        if (match)
            pairs_.erase(it++);  // unordered_map: erasing one leaves the others' iterators valid
        else
            ++it;
    }
    return lifted;
}

void AuthGuard::restore(const Suspension& s, sip::Instant now) {
    if (s.until <= now || s.key.empty()) return;
    std::vector<Suspension> ignored;
    start(s, ignored);
    --stats_.suspensions;  // not a new one
}

std::size_t AuthGuard::tracked_counters() const noexcept {
    return pairs_.entries.size() + addresses_.entries.size() + users_.entries.size();
}

}  // namespace route::reg

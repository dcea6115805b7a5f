#include "route/lcr/customers.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <deque>
#include <functional>
#include <iterator>
#include <list>
#include <unordered_map>
#include <utility>

namespace route::lcr {

namespace {

using namespace std::chrono_literals;

// Longer than any IPv6 text form (45 characters, 46+ with a zone id is already unusual); a
// longer source address cannot be configured either, so it simply matches nothing.
constexpr std::size_t kMaxAddress = 64;
constexpr std::size_t kMaxAddressPort = kMaxAddress + 8;  // "[" addr "]:" 65535

constexpr std::string_view kUnknown = "Unknown customer";
constexpr std::string_view kDisabled = "Customer disabled";
constexpr std::string_view kBarred = "Calls barred";
constexpr std::string_view kCallerNotAllowed = "Caller not allowed";
constexpr std::string_view kCalleeNotAllowed = "Callee not allowed";
constexpr std::string_view kBlacklisted = "Caller blacklisted";
constexpr std::string_view kLineLimit = "Customer line limit";
constexpr std::string_view kCpsLimit = "Customer CPS limit";
constexpr std::string_view kDestLimit = "Destination prefix limit";

// Transparent, so identify() and admit() look up by string_view without building a string.
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// Time comes from the caller (and from the fuzzer): saturate instead of overflowing.
Nanos sat_add(Nanos a, Nanos b) {
    Nanos::rep r = 0;
    if (__builtin_add_overflow(a.count(), b.count(), &r))
        return b.count() > 0 ? Nanos::max() : Nanos::min();
    return Nanos(r);
}
// An event at t is in the window (now - window, now]. Written as a difference, not as
// "t > now - window", so that the window still holds at the lower end of the clock. An
// instant after now (time went back) counts: that errs towards the limit.
bool within(Nanos t, Nanos now, Nanos window) {
    if (t >= now) return true;
    Nanos::rep age = 0;
    if (__builtin_sub_overflow(now.count(), t.count(), &age)) return false;  // far older
    return Nanos(age) < window;
}

// Brackets stripped; IPv6 lower-cased because its hex digits compare case-insensitively;
// IPv4 as is. Copies into buf only when the text has to change. Empty: does not fit.
std::string_view normalise_address(std::string_view ip, std::array<char, kMaxAddress>& buf) {
    if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    if (ip.find(':') == std::string_view::npos) return ip;
    if (ip.size() > buf.size()) return {};
    for (std::size_t i = 0; i < ip.size(); ++i) {
        const char c = ip[i];
        buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    return {buf.data(), ip.size()};
}

// The ip_port key: "192.0.2.1:5060" or "[2001:db8::1]:5060" (addr already normalised).
std::string_view compose_ip_port(std::string_view addr, std::uint16_t port,
                                 std::array<char, kMaxAddressPort>& buf) {
    const bool v6 = addr.find(':') != std::string_view::npos;
    char* p = buf.data();
    if (v6) *p++ = '[';
    p = std::copy(addr.begin(), addr.end(), p);
    if (v6) *p++ = ']';
    *p++ = ':';
    p = std::to_chars(p, buf.data() + buf.size(), port).ptr;
    return {buf.data(), static_cast<std::size_t>(p - buf.data())};
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
    unsigned v = 0;
    if (s.empty() || s.size() > 5) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

// A configured "addr:port" in the form identify() composes; "" when it is not one.
std::string ip_port_key(std::string_view s) {
    std::string_view addr, port;
    if (!s.empty() && s.front() == '[') {
        const auto close = s.find(']');
        if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
            return {};
        addr = s.substr(1, close - 1);
        port = s.substr(close + 2);
    } else {
        const auto colon = s.rfind(':');
        if (colon == std::string_view::npos || s.find(':') != colon) return {};  // bare IPv6
        addr = s.substr(0, colon);
        port = s.substr(colon + 1);
    }
    const auto p = parse_port(port);
    std::array<char, kMaxAddress> abuf;
    const std::string_view a = normalise_address(addr, abuf);
    if (!p || a.empty()) return {};
    std::array<char, kMaxAddressPort> kbuf;
    return std::string(compose_ip_port(a, *p, kbuf));
}

bool any_prefix(const std::vector<std::string>& prefixes, std::string_view number) {
    return std::any_of(prefixes.begin(), prefixes.end(),
                       [&](const std::string& p) { return number.starts_with(p); });
}

bool allowed(const std::vector<std::string>& allow, const std::vector<std::string>& deny,
             std::string_view number) {
    if (!allow.empty() && !any_prefix(allow, number)) return false;
    return !any_prefix(deny, number);
}

// The newest `cap` instants of a sliding window (deciding "cap events in the window" needs
// no more): a ring that grows up to cap and stays linear, oldest first, until it is full.
// cap is passed on every call because a reload may change it.
class Recent {
  public:
    void push(Nanos t, std::size_t cap) {
        fit(cap);
        if (cap == 0) return;
        if (t_.size() < cap) {
            t_.push_back(t);
            return;
        }
        t_[head_] = t;
        head_ = (head_ + 1) % cap;
    }
    // True when cap instants are held and the oldest of them is within `window` of now.
    bool full_within(Nanos now, Nanos window, std::size_t cap) {
        fit(cap);
        return cap > 0 && t_.size() == cap && within(t_[head_], now, window);
    }
    bool any_within(Nanos now, Nanos window) const {
        if (t_.empty()) return false;
        return within(t_[(head_ + t_.size() - 1) % t_.size()], now, window);
    }
    void clear() {
        t_.clear();
        head_ = 0;
    }

  private:
    void fit(std::size_t cap) {
        if (t_.size() <= cap && (head_ == 0 || t_.size() == cap)) return;
        std::rotate(t_.begin(), t_.begin() + static_cast<std::ptrdiff_t>(head_), t_.end());
        head_ = 0;
        if (t_.size() > cap) t_.erase(t_.begin(), t_.end() - static_cast<std::ptrdiff_t>(cap));
    }

    std::vector<Nanos> t_;
    std::size_t head_ = 0;
};

// VOS3000 malicious-caller blacklist: attempts per caller in a sliding window; more than
// `limit` within `interval` blocks the caller for `expire`. At most max_tracked callers are
// held; the least recently seen one makes room.
class Blacklist {
  public:
    void configure(const BlacklistConfig& cfg) {
        cfg_ = cfg;
        if (cfg_.limit == 0) {
            index_.clear();
            lru_.clear();
        }
        while (lru_.size() > cfg_.max_tracked)
            drop_oldest();
    }

    void record(std::string_view caller, Nanos now) {
        // An empty caller (anonymous) names nobody: counting it would lump all of them.
        if (cfg_.limit == 0 || cfg_.max_tracked == 0 || caller.empty()) return;
        Caller& c = touch(caller, now);
        const std::size_t cap = std::size_t{cfg_.limit} + 1;
        c.attempts.push(now, cap);
        // Calling on over the limit while blocked extends the block, never shortens it.
        if (c.attempts.full_within(now, cfg_.interval, cap)) {
            const Nanos until = sat_add(now, cfg_.expire);
            if (!c.until || *c.until < until) c.until = until;
            c.attempts.clear();
        }
    }

    bool blocked(std::string_view caller, Nanos now) const {
        const auto it = index_.find(caller);
        return it != index_.end() && blocked(*it->second, now);
    }

  private:
    struct Caller {
        std::string number;
        Recent attempts;
        std::optional<Nanos> until;  // blocked before this instant
    };
    using List = std::list<Caller>;

    Caller& touch(std::string_view caller, Nanos now) {
        if (const auto it = index_.find(caller); it != index_.end()) {
            lru_.splice(lru_.end(), lru_, it->second);
            return *it->second;
        }
        // One stale caller per new one keeps the table small without a sweep.
        if (!lru_.empty() && stale(lru_.front(), now)) drop_oldest();
        while (lru_.size() >= cfg_.max_tracked)
            drop_oldest();
        lru_.push_back(Caller{std::string(caller), {}, std::nullopt});
        // The key views the node's own string: list nodes never move.
        index_.emplace(lru_.back().number, std::prev(lru_.end()));
        return lru_.back();
    }

    // A block that saturated at the end of the clock lasts: now can never pass it.
    static bool blocked(const Caller& c, Nanos now) {
        return c.until && (now < *c.until || *c.until == Nanos::max());
    }

    bool stale(const Caller& c, Nanos now) const {
        if (blocked(c, now)) return false;
        return !c.attempts.any_within(now, cfg_.interval);
    }

    void drop_oldest() {
        index_.erase(lru_.front().number);
        lru_.pop_front();
    }

    BlacklistConfig cfg_;
    List lru_;  // least recently seen first
    std::unordered_map<std::string_view, List::iterator> index_;
};

struct Entry {
    CustomerSpec spec;
    RewriteRules caller_rules, callee_rules;
    std::string limit_key;  // what dest_prefix_limit counts per: the account
    CustomerState state;
    Recent admitted;                      // admission instants, for cps_limit
    StringMap<std::uint32_t> dest_calls;  // current calls by dest_key
    bool configured = true;
};

// Customers without an account count alone: "" must not join unrelated customers.
std::string limit_key(const CustomerSpec& s) {
    return s.account.empty() ? "customer\n" + s.name : "account\n" + s.account;
}

// Among several matches the smallest priority wins, then the name.
bool better(const CustomerSpec& a, const CustomerSpec& b) {
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.name < b.name;
}

struct Prepared {
    CustomerSpec spec;
    RewriteRules caller_rules, callee_rules;
};

std::optional<RewriteRules> parse_rules(const CustomerSpec& s, std::string_view field,
                                        const std::string& text, std::string* error) {
    std::string why;
    auto rules = RewriteRules::parse(text, &why);
    if (!rules && error != nullptr)
        *error = "customer '" + s.name + "': " + std::string(field) + ": " + why;
    return rules;
}

bool prepare(std::vector<CustomerSpec>& specs, std::vector<Prepared>& out, std::string* error) {
    StringMap<bool> names;
    for (CustomerSpec& s : specs) {
        if (!names.emplace(s.name, true).second) {
            if (error != nullptr) *error = "customer '" + s.name + "': duplicate name";
            return false;
        }
        auto caller = parse_rules(s, "caller_rewrite", s.caller_rewrite, error);
        if (!caller) return false;
        auto callee = parse_rules(s, "callee_rewrite", s.callee_rewrite, error);
        if (!callee) return false;
        out.push_back({std::move(s), std::move(*caller), std::move(*callee)});
    }
    return true;
}

}  // namespace

std::string_view to_string(AuthMode m) {
    switch (m) {
        case AuthMode::ip:
            return "ip";
        case AuthMode::ip_port:
            return "ip_port";
        case AuthMode::digest:
            return "digest";
    }
    return "?";
}

std::optional<AuthMode> parse_auth_mode(std::string_view s) {
    for (AuthMode m : {AuthMode::ip, AuthMode::ip_port, AuthMode::digest})
        if (s == to_string(m)) return m;
    return std::nullopt;
}

std::string_view to_string(Restriction r) {
    switch (r) {
        case Restriction::none:
            return "none";
        case Restriction::call_out_barring:
            return "call_out_barring";
        case Restriction::call_in_barring:
            return "call_in_barring";
        case Restriction::all:
            return "all";
    }
    return "?";
}

std::optional<Restriction> parse_restriction(std::string_view s) {
    for (Restriction r : {Restriction::none, Restriction::call_out_barring,
                          Restriction::call_in_barring, Restriction::all})
        if (s == to_string(r)) return r;
    return std::nullopt;
}

struct Customers::Impl {
    CustomersConfig cfg;
    std::deque<Entry> entries;      // index = CustomerId; never shrinks, so ids stay valid
    StringMap<CustomerId> by_name;  // every name ever configured (a returning name keeps its id)
    StringMap<CustomerId> by_digest, by_ip_port, by_ip;
    StringMap<StringMap<std::uint32_t>> account_calls;  // limit_key -> dest_key -> calls
    Blacklist blacklist;

    Entry* entry(CustomerId id) { return id < entries.size() ? &entries[id] : nullptr; }
    const Entry* entry(CustomerId id) const { return id < entries.size() ? &entries[id] : nullptr; }

    Entry& upsert(Prepared&& p);
    void move_calls(Entry& e, const std::string& from);
    void index(StringMap<CustomerId>& map, std::string key, CustomerId id);
    void rebuild_indexes();
    std::optional<std::pair<std::uint16_t, std::string_view>> check(Entry& e,
                                                                    std::string_view caller,
                                                                    std::string_view callee,
                                                                    std::string_view dest_key,
                                                                    Nanos now);
    void count(Entry& e, std::string_view dest_key, Nanos now);
    std::uint32_t account_dest_calls(const Entry& e, std::string_view dest_key) const;
};

Entry& Customers::Impl::upsert(Prepared&& p) {
    if (const auto it = by_name.find(p.spec.name); it != by_name.end()) {
        Entry& e = entries[it->second];
        std::string old_key = std::move(e.limit_key);
        e.limit_key = limit_key(p.spec);
        e.spec = std::move(p.spec);
        e.caller_rules = std::move(p.caller_rules);
        e.callee_rules = std::move(p.callee_rules);
        e.configured = true;
        if (old_key != e.limit_key) move_calls(e, old_key);
        return e;
    }
    const auto id = static_cast<CustomerId>(entries.size());
    Entry& e = entries.emplace_back();
    e.limit_key = limit_key(p.spec);
    e.spec = std::move(p.spec);
    e.caller_rules = std::move(p.caller_rules);
    e.callee_rules = std::move(p.callee_rules);
    by_name.emplace(e.spec.name, id);
    return e;
}

// A customer moved to another account: its running calls now count for the new one.
void Customers::Impl::move_calls(Entry& e, const std::string& from) {
    auto old_it = account_calls.find(from);
    auto& to = account_calls[e.limit_key];
    for (const auto& [dest, n] : e.dest_calls) {
        to[dest] += n;
        if (old_it == account_calls.end()) continue;
        auto d = old_it->second.find(dest);
        if (d == old_it->second.end()) continue;
        d->second -= std::min(d->second, n);
        if (d->second == 0) old_it->second.erase(d);
    }
    if (old_it != account_calls.end() && old_it->second.empty()) account_calls.erase(old_it);
}

void Customers::Impl::index(StringMap<CustomerId>& map, std::string key, CustomerId id) {
    if (key.empty()) return;  // malformed or empty: matches nothing
    auto [it, inserted] = map.emplace(std::move(key), id);
    if (!inserted && better(entries[id].spec, entries[it->second].spec)) it->second = id;
}

void Customers::Impl::rebuild_indexes() {
    by_digest.clear();
    by_ip_port.clear();
    by_ip.clear();
    for (CustomerId id = 0; id < entries.size(); ++id) {
        const Entry& e = entries[id];
        if (!e.configured || !e.spec.enabled) continue;  // disabled customers never match
        switch (e.spec.auth) {
            case AuthMode::digest:
                index(by_digest, e.spec.sip_user, id);
                break;
            case AuthMode::ip_port:
                for (const std::string& a : e.spec.ips)
                    index(by_ip_port, ip_port_key(a), id);
                break;
            case AuthMode::ip:
                for (const std::string& a : e.spec.ips) {
                    std::array<char, kMaxAddress> buf;
                    index(by_ip, std::string(normalise_address(a, buf)), id);
                }
                break;
        }
    }
}

std::uint32_t Customers::Impl::account_dest_calls(const Entry& e, std::string_view dest_key) const {
    const auto a = account_calls.find(e.limit_key);
    if (a == account_calls.end()) return 0;
    const auto d = a->second.find(dest_key);
    return d == a->second.end() ? 0 : d->second;
}

// The checks of admit(), in the order the header states; the first failure answers.
std::optional<std::pair<std::uint16_t, std::string_view>> Customers::Impl::check(
    Entry& e, std::string_view caller, std::string_view callee, std::string_view dest_key,
    Nanos now) {
    const CustomerSpec& s = e.spec;
    if (s.restriction == Restriction::call_out_barring || s.restriction == Restriction::all)
        return std::pair{std::uint16_t{403}, kBarred};
    if (!allowed(s.caller_allow, s.caller_deny, caller))
        return std::pair{std::uint16_t{403}, kCallerNotAllowed};
    if (!allowed(s.callee_allow, s.callee_deny, callee))
        return std::pair{std::uint16_t{403}, kCalleeNotAllowed};
    if (blacklist.blocked(caller, now)) return std::pair{std::uint16_t{403}, kBlacklisted};
    if (s.line_limit > 0 && e.state.current_calls >= s.line_limit)
        return std::pair{std::uint16_t{503}, kLineLimit};
    if (s.cps_limit > 0 && e.admitted.full_within(now, 1s, s.cps_limit))
        return std::pair{std::uint16_t{503}, kCpsLimit};
    if (s.dest_prefix_limit > 0 && account_dest_calls(e, dest_key) >= s.dest_prefix_limit)
        return std::pair{std::uint16_t{503}, kDestLimit};
    return std::nullopt;
}

void Customers::Impl::count(Entry& e, std::string_view dest_key, Nanos now) {
    ++e.state.current_calls;
    ++e.state.total_calls;
    e.admitted.push(now, e.spec.cps_limit);
    auto bump = [dest_key](StringMap<std::uint32_t>& m) {
        auto it = m.find(dest_key);
        if (it == m.end()) it = m.emplace(std::string(dest_key), 0).first;
        ++it->second;
    };
    bump(e.dest_calls);
    auto a = account_calls.find(e.limit_key);
    if (a == account_calls.end())
        a = account_calls.emplace(e.limit_key, StringMap<std::uint32_t>{}).first;
    bump(a->second);
}

Customers::Customers(CustomersConfig cfg) : impl_(std::make_unique<Impl>()) {
    set_config(cfg);
}
Customers::~Customers() = default;
Customers::Customers(Customers&&) noexcept = default;
Customers& Customers::operator=(Customers&&) noexcept = default;

bool Customers::set_customers(std::vector<CustomerSpec> customers, std::string* error) {
    // Everything is parsed before anything changes: a bad rule leaves the old table in place.
    std::vector<Prepared> prepared;
    prepared.reserve(customers.size());
    if (!prepare(customers, prepared, error)) return false;
    for (Entry& e : impl_->entries) {
        e.configured = false;
    }
    for (Prepared& p : prepared)
        impl_->upsert(std::move(p));
    // Removed customers keep their id, name, counters and running calls (call_ended stays
    // valid); their rules are no longer needed.
    for (Entry& e : impl_->entries) {
        if (e.configured) continue;
        e.caller_rules = {};
        e.callee_rules = {};
        e.admitted.clear();
    }
    impl_->rebuild_indexes();
    return true;
}

void Customers::set_config(const CustomersConfig& cfg) {
    impl_->cfg = cfg;
    impl_->blacklist.configure(cfg.blacklist);
}

std::optional<CustomerId> Customers::identify(std::string_view ip, std::uint16_t port,
                                              std::string_view digest_user) const {
    if (!digest_user.empty()) {
        if (const auto it = impl_->by_digest.find(digest_user); it != impl_->by_digest.end())
            return it->second;
    }
    std::array<char, kMaxAddress> abuf;
    const std::string_view addr = normalise_address(ip, abuf);
    if (addr.empty()) return std::nullopt;
    std::array<char, kMaxAddressPort> kbuf;
    const auto with_port = impl_->by_ip_port.find(compose_ip_port(addr, port, kbuf));
    if (with_port != impl_->by_ip_port.end()) return with_port->second;
    if (const auto it = impl_->by_ip.find(addr); it != impl_->by_ip.end()) return it->second;
    return std::nullopt;
}

Admission Customers::admit(CustomerId id, std::string_view caller, std::string_view callee,
                           std::string_view dest_key, Nanos now) {
    Admission a;
    Entry* e = impl_->entry(id);
    // An id from before a reload that removed or disabled the customer: not an attempt by
    // a customer at all, so it does not count toward the caller's blacklist window.
    if (e == nullptr || !e->configured || !e->spec.enabled) {
        a.code = 403;
        a.reason = e == nullptr || !e->configured ? kUnknown : kDisabled;
        if (e != nullptr) ++e->state.refused;
        return a;
    }
    impl_->blacklist.record(caller, now);
    if (const auto refused = impl_->check(*e, caller, callee, dest_key, now)) {
        ++e->state.refused;
        a.code = refused->first;
        a.reason = refused->second;
        return a;
    }
    if (!e->caller_rules.apply(caller, a.caller)) a.caller = caller;
    if (!e->callee_rules.apply(callee, a.callee)) a.callee = callee;
    impl_->count(*e, dest_key, now);
    a.ok = true;
    return a;
}

void Customers::call_ended(CustomerId id, std::string_view dest_key) {
    Entry* e = impl_->entry(id);
    if (e == nullptr) return;
    if (e->state.current_calls > 0) --e->state.current_calls;
    const auto d = e->dest_calls.find(dest_key);
    if (d == e->dest_calls.end()) return;  // not a key this customer was admitted with
    if (--d->second == 0) e->dest_calls.erase(d);
    const auto acc = impl_->account_calls.find(e->limit_key);
    if (acc == impl_->account_calls.end()) return;
    const auto ad = acc->second.find(dest_key);
    if (ad == acc->second.end()) return;
    if (--ad->second == 0) acc->second.erase(ad);
    if (acc->second.empty()) impl_->account_calls.erase(acc);
}

const CustomerSpec* Customers::spec(CustomerId id) const {
    const Entry* e = impl_->entry(id);
    return e != nullptr && e->configured ? &e->spec : nullptr;
}

CustomerState Customers::state(CustomerId id) const {
    const Entry* e = impl_->entry(id);
    return e != nullptr ? e->state : CustomerState{};
}

std::optional<CustomerId> Customers::find(std::string_view name) const {
    const auto it = impl_->by_name.find(name);
    if (it == impl_->by_name.end() || !impl_->entries[it->second].configured) return std::nullopt;
    return it->second;
}

std::vector<CustomerId> Customers::customers() const {
    std::vector<CustomerId> ids;
    for (CustomerId id = 0; id < impl_->entries.size(); ++id)
        if (impl_->entries[id].configured) ids.push_back(id);
    std::sort(ids.begin(), ids.end(), [this](CustomerId a, CustomerId b) {
        return impl_->entries[a].spec.name < impl_->entries[b].spec.name;
    });
    return ids;
}

bool Customers::blacklisted(std::string_view caller, Nanos now) const {
    return impl_->blacklist.blocked(caller, now);
}

}  // namespace route::lcr

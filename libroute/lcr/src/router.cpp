// route::lcr::Router: the vendor side of LCR (contract in router.hpp).
//
// Layout, chosen so that route() walks a few flat arrays and allocates nothing:
//   - gateways_[id] holds a gateway's spec and every counter; ids are never reused, so a
//     removed gateway's id stays valid for call_ended() and a re-added name gets it back;
//   - trie_ maps each distinct prefix to a key index k (its insertion order), and
//     members_[keys_[k].begin, +count) lists the gateways with that prefix (CSR layout: one
//     vector for a million prefixes instead of a million small ones);
//   - the CPS window is a ring of the last cps_limit start times per gateway: calls in the
//     last second reach the limit exactly when the oldest of those is less than 1 s old;
//   - the outcome window is a ring of the last HealthConfig::window outcomes with running
//     counts, so health and ASR are O(1) per event.
// Choices the header leaves open:
//   - only Outcome::failed (and attempt_failed) counts as a failure for health; no_answer is
//     the callee's doing, not the gateway's. Every outcome counts toward ASR;
//   - a gateway down because of its outcome window stays down until a probe is answered;
//     that probe also clears the window, so old failures cannot mark it down again;
//   - a prefix holding a non-digit is ignored (DigitTrie refuses it); a name listed twice in
//     one set_gateways() keeps the last spec; a group name missing from the groups list
//     means no group limit; a removed gateway leaves its group (its calls no longer count
//     there).
#include "route/lcr/router.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <utility>

#include "route/prefix/digit_trie.hpp"

namespace route::lcr {

std::string_view to_string(Policy p) {
    switch (p) {
        case Policy::vos3000: return "vos3000";
        case Policy::cost: return "cost";
        case Policy::cost_in_priority: return "cost_in_priority";
    }
    return "?";
}

std::optional<Policy> parse_policy(std::string_view s) {
    for (Policy p : {Policy::vos3000, Policy::cost, Policy::cost_in_priority})
        if (s == to_string(p)) return p;
    return std::nullopt;
}

std::string_view to_string(Skip s) {
    switch (s) {
        case Skip::none: return "none";
        case Skip::disabled: return "disabled";
        case Skip::down: return "down";
        case Skip::line_limit: return "line_limit";
        case Skip::group_limit: return "group_limit";
        case Skip::reserved_lines: return "reserved_lines";
        case Skip::cps_limit: return "cps_limit";
        case Skip::no_rate: return "no_rate";
        case Skip::max_minute_rate: return "max_minute_rate";
        case Skip::profit: return "profit";
        case Skip::shorter_prefix: return "shorter_prefix";
    }
    return "?";
}

namespace {

constexpr std::int32_t kNoGroup = -1;
constexpr std::int64_t kSecond = 1'000'000'000;

// "-0.000123": micro-units as a decimal of the currency unit.
std::string money(Micros m) {
    const bool neg = m < 0;
    const auto mag = neg ? 0 - static_cast<std::uint64_t>(m) : static_cast<std::uint64_t>(m);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%06" PRIu64, neg ? "-" : "",
                  mag / 1'000'000u, mag % 1'000'000u);
    return buf;
}

// Rounds toward minus infinity, so that "a < b" on minutes stays "a' < b'" on seconds.
Micros floor_div(__int128 a, std::int64_t b) {
    __int128 q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return static_cast<Micros>(q);
}

// The last `size` events of some kind, oldest overwritten first.
template <class T>
struct Ring {
    std::vector<T> slots;
    std::uint32_t head = 0;   // next write
    std::uint32_t count = 0;  // valid entries (<= slots.size())

    std::uint32_t capacity() const { return static_cast<std::uint32_t>(slots.size()); }
    // The entry i places back from the newest (0 = newest); i < count.
    const T& back(std::uint32_t i) const {
        return slots[(head + capacity() - 1 - i) % capacity()];
    }
    // Pushes v; returns the evicted entry when the ring was full.
    std::optional<T> push(T v) {
        if (slots.empty()) return std::nullopt;
        std::optional<T> evicted;
        if (count == capacity()) evicted = slots[head];
        else ++count;
        slots[head] = v;
        head = (head + 1) % capacity();
        return evicted;
    }
    // New capacity n, keeping the newest entries that fit.
    void resize(std::uint32_t n) {
        if (n == capacity()) return;
        std::vector<T> kept;
        kept.reserve(n);
        const std::uint32_t keep = std::min(count, n);
        for (std::uint32_t i = keep; i-- > 0;) kept.push_back(back(i));
        slots = std::move(kept);
        slots.resize(n);
        count = keep;
        head = n == 0 ? 0 : keep % n;
    }
};

struct Gateway {
    GatewaySpec spec;
    bool removed = false;
    std::int32_t group = kNoGroup;
    std::uint32_t name_rank = 0;  // position by name among configured gateways
    std::uint32_t current_calls = 0;
    std::uint64_t total_calls = 0;
    std::uint64_t answered_calls = 0;
    Ring<std::int64_t> starts;    // CPS: start times (ns) of the last cps_limit calls
    Ring<Outcome> outcomes;       // health and ASR
    std::uint32_t window_failed = 0;
    std::uint32_t window_answered = 0;
    std::uint32_t probes_unanswered = 0;  // in a row
    bool down = false;
    std::string down_reason;
    std::optional<Nanos> down_since;
    std::string last_failure_reason;  // kept after mark_up
    std::optional<Nanos> last_failure_at;
};

struct Group {
    std::string name;
    std::uint32_t line_limit = 0;
    std::uint32_t current_calls = 0;
};

struct KeyEntry {
    std::uint32_t begin = 0;  // into members_
    std::uint32_t count = 0;
};

bool is_failure(Outcome o) { return o == Outcome::failed; }

}  // namespace

struct Router::Impl {
    RouterConfig cfg;
    std::vector<Gateway> gateways;
    std::map<std::string, GatewayId, std::less<>> ids;  // every name ever seen
    std::vector<Group> groups;
    route::prefix::DigitTrie<std::uint32_t> trie;       // prefix -> key index
    std::vector<KeyEntry> keys;
    std::vector<GatewayId> members;

    // --- configuration -------------------------------------------------------------------
    void apply_specs(std::vector<GatewaySpec> specs);
    void apply_groups(std::vector<GroupSpec> specs);
    void index_prefixes();
    void rank_names();

    // --- checks ---------------------------------------------------------------------------
    bool cps_full(const Gateway& g, Nanos now) const;
    std::uint32_t cps_count(const Gateway& g, Nanos now) const;
    Skip check_state(const Gateway& g, Nanos now) const;
    static Skip check_rates(const Gateway& g, const RouteRequest& rq,
                            const std::optional<RateQuote>& q);
    std::string detail(const Gateway& g, Skip s, const RouteRequest& rq,
                       const std::optional<RateQuote>& q, Nanos now) const;

    // --- order ----------------------------------------------------------------------------
    bool asr_low(const Gateway& g) const;
    bool before(const Candidate& a, const Candidate& b) const;
    void collect(const RouteRequest& rq, const RateLookup& rates, Nanos now,
                 std::uint32_t key, std::uint16_t len, std::vector<Candidate>& out) const;
    void order(std::vector<Candidate>& c) const;

    // --- health ---------------------------------------------------------------------------
    void push_outcome(Gateway& g, Outcome o, Nanos now);
    void mark_down(Gateway& g, std::string reason, Nanos now);
    void mark_up(Gateway& g);

    Gateway* live(GatewayId id) { return id < gateways.size() ? &gateways[id] : nullptr; }
};

// ---------------------------------------------------------------------------------------
// Configuration

void Router::Impl::apply_specs(std::vector<GatewaySpec> specs) {
    std::vector<bool> present(gateways.size(), false);
    for (GatewaySpec& s : specs) {
        auto [it, inserted] = ids.try_emplace(s.name, static_cast<GatewayId>(gateways.size()));
        if (inserted) {
            gateways.emplace_back();
            present.push_back(false);
        }
        Gateway& g = gateways[it->second];
        present[it->second] = true;
        g.removed = false;
        g.starts.resize(s.cps_limit);
        g.spec = std::move(s);
    }
    for (GatewayId id = 0; id < gateways.size(); ++id) {
        if (present[id]) continue;
        Gateway& g = gateways[id];
        g.removed = true;
        g.spec.prefixes = {};  // a removed gateway is never routed to: free its deck
        g.starts.resize(0);
    }
}

void Router::Impl::apply_groups(std::vector<GroupSpec> specs) {
    groups.clear();
    std::map<std::string, std::int32_t, std::less<>> by_name;  // a repeated name: last wins
    for (GroupSpec& s : specs) {
        auto [it, inserted] = by_name.try_emplace(s.name, static_cast<std::int32_t>(groups.size()));
        if (inserted) groups.push_back({std::move(s.name), s.line_limit, 0});
        else groups[static_cast<std::size_t>(it->second)].line_limit = s.line_limit;
    }
    for (Gateway& g : gateways) {
        g.group = kNoGroup;
        if (g.removed || g.spec.group.empty()) continue;
        auto it = by_name.find(g.spec.group);
        if (it == by_name.end()) continue;
        g.group = it->second;
        groups[static_cast<std::size_t>(g.group)].current_calls += g.current_calls;
    }
}

// Two passes over the decks: give each distinct prefix a key index and count its
// gateways, then lay the gateway lists out back to back.
void Router::Impl::index_prefixes() {
    trie.clear();
    keys.clear();
    members.clear();
    std::vector<GatewayId> last_gw;                          // per key: dedup within a gateway
    std::vector<std::pair<std::uint32_t, GatewayId>> pairs;  // (key, gateway)
    for (GatewayId id = 0; id < gateways.size(); ++id) {
        const Gateway& g = gateways[id];
        if (g.removed) continue;
        for (const std::string& p : g.spec.prefixes) {
            auto [slot, inserted] = trie.insert(p, static_cast<std::uint32_t>(keys.size()));
            if (slot == nullptr) continue;
            if (inserted) {
                keys.emplace_back();
                last_gw.push_back(~GatewayId{0});
            }
            const std::uint32_t k = *slot;
            if (last_gw[k] == id) continue;
            last_gw[k] = id;
            ++keys[k].count;
            pairs.emplace_back(k, id);
        }
    }
    std::uint32_t at = 0;
    for (KeyEntry& k : keys) {
        k.begin = at;
        at += k.count;
        k.count = 0;
    }
    members.resize(pairs.size());
    for (auto [k, id] : pairs) members[keys[k].begin + keys[k].count++] = id;
    trie.freeze();
}

void Router::Impl::rank_names() {
    std::uint32_t rank = 0;
    for (const auto& [name, id] : ids)
        if (!gateways[id].removed) gateways[id].name_rank = rank++;
}

// ---------------------------------------------------------------------------------------
// Checks

bool Router::Impl::cps_full(const Gateway& g, Nanos now) const {
    const auto& r = g.starts;
    if (r.count < r.capacity() || r.count == 0) return false;
    return now.count() - r.back(r.count - 1) < kSecond;
}

std::uint32_t Router::Impl::cps_count(const Gateway& g, Nanos now) const {
    std::uint32_t n = 0;
    while (n < g.starts.count && now.count() - g.starts.back(n) < kSecond) ++n;
    return n;
}

// The checks that need no rate, in the order of Skip.
Skip Router::Impl::check_state(const Gateway& g, Nanos now) const {
    const GatewaySpec& s = g.spec;
    if (!s.enabled) return Skip::disabled;
    if (g.down) return Skip::down;
    if (s.line_limit != 0 && g.current_calls >= s.line_limit) return Skip::line_limit;
    if (g.group != kNoGroup) {
        const Group& gr = groups[static_cast<std::size_t>(g.group)];
        if (gr.line_limit != 0) {
            if (gr.current_calls >= gr.line_limit) return Skip::group_limit;
            if (gr.line_limit - gr.current_calls < s.reserved_lines) return Skip::reserved_lines;
        }
    }
    if (s.cps_limit != 0 && cps_full(g, now)) return Skip::cps_limit;
    return Skip::none;
}

// VOS3000 check rate, max minute rate and lowest profit rate, on exact integers.
Skip Router::Impl::check_rates(const Gateway& g, const RouteRequest& rq,
                               const std::optional<RateQuote>& q) {
    const GatewaySpec& s = g.spec;
    const bool needs_rate = s.check_rate || s.max_minute_rate || s.lowest_profit_per_s;
    if (!needs_rate) return Skip::none;
    if (!q) return Skip::no_rate;
    if (s.max_minute_rate && q->per_minute > *s.max_minute_rate) return Skip::max_minute_rate;
    if (s.lowest_profit_per_s) {
        if (!rq.customer_per_minute) return Skip::profit;
        const __int128 margin = __int128{*rq.customer_per_minute} - q->per_minute;
        if (margin < __int128{60} * *s.lowest_profit_per_s) return Skip::profit;
    }
    return Skip::none;
}

std::string Router::Impl::detail(const Gateway& g, Skip s, const RouteRequest& rq,
                                 const std::optional<RateQuote>& q, Nanos now) const {
    const GatewaySpec& sp = g.spec;
    const Group* gr = g.group == kNoGroup ? nullptr : &groups[static_cast<std::size_t>(g.group)];
    switch (s) {
        case Skip::none:
        case Skip::shorter_prefix: return {};
        case Skip::disabled: return "disabled";
        case Skip::down: return g.down_reason;
        case Skip::line_limit:
            return std::to_string(g.current_calls) + "/" + std::to_string(sp.line_limit) + " lines";
        case Skip::group_limit:
            return "group " + gr->name + ": " + std::to_string(gr->current_calls) + "/" +
                   std::to_string(gr->line_limit) + " lines";
        case Skip::reserved_lines:
            return "group " + gr->name + ": " +
                   std::to_string(gr->line_limit - gr->current_calls) + " free lines < " +
                   std::to_string(sp.reserved_lines) + " reserved";
        case Skip::cps_limit:
            return std::to_string(cps_count(g, now)) + " calls in the last second, limit " +
                   std::to_string(sp.cps_limit);
        case Skip::no_rate: return "no vendor rate";
        case Skip::max_minute_rate:
            return "rate " + money(q->per_minute) + "/min > " + money(*sp.max_minute_rate) + "/min";
        case Skip::profit:
            if (!rq.customer_per_minute) return "no customer rate";
            return "profit " +
                   money(floor_div(__int128{*rq.customer_per_minute} - q->per_minute, 60)) +
                   "/s < " + money(*sp.lowest_profit_per_s) + "/s";
    }
    return {};
}

// ---------------------------------------------------------------------------------------
// Order

bool Router::Impl::asr_low(const Gateway& g) const {
    const std::uint32_t n = g.outcomes.count;
    if (n == 0 || n < cfg.asr_min_calls) return false;
    return std::uint64_t{g.window_answered} * 1'000'000u < std::uint64_t{cfg.asr_floor_ppm} * n;
}

// Strict weak order of router.hpp: protect last, then (asr_aware) low ASR last, then policy.
bool Router::Impl::before(const Candidate& a, const Candidate& b) const {
    if (a.protect != b.protect) return !a.protect;
    const Gateway& ga = gateways[a.gateway];
    const Gateway& gb = gateways[b.gateway];
    if (cfg.asr_aware) {
        const bool la = asr_low(ga), lb = asr_low(gb);
        if (la != lb) return !la;
    }
    const auto by_cost = [&](bool* decided) {
        *decided = true;
        if (a.vendor_rate.has_value() != b.vendor_rate.has_value()) return a.vendor_rate.has_value();
        if (a.vendor_rate && a.vendor_rate->effective_per_minute != b.vendor_rate->effective_per_minute)
            return a.vendor_rate->effective_per_minute < b.vendor_rate->effective_per_minute;
        *decided = false;
        return false;
    };
    bool decided = false;
    bool r = false;
    if (cfg.policy == Policy::cost) {
        r = by_cost(&decided);
        if (decided) return r;
    }
    if (ga.spec.priority != gb.spec.priority) return ga.spec.priority < gb.spec.priority;
    if (cfg.policy == Policy::cost_in_priority) {
        r = by_cost(&decided);
        if (decided) return r;
    }
    // Load ratio current/limit (unlimited = 0), compared crosswise to stay exact.
    const std::uint64_t la = ga.spec.line_limit == 0 ? 0 : ga.current_calls;
    const std::uint64_t lb = gb.spec.line_limit == 0 ? 0 : gb.current_calls;
    const std::uint64_t da = ga.spec.line_limit == 0 ? 1 : ga.spec.line_limit;
    const std::uint64_t db = gb.spec.line_limit == 0 ? 1 : gb.spec.line_limit;
    if (la * db != lb * da) return la * db < lb * da;
    if (ga.total_calls != gb.total_calls) return ga.total_calls < gb.total_calls;
    return ga.name_rank < gb.name_rank;
}

// Appends the usable gateways of one prefix key to out.
void Router::Impl::collect(const RouteRequest& rq, const RateLookup& rates, Nanos now,
                           std::uint32_t key, std::uint16_t len,
                           std::vector<Candidate>& out) const {
    const KeyEntry& k = keys[key];
    for (std::uint32_t i = k.begin; i < k.begin + k.count; ++i) {
        const GatewayId id = members[i];
        const Gateway& g = gateways[id];
        if (check_state(g, now) != Skip::none) continue;
        std::optional<RateQuote> q = rates.vendor_rate(g.spec.rate_key, rq.number);
        if (check_rates(g, rq, q) != Skip::none) continue;
        out.push_back({id, len, g.spec.protect, q});
    }
}

void Router::Impl::order(std::vector<Candidate>& c) const {
    // std::sort: in place, no allocation (stable_sort would allocate); before() is total
    // because it ends on the unique name rank.
    std::sort(c.begin(), c.end(),
              [this](const Candidate& a, const Candidate& b) { return before(a, b); });
}

// ---------------------------------------------------------------------------------------
// Health

void Router::Impl::mark_down(Gateway& g, std::string reason, Nanos now) {
    g.last_failure_reason = reason;
    g.down_reason = std::move(reason);
    if (!g.down) g.down_since = g.last_failure_at = now;
    g.down = true;
}

void Router::Impl::mark_up(Gateway& g) {
    g.down = false;
    g.down_reason.clear();
    g.down_since.reset();
    g.outcomes.count = 0;
    g.outcomes.head = 0;
    g.window_failed = 0;
    g.window_answered = 0;
}

void Router::Impl::push_outcome(Gateway& g, Outcome o, Nanos now) {
    if (auto old = g.outcomes.push(o)) {
        g.window_failed -= is_failure(*old) ? 1 : 0;
        g.window_answered -= *old == Outcome::answered ? 1 : 0;
    }
    if (g.outcomes.capacity() == 0) return;
    g.window_failed += is_failure(o) ? 1 : 0;
    g.window_answered += o == Outcome::answered ? 1 : 0;
    const std::uint32_t threshold = cfg.health.failure_threshold;
    if (threshold != 0 && g.window_failed >= threshold && !g.down)
        mark_down(g, std::to_string(g.window_failed) + "/" + std::to_string(g.outcomes.count) +
                         " recent calls failed", now);
}

// ---------------------------------------------------------------------------------------
// Router

Router::Router(RouterConfig cfg) : impl_(std::make_unique<Impl>()) { impl_->cfg = cfg; }
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::set_gateways(std::vector<GatewaySpec> gateways, std::vector<GroupSpec> groups) {
    Impl& m = *impl_;
    m.apply_specs(std::move(gateways));
    for (Gateway& g : m.gateways) g.outcomes.resize(m.cfg.health.window);
    m.apply_groups(std::move(groups));
    m.index_prefixes();
    m.rank_names();
}

void Router::set_config(const RouterConfig& cfg) {
    Impl& m = *impl_;
    const bool new_window = cfg.health.window != m.cfg.health.window;
    m.cfg = cfg;
    if (!new_window) return;
    // Window counts are running sums: restart them rather than re-derive from a resized ring.
    for (Gateway& g : m.gateways) {
        g.outcomes.slots.assign(cfg.health.window, Outcome::answered);
        g.outcomes.count = 0;
        g.outcomes.head = 0;
        g.window_failed = 0;
        g.window_answered = 0;
    }
}

void Router::route(const RouteRequest& rq, const RateLookup& rates, Nanos now,
                   RouteBuffer& buf) const {
    const Impl& m = *impl_;
    buf.candidates.clear();
    // The value index is the key index (keys are numbered in insertion order), so the
    // index form saves reading the trie's value array: one cache miss less on a big deck.
    const auto hit = m.trie.longest_match_index_if(rq.number, [](std::uint32_t) { return true; });
    if (hit.index == m.trie.kNoIndex) return;
    m.collect(rq, rates, now, hit.index, static_cast<std::uint16_t>(hit.length), buf.candidates);
    m.order(buf.candidates);
    if (rq.switch_limit != 0 && buf.candidates.size() > rq.switch_limit)
        buf.candidates.resize(rq.switch_limit);
}

void Router::explain(const RouteRequest& rq, const RateLookup& rates, Nanos now,
                     std::vector<Explained>& out) const {
    const Impl& m = *impl_;
    out.clear();
    // Every matching key, longest first (explain may take one find() per digit).
    std::vector<std::pair<std::uint32_t, std::size_t>> hits;  // (key, length)
    const std::size_t longest = std::min(rq.number.size(), m.trie.kMaxDepth);
    for (std::size_t len = longest + 1; len-- > 0;)
        if (const std::uint32_t* key = m.trie.find(rq.number.substr(0, len)))
            hits.emplace_back(*key, len);
    if (hits.empty()) return;

    std::vector<Candidate> cands;
    m.collect(rq, rates, now, hits[0].first, static_cast<std::uint16_t>(hits[0].second), cands);
    m.order(cands);
    std::vector<bool> seen(m.gateways.size(), false);
    for (std::size_t i = 0; i < cands.size(); ++i) {
        const Gateway& g = m.gateways[cands[i].gateway];
        seen[cands[i].gateway] = true;
        std::string note;
        if (rq.switch_limit != 0 && i >= rq.switch_limit)
            note = "not returned: switch_limit " + std::to_string(rq.switch_limit);
        out.push_back({g.spec.name, std::string(rq.number.substr(0, hits[0].second)), Skip::none,
                       static_cast<std::uint32_t>(i + 1), g.spec.protect, cands[i].vendor_rate,
                       std::move(note)});
    }
    // Then the skipped ones, longest prefix first, by name within one prefix.
    for (const auto& [key, length] : hits) {
        const KeyEntry& k = m.keys[key];
        const std::size_t from = out.size();
        for (std::uint32_t i = k.begin; i < k.begin + k.count; ++i) {
            const GatewayId id = m.members[i];
            if (seen[id]) continue;
            seen[id] = true;
            const Gateway& g = m.gateways[id];
            std::optional<RateQuote> q = rates.vendor_rate(g.spec.rate_key, rq.number);
            Skip s = length == hits[0].second ? m.check_state(g, now) : Skip::shorter_prefix;
            if (s == Skip::none) s = Impl::check_rates(g, rq, q);
            std::string why = s == Skip::shorter_prefix
                                  ? "prefix " + std::string(rq.number.substr(0, length)) +
                                        " shorter than " +
                                        std::string(rq.number.substr(0, hits[0].second))
                                  : m.detail(g, s, rq, q, now);
            out.push_back({g.spec.name, std::string(rq.number.substr(0, length)), s, 0,
                           g.spec.protect, q, std::move(why)});
        }
        std::sort(out.begin() + static_cast<std::ptrdiff_t>(from), out.end(),
                  [](const Explained& a, const Explained& b) { return a.gateway < b.gateway; });
    }
}

void Router::call_started(GatewayId gw, Nanos now) {
    Gateway* g = impl_->live(gw);
    if (g == nullptr) return;
    ++g->current_calls;
    ++g->total_calls;
    g->starts.push(now.count());
    if (g->group != kNoGroup) ++impl_->groups[static_cast<std::size_t>(g->group)].current_calls;
}

void Router::call_ended(GatewayId gw, Outcome outcome, Nanos now) {
    Gateway* g = impl_->live(gw);
    if (g == nullptr) return;
    if (g->current_calls > 0) {
        --g->current_calls;
        if (g->group != kNoGroup) {
            auto& gc = impl_->groups[static_cast<std::size_t>(g->group)].current_calls;
            if (gc > 0) --gc;
        }
    }
    if (outcome == Outcome::answered) ++g->answered_calls;
    impl_->push_outcome(*g, outcome, now);
}

void Router::attempt_failed(GatewayId gw, Nanos now) {
    if (Gateway* g = impl_->live(gw)) impl_->push_outcome(*g, Outcome::failed, now);
}

// Probes decide alone: N unanswered in a row -> down, the first answer -> up.
void Router::on_probe(GatewayId gw, bool answered, Nanos now) {
    Gateway* g = impl_->live(gw);
    if (g == nullptr) return;
    if (answered) {
        g->probes_unanswered = 0;
        if (g->down) impl_->mark_up(*g);
        return;
    }
    ++g->probes_unanswered;
    const std::uint32_t limit = impl_->cfg.health.probe_failures;
    if (limit != 0 && g->probes_unanswered >= limit && !g->down)
        impl_->mark_down(*g, std::to_string(g->probes_unanswered) + " probes unanswered", now);
}

std::optional<GatewayId> Router::find(std::string_view name) const {
    auto it = impl_->ids.find(name);
    if (it == impl_->ids.end() || impl_->gateways[it->second].removed) return std::nullopt;
    return it->second;
}

const GatewaySpec* Router::spec(GatewayId gw) const {
    if (gw >= impl_->gateways.size() || impl_->gateways[gw].removed) return nullptr;
    return &impl_->gateways[gw].spec;
}

const std::string& Router::name(GatewayId gw) const {
    static const std::string unknown;
    return gw < impl_->gateways.size() ? impl_->gateways[gw].spec.name : unknown;
}

GatewayState Router::state(GatewayId gw) const {
    if (gw >= impl_->gateways.size()) return {};
    const Gateway& g = impl_->gateways[gw];
    return {g.current_calls, g.total_calls, g.answered_calls, g.down, g.down_reason, g.down_since,
            g.last_failure_reason, g.last_failure_at};
}

std::vector<GatewayId> Router::gateways() const {
    std::vector<GatewayId> out;
    for (const auto& [name, id] : impl_->ids)
        if (!impl_->gateways[id].removed) out.push_back(id);
    return out;
}

}  // namespace route::lcr

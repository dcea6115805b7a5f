// The domain cache policy (issue 4, DESIGN.md §6): RFC 3263 §4 target resolution (NAPTR →
// SRV → A/AAAA), RFC 2782 weighted choice, TTL clamps, refresh ahead, serve-stale
// (in the spirit of RFC 8767) and RFC 2308 negative caching.
#include "route/domain/cache.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <tuple>
#include <utility>

namespace route::domain {

struct DomainCache::Job {
    enum class Phase : std::uint8_t { Naptr, Srv, Addr };
    struct SrvName {
        std::string qname;
        sip::Transport transport;
        std::uint32_t rank;
    };
    struct SrvFound {
        SrvRecord rec;
        sip::Transport transport;
        std::uint32_t rank;
    };
    struct Host {
        std::string name;
        std::vector<AddressRecord> addrs;
    };
    struct Group {
        std::uint32_t rank;
        std::uint16_t priority, weight, port;
        sip::Transport transport;
        std::uint32_t host;
    };

    Phase phase = Phase::Naptr;
    Instant started{};
    int outstanding = 0;
    std::vector<NaptrRecord> naptr;
    std::vector<SrvName> srv_names;
    std::vector<SrvFound> srvs;
    std::vector<Host> hosts;
    std::vector<Group> groups;
    std::uint32_t cname_ttl = UINT32_MAX;
    bool transient = false;
    ErrorKind transient_kind = ErrorKind::None;
    std::string transient_detail;
    bool nxdomain = false;  // the entry's own name does not exist
    std::optional<std::uint32_t> neg_ttl;
    std::string negative_detail;
};

// `entry` (read only off the fast path) comes last so that the fields a hit reads and a
// name of up to 26 bytes share the first cache line.
struct alignas(64) DomainCache::Hot {
    static constexpr std::size_t kHead = 82;
    std::uint64_t hash = 0;
    const Resolution* good = nullptr;  // Entry::good
    Instant good_expires{};
    Instant last_used{};
    std::uint32_t rotation = 0;
    std::uint8_t key_len = 0;
    bool ever_done = false;
    char head[kHead] = {};  // the first kHead bytes of the key
    Entry* entry = nullptr;
};

struct DomainCache::Entry {
    std::uint32_t hot = 0;  // index into hot_
    std::shared_ptr<const Resolution> good;
    Instant good_expires{};
    bool ever_done = false;
    bool failed = false;
    std::string key;
    EntrySpec spec;
    bool managed = false;
    std::optional<IpAddress> literal;
    ErrorKind fail_error = ErrorKind::None;
    Instant negative_until{};
    ErrorKind last_error = ErrorKind::None;
    std::optional<Instant> last_error_at;
    std::string last_error_detail;
    std::optional<Instant> changed_at;
    std::vector<std::string> changed_from, changed_to;
    std::string change_reason;
    std::uint32_t generation = 0;
    std::unique_ptr<Job> job;
    std::vector<std::uint64_t> waiters;
    std::optional<Instant> wake;           // next query (refresh, retry, negative expiry), no job
    std::optional<Instant> timer;          // the entry's place in timers_
    std::optional<Instant> failing_since;  // first failure since the last good answer
    LookupState reported = LookupState::Pending;  // what the last Resolved said
    ErrorKind reported_error = ErrorKind::None;
};

struct DomainCache::QueryRef {
    std::string key;
    std::uint32_t generation = 0;
    RrType type = RrType::A;
    std::uint32_t index = 0;
    std::string qname;
    bool sent = false;
};

namespace {

double seconds(Duration d) {
    return std::chrono::duration<double>(d).count();
}

std::string fmt_seconds(Duration d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g s", seconds(d));
    return buf;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

bool valid_hostname(std::string_view n) {
    if (n.empty() || n.size() > 253) return false;
    std::size_t label = 0;
    for (char c : n) {
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return false;
        }
        if (++label > 63) return false;
    }
    return label != 0;
}

bool needs_normalizing(std::string_view n) {
    if (!n.empty() && n.back() == '.') return true;
    for (char c : n) {
        if (c >= 'A' && c <= 'Z') return true;
    }
    return false;
}

// RFC 3263 §4.1: SRV service names per transport.
std::string srv_name(sip::Transport t, std::string_view domain) {
    switch (t) {
        case sip::Transport::Udp:
            return "_sip._udp." + std::string(domain);
        case sip::Transport::Tcp:
            return "_sip._tcp." + std::string(domain);
        case sip::Transport::Tls:
            return "_sips._tcp." + std::string(domain);
    }
    return {};
}

std::optional<sip::Transport> naptr_transport(std::string_view services) {
    if (iequals(services, "SIP+D2U")) return sip::Transport::Udp;
    if (iequals(services, "SIP+D2T")) return sip::Transport::Tcp;
    if (iequals(services, "SIPS+D2T")) return sip::Transport::Tls;
    return std::nullopt;
}

std::uint16_t default_port(sip::Transport t) {
    return t == sip::Transport::Tls ? 5061 : 5060;
}

ErrorKind kind_of(QueryFailure f) {
    switch (f) {
        case QueryFailure::Timeout:
            return ErrorKind::Timeout;
        case QueryFailure::Refused:
            return ErrorKind::Refused;
        case QueryFailure::ServFail:
        case QueryFailure::Other:
            return ErrorKind::ServFail;
    }
    return ErrorKind::ServFail;
}

std::vector<std::string> target_strings(const Resolution* r) {
    std::vector<std::string> out;
    if (r == nullptr) return out;
    for (const Target& t : r->targets)
        out.push_back(to_string(t));
    return out;
}

// Resolution::FirstPick for an answer whose best (rank, priority) level is a single record
// with few addresses: next_target() always chooses that record for a fresh cursor, so only
// its weight (for the RFC 2782 draw) and its addresses are needed. Groups are sorted and
// the first one starts at targets[0].
Resolution::FirstPick first_pick(const Resolution& r) {
    Resolution::FirstPick f;
    if (r.groups.empty()) return f;
    const Resolution::Group& top = r.groups.front();
    const bool alone = r.groups.size() == 1 || r.groups[1].rank != top.rank ||
                       r.groups[1].priority != top.priority;
    if (!alone || top.first != 0 || top.count == 0 || top.count > Resolution::FirstPick::kTargets) {
        return f;
    }
    f.weight = top.weight;
    f.count = static_cast<std::uint8_t>(top.count);
    std::copy_n(r.targets.begin(), top.count, f.targets.begin());
    return f;
}

// The same addresses in use (order and SRV grouping aside).
bool same_targets(const std::vector<Target>& a, const std::vector<Target>& b) {
    if (a.size() != b.size()) return false;
    auto key = [](const Target& t) {
        return std::tuple(t.address.v6, t.address.bytes, t.port, t.transport);
    };
    for (const Target& x : a) {
        bool found = false;
        for (const Target& y : b)
            found = found || key(x) == key(y);
        if (!found) return false;
    }
    return true;
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) {
        if (!s.empty()) s += ", ";
        s += x;
    }
    return s.empty() ? "(none)" : s;
}

}  // namespace

std::vector<sip::Transport> default_transports() {
    return {sip::Transport::Udp, sip::Transport::Tcp, sip::Transport::Tls};
}

std::string_view error_kind_name(ErrorKind e) noexcept {
    switch (e) {
        case ErrorKind::None:
            return "none";
        case ErrorKind::NxDomain:
            return "NXDOMAIN";
        case ErrorKind::ServFail:
            return "SERVFAIL";
        case ErrorKind::Refused:
            return "REFUSED";
        case ErrorKind::Timeout:
            return "timeout";
        case ErrorKind::NoRecords:
            return "no records";
        case ErrorKind::Malformed:
            return "malformed answer";
    }
    return "?";
}

std::string_view lookup_state_name(LookupState s) noexcept {
    switch (s) {
        case LookupState::Ready:
            return "ready";
        case LookupState::Stale:
            return "stale";
        case LookupState::Pending:
            return "pending";
        case LookupState::Failed:
            return "failed";
    }
    return "?";
}

std::string_view entry_state_name(EntryState s) noexcept {
    switch (s) {
        case EntryState::Unresolved:
            return "unresolved";
        case EntryState::Ok:
            return "ok";
        case EntryState::Stale:
            return "stale";
        case EntryState::Failed:
            return "failed";
    }
    return "?";
}

std::string_view transport_text(sip::Transport t) noexcept {
    switch (t) {
        case sip::Transport::Udp:
            return "UDP";
        case sip::Transport::Tcp:
            return "TCP";
        case sip::Transport::Tls:
            return "TLS";
    }
    return "?";
}

std::string to_string(const Target& t) {
    std::string s = t.address.v6 ? "[" + t.address.to_string() + "]" : t.address.to_string();
    s += ':';
    s += std::to_string(t.port);
    s += '/';
    s += transport_text(t.transport);
    return s;
}

std::string entry_key(const EntrySpec& spec) {
    std::string name = normalize_name(spec.name);
    if (!spec.port && !spec.transport) return name;
    std::string key = name.find(':') != std::string::npos ? "[" + name + "]" : std::move(name);
    if (spec.port) key += ":" + std::to_string(*spec.port);
    if (spec.transport) {
        std::string t(transport_text(*spec.transport));
        for (char& c : t)
            c = static_cast<char>(c - 'A' + 'a');
        key += ";transport=" + t;
    }
    return key;
}

std::optional<EntrySpec> parse_entry_key(std::string_view key) {
    EntrySpec spec;
    if (const auto semi = key.find(';'); semi != std::string_view::npos) {
        const std::string t = normalize_name(key.substr(semi + 1));
        if (t == "transport=udp")
            spec.transport = sip::Transport::Udp;
        else if (t == "transport=tcp")
            spec.transport = sip::Transport::Tcp;
        else if (t == "transport=tls")
            spec.transport = sip::Transport::Tls;
        else
            return std::nullopt;
        key = key.substr(0, semi);
    }
    std::string_view port;
    if (!key.empty() && key.front() == '[') {
        const auto close = key.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const std::string_view rest = key.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return std::nullopt;
            port = rest.substr(1);
            if (port.empty()) return std::nullopt;
        }
        key = key.substr(1, close - 1);
    } else if (std::count(key.begin(), key.end(), ':') == 1) {
        // host:port; an IPv6 literal without brackets has two colons or more, and no port
        const auto colon = key.find(':');
        port = key.substr(colon + 1);
        key = key.substr(0, colon);
        if (port.empty()) return std::nullopt;
    }
    if (!port.empty()) {
        std::uint32_t p = 0;
        for (char c : port) {
            if (c < '0' || c > '9' || (p = p * 10 + static_cast<std::uint32_t>(c - '0')) > 65535)
                return std::nullopt;
        }
        if (p == 0) return std::nullopt;
        spec.port = static_cast<std::uint16_t>(p);
    }
    if (key.empty()) return std::nullopt;
    spec.name = normalize_name(key);
    return spec;
}

DomainCache::DomainCache(CacheConfig config, sip::Random& rng)
    : config_(std::move(config)), rng_(rng) {
    // A zero TTL floor would refresh in a busy loop.
    config_.ttl_min = std::max(config_.ttl_min, Duration(std::chrono::milliseconds(100)));
    config_.ttl_max = std::max(config_.ttl_max, config_.ttl_min);
    config_.negative_ttl_min =
        std::max(config_.negative_ttl_min, Duration(std::chrono::milliseconds(100)));
    config_.negative_ttl_max = std::max(config_.negative_ttl_max, config_.negative_ttl_min);
    config_.retry_interval =
        std::max(config_.retry_interval, Duration(std::chrono::milliseconds(100)));
    config_.refresh_ahead_percent = std::clamp(config_.refresh_ahead_percent, 10u, 100u);
    config_.refresh_lead_min = std::max(config_.refresh_lead_min, Duration{});
    config_.max_inflight_queries = std::max<std::size_t>(config_.max_inflight_queries, 1);
    config_.max_starts_per_tick = std::max<std::size_t>(config_.max_starts_per_tick, 1);
    config_.max_targets = std::clamp<std::size_t>(config_.max_targets, 1, 64);
}

DomainCache::~DomainCache() {
    for (Hot& h : hot_)
        delete h.entry;
}

namespace {

// 8 bytes at a time with a multiply-xorshift mix (names are 10–60 bytes; FNV-1a's byte
// chain costs more than the probe).
std::uint64_t hash_name(std::string_view s) noexcept {
    constexpr std::uint64_t k = 0x9E3779B97F4A7C15ull;
    std::uint64_t h = s.size() * k;
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    if (i < s.size()) {
        std::uint64_t w = 0;
        std::memcpy(&w, s.data() + i, s.size() - i);
        h = (h ^ w) * k;
    }
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 29;
    return h;
}

}  // namespace

std::uint32_t DomainCache::find_hot(std::string_view name, std::uint64_t hash) const {
    if (slots_.empty() || name.size() > 255) return UINT32_MAX;
    const std::size_t mask = slots_.size() - 1;
    const auto tag = static_cast<std::uint32_t>(hash >> 32);
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
        const Slot& s = slots_[i];
        if (s.hot == UINT32_MAX) return UINT32_MAX;
        if (s.tag != tag) continue;
        const Hot& h = hot_[s.hot];
        if (h.hash != hash || h.key_len != name.size()) continue;
        if (std::memcmp(h.head, name.data(), std::min(name.size(), Hot::kHead)) != 0) continue;
        if (name.size() > Hot::kHead && h.entry->key != name) continue;
        return s.hot;
    }
}

DomainCache::Entry* DomainCache::find(std::string_view name) const {
    std::uint32_t i = find_hot(name, hash_name(name));
    std::string n;
    if (i == UINT32_MAX && needs_normalizing(name)) {
        n = normalize_name(name);
        i = find_hot(n, hash_name(n));
    }
    if (i != UINT32_MAX) return hot_[i].entry;
    // A bare name that is no entry's key: the entry of that name added last.
    auto it = by_name_.find(n.empty() ? std::string(name) : n);
    return it == by_name_.end() || it->second.empty() ? nullptr : it->second.back();
}

void DomainCache::index_insert(Entry* e, std::uint64_t hash) {
    if ((hot_.size() + 1) * 2 > slots_.size()) {
        slots_.assign(std::max<std::size_t>(16, slots_.size() * 2), Slot{});
        const std::size_t mask = slots_.size() - 1;
        for (std::uint32_t k = 0; k < hot_.size(); ++k) {
            std::size_t i = hot_[k].hash & mask;
            while (slots_[i].hot != UINT32_MAX)
                i = (i + 1) & mask;
            slots_[i] = Slot{static_cast<std::uint32_t>(hot_[k].hash >> 32), k};
        }
    }
    Hot h;
    h.hash = hash;
    h.entry = e;
    h.key_len = static_cast<std::uint8_t>(e->key.size());
    std::memcpy(h.head, e->key.data(), std::min(e->key.size(), Hot::kHead));
    e->hot = static_cast<std::uint32_t>(hot_.size());
    hot_.push_back(h);
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash & mask;
    while (slots_[i].hot != UINT32_MAX)
        i = (i + 1) & mask;
    slots_[i] = Slot{static_cast<std::uint32_t>(hash >> 32), e->hot};
}

// Knuth's algorithm R: close the gap so later probes still reach every entry; the last Hot
// record moves into the freed place.
void DomainCache::index_erase(Entry* e) {
    const std::size_t mask = slots_.size() - 1;
    const std::uint32_t idx = e->hot;
    std::size_t i = hot_[idx].hash & mask;
    while (slots_[i].hot != idx)
        i = (i + 1) & mask;
    for (std::size_t j = i;;) {
        j = (j + 1) & mask;
        if (slots_[j].hot == UINT32_MAX) break;
        const std::size_t k = hot_[slots_[j].hot].hash & mask;
        const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays) continue;
        slots_[i] = slots_[j];
        i = j;
    }
    slots_[i] = Slot{};
    const auto last = static_cast<std::uint32_t>(hot_.size() - 1);
    if (idx != last) {
        std::size_t m = hot_[last].hash & mask;
        while (slots_[m].hot != last)
            m = (m + 1) & mask;
        slots_[m].hot = idx;
        hot_[idx] = hot_[last];
        hot_[idx].entry->hot = idx;
    }
    hot_.pop_back();
    if (e->key != e->spec.name) {
        auto it = by_name_.find(e->spec.name);
        if (it != by_name_.end()) {
            std::erase(it->second, e);
            if (it->second.empty()) by_name_.erase(it);
        }
    }
    delete e;
}

void DomainCache::sync_hot(Entry& e) {
    Hot& h = hot_[e.hot];
    h.good = e.good.get();
    h.good_expires = e.good_expires;
    h.ever_done = e.ever_done;
}

std::size_t DomainCache::size() const {
    return hot_.size();
}

std::vector<std::string> DomainCache::names() const {
    std::vector<std::string> out;
    out.reserve(hot_.size());
    for (const Hot& h : hot_)
        out.push_back(h.entry->key);
    std::sort(out.begin(), out.end());
    return out;
}

DomainCache::Entry* DomainCache::create(const EntrySpec& spec, bool managed, Instant now) {
    std::string name = normalize_name(spec.name);
    std::optional<IpAddress> literal = IpAddress::parse(name);
    if (!literal && !valid_hostname(name)) return nullptr;
    auto e = std::make_unique<Entry>();
    e->spec = spec;
    e->spec.name = name;
    e->key = entry_key(e->spec);
    if (e->key.size() > 255) return nullptr;  // Hot::key_len
    e->managed = managed;
    e->literal = literal;
    Entry* raw = e.release();
    index_insert(raw, hash_name(raw->key));
    hot_[raw->hot].last_used = now;
    if (raw->key != raw->spec.name) by_name_[raw->spec.name].push_back(raw);
    return raw;
}

bool DomainCache::add(const EntrySpec& spec, Instant now) {
    // By key only: a spec with another port or transport is another entry (RFC 3263 §4).
    const std::string key = entry_key(spec);
    const std::uint32_t i = find_hot(key, hash_name(key));
    if (i != UINT32_MAX) {
        Entry* e = hot_[i].entry;
        EntrySpec s = spec;
        s.name = e->spec.name;
        const bool changed = !(s == e->spec);
        e->spec = s;
        e->managed = true;
        if (changed || (!e->job && !e->ever_done)) start(*e, now);
        return true;
    }
    Entry* e = create(spec, true, now);
    if (e == nullptr) return false;
    start(*e, now);
    return true;
}

Pick DomainCache::pick(const EntrySpec& spec, Instant now, std::uint64_t waiter) {
    Pick p;
    p.key = entry_key(spec);
    std::uint32_t i = find_hot(p.key, hash_name(p.key));
    if (i == UINT32_MAX) {
        if (!add(spec, now)) {
            p.state = LookupState::Failed;
            p.error = ErrorKind::NoRecords;
            p.detail = "'" + spec.name + "' is not a host name or IP address";
            return p;
        }
    } else {
        hot_[i].entry->managed = true;  // learned before: kept from now on
    }
    const Lookup l = lookup(p.key, now, waiter);
    p.state = l.state;
    p.error = l.error;
    if (l.resolution) {
        TargetCursor c = l.cursor();
        p.target = next_target(c, now);
    }
    i = find_hot(p.key, hash_name(p.key));
    if (i != UINT32_MAX) {
        const Entry& e = *hot_[i].entry;
        p.failing_since = e.failing_since;
        if (l.state == LookupState::Stale && e.good)
            p.stale_until = e.good_expires + config_.stale_grace;
        if (e.last_error != ErrorKind::None) p.detail = e.last_error_detail;
    }
    return p;
}

bool DomainCache::remove(std::string_view name) {
    Entry* e = find(name);
    if (e == nullptr) return false;
    unschedule(*e);
    resume_waiters(*e, LookupState::Failed);
    index_erase(e);  // outstanding queries find no entry and are dropped
    return true;
}

bool DomainCache::resolve_now(std::string_view name, Instant now) {
    Entry* e = find(name);
    if (e == nullptr) return false;
    start(*e, now);
    return true;
}

void DomainCache::schedule(Entry& e, std::optional<Instant> at) {
    e.wake = at;
    rearm(e);
}

// One timer per entry: the resolution timeout while resolving, else the next query; and
// the end of the serve-stale grace period while an answer is held.
void DomainCache::rearm(Entry& e) {
    std::optional<Instant> t =
        e.job ? std::optional(e.job->started + config_.resolution_timeout) : e.wake;
    if (e.good) {
        const Instant g = e.good_expires + config_.stale_grace;
        t = t ? std::min(*t, g) : g;
    }
    unschedule(e);
    e.timer = t;
    if (t) timers_.insert({*t, &e});
}

void DomainCache::unschedule(Entry& e) {
    if (e.timer) timers_.erase({*e.timer, &e});
    e.timer.reset();
}

void DomainCache::expire_grace(Entry& e, Instant now) {
    const ErrorKind k = e.last_error == ErrorKind::None ? ErrorKind::Timeout : e.last_error;
    drop_good(e, now, "grace period over after " + std::string(error_kind_name(k)));
    e.failed = true;
    e.fail_error = k;
    e.negative_until = now + config_.retry_interval;
    if (!e.failing_since) e.failing_since = now;
    report(e, LookupState::Failed, k, true);
    if (!e.job) e.wake = e.negative_until;
    rearm(e);
}

void DomainCache::send(Entry& e, std::string name, RrType type, std::uint32_t index) {
    const QueryId id = next_query_++;
    QueryRef q{e.key, e.generation, type, index, name, false};
    queries_.emplace(id, std::move(q));
    outbox_.push_back(SendQuery{id, std::move(name), type});
    ++e.job->outstanding;
}

void DomainCache::start(Entry& e, Instant now) {
    ++e.generation;  // answers to an abandoned resolution are ignored
    e.job = std::make_unique<Job>();
    Job& j = *e.job;
    j.started = now;
    e.wake.reset();
    rearm(e);
    if (e.literal) {
        finish(e, now);
        return;
    }
    if (e.spec.port) {
        // RFC 3263 §4.2: a port is given, so A/AAAA only.
        const sip::Transport t = e.spec.transport.value_or(sip::Transport::Udp);
        j.hosts.push_back({e.spec.name, {}});
        j.groups.push_back({0, 0, 0, *e.spec.port, t, 0});
        j.phase = Job::Phase::Addr;
        send(e, e.spec.name, RrType::A, 0);
        if (config_.ipv6) send(e, e.spec.name, RrType::Aaaa, 0);
        return;
    }
    if (e.spec.transport || !config_.use_naptr) {
        j.phase = Job::Phase::Srv;
        if (e.spec.transport) {
            j.srv_names.push_back({srv_name(*e.spec.transport, e.spec.name), *e.spec.transport, 0});
        } else {
            for (std::size_t i = 0; i < config_.transports.size(); ++i) {
                j.srv_names.push_back({srv_name(config_.transports[i], e.spec.name),
                                       config_.transports[i], static_cast<std::uint32_t>(i)});
            }
        }
        for (std::size_t i = 0; i < j.srv_names.size(); ++i) {
            send(e, j.srv_names[i].qname, RrType::Srv, static_cast<std::uint32_t>(i));
        }
        if (j.outstanding == 0) finish(e, now);
        return;
    }
    j.phase = Job::Phase::Naptr;
    send(e, e.spec.name, RrType::Naptr, 0);
}

void DomainCache::on_answer(QueryId id, std::span<const std::uint8_t> answer, Instant now) {
    auto it = queries_.find(id);
    if (it == queries_.end()) return;
    QueryRef q = std::move(it->second);
    queries_.erase(it);
    if (q.sent && inflight_ > 0) --inflight_;
    Entry* e = find(q.key);
    if (e == nullptr || e->generation != q.generation || !e->job) return;
    auto a = parse_dns_answer(answer);
    if (!a) {
        char detail[64];
        std::snprintf(detail, sizeof detail, ": malformed answer (%.*s at offset %u)",
                      static_cast<int>(a.error().what().size()), a.error().what().data(),
                      a.error().offset);
        query_done(*e, q, nullptr, ErrorKind::Malformed, detail, now);
        return;
    }
    query_done(*e, q, &*a, ErrorKind::None, {}, now);
}

void DomainCache::on_failure(QueryId id, QueryFailure why, Instant now) {
    auto it = queries_.find(id);
    if (it == queries_.end()) return;
    QueryRef q = std::move(it->second);
    queries_.erase(it);
    if (q.sent && inflight_ > 0) --inflight_;
    Entry* e = find(q.key);
    if (e == nullptr || e->generation != q.generation || !e->job) return;
    const ErrorKind k = kind_of(why);
    query_done(*e, q, nullptr, k, ": " + std::string(error_kind_name(k)), now);
}

void DomainCache::query_done(Entry& e, const QueryRef& q, const DnsAnswer* a, ErrorKind fail,
                             std::string detail, Instant now) {
    Job& j = *e.job;
    --j.outstanding;
    const std::string what = std::string(rr_type_name(q.type)) + " " + q.qname;
    auto transient = [&](ErrorKind k, std::string d) {
        if (!j.transient) {
            j.transient = true;
            j.transient_kind = k;
            j.transient_detail = what + d;
        }
    };
    if (a == nullptr) {
        transient(fail, std::move(detail));
    } else if (a->rcode == Rcode::NxDomain || a->rcode == Rcode::NoError) {
        const ChainEnd chain = chain_end(*a, q.qname);
        j.cname_ttl = std::min(j.cname_ttl, chain.ttl);
        std::size_t found = 0;
        if (a->rcode == Rcode::NoError && !chain.loop) {
            switch (q.type) {
                case RrType::Naptr:
                    for (const NaptrRecord& r : a->naptr) {
                        if (r.name == chain.name) {
                            j.naptr.push_back(r);
                            ++found;
                        }
                    }
                    break;
                case RrType::Srv: {
                    const Job::SrvName& sn = j.srv_names[q.index];
                    for (const SrvRecord& r : a->srv) {
                        if (r.name == chain.name) {
                            j.srvs.push_back({r, sn.transport, sn.rank});
                            ++found;
                        }
                    }
                    break;
                }
                case RrType::A:
                case RrType::Aaaa:
                    for (const AddressRecord& r : a->addresses) {
                        if (r.name == chain.name && r.address.v6 == (q.type == RrType::Aaaa)) {
                            j.hosts[q.index].addrs.push_back(r);
                            ++found;
                        }
                    }
                    break;
                default:
                    break;
            }
        }
        if (found == 0) {
            if (auto n = negative_ttl(*a)) j.neg_ttl = std::min(j.neg_ttl.value_or(*n), *n);
            const bool nx = a->rcode == Rcode::NxDomain;
            if (nx && q.qname == e.spec.name) j.nxdomain = true;
            if (j.negative_detail.empty() || nx) {
                j.negative_detail = what + (nx ? ": NXDOMAIN" : ": no records");
            }
        }
    } else if (a->rcode == Rcode::Refused) {
        transient(ErrorKind::Refused, ": REFUSED");
    } else {
        transient(ErrorKind::ServFail, ": rcode " + std::to_string(a->raw_rcode));
    }
    if (j.outstanding == 0) advance(e, now);
}

void DomainCache::advance(Entry& e, Instant now) {
    Job& j = *e.job;
    switch (j.phase) {
        case Job::Phase::Naptr: {
            if (j.nxdomain) break;  // the name does not exist: no SRV, no A either
            // RFC 3263 §4.1: NAPTR with flag "s" and a SIP service we support, by order then
            // preference; none usable → SRV for every supported transport.
            std::vector<NaptrRecord> usable;
            for (const NaptrRecord& r : j.naptr) {
                auto t = naptr_transport(r.services);
                if (!t || !iequals(r.flags, "s") || r.replacement.empty()) continue;
                if (std::find(config_.transports.begin(), config_.transports.end(), *t) ==
                    config_.transports.end()) {
                    continue;
                }
                usable.push_back(r);
            }
            std::stable_sort(usable.begin(), usable.end(), [](const auto& x, const auto& y) {
                return std::pair(x.order, x.preference) < std::pair(y.order, y.preference);
            });
            if (usable.size() > 8) usable.resize(8);
            j.naptr = usable;
            j.phase = Job::Phase::Srv;
            if (!usable.empty()) {
                for (std::size_t i = 0; i < usable.size(); ++i) {
                    j.srv_names.push_back({usable[i].replacement,
                                           *naptr_transport(usable[i].services),
                                           static_cast<std::uint32_t>(i)});
                }
            } else {
                for (std::size_t i = 0; i < config_.transports.size(); ++i) {
                    j.srv_names.push_back({srv_name(config_.transports[i], e.spec.name),
                                           config_.transports[i], static_cast<std::uint32_t>(i)});
                }
            }
            for (std::size_t i = 0; i < j.srv_names.size(); ++i) {
                send(e, j.srv_names[i].qname, RrType::Srv, static_cast<std::uint32_t>(i));
            }
            if (j.outstanding > 0) return;
            break;
        }
        case Job::Phase::Srv: {
            std::vector<Job::SrvFound> usable;
            for (const auto& s : j.srvs) {
                if (!s.rec.target.empty()) usable.push_back(s);  // "." = not offered
            }
            if (usable.size() > 32) usable.resize(32);
            j.srvs = usable;
            if (usable.empty()) {
                if (j.transient || !j.naptr.empty()) break;
                // RFC 3263 §4.2: no SRV → A/AAAA of the name, default port.
                const sip::Transport t = e.spec.transport.value_or(sip::Transport::Udp);
                j.hosts.push_back({e.spec.name, {}});
                j.groups.push_back({0, 0, 0, default_port(t), t, 0});
            } else {
                for (const auto& s : usable) {
                    std::uint32_t h = 0;
                    while (h < j.hosts.size() && j.hosts[h].name != s.rec.target)
                        ++h;
                    if (h == j.hosts.size()) j.hosts.push_back({s.rec.target, {}});
                    j.groups.push_back(
                        {s.rank, s.rec.priority, s.rec.weight, s.rec.port, s.transport, h});
                }
            }
            j.phase = Job::Phase::Addr;
            for (std::uint32_t h = 0; h < j.hosts.size(); ++h) {
                send(e, j.hosts[h].name, RrType::A, h);
                if (config_.ipv6) send(e, j.hosts[h].name, RrType::Aaaa, h);
            }
            return;
        }
        case Job::Phase::Addr:
            break;
    }
    finish(e, now);
}

void DomainCache::report(Entry& e, LookupState st, ErrorKind error, bool changed) {
    events_.push_back(Resolved{e.key, st, error, changed, e.reported, e.reported_error});
    e.reported = st;
    e.reported_error = error;
}

void DomainCache::resume_waiters(Entry& e, LookupState st) {
    for (std::uint64_t w : e.waiters)
        events_.push_back(Resume{w, e.key, st});
    e.waiters.clear();
}

void DomainCache::drop_good(Entry& e, Instant now, std::string reason) {
    if (e.good) {
        e.changed_at = now;
        e.changed_from = target_strings(e.good.get());
        e.changed_to.clear();
        e.change_reason = std::move(reason);
        e.good.reset();
        sync_hot(e);
    }
}

void DomainCache::finish(Entry& e, Instant now) {
    std::unique_ptr<Job> job = std::move(e.job);
    Job& j = *job;
    const bool first = !e.ever_done;
    e.ever_done = true;
    sync_hot(e);

    auto res = std::make_shared<Resolution>();
    res->resolved_at = now;
    std::uint32_t ttl = j.cname_ttl;
    if (e.literal) {
        const sip::Transport t = e.spec.transport.value_or(sip::Transport::Udp);
        res->groups.push_back({0, 0, 0, 0, 1, e.spec.name});
        res->targets.push_back({*e.literal, e.spec.port.value_or(default_port(t)), t, 0});
    } else {
        std::vector<std::size_t> order(j.groups.size());
        for (std::size_t i = 0; i < order.size(); ++i)
            order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
            return std::pair(j.groups[x].rank, j.groups[x].priority) <
                   std::pair(j.groups[y].rank, j.groups[y].priority);
        });
        std::vector<bool> host_used(j.hosts.size(), false);
        for (std::size_t gi : order) {
            const Job::Group& g = j.groups[gi];
            const Job::Host& h = j.hosts[g.host];
            Resolution::Group rg{g.rank,   g.priority,
                                 g.weight, static_cast<std::uint16_t>(res->targets.size()),
                                 0,        h.name};
            for (const AddressRecord& a : h.addrs) {
                if (res->targets.size() >= config_.max_targets) break;
                Target t{a.address, g.port, g.transport,
                         static_cast<std::uint16_t>(res->groups.size())};
                bool dup = false;
                for (const Target& o : res->targets) {
                    dup = dup || (o.address == t.address && o.port == t.port &&
                                  o.transport == t.transport);
                }
                if (dup) continue;
                res->targets.push_back(t);
                ++rg.count;
                ttl = std::min(ttl, a.ttl);
            }
            if (rg.count == 0) continue;
            host_used[g.host] = true;
            res->groups.push_back(std::move(rg));
        }
        for (std::size_t h = 0; h < j.hosts.size(); ++h) {
            if (!host_used[h]) continue;
            for (const AddressRecord& a : j.hosts[h].addrs)
                res->addresses.push_back(a);
        }
        if (!res->targets.empty()) {
            for (const auto& s : j.srvs) {
                res->srv.push_back(s.rec);
                ttl = std::min(ttl, s.rec.ttl);
            }
            for (const auto& n : j.naptr)
                ttl = std::min(ttl, n.ttl);
            res->naptr = j.naptr;
        }
    }

    if (!res->targets.empty()) {
        if (e.literal) {
            res->ttl = config_.ttl_max;
            res->ttl_source = "IP literal";
        } else {
            res->dns_ttl = ttl;
            const Duration dns = std::chrono::seconds(ttl);
            if (e.spec.ttl_override) {
                res->ttl = std::max(*e.spec.ttl_override, config_.ttl_min);
                res->ttl_source =
                    "override " + fmt_seconds(res->ttl) + " (dns " + std::to_string(ttl) + " s)";
            } else if (dns < config_.ttl_min) {
                res->ttl = config_.ttl_min;
                res->ttl_source = "dns " + std::to_string(ttl) + " s, clamped to ttl_min " +
                                  fmt_seconds(config_.ttl_min);
            } else if (dns > config_.ttl_max) {
                res->ttl = config_.ttl_max;
                res->ttl_source = "dns " + std::to_string(ttl) + " s, clamped to ttl_max " +
                                  fmt_seconds(config_.ttl_max);
            } else {
                res->ttl = dns;
                res->ttl_source = "dns " + std::to_string(ttl) + " s";
            }
        }
        const bool changed = !e.good || !same_targets(e.good->targets, res->targets);
        if (changed) {
            std::vector<std::string> before = target_strings(e.good.get());
            std::vector<std::string> after = target_strings(res.get());
            e.changed_at = now;
            e.changed_from = before;
            e.changed_to = after;
            if (first) {
                e.change_reason = "first resolution";
            } else if (!e.good) {
                e.change_reason = "recovered after " + std::string(error_kind_name(e.fail_error));
                e.changed_from.clear();
            } else {
                e.change_reason = "DNS answer changed";
            }
        }
        // Publish a compact copy: control block, targets and groups allocated back to back,
        // so a cached lookup and its first target touch few cache lines.
        auto out = std::make_shared<Resolution>();
        out->targets.reserve(res->targets.size());
        out->groups.reserve(res->groups.size());
        out->targets = res->targets;
        out->groups = res->groups;
        out->naptr = std::move(res->naptr);
        out->srv = std::move(res->srv);
        out->addresses = std::move(res->addresses);
        out->dns_ttl = res->dns_ttl;
        out->ttl = res->ttl;
        out->ttl_source = std::move(res->ttl_source);
        out->resolved_at = res->resolved_at;
        out->first_pick = first_pick(*out);
        res.reset();
        e.good = std::move(out);
        e.good_expires = now + e.good->ttl;
        sync_hot(e);
        e.failed = false;
        e.fail_error = ErrorKind::None;
        if (e.literal) {
            schedule(e, std::nullopt);
        } else {
            // refresh_ahead_percent of the TTL, but at least refresh_lead_min (at most half
            // the TTL) before its end: a lost query's retry still comes back in time.
            const Duration ttl = e.good->ttl;
            const Duration lead = std::max(ttl * (100 - config_.refresh_ahead_percent) / 100,
                                           std::min(config_.refresh_lead_min, ttl / 2));
            schedule(e, now + ttl - lead);
        }
        e.failing_since.reset();
        report(e, LookupState::Ready, ErrorKind::None, changed);
        resume_waiters(e, LookupState::Ready);
        return;
    }

    if (j.transient) {
        e.last_error = j.transient_kind;
        e.last_error_at = now;
        e.last_error_detail = j.transient_detail;
        if (e.good && now < e.good_expires + config_.stale_grace) {
            // Serve stale: keep the last good answer until the grace period ends.
            schedule(e, now + config_.retry_interval);
            const LookupState st = serve_state(e, now);
            if (!e.failing_since) e.failing_since = now;
            report(e, st, j.transient_kind, false);
            resume_waiters(e, st);
            return;
        }
        const bool had = e.good != nullptr;
        drop_good(e, now,
                  "grace period over after " + std::string(error_kind_name(j.transient_kind)));
        e.failed = true;
        e.fail_error = j.transient_kind;
        e.negative_until = now + config_.retry_interval;
        schedule(e, e.negative_until);
        if (!e.failing_since) e.failing_since = now;
        report(e, LookupState::Failed, j.transient_kind, had);
        resume_waiters(e, LookupState::Failed);
        return;
    }

    const ErrorKind k = j.nxdomain ? ErrorKind::NxDomain : ErrorKind::NoRecords;
    e.last_error = k;
    e.last_error_at = now;
    e.last_error_detail = j.negative_detail.empty() ? "no usable records" : j.negative_detail;
    Duration neg = config_.negative_ttl_default;
    if (j.neg_ttl) neg = std::chrono::seconds(*j.neg_ttl);
    neg = std::clamp(neg, config_.negative_ttl_min, config_.negative_ttl_max);
    e.last_error_detail +=
        " (negative TTL " + fmt_seconds(neg) +
        (j.neg_ttl ? ", SOA " + std::to_string(*j.neg_ttl) + " s)" : ", no SOA)");
    const bool had = e.good != nullptr;
    drop_good(e, now, std::string(error_kind_name(k)));
    e.failed = true;
    e.fail_error = k;
    e.negative_until = now + neg;
    schedule(e, e.negative_until);
    if (!e.failing_since) e.failing_since = now;
    report(e, LookupState::Failed, k, had);
    resume_waiters(e, LookupState::Failed);
}

LookupState DomainCache::serve_state(const Entry& e, Instant now) const {
    if (e.good) {
        if (now < e.good_expires) return LookupState::Ready;
        if (now < e.good_expires + config_.stale_grace) return LookupState::Stale;
        return LookupState::Failed;
    }
    return e.ever_done ? LookupState::Failed : LookupState::Pending;
}

Lookup DomainCache::lookup(std::string_view name, Instant now, std::uint64_t waiter) {
    const std::uint32_t i = find_hot(name, hash_name(name));
    if (i != UINT32_MAX) {
        Hot& h = hot_[i];
        h.last_used = now;
        if (h.good != nullptr && now < h.good_expires) {  // the common case: fresh
            return Lookup{LookupState::Ready, ErrorKind::None, h.good, h.rotation++};
        }
        return lookup_slow(h.entry, name, now, waiter);
    }
    return lookup_slow(find(name), name, now, waiter);
}

Lookup DomainCache::lookup_slow(Entry* e, std::string_view name, Instant now,
                                std::uint64_t waiter) {
    if (e == nullptr) {
        auto spec = parse_entry_key(name);
        e = spec ? create(*spec, false, now) : nullptr;
        if (e == nullptr) return Lookup{LookupState::Failed, ErrorKind::NxDomain, nullptr, 0};
        start(*e, now);
    }
    Hot& h = hot_[e->hot];
    h.last_used = now;
    const LookupState st = serve_state(*e, now);
    switch (st) {
        case LookupState::Ready:
        case LookupState::Stale:
            return Lookup{st, st == LookupState::Stale ? e->last_error : ErrorKind::None,
                          e->good.get(), h.rotation++};
        case LookupState::Pending:
            if (waiter != 0) e->waiters.push_back(waiter);
            if (!e->job) start(*e, now);
            return Lookup{st, ErrorKind::None, nullptr, 0};
        case LookupState::Failed:
            if (!e->job && now >= e->negative_until && !e->good) start(*e, now);
            return Lookup{st, e->good ? e->last_error : e->fail_error, nullptr, 0};
    }
    return {};
}

bool DomainCache::blacklisted(const Target& t, Instant now) const {
    for (const Blacklisted& b : blacklist_) {
        if (b.until > now && b.target.address == t.address && b.target.port == t.port &&
            b.target.transport == t.transport) {
            return true;
        }
    }
    return false;
}

void DomainCache::report_failure(const Target& t, Instant now) {
    std::erase_if(blacklist_, [&](const Blacklisted& b) { return b.until <= now; });
    for (Blacklisted& b : blacklist_) {
        if (b.target.address == t.address && b.target.port == t.port &&
            b.target.transport == t.transport) {
            b.until = now + config_.blacklist_duration;
            return;
        }
    }
    if (blacklist_.size() >= 1024) blacklist_.erase(blacklist_.begin());
    blacklist_.push_back({t, now + config_.blacklist_duration});
}

std::optional<Target> DomainCache::next_target(TargetCursor& c, Instant now) {
    const Resolution* r = c.resolution.get();
    if (r == nullptr) return std::nullopt;
    const bool any_black = !blacklist_.empty();
    // A call's first try, nothing blacklisted: what the general path below computes, read
    // from the precomputed FirstPick. Its single record is always the one chosen, but the
    // weighted draw still happens so the injected Random advances exactly as before.
    const Resolution::FirstPick& f = r->first_pick;
    if (c.tried == 0 && f.count != 0 && !any_black) {
        if (f.weight != 0) static_cast<void>(rng_.below(std::uint32_t{f.weight} + 1));
        const std::uint32_t i = c.rotation % f.count;
        c.tried = std::uint64_t{1} << i;
        return f.targets[i];
    }
    auto eligible = [&](std::size_t i, bool pass_black) {
        if (c.tried & (std::uint64_t{1} << i)) return false;
        if (!any_black) return !pass_black;
        return blacklisted(r->targets[i], now) == pass_black;
    };
    auto group_eligible = [&](const Resolution::Group& g, bool pass_black) {
        for (std::size_t i = g.first; i < g.first + g.count; ++i) {
            if (eligible(i, pass_black)) return true;
        }
        return false;
    };
    for (bool pass_black : {false, true}) {
        if (pass_black && !any_black) break;
        // The first (rank, priority) level with something left (RFC 2782: lowest priority).
        std::size_t lo = 0;
        while (lo < r->groups.size() && !group_eligible(r->groups[lo], pass_black))
            ++lo;
        if (lo == r->groups.size()) continue;
        std::size_t hi = lo;
        while (hi < r->groups.size() && r->groups[hi].rank == r->groups[lo].rank &&
               r->groups[hi].priority == r->groups[lo].priority) {
            ++hi;
        }
        // RFC 2782 weighted choice among the records of that priority that are left: zero
        // weights first, a uniform number in [0, sum], the first running sum reaching it.
        std::uint32_t sum = 0;
        for (std::size_t g = lo; g < hi; ++g) {
            if (group_eligible(r->groups[g], pass_black)) sum += r->groups[g].weight;
        }
        const std::uint32_t pick = sum == 0 ? 0 : rng_.below(sum + 1);
        std::size_t chosen = hi;
        std::uint32_t running = 0;
        for (int zero_pass = 1; zero_pass >= 0 && chosen == hi; --zero_pass) {
            for (std::size_t g = lo; g < hi; ++g) {
                const auto& grp = r->groups[g];
                if ((grp.weight == 0) != (zero_pass == 1)) continue;
                if (!group_eligible(grp, pass_black)) continue;
                running += grp.weight;
                if (running >= pick) {
                    chosen = g;
                    break;
                }
            }
        }
        if (chosen == hi) chosen = lo;
        const auto& grp = r->groups[chosen];
        for (std::size_t k = 0; k < grp.count; ++k) {
            const std::size_t i = grp.first + (c.rotation + k) % grp.count;
            if (eligible(i, pass_black)) {
                c.tried |= std::uint64_t{1} << i;
                return r->targets[i];
            }
        }
    }
    return std::nullopt;
}

std::optional<Action> DomainCache::poll() {
    if (!events_.empty()) {
        Action a = std::move(events_.front());
        events_.pop_front();
        return a;
    }
    while (!outbox_.empty() && inflight_ < config_.max_inflight_queries) {
        SendQuery q = std::move(outbox_.front());
        outbox_.pop_front();
        auto it = queries_.find(q.id);
        if (it == queries_.end()) continue;
        Entry* e = find(it->second.key);
        if (e == nullptr || e->generation != it->second.generation) {
            queries_.erase(it);  // its resolution was abandoned before it went out
            continue;
        }
        it->second.sent = true;
        ++inflight_;
        return q;
    }
    return std::nullopt;
}

std::optional<Instant> DomainCache::next_deadline() const {
    // Back-pressure: with a full queue of unsent queries, starting more resolutions only adds
    // work; the answers in flight drain the queue, and the next deadline shows up again.
    if (timers_.empty() || outbox_.size() >= config_.max_inflight_queries) return std::nullopt;
    return timers_.begin()->first;
}

void DomainCache::handle_timeouts(Instant now) {
    std::size_t started = 0;
    while (!timers_.empty() && timers_.begin()->first <= now) {
        Entry* e = timers_.begin()->second;
        if (e->good && now >= e->good_expires + config_.stale_grace) {
            expire_grace(*e, now);  // a refresh may still be running: it can restore the entry
            continue;
        }
        if (e->job) {
            if (now < e->job->started + config_.resolution_timeout) {
                rearm(*e);
                continue;
            }
            // The resolver never answered some queries: give the resolution up.
            ++e->generation;
            e->job->outstanding = 0;
            if (!e->job->transient) {
                e->job->transient = true;
                e->job->transient_kind = ErrorKind::Timeout;
                e->job->transient_detail = "resolution timed out";
            }
            finish(*e, now);
            continue;
        }
        if (!e->managed && e->waiters.empty() &&
            now - hot_[e->hot].last_used >= config_.idle_expiry) {
            unschedule(*e);
            index_erase(e);
            continue;
        }
        if (started >= config_.max_starts_per_tick ||
            outbox_.size() >= config_.max_inflight_queries) {
            break;
        }
        start(*e, now);
        ++started;
    }
}

std::optional<EntryStatus> DomainCache::status(std::string_view name, Instant now) const {
    const Entry* e = find(name);
    if (e == nullptr) return std::nullopt;
    EntryStatus s;
    s.spec = e->spec;
    s.managed = e->managed;
    s.resolving = e->job != nullptr;
    const LookupState st = serve_state(*e, now);
    s.state = st == LookupState::Ready     ? EntryState::Ok
              : st == LookupState::Stale   ? EntryState::Stale
              : st == LookupState::Pending ? EntryState::Unresolved
                                           : EntryState::Failed;
    s.stale = st == LookupState::Stale;
    if (e->good && st != LookupState::Failed) {
        const Resolution& r = *e->good;
        s.resolution = e->good;
        // Use order: by (rank, priority), heavier weight first, the current rotation.
        std::vector<std::size_t> gs(r.groups.size());
        for (std::size_t i = 0; i < gs.size(); ++i)
            gs[i] = i;
        std::stable_sort(gs.begin(), gs.end(), [&](std::size_t x, std::size_t y) {
            const auto& a = r.groups[x];
            const auto& b = r.groups[y];
            if (a.rank != b.rank) return a.rank < b.rank;
            if (a.priority != b.priority) return a.priority < b.priority;
            return a.weight > b.weight;
        });
        for (std::size_t g : gs) {
            const auto& grp = r.groups[g];
            for (std::size_t k = 0; k < grp.count; ++k) {
                s.targets.push_back(r.targets[grp.first + (hot_[e->hot].rotation + k) % grp.count]);
            }
        }
        s.expires_at = e->good_expires;
        s.ttl_left = e->good_expires > now ? e->good_expires - now : Duration{};
        s.stale_until = e->good_expires + config_.stale_grace;
        s.last_resolved_at = r.resolved_at;
    } else if (e->good) {
        s.resolution = e->good;
        s.stale_until = e->good_expires + config_.stale_grace;
    }
    if (e->failed) s.negative_until = e->negative_until;
    if (e->wake && !e->job) s.next_refresh = *e->wake;
    s.changed_at = e->changed_at;
    s.changed_from = e->changed_from;
    s.changed_to = e->changed_to;
    s.change_reason = e->change_reason;
    s.last_error = e->last_error;
    s.last_error_at = e->last_error_at;
    s.last_error_detail = e->last_error_detail;
    s.failing_since = e->failing_since;
    s.key = e->key;
    return s;
}

std::string format_status(const EntryStatus& s, Instant now,
                          const std::function<std::string(Instant)>& when) {
    auto at = [&](Instant t) {
        if (when) return when(t);
        char buf[48];
        const double d = seconds(t - now);
        std::snprintf(buf, sizeof buf, "T%+.1fs", d);
        return std::string(buf);
    };
    std::string o;
    o += s.spec.name;
    o += s.managed ? "  (operator entry" : "  (learned on first use";
    o += "; transport ";
    o += s.spec.transport ? std::string(transport_text(*s.spec.transport)) : "any";
    o += ", port ";
    o += s.spec.port ? std::to_string(*s.spec.port) : "any";
    o += ", TTL ";
    o += s.spec.ttl_override ? "override " + fmt_seconds(*s.spec.ttl_override) : "from DNS";
    o += ")\n";
    o += "  state:      ";
    o += entry_state_name(s.state);
    if (s.stale) o += " (serving a stale answer until " + at(*s.stale_until) + ")";
    if (s.resolving) o += ", resolving";
    o += '\n';
    if (s.resolution && s.state != EntryState::Failed) {
        const Resolution& r = *s.resolution;
        o += "  ttl:        " + fmt_seconds(s.ttl_left) + " left of " + fmt_seconds(r.ttl) + " (" +
             r.ttl_source + "), resolved " + at(r.resolved_at);
        if (s.next_refresh) o += ", next query " + at(*s.next_refresh);
        o += '\n';
        o += "  using:      ";
        for (std::size_t i = 0; i < s.targets.size(); ++i) {
            if (i) o += "\n              ";
            o += std::to_string(i + 1) + ". " + to_string(s.targets[i]);
            const auto& g = r.groups[s.targets[i].group];
            o += "  (" + (g.host.empty() ? s.spec.name : g.host);
            if (!r.srv.empty()) {
                o += ", SRV prio " + std::to_string(g.priority) + " weight " +
                     std::to_string(g.weight);
            }
            o += ")";
        }
        o += '\n';
        bool first = true;
        auto rec = [&](const std::string& line) {
            o += first ? "  records:    " : "              ";
            o += line + '\n';
            first = false;
        };
        for (const auto& n : r.naptr) {
            rec("NAPTR " + n.name + " " + std::to_string(n.order) + " " +
                std::to_string(n.preference) + " \"" + n.flags + "\" \"" + n.services + "\" -> " +
                n.replacement + " (ttl " + std::to_string(n.ttl) + ")");
        }
        for (const auto& v : r.srv) {
            rec("SRV " + v.name + " " + std::to_string(v.priority) + " " +
                std::to_string(v.weight) + " " + std::to_string(v.port) + " " + v.target +
                " (ttl " + std::to_string(v.ttl) + ")");
        }
        for (const auto& a : r.addresses) {
            rec(std::string(a.address.v6 ? "AAAA " : "A ") + a.name + " " + a.address.to_string() +
                " (ttl " + std::to_string(a.ttl) + ")");
        }
    } else {
        o += "  using:      (no address: requests fail fast";
        if (s.negative_until) o += " until " + at(*s.negative_until);
        o += ")\n";
    }
    if (s.changed_at) {
        o += "  changed:    " + at(*s.changed_at) + ": " + s.change_reason + "; from " +
             join(s.changed_from) + " to " + join(s.changed_to) + '\n';
    }
    if (s.failing_since) {
        o += "  failing:    since " + at(*s.failing_since) +
             (s.stale ? " (the last answer is served stale meanwhile)" : "") + '\n';
    }
    if (s.last_error != ErrorKind::None && s.last_error_at) {
        o += "  last error: " + at(*s.last_error_at) + ": " +
             std::string(error_kind_name(s.last_error)) + " (" + s.last_error_detail + ")\n";
    }
    return o;
}

std::optional<std::string> transition_text(const Resolved& r, const DomainCache& cache,
                                           Instant now) {
    const bool moved = r.state != r.previous || r.error != r.previous_error;
    if (!moved && !r.changed) return std::nullopt;
    const auto st = cache.status(r.name, now);
    if (!st) return std::nullopt;
    std::vector<std::string> using_now;
    for (const Target& t : st->targets)
        using_now.push_back(to_string(t));
    const std::string err(error_kind_name(r.error));
    const std::string detail =
        st->last_error_detail.empty() ? std::string() : " (" + st->last_error_detail + ")";
    std::string o = "dns " + r.name + ": ";
    switch (r.state) {
        case LookupState::Ready:
            if (r.error == ErrorKind::None) {
                if (r.previous == LookupState::Pending) {
                    o += "resolved: " + join(using_now);
                } else if (r.previous == LookupState::Ready &&
                           r.previous_error == ErrorKind::None) {
                    o += "the answer changed: now " + join(using_now) + " (was " +
                         join(st->changed_from) + ")";
                } else {
                    o += "answers again: " + join(using_now);
                }
            } else {
                // a refresh failed before the TTL ran out: still fresh, stale next
                o += err + detail + "; the answer is fresh for " + fmt_seconds(st->ttl_left) +
                     " more, then served stale";
                if (st->stale_until)
                    o += " until " + fmt_seconds(*st->stale_until - now) + " from now";
                o += " while the resolver fails";
            }
            break;
        case LookupState::Stale:
            o +=
                err + detail + "; serving the last answer past its TTL (stale): " + join(using_now);
            if (st->stale_until)
                o += " for at most " + fmt_seconds(*st->stale_until - now) + " more";
            break;
        case LookupState::Failed:
            o += err + detail + "; no address";
            if (!st->changed_from.empty() && r.changed)
                o += " (dropped " + join(st->changed_from) + ")";
            if (st->negative_until && *st->negative_until > now)
                o += "; next query in " + fmt_seconds(*st->negative_until - now);
            break;
        case LookupState::Pending:
            return std::nullopt;
    }
    return o;
}

}  // namespace route::domain

// route::domain::DomainCache — the sans-I/O domain cache (DESIGN.md §6): carrier FQDNs
// resolved per RFC 3263 (NAPTR → SRV → A/AAAA), kept with their TTLs, refreshed before
// they expire, served stale for a stated grace period when the resolver fails.
//
//   DomainCache cache({.ttl_min = 10s, .stale_grace = 5min}, rng);
//   cache.add({.name = "sip.carrier.com"}, now);          // operator entry: resolved at once
//   while (auto a = cache.poll()) {                        // the adapter sends the queries
//       if (auto* q = std::get_if<SendQuery>(&*a)) send(q->id, q->name, q->type);
//   }
//   cache.on_answer(id, raw_answer_bytes, now);            // or on_failure(id, Timeout, now)
//
//   // A consumer with its own port / transport (RFC 3263 §4.2: a port means A/AAAA only)
//   // gets its own entry: pick() adds it once and answers with the first target.
//   Pick p = cache.pick({.name = "sip.carrier.com", .port = 5080}, now, call_id);
//
//   Lookup l = cache.lookup("sip.carrier.com", now, call_id);
//   if (l.state == LookupState::Pending) { /* wait for Resume{call_id} from poll() */ }
//   TargetCursor c = l.cursor();
//   while (auto t = cache.next_target(c, now)) {           // RFC 3263 order, failover
//       if (send_ok(*t)) break;
//       cache.report_failure(*t, now);                      // blacklisted for a while
//   }
//
//   while (auto d = cache.next_deadline()) { cache.handle_timeouts(*d); drain(cache); }
//
// Time is only ever given (sip::Instant); randomness (RFC 2782 weighted choice) comes from
// the injected sip::Random, which must outlive the cache. Nothing calls back into user code:
// every output is an Action from poll(). The cache is single-threaded.
//
// Entries are keyed by entry_key(spec): the name, plus the port and transport when the spec
// gives them ("carrier.test", "carrier.test:5080", "carrier.test;transport=tcp"), because
// they decide the RFC 3263 steps (issue 12 item 4): two users of one name with different
// ports are two entries. Every function that takes a `name` takes such a key; a bare name
// that is no entry's key finds the entry of that name added last (so `add({name, port})`
// then `status(name)` works).
//
// Refresh: at refresh_ahead_percent of the TTL, but at least refresh_lead_min (at most half
// the TTL) before it ends, so a lost query and its retry still land before the answer goes
// stale (issue 12 item 7: at the 10 s floor, 90 % left 1 s, less than c-ares' 2 s retry).
//
// Failure policy (issue 4):
// - SERVFAIL, REFUSED, timeout or a malformed answer: the last good answer stays in use,
//   marked stale once its TTL has run out, for at most `stale_grace` past its expiry; the
//   query is retried every `retry_interval`. After the grace period the entry has no
//   address and lookups fail fast. Serve-stale is visible: lookups say Stale, status()
//   says since when the resolver fails (`failing_since`) and until when the answer is
//   served, and every Resolved action carries the state before it, so an adapter logs the
//   moment an entry goes stale, fails or recovers (transition_text()).
// - NXDOMAIN or no usable records: the entry has no address at once and lookups fail fast;
//   the negative answer is cached for the SOA minimum (RFC 2308 §5), clamped to
//   [negative_ttl_min, negative_ttl_max] (`negative_ttl_default` without SOA).
// - A lookup waits (Pending, then Resume) only while an entry has never been resolved;
//   afterwards it is answered at once from whatever the entry holds.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "route/domain/dns_message.hpp"
#include "route/domain/time.hpp"
#include "sip/random.hpp"
#include "sip/transport.hpp"

namespace route::domain {

using namespace std::chrono_literals;

std::vector<sip::Transport> default_transports();  // UDP, TCP, TLS

struct CacheConfig {
    Duration ttl_min = 10s;  // record TTLs are clamped into [ttl_min, ttl_max] (TTL 0 too)
    Duration ttl_max = 24h;
    Duration negative_ttl_min = 5s;
    Duration negative_ttl_max = 10min;
    Duration negative_ttl_default = 30s;  // NXDOMAIN / no records without an SOA
    unsigned refresh_ahead_percent = 90;  // refresh at this share of the TTL, but...
    // ...at least this long before the TTL ends (at most half the TTL): one lost query and
    // its retry (c-ares: 2 s, then 4 s) still come back before the answer is stale.
    Duration refresh_lead_min = 6s;
    Duration stale_grace = 5min;            // serve-stale limit past the TTL's end
    Duration retry_interval = 5s;           // re-query after a resolver failure
    Duration resolution_timeout = 30s;      // a resolution with queries still out fails then
    Duration blacklist_duration = 30s;      // a failed target is avoided this long
    Duration idle_expiry = 1h;              // first-use entries unused this long are dropped
    std::size_t max_inflight_queries = 32;  // SendQuery actions out at once: bounds the
                                            // answers (work) one loop iteration can bring
    std::size_t max_starts_per_tick = 32;   // resolutions started per handle_timeouts()
    std::size_t max_targets = 64;           // addresses kept per entry
    bool ipv6 = true;                       // also ask AAAA
    bool use_naptr = true;                  // RFC 3263 §4.1 NAPTR step
    // Supported transports in preference order (SRV names asked without NAPTR, §4.1).
    std::vector<sip::Transport> transports = default_transports();
};

// An operator's domain entry (persisted by route_domain_sqlite).
struct EntrySpec {
    std::string name;                         // FQDN or IP literal
    std::optional<Duration> ttl_override;     // replaces the records' TTL (not clamped)
    std::optional<sip::Transport> transport;  // given: no NAPTR step (RFC 3263 §4.1)
    std::optional<std::uint16_t> port;        // given: A/AAAA only, no SRV (§4.2)
    friend bool operator==(const EntrySpec&, const EntrySpec&) = default;
};

// The cache key of a spec: the normalized name (lowercase, no final dot), then ":PORT" when
// a port is given, then ";transport=udp|tcp|tls" when a transport is (an IPv6 literal is
// bracketed when anything follows it): "carrier.test:5080;transport=tcp".
std::string entry_key(const EntrySpec& spec);
// The spec a key stands for (ttl_override unset); nullopt when the key is malformed.
std::optional<EntrySpec> parse_entry_key(std::string_view key);

enum class ErrorKind : std::uint8_t {
    None,
    NxDomain,
    ServFail,
    Refused,
    Timeout,
    NoRecords,
    Malformed
};
std::string_view error_kind_name(ErrorKind e) noexcept;  // "NXDOMAIN", "SERVFAIL", ...

// A resolver failure reported by the adapter for one query.
enum class QueryFailure : std::uint8_t { Timeout, ServFail, Refused, Other };

using QueryId = std::uint64_t;

struct Target {
    IpAddress address;
    std::uint16_t port = 5060;
    sip::Transport transport = sip::Transport::Udp;
    std::uint16_t group = 0;  // index into Resolution::groups
    friend bool operator==(const Target&, const Target&) = default;
};
std::string to_string(const Target& t);  // "192.0.2.1:5060/UDP", "[2001:db8::1]:5061/TLS"
std::string_view transport_text(sip::Transport t) noexcept;  // "UDP", "TCP", "TLS"

// One resolved answer; immutable once published, shared by cursors that still use it.
struct Resolution : std::enable_shared_from_this<Resolution> {
    // The first target of a fresh cursor, precomputed when the answer is published, for
    // the common shape: the best (rank, priority) level is one record with at most
    // kTargets addresses. A call's lookup + first target then reads only this, which
    // sits next to the shared_ptr control block that cursor() touches anyway, instead of
    // chasing `groups` and `targets` (two more allocations, serialized cache misses
    // behind the reference count's locked instructions). count == 0: not available,
    // next_target() takes the general path.
    struct FirstPick {
        static constexpr std::size_t kTargets = 2;  // keeps it in the control block's lines
        std::uint16_t weight = 0;                   // RFC 2782 draws a number when non-zero
        std::uint8_t count = 0;                     // targets[0, count) of that record
        std::array<Target, kTargets> targets{};
    };
    FirstPick first_pick;  // first member: right after the control block and weak_this

    struct Group {               // one SRV record (or the bare name), its addresses
        std::uint32_t rank = 0;  // NAPTR order position / transport preference
        std::uint16_t priority = 0;
        std::uint16_t weight = 0;
        std::uint16_t first = 0;  // targets[first, first + count)
        std::uint16_t count = 0;
        std::string host;  // SRV target or the entry name
    };
    std::vector<Target> targets;  // grouped; groups sorted by (rank, priority)
    std::vector<Group> groups;
    std::vector<NaptrRecord> naptr;  // the records behind the targets
    std::vector<SrvRecord> srv;
    std::vector<AddressRecord> addresses;
    std::uint32_t dns_ttl = 0;  // smallest TTL on the chain, as received
    Duration ttl{};             // after override / clamps
    std::string ttl_source;     // "dns 300 s", "dns 0 s, clamped to ttl_min 10 s", "override 60 s"
    Instant resolved_at{};
};

enum class LookupState : std::uint8_t {
    Ready,    // fresh answer
    Stale,    // past its TTL, served within the grace period (resolver failing or refreshing)
    Pending,  // never resolved yet; a Resume for the waiter comes from poll()
    Failed,   // no address: fail fast (see `error`)
};
std::string_view lookup_state_name(LookupState s) noexcept;

// Per-request position in an entry's targets; next_target() marks what it hands out so a
// retry of the same request goes to the next one. Holds the Resolution alive.
struct TargetCursor {
    std::shared_ptr<const Resolution> resolution;
    std::uint32_t rotation = 0;  // round-robin start within each address set
    std::uint64_t tried = 0;     // bit i: targets[i] handed out
};

// The answer to lookup(). `resolution` (and what cursor() copies) stays valid until the next
// call to add, remove, resolve_now, on_answer, on_failure or handle_timeouts; a cursor made
// from it holds its Resolution alive for as long as the request needs it.
struct Lookup {
    LookupState state = LookupState::Failed;
    ErrorKind error = ErrorKind::None;
    const Resolution* resolution = nullptr;  // null unless Ready/Stale
    std::uint32_t rotation = 0;
    TargetCursor cursor() const {
        return {resolution != nullptr ? resolution->shared_from_this() : nullptr, rotation, 0};
    }
};

// Actions drained with poll().
struct SendQuery {  // ask the resolver; answer with on_answer/on_failure(id)
    QueryId id = 0;
    std::string name;
    RrType type = RrType::A;
};
struct Resume {  // the first resolution of `name` ended: look it up again
    std::uint64_t waiter = 0;
    std::string name;
    LookupState state = LookupState::Failed;
};
struct Resolved {  // a resolution of `name` (the entry key) ended (logs, persistence, trunkctl)
    std::string name;
    LookupState state = LookupState::Failed;
    ErrorKind error = ErrorKind::None;
    bool changed = false;  // the addresses in use changed
    // What the previous Resolved of this entry said (Pending / None for the first): a
    // change of either is a transition worth a log line (fresh -> stale -> failed -> ok).
    LookupState previous = LookupState::Pending;
    ErrorKind previous_error = ErrorKind::None;
};
using Action = std::variant<SendQuery, Resume, Resolved>;

enum class EntryState : std::uint8_t { Unresolved, Ok, Stale, Failed };
std::string_view entry_state_name(EntryState s) noexcept;

struct EntryStatus {
    EntrySpec spec;
    bool managed = false;  // operator entry (else learned on first use)
    EntryState state = EntryState::Unresolved;
    bool stale = false;
    bool resolving = false;
    std::vector<Target> targets;  // in use order (priority, weight, current rotation)
    std::shared_ptr<const Resolution> resolution;
    Duration ttl_left{};  // until the answer's TTL ends (0 when past)
    std::optional<Instant> expires_at;
    std::optional<Instant> next_refresh;    // when the next query goes out (if scheduled)
    std::optional<Instant> stale_until;     // end of the grace period while stale
    std::optional<Instant> negative_until;  // fail-fast end while Failed
    // Last change of the addresses in use: when, from what, to what and why.
    std::optional<Instant> changed_at;
    std::vector<std::string> changed_from;
    std::vector<std::string> changed_to;
    std::string change_reason;
    // Last error (kept after recovery, with its time).
    ErrorKind last_error = ErrorKind::None;
    std::optional<Instant> last_error_at;
    std::string last_error_detail;  // "SRV _sip._udp.carrier.com: timeout"
    std::optional<Instant> last_resolved_at;
    // Since when every resolution has failed (reset by the next answer with addresses);
    // with a stale answer in use this is how long the resolver has been failing.
    std::optional<Instant> failing_since;
    std::string key;  // entry_key(spec)
};

// One request target from pick(): the entry's state and its first target in RFC 3263 order.
struct Pick {
    std::string key;                          // the entry's key (entry_key(spec))
    LookupState state = LookupState::Failed;  // Ready, Stale (served past its TTL), ...
    ErrorKind error = ErrorKind::None;        // Stale / Failed: the resolver's last error
    std::optional<Target> target;             // set when Ready or Stale
    std::optional<Instant> failing_since;     // see EntryStatus
    std::optional<Instant> stale_until;       // Stale: the answer is dropped then
    std::string detail;                       // last error detail ("A carrier.test: NXDOMAIN")
};

class DomainCache;

// Multi-line text answering "what address is this gateway using, since when, and why".
// `when` renders an Instant (e.g. as wall-clock time); by default "T-12.5s" relative to now.
std::string format_status(const EntryStatus& s, Instant now,
                          const std::function<std::string(Instant)>& when = {});

// One log line for a Resolved action that changed something an operator must see: the
// entry went stale (the resolver fails and the last answer is served, until when), failed
// (no address), recovered, or its addresses changed. nullopt: nothing new (a refresh that
// returned the same answer, a retry that failed the same way).
std::optional<std::string> transition_text(const Resolved& r, const DomainCache& cache,
                                           Instant now);

class DomainCache {
  public:
    DomainCache(CacheConfig config, sip::Random& rng);
    ~DomainCache();
    DomainCache(const DomainCache&) = delete;
    DomainCache& operator=(const DomainCache&) = delete;

    // Operator entries. add() validates the name (false if not a hostname or IP literal),
    // replaces the spec of an existing entry and starts a resolution when the spec changed
    // or the entry is new.
    bool add(const EntrySpec& spec, Instant now);
    // A consumer's target (a carrier registrar, a vendor gateway): adds `spec` as an
    // operator entry on first use (kept and refreshed until remove(p.key)), looks it up
    // (`waiter` as for lookup) and takes the first target. Pending: wait for Resume{waiter}.
    Pick pick(const EntrySpec& spec, Instant now, std::uint64_t waiter = 0);
    bool remove(std::string_view name);
    // Re-queries at once regardless of TTL (abandons a resolution in progress).
    bool resolve_now(std::string_view name, Instant now);

    // Hot path: no allocation when the entry is cached. `waiter` (non-zero) is resumed when
    // a Pending lookup's resolution ends; an unknown name becomes a learned entry.
    Lookup lookup(std::string_view name, Instant now, std::uint64_t waiter = 0);
    // Next target for a request, RFC 3263 / RFC 2782 order: lowest (rank, priority) first,
    // weighted random choice among the SRV records of that priority, round robin within an
    // address set; blacklisted targets only once nothing else is left.
    std::optional<Target> next_target(TargetCursor& c, Instant now);
    // A target failed (timeout, 503, connection refused): avoid it for blacklist_duration.
    void report_failure(const Target& t, Instant now);
    bool blacklisted(const Target& t, Instant now) const;

    // Resolver input.
    void on_answer(QueryId id, std::span<const std::uint8_t> answer, Instant now);
    void on_failure(QueryId id, QueryFailure why, Instant now);

    std::optional<Action> poll();
    // nullopt also while max_inflight_queries queries wait unsent (they drain as answers
    // come in; the adapter re-reads the deadline after every input).
    std::optional<Instant> next_deadline() const;
    void handle_timeouts(Instant now);

    std::optional<EntryStatus> status(std::string_view name, Instant now) const;
    std::vector<std::string> names() const;  // the entry keys, sorted
    std::size_t size() const;
    std::size_t inflight_queries() const { return inflight_; }
    const CacheConfig& config() const { return config_; }

    struct Entry;  // private; named here for the implementation's helpers
    struct Job;

  private:
    struct QueryRef;
    // Open addressing, linear probing, backward-shift deletion over 8-byte slots; a hit then
    // reads one 128-byte Hot record (hash, answer, expiry, rotation, head of the name) from a
    // dense array, so a cached lookup touches two small, contiguous tables.
    struct Slot {
        std::uint32_t tag = 0;           // high half of the name's hash
        std::uint32_t hot = UINT32_MAX;  // index into hot_; UINT32_MAX: empty
    };
    struct Hot;  // the fields a cached lookup reads, dense

    std::uint32_t find_hot(std::string_view name, std::uint64_t hash) const;
    Entry* find(std::string_view name) const;
    void index_insert(Entry* e, std::uint64_t hash);
    void index_erase(Entry* e);
    void sync_hot(Entry& e);
    Lookup lookup_slow(Entry* e, std::string_view name, Instant now, std::uint64_t waiter);
    Entry* create(const EntrySpec& spec, bool managed, Instant now);
    void start(Entry& e, Instant now);
    void send(Entry& e, std::string name, RrType type, std::uint32_t index);
    void schedule(Entry& e, std::optional<Instant> at);
    void rearm(Entry& e);
    void unschedule(Entry& e);
    void expire_grace(Entry& e, Instant now);
    void query_done(Entry& e, const QueryRef& q, const DnsAnswer* a, ErrorKind fail,
                    std::string detail, Instant now);
    void advance(Entry& e, Instant now);
    void finish(Entry& e, Instant now);
    void resume_waiters(Entry& e, LookupState st);
    void report(Entry& e, LookupState st, ErrorKind error, bool changed);
    void drop_good(Entry& e, Instant now, std::string reason);
    LookupState serve_state(const Entry& e, Instant now) const;

    CacheConfig config_;
    sip::Random& rng_;
    std::vector<Slot> slots_;  // size a power of two, at most half full
    std::vector<Hot> hot_;     // one per entry; hot_[i].entry owns the entry
    std::set<std::pair<Instant, Entry*>> timers_;
    std::unordered_map<QueryId, QueryRef> queries_;
    std::deque<SendQuery> outbox_;
    std::deque<Action> events_;
    std::size_t inflight_ = 0;
    QueryId next_query_ = 1;
    struct Blacklisted {
        Target target;
        Instant until;
    };
    std::vector<Blacklisted> blacklist_;
    // Bare name -> entries of that name whose key is longer (latest last): find(name).
    std::unordered_map<std::string, std::vector<Entry*>> by_name_;
};

}  // namespace route::domain

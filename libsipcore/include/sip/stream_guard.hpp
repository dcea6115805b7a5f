// sip::StreamGuard — which stream (TCP/TLS) connections a server accepts, whose connection
// gives way when it is full, and one log line per episode of refusals. Pure (DESIGN.md §1):
// the adapter names the source and passes the time; tests run minutes of attack on fake time.
//
//   sip::StreamGuard guard({.max_connections = 4096, .max_per_source = 64, .new_per_second = 20});
//   // on accept, before any TLS byte: `open` = every stream connection now open (in + out)
//   sip::StreamGuard::Decision d = guard.admit(source, now, open);
//   if (d.verdict == sip::StreamGuard::Verdict::evict) close_idlest_of(d.victim);  // then accept
//   else if (d.verdict != sip::StreamGuard::Verdict::accept) refuse();             // close at once
//   guard.closed(source);                     // once for every admitted connection that ends
//   guard.deadline_closed(source, now);       // closed: a message not finished in time
//   while (auto line = guard.poll_report(now)) log(*line);
//   guard.sweep(now);                         // now and then: forget sources with nothing open
//
// Rules, in order (Kamailio tcp_accept_iplimit and pike, nginx limit_conn and limit_req):
// 1. A source holding its limit of open connections (`max_per_source`, or its override) is
//    refused (Verdict::per_source).
// 2. A source opening more than `new_per_second` a second (bursts up to the same number; the
//    GCRA, i.e. a token bucket kept as one instant) is refused (Verdict::rate). Only accepted
//    connections use the budget, so a refused peer retrying does not lock itself out longer.
// 3. When `max_connections` are open, the source using the largest share of its own limit
//    gives way when it holds more than the newcomer would (Verdict::evict, `victim` names it;
//    the adapter closes that source's idlest connection); otherwise Verdict::full. So one
//    source, or a few, can never keep everyone else out, and sources with an override (a
//    known gateway) weigh by their own, larger limit. A limit of 0 means unlimited (such a
//    source is never chosen to give way).
//
// A source is an IPv4 address or an IPv6 /64 (the adapter forms the key; one host usually
// owns a whole /64). Memory: one entry per source with connections open or a rate budget not
// yet refilled (sweep() drops the others).
//
// Reports: the first refusal, eviction or deadline close of an episode gives one line naming
// it; while refusals go on, one summary line every `report_every`; `quiet` after the last
// one, a closing summary (counts by reason, the source refused most). Never one line per
// connection.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sip/time.hpp"

namespace sip {

// Per-source limits for one source (a known gateway); 0 = unlimited.
struct SourceLimit {
    std::string source{};  // the key: "192.0.2.7", "2001:db8:1:2::/64"
    std::uint32_t max_connections = 0;
    std::uint32_t new_per_second = 0;
};

struct StreamGuardConfig {
    std::uint32_t max_connections = 4096;  // every stream connection, inbound and outbound
    std::uint32_t max_per_source = 64;     // open inbound connections per source; 0 = no limit
    std::uint32_t new_per_second = 20;     // new inbound connections per source; 0 = no limit
    std::vector<SourceLimit> overrides{};
    Duration quiet = std::chrono::seconds(10);  // an episode ends this long after its last event
    Duration report_every = std::chrono::seconds(60);  // summary while an episode goes on
};

// Monotonic counters.
struct StreamGuardCounters {
    std::uint64_t accepted = 0;
    std::uint64_t refused_per_source = 0;  // rule 1
    std::uint64_t refused_rate = 0;        // rule 2
    std::uint64_t refused_full = 0;        // rule 3, nobody to give way
    std::uint64_t evicted = 0;             // rule 3, an idle connection closed for a newcomer
    std::uint64_t deadline_closed = 0;     // deadline_closed() reports
};

class StreamGuard {
  public:
    enum class Verdict : std::uint8_t { accept, evict, per_source, rate, full };
    struct Decision {
        Verdict verdict = Verdict::accept;
        std::string victim{};  // Verdict::evict: the source whose idlest connection closes
    };

    explicit StreamGuard(StreamGuardConfig cfg = {});

    // An inbound connection from `source`; `open` = stream connections open now (in + out).
    // accept and evict count it as open for `source` (call closed() when it ends); on evict
    // the adapter must close one admitted connection of `victim` (and call closed(victim)).
    Decision admit(std::string_view source, Instant now, std::size_t open);
    // The cap is reached and the adapter needs a connection of its own (outbound): the source
    // to take an idle connection from, if one holds at least two.
    std::optional<std::string> victim_for_outbound(Instant now);
    // An admitted connection from `source` ended (every cause, evictions included).
    void closed(std::string_view source);
    // A connection was closed because a message was not complete within the deadline.
    void deadline_closed(std::string_view source, Instant now);

    std::optional<std::string> poll_report(Instant now);
    // Forgets sources with nothing open whose rate budget has refilled.
    void sweep(Instant now);

    std::uint32_t open_from(std::string_view source) const;
    std::size_t sources() const noexcept { return entries_.size(); }
    const StreamGuardCounters& counters() const noexcept { return counters_; }
    const StreamGuardConfig& config() const noexcept { return cfg_; }
    static std::string_view verdict_name(Verdict v) noexcept;

  private:
    struct Entry {
        std::uint32_t open = 0;
        std::uint32_t max = 0;  // the source's limits (config or override)
        std::uint32_t rate = 0;
        Instant tat{};  // GCRA theoretical arrival time
        std::uint64_t episode_refused = 0;
        const std::string* key = nullptr;
    };
    // Orders entries by open/max (their share of their own limit), the key breaking ties.
    struct ByShare {
        bool operator()(const Entry* a, const Entry* b) const noexcept;
    };

    Entry& entry(std::string_view source, Instant now);
    void set_open(Entry& e, std::uint32_t open);
    bool rate_ok(Entry& e, Instant now) const;
    void note(Entry* refused, Instant now, std::string first_line);
    std::string summary(std::string_view head) const;

    StreamGuardConfig cfg_;
    std::unordered_map<std::string, Entry> entries_;  // node-based: Entry* and keys stay put
    std::unordered_map<std::string, SourceLimit> overrides_;
    std::set<Entry*, ByShare> by_share_;  // entries with open > 0 and a limit
    StreamGuardCounters counters_;

    // the current episode of refusals / evictions / deadline closes
    bool active_ = false;
    Instant started_{}, last_event_{}, last_report_{};
    StreamGuardCounters at_start_{};  // counters when the episode began
    std::string worst_;               // the source refused most in this episode
    std::uint64_t worst_count_ = 0;
    std::vector<std::string> reports_;
};

}  // namespace sip

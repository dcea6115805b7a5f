// route::reg::AuthGuard — brute-force protection for digest authentication, pure (no clock, no
// I/O): failure counters, suspensions and trusted addresses, all bounded.
//
//   route::reg::AuthGuard guard({.retry = 6, .suspend = 180s});
//   if (guard.refused(user, source_ip, now)) return answer_403();   // before verifying
//   if (wrong_password) {
//       for (const Suspension& s : guard.failed(user, source_ip, now)) persist_and_log(s);
//   } else {
//       guard.succeeded(user, source_ip, now);                       // trusts this address
//   }
//   if (auto t = guard.next_deadline()) timer.arm(*t);
//   for (const Suspension& s : guard.expire(now)) log_end(s);
//   guard.list(now);  guard.lift("alice");  guard.lift("192.0.2.7");   // operators
//
// Rules (VOS3000 SS_ENDPOINT_REGISTER_RETRY / _SUSPEND; issue 16):
// - `retry` wrong passwords within `failure_window` suspend for `suspend`. Counting is per
//   (user, address) and per address; with Scope::User also per user across addresses.
// - What is refused: a suspended (user, address) pair; a suspended address, except for a user
//   who authenticated from it within `trust_window` (one guesser behind a shared NAT does not
//   lock out the others there); with Scope::User a suspended user, except from the addresses
//   where it authenticated within `trust_window`. So a guesser elsewhere can never lock the
//   real user out of its usual address.
// - The counter tables are heavy-hitter tables (space-saving, without its overestimate): when
//   a table is full, a new key replaces the entry with the fewest failures, and among those
//   the one admitted last. A flood of new keys therefore only churns one low slot: the
//   offenders with more failures stay tracked until they are suspended. Bound: with capacity
//   C, the first C distinct offenders of a round-robin flood are suspended after `retry`
//   tries each; the others after at most 2 × `retry` (they take over slots freed as the first
//   ones are suspended). No count is ever inherited, so an innocent key is never suspended by
//   another's failures.
// - Suspensions are their own table (max_suspensions; when full the one ending first is
//   dropped and counted). Start, lookup, lift by key and expiry are O(log n); nothing is
//   copied per event, and persistence is the caller's (off the loop: wiring::RegStore).
// - Trust is one entry per (user, address) that authenticated, so one per registered device
//   (issue 13 counts it in the memory per binding): the key is stored once, in the LRU list
//   node; the hash index holds list iterators and is searched by string_view.
//
// Lifetimes: values only. Not thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sip/time.hpp"

namespace route::reg {

enum class SuspendScope : std::uint8_t {
    Address,  // per (user, address) and per address (default)
    User,     // also per user, from any address except the user's trusted ones
};

struct AuthGuardConfig {
    std::uint32_t retry = 6;                   // 0: never suspend
    std::chrono::seconds suspend{180};
    std::chrono::seconds failure_window{180};  // a counter with no failure this long is forgotten
    std::chrono::seconds trust_window{86'400}; // 0: trust nobody
    SuspendScope scope = SuspendScope::Address;
    std::size_t max_counters = 50'000;         // per table (pairs, addresses, users)
    std::size_t max_suspensions = 100'000;
    std::size_t max_trusted = 100'000;         // (user, address) pairs
};

struct Suspension {
    enum class Kind : std::uint8_t { User = 0, Address = 1, UserAtAddress = 2 };
    Kind kind = Kind::User;
    std::string key;  // the user name, or for Kind::Address the address
    sip::Instant until{};
    // User: the address of the failure that started it; Address: that failure's user name;
    // UserAtAddress: the address (the pair is key at peer).
    std::string peer;
    bool ip() const noexcept { return kind == Kind::Address; }
    friend bool operator==(const Suspension&, const Suspension&) = default;
};

struct AuthGuardStats {
    std::uint64_t failures = 0, suspensions = 0;
    std::uint64_t evicted_counters = 0;     // a full table took a slot from a low counter
    std::uint64_t dropped_suspensions = 0;  // the suspension table was full
};

class AuthGuard {
  public:
    explicit AuthGuard(AuthGuardConfig cfg);

    // Before verifying: true when `user` (empty: not known yet) from `address` is refused.
    bool refused(std::string_view user, std::string_view address, sip::Instant now) const;
    // A wrong password: counts it and returns the suspensions it started (0 to 3).
    std::vector<Suspension> failed(std::string_view user, std::string_view address,
                                   sip::Instant now);
    // A right password: trusts (user, address) for trust_window and clears their counters.
    void succeeded(std::string_view user, std::string_view address, sip::Instant now);

    std::optional<sip::Instant> next_deadline() const;
    // Forgets old counters and trust; returns the suspensions that ended.
    std::vector<Suspension> expire(sip::Instant now);

    std::vector<Suspension> list(sip::Instant now) const;
    // Lifts every suspension naming `key` (as user, address, or the address of a pair) and
    // clears the matching counters; returns what was lifted.
    std::vector<Suspension> lift(std::string_view key);
    // Restores a suspension saved before a restart.
    void restore(const Suspension& s, sip::Instant now);

    bool trusted(std::string_view user, std::string_view address, sip::Instant now) const;
    std::size_t tracked_counters() const noexcept;
    std::size_t suspension_count() const noexcept { return suspensions_.size(); }
    const AuthGuardStats& stats() const noexcept { return stats_; }
    const AuthGuardConfig& config() const noexcept { return cfg_; }
    // A configuration reload: retry, suspend, failure_window and trust_window apply to the
    // next failure or check; running suspensions keep the end they were given. The scope and
    // the table sizes stay as constructed (they shape the tables' keys and memory).
    void set_limits(const AuthGuardConfig& c) noexcept {
        cfg_.retry = c.retry;
        cfg_.suspend = c.suspend;
        cfg_.failure_window = c.failure_window;
        cfg_.trust_window = c.trust_window;
    }

  private:
    // One heavy-hitter table of failure counters.
    struct Counters {
        struct Entry {
            std::uint32_t failures = 0;
            std::uint64_t admitted = 0;  // admission order: among equals the newest goes
            sip::Instant forget_at{};
        };
        std::unordered_map<std::string, Entry> entries;
        // Both orders end in the entry's key as stored in `entries` (a node's key does not
        // move): one copy of each key. `admitted` is unique, so the pointer is never compared.
        std::set<std::tuple<std::uint32_t, std::uint64_t, const std::string*>> by_weight;  // ~admitted
        std::set<std::tuple<sip::Instant, std::uint64_t, const std::string*>> by_deadline;
        void erase(std::unordered_map<std::string, Entry>::iterator it);
    };
    using SuspensionId = std::tuple<Suspension::Kind, std::string, std::string>;  // kind key peer'
    struct Held {
        sip::Instant until{};
        std::string peer;
    };

    // Counts one failure of `key`; true when it reaches `retry`.
    bool count(Counters& t, const std::string& key, sip::Instant now);
    void clear(Counters& t, const std::string& key);
    void start(Suspension s, std::vector<Suspension>& out);
    bool held(Suspension::Kind kind, std::string_view key, std::string_view pair_address,
              sip::Instant now) const;
    void drop(std::map<SuspensionId, Held>::iterator it);
    static std::string pair_key(std::string_view user, std::string_view address);

    AuthGuardConfig cfg_;
    Counters pairs_, addresses_, users_;
    std::uint64_t admissions_ = 0;
    std::map<SuspensionId, Held> suspensions_;
    std::set<std::pair<sip::Instant, SuspensionId>> suspension_ends_;
    std::multimap<std::string, std::string, std::less<>> pairs_by_address_;  // address -> user
    // Trust: (user, address) -> until, least recently confirmed first.
    struct Trust {
        std::string key;  // pair_key(user, address)
        sip::Instant until{};
    };
    using TrustList = std::list<Trust>;
    struct TrustHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view k) const noexcept;
        std::size_t operator()(TrustList::iterator t) const noexcept { return (*this)(t->key); }
    };
    struct TrustEq {
        using is_transparent = void;
        static std::string_view key(std::string_view k) noexcept { return k; }
        static std::string_view key(TrustList::iterator t) noexcept { return t->key; }
        bool operator()(const auto& a, const auto& b) const noexcept { return key(a) == key(b); }
    };
    TrustList trust_lru_;
    std::unordered_set<TrustList::iterator, TrustHash, TrustEq> trust_;
    AuthGuardStats stats_;
};

}  // namespace route::reg

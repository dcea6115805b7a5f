// route::reg::Location — the in-memory location service: AOR -> bindings, exact expiry.
//
//   route::reg::Location loc;                                  // pure: no clock, no I/O
//   loc.upsert("sip:alice@example.com", binding);              // the registrar does this
//   for (const Binding& b : loc.lookup("sip:alice@example.com", now)) fork_to(b);  // by q
//   loc.set_down("sip:alice@example.com", contact, true);     // Keepalive: OPTIONS unanswered
//   if (auto d = loc.next_deadline()) timer.arm(*d);           // then loc.handle_timeouts(now)
//   while (auto ev = loc.poll()) log(*ev);                     // LocationEvent::Kind::Expired
//   auto snap = loc.snapshot(now);  /* persist */  loc.restore(snap, later_now);
//
// Expiry is exact (issue 6 §4): a binding whose expires_at is t is returned by lookup() at
// t - 1ns and not at t, whether or not handle_timeouts(t) has run yet; handle_timeouts(now)
// removes every binding with expires_at <= now and queues one Expired event for each.
//
// Reachability: a binding is up or down (Binding::down). route::reg::Keepalive marks a
// contact down when it stops answering OPTIONS and up again when it answers; an upsert of an
// existing binding (a re-REGISTER: it proves the device is there) makes it up. lookup()
// returns the up bindings first and the down ones after them, each group ordered by q, so
// routing may still try a down contact, last. A new binding keeps the `down` it was given
// (restore() of a snapshot keeps the state; the registrar always adds it up).
//
// Keys are canonical AOR strings (Registrar::canonical_aor); bindings of one AOR are matched
// by a comparison key of their contact URI (RFC 3261 §19.1.4, simplified: scheme and host
// case-insensitive, user and port exact, transport parameter compared).
//
// Snapshots carry the *remaining* lifetime of each binding rather than an Instant, because a
// sip::Instant is only meaningful on the monotonic time base of one process: an adapter
// stores wall-clock expiry (its wall time + remaining) and restores with remaining =
// stored expiry - wall time at start-up. snapshot() lists the AORs in byte order, each
// AOR's bindings in the order they were first added. Lifetimes: returned vectors are
// copies; events are owned. Not thread-safe (one Location per loop, DESIGN.md §8).
//
// Memory (issue 13: the bytes per stored binding are what a registrar costs): each binding
// is one heap block, a fixed header (expiry, CSeq, q, reg-id, source port/transport/conn,
// flags, the AOR chain link and its expiry-heap position) followed by its strings packed
// end to end (AOR, contact, contact key only when it differs from the contact, Call-ID,
// instance, source host, TLS name, Path values). An AOR is no allocation of its own: an
// open-addressing table points at its first binding, whose block holds the AOR text, and
// the AOR's bindings are chained in insertion order. Expiry is a binary heap of block
// pointers ordered by (expires_at, AOR, contact key), the order the events come out in.
// ~200 B per binding for a typical UDP registration, table and heap included (was ~750 B;
// bench/reg_memory_bench.cpp measures it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/time.hpp"
#include "sip/transport.hpp"

namespace route::reg {

struct Binding {
    std::string contact;             // the Contact URI text, without <> and header params
    std::optional<std::uint16_t> q;  // thousandths (q=0.5 -> 500); absent: ranks as 1.0
    sip::Instant expires_at{};       // gone at this instant
    std::string call_id;             // RFC 3261 §10.3 step 7 ordering
    std::uint32_t cseq = 0;
    std::vector<std::string> path;        // RFC 3327 Path values, in request order
    sip::Target source;                   // where the REGISTER came from (NAT: route back here)
    std::string instance;                 // +sip.instance (RFC 5626 §4.1), empty if absent
    std::optional<std::uint32_t> reg_id;  // reg-id (RFC 5626 §4.2)
    bool down = false;                    // stopped answering keep-alive OPTIONS (set_down)
    // The REGISTER's top Via sent-by was not its source (the received/rport of RFC 3581
    // differed): a NAT in between. Set by the Registrar; not persisted (a restored binding
    // has it false until its next REGISTER; the Contact comparison still applies).
    bool via_nat = false;
    // Which transaction stored it: sip::Fnv1a of the REGISTER's top Via branch and sent-by
    // (RFC 3261 §17.2.3), so that a repeat with the same Call-ID and CSeq is recognised as
    // that request's retransmission (Registrar::handle). Not persisted: 0 after a restart.
    std::uint32_t txn_hash = 0;

    std::uint16_t q_or_default() const noexcept { return q.value_or(1000); }
};

struct LocationEvent {
    enum class Kind : std::uint8_t { Expired };
    Kind kind = Kind::Expired;
    std::string aor;
    Binding binding;
};

struct LocationConfig {
    std::size_t max_bindings_per_aor = 16;  // upsert() of one more is refused
};

// A plain copy of the store for persistence (see the header comment for why `remaining`).
struct SnapshotBinding {
    std::string aor;
    Binding binding;            // binding.expires_at is ignored by restore()
    sip::Duration remaining{};  // > 0
};
using Snapshot = std::vector<SnapshotBinding>;

class Location {
  public:
    explicit Location(LocationConfig config = {}) : config_(config) {}
    ~Location();
    Location(Location&& o) noexcept;
    Location& operator=(Location&& o) noexcept;
    Location(const Location&) = delete;  // owns raw blocks; snapshot()/restore() copy
    Location& operator=(const Location&) = delete;

    // Live bindings of `aor` at `now`: up ones before down ones; within each, highest q
    // first; equal q: latest expiry first.
    std::vector<Binding> lookup(std::string_view aor, sip::Instant now) const;
    // The binding of `aor` whose contact matches `contact` (contact_key), live at `now`.
    std::optional<Binding> find(std::string_view aor, std::string_view contact,
                                sip::Instant now) const;

    // Adds or replaces the binding with the same contact key. False (nothing changed) when
    // it would be a new binding beyond max_bindings_per_aor. Replacing makes it up
    // (down = false whatever `b.down` says); a new binding keeps `b.down`.
    bool upsert(std::string_view aor, Binding b);
    // Marks the binding of `aor` matching `contact` (contact_key) down or up, whether or not
    // it is still live. False when there is no such binding.
    bool set_down(std::string_view aor, std::string_view contact, bool down);
    // Removes one binding; false if there was none.
    bool remove(std::string_view aor, std::string_view contact);
    std::size_t remove_all(std::string_view aor);

    std::optional<sip::Instant> next_deadline() const;
    void handle_timeouts(sip::Instant now);
    std::optional<LocationEvent> poll();

    Snapshot snapshot(sip::Instant now) const;  // live bindings only
    // Replaces the whole content: expires_at = now + remaining; remaining <= 0 is skipped.
    void restore(const Snapshot& snap, sip::Instant now);

    const LocationConfig& config() const noexcept { return config_; }
    std::size_t aor_count() const noexcept { return aors_; }
    std::size_t binding_count() const noexcept { return heap_.size(); }

    // The comparison key of a contact URI (RFC 3261 §19.1.4, simplified as stated above).
    static std::string contact_key(std::string_view uri);

  private:
    struct Rec;  // one binding's block (location.cpp)

    std::size_t slot_of(std::string_view aor) const;  // its table slot, or the free one
    Rec* first(std::string_view aor) const;           // the AOR's first binding, or nullptr
    Rec* match(std::string_view aor, std::string_view key) const;  // by contact key
    void reserve_aor();  // room for one more AOR in the table (grows it: may throw)
    void erase_slot(std::size_t i);
    void heap_push(Rec* r);
    void heap_erase(Rec* r);
    void heap_place(Rec* r, std::size_t i);
    void heap_fix(std::size_t i);
    bool heap_less(const Rec* a, const Rec* b) const;
    void unlink(Rec* r);  // from its chain, its AOR slot if last, and the heap
    void clear();

    LocationConfig config_;
    std::vector<Rec*> table_;  // open addressing by AOR, linear probing; nullptr: free
    std::size_t aors_ = 0;
    std::vector<Rec*> heap_;  // every binding, min-heap on expiry
    std::deque<LocationEvent> events_;
};

}  // namespace route::reg

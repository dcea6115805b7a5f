// sw::BindingWrites — which registrar binding changes the write-behind persists. A refresh
// that only moves the expiry a little (a phone re-registering every minute, a REGISTER
// flood) is not written each time: the binding's row keeps an earlier expiry, never
// earlier than a quarter of its lifetime before the true one (issue 13 goal 3: binding
// persistence off the hot path).
//
//   sw::BindingWrites writes;
//   if (writes.should_write(aor, binding, now)) store.push_back(BindingSaved{aor, binding});
//   writes.forget(aor, binding.contact);             // removed, replaced, expired
//   writes.lagging(aor, binding)                     // at shutdown: true = write it now
//   writes.record(aor, binding);                     // ... and it is written
//
// The rule, per binding (AOR and contact text): write when it is new; when anything a restart
// needs changed (contact, q, Path, source, +sip.instance, reg-id, down); when the expiry moves
// earlier; or when it moves later by more than a quarter of the lifetime left then
// (new expiry - now). Why a quarter is safe after a crash: a UA refreshing more often than
// every quarter lifetime finds its row still valid for at least half a lifetime, so the
// restored binding outlives the gap to its next refresh. Call-ID and CSeq alone do not count
// (a restored binding accepts the UA's next REGISTER either way).
//
// Records are keyed by a 64-bit hash of AOR and contact (~50 B each, no strings); a hash
// collision would at worst skip one write. Not thread-safe: the loop's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "route/reg/location.hpp"
#include "sip/time.hpp"

namespace sw {

class BindingWrites {
  public:
    bool should_write(std::string_view aor, const route::reg::Binding& b, sip::Instant now);
    // The row now holds `b` (restored from it, or written regardless of the rule).
    void record(std::string_view aor, const route::reg::Binding& b);
    void forget(std::string_view aor, std::string_view contact);
    // Drops the records of bindings not in `live` (Location::snapshot; its expiries unused).
    void retain(const route::reg::Snapshot& live);
    // The row holds an older expiry than `b` (a coalesced refresh): write it at shutdown.
    bool lagging(std::string_view aor, const route::reg::Binding& b) const;
    void clear() { rows_.clear(); }

    std::size_t size() const noexcept { return rows_.size(); }
    std::uint64_t written() const noexcept { return written_; }
    std::uint64_t coalesced() const noexcept { return coalesced_; }

  private:
    struct Row {
        sip::Instant expires_at;   // what the row says
        std::uint64_t fingerprint;  // of the fields a restart needs
    };
    static std::uint64_t key(std::string_view aor, std::string_view contact);
    static std::uint64_t fingerprint(const route::reg::Binding& b);

    std::unordered_map<std::uint64_t, Row> rows_;
    std::uint64_t written_ = 0;
    std::uint64_t coalesced_ = 0;
};

}  // namespace sw

// sw::CallHistory — the switch's last hour of calls, one minute at a time: what the Live
// page charts (GET /api/stats/history: CPS, ASR, ACD, concurrent calls). Per minute: the
// calls started (customer identified: CPS), the calls ended and of those the answered ones
// (ASR), their talk time (ACD), and the peak and last number of concurrent calls. Fed by
// sw::Calls (one line at each hook); pure and bounded: a ring of 60 buckets, nothing
// allocated, O(1) per event (a jump of an hour or more rewrites at most the 60 buckets once).
//
//   sw::CallHistory h(cfg.unix_offset_ms);    // minutes on the wall clock's :00 (below)
//   h.on_started(now);                        // a customer's call is taken on
//   h.on_concurrent(now, calls.size());       // after a call is added or removed
//   h.on_ended(now, record);                  // its CDR: answered or not, talk time
//   for (const sw::HistoryMinute& m : h.last_hour(now))   // 60, oldest first, now's last
//       chart(m.start_ms, m.cps(), m.asr(), m.acd_s(), m.peak_concurrent);
//
// Which clock: buckets are keyed by the minute of sip::Instant (the loop's monotonic clock)
// shifted by the fixed offset the switch took at start-up (CallsConfig::unix_offset_ms, the
// mapping its CDR times use). Monotonic, because it never steps: the ring only ever moves
// forward, so an NTP correction or an operator's `date` can neither fold two minutes into one
// bucket nor bring an hour-old bucket back as current. The fixed offset only puts the minute
// boundaries on the wall clock's whole minutes, so a bucket's start_ms is a round minute on
// the clock its CDRs show.
//
// A minute without events reads as zero calls (a bucket is cleared as the ring reaches it,
// and a read skips any bucket not of the minute asked for), never as the data of an hour
// before; its concurrent count is the one that held through it (the last one reported).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "billing/cdr.hpp"
#include "sip/time.hpp"

namespace sw {

struct HistoryMinute {
    std::int64_t start_ms = 0;          // the minute's first millisecond (Unix ms, CDR clock)
    std::uint64_t started = 0;          // calls taken on (a customer identified)
    std::uint64_t ended = 0;            // calls ended (one per CDR)
    std::uint64_t answered = 0;         // of them, answered
    std::uint64_t talk_ms = 0;          // their talk time (answer to end)
    std::uint64_t peak_concurrent = 0;  // the most calls in progress at once in the minute
    std::uint64_t last_concurrent = 0;  // the calls in progress at its end (or now)

    double cps() const noexcept;                 // started / 60
    std::optional<double> asr() const noexcept;  // answered / ended; nullopt: none ended
    std::optional<double> acd_s() const noexcept;  // talk seconds / answered; nullopt: none
};

class CallHistory {
  public:
    static constexpr std::size_t kMinutes = 60;
    static constexpr std::int64_t kMinuteMs = 60'000;

    // `unix_offset_ms`: Unix ms at Instant{} (CallsConfig::unix_offset_ms).
    explicit CallHistory(std::int64_t unix_offset_ms = 0) noexcept;

    void on_started(sip::Instant now) noexcept;
    void on_ended(sip::Instant now, const billing::CallRecord& r) noexcept;
    void on_concurrent(sip::Instant now, std::size_t calls) noexcept;

    // The hour up to now: kMinutes minutes, oldest first, the last the one `now` is in.
    std::array<HistoryMinute, kMinutes> last_hour(sip::Instant now) const noexcept;

  private:
    struct Slot {
        std::optional<std::int64_t> minute;  // which minute the bucket holds; none: never used
        HistoryMinute m;
    };
    std::int64_t minute_of(sip::Instant t) const noexcept;
    static std::size_t index(std::int64_t minute) noexcept;
    HistoryMinute fresh(std::int64_t minute) const noexcept;
    HistoryMinute& at(sip::Instant now) noexcept;  // now's bucket, the ring moved up to it

    std::int64_t offset_ms_;
    std::array<Slot, kMinutes> ring_{};
    std::optional<std::int64_t> latest_;  // the newest minute written
    std::uint64_t concurrent_ = 0;        // the last count reported
};

}  // namespace sw

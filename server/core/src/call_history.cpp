#include "sw/call_history.hpp"

#include <algorithm>

namespace sw {

double HistoryMinute::cps() const noexcept {
    return static_cast<double>(started) / 60.0;
}

std::optional<double> HistoryMinute::asr() const noexcept {
    if (ended == 0) return std::nullopt;
    return static_cast<double>(answered) / static_cast<double>(ended);
}

std::optional<double> HistoryMinute::acd_s() const noexcept {
    if (answered == 0) return std::nullopt;
    return static_cast<double>(talk_ms) / 1000.0 / static_cast<double>(answered);
}

CallHistory::CallHistory(std::int64_t unix_offset_ms) noexcept : offset_ms_(unix_offset_ms) {}

std::int64_t CallHistory::minute_of(sip::Instant t) const noexcept {
    const std::int64_t ms =
        offset_ms_ + std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    // floor, not truncation: the same bucket width on both sides of 0
    return ms >= 0 ? ms / kMinuteMs : -((-ms + kMinuteMs - 1) / kMinuteMs);
}

std::size_t CallHistory::index(std::int64_t minute) noexcept {
    const std::int64_t n = static_cast<std::int64_t>(kMinutes);
    return static_cast<std::size_t>(((minute % n) + n) % n);
}

HistoryMinute CallHistory::fresh(std::int64_t minute) const noexcept {
    HistoryMinute m;
    m.start_ms = minute * kMinuteMs;
    // no event yet in it: the count that held when it began holds through it so far
    m.peak_concurrent = m.last_concurrent = concurrent_;
    return m;
}

HistoryMinute& CallHistory::at(sip::Instant now) noexcept {
    std::int64_t minute = minute_of(now);
    if (latest_ && minute < *latest_) minute = *latest_;  // never on a monotonic clock
    if (!latest_ || minute > *latest_) {
        // the minutes since the newest written had no event: each starts empty (an hour or
        // more later, every bucket is rewritten, once)
        const std::int64_t n = static_cast<std::int64_t>(kMinutes);
        const std::int64_t from = latest_ ? std::max(*latest_ + 1, minute - n + 1) : minute;
        for (std::int64_t k = from; k <= minute; ++k) ring_[index(k)] = Slot{k, fresh(k)};
        latest_ = minute;
    }
    return ring_[index(minute)].m;
}

void CallHistory::on_started(sip::Instant now) noexcept {
    ++at(now).started;
}

void CallHistory::on_ended(sip::Instant now, const billing::CallRecord& r) noexcept {
    HistoryMinute& m = at(now);
    ++m.ended;
    if (!r.answer_ms) return;
    ++m.answered;
    if (r.end_ms > *r.answer_ms) m.talk_ms += static_cast<std::uint64_t>(r.end_ms - *r.answer_ms);
}

void CallHistory::on_concurrent(sip::Instant now, std::size_t calls) noexcept {
    HistoryMinute& m = at(now);  // first: a new minute starts with the count before this
    concurrent_ = calls;
    m.last_concurrent = concurrent_;
    m.peak_concurrent = std::max(m.peak_concurrent, concurrent_);
}

std::array<HistoryMinute, CallHistory::kMinutes> CallHistory::last_hour(sip::Instant now) const noexcept {
    std::array<HistoryMinute, kMinutes> out{};
    const std::int64_t last = minute_of(now);
    for (std::size_t i = 0; i < kMinutes; ++i) {
        const std::int64_t k = last - static_cast<std::int64_t>(kMinutes - 1 - i);
        const Slot& s = ring_[index(k)];
        if (s.minute == k) {
            out[i] = s.m;
        } else if (latest_ && k > *latest_) {
            out[i] = fresh(k);  // after the newest event: nothing happened, the count held
        } else {
            out[i].start_ms = k * kMinuteMs;  // before the history began: nothing
        }
    }
    return out;
}

}  // namespace sw

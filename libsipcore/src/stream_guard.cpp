#include "sip/stream_guard.hpp"

#include <algorithm>
#include <utility>

namespace sip {
namespace {

std::string count_text(std::uint64_t n, std::string_view what) {
    return std::to_string(n) + " " + std::string(what);
}

}  // namespace

std::string_view StreamGuard::verdict_name(Verdict v) noexcept {
    switch (v) {
        case Verdict::accept:
            return "accept";
        case Verdict::evict:
            return "evict";
        case Verdict::per_source:
            return "per_source";
        case Verdict::rate:
            return "rate";
        case Verdict::full:
            return "full";
    }
    return "?";
}

// a's share open/max below b's, compared without division; unlimited sources weigh nothing
bool StreamGuard::ByShare::operator()(const Entry* a, const Entry* b) const noexcept {
    const std::uint64_t lhs = static_cast<std::uint64_t>(a->open) * b->max;
    const std::uint64_t rhs = static_cast<std::uint64_t>(b->open) * a->max;
    if (lhs != rhs) return lhs < rhs;
    if (a->open != b->open) return a->open < b->open;
    return *a->key < *b->key;
}

StreamGuard::StreamGuard(StreamGuardConfig cfg) : cfg_(std::move(cfg)) {
    for (const SourceLimit& o : cfg_.overrides)
        overrides_[o.source] = o;
}

StreamGuard::Entry& StreamGuard::entry(std::string_view source, Instant now) {
    auto it = entries_.find(std::string(source));
    if (it != entries_.end()) return it->second;
    it = entries_.emplace(std::string(source), Entry{}).first;
    Entry& e = it->second;
    e.key = &it->first;
    e.tat = now;
    if (auto o = overrides_.find(it->first); o != overrides_.end()) {
        e.max = o->second.max_connections;
        e.rate = o->second.new_per_second;
    } else {
        e.max = cfg_.max_per_source;
        e.rate = cfg_.new_per_second;
    }
    return e;
}

void StreamGuard::set_open(Entry& e, std::uint32_t open) {
    if (e.open > 0 && e.max > 0) by_share_.erase(&e);
    e.open = open;
    if (e.open > 0 && e.max > 0) by_share_.insert(&e);
}

// GCRA: one connection every 1/rate s, bursts of `rate` at once.
bool StreamGuard::rate_ok(Entry& e, Instant now) const {
    if (e.rate == 0) return true;
    const Duration interval =
        std::chrono::duration_cast<Duration>(std::chrono::seconds(1)) / e.rate;
    const Duration tolerance = interval * (e.rate - 1);
    const Instant tat = std::max(e.tat, now);
    if (tat - now > tolerance) return false;
    e.tat = tat + interval;
    return true;
}

StreamGuard::Decision StreamGuard::admit(std::string_view source, Instant now, std::size_t open) {
    Entry& e = entry(source, now);
    Decision d;
    // rule 1
    if (e.max > 0 && e.open >= e.max) {
        ++counters_.refused_per_source;
        d.verdict = Verdict::per_source;
        note(&e, now,
             "refusing connections from " + *e.key + ": " + std::to_string(e.open) +
                 " open (max_connections_per_source " + std::to_string(e.max) + ")");
        return d;
    }
    // rule 3: the source with the largest share gives way if, after the swap, its share is
    // still the larger (equal limits: it holds at least two more than the newcomer does now)
    const Entry* victim = nullptr;
    if (open >= cfg_.max_connections) {
        const Entry* v = by_share_.empty() ? nullptr : *by_share_.rbegin();
        const std::uint64_t newcomer_max = e.max > 0 ? e.max : 0xffffffffu;
        if (v && v != &e && v->open >= 2 &&
            static_cast<std::uint64_t>(v->open) * newcomer_max >
                static_cast<std::uint64_t>(e.open + 1) * v->max) {
            victim = v;
        } else {
            ++counters_.refused_full;
            d.verdict = Verdict::full;
            note(&e, now,
                 "refusing connections: max_connections (" + std::to_string(cfg_.max_connections) +
                     ") reached; first refused: " + *e.key);
            return d;
        }
    }
    // rule 2
    if (!rate_ok(e, now)) {
        ++counters_.refused_rate;
        d.verdict = Verdict::rate;
        note(&e, now,
             "refusing connections from " + *e.key + ": more than " + std::to_string(e.rate) +
                 " new a second (new_connections_per_second)");
        return d;
    }
    if (victim) {
        d.verdict = Verdict::evict;
        d.victim = *victim->key;
        ++counters_.evicted;
        note(nullptr, now,
             "max_connections (" + std::to_string(cfg_.max_connections) +
                 ") reached: closing idle connections of the sources holding the most (first: " +
                 *victim->key + ", " + std::to_string(victim->open) + " open) for newcomers (" +
                 *e.key + ")");
    }
    ++counters_.accepted;
    set_open(e, e.open + 1);
    return d;
}

std::optional<std::string> StreamGuard::victim_for_outbound(Instant now) {
    if (by_share_.empty()) return std::nullopt;
    const Entry* v = *by_share_.rbegin();
    if (v->open < 2) return std::nullopt;
    ++counters_.evicted;
    note(nullptr, now,
         "max_connections (" + std::to_string(cfg_.max_connections) +
             ") reached: closing an idle connection of " + *v->key + " (" +
             std::to_string(v->open) + " open) for an outbound one");
    return *v->key;
}

void StreamGuard::closed(std::string_view source) {
    auto it = entries_.find(std::string(source));
    if (it == entries_.end() || it->second.open == 0) return;
    set_open(it->second, it->second.open - 1);
}

void StreamGuard::deadline_closed(std::string_view source, Instant now) {
    ++counters_.deadline_closed;
    note(nullptr, now,
         "closing connections whose message is not complete in time (message_timeout); first: " +
             std::string(source));
}

// One event of an episode (`refused`: the source refused, if it was a refusal); the first
// one starts the episode with its own line.
void StreamGuard::note(Entry* refused, Instant now, std::string first_line) {
    if (Entry* e = refused) {
        ++e->episode_refused;
        if (e->episode_refused > worst_count_) {
            worst_count_ = e->episode_refused;
            if (worst_ != *e->key) worst_ = *e->key;
        }
    }
    last_event_ = now;
    if (active_) return;
    active_ = true;
    started_ = last_report_ = now;
    reports_.push_back("stream connections: " + first_line);
}

std::string StreamGuard::summary(std::string_view head) const {
    const StreamGuardCounters& c = counters_;
    const StreamGuardCounters& s = at_start_;
    std::string out(head);
    out += ": refused " +
           count_text((c.refused_per_source - s.refused_per_source) +
                          (c.refused_rate - s.refused_rate) + (c.refused_full - s.refused_full),
                      "") +
           "(" + count_text(c.refused_per_source - s.refused_per_source, "per-source limit, ") +
           count_text(c.refused_rate - s.refused_rate, "rate, ") +
           count_text(c.refused_full - s.refused_full, "max_connections") + "), evicted " +
           std::to_string(c.evicted - s.evicted) + ", closed at the message deadline " +
           std::to_string(c.deadline_closed - s.deadline_closed);
    if (worst_count_ > 0)
        out += "; refused most: " + worst_ + " (" + std::to_string(worst_count_) + ")";
    return out;
}

std::optional<std::string> StreamGuard::poll_report(Instant now) {
    if (active_ && now - last_event_ >= cfg_.quiet) {
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(last_event_ - started_);
        reports_.push_back(summary("stream connections: episode over after " +
                                   std::to_string(secs.count()) + " s"));
        active_ = false;
        at_start_ = counters_;
        worst_.clear();
        worst_count_ = 0;
        for (auto& [k, e] : entries_)
            e.episode_refused = 0;
    } else if (active_ && now - last_report_ >= cfg_.report_every) {
        last_report_ = now;
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - started_);
        reports_.push_back(summary("stream connections: still limiting after " +
                                   std::to_string(secs.count()) + " s"));
    }
    if (reports_.empty()) return std::nullopt;
    std::string line = std::move(reports_.front());
    reports_.erase(reports_.begin());
    return line;
}

void StreamGuard::sweep(Instant now) {
    for (auto it = entries_.begin(); it != entries_.end();) {
        const Entry& e = it->second;
        if (e.open == 0 && e.tat <= now && e.episode_refused == 0)
            it = entries_.erase(it);
        else
            ++it;
    }
}

std::uint32_t StreamGuard::open_from(std::string_view source) const {
    auto it = entries_.find(std::string(source));
    return it == entries_.end() ? 0 : it->second.open;
}

}  // namespace sip

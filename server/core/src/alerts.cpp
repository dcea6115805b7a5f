#include "sw/alerts.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "billing/deck.hpp"
#include "billing/time.hpp"
#include "json_writer.hpp"

namespace sw {

std::string_view to_string(AlertKind k) noexcept {
    switch (k) {
        case AlertKind::rate_increase: return "rate_increase";
        case AlertKind::negative_margin: return "negative_margin";
        case AlertKind::gateway_down: return "gateway_down";
        case AlertKind::balance_low: return "balance_low";
        case AlertKind::asr_low: return "asr_low";
    }
    return "gateway_down";
}

namespace {

void alert_fields(JsonWriter& w, const Alert& a) {
    w.field("id", a.id)
        .field("kind", to_string(a.kind))
        .field("subject", a.subject)
        .field("message", a.message)
        .field("raised_ms", a.raised_ms)
        .key("cleared_ms");
    if (a.cleared_ms)
        w.value(*a.cleared_ms);
    else
        w.null();
}

}  // namespace

std::string to_json(const Alert& a) {
    JsonWriter w;
    w.begin_object();
    alert_fields(w, a);
    w.end_object();
    return w.take();
}

std::string to_json(const AlertEvent& e) {
    JsonWriter w;
    w.begin_object().field("event", e.raised ? "raised" : "cleared");
    alert_fields(w, e.alert);
    w.end_object();
    return w.take();
}

namespace {

constexpr std::size_t kExamples = 5;  // prefixes named in one alert's message
constexpr auto kAsrSamplePeriod = std::chrono::seconds(60);

std::string price(const billing::Money& m) {
    return m.to_string(4);
}

struct Rise {
    std::string prefix;
    billing::Money before, after;
    std::int64_t at = 0;
    std::int64_t percent = 0;
};

// Whole percent of the rise, rounded down; exact on micro-units (no float).
std::int64_t rise_percent(const billing::Money& before, const billing::Money& after) {
    const __int128 b = before.micros(), a = after.micros();
    return static_cast<std::int64_t>((a - b) * 100 / b);
}

std::vector<Rise> rises(const billing::RateTable& before, const billing::RateTable& after,
                        std::uint32_t threshold, std::int64_t wall_ms) {
    std::vector<Rise> out;
    after.for_each([&](const billing::Rate& r) {
        const std::int64_t at = std::max(r.effective_from, wall_ms);
        if (!r.in_force(at)) return;
        const billing::Rate* now = after.best(r.prefix, at);
        const billing::Rate* was = before.best(r.prefix, at);
        if (now == nullptr || was == nullptr || was->price.micros() <= 0) return;
        // a rise above the threshold: after * 100 > before * (100 + threshold)
        if (static_cast<__int128>(now->price.micros()) * 100 <=
            static_cast<__int128>(was->price.micros()) * (100 + threshold))
            return;
        if (!out.empty() && out.back().prefix == r.prefix) return;  // one per prefix
        out.push_back({r.prefix, was->price, now->price, at, rise_percent(was->price, now->price)});
    });
    return out;
}

std::string rises_message(const std::string& group, std::vector<Rise> v, std::uint32_t threshold) {
    std::stable_sort(v.begin(), v.end(), [](const Rise& a, const Rise& b) { return a.percent > b.percent; });
    std::string m = fmt::format("vendor rate group {}: {} prefix{} up more than {}%:", group, v.size(),
                                v.size() == 1 ? "" : "es", threshold);
    for (std::size_t i = 0; i < v.size() && i < kExamples; ++i)
        m += fmt::format("{} {} {} -> {} (+{}%) from {}", i ? ";" : "", v[i].prefix, price(v[i].before),
                         price(v[i].after), v[i].percent, billing::format_time(v[i].at));
    if (v.size() > kExamples) m += fmt::format("; {} more", v.size() - kExamples);
    return m;
}

bool reachable(std::string_view prefix, const std::vector<std::string>& gateway_prefixes) {
    for (const std::string& q : gateway_prefixes)
        if (q.empty() || prefix.starts_with(q) || std::string_view(q).starts_with(prefix)) return true;
    return false;
}

}  // namespace

Alerts::Alerts(AlertsConfig cfg) : cfg_(std::move(cfg)) {}

void Alerts::set_config(AlertsConfig cfg) {
    cfg_ = std::move(cfg);
}

void Alerts::raise(AlertKind kind, const std::string& subject, std::string message, std::int64_t wall_ms) {
    Key key{kind, subject};
    if (auto it = active_.find(key); it != active_.end()) {
        it->second.message = std::move(message);  // the same condition, newer figures: no event
        return;
    }
    Alert a{next_id_++, kind, subject, std::move(message), wall_ms, std::nullopt};
    events_.push_back({a, true});
    if (events_.size() > cfg_.max_events) events_.pop_front();
    active_.emplace(std::move(key), std::move(a));
}

void Alerts::clear(const Key& key, std::int64_t wall_ms) {
    auto it = active_.find(key);
    if (it == active_.end()) return;
    Alert a = std::move(it->second);
    active_.erase(it);
    a.cleared_ms = wall_ms;
    events_.push_back({a, false});
    if (events_.size() > cfg_.max_events) events_.pop_front();
    cleared_.push_back(std::move(a));
    while (cleared_.size() > cfg_.max_cleared) cleared_.pop_front();
}

void Alerts::reconcile(AlertKind kind, const std::map<std::string, std::string>& want, std::int64_t wall_ms) {
    std::vector<Key> gone;
    for (const auto& [key, a] : active_)
        if (key.first == kind && !want.count(key.second)) gone.push_back(key);
    for (const Key& k : gone) clear(k, wall_ms);
    for (const auto& [subject, message] : want) raise(kind, subject, message, wall_ms);
}

void Alerts::rates_changed(const billing::Book& before, const billing::Book& after, std::int64_t wall_ms) {
    if (cfg_.rate_increase_percent == 0) return;
    std::vector<std::string> groups;
    for (const billing::Account* a : after.accounts())
        if (a->kind == billing::AccountKind::vendor && !a->rate_group.empty()) groups.push_back(a->rate_group);
    std::sort(groups.begin(), groups.end());
    groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
    for (const std::string& g : groups) {
        const billing::RateTable* was = before.find_group(g);
        const billing::RateTable* now = after.find_group(g);
        if (was == nullptr || now == nullptr) continue;  // a new vendor: nothing to compare
        auto v = rises(*was, *now, cfg_.rate_increase_percent, wall_ms);
        if (v.empty()) continue;
        clear({AlertKind::rate_increase, g}, wall_ms);  // a new increase is a new event
        raise(AlertKind::rate_increase, g, rises_message(g, std::move(v), cfg_.rate_increase_percent), wall_ms);
    }
}

void Alerts::margins(const billing::Book& book, const std::vector<MarginRoute>& routes, std::int64_t wall_ms) {
    std::map<std::string, std::string> want;
    if (cfg_.negative_margin) {
        std::map<std::pair<std::string, std::string>, std::vector<billing::MarginAlarm>> by_pair;
        for (const MarginRoute& r : routes) {
            const billing::RateTable* c = book.find_group(r.customer_group);
            const billing::RateTable* v = book.find_group(r.vendor_group);
            if (c == nullptr || v == nullptr) continue;
            auto [it, fresh] = by_pair.try_emplace({r.customer_group, r.vendor_group});
            if (fresh) {
                const billing::RateTable* one[] = {v};
                it->second = billing::negative_margin_alarms(*c, one, wall_ms);
            }
            std::vector<const billing::MarginAlarm*> hit;
            for (const auto& m : it->second)
                if (reachable(m.prefix, r.prefixes)) hit.push_back(&m);
            if (hit.empty()) continue;
            std::string msg = fmt::format("{} prefix{} sold below cost to {} (vendor group {}):", hit.size(),
                                          hit.size() == 1 ? "" : "es", r.vendor_gateway, r.vendor_group);
            for (std::size_t i = 0; i < hit.size() && i < kExamples; ++i)
                msg += fmt::format("{} {} {} < {}", i ? ";" : "", hit[i]->prefix, price(hit[i]->customer_price),
                                   price(hit[i]->vendor_price));
            if (hit.size() > kExamples) msg += fmt::format("; {} more", hit.size() - kExamples);
            want[r.customer_group + " -> " + r.vendor_gateway] = std::move(msg);
        }
    }
    reconcile(AlertKind::negative_margin, want, wall_ms);
}

void Alerts::tick(const std::vector<GatewayHealth>& gateways, const billing::Book& book, sip::Instant now,
                  std::int64_t wall_ms) {
    std::map<std::string, std::string> down;
    if (cfg_.gateway_down)
        for (const GatewayHealth& g : gateways)
            if (g.down) down[g.name] = "vendor gateway " + g.name + " is down: " + g.reason;
    reconcile(AlertKind::gateway_down, down, wall_ms);

    std::map<std::string, std::string> low;
    if (cfg_.balance_below)
        for (const billing::Account* a : book.accounts()) {
            if (a->kind == billing::AccountKind::vendor) continue;  // what we owe, not what we hold
            const billing::Money avail = a->available().value_or(a->balance);
            if (avail < *cfg_.balance_below)
                low[a->id] = fmt::format("account {} available {} below {}", a->id, price(avail),
                                         price(*cfg_.balance_below));
        }
    reconcile(AlertKind::balance_low, low, wall_ms);

    sample_asr(gateways, now, wall_ms);

    std::vector<Key> expired;
    const std::int64_t ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.event_ttl).count();
    for (const auto& [key, a] : active_)
        if (key.first == AlertKind::rate_increase && wall_ms - a.raised_ms >= ttl_ms) expired.push_back(key);
    for (const Key& k : expired) clear(k, wall_ms);
}

// Once a minute: each vendor gateway's ended and answered calls; the ASR of the window is
// the difference between now and the oldest sample still inside it. Raised below the
// threshold, cleared at or above it; with fewer than asr_min_calls calls nothing changes.
void Alerts::sample_asr(const std::vector<GatewayHealth>& gateways, sip::Instant now, std::int64_t wall_ms) {
    if (cfg_.asr_below_percent == 0) {
        reconcile(AlertKind::asr_low, {}, wall_ms);
        asr_.clear();
        return;
    }
    if (last_asr_sample_ && now - *last_asr_sample_ < kAsrSamplePeriod) return;
    last_asr_sample_ = now;
    std::map<std::string, std::deque<AsrSample>, std::less<>> kept;
    for (const GatewayHealth& g : gateways) {
        std::deque<AsrSample> s;
        if (auto it = asr_.find(g.name); it != asr_.end()) s = std::move(it->second);
        s.push_back({now, g.calls, g.answered});
        while (s.size() > 1 && now - s.front().at > cfg_.asr_window) s.pop_front();
        const std::uint64_t calls = g.calls - s.front().calls, answered = g.answered - s.front().answered;
        if (calls >= cfg_.asr_min_calls && calls > 0) {
            const std::uint64_t asr = answered * 100 / calls;
            if (asr < cfg_.asr_below_percent)
                raise(AlertKind::asr_low, g.name,
                      fmt::format("vendor gateway {} ASR {}% ({} of {} calls answered) below {}%", g.name, asr,
                                  answered, calls, cfg_.asr_below_percent),
                      wall_ms);
            else
                clear({AlertKind::asr_low, g.name}, wall_ms);
        }
        kept.emplace(g.name, std::move(s));
    }
    std::vector<Key> gone;  // gateways removed from the tables
    for (const auto& [key, a] : active_)
        if (key.first == AlertKind::asr_low && !kept.count(key.second)) gone.push_back(key);
    for (const Key& k : gone) clear(k, wall_ms);
    asr_ = std::move(kept);
}

bool Alerts::acknowledge(std::uint64_t id, std::int64_t wall_ms) {
    for (const auto& [key, a] : active_)
        if (a.id == id) {
            const Key k = key;
            clear(k, wall_ms);
            return true;
        }
    return false;
}

std::vector<Alert> Alerts::active() const {
    std::vector<Alert> v;
    for (const auto& [key, a] : active_) v.push_back(a);
    std::sort(v.begin(), v.end(), [](const Alert& a, const Alert& b) { return a.id < b.id; });
    return v;
}

std::array<std::size_t, kAlertKinds> Alerts::active_by_kind() const {
    std::array<std::size_t, kAlertKinds> n{};
    for (const auto& [key, a] : active_) ++n[static_cast<std::size_t>(key.first)];
    return n;
}

std::optional<AlertEvent> Alerts::poll_event() {
    if (events_.empty()) return std::nullopt;
    AlertEvent e = std::move(events_.front());
    events_.pop_front();
    return e;
}

}  // namespace sw

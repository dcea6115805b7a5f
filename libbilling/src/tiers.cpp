#include "billing/tiers.hpp"
#include "billing/tz.hpp"

#include <algorithm>
#include <cstdio>
#include <tuple>

namespace billing {

Result<void> validate(const VolumeTier& t) {
    if (t.account.empty()) return fail(ErrorCode::invalid_argument, "tier without an account", "account");
    if (t.prefix.empty() || !std::all_of(t.prefix.begin(), t.prefix.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return fail(ErrorCode::invalid_argument, "tier prefix must be digits, not '" + t.prefix + "'", "prefix");
    if (t.from_minutes < 0 || t.from_minutes > 1000000000000)
        return fail(ErrorCode::invalid_argument, "tier threshold must be 0 to 10^12 minutes", "from_minutes");
    if (t.price.is_negative()) return fail(ErrorCode::invalid_argument, "tier price must be >= 0", "price");
    if (t.bonus_minutes < 0 || t.bonus_minutes > 1000000000)
        return fail(ErrorCode::invalid_argument, "bonus minutes must be 0 to 10^9", "bonus_minutes");
    if (t.bonus_minutes > 0 && t.prefix.size() > 32)  // the bonus package's name stays within 64
        return fail(ErrorCode::invalid_argument, "a tier with bonus minutes has a prefix of at most 32 digits", "prefix");
    if (t.bonus_minutes > 0 && t.from_minutes == 0)
        return fail(ErrorCode::invalid_argument, "bonus minutes need a threshold above minute 0", "bonus_minutes");
    return {};
}

Result<Timestamp> month_end(std::string_view month, const WorkCalendar& cal) {
    int y = 0;
    unsigned m = 0;
    const bool ok = month.size() == 7 && month[4] == '-' &&
                    std::all_of(month.begin(), month.begin() + 4, [](char c) { return c >= '0' && c <= '9'; }) &&
                    month[5] >= '0' && month[5] <= '1' && month[6] >= '0' && month[6] <= '9';
    if (ok) {
        y = (month[0] - '0') * 1000 + (month[1] - '0') * 100 + (month[2] - '0') * 10 + (month[3] - '0');
        m = static_cast<unsigned>((month[5] - '0') * 10 + (month[6] - '0'));
    }
    if (!ok || m < 1 || m > 12) return fail(ErrorCode::invalid_argument, "month must be YYYY-MM, not '" + std::string(month) + "'", "month");
    if (++m == 13) {
        m = 1;
        ++y;
    }
    // Local midnight of the next month's first day, as UTC: the zone's offset at that
    // instant (found by two steps, which settle unless a transition falls within hours of it).
    const Timestamp local_ms = days_from_civil(y, m, 1) * 86'400'000;
    auto offset_at = [&](Timestamp t) -> std::int64_t {
        return cal.zone ? cal.zone->offset_s_at(t) : static_cast<std::int64_t>(cal.utc_offset_minutes) * 60;
    };
    Timestamp t = local_ms - offset_at(local_ms) * 1000;
    t = local_ms - offset_at(t) * 1000;
    return t;
}

std::optional<Package> bonus_package(const VolumeTier& t, const Cdr& cdr, const WorkCalendar& cal) {
    if (t.bonus_minutes <= 0 || cdr.tier_prefix != t.prefix || cdr.call.customer != t.account) return std::nullopt;
    const std::int64_t threshold = t.from_minutes * 60;
    if (cdr.volume_before_s >= threshold || cdr.volume_before_s + cdr.customer_billed_s < threshold) return std::nullopt;
    auto until = month_end(cdr.tier_month, cal);
    if (!until || *until <= cdr.call.end_ms) return std::nullopt;
    Package p;
    p.account = t.account;
    p.name = "bonus-" + t.prefix + "-" + cdr.tier_month + "-" + std::to_string(t.from_minutes) + "m";
    p.prefixes = {t.prefix};
    p.seconds = t.bonus_minutes * 60;
    p.valid_from = cdr.call.end_ms;
    p.valid_until = *until;
    return p;
}

std::string volume_month(Timestamp ms, const WorkCalendar& cal) {
    const std::int64_t offset_s =
        cal.zone ? cal.zone->offset_s_at(ms) : static_cast<std::int64_t>(cal.utc_offset_minutes) * 60;
    std::int64_t s = ms / 1000;
    if (ms % 1000 < 0) --s;  // floor
    std::int64_t local = s + offset_s;
    std::int64_t days = local / 86400;
    if (local % 86400 < 0) --days;
    int y = 0;
    unsigned m = 0, d = 0;
    civil_from_days(days, y, m, d);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u", y, m);
    return buf;
}

Result<void> VolumeTiers::add(VolumeTier t) {
    if (auto ok = validate(t); !ok) return ok;
    auto& list = by_account_[t.account][t.prefix];
    for (const VolumeTier& x : list)
        if (x.from_minutes == t.from_minutes)
            return fail(ErrorCode::duplicate,
                        "tier " + t.account + " " + t.prefix + " from " + std::to_string(t.from_minutes) +
                            " minutes exists",
                        "from_minutes");
    list.push_back(std::move(t));
    std::sort(list.begin(), list.end(),
              [](const VolumeTier& a, const VolumeTier& b) { return a.from_minutes < b.from_minutes; });
    return {};
}

std::optional<VolumeTiers::Match> VolumeTiers::find(std::string_view account, std::string_view number) const {
    auto a = by_account_.find(account);
    if (a == by_account_.end()) return std::nullopt;
    for (std::size_t n = number.size(); n > 0; --n) {
        auto p = a->second.find(number.substr(0, n));
        if (p != a->second.end()) return Match{p->first, p->second};
    }
    return std::nullopt;
}

std::vector<VolumeTier> VolumeTiers::all() const {
    std::vector<VolumeTier> v;
    for (const auto& [_, prefixes] : by_account_)
        for (const auto& [__, list] : prefixes) v.insert(v.end(), list.begin(), list.end());
    std::sort(v.begin(), v.end(), [](const VolumeTier& a, const VolumeTier& b) {
        return std::tie(a.account, a.prefix, a.from_minutes) < std::tie(b.account, b.prefix, b.from_minutes);
    });
    return v;
}

const VolumeTier* tier_for(const std::vector<VolumeTier>& sorted, std::int64_t volume_before_s) {
    const VolumeTier* best = nullptr;
    for (const VolumeTier& t : sorted)
        if (t.from_minutes <= volume_before_s / 60) best = &t;  // from*60 <= v  <=>  from <= floor(v/60)
    return best;
}

Result<bool> apply_volume_tier(Cdr& cdr, const CallRating& rating, const VolumeTiers::Match& m,
                               std::string_view month, std::int64_t volume_before_s, const Currency& currency) {
    if (rating.customer.rate == nullptr) return false;
    if (volume_before_s < 0) return fail(ErrorCode::invalid_argument, "negative volume", "volume");
    cdr.tier_prefix = m.prefix;
    cdr.tier_month = std::string(month);
    cdr.volume_before_s = volume_before_s;
    const VolumeTier* t = tier_for(m.tiers, volume_before_s);
    if (t == nullptr) return true;  // below the first threshold: the rate's price, still counted
    Rate r = *rating.customer.rate;
    r.price = t->price;
    r.first_price = t->price;
    // The seconds the rater priced: 0 for unanswered and free-time calls, else the duration.
    const std::int64_t seconds = rating.customer.billed_s == 0 ? 0 : rating.duration_s;
    auto p = price_call(r, seconds, currency);
    if (!p) return fail(p.error());
    if (p->billed_s != cdr.customer_billed_s)
        return fail(ErrorCode::invalid_argument, "tier pricing changed the billed seconds", "tier");
    auto profit = p->amount.sub(cdr.cost);
    if (!profit) return fail(profit.error());
    cdr.charge = p->amount;
    cdr.profit = *profit;
    cdr.customer_price = t->price;
    return true;
}

}  // namespace billing

#include "billing/rating.hpp"

#include "arith.hpp"
#include "billing/packages.hpp"

#include <algorithm>

namespace billing {

using detail::i128;

std::string_view to_string(HangupSide h) {
    switch (h) {
        case HangupSide::caller: return "caller";
        case HangupSide::callee: return "callee";
        case HangupSide::server: return "server";
    }
    return "caller";
}

Result<HangupSide> parse_hangup_side(std::string_view s) {
    if (s == "caller" || s == "0") return HangupSide::caller;
    if (s == "callee" || s == "1") return HangupSide::callee;
    if (s == "server" || s == "2") return HangupSide::server;
    return fail(ErrorCode::invalid_argument,
                "hangup side must be caller, callee or server, not '" + std::string(s) + "'",
                "hangup");
}

std::string_view to_string(RateSource s) {
    switch (s) {
        case RateSource::none: return "none";
        case RateSource::group: return "group";
        case RateSource::account_private: return "account_private";
        case RateSource::phone_private: return "phone_private";
    }
    return "none";
}

namespace {

// A candidate points at the flat record of its rate when the table is compacted (so that
// choosing the cheapest touches one cache line per candidate and no Rate), otherwise at the
// Rate found by match(). Both hold the same fields of the same Rate and are priced by the
// same rule (price_call).
struct Candidate {
    const RateRecord* rec;  // nullptr: use rate
    const Rate* rate;
    RateSource source;

    Result<Priced> price(std::int64_t seconds, const Currency& cur) const {
        return rec != nullptr ? price_call(*rec, seconds, cur) : price_call(*rate, seconds, cur);
    }
    const Rate* applied() const { return rec != nullptr ? rec->rate : rate; }
    Money per_minute() const { return rec != nullptr ? rec->price : rate->price; }
};

// Appends the candidates of one table, the period variant before the base rate so that
// ties keep the more specific one (the first strictly cheaper candidate wins). Forced inline:
// with two lookup paths g++ stops inlining it, which costs ~100 instructions per call.
[[gnu::always_inline]] inline int gather(const RateTable* t, RateSource src,
                                         std::string_view number, Timestamp at, PeriodKind period,
                                         Candidate* out, int n) {
    if (t == nullptr) return n;
    if (t->compacted()) {
        const RateRecord* m[2];
        const int k = t->match_records(number, at, period, m);
        for (int i = k - 1; i >= 0; --i) out[n++] = {m[i], nullptr, src};
        return n;
    }
    const Rate* m[2];
    const int k = t->match(number, at, period, m);
    for (int i = k - 1; i >= 0; --i) out[n++] = {nullptr, m[i], src};
    return n;
}

// The cheapest candidate; *price gets its per-minute price (the chosen rate's `price`, read
// from the candidate so the Rate itself is not touched).
Result<AppliedRate> cheapest(const Candidate* c, int n, std::int64_t seconds, const Currency& cur,
                             Money* price) {
    AppliedRate best;
    for (int i = 0; i < n; ++i) {
        auto p = c[i].price(seconds, cur);
        if (!p) return fail(std::move(p.error()));
        if (best.rate == nullptr || p->amount < best.amount) {
            best.rate = c[i].applied();
            best.source = c[i].source;
            best.billed_s = p->billed_s;
            best.amount = p->amount;
            *price = c[i].per_minute();
        }
    }
    return best;
}

// Whole seconds from `from` to `to`; the last fraction counts as a second when it reaches
// `precision_ms` (1 = any started ms, the rule for hold_s and the checks).
Result<std::int64_t> seconds_between(Timestamp from, Timestamp to, const char* field,
                                     std::int32_t precision_ms = 1) {
    std::int64_t d;
    if (__builtin_sub_overflow(to, from, &d))
        return fail(ErrorCode::overflow, "time difference out of range", field);
    if (d < 0) return fail(ErrorCode::negative_duration, std::string(field) + " is before its start", field);
    const std::int64_t frac = d % 1000;
    return d / 1000 + (frac != 0 && frac >= precision_ms ? 1 : 0);
}

// The longest call up to cap whose charge fits in budget (>= 0) when a package covers its
// first `left` billed seconds: priced at the candidate rate() would choose for that length
// (the cheapest in full), its uncovered rest by package_rest_charge. When two candidates swap
// with the length the charge need not grow with it, so the search may stop short of the
// longest call, never past one it cannot pay: every length it keeps was priced exactly.
Result<std::int64_t> longest_with_package(const Candidate* c, int n, Money budget, std::int64_t left,
                                          std::int64_t cap, const Currency& cur) {
    auto fits = [&](std::int64_t seconds) -> Result<bool> {
        Money per_minute;
        auto best = cheapest(c, n, seconds, cur, &per_minute);
        if (!best) return fail(std::move(best.error()));
        auto charge = package_rest_charge(*best->rate, best->billed_s, std::min(best->billed_s, left), cur);
        if (!charge) return fail(std::move(charge.error()));
        return *charge <= budget;
    };
    auto at_cap = fits(cap);
    if (!at_cap) return fail(std::move(at_cap.error()));
    if (*at_cap) return cap;
    std::int64_t lo = 0, hi = cap;  // 0 s cost nothing; hi does not fit
    while (hi - lo > 1) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        auto ok = fits(mid);
        if (!ok) return fail(std::move(ok.error()));
        (*ok ? lo : hi) = mid;
    }
    return lo;
}

}  // namespace

Result<CallRating> Rater::rate(const CallRecord& call) const {
    CallRating out;
    const Book::Entry* cust = book_.entry(call.customer);
    if (cust == nullptr)
        return fail(ErrorCode::unknown_account, "unknown customer account '" + call.customer + "'",
                    "customer");
    const Book::Entry* vend = nullptr;
    if (!call.vendor.empty()) {
        vend = book_.entry(call.vendor);
        if (vend == nullptr)
            return fail(ErrorCode::unknown_account, "unknown vendor account '" + call.vendor + "'",
                        "vendor");
    }
    auto hold = seconds_between(call.setup_ms, call.end_ms, "end_ms");
    if (!hold) return fail(std::move(hold.error()));
    out.hold_s = *hold;
    Timestamp at = call.setup_ms;
    if (call.answer_ms) {
        at = *call.answer_ms;
        auto a = seconds_between(call.setup_ms, *call.answer_ms, "answer_ms");
        if (!a) return fail(std::move(a.error()));
        auto d = seconds_between(*call.answer_ms, call.end_ms, "end_ms", cfg_.hold_time_precision_ms);
        if (!d) return fail(std::move(d.error()));
        out.duration_s = *d;
    }
    if (call.answer_ms && call.vendor.empty())
        return fail(ErrorCode::unknown_account, "answered call without a vendor account", "vendor");
    out.period = cfg_.calendar.period_at(at);

    // Free time: the call is billed as lasting 0 s (the rates are still chosen).
    const std::int64_t billed = out.duration_s > cfg_.free_time_s ? out.duration_s : 0;
    Candidate c[6];
    Money cust_price, vend_price;  // per-minute prices of the applied rates (0 when none)
    int n = 0;
    n = gather(book_.phone_private(call.caller), RateSource::phone_private, call.callee, at,
               out.period, c, n);
    n = gather(cust->priv, RateSource::account_private, call.callee, at, out.period, c, n);
    n = gather(cust->group, RateSource::group, call.callee, at, out.period, c, n);
    if (n == 0 && out.duration_s > 0)
        return fail(ErrorCode::no_rate,
                    "no customer rate for " + call.callee + " in force at " + format_time(at),
                    "callee");
    auto cr = cheapest(c, n, billed, cfg_.currency, &cust_price);
    if (!cr) return fail(std::move(cr.error()));
    out.customer = *cr;

    if (vend != nullptr) {
        n = 0;
        n = gather(vend->priv, RateSource::account_private, call.callee_sent(), at, out.period, c, n);
        n = gather(vend->group, RateSource::group, call.callee_sent(), at, out.period, c, n);
        if (n == 0 && out.duration_s > 0)
            return fail(ErrorCode::no_rate,
                        "no vendor rate for " + std::string(call.callee_sent()) + " in force at " +
                            format_time(at),
                        "callee_out");
        auto vr = cheapest(c, n, billed, cfg_.currency, &vend_price);
        if (!vr) return fail(std::move(vr.error()));
        out.vendor = *vr;
    }

    out.charge = out.customer.amount;
    out.cost = out.vendor.amount;
    auto profit = out.charge.sub(out.cost);
    if (!profit) return fail(std::move(profit.error()));
    out.profit = *profit;
    if (!out.charge.is_zero()) {
        const std::int64_t p = out.profit.micros();
        constexpr std::int64_t kLim = INT64_MAX / 1000000;
        out.margin_ppm = (p <= kLim && p >= -kLim)  // 64-bit division when it cannot overflow
                             ? p * 1000000 / out.charge.micros()
                             : static_cast<std::int64_t>(static_cast<i128>(p) * 1000000 / out.charge.micros());
    }
    auto dev = cust_price.sub(vend_price);
    if (!dev) return fail(std::move(dev.error()));
    out.rate_deviation_per_min = *dev;
    out.rate_deviation_per_s = Money::from_micros(static_cast<std::int64_t>(
        detail::round_div(dev->micros(), 60, Rounding::half_up)));
    return out;
}

Result<std::int64_t> Rater::max_call_duration(std::string_view account, std::string_view destination,
                                              Timestamp now, std::string_view caller,
                                              std::int64_t package_left_s) const {
    const Book::Entry* e = book_.entry(account);
    if (e == nullptr)
        return fail(ErrorCode::unknown_account, "unknown account '" + std::string(account) + "'",
                    "account");
    auto avail = e->account.available();
    if (!avail) return fail(std::move(avail.error()));
    const PeriodKind period = cfg_.calendar.period_at(now);
    Candidate c[6];
    int n = 0;
    n = gather(book_.phone_private(caller), RateSource::phone_private, destination, now, period, c, n);
    n = gather(e->priv, RateSource::account_private, destination, now, period, c, n);
    n = gather(e->group, RateSource::group, destination, now, period, c, n);
    if (n == 0)
        return fail(ErrorCode::no_rate,
                    "no rate for " + std::string(destination) + " in force at " + format_time(now),
                    "destination");
    const std::int64_t cap = cfg_.max_call_duration_s;
    if (package_left_s > 0) {
        // Package seconds are paid for: the covered start fits in any balance (budget >= 0).
        auto best = longest_with_package(c, n, avail->is_negative() ? Money{} : *avail, package_left_s, cap,
                                         cfg_.currency);
        if (!best) return fail(std::move(best.error()));
        if (*best < cfg_.free_time_s && avail->micros() > 0) return std::min(cfg_.free_time_s, cap);
        return *best;
    }
    if (avail->micros() <= 0) return std::int64_t{0};
    // The call is charged at the cheapest candidate for its final length, so the longest
    // affordable call is the longest one any single candidate can afford.
    std::int64_t best = 0;
    for (int i = 0; i < n; ++i) {
        auto at_cap = c[i].price(cap, cfg_.currency);
        if (!at_cap) return fail(std::move(at_cap.error()));
        if (at_cap->amount <= *avail) return cap;
        std::int64_t lo = 0, hi = cap;  // charge(lo) <= avail < charge(hi)
        while (hi - lo > 1) {
            const std::int64_t mid = lo + (hi - lo) / 2;
            auto p = c[i].price(mid, cfg_.currency);
            if (!p) return fail(std::move(p.error()));
            (p->amount <= *avail ? lo : hi) = mid;
        }
        if (lo > best) best = lo;
    }
    // Calls up to the free time cost nothing (rate() bills them 0 s).
    if (best < cfg_.free_time_s) best = std::min(cfg_.free_time_s, cap);
    return best;
}

}  // namespace billing

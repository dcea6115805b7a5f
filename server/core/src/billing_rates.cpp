// sw::BillingRates: billing's rate tables seen by the router (vendor rates) and the switch
// (customer rates). The candidate rules are billing::Rater's (libbilling/src/rating.cpp):
// the longest-prefix match in each table, one candidate per table, the cheapest wins and a
// tie goes to the more specific source (phone-private, then account-private, then the
// group). "Cheapest" is the charge of a call of reference_call_s seconds under the
// configured currency's rounding, i.e. what Rater would charge for such a call.
//
// Time-based variants: BillingRatesConfig carries no work calendar, so the base rates
// (PeriodKind::any) in force at set_time() apply; peak/off-peak variants are not consulted
// here (Rater still uses them when it bills the call).
#include "sw/billing_rates.hpp"

#include <algorithm>

#include "billing/money.hpp"
#include "billing/rate.hpp"

namespace sw {
namespace {

struct Pick {
    const billing::Rate* rate = nullptr;
    billing::Money amount;  // reference-call charge, the comparison key
};

// Adds the base rate of `t` for `number` at `at` as a candidate; keeps the earlier one on a
// tie (callers offer the more specific tables first).
void offer(const billing::RateTable* t, std::string_view number, billing::Timestamp at,
           std::int64_t ref_s, const billing::Currency& cur, Pick& best) {
    if (t == nullptr) return;
    const billing::Rate* m[2];
    const int n = t->match(number, at, billing::PeriodKind::any, m);
    for (int i = 0; i < n; ++i) {
        billing::Money amount = m[i]->price;  // no reference length: the per-minute price
        if (ref_s > 0) {
            auto p = billing::price_call(*m[i], ref_s, cur);
            if (!p) continue;  // overflow: never the cheapest
            amount = p->amount;
        }
        if (best.rate == nullptr || amount < best.amount) best = {m[i], amount};
    }
}

// Per-minute cost of a reference call under r, exact to the micro-unit (half up): first
// period, increments and connection fee included.
route::lcr::Micros effective_per_minute(const billing::Rate& r, std::int64_t ref_s,
                                        const billing::Currency& cur) {
    if (ref_s <= 0) return r.price.micros();
    const billing::Currency exact{cur.code, billing::Money::kDecimals, billing::Rounding::half_up};
    auto p = billing::price_call(r, ref_s, exact);
    if (!p) return r.price.micros();
    auto per_min = billing::mul_div(p->amount, 60, ref_s, billing::Money::kDecimals,
                                    billing::Rounding::half_up);
    return per_min ? per_min->micros() : r.price.micros();
}

}  // namespace

BillingRates::BillingRates(const billing::Book& book, BillingRatesConfig cfg)
    : book_(book), cfg_(std::move(cfg)) {}

std::uint32_t BillingRates::key_for_vendor(std::string_view account) {
    if (account.empty()) return 0;
    auto it = std::find(vendors_.begin(), vendors_.end(), account);
    if (it == vendors_.end()) it = vendors_.insert(vendors_.end(), std::string(account));
    return static_cast<std::uint32_t>(it - vendors_.begin()) + 1;
}

std::optional<route::lcr::RateQuote> BillingRates::vendor_rate(std::uint32_t rate_key,
                                                               std::string_view number) const {
    if (rate_key == 0 || rate_key > vendors_.size()) return std::nullopt;
    const billing::Book::Entry* e = book_.entry(vendors_[rate_key - 1]);
    if (e == nullptr) return std::nullopt;
    Pick best;
    offer(e->priv, number, now_ms_, cfg_.reference_call_s, cfg_.currency, best);
    offer(e->group, number, now_ms_, cfg_.reference_call_s, cfg_.currency, best);
    if (best.rate == nullptr) return std::nullopt;
    return route::lcr::RateQuote{
        .per_minute = best.rate->price.micros(),
        .effective_per_minute =
            effective_per_minute(*best.rate, cfg_.reference_call_s, cfg_.currency),
    };
}

std::optional<CustomerQuote> BillingRates::customer_rate(std::string_view account,
                                                         std::string_view number,
                                                         std::string_view caller) const {
    const billing::Book::Entry* e = book_.entry(account);
    if (e == nullptr) return std::nullopt;
    Pick best;
    if (!caller.empty()) {
        offer(book_.phone_private(caller), number, now_ms_, cfg_.reference_call_s, cfg_.currency,
              best);
    }
    offer(e->priv, number, now_ms_, cfg_.reference_call_s, cfg_.currency, best);
    offer(e->group, number, now_ms_, cfg_.reference_call_s, cfg_.currency, best);
    if (best.rate == nullptr) return std::nullopt;
    return CustomerQuote{
        .per_minute = best.rate->price.micros(),
        .type = best.rate->type,
        .prefix = best.rate->prefix,
        .area = best.rate->area,
    };
}

}  // namespace sw

#include "billing/volume_pricing.hpp"

#include <optional>

namespace billing {

VolumePricing::VolumePricing(VolumeTiers tiers, Packages packages)
    : tiers_(std::move(tiers)), packages_(std::move(packages)) {
    for (const VolumeTier& t : tiers_.all()) any_bonus_ = any_bonus_ || t.bonus_minutes > 0;
}

Result<std::int64_t> VolumePricing::volume(std::string_view account, std::string_view prefix, std::string_view month) {
    // found without building the key's strings (std::less<> compares the views)
    auto it = volumes_.find(std::make_tuple(account, prefix, month));
    if (it != volumes_.end()) return it->second;
    auto key = std::make_tuple(std::string(account), std::string(prefix), std::string(month));
    std::int64_t v = 0;
    if (volume_source_) {
        auto got = volume_source_(account, prefix, month);
        if (!got) return fail(got.error());
        v = *got;
    }
    volumes_.emplace(std::move(key), v);
    return v;
}

Result<std::int64_t> VolumePricing::package_used(const Package& p) {
    auto it = used_.find(std::make_tuple(std::string_view(p.account), std::string_view(p.name)));
    if (it != used_.end()) return it->second;
    auto key = std::make_tuple(p.account, p.name);
    std::int64_t v = 0;
    if (package_source_) {
        auto got = package_source_(p);
        if (!got) return fail(got.error());
        v = *got;
    }
    used_.emplace(std::move(key), v);
    return v;
}

Result<void> VolumePricing::apply(Cdr& cdr, const CallRating& rating, const RatingConfig& cfg) {
    if (rating.customer.rate == nullptr) return {};
    std::optional<Money> tier_price;
    if (!tiers_.empty())
        if (auto m = tiers_.find(cdr.call.customer, cdr.call.callee)) {
            const Timestamp at = cdr.call.answer_ms ? *cdr.call.answer_ms : cdr.call.setup_ms;
            const std::string month = volume_month(at, cfg.calendar);
            auto before = volume(cdr.call.customer, m->prefix, month);
            if (!before) return fail(before.error());
            auto ok = apply_volume_tier(cdr, rating, *m, month, *before, cfg.currency);
            if (!ok) return fail(ok.error());
            if (const VolumeTier* t = tier_for(m->tiers, *before)) tier_price = t->price;
        }
    if (packages_.empty() || !cdr.call.answer_ms || cdr.customer_billed_s <= 0) return {};
    for (const Package* p : packages_.candidates(cdr.call.customer, cdr.call.callee, *cdr.call.answer_ms)) {
        auto used = package_used(*p);
        if (!used) return fail(used.error());
        auto applied = apply_package(cdr, rating, *p, *used, cfg.currency, tier_price);
        if (!applied) return fail(applied.error());
        if (*applied) return {};  // else used up: the next candidate
    }
    return {};
}

Result<void> VolumePricing::price(Cdr& cdr, const CallRating& rating, const RatingConfig& cfg) {
    if (auto ok = apply(cdr, rating, cfg); !ok) return ok;
    count(cdr, cfg.calendar);
    return {};
}

Result<void> VolumePricing::quote(Cdr& cdr, const CallRating& rating, const RatingConfig& cfg) {
    return apply(cdr, rating, cfg);
}

void VolumePricing::count(const Cdr& cdr, const WorkCalendar& cal) {
    // Counts as insert_cdrs does: added to the figure the CDR was priced at when this object
    // holds none (a CDR of before the load), else to the figure held.
    if (!cdr.tier_prefix.empty()) {
        auto [it, fresh] = volumes_.try_emplace({cdr.call.customer, cdr.tier_prefix, cdr.tier_month},
                                                cdr.volume_before_s);
        (void)fresh;
        it->second += cdr.customer_billed_s;
        if (any_bonus_)
            if (auto m = tiers_.find(cdr.call.customer, cdr.tier_prefix); m && m->prefix == cdr.tier_prefix)
                for (const VolumeTier& t : m->tiers)
                    if (auto bonus = bonus_package(t, cdr, cal); bonus && !packages_.find(bonus->account, bonus->name))
                        (void)packages_.add(std::move(*bonus));  // valid by construction
    }
    if (!cdr.package_name.empty()) {
        auto [it, fresh] = used_.try_emplace(std::make_tuple(cdr.call.customer, cdr.package_name), cdr.package_before_s);
        (void)fresh;
        it->second += cdr.package_s;
    }
}

}  // namespace billing

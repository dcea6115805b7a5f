// billing::VolumePricing — volume tiers (billing/tiers.hpp) and packages
// (billing/packages.hpp) applied to rated CDRs, with the counters they read: the monthly
// volume per (account, tier prefix, month) and the seconds used per package. One object
// prices a stream of calls in order, so each call sees the calls priced before it; the same
// code serves `trunkctl cdr import` (counters read from the store on first use) and the
// running switch (every counter loaded with the book, so pricing never touches the disk).
//
//   billing::VolumePricing vp(std::move(*st->volume_tiers()), std::move(*st->packages()));
//   vp.set_sources([&](auto acct, auto prefix, auto month) { return st->volume_used(acct, prefix, month); },
//                  [&](const billing::Package& p) { return st->package_used(p.account, p.name); });
//   auto rating = rater.rate(call);
//   billing::Cdr cdr = billing::make_cdr(call, *rating);
//   if (auto ok = vp.price(cdr, *rating, cfg); !ok) { /* cdr unusable: error names the field */ }
//   (void)st->insert_cdrs({&cdr, 1});   // checks and advances the same counters
//
// Order (the rules of both headers): the tier first (the whole call at the tier of the
// volume before it), then the best package with seconds left covers its first seconds, the
// rest at the tier's price when a tier applied. price() counts the call (count()), which
// grants the bonus minutes of a tier threshold it crosses as a package the next calls use;
// quote() prices without counting (the switch's prepaid estimate of a call still running).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "billing/cdr.hpp"
#include "billing/packages.hpp"
#include "billing/rating.hpp"
#include "billing/result.hpp"
#include "billing/tiers.hpp"

namespace billing {

class VolumePricing {
public:
    using VolumeSource =
        std::function<Result<std::int64_t>(std::string_view account, std::string_view prefix, std::string_view month)>;
    using PackageSource = std::function<Result<std::int64_t>(const Package&)>;

    VolumePricing() = default;
    VolumePricing(VolumeTiers tiers, Packages packages);

    bool empty() const { return tiers_.empty() && packages_.empty(); }
    const VolumeTiers& tiers() const { return tiers_; }
    const Packages& packages() const { return packages_; }

    // Where a counter not held yet comes from. Without a source it starts at 0: the switch
    // loads every stored counter with set_volume / set_package_used instead.
    void set_sources(VolumeSource volumes, PackageSource packages) {
        volume_source_ = std::move(volumes);
        package_source_ = std::move(packages);
    }
    void set_volume(std::string account, std::string prefix, std::string month, std::int64_t billed_s) {
        volumes_[{std::move(account), std::move(prefix), std::move(month)}] = billed_s;
    }
    void set_package_used(std::string account, std::string name, std::int64_t used_s) {
        used_[std::make_tuple(std::move(account), std::move(name))] = used_s;
    }

    // Prices cdr (made by make_cdr from `rating`) by tier and package, then counts it.
    // Nothing applies (no tier, no package, no customer rate): cdr unchanged, Ok.
    Result<void> price(Cdr& cdr, const CallRating& rating, const RatingConfig& cfg);
    // The same prices without counting the call.
    Result<void> quote(Cdr& cdr, const CallRating& rating, const RatingConfig& cfg);
    // Adds a priced CDR's counts (tier volume, package seconds) as Store::insert_cdrs does,
    // and the bonus package it earns (bonus_package; the store grants the same one): for CDRs
    // priced before the counters were loaded again (the switch's CDRs not yet committed when
    // the book is reloaded).
    void count(const Cdr& cdr, const WorkCalendar& cal);

    // The counters held (for tests and the switch's status).
    Result<std::int64_t> volume(std::string_view account, std::string_view prefix, std::string_view month);
    Result<std::int64_t> package_used(const Package& p);

private:
    // Orders keys of strings by their views, so a key of string_views finds one of strings
    // without building it (std::less<> would compare tuples of different element types,
    // which not every standard library accepts).
    struct ViewLess {
        using is_transparent = void;
        template <class... A, class... B>
        bool operator()(const std::tuple<A...>& a, const std::tuple<B...>& b) const {
            return views(a) < views(b);
        }
        template <class... A>
        static auto views(const std::tuple<A...>& t) {
            return std::apply([](const auto&... x) { return std::make_tuple(std::string_view(x)...); }, t);
        }
    };

    Result<void> apply(Cdr& cdr, const CallRating& rating, const RatingConfig& cfg);

    VolumeTiers tiers_;
    Packages packages_;
    bool any_bonus_ = false;  // a tier grants bonus minutes: count() looks for a crossing
    VolumeSource volume_source_;
    PackageSource package_source_;
    std::map<std::tuple<std::string, std::string, std::string>, std::int64_t, ViewLess> volumes_;
    std::map<std::tuple<std::string, std::string>, std::int64_t, ViewLess> used_;
};

}  // namespace billing

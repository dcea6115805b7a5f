// Tests for libbilling/src/volume_pricing.cpp and the bonus minutes of tiers.cpp (issue 14):
// tiers, then packages, over a stream of calls that each see the calls before them; bonus
// minutes granted at a threshold as a package the next calls use.
#include <catch2/catch.hpp>

#include <memory>

#include "billing/tiers.hpp"
#include "billing/tz.hpp"
#include "billing/volume_pricing.hpp"
#include "billing_fixtures.hpp"
#include "rating_fixture.hpp"

using namespace billing;
using namespace billing_test;

namespace {

struct PricingFixture : RatingFixture {
    VolumePricing vp;
    // Rates the call, prices it by vp (counting it) and returns the CDR.
    Cdr price(const CallRecord& call) {
        auto [rating, cdr] = rated(call);
        auto ok = vp.price(cdr, rating, cfg);
        REQUIRE(ok);
        return cdr;
    }
};

VolumeTiers tiers_of(std::initializer_list<VolumeTier> list) {
    VolumeTiers t;
    for (const VolumeTier& x : list) REQUIRE(t.add(x));
    return t;
}

Packages packages_of(std::initializer_list<Package> list) {
    Packages p;
    for (const Package& x : list) REQUIRE(p.add(x));
    return p;
}

}  // namespace

TEST_CASE("volume pricing: calls see the volume and package seconds of the calls before them",
          "[billing][tiers][packages]") {
    PricingFixture f;
    f.vp = VolumePricing(tiers_of({{"C1", "44", 0, money("0.0200")}, {"C1", "44", 2, money("0.0100")}}),
                         packages_of({{"C1", "uk", {"44"}, 60, money("0"), at("2026-11-01"), at("2026-12-01")}}));
    // 1: 90 s at tier 0 (0.02), its first 60 s from the package: 30 s at 0.02 = 0.0100
    Cdr a = f.price(f.call("442071234567", "2026-11-10 10:00:00", 90));
    CHECK(a.volume_before_s == 0);
    CHECK(a.package_name == "uk");
    CHECK(a.package_s == 60);
    CHECK(a.charge == money("0.0100"));
    // 2: 60 s, volume 90 s (still tier 0), the package used up: 60 s at 0.02
    Cdr b = f.price(f.call("442071234567", "2026-11-10 11:00:00", 60));
    CHECK(b.volume_before_s == 90);
    CHECK(b.package_name.empty());
    CHECK(b.charge == money("0.0200"));
    // 3: volume 150 s: the second tier
    Cdr c = f.price(f.call("442071234567", "2026-11-10 12:00:00", 60));
    CHECK(c.volume_before_s == 150);
    CHECK(c.charge == money("0.0100"));
    CHECK(*f.vp.volume("C1", "44", "2026-11") == 210);
    CHECK(*f.vp.package_used(*f.vp.packages().find("C1", "uk")) == 60);
    // quote() prices the same way and counts nothing
    auto [rating, q] = f.rated(f.call("442071234567", "2026-11-10 13:00:00", 60));
    REQUIRE(f.vp.quote(q, rating, f.cfg));
    CHECK(q.volume_before_s == 210);
    CHECK(*f.vp.volume("C1", "44", "2026-11") == 210);
}

TEST_CASE("volume pricing: counters come from the source once, then move with each call",
          "[billing][tiers]") {
    PricingFixture f;
    f.vp = VolumePricing(tiers_of({{"C1", "44", 0, money("0.0200")}, {"C1", "44", 2, money("0.0100")}}), {});
    int reads = 0;
    f.vp.set_sources(
        [&](std::string_view, std::string_view, std::string_view) -> Result<std::int64_t> {
            ++reads;
            return std::int64_t{600};  // 10 minutes stored before this import
        },
        [](const Package&) -> Result<std::int64_t> { return std::int64_t{0}; });
    Cdr a = f.price(f.call("442071234567", "2026-11-10 10:00:00", 60));
    Cdr b = f.price(f.call("442071234567", "2026-11-10 11:00:00", 60));
    CHECK(reads == 1);
    CHECK(a.volume_before_s == 600);
    CHECK(b.volume_before_s == 660);
    CHECK(a.charge == money("0.0100"));
    // a failing source fails the call, naming what the source named
    VolumePricing broken(tiers_of({{"C1", "44", 0, money("0.0200")}}), {});
    broken.set_sources([](std::string_view, std::string_view, std::string_view) -> Result<std::int64_t> {
        return fail(ErrorCode::db_error, "disk gone", "volume");
    }, nullptr);
    auto [rating, cdr] = f.rated(f.call("442071234567", "2026-11-10 10:00:00", 60));
    auto e = broken.price(cdr, rating, f.cfg);
    REQUIRE_FALSE(e);
    CHECK(e.error().field == "volume");
}

TEST_CASE("volume pricing: bonus minutes at a threshold become a package the next call uses",
          "[billing][tiers][bonus]") {
    PricingFixture f;
    // 0.02 from minute 0; from minute 2: 0.01 and 1 bonus minute
    f.vp = VolumePricing(tiers_of({{"C1", "44", 0, money("0.0200")}, {"C1", "44", 2, money("0.0100"), 1}}), {});
    Cdr a = f.price(f.call("442071234567", "2026-11-10 10:00:00", 90));  // 0 -> 90 s
    CHECK(f.vp.packages().empty());
    Cdr b = f.price(f.call("442071234567", "2026-11-10 11:00:00", 60));  // 90 -> 150 s: crosses 120
    CHECK(b.package_name.empty());  // the bonus is for the calls after it
    const Package* bonus = f.vp.packages().find("C1", "bonus-44-2026-11-2m");
    REQUIRE(bonus);
    CHECK(bonus->seconds == 60);
    CHECK(bonus->prefixes == std::vector<std::string>{"44"});
    CHECK(bonus->fee.is_zero());
    CHECK(bonus->valid_from == b.call.end_ms);
    CHECK(bonus->valid_until == at("2026-12-01"));
    Cdr c = f.price(f.call("442071234567", "2026-11-10 12:00:00", 60));
    CHECK(c.package_name == "bonus-44-2026-11-2m");
    CHECK(c.charge.is_zero());
    // The same CDRs counted again on fresh counters (the switch after a reload) grant the
    // same bonus once.
    VolumePricing again(tiers_of({{"C1", "44", 0, money("0.0200")}, {"C1", "44", 2, money("0.0100"), 1}}), {});
    for (const Cdr* x : {&a, &b, &b}) again.count(*x, f.cfg.calendar);
    CHECK(again.packages().all().size() == 1);
    // A call that stays below, or starts past, the threshold earns nothing.
    VolumeTier t{"C1", "44", 2, money("0.01"), 1};
    CHECK_FALSE(bonus_package(t, a, f.cfg.calendar));
    CHECK_FALSE(bonus_package(t, c, f.cfg.calendar));
    CHECK(bonus_package(t, b, f.cfg.calendar));
}

TEST_CASE("tiers: bonus minutes are validated and the month ends in the calendar's zone",
          "[billing][tiers][bonus]") {
    CHECK(validate(VolumeTier{"C1", "44", 0, money("0.01"), 5}).error().field == "bonus_minutes");
    CHECK(validate(VolumeTier{"C1", "44", 10, money("0.01"), -1}).error().field == "bonus_minutes");
    CHECK(validate(VolumeTier{"C1", std::string(33, '4'), 10, money("0.01"), 5}).error().field == "prefix");
    CHECK(validate(VolumeTier{"C1", "44", 10, money("0.01"), 5}));
    WorkCalendar utc;
    CHECK(*month_end("2026-11", utc) == at("2026-12-01"));
    CHECK(*month_end("2026-12", utc) == at("2027-01-01"));
    CHECK(month_end("2026-13", utc).error().field == "month");
    CHECK(month_end("26-11", utc).error().field == "month");
    WorkCalendar shanghai;
    auto sh = TimeZone::from_tzif("Asia/Shanghai", zone_file("Asia/Shanghai"));
    REQUIRE(sh);
    shanghai.zone = std::make_shared<const TimeZone>(std::move(*sh));
    CHECK(*month_end("2026-11", shanghai) == at("2026-11-30 16:00:00"));
    // London: April starts in summer time (BST, UTC+1), March in winter time
    WorkCalendar london;
    auto lo = TimeZone::from_tzif("Europe/London", zone_file("Europe/London"));
    REQUIRE(lo);
    london.zone = std::make_shared<const TimeZone>(std::move(*lo));
    CHECK(*month_end("2026-03", london) == at("2026-03-31 23:00:00"));
    CHECK(*month_end("2026-10", london) == at("2026-11-01 00:00:00"));
}

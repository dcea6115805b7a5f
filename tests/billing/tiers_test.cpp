// Tests for libbilling/src/tiers.cpp: tiered pricing by monthly volume (issue 14). The whole
// call is priced at the tier in which it starts; the month is the calendar's local month.
#include <catch2/catch.hpp>

#include <fstream>
#include <memory>
#include <sstream>

#include "billing/tiers.hpp"
#include "billing/tz.hpp"
#include "billing_fixtures.hpp"
#include "rating_fixture.hpp"

using namespace billing;
using namespace billing_test;

namespace {

WorkCalendar calendar_in(const char* zone) {
    WorkCalendar cal;
    auto tz = TimeZone::from_tzif(zone, zone_file(zone));
    REQUIRE(tz);
    cal.zone = std::make_shared<const TimeZone>(std::move(*tz));
    return cal;
}

struct TierFixture : RatingFixture {
    VolumeTiers tiers;
    TierFixture() {
        REQUIRE(tiers.add({"C1", "44", 0, money("0.0200")}));
        REQUIRE(tiers.add({"C1", "44", 2, money("0.0100")}));
        REQUIRE(tiers.add({"C1", "44", 100000, money("0.0050")}));
    }
    // Rates the call and prices it at the volume before it; returns the CDR.
    Cdr priced(const CallRecord& call, std::int64_t volume_before_s) const {
        auto [rating, cdr] = rated(call);
        auto m = tiers.find(call.customer, call.callee);
        REQUIRE(m);
        auto ok = apply_volume_tier(cdr, rating, *m, volume_month(*call.answer_ms, cfg.calendar),
                                    volume_before_s, cfg.currency);
        REQUIRE(ok);
        CHECK(*ok);
        return cdr;
    }
};

}  // namespace

TEST_CASE("tiers: the tier of a volume is the last threshold reached", "[billing][tiers]") {
    TierFixture f;
    auto m = f.tiers.find("C1", "442071234567");
    REQUIRE(m);
    CHECK(m->prefix == "44");
    REQUIRE(m->tiers.size() == 3);
    CHECK(tier_for(m->tiers, 0)->price == money("0.0200"));
    CHECK(tier_for(m->tiers, 119)->price == money("0.0200"));  // 1 min 59 s: still the first
    CHECK(tier_for(m->tiers, 120)->price == money("0.0100"));  // exactly 2 min: the second
    CHECK(tier_for(m->tiers, 6'000'000 - 1)->price == money("0.0100"));
    CHECK(tier_for(m->tiers, 6'000'000)->price == money("0.0050"));
    // No tier from minute 0: below the first threshold there is none (the rate's price).
    std::vector<VolumeTier> from_ten = {{"C1", "44", 10, money("0.01")}};
    CHECK(tier_for(from_ten, 599) == nullptr);
    CHECK(tier_for(from_ten, 600) != nullptr);
    // Longest tier prefix of the account; other accounts and numbers have none.
    REQUIRE(f.tiers.add({"C1", "4420", 0, money("0.0300")}));
    CHECK(f.tiers.find("C1", "442071234567")->prefix == "4420");
    CHECK(f.tiers.find("C1", "447700900123")->prefix == "44");
    CHECK_FALSE(f.tiers.find("C1", "33123"));
    CHECK_FALSE(f.tiers.find("C2", "442071234567"));
    // Data checks.
    CHECK(f.tiers.add({"C1", "44", 2, money("0.0090")}).error().code == ErrorCode::duplicate);
    CHECK_FALSE(f.tiers.add({"C1", "4x", 0, money("0.01")}));
    CHECK_FALSE(f.tiers.add({"", "44", 0, money("0.01")}));
    CHECK_FALSE(f.tiers.add({"C1", "44", -1, money("0.01")}));
    CHECK_FALSE(f.tiers.add({"C1", "44", 5, money("-0.01")}));
    CHECK(f.tiers.all().size() == 4);
}

TEST_CASE("tiers: a call crossing a threshold is priced whole at the tier it starts in", "[billing][tiers]") {
    TierFixture f;
    // 90 s from a volume of 60 s (1 min): it starts in the first tier and ends at 150 s,
    // past the 2-minute threshold; all 90 s at 0.0200 = 0.0300 (not 60 s at 0.02 + 30 s at 0.01).
    Cdr a = f.priced(f.call("442071234567", "2026-11-10 10:00:00", 90), 60);
    CHECK(a.customer_billed_s == 90);
    CHECK(a.customer_price == money("0.0200"));
    CHECK(a.charge == money("0.0300"));
    CHECK(a.cost == money("0.0075"));
    CHECK(a.profit == money("0.0225"));
    CHECK(a.tier_prefix == "44");
    CHECK(a.tier_month == "2026-11");
    CHECK(a.volume_before_s == 60);
    // The next call starts at 150 s: the second tier for all of it.
    Cdr b = f.priced(f.call("442071234567", "2026-11-10 11:00:00", 61), 150);
    CHECK(b.customer_billed_s == 66);  // 6 s increments
    CHECK(b.customer_price == money("0.0100"));
    CHECK(b.charge == money("0.0110"));
    // Rounding is the rater's: once per call at the currency precision (up at 4 dp):
    // 7 s at 0.0100 -> 12 s billed = 0.002 exactly; 13 s -> 18 s = 0.003.
    CHECK(f.priced(f.call("442071234567", "2026-11-10 12:00:00", 13), 150).charge == money("0.0030"));
    // The rate's first period, increment and connection fee stay; the tier price replaces
    // both per-minute prices: 447 has first 60 s at 0.09 then 0.06, fee 0.001. At the tier
    // 0.0100: 0.001 + (60 s + 6 s) at 0.01 = 0.001 + 0.011 = 0.0120.
    Cdr c = f.priced(f.call("447700900123", "2026-11-10 13:00:00", 65), 200);
    CHECK(c.rate_prefix == "447");
    CHECK(c.customer_billed_s == 66);
    CHECK(c.charge == money("0.0120"));
    // Unanswered: counted 0 s, charged 0.
    CallRecord un = f.call("442071234567", "2026-11-10 14:00:00", 0);
    un.answer_ms.reset();
    auto [r, u] = f.rated(un);
    auto ok = apply_volume_tier(u, r, *f.tiers.find("C1", un.callee), "2026-11", 500, f.cfg.currency);
    REQUIRE(ok);
    CHECK(u.charge == money("0"));
    CHECK(u.customer_billed_s == 0);
    // A call without a customer rate (the rater's no_rate CDR) is not priced by tiers.
    CallRating none;
    Cdr n = make_cdr(f.call("442071234567", "2026-11-10 15:00:00", 60), none);
    auto applied = apply_volume_tier(n, none, *f.tiers.find("C1", "442071234567"), "2026-11", 0, f.cfg.currency);
    REQUIRE(applied);
    CHECK_FALSE(*applied);
    CHECK(n.tier_prefix.empty());
    CHECK(n.charge == money("0"));
}

TEST_CASE("tiers: the month is the calendar's local month (non-UTC zones, DST)", "[billing][tiers]") {
    // Asia/Shanghai (UTC+8): 2026-11-30 15:59:59 UTC is Nov 30 23:59:59 local; one second
    // later it is December 1st, eight hours before UTC's month changes.
    WorkCalendar sh = calendar_in("Asia/Shanghai");
    CHECK(volume_month(at("2026-11-30 15:59:59"), sh) == "2026-11");
    CHECK(volume_month(at("2026-11-30 16:00:00"), sh) == "2026-12");
    CHECK(volume_month(at("2026-12-31 16:00:00"), sh) == "2027-01");  // and the year
    // America/New_York: -5 h in winter, -4 h in summer (DST).
    WorkCalendar ny = calendar_in("America/New_York");
    CHECK(volume_month(at("2026-12-01 04:59:59"), ny) == "2026-11");
    CHECK(volume_month(at("2026-12-01 05:00:00"), ny) == "2026-12");
    CHECK(volume_month(at("2026-07-01 03:59:59"), ny) == "2026-06");
    CHECK(volume_month(at("2026-07-01 04:00:00"), ny) == "2026-07");
    // UTC and a fixed offset; instants before 1970 floor correctly.
    WorkCalendar utc;
    CHECK(volume_month(at("2026-11-30 23:59:59"), utc) == "2026-11");
    CHECK(volume_month(at("2026-12-01 00:00:00"), utc) == "2026-12");
    CHECK(volume_month(-1, utc) == "1969-12");
    WorkCalendar minus;
    minus.utc_offset_minutes = -90;
    CHECK(volume_month(at("2026-12-01 01:29:59"), minus) == "2026-11");
    CHECK(volume_month(at("2026-12-01 01:30:00"), minus) == "2026-12");

    // The reset: a CDR priced by tiers names its month, so the volume (counted per month by
    // the store) starts again at 0 after the local boundary. In Shanghai, the call at
    // 15:30 UTC on Nov 30 is in November's second tier; the one at 16:30 UTC in December's first.
    TierFixture f;
    f.cfg.calendar = sh;
    Cdr nov = f.priced(f.call("442071234567", "2026-11-30 15:30:00", 60), 150);
    CHECK(nov.tier_month == "2026-11");
    CHECK(nov.charge == money("0.0100"));
    Cdr dec = f.priced(f.call("442071234567", "2026-11-30 16:30:00", 60), 0);
    CHECK(dec.tier_month == "2026-12");
    CHECK(dec.charge == money("0.0200"));
}

// Tests for libbilling/src/packages.cpp: packages (issue 14, VOS3000 packages). The package
// covers the first billed seconds of a call; the rest is priced at the rate (or tier) price,
// positionally, with the connection fee, rounded once per call.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "billing/packages.hpp"
#include "billing_fixtures.hpp"
#include "rating_fixture.hpp"

using namespace billing;
using namespace billing_test;

namespace {

Package uk_package() {
    return Package{"C1", "uk", {"44", "33"}, 300, money("1.00"), at("2026-11-01 00:00:00"), at("2026-12-01 00:00:00")};
}

struct PackageFixture : RatingFixture {
    // Rates the call and applies the package at `used` seconds used before it.
    std::pair<Cdr, bool> priced(const CallRecord& call, const Package& p, std::int64_t used,
                                std::optional<Money> tier_price = std::nullopt) const {
        auto [rating, cdr] = rated(call);
        auto ok = apply_package(cdr, rating, p, used, cfg.currency, tier_price);
        REQUIRE(ok);
        return {cdr, *ok};
    }
};

}  // namespace

TEST_CASE("packages: a call fully inside the package costs nothing", "[billing][packages]") {
    PackageFixture f;
    auto [c, used] = f.priced(f.call("442071234567", "2026-11-10 10:00:00", 90), uk_package(), 0);
    CHECK(used);
    CHECK(c.customer_billed_s == 90);  // still the billed seconds (and the tier volume)
    CHECK(c.charge == money("0"));
    CHECK(c.cost == money("0.0075"));  // the vendor is paid: 90 s at 0.0050
    CHECK(c.profit == money("-0.0075"));
    CHECK(c.customer_price == money("0.0125"));
    CHECK(c.package_name == "uk");
    CHECK(c.package_s == 90);
    CHECK(c.package_before_s == 0);
    // Covered entirely, the connection fee is not charged either: 65 s to 447 (60 + 6 billed).
    auto [m, m_used] = f.priced(f.call("447700900123", "2026-11-10 10:00:00", 65), uk_package(), 0);
    CHECK(m_used);
    CHECK(m.customer_billed_s == 66);
    CHECK(m.package_s == 66);
    CHECK(m.charge == money("0"));
    // Exactly the remaining seconds: covered, nothing left to pay.
    auto [e, e_used] = f.priced(f.call("442071234567", "2026-11-10 10:00:00", 60), uk_package(), 240);
    CHECK(e_used);
    CHECK(e.package_s == 60);
    CHECK(e.charge == money("0"));
}

TEST_CASE("packages: a call partly covered pays the rest at the rate, rounded once", "[billing][packages]") {
    PackageFixture f;
    // 95 s -> 96 s billed (6 s increments); 250 of 300 s used: 50 s covered, 46 s paid at
    // 0.0125: 12500 * 46 / 60 = 9583.33 micros -> up at 4 dp = 0.0096 (the whole call at the
    // rate would be 0.0200). The rest is not rounded to increments again.
    auto [c, used] = f.priced(f.call("442071234567", "2026-11-10 10:00:00", 95), uk_package(), 250);
    CHECK(used);
    CHECK(c.customer_billed_s == 96);
    CHECK(c.package_s == 50);
    CHECK(c.package_before_s == 250);
    CHECK(c.charge == money("0.0096"));
    CHECK(c.cost == money("0.0080"));  // 96 s at 0.0050
    CHECK(c.profit == money("0.0016"));
    // Positional: the uncovered seconds keep the price of their place in the rate. 447: 65 s
    // -> 60 s first period at 0.09 + 6 s at 0.06, fee 0.001; 30 s left in the package cover
    // the first 30 s. Paid: 30 s at 0.09 + 6 s at 0.06 + 0.001 =
    // (1000*60 + 90000*30 + 60000*6) / 60 = 3120000 / 60 = 52000 micros = 0.0520.
    auto [m, m_used] = f.priced(f.call("447700900123", "2026-11-10 10:00:00", 65), uk_package(), 270);
    CHECK(m_used);
    CHECK(m.package_s == 30);
    CHECK(m.charge == money("0.0520"));
    // 20 s left (280 used) cover the first 20 s of the first period: 40 s at 0.09 + 6 s at
    // 0.06 + 0.001 = (60000 + 3600000 + 360000) / 60 = 67000 micros.
    CHECK(f.priced(f.call("447700900123", "2026-11-10 10:00:00", 65), uk_package(), 280).first.charge ==
          money("0.0670"));
    // Tiers first: at a tier price of 0.0100 the same 46 s cost 10000 * 46 / 60 = 7666.67
    // micros -> up 0.0077; the tier price replaces the first-period price too.
    auto [t, t_used] = f.priced(f.call("442071234567", "2026-11-10 10:00:00", 95), uk_package(), 250, money("0.0100"));
    CHECK(t_used);
    CHECK(t.charge == money("0.0077"));
    CHECK(f.priced(f.call("447700900123", "2026-11-10 10:00:00", 65), uk_package(), 270, money("0.0100"))
              .first.charge == money("0.0070"));  // (60000 + 10000*36) / 60 = 7000 micros
    // The rounding is the currency's: 9583.33 micros at 2 dp rounded down -> 0.00.
    PackageFixture g;
    g.cfg.currency.precision = 2;
    g.cfg.currency.rounding = Rounding::down;
    CHECK(g.priced(g.call("442071234567", "2026-11-10 10:00:00", 95), uk_package(), 250).first.charge == money("0"));
}

TEST_CASE("packages: used up, expired, unanswered, other numbers: the rate applies", "[billing][packages]") {
    PackageFixture f;
    const CallRecord call = f.call("442071234567", "2026-11-10 10:00:00", 95);
    // Used up: the rate's 96 s at 0.0125 = 0.0200, no package fields.
    auto [u, u_used] = f.priced(call, uk_package(), 300);
    CHECK_FALSE(u_used);
    CHECK(u.charge == money("0.0200"));
    CHECK(u.package_name.empty());
    CHECK(u.package_s == 0);
    // Expired (valid_until is exclusive) or not yet valid, by the answer time.
    CHECK_FALSE(f.priced(f.call("442071234567", "2026-12-01 00:00:00", 95), uk_package(), 0).second);
    CHECK_FALSE(f.priced(f.call("442071234567", "2026-10-31 23:59:59", 95), uk_package(), 0).second);
    CHECK(f.priced(f.call("442071234567", "2026-11-30 23:59:59", 95), uk_package(), 0).second);
    CHECK(f.priced(f.call("442071234567", "2026-11-01 00:00:00", 95), uk_package(), 0).second);
    // Unanswered: nothing consumed.
    CallRecord un = call;
    un.answer_ms.reset();
    auto [n, n_used] = f.priced(un, uk_package(), 0);
    CHECK_FALSE(n_used);
    CHECK(n.charge == money("0"));
    // Free time: billed 0 s, nothing consumed.
    PackageFixture g;
    g.cfg.free_time_s = 3;
    CHECK_FALSE(g.priced(g.call("442071234567", "2026-11-10 10:00:00", 2), uk_package(), 0).second);
    // Another account's package, or a number none of its prefixes begins.
    Package other = uk_package();
    other.account = "C2";
    CHECK_FALSE(f.priced(call, other, 0).second);
    Package fr = uk_package();
    fr.prefixes = {"33"};
    CHECK_FALSE(f.priced(call, fr, 0).second);
    // A call without a customer rate is not touched.
    CallRating none;
    Cdr nr = make_cdr(call, none);
    auto ok = apply_package(nr, none, uk_package(), 0, f.cfg.currency);
    REQUIRE(ok);
    CHECK_FALSE(*ok);
    CHECK(nr.package_name.empty());
    // Usage below zero is a caller error.
    auto [r, bad] = f.rated(call);
    CHECK_FALSE(apply_package(bad, r, uk_package(), -1, f.cfg.currency));
}

TEST_CASE("packages: the longest prefix wins, then the one expiring first", "[billing][packages]") {
    Packages ps;
    REQUIRE(ps.add(uk_package()));
    Package mobile{"C1", "mobile", {"447"}, 600, money("2"), at("2026-11-01 00:00:00"), at("2027-01-01 00:00:00")};
    REQUIRE(ps.add(mobile));
    Package later = uk_package();
    later.name = "uk-dec";
    later.valid_until = at("2026-12-31 00:00:00");
    REQUIRE(ps.add(later));
    const Timestamp t = at("2026-11-10 10:00:00");
    auto c = ps.candidates("C1", "447700900123", t);
    REQUIRE(c.size() == 3);
    CHECK(c[0]->name == "mobile");  // 447 is longer than 44
    CHECK(c[1]->name == "uk");      // same prefix: expires first
    CHECK(c[2]->name == "uk-dec");
    c = ps.candidates("C1", "442071234567", t);
    REQUIRE(c.size() == 2);
    CHECK(c[0]->name == "uk");
    c = ps.candidates("C1", "33123", t);
    REQUIRE(c.size() == 2);
    // After uk's validity only uk-dec (and mobile) remain.
    c = ps.candidates("C1", "447700900123", at("2026-12-05 00:00:00"));
    REQUIRE(c.size() == 2);
    CHECK(c[1]->name == "uk-dec");
    CHECK(ps.candidates("C1", "49123", t).empty());
    CHECK(ps.candidates("C2", "447700900123", t).empty());
    CHECK(ps.find("C1", "mobile")->seconds == 600);
    CHECK(ps.find("C1", "nope") == nullptr);
    CHECK(uk_package().match("4420") == 2);
    CHECK(mobile.match("4420") == 0);
    auto all = ps.all();
    REQUIRE(all.size() == 3);
    CHECK(all[0].name == "mobile");
    CHECK(all[2].name == "uk-dec");
}

TEST_CASE("packages: validation names the field", "[billing][packages]") {
    auto field_of = [](Package p) {
        auto ok = validate(p);
        REQUIRE_FALSE(ok);
        CHECK(ok.error().code == ErrorCode::invalid_argument);
        return ok.error().field;
    };
    CHECK(validate(uk_package()));
    Package p = uk_package();
    p.account.clear();
    CHECK(field_of(p) == "account");
    p = uk_package();
    p.name = "";
    CHECK(field_of(p) == "name");
    p.name = "a,b";
    CHECK(field_of(p) == "name");
    p.name = std::string(65, 'x');
    CHECK(field_of(p) == "name");
    p = uk_package();
    p.prefixes = {};
    CHECK(field_of(p) == "prefixes");
    p.prefixes = {"44", "4x"};
    CHECK(field_of(p) == "prefixes");
    p.prefixes = {"44", "44"};
    CHECK(field_of(p) == "prefixes");
    p.prefixes = {""};
    CHECK(field_of(p) == "prefixes");
    p = uk_package();
    p.seconds = 0;
    CHECK(field_of(p) == "seconds");
    p = uk_package();
    p.fee = money("-0.01");
    CHECK(field_of(p) == "fee");
    p = uk_package();
    p.valid_until = p.valid_from;
    CHECK(field_of(p) == "valid_until");
    Packages ps;
    REQUIRE(ps.add(uk_package()));
    CHECK(ps.add(uk_package()).error().code == ErrorCode::duplicate);
    // The list form used by trunkctl and the store.
    CHECK(split_prefixes("44, 33,447") == std::vector<std::string>{"44", "33", "447"});
    CHECK(split_prefixes("").empty());
    CHECK(split_prefixes("44,,33") == std::vector<std::string>{"44", "", "33"});  // refused by validate
    CHECK(join_prefixes({"44", "33"}) == "44,33");
}

TEST_CASE("packages: max_call_duration counts the package's seconds left as free", "[billing][packages]") {
    PackageFixture f;
    const Rater rater(f.book, f.cfg);
    const Timestamp now = at("2026-11-10 10:00:00");
    const std::string uk = "442071234567";  // 0.0125 per minute in 6 s increments, no fee
    REQUIRE(f.book.adjust_balance("C1", money("0.0125")));
    CHECK(*rater.max_call_duration("C1", uk, now) == 60);  // 60 s cost 0.0125
    // 120 s left: the first 120 billed seconds are free, then 60 s paid: 180 s.
    CHECK(*rater.max_call_duration("C1", uk, now, {}, 120) == 180);
    // 50 s left: not "60 + 50": 110 s bill 114 s, 64 s paid = 0.01334 -> 0.0134 > 0.0125.
    // 108 s bill 108, 58 s paid = 0.01209 -> 0.0121 fits.
    CHECK(*rater.max_call_duration("C1", uk, now, {}, 50) == 108);
    CHECK(*rater.max_call_duration("C1", uk, now, {}, 1'000'000) == 7200);  // the cap
    // Nothing available: only the calls the package covers entirely (30 s; 31 s bill 36).
    REQUIRE(f.book.adjust_balance("C1", money("-0.0125")));
    CHECK(*rater.max_call_duration("C1", uk, now) == 0);
    CHECK(*rater.max_call_duration("C1", uk, now, {}, 30) == 30);
    REQUIRE(f.book.adjust_balance("C1", money("-1")));  // over the credit limit: the same
    CHECK(*rater.max_call_duration("C1", uk, now, {}, 30) == 30);
    // Under a first period (447: 60 s at 0.09, then 0.06, fee 0.001), 30 s left and 0.0520
    // available: the 66 s call of the worked example costs exactly 0.0520; 72 s cost 0.0580.
    REQUIRE(f.book.adjust_balance("C1", money("1.0520")));
    CHECK(*rater.max_call_duration("C1", "447700900123", now, {}, 30) == 66);
}

TEST_CASE("packages: seconds_left finds the package cdr import would use", "[billing][packages]") {
    Packages ps;
    REQUIRE(ps.add(uk_package()));  // 44,33, 300 s, November
    Package wide{"C1", "all", {"4"}, 600, money("0"), at("2026-11-01 00:00:00"), at("2027-01-01 00:00:00")};
    REQUIRE(ps.add(wide));
    std::map<std::string, std::int64_t> used;
    auto usage = [&](const Package& p) -> Result<std::int64_t> { return used[p.name]; };
    const Timestamp nov = at("2026-11-10 10:00:00");
    CHECK(*ps.seconds_left("C1", "442071234567", nov, usage) == 300);  // the longest prefix first
    used["uk"] = 280;
    CHECK(*ps.seconds_left("C1", "442071234567", nov, usage) == 20);
    used["uk"] = 300;  // used up: the next candidate
    CHECK(*ps.seconds_left("C1", "442071234567", nov, usage) == 600);
    CHECK(*ps.seconds_left("C1", "442071234567", at("2026-12-05 00:00:00"), usage) == 600);  // uk expired
    CHECK(*ps.seconds_left("C1", "1555", nov, usage) == 0);   // no prefix
    CHECK(*ps.seconds_left("C2", "4420", nov, usage) == 0);   // another account
    auto failing = [](const Package&) -> Result<std::int64_t> { return fail(ErrorCode::io_error, "disk"); };
    CHECK(ps.seconds_left("C1", "4420", nov, failing).error().code == ErrorCode::io_error);
}

// Tests for libbilling/src/commitments.cpp: commitment discounts (issue 14). The month's
// billed seconds meet the contracted minutes or not; the discount is the percentage of the
// month's charge rounded once at the currency precision with the currency rule.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "billing/commitments.hpp"
#include "billing/tiers.hpp"
#include "billing/tz.hpp"
#include "billing_fixtures.hpp"

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

CommitmentResult eval(const Commitment& c, std::int64_t actual_s, const char* charge,
                      Currency cur = Currency{"USD", 4, Rounding::up}) {
    auto r = evaluate_commitment(c, actual_s, money(charge), cur);
    REQUIRE(r);
    return *r;
}

}  // namespace

TEST_CASE("commitments: met, not met and the exact boundary", "[billing][commitments]") {
    const Commitment c{"C1", "44", 10, 50000};  // 10 min = 600 s, 5%
    auto below = eval(c, 599, "1.0000");
    CHECK_FALSE(below.met);
    CHECK(below.shortfall_s == 1);
    CHECK(below.discount == money("0"));  // not met: nothing, whatever the charge
    CHECK(below.charge == money("1.0000"));
    auto exact = eval(c, 600, "1.0000");  // exactly the contracted volume is met
    CHECK(exact.met);
    CHECK(exact.shortfall_s == 0);
    CHECK(exact.discount == money("0.05"));
    auto above = eval(c, 601, "1.0000");
    CHECK(above.met);
    CHECK(above.shortfall_s == 0);
    auto none = eval(c, 0, "0");
    CHECK_FALSE(none.met);
    CHECK(none.shortfall_s == 600);
    CHECK(none.contracted_s() == 600);
    // Met with a charge of 0 or less (credits): no discount, never a negative one.
    CHECK(eval(c, 600, "0").discount == money("0"));
    CHECK(eval(c, 600, "-1.00").discount == money("0"));
    CHECK(eval({"C1", "44", 10, 0}, 600, "1.00").discount == money("0"));
    CHECK_FALSE(evaluate_commitment(c, -1, money("0"), Currency{}));
}

TEST_CASE("commitments: the discount is rounded once with the currency rule", "[billing][commitments]") {
    const Commitment c{"C1", "", 1, 50000};  // 5%
    // 1.2345 x 5% = 0.061725 exactly (61725 micro-units).
    CHECK(eval(c, 60, "1.2345", {"USD", 4, Rounding::up}).discount == money("0.0618"));
    CHECK(eval(c, 60, "1.2345", {"USD", 4, Rounding::half_up}).discount == money("0.0617"));
    CHECK(eval(c, 60, "1.2345", {"USD", 4, Rounding::down}).discount == money("0.0617"));
    CHECK(eval(c, 60, "1.2345", {"USD", 2, Rounding::up}).discount == money("0.07"));
    CHECK(eval(c, 60, "1.2345", {"USD", 2, Rounding::half_up}).discount == money("0.06"));
    CHECK(eval(c, 60, "1.2345", {"USD", 6, Rounding::down}).discount == money("0.061725"));
    // 0.0010 x 5% = 0.00005: a tie at 4 decimals goes away from zero with half-up.
    CHECK(eval(c, 60, "0.0010", {"USD", 4, Rounding::half_up}).discount == money("0.0001"));
    CHECK(eval(c, 60, "0.0010", {"USD", 4, Rounding::down}).discount == money("0"));
    // 12.5% ("12.5%" = 125000 ppm) of 0.0125: 0.0015625 -> 0.0016 up.
    CHECK(eval({"C1", "", 1, *parse_ratio_ppm("12.5%")}, 60, "0.0125").discount == money("0.0016"));
    CHECK(eval({"C1", "", 1, 1000000}, 60, "3.3333").discount == money("3.3333"));  // 100%
}

TEST_CASE("commitments: a call counts toward the account's longest matching prefix", "[billing][commitments]") {
    const std::vector<Commitment> all = {{"C1", "", 100, 10000}, {"C1", "44", 10, 50000}, {"C1", "4420", 5, 70000},
                                         {"C2", "44", 1, 1000}};
    auto for_ = [&](const char* account, const char* number) {
        const Commitment* c = commitment_for(all, account, number);
        return c == nullptr ? std::string("none") : c->prefix;
    };
    CHECK(for_("C1", "442071234567") == "4420");
    CHECK(for_("C1", "441611234567") == "44");
    CHECK(for_("C1", "33123456") == "");  // "" takes what no longer prefix takes
    CHECK(for_("C1", "") == "");
    CHECK(for_("C2", "33123456") == "none");
    CHECK(for_("C2", "4420") == "44");
    CHECK(for_("C3", "44") == "none");
}

TEST_CASE("commitments: validation names the field", "[billing][commitments]") {
    auto field = [](const Commitment& c) {
        auto ok = validate(c);
        return ok ? std::string("ok") : ok.error().field;
    };
    CHECK(field({"C1", "44", 1, 50000}) == "ok");
    CHECK(field({"C1", "", 1000000000, 1000000}) == "ok");
    CHECK(field({"C1", "44", 1, 0}) == "ok");
    CHECK(field({"", "44", 1, 50000}) == "account");
    CHECK(field({"C1", "4x", 1, 50000}) == "prefix");
    CHECK(field({"C1", "+44", 1, 50000}) == "prefix");
    CHECK(field({"C1", std::string(65, '4'), 1, 50000}) == "prefix");
    CHECK(field({"C1", "44", 0, 50000}) == "minutes");
    CHECK(field({"C1", "44", 1000000001, 50000}) == "minutes");
    CHECK(field({"C1", "44", 1, -1}) == "discount");
    CHECK(field({"C1", "44", 1, 1000001}) == "discount");
    auto e = evaluate_commitment({"C1", "44", 0, 1}, 0, money("0"), Currency{});
    REQUIRE_FALSE(e);
    CHECK(e.error().field == "minutes");
}

TEST_CASE("commitments: the month is the local calendar month, daylight saving included", "[billing][commitments]") {
    auto range = [](const char* month, const WorkCalendar& cal) {
        auto r = month_range(month, cal);
        REQUIRE(r);
        return *r;
    };
    const WorkCalendar utc;
    CHECK(range("2026-11", utc) == std::pair{T("2026-11-01"), T("2026-12-01")});
    CHECK(range("2026-12", utc) == std::pair{T("2026-12-01"), T("2027-01-01")});
    // Asia/Shanghai (UTC+8, no DST): local midnight of the 1st is 16:00 UTC the day before.
    const WorkCalendar sh = calendar_in("Asia/Shanghai");
    CHECK(range("2026-12", sh) == std::pair{T("2026-11-30 16:00:00"), T("2026-12-31 16:00:00")});
    // Europe/London: October 2026 starts in BST (23:00 UTC) and ends in GMT (00:00 UTC), 25 h
    // longer than 30 days; April starts and ends in BST.
    const WorkCalendar uk = calendar_in("Europe/London");
    CHECK(range("2026-10", uk) == std::pair{T("2026-09-30 23:00:00"), T("2026-11-01 00:00:00")});
    CHECK(range("2026-04", uk) == std::pair{T("2026-03-31 23:00:00"), T("2026-04-30 23:00:00")});
    // The edges agree with volume_month() (the tiers' month) to the millisecond.
    for (const WorkCalendar* cal : {&utc, &sh, &uk}) {
        const auto [from, until] = range("2026-10", *cal);
        CHECK(volume_month(from - 1, *cal) == "2026-09");
        CHECK(volume_month(from, *cal) == "2026-10");
        CHECK(volume_month(until - 1, *cal) == "2026-10");
        CHECK(volume_month(until, *cal) == "2026-11");
    }
    WorkCalendar plus2;
    plus2.utc_offset_minutes = 120;
    CHECK(range("2027-01", plus2) == std::pair{T("2026-12-31 22:00:00"), T("2027-01-31 22:00:00")});
    for (const char* bad : {"2026-13", "2026-00", "2026-1", "26-11", "2026/11", "2026-11-01", "", "0000-01", "2026-1x"}) {
        auto r = month_range(bad, utc);
        REQUIRE_FALSE(r);
        CHECK(r.error().field == "month");
    }
}

TEST_CASE("commitments: report formats", "[billing][commitments]") {
    CommitmentReport rep;
    rep.month = "2026-11";
    rep.decimals = 4;
    rep.rows.push_back(eval({"C1", "", 1, 50000}, 90, "0.0300"));
    rep.rows.push_back(eval({"C1", "44", 10, 50000}, 150, "0.0500"));
    CHECK(format_table(rep) ==
          "account  prefix  discount_rate  contracted_min  actual_min  shortfall_min  met  charge  discount\n"
          "------------------------------------------------------------------------------------------------\n"
          "C1       *               5.00%            1.00        1.50           0.00  yes  0.0300    0.0015\n"
          "C1       44              5.00%           10.00        2.50           7.50  no   0.0500    0.0000\n");
    CHECK(format_csv(rep) ==
          "account,prefix,discount_rate,contracted_min,actual_min,shortfall_min,met,charge,discount\n"
          "C1,,5.00%,1.00,1.50,0.00,yes,0.0300,0.0015\n"
          "C1,44,5.00%,10.00,2.50,7.50,no,0.0500,0.0000\n");
    CHECK(format_json(rep) ==
          "{\"report\":\"commitments\",\"month\":\"2026-11\",\"rows\":["
          "{\"account\":\"C1\",\"prefix\":\"\",\"discount_rate\":\"5.00%\",\"contracted_min\":\"1.00\","
          "\"actual_min\":\"1.50\",\"shortfall_min\":\"0.00\",\"met\":true,\"charge\":\"0.0300\",\"discount\":\"0.0015\","
          "\"contracted_s\":60,\"actual_s\":90,\"shortfall_s\":0},"
          "{\"account\":\"C1\",\"prefix\":\"44\",\"discount_rate\":\"5.00%\",\"contracted_min\":\"10.00\","
          "\"actual_min\":\"2.50\",\"shortfall_min\":\"7.50\",\"met\":false,\"charge\":\"0.0500\",\"discount\":\"0.0000\","
          "\"contracted_s\":600,\"actual_s\":150,\"shortfall_s\":450}]}\n");
}

// Tests for libbilling/src/money.cpp and time.cpp: exact parsing/printing, checked
// arithmetic, the three rounding rules, ratios, dates and the work calendar.
#include <catch2/catch.hpp>

#include "billing/money.hpp"
#include "billing/time.hpp"

using billing::ErrorCode;
using billing::Money;
using billing::Rounding;

static Money M(const char* s) {
    auto r = Money::parse(s);
    REQUIRE(r);
    return *r;
}

TEST_CASE("money: parse and print are exact", "[billing][money]") {
    CHECK(M("0.0125").micros() == 12500);
    CHECK(M("-12.5").micros() == -12500000);
    CHECK(M("+3").micros() == 3000000);
    CHECK(M(".5").micros() == 500000);
    CHECK(M("7.").micros() == 7000000);
    CHECK(M("1.123456").micros() == 1123456);
    CHECK(M("1.1234560000").micros() == 1123456);  // extra zeros are fine
    CHECK(M("9223372036854.775807").micros() == INT64_MAX);
    CHECK(M("-9223372036854.775808").micros() == INT64_MIN);
    CHECK(M("1.5").to_string() == "1.50");
    CHECK(M("1.5").to_string(0) == "1.5");
    CHECK(M("0.123").to_string(2) == "0.123");
    CHECK(M("-0.000001").to_string() == "-0.000001");
    CHECK(M("-9223372036854.775808").to_string() == "-9223372036854.775808");
    CHECK(M("42").to_string(4) == "42.0000");
    CHECK(Money::from_micros(0).to_string(0) == "0");
}

TEST_CASE("money: bad text is an error, never a rounding", "[billing][money]") {
    for (const char* bad : {"", "-", ".", "1,5", "1.2.3", "abc", "1e5", " 1", "0x10", "1.0000001"}) {
        auto r = Money::parse(bad);
        INFO(bad);
        CHECK_FALSE(r);
    }
    auto big = Money::parse("9223372036854.775808");
    REQUIRE_FALSE(big);
    CHECK(big.error().code == ErrorCode::overflow);
    auto many = Money::parse("99999999999999999999999");
    REQUIRE_FALSE(many);
    CHECK(many.error().code == ErrorCode::overflow);
}

TEST_CASE("money: arithmetic is overflow-checked", "[billing][money]") {
    const Money max = Money::from_micros(INT64_MAX);
    CHECK(max.add(Money::from_micros(1)).error().code == ErrorCode::overflow);
    CHECK(Money::from_micros(INT64_MIN).sub(Money::from_micros(1)).error().code == ErrorCode::overflow);
    CHECK(Money::from_micros(INT64_MIN).negate().error().code == ErrorCode::overflow);
    CHECK(M("1000000000").mul(10000).error().code == ErrorCode::overflow);
    CHECK(*M("1.25").add(M("2.75")) == M("4"));
    CHECK(*M("1.25").sub(M("2.75")) == M("-1.5"));
    CHECK(*M("0.000001").mul(3) == M("0.000003"));
    CHECK(Money::from_units(INT64_MAX / 1000000 + 1).error().code == ErrorCode::overflow);
}

TEST_CASE("money: rounding rules at 4 decimals", "[billing][money]") {
    // 0.00005 is exactly half a unit of 0.0001.
    CHECK(*M("0.00005").round(4, Rounding::up) == M("0.0001"));
    CHECK(*M("0.00005").round(4, Rounding::half_up) == M("0.0001"));
    CHECK(*M("0.00005").round(4, Rounding::down) == M("0"));
    CHECK(*M("0.000049").round(4, Rounding::half_up) == M("0"));
    CHECK(*M("0.000001").round(4, Rounding::up) == M("0.0001"));
    CHECK(*M("1.0001").round(4, Rounding::up) == M("1.0001"));  // already a multiple
    // Symmetric around zero.
    CHECK(*M("-0.00005").round(4, Rounding::half_up) == M("-0.0001"));
    CHECK(*M("-0.00001").round(4, Rounding::up) == M("-0.0001"));
    CHECK(*M("-0.00009").round(4, Rounding::down) == M("0"));
    CHECK(*M("2.5").round(0, Rounding::half_up) == M("3"));
    CHECK(*M("2.4").round(0, Rounding::up) == M("3"));
    CHECK(*M("1.234567").round(6, Rounding::up) == M("1.234567"));
    CHECK_FALSE(M("1").round(7, Rounding::up));
    CHECK(Money::from_micros(INT64_MAX).round(0, Rounding::up).error().code == ErrorCode::overflow);
}

TEST_CASE("money: mul_div prorates exactly", "[billing][money]") {
    // 0.0100 per minute for 61 s = 0.0101666... -> up 0.0102, half-up 0.0102, down 0.0101
    CHECK(*billing::mul_div(M("0.01"), 61, 60, 4, Rounding::up) == M("0.0102"));
    CHECK(*billing::mul_div(M("0.01"), 61, 60, 4, Rounding::half_up) == M("0.0102"));
    CHECK(*billing::mul_div(M("0.01"), 61, 60, 4, Rounding::down) == M("0.0101"));
    // Intermediate beyond 64 bits is fine: 9e12 * 1000 / 1000.
    CHECK(*billing::mul_div(Money::from_micros(INT64_MAX), 1000, 1000, 6, Rounding::up) ==
          Money::from_micros(INT64_MAX));
    CHECK_FALSE(billing::mul_div(M("1"), 1, 0, 4, Rounding::up));
}

TEST_CASE("money: ratios in ppm", "[billing][money]") {
    CHECK(*billing::parse_ratio_ppm("0.15") == 150000);
    CHECK(*billing::parse_ratio_ppm("15%") == 150000);
    CHECK(*billing::parse_ratio_ppm("12.3456%") == 123456);
    CHECK_FALSE(billing::parse_ratio_ppm("12.34567%"));
    CHECK(billing::format_ppm_percent(150000) == "15.00%");
    CHECK(billing::format_ppm_percent(123456) == "12.3456%");
    CHECK(billing::format_ppm_percent(-5000) == "-0.50%");
}

TEST_CASE("time: civil dates round-trip", "[billing][time]") {
    CHECK(billing::days_from_civil(1970, 1, 1) == 0);
    CHECK(billing::days_from_civil(2000, 3, 1) == 11017);
    CHECK(billing::days_from_civil(1969, 12, 31) == -1);
    for (std::int64_t d = -800000; d < 800000; d += 997) {
        int y;
        unsigned m, dd;
        billing::civil_from_days(d, y, m, dd);
        REQUIRE(billing::days_from_civil(y, m, dd) == d);
    }
    auto t = billing::parse_time("2026-11-26 09:30:15");
    REQUIRE(t);
    CHECK(billing::format_time(*t) == "2026-11-26 09:30:15");
    CHECK(billing::format_date_hour(*t) == "2026112609");
    CHECK(*billing::parse_time("2026-11-26T09:30:15Z") == *t);
    CHECK(*billing::parse_time("2026-11-26") == *billing::parse_time("2026-11-26 00:00"));
    CHECK_FALSE(billing::parse_time("2026-02-29"));
    CHECK(billing::parse_time("2024-02-29"));
    CHECK_FALSE(billing::parse_time("2026-13-01"));
    CHECK_FALSE(billing::parse_time("2026-11-26 24:00"));
    CHECK_FALSE(billing::parse_time("26/11/2026"));
}

TEST_CASE("time: work calendar periods", "[billing][time]") {
    billing::WorkCalendar cal;  // Mon-Fri 08:00-20:00
    REQUIRE(cal.add_holiday("2026-12-25"));
    auto at = [](const char* s) { return *billing::parse_time(s); };
    // 2026-11-26 is a Thursday.
    CHECK(cal.period_at(at("2026-11-26 07:59:59")) == billing::PeriodKind::offpeak);
    CHECK(cal.period_at(at("2026-11-26 08:00:00")) == billing::PeriodKind::peak);
    CHECK(cal.period_at(at("2026-11-26 19:59:59")) == billing::PeriodKind::peak);
    CHECK(cal.period_at(at("2026-11-26 20:00:00")) == billing::PeriodKind::offpeak);
    CHECK(cal.period_at(at("2026-11-28 12:00:00")) == billing::PeriodKind::weekend);  // Saturday
    CHECK(cal.period_at(at("2026-11-29 12:00:00")) == billing::PeriodKind::weekend);  // Sunday
    CHECK(cal.period_at(at("2026-12-25 12:00:00")) == billing::PeriodKind::weekend);  // holiday
    // UTC+2: 06:30 UTC is 08:30 local.
    cal.utc_offset_minutes = 120;
    CHECK(cal.period_at(at("2026-11-26 06:30:00")) == billing::PeriodKind::peak);
    // Friday 23:00 UTC is Saturday 01:00 local.
    CHECK(cal.period_at(at("2026-11-27 23:00:00")) == billing::PeriodKind::weekend);
}

// Tests for libbilling/src/settings.cpp and the rating rules it controls (rating.cpp):
// hold-time precision (VOS3000 SERVER_BILLING_HOLD_TIME_PRECISION), free time
// (SERVER_BILLING_FREE_TIME), currency precision and rounding (SERVER_BILLING_FEE_PRECISTION,
// SERVER_BILLING_FEE_UNIT), times with milliseconds, max_call_duration with them, and the
// work calendar with IANA time zones (tz.cpp; the zones come from the system tzdata).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "billing/account.hpp"
#include "billing/rating.hpp"
#include "billing_fixtures.hpp"
#include "billing/settings.hpp"
#include "billing/tz.hpp"

using namespace billing;

namespace {

using billing_test::M;
using billing_test::T;

Rate rate(const char* prefix, const char* price, int inc) {
    Rate r;
    r.prefix = prefix;
    r.price = M(price);
    r.increment_s = inc;
    return r;
}

Account account(const char* id, AccountKind kind, const char* group, const char* balance = "0") {
    Account a;
    a.id = id;
    a.kind = kind;
    a.rate_group = group;
    a.balance = M(balance);
    return a;
}

// Customer 1001 pays 0.0600/min per second (1/1); vendor 9001 costs 0.0300/min, 1/1.
struct Fixture {
    Book book;
    Fixture() {
        REQUIRE(book.add_account(account("1001", AccountKind::customer, "retail", "10")));
        REQUIRE(book.add_account(account("9001", AccountKind::vendor, "carrier")));
        REQUIRE(book.group("retail").add(rate("44", "0.0600", 1)));
        REQUIRE(book.group("carrier").add(rate("44", "0.0300", 1)));
    }
    CallRecord call(std::int64_t answered_ms) const {
        CallRecord c;
        c.callee = "442071234567";
        c.customer = "1001";
        c.vendor = "9001";
        c.answer_ms = T("2026-11-26 10:00:00");
        c.setup_ms = *c.answer_ms - 1500;
        c.end_ms = *c.answer_ms + answered_ms;
        c.sip_code = 200;
        return c;
    }
};

RatingConfig with(std::string_view key, std::string_view value, RatingConfig cfg = {}) {
    auto ok = apply_setting(cfg, key, value);
    REQUIRE(ok);
    return cfg;
}

}  // namespace

TEST_CASE("settings: hold-time precision 50 ms (VOS3000 default)", "[billing][settings]") {
    Fixture f;
    const Rater rater(f.book, with("billing.hold_time_precision_ms", "50"));
    auto at = [&](std::int64_t ms) {
        auto r = rater.rate(f.call(ms));
        REQUIRE(r);
        return r->duration_s;
    };
    CHECK(at(60001) == 60);  // 1 ms of the 61st second: under 50 ms, not billed
    CHECK(at(60049) == 60);
    CHECK(at(60050) == 61);  // 50 ms: the second is billed
    CHECK(at(60000) == 60);
    CHECK(at(49) == 0);      // under the precision: a 0 s call, free
    CHECK(at(50) == 1);
    auto r = rater.rate(f.call(60049));
    REQUIRE(r);
    CHECK(r->charge == M("0.0600"));  // 60 s at 0.06/min
    CHECK(r->hold_s == 62);           // setup -> end keeps "any started ms": 61.549 -> 62
}

TEST_CASE("settings: the default hold-time precision is VOS3000's 50 ms; 1 bills any started ms",
          "[billing][settings]") {
    Fixture f;
    const Rater rater(f.book, RatingConfig{});
    CHECK(RatingConfig{}.hold_time_precision_ms == 50);
    auto d = rater.rate(f.call(60001));
    REQUIRE(d);
    CHECK(d->duration_s == 60);
    CHECK(d->charge == M("0.0600"));
    const Rater any_ms(f.book, with("billing.hold_time_precision_ms", "1"));
    auto r = any_ms.rate(f.call(60001));
    REQUIRE(r);
    CHECK(r->duration_s == 61);
    CHECK(r->charge == M("0.0610"));
    // 1000: fractions are never billed
    const Rater trunc(f.book, with("billing.hold_time_precision_ms", "1000"));
    CHECK(trunc.rate(f.call(60999))->duration_s == 60);
}

TEST_CASE("settings: free time bills short calls 0 on both sides", "[billing][settings]") {
    Fixture f;
    // any started ms billed (precision 1), so 6.001 s is 7 s
    const Rater rater(f.book, with("billing.hold_time_precision_ms", "1", with("billing.free_time_s", "6")));
    auto r = rater.rate(f.call(6000));  // exactly 6 s: free
    REQUIRE(r);
    CHECK(r->duration_s == 6);
    CHECK(r->charge.is_zero());
    CHECK(r->cost.is_zero());
    CHECK(r->profit.is_zero());
    CHECK(r->customer.billed_s == 0);
    CHECK(r->customer.rate != nullptr);  // the rate is still chosen
    auto r2 = rater.rate(f.call(6001));  // 7 s: billed whole, from the first second
    REQUIRE(r2);
    CHECK(r2->customer.billed_s == 7);
    CHECK(r2->charge == M("0.0070"));
    CHECK(r2->cost == M("0.0035"));
    // Free time counts the duration after the hold-time precision: 6.040 s is 6 s at 50 ms.
    const Rater both(f.book, with("billing.hold_time_precision_ms", "50",
                                  with("billing.free_time_s", "6")));
    CHECK(both.rate(f.call(6040))->charge.is_zero());
    CHECK(both.rate(f.call(6050))->charge == M("0.0070"));
    // No rate is still an error for a free call.
    CallRecord c = f.call(3000);
    c.callee = "33123";
    CHECK(rater.rate(c).error().code == ErrorCode::no_rate);
}

TEST_CASE("settings: currency precision and rounding change the charge", "[billing][settings]") {
    Fixture f;
    REQUIRE(f.book.group("retail").add(rate("49", "0.0125", 60)));
    REQUIRE(f.book.group("carrier").add(rate("49", "0.0100", 60)));
    CallRecord c = f.call(30000);
    c.callee = "4930123";
    // 30 s at 60/60 -> 60 s at 0.0125 = 0.0125 exactly at any precision >= 4
    const Rater p4(f.book, RatingConfig{});
    CHECK(p4.rate(c)->charge == M("0.0125"));
    // 2 decimals: up -> 0.02, half-up -> 0.01 (0.0125 -> 0.01|25: below half), down -> 0.01
    const Rater up2(f.book, with("currency.precision", "2"));
    CHECK(up2.rate(c)->charge == M("0.02"));
    const Rater half3(f.book, with("currency.rounding", "half-up", with("currency.precision", "3")));
    CHECK(half3.rate(c)->charge == M("0.013"));  // 0.0125 -> tie -> away from zero
    const Rater down3(f.book, with("currency.rounding", "down", with("currency.precision", "3")));
    CHECK(down3.rate(c)->charge == M("0.012"));
}

TEST_CASE("settings: values are validated with precise messages", "[billing][settings]") {
    RatingConfig cfg;
    auto bad = [&](std::string_view k, std::string_view v) {
        auto r = apply_setting(cfg, k, v);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == ErrorCode::invalid_argument);
        return r.error().message;
    };
    CHECK(bad("currency.precision", "7") == "currency.precision must be an integer 0..6 (decimals), not '7'");
    CHECK(bad("billing.hold_time_precision_ms", "0") ==
          "billing.hold_time_precision_ms must be an integer 1..1000 (ms), not '0'");
    CHECK(bad("billing.free_time_s", "-1") ==
          "billing.free_time_s must be an integer 0..86400 (seconds), not '-1'");
    CHECK(bad("currency.rounding", "nearest") ==
          "currency.rounding must be up, half-up or down, not 'nearest'");
    CHECK(bad("currency.code", "US$") == "currency.code must be 1 to 8 letters, not 'US$'");
    CHECK(bad("billing.fee", "1").starts_with("unknown setting 'billing.fee' (known: "));
    // Nothing changed by the failures.
    CHECK(cfg.currency.precision == 4);
    CHECK(cfg.hold_time_precision_ms == 50);
    CHECK(cfg.free_time_s == 0);
    CHECK(is_setting("billing.free_time_s"));
    CHECK_FALSE(is_setting("billing.fee"));
    // settings_of round-trips through apply_setting.
    RatingConfig a = with("currency.precision", "2", with("billing.free_time_s", "3"));
    RatingConfig b;
    for (const Setting& s : settings_of(a)) REQUIRE(apply_setting(b, s.key, s.value));
    CHECK(b.currency.precision == 2);
    CHECK(b.free_time_s == 3);
    CHECK(settings_of(a)[4].vos3000 == "SERVER_BILLING_FREE_TIME");
}

TEST_CASE("settings: max_call_duration under free time", "[billing][settings]") {
    Fixture f;
    // 1001 has 10.00: at 0.06/min 1/1 that is 10000 s, capped at 7200.
    const Rater rater(f.book, with("billing.free_time_s", "30"));
    const Timestamp now = T("2026-11-26 10:00:00");
    CHECK(*rater.max_call_duration("1001", "4420", now) == 7200);
    // 0.0100 left: 10 s at 0.06/min, but the first 30 s are free.
    REQUIRE(f.book.adjust_balance("1001", M("-9.99")));
    CHECK(*Rater(f.book, RatingConfig{}).max_call_duration("1001", "4420", now) == 10);
    CHECK(*rater.max_call_duration("1001", "4420", now) == 30);
}

TEST_CASE("time: parse_time accepts milliseconds", "[billing][time]") {
    CHECK(T("2026-11-26 10:00:00.5") == T("2026-11-26 10:00:00") + 500);
    CHECK(T("2026-11-26 10:00:00.05") == T("2026-11-26 10:00:00") + 50);
    CHECK(T("2026-11-26T10:00:00.001Z") == T("2026-11-26 10:00:00") + 1);
    for (const char* bad : {"2026-11-26 10:00:00.", "2026-11-26 10:00:00.1234",
                            "2026-11-26 10:00:00,5", "2026-11-26 10:00:00.5x"}) {
        auto r = parse_time(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("bad fraction of a second") != std::string::npos);
    }
}

namespace {

using billing_test::zone_file;

const ZoneSource kZones = [](std::string_view name) -> Result<std::string> {
    return zone_file(std::string(name).c_str());
};

}  // namespace

TEST_CASE("calendar: TZif zones give the offset with daylight saving", "[billing][calendar]") {
    auto london = TimeZone::from_tzif("Europe/London", zone_file("Europe/London"));
    REQUIRE(london);
    CHECK(london->offset_s_at(T("2026-01-15 12:00:00")) == 0);
    CHECK(london->offset_s_at(T("2026-07-15 12:00:00")) == 3600);
    // DST starts 2026-03-29 01:00 UTC and ends 2026-10-25 01:00 UTC.
    CHECK(london->offset_s_at(T("2026-03-29 00:59:59.999")) == 0);
    CHECK(london->offset_s_at(T("2026-03-29 01:00:00")) == 3600);
    CHECK(london->offset_s_at(T("2026-10-25 00:59:59")) == 3600);
    CHECK(london->offset_s_at(T("2026-10-25 01:00:00")) == 0);
    auto shanghai = TimeZone::from_tzif("Asia/Shanghai", zone_file("Asia/Shanghai"));
    REQUIRE(shanghai);
    CHECK(shanghai->offset_s_at(T("2026-07-15 12:00:00")) == 8 * 3600);
    CHECK(shanghai->offset_s_at(T("2099-01-01 00:00:00")) == 8 * 3600);  // after the last transition
    auto bad = TimeZone::from_tzif("X", "TZif2");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message == "time zone X: not TZif data");
    const std::string london_bytes = zone_file("Europe/London");
    auto cut = TimeZone::from_tzif("Europe/London", std::string_view(london_bytes).substr(0, 100));
    REQUIRE_FALSE(cut);
    CHECK(cut.error().message == "time zone Europe/London: truncated TZif data");
}

TEST_CASE("calendar: a holiday in Europe/London across the DST change", "[billing][calendar]") {
    RatingConfig cfg;
    REQUIRE(apply_setting(cfg, "calendar.timezone", "Europe/London", kZones));
    REQUIRE(apply_setting(cfg, "calendar.holidays", "2026-03-30"));  // the Monday after DST starts
    const WorkCalendar& c = cfg.calendar;
    // Friday before the change: GMT = UTC. 07:30 UTC is 07:30 local: before work.
    CHECK(c.period_at(T("2026-03-27 07:30:00")) == PeriodKind::offpeak);
    CHECK(c.period_at(T("2026-03-27 08:00:00")) == PeriodKind::peak);
    CHECK(c.period_at(T("2026-03-27 19:59:59")) == PeriodKind::peak);
    CHECK(c.period_at(T("2026-03-27 20:00:00")) == PeriodKind::offpeak);
    // The holiday is the local Monday (BST): 2026-03-29 23:00 UTC .. 2026-03-30 23:00 UTC.
    CHECK(c.period_at(T("2026-03-29 23:00:00")) == PeriodKind::weekend);  // Mon 00:00 BST
    CHECK(c.period_at(T("2026-03-30 12:00:00")) == PeriodKind::weekend);
    CHECK(c.period_at(T("2026-03-30 22:59:59")) == PeriodKind::weekend);
    CHECK(c.period_at(T("2026-03-30 23:00:00")) == PeriodKind::offpeak);  // Tue 00:00 BST
    // Tuesday: 07:30 UTC is 08:30 BST (peak); 19:30 UTC is 20:30 BST (offpeak).
    CHECK(c.period_at(T("2026-03-31 07:30:00")) == PeriodKind::peak);
    CHECK(c.period_at(T("2026-03-31 19:30:00")) == PeriodKind::offpeak);
    // With the old fixed UTC calendar the same instants differ.
    const WorkCalendar utc;
    CHECK(utc.period_at(T("2026-03-31 07:30:00")) == PeriodKind::offpeak);
    CHECK(utc.period_at(T("2026-03-30 12:00:00")) == PeriodKind::peak);  // no holiday in UTC
}

TEST_CASE("calendar: Asia/Shanghai, working days, hours and the rate period", "[billing][calendar]") {
    Book book;
    REQUIRE(book.add_account(account("1001", AccountKind::customer, "retail", "10")));
    REQUIRE(book.add_account(account("9001", AccountKind::vendor, "carrier")));
    REQUIRE(book.group("retail").add(rate("86", "0.0600", 60)));
    Rate peak = rate("86", "0.1200", 60);
    peak.period = PeriodKind::peak;
    REQUIRE(book.group("retail").add(peak));
    REQUIRE(book.group("carrier").add(rate("86", "0.0100", 60)));
    RatingConfig cfg;
    REQUIRE(apply_setting(cfg, "calendar.timezone", "Asia/Shanghai", kZones));
    REQUIRE(apply_setting(cfg, "calendar.working_days", "mon-fri,sun"));
    REQUIRE(apply_setting(cfg, "calendar.work_hours", "09:00-18:00"));
    CallRecord c;
    c.callee = "8610123";
    c.customer = "1001";
    c.vendor = "9001";
    // Thursday 2026-11-26 01:30 UTC = 09:30 CST: peak, the peak variant (cheapest is the
    // base 0.06 though: the customer gets the cheaper of base and variant).
    c.answer_ms = T("2026-11-26 01:30:00");
    c.setup_ms = *c.answer_ms;
    c.end_ms = *c.answer_ms + 60000;
    const Rater rater(book, cfg);
    auto r = rater.rate(c);
    REQUIRE(r);
    CHECK(r->period == PeriodKind::peak);
    // Sunday 2026-11-29 02:00 UTC = 10:00 CST: Sunday is a working day here.
    CHECK(cfg.calendar.period_at(T("2026-11-29 02:00:00")) == PeriodKind::peak);
    // Saturday 2026-11-28 02:00 UTC: weekend. 2026-11-26 00:30 UTC = 08:30 CST: offpeak.
    CHECK(cfg.calendar.period_at(T("2026-11-28 02:00:00")) == PeriodKind::weekend);
    CHECK(cfg.calendar.period_at(T("2026-11-26 00:30:00")) == PeriodKind::offpeak);
    // settings_of shows them as set.
    const auto all = settings_of(cfg);
    auto value = [&](std::string_view k) {
        for (const auto& s : all)
            if (s.key == k) return s.value;
        return std::string("?");
    };
    CHECK(value("calendar.timezone") == "Asia/Shanghai");
    CHECK(value("calendar.working_days") == "mon-fri,sun");
    CHECK(value("calendar.work_hours") == "09:00-18:00");
    CHECK(value("calendar.holidays") == "");
    CHECK(value("currency.precision") == "4");
}

TEST_CASE("calendar: settings are validated with precise messages", "[billing][calendar]") {
    RatingConfig cfg;
    auto msg = [&](std::string_view k, std::string_view v, const ZoneSource& z = {}) {
        auto r = apply_setting(cfg, k, v, z);
        REQUIRE_FALSE(r);
        return r.error().message;
    };
    CHECK(msg("calendar.working_days", "mon-xyz") ==
          "calendar.working_days must be days mon..sun, comma-separated, ranges as mon-fri, not 'mon-xyz'");
    CHECK(msg("calendar.work_hours", "20:00-08:00") ==
          "calendar.work_hours must be HH:MM-HH:MM with start <= end, not '20:00-08:00'");
    CHECK(msg("calendar.holidays", "2026-02-30") ==
          "calendar.holidays must be dates YYYY-MM-DD, comma-separated, not '2026-02-30'");
    CHECK(msg("calendar.timezone", "Europe/London") ==
          "calendar.timezone 'Europe/London' needs the time zone database");
    REQUIRE(apply_setting(cfg, "calendar.timezone", "UTC+05:30"));
    CHECK(cfg.calendar.period_at(T("2026-11-26 02:30:00")) == PeriodKind::peak);  // 08:00 IST
    CHECK(settings_of(cfg)[5].value == "UTC+05:30");
    REQUIRE(apply_setting(cfg, "calendar.holidays", "2026-12-25,2027-01-01"));
    CHECK(cfg.calendar.holidays.size() == 2);
    REQUIRE(apply_setting(cfg, "calendar.holidays", ""));
    CHECK(cfg.calendar.holidays.empty());
    // Defaults print as the fixed calendar of before.
    const auto d = settings_of(RatingConfig{});
    CHECK(d[5].value == "UTC");
    CHECK(d[6].value == "mon-fri");
    CHECK(d[7].value == "08:00-20:00");
}

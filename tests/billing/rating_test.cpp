// Tests for libbilling/src/rate.cpp and rating.cpp: golden rating vectors worked out by
// hand (arithmetic in the comments), selection rules, accounts, max_call_duration and
// property tests. Currency: 4 decimals, rounding up, unless stated.
#include <catch2/catch.hpp>

#include <random>

#include "billing/account.hpp"
#include "billing/rating.hpp"
#include "billing_fixtures.hpp"

using namespace billing;

namespace {

using billing_test::M;
using billing_test::T;

Rate rate(const char* prefix, const char* price, int inc, int first = 0, const char* first_price = "0",
          const char* fee = "0") {
    Rate r;
    r.prefix = prefix;
    r.area = std::string("area ") + prefix;
    r.price = M(price);
    r.increment_s = inc;
    r.first_period_s = first;
    r.first_price = M(first_price);
    r.connection_fee = M(fee);
    return r;
}

Money price(const Rate& r, std::int64_t s, Rounding rd = Rounding::up, int precision = 4) {
    auto p = price_call(r, s, Currency{"USD", precision, rd});
    REQUIRE(p);
    return p->amount;
}
std::int64_t billed(const Rate& r, std::int64_t s) {
    auto p = price_call(r, s, Currency{});
    REQUIRE(p);
    return p->billed_s;
}

Account make_account(const char* id, AccountKind kind = AccountKind::customer, const char* group = "",
             const char* balance = "0", const char* credit = "0") {
    Account a;
    a.id = id;
    a.kind = kind;
    a.rate_group = group;
    a.balance = *Money::parse(balance);
    a.credit_limit = *Money::parse(credit);
    return a;
}

// Customer 1001 on group "retail", vendor 9001 on group "carrier".
struct Fixture {
    Book book;
    Fixture() {
        REQUIRE(book.add_account(make_account("1001", AccountKind::customer, "retail", "10")));
        REQUIRE(book.add_account(make_account("9001", AccountKind::vendor, "carrier")));
    }
    CallRecord call(const char* callee, std::int64_t answered_ms, const char* at = "2026-11-26 10:00:00") {
        CallRecord c;
        c.caller = "15550001111";
        c.callee = callee;
        c.customer = "1001";
        c.vendor = "9001";
        c.setup_ms = T(at) - 2000;
        c.answer_ms = T(at);
        c.end_ms = T(at) + answered_ms;
        c.sip_code = 200;
        return c;
    }
};

}  // namespace

TEST_CASE("rating: 60/60 vs 6/6 vs 1/1 increments", "[billing][rating]") {
    // 0.0120 per minute, a 61 s call:
    //   60/60: ceil(61/60)*60 = 120 s -> 0.0120 * 120/60 = 0.0240
    //   6/6:   ceil(61/6)*6   =  66 s -> 0.0120 *  66/60 = 0.0132
    //   1/1:   61 s                   -> 0.0120 *  61/60 = 0.0122
    CHECK(billed(rate("44", "0.0120", 60), 61) == 120);
    CHECK(price(rate("44", "0.0120", 60), 61) == M("0.0240"));
    CHECK(billed(rate("44", "0.0120", 6), 61) == 66);
    CHECK(price(rate("44", "0.0120", 6), 61) == M("0.0132"));
    CHECK(billed(rate("44", "0.0120", 1), 61) == 61);
    CHECK(price(rate("44", "0.0120", 1), 61) == M("0.0122"));
    // Exactly one increment: 60 s at 60/60 = 0.0120; 1 s at 60/60 still bills 60 s.
    CHECK(price(rate("44", "0.0120", 60), 60) == M("0.0120"));
    CHECK(price(rate("44", "0.0120", 60), 1) == M("0.0120"));
}

TEST_CASE("rating: rounding rule applies once to the call total", "[billing][rating]") {
    // 0.0100/min, 61 s at 1/1: 0.0100*61/60 = 0.010166... -> up 0.0102, half-up 0.0102,
    // down 0.0101; at 6 decimals (micro-units) up: 0.010167.
    const Rate r = rate("1", "0.0100", 1);
    CHECK(price(r, 61, Rounding::up) == M("0.0102"));
    CHECK(price(r, 61, Rounding::half_up) == M("0.0102"));
    CHECK(price(r, 61, Rounding::down) == M("0.0101"));
    CHECK(price(r, 61, Rounding::up, 6) == M("0.010167"));
    // 0.0030/min, 10 s: 0.0005 exactly at 4 dp -> same under all rules; at 3 dp a tie:
    // up 0.001, half-up 0.001, down 0.000.
    const Rate h = rate("1", "0.0030", 1);
    CHECK(price(h, 10, Rounding::down) == M("0.0005"));
    CHECK(price(h, 10, Rounding::half_up, 3) == M("0.001"));
    CHECK(price(h, 10, Rounding::down, 3) == M("0"));
}

TEST_CASE("rating: 30 s first period then 6 s increments", "[billing][rating]") {
    // first 30 s at 0.0200/min, then 0.0100/min in 6 s steps.
    const Rate r = rate("44", "0.0100", 6, 30, "0.0200");
    // 47 s: 30 + ceil(17/6)*6 = 30 + 18 = 48 s billed;
    //       0.0200*30/60 + 0.0100*18/60 = 0.0100 + 0.0030 = 0.0130
    CHECK(billed(r, 47) == 48);
    CHECK(price(r, 47) == M("0.0130"));
    // 10 s: the first period is billed whole: 30 s, 0.0200*30/60 = 0.0100
    CHECK(billed(r, 10) == 30);
    CHECK(price(r, 10) == M("0.0100"));
    // 30 s exactly: 0.0100; 31 s: 30 + 6 -> 0.0100 + 0.0010 = 0.0110
    CHECK(price(r, 30) == M("0.0100"));
    CHECK(price(r, 31) == M("0.0110"));
}

TEST_CASE("rating: a 0 s call is free, even with a connection fee", "[billing][rating]") {
    const Rate r = rate("44", "0.0120", 60, 30, "0.05", "0.0500");
    CHECK(billed(r, 0) == 0);
    CHECK(price(r, 0) == M("0"));
    // 1 s with the fee, 60/60 (first period 0): 0.0500 + 0.0120*60/60 = 0.0620
    CHECK(price(rate("44", "0.0120", 60, 0, "0", "0.0500"), 1) == M("0.0620"));
    CHECK(price_call(r, -1, Currency{}).error().code == ErrorCode::negative_duration);
}

TEST_CASE("rating: a whole call with customer and vendor", "[billing][rating]") {
    Fixture f;
    REQUIRE(f.book.group("retail").add(rate("44", "0.0200", 60)));
    REQUIRE(f.book.group("carrier").add(rate("44", "0.0080", 6)));
    Rater rater(f.book, RatingConfig{});
    // 46.2 s answered -> 47 s (a started second counts).
    auto r = rater.rate(f.call("442071234567", 46200));
    REQUIRE(r);
    CHECK(r->duration_s == 47);
    CHECK(r->hold_s == 49);  // 2 s of setup + 46.2 s -> 48.2 -> 49
    // customer: 60/60 -> 60 s, 0.0200 * 60/60 = 0.0200
    CHECK(r->customer.billed_s == 60);
    CHECK(r->charge == M("0.0200"));
    // vendor: 6/6 -> 48 s, 0.0080 * 48/60 = 0.0064
    CHECK(r->vendor.billed_s == 48);
    CHECK(r->cost == M("0.0064"));
    // profit 0.0200 - 0.0064 = 0.0136; margin 0.0136 / 0.0200 = 68% = 680000 ppm
    CHECK(r->profit == M("0.0136"));
    CHECK(r->margin_ppm == 680000);
    // rate deviation: 0.0200 - 0.0080 = 0.0120 per minute = 0.0002 per second
    CHECK(r->rate_deviation_per_min == M("0.0120"));
    CHECK(r->rate_deviation_per_s == M("0.0002"));
    CHECK(r->customer.rate->prefix == "44");
    CHECK(r->customer.source == RateSource::group);
}

TEST_CASE("rating: longest prefix decides within a table", "[billing][rating]") {
    Fixture f;
    REQUIRE(f.book.group("retail").add(rate("44", "0.0200", 60)));
    REQUIRE(f.book.group("retail").add(rate("447", "0.0900", 60)));
    REQUIRE(f.book.group("carrier").add(rate("4", "0.0010", 60)));
    if (GENERATE(false, true)) f.book.compact();  // packed index: same results
    Rater rater(f.book, RatingConfig{});
    auto mobile = rater.rate(f.call("447700900123", 60000));
    REQUIRE(mobile);
    CHECK(mobile->customer.rate->prefix == "447");
    CHECK(mobile->charge == M("0.0900"));
    auto fixed = rater.rate(f.call("442071234567", 60000));
    REQUIRE(fixed);
    CHECK(fixed->customer.rate->prefix == "44");
    CHECK(fixed->charge == M("0.0200"));
}

TEST_CASE("rating: the period at answer time applies to the whole call", "[billing][rating]") {
    // Calendar Mon-Fri 08:00-20:00 UTC. Base 0.0200 (any time), offpeak variant 0.0100.
    Fixture f;
    REQUIRE(f.book.group("retail").add(rate("44", "0.0200", 60)));
    Rate off = rate("44", "0.0100", 60);
    off.period = PeriodKind::offpeak;
    REQUIRE(f.book.group("retail").add(off));
    REQUIRE(f.book.group("carrier").add(rate("44", "0.0050", 60)));
    Rater rater(f.book, RatingConfig{});
    // Thursday 19:59:30, 120 s (ends 20:01:30, in offpeak): peak at answer -> base rate for
    // all 120 s: 0.0200 * 120/60 = 0.0400
    auto spans = rater.rate(f.call("4420", 120000, "2026-11-26 19:59:30"));
    REQUIRE(spans);
    CHECK(spans->period == PeriodKind::peak);
    CHECK(spans->charge == M("0.0400"));
    // Answered at 20:00:00: offpeak; cheapest of base 0.0200 and offpeak 0.0100:
    // 0.0100 * 120/60 = 0.0200
    auto off_call = rater.rate(f.call("4420", 120000, "2026-11-26 20:00:00"));
    REQUIRE(off_call);
    CHECK(off_call->period == PeriodKind::offpeak);
    CHECK(off_call->charge == M("0.0200"));
    CHECK(off_call->customer.rate->period == PeriodKind::offpeak);
    // Offpeak 22:00 call running into the next (peak) morning is still offpeak for its
    // whole 11 h: 660 min * 0.0100 = 6.6000
    auto night = rater.rate(f.call("4420", 11 * 3600 * 1000, "2026-11-26 22:00:00"));
    REQUIRE(night);
    CHECK(night->charge == M("6.6000"));
}

TEST_CASE("rating: a rate that changes at an effective date", "[billing][rating]") {
    Fixture f;
    Rate v1 = rate("44", "0.0100", 60);
    v1.effective_until = T("2026-12-01");
    Rate v2 = rate("44", "0.0150", 60);
    v2.effective_from = T("2026-12-01");
    REQUIRE(f.book.group("retail").add(v1));
    REQUIRE(f.book.group("retail").add(v2));
    REQUIRE(f.book.group("carrier").add(rate("44", "0.0050", 60)));
    Rater rater(f.book, RatingConfig{});
    // Answered 23:59:00 on 30 Nov, 300 s (crosses midnight): old rate for all 5 min:
    // 5 * 0.0100 = 0.0500
    auto before = rater.rate(f.call("44", 300000, "2026-11-30 23:59:00"));
    REQUIRE(before);
    CHECK(before->charge == M("0.0500"));
    // Answered 00:00:00 on 1 Dec: new rate: 5 * 0.0150 = 0.0750
    auto after = rater.rate(f.call("44", 300000, "2026-12-01 00:00:00"));
    REQUIRE(after);
    CHECK(after->charge == M("0.0750"));
    // A longer prefix whose only version has expired falls back to the shorter one.
    Rate old = rate("4420", "0.0010", 60);
    old.effective_until = T("2026-01-01");
    REQUIRE(f.book.group("retail").add(old));
    auto fb = rater.rate(f.call("442071234567", 60000, "2026-12-02 10:00:00"));
    REQUIRE(fb);
    CHECK(fb->customer.rate->prefix == "44");
    CHECK(fb->charge == M("0.0150"));
    // Newer version of the same prefix with overlapping validity: latest effective_from wins.
    Rate promo = rate("44", "0.0120", 60);
    promo.effective_from = T("2026-12-10");
    REQUIRE(f.book.group("retail").add(promo));
    auto p = rater.rate(f.call("44", 60000, "2026-12-11 10:00:00"));
    REQUIRE(p);
    CHECK(p->charge == M("0.0120"));
}

TEST_CASE("rating: the cheapest of group, account-private and phone-private rates", "[billing][rating]") {
    Fixture f;
    REQUIRE(f.book.group("retail").add(rate("44", "0.0200", 60)));
    REQUIRE(f.book.group("acme-private").add(rate("4420", "0.0300", 60)));  // longer but dearer
    REQUIRE(f.book.group("carrier").add(rate("44", "0.0050", 60)));
    REQUIRE(f.book.set_account_private("1001", "acme-private"));
    Rater rater(f.book, RatingConfig{});
    auto a = rater.rate(f.call("442071234567", 60000));
    REQUIRE(a);
    CHECK(a->charge == M("0.0200"));  // group 0.0200 < account-private 0.0300
    CHECK(a->customer.source == RateSource::group);

    REQUIRE(f.book.group("vip-phone").add(rate("44", "0.0150", 60)));
    REQUIRE(f.book.set_phone_private("15550001111", "vip-phone"));
    auto b = rater.rate(f.call("442071234567", 60000));
    REQUIRE(b);
    CHECK(b->charge == M("0.0150"));
    CHECK(b->customer.source == RateSource::phone_private);

    // Cheapest is judged on the call's charge, not on the per-minute price: a 10 s call
    // under "0.0300/min 1/1" (0.0050) beats "0.0150/min 60/60" (0.0150).
    REQUIRE(f.book.group("acme-private").add(rate("44207", "0.0300", 1)));
    auto c = rater.rate(f.call("442071234567", 10000));
    REQUIRE(c);
    CHECK(c->charge == M("0.0050"));
    CHECK(c->customer.source == RateSource::account_private);

    // Ties go to the more specific source (phone-private over group).
    REQUIRE(f.book.group("retail").add(rate("4430", "0.0150", 60)));
    REQUIRE(f.book.group("vip-phone").add(rate("4430", "0.0150", 60)));
    auto d = rater.rate(f.call("4430111", 60000));
    REQUIRE(d);
    CHECK(d->customer.source == RateSource::phone_private);
}

TEST_CASE("rating: errors are precise", "[billing][rating]") {
    Fixture f;
    REQUIRE(f.book.group("retail").add(rate("44", "0.0200", 60)));
    REQUIRE(f.book.group("carrier").add(rate("44", "0.0050", 60)));
    Rater rater(f.book, RatingConfig{});
    auto c = f.call("44", 1000);
    c.customer = "nobody";
    auto r = rater.rate(c);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::unknown_account);
    CHECK(r.error().field == "customer");

    c = f.call("44", 1000);
    c.vendor = "ghost";
    CHECK(rater.rate(c).error().field == "vendor");

    c = f.call("33", 1000);
    r = rater.rate(c);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::no_rate);
    CHECK(r.error().field == "callee");

    c = f.call("44", 1000);
    c.end_ms = *c.answer_ms - 1;
    r = rater.rate(c);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::negative_duration);

    c = f.call("44", 1000);
    c.callee_out = "33";  // the vendor has no rate for what we sent
    r = rater.rate(c);
    REQUIRE_FALSE(r);
    CHECK(r.error().field == "callee_out");

    // Unanswered call to a number without a rate: free, no error.
    c = f.call("33", 0);
    c.answer_ms.reset();
    r = rater.rate(c);
    REQUIRE(r);
    CHECK(r->charge.is_zero());
    CHECK(r->duration_s == 0);

    // Overflowing amounts are errors: a 7-day call at 9,000,000,000/min.
    Fixture g;
    REQUIRE(g.book.group("retail").add(rate("44", "9000000000", 60)));
    REQUIRE(g.book.group("carrier").add(rate("44", "0", 60)));
    Rater big(g.book, RatingConfig{});
    r = big.rate(g.call("44", 7LL * 86400 * 1000));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::overflow);
}

TEST_CASE("rating: rate type authorization order Net < Local < National < International", "[billing][rating]") {
    static_assert(authorized(RateType::net, RateType::local));
    static_assert(authorized(RateType::national, RateType::national));
    static_assert(!authorized(RateType::international, RateType::national));
    CHECK(*parse_rate_type("LOCAL") == RateType::local);
    CHECK(*parse_rate_type("") == RateType::international);
    CHECK(parse_rate_type("Galactic").error().field == "type");
    CHECK(to_string(RateType::national) == "National");
}

TEST_CASE("rating: rate validation names the field", "[billing][rating]") {
    RateTable t("x");
    Rate r = rate("44", "0.01", 60);
    r.increment_s = 0;
    CHECK(t.add(r).error().field == "increment");
    r = rate("4a", "0.01", 60);
    CHECK(t.add(r).error().field == "prefix");
    r = rate("44", "-0.01", 60);
    CHECK(t.add(r).error().field == "price");
    REQUIRE(t.add(rate("44", "0.01", 60)));
    CHECK(t.add(rate("44", "0.02", 60)).error().code == ErrorCode::duplicate);
    REQUIRE(t.upsert(rate("44", "0.02", 60)));
    CHECK(t.size() == 1);
    CHECK(t.rates_for("44")->front().price == M("0.02"));
}

TEST_CASE("accounts: max_call_duration from balance, credit and increments", "[billing][accounts]") {
    Book book;
    REQUIRE(book.add_account(make_account("p1", AccountKind::customer, "r", "1.00", "0.50")));
    REQUIRE(book.group("r").add(rate("44", "0.0300", 6, 0, "0", "0.0100")));
    Rater rater(book, RatingConfig{});
    const Timestamp now = T("2026-11-26 10:00:00");
    // available = 1.00 + 0.50 = 1.50. charge(d) = 0.0100 + 0.0300 * ceil6(d)/60.
    //   d = 2976: 0.0100 + 0.0300*2976/60 = 0.0100 + 1.4880 = 1.4980 <= 1.50
    //   d = 2977: billed 2982 -> 0.0100 + 1.4910 = 1.5010 > 1.50
    auto d = rater.max_call_duration("p1", "4412345", now);
    REQUIRE(d);
    CHECK(*d == 2976);
    // Rich account: capped at max_call_duration_s (7200).
    REQUIRE(book.adjust_balance("p1", M("1000")));
    CHECK(*rater.max_call_duration("p1", "4412345", now) == 7200);
    // Exhausted: balance -0.50 with credit 0.50 -> nothing available.
    REQUIRE(book.adjust_balance("p1", M("-1001.50")));
    CHECK(*rater.max_call_duration("p1", "4412345", now) == 0);
    // Not even the connection fee + first increment: available 0.0105 < 0.0100 + 0.0030.
    REQUIRE(book.adjust_balance("p1", M("0.0105")));
    CHECK(*rater.max_call_duration("p1", "4412345", now) == 0);
    CHECK(rater.max_call_duration("nobody", "44", now).error().code == ErrorCode::unknown_account);
    CHECK(rater.max_call_duration("p1", "33", now).error().code == ErrorCode::no_rate);
    // A free rate: capped.
    REQUIRE(book.group("r").add(rate("800", "0", 60)));
    CHECK(*rater.max_call_duration("p1", "800123", now) == 7200);
}

TEST_CASE("accounts: book rules", "[billing][accounts]") {
    Book book;
    REQUIRE(book.add_account(make_account("a")));
    CHECK(book.add_account(make_account("a")).error().code == ErrorCode::duplicate);
    CHECK(book.add_account(make_account("")).error().field == "id");
    CHECK(book.add_account(make_account("b", AccountKind::customer, "", "0", "-1")).error().field == "credit_limit");
    CHECK(book.adjust_balance("zz", M("1")).error().code == ErrorCode::unknown_account);
    REQUIRE(book.adjust_balance("a", Money::from_micros(INT64_MAX)));
    CHECK(book.adjust_balance("a", M("1")).error().code == ErrorCode::overflow);
    CHECK(book.account("a")->balance == Money::from_micros(INT64_MAX));  // unchanged
    CHECK(*parse_account_kind("agent") == AccountKind::agent);
}

TEST_CASE("rating: properties over random rates and durations", "[billing][rating][property]") {
    std::mt19937_64 rng(20261126);
    const int incs[] = {1, 6, 30, 60};
    for (int iter = 0; iter < 300; ++iter) {
        Book book;
        REQUIRE(book.add_account(make_account("c", AccountKind::customer, "cg")));
        REQUIRE(book.add_account(make_account("v", AccountKind::vendor, "vg")));
        auto rnd_rate = [&]() {
            Rate r;
            r.prefix = "1";
            r.price = Money::from_micros(static_cast<std::int64_t>(rng() % 500000));
            r.first_price = Money::from_micros(static_cast<std::int64_t>(rng() % 500000));
            r.first_period_s = static_cast<std::int32_t>(rng() % 3 == 0 ? 0 : rng() % 120);
            r.increment_s = incs[rng() % 4];
            r.connection_fee = Money::from_micros(static_cast<std::int64_t>(rng() % 3 == 0 ? rng() % 100000 : 0));
            return r;
        };
        REQUIRE(book.group("cg").add(rnd_rate()));
        REQUIRE(book.group("vg").add(rnd_rate()));
        if (iter % 2) book.compact();
        RatingConfig cfg;
        cfg.currency.precision = static_cast<int>(rng() % 7);
        cfg.currency.rounding = static_cast<Rounding>(rng() % 3);
        Rater rater(book, cfg);
        CallRecord c;
        c.customer = "c";
        c.vendor = "v";
        c.callee = "1555";
        Money prev_charge, prev_cost;
        for (std::int64_t ms = 0; ms <= 400000; ms += 1 + static_cast<std::int64_t>(rng() % 1500)) {
            c.setup_ms = 1700000000000;
            c.answer_ms = c.setup_ms;
            c.end_ms = c.setup_ms + ms;
            auto r = rater.rate(c);
            REQUIRE(r);
            // charge and cost never decrease with duration
            REQUIRE(r->charge >= prev_charge);
            REQUIRE(r->cost >= prev_cost);
            // profit = charge - cost exactly
            REQUIRE(r->profit.micros() == r->charge.micros() - r->cost.micros());
            // billed time covers the call
            REQUIRE(r->customer.billed_s >= r->duration_s);
            prev_charge = r->charge;
            prev_cost = r->cost;
        }
    }
}

// RateTable::compact() switches rating to the flat RateRecord path (match_records); this
// rates the same random calls against an uncompacted and a compacted copy of a random book
// (nested prefixes, several versions, period variants, all four rate sources) and requires
// identical results, errors included.
TEST_CASE("rating: compacted (flat record) path equals the plain path",
          "[billing][rating][property]") {
    std::mt19937_64 rng(5);
    const Timestamp t0 = T("2026-11-20");
    const Timestamp day = 86400000;
    const Timestamp edges[] = {kTimeMin, t0 + 2 * day, t0 + 5 * day, t0 + 9 * day};
    const PeriodKind periods[] = {PeriodKind::any, PeriodKind::any, PeriodKind::peak,
                                  PeriodKind::offpeak, PeriodKind::weekend};
    auto digits = [&](int len) {
        std::string s;
        for (int i = 0; i < len; ++i) s += static_cast<char>('1' + rng() % 3);
        return s;
    };
    auto fill = [&](Book& book, std::uint64_t seed) {
        rng.seed(seed);
        REQUIRE(book.add_account(make_account("c", AccountKind::customer, "cg", "5", "1")));
        REQUIRE(book.add_account(make_account("v", AccountKind::vendor, "vg")));
        REQUIRE(book.set_account_private("c", "cp"));
        REQUIRE(book.set_account_private("v", "vp"));
        REQUIRE(book.set_phone_private("111", "pp"));
        for (const char* g : {"cg", "vg", "cp", "vp", "pp"}) {
            const int n = g[1] == 'g' ? 60 : 15;
            for (int i = 0; i < n; ++i) {
                Rate r;
                r.prefix = digits(static_cast<int>(rng() % 5));  // "" (default route) .. 4 digits
                r.price = Money::from_micros(static_cast<std::int64_t>(rng() % 300000));
                r.first_price = Money::from_micros(static_cast<std::int64_t>(rng() % 300000));
                r.first_period_s = static_cast<std::int32_t>(rng() % 2 ? 0 : rng() % 90);
                r.increment_s = static_cast<std::int32_t>(1 + rng() % 60);
                r.connection_fee =
                    Money::from_micros(static_cast<std::int64_t>(rng() % 4 ? 0 : rng() % 50000));
                r.period = periods[rng() % 5];
                const std::size_t e = rng() % 4;
                r.effective_from = edges[e];
                r.effective_until = e < 3 && rng() % 2 ? edges[e + 1 + rng() % (3 - e)] : kTimeMax;
                REQUIRE(book.group(g).upsert(r));
            }
        }
    };
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        Book plain, flat;
        fill(plain, seed);
        fill(flat, seed);
        flat.compact();
        REQUIRE(flat.find_group("cg")->compacted());
        REQUIRE_FALSE(plain.find_group("cg")->compacted());
        Rater a(plain, RatingConfig{}), b(flat, RatingConfig{});
        auto same_rate = [](const Rate* x, const Rate* y) {
            if (x == nullptr || y == nullptr) return x == y;
            return x->prefix == y->prefix && x->period == y->period &&
                   x->effective_from == y->effective_from;
        };
        for (int i = 0; i < 2000; ++i) {
            CallRecord c;
            c.caller = rng() % 3 ? "111" : "222";
            c.callee = digits(static_cast<int>(rng() % 7));
            if (rng() % 20 == 0) c.callee += "+9";  // a non-digit stops the lookup
            c.callee_out = rng() % 4 ? "" : digits(static_cast<int>(rng() % 7));
            c.customer = "c";
            c.vendor = rng() % 10 ? "v" : "";
            c.setup_ms = t0 + static_cast<Timestamp>(rng() % (12 * day));
            if (rng() % 4) c.answer_ms = c.setup_ms + static_cast<Timestamp>(rng() % 10000);
            c.end_ms = c.answer_ms.value_or(c.setup_ms) + static_cast<Timestamp>(rng() % 4000000);
            auto x = a.rate(c);
            auto y = b.rate(c);
            REQUIRE(x.has_value() == y.has_value());
            if (!x) {
                CHECK(x.error().code == y.error().code);
                CHECK(x.error().field == y.error().field);
                continue;
            }
            REQUIRE(same_rate(x->customer.rate, y->customer.rate));
            REQUIRE(same_rate(x->vendor.rate, y->vendor.rate));
            CHECK(x->customer.source == y->customer.source);
            CHECK(x->vendor.source == y->vendor.source);
            CHECK(x->customer.billed_s == y->customer.billed_s);
            CHECK(x->vendor.billed_s == y->vendor.billed_s);
            CHECK(x->duration_s == y->duration_s);
            CHECK(x->hold_s == y->hold_s);
            CHECK(x->period == y->period);
            CHECK(x->charge == y->charge);
            CHECK(x->cost == y->cost);
            CHECK(x->profit == y->profit);
            CHECK(x->margin_ppm == y->margin_ppm);
            CHECK(x->rate_deviation_per_min == y->rate_deviation_per_min);
            CHECK(x->rate_deviation_per_s == y->rate_deviation_per_s);
            auto mx = a.max_call_duration("c", c.callee, c.setup_ms, c.caller);
            auto my = b.max_call_duration("c", c.callee, c.setup_ms, c.caller);
            REQUIRE(mx.has_value() == my.has_value());
            if (mx) CHECK(*mx == *my);
        }
    }
}

TEST_CASE("rating: adding a rate after compact() is seen at once", "[billing][rating]") {
    Fixture f;
    REQUIRE(f.book.group("retail").add(rate("44", "0.0200", 60)));
    REQUIRE(f.book.group("carrier").add(rate("44", "0.0050", 60)));
    f.book.compact();
    Rater rater(f.book, RatingConfig{});
    auto before = rater.rate(f.call("4420", 60000));
    REQUIRE(before);
    CHECK(before->charge == M("0.0200"));
    // A longer prefix drops the packed index and the flat records until the next compact().
    REQUIRE(f.book.group("retail").add(rate("4420", "0.0100", 60)));
    CHECK_FALSE(f.book.group("retail").compacted());
    auto after = rater.rate(f.call("4420", 60000));
    REQUIRE(after);
    CHECK(after->charge == M("0.0100"));
    // upsert of an existing key (new price) likewise.
    REQUIRE(f.book.group("retail").upsert(rate("4420", "0.0300", 60)));
    f.book.compact();
    auto again = rater.rate(f.call("4420", 60000));
    REQUIRE(again);
    CHECK(again->charge == M("0.0300"));
    CHECK(again->customer.rate->prefix == "4420");
}

// sw::BillingRates over an in-memory billing::Book: vendor keys, the vendor rate (longest
// prefix, cheapest of private and group, effective dates), the effective per-minute figure
// for the cost order (increments, first period, connection fee), and the customer's rate
// with billing::Rater's candidate rules (phone-private, account-private, group; ties to the
// more specific one).
#include <catch2/catch.hpp>

#include <string>

#include "billing/account.hpp"
#include "billing/rate.hpp"
#include "sw/billing_rates.hpp"

namespace {

billing::Money money(const char* text) {
    auto m = billing::Money::parse(text);
    REQUIRE(m);
    return *m;
}

billing::Rate rate(const char* prefix, const char* price, std::int32_t increment = 60) {
    billing::Rate r;
    r.prefix = prefix;
    r.area = std::string("area ") + prefix;
    r.price = money(price);
    r.increment_s = increment;
    return r;
}

void add(billing::Book& book, const char* group, billing::Rate r) {
    auto ok = book.group(group).add(std::move(r));
    REQUIRE(ok);
}

void account(billing::Book& book, const char* id, billing::AccountKind kind, const char* group) {
    billing::Account a;
    a.id = id;
    a.kind = kind;
    a.rate_group = group;
    auto ok = book.add_account(a);
    REQUIRE(ok);
}

}  // namespace

TEST_CASE("billing rates: one stable key per vendor account, 0 for none", "[server][billing_rates]") {
    billing::Book book;
    sw::BillingRates rates(book);
    const auto a = rates.key_for_vendor("9001");
    const auto b = rates.key_for_vendor("9002");
    CHECK(a != 0);
    CHECK(b != 0);
    CHECK(a != b);
    CHECK(rates.key_for_vendor("9001") == a);
    CHECK(rates.key_for_vendor("9002") == b);
    CHECK(rates.key_for_vendor("") == 0);
    CHECK_FALSE(rates.vendor_rate(0, "44"));
    CHECK_FALSE(rates.vendor_rate(77, "44"));
    CHECK_FALSE(rates.vendor_rate(a, "44"));  // no such account in the book
}

TEST_CASE("billing rates: vendor rate is the longest prefix, cheapest of private and group",
          "[server][billing_rates]") {
    billing::Book book;
    account(book, "9001", billing::AccountKind::vendor, "vendorA");
    add(book, "vendorA", rate("44", "0.0100"));
    add(book, "vendorA", rate("4420", "0.0080"));
    add(book, "vendorA", rate("33", "0.0200"));
    add(book, "privA", rate("33", "0.0150"));
    add(book, "privA", rate("49", "0.0300"));
    REQUIRE(book.set_account_private("9001", "privA"));
    sw::BillingRates rates(book, {.currency = {}, .reference_call_s = 60});
    const route::lcr::RateLookup& lookup = rates;  // what the router sees
    const auto key = rates.key_for_vendor("9001");

    auto uk = lookup.vendor_rate(key, "442071234567");
    REQUIRE(uk);
    CHECK(uk->per_minute == 8'000);
    auto ukm = lookup.vendor_rate(key, "447700900123");
    REQUIRE(ukm);
    CHECK(ukm->per_minute == 10'000);
    auto fr = lookup.vendor_rate(key, "33123");  // private 0.015 beats group 0.02
    REQUIRE(fr);
    CHECK(fr->per_minute == 15'000);
    auto de = lookup.vendor_rate(key, "49301");  // only private has it
    REQUIRE(de);
    CHECK(de->per_minute == 30'000);
    CHECK_FALSE(lookup.vendor_rate(key, "1555"));  // no rate
}

TEST_CASE("billing rates: effective per-minute counts increments, first period and fees",
          "[server][billing_rates]") {
    billing::Book book;
    account(book, "v60", billing::AccountKind::vendor, "g60");
    account(book, "v1", billing::AccountKind::vendor, "g1");
    account(book, "vfirst", billing::AccountKind::vendor, "gfirst");
    add(book, "g60", rate("44", "0.0120", 60));
    add(book, "g1", rate("44", "0.012345", 1));
    billing::Rate f = rate("44", "0.0100", 6);
    f.first_period_s = 30;
    f.first_price = money("0.0200");
    f.connection_fee = money("0.0030");
    add(book, "gfirst", f);
    sw::BillingRates rates(book);  // reference call 90 s
    const auto k60 = rates.key_for_vendor("v60");
    const auto k1 = rates.key_for_vendor("v1");
    const auto kf = rates.key_for_vendor("vfirst");

    auto q60 = rates.vendor_rate(k60, "4420");  // 90 s pays 120 s: 4/3 of the nominal rate
    REQUIRE(q60);
    CHECK(q60->per_minute == 12'000);
    CHECK(q60->effective_per_minute == 16'000);
    auto q1 = rates.vendor_rate(k1, "4420");  // 1/1 stays nominal, exactly
    REQUIRE(q1);
    CHECK(q1->per_minute == 12'345);
    CHECK(q1->effective_per_minute == 12'345);
    // 0.003 + (0.02*30 + 0.01*60)/60 = 0.023 for 90 s -> 0.023 * 60 / 90 = 0.015333(3)
    auto qf = rates.vendor_rate(kf, "4420");
    REQUIRE(qf);
    CHECK(qf->per_minute == 10'000);
    CHECK(qf->effective_per_minute == 15'333);

    sw::BillingRates nominal(book, {.currency = {}, .reference_call_s = 0});
    auto qn = nominal.vendor_rate(nominal.key_for_vendor("v60"), "4420");
    REQUIRE(qn);
    CHECK(qn->effective_per_minute == 12'000);
}

TEST_CASE("billing rates: the rate in force at set_time applies", "[server][billing_rates]") {
    billing::Book book;
    account(book, "9001", billing::AccountKind::vendor, "v");
    account(book, "1001", billing::AccountKind::customer, "c");
    auto t0 = billing::parse_time("2026-01-01");
    auto t1 = billing::parse_time("2026-02-01");
    REQUIRE(t0);
    REQUIRE(t1);
    billing::Rate old = rate("44", "0.0100");
    old.effective_from = *t0;
    billing::Rate neu = rate("44", "0.0070");
    neu.effective_from = *t1;
    add(book, "v", old);
    add(book, "v", neu);
    billing::Rate c = rate("44", "0.0300");
    c.effective_from = *t1;
    add(book, "c", c);
    sw::BillingRates rates(book);
    const auto key = rates.key_for_vendor("9001");

    rates.set_time(*t0 - 1);
    CHECK_FALSE(rates.vendor_rate(key, "44"));
    CHECK_FALSE(rates.customer_rate("1001", "44", ""));
    rates.set_time(*t0);
    REQUIRE(rates.vendor_rate(key, "44"));
    CHECK(rates.vendor_rate(key, "44")->per_minute == 10'000);
    CHECK_FALSE(rates.customer_rate("1001", "44", ""));
    rates.set_time(*t1);
    CHECK(rates.vendor_rate(key, "44")->per_minute == 7'000);
    REQUIRE(rates.customer_rate("1001", "44", ""));
    CHECK(rates.customer_rate("1001", "44", "")->per_minute == 30'000);
}

TEST_CASE("billing rates: customer rate picks the cheapest of phone, account and group",
          "[server][billing_rates]") {
    billing::Book book;
    account(book, "1001", billing::AccountKind::customer, "retail");
    billing::Rate uk = rate("44", "0.0300");
    uk.type = billing::RateType::international;
    add(book, "retail", uk);
    billing::Rate ldn = rate("4420", "0.0250");
    ldn.type = billing::RateType::national;
    ldn.area = "UK London";
    add(book, "retail", ldn);
    add(book, "acct", rate("44", "0.0200"));
    add(book, "vip", rate("442", "0.0100"));
    add(book, "dear", rate("44", "0.0500"));
    REQUIRE(book.set_account_private("1001", "acct"));
    REQUIRE(book.set_phone_private("15551230000", "vip"));
    REQUIRE(book.set_phone_private("15559999999", "dear"));
    sw::BillingRates rates(book);

    auto g = rates.customer_rate("1001", "442071234567", "");
    REQUIRE(g);  // account-private 0.02 (prefix 44) beats the group's 0.025 (prefix 4420)
    CHECK(g->per_minute == 20'000);
    CHECK(g->prefix == "44");
    CHECK(g->area == "area 44");

    auto p = rates.customer_rate("1001", "442071234567", "15551230000");
    REQUIRE(p);  // the caller's phone-private 0.01
    CHECK(p->per_minute == 10'000);
    CHECK(p->prefix == "442");

    auto d = rates.customer_rate("1001", "442071234567", "15559999999");
    REQUIRE(d);  // a dearer phone-private rate does not win
    CHECK(d->per_minute == 20'000);

    CHECK_FALSE(rates.customer_rate("nobody", "44", ""));
    CHECK_FALSE(rates.customer_rate("1001", "1555", ""));
}

TEST_CASE("billing rates: customer rate type, prefix and area; ties go to the specific source",
          "[server][billing_rates]") {
    billing::Book book;
    account(book, "1001", billing::AccountKind::customer, "retail");
    billing::Rate ldn = rate("4420", "0.0250");
    ldn.type = billing::RateType::national;
    ldn.area = "UK London";
    add(book, "retail", ldn);
    billing::Rate same = rate("44", "0.0250");
    same.type = billing::RateType::local;
    same.area = "private";
    add(book, "acct", same);
    sw::BillingRates rates(book);

    auto g = rates.customer_rate("1001", "442071234567", "");
    REQUIRE(g);
    CHECK(g->per_minute == 25'000);
    CHECK(g->type == billing::RateType::national);
    CHECK(g->prefix == "4420");
    CHECK(g->area == "UK London");

    REQUIRE(book.set_account_private("1001", "acct"));
    auto t = rates.customer_rate("1001", "442071234567", "");
    REQUIRE(t);  // equal charge: the account-private rate wins over the group
    CHECK(t->type == billing::RateType::local);
    CHECK(t->prefix == "44");
    CHECK(t->area == "private");
}

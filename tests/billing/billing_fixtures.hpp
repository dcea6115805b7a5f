// Shared test data for the billing tests: a small book of accounts and rates, and random
// rated CDRs drawn from it with a seeded generator.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <random>
#include <string>
#include <vector>

#include "billing/account.hpp"
#include "billing/cdr.hpp"
#include "billing/rating.hpp"

namespace billing_test {

inline billing::Money money(const char* s) { return *billing::Money::parse(s); }
// The golden vectors' shorthands: an amount or a time that must parse (a typo fails the test).
inline billing::Money M(const char* s) {
    auto r = billing::Money::parse(s);
    REQUIRE(r);
    return *r;
}
inline billing::Timestamp T(const char* s) {
    auto r = billing::parse_time(s);
    REQUIRE(r);
    return *r;
}

inline billing::Account make_account(std::string id, billing::AccountKind kind, std::string group,
                                     const char* balance = "0", const char* credit = "0") {
    billing::Account a;
    a.id = std::move(id);
    a.name = "name of " + a.id;
    a.kind = kind;
    a.rate_group = std::move(group);
    a.balance = money(balance);
    a.credit_limit = money(credit);
    return a;
}

inline billing::Rate make_rate(std::string prefix, std::string area, const char* price, int inc,
                               int first = 0, const char* first_price = "0") {
    billing::Rate r;
    r.prefix = std::move(prefix);
    r.area = std::move(area);
    r.price = money(price);
    r.increment_s = inc;
    r.first_period_s = first;
    r.first_price = money(first_price);
    return r;
}

// Customers C1..C3 (groups retail/wholesale), vendors V1, V2 (groups va, vb).
inline billing::Book sample_book() {
    using billing::AccountKind;
    billing::Book b;
    (void)b.add_account(make_account("C1", AccountKind::customer, "retail", "100", "10"));
    (void)b.add_account(make_account("C2", AccountKind::customer, "retail", "50"));
    (void)b.add_account(make_account("C3", AccountKind::customer, "wholesale", "1000", "100"));
    (void)b.add_account(make_account("V1", AccountKind::vendor, "va"));
    (void)b.add_account(make_account("V2", AccountKind::vendor, "vb"));
    const char* prefixes[][3] = {{"44", "UK", "0.0200"},       {"447", "UK Mobile", "0.0900"},
                                 {"49", "Germany", "0.0150"},  {"4915", "Germany Mobile", "0.0800"},
                                 {"1", "USA", "0.0050"},       {"86", "China", "0.0120"}};
    for (auto& p : prefixes) {
        (void)b.group("retail").add(make_rate(p[0], p[1], p[2], 60));
        (void)b.group("wholesale").add(make_rate(p[0], p[1], p[2], 6, 30, p[2]));
        // Vendors: about 60 % of the retail price, 6/6.
        auto m = *billing::mul_div(money(p[2]), 6, 10, 4, billing::Rounding::up);
        billing::Rate va = make_rate(p[0], p[1], "0", 6);
        va.price = m;
        (void)b.group("va").add(va);
        va.price = *m.add(money("0.0010"));
        va.increment_s = 1;
        (void)b.group("vb").add(va);
    }
    return b;
}

// n random calls through the sample book (about 70 % answered), rated.
inline std::vector<billing::Cdr> random_cdrs(const billing::Book& book, std::mt19937_64& rng,
                                             std::size_t n, billing::Timestamp start = 1764000000000,
                                             std::int64_t step_ms = 1000) {
    billing::Rater rater(book, billing::RatingConfig{});
    const char* customers[] = {"C1", "C2", "C3"};
    const char* vendors[] = {"V1", "V2"};
    const char* dests[] = {"4420", "447700", "4930", "491511", "1212", "8610"};
    std::vector<billing::Cdr> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        billing::CallRecord c;
        c.caller = "1555" + std::to_string(rng() % 10000);
        c.callee = std::string(dests[rng() % 6]) + std::to_string(100000 + rng() % 900000);
        c.customer = customers[rng() % 3];
        c.customer_gateway = "gw-" + c.customer + "-" + std::to_string(rng() % 2);
        c.vendor = vendors[rng() % 2];
        c.vendor_gateway = "rgw-" + c.vendor + "-" + std::to_string(rng() % 2);
        c.setup_ms = start + static_cast<std::int64_t>(i) * step_ms + static_cast<std::int64_t>(rng() % 1000);
        const bool answered = rng() % 10 < 7;
        if (answered) {
            c.answer_ms = c.setup_ms + 1000 + static_cast<std::int64_t>(rng() % 9000);
            c.end_ms = *c.answer_ms + static_cast<std::int64_t>(rng() % 600000);
            c.sip_code = 200;
            c.end_reason = "Normal";
        } else {
            c.end_ms = c.setup_ms + 5000;
            c.sip_code = 486;
            c.end_reason = "Busy Here";
        }
        c.hangup = static_cast<billing::HangupSide>(rng() % 3);
        c.call_id_in = "in-" + std::to_string(i) + "@a";
        c.call_id_out = "out-" + std::to_string(i) + "@b";
        auto r = rater.rate(c);
        if (!r) continue;
        out.push_back(billing::make_cdr(std::move(c), *r));
    }
    return out;
}

// The bytes of an IANA zone file (tzdata, installed by scripts/setup.sh).
inline std::string zone_file(const char* name) {
    std::ifstream f(std::string("/usr/share/zoneinfo/") + name, std::ios::binary);
    INFO("tzdata (scripts/setup.sh) provides /usr/share/zoneinfo/" << name);
    REQUIRE(f);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace billing_test

// The switch the tests of outside drivers (operator commands, the management API) start from:
// one customer, acme (10.0.0.1, account 1001 with 100.00, retail 0.10/min to 44), and one
// vendor, gw1 (10.0.0.21, account 9001, 0.05/min).
//
//   sw->set_book(test::acme_book());
//   test::route_acme_via_gw1(*sw);
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "billing/rating.hpp"
#include "sw/switch.hpp"

namespace test {

inline billing::Book acme_book() {
    billing::Book b;
    billing::Rate r;
    r.prefix = "44";
    r.area = "test";
    r.price = *billing::Money::parse("0.100000");
    r.increment_s = 1;
    (void)b.group("retail").add(r);
    r.price = *billing::Money::parse("0.050000");
    (void)b.group("v1").add(r);
    billing::Account c;
    c.id = "1001";
    c.kind = billing::AccountKind::customer;
    c.balance = *billing::Money::parse("100");
    c.rate_group = "retail";
    (void)b.add_account(c);
    billing::Account v;
    v.id = "9001";
    v.kind = billing::AccountKind::vendor;
    v.rate_group = "v1";
    (void)b.add_account(v);
    return b;
}

inline void route_acme_via_gw1(sw::Switch& sw) {
    route::lcr::CustomerSpec c;
    c.name = "acme";
    c.account = "1001";
    c.ips = {"10.0.0.1"};
    sw::VendorEntry v;
    v.spec.name = "gw1";
    v.spec.prefixes = {"44"};
    v.sip.host = "10.0.0.21";
    v.sip.vendor_account = "9001";
    std::string err;
    REQUIRE(sw.set_routing({c}, {v}, {}, &err));
}

}  // namespace test

// route::lcr::Customers on fake time: identify() order (digest, ip_port, ip; priority then
// name; disabled), admit() refusals in the header's order with their codes and reasons,
// rewrites, line / CPS / account-prefix limits, the VOS3000 malicious-caller blacklist and
// reloads that keep ids and counters.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "route/lcr/customers.hpp"

using namespace route::lcr;
using namespace std::chrono_literals;

namespace {

const Nanos t0 = 1'000'000s;

CustomerSpec ip_customer(std::string name, std::string ip) {
    CustomerSpec s;
    s.name = std::move(name);
    s.account = "acc-" + s.name;
    s.ips = {std::move(ip)};
    return s;
}

Customers make(std::vector<CustomerSpec> specs, CustomersConfig cfg = {}) {
    Customers c(cfg);
    std::string error;
    const bool ok = c.set_customers(std::move(specs), &error);
    INFO(error);
    REQUIRE(ok);
    return c;
}

CustomerId id_of(const Customers& c, std::string_view name) {
    const auto id = c.find(name);
    REQUIRE(id);
    return *id;
}

std::string name_of(const Customers& c, std::optional<CustomerId> id) {
    if (!id) return "<none>";
    const CustomerSpec* s = c.spec(*id);
    return s != nullptr ? s->name : "<removed>";
}

}  // namespace

TEST_CASE("customers: auth mode and restriction names round-trip", "[lcr][customers]") {
    for (AuthMode m : {AuthMode::ip, AuthMode::ip_port, AuthMode::digest})
        CHECK(parse_auth_mode(to_string(m)) == m);
    for (Restriction r : {Restriction::none, Restriction::call_out_barring,
                          Restriction::call_in_barring, Restriction::all})
        CHECK(parse_restriction(to_string(r)) == r);
    CHECK(to_string(AuthMode::ip_port) == "ip_port");
    CHECK(to_string(Restriction::call_out_barring) == "call_out_barring");
    CHECK_FALSE(parse_auth_mode("IP"));
    CHECK_FALSE(parse_auth_mode(""));
    CHECK_FALSE(parse_restriction("barred"));
}

TEST_CASE("customers: identify by source ip, IPv6 normalised", "[lcr][customers]") {
    auto v6 = ip_customer("v6", "2001:DB8::1");
    v6.ips.push_back("[fd00::AbC]");
    Customers c = make({ip_customer("acme", "192.0.2.10"), v6});
    CHECK(name_of(c, c.identify("192.0.2.10", 5060, "")) == "acme");
    CHECK(name_of(c, c.identify("192.0.2.10", 1, "")) == "acme");  // any port
    CHECK(name_of(c, c.identify("2001:db8::1", 5060, "")) == "v6");
    CHECK(name_of(c, c.identify("[2001:DB8::1]", 5060, "")) == "v6");
    CHECK(name_of(c, c.identify("fd00::abc", 5060, "")) == "v6");
    CHECK_FALSE(c.identify("192.0.2.11", 5060, ""));
    CHECK_FALSE(c.identify("192.0.2.1", 5060, ""));  // a prefix of an address is no match
    CHECK_FALSE(c.identify("", 5060, ""));
    CHECK_FALSE(c.identify(std::string(300, ':'), 5060, ""));
}

TEST_CASE("customers: ip_port gateways match address and port before ip gateways",
          "[lcr][customers]") {
    CustomerSpec pbx = ip_customer("pbx", "192.0.2.10:5070");
    pbx.auth = AuthMode::ip_port;
    CustomerSpec pbx6 = ip_customer("pbx6", "[2001:DB8::5]:5062");
    pbx6.auth = AuthMode::ip_port;
    pbx6.ips.push_back("2001:db8::6");  // no brackets, no port: never matches
    CustomerSpec plain = ip_customer("plain", "192.0.2.10");
    plain.priority = -5;  // priority orders within a kind, not across kinds
    Customers c = make({pbx, pbx6, plain});
    CHECK(name_of(c, c.identify("192.0.2.10", 5070, "")) == "pbx");
    CHECK(name_of(c, c.identify("192.0.2.10", 5060, "")) == "plain");
    CHECK(name_of(c, c.identify("2001:db8::5", 5062, "")) == "pbx6");
    CHECK(name_of(c, c.identify("[2001:db8::5]", 5062, "")) == "pbx6");
    CHECK_FALSE(c.identify("2001:db8::5", 5060, ""));
    CHECK_FALSE(c.identify("2001:db8::6", 5060, ""));
}

TEST_CASE("customers: digest user first, then the source address", "[lcr][customers]") {
    CustomerSpec dig;
    dig.name = "dig";
    dig.auth = AuthMode::digest;
    dig.sip_user = "1001";
    Customers c = make({dig, ip_customer("byip", "192.0.2.10")});
    CHECK(name_of(c, c.identify("192.0.2.10", 5060, "1001")) == "dig");
    CHECK(name_of(c, c.identify("198.51.100.1", 5060, "1001")) == "dig");
    CHECK(name_of(c, c.identify("192.0.2.10", 5060, "1002")) == "byip");  // unknown user
    CHECK(name_of(c, c.identify("192.0.2.10", 5060, "")) == "byip");
    CHECK_FALSE(c.identify("198.51.100.1", 5060, ""));
    CHECK_FALSE(c.identify("198.51.100.1", 5060, "1001 "));  // users compare exactly
}

TEST_CASE("customers: several gateways on one address: priority, then name", "[lcr][customers]") {
    auto b = ip_customer("b", "192.0.2.10");
    auto a = ip_customer("a", "192.0.2.10");
    auto z = ip_customer("z", "192.0.2.10");
    SECTION("equal priority: the name decides") {
        Customers c = make({b, z, a});
        CHECK(name_of(c, c.identify("192.0.2.10", 5060, "")) == "a");
    }
    SECTION("smaller priority wins over the name") {
        z.priority = -1;
        Customers c = make({a, b, z});
        CHECK(name_of(c, c.identify("192.0.2.10", 5060, "")) == "z");
    }
}

TEST_CASE("customers: disabled customers never match", "[lcr][customers]") {
    auto a = ip_customer("a", "192.0.2.10");
    a.enabled = false;
    auto b = ip_customer("b", "192.0.2.10");
    b.priority = 9;
    CustomerSpec dig;
    dig.name = "dig";
    dig.auth = AuthMode::digest;
    dig.sip_user = "1001";
    dig.enabled = false;
    Customers c = make({a, b, dig});
    CHECK(name_of(c, c.identify("192.0.2.10", 5060, "1001")) == "b");
    b.enabled = false;
    std::string error;
    REQUIRE(c.set_customers({a, b, dig}, &error));
    CHECK_FALSE(c.identify("192.0.2.10", 5060, "1001"));
    const CustomerId id = id_of(c, "a");  // still configured, still listed
    CHECK(c.spec(id) != nullptr);
    CHECK(c.customers().size() == 3);
    const Admission r = c.admit(id, "1", "2", "", t0);
    CHECK_FALSE(r.ok);
    CHECK(r.code == 403);
    CHECK(r.reason == "Customer disabled");
}

TEST_CASE("customers: admit refuses in the header's order", "[lcr][customers]") {
    // Every check fails at first; each step lifts the failure that answered and the next
    // one in order answers instead.
    CustomerSpec s = ip_customer("acme", "192.0.2.10");
    s.restriction = Restriction::call_out_barring;
    s.caller_deny = {"666"};
    s.callee_deny = {"900"};
    s.line_limit = 1;
    s.cps_limit = 1;
    s.dest_prefix_limit = 1;
    CustomersConfig cfg;
    cfg.blacklist.limit = 1;
    Customers c = make({s}, cfg);
    const CustomerId id = id_of(c, "acme");

    // One call in progress fills the line, CPS and prefix limits; a caller that called
    // twice is blacklisted.
    s.restriction = Restriction::none;
    s.caller_deny.clear();
    s.callee_deny.clear();
    std::string error;
    REQUIRE(c.set_customers({s}, &error));
    REQUIRE(c.admit(id, "6661", "9001", "44", t0).ok);
    s.restriction = Restriction::all;
    s.caller_deny = {"666"};
    s.callee_deny = {"900"};

    auto expect = [&](std::uint16_t code, std::string_view reason) {
        REQUIRE(c.set_customers({s}, &error));
        const Admission r = c.admit(id, "6661", "9001", "44", t0 + 10ms);
        CHECK_FALSE(r.ok);
        CHECK(r.code == code);
        CHECK(r.reason == reason);
        CHECK(r.callee.empty());
    };
    expect(403, "Calls barred");
    s.restriction = Restriction::call_in_barring;  // bars calls to the customer, not from it
    expect(403, "Caller not allowed");
    s.caller_deny.clear();
    expect(403, "Callee not allowed");
    s.callee_deny.clear();
    expect(403, "Caller blacklisted");
    CHECK(c.blacklisted("6661", t0 + 10ms));
    cfg.blacklist.limit = 0;
    c.set_config(cfg);
    CHECK_FALSE(c.blacklisted("6661", t0 + 10ms));
    expect(503, "Customer line limit");
    s.line_limit = 0;
    expect(503, "Customer CPS limit");
    s.cps_limit = 0;
    expect(503, "Destination prefix limit");
    s.dest_prefix_limit = 0;
    REQUIRE(c.set_customers({s}, &error));
    CHECK(c.admit(id, "6661", "9001", "44", t0 + 10ms).ok);
    CHECK(c.state(id).refused == 7);
    CHECK(c.state(id).total_calls == 2);
}

TEST_CASE("customers: admit of an unknown id", "[lcr][customers]") {
    Customers c = make({ip_customer("acme", "192.0.2.10")});
    const Admission r = c.admit(12345, "1", "2", "", t0);
    CHECK_FALSE(r.ok);
    CHECK(r.code == 403);
    CHECK(r.reason == "Unknown customer");
    CHECK(c.spec(12345) == nullptr);
    CHECK(c.state(12345).refused == 0);
    c.call_ended(12345, "");  // ignored
    CHECK(c.state(12345).current_calls == 0);
}

TEST_CASE("customers: caller and callee allow and deny lists", "[lcr][customers]") {
    CustomerSpec s = ip_customer("acme", "192.0.2.10");
    s.caller_allow = {"44", "33"};
    s.caller_deny = {"4420"};
    s.callee_allow = {"1"};
    s.callee_deny = {"1900", ""};
    SECTION("an empty deny prefix denies every callee") {
        Customers c = make({s});
        const Admission r = c.admit(id_of(c, "acme"), "441", "1212", "", t0);
        CHECK(r.reason == "Callee not allowed");
    }
    s.callee_deny = {"1900"};
    Customers c = make({s});
    const CustomerId id = id_of(c, "acme");
    auto reason = [&](std::string_view caller, std::string_view callee) {
        const Admission r = c.admit(id, caller, callee, "", t0);
        if (r.ok) c.call_ended(id, "");
        return r.ok ? std::string("ok") : r.reason;
    };
    CHECK(reason("441612345", "12125550100") == "ok");
    CHECK(reason("33123", "1") == "ok");
    CHECK(reason("49123", "12125550100") == "Caller not allowed");  // not in the allow list
    CHECK(reason("", "12125550100") == "Caller not allowed");
    CHECK(reason("442071234567", "12125550100") == "Caller not allowed");  // denied
    CHECK(reason("441612345", "2125550100") == "Callee not allowed");
    CHECK(reason("441612345", "19005550100") == "Callee not allowed");
    CHECK(reason("441612345", "190") == "ok");  // shorter than the denied prefix

    s.caller_allow.clear();
    std::string error;
    REQUIRE(c.set_customers({s}, &error));
    CHECK(reason("49123", "12125550100") == "ok");  // no allow list: everything but denied
    CHECK(reason("44201", "12125550100") == "Caller not allowed");
}

TEST_CASE("customers: rewrites apply on admission only", "[lcr][customers]") {
    CustomerSpec s = ip_customer("acme", "192.0.2.10");
    s.caller_rewrite = "*:a*";
    s.callee_rewrite = "0044*:44*";
    s.callee_allow = {"00"};
    Customers c = make({s});
    const CustomerId id = id_of(c, "acme");
    Admission r = c.admit(id, "2071234567", "00442071234567", "44", t0);
    REQUIRE(r.ok);
    CHECK(r.caller == "a2071234567");
    CHECK(r.callee == "442071234567");
    CHECK(r.code == 0);
    CHECK(r.reason.empty());
    r = c.admit(id, "2071234567", "0033123", "33", t0);  // no rule matches: unchanged
    REQUIRE(r.ok);
    CHECK(r.callee == "0033123");
    r = c.admit(id, "2071234567", "44123", "44", t0);  // allow list sees the number as sent
    CHECK_FALSE(r.ok);
    CHECK(r.caller.empty());
    CHECK(r.callee.empty());

    CustomerSpec none = ip_customer("none", "192.0.2.11");
    REQUIRE(c.set_customers({s, none}, nullptr));
    r = c.admit(id_of(c, "none"), "+4420", "00 44", "", t0);
    REQUIRE(r.ok);
    CHECK(r.caller == "+4420");
    CHECK(r.callee == "00 44");
}

TEST_CASE("customers: line limit, released by call_ended", "[lcr][customers]") {
    CustomerSpec s = ip_customer("acme", "192.0.2.10");
    s.line_limit = 2;
    Customers c = make({s});
    const CustomerId id = id_of(c, "acme");
    REQUIRE(c.admit(id, "1", "441", "44", t0).ok);
    REQUIRE(c.admit(id, "1", "331", "33", t0 + 1s).ok);
    CHECK(c.state(id).current_calls == 2);
    const Admission r = c.admit(id, "1", "441", "44", t0 + 2s);
    CHECK(r.code == 503);
    CHECK(r.reason == "Customer line limit");
    c.call_ended(id, "33");
    CHECK(c.state(id).current_calls == 1);
    CHECK(c.admit(id, "1", "441", "44", t0 + 3s).ok);
    c.call_ended(id, "44");
    c.call_ended(id, "44");
    CHECK(c.state(id).current_calls == 0);
    c.call_ended(id, "44");  // one too many: never below zero
    CHECK(c.state(id).current_calls == 0);
    CHECK(c.state(id).total_calls == 3);
    CHECK(c.state(id).refused == 1);
}

TEST_CASE("customers: CPS is a sliding one-second window on the given time", "[lcr][customers]") {
    CustomerSpec s = ip_customer("acme", "192.0.2.10");
    s.cps_limit = 2;
    Customers c = make({s});
    const CustomerId id = id_of(c, "acme");
    REQUIRE(c.admit(id, "1", "2", "", t0).ok);
    REQUIRE(c.admit(id, "1", "2", "", t0 + 500ms).ok);
    Admission r = c.admit(id, "1", "2", "", t0 + 999ms);
    CHECK(r.code == 503);
    CHECK(r.reason == "Customer CPS limit");
    // Ending calls frees lines, not the CPS window; refusals do not fill it.
    c.call_ended(id, "");
    CHECK_FALSE(c.admit(id, "1", "2", "", t0 + 999'999'999ns).ok);
    REQUIRE(c.admit(id, "1", "2", "", t0 + 1s).ok);  // the call at t0 left the window
    CHECK_FALSE(c.admit(id, "1", "2", "", t0 + 1400ms).ok);
    REQUIRE(c.admit(id, "1", "2", "", t0 + 1500ms).ok);
    CHECK(c.state(id).total_calls == 4);

    s.cps_limit = 3;  // a reload keeps the window and applies the new limit
    REQUIRE(c.set_customers({s}, nullptr));
    REQUIRE(c.admit(id, "1", "2", "", t0 + 1600ms).ok);
    CHECK_FALSE(c.admit(id, "1", "2", "", t0 + 1700ms).ok);
    s.cps_limit = 1;
    REQUIRE(c.set_customers({s}, nullptr));
    CHECK_FALSE(c.admit(id, "1", "2", "", t0 + 2590ms).ok);
    CHECK(c.admit(id, "1", "2", "", t0 + 2600ms).ok);
}

TEST_CASE("customers: blacklist trigger and expiry", "[lcr][customers]") {
    CustomersConfig cfg;
    cfg.blacklist = {.limit = 3, .interval = 60s, .expire = 600s};
    CustomerSpec s = ip_customer("acme", "192.0.2.10");
    s.callee_deny = {"9"};
    Customers c = make({s}, cfg);
    const CustomerId id = id_of(c, "acme");
    // Three attempts within the interval are allowed, refused ones count too.
    REQUIRE(c.admit(id, "666", "1", "", t0).ok);
    CHECK(c.admit(id, "666", "9", "", t0 + 10s).reason == "Callee not allowed");
    REQUIRE(c.admit(id, "666", "1", "", t0 + 20s).ok);
    CHECK_FALSE(c.blacklisted("666", t0 + 20s));
    // The fourth within 60 s blocks the caller, this attempt included.
    Admission r = c.admit(id, "666", "1", "", t0 + 59s);
    CHECK(r.code == 403);
    CHECK(r.reason == "Caller blacklisted");
    CHECK(c.blacklisted("666", t0 + 59s));
    CHECK(c.blacklisted("666", t0 + 59s + 600s - 1ns));
    CHECK_FALSE(c.blacklisted("666", t0 + 59s + 600s));
    CHECK_FALSE(c.blacklisted("777", t0 + 59s));
    CHECK(c.admit(id, "777", "1", "", t0 + 60s).ok);  // other callers are not affected
    // An earlier check still answers first.
    CHECK(c.admit(id, "666", "9", "", t0 + 61s).reason == "Callee not allowed");
    CHECK(c.admit(id, "666", "1", "", t0 + 700s).ok);  // expired

    SECTION("attempts spread wider than the interval never block") {
        for (int i = 0; i < 20; ++i)
            CHECK(c.admit(id, "555", "1", "", t0 + i * 20s).ok);
        CHECK_FALSE(c.blacklisted("555", t0 + 400s));
    }
    SECTION("blocking spans every customer") {
        REQUIRE(c.set_customers({s, ip_customer("other", "192.0.2.99")}, nullptr));
        for (int i = 0; i < 4; ++i)
            c.admit(id, "444", "1", "", t0 + 800s);
        CHECK(c.admit(id_of(c, "other"), "444", "1", "", t0 + 801s).reason == "Caller blacklisted");
    }
    SECTION("anonymous callers are not tracked") {
        for (int i = 0; i < 10; ++i)
            CHECK(c.admit(id, "", "1", "", t0 + 800s).ok);
    }
}

TEST_CASE("customers: blacklist tracks at most max_tracked callers", "[lcr][customers]") {
    CustomersConfig cfg;
    cfg.blacklist = {.limit = 1, .interval = 60s, .expire = 600s, .max_tracked = 2};
    Customers c = make({ip_customer("acme", "192.0.2.10")}, cfg);
    const CustomerId id = id_of(c, "acme");
    REQUIRE(c.admit(id, "a", "1", "", t0).ok);
    REQUIRE(c.admit(id, "b", "1", "", t0 + 1s).ok);
    REQUIRE(c.admit(id, "c", "1", "", t0 + 2s).ok);  // "a", least recently seen, is dropped
    CHECK(c.admit(id, "a", "1", "", t0 + 3s).ok);    // so its second attempt is its first
    CHECK(c.admit(id, "a", "1", "", t0 + 4s).reason == "Caller blacklisted");
    CHECK(c.blacklisted("a", t0 + 5s));
    // "c" was seen before "a": the next new caller drops "c", not the blocked "a".
    REQUIRE(c.admit(id, "d", "1", "", t0 + 5s).ok);
    CHECK(c.blacklisted("a", t0 + 5s));
    REQUIRE(c.admit(id, "e", "1", "", t0 + 6s).ok);  // now "a" goes, and its block with it
    CHECK_FALSE(c.blacklisted("a", t0 + 6s));

    cfg.blacklist.max_tracked = 1;  // shrinking keeps the most recently seen caller
    c.set_config(cfg);
    CHECK(c.admit(id, "e", "1", "", t0 + 7s).reason == "Caller blacklisted");
    CHECK_FALSE(c.blacklisted("d", t0 + 7s));
}

TEST_CASE("customers: destination prefix limit is shared by an account's customers",
          "[lcr][customers]") {
    CustomerSpec a = ip_customer("a", "192.0.2.1");
    CustomerSpec b = ip_customer("b", "192.0.2.2");
    CustomerSpec other = ip_customer("other", "192.0.2.3");
    a.account = b.account = "1001";
    a.dest_prefix_limit = b.dest_prefix_limit = other.dest_prefix_limit = 2;
    other.account = "2002";
    Customers c = make({a, b, other});
    const CustomerId ia = id_of(c, "a"), ib = id_of(c, "b"), io = id_of(c, "other");
    REQUIRE(c.admit(ia, "1", "441", "44", t0).ok);
    REQUIRE(c.admit(ib, "1", "442", "44", t0).ok);
    Admission r = c.admit(ia, "1", "443", "44", t0);
    CHECK(r.code == 503);
    CHECK(r.reason == "Destination prefix limit");
    CHECK(c.admit(ib, "1", "443", "44", t0).reason == "Destination prefix limit");
    CHECK(c.admit(ia, "1", "331", "33", t0).ok);  // another prefix
    CHECK(c.admit(io, "1", "441", "44", t0).ok);  // another account
    c.call_ended(ia, "44");
    CHECK(c.admit(ib, "1", "443", "44", t0).ok);
    CHECK_FALSE(c.admit(ia, "1", "443", "44", t0).ok);

    SECTION("a customer without the limit still counts toward it") {
        b.dest_prefix_limit = 0;
        REQUIRE(c.set_customers({a, b, other}, nullptr));
        CHECK(c.admit(ib, "1", "444", "44", t0).ok);
        CHECK_FALSE(c.admit(ia, "1", "444", "44", t0).ok);
    }
    SECTION("moving a customer to another account moves its calls") {
        b.account = "2002";
        REQUIRE(c.set_customers({a, b, other}, nullptr));
        CHECK(c.admit(ia, "1", "444", "44", t0).ok);        // b's two calls left account 1001
        CHECK_FALSE(c.admit(io, "1", "442", "44", t0).ok);  // 2002: other's one + b's two
        c.call_ended(ib, "44");
        c.call_ended(ib, "44");
        CHECK(c.admit(io, "1", "442", "44", t0).ok);
    }
}

TEST_CASE("customers: customers without an account do not share the prefix limit",
          "[lcr][customers]") {
    CustomerSpec a = ip_customer("a", "192.0.2.1");
    CustomerSpec b = ip_customer("b", "192.0.2.2");
    a.account.clear();
    b.account.clear();
    a.dest_prefix_limit = b.dest_prefix_limit = 1;
    Customers c = make({a, b});
    CHECK(c.admit(id_of(c, "a"), "1", "441", "44", t0).ok);
    CHECK(c.admit(id_of(c, "b"), "1", "441", "44", t0).ok);
    CHECK_FALSE(c.admit(id_of(c, "a"), "1", "441", "44", t0).ok);
}

TEST_CASE("customers: a reload keeps ids, calls and counters", "[lcr][customers]") {
    CustomerSpec a = ip_customer("a", "192.0.2.1");
    CustomerSpec b = ip_customer("b", "192.0.2.2");
    a.line_limit = 2;
    a.account = b.account = "1001";
    a.dest_prefix_limit = 5;
    Customers c = make({a, b});
    const CustomerId ia = id_of(c, "a"), ib = id_of(c, "b");
    CHECK(ia != ib);
    CHECK(c.customers() == std::vector<CustomerId>{ia, ib});
    REQUIRE(c.admit(ia, "1", "441", "44", t0).ok);
    REQUIRE(c.admit(ia, "1", "441", "44", t0).ok);
    CHECK_FALSE(c.admit(ia, "1", "441", "44", t0).ok);
    REQUIRE(c.admit(ib, "1", "441", "44", t0).ok);

    CustomerSpec z = ip_customer("0z", "192.0.2.3");
    a.ips = {"192.0.2.9"};
    REQUIRE(c.set_customers({z, a}, nullptr));  // b removed, a changed, 0z added
    CHECK(id_of(c, "a") == ia);
    const CustomerId iz = id_of(c, "0z");
    CHECK(iz != ia);
    CHECK(iz != ib);
    CHECK(c.customers() == std::vector<CustomerId>{iz, ia});
    CHECK(c.state(ia).current_calls == 2);
    CHECK(c.state(ia).total_calls == 2);
    CHECK(c.state(ia).refused == 1);
    CHECK(c.spec(ia)->ips == std::vector<std::string>{"192.0.2.9"});
    CHECK(name_of(c, c.identify("192.0.2.9", 5060, "")) == "a");
    CHECK_FALSE(c.identify("192.0.2.1", 5060, ""));
    CHECK(c.admit(ia, "1", "441", "44", t0).reason == "Customer line limit");

    // The removed customer: no spec, no name, not identified, not admitted; its running
    // call still ends normally.
    CHECK(c.spec(ib) == nullptr);
    CHECK_FALSE(c.find("b"));
    CHECK_FALSE(c.identify("192.0.2.2", 5060, ""));
    CHECK(c.admit(ib, "1", "441", "44", t0).reason == "Unknown customer");
    CHECK(c.state(ib).current_calls == 1);
    c.call_ended(ib, "44");
    CHECK(c.state(ib).current_calls == 0);

    REQUIRE(c.set_customers({z, a, b}, nullptr));  // b is back: same id, same history
    CHECK(id_of(c, "b") == ib);
    CHECK(c.state(ib).total_calls == 1);
    CHECK(c.state(ib).refused == 1);
}

TEST_CASE("customers: a bad rewrite rule fails the reload and names the customer",
          "[lcr][customers]") {
    CustomerSpec good = ip_customer("good", "192.0.2.1");
    good.callee_rewrite = "00*:*";
    Customers c = make({good});
    const CustomerId id = id_of(c, "good");
    CustomerSpec bad = ip_customer("broken-gw", "192.0.2.2");
    bad.callee_rewrite = "1*2*:x";
    std::string error;
    CHECK_FALSE(c.set_customers({good, bad}, &error));
    CHECK_THAT(error, Catch::Contains("broken-gw") && Catch::Contains("callee_rewrite"));
    bad.callee_rewrite.clear();
    bad.caller_rewrite = "1*2*:x";
    error.clear();
    CHECK_FALSE(c.set_customers({bad}, &error));
    CHECK_THAT(error, Catch::Contains("broken-gw") && Catch::Contains("caller_rewrite"));
    CHECK_FALSE(c.set_customers({bad}, nullptr));  // no error string wanted
    // The old table stays in place.
    CHECK(c.customers() == std::vector<CustomerId>{id});
    CHECK_FALSE(c.find("broken-gw"));
    CHECK(c.admit(id, "1", "0044", "", t0).callee == "44");
}

TEST_CASE("customers: duplicate names are refused", "[lcr][customers]") {
    Customers c;
    std::string error;
    CHECK_FALSE(
        c.set_customers({ip_customer("a", "192.0.2.1"), ip_customer("a", "192.0.2.2")}, &error));
    CHECK_THAT(error, Catch::Contains("'a'"));
    CHECK(c.customers().empty());
}

TEST_CASE("customers: a moved-from table can be assigned again", "[lcr][customers]") {
    Customers a = make({ip_customer("acme", "192.0.2.10")});
    Customers b(std::move(a));
    CHECK(name_of(b, b.identify("192.0.2.10", 5060, "")) == "acme");
    a = std::move(b);
    CHECK(name_of(a, a.identify("192.0.2.10", 5060, "")) == "acme");
}

TEST_CASE("customers: calling on while blacklisted extends the block, never shortens it",
          "[lcr][customers]") {
    CustomersConfig cfg;
    cfg.blacklist = {.limit = 1, .interval = 60s, .expire = 600s};
    Customers c = make({ip_customer("acme", "192.0.2.10")}, cfg);
    const CustomerId id = id_of(c, "acme");
    REQUIRE(c.admit(id, "666", "1", "", t0).ok);
    REQUIRE_FALSE(c.admit(id, "666", "1", "", t0).ok);  // blocked until t0 + 600 s
    cfg.blacklist.expire = 0s;
    c.set_config(cfg);
    CHECK_FALSE(c.admit(id, "666", "1", "", t0 + 1s).ok);
    CHECK_FALSE(c.admit(id, "666", "1", "", t0 + 2s).ok);  // over the limit again
    CHECK(c.blacklisted("666", t0 + 599s));
    cfg.blacklist.expire = 600s;
    c.set_config(cfg);
    CHECK_FALSE(c.admit(id, "666", "1", "", t0 + 300s).ok);
    CHECK_FALSE(c.admit(id, "666", "1", "", t0 + 301s).ok);  // extended to t0 + 901 s
    CHECK(c.blacklisted("666", t0 + 900s));
    CHECK_FALSE(c.blacklisted("666", t0 + 901s));
}

TEST_CASE("customers: the windows hold at the ends of the clock", "[lcr][customers]") {
    CustomersConfig cfg;
    cfg.blacklist = {.limit = 1, .interval = 60s, .expire = 600s};
    CustomerSpec s = ip_customer("acme", "192.0.2.10");
    s.cps_limit = 1;
    Customers c = make({s}, cfg);
    const CustomerId id = id_of(c, "acme");
    REQUIRE(c.admit(id, "1", "2", "", Nanos::min()).ok);
    CHECK(c.admit(id, "1", "2", "", Nanos::min()).reason == "Caller blacklisted");
    CHECK(c.admit(id, "3", "2", "", Nanos::min()).reason == "Customer CPS limit");
    CHECK(c.admit(id, "4", "2", "", Nanos::min() + 1s).ok);
    REQUIRE(c.admit(id, "5", "2", "", Nanos::max()).ok);  // an age that overflows: long ago
    CHECK(c.admit(id, "5", "2", "", Nanos::max()).reason == "Caller blacklisted");
    CHECK(c.blacklisted("5", Nanos::max()));  // the block saturates at the end of the clock
}

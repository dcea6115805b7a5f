// trunkctl domain add/list/show/resolve/remove through trunkctl::cmd_domain, with a real
// DNS server (dnsmasq on 127.0.0.1:base+9) and a temporary database.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "dns_server.hpp"
#include "domain_cmd.hpp"

namespace {

struct Run {
    int code;
    std::string out, err;
};

Run run(const std::string& db, std::vector<std::string> args) {
    args.insert(args.begin(), {"trunkctl", "domain"});
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::ostringstream out, err;
    auto* o = std::cout.rdbuf(out.rdbuf());
    auto* e = std::cerr.rdbuf(err.rdbuf());
    const trunkctl::api::Remote offline;  // no API: the database path
    const int code = trunkctl::cmd_domain(db, offline, static_cast<int>(args.size()), argv.data(), 2);
    std::cout.rdbuf(o);
    std::cerr.rdbuf(e);
    return {code, out.str(), err.str()};
}

bool contains(const std::string& s, const std::string& what) {
    return s.find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("trunkctl domain: add, list, resolve, show, remove", "[domain][trunkctl]") {
    const auto dir =
        std::filesystem::temp_directory_path() / ("trunkctl_domain_" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    const std::string db = (dir / "var" / "trunkline.db").string();

    CHECK(run(db, {"add", "bad name"}).code == 2);
    CHECK(run(db, {"add", "x.test", "--port", "0"}).code == 2);
    CHECK(run(db, {"add", "x.test", "--transport", "sctp"}).code == 2);
    CHECK(run(db, {"frob"}).code == 2);
    CHECK(run(db, {"show"}).code == 2);

    auto r =
        run(db, {"add", "SIP.carrier.test", "--transport", "udp", "--port", "5060", "--ttl", "30"});
    REQUIRE(r.code == 0);
    CHECK(contains(r.out, "sip.carrier.test: transport UDP, port 5060, TTL 30 s (override)"));
    r = run(db, {"list"});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "never resolved"));
    r = run(db, {"show", "sip.carrier.test"});
    CHECK(r.code == 0);
    CHECK(contains(r.out, "never resolved"));

    {
        // a missing dnsmasq is a failure, never a pass: scripts/setup.sh installs dnsmasq-base
        INFO("dnsmasq not installed (scripts/setup.sh installs dnsmasq-base)");
        REQUIRE_FALSE(domain_test::find_dnsmasq().empty());
        domain_test::DnsServer dns(domain_test::port_base() + 9, "carrier.test");
        REQUIRE(dns.start({"--host-record=sip.carrier.test,192.0.2.1"}, 60));
        r = run(db,
                {"resolve", "sip.carrier.test", "--server", dns.address(), "--timeout", "2000"});
        INFO(r.out << r.err);
        CHECK(r.code == 0);
        CHECK(contains(r.out, "1. 192.0.2.1:5060/UDP"));
        CHECK(contains(r.out, "first resolution"));
        r = run(db, {"show", "sip.carrier.test"});
        CHECK(r.code == 0);
        CHECK(contains(r.out, "status recorded"));
        CHECK(contains(r.out, "192.0.2.1:5060/UDP"));
        CHECK(contains(r.out, "override 30 s"));
        r = run(db, {"list"});
        CHECK(contains(r.out, "ok: 192.0.2.1:5060/UDP"));
        r = run(db,
                {"resolve", "nope.carrier.test", "--server", dns.address(), "--timeout", "2000"});
        CHECK(r.code == 1);
        CHECK(contains(r.out, "NXDOMAIN"));
        std::cout << r.out;
    }

    r = run(db, {"remove", "sip.carrier.test"});
    CHECK(r.code == 0);
    CHECK(run(db, {"remove", "sip.carrier.test"}).code == 1);
    std::filesystem::remove_all(dir);
}

TEST_CASE("trunkctl domain --json: every subcommand prints JSON", "[domain][trunkctl]") {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("trunkctl_domain_json_" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    const std::string db = (dir / "var" / "trunkline.db").string();
    using trunkctl::api::parse_json;

    auto r = run(db, {"add", "j.carrier.test", "--port", "5070", "--json"});
    REQUIRE(r.code == 0);
    auto j = parse_json(r.out);
    REQUIRE(j);
    CHECK(j->str("domain") == "j.carrier.test");
    CHECK(j->flag("added"));
    r = run(db, {"list", "--json"});
    CHECK(r.code == 0);
    j = parse_json(r.out);
    REQUIRE(j);
    REQUIRE(j->list("domains").size() == 1);
    CHECK(j->list("domains")[0].str("name") == "j.carrier.test");
    r = run(db, {"show", "j.carrier.test", "--json"});
    j = parse_json(r.out);
    REQUIRE(j);
    CHECK(j->str("name") == "j.carrier.test");
    CHECK(run(db, {"list", "--json", "--format", "csv"}).code == 2);
    r = run(db, {"remove", "j.carrier.test", "--json"});
    CHECK(r.code == 0);
    j = parse_json(r.out);
    REQUIRE(j);
    CHECK(j->str("domain") == "j.carrier.test");
    CHECK(j->flag("removed"));
    r = run(db, {"remove", "j.carrier.test", "--json"});
    CHECK(r.code == 1);
    CHECK(r.out.empty());  // errors on stderr only
    std::filesystem::remove_all(dir);
}

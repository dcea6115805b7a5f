// wiring::ServerConfig from TOML: every registration key, its range checks and the message
// that names file, line, column and key.
#include <catch2/catch.hpp>

#include <string>

#include "wiring/config.hpp"

using namespace std::chrono_literals;

namespace {
std::string load_error(std::string_view text) {
    wiring::ServerConfig c;
    std::string err;
    CHECK_FALSE(wiring::load_config_text(text, "t.toml", c, &err));
    return err;
}
}  // namespace

TEST_CASE("config: defaults are the VOS3000 defaults", "[server][config]") {
    wiring::ServerConfig c;
    std::string err;
    REQUIRE(wiring::load_config_text("", "t.toml", c, &err));
    CHECK(c.registrar.register_replace);
    CHECK(c.registrar.register_retry == 6);
    CHECK(c.registrar.register_suspend == 180s);
    CHECK_FALSE(c.registrar.suspend_drop);
    CHECK(c.send_unregister);
    CHECK_FALSE(c.expires.has_value());  // auto
    CHECK(c.retry_delay == 60s);
    CHECK(c.privacy == route::reg::Privacy::ignore);
    CHECK(c.unregister_wait == 5s);
    CHECK(c.keepalive_enabled);
    CHECK(c.keepalive.interval == 30s);
    CHECK(c.keepalive.payload == route::reg::KeepalivePayload::options);
}

TEST_CASE("config: every registration key is read", "[server][config]") {
    wiring::ServerConfig c;
    std::string err;
    const char* text = R"(
[sip]
udp = "127.0.0.1:25070"
tcp = "off"
max_transactions = 50000

[database]
path = "/tmp/x.db"

[registrar]
realm = "sip.example.net"
algorithms = ["MD5"]
min_expires = 30
max_expires = 1800
default_expires = 900
register_replace = false
register_retry = 3
register_suspend = 20
suspend_action = "drop"

[registrar.nat_keepalive]
enabled = true
interval = 15
payload = "crlf"
nat_only = false

[trunk_registration]
send_unregister = false
unregister_wait = 2
expires = 300
retry_delay = 45
privacy = "id"
contact_host = "sbc.example.net"
)";
    REQUIRE(wiring::load_config_text(text, "t.toml", c, &err));
    CHECK(err.empty());
    CHECK(c.udp == "127.0.0.1:25070");
    CHECK(c.tcp == "off");
    CHECK(c.max_transactions == 50000);
    CHECK(c.database == "/tmp/x.db");
    CHECK(c.realm == "sip.example.net");
    REQUIRE(c.algorithms.size() == 1);
    CHECK(c.algorithms[0] == sip::auth::Algorithm::MD5);
    CHECK(c.registrar.min_expires == 30s);
    CHECK(c.registrar.max_expires == 1800s);
    CHECK(c.registrar.default_expires == 900s);
    CHECK_FALSE(c.registrar.register_replace);
    CHECK(c.registrar.register_retry == 3);
    CHECK(c.registrar.register_suspend == 20s);
    CHECK(c.registrar.suspend_drop);
    CHECK(c.keepalive.interval == 15s);
    CHECK(c.keepalive.payload == route::reg::KeepalivePayload::crlf);
    CHECK_FALSE(c.keepalive.nat_only);
    CHECK_FALSE(c.send_unregister);
    CHECK(c.unregister_wait == 2s);
    REQUIRE(c.expires);
    CHECK(*c.expires == 300s);
    CHECK(c.retry_delay == 45s);
    CHECK(c.privacy == route::reg::Privacy::id);
    CHECK(c.contact_host == "sbc.example.net");
}

TEST_CASE("config: expires \"auto\" clears a fixed value", "[server][config]") {
    wiring::ServerConfig c;
    c.expires = 100s;
    std::string err;
    REQUIRE(wiring::load_config_text("[trunk_registration]\nexpires = \"auto\"\n", "t", c, &err));
    CHECK_FALSE(c.expires);
}

TEST_CASE("config: bad values name file, line, column, key and the allowed range",
          "[server][config]") {
    CHECK(load_error("[trunk_registration]\nretry_delay = 10\n") ==
          "t.toml:2:15: trunk_registration.retry_delay: 10 is outside 30..600 s");
    CHECK(load_error("[trunk_registration]\nexpires = 10\n") ==
          "t.toml:2:11: trunk_registration.expires: 10 is outside 20..7200");
    CHECK(load_error("[trunk_registration]\nexpires = \"never\"\n") ==
          "t.toml:2:11: trunk_registration.expires: expected \"auto\" or an integer 20..7200 (s)");
    CHECK(load_error("[registrar]\nregister_retry = \"six\"\n") ==
          "t.toml:2:18: registrar.register_retry: expected an integer 0..1000");
    CHECK(load_error("[registrar]\nsuspend_action = \"reject\"\n") ==
          "t.toml:2:18: registrar.suspend_action: 'reject' is not \"403\" or \"drop\"");
    CHECK(load_error("[registrar]\nregister_replace = 1\n") ==
          "t.toml:2:20: registrar.register_replace: expected true or false");
    CHECK(load_error("[trunk_registration]\nprivacy = \"all\"\n") ==
          "t.toml:2:11: trunk_registration.privacy: 'all' is not ignore, id or none");
    CHECK(load_error("[registrar]\nalgorithms = [\"SHA-1\"]\n") ==
          "t.toml:2:14: registrar.algorithms: unknown algorithm 'SHA-1'");
    CHECK(load_error("[registrar]\nmin_expires = 600\nmax_expires = 300\n") ==
          "t.toml:2:15: registrar.min_expires: 600 s is above max_expires 300 s");
}

TEST_CASE("config: unknown keys and TOML syntax errors are errors", "[server][config]") {
    CHECK(load_error("[registrar]\nregister_retyr = 6\n") ==
          "t.toml:2:1: registrar.register_retyr: unknown key");
    CHECK(load_error("[nope]\nx = 1\n") == "t.toml:2:1: nope.x: unknown key");
    const std::string e = load_error("[registrar\n");
    CHECK(e.rfind("t.toml:1:", 0) == 0);
}

TEST_CASE("config: a failed load leaves the configuration unchanged", "[server][config]") {
    wiring::ServerConfig c;
    std::string err;
    CHECK_FALSE(wiring::load_config_text("[registrar]\nregister_retry = 2\nregister_suspend = 0\n",
                                         "t", c, &err));
    CHECK(c.registrar.register_retry == 6);
}

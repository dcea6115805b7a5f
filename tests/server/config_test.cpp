// wiring::ServerConfig from TOML: every registration key, its range checks and the message
// that names file, line, column and key.
#include <catch2/catch.hpp>
#include <unistd.h>  // getpid: one directory per test process

#include <filesystem>
#include <fstream>
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
suspend_scope = "user"
trust_window = 3600
max_tracked = 500
max_suspensions = 2000

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
    CHECK(c.registrar.suspend_scope == route::reg::SuspendScope::User);
    CHECK(c.registrar.trust_window == 3600s);
    CHECK(c.registrar.max_tracked == 500);
    CHECK(c.registrar.max_suspensions == 2000);
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
    CHECK(load_error("[registrar]\nsuspend_scope = \"ip\"\n") ==
          "t.toml:2:17: registrar.suspend_scope: 'ip' is not \"address\" or \"user\"");
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

TEST_CASE("config: the B2BUA and routing keys, with their VOS3000 defaults", "[server][config]") {
    wiring::ServerConfig d;
    CHECK(d.calls.timers.invite_timeout == std::chrono::seconds(10));
    CHECK(d.calls.timers.ringing_timeout == std::chrono::seconds(120));
    CHECK(d.calls.timers.max_call == std::chrono::seconds(7200));
    CHECK(d.calls.timers.session_expires == std::chrono::seconds(600));
    CHECK(d.calls.failover.switch_limit == 0);
    CHECK_FALSE(d.calls.failover.switch_until_connect);
    CHECK(d.calls.reply_unauthorized);
    CHECK(d.calls.record_illegal_calls);
    CHECK(d.router.policy == route::lcr::Policy::vos3000);

    const char* text = R"([calls]
invite_timeout = 3
trying_timeout = 4
progress_timeout = 5
progress_sdp_timeout = 6
ringing_timeout = 7
max_call_duration = 3600
session_timers = false
session_expires = 1800
min_se = 120
refresh_divider = 3
prepaid = false
credit_quota = 30
reply_unauthorized = false
record_illegal_calls = false

[calls.failover]
stop_codes = [486, 603]
switch_until_connect = true
stop_after_invite_timeout = true
stop_after_early_sdp = true
switch_limit = 3

[routing]
policy = "cost_in_priority"
asr_aware = true
probe_period = 15

[routing.health]
probe_failures = 2
window = 50
failure_threshold = 10

[routing.blacklist]
limit = 30
interval = 120
expire = 600
)";
    wiring::ServerConfig c;
    std::string err;
    REQUIRE(wiring::load_config_text(text, "t.toml", c, &err));
    CHECK(c.calls.timers.invite_timeout == std::chrono::seconds(3));
    CHECK(c.calls.timers.trying_timeout == std::chrono::seconds(4));
    CHECK(c.calls.timers.progress_timeout == std::chrono::seconds(5));
    CHECK(c.calls.timers.progress_sdp_timeout == std::chrono::seconds(6));
    CHECK(c.calls.timers.ringing_timeout == std::chrono::seconds(7));
    CHECK(c.calls.timers.max_call == std::chrono::seconds(3600));
    CHECK_FALSE(c.calls.timers.session_timers);
    CHECK(c.calls.timers.session_expires == std::chrono::seconds(1800));
    CHECK(c.calls.timers.min_se == std::chrono::seconds(120));
    CHECK(c.calls.timers.refresh_divider == 3);
    CHECK_FALSE(c.calls.prepaid);
    CHECK(c.calls.credit_quota == std::chrono::seconds(30));
    CHECK_FALSE(c.calls.reply_unauthorized);
    CHECK_FALSE(c.calls.record_illegal_calls);
    CHECK(c.calls.failover.stop_codes == std::vector<std::uint16_t>{486, 603});
    CHECK(c.calls.failover.switch_until_connect);
    CHECK(c.calls.failover.stop_after_invite_timeout);
    CHECK(c.calls.failover.stop_after_early_sdp);
    CHECK(c.calls.failover.switch_limit == 3);
    CHECK(c.router.policy == route::lcr::Policy::cost_in_priority);
    CHECK(c.router.asr_aware);
    CHECK(c.probe_period == std::chrono::seconds(15));
    CHECK(c.router.health.probe_failures == 2);
    CHECK(c.router.health.window == 50);
    CHECK(c.router.health.failure_threshold == 10);
    CHECK(c.customers.blacklist.limit == 30);
    CHECK(c.customers.blacklist.interval == std::chrono::seconds(120));
    CHECK(c.customers.blacklist.expire == std::chrono::seconds(600));
}

TEST_CASE("config: bad B2BUA values name the line, the key and the range", "[server][config]") {
    wiring::ServerConfig c;
    std::string err;
    CHECK_FALSE(wiring::load_config_text("[calls]\ninvite_timeout = 0\n", "t.toml", c, &err));
    CHECK(err == "t.toml:2:18: calls.invite_timeout: 0 is outside 1..300 s");
    CHECK_FALSE(wiring::load_config_text("[routing]\npolicy = \"cheapest\"\n", "t.toml", c, &err));
    CHECK(err == "t.toml:2:10: routing.policy: 'cheapest' is not vos3000, cost or cost_in_priority");
    CHECK_FALSE(wiring::load_config_text("[calls.failover]\nstop_codes = [200]\n", "t.toml", c,
                                         &err));
    CHECK(err.find("calls.failover.stop_codes: expected an array of SIP status codes 300..699") !=
          std::string::npos);
    CHECK_FALSE(wiring::load_config_text("[calls]\nsession_expires = 30\n", "t.toml", c, &err));
    CHECK(err == "t.toml:2:19: calls.session_expires: 30 is outside 90..86400 s");
}

TEST_CASE("config: the example file loads as it is", "[server][config]") {
    wiring::ServerConfig c;
    std::string err;
    CHECK(wiring::load_config_file(TRUNKLINE_SOURCE_ROOT "/docs/trunkline.example.toml", c, &err));
    CHECK(err.empty());
}

TEST_CASE("config: the digest offer is MD5 by default; SHA-256 is one key away",
          "[server][config][auth]") {
    // README "Digest algorithms": SIPp 3.6 aborts on a SHA-256 challenge and baresip 1.0
    // fails with "Function not implemented", as do most deployed phones and gateways
    wiring::ServerConfig c;
    std::string err;
    REQUIRE(wiring::load_config_text("", "t.toml", c, &err));
    CHECK(c.algorithms == std::vector{sip::auth::Algorithm::MD5});
    REQUIRE(wiring::load_config_text("[registrar]\nalgorithms = [\"SHA-256\", \"MD5\"]\n",
                                     "t.toml", c, &err));
    CHECK(c.algorithms == std::vector{sip::auth::Algorithm::SHA256, sip::auth::Algorithm::MD5});
    // the example file documents the same default
    wiring::ServerConfig ex;
    REQUIRE(wiring::load_config_file(TRUNKLINE_SOURCE_ROOT "/docs/trunkline.example.toml", ex, &err));
    CHECK(ex.algorithms == std::vector{sip::auth::Algorithm::MD5});
}

TEST_CASE("config: stream connection limits and deadlines (README \"Security\")",
          "[server][config][security]") {
    wiring::ServerConfig c;
    std::string err;
    REQUIRE(wiring::load_config_text("", "t.toml", c, &err));
    CHECK(c.max_connections == 4096);
    CHECK(c.max_connections_per_source == 64);
    CHECK(c.new_connections_per_second == 20);
    CHECK(c.idle_timeout == 300s);
    CHECK(c.message_timeout == 32s);
    CHECK(c.source_limits.empty());
    REQUIRE(wiring::load_config_text(
        "[sip]\nmax_connections = 10000\nmax_connections_per_source = 32\n"
        "new_connections_per_second = 5\nidle_timeout = 120\nmessage_timeout = 10\n"
        "source_limits = [\n"
        "  { source = \"192.0.2.10\", max_connections = 2000, new_connections_per_second = 200 },\n"
        "  { source = \"2001:db8:1:2::/64\", max_connections = 0 },\n"
        "]\n",
        "t.toml", c, &err));
    INFO(err);
    CHECK(c.max_connections == 10000);
    CHECK(c.max_connections_per_source == 32);
    CHECK(c.new_connections_per_second == 5);
    CHECK(c.idle_timeout == 120s);
    CHECK(c.message_timeout == 10s);
    REQUIRE(c.source_limits.size() == 2);
    CHECK(c.source_limits[0].source == "192.0.2.10");
    CHECK(c.source_limits[0].max_connections == 2000);
    CHECK(c.source_limits[0].new_per_second == 200);
    CHECK(c.source_limits[1].max_connections == 0);  // unlimited
    CHECK(c.source_limits[1].new_per_second == 5);   // left out: the [sip] default
    CHECK(load_error("[sip]\nmessage_timeout = 0\n") ==
          "t.toml:2:19: sip.message_timeout: 0 is outside 1..3600 s");
    CHECK(load_error("[sip]\nsource_limits = [{ source = \"gw.example.com\" }]\n") ==
          "t.toml:2:29: sip.source_limits.source: expected an IPv4 address, an IPv6 address "
          "or an IPv6 /64");
    CHECK(load_error("[sip]\nsource_limits = [{ source = \"192.0.2.1/64\" }]\n").find(
              "sip.source_limits.source") != std::string::npos);
    CHECK(load_error("[sip]\nsource_limits = [{ max_connections = 5 }]\n").find(
              "an entry without source") != std::string::npos);
    CHECK(load_error("[sip]\nsource_limits = [{ source = \"192.0.2.1\", rate = 5 }]\n") ==
          "t.toml:2:42: sip.source_limits.rate: unknown key");
    CHECK(load_error("[sip]\nsource_limits = \"192.0.2.1\"\n").find("expected an array of") !=
          std::string::npos);
}

TEST_CASE("config: udp_threads, the loops reading the UDP port (README \"Several loops\")",
          "[server][config]") {
    wiring::ServerConfig c;
    std::string err;
    REQUIRE(wiring::load_config_text("", "t.toml", c, &err));
    CHECK(c.udp_threads == 1);
    REQUIRE(wiring::load_config_text("[sip]\nudp_threads = 2\n", "t.toml", c, &err));
    CHECK(c.udp_threads == 2);
    CHECK(load_error("[sip]\nudp_threads = 0\n") ==
          "t.toml:2:15: sip.udp_threads: 0 is outside 1..16");
    CHECK(load_error("[sip]\nudp_threads = 17\n") ==
          "t.toml:2:15: sip.udp_threads: 17 is outside 1..16");
}

TEST_CASE("config: [capture] HEP collector keys, defaults and errors (README \"SIP capture\")",
          "[server][config][hep]") {
    wiring::ServerConfig c;
    std::string err;
    REQUIRE(wiring::load_config_text("", "t.toml", c, &err));
    CHECK(c.hep.collector.empty());  // off
    CHECK(c.hep.transport == sip::Transport::Udp);
    CHECK(c.hep.capture_id == 2001);
    CHECK(c.hep.password.empty());
    REQUIRE(wiring::load_config_text("[capture]\nhep = \"[2001:db8::5]:9060\"\n"
                                     "hep_transport = \"tcp\"\nhep_id = 4294967295\n"
                                     "hep_password = \"s3cret\"\n",
                                     "t.toml", c, &err));
    INFO(err);
    CHECK(c.hep.collector == "[2001:db8::5]:9060");
    CHECK(c.hep.transport == sip::Transport::Tcp);
    CHECK(c.hep.capture_id == 4294967295u);
    CHECK(c.hep.password == "s3cret");
    REQUIRE(wiring::load_config_text("[capture]\nhep = \"homer.example.net:9060\"\n", "t.toml", c,
                                     &err));
    CHECK(c.hep.collector == "homer.example.net:9060");  // a name: resolved at start
    CHECK(load_error("[capture]\nhep = \"10.0.0.5\"\n") ==
          "t.toml:2:7: capture.hep: '10.0.0.5' is not HOST:PORT (\"10.0.0.5:9060\", "
          "\"homer.example.net:9060\", \"[2001:db8::5]:9060\"; \"\" = off)");
    CHECK(load_error("[capture]\nhep = \"10.0.0.5:0\"\n").find("is not HOST:PORT") !=
          std::string::npos);
    CHECK(load_error("[capture]\nhep = \"2001:db8::5:9060\"\n").find("is not HOST:PORT") !=
          std::string::npos);  // an IPv6 address needs its brackets
    CHECK(load_error("[capture]\nhep = \"10.0.0.5:9060\"\nhep_transport = \"tls\"\n") ==
          "t.toml:3:17: capture.hep_transport: 'tls' is not \"udp\" or \"tcp\"");
    CHECK(load_error("[capture]\nhep_id = -1\n") ==
          "t.toml:2:10: capture.hep_id: -1 is outside 0..4294967295");
    CHECK(load_error("[capture]\nhep_port = 9060\n") == "t.toml:2:1: capture.hep_port: unknown key");
    // the example file documents the defaults
    wiring::ServerConfig ex;
    REQUIRE(wiring::load_config_file(TRUNKLINE_SOURCE_ROOT "/docs/trunkline.example.toml", ex, &err));
    CHECK(ex.hep == wiring::ServerConfig{}.hep);
}

TEST_CASE("config: [alerts] thresholds, webhook, defaults and errors (README \"Alerts\")",
          "[server][config][alerts]") {
    wiring::ServerConfig c;
    std::string err;
    REQUIRE(wiring::load_config_text("", "t.toml", c, &err));
    CHECK(c.alerts == sw::AlertsConfig{});
    CHECK(c.alerts.rate_increase_percent == 10);
    CHECK_FALSE(c.alerts.balance_below);  // off
    CHECK(c.alerts.asr_below_percent == 0);
    CHECK(c.alert_webhook.empty());
    REQUIRE(wiring::load_config_text("[alerts]\nrate_increase_percent = 25\nbalance_below = \"5.50\"\n"
                                     "asr_below_percent = 30\nasr_min_calls = 50\nasr_window = 600\n"
                                     "gateway_down = false\nnegative_margin = false\nevent_ttl = 3600\n"
                                     "webhook = \"https://ops.example.net/hook\"\n",
                                     "t.toml", c, &err));
    INFO(err);
    CHECK(c.alerts.rate_increase_percent == 25);
    REQUIRE(c.alerts.balance_below);
    CHECK(c.alerts.balance_below->micros() == 5'500'000);
    CHECK(c.alerts.asr_below_percent == 30);
    CHECK(c.alerts.asr_min_calls == 50);
    CHECK(c.alerts.asr_window == std::chrono::seconds(600));
    CHECK_FALSE(c.alerts.gateway_down);
    CHECK_FALSE(c.alerts.negative_margin);
    CHECK(c.alerts.event_ttl == std::chrono::seconds(3600));
    CHECK(c.alert_webhook == "https://ops.example.net/hook");
    CHECK(load_error("[alerts]\nbalance_below = \"five\"\n") ==
          "t.toml:2:17: alerts.balance_below: 'five' is not an amount (\"5.00\"; \"\" = off)");
    CHECK(load_error("[alerts]\nwebhook = \"ops.example.net\"\n") ==
          "t.toml:2:11: alerts.webhook: 'ops.example.net' is not an http:// or https:// URL (\"\" = none)");
    CHECK(load_error("[alerts]\nasr_below_percent = 101\n") ==
          "t.toml:2:21: alerts.asr_below_percent: 101 is outside 0..100");
    wiring::ServerConfig ex;  // the example file documents the defaults
    REQUIRE(wiring::load_config_file(TRUNKLINE_SOURCE_ROOT "/docs/trunkline.example.toml", ex, &err));
    CHECK(ex.alerts == sw::AlertsConfig{});
    CHECK(ex.alert_webhook.empty());
}

namespace {

// A self-signed P-256 certificate for 127.0.0.1 (valid to 2126), its key, the same key
// encrypted with "s3cret", and a key of another certificate.
constexpr const char* kCert = R"(-----BEGIN CERTIFICATE-----
MIIBkDCCATagAwIBAgIUFDOGY3ErEqwFlkVFCDLzl99Br+UwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTIwNTIyNTkwM1oYDzIxMjYxMTEx
MjI1OTAzWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAR0oPr6kayW1rhfQiKzZvDt17fzumRaNkdcpxGvJSlZzNV//XEaGe/K
S82Sy4hRrFEr8x3d8wQvy3NDcdJtIgIGo2QwYjAdBgNVHQ4EFgQUy5cG5h4tFqpO
4W22RYtJOVM/KjowHwYDVR0jBBgwFoAUy5cG5h4tFqpO4W22RYtJOVM/KjowDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0gAMEUC
IQDIBgIntSRlXyZYAi5/Bq+Hr9rb4jfKz9c8Y1nHmmCIKAIgenw0VbzsV+My42vk
NBcKyUBANsF0kt426Pl3R0y5OPk=
-----END CERTIFICATE-----
)";
constexpr const char* kKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+IxSOGJXEsvypBcp
TTZ9jcDuMYEX2FbEHjPNxSocTsahRANCAAR0oPr6kayW1rhfQiKzZvDt17fzumRa
NkdcpxGvJSlZzNV//XEaGe/KS82Sy4hRrFEr8x3d8wQvy3NDcdJtIgIG
-----END PRIVATE KEY-----
)";
constexpr const char* kEncryptedKey = R"(-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAgXarvDMGfh1gICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEDlIC2qUEbHZ03ZEdRjBlLYEgZDG
gkyl6vz1gaeSui+qlAh1lYxDNmV4Ni7ww//O6Yxq/sQTbhsqgq0M9XEBisgNKpja
WBeLp646BpoX9s+mn+N8qXwwpeW0H12CZ+ZX2nIghzvs1IAUJC87Y3aK+mVsiEQ3
g28zCqqv0IyapLM1XTgcthToQWSX9J8X76gQ2aM4zOrxU9zMHdXYibGwrNvJSLI=
-----END ENCRYPTED PRIVATE KEY-----
)";
constexpr const char* kOtherKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+31T3+gk2kEBAFDb
lFwyHbFzxsk3kuPx201wc/0ZnuihRANCAAQQ5B6izJ8wSfZnH4ZfnLL1DSh4cvY+
EncmFTwkKbfEAc2IdimiqDv9ABuA0GLlJ8UjJMhcXD9+BbYREifhVWZc
-----END PRIVATE KEY-----
)";

// A directory of PEM files for one test, removed after it.
struct PemDir {
    std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                ("trunkline-config-test-" + std::to_string(::getpid()));
    PemDir() {
        std::filesystem::create_directories(dir);
        write("cert.pem", kCert);
        write("key.pem", kKey);
        write("enc.pem", kEncryptedKey);
        write("other.pem", kOtherKey);
        write("junk.pem",
              "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
    }
    ~PemDir() { std::filesystem::remove_all(dir); }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(dir / name) << text;
    }
    std::string operator()(const std::string& name) const { return (dir / name).string(); }
    // [api] with these two files (and a password line when given)
    std::string api(const std::string& cert, const std::string& key,
                    const std::string& password = "") const {
        return "[api]\ntls_cert = \"" + (*this)(cert) + "\"\ntls_key = \"" + (*this)(key) +
               "\"\n" + (password.empty() ? "" : "tls_key_password = \"" + password + "\"\n");
    }
};

}  // namespace

TEST_CASE("config: [api] TLS: both files or neither, each readable PEM, the key the "
          "certificate's (DESIGN.md §8)",
          "[server][config][api][tls]") {
    const PemDir pem;
    wiring::ServerConfig c;
    std::string err;
    REQUIRE(wiring::load_config_text("", "t.toml", c, &err));
    CHECK(c.api_tls_cert.empty());  // neither: plain HTTP, as before
    CHECK(c.api_tls_key.empty());
    REQUIRE(wiring::load_config_text(pem.api("cert.pem", "key.pem"), "t.toml", c, &err));
    INFO(err);
    CHECK(c.api_tls_cert == pem("cert.pem"));
    CHECK(c.api_tls_key == pem("key.pem"));
    CHECK(c.api_tls_key_password.empty());
    wiring::ServerConfig enc;
    REQUIRE(wiring::load_config_text(pem.api("cert.pem", "enc.pem", "s3cret"), "t.toml", enc, &err));
    CHECK(enc.api_tls_key_password == "s3cret");

    // one without the other, at the line of the one given
    CHECK(load_error("[api]\ntls_cert = \"" + pem("cert.pem") + "\"\n") ==
          "t.toml:2:12: api.tls_cert: set without api.tls_key (give both, or neither for plain "
          "HTTP)");
    CHECK(load_error("[api]\ntls_key = \"" + pem("key.pem") + "\"\n") ==
          "t.toml:2:11: api.tls_key: set without api.tls_cert (give both, or neither for plain "
          "HTTP)");
    CHECK(load_error("[api]\ntls_key_password = \"s3cret\"\n") ==
          "t.toml:2:20: api.tls_key_password: set without api.tls_cert and api.tls_key");
    // a missing file names the key, the file and why
    CHECK(load_error(pem.api("missing.pem", "key.pem")) ==
          "t.toml:2:12: api.tls_cert: " + pem("missing.pem") +
              ": cannot read: No such file or directory");
    CHECK(load_error(pem.api("cert.pem", "missing.pem")) ==
          "t.toml:3:11: api.tls_key: " + pem("missing.pem") +
              ": cannot read: No such file or directory");
    // not PEM, or the wrong PEM
    CHECK(load_error(pem.api("junk.pem", "key.pem")) ==
          "t.toml:2:12: api.tls_cert: " + pem("junk.pem") +
              ": not a PEM certificate (BEGIN CERTIFICATE)");
    CHECK(load_error(pem.api("key.pem", "key.pem")).find("api.tls_cert: " + pem("key.pem") +
                                                         ": not a PEM certificate") !=
          std::string::npos);
    CHECK(load_error(pem.api("cert.pem", "cert.pem")) ==
          "t.toml:3:11: api.tls_key: " + pem("cert.pem") + ": not a PEM private key");
    CHECK(load_error(pem.api("cert.pem", "other.pem")) ==
          "t.toml:3:11: api.tls_key: " + pem("other.pem") + ": not the key of the certificate in " +
              pem("cert.pem"));
    // an encrypted key: never a prompt on the terminal, a message
    CHECK(load_error(pem.api("cert.pem", "enc.pem")) ==
          "t.toml:3:11: api.tls_key: " + pem("enc.pem") +
              ": the key is encrypted: set api.tls_key_password");
    CHECK(load_error(pem.api("cert.pem", "enc.pem", "wrong")) ==
          "t.toml:3:11: api.tls_key: " + pem("enc.pem") + ": api.tls_key_password does not decrypt it");
    // the example file keeps the API on plain HTTP (the keys are there, commented)
    wiring::ServerConfig ex;
    REQUIRE(wiring::load_config_file(TRUNKLINE_SOURCE_ROOT "/docs/trunkline.example.toml", ex, &err));
    CHECK(ex.api_tls_cert.empty());
}

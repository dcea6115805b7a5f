// wiring::listening / switch_config / registrations_config / trunk_defaults: what the
// configuration means for the transports, the switch core and the carrier entries.
#include <catch2/catch.hpp>

#include <string>

#include "wiring/switch_setup.hpp"

using namespace std::chrono_literals;

namespace {

std::string listen_error(const wiring::ServerConfig& c) {
    std::string err;
    CHECK_FALSE(wiring::listening(c, &err));
    return err;
}

}  // namespace

TEST_CASE("switch setup: listeners and their addresses", "[server][setup]") {
    wiring::ServerConfig c;
    c.udp = "192.0.2.1:5070";
    c.tcp = "off";
    c.tls = "[2001:db8::1]:5061";
    c.tls_cert = "c.pem";
    c.tls_key = "k.pem";
    c.max_message = 4096;
    c.max_headers = 32;
    std::string err;
    auto ls = wiring::listening(c, &err);
    REQUIRE(ls);
    REQUIRE(ls->transports.listen.size() == 2);
    CHECK(ls->transports.listen[0].transport == sip::Transport::Udp);
    CHECK(ls->transports.listen[1].address == "[2001:db8::1]:5061");
    CHECK(ls->transports.tls.cert_file == "c.pem");
    CHECK(ls->transports.limits.parse.max_message == 4096);
    CHECK(ls->transports.limits.parse.max_headers == 32);
    CHECK(ls->local.at(sip::Transport::Udp).host == "192.0.2.1");
    CHECK(ls->local.at(sip::Transport::Udp).port == 5070);
    CHECK(ls->local.at(sip::Transport::Tls).host == "2001:db8::1");
    CHECK_FALSE(ls->local.contains(sip::Transport::Tcp));
}

TEST_CASE("switch setup: the listener errors trunkline reports as usage errors",
          "[server][setup]") {
    wiring::ServerConfig c;
    c.tls = "127.0.0.1:5061";
    CHECK(listen_error(c) == "--tls needs --tls-cert and --tls-key");
    wiring::ServerConfig none;
    none.udp = none.tcp = "off";
    CHECK(listen_error(none) == "no listener left (--udp, --tcp and --tls are all off)");
    wiring::ServerConfig bad;
    bad.tcp = "localhost";
    CHECK(listen_error(bad) == "bad listen address 'localhost'");
}

TEST_CASE("switch setup: the switch's addresses, clocks and limits", "[server][setup]") {
    wiring::ServerConfig c;
    c.udp = "off";
    c.tcp = "10.0.0.1:5080";
    c.contact_host = "203.0.113.5";
    c.server_header = "Edge";
    c.log_messages = false;
    c.max_transactions = 5000;
    c.probe_period = 10s;
    auto ls = wiring::listening(c, nullptr);
    REQUIRE(ls);
    const sip::Instant now = sip::Instant{} + 100s;
    auto s = wiring::switch_config(c, *ls, {.wall_ms = 1'700'000'000'500, .loop_now = now});
    // the element answers with the listener's own address; calls and probes use contact_host
    CHECK(s.element.contact_host == "10.0.0.1");
    CHECK(s.element.contact_port == 5080);
    CHECK(s.element.server_header == "Edge");
    CHECK_FALSE(s.element.log_messages);
    CHECK(s.element.txn.max_transactions == 5000);
    CHECK(s.element.unix_offset_s == 1'700'000'000 - 100);
    CHECK(s.calls.unix_offset_ms == 1'700'000'000'500 - 100'000);
    CHECK(s.calls.local.at(sip::Transport::Tcp).host == "203.0.113.5");
    CHECK(s.calls.local.at(sip::Transport::Tcp).port == 5080);
    CHECK_FALSE(s.calls.log_calls);
    CHECK(s.calls.server_header == "Edge");
    CHECK(s.probes.local_host == "203.0.113.5");
    CHECK(s.probes.user_agent == "Edge");
    CHECK(s.probes.period == 10s);

    auto r = wiring::registrations_config(c, *ls);
    REQUIRE(r.keepalive);
    CHECK(r.keepalive->local_host == "10.0.0.1");
    CHECK(r.keepalive->local_port == 5080);
    CHECK_FALSE(r.log_bindings);
    c.keepalive_enabled = false;
    CHECK_FALSE(wiring::registrations_config(c, *ls).keepalive);
}

TEST_CASE("switch setup: the element's address is the UDP listener's when there is one",
          "[server][setup]") {
    wiring::ServerConfig c;
    c.udp = "127.0.0.2:5060";
    c.tcp = "127.0.0.3:5062";
    auto ls = wiring::listening(c, nullptr);
    REQUIRE(ls);
    auto s = wiring::switch_config(c, *ls, {});
    CHECK(s.element.contact_host == "127.0.0.2");
    CHECK(s.calls.local.at(sip::Transport::Tcp).host == "127.0.0.3");
    auto d = wiring::trunk_defaults(c, *ls);
    CHECK(d.contact_host == "127.0.0.2");
    CHECK(d.contact_port == 5060);
    CHECK(d.ports.at(sip::Transport::Tcp) == 5062);
}

TEST_CASE("switch setup: carrier entry defaults from [trunk_registration]", "[server][setup]") {
    wiring::ServerConfig c;
    c.contact_host = "198.51.100.7";
    c.expires = 600s;
    c.retry_delay = 90s;
    c.privacy = route::reg::Privacy::id;
    c.send_unregister = false;
    c.unregister_wait = 2s;
    c.server_header = "Edge";
    auto ls = wiring::listening(c, nullptr);
    REQUIRE(ls);
    auto d = wiring::trunk_defaults(c, *ls);
    CHECK(d.contact_host == "198.51.100.7");
    CHECK(d.expires == 600s);
    CHECK(d.retry_delay == 90s);
    CHECK(d.privacy == route::reg::Privacy::id);
    CHECK_FALSE(d.send_unregister);
    CHECK(d.unregister_wait == 2s);
    CHECK(d.user_agent == "Edge");
}

TEST_CASE("switch setup: stream limits reach the transports", "[server][setup][security]") {
    wiring::ServerConfig c;
    c.max_connections = 9000;
    c.max_connections_per_source = 16;
    c.new_connections_per_second = 4;
    c.source_limits = {{"192.0.2.10", 500, 50}};
    c.idle_timeout = 90s;
    c.message_timeout = 20s;
    std::string err;
    auto ls = wiring::listening(c, &err);
    REQUIRE(ls);
    const auto& l = ls->transports.limits;
    CHECK(l.max_connections == 9000);
    CHECK(l.max_connections_per_source == 16);
    CHECK(l.new_connections_per_second == 4);
    REQUIRE(l.source_limits.size() == 1);
    CHECK(l.source_limits[0].source == "192.0.2.10");
    CHECK(l.source_limits[0].max_connections == 500);
    CHECK(l.idle_timeout == 90s);
    CHECK(l.message_timeout == 20s);
}

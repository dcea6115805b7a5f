// wiring::trunk_spec: a carrier registration entry with its defaults filled in, the registrar
// domain, the outbound proxy check and the fingerprint that re-registers a changed entry.
#include <catch2/catch.hpp>

#include <string>

#include "wiring/trunk_specs.hpp"

using namespace std::chrono_literals;

namespace {

route::reg::sqlite::TrunkReg entry() {
    route::reg::sqlite::TrunkReg r;
    r.name = "carrier1";
    r.server = "192.0.2.10";
    r.aor_user = "4420";
    r.password = "secret";
    return r;
}

wiring::TrunkDefaults defaults() {
    wiring::TrunkDefaults d;
    d.contact_host = "198.51.100.1";
    d.ports = {{sip::Transport::Udp, 5070}, {sip::Transport::Tcp, 5072}};
    d.contact_port = 5070;
    d.retry_delay = 60s;
    d.user_agent = "Trunkline";
    return d;
}

sw::TrunkSpec spec(const route::reg::sqlite::TrunkReg& r,
                   const wiring::TrunkDefaults& d = defaults()) {
    auto target = wiring::literal_registrar(r);
    REQUIRE(target);
    std::string why;
    auto s = wiring::trunk_spec(r, *target, d, &why);
    REQUIRE(s);
    CHECK(why.empty());
    return *s;
}

}  // namespace

TEST_CASE("trunk specs: an IP literal registrar, defaults filled in", "[server][trunk_specs]") {
    auto s = spec(entry());
    CHECK(s.name == "carrier1");
    const auto& c = s.config;
    CHECK(c.registrar.host == "192.0.2.10");
    CHECK(c.registrar.port == 5060);
    CHECK(c.registrar.transport == sip::Transport::Udp);
    CHECK(c.registrar_domain == "192.0.2.10");
    CHECK_FALSE(c.outbound_proxy);
    CHECK(c.aor_user == "4420");
    CHECK(c.password == "secret");
    CHECK(c.contact_host == "198.51.100.1");
    CHECK(c.contact_port == 5070);
    CHECK_FALSE(c.expires);  // auto
    CHECK(c.retry_delay == 60s);
    CHECK(c.send_unregister);
    CHECK(c.user_agent == "Trunkline");
    CHECK_FALSE(s.previous);
}

TEST_CASE("trunk specs: what the entry sets wins over the defaults", "[server][trunk_specs]") {
    auto r = entry();
    r.transport = sip::Transport::Tcp;
    r.port = 5099;
    r.contact_host = "203.0.113.9";
    r.expires_s = 300;
    r.retry_delay_s = 120;
    r.privacy = route::reg::Privacy::none;
    r.send_unregister = false;
    auto s = spec(r);
    const auto& c = s.config;
    CHECK(c.registrar.port == 5099);
    CHECK(c.registrar_domain == "192.0.2.10:5099");
    CHECK(c.contact_host == "203.0.113.9");
    CHECK(c.contact_port == 5072);  // our TCP listener
    CHECK(c.expires == 300s);
    CHECK(c.retry_delay == 120s);
    CHECK(c.privacy == route::reg::Privacy::none);
    CHECK_FALSE(c.send_unregister);
    r.expires_s = 0;  // 0 means auto, whatever the default
    auto d = defaults();
    d.expires = 900s;
    CHECK_FALSE(spec(r, d).config.expires);
    r.expires_s.reset();
    CHECK(spec(r, d).config.expires == 900s);
}

TEST_CASE("trunk specs: TLS defaults to 5061 and a transport we do not listen on",
          "[server][trunk_specs]") {
    auto r = entry();
    r.transport = sip::Transport::Tls;
    auto s = spec(r);
    CHECK(s.config.registrar.port == 5061);
    CHECK(s.config.registrar_domain == "192.0.2.10");
    CHECK(s.config.contact_port == 5070);  // no TLS listener: the default contact port
    r.port = 5061;
    CHECK(spec(r).config.registrar_domain == "192.0.2.10");
    CHECK(wiring::default_port(sip::Transport::Udp) == 5060);
}

TEST_CASE("trunk specs: a name is not a literal registrar", "[server][trunk_specs]") {
    auto r = entry();
    r.server = "sip.carrier.example";
    CHECK_FALSE(wiring::literal_registrar(r));
    CHECK(wiring::is_ip_literal("2001:db8::1"));
    CHECK_FALSE(wiring::is_ip_literal("sip.carrier.example"));
    // resolved elsewhere: the domain stays the name
    std::string why;
    auto s =
        wiring::trunk_spec(r, {sip::Transport::Udp, "192.0.2.20", 5060, 0, {}}, defaults(), &why);
    REQUIRE(s);
    CHECK(s->config.registrar_domain == "sip.carrier.example");
    CHECK(s->config.registrar.host == "192.0.2.20");
}

TEST_CASE("trunk specs: the outbound proxy must be IP[:port]", "[server][trunk_specs]") {
    auto r = entry();
    r.outbound_proxy = "192.0.2.30:5090";
    auto s = spec(r);
    REQUIRE(s.config.outbound_proxy);
    CHECK(s.config.outbound_proxy->host == "192.0.2.30");
    CHECK(s.config.outbound_proxy->port == 5090);
    r.outbound_proxy = "proxy.example:5060";
    std::string why;
    CHECK_FALSE(wiring::trunk_spec(r, *wiring::literal_registrar(r), defaults(), &why));
    CHECK(why == "outbound proxy must be IP[:port]: proxy.example:5060");
    r.outbound_proxy = "192.0.2.30";  // the port is not optional in the text
    CHECK_FALSE(wiring::trunk_spec(r, *wiring::literal_registrar(r), defaults(), &why));
}

TEST_CASE("trunk specs: the fingerprint moves with every setting that changes what we send",
          "[server][trunk_specs]") {
    const std::string base = spec(entry()).fingerprint;
    CHECK(spec(entry()).fingerprint == base);
    auto changed = [&](auto edit) {
        auto r = entry();
        edit(r);
        return spec(r).fingerprint != base;
    };
    using R = route::reg::sqlite::TrunkReg;
    CHECK(changed([](R& r) { r.password = "other"; }));
    CHECK(changed([](R& r) { r.aor_user = "4421"; }));
    CHECK(changed([](R& r) { r.auth_user = "auth"; }));
    CHECK(changed([](R& r) { r.aor_domain = "carrier.example"; }));
    CHECK(changed([](R& r) { r.port = 5080; }));
    CHECK(changed([](R& r) { r.outbound_proxy = "192.0.2.31:5060"; }));
    CHECK(changed([](R& r) { r.contact_port = 6000; }));
    CHECK(changed([](R& r) { r.expires_s = 120; }));
    CHECK(changed([](R& r) { r.retry_delay_s = 30; }));
    CHECK(changed([](R& r) { r.privacy = route::reg::Privacy::id; }));
    CHECK(changed([](R& r) { r.send_unregister = false; }));
    CHECK_FALSE(changed([](R& r) { r.enabled = false; }));  // the caller skips those
}

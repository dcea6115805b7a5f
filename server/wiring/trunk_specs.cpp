#include "wiring/trunk_specs.hpp"

#include <fmt/format.h>

#include "route/domain/dns_message.hpp"
#include "sip/uv/transports.hpp"

namespace wiring {

using route::reg::sqlite::TrunkReg;

bool is_ip_literal(std::string_view host) {
    return route::domain::IpAddress::parse(host).has_value();
}

std::uint16_t default_port(sip::Transport transport) {
    return transport == sip::Transport::Tls ? 5061 : 5060;
}

std::optional<sip::Target> literal_registrar(const TrunkReg& r) {
    if (!is_ip_literal(r.server)) return std::nullopt;
    return sip::Target{r.transport, r.server, r.port ? r.port : default_port(r.transport), 0, {}};
}

namespace {

// "IP[:port]" of the entry's outbound proxy; false: not an IP literal.
bool outbound_proxy(const TrunkReg& r, route::reg::RegClientConfig& c) {
    if (r.outbound_proxy.empty()) return true;
    std::string host;
    std::uint16_t port = 0;
    if (!sip::uv::split_host_port(r.outbound_proxy, host, port) || !is_ip_literal(host))
        return false;
    c.outbound_proxy =
        sip::Target{r.transport, host, port ? port : default_port(r.transport), 0, {}};
    return true;
}

// What the entry leaves unset comes from the defaults.
void apply_defaults(const TrunkReg& r, const TrunkDefaults& d, route::reg::RegClientConfig& c) {
    auto lp = d.ports.find(r.transport);
    c.contact_host = !r.contact_host.empty() ? r.contact_host : d.contact_host;
    c.contact_port = r.contact_port        ? r.contact_port
                     : lp != d.ports.end() ? lp->second
                                           : d.contact_port;
    if (r.expires_s)
        c.expires =
            *r.expires_s == 0 ? std::nullopt : std::optional(std::chrono::seconds(*r.expires_s));
    else
        c.expires = d.expires;
    c.retry_delay = r.retry_delay_s ? std::chrono::seconds(*r.retry_delay_s) : d.retry_delay;
    c.privacy = r.privacy.value_or(d.privacy);
    c.send_unregister = r.send_unregister.value_or(d.send_unregister);
    c.unregister_wait = d.unregister_wait;
    c.user_agent = d.user_agent;
}

// Every setting that changes what we send: a change re-registers the entry.
std::string fingerprint(const TrunkReg& r, const route::reg::RegClientConfig& c) {
    return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
                       sip::transport_name(c.registrar.transport), c.registrar.host,
                       c.registrar.port, c.registrar_domain, r.outbound_proxy, c.aor_user,
                       c.aor_domain, c.auth_user, c.password, c.contact_host, c.contact_port,
                       c.expires ? c.expires->count() : 0, c.retry_delay.count(),
                       static_cast<int>(c.privacy)) +
           (c.send_unregister ? "|u" : "|-");
}

}  // namespace

std::optional<sw::TrunkSpec> trunk_spec(const TrunkReg& r, const sip::Target& registrar,
                                        const TrunkDefaults& d, std::string* why) {
    route::reg::RegClientConfig c;
    c.registrar = registrar;
    c.registrar_domain = r.server;
    if (r.port && r.port != default_port(r.transport))
        c.registrar_domain += ":" + std::to_string(r.port);
    if (!outbound_proxy(r, c)) {
        if (why) *why = "outbound proxy must be IP[:port]: " + r.outbound_proxy;
        return std::nullopt;
    }
    c.aor_user = r.aor_user;
    c.aor_domain = r.aor_domain;
    c.auth_user = r.auth_user;
    c.password = r.password;
    apply_defaults(r, d, c);
    sw::TrunkSpec spec;
    spec.name = r.name;
    spec.fingerprint = fingerprint(r, c);
    spec.config = std::move(c);
    return spec;
}

}  // namespace wiring

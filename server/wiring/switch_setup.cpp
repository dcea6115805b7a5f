#include "wiring/switch_setup.hpp"

#include <fmt/format.h>

#include <chrono>

namespace wiring {

namespace {

sw::ElementConfig element_config(const ServerConfig& cfg, const Listening& ls, TimeBase t) {
    sw::ElementConfig e;
    e.echo_uas = cfg.echo_uas;
    e.server_header = cfg.server_header;
    e.limits.max_message = cfg.max_message;
    e.limits.max_headers = cfg.max_headers;
    e.txn.max_transactions = cfg.max_transactions;
    e.log_messages = cfg.log_messages;
    e.contact_host = ls.local.begin()->second.host;
    e.contact_port = ls.local.begin()->second.port;
    e.unix_offset_s =
        t.wall_ms / 1000 -
        std::chrono::duration_cast<std::chrono::seconds>(t.loop_now.time_since_epoch()).count();
    return e;
}

}  // namespace

sw::FrontConfig front_config(const ServerConfig& cfg) {
    sw::FrontConfig f;
    f.limits.max_message = cfg.max_message;
    f.limits.max_headers = cfg.max_headers;
    f.server_header = cfg.server_header;
    return f;
}

std::optional<Listening> listening(const ServerConfig& cfg, std::string* error) {
    Listening ls;
    auto& t = ls.transports;
    t.tls.cert_file = cfg.tls_cert;
    t.tls.key_file = cfg.tls_key;
    t.tls.ca_file = cfg.tls_ca;
    t.limits.parse.max_message = cfg.max_message;
    t.limits.parse.max_headers = cfg.max_headers;
    t.limits.max_connections = cfg.max_connections;
    t.limits.max_connections_per_source = cfg.max_connections_per_source;
    t.limits.new_connections_per_second = cfg.new_connections_per_second;
    t.limits.source_limits = cfg.source_limits;
    t.limits.idle_timeout = cfg.idle_timeout;
    t.limits.message_timeout = cfg.message_timeout;
    if (cfg.udp != "off") t.listen.push_back({sip::Transport::Udp, cfg.udp});
    if (cfg.tcp != "off") t.listen.push_back({sip::Transport::Tcp, cfg.tcp});
    if (!cfg.tls.empty() && cfg.tls != "off") {
        if (cfg.tls_cert.empty() || cfg.tls_key.empty()) {
            if (error) *error = "--tls needs --tls-cert and --tls-key";
            return std::nullopt;
        }
        t.listen.push_back({sip::Transport::Tls, cfg.tls});
    }
    if (t.listen.empty()) {
        if (error) *error = "no listener left (--udp, --tcp and --tls are all off)";
        return std::nullopt;
    }
    for (const auto& l : t.listen) {
        sw::LocalAddress a;
        if (!sip::uv::split_host_port(l.address, a.host, a.port)) {
            if (error) *error = fmt::format("bad listen address '{}'", l.address);
            return std::nullopt;
        }
        ls.local.emplace(l.transport, std::move(a));
    }
    return ls;
}

sw::SwitchConfig switch_config(const ServerConfig& cfg, const Listening& ls, TimeBase t) {
    sw::SwitchConfig s;
    s.element = element_config(cfg, ls, t);
    s.calls = cfg.calls;
    s.alerts = cfg.alerts;
    s.calls.server_header = cfg.server_header;
    s.calls.log_calls = cfg.log_messages;
    s.log.per_second = cfg.log_lines_per_second;
    s.calls.unix_offset_ms = t.wall_ms - std::chrono::duration_cast<std::chrono::milliseconds>(
                                             t.loop_now.time_since_epoch())
                                             .count();
    for (const auto& [transport, a] : ls.local)
        s.calls.local[transport] =
            sw::LocalAddress{cfg.contact_host.empty() ? a.host : cfg.contact_host, a.port};
    s.router = cfg.router;
    s.customers = cfg.customers;
    s.probes.local_host = s.calls.local.begin()->second.host;
    s.probes.local_port = s.calls.local.begin()->second.port;
    s.probes.user_agent = cfg.server_header;
    s.probes.period = cfg.probe_period;
    return s;
}

sw::RegistrationsConfig registrations_config(const ServerConfig& cfg, const Listening& ls) {
    sw::RegistrationsConfig r;
    r.registrar = cfg.registrar;
    r.location = cfg.location;
    r.log_bindings = cfg.log_messages;
    if (cfg.keepalive_enabled) {
        r.keepalive = cfg.keepalive;
        r.keepalive->local_host = ls.local.begin()->second.host;
        r.keepalive->local_port = ls.local.begin()->second.port;
    }
    return r;
}

TrunkDefaults trunk_defaults(const ServerConfig& cfg, const Listening& ls) {
    TrunkDefaults d;
    d.contact_host = cfg.contact_host.empty() ? ls.local.begin()->second.host : cfg.contact_host;
    for (const auto& [transport, a] : ls.local)
        d.ports[transport] = a.port;
    d.contact_port = ls.local.begin()->second.port;
    d.expires = cfg.expires;
    d.retry_delay = cfg.retry_delay;
    d.privacy = cfg.privacy;
    d.send_unregister = cfg.send_unregister;
    d.unregister_wait = cfg.unregister_wait;
    d.user_agent = cfg.server_header;
    return d;
}

}  // namespace wiring

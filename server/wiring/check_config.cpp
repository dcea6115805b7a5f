#include "wiring/check_config.hpp"

#include <fmt/format.h>

#include <string>

#include "wiring/http_server.hpp"

namespace wiring {

namespace {

// "; NOT AVAILABLE, ..." when this libmicrohttpd cannot do what [api] asks ("" when it can).
std::string api_tls_unavailable(const ServerConfig& cfg) {
    ApiTlsPem wanted;
    wanted.key_password = cfg.api_tls_key_password;  // only whether one is set matters here
    std::string why = HttpServer::tls_unavailable(wanted);
    return why.empty() ? "" : "; NOT AVAILABLE, trunkline will not start: " + why;
}

}  // namespace

void print_check_config(const ServerConfig& cfg, std::size_t users, Carriers& carriers) {
    auto specs = carriers.specs();
    const auto& r = cfg.registrar;
    fmt::print(
        "database {}\nrealm {} ({} users)\nregistrar {}: expires {}..{} s (default {}), "
        "replace {}, retry {}, suspend {} s ({})\n",
        cfg.database, cfg.realm, users, cfg.registrar_enabled ? "on" : "off", r.min_expires.count(),
        r.max_expires.count(), r.default_expires.count(), r.register_replace ? "on" : "off",
        r.register_retry, r.register_suspend.count(), r.suspend_drop ? "drop" : "403");
    fmt::print("brute force: count per {}, trust {} s, {} counters per table, {} suspensions\n",
               r.suspend_scope == route::reg::SuspendScope::User ? "user, user at IP and IP"
                                                                 : "user at IP and IP",
               r.trust_window.count(), r.max_tracked, r.max_suspensions);
    fmt::print("streams: max_connections {}, per source {} open and {} new/s ({} overrides), "
               "idle {} s, message {} s\n",
               cfg.max_connections, cfg.max_connections_per_source, cfg.new_connections_per_second,
               cfg.source_limits.size(), cfg.idle_timeout.count(), cfg.message_timeout.count());
    if (!cfg.api_enabled)
        fmt::print("api: off\n");
    else if (cfg.api_tls_cert.empty())
        fmt::print("api: http://{} (no TLS)\n", cfg.api_listen);
    else  // the files were read and checked when the configuration was loaded
        fmt::print("api: https://{} (certificate {}, key {}{}){}\n", cfg.api_listen,
                   cfg.api_tls_cert, cfg.api_tls_key,
                   cfg.api_tls_key_password.empty() ? "" : ", encrypted",
                   api_tls_unavailable(cfg));
    if (cfg.hep.collector.empty())
        fmt::print("capture: off\n");
    else
        fmt::print("capture: HEPv3 over {} to {}, capture id {}{}\n",
                   cfg.hep.transport == sip::Transport::Tcp ? "tcp" : "udp", cfg.hep.collector,
                   cfg.hep.capture_id, cfg.hep.password.empty() ? "" : ", with auth key");
    if (specs) {
        for (const auto& s : *specs) {
            if (s.dns && s.config.registrar.host.empty())  // a host name, no address yet
                fmt::print("trunk-reg {}: {} {}\n", s.name,
                           s.dns->state == route::domain::LookupState::Pending ? "resolving"
                                                                               : "no address for",
                           s.dns->key);
            else
                fmt::print("trunk-reg {}: {} {}:{} expires {} retry {} s unregister {}\n", s.name,
                           sip::transport_name(s.config.registrar.transport),
                           s.config.registrar.host, s.config.registrar.port,
                           s.config.expires ? std::to_string(s.config.expires->count()) : "auto",
                           s.config.retry_delay.count(), s.config.send_unregister ? "on" : "off");
        }
    }
    for (const auto& [name, why] : carriers.unresolved())
        fmt::print("trunk-reg {}: {}\n", name, why);
}

}  // namespace wiring

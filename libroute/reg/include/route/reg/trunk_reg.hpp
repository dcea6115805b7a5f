// route::reg::TrunkReg — an outbound (carrier) registration entry as the operator configured
// it (`trunkctl trunk-reg add`, POST /api/carriers). Plain data, pure: the SQLite store keeps
// it (route::reg::sqlite::TrunkReg is this type), the management API and trunkctl check it
// with sw::trunk_form. Unset optional fields take trunkline's configured defaults
// ([trunk_registration]).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "route/reg/client.hpp"
#include "sip/transport.hpp"

namespace route::reg {

struct TrunkReg {
    std::string name;        // key: letters, digits, '-', '_', '.'
    std::string server;      // registrar FQDN or IP literal
    std::uint16_t port = 0;  // 0: 5060 (5061 TLS), or SRV when server is an FQDN
    sip::Transport transport = sip::Transport::Udp;
    std::string outbound_proxy;  // "host[:port]" or empty
    std::string aor_user;
    std::string aor_domain;  // empty: server
    std::string auth_user;   // empty: aor_user
    std::string password;
    std::string contact_host;                    // empty: trunkline's configured contact host
    std::uint16_t contact_port = 0;              // 0: trunkline's listen port for `transport`
    std::optional<std::uint32_t> expires_s;      // nullopt: default; 0 means auto
    std::optional<std::uint32_t> retry_delay_s;  // nullopt: default (30..600)
    std::optional<Privacy> privacy;              // nullopt: default
    std::optional<bool> send_unregister;         // nullopt: default
    bool enabled = true;
    friend bool operator==(const TrunkReg&, const TrunkReg&) = default;
};

}  // namespace route::reg

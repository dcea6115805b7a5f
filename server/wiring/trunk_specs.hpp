// wiring::trunk_spec — a carrier registration entry as the operator stored it (`trunkctl
// trunk-reg add`) turned into the RegClient configuration sw::Registrations runs, with the
// fingerprint whose change re-registers the entry. Pure: the registrar's address comes in
// (an IP literal here, or what the domain cache resolved the server's name to).
//
//   wiring::TrunkDefaults d = wiring::trunk_defaults(cfg, listening);  // switch_setup.hpp
//   auto registrar = wiring::literal_registrar(entry);   // nullopt: a name, ask the DNS
//   std::string why;
//   if (auto spec = wiring::trunk_spec(entry, *registrar, d, &why)) specs.push_back(*spec);
//   else log("trunk-reg {}: waiting: {}", entry.name, why);  // outbound proxy not IP[:port]
//
// Unset fields of the entry take the defaults ([trunk_registration] and the listeners).
// spec.previous (crash recovery) is the caller's: it comes from the entry's state row.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "route/reg/sqlite/store.hpp"
#include "sip/transport.hpp"
#include "sw/registrations.hpp"

namespace wiring {

struct TrunkDefaults {
    std::string contact_host;                       // our host in Contact
    std::map<sip::Transport, std::uint16_t> ports;  // our listen port per transport
    std::uint16_t contact_port = 5060;              // for a transport we do not listen on
    std::optional<std::chrono::seconds> expires;    // nullopt: auto
    std::chrono::seconds retry_delay{60};
    route::reg::Privacy privacy = route::reg::Privacy::ignore;
    bool send_unregister = true;
    std::chrono::seconds unregister_wait{5};
    std::string user_agent = "Trunkline";
};

bool is_ip_literal(std::string_view host);
// 5061 for TLS, 5060 otherwise (RFC 3261 §19.1.2).
std::uint16_t default_port(sip::Transport transport);

// The registrar of an entry whose server is an IP literal; nullopt when it is a name.
std::optional<sip::Target> literal_registrar(const route::reg::sqlite::TrunkReg& entry);

// nullopt + *why: the entry cannot run as configured (its outbound proxy is not IP[:port]).
std::optional<sw::TrunkSpec> trunk_spec(const route::reg::sqlite::TrunkReg& entry,
                                        const sip::Target& registrar, const TrunkDefaults& d,
                                        std::string* why);

}  // namespace wiring

// wiring::print_check_config — `trunkline --check-config`: the effective registrar settings
// and every carrier registration entry as it would run (or why it would wait), on stdout.
//
//   wiring::print_check_config(cfg, auth.user_count(), carriers);
//   // database var/trunkline.db
//   // realm trunkline (2 users)
//   // registrar on: expires 60..3600 s (default 3600), replace on, retry 3, suspend 60 s (403)
//   // trunk-reg carrier1: UDP 192.0.2.10:5060 expires auto retry 60 s unregister on
//   // trunk-reg carrier2: resolving sip.carrier2.example
#pragma once

#include <cstddef>

#include "wiring/carriers.hpp"
#include "wiring/config.hpp"

namespace wiring {

void print_check_config(const ServerConfig& cfg, std::size_t users, Carriers& carriers);

}  // namespace wiring

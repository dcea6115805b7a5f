// wiring::listening, wiring::switch_config, ... — what a ServerConfig means for the transports,
// the switch core and the carrier registrations. Pure: the clock readings come in.
//
//   std::string err;
//   auto ls = wiring::listening(cfg, &err);  // nullopt: "--tls needs --tls-cert and --tls-key"
//   sip::uv::Loop loop;
//   sw::Switch sw(wiring::switch_config(cfg, *ls, {.wall_ms = wall_ms(), .loop_now = loop.now()}),
//                 wiring::registrations_config(cfg, *ls), &auth, hasher, rng);
//   sip::uv::Transports tp(loop, ls->transports, handlers);
//   wiring::TrunkDefaults d = wiring::trunk_defaults(cfg, *ls);  // for wiring::trunk_spec
//
// The element's own address (Contact of its answers, NAT keep-alive, OPTIONS probes) is the
// listener of the lowest sip::Transport (UDP before TCP before TLS); calls and carrier entries
// use the listener of their transport, with [trunk_registration] contact_host over its host.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "sip/time.hpp"
#include "sip/uv/transports.hpp"
#include "sw/front.hpp"
#include "sw/switch.hpp"
#include "wiring/config.hpp"
#include "wiring/trunk_specs.hpp"

namespace wiring {

struct Listening {
    sip::uv::TransportsConfig transports;              // listeners, TLS files, stream limits
    std::map<sip::Transport, sw::LocalAddress> local;  // each listener's host and port
};

// The moment the switch starts, on both clocks: Instants become Unix times with it.
struct TimeBase {
    std::int64_t wall_ms = 0;  // Unix milliseconds
    sip::Instant loop_now{};
};

// nullopt + *error: a TLS listener without certificate or key, no listener left, or a
// listen address that is not HOST:PORT (the messages trunkline prints as usage errors).
std::optional<Listening> listening(const ServerConfig& cfg, std::string* error);
sw::SwitchConfig switch_config(const ServerConfig& cfg, const Listening& ls, TimeBase t);
sw::RegistrationsConfig registrations_config(const ServerConfig& cfg, const Listening& ls);
TrunkDefaults trunk_defaults(const ServerConfig& cfg, const Listening& ls);
// What a UDP reader thread parses and answers with (the element's limits and Server header).
sw::FrontConfig front_config(const ServerConfig& cfg);

}  // namespace wiring

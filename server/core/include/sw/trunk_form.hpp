// sw::trunk_form — the checks of every field of a carrier registration entry
// (route::reg::TrunkReg), shared by `trunkctl trunk-reg add|set` and the management API
// (/api/carriers), so both accept exactly the same entries with the same messages. Pure:
// values come by option name through gateway_form::Values ("--server", "--expires"; the flags
// --disabled and --enabled are given with any value), errors come back as {option, message};
// trunkctl prints them (exit 2), the API answers 422 naming the JSON field.
//
//   sw::gateway_form::MapValues v{{"--server", "sip.carrier.example"}, {"--user", "4420001"}};
//   route::reg::TrunkReg r{.name = "carrier-a"};
//   if (auto e = sw::trunk_form::apply(v, r, true)) fail(e->option, e->message);
//   // e->message: "--expires 10: outside 20..7200 s (or auto)"
//
// "default" or an empty value restores trunkline's configured default for the optional
// fields. Also compiled into trunkctl without billing (tools/trunkctl/meson.build): it needs
// only route_reg and sipcore.
#pragma once

#include <optional>
#include <string>

#include "route/reg/trunk_reg.hpp"
#include "sw/gateway_form.hpp"

namespace sw::trunk_form {

using Error = gateway_form::Error;
using Values = gateway_form::Values;

// Applies the given options to `r`, each checked. `adding`: --server and --user are required.
std::optional<Error> apply(const Values& v, route::reg::TrunkReg& r, bool adding);

// An entry name: 1..64 letters, digits, '-', '_', '.' ("trunk-reg name ...").
std::optional<std::string> check_name(const std::string& v);
// A SIP user part (RFC 3261 §25.1 without escapes), 1..64 characters; `what` names it.
std::optional<std::string> check_user_part(const std::string& what, const std::string& v);
// Printable, no quotes or backslashes, 1..128 characters (realm, digest user name).
std::optional<std::string> check_quotable(const std::string& what, const std::string& v);

}  // namespace sw::trunk_form

// sw::run_command — an operator's command (trunkctl leaves it in the reg_command table of the
// SQLite file) applied to the running switch. Pure: the wiring takes the commands from the
// store and logs the line this returns.
//
//   for (const auto& c : store.take_commands(&err))
//       if (auto line = sw::run_command(sw, c.kind, c.arg, now)) log(*line);
//
// Commands:
// - "lift ARG": lifts the registrar's suspensions of a user or an IP; nothing to log (what
//   was lifted comes out of sw.poll_log() with the next pump).
// - "hangup ID": ends call ID (the id `trunkctl call list` shows) as the server, then pumps
//   the switch; "call ID: operator hangup: done", or "...: no such call" when ID is not a
//   number or no such call runs.
// - "unbind AOR [CONTACT]", "unbind-user USER": registrar bindings removed
//   (sw::Registrations::command; trunkctl binding remove, user remove), with a log line.
// - anything else: "command KIND 'ARG' not understood".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/time.hpp"

namespace sw {

class Switch;

std::optional<std::string> run_command(Switch& sw, std::string_view kind, std::string_view arg,
                                       sip::Instant now);

// A call id as `trunkctl call list` prints it: decimal digits only; nullopt when empty, not
// a number or beyond 64 bits.
std::optional<std::uint64_t> parse_call_id(std::string_view id);

// Ends call `id` as the server and pumps the switch (the "hangup" command and the management
// API's DELETE /api/calls/{id}); false: no such call runs. The caller drains the switch.
bool hangup_call(Switch& sw, std::uint64_t id, sip::Instant now);

}  // namespace sw

// wiring::run_commands — the operator's commands trunkctl queued in the SQLite file (the
// reg_command table: lift a suspension, hang up a call), taken in one transaction and
// applied to the switch by sw::run_command, whose answer is logged.
//
//   wiring::run_commands(store, sw, loop.now());  // wiring::Reloader: data_version moved
//   // log: "call 7: operator hangup: done"
//
// Every pending command is read and deleted in one transaction (up to the last id read), so
// one queued after it moves data_version again and the next poll takes it: none is lost. The
// switch is pumped after a hangup; the caller drains it (sends, CDR, logs).
#pragma once

#include "route/reg/sqlite/store.hpp"
#include "sip/time.hpp"
#include "sw/switch.hpp"

namespace wiring {

void run_commands(route::reg::sqlite::Store& store, sw::Switch& sw, sip::Instant now);

}  // namespace wiring

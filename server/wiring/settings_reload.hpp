// wiring::reload_settings — SIGHUP (issue 11 item 7): the configuration is read again (the
// TOML file, then the same command-line flags), every changed setting is logged, the ones a
// running trunkline can take are applied, the others are logged as needing a restart:
//
//   reload: registrar.register_retry changed (applied)
//   reload: sip.udp changed: needs a restart
//   reload: 1 applied, 1 need a restart
//
// Live: the registrar's expiry bounds, register_replace, suspend_action and failure rules
// (register_retry, register_suspend, failure_window, trust_window), [shutdown] drain_calls and
// retry_after, [trunk_registration] unregister_wait. Everything else (listeners, TLS files,
// the database, log settings, the B2BUA's timers, routing policy, the API) is built into the
// objects made at start: it needs a restart. A file that does not load changes nothing
// ("reload: <error>: nothing changed").
//
//   wiring::ServerConfig live = cfg;          // what the running objects use
//   shutdown.listen([&] { wiring::reload_settings(flags, live, {sw, shutdown}); driver.flush(); });
//
// setting_changes() is the comparison alone (keys in the order of the example file).
#pragma once

#include <string>
#include <vector>

#include "sw/switch.hpp"
#include "wiring/config.hpp"
#include "wiring/flags.hpp"
#include "wiring/shutdown.hpp"

namespace wiring {

struct SettingChange {
    std::string key;  // "registrar.register_retry"
    bool live;        // false: takes effect at the next start
};
std::vector<SettingChange> setting_changes(const ServerConfig& was, const ServerConfig& now);

struct ReloadTargets {
    sw::Switch& sw;
    Shutdown& shutdown;
};
// Re-reads, logs, applies; `live` becomes the new configuration for the live keys (the
// restart-only keys keep their running values). false: the file did not load.
bool reload_settings(const Flags& flags, ServerConfig& live, ReloadTargets targets);

}  // namespace wiring

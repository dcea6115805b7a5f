// wiring::sd_notify — systemd's readiness protocol (sd_notify(3)), written out here: one
// datagram of "KEY=VALUE" lines on the unix socket named by $NOTIFY_SOCKET ('@' first means
// Linux's abstract namespace). The protocol is a stable, documented interface of a dozen
// lines; linking libsystemd for it would add a dependency (and its transitive libraries) to
// a binary that also runs outside systemd, in containers and in the tests.
//
//   wiring::sd_notify("READY=1\nSTATUS=listening on udp 0.0.0.0:5060");  // when listening
//   wiring::sd_notify("STOPPING=1");                                      // SIGTERM seen
//
// Without $NOTIFY_SOCKET (not started by systemd) it does nothing and returns true; false
// when the socket is set but the datagram could not be sent (logged by the caller if it
// matters: systemd then kills a Type=notify service at TimeoutStartSec).
#pragma once

#include <string_view>

namespace wiring {

bool sd_notify(std::string_view state);

}  // namespace wiring

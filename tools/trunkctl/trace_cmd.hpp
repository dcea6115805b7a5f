// `trunkctl trace start|list|get|stop`: on-demand captures of the calls matching a filter
// (VOS3000's debug trace) on the running trunkline, through its management API
// (/api/traces; libcurl). Called by trunkctl's dispatcher:
// `if (cmd == "trace") return trunkctl::cmd_trace(remote, argc, argv, i + 1);`
//
//   trunkctl trace start --callee 4930 --duration 300 --token $T   # prints the trace id
//   trunkctl trace list                      # id, state, filter, messages, calls, end
//   trunkctl trace get 1 --out call.pcap     # then: tshark -r call.pcap, sngrep -I call.pcap
//   trunkctl trace stop 1
//
// The API's address comes from --api ADDR:PORT|URL or TRUNKLINE_API (default 127.0.0.1:8080:
// traces have no database path), the bearer token from --token or TRUNKLINE_TOKEN
// (api_client.hpp); --json prints the API's JSON.
#pragma once

#include "api_client.hpp"

namespace trunkctl {

// argv[first] is the subcommand; returns 0 ok, 1 runtime error, 2 usage error.
int cmd_trace(const api::Remote& remote, int argc, char** argv, int first);
extern const char* const kTraceHelp;

}  // namespace trunkctl

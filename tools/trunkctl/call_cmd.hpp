// `trunkctl call list|hangup` and `gateway status`: the running switch's calls and vendor
// gateways and an operator hang-up, through the management API when one is given
// (api_client.hpp), else through the database (trunkline publishes its calls there once a
// second and takes queued hang-ups within a second). Called by trunkctl's dispatcher:
// `if (cmd == "call") return trunkctl::cmd_call(db, remote, argc, argv, i + 1);`
//
//   trunkctl call list --json
//   trunkctl --api 127.0.0.1:8080 --token $T call hangup 17
#pragma once

#include <string>

#include "api_client.hpp"

namespace trunkctl {

// argv[first] is the subcommand; returns 0 ok, 1 runtime error, 2 usage error.
int cmd_call(const std::string& db, const api::Remote& remote, int argc, char** argv, int first);
// gateway status [--json]: the vendor gateways' live state in the running switch (calls,
// health: down and why, since when); argv[first] is "status".
int cmd_gateway_status(const std::string& db, const api::Remote& remote, int argc, char** argv, int first);
extern const char* const kCallHelp;

}  // namespace trunkctl

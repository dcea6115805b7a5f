// `trunkctl call list|hangup`: the running switch's calls (published by trunkline once a
// second into the database) and an operator hang-up (a queued command trunkline takes within
// a second). Called by trunkctl's dispatcher:
// `if (cmd == "call") return trunkctl::cmd_call(db, argc, argv, i + 1);`
#pragma once

#include <string>

namespace trunkctl {

// argv[first] is the subcommand; returns 0 ok, 1 runtime error, 2 usage error.
int cmd_call(const std::string& db, int argc, char** argv, int first);
// gateway status [--json]: the vendor gateways' live state in the running switch (calls,
// health: down and why, since when); argv[first] is "status".
int cmd_gateway_status(const std::string& db, int argc, char** argv, int first);
extern const char* const kCallHelp;

}  // namespace trunkctl

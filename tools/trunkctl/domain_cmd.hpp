// `trunkctl domain ...`: operators' domain entries (issue 4). Called by trunkctl's
// dispatcher: `if (cmd == "domain") return trunkctl::cmd_domain(db, remote, argc, argv, i + 1);`
// list, show and resolve ask the running trunkline's cache through the management API when
// one is given (api_client.hpp); add and remove always write the database.
#pragma once

#include <string>

#include "api_client.hpp"

namespace trunkctl {

// argv[first] is the subcommand (list, show, add, remove, resolve). Returns the exit code:
// 0 ok, 1 runtime or data error, 2 usage error.
int cmd_domain(const std::string& db, const api::Remote& remote, int argc, char** argv, int first);

extern const char* const kDomainHelp;

}  // namespace trunkctl

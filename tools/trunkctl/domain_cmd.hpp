// `trunkctl domain ...`: operators' domain entries (issue 4). Called by trunkctl's
// dispatcher: `if (cmd == "domain") return trunkctl::cmd_domain(db, argc, argv, i + 1);`
#pragma once

#include <string>

namespace trunkctl {

// argv[first] is the subcommand (list, show, add, remove, resolve). Returns the exit code:
// 0 ok, 1 runtime or data error, 2 usage error.
int cmd_domain(const std::string& db, int argc, char** argv, int first);

extern const char* const kDomainHelp;

}  // namespace trunkctl

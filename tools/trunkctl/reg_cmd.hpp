// `trunkctl user|binding|suspend|trunk-reg ...`: registration state in the SQLite database
// (route_reg_sqlite); binding, suspend and trunk-reg list|show ask the running trunkline
// through its management API instead when one is given (api_client.hpp). Called by
// trunkctl's dispatcher:
// `if (cmd == "user") return trunkctl::cmd_user(db, argc, argv, i + 1);`
// `if (cmd == "binding") return trunkctl::cmd_binding(db, remote, argc, argv, i + 1);`
#pragma once

#include <string>

#include "api_client.hpp"

namespace trunkctl {

// argv[first] is the subcommand. Return the exit code: 0 ok, 1 runtime or data error,
// 2 usage error.
// user add|passwd|remove|list
int cmd_user(const std::string& db, int argc, char** argv, int first);
// suspend list|lift
int cmd_suspend(const std::string& db, const api::Remote& remote, int argc, char** argv, int first);
// binding list|show|remove
int cmd_binding(const std::string& db, const api::Remote& remote, int argc, char** argv, int first);
// trunk-reg add|set|remove|list|show|register
int cmd_trunk_reg(const std::string& db, const api::Remote& remote, int argc, char** argv, int first);

extern const char* const kUserHelp;
extern const char* const kSuspendHelp;
extern const char* const kBindingHelp;
extern const char* const kTrunkRegHelp;

}  // namespace trunkctl

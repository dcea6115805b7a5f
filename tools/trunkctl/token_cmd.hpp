// `trunkctl token add|list|remove`: bearer tokens of trunkline's management API. A token's
// secret is printed once by `add` and only its SHA-256 is stored (sw::api::sqlite::Store); a
// running trunkline picks up additions and removals within a second. Called by trunkctl's
// dispatcher: `if (cmd == "token") return trunkctl::cmd_token(db, argc, argv, i + 1);`
//
//   trunkctl token add grafana --scope read     # prints tl_4f1c...: shown once
//   trunkctl token list --json                  # names, scopes, creation times; no secrets
//   trunkctl token remove grafana
#pragma once

#include <string>

namespace trunkctl {

// argv[first] is the subcommand; returns 0 ok, 1 runtime error, 2 usage error.
int cmd_token(const std::string& db, int argc, char** argv, int first);
extern const char* const kTokenHelp;

}  // namespace trunkctl

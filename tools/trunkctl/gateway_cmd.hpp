// `trunkctl gateway ...`, `trunkctl group ...`, `trunkctl route explain ...`: customer
// (VOS3000 mapping) and vendor (VOS3000 routing) gateways, gateway groups, and why a number
// is routed the way it is (route_lcr_sqlite, route_lcr, billing, sw::BillingRates). Called by
// trunkctl's dispatcher: `if (cmd == "gateway") return trunkctl::cmd_gateway(db, argc, argv, i + 1);`
#pragma once

#include <string>

namespace trunkctl {

// argv[first] is the subcommand. Return the exit code: 0 ok, 1 runtime or data error,
// 2 usage error.
// gateway add|set|list|show|remove customer|vendor NAME [OPTIONS]
int cmd_gateway(const std::string& db, int argc, char** argv, int first);
// group add|set|list|remove NAME --line-limit N
int cmd_group(const std::string& db, int argc, char** argv, int first);
// route explain NUMBER --customer NAME [--caller N] [--policy P] [--at TIME] [--json]
int cmd_route(const std::string& db, int argc, char** argv, int first);

extern const char* const kGatewayHelp;
extern const char* const kGroupHelp;
extern const char* const kRouteHelp;

}  // namespace trunkctl

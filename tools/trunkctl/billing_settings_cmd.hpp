// `trunkctl billing show|set` (the rating settings kept in the database's `settings` table:
// currency, precision and rounding, hold-time precision, free time; billing/settings.hpp) and
// `trunkctl accounts max-duration` (the longest call a balance allows, computed by
// billing::Rater::max_call_duration, the function the switch's prepaid admission uses).
// Called from trunkctl.cpp:
//
//   if (cmd == "billing") return trunkctl::cmd_billing(db, argc, argv, i + 1);
//   if (sub == "max-duration") return trunkctl::accounts_max_duration(db, argc, argv, first + 1);
#pragma once

#include <string>

namespace trunkctl {

// billing show [--format table|csv|json]; billing set KEY VALUE. argv[first] is the subcommand.
int cmd_billing(const std::string& db, int argc, char** argv, int first);
// accounts max-duration ACCOUNT NUMBER [--caller N] [--at TIME]; argv[first] is ACCOUNT.
int accounts_max_duration(const std::string& db, int argc, char** argv, int first);

}  // namespace trunkctl

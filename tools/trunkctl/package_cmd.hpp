// `trunkctl packages add|remove|list|usage` (VOS3000 packages, billing/packages.hpp: minutes
// to a set of prefixes sold to a customer for a fee and a validity period); `cdr import`
// prices by them through billing::VolumePricing. Called from trunkctl.cpp:
//
//   if (cmd == "packages") return trunkctl::cmd_packages(db, argc, argv, i + 1);
//   if (kind == "packages") return trunkctl::report_packages(db, a, format, kReportHelp);  // cmd_report
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "args.hpp"
#include "billing/packages.hpp"
#include "billing/rating.hpp"
#include "billing/sqlite/store.hpp"
#include "billing/tiers.hpp"

namespace trunkctl {

// packages add|remove|list|usage ...; argv[first] is the subcommand.
int cmd_packages(const std::string& db, int argc, char** argv, int first);

// report packages [--from T] [--until T]: the packages valid in the period with their minutes
// used and left (billing::PackageReport, Store::package_report). `a` holds cmd_report's
// options (--agent already refused), format is table|csv|json, help is report's usage.
int report_packages(const std::string& db, const Args& a, const std::string& format, const char* help);

}  // namespace trunkctl

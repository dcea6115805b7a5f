// `trunkctl packages add|remove|list|usage` (VOS3000 packages, billing/packages.hpp: minutes
// to a set of prefixes sold to a customer for a fee and a validity period) and the package
// step of `trunkctl cdr import`. Called from trunkctl.cpp:
//
//   if (cmd == "packages") return trunkctl::cmd_packages(db, argc, argv, i + 1);
//   if (kind == "packages") return trunkctl::report_packages(db, a, format, kReportHelp);  // cmd_report
//
//   trunkctl::PackagePricer packages;                      // cdr import, once
//   if (auto ok = packages.load(*st); !ok) return runtime(ok.error());
//   ... price_by_volume(...) ...                           // tiers first
//   if (auto p = packages.price(cdr, rating, tiers, cfg); !p) { /* error of that line */ }
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

// Uses the customers' packages for the CDRs of one import, in file order: the usage before a
// call is the stored one plus this import's earlier calls (as the volumes of tiers).
class PackagePricer {
public:
    billing::Result<void> load(billing::sqlite::Store& st);
    // After the tier step: uses the best package with seconds left (Packages::candidates) for
    // the rated CDR, at the tier price when a tier priced it. No package: unchanged.
    billing::Result<void> price(billing::Cdr& cdr, const billing::CallRating& rating,
                                const billing::VolumeTiers& tiers, const billing::RatingConfig& cfg);

private:
    billing::sqlite::Store* st_ = nullptr;
    billing::Packages packages_;
    std::map<std::pair<std::string, std::string>, std::int64_t> used_;  // (account, name) -> seconds
};

}  // namespace trunkctl

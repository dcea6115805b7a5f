// `trunkctl commitments add|remove|list` and `trunkctl report commitments` (issue 14,
// commitment discounts, billing/commitments.hpp: a customer's contracted minutes per local
// calendar month to a prefix, and the discount earned on the month's charge when they are
// reached). Called from trunkctl.cpp:
//
//   if (cmd == "commitments") return trunkctl::cmd_commitments(db, argc, argv, i + 1);
//   if (kind == "commitments") return trunkctl::report_commitments(db, argc, argv, first + 1, kReportHelp);
//
// report_commitments parses its own options (--month is this kind's alone), so cmd_report
// dispatches to it before reading the options of the other kinds.
#pragma once

#include <string>

namespace trunkctl {

// commitments add|remove|list ...; argv[first] is the subcommand.
int cmd_commitments(const std::string& db, int argc, char** argv, int first);

// report commitments --month YYYY-MM [--format table|csv|json | --json]; argv[first] is the
// first option; help is report's usage.
int report_commitments(const std::string& db, int argc, char** argv, int first, const char* help);

}  // namespace trunkctl

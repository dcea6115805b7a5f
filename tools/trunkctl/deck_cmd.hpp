// Rate deck import for `trunkctl rates`: the deck format from a stored template and the
// command line, the import itself (all or nothing, every bad line named, hints for the usual
// mistakes), templates (`rates template add|list|remove`, VOS3000 feerate_template.conf),
// explicit rate groups (`rates group add`) and the group list. Called from cmd_rates:
//
//   if (sub == "template") return trunkctl::cmd_rates_template(db, argc, argv, first + 1);
//   if (sub == "import") return trunkctl::rates_import(db, a, kRatesHelp);  // a: parsed with kDeckOptions
#pragma once

#include <set>
#include <string>

#include "args.hpp"
#include "billing/deck.hpp"
#include "billing/sqlite/store.hpp"

namespace trunkctl {

// Options that describe a deck's layout (rates import and rates template add take them).
extern const std::set<std::string> kDeckOptions;  // with a value
extern const std::set<std::string> kDeckFlags;

// Applies the layout options present in `a` on top of `fmt` (a template's or the default);
// false with `error` set on a bad value.
bool apply_deck_options(const Args& a, billing::DeckFormat& fmt, std::string& error);

// rates import GROUP FILE [--template NAME] [layout options] [--replace]; `a` is parsed.
// A bad option value is a usage error, printed with `help`.
int rates_import(const std::string& db, const Args& a, const char* help);
// rates template add|list|remove ...; argv[first] is the template subcommand.
int cmd_rates_template(const std::string& db, int argc, char** argv, int first);
// rates group add GROUP; argv[first] is "add".
int cmd_rates_group(const std::string& db, int argc, char** argv, int first);
// rates list: the groups with their rate and account counts; format table (aligned, with
// a header), csv or json (checked by the caller).
int rates_list(const std::string& db, const std::string& format);

// Refuses a rate group an operator named that does not exist (an account's --rate-group,
// private rates): "unknown rate group 'X'", with how to create it. Ok for "".
billing::Result<void> check_rate_group(billing::sqlite::Store& st, const std::string& group);

extern const char* const kRatesTemplateHelp;

}  // namespace trunkctl

// What the trunkctl subcommands with a subcommand of their own (gateway, group, route, user,
// suspend, trunk-reg) share: exit codes, error printers, the subcommand/option parse with
// --help, checks of option values (hosts, quoting a value in a message), and the --json
// pieces every command uses (json_format, json_text, json_object, done).
//
//   const cli::Cmd kUser{"user", kUserHelp};
//   Args a;
//   std::string sub;
//   if (int rc = cli::parse(kUser, argc, argv, first, spec, a, sub); rc >= 0) return rc;
//   if (!cli::valid_host(h)) return cli::bad(kUser, cli::opt_text("--host", h) + ": ...");
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <iostream>
#include <string>
#include <system_error>
#include <utility>

#include "args.hpp"
#include "sw/form_text.hpp"

namespace trunkctl::cli {

constexpr int kOk = 0;
constexpr int kRuntime = 1;
constexpr int kUsage = 2;

// Which command is talking, for messages.
struct Cmd {
    const char* name;  // "gateway", "user", "trunk-reg", ...
    const char* help;
};

// A syntax error: message and the command's help.
inline int usage(const Cmd& c, const std::string& msg) {
    std::cerr << "trunkctl " << c.name << ": " << msg << "\n" << c.help;
    return kUsage;
}

// A bad option value or name: the message alone.
inline int bad(const Cmd& c, const std::string& msg) {
    std::cerr << "trunkctl " << c.name << ": " << msg << "\n";
    return kUsage;
}

inline int runtime(const Cmd& c, const std::string& msg) {
    std::cerr << "trunkctl " << c.name << ": " << msg << "\n";
    return kRuntime;
}

// --json, which every command accepts: where a command has --format, --json is --format
// json and contradicts any other --format. Sets `format` (fallback without either option)
// and returns true, or returns false on the contradiction (a usage error).
inline bool json_format(const Args& a, std::string& format, const std::string& fallback = "table") {
    format = a.get("--format", fallback);
    if (!a.flag("--json")) return true;
    if (a.has("--format") && format != "json") return false;
    format = "json";
    return true;
}
inline std::string json_conflict(const Args& a) { return "--json contradicts --format " + a.get("--format"); }

// Parses argv[first] (the subcommand) and the options; handles --help and rejects --json
// with a --format other than json (json_format). Returns -1 to go on.
inline int parse(const Cmd& c, int argc, char** argv, int first, OptionSpec spec, Args& a,
                 std::string& sub) {
    if (first >= argc) return usage(c, "missing subcommand");
    sub = argv[first];
    if (sub == "--help" || sub == "-h" || sub == "help") {
        std::cout << c.help;
        return kOk;
    }
    spec.flags.insert("--help");
    if (!a.parse(argc, argv, first + 1, spec)) return usage(c, a.error());
    if (a.flag("--help")) {
        std::cout << c.help;
        return kOk;
    }
    if (std::string f; !json_format(a, f)) return usage(c, json_conflict(a));
    return -1;
}

// Creates the database file's directory (errors are left to the open that follows).
inline void ensure_dir(const std::string& db) {
    std::filesystem::path p(db);
    if (p.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(p.parent_path(), ec);
    }
}

// A JSON string literal for --json output: quotes, backslashes and control characters escaped.
inline std::string json_text(const std::string& s) {
    std::string o = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            o += '\\';
            o += static_cast<char>(c);
        } else if (c < 0x20) {
            char b[8];
            std::snprintf(b, sizeof b, "\\u%04x", c);
            o += b;
        } else {
            o += static_cast<char>(c);
        }
    }
    return o + "\"";
}

// A write command's --json result: one object of keys and JSON values (json_text(...),
// json_bool(...), a number), e.g. {"account":"C1","balance":"10.0000"}.
using JsonFields = std::initializer_list<std::pair<const char*, std::string>>;
inline std::string json_bool(bool b) { return b ? "true" : "false"; }
inline std::string json_object(JsonFields f) {
    std::string o = "{";
    for (const auto& [k, v] : f) o += (o.size() > 1 ? ",\"" : "\"") + std::string(k) + "\":" + v;
    return o + "}";
}

// What a write command prints after success: `text` (may be empty), or with --json the
// object of `f`. Returns kOk.
inline int done(const Args& a, const std::string& text, JsonFields f) {
    if (a.flag("--json")) std::cout << json_object(f) << "\n";
    else std::cout << text;
    return kOk;
}

// The value checks and message pieces trunkctl shares with the API's forms (sw/form_text.hpp).
using sw::form::is_ip;
using sw::form::is_ipv4;
using sw::form::is_ipv6;
using sw::form::lower;
using sw::form::opt_text;
using sw::form::show_value;
using sw::form::valid_host;

}  // namespace trunkctl::cli

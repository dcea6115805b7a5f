// What the trunkctl subcommands with a subcommand of their own (gateway, group, route, user,
// suspend, trunk-reg) share: exit codes, error printers, the subcommand/option parse with
// --help, and checks of option values (hosts, quoting a value in a message).
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
#include <iostream>
#include <string>
#include <system_error>

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

// Parses argv[first] (the subcommand) and the options; handles --help. Returns -1 to go on.
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

// The value checks and message pieces trunkctl shares with the API's forms (sw/form_text.hpp).
using sw::form::is_ip;
using sw::form::is_ipv4;
using sw::form::is_ipv6;
using sw::form::lower;
using sw::form::opt_text;
using sw::form::show_value;
using sw::form::valid_host;

}  // namespace trunkctl::cli

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

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include "args.hpp"

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

// A value as given, quoted when it is empty or has blanks ("--user 'a b'").
inline std::string show_value(const std::string& v) {
    const bool blank = v.empty() || std::any_of(v.begin(), v.end(), [](char c) {
                           return std::isspace(static_cast<unsigned char>(c)) != 0;
                       });
    return blank ? "'" + v + "'" : v;
}

// "--expires 10" for messages.
inline std::string opt_text(const std::string& opt, const std::string& v) {
    return opt + " " + show_value(v);
}

inline std::string lower(std::string s) {
    for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

inline bool is_ipv4(const std::string& h) {
    in_addr a{};
    return inet_pton(AF_INET, h.c_str(), &a) == 1;
}

inline bool is_ipv6(const std::string& h) {
    in6_addr a{};
    return inet_pton(AF_INET6, h.c_str(), &a) == 1;
}

inline bool is_ip(const std::string& h) {
    return is_ipv4(h) || is_ipv6(h);
}

// A host name (labels of letters, digits, '-', '_'), an IPv4 or an IPv6 literal.
inline bool valid_host(const std::string& h) {
    if (h.empty() || h.size() > 253) return false;
    if (is_ip(h)) return true;
    // Labels of 1..63 characters; '-' neither first nor last in a label.
    std::size_t label = 0;
    char prev = '.';
    for (char c : h) {
        if (c == '.') {
            if (label == 0 || prev == '-') return false;
            label = 0;
        } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                   (c == '-' && label > 0)) {
            if (++label > 63) return false;
        } else {
            return false;
        }
        prev = c;
    }
    return label > 0 && prev != '-';
}

}  // namespace trunkctl::cli

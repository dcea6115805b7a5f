// wiring::parse_flags, wiring::load_config — trunkline's command line. Settings come from the
// embedded defaults, then --config FILE, then the flags, so the flags are collected first and
// applied over the file.
//
//   std::vector<std::string> args(argv + 1, argv + argc);
//   wiring::Flags flags;
//   std::string err;
//   if (!wiring::parse_flags(args, flags, &err)) usage_error(err);  // "--udp needs a value"
//   if (flags.help) print(wiring::kUsage);
//   wiring::ServerConfig cfg;
//   if (!wiring::load_config(flags, cfg, &err)) die(err);          // the file's error
//
// parse_flags stops at --help / -h and --version (what follows is not read). Errors are the
// text trunkline prints before " (see --help)".
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "wiring/config.hpp"

namespace wiring {

extern const std::string_view kUsage;  // the --help text

struct Flags {
    std::string config_file;                                    // --config
    std::string database;                                       // --db (empty: the configuration's)
    std::vector<std::function<void(ServerConfig&)>> overrides;  // in command-line order
    bool quiet = false, check_config = false;
    bool help = false, version = false;  // set: nothing after the flag was read
};

bool parse_flags(const std::vector<std::string>& args, Flags& flags, std::string* error);

// The file (if any) over `cfg`, then the flags. false: the file did not load (*error says why).
bool load_config(const Flags& flags, ServerConfig& cfg, std::string* error);

}  // namespace wiring

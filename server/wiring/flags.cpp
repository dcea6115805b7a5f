#include "wiring/flags.hpp"
#include "wiring/log.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <map>

namespace wiring {

const std::string_view kUsage = R"(usage: trunkline [options]

The Trunkline softswitch: SIP over UDP, TCP and TLS, the RFC 3261 transaction layer, the
registrar (users from `trunkctl user`), and carrier registrations (`trunkctl trunk-reg`).
Settings come from the embedded defaults, then --config FILE (TOML, see README.md
"Configuration"), then these flags.

  --config FILE          TOML configuration file
  --db PATH              SQLite database (default var/trunkline.db)
  --udp ADDR:PORT        UDP listen address (default 127.0.0.1:5060; "off" disables)
  --tcp ADDR:PORT        TCP listen address (default 127.0.0.1:5060; "off" disables)
  --tls ADDR:PORT        TLS listen address (default off); needs --tls-cert and --tls-key
                         IPv6: [::1]:5060
  --tls-cert FILE        PEM certificate chain for TLS
  --tls-key FILE         PEM private key for TLS
  --tls-ca FILE          PEM CAs to verify TLS peers with (default: the system store)
  --echo-uas             answer INVITE with 180 + 200, BYE with 200 (a test UAS)
  --auth-realm REALM     registrar digest realm (default trunkline)
  --auth-users FILE      extra "user:password" lines (hashed at load) besides the database
  --dns-server LIST      DNS servers for carrier and vendor host names, tried in order:
                         IP[:PORT] or [IPv6]:PORT, comma-separated (default: those of
                         /etc/resolv.conf; TOML [trunk_registration] dns_servers)
  --auth-algorithms LIST algorithms offered, most preferred first (default MD5; e.g.
                         SHA-256,MD5 for UAs that do RFC 7616)
  --max-message BYTES    largest message accepted (default 65535)
  --max-headers N        most header fields in one message (default 256)
  --udp-threads N        loops reading the UDP port, 1..16 (default 1; TOML [sip]
                         udp_threads; README "Several loops")
  --api ADDR:PORT        management API and /metrics (default 127.0.0.1:8080; "off"
                         disables; TOML [api] listen; HTTPS with [api] tls_cert, tls_key)
  --check-config         load the configuration, print the effective registrar and trunk
                         settings, and exit
  --quiet                no per-message log lines
  --log-level LEVEL      debug|info|warn|error (default info; per-message lines are debug;
                         TOML [log] level)
  --help                 this text
  --version              print the version
)";

namespace {

// Flags whose value is stored as given into one field of the configuration.
const std::map<std::string_view, std::string ServerConfig::*> kStringFlags = {
    {"--udp", &ServerConfig::udp},          {"--tcp", &ServerConfig::tcp},
    {"--tls", &ServerConfig::tls},          {"--tls-cert", &ServerConfig::tls_cert},
    {"--tls-key", &ServerConfig::tls_key},  {"--tls-ca", &ServerConfig::tls_ca},
    {"--auth-realm", &ServerConfig::realm}, {"--auth-users", &ServerConfig::users_file},
};

bool takes_value(std::string_view flag) {
    return kStringFlags.contains(flag) || flag == "--config" || flag == "--db" ||
           flag == "--auth-algorithms" || flag == "--max-message" || flag == "--max-headers" ||
           flag == "--udp-threads" ||
           flag == "--dns-server" || flag == "--api" || flag == "--log-level";
}

bool fail(std::string* error, std::string what) {
    if (error) *error = std::move(what);
    return false;
}

bool parse_count(const std::string& s, std::uint32_t& out) {
    if (s.empty()) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
        if (v > 0xffffffffu) return false;
    }
    out = static_cast<std::uint32_t>(v);
    return true;
}

// "SHA-256,MD5": every name must be known.
bool parse_algorithms(std::string_view list, std::vector<sip::auth::Algorithm>& out,
                      std::string* error) {
    for (std::size_t b = 0; b <= list.size();) {
        std::size_t e = list.find(',', b);
        if (e == std::string_view::npos) e = list.size();
        auto alg = sip::auth::parse_algorithm(list.substr(b, e - b));
        if (!alg)
            return fail(error, fmt::format("--auth-algorithms: unknown algorithm '{}'",
                                           list.substr(b, e - b)));
        out.push_back(*alg);
        b = e + 1;
    }
    return true;
}

bool number_flag(std::string_view flag, const std::string& v, Flags& f, std::string* error) {
    std::uint32_t n = 0;
    if (flag == "--max-message") {
        if (!parse_count(v, n) || n < 256)
            return fail(error, "--max-message needs a number >= 256");
        f.overrides.push_back([n](ServerConfig& c) { c.max_message = n; });
    } else if (flag == "--udp-threads") {
        if (!parse_count(v, n) || n < 1 || n > 16)
            return fail(error, "--udp-threads needs a number in 1..16");
        f.overrides.push_back([n](ServerConfig& c) { c.udp_threads = n; });
    } else {
        if (!parse_count(v, n) || n < 8 || n > 1024)
            return fail(error, "--max-headers needs a number in 8..1024");
        f.overrides.push_back(
            [n](ServerConfig& c) { c.max_headers = static_cast<std::uint16_t>(n); });
    }
    return true;
}

// A flag that takes a value (takes_value(flag)).
bool value_flag(std::string_view flag, const std::string& v, Flags& f, std::string* error) {
    if (auto it = kStringFlags.find(flag); it != kStringFlags.end()) {
        f.overrides.push_back([field = it->second, v](ServerConfig& c) { c.*field = v; });
    } else if (flag == "--config") {
        f.config_file = v;
    } else if (flag == "--db") {
        f.database = v;
    } else if (flag == "--dns-server") {
        std::vector<std::string> servers;
        for (std::size_t b = 0; b <= v.size();) {
            std::size_t e = v.find(',', b);
            if (e == std::string::npos) e = v.size();
            if (e == b) return fail(error, "--dns-server: an empty server in '" + v + "'");
            servers.push_back(v.substr(b, e - b));
            b = e + 1;
        }
        f.overrides.push_back([servers](ServerConfig& c) { c.dns_servers = servers; });
    } else if (flag == "--api") {
        f.overrides.push_back([v](ServerConfig& c) {
            c.api_enabled = v != "off";
            if (!c.api_enabled) return;
            c.api_listen = v;
            c.api_listen_required = true;
        });
    } else if (flag == "--log-level") {
        auto level = parse_log_level(v);
        if (!level) return fail(error, fmt::format("--log-level: '{}' is not debug, info, warn or error", v));
        f.overrides.push_back([l = *level](ServerConfig& c) { c.log.level = l; });
    } else if (flag == "--auth-algorithms") {
        std::vector<sip::auth::Algorithm> algorithms;
        if (!parse_algorithms(v, algorithms, error)) return false;
        f.overrides.push_back([algorithms](ServerConfig& c) { c.algorithms = algorithms; });
    } else {
        return number_flag(flag, v, f, error);
    }
    return true;
}

}  // namespace

bool parse_flags(const std::vector<std::string>& args, Flags& f, std::string* error) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") {
            f.help = true;
            return true;
        }
        if (a == "--version") {
            f.version = true;
            return true;
        }
        if (a == "--echo-uas") {
            f.overrides.push_back([](ServerConfig& c) { c.echo_uas = true; });
        } else if (a == "--check-config") {
            f.check_config = true;
        } else if (a == "--quiet") {
            f.quiet = true;
        } else if (takes_value(a)) {
            if (i + 1 >= args.size()) return fail(error, fmt::format("{} needs a value", a));
            if (!value_flag(a, args[++i], f, error)) return false;
        } else {
            return fail(error, fmt::format("unknown option '{}'", a));
        }
    }
    return true;
}

bool load_config(const Flags& flags, ServerConfig& cfg, std::string* error) {
    if (!flags.config_file.empty() && !load_config_file(flags.config_file, cfg, error))
        return false;
    for (const auto& o : flags.overrides)
        o(cfg);
    if (!flags.database.empty()) cfg.database = flags.database;
    if (flags.quiet) cfg.log_messages = false;
    return true;
}

}  // namespace wiring

// wiring::parse_flags / wiring::load_config: trunkline's command line over the TOML file, the
// usage errors it prints, and --help / --version stopping the parse.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "wiring/flags.hpp"

namespace {

std::string flag_error(std::vector<std::string> args) {
    wiring::Flags f;
    std::string err;
    CHECK_FALSE(wiring::parse_flags(args, f, &err));
    return err;
}

wiring::ServerConfig apply(std::vector<std::string> args) {
    wiring::Flags f;
    std::string err;
    REQUIRE(wiring::parse_flags(args, f, &err));
    wiring::ServerConfig c;
    REQUIRE(wiring::load_config(f, c, &err));
    return c;
}

}  // namespace

TEST_CASE("flags: values land in the configuration", "[server][flags]") {
    auto c = apply({"--udp",       "0.0.0.0:5070",
                    "--tcp",       "off",
                    "--tls",       "[::1]:5061",
                    "--tls-cert",  "c.pem",
                    "--tls-key",   "k.pem",
                    "--tls-ca",    "ca.pem",
                    "--echo-uas",  "--auth-realm",
                    "example",     "--auth-users",
                    "u.txt",       "--auth-algorithms",
                    "MD5,SHA-256", "--max-message",
                    "4096",        "--max-headers",
                    "64",          "--db",
                    "/tmp/x.db",   "--quiet",
                    "--udp-threads", "2"});
    CHECK(c.udp == "0.0.0.0:5070");
    CHECK(c.tcp == "off");
    CHECK(c.tls == "[::1]:5061");
    CHECK(c.tls_cert == "c.pem");
    CHECK(c.tls_key == "k.pem");
    CHECK(c.tls_ca == "ca.pem");
    CHECK(c.echo_uas);
    CHECK(c.realm == "example");
    CHECK(c.users_file == "u.txt");
    CHECK(c.algorithms == std::vector{sip::auth::Algorithm::MD5, sip::auth::Algorithm::SHA256});
    CHECK(c.max_message == 4096);
    CHECK(c.max_headers == 64);
    CHECK(c.udp_threads == 2);
    CHECK(c.database == "/tmp/x.db");
    CHECK_FALSE(c.log_messages);
}

TEST_CASE("flags: nothing given keeps the defaults", "[server][flags]") {
    auto c = apply({});
    wiring::ServerConfig d;
    CHECK(c.udp == d.udp);
    CHECK(c.database == d.database);
    CHECK(c.log_messages);
    wiring::Flags f;
    REQUIRE(wiring::parse_flags({"--check-config"}, f, nullptr));
    CHECK(f.check_config);
}

TEST_CASE("flags: a later flag wins over an earlier one", "[server][flags]") {
    CHECK(apply({"--udp", "127.0.0.1:1", "--udp", "127.0.0.1:2"}).udp == "127.0.0.1:2");
}

TEST_CASE("flags: the usage errors", "[server][flags]") {
    CHECK(flag_error({"--udp"}) == "--udp needs a value");
    CHECK(flag_error({"--bogus"}) == "unknown option '--bogus'");
    CHECK(flag_error({"--auth-algorithms", "MD5,ROT13"}) ==
          "--auth-algorithms: unknown algorithm 'ROT13'");
    CHECK(flag_error({"--max-message", "255"}) == "--max-message needs a number >= 256");
    CHECK(flag_error({"--max-message", "4294967296"}) == "--max-message needs a number >= 256");
    CHECK(flag_error({"--max-headers", "7"}) == "--max-headers needs a number in 8..1024");
    CHECK(flag_error({"--max-headers", "1025"}) == "--max-headers needs a number in 8..1024");
    CHECK(flag_error({"--udp-threads", "0"}) == "--udp-threads needs a number in 1..16");
    CHECK(flag_error({"--udp-threads", "17"}) == "--udp-threads needs a number in 1..16");
    CHECK(flag_error({"--max-headers", "x"}) == "--max-headers needs a number in 8..1024");
}

TEST_CASE("flags: --help and --version stop the parse", "[server][flags]") {
    wiring::Flags f;
    REQUIRE(wiring::parse_flags({"--help", "--bogus"}, f, nullptr));
    CHECK(f.help);
    wiring::Flags g;
    REQUIRE(wiring::parse_flags({"--quiet", "--version", "--udp"}, g, nullptr));
    CHECK(g.version);
    CHECK(g.quiet);
    CHECK(flag_error({"--bogus", "-h"}) == "unknown option '--bogus'");
    CHECK(wiring::kUsage.starts_with("usage: trunkline [options]"));
}

TEST_CASE("flags: the file is read first, the flags override it", "[server][flags]") {
    const auto path = std::filesystem::temp_directory_path() /
                      ("trunkline_flags_test_" + std::to_string(::getpid()) + ".toml");
    {
        std::ofstream out(path);
        out << "[sip]\nudp = \"127.0.0.1:5071\"\ntcp = \"127.0.0.1:5072\"\n"
               "[registrar]\nrealm = \"fromfile\"\n";
    }
    wiring::Flags f;
    REQUIRE(wiring::parse_flags({"--udp", "127.0.0.1:6000", "--config", path.string(), "--quiet"},
                                f, nullptr));
    wiring::ServerConfig c;
    std::string err;
    REQUIRE(wiring::load_config(f, c, &err));
    CHECK(c.realm == "fromfile");
    CHECK(c.tcp == "127.0.0.1:5072");
    CHECK(c.udp == "127.0.0.1:6000");  // the flag, though given before --config
    CHECK_FALSE(c.log_messages);
    std::filesystem::remove(path);

    wiring::Flags missing;
    REQUIRE(wiring::parse_flags({"--config", path.string()}, missing, nullptr));
    CHECK_FALSE(wiring::load_config(missing, c, &err));
    CHECK_FALSE(err.empty());
}

TEST_CASE("flags: --dns-server replaces the file's DNS servers; --help shows it",
          "[server][flags]") {
    // Issue 12 item 5: the resolver address could only be set in the TOML file.
    const auto path = std::filesystem::temp_directory_path() /
                      ("trunkline_flags_dns_" + std::to_string(::getpid()) + ".toml");
    {
        std::ofstream out(path);
        out << "[trunk_registration]\ndns_servers = [\"192.0.2.53\"]\n";
    }
    auto c = apply({"--config", path.string(), "--dns-server", "127.0.0.1:5353,[::1]:53"});
    CHECK(c.dns_servers == std::vector<std::string>{"127.0.0.1:5353", "[::1]:53"});
    CHECK(apply({"--config", path.string()}).dns_servers == std::vector<std::string>{"192.0.2.53"});
    std::filesystem::remove(path);
    CHECK(flag_error({"--dns-server"}) == "--dns-server needs a value");
    CHECK(flag_error({"--dns-server", "127.0.0.1,,10.0.0.1"}) ==
          "--dns-server: an empty server in '127.0.0.1,,10.0.0.1'");
    CHECK(wiring::kUsage.find("--dns-server LIST") != std::string_view::npos);
}

// trunkline — the softswitch binary: wires the libraries together on one libuv loop.
// At this stage it answers OPTIONS statelessly and rejects malformed requests with 400.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "sip/uv/server.hpp"
#include "sw/stateless.hpp"

namespace {

constexpr std::string_view kUsage = R"(usage: trunkline [options]

Listens for SIP on UDP and TCP, answers OPTIONS with 200 and malformed requests with 400.

  --udp ADDR:PORT        UDP listen address (default 127.0.0.1:5060; "off" disables)
  --tcp ADDR:PORT        TCP listen address (default 127.0.0.1:5060; "off" disables)
                         IPv6: [::1]:5060
  --max-message BYTES    largest message accepted (default 65535)
  --max-headers N        most header fields in one message (default 256)
  --quiet                no per-message log lines
  --help                 this text
  --version              print the version
)";

void log_line(std::string_view line) {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    fmt::print(stderr, "{:%Y-%m-%dT%H:%M:%S}.{:03d}Z {}\n",
               std::chrono::floor<std::chrono::seconds>(now), ms.count(), line);
}

bool parse_count(const char* s, std::uint32_t& out) {
    if (!s || !*s) return false;
    std::uint64_t v = 0;
    for (const char* p = s; *p; ++p) {
        if (*p < '0' || *p > '9') return false;
        v = v * 10 + static_cast<unsigned>(*p - '0');
        if (v > 0xffffffffu) return false;
    }
    out = static_cast<std::uint32_t>(v);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    sip::uv::ServerConfig cfg;
    sw::StatelessConfig scfg;
    bool quiet = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&](std::string_view flag) -> const char* {
            if (i + 1 >= argc) {
                fmt::print(stderr, "trunkline: {} needs a value\n", flag);
                std::exit(2);
            }
            return argv[++i];
        };
        std::uint32_t n = 0;
        if (a == "--help" || a == "-h") {
            fmt::print("{}", kUsage);
            return 0;
        } else if (a == "--version") {
            fmt::print("trunkline {}\n", TRUNKLINE_VERSION);
            return 0;
        } else if (a == "--udp") {
            std::string v = value(a);
            cfg.udp = v == "off" ? "" : v;
        } else if (a == "--tcp") {
            std::string v = value(a);
            cfg.tcp = v == "off" ? "" : v;
        } else if (a == "--max-message") {
            if (!parse_count(value(a), n) || n < 256) {
                fmt::print(stderr, "trunkline: --max-message needs a number >= 256\n");
                return 2;
            }
            cfg.limits.max_message = n;
        } else if (a == "--max-headers") {
            if (!parse_count(value(a), n) || n < 8 || n > 1024) {
                fmt::print(stderr, "trunkline: --max-headers needs a number in 8..1024\n");
                return 2;
            }
            cfg.limits.max_headers = static_cast<std::uint16_t>(n);
        } else if (a == "--quiet") {
            quiet = true;
        } else {
            fmt::print(stderr, "trunkline: unknown option '{}' (see --help)\n", a);
            return 2;
        }
    }
    scfg.limits = cfg.limits;

    sip::uv::Server server(
        cfg,
        [&](sip::uv::Server& srv, const sip::uv::Inbound& in) {
            sw::Inbound req{.bytes = in.bytes,
                            .transport = sip::uv::transport_name(in.transport),
                            .peer_ip = in.peer_ip,
                            .peer_port = in.peer_port,
                            .framing = in.transport == sip::uv::Transport::Udp
                                           ? sip::Framing::Datagram
                                           : sip::Framing::Stream};
            sw::Outcome out = sw::answer_stateless(req, scfg);
            if (out.reply) srv.reply(in, std::move(out.reply->bytes), out.reply->port);
            if (!quiet) log_line(out.log_line);
        },
        [](std::string_view line) { log_line(line); });
    if (std::string err = server.start(); !err.empty()) {
        fmt::print(stderr, "trunkline: {}\n", err);
        return 1;
    }
    log_line(fmt::format("trunkline {} listening: udp {} tcp {}", TRUNKLINE_VERSION,
                         cfg.udp.empty() ? "off" : cfg.udp, cfg.tcp.empty() ? "off" : cfg.tcp));
    server.run();
    log_line(fmt::format("trunkline stopping after {} messages", server.messages_in()));
    return 0;
}

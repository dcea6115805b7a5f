// trunkline — the softswitch binary: wires the libraries together on one libuv loop.
// At this stage it runs the transaction layer: OPTIONS and other requests are answered
// through server transactions, malformed requests get 400, and --echo-uas answers whole calls.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "sip/uv/loop.hpp"
#include "sip/uv/transports.hpp"
#include "sw/element.hpp"
#include "wiring/digest_auth.hpp"

namespace {

constexpr std::string_view kUsage = R"(usage: trunkline [options]

Listens for SIP on UDP, TCP and TLS and runs the RFC 3261 transaction layer.

  --udp ADDR:PORT        UDP listen address (default 127.0.0.1:5060; "off" disables)
  --tcp ADDR:PORT        TCP listen address (default 127.0.0.1:5060; "off" disables)
  --tls ADDR:PORT        TLS listen address (default off); needs --tls-cert and --tls-key
                         IPv6: [::1]:5060
  --tls-cert FILE        PEM certificate chain for TLS
  --tls-key FILE         PEM private key for TLS
  --tls-ca FILE          PEM CAs to verify TLS peers with (default: the system store)
  --echo-uas             answer INVITE with 180 + 200, BYE with 200 (a test UAS)
  --auth-realm REALM     challenge REGISTER with digest auth in this realm
  --auth-users FILE      "user:password" lines for --auth-realm (stored as HA1 in memory)
  --auth-algorithms LIST algorithms offered, most preferred first (default SHA-256,MD5)
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

[[noreturn]] void usage_error(const std::string& msg) {
    fmt::print(stderr, "trunkline: {} (see --help)\n", msg);
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    std::string udp = "127.0.0.1:5060", tcp = "127.0.0.1:5060", tls;
    sip::uv::TransportsConfig tcfg;
    sw::ElementConfig ecfg;
    std::string realm, users_file;
    std::vector<sip::auth::Algorithm> algorithms;
    bool quiet = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(fmt::format("{} needs a value", a));
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
            udp = value();
        } else if (a == "--tcp") {
            tcp = value();
        } else if (a == "--tls") {
            tls = value();
        } else if (a == "--tls-cert") {
            tcfg.tls.cert_file = value();
        } else if (a == "--tls-key") {
            tcfg.tls.key_file = value();
        } else if (a == "--tls-ca") {
            tcfg.tls.ca_file = value();
        } else if (a == "--echo-uas") {
            ecfg.echo_uas = true;
        } else if (a == "--auth-realm") {
            realm = value();
        } else if (a == "--auth-users") {
            users_file = value();
        } else if (a == "--auth-algorithms") {
            std::string list = value();
            for (std::size_t b = 0; b <= list.size();) {
                std::size_t e = list.find(',', b);
                if (e == std::string::npos) e = list.size();
                auto alg = sip::auth::parse_algorithm(std::string_view(list).substr(b, e - b));
                if (!alg) usage_error(fmt::format("--auth-algorithms: unknown algorithm '{}'",
                                                  list.substr(b, e - b)));
                algorithms.push_back(*alg);
                b = e + 1;
            }
        } else if (a == "--max-message") {
            if (!parse_count(value().c_str(), n) || n < 256)
                usage_error("--max-message needs a number >= 256");
            ecfg.limits.max_message = n;
        } else if (a == "--max-headers") {
            if (!parse_count(value().c_str(), n) || n < 8 || n > 1024)
                usage_error("--max-headers needs a number in 8..1024");
            ecfg.limits.max_headers = static_cast<std::uint16_t>(n);
        } else if (a == "--quiet") {
            quiet = true;
        } else {
            usage_error(fmt::format("unknown option '{}'", a));
        }
    }
    if (udp != "off") tcfg.listen.push_back({sip::Transport::Udp, udp});
    if (tcp != "off") tcfg.listen.push_back({sip::Transport::Tcp, tcp});
    if (!tls.empty() && tls != "off") {
        if (tcfg.tls.cert_file.empty() || tcfg.tls.key_file.empty())
            usage_error("--tls needs --tls-cert and --tls-key");
        tcfg.listen.push_back({sip::Transport::Tls, tls});
    }
    if (tcfg.listen.empty()) usage_error("no listener left (--udp, --tcp and --tls are all off)");
    if (realm.empty() != users_file.empty())
        usage_error("--auth-realm and --auth-users go together");
    tcfg.limits.parse = ecfg.limits;
    ecfg.log_messages = !quiet;
    {
        std::string host;
        std::uint16_t port = 0;
        if (sip::uv::split_host_port(tcfg.listen.front().address, host, port)) {
            ecfg.contact_host = host;
            ecfg.contact_port = port;
        }
    }

    // Tags, branches and nonces: seeded once from the OS (the pure core only sees Random&).
    std::random_device rd;
    sip::SeededRandom rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd());

    std::unique_ptr<wiring::DigestAuth> auth;
    if (!realm.empty()) {
        std::string err;
        auth = wiring::DigestAuth::from_file(realm, users_file, rng, &err, algorithms);
        if (!auth) {
            fmt::print(stderr, "trunkline: {}\n", err);
            return 1;
        }
        ecfg.auth = auth.get();
    }

    sip::uv::Loop loop;
    sw::Element element(ecfg, rng);
    std::unique_ptr<sip::uv::Transports> transports;
    std::function<void()> on_timer;
    sip::uv::Timer timer(loop, [&] { on_timer(); });
    bool stopping = false;

    // After every input: send what the element produced, log, re-arm the one timer.
    auto flush = [&] {
        while (auto s = element.poll_send()) transports->send(s->to, s->bytes, s->txn);
        while (auto l = element.poll_log())
            if (!quiet) log_line(*l);
        if (auto d = element.next_deadline()) timer.arm(*d);
        else timer.cancel();
    };
    on_timer = [&] {
        element.handle_timeouts(loop.now());
        flush();
    };

    transports = std::make_unique<sip::uv::Transports>(
        loop, tcfg,
        sip::uv::TransportHandlers{
            .on_message =
                [&](const sip::Target& src, std::string_view bytes) {
                    if (stopping) return;
                    element.on_bytes(bytes, src, loop.now());
                    flush();
                },
            .on_send_failed =
                [&](std::uint64_t txn, const sip::Target& to, std::string_view why) {
                    log_line(fmt::format("send to {}:{} failed: {}", to.host, to.port, why));
                    element.on_transport_error(txn, loop.now());
                    flush();
                },
            .on_event = [](std::string_view line) { log_line(line); },
        });
    if (std::string err = transports->start(); !err.empty()) {
        fmt::print(stderr, "trunkline: {}\n", err);
        return 1;
    }
    std::string listening;
    for (const auto& l : tcfg.listen)
        listening += fmt::format(" {} {}", sip::transport_name(l.transport), l.address);
    log_line(fmt::format("trunkline {} listening:{}{}", TRUNKLINE_VERSION, listening,
                         ecfg.echo_uas ? " (echo UAS)" : ""));

    sip::uv::Signals signals(loop, [&](int signum) {
        if (stopping) return;
        stopping = true;
        log_line(fmt::format("signal {}: stopping", signum));
        timer.cancel();
        transports->shutdown([&] { loop.stop(); });
    });
    loop.run();
    const auto& st = element.stats();
    log_line(fmt::format("trunkline stopping after {} requests, {} responses ({} malformed answered, "
                         "{} dropped)",
                         st.requests, st.responses, st.malformed_answered, st.malformed_dropped));
    return 0;
}

// wiring::ServerConfig — trunkline's configuration: embedded defaults, then a TOML file
// (--config), then command-line flags. Every key, its default and its VOS3000 name are in
// README.md ("Configuration"); docs/trunkline.example.toml is a complete, commented file.
//
//   wiring::ServerConfig cfg;                                    // the defaults
//   std::string err;
//   if (!wiring::load_config_file("trunkline.toml", cfg, &err)) die(err);
//   // err: "trunkline.toml:12:19: registrar.register_retry: -1 is outside 0..1000"
//
// Unknown keys and tables are errors (a typo must not silently keep a default).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "route/reg/client.hpp"
#include "route/reg/keepalive.hpp"
#include "route/reg/location.hpp"
#include "route/reg/registrar.hpp"
#include "route/lcr/customers.hpp"
#include "route/lcr/router.hpp"
#include "sip/auth/hasher.hpp"
#include "sip/stream_guard.hpp"
#include "sw/api.hpp"
#include "sw/calls.hpp"
#include "sw/alerts.hpp"
#include "wiring/hep.hpp"
#include "wiring/log.hpp"

namespace wiring {

using namespace std::chrono_literals;

struct ServerConfig {
    // [sip]
    std::string udp = "127.0.0.1:5060";  // "off" disables
    std::string tcp = "127.0.0.1:5060";
    std::string tls = "off";
    std::string tls_cert, tls_key, tls_ca;
    std::uint32_t max_message = 65535;
    std::uint16_t max_headers = 256;
    // Loops reading the UDP port (DESIGN.md §8 "Several loops"): the first runs the switch;
    // each further one is a thread that parses, answers OPTIONS and hands the rest over.
    std::uint32_t udp_threads = 1;
    // Live transactions before new requests get 503. UDP non-INVITE server transactions stay
    // 64*T1 = 32 s after their answer (RFC 3261 Timer J): 16,000 REGISTER/s with a 401 round
    // is ~1,000,000 of them, ~1 KB each.
    std::size_t max_transactions = 1'000'000;
    std::string server_header = "Trunkline";  // Server / User-Agent
    bool echo_uas = false;
    // stream (TCP/TLS) connections; README "Security" (Kamailio tcp_max_connections,
    // tcp_accept_iplimit, tcp_connection_lifetime, tcp_msg_read_timeout)
    std::uint32_t max_connections = 4096;
    std::uint32_t max_connections_per_source = 64;  // a source: IPv4 address or IPv6 /64
    std::uint32_t new_connections_per_second = 20;  // per source
    std::vector<sip::SourceLimit> source_limits;    // known gateways; 0 = unlimited
    std::chrono::seconds idle_timeout = 300s;
    std::chrono::seconds message_timeout = 32s;  // first byte of a message to its last
    // [database]
    std::string database = "var/trunkline.db";
    std::chrono::milliseconds binding_flush = 200ms;  // write-behind period of bindings
    std::chrono::milliseconds reload_poll = 1000ms;   // how often trunkctl changes are noticed
    // [log]
    bool log_messages = true;  // produce per-message lines (written at level debug)
    LogSettings log;           // [log] format, level
    std::uint32_t log_lines_per_second = 100;  // per kind (message, registration, call, probe)
    // [registrar]
    bool registrar_enabled = true;
    std::string realm = "trunkline";
    // MD5 alone by default: SIPp, baresip and most deployed phones and gateways answer only
    // MD5, and some fail outright when a SHA-256 challenge is offered (README, "Digest
    // algorithms"). SHA-256 (RFC 7616/8760) is one `algorithms` entry away.
    std::vector<sip::auth::Algorithm> algorithms{sip::auth::Algorithm::MD5};
    std::string users_file;  // extra "user:password" file (tests); users normally in SQLite
    route::reg::RegistrarConfig registrar;
    route::reg::LocationConfig location;
    // [registrar.nat_keepalive]
    bool keepalive_enabled = true;
    route::reg::KeepaliveConfig keepalive = [] {
        route::reg::KeepaliveConfig k;
        k.payload = route::reg::KeepalivePayload::options;  // answers tell us who is down
        return k;
    }();
    // [trunk_registration] defaults for entries that leave them unset
    bool send_unregister = true;                  // SS_SIP_USER_AGENT_SEND_UNREGISTER
    std::chrono::seconds unregister_wait = 5s;    // how long shutdown waits for the answers
    std::optional<std::chrono::seconds> expires;  // nullopt: auto (SS_SIP_USER_AGENT_EXPIRE)
    std::chrono::seconds retry_delay = 60s;       // SS_SIP_USER_AGENT_RETRY_DELAY
    route::reg::Privacy privacy = route::reg::Privacy::ignore;  // SS_SIP_USER_AGENT_PRIVACY
    std::string contact_host;              // empty: the host of the first listen address
    std::vector<std::string> dns_servers;  // for carrier FQDNs; empty: /etc/resolv.conf
    // [shutdown] SIGTERM's drain (README "Running as a service")
    std::chrono::seconds drain_calls = 30s;  // how long running calls may go on
    std::chrono::seconds retry_after = 60s;  // Retry-After of the 503 new INVITEs get meanwhile
    // [calls], [calls.failover]: timers and failover of the B2BUA (VOS3000 names in README)
    sw::CallsConfig calls;
    // [routing], [routing.health], [routing.blacklist]
    route::lcr::RouterConfig router;
    route::lcr::CustomersConfig customers;
    std::chrono::seconds probe_period{30};  // SS_SIP_OPTIONS_CHECK_PERIOD
    // [api] the management API and /metrics (DESIGN.md §8 "Management API")
    bool api_enabled = true;
    std::string api_listen = "127.0.0.1:8080";  // ADDRESS:PORT, "[::1]:8080"
    // listen was given (file or --api): a failure to listen stops trunkline. The default
    // address taken by another process is logged and the API stays off (several trunklines
    // on one host, as the tests run them, must not fight over 8080).
    bool api_listen_required = false;
    // HTTPS for the API and /metrics: both PEM files or neither (plain HTTP). Checked when the
    // file is read (readable, PEM, the key opens and is the certificate's: wiring::read_api_tls)
    // and read again when the API starts.
    std::string api_tls_cert, api_tls_key, api_tls_key_password;
    sw::api::ApiConfig api;  // failed-login limit, metrics_token_on_loopback
    // [capture] every SIP message to a HEPv3 collector (README "SIP capture (HEP)")
    HepConfig hep;
    // [alerts] (sw::Alerts; README "Alerts"): thresholds, and where events are POSTed
    sw::AlertsConfig alerts;
    std::string alert_webhook;  // http(s) URL; "" = none
};

// Reads `path` over `cfg` (keys absent from the file keep their value).
bool load_config_file(const std::string& path, ServerConfig& cfg, std::string* error);
// The same from text (tests); `name` is used in messages.
bool load_config_text(std::string_view text, const std::string& name, ServerConfig& cfg,
                      std::string* error);

}  // namespace wiring

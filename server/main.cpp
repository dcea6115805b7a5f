// trunkline — the softswitch binary: configuration, the adapters around the pure core
// (sw::Switch) and the libuv loop (DESIGN.md §8). The decisions live in the core; each
// adapter is one piece of server/wiring/:
//   flags, config, switch_setup    what the command line and the TOML file mean
//   users, reloader, control       operators' changes through the SQLite file (trunkctl)
//   dns, carriers, trunk_specs     carrier registrations and vendor gateways given by name
//   driver                         SIP transports in, the switch's outputs out, its deadline
//   reg_store, cdr_writer          registration state and CDRs into the SQLite file
//   calls_publisher                the call list for `trunkctl call list`
//   api_server, http_server        the management API and /metrics (libmicrohttpd, same loop)
//   shutdown                       SIGTERM/SIGINT: unregister, write what is pending, exit
//   sd_notify                      readiness and stopping reported to systemd (Type=notify)
//   settings_reload                SIGHUP: the live settings re-read, the others logged
#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "route/lcr/sqlite/store.hpp"
#include "route/reg/sqlite/store.hpp"
#include "sip/crypto/evp_hasher.hpp"
#include "sip/random.hpp"
#include "sip/uv/loop.hpp"
#include "sip/uv/transports.hpp"
#include "sw/switch.hpp"
#include "wiring/api_live.hpp"
#include "wiring/api_server.hpp"
#include "wiring/calls_publisher.hpp"
#include "wiring/carriers.hpp"
#include "wiring/cdr_writer.hpp"
#include "wiring/check_config.hpp"
#include "wiring/config.hpp"
#include "wiring/digest_auth.hpp"
#include "wiring/dns.hpp"
#include "wiring/driver.hpp"
#include "wiring/flags.hpp"
#include "wiring/log.hpp"
#include "wiring/reg_store.hpp"
#include "wiring/alert_notifier.hpp"
#include "wiring/reloader.hpp"
#include "wiring/sd_notify.hpp"
#include "wiring/settings_reload.hpp"
#include "wiring/shutdown.hpp"
#include "wiring/switch_setup.hpp"
#include "wiring/users.hpp"
#include "wiring/wall_clock.hpp"

namespace {

int usage_error(const std::string& msg) {
    fmt::print(stderr, "trunkline: {} (see --help)\n", msg);
    return 2;
}

int fail(const std::string& msg, int code = 1) {
    fmt::print(stderr, "trunkline: {}\n", msg);
    return code;
}

void log_started(const wiring::ServerConfig& cfg, const wiring::Listening& ls, std::size_t users) {
    std::string listening;
    for (const auto& l : ls.transports.listen) {
        listening += fmt::format(" {} {}", sip::transport_name(l.transport), l.address);
        if (l.transport == sip::Transport::Udp && cfg.udp_threads > 1)
            listening += fmt::format(" ({} loops)", cfg.udp_threads);
    }
    wiring::log_line(fmt::format("trunkline {} listening:{}{}; database {}; realm {} ({} users)",
                                 TRUNKLINE_VERSION, listening, cfg.echo_uas ? " (echo UAS)" : "",
                                 cfg.database, cfg.realm, users));
}

void log_stopped(const sw::ElementStats& st) {
    wiring::log_line(fmt::format(
        "trunkline stopping after {} requests, {} responses ({} malformed answered, "
        "{} dropped), {} registrations",
        st.requests, st.responses, st.malformed_answered, st.malformed_dropped, st.registers));
}

// The stream connections' account (README "Security"): what the limits refused or closed.
void log_streams(const sip::uv::TransportCounters& t) {
    wiring::log_line(fmt::format(
        "streams: {} accepted, {} opened; refused {} (per source {}, rate {}, max_connections "
        "{}); evicted {}; closed {} idle, {} at the message deadline; {} TLS handshakes failed",
        t.connections_accepted, t.connections_opened,
        t.refused_per_source + t.refused_rate + t.connections_refused, t.refused_per_source,
        t.refused_rate, t.connections_refused, t.evicted, t.idle_closed, t.message_timeouts,
        t.handshake_failures));
}

std::unique_ptr<route::reg::sqlite::Store> open_store(const std::string& database,
                                                      std::string* err) {
    std::error_code ec;
    if (auto dir = std::filesystem::path(database).parent_path(); !dir.empty())
        std::filesystem::create_directories(dir, ec);
    return route::reg::sqlite::Store::open(database, err);
}

// What lives as long as the process: settings, the registration store, identity.
struct Base {
    const wiring::Flags& flags;  // read again on SIGHUP
    const wiring::ServerConfig& cfg;
    const wiring::Listening& ls;
    bool check_config;
    route::reg::sqlite::Store& store;
    sip::Random& rng;
    const sip::auth::Hasher& hasher;
    wiring::DigestAuth& auth;
    wiring::Users& users;
};

// The switch and what keeps its data: made before the adapters, destroyed after them (the
// CDR writer drains its queue once the loop has stopped and the adapters are gone).
struct Core {
    sip::uv::Loop& loop;
    sw::Switch& sw;
    wiring::Reloader& reloader;
    wiring::CdrWriter& cdrs;
    wiring::RegStore& reg_store;
};

// The adapters on the loop, then the loop until a signal has stopped everything.
int serve(const Base& b, const Core& c) {
    const wiring::ServerConfig& cfg = b.cfg;
    sip::uv::Loop& loop = c.loop;
    wiring::Shutdown shutdown(loop, {cfg.unregister_wait, cfg.drain_calls});
    wiring::ServerConfig live = cfg;  // SIGHUP changes its live settings
    std::function<void()> refresh;
    // the resolver's observer must not feed the cache from inside its callback: defer
    sip::uv::Timer refresh_timer(loop, [&] { refresh(); });
    wiring::Dns dns(loop, b.rng, cfg.dns_servers, [&] {
        if (!shutdown.stopping()) refresh_timer.arm(loop.now());
    });
    wiring::Carriers carriers(b.store, dns, c.sw, wiring::trunk_defaults(cfg, b.ls));
    if (b.check_config) {
        wiring::print_check_config(cfg, b.auth.user_count(), carriers);
        return 0;
    }
    wiring::Driver driver(loop, c.sw, shutdown, {c.cdrs, c.reg_store, cfg.log_messages, cfg.hep});
    wiring::CallsPublisher publisher(c.sw, c.cdrs, loop);
    wiring::ApiLive api_live(dns, carriers);  // the API's view of the domain cache, carriers
    api_live.load_domains(cfg.database);      // operators' domain entries, resolved at start
    wiring::ApiServer api({loop, c.sw, b.hasher, c.cdrs, driver,
                           [&] { c.reloader.poll(loop.now(), c.cdrs, refresh); }, &dns, &api_live},
                          cfg);
    refresh = [&] {
        if (shutdown.stopping()) return;
        carriers.refresh(c.reloader.fqdn_vendors(), loop.now());
        driver.flush();
    };
    wiring::AlertNotifier alerts(cfg.alert_webhook);
    sip::uv::Timer poll_timer(loop, [&] {
        c.reloader.poll(loop.now(), c.cdrs, refresh);
        api_live.sync_domains();  // `trunkctl domain add|remove` reach the running cache
        c.sw.tick_alerts(loop.now(), wiring::wall_ms());
        alerts.drain(c.sw.alerts());
        publisher.publish();
        driver.flush();
        poll_timer.arm(loop.now() + cfg.reload_poll);
    });
    shutdown.set_steps({
        .begin =
            [&] {
                wiring::sd_notify("STOPPING=1\nSTATUS=stopping: unregistering, draining calls");
                c.sw.calls().drain(live.retry_after);
                wiring::log_line(fmt::format(
                    "shutdown: new calls refused (503, Retry-After {}); {} calls may run {} s",
                    live.retry_after.count(), c.sw.calls().active(), live.drain_calls.count()));
                c.sw.registrations().stop_all(loop.now());
            },
        .hang_up =
            [&] {
                const auto left = c.sw.calls().list();
                wiring::log_line(fmt::format(
                    "shutdown: {} calls still up after the drain bound: hanging up", left.size()));
                for (const auto& call : left) c.sw.calls().hangup(call.id, loop.now());
            },
        .drain = [&] { driver.flush(); },
        .teardown =
            [&] {
                refresh_timer.cancel();
                poll_timer.cancel();
                // refreshes coalesced on the way (sw::BindingWrites) get their exact expiry
                c.sw.registrations().persist_coalesced(loop.now());
                while (auto op = c.sw.poll_store()) c.reg_store.apply(*op);
                c.reg_store.stop();  // pending bindings and suspensions written
                publisher.clear();   // no call of ours is running any more
                api.close();
                dns.close();
                driver.close([&] { loop.stop(); });
            },
    });
    const wiring::Driver::UdpReaders readers{.count = cfg.udp_threads - 1,
                                             .front = wiring::front_config(cfg),
                                             .log_messages = cfg.log_messages};
    if (std::string e = driver.start(b.ls.transports, readers); !e.empty()) return fail(e);
    if (std::string e = api.start(); !e.empty()) return fail(e);
    log_started(cfg, b.ls, b.auth.user_count());
    if (!wiring::sd_notify("READY=1\nSTATUS=listening"))
        wiring::log_line("sd_notify: READY=1 could not be sent to $NOTIFY_SOCKET");
    c.reloader.poll(loop.now(), c.cdrs, refresh);  // the first poll refreshes the carriers
    poll_timer.arm(loop.now() + cfg.reload_poll);
    shutdown.listen([&] {
        wiring::reload_settings(b.flags, live, {c.sw, shutdown});
        driver.flush();
    });
    loop.run();
    log_stopped(c.sw.element().stats());
    log_streams(driver.transport_counters());
    return 0;
}

// The loop, the switch, its tables from the database, the CDR writer, the bindings.
int run_switch(const Base& b) {
    const wiring::ServerConfig& cfg = b.cfg;
    std::string err;
    sip::uv::Loop loop;
    sw::Switch sw(wiring::switch_config(cfg, b.ls, {wiring::wall_ms(), loop.now()}),
                  wiring::registrations_config(cfg, b.ls), &b.auth, b.hasher, b.rng);
    // carrier registrations run whether or not the registrar answers REGISTER
    if (!cfg.registrar_enabled) sw.element().set_registrar(nullptr);
    auto lcr_store = route::lcr::sqlite::Store::open(cfg.database, &err);
    if (!lcr_store) return fail(err);
    wiring::Reloader reloader({b.store, *lcr_store, cfg.database, b.users, sw});
    reloader.load_users();
    reloader.load_book();
    reloader.load_routing(loop.now());
    wiring::CdrWriter cdrs({.database = cfg.database},
                           [](const std::string& l) { wiring::log_line(l); });
    if (!b.check_config && !cdrs.start(&err)) return fail(err);
    wiring::RegStore reg_store(b.store, cfg.database, loop, cfg.binding_flush);
    if (!b.check_config && !reg_store.start(&err)) return fail(err);
    reg_store.restore(sw.registrations());
    return serve(b, {loop, sw, reloader, cdrs, reg_store});
}

// The database and who may register.
int run(const wiring::Flags& flags, const wiring::ServerConfig& cfg, const wiring::Listening& ls) {
    const bool check_config = flags.check_config;
    std::string err;
    auto store = open_store(cfg.database, &err);
    if (!store) return fail(err);
    // Tags, branches and nonces: seeded once from the OS (the pure core only sees Random&).
    std::random_device rd;
    sip::SeededRandom rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
    sip::crypto::EvpHasher hasher;
    wiring::DigestAuth auth(cfg.realm, rng, cfg.algorithms);
    auto users = wiring::Users::open(*store, auth, cfg.users_file, &err);
    if (!users) return fail(err);  // loaded by the Reloader (run_switch)
    return run_switch({flags, cfg, ls, check_config, *store, rng, hasher, auth, *users});
}

}  // namespace

int main(int argc, char** argv) {
    std::string err;
    wiring::Flags flags;
    if (!wiring::parse_flags(std::vector<std::string>(argv + 1, argv + argc), flags, &err))
        return usage_error(err);
    if (flags.help) {
        fmt::print("{}", wiring::kUsage);
        return 0;
    }
    if (flags.version) {
        fmt::print("trunkline {}\n", TRUNKLINE_VERSION);
        return 0;
    }
    wiring::ServerConfig cfg;
    if (!wiring::load_config(flags, cfg, &err)) return fail(err, 2);
    wiring::set_log_settings(cfg.log);
    auto ls = wiring::listening(cfg, &err);
    if (!ls) return usage_error(err);
    return run(flags, cfg, *ls);
}

// trunkline — the softswitch binary: wires the libraries together on one libuv loop.
// It runs the transaction layer (OPTIONS, 400 for malformed requests, --echo-uas calls), the
// registrar with its location store and NAT keep-alive, and the carrier registrations; state
// lives in the SQLite file (users, bindings, trunk-reg entries, suspensions) that trunkctl
// edits while trunkline runs.
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "route/domain/ares/resolver.hpp"
#include "route/domain/cache.hpp"
#include "route/reg/sqlite/store.hpp"
#include "sip/uv/loop.hpp"
#include "sip/uv/transports.hpp"
#include "sw/switch.hpp"
#include "wiring/cdr_writer.hpp"
#include "wiring/config.hpp"
#include "wiring/routing.hpp"
#include "wiring/digest_auth.hpp"

namespace {

using namespace std::chrono_literals;

constexpr std::string_view kUsage = R"(usage: trunkline [options]

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
  --auth-algorithms LIST algorithms offered, most preferred first (default SHA-256,MD5)
  --max-message BYTES    largest message accepted (default 65535)
  --max-headers N        most header fields in one message (default 256)
  --check-config         load the configuration, print the effective registrar and trunk
                         settings, and exit
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

[[noreturn]] void usage_error(const std::string& msg) {
    fmt::print(stderr, "trunkline: {} (see --help)\n", msg);
    std::exit(2);
}

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Instants are the loop's monotonic time; the database keeps wall-clock milliseconds.
struct Clock {
    sip::uv::Loop& loop;
    std::int64_t to_wall(sip::Instant t) const {
        return wall_ms() +
               std::chrono::duration_cast<std::chrono::milliseconds>(t - loop.now()).count();
    }
};

bool is_ip_literal(std::string_view host) {
    return route::domain::IpAddress::parse(host).has_value();
}

}  // namespace

int main(int argc, char** argv) {
    // Flags are applied after the configuration file, so collect them first.
    std::string config_file, db_override;
    std::vector<std::function<void(wiring::ServerConfig&)>> overrides;
    bool quiet = false, check_config = false;
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
        } else if (a == "--config") {
            config_file = value();
        } else if (a == "--db") {
            db_override = value();
        } else if (a == "--udp") {
            overrides.push_back([v = value()](auto& c) { c.udp = v; });
        } else if (a == "--tcp") {
            overrides.push_back([v = value()](auto& c) { c.tcp = v; });
        } else if (a == "--tls") {
            overrides.push_back([v = value()](auto& c) { c.tls = v; });
        } else if (a == "--tls-cert") {
            overrides.push_back([v = value()](auto& c) { c.tls_cert = v; });
        } else if (a == "--tls-key") {
            overrides.push_back([v = value()](auto& c) { c.tls_key = v; });
        } else if (a == "--tls-ca") {
            overrides.push_back([v = value()](auto& c) { c.tls_ca = v; });
        } else if (a == "--echo-uas") {
            overrides.push_back([](auto& c) { c.echo_uas = true; });
        } else if (a == "--auth-realm") {
            overrides.push_back([v = value()](auto& c) { c.realm = v; });
        } else if (a == "--auth-users") {
            overrides.push_back([v = value()](auto& c) { c.users_file = v; });
        } else if (a == "--auth-algorithms") {
            std::string list = value();
            std::vector<sip::auth::Algorithm> algorithms;
            for (std::size_t b = 0; b <= list.size();) {
                std::size_t e = list.find(',', b);
                if (e == std::string::npos) e = list.size();
                auto alg = sip::auth::parse_algorithm(std::string_view(list).substr(b, e - b));
                if (!alg)
                    usage_error(fmt::format("--auth-algorithms: unknown algorithm '{}'",
                                            list.substr(b, e - b)));
                algorithms.push_back(*alg);
                b = e + 1;
            }
            overrides.push_back([algorithms](auto& c) { c.algorithms = algorithms; });
        } else if (a == "--max-message") {
            if (!parse_count(value(), n) || n < 256)
                usage_error("--max-message needs a number >= 256");
            overrides.push_back([n](auto& c) { c.max_message = n; });
        } else if (a == "--max-headers") {
            if (!parse_count(value(), n) || n < 8 || n > 1024)
                usage_error("--max-headers needs a number in 8..1024");
            overrides.push_back([n](auto& c) { c.max_headers = static_cast<std::uint16_t>(n); });
        } else if (a == "--check-config") {
            check_config = true;
        } else if (a == "--quiet") {
            quiet = true;
        } else {
            usage_error(fmt::format("unknown option '{}'", a));
        }
    }
    wiring::ServerConfig cfg;
    if (!config_file.empty()) {
        std::string err;
        if (!wiring::load_config_file(config_file, cfg, &err)) {
            fmt::print(stderr, "trunkline: {}\n", err);
            return 2;
        }
    }
    for (auto& o : overrides)
        o(cfg);
    if (!db_override.empty()) cfg.database = db_override;
    if (quiet) cfg.log_messages = false;

    sip::uv::TransportsConfig tcfg;
    sw::ElementConfig ecfg;
    tcfg.tls.cert_file = cfg.tls_cert;
    tcfg.tls.key_file = cfg.tls_key;
    tcfg.tls.ca_file = cfg.tls_ca;
    if (cfg.udp != "off") tcfg.listen.push_back({sip::Transport::Udp, cfg.udp});
    if (cfg.tcp != "off") tcfg.listen.push_back({sip::Transport::Tcp, cfg.tcp});
    if (!cfg.tls.empty() && cfg.tls != "off") {
        if (cfg.tls_cert.empty() || cfg.tls_key.empty())
            usage_error("--tls needs --tls-cert and --tls-key");
        tcfg.listen.push_back({sip::Transport::Tls, cfg.tls});
    }
    if (tcfg.listen.empty()) usage_error("no listener left (--udp, --tcp and --tls are all off)");
    ecfg.echo_uas = cfg.echo_uas;
    ecfg.server_header = cfg.server_header;
    ecfg.limits.max_message = cfg.max_message;
    ecfg.limits.max_headers = cfg.max_headers;
    ecfg.txn.max_transactions = cfg.max_transactions;
    tcfg.limits.parse = ecfg.limits;
    ecfg.log_messages = cfg.log_messages;
    // our address per transport, for Contact / Via of the requests we originate
    std::map<sip::Transport, std::pair<std::string, std::uint16_t>> local;
    for (const auto& l : tcfg.listen) {
        std::string host;
        std::uint16_t port = 0;
        if (!sip::uv::split_host_port(l.address, host, port))
            usage_error(fmt::format("bad listen address '{}'", l.address));
        local.emplace(l.transport, std::make_pair(host, port));
    }
    ecfg.contact_host = local.begin()->second.first;
    ecfg.contact_port = local.begin()->second.second;
    const std::string contact_host =
        cfg.contact_host.empty() ? ecfg.contact_host : cfg.contact_host;

    // --- database
    std::error_code ec;
    if (auto dir = std::filesystem::path(cfg.database).parent_path(); !dir.empty())
        std::filesystem::create_directories(dir, ec);
    std::string err;
    auto store = route::reg::sqlite::Store::open(cfg.database, &err);
    if (!store) {
        fmt::print(stderr, "trunkline: {}\n", err);
        return 1;
    }

    // Tags, branches and nonces: seeded once from the OS (the pure core only sees Random&).
    std::random_device rd;
    sip::SeededRandom rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
    sip::crypto::EvpHasher hasher;

    // --- registrar users: the database (HA1 for our realm) plus an optional file
    wiring::DigestAuth auth(cfg.realm, rng, cfg.algorithms);
    std::optional<wiring::DigestAuth::Users> file_users;
    if (!cfg.users_file.empty()) {
        file_users = wiring::DigestAuth::users_from_file(cfg.users_file, cfg.realm, &err);
        if (!file_users) {
            fmt::print(stderr, "trunkline: {}\n", err);
            return 1;
        }
    }
    std::set<std::string> realm_warned;
    auto load_users = [&] {
        wiring::DigestAuth::Users users;
        std::string e;
        for (const auto& u : store->users(&e)) {
            if (!u.enabled) continue;
            if (u.realm != cfg.realm) {
                if (realm_warned.insert(u.username).second)
                    log_line(
                        fmt::format("registrar: user '{}' has realm '{}', not '{}': it "
                                    "cannot authenticate (trunkctl user passwd --realm)",
                                    u.username, u.realm, cfg.realm));
                continue;
            }
            users[u.username] = u.ha1;
        }
        if (!e.empty()) log_line(fmt::format("registrar: cannot read users: {}", e));
        if (file_users)
            for (const auto& [name, h] : *file_users)
                users.emplace(name, h);
        auth.set_users(std::move(users));
    };
    load_users();

    sip::uv::Loop loop;
    Clock clock{loop};
    ecfg.unix_offset_s =
        wall_ms() / 1000 -
        std::chrono::duration_cast<std::chrono::seconds>(loop.now().time_since_epoch()).count();
    sw::RegistrationsConfig rcfg;
    rcfg.registrar = cfg.registrar;
    rcfg.location = cfg.location;
    rcfg.log_bindings = cfg.log_messages;
    if (cfg.keepalive_enabled) {
        rcfg.keepalive = cfg.keepalive;
        rcfg.keepalive->local_host = ecfg.contact_host;
        rcfg.keepalive->local_port = ecfg.contact_port;
    }
    // carrier registrations run whether or not the registrar answers REGISTER
    sw::SwitchConfig scfg;
    scfg.element = ecfg;
    scfg.calls = cfg.calls;
    scfg.calls.server_header = cfg.server_header;
    scfg.calls.log_calls = cfg.log_messages;
    scfg.calls.unix_offset_ms =
        wall_ms() -
        std::chrono::duration_cast<std::chrono::milliseconds>(loop.now().time_since_epoch()).count();
    for (const auto& [t, hp] : local)
        scfg.calls.local[t] = sw::LocalAddress{cfg.contact_host.empty() ? hp.first : cfg.contact_host,
                                               hp.second};
    scfg.router = cfg.router;
    scfg.customers = cfg.customers;
    scfg.probes.local_host = scfg.calls.local.begin()->second.host;
    scfg.probes.local_port = scfg.calls.local.begin()->second.port;
    scfg.probes.user_agent = cfg.server_header;
    scfg.probes.period = cfg.probe_period;
    sw::Switch swc(scfg, rcfg, &auth, hasher, rng);
    sw::Element& element = swc.element();
    sw::Registrations* regs = &swc.registrations();
    if (!cfg.registrar_enabled) element.set_registrar(nullptr);

    // --- routing (customers, vendors, groups) and the billing book from the database
    auto lcr_store = route::lcr::sqlite::Store::open(cfg.database, &err);
    if (!lcr_store) {
        fmt::print(stderr, "trunkline: {}\n", err);
        return 1;
    }
    std::map<std::string, std::int64_t> routing_versions;
    std::vector<wiring::Routing::Fqdn> fqdn_vendors;
    std::function<void()> on_timer, refresh;
    std::optional<std::int64_t> billing_version;
    wiring::BillingVersion billing_watch(cfg.database);
    // accounts and rates (the billing book): reloaded only when billing changed
    auto load_book = [&] {
        std::string e;
        // read the version first: a change committed during the load leaves a newer one
        billing_version = billing_watch.read(&e);
        auto book = wiring::load_book(cfg.database, &e);
        if (!book) {
            log_line(fmt::format("billing: cannot load accounts and rates: {}", e));
            return false;
        }
        swc.set_book(std::move(*book));
        log_line("billing: accounts and rates loaded");
        return true;
    };
    // customers, vendors and groups: reloaded only when one of their tables changed
    auto load_routing = [&] {
        std::string e;
        auto r = wiring::load_routing(*lcr_store, &e);
        if (!r) {
            log_line(fmt::format("routing: cannot load gateways: {}", e));
            return false;
        }
        for (const auto& w : r->warnings)
            log_line("routing: " + w);
        const std::size_t nc = r->customers.size(), nv = r->vendors.size();
        if (!swc.set_routing(std::move(r->customers), std::move(r->vendors), std::move(r->groups),
                             &e, loop.now())) {
            log_line(fmt::format("routing: {}", e));
            return false;
        }
        routing_versions = r->versions;
        fqdn_vendors = std::move(r->fqdn_vendors);  // resolved by the next refresh()
        log_line(fmt::format("routing: {} customers, {} vendor gateways", nc, nv));
        return true;
    };
    load_book();
    load_routing();
    wiring::CdrWriter cdr_writer({.database = cfg.database}, [](const std::string& l) { log_line(l); });
    if (!check_config && !cdr_writer.start(&err)) {
        fmt::print(stderr, "trunkline: {}\n", err);
        return 1;
    }

    // --- bindings restored from the database (exact expiry: the remaining lifetime)
    {
        const std::int64_t now_ms = wall_ms();
        store->purge_bindings(now_ms, &err);
        route::reg::Snapshot snap;
        for (const auto& sb : store->bindings(&err)) {
            if (sb.expires_ms <= now_ms) continue;
            snap.push_back({sb.aor, sb.binding, std::chrono::milliseconds(sb.expires_ms - now_ms)});
        }
        regs->restore(snap, loop.now());
    }

    // --- carrier registrations: entries + crash-recovery state -> specs
    route::domain::DomainCache dns_cache({}, rng);
    std::unique_ptr<route::domain::ares::Resolver> resolver;
    std::set<std::string> dns_names;                // FQDNs we asked the cache for
    std::map<std::string, std::string> unresolved;  // trunk name -> why
    auto build_specs = [&]() {
        std::vector<sw::TrunkSpec> specs;
        std::string e;
        auto entries = store->trunk_regs(&e);
        if (!e.empty()) {
            log_line(fmt::format("trunk-reg: cannot read entries: {}", e));
            return std::optional<std::vector<sw::TrunkSpec>>();
        }
        unresolved.clear();
        for (const auto& r : entries) {
            if (!r.enabled) continue;
            route::reg::RegClientConfig c;
            const std::uint16_t default_port = r.transport == sip::Transport::Tls ? 5061 : 5060;
            if (is_ip_literal(r.server)) {
                c.registrar = {r.transport, r.server, r.port ? r.port : default_port, 0, {}};
            } else {
                if (!resolver) {
                    unresolved[r.name] = "no DNS resolver";
                    continue;
                }
                route::domain::EntrySpec es;
                es.name = r.server;
                if (r.port) {
                    es.port = r.port;
                    es.transport = r.transport;
                }
                if (dns_names.insert(r.server).second) dns_cache.add(es, loop.now());
                auto l = dns_cache.lookup(r.server, loop.now(), 1);
                if (l.state == route::domain::LookupState::Pending) {
                    unresolved[r.name] = "resolving " + r.server;
                    continue;
                }
                auto cursor = l.cursor();
                auto t =
                    cursor.resolution ? dns_cache.next_target(cursor, loop.now()) : std::nullopt;
                if (!t) {
                    unresolved[r.name] =
                        fmt::format("{}: {}", r.server, route::domain::error_kind_name(l.error));
                    continue;
                }
                c.registrar = {t->transport, t->address.to_string(), t->port, 0,
                               t->transport == sip::Transport::Tls ? r.server : std::string()};
            }
            c.registrar_domain = r.server;
            if (r.port && r.port != default_port)
                c.registrar_domain += ":" + std::to_string(r.port);
            if (!r.outbound_proxy.empty()) {
                std::string host;
                std::uint16_t port = 0;
                if (!sip::uv::split_host_port(r.outbound_proxy, host, port) ||
                    !is_ip_literal(host)) {
                    unresolved[r.name] = "outbound proxy must be IP[:port]: " + r.outbound_proxy;
                    continue;
                }
                c.outbound_proxy =
                    sip::Target{r.transport, host, port ? port : default_port, 0, {}};
            }
            c.aor_user = r.aor_user;
            c.aor_domain = r.aor_domain;
            c.auth_user = r.auth_user;
            c.password = r.password;
            auto lc = local.find(r.transport);
            c.contact_host = !r.contact_host.empty() ? r.contact_host : contact_host;
            c.contact_port = r.contact_port      ? r.contact_port
                             : lc != local.end() ? lc->second.second
                                                 : ecfg.contact_port;
            if (r.expires_s)
                c.expires = *r.expires_s == 0 ? std::nullopt
                                              : std::optional(std::chrono::seconds(*r.expires_s));
            else
                c.expires = cfg.expires;
            c.retry_delay =
                r.retry_delay_s ? std::chrono::seconds(*r.retry_delay_s) : cfg.retry_delay;
            c.privacy = r.privacy.value_or(cfg.privacy);
            c.send_unregister = r.send_unregister.value_or(cfg.send_unregister);
            c.unregister_wait = cfg.unregister_wait;
            c.user_agent = cfg.server_header;
            sw::TrunkSpec spec;
            spec.name = r.name;
            spec.fingerprint =
                fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
                            sip::transport_name(c.registrar.transport), c.registrar.host,
                            c.registrar.port, c.registrar_domain, r.outbound_proxy, c.aor_user,
                            c.aor_domain, c.auth_user, c.password, c.contact_host, c.contact_port,
                            c.expires ? c.expires->count() : 0, c.retry_delay.count(),
                            static_cast<int>(c.privacy)) +
                (c.send_unregister ? "|u" : "|-");
            if (auto st = store->trunk_state(r.name, &e); st && !st->persisted.call_id.empty())
                spec.previous = st->persisted;
            spec.config = std::move(c);
            specs.push_back(std::move(spec));
        }
        return std::optional(std::move(specs));
    };

    std::unique_ptr<sip::uv::Transports> transports;
    sip::uv::Timer timer(loop, [&] { on_timer(); });
    // the resolver's observer must not feed the cache from inside its callback: defer
    sip::uv::Timer refresh_timer(loop, [&] { refresh(); });
    bool stopping = false, finished = false;

    // bindings: write-behind, one transaction per flush period
    std::vector<route::reg::sqlite::BindingChange> pending_bindings;
    auto flush_bindings = [&] {
        if (pending_bindings.empty()) return;
        std::string e;
        if (!store->apply_bindings(pending_bindings, &e))
            log_line(fmt::format("registrar: cannot save {} binding changes: {}",
                                 pending_bindings.size(), e));
        pending_bindings.clear();
    };

    std::function<void()> finish;
    // After every input: deliver what the element and registrations produced, persist, log,
    // re-arm the one timer.
    auto flush = [&] {
        const sip::Instant now = loop.now();
        swc.pump(now);
        while (auto s = swc.poll_send())
            transports->send(s->to, s->bytes, s->txn);
        while (auto c = swc.poll_cdr()) {
            if (!c->rating_error.empty())
                log_line(fmt::format("cdr: call {} unrated: {}", c->cdr.call.call_id_in,
                                     c->rating_error));
            if (cfg.log_messages)
                log_line(fmt::format("cdr: call-id={} {} -> {} code={} tried={} charge={}",
                                     c->cdr.call.call_id_in, c->cdr.call.caller,
                                     c->cdr.call.callee, c->cdr.call.sip_code, c->gateways_tried,
                                     c->cdr.charge.to_string()));
            cdr_writer.push(c->seq, std::move(c->cdr));
        }
        while (auto op = regs->poll_store()) {
            std::string e;
            if (auto* b = std::get_if<sw::BindingSaved>(&*op)) {
                pending_bindings.push_back(
                    {b->aor, b->binding.contact,
                     route::reg::sqlite::StoredBinding{b->aor, b->binding,
                                                       clock.to_wall(b->binding.expires_at)}});
            } else if (auto* d = std::get_if<sw::BindingDeleted>(&*op)) {
                pending_bindings.push_back({d->aor, d->contact, std::nullopt});
            } else if (auto* t = std::get_if<sw::TrunkStateSaved>(&*op)) {
                route::reg::sqlite::TrunkRegState s;
                s.name = t->name;
                s.persisted = t->persisted;
                s.state = std::string(route::reg::state_name(t->status.state));
                s.reason = t->status.reason;
                if (t->status.expires_at) s.expires_ms = clock.to_wall(*t->status.expires_at);
                if (t->status.next_attempt)
                    s.next_attempt_ms = clock.to_wall(*t->status.next_attempt);
                s.last_code = t->status.last_code;
                s.last_reason_phrase = t->status.last_reason_phrase;
                s.consecutive_failures = t->status.consecutive_failures;
                s.updated_ms = wall_ms();
                s.clean_stop = t->clean_stop;
                if (!store->save_trunk_state(s, &e))
                    log_line(fmt::format("trunk-reg {}: cannot save state: {}", t->name, e));
            } else if (auto* f = std::get_if<sw::TrunkForgotten>(&*op)) {
                store->remove_trunk_state(f->name, &e);
            } else if (auto* ss = std::get_if<sw::SuspensionSaved>(&*op)) {
                store->put_suspension(
                    {ss->suspension.key, ss->suspension.ip, clock.to_wall(ss->suspension.until)},
                    &e);
            } else if (auto* sc = std::get_if<sw::SuspensionCleared>(&*op)) {
                store->remove_suspension(sc->key, sc->ip, &e);
            }
        }
        while (auto l = swc.poll_log())
            log_line(*l);
        if (stopping && !finished && regs->stopped()) {
            finish();
            return;
        }
        std::optional<sip::Instant> d = swc.next_deadline();
        if (d)
            timer.arm(*d);
        else
            timer.cancel();
    };
    on_timer = [&] {
        swc.handle_timeouts(loop.now());
        flush();
    };

    // --- carrier FQDNs through the domain cache (c-ares on this loop)
    {
        route::domain::ares::ResolverConfig dcfg;
        dcfg.servers = cfg.dns_servers;
        resolver = route::domain::ares::Resolver::create(loop.native(), dns_cache, dcfg, &err);
        if (!resolver)
            log_line(fmt::format("dns: {} (carrier FQDNs will not resolve)", err));
        else
            resolver->set_observer([&](const route::domain::Action& a) {
                // a first resolution ended, or an address changed: rebuild the entries (the
                // fingerprint holds the address, so a moved registrar is re-registered)
                if (std::holds_alternative<route::domain::Resume>(a) ||
                    std::holds_alternative<route::domain::Resolved>(a))
                    if (!stopping) refresh_timer.arm(loop.now());
            });
    }

    // vendor gateways given by name: where the domain cache says they are now (RFC 3263:
    // NAPTR/SRV without a port, A/AAAA at the port when one is set)
    auto resolve_vendors = [&] {
        for (const auto& f : fqdn_vendors) {
            if (!resolver) {
                log_line(fmt::format("vendor {}: no DNS resolver for '{}'", f.gateway, f.name));
                continue;
            }
            if (dns_names.insert(f.name).second) {
                route::domain::EntrySpec es;
                es.name = f.name;
                if (f.port) {
                    es.port = f.port;
                    es.transport = f.transport;
                }
                dns_cache.add(es, loop.now());
            }
            auto l = dns_cache.lookup(f.name, loop.now(), 1);
            if (l.state == route::domain::LookupState::Pending) continue;  // the observer calls back
            auto cursor = l.cursor();
            auto t = cursor.resolution ? dns_cache.next_target(cursor, loop.now()) : std::nullopt;
            if (!t) {
                log_line(fmt::format("vendor {}: '{}' does not resolve: {}", f.gateway, f.name,
                                     route::domain::error_kind_name(l.error)));
                continue;
            }
            const sip::Target to{t->transport, t->address.to_string(), t->port, 0,
                                 t->transport == sip::Transport::Tls ? f.name : std::string()};
            swc.set_vendor_target(f.gateway, to, loop.now());
        }
    };

    auto hangup_call = [&](const std::string& id) {
        std::uint64_t n = 0;
        for (char ch : id) {
            if (ch < '0' || ch > '9') return false;
            n = n * 10 + static_cast<unsigned>(ch - '0');
        }
        const bool ok = swc.calls().hangup(n, loop.now());
        swc.pump(loop.now());
        return ok;
    };
    // `trunkctl call list` reads what the writer thread publishes once a second
    std::optional<std::uint64_t> published_generation;
    auto publish_calls = [&] {
        std::optional<std::vector<route::lcr::sqlite::ActiveCall>> list;
        if (published_generation != swc.calls().generation()) {
            published_generation = swc.calls().generation();
            list.emplace();
        }
        for (const auto& c : list ? swc.calls().list() : std::vector<sw::CallInfo>{}) {
            route::lcr::sqlite::ActiveCall a;
            a.id = c.id;
            a.customer = c.customer;
            a.vendor_gateway = c.vendor_gateway;
            a.caller = c.caller;
            a.callee = c.callee;
            a.state = c.state;
            a.setup_ms = clock.to_wall(c.setup);
            if (c.answer) a.answer_ms = clock.to_wall(*c.answer);
            a.call_id_in = c.call_id_in;
            a.call_id_out = c.call_id_out;
            list->push_back(std::move(a));
        }
        std::vector<route::lcr::sqlite::GatewayLive> gateways;
        for (route::lcr::GatewayId id : swc.router().gateways()) {
            const route::lcr::GatewayState st = swc.router().state(id);
            route::lcr::sqlite::GatewayLive g;
            g.name = swc.router().name(id);
            g.current_calls = st.current_calls;
            g.total_calls = st.total_calls;
            g.answered = st.answered_calls;
            g.down = st.down;
            g.down_reason = st.down_reason;
            if (st.down_since)
                g.down_since_ms = clock.to_wall(sip::Instant{} +
                                                std::chrono::duration_cast<sip::Duration>(*st.down_since));
            gateways.push_back(std::move(g));
        }
        cdr_writer.publish_calls(std::move(list), std::move(gateways), wall_ms());
    };

    std::optional<std::int64_t> data_version;
    refresh = [&] {
        if (stopping) return;
        resolve_vendors();
        if (auto specs = build_specs()) regs->set_trunks(std::move(*specs), loop.now());
        for (const auto& [name, why] : unresolved)
            log_line(fmt::format("trunk-reg {}: waiting: {}", name, why));
        if (resolver) resolver->kick();
        flush();
    };
    // trunkctl writes to the database; PRAGMA data_version tells us when (cheap to poll)
    auto poll_db = [&] {
        std::string e;
        auto v = store->data_version(&e);
        if (!v || v == data_version) return;
        data_version = v;
        load_users();
        for (const auto& c : store->take_commands(&e)) {
            if (c.kind == "lift")
                regs->lift(c.arg, loop.now());
            else if (c.kind == "hangup")
                log_line(fmt::format("call {}: operator hangup: {}", c.arg,
                                     hangup_call(c.arg) ? "done" : "no such call"));
            else
                log_line(fmt::format("command {} '{}' not understood", c.kind, c.arg));
        }
        swc.cdrs_committed(cdr_writer.stats().committed_seq);
        if (billing_watch.read(&e) != billing_version) load_book();
        if (lcr_store->table_versions(&e) != routing_versions) load_routing();
        refresh();
        data_version = store->data_version(&e);  // our own writes above don't count
    };
    sip::uv::Timer flush_timer(loop, [&] {
        flush_bindings();
        flush_timer.arm(loop.now() + cfg.binding_flush);
    });
    sip::uv::Timer poll_timer(loop, [&] {
        poll_db();
        publish_calls();
        flush();
        poll_timer.arm(loop.now() + cfg.reload_poll);
    });

    if (check_config) {
        auto specs = build_specs();
        fmt::print(
            "database {}\nrealm {} ({} users)\nregistrar {}: expires {}..{} s (default {}), "
            "replace {}, retry {}, suspend {} s ({})\n",
            cfg.database, cfg.realm, auth.user_count(), cfg.registrar_enabled ? "on" : "off",
            cfg.registrar.min_expires.count(), cfg.registrar.max_expires.count(),
            cfg.registrar.default_expires.count(), cfg.registrar.register_replace ? "on" : "off",
            cfg.registrar.register_retry, cfg.registrar.register_suspend.count(),
            cfg.registrar.suspend_drop ? "drop" : "403");
        if (specs)
            for (const auto& s : *specs)
                fmt::print("trunk-reg {}: {} {}:{} expires {} retry {} s unregister {}\n", s.name,
                           sip::transport_name(s.config.registrar.transport),
                           s.config.registrar.host, s.config.registrar.port,
                           s.config.expires ? std::to_string(s.config.expires->count()) : "auto",
                           s.config.retry_delay.count(), s.config.send_unregister ? "on" : "off");
        for (const auto& [name, why] : unresolved)
            fmt::print("trunk-reg {}: {}\n", name, why);
        return 0;
    }

    transports = std::make_unique<sip::uv::Transports>(
        loop, tcfg,
        sip::uv::TransportHandlers{
            .on_message =
                [&](const sip::Target& src, std::string_view bytes) {
                    if (finished) return;
                    swc.on_bytes(bytes, src, loop.now());
                    flush();
                },
            .on_send_failed =
                [&](std::uint64_t txn, const sip::Target& to, std::string_view why) {
                    log_line(fmt::format("send to {}:{} failed: {}", to.host, to.port, why));
                    swc.on_transport_error(txn, loop.now());
                    flush();
                },
            .on_event = [](std::string_view line) { log_line(line); },
        });
    if (std::string e = transports->start(); !e.empty()) {
        fmt::print(stderr, "trunkline: {}\n", e);
        return 1;
    }
    std::string listening;
    for (const auto& l : tcfg.listen)
        listening += fmt::format(" {} {}", sip::transport_name(l.transport), l.address);
    log_line(fmt::format("trunkline {} listening:{}{}; database {}; realm {} ({} users)",
                         TRUNKLINE_VERSION, listening, ecfg.echo_uas ? " (echo UAS)" : "",
                         cfg.database, cfg.realm, auth.user_count()));
    data_version = store->data_version(&err);
    refresh();
    flush_timer.arm(loop.now() + cfg.binding_flush);
    poll_timer.arm(loop.now() + cfg.reload_poll);

    sip::uv::Timer stop_timer(loop, [&] {
        // the unregister bound passed (the clients gave up at their stop deadline)
        if (!finished) {
            log_line("trunk-reg: unregister wait is over");
            finish();
        }
    });
    finish = [&] {
        if (finished) return;
        finished = true;
        timer.cancel();
        stop_timer.cancel();
        refresh_timer.cancel();
        flush_timer.cancel();
        poll_timer.cancel();
        flush_bindings();
        cdr_writer.publish_calls(std::vector<route::lcr::sqlite::ActiveCall>{}, {}, wall_ms());  // no call of ours is running any more
        resolver.reset();
        transports->shutdown([&] { loop.stop(); });
    };
    sip::uv::Signals signals(loop, [&](int signum) {
        if (stopping) return;
        stopping = true;
        log_line(fmt::format("signal {}: stopping", signum));
        regs->stop_all(loop.now());
        // a little past the clients' own bound, so they report their outcome first
        stop_timer.arm(loop.now() + cfg.unregister_wait + 200ms);
        flush();
    });
    loop.run();
    const auto& st = element.stats();
    log_line(fmt::format(
        "trunkline stopping after {} requests, {} responses ({} malformed answered, "
        "{} dropped), {} registrations",
        st.requests, st.responses, st.malformed_answered, st.malformed_dropped, st.registers));
    return 0;
}

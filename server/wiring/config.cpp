#include "wiring/config.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <toml++/toml.h>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "sip/uv/transports.hpp"
#include "wiring/api_tls.hpp"

namespace wiring {
namespace {

// One key: where it lives, and how to read it into the config.
struct Ctx {
    const std::string& file;
    std::string* error;
    bool failed = false;

    bool fail(const toml::source_region& src, std::string_view key, std::string_view what) {
        *error = fmt::format("{}:{}:{}: {}: {}", file, src.begin.line, src.begin.column, key, what);
        failed = true;
        return false;
    }
    bool fail(const toml::node& n, std::string_view key, std::string_view what) {
        return fail(n.source(), key, what);
    }
};

using Reader = std::function<bool(Ctx&, const toml::node&, std::string_view key)>;

Reader boolean(bool& out) {
    return [&out](Ctx& c, const toml::node& n, std::string_view key) {
        if (!n.is_boolean()) return c.fail(n, key, "expected true or false");
        out = *n.value<bool>();
        return true;
    };
}

Reader text(std::string& out) {
    return [&out](Ctx& c, const toml::node& n, std::string_view key) {
        if (!n.is_string()) return c.fail(n, key, "expected a string");
        out = *n.value<std::string>();
        return true;
    };
}

template <class T>
Reader integer(T& out, std::int64_t lo, std::int64_t hi) {
    return [&out, lo, hi](Ctx& c, const toml::node& n, std::string_view key) {
        if (!n.is_integer())
            return c.fail(n, key, fmt::format("expected an integer {}..{}", lo, hi));
        const std::int64_t v = *n.value<std::int64_t>();
        if (v < lo || v > hi) return c.fail(n, key, fmt::format("{} is outside {}..{}", v, lo, hi));
        out = static_cast<T>(v);
        return true;
    };
}

template <class Rep, class Period>
Reader duration(std::chrono::duration<Rep, Period>& out, std::int64_t lo, std::int64_t hi,
                std::string_view unit) {
    return [&out, lo, hi, unit](Ctx& c, const toml::node& n, std::string_view key) {
        if (!n.is_integer())
            return c.fail(n, key, fmt::format("expected an integer {}..{} ({})", lo, hi, unit));
        const std::int64_t v = *n.value<std::int64_t>();
        if (v < lo || v > hi)
            return c.fail(n, key, fmt::format("{} is outside {}..{} {}", v, lo, hi, unit));
        out = std::chrono::duration<Rep, Period>(v);
        return true;
    };
}

Reader strings(std::vector<std::string>& out) {
    return [&out](Ctx& c, const toml::node& n, std::string_view key) {
        const toml::array* a = n.as_array();
        if (!a) return c.fail(n, key, "expected an array of strings");
        std::vector<std::string> v;
        for (const toml::node& e : *a) {
            if (!e.is_string()) return c.fail(e, key, "expected an array of strings");
            v.push_back(*e.value<std::string>());
        }
        out = std::move(v);
        return true;
    };
}

// seconds in the file, sip::Duration (nanoseconds) in the config
Reader seconds(sip::Duration& out, std::int64_t lo, std::int64_t hi) {
    return [&out, lo, hi](Ctx& c, const toml::node& n, std::string_view key) {
        if (!n.is_integer())
            return c.fail(n, key, fmt::format("expected an integer {}..{} (s)", lo, hi));
        const std::int64_t v = *n.value<std::int64_t>();
        if (v < lo || v > hi)
            return c.fail(n, key, fmt::format("{} is outside {}..{} s", v, lo, hi));
        out = std::chrono::seconds(v);
        return true;
    };
}

Reader nanos_seconds(std::chrono::nanoseconds& out, std::int64_t lo, std::int64_t hi) {
    return seconds(out, lo, hi);
}

Reader status_codes(std::vector<std::uint16_t>& out) {
    return [&out](Ctx& c, const toml::node& n, std::string_view key) {
        const toml::array* a = n.as_array();
        if (!a) return c.fail(n, key, "expected an array of SIP status codes 300..699");
        std::vector<std::uint16_t> v;
        for (const toml::node& e : *a) {
            if (!e.is_integer() || *e.value<std::int64_t>() < 300 || *e.value<std::int64_t>() > 699)
                return c.fail(e, key, "expected an array of SIP status codes 300..699");
            v.push_back(static_cast<std::uint16_t>(*e.value<std::int64_t>()));
        }
        out = std::move(v);
        return true;
    };
}

// "192.0.2.7", "2001:db8::7" or "2001:db8:1:2::/64": what a per-source limit can name
bool source_address(const std::string& s) {
    unsigned char buf[16];
    std::string a = s;
    if (a.size() > 3 && a.compare(a.size() - 3, 3, "/64") == 0) {
        a.resize(a.size() - 3);
        return ::inet_pton(AF_INET6, a.c_str(), buf) == 1;
    }
    return ::inet_pton(AF_INET, a.c_str(), buf) == 1 || ::inet_pton(AF_INET6, a.c_str(), buf) == 1;
}

// [api] listen: "127.0.0.1:8080" or "[::1]:8080" (an address to bind, never a name)
bool api_address(const std::string& s) {
    std::string host;
    std::uint16_t port = 0;
    unsigned char buf[16];
    return sip::uv::split_host_port(s, host, port) &&
           (::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
            ::inet_pton(AF_INET6, host.c_str(), buf) == 1);
}

// [sip] source_limits = [{ source = "192.0.2.7", max_connections = 500,
//                          new_connections_per_second = 100 }, ...]; 0 is unlimited; a key
// left out is kUnset here and the [sip] default once the whole file is read
constexpr std::uint32_t kUnset = 0xffffffffu;
Reader source_limits(std::vector<sip::SourceLimit>& out) {
    return [&out](Ctx& c, const toml::node& n, std::string_view key) {
        const toml::array* a = n.as_array();
        constexpr std::string_view shape =
            "expected an array of { source = \"ADDRESS\", max_connections = N, "
            "new_connections_per_second = N }";
        if (!a) return c.fail(n, key, shape);
        std::vector<sip::SourceLimit> v;
        for (const toml::node& e : *a) {
            const toml::table* t = e.as_table();
            if (!t) return c.fail(e, key, shape);
            sip::SourceLimit l{{}, kUnset, kUnset};
            for (const auto& [k, val] : *t) {
                const std::string name(k.str());
                const std::string full = std::string(key) + "." + name;
                if (name == "source") {
                    if (!val.is_string() || !source_address(*val.value<std::string>()))
                        return c.fail(val, full,
                                      "expected an IPv4 address, an IPv6 address or an IPv6 /64");
                    l.source = *val.value<std::string>();
                } else if (name == "max_connections" || name == "new_connections_per_second") {
                    if (!integer(name == "max_connections" ? l.max_connections : l.new_per_second,
                                 0, 1'000'000)(c, val, full))
                        return false;
                } else {
                    return c.fail(k.source(), full, "unknown key");
                }
            }
            if (l.source.empty()) return c.fail(e, key, "an entry without source");
            v.push_back(std::move(l));
        }
        out = std::move(v);
        return true;
    };
}

// [log] format = "text" | "logfmt" | "json", level = "debug" | "info" | "warn" | "error"
bool log_section(Ctx& c, const toml::table& root, const std::string& format, const std::string& level,
                 LogSettings& out) {
    auto f = parse_log_format(format);
    if (!f)
        return c.fail(*root.at_path("log.format").node(), "log.format",
                      fmt::format("'{}' is not \"text\", \"logfmt\" or \"json\"", format));
    auto l = parse_log_level(level);
    if (!l)
        return c.fail(*root.at_path("log.level").node(), "log.level",
                      fmt::format("'{}' is not \"debug\", \"info\", \"warn\" or \"error\"", level));
    out = {*f, *l};
    return true;
}

// [alerts] balance_below: an exact decimal amount ("" = off); webhook: an http(s) URL.
bool alerts(Ctx& c, const toml::table& root, const std::string& balance_below, ServerConfig& next) {
    if (balance_below.empty()) {
        next.alerts.balance_below.reset();
    } else if (auto m = billing::Money::parse(balance_below)) {
        next.alerts.balance_below = *m;
    } else {
        return c.fail(*root.at_path("alerts.balance_below").node(), "alerts.balance_below",
                      fmt::format("'{}' is not an amount (\"5.00\"; \"\" = off)", balance_below));
    }
    const std::string& url = next.alert_webhook;
    if (!url.empty() && !url.starts_with("http://") && !url.starts_with("https://"))
        return c.fail(*root.at_path("alerts.webhook").node(), "alerts.webhook",
                      fmt::format("'{}' is not an http:// or https:// URL (\"\" = none)", url));
    return true;
}

// [capture] hep = "HOST:PORT" (a name is resolved at start), hep_transport = "udp" | "tcp"
bool capture(Ctx& c, const toml::table& root, const std::string& transport, HepConfig& hep) {
    if (transport == "udp" || transport == "tcp") {
        hep.transport = transport == "tcp" ? sip::Transport::Tcp : sip::Transport::Udp;
    } else {
        return c.fail(*root.at_path("capture.hep_transport").node(), "capture.hep_transport",
                      fmt::format("'{}' is not \"udp\" or \"tcp\"", transport));
    }
    std::string host;
    std::uint16_t port = 0;
    if (root.at_path("capture.hep") && !hep.collector.empty() &&
        (!sip::uv::split_host_port(hep.collector, host, port) || port == 0))
        return c.fail(*root.at_path("capture.hep").node(), "capture.hep",
                      fmt::format("'{}' is not HOST:PORT (\"10.0.0.5:9060\", "
                                  "\"homer.example.net:9060\", \"[2001:db8::5]:9060\"; "
                                  "\"\" = off)",
                                  hep.collector));
    return true;
}

// [api] tls_cert, tls_key: both or neither; both must be readable PEM, the key the
// certificate's (opened with tls_key_password). A file named here must not wait for the first
// HTTPS client to turn out wrong: trunkline and --check-config stop on it.
bool api_tls(Ctx& c, const toml::table& root, const ServerConfig& next) {
    const bool cert = !next.api_tls_cert.empty(), key = !next.api_tls_key.empty();
    // a value kept from an earlier load (load_config_text over a loaded config) has no node
    auto node_of = [&](std::string_view path) -> const toml::source_region& {
        const toml::node* n = root.at_path(path).node();
        return n ? n->source() : root.source();
    };
    if (cert != key) {
        const char* set = cert ? "api.tls_cert" : "api.tls_key";
        return c.fail(node_of(set), set,
                      cert ? "set without api.tls_key (give both, or neither for plain HTTP)"
                           : "set without api.tls_cert (give both, or neither for plain HTTP)");
    }
    if (!cert) {
        if (!next.api_tls_key_password.empty())
            return c.fail(node_of("api.tls_key_password"), "api.tls_key_password",
                          "set without api.tls_cert and api.tls_key");
        return true;
    }
    ApiTlsError e;
    if (read_api_tls({next.api_tls_cert, next.api_tls_key, next.api_tls_key_password}, &e))
        return true;
    const char* which = e.file == ApiTlsFile::cert ? "api.tls_cert" : "api.tls_key";
    return c.fail(node_of(which), which, e.what);
}

bool walk(Ctx& c, const toml::table& t, const std::string& prefix,
          const std::map<std::string, Reader>& readers) {
    for (const auto& [k, node] : t) {
        const std::string key =
            prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
        if (const toml::table* sub = node.as_table()) {
            if (!walk(c, *sub, key, readers)) return false;
            continue;
        }
        auto r = readers.find(key);
        if (r == readers.end()) return c.fail(k.source(), key, "unknown key");
        if (!r->second(c, node, key)) return false;
    }
    return true;
}

bool apply(const toml::table& root, const std::string& name, ServerConfig& cfg,
           std::string* error) {
    ServerConfig next = cfg;  // all or nothing
    auto& rc = next.registrar;
    std::string suspend_action = rc.suspend_drop ? "drop" : "403";
    std::string suspend_scope = rc.suspend_scope == route::reg::SuspendScope::User ? "user" : "address";
    std::vector<std::string> algorithms;
    std::string expires = next.expires ? std::to_string(next.expires->count()) : "auto";
    std::int64_t expires_int = -1;
    std::string privacy;
    std::string policy(route::lcr::to_string(next.router.policy));
    std::string payload =
        next.keepalive.payload == route::reg::KeepalivePayload::options ? "options" : "crlf";
    std::string hep_transport = next.hep.transport == sip::Transport::Tcp ? "tcp" : "udp";
    std::string balance_below = next.alerts.balance_below ? next.alerts.balance_below->to_string() : "";
    std::string log_format(to_string(next.log.format)), log_level(to_string(next.log.level));

    std::map<std::string, Reader> readers{
        {"sip.udp", text(next.udp)},
        {"sip.tcp", text(next.tcp)},
        {"sip.tls", text(next.tls)},
        {"sip.tls_cert", text(next.tls_cert)},
        {"sip.tls_key", text(next.tls_key)},
        {"sip.tls_ca", text(next.tls_ca)},
        {"sip.max_message", integer(next.max_message, 256, 1 << 24)},
        {"sip.max_headers", integer(next.max_headers, 8, 1024)},
        {"sip.udp_threads", integer(next.udp_threads, 1, 16)},
        {"sip.max_transactions", integer(next.max_transactions, 1000, 100'000'000)},
        {"sip.server_header", text(next.server_header)},
        {"sip.echo_uas", boolean(next.echo_uas)},
        {"sip.max_connections", integer(next.max_connections, 16, 1'000'000)},
        {"sip.max_connections_per_source", integer(next.max_connections_per_source, 0, 1'000'000)},
        {"sip.new_connections_per_second", integer(next.new_connections_per_second, 0, 1'000'000)},
        {"sip.source_limits", source_limits(next.source_limits)},
        {"sip.idle_timeout", duration(next.idle_timeout, 1, 86'400, "s")},
        {"sip.message_timeout", duration(next.message_timeout, 1, 3600, "s")},
        {"database.path", text(next.database)},
        {"database.binding_flush_ms", duration(next.binding_flush, 10, 10'000, "ms")},
        {"database.reload_poll_ms", duration(next.reload_poll, 50, 60'000, "ms")},
        {"log.messages", boolean(next.log_messages)},
        {"log.max_lines_per_second", integer(next.log_lines_per_second, 0, 1'000'000)},
        {"log.format", text(log_format)},
        {"log.level", text(log_level)},
        {"registrar.enabled", boolean(next.registrar_enabled)},
        {"registrar.realm", text(next.realm)},
        {"registrar.algorithms", strings(algorithms)},
        {"registrar.users_file", text(next.users_file)},
        {"registrar.min_expires", duration(rc.min_expires, 1, 86'400, "s")},
        {"registrar.max_expires", duration(rc.max_expires, 1, 604'800, "s")},
        {"registrar.default_expires", duration(rc.default_expires, 1, 604'800, "s")},
        {"registrar.register_replace", boolean(rc.register_replace)},
        {"registrar.register_retry", integer(rc.register_retry, 0, 1000)},
        {"registrar.register_suspend", duration(rc.register_suspend, 1, 86'400, "s")},
        {"registrar.suspend_action", text(suspend_action)},
        {"registrar.failure_window", duration(rc.failure_window, 1, 86'400, "s")},
        {"registrar.suspend_scope", text(suspend_scope)},
        {"registrar.trust_window", duration(rc.trust_window, 0, 30 * 86'400, "s")},
        {"registrar.max_tracked", integer(rc.max_tracked, 1, 10'000'000)},
        {"registrar.max_suspensions", integer(rc.max_suspensions, 1, 10'000'000)},
        {"registrar.max_bindings_per_aor", integer(next.location.max_bindings_per_aor, 1, 1024)},
        {"registrar.nat_keepalive.enabled", boolean(next.keepalive_enabled)},
        {"registrar.nat_keepalive.interval", duration(next.keepalive.interval, 5, 3600, "s")},
        {"registrar.nat_keepalive.payload", text(payload)},
        {"registrar.nat_keepalive.nat_only", boolean(next.keepalive.nat_only)},
        {"trunk_registration.send_unregister", boolean(next.send_unregister)},
        {"trunk_registration.unregister_wait", duration(next.unregister_wait, 1, 60, "s")},
        {"trunk_registration.retry_delay", duration(next.retry_delay, 30, 600, "s")},
        {"trunk_registration.privacy", text(privacy)},
        {"trunk_registration.contact_host", text(next.contact_host)},
        {"trunk_registration.dns_servers", strings(next.dns_servers)},
        {"shutdown.drain_calls", duration(next.drain_calls, 0, 86'400, "s")},
        {"shutdown.retry_after", duration(next.retry_after, 0, 86'400, "s")},
        {"calls.invite_timeout", seconds(next.calls.timers.invite_timeout, 1, 300)},
        {"calls.trying_timeout", seconds(next.calls.timers.trying_timeout, 1, 600)},
        {"calls.progress_timeout", seconds(next.calls.timers.progress_timeout, 1, 600)},
        {"calls.progress_sdp_timeout", seconds(next.calls.timers.progress_sdp_timeout, 1, 3600)},
        {"calls.ringing_timeout", seconds(next.calls.timers.ringing_timeout, 1, 3600)},
        {"calls.max_call_duration", seconds(next.calls.timers.max_call, 1, 604'800)},
        {"calls.session_timers", boolean(next.calls.timers.session_timers)},
        {"calls.session_expires", seconds(next.calls.timers.session_expires, 90, 86'400)},
        {"calls.min_se", seconds(next.calls.timers.min_se, 90, 86'400)},
        {"calls.refresh_divider", integer(next.calls.timers.refresh_divider, 2, 10)},
        {"calls.prepaid", boolean(next.calls.prepaid)},
        {"calls.credit_quota", seconds(next.calls.credit_quota, 1, 3600)},
        {"calls.reply_unauthorized", boolean(next.calls.reply_unauthorized)},
        {"calls.record_illegal_calls", boolean(next.calls.record_illegal_calls)},
        {"calls.failover.stop_codes", status_codes(next.calls.failover.stop_codes)},
        {"calls.failover.switch_until_connect", boolean(next.calls.failover.switch_until_connect)},
        {"calls.failover.stop_after_invite_timeout",
         boolean(next.calls.failover.stop_after_invite_timeout)},
        {"calls.failover.stop_after_early_sdp", boolean(next.calls.failover.stop_after_early_sdp)},
        {"calls.failover.switch_limit", integer(next.calls.failover.switch_limit, 0, 1000)},
        {"routing.policy", text(policy)},
        {"routing.asr_aware", boolean(next.router.asr_aware)},
        {"routing.probe_period", duration(next.probe_period, 5, 3600, "s")},
        {"routing.health.probe_failures", integer(next.router.health.probe_failures, 1, 100)},
        {"routing.health.window", integer(next.router.health.window, 1, 1000)},
        {"routing.health.failure_threshold",
         integer(next.router.health.failure_threshold, 0, 1000)},
        {"routing.blacklist.limit", integer(next.customers.blacklist.limit, 0, 1'000'000)},
        {"routing.blacklist.interval", nanos_seconds(next.customers.blacklist.interval, 1, 86'400)},
        {"routing.blacklist.expire", nanos_seconds(next.customers.blacklist.expire, 1, 604'800)},
        {"api.enabled", boolean(next.api_enabled)},
        {"api.listen", text(next.api_listen)},
        {"api.metrics_token_on_loopback", boolean(next.api.metrics_token_on_loopback)},
        {"api.max_failed_logins", integer(next.api.max_failures, 1, 1'000'000)},
        {"api.failed_login_window", seconds(next.api.failure_window, 1, 86'400)},
        {"api.failed_login_block", seconds(next.api.block, 1, 86'400)},
        {"api.tls_cert", text(next.api_tls_cert)},
        {"api.tls_key", text(next.api_tls_key)},
        {"api.tls_key_password", text(next.api_tls_key_password)},
        {"capture.hep", text(next.hep.collector)},
        {"capture.hep_transport", text(hep_transport)},
        {"capture.hep_id", integer(next.hep.capture_id, 0, 0xffffffffLL)},
        {"capture.hep_password", text(next.hep.password)},
        {"alerts.rate_increase_percent", integer(next.alerts.rate_increase_percent, 0, 100'000)},
        {"alerts.negative_margin", boolean(next.alerts.negative_margin)},
        {"alerts.gateway_down", boolean(next.alerts.gateway_down)},
        {"alerts.balance_below", text(balance_below)},
        {"alerts.asr_below_percent", integer(next.alerts.asr_below_percent, 0, 100)},
        {"alerts.asr_min_calls", integer(next.alerts.asr_min_calls, 1, 1'000'000)},
        {"alerts.asr_window", seconds(next.alerts.asr_window, 60, 86'400)},
        {"alerts.event_ttl", seconds(next.alerts.event_ttl, 60, 30 * 86'400)},
        {"alerts.webhook", text(next.alert_webhook)},
    };
    // expires: "auto" or 20..7200
    readers["trunk_registration.expires"] = [&](Ctx& c, const toml::node& n, std::string_view key) {
        if (n.is_string()) {
            if (*n.value<std::string>() != "auto")
                return c.fail(n, key, "expected \"auto\" or an integer 20..7200 (s)");
            expires = "auto";
            return true;
        }
        if (!integer(expires_int, 20, 7200)(c, n, key)) return false;
        expires = "fixed";
        return true;
    };

    Ctx c{name, error};
    if (!walk(c, root, "", readers)) return false;

    // every caller names a key the file set (the defaults are valid)
    auto node_of = [&](std::string_view path) -> const toml::node& {
        return *root.at_path(path).node();
    };
    if (suspend_action == "drop")
        rc.suspend_drop = true;
    else if (suspend_action == "403")
        rc.suspend_drop = false;
    else
        return c.fail(node_of("registrar.suspend_action"), "registrar.suspend_action",
                      fmt::format("'{}' is not \"403\" or \"drop\"", suspend_action));
    if (suspend_scope == "address")
        rc.suspend_scope = route::reg::SuspendScope::Address;
    else if (suspend_scope == "user")
        rc.suspend_scope = route::reg::SuspendScope::User;
    else
        return c.fail(node_of("registrar.suspend_scope"), "registrar.suspend_scope",
                      fmt::format("'{}' is not \"address\" or \"user\"", suspend_scope));
    if (auto p = route::lcr::parse_policy(policy))
        next.router.policy = *p;
    else
        return c.fail(node_of("routing.policy"), "routing.policy",
                      fmt::format("'{}' is not vos3000, cost or cost_in_priority", policy));
    if (payload == "options")
        next.keepalive.payload = route::reg::KeepalivePayload::options;
    else if (payload == "crlf")
        next.keepalive.payload = route::reg::KeepalivePayload::crlf;
    else
        return c.fail(node_of("registrar.nat_keepalive.payload"), "registrar.nat_keepalive.payload",
                      fmt::format("'{}' is not \"options\" or \"crlf\"", payload));
    if (!privacy.empty()) {
        if (privacy == "ignore")
            next.privacy = route::reg::Privacy::ignore;
        else if (privacy == "id")
            next.privacy = route::reg::Privacy::id;
        else if (privacy == "none")
            next.privacy = route::reg::Privacy::none;
        else
            return c.fail(node_of("trunk_registration.privacy"), "trunk_registration.privacy",
                          fmt::format("'{}' is not ignore, id or none", privacy));
    }
    if (expires == "auto")
        next.expires.reset();
    else if (expires_int >= 0)
        next.expires = std::chrono::seconds(expires_int);
    if (!algorithms.empty()) {
        next.algorithms.clear();
        for (const std::string& a : algorithms) {
            auto alg = sip::auth::parse_algorithm(a);
            if (!alg)
                return c.fail(node_of("registrar.algorithms"), "registrar.algorithms",
                              fmt::format("unknown algorithm '{}'", a));
            next.algorithms.push_back(*alg);
        }
    }
    if (root.at_path("api.listen")) {
        if (!api_address(next.api_listen))
            return c.fail(node_of("api.listen"), "api.listen",
                          fmt::format("'{}' is not ADDRESS:PORT with an IP address "
                                      "(\"127.0.0.1:8080\", \"[::1]:8080\")",
                                      next.api_listen));
        next.api_listen_required = true;
    }
    if (!api_tls(c, root, next)) return false;
    if (!capture(c, root, hep_transport, next.hep)) return false;
    if (!alerts(c, root, balance_below, next)) return false;
    if (!log_section(c, root, log_format, log_level, next.log)) return false;
    for (sip::SourceLimit& l : next.source_limits) {
        if (l.max_connections == kUnset) l.max_connections = next.max_connections_per_source;
        if (l.new_per_second == kUnset) l.new_per_second = next.new_connections_per_second;
    }
    if (rc.min_expires > rc.max_expires) {
        const bool min_set = static_cast<bool>(root.at_path("registrar.min_expires"));
        return c.fail(node_of(min_set ? "registrar.min_expires" : "registrar.max_expires"),
                      min_set ? "registrar.min_expires" : "registrar.max_expires",
                      fmt::format("{} s is above max_expires {} s", rc.min_expires.count(),
                                  rc.max_expires.count()));
    }
    if (rc.default_expires < rc.min_expires || rc.default_expires > rc.max_expires) {
        rc.default_expires = std::clamp(rc.default_expires, rc.min_expires, rc.max_expires);
    }
    cfg = std::move(next);
    return true;
}

}  // namespace

bool load_config_text(std::string_view text, const std::string& name, ServerConfig& cfg,
                      std::string* error) {
    toml::table root;
    try {
        root = toml::parse(text, name);
    } catch (const toml::parse_error& e) {
        const auto& src = e.source();
        *error =
            fmt::format("{}:{}:{}: {}", name, src.begin.line, src.begin.column, e.description());
        return false;
    }
    return apply(root, name, cfg, error);
}

bool load_config_file(const std::string& path, ServerConfig& cfg, std::string* error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        *error = path + ": cannot read the configuration file";
        return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return load_config_text(ss.str(), path, cfg, error);
}

}  // namespace wiring

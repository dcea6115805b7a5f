#include "wiring/settings_reload.hpp"

#include <fmt/format.h>

#include "wiring/log.hpp"

namespace wiring {

std::vector<SettingChange> setting_changes(const ServerConfig& a, const ServerConfig& b) {
    std::vector<SettingChange> out;
    auto cmp = [&](const char* key, const auto& x, const auto& y, bool live) {
        if (!(x == y)) out.push_back({key, live});
    };
    constexpr bool kLive = true, kRestart = false;
    // [sip]
    cmp("sip.udp", a.udp, b.udp, kRestart);
    cmp("sip.tcp", a.tcp, b.tcp, kRestart);
    cmp("sip.tls", a.tls, b.tls, kRestart);
    cmp("sip.tls_cert", a.tls_cert, b.tls_cert, kRestart);
    cmp("sip.tls_key", a.tls_key, b.tls_key, kRestart);
    cmp("sip.tls_ca", a.tls_ca, b.tls_ca, kRestart);
    cmp("sip.max_message", a.max_message, b.max_message, kRestart);
    cmp("sip.max_headers", a.max_headers, b.max_headers, kRestart);
    cmp("sip.udp_threads", a.udp_threads, b.udp_threads, kRestart);
    cmp("sip.max_transactions", a.max_transactions, b.max_transactions, kRestart);
    cmp("sip.server_header", a.server_header, b.server_header, kRestart);
    cmp("sip.echo_uas", a.echo_uas, b.echo_uas, kRestart);
    cmp("sip.max_connections", a.max_connections, b.max_connections, kRestart);
    cmp("sip.max_connections_per_source", a.max_connections_per_source,
        b.max_connections_per_source, kRestart);
    cmp("sip.new_connections_per_second", a.new_connections_per_second,
        b.new_connections_per_second, kRestart);
    cmp("sip.idle_timeout", a.idle_timeout, b.idle_timeout, kRestart);
    cmp("sip.message_timeout", a.message_timeout, b.message_timeout, kRestart);
    // [database], [log]
    cmp("database.path", a.database, b.database, kRestart);
    cmp("database.binding_flush_ms", a.binding_flush, b.binding_flush, kRestart);
    cmp("database.reload_poll_ms", a.reload_poll, b.reload_poll, kRestart);
    cmp("log.messages", a.log_messages, b.log_messages, kRestart);
    cmp("log.max_lines_per_second", a.log_lines_per_second, b.log_lines_per_second, kRestart);
    // [registrar]: route::reg::Registrar::set_live_config takes these
    const auto &ra = a.registrar, &rb = b.registrar;
    cmp("registrar.enabled", a.registrar_enabled, b.registrar_enabled, kRestart);
    cmp("registrar.realm", a.realm, b.realm, kRestart);
    cmp("registrar.algorithms", a.algorithms, b.algorithms, kRestart);
    cmp("registrar.users_file", a.users_file, b.users_file, kRestart);
    cmp("registrar.min_expires", ra.min_expires, rb.min_expires, kLive);
    cmp("registrar.max_expires", ra.max_expires, rb.max_expires, kLive);
    cmp("registrar.default_expires", ra.default_expires, rb.default_expires, kLive);
    cmp("registrar.register_replace", ra.register_replace, rb.register_replace, kLive);
    cmp("registrar.register_retry", ra.register_retry, rb.register_retry, kLive);
    cmp("registrar.register_suspend", ra.register_suspend, rb.register_suspend, kLive);
    cmp("registrar.suspend_action", ra.suspend_drop, rb.suspend_drop, kLive);
    cmp("registrar.failure_window", ra.failure_window, rb.failure_window, kLive);
    cmp("registrar.suspend_scope", ra.suspend_scope, rb.suspend_scope, kRestart);
    cmp("registrar.trust_window", ra.trust_window, rb.trust_window, kLive);
    cmp("registrar.max_tracked", ra.max_tracked, rb.max_tracked, kRestart);
    cmp("registrar.max_suspensions", ra.max_suspensions, rb.max_suspensions, kRestart);
    cmp("registrar.max_bindings_per_aor", a.location.max_bindings_per_aor,
        b.location.max_bindings_per_aor, kRestart);
    cmp("registrar.nat_keepalive.enabled", a.keepalive_enabled, b.keepalive_enabled, kRestart);
    cmp("registrar.nat_keepalive.interval", a.keepalive.interval, b.keepalive.interval, kRestart);
    // [trunk_registration]
    cmp("trunk_registration.send_unregister", a.send_unregister, b.send_unregister, kRestart);
    cmp("trunk_registration.unregister_wait", a.unregister_wait, b.unregister_wait, kLive);
    cmp("trunk_registration.expires", a.expires, b.expires, kRestart);
    cmp("trunk_registration.retry_delay", a.retry_delay, b.retry_delay, kRestart);
    cmp("trunk_registration.contact_host", a.contact_host, b.contact_host, kRestart);
    cmp("trunk_registration.dns_servers", a.dns_servers, b.dns_servers, kRestart);
    // [shutdown]
    cmp("shutdown.drain_calls", a.drain_calls, b.drain_calls, kLive);
    cmp("shutdown.retry_after", a.retry_after, b.retry_after, kLive);
    // [calls], [routing], [api]: built into the switch and the API server at start
    const auto &ta = a.calls.timers, &tb = b.calls.timers;
    cmp("calls.invite_timeout", ta.invite_timeout, tb.invite_timeout, kRestart);
    cmp("calls.trying_timeout", ta.trying_timeout, tb.trying_timeout, kRestart);
    cmp("calls.progress_timeout", ta.progress_timeout, tb.progress_timeout, kRestart);
    cmp("calls.ringing_timeout", ta.ringing_timeout, tb.ringing_timeout, kRestart);
    cmp("calls.max_call_duration", ta.max_call, tb.max_call, kRestart);
    cmp("calls.session_timers", ta.session_timers, tb.session_timers, kRestart);
    cmp("calls.prepaid", a.calls.prepaid, b.calls.prepaid, kRestart);
    cmp("routing.policy", a.router.policy, b.router.policy, kRestart);
    cmp("routing.asr_aware", a.router.asr_aware, b.router.asr_aware, kRestart);
    cmp("routing.probe_period", a.probe_period, b.probe_period, kRestart);
    cmp("api.enabled", a.api_enabled, b.api_enabled, kRestart);
    cmp("api.listen", a.api_listen, b.api_listen, kRestart);
    // the daemon keeps the key it started with: a renewed file at the same path needs a restart
    cmp("api.tls_cert", a.api_tls_cert, b.api_tls_cert, kRestart);
    cmp("api.tls_key", a.api_tls_key, b.api_tls_key, kRestart);
    cmp("api.tls_key_password", a.api_tls_key_password, b.api_tls_key_password, kRestart);
    // [capture]: the collector's socket is opened at start
    cmp("capture.hep", a.hep.collector, b.hep.collector, kRestart);
    cmp("capture.hep_transport", a.hep.transport, b.hep.transport, kRestart);
    cmp("capture.hep_id", a.hep.capture_id, b.hep.capture_id, kRestart);
    cmp("capture.hep_password", a.hep.password, b.hep.password, kRestart);
    // [alerts]: sw::Alerts::set_config takes the thresholds; the webhook is made at start
    const sw::AlertsConfig &la = a.alerts, &lb = b.alerts;
    cmp("alerts.rate_increase_percent", la.rate_increase_percent, lb.rate_increase_percent, kLive);
    cmp("alerts.negative_margin", la.negative_margin, lb.negative_margin, kLive);
    cmp("alerts.gateway_down", la.gateway_down, lb.gateway_down, kLive);
    cmp("alerts.balance_below", la.balance_below, lb.balance_below, kLive);
    cmp("alerts.asr_below_percent", la.asr_below_percent, lb.asr_below_percent, kLive);
    cmp("alerts.asr_min_calls", la.asr_min_calls, lb.asr_min_calls, kLive);
    cmp("alerts.asr_window", la.asr_window, lb.asr_window, kLive);
    cmp("alerts.event_ttl", la.event_ttl, lb.event_ttl, kLive);
    cmp("alerts.webhook", a.alert_webhook, b.alert_webhook, kRestart);
    cmp("log.format", a.log.format, b.log.format, kLive);
    cmp("log.level", a.log.level, b.log.level, kLive);
    return out;
}

bool reload_settings(const Flags& flags, ServerConfig& live, ReloadTargets t) {
    ServerConfig next;
    std::string err;
    if (!load_config(flags, next, &err)) {
        log_line(fmt::format("reload: {}: nothing changed", err));
        return false;
    }
    const auto changes = setting_changes(live, next);
    std::size_t applied = 0;
    for (const SettingChange& c : changes) {
        log_line(c.live ? fmt::format("reload: {} changed (applied)", c.key)
                        : fmt::format("reload: {} changed: needs a restart", c.key));
        applied += c.live ? 1 : 0;
    }
    // the live keys only: the rest keeps describing what runs
    live.registrar.min_expires = next.registrar.min_expires;
    live.registrar.max_expires = next.registrar.max_expires;
    live.registrar.default_expires = next.registrar.default_expires;
    live.registrar.register_replace = next.registrar.register_replace;
    live.registrar.suspend_drop = next.registrar.suspend_drop;
    live.registrar.register_retry = next.registrar.register_retry;
    live.registrar.register_suspend = next.registrar.register_suspend;
    live.registrar.failure_window = next.registrar.failure_window;
    live.registrar.trust_window = next.registrar.trust_window;
    live.unregister_wait = next.unregister_wait;
    live.drain_calls = next.drain_calls;
    live.retry_after = next.retry_after;
    live.alerts = next.alerts;
    live.log = next.log;
    set_log_settings(live.log);
    t.sw.registrations().registrar().set_live_config(live.registrar);
    t.sw.alerts().set_config(live.alerts);
    t.shutdown.set_bounds({live.unregister_wait, live.drain_calls});
    log_line(fmt::format("reload: {} applied, {} need a restart", applied,
                         changes.size() - applied));
    return true;
}

}  // namespace wiring

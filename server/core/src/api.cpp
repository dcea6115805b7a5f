#include "sw/api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "api_common.hpp"
#include "sw/commands.hpp"
#include "sw/console.hpp"
#include "sw/switch.hpp"

namespace sw::api {

std::string_view to_string(Scope s) noexcept {
    return s == Scope::admin ? "admin" : "read";
}

std::optional<Scope> parse_scope(std::string_view s) noexcept {
    if (s == "read") return Scope::read;
    if (s == "admin") return Scope::admin;
    return std::nullopt;
}

using namespace detail;

namespace {

// RFC 6750 §2.1: "Bearer" (case-insensitive, RFC 7235 §2.1) then the token.
std::string_view bearer_token(std::string_view h) {
    while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
    constexpr std::string_view kScheme = "bearer";
    if (h.size() <= kScheme.size()) return {};
    for (std::size_t i = 0; i < kScheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(h[i])) != kScheme[i]) return {};
    h.remove_prefix(kScheme.size());
    if (h.front() != ' ' && h.front() != '\t') return {};
    while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
    while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
    return h;
}

// A POST that only computes an answer from its body and changes nothing (the reconciliation
// of a vendor's CDR file): a read token may send it.
bool computes_only(const Request& rq) {
    return rq.method == "POST" && rq.path == "/api/reconcile";
}

Response unauthorized(std::string_view message, bool invalid) {
    Response r = error(401, message);
    r.headers.emplace_back("WWW-Authenticate", invalid
                                                   ? "Bearer realm=\"trunkline\", error=\"invalid_token\""
                                                   : "Bearer realm=\"trunkline\"");
    return r;
}


void call_json(JsonWriter& w, const CallInfo& c, const std::function<std::int64_t(sip::Instant)>& wall) {
    w.begin_object()
        .field("id", c.id)
        .field("customer", c.customer)
        .field("vendor_gateway", c.vendor_gateway)
        .field("caller", c.caller)
        .field("callee", c.callee)
        .field("state", c.state)
        .field("setup_ms", wall(c.setup));
    w.key("answer_ms");
    if (c.answer)
        w.value(wall(*c.answer));
    else
        w.null();
    w.field("call_id_in", c.call_id_in).field("call_id_out", c.call_id_out).end_object();
}

}  // namespace

std::string_view suspension_kind(const route::reg::Suspension& s) noexcept {
    using K = route::reg::Suspension::Kind;
    switch (s.kind) {
        case K::User: return "user";
        case K::Address: return "address";
        case K::UserAtAddress: return "user_at_address";
    }
    return "user";
}

Api::Api(Switch& sw, const sip::auth::Hasher& hasher, ApiConfig cfg)
    : sw_(sw), hasher_(hasher), cfg_(cfg) {}

void Api::set_tokens(std::vector<Token> tokens) {
    tokens_.clear();
    for (Token& t : tokens) {
        std::string key = t.sha256_hex;
        for (char& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        tokens_.insert_or_assign(std::move(key), std::move(t));
    }
}

std::optional<std::string> Api::poll_log() {
    if (logs_.empty()) return std::nullopt;
    std::string l = std::move(logs_.front());
    logs_.pop_front();
    return l;
}

Response Api::handle(const Request& rq, sip::Instant now, std::int64_t wall_ms) {
    const bool is_api = rq.path == "/api" || rq.path.starts_with("/api/");
    const bool is_metrics = rq.path == "/metrics";
    if (!is_api && !is_metrics) {
        // the console's files carry no data: no token, and no failed-login count either
        if (auto r = console::serve(rq)) return std::move(*r);
        return error(404, "no such resource");
    }
    const bool need_token = is_api || !rq.loopback || cfg_.metrics_token_on_loopback;
    Ctx c{rq, now, wall_ms};
    if (auto r = refuse(rq, need_token, now, &c.who)) return std::move(*r);
    return route(c);
}

// nullopt: the request may go on (*who: its token, when one was needed).
std::optional<Response> Api::refuse(const Request& rq, bool need_token, sip::Instant now,
                                    const Token** who) {
    if (!need_token) return std::nullopt;
    const std::string& source = rq.source_key.empty() ? rq.source : rq.source_key;
    if (auto s = sources_.find(source); s != sources_.end() && s->second.blocked_until) {
        if (now < *s->second.blocked_until) {
            Response r = error(429, "too many failed logins from this address");
            const auto left = std::chrono::ceil<std::chrono::seconds>(*s->second.blocked_until - now);
            r.headers.emplace_back("Retry-After", std::to_string(left.count()));
            return r;
        }
        sources_.erase(s);  // the episode is over
    }
    const std::string_view secret = bearer_token(rq.authorization);
    if (secret.empty()) return unauthorized("an Authorization: Bearer token is required", false);
    // Known by its hash: a lookup by the secret's SHA-256 reveals nothing about the secrets.
    const auto hash = hasher_.digest_hex(sip::auth::Hash::SHA256, {secret});
    if (!hash) return error(500, "SHA-256 is not available");
    auto t = tokens_.find(*hash);
    if (t == tokens_.end()) {
        note_failure(source, now);
        return unauthorized("unknown token", true);
    }
    if (!reads(rq.method) && !computes_only(rq) && t->second.scope != Scope::admin)
        return error(403, fmt::format("token '{}' has read scope; this needs admin", t->second.name));
    *who = &t->second;
    return std::nullopt;
}

void Api::note_failure(const std::string& source, sip::Instant now) {
    auto it = sources_.find(source);
    if (it == sources_.end()) {
        if (sources_.size() >= cfg_.max_sources) {
            // make room: an address that is not refused now, among the first few
            auto victim = sources_.begin();
            for (auto i = sources_.begin(); i != sources_.end() && std::distance(sources_.begin(), i) < 16; ++i)
                if (!i->second.blocked_until) {
                    victim = i;
                    break;
                }
            sources_.erase(victim);
        }
        it = sources_.emplace(source, Source{now, 0, std::nullopt}).first;
    }
    Source& s = it->second;
    if (now - s.window_start >= cfg_.failure_window) {
        s.window_start = now;
        s.failures = 0;
    }
    if (++s.failures < cfg_.max_failures) return;
    s.blocked_until = now + cfg_.block;
    logs_.push_back(fmt::format(
        "api: {} failed logins from {} within {} s: its requests are refused for {} s",
        s.failures, source, std::chrono::duration_cast<std::chrono::seconds>(cfg_.failure_window).count(),
        std::chrono::duration_cast<std::chrono::seconds>(cfg_.block).count()));
}

Response Api::route(Ctx& c) {
    const std::string_view m = c.rq.method;
    if (c.rq.path == "/metrics") return reads(m) ? metrics(c) : not_allowed("GET, HEAD");
    std::string_view rest = c.rq.path.substr(std::min<std::size_t>(c.rq.path.size(), 5));
    const std::size_t slash = rest.find('/');
    const std::string_view head = rest.substr(0, slash);
    const std::optional<std::string_view> id =
        slash == std::string_view::npos ? std::nullopt : std::optional(rest.substr(slash + 1));
    if (head == "accounts" && id) {  // /api/accounts/{id}[/topup]
        const std::size_t action = id->find('/');
        if (action != std::string_view::npos)
            return accounts(c, id->substr(0, action), id->substr(action + 1));
    }
    if (head == "accounts") return accounts(c, id, {});
    if (head == "gateways" && id) return gateway_config(c, *id);  // customers|vendors[/{name}]
    if (head == "domains") return domains(c, id);    // [/{name}[/resolve]]
    if (head == "carriers") return carriers(c, id);  // [/{name}[/register]]
    if (head == "traces") return traces(c, id);  // [/{id}[/pcap]]
    if (head == "rate-groups") return rate_groups(c, id);  // [/{group}/deck|autocreate]
    if (head == "rates" && !id) return rates(c);
    if (id && (id->empty() || id->find('/') != std::string_view::npos))
        return error(404, "no such resource");
    if (head == "users") return users(c, id);
    if (head == "groups") return groups(c, id);
    if (head == "bindings" && !id)
        return reads(m) ? bindings(c) : m == "DELETE" ? unbind(c) : not_allowed("GET, HEAD, DELETE");
    if (head == "routes" && id == "explain") return reads(m) ? explain_route(c) : not_allowed("GET, HEAD");
    if (head == "openapi.json" && !id) {
        if (!reads(m)) return not_allowed("GET, HEAD");
        Response r = json(200, std::string(kOpenApiJson));
        return r;
    }
    if (head == "cdrs" && !id) return reads(m) ? cdrs(c) : not_allowed("GET, HEAD");
    if (head == "reports") return reports(c, id);
    if (head == "reconcile" && !id) return reconcile(c);
    if (head == "alerts") return alerts(c, id);
    if (head == "billing" && id == "settings") return billing_settings(c);
    if (head == "stats" && id == "history") return reads(m) ? stats_history(c) : not_allowed("GET, HEAD");
    if (head == "calls" && !id) return reads(m) ? calls(c) : not_allowed("GET, HEAD");
    if (head == "calls") return reads(m) || m == "DELETE" ? call(c, *id) : not_allowed("GET, HEAD, DELETE");
    if (head == "gateways" && !id) return reads(m) ? gateways(c) : not_allowed("GET, HEAD");
    if (head == "suspensions" && !id) return reads(m) ? suspensions(c) : not_allowed("GET, HEAD");
    if (head == "suspensions") return m == "DELETE" ? lift(c, *id) : not_allowed("DELETE");
    return error(404, "no such resource");
}

Response Api::calls(Ctx& c) {
    if (auto bad = unknown_param(c.rq, {"limit"})) return std::move(*bad);
    std::size_t limit = 100'000;
    for (const auto& [name, value] : c.rq.query) {
        const auto n = parse_call_id(value);  // decimal digits
        if (!n || *n < 1 || *n > 100'000) return error(400, "limit must be 1..100000", "limit");
        limit = static_cast<std::size_t>(*n);
    }
    std::vector<CallInfo> list = sw_.calls().list();
    std::sort(list.begin(), list.end(), [](const CallInfo& a, const CallInfo& b) { return a.id < b.id; });
    auto wall = [&](sip::Instant t) { return c.wall(t); };
    JsonWriter w;
    w.begin_object().field("count", static_cast<std::uint64_t>(list.size())).key("calls").begin_array();
    for (std::size_t i = 0; i < list.size() && i < limit; ++i) call_json(w, list[i], wall);
    w.end_array().end_object();
    return json(200, w.take());
}

Response Api::call(Ctx& c, std::string_view id_text) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    const auto id = parse_call_id(id_text);
    if (!id) return error(400, "a call id is a decimal number", "id");
    if (c.rq.method == "DELETE") {
        if (!hangup_call(sw_, *id, c.now)) return error(404, "no such call", "id");
        logs_.push_back(fmt::format("api: {} hung up call {}", c.who_name(), *id));
        JsonWriter w;
        w.begin_object().field("id", *id).field("hung_up", true).end_object();
        Response r = json(200, w.take());
        r.switch_changed = true;
        return r;
    }
    for (const CallInfo& info : sw_.calls().list()) {
        if (info.id != *id) continue;
        JsonWriter w;
        call_json(w, info, [&](sip::Instant t) { return c.wall(t); });
        return json(200, w.take());
    }
    return error(404, "no such call", "id");
}

Response Api::suspensions(Ctx& c) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    JsonWriter w;
    w.begin_object().key("suspensions").begin_array();
    for (const auto& s : sw_.registrations().registrar().list_suspensions(c.now)) {
        w.begin_object()
            .field("key", s.key)
            .field("kind", suspension_kind(s))
            .field("until_ms", c.wall(s.until))
            .field("peer", s.peer)
            .end_object();
    }
    w.end_array().end_object();
    return json(200, w.take());
}

Response Api::lift(Ctx& c, std::string_view key) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    const std::size_t n = sw_.registrations().lift(key, c.now);
    if (n == 0) return error(404, "no such suspension", "key");
    logs_.push_back(fmt::format("api: {} lifted {} suspension(s) of {}", c.who_name(), n, key));
    JsonWriter w;
    w.begin_object().field("key", key).field("lifted", static_cast<std::uint64_t>(n)).end_object();
    Response r = json(200, w.take());
    r.switch_changed = true;  // the cleared suspension goes to the store with the next drain
    return r;
}

Response Api::gateways(Ctx& c) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    JsonWriter w;
    w.begin_object().key("customers").begin_array();
    const route::lcr::Customers& cs = sw_.customers();
    for (route::lcr::CustomerId id : cs.customers()) {
        const route::lcr::CustomerSpec* s = cs.spec(id);
        if (!s) continue;
        const route::lcr::CustomerState st = cs.state(id);
        w.begin_object()
            .field("name", s->name)
            .field("account", s->account)
            .field("auth", route::lcr::to_string(s->auth))
            .key("ips")
            .strings(s->ips)
            .field("enabled", s->enabled)
            .field("line_limit", s->line_limit)
            .field("cps_limit", s->cps_limit)
            .field("current_calls", st.current_calls)
            .field("total_calls", st.total_calls)
            .field("refused", st.refused)
            .end_object();
    }
    w.end_array().key("vendors").begin_array();
    const route::lcr::Router& router = sw_.router();
    for (route::lcr::GatewayId id : router.gateways()) {
        const route::lcr::GatewaySpec* s = router.spec(id);
        if (!s) continue;
        const route::lcr::GatewayState st = router.state(id);
        w.begin_object()
            .field("name", s->name)
            .key("prefixes")
            .strings(s->prefixes)
            .field("priority", s->priority)
            .field("group", s->group)
            .field("line_limit", s->line_limit)
            .field("cps_limit", s->cps_limit)
            .field("protect", s->protect)
            .field("enabled", s->enabled)
            .field("current_calls", st.current_calls)
            .field("total_calls", st.total_calls)
            .field("answered_calls", st.answered_calls)
            .field("down", st.down)
            .field("down_reason", st.down_reason)
            .key("down_since_ms");
        if (st.down_since)
            w.value(c.wall(sip::Instant{} + std::chrono::duration_cast<sip::Duration>(*st.down_since)));
        else
            w.null();
        w.key("last_failure");  // kept after it came back up
        if (st.last_failure_at)
            w.begin_object()
                .field("at_ms", c.wall(sip::Instant{} + std::chrono::duration_cast<sip::Duration>(*st.last_failure_at)))
                .field("reason", st.last_failure_reason)
                .end_object();
        else
            w.null();
        w.end_object();
    }
    w.end_array().end_object();
    return json(200, w.take());
}

Response Api::metrics(Ctx& c) {
    ProcessMetrics p = process_ ? process_() : ProcessMetrics{};
    p.api_tokens = tokens_.size();
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = render_metrics(sw_, p, c.now);
    return r;
}

}  // namespace sw::api

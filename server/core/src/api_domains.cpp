// /api/domains: operators' domain entries (`trunkctl domain`) written through sw::api::Data,
// each shown with the running domain cache's live status through sw::api::Live (addresses in
// use, TTL left, fresh/stale/failing, last error, since when), and "resolve now". See api.hpp
// "Domain entries".
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "api_common.hpp"
#include "json_reader.hpp"
#include "route/domain/dns_message.hpp"
#include "sw/api_live.hpp"
#include "sw/form_text.hpp"

namespace sw::api {

using namespace detail;
namespace dom = route::domain;

namespace {

constexpr std::int64_t kMaxTtl = 7 * 86400;  // trunkctl domain add --ttl 0..604800

Response store_error(const billing::Error& e) {
    if (e.code == billing::ErrorCode::db_locked)
        return error(503, "the database is busy: " + e.message);
    return error(500, e.message);
}

std::string_view live_state(const dom::EntryStatus& s) {
    switch (s.state) {
        case dom::EntryState::Ok: return "fresh";
        case dom::EntryState::Stale: return "stale";
        case dom::EntryState::Failed: return "failing";
        case dom::EntryState::Unresolved: break;
    }
    return s.resolving ? "resolving" : "unresolved";
}

template <class Wall>
void live_json(JsonWriter& w, const std::optional<dom::EntryStatus>& st, const Wall& wall) {
    w.key("live");
    if (!st) {
        w.null();
        return;
    }
    auto when = [&](std::string_view k, const std::optional<sip::Instant>& t) {
        w.key(k);
        if (t)
            w.value(wall(*t));
        else
            w.null();
    };
    std::vector<std::string> addresses;
    for (const dom::Target& t : st->targets) addresses.push_back(dom::to_string(t));
    const bool trouble = st->state == dom::EntryState::Stale || st->state == dom::EntryState::Failed;
    w.begin_object()
        .field("key", st->key)
        .field("state", live_state(*st))
        .key("addresses")
        .strings(addresses)
        .field("ttl_left_s",
               static_cast<std::int64_t>(
                   std::chrono::duration_cast<std::chrono::seconds>(st->ttl_left).count()))
        .field("resolving", st->resolving);
    // since: failing (stale or failed) since then; fresh: the addresses in use since then
    when("since_ms", trouble ? st->failing_since : st->changed_at);
    w.key("last_error");
    if (st->last_error != dom::ErrorKind::None) {
        std::string e(dom::error_kind_name(st->last_error));
        if (!st->last_error_detail.empty()) e += " (" + st->last_error_detail + ")";
        w.value(e);
    } else {
        w.null();
    }
    when("last_error_ms", st->last_error_at);
    when("last_resolved_ms", st->last_resolved_at);
    when("next_refresh_ms", st->next_refresh);
    when("stale_until_ms", st->stale_until);
    w.field("change_reason", st->change_reason);
    w.end_object();
}

// One member of a domain body as the spec's field; nullopt: fine.
std::optional<Response> apply_member(const std::string& name, const JsonValue& v,
                                     dom::EntrySpec& e) {
    using K = JsonValue::Kind;
    auto whole = [&](std::int64_t lo, std::int64_t hi) -> std::optional<std::int64_t> {
        if (v.kind != K::number || v.text.empty() || v.text.size() > 9 ||
            !std::all_of(v.text.begin(), v.text.end(),
                         [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); }))
            return std::nullopt;
        const std::int64_t n = std::stoll(v.text);
        if (n < lo || n > hi) return std::nullopt;
        return n;
    };
    if (name == "ttl") {
        if (v.kind == K::null) return e.ttl_override.reset(), std::nullopt;
        auto n = whole(0, kMaxTtl);
        if (!n) return error(422, "ttl needs seconds (0..604800) or null", "ttl");
        e.ttl_override = std::chrono::seconds(*n);
        return std::nullopt;
    }
    if (name == "port") {
        if (v.kind == K::null) return e.port.reset(), std::nullopt;
        auto n = whole(1, 65535);
        if (!n) return error(422, "port needs 1..65535 or null", "port");
        e.port = static_cast<std::uint16_t>(*n);
        return std::nullopt;
    }
    if (name == "transport") {
        if (v.kind == K::null) return e.transport.reset(), std::nullopt;
        auto t = form::parse_transport(v.kind == K::string ? v.text : std::string());
        if (!t) return error(422, "transport is udp, tcp, tls or null", "transport");
        e.transport = *t;
        return std::nullopt;
    }
    if (name == "live" || name == "key" || name == "entry" || name == "version")
        return std::nullopt;  // GET's own
    return error(422, "unknown member", name);
}

// trunkctl domain add's rule: an IP literal, or letters, digits, '-', '_', dots between
// non-empty labels (the cache's own check).
bool valid_name(const std::string& name) {
    if (dom::IpAddress::parse(name)) return true;
    struct NoRandom final : sip::Random {
        std::uint64_t next_u64() override { return 0; }
    } rng;
    dom::DomainCache probe({}, rng);
    dom::EntrySpec spec;
    spec.name = name;
    return probe.add(spec, sip::Instant{});
}

std::optional<std::string_view> transport_json(const std::optional<sip::Transport>& t) {
    if (!t) return std::nullopt;
    switch (*t) {
        case sip::Transport::Tcp: return "tcp";
        case sip::Transport::Tls: return "tls";
        default: return "udp";
    }
}

struct Env {
    Data& data;
    Live* live;
    const Request& rq;
    sip::Instant now;
    std::int64_t wall_ms;
    std::string who;
    std::deque<std::string>& logs;

    std::int64_t wall(sip::Instant t) const {
        return wall_ms + std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count();
    }
    std::optional<dom::EntryStatus> status(std::string_view key) const {
        return live ? live->domain_status(key, now) : std::nullopt;
    }
};

// `version`: the stored entry's (none for a key the running cache holds without an entry).
void entry_json(JsonWriter& w, const Env& e, const std::string& name,
                const std::optional<dom::EntrySpec>& spec, const std::optional<dom::EntryStatus>& st,
                std::optional<std::int64_t> version) {
    w.begin_object().field("name", name).field("entry", spec.has_value());
    w.key("ttl");
    if (spec && spec->ttl_override)
        w.value(static_cast<std::int64_t>(
            std::chrono::duration_cast<std::chrono::seconds>(*spec->ttl_override).count()));
    else
        w.null();
    w.key("port");
    if (spec && spec->port)
        w.value(static_cast<std::uint32_t>(*spec->port));
    else
        w.null();
    w.field("transport", spec ? transport_json(spec->transport) : std::nullopt);
    live_json(w, st, [&](sip::Instant t) { return e.wall(t); });
    if (version) w.field("version", *version);
    w.end_object();
}

// A stored entry with its ETag.
Response answer(int status, const Env& e, const DomainRecord& r) {
    JsonWriter w;
    entry_json(w, e, r.spec.name, r.spec, e.status(dom::entry_key(r.spec)), r.version);
    Response out = json(status, w.take());
    out.headers.emplace_back("ETag", etag(r.version));
    return out;
}

Response list(Env& e) {
    auto rows = e.data.domains();
    if (!rows) return store_error(rows.error());
    JsonWriter w;
    w.begin_object().field("live", e.live != nullptr).key("domains").begin_array();
    for (const DomainRecord& r : *rows)
        entry_json(w, e, r.spec.name, r.spec, e.status(dom::entry_key(r.spec)), r.version);
    w.end_array().end_object();
    return json(200, w.take());
}

// An entry of the file, or a name the running cache holds without one (a carrier's learned
// entry, "carrier.test:5080"): shown with "entry": false.
Response show(Env& e, const std::string& name) {
    auto r = e.data.domain(name);
    if (!r) return store_error(r.error());
    if (*r) return answer(200, e, **r);
    if (auto st = e.status(name)) {
        JsonWriter w;
        entry_json(w, e, name, std::nullopt, st, std::nullopt);
        return json(200, w.take());
    }
    return error(404, fmt::format("no domain entry {}", name), "name");
}

// The body's members on `spec`; whether one of them is a field of the entry (not a read-only
// member of GET's answer).
std::optional<Response> apply_body(const JsonMembers& m, const std::string& name,
                                   dom::EntrySpec& spec, bool& changes) {
    for (const auto& [member, v] : m) {
        if (member == "name") {
            if (v.kind != JsonValue::Kind::string || dom::normalize_name(v.text) != name)
                return error(422, "name must be the name in the path", "name");
            continue;
        }
        if (auto bad = apply_member(member, v, spec)) return std::move(*bad);
        changes = changes || member == "ttl" || member == "port" || member == "transport";
    }
    return std::nullopt;
}

// POST (create: the name must be new) and PATCH (the given members on the stored entry,
// written only over the version read: If-Match, when given, must name it, and a write in
// between, trunkctl's too, makes it 409, checked inside the store's write transaction).
Response save(Env& e, const std::string& name, bool create) {
    JsonMembers m;
    if (auto r = read_object(e.rq, m)) return *r;
    dom::EntrySpec spec;
    spec.name = name;
    std::string old_key;  // PATCH: the running cache's key before the change
    Precondition p{Precondition::Row::absent, {}};
    if (!create) {
        auto cur = e.data.domain(name);
        if (!cur) return store_error(cur.error());
        if (!*cur) return error(404, fmt::format("no domain entry {}", name), "name");
        const Precondition asked = if_match(e.rq.if_match, Precondition::Row::present);
        if (auto bad = stale(asked, (*cur)->version, "domain entry")) return std::move(*bad);
        spec = (*cur)->spec;
        old_key = dom::entry_key(spec);
        p = Precondition{Precondition::Row::present, {(*cur)->version}};
    }
    bool changes = false;
    if (auto bad = apply_body(m, name, spec, changes)) return std::move(*bad);
    if (!create && !changes) return show(e, name);  // nothing to change: no write
    auto w = e.data.put_domain(spec, p);
    if (!w) return store_error(w.error());
    if (*w != Written::done) return not_written(*w, "domain entry", name);
    e.logs.push_back(fmt::format("api: {} {} domain entry {}", e.who, create ? "added" : "changed",
                                 name));
    if (e.live) {
        // a new port or transport is another cache entry: the old one goes
        if (!old_key.empty() && old_key != dom::entry_key(spec)) e.live->domain_removed(old_key, e.now);
        e.live->domain_put(spec, e.now);
    }
    auto stored = e.data.domain(name);  // its new version
    if (!stored) return store_error(stored.error());
    if (!*stored) return error(404, fmt::format("no domain entry {}", name), "name");  // removed since
    Response out = answer(create ? 201 : 200, e, **stored);
    if (create) out.headers.emplace_back("Location", "/api/domains/" + name);
    return out;
}

// If-Match, when given, is checked inside the store's delete transaction.
Response erase(Env& e, const std::string& name) {
    auto cur = e.data.domain(name);
    if (!cur) return store_error(cur.error());
    if (!*cur) return error(404, fmt::format("no domain entry {}", name), "name");
    auto w = e.data.remove_domain(name, if_match(e.rq.if_match, Precondition::Row::present));
    if (!w) return store_error(w.error());
    if (*w != Written::done) return not_written(*w, "domain entry", name);
    e.logs.push_back(fmt::format("api: {} removed domain entry {}", e.who, name));
    if (e.live) e.live->domain_removed(dom::entry_key((*cur)->spec), e.now);
    JsonWriter out;
    out.begin_object().field("name", name).field("removed", true).end_object();
    return json(200, out.take());
}

// "Resolve now": the running cache re-queries at once; 202 with the state as it is now (the
// answer comes in within the resolver's timeout: GET the entry for it).
Response resolve(Env& e, const std::string& name) {
    if (!e.live) return error(503, "the running domain cache is not available");
    auto cur = e.data.domain(name);
    if (!cur) return store_error(cur.error());
    const std::string key = *cur ? dom::entry_key((*cur)->spec) : name;
    if (!*cur && !e.live->domain_status(key, e.now))
        return error(404, fmt::format("no domain entry {}", name), "name");
    if (*cur && !e.live->domain_status(key, e.now)) e.live->domain_put((*cur)->spec, e.now);
    if (!e.live->resolve_now(key, e.now))
        return error(503, fmt::format("{} cannot be resolved now: no DNS resolver", name));
    e.logs.push_back(fmt::format("api: {} asked to resolve domain {} now", e.who, name));
    JsonWriter w;
    if (*cur)
        entry_json(w, e, name, (*cur)->spec, e.status(key), (*cur)->version);
    else
        entry_json(w, e, name, std::nullopt, e.status(key), std::nullopt);
    return json(202, w.take());
}

}  // namespace

// /api/domains[/{name}[/resolve]]
Response Api::domains(Ctx& c, const std::optional<std::string_view>& rest) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    if (!data_) return error(503, "the domain entry store is not available");
    Env e{*data_, live_, c.rq, c.now, c.wall_ms, c.who_name(), logs_};
    const std::string_view m = c.rq.method;
    if (!rest) {
        if (reads(m)) return list(e);
        if (m != "POST") return not_allowed("GET, HEAD, POST");
        JsonMembers body;
        if (auto r = read_object(c.rq, body)) return *r;
        const JsonValue* name = nullptr;
        if (auto r = required_name(body, name)) return *r;
        const std::string n = dom::normalize_name(name->text);
        if (!valid_name(n))
            return error(422, fmt::format("'{}' is not a host name or IP address", name->text),
                         "name");
        return save(e, n, true);
    }
    const std::size_t slash = rest->find('/');
    const std::string name = dom::normalize_name(rest->substr(0, slash));
    if (name.empty()) return error(404, "no such resource");
    if (slash != std::string_view::npos) {
        if (rest->substr(slash + 1) != "resolve") return error(404, "no such resource");
        return m == "POST" ? resolve(e, name) : not_allowed("POST");
    }
    if (reads(m)) return show(e, name);
    if (m == "PATCH") return save(e, name, false);
    if (m == "DELETE") return erase(e, name);
    return not_allowed("GET, HEAD, PATCH, DELETE");
}

}  // namespace sw::api

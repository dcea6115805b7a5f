// /api/carriers: carrier registration entries (`trunkctl trunk-reg`) written through
// sw::api::Data and checked by trunkctl's own code (sw/trunk_form.hpp), each shown with the
// running switch's live state (sw::Registrations: registered / failed / retrying, expiry, last
// response, next attempt, failures, the registrar address and its DNS view), and "register
// now". The password is accepted and never returned or logged. See api.hpp "Carriers".
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "api_common.hpp"
#include "json_reader.hpp"
#include "sw/api_live.hpp"
#include "sw/switch.hpp"
#include "sw/trunk_form.hpp"

namespace sw::api {

using namespace detail;
using route::reg::TrunkReg;

namespace {

enum class Type : std::uint8_t { text, port, seconds, expires, choice, on_off, enabled, secret };

struct Field {
    std::string_view json;  // "retry_delay_s"
    const char* option;     // "--retry-delay"
    Type type;
};

const Field kFields[] = {
    {"server", "--server", Type::text},
    {"port", "--port", Type::port},
    {"transport", "--transport", Type::choice},
    {"outbound_proxy", "--outbound-proxy", Type::text},
    {"user", "--user", Type::text},
    {"domain", "--domain", Type::text},
    {"auth_user", "--auth-user", Type::text},
    {"password", "--password", Type::secret},
    {"contact_host", "--contact-host", Type::text},
    {"contact_port", "--contact-port", Type::port},
    {"expires_s", "--expires", Type::expires},
    {"retry_delay_s", "--retry-delay", Type::seconds},
    {"privacy", "--privacy", Type::choice},
    {"send_unregister", "--send-unregister", Type::on_off},
    {"enabled", "--enabled", Type::enabled},
};

// GET's own members: ignored in a body, so a GET's body can be sent back.
constexpr std::string_view kShown[] = {"live", "password_set", "version"};

const Field* field_of_option(std::string_view option) {
    if (option == "--disabled") option = "--enabled";
    for (const Field& f : kFields)
        if (f.option == option) return &f;
    return nullptr;
}

Response store_error(const billing::Error& e) {
    if (e.code == billing::ErrorCode::db_locked)
        return error(503, "the database is busy: " + e.message);
    return error(500, e.message);
}

// trunkctl's message with every option ("--retry-delay") replaced by its JSON field.
std::string field_message(const std::string& message) {
    std::string out;
    for (std::size_t i = 0; i < message.size();) {
        if (message.compare(i, 2, "--") == 0) {
            std::size_t end = i + 2;
            while (end < message.size() &&
                   (std::islower(static_cast<unsigned char>(message[end])) || message[end] == '-'))
                ++end;
            if (const Field* f = field_of_option(std::string_view(message).substr(i, end - i))) {
                out += f->json;
                i = end;
                continue;
            }
        }
        out += message[i++];
    }
    return out;
}

Response refused(const sw::trunk_form::Error& e) {
    const Field* f = field_of_option(e.option);
    return error(422, field_message(e.message), f ? f->json : std::string_view("name"));
}

std::optional<Response> wrong_type(const Field& f, const JsonValue& v, std::string_view want) {
    return error(422, fmt::format("{} must be {}, not {}", f.json, want, to_string(v.kind)),
                 f.json);
}

// One member as the option trunkctl would be given (null: "default", trunkline's default).
std::optional<Response> put_value(const Field& f, const JsonValue& v,
                                  sw::gateway_form::MapValues& out) {
    using K = JsonValue::Kind;
    if (v.kind == K::null && f.type != Type::enabled && f.type != Type::secret) {
        if (f.json == "server" || f.json == "user")
            return error(422, fmt::format("{} is required", f.json), f.json);
        out.set(f.option, "default");
        return std::nullopt;
    }
    switch (f.type) {
        case Type::text:
        case Type::choice:
            if (v.kind != K::string) return wrong_type(f, v, "a string or null");
            out.set(f.option, v.text);
            break;
        case Type::port:
            if (v.kind != K::number) return wrong_type(f, v, "a port number or null");
            out.set(f.option, v.text == "0" ? "default" : v.text);
            break;
        case Type::seconds:
            if (v.kind != K::number) return wrong_type(f, v, "seconds or null");
            out.set(f.option, v.text);
            break;
        case Type::expires:
            if (v.kind == K::string && v.text == "auto") {
                out.set(f.option, "auto");
                break;
            }
            if (v.kind != K::number) return wrong_type(f, v, "seconds, \"auto\" or null");
            out.set(f.option, v.text);
            break;
        case Type::on_off:
            if (v.kind != K::boolean) return wrong_type(f, v, "true, false or null");
            out.set(f.option, v.text == "true" ? "on" : "off");
            break;
        case Type::enabled:
            if (v.kind != K::boolean) return wrong_type(f, v, "true or false");
            out.set(v.text == "true" ? "--enabled" : "--disabled", "");
            break;
        case Type::secret:
            if (v.kind != K::string) return wrong_type(f, v, "a string");
            if (v.text.empty()) return error(422, "password: the password is empty", "password");
            if (v.text.find('\n') != std::string::npos || v.text.find('\r') != std::string::npos ||
                v.text.find('\0') != std::string::npos)
                return error(422, "the password must be one line", "password");
            break;  // not an option of the form: the caller stores it
    }
    return std::nullopt;
}

struct Body {
    sw::gateway_form::MapValues values;
    std::optional<std::string> password;
};

// The body as the form's values; `name` (when given) must be the one in the path.
std::optional<Response> read_body(const Request& rq, const std::string* name, Body& out,
                                  std::string* body_name) {
    JsonMembers m;
    if (auto r = read_object(rq, m)) return *r;
    for (const auto& [member, v] : m) {
        if (member == "name") {
            if (v.kind != JsonValue::Kind::string) return error(422, "name must be a string", "name");
            if (name && v.text != *name) return error(422, "name must be the name in the path", "name");
            if (body_name) *body_name = v.text;
            continue;
        }
        if (std::find(std::begin(kShown), std::end(kShown), member) != std::end(kShown)) continue;
        auto f = std::find_if(std::begin(kFields), std::end(kFields),
                              [&](const Field& x) { return member == x.json; });
        if (f == std::end(kFields)) return error(422, "unknown member", member);
        if (auto bad = put_value(*f, v, out.values)) return bad;
        if (f->type == Type::secret) out.password = v.text;
    }
    return std::nullopt;
}

std::string target_text(const sip::Target& t) {
    if (t.host.empty()) return {};
    const bool v6 = t.host.find(':') != std::string::npos;
    return fmt::format("{}{}{}:{}/{}", v6 ? "[" : "", t.host, v6 ? "]" : "", t.port,
                       sip::transport_name(t.transport));
}

std::string transport_lower(sip::Transport t) {
    std::string s(sip::transport_name(t));
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

std::optional<std::string_view> privacy_json(const std::optional<route::reg::Privacy>& p) {
    if (!p) return std::nullopt;
    switch (*p) {
        case route::reg::Privacy::id: return "id";
        case route::reg::Privacy::none: return "none";
        default: return "ignore";
    }
}

std::optional<std::string> text_or_null(const std::string& v) {
    if (v.empty()) return std::nullopt;
    return v;
}

}  // namespace

// The configuration without the password, the running switch's live state and the version.
void Api::carrier_json(JsonWriter& w, Ctx& c, const CarrierRecord& rec) {
    const TrunkReg& r = rec.reg;
    auto port = [&](std::string_view k, std::uint16_t p) {
        w.key(k);
        if (p)
            w.value(static_cast<std::uint32_t>(p));
        else
            w.null();
    };
    w.begin_object().field("name", r.name).field("server", r.server);
    port("port", r.port);
    w.field("transport", transport_lower(r.transport))
        .field("outbound_proxy", text_or_null(r.outbound_proxy))
        .field("user", r.aor_user)
        .field("domain", text_or_null(r.aor_domain))
        .field("auth_user", text_or_null(r.auth_user))
        .field("password_set", !r.password.empty())
        .field("contact_host", text_or_null(r.contact_host));
    port("contact_port", r.contact_port);
    w.key("expires_s");
    if (!r.expires_s)
        w.null();
    else if (*r.expires_s == 0)
        w.value("auto");
    else
        w.value(*r.expires_s);
    w.field("retry_delay_s", r.retry_delay_s)
        .field("privacy", privacy_json(r.privacy))
        .field("send_unregister", r.send_unregister)
        .field("enabled", r.enabled);
    carrier_live(w, c, r);
    w.field("version", rec.version).end_object();
}

// sw::Registrations' state of the entry ("live"), or why it has none.
void Api::carrier_live(JsonWriter& w, Ctx& c, const TrunkReg& r) {
    auto when = [&](std::string_view k, const std::optional<sip::Instant>& t) {
        w.key(k);
        if (t)
            w.value(c.wall(*t));
        else
            w.null();
    };
    Registrations& regs = sw_.registrations();
    const route::reg::Status* st = regs.status(r.name);
    w.key("live").begin_object();
    if (!st) {
        std::optional<std::string> why = live_ ? live_->carrier_waiting(r.name) : std::nullopt;
        w.field("state", r.enabled ? "not_running" : "disabled")
            .field("reason", r.enabled ? why.value_or("not started yet (the switch reloads "
                                                      "the entries within its poll)")
                                       : std::string("the entry is disabled"))
            .field("retrying", false)
            .key("expires_ms").null()
            .key("last_code").null()
            .field("last_reason", "")
            .key("next_attempt_ms").null()
            .field("consecutive_failures", std::uint32_t{0})
            .key("registrar").null()
            .key("dns").null()
            .end_object();
        return;
    }
    w.field("state", route::reg::state_name(st->state))
        .field("reason", st->reason)
        .field("retrying", st->state == route::reg::State::failed && st->next_attempt.has_value());
    when("expires_ms", st->expires_at);
    w.key("last_code");
    if (st->last_code)
        w.value(static_cast<std::uint32_t>(st->last_code));
    else
        w.null();
    w.field("last_reason", st->last_reason_phrase);
    when("next_attempt_ms", st->next_attempt);
    w.field("consecutive_failures", st->consecutive_failures);
    const auto in_use = regs.registrar_in_use(r.name);
    w.field("registrar", in_use ? text_or_null(target_text(*in_use)) : std::nullopt);
    w.key("dns");
    const TrunkDnsState* d = regs.dns_state(r.name);
    if (!d || d->name.empty()) {
        w.null();
    } else {
        w.begin_object()
            .field("name", d->name)
            .field("state", d->state)
            .field("error", text_or_null(d->error));
        when("since_ms", d->since);
        when("until_ms", d->until);
        w.end_object();
    }
    w.end_object();
}

Response Api::carrier_answer(Ctx& c, int status, const CarrierRecord& r) {
    JsonWriter w;
    carrier_json(w, c, r);
    Response out = json(status, w.take());
    out.headers.emplace_back("ETag", etag(r.version));
    return out;
}

// POST /api/carriers (create) and PATCH /api/carriers/{name} (the given members, written
// only over the version read: If-Match, when given, must name it, and a write in between,
// trunkctl's too, makes it 409, checked inside the store's write transaction).
Response Api::save_carrier(Ctx& c, const std::string* path_name) {
    Body b;
    std::string name;
    if (auto bad = read_body(c.rq, path_name, b, &name)) return std::move(*bad);
    const bool create = path_name == nullptr;
    if (!create) name = *path_name;
    if (create && name.empty()) return error(422, "name is required", "name");
    if (auto bad = sw::trunk_form::check_name(name))
        return create ? error(422, *bad, "name")
                      : error(404, fmt::format("no carrier registration {}", name), "name");
    TrunkReg r;
    r.name = name;
    Precondition p{Precondition::Row::absent, {}};
    if (create) {
        if (!b.password) return error(422, "password is required", "password");
    } else {
        auto cur = data_->carrier(name);
        if (!cur) return store_error(cur.error());
        if (!*cur) return error(404, fmt::format("no carrier registration {}", name), "name");
        const Precondition asked = if_match(c.rq.if_match, Precondition::Row::present);
        if (auto bad = stale(asked, (*cur)->version, "carrier registration"))
            return std::move(*bad);
        if (b.values.empty() && !b.password) return carrier_answer(c, 200, **cur);  // no change
        r = (*cur)->reg;
        p = Precondition{Precondition::Row::present, {(*cur)->version}};
    }
    if (auto bad = sw::trunk_form::apply(b.values, r, create)) return refused(*bad);
    if (b.password) r.password = *b.password;
    auto w = data_->put_carrier(r, p);
    if (!w) return store_error(w.error());
    if (*w != Written::done) return not_written(*w, "carrier registration", name);
    // the password never: only that one was given
    logs_.push_back(fmt::format("api: {} {} carrier registration {}{}", c.who_name(),
                                create ? "added" : "changed", name,
                                b.password && !create ? " (new password)" : ""));
    auto stored = data_->carrier(name);  // its new version
    if (!stored) return store_error(stored.error());
    if (!*stored) return error(404, fmt::format("no carrier registration {}", name), "name");
    Response out = carrier_answer(c, create ? 201 : 200, **stored);
    out.tables_changed = true;  // the reloader sees trunk_reg move: the switch follows now
    if (create) out.headers.emplace_back("Location", "/api/carriers/" + name);
    return out;
}

// /api/carriers[/{name}[/register]]
Response Api::carriers(Ctx& c, const std::optional<std::string_view>& rest) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    if (!data_) return error(503, "the carrier registration store is not available");
    const std::string_view m = c.rq.method;
    if (!rest) {
        if (reads(m)) {
            auto rows = data_->carriers();
            if (!rows) return store_error(rows.error());
            JsonWriter w;
            w.begin_object().key("carriers").begin_array();
            for (const CarrierRecord& r : *rows) carrier_json(w, c, r);
            w.end_array().end_object();
            return json(200, w.take());
        }
        if (m != "POST") return not_allowed("GET, HEAD, POST");
        return save_carrier(c, nullptr);
    }
    const std::size_t slash = rest->find('/');
    const std::string name(rest->substr(0, slash));
    if (name.empty()) return error(404, "no such resource");
    if (slash != std::string_view::npos) {
        if (rest->substr(slash + 1) != "register") return error(404, "no such resource");
        if (m != "POST") return not_allowed("POST");
        auto cur = data_->carrier(name);
        if (!cur) return store_error(cur.error());
        if (!*cur) return error(404, fmt::format("no carrier registration {}", name), "name");
        if (!(*cur)->reg.enabled)
            return error(409, fmt::format("carrier registration {} is disabled", name), "enabled");
        using R = Registrations::RegisterNow;
        switch (sw_.registrations().register_now(name, c.now)) {
            case R::sent: break;
            case R::waiting:
                return error(409, fmt::format("carrier registration {} has no registrar address "
                                              "yet (DNS): it registers when the name resolves",
                                              name));
            case R::busy:
                return error(409, fmt::format("carrier registration {} is stopping or being "
                                              "replaced: try again shortly", name));
            case R::unknown: {
                std::optional<std::string> why = live_ ? live_->carrier_waiting(name) : std::nullopt;
                return error(409, fmt::format("carrier registration {} is not running: {}", name,
                                              why.value_or("the switch has not loaded it yet")));
            }
        }
        logs_.push_back(fmt::format("api: {} re-registered carrier registration {}", c.who_name(),
                                    name));
        Response out = carrier_answer(c, 202, **cur);
        out.switch_changed = true;  // the REGISTER goes out with the drain
        return out;
    }
    if (reads(m)) {
        auto cur = data_->carrier(name);
        if (!cur) return store_error(cur.error());
        if (!*cur) return error(404, fmt::format("no carrier registration {}", name), "name");
        return carrier_answer(c, 200, **cur);
    }
    if (m == "PATCH") return save_carrier(c, &name);
    if (m == "DELETE") {
        const route::reg::Status* st = sw_.registrations().status(name);
        const bool bound = st && st->state == route::reg::State::registered;
        // If-Match, when given, is checked inside the store's delete transaction
        auto w = data_->remove_carrier(name, if_match(c.rq.if_match, Precondition::Row::present));
        if (!w) return store_error(w.error());
        if (*w != Written::done) return not_written(*w, "carrier registration", name);
        logs_.push_back(fmt::format("api: {} removed carrier registration {}", c.who_name(), name));
        JsonWriter out;
        out.begin_object().field("name", name).field("removed", true).field("unregistering", bound)
            .end_object();
        Response r = json(200, out.take());
        r.tables_changed = true;  // the switch unregisters the entry, then forgets it
        return r;
    }
    return not_allowed("GET, HEAD, PATCH, DELETE");
}

}  // namespace sw::api

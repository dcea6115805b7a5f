// /api/users and /api/bindings: the registrar's SIP users through sw::api::Data (HA1 only:
// the password of a POST is hashed here, like `trunkctl user add`, and never stored, shown or
// logged) and the live bindings of the running registrar. See api.hpp "SIP users".
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "api_common.hpp"
#include "json_reader.hpp"
#include "sip/auth/digest.hpp"
#include "sw/switch.hpp"

namespace sw::api {

using namespace detail;

namespace {

constexpr std::size_t kMaxName = 64;
constexpr std::size_t kMaxPassword = 256;

// RFC 3261 §25.1 user = 1*( unreserved / user-unreserved ), without escapes (as trunkctl).
bool user_part(std::string_view v) {
    if (v.empty() || v.size() > kMaxName) return false;
    for (char c : v)
        if (!std::isalnum(static_cast<unsigned char>(c)) && std::strchr("-_.!~*'()&=+$,;?/", c) == nullptr)
            return false;
    return true;
}

// Printable, no quotes or backslashes: the realm goes into a quoted-string (RFC 7616 §3.3).
bool quotable(std::string_view v) {
    if (v.empty() || v.size() > 128) return false;
    for (char c : v)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '"' || c == '\\') return false;
    return true;
}

Response store_error(const billing::Error& e) {
    if (e.code == billing::ErrorCode::unknown_account) return error(404, "no such user", "name");
    if (e.code == billing::ErrorCode::duplicate) return error(409, e.message, "name");
    if (e.code == billing::ErrorCode::db_locked) return error(503, "the database is busy: " + e.message);
    return error(500, e.message);
}

void user_json(JsonWriter& w, const UserRecord& u) {
    w.begin_object()
        .field("name", u.name)
        .field("realm", u.realm)
        .field("enabled", u.enabled)
        .field("created_ms", u.created_ms)
        .field("updated_ms", u.updated_ms)
        .key("algorithms")
        .begin_array();
    for (const auto& [alg, hex] : u.ha1) w.value(sip::auth::algorithm_name(alg));
    w.end_array().field("version", u.version).end_object();
}

Response user_answer(int status, const UserRecord& u) {
    JsonWriter w;
    user_json(w, u);
    Response r = json(status, w.take());
    r.headers.emplace_back("ETag", etag(u.version));
    return r;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

}  // namespace

Response Api::users(Ctx& c, const std::optional<std::string_view>& name) {
    const std::string_view m = c.rq.method;
    if (!name) {
        if (reads(m)) return list_users(c);
        return m == "POST" ? add_user(c) : not_allowed("GET, HEAD, POST");
    }
    if (reads(m)) return show_user(c, *name);
    return m == "DELETE" ? remove_user(c, *name) : not_allowed("GET, HEAD, DELETE");
}

Response Api::show_user(Ctx& c, std::string_view name) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    if (!data_) return error(503, "the user store is not available");
    auto u = data_->user(name);
    if (!u) return store_error(u.error());
    if (!*u) return error(404, "no such user", "name");
    return user_answer(200, **u);
}

Response Api::list_users(Ctx& c) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    if (!data_) return error(503, "the user store is not available");
    auto list = data_->users();
    if (!list) return store_error(list.error());
    JsonWriter w;
    w.begin_object().key("users").begin_array();
    for (const UserRecord& u : *list) user_json(w, u);
    w.end_array().end_object();
    return json(200, w.take());
}

// The checks of a new user, then HA1 for every base algorithm the hasher has (RFC 7616
// §3.4.2: MD5, SHA-256, SHA-512/256, as trunkctl stores them).
std::optional<Response> Api::new_user(Ctx& c, UserRecord& u) {
    JsonMembers m;
    if (auto r = read_object(c.rq, m)) return *r;
    for (const auto& [member, v] : m) {
        if (member != "name" && member != "password" && member != "realm")
            return error(422, "unknown member", member);
        if (v.kind != JsonValue::Kind::string) return error(422, member + " must be a string", member);
    }
    const JsonValue* name = find_member(m, "name");
    const JsonValue* password = find_member(m, "password");
    const JsonValue* realm = find_member(m, "realm");
    if (!name) return error(422, "name is required", "name");
    if (!user_part(name->text))
        return error(422, fmt::format("name must be 1..{} characters of a SIP user part (letters, digits, "
                                      "-_.!~*'()&=+$,;?/)", kMaxName),
                     "name");
    if (!password || password->text.empty()) return error(422, "password is required", "password");
    if (password->text.size() > kMaxPassword)
        return error(422, fmt::format("password: at most {} bytes", kMaxPassword), "password");
    u.name = name->text;
    u.realm = realm ? realm->text : "trunkline";
    if (!quotable(u.realm))
        return error(422, "realm: 1..128 printable characters, no quotes or backslashes", "realm");
    for (auto alg : {sip::auth::Algorithm::MD5, sip::auth::Algorithm::SHA256, sip::auth::Algorithm::SHA512_256})
        if (auto h = sip::auth::ha1(hasher_, alg, u.name, u.realm, password->text)) u.ha1[alg] = lower(*h);
    if (u.ha1.empty()) return error(500, "no digest algorithm is available; nothing stored");
    return std::nullopt;
}

Response Api::add_user(Ctx& c) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    if (!data_) return error(503, "the user store is not available");
    UserRecord u;
    if (auto bad = new_user(c, u)) return std::move(*bad);
    if (auto ok = data_->add_user(u, c.wall_ms); !ok) return store_error(ok.error());
    auto stored = data_->user(u.name);
    if (!stored || !*stored) return error(500, "the user was not stored");
    logs_.push_back(fmt::format("api: {} added SIP user {} (realm {})", c.who_name(), u.name, u.realm));
    Response r = user_answer(201, **stored);
    r.headers.emplace_back("Location", "/api/users/" + u.name);
    r.tables_changed = true;  // the registrar's users are reloaded from the file at once
    return r;
}

// The user and its bindings go, in the file and in the running registrar (as trunkctl user
// remove, which queues "unbind-user" for the running server). If-Match, when given, is
// checked inside the store's delete transaction.
Response Api::remove_user(Ctx& c, std::string_view name) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    if (!data_) return error(503, "the user store is not available");
    auto removed = data_->remove_user(name, if_match(c.rq.if_match, Precondition::Row::present));
    if (!removed) return store_error(removed.error());
    if (removed->written == Written::missing) return error(404, "no such user", "name");
    if (removed->written != Written::done) return not_written(removed->written, "SIP user", name);
    const std::size_t stored = removed->bindings;
    const std::size_t live = sw_.registrations().unbind_user(name, c.now);
    logs_.push_back(fmt::format("api: {} removed SIP user {} and {} binding(s)", c.who_name(), name,
                                std::max(live, stored)));
    JsonWriter w;
    w.begin_object()
        .field("name", name)
        .field("removed", true)
        .field("bindings", static_cast<std::uint64_t>(std::max(live, stored)))
        .end_object();
    Response r = json(200, w.take());
    r.tables_changed = true;
    r.switch_changed = true;  // the removed bindings go to the store with the next drain
    return r;
}

// Live from the registrar's location store (the file lags it by the write-behind period).
Response Api::bindings(Ctx& c) {
    if (auto bad = unknown_param(c.rq, {"aor"})) return std::move(*bad);
    std::string_view only;
    for (const auto& [n, v] : c.rq.query) only = v;
    JsonWriter w;
    w.begin_object().key("bindings").begin_array();
    for (const route::reg::SnapshotBinding& s : sw_.registrations().location().snapshot(c.now)) {
        if (!only.empty() && s.aor != only) continue;
        const route::reg::Binding& b = s.binding;
        w.begin_object()
            .field("aor", s.aor)
            .field("contact", b.contact)
            .key("q");
        if (b.q) w.value(static_cast<std::uint32_t>(*b.q));
        else w.null();
        w.field("expires_ms", c.wall(c.now + s.remaining))
            .field("source", fmt::format("{}:{}:{}", lower(sip::transport_name(b.source.transport)),
                                         b.source.host, b.source.port))
            .field("instance", b.instance)
            .field("down", b.down)
            .field("via_nat", b.via_nat)
            .end_object();
    }
    w.end_array().end_object();
    return json(200, w.take());
}

// Removes bindings from the running registrar (trunkctl binding remove): ?aor=AOR with an
// optional &contact=CONTACT, or ?user=USER for every AOR of that user part. The write-behind
// takes them out of the file; a device that registers again is bound again.
Response Api::unbind(Ctx& c) {
    if (auto bad = unknown_param(c.rq, {"aor", "contact", "user"})) return std::move(*bad);
    std::optional<std::string_view> aor, contact, user;
    for (const auto& [n, v] : c.rq.query) (n == "aor" ? aor : n == "contact" ? contact : user) = v;
    if (aor.has_value() == user.has_value()) return error(400, "give aor or user (one of them)", aor ? "user" : "aor");
    if (user && contact) return error(400, "contact needs aor, not user", "contact");
    std::size_t n = 0;
    std::string what;
    if (user) {
        if (!user_part(*user)) return error(400, "not a SIP user name", "user");
        n = sw_.registrations().unbind_user(*user, c.now);
        what = fmt::format("user {}", *user);
    } else {
        const auto canonical = route::reg::Registrar::canonical_aor(*aor);
        if (!canonical) return error(400, "not a SIP AOR (sip:user@domain)", "aor");
        n = sw_.registrations().unbind(*canonical, contact.value_or(""), c.now);
        what = contact ? fmt::format("{} {}", *canonical, *contact) : *canonical;
    }
    if (n == 0) return error(404, fmt::format("no such binding: {}", what), user ? "user" : "aor");
    logs_.push_back(fmt::format("api: {} removed {} binding(s) of {}", c.who_name(), n, what));
    JsonWriter w;
    w.begin_object().field("removed", static_cast<std::uint64_t>(n)).end_object();
    Response r = json(200, w.take());
    r.switch_changed = true;  // the removed bindings go to the store with the next drain
    return r;
}

}  // namespace sw::api

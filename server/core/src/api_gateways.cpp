// /api/gateways/customers, /api/gateways/vendors and /api/groups: the stored configuration of
// customer and vendor gateways and gateway groups, written through sw::api::Data. The fields are
// the JSON names of trunkctl's options (--line-limit -> line_limit) and every value is checked
// by the same code as trunkctl's (sw/gateway_form.hpp), so both accept exactly the same
// gateways; a refusal is 422 naming the field. See api.hpp "Gateways and groups".
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <type_traits>

#include "api_common.hpp"
#include "json_reader.hpp"
#include "sw/gateway_form.hpp"

namespace sw::api {

using namespace detail;
namespace form = sw::gateway_form;
namespace lcr = route::lcr;

namespace {

// How a JSON member becomes the text of the option it stands for.
// read_only: shown by GET and ignored in a body, so a GET's body can be PUT back.
enum class Type : std::uint8_t { text, integer, boolean, list, prefixes, money, port, read_only };

struct Field {
    std::string_view json;  // "line_limit"
    const char* option;     // "--line-limit"
    Type type;
};

using Fields = std::vector<Field>;

const Fields kCustomerFields = {
    {"account", "--account", Type::text},
    {"auth", "--auth", Type::text},
    {"ips", "--ips", Type::list},
    {"sip_user", "--sip-user", Type::text},
    {"priority", "--priority", Type::integer},
    {"line_limit", "--line-limit", Type::integer},
    {"cps_limit", "--cps-limit", Type::integer},
    {"dest_prefix_limit", "--dest-prefix-limit", Type::integer},
    {"caller_allow", "--caller-allow", Type::list},
    {"caller_deny", "--caller-deny", Type::list},
    {"callee_allow", "--callee-allow", Type::list},
    {"callee_deny", "--callee-deny", Type::list},
    {"caller_rewrite", "--caller-rewrite", Type::text},
    {"callee_rewrite", "--callee-rewrite", Type::text},
    {"restriction", "--restriction", Type::text},
    {"max_rate_type", "--max-rate-type", Type::text},
    {"proceeding_timeout_s", "--proceeding-timeout", Type::integer},
    {"enabled", "--enabled", Type::boolean},
    {"version", "", Type::read_only},
};

const Fields kVendorFields = {
    {"prefixes", "--prefixes", Type::prefixes},
    {"priority", "--priority", Type::integer},
    {"line_limit", "--line-limit", Type::integer},
    {"cps_limit", "--cps-limit", Type::integer},
    {"group", "--group", Type::text},
    {"reserved_lines", "--reserved-lines", Type::integer},
    {"protect", "--protect", Type::boolean},
    {"lowest_profit_per_s", "--lowest-profit", Type::money},
    {"max_minute_rate", "--max-minute-rate", Type::money},
    {"check_rate", "--check-rate", Type::boolean},
    {"vendor_account", "--vendor-account", Type::text},
    {"host", "--host", Type::text},
    {"port", "--port", Type::port},
    {"transport", "--transport", Type::text},
    {"outbound_proxy", "--outbound-proxy", Type::text},
    {"host_name", "--host-name", Type::text},
    {"caller_rewrite", "--caller-rewrite", Type::text},
    {"callee_rewrite", "--callee-rewrite", Type::text},
    {"probe", "--probe", Type::boolean},
    {"enabled", "--enabled", Type::boolean},
    {"version", "", Type::read_only},
};

const Fields kGroupFields = {
    {"line_limit", "--line-limit", Type::integer},
    {"gateways", "", Type::read_only},
    {"version", "", Type::read_only},
};

// What one write request needs besides its Data.
struct Env {
    Data& data;
    const Request& rq;
    std::string who;
    std::deque<std::string>& logs;
};

Response store_error(const billing::Error& e) {
    if (e.code == billing::ErrorCode::db_locked)
        return error(503, "the database is busy: " + e.message);
    return error(500, e.message);
}

// --- the body ---------------------------------------------------------------------------------

// The form's message with every option ("--line-limit") replaced by its JSON field.
std::string field_message(const Fields& fields, const std::string& message) {
    std::string out;
    for (std::size_t i = 0; i < message.size();) {
        std::size_t end = i;
        if (message.compare(i, 2, "--") == 0) {
            end = i + 2;
            while (end < message.size() &&
                   (std::islower(static_cast<unsigned char>(message[end])) || message[end] == '-'))
                ++end;
            const std::string_view opt(message.data() + i, end - i);
            auto f = std::find_if(fields.begin(), fields.end(),
                                  [&](const Field& x) { return opt == x.option; });
            if (f != fields.end()) {
                out += f->json;
                i = end;
                continue;
            }
        }
        out += message[i++];
    }
    return out;
}

Response refused(const Fields& fields, const form::Error& e) {
    auto f = std::find_if(fields.begin(), fields.end(),
                          [&](const Field& x) { return e.option == x.option; });
    return error(422, field_message(fields, e.message),
                 f == fields.end() ? std::string_view("name") : f->json);
}

std::optional<Response> wrong_type(const Field& f, const JsonValue& v, std::string_view want) {
    return error(422, fmt::format("{} must be {}, not {}", f.json, want, to_string(v.kind)),
                 f.json);
}

// A list as the option's comma text; an entry with ',' would split, so it is refused here.
std::optional<Response> list_text(const Field& f, const JsonValue& v, std::string& out) {
    if (v.kind != JsonValue::Kind::array) return wrong_type(f, v, "an array of strings");
    for (std::size_t i = 0; i < v.items.size(); ++i) {
        std::string item = v.items[i];
        if (item.find(',') != std::string::npos)
            return error(422, fmt::format("{}: entry {} contains ','", f.json, i + 1), f.json);
        if (f.type == Type::prefixes && item.empty()) item = "*";  // "" is every number, as shown
        out += (i ? "," : "") + item;
    }
    return std::nullopt;
}

// One member as the text its option would carry on trunkctl's command line.
std::optional<Response> option_text(const Field& f, const JsonValue& v, std::string& out) {
    using K = JsonValue::Kind;
    switch (f.type) {
        case Type::text:
            if (v.kind != K::string) return wrong_type(f, v, "a string");
            break;
        case Type::integer:
            if (v.kind != K::number) return wrong_type(f, v, "a whole number");
            break;
        case Type::boolean:
            if (v.kind != K::boolean) return wrong_type(f, v, "true or false");
            break;
        case Type::list:
        case Type::prefixes:
            return list_text(f, v, out);
        case Type::money:
            if (v.kind == K::null) return out = "none", std::nullopt;
            if (v.kind != K::string)
                return wrong_type(f, v, "a decimal string such as \"0.0100\" or null");
            break;
        case Type::read_only:
            return std::nullopt;
        case Type::port:
            if (v.kind == K::null || (v.kind == K::number && v.text == "0"))
                return out = "default", std::nullopt;
            if (v.kind != K::number) return wrong_type(f, v, "a port number (0 = default)");
            break;
    }
    out = v.text;
    return std::nullopt;
}

// The body as the form's values; `name` (optional) must be the one in the path.
std::optional<Response> read_values(const Request& rq, const Fields& fields, std::string_view name,
                                    form::MapValues& out, JsonMembers& members) {
    JsonMembers m;
    if (auto r = read_object(rq, m)) return *r;
    for (const auto& [member, v] : m) {
        if (member == "name") {
            if (v.kind != JsonValue::Kind::string || v.text != name)
                return error(422, "name must be the name in the path", "name");
            continue;
        }
        auto f = std::find_if(fields.begin(), fields.end(),
                              [&](const Field& x) { return member == x.json; });
        if (f == fields.end()) return error(422, "unknown member", member);
        if (f->type == Type::read_only) continue;
        std::string text;
        if (auto bad = option_text(*f, v, text)) return bad;
        out.set(f->option, std::move(text));
    }
    members = std::move(m);
    return std::nullopt;
}

// --- the three kinds ---------------------------------------------------------------------------

bool given(const JsonMembers& m, std::string_view field) {
    return find_member(m, field) != nullptr;
}

// A billing account the gateway names must exist (trunkctl: "no billing account X").
std::optional<Response> account_exists(Data& d, const std::string& id, std::string_view field) {
    auto a = d.account(id);
    if (a) return std::nullopt;
    if (a.error().code == billing::ErrorCode::unknown_account)
        return error(422, fmt::format("{} {}: no billing account {}", field, id, id), field);
    return store_error(a.error());
}

struct CustomerKind {
    using Spec = lcr::CustomerSpec;
    using Record = CustomerRecord;
    static constexpr std::string_view what = "customer gateway";
    static constexpr std::string_view path = "/api/gateways/customers/";
    static const Fields& fields() { return kCustomerFields; }
    static constexpr std::string_view required[] = {"account"};
    static Spec spec(const Record& r) { return r.spec; }
    static void name(Spec& s, std::string n) { s.name = std::move(n); }
    static auto get(Data& d, std::string_view n) { return d.customer(n); }
    static auto list(Data& d) { return d.customers(); }
    static auto put(Data& d, const Spec& s, const Precondition& p) { return d.put_customer(s, p); }
    static auto remove(Data& d, std::string_view n, const Precondition& p) {
        return d.remove_customer(n, p);
    }
    static auto apply(const form::Values& v, Spec& s) { return form::apply_customer(v, s); }
    static auto check(Spec& s) { return form::check_customer(s); }

    // The names a customer gateway refers to exist: its account, its digest SIP user.
    static std::optional<Response> refs(Data& d, const Spec& s, const JsonMembers& m, bool full) {
        if (full || given(m, "account")) {
            if (auto bad = account_exists(d, s.account, "account")) return bad;
        }
        if (s.auth != lcr::AuthMode::digest || !(full || given(m, "sip_user") || given(m, "auth")))
            return std::nullopt;
        auto u = d.user(s.sip_user);
        if (!u) return store_error(u.error());
        if (!*u)
            return error(422, fmt::format("sip_user {}: no SIP user {}", s.sip_user, s.sip_user),
                         "sip_user");
        return std::nullopt;
    }

    static void write(JsonWriter& w, const Record& r) {
        const Spec& c = r.spec;
        w.begin_object()
            .field("name", c.name)
            .field("account", c.account)
            .field("auth", lcr::to_string(c.auth))
            .key("ips")
            .strings(c.ips)
            .field("sip_user", c.sip_user)
            .field("priority", c.priority)
            .field("line_limit", c.line_limit)
            .field("cps_limit", c.cps_limit)
            .field("dest_prefix_limit", c.dest_prefix_limit)
            .key("caller_allow")
            .strings(c.caller_allow)
            .key("caller_deny")
            .strings(c.caller_deny)
            .key("callee_allow")
            .strings(c.callee_allow)
            .key("callee_deny")
            .strings(c.callee_deny)
            .field("caller_rewrite", c.caller_rewrite)
            .field("callee_rewrite", c.callee_rewrite)
            .field("restriction", lcr::to_string(c.restriction))
            .field("max_rate_type", rate_type(c.max_rate_type))
            .field("proceeding_timeout_s", c.proceeding_timeout_s)
            .field("enabled", c.enabled)
            .field("version", r.version)
            .end_object();
    }
    static std::string rate_type(std::uint8_t t) {
        return t <= 3 ? std::string(billing::to_string(static_cast<billing::RateType>(t)))
                      : std::to_string(t);
    }
};

std::optional<std::string> money(const std::optional<lcr::Micros>& m) {
    if (!m) return std::nullopt;
    return billing::Money::from_micros(*m).to_string(4);
}

struct VendorKind {
    using Spec = lcr::VendorGateway;
    using Record = VendorRecord;
    static constexpr std::string_view what = "vendor gateway";
    static constexpr std::string_view path = "/api/gateways/vendors/";
    static const Fields& fields() { return kVendorFields; }
    static constexpr std::string_view required[] = {"vendor_account", "prefixes", "host"};
    static Spec spec(const Record& r) { return r.gateway; }
    static void name(Spec& s, std::string n) { s.spec.name = std::move(n); }
    static auto get(Data& d, std::string_view n) { return d.vendor(n); }
    static auto list(Data& d) { return d.vendors(); }
    static auto put(Data& d, const Spec& s, const Precondition& p) { return d.put_vendor(s, p); }
    static auto remove(Data& d, std::string_view n, const Precondition& p) {
        return d.remove_vendor(n, p);
    }
    static auto apply(const form::Values& v, Spec& s) { return form::apply_vendor(v, s); }
    static auto check(Spec& s) { return form::check_vendor(s); }

    // The names a vendor gateway refers to exist: its clearing account, its group.
    static std::optional<Response> refs(Data& d, const Spec& s, const JsonMembers& m, bool full) {
        if (full || given(m, "vendor_account")) {
            if (auto bad = account_exists(d, s.vendor_account, "vendor_account")) return bad;
        }
        if (s.spec.group.empty() || !(full || given(m, "group"))) return std::nullopt;
        auto g = d.group(s.spec.group);
        if (!g) return store_error(g.error());
        if (!*g)
            return error(422,
                         fmt::format("group {}: no gateway group {}", s.spec.group, s.spec.group),
                         "group");
        return std::nullopt;
    }

    static void write(JsonWriter& w, const Record& r) {
        const Spec& v = r.gateway;
        const lcr::GatewaySpec& g = v.spec;
        w.begin_object()
            .field("name", g.name)
            .key("prefixes")
            .strings(g.prefixes)
            .field("priority", g.priority)
            .field("line_limit", g.line_limit)
            .field("cps_limit", g.cps_limit)
            .field("group", g.group)
            .field("reserved_lines", g.reserved_lines)
            .field("protect", g.protect)
            .field("lowest_profit_per_s", money(g.lowest_profit_per_s))
            .field("max_minute_rate", money(g.max_minute_rate))
            .field("check_rate", g.check_rate)
            .field("vendor_account", v.vendor_account)
            .field("host", v.host)
            .field("port", static_cast<std::uint32_t>(v.port))
            .field("transport", v.transport)
            .field("outbound_proxy", v.outbound_proxy)
            .field("host_name", v.host_name)
            .field("caller_rewrite", v.caller_rewrite)
            .field("callee_rewrite", v.callee_rewrite)
            .field("probe", v.probe)
            .field("enabled", g.enabled)
            .field("version", r.version)
            .end_object();
    }
};

struct GroupKind {
    using Spec = lcr::GroupSpec;
    using Record = GroupRecord;
    static constexpr std::string_view what = "gateway group";
    static constexpr std::string_view path = "/api/groups/";
    static const Fields& fields() { return kGroupFields; }
    static constexpr std::string_view required[] = {"line_limit"};
    static Spec spec(const Record& r) { return r.spec; }
    static void name(Spec& s, std::string n) { s.name = std::move(n); }
    static auto get(Data& d, std::string_view n) { return d.group(n); }
    static auto list(Data& d) { return d.groups(); }
    static auto put(Data& d, const Spec& s, const Precondition& p) { return d.put_group(s, p); }
    static auto remove(Data& d, std::string_view n, const Precondition& p) {
        return d.remove_group(n, p);
    }
    static auto apply(const form::Values& v, Spec& s) { return form::apply_group(v, s); }
    static std::optional<form::Error> check(Spec&) { return std::nullopt; }
    static std::optional<Response> refs(Data&, const Spec&, const JsonMembers&, bool) {
        return std::nullopt;
    }

    static void write(JsonWriter& w, const Record& r) {
        w.begin_object()
            .field("name", r.spec.name)
            .field("line_limit", r.spec.line_limit)
            .key("gateways")
            .strings(r.gateways)
            .field("version", r.version)
            .end_object();
    }
};

// --- the handlers, one per method ----------------------------------------------------------------

template <class K>
Response answer(int status, const typename K::Record& r) {
    JsonWriter w;
    K::write(w, r);
    Response out = json(status, w.take());
    out.headers.emplace_back("ETag", etag(r.version));
    return out;
}

template <class K>
Response list(Env& e, std::string_view key) {
    auto rows = K::list(e.data);
    if (!rows) return store_error(rows.error());
    JsonWriter w;
    w.begin_object().key(key).begin_array();
    for (const auto& r : *rows)
        K::write(w, r);
    w.end_array().end_object();
    return json(200, w.take());
}

template <class K>
Response show(Env& e, std::string_view name) {
    auto r = K::get(e.data, name);
    if (!r) return store_error(r.error());
    if (!*r) return error(404, fmt::format("no {} {}", K::what, name), "name");
    return answer<K>(200, **r);
}

// What a conditional write found, as the answer (the row as now stored when done).
template <class K>
Response written(Env& e, const billing::Result<Written>& w, std::string_view name, int status,
                 std::string_view verb) {
    if (!w) return store_error(w.error());
    switch (*w) {
        case Written::exists:
            return error(409, fmt::format("{} {} already exists", K::what, name), "name");
        case Written::missing:
            return error(404, fmt::format("no {} {}", K::what, name), "name");
        case Written::stale:
            return error(409, fmt::format("the {} changed: GET it for its ETag", K::what),
                         "If-Match");
        case Written::done:
            break;
    }
    e.logs.push_back(fmt::format("api: {} {} {} {}", e.who, verb, K::what, name));
    auto r = K::get(e.data, name);
    if (!r) return store_error(r.error());
    if (!*r) return error(404, fmt::format("no {} {}", K::what, name), "name");  // removed since
    Response out = answer<K>(status, **r);
    out.tables_changed = true;
    if (status == 201)
        out.headers.emplace_back("Location", std::string(K::path) + std::string(name));
    return out;
}

// POST to the collection (a new name) and PUT (a whole replacement): the body on a new spec.
template <class K>
Response save(Env& e, std::string_view name, bool create) {
    if (auto bad = form::check_name(K::what, std::string(name)))
        return create ? error(422, *bad, "name")
                      : error(404, fmt::format("no {} {}", K::what, name), "name");
    form::MapValues values;
    JsonMembers members;
    if (auto bad = read_values(e.rq, K::fields(), name, values, members)) return std::move(*bad);
    for (std::string_view f : K::required)
        if (!given(members, f)) return error(422, fmt::format("{} is required", f), f);
    typename K::Spec s{};
    K::name(s, std::string(name));
    if (auto bad = K::apply(values, s)) return refused(K::fields(), *bad);
    if (auto bad = K::check(s)) return refused(K::fields(), *bad);
    if (auto bad = K::refs(e.data, s, members, true)) return std::move(*bad);
    const Precondition p = create ? Precondition{Precondition::Row::absent, {}}
                                  : if_match(e.rq.if_match, Precondition::Row::present);
    return written<K>(e, K::put(e.data, s, p), name, create ? 201 : 200,
                      create ? "added" : "replaced");
}

// PATCH: the given fields on the stored row, written only if the row is still the one read.
template <class K>
Response change(Env& e, std::string_view name) {
    form::MapValues values;
    JsonMembers members;
    if (auto bad = read_values(e.rq, K::fields(), name, values, members)) return std::move(*bad);
    auto cur = K::get(e.data, name);
    if (!cur) return store_error(cur.error());
    if (!*cur) return error(404, fmt::format("no {} {}", K::what, name), "name");
    const Precondition asked = if_match(e.rq.if_match, Precondition::Row::present);
    if (auto bad = stale(asked, (*cur)->version, K::what)) return std::move(*bad);
    if (values.empty()) return answer<K>(200, **cur);  // nothing to change: no write, no reload
    typename K::Spec s = K::spec(**cur);
    if (auto bad = K::apply(values, s)) return refused(K::fields(), *bad);
    if (auto bad = K::check(s)) return refused(K::fields(), *bad);
    if (auto bad = K::refs(e.data, s, members, false)) return std::move(*bad);
    const Precondition p{Precondition::Row::present, {(*cur)->version}};
    return written<K>(e, K::put(e.data, s, p), name, 200, "changed");
}

template <class K>
Response erase(Env& e, std::string_view name) {
    const auto w = K::remove(e.data, name, if_match(e.rq.if_match, Precondition::Row::present));
    if (!w) return store_error(w.error());
    if (*w != Written::done) return written<K>(e, w, name, 200, "removed");
    e.logs.push_back(fmt::format("api: {} removed {} {}", e.who, K::what, name));
    JsonWriter out;
    out.begin_object().field("name", name).field("removed", true).end_object();
    Response r = json(200, out.take());
    r.tables_changed = true;
    return r;
}

// A group in use stays (trunkctl group remove refuses it too): 409 naming its gateways.
std::optional<Response> group_in_use(Env& e, std::string_view name) {
    auto g = e.data.group(name);
    if (!g) return store_error(g.error());
    if (!*g || (*g)->gateways.empty()) return std::nullopt;
    std::string members;
    for (const std::string& n : (*g)->gateways)
        members += (members.empty() ? "" : ", ") + n;
    return error(409,
                 fmt::format("gateway group {} is used by vendor gateway(s) {}", name, members),
                 "name");
}

template <class K>
Response one(Env& e, std::string_view name) {
    const std::string_view m = e.rq.method;
    if (reads(m)) return show<K>(e, name);
    if (m == "PUT") return save<K>(e, name, false);
    if (m == "PATCH") return change<K>(e, name);
    if (m == "DELETE") {
        if constexpr (std::is_same_v<K, GroupKind>) {
            if (auto busy = group_in_use(e, name)) return std::move(*busy);
        }
        return erase<K>(e, name);
    }
    return not_allowed("GET, HEAD, PUT, PATCH, DELETE");
}

// The collection: GET lists, POST creates ({"name": ...} required).
template <class K>
Response collection(Env& e, std::string_view key) {
    if (reads(e.rq.method)) return list<K>(e, key);
    if (e.rq.method != "POST") return not_allowed("GET, HEAD, POST");
    JsonMembers m;
    if (auto r = read_object(e.rq, m)) return *r;
    const JsonValue* name = nullptr;
    if (auto r = required_name(m, name)) return *r;
    return save<K>(e, name->text, true);
}

}  // namespace

// /api/gateways/customers[/{name}] and /api/gateways/vendors[/{name}]
Response Api::gateway_config(Ctx& c, std::string_view rest) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    const std::size_t slash = rest.find('/');
    const std::string_view side = rest.substr(0, slash);
    if (side != "customers" && side != "vendors") return error(404, "no such resource");
    if (!data_) return error(503, "the gateway store is not available");
    Env e{*data_, c.rq, c.who_name(), logs_};
    const bool customers = side == "customers";
    if (slash == std::string_view::npos)
        return customers ? collection<CustomerKind>(e, "customers")
                         : collection<VendorKind>(e, "vendors");
    const std::string_view name = rest.substr(slash + 1);
    if (name.empty() || name.find('/') != std::string_view::npos)
        return error(404, "no such resource");
    return customers ? one<CustomerKind>(e, name) : one<VendorKind>(e, name);
}

// /api/groups[/{name}]
Response Api::groups(Ctx& c, const std::optional<std::string_view>& name) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    if (!data_) return error(503, "the gateway store is not available");
    Env e{*data_, c.rq, c.who_name(), logs_};
    return name ? one<GroupKind>(e, *name) : collection<GroupKind>(e, "groups");
}

}  // namespace sw::api

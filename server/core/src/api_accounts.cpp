// /api/accounts: billing accounts through sw::api::Data (api_data.hpp), amounts as exact
// decimal strings (billing::Money), ETag/If-Match on top-ups. See api.hpp "Accounts".
#include <fmt/format.h>

#include <charconv>

#include "api_common.hpp"
#include "billing/time.hpp"
#include "json_reader.hpp"

namespace sw::api {

using namespace detail;

namespace {

constexpr std::size_t kMaxAccountsPage = 1000;

// A volume tier as JSON: its threshold, per-minute price (4 decimals at least, as trunkctl
// tiers list) and bonus; null for none.
void tier_json(JsonWriter& w, const billing::VolumeTier* t) {
    if (!t) {
        w.null();
        return;
    }
    w.begin_object()
        .field("from_minutes", t->from_minutes)
        .field("price", t->price.to_string(4))
        .field("bonus_minutes", t->bonus_minutes)
        .end_object();
}

// An account's tier prefixes this month: the volume counted, the tier in force now (the one
// the next call starts in: billing::tier_for; null below the first threshold, where the rate's
// own price applies), the next threshold (null past the last) and every tier.
void tiers_json(JsonWriter& w, const std::vector<TierUsage>& tiers) {
    w.key("tiers").begin_array();
    for (const TierUsage& u : tiers) {
        w.begin_object().field("prefix", u.prefix).field("month", u.month).field("used_s", u.used_s);
        w.key("current");
        tier_json(w, billing::tier_for(u.tiers, u.used_s));
        const billing::VolumeTier* next = nullptr;
        for (const billing::VolumeTier& t : u.tiers)
            if (t.from_minutes * 60 > u.used_s) {
                next = &t;
                break;
            }
        w.key("next");
        tier_json(w, next);
        w.key("tiers").begin_array();
        for (const billing::VolumeTier& t : u.tiers) tier_json(w, &t);
        w.end_array().end_object();
    }
    w.end_array();
}

// packages: the account's packages and their minutes left; tiers: its volume tiers this month
// (GET of one account only).
void account_json(JsonWriter& w, const billing::Account& a, std::optional<std::int64_t> version,
                  const std::vector<billing::PackageBalance>* packages = nullptr,
                  const std::vector<TierUsage>* tiers = nullptr) {
    w.begin_object()
        .field("id", a.id)
        .field("name", a.name)
        .field("kind", billing::to_string(a.kind))
        .field("balance", a.balance.to_string())
        .field("credit_limit", a.credit_limit.to_string())
        .field("available", a.available().value_or(a.balance).to_string())
        .field("rate_group", a.rate_group)
        .field("agent", a.agent)
        .field("memo", a.memo);
    if (version) w.field("version", *version);
    if (packages) {
        w.key("packages").begin_array();
        for (const billing::PackageBalance& b : *packages) {
            const billing::Package& p = b.package;
            w.begin_object().field("name", p.name).key("prefixes").strings(p.prefixes);
            w.field("valid_from", billing::format_time(p.valid_from))
                .field("valid_until", billing::format_time(p.valid_until))
                .field("seconds", p.seconds)
                .field("used_s", b.used_s)
                .field("left_s", b.left_s())
                .field("fee", p.fee.to_string())
                .end_object();
        }
        w.end_array();
    }
    if (tiers) tiers_json(w, *tiers);
    w.end_object();
}

// The store's error as an answer: unknown ids 404, existing ones 409, the rest 422 or 500.
Response data_error(const billing::Error& e, std::string_view field) {
    using billing::ErrorCode;
    switch (e.code) {
        case ErrorCode::unknown_account: return error(404, e.message, field);
        case ErrorCode::duplicate: return error(409, e.message, field);
        case ErrorCode::invalid_argument:
        case ErrorCode::overflow:
        case ErrorCode::unknown_rate_group: return error(422, e.message, e.field.empty() ? field : e.field);
        case ErrorCode::db_locked: return error(503, "the database is busy: " + e.message);
        default: return error(500, e.message);
    }
}

// RFC 9110 §13.1.1: "*" or a list of entity tags; a weak tag never matches (strong comparison).
bool if_match_ok(std::string_view header, const std::string& current) {
    if (header.empty()) return true;
    while (!header.empty()) {
        const std::size_t comma = header.find(',');
        std::string_view tag = header.substr(0, comma);
        while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
        while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
        if (tag == "*" || tag == current) return true;
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    return false;
}

// The members of a body; 400 when it is not one flat JSON object, 422 for a member not in
// `known` (a typo must not be ignored).
std::optional<Response> read_body(const Request& rq, std::initializer_list<std::string_view> known,
                                  JsonMembers& out) {
    JsonMembers m;
    if (auto r = read_object(rq, m)) return *r;
    for (const auto& [name, v] : m)
        if (std::find(known.begin(), known.end(), name) == known.end())
            return error(422, "unknown member", name);
    out = std::move(m);
    return std::nullopt;
}

// A string member: absent → `out` unchanged; not a string → 422 naming it.
std::optional<Response> string_member(const JsonMembers& m, std::string_view name, std::string& out) {
    const JsonValue* v = find_member(m, name);
    if (!v) return std::nullopt;
    if (v->kind != JsonValue::Kind::string)
        return error(422, fmt::format("{} must be a string, not a {}", name, to_string(v->kind)), name);
    out = v->text;
    return std::nullopt;
}

// An amount: a decimal string, exact (billing::Money::parse); a JSON number is refused.
std::optional<Response> money_member(const JsonMembers& m, std::string_view name, billing::Money& out) {
    const JsonValue* v = find_member(m, name);
    if (!v) return std::nullopt;
    if (v->kind != JsonValue::Kind::string)
        return error(422, fmt::format("{} must be a decimal string such as \"12.50\"", name), name);
    auto money = billing::Money::parse(v->text);
    if (!money) return error(422, fmt::format("{}: {}", name, money.error().message), name);
    out = *money;
    return std::nullopt;
}

// The fields of a new account, checked in the order a form shows them.
std::optional<Response> account_from(const JsonMembers& m, billing::Account& a) {
    if (!find_member(m, "id")) return error(422, "id is required", "id");
    if (auto r = string_member(m, "id", a.id)) return r;
    if (a.id.empty() || a.id.size() > 64) return error(422, "id must be 1..64 characters", "id");
    std::string kind;
    if (!find_member(m, "kind")) return error(422, "kind is required", "kind");
    if (auto r = string_member(m, "kind", kind)) return r;
    auto k = billing::parse_account_kind(kind);
    if (!k) return error(422, "kind must be customer, vendor or agent", "kind");
    a.kind = *k;
    const std::pair<std::string_view, std::string*> texts[] = {
        {"name", &a.name}, {"rate_group", &a.rate_group}, {"agent", &a.agent}, {"memo", &a.memo}};
    for (const auto& [name, field] : texts)
        if (auto r = string_member(m, name, *field)) return r;
    if (auto r = money_member(m, "balance", a.balance)) return r;
    if (auto r = money_member(m, "credit_limit", a.credit_limit)) return r;
    if (a.credit_limit.is_negative()) return error(422, "credit_limit must not be negative", "credit_limit");
    return std::nullopt;
}

}  // namespace

Response Api::accounts(Ctx& c, const std::optional<std::string_view>& id, std::string_view action) {
    const std::string_view m = c.rq.method;
    if (id && id->empty()) return error(404, "no such resource");
    if (!id) {
        if (reads(m)) return list_accounts(c);
        return m == "POST" ? create_account(c) : not_allowed("GET, HEAD, POST");
    }
    if (action.empty()) return reads(m) ? show_account(c, *id) : not_allowed("GET, HEAD");
    if (action != "topup") return error(404, "no such resource");
    return m == "POST" ? topup(c, *id) : not_allowed("POST");
}

// Cursor paging: `after` is the last id of the previous page (ids are unique and ordered),
// so a page is stable while accounts are added elsewhere; `next` is null on the last page.
Response Api::list_accounts(Ctx& c) {
    if (auto bad = unknown_param(c.rq, {"limit", "after"})) return std::move(*bad);
    if (!data_) return error(503, "the account store is not available");
    std::size_t limit = 100;
    std::string_view after;
    for (const auto& [name, value] : c.rq.query) {
        if (name == "after") {
            after = value;
            continue;
        }
        std::size_t n = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc{} || end != value.data() + value.size() || n < 1 || n > kMaxAccountsPage)
            return error(400, fmt::format("limit must be 1..{}", kMaxAccountsPage), "limit");
        limit = n;
    }
    // one more than asked: whether a next page exists
    auto list = data_->accounts(after, limit + 1);
    if (!list) return data_error(list.error(), "account");
    const bool more = list->size() > limit;
    if (more) list->resize(limit);
    JsonWriter w;
    w.begin_object().key("accounts").begin_array();
    for (const billing::Account& a : *list) account_json(w, a, std::nullopt);
    w.end_array().key("next");
    if (more) w.value(list->back().id);
    else w.null();
    w.end_object();
    return json(200, w.take());
}

Response Api::show_account(Ctx& c, std::string_view id) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    if (!data_) return error(503, "the account store is not available");
    auto rec = data_->account(id);
    if (!rec) return data_error(rec.error(), "id");
    auto packages = data_->packages(id);
    if (!packages) return data_error(packages.error(), "id");
    auto tiers = data_->tier_usage(id, c.wall_ms);
    if (!tiers) return data_error(tiers.error(), "id");
    JsonWriter w;
    account_json(w, rec->account, rec->version, &*packages, &*tiers);
    Response r = json(200, w.take());
    r.headers.emplace_back("ETag", etag(rec->version));
    return r;
}

Response Api::create_account(Ctx& c) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    if (!data_) return error(503, "the account store is not available");
    JsonMembers m;
    if (auto bad = read_body(c.rq, {"id", "kind", "name", "balance", "credit_limit", "rate_group",
                                    "agent", "memo"},
                             m))
        return std::move(*bad);
    billing::Account a;
    if (auto bad = account_from(m, a)) return std::move(*bad);
    if (!a.rate_group.empty()) {
        auto exists = data_->rate_group_exists(a.rate_group);
        if (!exists) return data_error(exists.error(), "rate_group");
        if (!*exists) return error(422, "no such rate group", "rate_group");
    }
    if (!a.agent.empty()) {
        auto agent = data_->account(a.agent);
        if (!agent) return error(422, "no such agent account", "agent");
    }
    if (auto ok = data_->add_account(a, c.wall_ms); !ok) return data_error(ok.error(), "id");
    auto rec = data_->account(a.id);
    if (!rec) return data_error(rec.error(), "id");
    logs_.push_back(fmt::format("api: {} added {} account {} (balance {})", c.who_name(),
                                billing::to_string(a.kind), a.id, a.balance.to_string()));
    JsonWriter w;
    account_json(w, rec->account, rec->version);
    Response r = json(201, w.take());
    r.headers.emplace_back("ETag", etag(rec->version));
    r.headers.emplace_back("Location", "/api/accounts/" + a.id);
    r.tables_changed = true;
    return r;
}

// The If-Match check and the top-up are two steps on the loop: only a trunkctl top-up landing
// in between could slip through, and a top-up adds (it never overwrites what that one did).
Response Api::topup(Ctx& c, std::string_view id) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    if (!data_) return error(503, "the account store is not available");
    JsonMembers m;
    if (auto bad = read_body(c.rq, {"amount", "memo"}, m)) return std::move(*bad);
    if (!find_member(m, "amount")) return error(422, "amount is required", "amount");
    billing::Money amount;
    if (auto bad = money_member(m, "amount", amount)) return std::move(*bad);
    if (amount.is_zero()) return error(422, "amount must not be zero", "amount");
    std::string memo;
    if (auto bad = string_member(m, "memo", memo)) return std::move(*bad);
    auto before = data_->account(id);
    if (!before) return data_error(before.error(), "id");
    if (!if_match_ok(c.rq.if_match, etag(before->version)))
        return error(409, fmt::format("the account changed: its ETag is now {}", etag(before->version)),
                     "If-Match");
    auto balance = data_->topup(id, amount, c.wall_ms, memo);
    if (!balance) return data_error(balance.error(), "amount");
    auto rec = data_->account(id);
    if (!rec) return data_error(rec.error(), "id");
    logs_.push_back(fmt::format("api: {} topped up account {} by {}: balance {}", c.who_name(), id,
                                amount.to_string(), balance->to_string()));
    JsonWriter w;
    account_json(w, rec->account, rec->version);
    Response r = json(200, w.take());
    r.headers.emplace_back("ETag", etag(rec->version));
    r.tables_changed = true;
    return r;
}

}  // namespace sw::api

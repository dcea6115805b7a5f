// Rate groups, their rates, deck upload and auto-created rates: GET /api/rate-groups, GET
// /api/rates?group=G, POST /api/rate-groups/{group}/deck (sw::api::Data over
// billing::sqlite::Store; the deck is read by billing::parse_rate_deck, as `trunkctl rates
// import`), POST /api/rate-groups/{group}/autocreate (billing::autocreate_rates, as `trunkctl
// rates autocreate`). See api.hpp "Rates".
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <set>
#include <tuple>

#include "api_common.hpp"
#include "billing/csv.hpp"
#include "billing/deck.hpp"
#include "billing/money.hpp"
#include "billing/rate.hpp"
#include "billing/time.hpp"

namespace sw::api {

using namespace detail;

namespace {

constexpr std::size_t kDefaultRatePage = 100;
constexpr std::size_t kMaxRatePage = 10'000;

Response store_error(const billing::Error& e, std::string_view field) {
    using billing::ErrorCode;
    switch (e.code) {
        case ErrorCode::invalid_argument:
        case ErrorCode::overflow:
        case ErrorCode::unknown_rate_group: return error(422, e.message, e.field.empty() ? field : e.field);
        case ErrorCode::db_locked: return error(503, "the database is busy: " + e.message);
        default: return error(500, e.message);
    }
}

// The key rates are sorted and paged by; the cursor is its text "prefix~period~from".
using RateKey = std::tuple<std::string, int, std::int64_t>;
RateKey key_of(const billing::Rate& r) {
    return {r.prefix, static_cast<int>(r.period), static_cast<std::int64_t>(r.effective_from)};
}
std::string cursor_of(const RateKey& k) {
    return fmt::format("{}~{}~{}", std::get<0>(k), std::get<1>(k), std::get<2>(k));
}
std::optional<RateKey> parse_cursor(std::string_view s) {
    const std::size_t a = s.find('~');
    if (a == std::string_view::npos) return std::nullopt;
    const std::size_t b = s.find('~', a + 1);
    if (b == std::string_view::npos) return std::nullopt;
    int period = 0;
    std::int64_t from = 0;
    const std::string_view p = s.substr(a + 1, b - a - 1), f = s.substr(b + 1);
    auto r1 = std::from_chars(p.data(), p.data() + p.size(), period);
    auto r2 = std::from_chars(f.data(), f.data() + f.size(), from);
    if (r1.ec != std::errc{} || r1.ptr != p.data() + p.size() || r2.ec != std::errc{} ||
        r2.ptr != f.data() + f.size())
        return std::nullopt;
    return RateKey{std::string(s.substr(0, a)), period, from};
}

std::string time_text(billing::Timestamp t) {
    return billing::format_time(t);
}

void rate_json(JsonWriter& w, const billing::Rate& r, int decimals) {
    w.begin_object()
        .field("prefix", r.prefix)
        .field("area", r.area)
        .field("type", billing::to_string(r.type))
        .field("price", r.price.to_string(decimals))
        .field("first_period", static_cast<std::int64_t>(r.first_period_s))
        .field("first_price", r.first_price.to_string(decimals))
        .field("increment", static_cast<std::int64_t>(r.increment_s))
        .field("connection_fee", r.connection_fee.to_string(decimals))
        .field("period", billing::to_string(r.period));
    w.key("effective_from");
    if (r.effective_from == billing::kTimeMin) w.null(); else w.value(time_text(r.effective_from));
    w.key("effective_until");
    if (r.effective_until == billing::kTimeMax) w.null(); else w.value(time_text(r.effective_until));
    w.end_object();
}

std::optional<bool> parse_bool(std::string_view v) {
    if (v == "true" || v == "1" || v == "yes" || v.empty()) return true;
    if (v == "false" || v == "0" || v == "no") return false;
    return std::nullopt;
}

std::optional<std::int64_t> whole(std::string_view v, std::int64_t min, std::int64_t max) {
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || end != v.data() + v.size() || n < min || n > max) return std::nullopt;
    return n;
}

struct DeckOptions {
    billing::DeckFormat fmt;
    bool replace = false;
    bool dry_run = false;
};

// The query parameters of a deck upload: `trunkctl rates import`'s options, '-' as '_'
// (--first-line: first_line). A template is applied first, the other options over it.
std::optional<Response> deck_options(const Request& rq, Data& data, DeckOptions& o) {
    if (auto bad = unknown_param(rq, {"template", "map", "delimiter", "no_header", "skip", "first_line",
                                      "decimal_comma", "encoding", "date_format", "increment",
                                      "first_period", "allow_zero_price", "replace", "dry_run"}))
        return std::move(*bad);
    std::set<std::string_view> seen;
    for (const auto& [name, value] : rq.query)
        if (!seen.insert(name).second) return error(400, "given twice", name);
    for (const auto& [name, value] : rq.query) {
        if (name != "template") continue;
        auto t = data.deck_template(value);
        if (!t) return error(422, t.error().message, "template");
        o.fmt = t->format;
    }
    billing::DeckFormat& fmt = o.fmt;
    for (const auto& [name, value] : rq.query) {
        if (name == "template") continue;
        if (name == "map") {
            if (auto r = billing::parse_mapping(value, fmt); !r) return error(422, r.error().describe(), name);
        } else if (name == "delimiter") {
            if (value == "\\t" || value == "tab")
                fmt.delimiter = '\t';
            else if (value.size() == 1 && value[0] != '"')
                fmt.delimiter = value[0];
            else
                return error(422, "delimiter must be one character (not '\"')", name);
        } else if (name == "encoding") {
            auto e = billing::parse_encoding(value);
            if (!e) return error(422, e.error().message, name);
            fmt.encoding = *e;
        } else if (name == "date_format") {
            if (auto ok = billing::check_time_format(value); !ok) return error(422, ok.error().message, name);
            fmt.date_format = value;
        } else if (name == "skip" || name == "first_line") {
            if (seen.count("skip") && seen.count("first_line"))
                return error(422, "first_line and skip say the same thing: give one", name);
            auto n = whole(value, name == "skip" ? 0 : 1, 1'000'000);
            if (!n) return error(422, name == "skip" ? "skip is 0..1000000" : "first_line is 1..1000000", name);
            fmt.skip_lines = static_cast<std::size_t>(name == "skip" ? *n : *n - 1);
        } else if (name == "increment" || name == "first_period") {
            auto n = whole(value, name == "increment" ? 1 : 0, 86400);
            if (!n) return error(422, fmt::format("{} is a whole number of seconds, {}..86400", name,
                                                  name == "increment" ? 1 : 0), name);
            (name == "increment" ? fmt.default_increment : fmt.default_first_period) = static_cast<std::int32_t>(*n);
        } else {  // flags
            auto b = parse_bool(value);
            if (!b) return error(400, "true or false", name);
            if (name == "no_header") fmt.header = !*b;
            else if (name == "decimal_comma") fmt.decimal_comma = *b;
            else if (name == "allow_zero_price") fmt.allow_zero_price = *b;
            else if (name == "replace") o.replace = *b;
            else o.dry_run = *b;
        }
    }
    return std::nullopt;
}

bool valid_group_name(std::string_view g) {
    if (g.empty() || g.size() > 128) return false;
    for (unsigned char ch : g)
        if (ch < 0x21 || ch == 0x7f || ch == '/') return false;
    return true;
}

}  // namespace

Response Api::rate_groups(Ctx& c, const std::optional<std::string_view>& rest) {
    if (!data_) return error(503, "the rate store is not available");
    if (!rest) {
        if (!reads(c.rq.method)) return not_allowed("GET, HEAD");
        if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
        auto list = data_->rate_groups();
        if (!list) return store_error(list.error(), "group");
        JsonWriter w;
        w.begin_object().key("rate_groups").begin_array();
        for (const RateGroupRecord& g : *list)
            w.begin_object().field("name", g.name).field("rates", g.rates).field("accounts", g.accounts).end_object();
        w.end_array().end_object();
        return json(200, w.take());
    }
    const std::size_t slash = rest->find('/');
    const std::string_view action = slash == std::string_view::npos ? std::string_view() : rest->substr(slash + 1);
    if (action != "deck" && action != "autocreate") return error(404, "no such resource");
    const std::string group(rest->substr(0, slash));
    if (c.rq.method != "POST") return not_allowed("POST");
    if (!valid_group_name(group)) return error(422, "a rate group name is 1..128 printable characters, no '/'", "group");
    if (action == "autocreate") return autocreate_rates(c, group);
    DeckOptions o;
    if (auto bad = deck_options(c.rq, *data_, o)) return std::move(*bad);
    billing::DeckResult d = billing::parse_rate_deck(c.rq.body, o.fmt);
    if (!d.ok()) {
        JsonWriter w;
        w.begin_object()
            .field("error", fmt::format("{} error(s) in the deck; nothing imported", d.error_count))
            .field("error_count", static_cast<std::uint64_t>(d.error_count));
        write_line_errors(w, d.errors, false);
        w.key("hints").begin_array();
        if (d.hints.delimiter != 0) {
            const std::string dl = d.hints.delimiter == '\t' ? "tab" : std::string(1, d.hints.delimiter);
            w.value(fmt::format("the header looks delimited by '{}': try delimiter={}", dl, dl));
        }
        if (d.hints.encoding) w.value("the deck is not UTF-8: declare its encoding, e.g. encoding=latin1 (or cp1252)");
        if (d.hints.zero_price) w.value("if the deck really has free destinations, add allow_zero_price=true");
        w.end_array().end_object();
        return json(422, w.take());
    }
    return store_rates(c, group, d.rates, o.replace, o.dry_run, nullptr);
}

// What an import of `rates` into `group` changes: the same key (prefix, period,
// effective_from) is updated, the rest added; with replace the group's other rates go. Stored
// unless dry_run; the answer is the deck upload's summary (with `more`, the autocreate's
// extra members and its rows).
Response Api::store_rates(Ctx& c, const std::string& group, const std::vector<billing::Rate>& rates,
                          bool replace, bool dry_run, const std::function<void(JsonWriter&)>& more) {
    std::size_t existing = 0, updated = 0;
    {
        auto groups = data_->rate_groups();
        if (!groups) return store_error(groups.error(), "group");
        bool known = false;
        for (const auto& g : *groups) known = known || g.name == group;
        if (known) {
            auto old = data_->rates(group);
            if (!old) return store_error(old.error(), "group");
            std::set<RateKey> keys;
            for (const auto& r : old->rates) keys.insert(key_of(r));
            existing = keys.size();
            for (const auto& r : rates) updated += keys.count(key_of(r));
        }
    }
    std::vector<std::string> warnings;
    if (replace && existing > updated)
        warnings.push_back(fmt::format("replace: {} rate(s) of the group not in the deck are deleted", existing - updated));
    if (!replace && existing > updated)
        warnings.push_back(fmt::format("{} rate(s) of the group not in the deck are kept (replace=true deletes them)",
                                       existing - updated));
    std::size_t written = rates.size();
    if (!dry_run) {
        auto n = data_->import_rates(group, rates, replace);
        if (!n) return store_error(n.error(), "group");
        written = *n;
        logs_.push_back(fmt::format("api: {} {} {} rates into rate group '{}'{}", c.who_name(),
                                    more ? "auto-created" : "imported", written, group,
                                    replace ? " (replace)" : ""));
    }
    JsonWriter w;
    w.begin_object()
        .field("group", group)
        .field("dry_run", dry_run)
        .field("replace", replace)
        .field("rates", static_cast<std::uint64_t>(written))
        .field("added", static_cast<std::uint64_t>(rates.size() - updated))
        .field("updated", static_cast<std::uint64_t>(updated))
        .field("removed", static_cast<std::uint64_t>(replace ? existing - updated : 0))
        .key("warnings")
        .begin_array();
    for (const auto& s : warnings) w.value(s);
    w.end_array();
    if (more) more(w);
    w.end_object();
    Response r = json(200, w.take());
    r.tables_changed = !dry_run;
    return r;
}

// POST /api/rate-groups/{group}/autocreate: `trunkctl rates autocreate` (billing::
// autocreate_rates): for each prefix of the vendor groups the cheapest vendor rate in force
// now, priced vendor / (1 - margin) or vendor * (1 + markup), rounded up to the precision.
// Stored as a deck upload stores (store_rates), unless dry_run; the answer lists the rates.
Response Api::autocreate_rates(Ctx& c, const std::string& group) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    JsonMembers m;
    if (auto bad = read_object(c.rq, m)) return std::move(*bad);
    static constexpr std::string_view kKnown[] = {"from", "margin", "markup", "precision", "replace", "dry_run"};
    for (const auto& [name, v] : m)
        if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown))
            return error(422, "unknown member", name);

    // from: the vendor rate groups, an array of names (or one comma-separated string)
    const JsonValue* from = find_member(m, "from");
    if (!from) return error(422, "from is required: the vendor rate groups to price from", "from");
    std::vector<std::string> names;
    if (from->kind == JsonValue::Kind::array) {
        names = from->items;
    } else if (from->kind == JsonValue::Kind::string) {
        std::string_view s = from->text;
        while (!s.empty()) {
            const std::size_t comma = s.find(',');
            names.emplace_back(s.substr(0, comma));
            s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
        }
    } else {
        return error(422, "from must be an array of rate group names", "from");
    }
    std::vector<std::string> vendors;
    for (std::string& n : names) {
        const std::size_t b = n.find_first_not_of(" \t"), e = n.find_last_not_of(" \t");
        if (b == std::string::npos) continue;
        std::string name = n.substr(b, e - b + 1);
        if (std::find(vendors.begin(), vendors.end(), name) != vendors.end())
            return error(422, fmt::format("rate group '{}' is named twice", name), "from");
        vendors.push_back(std::move(name));
    }
    if (vendors.empty()) return error(422, "from names no rate group", "from");

    // margin or markup: "15%" or "0.15" (billing::parse_ratio_ppm), exactly one of them
    const JsonValue* margin = find_member(m, "margin");
    const JsonValue* markup = find_member(m, "markup");
    if (!margin && !markup) return error(422, "give a margin (or a markup), such as \"15%\"", "margin");
    if (margin && markup) return error(422, "give a margin or a markup, not both", "markup");
    const bool is_markup = markup != nullptr;
    const JsonValue* ratio = is_markup ? markup : margin;
    const std::string_view rname = is_markup ? "markup" : "margin";
    if (ratio->kind != JsonValue::Kind::string && ratio->kind != JsonValue::Kind::number)
        return error(422, fmt::format("{} must be a string such as \"15%\" or \"0.15\"", rname), rname);
    auto ppm = billing::parse_ratio_ppm(ratio->text);
    if (!ppm) return error(422, fmt::format("{}: {}", rname, ppm.error().message), rname);
    if (*ppm < 0) return error(422, fmt::format("{} must not be negative", rname), rname);
    if (!is_markup && *ppm >= 1'000'000) return error(422, "margin must be below 100%", rname);

    std::optional<int> precision;
    if (const JsonValue* p = find_member(m, "precision")) {
        auto n = p->kind == JsonValue::Kind::number ? whole(p->text, 0, billing::Money::kDecimals) : std::nullopt;
        if (!n) return error(422, "precision must be a whole number of decimals, 0..6", "precision");
        precision = static_cast<int>(*n);
    }
    bool flags[2] = {false, false};  // replace, dry_run
    const std::string_view flag_names[2] = {"replace", "dry_run"};
    for (int i = 0; i < 2; ++i)
        if (const JsonValue* v = find_member(m, flag_names[i])) {
            if (v->kind != JsonValue::Kind::boolean)
                return error(422, fmt::format("{} must be true or false", flag_names[i]), flag_names[i]);
            flags[i] = v->text == "true";
        }
    const bool replace = flags[0], dry_run = flags[1];

    // the vendor groups' rates, each group one table (as trunkctl reads them)
    auto groups = data_->rate_groups();
    if (!groups) return store_error(groups.error(), "from");
    std::vector<billing::RateTable> tables;
    int decimals = 4;  // the currency precision
    for (const std::string& v : vendors) {
        const auto g = std::find_if(groups->begin(), groups->end(), [&](const RateGroupRecord& r) { return r.name == v; });
        if (g == groups->end()) return error(422, fmt::format("no such rate group '{}'", v), "from");
        auto list = data_->rates(v);
        if (!list) return store_error(list.error(), "from");
        if (list->rates.empty()) return error(422, fmt::format("vendor rate group '{}' has no rates", v), "from");
        decimals = list->decimals;
        billing::RateTable t(v);
        for (billing::Rate& r : list->rates)
            if (auto ok = t.upsert(std::move(r)); !ok) return store_error(ok.error(), "from");
        tables.push_back(std::move(t));
    }
    std::vector<const billing::RateTable*> ptrs;
    for (const billing::RateTable& t : tables) ptrs.push_back(&t);
    billing::AutocreateOptions o;
    o.margin_ppm = *ppm;
    o.markup = is_markup;
    o.currency.precision = precision.value_or(decimals);
    o.at = c.wall_ms;
    auto created = billing::autocreate_rates(ptrs, o);
    if (!created) {
        const std::string& f = created.error().field;
        return error(422, created.error().message, f == "precision" ? f : std::string(rname));
    }
    if (created->empty())
        return error(422, "no rate of these vendor groups is in force now: nothing to create", "from");
    std::sort(created->begin(), created->end(),
              [](const billing::Rate& a, const billing::Rate& b) { return key_of(a) < key_of(b); });
    const int shown = std::max(o.currency.precision, decimals);
    const std::string ratio_text = ratio->text;
    return store_rates(c, group, *created, replace, dry_run, [&](JsonWriter& w) {
        w.key("from").strings(vendors);
        w.field(rname, ratio_text).field("precision", static_cast<std::int64_t>(o.currency.precision));
        w.key("created").begin_array();
        for (std::size_t i = 0; i < created->size() && i < kMaxRatePage; ++i) rate_json(w, (*created)[i], shown);
        w.end_array().field("created_truncated", created->size() > kMaxRatePage);
    });
}

Response Api::rates(Ctx& c) {
    if (!reads(c.rq.method)) return not_allowed("GET, HEAD");
    if (auto bad = unknown_param(c.rq, {"group", "prefix", "limit", "after"})) return std::move(*bad);
    if (!data_) return error(503, "the rate store is not available");
    std::string group, prefix;
    bool has_group = false;
    std::size_t limit = kDefaultRatePage;
    std::optional<RateKey> after;
    for (const auto& [name, value] : c.rq.query) {
        if (name == "group") {
            group = value;
            has_group = true;
        } else if (name == "prefix") {
            for (char ch : value)
                if (ch < '0' || ch > '9') return error(400, "prefix is digits", name);
            prefix = value;
        } else if (name == "limit") {
            auto n = whole(value, 1, static_cast<std::int64_t>(kMaxRatePage));
            if (!n) return error(400, fmt::format("limit must be 1..{}", kMaxRatePage), name);
            limit = static_cast<std::size_t>(*n);
        } else {
            after = parse_cursor(value);
            if (!after) return error(400, "after is the `next` of the previous page", name);
        }
    }
    if (!has_group || group.empty()) return error(400, "group is required", "group");
    auto groups = data_->rate_groups();
    if (!groups) return store_error(groups.error(), "group");
    bool known = false;
    for (const auto& g : *groups) known = known || g.name == group;
    if (!known) return error(404, "no such rate group", "group");
    auto list = data_->rates(group);
    if (!list) return store_error(list.error(), "group");
    std::vector<const billing::Rate*> sel;
    for (const billing::Rate& r : list->rates)
        if (r.prefix.starts_with(prefix) && (!after || key_of(r) > *after)) sel.push_back(&r);
    std::sort(sel.begin(), sel.end(), [](const billing::Rate* a, const billing::Rate* b) { return key_of(*a) < key_of(*b); });
    JsonWriter w;
    w.begin_object().field("group", group).key("rates").begin_array();
    for (std::size_t i = 0; i < sel.size() && i < limit; ++i) rate_json(w, *sel[i], list->decimals);
    w.end_array().key("next");
    if (sel.size() > limit) w.value(cursor_of(key_of(*sel[limit - 1]))); else w.null();
    w.end_object();
    return json(200, w.take());
}

}  // namespace sw::api

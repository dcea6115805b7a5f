#include "billing/deck.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "arith.hpp"
#include "billing/csv.hpp"

namespace billing {

namespace {

constexpr int kFields = static_cast<int>(DeckField::count_);

const char* const kNames[kFields] = {
    "prefix", "area", "type", "price", "first_period", "first_price", "increment",
    "connection_fee", "effective_from", "effective_until", "period"};

std::string lower(std::string_view s) {
    std::string o(s);
    for (char& c : o)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return o;
}

// Default header names accepted for each field when no mapping is given.
bool default_name_matches(int field, const std::string& h) {
    if (h == kNames[field]) return true;
    switch (static_cast<DeckField>(field)) {
        case DeckField::prefix: return h == "code" || h == "dial_code" || h == "areacode";
        case DeckField::area: return h == "destination" || h == "name" || h == "area_name";
        case DeckField::type: return h == "rate_type";
        case DeckField::price: return h == "rate" || h == "newprice";
        case DeckField::effective_from: return h == "effective_date" || h == "effectivedate";
        default: return false;
    }
}

}  // namespace

std::string_view to_string(DeckField f) {
    const int i = static_cast<int>(f);
    return i < kFields ? kNames[i] : "?";
}

Result<void> parse_mapping(std::string_view spec, DeckFormat& fmt) {
    std::vector<std::string> parts;
    if (auto r = split_csv(spec, ',', parts); !r) return fail(ErrorCode::invalid_argument,
        "bad mapping: " + r.error().message, "mapping");
    for (const std::string& p : parts) {
        if (p.empty()) continue;
        const auto eq = p.find('=');
        if (eq == std::string::npos)
            return fail(ErrorCode::invalid_argument, "mapping entry '" + p + "' is not field=column",
                        "mapping");
        const std::string key = lower(p.substr(0, eq));
        int idx = -1;
        for (int i = 0; i < kFields; ++i)
            if (key == kNames[i]) idx = i;
        if (idx < 0)
            return fail(ErrorCode::invalid_argument, "unknown deck field '" + key + "'", "mapping");
        fmt.columns[idx] = p.substr(eq + 1);
    }
    return {};
}

DeckResult parse_rate_deck(std::string_view text, const DeckFormat& fmt) {
    DeckResult out;
    auto add_error = [&](Error e) {
        ++out.error_count;
        if (out.errors.size() < fmt.max_errors) out.errors.push_back(std::move(e));
    };
    LineReader lines(text);
    std::string_view line;
    std::vector<std::string> f;
    for (std::size_t i = 0; i < fmt.skip_lines; ++i)
        if (!lines.next(line)) break;

    int col[kFields];
    for (int i = 0; i < kFields; ++i) col[i] = -1;
    for (int i = 0; i < kFields; ++i) {
        std::string_view c = fmt.columns[i];
        if (!c.empty() && c[0] == '#') c.remove_prefix(1);
        if (!c.empty() && std::all_of(c.begin(), c.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
            auto n = parse_int(c);
            if (!n || *n < 1 || *n > 1000) {
                add_error(make_error(ErrorCode::invalid_argument, "bad column number '" + std::string(c) + "'", kNames[i]));
                return out;
            }
            col[i] = static_cast<int>(*n - 1);
        }
    }
    if (fmt.header) {
        // Skip blank lines before the header.
        bool got = false;
        while (lines.next(line))
            if (!line.empty()) {
                got = true;
                break;
            }
        if (!got) {
            add_error(make_error(ErrorCode::parse_error, "empty deck: no header line", "", lines.line_no()));
            return out;
        }
        if (auto r = split_csv(line, fmt.delimiter, f); !r) {
            add_error(make_error(ErrorCode::parse_error, r.error().message, "", lines.line_no()));
            return out;
        }
        for (int i = 0; i < kFields; ++i) {
            if (col[i] >= 0) continue;
            const std::string want = lower(fmt.columns[i]);
            for (std::size_t j = 0; j < f.size(); ++j) {
                const std::string h = lower(f[j]);
                if (want.empty() ? default_name_matches(i, h) : h == want) {
                    col[i] = static_cast<int>(j);
                    break;
                }
            }
            if (col[i] < 0 && !fmt.columns[i].empty()) {
                add_error(make_error(ErrorCode::invalid_argument,
                                     "mapped column '" + fmt.columns[i] + "' is not in the header",
                                     kNames[i], lines.line_no()));
                return out;
            }
        }
    } else {
        for (int i = 0; i < kFields; ++i)
            if (col[i] < 0 && !fmt.columns[i].empty()) {
                add_error(make_error(ErrorCode::invalid_argument,
                                     "without a header line, columns must be numbers", kNames[i]));
                return out;
            }
    }
    for (DeckField req : {DeckField::prefix, DeckField::price})
        if (col[static_cast<int>(req)] < 0) {
            add_error(make_error(ErrorCode::invalid_argument, "no column for required field",
                                 kNames[static_cast<int>(req)], fmt.header ? lines.line_no() : 0));
            return out;
        }

    // Key: prefix, period, effective_from -> first line.
    std::unordered_map<std::string, std::size_t> seen;
    seen.reserve(text.size() / 24);  // about one entry per deck line
    std::string key;
    std::string num;
    while (lines.next(line)) {
        if (line.empty() || line.find_first_not_of(" \t") == std::string_view::npos) continue;
        const std::size_t ln = lines.line_no();
        ++out.data_lines;
        if (auto r = split_csv(line, fmt.delimiter, f); !r) {
            add_error(make_error(ErrorCode::parse_error, r.error().message, "", ln));
            continue;
        }
        auto get = [&](DeckField fld) -> const std::string* {
            const int c = col[static_cast<int>(fld)];
            if (c < 0 || static_cast<std::size_t>(c) >= f.size()) return nullptr;
            return &f[static_cast<std::size_t>(c)];
        };
        bool line_ok = true;
        auto err = [&](DeckField fld, ErrorCode code, std::string msg) {
            add_error(make_error(code, std::move(msg), kNames[static_cast<int>(fld)], ln));
            line_ok = false;
        };
        auto money = [&](DeckField fld, Money& dst) {
            const std::string* v = get(fld);
            if (v == nullptr || v->empty()) return false;
            std::string_view s = *v;
            if (fmt.decimal_comma) {
                num.assign(s);
                std::replace(num.begin(), num.end(), ',', '.');
                s = num;
            }
            auto m = Money::parse(s);
            if (!m) {
                err(fld, m.error().code, m.error().message);
                return true;
            }
            if (m->is_negative()) {
                err(fld, ErrorCode::invalid_argument, "negative amount '" + *v + "'");
                return true;
            }
            dst = *m;
            return true;
        };
        auto seconds = [&](DeckField fld, std::int32_t& dst, std::int32_t min) {
            const std::string* v = get(fld);
            if (v == nullptr || v->empty()) return;
            auto n = parse_int(*v);
            if (!n) return err(fld, n.error().code, n.error().message);
            if (*n < min || *n > 86400)
                return err(fld, ErrorCode::invalid_argument,
                           "'" + *v + "' seconds out of range " + std::to_string(min) + "..86400");
            dst = static_cast<std::int32_t>(*n);
        };
        auto time = [&](DeckField fld, Timestamp& dst) {
            const std::string* v = get(fld);
            if (v == nullptr || v->empty()) return;
            auto t = parse_time(*v);
            if (!t) return err(fld, t.error().code, t.error().message);
            dst = *t;
        };

        Rate r;
        r.first_period_s = fmt.default_first_period;
        r.increment_s = fmt.default_increment;
        r.type = fmt.default_type;
        const std::string* prefix = get(DeckField::prefix);
        if (prefix == nullptr || prefix->empty()) {
            err(DeckField::prefix, ErrorCode::invalid_argument, "missing prefix");
        } else if (!route::prefix::DigitTrie<int>::is_digits(*prefix) ||
                   prefix->size() > route::prefix::DigitTrie<int>::kMaxDepth) {
            err(DeckField::prefix, ErrorCode::invalid_argument,
                "prefix must be 1-64 digits: '" + *prefix + "'");
        } else {
            r.prefix = *prefix;
        }
        if (const std::string* a = get(DeckField::area)) r.area = *a;
        if (const std::string* t = get(DeckField::type); t != nullptr && !t->empty()) {
            auto rt = parse_rate_type(*t);
            if (!rt) err(DeckField::type, rt.error().code, rt.error().message);
            else r.type = *rt;
        }
        if (!money(DeckField::price, r.price) && line_ok)
            err(DeckField::price, ErrorCode::invalid_argument, "missing price");
        seconds(DeckField::first_period, r.first_period_s, 0);
        seconds(DeckField::increment, r.increment_s, 1);
        if (!money(DeckField::first_price, r.first_price)) r.first_price = r.price;
        money(DeckField::connection_fee, r.connection_fee);
        time(DeckField::effective_from, r.effective_from);
        time(DeckField::effective_until, r.effective_until);
        if (const std::string* p = get(DeckField::period); p != nullptr && !p->empty()) {
            auto pk = parse_period(*p);
            if (!pk) err(DeckField::period, pk.error().code, pk.error().message);
            else r.period = *pk;
        }
        if (!line_ok) continue;
        if (auto v = validate(r); !v) {
            add_error(make_error(v.error().code, v.error().message, v.error().field, ln));
            continue;
        }
        key.assign(r.prefix);
        key += '|';
        key += static_cast<char>('0' + static_cast<int>(r.period));
        key += std::to_string(r.effective_from);
        auto [it, inserted] = seen.emplace(key, ln);
        if (!inserted) {
            add_error(make_error(ErrorCode::duplicate,
                                 "duplicate prefix " + r.prefix + " (first on line " +
                                     std::to_string(it->second) + ")",
                                 "prefix", ln));
            continue;
        }
        out.rates.push_back(std::move(r));
    }
    if (!out.ok()) out.rates.clear();
    return out;
}

static std::string time_or_empty(Timestamp t) {
    if (t == kTimeMin || t == kTimeMax) return {};
    return format_time(t);
}

std::string format_rate_deck(std::span<const Rate> rates) {
    std::string s =
        "prefix,area,type,price,first_period,first_price,increment,connection_fee,"
        "effective_from,effective_until,period\n";
    s.reserve(s.size() + rates.size() * 80);
    for (const Rate& r : rates) {
        s += r.prefix;
        s += ',';
        s += csv_escape(r.area);
        s += ',';
        s += to_string(r.type);
        s += ',';
        s += r.price.to_string(4);
        s += ',';
        s += std::to_string(r.first_period_s);
        s += ',';
        s += r.first_price.to_string(4);
        s += ',';
        s += std::to_string(r.increment_s);
        s += ',';
        s += r.connection_fee.to_string(4);
        s += ',';
        s += time_or_empty(r.effective_from);
        s += ',';
        s += time_or_empty(r.effective_until);
        s += ',';
        s += to_string(r.period);
        s += '\n';
    }
    return s;
}

std::string format_rate_deck(const RateTable& table) {
    std::vector<Rate> v;
    v.reserve(table.size());
    table.for_each([&](const Rate& r) { v.push_back(r); });
    return format_rate_deck(v);
}

Result<std::vector<Rate>> autocreate_rates(std::span<const RateTable* const> vendors,
                                           const AutocreateOptions& o) {
    if (o.markup ? o.margin_ppm < 0 : (o.margin_ppm < 0 || o.margin_ppm >= 1000000))
        return fail(ErrorCode::invalid_argument,
                    o.markup ? "markup must be >= 0" : "margin must be >= 0 and below 100%",
                    "margin");
    if (o.currency.precision < 0 || o.currency.precision > Money::kDecimals)
        return fail(ErrorCode::invalid_argument, "precision must be 0..6", "precision");
    std::set<std::string> prefixes;
    for (const RateTable* v : vendors)
        if (v != nullptr) v->for_each([&](const Rate& r) { prefixes.insert(r.prefix); });
    // customer = vendor * num / den, rounded up.
    const std::int64_t num = o.markup ? 1000000 + o.margin_ppm : 1000000;
    const std::int64_t den = o.markup ? 1000000 : 1000000 - o.margin_ppm;
    auto derive = [&](Money m) { return mul_div(m, num, den, o.currency.precision, Rounding::up); };
    std::vector<Rate> out;
    out.reserve(prefixes.size());
    for (const std::string& p : prefixes) {
        const Rate* best = nullptr;
        for (const RateTable* v : vendors) {
            if (v == nullptr) continue;
            const Rate* r = v->best(p, o.at);
            if (r != nullptr && (best == nullptr || r->price < best->price)) best = r;
        }
        if (best == nullptr) continue;  // no vendor rate in force for this prefix at `at`
        Rate c = *best;
        c.prefix = p;
        c.period = PeriodKind::any;
        c.effective_from = o.effective_from;
        c.effective_until = kTimeMax;
        auto pr = derive(best->price);
        auto fp = derive(best->first_price);
        auto cf = derive(best->connection_fee);
        if (!pr) return fail(ErrorCode::overflow, pr.error().message + " (prefix " + p + ")", "price");
        if (!fp) return fail(ErrorCode::overflow, fp.error().message + " (prefix " + p + ")", "first_price");
        if (!cf) return fail(ErrorCode::overflow, cf.error().message + " (prefix " + p + ")", "connection_fee");
        c.price = *pr;
        c.first_price = *fp;
        c.connection_fee = *cf;
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<MarginAlarm> negative_margin_alarms(const RateTable& customer,
                                                std::span<const RateTable* const> vendors,
                                                Timestamp at) {
    std::set<std::string> prefixes;
    customer.for_each([&](const Rate& r) { prefixes.insert(r.prefix); });
    for (const RateTable* v : vendors)
        if (v != nullptr) v->for_each([&](const Rate& r) { prefixes.insert(r.prefix); });
    std::vector<MarginAlarm> out;
    for (const std::string& p : prefixes) {
        const Rate* c = customer.best(p, at);
        if (c == nullptr) continue;
        for (const RateTable* v : vendors) {
            if (v == nullptr) continue;
            const Rate* vr = v->best(p, at);
            if (vr != nullptr && c->price < vr->price)
                out.push_back({p, c->area, v->name(), c->price, vr->price});
        }
    }
    return out;
}

}  // namespace billing

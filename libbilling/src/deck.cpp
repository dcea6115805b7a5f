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
        case DeckField::area: return h == "destination" || h == "name" || h == "area_name" || h == "areaname";
        case DeckField::type: return h == "rate_type";
        case DeckField::price: return h == "rate" || h == "newprice";
        case DeckField::effective_from: return h == "effective_date" || h == "effectivedate";
        case DeckField::increment:
            return h == "billing" || h == "billing_increment" || h == "billing_cycle" || h == "interval";
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

namespace {

constexpr std::size_t kNoColumn = static_cast<std::size_t>(-1);

// One parse of one deck. Members hold what the steps share (the column of each field, the
// line being read); each step is a method of a few dozen lines.
class DeckParser {
public:
    DeckParser(std::string_view text, const DeckFormat& fmt) : fmt_(fmt), text_(text), lines_(text) {}
    DeckResult run();

private:
    bool numbered_columns();
    bool read_header();
    bool map_header(std::size_t header_line);
    bool check_required(std::size_t header_line);
    void read_rows();
    bool check_width(std::size_t ln);
    void parse_row(std::size_t ln);
    void read_periods(Rate& r);
    void check_zero(const Rate& r);
    void add_duplicate_checked(Rate r);

    const std::string* get(DeckField fld) const {
        const int c = col_[static_cast<int>(fld)];
        if (c < 0 || static_cast<std::size_t>(c) >= f_.size()) return nullptr;
        return &f_[static_cast<std::size_t>(c)];
    }
    // The column as the operator wrote it (header text, or "#N"); the field name when the
    // deck has no column for it.
    std::string column(int field) const { return colname_[field].empty() ? kNames[field] : colname_[field]; }
    std::string column_of(const std::string& field) const {
        for (int i = 0; i < kFields; ++i)
            if (field == kNames[i]) return column(i);
        return field;
    }
    void add_error(Error e) {
        ++out_.error_count;
        if (out_.errors.size() < fmt_.max_errors) out_.errors.push_back(std::move(e));
    }
    void err(DeckField fld, ErrorCode code, std::string msg) {
        add_error(make_error(code, std::move(msg), column(static_cast<int>(fld)), ln_));
        line_ok_ = false;
    }
    bool money(DeckField fld, Money& dst);
    bool seconds(DeckField fld, std::int32_t& dst, std::int32_t min);
    void time(DeckField fld, Timestamp& dst);
    char guess_delimiter(std::string_view header) const;

    const DeckFormat& fmt_;
    std::string_view text_;
    LineReader lines_;
    DeckResult out_;
    int col_[kFields];
    std::string colname_[kFields];
    std::string header_text_;
    std::size_t width_ = kNoColumn;   // fields of the header (or first data line)
    std::size_t min_width_ = 0;       // fields a line must have at least
    std::vector<std::string> f_;
    std::size_t ln_ = 0;
    bool line_ok_ = true;
    std::unordered_map<std::string, std::size_t> seen_;
    std::string key_, num_;
};

DeckResult DeckParser::run() {
    for (int i = 0; i < kFields; ++i) col_[i] = -1;
    std::string_view line;
    for (std::size_t i = 0; i < fmt_.skip_lines; ++i)
        if (!lines_.next(line)) break;
    if (!numbered_columns()) return std::move(out_);
    if (fmt_.header) {
        if (!read_header()) return std::move(out_);
    } else {
        for (int i = 0; i < kFields; ++i)
            if (col_[i] < 0 && !fmt_.columns[i].empty()) {
                add_error(make_error(ErrorCode::invalid_argument, "without a header line, columns must be numbers",
                                     kNames[i]));
                return std::move(out_);
            }
        if (!check_required(0)) return std::move(out_);
    }
    seen_.reserve(text_.size() / 24);  // about one entry per deck line
    read_rows();
    if (out_.ok() && out_.data_lines == 0)
        add_error(make_error(ErrorCode::invalid_argument, "no rates: the deck has no data lines"));
    if (!out_.ok()) out_.rates.clear();
    return std::move(out_);
}

// "#3" / "3" mappings.
bool DeckParser::numbered_columns() {
    for (int i = 0; i < kFields; ++i) {
        std::string_view c = fmt_.columns[i];
        if (!c.empty() && c[0] == '#') c.remove_prefix(1);
        if (c.empty() || !std::all_of(c.begin(), c.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) continue;
        auto n = parse_int(c);
        if (!n || *n < 1 || *n > 1000) {
            add_error(make_error(ErrorCode::invalid_argument, "bad column number '" + std::string(c) + "'", kNames[i]));
            return false;
        }
        col_[i] = static_cast<int>(*n - 1);
        colname_[i] = "#" + std::to_string(*n);
    }
    return true;
}

bool DeckParser::read_header() {
    std::string_view line;
    bool got = false;
    while (lines_.next(line))  // blank lines before the header are skipped
        if (!line.empty()) {
            got = true;
            break;
        }
    if (!got) {
        add_error(make_error(ErrorCode::parse_error, "empty deck: no header line", "", lines_.line_no()));
        return false;
    }
    if (const std::size_t bad = find_invalid_utf8(line); bad != std::string_view::npos) {
        add_error(byte_error(text_, static_cast<std::size_t>(line.data() - text_.data()) + bad, "invalid UTF-8"));
        out_.hints.encoding = true;
        return false;
    }
    header_text_ = line;
    if (auto r = split_csv(line, fmt_.delimiter, f_); !r) {
        add_error(make_error(ErrorCode::parse_error, r.error().message, "", lines_.line_no()));
        return false;
    }
    return map_header(lines_.line_no()) && check_required(lines_.line_no());
}

bool DeckParser::map_header(std::size_t header_line) {
    width_ = f_.size();
    for (std::size_t j = 0; j < f_.size(); ++j)
        if (!f_[j].empty()) min_width_ = j + 1;
    for (int i = 0; i < kFields; ++i) {
        if (col_[i] >= 0) {
            if (static_cast<std::size_t>(col_[i]) < f_.size() && !f_[col_[i]].empty()) colname_[i] = f_[col_[i]];
            continue;
        }
        const std::string want = lower(fmt_.columns[i]);
        for (std::size_t j = 0; j < f_.size(); ++j) {
            const std::string h = lower(f_[j]);
            if (want.empty() ? default_name_matches(i, h) : h == want) {
                col_[i] = static_cast<int>(j);
                colname_[i] = f_[j];
                break;
            }
        }
        if (col_[i] < 0 && !fmt_.columns[i].empty()) {
            out_.hints.delimiter = guess_delimiter(header_text_);
            add_error(make_error(ErrorCode::invalid_argument,
                                 "mapped column '" + fmt_.columns[i] + "' is not in the header", kNames[i],
                                 header_line));
            return false;
        }
    }
    return true;
}

bool DeckParser::check_required(std::size_t header_line) {
    for (DeckField req : {DeckField::prefix, DeckField::price}) {
        if (col_[static_cast<int>(req)] >= 0) continue;
        std::string msg = "no column for required field";
        if (fmt_.header) {
            msg += " (header: '" + header_text_ + "')";
            out_.hints.delimiter = guess_delimiter(header_text_);
            if (out_.hints.delimiter != 0)
                msg += std::string("; the header looks delimited by '") + out_.hints.delimiter + "', not '" +
                       fmt_.delimiter + "'";
        }
        add_error(make_error(ErrorCode::invalid_argument, std::move(msg), kNames[static_cast<int>(req)], header_line));
        return false;
    }
    return true;
}

// The common delimiter (other than ours) that splits the header into the most columns.
char DeckParser::guess_delimiter(std::string_view header) const {
    char best = 0;
    std::size_t most = 0;
    for (char c : {',', ';', '\t', '|'}) {
        if (c == fmt_.delimiter) continue;
        const auto n = static_cast<std::size_t>(std::count(header.begin(), header.end(), c));
        if (n > most) {
            most = n;
            best = c;
        }
    }
    return best;
}

void DeckParser::read_rows() {
    std::string_view line;
    while (lines_.next(line)) {
        if (line.empty() || line.find_first_not_of(" \t") == std::string_view::npos) continue;
        ln_ = lines_.line_no();
        ++out_.data_lines;
        if (const std::size_t bad = find_invalid_utf8(line); bad != std::string_view::npos) {
            add_error(byte_error(text_, static_cast<std::size_t>(line.data() - text_.data()) + bad, "invalid UTF-8"));
            out_.hints.encoding = true;
            continue;
        }
        if (auto r = split_csv(line, fmt_.delimiter, f_); !r) {
            add_error(make_error(ErrorCode::parse_error, r.error().message, "", ln_));
            continue;
        }
        if (check_width(ln_)) parse_row(ln_);
    }
}

// A line must have the header's fields: more means a delimiter (or a decimal comma) inside a
// value, and reading it would shift every column after it. Trailing empty fields are fine.
bool DeckParser::check_width(std::size_t ln) {
    if (width_ == kNoColumn) {  // no header: the first data line sets the width
        width_ = f_.size();
        for (std::size_t j = 0; j < f_.size(); ++j)
            if (!f_[j].empty()) min_width_ = j + 1;
        for (int i = 0; i < kFields; ++i) min_width_ = std::max(min_width_, static_cast<std::size_t>(col_[i] + 1));
    }
    std::size_t used = f_.size();
    while (used > width_ && f_[used - 1].empty()) --used;
    if (used <= width_ && f_.size() >= min_width_) return true;
    add_error(make_error(ErrorCode::parse_error,
                         std::to_string(f_.size()) + " fields, the " + (fmt_.header ? "header" : "first line") +
                             " has " + std::to_string(width_) +
                             " (a delimiter or decimal comma inside an unquoted value?)",
                         "", ln));
    return false;
}

bool DeckParser::money(DeckField fld, Money& dst) {
    const std::string* v = get(fld);
    if (v == nullptr || v->empty()) return false;
    std::string_view s = *v;
    if (fmt_.decimal_comma) {
        num_.assign(s);
        std::replace(num_.begin(), num_.end(), ',', '.');
        s = num_;
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
}

// Returns whether the column had a value.
bool DeckParser::seconds(DeckField fld, std::int32_t& dst, std::int32_t min) {
    const std::string* v = get(fld);
    if (v == nullptr || v->empty()) return false;
    auto n = parse_int(*v);
    if (!n) {
        err(fld, n.error().code, n.error().message);
    } else if (*n < min || *n > 86400) {
        err(fld, ErrorCode::invalid_argument, "'" + *v + "' seconds out of range " + std::to_string(min) + "..86400");
    } else {
        dst = static_cast<std::int32_t>(*n);
    }
    return true;
}

void DeckParser::time(DeckField fld, Timestamp& dst) {
    const std::string* v = get(fld);
    if (v == nullptr || v->empty()) return;
    auto t = parse_time_format(*v, fmt_.date_format);
    if (!t) return err(fld, t.error().code, t.error().message);
    dst = *t;
}

// first_period, increment, and the "first/increment" form of the increment column.
void DeckParser::read_periods(Rate& r) {
    const bool first_given = seconds(DeckField::first_period, r.first_period_s, 0);
    const std::string* inc = get(DeckField::increment);
    const std::size_t slash = inc == nullptr ? std::string::npos : inc->find('/');
    if (slash == std::string::npos) {
        seconds(DeckField::increment, r.increment_s, 1);
        return;
    }
    auto a = parse_int(std::string_view(*inc).substr(0, slash));
    auto b = parse_int(std::string_view(*inc).substr(slash + 1));
    if (!a || !b || *a < 0 || *a > 86400 || *b < 1 || *b > 86400)
        return err(DeckField::increment, ErrorCode::invalid_argument,
                   "'" + *inc + "' is not first/increment seconds (0..86400 / 1..86400, e.g. 60/60, 30/6)");
    if (first_given && r.first_period_s != *a)
        return err(DeckField::increment, ErrorCode::invalid_argument,
                   "'" + *inc + "' contradicts " + column(static_cast<int>(DeckField::first_period)) + " " +
                       std::to_string(r.first_period_s));
    r.first_period_s = static_cast<std::int32_t>(*a);
    r.increment_s = static_cast<std::int32_t>(*b);
}

// A zero price makes calls free: an import can only mean it when the operator says so.
void DeckParser::check_zero(const Rate& r) {
    if (fmt_.allow_zero_price || !line_ok_) return;
    if (r.price.micros() == 0) {
        out_.hints.zero_price = true;
        err(DeckField::price, ErrorCode::invalid_argument, "zero price (free calls) not declared as allowed");
    } else if (r.first_period_s > 0 && r.first_price.micros() == 0) {
        out_.hints.zero_price = true;
        err(DeckField::first_price, ErrorCode::invalid_argument,
            "zero first price (a free first period) not declared as allowed");
    }
}

void DeckParser::parse_row(std::size_t ln) {
    line_ok_ = true;
    Rate r;
    r.first_period_s = fmt_.default_first_period;
    r.increment_s = fmt_.default_increment;
    r.type = fmt_.default_type;
    const std::string* prefix = get(DeckField::prefix);
    if (prefix == nullptr || prefix->empty()) {
        err(DeckField::prefix, ErrorCode::invalid_argument, "missing prefix");
    } else if (!route::prefix::DigitTrie<int>::is_digits(*prefix) ||
               prefix->size() > route::prefix::DigitTrie<int>::kMaxDepth) {
        err(DeckField::prefix, ErrorCode::invalid_argument, "prefix must be 1-64 digits: '" + *prefix + "'");
    } else {
        r.prefix = *prefix;
    }
    if (const std::string* a = get(DeckField::area)) r.area = *a;
    if (const std::string* t = get(DeckField::type); t != nullptr && !t->empty()) {
        auto rt = parse_rate_type(*t);
        if (!rt) err(DeckField::type, rt.error().code, rt.error().message);
        else r.type = *rt;
    }
    if (!money(DeckField::price, r.price) && line_ok_)
        err(DeckField::price, ErrorCode::invalid_argument, "missing price");
    read_periods(r);
    if (!money(DeckField::first_price, r.first_price)) r.first_price = r.price;
    money(DeckField::connection_fee, r.connection_fee);
    time(DeckField::effective_from, r.effective_from);
    time(DeckField::effective_until, r.effective_until);
    if (const std::string* p = get(DeckField::period); p != nullptr && !p->empty()) {
        auto pk = parse_period(*p);
        if (!pk) err(DeckField::period, pk.error().code, pk.error().message);
        else r.period = *pk;
    }
    check_zero(r);
    if (!line_ok_) return;
    if (auto v = validate(r); !v)
        return add_error(make_error(v.error().code, v.error().message, column_of(v.error().field), ln));
    add_duplicate_checked(std::move(r));
}

void DeckParser::add_duplicate_checked(Rate r) {
    key_.assign(r.prefix);
    key_ += '|';
    key_ += static_cast<char>('0' + static_cast<int>(r.period));
    key_ += std::to_string(r.effective_from);
    auto [it, inserted] = seen_.emplace(key_, ln_);
    if (!inserted)
        return add_error(make_error(ErrorCode::duplicate,
                                    "duplicate prefix " + r.prefix + " (first on line " +
                                        std::to_string(it->second) + ")",
                                    column(static_cast<int>(DeckField::prefix)), ln_));
    out_.rates.push_back(std::move(r));
}

}  // namespace

DeckResult parse_rate_deck(std::string_view text, const DeckFormat& fmt) {
    if (fmt.encoding == TextEncoding::utf8) return DeckParser(text, fmt).run();
    // Declared latin1/cp1252: convert once; line numbers stay (a '\n' stays a '\n').
    auto utf8 = to_utf8(text, fmt.encoding);
    if (!utf8) {
        DeckResult out;
        out.errors.push_back(utf8.error());
        out.error_count = 1;
        return out;
    }
    return DeckParser(*utf8, fmt).run();
}

std::string format_mapping(const DeckFormat& fmt) {
    std::string s;
    for (int i = 0; i < kFields; ++i) {
        if (fmt.columns[i].empty()) continue;
        if (!s.empty()) s += ',';
        s += csv_escape(std::string(kNames[i]) + "=" + fmt.columns[i]);  // parse_mapping splits as CSV
    }
    return s;
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

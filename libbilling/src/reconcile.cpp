#include "billing/reconcile.hpp"

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "billing/csv.hpp"

namespace billing {

namespace {

std::string lower(std::string_view s) {
    std::string o(s);
    for (char& c : o)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return o;
}

std::string digits_of(std::string_view s) {
    std::string o;
    for (char c : s)
        if (c >= '0' && c <= '9') o += c;
    return o;
}

}  // namespace

Result<void> parse_recon_mapping(std::string_view spec, ReconFormat& fmt) {
    std::vector<std::string> parts;
    if (auto r = split_csv(spec, ',', parts); !r)
        return fail(ErrorCode::invalid_argument, "bad mapping: " + r.error().message, "mapping");
    for (const std::string& p : parts) {
        if (p.empty()) continue;
        const auto eq = p.find('=');
        if (eq == std::string::npos)
            return fail(ErrorCode::invalid_argument, "mapping entry '" + p + "' is not field=column", "mapping");
        const std::string k = lower(p.substr(0, eq));
        std::string v = p.substr(eq + 1);
        if (k == "callee") fmt.callee = v;
        else if (k == "start") fmt.start = v;
        else if (k == "duration") fmt.duration = v;
        else if (k == "amount") fmt.amount = v;
        else return fail(ErrorCode::invalid_argument, "unknown reconciliation field '" + k + "'", "mapping");
    }
    return {};
}

ReconParse parse_vendor_cdrs(std::string_view text, const ReconFormat& fmt) {
    ReconParse out;
    auto add_error = [&](Error e) {
        ++out.error_count;
        if (out.errors.size() < fmt.max_errors) out.errors.push_back(std::move(e));
    };
    const char* names[4] = {"callee", "start", "duration", "amount"};
    const std::string* want[4] = {&fmt.callee, &fmt.start, &fmt.duration, &fmt.amount};
    int col[4] = {-1, -1, -1, -1};
    for (int i = 0; i < 4; ++i) {
        std::string_view c = *want[i];
        if (!c.empty() && c[0] == '#') c.remove_prefix(1);
        if (!c.empty() && std::all_of(c.begin(), c.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
            auto n = parse_int(c);
            if (n && *n >= 1 && *n <= 1000) col[i] = static_cast<int>(*n - 1);
        }
    }
    LineReader lines(text);
    std::string_view line;
    std::vector<std::string> f;
    if (fmt.header) {
        bool got = false;
        while (lines.next(line))
            if (!line.empty()) {
                got = true;
                break;
            }
        if (!got) {
            add_error(make_error(ErrorCode::parse_error, "empty file: no header line"));
            return out;
        }
        if (auto r = split_csv(line, fmt.delimiter, f); !r) {
            add_error(make_error(ErrorCode::parse_error, r.error().message, "", lines.line_no()));
            return out;
        }
        for (int i = 0; i < 4; ++i) {
            if (col[i] >= 0) continue;
            for (std::size_t j = 0; j < f.size(); ++j)
                if (lower(f[j]) == lower(*want[i])) col[i] = static_cast<int>(j);
        }
    }
    for (int i = 0; i < 3; ++i)
        if (col[i] < 0) {
            add_error(make_error(ErrorCode::invalid_argument,
                                 "column '" + *want[i] + "' not found", names[i], lines.line_no()));
            return out;
        }
    std::string num;
    while (lines.next(line)) {
        if (line.empty()) continue;
        const std::size_t ln = lines.line_no();
        if (auto r = split_csv(line, fmt.delimiter, f); !r) {
            add_error(make_error(ErrorCode::parse_error, r.error().message, "", ln));
            continue;
        }
        auto get = [&](int i) -> std::string_view {
            return col[i] >= 0 && static_cast<std::size_t>(col[i]) < f.size() ? std::string_view(f[static_cast<std::size_t>(col[i])]) : std::string_view();
        };
        ReconCall c;
        c.line = ln;
        c.callee = std::string(get(0));
        bool ok = true;
        if (c.callee.empty()) {
            add_error(make_error(ErrorCode::invalid_argument, "missing called number", names[0], ln));
            ok = false;
        }
        if (auto t = parse_time(get(1)); !t) {
            add_error(make_error(t.error().code, t.error().message, names[1], ln));
            ok = false;
        } else {
            c.start_ms = *t;
        }
        if (auto d = parse_int(get(2)); !d || *d < 0) {
            add_error(make_error(ErrorCode::invalid_argument,
                                 d ? "negative duration" : d.error().message, names[2], ln));
            ok = false;
        } else {
            c.duration_s = *d;
        }
        if (col[3] >= 0 && !get(3).empty()) {
            std::string_view s = get(3);
            if (fmt.decimal_comma) {
                num.assign(s);
                std::replace(num.begin(), num.end(), ',', '.');
                s = num;
            }
            if (auto m = Money::parse(s); !m) {
                add_error(make_error(m.error().code, m.error().message, names[3], ln));
                ok = false;
            } else {
                c.amount = *m;
            }
        }
        if (ok) out.calls.push_back(std::move(c));
    }
    if (!out.ok()) out.calls.clear();
    return out;
}

std::vector<ReconCall> recon_calls_from(std::span<const Cdr> cdrs) {
    std::vector<ReconCall> v;
    for (const Cdr& c : cdrs) {
        if (!c.call.answer_ms || c.call.vendor.empty()) continue;
        ReconCall r;
        r.callee = std::string(c.call.callee_sent());
        r.start_ms = *c.call.answer_ms;
        r.duration_s = c.duration_s;
        r.amount = c.cost;
        r.cdr_id = c.id;
        v.push_back(std::move(r));
    }
    return v;
}

Result<ReconReport> reconcile(std::span<const ReconCall> ours, std::span<const ReconCall> theirs,
                              const ReconOptions& o) {
    ReconReport rep;
    auto sum = [](std::span<const ReconCall> v, std::int64_t& d, Money& m) -> Result<void> {
        for (const ReconCall& c : v) {
            if (__builtin_add_overflow(d, c.duration_s, &d))
                return fail(ErrorCode::overflow, "duration sum out of range");
            auto s = m.add(c.amount);
            if (!s) return fail(s.error());
            m = *s;
        }
        return {};
    };
    if (auto r = sum(ours, rep.our_duration_s, rep.our_amount); !r) return fail(r.error());
    if (auto r = sum(theirs, rep.their_duration_s, rep.their_amount); !r) return fail(r.error());
    auto dev = rep.their_amount.sub(rep.our_amount);
    if (!dev) return fail(dev.error());
    rep.amount_deviation = *dev;

    // Our calls by number, sorted by start.
    std::unordered_map<std::string, std::vector<std::size_t>> by_number;
    for (std::size_t i = 0; i < ours.size(); ++i) by_number[digits_of(ours[i].callee)].push_back(i);
    for (auto& [_, v] : by_number)
        std::sort(v.begin(), v.end(), [&](std::size_t a, std::size_t b) {
            return ours[a].start_ms < ours[b].start_ms;
        });
    std::vector<bool> used(ours.size(), false);
    std::vector<std::size_t> order(theirs.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return theirs[a].start_ms < theirs[b].start_ms;
    });
    auto absdiff = [](std::int64_t a, std::int64_t b) { return a > b ? a - b : b - a; };
    for (std::size_t ti : order) {
        const ReconCall& t = theirs[ti];
        auto it = by_number.find(digits_of(t.callee));
        std::size_t best = SIZE_MAX;
        if (it != by_number.end()) {
            const auto& v = it->second;
            auto lo = std::lower_bound(v.begin(), v.end(), t.start_ms - o.start_tolerance_ms,
                                       [&](std::size_t i, Timestamp x) { return ours[i].start_ms < x; });
            for (auto p = lo; p != v.end() && ours[*p].start_ms <= t.start_ms + o.start_tolerance_ms; ++p) {
                if (used[*p]) continue;
                if (best == SIZE_MAX) {
                    best = *p;
                    continue;
                }
                const auto dd = absdiff(ours[*p].duration_s, t.duration_s);
                const auto bd = absdiff(ours[best].duration_s, t.duration_s);
                if (dd < bd || (dd == bd && absdiff(ours[*p].start_ms, t.start_ms) <
                                                absdiff(ours[best].start_ms, t.start_ms)))
                    best = *p;
            }
        }
        if (best == SIZE_MAX) {
            rep.only_theirs.push_back(t);
            continue;
        }
        used[best] = true;
        ++rep.matched;
        ReconPair p{ours[best], t, t.duration_s - ours[best].duration_s, {}};
        auto ad = t.amount.sub(ours[best].amount);
        if (!ad) return fail(ad.error());
        p.amount_diff = *ad;
        if (absdiff(p.duration_diff_s, 0) > o.duration_tolerance_s || !p.amount_diff.is_zero())
            rep.differing.push_back(std::move(p));
    }
    for (std::size_t i = 0; i < ours.size(); ++i)
        if (!used[i]) rep.only_ours.push_back(ours[i]);
    return rep;
}

std::string format_recon(const ReconReport& r, std::string_view format) {
    std::string s;
    if (format == "json") {
        auto call = [](const ReconCall& c) {
            return "{\"callee\":\"" + json_escape(c.callee) + "\",\"start\":\"" + format_time(c.start_ms) +
                   "\",\"duration_s\":" + std::to_string(c.duration_s) + ",\"amount\":\"" +
                   c.amount.to_string() + "\",\"line\":" + std::to_string(c.line) +
                   ",\"cdr_id\":" + std::to_string(c.cdr_id) + "}";
        };
        s = "{\"matched\":" + std::to_string(r.matched) + ",\"our_duration_s\":" +
            std::to_string(r.our_duration_s) + ",\"their_duration_s\":" +
            std::to_string(r.their_duration_s) + ",\"our_amount\":\"" + r.our_amount.to_string() +
            "\",\"their_amount\":\"" + r.their_amount.to_string() + "\",\"amount_deviation\":\"" +
            r.amount_deviation.to_string() + "\",\"differing\":[";
        for (std::size_t i = 0; i < r.differing.size(); ++i) {
            const auto& p = r.differing[i];
            s += (i ? "," : "") + std::string("{\"ours\":") + call(p.ours) + ",\"theirs\":" +
                 call(p.theirs) + ",\"duration_diff_s\":" + std::to_string(p.duration_diff_s) +
                 ",\"amount_diff\":\"" + p.amount_diff.to_string() + "\"}";
        }
        s += "],\"only_ours\":[";
        for (std::size_t i = 0; i < r.only_ours.size(); ++i) s += (i ? "," : "") + call(r.only_ours[i]);
        s += "],\"only_theirs\":[";
        for (std::size_t i = 0; i < r.only_theirs.size(); ++i) s += (i ? "," : "") + call(r.only_theirs[i]);
        return s + "]}\n";
    }
    if (format == "csv") {
        s = "status,callee,our_start,our_duration_s,our_amount,their_line,their_start,their_duration_s,their_amount,duration_diff_s,amount_diff\n";
        auto row = [&](std::string_view st, const ReconCall* a, const ReconCall* b, std::int64_t dd, Money am) {
            s += std::string(st) + ',' + csv_escape(a ? a->callee : b->callee) + ',';
            s += a ? format_time(a->start_ms) + ',' + std::to_string(a->duration_s) + ',' + a->amount.to_string() : ",,";
            s += ',';
            s += b ? std::to_string(b->line) + ',' + format_time(b->start_ms) + ',' + std::to_string(b->duration_s) + ',' + b->amount.to_string() : ",,,";
            s += ',' + std::to_string(dd) + ',' + am.to_string() + '\n';
        };
        for (const auto& p : r.differing) row("differs", &p.ours, &p.theirs, p.duration_diff_s, p.amount_diff);
        for (const auto& c : r.only_ours) row("only_ours", &c, nullptr, 0, Money{});
        for (const auto& c : r.only_theirs) row("only_theirs", nullptr, &c, 0, Money{});
        return s;
    }
    s += "matched:            " + std::to_string(r.matched) + "\n";
    s += "differing:          " + std::to_string(r.differing.size()) + "\n";
    s += "missing at vendor:  " + std::to_string(r.only_ours.size()) + "\n";
    s += "missing in ours:    " + std::to_string(r.only_theirs.size()) + "\n";
    s += "our duration s:     " + std::to_string(r.our_duration_s) + "\n";
    s += "their duration s:   " + std::to_string(r.their_duration_s) + "\n";
    s += "our amount:         " + r.our_amount.to_string() + "\n";
    s += "their amount:       " + r.their_amount.to_string() + "\n";
    s += "amount deviation:   " + r.amount_deviation.to_string() + "\n";
    for (const auto& p : r.differing)
        s += "  differs  " + p.ours.callee + " " + format_time(p.ours.start_ms) + " ours " +
             std::to_string(p.ours.duration_s) + "s/" + p.ours.amount.to_string() + " theirs (line " +
             std::to_string(p.theirs.line) + ") " + std::to_string(p.theirs.duration_s) + "s/" +
             p.theirs.amount.to_string() + "\n";
    for (const auto& c : r.only_ours)
        s += "  only ours    " + c.callee + " " + format_time(c.start_ms) + " " + std::to_string(c.duration_s) + "s\n";
    for (const auto& c : r.only_theirs)
        s += "  only theirs  " + c.callee + " " + format_time(c.start_ms) + " " + std::to_string(c.duration_s) +
             "s (line " + std::to_string(c.line) + ")\n";
    return s;
}

}  // namespace billing

#include "billing/report.hpp"

#include "arith.hpp"
#include "billing/csv.hpp"

#include <algorithm>

namespace billing {

using detail::i128;

std::string_view to_string(ReportKind k) {
    switch (k) {
        case ReportKind::revenue: return "revenue";
        case ReportKind::clearing: return "clearing";
        case ReportKind::clearing_gateway: return "clearing-gateway";
        case ReportKind::gateway: return "gateway";
        case ReportKind::settlement: return "settlement";
        case ReportKind::profit_area: return "profit-area";
        case ReportKind::profit_customer: return "profit-customer";
        case ReportKind::asr: return "asr";
    }
    return "revenue";
}

Result<ReportKind> parse_report_kind(std::string_view s) {
    for (int i = 0; i <= static_cast<int>(ReportKind::asr); ++i) {
        const auto k = static_cast<ReportKind>(i);
        if (s == to_string(k)) return k;
    }
    if (s == "profit") return ReportKind::profit_area;
    if (s == "clearing_gateway") return ReportKind::clearing_gateway;
    if (s == "profit_area") return ReportKind::profit_area;
    if (s == "profit_customer") return ReportKind::profit_customer;
    return fail(ErrorCode::invalid_argument, "unknown report '" + std::string(s) + "'", "report");
}

std::pair<std::string_view, std::string_view> key_names(ReportKind k) {
    switch (k) {
        case ReportKind::revenue: return {"customer", ""};
        case ReportKind::clearing: return {"vendor", ""};
        case ReportKind::clearing_gateway: return {"vendor", "vendor_gateway"};
        case ReportKind::gateway: return {"customer_gateway", "customer"};
        case ReportKind::settlement: return {"period", ""};
        case ReportKind::profit_area: return {"area", "prefix"};
        case ReportKind::profit_customer: return {"customer", ""};
        case ReportKind::asr: return {"vendor_gateway", "area"};
    }
    return {"key", ""};
}

std::pair<std::string_view, std::string_view> report_keys(ReportKind k, const Cdr& c) {
    switch (k) {
        case ReportKind::revenue: return {c.call.customer, {}};
        case ReportKind::clearing: return {c.call.vendor, {}};
        case ReportKind::clearing_gateway: return {c.call.vendor, c.call.vendor_gateway};
        case ReportKind::gateway: return {c.call.customer_gateway, c.call.customer};
        case ReportKind::settlement: return {"total", {}};
        case ReportKind::profit_area: return {c.area, c.rate_prefix};
        case ReportKind::profit_customer: return {c.call.customer, {}};
        case ReportKind::asr: return {c.call.vendor_gateway, c.area};
    }
    return {};
}

std::int64_t ReportRow::margin_ppm() const {
    if (revenue.is_zero()) return 0;
    return static_cast<std::int64_t>(static_cast<i128>(profit.micros()) * 1000000 / revenue.micros());
}

static bool add64(std::int64_t& a, std::int64_t b) { return !__builtin_add_overflow(a, b, &a); }

// The range of a sum of rows is the range of their ranges.
static void widen(std::optional<Money>& lo, std::optional<Money>& hi, const std::optional<Money>& o_lo,
                  const std::optional<Money>& o_hi) {
    if (o_lo && (!lo || *o_lo < *lo)) lo = o_lo;
    if (o_hi && (!hi || *hi < *o_hi)) hi = o_hi;
}

Result<void> ReportRow::add(const ReportRow& o) {
    auto r = revenue.add(o.revenue);
    auto c = cost.add(o.cost);
    auto p = profit.add(o.profit);
    if (!r || !c || !p || !add64(calls, o.calls) || !add64(answered, o.answered) ||
        !add64(duration_s, o.duration_s) || !add64(billed_s, o.billed_s) ||
        !add64(vendor_billed_s, o.vendor_billed_s))
        return fail(ErrorCode::overflow, "report sum out of range", key);
    revenue = *r;
    cost = *c;
    profit = *p;
    widen(rate_deviation_min, rate_deviation_max, o.rate_deviation_min, o.rate_deviation_max);
    return {};
}

Result<void> ReportBuilder::add(const Cdr& c) {
    auto [k1, k2] = report_keys(kind_, c);
    ReportRow one;
    one.calls = 1;
    one.answered = c.duration_s > 0 ? 1 : 0;
    one.duration_s = c.duration_s;
    one.billed_s = c.customer_billed_s;
    one.vendor_billed_s = c.vendor_billed_s;
    one.revenue = c.charge;
    one.cost = c.cost;
    one.profit = c.profit;
    auto key = std::make_pair(std::string(k1), std::string(k2));
    auto it = rows_.find(key);
    if (it == rows_.end()) {
        one.key = key.first;
        one.key2 = key.second;
        rows_.emplace(std::move(key), std::move(one));
        return {};
    }
    return it->second.add(one);
}

Result<Report> ReportBuilder::finish() const {
    Report r;
    r.kind = kind_;
    r.total.key = "total";
    r.rows.reserve(rows_.size());
    for (const auto& [_, row] : rows_) {
        if (auto ok = r.total.add(row); !ok) return fail(ok.error());
        r.rows.push_back(row);
    }
    return r;
}

void RateDeviationRanges::add(const Cdr& c) {
    if (c.duration_s <= 0) return;
    auto d = cdr_rate_deviation(c);
    if (!d) return;  // prices outside any deck's range: no figure rather than a wrong one
    auto [k1, k2] = report_keys(kind_, c);
    auto [it, fresh] = rows_.try_emplace({std::string(k1), std::string(k2)}, Range{*d, *d});
    if (fresh) return;
    if (*d < it->second.min) it->second.min = *d;
    if (it->second.max < *d) it->second.max = *d;
}

void RateDeviationRanges::apply(Report& r) const {
    r.rate_deviation = true;
    r.total.rate_deviation_min.reset();
    r.total.rate_deviation_max.reset();
    for (ReportRow& row : r.rows) {
        row.rate_deviation_min.reset();
        row.rate_deviation_max.reset();
        if (auto it = rows_.find({row.key, row.key2}); it != rows_.end()) {
            row.rate_deviation_min = it->second.min;
            row.rate_deviation_max = it->second.max;
        }
        widen(r.total.rate_deviation_min, r.total.rate_deviation_max, row.rate_deviation_min,
              row.rate_deviation_max);
    }
}

namespace {

std::string int_str(std::int64_t v) { return std::to_string(v); }

struct Cols {
    std::vector<std::string> names;
    std::vector<std::vector<std::string>> cells;  // per row (total last)
    std::vector<bool> numeric;
};

Cols columns(const Report& r) {
    Cols c;
    auto [k1, k2] = key_names(r.kind);
    c.names = {std::string(k1)};
    c.numeric = {false};
    if (!k2.empty()) {
        c.names.emplace_back(k2);
        c.numeric.push_back(false);
    }
    for (const char* n : {"calls", "answered", "asr", "acd_s", "duration_s", "billed_s",
                          "vendor_billed_s", "revenue", "cost", "profit", "margin"}) {
        c.names.emplace_back(n);
        c.numeric.push_back(true);
    }
    if (r.rate_deviation)
        for (const char* n : {"rate_deviation_min", "rate_deviation_max"}) {
            c.names.emplace_back(n);
            c.numeric.push_back(true);
        }
    auto amount = [&](const std::optional<Money>& m) { return m ? m->to_string(r.decimals) : std::string(); };
    auto row = [&](const ReportRow& x, bool total) {
        std::vector<std::string> v;
        v.push_back(total ? "TOTAL" : x.key);
        if (!k2.empty()) v.push_back(total ? "" : x.key2);
        v.push_back(int_str(x.calls));
        v.push_back(int_str(x.answered));
        v.push_back(format_ppm_percent(x.asr_ppm()));
        v.push_back(int_str(x.acd_s()));
        v.push_back(int_str(x.duration_s));
        v.push_back(int_str(x.billed_s));
        v.push_back(int_str(x.vendor_billed_s));
        v.push_back(x.revenue.to_string(r.decimals));
        v.push_back(x.cost.to_string(r.decimals));
        v.push_back(x.profit.to_string(r.decimals));
        v.push_back(format_ppm_percent(x.margin_ppm()));
        if (r.rate_deviation) {
            v.push_back(amount(x.rate_deviation_min));
            v.push_back(amount(x.rate_deviation_max));
        }
        c.cells.push_back(std::move(v));
    };
    for (const ReportRow& x : r.rows) row(x, false);
    row(r.total, true);
    return c;
}

std::string render_table(const std::vector<std::string>& names,
                         const std::vector<std::vector<std::string>>& cells,
                         const std::vector<bool>& numeric, bool rule_before_last) {
    std::vector<std::size_t> w(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) w[i] = names[i].size();
    for (const auto& row : cells)
        for (std::size_t i = 0; i < row.size() && i < w.size(); ++i) w[i] = std::max(w[i], row[i].size());
    std::string s;
    auto line = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < w.size(); ++i) {
            const std::string& v = i < row.size() ? row[i] : std::string();
            const std::string pad(w[i] - v.size(), ' ');
            if (i) s += "  ";
            if (numeric[i]) s += pad + v;
            else s += (i + 1 == w.size()) ? v : v + pad;
        }
        while (!s.empty() && s.back() == ' ') s.pop_back();
        s += '\n';
    };
    auto rule = [&]() {
        std::size_t total = 0;
        for (std::size_t x : w) total += x + 2;
        s += std::string(total > 2 ? total - 2 : 0, '-');
        s += '\n';
    };
    line(names);
    rule();
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (rule_before_last && i + 1 == cells.size()) rule();
        line(cells[i]);
    }
    return s;
}

std::string render_csv(const std::vector<std::string>& names,
                       const std::vector<std::vector<std::string>>& cells) {
    std::string s;
    for (std::size_t i = 0; i < names.size(); ++i) s += (i ? "," : "") + csv_escape(names[i]);
    s += '\n';
    for (const auto& row : cells) {
        for (std::size_t i = 0; i < row.size(); ++i) s += (i ? "," : "") + csv_escape(row[i]);
        s += '\n';
    }
    return s;
}

std::string json_row(const std::vector<std::string>& names, const std::vector<std::string>& row,
                     const std::vector<bool>& numeric) {
    // Integers are JSON numbers; amounts and percentages are strings so that no reader
    // turns them into binary floating point.
    std::string s = "{";
    for (std::size_t i = 0; i < names.size() && i < row.size(); ++i) {
        if (i) s += ',';
        s += '"' + json_escape(names[i]) + "\":";
        const bool plain_int = numeric[i] && row[i].find_first_of(".%") == std::string::npos;
        if (numeric[i] && row[i].empty()) s += "null";  // a figure the row does not have
        else if (plain_int) s += row[i];
        else s += '"' + json_escape(row[i]) + '"';
    }
    return s + "}";
}

}  // namespace

std::string format_table(const Report& r) {
    Cols c = columns(r);
    return render_table(c.names, c.cells, c.numeric, true);
}

std::string format_csv(const Report& r) {
    Cols c = columns(r);
    return render_csv(c.names, c.cells);
}

std::string format_json(const Report& r) {
    Cols c = columns(r);
    std::string s = "{\"report\":\"" + std::string(to_string(r.kind)) + "\",\"rows\":[";
    for (std::size_t i = 0; i + 1 < c.cells.size(); ++i) {
        if (i) s += ',';
        s += json_row(c.names, c.cells[i], c.numeric);
    }
    s += "],\"total\":" + json_row(c.names, c.cells.back(), c.numeric) + "}\n";
    return s;
}

// --- Agent Income -----------------------------------------------------------------------

Result<void> AgentIncomeRow::add(const AgentIncomeRow& o) {
    auto ch = charge.add(o.charge);
    auto co = cost.add(o.cost);
    auto p = profit.add(o.profit);
    auto cm = commission.add(o.commission);
    if (!ch || !co || !p || !cm || !add64(calls, o.calls) || !add64(answered, o.answered) ||
        !add64(duration_s, o.duration_s) || !add64(billed_s, o.billed_s))
        return fail(ErrorCode::overflow, "agent income sum out of range", account);
    charge = *ch;
    cost = *co;
    profit = *p;
    commission = *cm;
    return {};
}

Result<Money> agent_commission(Money basis_amount, std::int64_t commission_ppm, const Currency& currency) {
    if (commission_ppm < 0 || commission_ppm > 1000000)
        return fail(ErrorCode::invalid_argument, "commission must be 0% to 100%", "commission");
    if (basis_amount.micros() <= 0 || commission_ppm == 0) return Money{};
    return mul_div(basis_amount, commission_ppm, 1000000, currency.precision, currency.rounding);
}

Result<AgentIncomeReport> agent_income(const Report& by_customer, std::span<const Account> accounts,
                                       const Currency& currency, std::string_view only_agent) {
    AgentIncomeReport out;
    out.decimals = currency.precision;
    std::map<std::string, const ReportRow*, std::less<>> traffic;
    for (const ReportRow& r : by_customer.rows) traffic.emplace(r.key, &r);
    std::map<std::string, const Account*, std::less<>> agents;
    for (const Account& a : accounts)
        if (a.kind == AccountKind::agent) agents.emplace(a.id, &a);
    if (!only_agent.empty()) {
        auto it = std::find_if(accounts.begin(), accounts.end(), [&](const Account& a) { return a.id == only_agent; });
        if (it == accounts.end())
            return fail(ErrorCode::unknown_account, "unknown account '" + std::string(only_agent) + "'", "agent");
        if (it->kind != AccountKind::agent)
            return fail(ErrorCode::invalid_argument,
                        "account " + it->id + " is a " + std::string(to_string(it->kind)) + ", not an agent",
                        "agent");
    }
    std::map<std::string, std::vector<const Account*>, std::less<>> subs;
    for (const Account& a : accounts)
        if (!a.agent.empty() && agents.count(a.agent) != 0) subs[a.agent].push_back(&a);
    for (const auto& [id, ag] : agents) {
        if (!only_agent.empty() && id != only_agent) continue;
        AgentIncome inc;
        inc.agent = id;
        inc.name = ag->name;
        inc.basis = ag->commission_basis;
        inc.commission_ppm = ag->commission_ppm;
        auto& list = subs[id];
        std::sort(list.begin(), list.end(), [](const Account* a, const Account* b) { return a->id < b->id; });
        for (const Account* sub : list) {
            AgentIncomeRow row;
            row.account = sub->id;
            if (auto t = traffic.find(sub->id); t != traffic.end()) {
                const ReportRow& x = *t->second;
                row.calls = x.calls;
                row.answered = x.answered;
                row.duration_s = x.duration_s;
                row.billed_s = x.billed_s;
                row.charge = x.revenue;
                row.cost = x.cost;
                row.profit = x.profit;
            }
            auto c = agent_commission(inc.basis == CommissionBasis::profit ? row.profit : row.charge,
                                      inc.commission_ppm, currency);
            if (!c) return fail(c.error());
            row.commission = *c;
            if (auto ok = inc.total.add(row); !ok) return fail(ok.error());
            inc.rows.push_back(std::move(row));
        }
        if (auto ok = out.total.add(inc.total); !ok) return fail(ok.error());
        out.agents.push_back(std::move(inc));
    }
    return out;
}

namespace {

// billed_s / 60 truncated to 2 decimals, as text (display only).
std::string minutes_text(std::int64_t billed_s) {
    const i128 hundredths = static_cast<i128>(billed_s) * 100 / 60;
    const i128 micros = hundredths * 10000;
    if (!detail::fits64(micros)) return "overflow";
    return Money::from_micros(static_cast<std::int64_t>(micros)).to_string(2);
}

const std::vector<std::string>& agent_income_names() {
    static const std::vector<std::string> n = {"agent", "account", "basis", "commission_rate", "calls",
                                               "answered", "duration_s", "billed_s", "minutes", "charge",
                                               "cost", "profit", "commission"};
    return n;
}
const std::vector<bool>& agent_income_numeric() {
    static const std::vector<bool> n = {false, false, false, true, true, true, true,
                                        true,  true,  true,  true, true, true};
    return n;
}

std::vector<std::string> agent_income_cells(const AgentIncomeReport& r, const AgentIncome* a,
                                             const AgentIncomeRow& x, std::string_view account) {
    return {a ? a->agent : std::string("TOTAL"),
            std::string(account),
            a ? std::string(to_string(a->basis)) : std::string(),
            a ? format_ppm_percent(a->commission_ppm) : std::string(),
            int_str(x.calls),
            int_str(x.answered),
            int_str(x.duration_s),
            int_str(x.billed_s),
            minutes_text(x.billed_s),
            x.charge.to_string(r.decimals),
            x.cost.to_string(r.decimals),
            x.profit.to_string(r.decimals),
            x.commission.to_string(r.decimals)};
}

std::vector<std::vector<std::string>> agent_income_lines(const AgentIncomeReport& r) {
    std::vector<std::vector<std::string>> cells;
    for (const AgentIncome& a : r.agents) {
        for (const AgentIncomeRow& x : a.rows) cells.push_back(agent_income_cells(r, &a, x, x.account));
        cells.push_back(agent_income_cells(r, &a, a.total, "TOTAL"));
    }
    cells.push_back(agent_income_cells(r, nullptr, r.total, ""));
    return cells;
}

}  // namespace

std::string format_table(const AgentIncomeReport& r) {
    return render_table(agent_income_names(), agent_income_lines(r), agent_income_numeric(), true);
}

std::string format_csv(const AgentIncomeReport& r) {
    return render_csv(agent_income_names(), agent_income_lines(r));
}

std::string format_json(const AgentIncomeReport& r) {
    // The per-row objects drop the agent's own columns (they are on the agent object).
    const auto& names = agent_income_names();
    const auto& numeric = agent_income_numeric();
    const std::vector<std::string> row_names(names.begin() + 4, names.end());
    const std::vector<bool> row_numeric(numeric.begin() + 4, numeric.end());
    auto obj = [&](const AgentIncomeRow& x, bool with_account) {
        auto cells = agent_income_cells(r, nullptr, x, "");
        std::vector<std::string> v(cells.begin() + 4, cells.end());
        std::string s = json_row(row_names, v, row_numeric);
        if (with_account) s = "{\"account\":\"" + json_escape(x.account) + "\"," + s.substr(1);
        return s;
    };
    std::string s = "{\"report\":\"agent-income\",\"agents\":[";
    for (std::size_t i = 0; i < r.agents.size(); ++i) {
        const AgentIncome& a = r.agents[i];
        if (i) s += ',';
        s += "{\"agent\":\"" + json_escape(a.agent) + "\",\"name\":\"" + json_escape(a.name) + "\",\"basis\":\"" +
             std::string(to_string(a.basis)) + "\",\"commission_rate\":\"" + format_ppm_percent(a.commission_ppm) +
             "\",\"accounts\":[";
        for (std::size_t j = 0; j < a.rows.size(); ++j) s += (j ? "," : "") + obj(a.rows[j], true);
        s += "],\"total\":" + obj(a.total, false) + "}";
    }
    s += "],\"total\":" + obj(r.total, false) + "}\n";
    return s;
}

// --- Packages -----------------------------------------------------------------------------

namespace {

const std::vector<std::string>& package_names() {
    static const std::vector<std::string> n = {"account",  "name",     "prefixes", "valid_from", "valid_until",
                                               "minutes",  "used_min", "left_min", "fee"};
    return n;
}
const std::vector<bool>& package_numeric() {
    static const std::vector<bool> n = {false, false, false, false, false, true, true, true, true};
    return n;
}

std::vector<std::vector<std::string>> package_lines(const PackageReport& r) {
    std::vector<std::vector<std::string>> cells;
    for (const PackageBalance& b : r.rows) {
        const Package& p = b.package;
        cells.push_back({p.account, p.name, join_prefixes(p.prefixes), format_time(p.valid_from),
                         format_time(p.valid_until), minutes_text(p.seconds), minutes_text(b.used_s),
                         minutes_text(b.left_s()), p.fee.to_string(r.decimals)});
    }
    return cells;
}

}  // namespace

std::string format_table(const PackageReport& r) {
    return render_table(package_names(), package_lines(r), package_numeric(), false);
}

std::string format_csv(const PackageReport& r) { return render_csv(package_names(), package_lines(r)); }

std::string format_json(const PackageReport& r) {
    // The table's columns but "prefixes", then the prefixes as an array (the table's "44,33"
    // is for people) and the exact seconds.
    auto without_prefixes = [](auto v) {
        v.erase(v.begin() + 2);
        return v;
    };
    const auto names = without_prefixes(package_names());
    const auto numeric = without_prefixes(package_numeric());
    const auto lines = package_lines(r);
    std::string s = "{\"report\":\"packages\",\"packages\":[";
    for (std::size_t i = 0; i < r.rows.size(); ++i) {
        const PackageBalance& b = r.rows[i];
        std::string row = json_row(names, without_prefixes(lines[i]), numeric);
        row.pop_back();  // the closing brace
        row += ",\"prefixes\":[";
        for (std::size_t k = 0; k < b.package.prefixes.size(); ++k)
            row += (k ? ",\"" : "\"") + json_escape(b.package.prefixes[k]) + '"';
        s += (i ? "," : "") + row + "],\"seconds\":" + int_str(b.package.seconds) + ",\"used_s\":" +
             int_str(b.used_s) + ",\"left_s\":" + int_str(b.left_s()) + "}";
    }
    return s + "]}\n";
}

Result<BreakEven> break_even(Money fixed_costs, const ReportRow& t) {
    BreakEven b;
    b.fixed_costs = fixed_costs;
    b.profit = t.profit;
    b.billed_s = t.billed_s;
    if (fixed_costs.is_negative())
        return fail(ErrorCode::invalid_argument, "fixed costs must be >= 0", "fixed_costs");
    if (t.billed_s <= 0 || t.profit.micros() <= 0)
        return fail(ErrorCode::invalid_argument,
                    "no break-even: the period has no billed minutes or no profit", "profit");
    // minutes = fixed * (billed_s / 60) / profit, rounded up.
    const i128 num = static_cast<i128>(fixed_costs.micros()) * t.billed_s;
    const i128 den = static_cast<i128>(t.profit.micros()) * 60;
    const i128 m = detail::round_div(num, den, Rounding::up);
    if (!detail::fits64(m)) return fail(ErrorCode::overflow, "break-even minutes out of range");
    b.minutes = static_cast<std::int64_t>(m);
    b.profit_per_minute = Money::from_micros(static_cast<std::int64_t>(
        detail::round_div(static_cast<i128>(t.profit.micros()) * 60, t.billed_s, Rounding::down)));
    return b;
}

std::string format_break_even(const BreakEven& b, std::string_view format) {
    const std::vector<std::string> names = {"fixed_costs", "profit", "billed_s",
                                            "profit_per_minute", "break_even_minutes"};
    const std::vector<std::vector<std::string>> cells = {
        {b.fixed_costs.to_string(), b.profit.to_string(), std::to_string(b.billed_s),
         b.profit_per_minute.to_string(), std::to_string(b.minutes)}};
    const std::vector<bool> numeric(names.size(), true);
    if (format == "csv") return render_csv(names, cells);
    if (format == "json") return "{\"report\":\"breakeven\"," + json_row(names, cells[0], numeric).substr(1) + "\n";
    return render_table(names, cells, numeric, false);
}

}  // namespace billing

// GET /api/reports/{kind}: the billing reports of `trunkctl report` (revenue, clearing,
// gateway, settlement, profit, asr, agent-income, packages, commitments) as JSON or CSV. See
// api.hpp "Reports"; packages lists the packages valid at some moment of [from, until) with
// their minutes left (billing/report.hpp PackageReport), from and until optional: all of them;
// commitments is one local month (?month=YYYY-MM, billing/commitments.hpp), not a period.
#include <fmt/format.h>

#include <set>

#include "api_common.hpp"
#include "billing/commitments.hpp"
#include "billing/report.hpp"
#include "billing/time.hpp"

namespace sw::api {

using namespace detail;

namespace {

// A report that reads every CDR of its period (profit by prefix, rate deviation ranges) runs
// on the switch's loop: bounded here; trunkctl report has no bound (it runs elsewhere).
constexpr std::int64_t kMaxCdrScanMs = 7LL * 86'400'000;

struct ReportQuery {
    std::string kind, by, agent, month;
    billing::Timestamp from = 0, until = 0;
    bool csv = false, deviation = false;
};

// trunkctl's names: report KIND [--by B]
std::optional<billing::ReportKind> kind_of(const ReportQuery& q) {
    using K = billing::ReportKind;
    if (q.kind == "revenue" && q.by.empty()) return K::revenue;
    if (q.kind == "clearing") return q.by == "gateway" ? std::optional(K::clearing_gateway)
                                     : q.by.empty()    ? std::optional(K::clearing)
                                                       : std::nullopt;
    if (q.kind == "gateway" && q.by.empty()) return K::gateway;
    if (q.kind == "settlement" && q.by.empty()) return K::settlement;
    if (q.kind == "profit")
        return q.by == "customer"                ? std::optional(K::profit_customer)
               : q.by.empty() || q.by == "area" ? std::optional(K::profit_area)
                                                 : std::nullopt;
    if (q.kind == "asr" && q.by.empty()) return K::asr;
    return std::nullopt;
}

std::optional<Response> read_query(const Request& rq, std::int64_t wall_ms, ReportQuery& q) {
    if (auto bad = unknown_param(rq, {"from", "until", "by", "agent", "format", "rate_deviation", "month"}))
        return std::move(*bad);
    bool has_from = false, has_until = false, has_month = false;
    for (const auto& [name, value] : rq.query) {
        if (name == "from" || name == "until") {
            auto t = billing::parse_time(value);
            if (!t) return error(400, t.error().message, name);
            (name == "from" ? q.from : q.until) = *t;
            has_from = has_from || name == "from";
            has_until = has_until || name == "until";
        } else if (name == "format") {
            if (value != "json" && value != "csv") return error(400, "format is json or csv", name);
            q.csv = value == "csv";
        } else if (name == "month") {
            q.month = value;
            has_month = true;
        } else if (name == "rate_deviation") {
            if (value != "true" && value != "false") return error(400, "rate_deviation is true or false", name);
            q.deviation = value == "true";
        } else {
            (name == "by" ? q.by : q.agent) = value;
        }
    }
    // Commitments are one local month (its zone is the store's: checked there), not a period.
    if (q.kind == "commitments") {
        if (has_from || has_until)
            return error(400, "commitments is one month: month=YYYY-MM, not from and until", has_from ? "from" : "until");
        if (!has_month) return error(400, "month is required (YYYY-MM)", "month");
        if (auto m = billing::month_range(q.month, billing::WorkCalendar{}); !m)
            return error(400, m.error().message, "month");
        return std::nullopt;
    }
    if (has_month) return error(400, "month applies to commitments only", "month");
    // Packages are a state, not traffic: without a period every package (also those valid
    // from next month); the traffic reports need a start and end now by default.
    const bool packages = q.kind == "packages";
    if (!has_until) q.until = packages ? billing::kTimeMax : wall_ms + 1;
    if (!has_from && !packages) return error(400, "from is required (the period's start)", "from");
    if (!has_from) q.from = billing::kTimeMin;
    if (q.from >= q.until) return error(400, "from must be before until", "from");
    return std::nullopt;
}

// by and rate_deviation belong to the traffic reports (agent: refused before).
std::optional<Response> package_params(const ReportQuery& q) {
    if (!q.by.empty()) return error(400, "by does not apply to packages", "by");
    if (q.deviation) return error(400, "rate_deviation applies to profit reports only", "rate_deviation");
    return std::nullopt;
}

Response text(std::string body, bool csv) {
    Response r;
    r.content_type = csv ? "text/csv; charset=utf-8" : "application/json";
    r.body = std::move(body);
    if (csv) r.headers.emplace_back("Content-Disposition", "attachment; filename=\"report.csv\"");
    return r;
}

}  // namespace

Response Api::reports(Ctx& c, const std::optional<std::string_view>& kind) {
    if (!reads(c.rq.method)) return not_allowed("GET, HEAD");
    if (!kind || kind->empty() || kind->find('/') != std::string_view::npos) return error(404, "no such report");
    ReportQuery q;
    q.kind = std::string(*kind);
    if (auto bad = read_query(c.rq, c.wall_ms, q)) return std::move(*bad);
    if (!data_) return error(503, "the billing store is not available");
    auto failed = [](const billing::Error& e) {
        return error(e.code == billing::ErrorCode::db_locked ? 503 : 500, e.message);
    };
    if (q.kind == "agent-income") {
        if (!q.by.empty()) return error(400, "by does not apply to agent-income", "by");
        auto inc = data_->agent_income(q.from, q.until, q.agent);
        if (!inc) return failed(inc.error());
        return text(q.csv ? billing::format_csv(*inc) : billing::format_json(*inc), q.csv);
    }
    if (!q.agent.empty()) return error(400, "agent applies to agent-income only", "agent");
    if (q.kind == "commitments") {
        if (!q.by.empty()) return error(400, "by does not apply to commitments", "by");
        if (q.deviation) return error(400, "rate_deviation applies to profit reports only", "rate_deviation");
        auto rep = data_->commitment_report(q.month);
        if (!rep && rep.error().code == billing::ErrorCode::invalid_argument && rep.error().field == "month")
            return error(400, rep.error().message, "month");
        if (!rep) return failed(rep.error());
        return text(q.csv ? billing::format_csv(*rep) : billing::format_json(*rep), q.csv);
    }
    if (q.kind == "packages") {
        if (auto bad = package_params(q)) return std::move(*bad);
        auto rep = data_->package_report(q.from, q.until);
        if (!rep) return failed(rep.error());
        return text(q.csv ? billing::format_csv(*rep) : billing::format_json(*rep), q.csv);
    }
    const auto rk = kind_of(q);
    if (!rk) {
        static const std::set<std::string_view> kKinds = {"revenue", "clearing", "gateway", "settlement",
                                                         "profit", "asr"};
        if (!kKinds.count(q.kind)) return error(404, "no such report (revenue, clearing, gateway, settlement, "
                                                     "profit, asr, agent-income, packages, commitments)");
        return error(400, fmt::format("by {} does not apply to report {}", q.by, q.kind), "by");
    }
    const bool profit = *rk == billing::ReportKind::profit_area || *rk == billing::ReportKind::profit_customer;
    if (q.deviation && !profit) return error(400, "rate_deviation applies to profit reports only", "rate_deviation");
    const bool scans = *rk == billing::ReportKind::profit_area || q.deviation;
    if (scans && q.until - q.from > kMaxCdrScanMs)
        return error(400, "a report that reads every CDR (profit by area, rate deviation) covers at most 7 days "
                          "here; trunkctl report has no bound", "from");
    auto rep = data_->report(*rk, q.from, q.until, q.deviation);
    if (!rep) return failed(rep.error());
    return text(q.csv ? billing::format_csv(*rep) : billing::format_json(*rep), q.csv);
}

}  // namespace sw::api

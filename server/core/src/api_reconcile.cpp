// POST /api/reconcile: a vendor's CDR file (the body, CSV) against our CDRs with that vendor,
// as `trunkctl reconcile FILE --vendor ID` (billing/reconcile.hpp: parse_vendor_cdrs,
// recon_calls_from, reconcile, format_recon), the options as query parameters. See api.hpp
// "Reconciliation".
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "api_common.hpp"
#include "billing/cdr_filter.hpp"
#include "billing/reconcile.hpp"
#include "billing/time.hpp"

namespace sw::api {

using namespace detail;

namespace {

// It reads our CDRs of its period on the switch's loop, as the reports that read every CDR
// do: the same bound (api_reports.cpp), and at most this many of our CDRs. trunkctl
// reconcile has neither bound (it runs elsewhere).
constexpr std::int64_t kMaxReconPeriodMs = 7LL * 86'400'000;
constexpr std::size_t kMaxReconCdrs = 250'000;

struct ReconQuery {
    std::string vendor;
    billing::ReconFormat fmt;
    billing::ReconOptions opt;
    billing::Timestamp from = 0, until = 0;
    bool csv = false;
};

std::optional<bool> flag(std::string_view v) {
    if (v == "true" || v == "1" || v == "yes" || v.empty()) return true;
    if (v == "false" || v == "0" || v == "no") return false;
    return std::nullopt;
}

// trunkctl reconcile's options, '-' as '_' (--decimal-comma: decimal_comma); --json is
// format=json (the default).
std::optional<Response> read_query(const Request& rq, std::int64_t wall_ms, ReconQuery& q) {
    if (auto bad = unknown_param(rq, {"vendor", "map", "delimiter", "decimal_comma", "no_header", "from", "until",
                                      "tolerance", "duration_tolerance", "format"}))
        return std::move(*bad);
    std::set<std::string_view> seen;
    for (const auto& [name, value] : rq.query)
        if (!seen.insert(name).second) return error(400, "given twice", name);
    bool has_from = false, has_until = false;
    for (const auto& [name, value] : rq.query) {
        if (name == "vendor") {
            if (value.empty()) return error(422, "vendor names the vendor's account", name);
            q.vendor = value;
        } else if (name == "map") {
            if (auto r = billing::parse_recon_mapping(value, q.fmt); !r) return error(422, r.error().message, name);
        } else if (name == "delimiter") {
            if (value == "\\t" || value == "tab")
                q.fmt.delimiter = '\t';
            else if (value.size() == 1 && value[0] != '"')
                q.fmt.delimiter = value[0];
            else
                return error(422, "delimiter must be one character (not '\"')", name);
        } else if (name == "from" || name == "until") {
            auto t = billing::parse_time(value);
            if (!t) return error(422, t.error().message, name);
            (name == "from" ? q.from : q.until) = *t;
            (name == "from" ? has_from : has_until) = true;
        } else if (name == "tolerance" || name == "duration_tolerance") {
            std::int64_t n = -1;
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec != std::errc{} || end != value.data() + value.size() || n < 0 || n > 86400)
                return error(422, name + " takes seconds (0..86400)", name);
            if (name == "tolerance")
                q.opt.start_tolerance_ms = n * 1000;
            else
                q.opt.duration_tolerance_s = n;
        } else if (name == "format") {
            if (value != "json" && value != "csv") return error(422, "format is json or csv", name);
            q.csv = value == "csv";
        } else {  // decimal_comma, no_header
            auto b = flag(value);
            if (!b) return error(422, "true or false", name);
            if (name == "decimal_comma")
                q.fmt.decimal_comma = *b;
            else
                q.fmt.header = !*b;
        }
    }
    if (q.vendor.empty()) return error(422, "vendor is required (the vendor's account)", "vendor");
    if (!has_from) return error(422, "from is required (the period's start: our CDRs ending from then)", "from");
    if (!has_until) q.until = wall_ms + 1;
    if (q.from >= q.until) return error(422, "from must be before until", "from");
    if (q.until - q.from > kMaxReconPeriodMs)
        return error(400, "a reconciliation reads every CDR of its period: at most 7 days here; "
                          "trunkctl reconcile has no bound", "from");
    return std::nullopt;
}

Response failed(const billing::Error& e) {
    return error(e.code == billing::ErrorCode::db_locked ? 503 : 500, e.message);
}

}  // namespace

Response Api::reconcile(Ctx& c) {
    if (c.rq.method != "POST") return not_allowed("POST");
    ReconQuery q;
    if (auto bad = read_query(c.rq, c.wall_ms, q)) return std::move(*bad);
    // the file first: its errors are the vendor's, whatever our side holds
    billing::ReconParse theirs = billing::parse_vendor_cdrs(c.rq.body, q.fmt);
    if (!theirs.ok()) {
        // trunkctl prints each error as "FILE: line N, field F: message"
        const billing::Error& first = theirs.errors.front();
        JsonWriter w;
        w.begin_object()
            .field("error", fmt::format("{} error(s) in the vendor file: {}", theirs.error_count, first.describe()))
            .field("field", "file")
            .field("error_count", static_cast<std::uint64_t>(theirs.error_count));
        write_line_errors(w, theirs.errors, true);
        w.end_object();
        return json(422, w.take());
    }
    if (!data_) return error(503, "the CDR store is not available");
    if (auto v = data_->account(q.vendor); !v) {
        if (v.error().code == billing::ErrorCode::unknown_account)
            return error(422, fmt::format("no account {}", q.vendor), "vendor");
        return failed(v.error());
    }
    billing::CdrFilter f{.from = q.from, .until = q.until, .vendor = q.vendor, .limit = kMaxReconCdrs + 1};
    auto page = data_->cdrs(f);
    if (!page) return failed(page.error());
    std::vector<billing::Cdr>& ours = page->cdrs;
    if (ours.size() > kMaxReconCdrs)
        return error(400, fmt::format("more than {} of our CDRs with {} in this period: choose a shorter one "
                                      "(trunkctl reconcile has no bound)", kMaxReconCdrs, q.vendor), "from");
    // trunkctl reads them in id order (Store::for_each_cdr); the search answers latest first
    std::sort(ours.begin(), ours.end(), [](const billing::Cdr& a, const billing::Cdr& b) { return a.id < b.id; });
    const auto calls = billing::recon_calls_from(ours);
    auto rep = billing::reconcile(calls, theirs.calls, q.opt);
    if (!rep) {  // a sum out of range: the file's amounts or durations
        if (rep.error().code == billing::ErrorCode::overflow) return error(422, rep.error().message, "file");
        return failed(rep.error());
    }
    Response r;
    r.body = billing::format_recon(*rep, q.csv ? "csv" : "json");
    if (q.csv) {
        r.content_type = "text/csv; charset=utf-8";
        r.headers.emplace_back("Content-Disposition", "attachment; filename=\"reconciliation.csv\"");
    }
    return r;
}

}  // namespace sw::api

// GET /api/cdrs: the CDR search (sw::api::Data::cdrs over billing::sqlite::Store::find_cdrs),
// latest end time first and cursor-paged, as JSON or CSV. See api.hpp "CDRs".
#include <fmt/format.h>

#include <charconv>
#include <variant>

#include "api_common.hpp"
#include "billing/cdr.hpp"
#include "billing/cdr_filter.hpp"

namespace sw::api {

using namespace detail;

namespace {

constexpr std::size_t kDefaultCdrPage = 100;
constexpr std::size_t kMaxCdrPage = 10'000;  // one page is one query on the loop: keep it short
constexpr std::int64_t kDefaultWindowMs = 24LL * 3600 * 1000;

struct CdrSearch {
    billing::CdrFilter filter;
    bool csv = false;
};

std::optional<std::int64_t> positive(std::string_view v) {
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || end != v.data() + v.size() || n < 1) return std::nullopt;
    return n;
}

// One query parameter into the search; an error answer naming it when it is not valid.
std::optional<Response> apply(CdrSearch& s, std::string_view name, const std::string& value,
                              bool& has_from, bool& has_until) {
    billing::CdrFilter& f = s.filter;
    if (name == "from" || name == "until") {
        auto t = billing::parse_time(value);
        if (!t) return error(400, t.error().message, name);
        (name == "from" ? f.from : f.until) = *t;
        (name == "from" ? has_from : has_until) = true;
    } else if (name == "before") {
        f.before = billing::parse_cdr_cursor(value);
        if (!f.before) return error(400, "before is the `next` of the previous page", name);
    } else if (name == "limit") {
        auto n = positive(value);
        if (!n || *n > static_cast<std::int64_t>(kMaxCdrPage))
            return error(400, fmt::format("limit must be 1..{}", kMaxCdrPage), name);
        f.limit = static_cast<std::size_t>(*n);
    } else if (name == "format") {
        if (value != "json" && value != "csv") return error(400, "format is json or csv", name);
        s.csv = value == "csv";
    } else {
        std::string& text = name == "customer" ? f.customer
                            : name == "vendor" ? f.vendor
                            : name == "gateway" ? f.gateway
                            : name == "number" ? f.number
                                               : f.call_id;
        if (value.empty()) return error(400, "an empty value selects nothing; leave it out", name);
        text = value;
    }
    return std::nullopt;
}

// The search the query asks for. Without `from`, the 24 hours before `until` (or now): a
// search is one query on the switch's loop, so it never scans the whole history unasked.
std::variant<CdrSearch, Response> parse_search(const Request& rq, std::int64_t wall_ms) {
    if (auto bad = unknown_param(rq, {"from", "until", "customer", "vendor", "gateway", "number",
                                      "call_id", "before", "limit", "format"}))
        return std::move(*bad);
    CdrSearch s;
    s.filter.limit = kDefaultCdrPage;
    bool has_from = false, has_until = false;
    for (const auto& [name, value] : rq.query)
        if (auto bad = apply(s, name, value, has_from, has_until)) return std::move(*bad);
    if (!has_until) s.filter.until = wall_ms + 1;  // calls that ended up to now
    if (!has_from) s.filter.from = s.filter.until - kDefaultWindowMs;
    if (s.filter.from >= s.filter.until) return error(400, "from must be before until", "from");
    return s;
}

std::string cdr_csv(const std::vector<billing::Cdr>& rows, int decimals) {
    std::string out = billing::cdr_csv_header() + "\r\n";  // RFC 4180 line ends
    for (const billing::Cdr& c : rows) out += billing::cdr_csv_line(c, decimals) + "\r\n";
    return out;
}

std::string cdr_page_json(const std::vector<billing::Cdr>& rows, int decimals, bool more) {
    std::string out = "{\"cdrs\":[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (i) out += ',';
        out += billing::cdr_json(rows[i], decimals);
    }
    out += "],\"next\":";
    out += more ? "\"" + to_string(billing::cursor_of(rows.back())) + "\"" : std::string("null");
    return out + "}";
}

}  // namespace

// Cursor paging as for accounts, latest end first: `next` names this page's last CDR and is
// sent back as `before` (CSV: the X-Next-Before header); null (no header) on the last page.
Response Api::cdrs(Ctx& c) {
    auto parsed = parse_search(c.rq, c.wall_ms);
    if (auto* r = std::get_if<Response>(&parsed)) return std::move(*r);
    CdrSearch& s = std::get<CdrSearch>(parsed);
    if (!data_) return error(503, "the CDR store is not available");
    const std::size_t limit = s.filter.limit;
    s.filter.limit = limit + 1;  // one more than asked: whether a next page exists
    auto page = data_->cdrs(s.filter);
    if (!page) return error(page.error().code == billing::ErrorCode::db_locked ? 503 : 500,
                            page.error().message);
    const bool more = page->cdrs.size() > limit;
    if (more) page->cdrs.resize(limit);
    if (!s.csv) return json(200, cdr_page_json(page->cdrs, page->decimals, more));
    Response r;
    r.content_type = "text/csv; charset=utf-8";
    r.body = cdr_csv(page->cdrs, page->decimals);
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"cdrs.csv\"");
    if (more) r.headers.emplace_back("X-Next-Before", to_string(billing::cursor_of(page->cdrs.back())));
    return r;
}

}  // namespace sw::api

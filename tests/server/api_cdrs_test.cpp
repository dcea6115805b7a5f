// GET /api/cdrs through sw::api::Api over wiring::ApiData on a real SQLite file: filters,
// latest-first cursor paging (JSON `next`, CSV X-Next-Before), the default 24-hour window,
// CSV with the export's header, amounts at the currency precision, and precise 400s naming
// the parameter.
#include <catch2/catch.hpp>

#include <regex>
#include <string>

#include "api_fixture.hpp"

using namespace std::chrono_literals;
using namespace test;

namespace {

constexpr std::int64_t kNow = kWall2025;  // 2025-11-24 16:00:00 UTC: "now"

billing::Cdr cdr(int i, std::int64_t end_ms, std::string customer, std::string callee) {
    billing::Cdr c;
    c.call.caller = "1555000" + std::to_string(i);
    c.call.callee = std::move(callee);
    c.call.customer = std::move(customer);
    c.call.customer_gateway = "gw-" + c.call.customer;
    c.call.vendor = "V1";
    c.call.vendor_gateway = i % 2 ? "rgw-a" : "rgw-b";
    c.call.setup_ms = end_ms - 70'000;
    c.call.answer_ms = end_ms - 60'000;
    c.call.end_ms = end_ms;
    c.call.sip_code = 200;
    c.call.end_reason = "Normal";
    c.call.call_id_in = "in-" + std::to_string(i);
    c.call.call_id_out = "out-" + std::to_string(i);
    c.duration_s = 60;
    c.customer_billed_s = 60;
    c.charge = *billing::Money::parse("0.012345");
    return c;
}

struct Fixture : ApiDataFixture {
    Fixture() : ApiDataFixture("tl-api-cdrs") {
        wall = kNow;
        {
            auto st = billing::sqlite::Store::open(db);
            REQUIRE(st);
            REQUIRE(st->set_currency({"EUR", 3, billing::Rounding::up}));
            add_accounts(*st, {"C1", "C2", "V1"});  // a CDR moves their money
            std::vector<billing::Cdr> rows;
            // 30 calls of C1 and C2, one a minute, the last ending at "now" - 1 s; one of
            // C1 two days ago (outside the default window)
            for (int i = 0; i < 30; ++i)
                rows.push_back(cdr(i, kNow - 1000 - (29 - i) * 60'000LL, i % 3 ? "C1" : "C2",
                                   i % 5 ? "4420" + std::to_string(7000 + i) : "4930" + std::to_string(i)));
            rows.push_back(cdr(99, kNow - 48 * 3600'000LL, "C1", "4420999"));
            auto ok = st->insert_cdrs(rows);
            INFO((ok ? "" : ok.error().describe()));
            REQUIRE(ok);
        }
        open_data();
    }
    sw::api::Response get(std::vector<std::pair<std::string, std::string>> query = {}) {
        return handle({.path = "/api/cdrs", .query = std::move(query), .token = kRead});
    }
};

// The "caller" values of a JSON page, in order.
std::vector<std::string> callers(const std::string& body) {
    std::vector<std::string> out;
    static const std::regex re("\"caller\":\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(body.begin(), body.end(), re); it != std::sregex_iterator(); ++it)
        out.push_back((*it)[1]);
    return out;
}

std::string next_of(const std::string& body) {
    std::smatch m;
    static const std::regex re("\"next\":(null|\"([0-9.]+)\")");
    REQUIRE(std::regex_search(body, m, re));
    return m[2];
}

}  // namespace

TEST_CASE("api cdrs: latest first, the last 24 hours by default, paged by a cursor", "[server][api][cdrs]") {
    Fixture f;
    auto r = f.get({{"limit", "12"}});
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/json");
    auto page = callers(r.body);
    REQUIRE(page.size() == 12);
    CHECK(page.front() == "155500029");  // the latest end time first
    CHECK(page.back() == "155500018");
    std::vector<std::string> all = page;
    std::string next = next_of(r.body);
    for (int i = 0; i < 10 && !next.empty(); ++i) {
        r = f.get({{"limit", "12"}, {"before", next}});
        REQUIRE(r.status == 200);
        page = callers(r.body);
        all.insert(all.end(), page.begin(), page.end());
        next = next_of(r.body);
    }
    CHECK(all.size() == 30);  // the call two days ago is outside the default window
    CHECK(all.back() == "15550000");
    // an explicit range reaches it
    r = f.get({{"from", "2025-11-01"}, {"customer", "C1"}, {"number", "4420999"}});
    REQUIRE(r.status == 200);
    CHECK(callers(r.body) == std::vector<std::string>{"155500099"});
    CHECK(next_of(r.body).empty());
}

TEST_CASE("api cdrs: filters by account, gateway, number and Call-ID", "[server][api][cdrs]") {
    Fixture f;
    auto count = [&](std::vector<std::pair<std::string, std::string>> q) {
        q.emplace_back("limit", "1000");
        auto r = f.get(std::move(q));
        REQUIRE(r.status == 200);
        return callers(r.body).size();
    };
    CHECK(count({{"customer", "C2"}}) == 10);
    CHECK(count({{"customer", "C1"}}) == 20);
    CHECK(count({{"vendor", "V1"}}) == 30);
    CHECK(count({{"gateway", "rgw-a"}}) == 15);
    CHECK(count({{"gateway", "gw-C2"}}) == 10);
    CHECK(count({{"number", "4930"}}) == 6);
    CHECK(count({{"number", "4930"}, {"customer", "C2"}}) == 2);  // calls 0 and 15
    CHECK(count({{"call_id", "out-7"}}) == 1);
    CHECK(count({{"number", "1555"}, {"until", "2025-11-24 15:50"}}) == 20);
    CHECK(count({{"customer", "nobody"}}) == 0);
}

TEST_CASE("api cdrs: amounts at the currency precision, JSON and CSV alike", "[server][api][cdrs]") {
    Fixture f;
    auto r = f.get({{"call_id", "in-3"}});
    REQUIRE(r.status == 200);
    CHECK(r.body.find("\"charge\":\"0.012345\"") != std::string::npos);  // exact: more decimals kept
    r = f.get({{"limit", "5"}, {"format", "csv"}});
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "text/csv; charset=utf-8");
    CHECK(header(r, "Content-Disposition") == "attachment; filename=\"cdrs.csv\"");
    CHECK(r.body.rfind(billing::cdr_csv_header() + "\r\n", 0) == 0);
    CHECK(std::count(r.body.begin(), r.body.end(), '\n') == 6);
    const std::string next = header(r, "X-Next-Before");
    REQUIRE_FALSE(next.empty());
    auto r2 = f.get({{"limit", "25"}, {"format", "csv"}, {"before", next}});
    REQUIRE(r2.status == 200);
    CHECK(std::count(r2.body.begin(), r2.body.end(), '\n') == 26);
    CHECK(header(r2, "X-Next-Before").empty());  // the last page
}

TEST_CASE("api cdrs: bad parameters are 400 naming the parameter", "[server][api][cdrs]") {
    Fixture f;
    struct Case {
        std::vector<std::pair<std::string, std::string>> query;
        std::string field;
    };
    const std::vector<Case> cases = {
        {{{"limit", "0"}}, "limit"},
        {{{"limit", "10001"}}, "limit"},
        {{{"limit", "ten"}}, "limit"},
        {{{"from", "yesterday"}}, "from"},
        {{{"until", "2025-13-01"}}, "until"},
        {{{"from", "2025-11-24 12:00"}, {"until", "2025-11-24 11:00"}}, "from"},
        {{{"before", "17"}}, "before"},
        {{{"format", "xml"}}, "format"},
        {{{"customer", ""}}, "customer"},
        {{{"callee", "4420"}}, "callee"},
    };
    for (const Case& c : cases) {
        auto r = f.get(c.query);
        INFO(r.body);
        CHECK(r.status == 400);
        CHECK(r.body.find("\"field\":\"" + c.field + "\"") != std::string::npos);
    }
    // CDRs are not edited through the API, not even by an admin
    CHECK(f.handle({.method = "DELETE", .path = "/api/cdrs", .token = kAdmin}).status == 405);
}

// GET /api/reports/{kind} through sw::api::Api over wiring::ApiData on a real SQLite file:
// each kind answers what `trunkctl report` prints for the same period (billing's own
// formatting), CSV too; agent income with a commission; commitments of one month; the bound on reports that read every
// CDR; and precise errors naming the parameter.
#include <catch2/catch.hpp>

#include <string>

#include "api_fixture.hpp"
#include "billing/report.hpp"

using namespace test;

namespace {

constexpr std::int64_t kNow = kWall2025;  // 2025-11-24 16:00:00 UTC
constexpr std::int64_t kHour = 3'600'000;

billing::Cdr cdr(int i, std::int64_t end_ms, const char* customer, const char* charge, const char* cost) {
    billing::Cdr c = uk_minute("1555000" + std::to_string(i), "4420700" + std::to_string(i), end_ms, customer, "V1",
                               charge, cost);
    c.call.vendor_gateway = "rgw-a";
    return c;
}

struct Fixture : ApiDataFixture {
    Fixture() : ApiDataFixture("tl-api-reports") {
        wall = kNow;
        {
            auto st = billing::sqlite::Store::open(db);
            REQUIRE(st);
            add_accounts(*st, {"C1", "C2", "V1"});
            billing::Account agent;
            agent.id = "A1";
            agent.kind = billing::AccountKind::agent;
            agent.commission_ppm = 100'000;  // 10 % of the charge
            REQUIRE(st->add_account(agent));
            auto c1 = st->account("C1");
            REQUIRE(c1);
            c1->agent = "A1";
            REQUIRE(st->update_account(*c1));
            std::vector<billing::Cdr> rows;  // over the last 3 days, some an hour apart
            for (int i = 0; i < 12; ++i)
                rows.push_back(cdr(i, kNow - (i * 6 + 1) * kHour, i % 2 ? "C1" : "C2", "0.1000", "0.0400"));
            REQUIRE(st->insert_cdrs(rows));
        }
        open_data();
    }
    // url: "/api/reports/x?a=1&b=2" (values as decoded, as wiring::HttpServer hands them)
    sw::api::Response get(const std::string& url, const std::string& method = "GET") {
        Call c{.method = method, .path = url.substr(0, url.find('?')), .token = method == "GET" ? kRead : kAdmin};
        for (std::size_t at = url.find('?'); at != std::string::npos;) {
            const std::size_t next = url.find('&', at + 1);
            const std::string kv = url.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1);
            const std::size_t eq = kv.find('=');
            c.query.emplace_back(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
            at = next;
        }
        return handle(c);
    }
    // What trunkctl report prints for the same period (billing's formatting).
    std::string expected(billing::ReportKind k, bool deviation = false) {
        auto st = billing::sqlite::Store::open(db);
        REQUIRE(st);
        auto rep = deviation ? st->report_with_deviation(k, kNow - 4 * 24 * kHour, kNow + 1)
                             : st->report(k, kNow - 4 * 24 * kHour, kNow + 1);
        REQUIRE(rep);
        return billing::format_json(*rep);
    }
};

const std::string kFrom = "from=2025-11-20T16:00:00";  // kNow - 4 days

}  // namespace

TEST_CASE("api reports: each kind answers what trunkctl report prints", "[server][api][reports]") {
    Fixture f;
    using K = billing::ReportKind;
    const std::vector<std::pair<std::string, K>> cases = {
        {"revenue", K::revenue},           {"clearing", K::clearing},
        {"clearing?by=gateway", K::clearing_gateway}, {"gateway", K::gateway},
        {"settlement", K::settlement},     {"profit", K::profit_area},
        {"profit?by=customer", K::profit_customer},   {"asr", K::asr}};
    for (const auto& [path, kind] : cases) {
        const std::string url = "/api/reports/" + path + (path.find('?') == std::string::npos ? "?" : "&") + kFrom;
        auto r = f.get(url);
        INFO(url << " " << r.body);
        REQUIRE(r.status == 200);
        CHECK(r.content_type == "application/json");
        CHECK(r.body == f.expected(kind));
    }
    auto r = f.get("/api/reports/profit?by=customer&rate_deviation=true&" + kFrom);
    REQUIRE(r.status == 200);
    CHECK(r.body == f.expected(K::profit_customer, true));
    CHECK(r.body.find("rate_deviation_min") != std::string::npos);
    r = f.get("/api/reports/revenue?format=csv&" + kFrom);
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "text/csv; charset=utf-8");
    CHECK(header(r, "Content-Disposition") == "attachment; filename=\"report.csv\"");
    CHECK(r.body.find("1.2000") != std::string::npos);  // 12 calls at 0.10: the total revenue
}

TEST_CASE("api reports: agent income with the agent's commission", "[server][api][reports]") {
    Fixture f;
    auto r = f.get("/api/reports/agent-income?agent=A1&" + kFrom);
    REQUIRE(r.status == 200);
    INFO(r.body);
    CHECK(r.body.find("\"agent\":\"A1\"") != std::string::npos);
    CHECK(r.body.find("\"account\":\"C1\"") != std::string::npos);
    CHECK(r.body.find("\"commission\":\"0.0600\"") != std::string::npos);  // 10 % of 6 x 0.10
    CHECK(r.body.find("\"account\":\"C2\"") == std::string::npos);         // not A1's
}

TEST_CASE("api reports: bad parameters are 400 naming them; unknown kinds 404", "[server][api][reports]") {
    Fixture f;
    struct Case {
        std::string url;
        int status;
        std::string field;
    };
    const std::vector<Case> cases = {
        {"/api/reports/revenue", 400, "from"},
        {"/api/reports/revenue?from=yesterday", 400, "from"},
        {"/api/reports/revenue?" + kFrom + "&until=2025-11-01", 400, "from"},
        {"/api/reports/revenue?by=gateway&" + kFrom, 400, "by"},
        {"/api/reports/profit?by=vendor&" + kFrom, 400, "by"},
        {"/api/reports/revenue?rate_deviation=true&" + kFrom, 400, "rate_deviation"},
        {"/api/reports/revenue?agent=A1&" + kFrom, 400, "agent"},
        {"/api/reports/revenue?format=xml&" + kFrom, 400, "format"},
        {"/api/reports/revenue?color=red&" + kFrom, 400, "color"},
        // profit by prefix reads every CDR of the period: at most 7 days on the switch's loop
        {"/api/reports/profit?from=2025-11-01", 400, "from"},
        {"/api/reports/profit?by=customer&rate_deviation=true&from=2025-11-01", 400, "from"},
        {"/api/reports/margins?" + kFrom, 404, ""},
    };
    for (const Case& c : cases) {
        auto r = f.get(c.url);
        INFO(c.url << " " << r.body);
        CHECK(r.status == c.status);
        if (!c.field.empty()) CHECK(names_field(r, c.field));
    }
    CHECK(f.get("/api/reports/profit?by=customer&from=2025-11-01").status == 200);  // the rollup: any period
    CHECK(f.get("/api/reports/revenue?" + kFrom, "POST").status == 405);
}

TEST_CASE("api reports: packages with the minutes left, as trunkctl report packages", "[server][api][reports]") {
    Fixture f;
    {
        auto st = billing::sqlite::Store::open(f.db);
        REQUIRE(st);
        const billing::Money zero;  // free packages; C1 and C2 paid for their calls: a top-up to buy one
        for (const char* id : {"C1", "C2"}) REQUIRE(st->topup(id, *billing::Money::parse("1"), kNow));
        REQUIRE(st->sell_package({"C1", "uk", {"44", "33"}, 120, zero, *billing::parse_time("2025-11-01"),
                                  *billing::parse_time("2025-12-01")},
                                 kNow));
        REQUIRE(st->sell_package({"C2", "dec", {"44"}, 600, zero, *billing::parse_time("2025-12-01"),
                                  *billing::parse_time("2026-01-01")},
                                 kNow));
        billing::Cdr c = cdr(99, kNow - kHour, "C1", "0", "0.0400");  // covered by "uk": 60 s used
        c.package_name = "uk";
        c.package_s = 60;
        std::vector<billing::Cdr> rows = {c};
        REQUIRE(st->insert_cdrs(rows));
    }
    auto expected = [&](std::int64_t from, std::int64_t until, bool csv) {
        auto st = billing::sqlite::Store::open(f.db);
        REQUIRE(st);
        auto rep = st->package_report(from, until);
        REQUIRE(rep);
        return csv ? billing::format_csv(*rep) : billing::format_json(*rep);
    };
    // No period: every package (a state, not traffic: from is not required here).
    auto r = f.get("/api/reports/packages");
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/json");
    CHECK(r.body == expected(billing::kTimeMin, billing::kTimeMax, false));
    CHECK(r.body.find("\"name\":\"uk\"") != std::string::npos);
    CHECK(r.body.find("\"used_s\":60,\"left_s\":60") != std::string::npos);
    CHECK(r.body.find("\"name\":\"dec\"") != std::string::npos);
    // A period selects the packages valid at some moment of it; until defaults to no end.
    r = f.get("/api/reports/packages?from=2025-12-01");
    REQUIRE(r.status == 200);
    CHECK(r.body.find("\"name\":\"uk\"") == std::string::npos);
    CHECK(r.body.find("\"name\":\"dec\"") != std::string::npos);
    r = f.get("/api/reports/packages?until=2025-12-01&format=csv");
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "text/csv; charset=utf-8");
    CHECK(r.body == expected(billing::kTimeMin, *billing::parse_time("2025-12-01"), true));
    CHECK(r.body == "account,name,prefixes,valid_from,valid_until,minutes,used_min,left_min,fee\n"
                    "C1,uk,\"44,33\",2025-11-01 00:00:00,2025-12-01 00:00:00,2.00,1.00,1.00,0.0000\n");
    // One account's GET lists its packages (not the other accounts').
    r = f.get("/api/accounts/C1");
    REQUIRE(r.status == 200);
    CHECK(r.body.find(",\"packages\":[{\"name\":\"uk\",\"prefixes\":[\"44\",\"33\"],\"valid_from\":"
                      "\"2025-11-01 00:00:00\",\"valid_until\":\"2025-12-01 00:00:00\",\"seconds\":120,"
                      "\"used_s\":60,\"left_s\":60,\"fee\":\"0.00\"}],\"tiers\":[]}") != std::string::npos);
    r = f.get("/api/accounts/V1");
    REQUIRE(r.status == 200);
    CHECK(r.body.find("\"packages\":[]") != std::string::npos);
    for (const auto& [url, field] : std::vector<std::pair<std::string, std::string>>{
             {"/api/reports/packages?by=customer", "by"},
             {"/api/reports/packages?agent=A1", "agent"},
             {"/api/reports/packages?rate_deviation=true", "rate_deviation"},
             {"/api/reports/packages?from=soon", "from"},
             {"/api/reports/packages?from=2025-12-01&until=2025-11-01", "from"}}) {
        auto bad = f.get(url);
        INFO(url << " " << bad.body);
        CHECK(bad.status == 400);
        CHECK(names_field(bad, field));
    }
}

TEST_CASE("api reports: commitments of one month, as trunkctl report commitments", "[server][api][reports]") {
    Fixture f;
    {
        auto st = billing::sqlite::Store::open(f.db);
        REQUIRE(st);
        // C1: 6 calls of 60 s to 44 in November (the fixture's), C2 likewise.
        REQUIRE(st->put_commitment({"C1", "44", 5, *billing::parse_ratio_ppm("10%")}));
        REQUIRE(st->put_commitment({"C2", "", 100, *billing::parse_ratio_ppm("5%")}));
    }
    auto expected = [&](const char* month, bool csv) {
        auto st = billing::sqlite::Store::open(f.db);
        REQUIRE(st);
        auto rep = st->commitment_report(month);
        REQUIRE(rep);
        return csv ? billing::format_csv(*rep) : billing::format_json(*rep);
    };
    auto r = f.get("/api/reports/commitments?month=2025-11");
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/json");
    CHECK(r.body == expected("2025-11", false));
    CHECK(r.body.find("{\"report\":\"commitments\",\"month\":\"2025-11\",\"rows\":[{\"account\":\"C1\","
                      "\"prefix\":\"44\"") != std::string::npos);
    CHECK(r.body.find("\"met\":true,\"charge\":\"0.6000\",\"discount\":\"0.0600\",\"contracted_s\":300,"
                      "\"actual_s\":360,\"shortfall_s\":0}") != std::string::npos);
    CHECK(r.body.find("\"met\":false") != std::string::npos);  // C2: 6 of 100 minutes
    r = f.get("/api/reports/commitments?month=2025-11&format=csv");
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "text/csv; charset=utf-8");
    CHECK(r.body == expected("2025-11", true));
    CHECK(r.body.starts_with("account,prefix,discount_rate,contracted_min,actual_min,shortfall_min,met,charge,"
                             "discount\n"));
    // Another month: the commitments with nothing counted.
    r = f.get("/api/reports/commitments?month=2025-10");
    REQUIRE(r.status == 200);
    CHECK(r.body == expected("2025-10", false));
    CHECK(r.body.find("\"actual_s\":360") == std::string::npos);
    for (const auto& [url, field] : std::vector<std::pair<std::string, std::string>>{
             {"/api/reports/commitments", "month"},
             {"/api/reports/commitments?month=2025-13", "month"},
             {"/api/reports/commitments?month=November", "month"},
             {"/api/reports/commitments?month=2025-11&from=2025-11-01", "from"},
             {"/api/reports/commitments?month=2025-11&until=2025-12-01", "until"},
             {"/api/reports/commitments?month=2025-11&by=customer", "by"},
             {"/api/reports/commitments?month=2025-11&agent=A1", "agent"},
             {"/api/reports/commitments?month=2025-11&rate_deviation=true", "rate_deviation"},
             {"/api/reports/revenue?from=2025-11-01&month=2025-11", "month"}}) {
        auto bad = f.get(url);
        INFO(url << " " << bad.body);
        CHECK(bad.status == 400);
        CHECK(names_field(bad, field));
    }
    CHECK(f.get("/api/reports/commitments?month=2025-11", "POST").status == 405);
}

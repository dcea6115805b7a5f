// Tests for libbilling/src/report.cpp and cdr.cpp: grouping, exact sums (sum of the
// report = sum of the CDRs), derived figures, table/CSV/JSON output, break-even.
#include <catch2/catch.hpp>

#include <algorithm>
#include <tuple>

#include "billing/csv.hpp"
#include "billing/report.hpp"
#include "billing_fixtures.hpp"

using namespace billing;
using namespace billing_test;

TEST_CASE("report: every kind sums to the CDRs", "[billing][report][property]") {
    Book book = sample_book();
    for (unsigned seed = 1; seed <= 20; ++seed) {
        std::mt19937_64 rng(seed);
        auto cdrs = random_cdrs(book, rng, 400);
        Money revenue, cost, profit;
        std::int64_t duration = 0, answered = 0;
        for (const Cdr& c : cdrs) {
            revenue = *revenue.add(c.charge);
            cost = *cost.add(c.cost);
            profit = *profit.add(c.profit);
            duration += c.duration_s;
            answered += c.duration_s > 0;
        }
        for (int k = 0; k <= static_cast<int>(ReportKind::asr); ++k) {
            ReportBuilder b(static_cast<ReportKind>(k));
            for (const Cdr& c : cdrs) REQUIRE(b.add(c));
            auto r = b.finish();
            REQUIRE(r);
            CHECK(r->total.revenue == revenue);
            CHECK(r->total.cost == cost);
            CHECK(r->total.profit == profit);
            CHECK(r->total.profit.micros() == r->total.revenue.micros() - r->total.cost.micros());
            CHECK(r->total.calls == static_cast<std::int64_t>(cdrs.size()));
            CHECK(r->total.duration_s == duration);
            CHECK(r->total.answered == answered);
            for (std::size_t i = 1; i < r->rows.size(); ++i)
                CHECK(std::tie(r->rows[i - 1].key, r->rows[i - 1].key2) < std::tie(r->rows[i].key, r->rows[i].key2));
        }
    }
}

TEST_CASE("report: grouping keys, ASR/ACD and margin", "[billing][report]") {
    auto cdr = [](const char* cust, const char* vgw, const char* area, std::int64_t dur, const char* charge,
                  const char* cost) {
        Cdr c;
        c.call.customer = cust;
        c.call.vendor = "V";
        c.call.vendor_gateway = vgw;
        c.area = area;
        c.duration_s = dur;
        c.charge = money(charge);
        c.cost = money(cost);
        c.profit = *c.charge.sub(c.cost);
        return c;
    };
    std::vector<Cdr> v = {cdr("A", "g1", "UK", 60, "0.02", "0.01"), cdr("A", "g1", "UK", 0, "0", "0"),
                          cdr("A", "g1", "UK", 0, "0", "0"), cdr("B", "g1", "UK", 120, "0.04", "0.05"),
                          cdr("B", "g2", "DE", 30, "0.01", "0.005")};
    ReportBuilder asr(ReportKind::asr);
    for (auto& c : v) REQUIRE(asr.add(c));
    auto r = asr.finish();
    REQUIRE(r);
    REQUIRE(r->rows.size() == 2);
    // g1/UK: 4 calls, 2 answered -> ASR 50 %; ACD (60 + 120) / 2 = 90 s
    CHECK(r->rows[0].key == "g1");
    CHECK(r->rows[0].key2 == "UK");
    CHECK(r->rows[0].asr_ppm() == 500000);
    CHECK(r->rows[0].acd_s() == 90);
    // margin of g1/UK: revenue 0.06, cost 0.06 -> 0 %; g2/DE: 0.005 / 0.01 = 50 %
    CHECK(r->rows[0].margin_ppm() == 0);
    CHECK(r->rows[1].margin_ppm() == 500000);
    ReportBuilder rev(ReportKind::revenue);
    for (auto& c : v) REQUIRE(rev.add(c));
    auto rr = rev.finish();
    REQUIRE(rr);
    REQUIRE(rr->rows.size() == 2);
    CHECK(rr->rows[0].revenue == money("0.02"));
    CHECK(rr->rows[1].revenue == money("0.05"));
    CHECK(rr->rows[1].profit == money("-0.005"));  // B loses money on g1

    const std::string table = format_table(*rr);
    CHECK(table.find("customer") == 0);
    CHECK(table.find("TOTAL") != std::string::npos);
    const std::string csv = format_csv(*rr);
    CHECK(csv.find("customer,calls,answered,asr,acd_s,duration_s,billed_s,vendor_billed_s,revenue,cost,profit,margin\n") == 0);
    CHECK(csv.find("\nB,2,2,100.00%,75,150,0,0,0.05,0.055,-0.005,-10.00%\n") != std::string::npos);
    const std::string json = format_json(*rr);
    CHECK(json.find("{\"report\":\"revenue\",\"rows\":[{\"customer\":\"A\",\"calls\":3,") == 0);
    CHECK(json.find("\"revenue\":\"0.05\"") != std::string::npos);
}

TEST_CASE("report: overflowing sums are errors", "[billing][report]") {
    Cdr c;
    c.call.customer = "A";
    c.charge = Money::from_micros(INT64_MAX);
    ReportBuilder b(ReportKind::revenue);
    REQUIRE(b.add(c));
    auto r = b.add(c);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::overflow);
}

TEST_CASE("report: break-even minutes", "[billing][report]") {
    ReportRow t;
    t.billed_s = 600000;           // 10,000 billed minutes
    t.profit = money("250");       // 0.025 per minute
    auto b = break_even(money("1000"), t);
    REQUIRE(b);
    // 1000 / 0.025 = 40,000 minutes
    CHECK(b->minutes == 40000);
    CHECK(b->profit_per_minute == money("0.025"));
    // Not a whole number: 1001 / 0.025 = 40,040; 1000.01 / 0.025 = 40,000.4 -> 40,001
    CHECK(break_even(money("1000.01"), t)->minutes == 40001);
    t.profit = money("-1");
    CHECK_FALSE(break_even(money("1000"), t));
    CHECK(format_break_even(*b, "csv").find("1000.00,250.00,600000,0.025,40000") != std::string::npos);
}

TEST_CASE("cdr: CSV and VOS3000-style pipe lines", "[billing][cdr]") {
    Book book = sample_book();
    std::mt19937_64 rng(1);
    auto cdrs = random_cdrs(book, rng, 5);
    Cdr c = cdrs[0];
    c.call.end_reason = "a|b\nc";
    const std::string pipe = cdr_pipe_line(c);
    CHECK(std::count(pipe.begin(), pipe.end(), '|') == 17);  // 18 fields
    CHECK(pipe.find('\n') == std::string::npos);
    CHECK(cdr_hour_file_name(c).size() == std::string("2025112409.txt").size());
    const std::string csv = cdr_csv_line(c);
    CHECK(csv.find("\"a|b\nc\"") != std::string::npos);
    std::vector<std::string> f;
    REQUIRE(split_csv(cdr_csv_header(), ',', f));
    CHECK(f.size() == 29);
}

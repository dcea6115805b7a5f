// POST /api/reconcile through sw::api::Api over wiring::ApiData on a real SQLite file: a
// vendor's CDR file against our CDRs with that vendor answers what `trunkctl reconcile
// --json` prints (billing's reconcile and format_recon over the store's CDRs of the period),
// a read token may send it, a bad line is 422 naming its line and field, and the period is
// bounded as for the reports that read every CDR.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "api_fixture.hpp"
#include "billing/reconcile.hpp"

using namespace test;

namespace {

constexpr std::int64_t kNow = kWall2025;  // 2025-11-24 16:00:00 UTC
constexpr std::int64_t kHour = 3'600'000;

// An answered call of C1 through vendor `vendor`, answered at `answer_ms`, 60 s, costing `cost`.
billing::Cdr cdr(const char* callee, std::int64_t answer_ms, const char* vendor, const char* cost) {
    billing::Cdr c = uk_minute("15550001111", callee, answer_ms + 60'000, "C1", vendor, "0.1000", cost);
    c.call.setup_ms = answer_ms - 5'000;
    c.call.vendor_gateway = std::string("rgw-") + vendor;
    return c;
}

struct Fixture : ApiDataFixture {
    Fixture() : ApiDataFixture("tl-api-reconcile") {
        wall = kNow;
        {
            auto st = billing::sqlite::Store::open(db);
            REQUIRE(st);
            add_accounts(*st, {"C1", "V1", "V2"});
            std::vector<billing::Cdr> rows = {
                cdr("442070000001", kNow - 3 * kHour, "V1", "0.0400"),  // they agree
                cdr("442070000002", kNow - 2 * kHour, "V1", "0.0400"),  // they bill 0.0500
                cdr("442070000003", kNow - 2 * kHour, "V2", "0.0400"),  // another vendor's
            };
            REQUIRE(st->insert_cdrs(rows));
        }
        open_data();
    }
    sw::api::Response post(std::string body, std::vector<std::pair<std::string, std::string>> query,
                           const std::string& token = kAdmin, const std::string& method = "POST") {
        return handle({.method = method, .path = "/api/reconcile", .query = std::move(query),
                       .body = std::move(body), .token = token});
    }
    // What trunkctl reconcile computes for V1 over [from, until): its CDRs in id order.
    std::string expected(const std::string& file, std::int64_t from, std::int64_t until,
                         std::string_view format = "json") {
        auto st = billing::sqlite::Store::open(db);
        REQUIRE(st);
        std::vector<billing::Cdr> ours;
        REQUIRE(st->for_each_cdr(from, until, [&](const billing::Cdr& c) {
            if (c.call.vendor == "V1") ours.push_back(c);
            return true;
        }));
        billing::ReconParse theirs = billing::parse_vendor_cdrs(file, billing::ReconFormat{});
        REQUIRE(theirs.ok());
        auto calls = billing::recon_calls_from(ours);
        auto rep = billing::reconcile(calls, theirs.calls, {});
        REQUIRE(rep);
        return billing::format_recon(*rep, format);
    }
};

// The vendor's file: the first call as ours, the second 0.01 dearer, one call we never made.
const std::string kFile =
    "callee,start,duration,amount\n"
    "+44 20 7000 0001,2025-11-24 13:00:02,60,0.0400\n"
    "442070000002,2025-11-24 14:00:00,60,0.0500\n"
    "442079999999,2025-11-24 14:30:00,30,0.0200\n";
const std::string kFrom = "2025-11-24T00:00";

}  // namespace

TEST_CASE("api reconcile: a vendor file against our CDRs, as trunkctl reconcile", "[server][api][reconcile]") {
    Fixture f;
    auto r = f.post(kFile, {{"vendor", "V1"}, {"from", kFrom}});
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/json");
    CHECK(r.body == f.expected(kFile, kNow - 16 * kHour, kNow + 1));
    CHECK(has(r.body, "\"matched\":2,"));
    CHECK(has(r.body, "\"our_amount\":\"0.08\""));
    CHECK(has(r.body, "\"their_amount\":\"0.11\""));
    CHECK(has(r.body, "\"amount_deviation\":\"0.03\""));
    // the one difference: the second call, ours 0.04, theirs 0.05 (line 3)
    CHECK(has(r.body, "\"differing\":[{\"ours\":{\"callee\":\"442070000002\",\"start\":\"2025-11-24 14:00:00\","
                      "\"duration_s\":60,\"amount\":\"0.04\",\"line\":0,\"cdr_id\":2},\"theirs\":{\"callee\":"
                      "\"442070000002\",\"start\":\"2025-11-24 14:00:00\",\"duration_s\":60,\"amount\":\"0.05\","
                      "\"line\":3,\"cdr_id\":0},\"duration_diff_s\":0,\"amount_diff\":\"0.01\"}]"));
    CHECK(has(r.body, "\"only_ours\":[]"));  // V2's call is not V1's
    CHECK(has(r.body, "\"only_theirs\":[{\"callee\":\"442079999999\",\"start\":\"2025-11-24 14:30:00\","
                      "\"duration_s\":30,\"amount\":\"0.02\",\"line\":4,\"cdr_id\":0}]"));

    // it changes nothing: a read token may send it
    CHECK(f.post(kFile, {{"vendor", "V1"}, {"from", kFrom}}, kRead).status == 200);
    // trunkctl's CSV
    r = f.post(kFile, {{"vendor", "V1"}, {"from", kFrom}, {"format", "csv"}});
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "text/csv; charset=utf-8");
    CHECK(r.body == f.expected(kFile, kNow - 16 * kHour, kNow + 1, "csv"));
    // a period that ends before the calls: every vendor call is only theirs
    r = f.post(kFile, {{"vendor", "V1"}, {"from", kFrom}, {"until", "2025-11-24T12:00"}});
    REQUIRE(r.status == 200);
    CHECK(has(r.body, "\"matched\":0,"));
    CHECK(r.body == f.expected(kFile, kNow - 16 * kHour, kNow - 4 * kHour));
    // the options of trunkctl: another layout with a mapping, ';' and decimal commas
    const std::string other = "Dst;Secs;Begin;Cost\n"
                              "442070000001;60;2025-11-24 13:00:00;0,0400\n"
                              "442070000002;60;2025-11-24 14:00:00;0,0400\n";
    r = f.post(other, {{"vendor", "V1"}, {"from", kFrom}, {"delimiter", ";"}, {"decimal_comma", "true"},
                       {"map", "callee=Dst,start=Begin,duration=Secs,amount=Cost"}});
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(has(r.body, "\"matched\":2,"));
    CHECK(has(r.body, "\"differing\":[]"));
    CHECK(has(r.body, "\"amount_deviation\":\"0.00\""));
}

TEST_CASE("api reconcile: a bad line is 422 naming its line and field", "[server][api][reconcile]") {
    Fixture f;
    const std::string bad = "callee,start,duration,amount\n"
                            "442070000001,2025-11-24 13:00:00,60,0.0400\n"
                            "442070000002,2025-11-24 14:00:00,sixty,0.0500\n";
    auto r = f.post(bad, {{"vendor", "V1"}, {"from", kFrom}});
    INFO(r.body);
    REQUIRE(r.status == 422);
    CHECK(names_field(r, "file"));
    CHECK(has(r.body, "\"error\":\"1 error(s) in the vendor file: line 3, field duration: "));
    CHECK(has(r.body, "\"error_count\":1"));
    CHECK(has(r.body, "\"errors\":[{\"line\":3,\"column\":\"duration\""));
    // a column the mapping names that the header lacks
    r = f.post(kFile, {{"vendor", "V1"}, {"from", kFrom}, {"map", "callee=Called"}});
    CHECK(r.status == 422);
    CHECK(has(r.body, "column 'Called' not found"));
    CHECK(has(r.body, "\"column\":\"callee\""));
    // an empty file
    r = f.post("", {{"vendor", "V1"}, {"from", kFrom}});
    CHECK(r.status == 422);
    CHECK(names_field(r, "file"));
}

TEST_CASE("api reconcile: parameters are checked and named; the period is at most 7 days",
          "[server][api][reconcile]") {
    Fixture f;
    auto r = f.post(kFile, {{"vendor", "V1"}, {"from", "2025-11-10"}});
    CHECK(r.status == 400);
    CHECK(names_field(r, "from"));
    CHECK(has(r.body, "7 days"));
    r = f.post(kFile, {{"vendor", "V1"}, {"from", "2025-11-01"}, {"until", "2025-11-08T00:00:01"}});
    CHECK(r.status == 400);
    CHECK(names_field(r, "from"));
    CHECK(f.post(kFile, {{"vendor", "V1"}, {"from", "2025-11-01"}, {"until", "2025-11-08"}}).status == 200);

    const std::vector<std::pair<std::vector<std::pair<std::string, std::string>>, std::string>> refused = {
        {{{"from", kFrom}}, "vendor"},                                      // missing
        {{{"vendor", "V9"}, {"from", kFrom}}, "vendor"},                    // no such account
        {{{"vendor", ""}, {"from", kFrom}}, "vendor"},
        {{{"vendor", "V1"}}, "from"},                                       // missing
        {{{"vendor", "V1"}, {"from", "yesterday"}}, "from"},
        {{{"vendor", "V1"}, {"from", kFrom}, {"until", "2025-11-23"}}, "from"},  // before from
        {{{"vendor", "V1"}, {"from", kFrom}, {"until", "soon"}}, "until"},
        {{{"vendor", "V1"}, {"from", kFrom}, {"tolerance", "-1"}}, "tolerance"},
        {{{"vendor", "V1"}, {"from", kFrom}, {"duration_tolerance", "1d"}}, "duration_tolerance"},
        {{{"vendor", "V1"}, {"from", kFrom}, {"delimiter", ";;"}}, "delimiter"},
        {{{"vendor", "V1"}, {"from", kFrom}, {"map", "price=3"}}, "map"},
        {{{"vendor", "V1"}, {"from", kFrom}, {"no_header", "maybe"}}, "no_header"},
        {{{"vendor", "V1"}, {"from", kFrom}, {"format", "xml"}}, "format"},
    };
    for (const auto& [query, field] : refused) {
        r = f.post(kFile, query);
        INFO(field << " " << r.body);
        CHECK(r.status == 422);
        CHECK(names_field(r, field));
    }
    r = f.post(kFile, {{"vendor", "V1"}, {"from", kFrom}, {"vendr", "V1"}});
    CHECK(r.status == 400);
    CHECK(names_field(r, "vendr"));
    r = f.post(kFile, {{"vendor", "V1"}, {"vendor", "V2"}, {"from", kFrom}});
    CHECK(r.status == 400);
    CHECK(names_field(r, "vendor"));
    r = f.post(kFile, {{"vendor", "V1"}, {"from", kFrom}}, kRead, "GET");
    CHECK(r.status == 405);
    CHECK(header(r, "Allow") == "POST");
    // a read token may reconcile, not write elsewhere
    CHECK(f.handle({.method = "POST", .path = "/api/accounts/C1/topup", .body = R"({"amount":"1"})",
                    .token = kRead}).status == 403);
    // documented
    CHECK(has(f.handle({.path = "/api/openapi.json", .token = kRead}).body, "\"/api/reconcile\""));
}

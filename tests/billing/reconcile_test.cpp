// Tests for libbilling/src/reconcile.cpp: vendor CDR parsing and bilateral matching.
#include <catch2/catch.hpp>

#include "billing/reconcile.hpp"

using namespace billing;

namespace {
Money M(const char* s) { return *Money::parse(s); }
ReconCall ours(const char* callee, const char* start, std::int64_t dur, const char* amount, std::int64_t id) {
    ReconCall c;
    c.callee = callee;
    c.start_ms = *parse_time(start);
    c.duration_s = dur;
    c.amount = M(amount);
    c.cdr_id = id;
    return c;
}
}  // namespace

TEST_CASE("reconcile: match, differences and missing calls", "[billing][reconcile]") {
    const std::string vendor_file =
        "Called,Start,Secs,Cost\n"
        "+44 20 7123 4567,2026-11-26 10:00:02,60,0.0100\n"   // matches #1 (2 s later, digits only)
        "4420712345,2026-11-26 10:05:00,95,0.0200\n"          // matches #2, longer and dearer
        "4915111,2026-11-26 11:00:00,30,0.0050\n";            // we have no such call
    ReconFormat fmt;
    REQUIRE(parse_recon_mapping("callee=Called,start=Start,duration=Secs,amount=Cost", fmt));
    ReconParse theirs = parse_vendor_cdrs(vendor_file, fmt);
    REQUIRE(theirs.ok());
    REQUIRE(theirs.calls.size() == 3);
    std::vector<ReconCall> mine = {ours("442071234567", "2026-11-26 10:00:00", 60, "0.0100", 1),
                                   ours("4420712345", "2026-11-26 10:05:01", 90, "0.0150", 2),
                                   ours("331234", "2026-11-26 12:00:00", 10, "0.0010", 3)};
    auto r = reconcile(mine, theirs.calls, ReconOptions{});
    REQUIRE(r);
    CHECK(r->matched == 2);
    REQUIRE(r->differing.size() == 1);
    CHECK(r->differing[0].ours.cdr_id == 2);
    CHECK(r->differing[0].theirs.line == 3);
    CHECK(r->differing[0].duration_diff_s == 5);
    CHECK(r->differing[0].amount_diff == M("0.005"));
    REQUIRE(r->only_ours.size() == 1);
    CHECK(r->only_ours[0].cdr_id == 3);
    REQUIRE(r->only_theirs.size() == 1);
    CHECK(r->only_theirs[0].line == 4);
    // amounts: ours 0.0260, theirs 0.0350 -> deviation +0.0090
    CHECK(r->our_amount == M("0.026"));
    CHECK(r->their_amount == M("0.035"));
    CHECK(r->amount_deviation == M("0.009"));
    CHECK(format_recon(*r, "table").find("matched:            2") == 0);
    CHECK(format_recon(*r, "json").find("\"amount_deviation\":\"0.009\"") != std::string::npos);
    CHECK(format_recon(*r, "csv").find("only_theirs,4915111") != std::string::npos);
}

TEST_CASE("reconcile: tolerance and best duration match", "[billing][reconcile]") {
    std::vector<ReconCall> mine = {ours("1", "2026-01-01 00:00:00", 30, "0", 1),
                                   ours("1", "2026-01-01 00:00:03", 61, "0", 2)};
    std::vector<ReconCall> theirs = {ours("1", "2026-01-01 00:00:01", 60, "0", 0)};
    auto r = reconcile(mine, theirs, ReconOptions{});
    REQUIRE(r);
    CHECK(r->matched == 1);
    REQUIRE(r->differing.size() == 1);
    CHECK(r->differing[0].ours.cdr_id == 2);  // closest duration wins
    ReconOptions tight;
    tight.start_tolerance_ms = 500;
    auto t = reconcile(mine, theirs, tight);
    REQUIRE(t);
    CHECK(t->matched == 0);
    ReconOptions loose;
    loose.duration_tolerance_s = 1;
    CHECK(reconcile(mine, theirs, loose)->differing.empty());
}

TEST_CASE("reconcile: bad vendor lines name line and field", "[billing][reconcile]") {
    ReconFormat fmt;
    ReconParse p = parse_vendor_cdrs(
        "callee,start,duration,amount\n1,2026-01-01 00:00:00,10,0.1\n1,yesterday,10,0.1\n1,2026-01-01,-3,0.1\n"
        "1,2026-01-01,3,1.2.3\n",
        fmt);
    REQUIRE(p.errors.size() == 3);
    CHECK(p.errors[0].line == 3);
    CHECK(p.errors[0].field == "start");
    CHECK(p.errors[1].line == 4);
    CHECK(p.errors[1].field == "duration");
    CHECK(p.errors[2].field == "amount");
    CHECK(p.calls.empty());
    CHECK(parse_vendor_cdrs("a,b\n1,2\n", fmt).errors[0].field == "callee");
}

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
    CHECK(std::count(pipe.begin(), pipe.end(), '|') == 19);  // 20 fields
    CHECK(pipe.find('\n') == std::string::npos);
    CHECK(cdr_hour_file_name(c).size() == std::string("2025112409.txt").size());
    const std::string csv = cdr_csv_line(c);
    CHECK(csv.find("\"a|b\nc\"") != std::string::npos);
    std::vector<std::string> f;
    REQUIRE(split_csv(cdr_csv_header(), ',', f));
    CHECK(f.size() == 30);
}

namespace {

// One answered call whose every field differs, so a field at the wrong position shows.
Cdr pipe_sample() {
    Cdr c;
    c.call.caller = "15551234";
    c.call.callee = "442071234567";
    c.call.callee_out = "00442071234567";
    c.call.customer = "C1";
    c.call.customer_gateway = "gwA";
    c.call.vendor = "V1";
    c.call.vendor_gateway = "rgw1";
    c.call.setup_ms = *parse_time("2026-11-26 10:00:00");
    c.call.answer_ms = *parse_time("2026-11-26 10:00:05");
    c.call.end_ms = *parse_time("2026-11-26 10:01:52");
    c.call.sip_code = 200;
    c.call.end_reason = "Normal";
    c.call.hangup = HangupSide::callee;
    c.call.call_id_in = "cid-in";
    c.call.call_id_out = "cid-out";
    c.duration_s = 107;  // talk time
    c.hold_s = 112;      // setup -> end
    c.rate_prefix = "44";
    c.area = "UK";
    c.vendor_prefix = "4420";
    c.customer_billed_s = 108;
    c.vendor_billed_s = 108;
    c.customer_price = money("0.0125");
    c.vendor_price = money("0.0100");
    c.charge = money("0.0225");
    c.cost = money("0.018");
    c.profit = money("0.0045");
    return c;
}

}  // namespace

// VOS3000's known fields at VOS3000's positions (REFERENCE-vos3000.md 1.5), ours between.
TEST_CASE("cdr: hourly pipe line puts VOS3000's fields at their positions", "[billing][cdr]") {
    std::vector<std::string> f;
    REQUIRE(split_csv(cdr_pipe_line(pipe_sample(), 4), '|', f));
    REQUIRE(f.size() == 20);
    CHECK(f[0] == "15551234");             // 1 callerE164
    CHECK(f[1] == "442071234567");         // 2 calleeE164
    CHECK(f[2] == "2026-11-26 10:00:05");  // 3 startTime (answer)
    CHECK(f[3] == "2026-11-26 10:01:52");  // 4 stopTime
    CHECK(f[4] == "107");                  // 5 holdTime = talk time, not setup -> end (112)
    CHECK(f[5] == "Normal");               // 6 endReason
    CHECK(f[6] == "1");                    // 7 endDirection: callee hung up
    CHECK(f[7] == "gwA");                  // 8 caller gateway
    CHECK(f[8] == "rgw1");                 // 9 callee gateway
    CHECK(f[9] == "00442071234567");       // 10-15 ours
    CHECK(f[10] == "C1");
    CHECK(f[11] == "V1");
    CHECK(f[12] == "0.0225");
    CHECK(f[13] == "0.0180");
    CHECK(f[14] == "44");
    CHECK(f[15] == "0");                   // 16 calleeBilling: the caller pays
    CHECK(f[16] == "1");                   // 17 billingMode: gateway ID
    CHECK(f[17] == "UK");                  // 18 and after: ours
    CHECK(f[18] == "200");
    CHECK(f[19] == "cid-in");
    Cdr none = pipe_sample();
    none.call.customer.clear();
    REQUIRE(split_csv(cdr_pipe_line(none, 4), '|', f));
    CHECK(f[16] == "-1");                  // billingMode none: no customer account
}

// VOS3000 "Rate deviation": customer price - vendor price per minute, a named field.
TEST_CASE("cdr: rate_deviation in the CSV and JSON exports", "[billing][cdr]") {
    Cdr c = pipe_sample();
    CHECK(*cdr_rate_deviation(c) == money("0.0025"));
    std::vector<std::string> names, values;
    REQUIRE(split_csv(cdr_csv_header(), ',', names));
    REQUIRE(split_csv(cdr_csv_line(c, 4), ',', values));
    REQUIRE(names.size() == values.size());
    const auto at = [&](const char* n) { return values[std::find(names.begin(), names.end(), n) - names.begin()]; };
    CHECK(at("rate_deviation") == "0.0025");
    CHECK(at("duration_s") == "107");  // talk time (VOS3000 holdTime)
    CHECK(at("hold_s") == "112");      // setup -> end
    const std::string json = cdr_json(c, 4);
    CHECK(json.find("\"vendor_price\":\"0.0100\",\"rate_deviation\":\"0.0025\",") != std::string::npos);
    // A loss-making rate: negative; more decimals than the precision are kept (exact).
    c.vendor_price = money("0.013001");
    REQUIRE(split_csv(cdr_csv_line(c, 4), ',', values));
    CHECK(at("rate_deviation") == "-0.000501");
    // The JSON keys are the CSV header's names, in the same order.
    std::string keys;
    for (const std::string& n : names) keys += "\"" + n + "\":";
    std::string json_keys;
    const std::string j = cdr_json(c, 4);
    for (const std::string& n : names) {
        const std::size_t p = j.find("\"" + n + "\":");
        REQUIRE(p != std::string::npos);
        json_keys += j.substr(p, n.size() + 3);
    }
    CHECK(json_keys == keys);
}

TEST_CASE("report: rate deviation range per row of the profit reports", "[billing][report]") {
    auto cdr = [](const char* area, const char* prefix, std::int64_t dur, const char* cp, const char* vp) {
        Cdr c = pipe_sample();
        c.area = area;
        c.rate_prefix = prefix;
        c.duration_s = dur;
        c.customer_price = money(cp);
        c.vendor_price = money(vp);
        return c;
    };
    const std::vector<Cdr> v = {cdr("UK", "44", 60, "0.0125", "0.0100"), cdr("UK", "44", 30, "0.0125", "0.0080"),
                                cdr("UK", "44", 0, "0.0125", "0.0500"),  // unanswered: not counted
                                cdr("UK Mobile", "447", 42, "0.0625", "0.0700"),
                                cdr("DE", "49", 0, "0.0150", "0.0120")};
    ReportBuilder b(ReportKind::profit_area);
    RateDeviationRanges dev(ReportKind::profit_area);
    for (const Cdr& c : v) {
        REQUIRE(b.add(c));
        dev.add(c);
    }
    auto r = b.finish();
    REQUIRE(r);
    r->decimals = 4;
    CHECK(format_csv(*r).find("rate_deviation") == std::string::npos);  // only when applied
    dev.apply(*r);
    REQUIRE(r->rows.size() == 3);  // DE, UK, UK Mobile
    CHECK_FALSE(r->rows[0].rate_deviation_min);  // DE: no answered call
    CHECK(*r->rows[1].rate_deviation_min == money("0.0025"));
    CHECK(*r->rows[1].rate_deviation_max == money("0.0045"));
    CHECK(*r->total.rate_deviation_min == money("-0.0075"));
    CHECK(*r->total.rate_deviation_max == money("0.0045"));
    const std::string csv = format_csv(*r);
    CHECK(csv.find(",profit,margin,rate_deviation_min,rate_deviation_max\n") != std::string::npos);
    const std::size_t de = csv.find("\nDE,49,1,0,");
    REQUIRE(de != std::string::npos);
    CHECK(csv.substr(0, csv.find('\n', de + 1)).ends_with(",,"));  // DE: empty cells
    CHECK(csv.find(",0.0025,0.0045\n") != std::string::npos);
    CHECK(csv.find("\nTOTAL,,5,3,") != std::string::npos);
    CHECK(csv.find(",-0.0075,0.0045\n") != std::string::npos);
    const std::string json = format_json(*r);
    CHECK(json.find("\"rate_deviation_min\":null,\"rate_deviation_max\":null}") != std::string::npos);
    CHECK(json.find("\"rate_deviation_min\":\"-0.0075\",\"rate_deviation_max\":\"0.0045\"}") != std::string::npos);
    CHECK(format_table(*r).find("rate_deviation_min") != std::string::npos);
}

// --- Agent Income (VOS3000 agent accounts) ---------------------------------------------

namespace {

Account agent_acc(const char* id, std::int64_t ppm, CommissionBasis basis) {
    Account a;
    a.id = id;
    a.name = std::string("Agent ") + id;
    a.kind = AccountKind::agent;
    a.commission_ppm = ppm;
    a.commission_basis = basis;
    return a;
}

Account sub_acc(const char* id, const char* agent, AccountKind kind = AccountKind::customer) {
    Account a;
    a.id = id;
    a.kind = kind;
    a.agent = agent;
    return a;
}

Cdr agent_cdr(const char* customer, std::int64_t billed_s, const char* charge, const char* cost) {
    Cdr c;
    c.call.customer = customer;
    c.call.vendor = "V";
    c.duration_s = billed_s;
    c.customer_billed_s = billed_s;
    c.vendor_billed_s = billed_s;
    c.charge = money(charge);
    c.cost = money(cost);
    c.profit = *c.charge.sub(c.cost);
    return c;
}

Report by_customer(const std::vector<Cdr>& cdrs) {
    ReportBuilder b(ReportKind::profit_customer);
    for (const Cdr& c : cdrs) REQUIRE(b.add(c));
    auto r = b.finish();
    REQUIRE(r);
    return *r;
}

}  // namespace

TEST_CASE("agent commission: a percentage of the basis, rounded once with the currency rule", "[billing][report][agent]") {
    const Currency up{"USD", 4, Rounding::up};
    const Currency half{"USD", 4, Rounding::half_up};
    const Currency down{"USD", 2, Rounding::down};
    // 5% of 1.2345 = 0.061725 exactly.
    CHECK(*agent_commission(money("1.2345"), 50000, up) == money("0.0618"));
    CHECK(*agent_commission(money("1.2345"), 50000, half) == money("0.0617"));
    CHECK(*agent_commission(money("1.2345"), 50000, down) == money("0.06"));
    // 12.5% (125000 ppm) of 0.0004 = 0.00005: a tie goes away from zero with half-up.
    CHECK(*agent_commission(money("0.0004"), 125000, half) == money("0.0001"));
    CHECK(*agent_commission(money("0.0004"), 125000, Currency{"USD", 4, Rounding::down}) == money("0"));
    // Nothing on a zero or negative basis, nothing at 0%; 100% is the whole basis.
    CHECK(*agent_commission(money("-3"), 50000, up) == money("0"));
    CHECK(*agent_commission(money("0"), 50000, up) == money("0"));
    CHECK(*agent_commission(money("7.5"), 0, up) == money("0"));
    CHECK(*agent_commission(money("7.5"), 1000000, up) == money("7.5"));
    CHECK_FALSE(agent_commission(money("1"), 1000001, up));
    CHECK_FALSE(agent_commission(money("1"), -1, up));
}

TEST_CASE("agent income: per agent and sub-account, rounded per row, totals are sums of rows", "[billing][report][agent]") {
    const Currency cur{"USD", 4, Rounding::up};
    std::vector<Account> accounts = {agent_acc("A1", 50000, CommissionBasis::charge),     // 5% of charge
                                     agent_acc("A2", 100000, CommissionBasis::profit),    // 10% of profit
                                     agent_acc("A3", 50000, CommissionBasis::charge),     // no sub-accounts
                                     sub_acc("C1", "A1"), sub_acc("C2", "A1"), sub_acc("C3", "A2"),
                                     sub_acc("C4", "A2"), sub_acc("C5", ""), sub_acc("C6", "C5"),
                                     sub_acc("C7", "A1")};  // C7: no calls
    std::vector<Cdr> cdrs;
    // C1: three calls charged 0.0001 each. Per CDR, 5% rounded up would be 0.0001 each
    // (0.0003); per row it is 5% of 0.0003 = 0.000015 -> 0.0001.
    for (int i = 0; i < 3; ++i) cdrs.push_back(agent_cdr("C1", 6, "0.0001", "0.00005"));
    // C2: 60 s at 1.2345, cost 1.0000 -> charge basis 1.2345 -> 0.061725 -> 0.0618.
    cdrs.push_back(agent_cdr("C2", 60, "1.2345", "1.0000"));
    // C3: profit 0.5 + 0.25 = 0.75 -> 10% = 0.075.
    cdrs.push_back(agent_cdr("C3", 90, "1.5", "1.0"));
    cdrs.push_back(agent_cdr("C3", 30, "0.75", "0.5"));
    // C4 lost money: profit -0.2 -> commission 0, not negative.
    cdrs.push_back(agent_cdr("C4", 60, "0.3", "0.5"));
    // C5 has no agent; C6 names C5, which is not an agent: neither is in the report.
    cdrs.push_back(agent_cdr("C5", 60, "9", "1"));
    cdrs.push_back(agent_cdr("C6", 60, "9", "1"));
    // An unanswered call counts as a call.
    cdrs.push_back(agent_cdr("C2", 0, "0", "0"));

    auto r = agent_income(by_customer(cdrs), accounts, cur);
    REQUIRE(r);
    CHECK(r->decimals == 4);
    REQUIRE(r->agents.size() == 3);
    const AgentIncome& a1 = r->agents[0];
    CHECK(a1.agent == "A1");
    REQUIRE(a1.rows.size() == 3);
    CHECK(a1.rows[0].account == "C1");
    CHECK(a1.rows[0].calls == 3);
    CHECK(a1.rows[0].charge == money("0.0003"));
    CHECK(a1.rows[0].commission == money("0.0001"));
    CHECK(a1.rows[1].account == "C2");
    CHECK(a1.rows[1].calls == 2);
    CHECK(a1.rows[1].answered == 1);
    CHECK(a1.rows[1].commission == money("0.0618"));
    CHECK(a1.rows[2].account == "C7");
    CHECK(a1.rows[2].calls == 0);
    CHECK(a1.rows[2].commission == money("0"));
    CHECK(a1.total.commission == money("0.0619"));  // 0.0001 + 0.0618
    CHECK(a1.total.charge == money("1.2348"));
    CHECK(a1.total.calls == 5);
    const AgentIncome& a2 = r->agents[1];
    CHECK(a2.basis == CommissionBasis::profit);
    REQUIRE(a2.rows.size() == 2);
    CHECK(a2.rows[0].profit == money("0.75"));
    CHECK(a2.rows[0].commission == money("0.075"));
    CHECK(a2.rows[0].billed_s == 120);
    CHECK(a2.rows[1].profit == money("-0.2"));
    CHECK(a2.rows[1].commission == money("0"));
    CHECK(a2.total.profit == money("0.55"));
    // The agent's total commission is the sum of its rows, not 10% of its net profit (0.055).
    CHECK(a2.total.commission == money("0.075"));
    CHECK(r->agents[2].agent == "A3");
    CHECK(r->agents[2].rows.empty());
    CHECK(r->agents[2].total.calls == 0);
    CHECK(r->total.commission == money("0.1369"));
    CHECK(r->total.calls == 8);
    CHECK(r->total.charge == money("3.7848"));

    // Output: table with a TOTAL line per agent and a grand TOTAL; CSV; JSON amounts as strings.
    const std::string table = format_table(*r);
    CHECK(table.find("A1     C1       charge") != std::string::npos);
    CHECK(table.find("0.0619") != std::string::npos);
    const std::string csv = format_csv(*r);
    CHECK(csv.rfind("agent,account,basis,commission_rate,calls,answered,duration_s,billed_s,minutes,charge,cost,"
                    "profit,commission\n", 0) == 0);
    CHECK(csv.find("A1,C1,charge,5.00%,3,3,18,18,0.30,0.0003,0.00015,0.00015,0.0001\n") != std::string::npos);
    CHECK(csv.find("A2,TOTAL,profit,10.00%,3,3,180,180,3.00,2.5500,2.0000,0.5500,0.0750\n") != std::string::npos);
    CHECK(csv.find("\nTOTAL,,,,8,7,") != std::string::npos);
    const std::string json = format_json(*r);
    CHECK(json.find("{\"report\":\"agent-income\",\"agents\":[{\"agent\":\"A1\",\"name\":\"Agent A1\","
                    "\"basis\":\"charge\",\"commission_rate\":\"5.00%\",\"accounts\":[{\"account\":\"C1\","
                    "\"calls\":3,\"answered\":3,\"duration_s\":18,\"billed_s\":18,\"minutes\":\"0.30\","
                    "\"charge\":\"0.0003\",\"cost\":\"0.00015\",\"profit\":\"0.00015\",\"commission\":\"0.0001\"}") == 0);
    CHECK(json.find("\"total\":{\"calls\":8,") != std::string::npos);

    // One agent only; unknown ids and non-agents are errors.
    auto only = agent_income(by_customer(cdrs), accounts, cur, "A2");
    REQUIRE(only);
    REQUIRE(only->agents.size() == 1);
    CHECK(only->total.commission == money("0.075"));
    auto none = agent_income(by_customer(cdrs), accounts, cur, "NOPE");
    REQUIRE_FALSE(none);
    CHECK(none.error().code == ErrorCode::unknown_account);
    auto not_agent = agent_income(by_customer(cdrs), accounts, cur, "C1");
    REQUIRE_FALSE(not_agent);
    CHECK(not_agent.error().message == "account C1 is a customer, not an agent");
}

TEST_CASE("agent commission: only agents, 0% to 100%", "[billing][report][agent]") {
    Account a = agent_acc("A", 1000000, CommissionBasis::profit);
    CHECK(check_commission(a));
    a.commission_ppm = 1000001;
    CHECK_FALSE(check_commission(a));
    a.commission_ppm = -1;
    CHECK_FALSE(check_commission(a));
    Account c = sub_acc("C", "A");
    CHECK(check_commission(c));  // 0 on a customer is fine
    c.commission_ppm = 50000;
    auto e = check_commission(c);
    REQUIRE_FALSE(e);
    CHECK(e.error().message == "account C is a customer: only agent accounts earn a commission");
    CHECK(*parse_commission_basis("profit") == CommissionBasis::profit);
    CHECK(*parse_commission_basis("charge") == CommissionBasis::charge);
    CHECK_FALSE(parse_commission_basis("revenue"));
    CHECK(to_string(CommissionBasis::profit) == "profit");
}

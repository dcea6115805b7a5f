// sw::CallHistory, the last hour of calls by minute, on fake time: buckets roll with the
// minutes, an hour later old data is gone, a gap of empty minutes reads zero (and the
// concurrent count that held through it), ASR and ACD; and GET /api/stats/history over a real
// switch, a call answered and hung up across a minute boundary.
#include <catch2/catch.hpp>

#include <string>

#include "api_fixture.hpp"
#include "sip/builder.hpp"
#include "sip/message.hpp"
#include "sw/call_history.hpp"

using namespace std::chrono_literals;
using namespace test;

namespace {

// `minute` minutes and `second` seconds after Instant{} (offset 0: minute boundaries at 0 s).
sip::Instant at(int minute, int second = 0) {
    return sip::Instant{} + std::chrono::minutes(minute) + std::chrono::seconds(second);
}

billing::CallRecord ended(std::optional<std::int64_t> talk_ms) {
    billing::CallRecord r;
    r.setup_ms = 1'000;
    r.end_ms = 100'000;
    if (talk_ms) r.answer_ms = r.end_ms - *talk_ms;
    return r;
}

std::uint64_t total_started(const std::array<sw::HistoryMinute, sw::CallHistory::kMinutes>& h) {
    std::uint64_t n = 0;
    for (const auto& m : h) n += m.started + m.ended;
    return n;
}

}  // namespace

TEST_CASE("call history: 60 minutes oldest first, the last the current one; buckets roll",
          "[server][call_history]") {
    sw::CallHistory h;
    auto empty = h.last_hour(at(100));
    CHECK(empty.front().start_ms == 41 * 60'000);
    CHECK(empty.back().start_ms == 100 * 60'000);
    CHECK(total_started(empty) == 0);
    CHECK_FALSE(empty.back().asr());
    CHECK_FALSE(empty.back().acd_s());
    CHECK(empty.back().cps() == 0.0);

    h.on_started(at(100, 5));
    h.on_started(at(100, 59));
    h.on_started(at(101, 0));  // the next minute starts exactly on its first instant
    auto r = h.last_hour(at(101, 30));
    CHECK(r[58].start_ms == 100 * 60'000);
    CHECK(r[58].started == 2);
    CHECK(r[59].start_ms == 101 * 60'000);
    CHECK(r[59].started == 1);
    CHECK(r[59].cps() == Approx(1.0 / 60));
    CHECK(total_started(r) == 3);
    // reading is pure: the same answer again, and later the minutes move left
    CHECK(h.last_hour(at(101, 30))[58].started == 2);
    r = h.last_hour(at(103, 1));
    CHECK(r[56].started == 2);
    CHECK(r[57].started == 1);
    CHECK(r[58].started == 0);
    CHECK(r[59].started == 0);
}

TEST_CASE("call history: an hour later the old minutes are gone, read or written",
          "[server][call_history]") {
    sw::CallHistory h;
    h.on_started(at(10, 30));
    h.on_ended(at(10, 40), ended(5'000));
    CHECK(h.last_hour(at(69, 59))[0].started == 1);  // 59 minutes later: still the oldest
    auto r = h.last_hour(at(70));
    CHECK(total_started(r) == 0);  // 60 minutes later: gone, though its bucket is not reused yet
    CHECK(r[0].start_ms == 11 * 60'000);

    h.on_started(at(70, 1));  // the same bucket as minute 10's, now minute 70's
    r = h.last_hour(at(70, 2));
    CHECK(r[59].started == 1);
    CHECK(r[59].ended == 0);
    CHECK_FALSE(r[59].acd_s());
    CHECK(total_started(r) == 1);

    // three hours on: one write rewrites the ring once, nothing of before shows
    h.on_ended(at(250, 0), ended(std::nullopt));
    r = h.last_hour(at(250, 10));
    CHECK(total_started(r) == 1);
    CHECK(r[59].ended == 1);
    CHECK(r[59].asr() == Approx(0.0));
}

TEST_CASE("call history: a gap of empty minutes reads zero; the concurrent count holds through it",
          "[server][call_history]") {
    sw::CallHistory h;
    h.on_started(at(5, 10));
    h.on_concurrent(at(5, 10), 1);
    h.on_started(at(5, 20));
    h.on_concurrent(at(5, 20), 2);
    h.on_concurrent(at(6, 0), 1);  // one ends
    // nothing in minutes 7 and 8
    h.on_ended(at(9, 15), ended(60'000));
    h.on_concurrent(at(9, 15), 0);
    auto r = h.last_hour(at(12, 0));  // r[59] is minute 12, r[59 - k] minute 12 - k
    const auto& m5 = r[52];
    const auto& m6 = r[53];
    const auto& m9 = r[56];
    CHECK(m5.start_ms == 5 * 60'000);
    CHECK(m5.started == 2);
    CHECK(m5.peak_concurrent == 2);
    CHECK(m5.last_concurrent == 2);
    CHECK(m6.started == 0);
    CHECK(m6.peak_concurrent == 2);  // 2 calls at its start, 1 after the first instant
    CHECK(m6.last_concurrent == 1);
    for (int k : {54, 55}) {  // minutes 7 and 8: no calls, the one call still running
        CHECK(r[k].started == 0);
        CHECK(r[k].ended == 0);
        CHECK(r[k].answered == 0);
        CHECK(r[k].talk_ms == 0);
        CHECK_FALSE(r[k].asr());
        CHECK(r[k].peak_concurrent == 1);
        CHECK(r[k].last_concurrent == 1);
    }
    CHECK(m9.ended == 1);
    CHECK(m9.peak_concurrent == 1);
    CHECK(m9.last_concurrent == 0);
    for (int k : {57, 58, 59}) {  // after the last event: zero, and no call
        CHECK(r[k].started + r[k].ended == 0);
        CHECK(r[k].peak_concurrent == 0);
    }
    for (int k = 0; k < 52; ++k) CHECK(r[k].peak_concurrent + r[k].started == 0);  // before it began
}

TEST_CASE("call history: ASR is answered / ended, ACD the talk time per answered call",
          "[server][call_history]") {
    sw::CallHistory h;
    for (int i = 0; i < 6; ++i) h.on_started(at(3, i));
    h.on_ended(at(3, 40), ended(30'000));
    h.on_ended(at(3, 41), ended(90'000));
    h.on_ended(at(3, 42), ended(std::nullopt));  // failed
    h.on_ended(at(3, 43), ended(0));             // answered, hung up at once: counts, no talk
    auto m = h.last_hour(at(3, 50)).back();
    CHECK(m.started == 6);
    CHECK(m.cps() == Approx(0.1));
    CHECK(m.ended == 4);
    CHECK(m.answered == 3);
    CHECK(m.talk_ms == 120'000);
    REQUIRE(m.asr());
    CHECK(*m.asr() == Approx(0.75));
    REQUIRE(m.acd_s());
    CHECK(*m.acd_s() == Approx(40.0));
}

TEST_CASE("call history: minutes start on the wall clock's whole minutes (the fixed offset)",
          "[server][call_history]") {
    constexpr std::int64_t kOffset = 1'699'999'990'000;  // Instant{} is 10 s past a minute
    sw::CallHistory h(kOffset);
    h.on_started(sip::Instant{} + 49s);  // 59 s past: that minute
    h.on_started(sip::Instant{} + 50s);  // the next one's first instant
    auto r = h.last_hour(sip::Instant{} + 55s);
    CHECK(r[59].start_ms == 1'700'000'040'000);
    CHECK(r[59].start_ms % 60'000 == 0);
    CHECK(r[59].started == 1);
    CHECK(r[58].start_ms == 1'699'999'980'000);
    CHECK(r[58].started == 1);
}

TEST_CASE("api: GET /api/stats/history, a call answered and hung up across a minute",
          "[server][api][call_history]") {
    ApiFixture f(acme_config());
    f.route_acme();
    auto get = [&](sip::Instant now, std::string token = kRead) {
        return f.handle({.path = "/api/stats/history", .token = std::move(token), .now = now});
    };
    auto r = get(t0);
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/json");
    CHECK(r.body.starts_with("{\"bucket_s\":60,\"buckets\":[{\"t_ms\":"));
    CHECK(r.body.ends_with("]}\n"));
    std::size_t n = 0;
    for (std::size_t p = r.body.find("\"t_ms\""); p != std::string::npos; p = r.body.find("\"t_ms\"", p + 1)) ++n;
    CHECK(n == 60);
    const std::string zero_tail = R"("calls":0,"ended":0,"answered":0,"asr":null,"acd_s":null,"cps":0,)"
                                  R"("concurrent":0,"concurrent_last":0})";
    // t0 is 1000 s: the minute of 960 s
    CHECK(r.body.ends_with("{\"t_ms\":960000," + zero_tail + "]}\n"));

    // acme calls at t0; gw1 answers 2 s later; the operator hangs up at 1032 s (the next minute)
    f.from_acme(acme_invite("z9hG4bK-hist1", "hist-call-1"), t0);
    std::string inv_bytes;
    for (auto& s : f.take_sent())
        if (s.starts_with("INVITE ")) inv_bytes = s;
    REQUIRE(!inv_bytes.empty());
    auto inv = sip::Message::parse(inv_bytes);
    REQUIRE(inv);
    sip::ResponseSpec ok;
    ok.status = 200;
    ok.to_tag = "tb";
    ok.extra = {{"Contact", "<sip:peer@10.0.0.21:5060>"}};
    f.sw->on_bytes(sip::build_response(*inv, ok), {sip::Transport::Udp, "10.0.0.21", 5060, 0, {}}, t0 + 2s);
    f.drain();
    REQUIRE(f.sw->calls().list().size() == 1);
    REQUIRE(f.sw->calls().list()[0].answer);
    const std::uint64_t id = f.sw->calls().list()[0].id;
    CHECK(has(get(t0 + 3s).body, R"({"t_ms":960000,"calls":1,"ended":0,"answered":0,"asr":null,)"
                                 R"("acd_s":null,"cps":0.017,"concurrent":1,"concurrent_last":1}]})"));
    REQUIRE(f.handle({.method = "DELETE", .path = "/api/calls/" + std::to_string(id), .now = t0 + 32s}).status == 200);
    f.drain();

    r = get(t0 + 33s);
    REQUIRE(r.status == 200);
    CHECK(has(r.body, R"({"t_ms":960000,"calls":1,"ended":0,"answered":0,"asr":null,"acd_s":null,)"
                      R"("cps":0.017,"concurrent":1,"concurrent_last":1},)"
                      R"({"t_ms":1020000,"calls":0,"ended":1,"answered":1,"asr":1,"acd_s":30,"cps":0,)"
                      R"("concurrent":1,"concurrent_last":0}]})"));
    // an hour after the hang-up's minute, it is all gone
    r = get(t0 + 3660s);
    CHECK(!has(r.body, "\"calls\":1"));
    CHECK(!has(r.body, "\"ended\":1"));

    CHECK(get(t0, "").status == 401);
    CHECK(get(t0, kAdmin).status == 200);
    auto post = f.handle({.method = "POST", .path = "/api/stats/history"});
    CHECK(post.status == 405);
    CHECK(header(post, "Allow") == "GET, HEAD");
    auto bad = f.handle({.path = "/api/stats/history", .query = {{"from", "1"}}, .token = kRead});
    CHECK(bad.status == 400);
    CHECK(names_field(bad, "from"));
    CHECK(f.handle({.path = "/api/stats", .token = kRead}).status == 404);
    CHECK(f.handle({.path = "/api/stats/other", .token = kRead}).status == 404);
    CHECK(has(f.handle({.path = "/api/openapi.json", .token = kRead}).body, "\"/api/stats/history\""));
}

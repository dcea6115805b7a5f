// Log lines that wire values cannot forge, and the per-kind cap a flood meets (issue 16).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sw/log_safety.hpp"
#include "wiring/log.hpp"

using namespace std::chrono_literals;

TEST_CASE("log: a CR, LF or escape from the wire cannot start or rewrite a line",
          "[server][log][security]") {
    CHECK(sw::escape_for_log("INVITE call-id=abc@host -> 200") ==
          "INVITE call-id=abc@host -> 200");
    CHECK(sw::escape_for_log("call-id=abc\rforged") == "call-id=abc\\rforged");
    CHECK(sw::escape_for_log("a\r\n b") == "a\\r\\n b");  // a folded value stays on its line
    CHECK(sw::escape_for_log("tab\there") == "tab\\there");
    CHECK(sw::escape_for_log("esc\x1b[2J") == "esc\\x1B[2J");
    CHECK(sw::escape_for_log(std::string("nul\0x", 5)) == "nul\\x00x");
    CHECK(sw::escape_for_log("del\x7f") == "del\\x7F");
    CHECK(sw::escape_for_log("back\\slash") == "back\\\\slash");  // escapes stay unambiguous
    // valid UTF-8 stays readable; malformed bytes are shown, not written raw
    CHECK(sw::escape_for_log("J\xc3\xbcrgen \xe6\x9d\x8e") == "J\xc3\xbcrgen \xe6\x9d\x8e");
    CHECK(sw::escape_for_log("latin1 \xfc!") == "latin1 \\xFC!");
    CHECK(sw::escape_for_log("overlong \xc0\xaf") == "overlong \\xC0\\xAF");
    CHECK(sw::escape_for_log("surrogate \xed\xa0\x80") == "surrogate \\xED\\xA0\\x80");
    CHECK(sw::escape_for_log("cut \xe6\x9d") == "cut \\xE6\\x9D");
    for (const std::string s : {"\r", "\n", "x\ny\rz", "\x85"})
        CHECK(sw::escape_for_log(s).find_first_of("\r\n") == std::string::npos);
}

TEST_CASE("log: each kind writes at most N lines a second, then says how many it dropped",
          "[server][log][security]") {
    sw::LogLimiter lim(sw::LogLimits{3});
    const sip::Instant t0 = sip::instant_ms(1000);
    int written = 0;
    for (int i = 0; i < 10; ++i) written += lim.admit(sw::LogKind::message, t0 + i * 10ms);
    CHECK(written == 3);
    // another kind has its own budget
    CHECK(lim.admit(sw::LogKind::call, t0 + 200ms));
    CHECK_FALSE(lim.summary(t0 + 500ms));  // the second is not over
    REQUIRE(lim.next_deadline());
    CHECK(*lim.next_deadline() == t0 + 1s);
    auto s = lim.summary(t0 + 1s);
    REQUIRE(s);
    CHECK(s->find("7 message") != std::string::npos);
    CHECK(s->find("max_lines_per_second") != std::string::npos);
    CHECK_FALSE(lim.summary(t0 + 1s));  // once
    CHECK_FALSE(lim.next_deadline());   // nothing suppressed in the new second
    CHECK(lim.admit(sw::LogKind::message, t0 + 1100ms));  // a fresh budget
    CHECK(lim.suppressed_total() == 7);

    // the transports' per-connection lines (a TLS garbage flood) have a budget of their own
    for (int i = 0; i < 5; ++i) lim.admit(sw::LogKind::transport, t0 + 2s);
    auto t = lim.summary(t0 + 3s);
    REQUIRE(t);
    CHECK(t->find("2 transport") != std::string::npos);

    sw::LogLimiter unlimited(sw::LogLimits{0});
    for (int i = 0; i < 1000; ++i) REQUIRE(unlimited.admit(sw::LogKind::message, t0));
    CHECK_FALSE(unlimited.summary(t0 + 5s));
}

TEST_CASE("log: one event as text, logfmt and JSON, with a call's fields, values escaped",
          "[server][log]") {
    using wiring::LogFormat;
    using wiring::LogLevel;
    const std::string t = "2026-12-05T19:52:06.123Z";
    const std::vector<wiring::LogField> fields = {{"call", "7"}, {"customer", "acme corp"}, {"call_id", "a\"b\rc"}};
    CHECK(wiring::format_log(LogFormat::text, t, LogLevel::info, "call", "call 7: answered by gw1", fields) ==
          t + " call 7: answered by gw1 call=7 customer=\"acme corp\" call_id=\"a\\\"b\\rc\"");
    CHECK(wiring::format_log(LogFormat::logfmt, t, LogLevel::debug, "call", "call 7: answered by gw1", fields) ==
          "time=" + t + " level=debug event=call msg=\"call 7: answered by gw1\" call=7 customer=\"acme corp\" "
          "call_id=\"a\\\"b\\rc\"");
    CHECK(wiring::format_log(LogFormat::json, t, LogLevel::warn, "api", "api: x\ny", {{"k", "v\\"}}) ==
          "{\"time\":\"" + t + "\",\"level\":\"warn\",\"event\":\"api\",\"msg\":\"api: x\\\\ny\",\"k\":\"v\\\\\\\\\"}");
    CHECK(wiring::format_log(LogFormat::text, t, LogLevel::error, "", "disk full", {}) == t + " error: disk full");
    // a line without an event word has no event member
    CHECK(wiring::format_log(LogFormat::logfmt, t, LogLevel::info, "", "x=1", {}) ==
          "time=" + t + " level=info msg=\"x=1\"");
}

TEST_CASE("log: the event of a plain line, levels and formats by name", "[server][log]") {
    CHECK(wiring::event_of("routing: 3 customers") == "routing");
    CHECK(wiring::event_of("alert raised: gateway_down") == "");  // two words: no event
    CHECK(wiring::event_of("Routing: x") == "");
    CHECK(wiring::event_of("cdr:x") == "");
    CHECK(wiring::parse_log_level("warn") == wiring::LogLevel::warn);
    CHECK_FALSE(wiring::parse_log_level("verbose"));
    CHECK(wiring::parse_log_format("json") == wiring::LogFormat::json);
    CHECK_FALSE(wiring::parse_log_format("xml"));
    const auto before = wiring::log_settings();
    wiring::set_log_settings({wiring::LogFormat::logfmt, wiring::LogLevel::error});
    CHECK(wiring::log_settings() == wiring::LogSettings{wiring::LogFormat::logfmt, wiring::LogLevel::error});
    wiring::set_log_settings(before);
}

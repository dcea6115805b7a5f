// sw::run_command: an operator's command (trunkctl's reg_command rows) applied to a running
// switch on fake time: hangup by call id, lift, and what is not understood.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <string>

#include "api_fixture.hpp"
#include "sip/message.hpp"
#include "sw/commands.hpp"

using namespace std::chrono_literals;
using namespace test;

namespace {

const std::string kInvite = acme_invite("z9hG4bK-cmd1", "cmd-call-1");

// A switch with one customer (10.0.0.1) and one vendor (10.0.0.21).
struct Fixture : SwitchFixture {
    Fixture() : SwitchFixture(acme_config(), 11) { route_acme(); }
};

}  // namespace

TEST_CASE("commands: parse_call_id takes decimal digits only", "[server][commands]") {
    CHECK(sw::parse_call_id("0") == 0u);
    CHECK(sw::parse_call_id("42") == 42u);
    CHECK(sw::parse_call_id("18446744073709551615") == 18446744073709551615u);
    CHECK_FALSE(sw::parse_call_id("18446744073709551616"));
    CHECK_FALSE(sw::parse_call_id(""));
    CHECK_FALSE(sw::parse_call_id("12a"));
    CHECK_FALSE(sw::parse_call_id("-1"));
    CHECK_FALSE(sw::parse_call_id(" 1"));
}

TEST_CASE("commands: hangup ends a call in progress as the server", "[server][commands]") {
    Fixture f;
    f.from_acme(kInvite, t0);
    f.drain();
    REQUIRE(f.count("10.0.0.21", "INVITE ") == 1);
    auto list = f.sw->calls().list();
    REQUIRE(list.size() == 1);
    const std::string id = std::to_string(list[0].id);

    auto line = sw::run_command(*f.sw, "hangup", id, t0 + 1s);
    CHECK(line == fmt::format("call {}: operator hangup: done", id));
    f.drain();  // run_command pumped: the answer and the CDR are out
    CHECK(f.count("10.0.0.1", "SIP/2.0 503 ") == 1);
    CHECK(f.sw->calls().active() == 0);
    REQUIRE(f.cdrs.size() == 1);
    CHECK(f.cdrs[0].cdr.call.hangup == billing::HangupSide::server);

    CHECK(sw::run_command(*f.sw, "hangup", id, t0 + 2s) ==
          fmt::format("call {}: operator hangup: no such call", id));
}

TEST_CASE("commands: a hangup that names no call", "[server][commands]") {
    Fixture f;
    CHECK(sw::run_command(*f.sw, "hangup", "7", t0) == "call 7: operator hangup: no such call");
    CHECK(sw::run_command(*f.sw, "hangup", "x7", t0) == "call x7: operator hangup: no such call");
    CHECK(sw::run_command(*f.sw, "hangup", "", t0) == "call : operator hangup: no such call");
}

TEST_CASE("commands: lift logs nothing; other kinds are not understood", "[server][commands]") {
    Fixture f;
    CHECK_FALSE(sw::run_command(*f.sw, "lift", "alice", t0));
    CHECK_FALSE(sw::run_command(*f.sw, "lift", "192.0.2.1", t0));
    CHECK(sw::run_command(*f.sw, "re-register", "carrier1", t0) ==
          "command re-register 'carrier1' not understood");
}

TEST_CASE("commands: unbind and unbind-user reach the registrations", "[server][commands]") {
    // Issue 12 item 8: trunkctl binding remove / user remove queue these.
    Fixture f;
    CHECK(sw::run_command(*f.sw, "unbind", "sip:alice@trunkline", t0) ==
          "registrar: operator removed 0 bindings of sip:alice@trunkline");
    CHECK(sw::run_command(*f.sw, "unbind", "sip:alice@trunkline sip:alice@192.0.2.1", t0) ==
          "registrar: operator removed 0 bindings of sip:alice@trunkline (sip:alice@192.0.2.1)");
    CHECK(sw::run_command(*f.sw, "unbind-user", "alice", t0) ==
          "registrar: operator removed 0 bindings of user 'alice'");
}

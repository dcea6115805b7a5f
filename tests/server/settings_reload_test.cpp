// wiring::setting_changes: what a SIGHUP reports (server/wiring/settings_reload.hpp).
#include <catch2/catch.hpp>

#include "wiring/config.hpp"
#include "wiring/settings_reload.hpp"

namespace {

std::vector<std::pair<std::string, bool>> changes(const char* toml) {
    wiring::ServerConfig was, now;
    std::string err;
    REQUIRE(wiring::load_config_text(toml, "t.toml", now, &err));
    std::vector<std::pair<std::string, bool>> out;
    for (const auto& c : wiring::setting_changes(was, now)) out.emplace_back(c.key, c.live);
    return out;
}

}  // namespace

TEST_CASE("settings_reload: the same settings change nothing", "[server][reload]") {
    CHECK(changes("").empty());
    CHECK(changes("[registrar]\nregister_retry = 6\n").empty());  // the default again
}

TEST_CASE("settings_reload: live keys and restart-only keys are told apart", "[server][reload]") {
    using V = std::vector<std::pair<std::string, bool>>;
    CHECK(changes("[registrar]\nregister_retry = 3\nregister_suspend = 60\n") ==
          V{{"registrar.register_retry", true}, {"registrar.register_suspend", true}});
    CHECK(changes("[sip]\nudp = \"127.0.0.1:5070\"\n") == V{{"sip.udp", false}});
    CHECK(changes("[shutdown]\ndrain_calls = 5\n[routing]\npolicy = \"cost\"\n") ==
          V{{"shutdown.drain_calls", true}, {"routing.policy", false}});
    CHECK(changes("[log]\nmessages = false\n") == V{{"log.messages", false}});
}

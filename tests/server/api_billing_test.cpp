// GET|PATCH /api/billing/settings through sw::api::Api over wiring::ApiData on a real SQLite
// file: the settings in force with their VOS3000 names; a change of several keys stored all
// at once and read back by the store the switch reloads from; a bad value changes nothing.
#include <catch2/catch.hpp>

#include <string>

#include "api_fixture.hpp"
#include "billing/sqlite/store.hpp"

using namespace test;

namespace {

struct Fixture : ApiDataFixture {
    Fixture() : ApiDataFixture("tl-api-billing") {
        {
            auto st = billing::sqlite::Store::open(db);
            REQUIRE(st);
        }
        open_data();
    }
    billing::RatingConfig stored() {
        auto st = billing::sqlite::Store::open(db);
        REQUIRE(st);
        auto cfg = st->rating_config();
        REQUIRE(cfg);
        return *cfg;
    }
};

bool has(const std::string& body, const std::string& part) {
    return body.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("api billing settings: GET lists every setting with its value and VOS3000 name", "[api][billing]") {
    Fixture f;
    auto r = f.handle({.method = "GET", .path = "/api/billing/settings", .token = kRead});
    REQUIRE(r.status == 200);
    CHECK(has(r.body, R"({"key":"billing.hold_time_precision_ms","value":"50","vos3000":"SERVER_BILLING_HOLD_TIME_PRECISION"})"));
    CHECK(has(r.body, R"("key":"calendar.timezone","value":"UTC")"));
    CHECK(has(r.body, R"("key":"currency.precision","value":"4")"));
    CHECK(f.handle({.method = "GET", .path = "/api/billing/settings", .query = {{"x", "1"}}, .token = kRead}).status == 400);
    CHECK(f.handle({.method = "POST", .path = "/api/billing/settings", .body = "{}"}).status == 405);
    CHECK(f.handle({.method = "GET", .path = "/api/billing"}).status == 404);
}

TEST_CASE("api billing settings: PATCH stores several settings in one go, or none", "[api][billing]") {
    Fixture f;
    auto r = f.handle({.method = "PATCH",
                       .path = "/api/billing/settings",
                       .body = R"({"calendar.timezone":"Asia/Shanghai","billing.hold_time_precision_ms":20,)"
                               R"("calendar.holidays":"2026-10-01,2026-10-02"})"});
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.tables_changed);  // the switch reloads the book and the settings
    CHECK(has(r.body, R"("key":"calendar.timezone","value":"Asia/Shanghai")"));
    auto cfg = f.stored();
    CHECK(cfg.hold_time_precision_ms == 20);
    CHECK(cfg.calendar.zone);
    CHECK(cfg.calendar.holidays.size() == 2);
    CHECK(has(f.api->poll_log().value_or(""), "set billing settings calendar.timezone=Asia/Shanghai"));

    // One bad value: 422 naming it, and the good one before it is not stored either.
    r = f.handle({.method = "PATCH",
                  .path = "/api/billing/settings",
                  .body = R"({"billing.free_time_s":"5","currency.precision":"9"})"});
    CHECK(r.status == 422);
    CHECK(has(r.body, R"("field":"currency.precision")"));
    CHECK(f.stored().free_time_s == 0);
    r = f.handle({.method = "PATCH", .path = "/api/billing/settings", .body = R"({"calendar.timezone":"Mars/Olympus"})"});
    CHECK(r.status == 422);
    CHECK(has(r.body, R"("field":"calendar.timezone")"));
    r = f.handle({.method = "PATCH", .path = "/api/billing/settings", .body = R"({"billing.typo":"1"})"});
    CHECK(r.status == 422);
    CHECK(has(r.body, R"("field":"billing.typo")"));
    CHECK(f.handle({.method = "PATCH", .path = "/api/billing/settings", .body = R"({"billing.free_time_s":true})"}).status == 422);
    CHECK(f.handle({.method = "PATCH", .path = "/api/billing/settings", .body = "{}"}).status == 422);
    CHECK(f.handle({.method = "PATCH", .path = "/api/billing/settings", .body = "[1]"}).status == 400);
    // a read token may look, not change
    CHECK(f.handle({.method = "PATCH", .path = "/api/billing/settings", .body = R"({"billing.free_time_s":"5"})",
                    .token = kRead})
              .status == 403);
    CHECK(f.stored().free_time_s == 0);
}

// sw::api::sqlite::Store: the management API's tokens in the shared SQLite file — add, list,
// remove, a version that moves with every change (what the running server polls), names
// unique, the file private.
#include <catch2/catch.hpp>

#include "../support/sqlite_fixture.hpp"
#include "sw/api/sqlite/store.hpp"

TEST_CASE("api store: tokens are added, listed by name, removed; the version follows",
          "[server][api][sqlite]") {
    test::TempDir tmp("api_store_test");
    const std::string db = tmp.path("t.db");
    std::string err;
    auto st = sw::api::sqlite::Store::open(db, &err);
    REQUIRE(st);
    CHECK(test::mode_of(db) == 0600);
    const auto v0 = st->version(&err);
    REQUIRE(v0);
    const std::string h1(64, 'a'), h2(64, 'b');
    CHECK(st->add({"ops", "admin", h1, 1000}, &err) == true);
    CHECK(st->add({"grafana", "read", h2, 2000}, &err) == true);
    const auto v2 = st->version(&err);
    REQUIRE(v2);
    CHECK(*v2 == *v0 + 2);

    CHECK(st->add({"ops", "read", std::string(64, 'c'), 3000}, &err) == false);  // name taken
    CHECK(st->version(&err) == v2);  // nothing changed, nothing to reload
    CHECK_FALSE(st->add({"x", "owner", std::string(64, 'd'), 0}, &err));  // CHECK constraint
    CHECK_FALSE(err.empty());

    auto rows = st->list(&err);
    REQUIRE(rows);
    REQUIRE(rows->size() == 2);
    CHECK((*rows)[0].name == "grafana");
    CHECK((*rows)[0].scope == "read");
    CHECK((*rows)[0].sha256_hex == h2);
    CHECK((*rows)[0].created_ms == 2000);
    CHECK((*rows)[1].name == "ops");

    CHECK(st->remove("nobody", &err) == false);
    CHECK(st->remove("grafana", &err) == true);
    CHECK(st->version(&err) == *v2 + 1);
    st.reset();
    // a second process (trunkctl, trunkline) sees the same rows
    auto again = sw::api::sqlite::Store::open(db, &err);
    REQUIRE(again);
    rows = again->list(&err);
    REQUIRE(rows);
    REQUIRE(rows->size() == 1);
    CHECK((*rows)[0].name == "ops");
}

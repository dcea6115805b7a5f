// wiring::Reloader on a real SQLite file, another connection playing trunkctl (or the API):
// a user added between two polls is loaded by the next one; a commit that touches no
// operator's table (bindings, suspensions, commands) reloads nothing (issue 11 item 2: the
// users were read whole on every commit of the file); a commit landing during a poll, after
// the users were read, is seen by the next poll (it was lost when the poll read
// data_version again at its end); carrier entries are refreshed only when they changed.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "../support/sqlite_fixture.hpp"
#include "route/lcr/sqlite/store.hpp"
#include "route/reg/sqlite/store.hpp"
#include "sip/crypto/evp_hasher.hpp"
#include "sw/switch.hpp"
#include "wiring/cdr_writer.hpp"
#include "wiring/digest_auth.hpp"
#include "wiring/reloader.hpp"
#include "wiring/users.hpp"

using namespace std::chrono_literals;
using route::reg::sqlite::SipUser;
using route::reg::sqlite::Store;

namespace {

const sip::Instant t0 = sip::Instant{} + 1000s;

SipUser user(std::string name) {
    return {std::move(name),
            "trunkline",
            {{sip::auth::Algorithm::MD5, std::string(32, 'a')}},
            true,
            0,
            0};
}

// The running trunkline's side (its own connections) and trunkctl's connection.
struct Fixture {
    test::TempDir tmp{"reloader_test"};
    std::string db = tmp.path("t.db");
    std::string err;
    std::unique_ptr<Store> reg = Store::open(db, &err);
    std::unique_ptr<Store> trunkctl = Store::open(db, &err);
    std::unique_ptr<route::lcr::sqlite::Store> lcr = route::lcr::sqlite::Store::open(db, &err);
    sip::SeededRandom rng{7};
    sip::crypto::EvpHasher hasher;
    wiring::DigestAuth auth{"trunkline", rng, {sip::auth::Algorithm::MD5}};
    std::optional<wiring::Users> users = wiring::Users::open(*reg, auth, "", &err);
    sw::Switch sw{sw::SwitchConfig{}, sw::RegistrationsConfig{}, &auth, hasher, rng};
    wiring::CdrWriter cdrs{{.database = db}, [](const std::string&) {}};
    std::unique_ptr<wiring::Reloader> reloader;
    int refreshes = 0;
    std::function<void()> on_refresh;  // runs inside the poll, as the carriers' refresh does

    Fixture() {
        REQUIRE(reg);
        REQUIRE(trunkctl);
        REQUIRE(lcr);
        REQUIRE(users);
        reloader =
            std::make_unique<wiring::Reloader>(wiring::Reloader::Parts{*reg, *lcr, db, *users, sw});
        reloader->load_users();  // as main.cpp starts
        REQUIRE(reloader->load_book());
        REQUIRE(reloader->load_routing(t0));
        poll();
    }
    void poll() {
        reloader->poll(t0, cdrs, [this] {
            ++refreshes;
            if (on_refresh) on_refresh();
        });
    }
    // Removes every user without moving sip_user's counter (its trigger dropped for one
    // transaction): the count then shows whether a poll read the users again.
    void remove_users_unseen() {
        test::Raw raw(db);
        const std::string trigger =
            raw.scalar("SELECT sql FROM sqlite_master WHERE name = 'reg_version_sip_user_delete'");
        REQUIRE(trigger.find("CREATE TRIGGER") == 0);
        raw.exec(("BEGIN; DROP TRIGGER reg_version_sip_user_delete; DELETE FROM sip_user; " +
                  trigger + "; COMMIT")
                     .c_str());
    }
};

}  // namespace

TEST_CASE("reloader: a user added by another connection is loaded by the next poll",
          "[server][reloader]") {
    Fixture f;
    CHECK(f.refreshes == 1);  // the first poll refreshes the carriers
    CHECK(f.auth.user_count() == 0);
    REQUIRE(f.trunkctl->put_user(user("alice"), &f.err));
    f.poll();  // what the API's tables_changed does right after its write
    CHECK(f.auth.user_count() == 1);
    REQUIRE(f.trunkctl->remove_user("alice", &f.err));
    f.poll();
    CHECK(f.auth.user_count() == 0);
    CHECK(f.refreshes == 1);  // no carrier entry changed
}

TEST_CASE("reloader: commits that touch no operator's table reload nothing", "[server][reloader]") {
    Fixture f;
    REQUIRE(f.trunkctl->put_user(user("alice"), &f.err));
    f.poll();
    REQUIRE(f.auth.user_count() == 1);
    f.remove_users_unseen();
    f.poll();
    CHECK(f.auth.user_count() == 1);  // the counter did not move: not read again
    // what trunkline's own threads write many times a second
    route::reg::sqlite::StoredBinding b;
    b.aor = "sip:alice@trunkline";
    b.binding.contact = "sip:alice@192.0.2.1";
    b.binding.call_id = "c";
    b.binding.source = {sip::Transport::Udp, "192.0.2.1", 5060, 0, ""};
    b.expires_ms = 9'000'000'000'000;
    REQUIRE(f.trunkctl->apply_bindings({{b.aor, {}, b}}, &f.err));
    f.poll();
    REQUIRE(f.trunkctl->put_suspension({"bob", 0, 1, ""}, &f.err));
    f.poll();
    CHECK(f.auth.user_count() == 1);
    CHECK(f.refreshes == 1);
    // a queued command is still taken on such a poll
    REQUIRE(f.trunkctl->add_command("lift", "bob", &f.err));
    f.poll();
    CHECK(f.trunkctl->take_commands(&f.err).empty());
    // a real change to the users is
    REQUIRE(f.trunkctl->put_user(user("carol"), &f.err));
    f.poll();
    CHECK(f.auth.user_count() == 1);  // carol; alice was removed unseen
    CHECK(f.refreshes == 1);
}

TEST_CASE("reloader: a commit during a poll is picked up by the next one", "[server][reloader]") {
    Fixture f;
    // trunkctl commits after this poll read the users, while it refreshes the carriers
    f.on_refresh = [&] { REQUIRE(f.trunkctl->put_user(user("alice"), &f.err)); };
    route::reg::sqlite::TrunkReg r;
    r.name = "carrier";
    r.server = "192.0.2.10";
    r.aor_user = "u";
    r.password = "p";
    r.enabled = false;  // nothing to register in this test
    REQUIRE(f.trunkctl->put_trunk_reg(r, &f.err));
    f.poll();
    CHECK(f.refreshes == 2);  // the entry changed
    CHECK(f.auth.user_count() == 0);
    f.on_refresh = nullptr;
    f.poll();
    CHECK(f.auth.user_count() == 1);  // not lost
    CHECK(f.refreshes == 2);
    f.poll();  // nothing new
    CHECK(f.refreshes == 2);
}

// route::reg::Location with fake time: q ordering, exact expiry, Expired events, contact
// matching, the per-AOR bound, snapshot/restore across a (simulated) restart.
#include <catch2/catch.hpp>

#include "route/reg/location.hpp"

using namespace route::reg;
using namespace std::chrono_literals;

namespace {

const sip::Instant t0 = sip::Instant{} + 1000s;

Binding make(std::string contact, sip::Instant at, std::optional<std::uint16_t> q = {}) {
    Binding b;
    b.contact = std::move(contact);
    b.expires_at = at;
    b.q = q;
    b.call_id = "c1";
    b.cseq = 1;
    return b;
}

}  // namespace

TEST_CASE("location: lookup orders by q, absent q ranks as 1.0", "[reg][location]") {
    Location loc;
    REQUIRE(loc.upsert("sip:a@x", make("sip:a@1.1.1.1", t0 + 60s, 100)));
    REQUIRE(loc.upsert("sip:a@x", make("sip:a@2.2.2.2", t0 + 60s)));
    REQUIRE(loc.upsert("sip:a@x", make("sip:a@3.3.3.3", t0 + 60s, 700)));
    auto v = loc.lookup("sip:a@x", t0);
    REQUIRE(v.size() == 3);
    CHECK(v[0].contact == "sip:a@2.2.2.2");
    CHECK(v[1].contact == "sip:a@3.3.3.3");
    CHECK(v[2].contact == "sip:a@1.1.1.1");
    CHECK(loc.lookup("sip:b@x", t0).empty());
}

TEST_CASE("location: a binding is gone exactly at its expiry instant", "[reg][location]") {
    Location loc;
    const sip::Instant at = t0 + 3600s;
    loc.upsert("sip:a@x", make("sip:a@1.1.1.1", at));
    loc.upsert("sip:a@x", make("sip:a@2.2.2.2", at + 1s));
    REQUIRE(loc.next_deadline() == at);
    // without any timer having run
    CHECK(loc.lookup("sip:a@x", at - 1ns).size() == 2);
    CHECK(loc.lookup("sip:a@x", at).size() == 1);
    loc.handle_timeouts(at - 1ns);
    CHECK_FALSE(loc.poll());
    CHECK(loc.binding_count() == 2);
    loc.handle_timeouts(at);
    auto ev = loc.poll();
    REQUIRE(ev);
    CHECK(ev->kind == LocationEvent::Kind::Expired);
    CHECK(ev->aor == "sip:a@x");
    CHECK(ev->binding.contact == "sip:a@1.1.1.1");
    CHECK_FALSE(loc.poll());
    CHECK(loc.binding_count() == 1);
    CHECK(loc.next_deadline() == at + 1s);
    loc.handle_timeouts(at + 1s);
    REQUIRE(loc.poll());
    CHECK(loc.aor_count() == 0);
    CHECK_FALSE(loc.next_deadline());
}

TEST_CASE("location: upsert replaces the same contact, compared per RFC 3261 19.1.4",
          "[reg][location]") {
    Location loc;
    loc.upsert("sip:a@x", make("sip:a@Host.Example:5060", t0 + 60s));
    loc.upsert("sip:a@x", make("SIP:a@host.example:5060", t0 + 120s));
    auto v = loc.lookup("sip:a@x", t0);
    REQUIRE(v.size() == 1);
    CHECK(v[0].expires_at == t0 + 120s);
    CHECK(loc.next_deadline() == t0 + 120s);  // the old index entry is gone
    // a different port or user is another contact
    loc.upsert("sip:a@x", make("sip:a@host.example:5070", t0 + 60s));
    loc.upsert("sip:a@x", make("sip:A@host.example:5060", t0 + 60s));
    CHECK(loc.lookup("sip:a@x", t0).size() == 3);
    CHECK(loc.remove("sip:a@x", "sip:a@HOST.example:5060"));
    CHECK_FALSE(loc.remove("sip:a@x", "sip:a@HOST.example:5060"));
    CHECK(loc.lookup("sip:a@x", t0).size() == 2);
    CHECK(loc.remove_all("sip:a@x") == 2);
    CHECK(loc.binding_count() == 0);
    CHECK_FALSE(loc.next_deadline());
}

TEST_CASE("location: bounded bindings per AOR", "[reg][location]") {
    Location loc({.max_bindings_per_aor = 2});
    CHECK(loc.upsert("sip:a@x", make("sip:a@1.1.1.1", t0 + 60s)));
    CHECK(loc.upsert("sip:a@x", make("sip:a@2.2.2.2", t0 + 60s)));
    CHECK_FALSE(loc.upsert("sip:a@x", make("sip:a@3.3.3.3", t0 + 60s)));
    CHECK(loc.upsert("sip:a@x", make("sip:a@2.2.2.2", t0 + 90s)));  // refresh still allowed
    CHECK(loc.lookup("sip:a@x", t0).size() == 2);
}

TEST_CASE("location: snapshot keeps remaining time, restore rebases it", "[reg][location]") {
    Location loc;
    Binding b = make("sip:a@1.1.1.1", t0 + 100s, 500);
    b.path = {"<sip:edge.example;lr>"};
    b.source.host = "198.51.100.4";
    b.source.port = 40000;
    loc.upsert("sip:a@x", b);
    loc.upsert("sip:a@x", make("sip:a@2.2.2.2", t0 + 10s));
    Snapshot snap = loc.snapshot(t0 + 10s);  // the second one is gone at t0+10s
    REQUIRE(snap.size() == 1);
    CHECK(snap[0].remaining == 90s);

    Location other;
    const sip::Instant boot = sip::Instant{} + 5s;  // a new process: another time base
    other.restore(snap, boot);
    auto v = other.lookup("sip:a@x", boot);
    REQUIRE(v.size() == 1);
    CHECK(v[0].expires_at == boot + 90s);
    CHECK(v[0].path == std::vector<std::string>{"<sip:edge.example;lr>"});
    CHECK(v[0].source.port == 40000);
    CHECK(v[0].q == 500);
    CHECK(other.next_deadline() == boot + 90s);
}

TEST_CASE("location: set_down marks one binding, lookup puts down contacts last",
          "[reg][location]") {
    Location loc;
    REQUIRE(loc.upsert("sip:a@x", make("sip:a@1.1.1.1", t0 + 60s, 900)));
    REQUIRE(loc.upsert("sip:a@x", make("sip:a@2.2.2.2", t0 + 60s, 500)));
    REQUIRE(loc.upsert("sip:a@x", make("sip:a@3.3.3.3", t0 + 90s, 100)));
    CHECK(loc.set_down("sip:a@x", "SIP:a@1.1.1.1", true));  // matched by contact key
    CHECK_FALSE(loc.set_down("sip:a@x", "sip:a@9.9.9.9", true));
    CHECK_FALSE(loc.set_down("sip:b@x", "sip:a@1.1.1.1", true));
    auto v = loc.lookup("sip:a@x", t0);
    REQUIRE(v.size() == 3);
    CHECK(v[0].contact == "sip:a@2.2.2.2");
    CHECK(v[1].contact == "sip:a@3.3.3.3");
    CHECK(v[2].contact == "sip:a@1.1.1.1");  // highest q, but down: tried last
    CHECK_FALSE(v[0].down);
    CHECK(v[2].down);
    CHECK(loc.find("sip:a@x", "sip:a@1.1.1.1", t0)->down);
    // two down contacts keep the q order among themselves
    CHECK(loc.set_down("sip:a@x", "sip:a@3.3.3.3", true));
    v = loc.lookup("sip:a@x", t0);
    CHECK(v[0].contact == "sip:a@2.2.2.2");
    CHECK(v[1].contact == "sip:a@1.1.1.1");
    CHECK(v[2].contact == "sip:a@3.3.3.3");
    // and up again
    CHECK(loc.set_down("sip:a@x", "sip:a@1.1.1.1", false));
    CHECK(loc.set_down("sip:a@x", "sip:a@3.3.3.3", false));
    v = loc.lookup("sip:a@x", t0);
    CHECK(v[0].contact == "sip:a@1.1.1.1");
    CHECK_FALSE(v[0].down);
}

TEST_CASE("location: a re-REGISTER (upsert of the same contact) makes the binding up",
          "[reg][location]") {
    Location loc;
    REQUIRE(loc.upsert("sip:a@x", make("sip:a@1.1.1.1", t0 + 60s)));
    REQUIRE(loc.set_down("sip:a@x", "sip:a@1.1.1.1", true));
    Binding again = make("sip:a@1.1.1.1", t0 + 120s);
    again.down = true;  // whatever the caller passes: the refresh proves reachability
    REQUIRE(loc.upsert("sip:a@x", again));
    auto b = loc.find("sip:a@x", "sip:a@1.1.1.1", t0);
    REQUIRE(b);
    CHECK_FALSE(b->down);
    CHECK(b->expires_at == t0 + 120s);
    // a new binding keeps the state it is given (restore of a snapshot)
    Binding fresh = make("sip:a@2.2.2.2", t0 + 60s);
    fresh.down = true;
    REQUIRE(loc.upsert("sip:a@x", fresh));
    CHECK(loc.find("sip:a@x", "sip:a@2.2.2.2", t0)->down);
    Location other;
    other.restore(loc.snapshot(t0), t0);
    CHECK(other.find("sip:a@x", "sip:a@2.2.2.2", t0)->down);
    CHECK_FALSE(other.find("sip:a@x", "sip:a@1.1.1.1", t0)->down);
}

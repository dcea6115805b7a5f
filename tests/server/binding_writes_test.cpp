// sw::BindingWrites: which binding changes the write-behind persists (refreshes coalesced).
#include <catch2/catch.hpp>

#include "sw/binding_writes.hpp"

using namespace std::chrono_literals;

namespace {

const sip::Instant kT0 = sip::instant_ms(1'000'000);

route::reg::Binding binding(sip::Instant expires_at) {
    route::reg::Binding b;
    b.contact = "sip:alice@198.51.100.7:5060";
    b.expires_at = expires_at;
    b.call_id = "c1";
    b.cseq = 1;
    b.source = sip::Target{sip::Transport::Udp, "198.51.100.7", 5060, 0, {}};
    return b;
}

}  // namespace

TEST_CASE("binding writes: a new binding is written, a small refresh is coalesced",
          "[server][registrations][binding_writes]") {
    sw::BindingWrites w;
    const std::string aor = "sip:alice@example.com";
    CHECK(w.should_write(aor, binding(kT0 + 3600s), kT0));
    // re-REGISTER 60 s later with the same lifetime: the row's expiry is 60 s behind, well
    // inside a quarter of the 3,600 s left
    auto b = binding(kT0 + 3660s);
    b.call_id = "c2";  // Call-ID and CSeq alone do not count
    b.cseq = 7;
    CHECK_FALSE(w.should_write(aor, b, kT0 + 60s));
    CHECK(w.lagging(aor, b));
    CHECK(w.coalesced() == 1);
    // 900 s behind (= a quarter of 3,600 s): still coalesced; past it: written
    CHECK_FALSE(w.should_write(aor, binding(kT0 + 4500s), kT0 + 900s));
    CHECK(w.should_write(aor, binding(kT0 + 4501s), kT0 + 901s));
    CHECK_FALSE(w.lagging(aor, binding(kT0 + 4501s)));
    CHECK(w.written() == 2);
}

TEST_CASE("binding writes: what a restart needs is always written",
          "[server][registrations][binding_writes]") {
    sw::BindingWrites w;
    const std::string aor = "sip:alice@example.com";
    const sip::Instant now = kT0;
    REQUIRE(w.should_write(aor, binding(now + 3600s), now));
    auto changed = [&](auto&& edit) {
        auto b = binding(now + 3601s);
        edit(b);
        return w.should_write(aor, b, now + 1s);
    };
    CHECK(changed([](route::reg::Binding& b) { b.q = 500; }));
    CHECK(changed([](route::reg::Binding& b) { b.path = {"<sip:edge.example.com;lr>"}; }));
    CHECK(changed([](route::reg::Binding& b) { b.source.port = 5070; }));
    CHECK(changed([](route::reg::Binding& b) { b.source.transport = sip::Transport::Tcp; }));
    CHECK(changed([](route::reg::Binding& b) { b.instance = "<urn:uuid:1>"; }));
    CHECK(changed([](route::reg::Binding& b) { b.reg_id = 1; }));
    CHECK(changed([](route::reg::Binding& b) { b.down = true; }));
    CHECK(changed([](route::reg::Binding&) {}));  // back to the original fields: a change too
    // a shorter lifetime (an earlier expiry) is written at once: the row must not outlive it
    CHECK(w.should_write(aor, binding(now + 60s), now + 2s));
    // another contact of the same AOR is its own row
    auto other = binding(now + 3600s);
    other.contact = "sip:alice@203.0.113.9:5060";
    CHECK(w.should_write(aor, other, now + 2s));
    CHECK(w.size() == 2);
}

TEST_CASE("binding writes: forget, record and retain", "[server][registrations][binding_writes]") {
    sw::BindingWrites w;
    const std::string aor = "sip:alice@example.com";
    REQUIRE(w.should_write(aor, binding(kT0 + 3600s), kT0));
    w.forget(aor, "sip:alice@198.51.100.7:5060");
    CHECK(w.size() == 0);
    CHECK(w.should_write(aor, binding(kT0 + 3610s), kT0 + 10s));  // new again after forget
    w.record(aor, binding(kT0 + 3700s));  // restored or written regardless
    CHECK_FALSE(w.lagging(aor, binding(kT0 + 3700s)));
    CHECK_FALSE(w.should_write(aor, binding(kT0 + 3710s), kT0 + 110s));

    auto gone = binding(kT0 + 3600s);
    gone.contact = "sip:alice@203.0.113.9:5060";
    REQUIRE(w.should_write(aor, gone, kT0));
    REQUIRE(w.size() == 2);
    route::reg::Snapshot live{{aor, binding(kT0 + 3700s), 3600s}};
    w.retain(live);
    CHECK(w.size() == 1);
    CHECK(w.lagging(aor, binding(kT0 + 3710s)));  // the kept row still knows what it holds
    CHECK(w.lagging(aor, gone));                    // no record: lagging (written at shutdown)
}

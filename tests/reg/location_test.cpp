// route::reg::Location with fake time: q ordering, exact expiry, Expired events, contact
// matching, the per-AOR bound, snapshot/restore across a (simulated) restart.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

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

namespace {

// The store as the header describes it, written the obvious way (the pre-issue-13 layout):
// the randomized test below checks the compact one against it.
struct Model {
    std::size_t max = 3;
    std::map<std::string, std::vector<Binding>> aors;  // bindings in the order first added

    Binding* at(const std::string& aor, std::string_view contact) {
        auto it = aors.find(aor);
        if (it == aors.end()) return nullptr;
        for (Binding& b : it->second)
            if (Location::contact_key(b.contact) == Location::contact_key(contact)) return &b;
        return nullptr;
    }
    bool upsert(const std::string& aor, Binding b) {
        if (Binding* old = at(aor, b.contact)) {
            *old = std::move(b);
            old->down = false;
            return true;
        }
        if (aors[aor].size() >= max) {
            if (aors[aor].empty()) aors.erase(aor);
            return false;
        }
        aors[aor].push_back(std::move(b));
        return true;
    }
    bool remove(const std::string& aor, std::string_view contact) {
        Binding* b = at(aor, contact);
        if (!b) return false;
        auto& v = aors[aor];
        v.erase(v.begin() + (b - v.data()));
        if (v.empty()) aors.erase(aor);
        return true;
    }
    // Expired bindings in (expires_at, AOR, contact key) order.
    std::vector<std::pair<std::string, std::string>> expire(sip::Instant now) {
        std::vector<std::tuple<sip::Instant, std::string, std::string, std::string>> gone;
        for (auto& [aor, v] : aors)
            for (const Binding& b : v)
                if (b.expires_at <= now)
                    gone.emplace_back(b.expires_at, aor, Location::contact_key(b.contact),
                                      b.contact);
        std::sort(gone.begin(), gone.end());
        std::vector<std::pair<std::string, std::string>> out;
        for (auto& [t, aor, key, contact] : gone) {
            remove(aor, contact);
            out.emplace_back(aor, contact);
        }
        return out;
    }
    std::size_t count() const {
        std::size_t n = 0;
        for (const auto& [aor, v] : aors)
            n += v.size();
        return n;
    }
};

}  // namespace

TEST_CASE("location: random operations agree with the plain model", "[reg][location]") {
    std::mt19937 rng(13);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    Location loc({.max_bindings_per_aor = 3});
    Model model;
    sip::Instant now = t0;
    const char* hosts[] = {"h.example",
                           "H.Example",
                           "10.0.0.1",
                           "h.example:5070",
                           "h.example;transport=TCP",
                           "h.example;transport=tcp"};
    for (int step = 0; step < 20'000; ++step) {
        const std::string aor = "sip:u" + std::to_string(pick(400)) + "@x";
        const std::string contact =
            std::string(pick(2) ? "sip:" : "SIP:") + (pick(2) ? "a" : "b") + "@" + hosts[pick(6)];
        const int op = pick(20);
        if (op < 12) {
            Binding b = make(contact, now + std::chrono::seconds(1 + pick(8)),
                             pick(3) ? std::optional<std::uint16_t>{} : std::uint16_t(pick(1001)));
            b.down = pick(4) == 0;
            b.call_id = "c" + std::to_string(step);
            if (pick(5) == 0) b.path = {"<sip:p1;lr>", std::string(pick(40), 'p')};
            b.source = {sip::Transport::Tls, "192.0.2." + std::to_string(pick(9)),
                        std::uint16_t(pick(65536)), std::uint64_t(step), pick(2) ? "tls.x" : ""};
            if (pick(3) == 0) b.reg_id = std::uint32_t(pick(3));
            b.instance = pick(3) == 0 ? "<urn:uuid:1>" : "";
            b.via_nat = pick(2) == 0;
            REQUIRE(loc.upsert(aor, b) == model.upsert(aor, b));
        } else if (op < 14) {
            REQUIRE(loc.remove(aor, contact) == model.remove(aor, contact));
        } else if (op < 15) {
            const std::size_t n = model.aors.count(aor) ? model.aors[aor].size() : 0;
            model.aors.erase(aor);
            REQUIRE(loc.remove_all(aor) == n);
        } else if (op < 17) {
            const bool down = pick(2) == 0;
            Binding* m = model.at(aor, contact);
            if (m) m->down = down;
            REQUIRE(loc.set_down(aor, contact, down) == (m != nullptr));
        } else {
            now += std::chrono::milliseconds(pick(1500));
            loc.handle_timeouts(now);
            for (const auto& [aor_gone, contact_gone] : model.expire(now)) {
                auto ev = loc.poll();
                REQUIRE(ev);
                CHECK(ev->aor == aor_gone);
                CHECK(ev->binding.contact == contact_gone);
            }
            REQUIRE_FALSE(loc.poll());
        }
        REQUIRE(loc.binding_count() == model.count());
        REQUIRE(loc.aor_count() == model.aors.size());
        std::optional<sip::Instant> first;
        for (const auto& [a, v] : model.aors)
            for (const Binding& b : v)
                if (!first || b.expires_at < *first) first = b.expires_at;
        REQUIRE(loc.next_deadline() == first);
        const std::vector<Binding> got = loc.lookup(aor, now - 1ns);
        const auto it = model.aors.find(aor);
        REQUIRE(got.size() == (it == model.aors.end() ? 0 : it->second.size()));
        for (const Binding& b : got) {
            const Binding* m = model.at(aor, b.contact);
            REQUIRE(m);
            CHECK(b.contact == m->contact);
            CHECK(b.q == m->q);
            CHECK(b.expires_at == m->expires_at);
            CHECK(b.call_id == m->call_id);
            CHECK(b.path == m->path);
            CHECK(b.source == m->source);
            CHECK(b.instance == m->instance);
            CHECK(b.reg_id == m->reg_id);
            CHECK(b.down == m->down);
            CHECK(b.via_nat == m->via_nat);
        }
    }
    // snapshot: AORs in byte order, each AOR's bindings in the order they were first added
    const Snapshot snap = loc.snapshot(now);
    std::vector<std::pair<std::string, std::string>> want, have;
    for (const auto& [aor, v] : model.aors)
        for (const Binding& b : v)
            if (b.expires_at > now) want.emplace_back(aor, b.contact);
    for (const SnapshotBinding& s : snap)
        have.emplace_back(s.aor, s.binding.contact);
    CHECK(have == want);
    Location moved = std::move(loc);
    CHECK(moved.binding_count() == model.count());
    CHECK(loc.binding_count() == 0);  // NOLINT(bugprone-use-after-move): moved-from is empty
}

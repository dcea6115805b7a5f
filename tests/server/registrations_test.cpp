// sw::Registrations on fake time: two switches wired back to back through their elements —
// A registers to B as a carrier would be registered to, B runs the registrar with real
// digest authentication (wiring::DigestAuth, OpenSSL hasher). Every byte goes through both
// transaction layers, so the test covers the element's client transactions too.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sip/auth/digest.hpp"
#include "sip/crypto/evp_hasher.hpp"
#include "sip/message.hpp"
#include "sw/element.hpp"
#include "sw/registrations.hpp"
#include "wiring/digest_auth.hpp"

using namespace std::chrono_literals;

namespace {

const sip::Target kA{sip::Transport::Udp, "198.51.100.7", 5060, 0, {}};
const sip::Target kB{sip::Transport::Udp, "192.0.2.10", 5060, 0, {}};

struct Node {
    sip::SeededRandom rng;
    sw::Element el;
    sip::crypto::EvpHasher hasher;
    wiring::DigestAuth auth;
    sw::Registrations regs;
    std::vector<sw::StoreOp> ops;
    Node(std::uint64_t seed, const sip::Target& self, route::reg::RegistrarConfig rc)
        : rng(seed),
          el(
              [&] {
                  sw::ElementConfig c;
                  c.contact_host = self.host;
                  c.contact_port = self.port;
                  c.log_messages = false;
                  return c;
              }(),
              rng),
          auth("carrier.example", rng, {sip::auth::Algorithm::SHA256, sip::auth::Algorithm::MD5}),
          regs(sw::RegistrationsConfig{rc, {}, std::nullopt, true}, el, &auth, hasher, rng) {}
};

struct Pair {
    sip::Instant now = sip::instant_ms(5'000'000);
    Node a{1, kA, {}};
    Node b{2, kB, {}};
    std::size_t a_to_b = 0, dropped = 0;
    bool drop_a_to_b = false;

    Pair() {
        std::string err;
        wiring::DigestAuth::Users users;
        sip::crypto::EvpHasher h;
        for (auto alg : {sip::auth::Algorithm::MD5, sip::auth::Algorithm::SHA256})
            users["4420001"][alg] = *sip::auth::ha1(h, alg, "4420001", "carrier.example", "secret");
        b.auth.set_users(users);
    }

    void settle() {
        for (int i = 0; i < 100; ++i) {
            bool any = false;
            for (Node* n : {&a, &b}) {
                while (auto e = n->el.poll_client_event()) {
                    n->regs.on_client_event(*e, now);
                    any = true;
                }
                n->regs.pump(now);
                while (auto op = n->regs.poll_store())
                    n->ops.push_back(std::move(*op));
                while (n->regs.poll_log()) {
                }
                while (n->el.poll_log()) {
                }
            }
            while (auto s = a.el.poll_send()) {
                any = true;
                CHECK(s->to.host == kB.host);
                if (drop_a_to_b) {
                    ++dropped;
                    continue;
                }
                ++a_to_b;
                b.el.on_bytes(*s->bytes, kA, now);
            }
            while (auto s = b.el.poll_send()) {
                any = true;
                a.el.on_bytes(*s->bytes, kB, now);
            }
            if (!any) return;
        }
        FAIL("no quiescence");
    }

    // advance time in steps, firing every deadline on the way
    void run_for(sip::Duration d) {
        const sip::Instant end = now + d;
        while (true) {
            std::optional<sip::Instant> next;
            for (Node* n : {&a, &b})
                for (auto x : {n->el.next_deadline(), n->regs.next_deadline()})
                    if (x && (!next || *x < *next)) next = x;
            if (!next || *next > end) break;
            now = std::max(now, *next);
            for (Node* n : {&a, &b}) {
                n->el.handle_timeouts(now);
                n->regs.handle_timeouts(now);
            }
            settle();
        }
        now = end;
    }

    sw::TrunkSpec spec(std::string name = "carrier", std::string password = "secret") {
        sw::TrunkSpec s;
        s.name = std::move(name);
        s.config.registrar = kB;
        s.config.registrar_domain = "carrier.example";
        s.config.aor_user = "4420001";
        s.config.password = password;
        s.config.contact_host = kA.host;
        s.config.contact_port = kA.port;
        s.config.expires = 600s;
        s.fingerprint = s.config.password + "|" + std::to_string(s.config.contact_port);
        return s;
    }

    std::size_t bound_at_b() {
        return b.regs.location().lookup("sip:4420001@carrier.example", now).size();
    }
};

template <class T>
std::vector<T> ops_of(const Node& n) {
    std::vector<T> out;
    for (const auto& op : n.ops)
        if (auto* x = std::get_if<T>(&op)) out.push_back(*x);
    return out;
}

}  // namespace

TEST_CASE("registrations: an entry registers with digest auth; its state is saved for the store",
          "[server][registrations]") {
    Pair p;
    p.a.regs.set_trunks({p.spec()}, p.now);
    p.settle();
    REQUIRE(p.a.regs.status("carrier"));
    CHECK(p.a.regs.status("carrier")->state == route::reg::State::registered);
    CHECK(p.bound_at_b() == 1);
    CHECK(p.a_to_b == 2);  // REGISTER, 401, REGISTER with credentials
    auto states = ops_of<sw::TrunkStateSaved>(p.a);
    REQUIRE(!states.empty());
    CHECK(states.back().status.state == route::reg::State::registered);
    CHECK(states.back().persisted.cseq == 2);
    CHECK(states.back().persisted.contact_uri == "sip:4420001@198.51.100.7:5060");
    // B persisted the binding it added
    auto saved = ops_of<sw::BindingSaved>(p.b);
    REQUIRE(saved.size() == 1);
    CHECK(saved[0].aor == "sip:4420001@carrier.example");
    CHECK(saved[0].binding.expires_at == p.now + 600s);
}

TEST_CASE("registrations: stop_all unregisters with auth and reports stopped",
          "[server][registrations]") {
    Pair p;
    p.a.regs.set_trunks({p.spec()}, p.now);
    p.settle();
    REQUIRE(p.bound_at_b() == 1);
    p.a.regs.stop_all(p.now);
    CHECK_FALSE(p.a.regs.stopped());  // the Expires: 0 is out
    p.settle();
    CHECK(p.a.regs.stopped());
    CHECK(p.bound_at_b() == 0);
    auto states = ops_of<sw::TrunkStateSaved>(p.a);
    CHECK(states.back().status.state == route::reg::State::unregistered);
    CHECK(states.back().clean_stop);
    CHECK(states.back().persisted.contact_uri.empty());
    CHECK(!ops_of<sw::BindingDeleted>(p.b).empty());
}

TEST_CASE("registrations: a registrar that never answers bounds the shutdown",
          "[server][registrations]") {
    Pair p;
    p.a.regs.set_trunks({p.spec()}, p.now);
    p.settle();
    p.drop_a_to_b = true;
    p.a.regs.stop_all(p.now);
    p.settle();
    CHECK_FALSE(p.a.regs.stopped());
    REQUIRE(p.a.regs.stop_deadline());
    CHECK(*p.a.regs.stop_deadline() == p.now + 5s);
    p.run_for(5s);
    CHECK(p.a.regs.stopped());
    CHECK(p.dropped >= 2);  // the unregister and its UDP retransmissions
    CHECK(p.bound_at_b() == 1);
}

TEST_CASE("registrations: a changed entry unregisters the old contact before registering the new",
          "[server][registrations]") {
    Pair p;
    p.a.regs.set_trunks({p.spec()}, p.now);
    p.settle();
    auto moved = p.spec();
    moved.config.contact_port = 5070;
    moved.fingerprint = "moved";
    p.a.regs.set_trunks({moved}, p.now);
    p.settle();
    auto at_b = p.b.regs.location().lookup("sip:4420001@carrier.example", p.now);
    REQUIRE(at_b.size() == 1);
    CHECK(at_b[0].contact == "sip:4420001@198.51.100.7:5070");
    CHECK(p.a.regs.status("carrier")->state == route::reg::State::registered);
    CHECK(ops_of<sw::TrunkForgotten>(p.a).empty());
}

TEST_CASE("registrations: a removed entry is unregistered, then forgotten",
          "[server][registrations]") {
    Pair p;
    p.a.regs.set_trunks({p.spec()}, p.now);
    p.settle();
    p.a.regs.set_trunks({}, p.now);
    p.settle();
    CHECK(p.bound_at_b() == 0);
    CHECK(p.a.regs.status("carrier") == nullptr);
    auto gone = ops_of<sw::TrunkForgotten>(p.a);
    REQUIRE(gone.size() == 1);
    CHECK(gone[0].name == "carrier");
}

TEST_CASE("registrations: wrong password fails with a reason and retries after the delay",
          "[server][registrations]") {
    Pair p;
    auto s = p.spec("carrier", "wrong");
    s.config.retry_delay = 30s;
    p.a.regs.set_trunks({s}, p.now);
    p.settle();
    const auto* st = p.a.regs.status("carrier");
    REQUIRE(st);
    CHECK(st->state == route::reg::State::failed);
    CHECK(!st->reason.empty());
    REQUIRE(st->next_attempt);
    CHECK(*st->next_attempt >= p.now + 27s);
    CHECK(*st->next_attempt <= p.now + 33s);
    const auto sent = p.a_to_b;
    p.run_for(34s);
    CHECK(p.a_to_b > sent);  // tried again
    CHECK(p.bound_at_b() == 0);
}

TEST_CASE("registrations: suspension events become store operations; lift clears them",
          "[server][registrations]") {
    Pair p;
    // B has the defaults: 6 failed authentications suspend for 180 s
    auto s = p.spec("carrier", "wrong");
    s.config.retry_delay = 30s;
    p.a.regs.set_trunks({s}, p.now);
    p.settle();
    // A retries every ~30 s; each attempt is one wrong digest at B
    for (int i = 0; i < 8 && ops_of<sw::SuspensionSaved>(p.b).empty(); ++i)
        p.run_for(34s);
    auto sus = ops_of<sw::SuspensionSaved>(p.b);
    REQUIRE(!sus.empty());
    CHECK(sus[0].suspension.until > p.now);
    CHECK(p.b.regs.lift(sus[0].suspension.key, p.now) >= 1);
    p.settle();
    bool cleared = false;
    for (const auto& c : ops_of<sw::SuspensionCleared>(p.b))
        cleared |= c.key == sus[0].suspension.key;
    CHECK(cleared);
    for (const auto& l : p.b.regs.registrar().list_suspensions(p.now))
        CHECK(l.key != sus[0].suspension.key);
}

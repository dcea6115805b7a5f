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
    std::vector<std::string> logs;  // the registrations' log lines, as drained
    std::vector<std::string> suspension_logs;  // those of them of LogKind::suspension
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
                while (auto l = n->regs.poll_log_entry()) {
                    if (l->kind == sw::LogKind::suspension) n->suspension_logs.push_back(l->text);
                    n->logs.push_back(std::move(l->text));
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
    // a suspension's line has a log budget of its own: a guesser's "authentication failed"
    // lines (kind registration) cannot use it up
    REQUIRE(p.b.suspension_logs.size() == sus.size());
    CHECK(p.b.suspension_logs[0].find("suspended after 6 failed authentications") != std::string::npos);
    CHECK(p.b.regs.lift(sus[0].suspension.key, p.now) >= 1);
    p.settle();
    REQUIRE(p.b.suspension_logs.size() == sus.size() + 1);
    CHECK(p.b.suspension_logs.back().find("operator lifted") != std::string::npos);
    bool cleared = false;
    for (const auto& c : ops_of<sw::SuspensionCleared>(p.b))
        cleared |= c.suspension == sus[0].suspension;
    CHECK(cleared);
    for (const auto& l : p.b.regs.registrar().list_suspensions(p.now))
        CHECK(l.key != sus[0].suspension.key);
}

TEST_CASE("registrations: suspensions survive a restart through restore_suspensions",
          "[server][registrations]") {
    // Issue 16: the table was written but never read back, so a restart gave a guesser a
    // fresh count and lifted every suspension.
    Pair p;
    const route::reg::Suspension held{route::reg::Suspension::Kind::Address, "203.0.113.9",
                                      p.now + 100s, "mallory"};
    p.b.regs.restore_suspensions({held, {route::reg::Suspension::Kind::User, "gone", p.now, ""}},
                                 p.now);
    auto l = p.b.regs.registrar().list_suspensions(p.now);
    REQUIRE(l.size() == 1);
    CHECK(l[0] == held);
    CHECK(p.b.regs.lift("203.0.113.9", p.now) == 1);
    p.settle();
    auto cleared = ops_of<sw::SuspensionCleared>(p.b);
    REQUIRE(cleared.size() == 1);
    CHECK(cleared[0].suspension == held);
}

namespace {

// What the domain cache says about "carrier.example" in a round of set_trunks().
route::domain::Pick pick(route::domain::LookupState st, route::domain::ErrorKind err = {},
                         std::optional<sip::Instant> since = std::nullopt) {
    route::domain::Pick p;
    p.key = "carrier.example";
    p.state = st;
    p.error = err;
    p.failing_since = since;
    if (st == route::domain::LookupState::Ready || st == route::domain::LookupState::Stale) {
        route::domain::Target t;
        t.address = *route::domain::IpAddress::parse(kB.host);
        t.port = kB.port;
        p.target = t;
    }
    if (err != route::domain::ErrorKind::None) p.detail = "A carrier.example: NXDOMAIN";
    return p;
}

// The spec the wiring builds for a host-name registrar: the target when DNS gave one.
sw::TrunkSpec dns_spec(Pair& p, const route::domain::Pick& answer) {
    auto s = p.spec();
    s.dns = answer;
    if (!answer.target) s.config.registrar = {};
    s.fingerprint = "carrier.example|" + s.config.registrar.host;
    return s;
}

// The log lines since the last call (drained by settle() or still queued).
std::vector<std::string> logs_of(Node& n) {
    std::vector<std::string> out = std::move(n.logs);
    n.logs.clear();
    while (auto l = n.regs.poll_log())
        out.push_back(*l);
    return out;
}

}  // namespace

TEST_CASE("registrations: a DNS failure keeps a working registration at the last good address",
          "[server][registrations][dns]") {
    // Issue 12 item 7: NXDOMAIN for the carrier's name (or the resolver down past the
    // serve-stale grace) removed the entry: Expires: 0 went to the address just declared
    // unusable, the binding the carrier still accepted was dropped, and the entry retried
    // on the DNS schedule. Now nothing is withdrawn; the client refreshes where it was.
    using route::domain::ErrorKind;
    using route::domain::LookupState;
    Pair p;
    p.a.regs.set_trunks({dns_spec(p, pick(LookupState::Ready))}, p.now);
    p.settle();
    REQUIRE(p.a.regs.status("carrier")->state == route::reg::State::registered);
    REQUIRE(p.bound_at_b() == 1);
    p.a.ops.clear();
    logs_of(p.a);
    const auto sent = p.a_to_b;

    const sip::Instant failed_at = p.now;
    p.a.regs.set_trunks({dns_spec(p, pick(LookupState::Failed, ErrorKind::NxDomain, failed_at))},
                        p.now);
    p.settle();
    CHECK(p.a_to_b == sent);  // no Expires: 0
    CHECK(p.bound_at_b() == 1);
    CHECK(ops_of<sw::TrunkForgotten>(p.a).empty());
    REQUIRE(p.a.regs.status("carrier"));
    CHECK(p.a.regs.status("carrier")->state == route::reg::State::registered);
    REQUIRE(p.a.regs.registrar_in_use("carrier"));
    CHECK(p.a.regs.registrar_in_use("carrier")->host == kB.host);
    auto saved = ops_of<sw::TrunkStateSaved>(p.a);
    REQUIRE(!saved.empty());
    CHECK(saved.back().registrar == "192.0.2.10:5060/UDP");
    CHECK(saved.back().dns.name == "carrier.example");
    CHECK(saved.back().dns.state == "failed");
    CHECK(saved.back().dns.error == "NXDOMAIN (A carrier.example: NXDOMAIN)");
    CHECK(saved.back().dns.since == failed_at);
    auto logs = logs_of(p.a);
    REQUIRE(logs.size() == 1);
    CHECK(logs[0] ==
          "trunk-reg carrier: DNS for carrier.example fails (NXDOMAIN (A carrier.example: "
          "NXDOMAIN)): the registration stays at 192.0.2.10:5060/UDP, the last good address, "
          "and is refreshed there; it is unregistered only when the entry is removed or "
          "trunkline stops");

    // the DNS retries (every 5 s) rebuild the specs: no new log line, no new state
    p.a.ops.clear();
    for (int i = 0; i < 3; ++i) {
        p.run_for(5s);
        p.a.regs.set_trunks(
            {dns_spec(p, pick(LookupState::Failed, ErrorKind::NxDomain, failed_at))}, p.now);
    }
    CHECK(logs_of(p.a).empty());
    CHECK(ops_of<sw::TrunkStateSaved>(p.a).empty());

    // the binding is refreshed at the last good address before it expires (600 s)
    p.run_for(600s);
    CHECK(p.bound_at_b() == 1);
    CHECK(p.a.regs.status("carrier")->state == route::reg::State::registered);
    CHECK(p.a_to_b > sent);
    logs_of(p.a);  // "registered" again after the refresh

    // DNS answers again with the same address: said once, nothing re-registered
    const auto before = p.a_to_b;
    p.a.regs.set_trunks({dns_spec(p, pick(LookupState::Ready))}, p.now);
    p.settle();
    CHECK(p.a_to_b == before);
    logs = logs_of(p.a);
    REQUIRE(logs.size() == 1);
    CHECK(
        logs[0] ==
        "trunk-reg carrier: DNS for carrier.example answers again; registrar 192.0.2.10:5060/UDP");

    // only removing the entry unregisters it
    p.a.regs.set_trunks({}, p.now);
    p.settle();
    CHECK(p.bound_at_b() == 0);
}

TEST_CASE(
    "registrations: a stale DNS answer is used and said so; a changed config applies at "
    "the last good address",
    "[server][registrations][dns]") {
    using route::domain::ErrorKind;
    using route::domain::LookupState;
    Pair p;
    p.a.regs.set_trunks({dns_spec(p, pick(LookupState::Ready))}, p.now);
    p.settle();
    logs_of(p.a);
    auto stale = pick(LookupState::Stale, ErrorKind::ServFail, p.now);
    stale.stale_until = p.now + 300s;
    stale.detail = "A carrier.example: SERVFAIL";
    p.a.regs.set_trunks({dns_spec(p, stale)}, p.now);
    auto logs = logs_of(p.a);
    REQUIRE(logs.size() == 1);
    CHECK(logs[0] ==
          "trunk-reg carrier: DNS for carrier.example fails (SERVFAIL (A carrier.example: "
          "SERVFAIL)): registering at 192.0.2.10:5060/UDP from the last answer, past its TTL "
          "(stale) for at most 300 s more");
    REQUIRE(p.a.regs.dns_state("carrier"));
    CHECK(p.a.regs.dns_state("carrier")->state == "stale");
    CHECK(p.a.regs.dns_state("carrier")->until == p.now + 300s);

    // the operator changes the password while the name does not resolve: the wiring passes
    // the address in use, and the new configuration registers there
    auto failed = pick(LookupState::Failed, ErrorKind::Timeout, p.now);
    auto changed = dns_spec(p, failed);
    changed.config.registrar = *p.a.regs.registrar_in_use("carrier");
    changed.config.contact_port = 5070;
    changed.fingerprint = "carrier.example|changed";
    p.a.regs.set_trunks({changed}, p.now);
    p.settle();
    auto at_b = p.b.regs.location().lookup("sip:4420001@carrier.example", p.now);
    REQUIRE(at_b.size() == 1);
    CHECK(at_b[0].contact == "sip:4420001@198.51.100.7:5070");
    CHECK(p.a.regs.dns_state("carrier")->state == "failed");
}

TEST_CASE("registrations: an entry whose name never resolved waits, sends nothing, says why",
          "[server][registrations][dns]") {
    // Issue 12 item 7: `trunk-reg show` said "trunkline has not run this entry yet".
    using route::domain::ErrorKind;
    using route::domain::LookupState;
    Pair p;
    auto s = dns_spec(p, pick(LookupState::Pending));
    s.previous = route::reg::Persisted{"crashed@198.51.100.7", 41, "", std::nullopt};
    p.a.regs.set_trunks({s}, p.now);
    p.settle();
    CHECK(p.a_to_b == 0);
    REQUIRE(p.a.regs.status("carrier"));
    CHECK(p.a.regs.status("carrier")->state == route::reg::State::idle);
    CHECK(p.a.regs.status("carrier")->reason ==
          "waiting for DNS: resolving carrier.example (nothing is sent until it resolves)");
    const sip::Instant since = p.now;
    p.a.regs.set_trunks({dns_spec(p, pick(LookupState::Failed, ErrorKind::NxDomain, since))},
                        p.now);
    p.settle();
    auto saved = ops_of<sw::TrunkStateSaved>(p.a);
    REQUIRE(saved.size() == 2);
    CHECK(saved[0].persisted.cseq == 41);  // the crash-recovery record is kept
    CHECK(saved.back().status.reason ==
          "waiting for DNS: carrier.example: NXDOMAIN (A carrier.example: NXDOMAIN) (nothing is "
          "sent until it resolves)");
    CHECK(saved.back().dns.since == since);
    CHECK(saved.back().registrar.empty());
    CHECK(logs_of(p.a).size() == 2);
    // the same failure again: quiet
    p.a.regs.set_trunks({dns_spec(p, pick(LookupState::Failed, ErrorKind::NxDomain, since))},
                        p.now);
    CHECK(logs_of(p.a).empty());
    // it resolves: registers
    p.a.regs.set_trunks({dns_spec(p, pick(LookupState::Ready))}, p.now);
    p.settle();
    CHECK(p.a.regs.status("carrier")->state == route::reg::State::registered);
    CHECK(p.bound_at_b() == 1);
}

TEST_CASE("registrations: a waiting entry stops cleanly and is forgotten when removed",
          "[server][registrations][dns]") {
    using route::domain::ErrorKind;
    using route::domain::LookupState;
    Pair p;
    p.a.regs.set_trunks({dns_spec(p, pick(LookupState::Failed, ErrorKind::NxDomain, p.now))},
                        p.now);
    p.a.regs.stop_all(p.now);
    p.settle();
    CHECK(p.a.regs.stopped());
    auto saved = ops_of<sw::TrunkStateSaved>(p.a);
    REQUIRE(!saved.empty());
    CHECK(saved.back().status.state == route::reg::State::stopped);
    CHECK(saved.back().clean_stop);
    CHECK(saved.back().status.reason.rfind("stopped: never registered (waiting for DNS:", 0) == 0);

    Pair q;
    q.a.regs.set_trunks({dns_spec(q, pick(LookupState::Failed, ErrorKind::NxDomain, q.now))},
                        q.now);
    q.a.regs.set_trunks({}, q.now);
    q.settle();
    CHECK(ops_of<sw::TrunkForgotten>(q.a).size() == 1);
    CHECK(q.a.regs.status("carrier") == nullptr);
}

TEST_CASE("registrations: a new address from DNS re-registers there",
          "[server][registrations][dns]") {
    using route::domain::LookupState;
    Pair p;
    p.a.regs.set_trunks({dns_spec(p, pick(LookupState::Ready))}, p.now);
    p.settle();
    logs_of(p.a);
    auto moved = pick(LookupState::Ready);
    moved.target->port = 5080;  // B does not listen there: the REGISTER is dropped by the test
    auto s = dns_spec(p, moved);
    s.config.registrar.port = 5080;
    s.fingerprint = "carrier.example|" + s.config.registrar.host;  // the same: only DNS moved
    p.a.regs.set_trunks({s}, p.now);
    auto logs = logs_of(p.a);
    REQUIRE(!logs.empty());
    CHECK(logs[0] ==
          "trunk-reg carrier: registrar moved (DNS for carrier.example): 192.0.2.10:5080/UDP "
          "now, was 192.0.2.10:5060/UDP: unregistering the old binding there");
}

TEST_CASE("registrations: an entry that never registered stops at once, clean, and says why",
          "[server][registrations]") {
    // Issue 12 item 6: the entry sent an unregister at stop, waited 5 s, and then showed
    // "state unregistered", "clean stop yes", "unregister not answered within 5 s".
    Pair p;
    p.drop_a_to_b = true;  // nothing answers at the registrar's address
    p.a.regs.set_trunks({p.spec()}, p.now);
    p.settle();
    p.run_for(40s);  // Timer F (32 s): failed, retry after ~60 s
    REQUIRE(p.a.regs.status("carrier")->state == route::reg::State::failed);
    const auto dropped = p.dropped;
    p.a.ops.clear();
    p.a.regs.stop_all(p.now);
    p.settle();
    CHECK(p.a.regs.stopped());
    CHECK(p.dropped == dropped);  // no Expires: 0
    auto states = ops_of<sw::TrunkStateSaved>(p.a);
    REQUIRE(!states.empty());
    CHECK(states.back().status.state == route::reg::State::stopped);
    CHECK(states.back().status.reason ==
          "stopped: never registered (the registrar never answered), nothing to unregister");
    CHECK(states.back().clean_stop);
}

TEST_CASE("registrations: an unanswered unregister is not a clean stop",
          "[server][registrations]") {
    Pair p;
    p.a.regs.set_trunks({p.spec()}, p.now);
    p.settle();
    p.drop_a_to_b = true;
    p.a.regs.stop_all(p.now);
    p.settle();
    p.run_for(5s);
    REQUIRE(p.a.regs.stopped());
    auto states = ops_of<sw::TrunkStateSaved>(p.a);
    CHECK(states.back().status.state == route::reg::State::stopped);
    CHECK(states.back().status.reason ==
          "stopped: unregister not answered within 5 s; the binding may stay at the registrar "
          "until it expires");
    CHECK_FALSE(states.back().clean_stop);
    CHECK(states.back().persisted.contact_uri == "sip:4420001@198.51.100.7:5060");
}

TEST_CASE("registrations: operator unbind removes bindings and saves the removal",
          "[server][registrations]") {
    // Issue 12 item 8: `trunkctl binding remove` and `trunkctl user remove`.
    Pair p;
    p.a.regs.set_trunks({p.spec()}, p.now);
    p.settle();
    REQUIRE(p.bound_at_b() == 1);
    auto line = p.b.regs.command("unbind", "sip:4420001@carrier.example", p.now);
    REQUIRE(line);
    CHECK(*line == "registrar: operator removed 1 binding of sip:4420001@carrier.example");
    CHECK(p.bound_at_b() == 0);
    p.settle();
    auto del = ops_of<sw::BindingDeleted>(p.b);
    REQUIRE(del.size() == 1);
    CHECK(del[0].contact == "sip:4420001@198.51.100.7:5060");

    p.run_for(600s);  // A refreshes: bound again
    REQUIRE(p.bound_at_b() == 1);
    line = p.b.regs.command("unbind-user", "4420001", p.now);
    REQUIRE(line);
    CHECK(*line == "registrar: operator removed 1 binding of user '4420001'");
    CHECK(p.bound_at_b() == 0);
    CHECK(p.b.regs.command("unbind", "sip:nobody@carrier.example sip:x@192.0.2.1", p.now) ==
          "registrar: operator removed 0 bindings of sip:nobody@carrier.example "
          "(sip:x@192.0.2.1)");
    CHECK_FALSE(p.b.regs.command("hangup", "1", p.now));
}

TEST_CASE("registrations: the address in use is a last good address only for the same DNS key",
          "[server][registrations][dns]") {
    // After the operator changed the server's port, the old address is no good address: a
    // failing new name keeps the entry running as it was until the new one resolves.
    using route::domain::ErrorKind;
    using route::domain::LookupState;
    Pair p;
    p.a.regs.set_trunks({dns_spec(p, pick(LookupState::Ready))}, p.now);
    p.settle();
    REQUIRE(p.a.regs.registrar_in_use("carrier"));
    CHECK(p.a.regs.registrar_in_use("carrier", "carrier.example"));
    CHECK_FALSE(p.a.regs.registrar_in_use("carrier", "carrier.example:5080"));
    auto moved = pick(LookupState::Failed, ErrorKind::NxDomain, p.now);
    moved.key = "carrier.example:5080";
    auto s = dns_spec(p, moved);  // no address: the wiring found none for the new key
    s.fingerprint = "carrier.example:5080|";
    const auto sent = p.a_to_b;
    p.a.regs.set_trunks({s}, p.now);
    p.settle();
    CHECK(p.a_to_b == sent);
    CHECK(p.bound_at_b() == 1);
    CHECK(p.a.regs.status("carrier")->state == route::reg::State::registered);
    CHECK_FALSE(p.a.regs.registrar_in_use("carrier", "carrier.example:5080"));
}

TEST_CASE("registrations: a refresh that only moves the expiry is written at shutdown",
          "[server][registrations][binding_writes]") {
    // Issue 13 goal 3: binding persistence off the hot path. Two carrier entries register
    // the same contact 10 s apart: B's second REGISTER only moves the expiry by 10 s.
    Pair p;
    p.a.regs.set_trunks({p.spec("one")}, p.now);
    p.settle();
    REQUIRE(p.bound_at_b() == 1);
    REQUIRE(ops_of<sw::BindingSaved>(p.b).size() == 1);
    const sip::Instant first = ops_of<sw::BindingSaved>(p.b)[0].binding.expires_at;
    p.run_for(10s);
    p.a.regs.set_trunks({p.spec("one"), p.spec("two")}, p.now);
    p.settle();
    REQUIRE(p.bound_at_b() == 1);
    const auto live = p.b.regs.location().lookup("sip:4420001@carrier.example", p.now);
    REQUIRE(live.size() == 1);
    CHECK(live[0].expires_at > first);
    CHECK(ops_of<sw::BindingSaved>(p.b).size() == 1);  // coalesced: no write
    CHECK(p.b.regs.binding_writes().coalesced() == 1);
    p.b.regs.persist_coalesced(p.now);
    p.settle();
    const auto saved = ops_of<sw::BindingSaved>(p.b);
    REQUIRE(saved.size() == 2);
    CHECK(saved[1].binding.expires_at == live[0].expires_at);
    p.b.regs.persist_coalesced(p.now);  // nothing lags any more
    p.settle();
    CHECK(ops_of<sw::BindingSaved>(p.b).size() == 2);
}

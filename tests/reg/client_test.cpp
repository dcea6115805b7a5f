// route::reg::RegClient against a fake registrar that authenticates with the real
// sip::auth::DigestServer and the OpenSSL hasher, on fake time and seeded randomness.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "route/reg/client.hpp"
#include "sip/auth/digest.hpp"
#include "sip/auth/server.hpp"
#include "sip/builder.hpp"
#include "sip/crypto/evp_hasher.hpp"
#include "sip/message.hpp"

using namespace std::chrono_literals;
using route::reg::Action;
using route::reg::Persisted;
using route::reg::RegClient;
using route::reg::RegClientConfig;
using route::reg::SendRequest;
using route::reg::State;
using route::reg::StateChanged;
using sip::Instant;
using sip::auth::Verdict;

namespace {

const Instant t0 = sip::instant_ms(1'000'000);

sip::Target target(sip::Transport t, std::string host, std::uint16_t port) {
    sip::Target x;
    x.transport = t;
    x.host = std::move(host);
    x.port = port;
    return x;
}

sip::ResponseSpec spec_of(std::uint16_t status, std::vector<sip::HeaderLine> extra = {}) {
    sip::ResponseSpec s;
    s.status = status;
    s.to_tag = "r1";
    s.extra = std::move(extra);
    return s;
}

RegClientConfig base_config() {
    RegClientConfig c;
    c.registrar = target(sip::Transport::Udp, "192.0.2.10", 5060);
    c.registrar_domain = "carrier.example";
    c.aor_user = "4420001";
    c.password = "secret";
    c.contact_host = "198.51.100.7";
    c.contact_port = 5060;
    c.expires = 3600s;
    return c;
}

std::string header(const sip::Message& m, sip::HeaderId id) {
    const sip::HeaderField* f = m.find(id);
    return f ? std::string(m.value(*f)) : std::string("<absent>");
}

sip::Message parse(const std::string& bytes) {
    auto r = sip::Message::parse(bytes);
    REQUIRE(r);
    return std::move(*r);
}

// A registrar (RFC 3261 §10.3) small enough to read: digest auth with DigestServer, 423
// below min_expires, a cap on granted expiry, bindings per contact URI.
struct FakeRegistrar {
    const sip::auth::Hasher& hasher;
    sip::SeededRandom rng{99};
    sip::auth::DigestServer auth;
    std::string user = "4420001";
    std::string password = "secret";
    bool require_auth = true;
    std::uint16_t force_status = 0;  // e.g. 403: answer every request with it
    std::uint32_t min_expires = 0;
    std::uint32_t max_expires = 0;  // 0: no cap
    bool grant_in_expires_header_only = false;
    bool list_foreign_contact = false;              // a second device's binding listed first
    std::map<std::string, std::uint32_t> bindings;  // contact URI -> expires
    std::vector<Verdict> verdicts;
    std::vector<std::string> requests;

    explicit FakeRegistrar(const sip::auth::Hasher& h) : hasher(h), auth(server_config(), h, rng) {}

    static sip::auth::DigestServerConfig server_config() {
        sip::auth::DigestServerConfig c;
        c.realm = "carrier.example";
        c.secret = std::string(32, 'k');
        return c;
    }

    std::string handle(const std::string& bytes, Instant now) {
        requests.push_back(bytes);
        sip::Message req = parse(bytes);
        if (force_status) return sip::build_response(req, spec_of(force_status));
        if (require_auth) {
            const sip::HeaderField* f = req.find(sip::HeaderId::Authorization);
            bool stale = false;
            if (f) {
                auto cr = sip::parse_credentials(req.value(*f));
                REQUIRE(cr);
                auto lookup = [&](const sip::auth::Ha1Query& q) -> std::optional<std::string> {
                    if (q.username != user) return std::nullopt;
                    return sip::auth::ha1(hasher, q.algorithm, user, q.realm, password);
                };
                Verdict v = auth.verify(*cr, "REGISTER", lookup, now);
                verdicts.push_back(v);
                if (v == Verdict::ok) goto authorized;
                stale = v == Verdict::stale;
            } else {
                verdicts.push_back(Verdict::missing_fields);
            }
            std::vector<std::string> ch = auth.challenge(now, stale);
            sip::ResponseSpec spec = spec_of(401);
            for (const std::string& v : ch)
                spec.extra.push_back({"WWW-Authenticate", v});
            return sip::build_response(req, spec);
        }
    authorized:
        std::string_view list = req.value(*req.find(sip::HeaderId::Contact));
        auto contact = sip::next_name_addr(list);
        REQUIRE(contact);
        std::uint32_t expires = 3600;  // §10.3 step 7 default
        if (contact->expires)
            expires = *contact->expires;
        else if (const sip::HeaderField* e = req.find(sip::HeaderId::Expires))
            expires = *sip::parse_expires(req.value(*e));
        if (expires != 0 && expires < min_expires) {
            const std::string me = std::to_string(min_expires);
            return sip::build_response(req, spec_of(423, {{"Min-Expires", me}}));
        }
        if (max_expires && expires > max_expires) expires = max_expires;
        const std::string uri(contact->uri);
        if (expires == 0)
            bindings.erase(uri);
        else
            bindings[uri] = expires;
        sip::ResponseSpec spec = spec_of(200);
        std::vector<std::string> values;  // kept alive for the HeaderLine views
        if (grant_in_expires_header_only) {
            values.push_back(std::to_string(expires));
            spec.extra.push_back({"Expires", values.back()});
        } else {
            if (list_foreign_contact) values.push_back("<sip:other@203.0.113.9:5060>;expires=77");
            for (auto& [u, e] : bindings)
                values.push_back("<" + u + ">;expires=" + std::to_string(e));
            for (const std::string& v : values)
                spec.extra.push_back({"Contact", v});
        }
        return sip::build_response(req, spec);
    }
};

struct Harness {
    sip::crypto::EvpHasher hasher;
    sip::SeededRandom rng;
    FakeRegistrar registrar{hasher};
    RegClient client;
    std::vector<SendRequest> sent;
    std::vector<StateChanged> events;

    explicit Harness(RegClientConfig c, std::uint64_t seed = 1)
        : rng(seed), client(std::move(c), hasher, rng) {}

    void drain() {
        while (auto a = client.poll()) {
            if (auto* s = std::get_if<SendRequest>(&*a))
                sent.push_back(*s);
            else
                events.push_back(std::get<StateChanged>(*a));
        }
    }
    const std::string& last() const { return *sent.back().bytes; }
    // Lets the registrar answer every request the client sends, all at `now`.
    void converse(Instant now) {
        drain();
        for (std::size_t i = handled_; i < sent.size(); i = handled_) {
            handled_ = i + 1;
            sip::Message resp = parse(registrar.handle(*sent[i].bytes, now));
            REQUIRE(client.on_response(resp, now));
            drain();
        }
    }
    std::size_t handled_ = 0;
};

}  // namespace

TEST_CASE("reg client: REGISTER, 401, digest answer verified by DigestServer, 200",
          "[reg][client]") {
    Harness h(base_config());
    h.client.start(t0);
    h.drain();
    REQUIRE(h.sent.size() == 1);
    CHECK(h.sent[0].target == target(sip::Transport::Udp, "192.0.2.10", 5060));
    sip::Message first = parse(h.last());
    CHECK(first.request_uri() == "sip:carrier.example");
    CHECK(header(first, sip::HeaderId::Expires) == "3600");
    CHECK(header(first, sip::HeaderId::Contact) == "<sip:4420001@198.51.100.7:5060>");
    CHECK(header(first, sip::HeaderId::To) == "<sip:4420001@carrier.example>");
    CHECK(header(first, sip::HeaderId::Authorization) == "<absent>");
    CHECK(h.client.status().state == State::registering);

    h.converse(t0 + 20ms);
    REQUIRE(h.sent.size() == 2);
    sip::Message second = parse(*h.sent[1].bytes);
    CHECK(second.call_id() == first.call_id());
    CHECK(second.cseq().number == first.cseq().number + 1);
    CHECK(second.top_via().branch != first.top_via().branch);
    // The strongest algorithm offered by the server (SHA-256 over MD5) was answered.
    const std::string authz = header(second, sip::HeaderId::Authorization);
    auto cr = sip::parse_credentials(authz);
    REQUIRE(cr);
    CHECK(cr->algorithm == "SHA-256");
    CHECK(cr->username == "4420001");
    CHECK(h.registrar.verdicts == std::vector<Verdict>{Verdict::missing_fields, Verdict::ok});

    const auto& st = h.client.status();
    CHECK(st.state == State::registered);
    CHECK(st.last_code == 200);
    CHECK(st.last_reason_phrase == "OK");
    REQUIRE(st.expires_at);
    CHECK(*st.expires_at == t0 + 20ms + 3600s);  // from the send time of the REGISTER
    CHECK(h.registrar.bindings.count("sip:4420001@198.51.100.7:5060") == 1);
    CHECK(h.client.persisted().call_id == std::string(first.call_id()));
    CHECK(h.client.persisted().cseq == second.cseq().number);
    CHECK(h.client.persisted().contact_uri == "sip:4420001@198.51.100.7:5060");
}

TEST_CASE("reg client: refresh margin rule and the granted expiry of our contact",
          "[reg][client]") {
    SECTION("3600 s granted: refresh 60 s before expiry, same Call-ID, higher CSeq") {
        Harness h(base_config());
        h.client.start(t0);
        h.converse(t0);
        REQUIRE(h.client.next_deadline() == t0 + 3540s);
        const std::size_t n = h.sent.size();
        const auto cseq = parse(h.last()).cseq().number;
        h.client.handle_timeouts(t0 + 3539s);
        h.drain();
        CHECK(h.sent.size() == n);
        h.client.handle_timeouts(t0 + 3540s);
        h.drain();
        REQUIRE(h.sent.size() == n + 1);
        sip::Message refresh = parse(h.last());
        CHECK(refresh.cseq().number == cseq + 1);
        CHECK(refresh.call_id() == parse(*h.sent[0].bytes).call_id());
        CHECK(h.client.status().state == State::registered);  // old binding still valid
        h.converse(t0 + 3540s);
        CHECK(*h.client.status().expires_at == t0 + 3540s + 3600s);
    }
    SECTION("expiry counts from the send time, not from the arrival of the 200") {
        Harness h(base_config());
        h.registrar.require_auth = false;
        h.client.start(t0);
        h.drain();
        sip::Message resp = parse(h.registrar.handle(h.last(), t0 + 2s));
        REQUIRE(h.client.on_response(resp, t0 + 2s));
        CHECK(*h.client.status().expires_at == t0 + 3600s);
        CHECK(h.client.next_deadline() == t0 + 3540s);
    }
    SECTION("short grant: refresh at half; our Contact's param wins over a foreign one") {
        Harness h(base_config());
        h.registrar.max_expires = 100;
        h.registrar.list_foreign_contact = true;
        h.client.start(t0);
        h.converse(t0);
        CHECK(h.client.status().granted == std::chrono::seconds(100));
        CHECK(*h.client.status().expires_at == t0 + 100s);
        CHECK(h.client.next_deadline() == t0 + 50s);  // 100 < 2 * 60: half
    }
    SECTION("grant in the Expires header only") {
        Harness h(base_config());
        h.registrar.max_expires = 900;
        h.registrar.grant_in_expires_header_only = true;
        h.client.start(t0);
        h.converse(t0);
        CHECK(h.client.status().granted == std::chrono::seconds(900));
        CHECK(h.client.next_deadline() == t0 + 840s);
    }
    SECTION("a grant of 2^32-1 s counts as one year (no Instant overflow; fuzz regression)") {
        Harness h(base_config());
        h.registrar.require_auth = false;
        h.client.start(t0);
        h.drain();
        sip::Message req = parse(h.last());
        sip::Message resp = parse(sip::build_response(
            req,
            spec_of(200, {{"Contact", "<sip:4420001@198.51.100.7:5060>;expires=4294967295"}})));
        REQUIRE(h.client.on_response(resp, t0 + 1s));
        CHECK(h.client.status().granted == std::chrono::seconds(365 * 24 * 3600));
        CHECK(*h.client.status().expires_at == t0 + std::chrono::seconds(365 * 24 * 3600));
        CHECK(h.client.next_deadline() == t0 + std::chrono::seconds(365 * 24 * 3600 - 60));
    }
    SECTION("a refresh never answered: the binding is reported gone at its expiry") {
        Harness h(base_config());
        h.registrar.max_expires = 100;
        h.client.start(t0);
        h.converse(t0);
        h.client.handle_timeouts(t0 + 50s);
        h.drain();
        CHECK(h.client.next_deadline() == t0 + 100s);
        h.client.handle_timeouts(t0 + 100s);
        h.drain();
        CHECK(h.client.status().state == State::registering);
        CHECK_FALSE(h.client.status().expires_at);
    }
}

TEST_CASE("reg client: 423 adopts Min-Expires and retries at once", "[reg][client]") {
    auto c = base_config();
    c.expires = 600s;
    Harness h(c);
    h.registrar.min_expires = 1800;
    h.client.start(t0);
    h.converse(t0);
    // REGISTER, 401, REGISTER+auth -> 423, REGISTER (fresh) -> 401, REGISTER+auth -> 200
    REQUIRE(h.sent.size() == 4);
    CHECK(header(parse(*h.sent[1].bytes), sip::HeaderId::Expires) == "600");
    CHECK(header(parse(*h.sent[2].bytes), sip::HeaderId::Expires) == "1800");
    CHECK(h.client.status().state == State::registered);
    CHECK(h.client.status().granted == std::chrono::seconds(1800));
    CHECK(h.registrar.bindings.at("sip:4420001@198.51.100.7:5060") == 1800);
}

TEST_CASE("reg client: 423 without a larger Min-Expires is a failure, not a loop",
          "[reg][client]") {
    Harness h(base_config());
    h.client.start(t0);
    h.drain();
    sip::Message req = parse(h.last());
    sip::Message resp = parse(sip::build_response(req, spec_of(423, {{"Min-Expires", "3600"}})));
    REQUIRE(h.client.on_response(resp, t0));
    h.drain();
    CHECK(h.sent.size() == 1);
    CHECK(h.client.status().state == State::failed);
}

TEST_CASE("reg client: expires auto sends no Expires and accepts the grant", "[reg][client]") {
    auto c = base_config();
    c.expires = std::nullopt;
    Harness h(c);
    h.registrar.max_expires = 300;
    h.client.start(t0);
    h.drain();
    sip::Message first = parse(h.last());
    CHECK(header(first, sip::HeaderId::Expires) == "<absent>");
    CHECK(header(first, sip::HeaderId::Contact) == "<sip:4420001@198.51.100.7:5060>");
    h.converse(t0);
    CHECK(h.client.status().granted == std::chrono::seconds(300));
    CHECK(h.client.next_deadline() == t0 + 240s);

    SECTION("fixed sends its value") {
        auto f = base_config();
        f.expires = 120s;
        Harness g(f);
        g.client.start(t0);
        g.drain();
        CHECK(header(parse(g.last()), sip::HeaderId::Expires) == "120");
    }
}

TEST_CASE("reg client: a registrar that never answers is retried after the delay with jitter",
          "[reg][client]") {
    std::vector<sip::Duration> delays;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        Harness h(base_config(), seed);
        h.client.start(t0);
        h.drain();
        Instant now = t0;
        for (int round = 0; round < 5; ++round) {
            const std::size_t n = h.sent.size();
            now += 32s;  // Timer F
            h.client.on_timeout(now);
            h.drain();
            CHECK(h.client.status().state == State::failed);
            CHECK(h.client.status().reason == "no response (transaction timeout)");
            CHECK(h.client.status().last_code == 0);
            auto d = h.client.next_deadline();
            REQUIRE(d);
            CHECK(*d - now >= 54s);
            CHECK(*d - now <= 66s);
            delays.push_back(*d - now);
            h.client.handle_timeouts(*d - 1ms);
            h.drain();
            CHECK(h.sent.size() == n);
            now = *d;
            h.client.handle_timeouts(now);
            h.drain();
            REQUIRE(h.sent.size() == n + 1);
            CHECK(parse(h.last()).call_id() == parse(*h.sent[0].bytes).call_id());
        }
        CHECK(h.client.status().consecutive_failures == 5);
    }
    std::sort(delays.begin(), delays.end());
    CHECK(delays.front() != delays.back());  // jitter spreads the retries
    CHECK(delays.front() < 58s);
    CHECK(delays.back() > 62s);
}

TEST_CASE("reg client: 403 fails with the reason and retries forever at the delay",
          "[reg][client]") {
    auto c = base_config();
    c.retry_delay = 30s;
    Harness h(c);
    h.registrar.force_status = 403;
    h.client.start(t0);
    Instant now = t0;
    for (int i = 0; i < 100; ++i) {
        h.converse(now);
        CHECK(h.client.status().state == State::failed);
        CHECK(h.client.status().reason == "403 Forbidden");
        CHECK(h.client.status().last_code == 403);
        auto d = h.client.next_deadline();
        REQUIRE(d);
        CHECK(*d - now >= 27s);
        CHECK(*d - now <= 33s);
        now = *d;
        h.client.handle_timeouts(now);
    }
    h.drain();
    CHECK(h.sent.size() == 101);
    CHECK(h.client.status().consecutive_failures == 100);
}

TEST_CASE("reg client: a second non-stale 401 means wrong credentials", "[reg][client]") {
    Harness h(base_config());
    h.registrar.password = "other";
    h.client.start(t0);
    h.converse(t0);
    CHECK(h.sent.size() == 2);  // no third attempt without the retry delay
    CHECK(h.registrar.verdicts.back() == Verdict::wrong_response);
    CHECK(h.client.status().state == State::failed);
    CHECK(h.client.status().reason == "401 Unauthorized: credentials rejected");
    auto d = h.client.next_deadline();
    REQUIRE(d);
    CHECK(*d - t0 >= 54s);
    CHECK(*d - t0 <= 66s);
}

TEST_CASE("reg client: stale=true is answered again, not taken as wrong credentials",
          "[reg][client]") {
    Harness h(base_config());
    h.client.start(t0);
    h.drain();
    auto step = [&](Instant at) {
        sip::Message resp = parse(h.registrar.handle(h.last(), at));
        REQUIRE(h.client.on_response(resp, at));
        h.drain();
    };
    step(t0);         // 401
    step(t0 + 400s);  // the answer reaches the registrar after the 300 s nonce lifetime
    CHECK(h.registrar.verdicts.back() == Verdict::stale);
    REQUIRE(h.sent.size() == 3);
    CHECK(h.client.status().state == State::registering);
    step(t0 + 400s);
    CHECK(h.registrar.verdicts.back() == Verdict::ok);
    CHECK(h.client.status().state == State::registered);
}

TEST_CASE("reg client: endless stale challenges stop after four rounds", "[reg][client]") {
    Harness h(base_config());
    h.client.start(t0);
    h.drain();
    for (int i = 0; i < 10 && h.client.status().state != State::failed; ++i) {
        sip::Message req = parse(h.last());
        std::vector<std::string> ch = h.registrar.auth.challenge(t0, /*stale=*/true);
        sip::Message resp =
            parse(sip::build_response(req, spec_of(401, {{"WWW-Authenticate", ch[0]}})));
        REQUIRE(h.client.on_response(resp, t0));
        h.drain();
    }
    CHECK(h.sent.size() == 5);
    CHECK(h.client.status().state == State::failed);
    CHECK(h.client.status().reason == "401 Unauthorized: too many challenges");
}

TEST_CASE("reg client: stop during crash recovery sends nothing for the new contact",
          "[reg][client]") {
    Harness h(base_config());
    Persisted prev;
    prev.call_id = "crashed-call@198.51.100.7";
    prev.cseq = 5;
    prev.contact_uri = "sip:4420001@198.51.100.7:5070";
    h.client.start(t0, prev);
    h.client.stop(t0 + 1s);
    h.drain();
    CHECK(h.sent.size() == 1);
    CHECK(h.client.done());
    // The old binding may still exist: the next start must try again.
    CHECK(h.client.persisted().contact_uri == "sip:4420001@198.51.100.7:5070");
}

TEST_CASE("reg client: transport error fails and retries", "[reg][client]") {
    Harness h(base_config());
    h.client.start(t0);
    h.drain();
    h.client.on_transport_error(t0 + 1s);
    h.drain();
    CHECK(h.client.status().state == State::failed);
    CHECK(h.client.status().reason == "transport error");
}

TEST_CASE("reg client: responses not for the outstanding request are ignored", "[reg][client]") {
    Harness h(base_config());
    h.client.start(t0);
    h.drain();
    std::string bytes = h.last();
    const std::string cseq = std::to_string(parse(bytes).cseq().number) + " REGISTER";
    bytes.replace(bytes.find(cseq), cseq.size(), "999 REGISTER");
    sip::Message other = parse(bytes);
    CHECK_FALSE(h.client.on_response(parse(sip::build_response(other, spec_of(200))), t0));
    CHECK(h.client.status().state == State::registering);
    // A provisional response is consumed but changes nothing.
    CHECK(h.client.on_response(parse(sip::build_response(parse(h.last()), spec_of(100))), t0));
    CHECK(h.client.status().state == State::registering);
}

TEST_CASE("reg client: stop unregisters with Expires 0, answering the challenge", "[reg][client]") {
    Harness h(base_config());
    h.client.start(t0);
    h.converse(t0);
    REQUIRE(h.registrar.bindings.size() == 1);
    const auto cseq = parse(h.last()).cseq().number;
    const std::size_t n = h.sent.size();

    h.client.stop(t0 + 10s);
    CHECK(h.client.stop_deadline() == t0 + 15s);
    h.drain();
    REQUIRE(h.sent.size() == n + 1);
    sip::Message unreg = parse(h.last());
    CHECK(header(unreg, sip::HeaderId::Expires) == "0");
    CHECK(header(unreg, sip::HeaderId::Contact) == "<sip:4420001@198.51.100.7:5060>;expires=0");
    CHECK(unreg.call_id() == parse(*h.sent[0].bytes).call_id());
    CHECK(unreg.cseq().number == cseq + 1);
    CHECK(h.client.status().state == State::unregistering);
    CHECK_FALSE(h.client.done());

    h.converse(t0 + 10s);  // 401 -> answered -> 200
    CHECK(h.sent.size() == n + 2);
    CHECK(h.registrar.verdicts.back() == Verdict::ok);
    CHECK(h.registrar.bindings.empty());
    CHECK(h.client.done());
    CHECK(h.client.clean_stop());
    CHECK(h.client.status().state == State::unregistered);
    CHECK(h.client.status().reason == "unregistered (200 OK)");
    CHECK(h.client.persisted().contact_uri.empty());  // nothing left to clean after a crash
    CHECK_FALSE(h.client.next_deadline());
}

TEST_CASE("reg client: an unanswered unregister ends at the stop deadline", "[reg][client]") {
    Harness h(base_config());
    h.client.start(t0);
    h.converse(t0);
    h.client.stop(t0 + 1s);
    h.drain();
    CHECK(h.client.next_deadline() == t0 + 6s);
    h.client.handle_timeouts(t0 + 6s - 1ms);
    CHECK_FALSE(h.client.done());
    h.client.handle_timeouts(t0 + 6s);
    CHECK(h.client.done());
    // Issue 12 item 6: not "unregistered" and not a clean stop: nothing confirmed it.
    CHECK(h.client.status().state == State::stopped);
    CHECK(h.client.status().reason ==
          "stopped: unregister not answered within 5 s; the binding may stay at the registrar "
          "until it expires");
    CHECK_FALSE(h.client.clean_stop());
    CHECK(h.client.persisted().contact_uri == "sip:4420001@198.51.100.7:5060");
}

TEST_CASE("reg client: send_unregister off or never registered stops at once", "[reg][client]") {
    auto c = base_config();
    c.send_unregister = false;
    Harness h(c);
    h.client.start(t0);
    h.converse(t0);
    const std::size_t n = h.sent.size();
    h.client.stop(t0 + 1s);
    h.drain();
    CHECK(h.client.done());
    CHECK(h.sent.size() == n);
    CHECK(h.registrar.bindings.size() == 1);
    CHECK(h.client.status().state == State::stopped);
    CHECK(h.client.clean_stop());  // as configured: the binding stays
    CHECK(h.client.persisted().contact_uri == "sip:4420001@198.51.100.7:5060");

    Harness idle(base_config());
    idle.client.stop(t0);
    idle.drain();
    CHECK(idle.client.done());
    CHECK(idle.sent.empty());
    CHECK(idle.client.status().state == State::stopped);
    CHECK(idle.client.status().reason == "stopped: never registered, nothing to unregister");
    CHECK(idle.client.clean_stop());
}

TEST_CASE("reg client: stop sends nothing when every attempt was refused", "[reg][client]") {
    auto c = base_config();
    c.password = "wrong";
    Harness h(c);
    h.client.start(t0);
    h.converse(t0);
    REQUIRE(h.client.status().state == State::failed);
    const std::size_t n = h.sent.size();
    h.client.stop(t0 + 1s);
    h.drain();
    CHECK(h.client.done());
    CHECK(h.sent.size() == n);  // the rejected credentials are not tried once more
    CHECK(h.client.status().state == State::stopped);
    CHECK(h.client.status().reason ==
          "stopped: never registered (every attempt was refused), nothing to unregister");
    CHECK(h.client.clean_stop());
    CHECK(h.client.persisted().contact_uri.empty());  // nothing for a restart to remove
}

TEST_CASE("reg client: a registrar that never answered gets no unregister at stop",
          "[reg][client]") {
    // Issue 12 item 6: an entry whose registrar never answered (nothing listens there) sent
    // an unregister at stop, waited unregister_wait for it, and then said "unregistered".
    Harness h(base_config());
    h.client.start(t0);
    h.drain();
    h.client.on_timeout(t0 + 32s);
    h.drain();
    REQUIRE(h.client.status().state == State::failed);
    const std::size_t n = h.sent.size();
    h.client.stop(t0 + 33s);
    h.drain();
    CHECK(h.sent.size() == n);
    CHECK(h.client.done());
    CHECK_FALSE(h.client.stop_deadline());
    CHECK(h.client.status().state == State::stopped);
    CHECK(h.client.status().reason ==
          "stopped: never registered (the registrar never answered), nothing to unregister");
    CHECK(h.client.clean_stop());

    // the same while the retry is out (it would time out like the first)
    Harness r(base_config());
    r.client.start(t0);
    r.drain();
    r.client.on_timeout(t0 + 32s);
    REQUIRE(r.client.next_deadline());
    const Instant retry = *r.client.next_deadline();
    r.client.handle_timeouts(retry);
    r.drain();
    REQUIRE(r.sent.size() == 2);
    r.client.stop(retry + 1s);
    r.drain();
    CHECK(r.sent.size() == 2);
    CHECK(r.client.done());
    CHECK(r.client.status().state == State::stopped);
}

TEST_CASE("reg client: stop unregisters when the outcome is unknown or an earlier run bound us",
          "[reg][client]") {
    // a REGISTER that timed out at a registrar that answers may have been processed (its
    // answer lost): remove what it may have bound
    Harness lost(base_config());
    lost.client.start(t0);
    lost.drain();
    lost.client.on_response(parse(lost.registrar.handle(lost.last(), t0)), t0);  // 401
    lost.drain();
    REQUIRE(lost.sent.size() == 2);  // with credentials
    lost.client.on_timeout(t0 + 32s);
    lost.drain();
    const std::size_t n = lost.sent.size();
    lost.client.stop(t0 + 33s);
    lost.drain();
    REQUIRE(lost.sent.size() == n + 1);
    CHECK(header(parse(lost.last()), sip::HeaderId::Expires) == "0");
    CHECK_FALSE(lost.client.done());

    // a REGISTER still in flight: the same
    Harness flying(base_config());
    flying.client.start(t0);
    flying.drain();
    flying.client.stop(t0 + 1s);
    flying.drain();
    REQUIRE(flying.sent.size() == 2);
    CHECK(header(parse(flying.last()), sip::HeaderId::Expires) == "0");

    // the previous run left this very contact bound; this run's attempts are all refused
    auto c = base_config();
    c.password = "wrong";
    Harness h(c);
    Persisted prev{"old-call@198.51.100.7", 7, "sip:4420001@198.51.100.7:5060", std::nullopt};
    h.client.start(t0, prev);
    h.converse(t0);
    REQUIRE(h.client.status().state == State::failed);
    const std::size_t m = h.sent.size();
    h.client.stop(t0 + 1s);
    h.drain();
    REQUIRE(h.sent.size() == m + 1);
    CHECK(header(parse(h.last()), sip::HeaderId::Expires) == "0");
}

TEST_CASE("reg client: crash recovery unregisters the old contact first", "[reg][client]") {
    Harness h(base_config());
    h.registrar.bindings["sip:4420001@198.51.100.7:5070"] = 3600;  // left by the crashed run
    Persisted prev{.call_id = "crashed-call@198.51.100.7",
                   .cseq = 17,
                   .contact_uri = "sip:4420001@198.51.100.7:5070",
                   .expires_at = std::nullopt};
    h.client.start(t0, prev);
    h.drain();
    REQUIRE(h.sent.size() == 1);
    sip::Message first = parse(h.last());
    CHECK(first.call_id() == "crashed-call@198.51.100.7");
    CHECK(first.cseq().number == 18);
    CHECK(header(first, sip::HeaderId::Contact) == "<sip:4420001@198.51.100.7:5070>;expires=0");
    CHECK(header(first, sip::HeaderId::Expires) == "0");
    // A crash now must still remember the old contact.
    CHECK(h.client.persisted().contact_uri == "sip:4420001@198.51.100.7:5070");

    h.converse(t0);  // 401, answered, 200; then the new contact: 401, answered, 200
    REQUIRE(h.sent.size() == 4);
    sip::Message reg = parse(*h.sent[2].bytes);
    CHECK(reg.cseq().number == 20);
    CHECK(reg.call_id() == "crashed-call@198.51.100.7");
    CHECK(header(reg, sip::HeaderId::Contact) == "<sip:4420001@198.51.100.7:5060>");
    CHECK(h.registrar.bindings ==
          std::map<std::string, std::uint32_t>{{"sip:4420001@198.51.100.7:5060", 3600}});
    CHECK(h.client.status().state == State::registered);
    CHECK(h.client.persisted().contact_uri == "sip:4420001@198.51.100.7:5060");
    CHECK(h.client.persisted().cseq == 21);

    SECTION("same contact: no unregister, the old Call-ID continues") {
        Harness g(base_config());
        prev.contact_uri = "sip:4420001@198.51.100.7:5060";
        g.client.start(t0, prev);
        g.drain();
        sip::Message m = parse(g.last());
        CHECK(m.cseq().number == 18);
        CHECK(header(m, sip::HeaderId::Expires) == "3600");
    }
}

TEST_CASE("reg client: CSeq stays below 2^31; the request past it starts a new Call-ID",
          "[reg][client]") {
    // RFC 3261 §8.1.1.5: the CSeq "MUST be less than 2**31". A persisted CSeq near (or, from
    // a corrupt store, beyond) the limit must neither exceed it nor wrap to a number the
    // registrar sees as out of order (§10.3 step 7) on the old Call-ID.
    Harness h(base_config());
    Persisted prev{.call_id = "long-lived@198.51.100.7",
                   .cseq = 0x7ffffffe,
                   .contact_uri = "sip:4420001@198.51.100.7:5060",
                   .expires_at = std::nullopt};
    h.client.start(t0, prev);
    h.converse(t0);  // 401 answered, 200
    REQUIRE(h.sent.size() == 2);
    sip::Message first = parse(*h.sent[0].bytes);
    CHECK(first.call_id() == "long-lived@198.51.100.7");
    CHECK(first.cseq().number == 0x7fffffffu);  // the last number allowed
    sip::Message second = parse(*h.sent[1].bytes);
    CHECK(second.call_id() != "long-lived@198.51.100.7");  // a new registration
    CHECK(second.cseq().number == 1);
    CHECK(h.client.status().state == State::registered);
    CHECK(h.client.persisted().call_id == std::string(second.call_id()));
    CHECK(h.client.persisted().cseq == 1);
    // the registrar updated the binding: another Call-ID replaces it whatever the CSeq
    CHECK(h.registrar.bindings ==
          std::map<std::string, std::uint32_t>{{"sip:4420001@198.51.100.7:5060", 3600}});

    SECTION("a CSeq beyond the limit (corrupt store) starts over at once") {
        Harness g(base_config());
        prev.cseq = 4'294'967'290u;
        g.client.start(t0, prev);
        g.drain();
        REQUIRE(g.sent.size() == 1);
        sip::Message m = parse(g.last());
        CHECK(m.call_id() != "long-lived@198.51.100.7");
        CHECK(m.cseq().number == 1);
    }
}

TEST_CASE("reg client: privacy header per RFC 3323", "[reg][client]") {
    auto value = [](route::reg::Privacy p) {
        auto c = base_config();
        c.privacy = p;
        Harness h(c);
        h.client.start(t0);
        h.drain();
        return header(parse(h.last()), sip::HeaderId::Privacy);
    };
    CHECK(value(route::reg::Privacy::ignore) == "<absent>");
    CHECK(value(route::reg::Privacy::id) == "id");
    CHECK(value(route::reg::Privacy::none) == "none");
}

TEST_CASE("reg client: outbound proxy receives the request; TCP contact says so", "[reg][client]") {
    auto c = base_config();
    c.outbound_proxy = target(sip::Transport::Tcp, "192.0.2.99", 5080);
    Harness h(c);
    h.client.start(t0);
    h.drain();
    CHECK(h.sent[0].target == *c.outbound_proxy);
    sip::Message m = parse(h.last());
    CHECK(m.request_uri() == "sip:carrier.example");
    CHECK(m.top_via().transport == "TCP");
    CHECK(header(m, sip::HeaderId::Contact) == "<sip:4420001@198.51.100.7:5060;transport=tcp>");
}

TEST_CASE("reg client: configuration validation names field and range", "[reg][client]") {
    auto err = [](auto edit) {
        auto c = base_config();
        edit(c);
        return route::reg::validate(c);
    };
    CHECK_FALSE(err([](RegClientConfig&) {}));
    CHECK_FALSE(err([](RegClientConfig& c) { c.expires = 20s; }));
    CHECK_FALSE(err([](RegClientConfig& c) { c.expires = 7200s; }));
    CHECK_FALSE(err([](RegClientConfig& c) { c.retry_delay = 30s; }));
    CHECK_FALSE(err([](RegClientConfig& c) { c.retry_delay = 600s; }));
    auto e = err([](RegClientConfig& c) { c.expires = 19s; });
    REQUIRE(e);
    CHECK(e->field == "expires");
    CHECK(e->message == "expires 19 s is outside 20..7200 s (or auto)");
    e = err([](RegClientConfig& c) { c.expires = 7201s; });
    REQUIRE(e);
    CHECK(e->field == "expires");
    e = err([](RegClientConfig& c) { c.retry_delay = 29s; });
    REQUIRE(e);
    CHECK(e->message == "retry delay 29 s is outside 30..600 s");
    e = err([](RegClientConfig& c) { c.retry_delay = 601s; });
    REQUIRE(e);
    CHECK(e->field == "retry_delay");
    e = err([](RegClientConfig& c) { c.aor_user = "a\r\nX-Evil: 1"; });
    REQUIRE(e);
    CHECK(e->field == "aor_user");
    e = err([](RegClientConfig& c) { c.contact_port = 0; });
    REQUIRE(e);
    CHECK(e->field == "contact_port");

    auto bad = base_config();
    bad.expires = 10s;
    Harness h(bad);
    h.client.start(t0);
    h.drain();
    CHECK(h.sent.empty());
    CHECK(h.client.status().state == State::failed);
    CHECK(h.client.status().reason ==
          "invalid configuration: expires 10 s is outside 20..7200 s (or auto)");
    CHECK_FALSE(h.client.next_deadline());
}

// DESIGN.md §3: state machines are exercised with fuzzed time. Seeded random inputs (any
// final code, timeouts, transport errors, stale challenges, time jumps, stop) must keep the
// invariants: one Call-ID, strictly increasing CSeq, a deadline whenever nothing is in
// flight, and stop() finishing by its deadline.
TEST_CASE("reg client: random responses and time keep the invariants", "[reg][client]") {
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        sip::SeededRandom dice(seed * 7919);
        auto c = base_config();
        if (dice.below(2)) c.expires = std::nullopt;
        Harness h(c, seed);
        h.client.start(t0);
        h.drain();
        Instant now = t0;
        std::size_t answered = 0;  // requests that got an outcome
        std::uint32_t last_cseq = 0;
        std::string call_id;
        bool stopped = false;
        for (int step = 0; step < 60 && !h.client.done(); ++step) {
            for (std::size_t i = answered; i < h.sent.size(); ++i) {
                sip::Message m = parse(*h.sent[i].bytes);
                if (call_id.empty()) call_id = std::string(m.call_id());
                CHECK(m.call_id() == call_id);
                CHECK(m.cseq().number > last_cseq);
                last_cseq = m.cseq().number;
            }
            const bool in_flight = answered < h.sent.size();
            if (in_flight) {
                answered = h.sent.size();
                sip::Message req = parse(h.last());
                now += std::chrono::milliseconds(dice.below(40'000));
                switch (dice.below(8)) {
                    case 0:
                        h.client.on_timeout(now);
                        break;
                    case 1:
                        h.client.on_transport_error(now);
                        break;
                    case 2:
                    case 3: {
                        const bool proxy = dice.below(2);
                        auto ch = h.registrar.auth.challenge(now, dice.below(2));
                        sip::Message r = parse(sip::build_response(
                            req,
                            spec_of(proxy ? 407 : 401,
                                    {{proxy ? "Proxy-Authenticate" : "WWW-Authenticate", ch[0]}})));
                        CHECK(h.client.on_response(r, now));
                        break;
                    }
                    case 4: {
                        const std::string me = std::to_string(dice.below(8000));
                        sip::Message r =
                            parse(sip::build_response(req, spec_of(423, {{"Min-Expires", me}})));
                        CHECK(h.client.on_response(r, now));
                        break;
                    }
                    case 5: {
                        static const std::uint16_t codes[] = {403, 404, 480, 500, 503, 603};
                        sip::Message r =
                            parse(sip::build_response(req, spec_of(codes[dice.below(6)])));
                        CHECK(h.client.on_response(r, now));
                        break;
                    }
                    default: {
                        const std::string e = std::to_string(dice.below(7200));
                        sip::Message r =
                            parse(sip::build_response(req, spec_of(200, {{"Expires", e}})));
                        CHECK(h.client.on_response(r, now));
                        break;
                    }
                }
                h.drain();
            } else {
                auto d = h.client.next_deadline();
                REQUIRE(d);  // nothing in flight: a timer must be armed, or we are stuck
                now = std::max(now, *d);
                h.client.handle_timeouts(now);
                h.drain();
                auto after = h.client.next_deadline();
                if (after) CHECK(*after > now);
            }
            if (!stopped && dice.below(30) == 0) {
                stopped = true;
                h.client.stop(now);
                h.drain();
                if (!h.client.done()) {
                    REQUIRE(h.client.stop_deadline());
                    CHECK(*h.client.stop_deadline() == now + 5s);
                }
            }
        }
        if (stopped && !h.client.done()) {
            h.client.handle_timeouts(*h.client.stop_deadline());
            CHECK(h.client.done());
        }
    }
}

TEST_CASE("reg client: refresh_now sends a REGISTER at once, registered or retrying",
          "[reg][client]") {
    auto c = base_config();
    c.retry_delay = 30s;
    Harness h(c);
    CHECK_FALSE(h.client.refresh_now(t0));  // not started
    h.client.start(t0);
    h.converse(t0);
    REQUIRE(h.client.status().state == State::registered);
    const auto before = h.sent.size();
    const auto expires = *h.client.status().expires_at;
    // long before the refresh is due: a REGISTER now (challenged and answered again)
    CHECK(h.client.refresh_now(t0 + 5s));
    h.converse(t0 + 5s);
    CHECK(h.sent.size() > before);
    CHECK(h.client.status().state == State::registered);
    CHECK(*h.client.status().expires_at == expires + 5s);
    // one outstanding: no second request, still true
    CHECK(h.client.refresh_now(t0 + 6s));
    h.drain();
    const auto outstanding = h.sent.size();
    CHECK(h.client.refresh_now(t0 + 6s));
    h.drain();
    CHECK(h.sent.size() == outstanding);
    h.converse(t0 + 6s);
    // failing and waiting for the retry delay: at once instead
    h.registrar.force_status = 403;
    CHECK(h.client.refresh_now(t0 + 7s));
    h.converse(t0 + 7s);
    REQUIRE(h.client.status().state == State::failed);
    REQUIRE(h.client.status().next_attempt);
    h.registrar.force_status = 0;
    CHECK(h.client.refresh_now(t0 + 8s));
    h.converse(t0 + 8s);
    CHECK(h.client.status().state == State::registered);
    CHECK(h.client.status().consecutive_failures == 0);
    h.client.stop(t0 + 9s);
    CHECK_FALSE(h.client.refresh_now(t0 + 9s));  // stopping
}

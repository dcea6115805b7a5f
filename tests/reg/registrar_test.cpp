// route::reg::Registrar with fake time and a fake authenticator: RFC 3261 §10.3 add, refresh,
// remove, `*`, several contacts and q, 423, Call-ID/CSeq ordering, exact expiry, Path,
// unksm2, and the operator rules replace / retry / suspend / lift / drop with bounded tables.
#include <catch2/catch.hpp>

#include <string>

#include "route/reg/registrar.hpp"
#include "sip/message.hpp"

using namespace route::reg;
using namespace std::chrono_literals;
using Kind = RegistrarEvent::Kind;

namespace {

const sip::Instant t0 = sip::Instant{} + 10'000s;

// Accepts `response="good"`, answers Stale to `response="stale"`, rejects anything else.
class FakeAuth final : public Authenticator {
  public:
    std::vector<std::string> challenge(sip::Instant, bool stale) override {
        ++challenges;
        return {stale ? "Digest realm=\"t\", nonce=\"n\", stale=true"
                      : "Digest realm=\"t\", nonce=\"n\""};
    }
    Outcome verify(std::string_view authorization, std::string_view method, sip::Instant) override {
        Outcome o;
        auto c = sip::parse_credentials(authorization);
        if (!c) return o;
        o.username = std::string(c->username);
        CHECK(method == "REGISTER");
        if (c->response == "good")
            o.verdict = Verdict::Ok;
        else if (c->response == "stale")
            o.verdict = Verdict::Stale;
        else if (c->response == "repeated")  // right, but its nc was used before
            o.verdict = Verdict::Repeated;
        return o;
    }
    int challenges = 0;
};

struct Req {
    std::string to = "<sip:alice@example.com>";
    std::vector<std::string> contacts = {"<sip:alice@192.0.2.1:5060>"};
    std::optional<std::string> expires;
    std::string call_id = "call-1";
    std::uint32_t cseq = 1;
    std::optional<std::string> auth_user;  // adds Authorization
    std::string auth_response = "good";
    std::vector<std::string> extra;  // whole header lines
    std::string branch;              // empty: one per (CSeq, Call-ID), like a real UA's
};

sip::Message parse(const Req& r) {
    std::string m =
        "REGISTER sip:example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=" +
        (r.branch.empty() ? "z9hG4bK" + std::to_string(r.cseq) + r.call_id : r.branch) +
        "\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@example.com>;tag=f1\r\n"
        "To: " +
        r.to + "\r\nCall-ID: " + r.call_id + "\r\nCSeq: " + std::to_string(r.cseq) +
        " REGISTER\r\n";
    for (const auto& c : r.contacts)
        m += "Contact: " + c + "\r\n";
    if (r.expires) m += "Expires: " + *r.expires + "\r\n";
    if (r.auth_user)
        m += "Authorization: Digest username=\"" + *r.auth_user +
             "\", realm=\"t\", nonce=\"n\", uri=\"sip:example.com\", response=\"" +
             r.auth_response + "\"\r\n";
    for (const auto& e : r.extra)
        m += e + "\r\n";
    m += "Content-Length: 0\r\n\r\n";
    auto parsed = sip::Message::parse(m);
    INFO(m);
    REQUIRE(parsed);
    return std::move(*parsed);
}

sip::Target ip(std::string host) {
    sip::Target t;
    t.host = std::move(host);
    t.port = 5060;
    return t;
}
const sip::Target src = ip("192.0.2.1");

std::vector<std::string> headers(const Decision& d, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [n, v] : d.headers)
        if (n == name) out.push_back(v);
    return out;
}

std::vector<RegistrarEvent> drain(Registrar& r) {
    std::vector<RegistrarEvent> out;
    while (auto e = r.poll())
        out.push_back(*e);
    return out;
}

}  // namespace

TEST_CASE("registrar: add, refresh, query and remove one binding", "[reg][registrar]") {
    Location loc;
    Registrar reg({}, loc);
    Req r;
    r.expires = "600";
    Decision d = reg.handle(parse(r), src, t0);
    REQUIRE(d.action == Decision::Action::Respond);
    CHECK(d.status == 200);
    CHECK(d.aor == "sip:alice@example.com");
    CHECK(headers(d, "Contact") ==
          std::vector<std::string>{"<sip:alice@192.0.2.1:5060>;expires=600"});
    auto ev = drain(reg);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == Kind::Added);
    auto b = loc.lookup("sip:alice@example.com", t0);
    REQUIRE(b.size() == 1);
    CHECK(b[0].expires_at == t0 + 600s);
    CHECK(b[0].source == src);
    CHECK(b[0].call_id == "call-1");

    // refresh 100 s later with a higher CSeq: remaining expires in the 200 is the new one
    r.cseq = 2;
    r.expires = "300";
    d = reg.handle(parse(r), src, t0 + 100s);
    CHECK(d.status == 200);
    CHECK(headers(d, "Contact") ==
          std::vector<std::string>{"<sip:alice@192.0.2.1:5060>;expires=300"});
    ev = drain(reg);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == Kind::Refreshed);
    CHECK(loc.lookup("sip:alice@example.com", t0)[0].expires_at == t0 + 400s);

    // a query (no Contact) lists the binding with its remaining time, rounded up
    Req q;
    q.contacts.clear();
    q.cseq = 3;
    d = reg.handle(parse(q), src, t0 + 150s + 500ms);
    CHECK(d.status == 200);
    CHECK(headers(d, "Contact") ==
          std::vector<std::string>{"<sip:alice@192.0.2.1:5060>;expires=250"});
    CHECK(drain(reg).empty());

    // Expires: 0 removes it
    r.cseq = 4;
    r.expires = "0";
    d = reg.handle(parse(r), src, t0 + 200s);
    CHECK(d.status == 200);
    CHECK(headers(d, "Contact").empty());
    ev = drain(reg);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == Kind::Removed);
    CHECK(loc.lookup("sip:alice@example.com", t0 + 200s).empty());
}

TEST_CASE("registrar: expires from contact param beats Expires header, default otherwise",
          "[reg][registrar]") {
    Location loc;
    Registrar reg({.max_expires = 7200s, .default_expires = 1800s}, loc);
    Req r;
    r.contacts = {"<sip:alice@192.0.2.1:5060>;expires=120", "<sip:alice@192.0.2.1:5070>"};
    r.expires = "900";
    CHECK(reg.handle(parse(r), src, t0).status == 200);
    auto b = loc.lookup("sip:alice@example.com", t0);
    REQUIRE(b.size() == 2);
    CHECK(b[0].expires_at == t0 + 900s);  // same q: the later expiry first
    CHECK(b[1].expires_at == t0 + 120s);

    Req def;
    def.to = "<sip:bob@example.com>";
    CHECK(reg.handle(parse(def), src, t0).status == 200);
    CHECK(loc.lookup("sip:bob@example.com", t0)[0].expires_at == t0 + 1800s);

    Req big;
    big.to = "<sip:carol@example.com>";
    big.expires = "100000";
    Decision d = reg.handle(parse(big), src, t0);
    CHECK(d.status == 200);
    CHECK(loc.lookup("sip:carol@example.com", t0)[0].expires_at == t0 + 7200s);  // shortened
    CHECK(headers(d, "Contact")[0] == "<sip:alice@192.0.2.1:5060>;expires=7200");
}

TEST_CASE("registrar: below Min-Expires gets 423 and changes nothing", "[reg][registrar]") {
    Location loc;
    Registrar reg({.min_expires = 60s}, loc);
    Req r;
    r.contacts = {"<sip:alice@192.0.2.1:5060>", "<sip:alice@192.0.2.1:5070>;expires=59"};
    r.expires = "3600";
    Decision d = reg.handle(parse(r), src, t0);
    CHECK(d.status == 423);
    CHECK(headers(d, "Min-Expires") == std::vector<std::string>{"60"});
    CHECK(loc.binding_count() == 0);  // the valid first contact was not committed either
    CHECK(drain(reg).empty());
    // exactly the minimum is accepted; 0 is never "too brief"
    r.contacts = {"<sip:alice@192.0.2.1:5070>;expires=60"};
    r.cseq = 2;
    CHECK(reg.handle(parse(r), src, t0).status == 200);
    r.contacts = {"<sip:alice@192.0.2.1:5070>;expires=0"};
    r.cseq = 3;
    CHECK(reg.handle(parse(r), src, t0).status == 200);
    CHECK(loc.binding_count() == 0);
    // and the rendered bytes carry it
    r.contacts = {"<sip:alice@192.0.2.1:5070>;expires=1"};
    r.cseq = 4;
    const sip::Message m = parse(r);
    std::string bytes = render(m, reg.handle(m, src, t0), {.to_tag = "tt"});
    CHECK(bytes.rfind("SIP/2.0 423 ", 0) == 0);
    CHECK(bytes.find("\r\nMin-Expires: 60\r\n") != std::string::npos);
}

TEST_CASE("registrar: several contacts ordered by q in the 200 and in lookup", "[reg][registrar]") {
    Location loc;
    Registrar reg({}, loc);
    Req r;
    r.contacts = {"<sip:alice@192.0.2.1:5060>;q=0.1",
                  "<sip:alice@192.0.2.2>;q=0.9, <sip:alice@192.0.2.3>;q=0.5"};
    r.expires = "600";
    Decision d = reg.handle(parse(r), src, t0);
    REQUIRE(d.status == 200);
    CHECK(headers(d, "Contact") ==
          std::vector<std::string>{"<sip:alice@192.0.2.2>;expires=600;q=0.9",
                                   "<sip:alice@192.0.2.3>;expires=600;q=0.5",
                                   "<sip:alice@192.0.2.1:5060>;expires=600;q=0.1"});
    auto b = loc.lookup("sip:alice@example.com", t0);
    REQUIRE(b.size() == 3);
    CHECK(b[0].contact == "sip:alice@192.0.2.2");
    CHECK(b[2].q == 100);
    CHECK(drain(reg).size() == 3);
}

TEST_CASE("registrar: Contact * removes all, only alone and with Expires 0", "[reg][registrar]") {
    Location loc;
    Registrar reg({}, loc);
    Req r;
    r.contacts = {"<sip:alice@192.0.2.1>", "<sip:alice@192.0.2.2>"};
    REQUIRE(reg.handle(parse(r), src, t0).status == 200);
    drain(reg);

    Req bad;
    bad.contacts = {"*"};
    bad.cseq = 2;
    CHECK(reg.handle(parse(bad), src, t0).status == 400);  // no Expires
    bad.expires = "10";
    CHECK(reg.handle(parse(bad), src, t0).status == 400);  // Expires not 0
    bad.expires = "0";
    bad.contacts = {"*", "<sip:alice@192.0.2.3>"};
    CHECK(reg.handle(parse(bad), src, t0).status == 400);  // not alone
    CHECK(loc.binding_count() == 2);

    Req star;
    star.contacts = {"*"};
    star.expires = "0";
    star.cseq = 1;  // same Call-ID, CSeq not higher than the bindings': out of order
    CHECK(reg.handle(parse(star), src, t0).status == 400);
    CHECK(loc.binding_count() == 2);
    star.cseq = 2;
    Decision d = reg.handle(parse(star), src, t0);
    CHECK(d.status == 200);
    CHECK(headers(d, "Contact").empty());
    CHECK(loc.binding_count() == 0);
    auto ev = drain(reg);
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].kind == Kind::Removed);
    CHECK(ev[1].kind == Kind::Removed);

    // another Call-ID may remove with any CSeq (§10.3 step 6)
    REQUIRE(reg.handle(parse(r), src, t0).status == 200);
    star.call_id = "other";
    star.cseq = 1;
    CHECK(reg.handle(parse(star), src, t0).status == 200);
    CHECK(loc.binding_count() == 0);
}

TEST_CASE("registrar: same Call-ID needs a higher CSeq (RFC 3261 10.3 step 7)",
          "[reg][registrar]") {
    Location loc;
    Registrar reg({}, loc);
    Req r;
    r.cseq = 5;
    r.expires = "600";
    REQUIRE(reg.handle(parse(r), src, t0).status == 200);
    drain(reg);
    for (std::uint32_t c : {5u, 4u}) {
        r.cseq = c;
        r.branch = "z9hG4bKlate" + std::to_string(c);  // another transaction
        r.expires = "0";  // a late unregister must not remove the newer binding
        Decision d = reg.handle(parse(r), src, t0 + 1s);
        CHECK(d.status == 400);
        CHECK(loc.binding_count() == 1);
    }
    CHECK(drain(reg).empty());
    r.branch.clear();
    r.cseq = 6;
    r.expires = "900";
    CHECK(reg.handle(parse(r), src, t0 + 1s).status == 200);
    CHECK(loc.lookup("sip:alice@example.com", t0)[0].expires_at == t0 + 901s);
    CHECK(loc.lookup("sip:alice@example.com", t0)[0].cseq == 6);
    // a new Call-ID (the phone rebooted) with a low CSeq is accepted
    r.call_id = "call-2";
    r.cseq = 1;
    CHECK(reg.handle(parse(r), src, t0 + 2s).status == 200);
    CHECK(loc.lookup("sip:alice@example.com", t0)[0].call_id == "call-2");
}

TEST_CASE("registrar: a retransmitted REGISTER gets the 200 again and changes nothing",
          "[reg][registrar]") {
    Location loc;
    Registrar reg({}, loc);
    Req r;
    r.cseq = 5;
    r.expires = "600";
    Decision d = reg.handle(parse(r), src, t0);
    CHECK(d.status == 200);
    CHECK(d.stateless);  // its retransmission is recognised: nothing to keep for Timer J
    CHECK(drain(reg).size() == 1);
    // the same transaction (Call-ID, CSeq, branch, sent-by) 2 s later: the 200 again, with
    // the binding's remaining time, and no change and no event
    d = reg.handle(parse(r), src, t0 + 2s);
    CHECK(d.status == 200);
    CHECK(d.stateless);
    CHECK(headers(d, "Contact") ==
          std::vector<std::string>{"<sip:alice@192.0.2.1:5060>;expires=598"});
    CHECK(drain(reg).empty());
    CHECK(loc.lookup("sip:alice@example.com", t0)[0].expires_at == t0 + 600s);
    // the same Call-ID and CSeq in another transaction is out of order (step 7)
    r.branch = "z9hG4bKother";
    CHECK(reg.handle(parse(r), src, t0 + 3s).status == 400);
    // an RFC 2543 branch: left to the server transaction
    r.branch = "2543-branch";
    r.cseq = 6;
    d = reg.handle(parse(r), src, t0 + 4s);
    CHECK(d.status == 200);
    CHECK_FALSE(d.stateless);
    // answers a retransmission would not get again are kept statefully: a removal, a query
    r.branch.clear();
    r.cseq = 7;
    r.expires = "0";
    d = reg.handle(parse(r), src, t0 + 5s);
    CHECK(d.status == 200);
    CHECK_FALSE(d.stateless);
    CHECK(loc.binding_count() == 0);
    Req q;
    q.contacts.clear();
    q.cseq = 8;
    d = reg.handle(parse(q), src, t0 + 6s);
    CHECK(d.status == 200);
    CHECK_FALSE(d.stateless);
}

TEST_CASE("registrar: a used nonce count passes only as the retransmission of a stored REGISTER",
          "[reg][registrar]") {
    Location loc;
    FakeAuth auth;
    Registrar reg({}, loc, &auth);
    Req r;
    r.auth_user = "alice";
    r.cseq = 2;
    r.expires = "600";
    Decision d = reg.handle(parse(r), src, t0);
    REQUIRE(d.status == 200);
    CHECK(d.stateless);
    drain(reg);
    // the retransmission carries the same nc: the digest server calls it Repeated
    r.auth_response = "repeated";
    d = reg.handle(parse(r), src, t0 + 1s);
    CHECK(d.status == 200);
    CHECK(d.stateless);
    CHECK(headers(d, "Contact") ==
          std::vector<std::string>{"<sip:alice@192.0.2.1:5060>;expires=599"});
    CHECK(drain(reg).empty());
    CHECK(reg.tracked_counters() == 0);
    // the same credentials in another request are a replay: refused and counted
    r.cseq = 3;
    d = reg.handle(parse(r), src, t0 + 2s);
    CHECK(d.status == 401);
    CHECK(reg.tracked_counters() > 0);
    CHECK(loc.lookup("sip:alice@example.com", t0)[0].cseq == 2);
}

TEST_CASE("registrar: binding present at t-1ns, gone at t; expiry event", "[reg][registrar]") {
    Location loc;
    Registrar reg({}, loc);
    Req r;
    r.expires = "3600";
    REQUIRE(reg.handle(parse(r), src, t0).status == 200);
    const sip::Instant t = t0 + 3600s;
    CHECK(loc.lookup("sip:alice@example.com", t - 1ns).size() == 1);
    CHECK(loc.lookup("sip:alice@example.com", t).empty());
    REQUIRE(loc.next_deadline() == t);
    // a query at t lists nothing even before the timer runs
    Req q;
    q.contacts.clear();
    q.cseq = 2;
    CHECK(headers(reg.handle(parse(q), src, t), "Contact").empty());
    loc.handle_timeouts(t);
    auto ev = loc.poll();
    REQUIRE(ev);
    CHECK(ev->kind == LocationEvent::Kind::Expired);
    CHECK(ev->binding.contact == "sip:alice@192.0.2.1:5060");
}

TEST_CASE("registrar: register_replace on kicks the other device, off refuses it",
          "[reg][registrar]") {
    Req phone1;
    phone1.contacts = {"<sip:alice@192.0.2.1:5060>"};
    Req phone2;
    phone2.contacts = {"<sip:alice@203.0.113.9:5060>"};
    phone2.call_id = "call-phone2";
    const sip::Target src2 = ip("203.0.113.9");

    SECTION("on (default)") {
        Location loc;
        Registrar reg({}, loc);
        REQUIRE(reg.config().register_replace);
        REQUIRE(reg.handle(parse(phone1), src, t0).status == 200);
        drain(reg);
        Decision d = reg.handle(parse(phone2), src2, t0 + 1s);
        CHECK(d.status == 200);
        CHECK(headers(d, "Contact") ==
              std::vector<std::string>{"<sip:alice@203.0.113.9:5060>;expires=3600"});
        auto ev = drain(reg);
        REQUIRE(ev.size() == 2);
        CHECK(ev[0].kind == Kind::Replaced);
        CHECK(ev[0].contact == "sip:alice@192.0.2.1:5060");
        CHECK(ev[1].kind == Kind::Added);
        auto b = loc.lookup("sip:alice@example.com", t0 + 1s);
        REQUIRE(b.size() == 1);
        CHECK(b[0].source == src2);
    }
    SECTION("off") {
        Location loc;
        Registrar reg({.register_replace = false}, loc);
        REQUIRE(reg.handle(parse(phone1), src, t0).status == 200);
        drain(reg);
        CHECK(reg.handle(parse(phone2), src2, t0 + 1s).status == 403);
        CHECK(drain(reg).empty());
        CHECK(loc.lookup("sip:alice@example.com", t0 + 1s)[0].contact ==
              "sip:alice@192.0.2.1:5060");
        // the first device may still refresh (new Call-ID after a reboot, same contact)
        phone1.call_id = "call-rebooted";
        CHECK(reg.handle(parse(phone1), src, t0 + 2s).status == 200);
        // once the first binding has expired, the second device gets in
        CHECK(reg.handle(parse(phone2), src2, t0 + 2s + 3600s - 1ns).status == 403);
        CHECK(reg.handle(parse(phone2), src2, t0 + 2s + 3600s).status == 200);
    }
}

TEST_CASE("registrar: Path kept in the binding and returned in the 200 (RFC 3327)",
          "[reg][registrar]") {
    Location loc;
    Registrar reg({}, loc);
    Req r;
    r.extra = {"Path: <sip:p1.example.com;lr>",
               "Path: <sip:p2.example.com;lr>,<sip:p3.example.com;lr>", "Supported: path"};
    Decision d = reg.handle(parse(r), src, t0);
    REQUIRE(d.status == 200);
    auto b = loc.lookup("sip:alice@example.com", t0);
    REQUIRE(b.size() == 1);
    CHECK(b[0].path == std::vector<std::string>{"<sip:p1.example.com;lr>",
                                                "<sip:p2.example.com;lr>",
                                                "<sip:p3.example.com;lr>"});
    CHECK(headers(d, "Path") ==
          std::vector<std::string>{"<sip:p1.example.com;lr>",
                                   "<sip:p2.example.com;lr>,<sip:p3.example.com;lr>"});
}

TEST_CASE("registrar: non-SIP To (RFC 4475 unksm2) gets 400, Require gets 420",
          "[reg][registrar]") {
    Location loc;
    Registrar reg({}, loc);
    Req r;
    r.to = "isbn:2983792873";
    Decision d = reg.handle(parse(r), src, t0);
    CHECK(d.status == 400);
    CHECK(loc.binding_count() == 0);
    const sip::Message m = parse(r);
    std::string bytes = render(m, d);
    CHECK(bytes.rfind("SIP/2.0 400 ", 0) == 0);

    Req t;
    t.to = "<tel:+15551234>";
    CHECK(reg.handle(parse(t), src, t0).status == 400);

    Req q;
    q.extra = {"Require: path, foo"};
    d = reg.handle(parse(q), src, t0);
    CHECK(d.status == 420);
    CHECK(headers(d, "Unsupported") == std::vector<std::string>{"foo"});
    q.extra = {"Require: path"};
    CHECK(reg.handle(parse(q), src, t0).status == 200);
}

TEST_CASE("registrar: digest challenge, stale, wrong user for the AOR", "[reg][registrar]") {
    Location loc;
    FakeAuth auth;
    Registrar reg({}, loc, &auth);
    Req r;
    Decision d = reg.handle(parse(r), src, t0);
    CHECK(d.status == 401);
    CHECK(headers(d, "WWW-Authenticate") ==
          std::vector<std::string>{"Digest realm=\"t\", nonce=\"n\""});
    CHECK(loc.binding_count() == 0);
    r.auth_user = "alice";
    r.auth_response = "stale";
    r.cseq = 2;
    d = reg.handle(parse(r), src, t0);
    CHECK(d.status == 401);
    CHECK(headers(d, "WWW-Authenticate")[0].find("stale=true") != std::string::npos);
    r.auth_user = "mallory";
    r.auth_response = "good";
    r.cseq = 3;
    CHECK(reg.handle(parse(r), src, t0).status == 403);  // §10.3 step 6
    CHECK(loc.binding_count() == 0);
    r.auth_user = "alice";
    r.cseq = 4;
    d = reg.handle(parse(r), src, t0);
    CHECK(d.status == 200);
    CHECK(loc.binding_count() == 1);
    CHECK(reg.tracked_counters() == 0);  // missing/stale credentials are not failures
    // Date only when the adapter gives wall time
    const sip::Message m = parse(r);
    std::string bytes = render(m, d, {.to_tag = "x", .unix_time = 1'795'683'180});
    CHECK(bytes.find("\r\nDate: Thu, 26 Nov 2026 08:53:00 GMT\r\n") != std::string::npos);
    CHECK(render(m, d, {.to_tag = "x"}).find("Date:") == std::string::npos);
}

TEST_CASE("registrar: with suspend_scope user, 6 failures of one user suspend it for exactly 180 s",
          "[reg][registrar]") {
    Location loc;
    FakeAuth auth;
    Registrar reg({.suspend_scope = route::reg::SuspendScope::User}, loc, &auth);
    Req bad;
    bad.auth_user = "alice";
    bad.auth_response = "wrong";
    // each failure from a different IP, so only the per-user count can trigger
    for (int i = 1; i <= 5; ++i) {
        bad.cseq = i;
        Decision d = reg.handle(parse(bad), ip("198.51.100." + std::to_string(i)), t0 + i * 1s);
        CHECK(d.status == 401);
    }
    CHECK(reg.list_suspensions(t0 + 5s).empty());
    drain(reg);
    bad.cseq = 6;
    const sip::Instant t6 = t0 + 6s;
    Decision d = reg.handle(parse(bad), ip("198.51.100.6"), t6);
    CHECK(d.status == 401);  // the 6th try is answered like the others; the next gets 403
    auto ev = drain(reg);
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].kind == Kind::AuthFailed);
    CHECK(ev[1].kind == Kind::Suspended);
    CHECK(ev[1].key == "alice");
    CHECK_FALSE(ev[1].ip);
    REQUIRE(ev[1].suspension);
    CHECK(ev[1].suspension->kind == Suspension::Kind::User);
    auto s = reg.list_suspensions(t6);
    REQUIRE(s.size() == 1);
    CHECK(s[0].key == "alice");
    CHECK(s[0].until == t6 + 180s);
    // the first per-IP counter (one failure at t0+1s) is forgotten after the window
    CHECK(reg.next_deadline() == t0 + 1s + 180s);

    Req good;
    good.auth_user = "alice";
    good.call_id = "good";
    good.cseq = 1;
    Req plain;  // no credentials: refused before any challenge
    plain.call_id = "plain";
    CHECK(reg.handle(parse(plain), ip("192.0.2.200"), t6 + 10s).status == 403);
    CHECK(reg.handle(parse(good), ip("192.0.2.200"), t6 + 180s - 1ns).status == 403);
    CHECK(loc.binding_count() == 0);
    drain(reg);
    CHECK(reg.handle(parse(good), ip("192.0.2.200"), t6 + 180s).status == 200);
    ev = drain(reg);
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].kind == Kind::SuspensionEnded);
    CHECK(ev[0].key == "alice");
    CHECK(ev[1].kind == Kind::Added);
    CHECK(reg.list_suspensions(t6 + 180s).empty());
    CHECK(loc.binding_count() == 1);
}

TEST_CASE("registrar: 6 failures from one IP suspend the IP; lift ends it", "[reg][registrar]") {
    Location loc;
    FakeAuth auth;
    Registrar reg({}, loc, &auth);
    const sip::Target attacker = ip("203.0.113.66");
    // six different user names from one address: only the per-IP count can trigger
    for (int i = 1; i <= 6; ++i) {
        Req bad;
        bad.to = "<sip:u" + std::to_string(i) + "@example.com>";
        bad.auth_user = "u" + std::to_string(i);
        bad.auth_response = "wrong";
        Decision d = reg.handle(parse(bad), attacker, t0 + i * 1ms);
        CHECK(d.status == 401);
    }
    auto s = reg.list_suspensions(t0);
    REQUIRE(s.size() == 1);
    CHECK(s[0].ip());
    CHECK(s[0].key == "203.0.113.66");
    CHECK(s[0].until == t0 + 6ms + 180s);
    // even valid credentials from that address are refused; other addresses are not
    Req good;
    good.auth_user = "alice";
    CHECK(reg.handle(parse(good), attacker, t0 + 1s).status == 403);
    CHECK(reg.handle(parse(good), src, t0 + 1s).status == 200);
    // the operator lifts it
    CHECK(reg.lift("nobody").empty());
    CHECK(reg.lift("203.0.113.66").size() == 1);
    CHECK(reg.list_suspensions(t0 + 2s).empty());
    good.cseq = 2;
    CHECK(reg.handle(parse(good), attacker, t0 + 2s).status == 200);
    // the lift also cleared the count: five more failures do not suspend again
    for (int i = 1; i <= 5; ++i) {
        Req bad;
        bad.to = "<sip:v" + std::to_string(i) + "@example.com>";
        bad.auth_user = "v" + std::to_string(i);
        bad.auth_response = "wrong";
        CHECK(reg.handle(parse(bad), attacker, t0 + 3s).status == 401);
    }
    CHECK(reg.list_suspensions(t0 + 3s).empty());
}

TEST_CASE("registrar: lifting a user; a success resets that user's count and trusts its address",
          "[reg][registrar]") {
    Location loc;
    FakeAuth auth;
    Registrar reg({.register_retry = 3, .suspend_scope = route::reg::SuspendScope::User}, loc,
                  &auth);
    Req bad;
    bad.auth_user = "alice";
    bad.auth_response = "wrong";
    Req good;
    good.auth_user = "alice";
    auto at = [](int i) { return t0 + i * 1s; };
    int i = 0;
    CHECK(reg.handle(parse(bad), ip("198.51.100.1"), at(++i)).status == 401);
    CHECK(reg.handle(parse(bad), ip("198.51.100.2"), at(++i)).status == 401);
    CHECK(reg.handle(parse(good), ip("198.51.100.3"), at(++i)).status == 200);  // resets
    good.cseq = 2;
    CHECK(reg.handle(parse(bad), ip("198.51.100.4"), at(++i)).status == 401);
    CHECK(reg.handle(parse(bad), ip("198.51.100.5"), at(++i)).status == 401);
    CHECK(reg.handle(parse(bad), ip("198.51.100.6"), at(++i)).status == 401);  // 3rd in a row
    CHECK(reg.handle(parse(bad), ip("198.51.100.8"), at(++i)).status == 403);  // suspended
    CHECK(reg.handle(parse(good), ip("198.51.100.7"), at(++i)).status == 403);
    // issue 16: the address alice authenticated from stays open to her
    good.cseq = 3;
    CHECK(reg.handle(parse(good), ip("198.51.100.3"), at(++i)).status == 200);
    CHECK(reg.lift("alice").size() == 1);
    good.cseq = 4;
    CHECK(reg.handle(parse(good), ip("198.51.100.7"), at(++i)).status == 200);
}

TEST_CASE("registrar: suspend_drop drops instead of answering 403", "[reg][registrar]") {
    Location loc;
    FakeAuth auth;
    Registrar reg({.register_retry = 2, .register_suspend = 30s, .suspend_drop = true}, loc, &auth);
    Req bad;
    bad.auth_user = "alice";
    bad.auth_response = "wrong";
    CHECK(reg.handle(parse(bad), src, t0).action == Decision::Action::Respond);
    Decision d = reg.handle(parse(bad), src, t0 + 1s);  // the 2nd try: 401, suspended after it
    CHECK(d.action == Decision::Action::Respond);
    CHECK(d.status == 401);
    d = reg.handle(parse(bad), src, t0 + 2s);
    CHECK(d.action == Decision::Action::Drop);
    Req good;
    good.auth_user = "alice";
    CHECK(reg.handle(parse(good), src, t0 + 31s - 1ns).action == Decision::Action::Drop);
    d = reg.handle(parse(good), src, t0 + 31s);
    CHECK(d.action == Decision::Action::Respond);
    CHECK(d.status == 200);
}

TEST_CASE("registrar: tables stay bounded under a flood of distinct users", "[reg][registrar]") {
    Location loc;
    FakeAuth auth;
    Registrar reg({.max_tracked = 50}, loc, &auth);
    // a real suspension first: it must survive the flood (counters are evicted first)
    Req bad;
    bad.auth_user = "alice";
    bad.auth_response = "wrong";
    for (int i = 0; i < 6; ++i) reg.handle(parse(bad), ip("198.51.100.1"), t0);
    REQUIRE(reg.list_suspensions(t0).size() == 2);  // alice at the address, and the address
    for (int i = 0; i < 10'000; ++i) {
        Req f;
        f.to = "<sip:x" + std::to_string(i) + "@example.com>";
        f.auth_user = "x" + std::to_string(i);
        f.auth_response = "wrong";
        f.call_id = "c" + std::to_string(i);
        reg.handle(parse(f), ip("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250)),
                   t0 + 1s);
        REQUIRE(reg.tracked_counters() <= 2 * 50);  // pairs and addresses
    }
    CHECK(reg.tracked_counters() == 2 * 50);
    auto s = reg.list_suspensions(t0 + 1s);
    REQUIRE(s.size() == 2);
    Req good;
    good.auth_user = "alice";
    CHECK(reg.handle(parse(good), ip("198.51.100.1"), t0 + 2s).status == 403);
    CHECK(reg.handle(parse(good), src, t0 + 2s).status == 200);  // elsewhere she is not refused
}

TEST_CASE("registrar: the real user keeps registering while another address guesses its password",
          "[reg][registrar][security]") {
    // Issue 16 item 3: six wrong passwords from one address suspended the user for everyone,
    // so the real user's right password got 403. Both scopes keep the user's usual address.
    for (auto scope : {route::reg::SuspendScope::Address, route::reg::SuspendScope::User}) {
        Location loc;
        FakeAuth auth;
        Registrar reg({.suspend_scope = scope}, loc, &auth);
        const sip::Target home = ip("192.0.2.10"), attacker = ip("203.0.113.9");
        Req good;
        good.auth_user = "alice";
        good.expires = "60";
        std::uint32_t cseq = 1;
        good.cseq = cseq++;
        REQUIRE(reg.handle(parse(good), home, t0).status == 200);
        for (int round = 0; round < 5; ++round) {
            for (int i = 0; i < 6; ++i) {
                Req bad;
                bad.auth_user = "alice";
                bad.auth_response = "wrong";
                bad.call_id = "guess";
                bad.cseq = static_cast<std::uint32_t>(round * 6 + i + 1);
                reg.handle(parse(bad), attacker, t0 + round * 50s + i * 1s);
            }
            good.cseq = cseq++;
            CHECK(reg.handle(parse(good), home, t0 + round * 50s + 10s).status == 200);
            // the guesser is refused: its address, and alice at its address
            Req guess;
            guess.auth_user = "alice";
            guess.call_id = "guess2";
            CHECK(reg.handle(parse(guess), attacker, t0 + round * 50s + 11s).status == 403);
        }
        bool user_wide = false;
        for (const Suspension& x : reg.list_suspensions(t0 + 200s))
            user_wide |= x.kind == Suspension::Kind::User;
        CHECK(user_wide == (scope == route::reg::SuspendScope::User));
    }
}

TEST_CASE("registrar: an RFC 5626 instance at a new address moves its binding, with events",
          "[reg][registrar]") {
    // RFC 5626 §6: a REGISTER with the same +sip.instance and reg-id replaces that flow's
    // binding. The old contact leaves the location service, and the wiring (persistence,
    // keep-alive) hears about it like about any other removal.
    Location loc;
    Registrar reg({}, loc);
    Req r;
    r.contacts = {"<sip:alice@192.0.2.1:5060>;+sip.instance=\"<urn:uuid:1>\";reg-id=1"};
    r.expires = "600";
    REQUIRE(reg.handle(parse(r), src, t0).status == 200);
    drain(reg);
    r.contacts = {"<sip:alice@192.0.2.99:5060>;+sip.instance=\"<urn:uuid:1>\";reg-id=1"};
    r.cseq = 2;
    REQUIRE(reg.handle(parse(r), ip("192.0.2.99"), t0 + 10s).status == 200);
    auto b = loc.lookup("sip:alice@example.com", t0 + 10s);
    REQUIRE(b.size() == 1);
    CHECK(b[0].contact == "sip:alice@192.0.2.99:5060");
    auto ev = drain(reg);
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].kind == Kind::Removed);
    CHECK(ev[0].contact == "sip:alice@192.0.2.1:5060");
    CHECK(ev[1].kind == Kind::Refreshed);
    CHECK(ev[1].contact == "sip:alice@192.0.2.99:5060");
}

TEST_CASE("registrar: the bindings limit counts what the request really leaves behind",
          "[reg][registrar]") {
    // Two Contacts of one request naming the same RFC 5626 instance as an existing binding:
    // both match it, the first moves it, the second adds one more. With room for one binding
    // the request must be refused as a whole (§10.3 step 7: all or nothing), never half
    // applied with an event for a binding that was not stored.
    Location loc({.max_bindings_per_aor = 1});
    Registrar reg({}, loc);
    Req r;
    r.contacts = {"<sip:alice@192.0.2.1:5060>;+sip.instance=\"<urn:uuid:1>\";reg-id=1"};
    REQUIRE(reg.handle(parse(r), src, t0).status == 200);
    drain(reg);
    r.cseq = 2;
    r.contacts = {"<sip:alice@192.0.2.2:5060>;+sip.instance=\"<urn:uuid:1>\";reg-id=1",
                  "<sip:alice@192.0.2.3:5060>;+sip.instance=\"<urn:uuid:1>\";reg-id=1"};
    Decision d = reg.handle(parse(r), src, t0 + 1s);
    CHECK(d.status == 403);
    CHECK(drain(reg).empty());
    auto b = loc.lookup("sip:alice@example.com", t0 + 1s);
    REQUIRE(b.size() == 1);
    CHECK(b[0].contact == "sip:alice@192.0.2.1:5060");  // untouched

    // the same contact twice in one request is one binding, not two
    Location one({.max_bindings_per_aor = 1});
    Registrar reg1({}, one);
    Req twice;
    twice.contacts = {"<sip:alice@192.0.2.9:5060>", "<sip:alice@192.0.2.9:5060>;expires=120"};
    CHECK(reg1.handle(parse(twice), src, t0).status == 200);
    CHECK(one.binding_count() == 1);
}

TEST_CASE("registrar: a REGISTER whose Via sent-by is not its source is marked as behind a NAT",
          "[reg][registrar][rport]") {
    // RFC 3581: what a response's received/rport would correct is the NAT between us and the UA
    Location loc;
    Registrar reg({}, loc);
    Req r;  // Via: SIP/2.0/UDP 192.0.2.1:5060, Contact sip:alice@192.0.2.1:5060
    r.expires = "600";
    reg.handle(parse(r), src, t0);  // from 192.0.2.1:5060: no NAT
    auto b = loc.lookup("sip:alice@example.com", t0);
    REQUIRE(b.size() == 1);
    CHECK_FALSE(b[0].via_nat);
    // the same UA, now through a port-translating NAT (its STUN-learned Contact unchanged)
    r.cseq = 2;
    sip::Target natted = src;
    natted.port = 40123;
    reg.handle(parse(r), natted, t0 + 1s);
    b = loc.lookup("sip:alice@example.com", t0 + 1s);
    REQUIRE(b.size() == 1);
    CHECK(b[0].via_nat);
    // another address altogether
    r.cseq = 3;
    reg.handle(parse(r), ip("198.51.100.9"), t0 + 2s);
    b = loc.lookup("sip:alice@example.com", t0 + 2s);
    REQUIRE(b.size() == 1);
    CHECK(b[0].via_nat);
    // over TCP the source port is the connection's: only the address counts
    r.cseq = 4;
    sip::Target tcp = natted;
    tcp.transport = sip::Transport::Tcp;
    reg.handle(parse(r), tcp, t0 + 3s);
    b = loc.lookup("sip:alice@example.com", t0 + 3s);
    REQUIRE(b.size() == 1);
    CHECK_FALSE(b[0].via_nat);
}

TEST_CASE("registrar: a refusal for a suspended IP names the AOR; suspensions name their peer",
          "[reg][registrar]") {
    // Issue 12 item 8: the 403 for a suspended source IP carried no AOR (the log line showed
    // an empty address), and nothing linked the user and the IP one failed attempt suspended.
    Location loc;
    FakeAuth auth;
    Registrar reg({}, loc, &auth);
    const sip::Target from = ip("203.0.113.70");
    for (int i = 1; i <= 6; ++i) {
        Req bad;
        bad.to = "<sip:mallory@example.com>";
        bad.auth_user = "mallory";
        bad.auth_response = "wrong";
        bad.cseq = static_cast<std::uint32_t>(i);
        CHECK(reg.handle(parse(bad), from, t0 + i * 1ms).status == 401);
    }
    auto s = reg.list_suspensions(t0);
    REQUIRE(s.size() == 2);  // the user at the IP, and the IP, by the same (sixth) attempt
    for (const Suspension& x : s) {
        if (x.ip()) {
            CHECK(x.key == "203.0.113.70");
            CHECK(x.peer == "mallory");
        } else {
            CHECK(x.kind == Suspension::Kind::UserAtAddress);
            CHECK(x.key == "mallory");
            CHECK(x.peer == "203.0.113.70");
        }
    }
    Req other;
    other.to = "<sip:alice@example.com>";
    other.auth_user = "alice";
    Decision d = reg.handle(parse(other), from, t0 + 1s);
    CHECK(d.status == 403);
    CHECK(d.aor == "sip:alice@example.com");
    // lifting the user leaves the IP suspension: the user still gets 403 from that address
    CHECK(reg.lift("mallory").size() == 1);
    Req good;
    good.to = "<sip:mallory@example.com>";
    good.auth_user = "mallory";
    d = reg.handle(parse(good), from, t0 + 2s);
    CHECK(d.status == 403);
    CHECK(d.aor == "sip:mallory@example.com");
}

TEST_CASE("registrar: set_live_config changes retry and suspend for the next failures",
          "[reg][registrar]") {
    Location loc;
    FakeAuth auth;
    Registrar reg({}, loc, &auth);
    RegistrarConfig c = reg.config();
    c.register_retry = 2;
    c.register_suspend = 30s;
    c.max_tracked = 1;  // restart-only: kept
    reg.set_live_config(c);
    CHECK(reg.config().register_retry == 2);
    CHECK(reg.config().max_tracked != 1);
    const sip::Target attacker = ip("203.0.113.67");
    for (int i = 1; i <= 2; ++i) {
        Req bad;
        bad.to = "<sip:w" + std::to_string(i) + "@example.com>";
        bad.auth_user = "w" + std::to_string(i);
        bad.auth_response = "wrong";
        CHECK(reg.handle(parse(bad), attacker, t0 + i * 1ms).status == 401);
    }
    auto s = reg.list_suspensions(t0);
    REQUIRE(s.size() == 1);  // two failures now suspend (the default needs six)
    CHECK(s[0].until == t0 + 2ms + 30s);
}

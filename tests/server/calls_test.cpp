// sw::Switch / sw::Calls on fake time: whole calls from a customer through LCR to vendors,
// with every byte parsed as a peer would. Failover (503, INVITE timeout, 486 stop), CANCEL,
// BYE from each side, progress and call-length timers, relays, illegal calls and CDRs.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <functional>
#include <string>
#include <vector>

#include "billing/settings.hpp"
#include "sip/auth/client.hpp"
#include "sip/auth/digest.hpp"
#include "sip/builder.hpp"
#include "sip/crypto/evp_hasher.hpp"
#include "sip/message.hpp"
#include "sw/switch.hpp"
#include "wiring/digest_auth.hpp"

using namespace std::chrono_literals;

namespace {

const sip::Instant t0 = sip::Instant{} + 1000s;
constexpr const char* kCustomer = "10.0.0.1";
constexpr const char* kVendor1 = "10.0.0.21";
constexpr const char* kVendor2 = "10.0.0.22";
constexpr const char* kVendor3 = "10.0.0.23";

billing::Money money(const char* s) {
    return *billing::Money::parse(s);
}

billing::Rate rate(const char* prefix, const char* price) {
    billing::Rate r;
    r.prefix = prefix;
    r.area = "test";
    r.price = money(price);
    r.increment_s = 1;
    return r;
}

billing::Book make_book() {
    billing::Book b;
    (void)b.group("retail").add(rate("44", "0.100000"));
    (void)b.group("v1").add(rate("44", "0.050000"));
    (void)b.group("v2").add(rate("44", "0.030000"));
    (void)b.group("v3").add(rate("44", "0.040000"));
    billing::Account c;
    c.id = "1001";
    c.kind = billing::AccountKind::customer;
    c.balance = money("100");
    c.rate_group = "retail";
    (void)b.add_account(c);
    for (auto [id, g] : {std::pair{"9001", "v1"}, {"9002", "v2"}, {"9003", "v3"}}) {
        billing::Account v;
        v.id = id;
        v.kind = billing::AccountKind::vendor;
        v.rate_group = g;
        (void)b.add_account(v);
    }
    return b;
}

sw::VendorEntry vendor(const char* name, const char* host, const char* account, int priority) {
    sw::VendorEntry v;
    v.spec.name = name;
    v.spec.prefixes = {"44"};
    v.spec.priority = priority;
    v.sip.host = host;
    v.sip.port = 5060;
    v.sip.vendor_account = account;
    return v;
}

struct Sent {
    sip::Target to;
    std::string bytes;
    sip::Message msg;
};

struct Harness {
    sip::SeededRandom rng{7};
    sip::crypto::EvpHasher hasher;
    wiring::DigestAuth auth{"trunkline", rng, {sip::auth::Algorithm::MD5}};
    std::unique_ptr<sw::Switch> sw;
    sip::Instant now = t0;
    std::vector<Sent> sent;
    std::vector<sw::RatedCall> cdrs;

    explicit Harness(std::function<void(sw::SwitchConfig&)> tweak = {},
                     std::vector<sw::VendorEntry> vendors = {}) {
        sw::SwitchConfig cfg;
        cfg.calls.local[sip::Transport::Udp] = {"10.0.0.100", 5060};
        cfg.calls.unix_offset_ms = 1'700'000'000'000;
        cfg.router.policy = route::lcr::Policy::vos3000;
        if (tweak) tweak(cfg);
        sw = std::make_unique<sw::Switch>(cfg, sw::RegistrationsConfig{}, &auth, hasher, rng);
        sw->set_book(make_book());
        route::lcr::CustomerSpec c;
        c.name = "acme";
        c.account = "1001";
        c.ips = {kCustomer};
        if (vendors.empty())
            vendors = {vendor("gw1", kVendor1, "9001", 1), vendor("gw2", kVendor2, "9002", 2)};
        std::string err;
        REQUIRE(sw->set_routing({c}, std::move(vendors), {}, &err));
    }

    void drain() {
        while (auto s = sw->poll_send()) {
            std::string b = *s->bytes;
            auto m = sip::Message::parse(b);
            REQUIRE(m);
            sent.push_back({s->to, std::move(b), std::move(*m)});
        }
        while (auto c = sw->poll_cdr())
            cdrs.push_back(std::move(*c));
        while (sw->poll_log()) {
        }
    }
    void from(const char* host, const std::string& text) {
        sw->on_bytes(text, {sip::Transport::Udp, host, 5060, 0, {}}, now);
        drain();
    }
    void advance(sip::Duration d) {
        const sip::Instant target = now + d;
        while (auto dl = sw->next_deadline()) {
            if (*dl > target) break;
            now = std::max(now, *dl);
            sw->handle_timeouts(now);
            drain();
        }
        now = target;
    }
    // The first message sent to `host` that satisfies `pred`, removed from the list.
    std::optional<Sent> take(const char* host, const std::function<bool(const sip::Message&)>& pred) {
        for (auto it = sent.begin(); it != sent.end(); ++it)
            if (it->to.host == host && pred(it->msg)) {
                Sent s = std::move(*it);
                sent.erase(it);
                return s;
            }
        return std::nullopt;
    }
    std::optional<Sent> request(const char* host, std::string_view method) {
        return take(host, [&](const sip::Message& m) {
            return m.is_request() && m.method_name() == method;
        });
    }
    std::optional<Sent> response(const char* host, int code) {
        return take(host, [&](const sip::Message& m) {
            return m.is_response() && m.status_code() == code;
        });
    }
    int count(const char* host, std::string_view method) const {
        int n = 0;
        for (const auto& s : sent)
            if (s.to.host == host && s.msg.is_request() && s.msg.method_name() == method) ++n;
        return n;
    }
    // A peer's answer to a request we sent it.
    void answer(const char* host, const sip::Message& req, int code, const std::string& tag,
                const char* body = "") {
        sip::ResponseSpec spec;
        spec.status = static_cast<std::uint16_t>(code);
        spec.to_tag = tag;
        const std::string contact = fmt::format("<sip:peer@{}:5060>", host);
        spec.extra = {{"Contact", contact}};
        if (*body) {
            spec.content_type = "application/sdp";
            spec.body = body;
        }
        from(host, sip::build_response(req, spec));
    }
};

const char* kSdp = "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                   "m=audio 4000 RTP/AVP 0\r\n";
const char* kSdpB = "v=0\r\no=b 1 1 IN IP4 10.0.0.21\r\ns=-\r\nc=IN IP4 10.0.0.21\r\nt=0 0\r\n"
                    "m=audio 5000 RTP/AVP 0\r\n";

std::string invite(const char* callee = "442071234567", const char* call_id = "call-a1",
                   const char* body = kSdp) {
    std::string b = body;
    return fmt::format(
        "INVITE sip:{0}@10.0.0.100 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-{1};rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:15551230000@10.0.0.1>;tag=ta\r\n"
        "To: <sip:{0}@10.0.0.100>\r\n"
        "Call-ID: {1}\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:15551230000@10.0.0.1:5060>\r\n"
        "{2}"
        "Content-Length: {3}\r\n\r\n{4}",
        callee, call_id, b.empty() ? "" : "Content-Type: application/sdp\r\n", b.size(), b);
}

// An in-dialog request from the customer, using the To tag our answer carried.
std::string from_customer(const char* method, const sip::Message& ok, int cseq,
                          const char* body = "") {
    std::string b = body;
    return fmt::format(
        "{0} sip:trunkline@10.0.0.100:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-c{1}{0};rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:15551230000@10.0.0.1>;tag=ta\r\n"
        "To: <sip:442071234567@10.0.0.100>;tag={2}\r\n"
        "Call-ID: {3}\r\n"
        "CSeq: {1} {0}\r\n"
        "{4}Content-Length: {5}\r\n\r\n{6}",
        method, cseq, ok.to().tag, ok.call_id(),
        b.empty() ? "" : "Content-Type: application/sdp\r\n", b.size(), b);
}

// An in-dialog request from the vendor on the outbound dialog (its To tag is `tag`).
std::string from_vendor(const char* method, const sip::Message& our_invite, const std::string& tag,
                        int cseq) {
    return fmt::format(
        "{0} sip:trunkline@10.0.0.100:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 10.0.0.21:5060;branch=z9hG4bK-v{1}{0}\r\n"
        "Max-Forwards: 70\r\n"
        "From: {2};tag={3}\r\n"
        "To: {4}\r\n"
        "Call-ID: {5}\r\n"
        "CSeq: {1} {0}\r\n"
        "Content-Length: 0\r\n\r\n",
        method, cseq, our_invite.to().uri.empty() ? "<sip:x@y>" : fmt::format("<{}>", our_invite.to().uri),
        tag, fmt::format("<{}>;tag={}", our_invite.from().uri, our_invite.from().tag),
        our_invite.call_id());
}

// Connects a call through gw1 and returns (the INVITE gw1 got, the 200 the customer got).
std::pair<Sent, Sent> connect(Harness& h) {
    h.from(kCustomer, invite());
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    h.answer(kVendor1, inv->msg, 200, "tb", kSdpB);
    auto ok = h.response(kCustomer, 200);
    REQUIRE(ok);
    h.from(kCustomer, from_customer("ACK", ok->msg, 1));
    return {std::move(*inv), std::move(*ok)};
}

}  // namespace

TEST_CASE("calls: a call is routed by priority, topology hidden, SDP passed, billed", "[calls]") {
    Harness h;
    h.from(kCustomer, invite());
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    CHECK(h.count(kVendor2, "INVITE") == 0);
    const sip::Message& m = inv->msg;
    CHECK(m.request_uri() == "sip:442071234567@10.0.0.21:5060");
    CHECK(m.call_id() != "call-a1");                        // a new dialog
    CHECK(m.from().tag != "ta");
    CHECK(m.body() == kSdp);                                // SDP unchanged
    CHECK(inv->bytes.find("10.0.0.1:5060") == std::string::npos);  // customer address hidden
    h.answer(kVendor1, m, 180, "tb");
    auto ringing = h.response(kCustomer, 180);
    REQUIRE(ringing);
    CHECK_FALSE(ringing->msg.to().tag.empty());
    h.answer(kVendor1, m, 200, "tb", kSdpB);
    auto ok = h.response(kCustomer, 200);
    REQUIRE(ok);
    CHECK(ok->msg.body() == kSdpB);
    CHECK(ok->msg.to().tag == ringing->msg.to().tag);
    CHECK(ok->bytes.find("10.0.0.21") > ok->msg.header_section_size());  // only in the SDP
    auto ack = h.request(kVendor1, "ACK");
    REQUIRE(ack);  // early offer: the vendor's 2xx is ACKed at once
    CHECK(ack->msg.to().tag == "tb");
    h.from(kCustomer, from_customer("ACK", ok->msg, 1));
    h.advance(30s);
    CHECK(h.count(kCustomer, "BYE") == 0);
    CHECK_FALSE(h.response(kCustomer, 200));  // no 2xx retransmission after the ACK
    h.from(kCustomer, from_customer("BYE", ok->msg, 2));
    REQUIRE(h.response(kCustomer, 200));
    auto bye = h.request(kVendor1, "BYE");
    REQUIRE(bye);
    CHECK(bye->msg.call_id() == m.call_id());
    REQUIRE(h.cdrs.size() == 1);
    const billing::Cdr& cdr = h.cdrs[0].cdr;
    CHECK(cdr.call.customer == "1001");
    CHECK(cdr.call.vendor == "9001");
    CHECK(cdr.call.vendor_gateway == "gw1");
    CHECK(cdr.call.sip_code == 200);
    CHECK(cdr.call.hangup == billing::HangupSide::caller);
    CHECK(cdr.call.call_id_in == "call-a1");
    CHECK(cdr.call.call_id_out == std::string(m.call_id()));
    CHECK(cdr.duration_s == 30);
    CHECK(cdr.charge.micros() == 50'000);  // 30 s at 0.10/min
    CHECK(cdr.cost.micros() == 25'000);    // 30 s at 0.05/min
    CHECK(h.cdrs[0].gateways_tried == "gw1:200");
    CHECK(h.sw->calls().active() == 0);
}

TEST_CASE("calls: a caller with no user part goes out as a URI without one", "[calls]") {
    // sip:@host is not a SIP URI (RFC 3261 §25.1: userinfo needs a user); found by the switch
    // fuzzer when the customer's From had no user.
    Harness h;
    std::string in = invite();
    in.replace(in.find("<sip:15551230000@10.0.0.1>;tag=ta"), 33, "<sip:10.0.0.1>;tag=ta");
    h.from(kCustomer, in);
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    CHECK(inv->msg.from().uri == "sip:10.0.0.21");
    CHECK(inv->bytes.find("sip:@") == std::string::npos);
    CHECK(inv->msg.request_uri() == "sip:442071234567@10.0.0.21:5060");
}

TEST_CASE("calls: the cost policy picks the cheapest vendor", "[calls]") {
    Harness h([](sw::SwitchConfig& c) { c.router.policy = route::lcr::Policy::cost; });
    h.from(kCustomer, invite());
    CHECK(h.request(kVendor2, "INVITE"));  // gw2 costs 0.03 against gw1's 0.05
    CHECK(h.count(kVendor1, "INVITE") == 0);
}

TEST_CASE("calls: 503 fails over to the next vendor; the customer sees one answer", "[calls]") {
    Harness h;
    h.from(kCustomer, invite());
    auto inv1 = h.request(kVendor1, "INVITE");
    REQUIRE(inv1);
    h.answer(kVendor1, inv1->msg, 503, "t1");
    CHECK(h.request(kVendor1, "ACK"));  // the layer ACKs the non-2xx
    auto inv2 = h.request(kVendor2, "INVITE");
    REQUIRE(inv2);
    CHECK(inv2->msg.call_id() != inv1->msg.call_id());
    CHECK_FALSE(h.response(kCustomer, 503));
    h.answer(kVendor2, inv2->msg, 200, "t2", kSdpB);
    REQUIRE(h.response(kCustomer, 200));
    CHECK(h.sw->calls().stats().failovers == 1);
}

TEST_CASE("calls: every vendor failing gives the best failure", "[calls]") {
    Harness h;
    h.from(kCustomer, invite());
    auto inv1 = h.request(kVendor1, "INVITE");
    REQUIRE(inv1);
    h.answer(kVendor1, inv1->msg, 503, "t1");
    auto inv2 = h.request(kVendor2, "INVITE");
    REQUIRE(inv2);
    h.answer(kVendor2, inv2->msg, 404, "t2");
    REQUIRE(h.response(kCustomer, 404));  // 4xx beats 5xx (RFC 3261 §16.7)
    REQUIRE(h.cdrs.size() == 1);
    CHECK(h.cdrs[0].cdr.call.sip_code == 404);
    CHECK(h.cdrs[0].gateways_tried == "gw1:503,gw2:404");
    CHECK(h.cdrs[0].cdr.call.gateways_tried == "gw1:503,gw2:404");  // stored with the CDR
    CHECK_FALSE(h.cdrs[0].cdr.call.answer_ms.has_value());
    CHECK(h.cdrs[0].cdr.charge.micros() == 0);
}

TEST_CASE("calls: a 486 is not retried", "[calls]") {
    Harness h;
    h.from(kCustomer, invite());
    auto inv1 = h.request(kVendor1, "INVITE");
    REQUIRE(inv1);
    h.answer(kVendor1, inv1->msg, 486, "t1");
    CHECK(h.response(kCustomer, 486));
    CHECK(h.count(kVendor2, "INVITE") == 0);
}

TEST_CASE("calls: a vendor that never answers is skipped after the INVITE timeout", "[calls]") {
    Harness h;
    h.from(kCustomer, invite());
    REQUIRE(h.request(kVendor1, "INVITE"));
    h.advance(9900ms);
    CHECK(h.count(kVendor2, "INVITE") == 0);
    CHECK(h.count(kVendor1, "INVITE") >= 4);  // Timer A retransmissions until then
    h.advance(200ms);
    CHECK(h.request(kVendor2, "INVITE"));  // SS_SIP_TIMEOUT_INVITE = 10 s
}

TEST_CASE("calls: stop switching after an INVITE timeout when so configured", "[calls]") {
    Harness h([](sw::SwitchConfig& c) { c.calls.failover.stop_after_invite_timeout = true; });
    h.from(kCustomer, invite());
    h.advance(11s);
    CHECK(h.count(kVendor2, "INVITE") == 0);
    CHECK(h.response(kCustomer, 408));
}

TEST_CASE("calls: CANCEL before answer: 487 to the customer, CANCEL to the vendor", "[calls]") {
    Harness h;
    h.from(kCustomer, invite());
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    h.answer(kVendor1, inv->msg, 180, "tb");
    REQUIRE(h.response(kCustomer, 180));
    h.from(kCustomer,
           "CANCEL sip:442071234567@10.0.0.100 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-call-a1;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:15551230000@10.0.0.1>;tag=ta\r\n"
           "To: <sip:442071234567@10.0.0.100>\r\nCall-ID: call-a1\r\nCSeq: 1 CANCEL\r\n"
           "Content-Length: 0\r\n\r\n");
    CHECK(h.response(kCustomer, 200));  // the CANCEL itself
    CHECK(h.response(kCustomer, 487));
    auto cancel = h.request(kVendor1, "CANCEL");
    REQUIRE(cancel);
    CHECK(cancel->msg.top_via().branch == inv->msg.top_via().branch);
    h.answer(kVendor1, inv->msg, 487, "tb");
    CHECK(h.count(kVendor2, "INVITE") == 0);
    REQUIRE(h.cdrs.size() == 1);
    CHECK(h.cdrs[0].cdr.call.sip_code == 487);
    CHECK(h.cdrs[0].cdr.call.hangup == billing::HangupSide::caller);
}

TEST_CASE("calls: CANCEL before any vendor response waits for the first provisional",
          "[calls]") {
    Harness h;
    h.from(kCustomer, invite());
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    h.from(kCustomer,
           "CANCEL sip:442071234567@10.0.0.100 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-call-a1;rport\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:15551230000@10.0.0.1>;tag=ta\r\n"
           "To: <sip:442071234567@10.0.0.100>\r\nCall-ID: call-a1\r\nCSeq: 1 CANCEL\r\n"
           "Content-Length: 0\r\n\r\n");
    CHECK(h.response(kCustomer, 487));
    CHECK(h.count(kVendor1, "CANCEL") == 0);  // RFC 3261 §9.1
    h.answer(kVendor1, inv->msg, 180, "tb");
    CHECK(h.request(kVendor1, "CANCEL"));
    // the vendor answers 200 across the CANCEL: ACK and BYE
    h.answer(kVendor1, inv->msg, 200, "tb", kSdpB);
    CHECK(h.request(kVendor1, "ACK"));
    CHECK(h.request(kVendor1, "BYE"));
    CHECK(h.count(kCustomer, "BYE") == 0);
}

TEST_CASE("calls: BYE from the vendor ends both legs", "[calls]") {
    Harness h;
    auto [inv, ok] = connect(h);
    h.advance(5s);
    h.from(kVendor1, from_vendor("BYE", inv.msg, "tb", 1));
    REQUIRE(h.response(kVendor1, 200));
    auto bye = h.request(kCustomer, "BYE");
    REQUIRE(bye);
    CHECK(bye->msg.call_id() == "call-a1");
    CHECK(bye->msg.from().tag == ok.msg.to().tag);
    CHECK(bye->msg.to().tag == "ta");
    CHECK(bye->msg.request_uri() == "sip:15551230000@10.0.0.1:5060");
    REQUIRE(h.cdrs.size() == 1);
    CHECK(h.cdrs[0].cdr.call.hangup == billing::HangupSide::callee);
    CHECK(h.cdrs[0].cdr.duration_s == 5);
}

TEST_CASE("calls: the 2xx is retransmitted until the ACK, and the call ends without one",
          "[calls]") {
    Harness h;
    h.from(kCustomer, invite());
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    h.answer(kVendor1, inv->msg, 200, "tb", kSdpB);
    REQUIRE(h.response(kCustomer, 200));
    h.advance(1600ms);  // T1, then 2*T1
    CHECK(h.response(kCustomer, 200));
    CHECK(h.response(kCustomer, 200));
    h.advance(32s);
    CHECK(h.request(kCustomer, "BYE"));
    CHECK(h.request(kVendor1, "BYE"));
    REQUIRE(h.cdrs.size() == 1);
    CHECK(h.cdrs[0].cdr.call.hangup == billing::HangupSide::server);
}

TEST_CASE("calls: a late offer is answered in the customer's ACK, relayed to the vendor",
          "[calls]") {
    Harness h;
    h.from(kCustomer, invite("442071234567", "call-late", ""));
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    CHECK(inv->msg.body().empty());
    h.answer(kVendor1, inv->msg, 200, "tb", kSdpB);
    auto ok = h.response(kCustomer, 200);
    REQUIRE(ok);
    CHECK(h.count(kVendor1, "ACK") == 0);  // waits for the customer's answer
    h.from(kCustomer, from_customer("ACK", ok->msg, 1, kSdp));
    auto ack = h.request(kVendor1, "ACK");
    REQUIRE(ack);
    CHECK(ack->msg.body() == kSdp);
}

TEST_CASE("calls: ringing too long ends the call; switch-until-connect tries the next",
          "[calls]") {
    SECTION("default") {
        Harness h;
        h.from(kCustomer, invite());
        auto inv = h.request(kVendor1, "INVITE");
        REQUIRE(inv);
        h.answer(kVendor1, inv->msg, 180, "tb");
        h.advance(119s);
        CHECK(h.count(kVendor1, "CANCEL") == 0);
        h.advance(2s);  // SS_SIP_TIMEOUT_RINGING = 120 s
        CHECK(h.request(kVendor1, "CANCEL"));
        CHECK(h.count(kVendor2, "INVITE") == 0);
        CHECK(h.response(kCustomer, 408));
    }
    SECTION("switch until connect") {
        Harness h([](sw::SwitchConfig& c) { c.calls.failover.switch_until_connect = true; });
        h.from(kCustomer, invite());
        auto inv = h.request(kVendor1, "INVITE");
        REQUIRE(inv);
        h.answer(kVendor1, inv->msg, 180, "tb");
        h.advance(121s);
        CHECK(h.request(kVendor1, "CANCEL"));
        CHECK(h.request(kVendor2, "INVITE"));
    }
}

TEST_CASE("calls: 100 Trying without progress fails over after 20 s", "[calls]") {
    Harness h;
    h.from(kCustomer, invite());
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    h.answer(kVendor1, inv->msg, 100, "");
    h.advance(19s);
    CHECK(h.count(kVendor2, "INVITE") == 0);
    h.advance(2s);  // SS_SIP_TIMEOUT_TRYING
    CHECK(h.request(kVendor2, "INVITE"));
}

TEST_CASE("calls: the maximum call length ends both legs as the server", "[calls]") {
    Harness h([](sw::SwitchConfig& c) { c.calls.timers.max_call = 60s; });
    connect(h);
    h.advance(59s);
    CHECK(h.count(kCustomer, "BYE") == 0);
    h.advance(2s);
    CHECK(h.request(kCustomer, "BYE"));
    CHECK(h.request(kVendor1, "BYE"));
    REQUIRE(h.cdrs.size() == 1);
    CHECK(h.cdrs[0].cdr.call.hangup == billing::HangupSide::server);
    CHECK(h.cdrs[0].cdr.duration_s == 60);
}

TEST_CASE("calls: a re-INVITE is relayed with its answer", "[calls]") {
    Harness h;
    auto [inv, ok] = connect(h);
    h.from(kCustomer, from_customer("INVITE", ok.msg, 2, kSdp));
    auto re = h.request(kVendor1, "INVITE");
    REQUIRE(re);
    CHECK(re->msg.to().tag == "tb");
    CHECK(re->msg.call_id() == inv.msg.call_id());
    CHECK(re->msg.cseq().number == 2);
    h.answer(kVendor1, re->msg, 200, "tb", kSdpB);
    CHECK(h.request(kVendor1, "ACK"));
    auto ok2 = h.response(kCustomer, 200);
    REQUIRE(ok2);
    CHECK(ok2->msg.body() == kSdpB);
    CHECK(ok2->msg.cseq().number == 2);
}

TEST_CASE("calls: an unknown source gets 403 and an illegal-call record", "[calls]") {
    Harness h;
    h.from("10.9.9.9", invite());
    CHECK(h.response("10.9.9.9", 403));
    CHECK(h.sent.empty());
    REQUIRE(h.cdrs.size() == 1);
    CHECK(h.cdrs[0].illegal);
    CHECK(h.cdrs[0].cdr.call.customer.empty());

    Harness quiet([](sw::SwitchConfig& c) {
        c.calls.reply_unauthorized = false;
        c.calls.record_illegal_calls = false;
    });
    quiet.from("10.9.9.9", invite());
    CHECK(quiet.sent.empty());
    CHECK(quiet.cdrs.empty());
}

TEST_CASE("calls: no customer rate, no route", "[calls]") {
    Harness h;
    h.from(kCustomer, invite("33123456789"));
    auto r = h.response(kCustomer, 403);
    REQUIRE(r);
    CHECK(r->msg.reason() == "No Customer Rate");
    REQUIRE(h.cdrs.size() == 1);
    CHECK(h.cdrs[0].cdr.call.sip_code == 403);
}

TEST_CASE("calls: the profit guard and the check-rate guard skip vendors", "[calls]") {
    auto gw1 = vendor("gw1", kVendor1, "9001", 1);
    gw1.spec.lowest_profit_per_s = 1000;  // 0.001/s = 0.06/min > 0.10 - 0.05
    auto gw2 = vendor("gw2", kVendor2, "9002", 2);
    auto gw3 = vendor("gw3", kVendor3, "9099", 0);  // vendor account without rates
    gw3.spec.check_rate = true;
    Harness h({}, {gw1, gw2, gw3});
    h.from(kCustomer, invite());
    CHECK(h.request(kVendor2, "INVITE"));
    CHECK(h.count(kVendor1, "INVITE") == 0);
    CHECK(h.count(kVendor3, "INVITE") == 0);
}

TEST_CASE("calls: a protect gateway is used only when the others failed", "[calls]") {
    auto gw3 = vendor("gw3", kVendor3, "9003", 0);
    gw3.spec.protect = true;
    Harness h({}, {vendor("gw1", kVendor1, "9001", 1), gw3});
    h.from(kCustomer, invite());
    auto inv1 = h.request(kVendor1, "INVITE");
    REQUIRE(inv1);
    CHECK(h.count(kVendor3, "INVITE") == 0);
    h.answer(kVendor1, inv1->msg, 503, "t1");
    CHECK(h.request(kVendor3, "INVITE"));
}

TEST_CASE("calls: line limit of a vendor holds; the next call goes elsewhere", "[calls]") {
    auto gw1 = vendor("gw1", kVendor1, "9001", 1);
    gw1.spec.line_limit = 1;
    Harness h({}, {gw1, vendor("gw2", kVendor2, "9002", 2)});
    h.from(kCustomer, invite("442071234567", "c1"));
    CHECK(h.request(kVendor1, "INVITE"));
    h.from(kCustomer, invite("442071234567", "c2"));
    CHECK(h.request(kVendor2, "INVITE"));
    CHECK(h.sw->calls().active() == 2);
}

TEST_CASE("calls: operator hangup ends a connected call as the server", "[calls]") {
    Harness h;
    connect(h);
    auto list = h.sw->calls().list();
    REQUIRE(list.size() == 1);
    CHECK(list[0].state == "connected");
    CHECK(list[0].vendor_gateway == "gw1");
    CHECK(h.sw->calls().hangup(list[0].id, h.now));
    h.drain();
    CHECK(h.request(kCustomer, "BYE"));
    CHECK(h.request(kVendor1, "BYE"));
    REQUIRE(h.cdrs.size() == 1);
    CHECK(h.cdrs[0].cdr.call.hangup == billing::HangupSide::server);
    CHECK_FALSE(h.sw->calls().hangup(list[0].id, h.now));
}

TEST_CASE("calls: an in-dialog request for no dialog gets 481", "[calls]") {
    Harness h;
    auto [inv, ok] = connect(h);
    h.from(kCustomer, from_customer("BYE", ok.msg, 2));
    REQUIRE(h.response(kCustomer, 200));
    h.from(kCustomer, from_customer("BYE", ok.msg, 3));
    CHECK(h.response(kCustomer, 481));
}

namespace {

// The standard book with the customer's balance set to `balance` (and no credit limit).
billing::Book book_with_balance(const char* balance) {
    billing::Book b;
    (void)b.group("retail").add(rate("44", "0.100000"));
    (void)b.group("v1").add(rate("44", "0.050000"));
    (void)b.group("v2").add(rate("44", "0.030000"));
    billing::Account c;
    c.id = "1001";
    c.kind = billing::AccountKind::customer;
    c.balance = money(balance);
    c.rate_group = "retail";
    (void)b.add_account(c);
    for (auto [id, g] : {std::pair{"9001", "v1"}, {"9002", "v2"}}) {
        billing::Account v;
        v.id = id;
        v.kind = billing::AccountKind::vendor;
        v.rate_group = g;
        (void)b.add_account(v);
    }
    return b;
}

}  // namespace

TEST_CASE("calls: prepaid: no balance, no call", "[calls][prepaid]") {
    Harness h;
    h.sw->set_book(book_with_balance("0"));
    h.from(kCustomer, invite());
    auto r = h.response(kCustomer, 402);
    REQUIRE(r);
    CHECK(r->msg.reason() == "Insufficient Balance");
    CHECK(h.count(kVendor1, "INVITE") == 0);
}

TEST_CASE("calls: prepaid: a call is cut when its balance is spent", "[calls][prepaid]") {
    Harness h;
    h.sw->set_book(book_with_balance("0.10"));  // 60 s at 0.10/min
    connect(h);
    h.advance(59s);
    CHECK(h.count(kCustomer, "BYE") == 0);
    // the loop wakes 3 ms after the cut-off: the call is still billed 60 s, not 61
    h.now += 1003ms;
    h.sw->handle_timeouts(h.now);
    h.drain();
    CHECK(h.request(kCustomer, "BYE"));
    CHECK(h.request(kVendor1, "BYE"));
    REQUIRE(h.cdrs.size() == 1);
    const auto& cdr = h.cdrs[0].cdr;
    CHECK(cdr.call.hangup == billing::HangupSide::server);
    CHECK(cdr.duration_s == 60);
    CHECK(cdr.charge.micros() == 100'000);
    CHECK(h.sw->book().account("1001")->balance.micros() == 0);  // debited at once
    // the account is empty now: the next call is refused
    h.from(kCustomer, invite("442071234567", "call-a2"));
    CHECK(h.response(kCustomer, 402));
}

TEST_CASE("calls: prepaid: two concurrent calls of one account never overdraw it together",
          "[calls][prepaid]") {
    Harness h([](sw::SwitchConfig& c) { c.calls.credit_quota = 10s; });
    h.sw->set_book(book_with_balance("0.10"));  // 60 s at 0.10/min for both calls together
    h.from(kCustomer, invite("442071234567", "c1"));
    h.from(kCustomer, invite("442071234567", "c2"));
    std::vector<Sent> invs;
    while (auto i = h.request(kVendor1, "INVITE"))
        invs.push_back(std::move(*i));
    REQUIRE(invs.size() == 2);
    h.answer(kVendor1, invs[0].msg, 200, "t1", kSdpB);
    h.answer(kVendor1, invs[1].msg, 200, "t2", kSdpB);
    for (int i = 0; i < 2; ++i) {
        auto ok = h.response(kCustomer, 200);
        REQUIRE(ok);
        h.from(kCustomer, from_customer("ACK", ok->msg, 1));
    }
    CHECK(h.sw->calls().reserved("1001").micros() > 0);
    h.advance(120s);
    REQUIRE(h.cdrs.size() == 2);
    std::int64_t charged = 0, seconds = 0;
    for (const auto& c : h.cdrs) {
        CHECK(c.cdr.call.hangup == billing::HangupSide::server);
        charged += c.cdr.charge.micros();
        seconds += c.cdr.duration_s;
    }
    CHECK(charged <= 100'000);
    CHECK(seconds == 60);
    CHECK(h.sw->book().account("1001")->balance.micros() >= 0);
    CHECK(h.sw->calls().reserved("1001").micros() == 0);
}

namespace {

// Connects through gw1 with the vendor's 2xx carrying `session_expires`.
std::pair<Sent, Sent> connect_with_timer(Harness& h, const std::string& session_expires,
                                         const std::string& customer_invite = invite()) {
    h.from(kCustomer, customer_invite);
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    sip::ResponseSpec spec;
    spec.status = 200;
    spec.to_tag = "tb";
    spec.extra = {{"Contact", "<sip:peer@10.0.0.21:5060>"},
                  {"Session-Expires", session_expires},
                  {"Require", "timer"}};
    spec.content_type = "application/sdp";
    spec.body = kSdpB;
    h.from(kVendor1, sip::build_response(inv->msg, spec));
    auto ok = h.response(kCustomer, 200);
    REQUIRE(ok);
    h.from(kCustomer, from_customer("ACK", ok->msg, 1));
    return {std::move(*inv), std::move(*ok)};
}

}  // namespace

TEST_CASE("calls: session timers: our INVITE offers them", "[calls][timer]") {
    Harness h;
    h.from(kCustomer, invite());
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    const auto* se = inv->msg.find(sip::HeaderId::SessionExpires);
    REQUIRE(se);
    CHECK(inv->msg.value(*se) == "600");  // SS_SIP_SESSION_TTL
    REQUIRE(inv->msg.find(sip::HeaderId::Supported));
    CHECK(inv->msg.value(*inv->msg.find(sip::HeaderId::Supported)) == "timer");
}

TEST_CASE("calls: session timers: we refresh the vendor at half the interval", "[calls][timer]") {
    Harness h;
    connect_with_timer(h, "120;refresher=uac");
    h.advance(59s);
    CHECK(h.count(kVendor1, "UPDATE") == 0);
    h.advance(2s);
    auto up = h.request(kVendor1, "UPDATE");
    REQUIRE(up);
    CHECK(up->msg.to().tag == "tb");
    REQUIRE(up->msg.find(sip::HeaderId::SessionExpires));
    CHECK(up->msg.value(*up->msg.find(sip::HeaderId::SessionExpires)) == "120;refresher=uac");
    h.answer(kVendor1, up->msg, 200, "tb");
    h.advance(60s);
    CHECK(h.request(kVendor1, "UPDATE"));  // and again
    CHECK(h.count(kCustomer, "BYE") == 0);
    CHECK(h.sw->calls().stats().refreshes_sent == 2);
}

TEST_CASE("calls: session timers: a refresh answered 481 ends the call", "[calls][timer]") {
    Harness h;
    connect_with_timer(h, "120;refresher=uac");
    h.advance(61s);
    auto up = h.request(kVendor1, "UPDATE");
    REQUIRE(up);
    h.answer(kVendor1, up->msg, 481, "tb");
    CHECK(h.request(kCustomer, "BYE"));
    CHECK(h.request(kVendor1, "BYE"));
    REQUIRE(h.cdrs.size() == 1);
    CHECK(h.cdrs[0].cdr.call.hangup == billing::HangupSide::server);
}

TEST_CASE("calls: session timers: a vendor that must refresh and does not is hung up",
          "[calls][timer]") {
    Harness h;
    auto [inv, ok] = connect_with_timer(h, "120;refresher=uas");
    h.advance(50s);
    // the vendor refreshes once, with a body-less UPDATE: answered here, not relayed
    h.from(kVendor1, from_vendor("UPDATE", inv.msg, "tb", 1));
    auto r = h.response(kVendor1, 200);
    REQUIRE(r);
    REQUIRE(r->msg.find(sip::HeaderId::SessionExpires));
    CHECK(h.count(kCustomer, "UPDATE") == 0);
    h.advance(87s);  // 50 + 88 = 138 s: the guard (120 - 32) counted from the refresh
    CHECK(h.count(kCustomer, "BYE") == 0);
    h.advance(2s);
    CHECK(h.request(kCustomer, "BYE"));
    CHECK(h.request(kVendor1, "BYE"));
    CHECK(h.sw->calls().stats().session_expired == 1);
}

TEST_CASE("calls: session timers: the customer's choice is kept in our 2xx", "[calls][timer]") {
    std::string inv = invite();
    const auto pos = inv.find("Contact:");
    inv.insert(pos, "Supported: timer\r\nSession-Expires: 300\r\n");
    Harness h;
    auto [vinv, ok] = connect_with_timer(h, "3600;refresher=uas", inv);
    const auto* se = ok.msg.find(sip::HeaderId::SessionExpires);
    REQUIRE(se);
    CHECK(ok.msg.value(*se) == "300;refresher=uac");  // the customer refreshes
    REQUIRE(ok.msg.find(sip::HeaderId::Require));
    h.advance(300s - 32s - 1s);
    CHECK(h.count(kCustomer, "BYE") == 0);
    h.from(kCustomer, from_customer("UPDATE", ok.msg, 2));
    CHECK(h.response(kCustomer, 200));
    h.advance(200s);
    CHECK(h.count(kCustomer, "BYE") == 0);
}

TEST_CASE("calls: the customer's proceeding timeout ends a call that never connects",
          "[calls]") {
    Harness h;
    route::lcr::CustomerSpec c;
    c.name = "acme";
    c.account = "1001";
    c.ips = {kCustomer};
    c.proceeding_timeout_s = 30;
    std::string err;
    REQUIRE(h.sw->set_routing({c}, {vendor("gw1", kVendor1, "9001", 1)}, {}, &err));
    h.from(kCustomer, invite());
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    h.answer(kVendor1, inv->msg, 180, "tb");
    h.advance(29s);
    CHECK_FALSE(h.response(kCustomer, 408));
    h.advance(2s);
    auto r = h.response(kCustomer, 408);
    REQUIRE(r);
    CHECK(r->msg.reason() == "Proceeding Timeout");
    CHECK(h.request(kVendor1, "CANCEL"));
    REQUIRE(h.cdrs.size() == 1);
    CHECK(h.cdrs[0].cdr.call.sip_code == 408);
}

TEST_CASE("calls: a vendor's outbound proxy receives the call for the gateway", "[calls]") {
    auto gw = vendor("gw1", kVendor1, "9001", 1);
    gw.sip.proxy = sip::Target{sip::Transport::Udp, "10.0.0.50", 5060, 0, {}};
    Harness h({}, {gw});
    h.from(kCustomer, invite());
    auto inv = h.request("10.0.0.50", "INVITE");
    REQUIRE(inv);
    CHECK(inv->msg.request_uri() == "sip:442071234567@10.0.0.21:5060");
    CHECK(h.count(kVendor1, "INVITE") == 0);
}

TEST_CASE("calls: a vendor that stops answering OPTIONS is skipped until it answers again",
          "[calls][health]") {
    Harness h([](sw::SwitchConfig& c) {
        c.probes.period = 30s;
        c.router.health.probe_failures = 1;
    });
    // time in 100 ms steps until `host` gets an OPTIONS (the first ones are spread over
    // one period); gw2's probes are always answered
    auto next_probe = [&](const char* host) {
        for (int i = 0; i < 700; ++i) {
            h.advance(100ms);
            while (auto p2 = h.request(kVendor2, "OPTIONS"))
                h.answer(kVendor2, p2->msg, 200, "p2");
            if (auto p = h.request(host, "OPTIONS")) return p;
        }
        return std::optional<Sent>();
    };
    auto first = next_probe(kVendor1);
    REQUIRE(first);
    auto id = h.sw->router().find("gw1");
    REQUIRE(id);
    for (int i = 0; i < 330 && !h.sw->router().state(*id).down; ++i) {  // Timer F: 32 s
        h.advance(100ms);
        while (auto p2 = h.request(kVendor2, "OPTIONS"))
            h.answer(kVendor2, p2->msg, 200, "p2");
    }
    CHECK(h.sw->router().state(*id).down);
    CHECK(h.sw->router().state(*id).down_reason == "1 probes unanswered");
    h.from(kCustomer, invite());
    CHECK(h.request(kVendor2, "INVITE"));
    CHECK(h.count(kVendor1, "INVITE") == 0);
    // the next probe is answered: up again within one period
    h.sent.clear();  // the first probe's retransmissions
    auto again = next_probe(kVendor1);
    REQUIRE(again);
    h.answer(kVendor1, again->msg, 200, "p");
    CHECK_FALSE(h.sw->router().state(*id).down);
    h.from(kCustomer, invite("442071234567", "call-a2"));
    CHECK(h.request(kVendor1, "INVITE"));
}

TEST_CASE("calls: the generation moves with what list() shows, not with timers", "[calls]") {
    Harness h;
    const auto g0 = h.sw->calls().generation();
    connect(h);
    const auto g1 = h.sw->calls().generation();
    CHECK(g1 > g0);
    h.advance(100s);  // prepaid quotas and retransmission timers, nothing list() shows
    CHECK(h.sw->calls().generation() == g1);
    h.sw->calls().hangup(h.sw->calls().list().at(0).id, h.now);
    CHECK(h.sw->calls().generation() > g1);
}

namespace {
// The only customer is "dyn", a dynamic gateway proving itself as alice / wonderland.
void use_digest_customer(Harness& h) {
    auto ha1 = sip::auth::ha1(h.hasher, sip::auth::Algorithm::MD5, "alice", "trunkline",
                              "wonderland");
    REQUIRE(ha1);
    h.auth.set_users({{"alice", {{sip::auth::Algorithm::MD5, *ha1}}}});
    route::lcr::CustomerSpec dyn;
    dyn.name = "dyn";
    dyn.account = "1001";
    dyn.auth = route::lcr::AuthMode::digest;
    dyn.sip_user = "alice";
    std::string err;
    REQUIRE(h.sw->set_routing({dyn}, {vendor("gw1", kVendor1, "9001", 1)}, {}, &err));
}
}  // namespace

TEST_CASE("calls: a digest customer (dynamic gateway) is challenged and then routed",
          "[calls][digest]") {
    Harness h;
    use_digest_customer(h);

    const char* phone = "10.0.0.77";  // any address: the credentials say who it is
    h.from(phone, invite("442071234567", "call-d1"));
    auto chal = h.response(phone, 407);
    REQUIRE(chal);
    CHECK(h.count(kVendor1, "INVITE") == 0);
    CHECK(h.cdrs.empty());  // a challenge is no call
    std::vector<sip::Challenge> offered;
    for (const sip::HeaderField& f : chal->msg.headers())
        if (f.id == sip::HeaderId::ProxyAuthenticate)
            if (auto c = sip::parse_challenge(chal->msg.value(f))) offered.push_back(*c);
    REQUIRE_FALSE(offered.empty());

    auto with_credentials = [&](const char* password, const char* call_id) {
        sip::auth::DigestClient client(h.hasher, h.rng, {"alice", password});
        auto pa = client.answer(offered, "INVITE", "sip:442071234567@10.0.0.100");
        REQUIRE(pa);
        std::string inv = invite("442071234567", call_id);
        inv.insert(inv.find("Contact:"), "Proxy-Authorization: " + *pa + "\r\n");
        return inv;
    };
    h.from(phone, with_credentials("wonderland", "call-d2"));
    CHECK(h.request(kVendor1, "INVITE"));
    h.from(phone, with_credentials("guess", "call-d3"));
    CHECK(h.response(phone, 403));
}

TEST_CASE("calls: wrong passwords in a digest customer's INVITEs suspend like REGISTER's",
          "[calls][digest][security]") {
    // Issue 16: the registrar's retry/suspend rules did not see INVITE credentials, so a
    // guesser refused at REGISTER could go on guessing with INVITEs, one 403 per guess.
    Harness h;
    use_digest_customer(h);
    int n = 0;
    std::optional<Sent> chal;  // the challenges point into its message
    auto offer = [&](const char* from) {  // a fresh challenge, or nothing when refused
        h.sent.clear();
        const std::string id = "chal-" + std::to_string(++n);
        h.from(from, invite("442071234567", id.c_str()));
        std::vector<sip::Challenge> offered;
        chal = h.response(from, 407);
        if (chal)
            for (const sip::HeaderField& f : chal->msg.headers())
                if (f.id == sip::HeaderId::ProxyAuthenticate)
                    if (auto c = sip::parse_challenge(chal->msg.value(f))) offered.push_back(*c);
        return offered;
    };
    auto attempt = [&](const char* from, const char* password) {
        auto offered = offer(from);
        REQUIRE_FALSE(offered.empty());
        sip::auth::DigestClient client(h.hasher, h.rng, {"alice", password});
        auto pa = client.answer(offered, "INVITE", "sip:442071234567@10.0.0.100");
        REQUIRE(pa);
        const std::string id = "try-" + std::to_string(++n);
        std::string inv = invite("442071234567", id.c_str());
        inv.insert(inv.find("Contact:"), "Proxy-Authorization: " + *pa + "\r\n");
        h.sent.clear();
        h.from(from, inv);
    };
    const char* guesser = "10.0.0.66";
    for (int i = 0; i < 6; ++i) {  // register_retry 6 (the default)
        attempt(guesser, "guess");
        CHECK(h.response(guesser, 403));
    }
    auto held = h.sw->registrations().registrar().list_suspensions(h.now);
    CHECK(held.size() == 2);  // alice at the guesser's address, and the address
    bool saved = false;
    while (auto op = h.sw->poll_store())
        saved |= std::holds_alternative<sw::SuspensionSaved>(*op);
    CHECK(saved);  // persisted like a REGISTER's
    CHECK(offer(guesser).empty());  // no challenge any more: 403
    CHECK(h.response(guesser, 403));
    // the real gateway elsewhere is not locked out
    attempt("10.0.0.77", "wonderland");
    CHECK(h.request(kVendor1, "INVITE"));
}

TEST_CASE("calls: every answer to a bare ;rport names the source port and address (RFC 3581)",
          "[calls][rport]") {
    Harness h;
    h.from(kCustomer, invite());  // Via: 10.0.0.1:5060;...;rport from 10.0.0.1:5060
    h.advance(300ms);  // the transaction layer's 100 Trying (RFC 3261 §17.2.1: after 200 ms)
    auto trying = h.response(kCustomer, 100);
    REQUIRE(trying);
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    h.answer(kVendor1, inv->msg, 180, "tb");
    auto ringing = h.response(kCustomer, 180);
    REQUIRE(ringing);
    h.answer(kVendor1, inv->msg, 486, "tb");
    auto busy = h.response(kCustomer, 486);
    REQUIRE(busy);
    for (const Sent* s : {&*trying, &*ringing, &*busy}) {
        INFO(s->bytes);
        CHECK(s->msg.top_via().rport == std::optional<std::uint16_t>(5060));
        CHECK(s->msg.top_via().received == "10.0.0.1");
        CHECK(s->bytes.find(";rport=5060;received=10.0.0.1\r\n") != std::string::npos);
    }
    // a 403 to an unknown source, from its own address
    h.from("10.9.9.9", invite("442071234567", "call-x9"));
    auto denied = h.response("10.9.9.9", 403);
    REQUIRE(denied);
    CHECK(denied->msg.top_via().rport == std::optional<std::uint16_t>(5060));
    CHECK(denied->msg.top_via().received == "10.9.9.9");
}

TEST_CASE("calls: the billing settings reloaded into the switch rate the next call",
          "[calls][billing]") {
    Harness h;
    billing::RatingConfig rating;
    REQUIRE(billing::apply_setting(rating, "billing.free_time_s", "30"));
    h.sw->set_rating(rating);
    auto [inv, ok] = connect(h);
    h.advance(30s);
    h.from(kCustomer, from_customer("BYE", ok.msg, 2));
    REQUIRE(h.cdrs.size() == 1);
    CHECK(h.cdrs[0].cdr.duration_s == 30);
    CHECK(h.cdrs[0].cdr.charge.micros() == 0);  // 30 s: within the free time
    CHECK(h.cdrs[0].cdr.cost.micros() == 0);
}

namespace {

// A call of `talk` through gw1 with its own Call-ID, ended by the customer's BYE.
void call_for(Harness& h, const char* call_id, std::chrono::seconds talk) {
    h.from(kCustomer, invite("442071234567", call_id));
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    h.answer(kVendor1, inv->msg, 200, std::string("tb-") + call_id, kSdpB);
    auto ok = h.response(kCustomer, 200);
    REQUIRE(ok);
    h.from(kCustomer, from_customer("ACK", ok->msg, 1));
    h.advance(talk);
    // a CSeq of its own: the Via branch (from_customer) must differ from an earlier BYE's,
    // whose server transaction still absorbs retransmissions
    h.from(kCustomer, from_customer("BYE", ok->msg, 2 + static_cast<int>(h.cdrs.size())));
    h.sent.clear();
}

billing::VolumePricing pricing(std::vector<billing::VolumeTier> tiers, std::vector<billing::Package> packages) {
    billing::VolumeTiers t;
    for (auto& x : tiers) REQUIRE(t.add(std::move(x)));
    billing::Packages p;
    for (auto& x : packages) REQUIRE(p.add(std::move(x)));
    return billing::VolumePricing(std::move(t), std::move(p));
}

}  // namespace

TEST_CASE("calls: volume tiers price the switch's calls in order and move the book by the tier price",
          "[calls][billing][tiers]") {
    Harness h;
    h.sw->set_book(book_with_balance("10"));
    // 0.10/min by the rate; 0.05 from minute 0, 0.02 from minute 1 by the tiers
    h.sw->set_volume_pricing(pricing({{"1001", "44", 0, money("0.05")}, {"1001", "44", 1, money("0.02")}}, {}));
    call_for(h, "call-t1", 60s);
    call_for(h, "call-t2", 30s);
    REQUIRE(h.cdrs.size() == 2);
    const auto& a = h.cdrs[0].cdr;
    const auto& b = h.cdrs[1].cdr;
    CHECK(a.charge == money("0.05"));
    CHECK((a.tier_prefix == "44" && a.volume_before_s == 0 && a.tier_month.size() == 7));
    CHECK(b.charge == money("0.01"));  // 30 s at the second tier
    CHECK(b.volume_before_s == 60);
    CHECK(h.sw->book().account("1001")->balance == money("9.94"));
    // A reload before the CDRs are committed: their volume is counted again on the new
    // counters, so the next call is still at the second tier.
    h.sw->set_volume_pricing(pricing({{"1001", "44", 0, money("0.05")}, {"1001", "44", 1, money("0.02")}}, {}));
    call_for(h, "call-t3", 60s);
    REQUIRE(h.cdrs.size() == 3);
    CHECK(h.cdrs[2].cdr.volume_before_s == 90);
    CHECK(h.cdrs[2].cdr.charge == money("0.02"));
}

TEST_CASE("calls: a package lets a customer without balance call for its seconds, then cuts the call",
          "[calls][billing][packages][prepaid]") {
    Harness h;
    h.sw->set_book(book_with_balance("0"));
    h.sw->set_volume_pricing(pricing({}, {{"1001", "uk", {"44"}, 90, money("0"), billing::kTimeMin, billing::kTimeMax}}));
    auto [inv, ok] = connect(h);
    h.advance(89s);
    CHECK(h.count(kCustomer, "BYE") == 0);
    h.advance(2s);  // past the package's 90 s: nothing left to pay with
    CHECK(h.request(kCustomer, "BYE"));
    REQUIRE(h.cdrs.size() == 1);
    const auto& cdr = h.cdrs[0].cdr;
    CHECK(cdr.duration_s == 90);
    CHECK(cdr.package_name == "uk");
    CHECK(cdr.package_s == 90);
    CHECK(cdr.charge.micros() == 0);
    CHECK(h.sw->book().account("1001")->balance.micros() == 0);
    // used up: the next call is refused for want of balance
    h.from(kCustomer, invite("442071234567", "call-p2"));
    CHECK(h.response(kCustomer, 402));
}

TEST_CASE("calls: draining refuses new INVITEs with 503 + Retry-After; a running call goes on",
          "[calls][drain]") {
    Harness h;
    h.from(kCustomer, invite());
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    h.answer(kVendor1, inv->msg, 200, "tb", kSdpB);
    auto ok = h.response(kCustomer, 200);
    REQUIRE(ok);
    h.from(kCustomer, from_customer("ACK", ok->msg, 1));
    REQUIRE(h.sw->calls().active() == 1);

    h.sw->calls().drain(std::chrono::seconds(45));
    CHECK(h.sw->calls().draining());
    h.from(kCustomer, invite("442071234567", "call-a2"));
    auto refused = h.response(kCustomer, 503);
    REQUIRE(refused);
    const sip::HeaderField* ra = refused->msg.find(sip::HeaderId::RetryAfter);
    REQUIRE(ra);
    CHECK(refused->msg.value(*ra) == "45");
    CHECK_FALSE(h.request(kVendor1, "INVITE"));  // the new call reached no vendor
    CHECK_FALSE(h.request(kVendor2, "INVITE"));
    CHECK(h.sw->calls().active() == 1);       // the running call is still there

    h.from(kCustomer, from_customer("BYE", ok->msg, 2));
    REQUIRE(h.response(kCustomer, 200));
    CHECK(h.sw->calls().active() == 0);
    REQUIRE(h.cdrs.size() == 1);  // the answered call's only: the refused INVITE has none
}

TEST_CASE("calls: metrics count PDD, talk time and SIP messages by method and class", "[calls][metrics]") {
    Harness h;
    h.from(kCustomer, invite());
    auto inv = h.request(kVendor1, "INVITE");
    REQUIRE(inv);
    h.advance(2s);
    h.answer(kVendor1, inv->msg, 180, "tb");  // post-dial delay: 2 s
    h.advance(1s);
    h.answer(kVendor1, inv->msg, 200, "tb", kSdpB);
    auto ok = h.response(kCustomer, 200);
    REQUIRE(ok);
    h.from(kCustomer, from_customer("ACK", ok->msg, 1));
    h.advance(30s);
    h.from(kCustomer, from_customer("BYE", ok->msg, 2));
    REQUIRE(h.cdrs.size() == 1);

    const sw::CallMetrics& m = h.sw->calls().metrics();
    const sw::GatewayCallCounters* v = m.vendor("gw1");
    REQUIRE(v);
    CHECK(v->calls == 1);
    CHECK(v->answered == 1);
    CHECK(v->failed == 0);
    CHECK(v->talk_ms == 30'000);
    CHECK(v->pdd_count == 1);
    CHECK(v->pdd_ms == 2'000);
    const sw::GatewayCallCounters* c = m.customer("acme");
    REQUIRE(c);
    CHECK(c->answered == 1);
    CHECK(c->talk_ms == 30'000);
    CHECK(m.vendor("gw2") == nullptr);  // never used
    CHECK(m.pdd().count() == 1);
    CHECK(m.pdd().sum_us() == 2'000'000);
    // cumulative buckets: 0.5 and 1 s hold nothing, 2 s and above hold the call
    CHECK(m.pdd().cumulative()[0] == 0);
    CHECK(m.pdd().cumulative()[1] == 0);
    CHECK(m.pdd().cumulative()[2] == 1);
    CHECK(m.pdd().cumulative().back() == 1);

    const sw::ElementStats& e = h.sw->element().stats();
    auto in = [&](sip::Method x) { return e.received.requests[static_cast<std::size_t>(x)]; };
    auto out = [&](sip::Method x) { return e.sent.requests[static_cast<std::size_t>(x)]; };
    CHECK(in(sip::Method::Invite) == 1);
    CHECK(in(sip::Method::Ack) == 1);
    CHECK(in(sip::Method::Bye) == 1);
    CHECK(out(sip::Method::Invite) == 3);  // sent, and retransmitted at 0.5 s and 1.5 s (Timer A)
    CHECK(out(sip::Method::Ack) == 1);
    CHECK(out(sip::Method::Bye) == 1);
    CHECK(e.received.responses[1] == 1);  // the vendor's 180
    CHECK(e.received.responses[2] == 1);  // its 200
    CHECK(e.sent.responses[2] == 2);      // our 200 to the INVITE and to the BYE
    CHECK(e.sent.responses[1] >= 1);      // the 180 relayed (and 100 Trying)
}

TEST_CASE("calls: a call that fails counts as failed, with no talk time", "[calls][metrics]") {
    Harness h;
    h.from(kCustomer, invite());
    auto inv1 = h.request(kVendor1, "INVITE");
    REQUIRE(inv1);
    h.answer(kVendor1, inv1->msg, 486, "t1");
    REQUIRE(h.cdrs.size() == 1);
    const sw::CallMetrics& m = h.sw->calls().metrics();
    REQUIRE(m.customer("acme"));
    CHECK(m.customer("acme")->failed == 1);
    CHECK(m.customer("acme")->answered == 0);
    CHECK(m.customer("acme")->talk_ms == 0);
    CHECK(m.pdd().count() == 0);  // it never rang
}

// Drives sw::Switch — the whole softswitch core: element, B2BUA calls, LCR, customers, prepaid
// credit, probes — with messages, configuration and time from the fuzzer's bytes (DESIGN.md
// §10.5, after ngtcp2's read_write_pkt), in a small fixed world: one customer (10.0.0.1,
// account 1001, a modest balance so prepaid cut-offs happen), three vendor gateways with
// fuzz-chosen limits and guards, short timers.
//
// Input: 5 configuration bytes (the rng seed, then see make_switch), then steps of one op byte
// and its arguments (see LLVMFuzzerTestOneInput): the customer's new INVITE, a peer's answer to a
// request trunkline sent it, the customer's in-dialog request (ACK, BYE, CANCEL, re-INVITE,
// UPDATE, INFO, a retransmission), the vendor's in-dialog request, raw or mutated bytes from
// either side, time passing (every deadline in between runs), operator hangup, and a few
// rarer ones (transport error, CDR commit, book reload). Every other UDP datagram goes through
// sw::Front (a UDP reader thread's parse and OPTIONS answer) and Switch::on_received. Checked
// after every step:
// - everything trunkline sends parses (sip::Message::parse);
// - every CDR's sip_code is a final status (200..699);
// - CDRs plus active calls never exceed the INVITEs delivered;
// - each customer Call-ID gets at most one CDR (a Call-ID reused by raw or late-retransmitted
//   bytes may get one per delivery), and the customer's INVITE gets one final status only;
// - the credit the account's calls hold is >= 0, and 0 when no call is active;
// - the balance never goes below -credit_limit (prepaid);
// - next_deadline() is never at or before now once handle_timeouts(now) ran.
// At the end time runs on (peers silent) until every call ended (at most 3 h): then no call
// is active, nothing is reserved, and each INVITE of the customer got a final status and
// exactly one CDR.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fuzz_support.hpp"
#include "sip/auth/hasher.hpp"
#include "sip/builder.hpp"
#include "sip/message.hpp"
#include "sw/front.hpp"
#include "sw/switch.hpp"

namespace {

using namespace std::chrono_literals;
using fuzz::Reader;

constexpr const char* kCustomer = "10.0.0.1";
constexpr const char* kStranger = "10.9.9.9";
constexpr const char* kVendorHosts[] = {"10.0.0.21", "10.0.0.22", "10.0.0.23"};
const sip::Instant kT0 = sip::Instant{} + 1000s;

// Registrations are not configured (no digest users): nothing hashes.
class NullHasher final : public sip::auth::Hasher {
public:
    bool supports(sip::auth::Hash) const noexcept override { return false; }
    std::optional<std::string> digest_hex(sip::auth::Hash,
                                          std::span<const std::string_view>) const override {
        return std::nullopt;
    }
    std::optional<sip::auth::HmacSha256> hmac_sha256(
        std::string_view, std::span<const std::string_view>) const override {
        return std::nullopt;
    }
};

billing::Money money(const char* s) {
    return *billing::Money::parse(s);
}

billing::Rate rate(const char* prefix, const char* price, std::int32_t increment = 1) {
    billing::Rate r;
    r.prefix = prefix;
    r.area = "fuzz";
    r.price = money(price);
    r.increment_s = increment;
    return r;
}

struct World {
    billing::Money balance, credit_limit;
};

billing::Book make_book(const World& w) {
    billing::Book b;
    (void)b.group("retail").add(rate("44", "0.100000"));
    billing::Rate london = rate("4420", "0.300000", 6);  // first period, connection fee
    london.first_period_s = 30;
    london.first_price = money("0.600000");
    london.connection_fee = money("0.010000");
    (void)b.group("retail").add(london);
    (void)b.group("retail").add(rate("33", "0.050000", 60));
    (void)b.group("v1").add(rate("44", "0.050000"));
    (void)b.group("v1").add(rate("33", "0.020000"));
    (void)b.group("v2").add(rate("44", "0.030000"));
    (void)b.group("v2").add(rate("4420", "0.100000", 6));
    (void)b.group("v3").add(rate("447", "0.040000"));
    (void)b.group("v3").add(rate("33", "0.030000"));
    billing::Account c;
    c.id = "1001";
    c.kind = billing::AccountKind::customer;
    c.balance = w.balance;
    c.credit_limit = w.credit_limit;
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

sw::VendorEntry vendor(const char* name, const char* host, const char* account, int priority,
                       std::vector<std::string> prefixes, bool probe) {
    sw::VendorEntry v;
    v.spec.name = name;
    v.spec.prefixes = std::move(prefixes);
    v.spec.priority = priority;
    v.sip.host = host;
    v.sip.port = 5060;
    v.sip.vendor_account = account;
    v.sip.probe = probe;
    return v;
}

const char* kSdp = "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                   "m=audio 4000 RTP/AVP 0\r\n";
const char* kSdpB = "v=0\r\no=b 1 1 IN IP4 10.0.0.21\r\ns=-\r\nc=IN IP4 10.0.0.21\r\nt=0 0\r\n"
                    "m=audio 5000 RTP/AVP 0\r\n";

// 44 (gw1, gw2), 447 (gw3 first), 4420 (first period, connection fee), 33 (every gateway,
// 60 s increments), no rate, ...
constexpr const char* kCallees[] = {"441632960000", "447700900123", "442079460000",
                                    "33123456789",  "999123",       "44",
                                    "+441632960000", "4477009001230000000000"};
constexpr const char* kCallIdSuffix[] = {"a", "x@10.0.0.1", "Z-9"};
constexpr const char* kSessionExpires[] = {"90",  "1800;refresher=uac", "120;refresher=uas",
                                           "1",   "4294967295",        "abc",
                                           "30;refresher=uac", "600;refresher=uas"};
// statuses a peer most often answers with; others come from two bytes
constexpr std::uint16_t kCommonCodes[] = {100, 180, 183, 200, 486, 503, 404, 487,
                                          408, 480, 600, 603, 481, 491, 302, 202};

// A message trunkline sent, parsed.
struct Out {
    sip::Target to;
    std::string bytes;
    sip::Message msg;
    sip::txn::TxnId txn = 0;
};

// One INVITE the customer sent (op 0).
struct CustCall {
    std::string call_id, branch, from_tag, callee;
    std::string invite;      // its bytes, for retransmissions
    sip::Target source;
    bool from_customer = true;  // false: from an unknown address (illegal call)
    std::uint32_t cseq = 1;     // last CSeq used in its dialog
    std::uint32_t ack_cseq = 1;
    std::string to_tag;         // from trunkline's responses
    std::uint16_t final_code = 0;
    sip::Instant final_at;
    bool nonok_acked = false;   // ACK for a non-2xx sent: the transaction may be gone
};

// An INVITE trunkline sent to a vendor (a new outbound dialog).
struct VendorInvite {
    std::size_t out = 0;  // index into Fuzz::invites_out
    std::string tag;      // the To tag the vendor answers with; "" until it answered
    std::uint32_t cseq = 0;
};

struct Fuzz {
    Reader in;
    sip::SeededRandom rng;
    NullHasher hasher;
    World world;
    sw::SwitchConfig cfg;
    std::unique_ptr<sw::Switch> sw;
    sip::Instant now = kT0;

    std::deque<Out> requests;           // requests trunkline sent (to any peer), newest last
    std::vector<Out> invites_out;       // initial INVITEs to vendors
    std::vector<VendorInvite> vdialogs;
    std::vector<CustCall> calls;
    std::deque<std::string> templates;  // recent messages either way, for mutation

    std::uint64_t invites_delivered = 0;  // INVITEs without a To tag that reached the switch
    std::uint64_t cdrs = 0;
    std::uint64_t last_seq = 0, committed = 0;
    std::map<std::string, std::uint32_t> allowed;  // Call-ID -> CDRs it may have
    std::map<std::string, std::uint32_t> cdrs_of;  // Call-ID -> CDRs it has
    std::set<std::string> reused;  // Call-IDs delivered more than once as a new INVITE
    struct Moved {
        std::uint64_t seq;
        std::string customer, vendor;
        billing::Money charge, cost;
    };
    std::vector<Moved> moved;  // each CDR's money, for the "database" of a book reload
    std::uint32_t uniq = 0;
    bool rejected_input = false;  // the bytes being delivered do not parse
    std::uint64_t deliveries = 0;

    explicit Fuzz(const std::uint8_t* data, std::size_t size)
        : in{data, size}, rng(in.byte()) {}

    // --- the world

    std::vector<sw::VendorEntry> vendors(std::uint8_t g, bool probe) {
        auto gw1 = vendor("gw1", kVendorHosts[0], "9001", 1, {"44", "33"}, probe);
        auto gw2 = vendor("gw2", kVendorHosts[1], "9002", 2, {"44", "33"}, probe);
        auto gw3 = vendor("gw3", kVendorHosts[2], "9003", 0, {"447", "33"}, probe);
        constexpr std::uint32_t kLines[] = {0, 1, 2, 0};
        gw1.spec.line_limit = kLines[g & 3];
        if (g & 0x04) gw2.spec.lowest_profit_per_s = 1000;  // 0.06/min: skips gw2 mostly
        if (g & 0x08) gw3.spec.protect = true;
        if (g & 0x10) gw3.spec.check_rate = true;
        if (g & 0x20) gw2.spec.enabled = false;
        if (g & 0x80) gw1.spec.cps_limit = 1;
        return {gw1, gw2, gw3};
    }

    void make_switch() {
        const std::uint8_t c0 = in.byte(), c1 = in.byte(), c2 = in.byte(), c3 = in.byte();
        cfg.calls.local[sip::Transport::Udp] = {"10.0.0.100", 5060};
        cfg.calls.unix_offset_ms = 1'700'000'000'000;
        cfg.router.policy = c0 & 0x01 ? route::lcr::Policy::cost : route::lcr::Policy::vos3000;
        auto& f = cfg.calls.failover;
        f.switch_until_connect = c0 & 0x02;
        f.stop_after_invite_timeout = c0 & 0x04;
        f.stop_after_early_sdp = c0 & 0x08;
        cfg.calls.reply_unauthorized = !(c0 & 0x10);
        cfg.calls.record_illegal_calls = true;
        auto& t = cfg.calls.timers;
        t.session_timers = !(c0 & 0x20);
        const bool probe = c0 & 0x40;
        cfg.calls.prepaid = !(c0 & 0x80);
        constexpr const char* kBalance[] = {"1.00", "0.05", "0.20", "0"};
        constexpr const char* kCredit[] = {"0", "0.02", "0.10", "0"};
        constexpr sip::Duration kQuota[] = {30s, 10s, 60s, 5s};
        constexpr std::uint32_t kSwitchLimit[] = {0, 1, 2, 0};
        world.balance = money(kBalance[c1 & 3]);
        world.credit_limit = money(kCredit[c1 >> 2 & 3]);
        cfg.calls.credit_quota = kQuota[c1 >> 4 & 3];
        f.switch_limit = kSwitchLimit[c1 >> 6 & 3];
        constexpr sip::Duration kInvite[] = {4s, 10s, 2s, 6s};
        constexpr sip::Duration kMaxCall[] = {120s, 600s, 7200s, 30s};
        constexpr sip::Duration kSe[] = {90s, 120s, 600s, 1800s};
        t.invite_timeout = kInvite[c2 & 3];
        t.max_call = kMaxCall[c2 >> 2 & 3];
        t.session_expires = kSe[c2 >> 4 & 3];
        if (!(c2 & 0x40)) {  // short progress timers, so they fire within a few steps
            t.trying_timeout = 5s;
            t.progress_timeout = 5s;
            t.progress_sdp_timeout = 20s;
            t.ringing_timeout = 20s;
        }
        t.refresh_divider = c2 & 0x80 ? 3 : 2;
        cfg.probes.period = 30s;
        cfg.probes.local_host = "10.0.0.100";
        sw = std::make_unique<sw::Switch>(cfg, sw::RegistrationsConfig{}, nullptr, hasher, rng);
        sw->set_book(make_book(world));
        route::lcr::CustomerSpec cust;
        cust.name = "acme";
        cust.account = "1001";
        cust.ips = {kCustomer};
        if (c3 & 0x40) cust.line_limit = 2;
        std::string err;
        FUZZ_CHECK(sw->set_routing({cust}, vendors(c3, probe), {}, &err, now));
        drain();
    }

    // --- what trunkline hands back

    void remember(std::string bytes) {
        templates.push_back(std::move(bytes));
        if (templates.size() > 16) templates.pop_front();
    }

    CustCall* call_by_branch(std::string_view branch) {
        for (auto& c : calls)
            if (c.branch == branch) return &c;
        return nullptr;
    }

    void on_response_to_customer(const sip::Message& m, const sip::Target& to) {
        CustCall* c = call_by_branch(m.top_via().branch);
        if (!c || m.call_id() != c->call_id || to.host != c->source.host) return;
        if (m.cseq().method != sip::Method::Invite) return;
        if (m.cseq().number != 1) {
            // the answer to a re-INVITE: the customer ACKs a 2xx with its CSeq
            if (m.status_code() >= 200 && m.status_code() < 300) c->ack_cseq = m.cseq().number;
            return;
        }
        if (c->to_tag.empty() && !m.to().tag.empty()) c->to_tag = std::string(m.to().tag);
        const std::uint16_t code = m.status_code();
        if (code < 200) return;
        // one final answer per INVITE (retransmissions repeat it)
        if (c->final_code != 0 && !reused.count(c->call_id)) FUZZ_CHECK(c->final_code == code);
        if (c->final_code == 0) {
            c->final_code = code;
            c->final_at = now;
        }
    }

    void on_cdr(const sw::RatedCall& r) {
        const billing::Cdr& cdr = r.cdr;
        FUZZ_CHECK(cdr.call.sip_code >= 200 && cdr.call.sip_code <= 699);
        FUZZ_CHECK(cdr.duration_s >= 0);
        FUZZ_CHECK(!cdr.charge.is_negative() && !cdr.cost.is_negative());
        FUZZ_CHECK(r.seq == last_seq + 1);
        last_seq = r.seq;
        ++cdrs;
        const std::uint32_t n = ++cdrs_of[cdr.call.call_id_in];
        FUZZ_CHECK(n <= allowed[cdr.call.call_id_in]);
        moved.push_back({r.seq, cdr.call.customer, cdr.call.vendor, cdr.charge, cdr.cost});
    }

    void drain() {
        while (auto s = sw->poll_send()) {
            FUZZ_CHECK(s->bytes && !s->bytes->empty());
            std::string b = *s->bytes;
            auto m = sip::Message::parse(b);
            if (!m) {
                // trunkline sends only what parses, but for the stateless 400/505 to bytes
                // the parser rejected: it copies their broken From/To/Call-ID on purpose
                // (sip::Salvage, RFC 4475)
                FUZZ_CHECK(rejected_input && s->txn == 0 &&
                           (b.starts_with("SIP/2.0 400 ") || b.starts_with("SIP/2.0 505 ")));
                continue;
            }
            remember(b);
            if (m->is_response()) {
                // (not the stateless 400 to a mangled copy of the customer's request)
                if (!rejected_input) on_response_to_customer(*m, s->to);
                continue;
            }
            if (m->method() == sip::Method::Ack) continue;
            const bool vendor_invite = m->method() == sip::Method::Invite && m->to().tag.empty();
            // a retransmission is the same request again
            if (std::any_of(requests.begin(), requests.end(),
                            [&](const Out& r) { return r.bytes == b; }))
                continue;
            Out o{s->to, std::move(b), std::move(*m), s->txn};
            if (vendor_invite && invites_out.size() < 64) {
                invites_out.push_back({o.to, o.bytes, *sip::Message::parse(o.bytes), o.txn});
                vdialogs.push_back({invites_out.size() - 1, {}, 0});
            }
            requests.push_back(std::move(o));
            if (requests.size() > 48) requests.pop_front();
        }
        while (auto c = sw->poll_cdr())
            on_cdr(*c);
        while (sw->poll_log()) {
        }
        while (sw->poll_store()) {
        }
    }

    void check() {
        FUZZ_CHECK(cdrs + sw->calls().active() <= invites_delivered);
        const billing::Money held = sw->calls().reserved("1001");
        FUZZ_CHECK(!held.is_negative());
        if (sw->calls().active() == 0) FUZZ_CHECK(held.is_zero());
        const billing::Account* a = sw->book().account("1001");
        FUZZ_CHECK(a != nullptr);
        // (postpaid calls are not limited: only prepaid ones must stay within the credit)
        if (cfg.calls.prepaid) FUZZ_CHECK(a->balance.micros() >= -a->credit_limit.micros());
    }

    // --- inputs

    // `counted`: the caller accounted for it if it is a new INVITE. Otherwise (raw bytes, an
    // in-dialog request sent without a To tag) a new INVITE the switch parses the same way
    // counts as delivered, and its Call-ID may get one more CDR: it is a new request.
    void deliver(const std::string& bytes, const sip::Target& from, bool counted = false) {
        remember(bytes);
        auto m = sip::Message::parse(bytes, {},
                                     sip::reliable(from.transport) ? sip::Framing::Stream
                                                                   : sip::Framing::Datagram);
        rejected_input = !m;
        if (m && !counted && m->is_request() && m->method() == sip::Method::Invite &&
            m->to().tag.empty()) {
            ++invites_delivered;
            const std::string id(m->call_id());
            ++allowed[id];
            reused.insert(id);
        }
        // every other UDP datagram comes through a reader thread's sw::Front, as with
        // [sip] udp_threads > 1: parsed there, an OPTIONS answered there, the rest handed over
        if (!sip::reliable(from.transport) && (++deliveries & 1)) {
            sw::Front front({.allow = std::string(sw->element().allow())});
            std::vector<sw::Received> for_switch;
            if (auto a = front.on_datagram(bytes, from, for_switch))
                FUZZ_CHECK(sip::Message::parse(*a->bytes).has_value());
            for (sw::Received& r : for_switch) sw->on_received(std::move(r), now);
        } else {
            sw->on_bytes(bytes, from, now);
        }
        drain();
        rejected_input = false;
    }

    static sip::Target udp(const char* host) { return {sip::Transport::Udp, host, 5060, 0, {}}; }

    // op 0: a new INVITE from the customer (or, rarely, from an unknown address)
    void new_invite() {
        const std::uint8_t callee = in.byte(), flags = in.byte(), se = in.byte();
        if (calls.size() >= 32) return;
        CustCall c;
        const std::uint32_t n = ++uniq;
        c.callee = kCallees[callee % std::size(kCallees)];
        c.call_id =
            fmt::format("c{}-{}", n, kCallIdSuffix[(callee >> 4) % std::size(kCallIdSuffix)]);
        c.branch = fmt::format("z9hG4bK-i{}", n);
        c.from_tag = fmt::format("ta{}", n);
        const bool tcp = flags & 0x20;
        c.from_customer = !(flags & 0x40 && flags & 0x80);
        c.source = {tcp ? sip::Transport::Tcp : sip::Transport::Udp,
                    c.from_customer ? kCustomer : kStranger, 5060, tcp ? 1u : 0u, {}};
        const std::string body = flags & 0x01 ? kSdp : "";
        std::string extra;
        if (flags & 0x02) extra += fmt::format("Session-Expires: {}\r\n", kSessionExpires[se % 8]);
        if (flags & 0x04) extra += "Supported: timer\r\n";
        if (flags & 0x08) extra += "Record-Route: <sip:10.0.0.1;lr>\r\n";
        if (!(flags & 0x10)) extra += "Contact: <sip:15551230000@10.0.0.1:5060>\r\n";
        c.invite = fmt::format(
            "INVITE sip:{0}@10.0.0.100 SIP/2.0\r\n"
            "Via: SIP/2.0/{1} 10.0.0.1:5060;branch={2};rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:15551230000@10.0.0.1>;tag={3}\r\n"
            "To: <sip:{0}@10.0.0.100>\r\n"
            "Call-ID: {4}\r\n"
            "CSeq: 1 INVITE\r\n"
            "{5}{6}"
            "Content-Length: {7}\r\n\r\n{8}",
            c.callee, tcp ? "TCP" : "UDP", c.branch, c.from_tag, c.call_id, extra,
            body.empty() ? "" : "Content-Type: application/sdp\r\n", body.size(), body);
        ++invites_delivered;
        ++allowed[c.call_id];
        const std::string bytes = c.invite;
        const sip::Target src = c.source;
        calls.push_back(std::move(c));
        deliver(bytes, src, true);
    }

    // op 1: a peer answers one of the requests trunkline sent it
    void answer() {
        const std::uint8_t pick = in.byte(), cb = in.byte(), flags = in.byte(), se = in.byte();
        const std::uint16_t code =
            cb < 0x80 ? kCommonCodes[cb % std::size(kCommonCodes)]
                      : static_cast<std::uint16_t>(100 + (cb << 8 | in.byte()) % 600);
        if (requests.empty()) return;
        const Out& req = requests[pick % requests.size()];
        std::string tag;
        if (req.msg.to().tag.empty() && code != 100) {
            // the vendor's dialog tag: the same one for every answer unless told otherwise
            VendorInvite* vd = nullptr;
            for (auto& d : vdialogs)
                if (invites_out[d.out].msg.top_via().branch == req.msg.top_via().branch) vd = &d;
            if (vd && !vd->tag.empty() && !(flags & 0x20)) {
                tag = vd->tag;
            } else {
                tag = fmt::format("v{}", ++uniq);
                if (vd && vd->tag.empty()) vd->tag = tag;
            }
        }
        sip::ResponseSpec spec;
        spec.status = code;
        spec.to_tag = tag;
        const std::string contact = fmt::format("<sip:peer@{}:5060>", req.to.host);
        const char* se_value = kSessionExpires[se % 8];
        if (flags & 0x01) spec.extra.push_back({"Session-Expires", se_value});
        if (flags & 0x01 && se & 0x80) spec.extra.push_back({"Require", "timer"});
        if (flags & 0x02) spec.extra.push_back({"Contact", contact});
        if (flags & 0x08) spec.extra.push_back({"Record-Route", "<sip:10.0.0.99;lr>"});
        if (flags & 0x04) {
            spec.content_type = "application/sdp";
            spec.body = kSdpB;
        }
        sip::Target from = req.to;
        if (flags & 0x40) from.host = kVendorHosts[se % 3];  // from some other address
        deliver(sip::build_response(req.msg, spec), from);
    }

    // op 2: the customer's request in one of its dialogs
    void customer_request() {
        const std::uint8_t pick = in.byte(), what = in.byte(), flags = in.byte();
        if (calls.empty()) return;
        CustCall& c = calls[pick % calls.size()];
        const std::string to_tag = flags & 0x01 ? std::string("wrong")
                                 : flags & 0x02 ? std::string()
                                                : c.to_tag;
        const std::string to = fmt::format("<sip:{}@10.0.0.100>{}{}", c.callee,
                                           to_tag.empty() ? "" : ";tag=", to_tag);
        std::string method, branch = fmt::format("z9hG4bK-c{}", ++uniq), body, extra;
        std::uint32_t cseq = 0;
        switch (what % 9) {
            case 0:  // ACK: for a non-2xx in the INVITE's transaction, else its own
                method = "ACK";
                cseq = c.ack_cseq;
                if (c.final_code >= 300 && cseq == 1) {
                    branch = c.branch;
                    c.nonok_acked = true;
                }
                if (flags & 0x04) body = kSdp;  // a late offer's answer
                break;
            case 1: method = "BYE"; cseq = ++c.cseq; break;
            case 2: {  // CANCEL: the INVITE's branch, no To tag (RFC 3261 §9.1)
                const std::string cancel = fmt::format(
                    "CANCEL sip:{0}@10.0.0.100 SIP/2.0\r\n"
                    "Via: SIP/2.0/{1} 10.0.0.1:5060;branch={2};rport\r\n"
                    "Max-Forwards: 70\r\nFrom: <sip:15551230000@10.0.0.1>;tag={3}\r\n"
                    "To: <sip:{0}@10.0.0.100>\r\nCall-ID: {4}\r\nCSeq: 1 CANCEL\r\n"
                    "Content-Length: 0\r\n\r\n",
                    c.callee, sip::reliable(c.source.transport) ? "TCP" : "UDP", c.branch,
                    c.from_tag, c.call_id);
                return deliver(cancel, c.source);
            }
            case 3: method = "INVITE"; cseq = ++c.cseq; body = kSdp; break;
            case 4: method = "UPDATE"; cseq = ++c.cseq; break;
            case 5: method = "UPDATE"; cseq = ++c.cseq; body = kSdp; break;
            case 6: method = "INFO"; cseq = ++c.cseq; break;
            case 7: {  // the INVITE again: absorbed while its transaction lives
                const bool surely_alive =
                    c.final_code == 0 || (now - c.final_at < 4s && !c.nonok_acked);
                ++invites_delivered;  // the bound holds either way
                if (!surely_alive) {
                    ++allowed[c.call_id];
                    reused.insert(c.call_id);
                }
                return deliver(c.invite, c.source, true);
            }
            default: method = "OPTIONS"; cseq = ++c.cseq; break;
        }
        if (flags & 0x08 && method != "ACK" && method != "BYE")
            extra = fmt::format("Session-Expires: {}\r\nSupported: timer\r\n",
                                kSessionExpires[flags >> 4 & 7]);
        if (method == "INVITE" || method == "UPDATE")
            extra += "Contact: <sip:15551230000@10.0.0.1:5060>\r\n";
        const std::string text = fmt::format(
            "{0} sip:trunkline@10.0.0.100:5060 SIP/2.0\r\n"
            "Via: SIP/2.0/{1} 10.0.0.1:5060;branch={2};rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:15551230000@10.0.0.1>;tag={3}\r\n"
            "To: {4}\r\n"
            "Call-ID: {5}\r\n"
            "CSeq: {6} {0}\r\n"
            "{7}{8}Content-Length: {9}\r\n\r\n{10}",
            method, sip::reliable(c.source.transport) ? "TCP" : "UDP", branch, c.from_tag, to,
            c.call_id, cseq, extra, body.empty() ? "" : "Content-Type: application/sdp\r\n",
            body.size(), body);
        deliver(text, c.source);
    }

    // op 3: a vendor's request in a dialog it answered
    void vendor_request() {
        const std::uint8_t pick = in.byte(), what = in.byte(), flags = in.byte();
        if (vdialogs.empty()) return;
        VendorInvite& d = vdialogs[pick % vdialogs.size()];
        const Out& inv = invites_out[d.out];
        const std::string tag = flags & 0x01 ? std::string("nope")
                                : d.tag.empty() ? fmt::format("v{}", ++uniq)
                                                : d.tag;
        constexpr const char* kMethods[] = {"BYE", "UPDATE", "UPDATE", "INVITE", "INFO", "ACK"};
        const std::string method = kMethods[what % std::size(kMethods)];
        std::string body, extra;
        if ((what % std::size(kMethods) == 2 || method == "INVITE")) body = kSdpB;
        if (flags & 0x02)
            extra = fmt::format("Session-Expires: {}\r\n", kSessionExpires[flags >> 4 & 7]);
        if (method == "INVITE" || method == "UPDATE")
            extra += fmt::format("Contact: <sip:peer@{}:5060>\r\n", inv.to.host);
        const std::uint32_t cseq = method == "ACK" ? d.cseq : ++d.cseq;
        const std::string text = fmt::format(
            "{0} sip:trunkline@10.0.0.100:5060 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP {1}:5060;branch=z9hG4bK-v{2}\r\n"
            "Max-Forwards: 70\r\n"
            "From: <{3}>;tag={4}\r\n"
            "To: <{5}>;tag={6}\r\n"
            "Call-ID: {7}\r\n"
            "CSeq: {8} {0}\r\n"
            "{9}{10}Content-Length: {11}\r\n\r\n{12}",
            method, inv.to.host, ++uniq, inv.msg.to().uri, tag, inv.msg.from().uri,
            inv.msg.from().tag, inv.msg.call_id(), cseq, extra,
            body.empty() ? "" : "Content-Type: application/sdp\r\n", body.size(), body);
        deliver(text, inv.to);
    }

    // op 4: raw or mutated bytes from either side
    void raw() {
        const std::uint8_t src = in.byte(), mode = in.byte();
        std::string bytes;
        if (mode % 3 == 0 || templates.empty()) {
            bytes = in.raw(255 + (mode & 0x80 ? 1024 : 0));
        } else {
            bytes = templates[in.byte() % templates.size()];
            if (mode % 3 == 1) {  // a few edits: replace, insert, delete, truncate
                for (int k = in.byte() % 8; k >= 0 && !bytes.empty(); --k) {
                    const std::size_t hi = in.byte();
                    const std::size_t pos = (hi << 8 | in.byte()) % bytes.size();
                    const std::uint8_t op = in.byte(), v = in.byte();
                    switch (op & 3) {
                        case 0: bytes[pos] = static_cast<char>(v); break;
                        case 1: bytes.insert(pos, 1, static_cast<char>(v)); break;
                        case 2: bytes.erase(pos, 1 + v % 16); break;
                        default: bytes.resize(pos); break;
                    }
                }
            }
        }
        constexpr const char* kSources[] = {kCustomer, "10.0.0.21", "10.0.0.22", "10.0.0.23",
                                            kStranger};
        deliver(bytes, udp(kSources[src % std::size(kSources)]));
    }

    // op 5: time passes; every deadline in between runs
    void advance(sip::Duration d) {
        const sip::Instant target = now + d;
        for (;;) {
            auto dl = sw->next_deadline();
            if (!dl || *dl > target) break;
            now = std::max(now, *dl);
            sw->handle_timeouts(now);
            drain();
            if (auto next = sw->next_deadline()) FUZZ_CHECK(*next > now);
            check();
        }
        now = target;
    }

    // op 6: the operator hangs up a listed call
    void operator_hangup() {
        const std::uint8_t pick = in.byte();
        auto list = sw->calls().list();
        if (list.empty() || pick == 0xff) {
            FUZZ_CHECK(!sw->calls().hangup(0xffffffffu, now));
            return;
        }
        FUZZ_CHECK(sw->calls().hangup(list[pick % list.size()].id, now));
        drain();
    }

    // op 7: a transport error, the CDR writer's commit, a book reload, a keep-alive
    void misc() {
        const std::uint8_t what = in.byte(), pick = in.byte();
        switch (what % 4) {
            case 0:
                if (!requests.empty() && requests[pick % requests.size()].txn != 0) {
                    sw->on_transport_error(requests[pick % requests.size()].txn, now);
                    drain();
                }
                break;
            case 1:
                committed = last_seq;
                sw->cdrs_committed(committed);
                break;
            case 2: {  // the database's book: the starting one plus every committed CDR
                billing::Book b = make_book(world);
                for (const Moved& m : moved) {
                    if (m.seq > committed) break;
                    if (auto neg = m.charge.negate(); neg && !m.charge.is_zero())
                        (void)b.adjust_balance(m.customer, *neg);
                    if (!m.cost.is_zero() && !m.vendor.empty())
                        (void)b.adjust_balance(m.vendor, m.cost);
                }
                sw->set_book(std::move(b));
                break;
            }
            default:
                sw->on_bytes("\r\n\r\n", udp(pick & 1 ? kCustomer : kVendorHosts[0]), now);
                drain();
                break;
        }
    }

    // --- the end: peers fall silent and time runs until every call ended (at most 3 h)
    void wind_down() {
        const sip::Instant end = now + 3h;
        while (now < end && (sw->calls().active() > 0 || sw->calls().next_deadline()))
            advance(60s);
        FUZZ_CHECK(sw->calls().active() == 0);
        FUZZ_CHECK(!sw->calls().next_deadline());
        FUZZ_CHECK(sw->calls().reserved("1001").is_zero());
        check();
        for (const CustCall& c : calls) {
            if (reused.count(c.call_id)) continue;
            FUZZ_CHECK(cdrs_of[c.call_id] == 1);
            if (c.from_customer || cfg.calls.reply_unauthorized) FUZZ_CHECK(c.final_code >= 200);
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Fuzz f(data, size);
    f.make_switch();
    for (int steps = 0; !f.in.done() && steps < 256; ++steps) {
        const std::uint8_t op = f.in.byte();
        switch (op % 8) {
            case 0: f.new_invite(); break;
            case 1: f.answer(); break;
            case 2: f.customer_request(); break;
            case 3: f.vendor_request(); break;
            case 4: f.raw(); break;
            case 5: {
                const std::uint8_t v = f.in.byte();
                // 0..12.7 s in 100 ms steps, or up to 200 s in 1.6 s steps
                f.advance(v < 128 ? sip::Duration(std::chrono::milliseconds(v * 100))
                                  : std::min<sip::Duration>(
                                        200s, std::chrono::milliseconds((v - 127) * 1600)));
                break;
            }
            case 6: f.operator_hangup(); break;
            default: f.misc(); break;
        }
        f.check();
    }
    f.wind_down();
    return 0;
}

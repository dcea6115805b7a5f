// Drives the inbound registration state machines together — Registrar, Location and
// Keepalive, wired the way the server wires them — with REGISTERs assembled from fuzzed
// pieces, fuzzed authentication verdicts, operator lifts, keep-alive outcomes and fuzzed time
// (DESIGN.md §10.5). The first bytes pick the configuration. Checks after every step:
// - lookup() never returns a binding with expires_at <= now, never more than
//   max_bindings_per_aor, and returns the up bindings before the down ones;
// - failure counters never exceed max_tracked per table, suspensions max_suspensions;
// - every Respond decision renders into bytes that parse as a response with that status;
//   a request from a suspended IP gets 403 (or is dropped with suspend_drop), unless its
//   To user authenticated from that IP within trust_window;
// - a binding event names the outcome: after a request, a contact whose last event was
//   Added/Refreshed is bound, one whose last event was Removed/Replaced is not, and a
//   binding the request took away had an event;
// - every suspension listed ends after `now`;
// - after handle_timeouts(now), no component has a deadline at or before `now`
//   (the keep-alive spill deadline is after `now` as well);
// - keep-alive probes go to the source of a binding that exists and qualifies, at most one
//   per binding per tick; every OPTIONS parses and is addressed to the contact;
// - winding down (all bindings expired, all timers run) leaves every table empty.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"
#include "route/reg/keepalive.hpp"
#include "route/reg/location.hpp"
#include "route/reg/registrar.hpp"
#include "sip/message.hpp"

namespace {

using namespace std::chrono_literals;
using route::reg::Authenticator;
using route::reg::Binding;
using route::reg::Decision;
using route::reg::Keepalive;
using route::reg::KeepaliveAction;
using route::reg::KeepaliveConfig;
using route::reg::Location;
using route::reg::RegistrarConfig;
using route::reg::RegistrarEvent;
using sip::Instant;

using fuzz::Reader;

constexpr const char* kUsers[] = {"alice", "bob", "carol", "%61lice", "ALICE", "", "192.0.2.9"};
constexpr const char* kHosts[] = {"example.com", "EXAMPLE.com", "[2001:db8::1]", "10.0.0.1"};
constexpr const char* kContactHosts[] = {"192.168.1.10:5060",
                                         "192.168.1.10",
                                         "203.0.113.5:40000",
                                         "[fd00::1]:5062",
                                         "192.168.1.11:5070",
                                         "Host.Example",
                                         "192.168.1.10:5060;transport=tcp",
                                         "10.9.9.9:1"};
constexpr const char* kContactParams[] = {"",
                                          ";expires=0",
                                          ";expires=30",
                                          ";expires=60",
                                          ";expires=3600",
                                          ";expires=4294967295",
                                          ";q=0.5",
                                          ";q=1",
                                          ";+sip.instance=\"<urn:uuid:1>\";reg-id=1",
                                          ";+sip.instance=\"<urn:uuid:1>\";reg-id=2",
                                          ";ob",
                                          "?X-Y=z"};
constexpr const char* kExpires[] = {"0",   "1",    "59",   "60",         "61",
                                    "600", "3600", "7201", "4294967295", "x"};
constexpr const char* kCallIds[] = {"c1", "c2", "c3@host", "c4"};

sip::Target target(sip::Transport t, std::string host, std::uint16_t port) {
    sip::Target x;
    x.transport = t;
    x.host = std::move(host);
    x.port = port;
    return x;
}
const sip::Target kSources[] = {
    target(sip::Transport::Udp, "203.0.113.5", 40000),
    target(sip::Transport::Udp, "192.168.1.10", 5060),  // the contact's own address: no NAT
    target(sip::Transport::Tcp, "198.51.100.1", 5060),
    target(sip::Transport::Udp, "2001:db8::5", 5060),
    target(sip::Transport::Udp, "192.0.2.9", 7000),
};

// The verdict and username come from the fuzz bytes.
class FuzzAuth final : public Authenticator {
  public:
    explicit FuzzAuth(Reader& in) : in_(in) {}
    std::vector<std::string> challenge(Instant, bool stale) override {
        return {stale ? "Digest realm=\"fz\", nonce=\"n1\", stale=true"
                      : "Digest realm=\"fz\", nonce=\"n1\""};
    }
    Outcome verify(std::string_view authorization, std::string_view, Instant) override {
        Outcome o;
        const std::uint8_t b = in_.byte();
        o.verdict = static_cast<Verdict>(b % 4);  // Ok, Stale, Rejected, Repeated
        if (b & 0x80) {
            if (auto c = sip::parse_credentials(authorization))
                o.username = sip::unquote(c->username);
        } else {
            o.username = kUsers[(b >> 2) % std::size(kUsers)];
        }
        return o;
    }

  private:
    Reader& in_;
};

std::string build_register(Reader& in, std::uint32_t& seq) {
    std::string to;
    const std::uint8_t form = in.byte();
    switch (form % 6) {
        case 0:
        case 1:
            to = std::string("<sip:") + in.pick(kUsers) + "@" + in.pick(kHosts) + ">";
            break;
        case 2:
            to = std::string("sip:") + in.pick(kUsers) + "@" + in.pick(kHosts);
            break;
        case 3:
            to = std::string("<sips:") + in.pick(kUsers) + "@" + in.pick(kHosts) + ";user=phone>";
            break;
        case 4:
            to = "<tel:+15551234>";
            break;
        default:
            to = in.raw(40);
            break;
    }
    std::string m = "REGISTER sip:example.com SIP/2.0\r\n";
    m += "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK" + std::to_string(++seq) + ";rport\r\n";
    m += "From: " + to + ";tag=f" + std::to_string(seq) + "\r\n";
    m += "To: " + to + "\r\n";
    m += std::string("Call-ID: ") + in.pick(kCallIds) + "\r\n";
    const std::uint8_t cs = in.byte();
    m += "CSeq: " + std::to_string(cs & 0x80 ? in.u32() : cs) + " REGISTER\r\n";
    const std::uint8_t contacts = in.byte();
    for (int i = 0; i < contacts % 5; ++i) {
        const std::uint8_t c = in.byte();
        if (c % 11 == 0) {
            m += "Contact: *\r\n";
        } else if (c % 11 == 1) {
            m += "Contact: " + in.raw(48) + "\r\n";
        } else {
            std::string v = std::string("<sip:") + in.pick(kUsers) + "@" + in.pick(kContactHosts);
            v += c & 0x80 ? std::string(in.pick(kContactParams)) + ">" : ">";
            v += in.pick(kContactParams);
            if (c & 0x40) v += std::string(", <sip:x@192.168.1.12>") + in.pick(kContactParams);
            m += "Contact: " + v + "\r\n";
        }
    }
    const std::uint8_t flags = in.byte();
    if (flags & 1) m += std::string("Expires: ") + in.pick(kExpires) + "\r\n";
    if (flags & 2)
        m += std::string("Authorization: Digest username=\"") + in.pick(kUsers) +
             "\", realm=\"fz\", nonce=\"n1\", uri=\"sip:example.com\", response=\"r\"\r\n";
    if (flags & 4) m += flags & 8 ? "Require: path\r\n" : "Require: path, foo\r\n";
    if (flags & 16) m += "Path: <sip:edge.example;lr>, <sip:edge2.example;lr>\r\n";
    if (flags & 32) m += "X-Fuzz: " + in.raw(32) + "\r\n";
    m += "Content-Length: 0\r\n\r\n";
    return m;
}

struct Harness {
    Reader& in;
    Location& loc;
    route::reg::Registrar& reg;
    Keepalive& ka;
    RegistrarConfig rcfg;
    KeepaliveConfig kcfg;
    std::set<std::string> aors;  // every AOR ever bound, for the lookup checks
    std::vector<std::pair<std::string, std::string>> in_flight;  // OPTIONS sent, unreported

    void wire_registrar(Instant now) {
        // The server: Added/Refreshed -> track, Removed/Replaced -> untrack.
        while (auto ev = reg.poll()) {
            switch (ev->kind) {
                case RegistrarEvent::Kind::Added:
                case RegistrarEvent::Kind::Refreshed:
                    aors.insert(ev->aor);
                    ka.track(ev->aor, ev->contact, now);
                    break;
                case RegistrarEvent::Kind::Removed:
                case RegistrarEvent::Kind::Replaced:
                    ka.untrack(ev->aor, ev->contact);
                    break;
                default:
                    break;
            }
        }
    }

    void wire_location() {
        while (auto ev = loc.poll())
            ka.untrack(ev->aor, ev->binding.contact);
    }

    void drain_keepalive(Instant now) {
        std::set<std::pair<std::string, std::string>> this_tick;
        while (auto a = ka.poll()) {
            std::string aor, contact;
            sip::Target to;
            if (auto* c = std::get_if<route::reg::SendCrlf>(&*a)) {
                aor = c->aor;
                contact = c->contact;
                to = c->target;
            } else if (auto* o = std::get_if<route::reg::SendOptions>(&*a)) {
                aor = o->aor;
                contact = o->contact;
                to = o->target;
                FUZZ_CHECK(o->bytes);
                auto m = sip::Message::parse(*o->bytes);
                FUZZ_CHECK(m.has_value());
                FUZZ_CHECK(m->is_request() && m->method() == sip::Method::Options);
                FUZZ_CHECK(m->top_via().has_rport);
                FUZZ_CHECK(m->cseq().method == sip::Method::Options);
                auto ruri = sip::parse_uri(m->request_uri());
                auto cu = sip::parse_uri(contact);
                FUZZ_CHECK(ruri && cu);
                FUZZ_CHECK(sip::iequals(ruri->host, cu->host));
                in_flight.emplace_back(aor, contact);
            } else {
                continue;  // Up / Down events
            }
            // A probe goes to the NAT side of a binding that is there and qualifies.
            auto b = loc.find(aor, contact, now);
            FUZZ_CHECK(b.has_value());
            FUZZ_CHECK(b->source == to);
            FUZZ_CHECK(Keepalive::qualifies(*b, kcfg.nat_only));
            FUZZ_CHECK(this_tick.emplace(aor, Location::contact_key(contact)).second);
        }
    }

    void check_state(Instant now) {
        for (const std::string& aor : aors) {
            auto v = loc.lookup(aor, now);
            FUZZ_CHECK(v.size() <= loc.config().max_bindings_per_aor);
            bool seen_down = false;
            for (const Binding& b : v) {
                FUZZ_CHECK(b.expires_at > now);
                if (!b.down) FUZZ_CHECK(!seen_down);
                seen_down = seen_down || b.down;
            }
        }
        // pairs and addresses, and with suspend_scope user the users
        const std::size_t tables = rcfg.suspend_scope == route::reg::SuspendScope::User ? 3 : 2;
        FUZZ_CHECK(reg.tracked_counters() <= tables * rcfg.max_tracked);
        FUZZ_CHECK(reg.guard().suspension_count() <= rcfg.max_suspensions);
        for (const auto& s : reg.list_suspensions(now))
            FUZZ_CHECK(s.until > now);
    }

    void tick(Instant now) {
        loc.handle_timeouts(now);
        wire_location();
        reg.handle_timeouts(now);
        wire_registrar(now);
        ka.handle_timeouts(now);
        drain_keepalive(now);
        if (auto d = loc.next_deadline()) FUZZ_CHECK(*d > now);
        if (auto d = reg.next_deadline()) FUZZ_CHECK(*d > now);
        if (auto d = ka.next_deadline()) FUZZ_CHECK(*d > now);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Reader in{data, size};
    // Configuration.
    const std::uint8_t c0 = in.byte(), c1 = in.byte(), c2 = in.byte(), c3 = in.byte();
    RegistrarConfig rcfg;
    rcfg.min_expires = std::chrono::seconds(c0 % 4 * 30);               // 0, 30, 60, 90
    rcfg.max_expires = std::chrono::seconds(60 + (c0 >> 2) % 8 * 500);  // 60..3560
    rcfg.default_expires = std::chrono::seconds(c1 % 2 ? 3600 : 120);
    rcfg.register_replace = c1 & 2;
    rcfg.register_retry = (c1 >> 2) % 5;  // 0: never suspend
    rcfg.register_suspend = std::chrono::seconds(1 + c2 % 4 * 100);
    rcfg.failure_window = std::chrono::seconds(1 + (c2 >> 2) % 4 * 100);
    rcfg.suspend_drop = c2 & 0x80;
    rcfg.suspend_scope = c2 & 0x40 ? route::reg::SuspendScope::User : route::reg::SuspendScope::Address;
    rcfg.max_tracked = 1 + c3 % 4;
    rcfg.max_suspensions = 1 + (c3 >> 2) % 4;
    rcfg.trust_window = std::chrono::seconds(c3 & 0x40 ? 0 : 300);
    rcfg.check_aor_user = c3 & 0x10;
    const bool with_auth = c3 & 0x20;
    route::reg::LocationConfig lcfg;
    lcfg.max_bindings_per_aor = 1 + c1 % 4;

    const std::uint8_t k0 = in.byte();
    KeepaliveConfig kcfg;
    kcfg.interval = std::chrono::seconds(k0 & 1 ? 5 : 30);
    kcfg.payload =
        k0 & 2 ? route::reg::KeepalivePayload::options : route::reg::KeepalivePayload::crlf;
    kcfg.nat_only = k0 & 4;
    kcfg.local_host = k0 & 8 ? "2001:db8::7" : "198.51.100.7";
    kcfg.options_timeout = std::chrono::seconds(k0 & 16 ? 32 : 3);
    kcfg.max_probes_per_tick = (k0 >> 5) % 4;  // 0: no limit
    kcfg.spill_delay = 20ms;

    Location loc(lcfg);
    FuzzAuth auth(in);
    route::reg::Registrar reg(rcfg, loc, with_auth ? &auth : nullptr);
    sip::SeededRandom rng(in.byte());
    Keepalive ka(kcfg, loc, rng);
    FUZZ_CHECK(!ka.config_error());
    Harness h{in, loc, reg, ka, rcfg, kcfg, {}, {}};

    Instant now = sip::Instant{} + 1000s;
    std::uint32_t seq = 0;
    for (int steps = 0; !in.done() && steps < 300; ++steps) {
        const std::uint8_t op = in.byte();
        switch (op % 8) {
            case 0:
            case 1:
            case 2: {  // a REGISTER arrives
                const sip::Target& src = kSources[in.byte() % std::size(kSources)];
                const std::string text = build_register(in, seq);
                auto msg = sip::Message::parse(text);
                if (!msg) break;
                const auto canon = route::reg::Registrar::canonical_aor(msg->to().uri);
                // a user that authenticated from the address lately is spared its suspension
                const std::string to_user =
                    canon ? sip::unescape(sip::parse_uri(msg->to().uri)->user) : std::string();
                bool ip_suspended = false;
                for (const auto& s : reg.list_suspensions(now))
                    ip_suspended = ip_suspended || (s.ip() && s.key == src.host &&
                                                    !reg.guard().trusted(to_user, src.host, now));
                std::vector<std::pair<std::string, std::string>> before;  // key, contact
                if (canon)
                    for (const Binding& b : loc.lookup(*canon, now))
                        before.emplace_back(Location::contact_key(b.contact), b.contact);
                const Decision d = reg.handle(*msg, src, now);
                if (ip_suspended) FUZZ_CHECK(d.status == 403);
                if (d.action == Decision::Action::Drop) {
                    FUZZ_CHECK(rcfg.suspend_drop && d.status == 403);
                } else {
                    route::reg::RenderOptions ro;
                    ro.to_tag = "t1";
                    if (op & 0x80) ro.unix_time = static_cast<std::int64_t>(in.u32());
                    auto r = sip::Message::parse(route::reg::render(*msg, d, ro));
                    FUZZ_CHECK(r.has_value());
                    FUZZ_CHECK(r->is_response() && r->status_code() == d.status);
                    FUZZ_CHECK(r->call_id() == msg->call_id());
                }
                // The last event per contact says what became of it.
                std::vector<RegistrarEvent> events;
                while (auto ev = reg.poll())
                    events.push_back(*ev);
                std::map<std::pair<std::string, std::string>,
                         std::pair<RegistrarEvent::Kind, std::string>>
                    last;  // (aor, contact key) -> last event, contact as written
                for (const auto& ev : events) {
                    if (ev.kind == RegistrarEvent::Kind::Added ||
                        ev.kind == RegistrarEvent::Kind::Refreshed ||
                        ev.kind == RegistrarEvent::Kind::Removed ||
                        ev.kind == RegistrarEvent::Kind::Replaced)
                        last[{ev.aor, Location::contact_key(ev.contact)}] = {ev.kind, ev.contact};
                }
                for (const auto& [key, what] : last) {
                    const auto& [kind, contact] = what;
                    const bool bound = loc.find(key.first, contact, now).has_value();
                    const bool added = kind == RegistrarEvent::Kind::Added ||
                                       kind == RegistrarEvent::Kind::Refreshed;
                    FUZZ_CHECK(bound == added);
                }
                // A binding that left without expiring was announced.
                for (const auto& [key, contact] : before) {
                    if (!loc.find(*canon, contact, now)) FUZZ_CHECK(last.count({*canon, key}) == 1);
                }
                for (const auto& ev : events) {
                    if (ev.kind == RegistrarEvent::Kind::Added ||
                        ev.kind == RegistrarEvent::Kind::Refreshed) {
                        h.aors.insert(ev.aor);
                        ka.track(ev.aor, ev.contact, now);
                    } else if (ev.kind == RegistrarEvent::Kind::Removed ||
                               ev.kind == RegistrarEvent::Kind::Replaced) {
                        ka.untrack(ev.aor, ev.contact);
                    }
                }
                break;
            }
            case 3: {  // time passes: milliseconds, seconds, or a big jump
                const std::uint8_t k = in.byte();
                if (k < 128)
                    now += std::chrono::milliseconds(k * 10);
                else if (k < 240)
                    now += std::chrono::seconds(k - 127);
                else
                    now += std::chrono::seconds(in.u32() % 200'000);
                h.tick(now);
                break;
            }
            case 4: {  // jump to the earliest deadline
                std::optional<Instant> d = loc.next_deadline();
                for (auto x : {reg.next_deadline(), ka.next_deadline()})
                    if (x && (!d || *x < *d)) d = x;
                if (d && *d > now) now = *d;
                h.tick(now);
                break;
            }
            case 5: {  // the wiring reports an OPTIONS outcome
                if (h.in_flight.empty()) break;
                const std::size_t i = in.byte() % h.in_flight.size();
                const auto [aor, contact] = h.in_flight[i];
                h.in_flight.erase(h.in_flight.begin() + static_cast<std::ptrdiff_t>(i));
                const bool answered = op & 0x40;
                if (ka.on_options_result(aor, contact, answered, now)) {
                    // a result taken leaves the binding in the state it reports
                    auto b = loc.find(aor, contact, now);
                    FUZZ_CHECK(b.has_value());
                    FUZZ_CHECK(b->down == !answered);
                }
                h.drain_keepalive(now);
                break;
            }
            case 6: {  // an operator lifts a suspension
                static constexpr const char* kKeys[] = {
                    "alice",       "bob",          "carol",       "",
                    "203.0.113.5", "192.168.1.10", "2001:db8::5", "192.0.2.9"};
                reg.lift(in.pick(kKeys));
                break;
            }
            default: {  // persistence round trip (a restart on the same time base)
                if (op & 0x80) {
                    const route::reg::Snapshot snap = loc.snapshot(now);
                    loc.restore(snap, now);
                    FUZZ_CHECK(loc.binding_count() == snap.size());
                    for (const auto& b : snap)
                        FUZZ_CHECK(b.remaining > sip::Duration::zero());
                }
                break;
            }
        }
        h.wire_registrar(now);
        h.check_state(now);
    }

    // Wind down: every binding expires, every timer runs; nothing may be left behind.
    now += 400'000s;
    h.tick(now);
    for (int guard = 0; guard < 100'000; ++guard) {
        std::optional<Instant> d = loc.next_deadline();
        for (auto x : {reg.next_deadline(), ka.next_deadline()})
            if (x && (!d || *x < *d)) d = x;
        if (!d) break;
        FUZZ_CHECK(*d > now);
        now = *d;
        h.tick(now);
    }
    h.check_state(now);
    FUZZ_CHECK(loc.binding_count() == 0 && loc.aor_count() == 0);
    FUZZ_CHECK(ka.tracked() == 0);
    FUZZ_CHECK(reg.tracked_counters() == 0 && reg.guard().suspension_count() == 0);
    FUZZ_CHECK(!loc.next_deadline() && !reg.next_deadline() && !ka.next_deadline());
    return 0;
}

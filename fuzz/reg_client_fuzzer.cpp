// Drives route::reg::RegClient (outbound registration) with fuzzed responses — status codes,
// WWW-Authenticate / Proxy-Authenticate values (real ones from a sip::auth::DigestServer and
// fuzzed ones), Min-Expires, Contact expires, matching or mismatching Call-ID / CSeq —
// timeouts, transport errors, stop(), restarts from a persisted state and fuzzed time
// (DESIGN.md §10.5). Digest answers go through the real sip::auth::DigestClient and the
// OpenSSL hasher. The first bytes pick the configuration (sometimes an invalid one).
// Checks after every step:
// - every SendRequest parses as a REGISTER to the configured next hop, with the one Call-ID
//   of the registration (the persisted one after a restart) and a CSeq strictly above every
//   CSeq sent before and below 2^31 (a new Call-ID at CSeq 1 only past 2^31 - 1); at most
//   one request outstanding: a response for anything but the last one is refused;
// - an answer to a challenge the DigestServer issued verifies as ok with the right password;
// - a failed state always has a reason; persisted() follows the last CSeq sent;
// - after handle_timeouts(now) the next deadline is after `now`; once stop() was called,
//   done() is true no later than stop_deadline(); after done() nothing is sent and no
//   deadline remains.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "route/reg/client.hpp"
#include "sip/auth/digest.hpp"
#include "sip/auth/server.hpp"
#include "sip/builder.hpp"
#include "sip/crypto/evp_hasher.hpp"
#include "sip/headers.hpp"
#include "sip/message.hpp"

namespace {

using namespace std::chrono_literals;
using route::reg::RegClient;
using route::reg::RegClientConfig;
using route::reg::State;
using sip::Instant;

using fuzz::Reader;

const sip::crypto::EvpHasher& hasher() {
    static const sip::crypto::EvpHasher h;
    return h;
}

constexpr std::uint16_t kStatus[] = {100, 180, 200, 202, 401, 407, 423, 403,
                                     404, 408, 480, 500, 503, 600, 299, 699};
constexpr const char* kChallenges[] = {
    "Digest realm=\"carrier.example\", nonce=\"abc\", algorithm=MD5, qop=\"auth\"",
    "Digest realm=\"carrier.example\", nonce=\"abc\", algorithm=SHA-256, qop=\"auth,auth-int\"",
    "Digest realm=\"carrier.example\", nonce=\"abc\", stale=true",
    "Digest realm=\"carrier.example\", nonce=\"def\", algorithm=SHA-512-256-sess, qop=\"auth\"",
    "Digest realm=\"carrier.example\", nonce=\"abc\", algorithm=UNKNOWN",
    "Digest realm=\"x\", nonce=\"n\", qop=\"auth-int\"",
    "Basic realm=\"carrier.example\"",
    "Digest realm=\"carrier.example\", nonce=\"abc\", opaque=\"o1\", userhash=true"};
constexpr const char* kMinExpires[] = {"0", "20", "60", "3600", "7200", "7201", "99999", "x"};
constexpr const char* kExpires[] = {"0", "1", "30", "119", "120", "3600", "4294967295", "x"};

sip::Target target(sip::Transport t, std::string host, std::uint16_t port) {
    sip::Target x;
    x.transport = t;
    x.host = std::move(host);
    x.port = port;
    return x;
}

// Replaces the value of the first line starting with `name` in a request text.
std::string with_header(std::string text, std::string_view name, std::string_view value) {
    const std::size_t at = text.find(std::string("\r\n") + std::string(name) + ":");
    if (at == std::string::npos) return text;
    const std::size_t start = at + 2 + name.size() + 1;
    const std::size_t end = text.find("\r\n", start);
    return text.replace(start, end - start, " " + std::string(value));
}

struct Harness {
    Reader& in;
    RegClient& client;
    sip::auth::DigestServer& server;
    sip::Target next_hop;
    std::optional<std::string> call_id;  // the registration's, once known
    std::uint32_t last_cseq = 0;
    std::string last_request;  // text of the last SendRequest
    bool sent_any = false;
    bool done_seen = false;
    bool stopped = false;
    // A 401/407 built only from server challenges was just delivered: its answer must verify.
    std::optional<bool> expect_answer_proxy;

    void drain(Instant now) {
        while (auto a = client.poll()) {
            if (auto* s = std::get_if<route::reg::SendRequest>(&*a)) {
                FUZZ_CHECK(!done_seen);
                FUZZ_CHECK(s->bytes && !s->bytes->empty());
                auto m = sip::Message::parse(*s->bytes);
                FUZZ_CHECK(m.has_value());
                FUZZ_CHECK(m->is_request() && m->method() == sip::Method::Register);
                FUZZ_CHECK(m->cseq().method == sip::Method::Register);
                if (call_id && m->call_id() != *call_id) {
                    // Only the request past CSeq 2^31 - 1 starts a new Call-ID, at CSeq 1.
                    FUZZ_CHECK(last_cseq >= 0x7fffffffu);
                    FUZZ_CHECK(m->cseq().number == 1);
                } else {
                    FUZZ_CHECK(m->cseq().number > last_cseq);
                }
                call_id = std::string(m->call_id());
                FUZZ_CHECK(m->cseq().number < 0x80000000u);  // RFC 3261 §8.1.1.5
                last_cseq = m->cseq().number;
                FUZZ_CHECK(s->target == next_hop);
                FUZZ_CHECK(m->top_via().has_rport && !m->top_via().branch.empty());
                last_request = *s->bytes;
                sent_any = true;
                if (expect_answer_proxy) {
                    const sip::HeaderField* f =
                        m->find(*expect_answer_proxy ? sip::HeaderId::ProxyAuthorization
                                                     : sip::HeaderId::Authorization);
                    // Absent only when the challenge was not answered (a failed clean-up of
                    // an old contact goes on to register the new one without credentials).
                    if (f != nullptr) {
                        auto cr = sip::parse_credentials(m->value(*f));
                        FUZZ_CHECK(cr.has_value());
                        auto lookup =
                            [](const sip::auth::Ha1Query& q) -> std::optional<std::string> {
                            if (q.username != "4420001") return std::nullopt;
                            return sip::auth::ha1(hasher(), q.algorithm, "4420001", q.realm,
                                                  "secret");
                        };
                        FUZZ_CHECK(server.verify(*cr, "REGISTER", lookup, now) ==
                                   sip::auth::Verdict::ok);
                    }
                    expect_answer_proxy.reset();
                }
            } else if (auto* c = std::get_if<route::reg::StateChanged>(&*a)) {
                if (c->state == State::failed) FUZZ_CHECK(!c->reason.empty());
            }
        }
        expect_answer_proxy.reset();
        if (client.done()) done_seen = true;
        FUZZ_CHECK(client.done() == done_seen);  // never undone
        if (client.status().state == State::failed) FUZZ_CHECK(!client.status().reason.empty());
        if (sent_any) {
            const route::reg::Persisted p = client.persisted();
            FUZZ_CHECK(p.call_id == *call_id);
            FUZZ_CHECK(p.cseq == last_cseq);
        }
        if (client.done()) FUZZ_CHECK(!client.next_deadline());
    }

    void respond(std::uint8_t op, Instant now) {
        if (last_request.empty()) return;
        std::string req_text = last_request;
        const std::uint8_t mm = in.byte();
        if (mm & 1) req_text = with_header(req_text, "Call-ID", "other@fuzz");
        if (mm & 2)
            req_text = with_header(req_text, "CSeq", std::to_string(last_cseq - 1) + " REGISTER");
        if (mm & 4)
            req_text = with_header(req_text, "CSeq", std::to_string(last_cseq + 1) + " REGISTER");
        auto req = sip::Message::parse(req_text);
        if (!req) return;

        sip::ResponseSpec spec;
        spec.status = (op & 0x80) ? static_cast<std::uint16_t>(100 + in.byte() % 200 * 3)
                                  : kStatus[in.byte() % std::size(kStatus)];
        spec.to_tag = "r1";
        std::vector<std::string> values;  // owns what spec.extra views
        values.reserve(16);
        bool only_server = false;
        const bool proxy = spec.status == 407;
        const std::uint8_t hk = in.byte();
        if (spec.status == 401 || spec.status == 407) {
            const char* name = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
            switch (hk % 4) {
                case 0:
                case 1:
                    for (std::string& v : server.challenge(now, hk & 0x10))
                        values.push_back(std::move(v));
                    only_server = !values.empty();
                    break;
                case 2:
                    values.emplace_back(kChallenges[in.byte() % std::size(kChallenges)]);
                    break;
                default:
                    values.push_back(in.raw(80));
                    break;
            }
            if (hk & 0x20) {
                values.emplace_back(kChallenges[in.byte() % std::size(kChallenges)]);
                only_server = false;
            }
            for (const std::string& v : values)
                spec.extra.push_back({name, v});
            // Both kinds in one response: only the status's kind is answered.
            if (hk & 0x40) {
                values.emplace_back(kChallenges[in.byte() % std::size(kChallenges)]);
                spec.extra.push_back(
                    {proxy ? "WWW-Authenticate" : "Proxy-Authenticate", values.back()});
            }
        } else if (spec.status == 423) {
            values.emplace_back(hk & 1
                                    ? std::string(kMinExpires[in.byte() % std::size(kMinExpires)])
                                    : std::to_string(in.u32()));
            if ((hk & 2) == 0) spec.extra.push_back({"Min-Expires", values.back()});
        } else if (spec.status >= 200 && spec.status < 300) {
            if (hk & 1) {  // a foreign binding first
                values.push_back("<sip:other@203.0.113.9:5060>;expires=" +
                                 std::string(kExpires[in.byte() % std::size(kExpires)]));
                spec.extra.push_back({"Contact", values.back()});
            }
            if (hk & 2) {  // ours, as the registrar writes it back
                std::string uri = client.contact_uri();
                if (hk & 8) uri = "SIP:4420001@198.51.100.7";  // default port, other case
                values.push_back("<" + uri + ">;expires=" +
                                 std::string(kExpires[in.byte() % std::size(kExpires)]));
                spec.extra.push_back({"Contact", values.back()});
            }
            if (hk & 4) {
                values.emplace_back(kExpires[in.byte() % std::size(kExpires)]);
                spec.extra.push_back({"Expires", values.back()});
            }
            if (hk & 16) {
                values.push_back(in.raw(60));
                spec.extra.push_back({"Contact", values.back()});
            }
        }
        auto resp = sip::Message::parse(sip::build_response(*req, spec));
        if (!resp) return;
        const bool mine = resp->call_id() == *call_id && resp->cseq().number == last_cseq;
        if (only_server && mine && !client.done()) expect_answer_proxy = proxy;
        const bool taken = client.on_response(*resp, now);
        if (taken) FUZZ_CHECK(mine);
        if (!taken) expect_answer_proxy.reset();
    }

    void tick(Instant now) {
        client.handle_timeouts(now);
        drain(now);
        if (auto d = client.next_deadline()) FUZZ_CHECK(*d > now);
        if (stopped && client.stop_deadline() && now >= *client.stop_deadline())
            FUZZ_CHECK(client.done());
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Reader in{data, size};
    const std::uint8_t c0 = in.byte(), c1 = in.byte(), c2 = in.byte(), c3 = in.byte();

    RegClientConfig cfg;
    cfg.registrar =
        target(c1 & 0x40 ? sip::Transport::Tcp : sip::Transport::Udp, "192.0.2.10", 5060);
    cfg.registrar_domain = "carrier.example";
    cfg.aor_user = "4420001";
    cfg.password = "secret";
    cfg.contact_host = "198.51.100.7";
    cfg.contact_port = 5060;
    static constexpr int kExpiresCfg[] = {0, 20, 60, 3600, 7200, 10, 7201, 120};
    if (const int e = kExpiresCfg[c0 % 8]; e != 0) cfg.expires = std::chrono::seconds(e);
    static constexpr int kRetry[] = {30, 60, 600, 29};
    cfg.retry_delay = std::chrono::seconds(kRetry[(c0 >> 3) % 4]);
    static constexpr int kMargin[] = {1, 60, 600, 30};
    cfg.refresh_margin = std::chrono::seconds(kMargin[(c0 >> 5) % 4]);
    static constexpr int kWait[] = {1, 5, 300, 5};
    cfg.unregister_wait = std::chrono::seconds(kWait[c1 % 4]);
    if (c1 & 4) cfg.outbound_proxy = target(sip::Transport::Tcp, "192.0.2.20", 5070);
    cfg.send_unregister = c1 & 8;
    cfg.privacy = static_cast<route::reg::Privacy>((c1 >> 4) % 3);
    if (c1 & 0x80) cfg.user_agent = "fz/1";

    std::optional<route::reg::Persisted> previous;
    switch (c2 % 4) {
        case 1:
            previous = route::reg::Persisted{"old@fuzz", c2 & 0x80 ? 2147483645u : 7u,
                                             "sip:4420001@198.51.100.7:5060", std::nullopt};
            break;
        case 2:
            previous =
                route::reg::Persisted{"old@fuzz", 7u, "sip:4420001@10.0.0.1:5060", std::nullopt};
            break;
        case 3:
            previous = route::reg::Persisted{"old@fuzz", 0u, "", std::nullopt};
            break;
        default:
            break;
    }

    sip::SeededRandom rng(c3);
    sip::SeededRandom server_rng(c3 ^ 0x5a);
    sip::auth::DigestServerConfig scfg;
    scfg.realm = "carrier.example";
    scfg.secret = std::string(32, 'k');
    if (c2 & 4)
        scfg.algorithms = {sip::auth::Algorithm::SHA512_256_sess, sip::auth::Algorithm::MD5};
    if (c2 & 8) scfg.opaque = "op1";
    scfg.require_qop = !(c2 & 16);
    sip::auth::DigestServer server(scfg, hasher(), server_rng);

    RegClient client(cfg, hasher(), rng);
    const sip::Target hop = cfg.outbound_proxy ? *cfg.outbound_proxy : cfg.registrar;
    Harness h{in, client, server, hop, {}, 0, {}, false, false, false, {}};
    if (previous && !previous->call_id.empty()) {
        h.call_id = previous->call_id;
        h.last_cseq = previous->cseq;
    }

    Instant now = sip::Instant{} + 100'000s;
    // sip::Instant is int64 nanoseconds from a process's start: time stops advancing past
    // 100 years, beyond any process's life, so sums with the client's durations stay in range.
    const Instant kEndOfTime = sip::Instant{} + std::chrono::hours(24 * 365 * 100);
    client.start(now, previous);
    h.drain(now);

    for (int steps = 0; !in.done() && steps < 300; ++steps) {
        const std::uint8_t op = in.byte();
        switch (op % 8) {
            case 0:
            case 1:
            case 2:
                h.respond(op, now);
                h.drain(now);
                break;
            case 3:
                client.on_timeout(now);
                h.drain(now);
                break;
            case 4:
                client.on_transport_error(now);
                h.drain(now);
                break;
            case 5: {  // time passes
                const std::uint8_t k = in.byte();
                sip::Duration d;
                if (k < 100)
                    d = std::chrono::milliseconds(k * 37);
                else if (k < 240)
                    d = std::chrono::seconds(k - 99);
                else
                    d = std::chrono::seconds(in.u32() % 100'000);
                if (now + d < kEndOfTime) now += d;
                h.tick(now);
                break;
            }
            case 6:  // to the next deadline exactly
                if (auto d = client.next_deadline(); d && *d > now && *d < kEndOfTime) now = *d;
                h.tick(now);
                break;
            default:
                if (op & 0x80) {
                    client.start(now, previous);  // ignored unless idle
                } else {
                    h.stopped = true;
                    client.stop(now);
                    if (!client.done()) FUZZ_CHECK(client.stop_deadline().has_value());
                }
                h.drain(now);
                break;
        }
    }

    // Shutdown: done no later than stop_deadline(), whatever happens on the wire.
    h.stopped = true;
    client.stop(now);
    h.drain(now);
    if (!client.done()) {
        FUZZ_CHECK(client.stop_deadline().has_value());
        FUZZ_CHECK(*client.stop_deadline() > now);
        for (int guard = 0; guard < 1000 && !client.done(); ++guard) {
            auto d = client.next_deadline();
            FUZZ_CHECK(d.has_value());
            FUZZ_CHECK(*d <= *client.stop_deadline());
            now = *d;
            h.tick(now);
        }
        FUZZ_CHECK(client.done());
    }
    FUZZ_CHECK(!client.next_deadline());
    return 0;
}

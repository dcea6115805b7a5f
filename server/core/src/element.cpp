#include "sw/element.hpp"

#include <fmt/format.h>

#include <deque>
#include <map>
#include <unordered_map>
#include <string>

#include "route/reg/registrar.hpp"
#include "sip/builder.hpp"
#include "sip/txn/large_responses.hpp"

namespace sw {
namespace {

using namespace std::chrono_literals;
using sip::txn::TxnId;

std::string reason_for(const sip::Error& e) {
    std::string r(e.what());
    if (e.header != sip::HeaderId::None && e.header != sip::HeaderId::Other) {
        r += " in ";
        r += sip::header_name(e.header);
    }
    return r;
}

std::string who(const sip::Target& t) {
    return fmt::format("{} {}:{}", sip::transport_name(t.transport), t.host, t.port);
}

// A pending 2xx to INVITE the UAS keeps sending until the ACK (RFC 3261 §13.3.1.4).
struct PendingOk {
    sip::Target to;
    sip::Bytes bytes;
    sip::Duration interval;
    sip::Instant next;
    sip::Instant give_up;
};

}  // namespace

// §8.2.7: a stateless UAS gives the same request the same To tag: 50 bits of a hash of what
// identifies the request (top Via branch, Call-ID, From tag, CSeq).
std::string stateless_tag(const sip::Message& m) {
    sip::Fnv1a f;
    f.bytes(m.top_via().branch);
    f.bytes(m.call_id());
    f.bytes(m.from().tag);
    f.number(m.cseq().number);
    return sip::stable_token(f.value());
}

bool answered_statelessly(const sip::Message& m) {
    return m.is_request() && m.method() == sip::Method::Options &&
           (m.ruri().is_sip() || m.ruri().scheme == sip::Uri::Scheme::Tel);
}

sip::Bytes options_answer(const sip::Message& request, std::string_view server_header,
                          std::string_view allow) {
    sip::ResponseSpec spec;
    const std::string tag = stateless_tag(request);
    spec.to_tag = tag;
    spec.extra = {{"Server", server_header},
                  {"Allow", allow},
                  {"Accept", "application/sdp"},
                  {"Supported", ""}};
    return sip::make_bytes(sip::build_response(request, spec));
}

struct Element::Impl {
    ElementConfig cfg;
    bool lines_wanted = true;  // set_message_lines: the wiring's level would write them
    bool log_lines() const noexcept { return cfg.log_messages && lines_wanted; }
    sip::Random& rng;
    sip::txn::Layer layer;
    std::deque<sip::txn::SendBytes> out;
    sip::txn::LargeResponses large;  // §18.2.2: too large for UDP -> TCP to the sent-by, or 513
    std::deque<std::string> logs;
    ElementStats stats;
    std::map<std::string, PendingOk> pending_ok;  // Call-ID + '\n' + To tag
    route::reg::Registrar* registrar = nullptr;
    // ours, until their outcome is reported -> whether their 1xx are reported too
    std::unordered_map<TxnId, bool> client_txns;
    std::deque<ClientEvent> client_events;
    std::deque<CallInput> call_inputs;

    Impl(ElementConfig c, sip::Random& r) : cfg(std::move(c)), rng(r), layer(cfg.txn, r) {}

    std::string_view allow() const {
        if (cfg.calls)
            return registrar ? "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, REGISTER"
                             : "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO";
        if (cfg.echo_uas)
            return registrar ? "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER"
                             : "INVITE, ACK, BYE, CANCEL, OPTIONS";
        return registrar ? "OPTIONS, REGISTER" : "OPTIONS";
    }

    // Adds Server first to the caller's spec (no copy of it: an answer per request).
    void respond(TxnId txn, const sip::Message& req, sip::ResponseSpec& spec, sip::Instant now) {
        spec.extra.insert(spec.extra.begin(), {"Server", cfg.server_header});
        layer.respond(txn, sip::make_bytes(sip::build_response(req, spec)), now);
    }

    void log_request(const sip::Message& m, const sip::Target& src, std::uint16_t code) {
        if (log_lines())
            logs.push_back(fmt::format("{} {} call-id={} cseq={} -> {} {}", who(src),
                                       m.method_name(), m.call_id(), m.cseq().number, code,
                                       sip::default_reason(code)));
    }

    // --- inbound bytes

    void on_bytes(std::string_view bytes, const sip::Target& source, sip::Instant now) {
        const auto framing =
            sip::reliable(source.transport) ? sip::Framing::Stream : sip::Framing::Datagram;
        auto parsed = sip::Message::parse(bytes, cfg.limits, framing);
        if (!parsed) {
            reject(bytes, parsed.error(), source);
            return;
        }
        on_parsed(std::move(*parsed), source, now);
    }

    void on_parsed(sip::Message m, const sip::Target& source, sip::Instant now) {
        if (m.is_request()) {
            ++stats.requests;
            stats.received.request(m.method());
            // RFC 3581 §4 / RFC 3261 §18.2.1: every response built from it (here, in the
            // transaction layer, the registrar, the calls) stamps the top Via with the source
            m.note_source(source.host, source.port);
            if (answered_statelessly(m)) {  // no transaction to make, match or end
                out.push_back({0, sip::txn::response_target(m, source),
                               options_answer(m, cfg.server_header, allow())});
                log_request(m, source, 200);
                return;
            }
        } else {
            ++stats.responses;
            stats.received.response(m.status_code());
        }
        layer.on_message(std::move(m), source, now);
        drain(now);
    }

    // DESIGN.md §4: a 400 naming the fault when the top Via and CSeq allow a reply.
    void reject(std::string_view bytes, const sip::Error& e, const sip::Target& source) {
        sip::Salvage s = sip::salvage(bytes);
        if (!s.usable()) {
            ++stats.malformed_dropped;
            if (log_lines())
                logs.push_back(
                    fmt::format("{} dropped: offset {}: {}", who(source), e.offset, reason_for(e)));
            return;
        }
        const std::uint16_t code = e.code == sip::Errc::unsupported_version ? 505 : 400;
        const std::string reason =
            code == 505 ? std::string("Version Not Supported") : reason_for(e);
        sip::ResponseSpec spec;
        spec.status = code;
        spec.reason = reason;
        spec.extra = {{"Server", cfg.server_header}};
        const sip::ViaStamp stamp = sip::via_stamp(s.top_via, source.host, source.port);
        spec.via_received = stamp.received;
        spec.via_rport = stamp.rport;
        std::string tag = sip::make_token(rng, 10);
        spec.to_tag = tag;
        sip::Target to = source;
        if (!sip::reliable(source.transport) && !s.top_via.has_rport) {
            to.port = s.top_via.has_port ? s.top_via.port : 5060;  // §18.2.2
        }
        out.push_back({0, to, sip::make_bytes(sip::build_response(s, spec))});
        ++stats.malformed_answered;
        if (log_lines())
            logs.push_back(fmt::format("{} {} call-id={} -> {} {} (offset {})", who(source),
                                       s.method, s.call_id, code, reason, e.offset));
    }

    // --- transaction-layer actions

    void drain(sip::Instant now) {
        while (auto a = layer.poll()) {
            if (auto* s = std::get_if<sip::txn::SendBytes>(&*a)) {
                out.push_back(std::move(*s));
            } else if (auto* r = std::get_if<sip::txn::RequestIn>(&*a)) {
                on_request(r->txn, r->msg, r->source, now);
            } else if (auto* c = std::get_if<sip::txn::CancelIn>(&*a)) {
                on_cancel(*c, now);
            } else if (auto* k = std::get_if<sip::txn::AckIn>(&*a)) {
                if (cfg.calls) {
                    ++stats.acks;
                    call_inputs.push_back(CallAck{std::move(k->msg), k->source});
                } else {
                    on_ack(k->msg, k->source);
                }
            } else if (auto* r = std::get_if<sip::txn::ResponseIn>(&*a)) {
                on_response(*r);
            } else if (auto* r = std::get_if<sip::txn::StrayResponse>(&*a)) {
                if (cfg.calls && r->msg.status_code() >= 200 && r->msg.status_code() < 300 &&
                    r->msg.cseq().method == sip::Method::Invite) {
                    call_inputs.push_back(CallStray{std::move(r->msg), r->source});
                    continue;
                }
                if (log_lines())
                    logs.push_back(fmt::format(
                        "{} response {} {} call-id={} matches no transaction", who(r->source),
                        r->msg.status_code(), r->msg.reason(), r->msg.call_id()));
            } else if (auto* t = std::get_if<sip::txn::TxnTimeout>(&*a)) {
                if (log_lines())
                    logs.push_back(fmt::format("transaction {}: Timer {} fired", t->txn, t->timer));
                if (client_txns.erase(t->txn)) {
                    ++stats.client_failures;
                    client_events.push_back(
                        {t->txn, ClientEvent::Kind::Timeout, std::nullopt, t->timer});
                }
            } else if (auto* e = std::get_if<sip::txn::TransportError>(&*a)) {
                if (log_lines())
                    logs.push_back(fmt::format("transaction {}: transport error", e->txn));
                if (client_txns.erase(e->txn)) {
                    ++stats.client_failures;
                    client_events.push_back(
                        {e->txn, ClientEvent::Kind::TransportError, std::nullopt});
                }
            } else if (auto* t = std::get_if<sip::txn::Terminated>(&*a)) {
                client_txns.erase(t->txn);
            }
        }
    }

    void on_response(sip::txn::ResponseIn& r) {
        const std::uint16_t code = r.msg.status_code();
        if (log_lines())
            logs.push_back(fmt::format("response {} for transaction {}", code, r.txn));
        auto it = client_txns.find(r.txn);
        if (it == client_txns.end()) return;
        if (code < 200) {
            if (it->second)
                client_events.push_back({r.txn, ClientEvent::Kind::Provisional, std::move(r.msg)});
            return;
        }
        ++stats.client_finals;
        // a B2BUA keeps hearing 2xx retransmissions of an accepted INVITE (it must ACK each):
        // the transaction stays reported until the layer ends it
        if (!(code < 300 && it->second)) client_txns.erase(it);
        client_events.push_back({r.txn, ClientEvent::Kind::Response, std::move(r.msg)});
    }

    // ElementConfig::calls: what the B2BUA answers. INVITE always; other requests when they
    // carry a To tag (in a dialog), except OPTIONS and REGISTER, which the element answers.
    bool for_calls(const sip::Message& m) const {
        if (!cfg.calls) return false;
        if (m.method() == sip::Method::Invite) return true;
        if (m.method() == sip::Method::Register || m.method() == sip::Method::Options)
            return false;
        return m.method() == sip::Method::Bye || !m.to().tag.empty();
    }

    void on_request(TxnId txn, sip::Message& m, const sip::Target& src, sip::Instant now) {
        const bool uri_ok = m.ruri().is_sip() || m.ruri().scheme == sip::Uri::Scheme::Tel;
        if (uri_ok && for_calls(m)) {
            call_inputs.push_back(CallRequest{txn, std::move(m), src});
            return;
        }
        if (uri_ok && m.method() == sip::Method::Register) {
            on_register(txn, m, src, now);
            return;
        }
        if (uri_ok && cfg.echo_uas && m.method() == sip::Method::Invite) {
            answer_invite(txn, m, src, now, sip::make_token(rng, 10));
            return;
        }
        // The rest (416, 405, 501: OPTIONS was answered before the layer, on_parsed) is
        // answered as a stateless UAS would (RFC 3261 §8.2.7), as Kamailio's
        // sl_send_reply does: nothing kept for Timer J (a keep-alive flood filled the layer
        // with 32-s responses), and a retransmission gets the same bytes again (the To tag
        // is a hash of the request). respond_stateless keeps an INVITE's transaction for its
        // ACK (§17.2.1); the echo UAS's BYE stays stateful so a retransmission ends no call.
        sip::ResponseSpec spec;
        const bool echo_bye = cfg.echo_uas && m.method() == sip::Method::Bye;
        const std::string tag = echo_bye ? sip::make_token(rng, 10) : stateless_tag(m);
        spec.to_tag = tag;
        const std::string_view allow_list = allow();
        spec.extra.reserve(2);  // Server goes first below: one allocation, not two
        if (!uri_ok) {
            spec.status = 416;  // RFC 3261 §8.2.2.1
        } else if (echo_bye) {
            ++stats.calls_ended;
        } else {
            spec.status = m.method() == sip::Method::Unknown ? 501 : 405;  // §8.2.1
            spec.extra = {{"Allow", allow_list}};
        }
        spec.extra.insert(spec.extra.begin(), {"Server", cfg.server_header});
        sip::Bytes answer = sip::make_bytes(sip::build_response(m, spec));
        if (echo_bye)
            layer.respond(txn, std::move(answer), now);
        else
            layer.respond_stateless(txn, std::move(answer), now);
        log_request(m, src, spec.status);
        drain(now);
    }

    void answer_invite(TxnId txn, const sip::Message& m, const sip::Target& src, sip::Instant now,
                       const std::string& tag) {
        sip::ResponseSpec ringing;
        ringing.status = 180;
        ringing.to_tag = tag;
        respond(txn, m, ringing, now);
        const std::string contact =
            fmt::format("<sip:uas@{}:{};transport={}>", cfg.contact_host, cfg.contact_port,
                        sip::transport_name(src.transport));
        const std::string sdp = fmt::format(
            "v=0\r\no=trunkline 1 1 IN IP4 {0}\r\ns=-\r\nc=IN IP4 {0}\r\nt=0 0\r\n"
            "m=audio 10000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
            cfg.contact_host);
        const std::string_view allow_list = allow();
        sip::ResponseSpec ok;
        ok.status = 200;
        ok.to_tag = tag;
        ok.extra = {{"Server", cfg.server_header}, {"Contact", contact}, {"Allow", allow_list}};
        ok.content_type = "application/sdp";
        ok.body = sdp;
        sip::Bytes bytes = sip::make_bytes(sip::build_response(m, ok));
        layer.respond(txn, bytes, now);
        ++stats.calls_answered;
        log_request(m, src, 200);
        if (!sip::reliable(src.transport)) {
            // §13.3.1.4: T1, doubling to T2, until the ACK or 64*T1
            const auto& t = cfg.txn.timers;
            pending_ok[std::string(m.call_id()) + '\n' + tag] = PendingOk{
                sip::txn::response_target(m, src), bytes, t.t1, now + t.t1, now + 64 * t.t1};
        }
        drain(now);
    }

    void on_register(TxnId txn, const sip::Message& m, const sip::Target& src, sip::Instant now) {
        ++stats.registers;
        if (!registrar) {
            sip::ResponseSpec spec;
            const std::string tag = sip::make_token(rng, 10);
            const std::string_view allow_list = allow();
            spec.status = 405;
            spec.to_tag = tag;
            spec.extra = {{"Allow", allow_list}};
            respond(txn, m, spec, now);
            log_request(m, src, 405);
            drain(now);
            return;
        }
        route::reg::Decision d = registrar->handle(m, src, now);
        if (d.action == route::reg::Decision::Action::Drop) {
            // a suspended user/IP with suspend_drop: no answer; the unanswered server
            // transaction absorbs the retransmissions and ends at 64*T1 by itself
            ++stats.registers_dropped;
            if (log_lines())
                logs.push_back(fmt::format("{} REGISTER call-id={} cseq={} dropped (suspended)",
                                           who(src), m.call_id(), m.cseq().number));
            return;
        }
        d.headers.insert(d.headers.begin(), {"Server", cfg.server_header});
        // A challenge, and a 200 whose retransmission the registrar recognises, are answered
        // as a stateless UAS would (RFC 3261 §8.2.7): nothing kept for Timer J (what a
        // REGISTER flood made the layer hold), a retransmission gets a fresh challenge or the
        // same 200, and the To tag is the same for the same request.
        const bool stateless = d.stateless || d.status == 401 || d.status == 407;
        const std::string tag = stateless ? stateless_tag(m) : sip::make_token(rng, 10);
        route::reg::RenderOptions ro;
        ro.to_tag = tag;
        ro.via_received = m.via_stamp().received;  // RFC 3581 §4 (noted in on_bytes)
        ro.via_rport = m.via_stamp().rport;
        if (cfg.unix_offset_s)
            ro.unix_time =
                *cfg.unix_offset_s +
                std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
        sip::Bytes answer = sip::make_bytes(route::reg::render(m, d, ro));
        if (stateless)
            layer.respond_stateless(txn, std::move(answer), now);
        else
            layer.respond(txn, std::move(answer), now);
        if (log_lines())
            logs.push_back(fmt::format(
                "{} REGISTER {} call-id={} cseq={} -> {} {}", who(src), d.aor, m.call_id(),
                m.cseq().number, d.status,
                d.reason.empty() ? sip::default_reason(d.status) : std::string_view(d.reason)));
        drain(now);
    }

    void on_cancel(sip::txn::CancelIn& c, sip::Instant now) {
        sip::ResponseSpec spec;
        const std::string tag = sip::make_token(rng, 10);  // the spec holds a view of it
        spec.to_tag = tag;
        // §9.2: 481 when no INVITE matches; else 200, and the INVITE ends with 487
        spec.status = c.invite_txn ? 200 : 481;
        respond(c.cancel_txn, c.msg, spec, now);
        log_request(c.msg, c.source, spec.status);
        if (cfg.calls && c.invite_txn) {
            call_inputs.push_back(CallCancel{c.invite_txn, std::move(c.msg), c.source});
            drain(now);
            return;
        }
        drain(now);
    }

    void on_ack(const sip::Message& m, const sip::Target& src) {
        ++stats.acks;
        pending_ok.erase(std::string(m.call_id()) + '\n' + std::string(m.to().tag));
        if (log_lines())
            logs.push_back(fmt::format("{} ACK call-id={} cseq={} absorbed", who(src), m.call_id(),
                                       m.cseq().number));
    }

    std::optional<sip::Instant> next_deadline() const {
        std::optional<sip::Instant> d = layer.next_deadline();
        for (const auto& [k, p] : pending_ok)
            if (!d || p.next < *d) d = p.next;
        return d;
    }

    void handle_timeouts(sip::Instant now) {
        layer.handle_timeouts(now);
        drain(now);
        for (auto it = pending_ok.begin(); it != pending_ok.end();) {
            PendingOk& p = it->second;
            if (p.next > now) {
                ++it;
                continue;
            }
            if (p.next >= p.give_up) {
                // §13.3.1.4: no ACK within 64*T1: the UAS ends the dialog (would send BYE)
                if (log_lines()) logs.push_back("2xx to INVITE never acknowledged; giving up");
                it = pending_ok.erase(it);
                continue;
            }
            out.push_back({0, p.to, p.bytes});
            ++stats.ok_retransmits;
            p.interval = std::min(2 * p.interval, cfg.txn.timers.t2);
            p.next += p.interval;
            ++it;
        }
    }
};

Element::Element(ElementConfig cfg, sip::Random& rng)
    : impl_(std::make_unique<Impl>(std::move(cfg), rng)) {}
Element::~Element() = default;

void Element::on_bytes(std::string_view bytes, const sip::Target& source, sip::Instant now) {
    impl_->on_bytes(bytes, source, now);
}
void Element::on_received(Received r, sip::Instant now) {
    if (r.msg) impl_->on_parsed(std::move(*r.msg), r.source, now);
    else impl_->on_bytes(r.raw, r.source, now);
}
void Element::count_answered_elsewhere(const AnsweredElsewhere& a) noexcept {
    ElementStats& s = impl_->stats;
    s.requests += a.options;
    s.received.requests[static_cast<std::size_t>(sip::Method::Options)] += a.options;
    s.sent.responses[2] += a.options;
    s.answered_by_readers += a.options;
}
std::string_view Element::allow() const noexcept {
    return impl_->allow();
}
void Element::set_registrar(route::reg::Registrar* registrar) noexcept {
    impl_->registrar = registrar;
}

void Element::set_message_lines(bool wanted) noexcept { impl_->lines_wanted = wanted; }

sip::Result<TxnId> Element::send_request(std::string_view request, const sip::Target& to,
                                         sip::Instant now, const SendOptions& options) {
    auto id = impl_->layer.send_request(request, to, now, options.txn);
    if (id) {
        impl_->client_txns.emplace(*id, options.provisionals);
        ++impl_->stats.client_requests;
    }
    impl_->drain(now);
    return id;
}
sip::Result<TxnId> Element::send_request(const BuiltRequest& request, const sip::Target& to,
                                         sip::Instant now, const SendOptions& options) {
    auto id = impl_->layer.send_request(request.bytes, request.branch, to, now, options.txn);
    if (id) {
        impl_->client_txns.emplace(*id, options.provisionals);
        ++impl_->stats.client_requests;
    }
    impl_->drain(now);
    return id;
}
void Element::send_raw(std::string_view bytes, const sip::Target& to) {
    impl_->out.push_back({0, to, sip::make_bytes(std::string(bytes))});
}
void Element::send_raw(sip::Bytes bytes, const sip::Target& to) {
    impl_->out.push_back({0, to, std::move(bytes)});
}
void Element::respond(TxnId txn, sip::Bytes response, sip::Instant now) {
    impl_->layer.respond(txn, std::move(response), now);
    impl_->drain(now);
}
std::optional<CallInput> Element::poll_call_input() {
    std::optional<CallInput> c;
    if (impl_->call_inputs.empty()) return c;
    c.emplace(std::move(impl_->call_inputs.front()));
    impl_->call_inputs.pop_front();
    return c;
}
std::optional<ClientEvent> Element::poll_client_event() {
    std::optional<ClientEvent> e;
    if (impl_->client_events.empty()) return e;
    e.emplace(std::move(impl_->client_events.front()));
    impl_->client_events.pop_front();
    return e;
}
void Element::on_transport_error(TxnId txn, sip::Instant now) {
    if (sip::txn::LargeResponses::owns(txn)) {  // a large response's TCP attempt failed
        if (auto s = impl_->large.on_send_failed(txn)) impl_->out.push_back(std::move(*s));
        return;
    }
    if (txn == 0) return;
    impl_->layer.on_transport_error(txn, now);
    impl_->drain(now);
}
std::optional<sip::Instant> Element::next_deadline() const {
    return impl_->next_deadline();
}
void Element::handle_timeouts(sip::Instant now) {
    impl_->handle_timeouts(now);
}

void SipTally::outgoing(std::string_view bytes) noexcept {
    constexpr std::string_view kVersion = "SIP/2.0 ";
    if (bytes.substr(0, kVersion.size()) == kVersion) {
        const char d = bytes.size() > kVersion.size() ? bytes[kVersion.size()] : '0';
        ++responses[d >= '1' && d <= '6' ? static_cast<std::size_t>(d - '0') : 0];
        return;
    }
    request(sip::method_from(bytes.substr(0, bytes.find(' '))));
}

std::optional<sip::txn::SendBytes> Element::poll_send() {
    if (impl_->out.empty()) return std::nullopt;
    sip::txn::SendBytes s = impl_->large.route(std::move(impl_->out.front()));
    impl_->out.pop_front();
    if (s.bytes) impl_->stats.sent.outgoing(*s.bytes);
    return s;
}
std::optional<std::string> Element::poll_log() {
    if (impl_->logs.empty()) return impl_->large.poll_log();
    std::string s = std::move(impl_->logs.front());
    impl_->logs.pop_front();
    return s;
}
const ElementStats& Element::stats() const noexcept {
    return impl_->stats;
}
const sip::txn::Stats& Element::txn_stats() const noexcept {
    return impl_->layer.stats();
}

}  // namespace sw

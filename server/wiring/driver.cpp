#include "wiring/driver.hpp"

#include <fmt/format.h>

#include <chrono>

#include "wiring/log.hpp"

namespace wiring {

Driver::Driver(sip::uv::Loop& loop, sw::Switch& sw, Shutdown& shutdown, Sinks sinks)
    : loop_(loop),
      sw_(sw),
      shutdown_(shutdown),
      sinks_(sinks),
      deadline_(loop, [this] { on_deadline(); }),
      after_io_(loop, [this] { flush(); }) {
    sw_.element().set_message_lines(log_settings().level == LogLevel::debug);
}

Driver::~Driver() = default;

std::string Driver::start(const sip::uv::TransportsConfig& cfg) {
    return start(cfg, UdpReaders{});
}

std::string Driver::start(const sip::uv::TransportsConfig& cfg_in, UdpReaders readers) {
    sip::uv::TransportsConfig cfg = cfg_in;
    if (readers.count > 0) cfg.udp_share = sip::uv::UdpPortShare::lead;
    for (const sip::uv::Listener& l : cfg.listen) {
        Local x{l.transport, {}, 0};
        if (sip::uv::split_host_port(l.address, x.host, x.port)) local_.push_back(std::move(x));
    }
    if (!sinks_.hep.collector.empty()) {
        hep_ = std::make_unique<HepSender>(loop_, sinks_.hep, cfg.listen);
        if (std::string err = hep_->start(); !err.empty()) return err;
    }
    transports_ = std::make_unique<sip::uv::Transports>(
        loop_, cfg,
        sip::uv::TransportHandlers{
            .on_message = [this](const sip::Target& src,
                                 std::string_view bytes) { on_message(src, bytes); },
            .on_send_failed = [this](std::uint64_t txn, const sip::Target& to,
                                     std::string_view why) { on_send_failed(txn, to, why); },
            .on_event =
                [this](std::string_view line) {
                    if (sw_.admit_log(sw::LogKind::transport, loop_.now())) log_line(line);
                },
        });
    if (std::string err = transports_->start(); !err.empty()) return err;
    return readers.count > 0 ? start_readers(cfg, std::move(readers)) : std::string();
}

// Each reader binds the UDP listeners' ports as bound here (port 0 becomes the real one).
std::string Driver::start_readers(const sip::uv::TransportsConfig& cfg, UdpReaders readers) {
    log_messages_ = readers.log_messages;
    sip::uv::TransportsConfig udp{.udp_share = sip::uv::UdpPortShare::join};
    for (std::size_t i = 0; i < cfg.listen.size(); ++i) {
        const sip::uv::Listener& l = cfg.listen[i];
        std::string host;
        std::uint16_t port = 0;
        if (l.transport != sip::Transport::Udp || !sip::uv::split_host_port(l.address, host, port))
            continue;
        const std::uint16_t bound = transports_->local_port(i);
        if (bound) port = bound;
        udp.listen.push_back({sip::Transport::Udp, host.find(':') != std::string::npos
                                                       ? fmt::format("[{}]:{}", host, port)
                                                       : fmt::format("{}:{}", host, port)});
    }
    if (udp.listen.empty()) return {};
    handed_over_ = std::make_unique<sip::uv::Wakeup>(loop_, [this] { on_handed_over(); });
    readers.front.allow = std::string(sw_.element().allow());
    readers.front.answer_options = readers_may_answer();
    for (std::uint32_t n = 0; n < readers.count; ++n) {
        readers_.push_back(std::make_unique<UdpReader>(udp, readers.front, inbox_,
                                                       [this] { handed_over_->notify(); }));
        if (std::string err = readers_.back()->start(); !err.empty()) return err;
    }
    return {};
}

// What the readers handed over, in their order (one sender's messages come from one reader).
void Driver::on_handed_over() {
    UdpReader::Inbox::Batch b = inbox_.take();
    sw_.element().count_answered_elsewhere(b.answered);
    reader_counts_.messages_in += b.received.size() + b.answered.options;
    reader_counts_.messages_out += b.answered.options;
    if (shutdown_.finished()) return;
    for (sw::Received& r : b.received) {
        const sip::Target source = r.source;
        const std::string_view bytes = r.msg ? r.msg->bytes() : std::string_view(r.raw);
        if (hep_) hep_->received(source, bytes);
        if (!sw_.traces().any_active()) {
            sw_.on_received(std::move(r), loop_.now());
            continue;
        }
        const std::string copy(bytes);  // the message moves into the switch
        sw_.on_received(std::move(r), loop_.now());
        trace(source, copy, true);
    }
    after_io_.request();
}

// Whatever must see every message (HEP capture, a trace, per-message debug lines) sees it
// only on this loop.
bool Driver::readers_may_answer() const {
    return !hep_ && !sw_.traces().any_active() &&
           !(log_messages_ && log_settings().level == LogLevel::debug);
}

void Driver::on_message(const sip::Target& source, std::string_view bytes) {
    if (shutdown_.finished()) return;
    if (hep_) hep_->received(source, bytes);
    sw_.on_bytes(bytes, source, loop_.now());
    // after the switch read it, so a trace's matching finds the call it started
    if (sw_.traces().any_active()) trace(source, bytes, true);
    // Not flushed here: a recvmmsg batch (or a TCP read) brings several messages, and the
    // switch has answered each already; sending, the store, the logs and re-arming the
    // deadline are done once for all of them, before the loop blocks again.
    after_io_.request();
}

void Driver::on_send_failed(std::uint64_t txn, const sip::Target& to, std::string_view why) {
    log_line(fmt::format("send to {}:{} failed: {}", to.host, to.port, why));
    sw_.on_transport_error(txn, loop_.now());
    flush();
}

void Driver::on_deadline() {
    sw_.handle_timeouts(loop_.now());
    flush();
}

void Driver::flush() {
    // per-message lines are debug lines: made only while they would be written (SIGHUP may
    // change the level)
    sw_.element().set_message_lines(log_settings().level == LogLevel::debug);
    if (!readers_.empty()) {
        const bool may_answer = readers_may_answer();
        for (auto& r : readers_) r->set_answer_options(may_answer);
    }
    sw_.pump(loop_.now());
    while (auto s = sw_.poll_send()) {
        if (hep_) hep_->sent(s->to, *s->bytes);
        if (sw_.traces().any_active()) trace(s->to, *s->bytes, false);
        transports_->send(s->to, s->bytes, s->txn);
    }
    drain_cdrs();
    drain_store_and_logs();
    if (shutdown_.stopping() && !shutdown_.finished()) {
        shutdown_.maybe_finish(sw_.registrations().stopped(), sw_.calls().active());
        if (shutdown_.finished()) return;
    }
    if (std::optional<sip::Instant> d = sw_.next_deadline())
        deadline_.arm(*d);
    else
        deadline_.cancel();
}

void Driver::drain_cdrs() {
    while (auto c = sw_.poll_cdr()) {
        if (!c->rating_error.empty())
            log_line(
                fmt::format("cdr: call {} unrated: {}", c->cdr.call.call_id_in, c->rating_error));
        if (sinks_.log_cdrs)
            log_event(LogLevel::info, "cdr",
                      fmt::format("cdr: call-id={} {} -> {} code={} tried={} charge={}", c->cdr.call.call_id_in,
                                  c->cdr.call.caller, c->cdr.call.callee, c->cdr.call.sip_code, c->gateways_tried,
                                  c->cdr.charge.to_string()),
                      {{"customer", c->cdr.call.customer_gateway}, {"gateway", c->cdr.call.vendor_gateway}});
        sinks_.cdrs.push(c->seq, std::move(c->cdr));
    }
}

void Driver::drain_store_and_logs() {
    while (auto op = sw_.poll_store())
        sinks_.store.apply(*op);
    while (auto l = sw_.poll_log_entry())  // per-message lines are debug: none at the default level
        log_event(l->kind == sw::LogKind::message ? LogLevel::debug : LogLevel::info, event_of(l->text), l->text,
                  l->fields);
}

// An on-demand trace (sw::trace): our side is the first listener of the transport and family
// (as for HEP); the stamp is wall-clock time, as pcap readers expect.
void Driver::trace(const sip::Target& peer, std::string_view bytes, bool inbound) {
    const bool v6 = peer.host.find(':') != std::string::npos;
    std::string_view host = v6 ? "::" : "0.0.0.0";
    std::uint16_t port = 0;
    for (const Local& l : local_)
        if (l.transport == peer.transport && (l.host.find(':') != std::string::npos) == v6) {
            host = l.host;
            port = l.port;
            break;
        }
    const std::int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
    sw::trace::Packet p{.dir = inbound ? sw::trace::Direction::in : sw::trace::Direction::out,
                        .transport = peer.transport,
                        .src_ip = inbound ? std::string_view(peer.host) : host,
                        .src_port = inbound ? peer.port : port,
                        .dst_ip = inbound ? host : std::string_view(peer.host),
                        .dst_port = inbound ? port : peer.port,
                        .wall_us = us,
                        .bytes = bytes};
    sw_.traces().observe(p, loop_.now(), [this](std::string_view call_id) {
        return sw_.trace_facts(call_id);
    });
}

const sip::uv::TransportCounters& Driver::transport_counters() const {
    return transports_->counters();
}

const HepCounters* Driver::hep_counters() const {
    return hep_ ? &hep_->counters() : nullptr;
}

void Driver::close(std::function<void()> done) {
    deadline_.cancel();
    for (auto& r : readers_) r->stop();  // joins: nothing is handed over after this
    readers_.clear();
    handed_over_.reset();
    if (hep_) hep_->close();  // logs its counters
    transports_->shutdown(std::move(done));
}

}  // namespace wiring

#include "wiring/hep.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "sw/hep.hpp"
#include "wiring/log.hpp"

namespace wiring {
namespace {

using namespace std::chrono_literals;
constexpr sip::Duration kFirstBackoff = 1s, kMaxBackoff = 30s;

// The collector's address as an IP literal (a name is looked up once, here, at startup).
std::string resolve(const std::string& host, std::string* error) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res); rc != 0 || !res) {
        *error = fmt::format("capture.hep: cannot resolve '{}': {}", host, ::gai_strerror(rc));
        return {};
    }
    char buf[INET6_ADDRSTRLEN] = {};
    const void* a =
        res->ai_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr);
    ::inet_ntop(res->ai_family, a, buf, sizeof(buf));
    ::freeaddrinfo(res);
    return buf;
}

// A non-blocking UDP socket connected to the collector: send() then never waits, and an
// unreachable collector shows as ECONNREFUSED instead of silence.
int open_udp(const sip::Target& to, std::string* error) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    const bool v6 = to.host.find(':') != std::string::npos;
    if (v6) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(to.port);
        ::inet_pton(AF_INET6, to.host.c_str(), &s6->sin6_addr);
        len = sizeof(sockaddr_in6);
    } else {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
        s4->sin_family = AF_INET;
        s4->sin_port = htons(to.port);
        ::inet_pton(AF_INET, to.host.c_str(), &s4->sin_addr);
        len = sizeof(sockaddr_in);
    }
    const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        *error = fmt::format("capture.hep: UDP socket to {}:{}: {}", to.host, to.port,
                             std::strerror(errno));
        if (fd >= 0) ::close(fd);
        return -1;
    }
    return fd;
}

// HEP stamps wall-clock time (Homer sorts and searches by it); the loop clock is monotonic.
void wall_now(std::uint32_t& sec, std::uint32_t& usec) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    sec = static_cast<std::uint32_t>(us / 1'000'000);
    usec = static_cast<std::uint32_t>(us % 1'000'000);
}

}  // namespace

HepSender::HepSender(sip::uv::Loop& loop, HepConfig cfg, std::vector<sip::uv::Listener> local)
    : loop_(loop), cfg_(std::move(cfg)) {
    for (const sip::uv::Listener& l : local) {
        Local x{l.transport, {}, 0};
        if (sip::uv::split_host_port(l.address, x.host, x.port)) local_.push_back(std::move(x));
    }
}

HepSender::~HepSender() {
    if (fd_ >= 0) ::close(fd_);
}

std::string HepSender::start() {
    std::string host, err;
    std::uint16_t port = 0;
    if (!sip::uv::split_host_port(cfg_.collector, host, port) || port == 0)
        return fmt::format("capture.hep: '{}' is not HOST:PORT", cfg_.collector);
    collector_ = {cfg_.transport, resolve(host, &err), port, 0, {}};
    if (!err.empty()) return err;
    log_line(fmt::format("hep: capturing SIP to {}:{} ({}, capture id {})", collector_.host,
                         collector_.port, kind(), cfg_.capture_id));
    if (cfg_.transport == sip::Transport::Udp) {
        fd_ = open_udp(collector_, &err);
        return err;
    }
    // The connection is ours: no admission limits apply; an idle collector link stays open.
    sip::uv::TransportsConfig tc;
    tc.limits.max_connections = 4;
    tc.limits.idle_timeout = std::chrono::hours(24);
    tc.limits.connect_timeout = 5s;
    tc.limits.max_pending_bytes = 4u << 20;  // the bounded queue: ~4 MB of packets
    tc.limits.shutdown_flush = 1s;
    tcp_ = std::make_unique<sip::uv::Transports>(
        loop_, tc,
        sip::uv::TransportHandlers{
            .on_message = {},  // a collector sends nothing we need
            .on_send_failed = [this](std::uint64_t, const sip::Target&,
                                     std::string_view why) { on_tcp_failed(why); },
            .on_event = {},  // on_tcp_failed logs once per outage
        });
    return tcp_->start();
}

void HepSender::received(const sip::Target& from, std::string_view bytes) {
    capture(from, bytes, true);
}

void HepSender::sent(const sip::Target& to, std::string_view bytes) {
    capture(to, bytes, false);
}

HepSender::Local HepSender::local_for(const sip::Target& peer) const {
    const bool v6 = peer.host.find(':') != std::string::npos;
    for (const Local& l : local_)
        if (l.transport == peer.transport && (l.host.find(':') != std::string::npos) == v6)
            return l;
    return {peer.transport, v6 ? "::" : "0.0.0.0", 0};  // an ephemeral socket of the transports
}

void HepSender::capture(const sip::Target& peer, std::string_view bytes, bool inbound) {
    // a CRLF keep-alive (RFC 5626 §4.4.1) is not a SIP message: collectors would show junk
    if (closed_ || bytes.find_first_not_of("\r\n") == std::string_view::npos) return;
    const Local me = local_for(peer);
    const sw::hep::Endpoint them{peer.host, peer.port}, us{me.host, me.port};
    sw::hep::Packet p{.transport = peer.transport,
                      .src = inbound ? them : us,
                      .dst = inbound ? us : them,
                      .capture_id = cfg_.capture_id,
                      .auth_key = cfg_.password,
                      .correlation_id = sw::hep::call_id_of(bytes),
                      .payload = bytes};
    wall_now(p.ts_sec, p.ts_usec);
    std::string why;
    std::optional<std::string> pkt = sw::hep::encode(p, &why);
    if (!pkt) {
        ++counters_.dropped;
        if (!unencodable_logged_)  // a bug or an odd target, not an outage: once is enough
            log_line(
                fmt::format("hep: a message not captured (further ones only counted): {}", why));
        unencodable_logged_ = true;
        return;
    }
    if (fd_ >= 0)
        send_udp(*pkt);
    else
        send_tcp(std::move(*pkt));
}

void HepSender::send_udp(const std::string& pkt) {
    if (::send(fd_, pkt.data(), pkt.size(), MSG_DONTWAIT | MSG_NOSIGNAL) ==
        static_cast<ssize_t>(pkt.size())) {
        ++counters_.sent;
        if (failing_) log_line("hep: sending to the collector again");
        failing_ = false;
        return;
    }
    // EAGAIN: the socket buffer is full (a burst); ECONNREFUSED: nobody listens (ICMP)
    drop(errno == EAGAIN || errno == EWOULDBLOCK ? "socket buffer full" : std::strerror(errno));
}

void HepSender::send_tcp(std::string pkt) {
    const sip::uv::TransportCounters& c = tcp_->counters();
    if (c.connections_opened != opened_seen_) {  // connected since we last looked: reset
        opened_seen_ = c.connections_opened;
        backoff_ = {};
        if (failing_) log_line("hep: connected to the collector again");
        failing_ = false;
    }
    if (loop_.now() < retry_at_) {
        ++counters_.dropped;  // backing off: the failure was logged
        return;
    }
    ++counters_.sent;  // taken back by on_tcp_failed if the connection loses it
    tcp_->send(collector_, sip::make_bytes(std::move(pkt)));
}

// One queued packet lost (connect refused or timed out, reset, queue over its bound).
void HepSender::on_tcp_failed(std::string_view why) {
    if (counters_.sent > 0) --counters_.sent;
    ++counters_.dropped;
    if (loop_.now() < retry_at_) return;  // the rest of one outage's queue
    backoff_ = backoff_ == sip::Duration{} ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
    retry_at_ = loop_.now() + backoff_;
    if (!failing_)
        log_line(fmt::format("hep: collector tcp {}:{}: {}; packets dropped, retrying in {} s",
                             collector_.host, collector_.port, why,
                             std::chrono::duration_cast<std::chrono::seconds>(backoff_).count()));
    failing_ = true;
}

void HepSender::drop(std::string_view why) {
    ++counters_.dropped;
    if (!failing_) log_line(fmt::format("hep: packet dropped: {}", why));
    failing_ = true;  // one line per episode; the recovery is logged
}

std::string_view HepSender::kind() const {
    return cfg_.transport == sip::Transport::Udp ? "udp" : "tcp";
}

void HepSender::close() {
    if (closed_) return;
    closed_ = true;
    if (tcp_) tcp_->shutdown();
    log_line(fmt::format("hep: {} packets sent to {}:{} ({}), {} dropped", counters_.sent,
                         collector_.host, collector_.port,
                         cfg_.transport == sip::Transport::Udp ? "udp" : "tcp", counters_.dropped));
}

}  // namespace wiring

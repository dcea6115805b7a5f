// sip::uv::Server, kept for server/main.cpp until it moves to Loop + Transports: now a thin
// shim over those, so there is one transport implementation.
#include "sip/uv/server.hpp"

#include <chrono>

#include "sip/uv/loop.hpp"
#include "sip/uv/transports.hpp"

namespace sip::uv {

std::string_view transport_name(Transport t) noexcept {
    return t == Transport::Udp ? "UDP" : "TCP";
}

struct Server::Impl {
    // Declaration order is destruction order reversed: transports and signals before the loop.
    Loop loop;
    std::unique_ptr<Signals> signals;
    std::unique_ptr<Transports> transports;
    Server* self = nullptr;
    Handler handler;
    std::uint64_t messages = 0;
};

Server::Server(ServerConfig cfg, Handler on_message, EventLog on_event)
    : impl_(std::make_unique<Impl>()) {
    Impl& I = *impl_;
    I.self = this;
    I.handler = std::move(on_message);
    TransportsConfig tc;
    if (!cfg.udp.empty()) tc.listen.push_back({sip::Transport::Udp, cfg.udp});
    if (!cfg.tcp.empty()) tc.listen.push_back({sip::Transport::Tcp, cfg.tcp});
    tc.limits.parse = cfg.limits;
    tc.limits.max_connections = cfg.max_connections;
    tc.limits.idle_timeout = std::chrono::milliseconds(cfg.idle_timeout_ms);
    TransportHandlers h;
    h.on_message = [impl = &I](const Target& src, std::string_view bytes) {
        Inbound in;
        in.transport = src.transport == sip::Transport::Udp ? Transport::Udp : Transport::Tcp;
        in.peer_ip = src.host;
        in.peer_port = src.port;
        in.conn = src.conn;
        in.bytes = bytes;
        ++impl->messages;
        if (impl->handler) impl->handler(*impl->self, in);
    };
    h.on_event = std::move(on_event);
    I.transports = std::make_unique<Transports>(I.loop, std::move(tc), std::move(h));
}

Server::~Server() = default;

std::uint64_t Server::messages_in() const noexcept {
    return impl_->messages;
}

std::string Server::start() {
    Impl& I = *impl_;
    if (std::string err = I.transports->start(); !err.empty()) return err;
    I.signals = std::make_unique<Signals>(I.loop, [this](int) { stop(); });
    return {};
}

int Server::run() {
    impl_->loop.run();
    return 0;
}

void Server::stop() {
    impl_->loop.stop();
}

void Server::reply(const Inbound& to, std::string bytes, std::uint16_t udp_port_override) {
    Target t;
    if (to.transport == Transport::Udp) {
        t.transport = sip::Transport::Udp;
        t.host = to.peer_ip;
        t.port = udp_port_override ? udp_port_override : to.peer_port;
    } else {
        // Only on the connection the request came on: no host, so a closed one is not reopened.
        t.transport = sip::Transport::Tcp;
        t.conn = to.conn;
    }
    impl_->transports->send(t, make_bytes(std::move(bytes)));
}

}  // namespace sip::uv

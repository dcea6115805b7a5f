#include "sip/uv/server.hpp"

#include <uv.h>

#include <cstring>
#include <unordered_map>

#include "sip/framer.hpp"

namespace sip::uv {

std::string_view transport_name(Transport t) noexcept {
    return t == Transport::Udp ? "UDP" : "TCP";
}

namespace {

// "1.2.3.4:5060" or "[::1]:5060" into a sockaddr.
bool parse_listen(const std::string& spec, sockaddr_storage& out) {
    std::string host;
    std::string port;
    if (!spec.empty() && spec[0] == '[') {
        auto rb = spec.find(']');
        if (rb == std::string::npos || rb + 2 > spec.size() || spec[rb + 1] != ':') return false;
        host = spec.substr(1, rb - 1);
        port = spec.substr(rb + 2);
        return uv_ip6_addr(host.c_str(), std::atoi(port.c_str()),
                           reinterpret_cast<sockaddr_in6*>(&out)) == 0;
    }
    auto c = spec.rfind(':');
    if (c == std::string::npos) return false;
    host = spec.substr(0, c);
    port = spec.substr(c + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
        return false;
    return uv_ip4_addr(host.c_str(), std::atoi(port.c_str()),
                       reinterpret_cast<sockaddr_in*>(&out)) == 0;
}

void peer_of(const sockaddr* sa, std::string& ip, std::uint16_t& port) {
    char buf[64] = {0};
    if (sa->sa_family == AF_INET6) {
        const auto* s6 = reinterpret_cast<const sockaddr_in6*>(sa);
        uv_ip6_name(s6, buf, sizeof buf);
        port = ntohs(s6->sin6_port);
    } else {
        const auto* s4 = reinterpret_cast<const sockaddr_in*>(sa);
        uv_ip4_name(s4, buf, sizeof buf);
        port = ntohs(s4->sin_port);
    }
    ip = buf;
}

struct SendReq {
    uv_udp_send_t udp;
    uv_write_t tcp;
    std::string bytes;
};

}  // namespace

struct Connection {
    uv_tcp_t handle;
    struct Server::Impl* owner = nullptr;
    std::uint64_t id = 0;
    StreamFramer framer;
    std::string peer_ip;
    std::uint16_t peer_port = 0;
    std::uint64_t last_activity = 0;
    bool closing = false;
    explicit Connection(const ParseLimits& l) : framer(l) {}
};

struct Server::Impl {
    Server* self = nullptr;
    ServerConfig cfg;
    Handler handler;
    EventLog events;
    uv_loop_t loop;
    uv_udp_t udp;
    uv_tcp_t tcp;
    uv_signal_t sigint, sigterm;
    uv_timer_t idle;
    bool udp_on = false, tcp_on = false;
    std::unordered_map<std::uint64_t, Connection*> conns;
    std::uint64_t next_conn = 1;
    std::uint64_t messages = 0;
    char udp_buf[65536];

    void log(std::string_view s) {
        if (events) events(s);
    }
    void close_conn(Connection* c) {
        if (c->closing) return;
        c->closing = true;
        conns.erase(c->id);
        uv_close(reinterpret_cast<uv_handle_t*>(&c->handle),
                 [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
    }
};

Server::Server(ServerConfig cfg, Handler on_message, EventLog on_event)
    : impl_(std::make_unique<Impl>()) {
    impl_->self = this;
    impl_->cfg = std::move(cfg);
    impl_->handler = std::move(on_message);
    impl_->events = std::move(on_event);
    uv_loop_init(&impl_->loop);
}

Server::~Server() {
    Impl& I = *impl_;
    // close every handle still open, then let the loop finish their callbacks
    uv_walk(
        &I.loop,
        [](uv_handle_t* h, void*) {
            if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
    uv_run(&I.loop, UV_RUN_DEFAULT);
    for (auto& [id, c] : I.conns) delete c;
    uv_loop_close(&I.loop);
}

std::uint64_t Server::messages_in() const noexcept { return impl_->messages; }

std::string Server::start() {
    Impl& I = *impl_;
    I.udp.data = &I;
    I.tcp.data = &I;
    if (!I.cfg.udp.empty()) {
        sockaddr_storage sa{};
        if (!parse_listen(I.cfg.udp, sa)) return "udp listen address '" + I.cfg.udp + "' is invalid";
        uv_udp_init(&I.loop, &I.udp);
        I.udp_on = true;
        if (int rc = uv_udp_bind(&I.udp, reinterpret_cast<sockaddr*>(&sa), 0); rc != 0)
            return "udp " + I.cfg.udp + ": " + uv_strerror(rc);
        uv_udp_recv_start(
            &I.udp,
            [](uv_handle_t* h, size_t, uv_buf_t* buf) {
                auto* impl = static_cast<Impl*>(h->data);
                *buf = uv_buf_init(impl->udp_buf, sizeof impl->udp_buf);
            },
            [](uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* addr, unsigned) {
                auto* impl = static_cast<Impl*>(h->data);
                if (n <= 0 || !addr) return;
                Inbound in;
                in.transport = Transport::Udp;
                peer_of(addr, in.peer_ip, in.peer_port);
                in.bytes = std::string_view(buf->base, static_cast<std::size_t>(n));
                ++impl->messages;
                impl->handler(*impl->self, in);
            });
    }
    if (!I.cfg.tcp.empty()) {
        sockaddr_storage sa{};
        if (!parse_listen(I.cfg.tcp, sa)) return "tcp listen address '" + I.cfg.tcp + "' is invalid";
        uv_tcp_init(&I.loop, &I.tcp);
        I.tcp_on = true;
        if (int rc = uv_tcp_bind(&I.tcp, reinterpret_cast<sockaddr*>(&sa), 0); rc != 0)
            return "tcp " + I.cfg.tcp + ": " + uv_strerror(rc);
        int rc = uv_listen(reinterpret_cast<uv_stream_t*>(&I.tcp), 128, [](uv_stream_t* srv, int status) {
            auto* impl = static_cast<Impl*>(srv->data);
            if (status < 0) return;
            auto* c = new Connection(impl->cfg.limits);
            c->owner = impl;
            c->handle.data = c;
            uv_tcp_init(&impl->loop, &c->handle);
            if (uv_accept(srv, reinterpret_cast<uv_stream_t*>(&c->handle)) != 0 ||
                impl->conns.size() >= impl->cfg.max_connections) {
                if (impl->conns.size() >= impl->cfg.max_connections)
                    impl->log("tcp: connection refused: max_connections reached");
                c->closing = true;
                uv_close(reinterpret_cast<uv_handle_t*>(&c->handle),
                         [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
                return;
            }
            c->id = impl->next_conn++;
            impl->conns[c->id] = c;
            c->last_activity = uv_now(&impl->loop);
            sockaddr_storage peer{};
            int len = sizeof peer;
            uv_tcp_getpeername(&c->handle, reinterpret_cast<sockaddr*>(&peer), &len);
            peer_of(reinterpret_cast<sockaddr*>(&peer), c->peer_ip, c->peer_port);
            uv_read_start(
                reinterpret_cast<uv_stream_t*>(&c->handle),
                [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
                    *buf = uv_buf_init(new char[suggested], static_cast<unsigned>(suggested));
                },
                [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
                    auto* c = static_cast<Connection*>(s->data);
                    Impl* impl = c->owner;
                    if (n < 0) {
                        delete[] buf->base;
                        impl->close_conn(c);
                        return;
                    }
                    c->framer.feed(std::string_view(buf->base, static_cast<std::size_t>(n)));
                    delete[] buf->base;
                    c->last_activity = uv_now(&impl->loop);
                    for (;;) {
                        StreamFramer::Frame f = c->framer.next();
                        if (f.kind == StreamFramer::Kind::NeedMore) break;
                        if (f.kind == StreamFramer::Kind::Ping) {
                            Inbound to;
                            to.transport = Transport::Tcp;
                            to.conn = c->id;
                            impl->self->reply(to, "\r\n");
                            continue;
                        }
                        if (f.kind == StreamFramer::Kind::Pong) continue;
                        if (f.kind == StreamFramer::Kind::Error) {
                            impl->log("tcp " + c->peer_ip + ":" + std::to_string(c->peer_port) +
                                      ": closing connection: offset " +
                                      std::to_string(f.error.offset) + ": " +
                                      std::string(f.error.what()));
                            impl->close_conn(c);
                            return;
                        }
                        Inbound in;
                        in.transport = Transport::Tcp;
                        in.conn = c->id;
                        in.peer_ip = c->peer_ip;
                        in.peer_port = c->peer_port;
                        in.bytes = f.bytes;
                        ++impl->messages;
                        impl->handler(*impl->self, in);
                        if (c->closing) return;
                    }
                });
        });
        if (rc != 0) return "tcp " + I.cfg.tcp + ": " + uv_strerror(rc);
        uv_timer_init(&I.loop, &I.idle);
        I.idle.data = &I;
        uv_timer_start(
            &I.idle,
            [](uv_timer_t* t) {
                auto* impl = static_cast<Impl*>(t->data);
                const std::uint64_t now = uv_now(&impl->loop);
                std::vector<Connection*> stale;
                for (auto& [id, c] : impl->conns)
                    if (now - c->last_activity > impl->cfg.idle_timeout_ms) stale.push_back(c);
                for (Connection* c : stale) impl->close_conn(c);
            },
            1000, 1000);
    }
    auto on_signal = [](uv_signal_t* s, int) { static_cast<Impl*>(s->data)->self->stop(); };
    uv_signal_init(&I.loop, &I.sigint);
    uv_signal_init(&I.loop, &I.sigterm);
    I.sigint.data = I.sigterm.data = &I;
    uv_signal_start(&I.sigint, on_signal, SIGINT);
    uv_signal_start(&I.sigterm, on_signal, SIGTERM);
    return {};
}

int Server::run() {
    uv_run(&impl_->loop, UV_RUN_DEFAULT);
    return 0;
}

void Server::stop() { uv_stop(&impl_->loop); }

void Server::reply(const Inbound& to, std::string bytes, std::uint16_t udp_port_override) {
    Impl& I = *impl_;
    auto* req = new SendReq;
    req->bytes = std::move(bytes);
    uv_buf_t buf = uv_buf_init(req->bytes.data(), static_cast<unsigned>(req->bytes.size()));
    if (to.transport == Transport::Udp) {
        sockaddr_storage sa{};
        const std::uint16_t port = udp_port_override ? udp_port_override : to.peer_port;
        int rc = to.peer_ip.find(':') != std::string::npos
                     ? uv_ip6_addr(to.peer_ip.c_str(), port, reinterpret_cast<sockaddr_in6*>(&sa))
                     : uv_ip4_addr(to.peer_ip.c_str(), port, reinterpret_cast<sockaddr_in*>(&sa));
        req->udp.data = req;
        if (rc != 0 || uv_udp_send(&req->udp, &I.udp, &buf, 1, reinterpret_cast<sockaddr*>(&sa),
                                   [](uv_udp_send_t* r, int) {
                                       delete static_cast<SendReq*>(r->data);
                                   }) != 0) {
            delete req;
        }
        return;
    }
    auto it = I.conns.find(to.conn);
    if (it == I.conns.end()) {
        delete req;
        return;
    }
    req->tcp.data = req;
    if (uv_write(&req->tcp, reinterpret_cast<uv_stream_t*>(&it->second->handle), &buf, 1,
                 [](uv_write_t* r, int) { delete static_cast<SendReq*>(r->data); }) != 0) {
        delete req;
    }
}

}  // namespace sip::uv

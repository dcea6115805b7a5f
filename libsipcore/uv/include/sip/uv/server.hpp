// sip::uv::Server — UDP and TCP listeners on one libuv loop (adapter; DESIGN.md §2).
//
//   sip::uv::Server srv({.udp = "127.0.0.1:5060", .tcp = "127.0.0.1:5060"},
//       [](sip::uv::Server& s, const sip::uv::Inbound& in) {
//           // in.bytes: one UDP datagram, or one framed TCP message (Framing::Stream)
//           s.reply(in, build_something(in.bytes));
//       });
//   if (auto err = srv.start(); !err.empty()) die(err);
//   srv.run();            // returns after SIGINT/SIGTERM or stop()
//
// The handler runs on the loop thread; `in.bytes` is valid only during the call. TCP
// connections are keyed by id; a framing error closes the connection (RFC 3261 §18.3 gives
// no way to resynchronise) after it is reported once through `on_event`. CRLFCRLF pings are
// answered with CRLF (RFC 5626 §3.5.1). This is the API of the parser stage, kept for
// server/main.cpp; it is now a shim over sip::uv::Loop + sip::uv::Transports (loop.hpp,
// transports.hpp), which new code uses directly (TLS, connecting, reuse, send failures).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace sip::uv {

enum class Transport : std::uint8_t { Udp, Tcp };
std::string_view transport_name(Transport t) noexcept;

struct Inbound {
    Transport transport = Transport::Udp;
    std::string peer_ip;
    std::uint16_t peer_port = 0;
    std::uint64_t conn = 0;  // TCP connection id; 0 for UDP
    std::string_view bytes;
};

struct ServerConfig {
    std::string udp = "127.0.0.1:5060";  // "" disables; "[::1]:5060" for IPv6
    std::string tcp = "127.0.0.1:5060";
    ParseLimits limits;
    std::uint32_t max_connections = 4096;
    std::uint32_t idle_timeout_ms = 300'000;  // TCP connections silent this long are closed
};

class Server {
public:
    using Handler = std::function<void(Server&, const Inbound&)>;
    // Transport-level happenings (connection closed on a framing error, limits): one line.
    using EventLog = std::function<void(std::string_view line)>;

    Server(ServerConfig cfg, Handler on_message, EventLog on_event = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds every configured listener; returns "" or a message naming the listener.
    std::string start();
    // Runs the loop until stop() or SIGINT/SIGTERM; returns 0.
    int run();
    void stop();

    // Sends on the transport the message came in on: UDP to ip:port, TCP on its connection.
    void reply(const Inbound& to, std::string bytes, std::uint16_t udp_port_override = 0);

    std::uint64_t messages_in() const noexcept;

    struct Impl;  // opaque: keeps <uv.h> out of this header

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace sip::uv

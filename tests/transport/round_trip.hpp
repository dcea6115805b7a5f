// The loopback round trip shared by transports_test.cpp (IPv4) and transports_ipv6_test.cpp
// (IPv6, skipped where ::1 cannot be bound): a client sends an OPTIONS, the server answers to
// the source it saw, the client gets the answer.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "harness.hpp"
#include "sip/uv/transports.hpp"
#include "test_certs.hpp"

namespace tt {

// sip::Target has no default member initializers, so build it field by field.
inline sip::Target tgt(sip::Transport t, std::string host, std::uint16_t port,
                       std::uint64_t conn = 0, std::string tls_name = {}) {
    sip::Target x;
    x.transport = t;
    x.host = std::move(host);
    x.port = port;
    x.conn = conn;
    x.tls_name = std::move(tls_name);
    return x;
}

inline sip::uv::TransportsConfig listening(sip::Transport t, std::string addr) {
    sip::uv::TransportsConfig c;
    c.listen.push_back({t, std::move(addr)});
    if (t == sip::Transport::Tls) {
        c.tls.cert_file = pki().server_cert;
        c.tls.key_file = pki().server_key;
    }
    return c;
}

inline sip::uv::TransportsConfig client_cfg() {
    sip::uv::TransportsConfig c;
    c.tls.ca_file = pki().ca;
    return c;
}

// Client sends a request; the server answers to the source it saw; the client gets it.
inline void round_trip(sip::Transport t, const std::string& host, std::uint16_t port,
                       const std::string& tls_name = {}) {
    sip::uv::Loop loop;
    const std::string hp = host.find(':') != std::string::npos
                               ? "[" + host + "]:" + std::to_string(port)
                               : host + ":" + std::to_string(port);
    Peer server(loop, listening(t, hp));
    Peer client(loop, client_cfg());
    REQUIRE(server.start() == "");
    REQUIRE(client.start() == "");
    server.on_message = [&](const sip::Target& src, std::string_view) {
        server.tp->send(src, "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", 99);
    };
    sip::Target to = tgt(t, host, port, 0, tls_name);
    client.tp->send(to, options(1, sip::transport_name(t)), 1);
    REQUIRE(run_until(loop, [&] { return !client.got.empty(); }));
    INFO(server.all_events() << client.all_events());
    REQUIRE(server.got.size() == 1);
    CHECK(server.got[0].second == options(1, sip::transport_name(t)));
    const sip::Target& src = server.got[0].first;
    CHECK(src.transport == t);
    CHECK(src.host == host);
    CHECK(src.port != 0);
    CHECK(client.got[0].second.rfind("SIP/2.0 200 OK", 0) == 0);
    CHECK(client.failed.empty());
    CHECK(server.failed.empty());
    if (t == sip::Transport::Udp) {
        CHECK(src.conn == 0);
        CHECK(client.got[0].first.port == port);
    } else {
        CHECK(src.conn != 0);
        // The answer went back on the same connection (RFC 3261 §18.2.2): nothing new opened.
        CHECK(server.tp->counters().connections_opened == 0);
        CHECK(server.tp->counters().connections_accepted == 1);
        CHECK(client.tp->counters().connections_opened == 1);
        CHECK(client.got[0].first.conn != 0);
    }
    if (t == sip::Transport::Tls) CHECK(src.tls_name == tls_name);  // SNI reached the server
    CHECK(server.tp->counters().messages_in == 1);
    CHECK(client.tp->counters().messages_out == 1);
}

}  // namespace tt

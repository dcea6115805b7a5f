// sip::uv::Transports under attack, over loopback: per-source limits and rate checked before
// TLS starts, who gives way at max_connections, the message deadline (slowloris), and one log
// line per episode. Sources are 127.0.0.x (all loopback). Ports 28042-28049, 28052-28058;
// every wait is bounded by a deadline timer, and no test bounds how long something may take.
#include <catch2/catch.hpp>

#include <fcntl.h>

#include <string>
#include <vector>

#include "harness.hpp"
#include "round_trip.hpp"
#include "sip/uv/loop.hpp"
#include "sip/uv/tls.hpp"
#include "sip/uv/transports.hpp"
#include "test_certs.hpp"

using namespace std::chrono_literals;
using sip::Transport;
using sip::uv::Loop;
using sip::uv::TransportsConfig;
using tt::listening;
using tt::Peer;
using tt::run_until;
using tt::tgt;

namespace {

// A blocking TCP connection from `src` (a 127.0.0.x address) to 127.0.0.1:port; -1 on error.
int connect_from(const char* src, std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in me{};
    me.sin_family = AF_INET;
    ::inet_pton(AF_INET, src, &me.sin_addr);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Closed by the server (EOF or reset), seen without blocking the loop for long.
bool closed_by_server(int fd) {
    const std::string r = tt::raw_read(fd, 0);
    return r == "<eof>" || r == "<error>";
}

std::size_t events_with(const Peer& p, std::string_view what) {
    std::size_t n = 0;
    for (const auto& e : p.events)
        n += e.find(what) != std::string::npos;
    return n;
}

struct Fds {
    std::vector<int> fds;
    ~Fds() {
        for (int fd : fds)
            if (fd >= 0) ::close(fd);
    }
};

}  // namespace

TEST_CASE("admission: a source at its limit is refused before TLS; others get in",
          "[transport][admission][tls]") {
    Loop loop;
    TransportsConfig cfg = listening(Transport::Tls, "127.0.0.1:28042");
    cfg.limits.max_connections_per_source = 3;
    cfg.limits.new_connections_per_second = 0;
    Peer server(loop, cfg);
    REQUIRE(server.start() == "");
    Fds held;
    for (int i = 0; i < 8; ++i)
        held.fds.push_back(connect_from("127.0.0.2", 28042));
    REQUIRE(run_until(loop, [&] {
        const auto& c = server.tp->counters();
        return c.connections_accepted + c.refused_per_source == 8;
    }));
    CHECK(server.tp->counters().connections_accepted == 3);
    CHECK(server.tp->counters().refused_per_source == 5);
    // refused before any TLS byte: no handshake was attempted, so none failed
    tt::run_for(loop, 50ms);
    CHECK(server.tp->counters().handshake_failures == 0);
    int refused_seen = 0;
    for (int fd : held.fds)
        refused_seen += closed_by_server(fd);
    CHECK(refused_seen == 5);
    // one line for the episode, not five
    CHECK(events_with(server, "refusing connections from 127.0.0.2") == 1);
    CHECK(server.events.size() == 1);
    // another source is not affected
    Peer client(loop, tt::client_cfg());
    REQUIRE(client.start() == "");
    client.tp->send(tgt(Transport::Tls, "127.0.0.1", 28042, 0, "sip.test"), tt::options(1, "TLS"),
                    1);
    REQUIRE(run_until(loop, [&] { return server.got.size() == 1; }));
    CHECK(client.failed.empty());
}

TEST_CASE("admission: more new connections a second than allowed are refused",
          "[transport][admission][tcp]") {
    Loop loop;
    TransportsConfig cfg = listening(Transport::Tcp, "127.0.0.1:28043");
    cfg.limits.new_connections_per_second = 2;
    Peer server(loop, cfg);
    REQUIRE(server.start() == "");
    Fds held;
    for (int i = 0; i < 20; ++i)
        held.fds.push_back(connect_from("127.0.0.3", 28043));
    REQUIRE(run_until(loop, [&] {
        const auto& c = server.tp->counters();
        return c.connections_accepted + c.refused_rate == 20;
    }));
    CHECK(server.tp->counters().connections_accepted >= 2);
    CHECK(server.tp->counters().refused_rate >= 1);
    CHECK(events_with(server, "new_connections_per_second") == 1);
    // a known gateway on the same machine is allowed more
    TransportsConfig gw = listening(Transport::Tcp, "127.0.0.1:28044");
    gw.limits.new_connections_per_second = 2;
    gw.limits.source_limits = {{"127.0.0.4", 1000, 1000}};
    Peer server2(loop, gw);
    REQUIRE(server2.start() == "");
    for (int i = 0; i < 20; ++i)
        held.fds.push_back(connect_from("127.0.0.4", 28044));
    REQUIRE(run_until(loop, [&] { return server2.tp->counters().connections_accepted == 20; }));
    CHECK(server2.tp->counters().refused_rate == 0);
}

TEST_CASE("admission: at max_connections the heaviest source's idlest connection gives way",
          "[transport][admission][tcp]") {
    Loop loop;
    TransportsConfig cfg = listening(Transport::Tcp, "127.0.0.1:28045");
    cfg.limits.max_connections = 6;
    cfg.limits.max_connections_per_source = 100;
    cfg.limits.new_connections_per_second = 0;
    Peer server(loop, cfg);
    REQUIRE(server.start() == "");
    Fds heavy;
    for (int i = 0; i < 6; ++i)
        heavy.fds.push_back(connect_from("127.0.0.5", 28045));
    REQUIRE(run_until(loop, [&] { return server.tp->connection_count() == 6; }));
    tt::run_for(loop, 30ms);
    for (int i = 1; i < 6; ++i)  // all but the first are active later: the first is the idlest
        tt::raw_write(heavy.fds[i], "\r\n\r\n");
    REQUIRE(run_until(loop, [&] { return server.tp->counters().pings_answered == 5; }));
    // a newcomer from another address gets in; the heavy source's idlest connection goes
    Peer client(loop, tt::client_cfg());
    REQUIRE(client.start() == "");
    client.tp->send(tgt(Transport::Tcp, "127.0.0.1", 28045), tt::options(1, "TCP"), 1);
    REQUIRE(run_until(loop, [&] { return server.got.size() == 1; }));
    CHECK(server.tp->counters().evicted == 1);
    CHECK(server.tp->connection_count() == 6);
    CHECK(client.failed.empty());
    REQUIRE(run_until(loop, [&] { return closed_by_server(heavy.fds[0]); }));
    for (int i = 1; i < 6; ++i)
        CHECK(tt::raw_read(heavy.fds[i], 0) == "\r\n");  // the pong; still open
    CHECK(events_with(server, "max_connections (6) reached") == 1);
}

TEST_CASE("admission: at max_connections with even shares the newcomer is refused",
          "[transport][admission][tcp]") {
    Loop loop;
    TransportsConfig cfg = listening(Transport::Tcp, "127.0.0.1:28046");
    cfg.limits.max_connections = 4;
    Peer server(loop, cfg);
    REQUIRE(server.start() == "");
    Fds fds;
    for (const char* src : {"127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13"})
        fds.fds.push_back(connect_from(src, 28046));
    REQUIRE(run_until(loop, [&] { return server.tp->connection_count() == 4; }));
    fds.fds.push_back(connect_from("127.0.0.14", 28046));
    REQUIRE(run_until(loop, [&] { return server.tp->counters().connections_refused == 1; }));
    CHECK(server.tp->counters().evicted == 0);
    CHECK(server.tp->connection_count() == 4);
    REQUIRE(run_until(loop, [&] { return closed_by_server(fds.fds[4]); }));
}

TEST_CASE("admission: an outbound connection at the cap takes an idle inbound one's place",
          "[transport][admission][tcp]") {
    Loop loop;
    TransportsConfig cfg = listening(Transport::Tcp, "127.0.0.1:28047");
    cfg.limits.max_connections = 3;
    cfg.limits.new_connections_per_second = 0;
    Peer server(loop, cfg);
    Peer gateway(loop, listening(Transport::Tcp, "127.0.0.1:28048"));
    REQUIRE(server.start() == "");
    REQUIRE(gateway.start() == "");
    Fds fds;
    for (int i = 0; i < 3; ++i)
        fds.fds.push_back(connect_from("127.0.0.6", 28047));
    REQUIRE(run_until(loop, [&] { return server.tp->connection_count() == 3; }));
    server.tp->send(tgt(Transport::Tcp, "127.0.0.1", 28048), tt::options(7, "TCP"), 7);
    REQUIRE(run_until(loop, [&] { return gateway.got.size() == 1; }));
    CHECK(server.failed.empty());
    CHECK(server.tp->counters().evicted == 1);
    CHECK(server.tp->connection_count() == 3);
}

TEST_CASE("admission: a message dripped byte by byte is closed at message_timeout",
          "[transport][admission][tcp]") {
    Loop loop;
    TransportsConfig cfg = listening(Transport::Tcp, "127.0.0.1:28049");
    cfg.limits.message_timeout = 400ms;
    cfg.limits.idle_timeout = 60s;  // every byte keeps the connection from being idle
    Peer server(loop, cfg);
    REQUIRE(server.start() == "");
    const std::string msg = tt::options(1, "TCP");
    Fds fds;
    fds.fds.push_back(connect_from("127.0.0.7", 28049));
    fds.fds.push_back(connect_from("127.0.0.8", 28049));
    REQUIRE(run_until(loop, [&] { return server.tp->connection_count() == 2; }));
    // a well-behaved connection between messages is not bound by the message deadline
    fds.fds.push_back(connect_from("127.0.0.9", 28049));
    tt::raw_write(fds.fds[2], msg);
    std::size_t next = 0;
    const sip::Instant first_byte = loop.now();
    std::function<void()> drip;
    sip::uv::Timer dripper(loop, [&] { drip(); });
    drip = [&] {
        if (next < msg.size()) {
            tt::raw_write(fds.fds[0], msg.substr(next, 1));
            tt::raw_write(fds.fds[1], msg.substr(next, 1));
            ++next;
        }
        dripper.arm_after(50ms);
    };
    drip();
    REQUIRE(run_until(
        loop, [&] { return server.tp->counters().message_timeouts == 2; }, 20000ms));
    dripper.cancel();
    CHECK(loop.now() - first_byte >= 400ms);
    CHECK(next < msg.size());  // closed before the message could have been complete
    CHECK(server.tp->counters().idle_closed == 0);
    CHECK(server.got.size() == 1);  // only the well-behaved one
    REQUIRE(run_until(loop, [&] { return closed_by_server(fds.fds[0]); }));
    REQUIRE(run_until(loop, [&] { return closed_by_server(fds.fds[1]); }));
    CHECK(server.tp->connection_count() == 1);
    tt::run_for(loop, 500ms);
    CHECK(server.tp->connection_count() == 1);           // idle between messages: left alone
    CHECK(events_with(server, "message_timeout") == 1);  // one line for both
}

TEST_CASE("admission: a TLS record dripped after the handshake is closed at message_timeout",
          "[transport][admission][tls]") {
    Loop loop;
    TransportsConfig cfg = listening(Transport::Tls, "127.0.0.1:28052");
    cfg.limits.message_timeout = 400ms;
    cfg.limits.idle_timeout = 60s;
    Peer server(loop, cfg);
    REQUIRE(server.start() == "");
    std::string err;
    auto cctx = sip::uv::TlsContext::create({.ca_file = tt::pki().ca},
                                            sip::uv::TlsContext::Role::Client, &err);
    REQUIRE(cctx);
    sip::uv::TlsSession tls(cctx, "sip.test");
    int fd = connect_from("127.0.0.20", 28052);
    REQUIRE(fd >= 0);
    Fds fds;
    fds.fds.push_back(fd);
    for (int i = 0; i < 200 && !tls.handshake_done() && !tls.failed(); ++i) {
        tt::raw_write(fd, tls.take_ciphertext());
        tt::run_for(loop, 10ms);
        const std::string in = tt::raw_read(fd, 0);
        if (!in.empty() && in[0] != '<') tls.feed(in);
    }
    REQUIRE(tls.handshake_done());
    tt::raw_write(fd, tls.take_ciphertext());  // the client's Finished, if still queued
    tt::run_for(loop, 600ms);
    CHECK(server.tp->connection_count() == 1);  // idle after the handshake: left alone
    CHECK(server.tp->counters().message_timeouts == 0);
    REQUIRE(tls.write(tt::options(1, "TLS")));
    const std::string record = tls.take_ciphertext();
    std::size_t next = 0;
    std::function<void()> drip;
    sip::uv::Timer dripper(loop, [&] { drip(); });
    drip = [&] {
        if (next < record.size()) tt::raw_write(fd, record.substr(next++, 1));
        dripper.arm_after(50ms);
    };
    drip();
    REQUIRE(run_until(
        loop, [&] { return server.tp->counters().message_timeouts == 1; }, 20000ms));
    dripper.cancel();
    CHECK(next < record.size());
    CHECK(server.got.empty());
    CHECK(server.tp->connection_count() == 0);
}

TEST_CASE("admission: a source limit that is not an address is a start() error",
          "[transport][admission][config]") {
    Loop loop;
    TransportsConfig cfg = listening(Transport::Tcp, "127.0.0.1:28053");
    cfg.limits.source_limits = {{"gw.example.com", 10, 10}};
    Peer server(loop, cfg);
    const std::string err = server.start();
    CHECK(err.find("gw.example.com") != std::string::npos);
}

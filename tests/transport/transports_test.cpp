// sip::uv::Transports over loopback: UDP/TCP/TLS round trips, reuse, faults, limits.
// Ports 28001-28099, one per test; every wait is bounded by a deadline timer.
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <string>

#include "harness.hpp"
#include "round_trip.hpp"
#include "sip/uv/loop.hpp"
#include "sip/uv/transports.hpp"
#include "test_certs.hpp"

using namespace std::chrono_literals;
using sip::Target;
using sip::Transport;
using sip::uv::Listener;
using sip::uv::Loop;
using sip::uv::TransportsConfig;
using tt::Peer;
using tt::run_until;

using tt::client_cfg;
using tt::listening;
using tt::round_trip;
using tt::tgt;

TEST_CASE("loop: timers fire at their Instant, cancel, and re-arm", "[transport][loop]") {
    Loop loop;
    int fired = 0;
    sip::Instant at{};
    sip::uv::Timer t(loop, [&] {
        ++fired;
        at = loop.now();
    });
    const sip::Instant start = loop.now();
    t.arm(start + 30ms);
    CHECK(t.armed());
    REQUIRE(run_until(
        loop, [&] { return fired == 1; }, 2000ms));
    CHECK(at - start >= 30ms);
    CHECK_FALSE(t.armed());
    t.arm_after(20ms);
    t.cancel();
    tt::run_for(loop, 60ms);
    CHECK(fired == 1);
}

TEST_CASE("loop: re-arming a timer for the deadline it has keeps it", "[transport][loop]") {
    Loop loop;
    int fired = 0;
    sip::uv::Timer t(loop, [&] { ++fired; });
    const sip::Instant at = loop.now() + 20ms;
    t.arm(at);
    t.arm(at);  // the driver's case: same deadline after every input
    CHECK(t.armed());
    REQUIRE(run_until(loop, [&] { return fired == 1; }, 2000ms));
    CHECK(loop.now() >= at);
    t.arm(loop.now() + 10ms);
    t.arm(loop.now() + 500ms);  // a different deadline replaces it
    tt::run_for(loop, 60ms);
    CHECK(fired == 1);
    CHECK(t.armed());
    t.cancel();
    t.arm(loop.now() + 10ms);  // after cancel the same-deadline shortcut must not apply
    REQUIRE(run_until(loop, [&] { return fired == 2; }, 2000ms));
}

TEST_CASE("loop: AfterIo runs once after a batch of received datagrams", "[transport][loop]") {
    Loop loop;
    Peer server(loop, listening(Transport::Udp, "127.0.0.1:28097"));
    Peer client(loop, client_cfg());
    std::vector<std::size_t> seen_at_run;  // how many messages had arrived at each run
    sip::uv::AfterIo after(loop, [&] { seen_at_run.push_back(server.got.size()); });
    server.on_message = [&](const Target&, std::string_view) { after.request(); };
    REQUIRE(server.start() == "");
    REQUIRE(client.start() == "");
    constexpr std::size_t kN = 16;  // one sendmmsg batch; all queued before the server reads
    for (std::size_t i = 0; i < kN; ++i)
        client.tp->send(tgt(Transport::Udp, "127.0.0.1", 28097), tt::options(static_cast<int>(i)));
    REQUIRE(run_until(loop, [&] { return server.got.size() == kN && !after.requested(); }));
    REQUIRE_FALSE(seen_at_run.empty());
    CHECK(seen_at_run.back() == kN);   // the last message was followed by a run
    CHECK(seen_at_run.size() < kN);    // and the runs were shared by the batch
    CHECK(std::is_sorted(seen_at_run.begin(), seen_at_run.end()));
}

TEST_CASE("loop: SIGTERM reaches the Signals callback", "[transport][loop]") {
    Loop loop;
    int got = 0;
    sip::uv::Signals sig(loop, [&](int s) { got = s; });
    std::raise(SIGTERM);
    REQUIRE(run_until(
        loop, [&] { return got != 0; }, 2000ms));
    CHECK(got == SIGTERM);
}

TEST_CASE("transports: UDP round trip", "[transport][udp]") {
    SECTION("IPv4") {
        round_trip(Transport::Udp, "127.0.0.1", 28001);
    }
}

TEST_CASE("transports: TCP round trip", "[transport][tcp]") {
    SECTION("IPv4") {
        round_trip(Transport::Tcp, "127.0.0.1", 28011);
    }
}

TEST_CASE("transports: TLS round trip", "[transport][tls]") {
    SECTION("IPv4 with SNI") {
        round_trip(Transport::Tls, "127.0.0.1", 28021, "sip.test");
    }
    SECTION("IPv4 verified by IP address") {
        round_trip(Transport::Tls, "127.0.0.1", 28023);
    }
}

TEST_CASE("transports: two sends share one connection", "[transport][tcp]") {
    for (Transport t : {Transport::Tcp, Transport::Tls}) {
        Loop loop;
        const std::uint16_t port = t == Transport::Tcp ? 28031 : 28032;
        Peer server(loop, listening(t, "127.0.0.1:" + std::to_string(port)));
        Peer client(loop, client_cfg());
        REQUIRE(server.start() == "");
        REQUIRE(client.start() == "");
        Target to = tgt(t, "127.0.0.1", port, 0, "sip.test");
        client.tp->send(to, tt::options(1), 1);  // both queue while connecting
        client.tp->send(to, tt::options(2), 2);
        REQUIRE(run_until(loop, [&] { return server.got.size() == 2; }));
        // A third send names the connection the reply would have come on.
        const std::uint64_t conn = server.got[0].first.conn;
        server.tp->send(server.got[0].first, "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        REQUIRE(run_until(loop, [&] { return client.got.size() == 1; }));
        Target again = to;
        again.conn = client.got[0].first.conn;
        client.tp->send(again, tt::options(3), 3);
        REQUIRE(run_until(loop, [&] { return server.got.size() == 3; }));
        CHECK(server.got[2].first.conn == conn);
        CHECK(client.tp->connection_count() == 1);
        CHECK(server.tp->counters().connections_accepted == 1);
        CHECK(client.tp->counters().connections_opened == 1);
        CHECK(server.got[0].second == tt::options(1));
        CHECK(server.got[1].second == tt::options(2));
        CHECK(client.failed.empty());
    }
}

TEST_CASE("transports: connect refused is reported once per send", "[transport][tcp][fault]") {
    Loop loop;
    Peer client(loop, client_cfg());
    REQUIRE(client.start() == "");
    Target to = tgt(Transport::Tcp, "127.0.0.1", 28041);
    client.tp->send(to, tt::options(1), 41);
    client.tp->send(to, tt::options(2), 42);
    CHECK(client.failed.empty());  // never from inside send()
    REQUIRE(run_until(loop, [&] { return client.failed.size() == 2; }));
    tt::run_for(loop, 50ms);
    REQUIRE(client.failed.size() == 2);
    CHECK(client.failed[0].tag == 41);
    CHECK(client.failed[1].tag == 42);
    CHECK(client.failed[0].reason.find("refused") != std::string::npos);
    CHECK(client.tp->counters().connect_failures == 1);
    CHECK(client.tp->connection_count() == 0);
    CHECK(client.event_contains("connect failed"));
}

TEST_CASE("transports: bad targets fail without a connection", "[transport][fault]") {
    Loop loop;
    Peer client(loop, client_cfg());
    REQUIRE(client.start() == "");
    client.tp->send(tgt(Transport::Udp, "not-an-ip", 5060), "x", 1);
    client.tp->send(tgt(Transport::Tcp, "example.com", 5060), "x", 2);
    client.tp->send(tgt(Transport::Tcp, "", 0, 12345), "x", 3);  // dead conn, no address
    REQUIRE(run_until(loop, [&] { return client.failed.size() == 3; }));
    CHECK(client.failed[0].reason.find("not an IP address") != std::string::npos);
    CHECK(client.failed[2].reason.find("no address") != std::string::npos);
    CHECK(client.tp->connection_count() == 0);
}

TEST_CASE("transports: TLS handshake failure reaches on_send_failed", "[transport][tls][fault]") {
    Loop loop;
    Peer server(loop, listening(Transport::Tls, "127.0.0.1:28051"));
    TransportsConfig wrong = client_cfg();
    wrong.tls.ca_file = tt::pki().other_ca;
    Peer client(loop, wrong);
    REQUIRE(server.start() == "");
    REQUIRE(client.start() == "");
    Target to = tgt(Transport::Tls, "127.0.0.1", 28051, 0, "sip.test");
    client.tp->send(to, tt::options(1), 51);
    client.tp->send(to, tt::options(2), 52);
    REQUIRE(run_until(loop, [&] {
        return client.failed.size() == 2 && server.tp->counters().handshake_failures == 1;
    }));
    tt::run_for(loop, 50ms);
    REQUIRE(client.failed.size() == 2);
    CHECK(client.failed[0].tag == 51);
    CHECK(client.failed[1].tag == 52);
    CHECK(client.failed[0].reason.find("certificate verify failed") != std::string::npos);
    CHECK(client.tp->counters().handshake_failures == 1);
    CHECK(server.got.empty());
    CHECK(client.tp->connection_count() == 0);
    REQUIRE(run_until(loop, [&] { return server.tp->connection_count() == 0; }));
    CHECK(client.event_contains("TLS handshake failed"));
    CHECK(server.event_contains("TLS handshake failed"));

    SECTION("a name the certificate does not carry fails too") {
        Target other = tgt(Transport::Tls, "127.0.0.1", 28051, 0, "evil.example");
        TransportsConfig good = client_cfg();
        Peer c2(loop, good);
        REQUIRE(c2.start() == "");
        c2.tp->send(other, tt::options(3), 53);
        REQUIRE(run_until(loop, [&] { return c2.failed.size() == 1; }));
        CHECK(c2.failed[0].reason.find("certificate verify failed") != std::string::npos);
    }
}

TEST_CASE("transports: a peer that vanishes mid-connection", "[transport][tcp][fault]") {
    Loop loop;
    int lfd = tt::raw_listen(28061);
    REQUIRE(lfd >= 0);
    Peer client(loop, client_cfg());
    REQUIRE(client.start() == "");
    Target to = tgt(Transport::Tcp, "127.0.0.1", 28061);
    client.tp->send(to, tt::options(1), 61);
    REQUIRE(run_until(loop, [&] { return client.tp->counters().connections_opened == 1; }));
    tt::run_for(loop, 20ms);  // let the write go out
    int fd = ::accept(lfd, nullptr, nullptr);
    REQUIRE(fd >= 0);
    CHECK(tt::raw_read(fd).find("OPTIONS") == 0);
    // Vanish with a reset (SO_LINGER 0), as a crashed host behind a firewall would look.
    linger lg{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::close(fd);
    ::close(lfd);
    REQUIRE(run_until(loop, [&] { return client.tp->connection_count() == 0; }));
    CHECK(client.failed.empty());  // message 1 had been delivered
    CHECK(client.event_contains("reset"));
    // The next send finds nobody: connect refused, reported for its tag.
    client.tp->send(to, tt::options(2), 62);
    REQUIRE(run_until(loop, [&] { return client.failed.size() == 1; }));
    CHECK(client.failed[0].tag == 62);
    CHECK(client.tp->counters().connections_closed == 2);
}

TEST_CASE("transports: a server whose peer closes answers on a new connection",
          "[transport][tcp][fault]") {
    Loop loop;
    Peer server(loop, listening(Transport::Tcp, "127.0.0.1:28062"));
    Peer client(loop, listening(Transport::Tcp, "127.0.0.1:28063"));
    REQUIRE(server.start() == "");
    REQUIRE(client.start() == "");
    client.tp->send(tgt(Transport::Tcp, "127.0.0.1", 28062), tt::options(1), 1);
    REQUIRE(run_until(loop, [&] { return server.got.size() == 1; }));
    Target src = server.got[0].first;
    server.tp->close(src.conn);
    REQUIRE(run_until(loop, [&] { return client.tp->connection_count() == 0; }));
    // §18.2.2: the connection is gone; the response goes to the address instead (here the
    // client's listener, as a response_target() with the Via sent-by port would say).
    src.port = 28063;
    server.tp->send(src, "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", 7);
    REQUIRE(run_until(loop, [&] { return client.got.size() == 1; }));
    CHECK(server.failed.empty());
    CHECK(server.tp->counters().connections_opened == 1);
}

TEST_CASE("transports: a half message that stalls is closed by the idle timeout",
          "[transport][tcp][fault]") {
    Loop loop;
    TransportsConfig cfg = listening(Transport::Tcp, "127.0.0.1:28071");
    cfg.limits.idle_timeout = 300ms;
    Peer server(loop, cfg);
    REQUIRE(server.start() == "");
    int fd = tt::raw_connect(28071);
    REQUIRE(fd >= 0);
    const std::string msg = tt::options(1, "TCP");
    tt::raw_write(fd, msg.substr(0, msg.size() / 2));
    REQUIRE(run_until(loop, [&] { return server.tp->counters().connections_accepted == 1; }));
    CHECK(server.tp->connection_count() == 1);
    REQUIRE(run_until(
        loop, [&] { return server.tp->counters().idle_closed == 1; }, 3000ms));
    CHECK(server.tp->connection_count() == 0);
    CHECK(server.got.empty());
    CHECK(server.event_contains("incomplete message"));
    CHECK(server.events.size() == 1);
    CHECK(tt::raw_read(fd) == "<eof>");
    ::close(fd);
}

TEST_CASE("transports: CRLF keep-alive and framing errors on a stream", "[transport][tcp]") {
    Loop loop;
    Peer server(loop, listening(Transport::Tcp, "127.0.0.1:28081"));
    REQUIRE(server.start() == "");
    int fd = tt::raw_connect(28081);
    REQUIRE(fd >= 0);
    tt::raw_write(fd, "\r\n\r\n");  // RFC 5626 §3.5.1 ping
    REQUIRE(run_until(loop, [&] { return server.tp->counters().pings_answered == 1; }));
    tt::run_for(loop, 10ms);
    CHECK(tt::raw_read(fd) == "\r\n");
    tt::raw_write(fd, tt::options(1, "TCP"));
    REQUIRE(run_until(loop, [&] { return server.got.size() == 1; }));
    // A message without Content-Length cannot be framed on a stream (RFC 3261 §18.3).
    tt::raw_write(fd, "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n");
    REQUIRE(run_until(loop, [&] { return server.tp->counters().framing_errors == 1; }));
    CHECK(server.tp->connection_count() == 0);
    CHECK(server.event_contains("framing error"));
    CHECK(server.events.size() == 1);
    CHECK(tt::raw_read(fd) == "<eof>");
    ::close(fd);
}

TEST_CASE("transports: a flood of messages", "[transport][flood]") {
    SECTION("UDP") {
        Loop loop;
        Peer server(loop, listening(Transport::Udp, "127.0.0.1:28091"));
        Peer client(loop, client_cfg());
        REQUIRE(server.start() == "");
        REQUIRE(client.start() == "");
        constexpr int kN = 3000;
        int sent = 0;
        // Paced: at most 64 datagrams in flight, so the receiver's socket buffer (which
        // accounts ~1-2 KiB per small datagram) never overflows; every one must arrive.
        std::function<void()> burst;
        sip::uv::Timer pacer(loop, [&] { burst(); });
        burst = [&] {
            const int in_flight = sent - static_cast<int>(server.got.size());
            for (int i = 0; i < 32 && sent < kN && in_flight + i < 64; ++i, ++sent)
                client.tp->send(tgt(Transport::Udp, "127.0.0.1", 28091), tt::options(sent));
            if (sent < kN) pacer.arm_after(0ms);  // next loop turn (Timer makes it >= 1 ms)
        };
        burst();
        const bool all = run_until(
            loop, [&] { return static_cast<int>(server.got.size()) == kN; }, 20000ms);
        INFO("received " << server.got.size() << " of " << kN);
        REQUIRE(all);
        // Then unpaced: 2000 at once. UDP may drop the excess; nothing may fail or break.
        for (int i = 0; i < 2000; ++i)
            client.tp->send(tgt(Transport::Udp, "127.0.0.1", 28091), tt::options(kN + i));
        tt::run_for(loop, 200ms);
        CHECK(server.got.size() > static_cast<std::size_t>(kN));
        CHECK(server.got.size() <= static_cast<std::size_t>(kN + 2000));
        CHECK(client.tp->counters().messages_out == static_cast<std::uint64_t>(kN + 2000));
        CHECK(server.tp->counters().messages_in == server.got.size());
        CHECK(client.failed.empty());
    }
    SECTION("TCP, in order on one connection") {
        Loop loop;
        Peer server(loop, listening(Transport::Tcp, "127.0.0.1:28092"));
        TransportsConfig cc = client_cfg();
        cc.limits.max_pending_bytes = 8u << 20;
        Peer client(loop, cc);
        REQUIRE(server.start() == "");
        REQUIRE(client.start() == "");
        constexpr int kN = 5000;
        for (int i = 0; i < kN; ++i)
            client.tp->send(tgt(Transport::Tcp, "127.0.0.1", 28092), tt::options(i, "TCP"),
                            static_cast<std::uint64_t>(i + 1));
        REQUIRE(run_until(
            loop, [&] { return static_cast<int>(server.got.size()) == kN; }, 20000ms));
        bool in_order = true;
        for (int i = 0; i < kN; ++i)
            in_order &= server.got[i].second == tt::options(i, "TCP");
        CHECK(in_order);
        CHECK(client.tp->connection_count() == 1);
        CHECK(client.failed.empty());
    }
    SECTION("TCP past max_pending_bytes: the excess fails, the rest arrives") {
        Loop loop;
        Peer server(loop, listening(Transport::Tcp, "127.0.0.1:28093"));
        TransportsConfig cc = client_cfg();
        const std::size_t one = tt::options(0, "TCP").size();
        cc.limits.max_pending_bytes = one * 3 + 1;
        Peer client(loop, cc);
        REQUIRE(server.start() == "");
        REQUIRE(client.start() == "");
        for (int i = 0; i < 10; ++i)
            client.tp->send(tgt(Transport::Tcp, "127.0.0.1", 28093), tt::options(i, "TCP"),
                            static_cast<std::uint64_t>(i + 1));
        REQUIRE(
            run_until(loop, [&] { return server.got.size() == 3 && client.failed.size() == 7; }));
        CHECK(client.failed[0].tag == 4);
        CHECK(client.failed[0].reason.find("overflow") != std::string::npos);
        CHECK(client.events.size() == 1);  // logged once, not seven times
    }
}

TEST_CASE("transports: connections beyond max_connections are refused", "[transport][limits]") {
    Loop loop;
    TransportsConfig cfg = listening(Transport::Tcp, "127.0.0.1:28095");
    cfg.limits.max_connections = 2;
    Peer server(loop, cfg);
    REQUIRE(server.start() == "");
    Peer c1(loop, client_cfg()), c2(loop, client_cfg()), c3(loop, client_cfg());
    for (Peer* c : {&c1, &c2, &c3})
        REQUIRE(c->start() == "");
    Target to = tgt(Transport::Tcp, "127.0.0.1", 28095);
    c1.tp->send(to, tt::options(1), 1);
    c2.tp->send(to, tt::options(2), 2);
    REQUIRE(run_until(loop, [&] { return server.got.size() == 2; }));
    c3.tp->send(to, tt::options(3), 3);
    REQUIRE(run_until(loop, [&] { return server.tp->counters().connections_refused == 1; }));
    REQUIRE(run_until(loop, [&] { return c3.tp->connection_count() == 0; }));
    CHECK(server.got.size() == 2);
    CHECK(server.tp->connection_count() == 2);
    CHECK(server.event_contains("max_connections"));
    // Outbound side: a client limited to one connection fails a send needing a second.
    TransportsConfig one = client_cfg();
    one.limits.max_connections = 1;
    Peer c4(loop, one);
    REQUIRE(c4.start() == "");
    c4.tp->send(tgt(Transport::Tcp, "127.0.0.1", 28095), tt::options(4), 4);
    c4.tp->send(tgt(Transport::Tcp, "127.0.0.1", 28096), tt::options(5), 5);
    // (4 goes to the full server above: refused with a reset, so it may fail as well)
    auto fifth = [&]() -> const tt::Failed* {
        for (const auto& f : c4.failed)
            if (f.tag == 5) return &f;
        return nullptr;
    };
    REQUIRE(run_until(loop, [&] { return fifth() != nullptr; }));
    CHECK(fifth()->reason.find("max_connections") != std::string::npos);
}

TEST_CASE("transports: connect timeout", "[transport][fault]") {
    Loop loop;
    // A listener that never accepts and a backlog already full: SYNs go unanswered, so the
    // connect hangs until our bound. (Loopback answers instantly otherwise.)
    int lfd = tt::raw_listen(28097);
    REQUIRE(lfd >= 0);
    ::listen(lfd, 0);
    std::vector<int> fillers;
    for (int i = 0; i < 4; ++i) {
        int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(28097);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
        fillers.push_back(s);
    }
    TransportsConfig cc = client_cfg();
    cc.limits.connect_timeout = 300ms;
    Peer client(loop, cc);
    REQUIRE(client.start() == "");
    client.tp->send(tgt(Transport::Tcp, "127.0.0.1", 28097), tt::options(1), 97);
    REQUIRE(run_until(
        loop, [&] { return client.failed.size() == 1; }, 5000ms));
    INFO(client.failed[0].reason);
    // Either our timer or the kernel ended it; both are reported once with the tag.
    CHECK(client.failed[0].tag == 97);
    CHECK(client.tp->connection_count() == 0);
    for (int s : fillers)
        ::close(s);
    ::close(lfd);
}

TEST_CASE("transports: graceful shutdown flushes and closes", "[transport][shutdown]") {
    Loop loop;
    Peer server(loop, listening(Transport::Tcp, "127.0.0.1:28098"));
    Peer client(loop, client_cfg());
    REQUIRE(server.start() == "");
    REQUIRE(client.start() == "");
    for (int i = 0; i < 100; ++i)
        client.tp->send(tgt(Transport::Tcp, "127.0.0.1", 28098), tt::options(i, "TCP"));
    REQUIRE(run_until(loop, [&] { return client.tp->counters().connections_opened == 1; }));
    bool done = false;
    client.tp->shutdown([&] { done = true; });
    REQUIRE(run_until(loop, [&] { return done && server.got.size() == 100; }));
    CHECK(client.tp->connection_count() == 0);
    client.tp->send(tgt(Transport::Udp, "127.0.0.1", 28098), "x", 5);
    REQUIRE(run_until(loop, [&] { return client.failed.size() == 1; }));
    CHECK(client.failed[0].reason.find("shutting down") != std::string::npos);
    bool sdone = false;
    server.tp->shutdown([&] { sdone = true; });
    REQUIRE(run_until(loop, [&] { return sdone; }));
    // Nothing is left to keep the loop alive: run() returns by itself (a hang would time out).
    loop.run();
    CHECK(server.tp->connection_count() == 0);
    CHECK(client.tp->counters().connections_open == 0);
}

TEST_CASE("transports: start() names the listener that failed", "[transport][config]") {
    Loop loop;
    {
        Peer p(loop, listening(Transport::Udp, "127.0.0.1"));
        CHECK(p.start().find("listen UDP 127.0.0.1") != std::string::npos);
    }
    {
        Peer p(loop, listening(Transport::Tcp, "::1:5060"));
        CHECK(p.start().find("listen TCP ::1:5060") != std::string::npos);
    }
    {
        Peer a(loop, listening(Transport::Tcp, "127.0.0.1:28099"));
        Peer b(loop, listening(Transport::Tcp, "127.0.0.1:28099"));
        REQUIRE(a.start() == "");
        const std::string err = b.start();
        CHECK(err.find("listen TCP 127.0.0.1:28099") != std::string::npos);
        CHECK(err.find("in use") != std::string::npos);
    }
    {
        TransportsConfig c;
        c.listen.push_back({Transport::Tls, "127.0.0.1:28099"});
        Peer p(loop, c);
        CHECK(p.start().find("cert_file") != std::string::npos);
    }
    {
        // Port 0: the kernel picks; local_port() tells which.
        Peer p(loop, listening(Transport::Udp, "127.0.0.1:0"));
        REQUIRE(p.start() == "");
        CHECK(p.tp->local_port(0) != 0);
    }
}

TEST_CASE("transports: split_host_port", "[transport][config]") {
    std::string h;
    std::uint16_t p = 0;
    CHECK(sip::uv::split_host_port("127.0.0.1:5060", h, p));
    CHECK((h == "127.0.0.1" && p == 5060));
    CHECK(sip::uv::split_host_port("[::1]:5061", h, p));
    CHECK((h == "::1" && p == 5061));
    CHECK_FALSE(sip::uv::split_host_port("::1:5060", h, p));
    CHECK_FALSE(sip::uv::split_host_port("[::1]5060", h, p));
    CHECK_FALSE(sip::uv::split_host_port("1.2.3.4:65536", h, p));
    CHECK_FALSE(sip::uv::split_host_port("1.2.3.4:", h, p));
    CHECK_FALSE(sip::uv::split_host_port("[1.2.3.4]:5060", h, p));
}

TEST_CASE("transports: destroying with everything open leaks nothing", "[transport][shutdown]") {
    Loop loop;
    auto server = std::make_unique<Peer>(loop, listening(Transport::Tls, "127.0.0.1:28090"));
    auto client = std::make_unique<Peer>(loop, client_cfg());
    REQUIRE(server->start() == "");
    REQUIRE(client->start() == "");
    for (int i = 0; i < 10; ++i)
        client->tp->send(tgt(Transport::Tls, "127.0.0.1", 28090, 0, "sip.test"),
                         tt::options(i, "TLS"), static_cast<std::uint64_t>(i));
    client->tp->send(tgt(Transport::Udp, "127.0.0.1", 28090), tt::options(99));
    REQUIRE(run_until(loop, [&] { return server->got.size() == 10; }));
    client->tp->send(tgt(Transport::Tls, "127.0.0.1", 28090, 0, "sip.test"), "late", 1);
    client.reset();  // handlers are gone: nothing is reported after this
    server.reset();
    // ~Loop lets the close callbacks free the rest; ASan/LSan check the outcome.
}

// wiring::HepSender on a real loop and loopback sockets: which addresses a captured message
// carries, what is dropped and counted, the TCP backoff (issue 11 item 5).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "wiring/hep.hpp"

using namespace std::chrono_literals;

namespace {

const std::string kOptions =
    "OPTIONS sip:ping@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-1\r\n"
    "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: cid-7\r\n"
    "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

// A loopback socket of the test (the collector), and the port it got.
int bound_socket(int type, std::uint16_t& port) {
    const int fd = ::socket(AF_INET, type, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    socklen_t len = sizeof(a);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
    return fd;
}

std::map<std::uint16_t, std::string> chunks(const std::string& pkt) {
    std::map<std::uint16_t, std::string> out;
    REQUIRE(pkt.substr(0, 4) == "HEP3");
    auto u16 = [&](std::size_t at) {
        return static_cast<std::size_t>(static_cast<unsigned char>(pkt[at]) << 8 |
                                        static_cast<unsigned char>(pkt[at + 1]));
    };
    REQUIRE(u16(4) == pkt.size());
    for (std::size_t at = 6; at + 6 <= pkt.size(); at += u16(at + 4))
        out[static_cast<std::uint16_t>(u16(at + 2))] = pkt.substr(at + 6, u16(at + 4) - 6);
    return out;
}

std::string recv_some(int fd) {
    char buf[70000];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// Runs the loop until `done` or 3 s; a short timer keeps run_once from waiting forever.
bool spin(sip::uv::Loop& loop, const std::function<bool()>& done) {
    sip::uv::Timer tick(loop, [] {});
    const auto until = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < until) {
        if (done()) return true;  // once: the predicates consume what they read
        tick.arm_after(10ms);
        loop.run_once();
    }
    return false;
}

const std::vector<sip::uv::Listener> kListen{{sip::Transport::Udp, "127.0.0.1:5060"},
                                             {sip::Transport::Tcp, "[::1]:5070"}};

}  // namespace

TEST_CASE("hep sender: UDP packets carry the listener on our side and the peer on theirs",
          "[server][hep]") {
    std::uint16_t port = 0;
    const int col = bound_socket(SOCK_DGRAM, port);
    sip::uv::Loop loop;
    wiring::HepSender hep(loop, {.collector = "127.0.0.1:" + std::to_string(port)}, kListen);
    REQUIRE(hep.start().empty());

    hep.sent({sip::Transport::Udp, "127.0.0.1", 5080, 0, {}}, kOptions);
    std::string pkt;
    REQUIRE(spin(loop, [&] { return !(pkt = recv_some(col)).empty(); }));
    auto c = chunks(pkt);
    CHECK(c[0x0003] == std::string("\x7f\0\0\x01", 4));  // src: our UDP listener
    CHECK(c[0x0007] == std::string("\x13\xc4", 2));      // 5060
    CHECK(c[0x0008] == std::string("\x13\xd8", 2));      // 5080
    CHECK(c[0x000c] == std::string("\0\0\x07\xd1", 4));  // hep_id 2001 by default
    CHECK(c.count(0x000e) == 0);
    CHECK(c[0x000f] == kOptions);
    CHECK(c[0x0011] == "cid-7");

    // a TCP message from an IPv6 peer: our side is the TCP listener of that family
    hep.received({sip::Transport::Tcp, "::1", 40000, 3, {}}, kOptions);
    REQUIRE(spin(loop, [&] { return !(pkt = recv_some(col)).empty(); }));
    c = chunks(pkt);
    CHECK(c[0x0001] == std::string(1, '\x0a'));
    CHECK(c[0x0002] == std::string(1, '\x06'));
    CHECK(c[0x0006] == std::string("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16));
    CHECK(c[0x0008] == std::string("\x13\xce", 2));  // 5070

    // not encodable (not an IP literal): dropped and counted, nothing sent
    hep.sent({sip::Transport::Udp, "gw.example.com", 5060, 0, {}}, kOptions);
    CHECK(hep.counters().sent == 2);
    CHECK(hep.counters().dropped == 1);
    hep.close();
    hep.sent({sip::Transport::Udp, "127.0.0.1", 5080, 0, {}}, kOptions);  // after close: nothing
    CHECK(hep.counters().sent == 2);
    ::close(col);
}

TEST_CASE("hep sender: a TCP collector that is down costs drops, then a backoff", "[server][hep]") {
    std::uint16_t port = 0;
    ::close(bound_socket(SOCK_STREAM, port));  // a port nobody listens on
    sip::uv::Loop loop;
    wiring::HepSender hep(
        loop, {.collector = "127.0.0.1:" + std::to_string(port), .transport = sip::Transport::Tcp},
        kListen);
    REQUIRE(hep.start().empty());
    hep.sent({sip::Transport::Udp, "127.0.0.1", 5080, 0, {}}, kOptions);
    hep.sent({sip::Transport::Udp, "127.0.0.1", 5080, 0, {}}, kOptions);
    CHECK(hep.counters().sent == 2);  // queued while connecting
    REQUIRE(spin(loop, [&] { return hep.counters().dropped == 2; }));
    CHECK(hep.counters().sent == 0);
    // within the backoff no connection is tried: dropped at once
    hep.sent({sip::Transport::Udp, "127.0.0.1", 5080, 0, {}}, kOptions);
    CHECK(hep.counters().dropped == 3);
    CHECK(hep.counters().sent == 0);
    hep.close();
}

TEST_CASE("hep sender: a TCP collector gets the packets back to back on one stream",
          "[server][hep]") {
    std::uint16_t port = 0;
    const int srv = bound_socket(SOCK_STREAM, port);
    REQUIRE(::listen(srv, 4) == 0);
    ::fcntl(srv, F_SETFL, O_NONBLOCK);
    sip::uv::Loop loop;
    wiring::HepSender hep(loop,
                          {.collector = "127.0.0.1:" + std::to_string(port),
                           .transport = sip::Transport::Tcp,
                           .capture_id = 7,
                           .password = "pw"},
                          kListen);
    REQUIRE(hep.start().empty());
    hep.received({sip::Transport::Udp, "127.0.0.1", 5080, 0, {}}, kOptions);
    hep.sent({sip::Transport::Udp, "127.0.0.1", 5080, 0, {}}, kOptions);
    int conn = -1;
    std::string stream;
    REQUIRE(spin(loop, [&] {
        if (conn < 0) conn = ::accept(srv, nullptr, nullptr);
        if (conn >= 0) stream += recv_some(conn);
        return stream.size() >= 6;  // the first packet's length is known
    }));
    const std::size_t first =
        static_cast<unsigned char>(stream[4]) << 8 | static_cast<unsigned char>(stream[5]);
    REQUIRE(spin(loop, [&] {
        stream += recv_some(conn);
        return stream.size() >= 2 * first;
    }));
    CHECK(stream.size() == 2 * first);  // the same message both ways: the same length
    auto in = chunks(stream.substr(0, first)), out = chunks(stream.substr(first));
    CHECK(in[0x0007] == std::string("\x13\xd8", 2));   // from the peer, 5080
    CHECK(out[0x0007] == std::string("\x13\xc4", 2));  // from us, 5060
    CHECK(in[0x000e] == "pw");
    CHECK(out[0x000c] == std::string("\0\0\0\x07", 4));
    CHECK(hep.counters().sent == 2);
    CHECK(hep.counters().dropped == 0);
    hep.close();
    ::close(conn);
    ::close(srv);
}

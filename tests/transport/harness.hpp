// Shared helpers for the transport tests: bounded loop runs, a recording peer, raw sockets.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sip/uv/loop.hpp"
#include "sip/uv/transports.hpp"

namespace tt {

using namespace std::chrono_literals;

// Runs the loop until `done()` holds or `limit` passes (a deadline timer bounds every wait).
inline bool run_until(sip::uv::Loop& loop, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = 5000ms) {
    bool expired = false;
    sip::uv::Timer deadline(loop, [&] { expired = true; });
    deadline.arm_after(limit);
    // uv_run(ONCE) still blocks in poll after running timers; a 5 ms tick bounds that, so
    // `done()` is looked at promptly after a timer-driven event (deferred failure reports).
    std::function<void()> again;
    sip::uv::Timer tick(loop, [&] { again(); });
    again = [&] { tick.arm_after(std::chrono::milliseconds(5)); };
    again();
    while (!done() && !expired)
        loop.run_once();
    return done();
}

// Runs the loop for `d` whatever happens (to show something does NOT happen).
inline void run_for(sip::uv::Loop& loop, std::chrono::milliseconds d) {
    run_until(
        loop, [] { return false; }, d);
}

inline std::string options(int n, std::string_view transport = "UDP") {
    std::string s = "OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\n";
    s += "Via: SIP/2.0/" + std::string(transport) + " 127.0.0.1:5060;branch=z9hG4bK-" +
         std::to_string(n) + "\r\n";
    s += "From: <sip:t@test>;tag=1\r\nTo: <sip:probe@test>\r\n";
    s += "Call-ID: call-" + std::to_string(n) + "\r\nCSeq: 1 OPTIONS\r\n";
    s += "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    return s;
}

struct Failed {
    std::uint64_t tag;
    sip::Target to;
    std::string reason;
};

// A Transports that records everything its handlers see.
struct Peer {
    std::vector<std::pair<sip::Target, std::string>> got;
    std::vector<Failed> failed;
    std::vector<std::string> events;
    std::function<void(const sip::Target&, std::string_view)> on_message;  // optional extra
    std::unique_ptr<sip::uv::Transports> tp;

    Peer(sip::uv::Loop& loop, sip::uv::TransportsConfig cfg) {
        tp = std::make_unique<sip::uv::Transports>(
            loop, std::move(cfg),
            sip::uv::TransportHandlers{
                .on_message =
                    [this](const sip::Target& src, std::string_view b) {
                        got.emplace_back(src, std::string(b));
                        if (on_message) on_message(src, b);
                    },
                .on_send_failed =
                    [this](std::uint64_t tag, const sip::Target& to, std::string_view why) {
                        failed.push_back({tag, to, std::string(why)});
                    },
                .on_event = [this](std::string_view l) { events.emplace_back(l); },
            });
    }
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;

    std::string start() { return tp->start(); }
    bool event_contains(std::string_view what) const {
        for (const auto& e : events)
            if (e.find(what) != std::string::npos) return true;
        return false;
    }
    std::string all_events() const {
        std::string s;
        for (const auto& e : events)
            s += e + "\n";
        return s;
    }
};

// Can this machine bind ::1? (Containers without IPv6 cannot; those tests are skipped.)
inline bool have_ipv6() {
    int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
    if (fd < 0) return false;
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    ::close(fd);
    return ok;
}

// Blocking POSIX TCP sockets for misbehaving peers.
inline int raw_connect(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline int raw_listen(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 8) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline void raw_write(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
        if (n <= 0) return;
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Reads what is there within `ms`; returns "" on timeout, "<eof>" on orderly close.
inline std::string raw_read(int fd, int ms = 2000) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return {};
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return "<eof>";
    if (n < 0) return "<error>";
    return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace tt

// Test support: a real DNS server (dnsmasq, authoritative for the test zone) on
// 127.0.0.1:<port>, started with posix_spawn and stopped by PID. Records are given as
// dnsmasq options; changing them restarts the server (what a carrier's DNS change looks like
// from outside). Every wait is bounded.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace domain_test {

inline std::string find_dnsmasq() {
    for (const char* p : {"/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq"}) {
        struct stat st {};
        if (stat(p, &st) == 0) return p;
    }
    return {};
}

inline int port_base() {
    const char* b = std::getenv("DOMAIN_DNS_PORT_BASE");
    return b ? std::atoi(b) : 27100;
}

class DnsServer {
  public:
    DnsServer(int port, std::string zone) : port_(port), zone_(std::move(zone)) {}
    ~DnsServer() { stop(); }
    DnsServer(const DnsServer&) = delete;
    DnsServer& operator=(const DnsServer&) = delete;

    int port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

    // `records`: dnsmasq options (--host-record=..., --srv-host=..., --naptr-record=...).
    bool start(const std::vector<std::string>& records, unsigned ttl) {
        stop();
        const std::string bin = find_dnsmasq();
        if (bin.empty()) return false;
        std::vector<std::string> args = {
            bin,
            "-k",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--port=" + std::to_string(port_),
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--pid-file=",
            "--log-facility=/dev/null",
            "--local=/" + zone_ + "/",
            "--auth-zone=" + zone_,
            "--auth-server=ns." + zone_ + ",127.0.0.1",
            "--auth-soa=1,hostmaster." + zone_ + ",1200,120,1000," + std::to_string(ttl),
            "--auth-ttl=" + std::to_string(ttl),
            "--local-ttl=" + std::to_string(ttl)};
        args.insert(args.end(), records.begin(), records.end());
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        if (posix_spawn(&pid_, bin.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
            pid_ = -1;
            return false;
        }
        return wait_ready();
    }

    void stop() {
        if (pid_ <= 0) return;
        kill(pid_, SIGTERM);
        int status = 0;
        for (int i = 0; i < 200; ++i) {  // ≤ 2 s, then SIGKILL
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
    }

  private:
    // Polls with a real query (the SOA of the zone) until the server answers, ≤ 3 s.
    bool wait_ready() {
        std::vector<unsigned char> q = {0x00, 0x01, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
        std::string z = zone_;
        std::size_t pos = 0;
        while (pos <= z.size()) {
            auto dot = z.find('.', pos);
            if (dot == std::string::npos) dot = z.size();
            q.push_back(static_cast<unsigned char>(dot - pos));
            for (std::size_t i = pos; i < dot; ++i)
                q.push_back(static_cast<unsigned char>(z[i]));
            pos = dot + 1;
        }
        q.insert(q.end(), {0, 0, 6, 0, 1});
        const int fd = socket(AF_INET, SOCK_DGRAM, 0);
        timeval tv{0, 50000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(static_cast<std::uint16_t>(port_));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bool ok = false;
        for (int i = 0; i < 60 && !ok; ++i) {
            sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
            unsigned char buf[512];
            ok = recv(fd, buf, sizeof buf, 0) > 0;
            if (!ok) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        close(fd);
        return ok;
    }

    int port_;
    std::string zone_;
    pid_t pid_ = -1;
};

}  // namespace domain_test

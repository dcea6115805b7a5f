#include "addr.hpp"

#include <cstring>

#include "sip/uv/transports.hpp"

namespace sip::uv {

bool split_host_port(std::string_view spec, std::string& host, std::uint16_t& port) {
    std::string_view h;
    std::string_view p;
    if (!spec.empty() && spec.front() == '[') {
        // RFC 3986 §3.2.2: an IPv6 literal is bracketed so its colons are not the port's.
        const auto rb = spec.find(']');
        if (rb == std::string_view::npos || rb + 1 >= spec.size() || spec[rb + 1] != ':')
            return false;
        h = spec.substr(1, rb - 1);
        p = spec.substr(rb + 2);
        if (h.find(':') == std::string_view::npos) return false;
    } else {
        const auto c = spec.rfind(':');
        if (c == std::string_view::npos) return false;
        h = spec.substr(0, c);
        p = spec.substr(c + 1);
        if (h.find(':') != std::string_view::npos) return false;  // unbracketed IPv6
    }
    if (h.empty() || p.empty() || p.size() > 5) return false;
    std::uint32_t v = 0;
    for (char ch : p) {
        if (ch < '0' || ch > '9') return false;
        v = v * 10 + static_cast<std::uint32_t>(ch - '0');
    }
    if (v > 65535) return false;
    host.assign(h);
    port = static_cast<std::uint16_t>(v);
    return true;
}

namespace detail {

namespace {
// Every UDP datagram sent goes through make_sockaddr, nearly always with a dotted quad:
// read it by hand (uv_ip4_addr's inet_pton was ~450 instructions of each OPTIONS answer).
// Strict like inet_pton: four decimal octets, each 0-255 without a leading zero; anything
// else is left to uv_ip4_addr, so what is accepted does not change.
bool dotted_quad(std::string_view host, std::uint32_t& be_addr) {
    unsigned char octets[4];
    std::size_t i = 0;
    for (int k = 0; k < 4; ++k) {
        if (k > 0) {
            if (i >= host.size() || host[i] != '.') return false;
            ++i;
        }
        const std::size_t start = i;
        unsigned v = 0;
        while (i < host.size() && i - start < 3 && host[i] >= '0' && host[i] <= '9')
            v = v * 10 + static_cast<unsigned>(host[i++] - '0');
        const std::size_t digits = i - start;
        if (digits == 0 || v > 255 || (digits > 1 && host[start] == '0')) return false;
        octets[k] = static_cast<unsigned char>(v);
    }
    if (i != host.size()) return false;
    std::memcpy(&be_addr, octets, sizeof be_addr);  // network order is the text's order
    return true;
}
}  // namespace

bool make_sockaddr(std::string_view host, std::uint16_t port, sockaddr_storage& out) {
    std::memset(&out, 0, sizeof out);
    if (host.empty() || host.size() > 63) return false;
    if (std::uint32_t a = 0; dotted_quad(host, a)) {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&out);
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        s4->sin_addr.s_addr = a;
        return true;
    }
    char buf[64];
    std::memcpy(buf, host.data(), host.size());
    buf[host.size()] = '\0';
    if (host.find(':') != std::string_view::npos)
        return uv_ip6_addr(buf, port, reinterpret_cast<sockaddr_in6*>(&out)) == 0;
    return uv_ip4_addr(buf, port, reinterpret_cast<sockaddr_in*>(&out)) == 0;
}

void sockaddr_parts(const sockaddr* sa, std::string& host, std::uint16_t& port) {
    if (sa->sa_family == AF_INET6) {
        char buf[64] = {0};
        const auto* s6 = reinterpret_cast<const sockaddr_in6*>(sa);
        uv_ip6_name(s6, buf, sizeof buf);
        port = ntohs(s6->sin6_port);
        host = buf;
        return;
    }
    // Every datagram's source goes through here: dotted quad by hand, not inet_ntop+snprintf.
    const auto* s4 = reinterpret_cast<const sockaddr_in*>(sa);
    const auto* b = reinterpret_cast<const unsigned char*>(&s4->sin_addr.s_addr);
    char buf[16];
    char* p = buf;
    for (int i = 0; i < 4; ++i) {
        const unsigned v = b[i];
        if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
        if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
        *p++ = static_cast<char>('0' + v % 10);
        if (i < 3) *p++ = '.';
    }
    host.assign(buf, p);
    port = ntohs(s4->sin_port);
}

std::string host_port(std::string_view host, std::uint16_t port) {
    std::string s;
    if (host.find(':') != std::string_view::npos) {
        s += '[';
        s += host;
        s += ']';
    } else {
        s += host;
    }
    s += ':';
    s += std::to_string(port);
    return s;
}

std::string source_key(const sockaddr* sa) {
    std::string host;
    std::uint16_t port = 0;
    if (sa->sa_family != AF_INET6) {
        sockaddr_parts(sa, host, port);
        return host;
    }
    sockaddr_in6 s6 = *reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr)) {
        sockaddr_in s4{};
        s4.sin_family = AF_INET;
        std::memcpy(&s4.sin_addr, s6.sin6_addr.s6_addr + 12, 4);
        sockaddr_parts(reinterpret_cast<const sockaddr*>(&s4), host, port);
        return host;
    }
    std::memset(s6.sin6_addr.s6_addr + 8, 0, 8);
    s6.sin6_scope_id = 0;
    sockaddr_parts(reinterpret_cast<const sockaddr*>(&s6), host, port);
    return host + "/64";
}

bool source_key(std::string_view spec, std::string& key) {
    if (spec.size() > 3 && spec.substr(spec.size() - 3) == "/64") {
        spec.remove_suffix(3);
        if (spec.find(':') == std::string_view::npos) return false;  // IPv4 has no /64
    }
    sockaddr_storage sa{};
    if (!make_sockaddr(spec, 0, sa)) return false;
    key = source_key(reinterpret_cast<const sockaddr*>(&sa));
    return true;
}

}  // namespace detail
}  // namespace sip::uv

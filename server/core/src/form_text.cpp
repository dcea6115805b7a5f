#include "sw/form_text.hpp"

#include <arpa/inet.h>  // inet_pton: a pure parse, no I/O

#include <algorithm>
#include <cctype>

namespace sw::form {

std::string show_value(const std::string& v) {
    const bool blank = v.empty() || std::any_of(v.begin(), v.end(), [](char c) {
                           return std::isspace(static_cast<unsigned char>(c)) != 0;
                       });
    return blank ? "'" + v + "'" : v;
}

std::string opt_text(const std::string& opt, const std::string& v) {
    return opt + " " + show_value(v);
}

std::string lower(std::string s) {
    for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool is_ipv4(const std::string& h) {
    in_addr a{};
    return inet_pton(AF_INET, h.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& h) {
    in6_addr a{};
    return inet_pton(AF_INET6, h.c_str(), &a) == 1;
}

bool is_ip(const std::string& h) {
    return is_ipv4(h) || is_ipv6(h);
}

bool valid_host(const std::string& h) {
    if (h.empty() || h.size() > 253) return false;
    if (is_ip(h)) return true;
    std::size_t label = 0;
    char prev = '.';
    for (char c : h) {
        if (c == '.') {
            if (label == 0 || prev == '-') return false;
            label = 0;
        } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (c == '-' && label > 0)) {
            if (++label > 63) return false;
        } else {
            return false;
        }
        prev = c;
    }
    return label > 0 && prev != '-';
}

std::string unbracket(const std::string& h) {
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') {
        std::string in = h.substr(1, h.size() - 2);
        if (is_ipv6(in)) return in;
    }
    return h;
}

std::optional<unsigned long> parse_port(const std::string& p) {
    // 12 digits at most: leading zeros pass, as they did in gateway_form's number parse.
    if (p.empty() || p.size() > 12) return std::nullopt;
    unsigned long v = 0;
    for (char c : p) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned long>(c - '0');
    }
    if (v < 1 || v > 65535) return std::nullopt;
    return v;
}

std::optional<std::string> parse_host_port(const std::string& v, bool need_ip, bool port_required) {
    std::string host = v;
    std::string port;
    if (!v.empty() && v[0] == '[') {
        const auto close = v.find(']');
        if (close == std::string::npos) return std::nullopt;
        host = v.substr(1, close - 1);
        if (!is_ipv6(host)) return std::nullopt;
        if (close + 1 < v.size()) {
            if (v[close + 1] != ':') return std::nullopt;
            port = v.substr(close + 2);
            if (port.empty()) return std::nullopt;
        }
    } else if (is_ipv6(v)) {
        if (port_required) return std::nullopt;
        return "[" + v + "]";
    } else if (const auto colon = v.find(':'); colon != std::string::npos) {
        host = v.substr(0, colon);
        port = v.substr(colon + 1);
        if (port.empty()) return std::nullopt;
    }
    if (need_ip ? !is_ip(host) : !valid_host(host)) return std::nullopt;
    if (port.empty() && port_required) return std::nullopt;
    if (!port.empty() && !parse_port(port)) return std::nullopt;
    const std::string h = is_ipv6(host) ? "[" + host + "]" : host;
    return port.empty() ? h : h + ":" + port;
}

std::optional<sip::Transport> parse_transport(std::string t) {
    t = lower(std::move(t));
    if (t == "udp") return sip::Transport::Udp;
    if (t == "tcp") return sip::Transport::Tcp;
    if (t == "tls") return sip::Transport::Tls;
    return std::nullopt;
}

}  // namespace sw::form

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

}  // namespace sw::form

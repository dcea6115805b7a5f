// Parameter iteration and small text utilities shared by the typed views.
#include <cstring>
#include <string>

#include "parse_util.hpp"
#include "sip/headers.hpp"

namespace sip {

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        unsigned char x = static_cast<unsigned char>(a[i]);
        unsigned char y = static_cast<unsigned char>(b[i]);
        if (x == y) continue;
        if ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z') return false;
    }
    return true;
}

namespace detail {

namespace {
void skip_lws(std::string_view& s) noexcept {
    std::size_t i = 0;
    while (i < s.size() && is_lws(s[i])) ++i;
    s.remove_prefix(i);
}
}  // namespace

bool next_param(std::string_view& s, Param& out) noexcept {
    skip_lws(s);
    if (s.empty() || s[0] != ';') return false;
    s.remove_prefix(1);
    skip_lws(s);
    std::size_t n = 0;
    while (n < s.size() && !is_lws(s[n]) && s[n] != '=' && s[n] != ';' && s[n] != ',') ++n;
    out = Param{};
    out.name = s.substr(0, n);
    s.remove_prefix(n);
    std::string_view rest = s;
    skip_lws(rest);
    if (rest.empty() || rest[0] != '=') return true;
    rest.remove_prefix(1);
    skip_lws(rest);
    out.has_value = true;
    if (!rest.empty() && rest[0] == '"') {
        // quoted-string: runs to the first unescaped '"' (RFC 3261 §25.1 quoted-pair)
        std::size_t i = 1;
        while (i < rest.size() && rest[i] != '"') i += (rest[i] == '\\') ? 2 : 1;
        if (i > rest.size()) i = rest.size();
        out.quoted = true;
        out.value = rest.substr(1, i - 1);
        rest.remove_prefix(i < rest.size() ? i + 1 : i);
    } else {
        std::size_t v = 0;
        while (v < rest.size() && !is_lws(rest[v]) && rest[v] != ';' && rest[v] != ',') ++v;
        out.value = rest.substr(0, v);
        rest.remove_prefix(v);
    }
    s = rest;
    return true;
}

}  // namespace detail

std::optional<std::string_view> find_param(std::string_view params,
                                           std::string_view name) noexcept {
    detail::Param p;
    while (detail::next_param(params, p)) {
        if (iequals(p.name, name)) return p.value;
    }
    return std::nullopt;
}

Method method_from(std::string_view t) noexcept {
    switch (t.size()) {
        case 3:
            if (t == "ACK") return Method::Ack;
            if (t == "BYE") return Method::Bye;
            break;
        case 4:
            if (t == "INFO") return Method::Info;
            break;
        case 5:
            if (t == "PRACK") return Method::Prack;
            if (t == "REFER") return Method::Refer;
            break;
        case 6:
            if (t == "INVITE") return Method::Invite;
            if (t == "CANCEL") return Method::Cancel;
            if (t == "NOTIFY") return Method::Notify;
            if (t == "UPDATE") return Method::Update;
            break;
        case 7:
            if (t == "OPTIONS") return Method::Options;
            if (t == "PUBLISH") return Method::Publish;
            if (t == "MESSAGE") return Method::Message;
            break;
        case 8:
            if (t == "REGISTER") return Method::Register;
            break;
        case 9:
            if (t == "SUBSCRIBE") return Method::Subscribe;
            break;
        default: break;
    }
    return Method::Unknown;
}

std::string_view method_name(Method m) noexcept {
    switch (m) {
        case Method::Invite: return "INVITE";
        case Method::Ack: return "ACK";
        case Method::Bye: return "BYE";
        case Method::Cancel: return "CANCEL";
        case Method::Options: return "OPTIONS";
        case Method::Register: return "REGISTER";
        case Method::Prack: return "PRACK";
        case Method::Subscribe: return "SUBSCRIBE";
        case Method::Notify: return "NOTIFY";
        case Method::Publish: return "PUBLISH";
        case Method::Info: return "INFO";
        case Method::Refer: return "REFER";
        case Method::Message: return "MESSAGE";
        case Method::Update: return "UPDATE";
        case Method::Unknown: break;
    }
    return {};
}

std::string unquote(std::string_view q) {
    std::string out;
    out.reserve(q.size());
    for (std::size_t i = 0; i < q.size(); ++i) {
        if (q[i] == '\\' && i + 1 < q.size()) ++i;
        out.push_back(q[i]);
    }
    return out;
}

std::string unescape(std::string_view s) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

}  // namespace sip

// The checks of a carrier registration entry (sw/trunk_form.hpp), moved from trunkctl's
// trunk-reg command so the management API shares them, messages included.
#include "sw/trunk_form.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "sw/form_text.hpp"

namespace sw::trunk_form {

using route::reg::Privacy;
using route::reg::TrunkReg;

namespace {

using Result = std::optional<Error>;

Error bad(const std::string& option, std::string message) {
    return Error{option, std::move(message)};
}

using form::is_ipv4;
using form::is_ipv6;
using form::lower;
using form::opt_text;
using form::parse_host_port;
using form::show_value;
using form::valid_host;

std::optional<unsigned long> parse_uint(const std::string& s) {
    if (s.empty() || s.size() > 9) return std::nullopt;
    unsigned long v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned long>(c - '0');
    }
    return v;
}

constexpr std::size_t kMaxName = 64;
constexpr const char* kUserChars = "letters, digits and -_.!~*'()&=+$,;?/";

bool user_char(char c) {
    // RFC 3261 §25.1 user = 1*( unreserved / escaped / user-unreserved ), without escapes.
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::strchr("-_.!~*'()&=+$,;?/", c) != nullptr;
}

std::string char_text(char c) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned char>(c));
        return buf;
    }
    return std::string("'") + c + "'";
}

}  // namespace

// nullopt when `v` is a valid SIP user part; else the message, with `what` naming it.
std::optional<std::string> check_user_part(const std::string& what, const std::string& v) {
    if (v.empty()) return what + " is empty (1.." + std::to_string(kMaxName) + " characters)";
    if (v.size() > kMaxName) {
        return what + " " + show_value(v) + ": " + std::to_string(v.size()) +
               " characters, at most " + std::to_string(kMaxName);
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (!user_char(v[i])) {
            return what + " " + show_value(v) + ": character " + char_text(v[i]) + " at position " +
                   std::to_string(i + 1) + " is not allowed (RFC 3261 user: " + kUserChars + ")";
        }
    }
    return std::nullopt;
}

std::optional<std::string> check_name(const std::string& v) {
    if (v.empty()) return "trunk-reg name is empty (1..64 characters)";
    if (v.size() > kMaxName) {
        return "trunk-reg name " + show_value(v) + ": " + std::to_string(v.size()) +
               " characters, at most " + std::to_string(kMaxName);
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
            return "trunk-reg name " + show_value(v) + ": character " + char_text(c) +
                   " at position " + std::to_string(i + 1) +
                   " is not allowed (letters, digits, '-', '_', '.')";
        }
    }
    return std::nullopt;
}

// Printable, no quotes or backslashes (realm and digest user name go into quoted-strings).
std::optional<std::string> check_quotable(const std::string& what, const std::string& v) {
    if (v.empty()) return what + " is empty";
    if (v.size() > 128) return what + ": " + std::to_string(v.size()) + " characters, at most 128";
    for (char c : v) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            return opt_text(what, v) + ": character " + char_text(c) +
                   " is not allowed (no quotes, backslashes or control characters)";
        }
    }
    return std::nullopt;
}

namespace {

bool is_default(const std::string& v) {
    return v.empty() || lower(v) == "default";
}

// An optional port option: "default"/"" -> 0.
Result port_option(const Values& a, const char* opt, std::uint16_t& dst) {
    if (!a.has(opt)) return std::nullopt;
    const std::string v = a.get(opt);
    if (is_default(v)) {
        dst = 0;
        return std::nullopt;
    }
    auto p = parse_uint(v);
    if (!p) return bad(opt, opt_text(opt, v) + ": not a port number (1..65535)");
    if (*p < 1 || *p > 65535) return bad(opt, opt_text(opt, v) + ": outside 1..65535");
    dst = static_cast<std::uint16_t>(*p);
    return std::nullopt;
}

// An optional HOST[:PORT] option: "default"/"" clears; `complaint` follows the value.
Result host_port_option(const Values& a, const char* opt, std::string& dst, const char* complaint) {
    if (!a.has(opt)) return std::nullopt;
    const std::string v = a.get(opt);
    if (is_default(v)) {
        dst.clear();
    } else if (auto hp = parse_host_port(v)) {
        dst = *hp;
    } else {
        return bad(opt, opt_text(opt, v) + complaint);
    }
    return std::nullopt;
}

}  // namespace

// Applies the options given to `r` (validated). `adding`: --server and --user are required.

Result apply(const Values& a, TrunkReg& r, bool adding) {
    if (a.has("--server")) {
        std::string v = a.get("--server");
        const std::string host = form::unbracket(v);
        if (!valid_host(host)) {
            if (v.find(':') != std::string::npos && !is_ipv6(host)) {
                return bad("--server", opt_text("--server", v) +
                                       ": not a host name or IP address (give the port with "
                                       "--port)");
            }
            return bad("--server", opt_text("--server", v) + ": not a host name or IP address");
        }
        r.server = host;
    } else if (adding) {
        return bad("--server", "trunk-reg add needs --server HOST");
    }
    if (auto e = port_option(a, "--port", r.port)) return e;
    if (a.has("--transport")) {
        auto t = form::parse_transport(a.get("--transport"));
        if (!t)
            return bad("--transport", opt_text("--transport", a.get("--transport")) + ": use udp, tcp or tls");
        r.transport = *t;
    }
    if (auto e = host_port_option(a, "--outbound-proxy", r.outbound_proxy,
                                  ": not HOST[:PORT] (a host name or IP address, [IPv6], "
                                  "PORT 1..65535)"))
        return e;
    if (a.has("--user")) {
        const std::string v = a.get("--user");
        if (auto e = check_user_part("--user", v)) return bad("--user", *e);
        r.aor_user = v;
    } else if (adding) {
        return bad("--user", "trunk-reg add needs --user AOR_USER");
    }
    if (auto e = host_port_option(a, "--domain", r.aor_domain, ": not a host name or IP address"))
        return e;
    if (a.has("--auth-user")) {
        const std::string v = a.get("--auth-user");
        if (is_default(v)) {
            r.auth_user.clear();
        } else if (auto e = check_quotable("--auth-user", v)) {
            return bad("--auth-user", *e);
        } else {
            r.auth_user = v;
        }
    }
    if (a.has("--contact-host")) {
        const std::string v = a.get("--contact-host");
        std::string host = v;
        if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
            host = host.substr(1, host.size() - 2);
        }
        if (is_default(v)) {
            r.contact_host.clear();
        } else if (valid_host(host)) {
            r.contact_host = host;
        } else {
            return bad("--contact-host", opt_text("--contact-host", v) +
                                   ": not a host name or IP address (give the port with "
                                   "--contact-port)");
        }
    }
    if (auto e = port_option(a, "--contact-port", r.contact_port)) return e;
    if (a.has("--expires")) {
        const std::string v = a.get("--expires");
        if (lower(v) == "auto") {
            r.expires_s = 0;
        } else if (is_default(v)) {
            r.expires_s.reset();
        } else {
            auto n = parse_uint(v);
            if (!n)
                return bad("--expires", opt_text("--expires", v) + ": not seconds (20..7200) or auto");
            if (*n < 20 || *n > 7200) {
                return bad("--expires", opt_text("--expires", v) + ": outside 20..7200 s (or auto)");
            }
            r.expires_s = static_cast<std::uint32_t>(*n);
        }
    }
    if (a.has("--retry-delay")) {
        const std::string v = a.get("--retry-delay");
        if (is_default(v)) {
            r.retry_delay_s.reset();
        } else {
            auto n = parse_uint(v);
            if (!n) return bad("--retry-delay", opt_text("--retry-delay", v) + ": not seconds (30..600)");
            if (*n < 30 || *n > 600) {
                return bad("--retry-delay", opt_text("--retry-delay", v) + ": outside 30..600 s");
            }
            r.retry_delay_s = static_cast<std::uint32_t>(*n);
        }
    }
    if (a.has("--privacy")) {
        const std::string v = lower(a.get("--privacy"));
        if (v == "ignore")
            r.privacy = Privacy::ignore;
        else if (v == "id")
            r.privacy = Privacy::id;
        else if (v == "none")
            r.privacy = Privacy::none;
        else if (is_default(v))
            r.privacy.reset();
        else
            return bad("--privacy", opt_text("--privacy", a.get("--privacy")) + ": use ignore, id or none");
    }
    if (a.has("--send-unregister")) {
        const std::string v = lower(a.get("--send-unregister"));
        if (v == "on")
            r.send_unregister = true;
        else if (v == "off")
            r.send_unregister = false;
        else if (is_default(v))
            r.send_unregister.reset();
        else
            return bad("--send-unregister", opt_text("--send-unregister", a.get("--send-unregister")) +
                                   ": use on or off");
    }
    if (a.has("--disabled") && a.has("--enabled")) {
        return bad("--enabled", "give --disabled or --enabled, not both");
    }
    if (a.has("--disabled")) r.enabled = false;
    if (a.has("--enabled")) r.enabled = true;
    return std::nullopt;
}


}  // namespace sw::trunk_form

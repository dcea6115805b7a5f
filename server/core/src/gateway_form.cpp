// The field checks of `trunkctl gateway|group` and the management API's gateways and groups
// (sw/gateway_form.hpp). The messages are trunkctl's, unchanged: its tests pin them, and the
// API shows them with the option replaced by the JSON field.
#include "sw/gateway_form.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "billing/money.hpp"
#include "billing/rate.hpp"
#include "route/lcr/rewrite.hpp"
#include "sw/form_text.hpp"

namespace sw::gateway_form {

namespace lcr = route::lcr;

namespace {

using Result = std::optional<Error>;

Error bad(const std::string& option, std::string message) {
    return Error{option, std::move(message)};
}

using form::is_ip;
using form::is_ipv6;
using form::lower;
using form::parse_host_port;
using form::parse_port;
using form::show_value;
using form::unbracket;
using form::valid_host;

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i)
        out += (i ? "," : "") + v[i];
    return out;
}

std::string money_text(lcr::Micros m) {
    return billing::Money::from_micros(m).to_string(4);
}

std::optional<long long> parse_integer(const std::string& s) {
    std::size_t i = 0;
    bool neg = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == s.size() || s.size() - i > 12) return std::nullopt;
    long long v = 0;
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
        v = v * 10 + (s[i] - '0');
    }
    return neg ? -v : v;
}

bool is_default(const std::string& v) {
    return v.empty() || lower(v) == "default" || lower(v) == "none";
}

// Hands each entry of the comma list `v` to `take` in order, stopping at the first error, so
// an entry's own complaint comes before a later entry's emptiness ("" has no entries).
template <class Take>
Result each_entry(const std::string& opt, const std::string& v, Take take) {
    std::size_t start = 0, index = 1;
    for (; !v.empty(); ++index) {
        const auto comma = v.find(',', start);
        std::string e =
            v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (e.empty())
            return bad(opt, opt_text(opt, v) + ": entry " + std::to_string(index) + " is empty");
        if (auto err = take(e)) return err;
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return std::nullopt;
}

// The given options, each value checked on its own; every reader leaves `out` unset when
// the option was not given.
class Fields {
  public:
    explicit Fields(const Values& v) : v_(v) {}

    Result integer(const std::string& opt, long long lo, long long hi, const char* what,
                   std::optional<long long>& out) const {
        out.reset();
        if (!v_.has(opt)) return std::nullopt;
        const std::string v = v_.get(opt);
        auto n = parse_integer(v);
        if (!n) {
            return bad(opt, opt_text(opt, v) + ": not a whole number (" + what + ", " +
                                std::to_string(lo) + ".." + std::to_string(hi) + ")");
        }
        if (*n < lo || *n > hi) {
            return bad(opt, opt_text(opt, v) + ": outside " + std::to_string(lo) + ".." +
                                std::to_string(hi) + " (" + what + ")");
        }
        out = *n;
        return std::nullopt;
    }

    template <class T>
    Result number(const std::string& opt, long long lo, long long hi, const char* what,
                  T& dst) const {
        std::optional<long long> n;
        if (auto e = integer(opt, lo, hi, what, n)) return e;
        if (n) dst = static_cast<T>(*n);
        return std::nullopt;
    }

    Result yes_no(const std::string& opt, bool& dst) const {
        if (!v_.has(opt)) return std::nullopt;
        const std::string v = lower(v_.get(opt));
        if (v == "yes" || v == "on" || v == "true" || v == "1") {
            dst = true;
        } else if (v == "no" || v == "off" || v == "false" || v == "0") {
            dst = false;
        } else {
            return bad(opt, opt_text(opt, v_.get(opt)) + ": use yes or no");
        }
        return std::nullopt;
    }

    // A comma list of digit prefixes; '' clears; `star`: '*' stands for "" (every number).
    Result prefixes(const std::string& opt, bool star, std::vector<std::string>& dst) const {
        if (!v_.has(opt)) return std::nullopt;
        const std::string v = v_.get(opt);
        std::vector<std::string> list;
        auto err = each_entry(opt, v, [&](std::string& e) -> Result {
            if (star && e == "*") {
                e.clear();
            } else if (!std::all_of(e.begin(), e.end(),
                                    [](char ch) { return ch >= '0' && ch <= '9'; })) {
                return bad(opt, opt_text(opt, v) + ": '" + e + "' is not a prefix of digits" +
                                    (star ? " ('*' = every number)" : ""));
            }
            if (std::find(list.begin(), list.end(), e) == list.end()) list.push_back(e);
            return std::nullopt;
        });
        if (!err) dst = std::move(list);
        return err;
    }

    Result rewrite(const std::string& opt, std::string& dst) const {
        if (!v_.has(opt)) return std::nullopt;
        const std::string v = v_.get(opt);
        if (!v.empty()) {
            std::string err;
            if (!lcr::RewriteRules::parse(v, &err)) return bad(opt, opt_text(opt, v) + ": " + err);
        }
        dst = v;
        return std::nullopt;
    }

    // Money in currency units; `none` clears.
    Result money(const std::string& opt, lcr::Micros lo, lcr::Micros hi, const char* what,
                 std::optional<lcr::Micros>& dst) const {
        if (!v_.has(opt)) return std::nullopt;
        const std::string v = v_.get(opt);
        if (is_default(v)) {
            dst.reset();
            return std::nullopt;
        }
        auto m = billing::Money::parse(v);
        if (!m) return bad(opt, opt_text(opt, v) + ": " + m.error().message + " (" + what + ")");
        if (m->micros() < lo || m->micros() > hi) {
            return bad(opt, opt_text(opt, v) + ": outside " + money_text(lo) + ".." +
                                money_text(hi) + " (" + what + ")");
        }
        dst = m->micros();
        return std::nullopt;
    }

    // A plain comma list (addresses): entries kept as given, duplicates dropped.
    Result list(const std::string& opt, std::vector<std::string>& dst) const {
        if (!v_.has(opt)) return std::nullopt;
        const std::string v = v_.get(opt);
        std::vector<std::string> out;
        auto err = each_entry(opt, v, [&](std::string& e) -> Result {
            if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
            return std::nullopt;
        });
        if (!err) dst = std::move(out);
        return err;
    }

    // An account id: any non-empty text.
    Result account(const std::string& opt, std::string& dst) const {
        if (!v_.has(opt)) return std::nullopt;
        std::string v = v_.get(opt);
        if (v.empty()) return bad(opt, opt + ": the account id is empty");
        dst = std::move(v);
        return std::nullopt;
    }

    bool has(const std::string& opt) const { return v_.has(opt); }
    std::string get(const std::string& opt) const { return v_.get(opt); }

  private:
    const Values& v_;
};

// --- customer ---------------------------------------------------------------------------------

Result customer_auth(const Fields& f, lcr::CustomerSpec& c) {
    if (f.has("--auth")) {
        auto m = lcr::parse_auth_mode(lower(f.get("--auth")));
        if (!m)
            return bad("--auth",
                       opt_text("--auth", f.get("--auth")) + ": use ip, ip_port or digest");
        c.auth = *m;
    }
    return std::nullopt;
}

Result customer_types(const Fields& f, lcr::CustomerSpec& c) {
    if (f.has("--restriction")) {
        auto r = lcr::parse_restriction(lower(f.get("--restriction")));
        if (!r) {
            return bad("--restriction", opt_text("--restriction", f.get("--restriction")) +
                                            ": use none, call_out_barring, call_in_barring or all");
        }
        c.restriction = *r;
    }
    if (f.has("--max-rate-type")) {
        const std::string v = f.get("--max-rate-type");
        auto t = billing::parse_rate_type(v);
        if (v.empty() || !t) {
            return bad("--max-rate-type", opt_text("--max-rate-type", v) +
                                              ": use net, local, national or international");
        }
        c.max_rate_type = static_cast<std::uint8_t>(*t);
    }
    return std::nullopt;
}

Result customer_limits(const Fields& f, lcr::CustomerSpec& c) {
    if (auto e = f.number("--priority", -999999, 999999, "priority number", c.priority)) return e;
    if (auto e =
            f.number("--line-limit", 0, 1000000, "number of channels, 0 = unlimited", c.line_limit))
        return e;
    if (auto e = f.number("--cps-limit", 0, 100000, "calls per second, 0 = unlimited", c.cps_limit))
        return e;
    if (auto e = f.number("--dest-prefix-limit", 0, 1000000, "calls per rate prefix, 0 = unlimited",
                          c.dest_prefix_limit))
        return e;
    return std::nullopt;
}

Result customer_filters(const Fields& f, lcr::CustomerSpec& c) {
    const std::pair<const char*, std::vector<std::string>*> lists[] = {
        {"--caller-allow", &c.caller_allow},
        {"--caller-deny", &c.caller_deny},
        {"--callee-allow", &c.callee_allow},
        {"--callee-deny", &c.callee_deny}};
    for (const auto& [opt, dst] : lists)
        if (auto e = f.prefixes(opt, false, *dst)) return e;
    if (auto e = f.rewrite("--caller-rewrite", c.caller_rewrite)) return e;
    return f.rewrite("--callee-rewrite", c.callee_rewrite);
}

Result check_customer_ips(lcr::CustomerSpec& c) {
    const std::string mode(lcr::to_string(c.auth));
    if (c.ips.empty())
        return bad("--ips",
                   "--ips: a customer with --auth " + mode + " needs at least one address");
    for (std::string& ip : c.ips) {
        if (c.auth == lcr::AuthMode::ip) {
            const std::string plain = unbracket(ip);
            if (!is_ip(plain)) {
                return bad(
                    "--ips",
                    "--ips " + show_value(join(c.ips)) + ": '" + ip +
                        "' is not an IP address (--auth ip; ADDR:PORT needs --auth ip_port)");
            }
            ip = plain;
        } else {
            auto hp = parse_host_port(ip, true, true);
            if (!hp) {
                return bad("--ips", "--ips " + show_value(join(c.ips)) + ": '" + ip +
                                        "' is not ADDR:PORT (--auth ip_port; IPv6 as [ADDR]:PORT)");
            }
            ip = *hp;
        }
    }
    return std::nullopt;
}

// --- vendor -----------------------------------------------------------------------------------

Result vendor_routing(const Fields& f, lcr::VendorGateway& v) {
    lcr::GatewaySpec& g = v.spec;
    if (auto e = f.prefixes("--prefixes", true, g.prefixes)) return e;
    if (auto e = f.number("--priority", -999999, 999999, "priority number", g.priority)) return e;
    if (auto e = f.number("--line-limit", 0, 1000000, "lines, 0 = unlimited", g.line_limit))
        return e;
    if (auto e = f.number("--cps-limit", 0, 100000, "calls per second, 0 = unlimited", g.cps_limit))
        return e;
    if (f.has("--group")) {
        const std::string name = f.get("--group");
        if (!name.empty()) {
            if (auto e = check_name("group", name)) return bad("--group", "--group: " + *e);
        }
        g.group = name;
    }
    if (auto e = f.number("--reserved-lines", 0, 1000000, "lines", g.reserved_lines)) return e;
    if (auto e = f.yes_no("--protect", g.protect)) return e;
    if (auto e = f.money("--lowest-profit", -1'000'000, 1'000'000,
                         "profit per second in currency units", g.lowest_profit_per_s))
        return e;
    if (auto e = f.money("--max-minute-rate", 0, 1'000'000'000, "per minute in currency units",
                         g.max_minute_rate))
        return e;
    if (auto e = f.yes_no("--check-rate", g.check_rate)) return e;
    return f.account("--vendor-account", v.vendor_account);
}

Result vendor_server(const Fields& f, lcr::VendorGateway& v) {
    if (f.has("--host")) {
        const std::string raw = f.get("--host");
        const std::string h = unbracket(raw);
        if (!valid_host(h)) {
            return bad("--host", opt_text("--host", raw) + ": not an IP address or FQDN" +
                                     (raw.find(':') != std::string::npos && !is_ipv6(h)
                                          ? " (give the port with --port)"
                                          : ""));
        }
        v.host = h;
    }
    if (f.has("--port")) {
        const std::string p = f.get("--port");
        if (is_default(p)) {
            v.port = 0;
        } else if (auto pn = parse_port(p)) {
            v.port = static_cast<std::uint16_t>(*pn);
        } else {
            return bad("--port", opt_text("--port", p) + ": not a port (1..65535 or default)");
        }
    }
    if (f.has("--transport")) {
        const std::string t = lower(f.get("--transport"));
        if (t != "udp" && t != "tcp" && t != "tls")
            return bad("--transport",
                       opt_text("--transport", f.get("--transport")) + ": use udp, tcp or tls");
        v.transport = t;
    }
    return std::nullopt;
}

Result vendor_signalling(const Fields& f, lcr::VendorGateway& v) {
    if (f.has("--outbound-proxy")) {
        const std::string p = f.get("--outbound-proxy");
        if (is_default(p)) {
            v.outbound_proxy.clear();
        } else if (auto hp = parse_host_port(p, false, false)) {
            v.outbound_proxy = *hp;
        } else {
            return bad("--outbound-proxy",
                       opt_text("--outbound-proxy", p) +
                           ": not HOST[:PORT] (IP address or FQDN, [IPv6], PORT 1..65535)");
        }
    }
    if (f.has("--host-name")) {
        const std::string h = f.get("--host-name");
        if (h.empty()) {
            v.host_name.clear();
        } else if (valid_host(unbracket(h))) {
            v.host_name = unbracket(h);
        } else {
            return bad("--host-name",
                       opt_text("--host-name", h) + ": not a host name or IP address");
        }
    }
    if (auto e = f.rewrite("--caller-rewrite", v.caller_rewrite)) return e;
    if (auto e = f.rewrite("--callee-rewrite", v.callee_rewrite)) return e;
    if (auto e = f.yes_no("--probe", v.probe)) return e;
    return f.yes_no("--enabled", v.spec.enabled);
}

}  // namespace

std::string opt_text(const std::string& option, const std::string& value) {
    return option + " " + show_value(value);
}

std::optional<std::string> check_name(std::string_view what, const std::string& v) {
    const std::string w(what);
    if (v.empty()) return w + " name is empty (1..64 characters)";
    if (v.size() > 64) {
        return w + " name " + show_value(v) + ": " + std::to_string(v.size()) +
               " characters, at most 64";
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
            return w + " name " + show_value(v) + ": character '" + std::string(1, c) +
                   "' at position " + std::to_string(i + 1) +
                   " is not allowed (letters, digits, '-', '_', '.')";
        }
    }
    return std::nullopt;
}

std::optional<Error> apply_customer(const Values& values, lcr::CustomerSpec& c) {
    const Fields f(values);
    if (auto e = f.account("--account", c.account)) return e;
    if (auto e = customer_auth(f, c)) return e;
    if (auto e = f.list("--ips", c.ips)) return e;
    if (f.has("--sip-user")) c.sip_user = f.get("--sip-user");
    if (auto e = customer_limits(f, c)) return e;
    if (auto e = customer_filters(f, c)) return e;
    if (auto e = customer_types(f, c)) return e;
    if (auto e = f.number("--proceeding-timeout", 0, 600, "seconds, 0 = the server default",
                          c.proceeding_timeout_s))
        return e;
    return f.yes_no("--enabled", c.enabled);
}

std::optional<Error> check_customer(lcr::CustomerSpec& c) {
    if (c.account.empty()) return bad("--account", "gateway add customer needs --account ID");
    if (c.auth == lcr::AuthMode::ip || c.auth == lcr::AuthMode::ip_port) {
        if (auto e = check_customer_ips(c)) return e;
    }
    if (c.auth == lcr::AuthMode::digest && c.sip_user.empty())
        return bad("--sip-user", "--sip-user: a customer with --auth digest needs --sip-user U");
    if (!c.caller_allow.empty() && !c.caller_deny.empty()) {
        return bad("--caller-allow",
                   "--caller-allow and --caller-deny: use one of the two (VOS3000 allows only one; "
                   "clear the other with '')");
    }
    if (!c.callee_allow.empty() && !c.callee_deny.empty()) {
        return bad("--callee-allow",
                   "--callee-allow and --callee-deny: use one of the two (VOS3000 allows only one; "
                   "clear the other with '')");
    }
    return std::nullopt;
}

std::optional<Error> apply_vendor(const Values& values, lcr::VendorGateway& v) {
    const Fields f(values);
    if (auto e = vendor_routing(f, v)) return e;
    if (auto e = vendor_server(f, v)) return e;
    return vendor_signalling(f, v);
}

std::optional<Error> check_vendor(const lcr::VendorGateway& v) {
    if (v.vendor_account.empty())
        return bad("--vendor-account", "gateway add vendor needs --vendor-account ID");
    if (v.spec.prefixes.empty()) {
        return bad("--prefixes",
                   "--prefixes: a vendor gateway needs at least one prefix ('*' = every number)");
    }
    if (v.host.empty()) return bad("--host", "gateway add vendor needs --host IP|FQDN");
    if (v.spec.reserved_lines > 0 && v.spec.group.empty()) {
        return bad("--reserved-lines",
                   "--reserved-lines " + std::to_string(v.spec.reserved_lines) +
                       ": needs --group (reserved lines are a group's free lines)");
    }
    return std::nullopt;
}

std::optional<Error> apply_group(const Values& values, lcr::GroupSpec& g) {
    return Fields(values).number("--line-limit", 0, 1000000, "lines, 0 = unlimited", g.line_limit);
}

}  // namespace sw::gateway_form

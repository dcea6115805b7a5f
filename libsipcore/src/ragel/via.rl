// RFC 3261 §20.42 Via, one via-parm per call (the list is walked with a cursor).
// via-parm = sent-protocol LWS sent-by *( SEMI via-params ); the named params (branch,
// received, rport, maddr, ttl) are taken from the validated parameter text afterwards.
#include <cstring>

#include "parse_util.hpp"
#include "sip/headers.hpp"

namespace sip {
namespace {

%%{
machine via;
alphtype unsigned char;
include common "common.rl";

action m { m = p; }
action proto { proto_s = m; proto_e = p; }
action ver { ver_s = m; ver_e = p; }
action tr { tr_s = m; tr_e = p; }
action host { host_s = m; host_e = p; }
action port { port_s = m; port_e = p; }
action pstart { params_s = p; }
action pend { params_e = p; }
action comma { comma = p; fbreak; }

# RFC 3581 rport without value, RFC 3261 received with an IPv6address (no brackets).
via_param = generic_param | 'received'i EQUAL IPv6address;
sent_by = host >m %host (COLON port >m %port)?;
via_parm = token >m %proto SLASH token >m %ver SLASH token >m %tr LWS
           sent_by %pstart (SEMI via_param)* %pend;

main := SWS via_parm SWS (',' @comma)?;

write data noerror;
}%%

}  // namespace

Result<Via> next_via(std::string_view& list) noexcept {
    Via v;
    const auto* base = reinterpret_cast<const unsigned char*>(list.data());
    const unsigned char* p = base;
    const unsigned char* pe = base + list.size();
    const unsigned char* eof = pe;
    const unsigned char *m = nullptr, *proto_s = nullptr, *proto_e = nullptr, *ver_s = nullptr,
                        *ver_e = nullptr, *tr_s = nullptr, *tr_e = nullptr, *host_s = nullptr,
                        *host_e = nullptr, *port_s = nullptr, *port_e = nullptr,
                        *params_s = nullptr, *params_e = nullptr, *comma = nullptr;
    int cs = via_start;
    %% write exec;
    auto off = [&](const unsigned char* at) { return static_cast<std::uint32_t>(at - base); };
    if (comma) {
        // an element follows the comma; an empty one is an error (RFC 3261 §7.3.1)
        std::string_view rest = detail::span(base, comma + 1, pe);
        std::size_t skip = 0;
        while (skip < rest.size() && detail::is_lws(rest[skip])) ++skip;
        if (skip == rest.size()) return unexpected(Errc::bad_header_value, off(comma));
        list = rest.substr(skip);
    } else if (cs < via_first_final || p != pe) {
        return unexpected(Errc::bad_header_value, off(p));
    } else {
        list = {};
    }
    v.protocol = detail::span(base, proto_s, proto_e);
    v.version = detail::span(base, ver_s, ver_e);
    v.transport = detail::span(base, tr_s, tr_e);
    v.host = detail::span(base, host_s, host_e);
    v.ipv6 = !v.host.empty() && v.host[0] == '[';
    if (port_s) {
        std::uint32_t port;
        if (!detail::parse_decimal(detail::span(base, port_s, port_e), 65535, port)) {
            return unexpected(Errc::value_out_of_range, off(port_s));
        }
        v.port = static_cast<std::uint16_t>(port);
        v.has_port = true;
    }
    if (params_s) {
        v.params = detail::span(base, params_s, params_e ? params_e : pe);
        std::string_view rest = v.params;
        detail::Param prm;
        while (detail::next_param(rest, prm)) {
            const auto at = off(reinterpret_cast<const unsigned char*>(prm.name.data()));
            if (iequals(prm.name, "branch")) {
                v.branch = prm.value;
            } else if (iequals(prm.name, "received")) {
                v.received = prm.value;
            } else if (iequals(prm.name, "maddr")) {
                v.maddr = prm.value;
            } else if (iequals(prm.name, "rport")) {
                v.has_rport = true;
                if (prm.has_value) {
                    std::uint32_t rp;
                    if (!detail::parse_decimal(prm.value, 65535, rp))
                        return unexpected(Errc::bad_param, at);
                    v.rport = static_cast<std::uint16_t>(rp);
                }
            } else if (iequals(prm.name, "ttl")) {
                std::uint32_t ttl;
                if (!detail::parse_decimal(prm.value, 255, ttl))
                    return unexpected(Errc::bad_param, at);
                v.ttl = static_cast<std::uint8_t>(ttl);
            }
        }
    }
    return v;
}

}  // namespace sip

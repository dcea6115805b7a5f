// RFC 3261 §20.42 Via, one via-parm per call (the list is walked with a cursor).
// via-parm = sent-protocol LWS sent-by *( SEMI via-params ); the named params (branch,
// received, rport, maddr, ttl) are taken from the validated parameter text afterwards.
#include <cstring>

#include <initializer_list>

#include "fast_path.hpp"
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
action br_eq { br_eq = p; br_e = nullptr; }
action br_s { br_s = p; }
action br_e { br_e = p; }
action rc_eq { rc_eq = p; rc_e = nullptr; }
action rc_s { rc_s = p; }
action rc_e { rc_e = p; }
action ma_eq { ma_eq = p; ma_e = nullptr; }
action ma_s { ma_s = p; }
action ma_e { ma_e = p; }
action tt_eq { tt_eq = p; tt_e = nullptr; }
action tt_s { tt_s = p; }
action tt_e { tt_e = p; }
action rp_flag { has_rport = true; }
action rp_eq { rp_eq = p; rp_e = nullptr; }
action rp_s { rp_s = p; }
action rp_e { rp_e = p; }

# The named via-params are captured while the DFA validates them (RFC 3261 §20.42,
# RFC 3581 rport). Their names also match generic-param, so a bad value (ttl=x1,
# received=1.x) would slip through as an extension parameter: the '=' of a named param
# records a mark, its value's end clears nothing, and a mark without a completed value is
# reported as bad_param. A received with an IPv6address is taken without brackets, as RFC 3261
# §25.1 writes it, and with them (RFC 5118 §4.5: "robust implementations must nonetheless be
# able to parse the topmost Via"); the captured value is the address without the brackets.
via_branch = 'branch'i SWS '=' @br_eq SWS token >br_s %br_e;
via_received = 'received'i SWS '=' @rc_eq SWS
               ((IPv4address | IPv6address) >rc_s %rc_e | '[' IPv6address >rc_s %rc_e ']');
via_maddr = 'maddr'i SWS '=' @ma_eq SWS host >ma_s %ma_e;
via_ttl = 'ttl'i SWS '=' @tt_eq SWS digit{1,3} >tt_s %tt_e;
via_rport = 'rport'i %rp_flag (SWS '=' @rp_eq SWS digit+ >rp_s %rp_e)?;
via_param = via_branch | via_received | via_maddr | via_ttl | via_rport | generic_param;

sent_by = host >m %host (COLON port >m %port)?;
via_parm = token >m %proto SLASH token >m %ver SLASH token >m %tr LWS
           sent_by %pstart (SEMI via_param)* %pend;

main := SWS via_parm SWS (',' @comma)?;

write data noerror;
}%%

}  // namespace

Result<Via> detail::next_via_dfa(std::string_view& list) noexcept {
    Via v;
    const auto* base = reinterpret_cast<const unsigned char*>(list.data());
    const unsigned char* p = base;
    const unsigned char* pe = base + list.size();
    const unsigned char* eof = pe;
    const unsigned char *m = nullptr, *proto_s = nullptr, *proto_e = nullptr, *ver_s = nullptr,
                        *ver_e = nullptr, *tr_s = nullptr, *tr_e = nullptr, *host_s = nullptr,
                        *host_e = nullptr, *port_s = nullptr, *port_e = nullptr,
                        *params_s = nullptr, *params_e = nullptr, *comma = nullptr;
    const unsigned char *br_eq = nullptr, *br_s = nullptr, *br_e = nullptr, *rc_eq = nullptr,
                        *rc_s = nullptr, *rc_e = nullptr, *ma_eq = nullptr, *ma_s = nullptr,
                        *ma_e = nullptr, *tt_eq = nullptr, *tt_s = nullptr, *tt_e = nullptr,
                        *rp_eq = nullptr, *rp_s = nullptr, *rp_e = nullptr;
    bool has_rport = false;
    int cs = via_start;
    %% write exec;
    auto off = [&](const unsigned char* at) { return static_cast<std::uint32_t>(at - base); };
    if (comma) {
        // an element follows the comma; an empty one is an error (RFC 3261 §7.3.1)
        const unsigned char* next = comma + 1;
        while (next < pe && detail::is_lws(static_cast<char>(*next))) ++next;
        if (next == pe) return unexpected(Errc::bad_header_value, off(comma));
        list = detail::span(base, next, pe);
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
    if (params_s) v.params = detail::span(base, params_s, params_e ? params_e : pe);
    // a named parameter whose value failed its own grammar (see the machine's comment)
    // Only captures inside the parameter text count (see name_addr.rl: a DFA alternative
    // that was later abandoned can leave marks behind).
    {
        const unsigned char* pend = params_e ? params_e : pe;
        auto keep = [&](const unsigned char*& eq, const unsigned char*& s, const unsigned char*& e) {
            auto in = [&](const unsigned char* x) { return params_s && x >= params_s && x <= pend; };
            if (eq && !in(eq)) eq = nullptr;
            if (s && !in(s)) s = e = nullptr;
            if (e && !in(e)) e = nullptr;
        };
        keep(br_eq, br_s, br_e);
        keep(rc_eq, rc_s, rc_e);
        keep(ma_eq, ma_s, ma_e);
        keep(tt_eq, tt_s, tt_e);
        keep(rp_eq, rp_s, rp_e);
    }
    for (const unsigned char* eq : {br_e ? nullptr : br_eq, rc_e ? nullptr : rc_eq,
                                    ma_e ? nullptr : ma_eq, tt_e ? nullptr : tt_eq,
                                    rp_e ? nullptr : rp_eq}) {
        if (eq) return unexpected(Errc::bad_param, off(detail::param_name_start(base, eq)));
    }
    if (br_e) v.branch = detail::span(base, br_s, br_e);
    if (rc_e) v.received = detail::span(base, rc_s, rc_e);
    if (ma_e) v.maddr = detail::span(base, ma_s, ma_e);
    v.has_rport = has_rport;
    if (rp_e) {
        std::uint32_t rp;
        if (!detail::parse_decimal(detail::span(base, rp_s, rp_e), 65535, rp))
            return unexpected(Errc::bad_param, off(rp_s));
        v.rport = static_cast<std::uint16_t>(rp);
    }
    if (tt_e) {
        std::uint32_t ttl;
        if (!detail::parse_decimal(detail::span(base, tt_s, tt_e), 255, ttl))
            return unexpected(Errc::bad_param, off(tt_s));
        v.ttl = static_cast<std::uint8_t>(ttl);
    }
    return v;
}

Result<Via> next_via(std::string_view& list) noexcept {
    Via v;
    if (detail::next_via_fast(list, v)) return v;  // a plain value (fast_path.hpp)
    return detail::next_via_dfa(list);
}

}  // namespace sip

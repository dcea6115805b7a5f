// RFC 3261 §25.1 name-addr / addr-spec with header parameters:
//   ( name-addr / addr-spec ) *( SEMI param )
//   name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
// Display names: quoted-string, or tokens separated by LWS; RFC 4475 §3.1.1.6 asks us to
// accept a token display name directly followed by '<'. In addr-spec form the URI ends at
// ';', ',', '?' or LWS (RFC 3261 §20.10: such URIs must be bracketed), which is what makes
// RFC 4475 §3.1.2.13 (regbadct) fail. The URI text is checked by parse_uri() afterwards.
#include <initializer_list>

#include "fast_path.hpp"
#include "parse_util.hpp"
#include "sip/headers.hpp"

namespace sip {
namespace {

%%{
machine name_addr;
alphtype unsigned char;
include common "common.rl";

action m { m = p; }
action dq_s { dq_s = p + 1; }
action dq_e { dq_e = p; }
action dt_s { dt_s = p; }
action dt_e { dt_e = p; }
action la { la = p; }
action ra { ra = p; }
action as_e { as_s = m; as_e = p; }
action pstart { params_s = p; }
action pend { params_e = p; }
action star { star = p; }
action comma { comma = p; fbreak; }
action tg_eq { tg_eq = p; tg_e = nullptr; }
action tg_s { tg_s = p; }
action tg_e { tg_e = p; }
action ex_eq { ex_eq = p; ex_e = nullptr; }
action ex_s { ex_s = p; }
action ex_e { ex_e = p; }
action q_eq { q_eq = p; q_e = nullptr; }
action q_s { q_s = p; }
action q_e { q_e = p; }

# The URI is validated here, in the same pass (RFC 3261 §25.1 SIP-URI / SIPS-URI, RFC 2396
# absoluteURI for any other scheme); parse_uri() cuts it into parts when someone asks.
user_unreserved = [&=+$,;?/];
user = (unreserved | escaped | user_unreserved)+;
password = (unreserved | escaped | [&=+$,])*;
userinfo = user (':' password)? '@';
hostport = host (':' port_16bit)?;
param_unreserved = [\[\]/:&+$];
paramchar = param_unreserved | unreserved | escaped;
uri_parameters = (';' paramchar+ ('=' paramchar+)?)*;
hnv_unreserved = [\[\]/?:+$];
hname = (hnv_unreserved | unreserved | escaped)+;
hvalue = (hnv_unreserved | unreserved | escaped)*;
uri_headers = '?' hname '=' hvalue ('&' hname '=' hvalue)*;
sip_scheme = 'sip'i | 'sips'i;
scheme = alpha (alnum | [+\-.])*;
other_scheme = scheme - (sip_scheme | 'tel'i);
uric = reserved | unreserved | escaped | [\[\]];
# RFC 3966 telephone-subscriber, as leniently as parse_uri() reads it
phonedigit = digit | xdigit | [*#\-.()] | '+';

sip_uri_full = sip_scheme ':' userinfo? hostport uri_parameters uri_headers?;
tel_uri_full = 'tel'i ':' phonedigit+ uri_parameters;
other_uri_full = other_scheme ':' uric*;
# addr-spec form: ';' ',' '?' end the URI (RFC 3261 §20.10), so no URI params or headers
sip_uri_bare = sip_scheme ':' userinfo? hostport;
tel_uri_bare = 'tel'i ':' phonedigit+;
other_uri_bare = other_scheme ':' (uric - [;,?])*;

display_tokens = token (LWS token)*;
quoted_display = '"' @dq_s (qdtext | quoted_pair)* '"' @dq_e;
name_addr = (quoted_display SWS | display_tokens >dt_s %dt_e SWS)? '<' @la
            (sip_uri_full | tel_uri_full | other_uri_full) '>' @ra;
addr_spec = (sip_uri_bare | tel_uri_bare | other_uri_bare) >m %as_e;

# RFC 3261 §20.10 contact-params: q, expires; §20.20/§20.39 tag. These names also match
# generic-param; a named param whose value fails its grammar (q=1.001, expires=soon,
# tag="x") leaves its '=' mark without a value end and is reported as bad_param.
qvalue = ('0' ('.' digit{0,3})?) | ('1' ('.' '0'{0,3})?);
na_param = ('tag'i SWS '=' @tg_eq SWS token >tg_s %tg_e) |
           ('expires'i SWS '=' @ex_eq SWS digit+ >ex_s %ex_e) |
           ('q'i SWS '=' @q_eq SWS qvalue >q_s %q_e) | generic_param;

element = (name_addr | addr_spec) %pstart (SEMI na_param)* %pend;
main := SWS (element | '*' @star) SWS (',' @comma)?;

write data noerror;
}%%

}  // namespace

Result<NameAddr> detail::next_name_addr_dfa(std::string_view& list) noexcept {
    NameAddr na;
    const auto* base = reinterpret_cast<const unsigned char*>(list.data());
    const unsigned char* p = base;
    const unsigned char* pe = base + list.size();
    const unsigned char* eof = pe;
    const unsigned char *m = nullptr, *dq_s = nullptr, *dq_e = nullptr, *dt_s = nullptr,
                        *dt_e = nullptr, *la = nullptr, *ra = nullptr, *as_s = nullptr,
                        *as_e = nullptr, *params_s = nullptr, *params_e = nullptr,
                        *star = nullptr, *comma = nullptr;
    const unsigned char *tg_eq = nullptr, *tg_s = nullptr, *tg_e = nullptr, *ex_eq = nullptr,
                        *ex_s = nullptr, *ex_e = nullptr, *q_eq = nullptr, *q_s = nullptr,
                        *q_e = nullptr;
    int cs = name_addr_start;
    %% write exec;
    auto off = [&](const unsigned char* at) { return static_cast<std::uint32_t>(at - base); };
    if (comma) {
        const unsigned char* next = comma + 1;
        while (next < pe && detail::is_lws(static_cast<char>(*next))) ++next;
        if (next == pe) return unexpected(Errc::bad_header_value, off(comma));
        list = detail::span(base, next, pe);
    } else if (cs < name_addr_first_final || p != pe) {
        return unexpected(Errc::bad_header_value, off(p));
    } else {
        list = {};
    }
    // '*' is also a token: "*x <sip:h>" passed the star action on its way to a display
    // name. Only a lone '*' (no URI) is the wildcard.
    if (star && !la && !as_e) {
        na.star = true;
        return na;
    }
    if (la) {
        na.bracketed = true;
        na.uri = detail::span(base, la + 1, ra);
        if (dq_s) {
            na.quoted_display = true;
            na.display_name = detail::span(base, dq_s, dq_e);
        } else if (dt_s) {
            na.display_name = detail::span(base, dt_s, dt_e);
        }
    } else {
        na.uri = detail::span(base, as_s, as_e);
    }
    if (params_s) na.params = detail::span(base, params_s, params_e ? params_e : pe);
    // Captures made on an alternative the DFA later abandoned lie outside the parameters
    // (fuzz: "sip:h;tag=x...@host" is one addr-spec whose user part looked like params).
    {
        const unsigned char* pend = params_e ? params_e : pe;
        auto keep = [&](const unsigned char*& eq, const unsigned char*& s, const unsigned char*& e) {
            auto in = [&](const unsigned char* x) { return params_s && x >= params_s && x <= pend; };
            if (eq && !in(eq)) eq = nullptr;
            if (s && !in(s)) s = e = nullptr;
            if (e && !in(e)) e = nullptr;
        };
        keep(tg_eq, tg_s, tg_e);
        keep(ex_eq, ex_s, ex_e);
        keep(q_eq, q_s, q_e);
    }
    for (const unsigned char* eq :
         {tg_e ? nullptr : tg_eq, ex_e ? nullptr : ex_eq, q_e ? nullptr : q_eq}) {
        if (eq) return unexpected(Errc::bad_param, off(detail::param_name_start(base, eq)));
    }
    if (tg_e) na.tag = detail::span(base, tg_s, tg_e);
    if (ex_e) {
        std::uint32_t e;
        if (!detail::parse_decimal(detail::span(base, ex_s, ex_e), UINT32_MAX, e))
            return unexpected(Errc::value_out_of_range, off(ex_s));
        na.expires = e;
    }
    if (q_e) {
        // qvalue grammar already checked: "0[.ddd]" or "1[.000]"; in thousandths
        unsigned thousandths = (*q_s == '1') ? 1000 : 0;
        unsigned scale = 100;
        for (const unsigned char* d = q_s + 2; d < q_e; ++d, scale /= 10)
            thousandths += static_cast<unsigned>(*d - '0') * scale;
        na.q = static_cast<std::uint16_t>(thousandths);
    }
    return na;
}

Result<NameAddr> next_name_addr(std::string_view& list) noexcept {
    NameAddr na;
    if (detail::next_name_addr_fast(list, na)) return na;  // a plain value (fast_path.hpp)
    return detail::next_name_addr_dfa(list);
}

Result<NameAddr> parse_name_addr(std::string_view value) noexcept {
    std::string_view rest = value;
    auto r = next_name_addr(rest);
    if (r && !rest.empty()) {
        // a single-valued header carries a second element (RFC 4475 §3.1.2.15, §3.3.8)
        return unexpected(Errc::bad_header_value,
                          static_cast<std::uint32_t>(rest.data() - value.data()));
    }
    if (r && r->star) return unexpected(Errc::bad_header_value, 0);
    return r;
}

}  // namespace sip

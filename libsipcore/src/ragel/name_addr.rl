// RFC 3261 §25.1 name-addr / addr-spec with header parameters:
//   ( name-addr / addr-spec ) *( SEMI param )
//   name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
// Display names: quoted-string, or tokens separated by LWS; RFC 4475 §3.1.1.6 asks us to
// accept a token display name directly followed by '<'. In addr-spec form the URI ends at
// ';', ',', '?' or LWS (RFC 3261 §20.10: such URIs must be bracketed), which is what makes
// RFC 4475 §3.1.2.13 (regbadct) fail. The URI text is checked by parse_uri() afterwards.
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

display_tokens = token (LWS token)*;
quoted_display = '"' @dq_s (qdtext | quoted_pair)* '"' @dq_e;
uri_in_brackets = (any - ([<>"] | SP | HTAB | cntrl | 0x7f))+;
name_addr = (quoted_display SWS | display_tokens >dt_s %dt_e SWS)? '<' @la uri_in_brackets '>' @ra;

scheme = alpha (alnum | [+\-.])*;
addr_spec = (scheme ':' (any - ([;,?<>"] | SP | HTAB | cntrl | 0x7f))*) >m %as_e;

element = (name_addr | addr_spec) %pstart (SEMI generic_param)* %pend;
main := SWS (element | '*' @star) SWS (',' @comma)?;

write data noerror;
}%%

}  // namespace

Result<NameAddr> next_name_addr(std::string_view& list) noexcept {
    NameAddr na;
    const auto* base = reinterpret_cast<const unsigned char*>(list.data());
    const unsigned char* p = base;
    const unsigned char* pe = base + list.size();
    const unsigned char* eof = pe;
    const unsigned char *m = nullptr, *dq_s = nullptr, *dq_e = nullptr, *dt_s = nullptr,
                        *dt_e = nullptr, *la = nullptr, *ra = nullptr, *as_s = nullptr,
                        *as_e = nullptr, *params_s = nullptr, *params_e = nullptr,
                        *star = nullptr, *comma = nullptr;
    int cs = name_addr_start;
    %% write exec;
    auto off = [&](const unsigned char* at) { return static_cast<std::uint32_t>(at - base); };
    if (comma) {
        std::string_view rest = detail::span(base, comma + 1, pe);
        std::size_t skip = 0;
        while (skip < rest.size() && detail::is_lws(rest[skip])) ++skip;
        if (skip == rest.size()) return unexpected(Errc::bad_header_value, off(comma));
        list = rest.substr(skip);
    } else if (cs < name_addr_first_final || p != pe) {
        return unexpected(Errc::bad_header_value, off(p));
    } else {
        list = {};
    }
    if (star) {
        na.star = true;
        return na;
    }
    const unsigned char* uri_start;
    if (la) {
        na.bracketed = true;
        uri_start = la + 1;
        na.uri = detail::span(base, la + 1, ra);
        if (dq_s) {
            na.quoted_display = true;
            na.display_name = detail::span(base, dq_s, dq_e);
        } else if (dt_s) {
            na.display_name = detail::span(base, dt_s, dt_e);
        }
    } else {
        uri_start = as_s;
        na.uri = detail::span(base, as_s, as_e);
    }
    if (auto u = parse_uri(na.uri); !u) {
        return unexpected(Errc::bad_uri, off(uri_start) + u.error().offset);
    }
    if (params_s) {
        na.params = detail::span(base, params_s, params_e ? params_e : pe);
        std::string_view rest = na.params;
        detail::Param prm;
        while (detail::next_param(rest, prm)) {
            const auto at = off(reinterpret_cast<const unsigned char*>(prm.name.data()));
            if (iequals(prm.name, "tag")) {
                na.tag = prm.value;
            } else if (iequals(prm.name, "expires")) {
                std::uint32_t e;
                if (!detail::parse_decimal(prm.value, UINT32_MAX, e))
                    return unexpected(Errc::value_out_of_range, at);
                na.expires = e;
            } else if (iequals(prm.name, "q")) {
                // RFC 3261 §20.10 qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
                std::string_view q = prm.value;
                unsigned thousandths = 0;
                bool ok = !q.empty() && (q[0] == '0' || q[0] == '1') && q.size() <= 5 &&
                          (q.size() == 1 || q[1] == '.');
                for (std::size_t i = 2; ok && i < 5; ++i) {
                    unsigned d = 0;
                    if (i < q.size()) {
                        ok = q[i] >= '0' && q[i] <= '9';
                        d = static_cast<unsigned>(q[i] - '0');
                    }
                    thousandths = thousandths * 10 + d;
                }
                if (ok) thousandths += (q[0] == '1') ? 1000 : 0;
                if (!ok || thousandths > 1000) return unexpected(Errc::bad_param, at);
                na.q = static_cast<std::uint16_t>(thousandths);
            }
        }
    }
    return na;
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

// RFC 4028 session timer headers:
//   Session-Expires = ("Session-Expires" / "x") HCOLON delta-seconds *(SEMI se-params)  (§4)
//   se-params       = refresher-param / generic-param
//   refresher-param = "refresher" EQUAL ("uas" / "uac")
//   Min-SE          = "Min-SE" HCOLON delta-seconds *(SEMI generic-param)              (§5)
// The machine checks the shared shape (a refresher-param is also a generic-param); the
// refresher is taken from the validated parameter text afterwards. A refresher with any
// other value, or given twice, is Errc::bad_param at its name: it is meaningless otherwise
// and the caller must not guess who refreshes. delta-seconds above 2^32-1 is
// Errc::value_out_of_range at its first digit.
#include "parse_util.hpp"
#include "sip/headers.hpp"

namespace sip {
namespace {

%%{
machine session_expires;
alphtype unsigned char;
include common "common.rl";

action d_s { d_s = p; }
action d_e { d_e = p; }
action semi { if (!params_s) params_s = p; }

main := SWS digit+ >d_s %d_e (SWS ';' @semi SWS generic_param)* SWS;

write data noerror;
}%%

struct Scan {
    std::uint32_t delta = 0;
    std::string_view params;  // from the first ';', trailing LWS removed
};

Result<Scan> scan(std::string_view value) noexcept {
    const auto* base = reinterpret_cast<const unsigned char*>(value.data());
    const unsigned char* p = base;
    const unsigned char* pe = base + value.size();
    const unsigned char* eof = pe;
    const unsigned char *d_s = nullptr, *d_e = nullptr, *params_s = nullptr;
    int cs = session_expires_start;
    %% write exec;
    auto off = [&](const unsigned char* at) { return static_cast<std::uint32_t>(at - base); };
    if (cs < session_expires_first_final || p != pe) {
        return unexpected(Errc::bad_header_value, off(p));
    }
    Scan s;
    if (!detail::parse_decimal(detail::span(base, d_s, d_e), UINT32_MAX, s.delta)) {
        return unexpected(Errc::value_out_of_range, off(d_s));
    }
    // the value ends in SWS after a token or a quoted-string, neither of which ends in LWS
    if (params_s) s.params = detail::trim_lws(detail::span(base, params_s, pe));
    return s;
}

}  // namespace

Result<SessionExpires> parse_session_expires(std::string_view value) noexcept {
    auto s = scan(value);
    if (!s) return unexpected(s.error());
    SessionExpires se;
    se.delta = s->delta;
    se.params = s->params;
    std::string_view rest = se.params;
    detail::Param prm;
    while (detail::next_param(rest, prm)) {
        if (!iequals(prm.name, "refresher")) continue;
        const auto at = static_cast<std::uint32_t>(prm.name.data() - value.data());
        if (!se.refresher.empty() || prm.quoted ||
            !(iequals(prm.value, "uac") || iequals(prm.value, "uas"))) {
            return unexpected(Errc::bad_param, at);
        }
        se.refresher = prm.value;
    }
    return se;
}

Result<std::uint32_t> parse_min_se(std::string_view value) noexcept {
    auto s = scan(value);
    if (!s) return unexpected(s.error());
    return s->delta;
}

}  // namespace sip

// RFC 3323 §4.2 Privacy, one priv-value per call:
//   Privacy-hdr = "Privacy" HCOLON priv-value *(";" priv-value)
//   priv-value  = "header" / "session" / "user" / "none" / "critical" / token
// plus "id" (RFC 3325 §9.3), which is a token too. LWS around ';' is accepted. An empty
// value (leading, doubled or trailing ';') is an error reported at that ';', as for
// next_token(); on error `list` is left unchanged.
#include "parse_util.hpp"
#include "sip/headers.hpp"

namespace sip {
namespace {

%%{
machine privacy;
alphtype unsigned char;
include common "common.rl";

action v_s { v_s = p; }
action v_e { v_e = p; }
action semi { semi = p; }
action next { next = p; fbreak; }

main := SWS token >v_s %v_e SWS (';' @semi SWS token_c @next)?;

write data noerror;
}%%

}  // namespace

Result<std::string_view> next_privacy(std::string_view& list) noexcept {
    const auto* base = reinterpret_cast<const unsigned char*>(list.data());
    const unsigned char* p = base;
    const unsigned char* pe = base + list.size();
    const unsigned char* eof = pe;
    const unsigned char *v_s = nullptr, *v_e = nullptr, *semi = nullptr, *next = nullptr;
    int cs = privacy_start;
    %% write exec;
    auto off = [&](const unsigned char* at) { return static_cast<std::uint32_t>(at - base); };
    if (cs < privacy_first_final || (!next && p != pe)) {
        // nothing but LWS after the separator: report the empty element at the separator
        if (semi && !next && p == pe) return unexpected(Errc::bad_header_value, off(semi));
        return unexpected(Errc::bad_header_value, off(p));
    }
    list = next ? detail::span(base, next, pe) : std::string_view{};
    return detail::span(base, v_s, v_e);
}

}  // namespace sip

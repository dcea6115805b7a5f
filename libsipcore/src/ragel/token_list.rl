// RFC 3261 §20 comma-separated token lists (Allow, Supported, Require, Proxy-Require,
// Unsupported), one element per call:
//   Allow = "Allow" HCOLON [Method *(COMMA Method)]; Supported = ... option-tag *(COMMA ...)
// LWS (folded lines included) may surround each comma (§7.3.1). The machine looks one octet
// past the comma, so an empty element is caught before anything is returned: a leading or
// doubled comma is reported at that comma, a trailing one (nothing but LWS after it) at the
// trailing comma. On error `list` is left unchanged.
#include "parse_util.hpp"
#include "sip/headers.hpp"

namespace sip {
namespace {

%%{
machine token_list;
alphtype unsigned char;
include common "common.rl";

action t_s { t_s = p; }
action t_e { t_e = p; }
action comma { comma = p; }
action next { next = p; fbreak; }

main := SWS token >t_s %t_e SWS (',' @comma SWS token_c @next)?;

write data noerror;
}%%

}  // namespace

Result<std::string_view> next_token(std::string_view& list) noexcept {
    const auto* base = reinterpret_cast<const unsigned char*>(list.data());
    const unsigned char* p = base;
    const unsigned char* pe = base + list.size();
    const unsigned char* eof = pe;
    const unsigned char *t_s = nullptr, *t_e = nullptr, *comma = nullptr, *next = nullptr;
    int cs = token_list_start;
    %% write exec;
    auto off = [&](const unsigned char* at) { return static_cast<std::uint32_t>(at - base); };
    if (cs < token_list_first_final || (!next && p != pe)) {
        // nothing but LWS after the separator: report the empty element at the separator
        if (comma && !next && p == pe) return unexpected(Errc::bad_header_value, off(comma));
        return unexpected(Errc::bad_header_value, off(p));
    }
    list = next ? detail::span(base, next, pe) : std::string_view{};
    return detail::span(base, t_s, t_e);
}

}  // namespace sip

// RFC 3261 §7.1 Request-Line and §7.2 Status-Line (§25.1 grammar). The Request-URI is
// only delimited here; parse_uri() checks it. Single SP separators are required: RFC 4475
// §3.1.2.9/§3.1.2.10 allow rejecting extra SP, and a proxy must never forward them.
#include "start_line.hpp"

#include "parse_util.hpp"

namespace sip::detail {
namespace {

%%{
machine start_line;
alphtype unsigned char;
include common "common.rl";

action m_s { m_s = p; }
action m_e { m_e = p; }
action u_s { u_s = p; }
action u_e { u_e = p; }
action maj_s { maj_s = p; }
action maj_e { maj_e = p; }
action min_s { min_s = p; }
action min_e { min_e = p; }
action code_s { code_s = p; }
action r_s { r_s = p + 1; }

sip_version = 'SIP'i '/' digit+ >maj_s %maj_e '.' digit+ >min_s %min_e;
ruri_c = any - (cntrl | SP | 0x7f);
request := token >m_s %m_e SP ruri_c+ >u_s %u_e SP sip_version;

# Reason-Phrase: reserved / unreserved / escaped / UTF8 / SP / HTAB: any text without
# control characters.
reason_c = (any - (cntrl | 0x7f)) | HTAB;
status := sip_version SP digit{3} >code_s SP @r_s reason_c*;

write data noerror;
}%%

}  // namespace

Result<StartLine> parse_start_line(std::string_view line) noexcept {
    StartLine out;
    const auto* base = reinterpret_cast<const unsigned char*>(line.data());
    const unsigned char* p = base;
    const unsigned char* pe = base + line.size();
    const unsigned char* eof = pe;
    const unsigned char *m_s = nullptr, *m_e = nullptr, *u_s = nullptr, *u_e = nullptr;
    const unsigned char *maj_s = nullptr, *maj_e = nullptr, *min_s = nullptr, *min_e = nullptr;
    const unsigned char *code_s = nullptr, *r_s = nullptr;
    out.response = line.size() >= 4 && iequals(line.substr(0, 4), "SIP/");
    int cs = out.response ? start_line_en_status : start_line_en_request;
    %% write exec;
    auto off = [&](const unsigned char* at) { return static_cast<std::uint32_t>(at - base); };
    if (cs < start_line_first_final || p != pe) {
        Errc code = Errc::bad_start_line;
        if (p == pe && cs != 0) {
            // every byte was acceptable, the line just ends too early ("HELLO")
            code = out.response && !min_e ? Errc::bad_version : Errc::bad_start_line;
        } else if (out.response) {
            if (!min_e || p <= min_e) code = Errc::bad_version;
            else code = p < min_e + 5 ? Errc::bad_status_code : Errc::bad_reason_phrase;
        } else if (!m_e) {
            code = Errc::bad_method;
        } else if (maj_s) {
            code = Errc::bad_version;
        } else if (u_s) {
            code = Errc::bad_request_uri;
        }
        return unexpected(code, off(p));
    }
    std::uint32_t major = 0, minor = 0;
    if (!parse_decimal(span(base, maj_s, maj_e), 255, major) ||
        !parse_decimal(span(base, min_s, min_e), 255, minor) || major != 2 || minor != 0) {
        return unexpected(Errc::unsupported_version, off(maj_s));
    }
    if (out.response) {
        out.status = static_cast<std::uint16_t>((code_s[0] - '0') * 100 + (code_s[1] - '0') * 10 +
                                                (code_s[2] - '0'));
        if (out.status < 100 || out.status > 699) {
            return unexpected(Errc::bad_status_code, off(code_s));
        }
        out.reason = span(base, r_s, pe);
    } else {
        out.method = span(base, m_s, m_e);
        out.uri = span(base, u_s, u_e);
    }
    return out;
}

}  // namespace sip::detail

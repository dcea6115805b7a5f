// Lenient recovery of the headers a 400 response must copy (RFC 3261 §8.2.6), for requests
// the strict parser rejected. Accepts bare LF, tolerates garbage, never reads past `bytes`.
// A response can be routed with the top Via's sent-by and matched by the client with the
// top branch and the CSeq method (RFC 3261 §17.1.3), so those decide usable(); From, To and
// Call-ID are copied as received even when they are the fault, because RFC 4475 (§3.1.2.6,
// §3.1.2.14, §3.1.2.15, §3.3.1) asks for a 400 in exactly those cases.
#include <cstring>

#include "parse_util.hpp"
#include "sip/message.hpp"

namespace sip {

Salvage salvage(std::string_view b) noexcept {
    Salvage s;
    std::size_t pos = 0;
    while (pos < b.size() && (b[pos] == '\r' || b[pos] == '\n')) ++pos;
    auto line_end = [&](std::size_t from) {
        std::size_t e = b.find('\n', from);
        return e == std::string_view::npos ? b.size() : e;
    };
    std::size_t e = line_end(pos);
    std::string_view first = b.substr(pos, e - pos);
    if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
    s.request = !(first.size() >= 4 && iequals(first.substr(0, 4), "SIP/"));
    s.method = first.substr(0, first.find(' '));
    pos = e + 1;
    while (pos < b.size()) {
        e = line_end(pos);
        // unfold: continuation lines start with SP/HTAB
        while (e + 1 < b.size() && detail::is_wsp(b[e + 1])) e = line_end(e + 1);
        std::string_view field = b.substr(pos, e - pos);
        pos = e + 1;
        if (!field.empty() && field.back() == '\r') field.remove_suffix(1);
        if (field.empty()) break;  // end of the header section
        std::size_t colon = field.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = detail::trim_lws(field.substr(0, colon));
        std::string_view value = detail::trim_lws(field.substr(colon + 1));
        if (name.empty()) continue;
        switch (header_id(name)) {
            case HeaderId::Via:
                if (s.via_count < std::size(s.via_fields)) {
                    if (s.via_count == 0) {
                        std::string_view list = value;
                        auto v = next_via(list);
                        if (!v) {
                            // RFC 4475 §3.1.2.1: the parameters may be what is broken; the
                            // sent-protocol and sent-by before them still route a response.
                            std::string_view head = value.substr(0, value.find_first_of(";,"));
                            v = next_via(head);
                        }
                        if (v) {
                            s.top_via = *v;
                            s.top_via_ok = true;
                        }
                    }
                    s.via_fields[s.via_count++] = value;
                }
                break;
            case HeaderId::From:
                if (s.from.empty()) s.from = value;
                break;
            case HeaderId::To:
                if (s.to.empty()) s.to = value;
                break;
            case HeaderId::CallId:
                if (s.call_id.empty()) s.call_id = value;
                break;
            case HeaderId::CSeq:
                if (s.cseq.empty()) {
                    s.cseq = value;
                    // RFC 4475 §3.1.2.4 wants a 400 *because of* an overlarge CSeq: a number
                    // that does not fit still leaves the method the client matches on.
                    auto c = parse_cseq(value);
                    s.cseq_ok = c.has_value() || c.error().code == Errc::value_out_of_range;
                }
                break;
            default: break;
        }
    }
    return s;
}

}  // namespace sip

#include "dump.hpp"

#include <cstdio>

namespace test {

std::string escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '\r': out += "\\r"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\\': out += "\\\\"; break;
            default:
                if (c < 0x20 || c >= 0x7f) {
                    char b[8];
                    std::snprintf(b, sizeof b, "\\x%02X", c);
                    out += b;
                } else {
                    out.push_back(ch);
                }
        }
    }
    return out;
}

std::string_view errc_name(sip::Errc c) {
    using sip::Errc;
    switch (c) {
        case Errc::ok: return "ok";
        case Errc::empty: return "empty";
        case Errc::incomplete: return "incomplete";
        case Errc::too_large: return "too_large";
        case Errc::too_many_headers: return "too_many_headers";
        case Errc::header_too_long: return "header_too_long";
        case Errc::bad_start_line: return "bad_start_line";
        case Errc::bad_method: return "bad_method";
        case Errc::bad_request_uri: return "bad_request_uri";
        case Errc::uri_headers_in_ruri: return "uri_headers_in_ruri";
        case Errc::bad_version: return "bad_version";
        case Errc::unsupported_version: return "unsupported_version";
        case Errc::bad_status_code: return "bad_status_code";
        case Errc::bad_reason_phrase: return "bad_reason_phrase";
        case Errc::bad_header_name: return "bad_header_name";
        case Errc::bad_line_end: return "bad_line_end";
        case Errc::bad_header_value: return "bad_header_value";
        case Errc::missing_header: return "missing_header";
        case Errc::duplicate_header: return "duplicate_header";
        case Errc::bad_content_length: return "bad_content_length";
        case Errc::body_truncated: return "body_truncated";
        case Errc::cseq_method_mismatch: return "cseq_method_mismatch";
        case Errc::value_out_of_range: return "value_out_of_range";
        case Errc::bad_uri: return "bad_uri";
        case Errc::unsupported_scheme: return "unsupported_scheme";
        case Errc::bad_param: return "bad_param";
        case Errc::not_found: return "not_found";
        case Errc::bad_frame: return "bad_frame";
    }
    return "?";
}

std::string_view header_id_name(sip::HeaderId id) {
    if (id == sip::HeaderId::None) return "None";
    if (id == sip::HeaderId::Other) return "Other";
    return sip::header_name(id);
}

std::string_view method_enum_name(sip::Method m) {
    using sip::Method;
    switch (m) {
        case Method::Unknown: return "Unknown";
        case Method::Invite: return "Invite";
        case Method::Ack: return "Ack";
        case Method::Bye: return "Bye";
        case Method::Cancel: return "Cancel";
        case Method::Options: return "Options";
        case Method::Register: return "Register";
        case Method::Prack: return "Prack";
        case Method::Subscribe: return "Subscribe";
        case Method::Notify: return "Notify";
        case Method::Publish: return "Publish";
        case Method::Info: return "Info";
        case Method::Refer: return "Refer";
        case Method::Message: return "Message";
        case Method::Update: return "Update";
    }
    return "?";
}

std::string_view scheme_name(sip::Uri::Scheme s) {
    switch (s) {
        case sip::Uri::Scheme::Sip: return "Sip";
        case sip::Uri::Scheme::Sips: return "Sips";
        case sip::Uri::Scheme::Tel: return "Tel";
        case sip::Uri::Scheme::Other: return "Other";
    }
    return "?";
}

std::string dump_error(const sip::Error& e) {
    std::string out = "error ";
    out += errc_name(e.code);
    out += " offset=" + std::to_string(e.offset);
    out += " header=";
    out += header_id_name(e.header);
    out += '\n';
    return out;
}

namespace {

void name_addr_line(std::string& out, std::string_view label, const sip::NameAddr& na) {
    out += label;
    out += " display=\"" + escape(na.display_name) + "\"";
    out += " quoted=" + std::to_string(na.quoted_display ? 1 : 0);
    out += " bracketed=" + std::to_string(na.bracketed ? 1 : 0);
    out += " uri=" + escape(na.uri);
    out += " tag=" + escape(na.tag);
    out += " params=" + escape(na.params);
    out += '\n';
}

}  // namespace

std::string dump_message(const sip::Message& m) {
    std::string out;
    if (m.is_request()) {
        out += "request " + escape(m.method_name());
        out += " method=";
        out += method_enum_name(m.method());
        out += '\n';
        const sip::Uri& u = m.ruri();
        out += "ruri " + escape(m.request_uri());
        out += " scheme=";
        out += scheme_name(u.scheme);
        out += " user=" + escape(u.user) + " host=" + escape(u.host);
        out += " port=" + (u.has_port ? std::to_string(u.port) : std::string("none"));
        out += " params=" + escape(u.params) + " headers=" + escape(u.headers) + '\n';
    } else {
        out += "status " + std::to_string(m.status_code()) + " reason=" + escape(m.reason()) + '\n';
    }
    std::size_t i = 0;
    for (const sip::HeaderField& h : m.headers()) {
        out += "header " + std::to_string(i++) + ' ';
        out += header_id_name(h.id);
        out += '|' + escape(m.name(h)) + "|@" + std::to_string(h.value_off) + '+' +
               std::to_string(h.value_len) + '|' + escape(m.value(h)) + '\n';
    }
    out += "via_fields " + std::to_string(m.via_count()) + '\n';
    const sip::Via& v = m.top_via();
    out += "top_via protocol=" + escape(v.protocol) + " version=" + escape(v.version) +
           " transport=" + escape(v.transport) + " host=" + escape(v.host) +
           " port=" + (v.has_port ? std::to_string(v.port) : std::string("none")) +
           " ipv6=" + std::to_string(v.ipv6 ? 1 : 0) + " branch=" + escape(v.branch) +
           " received=" + escape(v.received) + " maddr=" + escape(v.maddr) +
           " rport=" + (v.rport ? std::to_string(*v.rport) : std::string(v.has_rport ? "flag" : "none")) +
           " ttl=" + (v.ttl ? std::to_string(*v.ttl) : std::string("none")) +
           " params=" + escape(v.params) + '\n';
    // every Via value, parsed on demand (only the top one is checked at ingress)
    std::size_t k = 0;
    for (const sip::HeaderField& h : m.headers()) {
        if (h.id != sip::HeaderId::Via) continue;
        std::string_view list = m.value(h);
        while (!list.empty()) {
            out += "via " + std::to_string(k++);
            auto pv = sip::next_via(list);
            if (!pv) {
                out += " " + dump_error(pv.error());
                break;
            }
            out += " transport=" + escape(pv->transport) + " host=" + escape(pv->host) +
                   " port=" + (pv->has_port ? std::to_string(pv->port) : std::string("none")) +
                   " branch=" + escape(pv->branch) + '\n';
        }
    }
    name_addr_line(out, "from", m.from());
    name_addr_line(out, "to", m.to());
    out += "call_id " + escape(m.call_id()) + '\n';
    out += "cseq " + std::to_string(m.cseq().number) + ' ' + escape(m.cseq().method_name) +
           " method=";
    out += method_enum_name(m.cseq().method);
    out += '\n';
    out += "max_forwards " +
           (m.max_forwards() ? std::to_string(*m.max_forwards()) : std::string("none")) + '\n';
    out += "content_length " +
           (m.content_length() ? std::to_string(*m.content_length()) : std::string("none")) + '\n';
    out += "header_section " + std::to_string(m.header_section_size()) + '\n';
    out += "body_length " + std::to_string(m.body().size()) + '\n';
    return out;
}

std::string dump_parse(std::string_view bytes, sip::Framing framing) {
    auto r = sip::Message::parse(bytes, {}, framing);
    if (!r) return dump_error(r.error());
    return dump_message(*r);
}

std::optional<std::size_t> via_values(const sip::Message& m) {
    std::size_t n = 0;
    for (const sip::HeaderField& h : m.headers()) {
        if (h.id != sip::HeaderId::Via) continue;
        std::string_view list = m.value(h);
        while (!list.empty()) {
            if (!sip::next_via(list)) return std::nullopt;
            ++n;
        }
    }
    return n;
}

}  // namespace test

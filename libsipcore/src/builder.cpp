#include "sip/builder.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "parse_util.hpp"

namespace sip {
namespace {

// Writes into memory the caller sized beforehand (an upper bound of what is written): no
// capacity check and no out-of-line call per piece. std::string::append was ~25 instructions
// a call and a response ~40 calls. The append/push_back pair lets the helpers below write to
// either this or a std::string.
class SizedWriter {
  public:
    explicit SizedWriter(char* at) : at_(at) {}
    SizedWriter& append(std::string_view s) {
        if (!s.empty()) std::memcpy(at_, s.data(), s.size());  // an empty view may be null
        at_ += s.size();
        return *this;
    }
    void push_back(char c) { *at_++ = c; }
    char* position() const { return at_; }

  private:
    char* at_;
};

template <class Out>
void append_header(Out& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
}

template <class Out>
void append_uint(Out& out, std::uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
}

std::string_view name_of(HeaderId id) { return header_name(id); }

// The first Via field with its first via-parm stamped with received/rport: at most the
// value plus ", " (a bare "," before the next via-parm), ";received=" and the address,
// ";rport=" and 5 digits (kViaStampSlack below).
template <class Out>
void append_top_via(Out& out, std::string_view value, std::string_view received,
                    std::uint16_t rport) {
    if (received.empty() && rport == 0) {
        append_header(out, "Via", value);
        return;
    }
    std::string_view rest = value;
    auto v = next_via(rest);
    if (!v) {
        append_header(out, "Via", value);
        return;
    }
    out.append("Via: ");
    // protocol, transport and sent-by exactly as sent
    std::string_view head;
    if (!v->params.empty()) {
        head = value.substr(0, static_cast<std::size_t>(v->params.data() - value.data()));
    } else {
        head = value.substr(0, rest.empty() ? value.size()
                                            : static_cast<std::size_t>(rest.data() - value.data()));
        head = detail::trim_lws(head);
        if (!head.empty() && head.back() == ',') head.remove_suffix(1);
    }
    out.append(detail::trim_lws(head));
    std::string_view params = v->params;
    detail::Param p;
    while (detail::next_param(params, p)) {
        if (iequals(p.name, "received") && !received.empty()) continue;
        out.push_back(';');
        if (iequals(p.name, "rport") && rport != 0) {
            out.append("rport=");
            append_uint(out, rport);
            continue;
        }
        out.append(p.name);
        if (p.has_value) {
            out.push_back('=');
            if (p.quoted) out.push_back('"');
            out.append(p.value);
            if (p.quoted) out.push_back('"');
        }
    }
    if (!received.empty()) {
        out.append(";received=");
        out.append(received);
    }
    if (!rest.empty()) {
        out.append(", ");
        out.append(rest);
    }
    out.append("\r\n");
}

template <class Out>
void append_to_with_tag(Out& out, std::string_view to, bool has_tag,
                        std::string_view tag) {
    out.append("To: ");
    out.append(to);
    if (!has_tag && !tag.empty()) {
        out.append(";tag=");
        out.append(tag);
    }
    out.append("\r\n");
}

template <class Out>
void append_status_line(Out& out, const ResponseSpec& spec) {
    out.append("SIP/2.0 ");
    append_uint(out, spec.status);
    out.push_back(' ');
    out.append(spec.reason.empty() ? default_reason(spec.status) : spec.reason);
    out.append("\r\n");
}

template <class Out>
void append_tail(Out& out, const ResponseSpec& spec) {
    for (const HeaderLine& h : spec.extra) append_header(out, h.name, h.value);
    if (!spec.body.empty() && !spec.content_type.empty())
        append_header(out, "Content-Type", spec.content_type);
    out.append("Content-Length: ");
    append_uint(out, spec.body.size());
    out.append("\r\n\r\n");
    out.append(spec.body);
}

}  // namespace

std::string_view default_reason(std::uint16_t s) noexcept {
    switch (s) {
        case 100: return "Trying";
        case 180: return "Ringing";
        case 181: return "Call Is Being Forwarded";
        case 182: return "Queued";
        case 183: return "Session Progress";
        case 200: return "OK";
        case 202: return "Accepted";
        case 300: return "Multiple Choices";
        case 301: return "Moved Permanently";
        case 302: return "Moved Temporarily";
        case 305: return "Use Proxy";
        case 380: return "Alternative Service";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 402: return "Payment Required";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 407: return "Proxy Authentication Required";
        case 408: return "Request Timeout";
        case 410: return "Gone";
        case 413: return "Request Entity Too Large";
        case 414: return "Request-URI Too Long";
        case 415: return "Unsupported Media Type";
        case 416: return "Unsupported URI Scheme";
        case 420: return "Bad Extension";
        case 421: return "Extension Required";
        case 422: return "Session Interval Too Small";
        case 423: return "Interval Too Brief";
        case 480: return "Temporarily Unavailable";
        case 481: return "Call/Transaction Does Not Exist";
        case 482: return "Loop Detected";
        case 483: return "Too Many Hops";
        case 484: return "Address Incomplete";
        case 485: return "Ambiguous";
        case 486: return "Busy Here";
        case 487: return "Request Terminated";
        case 488: return "Not Acceptable Here";
        case 491: return "Request Pending";
        case 493: return "Undecipherable";
        case 500: return "Server Internal Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Server Time-out";
        case 505: return "Version Not Supported";
        case 513: return "Message Too Large";
        case 600: return "Busy Everywhere";
        case 603: return "Decline";
        case 604: return "Does Not Exist Anywhere";
        case 606: return "Not Acceptable";
        default: return {};
    }
}

namespace {
constexpr std::size_t kLine = 4;             // ": " and CRLF around a header value
constexpr std::size_t kViaStampSlack = 32;   // see append_top_via (2 + 10 + 7 + 5, rounded up)
constexpr std::size_t kUintDigits = 20;

// An upper bound of build_response's output: every copied field at most as long as its name,
// value and line ends (a compact name in the request grows to the full one), plus the stamp,
// the To tag and the spec's own lines.
std::size_t response_bound(const Message& req, const ResponseSpec& spec,
                           std::string_view received) {
    std::size_t n = 16 + kUintDigits + (spec.reason.empty() ? default_reason(spec.status).size()
                                                            : spec.reason.size());
    for (const HeaderField& h : req.headers()) {
        switch (h.id) {
            case HeaderId::Via:
            case HeaderId::From:
            case HeaderId::CallId:
            case HeaderId::CSeq:
            case HeaderId::To:
            case HeaderId::RecordRoute:
                n += name_of(h.id).size() + kLine + h.value_len;
                break;
            default: break;
        }
    }
    n += kViaStampSlack + received.size() + 5 + spec.to_tag.size();  // ";tag="
    for (const HeaderLine& h : spec.extra) n += h.name.size() + kLine + h.value.size();
    n += 12 + kLine + spec.content_type.size();                      // Content-Type
    n += 14 + kLine + kUintDigits + 2 + spec.body.size();            // Content-Length, CRLF
    return n;
}
}  // namespace

std::string build_response(const Message& req, const ResponseSpec& spec) {
    // the spec's stamp, else the one noted at ingress (Message::note_source)
    const ViaStamp noted = req.via_stamp();
    const std::string_view received =
        spec.via_received.empty() ? noted.received : spec.via_received;
    const std::uint16_t rport = spec.via_rport != 0 ? spec.via_rport : noted.rport;
    std::string bytes;
    bytes.resize(response_bound(req, spec, received));
    SizedWriter out(bytes.data());
    append_status_line(out, spec);
    bool first_via = true;
    for (const HeaderField& h : req.headers()) {
        switch (h.id) {
            case HeaderId::Via:
                if (first_via) append_top_via(out, req.value(h), received, rport);
                else append_header(out, "Via", req.value(h));
                first_via = false;
                break;
            case HeaderId::From:
            case HeaderId::CallId:
            case HeaderId::CSeq:
                append_header(out, name_of(h.id), req.value(h));
                break;
            case HeaderId::To:
                append_to_with_tag(out, req.value(h), !req.to().tag.empty(), spec.to_tag);
                break;
            // RFC 3261 §12.1.1: dialog-creating responses copy Record-Route.
            case HeaderId::RecordRoute:
                if (spec.status > 100 && spec.status < 300)
                    append_header(out, name_of(h.id), req.value(h));
                break;
            default: break;
        }
    }
    append_tail(out, spec);
    bytes.resize(static_cast<std::size_t>(out.position() - bytes.data()));
    return bytes;
}

namespace {
// A salvaged value goes back in the 400 (§8.2.6) even when it is the fault, but never as a
// bare CR, LF or other control character: the answer must not carry what broke the request
// (a CR that rewrites a terminal line, a header injected after an LF). Each becomes a space;
// a fold (CRLF SP) means a space anyway (§7.3.1).
std::string_view without_controls(std::string_view v, std::string& buf) {
    auto bad = [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return (c < 0x20 && c != '\t') || c == 0x7f;
    };
    if (std::none_of(v.begin(), v.end(), bad)) return v;
    buf.assign(v);
    std::replace_if(buf.begin(), buf.end(), bad, ' ');
    return buf;
}
}  // namespace

std::string build_response(const Salvage& s, const ResponseSpec& spec) {
    std::string out;
    out.reserve(512);
    append_status_line(out, spec);
    std::string buf;
    for (std::size_t i = 0; i < s.via_count; ++i) {
        const std::string_view via = without_controls(s.via_fields[i], buf);
        if (i == 0) append_top_via(out, via, spec.via_received, spec.via_rport);
        else append_header(out, "Via", via);
    }
    if (!s.from.empty()) append_header(out, "From", without_controls(s.from, buf));
    if (!s.to.empty()) {
        const std::string_view to = without_controls(s.to, buf);
        auto na = parse_name_addr(to);
        append_to_with_tag(out, to, na && !na->tag.empty(), spec.to_tag);
    }
    if (!s.call_id.empty()) append_header(out, "Call-ID", without_controls(s.call_id, buf));
    if (!s.cseq.empty()) append_header(out, "CSeq", without_controls(s.cseq, buf));
    append_tail(out, spec);
    return out;
}

RequestBuilder::RequestBuilder(std::string_view method, std::string_view request_uri) {
    head_.reserve(512);
    head_.append(method);
    head_.push_back(' ');
    head_.append(request_uri);
    head_.append(" SIP/2.0\r\n");
}

RequestBuilder& RequestBuilder::add(HeaderId id, std::string_view value) {
    if (id == HeaderId::MaxForwards) has_max_forwards_ = true;
    append_header(head_, header_name(id), value);
    return *this;
}

RequestBuilder& RequestBuilder::add(std::string_view name, std::string_view value) {
    HeaderId id = header_id(name);
    if (id != HeaderId::Other) return add(id, value);
    append_header(head_, name, value);
    return *this;
}

RequestBuilder& RequestBuilder::body(std::string_view content_type, std::string_view bytes) {
    content_type_ = content_type;
    body_ = bytes;
    return *this;
}

std::string RequestBuilder::build() const {
    std::string out;
    out.reserve(head_.size() + 64 + body_.size());
    out.append(head_);
    if (!has_max_forwards_) out.append("Max-Forwards: 70\r\n");
    if (!body_.empty() && !content_type_.empty()) append_header(out, "Content-Type", content_type_);
    out.append("Content-Length: ");
    append_uint(out, body_.size());
    out.append("\r\n\r\n");
    out.append(body_);
    return out;
}

// --- MessageEditor

std::uint32_t MessageEditor::field_end(const HeaderField& h) const noexcept {
    std::string_view b = m_.bytes();
    std::size_t e = h.value_off + h.value_len;
    for (;;) {
        std::size_t nl = b.find('\n', e);
        if (nl == std::string_view::npos) return static_cast<std::uint32_t>(b.size());
        if (nl + 1 < b.size() && detail::is_wsp(b[nl + 1])) {
            e = nl + 1;
            continue;
        }
        return static_cast<std::uint32_t>(nl + 1);
    }
}

void MessageEditor::add_edit(std::uint32_t off, std::uint32_t len, std::string text) {
    edits_.push_back({off, len, std::move(text), static_cast<std::uint32_t>(edits_.size())});
}

static std::string header_text(std::string_view name, std::string_view value) {
    std::string t;
    append_header(t, name, value);
    return t;
}

MessageEditor& MessageEditor::prepend(HeaderId id, std::string_view value) {
    return prepend(header_name(id), value);
}
MessageEditor& MessageEditor::prepend(std::string_view name, std::string_view value) {
    std::uint32_t first = m_.headers().empty() ? m_.header_section_size() - 2
                                               : m_.headers().front().name_off;
    add_edit(first, 0, header_text(name, value));
    return *this;
}
MessageEditor& MessageEditor::append(HeaderId id, std::string_view value) {
    return append(header_name(id), value);
}
MessageEditor& MessageEditor::append(std::string_view name, std::string_view value) {
    add_edit(m_.header_section_size() - 2, 0, header_text(name, value));
    return *this;
}
MessageEditor& MessageEditor::insert_before(const HeaderField& at, std::string_view name,
                                            std::string_view value) {
    add_edit(field_start(at), 0, header_text(name, value));
    return *this;
}
MessageEditor& MessageEditor::remove(const HeaderField& h) {
    add_edit(field_start(h), field_end(h) - field_start(h), {});
    return *this;
}
MessageEditor& MessageEditor::remove_all(HeaderId id) {
    for (const HeaderField& h : m_.headers())
        if (h.id == id) remove(h);
    return *this;
}
MessageEditor& MessageEditor::replace_value(const HeaderField& h, std::string_view value) {
    add_edit(h.value_off, h.value_len, std::string(value));
    return *this;
}
MessageEditor& MessageEditor::set_request_uri(std::string_view uri) {
    std::string_view r = m_.request_uri();
    if (!r.empty()) {
        add_edit(static_cast<std::uint32_t>(r.data() - m_.bytes().data()),
                 static_cast<std::uint32_t>(r.size()), std::string(uri));
    }
    return *this;
}
MessageEditor& MessageEditor::set_body(std::string_view body) {
    body_set_ = true;
    body_.assign(body);
    return *this;
}

std::string MessageEditor::build() const {
    std::vector<Edit> edits = edits_;
    if (body_set_) {
        std::string cl;
        append_uint(cl, body_.size());
        const HeaderField* h = m_.find(HeaderId::ContentLength);
        if (h) {
            edits.push_back({h->value_off, h->value_len, cl, static_cast<std::uint32_t>(edits.size())});
        } else {
            edits.push_back({m_.header_section_size() - 2, 0, header_text("Content-Length", cl),
                             static_cast<std::uint32_t>(edits.size())});
        }
    }
    std::stable_sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) {
        return a.off != b.off ? a.off < b.off : a.seq < b.seq;
    });
    std::string_view src = body_set_ ? m_.bytes().substr(0, m_.header_section_size()) : m_.bytes();
    std::string out;
    out.reserve(src.size() + 256 + body_.size());
    std::uint32_t cur = 0;
    for (const Edit& e : edits) {
        if (e.off < cur) continue;  // overlaps an earlier removal: that removal wins
        out.append(src.substr(cur, e.off - cur));
        out.append(e.text);
        cur = e.off + e.len;
    }
    out.append(src.substr(cur));
    if (body_set_) out.append(body_);
    return out;
}

}  // namespace sip

// The message-level parser: line framing with memchr, Ragel machines for the start line,
// header names and the mandatory headers (DESIGN.md §4). Header values are not stepped
// through byte by byte unless a machine needs them: that is where the instructions go.
#include "sip/message.hpp"

#include <array>
#include <cstddef>
#include <cstring>
#include <new>

#include "fast_path.hpp"
#include "header_lookup.hpp"
#include "parse_util.hpp"
#include "scan.hpp"
#include "start_line.hpp"

namespace sip {
namespace {

// RFC 3261 §25.1 token characters.
constexpr std::array<bool, 256> make_token_table() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view("-.!%*_+`'~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}
constexpr std::array<bool, 256> kToken = make_token_table();

// Header-table slots allocated with the message bytes; most messages need no more.
constexpr std::size_t kInlineFields = 32;
constexpr std::size_t kMaxFieldsCap = 1024;
// Zeroed octets after the message's bytes in its block: the block-wise searches of scan.hpp
// and the word-wise name lookup (header_id_padded) read past their end without bounds checks.
constexpr std::size_t kTailPad = 32;
static_assert(kTailPad >= detail::kNameReadPad && kTailPad >= detail::scan::kOverread);
// A header name is looked for within this many octets of its line's start before the
// exact byte-by-byte walk takes over (longer names are rare extension headers).
constexpr std::size_t kNameWindow = 32;

// LWS around a header value: a value starts after ": " and ends at its CR as a rule, so the
// first octet decides.
constexpr std::array<bool, 256> make_lws_table() {
    std::array<bool, 256> t{};
    for (char c : std::string_view(" \t\r\n")) t[static_cast<unsigned char>(c)] = true;
    return t;
}
constexpr std::array<bool, 256> kLws = make_lws_table();
inline std::string_view trim_value(const char* b, const char* e) noexcept {
    if (b < e && *b == ' ') ++b;  // the usual ": "
    while (b < e && kLws[static_cast<unsigned char>(*b)]) ++b;
    while (e > b && kLws[static_cast<unsigned char>(e[-1])]) --e;
    return {b, static_cast<std::size_t>(e - b)};
}

}  // namespace

class MessageParser {
public:
    static Result<Message> parse(std::string_view in, const ParseLimits& lim, Framing framing);
};

Result<Message> Message::parse(std::string_view bytes, const ParseLimits& limits,
                               Framing framing) {
    return MessageParser::parse(bytes, limits, framing);
}

ViaStamp via_stamp(const Via& top, std::string_view source_host,
                   std::uint16_t source_port) noexcept {
    ViaStamp st;
    if (source_host.empty()) return st;
    if (top.has_rport && !top.rport) st.rport = source_port;  // a bare rport asks for it
    std::string_view sent_by = top.host;
    if (sent_by.size() >= 2 && sent_by.front() == '[' && sent_by.back() == ']')
        sent_by = sent_by.substr(1, sent_by.size() - 2);
    // §18.2.1: a domain name always differs from the packet's source address
    if (st.rport != 0 || !iequals(sent_by, source_host)) st.received = source_host;
    return st;
}

void Message::note_source(std::string_view host, std::uint16_t port) noexcept {
    if (!is_request()) return;
    const ViaStamp st = sip::via_stamp(d_->top_via, host, port);
    d_->rport = st.rport;
    d_->received_len = 0;
    if (!st.received.empty() && st.received.size() <= sizeof d_->received) {
        std::memcpy(d_->received, st.received.data(), st.received.size());
        d_->received_len = static_cast<std::uint8_t>(st.received.size());
    }
}

Result<Message> MessageParser::parse(std::string_view in, const ParseLimits& lim,
                                     Framing framing) {
    // RFC 3261 §7.5: CRLFs before the start line are ignored.
    std::size_t lead = 0;
    while (lead + 1 < in.size() && in[lead] == '\r' && in[lead + 1] == '\n') lead += 2;
    if (lead == in.size()) return unexpected(Errc::empty, static_cast<std::uint32_t>(lead));
    const std::size_t n = in.size() - lead;
    if (n > lim.max_message) return unexpected(Errc::too_large, static_cast<std::uint32_t>(lead));
    const auto L = static_cast<std::uint32_t>(lead);
    auto fail = [L](Errc c, std::size_t off, HeaderId h = HeaderId::None) {
        return unexpected(c, static_cast<std::uint32_t>(off) + L, h);
    };

    Message m;
    // one block: [Data][header slots][bytes]
    constexpr std::size_t data_size =
        (sizeof(Message::Data) + alignof(std::max_align_t) - 1) & ~(alignof(std::max_align_t) - 1);
    const std::size_t slots = kInlineFields * sizeof(HeaderField);
    m.block_.reset(new char[data_size + slots + n + kTailPad]);
    m.d_ = new (m.block_.get()) Message::Data{};
    Message::Data& d = *m.d_;
    HeaderField* const inline_slots = reinterpret_cast<HeaderField*>(m.block_.get() + data_size);
    char* data = m.block_.get() + data_size + slots;
    std::memcpy(data, in.data() + lead, n);
    std::memset(data + n, 0, kTailPad);
    d.data = data;

    // --- start line
    const char* nl = static_cast<const char*>(std::memchr(data, '\n', n));
    if (!nl) return fail(Errc::incomplete, n);
    std::size_t eol = static_cast<std::size_t>(nl - data);
    if (eol == 0 || data[eol - 1] != '\r') return fail(Errc::bad_line_end, eol);
    auto sl = detail::parse_start_line({data, eol - 1});
    if (!sl) return fail(sl.error().code, sl.error().offset);
    if (sl->response) {
        d.status = sl->status;
        d.reason = sl->reason;
    } else {
        d.method_name = sl->method;
        d.method = method_from(sl->method);
        d.ruri = sl->uri;
        auto u = parse_uri(sl->uri);
        const std::size_t uri_off = static_cast<std::size_t>(sl->uri.data() - data);
        if (!u) return fail(Errc::bad_request_uri, uri_off + u.error().offset);
        if (u->is_sip() && !u->headers.empty()) {
            return fail(Errc::uri_headers_in_ruri,
                        static_cast<std::size_t>(u->headers.data() - data) - 1);
        }
        d.ruri_parsed = *u;
    }

    // --- header fields
    const std::size_t max_fields = lim.max_headers < kMaxFieldsCap ? lim.max_headers : kMaxFieldsCap;
    // Raw stack storage: constructing 1024 HeaderFields per message would cost more than
    // parsing it.
    alignas(HeaderField) unsigned char scratch_raw[kMaxFieldsCap * sizeof(HeaderField)];
    auto* scratch = reinterpret_cast<HeaderField*>(scratch_raw);
    std::size_t nfields = 0;
    bool have_from = false, have_to = false, have_call_id = false, have_cseq = false;
    std::size_t cseq_off = 0;
    const std::size_t max_header = lim.max_header < 0xffff ? lim.max_header : 0xffff;
    std::size_t pos = eol + 1;
    for (;;) {
        if (pos >= n) return fail(Errc::incomplete, n);
        const char c0 = data[pos];
        if (c0 == '\r') {
            if (pos + 1 < n && data[pos + 1] == '\n') {
                pos += 2;
                break;
            }
            return fail(Errc::bad_line_end, pos);
        }
        if (!kToken[static_cast<unsigned char>(c0)]) return fail(Errc::bad_header_name, pos);

        // field end: CRLF not followed by SP/HTAB (a folded line continues the field)
        std::size_t e = pos;
        for (;;) {
            const char* f = detail::scan::Fast::find(data + e, data + n, '\n');
            if (f == data + n) return fail(Errc::incomplete, n);
            e = static_cast<std::size_t>(f - data);
            if (data[e - 1] != '\r') return fail(Errc::bad_line_end, e);
            if (detail::is_wsp(data[e + 1])) {  // data[n] is padding, never WSP
                ++e;
                continue;
            }
            break;
        }
        const std::size_t field_end = e - 1;  // at the CR
        if (field_end - pos > max_header) {
            return fail(Errc::header_too_long, pos);
        }
        if (nfields == max_fields) return fail(Errc::too_many_headers, pos);

        // name: token, then *WSP ':' (RFC 3261 §7.3.1). Fast path: the first ':' of the line;
        // a known name needs no further check (it matched octet for octet), an extension
        // name is checked for token octets. Anything else takes the exact walk below, which
        // also places the error.
        HeaderField h;
        h.name_off = static_cast<std::uint32_t>(pos);
        std::size_t colon = 0;
        {
            const std::size_t window = field_end - pos < kNameWindow ? field_end - pos : kNameWindow;
            const char* c = detail::scan::Fast::find(data + pos + 1, data + pos + window, ':');
            if (c != data + pos + window) {
                std::size_t ne = static_cast<std::size_t>(c - data);
                while (detail::is_wsp(data[ne - 1])) --ne;  // stops at the token octet c0
                h.name_len = static_cast<std::uint16_t>(ne - pos);
                h.id = detail::header_id_padded(data + pos, h.name_len);
                colon = static_cast<std::size_t>(c - data);
                if (h.id == HeaderId::Other) {
                    for (std::size_t k = pos + 1; k < ne; ++k) {
                        if (!kToken[static_cast<unsigned char>(data[k])]) {
                            colon = 0;
                            break;
                        }
                    }
                }
            }
        }
        if (colon == 0) {
            std::size_t i = pos + 1;
            while (kToken[static_cast<unsigned char>(data[i])]) ++i;  // stops at CR at the latest
            h.name_len = static_cast<std::uint16_t>(i - pos);
            while (i < field_end && detail::is_wsp(data[i])) ++i;
            if (i >= field_end || data[i] != ':') return fail(Errc::bad_header_name, i);
            h.id = detail::header_id_padded(data + pos, h.name_len);
            colon = i;
        }
        const std::string_view value = trim_value(data + colon + 1, data + field_end);
        h.value_off = static_cast<std::uint32_t>(value.data() - data);
        h.value_len = static_cast<std::uint32_t>(value.size());

        auto bad = [&](const Error& err) {
            return fail(err.code, h.value_off + err.offset, h.id);
        };
        switch (h.id) {
            case HeaderId::Via: {
                // The transaction layer needs the top via-parm (RFC 3261 §17.2.3); the others
                // matter only to a proxy relaying a response and are parsed on demand.
                if (d.via_count == 0) {
                    std::string_view list = value;
                    if (list.empty()) return fail(Errc::bad_header_value, h.value_off, h.id);
                    // the fast path writes in place (d.top_via is still default-built);
                    // anything it leaves goes to the machine (fast_path.hpp)
                    if (!detail::next_via_fast(list, d.top_via)) {
                        auto v = next_via(list);
                        if (!v) return bad(v.error());
                        d.top_via = *v;
                    }
                }
                if (d.via_count < 255) ++d.via_count;
                break;
            }
            case HeaderId::Contact: {
                // Contact is the remote target of every dialog and binding, so it is checked
                // here too (RFC 4475 §3.1.2.13 regbadct must be rejected).
                std::string_view list = value;
                if (list.empty()) return fail(Errc::bad_header_value, h.value_off, h.id);
                while (!list.empty()) {
                    const auto at = static_cast<std::uint32_t>(list.data() - value.data());
                    NameAddr plain;
                    if (detail::next_name_addr_fast(list, plain)) continue;
                    auto c = next_name_addr(list);
                    if (!c) {
                        Error err = c.error();
                        err.offset += at;
                        return bad(err);
                    }
                }
                break;
            }
            case HeaderId::Date: {
                // RFC 3261 §20.17: a malformed Date is rejected (RFC 4475 §3.1.2.12).
                auto d = parse_date(value);
                if (!d) return bad(d.error());
                break;
            }
            case HeaderId::From:
            case HeaderId::To: {
                bool& seen = h.id == HeaderId::From ? have_from : have_to;
                if (seen) return fail(Errc::duplicate_header, pos, h.id);
                seen = true;
                NameAddr& dst = h.id == HeaderId::From ? d.from : d.to;  // default-built
                std::string_view rest = value;
                if (!detail::next_name_addr_fast(rest, dst) || !rest.empty()) {
                    // not plain, or a second element (parse_name_addr places that error)
                    auto na = parse_name_addr(value);
                    if (!na) return bad(na.error());
                    dst = *na;
                }
                break;
            }
            case HeaderId::CallId: {
                if (have_call_id) return fail(Errc::duplicate_header, pos, h.id);
                have_call_id = true;
                auto id = parse_call_id(value);
                if (!id) return bad(id.error());
                d.call_id = *id;
                break;
            }
            case HeaderId::CSeq: {
                if (have_cseq) return fail(Errc::duplicate_header, pos, h.id);
                have_cseq = true;
                cseq_off = h.value_off;
                auto cs = parse_cseq(value);
                if (!cs) return bad(cs.error());
                d.cseq = *cs;
                break;
            }
            case HeaderId::MaxForwards: {
                if (d.max_forwards) return fail(Errc::duplicate_header, pos, h.id);
                auto mf = parse_max_forwards(value);
                if (!mf) return bad(mf.error());
                d.max_forwards = *mf;
                break;
            }
            case HeaderId::ContentLength: {
                // RFC 4475 §3.1.2.3 (negative) and §3.3.9 (several values): no usable framing.
                if (d.content_length) return fail(Errc::bad_content_length, pos, h.id);
                auto cl = parse_uint(value, UINT32_MAX);
                if (!cl) return fail(Errc::bad_content_length, h.value_off + cl.error().offset, h.id);
                d.content_length = *cl;
                break;
            }
            default: break;
        }
        new (&scratch[nfields++]) HeaderField(h);
        pos = e + 1;
    }

    // --- mandatory headers (RFC 3261 §8.1.1)
    const std::size_t hdr_end = pos;
    if (d.via_count == 0) return fail(Errc::missing_header, hdr_end, HeaderId::Via);
    if (!have_from) return fail(Errc::missing_header, hdr_end, HeaderId::From);
    if (!have_to) return fail(Errc::missing_header, hdr_end, HeaderId::To);
    if (!have_call_id) return fail(Errc::missing_header, hdr_end, HeaderId::CallId);
    if (!have_cseq) return fail(Errc::missing_header, hdr_end, HeaderId::CSeq);
    if (m.is_request() && d.cseq.method_name != d.method_name) {
        return fail(Errc::cseq_method_mismatch, cseq_off, HeaderId::CSeq);
    }

    // --- body (RFC 3261 §18.3, §20.14)
    const std::size_t available = n - hdr_end;
    std::size_t body_len = available;
    if (d.content_length) {
        if (*d.content_length > available) {
            return fail(Errc::body_truncated, n, HeaderId::ContentLength);
        }
        body_len = *d.content_length;
    } else if (framing == Framing::Stream) {
        return fail(Errc::missing_header, hdr_end, HeaderId::ContentLength);
    }
    d.body_off = static_cast<std::uint32_t>(hdr_end);
    d.size = static_cast<std::uint32_t>(hdr_end + body_len);

    HeaderField* table;
    if (nfields <= kInlineFields) {
        table = inline_slots;
    } else {
        m.overflow_.reset(new HeaderField[nfields]);
        table = m.overflow_.get();
    }
    std::memcpy(static_cast<void*>(table), scratch, nfields * sizeof(HeaderField));
    d.fields = table;
    d.nfields = static_cast<std::uint16_t>(nfields);
    return m;
}

const HeaderField* Message::find(HeaderId id) const noexcept {
    for (std::size_t i = 0; i < d_->nfields; ++i) {
        if (d_->fields[i].id == id) return &d_->fields[i];
    }
    return nullptr;
}

const HeaderField* Message::find(std::string_view name) const noexcept {
    const HeaderId id = header_id(name);
    if (id != HeaderId::Other) return find(id);
    for (std::size_t i = 0; i < d_->nfields; ++i) {
        if (d_->fields[i].id == HeaderId::Other && iequals(this->name(d_->fields[i]), name))
            return &d_->fields[i];
    }
    return nullptr;
}

std::size_t Message::count(HeaderId id) const noexcept {
    std::size_t k = 0;
    for (std::size_t i = 0; i < d_->nfields; ++i) k += d_->fields[i].id == id;
    return k;
}

}  // namespace sip

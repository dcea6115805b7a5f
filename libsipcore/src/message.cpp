// The message-level parser: line framing over LF bitmaps (scan.hpp), Ragel machines and their
// fast paths for the start line and the mandatory headers (DESIGN.md §4). Header values are
// not stepped through byte by byte unless a machine needs them: that is where the
// instructions go.
#include "sip/message.hpp"

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include "fast_path.hpp"
#include "header_lookup.hpp"
#include "message_parse.hpp"
#include "parse_util.hpp"
#include "scalars_inline.hpp"
#include "scan.hpp"
#include "start_line.hpp"

namespace sip {
namespace {

// RFC 3261 §25.1 token characters (the table scalars_inline.hpp checks tokens with)
constexpr const std::array<bool, 256>& kToken = detail::kTokenC;

// glibc's per-thread cache takes requests up to this size, and serves them for a fraction of
// what a general allocation and free cost.
constexpr std::size_t kTcacheMax = 1032;
constexpr std::size_t kMaxFieldsCap = 1024;
// Zeroed octets after the message's bytes in their block: the 64-octet LF blocks, the
// ':' search (scan.hpp) and the word-wise name lookup (header_id_padded) read past
// their end without bounds checks.
constexpr std::size_t kTailPad = 64;
static_assert(kTailPad >= detail::kNameReadPad && kTailPad >= 63 &&
              kTailPad >= detail::scan::kOverread);
// A header name is looked for within this many octets of its line's start before the
// exact byte-by-byte walk takes over (longer names are rare extension headers).
constexpr std::size_t kNameWindow = 32;
constexpr std::size_t kNone = ~std::size_t{0};  // no such offset

inline std::size_t ctz(std::uint64_t bits) noexcept {
    return static_cast<std::size_t>(std::countr_zero(bits));
}

// The 64-octet block of the message the line loop is in, as a bitmap of its LFs (scan.hpp):
// each octet is compared once, and a line's end is a shift and a count of trailing zeros.
// Plain members, so the block stays in registers. The loop only moves forward, so a block
// is loaded once.
template <class Scan>
struct LineBlock {
    std::size_t start = 0;  // offset of the block's first octet
    std::uint64_t lf = 0;
    // The block holding offset `at` (the message must be followed by 63 readable octets).
    void load(const char* data, std::size_t at) noexcept {
        start = at & ~std::size_t{63};
        lf = Scan::lf_bits64(data + start);
    }
};

// LWS around a header value: a value starts after ": " and ends at its CR as a rule, so the
// first octet decides.
constexpr std::array<bool, 256> make_lws_table() {
    std::array<bool, 256> t{};
    for (char c : std::string_view(" \t\r\n")) t[static_cast<unsigned char>(c)] = true;
    return t;
}
constexpr std::array<bool, 256> kLws = make_lws_table();

// `e` is at the field's CR (so *b is readable, and an LWS octet, when b == e).
inline std::string_view trim_value(const char* b, const char* e) noexcept {
    b += *b == ' ';  // the usual ": "
    while (kLws[static_cast<unsigned char>(*b)] && b < e) ++b;
    while (kLws[static_cast<unsigned char>(e[-1])] && e > b) --e;
    return {b, static_cast<std::size_t>(e - b)};
}
constexpr std::array<bool, 256> make_wsp_table() {
    std::array<bool, 256> t{};
    t[' '] = t['\t'] = true;
    return t;
}
// SP and HTAB: a table test is cheaper than two compares where the loop tests every line.
constexpr std::array<bool, 256> kWsp = make_wsp_table();

// a == b for the few octets of a method name, without the calls string_view's == makes
inline bool same_octets(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) return false;
    return true;
}

}  // namespace

class MessageParser {
public:
    template <class Scan>
    static Result<Message> parse(std::string_view in, const ParseLimits& lim, Framing framing);

private:
    // Message::Data rounded up to the header table's alignment.
    static constexpr std::size_t kDataSize =
        (sizeof(Message::Data) + alignof(std::max_align_t) - 1) & ~(alignof(std::max_align_t) - 1);
    // Header-table slots allocated with Message::Data; most messages need no more (the
    // parser benchmark's corpus: 7 to 18, one with 38). As many as keep that block within
    // the allocator's per-thread cache.
    static constexpr std::size_t kInlineFields =
        kDataSize + 16 * sizeof(HeaderField) <= kTcacheMax
            ? (kTcacheMax - kDataSize) / sizeof(HeaderField)
            : 16;

    struct Seen {
        bool from = false, to = false, call_id = false, cseq = false;
        std::size_t cseq_off = 0;
        Error fault;  // a check's, when it returns false
    };
    struct Framed {
        std::size_t nfields = 0;
        std::size_t end = 0;  // after the empty line that ends the header section
        Error fault;          // the first fault, framing or typed, or Errc::ok
        Seen seen;
    };
    struct Limits {
        std::size_t max_fields, max_header;
    };
    template <class Scan>
    static void frame_fields(Message::Data& d, std::size_t n, std::size_t pos,
                             LineBlock<Scan> blk, Limits lim, HeaderField* out,
                             Framed& fr) noexcept;
    template <class Scan>
    static bool name_fast(const char* data, std::size_t pos, std::size_t field_end,
                          std::size_t& colon, HeaderField& h) noexcept;
    static std::size_t name_exact(const char* data, std::size_t pos, std::size_t field_end,
                                  HeaderField& h) noexcept;
    // The typed checks at ingress, by HeaderId (nullptr: none). False with seen.fault set
    // on a fault: a bool in a register costs less to return and test than an Error.
    using Check = bool (*)(Message::Data&, const HeaderField&, Seen&) noexcept;
    static bool fail(Seen& seen, const Error& e) noexcept {
        seen.fault = e;
        return false;
    }
    using CheckTable = std::array<Check, 256>;
    static bool check_via(Message::Data& d, const HeaderField& h, Seen& seen) noexcept;
    static bool check_top_via(Message::Data& d, const HeaderField& h, Seen& seen) noexcept;
    static bool check_contact(Message::Data& d, const HeaderField& h, Seen& seen) noexcept;
    static bool check_date(Message::Data& d, const HeaderField& h, Seen& seen) noexcept;
    static bool check_from_to(Message::Data& d, const HeaderField& h, Seen& seen) noexcept;
    static bool check_call_id(Message::Data& d, const HeaderField& h, Seen& seen) noexcept;
    static bool check_cseq(Message::Data& d, const HeaderField& h, Seen& seen) noexcept;
    static bool check_max_forwards(Message::Data& d, const HeaderField& h, Seen& seen) noexcept;
    static bool check_content_length(Message::Data& d, const HeaderField& h,
                                      Seen& seen) noexcept;
    static constexpr CheckTable make_checks();
    static const CheckTable kChecks;
};

Result<Message> Message::parse(std::string_view bytes, const ParseLimits& limits,
                               Framing framing) {
    return MessageParser::parse<detail::scan::Fast>(bytes, limits, framing);
}

Result<Message> detail::parse_message_scalar(std::string_view bytes, const ParseLimits& limits,
                                             Framing framing) {
    return MessageParser::parse<detail::scan::Scalar>(bytes, limits, framing);
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

template <class Scan>
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
    // [Data][header slots], and the bytes apart (Message::block_, bytes_)
    m.block_.reset(new char[kDataSize + kInlineFields * sizeof(HeaderField)]);
    m.d_ = new (m.block_.get()) Message::Data{};
    Message::Data& d = *m.d_;
    HeaderField* const inline_slots = reinterpret_cast<HeaderField*>(m.block_.get() + kDataSize);
    m.bytes_.reset(new char[n + kTailPad]);
    char* data = m.bytes_.get();
    std::memcpy(data, in.data() + lead, n);
    std::memset(data + n, 0, kTailPad);
    d.data = data;

    // --- start line
    LineBlock<Scan> blk;
    std::size_t eol = n;
    for (std::size_t q = 0; q < n; q += 64) {
        blk.load(data, q);
        if (blk.lf) {
            eol = q + ctz(blk.lf);
            break;
        }
    }
    if (eol == n) return fail(Errc::incomplete, n);
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
        // a plain SIP URI straight into place (it has no headers); else parse_uri() decides
        if (!detail::plain_sip_uri(sl->uri, d.ruri_parsed)) {
            auto u = parse_uri(sl->uri);
            const std::size_t uri_off = static_cast<std::size_t>(sl->uri.data() - data);
            if (!u) return fail(Errc::bad_request_uri, uri_off + u.error().offset);
            if (u->is_sip() && !u->headers.empty()) {
                return fail(Errc::uri_headers_in_ruri,
                            static_cast<std::size_t>(u->headers.data() - data) - 1);
            }
            d.ruri_parsed = *u;
        }
    }

    // --- header fields
    const std::size_t max_fields = lim.max_headers < kMaxFieldsCap ? lim.max_headers : kMaxFieldsCap;
    const std::size_t max_header = lim.max_header < 0xffff ? lim.max_header : 0xffff;
    // Raw stack storage: constructing 1024 HeaderFields per message would cost more than
    // parsing it.
    alignas(HeaderField) unsigned char scratch_raw[kMaxFieldsCap * sizeof(HeaderField)];
    auto* scratch = reinterpret_cast<HeaderField*>(scratch_raw);
    Framed fr;
    frame_fields<Scan>(d, n, eol + 1, blk, Limits{max_fields, max_header}, scratch, fr);
    if (fr.fault.code != Errc::ok) return fail(fr.fault.code, fr.fault.offset, fr.fault.header);
    const std::size_t nfields = fr.nfields;
    const Seen& seen = fr.seen;

    // --- mandatory headers (RFC 3261 §8.1.1)
    const std::size_t hdr_end = fr.end;
    if (d.via_count == 0) return fail(Errc::missing_header, hdr_end, HeaderId::Via);
    if (!seen.from) return fail(Errc::missing_header, hdr_end, HeaderId::From);
    if (!seen.to) return fail(Errc::missing_header, hdr_end, HeaderId::To);
    if (!seen.call_id) return fail(Errc::missing_header, hdr_end, HeaderId::CallId);
    if (!seen.cseq) return fail(Errc::missing_header, hdr_end, HeaderId::CSeq);
    if (m.is_request() && !same_octets(d.cseq.method_name, d.method_name)) {
        return fail(Errc::cseq_method_mismatch, seen.cseq_off, HeaderId::CSeq);
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
        // raw, as the inline slots are: the copy below makes the fields (no zeroing first)
        m.overflow_.reset(new char[nfields * sizeof(HeaderField)]);
        table = reinterpret_cast<HeaderField*>(m.overflow_.get());
    }
    std::memcpy(static_cast<void*>(table), scratch, nfields * sizeof(HeaderField));
    d.fields = table;
    d.nfields = static_cast<std::uint16_t>(nfields);
    return m;
}

// The header section's lines from `pos` (after the start line) to the empty line: each
// field's name, HeaderId and trimmed value into `out`. The loop itself is framing only (a
// line's LF comes from blk's bitmap, its name's ':' from a 16-octet compare or two); the few
// fields with a typed check go out of line to their check_*(), so the loop keeps its
// registers. Faults are reported in message order, framing or typed.
template <class Scan>
void MessageParser::frame_fields(Message::Data& d, std::size_t n, std::size_t pos,
                                 LineBlock<Scan> blk, Limits lim, HeaderField* out,
                                 Framed& fr) noexcept {
    const char* const data = d.data;
    std::size_t nfields = 0;  // a register, not fr's
    auto fault = [&](Errc c, std::size_t off) {
        fr.fault = Error{c, static_cast<std::uint32_t>(off), HeaderId::None};
        fr.nfields = nfields;
    };
    for (;;) {
        if (pos >= n) return fault(Errc::incomplete, n);
        const char c0 = data[pos];
        if (c0 == '\r') {
            if (pos + 1 < n && data[pos + 1] == '\n') {
                fr.end = pos + 2;
                fr.nfields = nfields;
                return;
            }
            return fault(Errc::bad_line_end, pos);
        }
        if (!kToken[static_cast<unsigned char>(c0)]) return fault(Errc::bad_header_name, pos);

        // The field's end: the first CRLF not followed by SP/HTAB (a folded line continues
        // the field).
        if (pos - blk.start >= 64) blk.load(data, pos);
        std::size_t e, q = pos;
        for (;;) {
            if (const std::uint64_t lf = blk.lf >> (q & 63)) {
                e = q + ctz(lf);
                if (data[e - 1] != '\r') return fault(Errc::bad_line_end, e);
                if (!kWsp[static_cast<unsigned char>(data[e + 1])]) break;  // data[n]: padding
                q = e + 1;
                if (q - blk.start < 64) continue;
            } else {
                q = blk.start + 64;
            }
            if (q >= n) return fault(Errc::incomplete, n);
            blk.load(data, q);  // q is the block's first octet
        }
        const std::size_t field_end = e - 1;  // at the CR
        if (field_end - pos > lim.max_header) return fault(Errc::header_too_long, pos);
        if (nfields == lim.max_fields) return fault(Errc::too_many_headers, pos);

        HeaderField& h = out[nfields];
        std::size_t colon;
        if (!name_fast<Scan>(data, pos, field_end, colon, h)) {
            colon = name_exact(data, pos, field_end, h);
            if (colon == kNone) return fault(Errc::bad_header_name, h.name_len + pos);
        }
        const std::string_view value = trim_value(data + colon + 1, data + field_end);
        h.value_off = static_cast<std::uint32_t>(value.data() - data);
        h.value_len = static_cast<std::uint32_t>(value.size());
        if (const Check check = kChecks[static_cast<std::uint8_t>(h.id)]) {
            if (!check(d, h, fr.seen)) {
                fr.fault = fr.seen.fault;
                fr.nfields = nfields;
                return;
            }
        }
        ++nfields;
        pos = e + 1;
    }
}

// name: token, then *WSP ':' (RFC 3261 §7.3.1). The fast way: the first ':' of the line,
// within kNameWindow octets (most names end within 16: one compare); a known name needs no
// further check (it matched octet for octet), an extension name is checked for token
// octets. False when that does not settle it: name_exact() then decides.
template <class Scan>
inline bool MessageParser::name_fast(const char* data, std::size_t pos, std::size_t field_end,
                                     std::size_t& colon, HeaderField& h) noexcept {
    // Nearly every name ends within the 16 octets after its first: one compare, no bounds
    // (the padding covers them); a ':' past the line's end there is another line's.
    const unsigned colons = Scan::bits16(data + pos + 1, ':');
    const std::size_t k = ctz(colons);  // of the first, when there is one
    if (colons && k + 1 < field_end - pos) {
        colon = pos + 1 + k;
    } else {
        const std::size_t window = field_end - pos < kNameWindow ? field_end - pos : kNameWindow;
        const char* c = Scan::find_near(data + pos + 1, data + pos + window, ':');
        if (c == data + pos + window) return false;
        colon = static_cast<std::size_t>(c - data);
    }
    std::size_t ne = colon;
    while (kWsp[static_cast<unsigned char>(data[ne - 1])]) --ne;  // stops at data[pos] (token)
    h.name_off = static_cast<std::uint32_t>(pos);
    h.name_len = static_cast<std::uint16_t>(ne - pos);
    h.id = detail::header_id_padded(data + pos, h.name_len);
    if (h.id == HeaderId::Other) {
        // four octets a test while four are left (extension names are long: "X-Acme-Trace")
        auto tok = [data](std::size_t k) { return kToken[static_cast<unsigned char>(data[k])]; };
        std::size_t k = pos + 1;
        while (k + 4 <= ne && (tok(k) & tok(k + 1) & tok(k + 2) & tok(k + 3))) k += 4;
        for (; k < ne; ++k)
            if (!tok(k)) return false;
    }
    return true;
}

// The octet-by-octet walk over a name: its ':' or kNone, with h.name_len then the
// distance from pos to the offending octet.
std::size_t MessageParser::name_exact(const char* data, std::size_t pos, std::size_t field_end,
                                      HeaderField& h) noexcept {
    std::size_t i = pos + 1;
    while (kToken[static_cast<unsigned char>(data[i])]) ++i;  // stops at CR at the latest
    h.name_off = static_cast<std::uint32_t>(pos);
    h.name_len = static_cast<std::uint16_t>(i - pos);
    while (i < field_end && detail::is_wsp(data[i])) ++i;
    if (i >= field_end || data[i] != ':') {
        h.name_len = static_cast<std::uint16_t>(i - pos);
        return kNone;
    }
    h.id = detail::header_id_padded(data + pos, h.name_len);
    return i;
}

// The typed checks of the ingress-validated fields, one function each (a field's fault,
// offsets into the data, or Errc::ok): each saves only the registers it uses, which a
// single switch over them all did not.
namespace {
inline Error fault_at(const HeaderField& h, Errc c, std::size_t off) noexcept {
    return Error{c, static_cast<std::uint32_t>(off), h.id};
}
inline Error bad_value(const HeaderField& h, const Error& err) noexcept {
    return Error{err.code, h.value_off + err.offset, h.id};
}
inline std::string_view value_of(const char* data, const HeaderField& h) noexcept {
    return {data + h.value_off, h.value_len};
}
}  // namespace

bool MessageParser::check_via(Message::Data& d, const HeaderField& h, Seen& seen) noexcept {
    // The transaction layer needs the top via-parm (RFC 3261 §17.2.3); the others matter
    // only to a proxy relaying a response and are parsed on demand, so they only count (no
    // stack frame for them: the top one's parse is out of line).
    if (d.via_count == 0) return check_top_via(d, h, seen);
    if (d.via_count < 255) ++d.via_count;
    return true;
}

[[gnu::noinline]] bool MessageParser::check_top_via(Message::Data& d, const HeaderField& h,
                                                    Seen& seen) noexcept {
    std::string_view list = value_of(d.data, h);
    if (list.empty()) return fail(seen, fault_at(h, Errc::bad_header_value, h.value_off));
    // the fast path writes in place (d.top_via is still default-built); anything it leaves
    // goes to the machine (fast_path.hpp)
    if (!detail::next_via_fast(list, d.top_via)) {
        auto v = next_via(list);
        if (!v) return fail(seen, bad_value(h, v.error()));
        d.top_via = *v;
    }
    d.via_count = 1;
    return true;
}

bool MessageParser::check_contact(Message::Data& d, const HeaderField& h, Seen& seen) noexcept {
    // Contact is the remote target of every dialog and binding, so it is checked here too
    // (RFC 4475 §3.1.2.13 regbadct must be rejected).
    const std::string_view value = value_of(d.data, h);
    std::string_view list = value;
    if (list.empty()) return fail(seen, fault_at(h, Errc::bad_header_value, h.value_off));
    while (!list.empty()) {
        const auto at = static_cast<std::uint32_t>(list.data() - value.data());
        NameAddr plain;
        if (detail::next_name_addr_fast(list, plain)) continue;
        auto c = next_name_addr(list);
        if (!c) {
            Error err = c.error();
            err.offset += at;
            return fail(seen, bad_value(h, err));
        }
    }
    return true;
}

bool MessageParser::check_date(Message::Data& d, const HeaderField& h, Seen& seen) noexcept {
    // RFC 3261 §20.17: a malformed Date is rejected (RFC 4475 §3.1.2.12).
    auto dt = parse_date(value_of(d.data, h));
    if (!dt) return fail(seen, bad_value(h, dt.error()));
    return true;
}

bool MessageParser::check_from_to(Message::Data& d, const HeaderField& h, Seen& seen) noexcept {
    const bool from = h.id == HeaderId::From;
    bool& once = from ? seen.from : seen.to;
    if (once) return fail(seen, fault_at(h, Errc::duplicate_header, h.name_off));
    once = true;
    NameAddr& dst = from ? d.from : d.to;  // default-built
    const std::string_view value = value_of(d.data, h);
    std::string_view rest = value;
    if (!detail::next_name_addr_fast(rest, dst) || !rest.empty()) {
        // not plain, or a second element (parse_name_addr places that error)
        auto na = parse_name_addr(value);
        if (!na) return fail(seen, bad_value(h, na.error()));
        dst = *na;
    }
    return true;
}

bool MessageParser::check_call_id(Message::Data& d, const HeaderField& h, Seen& seen) noexcept {
    if (seen.call_id) return fail(seen, fault_at(h, Errc::duplicate_header, h.name_off));
    seen.call_id = true;
    // parse_call_id(), inline; the value is trimmed (trim_value())
    auto id = detail::call_id_value<detail::Lws::Trimmed>(value_of(d.data, h));
    if (!id) return fail(seen, bad_value(h, id.error()));
    d.call_id = *id;
    return true;
}

bool MessageParser::check_cseq(Message::Data& d, const HeaderField& h, Seen& seen) noexcept {
    if (seen.cseq) return fail(seen, fault_at(h, Errc::duplicate_header, h.name_off));
    seen.cseq = true;
    seen.cseq_off = h.value_off;
    if (detail::cseq_plain(value_of(d.data, h), d.cseq)) return true;  // as parse_cseq()'s
    auto cs = parse_cseq(value_of(d.data, h));
    if (!cs) return fail(seen, bad_value(h, cs.error()));
    d.cseq = *cs;
    return true;
}

bool MessageParser::check_max_forwards(Message::Data& d, const HeaderField& h,
                                       Seen& seen) noexcept {
    if (d.max_forwards) return fail(seen, fault_at(h, Errc::duplicate_header, h.name_off));
    // parse_max_forwards(), inline; the value is trimmed (trim_value())
    auto mf = detail::uint_value<detail::Lws::Trimmed>(value_of(d.data, h), 255);
    if (!mf) return fail(seen, bad_value(h, mf.error()));
    d.max_forwards = *mf;
    return true;
}

bool MessageParser::check_content_length(Message::Data& d, const HeaderField& h,
                                          Seen& seen) noexcept {
    // RFC 4475 §3.1.2.3 (negative) and §3.3.9 (several values): no usable framing.
    if (d.content_length) return fail(seen, fault_at(h, Errc::bad_content_length, h.name_off));
    // parse_uint(), inline; the value is trimmed (trim_value())
    auto cl = detail::uint_value<detail::Lws::Trimmed>(value_of(d.data, h), UINT32_MAX);
    if (!cl)
        return fail(seen, fault_at(h, Errc::bad_content_length, h.value_off + cl.error().offset));
    d.content_length = *cl;
    return true;
}

constexpr MessageParser::CheckTable MessageParser::make_checks() {
    CheckTable t{};
    auto set = [&t](HeaderId id, Check c) { t[static_cast<std::uint8_t>(id)] = c; };
    set(HeaderId::Via, check_via);
    set(HeaderId::Contact, check_contact);
    set(HeaderId::Date, check_date);
    set(HeaderId::From, check_from_to);
    set(HeaderId::To, check_from_to);
    set(HeaderId::CallId, check_call_id);
    set(HeaderId::CSeq, check_cseq);
    set(HeaderId::MaxForwards, check_max_forwards);
    set(HeaderId::ContentLength, check_content_length);
    return t;
}
constexpr MessageParser::CheckTable MessageParser::kChecks = MessageParser::make_checks();

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

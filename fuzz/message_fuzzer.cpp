// Fuzz target: sip::Message::parse (DESIGN.md §4, §9), both framings and several
// ParseLimits, with the invariants every successful parse must keep, and the salvage + 400
// path for every failure.
//
// Input: [selector] message-bytes. A first byte below 0x20 (not CR/LF) selects the framing
// (bit 0) and a ParseLimits variant (bits 1..3); any other first byte means Datagram with
// default limits, so plain .sip files are useful seeds.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "sip/builder.hpp"
#include "sip/headers.hpp"
#include "sip/message.hpp"

namespace {

using fuzz::inside;

sip::ParseLimits roomy() {
    sip::ParseLimits l;
    l.max_message = std::numeric_limits<std::uint32_t>::max();
    l.max_headers = 1024;
    l.max_header = std::numeric_limits<std::uint32_t>::max();
    return l;
}

bool same_fields(const sip::Message& a, const sip::Message& b) {
    if (a.headers().size() != b.headers().size()) return false;
    for (std::size_t i = 0; i < a.headers().size(); ++i) {
        const sip::HeaderField& x = a.headers()[i];
        const sip::HeaderField& y = b.headers()[i];
        if (x.id != y.id || a.name(x) != b.name(y) || a.value(x) != b.value(y)) return false;
    }
    return true;
}

void check_via(const sip::Via& v, std::string_view outer) {
    FUZZ_CHECK(inside(v.protocol, outer));
    FUZZ_CHECK(inside(v.version, outer));
    FUZZ_CHECK(inside(v.transport, outer));
    FUZZ_CHECK(inside(v.host, outer));
    FUZZ_CHECK(inside(v.params, outer));
    FUZZ_CHECK(inside(v.branch, v.params));
    FUZZ_CHECK(inside(v.received, v.params));
    FUZZ_CHECK(inside(v.maddr, v.params));
    FUZZ_CHECK(!v.host.empty());
    FUZZ_CHECK(v.has_port || v.port == 0);
    FUZZ_CHECK(!v.rport || v.has_rport);
    if (v.ipv6) FUZZ_CHECK(v.host.front() == '[' && v.host.back() == ']');
}

void check_name_addr(const sip::NameAddr& na, std::string_view outer) {
    FUZZ_CHECK(inside(na.display_name, outer));
    FUZZ_CHECK(inside(na.uri, outer));
    FUZZ_CHECK(inside(na.params, outer));
    FUZZ_CHECK(inside(na.tag, na.params));
    FUZZ_CHECK(!na.q || *na.q <= 1000);
    if (!na.star) FUZZ_CHECK(sip::parse_uri(na.uri).has_value());
}

// A response built for a parsed request must itself parse and carry what it copied.
void check_response(const sip::Message& req, std::uint16_t status, std::string_view to_tag) {
    sip::ResponseSpec spec;
    spec.status = status;
    spec.to_tag = to_tag;
    const std::string out = sip::build_response(req, spec);
    auto r = sip::Message::parse(out, roomy(), sip::Framing::Stream);
    if (!r) {
        std::fprintf(stderr, "build_response(%u) does not parse: %.*s at offset %u\n---\n%s---\n",
                     status, static_cast<int>(r.error().what().size()), r.error().what().data(),
                     r.error().offset, out.c_str());
    }
    FUZZ_CHECK(r.has_value());
    const sip::Message& res = *r;
    FUZZ_CHECK(res.is_response() && res.status_code() == status);
    FUZZ_CHECK(res.count(sip::HeaderId::Via) == req.count(sip::HeaderId::Via));
    FUZZ_CHECK(res.via_count() == req.via_count());
    FUZZ_CHECK(res.call_id() == req.call_id());
    FUZZ_CHECK(res.cseq().number == req.cseq().number);
    FUZZ_CHECK(res.cseq().method_name == req.cseq().method_name);
    FUZZ_CHECK(res.top_via().branch == req.top_via().branch);
    FUZZ_CHECK(res.from().tag == req.from().tag);
    if (req.to().tag.empty()) {
        FUZZ_CHECK(res.to().tag == to_tag);
    } else {
        FUZZ_CHECK(res.to().tag == req.to().tag);
    }
    FUZZ_CHECK(res.body().empty());
}

void check_editor(const sip::Message& m) {
    sip::MessageEditor ed(m);
    ed.prepend(sip::HeaderId::Via, "SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKfuzz");
    ed.set_body("v=0\r\n");
    const std::string out = ed.build();
    auto r = sip::Message::parse(out, roomy(), sip::Framing::Stream);
    if (!r) {
        std::fprintf(stderr, "MessageEditor output does not parse: %.*s at offset %u\n---\n%s---\n",
                     static_cast<int>(r.error().what().size()), r.error().what().data(),
                     r.error().offset, out.c_str());
    }
    FUZZ_CHECK(r.has_value());
    FUZZ_CHECK(r->headers().size() ==
               m.headers().size() + 1 + (m.content_length() ? 0 : 1));
    FUZZ_CHECK(r->top_via().branch == "z9hG4bKfuzz");
    FUZZ_CHECK(r->via_count() == (m.via_count() < 255 ? m.via_count() + 1 : 255u));
    FUZZ_CHECK(r->count(sip::HeaderId::Via) == m.count(sip::HeaderId::Via) + 1);
    FUZZ_CHECK(r->body() == "v=0\r\n");
    FUZZ_CHECK(r->call_id() == m.call_id());
}

void check_message(const sip::Message& m, std::string_view input, const sip::ParseLimits& lim,
                   sip::Framing framing) {
    const std::string_view all = m.bytes();
    FUZZ_CHECK(!all.empty());
    FUZZ_CHECK(all.size() <= input.size());
    FUZZ_CHECK(all.size() <= lim.max_message);
    // bytes() is the input minus leading CRLFs and trailing datagram octets
    FUZZ_CHECK(input.find(all) != std::string_view::npos);
    FUZZ_CHECK(m.header_section_size() <= all.size());
    const std::string_view head = all.substr(0, m.header_section_size());
    FUZZ_CHECK(head.size() >= 4 && head.substr(head.size() - 4) == "\r\n\r\n");
    FUZZ_CHECK(m.body().data() == all.data() + m.header_section_size());
    FUZZ_CHECK(m.body().size() == all.size() - m.header_section_size());

    // --- header table
    FUZZ_CHECK(m.headers().size() <= lim.max_headers);
    std::size_t vias = 0;
    for (const sip::HeaderField& h : m.headers()) {
        const std::string_view n = m.name(h), v = m.value(h);
        FUZZ_CHECK(!n.empty() && inside(n, head));
        FUZZ_CHECK(inside(v, head));
        FUZZ_CHECK(v.empty() || v.data() > n.data());
        FUZZ_CHECK(sip::header_id(n) == h.id);
        FUZZ_CHECK(h.id != sip::HeaderId::None);
        if (!v.empty()) {
            FUZZ_CHECK(v.front() != ' ' && v.front() != '\t' && v.front() != '\r');
            FUZZ_CHECK(v.back() != ' ' && v.back() != '\t' && v.back() != '\n');
        }
        FUZZ_CHECK(m.find(n) != nullptr);
        if (h.id == sip::HeaderId::Via) {
            ++vias;
            // Only the top via-parm is typed at ingress; the others parse on demand. Walk
            // them as a proxy would, as far as they parse.
            std::string_view list = v;
            while (!list.empty()) {
                const std::size_t before = list.size();
                auto via = sip::next_via(list);
                if (!via) {
                    FUZZ_CHECK(via.error().offset <= before);
                    break;
                }
                FUZZ_CHECK(list.size() < before);
                check_via(*via, v);
            }
        }
    }
    for (auto id : {sip::HeaderId::From, sip::HeaderId::To, sip::HeaderId::CallId,
                    sip::HeaderId::CSeq}) {
        FUZZ_CHECK(m.count(id) == 1);
        FUZZ_CHECK(m.find(id) != nullptr);
    }
    FUZZ_CHECK(m.count(sip::HeaderId::Via) >= 1);
    FUZZ_CHECK(m.via_count() == (vias < 255 ? vias : 255));
    FUZZ_CHECK(m.count(sip::HeaderId::MaxForwards) <= 1);
    FUZZ_CHECK(m.count(sip::HeaderId::ContentLength) <= 1);
    FUZZ_CHECK(m.max_forwards().has_value() == (m.count(sip::HeaderId::MaxForwards) == 1));
    FUZZ_CHECK(m.content_length().has_value() == (m.count(sip::HeaderId::ContentLength) == 1));
    if (m.max_forwards()) FUZZ_CHECK(*m.max_forwards() <= 255);
    if (m.content_length()) FUZZ_CHECK(*m.content_length() == m.body().size());
    if (framing == sip::Framing::Stream) FUZZ_CHECK(m.content_length().has_value());

    // --- typed values agree with the raw fields they came from
    check_via(m.top_via(), head);
    {
        std::string_view first = m.value(*m.find(sip::HeaderId::Via));
        auto again = sip::next_via(first);
        FUZZ_CHECK(again && again->branch == m.top_via().branch && again->host == m.top_via().host &&
                   again->port == m.top_via().port);
    }
    check_name_addr(m.from(), head);
    check_name_addr(m.to(), head);
    FUZZ_CHECK(!m.from().star && !m.to().star);
    auto from_again = sip::parse_name_addr(m.value(*m.find(sip::HeaderId::From)));
    FUZZ_CHECK(from_again && from_again->uri == m.from().uri && from_again->tag == m.from().tag);
    auto call_id = sip::parse_call_id(m.value(*m.find(sip::HeaderId::CallId)));
    FUZZ_CHECK(call_id && *call_id == m.call_id() && !m.call_id().empty());
    FUZZ_CHECK(inside(m.call_id(), head));
    auto cseq = sip::parse_cseq(m.value(*m.find(sip::HeaderId::CSeq)));
    FUZZ_CHECK(cseq && cseq->number == m.cseq().number &&
               cseq->method_name == m.cseq().method_name);
    FUZZ_CHECK(inside(m.cseq().method_name, head));
    FUZZ_CHECK(sip::method_from(m.cseq().method_name) == m.cseq().method);

    if (m.is_request()) {
        FUZZ_CHECK(m.status_code() == 0);
        FUZZ_CHECK(!m.method_name().empty() && inside(m.method_name(), head));
        FUZZ_CHECK(m.method() == sip::method_from(m.method_name()));
        FUZZ_CHECK(m.cseq().method_name == m.method_name());
        FUZZ_CHECK(!m.request_uri().empty() && inside(m.request_uri(), head));
        FUZZ_CHECK(m.ruri().raw == m.request_uri());
        FUZZ_CHECK(inside(m.ruri().host, m.request_uri()));
        FUZZ_CHECK(inside(m.ruri().user, m.request_uri()));
        FUZZ_CHECK(inside(m.ruri().params, m.request_uri()));
        FUZZ_CHECK(!m.ruri().is_sip() || m.ruri().headers.empty());
    } else {
        FUZZ_CHECK(m.status_code() >= 100 && m.status_code() <= 699);
        FUZZ_CHECK(inside(m.reason(), head));
    }

    // --- re-parsing what was framed gives the same message
    {
        const sip::Framing again_framing =
            m.content_length() ? sip::Framing::Stream : sip::Framing::Datagram;
        auto again = sip::Message::parse(all, lim, again_framing);
        FUZZ_CHECK(again.has_value());
        FUZZ_CHECK(again->bytes() == all);
        FUZZ_CHECK(again->header_section_size() == m.header_section_size());
        FUZZ_CHECK(same_fields(m, *again));
        FUZZ_CHECK(again->via_count() == m.via_count());
    }

    if (m.is_request()) {
        check_response(m, 100, {});
        check_response(m, 200, "fz1");
        check_response(m, 486, "fz2");
    }
    check_editor(m);
}

// Every field salvage() recovered is a value that the strict parser would accept too.
bool salvaged_fields_valid(const sip::Salvage& s) {
    auto clean = [](std::string_view v) {
        // salvage tolerates bare LF line ends; a value that still holds one cannot be copied
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (v[i] == '\n' && (i == 0 || v[i - 1] != '\r')) return false;
            if (v[i] == '\r' && (i + 1 == v.size() || v[i + 1] != '\n')) return false;
        }
        return true;
    };
    if (s.via_count == 0 || s.from.empty() || s.to.empty() || s.call_id.empty()) return false;
    for (std::size_t i = 0; i < s.via_count; ++i) {
        if (!clean(s.via_fields[i])) return false;
        std::string_view list = s.via_fields[i];
        if (list.empty()) return false;
        while (!list.empty()) {
            if (!sip::next_via(list)) return false;
        }
    }
    return clean(s.from) && clean(s.to) && clean(s.call_id) && clean(s.cseq) &&
           sip::parse_name_addr(s.from).has_value() && sip::parse_name_addr(s.to).has_value() &&
           sip::parse_call_id(s.call_id).has_value() &&
           // usable() also accepts a CSeq number that overflows (RFC 4475 scalar02 gets
           // its 400); such a 400 is not required to parse
           sip::parse_cseq(s.cseq).has_value();
}

void check_failure(const sip::Error& err, std::string_view input) {
    FUZZ_CHECK(err.code != sip::Errc::ok);
    FUZZ_CHECK(err.offset <= input.size());
    FUZZ_CHECK(!err.what().empty());

    const sip::Salvage s = sip::salvage(input);
    FUZZ_CHECK(inside(s.method, input));
    FUZZ_CHECK(s.via_count <= std::size(s.via_fields));
    for (std::size_t i = 0; i < s.via_count; ++i) FUZZ_CHECK(inside(s.via_fields[i], input));
    FUZZ_CHECK(inside(s.from, input) && inside(s.to, input));
    FUZZ_CHECK(inside(s.call_id, input) && inside(s.cseq, input));
    if (s.top_via_ok) check_via(s.top_via, input);
    if (!s.usable()) return;

    sip::ResponseSpec spec;
    spec.status = 400;
    spec.reason = err.what();
    spec.to_tag = "fz400";
    const std::string out = sip::build_response(s, spec);
    FUZZ_CHECK(out.rfind("SIP/2.0 400 ", 0) == 0);
    if (!salvaged_fields_valid(s)) return;
    // A 400 made of valid parts must be a valid response (RFC 3261 §8.2.6).
    auto r = sip::Message::parse(out, roomy(), sip::Framing::Stream);
    if (!r) {
        std::fprintf(stderr, "salvaged 400 does not parse: %.*s at offset %u\n---\n%s---\n",
                     static_cast<int>(r.error().what().size()), r.error().what().data(),
                     r.error().offset, out.c_str());
    }
    FUZZ_CHECK(r.has_value());
    FUZZ_CHECK(r->status_code() == 400);
    FUZZ_CHECK(r->reason() == err.what());
    FUZZ_CHECK(r->top_via().branch == s.top_via.branch);
    FUZZ_CHECK(r->call_id() == sip::parse_call_id(s.call_id).value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::uint8_t sel = 0;
    fuzz::take_selector(data, size, sel);
    const sip::Framing framing = (sel & 1) ? sip::Framing::Stream : sip::Framing::Datagram;
    const sip::ParseLimits lim = fuzz::limits_variant(sel >> 1);

    // An exact-size copy, so that ASan sees any read past the end.
    std::unique_ptr<char[]> copy(new char[size ? size : 1]);
    if (size) std::memcpy(copy.get(), data, size);
    const std::string_view input(copy.get(), size);

    auto r = sip::Message::parse(input, lim, framing);
    if (r) {
        check_message(*r, input, lim, framing);
        // The Message owns its bytes: it does not depend on the input buffer.
        sip::Message moved = std::move(*r);
        FUZZ_CHECK(!inside(moved.bytes(), input));
    } else {
        check_failure(r.error(), input);
    }
    return 0;
}

// Fuzz target: the typed header decoders of sip/headers.hpp that the message parser relies
// on at ingress. Input: selector-byte value-bytes; selector % 8 picks the decoder:
//   0 next_via (whole list)   1 next_name_addr (whole list)   2 parse_name_addr
//   3 parse_cseq              4 parse_call_id                 5 parse_uint (max from selector)
//   6 parse_date              7 find_param: "name|params"
// Cursor functions must strictly shrink the list and leave a suffix of it; every view lies
// inside the input; error offsets lie inside the input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "fuzz_support.hpp"
#include "sip/headers.hpp"

namespace {

using fuzz::inside;

void check_error(const sip::Error& e, std::string_view in) {
    FUZZ_CHECK(e.code != sip::Errc::ok);
    FUZZ_CHECK(e.offset <= in.size());
}

void check_via(const sip::Via& v, std::string_view in) {
    for (std::string_view part : {v.protocol, v.version, v.transport, v.host, v.params})
        FUZZ_CHECK(inside(part, in));
    FUZZ_CHECK(inside(v.branch, v.params));
    FUZZ_CHECK(inside(v.received, v.params));
    // received is the bare address, also when written in brackets (RFC 5118 §4.5)
    if (!v.received.empty()) FUZZ_CHECK(v.received.front() != '[' && v.received.back() != ']');
    FUZZ_CHECK(inside(v.maddr, v.params));
    FUZZ_CHECK(!v.protocol.empty() && !v.version.empty() && !v.transport.empty());
    FUZZ_CHECK(!v.host.empty());
    FUZZ_CHECK(v.has_port || v.port == 0);
    FUZZ_CHECK(!v.rport || v.has_rport);
    if (v.ipv6) FUZZ_CHECK(v.host.size() >= 2 && v.host.front() == '[' && v.host.back() == ']');
    // a parameter given twice: the typed field and find_param may pick different ones
    if (auto b = v.param("branch")) FUZZ_CHECK(inside(*b, v.params));
    if (auto r = v.param("received")) FUZZ_CHECK(inside(*r, v.params));
}

void check_name_addr(const sip::NameAddr& na, std::string_view in) {
    FUZZ_CHECK(inside(na.display_name, in) && inside(na.uri, in) && inside(na.params, in));
    FUZZ_CHECK(inside(na.tag, na.params));
    FUZZ_CHECK(!na.q || *na.q <= 1000);
    if (na.star) {
        FUZZ_CHECK(na.uri.empty());
    } else {
        FUZZ_CHECK(!na.uri.empty());
        auto u = sip::parse_uri(na.uri);
        FUZZ_CHECK(u.has_value());
    }
    if (auto t = na.param("tag")) FUZZ_CHECK(inside(*t, na.params));
    if (na.quoted_display) (void)sip::unquote(na.display_name);
}

template <class Next, class Check>
void walk_list(std::string_view in, Next next, Check check) {
    std::string_view list = in;
    while (!list.empty()) {
        const std::string_view before = list;
        auto r = next(list);
        if (!r) {
            check_error(r.error(), before);
            return;
        }
        // strictly shrinks, and what is left is a suffix of what was there
        FUZZ_CHECK(list.size() < before.size());
        FUZZ_CHECK(list.empty() || list.data() + list.size() == before.data() + before.size());
        check(*r, before);
    }
}

// Reference decimal parser for parse_uint: LWS 1*DIGIT LWS, value <= max.
bool reference_uint(std::string_view v, std::uint32_t max, std::uint32_t& out) {
    auto lws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!v.empty() && lws(v.front())) v.remove_prefix(1);
    while (!v.empty() && lws(v.back())) v.remove_suffix(1);
    if (v.empty()) return false;
    std::uint64_t x = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return false;
        x = x * 10 + static_cast<unsigned>(c - '0');
        if (x > max) return false;
    }
    out = static_cast<std::uint32_t>(x);
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t sel = data[0];
    std::unique_ptr<char[]> copy(new char[size - 1 ? size - 1 : 1]);
    if (size > 1) std::memcpy(copy.get(), data + 1, size - 1);
    const std::string_view in(copy.get(), size - 1);

    switch (sel % 8) {
        case 0:
            walk_list(in, sip::next_via, check_via);
            break;
        case 1:
            walk_list(in, sip::next_name_addr, check_name_addr);
            break;
        case 2: {
            auto r = sip::parse_name_addr(in);
            if (!r) {
                check_error(r.error(), in);
                break;
            }
            FUZZ_CHECK(!r->star);
            check_name_addr(*r, in);
            // a single name-addr is also a one-element list
            std::string_view list = in;
            auto first = sip::next_name_addr(list);
            FUZZ_CHECK(first && list.empty() && first->uri == r->uri && first->tag == r->tag);
            break;
        }
        case 3: {
            auto r = sip::parse_cseq(in);
            if (!r) {
                check_error(r.error(), in);
                break;
            }
            FUZZ_CHECK(!r->method_name.empty() && inside(r->method_name, in));
            FUZZ_CHECK(r->method == sip::method_from(r->method_name));
            if (r->method != sip::Method::Unknown)
                FUZZ_CHECK(sip::method_name(r->method) == r->method_name);
            break;
        }
        case 4: {
            auto r = sip::parse_call_id(in);
            if (!r) {
                check_error(r.error(), in);
                break;
            }
            FUZZ_CHECK(!r->empty() && inside(*r, in));
            auto again = sip::parse_call_id(*r);
            FUZZ_CHECK(again && *again == *r);
            break;
        }
        case 5: {
            static constexpr std::uint32_t kMax[] = {255, 0xffffffffu, 0, 65535};
            const std::uint32_t max = kMax[(sel >> 3) & 3];
            auto r = sip::parse_uint(in, max);
            std::uint32_t want = 0;
            const bool ok = reference_uint(in, max, want);
            FUZZ_CHECK(r.has_value() == ok);
            if (r) {
                FUZZ_CHECK(*r == want && *r <= max);
            } else {
                check_error(r.error(), in);
            }
            break;
        }
        case 6: {
            auto r = sip::parse_date(in);
            if (!r) {
                check_error(r.error(), in);
                break;
            }
            // rfc1123-date: 4-digit year, so the result lies within years 0..9999
            FUZZ_CHECK(*r >= -62167219200LL && *r <= 253402300800LL);
            break;
        }
        case 7: {
            const std::size_t bar = in.find('|');
            const std::string_view name = in.substr(0, bar == std::string_view::npos ? 0 : bar);
            const std::string_view params =
                bar == std::string_view::npos ? in : in.substr(bar + 1);
            auto p = sip::find_param(params, name);
            if (p) FUZZ_CHECK(inside(*p, params));
            break;
        }
    }
    return 0;
}

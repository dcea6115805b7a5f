// Fast paths for what every message carries (the start line, the Request-URI, Via, From,
// To, Contact, CSeq), in front of their Ragel machines (fast_path.cpp; the start line's,
// the URI's and CSeq's sit next to their machines).
//
//   sip::Via v;
//   if (!sip::detail::next_via_fast(list, v)) return sip::detail::next_via_dfa(list);
//
// A fast path accepts only a plain subset of the grammar (no LWS inside the value, no
// quoted-pair, no IPv6 reference, no URI headers, no repeated named parameter, ...), and for
// such a value it produces exactly what the machine does: the same fields, the same views,
// the same rest of the list. For anything else it returns false and touches nothing; the
// machine then accepts or rejects it and places the error. So validation is the machine's
// alone, and the fast path only saves its ~14 instructions a byte (issue 13).
// tests/sipcore/{via,name_addr}_test.cpp compare both on mutated inputs.
#pragma once

#include <string_view>

#include "sip/headers.hpp"

namespace sip::detail {

bool next_via_fast(std::string_view& list, Via& out) noexcept;
bool next_name_addr_fast(std::string_view& list, NameAddr& out) noexcept;

// Where a plain SIP-URI's parts end: `at` and `hp_end` as uri.rl's machine marks them, and
// what parse_uri() would otherwise search for again.
struct SipUriMarks {
    const char* at = nullptr;        // the '@' after the userinfo, or nullptr
    const char* pw_colon = nullptr;  // the userinfo's ':' (before a password), or nullptr
    const char* host_end = nullptr;  // the end of the host: hp_end, or the port's ':'
    const char* hp_end = nullptr;    // the end of hostport
};

// uri.rl's SIP-URI after "sip:"/"sips:", [p, pe): userinfo? hostport uri-parameters, with
// a hostname or IPv4 host and no URI headers; `m` is filled on success. `port_16bit`: the
// port is held to 0..65535 by the grammar (name_addr.rl) rather than by parse_uri()'s check
// afterwards.
bool sip_uri_body(const char* p, const char* pe, bool port_16bit, SipUriMarks& m) noexcept;
// The same from p on, stopping where the plain SIP-URI ends (at pe at the latest): that
// octet, or nullptr when the octets before it are not plain. A name-addr's URI is plain when
// this stops at its '>'.
const char* sip_uri_scan(const char* p, const char* pe, bool port_16bit,
                         SipUriMarks& m) noexcept;

// parse_uri(); `fast` false runs the Ragel machine alone (tests compare the two).
Result<Uri> parse_uri_impl(std::string_view text, bool fast) noexcept;
// parse_uri()'s Uri for a plain "sip:"/"sips:" URI, written into `out` (default-built) in
// place; false for any other text, which parse_uri() then decides (`out` is untouched unless
// parse_uri() rejects the text).
bool plain_sip_uri(std::string_view text, Uri& out) noexcept;

// parse_cseq(); `fast` false runs the Ragel machine alone (tests compare the two).
Result<CSeq> parse_cseq_impl(std::string_view value, bool fast) noexcept;

// The Ragel machines themselves (via.rl, name_addr.rl).
Result<Via> next_via_dfa(std::string_view& list) noexcept;
Result<NameAddr> next_name_addr_dfa(std::string_view& list) noexcept;

}  // namespace sip::detail

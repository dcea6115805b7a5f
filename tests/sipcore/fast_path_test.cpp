// The fast paths of libsipcore/src/fast_path.cpp against the Ragel machines they sit in
// front of (via.rl, name_addr.rl): on every input a fast path accepts, the machine accepts
// too and gives the same fields, the same views (same octets of the same buffer) and the
// same rest of the list; the public functions answer exactly as the machines do, errors
// included. Inputs: realistic values and edge cases, each mutated at every position (every
// octet substituted from a set of interesting ones, deleted, doubled) and at random, placed
// against a PROT_NONE page.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "fast_path.hpp"
#include "guarded.hpp"
#include "sip/headers.hpp"
#include "start_line.hpp"

namespace {

// Same view: both empty, or the same octets at the same address.
bool same(std::string_view a, std::string_view b) {
    if (a.empty() || b.empty()) return a.empty() && b.empty();
    return a.data() == b.data() && a.size() == b.size();
}

template <class T>
bool same(const std::optional<T>& a, const std::optional<T>& b) {
    return a == b;
}

bool same(const sip::Via& a, const sip::Via& b) {
    return same(a.protocol, b.protocol) && same(a.version, b.version) &&
           same(a.transport, b.transport) && same(a.host, b.host) && a.port == b.port &&
           a.has_port == b.has_port && a.ipv6 == b.ipv6 && same(a.params, b.params) &&
           same(a.branch, b.branch) && same(a.received, b.received) && same(a.maddr, b.maddr) &&
           a.has_rport == b.has_rport && same(a.rport, b.rport) && same(a.ttl, b.ttl);
}

bool same(const sip::NameAddr& a, const sip::NameAddr& b) {
    return same(a.display_name, b.display_name) && a.quoted_display == b.quoted_display &&
           a.star == b.star && a.bracketed == b.bracketed && same(a.uri, b.uri) &&
           same(a.params, b.params) && same(a.tag, b.tag) && same(a.expires, b.expires) &&
           same(a.q, b.q);
}

bool same(const sip::Uri& a, const sip::Uri& b) {
    return a.scheme == b.scheme && same(a.scheme_name, b.scheme_name) && same(a.user, b.user) &&
           same(a.password, b.password) && same(a.host, b.host) && a.port == b.port &&
           a.has_port == b.has_port && a.ipv6 == b.ipv6 && same(a.params, b.params) &&
           same(a.headers, b.headers) && same(a.raw, b.raw);
}

bool same(const sip::detail::StartLine& a, const sip::detail::StartLine& b) {
    return a.response == b.response && same(a.method, b.method) && same(a.uri, b.uri) &&
           a.status == b.status && same(a.reason, b.reason);
}

bool same(const sip::CSeq& a, const sip::CSeq& b) {
    return a.number == b.number && same(a.method_name, b.method_name) && a.method == b.method;
}

template <class T>
bool same(const sip::Result<T>& a, const sip::Result<T>& b) {
    if (a.has_value() != b.has_value()) return false;
    if (!a) return a.error().code == b.error().code && a.error().offset == b.error().offset;
    return same(*a, *b);
}

struct Tally {
    std::size_t inputs = 0, fast = 0, mismatches = 0;
};

// One input through the fast path, the machine and the public function.
template <class T, class Fast, class Dfa, class Public>
void compare(std::string_view text, Fast fast, Dfa dfa, Public pub, Tally& t) {
    ++t.inputs;
    std::string_view by_fast = text, by_dfa = text, by_pub = text;
    T v{};
    const bool took = fast(by_fast, v);
    const sip::Result<T> ref = dfa(by_dfa);
    const sip::Result<T> got = pub(by_pub);
    bool ok = same(got, ref) && same(by_pub, by_dfa);
    if (took) {
        ++t.fast;
        ok = ok && ref.has_value() && same(v, *ref) && same(by_fast, by_dfa);
    } else {
        ok = ok && same(by_fast, text);  // a refusing fast path leaves the list alone
    }
    if (!ok) {
        ++t.mismatches;
        UNSCOPED_INFO("differs: [" << text << "] fast " << took);
    }
}

// Every input derived from the seeds: each as is, each octet substituted by each of
// `alphabet`, deleted and doubled, plus random multi-octet mutations.
template <class Each>
void mutations(const std::vector<std::string>& seeds, std::string_view alphabet, Each each) {
    std::mt19937 rng(4475);
    for (const std::string& s : seeds) {
        each(s);
        for (std::size_t i = 0; i < s.size(); ++i) {
            for (char c : alphabet) {
                std::string m = s;
                m[i] = c;
                each(m);
            }
            each(s.substr(0, i) + s.substr(i + 1));
            each(s.substr(0, i + 1) + s.substr(i));
        }
        for (int k = 0; k < 20000; ++k) {
            std::string m = s;
            const int edits = 1 + static_cast<int>(rng() % 3);
            for (int e = 0; e < edits && !m.empty(); ++e) {
                const std::size_t at = rng() % m.size();
                const char c = rng() % 4 ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng());
                switch (rng() % 3) {
                    case 0: m[at] = c; break;
                    case 1: m.erase(at, 1); break;
                    default: m.insert(at, 1, c); break;
                }
            }
            each(m);
        }
        for (std::size_t len = 0; len < s.size(); ++len) each(s.substr(0, len));
    }
}

// Octets that matter to the grammars, a few that never may, and 0x80+ (UTF-8).
const std::string kAlphabet = std::string("aZ09.-_:;=,@<>\"\\/?&%+[]() \t\r\n*~!'`$#{}|^") +
                              std::string("\x00\x7f\x80\xff", 4);

}  // namespace

TEST_CASE("fast path: Via agrees with the machine on mutated values", "[sipcore][via][fast_path]") {
    const std::vector<std::string> seeds = {
        "SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-524287-1-0a1b2c3d4e;rport",
        "SIP/2.0/UDP 198.51.100.20:5060;received=198.51.100.20;branch=z9hG4bK7f3e2a91c4b8",
        "SIP/2.0/TCP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport=5067;ttl=16;"
        "maddr=224.2.0.1;x-ext",
        "SIP/2.0/TLS a.b-c.example.;branch=z9hG4bKx;maddr=h.example.com;lr, SIP/2.0/UDP h",
        "SIP/2.0/UDP 10.0.0.1:0;rport=0;ttl=255;received=1.2.3.4;branch=x;branch=y",
        "SIP/2.0/UDP h;RPORT;Branch=Z;RECEIVED=255.255.255.255,SIP/2.0/UDP h2:65535",
        "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1",
        "SIP / 2.0 / UDP h ;branch=z9hG4bK1 , SIP/2.0/UDP h",
    };
    test::GuardedBuffer g(4096);
    Tally t;
    mutations(seeds, kAlphabet, [&](const std::string& m) {
        compare<sip::Via>(g.place(m), sip::detail::next_via_fast, sip::detail::next_via_dfa,
                          sip::next_via, t);
    });
    INFO("inputs " << t.inputs << ", taken by the fast path " << t.fast);
    CHECK(t.mismatches == 0);
    CHECK(t.inputs > 100000);
    CHECK(t.fast > t.inputs / 10);  // the fast path is exercised, not always refused
}

TEST_CASE("fast path: name-addr agrees with the machine on mutated values",
          "[sipcore][name_addr][fast_path]") {
    const std::vector<std::string> seeds = {
        "\"Alice Caller\" <sip:+14155550123@198.51.100.20;user=phone>;tag=as1f2e3d4c",
        "<sip:+12125550199@192.0.2.30;user=phone>",
        "<sip:2001@192.168.1.50:5060;transport=udp>;+sip.instance=\"<urn:uuid:0-1>\";expires=3600",
        "<sips:bob:pw%20x@biloxi.example.com:05061;lr;maddr=[::1]>;q=0.7;expires=60, <sip:h>;q=1.000",
        "\"\" <SIP:a;b?c@h.example.>;TAG=x;Expires=4294967295;Q=0.", 
        "\"\xc3\xa9\t x\"<sip:h:65535>;tag=a;tag=b",
        "<sip:h?subject=x>;q=1.5",
        "Bob <sip:bob@h>;tag=1",
        "sipp <sip:sipp@127.0.0.1:5061>;tag=24471SIPpTag001",
        "Alice  B.\tSmith-Jr <sip:a@h>;tag=x, caller<sip:c@h>",
        "sip <sips:h>;expires=5",
        "sip:alice@atlanta.example.com;tag=88sja8x",
        "<tel:+1-555-0100>;tag=t",
        "*",
    };
    test::GuardedBuffer g(4096);
    Tally t;
    mutations(seeds, kAlphabet, [&](const std::string& m) {
        compare<sip::NameAddr>(g.place(m), sip::detail::next_name_addr_fast,
                               sip::detail::next_name_addr_dfa, sip::next_name_addr, t);
    });
    INFO("inputs " << t.inputs << ", taken by the fast path " << t.fast);
    CHECK(t.mismatches == 0);
    CHECK(t.inputs > 100000);
    CHECK(t.fast > t.inputs / 10);
}

TEST_CASE("fast path: Request-URI agrees with the machine on mutated URIs",
          "[sipcore][uri][fast_path]") {
    const std::vector<std::string> seeds = {
        "sip:+12125550199@192.0.2.30:5060;user=phone",
        "sips:bob:pw%20x@biloxi.example.com:05061;lr;maddr=h;transport=tls",
        "SIP:a;b?c@h.example.:99999",
        "sip:h",
        "sip:alice@atlanta.example.com?subject=project&priority=urgent",
        "sip:[2001:db8::1]:5060",
        "tel:+1-555-0100;phone-context=example.com",
        "urn:service:sos",
    };
    test::GuardedBuffer g(4096);
    Tally t;
    mutations(seeds, kAlphabet, [&](const std::string& m) {
        const std::string_view text = g.place(m);
        ++t.inputs;
        const auto fast = sip::detail::parse_uri_impl(text, true);
        const auto dfa = sip::detail::parse_uri_impl(text, false);
        t.fast += fast.has_value();
        if (!same(fast, dfa) || !same(sip::parse_uri(text), dfa)) {
            ++t.mismatches;
            UNSCOPED_INFO("differs: [" << m << "]");
        }
    });
    INFO("inputs " << t.inputs << ", accepted " << t.fast);
    CHECK(t.mismatches == 0);
    CHECK(t.inputs > 100000);
    CHECK(t.fast > t.inputs / 10);
}

TEST_CASE("fast path: start lines agree with the machine on mutated lines",
          "[sipcore][parser][fast_path]") {
    const std::vector<std::string> seeds = {
        "INVITE sip:+12125550199@192.0.2.30:5060;user=phone SIP/2.0",
        "OPTIONS sip:h SIP/2.0",
        "SIP/2.0 200 OK",
        "SIP/2.0 183 Session Progress",
        "sip/2.0 486 Busy \xc3\xa9\there",
        "SIP/2.0 100 ",
        "SIP/02.00 699 x",
        "REGISTER sip:registrar.example.com sip/2.0",
        "NEWMETHOD urn:x:y SIP/2.0",
    };
    test::GuardedBuffer g(4096);
    Tally t;
    mutations(seeds, kAlphabet, [&](const std::string& m) {
        const std::string_view line = g.place(m);
        ++t.inputs;
        const auto fast = sip::detail::parse_start_line_impl(line, true);
        const auto dfa = sip::detail::parse_start_line_impl(line, false);
        t.fast += fast.has_value();
        if (!same(fast, dfa) || !same(sip::detail::parse_start_line(line), dfa)) {
            ++t.mismatches;
            UNSCOPED_INFO("differs: [" << m << "]");
        }
    });
    INFO("inputs " << t.inputs << ", accepted " << t.fast);
    CHECK(t.mismatches == 0);
    CHECK(t.inputs > 100000);
    CHECK(t.fast > t.inputs / 10);
}

TEST_CASE("fast path: CSeq agrees with the machine on mutated values", "[sipcore][scalars][fast_path]") {
    const std::vector<std::string> seeds = {
        "102 INVITE", "1 OPTIONS", "4294967295 REGISTER", "4294967296 BYE", "0 x-NEW.method!",
        "0001 ACK", "12  CANCEL", "7\tINFO", " 5 BYE ", "3 INVITE\r\n ",
    };
    test::GuardedBuffer g(4096);
    Tally t;
    mutations(seeds, kAlphabet, [&](const std::string& m) {
        const std::string_view v = g.place(m);
        ++t.inputs;
        const auto fast = sip::detail::parse_cseq_impl(v, true);
        const auto dfa = sip::detail::parse_cseq_impl(v, false);
        t.fast += fast.has_value();
        if (!same(fast, dfa) || !same(sip::parse_cseq(v), dfa)) {
            ++t.mismatches;
            UNSCOPED_INFO("differs: [" << m << "]");
        }
    });
    INFO("inputs " << t.inputs << ", accepted " << t.fast);
    CHECK(t.mismatches == 0);
    CHECK(t.inputs > 100000);
    CHECK(t.fast > t.inputs / 10);
}

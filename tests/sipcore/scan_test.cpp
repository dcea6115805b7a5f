// The octet searches of the message framer (libsipcore/src/scan.hpp): the SSE2 search and
// the portable scalar one answer alike on the same inputs, at every length and alignment.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <random>
#include <type_traits>
#include <vector>

#include "scan.hpp"

namespace scan = sip::detail::scan;

namespace {

// A buffer whose searched range [p, p + len) is followed by scan::kOverread readable octets
// of `tail` (the padding a Message keeps), so a needle there must not be reported.
struct Buffer {
    std::vector<char> bytes;
    char* p;
    Buffer(std::size_t align, std::size_t len, char fill, char tail)
        : bytes(64 + len + scan::kOverread, fill), p(bytes.data() + align) {
        std::fill(p + len, bytes.data() + bytes.size(), tail);
    }
};

}  // namespace

TEST_CASE("scan: scalar and block search agree at every length, alignment and position",
          "[sipcore][scan]") {
    std::size_t cases = 0;
    for (std::size_t align = 0; align < 16; ++align) {
        for (std::size_t len = 0; len <= 70; ++len) {
            for (std::size_t at = 0; at <= len; ++at) {  // at == len: no needle in range
                Buffer b(align, len, 'a', '\n');  // a needle right after the end is ignored
                if (at < len) b.p[at] = '\n';
                const char* end = b.p + len;
                const char* want = std::find(static_cast<const char*>(b.p), end, '\n');
                INFO("align " << align << " len " << len << " at " << at);
                // offsets, not pointers: Catch would print a const char* as a C string, and
                // these buffers have no NUL (ASan: heap-buffer-overflow in the reporter)
                REQUIRE(scan::Scalar::find(b.p, end, '\n') - b.p == want - b.p);
                REQUIRE(scan::Fast::find(b.p, end, '\n') - b.p == want - b.p);
                ++cases;
            }
        }
    }
    CHECK(cases > 40000);
}

TEST_CASE("scan: the first of several needles, any octet value", "[sipcore][scan]") {
    std::mt19937 rng(13);
    std::size_t cases = 0;
    for (int round = 0; round < 20000; ++round) {
        const std::size_t len = rng() % 100;
        Buffer b(rng() % 16, len, 0, static_cast<char>(rng()));
        for (std::size_t i = 0; i < len; ++i) b.p[i] = static_cast<char>(rng() % 8 == 0 ? ':' : rng());
        const char needle = round % 2 ? ':' : static_cast<char>(rng());
        const char* end = b.p + len;
        const char* want = std::find(static_cast<const char*>(b.p), end, needle);
        REQUIRE(scan::Scalar::find(b.p, end, needle) - b.p == want - b.p);
        REQUIRE(scan::Fast::find(b.p, end, needle) - b.p == want - b.p);
        ++cases;
    }
    CHECK(cases == 20000);
    // the block search the parser uses is the one this target was built for
#ifdef SIPCORE_HAVE_SSE2_SCAN
    CHECK(std::is_same_v<scan::Fast, scan::Sse2>);
#else
    CHECK(std::is_same_v<scan::Fast, scan::Scalar>);
#endif
}

TEST_CASE("scan: the end of a Request-URI, scalar and block search alike", "[sipcore][scan]") {
    // find_ctl_or_sp reads nothing past its end: every input is placed against a guard of
    // needles that must not be reported
    std::mt19937 rng(3261);
    std::size_t cases = 0;
    for (std::size_t len = 0; len <= 70; ++len) {
        for (std::size_t at = 0; at <= len; ++at) {
            for (char stop : {' ', '\0', '\t', '\x1f', '\x7f'}) {
                Buffer b(len % 16, len, 'u', ' ');
                for (std::size_t i = 0; i < len; ++i)
                    b.p[i] = static_cast<char>(0x21 + rng() % 0x5e);  // ruri_c, 0x21..0x7e
                if (len && rng() % 2) b.p[rng() % len] = static_cast<char>(0x80 + rng() % 0x80);
                if (at < len) b.p[at] = stop;
                const char* end = b.p + len;
                const char* want = std::find_if(static_cast<const char*>(b.p), end, scan::is_ctl_or_sp);
                INFO("len " << len << " at " << at << " stop " << int(stop));
                REQUIRE(scan::Scalar::find_ctl_or_sp(b.p, end) - b.p == want - b.p);
                REQUIRE(scan::Fast::find_ctl_or_sp(b.p, end) - b.p == want - b.p);
                ++cases;
            }
        }
    }
    CHECK(cases > 10000);
}

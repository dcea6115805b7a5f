// The octet searches of the message framer (libsipcore/src/scan.hpp): the SSE2 search and
// the portable scalar one answer alike on the same inputs, at every length and alignment,
// and the message parser gives the same result on either (detail::parse_message_scalar()).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "dump.hpp"
#include "message_parse.hpp"
#include "scan.hpp"
#include "test_data.hpp"

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

TEST_CASE("scan: LF bitmaps of 64 octets, scalar and SSE2 alike", "[sipcore][scan]") {
    std::mt19937 rng(4475);
    std::vector<char> block(64 + 16);
    for (int round = 0; round < 20000; ++round) {
        char* p = block.data() + rng() % 16;
        for (int i = 0; i < 64; ++i) {
            const unsigned r = rng();
            p[i] = r % 5 == 0 ? '\n' : r % 7 == 0 ? ':' : static_cast<char>(r >> 8);
        }
        std::uint64_t want = 0;
        for (unsigned i = 0; i < 64; ++i) want |= std::uint64_t{p[i] == '\n'} << i;
        REQUIRE(scan::Scalar::lf_bits64(p) == want);
        REQUIRE(scan::Fast::lf_bits64(p) == want);
    }
}

TEST_CASE("scan: 16-octet needle bitmaps (a name's ':'), scalar and SSE2 alike",
          "[sipcore][scan]") {
    std::mt19937 rng(3261);
    std::vector<char> block(16 + 16);
    for (int round = 0; round < 20000; ++round) {
        char* p = block.data() + rng() % 16;
        for (int i = 0; i < 16; ++i) {
            const unsigned r = rng();
            p[i] = r % 4 == 0 ? ':' : static_cast<char>(r >> 8);
        }
        const char needle = round % 2 ? ':' : static_cast<char>(rng());
        unsigned want = 0;
        for (unsigned i = 0; i < 16; ++i) want |= unsigned{p[i] == needle} << i;
        REQUIRE(scan::Scalar::bits16(p, needle) == want);
        REQUIRE(scan::Fast::bits16(p, needle) == want);
    }
}

// The message parser on both framings (scan::Fast, scan::Scalar): the same Message or the
// same error for every message of the test sets and the benchmark corpus, and for mutations
// of them aimed at the framing (line ends, folds, ':', lines across 64-octet blocks).
namespace {

std::string dump_with(std::string_view bytes, bool scalar) {
    const sip::Result<sip::Message> r =
        scalar ? sip::detail::parse_message_scalar(bytes) : sip::Message::parse(bytes);
    return r ? test::dump_message(*r) : test::dump_error(r.error());
}

std::vector<std::string> framing_inputs() {
    std::vector<std::string> out;
    const auto root = test::data_dir();
    for (const char* dir : {"rfc4475", "rfc5118"})
        for (const auto& f : test::files_with_ext(root / dir, ".dat"))
            out.push_back(test::read_file(f));
    for (const auto& f : test::files_with_ext(root / "golden", ".sip"))
        out.push_back(test::read_file(f));
    for (const auto& f : test::files_with_ext(root / ".." / ".." / "bench" / "corpus", ".sip"))
        out.push_back(test::read_file(f));
    return out;
}

}  // namespace

TEST_CASE("scan: the message parser frames alike on the scalar and the SSE2 path",
          "[sipcore][scan]") {
    const std::vector<std::string> inputs = framing_inputs();
    REQUIRE(inputs.size() > 60);
    std::size_t ok = 0;
    for (const std::string& in : inputs) {
        const std::string fast = dump_with(in, false);
        REQUIRE(dump_with(in, true) == fast);
        ok += fast.rfind("error", 0) != 0;
    }
    CHECK(ok > 20);  // both verdicts are exercised

    std::mt19937 rng(3261);
    const char octets[] = {'\n', '\r', ':', ' ', '\t', 'a', '\0'};
    std::size_t cases = 0;
    for (int round = 0; round < 30000; ++round) {
        std::string m = inputs[rng() % inputs.size()];
        for (int k = 1 + static_cast<int>(rng() % 3); k > 0 && !m.empty(); --k) {
            const std::size_t at = rng() % m.size();
            switch (rng() % 4) {
                case 0: m[at] = octets[rng() % sizeof octets]; break;
                case 1: m.insert(at, 1, octets[rng() % sizeof octets]); break;
                case 2: m.erase(at, 1); break;
                default: m.insert(at, std::string(rng() % 70, 'x')); break;  // shift the blocks
            }
        }
        INFO("round " << round << ": " << test::escape(m));
        REQUIRE(dump_with(m, true) == dump_with(m, false));
        ++cases;
    }
    CHECK(cases == 30000);
}

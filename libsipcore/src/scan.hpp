// Octet search for the message framer (message.cpp): where the LFs are, where a name's ':'
// is, where a Request-URI ends.
//
//   const std::uint64_t lf = detail::scan::Fast::lf_bits64(p);   // p[0..63]
//   if (lf) first_lf = p + std::countr_zero(lf);
//   const char* colon = detail::scan::Fast::find(p, end, ':');   // end when there is none
//   const unsigned colons = detail::scan::Fast::bits16(p, ':');   // p[0..15]
//
// Fast is SSE2 (the x86-64 baseline) where the compiler targets it, else Scalar; building
// with -DSIPCORE_SCALAR_SCAN (meson -Dcpp_args=...) makes the whole parser use Scalar. Both
// answer alike for every input: tests/sipcore/scan_test.cpp runs them on the same inputs,
// and the message parser itself on both (detail::parse_message_scalar()). The SSE2 find()
// loads whole 32-octet steps, so it may read up to 31 octets past `end`, and lf_bits64()
// reads 64 octets: the caller guarantees they are readable (a Message keeps kTailPad zeroed
// octets after its bytes). find_ctl_or_sp() reads nothing past `end`.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__SSE2__) && !defined(SIPCORE_SCALAR_SCAN)
#include <emmintrin.h>
#define SIPCORE_HAVE_SSE2_SCAN 1
#endif

namespace sip::detail::scan {

// Octets find() and find_near() may read past their `end`.
inline constexpr std::size_t kOverread = 31;

inline bool is_ctl_or_sp(char c) noexcept {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
}

struct Scalar {
    // Bit i set: p[i] is an LF.
    [[gnu::always_inline]] static std::uint64_t lf_bits64(const char* p) noexcept {
        std::uint64_t bits = 0;
        for (unsigned i = 0; i < 64; ++i) bits |= std::uint64_t{p[i] == '\n'} << i;
        return bits;
    }
    static const char* find(const char* p, const char* end, char c) noexcept {
        while (p < end && *p != c) ++p;
        return p;
    }
    // Bit i set: p[i] is c, for i < 16 (the caller guarantees the 16 octets are readable).
    [[gnu::always_inline]] static unsigned bits16(const char* p, char c) noexcept {
        unsigned bits = 0;
        for (unsigned i = 0; i < 16; ++i) bits |= unsigned{p[i] == c} << i;
        return bits;
    }
    static const char* find_near(const char* p, const char* end, char c) noexcept {
        return find(p, end, c);
    }
    // First octet that is a control character, SP or DEL (the end of a Request-URI).
    static const char* find_ctl_or_sp(const char* p, const char* end) noexcept {
        while (p < end && !is_ctl_or_sp(*p)) ++p;
        return p;
    }
};

#ifdef SIPCORE_HAVE_SSE2_SCAN
struct Sse2 {
    // As Scalar's: one pass over 64 octets, a header line is ~45 octets, so a block serves
    // one or two lines.
    [[gnu::always_inline]] static std::uint64_t lf_bits64(const char* p) noexcept {
        const __m128i nl = _mm_set1_epi8('\n');
        auto lf16 = [&nl](const char* q) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
            // movemask sets 16 bits at most, and zero-extends (no mask needed)
            return std::uint64_t{static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)))};
        };
        return lf16(p) | lf16(p + 16) << 16 | lf16(p + 32) << 32 | lf16(p + 48) << 48;
    }
    // As Scalar's: one compare (a header name's ':' is nearly always among the 16 octets
    // after its line's first).
    [[gnu::always_inline]] static unsigned bits16(const char* p, char c) noexcept {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c))));
    }
    // 32 octets a step: a header name's ':' is looked for within 32 octets of its line's
    // start (message.cpp), so that search is one step.
    static const char* find(const char* p, const char* end, char c) noexcept {
        const __m128i needle = _mm_set1_epi8(c);
        for (; p < end; p += 32) {
            const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
            const unsigned hits =
                static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(lo, needle))) |
                static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(hi, needle))) << 16;
            if (hits) {
                const char* at = p + __builtin_ctz(hits);
                return at < end ? at : end;
            }
        }
        return end;
    }
    // As find(), 16 octets a step, for an octet that is usually near (a header name's ':'
    // within 16 octets of its line's start): one compare rather than two. May read up to 15
    // octets past `end`.
    static const char* find_near(const char* p, const char* end, char c) noexcept {
        const __m128i needle = _mm_set1_epi8(c);
        for (; p < end; p += 16) {
            const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            const auto hits =
                static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, needle)));
            if (hits) {
                const char* at = p + __builtin_ctz(hits);
                return at < end ? at : end;
            }
        }
        return end;
    }
    // As Scalar's; whole blocks only, never past `end`.
    static const char* find_ctl_or_sp(const char* p, const char* end) noexcept {
        const __m128i sp = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
        for (; end - p >= 16; p += 16) {
            const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
            // unsigned block <= 0x20 is max(block, 0x20) == 0x20
            const __m128i low = _mm_cmpeq_epi8(_mm_max_epu8(block, sp), sp);
            const unsigned hits = static_cast<unsigned>(
                _mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(block, del))));
            if (hits) return p + __builtin_ctz(hits);
        }
        return Scalar::find_ctl_or_sp(p, end);
    }
};
using Fast = Sse2;
#else
using Fast = Scalar;
#endif

}  // namespace sip::detail::scan

// Octet search for the message framer (message.cpp): where the next LF or ':' is, where a
// Request-URI ends.
//
//   const char* lf = detail::scan::Fast::find(p, end, '\n');   // end when there is none
//
// Fast is SSE2 (the x86-64 baseline) where the compiler targets it, else Scalar; building
// with -DSIPCORE_SCALAR_SCAN (meson -Dcpp_args=...) makes the whole parser use Scalar, so the
// message tests can run on the portable path too. Both answer alike for every input
// (tests/sipcore/scan_test.cpp runs them on the same inputs). The SSE2 find() loads
// whole 32-octet steps, so it may read up to 31 octets past `end`: the caller guarantees
// they are readable (a Message keeps kTailPad zeroed octets after its bytes).
// find_ctl_or_sp() reads nothing past `end`.
#pragma once

#include <cstddef>

#if defined(__SSE2__) && !defined(SIPCORE_SCALAR_SCAN)
#include <emmintrin.h>
#define SIPCORE_HAVE_SSE2_SCAN 1
#endif

namespace sip::detail::scan {

// Octets find() may read past its `end`.
inline constexpr std::size_t kOverread = 31;

inline bool is_ctl_or_sp(char c) noexcept {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
}

struct Scalar {
    static const char* find(const char* p, const char* end, char c) noexcept {
        while (p < end && *p != c) ++p;
        return p;
    }
    // First octet that is a control character, SP or DEL (the end of a Request-URI).
    static const char* find_ctl_or_sp(const char* p, const char* end) noexcept {
        while (p < end && !is_ctl_or_sp(*p)) ++p;
        return p;
    }
};

#ifdef SIPCORE_HAVE_SSE2_SCAN
struct Sse2 {
    // 32 octets a step: a header line is ~45 octets, so most are done in two steps.
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

// Helpers shared by the fuzz targets (DESIGN.md §9): invariant checks that abort with a
// message (so libFuzzer and the g++ corpus replay both report them), and containment checks
// for the zero-copy views the decoders hand out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* what) {
    std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, what);
    std::abort();
}

#define FUZZ_CHECK(cond)                                               \
    do {                                                               \
        if (!(cond)) ::fuzz::fail(__FILE__, __LINE__, #cond);          \
    } while (0)

// True when `v` is empty or lies entirely inside `outer`.
inline bool inside(std::string_view v, std::string_view outer) noexcept {
    if (v.empty()) return true;
    const auto b = reinterpret_cast<std::uintptr_t>(outer.data());
    const auto e = b + outer.size();
    const auto vb = reinterpret_cast<std::uintptr_t>(v.data());
    return vb >= b && vb <= e && v.size() <= e - vb;
}

// The first input byte selects a configuration when it is a control character that no SIP
// message starts with (anything below 0x20 except CR and LF); such a byte is consumed.
// Plain-text seeds (copied .sip files) therefore run with the default configuration.
inline bool take_selector(const std::uint8_t*& data, std::size_t& size, std::uint8_t& sel) {
    if (size > 0 && data[0] < 0x20 && data[0] != '\r' && data[0] != '\n') {
        sel = data[0];
        ++data;
        --size;
        return true;
    }
    sel = 0;
    return false;
}

// Small limits so that the limit paths are reached with inputs of a few hundred bytes.
inline sip::ParseLimits limits_variant(unsigned k) {
    sip::ParseLimits l;
    switch (k & 7) {
        case 0: break;  // defaults
        case 1: l.max_message = 256; break;
        case 2: l.max_headers = 4; break;
        case 3: l.max_header = 32; break;
        case 4: l.max_message = 64; l.max_headers = 2; l.max_header = 16; break;
        case 5: l.max_headers = 0; break;
        case 6: l.max_message = 1; l.max_header = 0; break;
        case 7: l.max_message = 1024; l.max_headers = 40; l.max_header = 200; break;
    }
    return l;
}

// Decodes a fuzz input into operations: a byte at a time, zero once the input is used up
// (so every target ends its loop on done()).
struct Reader {
    const std::uint8_t* p;
    std::size_t n;
    std::uint8_t byte() {
        if (n == 0) return 0;
        --n;
        return *p++;
    }
    std::uint32_t u32() {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i)
            v = v << 8 | byte();
        return v;
    }
    // Up to `max` raw bytes, length first.
    std::string raw(std::size_t max) {
        std::size_t len = byte() % (max + 1);
        std::string s;
        while (len-- > 0 && n > 0)
            s.push_back(static_cast<char>(byte()));
        return s;
    }
    template <std::size_t N>
    const char* pick(const char* const (&table)[N]) {
        return table[byte() % N];
    }
    bool done() const { return n == 0; }
};

}  // namespace fuzz

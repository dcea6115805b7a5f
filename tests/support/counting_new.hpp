// Counts every allocation of the test binary and the heap bytes it holds, for tests that
// assert "allocates nothing" or measure memory per object. Include it in ONE file of a test
// executable: it replaces the global operator new/delete.
//
//   #include "counting_new.hpp"
//   const auto before = test::alloc::count;  ...  CHECK(test::alloc::count == before);
//   const auto held = test::alloc::live_bytes;  // malloc_usable_size of what is still allocated
//
// The whole plain and nothrow set is replaced, so nothing pairs a sanitizer's operator new
// with this delete (ASan reports such pairs as alloc-dealloc-mismatch). noinline: once inlined
// into callers, the malloc()/free() pairs with new/delete trip -Wmismatched-new-delete.
#pragma once

#include <malloc.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace test::alloc {
inline std::size_t count = 0;       // allocations made so far
inline long long live_bytes = 0;    // usable bytes of what is allocated now

inline void* take(std::size_t n) noexcept {
    void* p = std::malloc(n == 0 ? 1 : n);
    if (p) {
        ++count;
        live_bytes += static_cast<long long>(malloc_usable_size(p));
    }
    return p;
}
inline void give(void* p) noexcept {
    if (!p) return;
    live_bytes -= static_cast<long long>(malloc_usable_size(p));
    std::free(p);
}
}  // namespace test::alloc

[[gnu::noinline]] void* operator new(std::size_t n) {
    if (void* p = test::alloc::take(n)) return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new[](std::size_t n) {
    if (void* p = test::alloc::take(n)) return p;
    throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    return test::alloc::take(n);
}
[[gnu::noinline]] void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    return test::alloc::take(n);
}
[[gnu::noinline]] void operator delete(void* p) noexcept { test::alloc::give(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { test::alloc::give(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { test::alloc::give(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { test::alloc::give(p); }
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept {
    test::alloc::give(p);
}
[[gnu::noinline]] void operator delete[](void* p, const std::nothrow_t&) noexcept {
    test::alloc::give(p);
}

// Hostile-buffer placement (DESIGN.md §10 example 3, after picohttpparser's tests): copies
// bytes so that they end exactly where a PROT_NONE page begins. Any read past the end
// faults, with or without sanitizers.
//
//   test::GuardedBuffer g(8192);
//   std::string_view at_edge = g.place(bytes);   // valid until the next place()
//   parse(at_edge);
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace test {

class GuardedBuffer {
public:
    explicit GuardedBuffer(std::size_t capacity) {
        page_ = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        data_pages_ = (capacity + page_ - 1) / page_;
        if (data_pages_ == 0) data_pages_ = 1;
        const std::size_t total = (data_pages_ + 1) * page_;
        void* p = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
        base_ = static_cast<char*>(p);
        if (::mprotect(base_ + data_pages_ * page_, page_, PROT_NONE) != 0) {
            ::munmap(base_, total);
            throw std::runtime_error("mprotect failed");
        }
    }
    GuardedBuffer(const GuardedBuffer&) = delete;
    GuardedBuffer& operator=(const GuardedBuffer&) = delete;
    ~GuardedBuffer() { ::munmap(base_, (data_pages_ + 1) * page_); }

    std::size_t capacity() const noexcept { return data_pages_ * page_; }
    // First byte of the protected page.
    const char* guard() const noexcept { return base_ + data_pages_ * page_; }

    // Copies `bytes` to end at the guard page; the returned view's end() == guard().
    std::string_view place(std::string_view bytes) {
        if (bytes.size() > capacity()) throw std::length_error("GuardedBuffer too small");
        char* dst = base_ + capacity() - bytes.size();
        if (!bytes.empty()) std::memcpy(dst, bytes.data(), bytes.size());
        return {dst, bytes.size()};
    }

private:
    char* base_ = nullptr;
    std::size_t page_ = 4096;
    std::size_t data_pages_ = 1;
};

}  // namespace test

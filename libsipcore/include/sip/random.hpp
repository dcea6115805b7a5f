// Injected randomness (DESIGN.md §3): branches, tags, Call-IDs, SRV weights, retry jitter.
//
//   sip::SeededRandom rng(42);                 // tests: reproducible
//   std::string branch = sip::make_branch(rng); // "z9hG4bK" + 16 random base-32 chars
//   sip::Fnv1a f; f.bytes(call_id); f.number(cseq);  // a stable 64-bit fingerprint
//   std::string tag = sip::stable_token(f.value());  // the same input, the same token
//
// Production code seeds SeededRandom from the OS once (an adapter's job) or implements
// Random over its own source.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sip {

class Random {
public:
    virtual ~Random() = default;
    virtual std::uint64_t next_u64() = 0;
    // Uniform in [0, bound), bound > 0 (Lemire's multiply-shift; bias below 2^-32).
    std::uint32_t below(std::uint32_t bound) {
        return static_cast<std::uint32_t>(((next_u64() >> 32) * bound) >> 32);
    }
};

// xoshiro256** seeded through splitmix64: fast, good statistics, not cryptographic.
class SeededRandom final : public Random {
public:
    explicit SeededRandom(std::uint64_t seed) noexcept;
    std::uint64_t next_u64() noexcept override;

private:
    std::uint64_t s_[4];
};

// RFC 3261 §8.1.1.7: a branch starting with the magic cookie, unique in space and time.
std::string make_branch(Random& rng);
// A tag or Call-ID token of `chars` random base-32 characters (RFC 3261 §19.3).
std::string make_token(Random& rng, std::size_t chars = 16);

// FNV-1a over fields, 64 bits: stable across runs and cheap for a few short fields; not a
// secret and not collision-resistant. Each bytes() ends with a separator, so ("ab","c") and
// ("a","bc") differ.
struct Fnv1a {
    std::uint64_t h = 1469598103934665603ull;
    void bytes(std::string_view s) noexcept {
        for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    void number(std::uint64_t v) noexcept {
        for (int i = 0; i < 8; ++i, v >>= 8) h = (h ^ (v & 0xff)) * 1099511628211ull;
    }
    std::uint64_t value() const noexcept { return h; }
};

// A token of `chars` (<= 12) base-32 characters taken from `bits`: what a stateless UAS
// gives the same request every time (RFC 3261 §8.2.7 To tags).
std::string stable_token(std::uint64_t bits, std::size_t chars = 10);

}  // namespace sip

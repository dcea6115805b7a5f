// Injected randomness (DESIGN.md §3): branches, tags, Call-IDs, SRV weights, retry jitter.
//
//   sip::SeededRandom rng(42);                 // tests: reproducible
//   std::string branch = sip::make_branch(rng); // "z9hG4bK" + 16 random base-32 chars
//
// Production code seeds SeededRandom from the OS once (an adapter's job) or implements
// Random over its own source.
#pragma once

#include <cstdint>
#include <string>

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

}  // namespace sip

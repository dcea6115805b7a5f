#include "sip/random.hpp"

#include "sip/transport.hpp"

namespace sip {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

// RFC 4648 base32hex alphabet, lower case: every character is a token char (RFC 3261 §25.1).
constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuv";

}  // namespace

SeededRandom::SeededRandom(std::uint64_t seed) noexcept {
    for (auto& s : s_) s = splitmix64(seed);
}

std::uint64_t SeededRandom::next_u64() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

std::string make_token(Random& rng, std::size_t chars) {
    // Written in place: a tag or branch for every answer, push_back's checks were most of it.
    std::string out(chars, '\0');
    char* p = out.data();
    std::uint64_t bits = 0;
    int left = 0;
    for (std::size_t i = 0; i < chars; ++i) {
        if (left < 5) {
            bits = rng.next_u64();
            left = 64;
        }
        p[i] = kAlphabet[bits & 31];
        bits >>= 5;
        left -= 5;
    }
    return out;
}

std::string stable_token(std::uint64_t bits, std::size_t chars) {
    std::string out(chars < 12 ? chars : 12, '\0');
    for (char& c : out) {
        c = kAlphabet[bits & 31];
        bits >>= 5;
    }
    return out;
}

std::string make_branch(Random& rng) { return "z9hG4bK" + make_token(rng, 16); }

std::string_view transport_name(Transport t) noexcept {
    switch (t) {
        case Transport::Udp: return "UDP";
        case Transport::Tcp: return "TCP";
        case Transport::Tls: return "TLS";
    }
    return "UDP";
}

}  // namespace sip

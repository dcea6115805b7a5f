// Hash functions and algorithm names for HTTP/SIP Digest authentication, behind a small
// interface so the pure library never includes a crypto library (DESIGN.md §2).
//
//   sip::crypto::EvpHasher evp;                       // the OpenSSL adapter (sipcore_crypto)
//   const sip::auth::Hasher& h = evp;
//   std::optional<std::string> hex = h.digest_hex(sip::auth::Hash::SHA256, {"Mufasa", ":", "r"});
//   auto alg = sip::auth::parse_algorithm("SHA-256-sess");   // Algorithm::SHA256_sess
//   sip::auth::algorithm_name(*alg) == "SHA-256-sess"
//
// A Hasher computes H(piece0 || piece1 || ...) without the caller concatenating, and
// HMAC-SHA256 for the server's stateless nonces. Implementations must be usable from several
// threads at once through a const reference (the OpenSSL one is). A hash that the backend
// cannot compute (MD5 under a FIPS-only provider, say) yields nullopt, never an exception;
// `supports()` says so up front. Pieces are only read during the call.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sip::auth {

// The hash functions of RFC 7616 §3.3 / RFC 8760 §2.
enum class Hash : std::uint8_t { MD5, SHA256, SHA512_256 };

// Hex digits in the digest of `h` (32, 64, 64).
constexpr std::size_t hex_size(Hash h) noexcept {
    return h == Hash::MD5 ? 32 : 64;
}

// The algorithm parameter values of RFC 7616 §3.3 (its IANA registry, §6; RFC 8760 §2 brings
// SHA-256 and SHA-512-256 to SIP). `_sess` variants hash the nonces into HA1 (§3.4.2).
enum class Algorithm : std::uint8_t {
    MD5,
    MD5_sess,
    SHA256,
    SHA256_sess,
    SHA512_256,
    SHA512_256_sess
};

// Case-insensitive, as tokens are (RFC 7616 §3.3 only lists the canonical spelling; peers
// send "md5"). An empty value means MD5: RFC 2617 §3.2.1 and RFC 7616 §3.3 "If this is not
// present, it is assumed to be MD5". nullopt for anything else.
std::optional<Algorithm> parse_algorithm(std::string_view token) noexcept;
// The canonical token ("MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256",
// "SHA-512-256-sess").
std::string_view algorithm_name(Algorithm a) noexcept;

constexpr Hash hash_of(Algorithm a) noexcept {
    switch (a) {
        case Algorithm::MD5:
        case Algorithm::MD5_sess:
            return Hash::MD5;
        case Algorithm::SHA256:
        case Algorithm::SHA256_sess:
            return Hash::SHA256;
        default:
            return Hash::SHA512_256;
    }
}
constexpr bool is_sess(Algorithm a) noexcept {
    return a == Algorithm::MD5_sess || a == Algorithm::SHA256_sess ||
           a == Algorithm::SHA512_256_sess;
}
// Ordering used to pick "the strongest" offered algorithm: MD5 < SHA-256 < SHA-512-256.
// A -sess variant ranks with its hash (it changes what is hashed, not how strongly).
constexpr int strength(Algorithm a) noexcept {
    return static_cast<int>(hash_of(a));
}

using HmacSha256 = std::array<std::uint8_t, 32>;

class Hasher {
  public:
    virtual ~Hasher() = default;

    virtual bool supports(Hash h) const noexcept = 0;
    // Lowercase hex of H(concatenation of `pieces`); nullopt when `h` is unavailable.
    virtual std::optional<std::string> digest_hex(
        Hash h, std::span<const std::string_view> pieces) const = 0;
    // HMAC-SHA256(key, concatenation of `data`) (RFC 2104); nullopt when unavailable.
    virtual std::optional<HmacSha256> hmac_sha256(std::string_view key,
                                                  std::span<const std::string_view> data) const = 0;

    // Braced-list conveniences: h.digest_hex(Hash::MD5, {user, ":", realm, ":", password}).
    std::optional<std::string> digest_hex(Hash h,
                                          std::initializer_list<std::string_view> pieces) const {
        return digest_hex(h, std::span<const std::string_view>(pieces.begin(), pieces.size()));
    }
    std::optional<HmacSha256> hmac_sha256(std::string_view key,
                                          std::initializer_list<std::string_view> data) const {
        return hmac_sha256(key, std::span<const std::string_view>(data.begin(), data.size()));
    }
};

}  // namespace sip::auth

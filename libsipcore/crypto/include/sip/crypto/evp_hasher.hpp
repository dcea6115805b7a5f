// sip::crypto::EvpHasher — the OpenSSL 3 (libcrypto EVP) implementation of
// sip::auth::Hasher, in the `sipcore_crypto` adapter library (DESIGN.md §2: only adapters
// include <openssl/...>; this header does not).
//
//   sip::crypto::EvpHasher hasher;  // fetches MD5, SHA2-256, SHA2-512/256 and HMAC once
//   sip::auth::DigestServer server(config, hasher, rng);
//   if (!hasher.supports(sip::auth::Hash::MD5)) drop_md5_from(config);  // e.g. FIPS provider
//
// Algorithms come from OpenSSL's default library context, fetched in the constructor; one
// the loaded providers lack is reported by supports() == false and nullopt results. The
// object is safe to share between threads: each call uses its own EVP context; the one
// piece of state, the HMAC context for the last key used (set up once, copied per call), is
// behind a mutex. Non-copyable; must outlive every DigestServer/DigestClient using it.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sip/auth/hasher.hpp"

namespace sip::crypto {

class EvpHasher final : public sip::auth::Hasher {
  public:
    EvpHasher();
    ~EvpHasher() override;
    EvpHasher(const EvpHasher&) = delete;
    EvpHasher& operator=(const EvpHasher&) = delete;

    using sip::auth::Hasher::digest_hex;
    using sip::auth::Hasher::hmac_sha256;

    bool supports(sip::auth::Hash h) const noexcept override;
    std::optional<std::string> digest_hex(sip::auth::Hash h,
                                          std::span<const std::string_view> pieces) const override;
    std::optional<sip::auth::HmacSha256> hmac_sha256(
        std::string_view key, std::span<const std::string_view> data) const override;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sip::crypto

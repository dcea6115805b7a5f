// OpenSSL 3 EVP digests and EVP_MAC HMAC behind sip::auth::Hasher.
#include "sip/crypto/evp_hasher.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdint>
#include <mutex>
#include <string>

namespace sip::crypto {

using sip::auth::Hash;

struct EvpHasher::Impl {
    // Explicit fetches: EVP_md5() and friends fetch implicitly on every init in OpenSSL 3,
    // which costs a lock and a lookup per digest.
    EVP_MD* md[3] = {nullptr, nullptr, nullptr};  // indexed by Hash
    EVP_MAC* hmac = nullptr;
    // The last HMAC key, already set up (inner and outer pads hashed): the digest server
    // uses one nonce key for its whole life, and setting a key up (a name lookup of the
    // digest, a context, two compressions) cost ~35,000 instructions per call. A copy of
    // the keyed context costs a small fraction of that. Guarded: the hasher is shared.
    std::mutex keyed_mu;
    std::string keyed_key;
    EVP_MAC_CTX* keyed = nullptr;

    ~Impl() {
        for (EVP_MD* m : md)
            EVP_MD_free(m);
        EVP_MAC_CTX_free(keyed);
        EVP_MAC_free(hmac);
    }

    // A fresh context keyed with `key`, or nullptr.
    EVP_MAC_CTX* keyed_copy(std::string_view key) {
        std::lock_guard lock(keyed_mu);
        if (!keyed || keyed_key != key) {
            EVP_MAC_CTX* ctx = hmac ? EVP_MAC_CTX_new(hmac) : nullptr;
            if (!ctx) return nullptr;
            char digest[] = "SHA2-256";
            const OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                OSSL_PARAM_construct_end(),
            };
            // A null key pointer means "keep the previous key" to EVP_MAC_init; an empty key
            // is a valid (if useless) HMAC key, so always pass a real pointer.
            static const unsigned char kNoKey = 0;
            const auto* k =
                key.empty() ? &kNoKey : reinterpret_cast<const unsigned char*>(key.data());
            if (EVP_MAC_init(ctx, k, key.size(), params) != 1) {
                EVP_MAC_CTX_free(ctx);
                return nullptr;
            }
            EVP_MAC_CTX_free(keyed);
            keyed = ctx;
            keyed_key.assign(key);
        }
        return EVP_MAC_CTX_dup(keyed);
    }
};

namespace {

// OpenSSL 3 algorithm names (RFC 7616 §3.3's "SHA-512-256" is SHA-512/256 of FIPS 180-4).
constexpr const char* kDigestNames[3] = {"MD5", "SHA2-256", "SHA2-512/256"};

struct MdCtx {
    EVP_MD_CTX* p = EVP_MD_CTX_new();
    ~MdCtx() { EVP_MD_CTX_free(p); }
};

}  // namespace

EvpHasher::EvpHasher() : impl_(std::make_unique<Impl>()) {
    for (int i = 0; i < 3; ++i)
        impl_->md[i] = EVP_MD_fetch(nullptr, kDigestNames[i], nullptr);
    impl_->hmac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
}

EvpHasher::~EvpHasher() = default;

bool EvpHasher::supports(Hash h) const noexcept {
    const auto i = static_cast<unsigned>(h);
    return i < 3 && impl_->md[i] != nullptr;
}

std::optional<std::string> EvpHasher::digest_hex(Hash h,
                                                 std::span<const std::string_view> pieces) const {
    if (!supports(h)) return std::nullopt;
    MdCtx ctx;
    if (!ctx.p || EVP_DigestInit_ex2(ctx.p, impl_->md[static_cast<unsigned>(h)], nullptr) != 1) {
        return std::nullopt;
    }
    for (std::string_view s : pieces) {
        if (!s.empty() && EVP_DigestUpdate(ctx.p, s.data(), s.size()) != 1) return std::nullopt;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(ctx.p, md, &n) != 1) return std::nullopt;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(std::size_t{n} * 2, '\0');
    for (unsigned i = 0; i < n; ++i) {
        out[2 * i] = kHex[md[i] >> 4];
        out[2 * i + 1] = kHex[md[i] & 15];
    }
    return out;
}

std::optional<sip::auth::HmacSha256> EvpHasher::hmac_sha256(
    std::string_view key, std::span<const std::string_view> data) const {
    struct Owned {
        EVP_MAC_CTX* p;
        ~Owned() { EVP_MAC_CTX_free(p); }
    } ctx{impl_->keyed_copy(key)};
    if (!ctx.p) return std::nullopt;
    for (std::string_view s : data) {
        if (!s.empty() && EVP_MAC_update(ctx.p, reinterpret_cast<const unsigned char*>(s.data()),
                                         s.size()) != 1) {
            return std::nullopt;
        }
    }
    sip::auth::HmacSha256 out{};
    std::size_t n = 0;
    if (EVP_MAC_final(ctx.p, out.data(), &n, out.size()) != 1 || n != out.size()) {
        return std::nullopt;
    }
    return out;
}

}  // namespace sip::crypto

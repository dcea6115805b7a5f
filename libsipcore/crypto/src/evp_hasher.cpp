// OpenSSL 3 EVP digests, and HMAC-SHA256 on them, behind sip::auth::Hasher.
#include "sip/crypto/evp_hasher.hpp"

#include <openssl/evp.h>

#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>

namespace sip::crypto {

using sip::auth::Hash;

struct EvpHasher::Impl {
    // Explicit fetches: EVP_md5() and friends fetch implicitly on every init in OpenSSL 3,
    // which costs a lock and a lookup per digest.
    EVP_MD* md[3] = {nullptr, nullptr, nullptr};  // indexed by Hash
    // HMAC (RFC 2104) on SHA-256 contexts: the digest server uses one nonce key for its
    // whole life, so the key's inner and outer pads are hashed once and each HMAC starts
    // from copies of those two contexts. EVP_MAC's context duplication (three digest
    // contexts, zeroed allocations) cost ~10,000 instructions a nonce; this about a third.
    // Guarded: the hasher is shared.
    std::mutex keyed_mu;
    std::string keyed_key;
    EVP_MD_CTX* inner = nullptr;  // SHA-256 after (key ^ ipad)
    EVP_MD_CTX* outer = nullptr;  // SHA-256 after (key ^ opad)

    ~Impl() {
        for (EVP_MD* m : md)
            EVP_MD_free(m);
        EVP_MD_CTX_free(inner);
        EVP_MD_CTX_free(outer);
    }

    // Sets the pads up for `key` unless they are for it already; false on an OpenSSL error.
    bool key_up(std::string_view key) {
        if (inner && keyed_key == key) return true;
        const EVP_MD* sha256 = md[static_cast<unsigned>(Hash::SHA256)];
        if (!sha256) return false;
        constexpr std::size_t kBlock = 64;
        unsigned char k[kBlock] = {};
        if (key.size() > kBlock) {  // §2: a longer key is hashed first
            unsigned int n = 0;
            if (EVP_Digest(key.data(), key.size(), k, &n, sha256, nullptr) != 1) return false;
        } else if (!key.empty()) {
            std::memcpy(k, key.data(), key.size());
        }
        unsigned char ipad[kBlock], opad[kBlock];
        for (std::size_t i = 0; i < kBlock; ++i) {
            ipad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
            opad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
        }
        if (!inner) inner = EVP_MD_CTX_new();
        if (!outer) outer = EVP_MD_CTX_new();
        keyed_key.clear();
        if (!inner || !outer || EVP_DigestInit_ex2(inner, sha256, nullptr) != 1 ||
            EVP_DigestUpdate(inner, ipad, kBlock) != 1 ||
            EVP_DigestInit_ex2(outer, sha256, nullptr) != 1 ||
            EVP_DigestUpdate(outer, opad, kBlock) != 1)
            return false;
        keyed_key.assign(key);
        return true;
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
    MdCtx ctx;
    if (!ctx.p) return std::nullopt;
    {
        std::lock_guard lock(impl_->keyed_mu);
        if (!impl_->key_up(key) || EVP_MD_CTX_copy_ex(ctx.p, impl_->inner) != 1)
            return std::nullopt;
    }
    for (std::string_view s : data) {
        if (!s.empty() && EVP_DigestUpdate(ctx.p, s.data(), s.size()) != 1) return std::nullopt;
    }
    unsigned char inner_hash[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(ctx.p, inner_hash, &n) != 1) return std::nullopt;
    bool rekeyed = false;  // another thread set the pads up for another key meanwhile
    {
        std::lock_guard lock(impl_->keyed_mu);
        rekeyed = impl_->keyed_key != key;
        if (!rekeyed && EVP_MD_CTX_copy_ex(ctx.p, impl_->outer) != 1) return std::nullopt;
    }
    if (rekeyed) return hmac_sha256(key, data);  // start over
    sip::auth::HmacSha256 out{};
    unsigned int m = 0;
    if (EVP_DigestUpdate(ctx.p, inner_hash, n) != 1 ||
        EVP_DigestFinal_ex(ctx.p, out.data(), &m) != 1 || m != out.size())
        return std::nullopt;
    return out;
}

}  // namespace sip::crypto

// Digest computations and algorithm names (RFC 7616 §3.3-3.4, RFC 2617 §3.2.2).
#include "sip/auth/digest.hpp"

#include <array>

#include "auth/util.hpp"
#include "sip/header_id.hpp"

namespace sip::auth {

namespace {

// RFC 7616 §3.3 algorithm tokens, indexed by Algorithm.
constexpr std::array<std::string_view, 6> kNames = {
    "MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess",
};

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

}  // namespace

std::optional<Algorithm> parse_algorithm(std::string_view token) noexcept {
    if (token.empty()) return Algorithm::MD5;
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        if (iequals(token, kNames[i])) return static_cast<Algorithm>(i);
    }
    return std::nullopt;
}

std::string_view algorithm_name(Algorithm a) noexcept {
    const auto i = static_cast<std::size_t>(a);
    return i < kNames.size() ? kNames[i] : std::string_view("MD5");
}

std::optional<std::string> ha1(const Hasher& h, Algorithm alg, std::string_view username,
                               std::string_view realm, std::string_view password) {
    return h.digest_hex(hash_of(alg), {username, ":", realm, ":", password});
}

std::optional<std::string> userhash(const Hasher& h, Algorithm alg, std::string_view username,
                                    std::string_view realm) {
    return h.digest_hex(hash_of(alg), {username, ":", realm});
}

std::optional<std::string> request_digest(const Hasher& h, const DigestInput& in) {
    const Hash hash = hash_of(in.algorithm);
    // §3.4.2: for -sess, A1 = H(user:realm:password) ":" nonce ":" cnonce, so the stored HA1
    // is hashed once more with both nonces.
    std::optional<std::string> sess;
    std::string_view ha1 = in.ha1;
    if (is_sess(in.algorithm)) {
        sess = h.digest_hex(hash, {in.ha1, ":", in.nonce, ":", in.cnonce});
        if (!sess) return std::nullopt;
        ha1 = *sess;
    }
    // §3.4.3: for qop=auth (and without qop), A2 = Method ":" request-uri.
    auto ha2 = h.digest_hex(hash, {in.method, ":", in.uri});
    if (!ha2) return std::nullopt;
    if (in.qop.empty()) {
        // RFC 2617 §3.2.2.1: the RFC 2069 form, kept for peers that send no qop.
        return h.digest_hex(hash, {ha1, ":", in.nonce, ":", *ha2});
    }
    // §3.4.1: KD(secret, data) = H(secret ":" data).
    return h.digest_hex(hash,
                        {ha1, ":", in.nonce, ":", in.nc, ":", in.cnonce, ":", in.qop, ":", *ha2});
}

namespace detail {

std::string base64url(const std::uint8_t* data, std::size_t n) {
    std::string out;
    out.reserve((n * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        const std::uint32_t v =
            (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += kB64[v & 63];
    }
    if (n - i == 1) {
        const std::uint32_t v = std::uint32_t{data[i]} << 16;
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
    } else if (n - i == 2) {
        const std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8);
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
    }
    return out;
}

bool base64url_decode(std::string_view text, std::uint8_t* out, std::size_t n) noexcept {
    if (text.size() != (n * 4 + 2) / 3) return false;
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t o = 0;
    for (char c : text) {
        const int v = b64_value(c);
        if (v < 0) return false;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = static_cast<std::uint8_t>(acc >> bits);
        }
    }
    // Leftover bits must be zero: one byte string has exactly one encoding, so a nonce
    // cannot be varied in its last character and still name the same nonce.
    return o == n && (acc & ((1u << bits) - 1)) == 0;
}

bool ct_equal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

void append_quoted(std::string& out, std::string_view v) {
    out += '"';
    for (char c : v) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
}

bool lower_hex(std::string_view v, std::string& out) {
    out.clear();
    out.reserve(v.size());
    for (char c : v) {
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        out += c;
    }
    return true;
}

}  // namespace detail
}  // namespace sip::auth

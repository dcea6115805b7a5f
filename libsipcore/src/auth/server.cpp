// Digest server: challenges, stateless nonces, verification (RFC 7616 §3.3-3.4, RFC 8760 §2,
// RFC 3261 §22.4).
#include <algorithm>
#include <array>
#include <cstring>

#include "auth/util.hpp"
#include "sip/auth/digest.hpp"
#include "sip/auth/server.hpp"
#include "sip/header_id.hpp"

namespace sip::auth {

namespace {

constexpr std::size_t kStampSize = 16;  // timestamp(8) || salt(8)
constexpr std::size_t kMacSize = 16;    // HMAC-SHA256 truncated to 128 bits
constexpr std::size_t kNonceBytes = kStampSize + kMacSize;

void put_u64(std::uint8_t* p, std::uint64_t v) noexcept {
    for (int i = 7; i >= 0; --i) {
        p[i] = static_cast<std::uint8_t>(v);
        v >>= 8;
    }
}

std::uint64_t get_u64(const std::uint8_t* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v = (v << 8) | p[i];
    return v;
}

std::uint64_t ticks(Instant t) noexcept {
    return static_cast<std::uint64_t>(t.time_since_epoch().count());
}

Instant from_ticks(std::uint64_t v) noexcept {
    return Instant{Duration{static_cast<Duration::rep>(v)}};
}

// The MAC binds timestamp and salt to this secret and realm: a nonce of another realm
// sharing the secret is refused too (RFC 7616 §5.5: nonces must not be reusable elsewhere).
std::optional<HmacSha256> nonce_mac(const Hasher& h, const DigestServerConfig& c,
                                    const std::uint8_t* stamp) {
    const std::string_view s(reinterpret_cast<const char*>(stamp), kStampSize);
    return h.hmac_sha256(c.secret, {s, c.realm});
}

bool offered(const DigestServerConfig& c, Algorithm a) noexcept {
    return std::find(c.algorithms.begin(), c.algorithms.end(), a) != c.algorithms.end();
}

// nc-value = 8LHEX (RFC 7616 §3.4); the parser already checked the shape.
std::optional<std::uint32_t> parse_nc(std::string_view nc) noexcept {
    if (nc.size() != 8) return std::nullopt;
    std::uint32_t v = 0;
    for (char c : nc) {
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return std::nullopt;
        v = (v << 4) | static_cast<std::uint32_t>(d);
    }
    return v;
}

}  // namespace

std::string_view verdict_name(Verdict v) noexcept {
    switch (v) {
        case Verdict::ok:
            return "ok";
        case Verdict::stale:
            return "stale nonce";
        case Verdict::bad_nonce:
            return "bad nonce";
        case Verdict::wrong_response:
            return "wrong response";
        case Verdict::replayed_nc:
            return "replayed nonce count";
        case Verdict::unsupported_algorithm:
            return "unsupported algorithm";
        case Verdict::realm_mismatch:
            return "realm mismatch";
        case Verdict::missing_fields:
            return "missing credentials fields";
        case Verdict::bad_qop:
            return "unsupported qop";
        case Verdict::opaque_mismatch:
            return "opaque mismatch";
        case Verdict::unknown_user:
            return "unknown user";
    }
    return "unknown verdict";
}

std::size_t DigestServer::NonceKeyHash::operator()(const NonceKey& k) const noexcept {
    // The salt is random, so mixing in the time is enough to spread keys.
    return static_cast<std::size_t>(k.salt ^ (k.time * 0x9e3779b97f4a7c15ull));
}

DigestServer::DigestServer(DigestServerConfig config, const Hasher& hasher, Random& rng)
    : config_(std::move(config)), hasher_(hasher), rng_(rng) {}

std::string DigestServer::nonce(Instant now) {
    std::array<std::uint8_t, kNonceBytes> raw{};
    put_u64(raw.data(), ticks(now));
    put_u64(raw.data() + 8, rng_.next_u64());
    if (auto mac = nonce_mac(hasher_, config_, raw.data())) {
        std::memcpy(raw.data() + kStampSize, mac->data(), kMacSize);
    }
    // Without HMAC the MAC stays zero; verify() then refuses every nonce as bad_nonce.
    return detail::base64url(raw.data(), raw.size());
}

std::vector<std::string> DigestServer::challenge(Instant now, bool stale) {
    const std::string n = nonce(now);
    std::vector<std::string> out;
    out.reserve(config_.algorithms.size());
    for (Algorithm a : config_.algorithms) {
        std::string v = "Digest realm=";
        detail::append_quoted(v, config_.realm);
        v += ", nonce=\"";
        v += n;
        v += '"';
        if (config_.opaque) {
            v += ", opaque=";
            detail::append_quoted(v, *config_.opaque);
        }
        // §3.3: algorithm is a token; always sent, since a missing one means MD5.
        v += ", algorithm=";
        v += algorithm_name(a);
        v += ", qop=\"auth\"";
        if (stale) v += ", stale=true";
        if (config_.userhash) v += ", userhash=true";
        out.push_back(std::move(v));
    }
    return out;
}

std::optional<DigestServer::NonceKey> DigestServer::decode_nonce(std::string_view text) const {
    std::array<std::uint8_t, kNonceBytes> raw{};
    if (!detail::base64url_decode(text, raw.data(), raw.size())) return std::nullopt;
    auto mac = nonce_mac(hasher_, config_, raw.data());
    if (!mac) return std::nullopt;
    const std::string_view want(reinterpret_cast<const char*>(mac->data()), kMacSize);
    const std::string_view got(reinterpret_cast<const char*>(raw.data() + kStampSize), kMacSize);
    if (!detail::ct_equal(want, got)) return std::nullopt;
    return NonceKey{get_u64(raw.data()), get_u64(raw.data() + 8)};
}

void DigestServer::forget(const NonceKey& key) {
    seen_.erase(key);
    if (!forgotten_upto_ || key.time > *forgotten_upto_) forgotten_upto_ = key.time;
}

Verdict DigestServer::check_nc(const NonceKey& key, std::uint32_t nc, Instant now) {
    // Entries for expired nonces are useless (those answer `stale` anyway): drop them first.
    while (!order_.empty() && now - from_ticks(order_.front().time) > config_.nonce_lifetime) {
        forget(order_.front());
        order_.pop_front();
    }
    auto it = seen_.find(key);
    if (it == seen_.end()) {
        // A forgotten nonce might have been used: its nc history is gone, so ask for a new
        // nonce (a transparent retry for the client) rather than accept a replay.
        if (forgotten_upto_ && key.time <= *forgotten_upto_) return Verdict::stale;
        if (nc == 0) return Verdict::replayed_nc;  // nc starts at 1 (RFC 7616 §3.4)
        while (config_.max_tracked_nonces > 0 && seen_.size() >= config_.max_tracked_nonces &&
               !order_.empty()) {
            forget(order_.front());
            order_.pop_front();
        }
        if (config_.max_tracked_nonces == 0) {
            forgotten_upto_ = std::max(forgotten_upto_.value_or(0), key.time);
            return Verdict::ok;
        }
        seen_.emplace(key, nc);
        order_.push_back(key);
        return Verdict::ok;
    }
    // RFC 7616 §3.4 / RFC 2617 §3.2.2: the server detects a replay by seeing the same nc
    // again; a client counts up, so anything not above the highest accepted is refused.
    if (nc <= it->second) return Verdict::replayed_nc;
    it->second = nc;
    return Verdict::ok;
}

Verdict DigestServer::verify(const Credentials& creds, std::string_view method, Ha1Lookup lookup,
                             Instant now) {
    if (!iequals(creds.scheme, "Digest")) return Verdict::missing_fields;
    // RFC 7616 §3.4: username, realm, nonce, uri and response are required; with qop, cnonce
    // and nc too. An absent parameter is a null view; an empty quoted one is not accepted
    // either, since none of these can be empty.
    if (creds.username.empty() || creds.realm.empty() || creds.nonce.empty() || creds.uri.empty() ||
        creds.response.empty()) {
        return Verdict::missing_fields;
    }
    const bool has_qop = creds.qop.data() != nullptr;
    if (has_qop && (creds.cnonce.empty() || creds.nc.empty())) return Verdict::missing_fields;

    const detail::Unquoted realm(creds.realm);
    if (realm.view() != config_.realm) return Verdict::realm_mismatch;

    const auto alg = parse_algorithm(creds.algorithm);
    if (!alg || !offered(config_, *alg) || !hasher_.supports(hash_of(*alg))) {
        return Verdict::unsupported_algorithm;
    }
    // We only ever offer qop="auth" (auth-int would need the body, §3.4.3).
    if (has_qop ? !iequals(creds.qop, "auth") : config_.require_qop) return Verdict::bad_qop;
    if (config_.opaque && (creds.opaque.data() == nullptr ||
                           detail::Unquoted(creds.opaque).view() != *config_.opaque)) {
        return Verdict::opaque_mismatch;
    }
    std::optional<std::uint32_t> nc;
    if (has_qop) {
        nc = parse_nc(creds.nc);
        if (!nc) return Verdict::missing_fields;
    }

    const auto key = decode_nonce(creds.nonce);
    if (!key) return Verdict::bad_nonce;
    const Instant issued = from_ticks(key->time);
    // A nonce from the future beyond the lifetime did not come from a clock we share.
    if (issued - now > config_.nonce_lifetime) return Verdict::bad_nonce;

    const detail::Unquoted user(creds.username);
    auto stored = lookup(Ha1Query{*alg, user.view(), realm.view(), creds.userhash});
    std::string ha1;
    if (!stored || stored->size() != hex_size(hash_of(*alg)) || !detail::lower_hex(*stored, ha1)) {
        return Verdict::unknown_user;
    }

    const detail::Unquoted uri(creds.uri), cnonce(creds.cnonce);
    auto expected = request_digest(hasher_, DigestInput{
                                                .algorithm = *alg,
                                                .ha1 = ha1,
                                                .nonce = creds.nonce,  // base64url: no escapes
                                                .cnonce = cnonce.view(),
                                                .nc = creds.nc,
                                                .qop = creds.qop,
                                                .method = method,
                                                .uri = uri.view(),
                                            });
    if (!expected) return Verdict::unsupported_algorithm;
    std::string got;
    if (!detail::lower_hex(creds.response, got) || !detail::ct_equal(*expected, got)) {
        return Verdict::wrong_response;
    }

    // §3.3 stale: only a correct answer to an expired nonce earns stale=true, so the client
    // retries with the new nonce without asking its user for the password again.
    if (now - issued > config_.nonce_lifetime) return Verdict::stale;
    if (!has_qop) return Verdict::ok;  // RFC 2069 form: no nc, no replay protection
    return check_nc(*key, *nc, now);
}

}  // namespace sip::auth

// Digest authentication, server side: challenges with stateless nonces, verification with
// nc replay protection (RFC 7616, RFC 8760 for SIP, RFC 3261 §22.4).
//
//   sip::crypto::EvpHasher hasher;
//   sip::auth::DigestServer auth({.realm = "example.com", .secret = secret_32_bytes},
//                                hasher, rng);
//   // no or bad credentials: 401 with one WWW-Authenticate per algorithm (strongest first)
//   for (const std::string& v : auth.challenge(now)) add_header("WWW-Authenticate", v);
//   // credentials present:
//   auto cr = sip::parse_credentials(msg.header_value(authorization_field));
//   auto lookup = [&](const sip::auth::Ha1Query& q) { return users.ha1(q.username, q.algorithm); };
//   switch (auth.verify(*cr, "REGISTER", lookup, now)) {
//       case Verdict::ok:    accept(); break;
//       case Verdict::stale: send_401(auth.challenge(now, /*stale=*/true)); break;
//       default:             send_401(auth.challenge(now)); break;   // or 403
//   }
//
// Nonces are stateless: base64url(timestamp(8) || salt(8) || HMAC-SHA256(secret, timestamp ||
// salt || realm)[:16]), 43 characters. Any DigestServer with the same secret and realm
// verifies them, provided the Instants it is given share a time base with the issuer's (an
// adapter using a node-local monotonic clock makes nonces node-local; feed a wall-clock-based
// Instant to verify across nodes). The random salt keeps two nonces issued in the same tick
// apart, so the per-nonce nc record below never mixes two clients.
//
// State and lifetimes: the server keeps references to `hasher` and `rng` (both must outlive
// it) and the highest nc seen per nonce, at most `max_tracked_nonces` entries (oldest first
// out; an evicted nonce answers `stale`, so the client just retries with a fresh one). Not
// thread-safe: one DigestServer per loop (DESIGN.md §8), which also scopes replay protection
// to that instance. No allocation failure other than std::bad_alloc escapes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sip/auth/hasher.hpp"
#include "sip/headers.hpp"
#include "sip/random.hpp"
#include "sip/time.hpp"

namespace sip::auth {

// A non-owning reference to a callable (C++26 std::function_ref in miniature): no
// allocation, the callable must outlive the call it is passed to.
template <class Sig>
class FunctionRef;
template <class R, class... Args>
class FunctionRef<R(Args...)> {
  public:
    template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
             !std::is_function_v<std::remove_reference_t<F>> &&
             std::is_invocable_r_v<R, F&, Args...>) FunctionRef(F&& f)
    noexcept  // NOLINT(google-explicit-constructor): used like a lambda
        : call_([](Target t, Args... a) -> R {
              return std::invoke(*static_cast<std::remove_reference_t<F>*>(t.obj),
                                 std::forward<Args>(a)...);
          }) {
        target_.obj = const_cast<void*>(static_cast<const void*>(std::addressof(f)));
    }
    FunctionRef(R (*fn)(Args...)) noexcept  // NOLINT(google-explicit-constructor)
        : call_([](Target t, Args... a) -> R { return t.fn(std::forward<Args>(a)...); }) {
        target_.fn = fn;
    }
    R operator()(Args... a) const { return call_(target_, std::forward<Args>(a)...); }

  private:
    union Target {
        void* obj;
        R (*fn)(Args...);
    };
    Target target_;
    R (*call_)(Target, Args...);
};

struct DigestServerConfig {
    std::string realm;   // sent in every challenge; credentials must name it exactly
    std::string secret;  // HMAC key for nonces: at least 32 random bytes, shared by a cluster
    Duration nonce_lifetime = std::chrono::seconds(300);
    // Offered in this order, one challenge each (RFC 7616 §3.7, RFC 8760 §2: most preferred
    // first). SHA-256 first; MD5 stays for the many SIP devices that know nothing else.
    std::vector<Algorithm> algorithms = {Algorithm::SHA256, Algorithm::MD5};
    // RFC 7616 §3.4 makes qop mandatory; false accepts RFC 2069-style answers without qop
    // (and so without nc replay protection) from old devices.
    bool require_qop = true;
    std::optional<std::string> opaque;  // sent when set, and then must be echoed unchanged
    bool userhash = false;  // offer userhash=true (§3.4.4): the lookup must map hashed names
    std::size_t max_tracked_nonces = 100'000;
};

enum class Verdict : std::uint8_t {
    ok,
    stale,                  // valid answer to an expired (or forgotten) nonce: 401 stale=true
    bad_nonce,              // not issued with this secret and realm: forged, tampered, garbled
    wrong_response,         // response does not match (wrong password, altered method/uri)
    replayed_nc,            // nc not above the highest accepted for this nonce
    unsupported_algorithm,  // algorithm not offered, unknown, or not computable by the hasher
    realm_mismatch,         // realm is not ours
    missing_fields,         // not Digest, or username/realm/nonce/uri/response (or, with qop,
                            // nc/cnonce) absent
    bad_qop,                // qop other than "auth", or absent while require_qop
    opaque_mismatch,        // configured opaque not echoed unchanged
    unknown_user,           // the lookup returned no HA1, or not a hex digest of the right size
};
std::string_view verdict_name(Verdict v) noexcept;

// What verify() asks the user store. `username` is unquoted; with `userhash` it is the hex
// H(user:realm) of §3.4.4 for `algorithm`'s hash. Return the stored HA1 (see auth::ha1) for
// hash_of(algorithm) in hex, or nullopt for no such user.
struct Ha1Query {
    Algorithm algorithm = Algorithm::MD5;
    std::string_view username;
    std::string_view realm;
    bool userhash = false;
};
using Ha1Lookup = FunctionRef<std::optional<std::string>(const Ha1Query&)>;

class DigestServer {
  public:
    DigestServer(DigestServerConfig config, const Hasher& hasher, Random& rng);

    // WWW-Authenticate / Proxy-Authenticate values, one per configured algorithm, in
    // config order, all carrying one fresh nonce, e.g.
    //   Digest realm="example.com", nonce="...", algorithm=SHA-256, qop="auth"
    // `stale` adds stale=true (RFC 7616 §3.3) after Verdict::stale.
    std::vector<std::string> challenge(Instant now, bool stale = false);

    // A fresh nonce (also usable as an Authentication-Info nextnonce, RFC 7616 §3.5).
    std::string nonce(Instant now);

    // Checks `creds` for a request with `method` (for SIP the request's method, RFC 3261
    // §22.4; A2 = method:digest-uri). The digest-uri is not compared with the Request-URI
    // here: proxies may rewrite the latter; a caller wanting RFC 2617 §3.2.2.5's check compares
    // creds.uri itself. Views in `creds` are only read during the call. Records nc on ok.
    Verdict verify(const Credentials& creds, std::string_view method, Ha1Lookup lookup,
                   Instant now);

    const DigestServerConfig& config() const noexcept { return config_; }
    std::size_t tracked_nonces() const noexcept { return seen_.size(); }

  private:
    struct NonceKey {
        std::uint64_t time = 0;
        std::uint64_t salt = 0;
        friend bool operator==(const NonceKey&, const NonceKey&) = default;
    };
    struct NonceKeyHash {
        std::size_t operator()(const NonceKey& k) const noexcept;
    };
    std::optional<NonceKey> decode_nonce(std::string_view nonce) const;
    Verdict check_nc(const NonceKey& key, std::uint32_t nc, Instant now);
    void forget(const NonceKey& key);

    DigestServerConfig config_;
    const Hasher& hasher_;
    Random& rng_;
    std::unordered_map<NonceKey, std::uint32_t, NonceKeyHash> seen_;  // nonce -> highest nc
    std::deque<NonceKey> order_;                                      // first use, oldest first
    // Newest timestamp among forgotten nonces: an untracked nonce at or before it may have
    // been used already, so it is answered `stale` rather than trusted with nc from 1.
    std::optional<std::uint64_t> forgotten_upto_;
};

}  // namespace sip::auth

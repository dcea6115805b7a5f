// Digest authentication, client side: answers 401 (WWW-Authenticate) and 407
// (Proxy-Authenticate) challenges with an Authorization / Proxy-Authorization value
// (RFC 7616 §3.4, RFC 8760, RFC 3261 §22.2-22.3).
//
//   sip::auth::DigestClient auth(hasher, rng, {.username = "alice", .password = pw});
//   std::vector<sip::Challenge> offered;                 // every WWW-Authenticate of the 401
//   for (auto v : values) if (auto c = sip::parse_challenge(v)) offered.push_back(*c);
//   sip::Result<std::string> a = auth.answer(offered, "REGISTER", "sip:example.com");
//   if (a) add_header(status == 407 ? "Proxy-Authorization" : "Authorization", *a);
//
// The strongest algorithm the hasher supports wins (SHA-512-256 > SHA-256 > MD5; the first
// offered among equals, RFC 7616 §3.7); qop=auth is used whenever offered; opaque is echoed
// when present (even when empty); userhash=true in the challenge makes the client send the
// hashed user name (§3.4.4). Only a `const Challenge&`'s views are read, during the call.
// Errors: Errc::not_found when no challenge is usable (no Digest, unknown algorithms, only
// qop=auth-int, no nonce); Errc::bad_param when the hasher fails to compute.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sip/auth/hasher.hpp"
#include "sip/headers.hpp"
#include "sip/random.hpp"
#include "sip/result.hpp"

namespace sip::auth {

// Everything the answer covers besides the challenge. `cnonce` is used only when the
// challenge offers qop (it must then be non-empty); `nc` counts the requests sent with this
// nonce, starting at 1 (RFC 7616 §3.4).
struct AnswerParams {
    std::string_view username;
    std::string_view password;
    std::string_view method;
    std::string_view uri;
    std::string_view cnonce;
    std::uint32_t nc = 1;
};

// Stateless: the credentials value answering `challenge`, e.g.
//   Digest username="alice", realm="r", nonce="n", uri="sip:r", response="...",
//   algorithm=SHA-256, cnonce="c", nc=00000001, qop=auth, opaque="o"
Result<std::string> answer_challenge(const Hasher& h, const Challenge& challenge,
                                     const AnswerParams& p);

// Index of the challenge to answer among `offered`, or Errc::not_found.
Result<std::size_t> choose_challenge(const Hasher& h, std::span<const Challenge> offered) noexcept;

struct Account {
    std::string username;
    std::string password;
};

// Stateful convenience: a random cnonce per answer and nc counted per (realm, nonce), so a
// nonce reused for later requests gets nc 2, 3, ... (the last 8 nonces are remembered).
// Keeps references to `h` and `rng`; not thread-safe.
class DigestClient {
  public:
    DigestClient(const Hasher& h, Random& rng, Account account);

    Result<std::string> answer(std::span<const Challenge> offered, std::string_view method,
                               std::string_view uri);

  private:
    struct Counter {
        std::string realm;
        std::string nonce;
        std::uint32_t nc = 0;
    };
    const Hasher& hasher_;
    Random& rng_;
    Account account_;
    std::vector<Counter> counters_;  // most recent last
};

}  // namespace sip::auth

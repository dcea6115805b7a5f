// The Digest computations shared by the server and client sides (RFC 7616 §3.4, RFC 2617
// §3.2.2, RFC 3261 §22.4, RFC 8760 for SIP).
//
//   // provisioning: store HA1 per algorithm, never the password (RFC 7616 §5.4)
//   std::optional<std::string> h = sip::auth::ha1(hasher, Algorithm::SHA256, "alice",
//                                                 "example.com", "secret");
//   // what `response=` must be for a request
//   auto r = sip::auth::request_digest(hasher, {.algorithm = Algorithm::SHA256, .ha1 = *h,
//       .nonce = n, .cnonce = cn, .nc = "00000001", .qop = "auth", .method = "REGISTER",
//       .uri = "sip:example.com"});
//
// All string arguments are *unquoted* values (quoted-pair backslashes removed, see
// sip::unquote) and are read only during the call. Results are lowercase hex; nullopt means
// the Hasher cannot compute that hash.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sip/auth/hasher.hpp"

namespace sip::auth {

// HA1 as stored by a user database: H(username ":" realm ":" password) (RFC 7616 §3.4.2,
// the non-sess A1). The same value serves the -sess variant of `alg`, which the server
// derives per request. Passwords and user names are hashed as the UTF-8 bytes given.
std::optional<std::string> ha1(const Hasher& h, Algorithm alg, std::string_view username,
                               std::string_view realm, std::string_view password);

// RFC 7616 §3.4.4: the hashed user name H(username ":" realm) sent when userhash=true.
std::optional<std::string> userhash(const Hasher& h, Algorithm alg, std::string_view username,
                                    std::string_view realm);

// Inputs of the request-digest. `ha1` is the stored (non-sess) HA1 in hex; for a -sess
// algorithm it is rehashed with nonce and cnonce here (§3.4.2). `qop` empty selects the
// RFC 2069 form H(HA1:nonce:HA2) that RFC 2617 §3.2.2.1 keeps for old peers; otherwise it
// must be "auth" (auth-int needs the body and is not offered by Trunkline).
struct DigestInput {
    Algorithm algorithm = Algorithm::MD5;
    std::string_view ha1;
    std::string_view nonce;
    std::string_view cnonce;
    std::string_view nc;  // 8 LHEX, as sent
    std::string_view qop;
    std::string_view method;
    std::string_view uri;  // the digest-uri parameter, as sent
};

// RFC 7616 §3.4.1: KD(HA1, nonce:nc:cnonce:qop:HA2) with HA2 = H(method:uri) (§3.4.3).
std::optional<std::string> request_digest(const Hasher& h, const DigestInput& in);

}  // namespace sip::auth

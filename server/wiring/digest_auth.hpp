// wiring::DigestAuth — the Authenticator the element uses, backed by sip::auth::DigestServer
// and the OpenSSL hasher; users come from a "user:password" file and are kept as HA1 only.
//
//   std::string err;
//   auto auth = wiring::DigestAuth::from_file("example.com", "users.txt", rng, &err);
//   if (!auth) die(err);              // "users.txt:3: no ':' between user and password"
//   element_config.auth = auth.get();
//
// Until users live in SQLite (issue 6: trunkctl user add), this is how tests and operators
// give the element credentials. The password file is read once; passwords are hashed at
// load and never kept.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "sip/auth/server.hpp"
#include "sip/crypto/evp_hasher.hpp"
#include "sw/element.hpp"

namespace wiring {

class DigestAuth final : public sw::Authenticator {
public:
    // `algorithms`: offered in this order (RFC 8760: most preferred first); empty: the
    // DigestServer default (SHA-256, then MD5).
    static std::unique_ptr<DigestAuth> from_file(const std::string& realm, const std::string& path,
                                                 sip::Random& rng, std::string* error,
                                                 std::vector<sip::auth::Algorithm> algorithms = {});

    std::vector<std::string> challenge(sip::Instant now, bool stale) override;
    Verdict verify(std::string_view authorization, std::string_view method,
                   sip::Instant now) override;

private:
    DigestAuth(std::string realm, std::string secret, sip::Random& rng,
               std::vector<sip::auth::Algorithm> algorithms);

    sip::crypto::EvpHasher hasher_;
    std::string realm_;
    // user -> HA1 per algorithm (MD5 and SHA-256, the ones offered)
    std::map<std::string, std::map<sip::auth::Algorithm, std::string>, std::less<>> ha1_;
    sip::auth::DigestServer server_;
};

}  // namespace wiring

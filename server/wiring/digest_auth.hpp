// wiring::DigestAuth — the registrar's Authenticator: sip::auth::DigestServer over the OpenSSL
// hasher, with users as HA1 hashes (from the SQLite store, or a "user:password" file for
// quick tests). Passwords are never kept: a file is hashed at load.
//
//   auto auth = std::make_unique<wiring::DigestAuth>("trunkline", rng);
//   auth->set_users(wiring::DigestAuth::users_from_store(store, "trunkline", &warnings));
//   route::reg::Registrar registrar(cfg, location, auth.get());
//   // another process changed the users (sip_user's change counter moved): set_users() again
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "route/reg/registrar.hpp"
#include "sip/auth/server.hpp"
#include "sip/crypto/evp_hasher.hpp"

namespace wiring {

class DigestAuth final : public route::reg::Authenticator {
  public:
    // user -> HA1 = H(user:realm:password) per base algorithm (MD5, SHA256, SHA512_256)
    using Users = std::map<std::string, std::map<sip::auth::Algorithm, std::string>, std::less<>>;

    // `algorithms`: offered in this order (RFC 8760: most preferred first); empty: the
    // DigestServer default (SHA-256, then MD5). The nonce key is random per process.
    DigestAuth(std::string realm, sip::Random& rng,
               std::vector<sip::auth::Algorithm> algorithms = {});

    void set_users(Users users) { users_ = std::move(users); }
    std::size_t user_count() const noexcept { return users_.size(); }
    const std::string& realm() const noexcept { return realm_; }

    // "user:password" lines ('#' comments); nullopt with "FILE:LINE: what" in *error.
    static std::optional<Users> users_from_file(const std::string& path, const std::string& realm,
                                                std::string* error);

    std::vector<std::string> challenge(sip::Instant now, bool stale) override;
    Outcome verify(std::string_view authorization, std::string_view method,
                   sip::Instant now) override;

  private:
    sip::crypto::EvpHasher hasher_;
    std::string realm_;
    Users users_;
    sip::auth::DigestServer server_;
};

}  // namespace wiring

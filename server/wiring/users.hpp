// wiring::Users — the registrar's users: the database's (HA1 hashes for our realm) plus an
// optional "user:password" file, loaded into the DigestAuth at start and on every change.
//
//   std::string err;
//   auto users = wiring::Users::open(store, auth, cfg.users_file, &err);  // nullopt: bad file
//   users->load();   // again when sip_user's change counter moved (wiring::Reloader)
//
// load() reads every user (a full reload), so the Reloader calls it only when the sip_user
// counter moved, not on every commit of the file; false (logged): the table could not be read
// and the DigestAuth keeps the users it had. Disabled users are skipped. A user of another realm
// cannot authenticate here: logged once per name ("trunkctl user passwd --realm"). A file user
// does not replace a database user of the same name. Lifetimes: `store` and `auth` outlive the
// Users.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "route/reg/sqlite/store.hpp"
#include "wiring/digest_auth.hpp"

namespace wiring {

class Users {
  public:
    // users_file empty: the database only. nullopt + *error ("FILE:LINE: what").
    static std::optional<Users> open(route::reg::sqlite::Store& store, DigestAuth& auth,
                                     const std::string& users_file, std::string* error);
    bool load();

  private:
    Users(route::reg::sqlite::Store& store, DigestAuth& auth,
          std::optional<DigestAuth::Users> file_users);

    route::reg::sqlite::Store& store_;
    DigestAuth& auth_;
    std::optional<DigestAuth::Users> file_users_;
    std::set<std::string> realm_warned_;
};

}  // namespace wiring

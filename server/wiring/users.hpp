// wiring::Users — the registrar's users: the database's (HA1 hashes for our realm) plus an
// optional "user:password" file, loaded into the DigestAuth at start and on every change.
//
//   std::string err;
//   auto users = wiring::Users::open(store, auth, cfg.users_file, &err);  // nullopt: bad file
//   users->load();   // again whenever trunkctl changed the file (PRAGMA data_version moved)
//
// Disabled users are skipped. A user of another realm cannot authenticate here: logged once
// per name ("trunkctl user passwd --realm"). A file user does not replace a database user of
// the same name. Lifetimes: `store` and `auth` outlive the Users.
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
    void load();

  private:
    Users(route::reg::sqlite::Store& store, DigestAuth& auth,
          std::optional<DigestAuth::Users> file_users);

    route::reg::sqlite::Store& store_;
    DigestAuth& auth_;
    std::optional<DigestAuth::Users> file_users_;
    std::set<std::string> realm_warned_;
};

}  // namespace wiring

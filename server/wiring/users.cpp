#include "wiring/users.hpp"

#include <fmt/format.h>

#include "wiring/log.hpp"

namespace wiring {

Users::Users(route::reg::sqlite::Store& store, DigestAuth& auth,
             std::optional<DigestAuth::Users> file_users)
    : store_(store), auth_(auth), file_users_(std::move(file_users)) {}

std::optional<Users> Users::open(route::reg::sqlite::Store& store, DigestAuth& auth,
                                 const std::string& users_file, std::string* error) {
    std::optional<DigestAuth::Users> file_users;
    if (!users_file.empty()) {
        file_users = DigestAuth::users_from_file(users_file, auth.realm(), error);
        if (!file_users) return std::nullopt;
    }
    return Users(store, auth, std::move(file_users));
}

bool Users::load() {
    DigestAuth::Users users;
    std::string e;
    auto rows = store_.users(&e);
    if (!e.empty()) {
        log_line(fmt::format("registrar: cannot read users: {}", e));
        return false;  // an unreadable table must not take the users away
    }
    for (const auto& u : rows) {
        if (!u.enabled) continue;
        if (u.realm != auth_.realm()) {
            if (realm_warned_.insert(u.username).second)
                log_line(
                    fmt::format("registrar: user '{}' has realm '{}', not '{}': it "
                                "cannot authenticate (trunkctl user passwd --realm)",
                                u.username, u.realm, auth_.realm()));
            continue;
        }
        users[u.username] = u.ha1;
    }
    if (file_users_)
        for (const auto& [name, h] : *file_users_)
            users.emplace(name, h);
    auth_.set_users(std::move(users));
    return true;
}

}  // namespace wiring

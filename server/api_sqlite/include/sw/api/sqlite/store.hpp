// sw::api::sqlite::Store — the management API's bearer tokens in the shared SQLite file
// (adapter). Only the SHA-256 of a secret is kept: `trunkctl token add` prints the secret
// once, and trunkline knows a token by hashing what a request presents.
//
//   auto st = sw::api::sqlite::Store::open("var/trunkline.db", &err);      // nullptr + err
//   st->add({.name = "grafana", .scope = "read", .sha256_hex = hex, .created_ms = now}, &err);
//   // add: true added, false a token of that name exists, nullopt + err on error
//   for (const auto& t : *st->list(&err)) show(t.name, t.scope);
//   st->remove("grafana", &err);                      // true removed, false no such token
//   if (st->version(&err) != seen) reload();           // moves with every add / remove
//
// Schema: component "api" in schema_versions (DESIGN.md §2); tables api_tokens and
// api_tokens_version, whose one row is bumped in the same transaction as each change, so a
// running trunkline that polls it can never miss one. Scopes are "read" and "admin".
// Lifetimes: one connection per Store; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;
namespace route::sqlite {
class Kept;
}

namespace sw::api::sqlite {

struct TokenRow {
    std::string name;
    std::string scope;       // "read" or "admin"
    std::string sha256_hex;  // lower-case hex SHA-256 of the secret
    std::int64_t created_ms = 0;  // Unix milliseconds
};

class Store {
  public:
    static std::unique_ptr<Store> open(const std::string& path, std::string* error);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    std::optional<bool> add(const TokenRow& t, std::string* error);
    std::optional<std::vector<TokenRow>> list(std::string* error);  // by name
    std::optional<bool> remove(const std::string& name, std::string* error);
    std::optional<std::int64_t> version(std::string* error);

  private:
    explicit Store(sqlite3* db);
    bool bump(std::string* error);
    sqlite3* db_;
    std::unique_ptr<route::sqlite::Kept> kept_;  // what the switch polls every second
};

}  // namespace sw::api::sqlite

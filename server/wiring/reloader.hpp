// wiring::Reloader — operators' changes reaching the running switch through the SQLite file
// (DESIGN.md §8): trunkctl or the API writes, and the poll notices PRAGMA data_version moving
// (a counter read, no query). That counter moves with every commit of another connection,
// CDRs and bindings included (many a second), so it only says "look closer": each table set
// is then reloaded only when its own change counter moved (the registrar's sip_user and
// trunk_reg counters, the lcr table versions, the billing change version; all kept by the
// stores in the same transaction as the change, none moved by a CDR or a binding).
//
//   wiring::Reloader r({.reg = store, .lcr = lcr_store, .database = cfg.database,
//                       .users = users, .sw = sw});
//   r.load_users();  r.load_book();  r.load_routing(loop.now());   // at start
//   r.poll(loop.now(), cdr_writer, refresh);  // at start (carriers), then every reload_poll
//   carriers.refresh(r.fqdn_vendors(), now);  // in `refresh`: vendors given by name
//
// poll(): when data_version moved, it is remembered first, then each counter is read before
// what it covers is loaded: a commit landing anywhere during the poll moves data_version (and
// its counter) again, so the next poll reloads it; nothing is lost and our own writes cost one
// more counter read. Then the users if sip_user moved, the queued commands (every poll that
// sees data_version move: take_commands reads all pending ones), the CDRs committed, the book
// and the routing if their versions moved, and `refresh` (the carriers follow new entries or
// vendors; the caller drains the switch there) if trunk_reg moved or the routing was reloaded.
// The first poll always calls `refresh` (no trunk_reg counter seen yet). Unreadable counters
// (logged) count as moved. Load failures are logged and keep what the switch had; the users
// are tried again by the next poll, the routing by the next poll that sees data_version move,
// the book when its version moves again (a bad row must be fixed first). Lifetimes: every
// reference in Parts outlives the Reloader.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "route/lcr/sqlite/store.hpp"
#include "route/reg/sqlite/store.hpp"
#include "sw/switch.hpp"
#include "wiring/cdr_writer.hpp"
#include "wiring/routing.hpp"
#include "wiring/users.hpp"

namespace wiring {

class Reloader {
  public:
    struct Parts {
        route::reg::sqlite::Store& reg;  // data_version, change counters, commands
        route::lcr::sqlite::Store& lcr;  // customers, vendors, groups
        std::string database;            // the billing store's file
        Users& users;
        sw::Switch& sw;
    };
    explicit Reloader(Parts parts);

    void load_users();
    bool load_book();
    bool load_routing(sip::Instant now);
    void poll(sip::Instant now, const CdrWriter& writer, const std::function<void()>& refresh);
    const std::vector<Routing::Fqdn>& fqdn_vendors() const noexcept { return fqdn_vendors_; }

  private:
    bool changed();
    std::map<std::string, std::int64_t> reg_versions();
    void load_users(std::optional<std::int64_t> version);

    Parts p_;
    BillingVersion billing_watch_;
    std::optional<std::int64_t> billing_version_, data_version_;
    std::optional<std::int64_t> users_version_, carriers_version_;
    std::map<std::string, std::int64_t> routing_versions_;
    std::vector<Routing::Fqdn> fqdn_vendors_;
};

}  // namespace wiring

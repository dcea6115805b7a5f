// wiring::Reloader — operators' changes reaching the running switch through the SQLite file
// (DESIGN.md §8): trunkctl writes, and the poll notices PRAGMA data_version moving (a counter
// read, no query), then reloads the users, takes queued commands, and reloads the billing
// book and the routing tables only when their own versions moved (the CDR writer changes
// the file many times a second; neither version moves with a CDR).
//
//   wiring::Reloader r({.reg = store, .lcr = lcr_store, .database = cfg.database,
//                       .users = users, .sw = sw});
//   r.load_book();  r.load_routing(loop.now());    // at start
//   r.mark_seen();                                 // ignore what happened before
//   r.poll(loop.now(), cdr_writer, refresh);       // every reload_poll
//   carriers.refresh(r.fqdn_vendors(), now);       // vendors given by name, from the tables
//
// poll(): when data_version moved, reload() (users, commands, CDRs committed, then the book
// and the routing if their versions moved), then `refresh` (the carriers follow the new
// entries; the caller drains the switch there), then mark_seen(), so our own writes in
// between (carrier state) do not count as a change. Load failures are logged and keep what the
// switch had. Lifetimes: every reference in Parts outlives the Reloader.
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
        route::reg::sqlite::Store& reg;  // data_version, commands
        route::lcr::sqlite::Store& lcr;  // customers, vendors, groups
        std::string database;            // the billing store's file
        Users& users;
        sw::Switch& sw;
    };
    explicit Reloader(Parts parts);

    bool load_book();
    bool load_routing(sip::Instant now);
    bool changed();  // data_version moved since mark_seen()
    void reload(sip::Instant now, const CdrWriter& writer);
    void mark_seen();
    void poll(sip::Instant now, const CdrWriter& writer, const std::function<void()>& refresh);
    const std::vector<Routing::Fqdn>& fqdn_vendors() const noexcept { return fqdn_vendors_; }

  private:
    Parts p_;
    BillingVersion billing_watch_;
    std::optional<std::int64_t> billing_version_, data_version_;
    std::map<std::string, std::int64_t> routing_versions_;
    std::vector<Routing::Fqdn> fqdn_vendors_;
};

}  // namespace wiring

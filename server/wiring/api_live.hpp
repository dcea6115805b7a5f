// wiring::ApiLive — sw::api::Live over the running server: the domain cache (wiring::Dns)
// and why a carrier entry waits (wiring::Carriers), for the management API on the loop.
//
//   wiring::ApiLive live(dns, carriers);
//   live.load_domains(cfg.database);   // at start: the operators' domain entries resolved
//   api_server_parts.live = &live;     // ApiServer hands it to sw::api::Api::set_live
//   live.sync_domains();               // every reload poll: `trunkctl domain add|remove` too
//
// load_domains() puts every entry of route_domain_sqlite's domain_entry table into the
// running cache (logged: how many, or why not); the API's writes follow at once through
// domain_put / domain_removed; sync_domains() reads the table again only when its version
// moved (one row read otherwise), puts new and changed entries and forgets removed ones.
// Lifetimes: `dns` and `carriers` outlive the ApiLive.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "route/domain/sqlite/store.hpp"
#include "sw/api_live.hpp"
#include "wiring/carriers.hpp"
#include "wiring/dns.hpp"

namespace wiring {

class ApiLive final : public sw::api::Live {
  public:
    ApiLive(Dns& dns, const Carriers& carriers) : dns_(dns), carriers_(carriers) {}

    void load_domains(const std::string& database);
    void sync_domains();

    std::optional<route::domain::EntryStatus> domain_status(std::string_view key,
                                                            sip::Instant now) override;
    bool resolve_now(std::string_view key, sip::Instant now) override;
    void domain_put(const route::domain::EntrySpec& spec, sip::Instant now) override;
    void domain_removed(std::string_view key, sip::Instant now) override;
    std::optional<std::string> carrier_waiting(std::string_view name) override;

  private:
    Dns& dns_;
    const Carriers& carriers_;
    std::unique_ptr<route::domain::sqlite::Store> store_;
    std::optional<std::int64_t> version_;                   // of the entries last loaded
    std::map<std::string, route::domain::EntrySpec> loaded_;  // by name
};

}  // namespace wiring

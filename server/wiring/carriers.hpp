// wiring::Carriers — where the switch's peers given by name are now: the carrier
// registration entries (`trunkctl trunk-reg`, turned into sw::TrunkSpecs) and the vendor
// gateways whose SIP server is an FQDN (handed to sw::Switch::set_vendor_target).
//
//   wiring::Carriers carriers(store, dns, sw, wiring::trunk_defaults(cfg, listening));
//   carriers.refresh(routing.fqdn_vendors);  // at start, on every change, on every DNS answer
//   // --check-config: what would run, and what waits
//   auto specs = carriers.specs();           // nullopt: the entries could not be read (logged)
//   for (const auto& [name, why] : carriers.unresolved()) print(name, why);
//
// refresh() resolves the vendors, replaces the switch's carrier entries (sw::Registrations
// diffs them by fingerprint, so an unchanged entry keeps running), logs "trunk-reg NAME:
// waiting: WHY" once for each entry whose configuration cannot run, and kicks the resolver;
// the caller then drains the switch. An entry whose server name does not resolve is not
// held back here: its spec carries the DNS answer (and the address it runs with now), and
// sw::Registrations applies the DNS failure policy and says what happens. Lifetimes: every
// reference outlives the Carriers.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "route/reg/sqlite/store.hpp"
#include "sw/switch.hpp"
#include "wiring/dns.hpp"
#include "wiring/routing.hpp"
#include "wiring/trunk_specs.hpp"

namespace wiring {

class Carriers {
  public:
    Carriers(route::reg::sqlite::Store& store, Dns& dns, sw::Switch& sw, TrunkDefaults defaults);

    void refresh(const std::vector<Routing::Fqdn>& vendors, sip::Instant now);
    std::optional<std::vector<sw::TrunkSpec>> specs();
    // entry name -> why it does not run (as of the last specs())
    const std::map<std::string, std::string>& unresolved() const noexcept { return unresolved_; }

  private:
    void resolve_vendors(const std::vector<Routing::Fqdn>& vendors, sip::Instant now);
    std::optional<sip::Target> registrar(const route::reg::sqlite::TrunkReg& r,
                                         std::optional<route::domain::Pick>& dns);
    std::optional<sw::TrunkSpec> spec(const route::reg::sqlite::TrunkReg& r);

    route::reg::sqlite::Store& store_;
    Dns& dns_;
    sw::Switch& sw_;
    TrunkDefaults defaults_;
    std::map<std::string, std::string> unresolved_;
    std::map<std::string, std::string> logged_;  // what was logged of unresolved_: once each
};

}  // namespace wiring

// sw::api::Live — what the management API asks the running server that the switch itself
// does not hold: the domain cache's live status of a name and "resolve now" (wiring::Dns on
// the loop), and why a carrier entry does not run (wiring::Carriers). Behind an interface so
// sw::api::Api stays pure: the wiring implements it (wiring::ApiLive), the unit tests fake it.
//
//   wiring::ApiLive live(dns, carriers);
//   api.set_live(&live);          // without it, the live fields are null ("live": false)
//   // GET /api/domains/sip.carrier.com        -> live.domain_status("sip.carrier.com", now)
//   // POST /api/domains/sip.carrier.com/resolve -> live.resolve_now("sip.carrier.com", now)
//
// The carrier registrations' live state (registered, expires, next attempt, DNS view) is the
// switch's own (sw::Registrations), read by the Api directly. Every call runs on the loop.
// Lifetimes: the Live outlives the Api that holds it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "route/domain/cache.hpp"
#include "sip/time.hpp"

namespace sw::api {

class Live {
  public:
    virtual ~Live() = default;

    // The running cache's status of an entry key ("carrier.test", "carrier.test:5080");
    // nullopt: the running cache holds no such entry.
    virtual std::optional<route::domain::EntryStatus> domain_status(std::string_view key,
                                                                    sip::Instant now) = 0;
    // Re-queries at once, whatever the TTL; false: no such entry (or no resolver).
    virtual bool resolve_now(std::string_view key, sip::Instant now) = 0;
    // An operator entry was written (added or changed) or removed in the file: the running
    // cache follows (an entry a carrier or vendor still uses stays, with default settings).
    virtual void domain_put(const route::domain::EntrySpec& spec, sip::Instant now) = 0;
    virtual void domain_removed(std::string_view key, sip::Instant now) = 0;
    // Why an enabled carrier entry does not run ("no DNS resolver", a configuration that
    // cannot run); nullopt: nothing known against it.
    virtual std::optional<std::string> carrier_waiting(std::string_view name) = 0;
};

}  // namespace sw::api

// wiring::Dns — names of carriers and vendors through the domain cache (RFC 3263: NAPTR/SRV
// when no port is given, A/AAAA at the port when one is), resolved by c-ares on the loop.
//
//   wiring::Dns dns(loop, rng, cfg.dns_servers, [&] { refresh_timer.arm(loop.now()); });
//   auto a = dns.resolve("sip.carrier.example", 0, sip::Transport::Udp);
//   if (a.target) use(*a.target);       // where the name points now
//   else if (a.pending) ...             // on_change runs when the first answer is in
//   else log(a.error);                  // "NXDOMAIN", ...
//   dns.kick();                         // after resolve(): send what the cache queued
//   dns.close();                        // at shutdown: queries cancelled, handles closed
//
// A resolver that cannot start (bad server address) is logged once ("dns: ... (carrier
// FQDNs will not resolve)"); available() is false then, and resolve() must not be called.
// on_change runs from the resolver's callback when a first resolution ended or an address
// changed: it must not call resolve() from there (defer to a timer). Each (name, port,
// transport) is its own cache entry (RFC 3263 §4.2: a port means A/AAAA at that port, so it
// cannot share an SRV answer), added on its first resolve(). Every change an operator must
// see (an answer served stale, a failure, a recovery) is logged once ("dns NAME: ...").
// Lifetimes: `loop` and `rng` outlive the Dns.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "route/domain/cache.hpp"
#include "sip/transport.hpp"
#include "sip/uv/loop.hpp"

namespace route::domain::ares {
class Resolver;
}

namespace wiring {

class Dns {
  public:
    Dns(sip::uv::Loop& loop, sip::Random& rng, const std::vector<std::string>& servers,
        std::function<void()> on_change);
    ~Dns();
    Dns(const Dns&) = delete;
    Dns& operator=(const Dns&) = delete;

    bool available() const noexcept { return resolver_ != nullptr; }

    struct Answer {
        std::optional<sip::Target> target{};  // tls_name is the name for TLS
        bool pending = false;                 // not resolved yet
        std::string error{};                  // neither: why (error_kind_name)
        route::domain::Pick pick{};           // the cache's full answer (stale, since when)
    };
    // port 0: RFC 3263 NAPTR/SRV; otherwise A/AAAA at `port` over `transport`.
    Answer resolve(const std::string& name, std::uint16_t port, sip::Transport transport);
    void kick();
    void close();

    // Operators' domain entries (route_domain_sqlite, the management API): put() adds or
    // changes one in the running cache (resolved at once when new or changed); forget()
    // drops it, unless resolve() is using its key for a carrier or vendor (then it stays,
    // with default settings). status() and resolve_now() take an entry key.
    bool put(const route::domain::EntrySpec& spec);
    void forget(std::string_view key);
    std::optional<route::domain::EntryStatus> status(std::string_view key) const;
    bool resolve_now(std::string_view key);

    // resolve() calls by the cache's answer (/metrics: trunkline_dns_lookups_total)
    struct Counters {
        std::uint64_t hits = 0, stale = 0, misses = 0, failures = 0;
    };
    const Counters& counters() const noexcept { return counters_; }

  private:
    void count(route::domain::LookupState st) noexcept;

    sip::uv::Loop& loop_;
    route::domain::DomainCache cache_;
    std::unique_ptr<route::domain::ares::Resolver> resolver_;
    Counters counters_;
    std::set<std::string, std::less<>> used_;  // the keys resolve() has asked for
};

}  // namespace wiring

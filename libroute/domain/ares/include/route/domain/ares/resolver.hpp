// route::domain::ares::Resolver — the c-ares adapter of the domain cache (DESIGN.md §2, §6):
// sends the cache's SendQuery actions with c-ares (raw answers, so SRV/NAPTR keep their
// TTLs), drives c-ares from the libuv loop (socket state callback → uv_poll, one uv_timer
// for min(ares_timeout, cache.next_deadline())), and feeds answers and failures back.
//
//   route::domain::DomainCache cache(cfg, rng);
//   std::string err;
//   auto res = Resolver::create(loop, cache, {.servers = {"127.0.0.1:27053"}}, &err);
//   res->set_observer([&](const route::domain::Action& a) { /* Resume, Resolved */ });
//   cache.add({.name = "sip.carrier.com"}, res->now());
//   res->kick();              // after feeding the cache from outside the resolver's callbacks
//   uv_run(loop, UV_RUN_DEFAULT);
//
// Answers come back with their rcode (ARES_FLAG_NOCHECKRESP), so the cache tells SERVFAIL,
// REFUSED and NXDOMAIN from an unreachable server; a query that got SERVFAIL, REFUSED or no
// answer from one server is sent to the next (one c-ares channel per server, in order).
//
// Lifetimes: `loop` and `cache` outlive the Resolver. Destroying it cancels queries
// (the cache is not told) and closes its handles; run the loop once more so libuv can
// finish closing them. Only this folder includes <ares.h>.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "route/domain/cache.hpp"

namespace route::domain::ares {

struct ResolverConfig {
    // "IP:port" or "[IPv6]:port" (port optional), tried in this order; empty: the servers of
    // /etc/resolv.conf.
    std::vector<std::string> servers;
    std::chrono::milliseconds timeout{2000};  // first try; c-ares doubles it per round
    int tries = 2;                            // per server
};

class Resolver {
  public:
    // nullptr with `*error` set when c-ares cannot be initialised or a server is malformed.
    static std::unique_ptr<Resolver> create(uv_loop_t* loop, DomainCache& cache,
                                            const ResolverConfig& config, std::string* error);
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    // The loop's time as an Instant (uv_now; the only place Instants are made).
    Instant now() const;
    // Sends what the cache queued, forwards its other actions, re-arms the timer. Call after
    // add/lookup/resolve_now/remove done outside the observer.
    void kick();
    // Receives Resume and Resolved actions (called from the loop; may use the cache).
    void set_observer(std::function<void(const Action&)> observer);

    struct Impl;

  private:
    explicit Resolver(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace route::domain::ares

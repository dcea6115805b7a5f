// Test support: an in-memory zone that answers the cache's SendQuery actions with real DNS
// packets (through parse_dns_answer), so policy tests run without a network.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dns_builder.hpp"
#include "route/domain/cache.hpp"

namespace domain_test {

using route::domain::Action;
using route::domain::DomainCache;
using route::domain::QueryFailure;
using route::domain::RrType;
using route::domain::SendQuery;

struct FakeZone {
    struct Addr {
        std::string ip;
        std::uint32_t ttl;
    };
    struct Srv {
        std::uint16_t prio, weight, port;
        std::string target;
        std::uint32_t ttl;
    };
    struct Naptr {
        std::uint16_t order, pref;
        std::string flags, services, replacement;
        std::uint32_t ttl;
    };
    std::map<std::string, std::vector<Addr>> a;
    std::map<std::string, std::vector<Srv>> srv;
    std::map<std::string, std::vector<Naptr>> naptr;
    std::map<std::string, std::pair<std::string, std::uint32_t>> cname;
    std::set<std::string> exists;      // names with no records of their own (NODATA, not NXDOMAIN)
    std::optional<QueryFailure> down;  // every query fails this way
    bool hold = false;                 // queries are kept, never answered
    std::optional<std::uint32_t> soa_minimum = 30;
    std::vector<SendQuery> log;

    bool known(const std::string& n) const {
        return a.count(n) || srv.count(n) || naptr.count(n) || cname.count(n) || exists.count(n);
    }

    std::vector<std::uint8_t> answer(const SendQuery& q) const {
        const bool nx = !known(q.name);
        Packet p(static_cast<std::uint16_t>(q.id), nx ? 3 : 0);
        p.question(q.name, q.type);
        std::string owner = q.name;
        for (int i = 0; i < 8 && cname.count(owner); ++i) {
            const auto& c = cname.at(owner);
            p.cname(owner, c.first, c.second);
            owner = c.first;
        }
        bool any = false;
        if (q.type == RrType::A || q.type == RrType::Aaaa) {
            if (auto it = a.find(owner); it != a.end()) {
                for (const auto& r : it->second) {
                    const bool v6 = r.ip.find(':') != std::string::npos;
                    if (v6 != (q.type == RrType::Aaaa)) continue;
                    p.a(1, owner, r.ip, r.ttl);
                    any = true;
                }
            }
        } else if (q.type == RrType::Srv) {
            if (auto it = srv.find(owner); it != srv.end()) {
                for (const auto& r : it->second)
                    p.srv(owner, r.prio, r.weight, r.port, r.target, r.ttl);
                any = !it->second.empty();
            }
        } else if (q.type == RrType::Naptr) {
            if (auto it = naptr.find(owner); it != naptr.end()) {
                for (const auto& r : it->second) {
                    p.naptr(owner, r.order, r.pref, r.flags, r.services, r.replacement, r.ttl);
                }
                any = !it->second.empty();
            }
        }
        if (!any && soa_minimum) p.soa("test", 3600, *soa_minimum);
        return p.bytes;
    }

    // Drains the cache, answering every query at `now`; returns the other actions.
    std::vector<Action> serve(DomainCache& cache, route::domain::Instant now) {
        std::vector<Action> out;
        std::vector<SendQuery> held;
        for (;;) {
            auto act = cache.poll();
            if (!act) break;
            if (auto* q = std::get_if<SendQuery>(&*act)) {
                log.push_back(*q);
                if (hold) continue;
                if (down) {
                    cache.on_failure(q->id, *down, now);
                } else {
                    auto bytes = answer(*q);
                    cache.on_answer(q->id, bytes, now);
                }
            } else {
                out.push_back(std::move(*act));
            }
        }
        return out;
    }
};

}  // namespace domain_test

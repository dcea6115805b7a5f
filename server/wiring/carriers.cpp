#include "wiring/carriers.hpp"

#include <fmt/format.h>

#include "wiring/log.hpp"

namespace wiring {

using route::reg::sqlite::TrunkReg;

Carriers::Carriers(route::reg::sqlite::Store& store, Dns& dns, sw::Switch& sw,
                   TrunkDefaults defaults)
    : store_(store), dns_(dns), sw_(sw), defaults_(std::move(defaults)) {}

void Carriers::refresh(const std::vector<Routing::Fqdn>& vendors, sip::Instant now) {
    resolve_vendors(vendors, now);
    if (auto s = specs()) sw_.registrations().set_trunks(std::move(*s), now);
    for (const auto& [name, why] : unresolved_)
        if (logged_[name] != why) log_line(fmt::format("trunk-reg {}: waiting: {}", name, why));
    logged_ = unresolved_;  // refresh() runs on every DNS answer: say each reason once
    dns_.kick();
}

// Vendor gateways given by name go where the domain cache says they are now.
void Carriers::resolve_vendors(const std::vector<Routing::Fqdn>& vendors, sip::Instant now) {
    for (const auto& f : vendors) {
        if (!dns_.available()) {
            log_line(fmt::format("vendor {}: no DNS resolver for '{}'", f.gateway, f.name));
            continue;
        }
        auto a = dns_.resolve(f.name, f.port, f.transport);
        if (a.pending) continue;  // on_change calls back
        if (!a.target) {
            log_line(
                fmt::format("vendor {}: '{}' does not resolve: {}", f.gateway, f.name, a.error));
            continue;
        }
        sw_.set_vendor_target(f.gateway, *a.target, now);
    }
}

std::optional<std::vector<sw::TrunkSpec>> Carriers::specs() {
    std::string e;
    auto entries = store_.trunk_regs(&e);
    if (!e.empty()) {
        log_line(fmt::format("trunk-reg: cannot read entries: {}", e));
        return std::nullopt;
    }
    unresolved_.clear();
    std::vector<sw::TrunkSpec> specs;
    for (const auto& r : entries)
        if (r.enabled)
            if (auto s = spec(r)) specs.push_back(std::move(*s));
    return specs;
}

// One enabled entry, with its crash-recovery state; nullopt: unresolved_ says why.
std::optional<sw::TrunkSpec> Carriers::spec(const TrunkReg& r) {
    std::optional<route::domain::Pick> dns;
    auto target = registrar(r, dns);
    if (!target) return std::nullopt;
    std::string why;
    auto s = trunk_spec(r, *target, defaults_, &why);
    if (!s) {
        unresolved_[r.name] = why;
        return std::nullopt;
    }
    s->dns = std::move(dns);
    std::string e;
    if (auto st = store_.trunk_state(r.name, &e); st && !st->persisted.call_id.empty())
        s->previous = st->persisted;
    return s;
}

std::optional<sip::Target> Carriers::registrar(const TrunkReg& r,
                                               std::optional<route::domain::Pick>& dns) {
    if (auto t = literal_registrar(r)) return t;
    if (!dns_.available()) {
        unresolved_[r.name] = "no DNS resolver";
        return std::nullopt;
    }
    auto a = dns_.resolve(r.server, r.port, r.transport);
    dns = a.pick;
    if (a.target) return a.target;
    // No address this round: the entry keeps the registrar it runs with (the last good
    // address; an empty one when it never had one), and sw::Registrations applies the DNS
    // failure policy (sw/registrations.hpp; issue 12 item 7).
    return sw_.registrations().registrar_in_use(r.name, a.pick.key).value_or(sip::Target{});
}

}  // namespace wiring

#include "wiring/reloader.hpp"

#include <fmt/format.h>

#include "wiring/control.hpp"
#include "wiring/log.hpp"
#include "wiring/wall_clock.hpp"

namespace wiring {

Reloader::Reloader(Parts parts) : p_(std::move(parts)), billing_watch_(p_.database) {}

// accounts and rates (the billing book)
bool Reloader::load_book() {
    std::string e;
    // read the version first: a change committed during the load leaves a newer one
    billing_version_ = billing_watch_.read(&e);
    auto book = wiring::load_book(p_.database, &e);
    if (!book) {
        log_line(fmt::format("billing: cannot load accounts and rates: {}", e));
        return false;
    }
    auto rating = wiring::load_rating(p_.database, &e);
    if (!rating) {
        log_line(fmt::format("billing: cannot load the billing settings: {}", e));
        return false;
    }
    auto pricing = wiring::load_volume_pricing(p_.database, &e);
    if (!pricing) {
        log_line(fmt::format("billing: cannot load volume tiers and packages: {}", e));
        return false;
    }
    const std::int64_t wall = wall_ms();
    p_.sw.set_book(std::move(*book), wall);  // vendor rate rises become alerts
    p_.sw.set_rating(std::move(*rating));
    p_.sw.set_volume_pricing(std::move(*pricing));
    p_.sw.review_margins(wall);
    // the change counter read before the load: what a caller waits for after its own commit
    log_line(billing_version_ ? fmt::format("billing: accounts and rates loaded (change {})",
                                            *billing_version_)
                              : std::string("billing: accounts and rates loaded"));
    return true;
}

// customers, vendors and groups
bool Reloader::load_routing(sip::Instant now) {
    std::string e;
    auto r = wiring::load_routing(p_.lcr, &e);
    if (!r) {
        log_line(fmt::format("routing: cannot load gateways: {}", e));
        return false;
    }
    for (const auto& w : r->warnings)
        log_line("routing: " + w);
    const std::size_t nc = r->customers.size(), nv = r->vendors.size();
    if (!p_.sw.set_routing(std::move(r->customers), std::move(r->vendors), std::move(r->groups), &e,
                           now)) {
        log_line(fmt::format("routing: {}", e));
        return false;
    }
    p_.sw.review_margins(wall_ms());  // new gateways or prefixes reach other rates
    routing_versions_ = r->versions;
    fqdn_vendors_ = std::move(r->fqdn_vendors);  // resolved by the next Carriers::refresh
    log_line(fmt::format("routing: {} customers, {} vendor gateways", nc, nv));
    return true;
}

// Remembered before anything is read: a commit from now on moves it again.
bool Reloader::changed() {
    std::string e;
    auto v = p_.reg.data_version(&e);
    if (v && v == data_version_) return false;
    data_version_ = v;  // unreadable (nullopt): every poll looks closer, at the counters' cost
    return true;
}

namespace {

std::optional<std::int64_t> at(const std::map<std::string, std::int64_t>& m, const char* key) {
    if (auto it = m.find(key); it != m.end()) return it->second;
    return std::nullopt;
}

}  // namespace

// The registrar tables' change counters; empty (logged) when unreadable: then the poll reloads
// as if each had moved, which is what it did before the counters existed.
std::map<std::string, std::int64_t> Reloader::reg_versions() {
    std::string e;
    auto v = p_.reg.change_versions(&e);
    if (!e.empty()) log_line(fmt::format("registrar: cannot read the change counters: {}", e));
    return v;
}

void Reloader::load_users() {
    load_users(at(reg_versions(), "sip_user"));
}

// `version` was read before: a change committed during the load leaves a newer one.
void Reloader::load_users(std::optional<std::int64_t> version) {
    users_version_ = version;
    if (p_.users.load()) return;
    users_version_.reset();  // unread: the next poll tries again
    data_version_.reset();
}

void Reloader::poll(sip::Instant now, const CdrWriter& writer,
                    const std::function<void()>& refresh) {
    if (!changed()) return;
    const auto reg = reg_versions();  // once, before the loads
    if (auto v = at(reg, "sip_user"); !v || v != users_version_) load_users(v);
    run_commands(p_.reg, p_.sw, now);
    p_.sw.cdrs_committed(writer.stats().committed_seq);
    std::string e;
    if (billing_watch_.read(&e) != billing_version_) load_book();
    bool carriers = p_.lcr.table_versions(&e) != routing_versions_ && load_routing(now);
    if (auto v = at(reg, "trunk_reg"); !v || v != carriers_version_) {
        carriers_version_ = v;
        carriers = true;
    }
    if (carriers) refresh();  // the entries, and vendors given by name, as the tables say now
}

}  // namespace wiring

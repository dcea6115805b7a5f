#include "wiring/reloader.hpp"

#include <fmt/format.h>

#include "wiring/control.hpp"
#include "wiring/log.hpp"

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
    p_.sw.set_book(std::move(*book));
    p_.sw.set_rating(std::move(*rating));
    log_line("billing: accounts and rates loaded");
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
    routing_versions_ = r->versions;
    fqdn_vendors_ = std::move(r->fqdn_vendors);  // resolved by the next Carriers::refresh
    log_line(fmt::format("routing: {} customers, {} vendor gateways", nc, nv));
    return true;
}

bool Reloader::changed() {
    std::string e;
    auto v = p_.reg.data_version(&e);
    if (!v || v == data_version_) return false;
    data_version_ = v;
    return true;
}

void Reloader::reload(sip::Instant now, const CdrWriter& writer) {
    std::string e;
    p_.users.load();
    run_commands(p_.reg, p_.sw, now);
    p_.sw.cdrs_committed(writer.stats().committed_seq);
    if (billing_watch_.read(&e) != billing_version_) load_book();
    if (p_.lcr.table_versions(&e) != routing_versions_) load_routing(now);
}

void Reloader::poll(sip::Instant now, const CdrWriter& writer,
                    const std::function<void()>& refresh) {
    if (!changed()) return;
    reload(now, writer);
    refresh();
    mark_seen();  // our own writes above don't count
}

void Reloader::mark_seen() {
    std::string e;
    data_version_ = p_.reg.data_version(&e);
}

}  // namespace wiring

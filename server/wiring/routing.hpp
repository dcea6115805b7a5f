// wiring::load_routing — customers, vendor gateways and groups from the SQLite file, in the
// shape sw::Switch::set_routing takes; and the billing book.
//
//   auto r = wiring::load_routing(lcr_store, &err);
//   if (r) sw.set_routing(std::move(r->customers), std::move(r->vendors), std::move(r->groups), &err);
//   for (const auto& w : r->warnings) log(w);     // e.g. a vendor whose host is not usable
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "billing/account.hpp"
#include "billing/sqlite/store.hpp"
#include "route/lcr/sqlite/store.hpp"
#include "sw/switch.hpp"

namespace wiring {

struct Routing {
    std::vector<route::lcr::CustomerSpec> customers;
    std::vector<sw::VendorEntry> vendors;
    std::vector<route::lcr::GroupSpec> groups;
    std::map<std::string, std::int64_t> versions;
    // vendors whose SIP server is a name: resolved through the domain cache by the wiring
    struct Fqdn {
        std::string gateway, name;
        std::uint16_t port = 0;  // 0: RFC 3263 (NAPTR/SRV); given: A/AAAA at this port
        sip::Transport transport = sip::Transport::Udp;
    };
    std::vector<Fqdn> fqdn_vendors;
    std::vector<std::string> warnings;
};

std::optional<Routing> load_routing(route::lcr::sqlite::Store& store, std::string* error);
std::optional<billing::Book> load_book(const std::string& database, std::string* error);
// The rating settings stored with the book (currency, hold-time precision, free time).
std::optional<billing::RatingConfig> load_rating(const std::string& database, std::string* error);
// Volume tiers, packages and their counters (Store::load_volume_pricing), with the book.
std::optional<billing::VolumePricing> load_volume_pricing(const std::string& database, std::string* error);
// billing::sqlite::Store::change_version() on one connection kept open: it moves with every
// operator change to accounts and rates, never with CDRs (so the switch reloads its book
// only when it must).
class BillingVersion {
public:
    explicit BillingVersion(std::string database) : database_(std::move(database)) {}
    std::optional<std::int64_t> read(std::string* error);

private:
    std::string database_;
    std::optional<billing::sqlite::Store> store_;
};

}  // namespace wiring

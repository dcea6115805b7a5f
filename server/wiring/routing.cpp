#include "wiring/routing.hpp"

#include <fmt/format.h>

#include <type_traits>
#include <utility>

#include <cstdlib>

#include "billing/sqlite/store.hpp"
#include "route/domain/dns_message.hpp"

namespace wiring {
namespace {

std::optional<sip::Transport> transport_of(const std::string& t) {
    if (t == "udp" || t.empty()) return sip::Transport::Udp;
    if (t == "tcp") return sip::Transport::Tcp;
    if (t == "tls") return sip::Transport::Tls;
    return std::nullopt;
}

}  // namespace

std::optional<Routing> load_routing(route::lcr::sqlite::Store& store, std::string* error) {
    auto snap = store.load(error);
    if (!snap) return std::nullopt;
    Routing r;
    r.customers = std::move(snap->customers);
    r.groups = std::move(snap->groups);
    r.versions = std::move(snap->versions);
    for (auto& v : snap->vendors) {
        sw::VendorEntry e;
        auto t = transport_of(v.transport);
        if (!t) {
            r.warnings.push_back(fmt::format("vendor {}: unknown transport '{}'", v.spec.name,
                                             v.transport));
            continue;
        }
        e.sip.transport = *t;
        e.sip.port = v.port ? v.port : (*t == sip::Transport::Tls ? 5061 : 5060);
        if (route::domain::IpAddress::parse(v.host)) {
            e.sip.host = v.host;
        } else {
            // a name: the domain cache resolves it; until then the gateway is skipped
            e.sip.fqdn = v.host;
            r.fqdn_vendors.push_back({v.spec.name, v.host, v.port, *t});
        }
        // From/To carry the configured host name; for a gateway given by name, that name
        e.sip.host_name = v.host_name.empty() ? e.sip.fqdn : v.host_name;
        e.sip.vendor_account = v.vendor_account;
        if (!v.outbound_proxy.empty()) {
            std::string host;
            std::uint16_t port = 0;
            const auto colon = v.outbound_proxy.rfind(':');
            host = v.outbound_proxy.substr(0, colon);
            if (colon != std::string::npos && v.outbound_proxy.find(':') == colon)
                port = static_cast<std::uint16_t>(std::atoi(v.outbound_proxy.c_str() + colon + 1));
            else
                host = v.outbound_proxy;
            if (!route::domain::IpAddress::parse(host)) {
                r.warnings.push_back(fmt::format(
                    "vendor {}: outbound proxy '{}' must be IP[:port]", v.spec.name, v.outbound_proxy));
                continue;
            }
            e.sip.proxy = sip::Target{*t, host,
                                      port ? port : std::uint16_t(*t == sip::Transport::Tls ? 5061 : 5060),
                                      0, {}};
        }
        e.sip.probe = v.probe;
        std::string err;
        auto cr = route::lcr::RewriteRules::parse(v.caller_rewrite, &err);
        auto ce = route::lcr::RewriteRules::parse(v.callee_rewrite, &err);
        if (!cr || !ce) {
            r.warnings.push_back(fmt::format("vendor {}: {}", v.spec.name, err));
            continue;
        }
        e.sip.caller_rewrite = std::move(*cr);
        e.sip.callee_rewrite = std::move(*ce);
        e.spec = std::move(v.spec);
        r.vendors.push_back(std::move(e));
    }
    return r;
}

namespace {

// Opens the billing store and reads one thing from it; nullopt with *error on failure.
template <class Read>
auto read_billing(const std::string& database, std::string* error, Read read)
    -> std::optional<std::decay_t<decltype(*read(std::declval<billing::sqlite::Store&>()))>> {
    auto st = billing::sqlite::Store::open(database, billing::sqlite::StoreOptions{});
    if (!st) {
        if (error) *error = st.error().describe();
        return std::nullopt;
    }
    auto got = read(*st);
    if (!got) {
        if (error) *error = got.error().describe();
        return std::nullopt;
    }
    return std::move(*got);
}

}  // namespace

std::optional<billing::Book> load_book(const std::string& database, std::string* error) {
    return read_billing(database, error, [](billing::sqlite::Store& st) { return st.load_book(); });
}

std::optional<billing::VolumePricing> load_volume_pricing(const std::string& database, std::string* error) {
    return read_billing(database, error, [](billing::sqlite::Store& st) { return st.load_volume_pricing(); });
}

std::optional<billing::RatingConfig> load_rating(const std::string& database, std::string* error) {
    return read_billing(database, error, [](billing::sqlite::Store& st) { return st.rating_config(); });
}

std::optional<std::int64_t> BillingVersion::read(std::string* error) {
    if (!store_) {
        auto st = billing::sqlite::Store::open(database_, {});
        if (!st) {
            if (error) *error = st.error().describe();
            return std::nullopt;
        }
        store_.emplace(std::move(*st));
    }
    auto v = store_->change_version();
    if (!v) {
        if (error) *error = v.error().describe();
        return std::nullopt;
    }
    return *v;
}

}  // namespace wiring

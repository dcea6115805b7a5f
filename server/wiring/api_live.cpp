#include "wiring/api_live.hpp"

#include <fmt/format.h>

#include "route/domain/sqlite/store.hpp"
#include "wiring/log.hpp"

namespace wiring {

void ApiLive::load_domains(const std::string& database) {
    if (!dns_.available()) return;  // Dns logged why
    std::string err;
    auto store = route::domain::sqlite::Store::open(database, &err);
    if (!store) {
        log_line(fmt::format("dns: domain entries not loaded: {}", err));
        return;
    }
    auto entries = store->entries(&err);
    if (!err.empty()) {
        log_line(fmt::format("dns: domain entries not loaded: {}", err));
        return;
    }
    std::size_t n = 0;
    for (const auto& e : entries) n += dns_.put(e) ? 1 : 0;
    if (!entries.empty())
        log_line(fmt::format("dns: {} domain entries resolved at start", n));
}

std::optional<route::domain::EntryStatus> ApiLive::domain_status(std::string_view key,
                                                                 sip::Instant) {
    return dns_.status(key);
}

bool ApiLive::resolve_now(std::string_view key, sip::Instant) {
    return dns_.available() && dns_.resolve_now(key);
}

void ApiLive::domain_put(const route::domain::EntrySpec& spec, sip::Instant) {
    if (dns_.available()) dns_.put(spec);
}

void ApiLive::domain_removed(std::string_view key, sip::Instant) {
    if (dns_.available()) dns_.forget(key);
}

std::optional<std::string> ApiLive::carrier_waiting(std::string_view name) {
    const auto& u = carriers_.unresolved();
    if (auto it = u.find(std::string(name)); it != u.end()) return it->second;
    return std::nullopt;
}

}  // namespace wiring

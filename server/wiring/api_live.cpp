#include "wiring/api_live.hpp"

#include <fmt/format.h>

#include "wiring/log.hpp"

namespace wiring {

void ApiLive::load_domains(const std::string& database) {
    if (!dns_.available()) return;  // Dns logged why
    std::string err;
    store_ = route::domain::sqlite::Store::open(database, &err);
    if (!store_) {
        log_line(fmt::format("dns: domain entries not loaded: {}", err));
        return;
    }
    sync_domains();
    if (!loaded_.empty()) log_line(fmt::format("dns: {} domain entries resolved at start", loaded_.size()));
}

// The version is read before the entries: a change committed in between leaves a newer
// version, so the next poll reads the table again (never a lost change).
void ApiLive::sync_domains() {
    if (!store_) return;
    std::string err;
    const auto version = store_->entries_version(&err);
    if (!version || version == version_) return;
    auto entries = store_->entries(&err);
    if (!err.empty()) {
        log_line(fmt::format("dns: domain entries not read: {}", err));
        return;
    }
    std::map<std::string, route::domain::EntrySpec> now;
    for (auto& e : entries) now.emplace(e.name, std::move(e));
    for (const auto& [name, old] : loaded_) {
        auto it = now.find(name);
        if (it == now.end() || route::domain::entry_key(it->second) != route::domain::entry_key(old))
            dns_.forget(route::domain::entry_key(old));
    }
    for (const auto& [name, e] : now) {
        auto it = loaded_.find(name);
        if (it == loaded_.end() || !(it->second == e)) dns_.put(e);
    }
    loaded_ = std::move(now);
    version_ = version;
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

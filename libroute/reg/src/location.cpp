#include "route/reg/location.hpp"

#include <algorithm>
#include <cctype>

#include "sip/headers.hpp"

namespace route::reg {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

std::string Location::contact_key(std::string_view uri) {
    sip::Result<sip::Uri> u = sip::parse_uri(uri);
    if (!u || !u->is_sip()) return std::string(uri);  // other schemes: exact text
    // RFC 3261 §19.1.4: scheme and host compare case-insensitively, user case-sensitively
    // (after unescaping); a transport parameter present in either must match.
    std::string key = lower(u->scheme_name);
    key += ':';
    key += sip::unescape(u->user);
    key += '@';
    key += lower(u->host);
    if (u->has_port) {
        key += ':';
        key += std::to_string(u->port);
    }
    if (auto t = u->param("transport")) {
        key += ";transport=";
        key += lower(*t);
    }
    return key;
}

std::vector<Binding> Location::lookup(std::string_view aor, sip::Instant now) const {
    std::vector<Binding> out;
    auto it = aors_.find(aor);
    if (it == aors_.end()) return out;
    for (const Entry& e : it->second) {
        if (e.binding.expires_at > now) out.push_back(e.binding);  // gone at its instant
    }
    std::stable_sort(out.begin(), out.end(), [](const Binding& a, const Binding& b) {
        if (a.down != b.down) return !a.down;  // down contacts are tried last
        if (a.q_or_default() != b.q_or_default()) return a.q_or_default() > b.q_or_default();
        return a.expires_at > b.expires_at;
    });
    return out;
}

std::optional<Binding> Location::find(std::string_view aor, std::string_view contact,
                                      sip::Instant now) const {
    auto it = aors_.find(aor);
    if (it == aors_.end()) return std::nullopt;
    const std::string key = contact_key(contact);
    for (const Entry& e : it->second) {
        if (e.key == key && e.binding.expires_at > now) return e.binding;
    }
    return std::nullopt;
}

void Location::erase_index(const std::string& aor, const Entry& e) {
    by_expiry_.erase(ExpiryKey{e.binding.expires_at, aor, e.key});
}

bool Location::upsert(std::string_view aor, Binding b) {
    auto it = aors_.find(aor);
    if (it == aors_.end()) it = aors_.emplace(std::string(aor), std::vector<Entry>{}).first;
    std::string key = contact_key(b.contact);
    for (Entry& e : it->second) {
        if (e.key == key) {
            erase_index(it->first, e);
            e.binding = std::move(b);
            e.binding.down = false;  // a fresh REGISTER proves the device is reachable
            by_expiry_.emplace(e.binding.expires_at, it->first, e.key);
            return true;
        }
    }
    if (it->second.size() >= config_.max_bindings_per_aor) {
        if (it->second.empty()) aors_.erase(it);
        return false;
    }
    by_expiry_.emplace(b.expires_at, it->first, key);
    it->second.push_back(Entry{std::move(key), std::move(b)});
    return true;
}

bool Location::set_down(std::string_view aor, std::string_view contact, bool down) {
    auto it = aors_.find(aor);
    if (it == aors_.end()) return false;
    const std::string key = contact_key(contact);
    for (Entry& e : it->second) {
        if (e.key == key) {
            e.binding.down = down;
            return true;
        }
    }
    return false;
}

bool Location::remove(std::string_view aor, std::string_view contact) {
    auto it = aors_.find(aor);
    if (it == aors_.end()) return false;
    const std::string key = contact_key(contact);
    auto& v = it->second;
    for (auto e = v.begin(); e != v.end(); ++e) {
        if (e->key == key) {
            erase_index(it->first, *e);
            v.erase(e);
            if (v.empty()) aors_.erase(it);
            return true;
        }
    }
    return false;
}

std::size_t Location::remove_all(std::string_view aor) {
    auto it = aors_.find(aor);
    if (it == aors_.end()) return 0;
    const std::size_t n = it->second.size();
    for (const Entry& e : it->second)
        erase_index(it->first, e);
    aors_.erase(it);
    return n;
}

std::optional<sip::Instant> Location::next_deadline() const {
    if (by_expiry_.empty()) return std::nullopt;
    return std::get<0>(*by_expiry_.begin());
}

void Location::handle_timeouts(sip::Instant now) {
    while (!by_expiry_.empty() && std::get<0>(*by_expiry_.begin()) <= now) {
        ExpiryKey k = *by_expiry_.begin();
        by_expiry_.erase(by_expiry_.begin());
        auto it = aors_.find(std::get<1>(k));
        if (it == aors_.end()) continue;
        auto& v = it->second;
        auto e = std::find_if(v.begin(), v.end(),
                              [&](const Entry& x) { return x.key == std::get<2>(k); });
        if (e == v.end()) continue;
        events_.push_back(
            LocationEvent{LocationEvent::Kind::Expired, it->first, std::move(e->binding)});
        v.erase(e);
        if (v.empty()) aors_.erase(it);
    }
}

std::optional<LocationEvent> Location::poll() {
    if (events_.empty()) return std::nullopt;
    LocationEvent ev = std::move(events_.front());
    events_.pop_front();
    return ev;
}

Snapshot Location::snapshot(sip::Instant now) const {
    Snapshot out;
    for (const auto& [aor, v] : aors_) {
        for (const Entry& e : v) {
            if (e.binding.expires_at <= now) continue;
            out.push_back(SnapshotBinding{aor, e.binding, e.binding.expires_at - now});
        }
    }
    return out;
}

void Location::restore(const Snapshot& snap, sip::Instant now) {
    aors_.clear();
    by_expiry_.clear();
    for (const SnapshotBinding& s : snap) {
        if (s.remaining <= sip::Duration::zero()) continue;
        Binding b = s.binding;
        b.expires_at = now + s.remaining;
        upsert(s.aor, std::move(b));
    }
}

}  // namespace route::reg

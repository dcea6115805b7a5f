#include "sw/binding_writes.hpp"

#include <string>

#include "sip/random.hpp"

namespace sw {

std::uint64_t BindingWrites::key(std::string_view aor, std::string_view contact) {
    sip::Fnv1a f;
    f.bytes(aor);
    f.bytes(contact);
    return f.value();
}

std::uint64_t BindingWrites::fingerprint(const route::reg::Binding& b) {
    sip::Fnv1a f;
    f.bytes(b.contact);
    f.number(b.q ? *b.q + 1u : 0u);
    f.number(b.path.size());
    for (const std::string& p : b.path) f.bytes(p);
    f.number(static_cast<std::uint64_t>(b.source.transport));
    f.bytes(b.source.host);
    f.number(b.source.port);
    f.bytes(b.source.tls_name);
    f.bytes(b.instance);
    f.number(b.reg_id ? *b.reg_id + 1ull : 0u);
    f.number(b.down ? 1u : 0u);
    return f.value();
}

bool BindingWrites::should_write(std::string_view aor, const route::reg::Binding& b,
                                 sip::Instant now) {
    const std::uint64_t fp = fingerprint(b);
    auto [it, fresh] = rows_.try_emplace(key(aor, b.contact), Row{b.expires_at, fp});
    Row& row = it->second;
    const bool write = fresh || row.fingerprint != fp || b.expires_at < row.expires_at ||
                       b.expires_at - row.expires_at > (b.expires_at - now) / 4;
    if (!write) {
        ++coalesced_;
        return false;
    }
    row = Row{b.expires_at, fp};
    ++written_;
    return true;
}

void BindingWrites::record(std::string_view aor, const route::reg::Binding& b) {
    rows_.insert_or_assign(key(aor, b.contact), Row{b.expires_at, fingerprint(b)});
}

void BindingWrites::retain(const route::reg::Snapshot& live) {
    std::unordered_map<std::uint64_t, Row> kept;
    kept.reserve(live.size());
    for (const route::reg::SnapshotBinding& sb : live)
        if (auto it = rows_.find(key(sb.aor, sb.binding.contact)); it != rows_.end())
            kept.insert(*it);
    rows_.swap(kept);
}

void BindingWrites::forget(std::string_view aor, std::string_view contact) {
    rows_.erase(key(aor, contact));
}

bool BindingWrites::lagging(std::string_view aor, const route::reg::Binding& b) const {
    auto it = rows_.find(key(aor, b.contact));
    return it == rows_.end() || it->second.expires_at != b.expires_at;
}

}  // namespace sw

#include "wiring/dns.hpp"

#include <fmt/format.h>

#include "route/domain/ares/resolver.hpp"
#include "wiring/log.hpp"

namespace wiring {

Dns::Dns(sip::uv::Loop& loop, sip::Random& rng, const std::vector<std::string>& servers,
         std::function<void()> on_change)
    : loop_(loop), cache_({}, rng) {
    route::domain::ares::ResolverConfig cfg;
    cfg.servers = servers;
    std::string err;
    resolver_ = route::domain::ares::Resolver::create(loop.native(), cache_, cfg, &err);
    if (!resolver_) {
        log_line(fmt::format("dns: {} (carrier FQDNs will not resolve)", err));
        return;
    }
    resolver_->set_observer(
        [this, on_change = std::move(on_change)](const route::domain::Action& a) {
            // serve-stale, failures and recoveries are visible (issue 12 item 7)
            if (auto* r = std::get_if<route::domain::Resolved>(&a))
                if (auto line = route::domain::transition_text(*r, cache_, loop_.now()))
                    log_line(*line);
            // a first resolution ended, or an address changed
            if (std::holds_alternative<route::domain::Resume>(a) ||
                std::holds_alternative<route::domain::Resolved>(a))
                on_change();
        });
}

Dns::~Dns() = default;

void Dns::count(route::domain::LookupState st) noexcept {
    using S = route::domain::LookupState;
    switch (st) {
        case S::Ready: ++counters_.hits; break;
        case S::Stale: ++counters_.stale; break;
        case S::Pending: ++counters_.misses; break;
        default: ++counters_.failures; break;
    }
}

Dns::Answer Dns::resolve(const std::string& name, std::uint16_t port, sip::Transport transport) {
    route::domain::EntrySpec es;
    es.name = name;
    if (port) {
        es.port = port;
        es.transport = transport;
    }
    Answer a;
    a.pick = cache_.pick(es, loop_.now(), 1);  // its own entry (issue 12 item 4)
    used_.insert(a.pick.key);
    a.pending = a.pick.state == route::domain::LookupState::Pending;
    count(a.pick.state);
    if (const auto& t = a.pick.target)
        a.target = sip::Target{t->transport, t->address.to_string(), t->port, 0,
                               t->transport == sip::Transport::Tls ? name : std::string()};
    else if (!a.pending)
        a.error = std::string(route::domain::error_kind_name(a.pick.error));
    return a;
}

void Dns::kick() {
    if (resolver_) resolver_->kick();
}

bool Dns::put(const route::domain::EntrySpec& spec) {
    if (!cache_.add(spec, loop_.now())) return false;
    kick();
    return true;
}

void Dns::forget(std::string_view key) {
    if (used_.find(key) == used_.end()) {
        cache_.remove(key);
        return;
    }
    // a carrier or vendor resolves this key: keep the entry, without the operator's settings
    if (auto spec = route::domain::parse_entry_key(key)) put(*spec);
}

std::optional<route::domain::EntryStatus> Dns::status(std::string_view key) const {
    return cache_.status(key, loop_.now());
}

bool Dns::resolve_now(std::string_view key) {
    if (!resolver_ || !cache_.resolve_now(key, loop_.now())) return false;
    kick();
    return true;
}

void Dns::close() {
    resolver_.reset();
}

}  // namespace wiring

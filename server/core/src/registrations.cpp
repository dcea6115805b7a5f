#include "sw/registrations.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sw {

using route::reg::RegistrarEvent;

Registrations::Registrations(RegistrationsConfig cfg, Element& element,
                             route::reg::Authenticator* auth, const sip::auth::Hasher& hasher,
                             sip::Random& rng)
    : element_(element),
      hasher_(hasher),
      rng_(rng),
      location_(cfg.location),
      registrar_(cfg.registrar, location_, auth),
      log_bindings_(cfg.log_bindings) {
    if (cfg.keepalive) keepalive_.emplace(*cfg.keepalive, location_, rng_);
    element_.set_registrar(&registrar_);
}

Registrations::~Registrations() {
    element_.set_registrar(nullptr);
}

void Registrations::restore(const route::reg::Snapshot& snap, sip::Instant now) {
    location_.restore(snap, now);
    if (keepalive_)
        for (const auto& sb : snap)
            keepalive_->track(sb.aor, sb.binding.contact, now);
    logs_.push_back(fmt::format("registrar: {} bindings of {} AORs restored",
                                location_.binding_count(), location_.aor_count()));
}

// --- carrier registrations

void Registrations::start_trunk(TrunkSpec spec, sip::Instant now) {
    Trunk t;
    t.name = spec.name;
    t.fingerprint = spec.fingerprint;
    t.client = std::make_unique<route::reg::RegClient>(std::move(spec.config), hasher_, rng_);
    t.client->start(now, std::move(spec.previous));
    auto [it, ok] = trunks_.insert_or_assign(t.name, std::move(t));
    drain_trunk(it->second, now);
}

void Registrations::set_trunks(std::vector<TrunkSpec> specs, sip::Instant now) {
    if (stopping_) return;
    std::map<std::string, TrunkSpec> wanted;
    for (TrunkSpec& s : specs)
        wanted.emplace(s.name, std::move(s));
    // removed or changed: unregister, and forget (removed) or restart (changed) afterwards
    for (auto it = trunks_.begin(); it != trunks_.end();) {
        auto w = wanted.find(it->first);
        if (w != wanted.end() && w->second.fingerprint == it->second.fingerprint) {
            wanted.erase(w);
            ++it;
            continue;
        }
        Trunk t = std::move(it->second);
        it = trunks_.erase(it);
        t.removing = true;
        logs_.push_back(fmt::format("trunk-reg {}: {}", t.name,
                                    w == wanted.end() ? "removed: unregistering"
                                                      : "changed: unregistering the old binding"));
        if (w != wanted.end()) {
            w->second.previous.reset();  // the new registration gets a fresh Call-ID
            waiting_.insert_or_assign(w->first, std::move(w->second));
            wanted.erase(w);
        }
        t.client->stop(now);
        retiring_.push_back(std::move(t));
        drain_trunk(retiring_.back(), now);
    }
    for (auto& [name, spec] : wanted) {
        const bool busy = std::any_of(retiring_.begin(), retiring_.end(),
                                      [&n = name](const Trunk& r) { return r.name == n; });
        if (busy)
            waiting_.insert_or_assign(name, std::move(spec));
        else
            start_trunk(std::move(spec), now);
    }
    finish_retired(now);
}

void Registrations::drain_trunk(Trunk& t, sip::Instant now) {
    bool changed = false;
    while (auto a = t.client->poll()) {
        changed = true;
        if (auto* s = std::get_if<route::reg::SendRequest>(&*a)) {
            auto id = element_.send_request(*s->bytes, s->target, now);
            if (!id) {
                // our own request failed to parse: a configuration the client let through
                logs_.push_back(
                    fmt::format("trunk-reg {}: request not sent: {}", t.name, id.error().what()));
                t.txn = 0;
                t.client->on_transport_error(now);
                continue;
            }
            t.txn = *id;
        } else if (auto* c = std::get_if<route::reg::StateChanged>(&*a)) {
            const route::reg::Status& st = t.client->status();
            std::string granted;
            if (c->state == route::reg::State::registered && st.granted)
                granted = fmt::format(" (granted {} s)", st.granted->count());
            logs_.push_back(fmt::format("trunk-reg {}: {}{}{}{}", t.name,
                                        route::reg::state_name(c->state),
                                        c->reason.empty() ? "" : ": ", c->reason, granted));
        }
    }
    if (changed) {
        TrunkStateSaved op{t.name, t.client->status(), t.client->persisted(), t.client->done()};
        store_.push_back(std::move(op));
    }
}

void Registrations::finish_retired(sip::Instant now) {
    for (auto it = retiring_.begin(); it != retiring_.end();) {
        if (!it->client->done()) {
            ++it;
            continue;
        }
        const std::string name = it->name;
        it = retiring_.erase(it);
        auto w = waiting_.find(name);
        if (w != waiting_.end() && !stopping_) {
            TrunkSpec spec = std::move(w->second);
            waiting_.erase(w);
            start_trunk(std::move(spec), now);
        } else if (!stopping_) {
            store_.push_back(TrunkForgotten{name});
        }
    }
}

void Registrations::on_client_event(const ClientEvent& e, sip::Instant now) {
    if (e.kind == ClientEvent::Kind::Provisional) return;
    if (keepalive_) {
        auto k = keepalive_txns_.find(e.txn);
        if (k != keepalive_txns_.end()) {
            const std::string& key = k->second;
            const auto nl = key.find('\n');
            keepalive_->on_options_result(key.substr(0, nl), key.substr(nl + 1),
                                          e.kind == ClientEvent::Kind::Response, now);
            keepalive_txns_.erase(k);
            drain_keepalive(now);
            return;
        }
    }
    auto deliver = [&](Trunk& t) {
        if (t.txn != e.txn) return false;
        t.txn = 0;
        switch (e.kind) {
            case ClientEvent::Kind::Response:
                t.client->on_response(*e.response, now);
                break;
            case ClientEvent::Kind::Timeout:
                t.client->on_timeout(now);
                break;
            case ClientEvent::Kind::TransportError:
                t.client->on_transport_error(now);
                break;
            case ClientEvent::Kind::Provisional:  // never asked for: REGISTER has no 1xx use
                break;
        }
        drain_trunk(t, now);
        return true;
    };
    for (auto& [name, t] : trunks_)
        if (deliver(t)) return;
    for (Trunk& t : retiring_)
        if (deliver(t)) {
            finish_retired(now);
            return;
        }
}

// --- registrar, location and keep-alive events

void Registrations::save_binding(const std::string& aor, const std::string& contact,
                                 sip::Instant now) {
    if (auto b = location_.find(aor, contact, now)) store_.push_back(BindingSaved{aor, *b});
}

void Registrations::drain_registrar(sip::Instant now) {
    while (auto ev = registrar_.poll()) {
        switch (ev->kind) {
            case RegistrarEvent::Kind::Added:
            case RegistrarEvent::Kind::Refreshed:
                save_binding(ev->aor, ev->contact, now);
                if (keepalive_) keepalive_->track(ev->aor, ev->contact, now);
                if (log_bindings_ && ev->kind == RegistrarEvent::Kind::Added)
                    logs_.push_back(fmt::format("registrar: {} bound {} (from {}:{})", ev->aor,
                                                ev->contact, ev->source.host, ev->source.port));
                break;
            case RegistrarEvent::Kind::Removed:
            case RegistrarEvent::Kind::Replaced:
                store_.push_back(BindingDeleted{ev->aor, ev->contact});
                if (keepalive_) keepalive_->untrack(ev->aor, ev->contact);
                if (log_bindings_ || ev->kind == RegistrarEvent::Kind::Replaced)
                    logs_.push_back(fmt::format("registrar: {} {} {}", ev->aor,
                                                ev->kind == RegistrarEvent::Kind::Removed
                                                    ? "unbound"
                                                    : "replaced (another device registered):",
                                                ev->contact));
                break;
            case RegistrarEvent::Kind::AuthFailed:
                if (log_bindings_)
                    logs_.push_back(
                        fmt::format("registrar: authentication failed for user '{}' from {}",
                                    ev->key, ev->source.host));
                break;
            case RegistrarEvent::Kind::Suspended: {
                for (const auto& s : registrar_.list_suspensions(now))
                    if (s.key == ev->key && s.ip == ev->ip) store_.push_back(SuspensionSaved{s});
                logs_.push_back(fmt::format(
                    "registrar: {} '{}' suspended after {} failed "
                    "authentications",
                    ev->ip ? "IP" : "user", ev->key, registrar_.config().register_retry));
                break;
            }
            case RegistrarEvent::Kind::SuspensionEnded:
                store_.push_back(SuspensionCleared{ev->key, ev->ip});
                logs_.push_back(fmt::format("registrar: suspension of {} '{}' ended",
                                            ev->ip ? "IP" : "user", ev->key));
                break;
        }
    }
}

void Registrations::drain_location() {
    while (auto ev = location_.poll()) {
        store_.push_back(BindingDeleted{ev->aor, ev->binding.contact});
        if (keepalive_) keepalive_->untrack(ev->aor, ev->binding.contact);
        if (log_bindings_)
            logs_.push_back(
                fmt::format("registrar: {} binding {} expired", ev->aor, ev->binding.contact));
    }
}

void Registrations::drain_keepalive(sip::Instant now) {
    if (!keepalive_) return;
    while (auto a = keepalive_->poll()) {
        if (auto* c = std::get_if<route::reg::SendCrlf>(&*a)) {
            element_.send_raw(route::reg::Keepalive::kCrlfPing, c->target);
        } else if (auto* o = std::get_if<route::reg::SendOptions>(&*a)) {
            auto id = element_.send_request(*o->bytes, o->target, now);
            if (id)
                keepalive_txns_[*id] = o->aor + '\n' + o->contact;
            else
                keepalive_->on_options_result(o->aor, o->contact, false, now);
        } else if (auto* e = std::get_if<route::reg::KeepaliveEvent>(&*a)) {
            const bool down = e->kind == route::reg::KeepaliveEvent::Kind::Down;
            logs_.push_back(fmt::format("keep-alive: {} contact {} (via {}:{}) {}", e->aor,
                                        e->contact, e->source.host, e->source.port,
                                        down ? "is down: no answer to OPTIONS" : "answers again"));
            save_binding(e->aor, e->contact, now);
        }
    }
}

void Registrations::pump(sip::Instant now) {
    drain_registrar(now);
    drain_location();
    drain_keepalive(now);
}

std::size_t Registrations::lift(std::string_view key, sip::Instant now) {
    auto before = registrar_.list_suspensions(now);
    const std::size_t n = registrar_.lift(key);
    for (const auto& s : before)
        if (s.key == key) store_.push_back(SuspensionCleared{s.key, s.ip});
    logs_.push_back(fmt::format("registrar: operator lifted '{}' ({} suspension{})", key, n,
                                n == 1 ? "" : "s"));
    return n;
}

// --- time

std::optional<sip::Instant> Registrations::next_deadline() const {
    std::optional<sip::Instant> d;
    auto take = [&](std::optional<sip::Instant> x) {
        if (x && (!d || *x < *d)) d = x;
    };
    take(registrar_.next_deadline());
    take(location_.next_deadline());
    if (keepalive_) take(keepalive_->next_deadline());
    for (const auto& [name, t] : trunks_)
        take(t.client->next_deadline());
    for (const Trunk& t : retiring_)
        take(t.client->next_deadline());
    return d;
}

void Registrations::handle_timeouts(sip::Instant now) {
    registrar_.handle_timeouts(now);
    location_.handle_timeouts(now);
    if (keepalive_) keepalive_->handle_timeouts(now);
    for (auto& [name, t] : trunks_) {
        t.client->handle_timeouts(now);
        drain_trunk(t, now);
    }
    for (Trunk& t : retiring_) {
        t.client->handle_timeouts(now);
        drain_trunk(t, now);
    }
    finish_retired(now);
    pump(now);
}

void Registrations::stop_all(sip::Instant now) {
    if (stopping_) return;
    stopping_ = true;
    waiting_.clear();
    for (auto& [name, t] : trunks_) {
        t.client->stop(now);
        drain_trunk(t, now);
    }
    finish_retired(now);
}

bool Registrations::stopped() const {
    if (!stopping_) return false;
    for (const auto& [name, t] : trunks_)
        if (!t.client->done()) return false;
    for (const Trunk& t : retiring_)
        if (!t.client->done()) return false;
    return true;
}

std::optional<sip::Instant> Registrations::stop_deadline() const {
    std::optional<sip::Instant> d;
    for (const auto& [name, t] : trunks_)
        if (auto x = t.client->stop_deadline(); x && (!d || *x > *d)) d = x;
    for (const Trunk& t : retiring_)
        if (auto x = t.client->stop_deadline(); x && (!d || *x > *d)) d = x;
    return d;
}

std::optional<StoreOp> Registrations::poll_store() {
    if (store_.empty()) return std::nullopt;
    StoreOp op = std::move(store_.front());
    store_.pop_front();
    return op;
}

std::optional<std::string> Registrations::poll_log() {
    if (logs_.empty()) return std::nullopt;
    std::string s = std::move(logs_.front());
    logs_.pop_front();
    return s;
}

const route::reg::Status* Registrations::status(std::string_view name) const {
    auto it = trunks_.find(name);
    return it == trunks_.end() ? nullptr : &it->second.client->status();
}

}  // namespace sw

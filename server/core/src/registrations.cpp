#include "sw/registrations.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sw {

using route::reg::RegistrarEvent;

namespace {

// "192.0.2.10:5060/UDP", "[2001:db8::1]:5061/TLS"; empty when there is no address.
std::string target_text(const sip::Target& t) {
    if (t.host.empty()) return {};
    const std::string h = t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host;
    return h + ":" + std::to_string(t.port) + "/" + std::string(sip::transport_name(t.transport));
}

// A host-name registrar whose answer gave no address this round (and no last good one).
bool no_address(const TrunkSpec& s) {
    return s.dns && s.config.registrar.host.empty();
}

TrunkDnsState dns_view(const std::optional<route::domain::Pick>& p) {
    TrunkDnsState d;
    if (!p) return d;
    d.name = p->key;
    switch (p->state) {
        case route::domain::LookupState::Ready:
            d.state = "ok";
            break;
        case route::domain::LookupState::Stale:
            d.state = "stale";
            d.until = p->stale_until;
            break;
        case route::domain::LookupState::Pending:
            d.state = "resolving";
            break;
        case route::domain::LookupState::Failed:
            d.state = "failed";
            break;
    }
    if (p->state == route::domain::LookupState::Stale ||
        p->state == route::domain::LookupState::Failed) {
        d.error = std::string(route::domain::error_kind_name(p->error));
        if (!p->detail.empty()) d.error += " (" + p->detail + ")";
        d.since = p->failing_since;
    }
    return d;
}

// The error without its detail: a retry that fails the same way is no news.
std::string_view error_kind_of(std::string_view e) {
    return e.substr(0, e.find(" ("));
}

// "resolving carrier.test", "carrier.test: NXDOMAIN (...)"
std::string dns_wait_text(const TrunkDnsState& d) {
    return d.state == "resolving" ? "resolving " + d.name : d.name + ": " + d.error;
}

// "user 'alice'", "IP '192.0.2.7'", "user 'alice' at IP '192.0.2.7'"
std::string describe(const route::reg::Suspension& s) {
    using Kind = route::reg::Suspension::Kind;
    switch (s.kind) {
        case Kind::User: return fmt::format("user '{}'", s.key);
        case Kind::Address: return fmt::format("IP '{}'", s.key);
        case Kind::UserAtAddress: return fmt::format("user '{}' at IP '{}'", s.key, s.peer);
    }
    return {};
}

std::string suspension_started(const route::reg::Suspension& s, std::uint32_t retry) {
    using Kind = route::reg::Suspension::Kind;
    std::string line = fmt::format("registrar: {} suspended after {} failed authentications",
                                   describe(s), retry);
    if (s.kind != Kind::UserAtAddress && !s.peer.empty())
        line += fmt::format(" (the last from {} '{}')", s.ip() ? "user" : "IP", s.peer);
    return line;
}

std::string seconds_text(sip::Duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

}  // namespace

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
    writes_.clear();
    for (const auto& sb : snap) {  // the rows as read: nothing to write for them yet
        route::reg::Binding b = sb.binding;
        b.expires_at = now + sb.remaining;
        writes_.record(sb.aor, b);
    }
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
    t.dns = dns_view(spec.dns);
    t.dns_key = spec.dns ? spec.dns->key : std::string();
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
    // entries that had no address: gone, still without one, or ready to start (below)
    for (auto it = unresolved_.begin(); it != unresolved_.end();) {
        auto w = wanted.find(it->first);
        if (w == wanted.end()) {
            logs_.push_back(
                fmt::format("trunk-reg {}: removed (it never had an address)", it->first));
            store_.push_back(TrunkForgotten{it->first});
            it = unresolved_.erase(it);
        } else if (no_address(w->second)) {
            TrunkSpec spec = std::move(w->second);
            wanted.erase(w);
            ++it;
            wait_for_dns(std::move(spec), now);  // updates its own element only
        } else {
            it = unresolved_.erase(it);
        }
    }
    // removed or changed: unregister, and forget (removed) or restart (changed) afterwards
    for (auto it = trunks_.begin(); it != trunks_.end();) {
        auto w = wanted.find(it->first);
        if (w != wanted.end()) {
            const TrunkSpec& spec = w->second;
            // No address this round (DNS failure): the running client keeps its registrar,
            // the last good address, and keeps refreshing there (issue 12 item 7).
            const bool keep = no_address(spec) ||
                              (spec.fingerprint == it->second.fingerprint &&
                               spec.config.registrar == it->second.client->config().registrar);
            if (keep) {
                note_dns(it->second, spec.dns, now);
                wanted.erase(w);
                ++it;
                continue;
            }
        }
        Trunk t = std::move(it->second);
        it = trunks_.erase(it);
        t.removing = true;
        std::string why = "removed: unregistering";
        if (w != wanted.end()) {
            const sip::Target& from = t.client->config().registrar;
            const sip::Target& to = w->second.config.registrar;
            why = w->second.dns && !(from == to)
                      ? fmt::format(
                            "registrar moved (DNS for {}): {} now, was {}: unregistering "
                            "the old binding there",
                            w->second.dns->key, target_text(to), target_text(from))
                      : "changed: unregistering the old binding";
        }
        logs_.push_back(fmt::format("trunk-reg {}: {}", t.name, why));
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
        if (no_address(spec)) {
            waiting_.erase(name);
            wait_for_dns(std::move(spec), now);
            continue;
        }
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
    if (changed) save_trunk(t);
}

void Registrations::save_trunk(const Trunk& t) {
    store_.push_back(TrunkStateSaved{t.name, t.client->status(), t.client->persisted(),
                                     t.client->clean_stop(),
                                     target_text(t.client->config().registrar), t.dns});
}

void Registrations::note_dns(Trunk& t, const std::optional<route::domain::Pick>& dns,
                             sip::Instant now) {
    TrunkDnsState d = dns_view(dns);
    if (d == t.dns) return;
    const bool news =
        d.state != t.dns.state || error_kind_of(d.error) != error_kind_of(t.dns.error);
    const std::string before = t.dns.state;
    t.dns = std::move(d);
    save_trunk(t);
    if (!news || t.dns.name.empty()) return;
    const std::string at = target_text(t.client->config().registrar);
    if (t.dns.state == "ok") {
        if (!before.empty() && before != "ok")
            logs_.push_back(fmt::format("trunk-reg {}: DNS for {} answers again; registrar {}",
                                        t.name, t.dns.name, at));
    } else if (t.dns.state == "stale") {
        logs_.push_back(fmt::format(
            "trunk-reg {}: DNS for {} fails ({}): registering at {} from the last answer, past "
            "its TTL (stale){}",
            t.name, t.dns.name, t.dns.error, at,
            t.dns.until && *t.dns.until > now
                ? " for at most " + seconds_text(*t.dns.until - now) + " more"
                : std::string()));
    } else {
        logs_.push_back(fmt::format(
            "trunk-reg {}: DNS for {} fails ({}): the registration stays at {}, the last good "
            "address, and is refreshed there; it is unregistered only when the entry is "
            "removed or trunkline stops",
            t.name, t.dns.name, t.dns.error.empty() ? t.dns.state : t.dns.error, at));
    }
}

void Registrations::wait_for_dns(TrunkSpec spec, sip::Instant /*now*/) {
    TrunkDnsState d = dns_view(spec.dns);
    auto [it, fresh] = unresolved_.try_emplace(spec.name);
    Unresolved& u = it->second;
    const bool news =
        fresh || d.state != u.dns.state || error_kind_of(d.error) != error_kind_of(u.dns.error);
    const bool changed = fresh || !(d == u.dns);
    const std::string why = dns_wait_text(d);
    u.status = route::reg::Status{};
    u.status.state = route::reg::State::idle;
    u.status.reason = "waiting for DNS: " + why + " (nothing is sent until it resolves)";
    u.dns = std::move(d);
    u.spec = std::move(spec);
    if (changed)
        store_.push_back(TrunkStateSaved{u.spec.name, u.status,
                                         u.spec.previous.value_or(route::reg::Persisted{}), false,
                                         std::string(), u.dns});
    if (news) logs_.push_back(fmt::format("trunk-reg {}: {}", u.spec.name, u.status.reason));
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
    auto b = location_.find(aor, contact, now);
    if (!b || !writes_.should_write(aor, *b, now)) return;
    store_.push_back(BindingSaved{aor, std::move(*b)});
    // records of bindings that left without an event naming their stored contact text
    if (writes_.size() > 2 * location_.binding_count() + 1024) writes_.retain(location_.snapshot(now));
}

void Registrations::persist_coalesced(sip::Instant now) {
    for (route::reg::SnapshotBinding& sb : location_.snapshot(now)) {
        sb.binding.expires_at = now + sb.remaining;
        if (!writes_.lagging(sb.aor, sb.binding)) continue;
        writes_.record(sb.aor, sb.binding);
        store_.push_back(BindingSaved{sb.aor, std::move(sb.binding)});
    }
}

void Registrations::forget_binding(const std::string& aor, const std::string& contact) {
    writes_.forget(aor, contact);
    store_.push_back(BindingDeleted{aor, contact});
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
                forget_binding(ev->aor, ev->contact);
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
            case RegistrarEvent::Kind::Suspended:
                store_.push_back(SuspensionSaved{*ev->suspension});
                suspension_logs_.push_back(
                    suspension_started(*ev->suspension, registrar_.config().register_retry));
                break;
            case RegistrarEvent::Kind::SuspensionEnded:
                store_.push_back(SuspensionCleared{*ev->suspension});
                suspension_logs_.push_back(fmt::format("registrar: suspension of {} ended",
                                            describe(*ev->suspension)));
                break;
        }
    }
}

void Registrations::drain_location() {
    while (auto ev = location_.poll()) {
        forget_binding(ev->aor, ev->binding.contact);
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

void Registrations::remove_binding(const std::string& aor, const std::string& contact) {
    if (!location_.remove(aor, contact)) return;
    forget_binding(aor, contact);
    if (keepalive_) keepalive_->untrack(aor, contact);
}

std::size_t Registrations::unbind(std::string_view aor_text, std::string_view contact,
                                  sip::Instant now) {
    const auto aor = route::reg::Registrar::canonical_aor(aor_text);
    if (!aor) return 0;
    std::size_t n = 0;
    for (const route::reg::Binding& b : location_.lookup(*aor, now)) {
        if (!contact.empty() && route::reg::Location::contact_key(b.contact) !=
                                    route::reg::Location::contact_key(contact))
            continue;
        remove_binding(*aor, b.contact);
        ++n;
    }
    return n;
}

std::size_t Registrations::unbind_user(std::string_view user, sip::Instant now) {
    std::size_t n = 0;
    for (const route::reg::SnapshotBinding& sb : location_.snapshot(now)) {
        // canonical AORs: "sip:" / "sips:" + unescaped user + "@" + host
        const auto colon = sb.aor.find(':');
        const auto at = sb.aor.rfind('@');
        if (colon == std::string::npos || at == std::string::npos || at < colon) continue;
        if (std::string_view(sb.aor).substr(colon + 1, at - colon - 1) != user) continue;
        remove_binding(sb.aor, sb.binding.contact);
        ++n;
    }
    return n;
}

std::optional<std::string> Registrations::command(std::string_view kind, std::string_view arg,
                                                  sip::Instant now) {
    if (kind == "unbind") {
        const auto sp = arg.find(' ');
        const std::string_view aor = arg.substr(0, sp);
        const std::string_view contact =
            sp == std::string_view::npos ? std::string_view() : arg.substr(sp + 1);
        const std::size_t n = unbind(aor, contact, now);
        return fmt::format("registrar: operator removed {} binding{} of {}{}", n, n == 1 ? "" : "s",
                           aor,
                           contact.empty() ? std::string() : " (" + std::string(contact) + ")");
    }
    if (kind == "unbind-user") {
        const std::size_t n = unbind_user(arg, now);
        return fmt::format("registrar: operator removed {} binding{} of user '{}'", n,
                           n == 1 ? "" : "s", arg);
    }
    return std::nullopt;
}

std::size_t Registrations::lift(std::string_view key, sip::Instant /*now*/) {
    const std::vector<route::reg::Suspension> lifted = registrar_.lift(key);
    for (const auto& s : lifted) store_.push_back(SuspensionCleared{s});
    suspension_logs_.push_back(fmt::format("registrar: operator lifted '{}' ({} suspension{})",
                                key, lifted.size(), lifted.size() == 1 ? "" : "s"));
    return lifted.size();
}

void Registrations::restore_suspensions(const std::vector<route::reg::Suspension>& saved,
                                        sip::Instant now) {
    for (const auto& s : saved) registrar_.restore_suspension(s, now);
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
    for (auto& [name, u] : unresolved_) {
        u.status.state = route::reg::State::stopped;
        u.status.reason = "stopped: never registered (waiting for DNS: " + dns_wait_text(u.dns) +
                          "), nothing to unregister";
        store_.push_back(TrunkStateSaved{name, u.status,
                                         u.spec.previous.value_or(route::reg::Persisted{}), true,
                                         std::string(), u.dns});
    }
    unresolved_.clear();
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
    auto e = poll_log_entry();
    if (!e) return std::nullopt;
    return std::move(e->text);
}

std::optional<LogEntry> Registrations::poll_log_entry() {
    for (auto [kind, queue] : {std::pair{LogKind::suspension, &suspension_logs_},
                               std::pair{LogKind::registration, &logs_}}) {
        if (queue->empty()) continue;
        LogEntry e{kind, std::move(queue->front()), {}};
        queue->pop_front();
        return e;
    }
    return std::nullopt;
}

Registrations::RegisterNow Registrations::register_now(std::string_view name, sip::Instant now) {
    if (stopping_) return RegisterNow::busy;
    if (unresolved_.find(name) != unresolved_.end()) return RegisterNow::waiting;
    if (waiting_.find(std::string(name)) != waiting_.end()) return RegisterNow::busy;
    auto it = trunks_.find(name);
    if (it == trunks_.end()) return RegisterNow::unknown;
    if (!it->second.client->refresh_now(now)) return RegisterNow::busy;
    logs_.push_back(fmt::format("trunk-reg {}: re-registering now (operator)", it->second.name));
    drain_trunk(it->second, now);
    return RegisterNow::sent;
}

const route::reg::Status* Registrations::status(std::string_view name) const {
    if (auto it = trunks_.find(name); it != trunks_.end()) return &it->second.client->status();
    if (auto u = unresolved_.find(name); u != unresolved_.end()) return &u->second.status;
    return nullptr;
}

std::optional<sip::Target> Registrations::registrar_in_use(std::string_view name,
                                                           std::string_view dns_key) const {
    if (auto it = trunks_.find(name); it != trunks_.end()) {
        if (!dns_key.empty() && it->second.dns_key != dns_key) return std::nullopt;
        return it->second.client->config().registrar;
    }
    if (auto w = waiting_.find(std::string(name)); w != waiting_.end()) {
        if (!dns_key.empty() && (!w->second.dns || w->second.dns->key != dns_key))
            return std::nullopt;
        return w->second.config.registrar;
    }
    return std::nullopt;
}

const TrunkDnsState* Registrations::dns_state(std::string_view name) const {
    if (auto it = trunks_.find(name); it != trunks_.end()) return &it->second.dns;
    if (auto u = unresolved_.find(name); u != unresolved_.end()) return &u->second.dns;
    return nullptr;
}

}  // namespace sw

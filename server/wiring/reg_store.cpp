#include "wiring/reg_store.hpp"

#include <fmt/format.h>

#include "wiring/log.hpp"

namespace wiring {

namespace sq = route::reg::sqlite;

RegStore::RegStore(sq::Store& store, sip::uv::Loop& loop, std::chrono::milliseconds flush_period)
    : store_(store), loop_(loop), clock_{loop}, period_(flush_period), timer_(loop, [this] {
          flush_bindings();
          timer_.arm(loop_.now() + period_);
      }) {}

void RegStore::restore(sw::Registrations& regs) {
    std::string err;
    const std::int64_t now_ms = wall_ms();
    store_.purge_bindings(now_ms, &err);
    route::reg::Snapshot snap;
    for (const auto& sb : store_.bindings(&err)) {
        if (sb.expires_ms <= now_ms) continue;
        snap.push_back({sb.aor, sb.binding, std::chrono::milliseconds(sb.expires_ms - now_ms)});
    }
    regs.restore(snap, loop_.now());
}

void RegStore::apply(const sw::StoreOp& op) {
    std::string e;
    if (auto* b = std::get_if<sw::BindingSaved>(&op)) {
        pending_.push_back(
            {b->aor, b->binding.contact,
             sq::StoredBinding{b->aor, b->binding, clock_.to_wall(b->binding.expires_at)}});
    } else if (auto* d = std::get_if<sw::BindingDeleted>(&op)) {
        pending_.push_back({d->aor, d->contact, std::nullopt});
    } else if (auto* t = std::get_if<sw::TrunkStateSaved>(&op)) {
        save_trunk(*t);
    } else if (auto* f = std::get_if<sw::TrunkForgotten>(&op)) {
        store_.remove_trunk_state(f->name, &e);
    } else if (auto* ss = std::get_if<sw::SuspensionSaved>(&op)) {
        const auto& su = ss->suspension;
        store_.put_suspension({su.key, su.ip, clock_.to_wall(su.until), su.peer}, &e);
    } else if (auto* sc = std::get_if<sw::SuspensionCleared>(&op)) {
        store_.remove_suspension(sc->key, sc->ip, &e);
    }
}

void RegStore::save_trunk(const sw::TrunkStateSaved& t) {
    sq::TrunkRegState s;
    s.name = t.name;
    s.persisted = t.persisted;
    s.state = std::string(route::reg::state_name(t.status.state));
    s.reason = t.status.reason;
    if (t.status.expires_at) s.expires_ms = clock_.to_wall(*t.status.expires_at);
    if (t.status.next_attempt) s.next_attempt_ms = clock_.to_wall(*t.status.next_attempt);
    s.last_code = t.status.last_code;
    s.last_reason_phrase = t.status.last_reason_phrase;
    s.consecutive_failures = t.status.consecutive_failures;
    s.updated_ms = wall_ms();
    s.clean_stop = t.clean_stop;
    s.registrar = t.registrar;
    s.dns_name = t.dns.name;
    s.dns_state = t.dns.state;
    s.dns_error = t.dns.error;
    if (t.dns.since) s.dns_since_ms = clock_.to_wall(*t.dns.since);
    if (t.dns.until) s.dns_until_ms = clock_.to_wall(*t.dns.until);
    std::string e;
    if (!store_.save_trunk_state(s, &e))
        log_line(fmt::format("trunk-reg {}: cannot save state: {}", t.name, e));
}

void RegStore::start() {
    timer_.arm(loop_.now() + period_);
}

void RegStore::stop() {
    timer_.cancel();
    flush_bindings();
}

void RegStore::flush_bindings() {
    if (pending_.empty()) return;
    std::string e;
    if (!store_.apply_bindings(pending_, &e))
        log_line(fmt::format("registrar: cannot save {} binding changes: {}", pending_.size(), e));
    pending_.clear();
}

}  // namespace wiring

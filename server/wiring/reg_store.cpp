#include "wiring/reg_store.hpp"

#include <fmt/format.h>

#include "wiring/log.hpp"

namespace wiring {

namespace sq = route::reg::sqlite;

RegStore::RegStore(sq::Store& store, std::string database, sip::uv::Loop& loop,
                   std::chrono::milliseconds flush_period)
    : store_(store),
      database_(std::move(database)),
      loop_(loop),
      clock_{loop},
      period_(flush_period),
      timer_(loop, [this] {
          hand_over();
          timer_.arm(loop_.now() + period_);
      }) {}

RegStore::~RegStore() {
    stop();
}

bool RegStore::start(std::string* error) {
    auto db = sq::Store::open(database_, error);
    if (!db) return false;
    thread_ = std::thread([this, d = std::move(db)]() mutable { run(std::move(d)); });
    timer_.arm(loop_.now() + period_);
    return true;
}

void RegStore::restore(sw::Registrations& regs) {
    std::string err;
    const std::int64_t now_ms = wall_ms();
    const sip::Instant now = loop_.now();
    store_.purge_bindings(now_ms, &err);
    route::reg::Snapshot snap;
    for (const auto& sb : store_.bindings(&err)) {
        if (sb.expires_ms <= now_ms) continue;
        snap.push_back({sb.aor, sb.binding, std::chrono::milliseconds(sb.expires_ms - now_ms)});
    }
    regs.restore(snap, now);
    // A restart must not hand a guesser a fresh count (issue 16).
    std::vector<route::reg::Suspension> held;
    for (const sq::SuspensionRecord& r : store_.suspensions(&err)) {
        if (r.until_ms <= now_ms || r.kind < 0 || r.kind > 2) continue;
        held.push_back({static_cast<route::reg::Suspension::Kind>(r.kind), r.key,
                        now + std::chrono::milliseconds(r.until_ms - now_ms), r.peer});
    }
    regs.restore_suspensions(held, now);
}

void RegStore::apply(const sw::StoreOp& op) {
    auto record = [this](const route::reg::Suspension& s) {
        return sq::SuspensionRecord{s.key, static_cast<int>(s.kind), clock_.to_wall(s.until),
                                    s.peer};
    };
    std::string e;
    if (auto* b = std::get_if<sw::BindingSaved>(&op)) {
        pending_.bindings.push_back(
            {b->aor, b->binding.contact,
             sq::StoredBinding{b->aor, b->binding, clock_.to_wall(b->binding.expires_at)}});
    } else if (auto* d = std::get_if<sw::BindingDeleted>(&op)) {
        pending_.bindings.push_back({d->aor, d->contact, std::nullopt});
    } else if (auto* t = std::get_if<sw::TrunkStateSaved>(&op)) {
        save_trunk(*t);
    } else if (auto* f = std::get_if<sw::TrunkForgotten>(&op)) {
        store_.remove_trunk_state(f->name, &e);
    } else if (auto* ss = std::get_if<sw::SuspensionSaved>(&op)) {
        pending_.suspensions.push_back({record(ss->suspension), false});
    } else if (auto* sc = std::get_if<sw::SuspensionCleared>(&op)) {
        pending_.suspensions.push_back({record(sc->suspension), true});
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

void RegStore::hand_over() {
    if (pending_.empty()) return;
    {
        std::lock_guard lk(mu_);
        auto move_all = [](auto& from, auto& to) {
            if (to.empty()) {
                to.swap(from);
            } else {
                to.insert(to.end(), std::make_move_iterator(from.begin()),
                          std::make_move_iterator(from.end()));
                from.clear();
            }
        };
        move_all(pending_.bindings, handed_.bindings);
        move_all(pending_.suspensions, handed_.suspensions);
        stats_.queued = handed_.size();
    }
    cv_.notify_one();
}

void RegStore::run(std::unique_ptr<sq::Store> db) {
    std::unique_lock lk(mu_);
    for (;;) {
        cv_.wait(lk, [this] { return stopping_ || !handed_.empty(); });
        if (handed_.empty() && stopping_) return;
        Batch b;
        std::swap(b, handed_);
        lk.unlock();
        write(*db, b);
        lk.lock();
        stats_.queued = handed_.size();
    }
}

void RegStore::write(sq::Store& db, const Batch& b) {
    std::string e;
    bool ok = true;
    if (!b.bindings.empty() && !db.apply_bindings(b.bindings, &e)) {
        ok = false;
        log_line(fmt::format("registrar: cannot save {} binding changes: {}", b.bindings.size(), e));
    }
    if (!b.suspensions.empty() && !db.apply_suspensions(b.suspensions, &e)) {
        ok = false;
        log_line(fmt::format("registrar: cannot save {} suspension changes: {}",
                             b.suspensions.size(), e));
    }
    std::lock_guard lk(mu_);
    ++stats_.batches;
    if (!ok) ++stats_.failures;
}

void RegStore::stop() {
    if (!thread_.joinable()) return;
    timer_.cancel();
    hand_over();
    {
        std::lock_guard lk(mu_);
        stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
}

RegStore::Stats RegStore::stats() const {
    std::lock_guard lk(mu_);
    return stats_;
}

}  // namespace wiring

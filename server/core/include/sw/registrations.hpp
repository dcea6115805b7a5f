// sw::Registrations — registration for the running switch, pure (no clock, no I/O): the
// inbound registrar with its location store, and one route::reg::RegClient per carrier
// registration entry, all sending through the element's transaction layer.
//
//   sw::Element element(ecfg, rng);
//   sw::Registrations regs({.registrar = rcfg}, element, &auth, hasher, rng);  // sets the
//   regs.restore(snapshot, now);                     // element's registrar; bindings from SQLite
//   regs.set_trunks(specs, now);                     // entries added / changed / removed
//   // after every input to the element (bytes, timer):
//   while (auto e = element.poll_client_event()) regs.on_client_event(*e, now);
//   regs.pump(now);
//   while (auto op = regs.poll_store()) persist(*op);   // write-behind to SQLite
//   while (auto l = regs.poll_log()) log(*l);
//   // shutdown: unregister every carrier entry (bounded), then exit
//   regs.stop_all(now);  ... until regs.stopped() (stop_deadline() bounds it)
//
// Entries are diffed by name, `fingerprint` and registrar address: a changed entry is
// unregistered first and re-registered under its new configuration only once the old
// unregister has ended, so an Expires: 0 for the old binding can never arrive after the new
// REGISTER for the same contact.
//
// DNS failure policy (issue 12 item 7; README "Carrier registration"): an entry whose
// registrar is a host name carries the domain cache's answer (`TrunkSpec::dns`). A failing
// DNS never withdraws a registration that works: when the answer has no address (NXDOMAIN,
// resolver down past the serve-stale grace), the running client keeps its registrar (the
// last good address) and keeps refreshing there, with its retry delay, and the state and the
// log say so (once per change, not per DNS retry). Only the operator removing or disabling
// the entry, or trunkline stopping, unregisters it. A new address from DNS re-registers
// there (old binding removed first). An entry that never had an address waits, sends
// nothing, and its saved state says why and since when.
//
// Operator commands (trunkctl, through sw::run_command): command("unbind", "AOR [CONTACT]")
// and command("unbind-user", "USER") remove registrar bindings (trunkctl binding remove,
// trunkctl user remove).
//
// Lifetimes: references to the element, authenticator, hasher and rng, which outlive it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "route/domain/cache.hpp"
#include "route/reg/client.hpp"
#include "route/reg/keepalive.hpp"
#include "route/reg/location.hpp"
#include "route/reg/registrar.hpp"
#include "sw/binding_writes.hpp"
#include "sw/element.hpp"
#include "sw/log_safety.hpp"

namespace sw {

struct TrunkSpec {
    std::string name;
    route::reg::RegClientConfig config;
    std::string fingerprint;                        // any change re-registers the entry
    std::optional<route::reg::Persisted> previous;  // crash recovery (issue 6 item 9)
    // The registrar is a host name: the domain cache's answer this round. With a target,
    // config.registrar is that target. Without one, config.registrar is either empty or the
    // address the entry runs with now (registrar_in_use(); then a changed configuration is
    // applied there): see "DNS failure policy" above. Unset: the registrar is an IP literal.
    std::optional<route::domain::Pick> dns;
};

// What an entry's registrar name resolves to, as saved for `trunkctl trunk-reg show`.
struct TrunkDnsState {
    std::string name;   // the cache key ("carrier.test", "carrier.test:5080"); empty: IP literal
    std::string state;  // "ok", "stale" (answer past its TTL), "failed", "resolving"
    std::string error;  // stale / failed: "NXDOMAIN (A carrier.test: NXDOMAIN)"
    std::optional<sip::Instant> since;  // stale / failed: the resolver has failed since then
    std::optional<sip::Instant> until;  // stale: the served answer is dropped then
    friend bool operator==(const TrunkDnsState&, const TrunkDnsState&) = default;
};

struct RegistrationsConfig {
    route::reg::RegistrarConfig registrar;
    route::reg::LocationConfig location;
    std::optional<route::reg::KeepaliveConfig> keepalive;  // nullopt: no NAT keep-alive
    // One log line per binding added/removed/expired and per failed authentication; off
    // (trunkline --quiet), only suspensions, keep-alive transitions and carrier entries.
    bool log_bindings = true;
};

// Write-behind operations for the adapter's store.
struct BindingSaved {
    std::string aor;
    route::reg::Binding binding;  // expires_at in the element's Instant time base
};
struct BindingDeleted {
    std::string aor;
    std::string contact;
};
struct TrunkStateSaved {
    std::string name;
    route::reg::Status status;
    route::reg::Persisted persisted;
    // Stopped, and nothing we meant to remove is left at the registrar (unregister confirmed,
    // nothing to remove, or send_unregister off); false after an unanswered unregister.
    bool clean_stop = false;
    std::string registrar;  // where the REGISTERs go: "192.0.2.10:5060/UDP"; empty: nowhere yet
    TrunkDnsState dns;      // the registrar's host name and how it resolves
};
struct TrunkForgotten {  // the entry was removed and its unregister has ended
    std::string name;
};
struct SuspensionSaved {
    route::reg::Suspension suspension;
};
struct SuspensionCleared {
    route::reg::Suspension suspension;
};
using StoreOp = std::variant<BindingSaved, BindingDeleted, TrunkStateSaved, TrunkForgotten,
                             SuspensionSaved, SuspensionCleared>;

class Registrations {
  public:
    Registrations(RegistrationsConfig cfg, Element& element, route::reg::Authenticator* auth,
                  const sip::auth::Hasher& hasher, sip::Random& rng);
    ~Registrations();
    Registrations(const Registrations&) = delete;
    Registrations& operator=(const Registrations&) = delete;

    route::reg::Registrar& registrar() noexcept { return registrar_; }
    route::reg::Location& location() noexcept { return location_; }

    // Replaces the location content (start-up) and schedules keep-alives for it.
    void restore(const route::reg::Snapshot& snap, sip::Instant now);
    // At shutdown, before the write-behind stops: a BindingSaved for every binding whose
    // refreshes were coalesced (BindingWrites), so a clean restart has every exact expiry.
    void persist_coalesced(sip::Instant now);
    const BindingWrites& binding_writes() const noexcept { return writes_; }
    void set_trunks(std::vector<TrunkSpec> specs, sip::Instant now);
    // Lifts the suspensions naming `key` (operator command); returns how many were lifted.
    std::size_t lift(std::string_view key, sip::Instant now);
    // Suspensions saved before a restart (the store's, in the element's time base).
    void restore_suspensions(const std::vector<route::reg::Suspension>& saved, sip::Instant now);
    // Removes registrar bindings (operator commands); returns how many. `contact` empty:
    // every binding of the AOR. unbind_user: every AOR whose user part is `user`.
    std::size_t unbind(std::string_view aor, std::string_view contact, sip::Instant now);
    std::size_t unbind_user(std::string_view user, sip::Instant now);
    // The registration commands of the reg_command table: "unbind" ("AOR" or "AOR CONTACT")
    // and "unbind-user" ("USER"); the returned line is for the log. nullopt: another kind.
    std::optional<std::string> command(std::string_view kind, std::string_view arg,
                                       sip::Instant now);

    // An operator's "register now" (POST /api/carriers/{name}/register): the running entry's
    // REGISTER goes out at once (its refresh or retry timer dropped). sent; waiting: the entry
    // has no registrar address yet (DNS); busy: it is stopping or being replaced (the new
    // configuration registers when the old unregister ends); unknown: no such running entry
    // (disabled, never configured, or its configuration cannot run).
    enum class RegisterNow : std::uint8_t { sent, waiting, busy, unknown };
    RegisterNow register_now(std::string_view name, sip::Instant now);

    void on_client_event(const ClientEvent& e, sip::Instant now);
    void pump(sip::Instant now);  // after every element input: drain events and actions
    std::optional<sip::Instant> next_deadline() const;
    void handle_timeouts(sip::Instant now);

    void stop_all(sip::Instant now);
    bool stopped() const;  // every client done (after stop_all)
    std::optional<sip::Instant> stop_deadline() const;

    std::optional<StoreOp> poll_store();
    std::optional<std::string> poll_log();
    std::optional<LogEntry> poll_log_entry();  // kind suspension or registration

    // Status of the active client of an entry, or of an entry waiting for its registrar's
    // address (state idle); nullptr: unknown name.
    const route::reg::Status* status(std::string_view name) const;
    // Where the entry's REGISTERs go now (nullopt: not running): the last good address a
    // TrunkSpec without a DNS target may carry. With `dns_key` (the cache key of the spec's
    // host name), only when the entry runs with an address of that very key: after the
    // operator changed the server, port or transport, the old address is no good address.
    std::optional<sip::Target> registrar_in_use(std::string_view name,
                                                std::string_view dns_key = {}) const;
    // The DNS view of a running or waiting entry (nullptr: unknown name).
    const TrunkDnsState* dns_state(std::string_view name) const;
    std::size_t trunk_count() const noexcept { return trunks_.size(); }

  private:
    struct Trunk {
        std::string name;
        std::string fingerprint;
        std::unique_ptr<route::reg::RegClient> client;
        sip::txn::TxnId txn = 0;  // the outstanding request's transaction
        bool removing = false;    // stopped because the entry is gone / replaced
        TrunkDnsState dns;        // what DNS said last
        std::string dns_key;      // the cache key the client's registrar came from
    };
    // An entry whose registrar name has no address yet: nothing runs, nothing is sent.
    struct Unresolved {
        TrunkSpec spec;
        route::reg::Status status;
        TrunkDnsState dns;
    };
    void start_trunk(TrunkSpec spec, sip::Instant now);
    void drain_trunk(Trunk& t, sip::Instant now);
    void save_trunk(const Trunk& t);
    void note_dns(Trunk& t, const std::optional<route::domain::Pick>& dns, sip::Instant now);
    void wait_for_dns(TrunkSpec spec, sip::Instant now);
    void remove_binding(const std::string& aor, const std::string& contact);
    void drain_registrar(sip::Instant now);
    void drain_location();
    void drain_keepalive(sip::Instant now);
    void finish_retired(sip::Instant now);
    void save_binding(const std::string& aor, const std::string& contact, sip::Instant now);
    void forget_binding(const std::string& aor, const std::string& contact);

    Element& element_;
    const sip::auth::Hasher& hasher_;
    sip::Random& rng_;
    route::reg::Location location_;
    BindingWrites writes_;  // which binding changes are written (refreshes coalesced)
    route::reg::Registrar registrar_;
    std::optional<route::reg::Keepalive> keepalive_;
    std::map<std::string, Trunk, std::less<>> trunks_;
    std::vector<Trunk> retiring_;               // unregistering before removal / replacement
    std::map<std::string, TrunkSpec> waiting_;  // replacement waiting for its retiring entry
    std::map<std::string, Unresolved, std::less<>> unresolved_;  // no registrar address yet
    std::map<sip::txn::TxnId, std::string> keepalive_txns_;      // OPTIONS txn -> aor \n contact
    bool stopping_ = false;
    bool log_bindings_ = true;
    std::deque<StoreOp> store_;
    std::deque<std::string> logs_;
    std::deque<std::string> suspension_logs_;  // LogKind::suspension
};

}  // namespace sw

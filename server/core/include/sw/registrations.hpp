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
// Entries are diffed by name and `fingerprint`: a changed entry is unregistered first and
// re-registered under its new configuration only once the old unregister has ended, so an
// Expires: 0 for the old binding can never arrive after the new REGISTER for the same contact.
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

#include "route/reg/client.hpp"
#include "route/reg/keepalive.hpp"
#include "route/reg/location.hpp"
#include "route/reg/registrar.hpp"
#include "sw/element.hpp"

namespace sw {

struct TrunkSpec {
    std::string name;
    route::reg::RegClientConfig config;
    std::string fingerprint;                        // any change re-registers the entry
    std::optional<route::reg::Persisted> previous;  // crash recovery (issue 6 item 9)
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
    bool clean_stop = false;  // the entry finished its unregister (or had nothing to remove)
};
struct TrunkForgotten {  // the entry was removed and its unregister has ended
    std::string name;
};
struct SuspensionSaved {
    route::reg::Suspension suspension;
};
struct SuspensionCleared {
    std::string key;
    bool ip = false;
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
    void set_trunks(std::vector<TrunkSpec> specs, sip::Instant now);
    // Lifts a suspension (operator command); returns how many were lifted.
    std::size_t lift(std::string_view key, sip::Instant now);

    void on_client_event(const ClientEvent& e, sip::Instant now);
    void pump(sip::Instant now);  // after every element input: drain events and actions
    std::optional<sip::Instant> next_deadline() const;
    void handle_timeouts(sip::Instant now);

    void stop_all(sip::Instant now);
    bool stopped() const;  // every client done (after stop_all)
    std::optional<sip::Instant> stop_deadline() const;

    std::optional<StoreOp> poll_store();
    std::optional<std::string> poll_log();

    // Status of the active client of an entry (nullptr: unknown name).
    const route::reg::Status* status(std::string_view name) const;
    std::size_t trunk_count() const noexcept { return trunks_.size(); }

  private:
    struct Trunk {
        std::string name;
        std::string fingerprint;
        std::unique_ptr<route::reg::RegClient> client;
        sip::txn::TxnId txn = 0;  // the outstanding request's transaction
        bool removing = false;    // stopped because the entry is gone / replaced
    };
    void start_trunk(TrunkSpec spec, sip::Instant now);
    void drain_trunk(Trunk& t, sip::Instant now);
    void drain_registrar(sip::Instant now);
    void drain_location();
    void drain_keepalive(sip::Instant now);
    void finish_retired(sip::Instant now);
    void save_binding(const std::string& aor, const std::string& contact, sip::Instant now);

    Element& element_;
    const sip::auth::Hasher& hasher_;
    sip::Random& rng_;
    route::reg::Location location_;
    route::reg::Registrar registrar_;
    std::optional<route::reg::Keepalive> keepalive_;
    std::map<std::string, Trunk, std::less<>> trunks_;
    std::vector<Trunk> retiring_;               // unregistering before removal / replacement
    std::map<std::string, TrunkSpec> waiting_;  // replacement waiting for its retiring entry
    std::map<sip::txn::TxnId, std::string> keepalive_txns_;  // OPTIONS txn -> aor \n contact
    bool stopping_ = false;
    bool log_bindings_ = true;
    std::deque<StoreOp> store_;
    std::deque<std::string> logs_;
};

}  // namespace sw

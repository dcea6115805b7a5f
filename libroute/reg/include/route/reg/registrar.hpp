// route::reg::Registrar — the inbound registrar of RFC 3261 §10.3, pure (no clock, no I/O).
//
//   route::reg::Location loc;
//   route::reg::Registrar reg({.register_retry = 6, .register_suspend = 180s}, loc, &auth);
//   route::reg::Decision d = reg.handle(request, source, now);   // request: a parsed REGISTER
//   if (d.action == route::reg::Decision::Action::Respond)
//       txn.respond(route::reg::render(request, d, {.to_tag = tag, .unix_time = wall_s}));
//   while (auto ev = reg.poll()) log(*ev);                       // added/removed/suspended...
//   if (auto t = reg.next_deadline()) timer.arm(*t);             // suspension ends, windows
//   reg.list_suspensions(now);  reg.lift("alice");  reg.lift("192.0.2.7");   // operators
//
// Order of checks (RFC 3261 §10.3, numbered as there): source IP suspended -> 403 or drop
// (Decision::aor set from the To when it is an AOR, so the refusal is logged with it);
// To not a SIP/SIPS URI -> 400 (RFC 4475 §3.3.7 "unksm2"); step 2 Require -> 420; step 3
// digest auth through the injected Authenticator -> 401 (stale=true when the nonce aged),
// user suspended -> 403; step 6 authorisation (authenticated user = AOR user) -> 403;
// Contact `*` rules -> 400; Expires below min -> 423 with Min-Expires; step 7 Call-ID/CSeq
// ordering -> 400; register_replace off and another device bound -> 403; else 200 listing
// every current binding with its remaining expires. Updates are all-or-nothing (step 7:
// committed only if every binding update succeeds).
//
// Retransmissions: a binding remembers which transaction stored it (Binding::txn_hash), so
// a repeat of that REGISTER (same Call-ID, CSeq, top Via branch and sent-by; with digest,
// right credentials whose nc was already used) is answered 200 with the current bindings and
// changes nothing, as the server transaction would have answered it. That is what lets the
// caller answer such a 200 statelessly (Decision::stateless) and keep nothing for Timer J.
//
// Operator rules (issue 6 §3 and issue 16; VOS3000 SS_ENDPOINT_REGISTER_REPLACE/RETRY/SUSPEND):
// `register_retry` failed authentications (a wrong digest, not a missing or stale one)
// within `failure_window` suspend for `register_suspend`, counted per (user, source IP) and
// per source IP, and with suspend_scope User also per user (route::reg::AuthGuard has the
// rules and bounds). The request that reaches the count still gets its 401, the next ones 403
// (or nothing, with suspend_drop) until the suspension ends, exactly at its instant. A user
// that authenticated from an address within `trust_window` is never refused there because of
// another's failures (a guesser elsewhere cannot lock out the real user).
//
// Lifetimes: the Registrar keeps references to the Location and the Authenticator (both must
// outlive it). Decision and events own their strings. Not thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "route/reg/auth_guard.hpp"
#include "route/reg/location.hpp"
#include "sip/message.hpp"
#include "sip/time.hpp"
#include "sip/transport.hpp"

namespace route::reg {

// Digest verification injected so this library needs no crypto (DESIGN.md §2); the wiring
// adapts sip::auth::DigestServer + the SQLite HA1 store. Same shape as sw::Authenticator,
// plus the username, which the retry/suspend rules and step 6 need.
class Authenticator {
  public:
    virtual ~Authenticator() = default;
    // WWW-Authenticate values for a 401 (stale: the nonce had expired, RFC 7616 §3.3).
    virtual std::vector<std::string> challenge(sip::Instant now, bool stale) = 0;
    // Repeated: right credentials whose nonce count was used before (RFC 7616 §3.4): a
    // retransmission of an accepted request or a replay. The registrar accepts it only as
    // the retransmission of a REGISTER it stored (see Registrar::handle); else as Rejected.
    enum class Verdict : std::uint8_t { Ok, Stale, Rejected, Repeated };
    struct Outcome {
        Verdict verdict = Verdict::Rejected;
        std::string username;  // the credentials' username (also when rejected), unquoted
    };
    // Checks an Authorization header value for `method`.
    virtual Outcome verify(std::string_view authorization, std::string_view method,
                           sip::Instant now) = 0;
};

struct RegistrarConfig {
    std::chrono::seconds min_expires{60};        // below: 423 + Min-Expires (§10.3 step 7)
    std::chrono::seconds max_expires{3600};      // above: shortened (§10.3 step 7 allows it)
    std::chrono::seconds default_expires{3600};  // neither Contact param nor Expires header
    bool register_replace = true;                // SS_ENDPOINT_REGISTER_REPLACE
    std::uint32_t register_retry = 6;            // SS_ENDPOINT_REGISTER_RETRY (0: never suspend)
    std::chrono::seconds register_suspend{180};  // SS_ENDPOINT_REGISTER_SUSPEND
    bool suspend_drop = false;                   // suspended: drop silently instead of 403
    // Failures older than this are forgotten (a counter with no failure for this long).
    std::chrono::seconds failure_window{180};
    SuspendScope suspend_scope = SuspendScope::Address;
    std::chrono::seconds trust_window{86'400};  // a success trusts (user, address) this long
    std::size_t max_tracked = 50'000;           // failure counters per table (heavy hitters)
    std::size_t max_suspensions = 100'000;
    std::size_t max_trusted = 100'000;
    bool check_aor_user = true;  // §10.3 step 6: authenticated user must own the AOR
};

struct Decision {
    enum class Action : std::uint8_t { Respond, Drop };
    Action action = Action::Respond;
    std::uint16_t status = 200;
    std::string reason;                                        // empty: sip::default_reason(status)
    std::vector<std::pair<std::string, std::string>> headers;  // Contact, Min-Expires, ...
    std::string aor;  // canonical AOR when the To was usable
    // A retransmission of this request gets the same answer from handle() (a 200 that stored
    // every Contact, or the answer to such a retransmission): the caller may answer it as a
    // stateless UAS (RFC 3261 §8.2.7) instead of keeping the response for Timer J.
    bool stateless = false;
};

struct RenderOptions {
    std::string_view to_tag{};                // RFC 3261 §8.2.6.2: the UAS adds a To tag
    std::optional<std::int64_t> unix_time{};  // adds Date (§10.3 step 8 SHOULD); adapters only
    std::string_view via_received{};          // RFC 3581 stamping, passed to build_response
    std::uint16_t via_rport = 0;
};
// The response bytes for `d` to `request` (sip::build_response). Only for Action::Respond.
std::string render(const sip::Message& request, const Decision& d, const RenderOptions& o = {});
// RFC 1123 date in GMT ("Thu, 26 Nov 2026 08:53:00 GMT") from Unix seconds.
std::string rfc1123_date(std::int64_t unix_seconds);

struct RegistrarEvent {
    enum class Kind : std::uint8_t {
        Added,
        Refreshed,
        Removed,   // by the client (expires 0, `*`, its RFC 5626 instance at a new address)
        Replaced,  // removed because another device registered (register_replace)
        AuthFailed,
        Suspended,  // key is a user or an IP (see `ip`)
        SuspensionEnded,
    };
    Kind kind = Kind::Added;
    std::string aor;
    std::string contact;  // binding events
    std::string key;      // user or IP for auth/suspension events
    bool ip = false;
    sip::Target source;
    std::optional<Suspension> suspension;  // Suspended, SuspensionEnded: which one
};

class Registrar {
  public:
    Registrar(RegistrarConfig config, Location& location, Authenticator* auth = nullptr);

    Decision handle(const sip::Message& request, const sip::Target& source, sip::Instant now);

    std::optional<sip::Instant> next_deadline() const;
    void handle_timeouts(sip::Instant now);
    std::optional<RegistrarEvent> poll();

    std::vector<Suspension> list_suspensions(sip::Instant now) const { return guard_.list(now); }
    // Lifts the suspensions (and clears the failure counts) naming `key`: a user, an IP, or
    // the user or address of a (user, address) pair. Returns what was lifted.
    std::vector<Suspension> lift(std::string_view key) { return guard_.lift(key); }
    // A suspension saved before a restart.
    void restore_suspension(const Suspension& s, sip::Instant now) { guard_.restore(s, now); }

    // Digest authentication outside REGISTER (a dynamic gateway's INVITE, RFC 3261 §22.3)
    // under the same retry/suspend rules, so a guesser cannot switch methods to go on:
    // refused() before acting on credentials, then failed() (AuthFailed and Suspended events,
    // with an empty aor) or succeeded().
    bool auth_refused(std::string_view user, std::string_view address, sip::Instant now) const {
        return guard_.refused(user, address, now);
    }
    void auth_failed(std::string_view user, const sip::Target& source, sip::Instant now);
    void auth_succeeded(std::string_view user, std::string_view address, sip::Instant now) {
        guard_.succeeded(user, address, now);
    }

    std::size_t tracked_counters() const noexcept { return guard_.tracked_counters(); }
    const AuthGuard& guard() const noexcept { return guard_; }
    const RegistrarConfig& config() const noexcept { return config_; }
    // A configuration reload (trunkline's SIGHUP): the expiry bounds, register_replace,
    // suspend_action and the failure rules (retry, suspend, failure_window, trust_window)
    // apply from the next REGISTER; suspend_scope and the table sizes keep their start value.
    void set_live_config(const RegistrarConfig& c);

    // RFC 3261 §10.3 step 5: "sip:" or "sips:" + unescaped user + "@" + lowercase host, all
    // URI parameters removed. nullopt when `to_uri` is not a SIP/SIPS URI.
    static std::optional<std::string> canonical_aor(std::string_view to_uri);

  private:
    Decision refuse(std::uint16_t status, std::string_view reason);
    void note_failure(std::string_view user, const sip::Target& source, sip::Instant now,
                      const std::string& aor);
    void emit(RegistrarEvent ev) { events_.push_back(std::move(ev)); }
    // A retransmission of the REGISTER that stored one of `aor`'s bindings: its answer.
    std::optional<Decision> retransmission(const sip::Message& req, const std::string& aor,
                                           std::uint32_t txn_hash, sip::Instant now);
    Decision ok_with_bindings(const sip::Message& req, const std::string& aor, sip::Instant now);

    RegistrarConfig config_;
    Location& location_;
    Authenticator* auth_;
    AuthGuard guard_;
    std::deque<RegistrarEvent> events_;
};

}  // namespace route::reg

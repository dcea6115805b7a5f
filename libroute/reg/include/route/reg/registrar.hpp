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
// Operator rules (issue 6 §3, VOS3000 SS_ENDPOINT_REGISTER_REPLACE/RETRY/SUSPEND):
// `register_retry` failed authentications (a wrong digest, not a missing or stale one) by one
// user, or from one source IP, within `failure_window` suspend that user / IP for
// `register_suspend`; the request that reaches the count still gets its 401, the next ones
// 403 (or nothing, with suspend_drop) until the suspension ends. A suspension ends
// exactly at its instant. The tables are bounded (`max_tracked_users` / `max_tracked_ips`):
// when full, the oldest failure counter is forgotten first, then the suspension ending first,
// so a flood of invented user names cannot grow memory.
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
    enum class Verdict : std::uint8_t { Ok, Stale, Rejected };
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
    std::size_t max_tracked_users = 10'000;
    std::size_t max_tracked_ips = 10'000;
    bool check_aor_user = true;  // §10.3 step 6: authenticated user must own the AOR
};

struct Decision {
    enum class Action : std::uint8_t { Respond, Drop };
    Action action = Action::Respond;
    std::uint16_t status = 200;
    std::string reason;                                        // empty: sip::default_reason(status)
    std::vector<std::pair<std::string, std::string>> headers;  // Contact, Min-Expires, ...
    std::string aor;  // canonical AOR when the To was usable
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
};

struct Suspension {
    std::string key;
    bool ip = false;
    sip::Instant until{};
    // The other side of the failure that started it: for a user, the source IP; for an IP,
    // the user name. One failed attempt can suspend both; lifting one leaves the other
    // (trunkctl suspend lift says so).
    std::string peer;
};

class Registrar {
  public:
    Registrar(RegistrarConfig config, Location& location, Authenticator* auth = nullptr);

    Decision handle(const sip::Message& request, const sip::Target& source, sip::Instant now);

    std::optional<sip::Instant> next_deadline() const;
    void handle_timeouts(sip::Instant now);
    std::optional<RegistrarEvent> poll();

    std::vector<Suspension> list_suspensions(sip::Instant now) const;
    // Lifts the suspension (and clears the failure count) of a user or IP named `key`.
    // Returns how many were lifted (a name may be both a user and an IP literal: 0..2).
    std::size_t lift(std::string_view key);

    std::size_t tracked_users() const noexcept { return users_.entries.size(); }
    std::size_t tracked_ips() const noexcept { return ips_.entries.size(); }
    const RegistrarConfig& config() const noexcept { return config_; }

    // RFC 3261 §10.3 step 5: "sip:" or "sips:" + unescaped user + "@" + lowercase host, all
    // URI parameters removed. nullopt when `to_uri` is not a SIP/SIPS URI.
    static std::optional<std::string> canonical_aor(std::string_view to_uri);

  private:
    // Failure counters and suspensions for one kind of key (user or IP), bounded.
    struct Tracker {
        struct Entry {
            std::uint32_t failures = 0;
            sip::Instant deadline{};  // counter: forget at; suspended: suspension ends at
            bool suspended = false;
            std::string peer;  // suspended: Suspension::peer
        };
        std::map<std::string, Entry, std::less<>> entries;
        std::set<std::pair<sip::Instant, std::string>> counters, suspensions;  // by deadline
    };
    bool suspended(const Tracker& t, std::string_view key, sip::Instant now) const;
    // Counts one failure; true when it starts a suspension (`peer`: Suspension::peer).
    bool fail(Tracker& t, std::size_t max, std::string_view key, sip::Instant now,
              std::string_view peer);
    void forget(Tracker& t, std::map<std::string, Tracker::Entry, std::less<>>::iterator it);
    void expire(Tracker& t, bool ip, sip::Instant now);
    Decision refuse(std::uint16_t status, std::string_view reason);
    void emit(RegistrarEvent ev) { events_.push_back(std::move(ev)); }

    RegistrarConfig config_;
    Location& location_;
    Authenticator* auth_;
    Tracker users_, ips_;
    std::deque<RegistrarEvent> events_;
};

}  // namespace route::reg

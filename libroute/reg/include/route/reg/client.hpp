// route::reg::RegClient — outbound (carrier) registration, sans-I/O (DESIGN.md §1, §6).
//
//   sip::SeededRandom rng(seed);                      // the adapter seeds it from the OS
//   sip::crypto::EvpHasher hasher;
//   route::reg::RegClient reg({.registrar = {sip::Transport::Udp, "192.0.2.10", 5060},
//                              .registrar_domain = "carrier.example",
//                              .aor_user = "4420001", .password = pw,
//                              .contact_host = "198.51.100.7", .contact_port = 5060,
//                              .expires = std::nullopt,           // auto
//                              .retry_delay = 60s},
//                             hasher, rng);
//   reg.start(now, store.load(entry_id));             // previous Persisted, if any
//   drain(reg);                                       // SendRequest -> layer.send_request
//   // the transaction layer's outcome for the request last sent:
//   reg.on_response(msg, now) / reg.on_timeout(now) / reg.on_transport_error(now);
//   if (auto d = reg.next_deadline()) arm(*d);  ...  reg.handle_timeouts(now);
//   while (auto a = reg.poll()) std::visit(handler, *a);  // after every call above
//   store.save(entry_id, reg.persisted());            // after draining any action
//   // shutdown / entry removed:
//   reg.stop(now);  drain(reg);  ... until reg.done() or now >= *reg.stop_deadline()
//
// The client never owns the transaction layer: it queues `SendRequest` actions and is told
// the final outcome of the request it sent last (provisional responses are ignored). At most
// one request is outstanding; a response whose Call-ID/CSeq does not match it is ignored
// (on_response returns false), so a late answer to an abandoned request changes nothing.
//
// Behaviour (RFC 3261 §10.2):
// - One Call-ID and From tag for the registration's whole life; CSeq +1 per request
//   (§10.2.4), carried across restarts through persisted(). The CSeq stays below 2^31
//   (§8.1.1.5): the request that would need 2^31 (or a persisted CSeq beyond it) goes out
//   with a new Call-ID and CSeq 1, which the registrar takes as an update of our binding.
// - 401/407 are answered with sip::auth::DigestClient (strongest offered algorithm). A
//   challenge of a kind whose credentials the rejected request already carried, without
//   stale=true, means the credentials are wrong: state failed.
// - 423: Min-Expires is adopted and the REGISTER resent at once (§10.2.8 / §10.3 step 7).
// - 2xx: granted expiry = the expires param of the Contact in the 2xx that matches ours,
//   else the Expires header, else what we asked for (else 3600 s in auto mode, §10.2.1.1);
//   a grant above one year counts as one year (the refresh comes then).
//   Expiry counts from when the REGISTER was sent (the conservative end). Refresh rule:
//   re-register `refresh_margin` (60 s) before expiry, or at half the granted time when that
//   is shorter than twice the margin; so 3600 s -> after 3540 s, 60 s -> after 30 s. The
//   margin outlasts Timer F (32 s) plus a challenge round trip.
// - Any other final response, a timeout or a transport error: state failed with a reason,
//   and a new attempt after retry_delay ± 10 % (uniform, from the injected Random), forever.
// - stop(): REGISTER with Expires: 0 for our contact (same Call-ID, higher CSeq), challenges
//   answered; done() once answered, failed, or stop_deadline() passed. Only a 2xx to it ends
//   in State::unregistered; every other end is State::stopped with the reason saying what
//   happened, and clean_stop() tells whether anything may be left at the registrar.
//   stop() is done at once (State::stopped, clean) with send_unregister off, or when no
//   binding of ours can exist (issue 12 item 6): no REGISTER for our contact went out, every
//   one got a final refusal, or the registrar never answered anything in this run (a
//   REGISTER that timed out there bound nothing we could remove: the unregister would time
//   out too); and no earlier run left our contact bound. A REGISTER still outstanding at
//   stop() counts as maybe bound unless the registrar has only ever timed out.
// - start() with a previous Persisted whose contact differs: the old contact is unregistered
//   first (old Call-ID, its CSeq + 1, challenges answered), whatever the outcome the new
//   contact is registered next, continuing the old Call-ID and CSeq. This cleanup runs even
//   with send_unregister off: a binding to a contact nobody listens on is never wanted.
//
// Configuration errors: validate() names the field and the allowed range. A RegClient built
// from an invalid config stays in State::failed with that message and never sends.
//
// Lifetimes: keeps references to `hasher` and `rng`, which must outlive it. Not
// thread-safe. Nothing calls back into user code; no exception other than std::bad_alloc.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "route/reg/config_error.hpp"
#include "sip/auth/client.hpp"
#include "sip/auth/hasher.hpp"
#include "sip/message.hpp"
#include "sip/random.hpp"
#include "sip/time.hpp"
#include "sip/transport.hpp"

namespace route::reg {

using namespace std::chrono_literals;

// RFC 3323 §4.2 / RFC 3325 §9.3 Privacy header on the REGISTER (VOS3000
// SS_SIP_USER_AGENT_PRIVACY): ignore = no header, id = "Privacy: id", none = "Privacy: none".
enum class Privacy : std::uint8_t { ignore, id, none };

struct RegClientConfig {
    // Where the REGISTER goes (already resolved), unless outbound_proxy is set.
    sip::Target registrar;
    // Registrar domain as written in the Request-URI ("carrier.example", "192.0.2.10:5080").
    std::string registrar_domain;
    std::optional<sip::Target> outbound_proxy;  // REGISTER sent here instead (RFC 3261 §8.1.2)
    std::string aor_user;
    std::string aor_domain;    // To/From domain; empty: registrar_domain
    std::string auth_user;     // empty: aor_user
    std::string password;      // hashed by the injected Hasher, never sent
    std::string contact_host;  // FQDN or IP shown in Contact and Via
    std::uint16_t contact_port = 5060;
    // nullopt = auto: no Expires is sent and the registrar's grant is accepted; otherwise
    // 20..7200 s (VOS3000 SS_SIP_USER_AGENT_EXPIRE).
    std::optional<std::chrono::seconds> expires;
    std::chrono::seconds retry_delay = 60s;  // 30..600 s (SS_SIP_USER_AGENT_RETRY_DELAY)
    Privacy privacy = Privacy::ignore;
    bool send_unregister = true;                // SS_SIP_USER_AGENT_SEND_UNREGISTER
    std::chrono::seconds refresh_margin = 60s;  // see the refresh rule above; 1..600 s
    std::chrono::seconds unregister_wait = 5s;  // stop_deadline() = stop time + this
    std::string user_agent;                     // User-Agent header when non-empty
};

std::optional<ConfigError> validate(const RegClientConfig& config);

enum class State : std::uint8_t {
    idle,           // not started
    registering,    // a REGISTER for our contact is outstanding, no binding known
    registered,     // bound until status().expires_at (a refresh may be in flight)
    failed,         // last attempt failed; status().reason says why; retried later
    unregistering,  // stop() sent Expires: 0
    unregistered,   // stopped: the registrar confirmed the removal (2xx to Expires: 0)
    stopped,        // stopped otherwise: nothing to remove, unregister off, not answered or
                    // refused (status().reason says which; RegClient::clean_stop())
};
std::string_view state_name(State s) noexcept;

struct Status {
    State state = State::idle;
    std::string reason;                      // why failed / how the last step ended
    std::optional<sip::Instant> expires_at;  // of the current binding
    std::optional<std::chrono::seconds> granted;
    std::uint16_t last_code = 0;  // last final response (0: none / timeout)
    std::string last_reason_phrase;
    std::optional<sip::Instant> next_attempt;  // refresh or retry time
    std::uint32_t consecutive_failures = 0;
};

// What the adapter stores on every change (issue 6 item 9). The CSeq moves with every
// SendRequest, refreshes included, so save after each drained action: a restart that reuses
// the Call-ID with a CSeq the registrar has already seen gets its REGISTER refused (RFC 3261
// §10.3 step 7). contact_uri is empty once an unregister was confirmed (nothing to clean),
// and names the old contact while a crash recovery is still removing it. expires_at is in the
// caller's Instant time base: an adapter that persists it must feed wall-clock-based Instants or
// convert; the client itself never relies on it across restarts.
struct Persisted {
    std::string call_id;
    std::uint32_t cseq = 0;   // the last CSeq sent
    std::string contact_uri;  // "sip:4420001@198.51.100.7:5060"
    std::optional<sip::Instant> expires_at;
    friend bool operator==(const Persisted&, const Persisted&) = default;
};

// Actions pulled with poll().
struct SendRequest {
    sip::Bytes bytes;
    sip::Target target;
};
struct StateChanged {  // for logs and `trunkctl trunk-reg show`
    State state;
    std::string reason;
};
using Action = std::variant<SendRequest, StateChanged>;

class RegClient {
  public:
    RegClient(RegClientConfig config, const sip::auth::Hasher& hasher, sip::Random& rng);

    // Begins registering. `previous`: what persisted() returned in an earlier run.
    void start(sip::Instant now, std::optional<Persisted> previous = std::nullopt);
    // Unregisters (when send_unregister and a binding may exist), else finishes at once.
    void stop(sip::Instant now);
    // Re-registers at once (an operator's "register now"): the refresh or retry timer is
    // dropped and a REGISTER goes out now, with fresh credentials asked for by the
    // registrar's challenge. true when a REGISTER is on its way (one already outstanding
    // counts); false when not started, stopping, stopped or invalid.
    bool refresh_now(sip::Instant now);

    // Outcome of the request last sent. Returns false when the response is not for it.
    bool on_response(const sip::Message& response, sip::Instant now);
    void on_timeout(sip::Instant now);
    void on_transport_error(sip::Instant now);

    std::optional<sip::Instant> next_deadline() const noexcept;
    void handle_timeouts(sip::Instant now);
    std::optional<Action> poll();

    bool done() const noexcept { return done_; }
    // Done, and nothing of ours is left at the registrar that we meant to remove: the
    // unregister was confirmed, there was nothing to remove, or send_unregister is off.
    // False while running and after an unregister that was not answered or was refused.
    bool clean_stop() const noexcept { return done_ && !unclean_; }
    std::optional<sip::Instant> stop_deadline() const noexcept { return stop_deadline_; }
    const Status& status() const noexcept { return status_; }
    Persisted persisted() const;
    const RegClientConfig& config() const noexcept { return config_; }
    std::string contact_uri() const;

  private:
    enum class Purpose : std::uint8_t { none, recover, reg, unreg };

    void send(Purpose purpose, sip::Instant now);
    std::string build(Purpose purpose);
    void fail(std::string reason, sip::Instant now);
    void finish_purpose_failure(Purpose purpose, std::string reason, sip::Instant now);
    void abandon(std::string reason, sip::Instant now);
    void set_state(State s, std::string reason);
    std::optional<std::string> answer_challenge(const sip::Message& response, bool proxy);
    void registered(const sip::Message& response, sip::Instant now);
    std::uint32_t requested_expires() const noexcept;

    RegClientConfig config_;
    sip::auth::DigestClient digest_;
    sip::Random& rng_;
    std::optional<ConfigError> invalid_;

    std::string call_id_;
    std::string from_tag_;
    std::uint32_t cseq_ = 0;
    std::string old_contact_;  // recover: the contact to unregister first

    Purpose outstanding_ = Purpose::none;
    std::uint32_t outstanding_cseq_ = 0;
    sip::Instant sent_at_{};
    bool sent_www_ = false, sent_proxy_ = false;    // credentials carried by that request
    std::string www_auth_, proxy_auth_;             // credentials for the next resend
    std::uint32_t auth_rounds_ = 0;                 // challenges answered in this attempt
    std::optional<std::uint32_t> adopted_expires_;  // from 423 Min-Expires

    std::optional<sip::Instant> timer_;  // refresh or retry
    std::optional<sip::Instant> stop_deadline_;
    bool stopping_ = false;
    bool done_ = false;
    bool ever_sent_ = false;  // a REGISTER for our contact went out: a binding may exist
    bool unbound_ = false;    // our unregister was answered 2xx, or nothing was bound
    bool unclean_ = false;    // stopped with an unregister that was not answered / refused
    bool answered_ = false;   // the registrar (or proxy) sent a final response in this run
    bool silent_ = false;     // a REGISTER got no response while nothing was ever answered
    // A 2xx came for our contact, a REGISTER went unanswered, or an earlier run left our
    // contact bound: stop() must unregister. False while every attempt was refused.
    bool may_be_bound_ = false;
    Status status_;
    std::deque<Action> actions_;
};

}  // namespace route::reg

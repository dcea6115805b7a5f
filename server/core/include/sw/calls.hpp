// sw::Calls — the B2BUA: every call is an inbound leg from a customer (a mapping gateway)
// and an outbound leg to the vendor gateways LCR picked, tried in order until one connects.
// Pure: no clock, no I/O; it sends through the element's transactions.
//
//   sw::Calls calls(cfg, element, router, customers, rates, book, rng);
//   calls.set_vendor(gw_id, {.host = "192.0.2.20", .port = 5060});  // how to reach a gateway
//   // after every element input:
//   while (auto in = element.poll_call_input()) calls.on_input(std::move(*in), now);
//   while (auto e = element.poll_client_event())
//       if (!calls.on_client_event(*e, now)) registrations.on_client_event(*e, now);
//   while (auto c = calls.poll_cdr()) bill(*c);         // exactly one per call
//   if (auto d = calls.next_deadline()) arm(*d);  ...  calls.handle_timeouts(now);
//
// Call handling (each rule has a test in tests/server/calls_test.cpp on fake time):
// - An INVITE without a To tag is a new call. Its source identifies the customer
//   (route::lcr::Customers::identify). A customer with digest authentication (a VOS3000
//   dynamic gateway) is found by the user its Proxy-Authorization proves (RFC 3261 §22.3):
//   from an unknown source, an INVITE without credentials gets 407 with the authenticator's
//   challenges when such customers exist, and wrong credentials get 403. An unknown source
//   gets 403 (or nothing when
//   reply_unauthorized is off, VOS3000 SS_REPLY_UNAUTHORIZED) and an "illegal call" record
//   when record_illegal_calls is on (SERVER_BILLING_RECORD_ILLEGAL_CALL). Then the customer's
//   rules (Customers::admit), its rate for the callee (no rate: 403 "No Customer Rate"; a rate
//   type above the customer's authorization: 403 "Rate Type Not Authorized"), and LCR.
// - Outbound leg: a new dialog (Call-ID, tags, Via, Contact: topology hidden), the customer's
//   body passed unchanged, Request-URI to the gateway's address, From/To with its host name.
// - Failover: on a final response not in the stop list, the INVITE timeout (no response at
//   all, VOS3000 SS_SIP_TIMEOUT_INVITE), a transport error or a progress timeout, the next
//   candidate is tried, up to switch_limit. stop_after_invite_timeout stops at the first
//   INVITE timeout; stop_after_early_sdp stops once early media SDP was relayed; a ringing
//   timeout ends the call unless switch_until_connect. The customer gets one final answer:
//   the best of the failures (RFC 3261 §16.7: 6xx, then 4xx, then 5xx, then 408).
// - Progress timers (VOS3000 defaults): trying 20 s after 100, 20 s after 183 without SDP,
//   120 s after 183 with SDP, 120 s after 180; a connected call ends after max_call (7200 s,
//   SS_SIP_NO_TIMER_REINVITE_INTERVAL) with the server as the one who hung up.
// - CANCEL from the customer: 487 to its INVITE, CANCEL to the vendor once it has answered
//   provisionally (a 2xx that crosses it is ACKed and ended with BYE).
// - Prepaid (RFC 4006's idea of credit reserved in quotas): a call is admitted only when its
//   account can pay for its first second (else 402 "Insufficient Balance"); once answered it
//   reserves credit_quota of talk time at a time from balance + credit limit minus what the
//   account's other calls hold, and is ended by the server when no more can be reserved. So
//   concurrent calls of one account can never spend more than it has together. Each finished
//   call is rated here and debited from (customer) / credited to (vendor) the book at once.
// - Session timers (RFC 4028), per leg: our INVITE offers Session-Expires (session_expires,
//   VOS3000 SS_SIP_SESSION_TTL) and the vendor's 2xx decides who refreshes; toward the
//   customer, its INVITE decides (a customer without timer support gets none: max_call
//   bounds its call). Where we refresh, an UPDATE goes out every interval / refresh_divider
//   (SS_SIP_SESSION_UPDATE_SEGMENT); a refresh that fails with 408/481 ends the call. Where
//   the peer refreshes and no refresh arrives before the interval minus min(32 s, interval/3),
//   the call ends with BYE to both legs (RFC 4028 §10), the server as the one who hung up. A
//   body-less UPDATE is answered here (it only refreshes); anything with a body is relayed.
// - Connected: the 2xx is relayed (and retransmitted over UDP until the ACK, RFC 3261
//   §13.3.1.4), the vendor's 2xx is ACKed (with the customer's ACK body for a late offer);
//   BYE from either side ends both legs; re-INVITE, UPDATE and INFO are relayed with their
//   answers.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "billing/cdr.hpp"
#include "billing/rating.hpp"
#include "billing/volume_pricing.hpp"
#include "route/lcr/customers.hpp"
#include "route/lcr/rewrite.hpp"
#include "route/lcr/router.hpp"
#include "route/reg/registrar.hpp"
#include "sip/random.hpp"
#include "sip/time.hpp"
#include "sip/transport.hpp"
#include "sw/billing_rates.hpp"
#include "sw/call_history.hpp"
#include "sw/call_metrics.hpp"
#include "sw/element.hpp"
#include "sw/log_safety.hpp"

namespace sw {

using namespace std::chrono_literals;

struct CallTimers {
    sip::Duration invite_timeout = 10s;         // SS_SIP_TIMEOUT_INVITE
    sip::Duration trying_timeout = 20s;         // SS_SIP_TIMEOUT_TRYING
    sip::Duration progress_timeout = 20s;       // SS_SIP_TIMEOUT_SESSION_PROGRESS
    sip::Duration progress_sdp_timeout = 120s;  // SS_SIP_TIMEOUT_SESSION_PROGRESS_SDP
    sip::Duration ringing_timeout = 120s;       // SS_SIP_TIMEOUT_RINGING
    sip::Duration max_call = 7200s;             // SS_SIP_NO_TIMER_REINVITE_INTERVAL
    bool session_timers = true;
    sip::Duration session_expires = 600s;       // SS_SIP_SESSION_TTL
    sip::Duration min_se = 90s;                 // RFC 4028 Min-SE
    std::uint32_t refresh_divider = 2;          // SS_SIP_SESSION_UPDATE_SEGMENT (2..10)
};

struct FailoverConfig {
    std::vector<std::uint16_t> stop_codes{486, 487, 600, 603};  // never retried elsewhere
    bool switch_until_connect = false;       // SS_GATEWAY_SWITCH_UNTIL_CONNECT
    bool stop_after_invite_timeout = false;  // SS_SIP_USER_AGENT_STOP_SWITCH_AFTER_INVITE_TIMEOUT
    bool stop_after_early_sdp = false;       // SS_SIP_STOP_SWITCH_AFTER_SDP
    std::uint32_t switch_limit = 0;          // SS_GATEWAY_SWITCH_LIMIT; 0 = unlimited
};

struct LocalAddress {
    std::string host;
    std::uint16_t port = 5060;
};

struct CallsConfig {
    CallTimers timers;
    FailoverConfig failover;
    bool reply_unauthorized = true;    // SS_REPLY_UNAUTHORIZED
    bool record_illegal_calls = true;  // SERVER_BILLING_RECORD_ILLEGAL_CALL
    std::string server_header = "Trunkline";
    std::map<sip::Transport, LocalAddress> local;  // our Via / Contact per transport
    std::int64_t unix_offset_ms = 0;  // wall-clock ms = this + now (for CDR times)
    sip::Duration t1 = 500ms, t2 = 4s;  // 2xx retransmission toward the customer
    bool log_calls = true;
    billing::RatingConfig rating;  // rates every finished call (and the prepaid quotas)
    bool prepaid = true;           // limit calls by the account's balance + credit limit
    sip::Duration credit_quota = 60s;  // talk time reserved at a time
};

// How to reach a vendor gateway (the SIP side of route::lcr::GatewaySpec).
struct VendorSip {
    std::string host;  // IP literal; "" while `fqdn` is not resolved (the gateway is skipped)
    std::string fqdn;  // VOS3000 SIP server given as a name: resolved by the domain cache
    std::uint16_t port = 5060;
    sip::Transport transport = sip::Transport::Udp;
    std::string host_name;  // From/To host; "" = host
    std::string vendor_account;
    route::lcr::RewriteRules caller_rewrite, callee_rewrite;
    bool probe = true;  // OPTIONS health probes (sw::GatewayProbes)
    std::optional<sip::Target> proxy;  // outbound proxy: every request of the call goes there
};

// One finished call, for billing (CDR): rated, and already applied to the book's balances.
struct CallEnded {
    billing::CallRecord record;
    std::optional<billing::CallRating> rating;  // nullopt: rating_error says why
    // With rating: the CDR as priced and counted (volume tier, package) and booked.
    std::optional<billing::Cdr> cdr;
    std::string rating_error;
    std::string gateways_tried;  // "gw1:503,gw2:200"
    bool illegal = false;        // unknown source (no customer account)
};

struct CallInfo {
    std::uint64_t id = 0;
    std::string customer, vendor_gateway, caller, callee, state;
    std::string call_id_in, call_id_out;
    sip::Instant setup;
    std::optional<sip::Instant> answer;
};

struct CallsStats {
    std::uint64_t attempts = 0, answered = 0, failed = 0, refused = 0, illegal = 0;
    std::uint64_t failovers = 0, cancelled = 0, server_hangups = 0, credit_cutoffs = 0;
    std::uint64_t refreshes_sent = 0, refreshes_received = 0, session_expired = 0;
};

class Calls {
public:
    // `book` is the one `rates` reads; calls debit and credit it as they end.
    // `auth` (may be nullptr: no digest customers) checks Proxy-Authorization; it must
    // outlive the calls.
    Calls(CallsConfig cfg, Element& element, route::lcr::Router& router,
          route::lcr::Customers& customers, BillingRates& rates, billing::Book& book,
          route::reg::Authenticator* auth, sip::Random& rng);
    // Whether any customer authenticates with digest (the switch tells it on every reload).
    void set_digest_customers(bool any) noexcept;
    // The registrar whose retry/suspend rules digest customers' INVITEs count against too
    // (issue 16: otherwise a guesser switches from REGISTER to INVITE); nullptr: none.
    void set_auth_rules(route::reg::Registrar* registrar) noexcept;
    // Replaces the rating settings (currency, hold-time precision, free time) for the calls
    // that end from now on and the prepaid quotas.
    void set_rating(billing::RatingConfig rating);
    // Replaces the volume tiers and packages with their counters (a reload); see
    // Switch::set_volume_pricing.
    void set_volume_pricing(billing::VolumePricing pricing);
    ~Calls();
    Calls(const Calls&) = delete;
    Calls& operator=(const Calls&) = delete;

    void set_vendors(std::unordered_map<route::lcr::GatewayId, VendorSip> vendors);
    // Where a gateway given by name resolves now (the domain cache moved it).
    void set_vendor_target(route::lcr::GatewayId gw, const sip::Target& target);

    void on_input(CallInput in, sip::Instant now);
    // false: the transaction is not a call's (it belongs to someone else)
    bool on_client_event(ClientEvent& e, sip::Instant now);

    std::optional<sip::Instant> next_deadline() const;
    void handle_timeouts(sip::Instant now);

    std::optional<CallEnded> poll_cdr();
    std::optional<std::string> poll_log();
    std::optional<LogEntry> poll_log_entry();  // the same lines with their kind and fields

    std::vector<CallInfo> list() const;
    // The call one of whose legs has this Call-ID (a linear scan: for a trace's matching of
    // initial INVITEs only, never on every message).
    std::optional<CallInfo> find_by_call_id(std::string_view call_id) const;
    bool hangup(std::uint64_t id, sip::Instant now);  // operator: ends both legs
    std::size_t active() const noexcept;
    // Shutdown's drain (SIGTERM): from now on every new INVITE is answered 503 "Shutting
    // Down" with Retry-After: retry_after; the running calls go on. There is no way back
    // (the process is stopping).
    void drain(std::chrono::seconds retry_after) noexcept;
    bool draining() const noexcept;
    // Moves whenever a call starts, changes state or vendor, or ends (list() would differ).
    std::uint64_t generation() const noexcept;
    // Credit the account's running calls hold (prepaid reservations).
    billing::Money reserved(std::string_view account) const;
    const CallsStats& stats() const noexcept;
    const CallMetrics& metrics() const noexcept;  // per gateway: answered, talk time, PDD
    const CallHistory& history() const noexcept;  // the last hour by minute (Live page charts)

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace sw

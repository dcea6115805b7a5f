// route::reg::Keepalive — NAT keep-alive to registered UDP contacts, pure (issue 6 item 5).
//
//   sip::SeededRandom rng(seed);                           // the adapter seeds it from the OS
//   route::reg::Keepalive ka({.interval = 30s,
//                             .payload = route::reg::KeepalivePayload::options,
//                             .local_host = "198.51.100.7", .local_port = 5060},
//                            location, rng);
//   // registrar events Added / Refreshed:                ka.track(ev.aor, ev.contact, now);
//   // registrar Removed / Replaced, Location Expired:    ka.untrack(ev.aor, ev.contact);
//   if (auto d = ka.next_deadline()) arm(*d);  ...  ka.handle_timeouts(now);
//   while (auto a = ka.poll()) std::visit(overloaded{
//       [&](const SendCrlf& c) { udp.send(c.target, Keepalive::kCrlfPing); },
//       [&](const SendOptions& o) { probes[*layer.send_request(*o.bytes, o.target, now)] =
//                                       {o.aor, o.contact}; },
//       [&](const KeepaliveEvent& e) { log(e); }}, *a);
//   // the layer's outcome for that OPTIONS transaction:
//   ka.on_options_result(aor, contact, /*answered=*/true, now);   // any response at all
//   ka.on_options_result(aor, contact, /*answered=*/false, now);  // TxnTimeout, TransportError
//
// VOS3000 equivalents: SS_SIP_NAT_KEEP_ALIVE_MESSAGE (payload), SS_SIP_NAT_KEEP_ALIVE_PERIOD
// (interval). Which bindings: the REGISTER came over UDP (Binding::source) and, with nat_only
// (the default), the Contact's host:port differs from the source host:port, i.e. the
// REGISTER came through a NAT that has to keep its mapping open; nat_only off: every UDP
// binding. Stream bindings are never probed (their connection carries RFC 5626 CRLF
// keep-alives of its own). The probe goes to Binding::source (the NAT's public side), not
// to the contact address.
//
// Payloads: `crlf` queues SendCrlf (the adapter sends "\r\n\r\n" raw, RFC 5626 §4.4.1; no
// answer is expected, so a crlf binding is never marked down). `options` queues SendOptions:
// an out-of-dialog OPTIONS (RFC 3261 §11.1) to the contact (Request-URI = the contact URI
// without its headers component; To = it), with its own Via (sent-by local_host:local_port,
// a fresh branch, `rport` so the answer comes back through the NAT, RFC 3581), a From tag,
// a fresh Call-ID and CSeq 1 per probe, Max-Forwards 70, Accept and Content-Length 0. The
// bytes always parse with sip::Message::parse (checked here; when a contact's parameters keep
// it from parsing as a Request-URI, scheme:user@host:port is used instead).
// on_options_result(): any response, even 404/405/501, proves the device is there: the
// binding is set up (Location::set_down(false)) and, if it was down, an Up event is queued;
// no response (timeout, transport error) sets it down and queues Down when it was up. A
// result is only taken for a probe that is outstanding: an unknown binding, an untracked
// one, or a second result for the same probe is ignored (returns false). track() of a binding
// already tracked (a re-REGISTER, which Location::upsert turned up again) forgets the
// outstanding probe, so a late timeout of an OPTIONS sent before it cannot mark it down; if a
// Down had been reported, track() queues the matching Up.
//
// Schedule: the first probe of a newly tracked binding is due at track time + an offset drawn
// uniformly (injected Random, millisecond steps) from [0, interval), so 10,000 bindings added
// at once are spread over one interval instead of firing in one tick; after that one probe
// per interval on that binding's own grid (first due + k·interval). A tick that comes late
// (a stalled loop) sends one probe and continues on the grid; it never catches up with a
// burst. With options, a binding whose previous OPTIONS is still outstanding (its result not
// reported yet, and sent less than options_timeout ago) skips that slot: at most one OPTIONS
// per binding is in flight. At most max_probes_per_tick due bindings are handled per
// handle_timeouts(); the rest wait, and next_deadline() is then no earlier than that call's now +
// spill_delay, so the driver hands the loop back to I/O between batches.
//
// Bounded memory: one entry per tracked binding. untrack() removes it; a binding that is gone
// from the Location (expired, removed) or no longer qualifies (re-registered from a stream
// or from its own address) when its probe is due is dropped silently; track() of a binding
// that does not exist or does not qualify tracks nothing (and untracks it).
//
// Actions and events come out of one queue, in order, pulled with poll(). Errors: a config
// that fails validate() makes a Keepalive that tracks nothing (config_error() says why).
// Lifetimes: keeps references to the Location and the Random, which must outlive it. Not
// thread-safe (one per loop, DESIGN.md §8). Nothing calls back into user code.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "route/reg/config_error.hpp"
#include "route/reg/location.hpp"
#include "sip/random.hpp"
#include "sip/time.hpp"
#include "sip/transport.hpp"

namespace route::reg {

using namespace std::chrono_literals;

enum class KeepalivePayload : std::uint8_t { crlf, options };

struct KeepaliveConfig {
    std::chrono::seconds interval{30};                  // SS_SIP_NAT_KEEP_ALIVE_PERIOD; 5..3600 s
    KeepalivePayload payload = KeepalivePayload::crlf;  // SS_SIP_NAT_KEEP_ALIVE_MESSAGE
    bool nat_only = true;  // only bindings whose REGISTER came through a NAT (see above)
    // OPTIONS only: our address in Via sent-by and From (IPv6 without brackets), and the user
    // part of From.
    std::string local_host;
    std::uint16_t local_port = 5060;
    std::string from_user = "keepalive";
    // An OPTIONS whose result was not reported this long after it was sent no longer blocks
    // the next one (the wiring lost it). Timer F is 64·T1 = 32 s; 1..300 s.
    std::chrono::seconds options_timeout{32};
    std::size_t max_probes_per_tick = 1000;  // 0: no limit
    sip::Duration spill_delay = 20ms;        // > 0; see the header comment
};

// Names the first bad field and the allowed range; nullopt when the config is usable.
std::optional<ConfigError> validate(const KeepaliveConfig& config);

// --- Actions and events (pulled with poll())

// Send Keepalive::kCrlfPing as one datagram to `target`.
struct SendCrlf {
    std::string aor;
    std::string contact;
    sip::Target target;  // the binding's source: the NAT's public address
};
// Start a client transaction: layer.send_request(*bytes, target, now); report its outcome
// with on_options_result(aor, contact, ...).
struct SendOptions {
    std::string aor;
    std::string contact;
    sip::Bytes bytes;
    sip::Target target;  // the binding's source: the NAT's public address
};
// The binding changed state (only transitions are reported).
struct KeepaliveEvent {
    enum class Kind : std::uint8_t { Down, Up };
    Kind kind = Kind::Down;
    std::string aor;
    std::string contact;
    sip::Target source;
};
using KeepaliveAction = std::variant<SendCrlf, SendOptions, KeepaliveEvent>;

struct KeepaliveStats {
    std::uint64_t crlf_sent = 0;
    std::uint64_t options_sent = 0;
    std::uint64_t answered = 0;    // on_options_result(answered = true) taken
    std::uint64_t unanswered = 0;  // on_options_result(answered = false) taken
    std::uint64_t skipped = 0;     // slots skipped: the previous OPTIONS still outstanding
    std::uint64_t dropped = 0;     // entries dropped when due: binding gone or not qualifying
};

class Keepalive {
  public:
    static constexpr std::string_view kCrlfPing = "\r\n\r\n";

    Keepalive(KeepaliveConfig config, Location& location, sip::Random& rng);

    // Starts probing the binding of `aor` matching `contact` (Location::contact_key) if it is
    // live at `now` and qualifies; true when it is tracked afterwards. Already tracked: the
    // schedule is kept and an outstanding probe forgotten (see the header comment).
    bool track(std::string_view aor, std::string_view contact, sip::Instant now);
    // Stops probing it; false if it was not tracked.
    bool untrack(std::string_view aor, std::string_view contact);
    // The outcome of the OPTIONS last queued for this binding. False when ignored.
    bool on_options_result(std::string_view aor, std::string_view contact, bool answered,
                           sip::Instant now);

    std::optional<sip::Instant> next_deadline() const;
    void handle_timeouts(sip::Instant now);
    std::optional<KeepaliveAction> poll();

    std::size_t tracked() const noexcept { return entries_.size(); }
    // When the binding's next probe is due; nullopt when it is not tracked.
    std::optional<sip::Instant> next_probe(std::string_view aor, std::string_view contact) const;
    const KeepaliveStats& stats() const noexcept { return stats_; }
    const KeepaliveConfig& config() const noexcept { return config_; }
    const std::optional<ConfigError>& config_error() const noexcept { return invalid_; }

    // The selection rule: UDP source, a SIP/SIPS contact, and with nat_only a contact
    // host:port (default port 5060, sips 5061) other than the source's.
    static bool qualifies(const Binding& b, bool nat_only);

  private:
    using Key = std::pair<std::string, std::string>;  // aor, Location::contact_key(contact)
    struct Entry {
        std::uint64_t id = 0;   // tracking order: breaks ties in the schedule
        std::string contact;    // as given to track()
        sip::Instant anchor{};  // first due; the grid is anchor + k·interval
        sip::Instant due{};
        std::optional<sip::Instant> outstanding;  // OPTIONS sent at, result not reported
        bool down = false;                        // a Down was reported and no Up since
    };
    using Entries = std::map<Key, Entry, std::less<>>;
    using Slot = std::pair<sip::Instant, std::uint64_t>;  // due, id

    Entries::iterator find(std::string_view aor, std::string_view contact);
    void erase(Entries::iterator it);
    void probe(Entries::iterator it, sip::Instant now);
    std::optional<std::string> build_options(const Binding& b);

    KeepaliveConfig config_;
    Location& location_;
    sip::Random& rng_;
    std::optional<ConfigError> invalid_;
    Entries entries_;
    std::map<Slot, Entries::iterator> schedule_;
    std::optional<sip::Instant> spill_until_;
    std::uint64_t next_id_ = 1;
    KeepaliveStats stats_;
    std::deque<KeepaliveAction> actions_;
};

}  // namespace route::reg

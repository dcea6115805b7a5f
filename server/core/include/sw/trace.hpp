// sw::trace — on-demand capture of the calls matching a filter (VOS3000's "debug trace"):
// an operator starts a trace for a caller or callee number (prefix) or a customer/vendor
// gateway, the switch keeps every SIP message of the matching calls (both legs), and the
// API hands them out as a JSON ladder or as a pcap file Wireshark, tshark and sngrep open.
// Pure: messages, wall-clock stamps and the loop's time come in as arguments.
//
//   sw::trace::Traces traces;                                  // owned by sw::Switch
//   auto t = traces.start({.filter = {.callee = "4930"}, .limits = {}}, now);
//   if (!t) reject(t.error);                                   // {field, message}
//   // the driver, for every message in (after the switch read it) and out (each send):
//   if (traces.any_active())
//       traces.observe({.dir = Direction::in, .transport = src.transport,
//                       .src = {src.host, src.port}, .dst = {local_ip, local_port},
//                       .wall_us = now_us, .bytes = bytes}, now, lookup);
//   std::string file = sw::trace::pcap(traces.find(t.id)->messages);   // tshark -r
//
// Matching. A trace remembers Call-IDs. A message whose Call-ID a trace remembers is
// captured by it. An initial INVITE (no To tag) whose Call-ID it does not know is matched
// against the filter: every given field must hold: `caller` is a prefix of the From URI's
// user part, `callee` a prefix of the To URI's user part (a whole number is its own prefix),
// `gateway` names the call's customer gateway or vendor gateway (`lookup`, the switch's
// view of the call by Call-ID; it also gives the other leg's Call-ID). An outbound INVITE
// whose other leg a trace holds belongs to it too (the B leg of a traced A leg, whatever
// the vendor's rewrite rules did to the numbers), and so is every later failover attempt.
// The driver feeds a received message after the switch handled it, so the lookup already
// knows the call (customer, and the vendor when routing was immediate).
//
// Bounds: at most TracesConfig::max_traces traces (a new one evicts the oldest finished
// one; all active: refused), max_call_ids calls each; a trace ends ("finished") at its end
// time, at max_messages, at max_bytes or when all traces together would hold more than
// max_total_bytes; its messages stay readable until it is removed.
// Cost: one branch a message while no trace is active; while one is, a header scan of each
// message, and the lookup (a scan of the switch's calls) only for an INVITE we send, an
// INVITE whose numbers match a gateway trace.
// CRLF keep-alives are not SIP messages and are never captured.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sip/time.hpp"
#include "sip/transport.hpp"

namespace sw::trace {

using namespace std::chrono_literals;

enum class Direction : std::uint8_t { in, out };  // as the switch sees it
std::string_view to_string(Direction d) noexcept;  // "in", "out"

struct Endpoint {
    std::string ip;  // an IP literal, IPv6 without brackets
    std::uint16_t port = 0;
};

// One captured message.
struct Message {
    Direction dir = Direction::in;
    sip::Transport transport = sip::Transport::Udp;
    Endpoint src{}, dst{};
    std::int64_t wall_us = 0;  // Unix microseconds, when the bytes moved
    std::string bytes{};        // the SIP message as sent or received
};

struct Filter {
    std::string caller{};   // prefix of the From user part; "" = any
    std::string callee{};   // prefix of the To user part; "" = any
    std::string gateway{};  // customer or vendor gateway name; "" = any
    bool empty() const noexcept { return caller.empty() && callee.empty() && gateway.empty(); }
};

struct Limits {
    std::size_t max_messages = 10'000;
    std::size_t max_bytes = 16u << 20;
    sip::Duration duration = 10min;
};

struct Spec {
    Filter filter{};
    Limits limits{};
};

struct TracesConfig {
    std::size_t max_traces = 16;
    std::size_t max_call_ids = 256;  // calls one trace follows
    // what start() accepts
    std::size_t max_messages = 100'000;
    std::size_t max_bytes = 64u << 20;
    sip::Duration max_duration = 24h;
    std::size_t max_total_bytes = 256u << 20;  // every trace's messages together
};

enum class State : std::uint8_t { active, finished };
std::string_view to_string(State s) noexcept;  // "active", "finished"

struct Trace {
    std::uint64_t id = 0;
    Filter filter;
    Limits limits;
    sip::Instant started{}, ends{};
    State state = State::active;
    std::string end_reason{};  // "expired", "max_messages", "max_bytes", "max_total_bytes"; ""
    std::vector<Message> messages;
    std::size_t bytes = 0;           // of the messages' payloads
    std::set<std::string, std::less<>> call_ids;  // the calls followed
    std::uint64_t calls_not_followed = 0;          // matched beyond max_call_ids
};

// A message as the driver sees it (views valid during observe()).
struct Packet {
    Direction dir = Direction::in;
    sip::Transport transport = sip::Transport::Udp;
    std::string_view src_ip{};
    std::uint16_t src_port = 0;
    std::string_view dst_ip{};
    std::uint16_t dst_port = 0;
    std::int64_t wall_us = 0;
    std::string_view bytes{};
};

// What the switch knows of the call of a Call-ID (either leg).
struct CallFacts {
    std::string customer{};        // customer gateway
    std::string vendor_gateway{};  // the current attempt's vendor gateway; "" = none yet
    std::string other_call_id{};   // the other leg's Call-ID; "" = none
};
using Lookup = std::function<std::optional<CallFacts>(std::string_view call_id)>;

struct StartError {
    std::string field;  // "caller", "callee", "gateway", "duration_s", "max_messages", ...
    std::string message;
};

struct Started {
    std::uint64_t id = 0;
    StartError error;  // id 0: refused, error says why
    explicit operator bool() const noexcept { return id != 0; }
};

class Traces {
  public:
    explicit Traces(TracesConfig cfg = {}) : cfg_(cfg) {}

    // Checks the spec (a filter, limits within TracesConfig) and starts it.
    // field "" with a message: no room (every trace is active).
    Started start(Spec spec, sip::Instant now);
    // One branch when no trace is active: the driver's per-message cost.
    bool any_active() const noexcept { return active_ != 0; }
    void observe(const Packet& p, sip::Instant now, const Lookup& lookup);
    // Ends the traces whose end time has come (observe() and the API call it).
    void expire(sip::Instant now);
    const Trace* find(std::uint64_t id) const;
    bool remove(std::uint64_t id);
    // Oldest first.
    const std::vector<std::unique_ptr<Trace>>& list() const noexcept { return traces_; }
    const TracesConfig& config() const noexcept { return cfg_; }

  private:
    void capture(Trace& t, const Packet& p);
    void finish(Trace& t, std::string_view reason);
    TracesConfig cfg_;
    std::vector<std::unique_ptr<Trace>> traces_;
    std::size_t active_ = 0;
    std::size_t total_bytes_ = 0;
    std::uint64_t next_id_ = 1;
};

// What the matching reads of a message (exposed for tests and the JSON summary).
struct Summary {
    std::string_view first_line;  // "INVITE sip:...", "SIP/2.0 200 OK"
    std::string_view call_id;
    std::string_view from_user, to_user;
    bool initial_invite = false;  // an INVITE request without a To tag
};
Summary summarize(std::string_view sip);

// The messages as a classic libpcap file (magic a1b2c3d4, µs stamps, LINKTYPE_RAW = 101):
// each message one IPv4 or IPv6 packet with a UDP header (UDP) or a TCP segment (TCP and
// TLS, shown as their plaintext) whose sequence numbers run on per direction of a
// connection, split in segments of at most 65,000 octets; IP, UDP and TCP checksums are
// correct. An address that is not an IP literal shows as 0.0.0.0 (or :: beside IPv6).
std::string pcap(std::span<const Message> messages);

}  // namespace sw::trace

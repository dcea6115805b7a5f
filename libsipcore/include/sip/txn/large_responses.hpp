// sip::txn::LargeResponses — responses too large for one UDP datagram (RFC 3261 §18.2.2).
//
//   sip::txn::LargeResponses large;                    // on the send path of a UAS/proxy
//   while (auto a = layer.poll())
//       if (auto* s = std::get_if<sip::txn::SendBytes>(&*a))
//           transport.send(large.route(std::move(*s)));  // maybe re-addressed over TCP
//   // the transport could not deliver (tag from the send):
//   if (sip::txn::LargeResponses::owns(tag)) {
//       if (auto s = large.on_send_failed(tag)) transport.send(*s);  // the 513, over UDP
//   }
//   while (auto l = large.poll_log()) log(*l);
//
// A response for UDP larger than `max_datagram` (65,507 bytes, the most an IPv4 datagram
// carries; a request with a few hundred Via fields makes one) cannot be sent as it is. The
// client's top Via names where it listens (§18.2.2): route() re-addresses the response over
// TCP to the address the request came from (the "received" address) at the sent-by port (5060
// without one), with a tag of its own (owns() says which). If that fails (nobody listens, the
// connection is refused or times out), on_send_failed() gives a 513 Message Too Large for the
// original UDP destination: the Via fields, From, To, Call-ID and CSeq of the response, nothing
// else (§21.5.11). Where TCP cannot be used (maddr), the 513 is sent at once; a 513 that is
// itself too large, or bytes that are not a response, are passed on unchanged and fail in the
// transport as before (counted here).
//
// Pure; no clock: the 513s waiting for a failure report are a bounded FIFO (`max_pending`,
// the oldest forgotten first: a TCP delivery that worked never reports back).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "sip/txn/layer.hpp"

namespace sip::txn {

struct LargeResponsesConfig {
    std::size_t max_datagram = 65507;  // IPv4: 65,535 - 20 (IP) - 8 (UDP)
    std::size_t max_pending = 1024;    // 513s kept for a possible TCP failure report
};

struct LargeResponsesStats {
    std::uint64_t over_tcp = 0;      // re-addressed over TCP to the sent-by
    std::uint64_t answered_513 = 0;  // 513 sent instead (TCP failed, or impossible)
    std::uint64_t unsendable = 0;    // passed on too large (not a response; 513 too large)
};

class LargeResponses {
  public:
    explicit LargeResponses(LargeResponsesConfig cfg = {}) : cfg_(cfg) {}

    // The send to make instead of `s`: `s` itself, the same bytes over TCP, or a 513.
    SendBytes route(SendBytes s);
    // Tags of the sends route() re-addressed (never a transaction id, never 0).
    static bool owns(std::uint64_t tag) noexcept { return (tag & kOwnTag) != 0; }
    // One of ours could not be delivered: the 513 to send over UDP (once), if still kept.
    std::optional<SendBytes> on_send_failed(std::uint64_t tag);

    std::optional<std::string> poll_log();
    const LargeResponsesStats& stats() const noexcept { return stats_; }

  private:
    static constexpr std::uint64_t kOwnTag = 1ull << 63;
    struct Pending {
        std::uint64_t tag;
        SendBytes fallback;  // the 513 for the UDP destination
    };

    LargeResponsesConfig cfg_;
    std::deque<Pending> pending_;  // tags increasing
    std::uint64_t next_ = 1;
    std::deque<std::string> logs_;
    LargeResponsesStats stats_;
};

}  // namespace sip::txn

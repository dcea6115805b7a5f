// sw::answer_stateless — the parser-stage behaviour of `trunkline`, pure (no I/O, no clock).
//
//   sw::Inbound in{.bytes = datagram, .transport = "UDP", .peer_ip = "127.0.0.1",
//                  .peer_port = 5061, .framing = sip::Framing::Datagram};
//   sw::Outcome out = sw::answer_stateless(in, {});
//   if (out.reply) send_to(in.peer_ip, out.reply->port, out.reply->bytes);
//   log(out.log_line);              // exactly one line per message
//
// Requests: OPTIONS gets 200 with Allow/Accept/Supported; ACK gets nothing; an unknown
// method 501, another known method 405 (both with Allow); an unsupported Request-URI scheme
// 416. A request the parser rejects gets 400 with the fault as reason phrase (505 for a
// foreign SIP version) when its Via and CSeq still allow a reply; otherwise it is dropped.
// Responses are dropped (there is no transaction layer at this stage).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace sw {

struct Inbound {
    std::string_view bytes;
    std::string_view transport;  // "UDP" / "TCP", for the log
    std::string_view peer_ip;
    std::uint16_t peer_port = 0;
    sip::Framing framing = sip::Framing::Datagram;
};

struct Reply {
    std::string bytes;
    std::uint16_t port = 0;  // UDP destination port (RFC 3261 §18.2.2 / RFC 3581)
};

struct Outcome {
    std::optional<Reply> reply;
    std::string log_line;
    bool parsed = false;
};

struct StatelessConfig {
    sip::ParseLimits limits;
    std::string_view server_header = "Trunkline";
};

Outcome answer_stateless(const Inbound& in, const StatelessConfig& cfg);

}  // namespace sw

// Transport-neutral addressing shared by the transaction layer and the transports.
//
//   sip::Target to{sip::Transport::Udp, "192.0.2.10", 5060};   // where bytes go
//   sip::Bytes b = sip::make_bytes(std::move(request_text));   // immutable, shareable
//
// Outgoing bytes are immutable shared buffers (DESIGN.md §3): a retransmission resends the
// same bytes, and a libuv write can hold them until its callback.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sip {

enum class Transport : std::uint8_t { Udp, Tcp, Tls };

constexpr bool reliable(Transport t) noexcept { return t != Transport::Udp; }
std::string_view transport_name(Transport t) noexcept;  // "UDP", "TCP", "TLS"

struct Target {
    Transport transport = Transport::Udp;
    std::string host;        // an IP literal (IPv6 without brackets)
    std::uint16_t port = 0;
    std::uint64_t conn = 0;  // a stream connection to reuse (0: any / open one)
    std::string tls_name;    // TLS: SNI and the name the peer certificate must match

    friend bool operator==(const Target&, const Target&) = default;
};

using Bytes = std::shared_ptr<const std::string>;
inline Bytes make_bytes(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

}  // namespace sip

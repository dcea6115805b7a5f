// Socket address helpers shared by the transports (private to sipcore_uv).
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace sip::uv::detail {

// An IP literal (IPv6 without brackets) and a port into `out`; false if `host` is not one.
bool make_sockaddr(std::string_view host, std::uint16_t port, sockaddr_storage& out);
// The numeric host ("192.0.2.1", "::1") and port of `sa`.
void sockaddr_parts(const sockaddr* sa, std::string& host, std::uint16_t& port);
// "192.0.2.1:5060" / "[::1]:5060" for log lines.
std::string host_port(std::string_view host, std::uint16_t port);

// The source a peer counts as for per-source limits (sip::StreamGuard): its IPv4 address, or
// the /64 of its IPv6 address ("2001:db8:1:2::/64": one host usually holds a whole /64); an
// IPv4-mapped IPv6 address counts as the IPv4 address.
std::string source_key(const sockaddr* sa);
// The same from configuration: "192.0.2.7", "2001:db8:1:2::9" or "2001:db8:1:2::/64".
// False if `spec` is none of these.
bool source_key(std::string_view spec, std::string& key);

}  // namespace sip::uv::detail

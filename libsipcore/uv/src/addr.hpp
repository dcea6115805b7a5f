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

}  // namespace sip::uv::detail

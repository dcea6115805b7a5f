// sw::form — the small value checks and message pieces that every operator form shares:
// trunkctl's option parsing (tools/trunkctl/cli_util.hpp) and the API's forms for gateways
// (sw/gateway_form.hpp) and carrier registrations (sw/trunk_form.hpp), so each says the same
// words about the same value.
//
//   if (!sw::form::valid_host(h)) return bad(sw::form::opt_text("--host", h) + ": not a host");
//   // "--host 'a b': not a host"   (a value quoted when empty or with blanks)
#pragma once

#include <optional>
#include <string>

#include "sip/transport.hpp"

namespace sw::form {

// A value as given, quoted when it is empty or has blanks ("--user 'a b'").
std::string show_value(const std::string& v);
// "--expires 10" for messages.
std::string opt_text(const std::string& opt, const std::string& v);
std::string lower(std::string s);
bool is_ipv4(const std::string& h);
bool is_ipv6(const std::string& h);
bool is_ip(const std::string& h);
// A host name (labels of 1..63 letters, digits, '-', '_'; '-' neither first nor last), an
// IPv4 or an IPv6 literal.
bool valid_host(const std::string& h);
// "[2001:db8::1]" -> "2001:db8::1"; anything else unchanged.
std::string unbracket(const std::string& h);
// Decimal digits only, 1..65535.
std::optional<unsigned long> parse_port(const std::string& p);
// HOST[:PORT] with IPv6 in brackets ("[2001:db8::1]:5060"; a bare IPv6 literal has no port).
// `need_ip`: HOST must be an IP literal. The normalized text, nullopt when malformed.
std::optional<std::string> parse_host_port(const std::string& v, bool need_ip = false,
                                           bool port_required = false);
// udp, tcp or tls in any case; nullopt otherwise (each caller words its own message).
std::optional<sip::Transport> parse_transport(std::string t);

}  // namespace sw::form

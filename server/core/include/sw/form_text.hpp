// sw::form — the small value checks and message pieces that every operator form shares:
// trunkctl's option parsing (tools/trunkctl/cli_util.hpp) and the API's forms for gateways
// (sw/gateway_form.hpp) and carrier registrations (sw/trunk_form.hpp), so each says the same
// words about the same value.
//
//   if (!sw::form::valid_host(h)) return bad(sw::form::opt_text("--host", h) + ": not a host");
//   // "--host 'a b': not a host"   (a value quoted when empty or with blanks)
#pragma once

#include <string>

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

}  // namespace sw::form

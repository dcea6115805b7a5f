// route::lcr::VendorGateway — a vendor (VOS3000 routing) gateway as operators configure it:
// the router's GatewaySpec plus where its calls go (host, port, transport, ...). Pure: the
// SQLite store keeps it (route::lcr::sqlite::VendorGateway is this type), and the shared
// validation of trunkctl and the management API (sw/gateway_form.hpp) fills it.
//
//   route::lcr::VendorGateway v;
//   v.spec.name = "carrierA"; v.spec.prefixes = {"44"}; v.vendor_account = "9001";
//   v.host = "192.0.2.20";
#pragma once

#include <cstdint>
#include <string>

#include "route/lcr/router.hpp"

namespace route::lcr {

struct VendorGateway {
    GatewaySpec spec;               // rate_key is not stored: the switch assigns it
    std::string vendor_account;     // billing account whose rate group is the clearing rate
    std::string host;               // VOS3000 SIP server: an IP literal or an FQDN
    std::uint16_t port = 0;         // 0: 5060 (5061 for TLS); an FQDN without port uses SRV
    std::string transport = "udp";  // udp | tcp | tls
    std::string outbound_proxy;     // "host[:port]" or ""
    std::string host_name;          // VOS3000 host name: the host of From/To; "" = host
    std::string caller_rewrite, callee_rewrite;  // route::lcr::RewriteRules text
    bool probe = true;                           // OPTIONS health probes
};

}  // namespace route::lcr

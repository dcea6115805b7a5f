// route::lcr::Customers — customer (VOS3000 mapping) gateways: who is calling, and may they.
// Pure: no clock, no I/O.
//
//   route::lcr::Customers customers({.blacklist = {.limit = 30}});
//   customers.set_customers({{.name = "acme", .account = "1001", .ips = {"192.0.2.10"},
//                             .line_limit = 100, .callee_rewrite = "00*:*"}});
//   auto id = customers.identify("192.0.2.10", 5060, "");     // source ip, port, digest user
//   if (!id) reject_403_or_drop();
//   route::lcr::Admission a = customers.admit(*id, caller, callee, dest_key, now);
//   if (!a.ok) answer(a.code, a.reason);                       // 403 / 503 with a reason
//   route(a.callee) ...;  customers.call_ended(*id, dest_key); // exactly once per admitted call
//
// identify(): digest users first (auth == digest and sip_user equal to the authenticated user),
// then ip_port gateways whose "ip:port" equals the source, then ip gateways listing the source
// address; among several matches the smallest priority wins, then the name. Disabled
// customers never match. IPv6 addresses are written without brackets ("2001:db8::1", and
// "[2001:db8::1]:5060" for ip_port).
//
// admit() checks, in this order, and answers the first failure:
//   restriction  call_out_barring or all                    -> 403 "Calls barred"
//   caller       caller_allow (non-empty: must match one prefix) / caller_deny -> 403
//   callee       callee_allow / callee_deny                 -> 403 "Callee not allowed"
//   blacklist    the caller placed more than blacklist.limit calls within blacklist.interval
//                (VOS3000 SS_BLACK_LIST_CALLER_MALICIOUS_CALL_LIMIT / _CHECK_INTERVAL): it is
//                blocked for blacklist.expire (_EXPIRE)  -> 403 "Caller blacklisted"
//   line_limit   current calls of this customer >= line_limit -> 503 "Customer line limit"
//   cps_limit    calls admitted in the last second >= cps_limit -> 503 "Customer CPS limit"
//   dest limit   current calls of this customer's ACCOUNT with the same dest_key (the switch
//                passes the matched rate prefix) >= dest_prefix_limit -> 503
// then applies caller_rewrite and callee_rewrite and counts the call (line, CPS, dest key).
// Every attempt (admitted or not) counts toward the caller's blacklist window.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "route/lcr/rewrite.hpp"
#include "route/lcr/router.hpp"

namespace route::lcr {

using CustomerId = std::uint32_t;

enum class AuthMode : std::uint8_t { ip, ip_port, digest };
std::string_view to_string(AuthMode m);
std::optional<AuthMode> parse_auth_mode(std::string_view s);  // "ip", "ip_port", "digest"

// VOS3000 restriction type.
enum class Restriction : std::uint8_t { none, call_out_barring, call_in_barring, all };
std::string_view to_string(Restriction r);
std::optional<Restriction> parse_restriction(std::string_view s);

struct CustomerSpec {
    std::string name;                  // VOS3000 gateway ID (unique)
    std::string account;               // billing account id (VOS3000 account binding)
    AuthMode auth = AuthMode::ip;
    std::vector<std::string> ips;      // ip: addresses; ip_port: "addr:port"
    std::string sip_user;              // digest: the SIP user (trunkctl user) of this customer
    std::int32_t priority = 0;         // static mapping: several gateways on one address
    std::uint32_t line_limit = 0;      // VOS3000 number of channels; 0 = unlimited
    std::uint32_t cps_limit = 0;       // 0 = unlimited
    std::uint32_t dest_prefix_limit = 0;  // concurrent calls of the account to one prefix
    std::vector<std::string> caller_allow, caller_deny, callee_allow, callee_deny;
    std::string caller_rewrite, callee_rewrite;  // RewriteRules text
    Restriction restriction = Restriction::none;
    std::uint8_t max_rate_type = 3;    // VOS3000 authorization type: 0 net, 1 local,
                                       // 2 national, 3 international (checked by the switch)
    std::uint32_t proceeding_timeout_s = 0;  // 0 = the server default
    bool enabled = true;
};

struct BlacklistConfig {
    std::uint32_t limit = 0;             // calls per interval; 0 = off
    Nanos interval = std::chrono::seconds(60);
    Nanos expire = std::chrono::seconds(3600);
    std::size_t max_tracked = 100'000;   // callers tracked at once (oldest window dropped)
};

struct CustomersConfig {
    BlacklistConfig blacklist;
};

struct Admission {
    bool ok = false;
    std::uint16_t code = 0;     // SIP status when refused (403 / 503)
    std::string reason;         // reason phrase when refused
    std::string caller, callee; // rewritten numbers when admitted
};

struct CustomerState {
    std::uint32_t current_calls = 0;
    std::uint64_t total_calls = 0;
    std::uint64_t refused = 0;
};

class Customers {
public:
    explicit Customers(CustomersConfig cfg = {});
    ~Customers();
    Customers(Customers&&) noexcept;
    Customers& operator=(Customers&&) noexcept;

    // Replaces the table; ids of customers that keep their name stay the same (their current
    // calls and counters too). Errors: a bad rewrite rule -> false, *error names the customer.
    bool set_customers(std::vector<CustomerSpec> customers, std::string* error);
    void set_config(const CustomersConfig& cfg);

    std::optional<CustomerId> identify(std::string_view ip, std::uint16_t port,
                                       std::string_view digest_user) const;
    Admission admit(CustomerId id, std::string_view caller, std::string_view callee,
                    std::string_view dest_key, Nanos now);
    void call_ended(CustomerId id, std::string_view dest_key);

    const CustomerSpec* spec(CustomerId id) const;  // nullptr: unknown or removed
    CustomerState state(CustomerId id) const;
    std::optional<CustomerId> find(std::string_view name) const;
    std::vector<CustomerId> customers() const;     // configured (not removed), by name
    bool blacklisted(std::string_view caller, Nanos now) const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace route::lcr

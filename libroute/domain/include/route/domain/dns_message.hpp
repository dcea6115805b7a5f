// A bounded DNS answer parser (RFC 1035 §4) for the records SIP routing needs: A, AAAA,
// CNAME, SRV (RFC 2782), NAPTR (RFC 3403) with their TTLs, and the SOA of a negative answer
// (RFC 2308). c-ares 1.18 hands SRV and NAPTR replies over without TTLs, so the adapter
// passes the raw answer here.
//
//   sip::Result<DnsAnswer> a = parse_dns_answer(bytes);
//   if (!a) log("offset {}: {}", a.error().offset, a.error().what());
//   else if (a->rcode == Rcode::NxDomain) neg_ttl = negative_ttl(*a).value_or(30);
//   else for (const SrvRecord& s : records_at(*a, a->srv, chain_end(*a, qname).name)) ...
//
// The result owns its strings (names are lower-cased, without the trailing dot, with
// non-hostname bytes escaped as \DDD); nothing points into the input after the call.
// Errors (sip::Error, offset = byte offset of the fault):
//   incomplete          the packet ends inside the header, a name, a record or its data
//   bad_frame           not a response, a compression pointer that does not point strictly
//                       backwards (loops), a label type other than 0/0xC0, rdata whose
//                       fields do not fill its RDLENGTH exactly
//   too_large           more records than DnsLimits allow
//   value_out_of_range  a name longer than 255 bytes or more pointer jumps than allowed
// Only the question, answer and authority sections are read; the additional section is
// ignored (it is optional to a resolver and is where truncation usually bites).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sip/result.hpp"

namespace route::domain {

enum class RrType : std::uint16_t {
    A = 1,
    Cname = 5,
    Soa = 6,
    Aaaa = 28,
    Srv = 33,
    Naptr = 35,
};
std::string_view rr_type_name(RrType t) noexcept;  // "A", "AAAA", "SRV", ...

enum class Rcode : std::uint8_t {
    NoError = 0,
    FormErr = 1,
    ServFail = 2,
    NxDomain = 3,
    NotImp = 4,
    Refused = 5,
};

// An IPv4 or IPv6 address in network byte order (IPv4 uses the first 4 bytes).
struct IpAddress {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};

    static std::optional<IpAddress> parse(std::string_view text);  // "192.0.2.1", "2001:db8::1"
    std::string to_string() const;                                 // RFC 5952 text for IPv6
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct AddressRecord {
    std::string name;
    std::uint32_t ttl = 0;
    IpAddress address;
};

struct CnameRecord {
    std::string name;
    std::uint32_t ttl = 0;
    std::string target;
};

struct SrvRecord {
    std::string name;
    std::uint32_t ttl = 0;
    std::uint16_t priority = 0;
    std::uint16_t weight = 0;
    std::uint16_t port = 0;
    std::string target;  // "" for the root name "." (service not available, RFC 2782)
};

struct NaptrRecord {
    std::string name;
    std::uint32_t ttl = 0;
    std::uint16_t order = 0;
    std::uint16_t preference = 0;
    std::string flags;     // character-strings as received (bytes, not escaped)
    std::string services;  // "SIP+D2U", "SIPS+D2T", ...
    std::string regexp;
    std::string replacement;  // a domain name; "" for "."
};

struct SoaRecord {
    std::string name;
    std::uint32_t ttl = 0;
    std::uint32_t minimum = 0;
};

struct DnsAnswer {
    std::uint16_t id = 0;
    Rcode rcode = Rcode::NoError;
    std::uint8_t raw_rcode = 0;
    bool truncated = false;      // TC bit
    bool authoritative = false;  // AA bit
    std::string qname;           // first question; "" when the packet has none
    std::uint16_t qtype = 0;
    std::vector<AddressRecord> addresses;  // answer section A and AAAA
    std::vector<CnameRecord> cnames;
    std::vector<SrvRecord> srv;
    std::vector<NaptrRecord> naptr;
    std::optional<SoaRecord> soa;  // authority section (negative answers)
};

struct DnsLimits {
    std::size_t max_packet = 65535;
    std::size_t max_records = 512;  // answer + authority records
    std::size_t max_pointer_jumps = 32;
};

sip::Result<DnsAnswer> parse_dns_answer(std::span<const std::uint8_t> packet,
                                        const DnsLimits& limits = {});

// RFC 2308 §5: the negative-caching TTL is min(SOA TTL, SOA MINIMUM); nullopt without SOA.
std::optional<std::uint32_t> negative_ttl(const DnsAnswer& a) noexcept;

// Follows the CNAME chain from `qname` (at most `max_steps` links; a loop ends there).
struct ChainEnd {
    std::string name;                // the name whose records answer the question
    std::uint32_t ttl = UINT32_MAX;  // smallest CNAME TTL on the way (UINT32_MAX: none)
    bool loop = false;               // the chain did not end within max_steps
};
ChainEnd chain_end(const DnsAnswer& a, std::string_view qname, int max_steps = 8);

// Lower-cases and strips one trailing dot: the form names take in DnsAnswer.
std::string normalize_name(std::string_view name);

}  // namespace route::domain

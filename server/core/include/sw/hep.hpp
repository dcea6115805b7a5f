// sw::hep — SIP capture as HEPv3 (the Homer Encapsulation Protocol, "HEP3"), so Homer and
// sngrep's HEP listener show Trunkline's traffic like any other switch's.
// Pure: bytes and a timestamp in, one packet out; the wiring (wiring::HepSender) sends it.
//
//   sw::hep::Packet p{.transport = sip::Transport::Udp,
//                     .src = {"192.0.2.7", 5060}, .dst = {"198.51.100.1", 5060},
//                     .ts_sec = 1733400000, .ts_usec = 250000,
//                     .capture_id = 2001, .auth_key = "",   // "" = no auth-key chunk
//                     .correlation_id = sw::hep::call_id_of(sip_bytes),
//                     .payload = sip_bytes};
//   std::string why;
//   if (auto bytes = sw::hep::encode(p, &why)) send(*bytes); else count_drop(why);
//
// Wire format (sipcapture HEP v3, "HEP-EEP"): "HEP3", a 16-bit total length, then chunks of
// {vendor id 0, type id, 16-bit length including this 6-octet chunk header, value}, every
// number in network byte order. Chunks written, in this order:
//   0x0001 IP family (u8: 2 IPv4, 10 IPv6)     0x0002 IP protocol (u8: 17 UDP, 6 TCP and TLS)
//   0x0003/0x0004 IPv4 src/dst (4 octets)  or  0x0005/0x0006 IPv6 src/dst (16 octets)
//   0x0007/0x0008 src/dst port (u16)           0x0009/0x000a timestamp s / µs (u32)
//   0x000b protocol type (u8: 1 = SIP)         0x000c capture agent id (u32)
//   0x000e auth key (text; only when set)      0x000f payload (the SIP message as sent/received)
//   0x0011 correlation id (text: the Call-ID; only when found)
// TLS is carried as its plaintext with protocol 6: the field is the IP protocol, and the
// collector needs the SIP, not the records.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/transport.hpp"

namespace sw::hep {

struct Endpoint {
    std::string_view ip;  // an IP literal, IPv6 without brackets ("::1")
    std::uint16_t port = 0;
};

struct Packet {
    sip::Transport transport = sip::Transport::Udp;
    Endpoint src{}, dst{};                  // both of one family
    std::uint32_t ts_sec = 0, ts_usec = 0;  // wall clock (Unix time), when the bytes moved
    std::uint32_t capture_id = 2001;        // the capture agent id Homer groups nodes by
    std::string_view auth_key{};            // the collector's password; "" = no chunk
    std::string_view correlation_id{};      // the Call-ID; "" = no chunk
    std::string_view payload{};             // the SIP message, byte for byte
};

// Chunk type ids (vendor 0, the generic set).
enum Chunk : std::uint16_t {
    kIpFamily = 0x0001,
    kIpProto = 0x0002,
    kIp4Src = 0x0003,
    kIp4Dst = 0x0004,
    kIp6Src = 0x0005,
    kIp6Dst = 0x0006,
    kSrcPort = 0x0007,
    kDstPort = 0x0008,
    kTsSec = 0x0009,
    kTsUsec = 0x000a,
    kProtoType = 0x000b,
    kCaptureId = 0x000c,
    kAuthKey = 0x000e,
    kPayload = 0x000f,
    kCorrelationId = 0x0011,
};

// The packet, or nullopt with *why set: an address that is not an IP literal, src and dst of
// different families, or more than the 65,535 octets a HEP length field can count.
std::optional<std::string> encode(const Packet& p, std::string* why = nullptr);

// The Call-ID header's value ("Call-ID" or its compact form "i", any case), trimmed; "" when
// the header section has none. Scans header lines only, never the body.
std::string_view call_id_of(std::string_view sip);

// An IP literal as the 4 or 16 octets HEP carries; nullopt for anything else.
struct IpBytes {
    bool v6 = false;
    std::array<std::uint8_t, 16> octets{};
};
std::optional<IpBytes> parse_ip(std::string_view ip);

}  // namespace sw::hep

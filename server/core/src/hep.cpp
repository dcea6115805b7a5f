#include "sw/hep.hpp"

#include <arpa/inet.h>  // inet_pton: text to octets, no I/O

#include <cstring>

namespace sw::hep {
namespace {

constexpr std::size_t kChunkHeader = 6;  // vendor id, type id, length
constexpr std::size_t kMaxPacket = 0xffff;

void put16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v & 0xff));
}

void put32(std::string& out, std::uint32_t v) {
    put16(out, static_cast<std::uint16_t>(v >> 16));
    put16(out, static_cast<std::uint16_t>(v & 0xffff));
}

void chunk(std::string& out, Chunk type, std::string_view value) {
    put16(out, 0);  // vendor 0: the generic chunk set
    put16(out, type);
    put16(out, static_cast<std::uint16_t>(kChunkHeader + value.size()));
    out.append(value);
}

void chunk8(std::string& out, Chunk type, std::uint8_t v) {
    const char c = static_cast<char>(v);
    chunk(out, type, std::string_view(&c, 1));
}

void chunk16(std::string& out, Chunk type, std::uint16_t v) {
    std::string b;
    put16(b, v);
    chunk(out, type, b);
}

void chunk32(std::string& out, Chunk type, std::uint32_t v) {
    std::string b;
    put32(b, v);
    chunk(out, type, b);
}

std::string_view octets(const IpBytes& a) {
    return {reinterpret_cast<const char*>(a.octets.data()), a.v6 ? 16u : 4u};
}

bool fail(std::string* why, const char* what) {
    if (why) *why = what;
    return false;
}

bool addresses(const Packet& p, IpBytes& src, IpBytes& dst, std::string* why) {
    auto s = parse_ip(p.src.ip), d = parse_ip(p.dst.ip);
    if (!s || !d) return fail(why, "an address is not an IP literal");
    if (s->v6 != d->v6) return fail(why, "source and destination are of different families");
    src = *s;
    dst = *d;
    return true;
}

bool name_is_call_id(std::string_view name) {
    if (name.size() == 1) return name[0] == 'i' || name[0] == 'I';
    constexpr std::string_view kName = "call-id";
    if (name.size() != kName.size()) return false;
    for (std::size_t i = 0; i < kName.size(); ++i) {
        const char c = name[i];
        if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c) != kName[i]) return false;
    }
    return true;
}

std::string_view trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
        v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r'))
        v.remove_suffix(1);
    return v;
}

}  // namespace

std::optional<IpBytes> parse_ip(std::string_view ip) {
    char buf[64];
    if (ip.empty() || ip.size() >= sizeof(buf)) return std::nullopt;
    std::memcpy(buf, ip.data(), ip.size());
    buf[ip.size()] = '\0';
    IpBytes out;
    out.v6 = ip.find(':') != std::string_view::npos;
    if (::inet_pton(out.v6 ? AF_INET6 : AF_INET, buf, out.octets.data()) != 1) return std::nullopt;
    return out;
}

std::optional<std::string> encode(const Packet& p, std::string* why) {
    IpBytes src, dst;
    if (!addresses(p, src, dst, why)) return std::nullopt;
    std::string out = "HEP3";
    put16(out, 0);                            // total length, set once known
    chunk8(out, kIpFamily, src.v6 ? 10 : 2);  // AF_INET6 / AF_INET as HEP numbers them
    chunk8(out, kIpProto, p.transport == sip::Transport::Udp ? 17 : 6);
    chunk(out, src.v6 ? kIp6Src : kIp4Src, octets(src));
    chunk(out, src.v6 ? kIp6Dst : kIp4Dst, octets(dst));
    chunk16(out, kSrcPort, p.src.port);
    chunk16(out, kDstPort, p.dst.port);
    chunk32(out, kTsSec, p.ts_sec);
    chunk32(out, kTsUsec, p.ts_usec);
    chunk8(out, kProtoType, 1);  // SIP
    chunk32(out, kCaptureId, p.capture_id);
    if (!p.auth_key.empty()) chunk(out, kAuthKey, p.auth_key);
    // checked before the payload is copied: a chunk length is 16 bits too
    const std::size_t tail =
        kChunkHeader + p.payload.size() +
        (p.correlation_id.empty() ? 0 : kChunkHeader + p.correlation_id.size());
    if (out.size() + tail > kMaxPacket) {
        fail(why, "the message is larger than a HEP packet (65,535 octets)");
        return std::nullopt;
    }
    chunk(out, kPayload, p.payload);
    if (!p.correlation_id.empty()) chunk(out, kCorrelationId, p.correlation_id);
    out[4] = static_cast<char>(out.size() >> 8);
    out[5] = static_cast<char>(out.size() & 0xff);
    return out;
}

std::string_view call_id_of(std::string_view sip) {
    std::size_t pos = sip.find('\n');  // skip the start line
    while (pos != std::string_view::npos && pos + 1 < sip.size()) {
        const std::size_t start = pos + 1;
        const std::size_t end = sip.find('\n', start);
        std::string_view line =
            sip.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        if (trim(line).empty()) return {};  // end of the header section
        const std::size_t colon = line.find(':');
        const bool folded = line[0] == ' ' || line[0] == '\t';  // a continuation, not a name
        if (!folded && colon != std::string_view::npos &&
            name_is_call_id(trim(line.substr(0, colon))))
            return trim(line.substr(colon + 1));
        pos = end;
    }
    return {};
}

}  // namespace sw::hep

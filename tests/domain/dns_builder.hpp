// Test support: hand-built DNS responses (RFC 1035 §4.1) and a seeded sip::Random.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "route/domain/dns_message.hpp"
#include "sip/random.hpp"

namespace domain_test {

// splitmix64: reproducible randomness for the cache's RFC 2782 choices.
class TestRandom final : public sip::Random {
  public:
    explicit TestRandom(std::uint64_t seed) : s_(seed) {}
    std::uint64_t next_u64() override {
        std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }

  private:
    std::uint64_t s_;
};

class Packet {
  public:
    explicit Packet(std::uint16_t id = 0x1234, std::uint8_t rcode = 0, bool qr = true) {
        u16(id);
        u16(static_cast<std::uint16_t>((qr ? 0x8000 : 0) | 0x0100 | 0x0080 | rcode));
        u16(0);
        u16(0);
        u16(0);
        u16(0);
    }
    std::vector<std::uint8_t> bytes;

    void u8(std::uint8_t v) { bytes.push_back(v); }
    void u16(std::uint16_t v) {
        u8(static_cast<std::uint8_t>(v >> 8));
        u8(static_cast<std::uint8_t>(v));
    }
    void u32(std::uint32_t v) {
        u16(static_cast<std::uint16_t>(v >> 16));
        u16(static_cast<std::uint16_t>(v));
    }
    void set16(std::size_t off, std::uint16_t v) {
        bytes[off] = static_cast<std::uint8_t>(v >> 8);
        bytes[off + 1] = static_cast<std::uint8_t>(v);
    }
    void count(int section) {  // 0 qd, 1 an, 2 ns, 3 ar
        const std::size_t off = 4 + 2 * section;
        set16(off, static_cast<std::uint16_t>((bytes[off] << 8 | bytes[off + 1]) + 1));
    }
    // Uncompressed name; returns its offset (usable as a pointer target).
    std::size_t name(std::string_view n) {
        const std::size_t at = bytes.size();
        if (n == ".") n = {};
        while (!n.empty()) {
            auto dot = n.find('.');
            auto label = n.substr(0, dot);
            u8(static_cast<std::uint8_t>(label.size()));
            for (char c : label)
                u8(static_cast<std::uint8_t>(c));
            n = dot == std::string_view::npos ? std::string_view{} : n.substr(dot + 1);
        }
        u8(0);
        return at;
    }
    void pointer(std::size_t target) { u16(static_cast<std::uint16_t>(0xC000 | target)); }
    std::size_t question(std::string_view n, route::domain::RrType t) {
        count(0);
        const std::size_t at = name(n);
        u16(static_cast<std::uint16_t>(t));
        u16(1);
        return at;
    }
    // Record header with the owner as a pointer; returns the rdlength offset.
    std::size_t rr_ptr(int section, std::size_t owner, route::domain::RrType t, std::uint32_t ttl) {
        count(section);
        pointer(owner);
        return rr_tail(t, ttl);
    }
    std::size_t rr(int section, std::string_view owner, route::domain::RrType t,
                   std::uint32_t ttl) {
        count(section);
        name(owner);
        return rr_tail(t, ttl);
    }
    std::size_t rr_tail(route::domain::RrType t, std::uint32_t ttl) {
        u16(static_cast<std::uint16_t>(t));
        u16(1);
        u32(ttl);
        const std::size_t off = bytes.size();
        u16(0);
        return off;
    }
    void end_rr(std::size_t rdlen_off) {
        set16(rdlen_off, static_cast<std::uint16_t>(bytes.size() - rdlen_off - 2));
    }
    void a(int section, std::string_view owner, std::string_view ip, std::uint32_t ttl) {
        auto addr = route::domain::IpAddress::parse(ip).value();
        auto off = rr(section, owner,
                      addr.v6 ? route::domain::RrType::Aaaa : route::domain::RrType::A, ttl);
        for (int i = 0; i < (addr.v6 ? 16 : 4); ++i)
            u8(addr.bytes[i]);
        end_rr(off);
    }
    void srv(std::string_view owner, std::uint16_t prio, std::uint16_t weight, std::uint16_t port,
             std::string_view target, std::uint32_t ttl) {
        auto off = rr(1, owner, route::domain::RrType::Srv, ttl);
        u16(prio);
        u16(weight);
        u16(port);
        name(target);
        end_rr(off);
    }
    void cstr(std::string_view s) {
        u8(static_cast<std::uint8_t>(s.size()));
        for (char c : s)
            u8(static_cast<std::uint8_t>(c));
    }
    void naptr(std::string_view owner, std::uint16_t order, std::uint16_t pref,
               std::string_view flags, std::string_view services, std::string_view replacement,
               std::uint32_t ttl) {
        auto off = rr(1, owner, route::domain::RrType::Naptr, ttl);
        u16(order);
        u16(pref);
        cstr(flags);
        cstr(services);
        cstr("");
        name(replacement);
        end_rr(off);
    }
    void cname(std::string_view owner, std::string_view target, std::uint32_t ttl) {
        auto off = rr(1, owner, route::domain::RrType::Cname, ttl);
        name(target);
        end_rr(off);
    }
    void soa(std::string_view zone, std::uint32_t ttl, std::uint32_t minimum) {
        auto off = rr(2, zone, route::domain::RrType::Soa, ttl);
        name("ns." + std::string(zone));
        name("hostmaster." + std::string(zone));
        u32(1);
        u32(3600);
        u32(600);
        u32(86400);
        u32(minimum);
        end_rr(off);
    }
};

}  // namespace domain_test

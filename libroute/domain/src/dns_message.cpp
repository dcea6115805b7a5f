// RFC 1035 §4.1 message format, §4.1.4 compression; RFC 2782 SRV; RFC 3403 §4.1 NAPTR;
// RFC 2308 §5 negative caching; RFC 2181 §8 (a TTL with the top bit set counts as 0).
#include "route/domain/dns_message.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace route::domain {
namespace {

using sip::Errc;

class Reader {
  public:
    Reader(std::span<const std::uint8_t> p, const DnsLimits& l) : p_(p), limits_(l) {}

    std::size_t size() const { return p_.size(); }

    bool u16(std::size_t& off, std::uint16_t& v) const {
        if (off + 2 > p_.size()) return false;
        v = static_cast<std::uint16_t>(p_[off] << 8 | p_[off + 1]);
        off += 2;
        return true;
    }
    bool u32(std::size_t& off, std::uint32_t& v) const {
        if (off + 4 > p_.size()) return false;
        v = static_cast<std::uint32_t>(p_[off]) << 24 |
            static_cast<std::uint32_t>(p_[off + 1]) << 16 |
            static_cast<std::uint32_t>(p_[off + 2]) << 8 | p_[off + 3];
        off += 4;
        return true;
    }

    // Reads a possibly compressed name at `off`; `off` moves past its in-place bytes.
    // §4.1.4: a pointer must point strictly before the pointer itself, so every jump goes
    // backwards and the walk ends even on hostile input; jumps are also counted.
    Errc name(std::size_t& off, std::string& out, std::size_t& fault) const {
        out.clear();
        std::size_t pos = off;
        std::size_t wire_len = 0;
        std::size_t jumps = 0;
        bool jumped = false;
        for (;;) {
            if (pos >= p_.size()) {
                fault = pos;
                return Errc::incomplete;
            }
            const std::uint8_t len = p_[pos];
            if ((len & 0xC0) == 0xC0) {
                if (pos + 1 >= p_.size()) {
                    fault = pos;
                    return Errc::incomplete;
                }
                const std::size_t target = static_cast<std::size_t>(len & 0x3F) << 8 | p_[pos + 1];
                if (target >= pos) {
                    fault = pos;
                    return Errc::bad_frame;
                }
                if (++jumps > limits_.max_pointer_jumps) {
                    fault = pos;
                    return Errc::value_out_of_range;
                }
                if (!jumped) off = pos + 2;
                jumped = true;
                pos = target;
                continue;
            }
            if ((len & 0xC0) != 0) {
                fault = pos;
                return Errc::bad_frame;  // 0x40 / 0x80 label types (RFC 6891 §5) are gone
            }
            wire_len += len + 1u;
            if (wire_len > 255) {
                fault = pos;
                return Errc::value_out_of_range;
            }
            if (len == 0) {
                if (!jumped) off = pos + 1;
                return Errc::ok;
            }
            if (pos + 1 + len > p_.size()) {
                fault = pos;
                return Errc::incomplete;
            }
            if (!out.empty()) out.push_back('.');
            for (std::size_t i = pos + 1; i <= pos + len; ++i)
                append_label_byte(out, p_[i]);
            pos += 1u + len;
        }
    }

    bool character_string(std::size_t& off, std::size_t end, std::string& out) const {
        if (off >= end) return false;
        const std::size_t len = p_[off];
        if (off + 1 + len > end) return false;
        out.assign(reinterpret_cast<const char*>(p_.data() + off + 1), len);
        off += 1 + len;
        return true;
    }

    const std::uint8_t* at(std::size_t off) const { return p_.data() + off; }

  private:
    static void append_label_byte(std::string& out, std::uint8_t c) {
        if (c >= 'A' && c <= 'Z') {
            out.push_back(static_cast<char>(c - 'A' + 'a'));
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                   c == '*') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('\\');
            out.push_back(static_cast<char>('0' + c / 100));
            out.push_back(static_cast<char>('0' + c / 10 % 10));
            out.push_back(static_cast<char>('0' + c % 10));
        }
    }

    std::span<const std::uint8_t> p_;
    const DnsLimits& limits_;
};

sip::Unexpected fail(Errc c, std::size_t off) {
    return sip::unexpected(c, static_cast<std::uint32_t>(off));
}

}  // namespace

std::string_view rr_type_name(RrType t) noexcept {
    switch (t) {
        case RrType::A:
            return "A";
        case RrType::Cname:
            return "CNAME";
        case RrType::Soa:
            return "SOA";
        case RrType::Aaaa:
            return "AAAA";
        case RrType::Srv:
            return "SRV";
        case RrType::Naptr:
            return "NAPTR";
    }
    return "?";
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
    }
    char buf[64];
    if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpAddress a;
    if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) return a;
    if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
        a.v6 = true;
        return a;
    }
    return std::nullopt;
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf) == nullptr) return "?";
    return buf;
}

std::string normalize_name(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    std::string out(name);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

sip::Result<DnsAnswer> parse_dns_answer(std::span<const std::uint8_t> packet,
                                        const DnsLimits& limits) {
    if (packet.size() > limits.max_packet) return fail(Errc::too_large, limits.max_packet);
    Reader r(packet, limits);
    DnsAnswer a;
    std::size_t off = 0;
    std::uint16_t flags = 0, qd = 0, an = 0, ns = 0, ar = 0;
    if (!r.u16(off, a.id) || !r.u16(off, flags) || !r.u16(off, qd) || !r.u16(off, an) ||
        !r.u16(off, ns) || !r.u16(off, ar)) {
        return fail(Errc::incomplete, packet.size());
    }
    if ((flags & 0x8000) == 0) return fail(Errc::bad_frame, 2);  // QR: not a response
    a.truncated = (flags & 0x0200) != 0;
    a.authoritative = (flags & 0x0400) != 0;
    a.raw_rcode = static_cast<std::uint8_t>(flags & 0x000F);
    a.rcode = a.raw_rcode <= 5 ? static_cast<Rcode>(a.raw_rcode) : Rcode::ServFail;
    if (static_cast<std::size_t>(an) + ns > limits.max_records) return fail(Errc::too_large, 6);

    std::size_t fault = 0;
    std::string name;
    for (std::uint16_t i = 0; i < qd; ++i) {
        if (Errc e = r.name(off, name, fault); e != Errc::ok) return fail(e, fault);
        std::uint16_t qtype = 0, qclass = 0;
        if (!r.u16(off, qtype) || !r.u16(off, qclass)) return fail(Errc::incomplete, off);
        if (i == 0) {
            a.qname = name;
            a.qtype = qtype;
        }
    }

    const std::size_t records = static_cast<std::size_t>(an) + ns;
    for (std::size_t i = 0; i < records; ++i) {
        const bool answer_section = i < an;
        if (Errc e = r.name(off, name, fault); e != Errc::ok) return fail(e, fault);
        std::uint16_t type = 0, klass = 0, rdlen = 0;
        std::uint32_t ttl = 0;
        const std::size_t rr_start = off;
        if (!r.u16(off, type) || !r.u16(off, klass) || !r.u32(off, ttl) || !r.u16(off, rdlen)) {
            return fail(Errc::incomplete, rr_start);
        }
        if (ttl & 0x80000000u) ttl = 0;  // RFC 2181 §8
        const std::size_t rd = off;
        const std::size_t end = rd + rdlen;
        if (end > r.size()) return fail(Errc::incomplete, rd);
        off = end;
        if (klass != 1) continue;  // only IN

        std::size_t p = rd;
        switch (static_cast<RrType>(type)) {
            case RrType::A:
            case RrType::Aaaa: {
                if (!answer_section) break;
                const bool v6 = type == static_cast<std::uint16_t>(RrType::Aaaa);
                if (rdlen != (v6 ? 16 : 4)) return fail(Errc::bad_frame, rd);
                AddressRecord rec{name, ttl, {}};
                rec.address.v6 = v6;
                std::memcpy(rec.address.bytes.data(), r.at(rd), rdlen);
                a.addresses.push_back(std::move(rec));
                break;
            }
            case RrType::Cname: {
                if (!answer_section) break;
                CnameRecord rec{name, ttl, {}};
                if (Errc e = r.name(p, rec.target, fault); e != Errc::ok) return fail(e, fault);
                if (p != end) return fail(Errc::bad_frame, rd);
                a.cnames.push_back(std::move(rec));
                break;
            }
            case RrType::Srv: {
                if (!answer_section) break;
                SrvRecord rec{name, ttl, 0, 0, 0, {}};
                if (!r.u16(p, rec.priority) || !r.u16(p, rec.weight) || !r.u16(p, rec.port) ||
                    p > end) {
                    return fail(Errc::incomplete, rd);
                }
                if (Errc e = r.name(p, rec.target, fault); e != Errc::ok) return fail(e, fault);
                if (p != end) return fail(Errc::bad_frame, rd);
                a.srv.push_back(std::move(rec));
                break;
            }
            case RrType::Naptr: {
                if (!answer_section) break;
                NaptrRecord rec;
                rec.name = name;
                rec.ttl = ttl;
                if (!r.u16(p, rec.order) || !r.u16(p, rec.preference) || p > end ||
                    !r.character_string(p, end, rec.flags) ||
                    !r.character_string(p, end, rec.services) ||
                    !r.character_string(p, end, rec.regexp)) {
                    return fail(Errc::incomplete, rd);
                }
                if (Errc e = r.name(p, rec.replacement, fault); e != Errc::ok) {
                    return fail(e, fault);
                }
                if (p != end) return fail(Errc::bad_frame, rd);
                a.naptr.push_back(std::move(rec));
                break;
            }
            case RrType::Soa: {
                if (answer_section || a.soa) break;
                std::string mname, rname;
                if (Errc e = r.name(p, mname, fault); e != Errc::ok) return fail(e, fault);
                if (Errc e = r.name(p, rname, fault); e != Errc::ok) return fail(e, fault);
                std::uint32_t serial, refresh, retry, expire, minimum;
                if (!r.u32(p, serial) || !r.u32(p, refresh) || !r.u32(p, retry) ||
                    !r.u32(p, expire) || !r.u32(p, minimum) || p != end) {
                    return fail(Errc::bad_frame, rd);
                }
                a.soa = SoaRecord{name, ttl, minimum};
                break;
            }
            default:
                break;
        }
    }
    (void)ar;
    return a;
}

std::optional<std::uint32_t> negative_ttl(const DnsAnswer& a) noexcept {
    if (!a.soa) return std::nullopt;
    return std::min(a.soa->ttl, a.soa->minimum);
}

ChainEnd chain_end(const DnsAnswer& a, std::string_view qname, int max_steps) {
    ChainEnd c;
    c.name = normalize_name(qname);
    for (int step = 0;; ++step) {
        const CnameRecord* next = nullptr;
        for (const CnameRecord& r : a.cnames) {
            if (r.name == c.name) {
                next = &r;
                break;
            }
        }
        if (next == nullptr) return c;
        if (step == max_steps) {
            c.loop = true;
            return c;
        }
        c.ttl = std::min(c.ttl, next->ttl);
        c.name = next->target;
    }
}

}  // namespace route::domain

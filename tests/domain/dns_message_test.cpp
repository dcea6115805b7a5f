// route::domain::parse_dns_answer on hand-built packets (RFC 1035 §4.1, §4.1.4).
#include <catch2/catch.hpp>

#include "dns_builder.hpp"
#include "route/domain/dns_message.hpp"

using namespace route::domain;
using domain_test::Packet;

namespace {

sip::Result<DnsAnswer> parse(const Packet& p) {
    return parse_dns_answer(p.bytes);
}

}  // namespace

TEST_CASE("dns: A and AAAA answers with TTLs, names lower-cased", "[domain][dns]") {
    Packet p(0x4242);
    p.question("Sip.Carrier.TEST", RrType::A);
    p.a(1, "SIP.carrier.test", "192.0.2.10", 300);
    p.a(1, "sip.carrier.test", "2001:db8::10", 60);
    auto a = parse(p);
    REQUIRE(a);
    CHECK(a->id == 0x4242);
    CHECK(a->rcode == Rcode::NoError);
    CHECK(a->qname == "sip.carrier.test");
    CHECK(a->qtype == 1);
    REQUIRE(a->addresses.size() == 2);
    CHECK(a->addresses[0].name == "sip.carrier.test");
    CHECK(a->addresses[0].ttl == 300);
    CHECK(a->addresses[0].address.to_string() == "192.0.2.10");
    CHECK(a->addresses[1].address.v6);
    CHECK(a->addresses[1].address.to_string() == "2001:db8::10");
}

TEST_CASE("dns: compression pointers in owners and in SRV/NAPTR/CNAME rdata", "[domain][dns]") {
    Packet p;
    const auto q = p.question("_sip._udp.carrier.test", RrType::Srv);
    // owner via pointer to the question name
    auto off = p.rr_ptr(1, q, RrType::Srv, 120);
    p.u16(10);
    p.u16(60);
    p.u16(5060);
    p.u8(3);
    p.u8('p');
    p.u8('b');
    p.u8('x');
    p.pointer(q + 10);  // "carrier.test" inside the question name
    p.end_rr(off);
    auto a = parse(p);
    REQUIRE(a);
    REQUIRE(a->srv.size() == 1);
    CHECK(a->srv[0].name == "_sip._udp.carrier.test");
    CHECK(a->srv[0].ttl == 120);
    CHECK(a->srv[0].priority == 10);
    CHECK(a->srv[0].weight == 60);
    CHECK(a->srv[0].port == 5060);
    CHECK(a->srv[0].target == "pbx.carrier.test");

    Packet n;
    n.question("carrier.test", RrType::Naptr);
    n.naptr("carrier.test", 10, 50, "S", "SIP+D2T", "_sip._tcp.carrier.test", 3600);
    n.naptr("carrier.test", 20, 50, "s", "SIP+D2U", ".", 3600);
    auto b = parse(n);
    REQUIRE(b);
    REQUIRE(b->naptr.size() == 2);
    CHECK(b->naptr[0].order == 10);
    CHECK(b->naptr[0].flags == "S");
    CHECK(b->naptr[0].services == "SIP+D2T");
    CHECK(b->naptr[0].replacement == "_sip._tcp.carrier.test");
    CHECK(b->naptr[1].replacement.empty());
}

TEST_CASE("dns: CNAME chains are followed and bounded", "[domain][dns]") {
    Packet p;
    p.question("sip.carrier.test", RrType::A);
    p.cname("sip.carrier.test", "edge.carrier.test", 50);
    p.cname("edge.carrier.test", "pop1.cdn.test", 40);
    p.a(1, "pop1.cdn.test", "198.51.100.7", 300);
    auto a = parse(p);
    REQUIRE(a);
    auto end = chain_end(*a, "SIP.carrier.test.");
    CHECK(end.name == "pop1.cdn.test");
    CHECK(end.ttl == 40);
    CHECK_FALSE(end.loop);

    Packet l;
    l.question("x.test", RrType::A);
    l.cname("x.test", "y.test", 5);
    l.cname("y.test", "x.test", 5);
    auto b = parse(l);
    REQUIRE(b);
    CHECK(chain_end(*b, "x.test").loop);
}

TEST_CASE("dns: NXDOMAIN with SOA gives the RFC 2308 negative TTL", "[domain][dns]") {
    Packet p(1, 3);
    p.question("gone.carrier.test", RrType::A);
    p.soa("carrier.test", 900, 60);
    auto a = parse(p);
    REQUIRE(a);
    CHECK(a->rcode == Rcode::NxDomain);
    REQUIRE(a->soa);
    CHECK(negative_ttl(*a) == 60u);
    Packet q(1, 3);
    q.question("gone.carrier.test", RrType::A);
    q.soa("carrier.test", 30, 600);
    CHECK(negative_ttl(*parse(q)) == 30u);
    Packet r(1, 3);
    r.question("gone.carrier.test", RrType::A);
    CHECK_FALSE(negative_ttl(*parse(r)));
}

TEST_CASE("dns: a TTL with the top bit set counts as 0 (RFC 2181 §8)", "[domain][dns]") {
    Packet p;
    p.question("a.test", RrType::A);
    p.a(1, "a.test", "192.0.2.1", 0x80000001u);
    auto a = parse(p);
    REQUIRE(a);
    CHECK(a->addresses[0].ttl == 0);
}

TEST_CASE("dns: compression loops and forward pointers are rejected", "[domain][dns]") {
    SECTION("pointer to itself") {
        Packet p;
        p.count(0);
        const std::size_t at = p.bytes.size();
        p.pointer(at);
        p.u16(1);
        p.u16(1);
        auto a = parse(p);
        REQUIRE_FALSE(a);
        CHECK(a.error().code == sip::Errc::bad_frame);
        CHECK(a.error().offset == at);
    }
    SECTION("two pointers pointing at each other") {
        Packet p;
        p.question("a.test", RrType::A);
        // answer owner: label "x" then a pointer forward to the next pointer
        p.count(1);
        const std::size_t first = p.bytes.size();
        p.u8(1);
        p.u8('x');
        p.pointer(first + 4);
        p.pointer(first);
        auto a = parse(p);
        REQUIRE_FALSE(a);
        CHECK(a.error().code == sip::Errc::bad_frame);
    }
    SECTION("too many backward jumps") {
        // question k's name is a pointer to question k-1's: 40 chained jumps
        Packet r;
        r.count(0);
        std::size_t prev = r.bytes.size();
        r.u8(0);
        r.u16(1);
        r.u16(1);
        for (int i = 0; i < 40; ++i) {
            r.count(0);
            const std::size_t here = r.bytes.size();
            r.pointer(prev);
            r.u16(1);
            r.u16(1);
            prev = here;
        }
        auto a = parse(r);
        REQUIRE_FALSE(a);
        CHECK(a.error().code == sip::Errc::value_out_of_range);
    }
}

TEST_CASE("dns: every truncation of a valid answer fails cleanly", "[domain][dns]") {
    Packet p;
    const auto q = p.question("carrier.test", RrType::Naptr);
    p.naptr("carrier.test", 10, 50, "s", "SIP+D2U", "_sip._udp.carrier.test", 3600);
    auto off = p.rr_ptr(1, q, RrType::A, 5);
    p.u32(0xC0000201);
    p.end_rr(off);
    p.soa("carrier.test", 100, 10);
    REQUIRE(parse(p));
    for (std::size_t n = 0; n < p.bytes.size(); ++n) {
        std::vector<std::uint8_t> cut(p.bytes.begin(), p.bytes.begin() + static_cast<long>(n));
        auto a = parse_dns_answer(cut);
        INFO("prefix " << n);
        REQUIRE_FALSE(a);
        CHECK(a.error().offset <= n);
    }
}

TEST_CASE("dns: structural faults", "[domain][dns]") {
    SECTION("a query is not an answer") {
        Packet p(1, 0, false);
        p.question("a.test", RrType::A);
        CHECK(parse(p).error().code == sip::Errc::bad_frame);
    }
    SECTION("A with 5 bytes of rdata") {
        Packet p;
        p.question("a.test", RrType::A);
        auto off = p.rr(1, "a.test", RrType::A, 5);
        p.u32(1);
        p.u8(2);
        p.end_rr(off);
        CHECK(parse(p).error().code == sip::Errc::bad_frame);
    }
    SECTION("SRV target running past its rdata") {
        Packet p;
        p.question("a.test", RrType::Srv);
        auto off = p.rr(1, "a.test", RrType::Srv, 5);
        p.u16(1);
        p.u16(1);
        p.u16(5060);
        p.name("pbx.test");
        p.end_rr(off);
        p.set16(off, static_cast<std::uint16_t>(p.bytes.size() - off - 2 - 3));
        p.u8(0);
        p.u8(0);
        p.u8(0);
        auto a = parse(p);
        REQUIRE_FALSE(a);
    }
    SECTION("label type 0x40") {
        Packet p;
        p.count(0);
        p.u8(0x41);
        p.u8('a');
        p.u8(0);
        p.u16(1);
        p.u16(1);
        CHECK(parse(p).error().code == sip::Errc::bad_frame);
    }
    SECTION("name longer than 255 bytes") {
        Packet p;
        p.count(0);
        for (int i = 0; i < 5; ++i) {
            p.u8(60);
            for (int k = 0; k < 60; ++k)
                p.u8('a');
        }
        p.u8(0);
        p.u16(1);
        p.u16(1);
        CHECK(parse(p).error().code == sip::Errc::value_out_of_range);
    }
    SECTION("record count above the limit") {
        Packet p;
        p.question("a.test", RrType::A);
        for (int i = 0; i < 5; ++i)
            p.a(1, "a.test", "192.0.2.1", 1);
        DnsLimits lim;
        lim.max_records = 4;
        CHECK(parse_dns_answer(p.bytes, lim).error().code == sip::Errc::too_large);
        CHECK(parse_dns_answer(p.bytes));
    }
    SECTION("header only, empty") {
        CHECK(parse_dns_answer({}).error().code == sip::Errc::incomplete);
    }
}

TEST_CASE("dns: non-hostname bytes are escaped, additional section ignored", "[domain][dns]") {
    Packet p;
    p.count(0);
    p.u8(3);
    p.u8('a');
    p.u8('.');
    p.u8(0xFF);
    p.u8(0);
    p.u16(1);
    p.u16(1);
    p.a(3, "x.test", "192.0.2.1", 5);    // additional
    p.bytes.resize(p.bytes.size() - 2);  // truncated additional: still fine
    auto a = parse(p);
    REQUIRE(a);
    CHECK(a->qname == "a\\046\\255");
    CHECK(a->addresses.empty());
}

TEST_CASE("dns: IpAddress text forms", "[domain][dns]") {
    CHECK(IpAddress::parse("[2001:DB8:0:0::1]")->to_string() == "2001:db8::1");
    CHECK(IpAddress::parse("10.0.0.1")->to_string() == "10.0.0.1");
    CHECK_FALSE(IpAddress::parse("10.0.0"));
    CHECK_FALSE(IpAddress::parse("carrier.test"));
    CHECK(normalize_name("SIP.Carrier.Test.") == "sip.carrier.test");
}

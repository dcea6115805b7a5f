// RFC 5118 IPv6 torture tests, data-driven from tests/data/rfc5118/MANIFEST.tsv (as
// rfc4475_test.cpp is from RFC 4475's), and the IPv6 grammar itself checked form by form
// against RFC 3986 §3.2.2 in every machine that reads an IPv6 reference: the URI, the Via
// sent-by and received, and name-addr (To/From/Contact).
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "dump.hpp"
#include "guarded.hpp"
#include "sha256.hpp"
#include "sip/builder.hpp"
#include "sip/message.hpp"
#include "test_data.hpp"

using sip::Errc;
using sip::HeaderId;

namespace {

using Row = test::ManifestRow;

std::string load(const std::string& file) {
    return test::read_file(test::data_dir() / "rfc5118" / file);
}

std::vector<Row> manifest() { return test::read_manifest(test::data_dir() / "rfc5118"); }

// What each valid message must read as, checked by hand against the .dat files.
struct ViaFields {
    std::string_view transport, host;
    std::uint16_t port;  // 0: none written
    std::string_view received;
};
struct ValidFields {
    std::string_view method;
    std::string_view ruri_host;
    std::uint16_t ruri_port;  // 0: none written
    std::string_view to_host;
    std::string_view contact_host;  // "" when the message has no Contact
    std::vector<ViaFields> vias;
    std::size_t body;
};

const std::map<std::string, ValidFields>& valid_table() {
    static const std::map<std::string, ValidFields> t = {
        {"ipv6-good.dat",
         {"REGISTER", "[2001:db8::10]", 0, "example.com", "[2001:db8::1]",
          {{"UDP", "[2001:db8::9:1]", 0, ""}}, 0}},
        // the ambiguous "port" is the address's last group: no port at all
        {"port-ambiguous.dat",
         {"REGISTER", "[2001:db8::10:5070]", 0, "example.com", "[2001:db8::1]",
          {{"UDP", "[2001:db8::9:1]", 0, ""}}, 0}},
        {"port-unambiguous.dat",
         {"REGISTER", "[2001:db8::10]", 5070, "example.com", "[2001:db8::1]",
          {{"UDP", "[2001:db8::9:1]", 0, ""}}, 0}},
        // received without its brackets, as RFC 3261's grammar writes it
        {"via-received-param-with-delim.dat",
         {"BYE", "[2001:db8::10]", 0, "example.com", "",
          {{"UDP", "[2001:db8::9:1]", 0, "2001:db8::9:255"}}, 0}},
        {"via-received-param-no-delim.dat",
         {"OPTIONS", "[2001:db8::10]", 0, "example.com", "[2001:db8::9:1]",
          {{"UDP", "[2001:db8::9:1]", 0, "2001:db8::9:255"}}, 0}},
        {"ipv6-in-sdp.dat",
         {"INVITE", "[2001:db8::10]", 0, "[2001:db8::10]", "[2001:db8::20]",
          {{"UDP", "[2001:db8::20]", 0, ""}}, 251}},
        {"mult-ip-in-header.dat",
         {"BYE", "host.example.net", 0, "example.net", "",
          {{"UDP", "[2001:db8::9:1]", 6050, ""},
           {"UDP", "192.0.2.1", 0, ""},
           {"TCP", "[2001:db8::9:255]", 0, "192.0.2.200"}},
          0}},
        {"mult-ip-in-sdp.dat",
         {"INVITE", "[2001:db8::10]", 0, "[2001:db8::10]", "[2001:db8::9:1]",
          {{"UDP", "[2001:db8::9:1]", 0, ""}}, 189}},
        {"ipv4-mapped-ipv6.dat",
         {"INVITE", "example.com", 0, "example.com", "[::ffff:192.0.2.2]",
          {{"UDP", "[::ffff:192.0.2.10]", 19823, ""}, {"UDP", "[::ffff:192.0.2.2]", 0, ""}}, 245}},
        {"ipv6-bug-abnf-3-colons.dat",
         {"OPTIONS", "[2001:db8:::192.0.2.1]", 0, "[2001:db8:::192.0.2.1]", "",
          {{"UDP", "lab1.east.example.com", 0, ""}}, 0}},
        {"ipv6-correct-abnf-2-colons.dat",
         {"OPTIONS", "[2001:db8::192.0.2.1]", 0, "[2001:db8::192.0.2.1]", "",
          {{"UDP", "lab1.east.example.com", 0, ""}}, 0}},
    };
    return t;
}

std::vector<sip::Via> all_vias(const sip::Message& m) {
    std::vector<sip::Via> out;
    for (const sip::HeaderField& h : m.headers()) {
        if (h.id != HeaderId::Via) continue;
        std::string_view list = m.value(h);
        while (!list.empty()) {
            auto v = sip::next_via(list);
            REQUIRE(v);
            out.push_back(*v);
        }
    }
    return out;
}

std::string_view uri_host(std::string_view uri) {
    auto u = sip::parse_uri(uri);
    REQUIRE(u);
    return u->host;
}

}  // namespace

TEST_CASE("rfc5118: data matches the README sha256 list", "[sipcore][rfc5118]") {
    std::istringstream in(load("README.md"));
    std::string line;
    std::size_t checked = 0;
    while (std::getline(in, line)) {
        if (line.size() < 67 || line[64] != ' ' || line[65] != ' ') continue;
        if (line.find_first_not_of("0123456789abcdef") != 64) continue;
        const std::string file = line.substr(66);
        INFO(file);
        CHECK(test::sha256_hex(load(file)) == line.substr(0, 64));
        ++checked;
    }
    CHECK(checked == 12);
}

TEST_CASE("rfc5118: the manifest lists every message of section 4 once", "[sipcore][rfc5118]") {
    auto rows = manifest();
    CHECK(rows.size() == 12);
    std::set<std::string> files, sections;
    for (const Row& r : rows) {
        files.insert(r.file);
        sections.insert(r.section);
    }
    CHECK(files.size() == rows.size());
    CHECK(sections == std::set<std::string>{"4.1", "4.10", "4.2", "4.3", "4.4", "4.5", "4.6",
                                            "4.7", "4.8", "4.9"});
    for (const auto& p : test::files_with_ext(test::data_dir() / "rfc5118", ".dat")) {
        CHECK(files.count(p.filename().string()) == 1);
    }
    for (const auto& [file, f] : valid_table()) CHECK(files.count(file) == 1);
}

TEST_CASE("rfc5118: every manifest verdict holds", "[sipcore][rfc5118]") {
    test::GuardedBuffer guard(8192);
    std::size_t valid = 0, invalid = 0;
    for (const Row& row : manifest()) {
        INFO(row.file << " (" << row.expected << ")");
        const std::string bytes = load(row.file);
        auto r = sip::Message::parse(guard.place(bytes));
        if (row.expected.rfind("invalid", 0) == 0) {
            ++invalid;
            CHECK_FALSE(r.has_value());
            continue;
        }
        ++valid;
        REQUIRE(row.expected.rfind("valid", 0) == 0);
        INFO((r ? std::string("parsed") : test::dump_error(r.error())));
        REQUIRE(r.has_value());
        const sip::Message& m = *r;
        auto it = valid_table().find(row.file);
        REQUIRE(it != valid_table().end());
        const ValidFields& f = it->second;
        CHECK(m.method_name() == f.method);
        CHECK(m.ruri().host == f.ruri_host);
        CHECK(m.ruri().ipv6 == (f.ruri_host[0] == '['));
        CHECK(m.ruri().has_port == (f.ruri_port != 0));
        CHECK(m.ruri().port == f.ruri_port);
        CHECK(uri_host(m.to().uri) == f.to_host);
        CHECK(uri_host(m.from().uri).find('.') != std::string_view::npos);
        const sip::HeaderField* contact = m.find(HeaderId::Contact);
        CHECK((contact != nullptr) == !f.contact_host.empty());
        if (contact) {
            std::string_view list = m.value(*contact);
            auto c = sip::next_name_addr(list);
            REQUIRE(c);
            CHECK(uri_host(c->uri) == f.contact_host);
        }
        const std::vector<sip::Via> vias = all_vias(m);
        REQUIRE(vias.size() == f.vias.size());
        for (std::size_t i = 0; i < vias.size(); ++i) {
            INFO("Via " << i);
            CHECK(vias[i].transport == f.vias[i].transport);
            CHECK(vias[i].host == f.vias[i].host);
            CHECK(vias[i].ipv6 == (f.vias[i].host[0] == '['));
            CHECK(vias[i].has_port == (f.vias[i].port != 0));
            CHECK(vias[i].port == f.vias[i].port);
            CHECK(vias[i].received == f.vias[i].received);
            CHECK(vias[i].branch.rfind("z9hG4bK", 0) == 0);
        }
        CHECK(m.top_via().host == vias[0].host);
        CHECK(m.top_via().received == vias[0].received);
        CHECK(m.body().size() == f.body);
        CHECK(m.bytes().size() == bytes.size());
        if (f.body) {
            CHECK(m.content_length() == f.body);
            CHECK(m.body().find("c=IN IP6 ") != std::string_view::npos);  // SDP: no brackets
        }
    }
    CHECK(valid == 11);
    CHECK(invalid == 1);
}

TEST_CASE("rfc5118: ipv6-bad is a malformed Request-URI answered with a 400",
          "[sipcore][rfc5118][salvage]") {
    const std::string bytes = load("ipv6-bad.dat");
    auto r = sip::Message::parse(bytes);
    REQUIRE_FALSE(r);
    CHECK(test::errc_name(r.error().code) == test::errc_name(Errc::bad_request_uri));
    CHECK(r.error().header == HeaderId::None);
    // "REGISTER sip:2001:db8::10": "2001" could still begin a hostname ("2001.example.com")
    // but is no host on its own, so the ':' after it, at 17, is where the URI breaks
    CHECK(r.error().offset == 17);
    const sip::Salvage s = sip::salvage(bytes);
    REQUIRE(s.usable());
    sip::ResponseSpec spec;
    spec.status = 400;
    spec.reason = sip::errc_text(r.error().code);
    auto p = sip::Message::parse(sip::build_response(s, spec));
    REQUIRE(p);
    CHECK(p->status_code() == 400);
    CHECK(p->top_via().host == "[2001:db8::9:1]");
    CHECK(p->top_via().branch == "z9hG4bKas3-111");
}

TEST_CASE("rfc5118: 4.10's two constructs name the same host text but for the extra colon",
          "[sipcore][rfc5118]") {
    auto bug = sip::Message::parse(load("ipv6-bug-abnf-3-colons.dat"));
    auto ok = sip::Message::parse(load("ipv6-correct-abnf-2-colons.dat"));
    REQUIRE(bug);
    REQUIRE(ok);
    std::string tolerated(bug->ruri().host);
    tolerated.erase(tolerated.find(":::"), 1);
    CHECK(tolerated == ok->ruri().host);
}

// ---- the IPv6 grammar, RFC 3986 §3.2.2 (zone-free), in every machine ----

namespace {

// Every IPv6address production of RFC 3986 §3.2.2, each ls32 as h16:h16 and as IPv4.
const std::vector<std::string>& valid_addresses() {
    static const std::vector<std::string> v = {
        // 6( h16 ":" ) ls32
        "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:192.0.2.1", "ABCD:ef01:2345:6789:abcd:EF01:2345:6789",
        "0:0:0:0:0:0:0:0", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
        // "::" 5( h16 ":" ) ls32
        "::2:3:4:5:6:7:8", "::2:3:4:5:6:0.0.0.0",
        // [ h16 ] "::" 4( h16 ":" ) ls32
        "1::3:4:5:6:7:8", "::3:4:5:6:7:8", "1::3:4:5:6:10.1.2.3",
        // [ *1( h16 ":" ) h16 ] "::" 3( h16 ":" ) ls32
        "1:2::4:5:6:7:8", "2::4:5:6:7:8", "::4:5:6:7:8", "1:2::4:5:6:99.88.77.66",
        // [ *2( h16 ":" ) h16 ] "::" 2( h16 ":" ) ls32
        "1:2:3::5:6:7:8", "::5:6:7:8", "1:2:3::5:6:1.2.3.4",
        // [ *3( h16 ":" ) h16 ] "::" h16 ":" ls32
        "1:2:3:4::6:7:8", "::6:7:8", "1:2:3:4::6:1.2.3.4", "::ffff:192.0.2.10",
        // [ *4( h16 ":" ) h16 ] "::" ls32
        "1:2:3:4:5::7:8", "::7:8", "1:2:3:4:5::1.2.3.4", "2001:db8::192.0.2.1", "::192.0.2.1",
        "2001:db8::10:5070",
        // [ *5( h16 ":" ) h16 ] "::" h16
        "1:2:3:4:5:6::8", "::8", "::1", "2001:db8::10", "fe80::1",
        // [ *6( h16 ":" ) h16 ] "::"
        "1:2:3:4:5:6:7::", "1::", "::",
        // RFC 5118 §4.10: RFC 3261's derivation "hexpart ':' IPv4address" with a hexpart
        // ending in "::" (tolerated)
        "2001:db8:::192.0.2.1", ":::192.0.2.1", "1:2:3:4:5:::1.2.3.4",
    };
    return v;
}

const std::vector<std::string>& invalid_addresses() {
    static const std::vector<std::string> v = {
        "", "1", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:1.2.3.4",
        "1::2::3", "::1::", "12345::1", "g::1", ":1::2", "1::2:", "1:2:3:4:5:6:7::8",
        "::1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8::", "::1.2.3", "::1.2.3.4.5", "::1.2.3.256",
        "::01.2.3.4",  // RFC 3986 dec-octet: no leading zero
        "192.0.2.1", "1:::2", "2001:db8:::1", "1:::2::1.2.3.4", "1:2:3:4:5:6:::1.2.3.4",
        "::1.2.3.4:5", "fe80::1%25eth0", "fe80::1%eth0", "[::1]", "::1 ",
    };
    return v;
}

bool uri_ok(const std::string& a) {
    return sip::parse_uri("sip:[" + a + "]").has_value() &&
           sip::parse_uri("sip:alice@[" + a + "]:5060;transport=tcp").has_value();
}

bool sent_by_ok(const std::string& a) {
    std::string s1 = "SIP/2.0/UDP [" + a + "]:5060;branch=z9hG4bK1";
    std::string_view v1 = s1;
    auto v = sip::next_via(v1);
    std::string s2 = "SIP/2.0/UDP [" + a + "];branch=z9hG4bK1";
    std::string_view v2 = s2;
    return v && v->host == "[" + a + "]" && sip::next_via(v2).has_value();
}

std::string_view received_of(const std::string& text) {
    static std::string keep;
    keep = text;
    std::string_view l = keep;
    auto v = sip::next_via(l);
    return v ? v->received : std::string_view("<error>");
}

bool name_addr_ok(const std::string& a) {
    std::string s = "\"A\" <sip:a@[" + a + "]:5060>;tag=1";
    std::string_view l = s;
    auto n = sip::next_name_addr(l);
    return n && n->uri == "sip:a@[" + a + "]:5060";
}

}  // namespace

TEST_CASE("ipv6: every RFC 3986 IPv6address form is an IPv6 reference everywhere",
          "[sipcore][rfc5118][ipv6]") {
    for (const std::string& a : valid_addresses()) {
        INFO("[" << a << "]");
        CHECK(uri_ok(a));
        CHECK(sent_by_ok(a));
        CHECK(name_addr_ok(a));
        // received: bare (RFC 3261) and bracketed (RFC 5118 §4.5), the value always bare
        CHECK(received_of("SIP/2.0/UDP h;received=" + a + ";branch=z9hG4bK1") == a);
        CHECK(received_of("SIP/2.0/UDP h;received=[" + a + "];branch=z9hG4bK1") == a);
        CHECK(received_of("SIP/2.0/UDP h;rport=5;received=[" + a + "]") == a);
    }
}

TEST_CASE("ipv6: what is not an RFC 3986 IPv6address is rejected everywhere",
          "[sipcore][rfc5118][ipv6]") {
    for (const std::string& a : invalid_addresses()) {
        INFO("[" << a << "]");
        CHECK_FALSE(uri_ok(a));
        CHECK_FALSE(sent_by_ok(a));
        CHECK_FALSE(name_addr_ok(a));
        CHECK(received_of("SIP/2.0/UDP h;received=[" + a + "];branch=z9hG4bK1") == "<error>");
    }
    // a bracket without its partner, or around an IPv4 address, is not a received value
    CHECK(received_of("SIP/2.0/UDP h;received=[2001:db8::1;branch=z9hG4bK1") == "<error>");
    CHECK(received_of("SIP/2.0/UDP h;received=2001:db8::1];branch=z9hG4bK1") == "<error>");
    CHECK(received_of("SIP/2.0/UDP h;received=[192.0.2.1];branch=z9hG4bK1") == "<error>");
    CHECK(received_of("SIP/2.0/UDP h;received=192.0.2.1;branch=z9hG4bK1") == "192.0.2.1");
}

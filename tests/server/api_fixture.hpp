// What the management API's unit tests (and the operator commands' one) share: the fake time
// t0 and the wall clock at it, the two bearer tokens, a real sw::Switch on fake time, its
// sw::api::Api with both tokens set, a request built from named fields and handed to
// Api::handle, a temporary directory with wiring::ApiData on a real SQLite file in it, and
// lookups in a response.
//
//   struct Fixture : test::ApiDataFixture {
//       Fixture() : ApiDataFixture("tl-api-things") { open_data(); }
//   };
//   Fixture f;
//   auto r = f.handle({.method = "POST", .path = "/api/things", .body = R"({"name":"a"})"});
//   CHECK(r.status == 201);
//   CHECK(test::header(r, "ETag") == "\"v1\"");
//   CHECK(f.handle({.path = "/api/things", .token = test::kRead}).status == 200);
//
// A switch without the API: test::SwitchFixture (test::acme_config() and route_acme() for
// the switch of acme_switch.hpp, from_acme() and drain() to drive it).
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "acme_switch.hpp"
#include "billing/sqlite/store.hpp"
#include "sip/crypto/evp_hasher.hpp"
#include "sw/api.hpp"
#include "sw/switch.hpp"
#include "wiring/api_data.hpp"
#include "wiring/digest_auth.hpp"

namespace test {

inline const sip::Instant t0 = sip::Instant{} + std::chrono::seconds(1000);
// The wall clock at t0, in ms since the epoch: 2023-11-14 22:13:20 UTC...
inline constexpr std::int64_t kWall = 1'700'000'000'000;
// ...or 2025-11-24 16:00:00 UTC, for the tests that write dates (CDR searches, since_ms).
inline constexpr std::int64_t kWall2025 = 1'764'000'000'000;
inline const std::string kAdmin = "tl_admin-secret";  // token 'ops', admin scope
inline const std::string kRead = "tl_read-secret";    // token 'grafana', read scope

// An INVITE from acme (10.0.0.1) to 442071234567 through the switch at 10.0.0.100.
inline std::string acme_invite(std::string_view branch, std::string_view call_id) {
    return "INVITE sip:442071234567@10.0.0.100 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=" + std::string(branch) + ";rport\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:15551230000@10.0.0.1>;tag=ta\r\n"
           "To: <sip:442071234567@10.0.0.100>\r\n"
           "Call-ID: " + std::string(call_id) + "\r\n"
           "CSeq: 1 INVITE\r\n"
           "Contact: <sip:15551230000@10.0.0.1:5060>\r\n"
           "Content-Length: 0\r\n\r\n";
}

// The switch of acme_switch.hpp listens at 10.0.0.100:5060 (UDP).
inline sw::SwitchConfig acme_config() {
    sw::SwitchConfig cfg;
    cfg.calls.local[sip::Transport::Udp] = {"10.0.0.100", 5060};
    return cfg;
}

// The value of a response header; "" when absent.
inline std::string header(const sw::api::Response& r, std::string_view name) {
    for (const auto& [n, v] : r.headers)
        if (n == name) return v;
    return {};
}

// A stored CDR of a one-minute answered UK call (44, area UK; customer price 0.1000 unless
// `charge`, vendor price `cost`), ending at end_ms; the rest for the caller to change.
inline billing::Cdr uk_minute(std::string caller, std::string callee, std::int64_t end_ms, std::string customer,
                              std::string vendor, const char* charge, const char* cost) {
    billing::Cdr c;
    c.call.caller = std::move(caller);
    c.call.callee = std::move(callee);
    c.call.customer_gateway = "gw-" + customer;
    c.call.customer = std::move(customer);
    c.call.vendor = std::move(vendor);
    c.call.setup_ms = end_ms - 70'000;
    c.call.answer_ms = end_ms - 60'000;
    c.call.end_ms = end_ms;
    c.call.sip_code = 200;
    c.call.end_reason = "Normal";
    c.duration_s = 60;
    c.customer_billed_s = c.vendor_billed_s = 60;
    c.rate_prefix = "44";
    c.area = "UK";
    c.customer_price = *billing::Money::parse(charge);
    c.vendor_price = *billing::Money::parse(cost);
    c.charge = c.customer_price;
    c.cost = c.vendor_price;
    c.profit = *c.charge.sub(c.cost);
    return c;
}

inline bool has(std::string_view body, std::string_view text) {
    return body.find(text) != std::string_view::npos;
}

// The error body names `field`.
inline bool names_field(const sw::api::Response& r, std::string_view field) {
    return has(r.body, "\"field\":\"" + std::string(field) + "\"");
}

// A real switch on fake time, with the hasher and digest auth it needs; what it sends and
// the CDRs it writes are kept by drain().
struct SwitchFixture {
    sip::SeededRandom rng;
    sip::crypto::EvpHasher hasher;
    wiring::DigestAuth auth{"trunkline", rng, {sip::auth::Algorithm::MD5}};
    std::unique_ptr<sw::Switch> sw;
    std::vector<sip::txn::SendBytes> sent;
    std::vector<sw::RatedCall> cdrs;

    explicit SwitchFixture(const sw::SwitchConfig& cfg = {}, std::uint64_t seed = 7) : rng(seed) {
        sw = std::make_unique<sw::Switch>(cfg, sw::RegistrationsConfig{}, &auth, hasher, rng);
    }
    SwitchFixture(const SwitchFixture&) = delete;
    SwitchFixture& operator=(const SwitchFixture&) = delete;

    // Customer acme (10.0.0.1, account 1001) routed to vendor gw1 (10.0.0.21).
    void route_acme() {
        sw->set_book(acme_book());
        route_acme_via_gw1(*sw);
    }
    // A datagram from acme's 10.0.0.1:5060.
    void from_acme(std::string_view bytes, sip::Instant now) {
        sw->on_bytes(bytes, {sip::Transport::Udp, "10.0.0.1", 5060, 0, {}}, now);
    }
    void drain() {
        while (auto s = sw->poll_send())
            sent.push_back(std::move(*s));
        while (auto c = sw->poll_cdr())
            cdrs.push_back(std::move(*c));
        while (sw->poll_log()) {
        }
    }
    // Requests / responses drained to `host` whose start line begins with `start`.
    int count(std::string_view host, std::string_view start) const {
        int n = 0;
        for (const auto& s : sent)
            if (s.to.host == host && std::string_view(*s.bytes).starts_with(start)) ++n;
        return n;
    }
    // The bytes the switch sent since the last drain() or take_sent().
    std::vector<std::string> take_sent() {
        std::vector<std::string> out;
        while (auto s = sw->poll_send())
            out.emplace_back(*s->bytes);
        return out;
    }
    // What sw::api::Token keeps of a secret: its SHA-256 in hex.
    std::string sha(std::string_view secret) const {
        return *hasher.digest_hex(sip::auth::Hash::SHA256, {secret});
    }
};

// One request to the API. The token goes out as "Bearer <token>" ("" sends no
// Authorization, `authorization` sends that header as it is); a source of 127.0.0.1 is
// loopback; the wall clock is the fixture's unless given.
struct Call {
    std::string method = "GET";
    std::string path{};
    std::vector<std::pair<std::string, std::string>> query{};
    std::string body{};
    std::string if_match{};
    std::string token = kAdmin;
    std::optional<std::string> authorization{};
    std::string source = "127.0.0.1";
    std::string source_key{};
    sip::Instant now = t0;
    std::optional<std::int64_t> wall{};
};

// The switch and its API, with the tokens 'ops' (kAdmin, admin) and 'grafana' (kRead, read).
struct ApiFixture : SwitchFixture {
    std::unique_ptr<sw::api::Api> api;
    std::int64_t wall = kWall;  // at every request, unless the Call says

    explicit ApiFixture(const sw::SwitchConfig& scfg = {}, sw::api::ApiConfig acfg = {})
        : SwitchFixture(scfg), api(std::make_unique<sw::api::Api>(*sw, hasher, acfg)) {
        api->set_tokens({{"ops", sha(kAdmin), sw::api::Scope::admin},
                         {"grafana", sha(kRead), sw::api::Scope::read}});
    }
    sw::api::Response handle(Call c) {
        last_ = std::move(c);  // sw::api::Request only views its strings
        authorization_ = last_.authorization ? *last_.authorization
                         : last_.token.empty() ? std::string()
                                               : "Bearer " + last_.token;
        sw::api::Request rq;
        rq.method = last_.method;
        rq.path = last_.path;
        rq.query = last_.query;
        rq.authorization = authorization_;
        rq.source = last_.source;
        rq.source_key = last_.source_key;
        rq.loopback = last_.source == "127.0.0.1";
        rq.body = last_.body;
        rq.if_match = last_.if_match;
        return api->handle(rq, last_.now, last_.wall.value_or(wall));
    }
    // The API's log lines since the last call.
    std::vector<std::string> logs() {
        std::vector<std::string> out;
        while (auto l = api->poll_log())
            out.push_back(*l);
        return out;
    }

  private:
    Call last_;
    std::string authorization_;
};

// A directory of its own under the system's temporary one, empty at the start and removed at
// the end, and the path of a database file in it.
struct TempDir {
    std::filesystem::path dir;
    std::string db;

    explicit TempDir(std::string_view name)
        : dir(std::filesystem::temp_directory_path() /
              (std::string(name) + "-" + std::to_string(::getpid()))),
          db((dir / "t.db").string()) {
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

// Accounts in the billing tables: a vendor when the id starts with 'V', else a customer.
inline void add_accounts(billing::sqlite::Store& st, std::initializer_list<const char*> ids) {
    for (const char* id : ids) {
        billing::Account a;
        a.id = id;
        a.kind = id[0] == 'V' ? billing::AccountKind::vendor : billing::AccountKind::customer;
        REQUIRE(st.add_account(a));
    }
}

// The API over wiring::ApiData on the SQLite file `db`: fill the file, then open_data().
struct ApiDataFixture : TempDir, ApiFixture {
    std::unique_ptr<wiring::ApiData> data;

    explicit ApiDataFixture(std::string_view name, const sw::SwitchConfig& scfg = {})
        : TempDir(name), ApiFixture(scfg) {}
    ~ApiDataFixture() {
        api.reset();
        data.reset();
    }
    void open_data() {
        data = std::make_unique<wiring::ApiData>(db);
        REQUIRE(data->open().empty());
        api->set_data(data.get());
    }
};

}  // namespace test

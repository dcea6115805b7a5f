// Digest authentication (libsipcore/src/auth/*.cpp, hashes from libsipcore/crypto):
// RFC 7616 §3.9 and RFC 2617 §3.5 vectors, server challenges and verdicts with injected
// time and randomness, client algorithm choice, and client -> server round trips.
#include <catch2/catch.hpp>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sip/auth/client.hpp"
#include "sip/auth/digest.hpp"
#include "sip/auth/server.hpp"
#include "sip/crypto/evp_hasher.hpp"
#include "sip/headers.hpp"

using sip::auth::Algorithm;
using sip::auth::Hash;
using sip::auth::Verdict;
using namespace std::chrono_literals;

namespace {

const sip::crypto::EvpHasher& evp() {
    static const sip::crypto::EvpHasher h;
    return h;
}

// splitmix64 over a counter: reproducible, and different on every call.
class StepRandom final : public sip::Random {
  public:
    explicit StepRandom(std::uint64_t seed) : x_(seed) {}
    std::uint64_t next_u64() override {
        std::uint64_t z = (x_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

  private:
    std::uint64_t x_;
};

// A hasher whose backend lacks some hashes (an OpenSSL with only a FIPS provider, say).
class LimitedHasher final : public sip::auth::Hasher {
  public:
    explicit LimitedHasher(Hash missing) : missing_(missing) {}
    bool supports(Hash h) const noexcept override { return h != missing_ && evp().supports(h); }
    std::optional<std::string> digest_hex(Hash h,
                                          std::span<const std::string_view> p) const override {
        if (h == missing_) return std::nullopt;
        return evp().digest_hex(h, p);
    }
    std::optional<sip::auth::HmacSha256> hmac_sha256(
        std::string_view k, std::span<const std::string_view> d) const override {
        return evp().hmac_sha256(k, d);
    }

  private:
    Hash missing_;
};

const sip::Instant t0 = sip::instant_ms(1'000'000);

// Parses a challenge whose text lives until the end of the run: Challenge holds views, and
// the values handed in are often temporaries.
sip::Challenge challenge_of(std::string value) {
    static std::deque<std::string> keep;
    keep.push_back(std::move(value));
    auto c = sip::parse_challenge(keep.back());
    REQUIRE(c);
    return *c;
}

// A user store holding HA1 per hash (never passwords), as a registrar's would.
struct Users {
    std::string realm;
    std::map<std::pair<std::string, Hash>, std::string> ha1;
    std::vector<sip::auth::Ha1Query> queries;

    void add(const std::string& user, std::string_view password) {
        for (Hash h : {Hash::MD5, Hash::SHA256, Hash::SHA512_256}) {
            const Algorithm a = h == Hash::MD5      ? Algorithm::MD5
                                : h == Hash::SHA256 ? Algorithm::SHA256
                                                    : Algorithm::SHA512_256;
            ha1[{user, h}] = *sip::auth::ha1(evp(), a, user, realm, password);
            // also findable by the §3.4.4 hashed name
            ha1[{*sip::auth::userhash(evp(), a, user, realm), h}] = ha1[{user, h}];
        }
    }
    std::optional<std::string> operator()(const sip::auth::Ha1Query& q) {
        queries.push_back(q);
        auto it = ha1.find({std::string(q.username), sip::auth::hash_of(q.algorithm)});
        if (it == ha1.end()) return std::nullopt;
        return it->second;
    }
};

struct Fixture {
    StepRandom rng{7};
    sip::auth::DigestServerConfig cfg;
    Users users;

    Fixture() {
        cfg.realm = "example.com";
        cfg.secret = "0123456789abcdef0123456789abcdef";
        users.realm = cfg.realm;
        users.add("alice", "wonderland");
        users.add("bob", "builder");
    }
    Verdict verify(sip::auth::DigestServer& s, const std::string& value, sip::Instant now,
                   std::string_view method = "REGISTER") {
        auto c = sip::parse_credentials(value);
        REQUIRE(c);
        return s.verify(*c, method, users, now);
    }
};

std::string answer(const sip::Challenge& ch, std::string_view user, std::string_view pw,
                   std::uint32_t nc = 1, std::string_view method = "REGISTER") {
    auto a = sip::auth::answer_challenge(evp(), ch,
                                         {.username = user,
                                          .password = pw,
                                          .method = method,
                                          .uri = "sip:example.com",
                                          .cnonce = "c0ffee",
                                          .nc = nc});
    REQUIRE(a);
    return *a;
}

// Position of ` name=` in a credentials value, and the end of its value.
std::pair<std::size_t, std::size_t> locate_param(const std::string& v, std::string_view name) {
    const std::string key = " " + std::string(name) + "=";
    const auto at = v.find(key);
    REQUIRE(at != std::string::npos);
    const auto val = at + key.size();
    auto end = v[val] == '"' ? v.find('"', val + 1) + 1 : v.find(',', val);
    if (end == std::string::npos) end = v.size();
    return {at + 1, end};
}

// Replaces the value of `name=` (quoted or not) in a credentials value.
std::string with_param(std::string v, std::string_view name, std::string_view value) {
    const auto [at, end] = locate_param(v, name);
    v.replace(at + name.size() + 1, end - at - name.size() - 1, value);
    return v;
}

// Removes `name=value` and its separating comma.
std::string without_param(std::string v, std::string_view name) {
    const auto [at, end] = locate_param(v, name);
    if (end < v.size() && v[end] == ',')
        v.erase(at, end + 2 - at);  // "name=value, "
    else
        v.erase(at - 2, end - (at - 2));  // ", name=value" at the end
    return v;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Hashes and names

TEST_CASE("digest: EVP hashes of split pieces equal the hash of the whole", "[sipcore][digest]") {
    const auto& h = evp();
    REQUIRE(h.supports(Hash::MD5));
    REQUIRE(h.supports(Hash::SHA256));
    REQUIRE(h.supports(Hash::SHA512_256));
    // FIPS 180-4 SHA-512/256 of "" (not a truncated SHA-512: different initial values)
    CHECK(*h.digest_hex(Hash::SHA512_256, {}) ==
          "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a");
    CHECK(*h.digest_hex(Hash::MD5, {"Mufasa:testrealm@host.com:Circle Of Life"}) ==
          "939e7578ed9e3c518a452acee763bce9");
    CHECK(*h.digest_hex(Hash::MD5, {"Mufasa", ":", "", "testrealm@host.com:Circle Of Life"}) ==
          "939e7578ed9e3c518a452acee763bce9");
    // RFC 2104 HMAC-SHA256 of the classic pangram with key "key", data in two pieces
    auto mac = h.hmac_sha256("key", {"The quick brown fox ", "jumps over the lazy dog"});
    REQUIRE(mac);
    std::string hex;
    for (auto b : *mac) {
        static constexpr char d[] = "0123456789abcdef";
        hex += d[b >> 4];
        hex += d[b & 15];
    }
    CHECK(hex == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    // The hasher keeps the last key set up: changing keys back and forth must not mix them
    // (RFC 4231 test case 2 for "Jefe"; an empty key is a key too).
    auto hex_of = [](const std::optional<sip::auth::HmacSha256>& m) {
        std::string x;
        for (auto b : *m) {
            static constexpr char d[] = "0123456789abcdef";
            x += d[b >> 4];
            x += d[b & 15];
        }
        return x;
    };
    for (int round = 0; round < 2; ++round) {
        CHECK(hex_of(h.hmac_sha256("Jefe", {"what do ya want ", "for nothing?"})) ==
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        CHECK(hex_of(h.hmac_sha256("key", {"The quick brown fox jumps over the lazy dog"})) ==
              "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
        CHECK(hex_of(h.hmac_sha256("", {""})) ==
              "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
        // RFC 4231 test case 6: a key longer than the block is hashed first; and a key of
        // exactly one block (64 octets) is used as it is
        CHECK(hex_of(h.hmac_sha256(std::string(131, '\xaa'),
                                   {"Test Using Larger Than Block-Size Key - Hash Key First"})) ==
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
        CHECK(hex_of(h.hmac_sha256(std::string(64, 'k'), {"exactly one block of key"})) ==
              "baa93ea4ccc7062ed6870c5e7937dbd35ad7791df4e29df9addeb429ff491acf");
    }
}

TEST_CASE("digest: algorithm tokens (RFC 7616 §3.3)", "[sipcore][digest]") {
    using sip::auth::algorithm_name;
    using sip::auth::parse_algorithm;
    const std::pair<std::string_view, Algorithm> all[] = {
        {"MD5", Algorithm::MD5},
        {"MD5-sess", Algorithm::MD5_sess},
        {"SHA-256", Algorithm::SHA256},
        {"SHA-256-sess", Algorithm::SHA256_sess},
        {"SHA-512-256", Algorithm::SHA512_256},
        {"SHA-512-256-sess", Algorithm::SHA512_256_sess},
    };
    for (auto [name, alg] : all) {
        CHECK(parse_algorithm(name) == alg);
        CHECK(algorithm_name(alg) == name);
    }
    CHECK(parse_algorithm("sha-256") == Algorithm::SHA256);
    CHECK(parse_algorithm("") == Algorithm::MD5);  // absent means MD5 (RFC 2617 §3.2.1)
    CHECK_FALSE(parse_algorithm("SHA-512"));
    CHECK_FALSE(parse_algorithm("SHA-256-"));
    CHECK_FALSE(parse_algorithm("AKAv1-MD5"));
    CHECK(sip::auth::hash_of(Algorithm::SHA512_256_sess) == Hash::SHA512_256);
    CHECK(sip::auth::is_sess(Algorithm::MD5_sess));
    CHECK_FALSE(sip::auth::is_sess(Algorithm::SHA256));
}

// ---------------------------------------------------------------------------------------------
// Published vectors

TEST_CASE("digest: RFC 7616 §3.9.1 MD5 and SHA-256 responses", "[sipcore][digest][rfc7616]") {
    const std::string base =
        "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", "
        "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
        "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", algorithm=";
    const sip::auth::AnswerParams p{.username = "Mufasa",
                                    .password = "Circle of Life",
                                    .method = "GET",
                                    .uri = "/dir/index.html",
                                    .cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                                    .nc = 1};
    const std::pair<std::string, std::string_view> cases[] = {
        {base + "SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
        {base + "MD5", "8ca523f5e9506fed4657c9700eebdbec"},
    };
    for (const auto& [text, response] : cases) {
        INFO(text);
        const sip::Challenge ch = challenge_of(text);
        auto a = sip::auth::answer_challenge(evp(), ch, p);
        REQUIRE(a);
        auto c = sip::parse_credentials(*a);
        REQUIRE(c);
        CHECK(c->response == response);
        CHECK(c->username == "Mufasa");
        CHECK(c->realm == "http-auth@example.org");
        CHECK(c->uri == "/dir/index.html");
        CHECK(c->nonce == "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
        CHECK(c->nc == "00000001");
        CHECK(c->cnonce == p.cnonce);
        CHECK(c->qop == "auth");
        CHECK(c->opaque == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
        CHECK(c->algorithm == ch.algorithm);
        CHECK_FALSE(c->userhash);
    }
}

TEST_CASE("digest: RFC 7616 §3.9.2 SHA-512-256 with userhash (erratum 4897 values)",
          "[sipcore][digest][rfc7616]") {
    // The RFC prints username 488869477b... and response ae66e67d...; neither is a hash of
    // the example's inputs (erratum 4897). The corrected values below were recomputed
    // independently (Python hashlib) from the RFC's inputs.
    const sip::Challenge ch = challenge_of(
        "Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-512-256, "
        "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", "
        "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", charset=UTF-8, userhash=true");
    const std::string_view jason = "J\xc3\xa4s\xc3\xb8n Doe";  // UTF-8 of "Jäsøn Doe"
    auto a = sip::auth::answer_challenge(evp(), ch,
                                         {.username = jason,
                                          .password = "Secret, or not?",
                                          .method = "GET",
                                          .uri = "/doe.json",
                                          .cnonce = "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
                                          .nc = 1});
    REQUIRE(a);
    auto c = sip::parse_credentials(*a);
    REQUIRE(c);
    CHECK(c->userhash);
    CHECK(c->username == "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
    CHECK(c->response == "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5");
    CHECK(c->algorithm == "SHA-512-256");
    CHECK(c->opaque == "HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS");
    CHECK(*sip::auth::userhash(evp(), Algorithm::SHA512_256, jason, "api@example.org") ==
          "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
}

TEST_CASE("digest: RFC 2617 §3.5 MD5 qop=auth, its -sess and no-qop variants",
          "[sipcore][digest][rfc2617]") {
    // The challenge names no algorithm: MD5 (RFC 2617 §3.2.1).
    const sip::Challenge ch = challenge_of(
        "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", "
        "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
        "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
    auto a = sip::auth::answer_challenge(evp(), ch,
                                         {.username = "Mufasa",
                                          .password = "Circle Of Life",
                                          .method = "GET",
                                          .uri = "/dir/index.html",
                                          .cnonce = "0a4f113b",
                                          .nc = 1});
    REQUIRE(a);
    auto c = sip::parse_credentials(*a);
    REQUIRE(c);
    CHECK(c->response == "6629fae49393a05397450978507c4ef1");
    CHECK(c->algorithm == "MD5");
    CHECK(c->opaque == "5ccc069c403ebaf9f0171e9517f40e41");

    const std::string ha1 =
        *sip::auth::ha1(evp(), Algorithm::MD5, "Mufasa", "testrealm@host.com", "Circle Of Life");
    CHECK(ha1 == "939e7578ed9e3c518a452acee763bce9");
    sip::auth::DigestInput in{.algorithm = Algorithm::MD5,
                              .ha1 = ha1,
                              .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                              .cnonce = "0a4f113b",
                              .nc = "00000001",
                              .qop = "auth",
                              .method = "GET",
                              .uri = "/dir/index.html"};
    CHECK(*sip::auth::request_digest(evp(), in) == "6629fae49393a05397450978507c4ef1");
    // §3.2.2.2 MD5-sess: A1 = H(user:realm:pw):nonce:cnonce (recomputed with Python hashlib)
    in.algorithm = Algorithm::MD5_sess;
    CHECK(*sip::auth::request_digest(evp(), in) == "8e3825c57e897f5a0dec6c2d4e5059d0");
    // §3.2.2.1 without qop: H(HA1:nonce:HA2), the RFC 2069 form
    in.algorithm = Algorithm::MD5;
    in.qop = "";
    CHECK(*sip::auth::request_digest(evp(), in) == "670fd8c2df070c60b045671b8b24ff02");

    // RFC 7616 §3.4.2 SHA-256-sess on the §3.9.1 inputs (recomputed with Python hashlib)
    const std::string ha1_256 = *sip::auth::ha1(evp(), Algorithm::SHA256_sess, "Mufasa",
                                                "http-auth@example.org", "Circle of Life");
    CHECK(ha1_256 == "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
    CHECK(
        *sip::auth::request_digest(evp(), {.algorithm = Algorithm::SHA256_sess,
                                           .ha1 = ha1_256,
                                           .nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                                           .cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                                           .nc = "00000001",
                                           .qop = "auth",
                                           .method = "GET",
                                           .uri = "/dir/index.html"}) ==
        "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7");
}

// ---------------------------------------------------------------------------------------------
// Server

TEST_CASE("digest: challenges, one per algorithm in config order, one nonce",
          "[sipcore][digest][server]") {
    Fixture f;
    f.cfg.opaque = "op\"aque";
    sip::auth::DigestServer s(f.cfg, evp(), f.rng);
    auto values = s.challenge(t0);
    REQUIRE(values.size() == 2);
    CHECK(values[0] == "Digest realm=\"example.com\", nonce=\"" +
                           std::string(challenge_of(values[0]).nonce) +
                           "\", opaque=\"op\\\"aque\", algorithm=SHA-256, qop=\"auth\"");
    const sip::Challenge a = challenge_of(values[0]), b = challenge_of(values[1]);
    CHECK(a.algorithm == "SHA-256");
    CHECK(b.algorithm == "MD5");
    CHECK(a.nonce == b.nonce);
    CHECK(a.nonce.size() == 43);  // base64url of 32 bytes
    CHECK(a.nonce.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-_") == std::string_view::npos);
    CHECK(a.qop == "auth");
    CHECK_FALSE(a.stale);
    CHECK(sip::unquote(a.opaque) == "op\"aque");

    auto again = s.challenge(t0);  // same instant: the salt still makes a new nonce
    CHECK(challenge_of(again[0]).nonce != a.nonce);
    auto stale = s.challenge(t0, true);
    CHECK(challenge_of(stale[0]).stale);
    CHECK(challenge_of(stale[1]).stale);

    f.cfg.algorithms = {Algorithm::SHA512_256, Algorithm::SHA256_sess, Algorithm::MD5};
    f.cfg.userhash = true;
    sip::auth::DigestServer three(f.cfg, evp(), f.rng);
    auto v3 = three.challenge(t0);
    REQUIRE(v3.size() == 3);
    CHECK(challenge_of(v3[0]).algorithm == "SHA-512-256");
    CHECK(challenge_of(v3[1]).algorithm == "SHA-256-sess");
    CHECK(challenge_of(v3[2]).algorithm == "MD5");
    CHECK(challenge_of(v3[0]).userhash);
}

TEST_CASE("digest: client -> server round trip for every algorithm",
          "[sipcore][digest][server][client]") {
    for (Algorithm alg :
         {Algorithm::MD5, Algorithm::MD5_sess, Algorithm::SHA256, Algorithm::SHA256_sess,
          Algorithm::SHA512_256, Algorithm::SHA512_256_sess}) {
        INFO(sip::auth::algorithm_name(alg));
        Fixture f;
        f.cfg.algorithms = {alg};
        f.cfg.opaque = "xyz";
        sip::auth::DigestServer s(f.cfg, evp(), f.rng);
        const auto values = s.challenge(t0);
        REQUIRE(values.size() == 1);
        const std::vector<sip::Challenge> offered = {challenge_of(values[0])};

        StepRandom crng(99);
        sip::auth::DigestClient client(evp(), crng, {"alice", "wonderland"});
        auto first = client.answer(offered, "INVITE", "sip:bob@example.com");
        REQUIRE(first);
        auto c1 = sip::parse_credentials(*first);
        REQUIRE(c1);
        CHECK(c1->algorithm == sip::auth::algorithm_name(alg));
        CHECK(c1->nc == "00000001");
        CHECK(c1->response.size() == sip::auth::hex_size(sip::auth::hash_of(alg)));
        CHECK(f.verify(s, *first, t0 + 1s, "INVITE") == Verdict::ok);
        REQUIRE(f.users.queries.size() == 1);
        CHECK(f.users.queries[0].algorithm == alg);
        CHECK(f.users.queries[0].username == "alice");
        CHECK(f.users.queries[0].realm == "example.com");
        // the same bytes again: a replay
        CHECK(f.verify(s, *first, t0 + 2s, "INVITE") == Verdict::replayed_nc);
        // the signed method is checked: the answer for INVITE does not authorize a BYE
        CHECK(f.verify(s, *first, t0 + 2s, "BYE") == Verdict::wrong_response);

        // the next request with the same nonce counts up, with a fresh cnonce
        auto second = client.answer(offered, "BYE", "sip:bob@example.com");
        REQUIRE(second);
        auto c2 = sip::parse_credentials(*second);
        REQUIRE(c2);
        CHECK(c2->nc == "00000002");
        CHECK(c2->cnonce != c1->cnonce);
        CHECK(f.verify(s, *second, t0 + 3s, "BYE") == Verdict::ok);
    }
}

TEST_CASE("digest: expired nonce answers stale, and the stale=true retry succeeds",
          "[sipcore][digest][server]") {
    Fixture f;
    sip::auth::DigestServer s(f.cfg, evp(), f.rng);
    const sip::Challenge ch = challenge_of(s.challenge(t0)[0]);
    const std::string good = answer(ch, "alice", "wonderland");
    // exactly the lifetime is still fresh; one millisecond later it is stale
    CHECK(f.verify(s, good, t0 + 300s + 1ms) == Verdict::stale);
    // stale is only for a correct answer: a wrong password on an old nonce stays wrong
    CHECK(f.verify(s, answer(ch, "alice", "looking-glass"), t0 + 301s) == Verdict::wrong_response);
    CHECK(f.verify(s, good, t0 + 300s) == Verdict::ok);

    const sip::Instant later = t0 + 400s;
    const std::vector<sip::Challenge> retry = {challenge_of(s.challenge(later, true)[0])};
    CHECK(retry[0].stale);
    StepRandom crng(5);
    sip::auth::DigestClient client(evp(), crng, {"alice", "wonderland"});
    auto a = client.answer(retry, "REGISTER", "sip:example.com");
    REQUIRE(a);
    CHECK(f.verify(s, *a, later + 10s) == Verdict::ok);

    // shorter configured lifetime
    f.cfg.nonce_lifetime = 30s;
    sip::auth::DigestServer quick(f.cfg, evp(), f.rng);
    const std::string q = answer(challenge_of(quick.challenge(t0)[0]), "alice", "wonderland");
    CHECK(f.verify(quick, q, t0 + 31s) == Verdict::stale);
    CHECK(f.verify(quick, q, t0 + 29s) == Verdict::ok);
}

TEST_CASE("digest: nc must strictly increase per nonce", "[sipcore][digest][server]") {
    Fixture f;
    sip::auth::DigestServer s(f.cfg, evp(), f.rng);
    const sip::Challenge ch = challenge_of(s.challenge(t0)[0]);
    CHECK(f.verify(s, answer(ch, "alice", "wonderland", 1), t0) == Verdict::ok);
    CHECK(f.verify(s, answer(ch, "alice", "wonderland", 1), t0) == Verdict::replayed_nc);
    CHECK(f.verify(s, answer(ch, "alice", "wonderland", 3), t0) == Verdict::ok);
    CHECK(f.verify(s, answer(ch, "alice", "wonderland", 2), t0) == Verdict::replayed_nc);
    CHECK(f.verify(s, answer(ch, "alice", "wonderland", 3), t0) == Verdict::replayed_nc);
    CHECK(f.verify(s, answer(ch, "alice", "wonderland", 0xffffffff), t0) == Verdict::ok);
    // a failed attempt does not advance the counter
    const sip::Challenge ch2 = challenge_of(s.challenge(t0)[0]);
    CHECK(f.verify(s, answer(ch2, "alice", "nope", 5), t0) == Verdict::wrong_response);
    CHECK(f.verify(s, answer(ch2, "alice", "wonderland", 1), t0) == Verdict::ok);
    // nc starts at 1
    const sip::Challenge ch3 = challenge_of(s.challenge(t0)[0]);
    CHECK(f.verify(s, answer(ch3, "alice", "wonderland", 0), t0) == Verdict::replayed_nc);
    CHECK(s.tracked_nonces() == 2);
}

TEST_CASE("digest: forgotten nonces answer stale instead of restarting nc",
          "[sipcore][digest][server]") {
    Fixture f;
    f.cfg.max_tracked_nonces = 2;
    sip::auth::DigestServer s(f.cfg, evp(), f.rng);
    const sip::Challenge a = challenge_of(s.challenge(t0)[0]);
    const sip::Challenge b = challenge_of(s.challenge(t0 + 1s)[0]);
    const sip::Challenge never_used = challenge_of(s.challenge(t0 + 2s)[0]);
    const sip::Challenge c = challenge_of(s.challenge(t0 + 3s)[0]);
    CHECK(f.verify(s, answer(a, "alice", "wonderland", 1), t0 + 4s) == Verdict::ok);
    CHECK(f.verify(s, answer(b, "alice", "wonderland", 1), t0 + 4s) == Verdict::ok);
    CHECK(f.verify(s, answer(c, "alice", "wonderland", 1), t0 + 4s) == Verdict::ok);  // evicts a
    CHECK(s.tracked_nonces() == 2);
    // a's history is gone: its replay must not pass as a first use
    CHECK(f.verify(s, answer(a, "alice", "wonderland", 1), t0 + 5s) == Verdict::stale);
    // a nonce issued after the newest forgotten one can still be used a first time (this
    // evicts b); b, issued no later than the forgotten ones now, cannot be told from a replay
    CHECK(f.verify(s, answer(never_used, "alice", "wonderland", 1), t0 + 5s) == Verdict::ok);
    CHECK(f.verify(s, answer(b, "alice", "wonderland", 2), t0 + 5s) == Verdict::stale);
    // tracked ones keep counting
    CHECK(f.verify(s, answer(c, "alice", "wonderland", 2), t0 + 5s) == Verdict::ok);

    // expired entries are dropped as time passes
    Fixture g;
    sip::auth::DigestServer t(g.cfg, evp(), g.rng);
    const sip::Challenge old = challenge_of(t.challenge(t0)[0]);
    CHECK(g.verify(t, answer(old, "alice", "wonderland"), t0) == Verdict::ok);
    CHECK(t.tracked_nonces() == 1);
    const sip::Challenge fresh = challenge_of(t.challenge(t0 + 400s)[0]);
    CHECK(g.verify(t, answer(fresh, "alice", "wonderland"), t0 + 400s) == Verdict::ok);
    CHECK(t.tracked_nonces() == 1);
}

TEST_CASE("digest: wrong password, unknown user, tampered fields", "[sipcore][digest][server]") {
    Fixture f;
    sip::auth::DigestServer s(f.cfg, evp(), f.rng);
    const sip::Challenge ch = challenge_of(s.challenge(t0)[0]);
    CHECK(f.verify(s, answer(ch, "alice", "Wonderland"), t0) == Verdict::wrong_response);
    CHECK(f.verify(s, answer(ch, "alice", "builder"), t0) == Verdict::wrong_response);  // bob's
    CHECK(f.verify(s, answer(ch, "carol", "wonderland"), t0) == Verdict::unknown_user);

    const std::string good = answer(ch, "bob", "builder", 7);
    // any covered field changed after signing breaks the response
    CHECK(f.verify(s, with_param(good, "uri", "\"sip:evil.example\""), t0) ==
          Verdict::wrong_response);
    CHECK(f.verify(s, with_param(good, "cnonce", "\"c0ffef\""), t0) == Verdict::wrong_response);
    CHECK(f.verify(s, with_param(good, "nc", "00000008"), t0) == Verdict::wrong_response);
    CHECK(f.verify(s, with_param(good, "username", "\"alice\""), t0) == Verdict::wrong_response);
    std::string flipped = good;
    const auto r = flipped.find("response=\"") + 10;
    flipped[r] = flipped[r] == '0' ? '1' : '0';
    CHECK(f.verify(s, flipped, t0) == Verdict::wrong_response);
    // a truncated response is wrong, not a prefix match
    auto cr = sip::parse_credentials(good);
    REQUIRE(cr);
    auto truncated = *cr;
    truncated.response.remove_suffix(1);
    CHECK(s.verify(truncated, "REGISTER", f.users, t0) == Verdict::wrong_response);
    // hex case does not matter (RFC 7616 §3.4 says LHEX; some devices send upper case)
    std::string upper = good;
    for (std::size_t i = r; upper[i] != '"'; ++i)
        upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
    CHECK(f.verify(s, upper, t0) == Verdict::ok);
}

TEST_CASE("digest: forged, tampered and foreign nonces are bad", "[sipcore][digest][server]") {
    Fixture f;
    sip::auth::DigestServer s(f.cfg, evp(), f.rng);
    const std::string value = s.challenge(t0)[0];
    const std::string nonce(challenge_of(value).nonce);

    auto answer_with_nonce = [&](const std::string& n) {
        std::string v = value;
        v.replace(v.find(nonce), nonce.size(), n);
        return answer(challenge_of(v), "alice", "wonderland");
    };
    // control: the real nonce passes
    CHECK(f.verify(s, answer_with_nonce(nonce), t0) == Verdict::ok);
    // every single-character change of the nonce is refused
    const std::string_view b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (std::size_t i = 0; i < nonce.size(); ++i) {
        std::string n = nonce;
        n[i] = b64[(b64.find(n[i]) + 1) % 64];
        INFO(i);
        CHECK(f.verify(s, answer_with_nonce(n), t0) == Verdict::bad_nonce);
    }
    CHECK(f.verify(s, answer_with_nonce(nonce.substr(0, 42)), t0) == Verdict::bad_nonce);
    CHECK(f.verify(s, answer_with_nonce(nonce + "A"), t0) == Verdict::bad_nonce);
    CHECK(f.verify(s, answer_with_nonce(std::string(43, 'A')), t0) == Verdict::bad_nonce);
    CHECK(f.verify(s, answer_with_nonce("dcd98b7102dd2f0e8b11d0f600bfb0c093"), t0) ==
          Verdict::bad_nonce);

    // another secret, same realm
    StepRandom r2(8);
    auto other_secret = f.cfg;
    other_secret.secret = "another secret, another cluster!";
    sip::auth::DigestServer foreign(other_secret, evp(), r2);
    CHECK(f.verify(s, answer_with_nonce(std::string(challenge_of(foreign.challenge(t0)[0]).nonce)),
                   t0) == Verdict::bad_nonce);
    // same secret, another realm: the realm is inside the MAC
    auto other_realm = f.cfg;
    other_realm.realm = "example.net";
    sip::auth::DigestServer sibling(other_realm, evp(), r2);
    CHECK(f.verify(s, answer_with_nonce(std::string(challenge_of(sibling.challenge(t0)[0]).nonce)),
                   t0) == Verdict::bad_nonce);
    // ... and the realm itself must be ours
    CHECK(f.verify(s, answer(challenge_of(sibling.challenge(t0)[0]), "alice", "wonderland"), t0) ==
          Verdict::realm_mismatch);
    // a nonce issued far in our future did not come from our clock
    CHECK(f.verify(s, answer_with_nonce(std::string(challenge_of(s.challenge(t0 + 1h)[0]).nonce)),
                   t0) == Verdict::bad_nonce);
}

TEST_CASE("digest: required fields, qop, algorithm and opaque checks",
          "[sipcore][digest][server]") {
    Fixture f;
    f.cfg.opaque = "state-1";
    sip::auth::DigestServer s(f.cfg, evp(), f.rng);
    const sip::Challenge ch = challenge_of(s.challenge(t0)[0]);
    const std::string good = answer(ch, "alice", "wonderland");
    CHECK(f.verify(s, good, t0) == Verdict::ok);

    for (std::string_view name :
         {"username", "realm", "nonce", "uri", "response", "cnonce", "nc"}) {
        INFO(name);
        CHECK(f.verify(s, without_param(good, name), t0) == Verdict::missing_fields);
    }
    CHECK(f.verify(s, "Basic YWxpY2U6d29uZGVybGFuZA==", t0) == Verdict::missing_fields);
    CHECK(f.verify(s, with_param(good, "username", "\"\""), t0) == Verdict::missing_fields);

    CHECK(f.verify(s, with_param(good, "realm", "\"Example.com\""), t0) == Verdict::realm_mismatch);
    CHECK(f.verify(s, with_param(good, "qop", "auth-int"), t0) == Verdict::bad_qop);
    CHECK(f.verify(s, without_param(good, "opaque"), t0) == Verdict::opaque_mismatch);
    CHECK(f.verify(s, with_param(good, "opaque", "\"state-2\""), t0) == Verdict::opaque_mismatch);

    // offered SHA-256 and MD5 only
    CHECK(f.verify(s, with_param(good, "algorithm", "SHA-512-256"), t0) ==
          Verdict::unsupported_algorithm);
    CHECK(f.verify(s, with_param(good, "algorithm", "MD5-sess"), t0) ==
          Verdict::unsupported_algorithm);
    CHECK(f.verify(s, with_param(good, "algorithm", "SHA-1"), t0) ==
          Verdict::unsupported_algorithm);
    // a hasher without MD5 (FIPS) cannot check MD5 answers even when configured
    LimitedHasher no_md5(Hash::MD5);
    StepRandom r(1);
    sip::auth::DigestServer fips(f.cfg, no_md5, r);
    const sip::Challenge md5 = challenge_of(fips.challenge(t0)[1]);
    REQUIRE(md5.algorithm == "MD5");
    CHECK(f.verify(fips, answer(md5, "alice", "wonderland"), t0) == Verdict::unsupported_algorithm);
}

TEST_CASE("digest: answers without qop (RFC 2069 form) only when allowed",
          "[sipcore][digest][server]") {
    Fixture f;
    sip::auth::DigestServer strict(f.cfg, evp(), f.rng);
    // a challenge without qop makes the client use the RFC 2069 form
    std::string v = strict.challenge(t0)[0];
    v.erase(v.find(", qop=\"auth\""), 12);
    const sip::Challenge ch = challenge_of(v);
    const std::string old = answer(ch, "alice", "wonderland");
    auto c = sip::parse_credentials(old);
    REQUIRE(c);
    CHECK(c->qop.data() == nullptr);
    CHECK(c->nc.empty());
    CHECK(c->cnonce.empty());
    CHECK(f.verify(strict, old, t0) == Verdict::bad_qop);

    f.cfg.require_qop = false;
    sip::auth::DigestServer lenient(f.cfg, evp(), f.rng);
    std::string lv = lenient.challenge(t0)[0];
    lv.erase(lv.find(", qop=\"auth\""), 12);
    const std::string lold = answer(challenge_of(lv), "alice", "wonderland");
    CHECK(f.verify(lenient, lold, t0) == Verdict::ok);
    CHECK(f.verify(lenient, answer(challenge_of(lv), "alice", "x"), t0) == Verdict::wrong_response);
}

TEST_CASE("digest: userhash lookups get the hashed name", "[sipcore][digest][server]") {
    Fixture f;
    f.cfg.userhash = true;
    f.cfg.algorithms = {Algorithm::SHA512_256};
    sip::auth::DigestServer s(f.cfg, evp(), f.rng);
    const sip::Challenge ch = challenge_of(s.challenge(t0)[0]);
    REQUIRE(ch.userhash);
    const std::string a = answer(ch, "alice", "wonderland");
    auto c = sip::parse_credentials(a);
    REQUIRE(c);
    CHECK(c->userhash);
    CHECK(c->username ==
          *sip::auth::userhash(evp(), Algorithm::SHA512_256, "alice", "example.com"));
    CHECK(a.find("alice") == std::string::npos);
    CHECK(f.verify(s, a, t0) == Verdict::ok);
    REQUIRE(f.users.queries.size() == 1);
    CHECK(f.users.queries[0].userhash);
    CHECK(f.users.queries[0].username == c->username);
}

// ---------------------------------------------------------------------------------------------
// Client

TEST_CASE("digest: the client answers the strongest algorithm it supports",
          "[sipcore][digest][client]") {
    auto pick = [](const std::vector<std::string>& values,
                   const sip::auth::Hasher& h = evp()) -> std::optional<std::size_t> {
        std::vector<sip::Challenge> cs;
        for (const auto& v : values)
            cs.push_back(challenge_of(v));
        auto r = sip::auth::choose_challenge(h, cs);
        if (!r) {
            CHECK(r.error().code == sip::Errc::not_found);
            return std::nullopt;
        }
        return *r;
    };
    const std::string md5 = "Digest realm=\"r\", nonce=\"n\", algorithm=MD5, qop=\"auth\"";
    const std::string plain = "Digest realm=\"r\", nonce=\"n\"";  // MD5 by default
    const std::string sha = "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256, qop=\"auth\"";
    const std::string sha2 = "Digest realm=\"r2\", nonce=\"n\", algorithm=SHA-256-sess";
    const std::string s512 = "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256";
    const std::string unknown = "Digest realm=\"r\", nonce=\"n\", algorithm=SHA3-256";
    const std::string auth_int =
        "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256, "
        "qop=\"auth-int\"";
    const std::string basic = "Basic realm=\"r\"";

    CHECK(pick({md5, sha}) == 1u);  // SHA-256 over MD5 even when MD5 is listed first
    CHECK(pick({sha, md5}) == 0u);
    CHECK(pick({plain, sha, s512, md5}) == 2u);
    CHECK(pick({sha, sha2}) == 0u);  // equal strength: the server's order
    CHECK(pick({sha2, sha}) == 0u);
    CHECK(pick({basic, unknown, md5}) == 2u);
    CHECK(pick({auth_int, sha}) == 1u);  // qop offered but without auth: unusable
    CHECK(pick({basic, unknown, auth_int}) == std::nullopt);
    CHECK(pick({}) == std::nullopt);
    CHECK(pick({"Digest realm=\"r\", algorithm=MD5"}) == std::nullopt);  // no nonce
    LimitedHasher no512(Hash::SHA512_256);
    CHECK(pick({md5, s512, sha}, no512) == 2u);

    StepRandom rng(3);
    sip::auth::DigestClient client(evp(), rng, {"alice", "pw"});
    std::vector<sip::Challenge> none = {challenge_of(basic)};
    auto r = client.answer(none, "REGISTER", "sip:r");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == sip::Errc::not_found);
}

TEST_CASE("digest: client nc per nonce, opaque echo, quoting", "[sipcore][digest][client]") {
    StepRandom rng(11);
    sip::auth::DigestClient client(evp(), rng, {"al\"ice", "pw"});
    const std::vector<sip::Challenge> n1 = {
        challenge_of("Digest realm=\"r\", nonce=\"n1\", opaque=\"\", qop=\"auth\"")};
    const std::vector<sip::Challenge> n2 = {
        challenge_of("Digest realm=\"r\", nonce=\"n2\", qop=\"auth-int, auth\", stale=true")};

    auto nc_of = [&](const std::vector<sip::Challenge>& ch) {
        auto a = client.answer(ch, "REGISTER", "sip:r");
        REQUIRE(a);
        auto c = sip::parse_credentials(*a);
        REQUIRE(c);
        return std::string(c->nc);
    };
    CHECK(nc_of(n1) == "00000001");
    CHECK(nc_of(n1) == "00000002");
    CHECK(nc_of(n2) == "00000001");  // a new nonce restarts the count
    CHECK(nc_of(n1) == "00000003");

    auto a = client.answer(n1, "REGISTER", "sip:r");
    REQUIRE(a);
    auto c = sip::parse_credentials(*a);
    REQUIRE(c);
    // an empty opaque is echoed, as present-but-empty (RFC 7616 §3.4)
    CHECK(c->opaque.data() != nullptr);
    CHECK(c->opaque.empty());
    CHECK(a->find("opaque=\"\"") != std::string::npos);
    CHECK(sip::unquote(c->username) == "al\"ice");
    CHECK(c->cnonce.size() == 22);  // 128 random bits, base64url

    // no opaque in the challenge: none in the answer
    auto b = client.answer(n2, "REGISTER", "sip:r");
    REQUIRE(b);
    CHECK(b->find("opaque") == std::string::npos);

    // the answer hashes the unquoted username: a server agrees
    Fixture f;
    f.users.add("al\"ice", "pw");
    sip::auth::DigestServer s(f.cfg, evp(), f.rng);
    const std::vector<sip::Challenge> real = {challenge_of(s.challenge(t0)[0])};
    auto good = client.answer(real, "REGISTER", "sip:example.com");
    REQUIRE(good);
    CHECK(f.verify(s, *good, t0) == Verdict::ok);
}

TEST_CASE("digest: verdict names", "[sipcore][digest]") {
    CHECK(sip::auth::verdict_name(Verdict::ok) == "ok");
    CHECK(sip::auth::verdict_name(Verdict::stale) == "stale nonce");
    CHECK(sip::auth::verdict_name(Verdict::replayed_nc) == "replayed nonce count");
}

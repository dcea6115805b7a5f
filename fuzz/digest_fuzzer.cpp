// Fuzz target: digest authentication (libsipcore/src/auth). Input: one selector byte, then
// a credentials value, then (after the first '\n') a challenge value.
//   selector bits 0-1: verify at issue time +0, +299 s, +301 s (stale) or -2 h (before issue)
//             bit 2:   substitute "$N" in the credentials with a nonce the server issued and
//                      then "$R" with the correct response, so the ok/stale/replay paths are
//                      reached (a fuzzer cannot forge HMACs or hashes)
//             bit 3:   server accepts answers without qop (require_qop = false)
//             bit 4:   server requires opaque "fz"
// The server offers all six algorithms for realm "fuzz.example"; the user store knows only
// "alice" (and her SHA-512-256 userhash). Invariants besides "no crash, no sanitizer report":
//   - verify says ok only if the response equals a recomputation made here, independently
//     of sip::auth::request_digest, from the credentials and alice's password;
//   - ok or stale only for realm "fuzz.example" and a known user;
//   - an ok answer with qop is refused as replayed_nc when presented again;
//   - the client either refuses a challenge or produces credentials that parse back with the
//     challenge's realm, nonce and opaque and whose response recomputes the same way.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "sip/auth/client.hpp"
#include "sip/auth/digest.hpp"
#include "sip/auth/server.hpp"
#include "sip/crypto/evp_hasher.hpp"
#include "sip/headers.hpp"

namespace {

using sip::auth::Algorithm;
using sip::auth::Hash;
using sip::auth::Verdict;
using namespace std::chrono_literals;

constexpr std::string_view kRealm = "fuzz.example";
constexpr std::string_view kUser = "alice";
constexpr std::string_view kPassword = "s3cret";

const sip::crypto::EvpHasher& hasher() {
    static const sip::crypto::EvpHasher h;
    return h;
}

class CounterRandom final : public sip::Random {
  public:
    std::uint64_t next_u64() override {
        x_ += 0x9e3779b97f4a7c15ull;
        return x_ ^ (x_ >> 29);
    }

  private:
    std::uint64_t x_ = 1;
};

std::string hex_of(Hash h, std::string_view s) {
    auto r = hasher().digest_hex(h, {s});
    FUZZ_CHECK(r.has_value());
    return *r;
}

// RFC 7616 §3.4.1-3.4.3 written out again, one string per hash input.
std::optional<std::string> reference_response(const sip::Credentials& c, std::string_view method,
                                              std::string_view user, std::string_view password) {
    auto alg = sip::auth::parse_algorithm(c.algorithm);
    if (!alg) return std::nullopt;
    const Hash h = sip::auth::hash_of(*alg);
    const std::string realm = sip::unquote(c.realm), nonce = sip::unquote(c.nonce),
                      cnonce = sip::unquote(c.cnonce), uri = sip::unquote(c.uri);
    std::string ha1 = hex_of(h, std::string(user) + ":" + realm + ":" + std::string(password));
    if (sip::auth::is_sess(*alg)) ha1 = hex_of(h, ha1 + ":" + nonce + ":" + cnonce);
    const std::string ha2 = hex_of(h, std::string(method) + ":" + uri);
    if (c.qop.data() == nullptr) return hex_of(h, ha1 + ":" + nonce + ":" + ha2);
    return hex_of(h, ha1 + ":" + nonce + ":" + std::string(c.nc) + ":" + cnonce + ":" +
                         std::string(c.qop) + ":" + ha2);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& ch : out)
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    return out;
}

void replace_all(std::string& s, std::string_view what, std::string_view with) {
    for (std::size_t at = s.find(what); at != std::string::npos;
         at = s.find(what, at + with.size()))
        s.replace(at, what.size(), with);
}

// The store: alice by name, and by her userhash for every hash.
std::optional<std::string> lookup(const sip::auth::Ha1Query& q) {
    if (q.realm != kRealm) return std::nullopt;
    const auto& h = hasher();
    if (q.userhash) {
        auto uh = sip::auth::userhash(h, q.algorithm, kUser, kRealm);
        if (!uh || q.username != *uh) return std::nullopt;
    } else if (q.username != kUser) {
        return std::nullopt;
    }
    return sip::auth::ha1(h, q.algorithm, kUser, kRealm, kPassword);
}

void server_side(std::uint8_t sel, std::string creds_text) {
    sip::auth::DigestServerConfig cfg;
    cfg.realm = std::string(kRealm);
    cfg.secret = "fuzz-secret-fuzz-secret-fuzz-sec";
    cfg.algorithms = {Algorithm::SHA512_256, Algorithm::SHA512_256_sess,
                      Algorithm::SHA256,     Algorithm::SHA256_sess,
                      Algorithm::MD5,        Algorithm::MD5_sess};
    cfg.require_qop = !(sel & 8);
    if (sel & 16) cfg.opaque = "fz";
    cfg.max_tracked_nonces = 4;
    CounterRandom rng;
    sip::auth::DigestServer server(cfg, hasher(), rng);
    const sip::Instant issued = sip::instant_ms(1'000'000'000);
    constexpr sip::Duration kOffsets[4] = {0s, 299s, 301s, -2h};
    const sip::Instant now = issued + kOffsets[sel & 3];
    constexpr std::string_view method = "INVITE";

    if (sel & 4) {
        replace_all(creds_text, "$N", server.nonce(issued));
        if (creds_text.find("$R") != std::string::npos) {
            auto pre = sip::parse_credentials(creds_text);
            if (!pre) return;
            const auto want = reference_response(*pre, method, kUser, kPassword);
            if (!want) return;
            replace_all(creds_text, "$R", *want);
        }
    }
    auto creds = sip::parse_credentials(creds_text);
    if (!creds) return;
    const Verdict v = server.verify(*creds, method, lookup, now);
    if (v == Verdict::ok || v == Verdict::stale) {
        FUZZ_CHECK(sip::unquote(creds->realm) == kRealm);
        const std::string user = sip::unquote(creds->username);
        if (creds->userhash) {
            auto uh = sip::auth::userhash(hasher(), *sip::auth::parse_algorithm(creds->algorithm),
                                          kUser, kRealm);
            FUZZ_CHECK(uh && user == *uh);
        } else {
            FUZZ_CHECK(user == kUser);
        }
        const auto want = reference_response(*creds, method, kUser, kPassword);
        FUZZ_CHECK(want.has_value());
        FUZZ_CHECK(lower(creds->response) == *want);
    }
    if (v == Verdict::ok && creds->qop.data() != nullptr) {
        FUZZ_CHECK(server.verify(*creds, method, lookup, now) == Verdict::replayed_nc);
    }
    (void)sip::auth::verdict_name(v);
}

void client_side(std::string_view challenge_text) {
    auto ch = sip::parse_challenge(challenge_text);
    if (!ch) return;
    CounterRandom rng;
    sip::auth::DigestClient client(hasher(), rng, {std::string(kUser), std::string(kPassword)});
    const std::vector<sip::Challenge> offered = {*ch, *ch};
    for (int round = 0; round < 2; ++round) {
        auto a = client.answer(offered, "REGISTER", "sip:fuzz.example");
        if (!a) {
            FUZZ_CHECK(a.error().code == sip::Errc::not_found ||
                       a.error().code == sip::Errc::bad_param);
            return;
        }
        auto c = sip::parse_credentials(*a);
        FUZZ_CHECK(c.has_value());
        FUZZ_CHECK(c->realm == ch->realm);
        FUZZ_CHECK(c->nonce == ch->nonce);
        FUZZ_CHECK((c->opaque.data() != nullptr) == (ch->opaque.data() != nullptr));
        FUZZ_CHECK(c->opaque == ch->opaque);
        FUZZ_CHECK(c->userhash == ch->userhash);
        FUZZ_CHECK(c->nc.empty() || c->nc == (round == 0 ? "00000001" : "00000002"));
        const auto want = reference_response(*c, "REGISTER", kUser, kPassword);
        FUZZ_CHECK(want.has_value());
        FUZZ_CHECK(c->response == *want);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t sel = data[0];
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::size_t nl = rest.find('\n');
    server_side(sel, std::string(rest.substr(0, nl)));
    if (nl != std::string_view::npos) client_side(rest.substr(nl + 1));
    return 0;
}

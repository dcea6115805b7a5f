#include "wiring/digest_auth.hpp"

#include <fstream>

#include "sip/auth/digest.hpp"
#include "sip/headers.hpp"

namespace wiring {

namespace {
sip::auth::DigestServerConfig server_config(std::string realm, std::string secret,
                                            std::vector<sip::auth::Algorithm> algorithms) {
    sip::auth::DigestServerConfig c;
    c.realm = std::move(realm);
    c.secret = std::move(secret);
    if (!algorithms.empty()) c.algorithms = std::move(algorithms);
    return c;
}
}  // namespace

DigestAuth::DigestAuth(std::string realm, std::string secret, sip::Random& rng,
                       std::vector<sip::auth::Algorithm> algorithms)
    : realm_(realm),
      server_(server_config(std::move(realm), std::move(secret), std::move(algorithms)), hasher_,
              rng) {}

std::unique_ptr<DigestAuth> DigestAuth::from_file(const std::string& realm, const std::string& path,
                                                  sip::Random& rng, std::string* error,
                                                  std::vector<sip::auth::Algorithm> algorithms) {
    std::ifstream in(path);
    if (!in) {
        *error = path + ": cannot read the users file";
        return nullptr;
    }
    // the nonce key: 32 random bytes, new at every start (nonces do not survive a restart)
    std::string secret;
    for (int i = 0; i < 4; ++i) {
        std::uint64_t v = rng.next_u64();
        secret.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    std::unique_ptr<DigestAuth> auth(
        new DigestAuth(realm, std::move(secret), rng, std::move(algorithms)));
    std::string line;
    for (int lineno = 1; std::getline(in, line); ++lineno) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        const auto colon = line.find(':');
        if (colon == std::string::npos || colon == 0) {
            *error = path + ":" + std::to_string(lineno) + ": expected user:password";
            return nullptr;
        }
        const std::string user = line.substr(0, colon);
        const std::string password = line.substr(colon + 1);
        for (auto alg : {sip::auth::Algorithm::MD5, sip::auth::Algorithm::SHA256}) {
            auto h = sip::auth::ha1(auth->hasher_, alg, user, realm, password);
            if (!h) {
                *error = path + ":" + std::to_string(lineno) + ": cannot hash the password";
                return nullptr;
            }
            auth->ha1_[user][alg] = *h;
        }
    }
    if (auth->ha1_.empty()) {
        *error = path + ": no users";
        return nullptr;
    }
    return auth;
}

std::vector<std::string> DigestAuth::challenge(sip::Instant now, bool stale) {
    return server_.challenge(now, stale);
}

sw::Authenticator::Verdict DigestAuth::verify(std::string_view authorization,
                                              std::string_view method, sip::Instant now) {
    auto cr = sip::parse_credentials(authorization);
    if (!cr) return Verdict::Rejected;
    auto lookup = [&](const sip::auth::Ha1Query& q) -> std::optional<std::string> {
        auto u = ha1_.find(q.username);
        if (u == ha1_.end()) return std::nullopt;
        // -sess variants use the same stored HA1 (RFC 7616 §3.4.2 derives from it)
        auto base = q.algorithm;
        if (base == sip::auth::Algorithm::MD5_sess) base = sip::auth::Algorithm::MD5;
        if (base == sip::auth::Algorithm::SHA256_sess) base = sip::auth::Algorithm::SHA256;
        auto a = u->second.find(base);
        if (a == u->second.end()) return std::nullopt;
        return a->second;
    };
    switch (server_.verify(*cr, method, lookup, now)) {
        case sip::auth::Verdict::ok: return Verdict::Ok;
        case sip::auth::Verdict::stale: return Verdict::Stale;
        default: return Verdict::Rejected;
    }
}

}  // namespace wiring

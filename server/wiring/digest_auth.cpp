#include "wiring/digest_auth.hpp"

#include <fstream>

#include "sip/auth/digest.hpp"
#include "sip/headers.hpp"

namespace wiring {

namespace {

sip::auth::DigestServerConfig server_config(std::string realm, sip::Random& rng,
                                            std::vector<sip::auth::Algorithm> algorithms) {
    sip::auth::DigestServerConfig c;
    c.realm = std::move(realm);
    // the nonce key: 32 random bytes, new at every start (nonces do not survive a restart;
    // a client holding an old one gets stale=true and retries without a new password prompt)
    for (int i = 0; i < 4; ++i) {
        std::uint64_t v = rng.next_u64();
        c.secret.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    if (!algorithms.empty()) c.algorithms = std::move(algorithms);
    return c;
}

sip::auth::Algorithm base_of(sip::auth::Algorithm a) {
    using A = sip::auth::Algorithm;
    switch (a) {
        case A::MD5_sess:
            return A::MD5;
        case A::SHA256_sess:
            return A::SHA256;
        case A::SHA512_256_sess:
            return A::SHA512_256;
        default:
            return a;
    }
}

}  // namespace

DigestAuth::DigestAuth(std::string realm, sip::Random& rng,
                       std::vector<sip::auth::Algorithm> algorithms)
    : realm_(realm),
      server_(server_config(std::move(realm), rng, std::move(algorithms)), hasher_, rng) {}

std::optional<DigestAuth::Users> DigestAuth::users_from_file(const std::string& path,
                                                             const std::string& realm,
                                                             std::string* error) {
    std::ifstream in(path);
    if (!in) {
        *error = path + ": cannot read the users file";
        return std::nullopt;
    }
    sip::crypto::EvpHasher hasher;
    Users users;
    std::string line;
    for (int lineno = 1; std::getline(in, line); ++lineno) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        const auto colon = line.find(':');
        if (colon == std::string::npos || colon == 0) {
            *error = path + ":" + std::to_string(lineno) + ": expected user:password";
            return std::nullopt;
        }
        const std::string user = line.substr(0, colon);
        const std::string password = line.substr(colon + 1);
        for (auto alg : {sip::auth::Algorithm::MD5, sip::auth::Algorithm::SHA256,
                         sip::auth::Algorithm::SHA512_256}) {
            auto h = sip::auth::ha1(hasher, alg, user, realm, password);
            if (!h) {
                *error = path + ":" + std::to_string(lineno) + ": cannot hash the password";
                return std::nullopt;
            }
            users[user][alg] = *h;
        }
    }
    if (users.empty()) {
        *error = path + ": no users";
        return std::nullopt;
    }
    return users;
}

std::vector<std::string> DigestAuth::challenge(sip::Instant now, bool stale) {
    return server_.challenge(now, stale);
}

route::reg::Authenticator::Outcome DigestAuth::verify(std::string_view authorization,
                                                      std::string_view method, sip::Instant now) {
    Outcome out;
    auto cr = sip::parse_credentials(authorization);
    if (!cr) return out;
    out.username = std::string(cr->username);
    auto lookup = [&](const sip::auth::Ha1Query& q) -> std::optional<std::string> {
        auto u = users_.find(q.username);
        if (u == users_.end()) return std::nullopt;
        // -sess variants derive from the same stored HA1 (RFC 7616 §3.4.2)
        auto a = u->second.find(base_of(q.algorithm));
        if (a == u->second.end()) return std::nullopt;
        return a->second;
    };
    switch (server_.verify(*cr, method, lookup, now)) {
        case sip::auth::Verdict::ok:
            out.verdict = Verdict::Ok;
            break;
        case sip::auth::Verdict::stale:
            out.verdict = Verdict::Stale;
            break;
        case sip::auth::Verdict::replayed_nc:
            out.verdict = Verdict::Repeated;  // the registrar tells a retransmission apart
            break;
        default:
            out.verdict = Verdict::Rejected;
            break;
    }
    return out;
}

}  // namespace wiring

// Digest client: answering 401/407 challenges (RFC 7616 §3.4, §3.7; RFC 8760 §2;
// RFC 3261 §22.2-22.3).
#include <algorithm>
#include <cstdio>

#include "auth/util.hpp"
#include "sip/auth/client.hpp"
#include "sip/auth/digest.hpp"
#include "sip/header_id.hpp"

namespace sip::auth {

namespace {

constexpr std::size_t kCounters = 8;

// qop-options is a comma list of tokens ("auth, auth-int"); is "auth" one of them?
bool offers_auth(std::string_view list) noexcept {
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
            item.remove_suffix(1);
        if (iequals(item, "auth")) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

bool usable(const Hasher& h, const Challenge& c, Algorithm& alg) noexcept {
    if (!iequals(c.scheme, "Digest") || c.nonce.empty()) return false;
    const auto a = parse_algorithm(c.algorithm);
    if (!a || !h.supports(hash_of(*a))) return false;
    // qop absent: the RFC 2069 form; present: we speak only "auth" (no body hashing).
    if (c.qop.data() != nullptr && !offers_auth(c.qop)) return false;
    alg = *a;
    return true;
}

}  // namespace

Result<std::size_t> choose_challenge(const Hasher& h, std::span<const Challenge> offered) noexcept {
    std::optional<std::size_t> best;
    Algorithm best_alg = Algorithm::MD5;
    for (std::size_t i = 0; i < offered.size(); ++i) {
        Algorithm a;
        if (!usable(h, offered[i], a)) continue;
        // RFC 7616 §3.7 lists challenges most preferred first; we still take a stronger hash
        // if one is offered further down (local policy, which RFC 8760 §2 allows the UAC), and
        // keep the server's order among equals.
        if (!best || strength(a) > strength(best_alg)) {
            best = i;
            best_alg = a;
        }
    }
    if (!best) return unexpected(Errc::not_found);
    return *best;
}

Result<std::string> answer_challenge(const Hasher& h, const Challenge& ch, const AnswerParams& p) {
    Algorithm alg;
    if (!usable(h, ch, alg)) return unexpected(Errc::not_found);
    const bool qop = ch.qop.data() != nullptr;
    if (qop && p.cnonce.empty()) return unexpected(Errc::bad_param);

    // Hashes take unquoted values (§3.4 "unq()"); the header echoes the challenge's own
    // escaped text between quotes, which is the same quoted-string.
    const detail::Unquoted realm(ch.realm), nonce(ch.nonce);
    auto stored = ha1(h, alg, p.username, realm.view(), p.password);
    char nc[9];
    std::snprintf(nc, sizeof nc, "%08x", p.nc);
    if (!stored) return unexpected(Errc::bad_param);
    auto response =
        request_digest(h, DigestInput{
                              .algorithm = alg,
                              .ha1 = *stored,
                              .nonce = nonce.view(),
                              .cnonce = qop ? p.cnonce : std::string_view(),
                              .nc = qop ? std::string_view(nc, 8) : std::string_view(),
                              .qop = qop ? std::string_view("auth") : std::string_view(),
                              .method = p.method,
                              .uri = p.uri,
                          });
    if (!response) return unexpected(Errc::bad_param);

    std::optional<std::string> hashed_user;
    if (ch.userhash) {
        // §3.4.4: the server said it can look users up by H(user:realm); hide the name.
        hashed_user = userhash(h, alg, p.username, realm.view());
        if (!hashed_user) return unexpected(Errc::bad_param);
    }

    std::string v = "Digest username=";
    detail::append_quoted(v, hashed_user ? std::string_view(*hashed_user) : p.username);
    v += ", realm=\"";
    v += ch.realm;
    v += "\", nonce=\"";
    v += ch.nonce;
    v += "\", uri=";
    detail::append_quoted(v, p.uri);
    v += ", response=\"";
    v += *response;
    v += "\", algorithm=";
    // Always named, MD5 too: a server offering several must know which one was answered.
    v += algorithm_name(alg);
    if (qop) {
        v += ", cnonce=";
        detail::append_quoted(v, p.cnonce);
        v += ", nc=";
        v.append(nc, 8);
        v += ", qop=auth";
    }
    // §3.4: opaque is returned unchanged whenever the challenge had one, empty included.
    if (ch.opaque.data() != nullptr) {
        v += ", opaque=\"";
        v += ch.opaque;
        v += '"';
    }
    if (hashed_user) v += ", userhash=true";
    return v;
}

DigestClient::DigestClient(const Hasher& h, Random& rng, Account account)
    : hasher_(h), rng_(rng), account_(std::move(account)) {}

Result<std::string> DigestClient::answer(std::span<const Challenge> offered,
                                         std::string_view method, std::string_view uri) {
    auto pick = choose_challenge(hasher_, offered);
    if (!pick) return unexpected(pick.error());
    const Challenge& ch = offered[*pick];

    // §3.4: nc counts the requests sent with one nonce; a new nonce (stale=true or another
    // realm's) starts again at 1.
    std::uint32_t nc = 1;
    auto it = std::find_if(counters_.begin(), counters_.end(), [&](const Counter& c) {
        return c.realm == ch.realm && c.nonce == ch.nonce;
    });
    if (it != counters_.end()) {
        nc = it->nc + 1;
        Counter c = std::move(*it);
        counters_.erase(it);
        c.nc = nc;
        counters_.push_back(std::move(c));
    } else {
        if (counters_.size() >= kCounters) counters_.erase(counters_.begin());
        counters_.push_back(Counter{std::string(ch.realm), std::string(ch.nonce), nc});
    }

    // 128 random bits, base64url: unguessable by a chosen-plaintext server (§5.10).
    std::uint8_t raw[16];
    for (int half = 0; half < 2; ++half) {
        std::uint64_t r = rng_.next_u64();
        for (int i = 0; i < 8; ++i, r >>= 8)
            raw[half * 8 + i] = static_cast<std::uint8_t>(r);
    }
    const std::string cnonce = detail::base64url(raw, sizeof raw);
    return answer_challenge(hasher_, ch,
                            AnswerParams{
                                .username = account_.username,
                                .password = account_.password,
                                .method = method,
                                .uri = uri,
                                .cnonce = cnonce,
                                .nc = nc,
                            });
}

}  // namespace sip::auth

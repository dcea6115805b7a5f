// Fuzz target: the small typed header views — token lists (next_token), Privacy
// (next_privacy), Session-Expires / Min-SE (RFC 4028) and credentials / challenges
// (RFC 3261 §25.1, RFC 7616).
//
// The first input byte picks the parser (byte % 4: '0' token list, '1' Privacy,
// '2' Session-Expires and Min-SE, '3' credentials and challenge); the rest is the header
// value. Invariants besides "no crash, no sanitizer report":
//   - every returned view lies inside the value given;
//   - a cursor function either fails and leaves the cursor untouched, or returns a non-empty
//     token and strictly shrinks the cursor to a suffix that starts at the next element;
//   - error offsets never point past the end of the value;
//   - Min-SE accepts whatever Session-Expires accepts (same delta), and credentials and
//     challenges share one grammar, so their grammar errors agree.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.hpp"
#include "sip/headers.hpp"

namespace {

using fuzz::inside;

bool is_token_char(char ch) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("-.!%*_+`'~").find(ch) != std::string_view::npos;
}

template <class Next>
void walk_list(std::string_view value, Next next) {
    std::string_view list = value;
    while (!list.empty()) {
        const std::string_view before = list;
        auto r = next(list);
        if (!r) {
            FUZZ_CHECK(list.data() == before.data() && list.size() == before.size());
            FUZZ_CHECK(r.error().offset <= before.size());
            FUZZ_CHECK(r.error().code == sip::Errc::bad_header_value);
            return;
        }
        FUZZ_CHECK(list.size() < before.size());
        FUZZ_CHECK(list.empty() || list.data() + list.size() == before.data() + before.size());
        FUZZ_CHECK(!r->empty() && inside(*r, before));
        for (char c : *r) {
            FUZZ_CHECK(is_token_char(c));
        }
        if (!list.empty()) FUZZ_CHECK(is_token_char(list.front()));
    }
}

void session_timer(std::string_view value) {
    auto se = sip::parse_session_expires(value);
    auto min = sip::parse_min_se(value);
    if (se) {
        FUZZ_CHECK(inside(se->refresher, value) && inside(se->params, value));
        FUZZ_CHECK(se->refresher.empty() || sip::iequals(se->refresher, "uac") ||
                   sip::iequals(se->refresher, "uas"));
        FUZZ_CHECK(se->params.empty() || se->params.front() == ';');
        // Min-SE has the same grammar without the refresher rule
        FUZZ_CHECK(min && *min == se->delta);
    } else {
        FUZZ_CHECK(se.error().offset <= value.size());
        if (se.error().code != sip::Errc::bad_param) {
            FUZZ_CHECK(!min && min.error() == se.error());
        }
    }
    if (!min) FUZZ_CHECK(min.error().offset <= value.size());
}

void auth(std::string_view value) {
    auto cr = sip::parse_credentials(value);
    auto ch = sip::parse_challenge(value);
    if (cr) {
        for (auto f : {cr->scheme, cr->username, cr->realm, cr->nonce, cr->uri, cr->response,
                       cr->algorithm, cr->cnonce, cr->opaque, cr->qop, cr->nc, cr->params}) {
            FUZZ_CHECK(inside(f, value));
        }
        FUZZ_CHECK(!cr->scheme.empty() && !cr->params.empty());
        FUZZ_CHECK(cr->nc.empty() || cr->nc.size() == 8);
        if (!sip::iequals(cr->scheme, "Digest")) {
            FUZZ_CHECK(cr->username.empty() && cr->realm.empty() && cr->nonce.empty() &&
                       cr->uri.empty() && cr->response.empty() && cr->algorithm.empty() &&
                       cr->cnonce.empty() && cr->opaque.empty() && cr->qop.empty() &&
                       cr->nc.empty() && !cr->userhash);
        }
    } else {
        FUZZ_CHECK(cr.error().offset <= value.size());
    }
    if (ch) {
        for (auto f : {ch->scheme, ch->realm, ch->domain, ch->nonce, ch->opaque, ch->algorithm,
                       ch->qop, ch->params}) {
            FUZZ_CHECK(inside(f, value));
        }
        if (!sip::iequals(ch->scheme, "Digest")) {
            FUZZ_CHECK(ch->realm.empty() && ch->domain.empty() && ch->nonce.empty() &&
                       ch->opaque.empty() && ch->algorithm.empty() && ch->qop.empty() &&
                       !ch->stale && !ch->userhash);
        }
    } else {
        FUZZ_CHECK(ch.error().offset <= value.size());
    }
    // one grammar: a grammar error in one is the same grammar error in the other
    const bool cr_grammar = !cr && cr.error().code == sip::Errc::bad_header_value;
    const bool ch_grammar = !ch && ch.error().code == sip::Errc::bad_header_value;
    FUZZ_CHECK(cr_grammar == ch_grammar);
    if (cr_grammar) FUZZ_CHECK(cr.error() == ch.error());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view value(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 4) {
        case 0:
            walk_list(value, sip::next_token);
            break;
        case 1:
            walk_list(value, sip::next_privacy);
            break;
        case 2:
            session_timer(value);
            break;
        default:
            auth(value);
            break;
    }
    return 0;
}

// Fuzz target: sip::parse_uri (RFC 3261 §19.1, RFC 3966, RFC 3986 absoluteURI). Every view
// must lie inside the input; a URI that parsed parses again from its `raw` view to the same
// parts.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "sip/headers.hpp"

namespace {

using fuzz::inside;

void check_parts(const sip::Uri& u, std::string_view in) {
    FUZZ_CHECK(u.raw.data() == in.data() && u.raw.size() == in.size());
    FUZZ_CHECK(!u.scheme_name.empty() && u.scheme_name.data() == in.data());
    FUZZ_CHECK(inside(u.user, in));
    FUZZ_CHECK(inside(u.password, in));
    FUZZ_CHECK(inside(u.host, in));
    FUZZ_CHECK(inside(u.params, in));
    FUZZ_CHECK(inside(u.headers, in));
    FUZZ_CHECK(u.has_port || u.port == 0);
    if (u.ipv6) FUZZ_CHECK(u.host.size() >= 2 && u.host.front() == '[' && u.host.back() == ']');
    const bool sip_name = sip::iequals(u.scheme_name, "sip");
    const bool sips_name = sip::iequals(u.scheme_name, "sips");
    const bool tel_name = sip::iequals(u.scheme_name, "tel");
    FUZZ_CHECK((u.scheme == sip::Uri::Scheme::Sip) == sip_name);
    FUZZ_CHECK((u.scheme == sip::Uri::Scheme::Sips) == sips_name);
    FUZZ_CHECK((u.scheme == sip::Uri::Scheme::Tel) == tel_name);
    if (u.is_sip()) FUZZ_CHECK(!u.host.empty());
    if (!u.params.empty()) FUZZ_CHECK(u.params.front() == ';');
    // the parts appear in URI order
    const char* last = u.scheme_name.data() + u.scheme_name.size();
    for (std::string_view part : {u.user, u.password, u.host, u.params, u.headers}) {
        if (part.empty()) continue;
        FUZZ_CHECK(part.data() >= last);
        last = part.data() + part.size();
    }
    for (std::string_view name : {"transport", "user", "lr", "maddr", "ttl", "method",
                                  "phone-context", "isub", "ext"}) {
        auto p = u.param(name);
        if (p) FUZZ_CHECK(inside(*p, u.params));
    }
    const std::string user = sip::unescape(u.user);
    FUZZ_CHECK(user.size() <= u.user.size());
    const std::string host = sip::unescape(u.host);
    FUZZ_CHECK(host.size() <= u.host.size());
}

bool same(const sip::Uri& a, const sip::Uri& b) {
    auto rel = [](std::string_view v, const sip::Uri& u) {
        return v.empty() ? std::ptrdiff_t{-1} : v.data() - u.raw.data();
    };
    return a.scheme == b.scheme && a.scheme_name == b.scheme_name && a.user == b.user &&
           a.password == b.password && a.host == b.host && a.port == b.port &&
           a.has_port == b.has_port && a.ipv6 == b.ipv6 && a.params == b.params &&
           a.headers == b.headers && rel(a.user, a) == rel(b.user, b) &&
           rel(a.host, a) == rel(b.host, b) && rel(a.params, a) == rel(b.params, b) &&
           rel(a.headers, a) == rel(b.headers, b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::unique_ptr<char[]> copy(new char[size ? size : 1]);
    if (size) std::memcpy(copy.get(), data, size);
    const std::string_view in(copy.get(), size);

    auto u = sip::parse_uri(in);
    if (!u) {
        FUZZ_CHECK(u.error().code != sip::Errc::ok);
        FUZZ_CHECK(u.error().offset <= in.size());
        return 0;
    }
    check_parts(*u, in);

    // re-parse from `raw`, in a buffer of its own, gives the same parts at the same offsets
    std::unique_ptr<char[]> copy2(new char[u->raw.size() ? u->raw.size() : 1]);
    if (!u->raw.empty()) std::memcpy(copy2.get(), u->raw.data(), u->raw.size());
    const std::string_view in2(copy2.get(), u->raw.size());
    auto again = sip::parse_uri(in2);
    FUZZ_CHECK(again.has_value());
    check_parts(*again, in2);
    FUZZ_CHECK(same(*u, *again));
    return 0;
}

// Header name -> HeaderId for the message parser, without a copy (see header_name.cpp).
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "sip/header_id.hpp"

namespace sip::detail {

// Longest known name ("p-preferred-identity"); longer names are extension headers.
inline constexpr std::size_t kMaxKnownName = 20;
// Bytes header_id_padded() may read from `name`, whatever `len` is: the parser keeps this
// much zeroed padding after a message's bytes, so the name's words are loaded in place.
inline constexpr std::size_t kNameReadPad = 24;

}  // namespace sip::detail

// The table and the lookup are here, inline, so that the parser's loop keeps its registers
// across the lookup (a call costs ~15 instructions a header in spills).
namespace sip::detail {
namespace name_table {

struct Known {
    std::string_view name;  // lower case
    HeaderId id;
};

inline constexpr Known kKnown[] = {
    {"accept", HeaderId::Accept},
    {"accept-contact", HeaderId::AcceptContact},
    {"a", HeaderId::AcceptContact},
    {"accept-encoding", HeaderId::AcceptEncoding},
    {"accept-language", HeaderId::AcceptLanguage},
    {"alert-info", HeaderId::AlertInfo},
    {"allow", HeaderId::Allow},
    {"allow-events", HeaderId::AllowEvents},
    {"u", HeaderId::AllowEvents},
    {"authentication-info", HeaderId::AuthenticationInfo},
    {"authorization", HeaderId::Authorization},
    {"call-id", HeaderId::CallId},
    {"i", HeaderId::CallId},
    {"call-info", HeaderId::CallInfo},
    {"contact", HeaderId::Contact},
    {"m", HeaderId::Contact},
    {"content-disposition", HeaderId::ContentDisposition},
    {"content-encoding", HeaderId::ContentEncoding},
    {"e", HeaderId::ContentEncoding},
    {"content-language", HeaderId::ContentLanguage},
    {"content-length", HeaderId::ContentLength},
    {"l", HeaderId::ContentLength},
    {"content-type", HeaderId::ContentType},
    {"c", HeaderId::ContentType},
    {"cseq", HeaderId::CSeq},
    {"date", HeaderId::Date},
    {"error-info", HeaderId::ErrorInfo},
    {"event", HeaderId::Event},
    {"o", HeaderId::Event},
    {"expires", HeaderId::Expires},
    {"from", HeaderId::From},
    {"f", HeaderId::From},
    {"identity", HeaderId::Identity},
    {"y", HeaderId::Identity},
    {"in-reply-to", HeaderId::InReplyTo},
    {"max-forwards", HeaderId::MaxForwards},
    {"mime-version", HeaderId::MimeVersion},
    {"min-expires", HeaderId::MinExpires},
    {"min-se", HeaderId::MinSE},
    {"organization", HeaderId::Organization},
    {"p-asserted-identity", HeaderId::PAssertedIdentity},
    {"p-preferred-identity", HeaderId::PPreferredIdentity},
    {"path", HeaderId::Path},
    {"priority", HeaderId::Priority},
    {"privacy", HeaderId::Privacy},
    {"proxy-authenticate", HeaderId::ProxyAuthenticate},
    {"proxy-authorization", HeaderId::ProxyAuthorization},
    {"proxy-require", HeaderId::ProxyRequire},
    {"rack", HeaderId::RAck},
    {"reason", HeaderId::Reason},
    {"record-route", HeaderId::RecordRoute},
    {"refer-to", HeaderId::ReferTo},
    {"r", HeaderId::ReferTo},
    {"referred-by", HeaderId::ReferredBy},
    {"b", HeaderId::ReferredBy},
    {"reject-contact", HeaderId::RejectContact},
    {"j", HeaderId::RejectContact},
    {"reply-to", HeaderId::ReplyTo},
    {"request-disposition", HeaderId::RequestDisposition},
    {"d", HeaderId::RequestDisposition},
    {"require", HeaderId::Require},
    {"retry-after", HeaderId::RetryAfter},
    {"route", HeaderId::Route},
    {"rseq", HeaderId::RSeq},
    {"server", HeaderId::Server},
    {"session-expires", HeaderId::SessionExpires},
    {"x", HeaderId::SessionExpires},
    {"subject", HeaderId::Subject},
    {"s", HeaderId::Subject},
    {"subscription-state", HeaderId::SubscriptionState},
    {"supported", HeaderId::Supported},
    {"k", HeaderId::Supported},
    {"timestamp", HeaderId::Timestamp},
    {"to", HeaderId::To},
    {"t", HeaderId::To},
    {"unsupported", HeaderId::Unsupported},
    {"user-agent", HeaderId::UserAgent},
    {"via", HeaderId::Via},
    {"v", HeaderId::Via},
    {"warning", HeaderId::Warning},
    {"www-authenticate", HeaderId::WWWAuthenticate},
};
inline constexpr std::size_t kKnownCount = sizeof kKnown / sizeof kKnown[0];

inline std::uint64_t load_le64(const char* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
    return w;
}

// The octets of a word that belong to a name of `len` octets (1..8 of them).
constexpr std::uint64_t word_keep(std::size_t len) {
    return ~std::uint64_t{0} >> (64 - 8 * (len < 8 ? len : 8));
}

// Perfect hash (no two known names share it; checked below) of a name's first word with
// every octet OR-ed with 0x20, its length and its last octet OR-ed with 0x20: a matching
// name in any case hashes as its lower-case form ('-' is 0x2d either way). The multiplier
// was found by trying random odd 64-bit numbers until the 81 names spread over 1024 slots.
constexpr std::uint64_t kNameHashMul = 0xcd613e30d8f16adfULL;
// word_keep() by length, for the lookup: a load instead of a variable shift.
struct KeepTable {
    std::uint64_t keep[kMaxKnownName + 1] = {};
};
constexpr KeepTable make_keep_table() {
    KeepTable t;
    for (std::size_t len = 1; len <= kMaxKnownName; ++len) t.keep[len] = word_keep(len);
    return t;
}
// Hidden: read PC-relative, not through the GOT (libsipcore is a shared library).
[[gnu::visibility("hidden")]] inline constexpr KeepTable kKeep = make_keep_table();

// `keep` is word_keep(len).
constexpr unsigned name_hash(std::uint64_t first_word, std::uint64_t keep, std::size_t len,
                             unsigned last) {
    const std::uint64_t folded = (first_word | 0x2020202020202020ULL) & keep;
    const std::uint64_t mixed = folded + len * 0x9E3779B1ULL + (std::uint64_t{last | 0x20} << 40);
    return static_cast<unsigned>((mixed * kNameHashMul) >> 54);
}

struct Slot {
    std::uint64_t lc[3] = {};    // the lower-case name, little-endian words, zero-padded
    std::uint64_t fold[3] = {};  // 0x20 where the name has a letter
    std::uint64_t keep[3] = {};  // the octets of each word that belong to the name
    std::uint8_t len = 0;
    HeaderId id = HeaderId::Other;
};

struct Table {
    std::array<std::uint8_t, 1024> index{};  // hash -> slot, 0 = none
    std::array<Slot, kKnownCount + 1> slots{};
    bool perfect = true;  // no two known names share a hash
};

constexpr Table make_table() {
    Table t;
    for (std::size_t k = 0; k < kKnownCount; ++k) {
        const std::string_view n = kKnown[k].name;
        Slot& s = t.slots[k + 1];
        s.len = static_cast<std::uint8_t>(n.size());
        s.id = kKnown[k].id;
        for (std::size_t i = 0; i < n.size(); ++i) {
            const auto c = static_cast<std::uint64_t>(static_cast<unsigned char>(n[i]));
            s.lc[i / 8] |= c << (8 * (i % 8));
            s.keep[i / 8] |= std::uint64_t{0xff} << (8 * (i % 8));
            if (c >= 'a' && c <= 'z') s.fold[i / 8] |= std::uint64_t{0x20} << (8 * (i % 8));
        }
        const unsigned h = name_hash(s.lc[0], word_keep(n.size()), n.size(),
                                     static_cast<unsigned char>(n.back()));
        if (t.index[h] != 0) t.perfect = false;
        t.index[h] = static_cast<std::uint8_t>(k + 1);
    }
    return t;
}
[[gnu::visibility("hidden")]] inline constexpr Table kTable = make_table();  // as kKeep
static_assert(kTable.perfect, "two header names share a hash: pick another kNameHashMul");
static_assert(kKnownCount < 255);

constexpr bool max_len_ok() {
    for (const Known& k : kKnown)
        if (k.name.empty() || k.name.size() > kMaxKnownName) return false;
    return true;
}
static_assert(max_len_ok());

}  // namespace name_table

[[gnu::always_inline]] inline HeaderId header_id_padded(const char* p, std::size_t len) noexcept {
    using namespace name_table;
    if (len - 1 >= kMaxKnownName) return HeaderId::Other;  // empty or too long
    const std::uint64_t w0 = load_le64(p);
    const unsigned h = name_hash(w0, kKeep.keep[len], len, static_cast<unsigned char>(p[len - 1]));
    const Slot& s = kTable.slots[kTable.index[h]];
    const HeaderId id = s.id;  // read with the slot: no second address computation
    // a length mismatch (slot 0, no name, has len 0) counts as a difference: one branch
    std::uint64_t diff = (((w0 | s.fold[0]) ^ s.lc[0]) & s.keep[0]) | (s.len ^ len);
    if (len > 8) {
        diff |= ((load_le64(p + 8) | s.fold[1]) ^ s.lc[1]) & s.keep[1];
        diff |= ((load_le64(p + 16) | s.fold[2]) ^ s.lc[2]) & s.keep[2];
    }
    return diff ? HeaderId::Other : id;
}

}  // namespace sip::detail

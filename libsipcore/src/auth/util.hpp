// Private helpers of the digest code: base64url (RFC 4648 §5), constant-time comparison,
// quoted-string escaping and unquoting (RFC 3261 §25.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/headers.hpp"

namespace sip::auth::detail {

// RFC 4648 §5 alphabet, no padding (every character is a token char, RFC 3261 §25.1).
std::string base64url(const std::uint8_t* data, std::size_t n);
// Decodes unpadded base64url of exactly `n` bytes into `out`; false on any other input.
bool base64url_decode(std::string_view text, std::uint8_t* out, std::size_t n) noexcept;

// Equal without an early exit, so timing does not tell how much of a guess was right.
// Only the lengths (public: fixed per algorithm) are compared first.
bool ct_equal(std::string_view a, std::string_view b) noexcept;

// Appends `v` as a quoted-string: DQUOTE, '"' and '\' escaped as quoted-pairs, DQUOTE.
void append_quoted(std::string& out, std::string_view v);

// The unquoted value of a quoted-string's content. Parsed views keep their quoted-pairs;
// the digest hashes the unquoted value (RFC 7616 §3.4: "unq()"). Copies only when needed.
class Unquoted {
  public:
    explicit Unquoted(std::string_view raw)
        : owned_(raw.find('\\') == std::string_view::npos ? std::optional<std::string>{}
                                                          : std::optional(sip::unquote(raw))),
          view_(owned_ ? std::string_view(*owned_) : raw) {}
    Unquoted(const Unquoted&) = delete;
    Unquoted& operator=(const Unquoted&) = delete;
    std::string_view view() const noexcept { return view_; }

  private:
    std::optional<std::string> owned_;
    std::string_view view_;
};

// Lowercases ASCII hex digits; returns false if `v` holds anything but hex digits.
bool lower_hex(std::string_view v, std::string& out);

}  // namespace sip::auth::detail

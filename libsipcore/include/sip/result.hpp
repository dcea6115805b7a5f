// sip::Result<T> — errors as values across every library API.
//
//   sip::Result<sip::Message> m = sip::Message::parse(bytes);
//   if (!m) {
//       log("{}: offset {}: {}", file, m.error().offset, m.error().what());
//       return;
//   }
//   use(m->call_id());
//
// API-compatible with the subset of std::expected we use (has_value, value, error, *, ->,
// value_or), so the type can become an alias once the toolchain ships <expected>.
// No exception crosses a library API; only std::bad_alloc may escape.
#pragma once

#include <cstdint>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

#include "sip/header_id.hpp"

namespace sip {

// Every fault a decoder can name. `what()` gives the reason phrase used in 400 responses
// and in diagnostics ("offset N: reason").
enum class Errc : std::uint8_t {
    ok = 0,
    empty,                 // no bytes at all
    incomplete,            // header section not terminated by an empty line
    too_large,             // message exceeds ParseLimits::max_message
    too_many_headers,      // more header fields than ParseLimits::max_headers
    header_too_long,       // one header field longer than ParseLimits::max_header
    bad_start_line,        // neither a Request-Line nor a Status-Line
    bad_method,            // method is not a token
    bad_request_uri,       // Request-URI does not parse
    uri_headers_in_ruri,   // Request-URI carries ?headers (RFC 3261 §19.1.1 table 1)
    bad_version,           // malformed SIP-Version
    unsupported_version,   // well-formed but not SIP/2.0 (505)
    bad_status_code,       // Status-Code is not 3 digits in 100..699
    bad_reason_phrase,     // control characters in Reason-Phrase
    bad_header_name,       // header name is not a token or lacks ':'
    bad_line_end,          // bare CR or LF where CRLF is required
    bad_header_value,      // a typed header failed its grammar
    missing_header,        // a mandatory header is absent
    duplicate_header,      // a single-valued header appears more than once
    bad_content_length,    // Content-Length not a non-negative integer, or conflicting
    body_truncated,        // Content-Length larger than the bytes that follow
    cseq_method_mismatch,  // CSeq method differs from the Request-Line method
    value_out_of_range,    // integer larger than its grammar allows
    bad_uri,               // URI grammar violated
    unsupported_scheme,    // URI scheme Trunkline cannot interpret
    bad_param,             // a parameter fails its grammar
    not_found,             // an optional header/param looked up on demand is absent
    bad_frame,             // stream framing error
};

// Reason phrase for `code`, suitable for a SIP 400 reason phrase.
std::string_view errc_text(Errc code) noexcept;

struct Error {
    Errc code = Errc::ok;
    std::uint32_t offset = 0;        // byte offset into the decoded input where the fault is
    HeaderId header = HeaderId::None;  // header being decoded, if any

    std::string_view what() const noexcept { return errc_text(code); }
    friend bool operator==(const Error&, const Error&) = default;
};

// Tag to construct an error Result, as std::unexpected does.
struct Unexpected {
    Error error;
};
inline Unexpected unexpected(Error e) noexcept { return Unexpected{e}; }
inline Unexpected unexpected(Errc c, std::uint32_t offset = 0,
                             HeaderId h = HeaderId::None) noexcept {
    return Unexpected{Error{c, offset, h}};
}

template <class T>
class [[nodiscard]] Result {
public:
    using value_type = T;
    using error_type = Error;

    Result(const T& v) : ok_(true) { new (&value_) T(v); }
    Result(T&& v) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_(true) {
        new (&value_) T(std::move(v));
    }
    Result(Unexpected u) noexcept : ok_(false) { new (&error_) Error(u.error); }

    Result(const Result& o) : ok_(o.ok_) {
        if (ok_) new (&value_) T(o.value_);
        else new (&error_) Error(o.error_);
    }
    Result(Result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_(o.ok_) {
        if (ok_) new (&value_) T(std::move(o.value_));
        else new (&error_) Error(o.error_);
    }
    Result& operator=(Result o) noexcept(std::is_nothrow_move_constructible_v<T>) {
        destroy();
        ok_ = o.ok_;
        if (ok_) new (&value_) T(std::move(o.value_));
        else new (&error_) Error(o.error_);
        return *this;
    }
    ~Result() { destroy(); }

    bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }

    T& value() & { return value_; }
    const T& value() const& { return value_; }
    T&& value() && { return std::move(value_); }
    const Error& error() const noexcept { return error_; }

    T& operator*() & { return value_; }
    const T& operator*() const& { return value_; }
    T&& operator*() && { return std::move(value_); }
    T* operator->() { return &value_; }
    const T* operator->() const { return &value_; }

    template <class U>
    T value_or(U&& fallback) const& {
        return ok_ ? value_ : static_cast<T>(std::forward<U>(fallback));
    }

private:
    void destroy() noexcept {
        if (ok_) value_.~T();
    }
    bool ok_;
    union {
        T value_;
        Error error_;
    };
};

}  // namespace sip

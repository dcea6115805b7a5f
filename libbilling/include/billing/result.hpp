// billing::Result<T> — errors as values for every billing API (no exceptions cross the API;
// only std::bad_alloc may escape).
//
//   billing::Result<billing::Money> r = billing::Money::parse("12.50");
//   if (!r) { std::cerr << r.error().describe() << '\n'; return 1; }
//   billing::Money m = *r;
//
// The shape follows std::expected (has_value, operator bool, *, ->, value(), error()) so
// that code can move to std::expected once the compiler has it. Error::line is 1-based and
// 0 when the error is not tied to an input line; Error::field names the column or member
// the error is about ("" when none).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace billing {

enum class ErrorCode : std::uint8_t {
    invalid_argument,    // a value is malformed (bad number, bad date, empty prefix, ...)
    overflow,            // an amount or duration does not fit in 64 bits
    negative_duration,   // end before answer / setup
    unknown_account,     // an account id that does not exist
    unknown_rate_group,  // a rate group that does not exist
    no_rate,             // no rate matches the destination at that time
    duplicate,           // duplicate key (prefix in a deck, account id, ...)
    insufficient_funds,  // balance + credit limit does not cover the operation
    parse_error,         // a CSV line or field could not be read
    io_error,            // file or database I/O failed
    db_locked,           // the database stayed busy/locked past the busy timeout
    disk_full,           // the database or file system is full
    db_error,            // any other database error
    schema_too_new,      // the database was written by a newer trunkline
};

std::string_view to_string(ErrorCode code);

struct Error {
    ErrorCode code = ErrorCode::invalid_argument;
    std::string message;
    std::size_t line = 0;  // 1-based input line, 0 = none
    std::string field;     // column / member name, "" = none

    // "line 12, field price: not a decimal number '1,2.3'" style text.
    std::string describe() const;
};

inline Error make_error(ErrorCode code, std::string message, std::string field = {},
                        std::size_t line = 0) {
    return Error{code, std::move(message), line, std::move(field)};
}

// Tag type to build an error result: `return billing::fail(ErrorCode::no_rate, "...")`.
struct Failure {
    Error error;
};
inline Failure fail(ErrorCode code, std::string message, std::string field = {},
                    std::size_t line = 0) {
    return Failure{make_error(code, std::move(message), std::move(field), line)};
}
inline Failure fail(Error e) { return Failure{std::move(e)}; }

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Failure f) : v_(std::in_place_index<1>, std::move(f.error)) {}
    Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const Error& error() const { return std::get<1>(v_); }
    Error& error() { return std::get<1>(v_); }
    template <class U>
    T value_or(U&& fallback) const {
        return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
    }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Failure f) : err_(std::move(f.error)), ok_(false) {}
    Result(Error e) : err_(std::move(e)), ok_(false) {}
    bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { return err_; }
    Error& error() { return err_; }

private:
    Error err_;
    bool ok_ = true;
};

}  // namespace billing

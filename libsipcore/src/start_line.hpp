// The start line, split and checked (private to libsipcore).
#pragma once

#include <cstdint>
#include <string_view>

#include "sip/result.hpp"

namespace sip::detail {

struct StartLine {
    bool response = false;
    std::string_view method, uri;  // requests
    std::uint16_t status = 0;      // responses
    std::string_view reason;
};

// `line` excludes the CRLF. Error offsets are relative to the line.
Result<StartLine> parse_start_line(std::string_view line) noexcept;
// The same; `fast` false skips the fast path for plain lines and runs the Ragel machine
// alone (tests compare the two).
Result<StartLine> parse_start_line_impl(std::string_view line, bool fast) noexcept;

}  // namespace sip::detail

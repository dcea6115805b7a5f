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

}  // namespace sip::detail

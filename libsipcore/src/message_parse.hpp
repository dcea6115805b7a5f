// The message parser on the portable framing (private to libsipcore and its tests).
#pragma once

#include <string_view>

#include "sip/message.hpp"

namespace sip::detail {

// Message::parse() with scan::Scalar's line framing whatever the target, so the tests can
// require the same result from both framings on the same messages (scan_test.cpp).
Result<Message> parse_message_scalar(std::string_view bytes, const ParseLimits& limits = {},
                                     Framing framing = Framing::Datagram);

}  // namespace sip::detail

#include "sw/commands.hpp"

#include <fmt/format.h>

#include <limits>

#include "sw/switch.hpp"

namespace sw {

std::optional<std::uint64_t> parse_call_id(std::string_view id) {
    if (id.empty()) return std::nullopt;
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t n = 0;
    for (char ch : id) {
        if (ch < '0' || ch > '9') return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(ch - '0');
        if (n > (kMax - digit) / 10) return std::nullopt;
        n = n * 10 + digit;
    }
    return n;
}

bool hangup_call(Switch& sw, std::uint64_t id, sip::Instant now) {
    const bool ok = sw.calls().hangup(id, now);
    sw.pump(now);  // the BYEs / 503 and the CDR go out with the caller's next drain
    return ok;
}

namespace {

bool hangup(Switch& sw, std::string_view arg, sip::Instant now) {
    const auto id = parse_call_id(arg);
    return id && hangup_call(sw, *id, now);
}

}  // namespace

std::optional<std::string> run_command(Switch& sw, std::string_view kind, std::string_view arg,
                                       sip::Instant now) {
    if (kind == "lift") {
        sw.registrations().lift(arg, now);
        return std::nullopt;
    }
    if (kind == "hangup")
        return fmt::format("call {}: operator hangup: {}", arg,
                           hangup(sw, arg, now) ? "done" : "no such call");
    if (auto line = sw.registrations().command(kind, arg, now)) return line;  // unbind ...
    return fmt::format("command {} '{}' not understood", kind, arg);
}

}  // namespace sw

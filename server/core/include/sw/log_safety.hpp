// Log lines that values from the wire cannot forge, and a per-kind cap on how many a flood
// writes (issue: a bare CR in a Call-ID rewrote a terminal line, a folded line started a new
// log line, and a 20 s REGISTER flood wrote 31 MB).
//
//   wiring::log_line(sw::escape_for_log(line));      // one line, whatever `line` holds
//
//   sw::LogLimiter limiter({.per_second = 100});
//   if (limiter.admit(sw::LogKind::message, now)) log(line);
//   if (auto s = limiter.summary(now)) log(*s);      // "log: 1234 message lines suppressed ..."
//   if (auto d = limiter.next_deadline()) arm(*d);   // so the summary comes without traffic
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sip/time.hpp"

namespace sw {

// CR, LF, TAB and backslash as \r \n \t \\; other control characters, DEL and bytes that are
// not well-formed UTF-8 as \xHH. Valid UTF-8 (a caller's display name) stays readable.
std::string escape_for_log(std::string_view line);

// Where a log line comes from; each kind has its own budget.
// transport: the transports' per-connection lines (a TLS garbage flood writes one per
// connection otherwise). suspension: a suspension's start, end or lift, with a budget of its
// own so that a guesser's flood of "authentication failed" lines cannot hide them.
enum class LogKind : std::uint8_t { message, registration, call, probe, transport, suspension, kCount };
std::string_view log_kind_name(LogKind k) noexcept;

// One log line of the core with where it comes from and, for a call's lines, its fields
// (call, customer, gateway, call_id), so the wiring can write logfmt or JSON.
struct LogEntry {
    LogKind kind = LogKind::message;
    std::string text;
    std::vector<std::pair<std::string, std::string>> fields;
};

struct LogLimits {
    std::uint32_t per_second = 100;  // lines per kind per second; 0: no limit
};

class LogLimiter {
public:
    explicit LogLimiter(LogLimits limits = {}) : limits_(limits) {}

    // Whether a line of `kind` may be written now; counts what is not.
    bool admit(LogKind kind, sip::Instant now);
    // One line per second that suppressed something, once that second is over.
    std::optional<std::string> summary(sip::Instant now);
    // Moves to `now` (a summary becomes due once its second is over).
    void tick(sip::Instant now) { roll(now); }
    // The end of the current second when it suppressed something (its summary is due then).
    std::optional<sip::Instant> next_deadline() const;

    std::uint64_t suppressed_total() const noexcept { return suppressed_total_; }

private:
    void roll(sip::Instant now);

    LogLimits limits_;
    std::optional<sip::Instant> window_start_;
    std::array<std::uint32_t, static_cast<std::size_t>(LogKind::kCount)> written_{};
    std::array<std::uint64_t, static_cast<std::size_t>(LogKind::kCount)> suppressed_{};
    std::string pending_;  // the summary of the window that just ended
    std::uint64_t suppressed_total_ = 0;
};

}  // namespace sw

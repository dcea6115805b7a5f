// wiring::log_line, wiring::log_event — trunkline's log: one line per event on stderr, in the
// format [log] format chooses, filtered by [log] level. Safe from any thread (the CDR writer
// and the webhook log from their own).
//
//   wiring::log_line("routing: 3 customers, 12 vendor gateways");   // info, event "routing"
//   wiring::log_event(wiring::LogLevel::debug, "call", "call 7: answered by gw1",
//                     {{"call", "7"}, {"customer", "acme"}, {"gateway", "gw1"}});
//   // text:   2024-05-01T12:00:00.042Z call 7: answered by gw1 call=7 customer=acme gateway=gw1
//   // logfmt: time=2024-05-01T12:00:00.042Z level=debug event=call msg="call 7: answered by gw1" call=7 ...
//   // json:   {"time":"2024-05-01T12:00:00.042Z","level":"debug","event":"call","msg":"...","call":"7",...}
//
// The event is the line's leading word before ": " ("routing", "api", "alert") unless given.
// Every value is escaped (sw::escape_for_log: no CR, LF or invalid UTF-8 reaches the file).
// Lines below the level are not formatted at all.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wiring {

enum class LogLevel : std::uint8_t { debug, info, warn, error };
enum class LogFormat : std::uint8_t { text, logfmt, json };
std::optional<LogLevel> parse_log_level(std::string_view s);    // "debug", "info", "warn", "error"
std::optional<LogFormat> parse_log_format(std::string_view s);  // "text", "logfmt", "json"
std::string_view to_string(LogLevel l) noexcept;
std::string_view to_string(LogFormat f) noexcept;

struct LogSettings {
    LogFormat format = LogFormat::text;
    LogLevel level = LogLevel::info;
    bool operator==(const LogSettings&) const = default;
};
void set_log_settings(LogSettings s);  // at start and on SIGHUP
LogSettings log_settings();

using LogField = std::pair<std::string_view, std::string_view>;

void log_line(std::string_view line);
void log_event(LogLevel level, std::string_view event, std::string_view msg,
               std::initializer_list<LogField> fields = {});
void log_event(LogLevel level, std::string_view event, std::string_view msg,
               const std::vector<std::pair<std::string, std::string>>& fields);

// One line as written (without the newline); `time` is "2024-05-01T12:00:00.042Z".
std::string format_log(LogFormat format, std::string_view time, LogLevel level, std::string_view event,
                       std::string_view msg, const std::vector<LogField>& fields);
// The event of a plain line: its leading [a-z_]+ word when ": " follows it, else "".
std::string_view event_of(std::string_view line);

}  // namespace wiring

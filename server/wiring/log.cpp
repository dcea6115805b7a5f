#include "wiring/log.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>

#include "sw/log_safety.hpp"

namespace wiring {

namespace {

// Read from every thread that logs, written on the loop at start and on SIGHUP.
std::atomic<std::uint8_t> g_format{static_cast<std::uint8_t>(LogFormat::text)};
std::atomic<std::uint8_t> g_level{static_cast<std::uint8_t>(LogLevel::info)};

std::string now_text() {
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", std::chrono::floor<std::chrono::seconds>(now), ms.count());
}

// logfmt: bare when the value has no space, quote, '=' or is empty; quoted otherwise.
void logfmt_value(std::string& out, std::string_view v) {
    const std::string e = sw::escape_for_log(v);
    if (!e.empty() && e.find_first_of(" \"=") == std::string::npos) {
        out += e;
        return;
    }
    out += '"';
    for (char c : e) {
        if (c == '"') out += '\\';
        out += c;
    }
    out += '"';
}

// JSON string: escape_for_log already turned control characters into \r \n \t \xHH text and
// doubled nothing; here only the JSON specials remain (quote and backslash).
void json_value(std::string& out, std::string_view v) {
    out += '"';
    for (char c : sw::escape_for_log(v)) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
}

// " key=value" for each field (logfmt quoting), after the message in text and logfmt.
void append_fields(std::string& out, const std::vector<LogField>& fields) {
    for (const auto& [k, v] : fields) {
        out += fmt::format(" {}=", k);
        logfmt_value(out, v);
    }
}

void write(LogLevel level, std::string_view event, std::string_view msg, const std::vector<LogField>& fields) {
    if (static_cast<std::uint8_t>(level) < g_level.load(std::memory_order_relaxed)) return;
    const auto format = static_cast<LogFormat>(g_format.load(std::memory_order_relaxed));
    const std::string line = format_log(format, now_text(), level, event, msg, fields);
    fmt::print(stderr, "{}\n", line);  // one call: stdio keeps a line whole across threads
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view s) {
    for (LogLevel l : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error})
        if (s == to_string(l)) return l;
    return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view s) {
    for (LogFormat f : {LogFormat::text, LogFormat::logfmt, LogFormat::json})
        if (s == to_string(f)) return f;
    return std::nullopt;
}

std::string_view to_string(LogLevel l) noexcept {
    switch (l) {
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warn: return "warn";
        case LogLevel::error: return "error";
    }
    return "info";
}

std::string_view to_string(LogFormat f) noexcept {
    switch (f) {
        case LogFormat::text: return "text";
        case LogFormat::logfmt: return "logfmt";
        case LogFormat::json: return "json";
    }
    return "text";
}

void set_log_settings(LogSettings s) {
    g_format.store(static_cast<std::uint8_t>(s.format), std::memory_order_relaxed);
    g_level.store(static_cast<std::uint8_t>(s.level), std::memory_order_relaxed);
}

LogSettings log_settings() {
    return {static_cast<LogFormat>(g_format.load()), static_cast<LogLevel>(g_level.load())};
}

std::string_view event_of(std::string_view line) {
    std::size_t i = 0;
    while (i < line.size() && ((line[i] >= 'a' && line[i] <= 'z') || line[i] == '_')) ++i;
    return i > 0 && line.substr(i, 2) == ": " ? line.substr(0, i) : std::string_view();
}

std::string format_log(LogFormat format, std::string_view time, LogLevel level, std::string_view event,
                       std::string_view msg, const std::vector<LogField>& fields) {
    std::string out;
    switch (format) {
        case LogFormat::text:  // what trunkline always wrote, fields after the message
            out = fmt::format("{} {}", time, sw::escape_for_log(msg));
            append_fields(out, fields);
            if (level == LogLevel::warn || level == LogLevel::error)
                out.insert(time.size() + 1, fmt::format("{}: ", to_string(level)));
            return out;
        case LogFormat::logfmt:
            out = fmt::format("time={} level={}", time, to_string(level));
            if (!event.empty()) out += fmt::format(" event={}", event);
            out += " msg=";
            logfmt_value(out, msg);
            append_fields(out, fields);
            return out;
        case LogFormat::json:
            out = fmt::format("{{\"time\":\"{}\",\"level\":\"{}\"", time, to_string(level));
            if (!event.empty()) out += fmt::format(",\"event\":\"{}\"", event);
            out += ",\"msg\":";
            json_value(out, msg);
            for (const auto& [k, v] : fields) {
                out += ",";
                json_value(out, k);
                out += ":";
                json_value(out, v);
            }
            return out + "}";
    }
    return out;
}

void log_line(std::string_view line) {
    write(LogLevel::info, event_of(line), line, {});
}

void log_event(LogLevel level, std::string_view event, std::string_view msg, std::initializer_list<LogField> fields) {
    write(level, event, msg, std::vector<LogField>(fields));
}

void log_event(LogLevel level, std::string_view event, std::string_view msg,
               const std::vector<std::pair<std::string, std::string>>& fields) {
    std::vector<LogField> v;
    v.reserve(fields.size());
    for (const auto& [k, val] : fields) v.emplace_back(k, val);
    write(level, event, msg, v);
}

}  // namespace wiring

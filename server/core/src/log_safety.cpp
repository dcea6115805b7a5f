#include "sw/log_safety.hpp"

#include <fmt/format.h>

namespace sw {
namespace {

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629 §4), or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) n = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) n = 3;
    else if (c == 0xED) n = 3, hi = 0x9F;  // no UTF-16 surrogates
    else if (c >= 0xEE && c <= 0xEF) n = 3;
    else if (c == 0xF0) n = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else if (c == 0xF4) n = 4, hi = 0x8F;
    else return 0;
    if (i + n > s.size()) return 0;
    if (b(i + 1) < lo || b(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
    return n;
}

bool plain(unsigned char c) {
    return c >= 0x20 && c < 0x7f && c != '\\';
}

}  // namespace

std::string escape_for_log(std::string_view line) {
    std::size_t i = 0;
    while (i < line.size() && plain(static_cast<unsigned char>(line[i]))) ++i;
    if (i == line.size()) return std::string(line);  // the usual case: nothing to escape
    std::string out(line.substr(0, i));
    out.reserve(line.size() + 16);
    while (i < line.size()) {
        const auto c = static_cast<unsigned char>(line[i]);
        if (plain(c)) {
            out.push_back(static_cast<char>(c));
            ++i;
            continue;
        }
        switch (c) {
            case '\r': out += "\\r"; ++i; continue;
            case '\n': out += "\\n"; ++i; continue;
            case '\t': out += "\\t"; ++i; continue;
            case '\\': out += "\\\\"; ++i; continue;
            default: break;
        }
        if (c >= 0x80) {
            if (const std::size_t n = utf8_length(line, i)) {
                out.append(line.substr(i, n));
                i += n;
                continue;
            }
        }
        out += fmt::format("\\x{:02X}", c);
        ++i;
    }
    return out;
}

std::string_view log_kind_name(LogKind k) noexcept {
    switch (k) {
        case LogKind::message: return "message";
        case LogKind::registration: return "registration";
        case LogKind::call: return "call";
        case LogKind::probe: return "probe";
        case LogKind::transport: return "transport";
        case LogKind::suspension: return "suspension";
        default: return "other";
    }
}

void LogLimiter::roll(sip::Instant now) {
    using namespace std::chrono_literals;
    if (window_start_ && now < *window_start_ + 1s) return;
    if (window_start_) {
        std::string parts;
        for (std::size_t k = 0; k < suppressed_.size(); ++k) {
            if (suppressed_[k] == 0) continue;
            parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", suppressed_[k],
                                 log_kind_name(static_cast<LogKind>(k)));
        }
        if (!parts.empty())
            pending_ += fmt::format(
                "{}", pending_.empty() ? "" : " / ");
        if (!parts.empty())
            pending_ += fmt::format(
                "log: {} lines suppressed in 1 s (limit {} per kind per second, [log] "
                "max_lines_per_second)",
                parts, limits_.per_second);
    }
    window_start_ = now;
    written_.fill(0);
    suppressed_.fill(0);
}

bool LogLimiter::admit(LogKind kind, sip::Instant now) {
    if (limits_.per_second == 0) return true;
    roll(now);
    const auto k = static_cast<std::size_t>(kind);
    if (written_[k] < limits_.per_second) {
        ++written_[k];
        return true;
    }
    ++suppressed_[k];
    ++suppressed_total_;
    return false;
}

std::optional<std::string> LogLimiter::summary(sip::Instant now) {
    if (limits_.per_second == 0) return std::nullopt;
    roll(now);
    if (pending_.empty()) return std::nullopt;
    std::string s = std::move(pending_);
    pending_.clear();
    return s;
}

std::optional<sip::Instant> LogLimiter::next_deadline() const {
    using namespace std::chrono_literals;
    if (!window_start_) return std::nullopt;
    for (auto n : suppressed_)
        if (n != 0) return *window_start_ + 1s;
    return std::nullopt;
}

}  // namespace sw

#include "billing/cdr_filter.hpp"

#include <charconv>

namespace billing {

std::string to_string(const CdrCursor& c) {
    return std::to_string(c.end_ms) + "." + std::to_string(c.id);
}

// "END_MS.ID": both decimal, the id positive; anything else is not a cursor.
std::optional<CdrCursor> parse_cdr_cursor(std::string_view text) {
    const std::size_t dot = text.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    CdrCursor c;
    auto whole = [](std::string_view s, std::int64_t& v) {
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        return !s.empty() && ec == std::errc{} && end == s.data() + s.size();
    };
    if (!whole(text.substr(0, dot), c.end_ms) || !whole(text.substr(dot + 1), c.id) || c.id < 1)
        return std::nullopt;
    return c;
}

}  // namespace billing

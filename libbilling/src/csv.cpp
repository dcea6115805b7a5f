#include "billing/csv.hpp"

#include <charconv>

namespace billing {

LineReader::LineReader(std::string_view text) : text_(text) {
    if (text_.size() >= 3 && text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

bool LineReader::next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    std::size_t end = text_.find('\n', pos_);
    std::size_t next = end == std::string_view::npos ? text_.size() : end + 1;
    if (end == std::string_view::npos) end = text_.size();
    std::size_t stop = end;
    if (stop > pos_ && text_[stop - 1] == '\r') --stop;
    line = text_.substr(pos_, stop - pos_);
    pos_ = next;
    ++line_no_;
    return true;
}

static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

Result<void> split_csv(std::string_view line, char delim, std::vector<std::string>& out) {
    std::size_t n = 0;
    std::size_t i = 0;
    for (;;) {
        if (n == out.size()) out.emplace_back();
        std::string& f = out[n++];
        f.clear();
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t') && line[i] != delim) ++i;
        if (i < line.size() && line[i] == '"') {
            ++i;
            for (;;) {
                if (i >= line.size())
                    return fail(ErrorCode::parse_error, "unterminated quoted field");
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        f.push_back('"');
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                f.push_back(line[i++]);
            }
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
            if (i < line.size() && line[i] != delim)
                return fail(ErrorCode::parse_error, "text after a closing quote");
        } else {
            const std::size_t start = i;
            while (i < line.size() && line[i] != delim) ++i;
            f.assign(trim(line.substr(start, i - start)));
        }
        if (i >= line.size()) break;
        ++i;  // delimiter
    }
    out.resize(n);
    return {};
}

std::string csv_escape(std::string_view field, char delim) {
    if (field.find_first_of(std::string{delim, '"', '\r', '\n'}) == std::string_view::npos)
        return std::string(field);
    std::string s = "\"";
    for (char c : field) {
        if (c == '"') s += '"';
        s += c;
    }
    s += '"';
    return s;
}

std::string json_escape(std::string_view s) {
    std::string o;
    o.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '"': o += "\\\""; break;
            case '\\': o += "\\\\"; break;
            case '\n': o += "\\n"; break;
            case '\r': o += "\\r"; break;
            case '\t': o += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    static const char* hex = "0123456789abcdef";
                    o += "\\u00";
                    o += hex[(c >> 4) & 0xf];
                    o += hex[c & 0xf];
                } else {
                    o += c;
                }
        }
    }
    return o;
}

Result<long long> parse_int(std::string_view s) {
    long long v = 0;
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec == std::errc::invalid_argument || p != s.data() + s.size())
        return fail(ErrorCode::invalid_argument, "'" + std::string(s) + "' is not an integer");
    if (ec == std::errc::result_out_of_range)
        return fail(ErrorCode::overflow, "'" + std::string(s) + "' is out of range");
    return v;
}

}  // namespace billing

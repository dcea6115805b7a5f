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

namespace billing {

std::string_view to_string(TextEncoding e) {
    switch (e) {
        case TextEncoding::utf8: return "utf-8";
        case TextEncoding::latin1: return "latin1";
        case TextEncoding::cp1252: return "cp1252";
    }
    return "?";
}

Result<TextEncoding> parse_encoding(std::string_view name) {
    std::string n(name);
    for (char& c : n)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (n == "utf-8" || n == "utf8") return TextEncoding::utf8;
    if (n == "latin1" || n == "latin-1" || n == "iso-8859-1" || n == "iso8859-1") return TextEncoding::latin1;
    if (n == "cp1252" || n == "windows-1252") return TextEncoding::cp1252;
    return fail(ErrorCode::invalid_argument,
                "unknown encoding '" + std::string(name) + "' (utf-8, latin1 or cp1252)", "encoding");
}

// The line of `pos`, the byte within it and the offset, so an editor or `xxd` finds it.
Error byte_error(std::string_view text, std::size_t pos, std::string_view what) {
    std::size_t line = 1, line_start = 0;
    for (std::size_t i = 0; i < pos; ++i)
        if (text[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
    static const char* hex = "0123456789ABCDEF";
    const auto b = static_cast<unsigned char>(text[pos]);
    std::string msg = std::string(what) + " at byte " + std::to_string(pos - line_start + 1) +
                      " of the line (0x" + hex[b >> 4] + hex[b & 0xf] + ", file offset " +
                      std::to_string(pos) + ")";
    return make_error(ErrorCode::parse_error, std::move(msg), "", line);
}

namespace {

// Length of the well-formed UTF-8 sequence at text[i], 0 if there is none (RFC 3629 §4).
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 < 0x80) return 1;
    std::size_t n;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
    else if (b0 == 0xE0) n = 3, lo = 0xA0;                // no overlong forms
    else if (b0 == 0xED) n = 3, hi = 0x9F;                // no surrogates
    else if (b0 >= 0xE1 && b0 <= 0xEF) n = 3;
    else if (b0 == 0xF0) n = 4, lo = 0x90;
    else if (b0 == 0xF4) n = 4, hi = 0x8F;                // nothing above U+10FFFF
    else if (b0 >= 0xF1 && b0 <= 0xF3) n = 4;
    else return 0;
    if (i + n > text.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        const auto b = static_cast<unsigned char>(text[i + k]);
        if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
    }
    return n;
}

// cp1252 0x80-0x9F; 0 = undefined.
constexpr char16_t kCp1252[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {  // the BMP is enough for latin1 and cp1252
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

}  // namespace

std::size_t find_invalid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        // ASCII is the common case: no sequence decoding for it.
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        const std::size_t n = utf8_sequence(s, i);
        if (n == 0) return i;
        i += n;
    }
    return std::string_view::npos;
}

Result<void> check_utf8(std::string_view text) {
    if (const std::size_t bad = find_invalid_utf8(text); bad != std::string_view::npos)
        return fail(byte_error(text, bad, "invalid UTF-8"));
    return {};
}

Result<std::string> to_utf8(std::string_view text, TextEncoding from) {
    if (from == TextEncoding::utf8) {
        if (auto ok = check_utf8(text); !ok) return fail(ok.error());
        return std::string(text);
    }
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto b = static_cast<unsigned char>(text[i]);
        char32_t cp = b;
        if (from == TextEncoding::cp1252 && b >= 0x80 && b <= 0x9F) {
            cp = kCp1252[b - 0x80];
            if (cp == 0) return fail(byte_error(text, i, "byte undefined in cp1252"));
        }
        append_utf8(out, cp);
    }
    return out;
}

}  // namespace billing

#include "json_reader.hpp"

#include <algorithm>
#include <cstdint>

namespace sw {

namespace {

// A cursor over the body; every reader returns false with `error` set.
struct Reader {
    std::string_view s;
    std::size_t i = 0;
    std::string* error;

    bool fail(std::string_view what) {
        *error = std::string(what) + " at byte " + std::to_string(i);
        return false;
    }
    void skip_ws() {  // RFC 8259 §2: space, tab, LF, CR
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    }
    bool eat(char c) {
        skip_ws();
        if (i < s.size() && s[i] == c) {
            ++i;
            return true;
        }
        return false;
    }
    bool hex4(std::uint32_t& v) {
        if (s.size() - i < 4) return fail("short \\u escape");
        v = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s[i++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
            else return fail("bad \\u escape");
        }
        return true;
    }
    static void utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }
    // §7: \uXXXX, with a surrogate pair for code points above U+FFFF
    bool unicode(std::string& out) {
        std::uint32_t cp = 0;
        if (!hex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("lone low surrogate");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t lo = 0;
            if (s.substr(i, 2) != "\\u") return fail("lone high surrogate");
            i += 2;
            if (!hex4(lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        utf8(out, cp);
        return true;
    }
    bool string(std::string& out) {
        if (!eat('"')) return fail("expected a string");
        while (i < s.size()) {
            const char c = s[i++];
            if (c == '"') return true;
            if (static_cast<unsigned char>(c) < 0x20) return fail("control character in a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i >= s.size()) break;
            const char e = s[i++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u':
                    if (!unicode(out)) return false;
                    break;
                default: return fail("bad escape");
            }
        }
        return fail("unterminated string");
    }
    // §6: -? int frac? exp?, kept as text
    bool number(std::string& out) {
        const std::size_t start = i;
        if (i < s.size() && s[i] == '-') ++i;
        auto digits = [&] {
            const std::size_t d = i;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
            return i > d;
        };
        if (i < s.size() && s[i] == '0') ++i;
        else if (!digits()) return fail("bad number");
        if (i < s.size() && s[i] == '.' && (++i, !digits())) return fail("bad number");
        if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
            ++i;
            if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
            if (!digits()) return fail("bad number");
        }
        out.assign(s.substr(start, i - start));
        return true;
    }
    bool literal(std::string_view word) {
        if (s.substr(i, word.size()) != word) return fail("unexpected token");
        i += word.size();
        return true;
    }
    bool value(JsonValue& v) {
        skip_ws();
        if (i >= s.size()) return fail("expected a value");
        const char c = s[i];
        if (c == '"') return v.kind = JsonValue::Kind::string, string(v.text);
        if (c == '{') return fail("nested objects are not accepted");
        if (c == '[') return v.kind = JsonValue::Kind::array, strings(v.items);
        if (c == 't' || c == 'f') {
            v.kind = JsonValue::Kind::boolean;
            v.text = c == 't' ? "true" : "false";
            return literal(v.text);
        }
        if (c == 'n') return v.kind = JsonValue::Kind::null, literal("null");
        v.kind = JsonValue::Kind::number;
        return number(v.text);
    }
    // An array of strings only: one level, as flat as the object around it.
    bool strings(std::vector<std::string>& out) {
        ++i;  // '['
        if (eat(']')) return true;
        do {
            skip_ws();
            if (i < s.size() && s[i] != '"') return fail("an array may hold only strings");
            std::string item;
            if (!string(item)) return false;
            out.push_back(std::move(item));
        } while (eat(','));
        if (!eat(']')) return fail("expected ',' or ']'");
        return true;
    }
    bool members(JsonMembers& out) {
        if (!eat('{')) return fail("expected a JSON object");
        if (eat('}')) return end();
        do {
            skip_ws();
            std::string name;
            JsonValue v;
            if (!string(name)) return false;
            if (!eat(':')) return fail("expected ':'");
            if (!value(v)) return false;
            if (find_member(out, name)) return fail("member '" + name + "' repeated");
            out.emplace_back(std::move(name), std::move(v));
        } while (eat(','));
        if (!eat('}')) return fail("expected ',' or '}'");
        return end();
    }
    bool end() {
        skip_ws();
        if (i != s.size()) return fail("trailing bytes after the object");
        return true;
    }
};

}  // namespace

std::optional<JsonMembers> read_flat_object(std::string_view body, std::string* error) {
    std::string ignored;
    Reader r{body, 0, error ? error : &ignored};
    JsonMembers out;
    if (!r.members(out)) return std::nullopt;
    return out;
}

const JsonValue* find_member(const JsonMembers& m, std::string_view name) {
    auto it = std::find_if(m.begin(), m.end(), [&](const auto& p) { return p.first == name; });
    return it == m.end() ? nullptr : &it->second;
}

std::string_view to_string(JsonValue::Kind k) noexcept {
    switch (k) {
        case JsonValue::Kind::string: return "string";
        case JsonValue::Kind::number: return "number";
        case JsonValue::Kind::boolean: return "boolean";
        case JsonValue::Kind::null: return "null";
        case JsonValue::Kind::array: return "array";
    }
    return "null";
}

}  // namespace sw

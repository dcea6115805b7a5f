// sw::JsonWriter — the small JSON writer the management API renders with (private to
// switch_core): objects, arrays, strings escaped per RFC 8259 §7, integers, booleans, null.
//
//   sw::JsonWriter w;
//   w.begin_object().key("calls").begin_array();
//   w.begin_object().key("id").value(std::uint64_t{7}).key("state").value("connected").end_object();
//   w.end_array().end_object();
//   std::string body = w.take();   // {"calls":[{"id":7,"state":"connected"}]}
//
// The caller keeps the nesting balanced; a key is followed by exactly one value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw {

class JsonWriter {
  public:
    JsonWriter& begin_object() { return open('{'); }
    JsonWriter& end_object() { return close('}'); }
    JsonWriter& begin_array() { return open('['); }
    JsonWriter& end_array() { return close(']'); }
    JsonWriter& key(std::string_view k) {
        separate();
        quoted(k);
        out_ += ':';
        after_key_ = true;
        return *this;
    }
    JsonWriter& value(std::string_view v) {
        separate();
        quoted(v);
        return *this;
    }
    JsonWriter& value(const char* v) { return value(std::string_view(v)); }
    JsonWriter& value(const std::string& v) { return value(std::string_view(v)); }
    JsonWriter& value(bool v) { return raw(v ? "true" : "false"); }
    JsonWriter& value(std::uint64_t v) { return raw(std::to_string(v)); }
    JsonWriter& value(std::int64_t v) { return raw(std::to_string(v)); }
    JsonWriter& value(std::uint32_t v) { return value(static_cast<std::uint64_t>(v)); }
    JsonWriter& value(std::int32_t v) { return value(static_cast<std::int64_t>(v)); }
    JsonWriter& null() { return raw("null"); }
    template <class T>
    JsonWriter& value(const std::optional<T>& v) {
        return v ? value(*v) : null();
    }
    JsonWriter& strings(const std::vector<std::string>& v) {
        begin_array();
        for (const std::string& s : v)
            value(s);
        return end_array();
    }
    // `key: value` in one call.
    template <class T>
    JsonWriter& field(std::string_view k, const T& v) {
        key(k);
        return value(v);
    }
    std::string take() { return std::move(out_); }

  private:
    JsonWriter& open(char c) {
        separate();
        out_ += c;
        first_.push_back(true);
        return *this;
    }
    JsonWriter& close(char c) {
        out_ += c;
        if (!first_.empty()) first_.pop_back();
        return *this;
    }
    JsonWriter& raw(std::string_view v) {
        separate();
        out_ += v;
        return *this;
    }
    // a comma before every element but the first of its container; none right after a key
    void separate() {
        if (after_key_) {
            after_key_ = false;
            return;
        }
        if (first_.empty()) return;
        if (!first_.back()) out_ += ',';
        first_.back() = false;
    }
    void quoted(std::string_view s) {
        static constexpr char kHex[] = "0123456789abcdef";
        out_ += '"';
        for (char ch : s) {
            const auto c = static_cast<unsigned char>(ch);
            if (c == '"' || c == '\\') {
                out_ += '\\';
                out_ += ch;
            } else if (c < 0x20) {
                out_ += "\\u00";
                out_ += kHex[c >> 4];
                out_ += kHex[c & 0xf];
            } else {
                out_ += ch;  // UTF-8 passes as is; names come from the operator's database
            }
        }
        out_ += '"';
    }

    std::string out_;
    std::vector<bool> first_;
    bool after_key_ = false;
};

}  // namespace sw

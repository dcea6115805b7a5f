// sw::read_flat_object — the request bodies of the management API: one JSON object (RFC 8259)
// whose members are strings, numbers, true, false, null or an array of strings (a gateway's
// prefixes, addresses); nothing deeper (no endpoint takes nested input, and refusing it keeps
// this reader small). Private to switch_core.
//
//   std::string err;
//   auto members = sw::read_flat_object(R"({"id":"1001","balance":"50"})", &err);
//   if (!members) return error(400, err);          // not JSON, or not a flat object
//   const sw::JsonValue* id = sw::find_member(*members, "id");
//   if (id && id->kind == sw::JsonValue::Kind::string) use(id->text);
//
// Strings are unescaped (\uXXXX and surrogate pairs to UTF-8); numbers are kept as their
// text, so a caller never sees a float (amounts are decimal strings anyway). A repeated
// member name is an error (RFC 8259 §4 leaves it undefined; an operator's typo must show).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sw {

struct JsonValue {
    enum class Kind { string, number, boolean, null, array };
    Kind kind = Kind::null;
    std::string text;  // string: unescaped; number: as written; boolean: "true"/"false"
    std::vector<std::string> items;  // array: its strings, unescaped, in order
};

using JsonMembers = std::vector<std::pair<std::string, JsonValue>>;

std::optional<JsonMembers> read_flat_object(std::string_view body, std::string* error);
const JsonValue* find_member(const JsonMembers& m, std::string_view name);
std::string_view to_string(JsonValue::Kind k) noexcept;

}  // namespace sw

// What the management API's handlers share (private to switch_core): the request context
// and the JSON answer helpers. The handlers live in api.cpp and one file per resource
// (api_accounts.cpp, ...).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "json_reader.hpp"
#include "json_writer.hpp"
#include "sw/api.hpp"

namespace sw::api {

// What one request carries through the handlers.
struct Api::Ctx {
    const Request& rq;
    sip::Instant now;
    std::int64_t wall_ms;
    const Token* who = nullptr;  // nullptr: /metrics from loopback, no token asked

    std::int64_t wall(sip::Instant t) const {
        return wall_ms + std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count();
    }
    std::string who_name() const { return who ? "token '" + who->name + "'" : "loopback"; }
};

namespace detail {

inline Response json(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    r.body += '\n';
    return r;
}

inline Response error(int status, std::string_view message, std::string_view field = {}) {
    JsonWriter w;
    w.begin_object().field("error", message);
    if (!field.empty()) w.field("field", field);
    w.end_object();
    return json(status, w.take());
}

inline bool reads(std::string_view method) {
    return method == "GET" || method == "HEAD";
}

inline Response not_allowed(std::string_view allow) {
    Response r = error(405, "method not allowed here");
    r.headers.emplace_back("Allow", std::string(allow));
    return r;
}

// Every query parameter must be one the endpoint knows (a typo must not be ignored).
inline std::optional<Response> unknown_param(const Request& rq, std::initializer_list<std::string_view> known) {
    for (const auto& [name, value] : rq.query)
        if (std::find(known.begin(), known.end(), name) == known.end())
            return error(400, "unknown query parameter", name);
    return std::nullopt;
}

// The request body as one flat JSON object; the 400 answer (with the parser's reason) when
// it is not, so every endpoint words that failure alike.
inline std::optional<Response> read_object(const Request& rq, JsonMembers& out) {
    std::string err;
    auto m = read_flat_object(rq.body, &err);
    if (!m) return error(400, "the body must be one JSON object: " + err);
    out = std::move(*m);
    return std::nullopt;
}

// A POST's required string member "name" (422 when missing or not a string).
inline std::optional<Response> required_name(const JsonMembers& m, const JsonValue*& out) {
    out = find_member(m, "name");
    if (!out) return error(422, "name is required", "name");
    if (out->kind != JsonValue::Kind::string) return error(422, "name must be a string", "name");
    return std::nullopt;
}

}  // namespace detail

}  // namespace sw::api

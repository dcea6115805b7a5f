// What the management API's handlers share (private to switch_core): the request context
// and the JSON answer helpers. The handlers live in api.cpp and one file per resource
// (api_accounts.cpp, ...).
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_reader.hpp"
#include "json_writer.hpp"
#include "sw/api.hpp"
#include "sw/api_data.hpp"

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

// The entity tag of a row's version (accounts, gateways, groups, domain entries, carriers,
// SIP users): strong, so If-Match compares it exactly.
// The per-line errors of a rejected file (a rate deck, a vendor CDR file) as "errors":
// line and column are null when an error is about the whole file; with_text adds
// trunkctl's one-line wording of each.
inline void write_line_errors(JsonWriter& w, const std::vector<billing::Error>& errors,
                              bool with_text) {
    w.key("errors").begin_array();
    for (const billing::Error& e : errors) {
        w.begin_object();
        w.key("line");
        if (e.line) w.value(static_cast<std::uint64_t>(e.line)); else w.null();
        w.key("column");
        if (!e.field.empty()) w.value(e.field); else w.null();
        w.field("message", e.message);
        if (with_text) w.field("text", e.describe());
        w.end_object();
    }
    w.end_array();
}

inline std::string etag(std::int64_t version) {
    return "\"v" + std::to_string(version) + "\"";
}

// RFC 9110 §13.1.1 If-Match: "*" (any current row) or entity tags "v<version>"; a tag of
// another form matches nothing (version -1 is never stored). Without the header: `row` and
// no versions (the write is not conditional on a version).
inline Precondition if_match(std::string_view header, Precondition::Row row) {
    Precondition p{row, {}};
    while (!header.empty()) {
        const std::size_t comma = header.find(',');
        std::string_view tag = header.substr(0, comma);
        while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t'))
            tag.remove_prefix(1);
        while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t'))
            tag.remove_suffix(1);
        if (tag == "*") return Precondition{Precondition::Row::present, {}};
        std::int64_t v = -1;
        if (tag.size() > 3 && tag.starts_with("\"v") && tag.ends_with('"')) {
            const auto [end, ec] = std::from_chars(tag.data() + 2, tag.data() + tag.size() - 1, v);
            if (ec != std::errc{} || end != tag.data() + tag.size() - 1) v = -1;
        }
        p.versions.push_back(v);
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    if (!p.versions.empty() && p.row == Precondition::Row::any) p.row = Precondition::Row::present;
    return p;
}

// An If-Match that names versions none of which is `current`: the 409 a conditional write
// answers before it writes (`what`: "domain entry", ...).
inline std::optional<Response> stale(const Precondition& asked, std::int64_t current,
                                     std::string_view what) {
    if (asked.versions.empty() ||
        std::find(asked.versions.begin(), asked.versions.end(), current) != asked.versions.end())
        return std::nullopt;
    return error(409, "the " + std::string(what) + " changed: its ETag is now " + etag(current),
                 "If-Match");
}

// What a conditional write found when it did not write, as the answer: exists 409 naming
// "name", missing 404, stale 409 naming "If-Match" (the wording of the gateways').
inline Response not_written(Written w, std::string_view what, std::string_view name) {
    switch (w) {
        case Written::exists:
            return error(409, std::string(what) + " " + std::string(name) + " already exists",
                         "name");
        case Written::stale:
            return error(409, "the " + std::string(what) + " changed: GET it for its ETag",
                         "If-Match");
        case Written::missing:
        case Written::done:
            break;
    }
    return error(404, "no " + std::string(what) + " " + std::string(name), "name");
}

}  // namespace detail

}  // namespace sw::api

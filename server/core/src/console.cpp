#include "sw/console.hpp"

#include <algorithm>

namespace sw::console {

namespace {

// 'self' only: the pages are ES modules and one stylesheet from this server, they talk to
// /api on the same origin, and nothing may frame them (clickjacking a hang-up button).
constexpr std::string_view kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

api::Response with_headers(api::Response r) {
    r.headers.emplace_back("Content-Security-Policy", std::string(kPolicy));
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("X-Frame-Options", "DENY");  // for browsers without frame-ancestors
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    return r;
}

api::Response plain(int status, std::string_view text) {
    api::Response r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::string(text) + "\n";
    return with_headers(std::move(r));
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// RFC 9110 §13.1.2: If-None-Match is "*" or a list of entity tags compared weakly (a "W/"
// prefix is ignored), so a tag a proxy weakened still matches.
bool none_match(std::string_view header, std::string_view etag) {
    while (!header.empty()) {
        const std::size_t comma = header.find(',');
        std::string_view tag = trim(header.substr(0, comma));
        if (tag.starts_with("W/")) tag.remove_prefix(2);
        if (tag == "*" || tag == etag) return true;
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
    return false;
}

const File* find(std::string_view name) {
    const auto f = std::find_if(kFiles.begin(), kFiles.end(), [&](const File& x) { return x.name == name; });
    return f == kFiles.end() ? nullptr : &*f;
}

}  // namespace

std::string_view content_type(std::string_view name) noexcept {
    const std::size_t dot = name.rfind('.');
    const std::string_view ext = dot == std::string_view::npos ? std::string_view() : name.substr(dot);
    if (ext == ".html") return "text/html; charset=utf-8";
    if (ext == ".js") return "text/javascript; charset=utf-8";  // RFC 9239
    if (ext == ".css") return "text/css; charset=utf-8";
    if (ext == ".svg") return "image/svg+xml";
    if (ext == ".png") return "image/png";
    return {};
}

std::optional<api::Response> serve(const api::Request& rq) {
    std::string_view name;
    if (rq.path == "/")
        name = "index.html";
    else if (rq.path.starts_with("/console/"))
        name = rq.path.substr(9);
    else if (rq.path != "/console")
        return std::nullopt;
    if (rq.method != "GET" && rq.method != "HEAD") {
        api::Response r = plain(405, "method not allowed here");
        r.headers.emplace_back("Allow", "GET, HEAD");
        return r;
    }
    // Only the embedded names exist: no file system is read, so no path can escape.
    const File* f = name.empty() ? nullptr : find(name);
    if (!f) return plain(404, "no such console file");
    api::Response r;
    r.content_type = std::string(content_type(f->name));
    r.headers.emplace_back("ETag", std::string(f->etag));
    // no-cache: the browser keeps the file but asks each time (a 304 costs a few bytes), so
    // an upgraded trunkline's console is never mixed with the previous one's modules
    r.headers.emplace_back("Cache-Control", "no-cache");
    if (!rq.if_none_match.empty() && none_match(rq.if_none_match, f->etag))
        r.status = 304;
    else
        r.body = std::string(f->body);
    return with_headers(std::move(r));
}

}  // namespace sw::console

// sw::console — the operator web console's static files (DESIGN.md §8 "Web console"): plain
// ES modules, CSS and one HTML page from console/ at the repository root, embedded at build
// time (server/core/api/embed_files.py) and answered by the management API's own server.
// The files need no token: they hold no data; the pages fetch everything from /api with the
// operator's token, so the console can do nothing a script with that token could not.
//
//   if (auto r = sw::console::serve(rq)) return *r;   // "/" or "/console/..."; else nullopt
//   // GET /                    -> 200 index.html, text/html, ETag, Cache-Control: no-cache
//   // GET /console/app.js      -> 200 text/javascript (If-None-Match: its ETag -> 304)
//   // GET /console/nothing.js  -> 404; POST / -> 405 (Allow: GET, HEAD)
//
// Every answer (404 and 405 too) carries the security headers: a Content-Security-Policy
// allowing only 'self' (no inline script or style, no other origin, no framing),
// X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer. The ETag is a hash of the
// file, so a browser revalidates (no-cache) and gets 304 until trunkline is upgraded.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "sw/api.hpp"

namespace sw::console {

struct File {
    std::string_view name;  // "app.js": the base name, served at /console/<name>
    std::string_view body;
    std::string_view etag;  // "\"<hex>\"": strong, from the bytes
};

// Every embedded file (generated from console/ at build time).
extern const std::span<const File> kFiles;

// The Content-Type of a console file by its extension; "" for one the console does not use
// (the unit test checks that every embedded file has one).
std::string_view content_type(std::string_view name) noexcept;

// The answer for a console path ("/", "/console", "/console/..."); nullopt for any other
// path (the API's 404). Only the method, the path and If-None-Match are read.
std::optional<api::Response> serve(const api::Request& rq);

}  // namespace sw::console

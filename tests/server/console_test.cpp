// sw::console, the web console's embedded files (console/ at the repository root): served
// at / and /console/<name> without a token, their Content-Type, ETag and If-None-Match,
// the security headers on every answer, 404 and 405, and the route through sw::api::Api.
#include <catch2/catch.hpp>

#include <string>

#include "api_fixture.hpp"
#include "sw/console.hpp"

using namespace test;

namespace {

sw::api::Response serve(std::string_view method, std::string_view path,
                        std::string_view if_none_match = {}) {
    sw::api::Request rq;
    rq.method = method;
    rq.path = path;
    rq.if_none_match = if_none_match;
    auto r = sw::console::serve(rq);
    REQUIRE(r);
    return *r;
}

void secured(const sw::api::Response& r) {
    const std::string csp = header(r, "Content-Security-Policy");
    CHECK(has(csp, "default-src 'none'"));
    CHECK(has(csp, "script-src 'self'"));
    CHECK(has(csp, "frame-ancestors 'none'"));
    CHECK_FALSE(has(csp, "unsafe"));
    CHECK(header(r, "X-Content-Type-Options") == "nosniff");
}

}  // namespace

TEST_CASE("console: every embedded file has a content type; the page loads the app module",
          "[server][console]") {
    REQUIRE(sw::console::kFiles.size() >= 3);
    for (const sw::console::File& f : sw::console::kFiles) {
        INFO(f.name);
        CHECK_FALSE(sw::console::content_type(f.name).empty());
        CHECK_FALSE(f.body.empty());
        CHECK(f.etag.size() == 22);
    }
    auto r = serve("GET", "/");
    CHECK(r.status == 200);
    CHECK(r.content_type == "text/html; charset=utf-8");
    CHECK(has(r.body, "<script type=\"module\" src=\"/console/app.js\"></script>"));
    CHECK(header(r, "Cache-Control") == "no-cache");
    secured(r);
    // the page's own scripts and styles come from files: nothing inline for the policy to refuse
    CHECK_FALSE(has(r.body, "<script>"));
    CHECK_FALSE(has(r.body, "style="));
}

TEST_CASE("console: content types, ETag and If-None-Match", "[server][console]") {
    auto js = serve("GET", "/console/app.js");
    CHECK(js.status == 200);
    CHECK(js.content_type == "text/javascript; charset=utf-8");
    CHECK(serve("GET", "/console/console.css").content_type == "text/css; charset=utf-8");
    const std::string tag = header(js, "ETag");
    CHECK(tag != header(serve("GET", "/"), "ETag"));

    auto r = serve("GET", "/console/app.js", tag);
    CHECK(r.status == 304);
    CHECK(r.body.empty());
    CHECK(header(r, "ETag") == tag);
    secured(r);
    CHECK(serve("GET", "/console/app.js", "\"other\", W/" + tag).status == 304);  // weak compare
    CHECK(serve("GET", "/console/app.js", "*").status == 304);
    CHECK(serve("GET", "/console/app.js", "\"other\"").status == 200);
    CHECK(serve("HEAD", "/console/app.js").status == 200);
}

TEST_CASE("console: unknown files 404, other methods 405, other paths are not the console's",
          "[server][console]") {
    for (const char* path : {"/console/nothing.js", "/console/", "/console", "/console/../api/calls",
                             "/console/sub/app.js"}) {
        INFO(path);
        auto r = serve("GET", path);
        CHECK(r.status == 404);
        secured(r);
    }
    auto r = serve("POST", "/");
    CHECK(r.status == 405);
    CHECK(header(r, "Allow") == "GET, HEAD");
    sw::api::Request rq;
    rq.method = "GET";
    for (const char* path : {"/api/calls", "/metrics", "/index.html", "/consoles/app.js"}) {
        rq.path = path;
        CHECK_FALSE(sw::console::serve(rq));
    }
}

TEST_CASE("console: the API serves it without a token and still guards /api", "[server][console]") {
    ApiFixture f(acme_config());
    auto r = f.handle({.path = "/", .token = ""});
    CHECK(r.status == 200);
    CHECK(r.content_type == "text/html; charset=utf-8");
    CHECK(f.handle({.path = "/console/live.js", .token = "tl_wrong"}).status == 200);
    CHECK(f.handle({.path = "/nothing", .token = ""}).status == 404);
    CHECK(f.handle({.path = "/api/calls", .token = ""}).status == 401);
}

// trunkctl's client of the running trunkline's management API (libcurl): which control path a
// command takes (the API or the database), the HTTP request, a small reader for the JSON
// answers and the API's error answers as one clear line.
//
//   api::Remote remote;                        // from --api/--token/--cacert/--offline + env
//   std::vector<char*> rest;
//   if (int rc = api::take_options(argc, argv, remote, rest); rc >= 0) return rc;
//   if (remote.live()) {                       // --api or TRUNKLINE_API given, not --offline
//       int rc = 0;
//       auto j = api::Client(*remote.endpoint).get(kCall, "/api/calls", rc);  // prints errors
//       if (!j) return rc;
//       for (const api::Json& c : j->list("calls")) std::cout << c.str("caller") << "\n";
//   }
//
// The rule: with an API endpoint given (--api ADDR:PORT|URL, or TRUNKLINE_API) the live
// commands go through the API, and a connection failure is an error naming the endpoint,
// never a silent fall back to the database; without one (or with --offline) they read and
// write the database, as a stopped server needs.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli_util.hpp"

namespace trunkctl::api {

// ---- JSON ---------------------------------------------------------------------------------
// A parsed JSON value: strings unescaped, numbers and booleans kept as written.
struct Json {
    enum class Kind { null, boolean, number, string, array, object } kind = Kind::null;
    std::string text;  // string (unescaped), number (as written), boolean ("true"/"false")
    std::vector<Json> items;
    std::vector<std::pair<std::string, Json>> members;

    const Json* get(std::string_view k) const {
        for (const auto& [name, v] : members)
            if (name == k) return &v;
        return nullptr;
    }
    // The member's text ("" when missing or null).
    std::string str(std::string_view k) const {
        const Json* v = get(k);
        return v ? v->text : std::string();
    }
    bool is_null(std::string_view k) const {
        const Json* v = get(k);
        return !v || v->kind == Kind::null;
    }
    bool flag(std::string_view k) const { return str(k) == "true"; }
    long long num(std::string_view k, long long dflt = 0) const;
    std::optional<long long> opt_num(std::string_view k) const;
    // The items of an array member (none when missing).
    const std::vector<Json>& list(std::string_view k) const;
};

std::optional<Json> parse_json(std::string_view text);

// ---- where the API is ---------------------------------------------------------------------
struct Endpoint {
    std::string base;    // "http://127.0.0.1:8080" (no trailing slash)
    std::string token;   // bearer token
    std::string cacert;  // https: a CA file to trust (else the system's)
};

// The control path options of one invocation.
struct Remote {
    std::optional<Endpoint> endpoint;  // an API was given (and --offline was not)
    bool offline = false;              // --offline: the database even with TRUNKLINE_API set
    std::string token;                 // --token / TRUNKLINE_TOKEN (also without an endpoint)
    std::string cacert;
    bool live() const { return endpoint.has_value(); }
};

// "ADDR:PORT" -> "http://ADDR:PORT"; "http://..." and "https://..." as given (no trailing
// '/'). nullopt: neither.
std::optional<std::string> base_url(const std::string& text);

// Removes --api, --token, --cacert (with their values) and --offline from argv[1..argc)
// wherever they stand (before or after the command; not after "--"), fills `out` from them
// and the environment (TRUNKLINE_API, TRUNKLINE_TOKEN, TRUNKLINE_CACERT) and leaves the
// other arguments, argv[0] first, in `rest`. Returns -1 to go on, else an exit code after
// printing the usage error.
int take_options(int argc, char** argv, Remote& out, std::vector<char*>& rest);

// The help text's paragraph on the rule, a literal so that the commands' help texts can end
// with it at compile time; kPathHelp is the same text.
#define TRUNKCTL_PATH_HELP                                                                          \
    "control path: with --api ADDR:PORT|http(s)://HOST:PORT (or $TRUNKLINE_API) this asks the\n"  \
    "  running trunkline through its management API (--token TOKEN or $TRUNKLINE_TOKEN; https:\n"  \
    "  --cacert FILE or $TRUNKLINE_CACERT); an API that cannot be reached is an error (exit 1),\n" \
    "  never a silent fall back. Without an API, or with --offline, it works on the database.\n"
extern const char* const kPathHelp;

// ---- requests -----------------------------------------------------------------------------
struct Reply {
    long status = 0;
    std::string body;
};

class Client {
  public:
    explicit Client(Endpoint e) : e_(std::move(e)) {}
    const Endpoint& endpoint() const { return e_; }

    // One request; nullopt with *err set when the API cannot be reached.
    std::optional<Reply> request(const std::string& method, const std::string& path,
                                 const std::string& body, std::string* err) const;

    // A request expecting a JSON answer with status `want` (or any 2xx when want == 0). On
    // any failure prints one line ("trunkctl CMD: ...") and sets rc (1); else rc = 0. `raw`,
    // when given, receives the body as it came (for --json).
    std::optional<Json> call(const cli::Cmd& c, const std::string& method, const std::string& path,
                             int& rc, long want = 0, std::string* raw = nullptr,
                             const std::string& body = {}) const;
    std::optional<Json> get(const cli::Cmd& c, const std::string& path, int& rc,
                            std::string* raw = nullptr) const {
        return call(c, "GET", path, rc, 200, raw);
    }

    // "API http://...: no such call (HTTP 404)" for an error answer.
    std::string error_text(const Reply& r) const;

  private:
    Endpoint e_;
};

// RFC 3986 percent-encoding of a path segment or query value.
std::string escape(std::string_view s);

// Milliseconds since the epoch (the wall clock the API's *_ms fields use).
long long now_ms();

}  // namespace trunkctl::api

// sw::api::Api — the management API's decisions, pure (DESIGN.md §8 "Management API"): it
// takes one HTTP request (method, path, query, Authorization, source, body) with the current
// time and returns the status, headers and body. Routing, bearer-token checks, scopes, the
// failed-login limit, JSON rendering and the Prometheus text of /metrics live here; the
// wiring (wiring::HttpServer on libmicrohttpd) only moves bytes, on the switch's own loop.
//
//   sw::api::Api api(sw, hasher, {.max_failures = 10});
//   api.set_tokens({{.name = "ops", .sha256_hex = sha256_hex(secret), .scope = Scope::admin}});
//   sw::api::Request rq{.method = "DELETE", .path = "/api/calls/7",
//                       .authorization = "Bearer " + secret, .source = "127.0.0.1",
//                       .loopback = true};
//   sw::api::Response r = api.handle(rq, loop.now(), wiring::wall_ms());
//   if (r.switch_changed) driver.flush();          // the hang-up's BYEs and CDR go out
//   while (auto l = api.poll_log()) log(*l);       // audit lines, failed-login episodes
//
// Access (RFC 6750 bearer tokens): every /api request needs `Authorization: Bearer TOKEN`; a
// token is known by the SHA-256 of its secret (the secret is never stored). Missing → 401,
// unknown → 401 (error="invalid_token"), a read token on anything but GET/HEAD → 403 (but
// POST /api/reconcile, which computes an answer from its body and changes nothing).
// /metrics needs no token from a loopback source unless metrics_token_on_loopback. From one
// source (an IPv4 address or an IPv6 /64: Request::source_key), max_failures wrong tokens
// within failure_window get it 429 (Retry-After)
// for `block`, whatever it sends; one log line per episode. Errors are JSON
// {"error": "...", "field": "..."} (field: the bad parameter, when there is one); unknown
// paths and ids are 404, a known path with another method 405 (Allow).
//
// The web console's static files ("/" and "/console/...", sw/console.hpp) need no token.
//
// Endpoints (described in server/core/api/openapi.json, served at /api/openapi.json; HEAD
// is answered as GET):
//   GET /api/openapi.json      GET /api/calls[?limit=N]   GET|DELETE /api/calls/{id}
//   GET /api/gateways          GET /api/suspensions       DELETE /api/suspensions/{key}
//   GET|POST /api/gateways/customers    GET|PUT|PATCH|DELETE /api/gateways/customers/{name}
//   GET|POST /api/gateways/vendors      GET|PUT|PATCH|DELETE /api/gateways/vendors/{name}
//   GET|POST /api/groups                GET|PUT|PATCH|DELETE /api/groups/{name}
//   GET|POST /api/accounts[?limit=N&after=ID]   GET /api/accounts/{id}
//   POST /api/accounts/{id}/topup               GET|POST /api/users
//   DELETE /api/users/{name}   GET /api/bindings[?aor=AOR]
//   DELETE /api/bindings?aor=AOR[&contact=CONTACT] | ?user=USER
//   GET /api/cdrs[?from&until&customer&vendor&gateway&number&call_id&before&limit&format]
//   GET /api/alerts            DELETE /api/alerts/{id} (acknowledge)
//   GET /api/stats/history     (the last hour by minute: the Live page's charts)
//   GET /api/reports/{revenue|clearing|gateway|settlement|profit|asr|agent-income|packages}?from[&until&by&agent&format]
//   GET /api/reports/commitments?month=YYYY-MM[&format]
//   GET /api/routes/explain?number=N&customer=NAME[&caller=C]           GET /metrics
//   GET|POST /api/domains      GET|PATCH|DELETE /api/domains/{name}  POST .../{name}/resolve
//   GET|POST /api/carriers     GET|PATCH|DELETE /api/carriers/{name} POST .../{name}/register
//   GET|POST /api/traces       GET|DELETE /api/traces/{id}     GET /api/traces/{id}/pcap
//   GET|PATCH /api/billing/settings
//   GET /api/rate-groups       GET /api/rates?group=G[&prefix&limit&after]
//   POST /api/rate-groups/{group}/deck[?template&map&delimiter&...&replace&dry_run]
//   POST /api/rate-groups/{group}/autocreate {"from", "margin"|"markup", ...}
//   POST /api/reconcile?vendor=ID&from[&until&map&delimiter&no_header&decimal_comma&tolerance&...]
//
// Accounts (api_accounts.cpp): amounts are decimal strings in JSON ("12.50"), parsed exactly
// by billing::Money (never a float: a JSON number is refused, 422). GET of one account
// carries ETag "v<version>" (api_data.hpp: moves with every top-up); a top-up with If-Match
// that is not the current ETag is 409 and changes nothing. A body that is not one flat JSON
// object is 400; a member that is missing, unknown, of the wrong type or refused is 422
// naming it in "field"; an existing id is 409. A write sets Response::tables_changed. GET of
// one account also lists its packages with the seconds used and left ("packages") and its
// volume tiers ("tiers", billing/tiers.hpp), one entry per tier prefix: the current local month
// of the store's calendar.timezone ("month", billing::volume_month), the billed seconds counted
// to the prefix in it as committed ("used_s", Store::volume_used), the tier in force now
// ("current": the one the next call starts in; null below the first threshold, where the rate's
// own price applies), the next threshold ("next", null past the last) and every tier
// ({from_minutes, price, bonus_minutes}, price with 4 decimals at least).
//
// Gateways and groups (api_gateways.cpp): the stored configuration of customer and vendor
// gateways and gateway groups (GET /api/gateways stays the running switch's live view: calls,
// down and why, and "last_failure" {at_ms, reason}, kept after the gateway came back up). The
// fields are trunkctl's options in JSON (--line-limit: "line_limit"; lists as arrays of
// strings, yes/no as true/false, numbers as numbers, money as decimal strings or null), and
// every value is checked by the code trunkctl uses (sw/gateway_form.hpp): a refusal is 422
// with trunkctl's message, the option replaced by the field, and "field" naming it; an
// unknown account, SIP user or group is 422 naming the field. Creating is POST to the
// collection with "name" (an existing name is 409), as for accounts; PUT replaces a whole
// existing one (a field left out takes its default; unknown name 404), PATCH changes the
// given fields, DELETE removes (a group named by a vendor gateway: 409). GET of one carries
// ETag "v<version>", the row's version (api_data.hpp); If-Match on PUT/PATCH/DELETE that is
// not current is 409 and nothing changes, checked inside the write's transaction (a PATCH
// without If-Match is still written only over the version it read). A write sets
// Response::tables_changed: the wiring polls the reloader, which reloads the routing now.
//
// CDRs (api_cdrs.cpp): latest end time first, `limit` (1..10000, default 100) per page;
// `next` in the answer (CSV: the X-Next-Before header) is sent back as `before`.
// from/until bound the end time ("YYYY-MM-DD[THH:MM[:SS]]" UTC, until excluded; without
// `from` the 24 hours before `until` or now); customer, vendor, gateway (customer's or
// vendor's), number (a prefix of the caller or either callee) and call_id (either leg)
// narrow it. format=csv answers the CSV of `trunkctl cdr export`; JSON carries the same
// names, amounts as exact strings at the currency precision.
//
// Reports (api_reports.cpp): `trunkctl report KIND` over [from, until) (from required; until
// default now; by: clearing by gateway, profit by area (default) or customer; agent:
// agent-income of one agent), JSON or CSV as trunkctl prints them. A report that reads every
// CDR of its period (profit by area, rate_deviation=true) covers at most 7 days here (400
// naming "from"): it runs on the switch's loop; the others read the hourly rollup. packages
// (the minutes left per package valid in the period) takes from and until optionally.
// commitments (`trunkctl report commitments`, billing/commitments.hpp) is one local month of
// the store's calendar.timezone: month=YYYY-MM, required, instead of from and until (400
// naming month when missing or malformed, naming from/until when given).
//
// Billing settings (api_billing.cpp): `trunkctl billing show|set` in JSON (docs/billing.md
// "Billing settings": currency precision and rounding, hold-time precision, free time, the
// work calendar with its IANA time zone, working days, hours and holidays). GET lists every
// key with the value in force and its VOS3000 name; PATCH {"key": "value", ...} (a number may
// be a JSON number) checks every value with trunkctl's code, then stores them all in one
// transaction or none (422 naming the bad key, with trunkctl's message), answers the new
// list and sets Response::tables_changed: the switch reloads and rates the next call with them.
//
// SIP users (api_users.cpp): POST {"name", "password", "realm"?} stores HA1 for MD5, SHA-256
// and SHA-512/256 (as `trunkctl user add`); the password is never stored, returned or logged.
// DELETE removes the user and its bindings, in the file and in the running registrar. GET of
// one user carries ETag "v<version>" (sip_user's change counter when the row was last
// written); DELETE with an If-Match that is not current is 409 and nothing changes, checked
// inside the store's transaction. GET /api/bindings is the registrar's live location store; DELETE removes bindings from it
// (trunkctl binding remove), which the write-behind then takes out of the file.
//
// Traces (api_traces.cpp; sw/trace.hpp, VOS3000's debug trace): POST {"caller"?, "callee"?,
// "gateway"?, "duration_s"?, "max_messages"?, "max_bytes"?} (at least one of the first three;
// numbers are prefixes; gateway a customer or vendor gateway's name) → 201 with the trace;
// 409 when every trace slot holds an active one. GET one: its messages as a JSON summary
// (time, direction, addresses, first line, Call-ID: a ladder); /pcap: the libpcap file
// (application/vnd.tcpdump.pcap). DELETE stops and removes it.
//
// Domain entries (api_domains.cpp): `trunkctl domain`'s entries in JSON ({"name", "ttl",
// "port", "transport"}; null: from DNS / any), each with "live": the running domain cache's
// status of its key through Live (state fresh, stale, failing, resolving or unresolved;
// addresses in use, ttl_left_s, since_ms, last_error), null without a Live or when the cache
// does not hold it. POST creates (an existing name 409), PATCH changes the given members,
// DELETE removes; the running cache follows at once (Live::domain_put / domain_removed). GET
// of a name that is no entry but a key the running cache holds (a carrier's
// "carrier.test:5080") shows it with "entry": false. POST .../resolve re-queries now: 202 with
// the state as it is (the answer follows within the resolver's timeout). An entry carries
// ETag "v<version>" and If-Match works as for gateways (409 on a stale tag, nothing changes;
// checked inside the store's write transaction, so a `trunkctl domain add` in between is
// never overwritten; a PATCH without If-Match is still written only over the version read).
//
// Carriers (api_carriers.cpp): `trunkctl trunk-reg`'s entries in JSON (--retry-delay:
// "retry_delay_s", --user: "user"; null: trunkline's default), every value checked by
// trunkctl's code (sw/trunk_form.hpp; 422 with its message, the option replaced by the
// field). "password" is accepted (required on POST) and never returned ("password_set") or
// logged. "live" is sw::Registrations' state of the entry (state, reason, retrying,
// expires_ms, last_code, next_attempt_ms, consecutive_failures, registrar, dns). POST
// creates (409 if it exists), PATCH changes, DELETE removes: a write sets
// Response::tables_changed, the reloader sees trunk_reg move and the running switch follows
// (a removed or changed entry is unregistered first). POST .../register re-registers now
// (202; 409 when the entry is disabled or not running, saying why). ETag and If-Match as for
// domain entries.
//
// Rates (api_rates.cpp): GET /api/rate-groups lists every group with its number of rates and
// of accounts using it; GET /api/rates the rates of one group (404 if unknown) sorted by
// prefix, period and effective_from, `prefix` selecting that prefix and longer ones, `limit`
// (1..10000, default 100) per page, `next` sent back as `after`; money as exact decimal strings.
// POST /api/rate-groups/{group}/deck: the body is the CSV deck (text/csv), the query parameters
// are `trunkctl rates import`'s options ('-' as '_': template, map, delimiter, no_header, skip,
// first_line, decimal_comma, encoding, date_format, increment, first_period, allow_zero_price,
// replace) and dry_run. All or nothing, as the CLI: a bad deck is 422 with "errors" [{line,
// column, message}] (every bad line, up to 100; "error_count" counts all) and "hints", and
// nothing is stored; otherwise 200 {group, rates, added, updated, removed, warnings[]} and
// Response::tables_changed (the switch reloads its book). dry_run=true checks only. The
// wiring accepts a deck body up to 64 MiB (other bodies 1 MiB); more is 413.
// POST /api/rate-groups/{group}/autocreate: `trunkctl rates autocreate`, the body {"from":
// ["v1", ...] (vendor rate groups), "margin": "15%" | "markup": "0.2" (one of them),
// "precision"? (0..6, default the currency's), "replace"?, "dry_run"?}: for each prefix the
// cheapest vendor rate in force now, priced vendor / (1 - margin) or vendor * (1 + markup),
// rounded up. The answer is the deck upload's plus "from", the ratio, "precision" and
// "created" (the rates, as GET /api/rates shows them, the first 10,000 by prefix;
// "created_truncated"); dry_run stores nothing, otherwise they are stored as a deck is
// (tables_changed). A refused member is 422 naming it (an unknown or empty vendor group:
// "from").
//
// Reconciliation (api_reconcile.cpp): POST /api/reconcile is `trunkctl reconcile FILE --vendor
// ID` (billing/reconcile.hpp, the same functions): the body is the vendor's CDR file (text/csv,
// header line; columns callee, start, duration, amount or a `map`), the query parameters are
// its options ('-' as '_': vendor, map, delimiter, no_header, decimal_comma, from, until,
// tolerance, duration_tolerance, format). Our answered CDRs with the vendor account ending in
// [from, until) (from required, until default now) are matched; the answer is trunkctl's
// --json (or format=csv): matched, totals, amount_deviation, differing [{ours, theirs,
// duration_diff_s, amount_diff}], only_ours, only_theirs. A bad file is 422 with field "file",
// "error" the count and the first error as trunkctl prints it ("line 3, field duration: ...")
// and "errors" [{line, column, message, text}] (up to 100; "error_count"); a missing or refused
// parameter (an unknown vendor account too) is 422 naming it. It reads every CDR of its period
// on the switch's loop: at most 7 days (400 naming "from", as the reports) and 250,000 of our
// CDRs (400 naming "from"); the wiring accepts a body up to 16 MiB (413). It changes nothing,
// so a read token may send it (the one POST that needs no admin scope).
//
// Stats (api_stats.cpp): GET /api/stats/history is sw::CallHistory's last hour, {"bucket_s":
// 60, "buckets": [...]}, 60 minutes oldest first, the last the current one: t_ms (the minute's
// start, Unix ms), calls (started: a customer identified), ended, answered (of the ended),
// asr (answered / ended; null when none ended), acd_s (talk seconds per answered call ended;
// null when none), cps (calls / 60), concurrent (the peak of calls in progress) and
// concurrent_last. A minute without calls reads zero.
//
// Lifetimes: the switch and the hasher outlive the Api; Request views are read during
// handle() only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "route/reg/auth_guard.hpp"
#include "sip/auth/hasher.hpp"
#include "sip/time.hpp"
#include "sw/api_data.hpp"
#include "sw/api_live.hpp"
#include "sw/metrics.hpp"

namespace sw {
class Switch;
class JsonWriter;
}

namespace sw::api {

using namespace std::chrono_literals;

enum class Scope : std::uint8_t { read, admin };
std::string_view to_string(Scope s) noexcept;
std::optional<Scope> parse_scope(std::string_view s) noexcept;  // "read", "admin"

struct Token {
    std::string name;
    std::string sha256_hex;  // lower-case hex SHA-256 of the secret
    Scope scope = Scope::read;
};

struct Request {
    std::string_view method;  // "GET", "DELETE", ...
    std::string_view path;    // percent-decoded, without the query: "/api/calls/7"
    std::vector<std::pair<std::string, std::string>> query;  // decoded name=value pairs
    std::string_view authorization;  // the Authorization header; "" when absent
    std::string source;              // the client's address: "127.0.0.1", "::1"
    // What the failed-login limit counts by: the IPv4 address or the IPv6 /64 (one host
    // usually has a whole /64, as sip::StreamGuard assumes); empty: `source`.
    std::string source_key;
    bool loopback = false;
    std::string_view body;
    std::string_view if_match;  // the If-Match header (RFC 9110 §13.1.1); "" when absent
    std::string_view if_none_match;  // If-None-Match (§13.1.2): the console's files; "" when absent
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool switch_changed = false;  // the switch was pumped: the caller drains it
    // the operators' tables in the file changed (Data was written): the caller reloads what
    // the switch keeps of them (its billing book) now, not at the next poll
    bool tables_changed = false;
};

struct ApiConfig {
    std::uint32_t max_failures = 10;    // wrong tokens from one address within the window...
    sip::Duration failure_window = 60s;
    sip::Duration block = 60s;          // ...get every request of it refused (429) this long
    std::size_t max_sources = 10'000;   // addresses tracked at once (the oldest goes first)
    bool metrics_token_on_loopback = false;
};

class Api {
  public:
    Api(Switch& sw, const sip::auth::Hasher& hasher, ApiConfig cfg = {});

    void set_tokens(std::vector<Token> tokens);
    std::size_t token_count() const noexcept { return tokens_.size(); }
    // What /metrics adds from outside the switch (resident memory, loop lag, CDR queue,
    // transports); read only when /metrics is asked for.
    void set_process_metrics(std::function<ProcessMetrics()> read) { process_ = std::move(read); }
    // The database behind /api/accounts (api_data.hpp); nullptr: those endpoints answer 503.
    void set_data(Data* data) noexcept { data_ = data; }
    // The running server's domain cache and carrier view (api_live.hpp); nullptr: the
    // domains' live status is null and "resolve now" answers 503.
    void set_live(Live* live) noexcept { live_ = live; }

    // `wall_ms`: Unix milliseconds at `now` (the times the API shows are wall-clock).
    Response handle(const Request& rq, sip::Instant now, std::int64_t wall_ms);
    std::optional<std::string> poll_log();

  private:
    struct Source {  // failed logins of one address
        sip::Instant window_start{};
        std::uint32_t failures = 0;
        std::optional<sip::Instant> blocked_until;
    };
    struct Ctx;
    std::optional<Response> refuse(const Request& rq, bool need_token, sip::Instant now,
                                   const Token** who);
    void note_failure(const std::string& source, sip::Instant now);
    Response route(Ctx& c);
    Response calls(Ctx& c);
    Response call(Ctx& c, std::string_view id);
    Response suspensions(Ctx& c);
    Response lift(Ctx& c, std::string_view key);
    Response gateways(Ctx& c);
    Response gateway_config(Ctx& c, std::string_view rest);
    Response groups(Ctx& c, const std::optional<std::string_view>& name);
    Response metrics(Ctx& c);
    Response accounts(Ctx& c, const std::optional<std::string_view>& id, std::string_view action);
    Response list_accounts(Ctx& c);
    Response show_account(Ctx& c, std::string_view id);
    Response create_account(Ctx& c);
    Response topup(Ctx& c, std::string_view id);
    Response users(Ctx& c, const std::optional<std::string_view>& name);
    Response list_users(Ctx& c);
    Response show_user(Ctx& c, std::string_view name);
    std::optional<Response> new_user(Ctx& c, UserRecord& u);
    Response add_user(Ctx& c);
    Response remove_user(Ctx& c, std::string_view name);
    Response bindings(Ctx& c);
    Response unbind(Ctx& c);  // DELETE /api/bindings?aor=AOR[&contact=C] | ?user=USER
    Response cdrs(Ctx& c);
    Response reports(Ctx& c, const std::optional<std::string_view>& kind);
    Response reconcile(Ctx& c);  // POST /api/reconcile (api_reconcile.cpp)
    Response alerts(Ctx& c, const std::optional<std::string_view>& id);
    Response billing_settings(Ctx& c);  // GET|PATCH /api/billing/settings (api_billing.cpp)
    Response stats_history(Ctx& c);  // GET /api/stats/history (api_stats.cpp)
    Response explain_route(Ctx& c);
    Response domains(Ctx& c, const std::optional<std::string_view>& rest);
    Response carriers(Ctx& c, const std::optional<std::string_view>& rest);
    Response save_carrier(Ctx& c, const std::string* path_name);
    void carrier_json(JsonWriter& w, Ctx& c, const CarrierRecord& r);
    void carrier_live(JsonWriter& w, Ctx& c, const route::reg::TrunkReg& r);
    Response carrier_answer(Ctx& c, int status, const CarrierRecord& r);
    Response traces(Ctx& c, const std::optional<std::string_view>& rest);
    Response rate_groups(Ctx& c, const std::optional<std::string_view>& rest);
    Response autocreate_rates(Ctx& c, const std::string& group);
    Response store_rates(Ctx& c, const std::string& group, const std::vector<billing::Rate>& rates, bool replace,
                         bool dry_run, const std::function<void(JsonWriter&)>& more);
    Response rates(Ctx& c);

    Switch& sw_;
    const sip::auth::Hasher& hasher_;
    ApiConfig cfg_;
    std::map<std::string, Token, std::less<>> tokens_;  // by sha256_hex
    std::map<std::string, Source, std::less<>> sources_;
    std::function<ProcessMetrics()> process_;
    Data* data_ = nullptr;
    Live* live_ = nullptr;
    std::deque<std::string> logs_;
};

// "user", "address", "user_at_address" (the API's and the metrics' name of a kind).
std::string_view suspension_kind(const route::reg::Suspension& s) noexcept;

// The OpenAPI 3.0 document (server/core/api/openapi.json, embedded at build time).
extern const std::string_view kOpenApiJson;

}  // namespace sw::api

#include "call_cmd.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "api_client.hpp"
#include "args.hpp"
#include "cli_util.hpp"
#include "route/lcr/sqlite/store.hpp"
#include "route/reg/sqlite/store.hpp"

namespace trunkctl {

const char* const kCallHelp = R"(usage: trunkctl call list [--json]
       trunkctl call hangup ID [--json]

  list     the calls of the running trunkline: id, customer, vendor gateway, numbers, state
           (trying, early, connected), duration. Through the API: the switch's own list;
           offline: the copy it publishes into the database once a second.
  hangup   ends call ID on both legs (BYE, or CANCEL/503 before answer); the CDR names the
           server as the one who hung up. Through the API the call is ended before the
           answer (an unknown ID is an error); offline the request is queued in the database
           and trunkline takes it within a second.
)" TRUNKCTL_PATH_HELP;

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

using cli::json_text;
using route::lcr::sqlite::ActiveCall;
using route::lcr::sqlite::ActiveCalls;
using route::lcr::sqlite::GatewayLive;

// Where the calls come from: the running switch itself (API) or its once-a-second copy (DB).
struct Source {
    const std::string& db;
    const api::Remote& remote;
};

const cli::Cmd kCall{"call", kCallHelp};
const cli::Cmd kStatus{"gateway status", ""};

// The API's call list and vendor gateways as the database's snapshot, stamped with the
// answer's time: one printer for both paths.
std::optional<ActiveCalls> from_api(const cli::Cmd& c, const api::Endpoint& e, bool gateways,
                                    int& rc) {
    const api::Client cl(e);
    auto j = cl.get(c, gateways ? "/api/gateways" : "/api/calls", rc);
    if (!j) return std::nullopt;
    ActiveCalls out;
    out.published_ms = api::now_ms();
    for (const api::Json& v : j->list("calls")) {
        ActiveCall a;
        a.id = static_cast<std::uint64_t>(v.num("id"));
        a.customer = v.str("customer");
        a.vendor_gateway = v.str("vendor_gateway");
        a.caller = v.str("caller");
        a.callee = v.str("callee");
        a.state = v.str("state");
        a.setup_ms = v.num("setup_ms");
        if (auto t = v.opt_num("answer_ms")) a.answer_ms = *t;
        a.call_id_in = v.str("call_id_in");
        a.call_id_out = v.str("call_id_out");
        out.calls.push_back(std::move(a));
    }
    for (const api::Json& v : j->list("vendors")) {
        GatewayLive g;
        g.name = v.str("name");
        g.current_calls = static_cast<std::uint32_t>(v.num("current_calls"));
        g.total_calls = static_cast<std::uint64_t>(v.num("total_calls"));
        g.answered = static_cast<std::uint64_t>(v.num("answered_calls"));
        g.down = v.flag("down");
        g.down_reason = v.str("down_reason");
        if (auto t = v.opt_num("down_since_ms")) g.down_since_ms = *t;
        out.gateways.push_back(std::move(g));
    }
    return out;
}

std::optional<ActiveCalls> load(const cli::Cmd& c, const Source& src, bool gateways, int& rc) {
    if (src.remote.live()) return from_api(c, *src.remote.endpoint, gateways, rc);
    std::string err;
    auto st = route::lcr::sqlite::Store::open(src.db, &err);
    auto calls = st ? st->active_calls(&err) : std::nullopt;
    rc = calls ? cli::kOk : cli::runtime(c, err);
    return calls;
}

int list(const Source& src, bool json) {
    int rc = 0;
    auto calls = load(kCall, src, false, rc);
    if (!calls) return rc;
    const std::int64_t now = now_ms();
    if (json) {
        std::cout << "{\"published_ms\": " << calls->published_ms << ", \"calls\": [";
        bool first = true;
        for (const auto& c : calls->calls) {
            std::cout << (first ? "" : ", ") << "{\"id\": " << c.id
                      << ", \"customer\": " << json_text(c.customer)
                      << ", \"vendor_gateway\": " << json_text(c.vendor_gateway)
                      << ", \"caller\": " << json_text(c.caller)
                      << ", \"callee\": " << json_text(c.callee)
                      << ", \"state\": " << json_text(c.state) << ", \"setup_ms\": " << c.setup_ms
                      << ", \"answer_ms\": "
                      << (c.answer_ms ? std::to_string(*c.answer_ms) : std::string("null"))
                      << ", \"call_id_in\": " << json_text(c.call_id_in)
                      << ", \"call_id_out\": " << json_text(c.call_id_out) << "}";
            first = false;
        }
        std::cout << "]}\n";
        return 0;
    }
    if (calls->published_ms == 0) {
        std::cout << "no call list: trunkline has not run on this database\n";
        return 0;
    }
    if (now - calls->published_ms > 5000)
        std::cout << "note: published " << (now - calls->published_ms) / 1000
                  << " s ago; trunkline may not be running\n";
    std::printf("%-8s %-12s %-12s %-16s %-16s %-10s %s\n", "ID", "CUSTOMER", "VENDOR", "CALLER",
                "CALLEE", "STATE", "SECONDS");
    for (const auto& c : calls->calls) {
        const std::int64_t since = c.answer_ms ? *c.answer_ms : c.setup_ms;
        std::printf("%-8llu %-12s %-12s %-16s %-16s %-10s %lld\n",
                    static_cast<unsigned long long>(c.id), c.customer.c_str(),
                    c.vendor_gateway.empty() ? "-" : c.vendor_gateway.c_str(), c.caller.c_str(),
                    c.callee.c_str(), c.state.c_str(),
                    static_cast<long long>((now - since) / 1000));
    }
    std::printf("%zu calls\n", calls->calls.size());
    return 0;
}

// Through the API the switch ends the call before answering; through the database the
// request is queued and trunkline takes it within a second.
int hangup(const Source& src, const std::string& id, bool json) {
    if (id.empty() || id.size() > 19 || id.find_first_not_of("0123456789") != std::string::npos) {
        std::cerr << "trunkctl call hangup: ID must be a call number from `trunkctl call list`, "
                     "not '"
                  << id << "'\n";
        return 2;
    }
    if (src.remote.live()) {
        int rc = 0;
        if (!api::Client(*src.remote.endpoint).call(kCall, "DELETE", "/api/calls/" + id, rc, 200))
            return rc;
        if (json)
            std::cout << "{\"id\": " << id << ", \"hung_up\": true, \"queued\": false}\n";
        else
            std::cout << "call " << id << " hung up\n";
        return 0;
    }
    std::string err;
    auto st = route::reg::sqlite::Store::open(src.db, &err);
    if (!st || !st->add_command("hangup", id, &err)) {
        std::cerr << "trunkctl call hangup: " << err << "\n";
        return 1;
    }
    if (json)
        std::cout << "{\"id\": " << id << ", \"hung_up\": false, \"queued\": true}\n";
    else
        std::cout << "hang-up of call " << id << " requested (trunkline takes it within a second)\n";
    return 0;
}

}  // namespace

int cmd_gateway_status(const std::string& db, const api::Remote& remote, int argc, char** argv, int first) {
    Args a;
    if (!a.parse(argc, argv, first + 1, {{"--format"}, {"--json", "--help"}})) {
        std::cerr << "trunkctl gateway status: " << a.error() << "\n";
        return 2;
    }
    if (a.flag("--help")) {
        std::cout << "usage: trunkctl gateway status [--json]\n  the vendor gateways' live "
                     "state in the running trunkline: current calls, calls, answered, and\n"
                     "  whether health checks took the gateway down (why, since when)\n"
                  << api::kPathHelp;
        return 0;
    }
    if (!a.positionals().empty()) {
        std::cerr << "trunkctl gateway status: unexpected '" << a.positionals()[0] << "'\n";
        return 2;
    }
    if (std::string f; !cli::json_format(a, f)) {
        std::cerr << "trunkctl gateway status: " << cli::json_conflict(a) << "\n";
        return 2;
    }
    int rc = 0;
    auto live = load(kStatus, Source{db, remote}, true, rc);
    if (!live) return rc;
    if (a.flag("--json") || a.get("--format") == "json") {
        std::cout << "{\"published_ms\": " << live->published_ms << ", \"gateways\": [";
        bool first_row = true;
        for (const auto& g : live->gateways) {
            std::cout << (first_row ? "" : ", ") << "{\"name\": " << json_text(g.name)
                      << ", \"current_calls\": " << g.current_calls
                      << ", \"total_calls\": " << g.total_calls << ", \"answered\": " << g.answered
                      << ", \"down\": " << (g.down ? "true" : "false")
                      << ", \"down_reason\": " << json_text(g.down_reason) << ", \"down_since_ms\": "
                      << (g.down_since_ms ? std::to_string(*g.down_since_ms) : std::string("null"))
                      << "}";
            first_row = false;
        }
        std::cout << "]}\n";
        return 0;
    }
    if (live->published_ms == 0) {
        std::cout << "no live state: trunkline has not run on this database\n";
        return 0;
    }
    std::printf("%-16s %-8s %-10s %-10s %-6s %s\n", "GATEWAY", "CALLS", "TOTAL", "ANSWERED",
                "STATE", "WHY");
    for (const auto& g : live->gateways)
        std::printf("%-16s %-8u %-10llu %-10llu %-6s %s\n", g.name.c_str(), g.current_calls,
                    static_cast<unsigned long long>(g.total_calls),
                    static_cast<unsigned long long>(g.answered), g.down ? "down" : "up",
                    g.down ? g.down_reason.c_str() : "-");
    return 0;
}

int cmd_call(const std::string& db, const api::Remote& remote, int argc, char** argv, int first) {
    Args a;
    if (!a.parse(argc, argv, first, {{"--format"}, {"--json", "--help"}})) {
        std::cerr << "trunkctl call: " << a.error() << "\n" << kCallHelp;
        return 2;
    }
    const auto& pos = a.positionals();
    if (a.flag("--help") || pos.empty()) {
        std::cout << kCallHelp;
        return pos.empty() && !a.flag("--help") ? 2 : 0;
    }
    if (std::string f; !cli::json_format(a, f)) {
        std::cerr << "trunkctl call: " << cli::json_conflict(a) << "\n" << kCallHelp;
        return 2;
    }
    const bool json = a.flag("--json") || a.get("--format") == "json";
    const Source src{db, remote};
    if (pos[0] == "list" && pos.size() == 1) return list(src, json);
    if (pos[0] == "hangup" && pos.size() == 2) return hangup(src, pos[1], json);
    std::cerr << "trunkctl call: expected 'list' or 'hangup ID'\n" << kCallHelp;
    return 2;
}

}  // namespace trunkctl

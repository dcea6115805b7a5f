#include "call_cmd.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "args.hpp"
#include "cli_util.hpp"
#include "route/lcr/sqlite/store.hpp"
#include "route/reg/sqlite/store.hpp"

namespace trunkctl {

const char* const kCallHelp = R"(usage: trunkctl call list [--json]
       trunkctl call hangup ID

  list     the calls of the running trunkline (published once a second): id, customer,
           vendor gateway, numbers, state (trying, early, connected), duration
  hangup   ends call ID on both legs (BYE, or CANCEL/503 before answer); the CDR names the
           server as the one who hung up. trunkline takes the request within a second.
)";

namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

using cli::json_text;

int list(const std::string& db, bool json) {
    std::string err;
    auto st = route::lcr::sqlite::Store::open(db, &err);
    if (!st) {
        std::cerr << "trunkctl call list: " << err << "\n";
        return 1;
    }
    auto calls = st->active_calls(&err);
    if (!calls) {
        std::cerr << "trunkctl call list: " << err << "\n";
        return 1;
    }
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

int hangup(const std::string& db, const std::string& id) {
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
        std::cerr << "trunkctl call hangup: ID must be a call number from `trunkctl call list`, "
                     "not '"
                  << id << "'\n";
        return 2;
    }
    std::string err;
    auto st = route::reg::sqlite::Store::open(db, &err);
    if (!st || !st->add_command("hangup", id, &err)) {
        std::cerr << "trunkctl call hangup: " << err << "\n";
        return 1;
    }
    std::cout << "hang-up of call " << id << " requested (trunkline takes it within a second)\n";
    return 0;
}

}  // namespace

int cmd_gateway_status(const std::string& db, int argc, char** argv, int first) {
    Args a;
    if (!a.parse(argc, argv, first + 1, {{"--format"}, {"--json", "--help"}})) {
        std::cerr << "trunkctl gateway status: " << a.error() << "\n";
        return 2;
    }
    if (a.flag("--help")) {
        std::cout << "usage: trunkctl gateway status [--json]\n  the vendor gateways' live "
                     "state in the running trunkline: current calls, calls, answered, and\n"
                     "  whether health checks took the gateway down (why, since when)\n";
        return 0;
    }
    if (!a.positionals().empty()) {
        std::cerr << "trunkctl gateway status: unexpected '" << a.positionals()[0] << "'\n";
        return 2;
    }
    std::string err;
    auto st = route::lcr::sqlite::Store::open(db, &err);
    auto live = st ? st->active_calls(&err) : std::nullopt;
    if (!live) {
        std::cerr << "trunkctl gateway status: " << err << "\n";
        return 1;
    }
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

int cmd_call(const std::string& db, int argc, char** argv, int first) {
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
    if (pos[0] == "list" && pos.size() == 1)
        return list(db, a.flag("--json") || a.get("--format") == "json");
    if (pos[0] == "hangup" && pos.size() == 2) return hangup(db, pos[1]);
    std::cerr << "trunkctl call: expected 'list' or 'hangup ID'\n" << kCallHelp;
    return 2;
}

}  // namespace trunkctl

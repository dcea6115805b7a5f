#include "trace_cmd.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api_client.hpp"
#include "args.hpp"
#include "cli_util.hpp"

namespace trunkctl {

const char* const kTraceHelp = R"(usage: trunkctl trace start [--caller N] [--callee N] [--gateway NAME] [--duration S]
                            [--max-messages N]
       trunkctl trace list
       trunkctl trace get ID [--out FILE.pcap]
       trunkctl trace stop ID
  every subcommand: [--api ADDR:PORT|URL] [--token TOKEN] [--cacert FILE] [--json]

On-demand capture of the calls matching a filter on the running trunkline (VOS3000's debug
trace), through its management API.
  start   captures every SIP message, both legs, of the calls whose caller (From user) starts
          with --caller, whose callee (To user) starts with --callee and whose customer or
          vendor gateway is --gateway (the ones given; at least one), for --duration seconds
          (default 600) or --max-messages messages (default 10000); prints the trace's id.
          Needs an admin token.
  list    the traces: id, state (active, finished), filter, messages, calls, end time
  get     with --out: the messages as a pcap file (tshark -r, Wireshark, sngrep -I);
          without: one line per message (time, direction, addresses, first line)
  stop    stops the trace and removes it with its messages
  --api ADDR:PORT|URL  the management API (http://ADDR:PORT or https://HOST:PORT); default
                    $TRUNKLINE_API, else 127.0.0.1:8080
  --token TOKEN     a bearer token (trunkctl token add); default: $TRUNKLINE_TOKEN
  --cacert FILE     https: the CA certificate(s) to trust; default: $TRUNKLINE_CACERT
  --json            the API's JSON answer as is
)";

namespace {

using cli::json_text;

const cli::Cmd kTrace{"trace", kTraceHelp};

using api::Json;

// "HTTP 422: duration_s must be ... (field duration_s)"
int api_error(const api::Client& cl, const api::Reply& r) { return cli::runtime(kTrace, cl.error_text(r)); }

bool digits(const std::string& s) {
    return !s.empty() && s.size() <= 9 &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

std::string when(const std::string& ms_text) {
    const std::time_t t = static_cast<std::time_t>(std::strtoll(ms_text.c_str(), nullptr, 10) / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
    return b;
}

std::string time_us(const std::string& us_text) {
    const long long us = std::strtoll(us_text.c_str(), nullptr, 10);
    const std::time_t t = static_cast<std::time_t>(us / 1'000'000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char b[48];
    std::strftime(b, sizeof b, "%H:%M:%S", &tm);
    char f[16];
    std::snprintf(f, sizeof f, ".%06lld", us % 1'000'000);
    return std::string(b) + f;
}

std::string filter_text(const Json& t) {
    std::string f;
    for (const char* k : {"caller", "callee", "gateway"})
        if (auto v = t.str(k); !v.empty()) f += (f.empty() ? "" : " ") + std::string(k) + "=" + v;
    return f;
}

int print_list(const Json& j) {
    const Json* list = j.get("traces");
    if (!list) return cli::runtime(kTrace, "unexpected answer from the API");
    std::printf("%-4s %-9s %-32s %9s %6s  %s\n", "ID", "STATE", "FILTER", "MESSAGES", "CALLS", "ENDS (UTC)");
    for (const Json& t : list->items) {
        std::string state = t.str("state");
        if (auto r = t.str("end_reason"); !r.empty()) state += " (" + r + ")";
        std::printf("%-4s %-9s %-32s %9s %6s  %s\n", t.str("id").c_str(), state.c_str(), filter_text(t).c_str(),
                    t.str("message_count").c_str(), t.str("calls").c_str(), when(t.str("ends_ms")).c_str());
    }
    return cli::kOk;
}

int print_messages(const Json& t) {
    std::string state = t.str("state");
    if (auto r = t.str("end_reason"); !r.empty()) state += " (" + r + ")";
    std::printf("trace %s: %s, %s, %s messages, %s calls\n", t.str("id").c_str(), filter_text(t).c_str(), state.c_str(),
                t.str("message_count").c_str(), t.str("calls").c_str());
    if (const Json* ms = t.get("messages"))
        for (const Json& m : ms->items)
            std::printf("%s %-3s %s %s -> %s  %s\n", time_us(m.str("time_us")).c_str(), m.str("direction").c_str(),
                        m.str("transport").c_str(), m.str("src").c_str(), m.str("dst").c_str(),
                        m.str("first_line").c_str());
    return cli::kOk;
}

}  // namespace

int cmd_trace(const api::Remote& remote, int argc, char** argv, int first) {
    OptionSpec spec{{"--caller", "--callee", "--gateway", "--duration", "--max-messages", "--out"}, {"--json"}};
    Args a;
    std::string sub;
    if (int rc = cli::parse(kTrace, argc, argv, first, spec, a, sub); rc >= 0) return rc;
    const auto& pos = a.positionals();
    // Traces exist only in the running server: no database path, so the API has a default.
    if (remote.offline) return cli::usage(kTrace, "traces live in the running trunkline: --offline does not apply");
    const api::Client cl(remote.endpoint.value_or(api::Endpoint{"http://127.0.0.1:8080", remote.token, remote.cacert}));
    if (cl.endpoint().token.empty()) return cli::usage(kTrace, "a token is needed: --token or TRUNKLINE_TOKEN");
    const bool json = a.flag("--json");
    std::string err;
    auto call = [&](const std::string& method, const std::string& path, const std::string& body) {
        return cl.request(method, path, body, &err);
    };
    // A request whose answer is JSON: --json prints it as it came, else `print` shows it parsed.
    auto show = [&](const std::string& method, const std::string& path, const std::string& body, long want,
                    auto print) -> int {
        auto r = call(method, path, body);
        if (!r) return cli::runtime(kTrace, err);
        if (r->status != want) return api_error(cl, *r);
        if (json) {
            std::cout << r->body;
            return cli::kOk;
        }
        auto j = api::parse_json(r->body);
        if (!j) return cli::runtime(kTrace, "unexpected answer from the API");
        return print(*j);
    };
    if (sub == "start") {
        if (!pos.empty()) return cli::usage(kTrace, "unexpected argument '" + pos[0] + "'");
        std::string body;
        for (const char* k : {"caller", "callee", "gateway"})
            if (a.has(std::string("--") + k))
                body += (body.empty() ? "" : ",") + json_text(k) + ":" + json_text(a.get(std::string("--") + k));
        if (body.empty()) return cli::usage(kTrace, "trace start needs --caller, --callee or --gateway");
        for (auto [opt, field] : {std::pair{"--duration", "duration_s"}, std::pair{"--max-messages", "max_messages"}}) {
            if (!a.has(opt)) continue;
            if (!digits(a.get(opt))) return cli::bad(kTrace, cli::opt_text(opt, a.get(opt)) + ": a whole number");
            body += "," + json_text(field) + ":" + a.get(opt);
        }
        return show("POST", "/api/traces", "{" + body + "}", 201, [](const Json& j) {
            std::cout << "trace " << j.str("id") << " started: " << filter_text(j) << ", until "
                      << when(j.str("ends_ms")) << " UTC or " << j.str("max_messages") << " messages\n";
            return cli::kOk;
        });
    }
    if (sub == "list") {
        if (!pos.empty()) return cli::usage(kTrace, "unexpected argument '" + pos[0] + "'");
        return show("GET", "/api/traces", "", 200, print_list);
    }
    if (sub == "get" || sub == "stop") {
        if (pos.size() != 1) return cli::usage(kTrace, "trace " + sub + " needs ID");
        if (!digits(pos[0])) return cli::bad(kTrace, "ID " + cli::show_value(pos[0]) + ": a trace id is a number");
        const std::string path = "/api/traces/" + pos[0];
        if (sub == "stop") {
            auto r = call("DELETE", path, "");
            if (!r) return cli::runtime(kTrace, err);
            if (r->status != 200) return api_error(cl, *r);
            if (json)
                std::cout << r->body;
            else
                std::cout << "trace " << pos[0] << " stopped and removed\n";
            return cli::kOk;
        }
        if (a.has("--out")) {
            auto r = call("GET", path + "/pcap", "");
            if (!r) return cli::runtime(kTrace, err);
            if (r->status != 200) return api_error(cl, *r);
            const std::string out = a.get("--out");
            std::ofstream f(out, std::ios::binary | std::ios::trunc);
            f.write(r->body.data(), static_cast<std::streamsize>(r->body.size()));
            f.close();
            if (!f) return cli::runtime(kTrace, "cannot write " + out);
            if (json)
                std::cout << "{\"id\":" << pos[0] << ",\"file\":" << json_text(out) << ",\"bytes\":" << r->body.size()
                          << "}\n";
            else
                std::cout << "trace " << pos[0] << ": " << r->body.size() << " bytes of pcap written to " << out << "\n";
            return cli::kOk;
        }
        return show("GET", path, "", 200, print_messages);
    }
    return cli::usage(kTrace, "unknown trace subcommand '" + sub + "'");
}

}  // namespace trunkctl

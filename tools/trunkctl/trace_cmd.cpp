#include "trace_cmd.hpp"

#include <curl/curl.h>

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

#include "args.hpp"
#include "cli_util.hpp"

namespace trunkctl {

const char* const kTraceHelp = R"(usage: trunkctl trace start [--caller N] [--callee N] [--gateway NAME] [--duration S]
                            [--max-messages N]
       trunkctl trace list
       trunkctl trace get ID [--out FILE.pcap]
       trunkctl trace stop ID
  every subcommand: [--api ADDR:PORT] [--token TOKEN] [--json]

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
  --api ADDR:PORT   the management API (default 127.0.0.1:8080)
  --token TOKEN     a bearer token (trunkctl token add); default: $TRUNKLINE_TOKEN
  --json            the API's JSON answer as is
)";

namespace {

using cli::json_text;

const cli::Cmd kTrace{"trace", kTraceHelp};

// ---- a small JSON reader for the API's answers -------------------------------------------
struct Json {
    enum class Kind { null, boolean, number, string, array, object } kind = Kind::null;
    std::string text;  // string (unescaped), number (as written), boolean
    std::vector<Json> items;
    std::vector<std::pair<std::string, Json>> members;
    const Json* get(std::string_view k) const {
        for (const auto& [name, v] : members)
            if (name == k) return &v;
        return nullptr;
    }
    std::string str(std::string_view k) const {
        const Json* v = get(k);
        return v ? v->text : std::string();
    }
};

class Reader {
  public:
    explicit Reader(std::string_view s) : s_(s) {}
    std::optional<Json> parse() {
        auto v = value(0);
        ws();
        if (!v || i_ != s_.size()) return std::nullopt;
        return v;
    }

  private:
    void ws() {
        while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    bool lit(std::string_view w) {
        if (s_.substr(i_, w.size()) != w) return false;
        i_ += w.size();
        return true;
    }
    std::optional<std::string> string() {
        if (i_ >= s_.size() || s_[i_] != '"') return std::nullopt;
        std::string out;
        for (++i_; i_ < s_.size(); ++i_) {
            char c = s_[i_];
            if (c == '"') {
                ++i_;
                return out;
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (++i_ >= s_.size()) return std::nullopt;
            switch (s_[i_]) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'u': {
                    if (i_ + 4 >= s_.size()) return std::nullopt;
                    const unsigned cp = static_cast<unsigned>(std::strtoul(std::string(s_.substr(i_ + 1, 4)).c_str(), nullptr, 16));
                    i_ += 4;
                    if (cp < 0x80) {
                        out += static_cast<char>(cp);
                    } else if (cp < 0x800) {
                        out += static_cast<char>(0xc0 | (cp >> 6));
                        out += static_cast<char>(0x80 | (cp & 0x3f));
                    } else {  // surrogates are shown as they come: display text only
                        out += static_cast<char>(0xe0 | (cp >> 12));
                        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
                        out += static_cast<char>(0x80 | (cp & 0x3f));
                    }
                    break;
                }
                default: out += s_[i_];
            }
        }
        return std::nullopt;
    }
    std::optional<Json> value(int depth) {
        if (depth > 32) return std::nullopt;
        ws();
        if (i_ >= s_.size()) return std::nullopt;
        Json v;
        const char c = s_[i_];
        if (c == '{' || c == '[') {
            const bool obj = c == '{';
            v.kind = obj ? Json::Kind::object : Json::Kind::array;
            ++i_;
            ws();
            if (i_ < s_.size() && s_[i_] == (obj ? '}' : ']')) {
                ++i_;
                return v;
            }
            for (;;) {
                std::string name;
                if (obj) {
                    ws();
                    auto n = string();
                    if (!n) return std::nullopt;
                    name = std::move(*n);
                    ws();
                    if (!lit(":")) return std::nullopt;
                }
                auto item = value(depth + 1);
                if (!item) return std::nullopt;
                if (obj)
                    v.members.emplace_back(std::move(name), std::move(*item));
                else
                    v.items.push_back(std::move(*item));
                ws();
                if (lit(",")) continue;
                if (lit(obj ? "}" : "]")) return v;
                return std::nullopt;
            }
        }
        if (c == '"') {
            auto t = string();
            if (!t) return std::nullopt;
            v.kind = Json::Kind::string;
            v.text = std::move(*t);
            return v;
        }
        if (lit("true") || lit("false")) {
            v.kind = Json::Kind::boolean;
            v.text = s_[i_ - 1] == 'e' && s_[i_ - 2] == 'u' ? "true" : "false";
            return v;
        }
        if (lit("null")) return v;
        const std::size_t start = i_;
        while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) ||
                                  std::string_view("+-.eE").find(s_[i_]) != std::string_view::npos))
            ++i_;
        if (i_ == start) return std::nullopt;
        v.kind = Json::Kind::number;
        v.text = std::string(s_.substr(start, i_ - start));
        return v;
    }
    std::string_view s_;
    std::size_t i_ = 0;
};

// ---- HTTP -------------------------------------------------------------------------------
struct Reply {
    long status = 0;
    std::string body;
};

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

std::optional<Reply> http(const std::string& api, const std::string& token, const std::string& method,
                          const std::string& path, const std::string& body, std::string* err) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), curl_easy_cleanup);
    if (!h) {
        *err = "cannot start libcurl";
        return std::nullopt;
    }
    const std::string url = "http://" + api + path;
    curl_slist* headers = nullptr;
    const std::string auth = "Authorization: Bearer " + token;
    headers = curl_slist_append(headers, auth.c_str());
    if (!body.empty()) headers = curl_slist_append(headers, "Content-Type: application/json");
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> hl(headers, curl_slist_free_all);
    Reply r;
    curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(h.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(h.get(), CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h.get(), CURLOPT_PROXY, "");  // the API is reached directly
    if (method == "POST") {
        curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    if (CURLcode rc = curl_easy_perform(h.get()); rc != CURLE_OK) {
        *err = "cannot reach the API at " + api + ": " + curl_easy_strerror(rc);
        return std::nullopt;
    }
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &r.status);
    return r;
}

// "HTTP 422: duration_s must be ... (field duration_s)"
int api_error(const Reply& r) {
    std::string msg = "HTTP " + std::to_string(r.status);
    if (auto j = Reader(r.body).parse(); j && j->kind == Json::Kind::object) {
        if (auto e = j->str("error"); !e.empty()) msg += ": " + e;
        if (auto f = j->str("field"); !f.empty()) msg += " (field " + f + ")";
    }
    return cli::runtime(kTrace, msg);
}

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

int cmd_trace(int argc, char** argv, int first) {
    OptionSpec spec{{"--api", "--token", "--caller", "--callee", "--gateway", "--duration", "--max-messages", "--out"},
                    {"--json"}};
    Args a;
    std::string sub;
    if (int rc = cli::parse(kTrace, argc, argv, first, spec, a, sub); rc >= 0) return rc;
    const auto& pos = a.positionals();
    const std::string api = a.get("--api", "127.0.0.1:8080");
    std::string token = a.get("--token");
    if (token.empty())
        if (const char* e = std::getenv("TRUNKLINE_TOKEN")) token = e;
    if (token.empty()) return cli::usage(kTrace, "a token is needed: --token or TRUNKLINE_TOKEN");
    const bool json = a.flag("--json");
    std::string err;
    auto call = [&](const std::string& method, const std::string& path, const std::string& body) {
        auto r = http(api, token, method, path, body, &err);
        return r;
    };
    // A request whose answer is JSON: --json prints it as it came, else `print` shows it parsed.
    auto show = [&](const std::string& method, const std::string& path, const std::string& body, long want,
                    auto print) -> int {
        auto r = call(method, path, body);
        if (!r) return cli::runtime(kTrace, err);
        if (r->status != want) return api_error(*r);
        if (json) {
            std::cout << r->body;
            return cli::kOk;
        }
        auto j = Reader(r->body).parse();
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
            if (r->status != 200) return api_error(*r);
            if (json)
                std::cout << r->body;
            else
                std::cout << "trace " << pos[0] << " stopped and removed\n";
            return cli::kOk;
        }
        if (a.has("--out")) {
            auto r = call("GET", path + "/pcap", "");
            if (!r) return cli::runtime(kTrace, err);
            if (r->status != 200) return api_error(*r);
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

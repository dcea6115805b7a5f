// See api_client.hpp: the control path rule, libcurl requests and the JSON reader.
#include "api_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <tuple>

namespace trunkctl::api {

const char* const kPathHelp = TRUNKCTL_PATH_HELP;

long long Json::num(std::string_view k, long long dflt) const {
    auto v = opt_num(k);
    return v ? *v : dflt;
}

std::optional<long long> Json::opt_num(std::string_view k) const {
    const Json* v = get(k);
    if (!v || v->kind != Kind::number || v->text.empty()) return std::nullopt;
    return std::strtoll(v->text.c_str(), nullptr, 10);
}

const std::vector<Json>& Json::list(std::string_view k) const {
    static const std::vector<Json> kNone;
    const Json* v = get(k);
    return v && v->kind == Kind::array ? v->items : kNone;
}

namespace {

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


std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

// The option's value: "--api X" (the next argument) or "--api=X".
bool option_value(int argc, char** argv, int& i, std::string_view name, std::string& value,
                  bool& matched) {
    const std::string_view a = argv[i];
    matched = false;
    if (a == name) {
        matched = true;
        if (i + 1 >= argc) return false;
        value = argv[++i];
        return true;
    }
    if (a.size() > name.size() && a.substr(0, name.size()) == name && a[name.size()] == '=') {
        matched = true;
        value = std::string(a.substr(name.size() + 1));
        return true;
    }
    return true;
}

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

}  // namespace

std::optional<Json> parse_json(std::string_view text) { return Reader(text).parse(); }

std::optional<std::string> base_url(const std::string& text) {
    std::string s = text;
    while (!s.empty() && s.back() == '/') s.pop_back();
    if (s.empty()) return std::nullopt;
    const auto scheme = s.find("://");
    if (scheme == std::string::npos) {
        // ADDR:PORT (an IPv6 address in brackets); nothing that looks like a path
        if (s.find('/') != std::string::npos || s.find(':') == std::string::npos) return std::nullopt;
        return "http://" + s;
    }
    const std::string name = s.substr(0, scheme);
    if (name != "http" && name != "https") return std::nullopt;
    if (s.size() == scheme + 3) return std::nullopt;
    return s;
}

int take_options(int argc, char** argv, Remote& out, std::vector<char*>& rest) {
    std::string api, token, cacert;
    bool has_api = false, has_token = false, has_cacert = false;
    rest.assign(argv, argv + std::min(argc, 1));
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--") {
            for (; i < argc; ++i) rest.push_back(argv[i]);
            break;
        }
        if (std::string_view(argv[i]) == "--offline") {
            out.offline = true;
            continue;
        }
        bool matched = false;
        for (auto [name, value, seen] : {std::tuple{"--api", &api, &has_api}, std::tuple{"--token", &token, &has_token},
                                         std::tuple{"--cacert", &cacert, &has_cacert}}) {
            if (!option_value(argc, argv, i, name, *value, matched)) {
                std::cerr << "trunkctl: option " << name << " needs a value\n";
                return cli::kUsage;
            }
            if (matched) {
                *seen = true;
                break;
            }
        }
        if (!matched) rest.push_back(argv[i]);
    }
    if (!has_api) api = env("TRUNKLINE_API");
    if (!has_token) token = env("TRUNKLINE_TOKEN");
    if (!has_cacert) cacert = env("TRUNKLINE_CACERT");
    out.token = token;
    out.cacert = cacert;
    if (has_api && api.empty()) {  // never the database because of an empty value
        std::cerr << "trunkctl: --api needs ADDR:PORT or a URL\n";
        return cli::kUsage;
    }
    if (out.offline && has_api) {
        std::cerr << "trunkctl: --offline and --api contradict each other: give one\n";
        return cli::kUsage;
    }
    if (out.offline || api.empty()) return -1;
    auto base = base_url(api);
    if (!base) {
        std::cerr << "trunkctl: " << (has_api ? "--api " : "TRUNKLINE_API ") << "'" << api << "'"
                  << ": give ADDR:PORT or a URL http(s)://HOST:PORT\n";
        return cli::kUsage;
    }
    out.endpoint = Endpoint{*base, token, cacert};
    return -1;
}

std::optional<Reply> Client::request(const std::string& method, const std::string& path,
                                     const std::string& body, std::string* err) const {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), curl_easy_cleanup);
    if (!h) {
        *err = "cannot start libcurl";
        return std::nullopt;
    }
    if (e_.token.empty()) {
        *err = "the API at " + e_.base + " needs a token: --token TOKEN or TRUNKLINE_TOKEN";
        return std::nullopt;
    }
    const std::string url = e_.base + path;
    curl_slist* headers = nullptr;
    const std::string auth = "Authorization: Bearer " + e_.token;
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
    // only the scheme of the endpoint: a redirect never takes the token elsewhere
    curl_easy_setopt(h.get(), CURLOPT_FOLLOWLOCATION, 0L);
    if (!e_.cacert.empty()) curl_easy_setopt(h.get(), CURLOPT_CAINFO, e_.cacert.c_str());
    if (method == "HEAD") curl_easy_setopt(h.get(), CURLOPT_NOBODY, 1L);
    if (!body.empty() || method == "POST") {
        curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    if (CURLcode rc = curl_easy_perform(h.get()); rc != CURLE_OK) {
        *err = "cannot reach the API at " + e_.base + ": " + curl_easy_strerror(rc);
        // an HTTPS port closes a plain request without an answer
        if (rc == CURLE_GOT_NOTHING && e_.base.starts_with("http://"))
            *err += " (an HTTPS API? give --api https://HOST:PORT)";
        return std::nullopt;
    }
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &r.status);
    return r;
}

std::string Client::error_text(const Reply& r) const {
    std::string msg;
    if (auto j = parse_json(r.body); j && j->kind == Json::Kind::object) {
        msg = j->str("error");
        if (auto f = j->str("field"); !f.empty()) msg += " (field " + f + ")";
    }
    if (r.status == 401)
        msg = "the API at " + e_.base + " refused the token" + (msg.empty() ? "" : ": " + msg) +
              " (check --token or TRUNKLINE_TOKEN)";
    else if (r.status == 403)
        msg = "the API at " + e_.base + " refused the request" + (msg.empty() ? "" : ": " + msg);
    else if (msg.empty())
        msg = "the API at " + e_.base + " answered HTTP " + std::to_string(r.status);
    return msg + " (HTTP " + std::to_string(r.status) + ")";
}

std::optional<Json> Client::call(const cli::Cmd& c, const std::string& method, const std::string& path,
                                 int& rc, long want, std::string* raw, const std::string& body) const {
    std::string err;
    rc = cli::kRuntime;
    if (e_.token.empty()) {
        rc = cli::bad(c, "the API at " + e_.base + " needs a token: --token TOKEN or TRUNKLINE_TOKEN (trunkctl token add)");
        return std::nullopt;
    }
    auto r = request(method, path, body, &err);
    if (!r) {
        cli::runtime(c, err);
        return std::nullopt;
    }
    const bool ok = want ? r->status == want : r->status >= 200 && r->status < 300;
    if (!ok) {
        cli::runtime(c, error_text(*r));
        return std::nullopt;
    }
    auto j = parse_json(r->body);
    if (!j || j->kind != Json::Kind::object) {
        cli::runtime(c, "unexpected answer from the API at " + e_.base + " (not a JSON object)");
        return std::nullopt;
    }
    if (raw) *raw = std::move(r->body);
    rc = cli::kOk;
    return j;
}

std::string escape(std::string_view s) {
    static const char* const kHex = "0123456789ABCDEF";
    std::string o;
    for (unsigned char ch : s) {
        if (std::isalnum(ch) || (ch != 0 && std::strchr("-._~", ch) != nullptr)) {
            o += static_cast<char>(ch);
        } else {
            o += '%';
            o += kHex[ch >> 4];
            o += kHex[ch & 15];
        }
    }
    return o;
}

long long now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace trunkctl::api

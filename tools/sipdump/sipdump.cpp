// sipdump — parse SIP messages from files and print them, or say precisely why not.
//
//   sipdump [--json] FILE...      ("-" reads standard input)
//
// Each file is one UDP datagram (RFC 3261 §18.3: octets beyond Content-Length are ignored;
// a Content-Length larger than the body is an error). Exit 0 when every file is valid; 1
// when any is not, with "FILE: offset N: reason" on stderr for each; 2 on a usage error.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "sip/headers.hpp"
#include "sip/message.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: sipdump [--json] FILE...\n"
    "Parses each FILE (\"-\" for standard input) as one SIP datagram and prints it.\n"
    "  --json   print the parsed fields as JSON (one object per file, in an array)\n"
    "exit status: 0 all valid, 1 some invalid or unreadable, 2 usage error\n";

// --- a minimal JSON writer (output only; strings are escaped, invalid UTF-8 becomes U+FFFD)
class Json {
public:
    explicit Json(std::string& out) : out_(out) {}
    void str(std::string_view s) {
        out_.push_back('"');
        for (std::size_t i = 0; i < s.size();) {
            unsigned char c = static_cast<unsigned char>(s[i]);
            if (c == '"' || c == '\\') {
                out_.push_back('\\');
                out_.push_back(static_cast<char>(c));
                ++i;
            } else if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out_.append(buf);
                ++i;
            } else if (c < 0x80) {
                out_.push_back(static_cast<char>(c));
                ++i;
            } else {
                std::size_t n = utf8_len(s, i);
                if (n == 0) {
                    out_.append("\\ufffd");
                    ++i;
                } else {
                    out_.append(s.substr(i, n));
                    i += n;
                }
            }
        }
        out_.push_back('"');
    }
    void num(std::uint64_t v) { out_.append(std::to_string(v)); }
    void snum(std::int64_t v) { out_.append(std::to_string(v)); }
    void boolean(bool b) { out_.append(b ? "true" : "false"); }
    void raw(std::string_view s) { out_.append(s); }
    void key(std::string_view k) {
        sep();
        str(k);
        out_.push_back(':');
        fresh_ = true;
    }
    void open(char c) {
        sep();
        out_.push_back(c);
        fresh_ = true;
    }
    void close(char c) {
        out_.push_back(c);
        fresh_ = false;
    }
    // value helpers that handle the comma
    void v_str(std::string_view s) { sep(); str(s); fresh_ = false; }
    void v_num(std::uint64_t n) { sep(); num(n); fresh_ = false; }
    void v_snum(std::int64_t n) { sep(); snum(n); fresh_ = false; }
    void v_bool(bool b) { sep(); boolean(b); fresh_ = false; }
    void v_null() { sep(); raw("null"); fresh_ = false; }
    void kv(std::string_view k, std::string_view s) { key(k); v_str(s); }
    void kv_num(std::string_view k, std::uint64_t n) { key(k); v_num(n); }

private:
    static std::size_t utf8_len(std::string_view s, std::size_t i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        std::size_t n = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (n == 0 || i + n > s.size()) return 0;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
        return n;
    }
    void sep() {
        if (!fresh_) out_.push_back(',');
        fresh_ = true;
    }
    std::string& out_;
    bool fresh_ = true;
};

void uri_json(Json& j, std::string_view text) {
    auto u = sip::parse_uri(text);
    j.open('{');
    j.kv("raw", text);
    if (!u) {
        j.key("error");
        j.v_str(u.error().what());
        j.close('}');
        return;
    }
    j.kv("scheme", u->scheme_name);
    if (u->scheme != sip::Uri::Scheme::Other) {
        if (!u->user.empty()) j.kv("user", u->user);
        if (!u->password.empty()) j.kv("password", u->password);
        if (!u->host.empty()) j.kv("host", u->host);
        if (u->has_port) j.kv_num("port", u->port);
        if (!u->params.empty()) {
            j.key("params");
            j.open('{');
            std::string_view rest = u->params;
            // uri params: ;name[=value]
            while (!rest.empty() && rest[0] == ';') {
                rest.remove_prefix(1);
                std::size_t end = rest.find(';');
                std::string_view p = rest.substr(0, end);
                rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
                std::size_t eq = p.find('=');
                j.key(p.substr(0, eq));
                if (eq == std::string_view::npos) j.v_bool(true);
                else j.v_str(p.substr(eq + 1));
            }
            j.close('}');
        }
        if (!u->headers.empty()) j.kv("headers", u->headers);
    }
    j.close('}');
}

void name_addr_json(Json& j, const sip::NameAddr& na) {
    j.open('{');
    if (na.star) {
        j.key("star");
        j.v_bool(true);
        j.close('}');
        return;
    }
    if (!na.display_name.empty()) j.kv("display_name", na.display_name);
    j.key("uri");
    uri_json(j, na.uri);
    if (!na.tag.empty()) j.kv("tag", na.tag);
    if (na.expires) j.kv_num("expires", *na.expires);
    if (na.q) j.kv_num("q_thousandths", *na.q);
    if (!na.params.empty()) j.kv("params", na.params);
    j.close('}');
}

void error_json(Json& j, const sip::Error& e) {
    j.key("typed_error");
    j.open('{');
    j.kv_num("offset", e.offset);
    j.kv("reason", e.what());
    j.close('}');
}

template <class T, class F>
bool list_json(Json& j, std::string_view value, F&& next, T&& each) {
    j.key("typed");
    j.open('[');
    std::string_view list = value;
    while (!list.empty()) {
        auto r = next(list);
        if (!r) {
            j.close(']');
            error_json(j, r.error());
            return false;
        }
        each(*r);
    }
    j.close(']');
    return true;
}

void typed_json(Json& j, sip::HeaderId id, std::string_view v) {
    using H = sip::HeaderId;
    auto tokens = [&](auto next) {
        list_json(j, v, next, [&](std::string_view t) { j.v_str(t); });
    };
    switch (id) {
        case H::Via:
            list_json(j, v, [](std::string_view& l) { return sip::next_via(l); },
                      [&](const sip::Via& via) {
                          j.open('{');
                          j.kv("protocol", via.protocol);
                          j.kv("version", via.version);
                          j.kv("transport", via.transport);
                          j.kv("host", via.host);
                          if (via.has_port) j.kv_num("port", via.port);
                          if (!via.branch.empty()) j.kv("branch", via.branch);
                          if (!via.received.empty()) j.kv("received", via.received);
                          if (via.has_rport) {
                              j.key("rport");
                              if (via.rport) j.v_num(*via.rport);
                              else j.v_bool(true);
                          }
                          if (!via.maddr.empty()) j.kv("maddr", via.maddr);
                          if (via.ttl) j.kv_num("ttl", *via.ttl);
                          j.close('}');
                      });
            break;
        case H::From:
        case H::To: {
            auto na = sip::parse_name_addr(v);
            if (!na) return error_json(j, na.error());
            j.key("typed");
            name_addr_json(j, *na);
            break;
        }
        case H::Contact:
        case H::Route:
        case H::RecordRoute:
        case H::PAssertedIdentity:
        case H::PPreferredIdentity:
        case H::Path:
        case H::ReplyTo:
            list_json(j, v, [](std::string_view& l) { return sip::next_name_addr(l); },
                      [&](const sip::NameAddr& na) { name_addr_json(j, na); });
            break;
        case H::CSeq: {
            auto c = sip::parse_cseq(v);
            if (!c) return error_json(j, c.error());
            j.key("typed");
            j.open('{');
            j.kv_num("number", c->number);
            j.kv("method", c->method_name);
            j.close('}');
            break;
        }
        case H::CallId: {
            auto c = sip::parse_call_id(v);
            if (!c) return error_json(j, c.error());
            j.kv("typed", *c);
            break;
        }
        case H::MaxForwards:
        case H::ContentLength:
        case H::Expires:
        case H::MinExpires: {
            auto n = sip::parse_uint(v, id == H::MaxForwards ? 255 : UINT32_MAX);
            if (!n) return error_json(j, n.error());
            j.kv_num("typed", *n);
            break;
        }
        case H::MinSE: {
            auto n = sip::parse_min_se(v);
            if (!n) return error_json(j, n.error());
            j.kv_num("typed", *n);
            break;
        }
        case H::Date: {
            auto d = sip::parse_date(v);
            if (!d) return error_json(j, d.error());
            j.key("typed");
            j.v_snum(*d);
            break;
        }
        case H::Allow:
        case H::Supported:
        case H::Require:
        case H::ProxyRequire:
        case H::Unsupported:
            tokens([](std::string_view& l) { return sip::next_token(l); });
            break;
        case H::Privacy:
            tokens([](std::string_view& l) { return sip::next_privacy(l); });
            break;
        case H::SessionExpires: {
            auto se = sip::parse_session_expires(v);
            if (!se) return error_json(j, se.error());
            j.key("typed");
            j.open('{');
            j.kv_num("delta_seconds", se->delta);
            if (!se->refresher.empty()) j.kv("refresher", se->refresher);
            j.close('}');
            break;
        }
        case H::Authorization:
        case H::ProxyAuthorization: {
            auto c = sip::parse_credentials(v);
            if (!c) return error_json(j, c.error());
            j.key("typed");
            j.open('{');
            j.kv("scheme", c->scheme);
            for (auto [k, val] : {std::pair{"username", c->username}, {"realm", c->realm},
                                  {"nonce", c->nonce}, {"uri", c->uri}, {"response", c->response},
                                  {"algorithm", c->algorithm}, {"cnonce", c->cnonce},
                                  {"opaque", c->opaque}, {"qop", c->qop}, {"nc", c->nc}}) {
                if (!val.empty()) j.kv(k, val);
            }
            j.close('}');
            break;
        }
        case H::WWWAuthenticate:
        case H::ProxyAuthenticate: {
            auto c = sip::parse_challenge(v);
            if (!c) return error_json(j, c.error());
            j.key("typed");
            j.open('{');
            j.kv("scheme", c->scheme);
            for (auto [k, val] : {std::pair{"realm", c->realm}, {"domain", c->domain},
                                  {"nonce", c->nonce}, {"opaque", c->opaque},
                                  {"algorithm", c->algorithm}, {"qop", c->qop}}) {
                if (!val.empty()) j.kv(k, val);
            }
            if (c->stale) {
                j.key("stale");
                j.v_bool(true);
            }
            j.close('}');
            break;
        }
        default: break;
    }
}

void message_json(Json& j, std::string_view file, const sip::Message& m) {
    j.open('{');
    j.kv("file", file);
    if (m.is_request()) {
        j.kv("type", "request");
        j.kv("method", m.method_name());
        j.key("request_uri");
        uri_json(j, m.request_uri());
    } else {
        j.kv("type", "response");
        j.kv_num("status", m.status_code());
        j.kv("reason", m.reason());
    }
    j.key("headers");
    j.open('[');
    for (const sip::HeaderField& h : m.headers()) {
        j.open('{');
        j.kv("name", m.name(h));
        if (h.id != sip::HeaderId::Other) j.kv("id", sip::header_name(h.id));
        j.kv("value", m.value(h));
        typed_json(j, h.id, m.value(h));
        j.close('}');
    }
    j.close(']');
    j.kv_num("body_length", m.body().size());
    j.close('}');
}

void message_text(std::string& out, std::string_view file, const sip::Message& m) {
    out += std::string(file) + ": ";
    if (m.is_request()) {
        out += "request " + std::string(m.method_name()) + " " + std::string(m.request_uri());
    } else {
        out += "response " + std::to_string(m.status_code()) + " " + std::string(m.reason());
    }
    out += "\n";
    const sip::Via& v = m.top_via();
    out += "  top Via      " + std::string(v.transport) + " " + std::string(v.host) +
           (v.has_port ? ":" + std::to_string(v.port) : "") +
           (v.branch.empty() ? " (no branch: RFC 2543 peer)" : " branch=" + std::string(v.branch)) +
           " (" + std::to_string(m.via_count()) + " Via values)\n";
    out += "  From         " + std::string(m.from().uri) +
           (m.from().tag.empty() ? "" : " tag=" + std::string(m.from().tag)) + "\n";
    out += "  To           " + std::string(m.to().uri) +
           (m.to().tag.empty() ? "" : " tag=" + std::string(m.to().tag)) + "\n";
    out += "  Call-ID      " + std::string(m.call_id()) + "\n";
    out += "  CSeq         " + std::to_string(m.cseq().number) + " " +
           std::string(m.cseq().method_name) + "\n";
    out += "  headers (" + std::to_string(m.headers().size()) + "):\n";
    for (const sip::HeaderField& h : m.headers()) {
        out += "    " + std::string(m.name(h)) + ": " + std::string(m.value(h)) + "\n";
    }
    out += "  body         " + std::to_string(m.body().size()) + " bytes\n";
}

bool read_all(const std::string& path, std::string& out) {
    if (path == "-") {
        std::ostringstream ss;
        ss << std::cin.rdbuf();
        out = ss.str();
        return !std::cin.bad();
    }
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    return !f.bad();
}

}  // namespace

int main(int argc, char** argv) {
    bool json = false;
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--json") {
            json = true;
        } else if (a == "--help" || a == "-h") {
            std::fputs(kUsage.data(), stdout);
            return 0;
        } else if (a.size() > 1 && a[0] == '-' && a != "-") {
            std::fprintf(stderr, "sipdump: unknown option '%s'\n%s", argv[i], kUsage.data());
            return 2;
        } else {
            files.emplace_back(a);
        }
    }
    if (files.empty()) {
        std::fputs(kUsage.data(), stderr);
        return 2;
    }
    bool all_ok = true;
    std::string out;
    Json j(out);
    if (json) j.open('[');
    for (const std::string& f : files) {
        std::string bytes;
        if (!read_all(f, bytes)) {
            std::fprintf(stderr, "%s: cannot read file\n", f.c_str());
            all_ok = false;
            continue;
        }
        auto m = sip::Message::parse(bytes);
        if (!m) {
            const sip::Error& e = m.error();
            std::string where;
            if (e.header > sip::HeaderId::Other) where = std::string(" (") + std::string(sip::header_name(e.header)) + ")";
            std::fprintf(stderr, "%s: offset %u: %.*s%s\n", f.c_str(), e.offset,
                         static_cast<int>(e.what().size()), e.what().data(), where.c_str());
            all_ok = false;
            continue;
        }
        if (json) message_json(j, f, *m);
        else message_text(out, f, *m);
    }
    if (json) {
        j.close(']');
        out.push_back('\n');
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return all_ok ? 0 : 1;
}

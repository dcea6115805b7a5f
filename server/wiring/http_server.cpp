#include "wiring/http_server.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "sip/uv/poll.hpp"
#include "sip/uv/transports.hpp"

namespace wiring {

namespace {

constexpr std::size_t kMaxBody = 1 << 20;
// A rate deck (POST /api/rate-groups/{group}/deck) may be large: 100,000 lines are ~4 MB.
constexpr std::size_t kMaxDeckBody = 64u << 20;

bool deck_upload(const char* url) {
    const std::string_view u(url ? url : "");
    return u.starts_with("/api/rate-groups/") && u.ends_with("/deck");
}

// A vendor's CDR file (POST /api/reconcile) covers at most 7 days: ~250,000 calls.
constexpr std::size_t kMaxReconBody = 16u << 20;

bool recon_upload(const char* url) {
    return std::string_view(url ? url : "") == "/api/reconcile";
}

std::size_t max_body(const char* url) {
    return deck_upload(url) ? kMaxDeckBody : recon_upload(url) ? kMaxReconBody : kMaxBody;
}

// What MHD keeps for one request between its calls of the access handler.
struct Pending {
    std::string body;
    bool too_large = false;
};

struct Listen {
    sockaddr_storage addr{};
    std::uint16_t port = 0;  // also in addr; MHD's messages name this one
    bool v6 = false;
};

std::optional<Listen> parse_listen(const std::string& spec) {
    std::string host;
    std::uint16_t port = 0;
    if (!sip::uv::split_host_port(spec, host, port)) return std::nullopt;
    Listen l;
    l.port = port;
    auto* a4 = reinterpret_cast<sockaddr_in*>(&l.addr);
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&l.addr);
    if (::inet_pton(AF_INET, host.c_str(), &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        return l;
    }
    if (::inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        l.v6 = true;
        return l;
    }
    return std::nullopt;
}

// The client's address as text, and whether it is a loopback one (127/8, ::1, ::ffff:127/104).
void client_address(MHD_Connection* c, sw::api::Request& rq) {
    const MHD_ConnectionInfo* ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return;
    char buf[INET6_ADDRSTRLEN] = {};
    if (ci->client_addr->sa_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(ci->client_addr);
        ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
        rq.loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(ci->client_addr);
        ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
        rq.loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) ||
                      (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && a->sin6_addr.s6_addr[12] == 127);
        if (!IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && !IN6_IS_ADDR_LOOPBACK(&a->sin6_addr)) {
            in6_addr net = a->sin6_addr;  // the failed-login limit counts per /64
            std::memset(net.s6_addr + 8, 0, 8);
            char nb[INET6_ADDRSTRLEN] = {};
            ::inet_ntop(AF_INET6, &net, nb, sizeof nb);
            rq.source_key = std::string(nb) + "/64";
        }
    }
    rq.source = buf;
}

MHD_Result add_query(void* cls, MHD_ValueKind, const char* key, const char* value) {
    auto* q = static_cast<std::vector<std::pair<std::string, std::string>>*>(cls);
    q->emplace_back(key ? key : "", value ? value : "");
    return MHD_YES;
}

// MHD_OPTION_ARRAY's items for HTTPS (pointer options: value 0, the pointer in ptr_value).
// The password comes before the key: MHD decrypts the key with what it has seen so far.
std::array<MHD_OptionItem, 4> https_options(const ApiTlsPem& tls) {
    std::array<MHD_OptionItem, 4> o{};
    std::size_t i = 0;
    auto ptr = [](const std::string& s) { return const_cast<char*>(s.c_str()); };
    if (!tls.key_password.empty())
        o[i++] = {MHD_OPTION_HTTPS_KEY_PASSWORD, 0, ptr(tls.key_password)};
    o[i++] = {MHD_OPTION_HTTPS_MEM_KEY, 0, ptr(tls.key)};
    o[i++] = {MHD_OPTION_HTTPS_MEM_CERT, 0, ptr(tls.cert)};
    o[i] = {MHD_OPTION_END, 0, nullptr};
    return o;
}

MHD_Result respond(MHD_Connection* c, const sw::api::Response& r) {
    MHD_Response* resp = MHD_create_response_from_buffer(
        r.body.size(), const_cast<char*>(r.body.data()), MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
    // API answers are never cached (calls, balances); the console's files say their own
    bool cache_control = false;
    for (const auto& [name, value] : r.headers) {
        MHD_add_response_header(resp, name.c_str(), value.c_str());
        cache_control = cache_control || name == MHD_HTTP_HEADER_CACHE_CONTROL;
    }
    if (!cache_control) MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    const MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(r.status), resp);
    MHD_destroy_response(resp);
    return ok;
}

}  // namespace

struct HttpServer::Impl {
    sip::uv::Loop& loop;
    Handler handler;
    MHD_Daemon* daemon = nullptr;
    std::unique_ptr<sip::uv::Poll> poll;
    sip::uv::Timer timer;
    std::string last_error;  // MHD's own message, for start()'s error
    // MHD keeps the pointers given with MHD_OPTION_HTTPS_MEM_*, it does not copy the text:
    // these live until the daemon is stopped.
    std::optional<ApiTlsPem> tls;

    Impl(sip::uv::Loop& l, Handler h)
        : loop(l), handler(std::move(h)), timer(l, [this] { run(); }) {}

    // MHD's work for this moment, then its next deadline (0: more is ready now).
    void run() {
        if (!daemon) return;
        MHD_run(daemon);
        MHD_UNSIGNED_LONG_LONG ms = 0;
        if (MHD_get_timeout(daemon, &ms) == MHD_YES)
            timer.arm_after(std::chrono::milliseconds(ms));
        else
            timer.cancel();
    }

    static void log(void* cls, const char* fmt, va_list ap) {
        char buf[512];
        std::vsnprintf(buf, sizeof buf, fmt, ap);
        std::string& e = static_cast<Impl*>(cls)->last_error;
        e = buf;
        while (!e.empty() && (e.back() == '\n' || e.back() == '\r')) e.pop_back();
    }

    static void completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
        delete static_cast<Pending*>(*con_cls);
        *con_cls = nullptr;
    }

    // MHD calls this once with the headers, once per body chunk, then once more to answer.
    static MHD_Result access(void* cls, MHD_Connection* c, const char* url, const char* method,
                             const char*, const char* upload, size_t* upload_size, void** con_cls) {
        auto* p = static_cast<Pending*>(*con_cls);
        if (!p) {
            *con_cls = new Pending;
            return MHD_YES;
        }
        if (*upload_size != 0) {
            if (p->body.size() + *upload_size > max_body(url))
                p->too_large = true;
            else
                p->body.append(upload, *upload_size);
            *upload_size = 0;
            return MHD_YES;
        }
        if (p->too_large) {
            sw::api::Response r;
            r.status = 413;
            r.body = deck_upload(url)    ? "{\"error\":\"a deck is at most 64 MiB\"}\n"
                     : recon_upload(url) ? "{\"error\":\"a vendor CDR file is at most 16 MiB\",\"field\":\"file\"}\n"
                                         : "{\"error\":\"the body is larger than 1 MiB\"}\n";
            return respond(c, r);
        }
        sw::api::Request rq;
        rq.method = method;
        rq.path = url;
        const char* auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        rq.authorization = auth ? auth : "";
        const char* if_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MATCH);
        rq.if_match = if_match ? if_match : "";
        const char* none = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
        rq.if_none_match = none ? none : "";
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, &add_query, &rq.query);
        client_address(c, rq);
        rq.body = p->body;
        return respond(c, static_cast<Impl*>(cls)->handler(rq));
    }
};

// Debian's libmicrohttpd is built with GnuTLS, but a build without it would otherwise fail
// with "HTTPS not supported" or, worse, ignore the key: say what is missing instead.
std::string HttpServer::tls_unavailable(const ApiTlsPem& tls) {
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return "api: [api] tls_cert and tls_key are set, but this libmicrohttpd was built "
               "without TLS (GnuTLS); remove them or install a libmicrohttpd with HTTPS";
    if (!tls.key_password.empty() &&
        MHD_is_feature_supported(MHD_FEATURE_HTTPS_KEY_PASSWORD) != MHD_YES)
        return "api: [api] tls_key_password is set, but this libmicrohttpd cannot decrypt "
               "keys; give an unencrypted key";
    return {};
}

HttpServer::HttpServer(sip::uv::Loop& loop, Handler handler)
    : impl_(std::make_unique<Impl>(loop, std::move(handler))) {}

HttpServer::~HttpServer() {
    stop();
}

std::string HttpServer::start(const std::string& listen, const ApiTlsPem* tls) {
    auto l = parse_listen(listen);
    if (!l) return "api: '" + listen + "' is not ADDRESS:PORT with an IP address";
    Impl& m = *impl_;
    if (tls) {
        if (std::string e = tls_unavailable(*tls); !e.empty()) return e;
        m.tls = *tls;
    }
    std::array<MHD_OptionItem, 4> tls_options{};  // all MHD_OPTION_END (0) without TLS
    if (m.tls) tls_options = https_options(*m.tls);
    // MHD_USE_EPOLL without MHD_USE_INTERNAL_POLLING_THREAD: no thread; we drive MHD_run().
    // No MHD_OPTION_LISTENING_ADDRESS_REUSE: that is SO_REUSEPORT, which would let a second
    // trunkline share the port silently; MHD's default SO_REUSEADDR allows a quick restart.
    const unsigned flags =
        MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (l->v6 ? MHD_USE_IPv6 : 0) | (m.tls ? MHD_USE_TLS : 0);
    m.daemon = MHD_start_daemon(
        flags, l->port, nullptr, nullptr, &Impl::access, &m, MHD_OPTION_SOCK_ADDR, &l->addr,
        MHD_OPTION_NOTIFY_COMPLETED, &Impl::completed, nullptr, MHD_OPTION_CONNECTION_LIMIT,
        64u, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_EXTERNAL_LOGGER, &Impl::log, &m,
        MHD_OPTION_ARRAY, tls_options.data(), MHD_OPTION_END);
    if (!m.daemon) {
        m.tls.reset();
        return "api: cannot listen on " + listen + (tls ? " with TLS" : "") +
               (m.last_error.empty() ? "" : ": " + m.last_error);
    }
    const MHD_DaemonInfo* info = MHD_get_daemon_info(m.daemon, MHD_DAEMON_INFO_EPOLL_FD);
    m.poll = std::make_unique<sip::uv::Poll>(m.loop, info ? info->epoll_fd : -1, [&m] { m.run(); });
    if (!m.poll->ok()) {
        stop();
        return "api: cannot watch libmicrohttpd's epoll descriptor";
    }
    m.run();
    return {};
}

void HttpServer::stop() {
    Impl& m = *impl_;
    m.timer.cancel();
    m.poll.reset();  // out of libuv's epoll set before MHD closes the descriptor
    if (m.daemon) MHD_stop_daemon(m.daemon);
    m.daemon = nullptr;
    m.tls.reset();  // only now: MHD may read the PEM text until it has stopped
}

bool HttpServer::running() const noexcept {
    return impl_->daemon != nullptr;
}

bool HttpServer::tls() const noexcept {
    return impl_->daemon != nullptr && impl_->tls.has_value();
}

}  // namespace wiring

// c-ares 1.18 on libuv: ARES_OPT_SOCK_STATE_CB tells which sockets to watch (one uv_poll
// each), ares_process_fd() runs on readiness and on the timer, ares_timeout() bounds the
// timer. Queries go out with ares_send() so the raw answer (TTLs of every record type)
// reaches route::domain::parse_dns_answer.
//
// Rcodes (issue 12 item 7): c-ares checks answers itself and, on SERVFAIL or REFUSED, moves
// to the next server; when none is left it reports ARES_ECONNREFUSED, the same status as an
// unreachable server, so the cache saw a timeout. Every channel here sets
// ARES_FLAG_NOCHECKRESP, so an answer with any rcode comes back as it is and the cache
// classifies it (SERVFAIL, REFUSED, NXDOMAIN). Failing over to the next server is done
// here instead: one channel per server, and a query whose server answered SERVFAIL or
// REFUSED, timed out or refused the connection is sent to the next one; the last server's
// outcome is the query's.
#include "route/domain/ares/resolver.hpp"

#include <ares.h>

#include <algorithm>
#include <unordered_map>
#include <vector>

namespace route::domain::ares {

struct Resolver::Impl {
    struct Channel {
        Impl* owner = nullptr;
        ares_channel channel = nullptr;
    };
    struct Poll {
        uv_poll_t handle;
        Channel* chan;
        ares_socket_t fd;
    };
    struct QueryCtx {
        Impl* owner;
        QueryId id;
        std::vector<unsigned char> query;  // resent as is to the next server
        std::size_t server = 0;            // index into channels
    };

    uv_loop_t* loop = nullptr;
    DomainCache& cache;
    std::vector<std::unique_ptr<Channel>> channels;  // one per server, in order
    uv_timer_t* timer = nullptr;
    std::unordered_map<ares_socket_t, Poll*> polls;
    std::function<void(const Action&)> observer;
    bool destroying = false;
    bool pumping = false;

    Impl(uv_loop_t* l, DomainCache& c) : loop(l), cache(c) {}

    Instant now() const { return sip::instant_ms(static_cast<std::int64_t>(uv_now(loop))); }

    static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
        auto* chan = static_cast<Channel*>(data);
        Impl* self = chan->owner;
        auto it = self->polls.find(fd);
        if (!readable && !writable) {
            if (it != self->polls.end()) {
                uv_poll_stop(&it->second->handle);
                uv_close(reinterpret_cast<uv_handle_t*>(&it->second->handle),
                         [](uv_handle_t* h) { delete static_cast<Poll*>(h->data); });
                self->polls.erase(it);
            }
            return;
        }
        Poll* p = nullptr;
        if (it == self->polls.end()) {
            p = new Poll{};
            p->chan = chan;
            p->fd = fd;
            p->handle.data = p;
            if (uv_poll_init_socket(self->loop, &p->handle, fd) != 0) {
                delete p;
                return;
            }
            self->polls.emplace(fd, p);
        } else {
            p = it->second;
        }
        const int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
        uv_poll_start(&p->handle, events, on_poll);
    }

    static void on_poll(uv_poll_t* h, int status, int events) {
        auto* p = static_cast<Poll*>(h->data);
        Channel* chan = p->chan;
        Impl* self = chan->owner;
        const ares_socket_t fd = p->fd;  // `p` may be closed inside ares_process_fd
        const bool err = status < 0;
        ares_process_fd(chan->channel, (err || (events & UV_READABLE)) ? fd : ARES_SOCKET_BAD,
                        (err || (events & UV_WRITABLE)) ? fd : ARES_SOCKET_BAD);
        self->pump();
    }

    static void on_timer(uv_timer_t* t) {
        auto* self = static_cast<Impl*>(t->data);
        for (auto& c : self->channels)  // c-ares timeouts
            ares_process_fd(c->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        self->cache.handle_timeouts(self->now());
        self->pump();
    }

    // RFC 1035 §4.1.1 RCODE of a raw answer (0 when too short to say).
    static int rcode_of(const unsigned char* abuf, int alen) {
        return alen >= 4 ? (abuf[3] & 0x0F) : 0;
    }

    static void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
        auto* ctx = static_cast<QueryCtx*>(arg);
        Impl* self = ctx->owner;
        if (status == ARES_EDESTRUCTION || self->destroying) {
            delete ctx;
            return;
        }
        const bool answered = status == ARES_SUCCESS && abuf != nullptr && alen > 0;
        const int rcode = answered ? rcode_of(abuf, alen) : 0;
        // This server failed (SERVFAIL / REFUSED, RFC 1035 §4.1.1; no answer at all): the
        // next one gets the same query, as c-ares would do itself without NOCHECKRESP.
        const bool server_failed = answered
                                       ? (rcode == 2 || rcode == 5)
                                       : (status == ARES_ETIMEOUT || status == ARES_ECONNREFUSED);
        if (server_failed && ctx->server + 1 < self->channels.size()) {
            ++ctx->server;
            ares_send(self->channels[ctx->server]->channel, ctx->query.data(),
                      static_cast<int>(ctx->query.size()), on_answer, ctx);
            return;
        }
        const QueryId id = ctx->id;
        delete ctx;
        const Instant now = self->now();
        if (answered) {
            self->cache.on_answer(id, {abuf, static_cast<std::size_t>(alen)}, now);
            return;
        }
        QueryFailure why = QueryFailure::Other;
        switch (status) {
            case ARES_ETIMEOUT:
            case ARES_ECONNREFUSED:
                why = QueryFailure::Timeout;  // no server answered
                break;
            case ARES_ESERVFAIL:  // not with NOCHECKRESP; kept for other c-ares versions
                why = QueryFailure::ServFail;
                break;
            case ARES_EREFUSED:
                why = QueryFailure::Refused;
                break;
            default:
                break;
        }
        self->cache.on_failure(id, why, now);
    }

    void send(const SendQuery& q) {
        unsigned char* buf = nullptr;
        int len = 0;
        if (ares_create_query(q.name.c_str(), 1 /* C_IN */, static_cast<int>(q.type), 0, 1, &buf,
                              &len, 0) != ARES_SUCCESS) {
            cache.on_failure(q.id, QueryFailure::Other, now());
            return;
        }
        auto* ctx = new QueryCtx{this, q.id, std::vector<unsigned char>(buf, buf + len), 0};
        ares_free_string(buf);
        ares_send(channels.front()->channel, ctx->query.data(), static_cast<int>(ctx->query.size()),
                  on_answer, ctx);
    }

    void pump() {
        if (pumping) return;  // an observer called kick()
        pumping = true;
        for (;;) {
            auto a = cache.poll();
            if (!a) break;
            if (auto* q = std::get_if<SendQuery>(&*a)) {
                send(*q);
            } else if (observer) {
                observer(*a);
            }
        }
        pumping = false;
        rearm();
    }

    void rearm() {
        std::optional<std::int64_t> ms;
        for (auto& c : channels) {
            timeval tv{};
            if (ares_timeout(c->channel, nullptr, &tv) != nullptr) {
                const std::int64_t m =
                    static_cast<std::int64_t>(tv.tv_sec) * 1000 + (tv.tv_usec + 999) / 1000;
                ms = ms ? std::min(*ms, m) : m;
            }
        }
        if (auto d = cache.next_deadline()) {
            const Instant n = now();
            const std::int64_t c =
                *d <= n ? 0 : std::chrono::ceil<std::chrono::milliseconds>(*d - n).count();
            ms = ms ? std::min(*ms, c) : c;
        }
        if (ms) {
            uv_timer_start(timer, on_timer,
                           static_cast<std::uint64_t>(std::max<std::int64_t>(*ms, 0)), 0);
        } else {
            uv_timer_stop(timer);
        }
    }

    // A channel with our options; nullptr + *error on failure.
    Channel* add_channel(const ResolverConfig& config, std::string* error) {
        auto c = std::make_unique<Channel>();
        c->owner = this;
        ares_options opts{};
        opts.sock_state_cb = &Impl::on_sock_state;
        opts.sock_state_cb_data = c.get();
        opts.timeout = static_cast<int>(config.timeout.count());
        opts.tries = std::max(config.tries, 1);
        opts.flags = ARES_FLAG_NOCHECKRESP;
        const int mask =
            ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
        if (int rc = ares_init_options(&c->channel, &opts, mask); rc != ARES_SUCCESS) {
            if (error) *error = std::string("c-ares init: ") + ares_strerror(rc);
            return nullptr;
        }
        channels.push_back(std::move(c));
        return channels.back().get();
    }

    ~Impl() {
        for (auto& c : channels)
            if (c->channel) ares_destroy(c->channel);
    }
};

std::unique_ptr<Resolver> Resolver::create(uv_loop_t* loop, DomainCache& cache,
                                           const ResolverConfig& config, std::string* error) {
    static const int lib = ares_library_init(ARES_LIB_INIT_ALL);
    if (lib != ARES_SUCCESS) {
        if (error) *error = std::string("c-ares: ") + ares_strerror(lib);
        return nullptr;
    }
    auto impl = std::make_unique<Impl>(loop, cache);
    if (!config.servers.empty()) {
        for (const auto& s : config.servers) {
            Impl::Channel* c = impl->add_channel(config, error);
            if (!c) return nullptr;
            if (int rc = ares_set_servers_ports_csv(c->channel, s.c_str()); rc != ARES_SUCCESS) {
                if (error) *error = "c-ares server '" + s + "': " + ares_strerror(rc);
                return nullptr;
            }
        }
    } else {
        // /etc/resolv.conf: one channel reads it; with several servers each gets its own.
        Impl::Channel* first = impl->add_channel(config, error);
        if (!first) return nullptr;
        ares_addr_port_node* servers = nullptr;
        if (ares_get_servers_ports(first->channel, &servers) == ARES_SUCCESS && servers &&
            servers->next) {
            std::vector<ares_addr_port_node> list;
            for (ares_addr_port_node* n = servers; n != nullptr; n = n->next)
                list.push_back(*n);
            for (std::size_t i = 0; i < list.size(); ++i) {
                Impl::Channel* c = i == 0 ? first : impl->add_channel(config, error);
                if (!c) {
                    ares_free_data(servers);
                    return nullptr;
                }
                ares_addr_port_node one = list[i];
                one.next = nullptr;
                ares_set_servers_ports(c->channel, &one);
            }
        }
        if (servers) ares_free_data(servers);
    }
    impl->timer = new uv_timer_t;
    uv_timer_init(loop, impl->timer);
    impl->timer->data = impl.get();
    return std::unique_ptr<Resolver>(new Resolver(std::move(impl)));
}

Resolver::Resolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Resolver::~Resolver() {
    impl_->destroying = true;
    for (auto& c : impl_->channels) {  // cancels queries; the state callback closes the polls
        ares_destroy(c->channel);
        c->channel = nullptr;
    }
    for (auto& [fd, p] : impl_->polls) {
        uv_poll_stop(&p->handle);
        uv_close(reinterpret_cast<uv_handle_t*>(&p->handle),
                 [](uv_handle_t* h) { delete static_cast<Impl::Poll*>(h->data); });
    }
    uv_timer_stop(impl_->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(impl_->timer),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
}

Instant Resolver::now() const {
    return impl_->now();
}

void Resolver::kick() {
    impl_->pump();
}

void Resolver::set_observer(std::function<void(const Action&)> observer) {
    impl_->observer = std::move(observer);
}

}  // namespace route::domain::ares

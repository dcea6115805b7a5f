// c-ares 1.18 on libuv: ARES_OPT_SOCK_STATE_CB tells which sockets to watch (one uv_poll
// each), ares_process_fd() runs on readiness and on the timer, ares_timeout() bounds the
// timer. Queries go out with ares_send() so the raw answer (TTLs of every record type)
// reaches route::domain::parse_dns_answer.
#include "route/domain/ares/resolver.hpp"

#include <ares.h>

#include <algorithm>
#include <unordered_map>

namespace route::domain::ares {

struct Resolver::Impl {
    struct Poll {
        uv_poll_t handle;
        Impl* owner;
        ares_socket_t fd;
    };
    struct QueryCtx {
        Impl* owner;
        QueryId id;
    };

    uv_loop_t* loop = nullptr;
    DomainCache& cache;
    ares_channel channel = nullptr;
    uv_timer_t* timer = nullptr;
    std::unordered_map<ares_socket_t, Poll*> polls;
    std::function<void(const Action&)> observer;
    bool destroying = false;
    bool pumping = false;

    Impl(uv_loop_t* l, DomainCache& c) : loop(l), cache(c) {}

    Instant now() const { return sip::instant_ms(static_cast<std::int64_t>(uv_now(loop))); }

    static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
        auto* self = static_cast<Impl*>(data);
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
            p->owner = self;
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
        Impl* self = p->owner;
        const ares_socket_t fd = p->fd;  // `p` may be closed inside ares_process_fd
        const bool err = status < 0;
        ares_process_fd(self->channel, (err || (events & UV_READABLE)) ? fd : ARES_SOCKET_BAD,
                        (err || (events & UV_WRITABLE)) ? fd : ARES_SOCKET_BAD);
        self->pump();
    }

    static void on_timer(uv_timer_t* t) {
        auto* self = static_cast<Impl*>(t->data);
        ares_process_fd(self->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // c-ares timeouts
        self->cache.handle_timeouts(self->now());
        self->pump();
    }

    static void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
        auto* ctx = static_cast<QueryCtx*>(arg);
        Impl* self = ctx->owner;
        const QueryId id = ctx->id;
        delete ctx;
        if (status == ARES_EDESTRUCTION || self->destroying) return;
        const Instant now = self->now();
        if (status == ARES_SUCCESS && abuf != nullptr && alen > 0) {
            self->cache.on_answer(id, {abuf, static_cast<std::size_t>(alen)}, now);
            return;
        }
        QueryFailure why = QueryFailure::Other;
        switch (status) {
            case ARES_ETIMEOUT:
            case ARES_ECONNREFUSED:
                why = QueryFailure::Timeout;
                break;  // no server answered
            case ARES_ESERVFAIL:
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
        ares_send(channel, buf, len, on_answer, new QueryCtx{this, q.id});
        ares_free_string(buf);
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
        timeval tv{};
        if (ares_timeout(channel, nullptr, &tv) != nullptr) {
            ms = static_cast<std::int64_t>(tv.tv_sec) * 1000 + (tv.tv_usec + 999) / 1000;
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
};

std::unique_ptr<Resolver> Resolver::create(uv_loop_t* loop, DomainCache& cache,
                                           const ResolverConfig& config, std::string* error) {
    static const int lib = ares_library_init(ARES_LIB_INIT_ALL);
    if (lib != ARES_SUCCESS) {
        if (error) *error = std::string("c-ares: ") + ares_strerror(lib);
        return nullptr;
    }
    auto impl = std::make_unique<Impl>(loop, cache);
    ares_options opts{};
    opts.sock_state_cb = &Impl::on_sock_state;
    opts.sock_state_cb_data = impl.get();
    opts.timeout = static_cast<int>(config.timeout.count());
    opts.tries = std::max(config.tries, 1);
    const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    if (int rc = ares_init_options(&impl->channel, &opts, mask); rc != ARES_SUCCESS) {
        if (error) *error = std::string("c-ares init: ") + ares_strerror(rc);
        return nullptr;
    }
    if (!config.servers.empty()) {
        std::string csv;
        for (const auto& s : config.servers) {
            if (!csv.empty()) csv += ',';
            csv += s;
        }
        if (int rc = ares_set_servers_ports_csv(impl->channel, csv.c_str()); rc != ARES_SUCCESS) {
            if (error) *error = "c-ares servers '" + csv + "': " + ares_strerror(rc);
            ares_destroy(impl->channel);
            return nullptr;
        }
    }
    impl->timer = new uv_timer_t;
    uv_timer_init(loop, impl->timer);
    impl->timer->data = impl.get();
    return std::unique_ptr<Resolver>(new Resolver(std::move(impl)));
}

Resolver::Resolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Resolver::~Resolver() {
    impl_->destroying = true;
    ares_destroy(impl_->channel);  // cancels queries; the state callback closes the polls
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

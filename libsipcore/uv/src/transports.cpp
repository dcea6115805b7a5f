// UDP/TCP/TLS transports on libuv (see transports.hpp for the contract).
#include "sip/uv/transports.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <iterator>
#include <unordered_map>
#include <utility>

#include "addr.hpp"
#include "sip/framer.hpp"

namespace sip::uv {

using detail::host_port;
using detail::make_sockaddr;
using detail::sockaddr_parts;
using detail::source_key;

namespace {

std::uint64_t ms_of(Duration d) {
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(d).count();
    return ms > 0 ? static_cast<std::uint64_t>(ms) : 0;
}

std::string err_text(int rc) {
    return uv_strerror(rc);
}

// Only CR and LF: a keep-alive over UDP (RFC 5626 §4.4.1 uses STUN there, but many UAs send
// CRLFs); never a message, so it is dropped silently.
bool only_crlf(std::string_view s) {
    return s.find_first_not_of("\r\n") == std::string_view::npos;
}

}  // namespace

struct Conn;

struct Failure {
    std::uint64_t tag;
    Target to;
    std::string reason;
};

// A datagram waiting for the end of the loop iteration, when every datagram queued on the
// socket goes out in one sendmmsg() (libuv sends one datagram per system call).
struct PendingDgram {
    union {
        sockaddr sa;
        sockaddr_in v4;
        sockaddr_in6 v6;
    } to;
    Bytes bytes;
    std::uint64_t tag = 0;

    Target target() const {  // for a failure report
        Target t;
        t.transport = sip::Transport::Udp;
        sockaddr_parts(&to.sa, t.host, t.port);
        return t;
    }
};

// A UDP socket of our own, watched by a uv_poll_t: libuv's uv_udp_t ends every wake-up with a
// receive that fails with EAGAIN (one system call more per wake-up, the most at low rates),
// and sends one datagram per system call; here a recvmmsg() that fills fewer slots than it
// offered ends the read (epoll is level-triggered: more data wakes the loop again), and sends
// go out in one sendmmsg() per batch, waiting for POLLOUT only when the kernel buffer is full.
struct UdpSock {
    uv_poll_t h;
    int fd = -1;
    bool closing = false;
    bool want_writable = false;  // what the poll handle watches besides reading
    Transports::Impl* impl = nullptr;
    int family = AF_INET;
    std::string name;  // "UDP 127.0.0.1:5060" for log lines
    std::vector<PendingDgram> pending;  // until the end of the loop iteration
    std::vector<PendingDgram> blocked;  // the kernel buffer was full: sent on POLLOUT, in order
};

struct TcpListener {
    uv_tcp_t h;
    Transports::Impl* impl = nullptr;
    sip::Transport transport = sip::Transport::Tcp;
    std::string name;
};

struct WriteReq {
    uv_write_t req;
    Conn* conn = nullptr;
    Bytes bytes;         // TCP: the caller's shared bytes, written without a copy
    std::string cipher;  // TLS: records owned here until the write completes
    std::size_t size = 0;
    bool has_tag = false;  // pongs and TLS handshake records carry no tag
    std::uint64_t tag = 0;
};

struct Pending {
    Bytes bytes;
    std::uint64_t tag;
};

struct Conn {
    enum class State : std::uint8_t { Connecting, Handshaking, Open, Closing };

    uv_tcp_t h;
    uv_connect_t connect;
    Transports::Impl* impl = nullptr;
    std::uint64_t id = 0;
    State state = State::Connecting;
    bool outbound = false;
    bool draining = false;  // shutdown(): close once the writes complete
    bool overflow_logged = false;
    bool admitted = false;     // inbound, counted by the StreamGuard under `source`
    bool msg_pending = false;  // a message (or TLS record) has begun and not ended
    Target peer;      // transport, host, port, conn = id, tls_name
    std::string key;  // reuse key (see key_of)
    std::string source;  // inbound: the StreamGuard's key (address, or IPv6 /64)
    StreamFramer framer;
    std::unique_ptr<TlsSession> tls;
    std::deque<Pending> queue;  // sends waiting for connect / handshake
    std::size_t queued_bytes = 0;
    std::uint64_t started_ms = 0;
    std::uint64_t last_ms = 0;
    std::uint64_t msg_started_ms = 0;  // when msg_pending began
    std::uint64_t frames = 0;          // frames (messages, pings, pongs) read so far
    std::string close_reason;

    explicit Conn(const ParseLimits& l) : framer(l) {}
    uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&h); }
    std::size_t backlog() {
        return queued_bytes +
               (state == State::Closing ? 0 : uv_stream_get_write_queue_size(stream()));
    }
};

struct Transports::Impl {
    uv_loop_t* loop = nullptr;
    TransportsConfig cfg;
    TransportHandlers handlers;
    TransportCounters counters;

    std::shared_ptr<TlsContext> tls_server;
    std::shared_ptr<TlsContext> tls_client;
    StreamGuard guard;  // per-source admission, who gives way at max_connections

    std::vector<UdpSock*> udp;  // listeners first, then ephemeral senders
    std::vector<TcpListener*> tcp;
    std::vector<uv_handle_t*> listener_of;  // by cfg.listen index (null if not bound)
    std::vector<int> udp_fd_of;             // by cfg.listen index (-1 if not a bound UDP one)
    std::unordered_map<std::uint64_t, Conn*> conns;
    std::unordered_map<std::string, std::uint64_t> by_key;
    std::uint64_t next_id = 1;

    uv_timer_t sweep;
    uv_timer_t defer;
    uv_timer_t flush_bound;
    uv_prepare_t udp_flusher;  // before the loop blocks: every socket's pending datagrams go out
    static constexpr std::size_t kSendBatch = 64;
    std::vector<Failure> failures;
    std::function<void()> shutdown_done;
    bool done_pending = false;
    bool in_defer = false;

    std::size_t handles = 0;  // open libuv handles; the Impl frees itself when 0 and dead
    bool dead = false;
    bool started = false;
    bool stopping = false;

    const Bytes pong = make_bytes("\r\n");  // RFC 5626 §3.5.1 keep-alive answer
    // One read buffer: libuv reads a stream into it and the callback consumes it; read_udp()
    // splits it into 64 KiB slots, one datagram each: up to 32 datagrams per recvmmsg(), more
    // than a wake-up brings but under overload (SIPp sends its 2,000/s in bursts of 8, which
    // filled the 8 slots libuv offered, so every wake-up took a second call to find no more).
    // Only the pages that datagrams touch become resident.
    static constexpr std::size_t kReadBuffer = 32 * 65536;
    static constexpr std::size_t kReadSlot = 65536;  // the largest UDP payload fits
    static constexpr std::size_t kReadSlots = kReadBuffer / kReadSlot;
    std::unique_ptr<char[]> rbuf{new char[kReadBuffer]};
    // read_udp()'s recvmmsg() vector over rbuf, set up once: a call only re-arms the address
    // lengths of the slots the previous call filled (set up per call, it cost more than the
    // parse of a small request at a few requests per wake-up).
    struct ReadSlots {
        mmsghdr msgs[kReadSlots];
        iovec iov[kReadSlots];
        sockaddr_storage from[kReadSlots];
        std::size_t filled = 0;  // by the last call: their msg_namelen is the kernel's
    };
    std::unique_ptr<ReadSlots> rslots = make_read_slots(rbuf.get());
    static std::unique_ptr<ReadSlots> make_read_slots(char* buf) {
        auto r = std::make_unique<ReadSlots>();
        for (std::size_t i = 0; i < kReadSlots; ++i) {
            r->iov[i].iov_base = buf + i * kReadSlot;
            r->iov[i].iov_len = kReadSlot;
            r->msgs[i] = mmsghdr{};
            r->msgs[i].msg_hdr.msg_name = &r->from[i];
            r->msgs[i].msg_hdr.msg_namelen = sizeof r->from[i];
            r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
            r->msgs[i].msg_hdr.msg_iovlen = 1;
        }
        return r;
    }

    // --- bookkeeping

    void handle_closed() {
        if (--handles == 0 && dead) delete this;
    }
    template <class H>
    void close_handle(H* h, uv_close_cb cb) {
        uv_close(reinterpret_cast<uv_handle_t*>(h), cb);
    }
    std::uint64_t now_ms() const { return uv_now(loop); }
    Instant now_instant() const { return instant_ms(static_cast<std::int64_t>(uv_now(loop))); }

    void event(std::string_view line) {
        if (!dead && handlers.on_event) handlers.on_event(line);
    }
    void conn_event(const Conn& c, std::string_view what) {
        if (dead || !handlers.on_event) return;
        std::string s(transport_name(c.peer.transport));
        s += ' ';
        s += host_port(c.peer.host, c.peer.port);
        s += " conn ";
        s += std::to_string(c.id);
        s += c.outbound ? " (out): " : " (in): ";
        s += what;
        handlers.on_event(s);
    }

    // Failures are reported from a zero-delay timer, never from inside send(): the driver may
    // be in the middle of draining the transaction layer when it calls send().
    void fail(std::uint64_t tag, const Target& to, std::string reason) {
        if (dead) return;
        ++counters.send_failures;
        failures.push_back({tag, to, std::move(reason)});
        // From inside on_defer (a handler that resends on failure), wait 1 ms: libuv 1.44
        // would rerun a 0 ms timer in the same pass and never get to I/O.
        if (failures.size() == 1) uv_timer_start(&defer, on_defer, in_defer ? 1 : 0, 0);
    }
    static void on_defer(uv_timer_t* t) {
        auto* I = static_cast<Impl*>(t->data);
        std::vector<Failure> batch;
        batch.swap(I->failures);
        I->in_defer = true;
        for (const Failure& f : batch) {
            if (I->dead) return;
            if (I->handlers.on_send_failed) I->handlers.on_send_failed(f.tag, f.to, f.reason);
        }
        I->in_defer = false;
        if (I->done_pending && !I->dead) {
            I->done_pending = false;
            auto done = std::move(I->shutdown_done);
            if (done) done();
        }
    }

    static std::string key_of(sip::Transport t, std::string_view host, std::uint16_t port,
                              std::string_view tls_name) {
        std::string k(transport_name(t));
        k += '|';
        k += host;
        k += '|';
        k += std::to_string(port);
        if (t == sip::Transport::Tls) {
            k += '|';
            k += tls_name;
        }
        return k;
    }

    // --- start

    std::string start();
    std::string listen_udp(const Listener& l, std::size_t index);
    void flush_udp(UdpSock* u);
    std::size_t send_udp(UdpSock* u, std::vector<PendingDgram>& batch);
    void on_udp_writable(UdpSock* u);
    void watch_udp(UdpSock* u, bool writable);
    void read_udp(UdpSock* u);
    UdpSock* open_udp(const sockaddr_storage& sa, std::string name, std::string& error,
                      bool reuse_port = false);
    void close_udp(UdpSock* u);
    void flush_all_udp() {
        for (UdpSock* u : udp)
            if (!u->pending.empty()) flush_udp(u);
    }
    std::string listen_stream(const Listener& l, std::size_t index);
    UdpSock* udp_for(int family, std::string& error);
    static bool port_free(const sockaddr_storage& sa, std::string& error);

    // --- connections

    Conn* new_conn(sip::Transport t);
    Conn* connect_to(const Target& to, const std::string& host, const std::string& key,
                     std::string& error);
    void opened(Conn* c);
    void enqueue(Conn* c, Bytes bytes, std::uint64_t tag);
    void write_open(Conn* c, Bytes bytes, std::uint64_t tag);
    bool write_raw(Conn* c, WriteReq* w);
    void flush_tls(Conn* c);
    void flush_queue(Conn* c);
    void on_bytes(Conn* c, std::string_view data);
    void deliver(Conn* c, std::string_view data);
    void track_message(Conn* c, std::uint64_t frames_before);
    void close_conn(Conn* c, std::string reason);
    // --- admission (sip::StreamGuard)
    void accept_conn(TcpListener* L, Conn* c);
    void refuse(Conn* c);
    bool evict_one(const std::string& source);
    void on_sweep();
    void guard_reports() {
        while (auto line = guard.poll_report(now_instant()))
            event(*line);
    }
    void maybe_finish_shutdown();

    static void on_conn_closed(uv_handle_t* h) {
        auto* c = static_cast<Conn*>(h->data);
        Impl* I = c->impl;
        delete c;
        I->handle_closed();
    }
};

// ---------------------------------------------------------------------------------------
// Listening

std::string Transports::Impl::listen_udp(const Listener& l, std::size_t index) {
    std::string host;
    std::uint16_t port = 0;
    sockaddr_storage sa{};
    const std::string name = "UDP " + l.address;
    if (!split_host_port(l.address, host, port) || !make_sockaddr(host, port, sa))
        return "listen " + name + ": not an \"ip:port\" or \"[ipv6]:port\" address";
    std::string error;
    if (cfg.udp_share == UdpPortShare::lead && !port_free(sa, error))
        return "listen " + name + ": " + error;
    UdpSock* u = open_udp(sa, name, error, cfg.udp_share != UdpPortShare::none);
    if (!u) return "listen " + name + ": " + error;
    udp_fd_of[index] = u->fd;
    return {};
}

// A UDP socket bound to `sa` (IPv6 ones v6-only, so "0.0.0.0:5060" and "[::]:5060" can
// both be configured), SO_REUSEPORT set first when asked; -1 and `error` if the kernel refuses.
static int bound_udp_socket(const sockaddr_storage& sa, int type_flags, bool reuse_port,
                            std::string& error) {
    const int fd = ::socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | type_flags, 0);
    if (fd < 0) {
        error = err_text(uv_translate_sys_error(errno));
        return -1;
    }
    const int on = 1;
    if (sa.ss_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
        error = "SO_REUSEPORT: " + err_text(uv_translate_sys_error(errno));
        ::close(fd);
        return -1;
    }
    const socklen_t len = sa.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&sa), len) != 0) {
        error = err_text(uv_translate_sys_error(errno));
        ::close(fd);
        return -1;
    }
    return fd;
}

// Does a plain bind (no SO_REUSEPORT) to `sa` succeed? A port held by another process, even
// one that set SO_REUSEPORT itself, fails it; port 0 always succeeds.
bool Transports::Impl::port_free(const sockaddr_storage& sa, std::string& error) {
    const int fd = bound_udp_socket(sa, 0, false, error);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

// A non-blocking UDP socket bound to `sa`, watched for reading; nullptr and `error` if the
// kernel refuses it.
UdpSock* Transports::Impl::open_udp(const sockaddr_storage& sa, std::string name,
                                    std::string& error, bool reuse_port) {
    const int fd = bound_udp_socket(sa, SOCK_NONBLOCK, reuse_port, error);
    if (fd < 0) return nullptr;
    // A burst of requests must not overflow the kernel's default ~200 KiB queue while the
    // loop is busy; the kernel caps this at net.core.rmem_max.
    const int rcvbuf = 8 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    auto* u = new UdpSock;
    u->impl = this;
    u->fd = fd;
    u->family = sa.ss_family;
    u->name = std::move(name);
    if (int rc = uv_poll_init_socket(loop, &u->h, fd); rc != 0) {
        error = err_text(rc);
        ::close(fd);
        delete u;
        return nullptr;
    }
    u->h.data = u;
    ++handles;
    udp.push_back(u);
    watch_udp(u, false);
    return u;
}

// Readable always; writable too while datagrams wait for room in the kernel buffer.
void Transports::Impl::watch_udp(UdpSock* u, bool writable) {
    u->want_writable = writable;
    uv_poll_start(&u->h, UV_READABLE | (writable ? UV_WRITABLE : 0),
                  [](uv_poll_t* h, int status, int events) {
                      auto* u = static_cast<UdpSock*>(h->data);
                      Impl* I = u->impl;
                      if (status < 0) {
                          // libuv stops the handle on POLLERR; a listener must not go deaf.
                          // The read below takes the socket's pending error (SO_ERROR), so
                          // the loop does not wake for it again.
                          I->event(u->name + ": poll error: " + err_text(status));
                          if (u->closing) return;
                          I->watch_udp(u, u->want_writable);
                          events = UV_READABLE;
                      }
                      if (events & UV_WRITABLE) I->on_udp_writable(u);
                      if ((events & UV_READABLE) && !u->closing) I->read_udp(u);
                  });
}

// Up to kReadRounds recvmmsg() calls of kReadSlots datagrams each; a call that fills fewer
// slots found the queue empty, so no further call is made to learn that (EAGAIN).
void Transports::Impl::read_udp(UdpSock* u) {
    constexpr int kReadRounds = 2;  // then other handles get their turn (libuv: 32 datagrams)
    mmsghdr* const msgs = rslots->msgs;
    const iovec* const iov = rslots->iov;
    const sockaddr_storage* const from = rslots->from;
    for (int round = 0; round < kReadRounds; ++round) {
        for (std::size_t i = 0; i < rslots->filled; ++i)
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        const int n = ::recvmmsg(u->fd, msgs, kReadSlots, MSG_DONTWAIT, nullptr);
        rslots->filled = n > 0 ? static_cast<std::size_t>(n) : 0;
        if (n < 0) {
            const int e = errno;
            if (e == EINTR) continue;
            if (e != EAGAIN && e != EWOULDBLOCK)
                event(u->name + ": receive error: " + err_text(uv_translate_sys_error(e)));
            return;
        }
        for (int i = 0; i < n; ++i) {
            const msghdr& h = msgs[i].msg_hdr;
            const std::string_view bytes(static_cast<const char*>(iov[i].iov_base),
                                         msgs[i].msg_len);
            if ((h.msg_flags & MSG_TRUNC) || bytes.empty() || h.msg_namelen == 0) {
                ++counters.datagrams_dropped;
                continue;
            }
            if (only_crlf(bytes)) continue;
            Target src;
            src.transport = sip::Transport::Udp;
            sockaddr_parts(reinterpret_cast<const sockaddr*>(&from[i]), src.host, src.port);
            ++counters.messages_in;
            counters.bytes_in += bytes.size();
            if (handlers.on_message) handlers.on_message(src, bytes);
            if (dead || u->closing) return;  // a handler closed the transports
        }
        if (static_cast<std::size_t>(n) < kReadSlots) return;
    }
}

// Closes the socket once libuv has let go of its poll handle; the UdpSock goes with it.
void Transports::Impl::close_udp(UdpSock* u) {
    if (u->closing) return;
    u->closing = true;
    for (const PendingDgram& d : u->blocked)  // never got room in the kernel buffer
        fail(d.tag, d.target(), "UDP send failed: the socket closed first");
    u->blocked.clear();
    uv_close(reinterpret_cast<uv_handle_t*>(&u->h), [](uv_handle_t* h) {
        auto* u = static_cast<UdpSock*>(h->data);
        Impl* I = u->impl;
        ::close(u->fd);
        delete u;
        I->handle_closed();
    });
}

std::string Transports::Impl::listen_stream(const Listener& l, std::size_t index) {
    std::string host;
    std::uint16_t port = 0;
    sockaddr_storage sa{};
    const std::string name = std::string(transport_name(l.transport)) + " " + l.address;
    if (!split_host_port(l.address, host, port) || !make_sockaddr(host, port, sa))
        return "listen " + name + ": not an \"ip:port\" or \"[ipv6]:port\" address";
    auto* t = new TcpListener;
    t->impl = this;
    t->transport = l.transport;
    t->name = name;
    uv_tcp_init(loop, &t->h);
    t->h.data = t;
    ++handles;
    tcp.push_back(t);
    const unsigned flags = sa.ss_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
    int rc = uv_tcp_bind(&t->h, reinterpret_cast<sockaddr*>(&sa), flags);
    if (rc == 0) {
        rc = uv_listen(
            reinterpret_cast<uv_stream_t*>(&t->h), static_cast<int>(cfg.limits.listen_backlog),
            [](uv_stream_t* s, int status) {
                auto* L = static_cast<TcpListener*>(s->data);
                Impl* I = L->impl;
                if (status < 0) {
                    I->event(L->name + ": accept error: " + err_text(status));
                    return;
                }
                Conn* c = I->new_conn(L->transport);
                if (uv_accept(s, c->stream()) != 0) {
                    c->state = Conn::State::Closing;
                    uv_close(reinterpret_cast<uv_handle_t*>(&c->h), on_conn_closed);
                    return;
                }
                I->accept_conn(L, c);
            });
    }
    if (rc != 0) return "listen " + name + ": " + err_text(rc);
    listener_of[index] = reinterpret_cast<uv_handle_t*>(&t->h);
    return {};
}

// An accepted socket: admitted (sip::StreamGuard) before any TLS byte is read, or refused.
void Transports::Impl::accept_conn(TcpListener* L, Conn* c) {
    sockaddr_storage peer{};
    int len = sizeof peer;
    if (uv_tcp_getpeername(&c->h, reinterpret_cast<sockaddr*>(&peer), &len) != 0) {
        c->state = Conn::State::Closing;  // gone already (reset before we got to it)
        uv_close(reinterpret_cast<uv_handle_t*>(&c->h), on_conn_closed);
        return;
    }
    if (stopping) {
        ++counters.connections_refused;
        refuse(c);
        return;
    }
    std::string source = source_key(reinterpret_cast<sockaddr*>(&peer));
    const StreamGuard::Decision d = guard.admit(source, now_instant(), conns.size());
    switch (d.verdict) {
        case StreamGuard::Verdict::accept:
            break;
        case StreamGuard::Verdict::evict:
            ++counters.evicted;
            evict_one(d.victim);
            break;
        case StreamGuard::Verdict::per_source:
            ++counters.refused_per_source;
            break;
        case StreamGuard::Verdict::rate:
            ++counters.refused_rate;
            break;
        case StreamGuard::Verdict::full:
            ++counters.connections_refused;
            break;
    }
    guard_reports();
    if (d.verdict != StreamGuard::Verdict::accept && d.verdict != StreamGuard::Verdict::evict) {
        refuse(c);
        return;
    }
    sockaddr_parts(reinterpret_cast<sockaddr*>(&peer), c->peer.host, c->peer.port);
    c->admitted = true;
    c->source = std::move(source);
    c->id = next_id++;
    c->peer.conn = c->id;
    c->key = key_of(L->transport, c->peer.host, c->peer.port, {});
    conns.emplace(c->id, c);
    by_key.emplace(c->key, c->id);  // an outbound one keeps priority
    counters.connections_open = conns.size();
    ++counters.connections_accepted;
    c->started_ms = c->last_ms = now_ms();
    if (L->transport == sip::Transport::Tls) {
        c->tls = std::make_unique<TlsSession>(tls_server);
        c->state = Conn::State::Handshaking;
    } else {
        c->state = Conn::State::Open;
    }
    opened(c);
}

// Refused: reset at once (RST, no TIME_WAIT kept here), nothing read, no TLS.
void Transports::Impl::refuse(Conn* c) {
    c->state = Conn::State::Closing;
    if (uv_tcp_close_reset(&c->h, on_conn_closed) != 0)
        uv_close(reinterpret_cast<uv_handle_t*>(&c->h), on_conn_closed);
}

// Closes the idlest admitted connection of `source` (the guard chose it to give way).
bool Transports::Impl::evict_one(const std::string& source) {
    Conn* victim = nullptr;
    for (auto& [id, c] : conns)
        if (c->admitted && c->state != Conn::State::Closing && c->source == source &&
            (!victim || c->last_ms < victim->last_ms))
            victim = c;
    if (!victim) return false;
    close_conn(victim, "evicted: max_connections reached");
    return true;
}

std::string Transports::Impl::start() {
    if (started) return "transports already started";
    started = true;
    bool wants_tls_server = false;
    for (const Listener& l : cfg.listen)
        wants_tls_server |= l.transport == sip::Transport::Tls;
    std::string err;
    if (wants_tls_server) {
        tls_server = TlsContext::create(cfg.tls, TlsContext::Role::Server, &err);
        if (!tls_server) return "listen TLS: " + err;
    }
    tls_client = TlsContext::create(cfg.tls, TlsContext::Role::Client, &err);
    if (!tls_client) return "TLS client: " + err;
    StreamGuardConfig gc;
    gc.max_connections = cfg.limits.max_connections;
    gc.max_per_source = cfg.limits.max_connections_per_source;
    gc.new_per_second = cfg.limits.new_connections_per_second;
    for (SourceLimit o : cfg.limits.source_limits) {
        std::string key;
        if (!source_key(o.source, key))
            return "source limit '" + o.source +
                   "': not an IPv4 address, an IPv6 address or an IPv6 /64";
        o.source = std::move(key);
        gc.overrides.push_back(std::move(o));
    }
    guard = StreamGuard(std::move(gc));
    listener_of.assign(cfg.listen.size(), nullptr);
    udp_fd_of.assign(cfg.listen.size(), -1);
    for (std::size_t i = 0; i < cfg.listen.size(); ++i) {
        const Listener& l = cfg.listen[i];
        err = l.transport == sip::Transport::Udp ? listen_udp(l, i) : listen_stream(l, i);
        if (!err.empty()) return err;
    }
    // The sweep enforces the idle, message and connect timeouts; its period is a fraction of
    // the shortest, so a timeout fires within ~25% of its value (and at most a second late).
    std::uint64_t shortest =
        std::min(ms_of(cfg.limits.idle_timeout), ms_of(cfg.limits.connect_timeout));
    if (cfg.limits.message_timeout > Duration::zero())
        shortest = std::min(shortest, ms_of(cfg.limits.message_timeout));
    const std::uint64_t period = std::clamp<std::uint64_t>(shortest / 4, 10, 1000);
    uv_timer_start(
        &sweep, [](uv_timer_t* t) { static_cast<Impl*>(t->data)->on_sweep(); }, period, period);
    uv_unref(reinterpret_cast<uv_handle_t*>(&sweep));  // housekeeping never keeps the loop alive
    uv_prepare_start(&udp_flusher,
                     [](uv_prepare_t* p) { static_cast<Impl*>(p->data)->flush_all_udp(); });
    uv_unref(reinterpret_cast<uv_handle_t*>(&udp_flusher));
    return {};
}

void Transports::Impl::on_sweep() {
    const std::uint64_t now = now_ms();
    const std::uint64_t idle = ms_of(cfg.limits.idle_timeout);
    const std::uint64_t conn_to = ms_of(cfg.limits.connect_timeout);
    const std::uint64_t msg_to = ms_of(cfg.limits.message_timeout);
    struct Doomed {
        Conn* c;
        std::string why;
        std::string line;  // the fault to log, if any
        bool deadline = false;
    };
    std::vector<Doomed> doomed;
    for (auto& [id, c] : conns) {
        if (c->state == Conn::State::Connecting && now - c->started_ms >= conn_to) {
            ++counters.connect_failures;
            doomed.push_back({c, "connect timed out", "connect timed out"});
        } else if (c->state == Conn::State::Handshaking && now - c->started_ms >= conn_to) {
            ++counters.handshake_failures;
            doomed.push_back({c, "TLS handshake failed: timed out", "TLS handshake timed out"});
        } else if (c->state == Conn::State::Open && msg_to > 0 && c->msg_pending &&
                   now - c->msg_started_ms >= msg_to) {
            // slowloris: counted and reported once per episode by the guard, not per connection
            ++counters.message_timeouts;
            doomed.push_back({c, "message not complete within message_timeout", {}, true});
        } else if (c->state == Conn::State::Open && now - c->last_ms >= idle) {
            ++counters.idle_closed;
            // A stalled half message is a fault worth one line; plain idleness is not.
            std::string line;
            if (c->framer.buffered() > 0)
                line = "closing: idle with " + std::to_string(c->framer.buffered()) +
                       " bytes of an incomplete message";
            doomed.push_back({c, "idle timeout", std::move(line)});
        }
    }
    // Handlers run only after the walk: they may close connections themselves.
    for (Doomed& d : doomed) {
        if (d.c->state == Conn::State::Closing) continue;
        if (!d.line.empty()) conn_event(*d.c, d.line);
        if (d.deadline)
            guard.deadline_closed(d.c->admitted ? d.c->source : d.c->peer.host, now_instant());
        close_conn(d.c, d.why);
    }
    guard.sweep(now_instant());
    guard_reports();
}

// Sends the socket's pending datagrams, up to kSendBatch per sendmmsg(). While earlier ones
// wait for room in the kernel buffer, these wait behind them, in order.
void Transports::Impl::flush_udp(UdpSock* u) {
    if (u->closing) return;
    std::vector<PendingDgram> batch;
    batch.swap(u->pending);  // a failure handler may send again; that is the next batch
    const std::size_t done = u->blocked.empty() ? send_udp(u, batch) : 0;
    if (done < batch.size()) {
        std::move(batch.begin() + static_cast<std::ptrdiff_t>(done), batch.end(),
                  std::back_inserter(u->blocked));
        if (!u->want_writable) watch_udp(u, true);
    }
    // Hand the emptied vector back when nothing was queued meanwhile: its capacity serves
    // the next batch (swapping it away cost an allocation per flush).
    batch.clear();
    if (u->pending.empty()) u->pending.swap(batch);
}

// The kernel buffer has room again: what waited goes, in order, until it is full again.
void Transports::Impl::on_udp_writable(UdpSock* u) {
    std::vector<PendingDgram> waiting;
    waiting.swap(u->blocked);
    const std::size_t done = send_udp(u, waiting);
    // anything a failure handler queued meanwhile went to `pending`, behind these
    u->blocked.assign(std::make_move_iterator(waiting.begin() + static_cast<std::ptrdiff_t>(done)),
                      std::make_move_iterator(waiting.end()));
    if (u->blocked.empty() && !u->closing) watch_udp(u, false);
}

// Sends `batch` from its start; returns how many were handled (sent, or refused by the kernel
// and reported), fewer than all when the kernel buffer filled.
std::size_t Transports::Impl::send_udp(UdpSock* u, std::vector<PendingDgram>& batch) {
    std::size_t done = 0;
    while (done < batch.size()) {
        const std::size_t n = std::min(batch.size() - done, kSendBatch);
        mmsghdr msgs[kSendBatch];
        iovec iov[kSendBatch];
        for (std::size_t i = 0; i < n; ++i) {
            PendingDgram& d = batch[done + i];
            iov[i].iov_base = const_cast<char*>(d.bytes->data());
            iov[i].iov_len = d.bytes->size();
            msgs[i] = mmsghdr{};
            msgs[i].msg_hdr.msg_name = &d.to.sa;
            msgs[i].msg_hdr.msg_namelen =
                d.to.sa.sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        const int sent = ::sendmmsg(u->fd, msgs, static_cast<unsigned>(n), 0);
        if (sent > 0) {
            done += static_cast<std::size_t>(sent);
            continue;
        }
        const int e = errno;
        if (e == EINTR) continue;
        if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) return done;  // wait for POLLOUT
        const PendingDgram& d = batch[done++];
        const Target to = d.target();
        const std::string why = err_text(uv_translate_sys_error(e));
        event(u->name + ": send to " + host_port(to.host, to.port) + ": " + why);
        fail(d.tag, to, "UDP send failed: " + why);
    }
    return done;
}

UdpSock* Transports::Impl::udp_for(int family, std::string& error) {
    for (UdpSock* u : udp)
        if (u->family == family) return u;
    // No listener of this family: an ephemeral socket, read too so answers come back.
    sockaddr_storage sa{};
    make_sockaddr(family == AF_INET6 ? "::" : "0.0.0.0", 0, sa);
    UdpSock* u = open_udp(sa, family == AF_INET6 ? "UDP [::]:0" : "UDP 0.0.0.0:0", error);
    if (!u) error = "cannot open a UDP socket: " + error;
    return u;
}

// ---------------------------------------------------------------------------------------
// Connections

Conn* Transports::Impl::new_conn(sip::Transport t) {
    auto* c = new Conn(cfg.limits.parse);
    c->impl = this;
    c->peer.transport = t;
    uv_tcp_init(loop, &c->h);
    c->h.data = c;
    c->connect.data = c;
    ++handles;
    return c;
}

Conn* Transports::Impl::connect_to(const Target& to, const std::string& host,
                                   const std::string& key, std::string& error) {
    if (conns.size() >= cfg.limits.max_connections) {
        // our own connection (to a gateway) takes the place of an idle one of a heavy source
        auto victim = guard.victim_for_outbound(now_instant());
        const bool made_room = victim && evict_one(*victim);
        if (made_room) ++counters.evicted;
        guard_reports();
        if (!made_room) {
            error =
                "max_connections (" + std::to_string(cfg.limits.max_connections) + ") reached";
            return nullptr;
        }
    }
    sockaddr_storage sa{};
    if (!make_sockaddr(host, to.port, sa)) {
        error = "'" + to.host + "' is not an IP address";
        return nullptr;
    }
    Conn* c = new_conn(to.transport);
    c->outbound = true;
    c->id = next_id++;
    c->peer.host = host;
    c->peer.port = to.port;
    c->peer.conn = c->id;
    c->peer.tls_name = to.transport == sip::Transport::Tls ? to.tls_name : std::string();
    c->key = key;
    c->started_ms = c->last_ms = now_ms();
    conns.emplace(c->id, c);
    by_key[key] = c->id;
    counters.connections_open = conns.size();
    int rc = uv_tcp_connect(
        &c->connect, &c->h, reinterpret_cast<sockaddr*>(&sa), [](uv_connect_t* req, int status) {
            auto* c = static_cast<Conn*>(req->data);
            Impl* I = c->impl;
            if (status == UV_ECANCELED || c->state == Conn::State::Closing) return;
            if (status < 0) {
                ++I->counters.connect_failures;
                const std::string why = "connect failed: " + err_text(status);
                I->conn_event(*c, why);
                I->close_conn(c, why);
                return;
            }
            ++I->counters.connections_opened;
            c->last_ms = I->now_ms();
            if (c->peer.transport == sip::Transport::Tls) {
                // Verify against the SIP domain when given (RFC 5922 §7.2),
                // else the address we dialled.
                c->tls = std::make_unique<TlsSession>(
                    I->tls_client, c->peer.tls_name.empty() ? c->peer.host : c->peer.tls_name);
                c->state = Conn::State::Handshaking;
                c->started_ms = c->last_ms;  // the handshake gets its own bound
            } else {
                c->state = Conn::State::Open;
            }
            I->opened(c);
        });
    if (rc != 0) {
        // Reported through the queue the caller is about to fill: close after enqueue.
        c->close_reason = "connect failed: " + err_text(rc);
    }
    return c;
}

// A stream is established (accepted, or connected): start reading; TLS sends its first flight.
void Transports::Impl::opened(Conn* c) {
    uv_tcp_nodelay(&c->h, 1);  // SIP messages are whole writes; Nagle only adds latency
    uv_read_start(
        c->stream(),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
            Impl* I = static_cast<Conn*>(h->data)->impl;
            *buf = uv_buf_init(I->rbuf.get(), 65536);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
            auto* c = static_cast<Conn*>(s->data);
            Impl* I = c->impl;
            if (c->state == Conn::State::Closing) return;
            if (n < 0) {
                std::string why;
                if (n == UV_EOF) {
                    why = "closed by peer";
                    if (c->framer.buffered() > 0 || c->backlog() > 0)
                        I->conn_event(*c, "closed by peer with data in flight");
                } else {
                    why = "connection error: " + err_text(static_cast<int>(n));
                    I->conn_event(*c, why);
                }
                if (c->state == Conn::State::Handshaking) {
                    ++I->counters.handshake_failures;
                    why = "TLS handshake failed: " + why;
                }
                I->close_conn(c, why);
                return;
            }
            if (n == 0) return;
            c->last_ms = I->now_ms();
            const std::uint64_t frames = c->frames;
            I->on_bytes(c, std::string_view(buf->base, static_cast<std::size_t>(n)));
            if (c->state == Conn::State::Open) I->track_message(c, frames);
        });
    if (c->tls) {
        flush_tls(c);  // the client's ClientHello
    } else {
        flush_queue(c);
    }
}

void Transports::Impl::on_bytes(Conn* c, std::string_view data) {
    if (!c->tls) {
        deliver(c, data);
        return;
    }
    TlsSession& tls = *c->tls;
    const bool was_done = tls.handshake_done();
    const bool ok = tls.feed(data);
    if (!ok) {
        std::string why;
        if (!was_done && !tls.handshake_done()) {
            ++counters.handshake_failures;
            why = "TLS handshake failed: " + tls.error();
        } else {
            why = "TLS error: " + tls.error();
        }
        conn_event(*c, why);
        // Best effort: let the peer see our alert before the socket closes.
        std::string alert = tls.take_ciphertext();
        if (!alert.empty()) {
            uv_buf_t b = uv_buf_init(alert.data(), static_cast<unsigned>(alert.size()));
            uv_try_write(c->stream(), &b, 1);
        }
        close_conn(c, why);
        return;
    }
    flush_tls(c);
    if (c->state == Conn::State::Closing) return;
    if (!was_done && tls.handshake_done()) {
        c->state = Conn::State::Open;
        if (!c->outbound) c->peer.tls_name = tls.server_name();  // SNI the client sent
        flush_queue(c);
        if (c->state == Conn::State::Closing) return;
    }
    std::string plain = tls.take_plaintext();
    if (!plain.empty()) deliver(c, plain);
    if (c->state != Conn::State::Closing && tls.peer_closed()) close_conn(c, "closed by peer");
}

// Plaintext stream bytes: frame them (RFC 3261 §18.3) and hand each message up.
void Transports::Impl::deliver(Conn* c, std::string_view data) {
    counters.bytes_in += data.size();
    c->framer.feed(data);
    for (;;) {
        StreamFramer::Frame f = c->framer.next();
        switch (f.kind) {
            case StreamFramer::Kind::NeedMore:
                return;
            case StreamFramer::Kind::Ping: {
                // RFC 5626 §3.5.1: answer a double-CRLF ping with a single CRLF pong.
                ++counters.pings_answered;
                ++c->frames;
                if (c->tls) {
                    c->tls->write(*pong);
                    flush_tls(c);
                } else {
                    auto* w = new WriteReq;
                    w->bytes = pong;
                    w->size = pong->size();
                    write_raw(c, w);
                }
                if (c->state == Conn::State::Closing) return;
                break;
            }
            case StreamFramer::Kind::Pong:
                ++c->frames;
                break;
            case StreamFramer::Kind::Error: {
                // No way to find the next message in a stream after this: close (RFC 4475).
                ++counters.framing_errors;
                const std::string why = "framing error at offset " +
                                        std::to_string(f.error.offset) + ": " +
                                        std::string(f.error.what());
                conn_event(*c, "closing: " + why);
                close_conn(c, why);
                return;
            }
            case StreamFramer::Kind::Message:
                ++counters.messages_in;
                ++c->frames;
                if (handlers.on_message) handlers.on_message(c->peer, f.bytes);
                if (dead || c->state == Conn::State::Closing) return;
                break;
        }
    }
}

// After each read of an open stream: has a message (or TLS record) begun and not ended, and
// since when? The sweep closes it at message_timeout; every byte still moves last_ms (idle).
void Transports::Impl::track_message(Conn* c, std::uint64_t frames_before) {
    const bool mid = c->framer.in_message() || (c->tls && c->tls->partial_record());
    if (!mid) {
        c->msg_pending = false;
    } else if (!c->msg_pending || c->frames != frames_before) {
        // a message began in this read (after any that ended in it)
        c->msg_pending = true;
        c->msg_started_ms = c->last_ms;
    }
}

void Transports::Impl::enqueue(Conn* c, Bytes bytes, std::uint64_t tag) {
    if (c->state == Conn::State::Open) {
        write_open(c, std::move(bytes), tag);
        return;
    }
    if (c->backlog() + bytes->size() > cfg.limits.max_pending_bytes) {
        fail(tag, c->peer, "send queue overflow (max_pending_bytes)");
        if (!c->overflow_logged) {
            c->overflow_logged = true;
            conn_event(*c, "send queue overflow: sends are failing");
        }
        return;
    }
    c->queued_bytes += bytes->size();
    c->queue.push_back({std::move(bytes), tag});
}

void Transports::Impl::write_open(Conn* c, Bytes bytes, std::uint64_t tag) {
    // A peer that stops reading fills the kernel buffer, then our queue; past the bound the
    // send fails rather than growing memory without limit.
    if (c->backlog() + bytes->size() > cfg.limits.max_pending_bytes) {
        fail(tag, c->peer, "send queue overflow (max_pending_bytes)");
        if (!c->overflow_logged) {
            c->overflow_logged = true;
            conn_event(*c, "send queue overflow: peer is not reading");
        }
        return;
    }
    ++counters.messages_out;
    counters.bytes_out += bytes->size();
    auto* w = new WriteReq;
    w->has_tag = true;
    w->tag = tag;
    if (c->tls) {
        if (!c->tls->write(*bytes)) {
            delete w;
            fail(tag, c->peer, "TLS error: " + c->tls->error());
            close_conn(c, "TLS error: " + c->tls->error());
            return;
        }
        w->cipher = c->tls->take_ciphertext();
        w->size = w->cipher.size();
    } else {
        w->size = bytes->size();
        w->bytes = std::move(bytes);
    }
    write_raw(c, w);
}

// Puts one buffer on the stream. Returns false (and closes) if libuv refused it.
bool Transports::Impl::write_raw(Conn* c, WriteReq* w) {
    w->conn = c;
    w->req.data = w;
    uv_buf_t b = w->bytes ? uv_buf_init(const_cast<char*>(w->bytes->data()),
                                        static_cast<unsigned>(w->bytes->size()))
                          : uv_buf_init(w->cipher.data(), static_cast<unsigned>(w->cipher.size()));
    const int rc = uv_write(&w->req, c->stream(), &b, 1, [](uv_write_t* req, int status) {
        auto* w = static_cast<WriteReq*>(req->data);
        Conn* c = w->conn;
        Impl* I = c->impl;
        if (status < 0) {
            const std::string why =
                c->close_reason.empty() ? "write failed: " + err_text(status) : c->close_reason;
            if (w->has_tag) I->fail(w->tag, c->peer, why);
            if (c->state != Conn::State::Closing) {
                I->conn_event(*c, why);
                I->close_conn(c, why);
            }
        } else {
            c->last_ms = I->now_ms();
            if (c->draining && c->state != Conn::State::Closing &&
                uv_stream_get_write_queue_size(c->stream()) == 0 && c->queue.empty())
                I->close_conn(c, "shutdown");
        }
        delete w;
    });
    if (rc != 0) {
        const std::string why = "write failed: " + err_text(rc);
        if (w->has_tag) fail(w->tag, c->peer, why);
        delete w;
        conn_event(*c, why);
        close_conn(c, why);
        return false;
    }
    return true;
}

// TLS: records produced by the session (handshake flights, alerts) go out untagged.
void Transports::Impl::flush_tls(Conn* c) {
    if (c->state == Conn::State::Closing || !c->tls || c->tls->pending_ciphertext() == 0) return;
    auto* w = new WriteReq;
    w->cipher = c->tls->take_ciphertext();
    w->size = w->cipher.size();
    write_raw(c, w);
}

void Transports::Impl::flush_queue(Conn* c) {
    if (c->state != Conn::State::Open) return;
    while (!c->queue.empty() && c->state == Conn::State::Open) {
        Pending p = std::move(c->queue.front());
        c->queue.pop_front();
        c->queued_bytes -= p.bytes->size();
        write_open(c, std::move(p.bytes), p.tag);
    }
}

void Transports::Impl::close_conn(Conn* c, std::string reason) {
    if (c->state == Conn::State::Closing) return;
    if (c->tls && c->state == Conn::State::Open && !c->tls->failed()) {
        // RFC 8446 §6.1: tell the peer we are done so it does not see a truncation attack.
        c->tls->close_notify();
        std::string bye = c->tls->take_ciphertext();
        if (!bye.empty()) {
            uv_buf_t b = uv_buf_init(bye.data(), static_cast<unsigned>(bye.size()));
            uv_try_write(c->stream(), &b, 1);
        }
    }
    c->state = Conn::State::Closing;
    c->close_reason = reason;
    conns.erase(c->id);
    if (auto it = by_key.find(c->key); it != by_key.end() && it->second == c->id) by_key.erase(it);
    counters.connections_open = conns.size();
    ++counters.connections_closed;
    if (c->admitted) {
        c->admitted = false;
        guard.closed(c->source);
    }
    for (Pending& p : c->queue)
        fail(p.tag, c->peer, reason);
    c->queue.clear();
    c->queued_bytes = 0;
    // In-flight writes complete with UV_ECANCELED and report their tags with close_reason.
    uv_close(reinterpret_cast<uv_handle_t*>(&c->h), on_conn_closed);
    maybe_finish_shutdown();
}

void Transports::Impl::maybe_finish_shutdown() {
    if (!stopping || !conns.empty() || done_pending || dead) return;
    uv_timer_stop(&flush_bound);
    uv_timer_stop(&sweep);
    done_pending = true;
    uv_timer_start(&defer, on_defer, 0, 0);
}

// ---------------------------------------------------------------------------------------
// Public API

Transports::Transports(Loop& loop, TransportsConfig cfg, TransportHandlers handlers)
    : impl_(new Impl) {
    Impl& I = *impl_;
    I.loop = loop.native();
    I.cfg = std::move(cfg);
    I.handlers = std::move(handlers);
    for (uv_timer_t* t : {&I.sweep, &I.defer, &I.flush_bound}) {
        uv_timer_init(I.loop, t);
        t->data = impl_;
        ++I.handles;
    }
    uv_prepare_init(I.loop, &I.udp_flusher);
    I.udp_flusher.data = impl_;
    ++I.handles;
}

namespace {
// Close callbacks for listener sockets: free the socket, then let the Impl count the handle
// (shared by the destructor and shutdown()).
void close_tcp(uv_handle_t* h) {
    auto* t = static_cast<TcpListener*>(h->data);
    Transports::Impl* impl = t->impl;
    delete t;
    impl->handle_closed();
}
}  // namespace

Transports::~Transports() {
    Impl* I = impl_;
    I->dead = true;
    I->handlers = {};
    I->shutdown_done = nullptr;
    I->failures.clear();
    std::vector<Conn*> all;
    all.reserve(I->conns.size());
    for (auto& [id, c] : I->conns)
        all.push_back(c);
    for (Conn* c : all)
        I->close_conn(c, "transports destroyed");
    for (UdpSock* u : I->udp)
        I->close_udp(u);
    for (TcpListener* t : I->tcp)
        uv_close(reinterpret_cast<uv_handle_t*>(&t->h), close_tcp);
    I->udp.clear();
    I->tcp.clear();
    for (uv_timer_t* t : {&I->sweep, &I->defer, &I->flush_bound})
        uv_close(reinterpret_cast<uv_handle_t*>(t),
                 [](uv_handle_t* h) { static_cast<Impl*>(h->data)->handle_closed(); });
    uv_close(reinterpret_cast<uv_handle_t*>(&I->udp_flusher),
             [](uv_handle_t* h) { static_cast<Impl*>(h->data)->handle_closed(); });
    // The last close callback deletes the Impl (the loop must run for that).
}

std::string Transports::start() {
    return impl_->start();
}

void Transports::send(const Target& to, std::string_view bytes, std::uint64_t tag) {
    send(to, make_bytes(std::string(bytes)), tag);
}

void Transports::send(const Target& to, Bytes bytes, std::uint64_t tag) {
    Impl& I = *impl_;
    if (!bytes) bytes = make_bytes({});
    if (!I.started || I.stopping) {
        I.fail(tag, to, I.stopping ? "transports are shutting down" : "transports not started");
        return;
    }
    if (to.transport == sip::Transport::Udp) {
        sockaddr_storage sa{};
        if (!make_sockaddr(to.host, to.port, sa)) {
            I.fail(tag, to, "'" + to.host + "' is not an IP address");
            return;
        }
        std::string err;
        UdpSock* u = I.udp_for(sa.ss_family, err);
        if (!u) {
            I.fail(tag, to, err);
            return;
        }
        ++I.counters.messages_out;
        I.counters.bytes_out += bytes->size();
        // No copy: the shared bytes wait for the batch, sent before the loop next blocks.
        PendingDgram& d = u->pending.emplace_back();
        std::memcpy(&d.to, &sa, sa.ss_family == AF_INET6 ? sizeof d.to.v6 : sizeof d.to.v4);
        d.bytes = std::move(bytes);
        d.tag = tag;
        if (u->pending.size() >= Impl::kSendBatch) I.flush_udp(u);
        return;
    }

    // Stream: the named connection, else any open one to the same place, else a new one.
    Conn* c = nullptr;
    if (to.conn != 0) {
        if (auto it = I.conns.find(to.conn);
            it != I.conns.end() && it->second->peer.transport == to.transport)
            c = it->second;
    }
    std::string key;
    std::string host;
    if (!c) {
        sockaddr_storage sa{};
        if (!make_sockaddr(to.host, to.port, sa)) {
            I.fail(tag, to,
                   to.host.empty() ? std::string("connection is gone and no address to reopen")
                                   : "'" + to.host + "' is not an IP address");
            return;
        }
        std::uint16_t port = 0;
        sockaddr_parts(reinterpret_cast<sockaddr*>(&sa), host, port);  // canonical text
        key = Impl::key_of(to.transport, host, to.port, to.tls_name);
        if (auto it = I.by_key.find(key); it != I.by_key.end()) c = I.conns.at(it->second);
    }
    if (!c) {
        std::string err;
        c = I.connect_to(to, host, key, err);
        if (!c) {
            I.event(std::string(transport_name(to.transport)) + " " + host_port(to.host, to.port) +
                    ": cannot connect: " + err);
            I.fail(tag, to, err);
            return;
        }
    }
    I.enqueue(c, std::move(bytes), tag);
    if (c->state == Conn::State::Connecting && !c->close_reason.empty()) {
        I.conn_event(*c, c->close_reason);
        ++I.counters.connect_failures;
        I.close_conn(c, c->close_reason);
    }
}

void Transports::close(std::uint64_t conn) {
    if (auto it = impl_->conns.find(conn); it != impl_->conns.end())
        impl_->close_conn(it->second, "closed locally");
}

void Transports::shutdown(std::function<void()> done) {
    Impl& I = *impl_;
    if (I.stopping) return;
    I.stopping = true;
    I.shutdown_done = std::move(done);
    I.flush_all_udp();  // what was sent before the stop still goes (e.g. unregistrations)
    for (UdpSock* u : I.udp)
        I.close_udp(u);
    for (TcpListener* t : I.tcp)
        uv_close(reinterpret_cast<uv_handle_t*>(&t->h), close_tcp);
    I.udp.clear();
    I.tcp.clear();
    std::fill(I.listener_of.begin(), I.listener_of.end(), nullptr);
    std::fill(I.udp_fd_of.begin(), I.udp_fd_of.end(), -1);
    std::vector<Conn*> all;
    for (auto& [id, c] : I.conns)
        all.push_back(c);
    for (Conn* c : all) {
        if (c->state != Conn::State::Open) {
            I.close_conn(c, "shutdown");
        } else if (uv_stream_get_write_queue_size(c->stream()) == 0) {
            I.close_conn(c, "shutdown");
        } else {
            c->draining = true;  // the write callback closes it once flushed
            uv_read_stop(c->stream());
        }
    }
    if (!I.conns.empty()) {
        uv_timer_start(
            &I.flush_bound,
            [](uv_timer_t* t) {
                auto* I = static_cast<Impl*>(t->data);
                std::vector<Conn*> rest;
                for (auto& [id, c] : I->conns)
                    rest.push_back(c);
                for (Conn* c : rest) {
                    I->conn_event(*c, "shutdown: unflushed bytes dropped");
                    I->close_conn(c, "shutdown: flush timed out");
                }
            },
            ms_of(I.cfg.limits.shutdown_flush), 0);
    }
    I.maybe_finish_shutdown();
}

std::uint16_t Transports::local_port(std::size_t i) const {
    sockaddr_storage sa{};
    if (i < impl_->udp_fd_of.size() && impl_->udp_fd_of[i] >= 0) {
        socklen_t len = sizeof sa;
        if (::getsockname(impl_->udp_fd_of[i], reinterpret_cast<sockaddr*>(&sa), &len) != 0)
            return 0;
    } else {
        if (i >= impl_->listener_of.size() || !impl_->listener_of[i]) return 0;
        int len = sizeof sa;
        if (uv_tcp_getsockname(reinterpret_cast<uv_tcp_t*>(impl_->listener_of[i]),
                               reinterpret_cast<sockaddr*>(&sa), &len) != 0)
            return 0;
    }
    std::string host;
    std::uint16_t port = 0;
    sockaddr_parts(reinterpret_cast<sockaddr*>(&sa), host, port);
    return port;
}

bool Transports::connection_alive(std::uint64_t conn) const {
    return impl_->conns.count(conn) != 0;
}
std::size_t Transports::connection_count() const noexcept {
    return impl_->conns.size();
}
const TransportCounters& Transports::counters() const noexcept {
    return impl_->counters;
}

}  // namespace sip::uv

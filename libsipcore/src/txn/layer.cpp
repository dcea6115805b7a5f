// RFC 3261 §17 transaction state machines with the RFC 6026 Accepted state.
#include "sip/txn/layer.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "sip/builder.hpp"

namespace sip::txn {
namespace {

enum class Kind : std::uint8_t { ClientInvite, ClientNonInvite, ServerInvite, ServerNonInvite };
enum class State : std::uint8_t {
    Calling,     // client INVITE, request sent
    Trying,      // non-INVITE: client sent / server received, no response yet
    Proceeding,  // a provisional response seen (client) or sent (server)
    Completed,   // a final response (non-2xx for INVITE)
    Accepted,    // RFC 6026: a 2xx for INVITE
    Confirmed,   // server INVITE: ACK for the non-2xx received
};

// Timer slots per transaction; each has its own generation so re-arming invalidates the old
// heap entry without searching the heap.
enum Slot : std::uint8_t { kRetransmit = 0, kTimeout = 1, kTrying = 2, kSlots = 3 };

constexpr std::string_view kMagicCookie = "z9hG4bK";

bool is_rfc3261_branch(std::string_view b) {
    // RFC 4475 §3.2.1: exactly the cookie carries no identifier; fall back to RFC 2543
    return b.size() > kMagicCookie.size() && b.substr(0, kMagicCookie.size()) == kMagicCookie;
}

std::uint16_t status_of(std::string_view response) {
    // "SIP/2.0 NNN ..." — the TU builds responses with build_response(); read the code only
    if (response.size() < 12) return 0;
    std::uint16_t code = 0;
    auto r = std::from_chars(response.data() + 8, response.data() + 11, code);
    return r.ec == std::errc() ? code : 0;
}

void append_sent_by(std::string& key, const Via& v) {
    key.append(v.host).push_back(':');
    char buf[8];
    auto r = std::to_chars(buf, buf + sizeof buf, v.has_port ? v.port : 0);
    key.append(buf, r.ptr);
}

// RFC 3261 §17.2.3: an ACK matches the INVITE's transaction; every other method its own.
std::string_view method_class(const Message& m) {
    return m.method() == Method::Ack ? std::string_view("INVITE") : m.method_name();
}

}  // namespace

Target response_target(const Message& request, const Target& source) {
    if (reliable(source.transport)) return source;  // §18.2.2: the same connection
    const Via& v = request.top_via();
    Target t = source;
    t.conn = 0;
    if (!v.maddr.empty()) {
        t.host = std::string(v.maddr);
        t.port = v.has_port ? v.port : 5060;
        return t;
    }
    // §18.2.2 with RFC 3581: the source address; the source port when rport was asked for
    if (!v.has_rport) t.port = v.has_port ? v.port : 5060;
    return t;
}

struct Layer::Impl {
    struct Txn {
        TxnId id = 0;
        Kind kind = Kind::ClientNonInvite;
        State state = State::Trying;
        bool reliable = false;
        Target peer;  // client: where the request goes; server: where responses go
        // The matching key lives once, in the index node (node-based: its address is stable)
        const std::string* key = nullptr;
        std::string method;  // client: the CSeq method responses must carry
        Bytes request;       // client: for retransmission
        std::optional<Message> request_msg;  // client INVITE: for the non-2xx ACK
        Bytes response;      // server: the last response sent
        Bytes ack;           // client INVITE: the ACK for the non-2xx
        Bytes trying;        // server INVITE: the 100 sent if the TU is silent
        Duration interval{};
        Instant due[kSlots]{};
        std::uint32_t gen[kSlots]{};
        char timeout_name = 0;
    };
    struct Deadline {
        Instant when;
        TxnId id;
        std::uint8_t slot;
        std::uint32_t gen;
        bool operator>(const Deadline& o) const { return when > o.when; }
    };

    Config cfg;
    Random& rng;
    std::unordered_map<TxnId, Txn> txns;
    std::unordered_map<std::string, TxnId> index;  // matching key -> transaction
    mutable std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> heap;
    std::deque<Action> actions;
    TxnId next_id = 1;
    Stats stats;

    Impl(const Config& c, Random& r) : cfg(c), rng(r) {}

    Duration t1() const { return cfg.timers.t1; }
    Duration t2() const { return cfg.timers.t2; }
    Duration t4() const { return cfg.timers.t4; }
    Duration timer_64t1() const { return 64 * cfg.timers.t1; }

    void arm(Txn& t, Slot s, Instant when) {
        t.due[s] = when;
        heap.push({when, t.id, static_cast<std::uint8_t>(s), ++t.gen[s]});
    }
    void disarm(Txn& t, Slot s) { ++t.gen[s]; }

    void send(const Txn& t, const Bytes& b) { actions.emplace_back(SendBytes{t.id, t.peer, b}); }

    void terminate(Txn& t) {
        const TxnId id = t.id;
        auto it = index.find(*t.key);
        if (it != index.end() && it->second == id) index.erase(it);
        txns.erase(id);
        actions.emplace_back(Terminated{id});
    }

    // A timer of 0 (reliable transports) ends the transaction at once.
    void finish_after(Txn& t, Duration d, Instant now) {
        if (d <= Duration::zero()) {
            terminate(t);
            return;
        }
        arm(t, kTimeout, now + d);
    }

    static std::string server_key(const Message& m) {
        const Via& v = m.top_via();
        std::string key;
        if (is_rfc3261_branch(v.branch)) {
            key.reserve(v.branch.size() + v.host.size() + 16);
            key.append("S|").append(v.branch).append("|");
            append_sent_by(key, v);
            key.append("|").append(method_class(m));
            return key;
        }
        // RFC 3261 §17.2.3, RFC 2543 peers: Request-URI, To tag, From tag, Call-ID, CSeq and
        // top Via identify the transaction
        key.append("L|").append(m.request_uri()).append("|").append(m.to().tag).append("|");
        key.append(m.from().tag).append("|").append(m.call_id()).append("|");
        key.append(std::to_string(m.cseq().number)).append("|").append(method_class(m));
        key.append("|");
        append_sent_by(key, v);
        key.append("|").append(v.branch);
        return key;
    }
    static std::string client_key(std::string_view branch, std::string_view method) {
        std::string key;
        key.reserve(branch.size() + method.size() + 3);
        key.append("C|").append(branch).append("|").append(method);
        return key;
    }

    Txn& create(Kind kind, State state, const Target& peer, std::string key) {
        const TxnId id = next_id++;
        Txn& t = txns[id];
        t.id = id;
        t.kind = kind;
        t.state = state;
        t.peer = peer;
        t.reliable = reliable(peer.transport);
        auto [slot, inserted] = index.insert_or_assign(std::move(key), id);
        (void)inserted;
        t.key = &slot->first;
        return t;
    }

    // --- inbound

    void on_request(Message msg, const Target& source, Instant now) {
        std::string key = server_key(msg);
        if (msg.method() == Method::Ack) {
            auto it = index.find(key);
            if (it == index.end() && !is_rfc3261_branch(msg.top_via().branch)) {
                // RFC 2543: the ACK carries the To tag our response added; the INVITE had none
                std::string k2 = key;
                std::string_view tag = msg.to().tag;
                if (!tag.empty()) {
                    auto pos = k2.find(std::string("|") + std::string(tag) + "|");
                    if (pos != std::string::npos) k2.erase(pos + 1, tag.size());
                    it = index.find(k2);
                }
            }
            if (it != index.end()) {
                Txn& t = txns.at(it->second);
                if (t.kind == Kind::ServerInvite && t.state == State::Completed) {
                    // §17.2.1: the ACK for our non-2xx; Timer I absorbs its retransmissions
                    t.state = State::Confirmed;
                    disarm(t, kRetransmit);
                    disarm(t, kTimeout);
                    ++stats.retransmissions_absorbed;
                    finish_after(t, t.reliable ? Duration::zero() : t4(), now);
                    return;
                }
                if (t.kind == Kind::ServerInvite && t.state == State::Confirmed) {
                    ++stats.retransmissions_absorbed;
                    return;
                }
            }
            actions.emplace_back(AckIn{std::move(msg), source});  // ACK for a 2xx
            return;
        }

        if (auto it = index.find(key); it != index.end()) {
            Txn& t = txns.at(it->second);
            ++stats.retransmissions_absorbed;
            // §17.2.1/§17.2.2: a retransmitted request gets the last response again
            if ((t.state == State::Proceeding || t.state == State::Completed) && t.response) {
                send(t, t.response);
                ++stats.retransmissions_sent;
            }
            return;  // Trying (nothing sent yet), Accepted (RFC 6026 §8.7), Confirmed: absorb
        }

        if (txns.size() >= cfg.max_transactions) {
            ++stats.rejected_overload;
            ResponseSpec spec;
            spec.status = 503;
            spec.extra = {{"Retry-After", "5"}};
            actions.emplace_back(SendBytes{0, response_target(msg, source),
                                           make_bytes(build_response(msg, spec))});
            return;
        }

        const bool invite = msg.method() == Method::Invite;
        Txn& t = create(invite ? Kind::ServerInvite : Kind::ServerNonInvite,
                        invite ? State::Proceeding : State::Trying,
                        response_target(msg, source), std::move(key));
        ++stats.server_started;
        if (!invite) {
            // A TU that never answers must not leak the transaction: the client gives up at
            // Timer F (64*T1), so the server transaction ends then too.
            arm(t, kTimeout, now + timer_64t1());
        } else {
            // §17.2.1: 100 Trying unless the TU answers within 200 ms
            ResponseSpec spec;
            spec.status = 100;
            t.trying = make_bytes(build_response(msg, spec));
            arm(t, kTrying, now + cfg.timers.trying);
        }
        if (msg.method() == Method::Cancel) {
            // §9.2: the INVITE with the same branch, sent-by and Request-URI
            std::string ikey = *t.key;
            TxnId invite_id = 0;
            const std::string suffix = "|CANCEL";
            if (ikey.size() > suffix.size() &&
                ikey.compare(ikey.size() - suffix.size(), suffix.size(), suffix) == 0) {
                ikey.replace(ikey.size() - suffix.size(), suffix.size(), "|INVITE");
            } else {
                ikey.clear();
                // RFC 2543 key: the method is not last; rebuild it
                ikey = *t.key;
                auto pos = ikey.find("|CANCEL|");
                if (pos != std::string::npos) ikey.replace(pos, 8, "|INVITE|");
            }
            if (auto it = index.find(ikey); it != index.end()) {
                const Txn& inv = txns.at(it->second);
                if (inv.kind == Kind::ServerInvite) invite_id = inv.id;
            }
            actions.emplace_back(CancelIn{t.id, invite_id, std::move(msg), source});
            return;
        }
        actions.emplace_back(RequestIn{t.id, std::move(msg), source});
    }

    void on_response(Message msg, const Target& source, Instant now) {
        auto it = index.find(client_key(msg.top_via().branch, msg.cseq().method_name));
        if (it == index.end()) {
            ++stats.stray_responses;
            actions.emplace_back(StrayResponse{std::move(msg), source});
            return;
        }
        Txn& t = txns.at(it->second);
        const std::uint16_t code = msg.status_code();
        if (t.kind == Kind::ClientInvite) {
            switch (t.state) {
                case State::Calling:
                case State::Proceeding:
                    disarm(t, kRetransmit);
                    if (code < 200) {
                        // Timer B only runs in Calling (§17.1.1.2). A peer that rings forever
                        // is the TU's Timer C (§16.6 step 11: CANCEL); so that no transaction
                        // outlives an absent TU, each provisional restarts a guard that ends
                        // it 64*T1 after Timer C would have fired.
                        t.state = State::Proceeding;
                        arm(t, kTimeout, now + cfg.timers.timer_c + timer_64t1());
                    } else if (code < 300) {
                        // RFC 6026 §8.4: Accepted, Timer M; every 2xx goes up
                        t.state = State::Accepted;
                        arm(t, kTimeout, now + timer_64t1());
                        t.timeout_name = 0;
                    } else {
                        t.state = State::Completed;
                        t.ack = make_bytes(build_ack(t, msg));
                        send(t, t.ack);
                        disarm(t, kTimeout);
                        actions.emplace_back(ResponseIn{t.id, std::move(msg)});
                        finish_after(t, t.reliable ? Duration::zero() : 32s, now);  // Timer D
                        return;
                    }
                    actions.emplace_back(ResponseIn{t.id, std::move(msg)});
                    return;
                case State::Accepted:
                    if (code >= 200 && code < 300) {
                        actions.emplace_back(ResponseIn{t.id, std::move(msg)});
                    }
                    return;
                case State::Completed:
                    if (code >= 300 && t.ack) {  // §17.1.1.2: resend ACK, do not pass up
                        send(t, t.ack);
                        ++stats.retransmissions_sent;
                    }
                    ++stats.retransmissions_absorbed;
                    return;
                default: return;
            }
        }
        // client non-INVITE (§17.1.2.2)
        if (t.state == State::Trying || t.state == State::Proceeding) {
            if (code < 200) {
                t.state = State::Proceeding;
            } else {
                t.state = State::Completed;
                disarm(t, kRetransmit);
                disarm(t, kTimeout);
                actions.emplace_back(ResponseIn{t.id, std::move(msg)});
                finish_after(t, t.reliable ? Duration::zero() : t4(), now);  // Timer K
                return;
            }
            actions.emplace_back(ResponseIn{t.id, std::move(msg)});
            return;
        }
        ++stats.retransmissions_absorbed;  // Completed: absorb
    }

    // §17.1.1.3: the ACK for a non-2xx final response.
    std::string build_ack(const Txn& t, const Message& resp) {
        const Message& req = *t.request_msg;
        RequestBuilder b("ACK", req.request_uri());
        for (const HeaderField& h : req.headers()) {
            if (h.id == HeaderId::Via) {
                // only the top Via value of the request
                std::string_view list = req.value(h);
                std::string_view rest = list;
                if (next_via(rest)) {
                    std::string_view first = list.substr(0, list.size() - rest.size());
                    while (!first.empty() && (first.back() == ',' || first.back() == ' ' ||
                                              first.back() == '\t'))
                        first.remove_suffix(1);
                    b.add(HeaderId::Via, first);
                }
                break;
            }
        }
        for (const HeaderField& h : req.headers()) {
            switch (h.id) {
                case HeaderId::From:
                case HeaderId::CallId:
                case HeaderId::Route:
                    b.add(h.id, req.value(h));
                    break;
                default: break;
            }
        }
        if (const HeaderField* to = resp.find(HeaderId::To)) b.add(HeaderId::To, resp.value(*to));
        std::string cseq = std::to_string(req.cseq().number) + " ACK";
        b.add(HeaderId::CSeq, cseq);
        return b.build();
    }

    // --- timers

    void fire(Txn& t, Slot s, Instant now) {
        switch (s) {
            case kTrying:
                if (t.kind == Kind::ServerInvite && t.state == State::Proceeding && !t.response) {
                    t.response = t.trying;
                    send(t, t.trying);
                }
                return;
            case kRetransmit:
                if (t.kind == Kind::ClientInvite && t.state == State::Calling) {  // Timer A
                    send(t, t.request);
                    ++stats.retransmissions_sent;
                    t.interval *= 2;
                    arm(t, kRetransmit, now + t.interval);
                } else if (t.kind == Kind::ClientNonInvite &&
                           (t.state == State::Trying || t.state == State::Proceeding)) {
                    send(t, t.request);  // Timer E: doubles in Trying, T2 in Proceeding
                    ++stats.retransmissions_sent;
                    t.interval = t.state == State::Trying ? std::min(2 * t.interval, t2()) : t2();
                    arm(t, kRetransmit, now + t.interval);
                } else if (t.kind == Kind::ServerInvite && t.state == State::Completed) {
                    send(t, t.response);  // Timer G
                    ++stats.retransmissions_sent;
                    t.interval = std::min(2 * t.interval, t2());
                    arm(t, kRetransmit, now + t.interval);
                }
                return;
            case kTimeout:
                break;
            default: return;
        }
        // kTimeout: B, F and H report a timeout; D, I, J, K, L, M just end the transaction
        const bool reports = (t.kind == Kind::ClientInvite &&
                              (t.state == State::Calling || t.state == State::Proceeding)) ||
                             (t.kind == Kind::ClientNonInvite &&
                              (t.state == State::Trying || t.state == State::Proceeding)) ||
                             (t.kind == Kind::ServerInvite && t.state == State::Completed);
        if (reports) {
            const char name = t.kind == Kind::ClientInvite
                                  ? (t.state == State::Calling ? 'B' : 'C')
                                  : t.kind == Kind::ClientNonInvite ? 'F'
                                                                    : 'H';
            ++stats.timeouts;
            actions.emplace_back(TxnTimeout{t.id, name});
        }
        terminate(t);
    }
};

Layer::Layer(const Config& cfg, Random& rng) : impl_(std::make_unique<Impl>(cfg, rng)) {}
Layer::~Layer() = default;

void Layer::on_message(Message msg, const Target& source, Instant now) {
    if (msg.is_request()) impl_->on_request(std::move(msg), source, now);
    else impl_->on_response(std::move(msg), source, now);
}

Result<TxnId> Layer::send_request(std::string_view request, const Target& to_in, Instant now,
                                  const RequestOptions& options) {
    Impl& I = *impl_;
    Target to = to_in;
    std::string text(request);
    // RFC 3261 §18.1.1: a request over 1300 bytes (MTU unknown) must go over a congestion
    // controlled transport; the top Via says which
    if (to.transport == Transport::Udp && text.size() > 1300 && !options.keep_transport) {
        auto probe = Message::parse(text, {}, Framing::Datagram);
        if (probe && iequals(probe->top_via().transport, "UDP")) {
            const std::size_t off =
                static_cast<std::size_t>(probe->top_via().transport.data() - probe->bytes().data());
            text.replace(off, 3, "TCP");
            to.transport = Transport::Tcp;
        }
    }
    auto parsed = Message::parse(text, {}, Framing::Datagram);
    if (!parsed) return unexpected(parsed.error());
    if (!parsed->is_request() || parsed->method() == Method::Ack) {
        return unexpected(Errc::bad_start_line, 0);
    }
    const bool invite = parsed->method() == Method::Invite;
    Bytes bytes = make_bytes(std::move(text));
    std::string key = Impl::client_key(parsed->top_via().branch, parsed->method_name());
    if (I.index.count(key)) return unexpected(Errc::duplicate_header, 0, HeaderId::Via);
    auto& t = I.create(invite ? Kind::ClientInvite : Kind::ClientNonInvite,
                       invite ? State::Calling : State::Trying, to, std::move(key));
    t.method = std::string(parsed->method_name());
    t.request = bytes;
    ++I.stats.client_started;
    if (invite) t.request_msg.emplace(std::move(*parsed));
    I.send(t, t.request);
    if (!t.reliable) {
        t.interval = I.t1();  // Timer A / Timer E start at T1
        I.arm(t, kRetransmit, now + t.interval);
    }
    // Timer B / Timer F
    I.arm(t, kTimeout,
          now + (invite && options.invite_timeout ? *options.invite_timeout : I.timer_64t1()));
    return t.id;
}

void Layer::respond(TxnId id, std::string_view response, Instant now) {
    if (!impl_->txns.count(id)) return;
    respond(id, make_bytes(std::string(response)), now);
}

void Layer::respond(TxnId id, Bytes b, Instant now) {
    Impl& I = *impl_;
    auto it = I.txns.find(id);
    if (it == I.txns.end() || !b) return;
    Impl::Txn& t = it->second;
    const std::uint16_t code = status_of(*b);
    if (code < 100 || code > 699) return;
    if (t.kind == Kind::ServerNonInvite) {
        if (t.state != State::Trying && t.state != State::Proceeding) return;
        t.response = b;
        I.send(t, b);
        if (code < 200) {
            t.state = State::Proceeding;
        } else {
            t.state = State::Completed;  // Timer J
            I.finish_after(t, t.reliable ? Duration::zero() : I.timer_64t1(), now);
        }
        return;
    }
    if (t.kind != Kind::ServerInvite) return;
    if (t.state == State::Proceeding) {
        I.disarm(t, kTrying);
        t.response = b;
        I.send(t, b);
        if (code < 200) return;
        if (code < 300) {
            t.state = State::Accepted;  // RFC 6026 §7.1: Timer L
            I.arm(t, kTimeout, now + I.timer_64t1());
        } else {
            t.state = State::Completed;
            if (!t.reliable) {
                t.interval = I.t1();  // Timer G
                I.arm(t, kRetransmit, now + t.interval);
            }
            I.arm(t, kTimeout, now + I.timer_64t1());  // Timer H
        }
    } else if (t.state == State::Accepted && code >= 200 && code < 300) {
        I.send(t, b);  // RFC 6026 §7.1: the TU retransmits its 2xx through the transaction
    }
}

void Layer::send_stateless(std::string_view bytes, const Target& to) {
    impl_->actions.emplace_back(SendBytes{0, to, make_bytes(std::string(bytes))});
}

void Layer::on_transport_error(TxnId id, Instant) {
    Impl& I = *impl_;
    auto it = I.txns.find(id);
    if (it == I.txns.end()) return;
    I.actions.emplace_back(TransportError{id});  // §17.1.4 / §17.2.4
    I.terminate(it->second);
}

std::optional<Instant> Layer::next_deadline() const {
    const Impl& I = *impl_;
    while (!I.heap.empty()) {
        const Impl::Deadline& d = I.heap.top();
        auto it = I.txns.find(d.id);
        if (it != I.txns.end() && it->second.gen[d.slot] == d.gen) return d.when;
        I.heap.pop();  // stale: re-armed, disarmed or terminated since
    }
    return std::nullopt;
}

void Layer::handle_timeouts(Instant now) {
    Impl& I = *impl_;
    while (!I.heap.empty() && I.heap.top().when <= now) {
        const Impl::Deadline d = I.heap.top();
        I.heap.pop();
        auto it = I.txns.find(d.id);
        if (it == I.txns.end() || it->second.gen[d.slot] != d.gen) continue;
        I.fire(it->second, static_cast<Slot>(d.slot), d.when);
    }
}

std::optional<Action> Layer::poll() {
    Impl& I = *impl_;
    if (I.actions.empty()) return std::nullopt;
    Action a = std::move(I.actions.front());
    I.actions.pop_front();
    return a;
}

const Stats& Layer::stats() const noexcept {
    impl_->stats.live = impl_->txns.size();
    return impl_->stats;
}

}  // namespace sip::txn

// RFC 3261 §17 transaction state machines with the RFC 6026 Accepted state.
#include "sip/txn/layer.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <deque>
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

// Timer slots per transaction; each is at most one entry of the timer heap.
enum Slot : std::uint8_t { kRetransmit = 0, kTimeout = 1, kTrying = 2, kSlots = 3 };
constexpr std::uint32_t kUnarmed = UINT32_MAX;

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
    // A matching key with its hash computed once: a request's key is looked up, inserted,
    // re-pointed when the transaction lingers and erased at its end, and hashing its ~60
    // bytes each time was ~380 instructions of an answered OPTIONS.
    struct Key {
        std::string text;
        std::size_t hash;
        explicit Key(std::string t) : text(std::move(t)), hash(std::hash<std::string>{}(text)) {}
        bool operator==(const Key& o) const noexcept { return hash == o.hash && text == o.text; }
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const noexcept { return k.hash; }
    };

    // A transaction still at work: retransmitting, waiting for the TU, or waiting for an ACK.
    struct Txn {
        TxnId id = 0;
        Kind kind = Kind::ClientNonInvite;
        State state = State::Trying;
        bool reliable = false;
        Target peer;  // client: where the request goes; server: where responses go
        // The matching key lives once, in the index node (node-based: its address is stable)
        const Key* key = nullptr;
        Bytes request;   // client: for retransmission (and, parsed only then, the non-2xx ACK)
        Bytes response;  // server: the last response sent
        Bytes trying;    // server INVITE: the 100 sent if the TU is silent
        Duration interval{};
        std::uint32_t heap_pos[kSlots]{kUnarmed, kUnarmed, kUnarmed};  // index in `heap`
    };
    // A transaction whose work is done, kept only to absorb retransmissions until its last
    // timer (J, K, D, I, M) ends it: the key (in the index), the bytes to resend, where to.
    // Only UDP transactions linger (on reliable transports the timers are 0), so the peer is
    // an address and a port: no connection, no TLS name.
    struct Linger {
        TxnId id;
        const Key* key;  // the index node's key
        Instant until;
        std::string host;  // the peer's address (an IPv4 one fits the string itself)
        Bytes reply;  // server non-INVITE: the last response; client INVITE: the non-2xx ACK
        std::uint16_t port;
        Kind kind;
        State state;

        Target peer() const { return Target{Transport::Udp, host, port, 0, {}}; }
    };
    // Lingering transactions with the same timer, in the order they started lingering: their
    // ends are in time order too, so a FIFO replaces the heap and an entry's position is its
    // handle (no second hash map).
    struct LingerQueue {
        Duration wait{};
        std::deque<Linger> q;
        std::uint64_t front_seq = 0;  // sequence number of q.front()
    };
    // Index values: a live TxnId, or a lingering handle (top bit set, queue number, sequence).
    static constexpr std::uint64_t kLingerBit = 1ull << 63;
    static constexpr int kSeqBits = 56;
    static std::uint64_t linger_handle(std::size_t queue, std::uint64_t seq) {
        return kLingerBit | (static_cast<std::uint64_t>(queue) << kSeqBits) | seq;
    }
    // The armed timers of live transactions: a binary min-heap that knows each entry's
    // position (Txn::heap_pos), so disarming removes the entry instead of leaving a stale one
    // behind for up to 64*T1 (txns are node-based: the pointers stay valid).
    struct HeapEntry {
        Instant when;
        Txn* txn;
        Slot slot;
    };

    Config cfg;
    Random& rng;
    std::unordered_map<TxnId, Txn> txns;            // live transactions
    std::vector<LingerQueue> lingering;             // one queue per timer length (<= 4)
    std::size_t lingering_count = 0;
    std::unordered_map<Key, std::uint64_t, KeyHash> index;  // matching key -> TxnId or handle
    std::vector<HeapEntry> heap;
    std::deque<Action> actions;
    TxnId next_id = 1;
    Stats stats;

    Impl(const Config& c, Random& r) : cfg(c), rng(r) {}

    Duration t1() const { return cfg.timers.t1; }
    Duration t2() const { return cfg.timers.t2; }
    Duration t4() const { return cfg.timers.t4; }
    Duration timer_64t1() const { return 64 * cfg.timers.t1; }

    void place(std::size_t i) { heap[i].txn->heap_pos[heap[i].slot] = static_cast<std::uint32_t>(i); }
    void sift_up(std::size_t i) {
        const HeapEntry e = heap[i];
        while (i > 0) {
            const std::size_t parent = (i - 1) / 2;
            if (!(e.when < heap[parent].when)) break;
            heap[i] = heap[parent];
            place(i);
            i = parent;
        }
        heap[i] = e;
        place(i);
    }
    void sift_down(std::size_t i) {
        const HeapEntry e = heap[i];
        const std::size_t n = heap.size();
        for (;;) {
            std::size_t child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && heap[child + 1].when < heap[child].when) ++child;
            if (!(heap[child].when < e.when)) break;
            heap[i] = heap[child];
            place(i);
            i = child;
        }
        heap[i] = e;
        place(i);
    }
    void arm(Txn& t, Slot s, Instant when) {
        if (const std::uint32_t i = t.heap_pos[s]; i != kUnarmed) {
            const Instant before = heap[i].when;
            heap[i].when = when;
            if (when < before) sift_up(i);
            else sift_down(i);
            return;
        }
        heap.push_back({when, &t, s});
        sift_up(heap.size() - 1);
    }
    void disarm(Txn& t, Slot s) {
        const std::uint32_t i = t.heap_pos[s];
        if (i == kUnarmed) return;
        t.heap_pos[s] = kUnarmed;
        const HeapEntry last = heap.back();
        heap.pop_back();
        if (i == heap.size()) return;
        heap[i] = last;
        if (i > 0 && last.when < heap[(i - 1) / 2].when) sift_up(i);
        else sift_down(i);
    }
    void disarm_all(Txn& t) {
        for (std::uint8_t s = 0; s < kSlots; ++s) disarm(t, static_cast<Slot>(s));
    }

    void send(const Txn& t, const Bytes& b) { actions.emplace_back(SendBytes{t.id, t.peer, b}); }

    void terminate(Txn& t) {
        const TxnId id = t.id;
        auto it = index.find(*t.key);
        if (it != index.end() && it->second == id) index.erase(it);
        disarm_all(t);
        txns.erase(id);
        actions.emplace_back(Terminated{id});
    }

    // --- lingering (completed) transactions

    Linger* find_linger(std::uint64_t handle) {
        const std::size_t qi = (handle & ~kLingerBit) >> kSeqBits;
        const std::uint64_t seq = handle & ((1ull << kSeqBits) - 1);
        if (qi >= lingering.size()) return nullptr;
        LingerQueue& lq = lingering[qi];
        if (seq < lq.front_seq || seq - lq.front_seq >= lq.q.size()) return nullptr;
        return &lq.q[seq - lq.front_seq];
    }

    // The transaction's work is done: keep only what absorbs retransmissions for `wait`
    // (0, on reliable transports: it ends at once), then it ends with Terminated.
    void linger(Txn& t, Duration wait, Bytes reply, Instant now) {
        if (wait <= Duration::zero()) {
            terminate(t);
            return;
        }
        const TxnId id = t.id;
        if (lingering_count >= cfg.max_lingering) expire_oldest();
        std::size_t qi = 0;
        while (qi < lingering.size() && lingering[qi].wait != wait) ++qi;
        if (qi == lingering.size()) lingering.push_back(LingerQueue{wait, {}, 0});
        LingerQueue& lq = lingering[qi];
        const std::uint64_t handle = linger_handle(qi, lq.front_seq + lq.q.size());
        auto it = index.find(*t.key);
        if (it != index.end() && it->second == id) it->second = handle;
        lq.q.push_back(Linger{id, t.key, now + wait, std::move(t.peer.host), std::move(reply),
                              t.peer.port, t.kind, t.state});
        ++lingering_count;
        disarm_all(t);
        txns.erase(id);
    }

    void expire_front(std::size_t qi) {
        LingerQueue& lq = lingering[qi];
        const Linger& l = lq.q.front();
        auto it = index.find(*l.key);
        if (it != index.end() && it->second == linger_handle(qi, lq.front_seq)) index.erase(it);
        actions.emplace_back(Terminated{l.id});
        lq.q.pop_front();
        ++lq.front_seq;
        --lingering_count;
    }

    // The table is full: the oldest completed transaction ends early (the least likely to
    // see a retransmission) rather than a new request being refused.
    void expire_oldest() {
        std::size_t best = lingering.size();
        for (std::size_t i = 0; i < lingering.size(); ++i) {
            if (lingering[i].q.empty()) continue;
            if (best == lingering.size() ||
                lingering[i].q.front().until < lingering[best].q.front().until)
                best = i;
        }
        if (best == lingering.size()) return;
        expire_front(best);
        ++stats.lingering_evicted;
    }

    std::optional<Instant> next_linger_end() const {
        std::optional<Instant> end;
        for (const LingerQueue& lq : lingering)
            if (!lq.q.empty() && (!end || lq.q.front().until < *end)) end = lq.q.front().until;
        return end;
    }

    void expire_lingering(Instant now) {
        for (std::size_t i = 0; i < lingering.size(); ++i)
            while (!lingering[i].q.empty() && lingering[i].q.front().until <= now) expire_front(i);
    }

    // A retransmitted request matched a lingering server transaction.
    void absorb_request(Linger& l, const Message& msg) {
        ++stats.retransmissions_absorbed;
        // §17.2.2: a non-INVITE retransmission gets the last response again; a Confirmed
        // INVITE (§17.2.1, Timer I) absorbs INVITE and ACK retransmissions silently
        if (l.kind == Kind::ServerNonInvite && l.reply && msg.method() != Method::Ack) {
            actions.emplace_back(SendBytes{l.id, l.peer(), l.reply});
            ++stats.retransmissions_sent;
        }
    }

    // A response matched a lingering client transaction.
    void absorb_response(Linger& l, Message msg) {
        const std::uint16_t code = msg.status_code();
        if (l.kind == Kind::ClientInvite && l.state == State::Accepted) {
            // RFC 6026 §8.4: every 2xx goes up while Timer M runs (the TU ACKs each)
            if (code >= 200 && code < 300) actions.emplace_back(ResponseIn{l.id, std::move(msg)});
            return;
        }
        if (l.kind == Kind::ClientInvite && code >= 300 && l.reply) {
            actions.emplace_back(SendBytes{l.id, l.peer(), l.reply});  // §17.1.1.2: ACK again
            ++stats.retransmissions_sent;
        }
        ++stats.retransmissions_absorbed;  // §17.1.2.2 Completed: absorb
    }

    static Key server_key(const Message& m) {
        const Via& v = m.top_via();
        std::string key;
        if (is_rfc3261_branch(v.branch)) {
            // "S|" branch "|" host ":" port "|" method (the same text append_sent_by gives),
            // sized first and written in place: eight appends were ~400 instructions
            char port[8];
            const auto r = std::to_chars(port, port + sizeof port, v.has_port ? v.port : 0);
            const std::string_view method = method_class(m);
            const std::string_view parts[] = {
                "S|", v.branch, "|", v.host, ":",
                std::string_view(port, static_cast<std::size_t>(r.ptr - port)), "|", method};
            std::size_t size = 0;
            for (std::string_view p : parts) size += p.size();
            key.resize(size);
            char* at = key.data();
            for (std::string_view p : parts) {
                if (!p.empty()) std::memcpy(at, p.data(), p.size());  // an empty view may be null
                at += p.size();
            }
            return Key(std::move(key));
        }
        // RFC 3261 §17.2.3, RFC 2543 peers: Request-URI, To tag, From tag, Call-ID, CSeq and
        // top Via identify the transaction
        key.append("L|").append(m.request_uri()).append("|").append(m.to().tag).append("|");
        key.append(m.from().tag).append("|").append(m.call_id()).append("|");
        key.append(std::to_string(m.cseq().number)).append("|").append(method_class(m));
        key.append("|");
        append_sent_by(key, v);
        key.append("|").append(v.branch);
        return Key(std::move(key));
    }
    static Key client_key(std::string_view branch, std::string_view method) {
        std::string key;
        key.reserve(branch.size() + method.size() + 3);
        key.append("C|").append(branch).append("|").append(method);
        return Key(std::move(key));
    }

    Txn& create(Kind kind, State state, const Target& peer, Key key) {
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

    Result<TxnId> start_client(Bytes bytes, std::string_view method, std::string_view branch,
                               const Target& to, Instant now, const RequestOptions& options) {
        Key key = client_key(branch, method);
        if (index.count(key)) return unexpected(Errc::duplicate_header, 0, HeaderId::Via);
        const bool invite = method == "INVITE";
        Txn& t = create(invite ? Kind::ClientInvite : Kind::ClientNonInvite,
                        invite ? State::Calling : State::Trying, to, std::move(key));
        t.request = std::move(bytes);
        ++stats.client_started;
        send(t, t.request);
        if (!t.reliable) {
            t.interval = t1();  // Timer A / Timer E start at T1
            arm(t, kRetransmit, now + t.interval);
        }
        // Timer B / Timer F
        arm(t, kTimeout,
            now + (invite && options.invite_timeout ? *options.invite_timeout : timer_64t1()));
        return t.id;
    }

    // --- inbound

    void on_request(Message msg, const Target& source, Instant now) {
        Key key = server_key(msg);
        if (msg.method() == Method::Ack) {
            auto it = index.find(key);
            if (it == index.end() && !is_rfc3261_branch(msg.top_via().branch)) {
                // RFC 2543: the ACK carries the To tag our response added; the INVITE had none
                std::string k2 = key.text;
                std::string_view tag = msg.to().tag;
                if (!tag.empty()) {
                    auto pos = k2.find(std::string("|") + std::string(tag) + "|");
                    if (pos != std::string::npos) k2.erase(pos + 1, tag.size());
                    it = index.find(Key(std::move(k2)));
                }
            }
            if (it != index.end() && (it->second & kLingerBit)) {
                Linger* l = find_linger(it->second);
                if (l && l->kind == Kind::ServerInvite && l->state == State::Confirmed) {
                    absorb_request(*l, msg);  // Timer I absorbs ACK retransmissions
                    return;
                }
            } else if (it != index.end()) {
                Txn& t = txns.at(it->second);
                if (t.kind == Kind::ServerInvite && t.state == State::Completed) {
                    // §17.2.1: the ACK for our non-2xx; Timer I absorbs its retransmissions
                    t.state = State::Confirmed;
                    ++stats.retransmissions_absorbed;
                    linger(t, t.reliable ? Duration::zero() : t4(), nullptr, now);
                    return;
                }
            }
            actions.emplace_back(AckIn{std::move(msg), source});  // ACK for a 2xx
            return;
        }

        if (auto it = index.find(key); it != index.end()) {
            if (it->second & kLingerBit) {
                if (Linger* l = find_linger(it->second)) absorb_request(*l, msg);
                return;
            }
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
            std::string ikey = t.key->text;
            TxnId invite_id = 0;
            const std::string suffix = "|CANCEL";
            if (ikey.size() > suffix.size() &&
                ikey.compare(ikey.size() - suffix.size(), suffix.size(), suffix) == 0) {
                ikey.replace(ikey.size() - suffix.size(), suffix.size(), "|INVITE");
            } else {
                ikey.clear();
                // RFC 2543 key: the method is not last; rebuild it
                ikey = t.key->text;
                auto pos = ikey.find("|CANCEL|");
                if (pos != std::string::npos) ikey.replace(pos, 8, "|INVITE|");
            }
            if (auto it = index.find(Key(std::move(ikey))); it != index.end()) {
                if (it->second & kLingerBit) {
                    const Linger* l = find_linger(it->second);
                    if (l && l->kind == Kind::ServerInvite) invite_id = l->id;
                } else if (const Txn& inv = txns.at(it->second); inv.kind == Kind::ServerInvite) {
                    invite_id = inv.id;
                }
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
        if (it->second & kLingerBit) {
            if (Linger* l = find_linger(it->second)) absorb_response(*l, std::move(msg));
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
                        actions.emplace_back(ResponseIn{t.id, std::move(msg)});
                        linger(t, timer_64t1(), nullptr, now);
                        return;
                    } else {
                        t.state = State::Completed;
                        Bytes ack = build_ack(t, msg);
                        if (ack) send(t, ack);
                        actions.emplace_back(ResponseIn{t.id, std::move(msg)});
                        linger(t, t.reliable ? Duration::zero() : 32s, std::move(ack),
                               now);  // Timer D
                        return;
                    }
                    actions.emplace_back(ResponseIn{t.id, std::move(msg)});
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
                actions.emplace_back(ResponseIn{t.id, std::move(msg)});
                linger(t, t.reliable ? Duration::zero() : t4(), nullptr, now);  // Timer K
                return;
            }
            actions.emplace_back(ResponseIn{t.id, std::move(msg)});
            return;
        }
        ++stats.retransmissions_absorbed;  // Completed: absorb
    }

    // §17.1.1.3: the ACK for a non-2xx final response, from the request as sent (parsed only
    // now: most INVITEs never need it).
    Bytes build_ack(const Txn& t, const Message& resp) {
        auto parsed = Message::parse(*t.request, {}, Framing::Datagram);
        if (!parsed) return nullptr;  // send_request() checked it; a TU-built one is trusted
        const Message& req = *parsed;
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
        return make_bytes(b.build());
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
    // the views point into `parsed`, which outlives the call
    return impl_->start_client(make_bytes(std::move(text)), parsed->method_name(),
                               parsed->top_via().branch, to, now, options);
}

Result<TxnId> Layer::send_request(Bytes request, std::string_view branch, const Target& to,
                                  Instant now, const RequestOptions& options) {
    if (!request) return unexpected(Errc::bad_start_line, 0);
    if (to.transport == Transport::Udp && request->size() > 1300 && !options.keep_transport) {
        return send_request(std::string_view(*request), to, now, options);  // rewrites the Via
    }
    const std::string_view text = *request;
    const std::string_view method = text.substr(0, text.find(' '));
    if (method.empty() || method.size() == text.size() || method == "ACK" ||
        method.find_first_of("\r\n") != std::string_view::npos || branch.empty()) {
        return unexpected(Errc::bad_start_line, 0);
    }
    return impl_->start_client(std::move(request), method, branch, to, now, options);
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
        I.send(t, b);
        if (code < 200) {
            t.state = State::Proceeding;
            t.response = std::move(b);
        } else {
            t.state = State::Completed;  // Timer J
            I.linger(t, t.reliable ? Duration::zero() : I.timer_64t1(), std::move(b), now);
        }
        return;
    }
    if (t.kind != Kind::ServerInvite) return;
    if (t.state == State::Proceeding) {
        I.disarm(t, kTrying);
        I.send(t, b);
        if (code < 200) {
            t.response = std::move(b);
            return;
        }
        if (code < 300) {
            // RFC 6026 §7.1: Timer L on every transport; INVITE retransmissions are absorbed
            // and the TU retransmits its 2xx itself (§13.3.1.4): no bytes need keeping
            t.state = State::Accepted;
            I.linger(t, I.timer_64t1(), nullptr, now);
        } else {
            t.state = State::Completed;
            t.response = std::move(b);
            t.trying = nullptr;
            if (!t.reliable) {
                t.interval = I.t1();  // Timer G
                I.arm(t, kRetransmit, now + t.interval);
            }
            I.arm(t, kTimeout, now + I.timer_64t1());  // Timer H
        }
    }
}

void Layer::respond_stateless(TxnId id, Bytes b, Instant now) {
    Impl& I = *impl_;
    auto it = I.txns.find(id);
    const std::uint16_t code = b ? status_of(*b) : 0;
    const bool final_answer = it != I.txns.end() && it->second.kind == Kind::ServerNonInvite &&
                              (it->second.state == State::Trying ||
                               it->second.state == State::Proceeding) &&
                              code >= 200 && code <= 699;
    if (!final_answer) return respond(id, std::move(b), now);  // its rules, or nothing
    I.send(it->second, b);
    it->second.state = State::Completed;
    I.linger(it->second, Duration::zero(), nullptr, now);  // ends now: nothing kept for Timer J
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
    std::optional<Instant> next = I.next_linger_end();
    if (!I.heap.empty() && (!next || I.heap.front().when < *next)) next = I.heap.front().when;
    return next;
}

void Layer::handle_timeouts(Instant now) {
    Impl& I = *impl_;
    while (!I.heap.empty() && I.heap.front().when <= now) {
        const Impl::HeapEntry top = I.heap.front();
        I.disarm(*top.txn, top.slot);
        I.fire(*top.txn, top.slot, top.when);
    }
    I.expire_lingering(now);
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
    impl_->stats.lingering = impl_->lingering_count;
    return impl_->stats;
}

}  // namespace sip::txn

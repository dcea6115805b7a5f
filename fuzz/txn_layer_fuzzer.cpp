// Drives the transaction layer with messages, TU calls and time from the fuzzer's bytes
// (DESIGN.md §10.5, after ngtcp2's read_write_pkt) and checks after every step:
// - no SendBytes for a transaction after its Terminated;
// - a deadline is never in the past once handle_timeouts(now) ran;
// - every client transaction ends with a final response, a timeout or a transport error
//   before it is Terminated;
// - once every server transaction is answered and time runs out, nothing is left alive.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "sip/builder.hpp"
#include "sip/txn/layer.hpp"

namespace {

using namespace sip::txn;
using sip::Instant;
using sip::Target;
using sip::Transport;

using fuzz::Reader;

constexpr const char* kMethods[] = {"INVITE", "OPTIONS", "REGISTER", "BYE", "CANCEL", "ACK", "INFO"};
constexpr const char* kBranches[] = {"z9hG4bKa", "z9hG4bKb", "z9hG4bKc", "old1", "z9hG4bK"};

std::string request(std::string_view method, std::string_view branch, bool tcp, int cseq,
                    std::string_view to_tag) {
    std::string r = std::string(method) + " sip:b@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/" +
                    (tcp ? "TCP" : "UDP") + " 198.51.100.1:5060;branch=" + std::string(branch) +
                    "\r\nFrom: <sip:a@x>;tag=f1\r\nTo: <sip:b@y>";
    if (!to_tag.empty()) r += ";tag=" + std::string(to_tag);
    r += "\r\nCall-ID: c1\r\nCSeq: " + std::to_string(cseq) + " " +
         std::string(method == "ACK" ? "ACK" : method) + "\r\nContent-Length: 0\r\n\r\n";
    return r;
}

struct Checker {
    std::set<TxnId> terminated;
    std::set<TxnId> clients;          // started client transactions
    std::set<TxnId> client_resolved;  // saw a final response, a timeout or a transport error
    std::map<TxnId, std::string> server_pending;  // RequestIn/CancelIn not yet answered
    std::map<TxnId, std::string> client_requests;

    void take(Layer& layer) {
        while (auto a = layer.poll()) {
            if (auto* s = std::get_if<SendBytes>(&*a)) {
                FUZZ_CHECK(s->txn == 0 || !terminated.count(s->txn));
                FUZZ_CHECK(s->bytes && !s->bytes->empty());
            } else if (auto* r = std::get_if<RequestIn>(&*a)) {
                server_pending[r->txn] = std::string(r->msg.bytes());
            } else if (auto* c = std::get_if<CancelIn>(&*a)) {
                server_pending[c->cancel_txn] = std::string(c->msg.bytes());
            } else if (auto* r = std::get_if<ResponseIn>(&*a)) {
                FUZZ_CHECK(clients.count(r->txn));
                if (r->msg.status_code() >= 200) client_resolved.insert(r->txn);
            } else if (auto* t = std::get_if<TxnTimeout>(&*a)) {
                if (clients.count(t->txn)) client_resolved.insert(t->txn);
            } else if (auto* e = std::get_if<TransportError>(&*a)) {
                client_resolved.insert(e->txn);
            } else if (auto* t = std::get_if<Terminated>(&*a)) {
                FUZZ_CHECK(!terminated.count(t->txn));
                terminated.insert(t->txn);
                if (clients.count(t->txn)) FUZZ_CHECK(client_resolved.count(t->txn));
                server_pending.erase(t->txn);
            }
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Reader in{data, size};
    sip::SeededRandom rng(in.byte());
    Config cfg;
    cfg.max_transactions = 1 + in.byte() % 16;
    Layer layer(cfg, rng);
    Checker chk;
    Instant now = sip::instant_ms(0);
    const Target udp{Transport::Udp, "198.51.100.1", 5060, 0, {}};
    const Target tcp{Transport::Tcp, "198.51.100.1", 5060, 3, {}};
    int cseq = 1;

    for (int steps = 0; !in.done() && steps < 400; ++steps) {
        const std::uint8_t op = in.byte();
        const bool use_tcp = op & 0x80;
        const std::string_view method = kMethods[in.byte() % std::size(kMethods)];
        const std::string_view branch = kBranches[in.byte() % std::size(kBranches)];
        switch (op % 7) {
            case 0: {  // a request arrives
                auto m = sip::Message::parse(request(method, branch, use_tcp, cseq, {}));
                if (m) layer.on_message(std::move(*m), use_tcp ? tcp : udp, now);
                break;
            }
            case 1: {  // a response arrives for some client request
                if (chk.client_requests.empty()) break;
                auto it = chk.client_requests.begin();
                std::advance(it, in.byte() % chk.client_requests.size());
                auto req = sip::Message::parse(it->second);
                if (!req) break;
                sip::ResponseSpec spec;
                spec.status = static_cast<std::uint16_t>(100 + in.byte() % 6 * 100 + in.byte() % 90);
                spec.to_tag = "t9";
                auto resp = sip::Message::parse(sip::build_response(*req, spec));
                if (resp) layer.on_message(std::move(*resp), use_tcp ? tcp : udp, now);
                break;
            }
            case 2: {  // the TU starts a client transaction
                if (method == "ACK") break;
                std::string br = std::string(branch) + std::to_string(cseq);
                std::string text = request(method, br, use_tcp, cseq++, {});
                auto id = layer.send_request(text, use_tcp ? tcp : udp, now);
                if (id) {
                    chk.clients.insert(*id);
                    chk.client_requests[*id] = text;
                }
                break;
            }
            case 3: {  // the TU answers a pending server transaction
                if (chk.server_pending.empty()) break;
                auto it = chk.server_pending.begin();
                std::advance(it, in.byte() % chk.server_pending.size());
                auto req = sip::Message::parse(it->second);
                if (!req) break;
                sip::ResponseSpec spec;
                spec.status = static_cast<std::uint16_t>(100 + in.byte() % 6 * 100);
                spec.to_tag = "s1";
                layer.respond(it->first, sip::build_response(*req, spec), now);
                break;
            }
            case 4:  // time passes
                now += std::chrono::milliseconds(in.byte() * (op & 0x40 ? 500 : 10));
                layer.handle_timeouts(now);
                break;
            case 5: {  // the transport fails for some transaction
                if (chk.client_requests.empty()) break;
                auto it = chk.client_requests.begin();
                std::advance(it, in.byte() % chk.client_requests.size());
                layer.on_transport_error(it->first, now);
                break;
            }
            default: {  // an ACK with a To tag (for a 2xx or a non-2xx)
                auto m = sip::Message::parse(request("ACK", branch, use_tcp, cseq, "s1"));
                if (m) layer.on_message(std::move(*m), use_tcp ? tcp : udp, now);
                break;
            }
        }
        chk.take(layer);
        if (auto d = layer.next_deadline()) {
            // anything due was handled when time last moved; only later deadlines remain
            if (op % 7 == 4) FUZZ_CHECK(*d > now);
        }
    }

    // wind down: answer every server transaction, then let time run out
    for (int round = 0; round < 4; ++round) {
        for (auto& [id, text] : std::map<TxnId, std::string>(chk.server_pending)) {
            auto req = sip::Message::parse(text);
            if (!req) continue;
            sip::ResponseSpec spec;
            spec.status = 500;
            layer.respond(id, sip::build_response(*req, spec), now);
        }
        chk.take(layer);
        for (int guard = 0; guard < 100'000; ++guard) {
            auto d = layer.next_deadline();
            if (!d) break;
            FUZZ_CHECK(*d >= now);
            now = *d;
            layer.handle_timeouts(now);
            chk.take(layer);
        }
    }
    FUZZ_CHECK(!layer.next_deadline());
    FUZZ_CHECK(layer.stats().live == 0);
    return 0;
}

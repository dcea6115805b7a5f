// Transaction-layer throughput without sockets: non-INVITE server transactions, request in,
// response out, terminated, on one core.
//
//   txn_bench [--transactions N] [--udp] [--with-parse]
//
// The requests are parsed before the clock starts unless --with-parse (the layer's cost is
// what this measures; bench/parser_bench measures parsing). Over TCP Timer J is zero, so
// every transaction ends at its response; --udp keeps each one for Timer J (64*T1) and
// advances fake time in 1 s steps so they end in batches, as on a real UDP server.
// Prints transactions/s; run it under `valgrind --tool=callgrind` with a small N for
// instructions per transaction (bench/run_txn_bench.sh does both).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sip/builder.hpp"
#include "sip/txn/layer.hpp"

namespace {

std::string options_request(std::size_t i, bool udp) {
    std::string b = "z9hG4bK-bench-" + std::to_string(i);
    return std::string("OPTIONS sip:ping@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/") + (udp ? "UDP" : "TCP") +
           " 198.51.100.7:5060;branch=" + b +
           "\r\nFrom: <sip:probe@198.51.100.7>;tag=f" + std::to_string(i) +
           "\r\nTo: <sip:ping@192.0.2.1>\r\nCall-ID: bench-" + std::to_string(i) +
           "@198.51.100.7\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = 1'000'000;
    bool udp = false, with_parse = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--transactions") && i + 1 < argc) n = std::strtoull(argv[++i], nullptr, 10);
        else if (!std::strcmp(argv[i], "--udp")) udp = true;
        else if (!std::strcmp(argv[i], "--with-parse")) with_parse = true;
        else {
            std::fprintf(stderr, "usage: txn_bench [--transactions N] [--udp] [--with-parse]\n");
            return 2;
        }
    }
    // A pool of distinct requests reused round-robin: branches repeat only after the pool
    // wraps, by which time their transactions are long gone (TCP) or the pool is large
    // enough (UDP: 64*T1 worth of requests at most stay alive per step).
    const std::size_t pool = std::min<std::size_t>(n, 200'000);
    std::vector<std::string> texts;
    std::vector<sip::Bytes> responses;
    texts.reserve(pool);
    responses.reserve(pool);
    for (std::size_t i = 0; i < pool; ++i) {
        texts.push_back(options_request(i, udp));
        auto m = sip::Message::parse(texts.back());
        if (!m) return 1;
        sip::ResponseSpec spec;
        spec.status = 200;
        spec.to_tag = "bench";
        responses.push_back(sip::make_bytes(sip::build_response(*m, spec)));
    }
    const sip::Target peer{udp ? sip::Transport::Udp : sip::Transport::Tcp, "198.51.100.7", 5060, 1, {}};

    sip::SeededRandom rng(1);
    sip::txn::Config cfg;
    cfg.max_transactions = 10'000'000;
    sip::txn::Layer layer(cfg, rng);

    std::vector<sip::Message> parsed;
    std::size_t done = 0, sent = 0;
    sip::Instant now = sip::instant_ms(0);
    std::chrono::steady_clock::duration timed{};
    for (std::size_t base = 0; base < n; base += pool) {
        const std::size_t batch = std::min(pool, n - base);
        if (!with_parse) {  // outside the timed region
            parsed.clear();
            for (std::size_t i = 0; i < batch; ++i) parsed.push_back(std::move(*sip::Message::parse(texts[i])));
        }
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < batch; ++i) {
            sip::Message m = with_parse ? std::move(*sip::Message::parse(texts[i])) : std::move(parsed[i]);
            layer.on_message(std::move(m), peer, now);
            sip::txn::TxnId id = 0;
            while (auto a = layer.poll()) {
                if (auto* r = std::get_if<sip::txn::RequestIn>(&*a)) id = r->txn;
            }
            layer.respond(id, responses[i], now);
            while (auto a = layer.poll()) {
                sent += std::holds_alternative<sip::txn::SendBytes>(*a);
                done += std::holds_alternative<sip::txn::Terminated>(*a);
            }
            if (udp && i % 10'000 == 9'999) {
                now += std::chrono::seconds(1);
                layer.handle_timeouts(now);
                while (auto a = layer.poll()) done += std::holds_alternative<sip::txn::Terminated>(*a);
            }
        }
        if (udp) {  // let this batch's Timer J run out before its branches are reused
            now += std::chrono::seconds(40);
            layer.handle_timeouts(now);
            while (auto a = layer.poll()) done += std::holds_alternative<sip::txn::Terminated>(*a);
        }
        timed += std::chrono::steady_clock::now() - t0;
    }
    const double secs = std::chrono::duration<double>(timed).count();
    if (done != n || sent != n) {
        std::fprintf(stderr, "txn_bench: %zu transactions, %zu terminated, %zu responses sent\n", n, done, sent);
        return 1;
    }
    std::printf("txn_bench: %zu non-INVITE server transactions over %s%s in %.3f s: %.0f transactions/s (%.0f ns each)\n",
                n, udp ? "UDP" : "TCP", with_parse ? " including parsing" : "", secs, n / secs, secs * 1e9 / n);
    return 0;
}

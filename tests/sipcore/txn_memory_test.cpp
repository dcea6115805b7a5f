// What a completed transaction costs while it absorbs retransmissions (issue: ~1 KB each for
// 32 s made a REGISTER or call flood hold hundreds of MB). Every allocation of this binary is
// measured with malloc_usable_size, so the figure is the heap the layer really holds; the
// response bytes are one shared buffer here, so only the per-transaction cost is counted.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "sip/builder.hpp"
#include "sip/txn/layer.hpp"

#include "counting_new.hpp"

using namespace sip::txn;

namespace {

constexpr int kCount = 20'000;
const sip::Target kPeer{sip::Transport::Udp, "192.0.2.10", 5060, 0, {}};

// A request as SIPp sends it: a 30-character branch, an IPv4 sent-by.
std::string request(std::string_view method, int n) {
    char branch[48];
    std::snprintf(branch, sizeof branch, "z9hG4bK-1234-%d-0-abcdefgh", n);
    std::string r = std::string(method) + " sip:bob@192.0.2.10 SIP/2.0\r\n";
    r += "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=" + std::string(branch) + "\r\n";
    r += "From: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n";
    r += "Call-ID: call-" + std::to_string(n) + "@198.51.100.1\r\n";
    r += "CSeq: 7 " + std::string(method) + "\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    return r;
}

// No Catch2 assertion inside the measured loops: a reporter that keeps every assertion (JUnit)
// would be counted as the layer's memory. Failures are counted and checked afterwards.
int g_failures = 0;

sip::Message parse(const std::string& s) {
    auto m = sip::Message::parse(s);
    if (!m) {
        ++g_failures;
        return std::move(*sip::Message::parse("OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n"
                                               "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\n"
                                               "Call-ID: c\r\nCSeq: 1 OPTIONS\r\n"
                                               "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"));
    }
    return std::move(*m);
}

void drain(Layer& layer) {
    while (layer.poll()) {
    }
}

std::string ok_to(const std::string& req) {
    sip::ResponseSpec spec;
    spec.status = 200;
    spec.to_tag = "b2";
    return sip::build_response(parse(req), spec);
}

TxnId new_request(Layer& layer) {
    while (auto a = layer.poll())
        if (auto* in = std::get_if<RequestIn>(&*a)) return in->txn;
    ++g_failures;
    return 0;
}

// Heap bytes per transaction held by `layer` after `make(i)` ran kCount times.
template <class Make>
double bytes_per_txn(Layer& layer, Make make) {
    drain(layer);
    g_failures = 0;
    const long long before = test::alloc::live_bytes;
    for (int i = 0; i < kCount; ++i) make(i);
    drain(layer);
    const long long after = test::alloc::live_bytes;
    CHECK(g_failures == 0);
    return static_cast<double>(after - before) / kCount;
}

}  // namespace

TEST_CASE("txn memory: a completed transaction holds at most 256 B besides its response",
          "[sipcore][txn][memory]") {
    sip::SeededRandom rng{1};
    Config cfg;
    Layer layer(cfg, rng);
    const sip::Instant t0 = sip::instant_ms(0);
    // one response buffer shared by all: its bytes are the "plus its response" part
    const sip::Bytes ok = sip::make_bytes(sip::build_response(parse(request("BYE", 0)), [] {
        sip::ResponseSpec s;
        s.status = 200;
        s.to_tag = "b2";
        return s;
    }()));
    const sip::Bytes ok_invite =
        sip::make_bytes(sip::build_response(parse(request("INVITE", 0)), [] {
            sip::ResponseSpec s;
            s.status = 200;
            s.to_tag = "b2";
            return s;
        }()));

    SECTION("server non-INVITE, Completed (Timer J)") {
        const double per = bytes_per_txn(layer, [&](int i) {
            layer.on_message(parse(request("BYE", i)), kPeer, t0);
            layer.respond(new_request(layer), ok, t0);
        });
        INFO("bytes per completed server non-INVITE transaction: " << per);
        CHECK(layer.stats().lingering == kCount);
        CHECK(per <= 256);
    }
    SECTION("server INVITE, Accepted (Timer L)") {
        const double per = bytes_per_txn(layer, [&](int i) {
            layer.on_message(parse(request("INVITE", i)), kPeer, t0);
            layer.respond(new_request(layer), ok_invite, t0);
        });
        INFO("bytes per Accepted server INVITE transaction: " << per);
        CHECK(per <= 256);
    }
    SECTION("client INVITE, Accepted (Timer M)") {
        const double per = bytes_per_txn(layer, [&](int i) {
            const std::string req = request("INVITE", i);
            if (!layer.send_request(req, kPeer, t0)) ++g_failures;
            layer.on_message(parse(ok_to(req)), kPeer, t0);
        });
        INFO("bytes per Accepted client INVITE transaction: " << per);
        CHECK(layer.stats().lingering == kCount);
        CHECK(per <= 256);
    }
    SECTION("client non-INVITE, Completed (Timer K)") {
        const double per = bytes_per_txn(layer, [&](int i) {
            const std::string req = request("BYE", i);
            if (!layer.send_request(req, kPeer, t0)) ++g_failures;
            layer.on_message(parse(ok_to(req)), kPeer, t0);
        });
        INFO("bytes per completed client non-INVITE transaction: " << per);
        CHECK(per <= 256);
    }
}

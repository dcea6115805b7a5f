// Heap bytes per registrar binding (issue 13 goal 1: <= Kamailio's 1,027 B per binding).
//
//   build-me/bench/reg_memory_bench [N]        (default N = 10,000)
//
// Registers N users the way bench/run_registrar_bench.sh does (the second, authenticated
// REGISTER of bench/peers/kamailio/sipp/register_auth.xml: AOR sip:u00001@anchors.test,
// Contact sip:u00001@127.0.0.1:29162, a SIPp Call-ID, Expires 3600) and prints the heap held
// afterwards per binding, for route::reg::Location alone (Binding values built as the
// Registrar builds them) and for the whole route::reg::Registrar path (Location + AuthGuard
// trust, events drained; the digest check is a stub that accepts). Two counts: mallinfo2's
// in-use bytes (with glibc's chunk headers and rounding: what RSS sees) and the usable bytes
// of the counting operator new. Transactions, the SQLite write-behind and the digest nonces
// are the server's and not in these figures.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "../tests/support/counting_new.hpp"
#include "route/reg/location.hpp"
#include "route/reg/registrar.hpp"
#include "sip/message.hpp"

using namespace std::chrono_literals;

namespace {

std::string user(int i) {
    char b[16];
    std::snprintf(b, sizeof b, "u%05d", i + 1);
    return b;
}

std::string call_id(int i) {  // SIPp's [call_id]: call number - pid @ local IP
    return std::to_string(i + 1) + "-41234@127.0.0.1";
}

std::string register_bytes(int i) {
    const std::string u = user(i), n = std::to_string(i + 1);
    std::string m = "REGISTER sip:anchors.test SIP/2.0\r\n";
    m.append("Via: SIP/2.0/UDP 127.0.0.1:29162;branch=z9hG4bK-41234-").append(n).append("\r\n");
    m.append("From: <sip:").append(u).append("@anchors.test>;tag=41234SIPpTag00").append(n);
    m.append("\r\nTo: <sip:").append(u).append("@anchors.test>\r\n");
    m.append("Call-ID: ").append(call_id(i)).append("\r\nCSeq: 2 REGISTER\r\n");
    m.append("Contact: <sip:").append(u).append("@127.0.0.1:29162>\r\n");
    m.append("Authorization: Digest username=\"").append(u);
    m.append("\",realm=\"anchors.test\",uri=\"sip:anchors.test\",nonce=\"n\",response=\"r\"\r\n");
    m.append("Max-Forwards: 70\r\nExpires: 3600\r\nUser-Agent: SIPp anchor\r\n");
    return m.append("Content-Length: 0\r\n\r\n");
}

// Accepts every Authorization; the username is the one in it (step 6 compares it to To).
class AcceptAll : public route::reg::Authenticator {
  public:
    std::vector<std::string> challenge(sip::Instant, bool) override { return {"Digest"}; }
    Outcome verify(std::string_view authorization, std::string_view, sip::Instant) override {
        const auto b = authorization.find("username=\"") + 10;
        return {Verdict::Ok, std::string(authorization.substr(b, authorization.find('"', b) - b))};
    }
};

struct Heap {
    long long in_use = 0, usable = 0;
    static Heap now() {
        malloc_trim(0);
        const struct mallinfo2 m = mallinfo2();  // hblkhd: blocks big enough to be mmapped
        return {static_cast<long long>(m.uordblks + m.hblkhd), test::alloc::live_bytes};
    }
};

void report(const char* what, const Heap& a, const Heap& b, std::size_t n) {
    const double d = n ? static_cast<double>(n) : 1.0;
    std::printf("%-34s %6zu bindings  %7.0f B/binding (malloc in use)  %7.0f B (usable)\n", what, n,
                static_cast<double>(b.in_use - a.in_use) / d,
                static_cast<double>(b.usable - a.usable) / d);
}

void location_only(int n, sip::Instant now) {
    const Heap before = Heap::now();
    auto loc = std::make_unique<route::reg::Location>();
    for (int i = 0; i < n; ++i) {
        route::reg::Binding b;
        b.contact = "sip:" + user(i) + "@127.0.0.1:29162";
        b.expires_at = now + 3600s;
        b.call_id = call_id(i);
        b.cseq = 2;
        b.source = {sip::Transport::Udp, "127.0.0.1", 29162, 0, {}};
        loc->upsert("sip:" + user(i) + "@anchors.test", std::move(b));
    }
    report("Location::upsert", before, Heap::now(), loc->binding_count());
}

void registrar_path(int n, sip::Instant now) {
    std::vector<std::string> reqs;
    for (int i = 0; i < n; ++i)
        reqs.push_back(register_bytes(i));
    AcceptAll auth;
    const Heap before = Heap::now();
    auto loc = std::make_unique<route::reg::Location>();
    auto reg = std::make_unique<route::reg::Registrar>(
        route::reg::RegistrarConfig{.register_retry = 0}, *loc, &auth);
    const sip::Target src{sip::Transport::Udp, "127.0.0.1", 29162, 0, {}};
    std::size_t refused = 0;
    for (int i = 0; i < n; ++i) {
        auto m = sip::Message::parse(reqs[i]);
        if (!m) std::abort();
        refused += reg->handle(*m, src, now).status != 200;
        while (reg->poll()) {
        }
    }
    if (refused) std::fprintf(stderr, "%zu REGISTERs refused\n", refused);
    report("Registrar::handle (+AuthGuard)", before, Heap::now(), loc->binding_count());
}

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 10'000;
    const sip::Instant now = sip::Instant{} + 1000s;
    location_only(n, now);
    registrar_path(n, now);
}

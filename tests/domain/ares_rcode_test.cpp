// The c-ares adapter against DNS servers that answer SERVFAIL or REFUSED (issue 12 item 7):
// c-ares reported both as ARES_ECONNREFUSED, which the adapter mapped to a timeout, so the
// cache never saw them. The servers are tiny UDP responders on the same libuv loop (bound to
// 127.0.0.1 port 0, so no port can clash); every wait ends on an event of the cache, whose
// resolution_timeout bounds each resolution.
#include <catch2/catch.hpp>

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "dns_builder.hpp"
#include "route/domain/ares/resolver.hpp"
#include "route/domain/cache.hpp"

using namespace route::domain;
using namespace std::chrono_literals;
using domain_test::TestRandom;

namespace {

// Answers every query with `rcode` and no records, or (rcode 0) with one A record for A
// questions and NODATA for the rest.
struct Responder {
    uv_udp_t udp{};
    int rcode = 0;
    std::string address;  // "127.0.0.1:PORT"
    int queries = 0;

    Responder(uv_loop_t* loop, int code) : rcode(code) {
        uv_udp_init(loop, &udp);
        udp.data = this;
        sockaddr_in a{};
        uv_ip4_addr("127.0.0.1", 0, &a);
        REQUIRE(uv_udp_bind(&udp, reinterpret_cast<const sockaddr*>(&a), 0) == 0);
        sockaddr_in bound{};
        int len = sizeof bound;
        uv_udp_getsockname(&udp, reinterpret_cast<sockaddr*>(&bound), &len);
        address = "127.0.0.1:" + std::to_string(ntohs(bound.sin_port));
        uv_udp_recv_start(
            &udp,
            [](uv_handle_t*, std::size_t, uv_buf_t* b) {
                static char buf[1500];
                *b = uv_buf_init(buf, sizeof buf);
            },
            [](uv_udp_t* h, ssize_t n, const uv_buf_t* b, const sockaddr* from, unsigned) {
                if (n < 12 || from == nullptr) return;
                auto* self = static_cast<Responder*>(h->data);
                ++self->queries;
                std::vector<std::uint8_t> q(b->base, b->base + n);
                self->reply(q, from);
            });
    }

    void reply(std::vector<std::uint8_t> q, const sockaddr* to) {
        // question end: labels, then QTYPE and QCLASS
        std::size_t off = 12;
        while (off < q.size() && q[off] != 0)
            off += q[off] + 1u;
        if (off + 5 > q.size()) return;
        const int qtype = q[off + 1] << 8 | q[off + 2];
        q.resize(off + 5);
        q[2] = static_cast<std::uint8_t>(0x80 | 0x04 | (q[2] & 0x01));  // QR, AA, RD copied
        q[3] = static_cast<std::uint8_t>(0x80 | rcode);                 // RA, RCODE
        for (int i = 6; i < 12; ++i)
            q[static_cast<std::size_t>(i)] = 0;  // no answer, authority, additional
        if (rcode == 0 && qtype == 1) {
            q[7] = 1;
            const std::uint8_t rr[] = {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 77};
            q.insert(q.end(), std::begin(rr), std::end(rr));
        }
        auto* req = new uv_udp_send_t;
        auto* data = new std::vector<std::uint8_t>(std::move(q));
        req->data = data;
        uv_buf_t buf =
            uv_buf_init(reinterpret_cast<char*>(data->data()), static_cast<unsigned>(data->size()));
        uv_udp_send(req, &udp, &buf, 1, to, [](uv_udp_send_t* r, int) {
            delete static_cast<std::vector<std::uint8_t>*>(r->data);
            delete r;
        });
    }
};

struct Harness {
    uv_loop_t loop{};
    TestRandom rng{77};
    DomainCache cache;
    std::vector<std::unique_ptr<Responder>> servers;
    std::unique_ptr<ares::Resolver> res;
    std::vector<Resolved> resolved;

    explicit Harness(std::vector<int> rcodes)
        : cache(
              [] {
                  CacheConfig c;
                  c.resolution_timeout = 10s;
                  return c;
              }(),
              rng) {
        uv_loop_init(&loop);
        ares::ResolverConfig rc;
        for (int code : rcodes) {
            servers.push_back(std::make_unique<Responder>(&loop, code));
            rc.servers.push_back(servers.back()->address);
        }
        rc.timeout = 500ms;
        rc.tries = 1;
        std::string err;
        res = ares::Resolver::create(&loop, cache, rc, &err);
        REQUIRE(res);
        res->set_observer([this](const Action& a) {
            if (auto* r = std::get_if<Resolved>(&a)) resolved.push_back(*r);
        });
    }
    ~Harness() {
        res.reset();
        for (auto& s : servers)
            uv_close(reinterpret_cast<uv_handle_t*>(&s->udp), nullptr);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    // Resolves `name` (A only: a port is given) and runs the loop until it ended.
    Resolved resolve(const std::string& name) {
        uv_update_time(&loop);
        REQUIRE(cache.add({name, {}, {}, 5060}, res->now()));
        res->kick();
        while (resolved.empty())
            uv_run(&loop, UV_RUN_ONCE);
        return resolved.front();
    }
};

}  // namespace

TEST_CASE("ares: SERVFAIL from the only server is SERVFAIL, not a timeout",
          "[domain][ares][rcode]") {
    Harness h({2});
    const Resolved r = h.resolve("carrier.test");
    CHECK(r.state == LookupState::Failed);
    CHECK(r.error == ErrorKind::ServFail);
    auto s = h.cache.status("carrier.test", h.res->now());
    REQUIRE(s);
    CHECK(s->last_error == ErrorKind::ServFail);
    CHECK(s->last_error_detail.find("A carrier.test") != std::string::npos);
}

TEST_CASE("ares: REFUSED from the only server is REFUSED, not a timeout", "[domain][ares][rcode]") {
    Harness h({5});
    const Resolved r = h.resolve("carrier.test");
    CHECK(r.state == LookupState::Failed);
    CHECK(r.error == ErrorKind::Refused);
}

TEST_CASE("ares: a server that answers SERVFAIL is skipped for the next one",
          "[domain][ares][rcode]") {
    Harness h({2, 0});
    const Resolved r = h.resolve("carrier.test");
    CHECK(r.state == LookupState::Ready);
    auto s = h.cache.status("carrier.test", h.res->now());
    REQUIRE(s);
    REQUIRE(s->targets.size() == 1);
    CHECK(to_string(s->targets[0]) == "192.0.2.77:5060/UDP");
    CHECK(h.servers[0]->queries >= 1);  // asked first, then the second server
    CHECK(h.servers[1]->queries >= 1);
}

TEST_CASE("ares: REFUSED from every server: the last server's answer counts",
          "[domain][ares][rcode]") {
    Harness h({2, 5});
    const Resolved r = h.resolve("carrier.test");
    CHECK(r.error == ErrorKind::Refused);
}

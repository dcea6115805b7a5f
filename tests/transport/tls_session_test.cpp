// sip::uv::TlsSession in memory: two sessions handshake through strings, no sockets.
#include <catch2/catch.hpp>

#include <string>

#include "sip/uv/tls.hpp"
#include "test_certs.hpp"

using sip::uv::TlsConfig;
using sip::uv::TlsContext;
using sip::uv::TlsSession;

namespace {

std::shared_ptr<TlsContext> ctx(const TlsConfig& cfg, TlsContext::Role role) {
    std::string err;
    auto c = TlsContext::create(cfg, role, &err);
    INFO(err);
    REQUIRE(c);
    return c;
}

TlsConfig server_cfg() {
    const tt::Pki& p = tt::pki();
    return {.cert_file = p.server_cert, .key_file = p.server_key};
}
TlsConfig client_cfg() {
    return {.ca_file = tt::pki().ca};
}

// Moves records between the two sessions until both are quiet. `step` > 0 feeds that many
// bytes at a time (record boundaries must not matter).
bool pump(TlsSession& a, TlsSession& b, std::size_t step = 0) {
    for (int round = 0; round < 50; ++round) {
        std::string ab = a.take_ciphertext();
        std::string ba = b.take_ciphertext();
        if (ab.empty() && ba.empty()) return true;
        auto feed = [&](TlsSession& to, const std::string& bytes) {
            if (step == 0) {
                to.feed(bytes);
                return;
            }
            for (std::size_t i = 0; i < bytes.size(); i += step)
                to.feed(std::string_view(bytes).substr(i, step));
        };
        if (!ab.empty()) feed(b, ab);
        if (!ba.empty()) feed(a, ba);
    }
    return false;
}

}  // namespace

TEST_CASE("tls session: handshake and data both ways in memory", "[transport][tls]") {
    auto sctx = ctx(server_cfg(), TlsContext::Role::Server);
    auto cctx = ctx(client_cfg(), TlsContext::Role::Client);
    const std::size_t step = GENERATE(0, 1, 7);
    TlsSession client(cctx, "sip.test");
    TlsSession server(sctx);
    REQUIRE(client.pending_ciphertext() > 0);           // ClientHello ready at once
    REQUIRE(client.write("OPTIONS before handshake"));  // buffered until the handshake is done
    REQUIRE(client.pending_plaintext() > 0);
    REQUIRE(pump(client, server, step));
    INFO(client.error() << " / " << server.error());
    REQUIRE(client.handshake_done());
    REQUIRE(server.handshake_done());
    CHECK(client.pending_plaintext() == 0);
    CHECK(server.take_plaintext() == "OPTIONS before handshake");
    CHECK(server.server_name() == "sip.test");  // SNI reached the server (RFC 6066 §3)
    CHECK(server.protocol() == "TLSv1.3");

    REQUIRE(server.write("SIP/2.0 200 OK"));
    REQUIRE(pump(client, server, step));
    CHECK(client.take_plaintext() == "SIP/2.0 200 OK");

    client.close_notify();
    REQUIRE(pump(client, server));
    CHECK(server.peer_closed());
    CHECK_FALSE(server.failed());
}

TEST_CASE("tls session: verification by IP address sends no SNI", "[transport][tls]") {
    auto sctx = ctx(server_cfg(), TlsContext::Role::Server);
    auto cctx = ctx(client_cfg(), TlsContext::Role::Client);
    TlsSession client(cctx, "127.0.0.1");
    TlsSession server(sctx);
    REQUIRE(pump(client, server));
    INFO(client.error());
    CHECK(client.handshake_done());
    CHECK(server.server_name().empty());  // RFC 6066 §3: no IP literals in SNI
}

TEST_CASE("tls session: wrong CA fails the handshake on both sides", "[transport][tls]") {
    auto sctx = ctx(server_cfg(), TlsContext::Role::Server);
    TlsConfig bad = client_cfg();
    bad.ca_file = tt::pki().other_ca;
    auto cctx = ctx(bad, TlsContext::Role::Client);
    TlsSession client(cctx, "sip.test");
    TlsSession server(sctx);
    pump(client, server);
    CHECK(client.failed());
    CHECK_FALSE(client.handshake_done());
    CHECK(client.error().find("certificate verify failed") != std::string::npos);
    CHECK(server.failed());  // the client's alert ended it
    CHECK_FALSE(client.write("x"));
    CHECK_FALSE(client.feed("y"));
}

TEST_CASE("tls session: certificate name mismatch fails", "[transport][tls]") {
    auto sctx = ctx(server_cfg(), TlsContext::Role::Server);
    auto cctx = ctx(client_cfg(), TlsContext::Role::Client);
    TlsSession client(cctx, "other.example");
    TlsSession server(sctx);
    pump(client, server);
    CHECK(client.failed());
    CHECK(client.error().find("certificate verify failed") != std::string::npos);
}

TEST_CASE("tls session: verify_peer off accepts an unknown CA", "[transport][tls]") {
    auto sctx = ctx(server_cfg(), TlsContext::Role::Server);
    TlsConfig lax{.verify_peer = false};
    auto cctx = ctx(lax, TlsContext::Role::Client);
    TlsSession client(cctx, "whatever.example");
    TlsSession server(sctx);
    REQUIRE(pump(client, server));
    CHECK(client.handshake_done());
}

TEST_CASE("tls session: required client certificate", "[transport][tls]") {
    const tt::Pki& p = tt::pki();
    TlsConfig scfg = server_cfg();
    scfg.require_client_cert = true;
    scfg.ca_file = p.ca;
    auto sctx = ctx(scfg, TlsContext::Role::Server);
    SECTION("without one the server refuses") {
        auto cctx = ctx(client_cfg(), TlsContext::Role::Client);
        TlsSession client(cctx, "sip.test");
        TlsSession server(sctx);
        client.write("hello");
        pump(client, server);
        CHECK(server.failed());
        CHECK(server.take_plaintext().empty());
    }
    SECTION("with one it succeeds") {
        TlsConfig ccfg = client_cfg();
        ccfg.cert_file = p.client_cert;
        ccfg.key_file = p.client_key;
        auto cctx = ctx(ccfg, TlsContext::Role::Client);
        TlsSession client(cctx, "sip.test");
        TlsSession server(sctx);
        client.write("hello");
        REQUIRE(pump(client, server));
        INFO(server.error());
        CHECK(server.handshake_done());
        CHECK(server.take_plaintext() == "hello");
    }
}

TEST_CASE("tls session: cipher configuration", "[transport][tls]") {
    SECTION("configured TLS 1.3 suites and TLS 1.2 ciphers that overlap") {
        TlsConfig scfg = server_cfg();
        scfg.ciphersuites = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384";
        scfg.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
        auto sctx = ctx(scfg, TlsContext::Role::Server);
        TlsConfig ccfg = client_cfg();
        ccfg.ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
        auto cctx = ctx(ccfg, TlsContext::Role::Client);
        TlsSession client(cctx, "sip.test");
        TlsSession server(sctx);
        REQUIRE(pump(client, server));
        CHECK(client.handshake_done());
        CHECK(client.protocol() == "TLSv1.3");
    }
    SECTION("no shared TLS 1.3 suite and no TLS 1.2 cipher: handshake fails") {
        TlsConfig scfg = server_cfg();
        scfg.ciphersuites = "TLS_CHACHA20_POLY1305_SHA256";
        scfg.ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384";
        auto sctx = ctx(scfg, TlsContext::Role::Server);
        TlsConfig ccfg = client_cfg();
        ccfg.ciphersuites = "TLS_AES_128_GCM_SHA256";
        ccfg.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
        auto cctx = ctx(ccfg, TlsContext::Role::Client);
        TlsSession client(cctx, "sip.test");
        TlsSession server(sctx);
        pump(client, server);
        CHECK(server.failed());
        CHECK(client.failed());
    }
    SECTION("invalid cipher strings are rejected at create()") {
        TlsConfig c = client_cfg();
        c.ciphers = "NO-SUCH-CIPHER";
        std::string err;
        CHECK_FALSE(TlsContext::create(c, TlsContext::Role::Client, &err));
        CHECK(err.find("NO-SUCH-CIPHER") != std::string::npos);
    }
}

TEST_CASE("tls session: context errors name the file", "[transport][tls]") {
    std::string err;
    CHECK_FALSE(TlsContext::create({}, TlsContext::Role::Server, &err));
    CHECK(err.find("cert_file") != std::string::npos);
    TlsConfig c{.cert_file = "/nonexistent/cert.pem", .key_file = "/nonexistent/key.pem"};
    CHECK_FALSE(TlsContext::create(c, TlsContext::Role::Server, &err));
    CHECK(err.find("/nonexistent/cert.pem") != std::string::npos);
}

TEST_CASE("tls session: garbage from the peer fails cleanly", "[transport][tls]") {
    auto sctx = ctx(server_cfg(), TlsContext::Role::Server);
    TlsSession server(sctx);
    CHECK_FALSE(server.feed("OPTIONS sip:x SIP/2.0\r\n\r\n"));
    CHECK(server.failed());
    CHECK_FALSE(server.error().empty());
}

TEST_CASE("tls session: partial_record while a record is only partly received",
          "[transport][tls]") {
    auto sctx = ctx(server_cfg(), TlsContext::Role::Server);
    auto cctx = ctx(client_cfg(), TlsContext::Role::Client);
    TlsSession client(cctx, "sip.test");
    TlsSession server(sctx);
    REQUIRE(pump(client, server));
    REQUIRE(server.handshake_done());
    CHECK_FALSE(server.partial_record());
    REQUIRE(client.write("OPTIONS sip:x SIP/2.0"));
    const std::string rec = client.take_ciphertext();
    REQUIRE(rec.size() > 10);
    for (std::size_t i = 0; i + 1 < rec.size(); ++i) {  // one byte at a time (a slow drip)
        REQUIRE(server.feed(rec.substr(i, 1)));
        INFO("byte " << i << " of " << rec.size());
        REQUIRE(server.partial_record());
    }
    CHECK(server.take_plaintext().empty());
    REQUIRE(server.feed(rec.substr(rec.size() - 1)));
    CHECK_FALSE(server.partial_record());
    CHECK(server.take_plaintext() == "OPTIONS sip:x SIP/2.0");
}

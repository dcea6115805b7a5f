// TLS through OpenSSL memory BIOs: the session is pure bytes in / bytes out (see tls.hpp).
#include "sip/uv/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <uv.h>

#include <algorithm>
#include <cstring>

namespace sip::uv {

namespace {

// The oldest queued OpenSSL error as text ("" if none). The queue is per thread and shared by
// every session, so callers clear it before each operation and drain it after.
std::string openssl_error() {
    std::string out;
    unsigned long e = 0;
    while ((e = ERR_get_error()) != 0) {
        if (!out.empty()) continue;  // keep the first (root cause), drop the rest
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        const char* reason = ERR_reason_error_string(e);
        out = reason ? reason : buf;
    }
    return out;
}

bool is_ip_literal(std::string_view name) {
    if (name.empty() || name.size() > 63) return false;
    char buf[64];
    std::memcpy(buf, name.data(), name.size());
    buf[name.size()] = '\0';
    unsigned char tmp[16];
    return uv_inet_pton(AF_INET, buf, tmp) == 0 || uv_inet_pton(AF_INET6, buf, tmp) == 0;
}

}  // namespace

struct TlsContext::Impl {
    SSL_CTX* ctx = nullptr;
    Role role = Role::Client;
    bool verify_peer = true;
    ~Impl() { SSL_CTX_free(ctx); }
};

TlsContext::TlsContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsContext::~TlsContext() = default;
TlsContext::Role TlsContext::role() const noexcept {
    return impl_->role;
}

std::shared_ptr<TlsContext> TlsContext::create(const TlsConfig& cfg, Role role,
                                               std::string* error) {
    auto fail = [&](std::string what) -> std::shared_ptr<TlsContext> {
        std::string why = openssl_error();
        if (error) *error = "tls: " + what + (why.empty() ? "" : ": " + why);
        return nullptr;
    };
    ERR_clear_error();
    auto impl = std::make_unique<Impl>();
    impl->role = role;
    impl->verify_peer = cfg.verify_peer;
    impl->ctx = SSL_CTX_new(role == Role::Server ? TLS_server_method() : TLS_client_method());
    if (!impl->ctx) return fail("cannot create context");
    SSL_CTX* ctx = impl->ctx;
    // RFC 8996 deprecates TLS 1.0 and 1.1; RFC 7525 §3.1.1 asks for 1.2 or later.
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // No renegotiation (a DoS lever, RFC 7525 §3.5) and no compression (CRIME).
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    // Writes go to a memory BIO, so they never partially fail; moving buffers are fine.
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (!cfg.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, cfg.ciphers.c_str()) != 1)
        return fail("cipher list '" + cfg.ciphers + "' selects nothing");
    if (!cfg.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx, cfg.ciphersuites.c_str()) != 1)
        return fail("TLS 1.3 ciphersuites '" + cfg.ciphersuites + "' are invalid");
    if (role == Role::Server && (cfg.cert_file.empty() || cfg.key_file.empty())) {
        if (error) *error = "tls: a TLS listener needs cert_file and key_file";
        return nullptr;
    }
    if (!cfg.cert_file.empty()) {
        if (SSL_CTX_use_certificate_chain_file(ctx, cfg.cert_file.c_str()) != 1)
            return fail("cannot read certificate file '" + cfg.cert_file + "'");
        if (SSL_CTX_use_PrivateKey_file(ctx, cfg.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
            return fail("cannot read key file '" + cfg.key_file + "'");
        if (SSL_CTX_check_private_key(ctx) != 1)
            return fail("key '" + cfg.key_file + "' does not match the certificate");
    }
    const bool verifies = role == Role::Client ? cfg.verify_peer : cfg.require_client_cert;
    if (verifies || !cfg.ca_file.empty()) {
        if (!cfg.ca_file.empty()) {
            if (SSL_CTX_load_verify_locations(ctx, cfg.ca_file.c_str(), nullptr) != 1)
                return fail("cannot read CA file '" + cfg.ca_file + "'");
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            return fail("cannot load the system CA store");
        }
    }
    if (role == Role::Client) {
        SSL_CTX_set_verify(ctx, cfg.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    } else if (cfg.require_client_cert) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
    ERR_clear_error();
    return std::make_shared<TlsContext>(std::move(impl));
}

struct TlsSession::Impl {
    std::shared_ptr<TlsContext> ctx;
    SSL* ssl = nullptr;
    BIO* in = nullptr;   // network -> OpenSSL (owned by ssl)
    BIO* out = nullptr;  // OpenSSL -> network (owned by ssl)
    std::string plain_in;
    std::string plain_pending;  // written before the handshake completed
    std::string error;
    std::string server_name;
    bool done = false;
    bool failed = false;
    bool peer_closed = false;
    // Record framing of what the peer sent (RFC 8446 §5.1: 5-byte header, 2-byte length), to
    // know whether a record has begun and not ended; OpenSSL does not say.
    unsigned char rec_hdr[5] = {};
    std::size_t rec_hdr_have = 0;
    std::size_t rec_left = 0;

    void track_records(std::string_view b) {
        while (!b.empty()) {
            if (rec_left > 0) {
                const std::size_t k = std::min(rec_left, b.size());
                rec_left -= k;
                b.remove_prefix(k);
                continue;
            }
            rec_hdr[rec_hdr_have++] = static_cast<unsigned char>(b.front());
            b.remove_prefix(1);
            if (rec_hdr_have == sizeof rec_hdr) {
                rec_left = static_cast<std::size_t>(rec_hdr[3]) << 8 | rec_hdr[4];
                rec_hdr_have = 0;
            }
        }
    }

    void fail(std::string what) {
        if (failed) return;
        failed = true;
        // A failed chain check is the common case; say which check (X509 reason) failed.
        if (ssl && !done && SSL_get_verify_mode(ssl) != SSL_VERIFY_NONE &&
            SSL_get_verify_result(ssl) != X509_V_OK) {
            what = std::string("certificate verify failed: ") +
                   X509_verify_cert_error_string(SSL_get_verify_result(ssl));
            ERR_clear_error();
        }
        error = std::move(what);
    }

    // Runs the handshake and reads records until OpenSSL needs more input.
    void advance() {
        if (failed) return;
        ERR_clear_error();
        if (!done) {
            const int r = SSL_do_handshake(ssl);
            if (r != 1) {
                const int e = SSL_get_error(ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
                std::string why = openssl_error();
                fail(why.empty() ? "handshake failed" : why);
                return;
            }
            done = true;
            if (SSL_is_server(ssl)) {
                const char* sn = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
                if (sn) server_name = sn;
            }
            if (!plain_pending.empty()) {
                std::string p;
                p.swap(plain_pending);
                if (!encrypt(p)) return;
            }
        }
        char buf[16384];
        for (;;) {
            const int n = SSL_read(ssl, buf, sizeof buf);
            if (n > 0) {
                plain_in.append(buf, static_cast<std::size_t>(n));
                continue;
            }
            const int e = SSL_get_error(ssl, n);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
            if (e == SSL_ERROR_ZERO_RETURN) {
                peer_closed = true;
                return;
            }
            std::string why = openssl_error();
            fail(why.empty() ? "record layer error" : why);
            return;
        }
    }

    bool encrypt(std::string_view p) {
        ERR_clear_error();
        while (!p.empty()) {
            const int chunk = static_cast<int>(std::min<std::size_t>(p.size(), 1 << 20));
            const int n = SSL_write(ssl, p.data(), chunk);
            if (n <= 0) {
                std::string why = openssl_error();
                fail(why.empty() ? "write failed" : why);
                return false;
            }
            p.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }
};

TlsSession::TlsSession(std::shared_ptr<TlsContext> ctx, std::string_view peer_name)
    : impl_(std::make_unique<Impl>()) {
    Impl& I = *impl_;
    I.ctx = std::move(ctx);
    ERR_clear_error();
    I.ssl = SSL_new(I.ctx->impl().ctx);
    I.in = BIO_new(BIO_s_mem());
    I.out = BIO_new(BIO_s_mem());
    if (!I.ssl || !I.in || !I.out) {
        BIO_free(I.in);
        BIO_free(I.out);
        I.in = I.out = nullptr;
        I.fail("out of memory");
        return;
    }
    // An empty input BIO means "wait for more", not end of file.
    BIO_set_mem_eof_return(I.in, -1);
    SSL_set_bio(I.ssl, I.in, I.out);
    if (I.ctx->role() == TlsContext::Role::Server) {
        SSL_set_accept_state(I.ssl);
        return;
    }
    SSL_set_connect_state(I.ssl);
    if (!peer_name.empty()) {
        const std::string name(peer_name);
        if (is_ip_literal(name)) {
            // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted" in SNI; the
            // certificate must then carry the address as an iPAddress subjectAltName.
            if (I.ctx->impl().verify_peer)
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(I.ssl), name.c_str());
        } else {
            SSL_set_tlsext_host_name(I.ssl, name.c_str());
            I.server_name = name;
            // RFC 5922 §7.2 / RFC 6125: match the subjectAltName DNS entries.
            if (I.ctx->impl().verify_peer) SSL_set1_host(I.ssl, name.c_str());
        }
    }
    I.advance();  // produce the ClientHello now
}

TlsSession::~TlsSession() {
    if (impl_->ssl) SSL_free(impl_->ssl);  // frees both BIOs
}

bool TlsSession::feed(std::string_view ciphertext) {
    Impl& I = *impl_;
    if (I.failed) return false;
    I.track_records(ciphertext);
    while (!ciphertext.empty()) {
        const int chunk = static_cast<int>(std::min<std::size_t>(ciphertext.size(), 1 << 20));
        const int n = BIO_write(I.in, ciphertext.data(), chunk);
        if (n <= 0) {
            I.fail("out of memory");
            return false;
        }
        ciphertext.remove_prefix(static_cast<std::size_t>(n));
    }
    I.advance();
    return !I.failed;
}

bool TlsSession::write(std::string_view plaintext) {
    Impl& I = *impl_;
    if (I.failed) return false;
    if (!I.done) {
        I.plain_pending.append(plaintext);
        return true;
    }
    return I.encrypt(plaintext);
}

void TlsSession::close_notify() {
    Impl& I = *impl_;
    if (I.failed || !I.done) return;
    ERR_clear_error();
    SSL_shutdown(I.ssl);
    ERR_clear_error();
}

std::string TlsSession::take_plaintext() {
    std::string out;
    out.swap(impl_->plain_in);
    return out;
}

std::string TlsSession::take_ciphertext() {
    Impl& I = *impl_;
    std::string out;
    if (!I.out) return out;
    const std::size_t n = BIO_ctrl_pending(I.out);
    if (n == 0) return out;
    out.resize(n);
    const int r = BIO_read(I.out, out.data(), static_cast<int>(n));
    out.resize(r > 0 ? static_cast<std::size_t>(r) : 0);
    return out;
}

std::size_t TlsSession::pending_ciphertext() const noexcept {
    return impl_->out ? BIO_ctrl_pending(impl_->out) : 0;
}
std::size_t TlsSession::pending_plaintext() const noexcept {
    return impl_->plain_pending.size();
}
bool TlsSession::partial_record() const noexcept {
    const Impl& I = *impl_;
    return !I.failed && (I.rec_hdr_have > 0 || I.rec_left > 0);
}
bool TlsSession::handshake_done() const noexcept {
    return impl_->done;
}
bool TlsSession::failed() const noexcept {
    return impl_->failed;
}
bool TlsSession::peer_closed() const noexcept {
    return impl_->peer_closed;
}
const std::string& TlsSession::error() const noexcept {
    return impl_->error;
}
const std::string& TlsSession::server_name() const noexcept {
    return impl_->server_name;
}
std::string_view TlsSession::protocol() const noexcept {
    if (!impl_->done) return {};
    return SSL_get_version(impl_->ssl);
}

}  // namespace sip::uv

// sip::uv::TlsContext / TlsSession — TLS as a sans-I/O object: ciphertext in, plaintext out.
//
//   std::string err;
//   auto ctx = sip::uv::TlsContext::create(cfg, sip::uv::TlsContext::Role::Client, &err);
//   if (!ctx) die(err);
//   sip::uv::TlsSession tls(ctx, "sip.example.com");    // SNI + name the certificate must carry
//   tls.write(request);                                  // buffered until the handshake is done
//   send_to_network(tls.take_ciphertext());              // the ClientHello (and later records)
//   ...
//   if (!tls.feed(bytes_from_network)) close(tls.error());
//   framer.feed(tls.take_plaintext());
//   send_to_network(tls.take_ciphertext());              // handshake replies, alerts, records
//
// The session never touches a socket: OpenSSL reads and writes memory BIOs, and the caller
// moves bytes between them and the network (the libuv TCP stream in Transports, or another
// session in tests). Everything is synchronous and single-threaded.
//
// Policy (RFC 3261 §26.2.1 requires TLS for sips; RFC 8996 retires TLS 1.0/1.1, and RFC 7525
// recommends 1.2+): TLS 1.2 is the minimum. A client verifies the server's chain against the
// configured CA file (or the system store when none is given) and checks the certificate
// matches the target: the DNS name when one is given (RFC 5922 §7.2, subjectAltName), else
// the IP address. SNI (RFC 6066 §3) is sent only for DNS names, never for IP literals.
//
// Errors: create() returns nullptr and sets *error ("tls: cannot read certificate file ...").
// feed()/write() return false once the session has failed; error() names the reason
// ("certificate verify failed: unable to get local issuer certificate", ...). A failed
// session may still have an alert in take_ciphertext(): send it before closing.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace sip::uv {

struct TlsConfig {
    std::string cert_file{};  // PEM certificate chain: the server's (and the client's, if set)
    std::string key_file{};   // PEM private key for cert_file
    std::string ca_file{};    // PEM CAs to verify peers with; "" = the system store
    bool verify_peer = true;  // client side: verify the server's certificate
    bool require_client_cert = false;  // server side: ask for and verify a client certificate
    std::string ciphers{};       // TLS 1.2 cipher list (OpenSSL syntax); "" = OpenSSL's default
    std::string ciphersuites{};  // TLS 1.3 suites ("TLS_AES_128_GCM_SHA256:..."); "" = default
};

class TlsContext {
public:
    enum class Role { Client, Server };
    // Server role needs cert_file and key_file. Loads files now: no I/O later.
    static std::shared_ptr<TlsContext> create(const TlsConfig& cfg, Role role, std::string* error);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    Role role() const noexcept;

    struct Impl;  // opaque: keeps OpenSSL out of this header
    explicit TlsContext(std::unique_ptr<Impl> impl);
    Impl& impl() noexcept { return *impl_; }

private:
    std::unique_ptr<Impl> impl_;
};

class TlsSession {
public:
    // Client: `peer_name` is the DNS name (SNI + certificate check) or the IP literal the
    // certificate must carry; "" skips the name check (chain still verified if verify_peer).
    // Server: `peer_name` is ignored. A client session has its ClientHello ready at once.
    TlsSession(std::shared_ptr<TlsContext> ctx, std::string_view peer_name = {});
    ~TlsSession();
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    // Ciphertext from the network. Returns false if the session failed (now or before).
    bool feed(std::string_view ciphertext);
    // Plaintext to protect; buffered until the handshake completes. False if failed.
    bool write(std::string_view plaintext);
    // Sends close_notify (RFC 8446 §6.1); the alert lands in take_ciphertext().
    void close_notify();

    // Decrypted application bytes received so far (moved out; the buffer starts empty again).
    std::string take_plaintext();
    // Records to put on the network (moved out).
    std::string take_ciphertext();
    std::size_t pending_ciphertext() const noexcept;
    // Plaintext written before the handshake completed, not yet encrypted.
    std::size_t pending_plaintext() const noexcept;
    // Ciphertext received that does not yet make a whole record (a record has started and
    // not ended: stream servers bound how long that may last).
    bool partial_record() const noexcept;

    bool handshake_done() const noexcept;
    bool failed() const noexcept;
    bool peer_closed() const noexcept;  // close_notify received
    const std::string& error() const noexcept;
    // Server: the name the client asked for with SNI ("" if none). Client: the name it sent.
    const std::string& server_name() const noexcept;
    // "TLSv1.3" etc. once the handshake is done.
    std::string_view protocol() const noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace sip::uv

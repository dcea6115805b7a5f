// wiring::HttpServer — libmicrohttpd on the switch's own libuv loop, without a thread
// (DESIGN.md §8 "Management API"): the daemon runs in its external-event-loop epoll mode, a
// sip::uv::Poll watches its epoll descriptor and calls MHD_run() when it is readable, and a
// sip::uv::Timer follows MHD_get_timeout() (idle connections, pending work). Each complete
// request goes to the handler on the loop thread, so the handler reads the switch's state
// without a lock.
//
//   wiring::HttpServer http(loop, [&](const sw::api::Request& rq) { return api.handle(rq, ...); });
//   if (std::string e = http.start("127.0.0.1:8080"); !e.empty()) die(e);
//   // e: "api: cannot listen on 127.0.0.1:8080: Address already in use"
//   http.stop();   // at shutdown: connections closed, the port released
//   // HTTPS instead ([api] tls_cert, tls_key; wiring::read_api_tls read and checked them):
//   http.start("127.0.0.1:8443", &pem);   // the PEM text is copied and kept until stop()
//
// Limits: 64 connections, 30 s idle timeout, request bodies up to 1 MiB (413 beyond), the
// same with TLS (the idle timeout also bounds a handshake that never completes). A client
// speaking plain HTTP to the TLS port fails its handshake: GnuTLS rejects the first record,
// libmicrohttpd closes that connection and nothing else notices.
// Lifetimes: the loop outlives the server; the handler runs only between start() and stop().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sip/uv/loop.hpp"
#include "sw/api.hpp"
#include "wiring/api_tls.hpp"

namespace wiring {

class HttpServer {
  public:
    using Handler = std::function<sw::api::Response(const sw::api::Request&)>;
    HttpServer(sip::uv::Loop& loop, Handler handler);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // `listen`: "127.0.0.1:8080" or "[::1]:8080"; `tls`: HTTPS with this certificate and key,
    // nullptr: plain HTTP. "" or the error.
    std::string start(const std::string& listen, const ApiTlsPem* tls = nullptr);
    void stop();
    bool running() const noexcept;
    bool tls() const noexcept;  // running with TLS
    // Whether this libmicrohttpd was built with TLS (Debian's is, with GnuTLS); "" or why not.
    static std::string tls_unavailable(const ApiTlsPem& tls);

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace wiring

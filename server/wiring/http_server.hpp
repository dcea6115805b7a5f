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
//
// Limits: 64 connections, 30 s idle timeout, request bodies up to 1 MiB (413 beyond).
// Lifetimes: the loop outlives the server; the handler runs only between start() and stop().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sip/uv/loop.hpp"
#include "sw/api.hpp"

namespace wiring {

class HttpServer {
  public:
    using Handler = std::function<sw::api::Response(const sw::api::Request&)>;
    HttpServer(sip::uv::Loop& loop, Handler handler);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // `listen`: "127.0.0.1:8080" or "[::1]:8080". "" or the error.
    std::string start(const std::string& listen);
    void stop();
    bool running() const noexcept;

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace wiring

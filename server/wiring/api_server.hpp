// wiring::ApiServer — the management API on the switch's loop: sw::api::Api (the decisions)
// behind wiring::HttpServer (libmicrohttpd), its tokens from the SQLite file, and what
// /metrics needs from outside the switch (resident memory, event-loop lag, the CDR writer's
// queue, the transports' counters).
//
//   wiring::ApiServer api({loop, sw, hasher, cdrs, driver, [&] { reloader.poll(...); }}, cfg);
//   if (std::string e = api.start(); !e.empty()) return fail(e);  // only a required address
//   ...
//   api.close();   // at shutdown, before the transports close
//
// Tokens: loaded at start and again whenever `trunkctl token add|remove` moved the token
// table's version (checked every [database] reload_poll_ms), so a removed token stops working
// within that period. With [api] enabled = false, start() does nothing.
// Lifetimes: every reference in Parts outlives the ApiServer.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sip/auth/hasher.hpp"
#include "sip/uv/loop.hpp"
#include "sw/api.hpp"
#include "sw/api/sqlite/store.hpp"
#include "sw/switch.hpp"
#include "wiring/api_data.hpp"
#include "wiring/cdr_writer.hpp"
#include "wiring/config.hpp"
#include "wiring/dns.hpp"
#include "wiring/driver.hpp"
#include "wiring/http_server.hpp"

namespace wiring {

class ApiServer {
  public:
    struct Parts {
        sip::uv::Loop& loop;
        sw::Switch& sw;
        const sip::auth::Hasher& hasher;
        const CdrWriter& cdrs;
        Driver& driver;
        // The operators' tables changed through the API (an account written): reload what
        // the switch keeps of them now (main.cpp: the Reloader's poll, which sees the file
        // move), so the next call sees the change without waiting for the poll timer.
        std::function<void()> tables_changed;
        const Dns* dns = nullptr;  // its lookup counters for /metrics; nullptr: none
        sw::api::Live* live = nullptr;  // the domain cache's live status; nullptr: none
    };
    ApiServer(Parts parts, const ServerConfig& cfg);
    ~ApiServer();

    std::string start();
    void close();

  private:
    sw::api::Response handle(const sw::api::Request& rq);
    void load_tokens();
    void sample_lag();
    sw::ProcessMetrics process() const;

    Parts p_;
    const ServerConfig& cfg_;
    sw::api::Api api_;
    HttpServer http_;
    std::unique_ptr<sw::api::sqlite::Store> store_;
    ApiData data_;
    std::optional<std::int64_t> token_version_;
    sip::uv::Timer token_timer_, lag_timer_;
    sip::Instant lag_due_{};
    std::array<sip::Duration, 40> lag_{};  // the recent samples (every 250 ms: 10 s)
    std::size_t lag_next_ = 0;
};

}  // namespace wiring

// wiring::Webhook — POSTs JSON documents (alert events) to an operator's URL from a worker
// thread (libcurl), so a slow or dead receiver never stalls the switch's loop.
//
//   wiring::Webhook hook("https://ops.example.net/trunkline", log_line);
//   hook.post(R"({"event":"raised",...})");   // queued; returns at once
//   // ~Webhook: waits for the one request in flight (bounded by the timeout), drops the rest
//
// Bounded: at most `max_queued` documents wait; more are dropped and counted. A request that
// fails (no answer within the timeout, or a status outside 2xx) is not retried: alerts are
// also in the log and GET /api/alerts. Failures are logged once per outage, with the count
// when the receiver answers again. Lifetimes: `log` is called from the worker thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace wiring {

class Webhook {
  public:
    using Log = std::function<void(const std::string&)>;
    struct Stats {
        std::uint64_t sent = 0, failed = 0, dropped = 0;
    };

    Webhook(std::string url, Log log, std::chrono::seconds timeout = std::chrono::seconds(5),
            std::size_t max_queued = 1000);
    ~Webhook();
    Webhook(const Webhook&) = delete;
    Webhook& operator=(const Webhook&) = delete;

    void post(std::string json);
    Stats stats() const;

  private:
    void run();
    bool send(const std::string& body, std::string& why);

    std::string url_;
    Log log_;
    std::chrono::seconds timeout_;
    std::size_t max_queued_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::string> queue_;
    bool stop_ = false;
    Stats stats_;
    std::thread worker_;
};

}  // namespace wiring

// wiring::CdrWriter — writes rated CDRs to the billing store on its own thread, so SQLite
// never blocks the event loop (issue 10: "SQLite writes must not block the event loop").
//
//   wiring::CdrWriter w({.database = "var/trunkline.db"}, log);
//   if (!w.start(&err)) die(err);
//   w.push(seq, std::move(cdr)); // from the loop: queued, batched, one transaction a batch
//   sw.cdrs_committed(w.stats().committed_seq);        // how far the file has them
//   w.publish_calls(list, now_ms);  // the switch's calls for `trunkctl call list` (latest wins)
//   w.stop();                    // at shutdown: everything queued is written, then joined
//
// Durability: a batch is one billing::sqlite::Store::insert_cdrs transaction (CDRs, debits,
// credits together). A failed batch (database locked, disk full) is retried every
// retry_delay, never dropped; while it fails the queue grows up to max_queue, after which
// push() waits for the writer (the loop slows down rather than losing a call's record).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "billing/cdr.hpp"
#include "route/lcr/sqlite/store.hpp"
#include "sw/metrics.hpp"

namespace wiring {

struct CdrWriterConfig {
    std::string database;
    std::size_t max_batch = 500;
    // a small batch waits this long for more CDRs: one commit (and its fsync) serves many
    // calls, so at a few thousand calls/s the writer stays a small share of a core
    std::chrono::milliseconds batch_delay{20};
    std::size_t max_queue = 100'000;
    std::chrono::milliseconds retry_delay{200};
    bool durable = true;  // synchronous=FULL
};

struct CdrWriterStats {
    std::uint64_t written = 0, batches = 0, failures = 0;
    std::size_t queued = 0;
    std::uint64_t committed_seq = 0;  // the highest seq in the file
    // time to commit one batch (seconds: 1 ms on a quiet disk, an fsync stall far more)
    sw::Histogram commit{{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}};
};

class CdrWriter {
public:
    using Log = std::function<void(const std::string&)>;  // called from the writer thread
    CdrWriter(CdrWriterConfig cfg, Log log);
    ~CdrWriter();
    CdrWriter(const CdrWriter&) = delete;
    CdrWriter& operator=(const CdrWriter&) = delete;

    bool start(std::string* error);
    void push(std::uint64_t seq, billing::Cdr cdr);
    // calls: nullopt when unchanged since the last publication
    void publish_calls(std::optional<std::vector<route::lcr::sqlite::ActiveCall>> calls,
                       std::vector<route::lcr::sqlite::GatewayLive> gateways, std::int64_t now_ms);
    void stop();
    CdrWriterStats stats() const;

private:
    void run();

    CdrWriterConfig cfg_;
    Log log_;
    mutable std::mutex mu_;
    std::condition_variable cv_, space_;
    std::deque<std::pair<std::uint64_t, billing::Cdr>> queue_;
    CdrWriterStats stats_;
    bool stopping_ = false;
    struct Published {
        std::optional<std::vector<route::lcr::sqlite::ActiveCall>> calls;
        std::vector<route::lcr::sqlite::GatewayLive> gateways;
        std::int64_t now_ms = 0;
    };
    std::optional<Published> calls_;
    std::thread thread_;
};

}  // namespace wiring

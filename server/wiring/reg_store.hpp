// wiring::RegStore — what sw::Registrations emits as store operations, written to the SQLite
// file: bindings and suspensions write-behind, on a writer thread with its own connection (one
// transaction per flush period, so neither a REGISTER flood nor a suspension wave waits for
// SQLite on the loop); carrier entry state at once, on the loop (a CSeq must never be reused
// after a crash, and it changes once per carrier refresh).
//
//   wiring::RegStore rs(store, cfg.database, loop, cfg.binding_flush);
//   if (!rs.start(&err)) die(err);                    // opens the writer's connection
//   rs.restore(sw.registrations());                   // the bindings and suspensions still valid
//   while (auto op = sw.poll_store()) rs.apply(*op);  // after every input: queued, not written
//   rs.stop();                                        // at shutdown: everything queued is written
//
// Times go to the file as wall-clock milliseconds (WallClock). A failed batch is logged and
// not retried (the next change of a binding writes it again; a lost suspension row only
// shortens what trunkctl shows, the switch holds it in memory). Lifetimes: `store` and `loop`
// outlive it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "route/reg/sqlite/store.hpp"
#include "sip/uv/loop.hpp"
#include "sw/registrations.hpp"
#include "wiring/wall_clock.hpp"

namespace wiring {

class RegStore {
  public:
    RegStore(route::reg::sqlite::Store& store, std::string database, sip::uv::Loop& loop,
             std::chrono::milliseconds flush_period);
    ~RegStore();
    RegStore(const RegStore&) = delete;
    RegStore& operator=(const RegStore&) = delete;

    bool start(std::string* error);
    void restore(sw::Registrations& regs);
    void apply(const sw::StoreOp& op);
    void stop();

    struct Stats {
        std::uint64_t batches = 0, failures = 0;
        std::size_t queued = 0;  // changes handed to the writer, not yet written
    };
    Stats stats() const;

  private:
    struct Batch {
        std::vector<route::reg::sqlite::BindingChange> bindings;
        std::vector<route::reg::sqlite::SuspensionChange> suspensions;
        bool empty() const { return bindings.empty() && suspensions.empty(); }
        std::size_t size() const { return bindings.size() + suspensions.size(); }
    };
    void hand_over();  // the loop's pending batch to the writer
    void run(std::unique_ptr<route::reg::sqlite::Store> db);
    void write(route::reg::sqlite::Store& db, const Batch& b);
    void save_trunk(const sw::TrunkStateSaved& t);

    route::reg::sqlite::Store& store_;
    std::string database_;
    sip::uv::Loop& loop_;
    WallClock clock_;
    std::chrono::milliseconds period_;
    Batch pending_;  // the loop's, until the next flush
    sip::uv::Timer timer_;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    Batch handed_;  // the writer's
    bool stopping_ = false;
    Stats stats_;
    std::thread thread_;
};

}  // namespace wiring

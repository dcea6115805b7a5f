// wiring::RegStore — what sw::Registrations emits as store operations, written to the SQLite
// file: bindings write-behind (one transaction per flush period), carrier entry state at
// once (a CSeq must never be reused after a crash), suspensions at once.
//
//   wiring::RegStore rs(store, loop, cfg.binding_flush);
//   rs.restore(sw.registrations());                   // at start: the bindings still valid
//   while (auto op = sw.poll_store()) rs.apply(*op);  // after every input
//   rs.start();                                       // the write-behind timer
//   rs.stop();                                        // at shutdown: pending bindings written
//
// Times go to the file as wall-clock milliseconds (WallClock). Errors are logged, never
// retried (the next change writes the binding again). Lifetimes: `store` and `loop` outlive it.
#pragma once

#include <chrono>
#include <vector>

#include "route/reg/sqlite/store.hpp"
#include "sip/uv/loop.hpp"
#include "sw/registrations.hpp"
#include "wiring/wall_clock.hpp"

namespace wiring {

class RegStore {
  public:
    RegStore(route::reg::sqlite::Store& store, sip::uv::Loop& loop,
             std::chrono::milliseconds flush_period);

    // The bindings of the file not yet expired, with their remaining lifetime.
    void restore(sw::Registrations& regs);
    void apply(const sw::StoreOp& op);
    void start();
    void stop();

  private:
    void flush_bindings();
    void save_trunk(const sw::TrunkStateSaved& t);

    route::reg::sqlite::Store& store_;
    sip::uv::Loop& loop_;
    WallClock clock_;
    std::chrono::milliseconds period_;
    std::vector<route::reg::sqlite::BindingChange> pending_;
    sip::uv::Timer timer_;
};

}  // namespace wiring

#include "wiring/control.hpp"

#include "sw/commands.hpp"
#include "wiring/log.hpp"

namespace wiring {

void run_commands(route::reg::sqlite::Store& store, sw::Switch& sw, sip::Instant now) {
    std::string e;
    for (const auto& c : store.take_commands(&e))
        if (auto line = sw::run_command(sw, c.kind, c.arg, now)) log_line(*line);
}

}  // namespace wiring

// /api/stats/history: the switch's last hour of calls by minute (sw::CallHistory), what the
// console's Live page charts (CPS, ASR, ACD, concurrent calls). See api.hpp "Stats".
#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <string>

#include "api_common.hpp"
#include "sw/switch.hpp"

namespace sw::api {

using namespace detail;

namespace {

// A ratio as a short JSON number (`places` decimals at most), null when there is none.
std::string number(std::optional<double> v, int places) {
    if (!v || !std::isfinite(*v)) return "null";
    const double scale = std::pow(10.0, places);
    return fmt::format("{}", std::round(*v * scale) / scale);
}

}  // namespace

Response Api::stats_history(Ctx& c) {
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    const auto minutes = sw_.calls().history().last_hour(c.now);
    std::string out = fmt::format("{{\"bucket_s\":{},\"buckets\":[", CallHistory::kMinuteMs / 1000);
    for (std::size_t i = 0; i < minutes.size(); ++i) {
        const HistoryMinute& m = minutes[i];
        out += fmt::format(
            "{}{{\"t_ms\":{},\"calls\":{},\"ended\":{},\"answered\":{},\"asr\":{},\"acd_s\":{},"
            "\"cps\":{},\"concurrent\":{},\"concurrent_last\":{}}}",
            i ? "," : "", m.start_ms, m.started, m.ended, m.answered, number(m.asr(), 4),
            number(m.acd_s(), 1), number(m.cps(), 3), m.peak_concurrent, m.last_concurrent);
    }
    return json(200, out + "]}");
}

}  // namespace sw::api

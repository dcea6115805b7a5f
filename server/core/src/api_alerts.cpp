// /api/alerts: the switch's alerts (sw::Alerts): the active ones and the latest cleared, and
// DELETE to acknowledge one. See api.hpp "Alerts".
#include <fmt/format.h>

#include <charconv>

#include "api_common.hpp"
#include "sw/switch.hpp"

namespace sw::api {

using namespace detail;

namespace {

constexpr std::size_t kClearedShown = 100;

}  // namespace

Response Api::alerts(Ctx& c, const std::optional<std::string_view>& id) {
    if (!id) {
        if (!reads(c.rq.method)) return not_allowed("GET, HEAD");
        if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
        Alerts& a = sw_.alerts();
        std::string out = "{\"active\":[";
        const auto active = a.active();
        for (std::size_t i = 0; i < active.size(); ++i) out += (i ? "," : "") + to_json(active[i]);
        out += "],\"cleared\":[";  // the latest first
        const auto& cl = a.cleared();
        for (std::size_t i = 0; i < cl.size() && i < kClearedShown; ++i)
            out += (i ? "," : "") + to_json(cl[cl.size() - 1 - i]);
        return json(200, out + "]}");
    }
    if (c.rq.method != "DELETE") return not_allowed("DELETE");
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(id->data(), id->data() + id->size(), n);
    if (ec != std::errc{} || end != id->data() + id->size()) return error(400, "an alert id is a decimal number", "id");
    if (!sw_.alerts().acknowledge(n, c.wall_ms)) return error(404, "no such active alert", "id");
    logs_.push_back(fmt::format("api: {} acknowledged alert {}", c.who_name(), n));
    JsonWriter w;
    w.begin_object().field("id", n).field("acknowledged", true).end_object();
    return json(200, w.take());
}

}  // namespace sw::api

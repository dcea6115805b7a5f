// /api/billing/settings: the settings that decide the money (billing/settings.hpp, `trunkctl
// billing show|set`) read and changed through sw::api::Data. See api.hpp "Billing settings".
#include <fmt/format.h>

#include "api_common.hpp"

namespace sw::api {

using namespace detail;

namespace {

std::string settings_json(const std::vector<billing::Setting>& settings) {
    JsonWriter w;
    w.begin_object().key("settings").begin_array();
    for (const billing::Setting& s : settings)
        w.begin_object().field("key", s.key).field("value", s.value).field("vos3000", s.vos3000).end_object();
    w.end_array().end_object();
    return w.take();
}

}  // namespace

Response Api::billing_settings(Ctx& c) {
    const std::string_view m = c.rq.method;
    if (!reads(m) && m != "PATCH") return not_allowed("GET, HEAD, PATCH");
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    if (!data_) return error(503, "the billing store is not available");
    if (m == "PATCH") {
        JsonMembers body;
        if (auto bad = read_object(c.rq, body)) return std::move(*bad);
        if (body.empty()) return error(422, "no setting given");
        std::vector<std::pair<std::string, std::string>> kv;
        for (const auto& [key, value] : body) {
            if (!billing::is_setting(key)) return error(422, "unknown billing setting", key);
            // numbers may come as JSON numbers or strings; the setting's own check decides
            if (value.kind != JsonValue::Kind::string && value.kind != JsonValue::Kind::number)
                return error(422, "must be a string or a number", key);
            kv.emplace_back(key, value.text);
        }
        if (auto ok = data_->set_billing_settings(kv); !ok) {
            const billing::Error& e = ok.error();
            if (e.code == billing::ErrorCode::invalid_argument)
                return error(422, e.message, e.field.empty() ? kv.front().first : e.field);
            return error(e.code == billing::ErrorCode::db_locked ? 503 : 500, e.message);
        }
        std::string what;
        for (const auto& [key, value] : kv) what += fmt::format("{}{}={}", what.empty() ? "" : ", ", key, value);
        logs_.push_back(fmt::format("api: {} set billing settings {}", c.who_name(), what));
    }
    auto settings = data_->billing_settings();
    if (!settings) return error(500, settings.error().message);
    Response r = json(200, settings_json(*settings));
    r.tables_changed = m == "PATCH";
    return r;
}

}  // namespace sw::api

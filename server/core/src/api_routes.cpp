// GET /api/routes/explain?number=&customer=[&caller=]: why each vendor gateway would or would
// not carry a call now, from the running switch's own router (live state: down gateways,
// lines and CPS in use) and book, as `trunkctl route explain` does from the file.
#include <fmt/format.h>

#include "api_common.hpp"
#include "route/lcr/rewrite.hpp"
#include "sw/switch.hpp"

namespace sw::api {

using namespace detail;

namespace {

std::string micros_text(route::lcr::Micros m) {
    return billing::Money::from_micros(m).to_string();
}

void explained_json(JsonWriter& w, const route::lcr::Explained& e) {
    w.begin_object()
        .field("gateway", e.gateway)
        .field("prefix", e.prefix)
        .field("order", e.order)
        .field("skip", e.skip == route::lcr::Skip::none ? std::string_view() : route::lcr::to_string(e.skip))
        .field("protect", e.protect)
        .key("vendor_per_minute");
    if (e.vendor_rate) w.value(micros_text(e.vendor_rate->per_minute));
    else w.null();
    w.field("detail", e.detail).end_object();
}

}  // namespace

Response Api::explain_route(Ctx& c) {
    if (auto bad = unknown_param(c.rq, {"number", "customer", "caller"})) return std::move(*bad);
    std::string_view number, customer, caller;
    for (const auto& [name, value] : c.rq.query)
        (name == "number" ? number : name == "customer" ? customer : caller) = value;
    if (number.empty()) return error(400, "number is required", "number");
    if (customer.empty()) return error(400, "customer (a customer gateway's name) is required", "customer");
    const route::lcr::Customers& cs = sw_.customers();
    const auto id = cs.find(customer);
    const route::lcr::CustomerSpec* spec = id ? cs.spec(*id) : nullptr;
    if (!spec) return error(404, "no such customer gateway", "customer");
    std::string routed(number);
    if (!spec->callee_rewrite.empty()) {
        std::string err;
        if (auto rules = route::lcr::RewriteRules::parse(spec->callee_rewrite, &err))
            rules->apply(number, routed);
    }
    BillingRates& rates = sw_.rates();
    rates.set_time(c.wall_ms);  // Calls sets it again before every call it routes
    const auto quote = rates.customer_rate(spec->account, routed, caller);
    route::lcr::RouteRequest rq{.number = routed,
                                .customer_per_minute = quote ? std::optional(quote->per_minute) : std::nullopt};
    std::vector<route::lcr::Explained> lines;
    sw_.router().explain(rq, rates, std::chrono::duration_cast<route::lcr::Nanos>(c.now.time_since_epoch()),
                         lines);
    JsonWriter w;
    w.begin_object()
        .field("number", number)
        .field("routed", routed)
        .field("customer", customer)
        .field("account", spec->account)
        .field("enabled", spec->enabled)
        .key("customer_rate");
    if (quote)
        w.begin_object()
            .field("per_minute", micros_text(quote->per_minute))
            .field("prefix", quote->prefix)
            .field("type", billing::to_string(quote->type))
            .end_object();
    else
        w.null();
    w.key("gateways").begin_array();
    for (const route::lcr::Explained& e : lines) explained_json(w, e);
    w.end_array().end_object();
    return json(200, w.take());
}

}  // namespace sw::api

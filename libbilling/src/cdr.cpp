#include "billing/cdr.hpp"

#include "billing/csv.hpp"

namespace billing {

Cdr make_cdr(CallRecord call, const CallRating& r) {
    Cdr c;
    c.call = std::move(call);
    c.duration_s = r.duration_s;
    c.hold_s = r.hold_s;
    if (r.customer.rate) {
        c.rate_prefix = r.customer.rate->prefix;
        c.area = r.customer.rate->area;
        c.rate_type = r.customer.rate->type;
        c.customer_price = r.customer.rate->price;
    }
    if (r.vendor.rate) {
        c.vendor_prefix = r.vendor.rate->prefix;
        c.vendor_price = r.vendor.rate->price;
    }
    c.customer_billed_s = r.customer.billed_s;
    c.vendor_billed_s = r.vendor.billed_s;
    c.charge = r.charge;
    c.cost = r.cost;
    c.profit = r.profit;
    return c;
}

std::string cdr_csv_header() {
    return "id,caller,callee,callee_out,customer,customer_gateway,vendor,vendor_gateway,"
           "setup_time,answer_time,end_time,duration_s,hold_s,sip_code,end_reason,hangup,"
           "rate_prefix,area,rate_type,vendor_prefix,customer_billed_s,vendor_billed_s,"
           "customer_price,vendor_price,rate_deviation,charge,cost,profit,call_id_in,call_id_out";
}

Result<Money> cdr_rate_deviation(const Cdr& c) { return c.customer_price.sub(c.vendor_price); }

// Only prices outside any deck's range can overflow; print nothing rather than a wrong figure.
static std::string rate_deviation_text(const Cdr& c, int decimals) {
    auto d = cdr_rate_deviation(c);
    return d ? d->to_string(decimals) : std::string();
}

int cdr_billing_mode(const Cdr& c) { return c.call.customer.empty() ? -1 : 1; }

std::string cdr_csv_line(const Cdr& c, int decimals) {
    const CallRecord& k = c.call;
    std::string s;
    s.reserve(256);
    auto f = [&](std::string_view v) {
        s += csv_escape(v);
        s += ',';
    };
    f(std::to_string(c.id));
    f(k.caller);
    f(k.callee);
    f(k.callee_out);
    f(k.customer);
    f(k.customer_gateway);
    f(k.vendor);
    f(k.vendor_gateway);
    f(format_time(k.setup_ms));
    f(k.answer_ms ? format_time(*k.answer_ms) : std::string());
    f(format_time(k.end_ms));
    f(std::to_string(c.duration_s));
    f(std::to_string(c.hold_s));
    f(std::to_string(k.sip_code));
    f(k.end_reason);
    f(to_string(k.hangup));
    f(c.rate_prefix);
    f(c.area);
    f(to_string(c.rate_type));
    f(c.vendor_prefix);
    f(std::to_string(c.customer_billed_s));
    f(std::to_string(c.vendor_billed_s));
    f(c.customer_price.to_string(decimals));
    f(c.vendor_price.to_string(decimals));
    f(rate_deviation_text(c, decimals));
    f(c.charge.to_string(decimals));
    f(c.cost.to_string(decimals));
    f(c.profit.to_string(decimals));
    f(k.call_id_in);
    s += csv_escape(k.call_id_out);
    return s;
}

static std::string pipe_safe(std::string_view v) {
    std::string s(v);
    for (char& ch : s)
        if (ch == '|' || ch == '\n' || ch == '\r') ch = ' ';
    return s;
}

std::string cdr_pipe_line(const Cdr& c, int decimals) {
    const CallRecord& k = c.call;
    const Timestamp start = k.answer_ms ? *k.answer_ms : k.setup_ms;
    std::string s;
    s.reserve(256);
    auto f = [&](std::string_view v, bool last = false) {
        s += pipe_safe(v);
        if (!last) s += '|';
    };
    // 1-9: VOS3000's fields (REFERENCE-vos3000.md 1.5).
    f(k.caller);                                     // 1 callerE164
    f(k.callee);                                     // 2 calleeE164
    f(format_time(start));                           // 3 startTime
    f(format_time(k.end_ms));                        // 4 stopTime
    f(std::to_string(c.duration_s));                 // 5 holdTime: talk time
    f(k.end_reason);                                 // 6 endReason
    f(std::to_string(static_cast<int>(k.hangup)));   // 7 endDirection
    f(k.customer_gateway);                           // 8 caller gateway
    f(k.vendor_gateway);                             // 9 callee gateway
    // 10-15: VOS3000's names are unknown; ours.
    f(k.callee_sent());
    f(k.customer);
    f(k.vendor);
    f(c.charge.to_string(decimals));
    f(c.cost.to_string(decimals));
    f(c.rate_prefix);
    f(std::to_string(kCalleeBillingCallerPays));     // 16 calleeBilling
    f(std::to_string(cdr_billing_mode(c)));          // 17 billingMode
    // 18 and after: ours.
    f(c.area);
    f(std::to_string(k.sip_code));
    f(k.call_id_in, true);
    return s;
}

std::string cdr_hour_file_name(const Cdr& c) { return format_date_hour(c.call.end_ms) + ".txt"; }

std::string cdr_json(const Cdr& c, int decimals) {
    const CallRecord& k = c.call;
    std::string s = "{\"id\":" + std::to_string(c.id);
    auto str = [&](const char* key, std::string_view v) {
        s += ",\"";
        s += key;
        s += "\":\"";
        s += json_escape(v);
        s += '"';
    };
    auto num = [&](const char* key, std::int64_t v) {
        s += ",\"";
        s += key;
        s += "\":";
        s += std::to_string(v);
    };
    str("caller", k.caller);
    str("callee", k.callee);
    str("callee_out", k.callee_out);
    str("customer", k.customer);
    str("customer_gateway", k.customer_gateway);
    str("vendor", k.vendor);
    str("vendor_gateway", k.vendor_gateway);
    str("setup_time", format_time(k.setup_ms));
    if (k.answer_ms) str("answer_time", format_time(*k.answer_ms));
    else s += ",\"answer_time\":null";
    str("end_time", format_time(k.end_ms));
    num("duration_s", c.duration_s);
    num("hold_s", c.hold_s);
    num("sip_code", k.sip_code);
    str("end_reason", k.end_reason);
    str("hangup", to_string(k.hangup));
    str("rate_prefix", c.rate_prefix);
    str("area", c.area);
    str("rate_type", to_string(c.rate_type));
    str("vendor_prefix", c.vendor_prefix);
    num("customer_billed_s", c.customer_billed_s);
    num("vendor_billed_s", c.vendor_billed_s);
    str("customer_price", c.customer_price.to_string(decimals));
    str("vendor_price", c.vendor_price.to_string(decimals));
    str("rate_deviation", rate_deviation_text(c, decimals));
    str("charge", c.charge.to_string(decimals));
    str("cost", c.cost.to_string(decimals));
    str("profit", c.profit.to_string(decimals));
    str("call_id_in", k.call_id_in);
    str("call_id_out", k.call_id_out);
    s += '}';
    return s;
}

}  // namespace billing

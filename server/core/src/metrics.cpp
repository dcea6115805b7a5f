#include "sw/metrics.hpp"

#include <fmt/format.h>

#include <map>

#include "sw/api.hpp"
#include "sw/switch.hpp"

namespace sw {
namespace {

// One metric family at a time: # HELP, # TYPE, then its samples.
class Text {
  public:
    Text& family(std::string_view name, std::string_view type, std::string_view help) {
        name_ = name;
        fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                       type);
        return *this;
    }
    Text& sample(std::uint64_t v) {
        fmt::format_to(std::back_inserter(out_), "{} {}\n", name_, v);
        return *this;
    }
    Text& seconds(sip::Duration d) {
        fmt::format_to(std::back_inserter(out_), "{} {:.6f}\n", name_,
                       std::chrono::duration<double>(d).count());
        return *this;
    }
    // name{label="value"} v
    Text& sample(std::string_view label, std::string_view value, std::uint64_t v) {
        fmt::format_to(std::back_inserter(out_), "{}{{{}=\"{}\"}} {}\n", name_, label,
                       escape(value), v);
        return *this;
    }
    // name{a="x",b="y"} v
    Text& sample(std::string_view l1, std::string_view v1, std::string_view l2,
                 std::string_view v2, std::uint64_t v) {
        fmt::format_to(std::back_inserter(out_), "{}{{{}=\"{}\",{}=\"{}\"}} {}\n", name_, l1,
                       escape(v1), l2, escape(v2), v);
        return *this;
    }
    // name<suffix>{label="value"} seconds, from milliseconds (exact: three decimals)
    Text& millis(std::string_view suffix, std::string_view label, std::string_view value,
                 std::uint64_t ms) {
        fmt::format_to(std::back_inserter(out_), "{}{}", name_, suffix);
        if (!label.empty()) fmt::format_to(std::back_inserter(out_), "{{{}=\"{}\"}}", label, escape(value));
        fmt::format_to(std::back_inserter(out_), " {}.{:03}\n", ms / 1000, ms % 1000);
        return *this;
    }
    // name<suffix>{label="value"} v
    Text& suffixed(std::string_view suffix, std::string_view label, std::string_view value,
                   std::uint64_t v) {
        fmt::format_to(std::back_inserter(out_), "{}{}", name_, suffix);
        if (!label.empty()) fmt::format_to(std::back_inserter(out_), "{{{}=\"{}\"}}", label, escape(value));
        fmt::format_to(std::back_inserter(out_), " {}\n", v);
        return *this;
    }
    // The samples of a histogram family: _bucket{le}, _sum (seconds, exact), _count.
    Text& histogram(const Histogram& h) {
        for (std::size_t i = 0; i < h.bounds().size(); ++i)
            suffixed("_bucket", "le", fmt::format("{}", h.bounds()[i]), h.cumulative()[i]);
        suffixed("_bucket", "le", "+Inf", h.count());
        fmt::format_to(std::back_inserter(out_), "{}_sum {}.{:06}\n", name_, h.sum_us() / 1'000'000,
                       h.sum_us() % 1'000'000);
        return suffixed("_count", "", "", h.count());
    }
    // One family with one sample: the usual case.
    Text& one(std::string_view name, std::string_view type, std::string_view help,
              std::uint64_t v) {
        return family(name, type, help).sample(v);
    }
    std::string take() { return std::move(out_); }

  private:
    // Prometheus text format: a label value escapes backslash, double quote and line feed.
    static std::string escape(std::string_view v) {
        std::string o;
        for (char c : v) {
            if (c == '\\' || c == '"') {
                o += '\\';
                o += c;
            } else if (c == '\n') {
                o += "\\n";
            } else {
                o += c;
            }
        }
        return o;
    }
    std::string out_;
    std::string_view name_;
};

void calls(Text& t, Switch& sw) {
    const CallsStats& s = sw.calls().stats();
    t.one("trunkline_calls_active", "gauge", "Calls in progress.", sw.calls().active());
    t.one("trunkline_calls_attempted_total", "counter", "New calls (INVITEs without a To tag).",
          s.attempts);
    t.one("trunkline_calls_answered_total", "counter", "Calls answered by a vendor.", s.answered);
    t.one("trunkline_calls_failed_total", "counter", "Calls that ended without an answer.",
          s.failed);
    t.one("trunkline_calls_refused_total", "counter",
          "Calls refused before routing (customer rules, rates, credit).", s.refused);
    t.one("trunkline_calls_illegal_total", "counter", "Calls from an unknown source.", s.illegal);
    t.one("trunkline_calls_failovers_total", "counter", "Attempts moved to the next vendor.",
          s.failovers);
    t.one("trunkline_calls_cancelled_total", "counter", "Calls the customer cancelled.",
          s.cancelled);
    t.one("trunkline_calls_server_hangups_total", "counter",
          "Calls ended by the server (timers, operator, credit).", s.server_hangups);
}

void customers(Text& t, Switch& sw) {
    const route::lcr::Customers& cs = sw.customers();
    const auto ids = cs.customers();
    t.family("trunkline_customer_calls_active", "gauge", "Calls in progress per customer gateway.");
    for (auto id : ids) t.sample("customer", cs.spec(id)->name, cs.state(id).current_calls);
    t.family("trunkline_customer_calls_total", "counter", "Calls admitted per customer gateway.");
    for (auto id : ids) t.sample("customer", cs.spec(id)->name, cs.state(id).total_calls);
    t.family("trunkline_customer_calls_refused_total", "counter",
             "Calls refused per customer gateway (its rules and limits).");
    for (auto id : ids) t.sample("customer", cs.spec(id)->name, cs.state(id).refused);
    const CallMetrics& m = sw.calls().metrics();
    auto of = [&](route::lcr::CustomerId id) {
        const GatewayCallCounters* g = m.customer(cs.spec(id)->name);
        return g ? *g : GatewayCallCounters{};
    };
    t.family("trunkline_customer_calls_answered_total", "counter",
             "Calls that ended after an answer, per customer gateway (ASR = answered / ended).");
    for (auto id : ids) t.sample("customer", cs.spec(id)->name, of(id).answered);
    t.family("trunkline_customer_calls_ended_total", "counter",
             "Calls that ended (one CDR each), per customer gateway.");
    for (auto id : ids) t.sample("customer", cs.spec(id)->name, of(id).calls);
    t.family("trunkline_customer_talk_seconds_total", "counter",
             "Answered time per customer gateway (ACD = talk seconds / answered).");
    for (auto id : ids) t.millis("", "customer", cs.spec(id)->name, of(id).talk_ms);
}

void vendors(Text& t, Switch& sw) {
    const route::lcr::Router& r = sw.router();
    const auto ids = r.gateways();
    t.family("trunkline_gateway_calls_active", "gauge", "Calls in progress per vendor gateway.");
    for (auto id : ids) t.sample("gateway", r.name(id), r.state(id).current_calls);
    t.family("trunkline_gateway_calls_total", "counter", "Calls started per vendor gateway.");
    for (auto id : ids) t.sample("gateway", r.name(id), r.state(id).total_calls);
    t.family("trunkline_gateway_calls_answered_total", "counter",
             "Calls answered per vendor gateway.");
    for (auto id : ids) t.sample("gateway", r.name(id), r.state(id).answered_calls);
    t.family("trunkline_gateway_up", "gauge", "1 when health checks keep the vendor gateway up.");
    for (auto id : ids) t.sample("gateway", r.name(id), r.state(id).down ? 0 : 1);
    const CallMetrics& m = sw.calls().metrics();
    auto of = [&](route::lcr::GatewayId id) {
        const GatewayCallCounters* g = m.vendor(r.name(id));
        return g ? *g : GatewayCallCounters{};
    };
    t.family("trunkline_gateway_talk_seconds_total", "counter",
             "Answered time per vendor gateway (ACD = talk seconds / answered).");
    for (auto id : ids) t.millis("", "gateway", r.name(id), of(id).talk_ms);
    t.family("trunkline_gateway_pdd_seconds", "summary",
             "Post-dial delay (INVITE to first ringing or answer) per vendor gateway.");
    for (auto id : ids) {
        t.millis("_sum", "gateway", r.name(id), of(id).pdd_ms);
        t.suffixed("_count", "gateway", r.name(id), of(id).pdd_count);
    }
    t.family("trunkline_call_pdd_seconds", "histogram",
             "Post-dial delay of every call: INVITE to first ringing or answer.");
    t.histogram(m.pdd());
}

void sip_counters(Text& t, Switch& sw, const ProcessMetrics& p) {
    const ElementStats& e = sw.element().stats();
    const sip::txn::Stats& x = sw.element().txn_stats();
    t.one("trunkline_sip_messages_received_total", "counter",
          "SIP messages received by the transports.", p.messages_in);
    t.one("trunkline_sip_messages_sent_total", "counter", "SIP messages sent by the transports.",
          p.messages_out);
    t.one("trunkline_sip_requests_received_total", "counter", "SIP requests received.",
          e.requests);
    t.family("trunkline_sip_requests_total", "counter",
             "SIP requests by direction and method (OTHER: methods the switch does not name).");
    for (const auto& [dir, tally] : {std::pair{"in", &e.received}, std::pair{"out", &e.sent}})
        for (std::size_t i = 0; i < SipTally::kMethods; ++i) {
            const auto m = static_cast<sip::Method>(i);
            t.sample("direction", dir, "method", m == sip::Method::Unknown ? "OTHER" : sip::method_name(m),
                     tally->requests[i]);
        }
    t.family("trunkline_sip_responses_total", "counter", "SIP responses by direction and class.");
    for (const auto& [dir, tally] : {std::pair{"in", &e.received}, std::pair{"out", &e.sent}})
        for (std::size_t c = 1; c <= 6; ++c)
            t.sample("direction", dir, "class", fmt::format("{}xx", c), tally->responses[c]);
    t.one("trunkline_sip_responses_received_total", "counter", "SIP responses received.",
          e.responses);
    t.one("trunkline_sip_answered_by_readers_total", "counter",
          "Requests the UDP reader threads answered themselves (OPTIONS; [sip] udp_threads).",
          e.answered_by_readers);
    t.family("trunkline_sip_parse_errors_total", "counter",
             "Malformed messages: answered with 400, or dropped.");
    t.sample("outcome", "answered", e.malformed_answered).sample("outcome", "dropped", e.malformed_dropped);
    t.one("trunkline_sip_retransmissions_sent_total", "counter",
          "Requests and responses retransmitted by the transaction layer.", x.retransmissions_sent);
    t.one("trunkline_sip_retransmissions_absorbed_total", "counter",
          "Retransmissions received and absorbed by a transaction.", x.retransmissions_absorbed);
    t.one("trunkline_sip_transaction_timeouts_total", "counter",
          "Client transactions that timed out (Timer B or F).", x.timeouts);
    t.one("trunkline_sip_transactions_live", "gauge", "Transactions in progress.", x.live);
    t.one("trunkline_sip_transactions_overload_rejected_total", "counter",
          "Requests refused with 503 at max_transactions.", x.rejected_overload);
    t.one("trunkline_sip_stream_connections_open", "gauge", "TCP/TLS connections open.",
          p.connections_open);
}

void registrations(Text& t, Switch& sw, sip::Instant now) {
    Registrations& r = sw.registrations();
    t.one("trunkline_registrar_bindings", "gauge", "Registered contacts (bindings).",
          r.location().binding_count());
    t.one("trunkline_registrar_aors", "gauge", "Addresses of record with a binding.",
          r.location().aor_count());
    t.one("trunkline_registrar_registers_total", "counter", "REGISTER requests handled.",
          sw.element().stats().registers);
    std::map<std::string_view, std::uint64_t> kinds{
        {"user", 0}, {"address", 0}, {"user_at_address", 0}};
    for (const auto& s : r.registrar().list_suspensions(now)) ++kinds[api::suspension_kind(s)];
    t.family("trunkline_registrar_suspensions", "gauge",
             "Suspensions after failed authentication, by kind.");
    for (const auto& [k, n] : kinds) t.sample("kind", k, n);
    t.one("trunkline_carrier_registrations", "gauge", "Carrier registration entries.",
          r.trunk_count());
}

void process(Text& t, const ProcessMetrics& p) {
    t.one("trunkline_cdr_queue_depth", "gauge", "CDRs waiting for the writer thread.", p.cdr_queued);
    t.one("trunkline_cdrs_written_total", "counter", "CDRs committed to the database.",
          p.cdr_written);
    t.one("trunkline_cdr_write_failures_total", "counter", "CDR batches that failed (retried).",
          p.cdr_failures);
    if (p.cdr_commit) {
        t.family("trunkline_cdr_write_seconds", "histogram",
                 "Time to commit one batch of CDRs (with the balances it moves).");
        t.histogram(*p.cdr_commit);
    }
    t.family("trunkline_dns_lookups_total", "counter",
             "The switch's DNS lookups by the cache's answer (stale: served past its TTL).");
    t.sample("result", "hit", p.dns_hits).sample("result", "stale", p.dns_stale);
    t.sample("result", "miss", p.dns_misses).sample("result", "failure", p.dns_failures);
    if (p.hep_sent_dropped) {
        t.one("trunkline_hep_packets_sent_total", "counter", "SIP messages sent to the HEP collector.",
              p.hep_sent_dropped->first);
        t.one("trunkline_hep_packets_dropped_total", "counter",
              "SIP messages not captured (socket or queue full, collector down).", p.hep_sent_dropped->second);
    }
    t.family("trunkline_event_loop_lag_seconds", "gauge",
             "How late the last periodic timer of the event loop fired.")
        .seconds(p.loop_lag);
    t.family("trunkline_event_loop_lag_max_seconds", "gauge",
             "The largest event-loop lag of the recent samples.")
        .seconds(p.loop_lag_max);
    t.one("trunkline_resident_memory_bytes", "gauge", "Resident set size of the process.",
          p.resident_bytes);
    t.one("trunkline_api_tokens", "gauge", "Management API tokens loaded.", p.api_tokens);
}

void alerts(Text& t, Switch& sw) {
    const auto n = sw.alerts().active_by_kind();
    t.family("trunkline_alerts_active", "gauge", "Alerts raised and not cleared, by kind.");
    for (std::size_t k = 0; k < kAlertKinds; ++k) t.sample("kind", to_string(static_cast<AlertKind>(k)), n[k]);
    t.one("trunkline_alerts_raised_total", "counter", "Alerts raised since start.", sw.alerts().raised_total());
}

}  // namespace

std::string render_metrics(Switch& sw, const ProcessMetrics& p, sip::Instant now) {
    Text t;
    calls(t, sw);
    customers(t, sw);
    vendors(t, sw);
    sip_counters(t, sw, p);
    registrations(t, sw, now);
    process(t, p);
    alerts(t, sw);
    return t.take();
}

}  // namespace sw

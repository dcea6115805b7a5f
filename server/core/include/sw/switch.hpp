// sw::Switch — the softswitch core in one object, pure (no clock, no I/O): the element
// (transactions), registrations, the B2BUA calls, LCR (vendors), customers and the billing
// book. It demultiplexes client transaction outcomes between calls and registrations, merges
// their deadlines and rates every finished call into a CDR.
//
//   sw::Switch sw(cfg, registrations_cfg, &auth, hasher, rng);
//   sw.set_book(book);                                 // accounts and rates (billing::Book)
//   sw.set_routing(customers, vendors, groups, &err);  // from route::lcr::sqlite::Store
//   sw.on_bytes(datagram, source, now);                // every input ...
//   while (auto s = sw.poll_send()) transport.send(*s);
//   while (auto op = sw.poll_store()) persist(*op);    // registrations' write-behind
//   while (auto c = sw.poll_cdr()) cdr_writer.push(*c);// rated, exactly one per call
//   while (auto l = sw.poll_log()) log(*l);
//   if (auto d = sw.next_deadline()) timer.arm(*d);    // ... and sw.handle_timeouts(now)
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "billing/account.hpp"
#include "billing/cdr.hpp"
#include "billing/rating.hpp"
#include "route/lcr/customers.hpp"
#include "route/lcr/router.hpp"
#include "sw/billing_rates.hpp"
#include "sw/alerts.hpp"
#include "sw/calls.hpp"
#include "sw/element.hpp"
#include "sw/log_safety.hpp"
#include "sw/probes.hpp"
#include "sw/registrations.hpp"
#include "sw/trace.hpp"

namespace sw {

struct SwitchConfig {
    ElementConfig element;  // .calls is set by the switch
    CallsConfig calls;
    route::lcr::RouterConfig router;
    route::lcr::CustomersConfig customers;
    billing::RatingConfig rating;
    ProbesConfig probes;
    LogLimits log;  // per-kind cap on log lines (a flood must not fill the disk)
    AlertsConfig alerts;
};

// A vendor gateway with its SIP side (what route::lcr::sqlite::VendorGateway becomes once
// its host is an address).
struct VendorEntry {
    route::lcr::GatewaySpec spec;
    VendorSip sip;
};

// A rated call: the CDR the billing store writes. `seq` numbers them from 1 in order, so
// the writer can report how far it has committed (cdrs_committed).
struct RatedCall {
    std::uint64_t seq = 0;
    billing::Cdr cdr;
    std::string gateways_tried;
    bool illegal = false;
    std::string rating_error;  // non-empty: unrated (amounts 0)
};

class Switch {
public:
    Switch(SwitchConfig cfg, RegistrationsConfig rcfg, route::reg::Authenticator* auth,
           const sip::auth::Hasher& hasher, sip::Random& rng);
    ~Switch();
    Switch(const Switch&) = delete;
    Switch& operator=(const Switch&) = delete;

    // Replaces accounts and rates (a reload from the database). Money of CDRs not yet
    // committed (see cdrs_committed) is applied to the new book again, so a reload can never
    // hand a prepaid account credit it has already spent.
    // wall_ms (not 0): the time of the reload, and vendor rate rises against the previous
    // book become alerts (sw::Alerts::rates_changed).
    void set_book(billing::Book book, std::int64_t wall_ms = 0);
    // Replaces the rating settings (billing::sqlite::Store::rating_config(), reloaded with
    // the book): the Rater of finished calls and quotas, and the LCR's reference prices.
    void set_rating(billing::RatingConfig rating);
    // Replaces the volume tiers and packages with their stored counters (reloaded with the
    // book): finished calls are priced by them (billing::VolumePricing) before they are
    // booked, and the prepaid quota of a running call is quoted with them. The counts of
    // CDRs not yet committed are added again, as their money is by set_book.
    void set_volume_pricing(billing::VolumePricing pricing);
    // The CDR writer committed every CDR up to this seq.
    void cdrs_committed(std::uint64_t seq);
    // false + *error: a customer's rewrite rule is bad (nothing changed). `now` starts the
    // health probes of new gateways.
    bool set_routing(std::vector<route::lcr::CustomerSpec> customers,
                     std::vector<VendorEntry> vendors, std::vector<route::lcr::GroupSpec> groups,
                     std::string* error, sip::Instant now = {});

    // A vendor gateway given by FQDN resolved (again) to `target`; false: unknown name.
    bool set_vendor_target(std::string_view name, const sip::Target& target, sip::Instant now);

    void on_bytes(std::string_view bytes, const sip::Target& source, sip::Instant now);
    // A datagram a UDP reader thread parsed (sw::Front): as on_bytes, not parsed again.
    void on_received(Received r, sip::Instant now);
    void on_transport_error(sip::txn::TxnId txn, sip::Instant now);
    std::optional<sip::Instant> next_deadline() const;
    void handle_timeouts(sip::Instant now);
    // after any direct call on registrations() or calls(): deliver what they produced
    void pump(sip::Instant now);

    std::optional<sip::txn::SendBytes> poll_send();
    std::optional<StoreOp> poll_store();
    std::optional<RatedCall> poll_cdr();
    // Log lines of every part, each kind capped at SwitchConfig::log per second (a summary
    // line says how many were suppressed). The sink must still escape them (escape_for_log).
    std::optional<std::string> poll_log();
    std::optional<LogEntry> poll_log_entry();  // with the line's kind and a call's fields
    // A line from outside the switch (the transports) under the same per-kind budget; the
    // suppressed ones are counted in poll_log()'s summary.
    bool admit_log(LogKind kind, sip::Instant now) { return log_limiter_.admit(kind, now); }

    Element& element() noexcept { return *element_; }
    Registrations& registrations() noexcept { return *regs_; }
    Calls& calls() noexcept { return *calls_; }
    route::lcr::Router& router() noexcept { return router_; }
    route::lcr::Customers& customers() noexcept { return customers_; }
    const billing::Book& book() const noexcept { return *book_; }
    Alerts& alerts() noexcept { return alerts_; }
    // On-demand captures (VOS3000's debug trace): the driver feeds every message in and out
    // while one is active; the API starts, lists, reads and removes them.
    trace::Traces& traces() noexcept { return traces_; }
    // What a trace's matching asks of a call by either leg's Call-ID (sw/trace.hpp).
    std::optional<trace::CallFacts> trace_facts(std::string_view call_id) const;
    // Negative margins of every customer rate group towards every enabled vendor gateway;
    // after a reload of the book or the routing.
    void review_margins(std::int64_t wall_ms);
    // Gateways down, balances and ASR against the alert thresholds; every second or so.
    void tick_alerts(sip::Instant now, std::int64_t wall_ms);
    BillingRates& rates() noexcept { return *rates_; }  // the book's prices (route explain)

private:
    RatedCall rate(CallEnded e);
    struct Unbooked {  // applied to the in-memory book, not yet committed to the database
        std::uint64_t seq;
        std::string customer, vendor;
        billing::Money charge, cost;
        std::optional<billing::Cdr> counted;  // a CDR with tier volume or package seconds
    };
    std::deque<Unbooked> unbooked_;
    std::uint64_t next_seq_ = 1;

    SwitchConfig cfg_;
    std::unique_ptr<Element> element_;
    std::unique_ptr<billing::Book> book_;
    std::unique_ptr<BillingRates> rates_;
    route::lcr::Router router_;
    route::lcr::Customers customers_;
    std::unique_ptr<Registrations> regs_;
    std::unique_ptr<Calls> calls_;
    std::unique_ptr<GatewayProbes> probes_;
    LogLimiter log_limiter_;
    Alerts alerts_;
    trace::Traces traces_;
    std::map<std::string, std::string, std::less<>> vendor_accounts_;  // vendor gateway -> account
    sip::Instant last_now_{};  // the latest time the switch was given
};

}  // namespace sw

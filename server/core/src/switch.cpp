#include "sw/switch.hpp"

#include <set>

#include <fmt/format.h>

namespace sw {

Switch::Switch(SwitchConfig cfg, RegistrationsConfig rcfg, route::reg::Authenticator* auth,
               const sip::auth::Hasher& hasher, sip::Random& rng)
    : cfg_(std::move(cfg)),
      book_(std::make_unique<billing::Book>()),
      router_(cfg_.router),
      customers_(cfg_.customers),
      log_limiter_(cfg_.log),
      alerts_(cfg_.alerts) {
    cfg_.element.calls = !cfg_.element.echo_uas;  // --echo-uas: a test UAS, not a switch
    element_ = std::make_unique<Element>(cfg_.element, rng);
    rates_ = std::make_unique<BillingRates>(*book_, BillingRatesConfig{cfg_.rating.currency, 90});
    regs_ = std::make_unique<Registrations>(std::move(rcfg), *element_, auth, hasher, rng);
    cfg_.calls.rating = cfg_.rating;
    calls_ = std::make_unique<Calls>(cfg_.calls, *element_, router_, customers_, *rates_, *book_,
                                     auth, rng);
    calls_->set_auth_rules(&regs_->registrar());
    probes_ = std::make_unique<GatewayProbes>(cfg_.probes, *element_, router_, rng);
}
Switch::~Switch() = default;

void Switch::set_book(billing::Book book, std::int64_t wall_ms) {
    book.compact();
    if (wall_ms != 0) alerts_.rates_changed(*book_, book, wall_ms);
    for (const Unbooked& u : unbooked_) {
        if (u.charge.micros() != 0)
            if (auto neg = u.charge.negate()) (void)book.adjust_balance(u.customer, *neg);
        if (u.cost.micros() != 0 && !u.vendor.empty()) (void)book.adjust_balance(u.vendor, u.cost);
    }
    // the same object keeps its address: BillingRates and the Rater hold a reference to it
    *book_ = std::move(book);
}

void Switch::set_volume_pricing(billing::VolumePricing pricing) {
    for (const Unbooked& u : unbooked_)
        if (u.counted) pricing.count(*u.counted, cfg_.rating.calendar);
    calls_->set_volume_pricing(std::move(pricing));
}

void Switch::set_rating(billing::RatingConfig rating) {
    rates_->set_currency(rating.currency);
    cfg_.rating = rating;
    cfg_.calls.rating = rating;
    calls_->set_rating(std::move(rating));
}

void Switch::cdrs_committed(std::uint64_t seq) {
    while (!unbooked_.empty() && unbooked_.front().seq <= seq)
        unbooked_.pop_front();
}

bool Switch::set_routing(std::vector<route::lcr::CustomerSpec> customers,
                         std::vector<VendorEntry> vendors,
                         std::vector<route::lcr::GroupSpec> groups, std::string* error,
                         sip::Instant now) {
    bool digest = false;
    for (const auto& c : customers)
        digest = digest || (c.enabled && c.auth == route::lcr::AuthMode::digest);
    if (!customers_.set_customers(std::move(customers), error)) return false;
    calls_->set_digest_customers(digest);
    std::vector<route::lcr::GatewaySpec> specs;
    specs.reserve(vendors.size());
    for (auto& v : vendors) {
        v.spec.rate_key = rates_->key_for_vendor(v.sip.vendor_account);
        specs.push_back(v.spec);
    }
    router_.set_gateways(std::move(specs), std::move(groups));
    vendor_accounts_.clear();
    for (const auto& v : vendors) vendor_accounts_[v.spec.name] = v.sip.vendor_account;
    std::unordered_map<route::lcr::GatewayId, VendorSip> sip;
    std::vector<ProbeTarget> probe_targets;
    for (auto& v : vendors) {
        auto id = router_.find(v.spec.name);
        if (!id) continue;
        if (v.sip.probe && v.spec.enabled && !v.sip.host.empty())
            probe_targets.push_back({*id, {v.sip.transport, v.sip.host, v.sip.port, 0, {}}});
        sip.emplace(*id, std::move(v.sip));
    }
    calls_->set_vendors(std::move(sip));
    probes_->set_targets(std::move(probe_targets), now);
    return true;
}

std::optional<trace::CallFacts> Switch::trace_facts(std::string_view call_id) const {
    auto c = calls_->find_by_call_id(call_id);
    if (!c) return std::nullopt;
    return trace::CallFacts{std::move(c->customer), std::move(c->vendor_gateway),
                            c->call_id_in == call_id ? std::move(c->call_id_out) : std::move(c->call_id_in)};
}

void Switch::review_margins(std::int64_t wall_ms) {
    std::set<std::string> customer_groups;
    for (route::lcr::CustomerId id : customers_.customers()) {
        const route::lcr::CustomerSpec* c = customers_.spec(id);
        const billing::Account* a = c && c->enabled ? book_->account(c->account) : nullptr;
        if (a && !a->rate_group.empty()) customer_groups.insert(a->rate_group);
    }
    std::vector<MarginRoute> routes;
    for (route::lcr::GatewayId id : router_.gateways()) {
        const route::lcr::GatewaySpec* g = router_.spec(id);
        auto acc = g && g->enabled ? vendor_accounts_.find(g->name) : vendor_accounts_.end();
        const billing::Account* v = acc != vendor_accounts_.end() ? book_->account(acc->second) : nullptr;
        if (!v || v->rate_group.empty()) continue;
        for (const std::string& cg : customer_groups)
            routes.push_back({cg, g->name, v->rate_group, g->prefixes});
    }
    alerts_.margins(*book_, routes, wall_ms);
}

void Switch::tick_alerts(sip::Instant now, std::int64_t wall_ms) {
    std::vector<GatewayHealth> gateways;
    const CallMetrics& m = calls_->metrics();
    for (route::lcr::GatewayId id : router_.gateways()) {
        const route::lcr::GatewayState st = router_.state(id);
        GatewayHealth h{router_.name(id), st.down, st.down_reason, 0, 0};
        if (const GatewayCallCounters* c = m.vendor(h.name)) h.calls = c->calls, h.answered = c->answered;
        gateways.push_back(std::move(h));
    }
    alerts_.tick(gateways, *book_, now, wall_ms);
}

bool Switch::set_vendor_target(std::string_view name, const sip::Target& target,
                               sip::Instant now) {
    auto id = router_.find(name);
    if (!id) return false;
    calls_->set_vendor_target(*id, target);
    const route::lcr::GatewaySpec* spec = router_.spec(*id);
    if (spec && spec->enabled) probes_->set_target({*id, target}, now);
    return true;
}

void Switch::on_bytes(std::string_view bytes, const sip::Target& source, sip::Instant now) {
    element_->on_bytes(bytes, source, now);
    pump(now);
}

void Switch::on_received(Received r, sip::Instant now) {
    element_->on_received(std::move(r), now);
    pump(now);
}

void Switch::on_transport_error(sip::txn::TxnId txn, sip::Instant now) {
    element_->on_transport_error(txn, now);
    pump(now);
}

std::optional<sip::Instant> Switch::next_deadline() const {
    std::optional<sip::Instant> d = element_->next_deadline();
    for (auto o : {regs_->next_deadline(), calls_->next_deadline(), probes_->next_deadline(),
                   log_limiter_.next_deadline()})
        if (o && (!d || *o < *d)) d = o;
    return d;
}

void Switch::handle_timeouts(sip::Instant now) {
    element_->handle_timeouts(now);
    regs_->handle_timeouts(now);
    calls_->handle_timeouts(now);
    probes_->handle_timeouts(now);
    log_limiter_.tick(now);
    pump(now);
}

// Events go back and forth (a call's response makes the element send; a registration's
// answer starts another request); a bounded number of rounds drains them.
void Switch::pump(sip::Instant now) {
    last_now_ = now;
    for (int round = 0; round < 16; ++round) {
        bool any = false;
        while (auto in = element_->poll_call_input()) {
            calls_->on_input(std::move(*in), now);
            any = true;
        }
        while (auto ce = element_->poll_client_event()) {
            if (!calls_->on_client_event(*ce, now) && !probes_->on_client_event(*ce, now))
                regs_->on_client_event(*ce, now);
            any = true;
        }
        regs_->pump(now);
        if (!any) break;
    }
}

std::optional<sip::txn::SendBytes> Switch::poll_send() {
    return element_->poll_send();
}
std::optional<StoreOp> Switch::poll_store() {
    return regs_->poll_store();
}

RatedCall Switch::rate(CallEnded e) {
    RatedCall out;
    out.seq = next_seq_++;
    out.gateways_tried = std::move(e.gateways_tried);
    out.illegal = e.illegal;
    if (e.rating) {
        out.cdr = e.cdr ? std::move(*e.cdr) : billing::make_cdr(std::move(e.record), *e.rating);
        const bool counts = !out.cdr.tier_prefix.empty() || !out.cdr.package_name.empty();
        if (!out.cdr.charge.is_zero() || !out.cdr.cost.is_zero() || counts)
            unbooked_.push_back({out.seq, out.cdr.call.customer, out.cdr.call.vendor,
                                 out.cdr.charge, out.cdr.cost,
                                 counts ? std::optional<billing::Cdr>(out.cdr) : std::nullopt});
    } else {
        out.rating_error = e.illegal ? std::string() : std::move(e.rating_error);
        out.cdr.call = std::move(e.record);
    }
    return out;
}

std::optional<RatedCall> Switch::poll_cdr() {
    auto e = calls_->poll_cdr();
    if (!e) return std::nullopt;
    return rate(std::move(*e));
}

std::optional<std::string> Switch::poll_log() {
    auto e = poll_log_entry();
    if (!e) return std::nullopt;
    return std::move(e->text);
}

std::optional<LogEntry> Switch::poll_log_entry() {
    // the limiter's summary is about logging itself: kind transport keeps it out of "call"
    if (auto s = log_limiter_.summary(last_now_)) return LogEntry{LogKind::transport, std::move(*s), {}};
    const auto admitted = [&](LogKind kind, auto& part) -> std::optional<LogEntry> {
        while (auto l = part.poll_log())
            if (log_limiter_.admit(kind, last_now_)) return LogEntry{kind, std::move(*l), {}};
        return std::nullopt;
    };
    if (auto l = admitted(LogKind::message, *element_)) return l;
    while (auto l = regs_->poll_log_entry())  // registration or suspension
        if (log_limiter_.admit(l->kind, last_now_)) return l;
    if (auto l = admitted(LogKind::probe, *probes_)) return l;
    while (auto l = calls_->poll_log_entry())
        if (log_limiter_.admit(LogKind::call, last_now_)) return l;
    return std::nullopt;
}

}  // namespace sw

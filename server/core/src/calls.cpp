#include "sw/calls.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <type_traits>

#include "sip/builder.hpp"

namespace sw {
namespace {

// Concatenation without a format string: these build every request of every call.
template <class... Parts>
std::string concat(const Parts&... parts) {
    std::string s;
    s.reserve(64);
    auto one = [&s](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, char>) {
            char buf[24];
            s.append(buf, std::to_chars(buf, buf + sizeof buf, p).ptr);
        } else {
            s.append(std::string_view(p));
        }
    };
    (one(parts), ...);
    return s;
}

using sip::txn::TxnId;
using route::lcr::GatewayId;

enum class Phase : std::uint8_t { trying, early, connected };
enum class Side : std::uint8_t { a, b, server };  // server: both legs get BYE

// One side of a dialog as we see it (RFC 3261 §12): what our in-dialog requests carry.
struct Leg {
    sip::Target target;  // where our requests go
    std::string call_id, local_tag, remote_tag;
    std::string local_uri, remote_uri;  // From / To of our requests, without tags
    std::string remote_target;          // Request-URI of our in-dialog requests
    std::vector<std::string> routes;    // Route values
    std::uint32_t cseq = 0;             // last CSeq we used
};

// A relayed in-dialog request waiting for the other side's answer.
struct Relay {
    std::uint64_t call = 0;
    TxnId server_txn = 0;
    Side from = Side::a;
    sip::Message request;
};

// An INVITE attempt we gave up on (progress timeout, CANCEL): a 2xx that still arrives is
// ACKed and ended with BYE (RFC 3261 §9.1 race), nothing else matters.
struct Abandoned {
    Leg leg;
    std::uint32_t invite_cseq = 1;
};

// RFC 4028 state of one leg.
struct SessionTimer {
    bool active = false;
    bool we_refresh = false;
    sip::Duration interval{};
    std::optional<sip::Instant> due;  // we refresh: next UPDATE; peer refreshes: expiry guard
};

struct Call {
    std::uint64_t id = 0;
    Phase phase = Phase::trying;
    // inbound (customer) leg
    TxnId a_txn = 0;
    std::optional<sip::Message> a_invite;
    Leg a;
    bool a_has_sdp = false;
    route::lcr::CustomerId customer = 0;
    std::string customer_name, account, dest_key;
    std::string caller_in, callee_in, caller, callee;
    std::optional<route::lcr::Micros> customer_per_minute;
    // candidates and the current outbound attempt
    std::vector<route::lcr::Candidate> candidates;
    std::size_t next = 0;
    std::uint32_t attempts = 0;
    TxnId b_txn = 0;
    Leg b;
    GatewayId gw = 0;
    bool gw_active = false;  // router.call_started() without call_ended() yet
    sip::Bytes b_invite;     // the outbound INVITE until its final answer (for CANCEL)
    std::string callee_out, vendor_gateway, vendor_account;
    bool b_provisional = false, early_sdp = false, cancelled = false;
    bool pdd_noted = false;  // the post-dial delay went to the metrics (first ringing or answer)
    // outcome
    std::uint16_t best_code = 0;
    std::string best_reason;
    std::string tried;
    // times
    sip::Instant setup;
    std::optional<sip::Instant> answer;
    std::optional<sip::Instant> progress_deadline, max_deadline;
    std::optional<sip::Instant> proceeding_deadline;  // the customer's proceeding timeout
    // connected: our 2xx to the customer until its ACK, our ACK to the vendor
    sip::Bytes a_ok;
    sip::Target a_ok_to;
    sip::Duration ok_interval{};
    std::optional<sip::Instant> ok_next;
    sip::Instant ok_give_up;
    sip::Bytes b_ack;
    bool late_offer = false;
    // prepaid: talk time granted so far and the credit it holds
    std::int64_t granted_s = 0;
    billing::Money reserved;
    std::optional<sip::Instant> credit_deadline;
    SessionTimer st_a, st_b;
    std::optional<sip::Instant> armed;  // the key in Impl::timers
};

// RFC 3261 §16.7 step 6 flavour: 6xx beats everything, then 4xx, then 5xx; 408 (our own
// timeouts) only when nothing better came.
int rank(std::uint16_t code) {
    if (code >= 600) return 4;
    if (code == 408) return 1;
    if (code >= 400 && code < 500) return 3;
    if (code >= 500) return 2;
    return 0;
}

bool has_sdp(const sip::Message& m) {
    return !m.body().empty();
}

std::string_view header(const sip::Message& m, sip::HeaderId id) {
    const sip::HeaderField* h = m.find(id);
    return h ? m.value(*h) : std::string_view();
}

std::string user_of(std::string_view uri_text) {
    auto u = sip::parse_uri(uri_text);
    if (!u) return {};
    return std::string(u->user);
}

std::string contact_uri(const sip::Message& m) {
    const sip::HeaderField* h = m.find(sip::HeaderId::Contact);
    if (!h) return {};
    auto na = sip::parse_name_addr(m.value(*h));
    return na ? std::string(na->uri) : std::string();
}

std::vector<std::string> record_routes(const sip::Message& m, bool reverse) {
    std::vector<std::string> r;
    for (const sip::HeaderField& h : m.headers())
        if (h.id == sip::HeaderId::RecordRoute) r.emplace_back(m.value(h));
    if (reverse) std::reverse(r.begin(), r.end());
    return r;
}

}  // namespace

struct Calls::Impl {
    CallsConfig cfg;
    Element& element;
    route::lcr::Router& router;
    route::lcr::Customers& customers;
    BillingRates& rates;
    billing::Book& book;
    billing::Rater rater;
    // Volume tiers and packages with their counters (billing/volume_pricing.hpp), loaded with
    // the book; every finished call is priced and counted here, in call order.
    billing::VolumePricing pricing;
    route::reg::Authenticator* auth = nullptr;
    route::reg::Registrar* auth_rules = nullptr;  // retry/suspend rules for digest customers
    bool digest_customers = false;
    sip::Random& rng;
    std::unordered_map<std::string, billing::Money> reserved;  // account -> held by its calls
    std::unordered_map<GatewayId, VendorSip> vendors;
    std::unordered_map<std::uint64_t, std::unique_ptr<Call>> calls;
    std::unordered_map<TxnId, std::uint64_t> by_a_txn;  // customer INVITE -> call
    std::unordered_map<std::string, std::pair<std::uint64_t, Side>> dialogs;  // Call-ID\nour tag
    std::unordered_map<TxnId, std::uint64_t> invites;  // outbound INVITE -> call
    std::unordered_map<TxnId, std::uint64_t> accepted;  // answered outbound INVITE -> call
    std::unordered_map<TxnId, Relay> relays;
    std::unordered_map<TxnId, std::pair<std::uint64_t, Side>> refreshes;  // our UPDATEs
    std::unordered_map<TxnId, Abandoned> abandoned;
    std::set<TxnId> ignored;  // BYE / CANCEL / ACK-side transactions whose outcome is moot
    std::set<std::pair<sip::Instant, std::uint64_t>> timers;
    std::deque<CallEnded> cdrs;
    std::deque<LogEntry> logs;
    route::lcr::RouteBuffer route_buf;
    CallsStats stats;
    CallMetrics metrics;
    CallHistory history{cfg.unix_offset_ms};  // the last hour by minute (the Live page)
    std::uint64_t next_id = 1;
    std::uint64_t generation = 0;
    std::optional<std::chrono::seconds> draining;  // set: new INVITEs get 503, this Retry-After

    Impl(CallsConfig c, Element& e, route::lcr::Router& r, route::lcr::Customers& cu,
         BillingRates& ra, billing::Book& b, route::reg::Authenticator* a, sip::Random& rn)
        : cfg(std::move(c)),
          element(e),
          router(r),
          customers(cu),
          rates(ra),
          book(b),
          rater(b, cfg.rating),
          auth(a),
          rng(rn) {}

    // --- small helpers

    static std::int64_t seconds(sip::Duration d) {
        return std::chrono::duration_cast<std::chrono::seconds>(d).count();
    }

    std::int64_t wall_ms(sip::Instant t) const {
        return cfg.unix_offset_ms +
               std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    }
    route::lcr::Nanos nanos(sip::Instant t) const {
        return std::chrono::duration_cast<route::lcr::Nanos>(t.time_since_epoch());
    }
    LocalAddress local(sip::Transport t) const {
        auto it = cfg.local.find(t);
        if (it != cfg.local.end()) return it->second;
        if (!cfg.local.empty()) return cfg.local.begin()->second;
        return {"127.0.0.1", 5060};
    }
    std::string via(sip::Transport t, const std::string& branch) const {
        const LocalAddress l = local(t);
        return concat("SIP/2.0/", sip::transport_name(t), " ", l.host, ":", l.port, ";branch=",
                      branch, ";rport");
    }
    std::string contact(sip::Transport t) const {
        const LocalAddress l = local(t);
        if (t == sip::Transport::Udp) return concat("<sip:trunkline@", l.host, ":", l.port, ">");
        return concat("<sip:trunkline@", l.host, ":", l.port, ";transport=",
                      t == sip::Transport::Tls ? "tls" : "tcp", ">");
    }
    // Formats only when call logging is on (--quiet turns it off for load).
    template <class... Args>
    void log(fmt::format_string<Args...> format, Args&&... args) {
        if (cfg.log_calls) logs.push_back({LogKind::call, fmt::format(format, std::forward<Args>(args)...), {}});
    }
    // A line about one call: "call 12: ..." with the call's id, customer gateway, vendor
    // gateway (once chosen) and incoming Call-ID as fields (structured logs, issue 11 item 4).
    template <class... Args>
    void log_call(const Call& c, fmt::format_string<Args...> format, Args&&... args) {
        if (!cfg.log_calls) return;
        LogEntry e{LogKind::call, fmt::format("call {}: {}", c.id, fmt::format(format, std::forward<Args>(args)...)),
                   {{"call", std::to_string(c.id)}, {"customer", c.customer_name}}};
        if (!c.vendor_gateway.empty()) e.fields.emplace_back("gateway", c.vendor_gateway);
        if (!c.a.call_id.empty()) e.fields.emplace_back("call_id", c.a.call_id);
        logs.push_back(std::move(e));
    }
    Call* find(std::uint64_t id) {
        auto it = calls.find(id);
        return it == calls.end() ? nullptr : it->second.get();
    }

    void rearm(Call& c) {
        if (c.armed) timers.erase({*c.armed, c.id});
        c.armed.reset();
        for (const auto& d : {c.progress_deadline, c.max_deadline, c.ok_next, c.credit_deadline,
                              c.st_a.due, c.st_b.due, c.proceeding_deadline})
            if (d && (!c.armed || *d < *c.armed)) c.armed = d;
        if (c.armed) timers.insert({*c.armed, c.id});
    }

    // --- answers to the customer

    void respond(TxnId txn, const sip::Message& req, std::uint16_t code, std::string_view reason,
                 std::string_view to_tag, const sip::Message* relay_body, bool with_contact,
                 sip::Instant now, sip::Transport t) {
        sip::ResponseSpec spec;
        spec.status = code;
        spec.reason = reason;
        spec.to_tag = to_tag;
        const std::string ct = contact(t);
        spec.extra.push_back({"Server", cfg.server_header});
        if (with_contact) spec.extra.push_back({"Contact", ct});
        if (relay_body && !relay_body->body().empty()) {
            spec.content_type = header(*relay_body, sip::HeaderId::ContentType);
            spec.body = relay_body->body();
        }
        element.respond(txn, sip::make_bytes(sip::build_response(req, spec)), now);
    }
    void respond_a(Call& c, std::uint16_t code, std::string_view reason,
                   const sip::Message* from_b, sip::Instant now) {
        respond(c.a_txn, *c.a_invite, code, reason, c.a.local_tag, from_b,
                code < 300 && code > 100, now, c.a.target.transport);
    }

    // --- requests on a leg

    BuiltRequest in_dialog(Leg& leg, std::string_view method, std::uint32_t cseq,
                           const sip::Message* body_from, std::string_view body = {},
                           std::string_view content_type = {}, bool offer_timer = false,
                           std::string_view session_expires = {}) {
        sip::RequestBuilder rb(method, leg.remote_target);
        std::string branch = sip::make_branch(rng);
        rb.add(sip::HeaderId::Via, via(leg.target.transport, branch));
        for (const auto& r : leg.routes)
            rb.add(sip::HeaderId::Route, r);
        rb.add(sip::HeaderId::From, leg.local_uri + ";tag=" + leg.local_tag);
        rb.add(sip::HeaderId::To, leg.remote_tag.empty() ? leg.remote_uri
                                                         : leg.remote_uri + ";tag=" + leg.remote_tag);
        rb.add(sip::HeaderId::CallId, leg.call_id);
        rb.add(sip::HeaderId::CSeq, concat(cseq, " ", method));
        if (method == "INVITE" || method == "UPDATE")
            rb.add(sip::HeaderId::Contact, contact(leg.target.transport));
        rb.add(sip::HeaderId::UserAgent, cfg.server_header);
        if (offer_timer && cfg.timers.session_timers) {
            rb.add(sip::HeaderId::Supported, "timer");
            rb.add(sip::HeaderId::SessionExpires, std::to_string(seconds(cfg.timers.session_expires)));
            rb.add(sip::HeaderId::MinSE, std::to_string(seconds(cfg.timers.min_se)));
        }
        if (!session_expires.empty()) {
            rb.add(sip::HeaderId::Supported, "timer");
            rb.add(sip::HeaderId::SessionExpires, session_expires);
        }
        if (body_from && !body_from->body().empty()) {
            content_type = header(*body_from, sip::HeaderId::ContentType);
            body = body_from->body();
        }
        if (!body.empty()) rb.body(content_type, body);
        return {sip::make_bytes(rb.build()), std::move(branch)};
    }

    // --- new calls

    void on_invite(TxnId txn, sip::Message msg, const sip::Target& src, sip::Instant now) {
        if (draining) return refuse_draining(txn, msg, now);
        ++stats.attempts;
        auto c = std::make_unique<Call>();
        c->id = next_id++;
        c->a_txn = txn;
        c->setup = now;
        c->a.target = sip::txn::response_target(msg, src);
        c->a.target.port = src.port;  // requests go where the customer sent from (NAT)
        c->a.target.host = src.host;
        c->a.call_id = std::string(msg.call_id());
        c->a.local_tag = sip::make_token(rng, 10);
        c->a.remote_tag = std::string(msg.from().tag);
        c->a.local_uri = concat("<", msg.to().uri, ">");
        c->a.remote_uri = concat("<", msg.from().uri, ">");
        c->a.remote_target = contact_uri(msg);
        if (c->a.remote_target.empty()) c->a.remote_target = std::string(msg.from().uri);
        c->a.routes = record_routes(msg, false);
        c->a.cseq = 0;
        c->a_has_sdp = has_sdp(msg);
        c->caller_in = user_of(msg.from().uri);
        c->callee_in = std::string(msg.ruri().user);
        c->a_invite.emplace(std::move(msg));

        auto id = customers.identify(src.host, src.port, {});
        if (!id && digest_customers && auth) {
            // a dynamic gateway proves who it is with Proxy-Authorization (§22.3)
            const sip::HeaderField* pa = c->a_invite->find(sip::HeaderId::ProxyAuthorization);
            if (!pa) {
                if (auth_rules && auth_rules->auth_refused({}, src.host, now))
                    return refuse_suspended(*c, now);
                return challenge(*c, now, false);
            }
            const auto out = auth->verify(c->a_invite->value(*pa), "INVITE", now);
            // a suspended guesser learns nothing, whatever this guess was
            if (auth_rules && auth_rules->auth_refused(out.username, src.host, now))
                return refuse_suspended(*c, now);
            if (out.verdict == route::reg::Authenticator::Verdict::Stale)
                return challenge(*c, now, true);
            if (out.verdict == route::reg::Authenticator::Verdict::Ok) {
                if (auth_rules) auth_rules->auth_succeeded(out.username, src.host, now);
                id = customers.identify(src.host, src.port, out.username);
            } else if (auth_rules) {
                auth_rules->auth_failed(out.username, src, now);
            }
        }
        if (!id) {
            ++stats.illegal;
            log_call(*c, "{}:{} is no customer: {}", src.host, src.port,
                            cfg.reply_unauthorized ? "403" : "dropped");
            if (cfg.reply_unauthorized) respond_a(*c, 403, "Forbidden", nullptr, now);
            if (cfg.record_illegal_calls) emit(*c, 403, "Unknown source", billing::HangupSide::server,
                                               now, true);
            return;
        }
        c->customer = *id;
        history.on_started(now);
        const route::lcr::CustomerSpec* spec = customers.spec(*id);
        c->customer_name = spec->name;
        c->account = spec->account;
        rates.set_time(wall_ms(now));
        auto quote = rates.customer_rate(c->account, c->callee_in, c->caller_in);
        c->dest_key = quote ? quote->prefix : std::string();
        route::lcr::Admission adm =
            customers.admit(*id, c->caller_in, c->callee_in, c->dest_key, nanos(now));
        if (!adm.ok) return refuse(std::move(c), adm.code, adm.reason, false, now);
        c->caller = adm.caller;
        c->callee = adm.callee;
        if (c->callee != c->callee_in)
            quote = rates.customer_rate(c->account, c->callee, c->caller);
        if (!quote) return refuse(std::move(c), 403, "No Customer Rate", true, now);
        if (static_cast<std::uint8_t>(quote->type) > spec->max_rate_type)
            return refuse(std::move(c), 403, "Rate Type Not Authorized", true, now);
        c->customer_per_minute = quote->per_minute;
        if (spec->proceeding_timeout_s > 0)
            c->proceeding_deadline = now + std::chrono::seconds(spec->proceeding_timeout_s);
        if (cfg.prepaid && !affordable(*c, 1, now))
            return refuse(std::move(c), 402, "Insufficient Balance", true, now);

        route::lcr::RouteRequest rq;
        rq.number = c->callee;
        rq.customer_per_minute = c->customer_per_minute;
        rq.switch_limit = cfg.failover.switch_limit;
        router.route(rq, rates, nanos(now), route_buf);
        c->candidates = route_buf.candidates;
        if (c->candidates.empty()) return refuse(std::move(c), 503, "No Route", true, now);

        Call& call = *c;
        by_a_txn[txn] = call.id;
        dialogs[call.a.call_id + '\n' + call.a.local_tag] = {call.id, Side::a};
        calls.emplace(call.id, std::move(c));
        history.on_concurrent(now, calls.size());
        ++generation;
        log_call(call, "{} {} -> {} from customer {}, {} candidates", call.a.call_id, call.caller,
                 call.callee, call.customer_name, call.candidates.size());
        try_next(call, now);
    }

    // A suspended user or address (too many wrong passwords): 403, no challenge, no CDR.
    void refuse_suspended(Call& c, sip::Instant now) {
        ++stats.illegal;
        log_call(c, "{}:{} is suspended (failed authentications): 403", c.a.target.host,
            c.a.target.port);
        respond_a(c, 403, "Forbidden", nullptr, now);
    }

    // 407 with every challenge the authenticator offers; the retried INVITE is a new call
    // (no CDR for the challenge itself: it is part of setting the call up).
    void challenge(Call& c, sip::Instant now, bool stale) {
        sip::ResponseSpec spec;
        spec.status = 407;
        spec.to_tag = c.a.local_tag;
        const std::vector<std::string> values = auth->challenge(now, stale);
        spec.extra.push_back({"Server", cfg.server_header});
        for (const auto& v : values)
            spec.extra.push_back({"Proxy-Authenticate", v});
        element.respond(c.a_txn, sip::make_bytes(sip::build_response(*c.a_invite, spec)), now);
    }

    // A call refused before routing: the answer and its record.
    // Shutting down: RFC 3261 §21.5.4, a 503 with Retry-After sends the caller's next attempt
    // to another server (RFC 3263 §4.3) instead of waiting for our Timer B. No call, no CDR:
    // nothing was admitted, and the attempt is not the customer's failure.
    void refuse_draining(TxnId txn, const sip::Message& msg, sip::Instant now) {
        ++stats.refused;
        const std::string retry = std::to_string(draining->count());
        const std::string tag = sip::make_token(rng, 10);
        sip::ResponseSpec spec;
        spec.status = 503;
        spec.reason = "Shutting Down";
        spec.to_tag = tag;
        spec.extra.push_back({"Server", cfg.server_header});
        spec.extra.push_back({"Retry-After", retry});
        element.respond(txn, sip::make_bytes(sip::build_response(msg, spec)), now);
        log("call: refused 503 Shutting Down (draining)");
    }

    void refuse(std::unique_ptr<Call> c, std::uint16_t code, std::string_view reason,
                bool admitted, sip::Instant now) {
        ++stats.refused;
        log_call(*c, "refused {} {}", code, reason);
        respond_a(*c, code, reason, nullptr, now);
        if (admitted) customers.call_ended(c->customer, c->dest_key);
        emit(*c, code, reason, billing::HangupSide::server, now, false);
    }

    // --- prepaid credit

    // What a call of `seconds` answered now would be charged (nullopt: cannot be rated).
    std::optional<billing::Money> charge(const Call& c, std::int64_t seconds, sip::Instant answer) {
        billing::CallRecord r;
        r.caller = c.caller;
        r.callee = c.callee;
        r.customer = c.account;
        // only the charge matters here; the Rater insists on a vendor for an answered call,
        // and the customer's own account always prices its own number
        r.vendor = c.account;
        r.setup_ms = wall_ms(c.setup);
        r.answer_ms = wall_ms(answer);
        r.end_ms = *r.answer_ms + seconds * 1000;
        auto rated = rater.rate(r);
        if (!rated) return std::nullopt;
        if (pricing.empty()) return rated->charge;
        // a tier or a package lowers it: quoted on the counters as they are now
        billing::Cdr cdr = billing::make_cdr(std::move(r), *rated);
        if (!pricing.quote(cdr, *rated, rater.config())) return rated->charge;
        return cdr.charge;
    }
    // balance + credit limit - what the account's running calls hold
    billing::Money free_credit(const std::string& account) const {
        const billing::Account* a = book.account(account);
        if (!a) return {};
        auto avail = a->available();
        if (!avail) return {};
        auto it = reserved.find(account);
        auto f = it == reserved.end() ? avail : avail->sub(it->second);
        return f ? *f : billing::Money{};
    }
    bool affordable(const Call& c, std::int64_t seconds, sip::Instant now) {
        auto ch = charge(c, seconds, now);
        return ch && *ch <= free_credit(c.account);
    }

    // Reserves the next quota (or what is left of the credit); false: nothing more.
    bool grant(Call& c, sip::Instant now) {
        const std::int64_t quota =
            std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(cfg.credit_quota).count());
        const std::int64_t cap =
            std::chrono::duration_cast<std::chrono::seconds>(cfg.timers.max_call).count();
        auto limit = free_credit(c.account).add(c.reserved);  // what this call may hold
        if (!limit) return false;
        auto fits = [&](std::int64_t d) {
            auto ch = charge(c, d, *c.answer);
            return ch && *ch <= *limit;
        };
        std::int64_t lo = c.granted_s, hi = std::min(c.granted_s + quota, cap);
        if (hi > lo && !fits(hi)) {
            while (hi - lo > 1) {  // the largest d in [lo, hi) that fits
                const std::int64_t mid = lo + (hi - lo) / 2;
                (fits(mid) ? lo : hi) = mid;
            }
            hi = lo;
        }
        if (hi <= c.granted_s) return false;
        auto held = charge(c, hi, *c.answer);
        if (!held) return false;
        auto& acct = reserved[c.account];
        acct = acct.sub(c.reserved).value_or(acct).add(*held).value_or(acct);
        c.reserved = *held;
        c.granted_s = hi;
        c.credit_deadline = *c.answer + std::chrono::seconds(hi);
        (void)now;
        return true;
    }

    void release(Call& c) {
        if (c.reserved.micros() == 0) return;
        auto it = reserved.find(c.account);
        if (it != reserved.end()) {
            it->second = it->second.sub(c.reserved).value_or(billing::Money{});
            if (it->second.micros() <= 0) reserved.erase(it);
        }
        c.reserved = {};
    }

    // --- outbound attempts

    void try_next(Call& c, sip::Instant now) {
        while (c.next < c.candidates.size()) {
            const route::lcr::Candidate cand = c.candidates[c.next++];
            auto v = vendors.find(cand.gateway);
            if (v == vendors.end() || v->second.host.empty()) {
                c.tried += fmt::format("{}{}:{}", c.tried.empty() ? "" : ",",
                                       router.name(cand.gateway),
                                       v == vendors.end() ? "no-address" : "unresolved");
                continue;
            }
            if (start_attempt(c, cand.gateway, v->second, now)) return;
        }
        // nothing left: the best failure (or 503 when nothing was even tried)
        if (c.best_code == 0) {
            c.best_code = 503;
            c.best_reason = "No Gateway Available";
        }
        fail(c, now);
    }

    bool start_attempt(Call& c, GatewayId gw, const VendorSip& v, sip::Instant now) {
        std::string callee = c.callee, caller = c.caller;
        if (!v.callee_rewrite.empty()) v.callee_rewrite.apply(c.callee, callee);
        if (!v.caller_rewrite.empty()) v.caller_rewrite.apply(c.caller, caller);
        const std::string& host_name = v.host_name.empty() ? v.host : v.host_name;
        Leg b;
        b.target = v.proxy ? *v.proxy : sip::Target{v.transport, v.host, v.port, 0, {}};
        b.call_id = sip::make_token(rng, 20);
        b.local_tag = sip::make_token(rng, 10);
        // An empty number (a From without a user, or a rewrite that removed every digit)
        // leaves the user part out: "sip:@host" is not a SIP URI (RFC 3261 §25.1).
        const std::string_view caller_at = caller.empty() ? "" : "@";
        const std::string_view callee_at = callee.empty() ? "" : "@";
        b.local_uri = concat("<sip:", caller, caller_at, host_name, ">");
        b.remote_uri = concat("<sip:", callee, callee_at, host_name, ">");
        const bool v6 = v.host.find(':') != std::string::npos;
        b.remote_target = concat("sip:", callee, callee_at, v6 ? "[" : "", v.host, v6 ? "]" : "", ":",
                                 v.port,
                                 v.transport == sip::Transport::Udp   ? ""
                                 : v.transport == sip::Transport::Tls ? ";transport=tls"
                                                                      : ";transport=tcp");
        b.cseq = 1;
        const BuiltRequest invite = in_dialog(b, "INVITE", 1, &*c.a_invite, {}, {}, true);
        SendOptions opt;
        opt.provisionals = true;
        opt.txn.invite_timeout = cfg.timers.invite_timeout;
        opt.txn.keep_transport = true;
        auto id = element.send_request(invite, b.target, now, opt);
        if (!id) {
            c.tried += fmt::format("{}{}:unsendable", c.tried.empty() ? "" : ",", router.name(gw));
            return false;
        }
        if (c.attempts > 0) ++stats.failovers;
        ++c.attempts;
        if (!c.b.call_id.empty()) dialogs.erase(c.b.call_id + '\n' + c.b.local_tag);
        c.b = std::move(b);
        c.b_txn = *id;
        c.b_invite = invite.bytes;  // shared with the transaction, not copied
        c.gw = gw;
        c.gw_active = true;
        c.b_provisional = false;
        c.callee_out = callee;
        c.vendor_gateway = router.name(gw);
        c.vendor_account = v.vendor_account;
        c.progress_deadline.reset();
        ++generation;
        router.call_started(gw, nanos(now));
        invites[*id] = c.id;
        dialogs[c.b.call_id + '\n' + c.b.local_tag] = {c.id, Side::b};
        log_call(c, "attempt {} to {} ({}:{})", c.attempts, c.vendor_gateway,
                        v.host, v.port);
        rearm(c);
        return true;
    }

    // The current attempt failed with `code`; fail over or give the customer its answer.
    void attempt_failed(Call& c, std::uint16_t code, std::string_view reason, bool invite_timeout,
                        sip::Instant now) {
        invites.erase(c.b_txn);
        c.b_txn = 0;
        if (c.gw_active) {
            router.call_ended(c.gw, route::lcr::Outcome::failed, nanos(now));
            c.gw_active = false;
        }
        c.progress_deadline.reset();
        c.tried += concat(c.tried.empty() ? "" : ",", c.vendor_gateway, ":", code);
        if (rank(code) > rank(c.best_code)) {
            c.best_code = code;
            c.best_reason = std::string(reason.empty() ? sip::default_reason(code) : reason);
        }
        log_call(c, "{} answered {} {}", c.vendor_gateway, code, reason);
        const auto& f = cfg.failover;
        const bool stop =
            c.cancelled ||
            std::find(f.stop_codes.begin(), f.stop_codes.end(), code) != f.stop_codes.end() ||
            (invite_timeout && f.stop_after_invite_timeout) ||
            (c.early_sdp && f.stop_after_early_sdp);
        if (stop) {
            // a stop code is the answer itself, not merely the best so far
            if (!c.cancelled && !(invite_timeout && f.stop_after_invite_timeout)) {
                c.best_code = code;
                c.best_reason = std::string(reason.empty() ? sip::default_reason(code) : reason);
            }
            return fail(c, now);
        }
        try_next(c, now);
    }

    void fail(Call& c, sip::Instant now) {
        ++stats.failed;
        if (!c.cancelled) respond_a(c, c.best_code, c.best_reason, nullptr, now);
        finish(c, c.cancelled ? 487 : c.best_code,
               c.cancelled ? std::string("Request Terminated") : c.best_reason,
               c.cancelled ? billing::HangupSide::caller : billing::HangupSide::callee, now);
    }

    // Gives up the current outbound INVITE after it rang or progressed: CANCEL (RFC 3261 §9.1).
    void cancel_b(Call& c, sip::Instant now) {
        if (!c.b_txn || !c.b_invite) return;
        if (auto inv = sip::Message::parse(*c.b_invite)) {
            sip::RequestBuilder rb("CANCEL", inv->request_uri());
            rb.add(sip::HeaderId::Via, header(*inv, sip::HeaderId::Via));
            rb.add(sip::HeaderId::From, header(*inv, sip::HeaderId::From));
            rb.add(sip::HeaderId::To, header(*inv, sip::HeaderId::To));
            rb.add(sip::HeaderId::CallId, inv->call_id());
            rb.add(sip::HeaderId::CSeq, fmt::format("{} CANCEL", inv->cseq().number));
            if (auto id = element.send_request(rb.build(), c.b.target, now)) ignored.insert(*id);
        }
        abandoned[c.b_txn] = Abandoned{c.b, 1};
    }

    // --- responses from the vendor

    void on_b_response(Call& c, ClientEvent& e, sip::Instant now) {
        sip::Message& r = *e.response;
        const std::uint16_t code = r.status_code();
        if (e.kind == ClientEvent::Kind::Provisional) {
            c.b_provisional = true;
            if (c.cancelled) {
                cancel_b(c, now);
                return;
            }
            const auto& t = cfg.timers;
            const bool sdp = has_sdp(r);
            if (code == 100) {
                c.progress_deadline = now + t.trying_timeout;
            } else {
                c.progress_deadline =
                    now + (code == 180 ? t.ringing_timeout
                                       : (sdp ? t.progress_sdp_timeout : t.progress_timeout));
                if (!r.to().tag.empty()) c.b.remote_tag = std::string(r.to().tag);
                if (c.phase == Phase::trying) {
                    c.phase = Phase::early;
                    ++generation;
                }
                note_pdd(c, now);
                if (sdp) c.early_sdp = true;
                respond_a(c, code, r.reason(), &r, now);
            }
            rearm(c);
            return;
        }
        if (code >= 300) return attempt_failed(c, code, r.reason(), false, now);
        on_b_answer(c, r, now);
    }

    // Post-dial delay: from the customer's INVITE to the first ringing (180/183) or the
    // answer, on whichever vendor gateway gave it.
    void note_pdd(Call& c, sip::Instant now) {
        if (c.pdd_noted) return;
        c.pdd_noted = true;
        metrics.on_pdd(c.vendor_gateway, now - c.setup);
    }

    void on_b_answer(Call& c, sip::Message& r, sip::Instant now) {
        invites.erase(c.b_txn);
        if (!c.cancelled) accepted[c.b_txn] = c.id;
        c.b.remote_tag = std::string(r.to().tag);
        if (auto ct = contact_uri(r); !ct.empty()) c.b.remote_target = ct;
        c.b.routes = record_routes(r, true);
        if (c.cancelled) {
            // the vendor answered across our CANCEL: ACK and BYE it
            abandoned.erase(c.b_txn);
            end_b_dialog(c.b, 1, now);
            c.b_txn = 0;
            return;
        }
        c.phase = Phase::connected;
        c.answer = now;
        note_pdd(c, now);
        ++generation;
        c.progress_deadline.reset();
        c.proceeding_deadline.reset();
        c.max_deadline = now + cfg.timers.max_call;
        ++stats.answered;
        if (cfg.prepaid && !grant(c, now)) {
            // the balance went while it rang (another call took it): end at once
            c.credit_deadline = now;
        }
        c.b_invite = nullptr;  // answered: nothing left to CANCEL
        c.late_offer = !c.a_has_sdp;
        if (!c.late_offer) {
            c.b_ack = in_dialog(c.b, "ACK", 1, nullptr).bytes;
            element.send_raw(c.b_ack, c.b.target);
        }
        // our 2xx to the customer, retransmitted over UDP until its ACK (§13.3.1.4)
        sip::ResponseSpec spec;
        spec.status = r.status_code();
        spec.reason = r.reason();
        spec.to_tag = c.a.local_tag;
        const std::string ct = contact(c.a.target.transport);
        spec.extra = {{"Server", cfg.server_header}, {"Contact", ct}};
        setup_session_timers(c, r, now);
        const std::string se_a =
            c.st_a.active ? fmt::format("{};refresher={}", seconds(c.st_a.interval),
                                        c.st_a.we_refresh ? "uas" : "uac")
                          : std::string();
        if (c.st_a.active) {
            spec.extra.push_back({"Session-Expires", se_a});
            if (supports_timer(*c.a_invite)) spec.extra.push_back({"Require", "timer"});
        }
        if (!r.body().empty()) {
            spec.content_type = header(r, sip::HeaderId::ContentType);
            spec.body = r.body();
        }
        c.a_ok = sip::make_bytes(sip::build_response(*c.a_invite, spec));
        element.respond(c.a_txn, c.a_ok, now);
        by_a_txn.erase(c.a_txn);
        if (!sip::reliable(c.a.target.transport)) {
            c.a_ok_to = sip::txn::response_target(*c.a_invite, c.a.target);
            c.ok_interval = cfg.t1;
            c.ok_next = now + cfg.t1;
            c.ok_give_up = now + 64 * cfg.t1;
        }
        log_call(c, "answered by {}", c.vendor_gateway);
        rearm(c);
    }

    // --- session timers (RFC 4028)

    static bool supports_timer(const sip::Message& m) {
        for (const sip::HeaderField& h : m.headers())
            if ((h.id == sip::HeaderId::Supported || h.id == sip::HeaderId::Require) &&
                m.value(h).find("timer") != std::string_view::npos)
                return true;
        return false;
    }

    // The peer-refreshes guard fires this long before the interval ends (§10).
    static sip::Duration guard(sip::Duration interval) {
        return interval - std::min<sip::Duration>(32s, interval / 3);
    }

    void arm_session(SessionTimer& st, sip::Instant now) {
        if (!st.active) return;
        st.due = st.we_refresh ? now + st.interval / std::max<std::uint32_t>(2, cfg.timers.refresh_divider)
                               : now + guard(st.interval);
    }

    void setup_session_timers(Call& c, const sip::Message& b_ok, sip::Instant now) {
        if (!cfg.timers.session_timers) return;
        // vendor leg: its 2xx says whether and who
        if (const sip::HeaderField* h = b_ok.find(sip::HeaderId::SessionExpires)) {
            if (auto se = sip::parse_session_expires(b_ok.value(*h)); se && se->delta > 0) {
                c.st_b.active = true;
                c.st_b.interval = std::chrono::seconds(se->delta);
                c.st_b.we_refresh = se->refresher != "uas";  // uac: us
                arm_session(c.st_b, now);
            }
        }
        // customer leg: its INVITE says whether it can
        const sip::Message& inv = *c.a_invite;
        const sip::HeaderField* h = inv.find(sip::HeaderId::SessionExpires);
        const bool supported = supports_timer(inv);
        if (!h && !supported) return;
        sip::Duration interval = cfg.timers.session_expires;
        std::string_view refresher;
        if (h) {
            if (auto se = sip::parse_session_expires(inv.value(*h)); se && se->delta > 0) {
                interval = std::chrono::seconds(se->delta);
                refresher = se->refresher;
            }
        }
        c.st_a.active = true;
        c.st_a.interval = interval;
        // §9: the UAS keeps the UAC's choice; with none, a UAC that supports timers refreshes
        c.st_a.we_refresh = refresher == "uas" || (refresher.empty() && !supported);
        arm_session(c.st_a, now);
    }

    // A refresh arrived from `side` (re-INVITE or UPDATE).
    void refreshed_by_peer(Call& c, Side side, sip::Instant now) {
        SessionTimer& st = side == Side::a ? c.st_a : c.st_b;
        if (!st.active || st.we_refresh) return;
        ++stats.refreshes_received;
        arm_session(st, now);
        rearm(c);
    }

    void on_session_timer(Call& c, Side side, sip::Instant now) {
        SessionTimer& st = side == Side::a ? c.st_a : c.st_b;
        st.due.reset();
        if (!st.we_refresh) {
            ++stats.session_expired;
            log_call(c, "session timer expired on the {} leg", side == Side::a ? "customer" : "vendor");
            return hang_up(c, Side::server, billing::HangupSide::server, now);
        }
        Leg& leg = side == Side::a ? c.a : c.b;
        leg.cseq = std::max<std::uint32_t>(leg.cseq, 1) + 1;
        const std::string se = fmt::format("{};refresher=uac", seconds(st.interval));
        const BuiltRequest req = in_dialog(leg, "UPDATE", leg.cseq, nullptr, {}, {}, false, se);
        if (auto id = element.send_request(req, leg.target, now)) {
            refreshes[*id] = {c.id, side};
            ++stats.refreshes_sent;
        }
        arm_session(st, now);
    }

    void on_refresh_answer(TxnId txn, const ClientEvent& e, sip::Instant now) {
        auto it = refreshes.find(txn);
        const auto [id, side] = it->second;
        refreshes.erase(it);
        Call* c = find(id);
        if (!c) return;
        const std::uint16_t code =
            e.kind == ClientEvent::Kind::Response ? e.response->status_code() : 408;
        if (code < 300) return;
        if (code == 408 || code == 481) {
            log_call(*c, "session refresh answered {}: ending the call", code);
            return hang_up(*c, Side::server, billing::HangupSide::server, now);
        }
        // the peer cannot take UPDATE (405/501, ...): stop refreshing it; max_call still bounds
        (side == Side::a ? c->st_a : c->st_b) = SessionTimer{};
        rearm(*c);
    }

    // ACK + BYE for a vendor dialog we do not want (a 2xx after CANCEL or abandonment).
    void end_b_dialog(Leg leg, std::uint32_t invite_cseq, sip::Instant now) {
        element.send_raw(in_dialog(leg, "ACK", invite_cseq, nullptr).bytes, leg.target);
        if (auto id = element.send_request(in_dialog(leg, "BYE", invite_cseq + 1, nullptr),
                                           leg.target, now))
            ignored.insert(*id);
    }

    // --- the end of a call

    // Sends BYE on the other leg(s) and writes the record; the call is gone afterwards.
    void hang_up(Call& c, Side from_side, billing::HangupSide who, sip::Instant now) {
        if (from_side != Side::a) {
            c.a.cseq = std::max<std::uint32_t>(c.a.cseq, 1) + 1;
            if (auto id = element.send_request(in_dialog(c.a, "BYE", c.a.cseq, nullptr), c.a.target,
                                               now))
                ignored.insert(*id);
        }
        if (from_side != Side::b) {
            c.b.cseq += 1;
            if (auto id = element.send_request(in_dialog(c.b, "BYE", c.b.cseq, nullptr), c.b.target,
                                               now))
                ignored.insert(*id);
        }
        finish(c, 200, who == billing::HangupSide::server ? "Server Hangup"
                       : who == billing::HangupSide::caller ? "Caller Hangup"
                                                            : "Callee Hangup",
               who, now);
    }

    void finish(Call& c, std::uint16_t code, std::string reason, billing::HangupSide who,
                sip::Instant now) {
        if (c.gw_active) {
            router.call_ended(c.gw, c.answer ? route::lcr::Outcome::answered
                                             : route::lcr::Outcome::failed,
                              nanos(now));
            c.gw_active = false;
        }
        if (c.answer && c.tried.find(c.vendor_gateway + ":200") == std::string::npos)
            c.tried += concat(c.tried.empty() ? "" : ",", c.vendor_gateway, ":200");
        customers.call_ended(c.customer, c.dest_key);
        release(c);
        emit(c, code, reason, who, now, false);
        log_call(c, "ended {} {} ({} hung up)", code, reason,
                        billing::to_string(who));
        if (c.armed) timers.erase({*c.armed, c.id});
        by_a_txn.erase(c.a_txn);
        invites.erase(c.b_txn);
        accepted.erase(c.b_txn);
        dialogs.erase(c.a.call_id + '\n' + c.a.local_tag);
        if (!c.b.call_id.empty()) dialogs.erase(c.b.call_id + '\n' + c.b.local_tag);
        calls.erase(c.id);  // c is gone
        history.on_concurrent(now, calls.size());
        ++generation;
    }

    void emit(const Call& c, std::uint16_t code, std::string_view reason, billing::HangupSide who,
              sip::Instant now, bool illegal) {
        CallEnded e;
        auto& r = e.record;
        r.caller = c.caller.empty() ? c.caller_in : c.caller;
        r.callee = c.callee.empty() ? c.callee_in : c.callee;
        r.callee_out = c.callee_out;
        r.customer = c.account;
        r.customer_gateway = c.customer_name;
        r.vendor = c.vendor_account;
        r.vendor_gateway = c.vendor_gateway;
        r.setup_ms = wall_ms(c.setup);
        if (c.answer) r.answer_ms = wall_ms(*c.answer);
        r.end_ms = wall_ms(now);
        // a prepaid call is billed for no more than it was granted: the cut-off timer may
        // fire a few ms late, and billing rounds every started second up
        if (cfg.prepaid && c.answer && c.granted_s > 0)
            r.end_ms = std::min(r.end_ms, *r.answer_ms + c.granted_s * 1000);
        r.sip_code = code;
        r.end_reason = std::string(reason);
        r.hangup = who;
        r.call_id_in = c.a.call_id;
        r.call_id_out = c.b.call_id;
        e.gateways_tried = c.tried;
        r.gateways_tried = c.tried;
        e.illegal = illegal;
        metrics.on_ended(r);
        if (!illegal) history.on_ended(now, r);
        if (!illegal) book_call(e);  // last: a rated call's record moves into its CDR
        cdrs.push_back(std::move(e));
    }

    // Rates the call and moves its money in the book at once, so the next call's credit
    // check sees it (the CDR writer moves it in the database).
    void book_call(CallEnded& e) {
        auto r = rater.rate(e.record);
        if (!r) {
            e.rating_error = r.error().describe();
            return;
        }
        billing::Cdr cdr = billing::make_cdr(std::move(e.record), *r);
        if (auto ok = pricing.price(cdr, *r, rater.config()); !ok) {
            e.rating_error = ok.error().describe();
            e.record = std::move(cdr.call);  // an unrated CDR is written from the record
            return;
        }
        if (cdr.charge.micros() != 0) {
            if (auto neg = cdr.charge.negate()) (void)book.adjust_balance(cdr.call.customer, *neg);
        }
        if (cdr.cost.micros() != 0 && !cdr.call.vendor.empty())
            (void)book.adjust_balance(cdr.call.vendor, cdr.cost);
        e.rating = *r;
        e.cdr = std::move(cdr);
    }

    // --- inputs

    void on_input(CallInput& in, sip::Instant now) {
        if (auto* r = std::get_if<CallRequest>(&in)) {
            if (r->msg.method() == sip::Method::Invite && r->msg.to().tag.empty())
                return on_invite(r->txn, std::move(r->msg), r->source, now);
            return on_in_dialog(*r, now);
        }
        if (auto* a = std::get_if<CallAck>(&in)) return on_ack(a->msg, now);
        if (auto* k = std::get_if<CallCancel>(&in)) return on_cancel(k->invite_txn, now);
        if (auto* s = std::get_if<CallStray>(&in)) return on_stray(s->msg, now);
    }

    std::pair<Call*, Side> dialog_of(const sip::Message& m) {
        auto it = dialogs.find(std::string(m.call_id()) + '\n' + std::string(m.to().tag));
        if (it == dialogs.end()) return {nullptr, Side::a};
        return {find(it->second.first), it->second.second};
    }

    void on_in_dialog(CallRequest& r, sip::Instant now) {
        auto [c, side] = dialog_of(r.msg);
        if (!c) {
            respond(r.txn, r.msg, 481, "Call/Transaction Does Not Exist", {}, nullptr, false, now,
                    r.source.transport);
            return;
        }
        if (r.msg.method() == sip::Method::Bye) {
            respond(r.txn, r.msg, 200, "OK", {}, nullptr, false, now, r.source.transport);
            if (c->phase != Phase::connected) {
                // an early-dialog BYE from the vendor ends that attempt (RFC 3261 §15)
                if (side == Side::b) {
                    cancel_b(*c, now);
                    attempt_failed(*c, 487, "Vendor Ended Early Dialog", false, now);
                }
                return;
            }
            return hang_up(*c, side,
                           side == Side::a ? billing::HangupSide::caller
                                           : billing::HangupSide::callee,
                           now);
        }
        if (c->phase != Phase::connected) {
            respond(r.txn, r.msg, 491, "Request Pending", {}, nullptr, false, now,
                    r.source.transport);
            return;
        }
        const bool refresh = r.msg.method() == sip::Method::Invite ||
                             r.msg.method() == sip::Method::Update;
        if (refresh) refreshed_by_peer(*c, side, now);
        if (r.msg.method() == sip::Method::Update && r.msg.body().empty()) {
            // only a session refresh: answered here, the other leg has its own timer
            SessionTimer& st = side == Side::a ? c->st_a : c->st_b;
            sip::ResponseSpec spec;
            spec.status = 200;
            const std::string se = fmt::format("{};refresher={}", seconds(st.interval),
                                               st.we_refresh ? "uas" : "uac");
            const std::string ct = contact(r.source.transport);
            spec.extra = {{"Server", cfg.server_header}, {"Contact", ct}};
            if (st.active) {
                spec.extra.push_back({"Session-Expires", se});
                spec.extra.push_back({"Require", "timer"});
            }
            element.respond(r.txn, sip::make_bytes(sip::build_response(r.msg, spec)), now);
            return;
        }
        // re-INVITE, UPDATE, INFO, ...: relayed to the other leg with its answer
        Leg& to = side == Side::a ? c->b : c->a;
        to.cseq = std::max<std::uint32_t>(to.cseq, 1) + 1;
        const BuiltRequest req = in_dialog(to, r.msg.method_name(), to.cseq, &r.msg);
        auto id = element.send_request(req, to.target, now);
        if (!id) {
            respond(r.txn, r.msg, 500, "Relay Failed", {}, nullptr, false, now,
                    r.source.transport);
            return;
        }
        relays.emplace(*id, Relay{c->id, r.txn, side, std::move(r.msg)});
    }

    void on_relay_answer(TxnId txn, ClientEvent& e, sip::Instant now) {
        auto it = relays.find(txn);
        Relay rel = std::move(it->second);
        relays.erase(it);
        Call* c = find(rel.call);
        const sip::Target src = c ? (rel.from == Side::a ? c->a.target : c->b.target)
                                  : sip::Target{};
        if (e.kind != ClientEvent::Kind::Response) {
            respond(rel.server_txn, rel.request, 408, "Request Timeout", {}, nullptr, false, now,
                    src.transport);
            return;
        }
        sip::Message& r = *e.response;
        const std::uint16_t code = r.status_code();
        if (c && code < 300 && rel.request.method() == sip::Method::Invite) {
            Leg& to = rel.from == Side::a ? c->b : c->a;
            element.send_raw(in_dialog(to, "ACK", r.cseq().number, nullptr).bytes, to.target);
        }
        respond(rel.server_txn, rel.request, code, r.reason(), {}, &r,
                code < 300 && (rel.request.method() == sip::Method::Invite ||
                               rel.request.method() == sip::Method::Update),
                now, src.transport);
    }

    void on_ack(const sip::Message& m, sip::Instant now) {
        auto [c, side] = dialog_of(m);
        if (!c || side != Side::a || !c->ok_next.has_value()) {
            if (c && side == Side::a && c->late_offer && !c->b_ack) send_late_ack(*c, m);
            return;
        }
        c->ok_next.reset();
        if (c->late_offer && !c->b_ack) send_late_ack(*c, m);
        rearm(*c);
        (void)now;
    }

    void send_late_ack(Call& c, const sip::Message& ack) {
        c.b_ack = in_dialog(c.b, "ACK", 1, &ack).bytes;
        element.send_raw(c.b_ack, c.b.target);
    }

    void on_cancel(TxnId invite_txn, sip::Instant now) {
        auto it = by_a_txn.find(invite_txn);
        if (it == by_a_txn.end()) return;
        Call* c = find(it->second);
        if (!c || c->phase == Phase::connected) return;
        ++stats.cancelled;
        c->cancelled = true;
        respond_a(*c, 487, "Request Terminated", nullptr, now);
        if (c->b_txn && c->b_provisional) {
            cancel_b(*c, now);
            invites.erase(c->b_txn);
            c->b_txn = 0;
        } else if (c->b_txn) {
            // no provisional yet: CANCEL must wait for one (§9.1); the INVITE stays ours
            // until it answers, and its answer ends it
            abandoned[c->b_txn] = Abandoned{c->b, 1};
            pending_cancel.insert(c->b_txn);
            invites.erase(c->b_txn);
            c->b_txn = 0;
        }
        finish(*c, 487, "Request Terminated", billing::HangupSide::caller, now);
    }
    std::set<TxnId> pending_cancel;

    void on_stray(const sip::Message& m, sip::Instant now) {
        // a 2xx retransmission after the INVITE transaction ended: ACK it again
        auto [c, side] = dialog_of_response(m);
        if (c && side == Side::b && c->b_ack) element.send_raw(c->b_ack, c->b.target);
        (void)now;
    }
    std::pair<Call*, Side> dialog_of_response(const sip::Message& m) {
        auto it = dialogs.find(std::string(m.call_id()) + '\n' + std::string(m.from().tag));
        if (it == dialogs.end()) return {nullptr, Side::a};
        return {find(it->second.first), it->second.second};
    }

    bool on_client_event(ClientEvent& e, sip::Instant now) {
        if (refreshes.count(e.txn)) {
            if (e.kind != ClientEvent::Kind::Provisional) on_refresh_answer(e.txn, e, now);
            return true;
        }
        if (relays.count(e.txn)) {
            if (e.kind == ClientEvent::Kind::Provisional) return true;
            on_relay_answer(e.txn, e, now);
            return true;
        }
        if (auto a = abandoned.find(e.txn); a != abandoned.end()) {
            if (e.kind == ClientEvent::Kind::Provisional) {
                if (pending_cancel.erase(e.txn)) send_cancel_for(a->second.leg, e, now);
                return true;
            }
            if (e.kind == ClientEvent::Kind::Response && e.response->status_code() < 300) {
                Leg leg = a->second.leg;
                leg.remote_tag = std::string(e.response->to().tag);
                if (auto ct = contact_uri(*e.response); !ct.empty()) leg.remote_target = ct;
                end_b_dialog(leg, a->second.invite_cseq, now);
            }
            pending_cancel.erase(e.txn);
            abandoned.erase(a);
            return true;
        }
        if (ignored.count(e.txn)) {
            if (e.kind != ClientEvent::Kind::Provisional) ignored.erase(e.txn);
            return true;
        }
        if (auto acc = accepted.find(e.txn); acc != accepted.end()) {
            // a 2xx retransmission of an answered INVITE: ACK again (RFC 3261 §13.2.2.4)
            Call* c = find(acc->second);
            if (c && c->b_ack && e.kind == ClientEvent::Kind::Response)
                element.send_raw(c->b_ack, c->b.target);
            return true;
        }
        auto it = invites.find(e.txn);
        if (it == invites.end()) return false;
        Call* c = find(it->second);
        if (!c) {
            invites.erase(it);
            return true;
        }
        switch (e.kind) {
            case ClientEvent::Kind::Provisional:
            case ClientEvent::Kind::Response:
                on_b_response(*c, e, now);
                break;
            case ClientEvent::Kind::Timeout:
                attempt_failed(*c, 408, "No Response", e.timer == 'B', now);
                break;
            case ClientEvent::Kind::TransportError:
                attempt_failed(*c, 503, "Transport Error", false, now);
                break;
        }
        return true;
    }

    // CANCEL for an INVITE whose first provisional just arrived (the customer had cancelled).
    void send_cancel_for(const Leg& leg, const ClientEvent& e, sip::Instant now) {
        const sip::Message& r = *e.response;
        sip::RequestBuilder rb("CANCEL", leg.remote_target);
        rb.add(sip::HeaderId::Via, header(r, sip::HeaderId::Via));
        rb.add(sip::HeaderId::From, leg.local_uri + ";tag=" + leg.local_tag);
        rb.add(sip::HeaderId::To, leg.remote_uri);
        rb.add(sip::HeaderId::CallId, leg.call_id);
        rb.add(sip::HeaderId::CSeq, fmt::format("{} CANCEL", r.cseq().number));
        if (auto id = element.send_request(rb.build(), leg.target, now)) ignored.insert(*id);
    }

    // --- time

    void handle_timeouts(sip::Instant now) {
        while (!timers.empty() && timers.begin()->first <= now) {
            const std::uint64_t id = timers.begin()->second;
            timers.erase(timers.begin());
            Call* c = find(id);
            if (!c) continue;
            c->armed.reset();
            on_call_timer(*c, now);
            if ((c = find(id))) rearm(*c);
        }
    }

    void on_call_timer(Call& c, sip::Instant now) {
        const std::uint64_t id = c.id;  // `c` is freed when a session timer hangs up
        if (c.ok_next && *c.ok_next <= now) {
            if (now >= c.ok_give_up) {
                // §13.3.1.4: no ACK within 64*T1: end the call
                c.ok_next.reset();
                log_call(c, "2xx never acknowledged");
                return hang_up(c, Side::server, billing::HangupSide::server, now);
            }
            element.send_raw(c.a_ok, c.a_ok_to);
            c.ok_interval = std::min(2 * c.ok_interval, cfg.t2);
            c.ok_next = std::min(now + c.ok_interval, c.ok_give_up);  // 64*T1 exactly
        }
        if (c.credit_deadline && *c.credit_deadline <= now) {
            c.credit_deadline.reset();
            if (!grant(c, now)) {
                ++stats.credit_cutoffs;
                log_call(c, "credit exhausted after {} s", c.granted_s);
                return hang_up(c, Side::server, billing::HangupSide::server, now);
            }
        }
        if (c.st_a.due && *c.st_a.due <= now) {
            on_session_timer(c, Side::a, now);
            if (!find(id)) return;
        }
        if (c.st_b.due && *c.st_b.due <= now) {
            on_session_timer(c, Side::b, now);
            if (!find(id)) return;
        }
        if (c.max_deadline && *c.max_deadline <= now) {
            ++stats.server_hangups;
            log_call(c, "maximum call length reached");
            return hang_up(c, Side::server, billing::HangupSide::server, now);
        }
        if (c.proceeding_deadline && *c.proceeding_deadline <= now) {
            // VOS3000 proceeding timeout: the customer waits no longer for a connection
            c.proceeding_deadline.reset();
            log_call(c, "proceeding timeout of customer {}", c.customer_name);
            if (c.b_txn) {
                if (c.b_provisional) {
                    cancel_b(c, now);
                } else {
                    abandoned[c.b_txn] = Abandoned{c.b, 1};
                    pending_cancel.insert(c.b_txn);
                }
                invites.erase(c.b_txn);
                c.b_txn = 0;
                if (c.gw_active) {
                    router.call_ended(c.gw, route::lcr::Outcome::no_answer, nanos(now));
                    c.gw_active = false;
                }
            }
            c.best_code = 408;
            c.best_reason = "Proceeding Timeout";
            return fail(c, now);
        }
        if (c.progress_deadline && *c.progress_deadline <= now) {
            c.progress_deadline.reset();
            const bool ringing = c.phase == Phase::early;
            cancel_b(c, now);
            invites.erase(c.b_txn);
            if (ringing && !cfg.failover.switch_until_connect) {
                // a ring that never became a call: no further gateways
                c.next = c.candidates.size();
            }
            attempt_failed(c, 408, "Progress Timeout", false, now);
        }
    }
};

Calls::Calls(CallsConfig cfg, Element& element, route::lcr::Router& router,
             route::lcr::Customers& customers, BillingRates& rates, billing::Book& book,
             route::reg::Authenticator* auth, sip::Random& rng)
    : impl_(std::make_unique<Impl>(std::move(cfg), element, router, customers, rates, book, auth,
                                   rng)) {}
void Calls::set_auth_rules(route::reg::Registrar* registrar) noexcept {
    impl_->auth_rules = registrar;
}

void Calls::set_volume_pricing(billing::VolumePricing pricing) {
    impl_->pricing = std::move(pricing);
}

void Calls::set_rating(billing::RatingConfig rating) {
    impl_->cfg.rating = rating;
    impl_->rater.set_config(std::move(rating));
}

void Calls::set_digest_customers(bool any) noexcept {
    impl_->digest_customers = any;
}
Calls::~Calls() = default;

void Calls::set_vendors(std::unordered_map<GatewayId, VendorSip> vendors) {
    impl_->vendors = std::move(vendors);
}
void Calls::set_vendor_target(GatewayId gw, const sip::Target& target) {
    auto it = impl_->vendors.find(gw);
    if (it == impl_->vendors.end()) return;
    it->second.host = target.host;
    it->second.port = target.port;
    it->second.transport = target.transport;
}
void Calls::on_input(CallInput in, sip::Instant now) {
    impl_->on_input(in, now);
}
bool Calls::on_client_event(ClientEvent& e, sip::Instant now) {
    return impl_->on_client_event(e, now);
}
std::optional<sip::Instant> Calls::next_deadline() const {
    if (impl_->timers.empty()) return std::nullopt;
    return impl_->timers.begin()->first;
}
void Calls::handle_timeouts(sip::Instant now) {
    impl_->handle_timeouts(now);
}
std::optional<CallEnded> Calls::poll_cdr() {
    if (impl_->cdrs.empty()) return std::nullopt;
    CallEnded c = std::move(impl_->cdrs.front());
    impl_->cdrs.pop_front();
    return c;
}
std::optional<std::string> Calls::poll_log() {
    auto e = poll_log_entry();
    if (!e) return std::nullopt;
    return std::move(e->text);
}
std::optional<LogEntry> Calls::poll_log_entry() {
    if (impl_->logs.empty()) return std::nullopt;
    LogEntry e = std::move(impl_->logs.front());
    impl_->logs.pop_front();
    return e;
}
namespace {

CallInfo info_of(std::uint64_t id, const Call& c) {
    CallInfo i;
    i.id = id;
    i.customer = c.customer_name;
    i.vendor_gateway = c.vendor_gateway;
    i.caller = c.caller;
    i.callee = c.callee;
    i.state = c.phase == Phase::connected ? "connected" : c.phase == Phase::early ? "early" : "trying";
    i.call_id_in = c.a.call_id;
    i.call_id_out = c.b.call_id;
    i.setup = c.setup;
    i.answer = c.answer;
    return i;
}

}  // namespace

std::vector<CallInfo> Calls::list() const {
    std::vector<CallInfo> out;
    for (const auto& [id, c] : impl_->calls) out.push_back(info_of(id, *c));
    std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
    return out;
}
std::optional<CallInfo> Calls::find_by_call_id(std::string_view call_id) const {
    for (const auto& [id, c] : impl_->calls)
        if (c->a.call_id == call_id || c->b.call_id == call_id) return info_of(id, *c);
    return std::nullopt;
}
bool Calls::hangup(std::uint64_t id, sip::Instant now) {
    Call* c = impl_->find(id);
    if (!c) return false;
    ++impl_->stats.server_hangups;
    if (c->phase == Phase::connected) {
        impl_->hang_up(*c, Side::server, billing::HangupSide::server, now);
        return true;
    }
    c->cancelled = true;
    impl_->respond_a(*c, 503, "Call Terminated By Operator", nullptr, now);
    if (c->b_txn && c->b_provisional) impl_->cancel_b(*c, now);
    else if (c->b_txn) {
        impl_->abandoned[c->b_txn] = Abandoned{c->b, 1};
        impl_->pending_cancel.insert(c->b_txn);
    }
    impl_->invites.erase(c->b_txn);
    c->b_txn = 0;
    impl_->finish(*c, 503, "Call Terminated By Operator", billing::HangupSide::server, now);
    return true;
}
billing::Money Calls::reserved(std::string_view account) const {
    auto it = impl_->reserved.find(std::string(account));
    return it == impl_->reserved.end() ? billing::Money{} : it->second;
}
std::uint64_t Calls::generation() const noexcept {
    return impl_->generation;
}
void Calls::drain(std::chrono::seconds retry_after) noexcept {
    impl_->draining = retry_after;
}
bool Calls::draining() const noexcept {
    return impl_->draining.has_value();
}
std::size_t Calls::active() const noexcept {
    return impl_->calls.size();
}
const CallMetrics& Calls::metrics() const noexcept {
    return impl_->metrics;
}
const CallHistory& Calls::history() const noexcept {
    return impl_->history;
}
const CallsStats& Calls::stats() const noexcept {
    return impl_->stats;
}

}  // namespace sw

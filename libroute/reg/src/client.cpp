// Outbound registration client: RFC 3261 §10.2 (REGISTER), §22 / RFC 7616 (digest),
// RFC 3323 (Privacy). See client.hpp for the behaviour contract.
#include "route/reg/client.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "sip/builder.hpp"
#include "sip/header_id.hpp"
#include "sip/headers.hpp"

namespace route::reg {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

// RFC 3261 §10.2.1.1: with no expiry in the request or the 2xx, a registrar defaults to
// 3600 s; an auto-mode client that learns nothing better assumes the same.
constexpr std::uint32_t kDefaultExpires = 3600;
// A grant longer than this is taken as this: refreshing after a year at the latest costs
// nothing, while a grant of up to 2^32-1 s (136 years) added to a clock that has run for a
// while overflows sip::Instant (int64 nanoseconds, ~292 years). Found by the reg_client fuzzer.
constexpr std::uint32_t kMaxGrant = 365u * 24 * 3600;
// Challenges answered within one attempt. A registrar that keeps answering stale=true (or a
// proxy and a registrar challenging in turn) gets this many rounds before we call it failed,
// so a misbehaving peer cannot make us loop without the retry delay.
constexpr std::uint32_t kMaxAuthRounds = 4;
// RFC 3261 §8.1.1.5: a CSeq "MUST be less than 2**31".
constexpr std::uint32_t kMaxCSeq = 0x7fffffff;

bool has_bad_chars(std::string_view s) {
    // Header injection through configuration: nothing that ends a line or a name-addr.
    return s.find_first_of("\r\n<>\"") != std::string_view::npos;
}

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::uint16_t effective_port(const sip::Uri& u) {
    if (u.has_port) return u.port;
    return u.scheme == sip::Uri::Scheme::Sips ? 5061 : 5060;
}

// RFC 3261 §19.1.4 comparison, reduced to what identifies our binding: user, host, port.
// Registrars echo the Contact with their own parameter order and case, so no string compare.
bool same_contact(std::string_view a, std::string_view b) {
    auto ua = sip::parse_uri(a);
    auto ub = sip::parse_uri(b);
    if (!ua || !ub) return false;
    return ua->user == ub->user && iequal(ua->host, ub->host) &&
           effective_port(*ua) == effective_port(*ub);
}

std::string lower_transport(sip::Transport t) {
    std::string s(sip::transport_name(t));
    for (char& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

std::optional<ConfigError> validate(const RegClientConfig& c) {
    auto err = [](std::string field, std::string message) {
        return std::optional<ConfigError>(ConfigError{std::move(field), std::move(message)});
    };
    if (c.registrar.host.empty()) return err("registrar", "registrar address is empty");
    if (c.registrar.port == 0) return err("registrar", "registrar port is 0");
    if (c.registrar_domain.empty() || has_bad_chars(c.registrar_domain))
        return err("registrar_domain", "registrar domain is empty or contains <>\" CR LF");
    if (c.outbound_proxy && (c.outbound_proxy->host.empty() || c.outbound_proxy->port == 0))
        return err("outbound_proxy", "outbound proxy address or port is empty");
    if (c.aor_user.empty() || has_bad_chars(c.aor_user))
        return err("aor_user", "AOR user is empty or contains <>\" CR LF");
    if (has_bad_chars(c.aor_domain) || has_bad_chars(c.auth_user) || has_bad_chars(c.user_agent))
        return err("aor_domain", "AOR domain, auth user or User-Agent contains <>\" CR LF");
    if (c.contact_host.empty() || has_bad_chars(c.contact_host))
        return err("contact_host", "contact host is empty or contains <>\" CR LF");
    if (c.contact_port == 0) return err("contact_port", "contact port is 0");
    // VOS3000 SS_SIP_USER_AGENT_EXPIRE: auto or 20..7200 s.
    if (c.expires && (c.expires->count() < 20 || c.expires->count() > 7200))
        return err("expires", "expires " + std::to_string(c.expires->count()) +
                                  " s is outside 20..7200 s (or auto)");
    // VOS3000 SS_SIP_USER_AGENT_RETRY_DELAY: 30..600 s.
    if (c.retry_delay.count() < 30 || c.retry_delay.count() > 600)
        return err("retry_delay", "retry delay " + std::to_string(c.retry_delay.count()) +
                                      " s is outside 30..600 s");
    if (c.refresh_margin.count() < 1 || c.refresh_margin.count() > 600)
        return err("refresh_margin", "refresh margin " + std::to_string(c.refresh_margin.count()) +
                                         " s is outside 1..600 s");
    if (c.unregister_wait.count() < 1 || c.unregister_wait.count() > 300)
        return err("unregister_wait", "unregister wait " +
                                          std::to_string(c.unregister_wait.count()) +
                                          " s is outside 1..300 s");
    return std::nullopt;
}

std::string_view state_name(State s) noexcept {
    switch (s) {
        case State::idle:
            return "idle";
        case State::registering:
            return "registering";
        case State::registered:
            return "registered";
        case State::failed:
            return "failed";
        case State::unregistering:
            return "unregistering";
        case State::unregistered:
            return "unregistered";
        case State::stopped:
            return "stopped";
    }
    return "?";
}

RegClient::RegClient(RegClientConfig config, const sip::auth::Hasher& hasher, sip::Random& rng)
    : config_(std::move(config)),
      digest_(hasher, rng,
              {config_.auth_user.empty() ? config_.aor_user : config_.auth_user, config_.password}),
      rng_(rng),
      invalid_(validate(config_)) {
    if (config_.aor_domain.empty()) config_.aor_domain = config_.registrar_domain;
    if (invalid_) {
        // Errors are values (DESIGN.md §3): the entry shows as failed with the reason.
        status_.state = State::failed;
        status_.reason = "invalid configuration: " + invalid_->message;
    }
}

std::string RegClient::contact_uri() const {
    const sip::Transport t =
        config_.outbound_proxy ? config_.outbound_proxy->transport : config_.registrar.transport;
    std::string uri = "sip:" + config_.aor_user + "@" + config_.contact_host + ":" +
                      std::to_string(config_.contact_port);
    // RFC 3261 §19.1.1: without transport=, a sip: URI means UDP; a stream contact says so.
    if (t != sip::Transport::Udp) uri += ";transport=" + lower_transport(t);
    return uri;
}

Persisted RegClient::persisted() const {
    Persisted p;
    p.call_id = call_id_;
    p.cseq = cseq_;
    // While the old contact is still to be removed, it is the one a crash must remember.
    if (!old_contact_.empty())
        p.contact_uri = old_contact_;
    else if (ever_sent_ && !unbound_)
        p.contact_uri = contact_uri();
    p.expires_at = status_.expires_at;
    return p;
}

void RegClient::set_state(State s, std::string reason) {
    status_.state = s;
    status_.reason = reason;
    actions_.push_back(StateChanged{s, std::move(reason)});
}

std::optional<Action> RegClient::poll() {
    if (actions_.empty()) return std::nullopt;
    Action a = std::move(actions_.front());
    actions_.pop_front();
    return a;
}

std::uint32_t RegClient::requested_expires() const noexcept {
    if (adopted_expires_) return *adopted_expires_;
    if (config_.expires) return static_cast<std::uint32_t>(config_.expires->count());
    return 0;  // auto: ask for nothing, take the grant
}

void RegClient::start(sip::Instant now, std::optional<Persisted> previous) {
    if (invalid_) {
        actions_.push_back(StateChanged{State::failed, status_.reason});
        return;
    }
    if (status_.state != State::idle || stopping_) return;
    if (previous && !previous->call_id.empty()) {
        // RFC 3261 §10.2.4: keep the Call-ID and raise the CSeq, so the registrar sees the
        // same registration continuing (§10.3 step 7 orders requests by CSeq per Call-ID).
        call_id_ = previous->call_id;
        cseq_ = previous->cseq;
    } else {
        call_id_ = sip::make_token(rng_, 24) + "@" + config_.contact_host;
    }
    from_tag_ = sip::make_token(rng_);
    // An earlier run left our own contact bound (crash, or send_unregister off): stop()
    // must remove it even if every attempt of this run fails.
    if (previous && previous->contact_uri == contact_uri()) may_be_bound_ = true;
    if (previous && !previous->contact_uri.empty() && previous->contact_uri != contact_uri()) {
        // Issue 6 item 9: a crash left a binding to a contact we no longer listen on.
        old_contact_ = previous->contact_uri;
        www_auth_.clear();
        proxy_auth_.clear();
        auth_rounds_ = 0;
        send(Purpose::recover, now);
        return;
    }
    www_auth_.clear();
    proxy_auth_.clear();
    auth_rounds_ = 0;
    send(Purpose::reg, now);
}

void RegClient::stop(sip::Instant now) {
    if (done_) return;
    stopping_ = true;
    timer_.reset();
    status_.next_attempt.reset();
    // Any 2xx, an earlier run's binding of our contact, a REGISTER that went unanswered at
    // a registrar that does answer, or one still out: a binding may exist. Final refusals (a
    // wrong password, 403) prove there is nothing to remove, and sending the rejected
    // credentials once more would count as one more failure at the carrier; a registrar
    // that never answered anything bound nothing an unregister could reach (issue 12 item 6).
    const bool maybe = may_be_bound_ || (outstanding_ == Purpose::reg && !silent_);
    if (invalid_ || !config_.send_unregister || !ever_sent_ || !maybe) {
        outstanding_ = Purpose::none;
        done_ = true;
        if (config_.send_unregister || invalid_) unbound_ = true;  // nothing for a restart
        set_state(State::stopped, invalid_ ? "stopped: invalid configuration"
                                  : !config_.send_unregister
                                      ? "stopped: send unregister off (a binding stays "
                                        "at the registrar until it expires)"
                                  : !ever_sent_ ? "stopped: never registered, nothing to unregister"
                                  : !answered_  ? "stopped: never registered (the registrar never "
                                                  "answered), nothing to unregister"
                                                : "stopped: never registered (every attempt was "
                                                  "refused), nothing to unregister");
        return;
    }
    stop_deadline_ = now + config_.unregister_wait;
    old_contact_.clear();
    www_auth_.clear();
    proxy_auth_.clear();
    auth_rounds_ = 0;
    // A request still in flight is abandoned: the higher CSeq below supersedes it at the
    // registrar (§10.3 step 7 rejects the older one if it arrives late).
    send(Purpose::unreg, now);
}

std::string RegClient::build(Purpose purpose) {
    const sip::Target& to = config_.outbound_proxy ? *config_.outbound_proxy : config_.registrar;
    const std::string ruri = "sip:" + config_.registrar_domain;
    const std::string aor = "<sip:" + config_.aor_user + "@" + config_.aor_domain + ">";
    const bool removing = purpose != Purpose::reg;
    const std::string contact = purpose == Purpose::recover ? old_contact_ : contact_uri();

    sip::RequestBuilder rb("REGISTER", ruri);
    // RFC 3261 §8.1.1.7 fresh branch per request; RFC 3581 rport so a NAT'd answer finds us.
    rb.add(sip::HeaderId::Via,
           std::string("SIP/2.0/") + std::string(sip::transport_name(to.transport)) + " " +
               config_.contact_host + ":" + std::to_string(config_.contact_port) +
               ";branch=" + sip::make_branch(rng_) + ";rport");
    rb.add(sip::HeaderId::From, aor + ";tag=" + from_tag_);
    rb.add(sip::HeaderId::To, aor);  // §10.2: To = the AOR, From = who registers (the same)
    rb.add(sip::HeaderId::CallId, call_id_);
    rb.add(sip::HeaderId::CSeq, std::to_string(cseq_) + " REGISTER");
    // §10.2.2: removal = expires 0 for that contact (both forms, for picky registrars).
    rb.add(sip::HeaderId::Contact, "<" + contact + ">" + (removing ? ";expires=0" : ""));
    if (removing) {
        rb.add(sip::HeaderId::Expires, "0");
    } else if (std::uint32_t e = requested_expires(); e != 0) {
        rb.add(sip::HeaderId::Expires, std::to_string(e));
    }
    if (!proxy_auth_.empty()) rb.add(sip::HeaderId::ProxyAuthorization, proxy_auth_);
    if (!www_auth_.empty()) rb.add(sip::HeaderId::Authorization, www_auth_);
    // RFC 3323 §4.2 priv-values: "id" (RFC 3325 §9.3) hides the asserted identity; "none"
    // explicitly asks for no privacy. "ignore" leaves the header out.
    if (config_.privacy == Privacy::id) rb.add(sip::HeaderId::Privacy, "id");
    if (config_.privacy == Privacy::none) rb.add(sip::HeaderId::Privacy, "none");
    if (!config_.user_agent.empty()) rb.add(sip::HeaderId::UserAgent, config_.user_agent);
    return rb.build();
}

void RegClient::send(Purpose purpose, sip::Instant now) {
    if (cseq_ >= kMaxCSeq) {
        // §8.1.1.5: the CSeq must stay below 2^31. Wrapping instead would look out of order
        // to the registrar (§10.3 step 7 on the same Call-ID), so a new registration starts:
        // another Call-ID updates the binding of our contact whatever its CSeq.
        call_id_ = sip::make_token(rng_, 24) + "@" + config_.contact_host;
        cseq_ = 0;
    }
    ++cseq_;  // §10.2.4: every REGISTER of this Call-ID, resends included, gets a new CSeq
    outstanding_ = purpose;
    outstanding_cseq_ = cseq_;
    sent_at_ = now;
    sent_www_ = !www_auth_.empty();
    sent_proxy_ = !proxy_auth_.empty();
    if (purpose == Purpose::reg) ever_sent_ = true;
    const sip::Target& to = config_.outbound_proxy ? *config_.outbound_proxy : config_.registrar;
    std::string bytes = build(purpose);
    switch (purpose) {
        case Purpose::recover:
            if (status_.state != State::registering)
                set_state(State::registering, "removing stale contact " + old_contact_);
            break;
        case Purpose::reg:
            // A refresh keeps showing "registered": the binding is still valid.
            if (status_.state != State::registered && status_.state != State::registering)
                set_state(State::registering, "registering " + contact_uri());
            break;
        case Purpose::unreg:
            if (status_.state != State::unregistering)
                set_state(State::unregistering, "unregistering " + contact_uri());
            break;
        case Purpose::none:
            break;
    }
    actions_.push_back(SendRequest{sip::make_bytes(std::move(bytes)), to});
}

std::optional<std::string> RegClient::answer_challenge(const sip::Message& response, bool proxy) {
    const sip::HeaderId id =
        proxy ? sip::HeaderId::ProxyAuthenticate : sip::HeaderId::WWWAuthenticate;
    std::vector<sip::Challenge> offered;
    bool stale = false;
    for (const sip::HeaderField& h : response.headers()) {
        if (h.id != id) continue;
        if (auto c = sip::parse_challenge(response.value(h))) {
            stale = stale || c->stale;
            offered.push_back(*c);
        }
    }
    // RFC 7616 §3.3: stale=true says only the nonce was old and the credentials were right;
    // a new challenge without it, to a request that carried credentials of this kind, means
    // they were refused. Retrying at once would just hammer the registrar (and may get the
    // account locked by its flood protection), so it is a failure handled by retry_delay.
    if ((proxy ? sent_proxy_ : sent_www_) && !stale) return "credentials rejected";
    if (++auth_rounds_ > kMaxAuthRounds) return "too many challenges";
    auto answer = digest_.answer(offered, "REGISTER", "sip:" + config_.registrar_domain);
    if (!answer) return "no usable challenge";
    (proxy ? proxy_auth_ : www_auth_) = std::move(*answer);
    return std::nullopt;
}

bool RegClient::on_response(const sip::Message& response, sip::Instant now) {
    if (!response.is_response() || outstanding_ == Purpose::none || done_) return false;
    if (response.call_id() != call_id_ || response.cseq().number != outstanding_cseq_ ||
        response.cseq().method != sip::Method::Register)
        return false;
    const std::uint16_t code = response.status_code();
    if (code < 200) return true;  // provisional: the transaction layer keeps waiting
    answered_ = true;
    silent_ = false;
    status_.last_code = code;
    status_.last_reason_phrase = std::string(response.reason());
    const Purpose p = outstanding_;
    outstanding_ = Purpose::none;
    const std::string what = std::to_string(code) + " " + std::string(response.reason());

    if (code == 401 || code == 407) {
        if (auto err = answer_challenge(response, code == 407)) {
            finish_purpose_failure(p, what + ": " + *err, now);
        } else {
            send(p, now);
        }
        return true;
    }
    if (code == 423 && p == Purpose::reg) {
        // RFC 3261 §10.2.8 / §10.3 step 7: retry with at least Min-Expires. Only a strictly
        // larger value is adopted, so a broken registrar cannot make this loop.
        const sip::HeaderField* f = response.find(sip::HeaderId::MinExpires);
        auto min = f ? sip::parse_expires(response.value(*f))
                     : sip::Result<std::uint32_t>(sip::unexpected(sip::Errc::not_found));
        if (min && *min > requested_expires()) {
            adopted_expires_ = *min;
            www_auth_.clear();  // that answer's nc was used; a fresh challenge will come
            proxy_auth_.clear();
            auth_rounds_ = 0;
            send(Purpose::reg, now);
        } else {
            finish_purpose_failure(p, what + ": no usable Min-Expires", now);
        }
        return true;
    }
    if (code >= 200 && code < 300) {
        switch (p) {
            case Purpose::reg:
                may_be_bound_ = true;
                registered(response, now);
                break;
            case Purpose::recover:
                actions_.push_back(
                    StateChanged{State::registering,
                                 "stale contact " + old_contact_ + " removed (" + what + ")"});
                old_contact_.clear();
                www_auth_.clear();
                proxy_auth_.clear();
                auth_rounds_ = 0;
                send(Purpose::reg, now);
                break;
            case Purpose::unreg:
                done_ = true;
                unbound_ = true;  // the registrar confirmed: nothing for a restart to clean
                status_.expires_at.reset();
                set_state(State::unregistered, "unregistered (" + what + ")");
                break;
            case Purpose::none:
                break;
        }
        return true;
    }
    finish_purpose_failure(p, what, now);
    return true;
}

void RegClient::registered(const sip::Message& response, sip::Instant now) {
    // §10.2.4: the 2xx lists every current binding of the AOR; ours says what was granted.
    std::optional<std::uint32_t> granted;
    const std::string mine = contact_uri();
    for (const sip::HeaderField& h : response.headers()) {
        if (h.id != sip::HeaderId::Contact || granted) continue;
        std::string_view list = response.value(h);
        while (!list.empty() && !granted) {
            auto na = sip::next_name_addr(list);
            if (!na) break;
            if (!na->star && na->expires && same_contact(na->uri, mine)) granted = *na->expires;
        }
    }
    if (!granted) {
        if (const sip::HeaderField* f = response.find(sip::HeaderId::Expires))
            if (auto e = sip::parse_expires(response.value(*f))) granted = *e;
    }
    if (!granted) {
        const std::uint32_t asked = requested_expires();
        granted = asked != 0 ? asked : kDefaultExpires;
    }
    if (*granted == 0) {
        fail("registrar granted 0 s", now);
        return;
    }
    granted = std::min(*granted, kMaxGrant);
    const seconds g(*granted);
    const seconds margin = config_.refresh_margin;
    const sip::Duration refresh_after =
        g >= 2 * margin ? sip::Duration(g - margin) : sip::Duration(milliseconds(g) / 2);
    // Counted from the send time: the registrar started the binding's clock later than that.
    status_.expires_at = sent_at_ + g;
    status_.granted = g;
    status_.consecutive_failures = 0;
    timer_ = sent_at_ + refresh_after;
    status_.next_attempt = timer_;
    set_state(State::registered, "registered for " + std::to_string(*granted) + " s");
}

void RegClient::fail(std::string reason, sip::Instant now) {
    ++status_.consecutive_failures;
    if (status_.expires_at && *status_.expires_at <= now) status_.expires_at.reset();
    // Retry delay ± 10 %, uniform: entries that failed together (a carrier outage) spread
    // their retries instead of arriving in one burst.
    const auto d = duration_cast<milliseconds>(config_.retry_delay).count();
    const auto j = d / 10;
    const auto offset =
        static_cast<std::int64_t>(rng_.below(static_cast<std::uint32_t>(2 * j + 1))) - j;
    timer_ = now + milliseconds(d + offset);
    status_.next_attempt = timer_;
    set_state(State::failed, std::move(reason));
}

void RegClient::finish_purpose_failure(Purpose purpose, std::string reason, sip::Instant now) {
    switch (purpose) {
        case Purpose::reg:
            fail(std::move(reason), now);
            break;
        case Purpose::recover:
            // Best effort: the stale binding expires by itself; registering the new contact
            // must not wait on it.
            actions_.push_back(
                StateChanged{State::registering,
                             "removing stale contact " + old_contact_ + " failed: " + reason});
            old_contact_.clear();
            www_auth_.clear();
            proxy_auth_.clear();
            auth_rounds_ = 0;
            send(Purpose::reg, now);
            break;
        case Purpose::unreg:
            done_ = true;
            unclean_ = true;
            set_state(State::stopped, "stopped: unregister failed: " + reason +
                                          "; the binding may stay until it expires");
            break;
        case Purpose::none:
            break;
    }
}

void RegClient::abandon(std::string reason, sip::Instant now) {
    const Purpose p = outstanding_;
    outstanding_ = Purpose::none;
    status_.last_code = 0;
    status_.last_reason_phrase.clear();
    finish_purpose_failure(p, std::move(reason), now);
}

void RegClient::on_timeout(sip::Instant now) {
    if (outstanding_ == Purpose::none || done_) return;
    // It may have been processed and the answer lost, at a registrar that answers; one that
    // never answered anything is unreachable (nothing there to unregister from).
    if (outstanding_ == Purpose::reg) {
        if (answered_)
            may_be_bound_ = true;
        else
            silent_ = true;
    }
    abandon("no response (transaction timeout)", now);
}

void RegClient::on_transport_error(sip::Instant now) {
    if (outstanding_ == Purpose::none || done_) return;
    // a stream may have delivered the request before it broke (at a registrar that answers)
    if (outstanding_ == Purpose::reg) {
        if (answered_)
            may_be_bound_ = true;
        else
            silent_ = true;
    }
    abandon("transport error", now);
}

std::optional<sip::Instant> RegClient::next_deadline() const noexcept {
    if (done_) return std::nullopt;
    std::optional<sip::Instant> d = timer_;
    auto take = [&](std::optional<sip::Instant> t) {
        if (t && (!d || *t < *d)) d = t;
    };
    take(stop_deadline_);
    if (status_.state == State::registered) take(status_.expires_at);
    return d;
}

bool RegClient::refresh_now(sip::Instant now) {
    if (invalid_ || done_ || stopping_ || status_.state == State::idle) return false;
    if (outstanding_ != Purpose::none) return true;  // a REGISTER is already on its way
    timer_.reset();
    status_.next_attempt.reset();
    www_auth_.clear();
    proxy_auth_.clear();
    auth_rounds_ = 0;
    send(Purpose::reg, now);
    return true;
}

void RegClient::handle_timeouts(sip::Instant now) {
    if (done_) return;
    if (stop_deadline_ && now >= *stop_deadline_) {
        // Issue 6 item 8: the process must not hang on an unreachable carrier.
        outstanding_ = Purpose::none;
        done_ = true;
        unclean_ = true;
        set_state(State::stopped, "stopped: unregister not answered within " +
                                      std::to_string(config_.unregister_wait.count()) +
                                      " s; the binding may stay at the registrar until it expires");
        return;
    }
    if (status_.state == State::registered && status_.expires_at && now >= *status_.expires_at) {
        // The refresh did not come back in time: the registrar has dropped us by now.
        status_.expires_at.reset();
        set_state(State::registering, "binding expired before the refresh was answered");
    }
    if (timer_ && now >= *timer_) {
        timer_.reset();
        status_.next_attempt.reset();
        if (outstanding_ == Purpose::none && !stopping_) {
            www_auth_.clear();
            proxy_auth_.clear();
            auth_rounds_ = 0;
            send(Purpose::reg, now);
        }
    }
}

}  // namespace route::reg

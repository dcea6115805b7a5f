#include "route/reg/registrar.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "sip/builder.hpp"
#include "sip/header_id.hpp"
#include "sip/headers.hpp"
#include "sip/random.hpp"

namespace route::reg {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Seconds left, rounded up: a binding with 0.3 s left is still live, and "expires=0" in a
// 200 would tell the client it is gone (RFC 3261 §10.2.4 reads 0 as removal).
std::int64_t remaining_seconds(sip::Instant at, sip::Instant now) {
    const sip::Duration left = at - now;
    const auto s = std::chrono::ceil<std::chrono::seconds>(left);
    return s.count();
}

std::string q_text(std::uint16_t q) {
    // thousandths back to RFC 3261 §20.10 qvalue ("0.5", "1.0", "0.125")
    if (q >= 1000) return "1.0";
    std::string frac = std::to_string(1000 + q).substr(1);  // 3 digits
    while (frac.size() > 1 && frac.back() == '0')
        frac.pop_back();
    return "0." + frac;
}

std::string strip_quotes(std::string_view v) {
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return std::string(v);
}

// RFC 3581 NAT detection: the top Via's sent-by is not the packet's source, i.e. the
// received/rport of the response (sip::via_stamp) corrects it. Over a stream the source port
// is the connection's own and says nothing, so only the address counts there.
bool via_shows_nat(const sip::Via& top, const sip::Target& source) {
    std::string_view host = top.host;
    if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    if (!sip::iequals(host, source.host)) return true;
    if (sip::reliable(source.transport)) return false;
    const std::uint16_t port =
        top.has_port ? top.port : (source.transport == sip::Transport::Tls ? 5061 : 5060);
    return port != source.port;
}

// The RFC 3261 §17.2.3 matching key of a request's server transaction (branch and sent-by;
// the method is REGISTER), hashed; 0 when the branch lacks the magic cookie (an RFC 2543
// peer), whose retransmissions are then left to the server transaction.
std::uint32_t txn_hash_of(const sip::Message& req) {
    const sip::Via& v = req.top_via();
    if (!v.branch.starts_with("z9hG4bK")) return 0;
    sip::Fnv1a f;
    f.bytes(v.branch);
    f.bytes(lower(v.host));
    f.number(v.has_port ? v.port : 0);
    const auto h = static_cast<std::uint32_t>(f.value() ^ (f.value() >> 32));
    return h == 0 ? 1 : h;
}

struct Wanted {
    std::string uri;
    std::optional<std::uint16_t> q;
    std::uint32_t expires = 0;
    std::string instance;
    std::optional<std::uint32_t> reg_id;
};

}  // namespace

std::string rfc1123_date(std::int64_t unix_seconds) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);  // a conversion, not a clock read
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                  tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

std::string render(const sip::Message& request, const Decision& d, const RenderOptions& o) {
    sip::ResponseSpec spec;
    spec.status = d.status;
    spec.reason = d.reason;
    spec.to_tag = o.to_tag;
    spec.via_received = o.via_received;
    spec.via_rport = o.via_rport;
    for (const auto& [name, value] : d.headers)
        spec.extra.push_back({name, value});
    std::string date;
    if (o.unix_time && d.status / 100 == 2) {
        // §10.3 step 8: the 200 SHOULD carry Date (lets simple UAs set their clock)
        date = rfc1123_date(*o.unix_time);
        spec.extra.push_back({"Date", date});
    }
    return sip::build_response(request, spec);
}

std::optional<std::string> Registrar::canonical_aor(std::string_view to_uri) {
    sip::Result<sip::Uri> u = sip::parse_uri(to_uri);
    if (!u || !u->is_sip() || u->host.empty()) return std::nullopt;
    // §10.3 step 5: parameters removed, escapes decoded; host is case-insensitive (§19.1.4)
    std::string aor = lower(u->scheme_name);
    aor += ':';
    if (!u->user.empty()) {
        aor += sip::unescape(u->user);
        aor += '@';
    }
    aor += lower(u->host);
    return aor;
}

namespace {
AuthGuardConfig guard_config(const RegistrarConfig& c) {
    return {.retry = c.register_retry,
            .suspend = c.register_suspend,
            .failure_window = c.failure_window,
            .trust_window = c.trust_window,
            .scope = c.suspend_scope,
            .max_counters = c.max_tracked,
            .max_suspensions = c.max_suspensions,
            .max_trusted = c.max_trusted};
}
}  // namespace

Registrar::Registrar(RegistrarConfig config, Location& location, Authenticator* auth)
    : config_(std::move(config)), location_(location), auth_(auth), guard_(guard_config(config_)) {}

void Registrar::set_live_config(const RegistrarConfig& c) {
    config_.min_expires = c.min_expires;
    config_.max_expires = c.max_expires;
    config_.default_expires = c.default_expires;
    config_.register_replace = c.register_replace;
    config_.suspend_drop = c.suspend_drop;
    config_.register_retry = c.register_retry;
    config_.register_suspend = c.register_suspend;
    config_.failure_window = c.failure_window;
    config_.trust_window = c.trust_window;
    guard_.set_limits(guard_config(config_));
}

Decision Registrar::refuse(std::uint16_t status, std::string_view reason) {
    Decision d;
    d.status = status;
    d.reason = std::string(reason);
    return d;
}

std::optional<sip::Instant> Registrar::next_deadline() const {
    return guard_.next_deadline();
}

void Registrar::handle_timeouts(sip::Instant now) {
    for (Suspension& s : guard_.expire(now)) {
        RegistrarEvent ev;
        ev.kind = RegistrarEvent::Kind::SuspensionEnded;
        ev.key = s.key;
        ev.ip = s.ip();
        ev.suspension = std::move(s);
        emit(std::move(ev));
    }
}

void Registrar::note_failure(std::string_view user, const sip::Target& source, sip::Instant now,
                             const std::string& aor) {
    emit({RegistrarEvent::Kind::AuthFailed, aor, {}, std::string(user), false, source, {}});
    for (Suspension& su : guard_.failed(user, source.host, now)) {
        RegistrarEvent ev{RegistrarEvent::Kind::Suspended, aor, {}, su.key, su.ip(), source, {}};
        ev.suspension = std::move(su);
        emit(std::move(ev));
    }
}

void Registrar::auth_failed(std::string_view user, const sip::Target& source, sip::Instant now) {
    handle_timeouts(now);
    note_failure(user, source, now, {});
}

std::optional<RegistrarEvent> Registrar::poll() {
    if (events_.empty()) return std::nullopt;
    RegistrarEvent ev = std::move(events_.front());
    events_.pop_front();
    return ev;
}

Decision Registrar::handle(const sip::Message& req, const sip::Target& source, sip::Instant now) {
    handle_timeouts(now);  // suspensions end exactly at their instant, even without a timer
    auto suspended_answer = [&] {
        Decision d = refuse(403, "Forbidden");
        if (config_.suspend_drop) d.action = Decision::Action::Drop;
        return d;
    };
    if (!req.is_request() || req.method() != sip::Method::Register) {
        Decision d = refuse(405, "");
        d.headers.emplace_back("Allow", "REGISTER");
        return d;
    }
    const sip::NameAddr& to = req.to();
    std::optional<std::string> aor = canonical_aor(to.uri);
    // The user a refusal may spare (a trusted address): the credentials' name once they are
    // verified below; before that, the To's user part.
    const std::string to_user = aor ? sip::unescape(sip::parse_uri(to.uri)->user) : std::string();
    if (auth_ && guard_.refused(to_user, source.host, now)) {
        Decision d = suspended_answer();
        if (aor) d.aor = *aor;  // issue 12 item 8: logged with an empty address otherwise
        return d;
    }

    // Step 4/5 (checked first: a request whose To is not an AOR at all is a syntax fault,
    // not worth a challenge). RFC 4475 §3.3.7 (unksm2) expects 400 for a non-SIP To.
    if (!aor) return refuse(400, "Bad Request (To is not a SIP or SIPS URI)");

    // Step 2: every Require option must be one we support; Path (RFC 3327) is the only one.
    std::string unsupported;
    for (const sip::HeaderField& h : req.headers()) {
        if (h.id != sip::HeaderId::Require) continue;
        std::string_view list = req.value(h);
        while (!list.empty()) {
            sip::Result<std::string_view> tok = sip::next_token(list);
            if (!tok) return refuse(400, "Bad Request (Require)");
            if (sip::iequals(*tok, "path")) continue;
            if (!unsupported.empty()) unsupported += ", ";
            unsupported += *tok;
        }
    }
    if (!unsupported.empty()) {
        Decision d = refuse(420, "");
        d.headers.emplace_back("Unsupported", unsupported);
        return d;
    }

    // Step 3: authentication, and the retry/suspend rules (issue 6 §3).
    if (auth_) {
        const sip::HeaderField* h = req.find(sip::HeaderId::Authorization);
        if (!h) {
            // §22.2: no credentials yet is the normal first leg, not a failure
            Decision d = refuse(401, "");
            for (std::string& c : auth_->challenge(now, false))
                d.headers.emplace_back("WWW-Authenticate", std::move(c));
            d.aor = *aor;
            return d;
        }
        Authenticator::Outcome out = auth_->verify(req.value(*h), req.method_name(), now);
        if (out.username != to_user && guard_.refused(out.username, source.host, now)) {
            Decision d = suspended_answer();
            d.aor = *aor;
            return d;
        }
        if (out.verdict == Authenticator::Verdict::Repeated) {
            if (auto d = retransmission(req, *aor, txn_hash_of(req), now)) return *d;
            out.verdict = Authenticator::Verdict::Rejected;  // a replay, not a retransmission
        }
        if (out.verdict == Authenticator::Verdict::Stale) {
            // RFC 7616 §3.3: a right answer to an old nonce; stale=true, no failure counted
            Decision d = refuse(401, "");
            for (std::string& c : auth_->challenge(now, true))
                d.headers.emplace_back("WWW-Authenticate", std::move(c));
            d.aor = *aor;
            return d;
        }
        if (out.verdict == Authenticator::Verdict::Rejected) {
            note_failure(out.username, source, now, *aor);
            // The try that reaches the count is answered like the others (401): a client
            // sees exactly register_retry rejections, and the suspension holds from the next
            // request on (VOS3000: "suspend after the retries").
            Decision d = refuse(401, "");
            for (std::string& c : auth_->challenge(now, false))
                d.headers.emplace_back("WWW-Authenticate", std::move(c));
            d.aor = *aor;
            return d;
        }
        guard_.succeeded(out.username, source.host, now);
        // Step 6: the authenticated identity may only change its own AOR's bindings.
        if (config_.check_aor_user && out.username != to_user)
            return refuse(403, "Forbidden (user does not own this AOR)");
    }

    // Step 6 (contacts) and 7 (expiry): gather every Contact element of every Contact field.
    std::optional<std::uint32_t> expires_header;
    if (const sip::HeaderField* e = req.find(sip::HeaderId::Expires)) {
        sip::Result<std::uint32_t> v = sip::parse_expires(req.value(*e));
        if (!v) return refuse(400, "Bad Request (Expires)");
        expires_header = *v;
    }
    std::vector<sip::NameAddr> contacts;
    bool star = false;
    for (const sip::HeaderField& h : req.headers()) {
        if (h.id != sip::HeaderId::Contact) continue;
        std::string_view list = req.value(h);
        while (!list.empty()) {
            sip::Result<sip::NameAddr> c = sip::next_name_addr(list);
            if (!c) return refuse(400, "Bad Request (Contact)");
            star = star || c->star;
            contacts.push_back(*c);
        }
    }
    const std::string call_id(req.call_id());
    const std::uint32_t cseq = req.cseq().number;
    const std::uint32_t txn_hash = txn_hash_of(req);
    const std::vector<Binding> current = location_.lookup(*aor, now);

    if (star) {
        // §10.3 step 6: `*` is only valid alone and with Expires: 0 (§10.2.2)
        if (contacts.size() != 1 || !expires_header || *expires_header != 0)
            return refuse(400, "Bad Request (Contact * needs Expires: 0 and no other Contact)");
        // Step 6: a binding of this Call-ID is removed only by a higher CSeq, otherwise the
        // request is out of order and fails as a whole (see step 7 below for the code).
        for (const Binding& b : current) {
            if (b.call_id == call_id && b.cseq >= cseq)
                return refuse(400, "Bad Request (CSeq not above the binding's)");
        }
        for (const Binding& b : current) {
            location_.remove(*aor, b.contact);
            emit({RegistrarEvent::Kind::Removed, *aor, b.contact, {}, false, source, {}});
        }
        return ok_with_bindings(req, *aor, now);
    }

    // Step 7: each contact's expiry is its expires parameter, else the Expires header, else
    // the local default; a non-zero value below the minimum gets 423 (§10.3 step 7, §21.4.17)
    // and nothing changes; a value above the maximum is shortened.
    std::vector<Wanted> wanted;
    for (const sip::NameAddr& c : contacts) {
        Wanted w;
        w.uri = std::string(c.uri);
        w.q = c.q;
        const std::uint32_t e = c.expires ? *c.expires
                                : expires_header
                                    ? *expires_header
                                    : static_cast<std::uint32_t>(config_.default_expires.count());
        if (e != 0 && e < config_.min_expires.count()) {
            Decision d = refuse(423, "");
            d.headers.emplace_back("Min-Expires", std::to_string(config_.min_expires.count()));
            d.aor = *aor;
            return d;
        }
        w.expires = std::min<std::uint32_t>(e, config_.max_expires.count());
        if (auto inst = c.param("+sip.instance")) w.instance = strip_quotes(*inst);
        if (auto rid = c.param("reg-id")) {
            if (sip::Result<std::uint32_t> v = sip::parse_uint(*rid, UINT32_MAX)) w.reg_id = *v;
        }
        wanted.push_back(std::move(w));
    }
    if (wanted.empty()) return ok_with_bindings(req, *aor, now);  // §10.3 step 8: a query

    // RFC 3327 §5.3: keep the Path vector to route requests back through the same proxies.
    std::vector<std::string> path;
    for (const sip::HeaderField& h : req.headers()) {
        if (h.id != sip::HeaderId::Path) continue;
        std::string_view list = req.value(h);
        while (!list.empty()) {
            const std::string_view before = list;
            sip::Result<sip::NameAddr> p = sip::next_name_addr(list);
            if (!p) return refuse(400, "Bad Request (Path)");
            std::string_view elem = before.substr(0, before.size() - list.size());
            while (!elem.empty() &&
                   (elem.back() == ',' || elem.back() == ' ' || elem.back() == '\t'))
                elem.remove_suffix(1);
            while (!elem.empty() && (elem.front() == ' ' || elem.front() == '\t'))
                elem.remove_prefix(1);
            path.emplace_back(elem);
        }
    }

    // Match each wanted contact with a current binding: same contact URI, or the same
    // RFC 5626 instance and reg-id (the same device at a new address).
    // Each contact's comparison key once (a URI parse each; they were recomputed ~6 times
    // per REGISTER).
    std::vector<std::string> wanted_key(wanted.size());
    std::vector<std::string> current_key(current.size());
    for (std::size_t i = 0; i < wanted.size(); ++i)
        wanted_key[i] = Location::contact_key(wanted[i].uri);
    for (std::size_t j = 0; j < current.size(); ++j)
        current_key[j] = Location::contact_key(current[j].contact);
    auto key_of = [&](const Binding* b) -> const std::string& {
        return current_key[static_cast<std::size_t>(b - current.data())];
    };
    std::vector<const Binding*> match(wanted.size(), nullptr);
    std::vector<bool> kept(current.size(), false);
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        const std::string& key = wanted_key[i];
        for (std::size_t j = 0; j < current.size(); ++j) {
            const Binding& b = current[j];
            const bool same_uri = current_key[j] == key;
            const bool same_instance = !wanted[i].instance.empty() &&
                                       b.instance == wanted[i].instance &&
                                       b.reg_id == wanted[i].reg_id;
            if (same_uri || same_instance) {
                match[i] = &b;
                kept[j] = true;
            }
        }
        // Step 7: same Call-ID needs a higher CSeq, else "the update MUST be aborted and the
        // request fails". RFC 3261 names no code; 400 because the fault is the client's
        // (a late or replayed request; a retransmission of the request that stored the
        // binding is recognised first and answered 200), and 500 would invite a retry.
        if (match[i] && match[i]->call_id == call_id && match[i]->cseq >= cseq) {
            if (auto d = retransmission(req, *aor, txn_hash, now)) return *d;
            return refuse(400, "Bad Request (CSeq not above the binding's)");
        }
    }

    // Operator rule register_replace (issue 6 §3): "another device" is a live binding from a
    // different registration (Call-ID) that this request does not name.
    bool adds = false;
    for (std::size_t i = 0; i < wanted.size(); ++i)
        adds = adds || (!match[i] && wanted[i].expires);
    std::vector<const Binding*> others;
    for (std::size_t j = 0; j < current.size(); ++j) {
        if (!kept[j] && current[j].call_id != call_id) others.push_back(&current[j]);
    }
    if (adds && !others.empty() && !config_.register_replace)
        return refuse(403, "Forbidden (another device is registered)");

    // What the request leaves behind, worked out before any change: updates are
    // all-or-nothing (§10.3 step 7), so the bindings limit is checked on the outcome. In
    // request order, each contact takes away its match (expires 0; or, RFC 5626 §6, the same
    // instance and reg-id at a new address) and, unless expiring, stores itself; a contact
    // named twice ends as its last mention says.
    constexpr long kKept = -1, kGone = -2;  // otherwise: index of the contact that stores it
    std::map<std::string, long> fate;       // by contact key
    for (const std::string& key : current_key)
        fate[key] = kKept;
    const bool replacing = adds && config_.register_replace;
    if (replacing) {
        for (const Binding* b : others)
            fate[key_of(b)] = kGone;
    }
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        const std::string& key = wanted_key[i];
        if (match[i]) fate[key_of(match[i])] = kGone;
        if (wanted[i].expires != 0)
            fate[key] = static_cast<long>(i);
        else if (auto f = fate.find(key); f != fate.end())
            f->second = kGone;
    }
    std::size_t remaining = 0;
    for (const auto& [key, f] : fate)
        remaining += f != kGone;
    if (remaining > location_.config().max_bindings_per_aor)
        return refuse(403, "Forbidden (too many contacts)");

    // Removals first, so the store never holds more than the limit on the way.
    if (replacing) {
        for (const Binding* b : others) {
            location_.remove(*aor, b->contact);
            emit({RegistrarEvent::Kind::Replaced, *aor, b->contact, {}, false, source, {}});
        }
    }
    for (const Binding& b : current) {
        if (fate[key_of(&b)] != kGone ||
            (replacing && std::find(others.begin(), others.end(), &b) != others.end()))
            continue;
        location_.remove(*aor, b.contact);
        emit({RegistrarEvent::Kind::Removed, *aor, b.contact, {}, false, source, {}});
    }
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        Wanted& w = wanted[i];
        if (w.expires == 0 || fate[wanted_key[i]] != static_cast<long>(i)) continue;
        Binding b;
        b.contact = w.uri;
        b.q = w.q;
        b.expires_at = now + std::chrono::seconds(w.expires);
        b.call_id = call_id;
        b.cseq = cseq;
        b.path = path;
        b.source = source;
        b.via_nat = via_shows_nat(req.top_via(), source);
        b.instance = w.instance;
        b.reg_id = w.reg_id;
        b.txn_hash = txn_hash;
        location_.upsert(*aor, std::move(b));
        emit({match[i] ? RegistrarEvent::Kind::Refreshed : RegistrarEvent::Kind::Added,
              *aor,
              w.uri,
              {},
              false,
              source,
              {}});
    }
    Decision d = ok_with_bindings(req, *aor, now);
    // Every Contact stored by this transaction: a retransmission is recognised (above) and
    // answered alike, so nothing needs keeping for it.
    d.stateless = txn_hash != 0;
    for (std::size_t i = 0; i < wanted.size(); ++i)
        d.stateless = d.stateless && wanted[i].expires != 0 &&
                      fate[wanted_key[i]] == static_cast<long>(i);
    return d;
}

std::optional<Decision> Registrar::retransmission(const sip::Message& req, const std::string& aor,
                                                  std::uint32_t txn_hash, sip::Instant now) {
    if (txn_hash == 0) return std::nullopt;
    const std::string_view call_id = req.call_id();
    const std::uint32_t cseq = req.cseq().number;
    for (const Binding& b : location_.lookup(aor, now)) {
        if (b.txn_hash == txn_hash && b.cseq == cseq && b.call_id == call_id) {
            Decision d = ok_with_bindings(req, aor, now);
            d.stateless = true;
            return d;
        }
    }
    return std::nullopt;
}

Decision Registrar::ok_with_bindings(const sip::Message& req, const std::string& aor,
                                     sip::Instant now) {
    Decision d;
    d.aor = aor;
    for (const Binding& b : location_.lookup(aor, now)) {
        std::string v = "<" + b.contact +
                        ">;expires=" + std::to_string(remaining_seconds(b.expires_at, now));
        if (b.q) v += ";q=" + q_text(*b.q);
        d.headers.emplace_back("Contact", std::move(v));
    }
    // RFC 3327 §5.3: a registrar supporting Path returns the stored path in the 2xx
    for (const sip::HeaderField& h : req.headers()) {
        if (h.id == sip::HeaderId::Path) d.headers.emplace_back("Path", req.value(h));
    }
    return d;
}

}  // namespace route::reg

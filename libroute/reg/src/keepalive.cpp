// NAT keep-alive: RFC 5626 §4.4.1 CRLF pings or RFC 3261 §11 OPTIONS to registered UDP
// contacts. See keepalive.hpp for the behaviour contract.
#include "route/reg/keepalive.hpp"

#include <utility>

#include "sip/builder.hpp"
#include "sip/header_id.hpp"
#include "sip/headers.hpp"
#include "sip/message.hpp"

namespace route::reg {
namespace {

using std::chrono::milliseconds;

bool has_bad_chars(std::string_view s) {
    // Header injection through configuration: nothing that ends a line or a name-addr.
    return s.find_first_of("\r\n<>\"; ,") != std::string_view::npos;
}

std::string_view unbracket(std::string_view host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        return host.substr(1, host.size() - 2);
    return host;
}

// RFC 3261 §25.1 hostport: an IPv6 reference is bracketed.
std::string hostport(std::string_view host, std::uint16_t port) {
    std::string out;
    if (host.find(':') != std::string_view::npos && host.front() != '[') {
        out = "[" + std::string(host) + "]";
    } else {
        out = std::string(host);
    }
    return out + ":" + std::to_string(port);
}

// The smallest point of the grid anchor + k·interval that is later than `now`.
sip::Instant next_on_grid(sip::Instant anchor, sip::Duration interval, sip::Instant now) {
    if (anchor > now) return anchor;
    const auto k = (now - anchor) / interval + 1;
    return anchor + k * interval;
}

}  // namespace

std::optional<ConfigError> validate(const KeepaliveConfig& c) {
    auto err = [](std::string field, std::string message) {
        return std::optional<ConfigError>(ConfigError{std::move(field), std::move(message)});
    };
    if (c.interval.count() < 5 || c.interval.count() > 3600)
        return err("interval", "keep-alive interval " + std::to_string(c.interval.count()) +
                                   " s is outside 5..3600 s");
    if (c.options_timeout.count() < 1 || c.options_timeout.count() > 300)
        return err("options_timeout", "OPTIONS timeout " +
                                          std::to_string(c.options_timeout.count()) +
                                          " s is outside 1..300 s");
    if (c.spill_delay <= sip::Duration::zero())
        return err("spill_delay", "spill delay must be positive");
    if (c.payload == KeepalivePayload::options) {
        if (c.local_host.empty() || has_bad_chars(c.local_host) ||
            c.local_host.find_first_of("[]") != std::string::npos)
            return err("local_host", "local host is empty or contains <>\"[];, CR LF or space");
        if (c.local_port == 0) return err("local_port", "local port is 0");
        if (c.from_user.empty() || has_bad_chars(c.from_user) ||
            c.from_user.find_first_of("@:?") != std::string::npos)
            return err("from_user", "From user is empty or contains <>\"@:?;, CR LF or space");
    }
    return std::nullopt;
}

Keepalive::Keepalive(KeepaliveConfig config, Location& location, sip::Random& rng)
    : config_(std::move(config)), location_(location), rng_(rng), invalid_(validate(config_)) {}

bool Keepalive::qualifies(const Binding& b, bool nat_only) {
    if (b.source.transport != sip::Transport::Udp || b.source.host.empty() || b.source.port == 0)
        return false;
    sip::Result<sip::Uri> u = sip::parse_uri(b.contact);
    if (!u || !u->is_sip() || u->host.empty()) return false;
    if (!nat_only || b.via_nat) return true;  // via_nat: the Via showed a NAT (RFC 3581)
    const std::uint16_t port =
        u->has_port ? u->port : (u->scheme == sip::Uri::Scheme::Sips ? 5061 : 5060);
    // The device wrote its own address into Contact; a NAT rewrote the packet's source.
    return !(sip::iequals(unbracket(u->host), unbracket(b.source.host)) && port == b.source.port);
}

Keepalive::Entries::iterator Keepalive::find(std::string_view aor, std::string_view contact) {
    return entries_.find(Key{std::string(aor), Location::contact_key(contact)});
}

void Keepalive::erase(Entries::iterator it) {
    schedule_.erase(Slot{it->second.due, it->second.id});
    entries_.erase(it);
}

bool Keepalive::track(std::string_view aor, std::string_view contact, sip::Instant now) {
    if (invalid_) return false;
    std::optional<Binding> b = location_.find(aor, contact, now);
    Key key{std::string(aor), Location::contact_key(contact)};
    auto it = entries_.find(key);
    if (!b || !qualifies(*b, config_.nat_only)) {
        if (it != entries_.end()) erase(it);
        return false;
    }
    if (it != entries_.end()) {
        // A re-REGISTER: it proved reachability (Location::upsert made the binding up), so
        // whatever the probe in flight says when it times out is older news.
        Entry& e = it->second;
        e.contact = std::string(contact);
        e.outstanding.reset();
        if (e.down && !b->down) {
            e.down = false;
            actions_.push_back(
                KeepaliveEvent{KeepaliveEvent::Kind::Up, std::string(aor), b->contact, b->source});
        }
        return true;
    }
    Entry e;
    e.id = next_id_++;
    // Spread the first probes over one interval (millisecond steps).
    const auto interval_ms = std::chrono::duration_cast<milliseconds>(config_.interval).count();
    e.anchor = now + milliseconds(rng_.below(static_cast<std::uint32_t>(interval_ms)));
    e.due = e.anchor;
    e.contact = std::string(contact);
    e.down = b->down;
    it = entries_.emplace(std::move(key), e).first;
    schedule_.emplace(Slot{e.due, e.id}, it);
    return true;
}

bool Keepalive::untrack(std::string_view aor, std::string_view contact) {
    auto it = find(aor, contact);
    if (it == entries_.end()) return false;
    erase(it);
    return true;
}

std::optional<std::string> Keepalive::build_options(const Binding& b) {
    sip::Result<sip::Uri> u = sip::parse_uri(b.contact);
    if (!u) return std::nullopt;
    // RFC 3261 §19.1.1 table: a Request-URI carries no headers component.
    std::string_view ruri = u->raw;
    if (const auto q = ruri.find('?'); q != std::string_view::npos && !u->headers.empty())
        ruri = ruri.substr(0, q);
    const std::string local = hostport(config_.local_host, config_.local_port);
    const std::string fallback =
        std::string(u->scheme_name) + ":" + (u->user.empty() ? "" : std::string(u->user) + "@") +
        std::string(u->host) + (u->has_port ? ":" + std::to_string(u->port) : "");
    for (std::string_view uri : {ruri, std::string_view(fallback)}) {
        sip::RequestBuilder rb("OPTIONS", uri);
        // RFC 3261 §8.1.1.7 branch; RFC 3581 rport: the answer must come back through the NAT
        // mapping we are keeping open, so it goes to where the request came from.
        rb.add(sip::HeaderId::Via,
               "SIP/2.0/UDP " + local + ";branch=" + sip::make_branch(rng_) + ";rport");
        rb.add(sip::HeaderId::From,
               "<sip:" + config_.from_user + "@" + local + ">;tag=" + sip::make_token(rng_));
        rb.add(sip::HeaderId::To, "<" + std::string(uri) + ">");
        rb.add(sip::HeaderId::CallId, sip::make_token(rng_, 24) + "@" + config_.local_host);
        rb.add(sip::HeaderId::CSeq, "1 OPTIONS");
        rb.add(sip::HeaderId::Accept, "application/sdp");  // RFC 3261 §11.1 SHOULD
        std::string bytes = rb.build();
        // The transaction layer refuses what does not parse; a contact whose parameters are
        // fine in a Contact but not in a Request-URI gets the plain form.
        if (sip::Message::parse(bytes)) return bytes;
    }
    return std::nullopt;
}

void Keepalive::probe(Entries::iterator it, sip::Instant now) {
    const std::string& aor = it->first.first;
    Entry& e = it->second;
    std::optional<Binding> b = location_.find(aor, e.contact, now);
    if (!b || !qualifies(*b, config_.nat_only)) {
        ++stats_.dropped;
        entries_.erase(it);  // already out of the schedule
        return;
    }
    e.due = next_on_grid(e.anchor, config_.interval, now);
    schedule_.emplace(Slot{e.due, e.id}, it);
    if (config_.payload == KeepalivePayload::crlf) {
        ++stats_.crlf_sent;
        actions_.push_back(SendCrlf{aor, b->contact, b->source});
        return;
    }
    if (e.outstanding && now - *e.outstanding < config_.options_timeout) {
        ++stats_.skipped;  // at most one OPTIONS per binding in flight
        return;
    }
    std::optional<std::string> bytes = build_options(*b);
    if (!bytes) {
        ++stats_.dropped;
        erase(it);
        return;
    }
    e.outstanding = now;
    ++stats_.options_sent;
    actions_.push_back(SendOptions{aor, b->contact, sip::make_bytes(std::move(*bytes)), b->source});
}

bool Keepalive::on_options_result(std::string_view aor, std::string_view contact, bool answered,
                                  sip::Instant now) {
    auto it = find(aor, contact);
    if (it == entries_.end() || !it->second.outstanding) return false;
    Entry& e = it->second;
    e.outstanding.reset();
    std::optional<Binding> b = location_.find(aor, contact, now);
    if (!b) {
        ++stats_.dropped;
        erase(it);
        return false;
    }
    ++(answered ? stats_.answered : stats_.unanswered);
    // Any response at all, even 404/405/501, proves the device is there (RFC 3261 §11.2).
    const bool down = !answered;
    if (b->down != down) location_.set_down(aor, contact, down);
    if (e.down != down) {
        e.down = down;
        actions_.push_back(
            KeepaliveEvent{down ? KeepaliveEvent::Kind::Down : KeepaliveEvent::Kind::Up,
                           std::string(aor), b->contact, b->source});
    }
    return true;
}

std::optional<sip::Instant> Keepalive::next_deadline() const {
    if (schedule_.empty()) return std::nullopt;
    sip::Instant d = schedule_.begin()->first.first;
    if (spill_until_ && d < *spill_until_) d = *spill_until_;
    return d;
}

void Keepalive::handle_timeouts(sip::Instant now) {
    std::size_t sent = 0;
    spill_until_.reset();
    while (!schedule_.empty() && schedule_.begin()->first.first <= now) {
        if (config_.max_probes_per_tick != 0 && sent >= config_.max_probes_per_tick) {
            spill_until_ = now + config_.spill_delay;  // the rest after the loop breathes
            return;
        }
        Entries::iterator it = schedule_.begin()->second;
        schedule_.erase(schedule_.begin());
        probe(it, now);
        ++sent;
    }
}

std::optional<KeepaliveAction> Keepalive::poll() {
    if (actions_.empty()) return std::nullopt;
    KeepaliveAction a = std::move(actions_.front());
    actions_.pop_front();
    return a;
}

std::optional<sip::Instant> Keepalive::next_probe(std::string_view aor,
                                                  std::string_view contact) const {
    auto it = entries_.find(Key{std::string(aor), Location::contact_key(contact)});
    if (it == entries_.end()) return std::nullopt;
    return it->second.due;
}

}  // namespace route::reg

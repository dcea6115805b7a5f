#include "sw/trace.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <tuple>

#include "sw/hep.hpp"

namespace sw::trace {

std::string_view to_string(Direction d) noexcept {
    return d == Direction::in ? "in" : "out";
}

std::string_view to_string(State s) noexcept {
    return s == State::active ? "active" : "finished";
}

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t from = 0) {
    if (needle.size() > hay.size()) return std::string_view::npos;
    for (std::size_t i = from; i + needle.size() <= hay.size(); ++i)
        if (iequals(hay.substr(i, needle.size()), needle)) return i;
    return std::string_view::npos;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// The user part of a From/To value's URI ("" when it has none).
std::string_view user_of(std::string_view v) {
    std::size_t p = ifind(v, "sip:");
    std::size_t skip = 4;
    if (const std::size_t s = ifind(v, "sips:"); s != std::string_view::npos && (p == std::string_view::npos || s < p)) {
        p = s;
        skip = 5;
    }
    if (p == std::string_view::npos) {
        p = ifind(v, "tel:");
        if (p == std::string_view::npos) return {};
        std::string_view n = v.substr(p + 4);
        return n.substr(0, n.find_first_of(";>? \t"));
    }
    std::string_view u = v.substr(p + skip);
    const std::size_t at = u.find('@');
    const std::size_t end = u.find_first_of("> \t");  // ';' may be in a user part
    if (at == std::string_view::npos || (end != std::string_view::npos && end < at)) return {};
    u = u.substr(0, at);
    return u.substr(0, u.find(':'));  // user:password
}

bool has_tag(std::string_view v) {
    const std::size_t gt = v.find('>');
    if (gt != std::string_view::npos) v.remove_prefix(gt + 1);
    for (std::size_t p = v.find(';'); p != std::string_view::npos; p = v.find(';', p + 1)) {
        std::string_view param = trim(v.substr(p + 1));
        if (param.size() >= 4 && iequals(param.substr(0, 3), "tag") &&
            trim(param.substr(3)).starts_with("="))
            return true;
    }
    return false;
}

std::uint16_t sum16(std::uint32_t acc) {
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(~acc & 0xffff);
}

std::uint32_t add_bytes(std::uint32_t acc, std::string_view b) {
    for (std::size_t i = 0; i + 1 < b.size(); i += 2)
        acc += (static_cast<std::uint8_t>(b[i]) << 8) | static_cast<std::uint8_t>(b[i + 1]);
    if (b.size() % 2) acc += static_cast<std::uint8_t>(b.back()) << 8;
    return acc;
}

void put16(std::string& s, std::uint16_t v) {
    s.push_back(static_cast<char>(v >> 8));
    s.push_back(static_cast<char>(v & 0xff));
}
void put32(std::string& s, std::uint32_t v) {
    put16(s, static_cast<std::uint16_t>(v >> 16));
    put16(s, static_cast<std::uint16_t>(v & 0xffff));
}
void put32le(std::string& s, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put16le(std::string& s, std::uint16_t v) {
    s.push_back(static_cast<char>(v & 0xff));
    s.push_back(static_cast<char>(v >> 8));
}

std::string_view octets(const hep::IpBytes& ip) {
    return {reinterpret_cast<const char*>(ip.octets.data()), ip.v6 ? 16u : 4u};
}

// One IP packet carrying `l4` (a UDP or TCP header with a zero checksum at `csum_at`, then
// the payload): fills the L4 checksum from the pseudo-header and prepends the IP header.
std::string ip_packet(const hep::IpBytes& src, const hep::IpBytes& dst, std::uint8_t proto,
                      std::string l4, std::size_t csum_at, std::uint16_t ip_id) {
    std::uint32_t acc = add_bytes(0, octets(src));
    acc = add_bytes(acc, octets(dst));
    acc += proto;
    acc += static_cast<std::uint32_t>(l4.size() & 0xffff) + static_cast<std::uint32_t>(l4.size() >> 16);
    acc = add_bytes(acc, l4);
    std::uint16_t c = sum16(acc);
    if (proto == 17 && c == 0) c = 0xffff;  // RFC 768: a computed 0 is sent as all ones
    l4[csum_at] = static_cast<char>(c >> 8);
    l4[csum_at + 1] = static_cast<char>(c & 0xff);
    std::string ip;
    if (src.v6) {
        put32(ip, 0x60000000u);
        put16(ip, static_cast<std::uint16_t>(l4.size()));
        ip.push_back(static_cast<char>(proto));
        ip.push_back(64);  // hop limit
        ip.append(octets(src)).append(octets(dst));
    } else {
        ip.push_back(0x45);
        ip.push_back(0);
        put16(ip, static_cast<std::uint16_t>(20 + l4.size()));
        put16(ip, ip_id);
        put16(ip, 0x4000);  // DF
        ip.push_back(64);
        ip.push_back(static_cast<char>(proto));
        put16(ip, 0);
        ip.append(octets(src)).append(octets(dst));
        const std::uint16_t hc = sum16(add_bytes(0, ip));
        ip[10] = static_cast<char>(hc >> 8);
        ip[11] = static_cast<char>(hc & 0xff);
    }
    return ip + l4;
}

hep::IpBytes ip_or_any(std::string_view ip, bool v6_hint) {
    if (auto b = hep::parse_ip(ip)) return *b;
    hep::IpBytes any;
    any.v6 = v6_hint;
    return any;
}

}  // namespace

Summary summarize(std::string_view sip) {
    Summary s;
    std::size_t eol = sip.find('\n');
    s.first_line = trim(sip.substr(0, eol));
    bool to_tag = false;
    while (eol != std::string_view::npos) {
        const std::size_t start = eol + 1;
        eol = sip.find('\n', start);
        std::string_view line = sip.substr(start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;  // the end of the header section
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view name = trim(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "Call-ID") || iequals(name, "i"))
            s.call_id = value;
        else if (iequals(name, "From") || iequals(name, "f"))
            s.from_user = user_of(value);
        else if (iequals(name, "To") || iequals(name, "t")) {
            s.to_user = user_of(value);
            to_tag = has_tag(value);
        }
    }
    s.initial_invite = s.first_line.starts_with("INVITE ") && !to_tag;
    return s;
}

Started Traces::start(Spec spec, sip::Instant now) {
    auto refuse = [](std::string field, std::string message) {
        return Started{0, {std::move(field), std::move(message)}};
    };
    const Filter& f = spec.filter;
    if (f.empty()) return refuse("caller", "a trace needs at least one of caller, callee and gateway");
    for (const auto& [field, v] : {std::pair{"caller", &f.caller}, std::pair{"callee", &f.callee}}) {
        if (v->size() > 64) return refuse(field, std::string(field) + " is longer than 64 characters");
        for (char ch : *v)
            if (!std::isalnum(static_cast<unsigned char>(ch)) && std::string_view("+*#-_.").find(ch) == std::string_view::npos)
                return refuse(field, std::string(field) + " must be a number or a number prefix");
    }
    if (f.gateway.size() > 128) return refuse("gateway", "gateway is longer than 128 characters");
    const Limits& l = spec.limits;
    if (l.max_messages < 1 || l.max_messages > cfg_.max_messages)
        return refuse("max_messages", "max_messages must be 1.." + std::to_string(cfg_.max_messages));
    if (l.max_bytes < 1 || l.max_bytes > cfg_.max_bytes)
        return refuse("max_bytes", "max_bytes must be 1.." + std::to_string(cfg_.max_bytes));
    if (l.duration < 1s || l.duration > cfg_.max_duration)
        return refuse("duration_s", "duration_s must be 1.." +
                                        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(cfg_.max_duration).count()));
    expire(now);
    if (traces_.size() >= cfg_.max_traces) {
        auto old = std::find_if(traces_.begin(), traces_.end(),
                                [](const auto& t) { return t->state == State::finished; });
        if (old == traces_.end())
            return refuse("", "too many active traces (" + std::to_string(cfg_.max_traces) + "): stop one first");
        total_bytes_ -= (*old)->bytes;
        traces_.erase(old);
    }
    auto t = std::make_unique<Trace>();
    t->id = next_id_++;
    t->filter = std::move(spec.filter);
    t->limits = spec.limits;
    t->started = now;
    t->ends = now + spec.limits.duration;
    const std::uint64_t id = t->id;
    traces_.push_back(std::move(t));
    ++active_;
    return Started{id, {}};
}

void Traces::finish(Trace& t, std::string_view reason) {
    if (t.state == State::finished) return;
    t.state = State::finished;
    t.end_reason = reason;
    --active_;
}

void Traces::expire(sip::Instant now) {
    if (!active_) return;
    for (auto& t : traces_)
        if (t->state == State::active && now >= t->ends) finish(*t, "expired");
}

const Trace* Traces::find(std::uint64_t id) const {
    for (const auto& t : traces_)
        if (t->id == id) return t.get();
    return nullptr;
}

bool Traces::remove(std::uint64_t id) {
    auto it = std::find_if(traces_.begin(), traces_.end(), [&](const auto& t) { return t->id == id; });
    if (it == traces_.end()) return false;
    if ((*it)->state == State::active) --active_;
    total_bytes_ -= (*it)->bytes;
    traces_.erase(it);
    return true;
}

void Traces::capture(Trace& t, const Packet& p) {
    if (t.messages.size() >= t.limits.max_messages) return finish(t, "max_messages");
    if (t.bytes + p.bytes.size() > t.limits.max_bytes) return finish(t, "max_bytes");
    if (total_bytes_ + p.bytes.size() > cfg_.max_total_bytes) return finish(t, "max_total_bytes");
    total_bytes_ += p.bytes.size();
    t.messages.push_back(Message{p.dir, p.transport, {std::string(p.src_ip), p.src_port},
                                 {std::string(p.dst_ip), p.dst_port}, p.wall_us, std::string(p.bytes)});
    t.bytes += p.bytes.size();
    if (t.messages.size() >= t.limits.max_messages) finish(t, "max_messages");
}

void Traces::observe(const Packet& p, sip::Instant now, const Lookup& lookup) {
    expire(now);
    if (!active_) return;
    if (p.bytes.find_first_not_of("\r\n") == std::string_view::npos) return;  // keep-alive
    const Summary s = summarize(p.bytes);
    if (s.call_id.empty()) return;
    std::optional<std::optional<CallFacts>> facts;  // looked up once, when needed
    for (auto& tp : traces_) {
        Trace& t = *tp;
        if (t.state != State::active) continue;
        if (t.call_ids.contains(s.call_id)) {
            capture(t, p);
            continue;
        }
        if (!s.initial_invite) continue;
        const Filter& f = t.filter;
        const bool numbers = s.from_user.starts_with(f.caller) && s.to_user.starts_with(f.callee);
        bool match = numbers && f.gateway.empty();
        // the switch's view of the call (a scan of its calls) only when it can decide: an
        // INVITE we send (the B leg of a traced call?) or a gateway to compare
        const CallFacts* cf = nullptr;
        if (!match && (p.dir == Direction::out || (numbers && !f.gateway.empty()))) {
            if (!facts) facts = lookup ? lookup(s.call_id) : std::nullopt;
            cf = *facts ? &**facts : nullptr;
            match = cf && ((!cf->other_call_id.empty() && t.call_ids.contains(cf->other_call_id)) ||
                           (numbers && !f.gateway.empty() &&
                            (cf->customer == f.gateway || cf->vendor_gateway == f.gateway)));
        }
        if (!match) continue;
        if (t.call_ids.size() >= cfg_.max_call_ids) {
            ++t.calls_not_followed;
            continue;
        }
        t.call_ids.emplace(s.call_id);
        if (cf && !cf->other_call_id.empty()) t.call_ids.emplace(cf->other_call_id);
        capture(t, p);
    }
}

std::string pcap(std::span<const Message> messages) {
    std::string out;
    put32le(out, 0xa1b2c3d4u);
    put16le(out, 2);
    put16le(out, 4);
    put32le(out, 0);        // thiszone
    put32le(out, 0);        // sigfigs
    put32le(out, 262144);   // snaplen
    put32le(out, 101);      // LINKTYPE_RAW: the packet begins with the IP header
    // TCP: the next sequence number of each direction of each connection
    using Flow = std::tuple<std::string, std::uint16_t, std::string, std::uint16_t>;
    std::map<Flow, std::uint32_t> seq;
    std::uint16_t ip_id = 1;
    auto record = [&](const Message& m, const std::string& pkt) {
        const std::int64_t us = m.wall_us < 0 ? 0 : m.wall_us;
        put32le(out, static_cast<std::uint32_t>(us / 1'000'000));
        put32le(out, static_cast<std::uint32_t>(us % 1'000'000));
        put32le(out, static_cast<std::uint32_t>(pkt.size()));
        put32le(out, static_cast<std::uint32_t>(pkt.size()));
        out += pkt;
    };
    for (const Message& m : messages) {
        const bool v6 = m.src.ip.find(':') != std::string::npos || m.dst.ip.find(':') != std::string::npos;
        hep::IpBytes src = ip_or_any(m.src.ip, v6), dst = ip_or_any(m.dst.ip, v6);
        if (src.v6 != dst.v6) {  // a literal beside a name of the other family: both "any"
            src = hep::IpBytes{};
            dst = hep::IpBytes{};
        }
        if (m.transport == sip::Transport::Udp) {
            if (m.bytes.size() > 65'000) continue;  // no datagram carries it
            std::string l4;
            put16(l4, m.src.port);
            put16(l4, m.dst.port);
            put16(l4, static_cast<std::uint16_t>(8 + m.bytes.size()));
            put16(l4, 0);
            l4 += m.bytes;
            record(m, ip_packet(src, dst, 17, std::move(l4), 6, ip_id++));
            continue;
        }
        std::uint32_t& mine = seq.try_emplace(Flow{m.src.ip, m.src.port, m.dst.ip, m.dst.port}, 1).first->second;
        const std::uint32_t theirs = seq.try_emplace(Flow{m.dst.ip, m.dst.port, m.src.ip, m.src.port}, 1).first->second;
        for (std::size_t off = 0; off < m.bytes.size(); off += 65'000) {
            const std::string_view part = std::string_view(m.bytes).substr(off, 65'000);
            std::string l4;
            put16(l4, m.src.port);
            put16(l4, m.dst.port);
            put32(l4, mine);
            put32(l4, theirs);
            l4.push_back(0x50);  // data offset: 5 words
            l4.push_back(0x18);  // PSH, ACK
            put16(l4, 65535);    // window
            put16(l4, 0);        // checksum
            put16(l4, 0);        // urgent pointer
            l4 += part;
            mine += static_cast<std::uint32_t>(part.size());
            record(m, ip_packet(src, dst, 6, std::move(l4), 16, ip_id++));
        }
    }
    return out;
}

}  // namespace sw::trace

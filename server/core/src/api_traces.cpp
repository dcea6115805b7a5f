// /api/traces: on-demand captures of the calls matching a filter (sw/trace.hpp, VOS3000's
// debug trace): start, list, read as JSON (a ladder) or pcap, stop and remove. See api.hpp
// "Traces".
#include <fmt/format.h>

#include <charconv>

#include "api_common.hpp"
#include "json_reader.hpp"
#include "sw/switch.hpp"

namespace sw::api {

using namespace detail;

namespace {

std::string_view transport_text(sip::Transport t) {
    return t == sip::Transport::Udp ? "udp" : t == sip::Transport::Tcp ? "tcp" : "tls";
}

std::string address(const trace::Endpoint& e) {
    return e.ip.find(':') != std::string::npos ? fmt::format("[{}]:{}", e.ip, e.port)
                                               : fmt::format("{}:{}", e.ip, e.port);
}

template <class Wall>
void trace_json(JsonWriter& w, const trace::Trace& t, const Wall& wall, bool with_messages) {
    w.begin_object()
        .field("id", t.id)
        .field("state", trace::to_string(t.state))
        .field("end_reason", t.end_reason)
        .field("caller", t.filter.caller)
        .field("callee", t.filter.callee)
        .field("gateway", t.filter.gateway)
        .field("started_ms", wall(t.started))
        .field("ends_ms", wall(t.ends))
        .field("max_messages", static_cast<std::uint64_t>(t.limits.max_messages))
        .field("max_bytes", static_cast<std::uint64_t>(t.limits.max_bytes))
        .field("message_count", static_cast<std::uint64_t>(t.messages.size()))
        .field("bytes", static_cast<std::uint64_t>(t.bytes))
        .field("calls", static_cast<std::uint64_t>(t.call_ids.size()))
        .field("calls_not_followed", t.calls_not_followed);
    if (with_messages) {
        w.key("messages").begin_array();
        for (const trace::Message& m : t.messages) {
            const trace::Summary s = trace::summarize(m.bytes);
            w.begin_object()
                .field("time_us", m.wall_us)
                .field("direction", trace::to_string(m.dir))
                .field("transport", transport_text(m.transport))
                .field("src", address(m.src))
                .field("dst", address(m.dst))
                .field("first_line", s.first_line)
                .field("call_id", s.call_id)
                .field("size", static_cast<std::uint64_t>(m.bytes.size()))
                .end_object();
        }
        w.end_array();
    }
    w.end_object();
}

// A whole number in [lo, hi] from a JSON number member.
std::optional<Response> read_count(const JsonValue& v, std::string_view field, std::uint64_t lo,
                                   std::uint64_t hi, std::uint64_t& out) {
    const std::string msg = fmt::format("{} must be a whole number {}..{}", field, lo, hi);
    if (v.kind != JsonValue::Kind::number) return error(422, msg, field);
    const char* b = v.text.data();
    const char* e = b + v.text.size();
    const auto [end, ec] = std::from_chars(b, e, out);
    if (ec != std::errc{} || end != e || out < lo || out > hi) return error(422, msg, field);
    return std::nullopt;
}

}  // namespace

Response Api::traces(Ctx& c, const std::optional<std::string_view>& rest) {
    trace::Traces& tr = sw_.traces();
    auto wall = [&](sip::Instant t) { return c.wall(t); };
    tr.expire(c.now);
    const std::string_view m = c.rq.method;
    if (!rest) {
        if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
        if (reads(m)) {
            JsonWriter w;
            w.begin_object().key("traces").begin_array();
            for (const auto& t : tr.list()) trace_json(w, *t, wall, false);
            w.end_array().end_object();
            return json(200, w.take());
        }
        if (m != "POST") return not_allowed("GET, HEAD, POST");
        std::string err;
        auto body = read_flat_object(c.rq.body, &err);
        if (!body) return error(400, err);
        trace::Spec spec;
        for (const auto& [name, v] : *body) {
            if (name == "caller" || name == "callee" || name == "gateway") {
                if (v.kind != JsonValue::Kind::string) return error(422, name + " must be a string", name);
                (name == "caller" ? spec.filter.caller : name == "callee" ? spec.filter.callee : spec.filter.gateway) = v.text;
            } else if (name == "duration_s") {
                std::uint64_t n = 0;
                const auto max = std::chrono::duration_cast<std::chrono::seconds>(tr.config().max_duration).count();
                if (auto bad = read_count(v, name, 1, static_cast<std::uint64_t>(max), n)) return std::move(*bad);
                spec.limits.duration = std::chrono::seconds(n);
            } else if (name == "max_messages" || name == "max_bytes") {
                std::uint64_t n = 0;
                const bool msgs = name == "max_messages";
                if (auto bad = read_count(v, name, 1, msgs ? tr.config().max_messages : tr.config().max_bytes, n))
                    return std::move(*bad);
                (msgs ? spec.limits.max_messages : spec.limits.max_bytes) = static_cast<std::size_t>(n);
            } else {
                return error(422, "unknown member", name);
            }
        }
        const std::string& g = spec.filter.gateway;
        if (!g.empty() && !sw_.customers().find(g) && !sw_.router().find(g))
            return error(422, "no such customer or vendor gateway", "gateway");
        const trace::Started s = tr.start(spec, c.now);
        if (!s) return error(s.error.field.empty() ? 409 : 422, s.error.message, s.error.field);
        logs_.push_back(fmt::format("api: {} started trace {} (caller '{}', callee '{}', gateway '{}')",
                                    c.who_name(), s.id, spec.filter.caller, spec.filter.callee, g));
        JsonWriter w;
        trace_json(w, *tr.find(s.id), wall, false);
        Response r = json(201, w.take());
        r.headers.emplace_back("Location", fmt::format("/api/traces/{}", s.id));
        return r;
    }
    std::string_view id_text = *rest, action;
    if (const std::size_t slash = id_text.find('/'); slash != std::string_view::npos) {
        action = id_text.substr(slash + 1);
        id_text = id_text.substr(0, slash);
        if (action != "pcap") return error(404, "no such resource");
    }
    if (auto bad = unknown_param(c.rq, {})) return std::move(*bad);
    std::uint64_t id = 0;
    const auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (id_text.empty() || ec != std::errc{} || end != id_text.data() + id_text.size())
        return error(400, "a trace id is a decimal number", "id");
    if (!action.empty() && !reads(m)) return not_allowed("GET, HEAD");
    if (action.empty() && !reads(m) && m != "DELETE") return not_allowed("GET, HEAD, DELETE");
    const trace::Trace* t = tr.find(id);
    if (!t) return error(404, "no such trace", "id");
    if (m == "DELETE") {
        const std::size_t n = t->messages.size();
        tr.remove(id);
        logs_.push_back(fmt::format("api: {} removed trace {} ({} messages)", c.who_name(), id, n));
        JsonWriter w;
        w.begin_object().field("id", id).field("removed", true).end_object();
        return json(200, w.take());
    }
    if (action == "pcap") {
        Response r;
        r.content_type = "application/vnd.tcpdump.pcap";
        r.body = trace::pcap(t->messages);
        r.headers.emplace_back("Content-Disposition", fmt::format("attachment; filename=\"trace-{}.pcap\"", id));
        return r;
    }
    JsonWriter w;
    trace_json(w, *t, wall, true);
    return json(200, w.take());
}

}  // namespace sw::api

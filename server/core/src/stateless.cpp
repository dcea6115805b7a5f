#include "sw/stateless.hpp"

#include <fmt/format.h>

#include "sip/builder.hpp"

namespace sw {
namespace {

constexpr std::string_view kAllow = "OPTIONS";

// A To tag that is the same for every retransmission of one request, so a stateless
// element answers them identically (RFC 3261 §8.2.6.2, §16.11).
std::string stateless_tag(std::string_view call_id, std::string_view from_tag,
                          std::string_view branch) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (std::string_view part : {call_id, from_tag, branch}) {
        for (unsigned char c : part) {
            h ^= c;
            h *= 1099511628211ull;
        }
        h ^= 0xff;
        h *= 1099511628211ull;
    }
    return fmt::format("tl{:016x}", h);
}

// RFC 3261 §18.2.2: responses go to the source address; the port is the source port when
// the client asked for rport (RFC 3581), else the sent-by port (default 5060).
std::uint16_t response_port(const sip::Via& v, std::uint16_t peer_port) {
    if (v.has_rport) return peer_port;
    return v.has_port ? v.port : 5060;
}

std::string reason_for(const sip::Error& e) {
    std::string r(e.what());
    if (e.header != sip::HeaderId::None && e.header != sip::HeaderId::Other) {
        r += " in ";
        r += sip::header_name(e.header);
    }
    return r;
}

}  // namespace

Outcome answer_stateless(const Inbound& in, const StatelessConfig& cfg) {
    Outcome out;
    const std::string who = fmt::format("{} {}:{}", in.transport, in.peer_ip, in.peer_port);
    auto parsed = sip::Message::parse(in.bytes, cfg.limits, in.framing);
    if (!parsed) {
        const sip::Error& e = parsed.error();
        sip::Salvage s = sip::salvage(in.bytes);
        if (!s.usable()) {
            out.log_line = fmt::format("{} dropped: offset {}: {}{} (no usable Via/CSeq to answer)",
                                       who, e.offset, e.what(),
                                       e.header > sip::HeaderId::Other
                                           ? fmt::format(" in {}", sip::header_name(e.header))
                                           : std::string());
            return out;
        }
        const std::uint16_t code = e.code == sip::Errc::unsupported_version ? 505 : 400;
        const std::string reason = code == 505 ? std::string("Version Not Supported") : reason_for(e);
        sip::ResponseSpec spec{.status = code,
                               .reason = reason,
                               .to_tag = {},
                               .extra = {{"Server", cfg.server_header}},
                               .content_type = {},
                               .body = {},
                               .via_received = in.peer_ip,
                               .via_rport = s.top_via.has_rport ? in.peer_port : std::uint16_t{0}};
        std::string tag = stateless_tag(s.call_id, {}, s.top_via.branch);
        spec.to_tag = tag;
        out.reply = Reply{sip::build_response(s, spec), response_port(s.top_via, in.peer_port)};
        out.log_line = fmt::format("{} {} call-id={} -> {} {} (offset {})", who, s.method,
                                   s.call_id, code, reason, e.offset);
        return out;
    }
    out.parsed = true;
    const sip::Message& m = *parsed;
    if (m.is_response()) {
        out.log_line = fmt::format("{} response {} {} call-id={} cseq={} {} dropped: no transaction",
                                   who, m.status_code(), m.reason(), m.call_id(),
                                   m.cseq().number, m.cseq().method_name);
        return out;
    }
    if (m.method() == sip::Method::Ack) {
        out.log_line = fmt::format("{} ACK call-id={} cseq={} absorbed", who, m.call_id(),
                                   m.cseq().number);
        return out;
    }
    std::string tag = stateless_tag(m.call_id(), m.from().tag, m.top_via().branch);
    sip::ResponseSpec spec{.status = 200,
                           .reason = {},
                           .to_tag = tag,
                           .extra = {{"Server", cfg.server_header}},
                           .content_type = {},
                           .body = {},
                           .via_received = in.peer_ip,
                           .via_rport = m.top_via().has_rport ? in.peer_port : std::uint16_t{0}};
    if (!m.ruri().is_sip() && m.ruri().scheme != sip::Uri::Scheme::Tel) {
        spec.status = 416;  // RFC 3261 §8.2.2.1
    } else if (m.method() == sip::Method::Options) {
        spec.extra.push_back({"Allow", kAllow});
        spec.extra.push_back({"Accept", "application/sdp"});
        spec.extra.push_back({"Supported", ""});
    } else {
        // RFC 3261 §8.2.1: 405 for a method we know but do not serve, 501 for one we do not
        // know; both list what we do serve.
        spec.status = m.method() == sip::Method::Unknown ? 501 : 405;
        spec.extra.push_back({"Allow", kAllow});
    }
    out.reply = Reply{sip::build_response(m, spec), response_port(m.top_via(), in.peer_port)};
    out.log_line = fmt::format("{} {} call-id={} cseq={} -> {} {}", who, m.method_name(),
                               m.call_id(), m.cseq().number, spec.status,
                               sip::default_reason(spec.status));
    return out;
}

}  // namespace sw

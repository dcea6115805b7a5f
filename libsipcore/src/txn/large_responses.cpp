// RFC 3261 §18.2.2 for responses that do not fit one UDP datagram (see large_responses.hpp).
#include "sip/txn/large_responses.hpp"

#include <algorithm>
#include <utility>

#include "sip/builder.hpp"

namespace sip::txn {
namespace {

std::string where(const Target& t) {
    std::string s(transport_name(t.transport));
    s += ' ';
    if (t.host.find(':') != std::string::npos)
        s += '[' + t.host + ']';
    else
        s += t.host;
    s += ':';
    s += std::to_string(t.port);
    return s;
}

}  // namespace

SendBytes LargeResponses::route(SendBytes s) {
    if (s.to.transport != Transport::Udp || !s.bytes || s.bytes->size() <= cfg_.max_datagram)
        return s;
    const std::string& text = *s.bytes;
    const std::size_t size = text.size();
    ParseLimits limits;
    limits.max_message = static_cast<std::uint32_t>(size);
    limits.max_headers = 65535;
    limits.max_header = static_cast<std::uint32_t>(size);
    std::optional<Message> msg;
    if (text.compare(0, 8, "SIP/2.0 ") == 0) {
        if (auto m = Message::parse(text, limits, Framing::Datagram)) msg.emplace(std::move(*m));
    }
    if (!msg || msg->is_request()) {
        ++stats_.unsendable;
        logs_.push_back("a message of " + std::to_string(size) + " bytes for " + where(s.to) +
                        " is too large for UDP and not a response: sent as it is");
        return s;
    }
    // §21.5.11: the client learns why there is no answer; only what identifies the
    // transaction (build_response copies Via, From, To, Call-ID and CSeq)
    ResponseSpec spec;
    spec.status = 513;
    SendBytes fallback{0, s.to, make_bytes(build_response(*msg, spec))};
    const std::uint16_t code = msg->status_code();
    const Via& top = msg->top_via();
    if (!top.maddr.empty()) {
        s = std::move(fallback);  // multicast: no TCP to it
    } else {
        // §18.2.2: a connection to the received address at the sent-by port
        SendBytes tcp{kOwnTag | next_++, s.to, s.bytes};
        tcp.to.transport = Transport::Tcp;
        tcp.to.port = top.has_port ? top.port : 5060;
        tcp.to.conn = 0;
        tcp.to.tls_name.clear();
        ++stats_.over_tcp;
        logs_.push_back("response " + std::to_string(code) + " (" + std::to_string(size) +
                        " bytes) is too large for UDP to " + where(s.to) + ": sent over " +
                        where(tcp.to) + " (RFC 3261 §18.2.2)");
        if (fallback.bytes->size() <= cfg_.max_datagram) {
            if (pending_.size() >= cfg_.max_pending) pending_.pop_front();
            pending_.push_back({tcp.txn, std::move(fallback)});
        }
        return tcp;
    }
    if (s.bytes->size() > cfg_.max_datagram) {
        ++stats_.unsendable;
        logs_.push_back("response " + std::to_string(code) + " for " + where(s.to) +
                        " is too large for UDP, and so is its 513");
        return s;
    }
    ++stats_.answered_513;
    logs_.push_back("response " + std::to_string(code) + " (" + std::to_string(size) +
                    " bytes) is too large for UDP to " + where(s.to) +
                    " and TCP is not possible (maddr): 513 sent");
    return s;
}

std::optional<SendBytes> LargeResponses::on_send_failed(std::uint64_t tag) {
    if (!owns(tag)) return std::nullopt;
    // tags increase along the FIFO: binary search
    auto it = std::lower_bound(pending_.begin(), pending_.end(), tag,
                               [](const Pending& p, std::uint64_t t) { return p.tag < t; });
    if (it == pending_.end() || it->tag != tag) return std::nullopt;
    SendBytes s = std::move(it->fallback);
    pending_.erase(it);
    ++stats_.answered_513;
    logs_.push_back("no TCP to the sent-by for a response too large for UDP: 513 sent to " +
                    where(s.to));
    return s;
}

std::optional<std::string> LargeResponses::poll_log() {
    if (logs_.empty()) return std::nullopt;
    std::string l = std::move(logs_.front());
    logs_.pop_front();
    return l;
}

}  // namespace sip::txn

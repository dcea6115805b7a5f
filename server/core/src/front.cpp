#include "sw/front.hpp"

namespace sw {

std::optional<sip::txn::SendBytes> Front::on_datagram(std::string_view bytes,
                                                      const sip::Target& source,
                                                      std::vector<Received>& for_switch) {
    auto parsed = sip::Message::parse(bytes, cfg_.limits, sip::Framing::Datagram);
    if (!parsed) {  // the element answers the fault (400 naming it) and logs it
        for_switch.push_back({source, std::nullopt, std::string(bytes)});
        return std::nullopt;
    }
    sip::Message& m = *parsed;
    if (!cfg_.answer_options || !answered_statelessly(m)) {
        for_switch.push_back({source, std::move(m), {}});
        return std::nullopt;
    }
    m.note_source(source.host, source.port);  // RFC 3581 §4: received/rport in the answer
    ++answered_.options;
    return sip::txn::SendBytes{0, sip::txn::response_target(m, source),
                               options_answer(m, cfg_.server_header, cfg_.allow)};
}

}  // namespace sw

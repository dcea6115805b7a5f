// Trunkline row of the parser benchmark (see common.hpp).
//
// What one parse does: sip::Message::parse() with the default ParseLimits and datagram
// framing, as the UDP transport calls it. It copies the bytes into the Message's one heap
// block, records the start line and every header field as offsets (name, trimmed value,
// HeaderId through the compact-form-aware name table), types the Request-URI and the
// ingress-validated headers (every Via value, From, To, Call-ID, CSeq, Max-Forwards,
// Content-Length, checked against the body) and leaves every other header to the on-demand
// parsers of sip/headers.hpp. The Message destructor frees it. By that measure it does more
// than libre's sip_msg_decode() (all Via values, Content-Length framing) and less than the
// eager sofia-sip and osip2 parsers (Contact, Route, Record-Route, auth headers not typed
// until asked for).
//
// Success means parse() returned a Message; ingress validation already guarantees a start
// line, Via, From, To, Call-ID and CSeq.
#include <string>
#include <string_view>

#include "common.hpp"
#include "sip/message.hpp"

namespace {

bool parse(std::string_view bytes, void* /*prepared*/, std::string* why) {
    const sip::Result<sip::Message> r = sip::Message::parse(bytes);
    if (!r) {
        if (why) {
            const sip::Error& e = r.error();
            *why = "offset " + std::to_string(e.offset) + ": " + std::string(e.what());
            if (e.header != sip::HeaderId::None)
                *why += " (" + std::string(sip::header_name(e.header)) + ")";
        }
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    return bench::run(argc, argv, {"trunkline", parse});
}

// libre (baresip's SIP library) peer of the parser benchmark (see common.hpp).
//
// What one parse does: sip_msg_decode() over an mbuf holding the message, then mem_deref() of
// the result. The mbuf is made once per message outside the measurements (prepare()), because
// in libre it belongs to the transport: the UDP and TCP code allocate one per received
// datagram or frame and hand it to the SIP stack, which decodes it in place. The parsers that
// copy the bytes into their own buffer (Trunkline, sofia-sip, osip2) pay for that copy.
//
// sip_msg_decode() takes a reference to the mbuf (no copy) and parses: the start line with a
// regular expression (the Request-URI decoded into a struct uri), then one pass that splits
// the header section into sip_hdr entries (name/value spans; a comma-separated list gets an
// entry per value as well as one for the whole line), each allocated and put on a list and
// into a hash table by header id. Only a few headers are decoded on the way: the top Via,
// From, To (with tag), CSeq and Content-Type into structs, Call-ID, Max-Forwards, Expires and
// Content-Length kept as spans. Every other header, later Via values, and the body are left
// for whoever asks (sip_msg_hdr_apply() plus a decoder); Content-Length is not checked against
// the body. mem_deref() of the message frees the header entries and the hash table. This is
// what the reference figures (88,446 instructions and 20.1 allocations per message) measure.
//
// Success means sip_msg_decode() returned 0 and the message has its start line, a Via,
// From, To, Call-ID and CSeq.
#include <re.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common.hpp"

namespace {

void* prepare(std::string_view bytes) {
    mbuf* mb = mbuf_alloc(bytes.size());
    if (mb == nullptr) return nullptr;
    if (mbuf_write_mem(mb, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()) !=
        0) {
        mem_deref(mb);
        return nullptr;
    }
    return mb;
}

void release(void* prepared) {
    mem_deref(prepared);
}

bool parse(std::string_view /*bytes*/, void* prepared, std::string* why) {
    mbuf* mb = static_cast<mbuf*>(prepared);
    mb->pos = 0;  // sip_msg_decode() leaves pos at the body; every pass starts from the top
    sip_msg* msg = nullptr;
    const int err = sip_msg_decode(&msg, mb);
    const bool ok = err == 0 && msg != nullptr && (msg->req || msg->scode != 0) &&
                    msg->via.sentby.l > 0 && msg->from.auri.l > 0 && msg->to.auri.l > 0 &&
                    msg->callid.l > 0 && msg->cseq.met.l > 0;
    if (!ok && why) {
        if (err != 0)
            *why = std::string("sip_msg_decode: ") + std::strerror(err);
        else
            *why = "start line, Via, From, To, Call-ID or CSeq missing";
    }
    mem_deref(msg);
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    // As every libre application does: sets up OpenSSL, whose RAND_bytes() gives the
    // rand_u64() tag sip_msg_decode() puts on each message in Debian's build.
    if (libre_init() != 0) return 2;
    const int status = bench::run(argc, argv, {"libre", parse, prepare, release});
    libre_close();
    return status;
}

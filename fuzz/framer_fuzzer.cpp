// Fuzz target: sip::StreamFramer (DESIGN.md §4, §9). The same byte stream is fed whole, in
// chunks whose sizes come from the input, and byte by byte; the three runs must cut the same
// messages, and every Message frame must parse or fail cleanly with Framing::Stream.
//
// Input: [selector] stream-bytes. A first byte below 0x20 (not CR/LF) picks a ParseLimits
// variant (bits 1..3) and the chunking scheme (bit 0); plain .sip files run with defaults.
// Chunk sizes are read from the stream itself, backwards from its end.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "sip/framer.hpp"
#include "sip/message.hpp"

namespace {

using Kind = sip::StreamFramer::Kind;

struct Run {
    // Keep-alive CRLF octets consumed before each message, and the message bytes. A ping
    // ("\r\n\r\n") split across two feeds may come out as two pongs, so keep-alives are
    // compared by the octets they consume, not by kind.
    std::vector<std::size_t> keepalive_before;
    std::vector<std::string> messages;
    std::size_t trailing_keepalive = 0;
    bool failed = false;
};

void check_frame_parses(std::string_view frame, const sip::ParseLimits& lim) {
    FUZZ_CHECK(!frame.empty());
    FUZZ_CHECK(frame.size() <= lim.max_message);
    const std::size_t head_end = frame.find("\r\n\r\n");
    FUZZ_CHECK(head_end != std::string_view::npos);
    FUZZ_CHECK(frame[0] != '\r');
    auto r = sip::Message::parse(frame, lim, sip::Framing::Stream);
    if (r) {
        // the parser and the framer agree on Content-Length
        FUZZ_CHECK(r->bytes().size() == frame.size());
        FUZZ_CHECK(r->header_section_size() == head_end + 4);
        FUZZ_CHECK(r->content_length().has_value());
    } else {
        FUZZ_CHECK(r.error().code != sip::Errc::ok);
        FUZZ_CHECK(r.error().offset <= frame.size());
    }
}

// Drains the framer; `pos` is the stream offset of the next unconsumed byte.
void drain(sip::StreamFramer& fr, std::string_view stream, std::size_t fed, std::size_t& pos,
           Run& run, const sip::ParseLimits& lim) {
    for (;;) {
        const sip::StreamFramer::Frame f = fr.next();
        switch (f.kind) {
            case Kind::NeedMore:
                FUZZ_CHECK(!fr.failed());
                FUZZ_CHECK(fr.buffered() == fed - pos);
                // The framer must not buffer without bound (limits are what stop a hostile
                // peer from making us hold arbitrary amounts of memory). 3 octets may wait
                // for the rest of a keep-alive.
                FUZZ_CHECK(fr.buffered() <= (lim.max_message > 3 ? lim.max_message : 3));
                return;
            case Kind::Ping:
                FUZZ_CHECK(stream.substr(pos, 4) == "\r\n\r\n");
                pos += 4;
                run.trailing_keepalive += 4;
                break;
            case Kind::Pong:
                FUZZ_CHECK(stream.substr(pos, 2) == "\r\n");
                pos += 2;
                run.trailing_keepalive += 2;
                break;
            case Kind::Message:
                FUZZ_CHECK(!f.bytes.empty());
                FUZZ_CHECK(pos + f.bytes.size() <= fed);
                FUZZ_CHECK(stream.substr(pos, f.bytes.size()) == f.bytes);
                check_frame_parses(f.bytes, lim);
                run.keepalive_before.push_back(run.trailing_keepalive);
                run.trailing_keepalive = 0;
                run.messages.emplace_back(f.bytes);
                pos += f.bytes.size();
                break;
            case Kind::Error: {
                FUZZ_CHECK(fr.failed());
                FUZZ_CHECK(f.error.code != sip::Errc::ok);
                FUZZ_CHECK(f.error.offset <= fed);
                // sticky: the connection must be closed
                const sip::StreamFramer::Frame again = fr.next();
                FUZZ_CHECK(again.kind == Kind::Error && again.error == f.error);
                run.failed = true;
                return;
            }
        }
    }
}

template <class NextChunk>
Run feed_all(std::string_view stream, const sip::ParseLimits& lim, NextChunk next_chunk) {
    sip::StreamFramer fr(lim);
    Run run;
    std::size_t fed = 0, pos = 0;
    while (fed < stream.size() && !run.failed) {
        std::size_t n = next_chunk();
        if (n == 0) n = 1;
        if (n > stream.size() - fed) n = stream.size() - fed;
        fr.feed(stream.substr(fed, n));
        fed += n;
        drain(fr, stream, fed, pos, run, lim);
    }
    return run;
}

void compare(const Run& a, const Run& b) {
    FUZZ_CHECK(a.messages == b.messages);
    FUZZ_CHECK(a.keepalive_before == b.keepalive_before);
    FUZZ_CHECK(a.failed == b.failed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::uint8_t sel = 0;
    fuzz::take_selector(data, size, sel);
    const sip::ParseLimits lim = fuzz::limits_variant(sel >> 1);

    std::unique_ptr<char[]> copy(new char[size ? size : 1]);
    if (size) std::memcpy(copy.get(), data, size);
    const std::string_view stream(copy.get(), size);
    if (stream.empty()) return 0;

    const Run whole = feed_all(stream, lim, [&] { return stream.size(); });

    // chunk sizes from the input, read backwards from its end
    std::size_t k = 0;
    const unsigned mask = (sel & 1) ? 0x07 : 0xff;
    const Run chunked = feed_all(stream, lim, [&] {
        const auto c = static_cast<unsigned char>(stream[stream.size() - 1 - (k++ % stream.size())]);
        return static_cast<std::size_t>((c & mask) + 1);
    });
    compare(whole, chunked);

    if (stream.size() <= 4096) {
        const Run bytewise = feed_all(stream, lim, [] { return std::size_t{1}; });
        compare(whole, bytewise);
    }
    return 0;
}

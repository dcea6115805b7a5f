// StreamFramer — cuts a TCP/TLS byte stream into SIP messages (RFC 3261 §18.3).
//
//   sip::StreamFramer fr;                     // limits from ParseLimits
//   fr.feed(chunk);                           // any split: byte by byte works
//   for (;;) {
//       sip::StreamFramer::Frame f = fr.next();
//       if (f.kind == sip::StreamFramer::Kind::NeedMore) break;
//       if (f.kind == sip::StreamFramer::Kind::Ping) send("\r\n");     // RFC 5626 §3.5.1
//       if (f.kind == sip::StreamFramer::Kind::Error) { close(); break; }  // unrecoverable
//       if (f.kind == sip::StreamFramer::Kind::Message)
//           handle(sip::Message::parse(f.bytes, limits, sip::Framing::Stream));
//   }
//
// `Frame::bytes` points into the framer's buffer and is valid until the next feed() or
// next(). A stream has no way to resynchronise after a framing error (no Content-Length,
// a malformed or conflicting one, or limits exceeded), so Error is sticky: the connection
// must be closed (RFC 4475 §3.1.2.3, §3.3.9).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace sip {

class StreamFramer {
public:
    enum class Kind : std::uint8_t {
        NeedMore,  // no complete frame buffered yet
        Message,   // one complete message: header section + Content-Length octets
        Ping,      // CRLFCRLF keep-alive: answer with a single CRLF
        Pong,      // a lone CRLF between messages (keep-alive answer)
        Error,
    };
    struct Frame {
        Kind kind = Kind::NeedMore;
        std::string_view bytes;
        Error error;
    };

    // `expect_pongs`: this side sends pings on the connection (an outbound flow, RFC 5626
    // §4.4.1), so a lone CRLF is a pong the moment it arrives. Otherwise a lone CRLF waits
    // for two more bytes, so a ping split across reads is still one ping (and answered).
    explicit StreamFramer(const ParseLimits& limits = {}, bool expect_pongs = false)
        : limits_(limits), expect_pongs_(expect_pongs) {}

    void feed(std::string_view chunk);
    Frame next();
    std::size_t buffered() const noexcept { return buf_.size() - start_; }
    // Part of a message is buffered (a byte other than the CR/LF of keep-alives): a message
    // has started and not ended. Stream servers bound how long that may last (slowloris).
    bool in_message() const noexcept;
    bool failed() const noexcept { return failed_.code != Errc::ok; }

private:
    Frame fail(Errc code, std::size_t offset);

    ParseLimits limits_;
    std::string buf_;
    std::size_t start_ = 0;        // first unconsumed byte
    std::size_t scan_from_ = 0;    // where the search for CRLFCRLF resumes
    std::uint64_t stream_off_ = 0;  // stream offset of buf_[0], for error offsets
    Error failed_;
    bool expect_pongs_ = false;
};

}  // namespace sip

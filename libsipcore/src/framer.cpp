#include "sip/framer.hpp"

#include <cstring>

#include "parse_util.hpp"

namespace sip {
namespace {

// Content-Length from a header section (full or compact name, RFC 3261 §7.3.3). Returns
// false with `err` set when absent, malformed or given twice.
bool find_content_length(std::string_view head, std::uint32_t& out, std::size_t& err_off) {
    bool found = false;
    std::size_t pos = head.find('\n');  // skip the start line
    while (pos != std::string_view::npos && pos + 1 < head.size()) {
        std::size_t line = pos + 1;
        pos = head.find('\n', line);
        std::string_view field = head.substr(line, (pos == std::string_view::npos ? head.size() : pos) - line);
        std::size_t colon = field.find(':');
        if (colon == std::string_view::npos || detail::is_wsp(field.empty() ? 'x' : field[0]))
            continue;
        std::string_view name = detail::trim_lws(field.substr(0, colon));
        if (!iequals(name, "Content-Length") && !iequals(name, "l")) continue;
        // folded continuation lines of Content-Length are not expected; a value split that
        // way fails the digit check below and is reported
        std::uint32_t v;
        if (found || !detail::parse_decimal(detail::trim_lws(field.substr(colon + 1)), UINT32_MAX, v)) {
            err_off = line;
            return false;
        }
        out = v;
        found = true;
    }
    if (!found) err_off = head.size();
    return found;
}

}  // namespace

void StreamFramer::feed(std::string_view chunk) {
    if (failed()) return;
    if (start_ > 0 && start_ >= buf_.size() / 2) {
        buf_.erase(0, start_);
        stream_off_ += start_;
        scan_from_ -= start_;
        start_ = 0;
    }
    buf_.append(chunk);
}

bool StreamFramer::in_message() const noexcept {
    for (std::size_t i = start_; i < buf_.size(); ++i)
        if (buf_[i] != '\r' && buf_[i] != '\n') return true;
    return false;
}

StreamFramer::Frame StreamFramer::fail(Errc code, std::size_t offset) {
    failed_ = Error{code, static_cast<std::uint32_t>(stream_off_ + offset), HeaderId::None};
    return Frame{Kind::Error, {}, failed_};
}

StreamFramer::Frame StreamFramer::next() {
    if (failed()) return Frame{Kind::Error, {}, failed_};
    std::string_view b(buf_);
    b.remove_prefix(start_);
    if (b.empty()) return {};
    if (b[0] == '\r') {
        // RFC 5626 §3.5.1 keep-alives between messages: CRLFCRLF is a ping, a lone CRLF a
        // pong (and RFC 3261 §7.5 lets CRLFs precede a start line).
        if (b.size() < 2) return {};
        if (b[1] != '\n') return fail(Errc::bad_line_end, start_ + 1);
        if (b.size() == 2) {
            if (!expect_pongs_) return {};  // could be the first half of a split ping
            start_ += 2;
            scan_from_ = start_;
            return Frame{Kind::Pong, {}, {}};
        }
        if (b[2] != '\r') {
            start_ += 2;
            scan_from_ = start_;
            return Frame{Kind::Pong, {}, {}};
        }
        if (b.size() < 4) return {};
        if (b[3] != '\n') return fail(Errc::bad_line_end, start_ + 3);
        start_ += 4;
        scan_from_ = start_;
        return Frame{Kind::Ping, {}, {}};
    }
    // end of the header section; resume the search where the last one stopped
    std::size_t from = scan_from_ > start_ + 3 ? scan_from_ - 3 : start_;
    std::string_view hay(buf_);
    std::size_t end = hay.find("\r\n\r\n", from);
    if (end == std::string_view::npos) {
        scan_from_ = buf_.size();
        if (buf_.size() - start_ > limits_.max_message) return fail(Errc::too_large, start_);
        return {};
    }
    const std::size_t head_len = end + 4 - start_;
    std::uint32_t cl = 0;
    std::size_t err_off = 0;
    if (!find_content_length(hay.substr(start_, head_len), cl, err_off)) {
        // RFC 3261 §18.3: Content-Length MUST be present on stream transports
        return fail(err_off == head_len ? Errc::missing_header : Errc::bad_content_length,
                    start_ + err_off);
    }
    if (head_len + static_cast<std::uint64_t>(cl) > limits_.max_message) {
        return fail(Errc::too_large, start_);
    }
    if (buf_.size() - start_ < head_len + cl) {
        scan_from_ = end;  // header end known; only body bytes missing
        return {};
    }
    Frame f{Kind::Message, hay.substr(start_, head_len + cl), {}};
    start_ += head_len + cl;
    scan_from_ = start_;
    return f;
}

}  // namespace sip

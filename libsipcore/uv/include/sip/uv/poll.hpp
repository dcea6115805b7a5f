// sip::uv::Poll — a file descriptor watched for readability on the loop, for wiring code that
// drives a library with its own descriptor (libmicrohttpd's epoll fd) and never includes <uv.h>.
//
//   sip::uv::Poll poll(loop, MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd,
//                      [&] { MHD_run(d); });
//   poll.stop();   // before the descriptor is closed
//
// Level-triggered: the callback runs on every loop iteration while the descriptor stays
// readable. Lifetimes: the callback runs on the loop thread; the descriptor must stay open
// until stop() or the destructor; destroy the Poll before the Loop (or let ~Loop close it).
#pragma once

#include <functional>

#include "sip/uv/loop.hpp"

namespace sip::uv {

class Poll {
public:
    // Starts watching at once. An fd libuv cannot poll (a regular file) leaves it stopped:
    // ok() is false.
    Poll(Loop& loop, int fd, std::function<void()> on_readable);
    ~Poll();
    Poll(const Poll&) = delete;
    Poll& operator=(const Poll&) = delete;

    bool ok() const noexcept;
    void stop();

    struct Handle;  // opaque: a uv_poll_t and the callback

private:
    Handle* h_;
};

}  // namespace sip::uv

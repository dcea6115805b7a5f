#include "sip/uv/poll.hpp"

#include <uv.h>

namespace sip::uv {

struct Poll::Handle {
    uv_poll_t p;
    std::function<void()> cb;
    bool inited = false;  // registered with the loop: it must be closed, not deleted
    bool ok = false;
    bool active = false;
};

Poll::Poll(Loop& loop, int fd, std::function<void()> on_readable) : h_(new Handle) {
    h_->cb = std::move(on_readable);
    h_->p.data = h_;
    h_->inited = uv_poll_init(loop.native(), &h_->p, fd) == 0;
    if (!h_->inited) return;
    h_->active = uv_poll_start(&h_->p, UV_READABLE, [](uv_poll_t* p, int, int) {
                     auto* h = static_cast<Handle*>(p->data);
                     if (h->cb) h->cb();  // may stop or destroy the Poll (h stays valid)
                 }) == 0;
    h_->ok = h_->active;
}

Poll::~Poll() {
    h_->cb = nullptr;
    if (!h_->inited) {
        delete h_;
        return;
    }
    stop();
    uv_close(reinterpret_cast<uv_handle_t*>(&h_->p),
             [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
}

bool Poll::ok() const noexcept {
    return h_->ok;
}

void Poll::stop() {
    if (h_->active) uv_poll_stop(&h_->p);
    h_->active = false;
}

}  // namespace sip::uv

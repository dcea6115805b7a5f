#include "sip/uv/loop.hpp"

#include <uv.h>

#include <csignal>
#include <optional>

namespace sip::uv {

Loop::Loop() : loop_(std::make_unique<uv_loop_t>()) {
    uv_loop_init(loop_.get());
}

Loop::~Loop() {
    // Let pending close callbacks run (they free handle memory); then close whatever an owner
    // leaked, so uv_loop_close succeeds and nothing is left allocated.
    uv_run(loop_.get(), UV_RUN_NOWAIT);
    while (uv_loop_close(loop_.get()) == UV_EBUSY) {
        uv_walk(
            loop_.get(),
            [](uv_handle_t* h, void*) {
                if (!uv_is_closing(h)) uv_close(h, nullptr);
            },
            nullptr);
        uv_run(loop_.get(), UV_RUN_DEFAULT);
    }
}

void Loop::run() {
    uv_run(loop_.get(), UV_RUN_DEFAULT);
}
bool Loop::run_once() {
    return uv_run(loop_.get(), UV_RUN_ONCE) != 0;
}
void Loop::stop() {
    uv_stop(loop_.get());
}

Instant Loop::now() const noexcept {
    return instant_ms(static_cast<std::int64_t>(uv_now(loop_.get())));
}

// --- Timer

struct Timer::Handle {
    uv_timer_t t;
    std::function<void()> cb;
    bool armed = false;
    bool firing = false;
    std::optional<Instant> at;  // the deadline arm(at) last set, while armed
};

Timer::Timer(Loop& loop, std::function<void()> on_fire) : h_(new Handle) {
    h_->cb = std::move(on_fire);
    uv_timer_init(loop.native(), &h_->t);
    h_->t.data = h_;
}

Timer::~Timer() {
    uv_timer_stop(&h_->t);
    h_->cb = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&h_->t),
             [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
}

void Timer::arm(Instant at) {
    // A driver re-arms after every input, nearly always for the same deadline: libuv would
    // take the timer out of its heap and put it back each time. Same instant, same due time.
    if (h_->armed && !h_->firing && h_->at == at) return;
    const Instant now = instant_ms(static_cast<std::int64_t>(uv_now(h_->t.loop)));
    Duration d = at - now;
    arm_after(d);
    h_->at = at;
}

void Timer::arm_after(Duration d) {
    // Round up: a deadline must never fire before the Instant it was computed for.
    std::int64_t ms = 0;
    if (d > Duration::zero()) {
        ms = std::chrono::ceil<std::chrono::milliseconds>(d).count();
    }
    // libuv 1.44 runs a timer re-armed for "now" from its own callback again in the same pass,
    // without updating the loop time: a loop that never reaches I/O. One millisecond defers it
    // to the next iteration.
    if (ms == 0 && h_->firing) ms = 1;
    h_->armed = true;
    h_->at.reset();
    uv_timer_start(
        &h_->t,
        [](uv_timer_t* t) {
            auto* h = static_cast<Handle*>(t->data);
            h->armed = false;
            h->firing = true;
            if (h->cb) h->cb();  // may re-arm, cancel, or destroy the Timer (h stays valid)
            h->firing = false;
        },
        static_cast<std::uint64_t>(ms), 0);
}

void Timer::cancel() {
    h_->armed = false;
    h_->at.reset();
    uv_timer_stop(&h_->t);
}

bool Timer::armed() const noexcept {
    return h_->armed;
}

// --- AfterIo

struct AfterIo::Handle {
    uv_check_t c;
    std::function<void()> work;
    bool requested = false;
};

AfterIo::AfterIo(Loop& loop, std::function<void()> work) : h_(new Handle) {
    h_->work = std::move(work);
    uv_check_init(loop.native(), &h_->c);
    h_->c.data = h_;
}

AfterIo::~AfterIo() {
    uv_check_stop(&h_->c);
    h_->work = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&h_->c),
             [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
}

void AfterIo::request() {
    if (h_->requested) return;
    h_->requested = true;
    // A check handle runs after the poll phase and does not stop the loop from blocking
    // (an idle handle would); it is stopped again before its work runs.
    uv_check_start(&h_->c, [](uv_check_t* c) {
        auto* h = static_cast<Handle*>(c->data);
        uv_check_stop(c);
        h->requested = false;
        if (h->work) h->work();  // may request() again: then it runs next iteration
    });
}

bool AfterIo::requested() const noexcept {
    return h_->requested;
}

// --- Wakeup

struct Wakeup::Handle {
    uv_async_t a;
    std::function<void()> work;
};

Wakeup::Wakeup(Loop& loop, std::function<void()> work) : h_(new Handle) {
    h_->work = std::move(work);
    uv_async_init(loop.native(), &h_->a, [](uv_async_t* a) {
        auto* h = static_cast<Handle*>(a->data);
        if (h->work) h->work();
    });
    h_->a.data = h_;
    uv_unref(reinterpret_cast<uv_handle_t*>(&h_->a));
}

Wakeup::~Wakeup() {
    h_->work = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&h_->a),
             [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
}

void Wakeup::notify() noexcept {
    uv_async_send(&h_->a);
}

// --- Signals

struct Signals::Handle {
    uv_signal_t sigint;
    uv_signal_t sigterm;
    uv_signal_t sighup;
    std::function<void(int)> cb;
    std::function<void()> hangup;
    int open = 3;
};

Signals::Signals(Loop& loop, std::function<void(int)> on_signal, std::function<void()> on_hangup)
    : h_(new Handle) {
    h_->cb = std::move(on_signal);
    h_->hangup = std::move(on_hangup);
    auto fire = [](uv_signal_t* s, int signum) {
        auto* h = static_cast<Handle*>(s->data);
        if (h->cb) h->cb(signum);
    };
    for (uv_signal_t* s : {&h_->sigint, &h_->sigterm, &h_->sighup}) {
        uv_signal_init(loop.native(), s);
        s->data = h_;
        uv_unref(reinterpret_cast<uv_handle_t*>(s));
    }
    uv_signal_start(&h_->sigint, fire, SIGINT);
    uv_signal_start(&h_->sigterm, fire, SIGTERM);
    // without a hang-up callback SIGHUP keeps its default action (the process ends)
    if (h_->hangup)
        uv_signal_start(
            &h_->sighup,
            [](uv_signal_t* s, int) {
                auto* h = static_cast<Handle*>(s->data);
                if (h->hangup) h->hangup();
            },
            SIGHUP);
}

Signals::~Signals() {
    h_->cb = nullptr;
    h_->hangup = nullptr;
    for (uv_signal_t* s : {&h_->sigint, &h_->sigterm, &h_->sighup}) {
        uv_signal_stop(s);
        uv_close(reinterpret_cast<uv_handle_t*>(s), [](uv_handle_t* hd) {
            auto* h = static_cast<Handle*>(hd->data);
            if (--h->open == 0) delete h;
        });
    }
}

}  // namespace sip::uv

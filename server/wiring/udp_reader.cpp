#include "wiring/udp_reader.hpp"

#include <pthread.h>

#include "wiring/log.hpp"

namespace wiring {

bool UdpReader::Inbox::put(std::vector<sw::Received>& received,
                           const sw::AnsweredElsewhere& answered) {
    if (received.empty() && answered.options == 0) return false;
    std::lock_guard lock(mu_);
    if (batch_.received.empty()) {
        batch_.received.swap(received);
    } else {
        for (sw::Received& r : received) batch_.received.push_back(std::move(r));
        received.clear();
    }
    batch_.answered.options += answered.options;
    return true;
}

UdpReader::Inbox::Batch UdpReader::Inbox::take() {
    Batch b;
    std::lock_guard lock(mu_);
    std::swap(b, batch_);
    return b;
}

UdpReader::UdpReader(sip::uv::TransportsConfig udp, sw::FrontConfig front, Inbox& inbox,
                     std::function<void()> notify)
    : front_(std::move(front)),
      inbox_(inbox),
      notify_(std::move(notify)),
      after_io_(loop_, [this] { hand_over(); }),
      stop_(loop_, [this] {
          if (transports_) transports_->shutdown([this] { loop_.stop(); });
      }),
      udp_(std::move(udp)) {}

UdpReader::~UdpReader() {
    stop();
}

std::string UdpReader::start() {
    transports_ = std::make_unique<sip::uv::Transports>(
        loop_, udp_,
        sip::uv::TransportHandlers{
            .on_message = [this](const sip::Target& src,
                                 std::string_view bytes) { on_datagram(src, bytes); },
            .on_send_failed = {},  // an OPTIONS answer that cannot go is not retried
            .on_event = [](std::string_view line) { log_line(line); },
        });
    if (std::string err = transports_->start(); !err.empty()) return err;
    // the handles were made on this thread before the reader's runs the loop: the thread's
    // start orders them
    thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "udp-reader");  // what `top -H` shows
        loop_.run();
    });
    return {};
}

void UdpReader::on_datagram(const sip::Target& source, std::string_view bytes) {
    if (auto answer = front_.on_datagram(bytes, source, pending_))
        transports_->send(answer->to, std::move(answer->bytes));
    after_io_.request();
}

// After a wake-up's datagrams: what the switch must see goes over in one piece, and the
// setting for the next wake-up is read.
void UdpReader::hand_over() {
    if (inbox_.put(pending_, front_.take_answered())) notify_();
    front_.set_answer_options(answer_options_.load(std::memory_order_relaxed));
}

void UdpReader::stop() {
    if (stopped_) return;
    stopped_ = true;
    if (thread_.joinable()) {
        stop_.notify();
        thread_.join();
    }
}

}  // namespace wiring

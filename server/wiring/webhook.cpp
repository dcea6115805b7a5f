#include "wiring/webhook.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <memory>

namespace wiring {

namespace {

// The receiver's answer body is not ours to keep.
std::size_t discard(char*, std::size_t size, std::size_t n, void*) {
    return size * n;
}

struct CurlInit {  // curl_global_init is not thread-safe: once, before any worker starts
    CurlInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

Webhook::Webhook(std::string url, Log log, std::chrono::seconds timeout, std::size_t max_queued)
    : url_(std::move(url)), log_(std::move(log)), timeout_(timeout), max_queued_(max_queued) {
    static CurlInit init;
    worker_ = std::thread([this] { run(); });
}

Webhook::~Webhook() {
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
}

void Webhook::post(std::string json) {
    {
        std::lock_guard lk(mu_);
        if (queue_.size() >= max_queued_) {
            ++stats_.dropped;
            return;
        }
        queue_.push_back(std::move(json));
    }
    cv_.notify_one();
}

Webhook::Stats Webhook::stats() const {
    std::lock_guard lk(mu_);
    return stats_;
}

bool Webhook::send(const std::string& body, std::string& why) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), curl_easy_cleanup);
    if (!h) return why = "curl_easy_init failed", false;
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> hold(headers, curl_slist_free_all);
    curl_easy_setopt(h.get(), CURLOPT_URL, url_.c_str());
    curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(h.get(), CURLOPT_TIMEOUT, static_cast<long>(timeout_.count()));
    curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);  // a worker thread: no SIGALRM for timeouts
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h.get(), CURLOPT_USERAGENT, "trunkline");
    const CURLcode rc = curl_easy_perform(h.get());
    if (rc != CURLE_OK) return why = curl_easy_strerror(rc), false;
    long status = 0;
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) return why = fmt::format("HTTP {}", status), false;
    return true;
}

void Webhook::run() {
    std::uint64_t failing = 0;  // failures since the last success: one log line per outage
    for (;;) {
        std::string body;
        {
            std::unique_lock lk(mu_);
            cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
            if (stop_) return;  // what is still queued is in the log and the API already
            body = std::move(queue_.front());
            queue_.pop_front();
        }
        std::string why;
        const bool ok = send(body, why);
        {
            std::lock_guard lk(mu_);
            ++(ok ? stats_.sent : stats_.failed);
        }
        if (!ok && failing++ == 0) log_(fmt::format("alerts: webhook {} failed: {}", url_, why));
        if (ok && failing > 0) {
            log_(fmt::format("alerts: webhook {} answers again ({} events lost)", url_, failing));
            failing = 0;
        }
    }
}

}  // namespace wiring

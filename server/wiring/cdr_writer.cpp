#include "wiring/cdr_writer.hpp"

#include <fmt/format.h>

#include <optional>
#include <vector>

#include "billing/sqlite/store.hpp"

namespace wiring {

CdrWriter::CdrWriter(CdrWriterConfig cfg, Log log) : cfg_(std::move(cfg)), log_(std::move(log)) {}

CdrWriter::~CdrWriter() {
    stop();
}

bool CdrWriter::start(std::string* error) {
    // open once here so a bad path fails at start, not silently on the thread
    billing::sqlite::StoreOptions o;
    o.durable = cfg_.durable;
    auto st = billing::sqlite::Store::open(cfg_.database, o);
    if (!st) {
        if (error) *error = st.error().describe();
        return false;
    }
    thread_ = std::thread([this, s = std::make_shared<billing::sqlite::Store>(std::move(*st))] {
        (void)s;
        run();
    });
    return true;
}

void CdrWriter::push(std::uint64_t seq, billing::Cdr cdr) {
    std::unique_lock lk(mu_);
    space_.wait(lk, [&] { return queue_.size() < cfg_.max_queue || stopping_; });
    queue_.emplace_back(seq, std::move(cdr));
    stats_.queued = queue_.size();
    cv_.notify_one();
}

void CdrWriter::publish_calls(std::optional<std::vector<route::lcr::sqlite::ActiveCall>> calls,
                              std::vector<route::lcr::sqlite::GatewayLive> gateways,
                              std::int64_t now_ms) {
    std::lock_guard lk(mu_);
    // a pending list not yet written must not be lost to a later "unchanged"
    if (!calls && calls_ && calls_->calls) calls = std::move(calls_->calls);
    calls_.emplace(Published{std::move(calls), std::move(gateways), now_ms});
    cv_.notify_one();
}

void CdrWriter::stop() {
    {
        std::lock_guard lk(mu_);
        if (!thread_.joinable()) return;
        stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
}

CdrWriterStats CdrWriter::stats() const {
    std::lock_guard lk(mu_);
    return stats_;
}

namespace {
// insert_cdrs' refusal when a tier volume or a package's usage is no longer the one priced at
bool counting_conflict(const billing::Error& e) {
    return e.code == billing::ErrorCode::invalid_argument && (e.field == "volume" || e.field == "package");
}
}  // namespace

void CdrWriter::run() {
    billing::sqlite::StoreOptions o;
    o.durable = cfg_.durable;
    std::optional<billing::sqlite::Store> store;
    std::vector<billing::Cdr> batch;
    std::uint64_t last_seq = 0;
    std::unique_ptr<route::lcr::sqlite::Store> lcr;
    for (;;) {
        std::optional<Published> calls;
        {
            std::unique_lock lk(mu_);
            cv_.wait(lk, [&] { return !queue_.empty() || calls_ || stopping_; });
            if (!stopping_ && !queue_.empty() && queue_.size() < cfg_.max_batch)
                cv_.wait_for(lk, cfg_.batch_delay,
                             [&] { return queue_.size() >= cfg_.max_batch || stopping_; });
            calls.swap(calls_);
            if (queue_.empty() && !calls && stopping_) return;
            while (!queue_.empty() && batch.size() < cfg_.max_batch) {
                last_seq = queue_.front().first;
                batch.push_back(std::move(queue_.front().second));
                queue_.pop_front();
            }
            stats_.queued = queue_.size();
        }
        space_.notify_all();
        if (calls) {
            // best effort: a lost snapshot is replaced by the next one a second later
            std::string err;
            if (!lcr) lcr = route::lcr::sqlite::Store::open(cfg_.database, &err);
            if (lcr && !lcr->publish_calls(calls->calls ? &*calls->calls : nullptr, calls->gateways,
                                           calls->now_ms, &err))
                log_(fmt::format("calls: cannot publish the call list: {}", err));
        }
        // retried until written: a CDR is never dropped
        sip::Duration took{};
        auto check = billing::sqlite::CountCheck::exact;
        for (; !batch.empty();) {
            if (!store) {
                auto st = billing::sqlite::Store::open(cfg_.database, o);
                if (st) store.emplace(std::move(*st));
            }
            if (store) {
                const auto start = std::chrono::steady_clock::now();
                auto ok = store->insert_cdrs(batch, check);
                took = std::chrono::duration_cast<sip::Duration>(std::chrono::steady_clock::now() - start);
                if (ok) break;
                // Another writer (a `trunkctl cdr import`) counted volume or package seconds
                // the switch priced with: the CDRs keep the prices already booked, and their
                // counts go on top of the stored ones (never lost, never written twice).
                if (counting_conflict(ok.error()) && check == billing::sqlite::CountCheck::exact) {
                    log_(fmt::format("cdr: {}; keeping the booked prices and counting on top",
                                     ok.error().describe()));
                    check = billing::sqlite::CountCheck::rebase;
                    continue;
                }
                log_(fmt::format("cdr: writing {} CDRs failed (retrying): {}", batch.size(),
                                 ok.error().describe()));
            } else {
                log_("cdr: cannot open the database (retrying)");
            }
            {
                std::lock_guard lk(mu_);
                ++stats_.failures;
            }
            std::this_thread::sleep_for(cfg_.retry_delay);
        }
        if (batch.empty()) continue;
        std::lock_guard lk(mu_);
        stats_.written += batch.size();
        stats_.committed_seq = last_seq;
        ++stats_.batches;
        stats_.commit.add(took);
        batch.clear();
    }
}

}  // namespace wiring

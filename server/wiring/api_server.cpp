#include "wiring/api_server.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "wiring/log.hpp"
#include "wiring/wall_clock.hpp"

namespace wiring {

namespace {

constexpr sip::Duration kLagPeriod = std::chrono::milliseconds(250);

// /proc/self/statm: size resident shared ... in pages.
std::uint64_t resident_bytes() {
    std::ifstream in("/proc/self/statm");
    std::uint64_t size = 0, resident = 0;
    if (!(in >> size >> resident)) return 0;
    return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

ApiServer::ApiServer(Parts parts, const ServerConfig& cfg)
    : p_(parts),
      cfg_(cfg),
      api_(parts.sw, parts.hasher, cfg.api),
      http_(parts.loop, [this](const sw::api::Request& rq) { return handle(rq); }),
      data_(cfg.database),
      token_timer_(parts.loop,
                   [this] {
                       load_tokens();
                       token_timer_.arm(p_.loop.now() + cfg_.reload_poll);
                   }),
      lag_timer_(parts.loop, [this] { sample_lag(); }) {
    api_.set_process_metrics([this] { return process(); });
}

ApiServer::~ApiServer() {
    close();
}

std::string ApiServer::start() {
    if (!cfg_.api_enabled) return {};
    std::string err;
    store_ = sw::api::sqlite::Store::open(cfg_.database, &err);
    if (!store_) return "api: " + err;
    load_tokens();
    if (std::string e = data_.open(); !e.empty())
        log_line(e + "; /api/accounts answers 503");
    else
        api_.set_data(&data_);
    api_.set_live(p_.live);
    std::optional<ApiTlsPem> tls;
    if (!cfg_.api_tls_cert.empty()) {
        // read again: the configuration only checked them (no key material kept in it)
        ApiTlsError e;
        tls = read_api_tls({cfg_.api_tls_cert, cfg_.api_tls_key, cfg_.api_tls_key_password}, &e);
        if (!tls) return "api: " + e.what;
    }
    if (std::string e = http_.start(cfg_.api_listen, tls ? &*tls : nullptr); !e.empty()) {
        // TLS asked for is never dropped quietly, whatever the address
        if (cfg_.api_listen_required || tls) return e;
        // the default address: another process has it (README "Management API")
        log_line(e + "; the management API is off (set [api] listen or --api)");
        store_.reset();
        return {};
    }
    log_line(fmt::format("api: listening on {}://{} ({} tokens)", http_.tls() ? "https" : "http",
                         cfg_.api_listen, api_.token_count()));
    token_timer_.arm(p_.loop.now() + cfg_.reload_poll);
    lag_due_ = p_.loop.now() + kLagPeriod;
    lag_timer_.arm(lag_due_);
    return {};
}

void ApiServer::close() {
    token_timer_.cancel();
    lag_timer_.cancel();
    http_.stop();
}

sw::api::Response ApiServer::handle(const sw::api::Request& rq) {
    sw::api::Response r = api_.handle(rq, p_.loop.now(), wall_ms());
    while (auto l = api_.poll_log()) log_line(*l);
    if (r.tables_changed && p_.tables_changed) p_.tables_changed();
    if (r.switch_changed) p_.driver.flush();  // a hang-up's BYEs and CDR, a lift's store write
    return r;
}

void ApiServer::load_tokens() {
    std::string err;
    const auto v = store_->version(&err);
    if (!v) {
        log_line("api: cannot read the token version: " + err);
        return;
    }
    if (v == token_version_) return;
    auto rows = store_->list(&err);
    if (!rows) {
        log_line("api: cannot load tokens: " + err);
        return;
    }
    std::vector<sw::api::Token> tokens;
    for (auto& r : *rows) {
        auto scope = sw::api::parse_scope(r.scope);
        if (!scope) continue;  // the table's CHECK makes this impossible
        tokens.push_back({std::move(r.name), std::move(r.sha256_hex), *scope});
    }
    if (token_version_) log_line(fmt::format("api: tokens reloaded ({})", tokens.size()));
    api_.set_tokens(std::move(tokens));
    token_version_ = v;
}

// How late the periodic timer fired: the loop was busy (or blocked) that long.
void ApiServer::sample_lag() {
    const sip::Instant now = p_.loop.now();
    lag_[lag_next_++ % lag_.size()] = std::max(sip::Duration::zero(), now - lag_due_);
    lag_due_ = now + kLagPeriod;
    lag_timer_.arm(lag_due_);
}

sw::ProcessMetrics ApiServer::process() const {
    sw::ProcessMetrics m;
    m.resident_bytes = resident_bytes();
    if (lag_next_ > 0) m.loop_lag = lag_[(lag_next_ - 1) % lag_.size()];
    m.loop_lag_max = *std::max_element(lag_.begin(), lag_.end());
    const CdrWriterStats c = p_.cdrs.stats();
    m.cdr_queued = c.queued;
    m.cdr_written = c.written;
    m.cdr_failures = c.failures;
    m.cdr_commit = c.commit;
    if (p_.dns) {
        const Dns::Counters& d = p_.dns->counters();
        m.dns_hits = d.hits, m.dns_stale = d.stale, m.dns_misses = d.misses, m.dns_failures = d.failures;
    }
    const sip::uv::TransportCounters& t = p_.driver.transport_counters();
    const Driver::ReaderCounts& r = p_.driver.reader_counts();
    m.messages_in = t.messages_in + r.messages_in;
    m.messages_out = t.messages_out + r.messages_out;
    m.connections_open = t.connections_open;
    if (const HepCounters* h = p_.driver.hep_counters()) m.hep_sent_dropped = std::pair(h->sent, h->dropped);
    return m;
}

}  // namespace wiring

// Billing benchmarks: rating throughput with a 100,000-prefix deck, rate deck import,
// durable CDR inserts in batches, and the settlement report over N CDRs.
//
//   ./billing_bench                       # all, defaults (well under a minute here)
//   ./billing_bench --cdrs 10000000       # the 10 M CDR settlement goal
//   ./billing_bench --only rating --calls 5000000
//
// Options: --prefixes N (100000)  --calls N (2000000)  --deck-lines N (1000000)
//          --distinct N (1000000 distinct calls cycled through in the rating loop)
//          --cdrs N (1000000)     --batch N (5000)     --dir PATH (/tmp)
//          --only rating|deck|cdr (cdr = inserts + settlement report)
// Figures are wall-clock on one thread; the database files are removed afterwards.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "billing/deck.hpp"
#include "billing/rating.hpp"
#include "billing/report.hpp"
#include "billing/sqlite/store.hpp"
#include "billing/volume_pricing.hpp"

using namespace billing;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    std::size_t prefixes = 100000;
    std::size_t calls = 2000000;
    std::size_t distinct = 1000000;  // distinct call records cycled through
    std::size_t deck_lines = 1000000;
    std::size_t cdrs = 1000000;
    std::size_t batch = 5000;
    std::string dir = "/tmp";
    std::string only;
};

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();  // reporting only
}

std::vector<std::string> make_prefixes(std::size_t n, std::mt19937_64& rng) {
    std::vector<std::string> v;
    v.reserve(n);
    std::unordered_set<std::string> seen;
    while (v.size() < n) {
        std::string p = std::to_string(1 + rng() % 9);
        const int len = 2 + static_cast<int>(rng() % 7);  // 3..9 digits
        for (int i = 0; i < len; ++i) p += static_cast<char>('0' + rng() % 10);
        if (seen.insert(p).second) v.push_back(std::move(p));
    }
    return v;
}

Book make_book(const std::vector<std::string>& prefixes, std::mt19937_64& rng) {
    Book book;
    Account c;
    c.id = "C1";
    c.rate_group = "retail";
    c.balance = Money::from_micros(1000000000000);
    (void)book.add_account(c);
    Account v;
    v.id = "V1";
    v.kind = AccountKind::vendor;
    v.rate_group = "carrier";
    (void)book.add_account(v);
    RateTable& retail = book.group("retail");
    RateTable& carrier = book.group("carrier");
    retail.reserve(prefixes.size());
    carrier.reserve(prefixes.size());
    for (const std::string& p : prefixes) {
        Rate r;
        r.prefix = p;
        r.area = "area";
        r.price = Money::from_micros(static_cast<std::int64_t>(1000 + rng() % 100000));
        r.first_price = r.price;
        r.increment_s = (rng() % 2) ? 6 : 60;
        (void)retail.add(r);
        r.price = Money::from_micros(r.price.micros() * 7 / 10);
        r.first_price = r.price;
        (void)carrier.add(r);
    }
    book.compact();
    return book;
}

// Destination choice: uniform over all prefixes (worst case for caches), or Zipf-like
// (s = 1, as carrier traffic concentrates on few destinations): rank r with weight 1/r.
struct Destinations {
    const std::vector<std::string>& prefixes;
    bool zipf = false;
    std::vector<double> cdf;  // benchmark input generation only, not billing arithmetic
    Destinations(const std::vector<std::string>& p, bool z) : prefixes(p), zipf(z) {
        if (!zipf) return;
        cdf.resize(p.size());
        double sum = 0;
        for (std::size_t i = 0; i < p.size(); ++i) cdf[i] = (sum += 1.0 / static_cast<double>(i + 1));
        for (double& x : cdf) x /= sum;
    }
    const std::string& pick(std::mt19937_64& rng) const {
        if (!zipf) return prefixes[rng() % prefixes.size()];
        const double u = std::uniform_real_distribution<double>(0, 1)(rng);
        auto it = std::lower_bound(cdf.begin(), cdf.end(), u);
        return prefixes[std::min<std::size_t>(static_cast<std::size_t>(it - cdf.begin()), prefixes.size() - 1)];
    }
};

std::vector<CallRecord> make_calls(const Destinations& dest, std::size_t n, std::mt19937_64& rng, Timestamp start,
                                   std::int64_t spacing_ms = 2000) {
    std::vector<CallRecord> v(n);
    for (std::size_t i = 0; i < n; ++i) {
        CallRecord& c = v[i];
        c.caller = "15550001111";
        c.callee = dest.pick(rng) + std::to_string(1000000 + rng() % 9000000);
        c.customer = "C1";
        c.customer_gateway = "gw" + std::to_string(rng() % 8);
        c.vendor = "V1";
        c.vendor_gateway = "rgw" + std::to_string(rng() % 8);
        c.setup_ms = start + static_cast<Timestamp>(i) * spacing_ms;
        if (rng() % 10 < 7) {
            c.answer_ms = c.setup_ms + 3000;
            c.end_ms = *c.answer_ms + static_cast<Timestamp>(rng() % 600000);
        } else {
            c.end_ms = c.setup_ms + 5000;
        }
        c.sip_code = c.answer_ms ? 200 : 486;
        c.call_id_in = "call-" + std::to_string(i);
    }
    return v;
}

// Rating with volume tiers and packages on, as the switch and cdr import run it: each call
// becomes its CDR (make_cdr) and is priced by billing::VolumePricing (tier, then package, then
// counted). The 1,000 most called prefixes (the first of the Zipf order) each have two tiers
// (the second with bonus minutes) and a package large enough never to run out; the ratio
// to plain rating is the cost of the step. plain_s: the plain loop's time for o.calls.
void bench_volume_pricing(const Options& o, const Rater& rater, const Destinations& dest,
                          const std::vector<std::string>& prefixes, const std::vector<std::array<char, 16>>& numbers,
                          std::vector<CallRecord>& calls, double plain_s) {
    VolumeTiers tiers;
    Packages packages;
    const std::size_t priced = std::min<std::size_t>(prefixes.size(), 1000);
    for (std::size_t k = 0; k < priced; ++k) {
        (void)tiers.add({"C1", prefixes[k], 0, Money::from_micros(20000)});
        (void)tiers.add({"C1", prefixes[k], 1000, Money::from_micros(10000), 60});
        (void)packages.add({"C1", "p" + std::to_string(k), {prefixes[k]}, 1'000'000'000, Money{}, kTimeMin, kTimeMax});
    }
    VolumePricing vp(std::move(tiers), std::move(packages));
    const RatingConfig cfg = rater.config();
    const std::size_t distinct = numbers.size();
    std::int64_t sum = 0;
    std::size_t errors = 0, packaged = 0, tiered = 0;
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < o.calls; ++i) {
        CallRecord& c = calls[i & 63];
        const auto& n = numbers[i % distinct];
        c.callee.assign(n.data(), static_cast<std::size_t>(n[15]));
        auto r = rater.rate(c);
        if (!r) {
            ++errors;
            continue;
        }
        Cdr cdr = make_cdr(c, *r);
        if (!vp.price(cdr, *r, cfg)) {
            ++errors;
            continue;
        }
        sum += cdr.profit.micros();
        tiered += !cdr.tier_prefix.empty();
        packaged += !cdr.package_name.empty();
    }
    const double s = seconds_since(t0);
    std::printf("rating+tiers+packages: %zu calls in %.3f s = %.2f M calls/s (%s destinations; %zu tier-priced, "
                "%zu by a package; %.2fx the plain rating time; errors %zu, checksum %lld)\n",
                o.calls, s, static_cast<double>(o.calls) / s / 1e6, dest.zipf ? "Zipf(1)" : "uniform", tiered,
                packaged, s / plain_s, errors, static_cast<long long>(sum));
}

void bench_rating(const Options& o) {
    std::mt19937_64 rng(1);
    auto prefixes = make_prefixes(o.prefixes, rng);
    auto t0 = Clock::now();
    Book book = make_book(prefixes, rng);
    std::printf("rating: built book with %zu + %zu rates in %.3f s\n", book.find_group("retail")->size(),
                book.find_group("carrier")->size(), seconds_since(t0));
    // The server rates the record it has just built (hot in cache), so the loop reuses one
    // CallRecord and only swaps in the next called number from a compact array of `distinct`
    // numbers (<= 15 digits, E.164: no heap allocation on assign).
    const std::size_t distinct = std::min(o.calls, o.distinct);
    Rater rater(book, RatingConfig{});
    for (bool zipf : {false, true}) {
        const Destinations dest(prefixes, zipf);
        std::vector<std::array<char, 16>> numbers(distinct);
        for (auto& n : numbers) {
            std::string s = dest.pick(rng) + std::to_string(100000 + rng() % 900000);
            std::memcpy(n.data(), s.data(), s.size());
            n[15] = static_cast<char>(s.size());
        }
        auto calls = make_calls(dest, 64, rng, 1764000000000);
        std::int64_t sum = 0;
        std::size_t errors = 0;
        t0 = Clock::now();
        for (std::size_t i = 0; i < o.calls; ++i) {
            CallRecord& c = calls[i & 63];
            const auto& n = numbers[i % distinct];
            c.callee.assign(n.data(), static_cast<std::size_t>(n[15]));
            auto r = rater.rate(c);
            if (r) sum += r->profit.micros();
            else ++errors;
        }
        const double s = seconds_since(t0);
        std::printf("rating: %zu calls in %.3f s = %.2f M calls/s (one core, %zu-prefix deck, %zu %s destinations, "
                    "errors %zu, checksum %lld)\n",
                    o.calls, s, static_cast<double>(o.calls) / s / 1e6, o.prefixes, distinct,
                    zipf ? "Zipf(1)" : "uniform", errors, static_cast<long long>(sum));
        bench_volume_pricing(o, rater, dest, prefixes, numbers, calls, s);
    }
}

void bench_deck(const Options& o) {
    std::mt19937_64 rng(2);
    auto prefixes = make_prefixes(o.deck_lines, rng);
    std::string csv = "prefix,area,price,first_period,increment,effective_from\n";
    csv.reserve(o.deck_lines * 48);
    for (const std::string& p : prefixes) {
        csv += p;
        csv += ",Some Area,0.";
        csv += std::to_string(1000 + rng() % 9000);
        csv += ",0,6,2026-12-01\n";
    }
    auto t0 = Clock::now();
    DeckResult d = parse_rate_deck(csv, DeckFormat{});
    const double parse_s = seconds_since(t0);
    if (!d.ok()) {
        std::printf("deck: unexpected errors: %s\n", d.errors[0].describe().c_str());
        return;
    }
    const std::string path = o.dir + "/billing_bench_deck.db";
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    auto st = sqlite::Store::open(path);
    if (!st) {
        std::printf("deck: %s\n", st.error().describe().c_str());
        return;
    }
    t0 = Clock::now();
    auto n = st->import_rates("vendor", d.rates, true);
    const double db_s = seconds_since(t0);
    if (!n) {
        std::printf("deck: %s\n", n.error().describe().c_str());
        return;
    }
    std::printf("deck: %zu lines (%.1f MB): parse+validate %.3f s, SQLite import (one durable transaction) %.3f s, "
                "total %.3f s\n",
                o.deck_lines, static_cast<double>(csv.size()) / 1e6, parse_s, db_s, parse_s + db_s);
    st = sqlite::Store::open(":memory:");  // close the file
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
}

void bench_cdr(const Options& o) {
    std::mt19937_64 rng(3);
    auto prefixes = make_prefixes(std::min<std::size_t>(o.prefixes, 10000), rng);
    Book book = make_book(prefixes, rng);
    Rater rater(book, RatingConfig{});
    const Timestamp start = *parse_time("2026-11-01");
    // All N calls start within November (30 days), so the settlement covers all of them.
    const std::int64_t spacing = std::max<std::int64_t>(1, 30LL * 86400000 / static_cast<std::int64_t>(o.cdrs));
    const std::string path = o.dir + "/billing_bench_cdr.db";
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    {
        auto st = sqlite::Store::open(path);
        if (!st) {
            std::printf("cdr: %s\n", st.error().describe().c_str());
            return;
        }
        for (const Account* a : book.accounts()) (void)st->add_account(*a);
        double insert_s = 0;
        std::size_t done = 0;
        Money revenue;
        while (done < o.cdrs) {
            const std::size_t chunk = std::min<std::size_t>(o.cdrs - done, 200000);
            auto calls = make_calls(Destinations(prefixes, false), chunk, rng, start + static_cast<Timestamp>(done) * spacing,
                                    spacing);
            std::vector<Cdr> cdrs;
            cdrs.reserve(chunk);
            for (CallRecord& c : calls) {
                auto r = rater.rate(c);
                if (!r) continue;
                revenue = *revenue.add(r->charge);
                cdrs.push_back(make_cdr(std::move(c), *r));
            }
            auto t0 = Clock::now();
            for (std::size_t i = 0; i < cdrs.size(); i += o.batch) {
                std::span<Cdr> part(cdrs.data() + i, std::min(o.batch, cdrs.size() - i));
                if (auto r = st->insert_cdrs(part); !r) {
                    std::printf("cdr: %s\n", r.error().describe().c_str());
                    return;
                }
            }
            insert_s += seconds_since(t0);
            done += chunk;
        }
        std::printf("cdr: %zu CDRs inserted durably (synchronous=FULL, WAL) in batches of %zu: %.3f s = %.0f CDRs/s\n",
                    o.cdrs, o.batch, insert_s, static_cast<double>(o.cdrs) / insert_s);
        const Timestamp from = start, until = *parse_time("2026-12-01");
        auto t0 = Clock::now();
        auto rep = st->report(ReportKind::settlement, from, until);
        const double rs = seconds_since(t0);
        if (!rep) {
            std::printf("report: %s\n", rep.error().describe().c_str());
            return;
        }
        std::printf("report: settlement for November over %lld of %zu CDRs in %.3f s (revenue %s, all-time %s)\n",
                    static_cast<long long>(rep->total.calls), o.cdrs, rs, rep->total.revenue.to_string().c_str(),
                    revenue.to_string().c_str());
        t0 = Clock::now();
        auto rev = st->report(ReportKind::revenue, kTimeMin, kTimeMax);
        std::printf("report: revenue per customer over all %zu CDRs in %.3f s\n", o.cdrs, seconds_since(t0));
        (void)rev;
    }
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
}

bool parse_size(const char* s, std::size_t& out) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s, &end, 10);
    if (end == s || *end != '\0' || v == 0) return false;
    out = static_cast<std::size_t>(v);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : ""; };
        bool ok = true;
        if (a == "--prefixes") ok = parse_size(next(), o.prefixes);
        else if (a == "--calls") ok = parse_size(next(), o.calls);
        else if (a == "--distinct") ok = parse_size(next(), o.distinct);
        else if (a == "--deck-lines") ok = parse_size(next(), o.deck_lines);
        else if (a == "--cdrs") ok = parse_size(next(), o.cdrs);
        else if (a == "--batch") ok = parse_size(next(), o.batch);
        else if (a == "--dir") o.dir = next();
        else if (a == "--only") o.only = next();
        else {
            std::printf("usage: billing_bench [--prefixes N] [--calls N] [--distinct N] [--deck-lines N] [--cdrs N] [--batch N] "
                        "[--dir PATH] [--only rating|deck|cdr]\n");
            return a == "--help" || a == "-h" ? 0 : 2;
        }
        if (!ok) {
            std::printf("billing_bench: %s needs a positive number\n", a.c_str());
            return 2;
        }
    }
    if (o.only.empty() || o.only == "rating") bench_rating(o);
    if (o.only.empty() || o.only == "deck") bench_deck(o);
    if (o.only.empty() || o.only == "cdr") bench_cdr(o);
    return 0;
}

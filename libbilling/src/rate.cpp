#include "billing/rate.hpp"

#include "arith.hpp"

namespace billing {

using detail::fits64;
using detail::i128;

std::string_view to_string(RateType t) {
    switch (t) {
        case RateType::net: return "Net";
        case RateType::local: return "Local";
        case RateType::national: return "National";
        case RateType::international: return "International";
    }
    return "International";
}

static bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

Result<RateType> parse_rate_type(std::string_view s) {
    if (s.empty() || iequals(s, "international") || iequals(s, "intl")) return RateType::international;
    if (iequals(s, "net")) return RateType::net;
    if (iequals(s, "local")) return RateType::local;
    if (iequals(s, "national")) return RateType::national;
    return fail(ErrorCode::invalid_argument,
                "rate type must be Net, Local, National or International, not '" +
                    std::string(s) + "'",
                "type");
}

Result<void> validate(const Rate& r) {
    if (!route::prefix::DigitTrie<int>::is_digits(r.prefix))
        return fail(ErrorCode::invalid_argument, "prefix must be digits only: '" + r.prefix + "'",
                    "prefix");
    if (r.prefix.size() > route::prefix::DigitTrie<int>::kMaxDepth)
        return fail(ErrorCode::invalid_argument, "prefix longer than 64 digits", "prefix");
    if (r.price.is_negative()) return fail(ErrorCode::invalid_argument, "price is negative", "price");
    if (r.first_price.is_negative())
        return fail(ErrorCode::invalid_argument, "first price is negative", "first_price");
    if (r.connection_fee.is_negative())
        return fail(ErrorCode::invalid_argument, "connection fee is negative", "connection_fee");
    if (r.increment_s < 1)
        return fail(ErrorCode::invalid_argument, "increment must be >= 1 second", "increment");
    if (r.first_period_s < 0)
        return fail(ErrorCode::invalid_argument, "first period must be >= 0 seconds", "first_period");
    if (r.effective_from >= r.effective_until)
        return fail(ErrorCode::invalid_argument, "effective_from must be before effective_until",
                    "effective_until");
    return {};
}

// One pricing rule for Rate and RateRecord (same member names), so both give identical results.
template <class R>
static Result<Priced> price_fields(const R& r, std::int64_t seconds, const Currency& c) {
    if (seconds < 0)
        return fail(ErrorCode::negative_duration, "negative duration", "duration");
    if (c.precision < 0 || c.precision > Money::kDecimals)
        return fail(ErrorCode::invalid_argument, "precision must be 0..6", "precision");
    if (seconds == 0) return Priced{};
    const std::int64_t first = r.first_period_s;
    const std::int64_t inc = r.increment_s < 1 ? 1 : r.increment_s;
    std::int64_t rest = seconds > first ? seconds - first : 0;
    rest = (rest + inc - 1) / inc * inc;  // whole increments
    // Exact total in micro-units * 60 (prices are per minute).
    const i128 num = static_cast<i128>(r.connection_fee.micros()) * 60 +
                     static_cast<i128>(r.first_price.micros()) * first +
                     static_cast<i128>(r.price.micros()) * rest;
    const i128 amount = detail::round_to_precision(num, 60, c.precision, c.rounding);
    if (!fits64(amount)) return fail(ErrorCode::overflow, "call amount out of range", "amount");
    return Priced{first + rest, Money::from_micros(static_cast<std::int64_t>(amount))};
}

Result<Priced> price_call(const Rate& r, std::int64_t seconds, const Currency& c) {
    return price_fields(r, seconds, c);
}

Result<Priced> price_call(const RateRecord& r, std::int64_t seconds, const Currency& c) {
    return price_fields(r, seconds, c);
}

static bool same_key(const Rate& a, const Rate& b) {
    return a.period == b.period && a.effective_from == b.effective_from;
}

Result<void> RateTable::add(Rate r) {
    if (auto v = validate(r); !v) return v;
    auto [slot, inserted] = trie_.insert(r.prefix, {});
    (void)inserted;
    records_.clear();  // insert() dropped the trie's packed index; the records go with it
    for (const Rate& e : *slot)
        if (same_key(e, r))
            return fail(ErrorCode::duplicate,
                        "duplicate rate for prefix " + r.prefix + " (same period and effective date)",
                        "prefix");
    slot->push_back(std::move(r));
    ++count_;
    return {};
}

Result<void> RateTable::upsert(Rate r) {
    if (auto v = validate(r); !v) return v;
    auto [slot, inserted] = trie_.insert(r.prefix, {});
    (void)inserted;
    records_.clear();  // insert() dropped the trie's packed index; the records go with it
    for (Rate& e : *slot)
        if (same_key(e, r)) {
            e = std::move(r);
            return {};
        }
    slot->push_back(std::move(r));
    ++count_;
    return {};
}

// The in-force version with the latest effective_from for the given period.
static const Rate* pick(const std::vector<Rate>& v, Timestamp at, PeriodKind period) {
    const Rate* best = nullptr;
    for (const Rate& r : v)
        if (r.period == period && r.in_force(at) &&
            (best == nullptr || r.effective_from > best->effective_from))
            best = &r;
    return best;
}

int RateTable::match(std::string_view number, Timestamp at, PeriodKind period,
                     const Rate* out[2]) const {
    int n = 0;
    trie_.longest_match_if(number, [&](const std::vector<Rate>& v) {
        n = 0;
        if (const Rate* b = pick(v, at, PeriodKind::any)) out[n++] = b;
        if (period != PeriodKind::any)
            if (const Rate* p = pick(v, at, period)) out[n++] = p;
        return n > 0;
    });
    return n;
}

void RateTable::compact() {
    trie_.freeze();
    records_.clear();
    const auto n = static_cast<std::uint32_t>(trie_.size());
    records_.resize(n);
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::vector<Rate>& v = trie_.value_at(i);
        // add()/upsert() never leave an empty vector, but keep a never-in-force head if so.
        if (v.empty()) {
            records_[i].effective_from = kTimeMax;
            records_[i].effective_until = kTimeMax;
            continue;
        }
        records_[i] = RateRecord::of(v[0]);
        std::uint32_t* link = &records_[i].next;
        for (std::size_t k = 1; k < v.size(); ++k) {
            *link = static_cast<std::uint32_t>(records_.size());
            records_.push_back(RateRecord::of(v[k]));
            link = &records_.back().next;  // taken after push_back, which may move records_
        }
    }
}

// pick() over a record chain: same rule (period matches, in force, latest effective_from).
static const RateRecord* pick_record(const std::vector<RateRecord>& recs, std::uint32_t i,
                                     Timestamp at, PeriodKind period) {
    const RateRecord* best = nullptr;
    for (; i != RateRecord::kNoNext; i = recs[i].next) {
        const RateRecord& r = recs[i];
        if (r.period == period && r.in_force(at) &&
            (best == nullptr || r.effective_from > best->effective_from))
            best = &r;
    }
    return best;
}

int RateTable::match_records(std::string_view number, Timestamp at, PeriodKind period,
                             const RateRecord* out[2]) const {
    if (!trie_.frozen()) return -1;
    int n = 0;
    trie_.longest_match_index_if(number, [&](std::uint32_t i) {
        n = 0;
        if (const RateRecord* b = pick_record(records_, i, at, PeriodKind::any)) out[n++] = b;
        if (period != PeriodKind::any)
            if (const RateRecord* p = pick_record(records_, i, at, period)) out[n++] = p;
        return n > 0;
    });
    return n;
}

const Rate* RateTable::best(std::string_view number, Timestamp at, PeriodKind period) const {
    const Rate* c[2];
    const int n = match(number, at, period, c);
    if (n == 0) return nullptr;
    if (n == 2 && c[1]->price < c[0]->price) return c[1];
    return c[0];
}

}  // namespace billing

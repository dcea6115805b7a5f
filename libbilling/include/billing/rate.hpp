// Rates, rate tables (rate groups) and the price of one call under one rate.
//
//   billing::RateTable t("retail");
//   billing::Rate r;
//   r.prefix = "4420"; r.area = "UK London"; r.type = billing::RateType::national;
//   r.price = *billing::Money::parse("0.0100");          // per minute
//   r.first_period_s = 30; r.first_price = *billing::Money::parse("0.0200");
//   r.increment_s = 6;
//   if (auto ok = t.add(r); !ok) { /* ok.error(): duplicate or invalid */ }
//   auto p = billing::price_call(r, 47, billing::Currency{});  // Result<Priced>
//   // p->billed_s == 30 + 18 = 48; p->amount == 0.0200*30/60 + 0.0100*18/60 = 0.0130
//
// Pricing rule (VOS3000 "first time rate/duration" + "billing rate/cycle", per minute):
//   seconds == 0             -> billed 0 s, amount 0 (no connection fee: nothing connected)
//   first_period_s > 0       -> the first period is billed whole (even if the call is
//                               shorter) at first_price; the rest, if any, is rounded up to
//                               whole increments at price
//   first_period_s == 0      -> the whole call is rounded up to whole increments at price
//   amount = round(connection_fee + (first_price*first_s + price*rest_s) / 60)
// The division and the rounding happen once, on the exact 128-bit total, with the
// currency's precision and rule. Rates are kept exactly as given (up to 6 decimals).
//
// A rate is in force at t when effective_from <= t < effective_until. When several versions
// of the same prefix and period are in force, the one with the latest effective_from wins.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "billing/money.hpp"
#include "billing/result.hpp"
#include "billing/time.hpp"
#include "route/prefix/digit_trie.hpp"

namespace billing {

// VOS3000 rate types, in authorization precedence order (Net < Local < National <
// International).
enum class RateType : std::uint8_t { net, local, national, international };
std::string_view to_string(RateType t);
Result<RateType> parse_rate_type(std::string_view s);  // case-insensitive names, "" = international
// VOS3000 mapping-gateway "authorization type" check: a call may use a rate whose type is
// at most the gateway's authorization (an International-authorized gateway may call all).
constexpr bool authorized(RateType rate, RateType authorization) { return rate <= authorization; }

struct Rate {
    std::string prefix;                 // digits; VOS3000 "rate prefix"
    std::string area;                   // VOS3000 "area name"
    RateType type = RateType::international;
    Money price;                        // per minute; VOS3000 "billing rate"
    std::int32_t first_period_s = 0;    // VOS3000 "first time duration"; 0 = none
    Money first_price;                  // per minute during the first period; "first time rate"
    std::int32_t increment_s = 60;      // VOS3000 "billing cycle", >= 1
    Money connection_fee;               // charged once per connected call
    Timestamp effective_from = kTimeMin;
    Timestamp effective_until = kTimeMax;  // exclusive
    PeriodKind period = PeriodKind::any;   // time-based variant; any = all times

    bool in_force(Timestamp t) const { return effective_from <= t && t < effective_until; }
};

// Checks one rate: digits-only prefix, non-negative prices, increment >= 1, first period
// >= 0, from < until. The error's field names the member.
Result<void> validate(const Rate& r);

struct Priced {
    std::int64_t billed_s = 0;  // seconds paid for (first period + whole increments)
    Money amount;               // rounded with the currency rule
};

// Price of a call lasting `seconds` (>= 0) under rate r; see the rule above.
Result<Priced> price_call(const Rate& r, std::int64_t seconds, const Currency& c);

// Everything rating needs from one Rate, in one 64-byte cache line: the hot fields of Rate
// without its strings, so that selecting and pricing a rate touches one line instead of a
// vector header plus a ~150-byte Rate (the prefix lookups of a large deck are memory-bound).
// `rate` points back at the Rate (for AppliedRate); `next` chains the other versions and
// variants of the same prefix (RateTable::compact).
struct alignas(64) RateRecord {
    const Rate* rate = nullptr;
    Money price;
    Money first_price;
    Money connection_fee;
    Timestamp effective_from = kTimeMin;
    Timestamp effective_until = kTimeMax;
    std::int32_t first_period_s = 0;
    std::int32_t increment_s = 60;
    std::uint32_t next = kNoNext;
    PeriodKind period = PeriodKind::any;

    static constexpr std::uint32_t kNoNext = 0xffffffffu;
    static RateRecord of(const Rate& r) {
        RateRecord x;
        x.rate = &r;
        x.price = r.price;
        x.first_price = r.first_price;
        x.connection_fee = r.connection_fee;
        x.effective_from = r.effective_from;
        x.effective_until = r.effective_until;
        x.first_period_s = r.first_period_s;
        x.increment_s = r.increment_s;
        x.period = r.period;
        return x;
    }
    bool in_force(Timestamp t) const { return effective_from <= t && t < effective_until; }
};
static_assert(sizeof(RateRecord) == 64);

// price_call on the record's copy of the rate's fields; identical to price_call(*r.rate).
Result<Priced> price_call(const RateRecord& r, std::int64_t seconds, const Currency& c);

// A rate group (VOS3000 "rate group"/"billing rate"): rates by prefix, with versions by
// effective date and time-based variants.
class RateTable {
public:
    explicit RateTable(std::string name = {}) : name_(std::move(name)) {}

    const std::string& name() const { return name_; }

    // Adds a rate. ErrorCode::duplicate when a rate with the same prefix, period and
    // effective_from exists; validation errors otherwise.
    Result<void> add(Rate r);
    // Adds or replaces the rate with the same prefix, period and effective_from.
    Result<void> upsert(Rate r);

    // The rates stored under exactly this prefix (nullptr if none).
    const std::vector<Rate>* rates_for(std::string_view prefix) const { return trie_.find(prefix); }

    // Candidates for `number` at time `at` in period `period`: the longest prefix of number
    // that has a rate in force; from it, the in-force base rate (period any) and the
    // in-force variant for `period`, if any. Returns how many were written to out (0..2).
    int match(std::string_view number, Timestamp at, PeriodKind period, const Rate* out[2]) const;
    // The same selection on the flat records built by compact(); only valid while
    // compacted() (returns -1 otherwise). out[i]->rate is what match() returns as out[i].
    int match_records(std::string_view number, Timestamp at, PeriodKind period,
                      const RateRecord* out[2]) const;

    // The rate that applies at `at` for `number` ignoring time-based variants' cheapness:
    // the cheapest per-minute of match()'s candidates (used by autocreate and alarms).
    const Rate* best(std::string_view number, Timestamp at, PeriodKind period = PeriodKind::any) const;

    std::size_t size() const { return count_; }
    std::size_t prefix_count() const { return trie_.size(); }
    void reserve(std::size_t prefixes) { trie_.reserve(prefixes); }
    // Builds the packed prefix index (route::prefix::DigitTrie::freeze) and the flat rate
    // records (RateRecord) for faster lookups of large tables; the next add()/upsert()
    // drops both. Results are identical either way.
    void compact();
    bool compacted() const { return trie_.frozen(); }  // records_ are built with the freeze
    void clear() {
        trie_.clear();
        records_.clear();
        count_ = 0;
    }

    // f(const Rate&) for every rate, in prefix order.
    template <class F>
    void for_each(F&& f) const {
        trie_.for_each([&](std::string_view, const std::vector<Rate>& v) {
            for (const Rate& r : v) f(r);
        });
    }

private:
    std::string name_;
    route::prefix::DigitTrie<std::vector<Rate>> trie_;
    // Built by compact(): records_[i] is the first rate of the trie's value i (so the trie's
    // value index finds it with no extra indirection); further rates of that prefix follow
    // from index trie_.size() on, chained by RateRecord::next.
    std::vector<RateRecord> records_;
    std::size_t count_ = 0;
};

}  // namespace billing

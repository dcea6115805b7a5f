#include "billing/commitments.hpp"

#include <algorithm>
#include <cstdio>

#include "billing/csv.hpp"
#include "billing/tz.hpp"

namespace billing {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

// year * 12 + month - 1 of the local date at the UTC second `s` (the zone's offset at s).
std::int64_t local_month_key(std::int64_t s, const WorkCalendar& cal) {
    const std::int64_t offset_s =
        cal.zone ? cal.zone->offset_s_at(s * 1000) : static_cast<std::int64_t>(cal.utc_offset_minutes) * 60;
    int y = 0;
    unsigned m = 0, d = 0;
    civil_from_days(floor_div(s + offset_s, 86400), y, m, d);
    return static_cast<std::int64_t>(y) * 12 + m - 1;
}

// The first UTC second whose local month key is >= key. Offsets are within +-26 h and whole
// seconds, so the boundary lies within two days of the local midnight read as UTC; a binary
// search finds it whatever the zone did around it (DST changes at midnight included) and
// agrees with volume_month() by construction.
std::int64_t first_second_of(std::int64_t key, const WorkCalendar& cal) {
    const int y = static_cast<int>(floor_div(key, 12));
    const unsigned m = static_cast<unsigned>(key - static_cast<std::int64_t>(y) * 12 + 1);
    const std::int64_t midnight = days_from_civil(y, m, 1) * 86400;
    std::int64_t lo = midnight - 2 * 86400, hi = midnight + 2 * 86400;  // pred(lo) false, pred(hi) true
    while (hi - lo > 1) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        (local_month_key(mid, cal) >= key ? hi : lo) = mid;
    }
    return hi;
}

// Seconds as minutes with 2 decimals, truncated (display only, as the other reports).
std::string minutes_text(std::int64_t s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60 * 100 / 60));
    return buf;
}

const std::vector<std::string>& names() {
    static const std::vector<std::string> n = {"account", "prefix", "discount_rate", "contracted_min", "actual_min",
                                               "shortfall_min", "met", "charge", "discount"};
    return n;
}

std::vector<std::string> cells(const CommitmentResult& r, int dp, bool table) {
    const Commitment& c = r.commitment;
    return {c.account, table && c.prefix.empty() ? "*" : c.prefix, format_ppm_percent(c.discount_ppm),
            minutes_text(r.contracted_s()), minutes_text(r.actual_s), minutes_text(r.shortfall_s),
            r.met ? "yes" : "no", r.charge.to_string(dp), r.discount.to_string(dp)};
}

}  // namespace

Result<void> validate(const Commitment& c) {
    if (c.account.empty()) return fail(ErrorCode::invalid_argument, "commitment without an account", "account");
    if (c.prefix.size() > 64 ||
        !std::all_of(c.prefix.begin(), c.prefix.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        return fail(ErrorCode::invalid_argument,
                    "commitment prefix must be 0 to 64 digits (\"\" = every destination), not '" + c.prefix + "'",
                    "prefix");
    if (c.minutes < 1 || c.minutes > 1000000000)
        return fail(ErrorCode::invalid_argument, "commitment minutes must be 1 to 10^9 per month", "minutes");
    if (c.discount_ppm < 0 || c.discount_ppm > 1000000)
        return fail(ErrorCode::invalid_argument, "commitment discount must be 0% to 100%", "discount");
    return {};
}

const Commitment* commitment_for(std::span<const Commitment> all, std::string_view account, std::string_view number) {
    const Commitment* best = nullptr;
    for (const Commitment& c : all)
        if (c.account == account && number.substr(0, c.prefix.size()) == c.prefix &&
            (best == nullptr || c.prefix.size() > best->prefix.size()))
            best = &c;
    return best;
}

Result<CommitmentResult> evaluate_commitment(const Commitment& c, std::int64_t actual_s, Money charge,
                                             const Currency& currency) {
    if (auto ok = validate(c); !ok) return fail(ok.error());
    if (actual_s < 0) return fail(ErrorCode::invalid_argument, "negative billed seconds", "actual");
    CommitmentResult r;
    r.commitment = c;
    r.actual_s = actual_s;
    r.charge = charge;
    const std::int64_t contracted = c.minutes * 60;  // validate() keeps it far from overflow
    r.met = actual_s >= contracted;
    r.shortfall_s = r.met ? 0 : contracted - actual_s;
    if (r.met && charge.micros() > 0 && c.discount_ppm > 0) {
        // One rounding, at the currency precision with its rule: the agent commission's rule.
        auto d = mul_div(charge, c.discount_ppm, 1000000, currency.precision, currency.rounding);
        if (!d) return fail(d.error());
        r.discount = *d;
    }
    return r;
}

Result<std::pair<Timestamp, Timestamp>> month_range(std::string_view month, const WorkCalendar& cal) {
    auto bad = [&]() {
        return fail(ErrorCode::invalid_argument, "month must be YYYY-MM, not '" + std::string(month) + "'", "month");
    };
    if (month.size() != 7 || month[4] != '-') return bad();
    int y = 0, m = 0;
    for (std::size_t i = 0; i < 7; ++i) {
        if (i == 4) continue;
        if (month[i] < '0' || month[i] > '9') return bad();
        (i < 4 ? y : m) = (i < 4 ? y : m) * 10 + (month[i] - '0');
    }
    if (y < 1 || m < 1 || m > 12) return bad();
    const std::int64_t key = static_cast<std::int64_t>(y) * 12 + m - 1;
    return std::pair<Timestamp, Timestamp>{first_second_of(key, cal) * 1000, first_second_of(key + 1, cal) * 1000};
}

std::string format_table(const CommitmentReport& r) {
    std::vector<std::vector<std::string>> rows = {names()};
    for (const CommitmentResult& x : r.rows) rows.push_back(cells(x, r.decimals, true));
    std::vector<std::size_t> w(names().size(), 0);
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) w[i] = std::max(w[i], row[i].size());
    std::string s;
    for (std::size_t k = 0; k < rows.size(); ++k) {
        for (std::size_t i = 0; i < w.size(); ++i) {
            const std::string pad(w[i] - rows[k][i].size(), ' ');
            if (i) s += "  ";
            s += i >= 2 && i != 6 ? pad + rows[k][i] : rows[k][i] + pad;  // figures right-aligned
        }
        while (!s.empty() && s.back() == ' ') s.pop_back();
        s += '\n';
        if (k == 0) {
            std::size_t total = 0;
            for (std::size_t x : w) total += x + 2;
            s += std::string(total - 2, '-') + '\n';
        }
    }
    return s;
}

std::string format_csv(const CommitmentReport& r) {
    std::string s;
    auto line = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size(); ++i) s += (i ? "," : "") + csv_escape(row[i]);
        s += '\n';
    };
    line(names());
    for (const CommitmentResult& x : r.rows) line(cells(x, r.decimals, false));
    return s;
}

std::string format_json(const CommitmentReport& r) {
    std::string s = "{\"report\":\"commitments\",\"month\":\"" + json_escape(r.month) + "\",\"rows\":[";
    for (std::size_t k = 0; k < r.rows.size(); ++k) {
        const CommitmentResult& x = r.rows[k];
        const auto c = cells(x, r.decimals, false);
        s += k ? ",{" : "{";
        for (std::size_t i = 0; i < c.size(); ++i) {
            s += (i ? ",\"" : "\"") + names()[i] + "\":";
            s += i == 6 ? std::string(x.met ? "true" : "false") : "\"" + json_escape(c[i]) + "\"";
        }
        s += ",\"contracted_s\":" + std::to_string(x.contracted_s()) + ",\"actual_s\":" + std::to_string(x.actual_s) +
             ",\"shortfall_s\":" + std::to_string(x.shortfall_s) + "}";
    }
    return s + "]}\n";
}

}  // namespace billing

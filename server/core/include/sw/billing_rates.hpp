// sw::BillingRates — the switch's view of billing for routing: vendor rates for the LCR
// guards and cost order (route::lcr::RateLookup), and the customer's rate for a number.
//
//   sw::BillingRates rates(book, {.currency = c});       // book: billing::Book, outlives it
//   std::uint32_t key = rates.key_for_vendor("9001");     // GatewaySpec::rate_key
//   rates.set_time(now_ms);                               // rates in force at this instant
//   router.route(rq, rates, now, buf);                    // vendor_rate() is called there
//   auto q = rates.customer_rate("1001", "442071234567", "15551230000");
//
// Vendor rate: the cheapest of the vendor account's rate group and account-private rates
// (billing::Rater's vendor rule) for the number as sent. effective_per_minute is what a
// reference call of RatingConfig-independent length `reference_call_s` costs, per minute:
// with 60/60 increments a 90 s call pays 120 s, so its effective rate is 4/3 of the nominal
// one, while a 1/1 deck's stays nominal; that is the comparable figure for the cost order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "billing/account.hpp"
#include "billing/rating.hpp"
#include "route/lcr/router.hpp"

namespace sw {

struct BillingRatesConfig {
    billing::Currency currency;
    std::int64_t reference_call_s = 90;
};

struct CustomerQuote {
    route::lcr::Micros per_minute = 0;
    billing::RateType type = billing::RateType::international;
    std::string prefix;  // the matched customer rate prefix (a destination key)
    std::string area;
};

class BillingRates final : public route::lcr::RateLookup {
public:
    BillingRates(const billing::Book& book, BillingRatesConfig cfg = {});

    // One key per vendor account (stable for this object's life).
    std::uint32_t key_for_vendor(std::string_view account);
    void set_time(billing::Timestamp now_ms) noexcept { now_ms_ = now_ms; }
    // The currency whose rounding prices the reference call (a settings reload).
    void set_currency(billing::Currency cur) { cfg_.currency = std::move(cur); }

    std::optional<route::lcr::RateQuote> vendor_rate(std::uint32_t rate_key,
                                                     std::string_view number) const override;
    // The customer's applicable rate (group, account-private, caller's phone-private: the
    // cheapest, as billing::Rater picks it); nullopt when the account or a rate is missing.
    std::optional<CustomerQuote> customer_rate(std::string_view account, std::string_view number,
                                               std::string_view caller) const;

private:
    const billing::Book& book_;
    BillingRatesConfig cfg_;
    billing::Timestamp now_ms_ = 0;
    std::vector<std::string> vendors_;  // rate_key - 1 -> vendor account id (0 = none)
};

}  // namespace sw

// Rate decks: CSV import with a column mapping, export, auto-created customer rates and
// the negative-margin alarm list.
//
//   billing::DeckFormat fmt;                           // header line, ',' delimiter
//   auto m = billing::parse_mapping("prefix=Code,area=Destination,price=Rate", fmt);
//   billing::DeckResult d = billing::parse_rate_deck(csv_text, fmt);
//   if (!d.errors.empty()) { for (auto& e : d.errors) std::cerr << e.describe() << '\n'; }
//   else { /* d.rates: every line valid, no duplicates: import all of them */ }
//   std::string out = billing::format_rate_deck(d.rates);   // re-importable CSV
//
//   billing::AutocreateOptions o;  o.margin_ppm = 150000;   // 15 % margin
//   const billing::RateTable* vendors[] = {&vendor_a, &vendor_b};
//   auto customer = billing::autocreate_rates(vendors, o);  // Result<std::vector<Rate>>
//
// Import is all-or-nothing: parse_rate_deck() returns every error it finds (up to
// max_errors), each naming the 1-based line and the field; a caller imports the rates only
// when there are none. Duplicates are two lines with the same prefix, period and
// effective_from (the error names both lines).
//
// Columns (mapping keys; the default mapping matches these header names, plus the aliases
// code/dial_code -> prefix, destination/name -> area, rate -> price, effective_date ->
// effective_from): prefix (required), price (required), area, type, first_period,
// first_price, increment, connection_fee, effective_from, effective_until, period.
// Absent columns take the DeckFormat defaults. Empty first_price = price.
//
// Auto-create (VOS3000 manual §2.16.1): for every prefix of every vendor deck, the vendor
// rate that applies (longest match, in force at `at`) is taken from each vendor and the
// cheapest per-minute price wins (ties: the earlier vendor). Customer price =
// vendor / (1 - margin) (margin mode) or vendor * (1 + markup) (markup mode), ROUNDED UP
// to the currency precision, for price, first_price and connection_fee alike.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "billing/money.hpp"
#include "billing/rate.hpp"
#include "billing/result.hpp"

namespace billing {

enum class DeckField : std::uint8_t {
    prefix, area, type, price, first_period, first_price, increment, connection_fee,
    effective_from, effective_until, period, count_
};
std::string_view to_string(DeckField f);

struct DeckFormat {
    char delimiter = ',';
    bool header = true;             // the first line after skip_lines names the columns
    std::size_t skip_lines = 0;     // lines before the header/data (VOS3000 "Begin Line" - 1)
    bool decimal_comma = false;     // "0,0125" (use with delimiter ';')
    // Mapping: a column name (matched case-insensitively against the header) or a 1-based
    // column number ("#3" or "3") per field; empty = default name / absent.
    std::string columns[static_cast<int>(DeckField::count_)];
    std::int32_t default_first_period = 0;
    std::int32_t default_increment = 60;
    RateType default_type = RateType::international;
    std::size_t max_errors = 100;
};

// Parses "prefix=Code,price=Rate,increment=#5" into fmt.columns.
Result<void> parse_mapping(std::string_view spec, DeckFormat& fmt);

struct DeckResult {
    std::vector<Rate> rates;
    std::vector<Error> errors;      // empty = success
    std::size_t error_count = 0;    // including those beyond max_errors
    std::size_t data_lines = 0;
    bool ok() const { return error_count == 0; }
};

DeckResult parse_rate_deck(std::string_view text, const DeckFormat& fmt);

// CSV with the header "prefix,area,type,price,first_period,first_price,increment,
// connection_fee,effective_from,effective_until,period"; unbounded dates are empty.
std::string format_rate_deck(std::span<const Rate> rates);
std::string format_rate_deck(const RateTable& table);

struct AutocreateOptions {
    std::int64_t margin_ppm = 0;  // margin mode: 0 <= margin < 1,000,000
    bool markup = false;          // true: margin_ppm is a markup (>= 0)
    Currency currency;            // precision used; the rounding is always up
    Timestamp at = 0;             // which vendor rates are in force
    Timestamp effective_from = kTimeMin;  // given to the created rates
};

Result<std::vector<Rate>> autocreate_rates(std::span<const RateTable* const> vendors,
                                           const AutocreateOptions& o);

// Prefixes where the customer per-minute price is below a vendor's (VOS3000 "lowest
// profit rate" check, alarm form). Every prefix of the customer table and of each vendor
// table is checked with longest-match on both sides at time `at`.
struct MarginAlarm {
    std::string prefix;
    std::string area;
    std::string vendor;   // vendor rate table name
    Money customer_price;
    Money vendor_price;
};
std::vector<MarginAlarm> negative_margin_alarms(const RateTable& customer,
                                                std::span<const RateTable* const> vendors,
                                                Timestamp at);

}  // namespace billing

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
// max_errors), each naming the 1-based line and the column as the file writes it in its
// header ("#3" without a header); a caller imports the rates only when there are none.
// Nothing is ever guessed silently:
//   * a line with more fields than the header (a decimal comma in a ','-delimited deck:
//     "44,UK,0,0123,60") or fewer is an error; empty fields after the last column are not;
//   * a zero price or first price is an error unless allow_zero_price;
//   * text must be UTF-8 (each bad line is named with its byte) unless `encoding` declares
//     latin1 or cp1252, which are converted;
//   * a deck without data lines is an error ("no rates");
//   * a missing required column suggests the delimiter the header seems to use
//     (DeckResult::hints).
// Duplicates are two lines with the same prefix, period and effective_from (the error names
// both lines).
//
// Columns (mapping keys; the default mapping matches these header names, plus the aliases
// code/dial_code/areaCode -> prefix, destination/name/areaName -> area, rate/newPrice ->
// price, effective_date/effectiveDate -> effective_from, billing/billing_increment/interval
// -> increment): prefix (required), price (required), area, type, first_period,
// first_price, increment, connection_fee, effective_from, effective_until, period.
// Absent columns take the DeckFormat defaults. Empty first_price = price. An increment
// written "first/increment" ("60/60", "30/6", "1/1", the common billing column) sets the
// first period too. Dates follow `date_format` (VOS3000 dateFormat, e.g. "dd/MM/yyyy").
//
// Templates (VOS3000 feerate_template.conf): a DeckTemplate is a named DeckFormat that an
// operator stores once per vendor layout; format_mapping() writes its columns back as the
// "field=column,..." text parse_mapping() reads.
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

#include "billing/csv.hpp"
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
    TextEncoding encoding = TextEncoding::utf8;  // of the text; converted before parsing
    std::string date_format;        // of effective_from/until (parse_time_format); "" = ISO
    bool allow_zero_price = false;  // price or first price 0 (free calls) must be declared
};

// Parses "prefix=Code,price=Rate,increment=#5" into fmt.columns.
Result<void> parse_mapping(std::string_view spec, DeckFormat& fmt);
// The mapped columns as parse_mapping() reads them ("" when none is mapped).
std::string format_mapping(const DeckFormat& fmt);

// What a caller can suggest to the operator after errors.
struct DeckHints {
    char delimiter = 0;         // the header looks delimited by this instead
    bool encoding = false;      // some text was not UTF-8
    bool zero_price = false;    // some price was 0
};

struct DeckResult {
    std::vector<Rate> rates;
    std::vector<Error> errors;      // empty = success
    std::size_t error_count = 0;    // including those beyond max_errors
    std::size_t data_lines = 0;
    DeckHints hints;
    bool ok() const { return error_count == 0; }
};

// A named import layout (VOS3000 feerate_template.conf entry), stored by billing_sqlite.
struct DeckTemplate {
    std::string name;
    DeckFormat format;
    std::string memo;
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

// Minimal CSV reading/writing used by rate decks, CDR exports and reconciliation.
//
//   billing::LineReader lines(text);
//   std::string_view line;
//   std::vector<std::string> fields;
//   while (lines.next(line)) {
//       if (auto ok = billing::split_csv(line, ',', fields); !ok) {
//           /* ok.error().message; lines.line_no() is the 1-based line */
//       }
//   }
//   std::string out = billing::csv_escape("Acme, Inc.", ',');  // "\"Acme, Inc.\""
//
// Quoting follows RFC 4180 within one line ("" is an escaped quote); fields spanning lines
// are not supported (rate decks and CDR files never need them) and are reported as an
// unterminated quote. A UTF-8 byte-order mark at the start of the text is skipped; CRLF and
// LF line ends are both accepted. The reader does not allocate; views point into `text`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "billing/result.hpp"

namespace billing {

class LineReader {
public:
    explicit LineReader(std::string_view text);
    // Next line without its line end; false at end of text. Empty lines are returned too.
    bool next(std::string_view& line);
    std::size_t line_no() const { return line_no_; }  // of the line last returned

private:
    std::string_view text_;
    std::size_t pos_ = 0;
    std::size_t line_no_ = 0;
};

// Splits a line into fields (trimmed of surrounding spaces unless quoted). `out` is reused.
Result<void> split_csv(std::string_view line, char delimiter, std::vector<std::string>& out);

// Quotes a field when it holds the delimiter, a quote, CR or LF.
std::string csv_escape(std::string_view field, char delimiter = ',');

// Escapes a string for a JSON string literal (without the surrounding quotes).
std::string json_escape(std::string_view s);

// Exact integer parsing helpers (no locale, no floating point).
Result<long long> parse_int(std::string_view s);

}  // namespace billing

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
//
// Text encodings: everything billing stores or prints is UTF-8 (JSON reports must be valid
// UTF-8). Input in another encoding is converted once, before parsing, when the caller
// declares it; undeclared input is checked and refused at the first bad byte:
//
//   auto enc = billing::parse_encoding("latin1");             // Result<TextEncoding>
//   auto utf8 = billing::to_utf8(file_text, *enc);            // Result<std::string>
//   if (!utf8) { /* "line 3: invalid UTF-8 at byte 8 of the line (0xE7, file offset 40)" */ }
#pragma once

#include <cstddef>
#include <cstdint>
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

enum class TextEncoding : std::uint8_t { utf8, latin1, cp1252 };
std::string_view to_string(TextEncoding e);  // "utf-8", "latin1", "cp1252"
// "utf-8"/"utf8", "latin1"/"iso-8859-1"/"iso8859-1"/"latin-1", "cp1252"/"windows-1252"
// (case-insensitive).
Result<TextEncoding> parse_encoding(std::string_view name);

// The first byte of `text` that is not well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF) as an error with its line, its 1-based byte within the
// line and its 0-based offset in the text; ok when the whole text is valid.
Result<void> check_utf8(std::string_view text);
// Offset of the first byte of `s` that is not well-formed UTF-8, npos if there is none.
std::size_t find_invalid_utf8(std::string_view s);
// The error check_utf8() gives for the byte at `pos` of `text` (parse_error; line set).
Error byte_error(std::string_view text, std::size_t pos, std::string_view what);
// Converts to UTF-8. utf8: check_utf8() and a copy. latin1: every byte is its code point.
// cp1252: like latin1 except 0x80-0x9F (the euro sign, typographic quotes, ...); the five
// bytes cp1252 leaves undefined (0x81 0x8D 0x8F 0x90 0x9D) are errors like check_utf8()'s.
Result<std::string> to_utf8(std::string_view text, TextEncoding from);

// Exact integer parsing helpers (no locale, no floating point).
Result<long long> parse_int(std::string_view s);

}  // namespace billing

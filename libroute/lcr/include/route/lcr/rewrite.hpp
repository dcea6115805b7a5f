// route::lcr::RewriteRules — VOS3000 caller/callee rewrite rules ("pattern:replacement").
//
//   auto rules = route::lcr::RewriteRules::parse("0044*:44*,*:a*");   // Result-like
//   if (!rules) fail(rules.error);                 // "rule 2: ..." naming the bad rule
//   std::string out;
//   bool changed = rules->apply("00442071234567", out);  // out = "442071234567"
//
// Grammar (one rule; rules are separated by ',' and the FIRST rule whose pattern matches is
// applied, the rest are ignored):
//   rule        = pattern ":" replacement
//   pattern     = literal-digits-and-chars* ["*"]   -- a literal prefix, "*" = the rest
//   replacement = text with at most one "*" (the matched rest)
//   "-N"        = strip the first N characters (shorthand for a pattern of N '?')
//   '?' in a pattern matches any one character and is dropped from the output unless the
//   replacement names it; a pattern without '*' must match the whole number.
// Examples: "*:a*" adds prefix a; "0044*:44*" replaces 0044 by 44; "-2" strips two digits;
// "1234:5678" maps one exact number.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace route::lcr {

class RewriteRules {
public:
    struct Parsed;
    // nullopt + *error on a bad rule ("rule 2 '1*2*:x': more than one '*' in the pattern").
    static std::optional<RewriteRules> parse(std::string_view text, std::string* error);

    // Applies the first matching rule; returns false (out = number) when none matches.
    bool apply(std::string_view number, std::string& out) const;
    bool empty() const noexcept { return rules_.empty(); }
    const std::string& text() const noexcept { return text_; }

    struct Rule {
        std::string pattern_prefix;  // before '*' (may contain '?')
        bool wildcard = false;       // pattern ends with '*'
        std::string repl_before;     // replacement text before '*'
        std::string repl_after;      // after '*' ("" when no '*')
        bool repl_wildcard = false;
        std::uint32_t strip = 0;     // "-N" rule
    };

private:
    std::vector<Rule> rules_;
    std::string text_;
};

}  // namespace route::lcr

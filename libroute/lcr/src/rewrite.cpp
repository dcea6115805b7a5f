// VOS3000 rewrite rules ("pattern:replacement", "-N"); grammar in rewrite.hpp.
//
// Choices the header leaves open, fixed here:
//   - blanks (space, tab) around a rule are ignored; an empty rule ("a:b,,c:d", a trailing
//     ',') is an error, because a stray comma usually means a rule was lost in editing;
//   - a '?' in the replacement "names" the next '?' of the pattern: "0?1*:?*" turns
//     "051234" into "5234". A replacement may name at most as many '?' as the pattern has;
//   - "-N" matches numbers of at least N characters (N '?' then '*'), N is 1..999;
//   - control characters and blanks inside a rule, an empty pattern without '*', and a
//     '*' anywhere but at the end of the pattern are errors.
#include "route/lcr/rewrite.hpp"

#include <cstdint>

namespace route::lcr {
namespace {

constexpr std::uint32_t kMaxStrip = 999;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::size_t count(std::string_view s, char c) {
    std::size_t n = 0;
    for (char x : s) n += (x == c) ? 1 : 0;
    return n;
}

bool printable(std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) return false;
    }
    return true;
}

// "-N": nullopt with *why set when malformed.
std::optional<std::uint32_t> parse_strip(std::string_view digits, const char** why) {
    if (digits.empty() || digits.size() > 3) {
        *why = "strip count must be 1..999";
        return std::nullopt;
    }
    std::uint32_t n = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') {
            *why = "strip count must be decimal digits";
            return std::nullopt;
        }
        n = n * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (n == 0 || n > kMaxStrip) {
        *why = "strip count must be 1..999";
        return std::nullopt;
    }
    return n;
}

// One rule's text to a Rule; nullptr on success, else the reason.
const char* parse_rule(std::string_view text, RewriteRules::Rule& rule) {
    if (text.empty()) return "empty rule";
    if (!printable(text)) return "blank or control character inside the rule";
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        if (text.front() != '-') return "missing ':' (expected pattern:replacement or -N)";
        const char* why = nullptr;
        auto n = parse_strip(text.substr(1), &why);
        if (!n) return why;
        rule.strip = *n;
        return nullptr;
    }
    const std::string_view pattern = text.substr(0, colon);
    const std::string_view repl = text.substr(colon + 1);
    if (repl.find(':') != std::string_view::npos) return "more than one ':'";
    if (count(pattern, '*') > 1) return "more than one '*' in the pattern";
    if (count(repl, '*') > 1) return "more than one '*' in the replacement";
    const std::size_t star = pattern.find('*');
    if (star != std::string_view::npos && star + 1 != pattern.size())
        return "'*' must end the pattern";
    if (pattern.empty()) return "empty pattern";
    if (count(repl, '?') > count(pattern, '?'))
        return "the replacement names more '?' than the pattern has";

    rule.wildcard = star != std::string_view::npos;
    rule.pattern_prefix.assign(rule.wildcard ? pattern.substr(0, star) : pattern);
    const std::size_t rstar = repl.find('*');
    rule.repl_wildcard = rstar != std::string_view::npos;
    rule.repl_before.assign(rule.repl_wildcard ? repl.substr(0, rstar) : repl);
    if (rule.repl_wildcard) rule.repl_after.assign(repl.substr(rstar + 1));
    return nullptr;
}

bool matches(const RewriteRules::Rule& r, std::string_view number) {
    if (r.strip != 0) return number.size() >= r.strip;
    const std::string_view p = r.pattern_prefix;
    if (r.wildcard ? number.size() < p.size() : number.size() != p.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i)
        if (p[i] != '?' && p[i] != number[i]) return false;
    return true;
}

// Appends replacement text, each '?' taking the next character the pattern's '?' matched
// (*next_q walks the pattern across both halves of the replacement).
void append_named(std::string& out, std::string_view repl, const RewriteRules::Rule& r,
                  std::string_view number, std::size_t* next_q) {
    const std::string_view p = r.pattern_prefix;
    for (char c : repl) {
        if (c != '?') {
            out.push_back(c);
            continue;
        }
        while (*next_q < p.size() && p[*next_q] != '?') ++*next_q;
        // parse() guarantees enough '?' in the pattern; stay in bounds regardless.
        if (*next_q < p.size()) out.push_back(number[(*next_q)++]);
    }
}

void build(const RewriteRules::Rule& r, std::string_view number, std::string& out) {
    out.clear();
    if (r.strip != 0) {
        out.assign(number.substr(r.strip));
        return;
    }
    std::size_t next_q = 0;
    append_named(out, r.repl_before, r, number, &next_q);
    if (!r.repl_wildcard) return;
    if (r.wildcard) out.append(number.substr(r.pattern_prefix.size()));
    append_named(out, r.repl_after, r, number, &next_q);
}

}  // namespace

std::optional<RewriteRules> RewriteRules::parse(std::string_view text, std::string* error) {
    RewriteRules rules;
    rules.text_.assign(text);
    if (trim(text).empty()) return rules;  // no rules: apply() never changes a number
    std::size_t index = 0;
    for (;;) {
        const std::size_t comma = text.find(',');
        const std::string_view raw = text.substr(0, comma);
        const std::string_view item = trim(raw);
        ++index;
        Rule rule;
        if (const char* why = parse_rule(item, rule)) {
            if (error != nullptr)
                *error = "rule " + std::to_string(index) + " '" + std::string(item) + "': " + why;
            return std::nullopt;
        }
        rules.rules_.push_back(std::move(rule));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return rules;
}

bool RewriteRules::apply(std::string_view number, std::string& out) const {
    for (const Rule& r : rules_) {
        if (!matches(r, number)) continue;
        // number may view out's own bytes (apply(out, out)): build aside, then swap.
        const bool aliased = !out.empty() && number.data() >= out.data() &&
                             number.data() <= out.data() + out.size();
        if (aliased) {
            std::string tmp;
            build(r, number, tmp);
            out.swap(tmp);
        } else {
            build(r, number, out);
        }
        return true;
    }
    if (number.data() != out.data() || number.size() != out.size()) out.assign(number);
    return false;
}

}  // namespace route::lcr

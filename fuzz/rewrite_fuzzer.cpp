// Fuzz target: route::lcr::RewriteRules (VOS3000 "pattern:replacement" rules). The first
// line of the input is the rule text, every further line a number to rewrite. Checks: a
// rejected text names its rule ("rule N '...': why"); apply() is deterministic, leaves the
// number alone when it returns false, gives the same result in place (out aliasing the
// number), and never grows a number by more than the longest replacement; the text parses
// again to the same behaviour.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "route/lcr/rewrite.hpp"

namespace {

using route::lcr::RewriteRules;

std::size_t longest_replacement(std::string_view text) {
    std::size_t longest = 0, run = 0;
    for (char c : text) {
        run = c == ',' ? 0 : run + 1;
        if (run > longest) longest = run;
    }
    return longest;
}

void check_number(const RewriteRules& rules, const RewriteRules& again, std::string_view number) {
    std::string out = "x";
    const bool changed = rules.apply(number, out);
    if (!changed) FUZZ_CHECK(out == number);
    if (changed) FUZZ_CHECK(out.size() <= number.size() + longest_replacement(rules.text()));

    std::string second;
    FUZZ_CHECK(rules.apply(number, second) == changed);
    FUZZ_CHECK(second == out);

    std::string in_place(number);
    FUZZ_CHECK(rules.apply(in_place, in_place) == changed);
    FUZZ_CHECK(in_place == out);

    std::string reparsed;
    FUZZ_CHECK(again.apply(number, reparsed) == changed);
    FUZZ_CHECK(reparsed == out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const std::size_t nl = in.find('\n');
    const std::string_view text = in.substr(0, nl);
    std::string error;
    auto rules = RewriteRules::parse(text, &error);
    if (!rules) {
        FUZZ_CHECK(error.rfind("rule ", 0) == 0);
        return 0;
    }
    FUZZ_CHECK(rules->text() == text);
    auto again = RewriteRules::parse(rules->text(), nullptr);
    FUZZ_CHECK(again.has_value());
    if (nl == std::string_view::npos) {
        check_number(*rules, *again, text);  // no numbers: rewrite the rule text itself
        return 0;
    }
    std::string_view rest = in.substr(nl + 1);
    for (int n = 0; n < 64; ++n) {
        const std::size_t end = rest.find('\n');
        check_number(*rules, *again, rest.substr(0, end));
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + 1);
    }
    return 0;
}

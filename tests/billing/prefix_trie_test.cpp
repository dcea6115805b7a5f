// Tests for libroute/prefix/include/route/prefix/digit_trie.hpp.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>

#include "route/prefix/digit_trie.hpp"

using route::prefix::DigitTrie;

TEST_CASE("prefix: longest match wins (VOS3000 '0' vs '01')", "[route][prefix]") {
    DigitTrie<int> t;
    CHECK(t.insert("0", 1).second);
    CHECK(t.insert("01", 2).second);
    CHECK(t.insert("0044", 3).second);
    CHECK_FALSE(t.insert("01", 9).second);  // existing key is kept
    CHECK(*t.find("01") == 2);
    auto m = t.longest_match("01117");
    REQUIRE(m);
    CHECK(*m.value == 2);
    CHECK(m.length == 2);
    CHECK(*t.longest_match("0044207").value == 3);
    CHECK(*t.longest_match("0033").value == 1);
    CHECK_FALSE(t.longest_match("1234"));
    CHECK_FALSE(t.longest_match(""));
    CHECK(t.insert("4x", 5).first == nullptr);  // non-digit key refused
    CHECK(t.find("0x") == nullptr);
}

TEST_CASE("prefix: empty key is a default route; non-digits stop the walk", "[route][prefix]") {
    DigitTrie<int> t;
    t.insert("", 0);
    t.insert("44", 44);
    CHECK(*t.longest_match("+44").value == 0);
    CHECK(*t.longest_match("44x1").value == 44);
    CHECK(t.longest_match("99").length == 0);
}

TEST_CASE("prefix: longest_match_if falls back to shorter keys", "[route][prefix]") {
    DigitTrie<int> t;
    t.insert("4", 4);
    t.insert("44", 44);
    t.insert("447", 447);
    if (GENERATE(false, true)) t.freeze();
    auto m = t.longest_match_if("44700", [](int v) { return v != 447; });
    REQUIRE(m);
    CHECK(*m.value == 44);
    CHECK(m.length == 2);
}

TEST_CASE("prefix: agrees with a brute-force map on random keys", "[route][prefix]") {
    std::mt19937_64 rng(42);
    DigitTrie<int> t;
    std::map<std::string, int> ref;
    for (int i = 0; i < 3000; ++i) {
        std::string k;
        const int len = 1 + static_cast<int>(rng() % 7);
        for (int j = 0; j < len; ++j) k += static_cast<char>('0' + rng() % 10);
        if (ref.emplace(k, i).second) REQUIRE(t.insert(k, i).second);
    }
    CHECK(t.size() == ref.size());
    const bool packed = GENERATE(false, true);
    if (packed) t.freeze();
    CHECK(t.frozen() == packed);
    for (int i = 0; i < 20000; ++i) {
        std::string n;
        for (int j = 0; j < 10; ++j) n += static_cast<char>('0' + rng() % 10);
        int expect = -1;
        for (std::size_t l = n.size(); l > 0 && expect < 0; --l) {
            auto it = ref.find(n.substr(0, l));
            if (it != ref.end()) expect = it->second;
        }
        auto m = t.longest_match(n);
        REQUIRE((m ? *m.value : -1) == expect);
    }
    std::string prev;
    std::size_t count = 0;
    t.for_each([&](std::string_view k, int v) {
        CHECK(ref.at(std::string(k)) == v);
        if (count++) CHECK(prev < k);
        prev = std::string(k);
    });
    CHECK(count == ref.size());
}

TEST_CASE("prefix: insert after freeze drops the packed copy", "[route][prefix]") {
    DigitTrie<int> t;
    t.insert("1", 1);
    t.freeze();
    CHECK(t.frozen());
    CHECK(*t.longest_match("123").value == 1);
    t.insert("12", 12);
    CHECK_FALSE(t.frozen());
    CHECK(*t.longest_match("123").value == 12);
    t.freeze();
    CHECK(*t.longest_match("123").value == 12);
    CHECK(*t.longest_match("1").value == 1);
    CHECK_FALSE(t.longest_match("2"));
    t.clear();
    CHECK_FALSE(t.frozen());
    CHECK_FALSE(t.longest_match("123"));
}

TEST_CASE("prefix: longest_match_index_if gives value indices in insertion order", "[route][prefix]") {
    DigitTrie<int> t;
    t.insert("44", 440);    // index 0
    t.insert("4420", 442);  // index 1
    t.insert("", -1);       // index 2
    if (GENERATE(false, true)) t.freeze();
    CHECK(t.value_at(1) == 442);
    auto m = t.longest_match_index_if("442071", [](std::uint32_t) { return true; });
    CHECK(m.index == 1);
    CHECK(m.length == 4);
    auto shorter = t.longest_match_index_if("442071", [](std::uint32_t i) { return i != 1; });
    CHECK(shorter.index == 0);
    CHECK(shorter.length == 2);
    auto none = t.longest_match_index_if("4", [](std::uint32_t i) { return i != 2; });
    CHECK(none.index == DigitTrie<int>::kNoIndex);
}

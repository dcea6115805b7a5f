// route::prefix::DigitTrie<T> — a header-only trie over decimal digit strings.
//
//   route::prefix::DigitTrie<int> t;
//   t.insert("44", 1);
//   t.insert("4420", 2);
//   auto m = t.longest_match("442071234567");  // m.value -> 2, m.length == 4
//   auto n = t.longest_match("33123");         // n.value == nullptr (no match)
//
// Keys are strings of '0'..'9'; the empty key is allowed and matches every number (a
// default route). insert() refuses keys holding any other character. Lookups stop at the
// first non-digit of the number, so "+44 20" matches nothing ('+' stops the walk at the
// root: only an empty-key value can match it).
//
// Lifetime: pointers returned by find()/longest_match() stay valid until the next insert()
// or clear() (values live in a vector that may reallocate). There is no erase. Not
// thread-safe for writers; concurrent const lookups are fine.
//
// Cost: one 44-byte node per distinct key digit; a lookup touches at most one node per
// digit of the number, no allocation. freeze() additionally builds a packed copy (12-byte
// nodes, children adjacent, child blocks placed depth-first, found by popcount over a 10-bit mask)
// that lookups use until the next insert()/clear(): about a quarter of the memory, so large
// decks stay in cache. Call it after loading a deck; results are identical either way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace route::prefix {

template <class T>
class DigitTrie {
public:
    struct Match {
        const T* value = nullptr;  // nullptr: no key is a prefix of the number
        std::size_t length = 0;    // length of the matching key
        explicit operator bool() const { return value != nullptr; }
    };

    DigitTrie() { nodes_.emplace_back(); }

    static bool is_digits(std::string_view s) {
        for (char c : s)
            if (c < '0' || c > '9') return false;
        return true;
    }

    // Inserts key -> value. Returns {slot, true} when inserted, {existing slot, false} when
    // the key already exists (the value is not replaced), {nullptr, false} for a non-digit
    // key.
    std::pair<T*, bool> insert(std::string_view key, T value) {
        if (!is_digits(key)) return {nullptr, false};
        packed_.clear();
        std::uint32_t n = 0;
        for (char c : key) {
            const auto d = static_cast<unsigned>(c - '0');
            std::uint32_t next = nodes_[n].child[d];
            if (next == 0) {
                next = static_cast<std::uint32_t>(nodes_.size());
                nodes_.emplace_back();
                nodes_[n].child[d] = next;
            }
            n = next;
        }
        if (nodes_[n].value != kNone) return {&values_[nodes_[n].value], false};
        nodes_[n].value = static_cast<std::uint32_t>(values_.size());
        values_.push_back(std::move(value));
        return {&values_.back(), true};
    }

    // Inserts or replaces.
    T* insert_or_assign(std::string_view key, T value) {
        auto [slot, inserted] = insert(key, value);
        if (slot != nullptr && !inserted) *slot = std::move(value);
        return slot;
    }

    T* find(std::string_view key) {
        return const_cast<T*>(std::as_const(*this).find(key));
    }
    const T* find(std::string_view key) const {
        std::uint32_t n = 0;
        for (char c : key) {
            const auto d = static_cast<unsigned>(c - '0');
            if (d > 9) return nullptr;
            n = nodes_[n].child[d];
            if (n == 0) return nullptr;
        }
        return nodes_[n].value == kNone ? nullptr : &values_[nodes_[n].value];
    }

    // The value of the longest key that is a prefix of number.
    Match longest_match(std::string_view number) const {
        return longest_match_if(number, [](const T&) { return true; });
    }

    // The value of the longest key that is a prefix of number and satisfies pred(value);
    // shorter keys are tried when a longer one is rejected.
    template <class Pred>
    Match longest_match_if(std::string_view number, Pred&& pred) const {
        const IndexMatch m =
            longest_match_index_if(number, [&](std::uint32_t i) { return pred(values_[i]); });
        if (m.index == kNoIndex) return {};
        return {&values_[m.index], m.length};
    }

    // As longest_match_if, but pred and the result take the value's index (0..size()-1,
    // insertion order; see value_at). Lets a caller keep its own per-value side table (e.g.
    // a flat record) and skip the value itself. index == kNoIndex: no match.
    static constexpr std::uint32_t kNoIndex = 0xffffffffu;
    struct IndexMatch {
        std::uint32_t index = kNoIndex;
        std::size_t length = 0;
    };
    template <class Pred>
    IndexMatch longest_match_index_if(std::string_view number, Pred&& pred) const {
        // Walk down once, remember the matching nodes, then test from the longest.
        std::uint32_t hits[kMaxDepth + 1];
        std::size_t lens[kMaxDepth + 1];
        std::size_t count = 0;
        std::uint32_t n = 0;
        std::size_t i = 0;
        if (!packed_.empty()) {
            for (;;) {
                const Packed& p = packed_[n];
                if (p.value != kNone && count <= kMaxDepth) {
                    hits[count] = p.value;
                    lens[count] = i;
                    ++count;
                }
                if (i == number.size() || i >= kMaxDepth) break;
                const auto d = static_cast<unsigned>(number[i] - '0');
                if (d > 9 || ((p.mask >> d) & 1u) == 0) break;
                n = p.first + rank(p.mask, d);
                ++i;
            }
        } else {
            for (;;) {
                if (nodes_[n].value != kNone && count <= kMaxDepth) {
                    hits[count] = nodes_[n].value;
                    lens[count] = i;
                    ++count;
                }
                if (i == number.size() || i >= kMaxDepth) break;
                const auto d = static_cast<unsigned>(number[i] - '0');
                if (d > 9) break;
                n = nodes_[n].child[d];
                if (n == 0) break;
                ++i;
            }
        }
        while (count > 0) {
            --count;
            if (pred(hits[count])) return {hits[count], lens[count]};
        }
        return {};
    }

    // The value with index i (0 <= i < size(), in insertion order).
    const T& value_at(std::uint32_t i) const { return values_[i]; }

    // Calls f(key, value) for every entry in lexicographic key order.
    template <class F>
    void for_each(F&& f) const {
        std::string key;
        walk(0, key, f);
    }

    // Builds the packed lookup copy (see above); invalidated by insert() and clear().
    // Each node's children are one contiguous block (found by rank over the mask); blocks
    // are placed depth-first, each right after its parent's subtree is entered, so that
    // the long single-child chains at the bottom of a large deck (the digits that make one
    // prefix unique) lie in consecutive 12-byte nodes, a few per cache line, instead of one
    // level apart as in breadth-first order (one cache miss per digit).
    void freeze() {
        packed_.assign(nodes_.size(), Packed{});
        std::vector<std::uint32_t> order;  // order[i]: the node stored at packed index i
        order.reserve(nodes_.size());
        order.push_back(0);
        std::vector<std::uint32_t> pending{0};  // packed indices whose children are not placed
        while (!pending.empty()) {
            const std::uint32_t i = pending.back();
            pending.pop_back();
            const Node& m = nodes_[order[i]];
            Packed& p = packed_[i];
            p.value = m.value;
            p.first = static_cast<std::uint32_t>(order.size());
            for (unsigned d = 0; d < 10; ++d)
                if (m.child[d] != 0) {
                    p.mask = static_cast<std::uint16_t>(p.mask | (1u << d));
                    order.push_back(m.child[d]);
                }
            // Lowest digit on top, so its subtree's blocks come next.
            for (auto j = static_cast<std::uint32_t>(order.size()); j-- > p.first;)
                pending.push_back(j);
        }
    }
    bool frozen() const { return !packed_.empty(); }

    std::size_t size() const { return values_.size(); }
    bool empty() const { return values_.empty(); }
    std::size_t node_count() const { return nodes_.size(); }
    void clear() {
        packed_.clear();
        nodes_.clear();
        nodes_.emplace_back();
        values_.clear();
    }
    void reserve(std::size_t keys) {
        values_.reserve(keys);
        nodes_.reserve(keys * 2);
    }

    // Keys longer than this never match beyond this depth (E.164 numbers have <= 15 digits;
    // tech prefixes add a few).
    static constexpr std::size_t kMaxDepth = 64;

private:
    static constexpr std::uint32_t kNone = 0xffffffffu;

    // Number of children before digit d: popcount of the mask bits below d. SWAR on 10 bits,
    // because std::popcount is a library call unless the target has POPCNT (baseline x86-64
    // has not).
    static std::uint32_t rank(std::uint16_t mask, unsigned d) {
        std::uint32_t v = mask & ((1u << d) - 1u);
        v = v - ((v >> 1) & 0x5555u);
        v = (v & 0x3333u) + ((v >> 2) & 0x3333u);
        v = (v + (v >> 4)) & 0x0f0fu;
        return (v + (v >> 8)) & 0x1fu;
    }
    struct Node {
        std::uint32_t child[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // 0: none (root is never a child)
        std::uint32_t value = kNone;
    };

    template <class F>
    void walk(std::uint32_t n, std::string& key, F& f) const {
        if (nodes_[n].value != kNone) f(std::string_view(key), values_[nodes_[n].value]);
        for (unsigned d = 0; d < 10; ++d) {
            if (nodes_[n].child[d] == 0) continue;
            key.push_back(static_cast<char>('0' + d));
            walk(nodes_[n].child[d], key, f);
            key.pop_back();
        }
    }

    struct Packed {
        std::uint32_t first = 0;  // index of the first child; the others follow in digit order
        std::uint32_t value = kNone;
        std::uint16_t mask = 0;   // bit d set: child for digit d exists
    };

    std::vector<Node> nodes_;
    std::vector<T> values_;
    std::vector<Packed> packed_;
};

}  // namespace route::prefix

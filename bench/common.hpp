// Shared driver of the parser benchmarks: one binary per parser (sofia-sip and libre clash when
// linked together), each a `main` that hands its parse function to bench::run().
//
//   static bool parse(std::string_view msg, void* /*prepared*/, std::string* why) {
//       auto r = parse_somehow(msg);
//       if (!r && why) *why = describe(r);
//       return bool(r);                     // and everything the parse allocated is freed
//   }
//   int main(int argc, char** argv) { return bench::run(argc, argv, {"name", parse}); }
//
// Command line of every parser_bench_* binary:
//
//   parser_bench_X [--iterations N] [--warmup W] [--once] [CORPUS_DIR]
//
//   CORPUS_DIR      directory whose *.sip files are the messages (default: bench/corpus of
//                   the source tree, fixed at compile time through BENCH_CORPUS_DIR)
//   --iterations N  timed passes over the corpus (default: as many as fill about 1 s)
//   --warmup W      untimed passes before the timed ones (default: as many as fill ~0.1 s)
//   --once          parse each message exactly once: same as --warmup 0 --iterations 0
//
// Before any warm-up, a checking pass parses every message once and prints each failure with
// its reason on stderr; the timed passes count failures too. Output is one line on stdout:
//
//   <name>  <ns/msg>  <MB/s>  <allocs/msg>  <messages parsed ok>/<messages>
//
// The figures come from the timed passes, or from the checking pass when there are none
// (--iterations 0, --once). Exit status: 0 when every message parsed every time, 1 when some
// parse failed, 2 on a usage or corpus error.
//
// Heap allocations are counted by replacing malloc and friends in the executable (see
// common.cpp), so they include C libraries that call malloc directly and operator new.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bench {

// Parses one complete message and frees everything the parse allocated before returning.
// `prepared` is what Parser::prepare made of this message (null without a prepare hook).
// Returns true only if the parser accepted the whole message. On failure, and only when `why`
// is not null, stores a short reason there; the timed passes pass null.
using ParseFn = bool (*)(std::string_view message, void* prepared, std::string* why);

struct Parser {
    std::string_view name;  // first column of the result line
    ParseFn parse = nullptr;
    // Optional: builds, once per message and before anything is counted or timed, the input
    // object a parser reads from when that object belongs to the caller rather than to the
    // parse (libre decodes from an mbuf that its transport allocated on receipt). `release`
    // frees it after the last pass.
    void* (*prepare)(std::string_view message) = nullptr;
    void (*release)(void* prepared) = nullptr;
};

// Calls to malloc, calloc, realloc and the aligned allocators made by this process so far
// (operator new is included because libstdc++ implements it with malloc). Not thread-safe:
// the benchmarks are single-threaded, and an atomic increment would inflate the timing of
// the allocation-heavy peers.
std::uint64_t allocations() noexcept;

// Runs the benchmark described at the top of this file; returns the exit status.
int run(int argc, char** argv, const Parser& parser);

}  // namespace bench

#include "common.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#ifndef BENCH_CORPUS_DIR
#error "BENCH_CORPUS_DIR must name the corpus directory (bench/meson.build defines it)"
#endif

// --- Allocation counting -------------------------------------------------------------------
//
// The executable defines malloc and friends, so the dynamic linker binds every call to them,
// from libstdc++ (operator new), from the peers' shared libraries and from glibc itself, to
// these definitions (glibc supports replacing malloc this way). Each one counts and forwards
// to glibc's own allocator through its exported __libc_* entry points; dlsym(RTLD_NEXT)
// would need a bootstrap allocator because dlsym itself calls calloc.
//
// The wrappers must stay cheap, or callgrind figures stop being comparable with
// uninstrumented ones: noexcept lets each end in a tail jump, and noplt makes that jump go
// through the GOT directly, so an allocation costs two extra instructions (increment, jump)
// and a free one. For the most allocation-heavy peer (osip2, 159 per message) that is about
// 0.5% of its instructions.
#define BENCH_LIBC extern "C" __attribute__((noplt))
BENCH_LIBC void* __libc_malloc(std::size_t size) noexcept;
BENCH_LIBC void* __libc_calloc(std::size_t count, std::size_t size) noexcept;
BENCH_LIBC void* __libc_realloc(void* ptr, std::size_t size) noexcept;
BENCH_LIBC void __libc_free(void* ptr) noexcept;
BENCH_LIBC void* __libc_memalign(std::size_t alignment, std::size_t size) noexcept;
BENCH_LIBC void* __libc_valloc(std::size_t size) noexcept;
BENCH_LIBC void* __libc_pvalloc(std::size_t size) noexcept;
#undef BENCH_LIBC

namespace {
// Plain, not atomic: see bench::allocations().
std::uint64_t g_allocations = 0;
}  // namespace

extern "C" {

void* malloc(std::size_t size) noexcept {
    ++g_allocations;
    return __libc_malloc(size);
}

void* calloc(std::size_t count, std::size_t size) noexcept {
    ++g_allocations;
    return __libc_calloc(count, size);
}

// Every realloc counts, growing or not: it is a call into the allocator, as sofia-sip's
// su_home tables and osip2's string building make them.
void* realloc(void* ptr, std::size_t size) noexcept {
    ++g_allocations;
    return __libc_realloc(ptr, size);
}

void free(void* ptr) noexcept {
    __libc_free(ptr);
}

void* memalign(std::size_t alignment, std::size_t size) noexcept {
    ++g_allocations;
    return __libc_memalign(alignment, size);
}

void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
    ++g_allocations;
    return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
    // POSIX: a power of two that is a multiple of sizeof(void*).
    if (alignment == 0 || alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0)
        return EINVAL;
    ++g_allocations;
    void* p = __libc_memalign(alignment, size);
    if (p == nullptr) return ENOMEM;
    *out = p;
    return 0;
}

void* valloc(std::size_t size) noexcept {
    ++g_allocations;
    return __libc_valloc(size);
}

void* pvalloc(std::size_t size) noexcept {
    ++g_allocations;
    return __libc_pvalloc(size);
}

}  // extern "C"

namespace bench {

std::uint64_t allocations() noexcept {
    return g_allocations;
}

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::duration<double> kTargetRun{1.0};
constexpr std::chrono::duration<double> kTargetWarmup{0.1};

struct Options {
    std::string corpus_dir = BENCH_CORPUS_DIR;
    long iterations = -1;  // -1: calibrate to kTargetRun
    long warmup = -1;      // -1: as many passes as fill kTargetWarmup
};

struct Message {
    std::string name;  // file name, for diagnostics
    std::string bytes;
    void* prepared = nullptr;  // Parser::prepare's result
};

struct Corpus {
    std::vector<Message> messages;
    std::size_t bytes = 0;
};

void usage(const char* argv0) {
    std::fprintf(stderr, "usage: %s [--iterations N] [--warmup W] [--once] [CORPUS_DIR]\n", argv0);
}

bool parse_count(const char* text, long* out) {
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 0) return false;
    *out = v;
    return true;
}

// Returns false after printing a message on a malformed command line.
bool parse_options(int argc, char** argv, Options* opt) {
    bool have_dir = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if ((a == "--iterations" || a == "--warmup") && i + 1 < argc) {
            long* dst = a == "--iterations" ? &opt->iterations : &opt->warmup;
            if (!parse_count(argv[++i], dst)) {
                std::fprintf(stderr, "%s: %s wants a count, not '%s'\n", argv[0], a.data(),
                             argv[i]);
                return false;
            }
        } else if (a == "--once") {
            opt->iterations = 0;
            opt->warmup = 0;
        } else if (!a.empty() && a[0] != '-' && !have_dir) {
            opt->corpus_dir = a;
            have_dir = true;
        } else {
            usage(argv[0]);
            return false;
        }
    }
    return true;
}

// Every *.sip file of `dir`, in name order so that runs and diagnostics are reproducible.
// Other files (.gitattributes, notes) are not messages.
bool load_corpus(const std::string& dir, Corpus* corpus) {
    std::error_code ec;
    std::vector<std::filesystem::path> paths;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".sip")
            paths.push_back(entry.path());
    }
    if (ec) {
        std::fprintf(stderr, "corpus %s: %s\n", dir.c_str(), ec.message().c_str());
        return false;
    }
    std::sort(paths.begin(), paths.end());
    for (const auto& path : paths) {
        std::ifstream in(path, std::ios::binary);
        std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (!in.good() && !in.eof()) {
            std::fprintf(stderr, "corpus: cannot read %s\n", path.c_str());
            return false;
        }
        corpus->bytes += bytes.size();
        corpus->messages.push_back({path.filename().string(), std::move(bytes)});
    }
    if (corpus->messages.empty()) {
        std::fprintf(stderr, "corpus %s: no *.sip files\n", dir.c_str());
        return false;
    }
    return true;
}

struct PassResult {
    Clock::duration elapsed{};
    std::uint64_t allocations = 0;
};

// One or more passes over the corpus; failures are counted per message so that a parser that
// rejects a message cannot look fast without it showing in the "ok" column.
PassResult run_passes(const Parser& parser, const Corpus& corpus, long passes,
                      std::vector<std::uint64_t>* failures) {
    const std::uint64_t allocs_before = allocations();
    const Clock::time_point start = Clock::now();
    for (long pass = 0; pass < passes; ++pass) {
        for (std::size_t i = 0; i < corpus.messages.size(); ++i) {
            const Message& m = corpus.messages[i];
            if (!parser.parse(m.bytes, m.prepared, nullptr)) ++(*failures)[i];
        }
    }
    const Clock::time_point stop = Clock::now();
    return {stop - start, allocations() - allocs_before};
}

// The checking pass: each message once, with the reason of every failure on stderr.
PassResult check_pass(const Parser& parser, const Corpus& corpus,
                      std::vector<std::uint64_t>* failures) {
    std::string why;
    const std::uint64_t allocs_before = allocations();
    const Clock::time_point start = Clock::now();
    for (std::size_t i = 0; i < corpus.messages.size(); ++i) {
        why.clear();
        const Message& m = corpus.messages[i];
        if (!parser.parse(m.bytes, m.prepared, &why)) {
            ++(*failures)[i];
            std::fprintf(stderr, "%.*s: %s: parse failed: %s\n", int(parser.name.size()),
                         parser.name.data(), corpus.messages[i].name.c_str(),
                         why.empty() ? "(no reason given)" : why.c_str());
        }
    }
    const Clock::time_point stop = Clock::now();
    return {stop - start, allocations() - allocs_before};
}

// Untimed passes; returns how many ran and how long they took, for calibration.
std::pair<long, Clock::duration> warm_up(const Parser& parser, const Corpus& corpus, long passes,
                                         std::vector<std::uint64_t>* failures) {
    const Clock::time_point start = Clock::now();
    long done = 0;
    if (passes >= 0) {
        run_passes(parser, corpus, passes, failures);
        done = passes;
    } else {
        do {
            run_passes(parser, corpus, 1, failures);
            ++done;
        } while (Clock::now() - start < kTargetWarmup);
    }
    return {done, Clock::now() - start};
}

}  // namespace

int run(int argc, char** argv, const Parser& parser) {
    Options opt;
    if (!parse_options(argc, argv, &opt)) return 2;
    Corpus corpus;
    if (!load_corpus(opt.corpus_dir, &corpus)) return 2;

    if (parser.prepare != nullptr) {
        for (Message& m : corpus.messages) {
            m.prepared = parser.prepare(m.bytes);
            if (m.prepared == nullptr) {
                std::fprintf(stderr, "%.*s: %s: prepare failed\n", int(parser.name.size()),
                             parser.name.data(), m.name.c_str());
                return 2;
            }
        }
    }

    std::vector<std::uint64_t> failures(corpus.messages.size(), 0);
    PassResult result = check_pass(parser, corpus, &failures);
    long passes = 1;

    auto [warm_passes, warm_time] = warm_up(parser, corpus, opt.warmup, &failures);
    long iterations = opt.iterations;
    if (iterations < 0) {
        // Calibrate on the warm-up (or on the checking pass when there was none).
        const double per_pass =
            warm_passes > 0 ? std::chrono::duration<double>(warm_time).count() / double(warm_passes)
                            : std::chrono::duration<double>(result.elapsed).count();
        iterations = std::max(1L, long(kTargetRun.count() / std::max(per_pass, 1e-9)));
    }
    if (iterations > 0) {
        result = run_passes(parser, corpus, iterations, &failures);
        passes = iterations;
    }

    const double parsed = double(passes) * double(corpus.messages.size());
    const double seconds = std::chrono::duration<double>(result.elapsed).count();
    const double ns_per_msg = seconds * 1e9 / parsed;
    const double mb_per_s = seconds > 0 ? double(corpus.bytes) * double(passes) / seconds / 1e6 : 0;
    const double allocs_per_msg = double(result.allocations) / parsed;
    const auto ok = std::count(failures.begin(), failures.end(), 0);

    for (std::size_t i = 0; i < failures.size(); ++i) {
        if (failures[i] > 0)
            std::fprintf(stderr, "%.*s: %s: failed %llu time(s)\n", int(parser.name.size()),
                         parser.name.data(), corpus.messages[i].name.c_str(),
                         static_cast<unsigned long long>(failures[i]));
    }
    std::printf("%.*s  %.1f  %.1f  %.1f  %lld/%zu\n", int(parser.name.size()), parser.name.data(),
                ns_per_msg, mb_per_s, allocs_per_msg, static_cast<long long>(ok),
                corpus.messages.size());
    std::fflush(stdout);
    if (parser.release != nullptr) {
        for (Message& m : corpus.messages)
            parser.release(m.prepared);
    }
    return std::size_t(ok) == corpus.messages.size() ? 0 : 1;
}

}  // namespace bench

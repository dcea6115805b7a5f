// Corpus replay without libFuzzer: runs LLVMFuzzerTestOneInput once per file of every
// directory (or file) given on the command line, so normal builds (g++, no sanitizers
// required) turn each fuzz corpus into a regression test (DESIGN.md §9).
//
//   fuzz_replay_message fuzz/corpus/message      -> "replayed 73 inputs", exit 0
//
// Each input is copied into a buffer of exactly its size (as libFuzzer does) so that an
// over-read is caught by ASan builds too. A failed invariant aborts; the handler below names
// the input and exits 1. No inputs at all is an error as well (a mistyped corpus path).
#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

char g_current[4096];

extern "C" void on_abort(int) {
    static const char msg[] = "replay: aborted on input ";
    ssize_t w = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    w = ::write(STDERR_FILENO, g_current, std::strlen(g_current));
    w = ::write(STDERR_FILENO, "\n", 1);
    (void)w;
    ::_exit(1);
}

bool replay_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
        return false;
    }
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::snprintf(g_current, sizeof g_current, "%s", p.c_str());
    std::unique_ptr<std::uint8_t[]> exact(new std::uint8_t[bytes.empty() ? 1 : bytes.size()]);
    if (!bytes.empty()) std::memcpy(exact.get(), bytes.data(), bytes.size());
    LLVMFuzzerTestOneInput(exact.get(), bytes.size());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGABRT, on_abort);
    std::size_t n = 0;
    bool ok = true;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path arg(argv[i]);
        std::error_code ec;
        if (std::filesystem::is_directory(arg, ec)) {
            std::vector<std::filesystem::path> files;
            for (const auto& e : std::filesystem::directory_iterator(arg, ec)) {
                if (e.is_regular_file()) files.push_back(e.path());
            }
            std::sort(files.begin(), files.end());
            for (const auto& p : files) {
                ok = replay_file(p) && ok;
                ++n;
            }
        } else if (std::filesystem::is_regular_file(arg, ec)) {
            ok = replay_file(arg) && ok;
            ++n;
        } else {
            std::fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
            ok = false;
        }
    }
    std::printf("replayed %zu inputs\n", n);
    if (n == 0) {
        std::fprintf(stderr, "replay: no inputs\n");
        return 1;
    }
    return ok ? 0 : 1;
}

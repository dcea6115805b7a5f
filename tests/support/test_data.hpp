// Test data access. TRUNKLINE_TEST_DATA is set by tests/sipcore/meson.build to the source
// tree's tests/data directory, so tests run from any build directory.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef TRUNKLINE_TEST_DATA
#error "TRUNKLINE_TEST_DATA must be defined by the build"
#endif

namespace test {

inline std::filesystem::path data_dir() { return std::filesystem::path(TRUNKLINE_TEST_DATA); }

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + p.string());
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline void write_file(const std::filesystem::path& p, const std::string& s) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write " + p.string());
    f << s;
}

// Sorted list of files in `dir` whose names end with `ext` (".sip").
inline std::vector<std::filesystem::path> files_with_ext(const std::filesystem::path& dir,
                                                         const std::string& ext) {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// One row of a torture set's MANIFEST.tsv (tests/data/rfc4475, tests/data/rfc5118).
struct ManifestRow {
    std::string file, section, title, expected, note;
};

// The rows of `dir`/MANIFEST.tsv; throws if its header or a row's column count is wrong.
inline std::vector<ManifestRow> read_manifest(const std::filesystem::path& dir) {
    std::istringstream in(read_file(dir / "MANIFEST.tsv"));
    std::string line;
    std::getline(in, line);
    if (line != "file\trfc_section\ttitle\texpected\tnote")
        throw std::runtime_error("unexpected header in " + (dir / "MANIFEST.tsv").string());
    std::vector<ManifestRow> rows;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::vector<std::string> cols;
        for (std::size_t pos = 0;;) {
            const std::size_t tab = line.find('\t', pos);
            cols.push_back(line.substr(pos, tab == std::string::npos ? tab : tab - pos));
            if (tab == std::string::npos) break;
            pos = tab + 1;
        }
        if (cols.size() != 5) throw std::runtime_error("not 5 columns: " + line);
        rows.push_back({cols[0], cols[1], cols[2], cols[3], cols[4]});
    }
    return rows;
}

}  // namespace test

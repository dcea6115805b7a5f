// Tiny command-line parser for trunkctl: positionals plus --name VALUE / --name=VALUE /
// --flag options checked against a per-command list.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace trunkctl {

struct OptionSpec {
    std::set<std::string> with_value;  // "--db", "--format", ...
    std::set<std::string> flags;       // "--replace", "--help", ...
};

class Args {
public:
    // Parses argv[first..argc); returns false with error() set on an unknown option or a
    // missing value.
    bool parse(int argc, char** argv, int first, const OptionSpec& spec) {
        for (int i = first; i < argc; ++i) {
            std::string a = argv[i];
            if (a == "--") {
                for (++i; i < argc; ++i) pos_.emplace_back(argv[i]);
                break;
            }
            if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
                std::string value;
                bool has_value = false;
                if (auto eq = a.find('='); eq != std::string::npos) {
                    value = a.substr(eq + 1);
                    a = a.substr(0, eq);
                    has_value = true;
                }
                if (spec.flags.count(a) != 0) {
                    if (has_value) return bad("option " + a + " takes no value");
                    flags_.insert(a);
                } else if (spec.with_value.count(a) != 0) {
                    if (!has_value) {
                        if (i + 1 >= argc) return bad("option " + a + " needs a value");
                        value = argv[++i];
                    }
                    opts_[a] = value;
                } else {
                    return bad("unknown option " + a);
                }
            } else if (a == "-h") {
                flags_.insert("--help");
            } else {
                pos_.push_back(a);
            }
        }
        return true;
    }
    bool flag(const std::string& f) const { return flags_.count(f) != 0; }
    bool has(const std::string& o) const { return opts_.count(o) != 0; }
    std::string get(const std::string& o, std::string fallback = {}) const {
        auto it = opts_.find(o);
        return it == opts_.end() ? fallback : it->second;
    }
    const std::vector<std::string>& positionals() const { return pos_; }
    const std::string& error() const { return err_; }

private:
    bool bad(std::string e) {
        err_ = std::move(e);
        return false;
    }
    std::vector<std::string> pos_;
    std::map<std::string, std::string> opts_;
    std::set<std::string> flags_;
    std::string err_;
};

}  // namespace trunkctl

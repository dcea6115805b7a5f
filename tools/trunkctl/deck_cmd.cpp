#include "deck_cmd.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>
#include <vector>

#include "billing/csv.hpp"
#include "billing/time.hpp"
#include "cli_util.hpp"

namespace trunkctl {

using billing::DeckFormat;
using billing::DeckTemplate;
using billing::Error;
using billing::ErrorCode;
using billing::sqlite::Store;

const std::set<std::string> kDeckOptions{"--map", "--delimiter", "--skip", "--first-line", "--increment",
                                         "--first-period", "--encoding", "--date-format", "--template"};
const std::set<std::string> kDeckFlags{"--no-header", "--decimal-comma", "--allow-zero-price"};

const char* const kRatesTemplateHelp = R"(usage:
  trunkctl rates template add NAME [--map SPEC] [--delimiter C] [--decimal-comma]
                              [--date-format F] [--first-line N] [--no-header] [--encoding E]
                              [--increment S] [--first-period S] [--allow-zero-price]
                              [--memo M] [--replace]
      Store a named deck layout (VOS3000 feerate_template.conf): the column map (VOS3000
      areaCode -> prefix=..., newPrice -> price=..., effectiveDate -> effective_from=...),
      delimiter, decimal separator, date format (VOS3000 dateFormat: dd/MM/yyyy, yyyyMMdd,
      MM/dd/yyyy HH:mm, ...), first line to read (where the header is; VOS3000 "Begin Line"),
      encoding (utf-8, latin1, cp1252) and defaults. --replace overwrites an existing one.
  trunkctl rates template list [--format table|csv|json | --json]
  trunkctl rates template remove NAME
  --json (every subcommand): add and remove print one object saying what was done, e.g.
      {"template":"carrierA","removed":true}, after success only.
  Import with it: trunkctl rates import GROUP FILE --template NAME [options overriding it]
)";

namespace {

constexpr int kOk = cli::kOk;
constexpr int kRuntime = cli::kRuntime;
constexpr int kUsage = cli::kUsage;
const cli::Cmd kTemplateCmd{"rates template", kRatesTemplateHelp};

int runtime(const Error& e) {
    std::cerr << "trunkctl: " << e.describe() << " [" << billing::to_string(e.code) << "]\n";
    return kRuntime;
}

billing::Result<Store> open_store(const std::string& db) {
    cli::ensure_dir(db);
    return Store::open(db);
}

billing::Result<std::string> read_text(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return billing::fail(ErrorCode::io_error, "cannot open " + path);
    std::ostringstream ss;
    ss << f.rdbuf();
    if (f.bad()) return billing::fail(ErrorCode::io_error, "cannot read " + path);
    return ss.str();
}

bool seconds_opt(const Args& a, const char* name, std::int64_t min, std::int64_t max, std::int64_t& out) {
    if (!a.has(name)) return true;
    auto v = billing::parse_int(a.get(name));
    if (!v || *v < min || *v > max) return false;
    out = *v;
    return true;
}

// After a failed import: what the operator most likely has to change.
void print_hints(const billing::DeckHints& h) {
    if (h.delimiter != 0) {
        const std::string d = h.delimiter == '\t' ? "tab" : std::string(1, h.delimiter);
        std::cerr << "hint: the header looks delimited by '" << d << "': try --delimiter '" << d << "'\n";
    }
    if (h.encoding)
        std::cerr << "hint: the file is not UTF-8: declare its encoding, e.g. --encoding latin1 (or cp1252)\n";
    if (h.zero_price) std::cerr << "hint: if the deck really has free destinations, add --allow-zero-price\n";
}

}  // namespace

bool apply_deck_options(const Args& a, DeckFormat& fmt, std::string& error) {
    if (a.has("--map"))
        if (auto r = billing::parse_mapping(a.get("--map"), fmt); !r) {
            error = r.error().describe();
            return false;
        }
    if (a.has("--delimiter")) {
        std::string d = a.get("--delimiter");
        if (d == "\\t" || d == "tab") d = "\t";
        if (d.size() != 1 || d == "\"") {
            error = "--delimiter must be one character (not '\"')";
            return false;
        }
        fmt.delimiter = d[0];
    }
    if (a.flag("--no-header")) fmt.header = false;
    if (a.flag("--decimal-comma")) fmt.decimal_comma = true;
    if (a.flag("--allow-zero-price")) fmt.allow_zero_price = true;
    if (a.has("--encoding")) {
        auto e = billing::parse_encoding(a.get("--encoding"));
        if (!e) {
            error = "--encoding: " + e.error().message;
            return false;
        }
        fmt.encoding = *e;
    }
    if (a.has("--date-format")) {
        if (auto ok = billing::check_time_format(a.get("--date-format")); !ok) {
            error = "--date-format: " + ok.error().message;
            return false;
        }
        fmt.date_format = a.get("--date-format");
    }
    std::int64_t skip = static_cast<std::int64_t>(fmt.skip_lines), first_line = skip + 1;
    std::int64_t inc = fmt.default_increment, first = fmt.default_first_period;
    if (!seconds_opt(a, "--skip", 0, 1000000, skip) || !seconds_opt(a, "--first-line", 1, 1000000, first_line) ||
        !seconds_opt(a, "--increment", 1, 86400, inc) || !seconds_opt(a, "--first-period", 0, 86400, first)) {
        error = "--skip, --first-line, --increment and --first-period take whole numbers "
                "(first line >= 1, increment 1..86400)";
        return false;
    }
    if (a.has("--first-line") && a.has("--skip")) {
        error = "--first-line and --skip say the same thing: give one";
        return false;
    }
    fmt.skip_lines = static_cast<std::size_t>(a.has("--first-line") ? first_line - 1 : skip);
    fmt.default_increment = static_cast<std::int32_t>(inc);
    fmt.default_first_period = static_cast<std::int32_t>(first);
    return true;
}

int rates_import(const std::string& db, const Args& a, const char* help) {
    const auto& pos = a.positionals();
    DeckFormat fmt;
    std::optional<Store> st;
    if (a.has("--template")) {
        auto s = open_store(db);
        if (!s) return runtime(s.error());
        auto t = s->deck_template(a.get("--template"));
        if (!t) return runtime(t.error());
        fmt = t->format;
        st.emplace(std::move(*s));
    }
    std::string error;
    if (!apply_deck_options(a, fmt, error)) return cli::usage({"rates import", help}, error);
    auto text = read_text(pos[1]);
    if (!text) return runtime(text.error());
    billing::DeckResult d = billing::parse_rate_deck(*text, fmt);
    if (!d.ok()) {
        for (const Error& e : d.errors) std::cerr << pos[1] << ": " << e.describe() << "\n";
        if (d.error_count > d.errors.size())
            std::cerr << pos[1] << ": ... " << d.error_count - d.errors.size() << " more errors\n";
        print_hints(d.hints);
        std::cerr << "trunkctl: " << d.error_count << " error(s); nothing imported\n";
        return kRuntime;
    }
    if (!st) {
        auto s = open_store(db);
        if (!s) return runtime(s.error());
        st.emplace(std::move(*s));
    }
    auto n = st->import_rates(pos[0], d.rates, a.flag("--replace"));
    if (!n) return runtime(n.error());
    return cli::done(a, "imported " + std::to_string(*n) + " rates into " + pos[0] + "\n",
                     {{"group", cli::json_text(pos[0])}, {"imported", std::to_string(*n)}});
}

namespace {

void print_templates(const std::vector<DeckTemplate>& v, const std::string& format) {
    auto delim = [](char c) { return c == '\t' ? std::string("tab") : std::string(1, c); };
    if (format == "json") {
        std::cout << "[";
        for (std::size_t i = 0; i < v.size(); ++i) {
            const DeckFormat& f = v[i].format;
            std::cout << (i ? "," : "") << "{\"name\":\"" << billing::json_escape(v[i].name) << "\",\"map\":\""
                      << billing::json_escape(billing::format_mapping(f)) << "\",\"delimiter\":\""
                      << billing::json_escape(std::string(1, f.delimiter)) << "\",\"decimal\":\""
                      << (f.decimal_comma ? "," : ".") << "\",\"date_format\":\"" << billing::json_escape(f.date_format)
                      << "\",\"first_line\":" << f.skip_lines + 1 << ",\"header\":" << (f.header ? "true" : "false")
                      << ",\"encoding\":\"" << billing::to_string(f.encoding) << "\",\"first_period\":"
                      << f.default_first_period << ",\"increment\":" << f.default_increment
                      << ",\"allow_zero_price\":" << (f.allow_zero_price ? "true" : "false") << ",\"memo\":\""
                      << billing::json_escape(v[i].memo) << "\"}";
        }
        std::cout << "]\n";
        return;
    }
    const char sep = format == "csv" ? ',' : '\t';
    std::cout << "name" << sep << "map" << sep << "delimiter" << sep << "decimal" << sep << "date_format" << sep
              << "first_line" << sep << "header" << sep << "encoding" << sep << "first_period" << sep << "increment"
              << sep << "allow_zero_price" << sep << "memo\n";
    for (const DeckTemplate& t : v) {
        const DeckFormat& f = t.format;
        std::cout << billing::csv_escape(t.name, sep) << sep << billing::csv_escape(billing::format_mapping(f), sep)
                  << sep << billing::csv_escape(delim(f.delimiter), sep) << sep
                  << billing::csv_escape(f.decimal_comma ? "," : ".", sep) << sep
                  << billing::csv_escape(f.date_format, sep) << sep << f.skip_lines + 1 << sep
                  << (f.header ? "yes" : "no") << sep << billing::to_string(f.encoding) << sep
                  << f.default_first_period << sep << f.default_increment << sep
                  << (f.allow_zero_price ? "yes" : "no") << sep << billing::csv_escape(t.memo, sep) << "\n";
    }
}

}  // namespace

int cmd_rates_template(const std::string& db, int argc, char** argv, int first) {
    OptionSpec spec{kDeckOptions, kDeckFlags};
    spec.with_value.erase("--template");
    spec.with_value.insert({"--memo", "--format"});
    spec.flags.insert({"--replace", "--json"});
    Args a;
    std::string sub;
    if (int rc = cli::parse(kTemplateCmd, argc, argv, first, spec, a, sub); rc >= 0) return rc;
    const auto& pos = a.positionals();
    if (sub == "add") {
        if (pos.size() != 1) return cli::usage(kTemplateCmd, "template add needs NAME");
        DeckTemplate t;
        t.name = pos[0];
        t.memo = a.get("--memo");
        std::string error;
        if (!apply_deck_options(a, t.format, error)) return cli::usage(kTemplateCmd, error);
        auto st = open_store(db);
        if (!st) return runtime(st.error());
        if (auto r = st->put_deck_template(t, a.flag("--replace")); !r) return runtime(r.error());
        return cli::done(a, "template " + t.name + ": " + billing::format_mapping(t.format) + "\n",
                         {{"template", cli::json_text(t.name)}, {"map", cli::json_text(billing::format_mapping(t.format))},
                          {"added", "true"}});
    }
    if (sub == "list") {
        std::string format;
        if (!cli::json_format(a, format)) return cli::usage(kTemplateCmd, cli::json_conflict(a));
        if (format != "table" && format != "csv" && format != "json")
            return cli::bad(kTemplateCmd, "--format must be table, csv or json");
        auto st = open_store(db);
        if (!st) return runtime(st.error());
        auto v = st->deck_templates();
        if (!v) return runtime(v.error());
        print_templates(*v, format);
        return kOk;
    }
    if (sub == "remove") {
        if (pos.size() != 1) return cli::usage(kTemplateCmd, "template remove needs NAME");
        auto st = open_store(db);
        if (!st) return runtime(st.error());
        if (auto r = st->remove_deck_template(pos[0]); !r) return runtime(r.error());
        return cli::done(a, "removed template " + pos[0] + "\n",
                         {{"template", cli::json_text(pos[0])}, {"removed", "true"}});
    }
    return cli::usage(kTemplateCmd, "unknown template subcommand '" + sub + "'");
}

int cmd_rates_group(const std::string& db, int argc, char** argv, int first) {
    static const char* const help = "usage: trunkctl rates group add GROUP [--json]\n"
                                    "      Create an empty rate group (rates import creates groups too).\n"
                                    "      --json: {\"group\":GROUP,\"created\":true} after success.\n";
    const cli::Cmd cmd{"rates group", help};
    Args a;
    std::string sub;
    if (int rc = cli::parse(cmd, argc, argv, first, OptionSpec{{}, {"--json"}}, a, sub); rc >= 0) return rc;
    if (sub != "add") return cli::usage(cmd, "unknown group subcommand '" + sub + "'");
    if (a.positionals().size() != 1) return cli::usage(cmd, "group add needs GROUP");
    auto st = open_store(db);
    if (!st) return runtime(st.error());
    if (auto r = st->create_rate_group(a.positionals()[0]); !r) return runtime(r.error());
    return cli::done(a, "created rate group " + a.positionals()[0] + "\n",
                     {{"group", cli::json_text(a.positionals()[0])}, {"created", "true"}});
}

namespace {

using GroupInfos = std::vector<Store::RateGroupInfo>;

std::string rates_list_json(const GroupInfos& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i)
        s += (i ? ",{\"group\":\"" : "{\"group\":\"") + billing::json_escape(v[i].name) +
             "\",\"rates\":" + std::to_string(v[i].rates) + ",\"accounts\":" + std::to_string(v[i].accounts) + "}";
    return s + "]\n";
}

std::string rates_list_csv(const GroupInfos& v) {
    std::string s = "group,rates,accounts\n";
    for (const auto& g : v)
        s += billing::csv_escape(g.name) + "," + std::to_string(g.rates) + "," + std::to_string(g.accounts) + "\n";
    return s;
}

// Names left-aligned, counts right-aligned under their headers, so columns line up.
std::string rates_list_table(const GroupInfos& v) {
    std::size_t w[3] = {5, 5, 8};  // "group", "rates", "accounts"
    for (const auto& g : v) {
        w[0] = std::max(w[0], g.name.size());
        w[1] = std::max(w[1], std::to_string(g.rates).size());
        w[2] = std::max(w[2], std::to_string(g.accounts).size());
    }
    auto left = [](const std::string& x, std::size_t n) { return x + std::string(n - x.size(), ' '); };
    auto right = [](const std::string& x, std::size_t n) { return std::string(n - x.size(), ' ') + x; };
    auto line = [&](const std::string& a, const std::string& b, const std::string& c) {
        return left(a, w[0]) + "  " + right(b, w[1]) + "  " + right(c, w[2]) + "\n";
    };
    std::string s = line("group", "rates", "accounts");
    for (const auto& g : v) s += line(g.name, std::to_string(g.rates), std::to_string(g.accounts));
    return s;
}

}  // namespace

int rates_list(const std::string& db, const std::string& format) {
    auto st = open_store(db);
    if (!st) return runtime(st.error());
    auto groups = st->rate_group_infos();
    if (!groups) return runtime(groups.error());
    std::cout << (format == "json" ? rates_list_json(*groups)
                  : format == "csv" ? rates_list_csv(*groups)
                                    : rates_list_table(*groups));
    return kOk;
}

billing::Result<void> check_rate_group(Store& st, const std::string& group) {
    if (group.empty()) return {};
    auto exists = st.rate_group_exists(group);
    if (!exists) return billing::fail(exists.error());
    if (!*exists)
        return billing::fail(ErrorCode::unknown_rate_group,
                             "unknown rate group '" + group + "' (import rates into it, or create it empty: "
                             "trunkctl rates group add " + group + ")",
                             "rate_group");
    return {};
}

}  // namespace trunkctl

#include "token_cmd.hpp"

#include <sys/random.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "cli_util.hpp"
#include "sip/crypto/evp_hasher.hpp"
#include "sw/api/sqlite/store.hpp"

namespace trunkctl {

const char* const kTokenHelp = R"(usage: trunkctl token add NAME --scope read|admin [--json]
       trunkctl token list [--json]
       trunkctl token remove NAME [--json]

Bearer tokens for trunkline's management API (Authorization: Bearer TOKEN).
  add      creates a token and prints it once (32 random bytes, "tl_" + hex); only its
           SHA-256 is stored. read: GET only; admin: also changes (hang up, lift).
  list     names, scopes and creation times (never the secrets)
  remove   the token stops working within a second in a running trunkline; --json:
           {"name":NAME,"removed":true}
NAME: 1..64 of letters, digits, '.', '_', '-'.
)";

namespace {

const cli::Cmd kToken{"token", kTokenHelp};

bool valid_name(const std::string& n) {
    if (n.empty() || n.size() > 64) return false;
    for (char c : n)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
            return false;
    return true;
}

// 32 bytes from the kernel's CSPRNG (what /dev/urandom reads), as "tl_" + 64 hex digits:
// the prefix lets secret scanners and people recognise a Trunkline token.
std::optional<std::string> new_secret() {
    unsigned char buf[32];
    std::size_t got = 0;
    while (got < sizeof buf) {
        const ssize_t n = ::getrandom(buf + got, sizeof buf - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::nullopt;
        }
        got += static_cast<std::size_t>(n);
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s = "tl_";
    for (unsigned char b : buf) {
        s += kHex[b >> 4];
        s += kHex[b & 0xf];
    }
    return s;
}

std::string utc(std::int64_t ms) {
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
    return b;
}

std::unique_ptr<sw::api::sqlite::Store> open(const std::string& db, std::string* err) {
    cli::ensure_dir(db);
    return sw::api::sqlite::Store::open(db, err);
}

int add(const std::string& db, const Args& a) {
    const auto& pos = a.positionals();
    if (pos.size() != 1) return cli::usage(kToken, "add needs one NAME");
    const std::string& name = pos[0];
    if (!valid_name(name))
        return cli::bad(kToken, "NAME " + cli::show_value(name) +
                                    ": 1..64 of letters, digits, '.', '_', '-'");
    if (!a.has("--scope")) return cli::usage(kToken, "add needs --scope read|admin");
    const std::string scope = a.get("--scope");
    if (scope != "read" && scope != "admin")
        return cli::bad(kToken, cli::opt_text("--scope", scope) + ": expected read or admin");
    const auto secret = new_secret();
    if (!secret) return cli::runtime(kToken, "no random bytes from the kernel");
    sip::crypto::EvpHasher hasher;
    const auto hash = hasher.digest_hex(sip::auth::Hash::SHA256, {std::string_view(*secret)});
    if (!hash) return cli::runtime(kToken, "SHA-256 is not available");
    std::string err;
    auto st = open(db, &err);
    if (!st) return cli::runtime(kToken, err);
    const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    const auto added = st->add({name, scope, *hash, now}, &err);
    if (!added) return cli::runtime(kToken, err);
    if (!*added)
        return cli::runtime(kToken, "a token named " + name + " exists (remove it first)");
    if (a.flag("--json")) {
        std::cout << "{\"name\": \"" << name << "\", \"scope\": \"" << scope
                  << "\", \"token\": \"" << *secret << "\"}\n";
    } else {
        std::cout << *secret << "\n";
        std::cerr << "token " << name << " (" << scope
                  << ") added; the secret above is shown this once\n";
    }
    return cli::kOk;
}

int list(const std::string& db, bool json) {
    std::string err;
    auto st = open(db, &err);
    auto rows = st ? st->list(&err) : std::nullopt;
    if (!rows) return cli::runtime(kToken, err);
    if (json) {
        std::cout << "{\"tokens\": [";
        bool first = true;
        for (const auto& t : *rows) {
            std::cout << (first ? "" : ", ") << "{\"name\": \"" << t.name << "\", \"scope\": \""
                      << t.scope << "\", \"created_ms\": " << t.created_ms << "}";
            first = false;
        }
        std::cout << "]}\n";
        return cli::kOk;
    }
    std::printf("%-24s %-6s %s\n", "NAME", "SCOPE", "CREATED (UTC)");
    for (const auto& t : *rows)
        std::printf("%-24s %-6s %s\n", t.name.c_str(), t.scope.c_str(), utc(t.created_ms).c_str());
    std::printf("%zu tokens\n", rows->size());
    return cli::kOk;
}

int remove(const std::string& db, const Args& a) {
    const auto& pos = a.positionals();
    if (pos.size() != 1) return cli::usage(kToken, "remove needs one NAME");
    std::string err;
    auto st = open(db, &err);
    if (!st) return cli::runtime(kToken, err);
    const auto removed = st->remove(pos[0], &err);
    if (!removed) return cli::runtime(kToken, err);
    if (!*removed) return cli::runtime(kToken, "no token named " + cli::show_value(pos[0]));
    return cli::done(a, "token " + pos[0] + " removed\n", {{"name", cli::json_text(pos[0])}, {"removed", "true"}});
}

}  // namespace

int cmd_token(const std::string& db, int argc, char** argv, int first) {
    Args a;
    std::string sub;
    if (int rc = cli::parse(kToken, argc, argv, first, {{"--scope"}, {"--json"}}, a, sub); rc >= 0)
        return rc;
    if (sub == "add") return add(db, a);
    if (sub == "list") {
        if (!a.positionals().empty()) return cli::usage(kToken, "list takes no argument");
        return list(db, a.flag("--json"));
    }
    if (sub == "remove") return remove(db, a);
    return cli::usage(kToken, "unknown subcommand '" + sub + "'");
}

}  // namespace trunkctl

// trunkctl domain list|show|add|remove|resolve — domain entries in the SQLite database and
// their status: "what address is this gateway using, since when, and why".
//
//   trunkctl domain add sip.carrier.com --ttl 60 --transport udp --port 5060
//   trunkctl domain resolve sip.carrier.com --server 127.0.0.1:5353
//   trunkctl domain show sip.carrier.com
//
// `resolve` runs a real resolution (c-ares on a one-shot libuv loop, RFC 3263), prints the
// status and records it; `show` prints the entry and the last recorded status.
#include "domain_cmd.hpp"

#include <uv.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include "api_client.hpp"
#include "args.hpp"
#include "cli_util.hpp"
#include "route/domain/ares/resolver.hpp"
#include "route/domain/cache.hpp"
#include "route/domain/sqlite/store.hpp"

namespace trunkctl {

const char* const kDomainHelp = R"(usage:
  trunkctl domain list [--json]
      Every domain entry with its state and addresses: through the API the running
      cache's (live: fresh, stale, failing, resolving; TTL left); offline the last
      recorded by `domain resolve`.
  trunkctl domain show NAME [--json]
      The entry and its status: through the API the running cache's (addresses, TTL left,
      since when, last error, next refresh); offline the last recorded one: addresses in
      use order, the SRV/NAPTR records behind them, TTL, last change (when, from what,
      why), last error, stale.
  trunkctl domain add NAME [--ttl SECONDS] [--transport udp|tcp|tls] [--port PORT] [--json]
      Add or update an entry. --ttl overrides the records' TTL; with --port only A/AAAA
      are asked, with --transport only that transport's SRV (RFC 3263), else NAPTR first.
  trunkctl domain remove NAME [--json]
  trunkctl domain resolve NAME [--server IP:PORT]... [--timeout MS] [--json]
      Resolve now. Through the API the running cache asks again at once (--server does not
      apply) and its answer is shown, waiting up to --timeout (default 5000 ms). Offline
      through DNS from here (servers of /etc/resolv.conf unless --server is given; several
      with a comma), print the status and record it. NAME need not be an entry.
  add and remove write the database, which the running cache follows within a second;
  with --json they print what was done: {"domain":NAME,"spec":...,"added":true} and
  {"domain":NAME,"removed":true}.

exit codes: 0 ok, 1 runtime error or unresolvable name (resolve), 2 usage error
)" TRUNKCTL_PATH_HELP;

namespace {

using namespace route::domain;
using route::domain::sqlite::StatusRecord;
using route::domain::sqlite::Store;

constexpr int kOk = 0;
constexpr int kRuntime = 1;
constexpr int kUsage = 2;

int usage(const std::string& msg) {
    std::cerr << "trunkctl domain: " << msg << "\n" << kDomainHelp;
    return kUsage;
}

int runtime(const std::string& msg) {
    std::cerr << "trunkctl domain: " << msg << "\n";
    return kRuntime;
}

std::unique_ptr<Store> open_store(const std::string& db, std::string* err) {
    std::filesystem::path p(db);
    if (p.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(p.parent_path(), ec);
    }
    return Store::open(db, err);
}

std::string wall_text(std::int64_t unix_s) {
    std::time_t t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

std::string spec_text(const EntrySpec& e) {
    std::string s = "transport " +
                    (e.transport ? std::string(transport_text(*e.transport)) : std::string("any"));
    s += ", port " + (e.port ? std::to_string(*e.port) : std::string("any"));
    s += ", TTL ";
    s += e.ttl_override
             ? std::to_string(
                   std::chrono::duration_cast<std::chrono::seconds>(*e.ttl_override).count()) +
                   " s (override)"
             : std::string("from DNS");
    return s;
}

bool parse_uint(const std::string& s, unsigned long max, unsigned long& out) {
    if (s.empty() || s.size() > 10) return false;
    unsigned long v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned long>(c - '0');
    }
    if (v > max) return false;
    out = v;
    return true;
}

// A random source for RFC 2782 choices, seeded once from the OS (this tool is an adapter).
class OsRandom final : public sip::Random {
  public:
    OsRandom() : gen_(std::random_device{}()) {}
    std::uint64_t next_u64() override { return gen_(); }

  private:
    std::mt19937_64 gen_;
};

std::string spec_json(const EntrySpec& e) {
    std::string o = "\"ttl\": ";
    o += e.ttl_override ? std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*e.ttl_override).count())
                        : "null";
    o += ", \"port\": " + (e.port ? std::to_string(*e.port) : std::string("null"));
    o += ", \"transport\": ";
    if (e.transport) {
        std::string t(transport_text(*e.transport));
        for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        o += "\"" + t + "\"";
    } else {
        o += "null";
    }
    return o;
}

// --json offline: the API's entry object (name, entry, ttl, port, transport) with the status
// recorded in the database in place of the running cache's "live" one.
std::string entry_json(const std::string& name, const std::optional<EntrySpec>& e,
                       const std::optional<StatusRecord>& st) {
    std::string o = "{\"name\": " + cli::json_text(name) + ", \"entry\": " + (e ? "true" : "false") + ", " +
                    spec_json(e.value_or(EntrySpec{})) + ", \"recorded\": ";
    if (!st) return o + "null}";
    return o + "{\"state\": " + cli::json_text(st->state) + ", \"addresses\": " + cli::json_text(st->addresses) +
           ", \"recorded_ms\": " + std::to_string(st->recorded_at * 1000) +
           ", \"last_error\": " + cli::json_text(st->last_error) + "}}";
}

int do_list(Store& store, bool json) {
    std::string err;
    auto entries = store.entries(&err);
    if (!err.empty()) return runtime(err);
    if (json) {
        std::cout << "{\"domains\": [";
        for (std::size_t i = 0; i < entries.size(); ++i) {
            auto st = store.status(entries[i].name, &err);
            std::cout << (i ? ", " : "") << entry_json(entries[i].name, entries[i], st);
        }
        std::cout << "]}\n";
        return kOk;
    }
    if (entries.empty()) {
        std::cout << "no domain entries\n";
        return kOk;
    }
    for (const auto& e : entries) {
        std::cout << e.name << "  (" << spec_text(e) << ")\n";
        auto st = store.status(e.name, &err);
        if (st) {
            std::cout << "    " << st->state << ": "
                      << (st->addresses.empty() ? "(no address)" : st->addresses) << "  [recorded "
                      << wall_text(st->recorded_at) << "]\n";
        } else {
            std::cout << "    never resolved (trunkctl domain resolve " << e.name << ")\n";
        }
    }
    return kOk;
}

int do_show(Store& store, const std::string& name, bool json) {
    std::string err;
    auto e = store.get(name, &err);
    if (!err.empty()) return runtime(err);
    auto st = store.status(name, &err);
    if (!e && !st) return runtime("no domain entry '" + name + "'");
    if (json) {
        std::cout << entry_json(name, e, st) << "\n";
        return kOk;
    }
    if (e) {
        std::cout << e->name << "  (operator entry; " << spec_text(*e) << ")\n";
    } else {
        std::cout << name << "  (not an entry; status from a past resolve)\n";
    }
    if (!st) {
        std::cout << "  never resolved: run `trunkctl domain resolve " << name << "`\n";
        return kOk;
    }
    std::cout << "  status recorded " << wall_text(st->recorded_at) << ":\n" << st->report;
    return kOk;
}

int do_resolve(Store& store, const std::string& name, const Args& a) {
    std::string err;
    EntrySpec spec;
    spec.name = name;
    auto stored_spec = store.get(name, &err);
    if (!err.empty()) return runtime(err);
    const bool stored = stored_spec.has_value();
    if (stored) spec = *stored_spec;

    ares::ResolverConfig rc;
    if (a.has("--server")) {
        std::string list = a.get("--server");
        for (std::size_t pos = 0; pos <= list.size();) {
            auto comma = list.find(',', pos);
            if (comma == std::string::npos) comma = list.size();
            if (comma > pos) rc.servers.push_back(list.substr(pos, comma - pos));
            pos = comma + 1;
        }
    }
    unsigned long timeout_ms = 5000;
    if (a.has("--timeout") && !parse_uint(a.get("--timeout"), 600000, timeout_ms)) {
        return usage("--timeout needs milliseconds");
    }
    rc.timeout = std::chrono::milliseconds(std::max(100ul, timeout_ms / 4));
    rc.tries = 2;

    uv_loop_t loop;
    uv_loop_init(&loop);
    OsRandom rng;
    CacheConfig cfg;
    cfg.resolution_timeout = std::chrono::milliseconds(timeout_ms);
    int rc_exit = kOk;
    {
        DomainCache cache(cfg, rng);
        auto res = ares::Resolver::create(&loop, cache, rc, &err);
        if (!res) {
            uv_loop_close(&loop);
            return runtime(err);
        }
        const Instant start = res->now();
        const auto wall0 = std::chrono::system_clock::now();
        bool done = false;
        res->set_observer([&](const Action& act) {
            if (std::holds_alternative<Resolved>(act) || std::holds_alternative<Resume>(act)) {
                done = true;
            }
        });
        // A stored entry is resolved with its settings; any other name as on first use.
        bool ok = true;
        if (stored) {
            ok = cache.add(spec, start);
        } else {
            (void)cache.lookup(name, start, 1);
            ok = cache.status(name, start).has_value();
        }
        if (!ok) {
            res.reset();
            uv_run(&loop, UV_RUN_DEFAULT);
            uv_loop_close(&loop);
            return usage("'" + name + "' is not a host name or IP address");
        }
        res->kick();
        // Bounded: the cache's resolution_timeout ends the resolution at the latest.
        while (!done && uv_run(&loop, UV_RUN_ONCE) != 0) {
        }
        uv_update_time(&loop);
        const Instant now = res->now();
        auto to_unix = [&](Instant t) {
            return std::chrono::duration_cast<std::chrono::seconds>(
                       (wall0 +
                        std::chrono::duration_cast<std::chrono::system_clock::duration>(t - start))
                           .time_since_epoch())
                .count();
        };
        auto st = cache.status(name, now);
        if (!st) return runtime("internal: entry vanished");
        const std::string report =
            format_status(*st, now, [&](Instant t) { return wall_text(to_unix(t)); });
        if (a.flag("--json")) {  // the same object as through the API
            std::cout << "{\"name\": " << cli::json_text(name) << ", \"addresses\": [";
            for (std::size_t i = 0; i < st->targets.size(); ++i)
                std::cout << (i ? ", " : "") << cli::json_text(to_string(st->targets[i]));
            std::cout << "]}\n";
        } else {
            std::cout << report;
        }
        StatusRecord r;
        r.name = st->spec.name;
        r.recorded_at = to_unix(now);
        r.state = std::string(entry_state_name(st->state));
        for (const auto& t : st->targets) {
            if (!r.addresses.empty()) r.addresses += ", ";
            r.addresses += to_string(t);
        }
        if (st->changed_at) r.changed_at = to_unix(*st->changed_at);
        r.change_reason = st->change_reason;
        if (st->last_error != ErrorKind::None) {
            r.last_error =
                std::string(error_kind_name(st->last_error)) + " (" + st->last_error_detail + ")";
            if (st->last_error_at) r.last_error_at = to_unix(*st->last_error_at);
        }
        r.report = report;
        if (!store.save_status(r, &err)) std::cerr << "trunkctl domain: " << err << "\n";
        if (st->targets.empty()) rc_exit = kRuntime;
        res.reset();
    }
    uv_run(&loop, UV_RUN_DEFAULT);  // let libuv finish closing the resolver's handles
    uv_loop_close(&loop);
    return rc_exit;
}

// ---- through the API: the running domain cache's live state --------------------------------

const cli::Cmd kDomain{"domain", kDomainHelp};

EntrySpec spec_from(const api::Json& v) {
    EntrySpec e;
    e.name = v.str("name");
    if (auto t = v.opt_num("ttl")) e.ttl_override = std::chrono::seconds(*t);
    if (auto p = v.opt_num("port")) e.port = static_cast<std::uint16_t>(*p);
    const std::string t = v.str("transport");
    if (t == "udp") e.transport = sip::Transport::Udp;
    if (t == "tcp") e.transport = sip::Transport::Tcp;
    if (t == "tls") e.transport = sip::Transport::Tls;
    return e;
}

std::string addresses_of(const api::Json& live) {
    std::string a;
    for (const api::Json& t : live.list("addresses")) a += (a.empty() ? "" : ", ") + t.text;
    return a;
}

// The list's second line, as the database path's: "    STATE: ADDRESSES  [...]".
void live_line(const api::Json& d) {
    const api::Json* l = d.get("live");
    if (!l || l->kind != api::Json::Kind::object) {
        std::cout << "    not in the running cache\n";
        return;
    }
    const std::string a = addresses_of(*l);
    std::cout << "    " << l->str("state") << ": " << (a.empty() ? "(no address)" : a) << "  [live, TTL left "
              << l->str("ttl_left_s") << " s]\n";
}

void live_rows(const api::Json& d) {
    const api::Json* l = d.get("live");
    if (!l || l->kind != api::Json::Kind::object) {
        std::cout << "  not in the running cache (it resolves a name on first use)\n";
        return;
    }
    auto when = [&](std::string_view k) {
        auto t = l->opt_num(k);
        return t ? wall_text(*t / 1000) : std::string("-");
    };
    const std::string a = addresses_of(*l);
    std::cout << "  live status (the running trunkline's cache):\n"
              << "    state: " << l->str("state") << (l->flag("resolving") ? " (resolving now)" : "") << "\n"
              << "    addresses: " << (a.empty() ? "(none)" : a) << "\n"
              << "    TTL left: " << l->str("ttl_left_s") << " s\n"
              << "    since: " << when("since_ms") << "\n"
              << "    last resolved: " << when("last_resolved_ms") << "\n"
              << "    next refresh: " << when("next_refresh_ms") << "\n";
    if (!l->is_null("stale_until_ms")) std::cout << "    stale until: " << when("stale_until_ms") << "\n";
    if (!l->is_null("last_error"))
        std::cout << "    last error: " << l->str("last_error") << " at " << when("last_error_ms") << "\n";
    if (!l->str("change_reason").empty()) std::cout << "    last change: " << l->str("change_reason") << "\n";
}

void live_show_text(const std::string& name, const api::Json& d) {
    if (d.flag("entry"))
        std::cout << name << "  (operator entry; " << spec_text(spec_from(d)) << ")\n";
    else
        std::cout << name << "  (not an entry; a name the running cache holds)\n";
    live_rows(d);
}

int live_list(const api::Endpoint& ep, bool json) {
    int rc = kOk;
    std::string raw;
    auto j = api::Client(ep).get(kDomain, "/api/domains", rc, &raw);
    if (!j) return rc;
    if (json) return std::cout << raw << (raw.empty() || raw.back() != '\n' ? "\n" : ""), kOk;
    const auto& list = j->list("domains");
    if (list.empty()) {
        std::cout << "no domain entries\n";
        return kOk;
    }
    for (const api::Json& d : list) {
        std::cout << d.str("name") << "  (" << spec_text(spec_from(d)) << ")\n";
        live_line(d);
    }
    return kOk;
}

int live_show(const api::Endpoint& ep, const std::string& name, bool json) {
    int rc = kOk;
    std::string raw;
    auto j = api::Client(ep).get(kDomain, "/api/domains/" + api::escape(name), rc, &raw);
    if (!j) return rc;
    if (json) return std::cout << raw << (raw.empty() || raw.back() != '\n' ? "\n" : ""), kOk;
    live_show_text(name, *j);
    return kOk;
}

// "Resolve now" in the running cache, then its answer: the entry is read again until the
// resolution is over or --timeout passes. Exit 1 when no address came, as offline.
int live_resolve(const api::Endpoint& ep, const std::string& name, const Args& a) {
    if (a.has("--server")) return usage("--server asks other DNS servers from here: use it with --offline");
    unsigned long timeout_ms = 5000;
    if (a.has("--timeout") && !parse_uint(a.get("--timeout"), 600000, timeout_ms))
        return usage("--timeout needs milliseconds");
    const api::Client cl(ep);
    int rc = kOk;
    const std::string path = "/api/domains/" + api::escape(name);
    auto j = cl.call(kDomain, "POST", path + "/resolve", rc, 202);
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (j) {
        const api::Json* l = j->get("live");
        if (!l || !l->flag("resolving") || std::chrono::steady_clock::now() >= until) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        j = cl.get(kDomain, path, rc);
    }
    if (!j) return rc;
    if (a.flag("--json")) {
        std::cout << "{\"name\": " << cli::json_text(name) << ", \"addresses\": [";
        if (const api::Json* l = j->get("live"))
            for (std::size_t i = 0; i < l->list("addresses").size(); ++i)
                std::cout << (i ? ", " : "") << cli::json_text(l->list("addresses")[i].text);
        std::cout << "]}\n";
    } else {
        live_show_text(name, *j);
    }
    const api::Json* l = j->get("live");
    return l && !l->list("addresses").empty() ? kOk : kRuntime;
}

}  // namespace

int cmd_domain(const std::string& db, const api::Remote& remote, int argc, char** argv, int first) {
    if (first >= argc) return usage("missing subcommand");
    const std::string sub = argv[first];
    if (sub == "--help" || sub == "-h" || sub == "help") {
        std::cout << kDomainHelp;
        return kOk;
    }
    OptionSpec spec;
    spec.flags = {"--help", "--json"};
    if (sub == "add") spec.with_value = {"--ttl", "--transport", "--port"};
    if (sub == "resolve") spec.with_value = {"--server", "--timeout"};
    Args a;
    if (!a.parse(argc, argv, first + 1, spec)) return usage(a.error());
    if (a.flag("--help")) {
        std::cout << kDomainHelp;
        return kOk;
    }
    const auto& pos = a.positionals();
    const std::size_t want = sub == "list" ? 0 : 1;
    if (sub != "list" && sub != "show" && sub != "add" && sub != "remove" && sub != "resolve") {
        return usage("unknown subcommand '" + sub + "'");
    }
    if (pos.size() != want) return usage(sub + (want ? " needs NAME" : " takes no arguments"));
    const bool json = a.flag("--json");
    // The entries themselves are data (add, remove: the database, which the running cache
    // follows); what they resolve to now is the running server's (list, show, resolve).
    if (remote.live() && (sub == "list" || sub == "show" || sub == "resolve")) {
        if (sub == "list") return live_list(*remote.endpoint, json);
        const std::string name = normalize_name(pos[0]);
        if (sub == "show") return live_show(*remote.endpoint, name, json);
        return live_resolve(*remote.endpoint, name, a);
    }

    std::string err;
    auto store = open_store(db, &err);
    if (!store) return runtime(err);
    if (sub == "list") return do_list(*store, json);
    const std::string name = normalize_name(pos[0]);
    if (sub == "show") return do_show(*store, name, json);
    if (sub == "resolve") return do_resolve(*store, name, a);
    if (sub == "remove") {
        if (!store->remove(name, &err)) {
            return runtime(err.empty() ? "no domain entry '" + name + "'" : err);
        }
        return cli::done(a, "removed " + name + "\n", {{"domain", cli::json_text(name)}, {"removed", "true"}});
    }
    // add
    EntrySpec e;
    e.name = name;
    if (!IpAddress::parse(name)) {
        // Same rule as the cache: letters, digits, '-', '_', dots between non-empty labels.
        CacheConfig cfg;
        struct NoRandom final : sip::Random {
            std::uint64_t next_u64() override { return 0; }
        } rng;
        DomainCache probe(cfg, rng);
        if (!probe.add(e, Instant{}))
            return usage("'" + name + "' is not a host name or IP address");
    }
    unsigned long v = 0;
    if (a.has("--ttl")) {
        if (!parse_uint(a.get("--ttl"), 7 * 86400, v))
            return usage("--ttl needs seconds (0..604800)");
        e.ttl_override = std::chrono::seconds(v);
    }
    if (a.has("--port")) {
        if (!parse_uint(a.get("--port"), 65535, v) || v == 0) return usage("--port needs 1..65535");
        e.port = static_cast<std::uint16_t>(v);
    }
    if (a.has("--transport")) {
        std::string t = a.get("--transport");
        for (char& c : t)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (t == "udp")
            e.transport = sip::Transport::Udp;
        else if (t == "tcp")
            e.transport = sip::Transport::Tcp;
        else if (t == "tls")
            e.transport = sip::Transport::Tls;
        else
            return usage("--transport is udp, tcp or tls");
    }
    if (!store->put(e, &err)) return runtime(err);
    return cli::done(a, "domain " + e.name + ": " + spec_text(e) + "\n",
                     {{"domain", cli::json_text(e.name)}, {"spec", cli::json_text(spec_text(e))}, {"added", "true"}});
}

}  // namespace trunkctl

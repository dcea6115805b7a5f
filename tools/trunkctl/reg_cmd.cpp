// trunkctl user|binding|suspend|trunk-reg — registration state in the SQLite database: SIP
// users of the registrar (HA1 only, never the password), the registrar's bindings (list,
// show, remove), its suspensions (list, lift) and the outbound (carrier) registrations with
// their live state written by trunkline.
//
//   trunkctl user add alice --password-file alice.pw
//   trunkctl binding list alice
//   trunkctl suspend lift alice
//   trunkctl trunk-reg add carrier-a --server sip.carrier.example --user 4420001 --password-file pw
//   trunkctl trunk-reg show carrier-a
//
// Passwords of SIP users are hashed here (HA1 for MD5, SHA-256 and SHA-512-256, RFC 7616
// §3.4.2) and never stored; carrier passwords are stored (the file is mode 0600) and never
// printed.
#include "reg_cmd.hpp"

#include <arpa/inet.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api_client.hpp"
#include "args.hpp"
#include "cli_util.hpp"
#include "route/reg/registrar.hpp"
#include "route/reg/sqlite/store.hpp"
#include "sip/auth/digest.hpp"
#include "sip/crypto/evp_hasher.hpp"
#include "sw/trunk_form.hpp"

namespace trunkctl {

const char* const kUserHelp = R"(usage:
  trunkctl user add NAME [--realm R] [--password P | --password-file F]
      Add a SIP user of the registrar (realm default "trunkline"). Without --password and
      --password-file one line is read from standard input (prompted, without echo, on a
      terminal). Only HA1 = H(NAME:R:password) is stored, for MD5, SHA-256 and SHA-512-256.
      --password shows the password to other local users (ps); prefer a file or stdin.
  trunkctl user passwd NAME [--realm R] [--password P | --password-file F]
      New password (and realm, if given; otherwise the current one) for an existing user.
  trunkctl user remove NAME
      Remove the user and its registrar bindings (every AOR whose user part is NAME): from
      the database, and from the running trunkline through a queued command.
  trunkctl user list [--json]
      Name, realm, enabled and creation time of every user (never a hash); --json:
      {"users": [{"name","realm","enabled","created_ms"}]}.
  --json (every subcommand): add, passwd and remove print one object saying what was
      done, e.g. {"user":"u1","realm":"trunkline","added":true}, after success only.

NAME: 1..64 characters of an RFC 3261 user part: letters, digits and -_.!~*'()&=+$,;?/
exit codes: 0 ok, 1 data or runtime error (user exists / unknown user), 2 usage error
)";

const char* const kSuspendHelp = R"(usage:
  trunkctl suspend list [--json]
      The registrar's active suspensions (too many failed authentications): key (user
      name or IP address), kind, until (UTC) and the seconds remaining. Kinds: "ip" (the
      address, for every user that has not authenticated from it lately), "user@IP" (the
      user from that address only; the default counting), "user" (the user from every
      address it has not authenticated from lately; registrar.suspend_scope = "user").
  trunkctl suspend lift KEY [--both] [--json]
      Remove the suspensions of KEY (user name or IP address; an address also lifts the
      user@IP suspensions at it): through the API in the running registrar at once;
      offline from the database, and the running trunkline is asked to lift it too (a
      queued command: its view may be newer than the database's). Prints "lifted KEY" or
      "KEY is not suspended" (not an error). The failed attempts that suspend a user at an
      address usually suspend the address too, and a suspended address gets 403 for
      every user: lifting one of the two leaves the other, and a note says so. --both
      lifts that other suspension as well.

exit codes: 0 ok, 1 runtime error, 2 usage error
)" TRUNKCTL_PATH_HELP;

const char* const kBindingHelp = R"(usage:
  trunkctl binding list [USER|AOR] [--json]
      The registrar's bindings: through the API the running registrar's own; offline as
      trunkline last saved them (it writes them behind, within [database]
      binding_flush_ms). AOR, contact, expiry (UTC) and seconds left, the address the
      REGISTER came from, and "down" when keep-alive OPTIONS go unanswered.
  trunkctl binding show USER|AOR [--json]
      Every field of each binding of the AOR, or of every AOR of USER (the API does not
      tell Call-ID, CSeq, Path and reg-id).
  trunkctl binding remove USER|AOR [CONTACT] [--json]
      Remove the bindings (or the one whose contact is CONTACT): through the API from the
      running registrar at once (none: an error); offline from the database, and the
      running trunkline is asked to remove them too (a queued command). A device that
      registers again is bound again: remove or change its user to keep it out.

USER: a user name (every AOR with that user part); AOR: sip:user@domain
exit codes: 0 ok, 1 runtime error, 2 usage error
)" TRUNKCTL_PATH_HELP;

const char* const kTrunkRegHelp = R"(usage:
  trunkctl trunk-reg add NAME --server HOST --user AOR_USER [OPTIONS]
                         [--password P | --password-file F]
      Register trunkline at a carrier's registrar. Without --password and --password-file
      one line is read from standard input. The password is stored in the database (mode
      0600) and never printed.
  trunkctl trunk-reg set NAME OPTIONS
      Change only the given fields of an entry.
  trunkctl trunk-reg remove NAME
  trunkctl trunk-reg list [--json]
      One line per entry: name, server:port/transport, user, state, binding expiry.
  trunkctl trunk-reg show NAME [--json]
      Every configured field (password as ********) and the live state (through the API the
      running switch's own; offline what trunkline recorded):
      state, reason, registered until, last response, next attempt, failures, Call-ID, CSeq,
      contact, the registrar address in use, what DNS says about a host name (ok, stale:
      the last answer used past its TTL, failed, resolving; since when), last update, and
      whether the last stop left nothing behind at the carrier.
  trunkctl trunk-reg register NAME
      Send a REGISTER now (the running trunkline, through the API only).
  add, set and remove write the database, which the running trunkline follows.
  --json (every subcommand): add, set, remove and register print one object saying what
      was done, e.g. {"trunk_reg":"carrier-a","removed":true}, after success only.

OPTIONS ("default" or an empty value restores trunkline's configured default):
  --server HOST                  registrar host name or IP address (no port: see --port)
  --port N                       1..65535; default 5060 (5061 TLS), or SRV for a host name
  --transport udp|tcp|tls        default udp
  --outbound-proxy HOST[:PORT]   send the REGISTER there instead
  --user AOR_USER                user part of the registered AOR
  --domain D                     AOR domain (default: the server)
  --auth-user U                  digest user name (default: AOR_USER)
  --password P | --password-file F
  --contact-host H               host in Contact (default: trunkline's contact host)
  --contact-port N               1..65535 (default: trunkline's listen port)
  --expires auto|20..7200        seconds asked for; auto: send none, accept the grant
  --retry-delay 30..600          seconds between failed attempts
  --privacy ignore|id|none       Privacy header on the REGISTER (ignore: none sent)
  --send-unregister on|off       unregister when trunkline stops
  --disabled | --enabled         keep the entry but do not register / register again

NAME: 1..64 letters, digits, '-', '_', '.'
exit codes: 0 ok, 1 data or runtime error (entry exists / unknown entry), 2 usage error
)" TRUNKCTL_PATH_HELP;

namespace {

using route::reg::Privacy;
using route::reg::sqlite::Store;
using route::reg::sqlite::StoredBinding;
using route::reg::sqlite::SuspensionRecord;
using route::reg::sqlite::TrunkReg;
using route::reg::sqlite::TrunkRegState;
using sip::auth::Algorithm;

using cli::bad;
using cli::Cmd;
using cli::ensure_dir;
using cli::is_ipv4;
using cli::is_ipv6;
using cli::kOk;
using cli::kRuntime;
using cli::kUsage;
using cli::lower;
using cli::opt_text;
using cli::parse;
using cli::runtime;
using cli::show_value;
using cli::usage;
using cli::valid_host;

std::unique_ptr<Store> open_store(const std::string& db, std::string* err) {
    ensure_dir(db);
    return Store::open(db, err);
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string wall_text(std::int64_t unix_ms) {
    std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

// Whole seconds from now until `at`, rounded up (a suspension 0.2 s from its end: 1 s).
std::int64_t seconds_until(std::int64_t at_ms, std::int64_t now) {
    return (at_ms - now + 999) / 1000;
}

// "2026-11-26 10:05:00 UTC (in 295 s)" / "(12 s ago)".
std::string when_text(std::int64_t at_ms, std::int64_t now) {
    std::string s = wall_text(at_ms);
    if (at_ms > now) return s + " (in " + std::to_string(seconds_until(at_ms, now)) + " s)";
    return s + " (" + std::to_string((now - at_ms) / 1000) + " s ago)";
}


// --- names and hosts --------------------------------------------------------------------

using sw::trunk_form::check_quotable;
using sw::trunk_form::check_user_part;

// --- passwords --------------------------------------------------------------------------

std::string strip_eol(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    return s;
}

// One line from standard input; on a terminal prompted on stderr with echo off.
std::optional<std::string> read_stdin_line() {
    const bool tty = isatty(STDIN_FILENO) != 0;
    termios old{};
    bool restore = false;
    if (tty) {
        std::cerr << "password: " << std::flush;
        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            termios t = old;
            t.c_lflag &= ~static_cast<tcflag_t>(ECHO);
            restore = tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
        }
    }
    std::string line;
    const bool got = static_cast<bool>(std::getline(std::cin, line));
    if (restore) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    if (tty) std::cerr << "\n";
    if (!got) return std::nullopt;
    return strip_eol(line);
}

// The password from --password, --password-file or (when `stdin_fallback`) standard input.
// Returns kOk with `out` set (or unset: none given and no fallback), or an exit code after
// printing the message.
int get_password(const Cmd& c, const Args& a, bool stdin_fallback,
                 std::optional<std::string>& out) {
    out.reset();
    if (a.has("--password") && a.has("--password-file")) {
        return bad(c, "give --password or --password-file, not both");
    }
    if (a.has("--password")) {
        out = a.get("--password");
        if (out->empty()) return bad(c, "--password: the password is empty");
    } else if (a.has("--password-file")) {
        const std::string f = a.get("--password-file");
        std::ifstream in(f, std::ios::binary);
        if (!in)
            return runtime(c, "--password-file " + f + ": cannot read: " + std::strerror(errno));
        std::string line;
        std::getline(in, line);
        out = strip_eol(line);
        if (out->empty()) return runtime(c, "--password-file " + f + ": the first line is empty");
    } else if (stdin_fallback) {
        out = read_stdin_line();
        if (!out)
            return bad(c, "no password: give --password, --password-file or one line on stdin");
        if (out->empty()) return bad(c, "the password read from standard input is empty");
    } else {
        return kOk;
    }
    if (out->find('\n') != std::string::npos || out->find('\0') != std::string::npos) {
        return bad(c, "the password must be one line");
    }
    return kOk;
}

// Pads `cells` into columns separated by two spaces.
void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> w;
    for (const auto& r : rows) {
        w.resize(std::max(w.size(), r.size()));
        for (std::size_t i = 0; i < r.size(); ++i)
            w[i] = std::max(w[i], r[i].size());
    }
    for (const auto& r : rows) {
        std::string line;
        for (std::size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line += std::string(w[i] - r[i].size() + 2, ' ');
        }
        std::cout << line << "\n";
    }
}

// --- bindings ---------------------------------------------------------------------------

// The user part of a canonical AOR ("sip:alice@trunkline" -> "alice"; none: "").
std::string aor_user(const std::string& aor) {
    const auto colon = aor.find(':');
    const auto at = aor.rfind('@');
    if (colon == std::string::npos || at == std::string::npos || at < colon) return {};
    return aor.substr(colon + 1, at - colon - 1);
}

// The AORs in the database whose user part is `user`.
std::vector<std::string> aors_of(Store& store, const std::string& user, std::string* err) {
    std::vector<std::string> out;
    for (const StoredBinding& b : store.bindings(err))
        if (aor_user(b.aor) == user &&
            (out.empty() || out.back() != b.aor))  // rows come ordered by aor
            out.push_back(b.aor);
    return out;
}

// --- user -------------------------------------------------------------------------------

const Cmd kUser{"user", kUserHelp};

std::map<Algorithm, std::string> compute_ha1(const std::string& name, const std::string& realm,
                                             const std::string& password) {
    sip::crypto::EvpHasher hasher;
    std::map<Algorithm, std::string> out;
    for (Algorithm alg : {Algorithm::MD5, Algorithm::SHA256, Algorithm::SHA512_256}) {
        if (auto h = sip::auth::ha1(hasher, alg, name, realm, password)) {
            out[alg] = *h;
        } else {
            std::cerr << "trunkctl user: warning: " << sip::auth::algorithm_name(alg)
                      << " is not available in this OpenSSL; no HA1 stored for it\n";
        }
    }
    return out;
}

std::string algorithms_text(const std::map<Algorithm, std::string>& ha1) {
    std::string s;
    for (const auto& [alg, hex] : ha1) {
        if (!s.empty()) s += ", ";
        s += sip::auth::algorithm_name(alg);
    }
    return s;
}

int user_list(Store& store, bool json) {
    std::string err;
    auto users = store.users(&err);
    if (!err.empty()) return runtime(kUser, err);
    if (json) {  // {"users": [{"name","realm","enabled","created_ms"}]}, never a hash
        std::string list;
        for (const auto& u : users)
            list += (list.empty() ? "" : ",") +
                    cli::json_object({{"name", cli::json_text(u.username)}, {"realm", cli::json_text(u.realm)},
                                      {"enabled", cli::json_bool(u.enabled)},
                                      {"created_ms", std::to_string(u.created_ms)}});
        std::cout << "{\"users\":[" << list << "]}\n";
        return kOk;
    }
    if (users.empty()) {
        std::cout << "no SIP users\n";
        return kOk;
    }
    std::vector<std::vector<std::string>> rows{{"NAME", "REALM", "ENABLED", "CREATED"}};
    for (const auto& u : users)
        rows.push_back({u.username, u.realm, u.enabled ? "yes" : "no", wall_text(u.created_ms)});
    print_table(rows);
    return kOk;
}

// add / passwd
int user_set_password(Store& store, const Args& a, const std::string& sub, const std::string& name,
                      const std::optional<std::string>& realm_opt, const std::string& password) {
    std::string err;
    auto existing = store.user(name, &err);
    if (!err.empty()) return runtime(kUser, err);
    if (sub == "add" && existing) {
        return runtime(kUser, "user " + name + " already exists (trunkctl user passwd " + name +
                                  " changes its password)");
    }
    if (sub == "passwd" && !existing) {
        return runtime(kUser, "no user " + name + " (trunkctl user add " + name + " adds it)");
    }
    route::reg::sqlite::SipUser u;
    if (existing) u = *existing;
    u.username = name;
    u.realm = realm_opt ? *realm_opt : existing ? existing->realm : std::string("trunkline");
    u.ha1 = compute_ha1(name, u.realm, password);
    if (u.ha1.empty()) return runtime(kUser, "no digest algorithm available; nothing stored");
    u.created_ms = 0;  // new: now; existing: kept
    if (!store.put_user(u, &err)) return runtime(kUser, err);
    if (sub == "add")
        return cli::done(a, "added user " + name + " (realm " + u.realm + "; HA1 for " + algorithms_text(u.ha1) + ")\n",
                         {{"user", cli::json_text(name)}, {"realm", cli::json_text(u.realm)}, {"added", "true"}});
    return cli::done(a, "changed the password of user " + name + " (realm " + u.realm + ")\n",
                     {{"user", cli::json_text(name)}, {"realm", cli::json_text(u.realm)}, {"password_changed", "true"}});
}

// --- trunk-reg --------------------------------------------------------------------------

const Cmd kTrunk{"trunk-reg", kTrunkRegHelp};

std::string transport_lower(sip::Transport t) {
    return lower(std::string(sip::transport_name(t)));
}

std::string privacy_text(Privacy p) {
    switch (p) {
        case Privacy::id:
            return "id";
        case Privacy::none:
            return "none";
        default:
            return "ignore";
    }
}

// The options and the flags --disabled / --enabled as the shared form's values.
class ArgValues final : public sw::gateway_form::Values {
  public:
    explicit ArgValues(const Args& a) : a_(a) {}
    bool has(const std::string& o) const override { return a_.has(o) || a_.flag(o); }
    std::string get(const std::string& o) const override { return a_.get(o); }

  private:
    const Args& a_;
};

// Applies the options given to `r` (validated: sw/trunk_form.hpp, shared with the API).
// `adding`: --server and --user are required.
int apply_trunk_options(const Args& a, TrunkReg& r, bool adding) {
    if (auto e = sw::trunk_form::apply(ArgValues(a), r, adding)) return bad(kTrunk, e->message);
    return kOk;
}

// "sip.carrier.example:5060/udp"; port 0: the default for an IP literal, "SRV" for a name.
std::string server_text(const TrunkReg& r) {
    std::string host = is_ipv6(r.server) ? "[" + r.server + "]" : r.server;
    std::string port;
    if (r.port != 0)
        port = std::to_string(r.port);
    else if (is_ipv4(r.server) || is_ipv6(r.server))
        port = r.transport == sip::Transport::Tls ? "5061" : "5060";
    else
        port = "SRV";
    return host + ":" + port + "/" + transport_lower(r.transport);
}

// The entries and their live state: the running switch's (API) or what it recorded in the
// database. Through the API the REGISTER's Call-ID, CSeq, Contact, the last update and the
// clean stop are not told: `partial`.
struct Trunks {
    std::vector<TrunkReg> regs;
    std::vector<TrunkRegState> states;
    bool partial = false;
    std::string raw;  // the API's answer, for --json
};

std::optional<std::int64_t> opt_ms(const api::Json& j, std::string_view k) { return j.opt_num(k); }

// One /api/carriers object as the database's two records.
void from_carrier_json(const api::Json& v, Trunks& out) {
    TrunkReg r;
    r.name = v.str("name");
    r.server = v.str("server");
    r.port = static_cast<std::uint16_t>(v.num("port"));
    r.transport = sw::form::parse_transport(v.str("transport")).value_or(sip::Transport::Udp);
    r.outbound_proxy = v.str("outbound_proxy");
    r.aor_user = v.str("user");
    r.aor_domain = v.str("domain");
    r.auth_user = v.str("auth_user");
    r.contact_host = v.str("contact_host");
    r.contact_port = static_cast<std::uint16_t>(v.num("contact_port"));
    if (v.str("expires_s") == "auto")
        r.expires_s = 0;
    else if (auto e = v.opt_num("expires_s"))
        r.expires_s = static_cast<std::uint32_t>(*e);
    if (auto d = v.opt_num("retry_delay_s")) r.retry_delay_s = static_cast<std::uint32_t>(*d);
    const std::string privacy = v.str("privacy");
    if (!privacy.empty())
        r.privacy = privacy == "id" ? Privacy::id : privacy == "none" ? Privacy::none : Privacy::ignore;
    if (!v.is_null("send_unregister")) r.send_unregister = v.flag("send_unregister");
    r.enabled = v.flag("enabled");
    if (const api::Json* l = v.get("live"); l && l->kind == api::Json::Kind::object) {
        TrunkRegState st;
        st.name = r.name;
        st.state = l->str("state") == "disabled" ? std::string() : l->str("state");
        st.reason = l->str("reason");
        st.expires_ms = opt_ms(*l, "expires_ms");
        st.next_attempt_ms = opt_ms(*l, "next_attempt_ms");
        st.last_code = static_cast<std::uint16_t>(l->num("last_code"));
        st.last_reason_phrase = l->str("last_reason");
        st.consecutive_failures = static_cast<std::uint32_t>(l->num("consecutive_failures"));
        st.registrar = l->str("registrar");
        if (const api::Json* d = l->get("dns"); d && d->kind == api::Json::Kind::object) {
            st.dns_name = d->str("name");
            st.dns_state = d->str("state");
            st.dns_error = d->str("error");
            st.dns_since_ms = opt_ms(*d, "since_ms");
            st.dns_until_ms = opt_ms(*d, "until_ms");
        }
        out.states.push_back(std::move(st));
    }
    out.regs.push_back(std::move(r));
}

// `name` empty: every entry.
std::optional<Trunks> load_trunks(const std::string& db, const api::Remote& remote, const std::string& name,
                                  int& rc) {
    Trunks out;
    std::string err;
    if (remote.live()) {
        out.partial = true;
        auto j = api::Client(*remote.endpoint)
                     .get(kTrunk, name.empty() ? "/api/carriers" : "/api/carriers/" + api::escape(name), rc, &out.raw);
        if (!j) return std::nullopt;
        if (name.empty())
            for (const api::Json& v : j->list("carriers")) from_carrier_json(v, out);
        else
            from_carrier_json(*j, out);
        return out;
    }
    auto store = open_store(db, &err);
    if (!store) return rc = runtime(kTrunk, err), std::nullopt;
    if (name.empty()) {
        out.regs = store->trunk_regs(&err);
        if (err.empty()) out.states = store->trunk_states(&err);
    } else {
        auto r = store->trunk_reg(name, &err);
        if (err.empty() && !r) return rc = runtime(kTrunk, "no trunk-reg " + name), std::nullopt;
        if (r) out.regs.push_back(*r);
        auto st = err.empty() ? store->trunk_state(name, &err) : std::nullopt;
        if (st) out.states.push_back(*st);
    }
    if (!err.empty()) return rc = runtime(kTrunk, err), std::nullopt;
    rc = kOk;
    return out;
}

const TrunkRegState* state_of(const Trunks& t, const std::string& name) {
    for (const auto& s : t.states)
        if (s.name == name) return &s;
    return nullptr;
}

// --json offline: the API's carrier object (api_carriers.cpp), from the database's records.
std::string trunk_json(const TrunkReg& r, const TrunkRegState* st) {
    using cli::json_text;
    auto text = [](const std::string& v) { return v.empty() ? std::string("null") : json_text(v); };
    auto num = [](auto v, bool has) { return has ? std::to_string(v) : std::string("null"); };
    auto ms = [&](const std::optional<std::int64_t>& v) { return num(v.value_or(0), v.has_value()); };
    std::string o = "{\"name\": " + json_text(r.name) + ", \"server\": " + json_text(r.server) +
                    ", \"port\": " + num(r.port, r.port != 0) + ", \"transport\": " +
                    json_text(transport_lower(r.transport)) + ", \"outbound_proxy\": " + text(r.outbound_proxy) +
                    ", \"user\": " + json_text(r.aor_user) + ", \"domain\": " + text(r.aor_domain) +
                    ", \"auth_user\": " + text(r.auth_user) +
                    ", \"password_set\": " + (r.password.empty() ? "false" : "true") +
                    ", \"contact_host\": " + text(r.contact_host) +
                    ", \"contact_port\": " + num(r.contact_port, r.contact_port != 0) + ", \"expires_s\": " +
                    (!r.expires_s ? "null" : *r.expires_s == 0 ? "\"auto\"" : std::to_string(*r.expires_s)) +
                    ", \"retry_delay_s\": " + num(r.retry_delay_s.value_or(0), r.retry_delay_s.has_value()) +
                    ", \"privacy\": " + (r.privacy ? json_text(privacy_text(*r.privacy)) : "null") +
                    ", \"send_unregister\": " +
                    (!r.send_unregister ? "null" : *r.send_unregister ? "true" : "false") +
                    ", \"enabled\": " + (r.enabled ? "true" : "false") + ", \"live\": ";
    if (!st) return o + "null}";
    o += "{\"state\": " + json_text(st->state) + ", \"reason\": " + json_text(st->reason) +
         ", \"expires_ms\": " + ms(st->expires_ms) + ", \"last_code\": " + num(st->last_code, st->last_code != 0) +
         ", \"last_reason\": " + json_text(st->last_reason_phrase) + ", \"next_attempt_ms\": " +
         ms(st->next_attempt_ms) + ", \"consecutive_failures\": " + std::to_string(st->consecutive_failures) +
         ", \"registrar\": " + text(st->registrar) + ", \"dns\": ";
    if (st->dns_name.empty()) return o + "null}}";
    return o + "{\"name\": " + json_text(st->dns_name) + ", \"state\": " + json_text(st->dns_state) +
           ", \"error\": " + text(st->dns_error) + ", \"since_ms\": " + ms(st->dns_since_ms) +
           ", \"until_ms\": " + ms(st->dns_until_ms) + "}}}";
}

int trunk_list(const Trunks& t, bool json) {
    if (json) {
        if (!t.raw.empty()) return std::cout << t.raw << (t.raw.back() == '\n' ? "" : "\n"), kOk;
        std::cout << "{\"carriers\": [";
        for (std::size_t i = 0; i < t.regs.size(); ++i)
            std::cout << (i ? ", " : "") << trunk_json(t.regs[i], state_of(t, t.regs[i].name));
        std::cout << "]}\n";
        return kOk;
    }
    if (t.regs.empty()) {
        std::cout << "no trunk registrations\n";
        return kOk;
    }
    std::vector<std::vector<std::string>> rows{{"NAME", "SERVER", "USER", "STATE", "EXPIRES"}};
    for (const auto& r : t.regs) {
        const TrunkRegState* st = state_of(t, r.name);
        std::string state = st && !st->state.empty() ? st->state : "-";
        if (!r.enabled) state += " (disabled)";
        const std::string expires =
            st && st->expires_ms ? wall_text(*st->expires_ms) : std::string("-");
        rows.push_back({r.name, server_text(r), r.aor_user, state, expires});
    }
    print_table(rows);
    return kOk;
}

int trunk_show(const Trunks& t, bool json) {
    if (t.regs.empty()) return runtime(kTrunk, "no trunk-reg");
    const TrunkReg* r = &t.regs.front();
    const TrunkRegState* st = state_of(t, r->name);
    if (json) {
        if (!t.raw.empty()) return std::cout << t.raw << (t.raw.back() == '\n' ? "" : "\n"), kOk;
        std::cout << trunk_json(*r, st) << "\n";
        return kOk;
    }
    const std::int64_t now = now_ms();
    auto or_default = [](const std::string& v, const char* dflt) {
        return v.empty() ? std::string("- (") + dflt + ")" : v;
    };
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"  server", r->server});
    rows.push_back({"  port", r->port
                                  ? std::to_string(r->port)
                                  : std::string("- (default: ") +
                                        (r->transport == sip::Transport::Tls ? "5061" : "5060") +
                                        ", or SRV for a host name)"});
    rows.push_back({"  transport", transport_lower(r->transport)});
    rows.push_back({"  outbound proxy", or_default(r->outbound_proxy, "none")});
    rows.push_back({"  user", r->aor_user});
    rows.push_back({"  domain", or_default(r->aor_domain, "the server")});
    rows.push_back({"  auth user", or_default(r->auth_user, "the user")});
    rows.push_back({"  password", "********"});
    rows.push_back({"  contact host", or_default(r->contact_host, "trunkline's contact host")});
    rows.push_back({"  contact port", r->contact_port
                                          ? std::to_string(r->contact_port)
                                          : std::string("- (trunkline's listen port)")});
    rows.push_back({"  expires", !r->expires_s        ? std::string("- (trunkline's default)")
                                 : *r->expires_s == 0 ? std::string("auto")
                                                      : std::to_string(*r->expires_s) + " s"});
    rows.push_back({"  retry delay", r->retry_delay_s ? std::to_string(*r->retry_delay_s) + " s"
                                                      : std::string("- (trunkline's default)")});
    rows.push_back({"  privacy", r->privacy ? privacy_text(*r->privacy)
                                            : std::string("- (trunkline's default)")});
    rows.push_back({"  send unregister", !r->send_unregister
                                             ? std::string("- (trunkline's default)")
                                         : *r->send_unregister ? std::string("on")
                                                               : std::string("off")});
    rows.push_back({"  enabled", r->enabled ? "yes" : "no"});
    std::cout << "trunk-reg " << r->name << "\n";
    print_table(rows);
    if (!st) {
        std::cout << "live state: none recorded (trunkline has not run this entry yet)\n";
        return kOk;
    }
    rows.clear();
    rows.push_back({"  state", st->state.empty() ? "-" : st->state});
    rows.push_back({"  reason", st->reason.empty() ? "-" : st->reason});
    rows.push_back({"  registered until", st->expires_ms ? when_text(*st->expires_ms, now) : "-"});
    rows.push_back({"  last response",
                    st->last_code ? std::to_string(st->last_code) + " " + st->last_reason_phrase
                                  : std::string("- (none or timeout)")});
    rows.push_back(
        {"  next attempt", st->next_attempt_ms ? when_text(*st->next_attempt_ms, now) : "-"});
    rows.push_back({"  consecutive failures", std::to_string(st->consecutive_failures)});
    if (!t.partial) {  // the API does not tell the REGISTER's own fields
        rows.push_back({"  Call-ID", st->persisted.call_id.empty() ? "-" : st->persisted.call_id});
        rows.push_back({"  CSeq", std::to_string(st->persisted.cseq)});
        rows.push_back(
            {"  contact", st->persisted.contact_uri.empty() ? "-" : st->persisted.contact_uri});
    }
    // Where the REGISTERs go, and for a host name what DNS says (issue 12 items 5 and 7).
    rows.push_back({"  registrar address", !st->registrar.empty() ? st->registrar
                                           : st->dns_name.empty()
                                               ? std::string("-")
                                               : std::string("- (none yet: see dns)")});
    if (!st->dns_name.empty()) {
        std::string d = st->dns_name + ": " + st->dns_state;
        if (st->dns_state == "ok") {
            d += " (resolved)";
        } else if (st->dns_state == "resolving") {
            d += " (first answer not in yet)";
        } else {
            if (!st->dns_error.empty()) d += ", " + st->dns_error;
            if (st->dns_since_ms) d += ", failing since " + when_text(*st->dns_since_ms, now);
            if (st->dns_state == "stale") {
                d += "; the last answer is used past its TTL";
                if (st->dns_until_ms) d += " until " + when_text(*st->dns_until_ms, now);
            } else if (!st->registrar.empty() && st->state != "stopped" &&
                       st->state != "unregistered") {
                d += "; the registration stays at the last good address and is refreshed there";
            }
        }
        rows.push_back({"  dns", d});
    }
    // Through the API the state is the running switch's own: no recorded update or stop.
    if (!t.partial) rows.push_back({"  last update", when_text(st->updated_ms, now)});
    if (!t.partial && st->state == "unregistered" && st->clean_stop) {
        rows.push_back({"  clean stop", "yes (unregistered at shutdown)"});
    } else if (!t.partial && (st->state == "stopped" || st->state == "unregistered")) {
        rows.push_back({"  clean stop", st->clean_stop
                                            ? "yes (nothing to remove at the carrier: see reason)"
                                            : "no (the carrier may keep the binding until it "
                                              "expires: see reason)"});
    }
    std::cout << "live state:\n";
    print_table(rows);
    return kOk;
}

// "Register now" exists only in the running switch: the database cannot ask for it.
int trunk_register(const api::Remote& remote, const Args& a, const std::string& name) {
    if (!remote.live())
        return bad(kTrunk, "trunk-reg register needs the running trunkline: give --api ADDR:PORT (or "
                           "TRUNKLINE_API) and a token");
    int rc = kOk;
    auto j = api::Client(*remote.endpoint)
                 .call(kTrunk, "POST", "/api/carriers/" + api::escape(name) + "/register", rc, 202);
    if (!j) return rc;
    const api::Json* live = j->get("live");
    const std::string state = live ? live->str("state") : "-";
    return cli::done(a, "trunk-reg " + name + ": REGISTER sent now (state " + state + "; trunkctl trunk-reg show " +
                            name + " for the answer)\n",
                     {{"trunk_reg", cli::json_text(name)}, {"register_sent", "true"}, {"state", cli::json_text(state)}});
}

}  // namespace

int cmd_user(const std::string& db, int argc, char** argv, int first) {
    OptionSpec spec;
    spec.flags = {"--json"};
    const std::string peek = first < argc ? argv[first] : "";
    if (peek == "add" || peek == "passwd")
        spec.with_value = {"--realm", "--password", "--password-file"};
    Args a;
    std::string sub;
    if (int rc = parse(kUser, argc, argv, first, spec, a, sub); rc >= 0) return rc;
    if (sub != "add" && sub != "passwd" && sub != "remove" && sub != "list") {
        return usage(kUser, "unknown subcommand '" + sub + "'");
    }
    const auto& pos = a.positionals();
    const std::size_t want = sub == "list" ? 0 : 1;
    if (pos.size() != want) {
        return usage(kUser, "user " + sub + (want ? " needs NAME" : " takes no arguments"));
    }
    std::string name;
    if (want) {
        name = pos[0];
        if (auto e = check_user_part("user name", name)) return bad(kUser, *e);
    }
    std::optional<std::string> realm;
    std::optional<std::string> password;
    if (sub == "add" || sub == "passwd") {
        if (a.has("--realm")) {
            realm = a.get("--realm");
            if (auto e = check_quotable("--realm", *realm)) return bad(kUser, *e);
        }
        if (int rc = get_password(kUser, a, true, password); rc != kOk) return rc;
    }
    std::string err;
    auto store = open_store(db, &err);
    if (!store) return runtime(kUser, err);
    if (sub == "list") return user_list(*store, a.flag("--json"));
    if (sub == "remove") {
        if (!store->remove_user(name, &err)) {
            return runtime(kUser, err.empty() ? "no user " + name : err);
        }
        // Its bindings go too (issue 12 item 8): here and, queued, in the running trunkline.
        std::size_t n = 0;
        for (const std::string& aor : aors_of(*store, name, &err)) {
            if (auto k = store->remove_bindings(aor, "", &err)) n += *k;
        }
        if (!err.empty()) return runtime(kUser, err);
        if (!store->add_command("unbind-user", name, &err)) return runtime(kUser, err);
        return cli::done(a, "removed user " + name + " and its " + std::to_string(n) + " binding" + (n == 1 ? "" : "s") + "\n",
                         {{"user", cli::json_text(name)}, {"removed", "true"}, {"bindings_removed", std::to_string(n)}});
    }
    return user_set_password(*store, a, sub, name, realm, *password);
}

namespace {

const Cmd kSuspend{"suspend", kSuspendHelp};

// The API's kind names (route::reg::Suspension::Kind) for --json on both paths.
const char* const kSuspensionKinds[] = {"user", "address", "user_at_address"};

// Where `suspend` reads and lifts: the running registrar (API) or the database, which the
// running trunkline is asked to follow through a queued command.
class SuspendPath {
  public:
    SuspendPath(const std::string& db, const api::Remote& remote) : db_(db), remote_(remote) {}

    // Every suspension (expired ones too: the caller compares with now).
    std::optional<std::vector<SuspensionRecord>> all(int& rc) {
        if (remote_.live()) {
            auto j = api::Client(*remote_.endpoint).get(kSuspend, "/api/suspensions", rc);
            if (!j) return std::nullopt;
            std::vector<SuspensionRecord> out;
            for (const api::Json& v : j->list("suspensions")) {
                SuspensionRecord r;
                r.key = v.str("key");
                const std::string kind = v.str("kind");
                r.kind = kind == "address" ? 1 : kind == "user_at_address" ? 2 : 0;
                r.until_ms = v.num("until_ms");
                r.peer = v.str("peer");
                out.push_back(std::move(r));
            }
            return out;
        }
        std::string err;
        store_ = open_store(db_, &err);
        if (!store_) return rc = runtime(kSuspend, err), std::nullopt;
        auto list = store_->suspensions(&err);
        if (!err.empty()) return rc = runtime(kSuspend, err), std::nullopt;
        rc = kOk;
        return list;
    }

    // Lifts `key`'s suspensions (r: only that one, the other side of a pair); kOk or an exit
    // code after the message. Through the API an unknown key is not an error: the database
    // path cannot tell either, and both say "not suspended" from the list read before.
    int lift(const std::string& key, const SuspensionRecord* r) {
        std::string err;
        if (remote_.live()) {
            const api::Client cl(*remote_.endpoint);
            auto rep = cl.request("DELETE", "/api/suspensions/" + api::escape(key), "", &err);
            if (!rep) return runtime(kSuspend, err);
            if (rep->status != 200 && rep->status != 404) return runtime(kSuspend, cl.error_text(*rep));
            return kOk;
        }
        if (r)
            store_->remove_suspension(r->key, r->kind, r->peer, &err);
        else
            store_->remove_suspensions(key, &err);
        if (!err.empty()) return runtime(kSuspend, err);
        if (!store_->add_command("lift", key, &err)) return runtime(kSuspend, err);
        return kOk;
    }

  private:
    const std::string& db_;
    const api::Remote& remote_;
    std::unique_ptr<Store> store_;
};

int suspend_list(const std::vector<SuspensionRecord>& all, bool json) {
    const std::int64_t now = now_ms();
    std::vector<std::vector<std::string>> rows{{"KEY", "KIND", "UNTIL", "REMAINING"}};
    std::string js;
    for (const SuspensionRecord& s : all) {
        if (s.until_ms <= now) continue;
        rows.push_back({s.key, s.ip() ? "ip" : s.pair() ? "user@" + s.peer : "user", wall_text(s.until_ms),
                        std::to_string(seconds_until(s.until_ms, now)) + " s"});
        js += std::string(js.empty() ? "" : ", ") + "{\"key\": " + cli::json_text(s.key) +
              ", \"kind\": " + cli::json_text(kSuspensionKinds[std::clamp(s.kind, 0, 2)]) +
              ", \"until_ms\": " + std::to_string(s.until_ms) + ", \"peer\": " + cli::json_text(s.peer) + "}";
    }
    if (json) {
        std::cout << "{\"suspensions\": [" << js << "]}\n";
        return kOk;
    }
    if (rows.size() == 1) {
        std::cout << "no active suspensions\n";
        return kOk;
    }
    print_table(rows);
    return kOk;
}

// The other side of the same failed attempts (issue 12 item 8): KEY's own suspensions name
// it as their peer, or it names KEY.
std::vector<SuspensionRecord> related_to(const std::vector<SuspensionRecord>& all, const std::string& key,
                                         std::int64_t now) {
    auto names_key = [&](const SuspensionRecord& s) { return s.key == key || (s.pair() && s.peer == key); };
    std::vector<SuspensionRecord> related;
    for (const SuspensionRecord& s : all) {
        if (s.until_ms <= now || names_key(s)) continue;
        const bool linked = s.peer == key || std::any_of(all.begin(), all.end(), [&](const auto& k) {
                                return k.key == key && k.ip() != s.ip() && k.until_ms > now && k.peer == s.key;
                            });
        if (linked) related.push_back(s);
    }
    return related;
}

int suspend_lift(SuspendPath& path, const std::vector<SuspensionRecord>& all, const std::string& key,
                 bool both, bool json) {
    const std::int64_t now = now_ms();
    const bool active = std::any_of(all.begin(), all.end(), [&](const SuspensionRecord& s) {
        return (s.key == key || (s.pair() && s.peer == key)) && s.until_ms > now;
    });
    const std::vector<SuspensionRecord> related = related_to(all, key, now);
    if (int rc = path.lift(key, nullptr); rc != kOk) return rc;
    std::string also, still;
    if (!json) std::cout << (active ? "lifted " + key : key + " is not suspended") << "\n";
    for (const SuspensionRecord& r : related) {
        const std::string what =
            std::string(r.ip() ? "IP " : "user ") + r.key + (r.pair() ? " at " + r.peer : std::string());
        std::string& list = both ? also : still;
        list += (list.empty() ? "" : ", ") + cli::json_text(r.key);
        if (json) {
            if (both)
                if (int rc = path.lift(r.key, &r); rc != kOk) return rc;
            continue;
        }
        if (both) {
            if (int rc = path.lift(r.key, &r); rc != kOk) return rc;
            std::cout << "lifted " << what << " too (suspended by the same failed attempts)\n";
        } else {
            std::cout << "note: " << what << " is still suspended until " << wall_text(r.until_ms) << " (in "
                      << seconds_until(r.until_ms, now) << " s): the same failed attempts suspended it, and "
                      << (r.ip()     ? "every REGISTER from that address gets 403, " + key + "'s too"
                          : r.pair() ? "its REGISTERs from that address get 403"
                                     : "its REGISTERs get 403 from any address")
                      << ".\n      Lift it with `trunkctl suspend lift " << r.key
                      << "`, or both with `trunkctl suspend lift " << key << " --both`.\n";
        }
    }
    if (json)
        std::cout << "{\"key\": " << cli::json_text(key) << ", \"lifted\": " << (active ? "true" : "false")
                  << ", \"also_lifted\": [" << also << "], \"still_suspended\": [" << still << "]}\n";
    return kOk;
}

}  // namespace

int cmd_suspend(const std::string& db, const api::Remote& remote, int argc, char** argv, int first) {
    const Cmd& c = kSuspend;
    OptionSpec spec;
    spec.flags = {"--json"};
    const std::string peek = first < argc ? argv[first] : "";
    if (peek == "lift") spec.flags.insert("--both");
    Args a;
    std::string sub;
    if (int rc = parse(c, argc, argv, first, spec, a, sub); rc >= 0) return rc;
    if (sub != "list" && sub != "lift") return usage(c, "unknown subcommand '" + sub + "'");
    const auto& pos = a.positionals();
    const std::size_t want = sub == "list" ? 0 : 1;
    if (pos.size() != want) {
        return usage(c, "suspend " + sub + (want ? " needs KEY" : " takes no arguments"));
    }
    if (want && pos[0].empty()) return bad(c, "KEY is empty (a user name or an IP address)");
    SuspendPath path(db, remote);
    int rc = kOk;
    auto all = path.all(rc);
    if (!all) return rc;
    if (sub == "list") return suspend_list(*all, a.flag("--json"));
    return suspend_lift(path, *all, pos[0], a.flag("--both"), a.flag("--json"));
}

namespace {

const Cmd kBinding{"binding", kBindingHelp};

std::string source_text(const sip::Target& t) {
    const std::string h = is_ipv6(t.host) ? "[" + t.host + "]" : t.host;
    return lower(std::string(sip::transport_name(t.transport))) + " " + h + ":" +
           std::to_string(t.port);
}

// Every binding: the running registrar's (API: its location store) or the database's (what
// trunkline last wrote behind). Through the API Call-ID, CSeq, Path and reg-id are not told:
// `partial` says so to `show`.
std::optional<std::vector<StoredBinding>> load_bindings(const std::string& db, const api::Remote& remote,
                                                        bool& partial, int& rc) {
    partial = remote.live();
    if (remote.live()) {
        auto j = api::Client(*remote.endpoint).get(kBinding, "/api/bindings", rc);
        if (!j) return std::nullopt;
        std::vector<StoredBinding> out;
        for (const api::Json& v : j->list("bindings")) {
            StoredBinding b;
            b.aor = v.str("aor");
            b.expires_ms = v.num("expires_ms");
            b.binding.contact = v.str("contact");
            if (auto q = v.opt_num("q")) b.binding.q = static_cast<std::uint16_t>(*q);
            b.binding.instance = v.str("instance");
            b.binding.down = v.flag("down");
            // "udp:192.0.2.1:5060", "tcp:2001:db8::1:5060": transport first, port last
            const std::string src = v.str("source");
            const auto first = src.find(':'), last = src.rfind(':');
            if (first != std::string::npos && last > first) {
                b.binding.source.transport = sw::form::parse_transport(src.substr(0, first)).value_or(sip::Transport::Udp);
                b.binding.source.host = src.substr(first + 1, last - first - 1);
                b.binding.source.port = static_cast<std::uint16_t>(std::strtoul(src.c_str() + last + 1, nullptr, 10));
            }
            out.push_back(std::move(b));
        }
        return out;
    }
    std::string err;
    auto store = open_store(db, &err);
    if (!store) return rc = runtime(kBinding, err), std::nullopt;
    auto list = store->bindings(&err);
    if (!err.empty()) return rc = runtime(kBinding, err), std::nullopt;
    rc = kOk;
    return list;
}

// The bindings `who` names (a user: every AOR with that user part; else an AOR), not expired.
std::vector<StoredBinding> select_bindings(std::vector<StoredBinding> all, const std::string& who) {
    std::vector<StoredBinding> out;
    const auto aor = route::reg::Registrar::canonical_aor(who);
    const std::int64_t now = now_ms();
    for (StoredBinding& b : all) {
        if (b.expires_ms <= now) continue;  // trunkline purges these at its next start
        if (!who.empty() && (aor ? b.aor != *aor : aor_user(b.aor) != who)) continue;
        out.push_back(std::move(b));
    }
    std::sort(out.begin(), out.end(), [](const StoredBinding& x, const StoredBinding& y) {
        return x.aor != y.aor ? x.aor < y.aor : x.binding.contact < y.binding.contact;
    });
    return out;
}

// --json of list and show, the same on both paths (the API's names and source format).
int bindings_json(const std::vector<StoredBinding>& list) {
    std::cout << "{\"bindings\": [";
    bool first = true;
    for (const StoredBinding& sb : list) {
        const route::reg::Binding& b = sb.binding;
        std::cout << (first ? "" : ", ") << "{\"aor\": " << cli::json_text(sb.aor)
                  << ", \"contact\": " << cli::json_text(b.contact)
                  << ", \"q\": " << (b.q ? std::to_string(*b.q) : std::string("null"))
                  << ", \"expires_ms\": " << sb.expires_ms << ", \"source\": "
                  << cli::json_text(lower(std::string(sip::transport_name(b.source.transport))) + ":" +
                                    b.source.host + ":" + std::to_string(b.source.port))
                  << ", \"instance\": " << cli::json_text(b.instance)
                  << ", \"down\": " << (b.down ? "true" : "false") << "}";
        first = false;
    }
    std::cout << "]}\n";
    return kOk;
}

int binding_list(const std::vector<StoredBinding>& list, const std::string& who) {
    if (list.empty()) {
        std::cout << (who.empty() ? "no bindings" : "no bindings of " + who) << "\n";
        return kOk;
    }
    const std::int64_t now = now_ms();
    std::vector<std::vector<std::string>> rows{
        {"AOR", "CONTACT", "EXPIRES", "LEFT", "SOURCE", "STATE"}};
    for (const auto& b : list)
        rows.push_back({b.aor, b.binding.contact, wall_text(b.expires_ms),
                        std::to_string(seconds_until(b.expires_ms, now)) + " s",
                        source_text(b.binding.source), b.binding.down ? "down" : "up"});
    print_table(rows);
    return kOk;
}

int binding_show(const std::vector<StoredBinding>& list, const std::string& who, bool partial) {
    if (list.empty()) return runtime(kBinding, "no bindings of " + who);
    const std::string untold = "- (not told by the API)";
    const std::int64_t now = now_ms();
    for (const auto& sb : list) {
        const route::reg::Binding& b = sb.binding;
        std::string path;
        for (const auto& p : b.path)
            path += (path.empty() ? "" : ", ") + p;
        std::string q = "1.0 (default)";
        if (b.q) {
            q = std::to_string(*b.q / 1000) + "." + std::to_string(*b.q % 1000);
            while (q.size() > 3 && q.back() == '0')
                q.pop_back();
        }
        std::cout << "binding " << sb.aor << "\n";
        print_table({{"  contact", b.contact},
                     {"  q", q},
                     {"  expires", when_text(sb.expires_ms, now)},
                     {"  Call-ID", partial ? untold : b.call_id},
                     {"  CSeq", partial ? untold : std::to_string(b.cseq)},
                     {"  source", source_text(b.source)},
                     {"  path", partial ? untold : path.empty() ? "-" : path},
                     {"  instance", b.instance.empty() ? "-" : b.instance},
                     {"  reg-id", partial ? untold : b.reg_id ? std::to_string(*b.reg_id) : "-"},
                     {"  reachable", b.down ? "no (keep-alive OPTIONS unanswered)" : "yes"}});
    }
    return kOk;
}

// Through the API the running registrar removes them at once (its write-behind then takes
// them out of the database); offline the database rows go and the running trunkline is asked
// to follow with a queued command.
int binding_remove(const std::string& db, const api::Remote& remote, const std::string& who,
                   const std::string& contact, bool json) {
    std::string err;
    const auto aor = route::reg::Registrar::canonical_aor(who);
    if (!aor && !contact.empty())
        return bad(kBinding, "CONTACT needs an AOR (sip:user@domain), not the user name " + who);
    const std::string what = aor ? *aor : "user " + who;
    std::size_t n = 0;
    if (remote.live()) {
        std::string q = aor ? "aor=" + api::escape(*aor) : "user=" + api::escape(who);
        if (!contact.empty()) q += "&contact=" + api::escape(contact);
        int rc = kOk;
        auto j = api::Client(*remote.endpoint).call(kBinding, "DELETE", "/api/bindings?" + q, rc, 200);
        if (!j) return rc;
        n = static_cast<std::size_t>(j->num("removed"));
    } else {
        auto store = open_store(db, &err);
        if (!store) return runtime(kBinding, err);
        if (aor) {
            if (auto k = store->remove_bindings(*aor, contact, &err)) n = *k;
            if (!err.empty()) return runtime(kBinding, err);
            if (!store->add_command("unbind", contact.empty() ? *aor : *aor + " " + contact, &err))
                return runtime(kBinding, err);
        } else {
            for (const std::string& a : aors_of(*store, who, &err))
                if (auto k = store->remove_bindings(a, "", &err)) n += *k;
            if (!err.empty()) return runtime(kBinding, err);
            if (!store->add_command("unbind-user", who, &err)) return runtime(kBinding, err);
        }
    }
    if (json)
        std::cout << "{\"" << (aor ? "aor" : "user") << "\": " << cli::json_text(aor ? *aor : who)
                  << ", \"removed\": " << n << ", \"queued\": " << (remote.live() ? "false" : "true") << "}\n";
    else if (n == 0)
        std::cout << "no binding of " << what << (contact.empty() ? "" : " " + contact)
                  << " in the database; the running trunkline is asked to remove any it holds\n";
    else
        std::cout << "removed " << n << " binding" << (n == 1 ? "" : "s") << " of " << what << "\n";
    return kOk;
}

}  // namespace

int cmd_binding(const std::string& db, const api::Remote& remote, int argc, char** argv, int first) {
    Args a;
    std::string sub;
    if (int rc = parse(kBinding, argc, argv, first, {{}, {"--json"}}, a, sub); rc >= 0) return rc;
    if (sub != "list" && sub != "show" && sub != "remove")
        return usage(kBinding, "unknown subcommand '" + sub + "'");
    const auto& pos = a.positionals();
    const std::size_t lo = sub == "list" ? 0 : 1, hi = sub == "remove" ? 2 : 1;
    if (pos.size() < lo || pos.size() > hi) {
        return usage(kBinding, "binding " + sub +
                                   (sub == "list"   ? " takes at most USER|AOR"
                                    : sub == "show" ? " needs USER|AOR"
                                                    : " needs USER|AOR and at most a CONTACT"));
    }
    const std::string who = pos.empty() ? std::string() : pos[0];
    if (!who.empty() && who.find(':') == std::string::npos) {
        if (auto e = check_user_part("user name", who)) return bad(kBinding, *e);
    } else if (!who.empty() && !route::reg::Registrar::canonical_aor(who)) {
        return bad(kBinding, show_value(who) + " is not a SIP AOR (sip:user@domain)");
    }
    const bool json = a.flag("--json");
    if (sub == "remove") return binding_remove(db, remote, who, pos.size() > 1 ? pos[1] : std::string(), json);
    bool partial = false;
    int rc = kOk;
    auto all = load_bindings(db, remote, partial, rc);
    if (!all) return rc;
    const auto list = select_bindings(std::move(*all), who);
    if (json) {
        if (sub == "show" && list.empty()) return runtime(kBinding, "no bindings of " + who);
        return bindings_json(list);
    }
    if (sub == "list") return binding_list(list, who);
    return binding_show(list, who, partial);
}

int cmd_trunk_reg(const std::string& db, const api::Remote& remote, int argc, char** argv, int first) {
    OptionSpec spec;
    const std::string peek = first < argc ? argv[first] : "";
    if (peek == "add" || peek == "set") {
        spec.with_value = {"--server",         "--port",         "--transport",
                           "--outbound-proxy", "--user",         "--domain",
                           "--auth-user",      "--password",     "--password-file",
                           "--contact-host",   "--contact-port", "--expires",
                           "--retry-delay",    "--privacy",      "--send-unregister"};
        spec.flags = {"--disabled", "--enabled"};
    }
    spec.flags.insert("--json");
    Args a;
    std::string sub;
    if (int rc = parse(kTrunk, argc, argv, first, spec, a, sub); rc >= 0) return rc;
    if (sub != "add" && sub != "set" && sub != "remove" && sub != "list" && sub != "show" &&
        sub != "register") {
        return usage(kTrunk, "unknown subcommand '" + sub + "'");
    }
    const auto& pos = a.positionals();
    const std::size_t want = sub == "list" ? 0 : 1;
    if (pos.size() != want) {
        return usage(kTrunk, "trunk-reg " + sub + (want ? " needs NAME" : " takes no arguments"));
    }
    const std::string name = want ? pos[0] : std::string();
    if (want) {
        if (auto e = sw::trunk_form::check_name(name)) return bad(kTrunk, *e);
    }
    TrunkReg r;
    std::optional<std::string> password;
    if (sub == "add" || sub == "set") {
        // Validate everything before touching the database (usage errors first).
        if (sub == "set") {
            bool any = a.flag("--disabled") || a.flag("--enabled");
            for (const auto& o : spec.with_value)
                any = any || a.has(o);
            if (!any) return usage(kTrunk, "trunk-reg set needs at least one option");
        }
        r.name = name;
        if (int rc = apply_trunk_options(a, r, sub == "add"); rc != kOk) return rc;
        if (int rc = get_password(kTrunk, a, sub == "add", password); rc != kOk) return rc;
    }
    if (sub == "list" || sub == "show") {
        int rc = kOk;
        auto t = load_trunks(db, remote, name, rc);
        if (!t) return rc;
        return sub == "list" ? trunk_list(*t, a.flag("--json")) : trunk_show(*t, a.flag("--json"));
    }
    if (sub == "register") return trunk_register(remote, a, name);
    std::string err;
    auto store = open_store(db, &err);
    if (!store) return runtime(kTrunk, err);
    if (sub == "remove") {
        if (!store->remove_trunk_reg(name, &err)) {
            return runtime(kTrunk, err.empty() ? "no trunk-reg " + name : err);
        }
        return cli::done(a, "removed trunk-reg " + name + "\n", {{"trunk_reg", cli::json_text(name)}, {"removed", "true"}});
    }
    auto existing = store->trunk_reg(name, &err);
    if (!err.empty()) return runtime(kTrunk, err);
    if (sub == "add") {
        if (existing) {
            return runtime(kTrunk, "trunk-reg " + name +
                                       " already exists (trunkctl trunk-reg set " + name +
                                       " changes it)");
        }
        r.password = *password;
    } else {
        if (!existing) {
            return runtime(
                kTrunk, "no trunk-reg " + name + " (trunkctl trunk-reg add " + name + " adds it)");
        }
        TrunkReg updated = *existing;
        if (int rc = apply_trunk_options(a, updated, false); rc != kOk) return rc;
        if (password) updated.password = *password;
        r = updated;
    }
    if (!store->put_trunk_reg(r, &err)) return runtime(kTrunk, err);
    return cli::done(a,
                     std::string(sub == "add" ? "added" : "updated") + " trunk-reg " + r.name + ": " + server_text(r) +
                         " user " + r.aor_user + (r.enabled ? "" : " (disabled)") + "\n",
                     {{"trunk_reg", cli::json_text(r.name)}, {sub == "add" ? "added" : "updated", "true"},
                      {"server", cli::json_text(server_text(r))}, {"user", cli::json_text(r.aor_user)},
                      {"enabled", cli::json_bool(r.enabled)}});
}

}  // namespace trunkctl

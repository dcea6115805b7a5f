// Drives route::lcr::Customers with a table built from fuzz bytes, fuzzed reloads and
// configuration, identify / admit / call_ended and fuzzed time, including jumps backwards
// and to the ends of the clock (DESIGN.md §10.5). Checks after every step:
// - current calls of every customer equal the calls the fuzzer admitted and has not ended
//   (so call_ended never underflows them, even when called for calls that do not exist);
// - an admission never takes a customer above its line limit, nor its account above the
//   dest_prefix_limit for that dest_key, nor the calls admitted in the last second above
//   cps_limit (while time runs forward);
// - a caller blacklisted before an attempt is not admitted;
// - identify() returns only configured, enabled customers; admit() answers 403 or 503 with
//   a reason when it refuses and nothing else when it admits;
// - a reload that fails changes nothing; one that succeeds keeps the id of every name.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"
#include "route/lcr/customers.hpp"

namespace {

using namespace std::chrono_literals;
using fuzz::Reader;
using route::lcr::Admission;
using route::lcr::AuthMode;
using route::lcr::CustomerId;
using route::lcr::Customers;
using route::lcr::CustomersConfig;
using route::lcr::CustomerSpec;
using route::lcr::Nanos;
using route::lcr::Restriction;

constexpr const char* kNames[] = {"a", "b", "c", "d", "e", "f"};
constexpr const char* kAccounts[] = {"", "1001", "1002"};
constexpr const char* kIps[] = {
    "192.0.2.1",      "192.0.2.2",          "2001:db8::1", "[2001:DB8::1]",
    "192.0.2.1:5060", "[2001:db8::1]:5062", "192.0.2.2:1", ""};
constexpr const char* kSourceIps[] = {"192.0.2.1",     "192.0.2.2",    "2001:DB8::1",
                                      "[2001:db8::1]", "198.51.100.1", ""};
constexpr std::uint16_t kPorts[] = {5060, 5062, 1, 0};
constexpr const char* kUsers[] = {"", "1001", "1002", "alice"};
constexpr const char* kNumbers[] = {"",        "44",  "442071234567", "0044207", "33123",
                                    "1900555", "666", "6661",         "+44",     "9"};
constexpr const char* kPrefixes[] = {"", "44", "4420", "00", "1900", "666", "+"};
constexpr const char* kRewrites[] = {"",      "*:a*",   "0044*:44*", "-2", "1234:5678",
                                     "00*:*", "1*2*:x", "0?1*:?*",   ",",  "44*:*,*:9*"};
constexpr const char* kDestKeys[] = {"", "44", "4420", "33"};

template <std::size_t N>
std::vector<std::string> pick_list(Reader& r, const char* const (&table)[N]) {
    std::vector<std::string> out;
    for (unsigned n = r.byte() % 3; n > 0; --n)
        out.emplace_back(r.pick(table));
    return out;
}

std::string rewrite_text(Reader& r) {
    const std::uint8_t b = r.byte();
    if (b < 0xf0) return kRewrites[b % std::size(kRewrites)];
    return r.raw(12);  // the rule grammar itself (RewriteRules has its own fuzzer)
}

CustomerSpec make_spec(Reader& r, std::size_t i) {
    CustomerSpec s;
    const std::uint8_t b = r.byte();
    // Now and then two customers share a name: set_customers must refuse the table.
    s.name = b == 0xff ? kNames[0] : kNames[i % std::size(kNames)];
    s.account = r.pick(kAccounts);
    s.auth = static_cast<AuthMode>(b % 3);
    s.ips = pick_list(r, kIps);
    s.sip_user = r.pick(kUsers);
    s.priority = static_cast<std::int32_t>(r.byte() % 3) - 1;
    s.line_limit = r.byte() % 4;
    s.cps_limit = r.byte() % 4;
    s.dest_prefix_limit = r.byte() % 3;
    const std::uint8_t lists = r.byte();
    if (lists & 1) s.caller_allow = pick_list(r, kPrefixes);
    if (lists & 2) s.caller_deny = pick_list(r, kPrefixes);
    if (lists & 4) s.callee_allow = pick_list(r, kPrefixes);
    if (lists & 8) s.callee_deny = pick_list(r, kPrefixes);
    if (lists & 16) s.caller_rewrite = rewrite_text(r);
    if (lists & 32) s.callee_rewrite = rewrite_text(r);
    s.restriction = static_cast<Restriction>((lists >> 6) & 3);
    s.enabled = r.byte() % 8 != 0;
    return s;
}

CustomersConfig make_config(Reader& r) {
    CustomersConfig cfg;
    cfg.blacklist.limit = r.byte() % 5;
    cfg.blacklist.interval = std::chrono::seconds(r.byte() % 8);
    cfg.blacklist.expire = std::chrono::seconds(r.byte() % 16);
    cfg.blacklist.max_tracked = r.byte() % 5;
    return cfg;
}

// What the fuzzer knows independently of the library.
struct Model {
    struct Call {
        CustomerId id;
        std::string dest;
    };
    std::vector<Call> calls;                            // admitted, not yet ended
    std::map<CustomerId, std::string> limit_key;        // account (or the name) per customer
    std::map<CustomerId, std::vector<Nanos>> admitted;  // since the last reset, for CPS
    std::map<std::string, CustomerId> ids;              // every name ever configured

    std::uint32_t calls_of(CustomerId id) const {
        return static_cast<std::uint32_t>(
            std::count_if(calls.begin(), calls.end(), [id](const Call& c) { return c.id == id; }));
    }
    std::uint32_t account_calls(const std::string& key, std::string_view dest) const {
        std::uint32_t n = 0;
        for (const Call& c : calls)
            n += c.dest == dest && limit_key.at(c.id) == key;
        return n;
    }
};

struct Driver {
    Customers customers;
    Model model;
    Nanos now = 1'000'000s;
    std::vector<CustomerId> known;  // ids ever seen, plus one that never exists

    void reload(Reader& r) {
        std::vector<CustomerSpec> specs;
        for (std::size_t i = 0, n = r.byte() % 6; i < n; ++i)
            specs.push_back(make_spec(r, i));
        const std::vector<CustomerSpec> copy = specs;
        const std::vector<CustomerId> before = customers.customers();
        std::string error;
        if (!customers.set_customers(std::move(specs), &error)) {
            FUZZ_CHECK(!error.empty());
            FUZZ_CHECK(customers.customers() == before);
            return;
        }
        FUZZ_CHECK(customers.customers().size() == copy.size());
        for (const CustomerSpec& s : copy) {
            const auto id = customers.find(s.name);
            FUZZ_CHECK(id.has_value());
            const auto [it, fresh] = model.ids.emplace(s.name, *id);
            FUZZ_CHECK(it->second == *id);  // a name keeps its id across reloads
            if (fresh) known.push_back(*id);
            model.limit_key[*id] = s.account.empty() ? "c:" + s.name : "a:" + s.account;
            model.admitted[*id].clear();  // the CPS limit may have changed
        }
    }

    void identify(Reader& r) {
        const auto id =
            customers.identify(r.pick(kSourceIps), kPorts[r.byte() % 4], r.pick(kUsers));
        if (!id) return;
        const CustomerSpec* s = customers.spec(*id);
        FUZZ_CHECK(s != nullptr);
        FUZZ_CHECK(s->enabled);
        FUZZ_CHECK(customers.find(s->name) == id);
    }

    CustomerId pick_id(Reader& r) const {
        const std::uint8_t b = r.byte();
        if (known.empty() || b == 0xff) return 4'000'000'000u;
        return known[b % known.size()];
    }

    void admit(Reader& r) {
        const CustomerId id = pick_id(r);
        const std::string caller = r.pick(kNumbers);
        const std::string callee = r.pick(kNumbers);
        const std::string dest = r.pick(kDestKeys);
        const bool was_blacklisted = customers.blacklisted(caller, now);
        const Admission a = customers.admit(id, caller, callee, dest, now);
        if (!a.ok) {
            FUZZ_CHECK(a.code == 403 || a.code == 503);
            FUZZ_CHECK(!a.reason.empty());
            return;
        }
        FUZZ_CHECK(a.code == 0 && a.reason.empty());
        FUZZ_CHECK(!was_blacklisted);
        const CustomerSpec* s = customers.spec(id);
        FUZZ_CHECK(s != nullptr && s->enabled);
        model.calls.push_back({id, dest});
        const std::uint32_t current = customers.state(id).current_calls;
        FUZZ_CHECK(s->line_limit == 0 || current <= s->line_limit);
        if (s->dest_prefix_limit > 0)
            FUZZ_CHECK(model.account_calls(model.limit_key.at(id), dest) <= s->dest_prefix_limit);
        auto& times = model.admitted[id];
        times.push_back(now);
        if (s->cps_limit > 0) {
            const auto in_window = std::count_if(times.begin(), times.end(), [this](Nanos t) {
                return t > now || now - t < 1s;  // now - t cannot overflow: t <= now
            });
            FUZZ_CHECK(in_window <= static_cast<std::ptrdiff_t>(s->cps_limit));
        }
    }

    void end_call(Reader& r) {
        const std::uint8_t b = r.byte();
        if (!model.calls.empty() && b < 0xc0) {
            const std::size_t i = b % model.calls.size();
            customers.call_ended(model.calls[i].id, model.calls[i].dest);
            model.calls.erase(model.calls.begin() + static_cast<std::ptrdiff_t>(i));
            return;
        }
        // A call that does not exist: a customer without calls, or an unknown id.
        const CustomerId id = pick_id(r);
        if (model.calls_of(id) == 0) customers.call_ended(id, r.pick(kDestKeys));
    }

    void advance(Reader& r) {
        const std::uint8_t b = r.byte();
        if (b < 0xf8) {
            const Nanos step = (b & 1) ? Nanos(std::chrono::seconds(b >> 1))
                                       : Nanos(std::chrono::milliseconds(b * 7));
            if (now <= Nanos::max() - step) now += step;
            return;
        }
        // A jump anywhere, backwards or to the ends of the clock: the CPS model starts over
        // because a window on time that went back is not the window the limit promises.
        const auto hi = static_cast<std::uint64_t>(r.u32());
        now = Nanos(static_cast<Nanos::rep>(hi << 32 | r.u32()));
        for (auto& [id, times] : model.admitted)
            times.clear();
    }

    void check() const {
        for (CustomerId id : known)
            FUZZ_CHECK(customers.state(id).current_calls == model.calls_of(id));
        FUZZ_CHECK(customers.state(4'000'000'000u).current_calls == 0);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Reader r{data, size};
    Driver d;
    d.customers.set_config(make_config(r));
    d.reload(r);
    while (!r.done()) {
        switch (r.byte() % 10) {
            case 0:
                d.reload(r);
                break;
            case 1:
                d.customers.set_config(make_config(r));
                break;
            case 2:
                d.identify(r);
                break;
            case 3:
            case 4:
            case 5:
                d.admit(r);
                break;
            case 6:
            case 7:
                d.end_call(r);
                break;
            default:
                d.advance(r);
                break;
        }
        d.check();
    }
    // Ending every call leaves every customer without calls.
    for (const auto& c : d.model.calls)
        d.customers.call_ended(c.id, c.dest);
    d.model.calls.clear();
    d.check();
    return 0;
}

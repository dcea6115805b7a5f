// sw::gateway_form — the checks of every field of a customer (VOS3000 mapping) gateway, a
// vendor (VOS3000 routing) gateway and a gateway group, shared by `trunkctl gateway|group` and
// the management API (/api/gateways/..., /api/groups), so both accept exactly the same values
// with the same messages. Pure: values come by option name through Values, errors come back
// as {option, message}; the caller prints them (trunkctl, exit 2) or answers 422 naming the
// JSON field (the API). Existence checks (billing account, SIP user, group) are the caller's:
// they need the database.
//
//   sw::gateway_form::MapValues v{{"--account", "1001"}, {"--ips", "192.0.2.10"}};
//   route::lcr::CustomerSpec c{.name = "acme"};
//   if (auto e = sw::gateway_form::apply_customer(v, c)) fail(e->option, e->message);
//   if (auto e = sw::gateway_form::check_customer(c)) fail(e->option, e->message);
//   // e->message: "--line-limit -1: outside 0..1000000 (number of channels, 0 = unlimited)"
//
// apply_*() checks each given value on its own and stores it; check_*() checks the
// combination (after a new gateway's defaults or the stored values) and normalizes addresses.
// Lists are comma-separated text ("44,33"; '' clears); yes/no values also take on/off,
// true/false, 1/0; money is a decimal in currency units ('none' clears).
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "route/lcr/customers.hpp"
#include "route/lcr/router.hpp"
#include "route/lcr/vendor_gateway.hpp"

namespace sw::gateway_form {

struct Error {
    std::string option;   // "--line-limit"; for a combination, the first option it names
    std::string message;  // names the option as trunkctl prints it
};

// The given values by option name ("--line-limit"); has(): the option was given.
class Values {
  public:
    virtual ~Values() = default;
    virtual bool has(const std::string& option) const = 0;
    virtual std::string get(const std::string& option) const = 0;
};

class MapValues final : public Values {
  public:
    MapValues() = default;
    MapValues(std::initializer_list<std::pair<const std::string, std::string>> v) : v_(v) {}
    void set(const std::string& option, std::string value) { v_[option] = std::move(value); }
    bool empty() const noexcept { return v_.empty(); }
    bool has(const std::string& option) const override { return v_.count(option) != 0; }
    std::string get(const std::string& option) const override {
        auto it = v_.find(option);
        return it == v_.end() ? std::string() : it->second;
    }

  private:
    std::map<std::string, std::string> v_;
};

std::optional<Error> apply_customer(const Values& v, route::lcr::CustomerSpec& c);
std::optional<Error> check_customer(route::lcr::CustomerSpec& c);
std::optional<Error> apply_vendor(const Values& v, route::lcr::VendorGateway& g);
std::optional<Error> check_vendor(const route::lcr::VendorGateway& g);
// --line-limit of a group (0..1000000, 0 = unlimited).
std::optional<Error> apply_group(const Values& v, route::lcr::GroupSpec& g);

// A gateway or group name: 1..64 letters, digits, '-', '_', '.'; the message starts with
// `what` ("gateway", "group", "customer gateway").
std::optional<std::string> check_name(std::string_view what, const std::string& name);

// "--expires 10", with the value quoted when it is empty or has blanks ("--host ''").
std::string opt_text(const std::string& option, const std::string& value);

}  // namespace sw::gateway_form

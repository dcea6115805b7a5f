// Billing settings by name: the operator-visible knobs of RatingConfig as text, the way the
// store keeps them (table `settings`, key -> value) and trunkctl sets them.
//
//   billing::RatingConfig cfg;                                        // the defaults
//   if (auto ok = billing::apply_setting(cfg, "billing.free_time_s", "3"); !ok) report(ok.error());
//   for (const auto& s : billing::settings_of(cfg)) print(s.key, s.value, s.vos3000);
//
// Keys (VOS3000 names in settings_of().vos3000):
//   currency.code                   text, 1..8 letters                    (USD)
//   currency.precision              decimals kept, 0..6                   (4)   SERVER_BILLING_FEE_PRECISTION
//   currency.rounding               up | half-up | down                   (up)  SERVER_BILLING_FEE_UNIT
//   billing.hold_time_precision_ms  1..1000 ms                           (50)   SERVER_BILLING_HOLD_TIME_PRECISION
//   billing.free_time_s             0..86400 s                            (0)   SERVER_BILLING_FREE_TIME
//   calendar.timezone               UTC | UTC+HH:MM | UTC-HH:MM | an IANA name (UTC)  Work Calendar
//   calendar.working_days           days and ranges: mon-fri, mon,wed,sat   (mon-fri)
//   calendar.work_hours             HH:MM-HH:MM, local time                 (08:00-20:00)
//   calendar.holidays               YYYY-MM-DD,... local dates, "" = none   ("")
// An IANA name needs a ZoneSource (the TZif bytes of a zone; billing_sqlite has one).
// Errors: ErrorCode::invalid_argument naming the key and the accepted values; an unknown
// key is invalid_argument listing the known ones.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "billing/rating.hpp"
#include "billing/result.hpp"

namespace billing {

struct Setting {
    std::string key;
    std::string value;
    std::string_view vos3000;  // the VOS3000 parameter it corresponds to ("" if none)
};

// The TZif data of an IANA zone name ("Europe/London"); an error when there is none.
using ZoneSource = std::function<Result<std::string>(std::string_view name)>;

// Sets one setting in cfg from its text; cfg is unchanged on error. `zones` resolves an
// IANA calendar.timezone (without it such a name is an error).
Result<void> apply_setting(RatingConfig& cfg, std::string_view key, std::string_view value,
                           const ZoneSource& zones = {});
// Whether key is one of the keys above.
bool is_setting(std::string_view key);
// Every setting of cfg as text, in the order of the list above.
std::vector<Setting> settings_of(const RatingConfig& cfg);

}  // namespace billing

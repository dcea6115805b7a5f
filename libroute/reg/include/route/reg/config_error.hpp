// route::reg::ConfigError — what validate() returns for a bad configuration struct.
//
//   if (auto err = route::reg::validate(config)) log("{}: {}", err->field, err->message);
//
// Shared by RegClientConfig (client.hpp) and KeepaliveConfig (keepalive.hpp).
#pragma once

#include <string>

namespace route::reg {

struct ConfigError {
    std::string field;    // "expires", "retry_delay", ...
    std::string message;  // "expires 10 s is outside 20..7200 s"
};

}  // namespace route::reg
